// SVC(probability=True): Platt scaling of the one-vs-one decision values and the coupling of the
// pairwise probabilities into one distribution per sample, as libsvm does.
//
// An SVM's decision value f(x) is a margin, not a probability. Platt (1999) fits, for each pair
// of classes, a sigmoid P(first class | f) = 1 / (1 + exp(A·f + B)) to decision values the
// model did not see in training (an internal 5-fold cross-validation, so the sigmoid learns how
// far off the margins of new data are), by maximum likelihood with Newton's method; Lin, Lin &
// Weng (2007, "A note on Platt's probabilistic outputs for support vector machines") made it
// numerically safe, and that is the version written here. With more than two classes the
// pairwise probabilities r_ij ≈ P(i | i or j) are coupled into p_1..p_K (Wu, Lin & Weng 2004,
// "Probability estimates for multi-class classification by pairwise coupling", their second
// method): the p minimising Σ_i Σ_{j≠i} (r_ji·p_i − r_ij·p_j)² with Σ p = 1.
//
// Both are small host computations on numbers the backend produced: the sigmoid fit is a
// 2-parameter Newton iteration over one pair's n decision values, the coupling a K × K fixed
// point per sample.
#pragma once

#include <cstdint>
#include <vector>

namespace mlcore::detail {

struct PlattSigmoid {
  double A = 0.0, B = 0.0;  // P(first class | f) = 1 / (1 + exp(A·f + B))
};

// The sigmoid's maximum-likelihood fit to decision values `f` whose sample is of the pair's
// first class where `first[i]` is true (Platt's regularised targets: (N₊ + 1)/(N₊ + 2) and
// 1/(N₋ + 2), so a separable pair does not drive A to −∞).
PlattSigmoid fit_platt_sigmoid(const std::vector<double>& f, const std::vector<char>& first);

// 1 / (1 + exp(A·f + B)) without overflow, clipped to [1e-7, 1 − 1e-7] (libsvm's bounds, so
// the coupling never divides by a zero r).
double platt_probability(const PlattSigmoid& s, double f);

// p (K) from the pairwise r (K × K, row-major: r[i·K + j] = P(i | i or j), r[j·K + i] =
// 1 − r[i·K + j]); Wu, Lin & Weng's iteration, at most max(100, K) sweeps.
void couple_pairwise(const std::vector<double>& r, std::int64_t K, double* p);

}  // namespace mlcore::detail
