// Platt's sigmoid fit and Wu, Lin & Weng's pairwise coupling (svc_probability.hpp) against
// direct computations: the sigmoid's gradient is zero at its fit (a brute-force minimum nearby
// is no better), and the coupled p solves the optimality conditions.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "algorithms/svm/svc_probability.hpp"

namespace mlcore::detail {
namespace {

double nll(const std::vector<double>& f, const std::vector<char>& first, double A, double B) {
  double n_pos = 0, n_neg = 0;
  for (char c : first) (c ? n_pos : n_neg) += 1;
  double sum = 0;
  for (std::size_t i = 0; i < f.size(); ++i) {
    const double t = first[i] ? (n_pos + 1) / (n_pos + 2) : 1 / (n_neg + 2);
    const double p = 1 / (1 + std::exp(A * f[i] + B));  // plain: test values stay small
    sum -= t * std::log(p) + (1 - t) * std::log(1 - p);
  }
  return sum;
}

TEST(PlattSigmoid, FitIsTheMaximumLikelihood) {
  std::mt19937 rng(5);
  std::normal_distribution<double> noise(0.0, 1.0);
  for (int n : {1, 2, 7, 200}) {
    std::vector<double> f(n);
    std::vector<char> first(n);
    for (int i = 0; i < n; ++i) {
      first[i] = i % 3 != 0;
      f[i] = (first[i] ? 1.0 : -1.0) + noise(rng);  // margins: positive toward the first class
    }
    const PlattSigmoid s = fit_platt_sigmoid(f, first);
    const double best = nll(f, first, s.A, s.B);
    for (double dA : {-0.01, 0.0, 0.01}) {
      for (double dB : {-0.01, 0.0, 0.01}) {
        EXPECT_GE(nll(f, first, s.A + dA, s.B + dB), best - 1e-9) << "n=" << n;
      }
    }
    if (n == 200) {
      EXPECT_LT(s.A, 0.0);  // a larger margin toward the first class means a higher P(first)
      EXPECT_GT(platt_probability(s, 2.0), 0.8);
      EXPECT_LT(platt_probability(s, -2.0), 0.2);
    }
  }
  // Separable data: the regularised targets keep A finite.
  const PlattSigmoid sep = fit_platt_sigmoid({-3, -2, 2, 3}, {0, 0, 1, 1});
  EXPECT_TRUE(std::isfinite(sep.A) && std::isfinite(sep.B));
  EXPECT_GE(platt_probability(sep, 1e6), 1e-7);  // clipped, never 0 or 1
  EXPECT_LE(platt_probability(sep, 1e6), 1 - 1e-7);
}

TEST(PairwiseCoupling, SolvesTheOptimalityConditions) {
  std::mt19937 rng(9);
  std::uniform_real_distribution<double> u(0.05, 0.95);
  for (int K : {3, 4, 7}) {
    // Consistent r from a known p: r_ij = p_i / (p_i + p_j) is recovered exactly.
    std::vector<double> p_true(K), r(K * K, 0.0), p(K);
    double total = 0;
    for (int i = 0; i < K; ++i) total += (p_true[i] = u(rng));
    for (double& v : p_true) v /= total;
    for (int i = 0; i < K; ++i)
      for (int j = 0; j < K; ++j)
        if (i != j) r[i * K + j] = p_true[i] / (p_true[i] + p_true[j]);
    couple_pairwise(r, K, p.data());
    for (int i = 0; i < K; ++i) EXPECT_NEAR(p[i], p_true[i], 1e-3) << "K=" << K;
    // Inconsistent r: p is a distribution at which (Qp)_t = pᵀQp for every t.
    for (int i = 0; i < K; ++i)
      for (int j = i + 1; j < K; ++j) {
        r[i * K + j] = u(rng);
        r[j * K + i] = 1 - r[i * K + j];
      }
    couple_pairwise(r, K, p.data());
    double sum = 0;
    for (double v : p) sum += v;
    EXPECT_NEAR(sum, 1.0, 1e-9);
    std::vector<double> Qp(K, 0.0);
    double pQp = 0;
    for (int t = 0; t < K; ++t) {
      for (int j = 0; j < K; ++j) {
        const double q = j == t ? 0.0 : -r[j * K + t] * r[t * K + j];
        double diag = 0;
        if (j == t)
          for (int o = 0; o < K; ++o)
            if (o != t) diag += r[o * K + t] * r[o * K + t];
        Qp[t] += (j == t ? diag : q) * p[j];
      }
      pQp += p[t] * Qp[t];
    }
    for (int t = 0; t < K; ++t) EXPECT_NEAR(Qp[t], pQp, 0.005 / K + 1e-9) << "K=" << K;
  }
}

}  // namespace
}  // namespace mlcore::detail
