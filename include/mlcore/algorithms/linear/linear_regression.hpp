// LinearRegression and Ridge: least squares through the normal equations.
//
//   minimise  ‖y − X·w − b‖² + α‖w‖²        (α = 0: LinearRegression; α > 0: Ridge)
//
// The solution satisfies (XcᵀXc + αI)·w = Xcᵀyc, b = ȳ − x̄·w, where Xc and yc are X and y with
// their column means removed. That splits the work by its size:
//   on the backend (O(n·d²), the part that grows with the data):
//     x̄, var = reduce_cols(mean / var, X)  1 × d
//     Xc = (X − x̄)/sd per column            n × d   centre first: see "precision" below
//     G = gemm(Xcᵀ, Xc)                    d × d   the Gram matrix, n·d² MACs
//     B = gemv(Xcᵀ, yc) (gemm for t > 1)   d × t   (t targets), n·d·t MACs
//   on the host (O(d³), independent of n), in double with Eigen:
//     Cholesky of the Jacobi-scaled G + αI; if it finds the system numerically singular
//     (collinear or constant features), a symmetric eigen-decomposition and its pseudo-inverse,
//     which gives the minimum-norm solution as scikit-learn's lstsq does.
//
// Precision. G is accumulated in f32 (or, on the systolic backend, from int8-quantized
// operands). Three things keep that usable:
//   * Centring before the product. XᵀX − n·x̄x̄ᵀ computed from raw X subtracts two huge,
//     nearly equal numbers when |x̄| ≫ spread; after centring every entry of G is a sum of
//     terms of the size of the answer. If the centre itself was inexact (an int8 reduction is
//     good to ~1% of max |x|, which for offset data is more than the spread), the mean left in
//     Xc is measured (a small number now, so accurately) and removed on the host.
//   * Scaling: the columns of Xc are divided by their sd on the backend (see "column scaling"
//     below), and the host solve is Jacobi-scaled too (D⁻¹GD⁻¹, D = diag(√G_jj)), so the
//     solve's error depends on the condition number κ of the feature *correlation* matrix, not
//     on the features' units. f32 rounding perturbs each scaled entry by roughly 1e-7
//     relative, so the solution loses about κ·1e-7. scikit-learn's diabetes data has
//     κ(XcᵀXc) ≈ 470 (its columns are already scaled alike): about 5e-5 relative error in w,
//     invisible in R². Raw, unscaled diabetes has κ(XcᵀXc) ≈ 7.6e4 and uncentred
//     κ(XᵀX) ≈ 1e6 — the scaling brings it back to 470, the centring avoids the 1e6.
//   * Double precision for everything after the GEMMs (the d × d algebra is cheap).
// The systolic backend's int8 MACs perturb G by ~1e-3 relative: w carries κ times that. That
// is the lesson of that backend: least squares squares the condition number of X.
//
// Column scaling. When the features are alike (|mean| ≤ sd, sds within a factor 4: e.g.
// standardized data), G = XᵀX and B = XᵀY are formed from X as it is and centred on the host
// (XcᵀXc = XᵀX − n·x̄ᵀx̄; the offsets are too small to cost precision) — no copy of X at all.
// Otherwise X is centred *and scaled* per column on the backend first (src/algorithms/
// columns.hpp), which on the int8 systolic backend keeps every feature inside the int8 range.
// (Sample weights always take the second path: the rows are scaled by √w on the copy.)
//
// predict(X) = X·wᵀ + b (gemv / gemm + add_row_vector), through the same column scaling.
//
// Ridge's other solvers (RidgeOptions::solver) start from the same centred, weighted problem:
//   "svd"        the same G, then its eigen-decomposition G = V·diag(s²)·Vᵀ on the host:
//                w = V·diag(1/(s² + α))·Vᵀ·B = V·diag(s/(s² + α))·Uᵀ·y, the SVD solution, with the
//                singular directions that are rounding noise dropped (rank-deficient X).
//   "sparse_cg"  conjugate gradients on (XcᵀXc + αI)·w = Xcᵀy, matrix-free: each iteration is one
//                product Xc·p and one Xcᵀ·q on the backend (gemv / spmm), never the d × d G.
//   "lsqr"       Paige & Saunders' LSQR on min ‖Xc·w − yc‖² + α‖w‖² (damp = √α), matrix-free too.
//   "projected_cd" the same G, then cyclic coordinate descent on ½wᵀ(G + αI)w − wᵀB on the host,
//                clipped at 0 when `positive` (scikit-learn's positive=True; O(d²) per sweep).
// src/algorithms/linear/ridge_iterative.hpp has the two iterative ones.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "mlcore/estimator.hpp"
#include "mlcore/serialize.hpp"
#include "mlcore/sparse.hpp"
#include "mlcore/tensor.hpp"

namespace mlcore {

struct LinearRegressionOptions {
  bool fit_intercept = true;  // false: no intercept, X and y are used as given (not centred)
  // true: coefficients ≥ 0 (scikit-learn's positive), by projected coordinate descent on the
  // Gram matrix (host_math.hpp solve_by_coordinate_descent) instead of Cholesky.
  bool positive = false;
};

// RidgeOptions::max_iter's "the solver's default".
inline constexpr std::int64_t kSolverDefaultIter = 0;

struct RidgeOptions {
  double alpha = 1.0;  // the L2 penalty α ≥ 0 (scikit-learn's alpha)
  bool fit_intercept = true;
  // "cholesky" | "svd" (direct, through the Gram matrix) | "sparse_cg" | "lsqr" (iterative,
  // matrix-free) | "projected_cd" (coordinate descent on the Gram matrix, the one solver that
  // takes `positive`). See the top of this file.
  std::string solver = "cholesky";
  // Iterative solvers only, with scikit-learn's meaning. sparse_cg: stop when
  // ‖(XcᵀXc + αI)w − Xcᵀy‖ ≤ tol·‖Xcᵀy‖; lsqr: LSQR's atol = btol = tol; projected_cd: the
  // largest projected gradient of ½‖Xc·w − yc‖² + ½α‖w‖² ≤ tol (scikit-learn's lbfgs). Per target.
  double tol = 1e-4;
  // Iterative solvers: the most iterations per target; kSolverDefaultIter: scipy's default
  // (sparse_cg 10·d, lsqr 2·d), 15000 sweeps for projected_cd (scikit-learn's lbfgs default).
  std::int64_t max_iter = kSolverDefaultIter;
  // Coefficients ≥ 0 (solver "projected_cd" only).
  bool positive = false;
};

namespace detail {
// What LinearRegression and Ridge share: the fitted model and the normal-equations fit.
class LeastSquaresModel : public Estimator {
 public:
  // coef: t × d, row r holds the weights of target r (scikit-learn's coef_ for 2-D y).
  const Tensor& coef() const;
  // intercept: 1 × t (zeros when fit_intercept is false).
  const Tensor& intercept() const;
  std::int64_t n_features_in() const;
  std::int64_t n_targets() const;

  // X: n × d (host f32). Returns n × t predictions (host f32).
  Tensor predict(const Tensor& X) const;
  // The same for sparse X (n × d CSR): one spmm, nnz·t MACs.
  Tensor predict(const CsrMatrix& X) const;

 protected:
  LeastSquaresModel(BackendPtr backend, const char* name, std::uint32_t model_version = 1)
      : Estimator(name, model_version, std::move(backend)) {}
  // What a fit solves and how: the penalty α, the intercept, and Ridge's solver options.
  struct Problem {
    double alpha = 0.0;
    bool fit_intercept = true;
    std::string solver = "cholesky";
    double tol = 1e-4;
    std::int64_t max_iter = kSolverDefaultIter;
    bool positive = false;
  };
  // Fits. y: vector of length n, or n × t; sample_weight: empty or length n.
  void fit_least_squares(const Tensor& X, const Tensor& y, const Tensor& sample_weight,
                         const Problem& problem);
  // The same for sparse X: XᵀWX and XᵀWY by the transposed spmm (or the iterative solvers'
  // products), centred implicitly (linear_regression.cpp says how).
  void fit_least_squares(const CsrMatrix& X, const Tensor& y, const Tensor& sample_weight,
                         const Problem& problem);
  // The fitted flag and state (after the subclass's options in its visit).
  void visit_fitted(Archive& a);

  // Filled by fit (for LinearRegression's rank_ / singular_).
  std::int64_t rank_ = 0;
  Tensor singular_;  // 1 × d, singular values of Xc (√ of the eigenvalues of XcᵀXc), descending
  // Iterations per target of an iterative solver (empty after a direct one).
  std::vector<std::int64_t> n_iter_;
  // False when projected_cd stopped at max_iter before meeting tol.
  bool converged_ = true;

 private:
  std::vector<std::pair<std::string, Tensor*>> fitted_arrays() override;
  // Solves (G + αI)·W = B on the host and stores coef and intercept (ȳ − x̄·Wᵀ); G: d × d and
  // B: d × t of the centred problem, xm: 1 × d, ym: 1 × t. Eigen types stay in the .cpp.
  // By the problem's solver: Cholesky, the eigen-decomposition of G (the SVD solution), or
  // projected coordinate descent.
  template <class Matrix, class Row>
  void solve_and_store(const Matrix& G, const Matrix& B, const Row& xm, const Row& ym,
                       const Problem& problem);
  // Stores coef (t × d) and the intercept ȳ − x̄·Wᵀ from W (d × t) and the centres.
  template <class Matrix, class Row>
  void store(const Matrix& W, const Row& xm, const Row& ym);
  Tensor coef_;       // t × d
  Tensor intercept_;  // 1 × t
  // How predict feeds X to the GEMM (src/algorithms/common/columns.hpp): as it is, or shifted and
  // scaled per column like the training data.
  bool raw_input_ = true;
  Tensor input_shift_, input_scale_;  // 1 × d each, when !raw_input_
};
}  // namespace detail

// Ordinary least squares (scikit-learn's LinearRegression).
class LinearRegression : public detail::LeastSquaresModel {
 public:
  using Options = LinearRegressionOptions;
  explicit LinearRegression(Options options = {}, BackendPtr backend = default_backend());

  // X: n × d; y: vector of length n (one target) or n × t (t targets); sample_weight: empty
  // or a vector of n non-negative weights. Returns *this.
  LinearRegression& fit(const Tensor& X, const Tensor& y, const Tensor& sample_weight = Tensor());
  // The same for sparse X (n × d CSR).
  LinearRegression& fit(const CsrMatrix& X, const Tensor& y,
                        const Tensor& sample_weight = Tensor());

  const Options& options() const { return options_; }
  // Numerical rank of the (centred) X as the solver saw it.
  std::int64_t rank() const;
  // Singular values of the (centred) X, 1 × d, descending.
  const Tensor& singular() const;

  static LinearRegression load(std::istream& in, BackendPtr backend = default_backend()) {
    return load_model<LinearRegression>(in, std::move(backend));
  }

 private:
  Problem problem() const;
  void visit(Archive& a) override;
  Options options_;
};

// Least squares with an L2 penalty α‖w‖² (scikit-learn's Ridge, solvers 'cholesky', 'svd',
// 'sparse_cg' and 'lsqr').
class Ridge : public detail::LeastSquaresModel {
 public:
  using Options = RidgeOptions;
  explicit Ridge(Options options = {}, BackendPtr backend = default_backend());

  Ridge& fit(const Tensor& X, const Tensor& y, const Tensor& sample_weight = Tensor());
  // The same for sparse X (n × d CSR).
  Ridge& fit(const CsrMatrix& X, const Tensor& y, const Tensor& sample_weight = Tensor());

  const Options& options() const { return options_; }
  // Iterations per target of the last fit with an iterative solver; empty after a direct one.
  const std::vector<std::int64_t>& n_iter() const;
  // False when the last fit's projected_cd stopped at max_iter before meeting tol.
  bool converged() const;

  static Ridge load(std::istream& in, BackendPtr backend = default_backend()) {
    return load_model<Ridge>(in, std::move(backend));
  }

 private:
  void check_options() const;
  Problem problem() const;
  void visit(Archive& a) override;
  Options options_;
};

}  // namespace mlcore
