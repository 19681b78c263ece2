// Small dense host-side helpers shared by the linear-family estimators (least squares,
// logistic regression, naive Bayes, PCA). Everything here is O(d²)…O(d³) or O(classes × d) work
// on matrices whose size does not depend on the number of samples, done in double with Eigen
// (the DESIGN rule: O(n) work goes through the backend, small dense algebra may stay on the host).
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <vector>

#include "mlcore/tensor.hpp"

namespace mlcore::detail {

// f32 host tensor ↔ Eigen double matrix (same rows × cols).
Eigen::MatrixXd to_eigen(const Tensor& t);
Tensor from_eigen(const Eigen::MatrixXd& m);

// Optional per-sample weights, checked: finite, ≥ 0, with a positive sum.
struct SampleWeights {
  bool weighted = false;  // false: every sample weighs 1 (w is empty, sum = n)
  Tensor w;               // n × 1 host f32 when weighted
  double sum = 0.0;       // Σ wᵢ
};
// `sample_weight` empty → unweighted; else a vector of n values.
SampleWeights check_sample_weight(const Tensor& sample_weight, std::int64_t n,
                                  const char* estimator);

// The solution of (G + αI)·W = B for a symmetric positive semi-definite G (d × d) and B (d × t).
struct NormalEquationsSolution {
  Eigen::MatrixXd W;      // d × t
  std::int64_t rank = 0;  // d when Cholesky succeeded; else the eigenvalues kept
  bool used_pseudo_inverse = false;
};
// Cholesky of the Jacobi-scaled system D⁻¹(G + αI)D⁻¹, D = diag(√(G_jj + α)); when a pivot is
// below kRankTolerance (numerically singular: collinear or constant features), a symmetric
// eigen-decomposition of the same scaled matrix and the pseudo-inverse on the eigenvalues above
// kRankTolerance · λ_max (minimum-norm solution).
NormalEquationsSolution solve_normal_equations(const Eigen::MatrixXd& G, const Eigen::MatrixXd& B,
                                               double alpha);
// Ridge's "svd" solver from the Gram matrix: with G = V·diag(λ)·Vᵀ (λ = s², X's singular values
// squared), W = Σ vᵢ·(vᵢᵀB)/(λᵢ + α) over the λᵢ above kRankTolerance·λ_max, which is
// scikit-learn's w = V·diag(s/(s² + α))·Uᵀy (VᵀB = diag(s)·Uᵀy) with the directions whose s is
// rounding noise dropped (their s/(s² + α) is 0 for s = 0, whatever α). rank: the λ kept.
// The trade-off against an SVD of X itself: G squares the condition number, so singular values
// below √kRankTolerance ≈ 1e-3 of the largest are lost to the f32 Gram's rounding, where a
// host SVD of X would resolve ~1e-7 of it — but that SVD is O(n·d²) work on the host, against
// the design's rule, and no backend has an SVD primitive; G is one GEMM on the backend.
NormalEquationsSolution solve_by_eigen(const Eigen::MatrixXd& G, const Eigen::MatrixXd& B,
                                       double alpha);
// min ½wᵀ(G + αI)w − wᵀb subject to w ≥ 0 (`nonnegative`; else unconstrained), column by column
// of B, by projected coordinate descent (cyclic Gauss–Seidel clipped at 0; Hildreth 1957, the
// textbook method for a quadratic with bounds): O(d²) per sweep on the host, the data seen only
// through G. With G = XcᵀXc and b = Xcᵀy this is non-negative ridge (or least squares when α = 0).
// Stops when the largest projected gradient (|gⱼ| where wⱼ > 0, max(0, −gⱼ) where wⱼ = 0; g = (G +
// αI)w − b) is at most `tol` — what scikit-learn's positive Ridge asks of its L-BFGS-B — or after
// max_sweeps sweeps. sweeps[r]: the sweeps run for column r; converged: false when some column hit
// max_sweeps.
struct NonnegativeSolution {
  Eigen::MatrixXd W;  // d × t (every entry ≥ 0 when nonnegative)
  std::vector<std::int64_t> sweeps;
  bool converged = true;
};
NonnegativeSolution solve_by_coordinate_descent(const Eigen::MatrixXd& G, const Eigen::MatrixXd& B,
                                                double alpha, bool nonnegative, double tol,
                                                std::int64_t max_sweeps);

// Relative eigenvalue cut-off of the scaled normal equations. The Gram matrix arrives in f32:
// each scaled entry carries a rounding error of a few ulps (2^-23 ≈ 1.2e-7), so eigenvalues
// below ~1e-6 of the largest are indistinguishable from rounding noise.
inline constexpr double kRankTolerance = 1e-6;

// √ of the eigenvalues of a Gram matrix XᵀX, descending and clipped at 0: the singular values
// of X (d of them).
Eigen::VectorXd singular_values_from_gram(const Eigen::MatrixXd& G);

// Eigen-decomposition of a symmetric matrix, eigenvalues descending (vectors in the columns,
// same order).
struct SymmetricEigen {
  Eigen::VectorXd values;
  Eigen::MatrixXd vectors;
};
SymmetricEigen symmetric_eigen_descending(const Eigen::MatrixXd& A);

}  // namespace mlcore::detail
