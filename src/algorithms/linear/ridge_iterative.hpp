// Ridge's iterative solvers, matrix-free: conjugate gradients on the normal equations and
// Paige & Saunders' LSQR on the damped least-squares problem. Both see the centred, weighted
// design matrix only through products with it, each one pass over X on the backend (gemv for
// dense X, spmm for CSR): that is the point of the methods. The direct solvers form the d × d
// Gram matrix once (n·d² MACs) and solve it on the host; these cost 2·n·d MACs (nnz·2 for
// sparse X) per iteration and never hold a d × d matrix, so they win when d is large, X is
// sparse, or a loose tolerance is reached in few iterations.
//
// The operator. The fit (linear_regression.cpp) centres and weights the problem as the direct
// solvers do; what reaches the solver is
//   A = R·M·diag(c) − r·(m ⊙ c)ᵀ        n × d, in the units of X (α‖w‖² penalises those)
// M: X as it is, or the centred, column-scaled and √w-row-scaled copy (dense), or X's CSR
// (sparse: its zeros must stay zeros, so the centring is implicit, as scikit-learn's
// _get_rescaled_operator); R = diag(√w) applied around sparse M's products (dense M carries √w in
// its rows already; R is then absent); r: the rows' √w (ones without weights); m: the column
// means still in M (x̄ for raw X, the small residual mean for the centred copy, 0 without an
// intercept); c: the factors back to the units of X (1/scale, or ones).
//
// Where the vectors live. d-vectors (the iterates w, CG's residuals, LSQR's v) stay on the host
// in double: O(d) work, and double keeps the recurrences' scalars exact to the f32 products'
// accuracy. n-vectors (Xc·p, LSQR's u) stay on the device and are touched only by primitives
// (gemv, spmm, axpby, map, scale_rows), so every O(n) step is on the backend and in its profile.
// On the int8 backends every product is quantized (~1e-3 relative), which bounds the accuracy
// either method can reach: they then stop at max_iter or at the noise level.
#pragma once

#include <Eigen/Dense>
#include <cstdint>

#include "mlcore/backend.hpp"
#include "mlcore/sparse.hpp"
#include "mlcore/tensor.hpp"

namespace mlcore::detail {

class LeastSquaresOperator {
 public:
  // Dense M (n × d, device f32) or sparse M (CSR on the device); r: n × 1 device (√w or ones);
  // row_scale: n × 1 device √w for sparse M with weights, else empty; m, c: d each.
  LeastSquaresOperator(Backend& b, const Tensor* dense, const CsrMatrix* sparse, Tensor r,
                       Tensor row_scale, Eigen::VectorXd m, Eigen::VectorXd c);

  std::int64_t rows() const { return n_; }
  std::int64_t cols() const { return d_; }
  Backend& backend() const { return b_; }

  // u ← A·v + β·u.   v: d (host); u: n × 1 device (β = 0 ignores its contents).
  void apply(const Eigen::VectorXd& v, float beta, Tensor& u) const;
  // Aᵀ·u.   u: n × 1 device; returns d (host).
  Eigen::VectorXd apply_transposed(const Tensor& u) const;
  // aᵀ·b of two n × 1 device vectors, on the backend (a 1-column gemv).
  double dot(const Tensor& a, const Tensor& b) const;

 private:
  Backend& b_;
  const Tensor* dense_;
  const CsrMatrix* sparse_;
  Tensor r_, row_scale_;
  Eigen::VectorXd m_, c_;
  std::int64_t n_, d_;
};

// Conjugate gradients on (AᵀA + αI)·w = rhs (rhs = Aᵀy: d). scipy's cg with x0 = 0 and
// rtol = tol, which is what scikit-learn's sparse_cg calls: stop when ‖rhs − (AᵀA + αI)w‖ ≤
// tol·‖rhs‖, or after max_iter iterations (kSolverDefaultIter: 10·d). n_iter: iterations run.
Eigen::VectorXd conjugate_gradient(const LeastSquaresOperator& A, const Eigen::VectorXd& rhs,
                                   double alpha, double tol, std::int64_t max_iter,
                                   std::int64_t& n_iter);

// LSQR on min ‖A·w − y‖² + α‖w‖² (damp = √α), scipy's lsqr with atol = btol = tol, conlim 1e8
// and iter_lim = max_iter (kSolverDefaultIter: 2·d), as scikit-learn's lsqr solver calls it.
// y: n × 1 device, overwritten (it becomes LSQR's u). n_iter: iterations run.
Eigen::VectorXd lsqr(const LeastSquaresOperator& A, Tensor& y, double alpha, double tol,
                     std::int64_t max_iter, std::int64_t& n_iter);

}  // namespace mlcore::detail
