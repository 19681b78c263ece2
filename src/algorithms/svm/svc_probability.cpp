// Platt scaling and pairwise coupling for SVC(probability=True); see svc_probability.hpp.
#include "algorithms/svm/svc_probability.hpp"

#include <algorithm>
#include <cmath>

namespace mlcore::detail {

namespace {

// −log-likelihood term of one sample at z = A·f + B for target t, without overflow:
// log(1 + e^z) − (1 − t)·z, written for either sign of z.
double nll_term(double z, double t) {
  return z >= 0.0 ? t * z + std::log1p(std::exp(-z)) : (t - 1.0) * z + std::log1p(std::exp(z));
}

}  // namespace

PlattSigmoid fit_platt_sigmoid(const std::vector<double>& f, const std::vector<char>& first) {
  const std::size_t n = f.size();
  double n_pos = 0.0, n_neg = 0.0;
  for (char c : first) (c ? n_pos : n_neg) += 1.0;
  const double hi = (n_pos + 1.0) / (n_pos + 2.0), lo = 1.0 / (n_neg + 2.0);
  std::vector<double> t(n);
  for (std::size_t i = 0; i < n; ++i) t[i] = first[i] ? hi : lo;

  // Newton's method on L(A, B) = Σ nll_term(A·f_i + B, t_i): ∂L/∂z = t − p, ∂²L/∂z² = p(1 − p)
  // (p = P(first) at z), with a small ridge on the Hessian and a halving line search.
  constexpr int kMaxIter = 100;
  constexpr double kMinStep = 1e-10, kRidge = 1e-12, kEps = 1e-5;
  PlattSigmoid s{0.0, std::log((n_neg + 1.0) / (n_pos + 1.0))};
  auto loss = [&](double A, double B) {
    double sum = 0.0;
    for (std::size_t i = 0; i < n; ++i) sum += nll_term(A * f[i] + B, t[i]);
    return sum;
  };
  double fval = loss(s.A, s.B);
  for (int iter = 0; iter < kMaxIter; ++iter) {
    double h11 = kRidge, h22 = kRidge, h21 = 0.0, g1 = 0.0, g2 = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      const double z = s.A * f[i] + s.B;
      // p and 1 − p, each from the side where the exponential cannot overflow.
      const double e = std::exp(-std::fabs(z));
      const double p = z >= 0.0 ? e / (1.0 + e) : 1.0 / (1.0 + e);
      const double q = z >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
      const double w = p * q;
      h11 += f[i] * f[i] * w;
      h22 += w;
      h21 += f[i] * w;
      const double r = t[i] - p;
      g1 += f[i] * r;
      g2 += r;
    }
    if (std::fabs(g1) < kEps && std::fabs(g2) < kEps) break;
    const double det = h11 * h22 - h21 * h21;
    const double dA = -(h22 * g1 - h21 * g2) / det, dB = -(-h21 * g1 + h11 * g2) / det;
    const double slope = g1 * dA + g2 * dB;  // < 0: a descent direction
    double step = 1.0;
    while (step >= kMinStep) {
      const double A = s.A + step * dA, B = s.B + step * dB, next = loss(A, B);
      if (next < fval + 1e-4 * step * slope) {  // sufficient decrease
        s = {A, B};
        fval = next;
        break;
      }
      step /= 2.0;
    }
    if (step < kMinStep) break;  // no progress along Newton's direction: as good as it gets
  }
  return s;
}

double platt_probability(const PlattSigmoid& s, double f) {
  const double z = s.A * f + s.B;
  const double p = z >= 0.0 ? std::exp(-z) / (1.0 + std::exp(-z)) : 1.0 / (1.0 + std::exp(z));
  return std::clamp(p, 1e-7, 1.0 - 1e-7);
}

void couple_pairwise(const std::vector<double>& r, std::int64_t K, double* p) {
  // Q[t, t] = Σ_{j≠t} r_jt², Q[t, j] = −r_jt·r_tj: the objective is pᵀQp. At the optimum
  // (Q p)_t = pᵀQp for every t; each sweep moves p_t to satisfy its equation and renormalises.
  std::vector<double> Q(K * K, 0.0), Qp(K);
  for (std::int64_t t = 0; t < K; ++t) {
    p[t] = 1.0 / static_cast<double>(K);
    for (std::int64_t j = 0; j < K; ++j) {
      if (j == t) continue;
      Q[t * K + t] += r[j * K + t] * r[j * K + t];
      Q[t * K + j] = -r[j * K + t] * r[t * K + j];
    }
  }
  const std::int64_t max_sweeps = std::max<std::int64_t>(100, K);
  const double eps = 0.005 / static_cast<double>(K);
  for (std::int64_t sweep = 0; sweep < max_sweeps; ++sweep) {
    double pQp = 0.0;
    for (std::int64_t t = 0; t < K; ++t) {
      Qp[t] = 0.0;
      for (std::int64_t j = 0; j < K; ++j) Qp[t] += Q[t * K + j] * p[j];
      pQp += p[t] * Qp[t];
    }
    double worst = 0.0;
    for (std::int64_t t = 0; t < K; ++t) worst = std::max(worst, std::fabs(Qp[t] - pQp));
    if (worst < eps) break;
    for (std::int64_t t = 0; t < K; ++t) {
      const double diff = (pQp - Qp[t]) / Q[t * K + t];
      p[t] += diff;
      pQp = (pQp + diff * (diff * Q[t * K + t] + 2.0 * Qp[t])) / ((1.0 + diff) * (1.0 + diff));
      for (std::int64_t j = 0; j < K; ++j) {
        Qp[j] = (Qp[j] + diff * Q[t * K + j]) / (1.0 + diff);
        p[j] /= 1.0 + diff;
      }
    }
  }
}

}  // namespace mlcore::detail
