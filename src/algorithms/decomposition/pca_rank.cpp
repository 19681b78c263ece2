#include "pca_rank.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "mlcore/algorithms/decomposition/pca.hpp"

namespace mlcore::detail {

namespace {

constexpr double kPi = 3.14159265358979323846;
// Eigenvalues below this are zero to the model: a rank whose last direction is one of them has
// log-likelihood −∞ (its log would be of rounding noise), as in scikit-learn.
constexpr double kTiny = 1e-15;

// log p(data | k), Minka's equation (30) with the terms named as in the paper:
//   p(U)  the prior volume of the k directions (a product of Γ functions),
//   p(λ)  the k eigenvalues' likelihood, p(v) the noise variance's,
//   the parameter count m = d·k − k(k+1)/2 of the directions, and |A_Z| the Hessian's
//   determinant of the Laplace approximation, from all pairs (i ≤ k, j > i) of eigenvalues with
//   those beyond k replaced by v.
double log_likelihood(const Eigen::VectorXd& lambda, std::int64_t k, double n) {
  const std::int64_t d = lambda.size();
  if (lambda(k - 1) < kTiny) return -std::numeric_limits<double>::infinity();
  double pu = -double(k) * std::log(2.0);
  for (std::int64_t i = 1; i <= k; ++i) {
    const double half = double(d - i + 1) / 2.0;
    pu += std::lgamma(half) - std::log(kPi) * half;
  }
  double pl = 0.0;
  for (std::int64_t i = 0; i < k; ++i) pl += std::log(lambda(i));
  pl *= -n / 2.0;
  const double v = std::max(kTiny, lambda.tail(d - k).sum() / double(d - k));
  const double pv = -std::log(v) * n * double(d - k) / 2.0;
  const double m = double(d * k) - double(k) * double(k + 1) / 2.0;
  const double pp = std::log(2.0 * kPi) * (m + double(k)) / 2.0;
  double pa = 0.0;
  for (std::int64_t i = 0; i < k; ++i) {
    for (std::int64_t j = i + 1; j < d; ++j) {
      const double lj = j < k ? lambda(j) : v;  // the discarded ones are the noise variance
      pa += std::log((lambda(i) - lambda(j)) * (1.0 / lj - 1.0 / lambda(i))) + std::log(n);
    }
  }
  return pu + pl + pv + pp - pa / 2.0 - double(k) * std::log(n) / 2.0;
}

}  // namespace

std::int64_t minka_mle_rank(const Eigen::VectorXd& spectrum, std::int64_t n_samples) {
  const std::int64_t d = spectrum.size();
  std::int64_t best = 1;
  double best_ll = -std::numeric_limits<double>::infinity();
  for (std::int64_t k = 1; k < d; ++k) {
    const double ll = log_likelihood(spectrum, k, double(n_samples));
    if (ll > best_ll) {  // the first maximum, as argmax
      best_ll = ll;
      best = k;
    }
  }
  return best;
}

std::int64_t components_to_keep(const Eigen::VectorXd& explained_variance, std::int64_t n_samples,
                                std::int64_t n_components, double variance_fraction) {
  const std::int64_t d = explained_variance.size(), r = std::min(n_samples, d);
  if (n_components == kMleComponents) return minka_mle_rank(explained_variance, n_samples);
  if (n_components > 0) return n_components;
  if (variance_fraction > 0.0) {
    // The fewest components whose ratios sum to *more than* the fraction (scikit-learn's
    // searchsorted(cumsum, fraction, side='right') + 1).
    const double total = explained_variance.sum();
    double cum = 0.0;
    std::int64_t k = 0;
    while (k < r && cum <= variance_fraction) {
      cum += total > 0.0 ? explained_variance(k) / total : 0.0;
      ++k;
    }
    return std::max<std::int64_t>(k, 1);
  }
  return r;
}

}  // namespace mlcore::detail
