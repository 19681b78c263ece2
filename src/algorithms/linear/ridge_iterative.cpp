// Ridge's iterative solvers: conjugate gradients and LSQR, matrix-free on the backend. See
// ridge_iterative.hpp for the operator and for where each vector lives.
#include "algorithms/linear/ridge_iterative.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "algorithms/common/host_math.hpp"
#include "mlcore/algorithms/linear/linear_regression.hpp"
#include "mlcore/error.hpp"

namespace mlcore::detail {

namespace {

// A host double d-vector as a d × 1 device f32 tensor (the x of a gemv, the B of an spmm).
Tensor to_device_vector(Backend& b, const Eigen::VectorXd& v) { return b.to_device(from_eigen(v)); }

}  // namespace

LeastSquaresOperator::LeastSquaresOperator(Backend& b, const Tensor* dense, const CsrMatrix* sparse,
                                           Tensor r, Tensor row_scale, Eigen::VectorXd m,
                                           Eigen::VectorXd c)
    : b_(b),
      dense_(dense),
      sparse_(sparse),
      r_(std::move(r)),
      row_scale_(std::move(row_scale)),
      m_(std::move(m)),
      c_(std::move(c)),
      n_(dense ? dense->rows() : sparse->rows),
      d_(dense ? dense->cols() : sparse->cols) {}

void LeastSquaresOperator::apply(const Eigen::VectorXd& v, float beta, Tensor& u) const {
  const Eigen::VectorXd cv = c_.cwiseProduct(v);  // into M's units
  const Tensor cv_dev = to_device_vector(b_, cv);
  if (dense_ != nullptr) {
    b_.gemv(Trans::no, 1.0f, *dense_, cv_dev, beta, u);  // n·d MACs
  } else {
    // R·(M·cv) + β·u: the spmm writes a scratch column when R or β must be applied after it.
    if (row_scale_.numel() == 0 && beta == 0.0f) {
      b_.spmm(Trans::no, 1.0f, *sparse_, cv_dev, 0.0f, u);  // nnz MACs
    } else {
      Tensor Mv = b_.empty(n_, 1);
      b_.spmm(Trans::no, 1.0f, *sparse_, cv_dev, 0.0f, Mv);
      if (row_scale_.numel() != 0) b_.scale_rows(row_scale_, Mv);
      b_.axpby(1.0f, Mv, beta, u);
    }
  }
  // − r·(m·cv): the centring, one axpy over n on the backend (m is zero without an intercept).
  const double shift = m_.dot(cv);
  if (shift != 0.0) b_.axpby(static_cast<float>(-shift), r_, 1.0f, u);
}

Eigen::VectorXd LeastSquaresOperator::apply_transposed(const Tensor& u) const {
  Tensor z = b_.empty(d_, 1);
  if (dense_ != nullptr) {
    b_.gemv(Trans::yes, 1.0f, *dense_, u, 0.0f, z);  // n·d MACs
  } else if (row_scale_.numel() == 0) {
    b_.spmm(Trans::yes, 1.0f, *sparse_, u, 0.0f, z);  // nnz MACs
  } else {
    Tensor Ru = b_.empty(n_, 1);
    b_.axpby(1.0f, u, 0.0f, Ru);
    b_.scale_rows(row_scale_, Ru);
    b_.spmm(Trans::yes, 1.0f, *sparse_, Ru, 0.0f, z);
  }
  Eigen::VectorXd out = to_eigen(b_.to_host(z)).col(0);
  if (!m_.isZero(0.0)) out -= m_ * dot(r_, u);  // − m·(rᵀu)
  return c_.cwiseProduct(out);
}

double LeastSquaresOperator::dot(const Tensor& a, const Tensor& b) const {
  Tensor s = b_.empty(1, 1);
  b_.gemv(Trans::yes, 1.0f, a, b, 0.0f, s);  // aᵀb: n MACs
  return static_cast<double>(b_.to_host(s).data<float>()[0]);
}

// ---- conjugate gradients -------------------------------------------------------------------
//
// The textbook recurrence (Hestenes & Stiefel 1952) on H·w = rhs, H = AᵀA + αI symmetric
// positive (semi-)definite, written as scipy.sparse.linalg.cg runs it from w = 0:
//   res = rhs; p = res
//   repeat: q = H·p  (= Aᵀ(A·p) + α·p: the two products on the backend)
//           step = ‖res‖² / pᵀq;  w += step·p;  res −= step·q
//           p = res + (‖res_new‖² / ‖res_old‖²)·p
// In exact arithmetic it ends within d iterations (within rank(A) + 1 when α > 0); in f32 it
// converges at a rate set by √κ(H).
Eigen::VectorXd conjugate_gradient(const LeastSquaresOperator& A, const Eigen::VectorXd& rhs,
                                   double alpha, double tol, std::int64_t max_iter,
                                   std::int64_t& n_iter) {
  const std::int64_t d = A.cols();
  if (max_iter == kSolverDefaultIter) max_iter = 10 * d;  // scipy's default maxiter
  Eigen::VectorXd w = Eigen::VectorXd::Zero(d);
  Eigen::VectorXd res = rhs, p = rhs;
  const double stop = tol * rhs.norm();
  double res_sq = res.squaredNorm();
  Tensor Ap = A.backend().empty(A.rows(), 1);
  n_iter = 0;
  while (n_iter < max_iter && std::sqrt(res_sq) > stop && res_sq > 0.0) {
    A.apply(p, 0.0f, Ap);
    const Eigen::VectorXd q = A.apply_transposed(Ap) + alpha * p;
    const double pq = p.dot(q);
    if (!(pq > 0.0)) break;  // H is singular along p (α = 0, rank-deficient): w is a solution
    const double step = res_sq / pq;
    w += step * p;
    res -= step * q;
    const double res_sq_new = res.squaredNorm();
    p = res + (res_sq_new / res_sq) * p;
    res_sq = res_sq_new;
    ++n_iter;
  }
  return w;
}

// ---- LSQR ----------------------------------------------------------------------------------
//
// Paige & Saunders, "LSQR: an algorithm for sparse linear equations and sparse least squares",
// ACM TOMS 8(1), 1982; the recurrences and stopping rules as scipy.sparse.linalg.lsqr has them.
// Golub–Kahan bidiagonalization builds orthonormal u (n) and v (d):
//   β₁u₁ = y,  α₁v₁ = Aᵀu₁;   β_{k+1}u_{k+1} = A·v_k − α_k·u_k,  α_{k+1}v_{k+1} = Aᵀu_{k+1} −
//   β_{k+1}v_k
// and a QR factorisation of the small bidiagonal matrix by Givens rotations updates w in each
// step without storing the basis. The damping √α is eliminated by one more rotation per step,
// so the method solves min ‖A·w − y‖² + α‖w‖² without forming AᵀA (whose condition number is
// the square of A's): better conditioned than CG on the normal equations.
namespace {

// A stable Givens rotation (c, s, r) with c·a + s·b = r, −s·a + c·b = 0 (scipy's _sym_ortho).
void sym_ortho(double a, double b, double& c, double& s, double& r) {
  if (b == 0.0) {
    c = a == 0.0 ? 1.0 : std::copysign(1.0, a);
    s = 0.0;
    r = std::abs(a);
  } else if (a == 0.0) {
    c = 0.0;
    s = std::copysign(1.0, b);
    r = std::abs(b);
  } else if (std::abs(b) > std::abs(a)) {
    const double tau = a / b;
    s = std::copysign(1.0, b) / std::sqrt(1.0 + tau * tau);
    c = s * tau;
    r = b / s;
  } else {
    const double tau = b / a;
    c = std::copysign(1.0, a) / std::sqrt(1.0 + tau * tau);
    s = c * tau;
    r = a / c;
  }
}

// u ← u / norm on the backend (in place).
void scale_in_place(Backend& b, Tensor& u, double norm) {
  MapArgs args;
  args.scale = static_cast<float>(1.0 / norm);
  b.map(MapFn::identity, u, u, args);
}

}  // namespace

Eigen::VectorXd lsqr(const LeastSquaresOperator& A, Tensor& y, double alpha, double tol,
                     std::int64_t max_iter, std::int64_t& n_iter) {
  Backend& b = A.backend();
  const std::int64_t d = A.cols();
  if (max_iter == kSolverDefaultIter) max_iter = 2 * d;  // scipy's default iter_lim
  const double damp = std::sqrt(alpha), damp_sq = alpha;
  const double atol = tol, btol = tol, ctol = 1e-8;  // ctol = 1/conlim, scipy's conlim 1e8
  constexpr double eps = std::numeric_limits<double>::epsilon();

  Eigen::VectorXd w = Eigen::VectorXd::Zero(d);
  n_iter = 0;
  Tensor& u = y;  // β₁u₁ = y
  double beta = std::sqrt(std::max(A.dot(u, u), 0.0));
  const double bnorm = beta;
  Eigen::VectorXd v = Eigen::VectorXd::Zero(d);
  double alfa = 0.0;
  if (beta > 0.0) {
    scale_in_place(b, u, beta);
    v = A.apply_transposed(u);
    alfa = v.norm();
  }
  if (alfa > 0.0) v /= alfa;
  Eigen::VectorXd dir = v;           // scipy's w: the search direction
  if (alfa * beta == 0.0) return w;  // y = 0 or Aᵀy = 0: w = 0 is the solution

  double rhobar = alfa, phibar = beta;
  double anorm = 0.0, ddnorm = 0.0, res2 = 0.0, xxnorm = 0.0, z = 0.0;
  double cs2 = -1.0, sn2 = 0.0;
  while (n_iter < max_iter) {
    ++n_iter;
    // β·u = A·v − α·u (one gemv / spmm, the axpy fused into it), α·v = Aᵀu − β·v.
    A.apply(v, static_cast<float>(-alfa), u);
    beta = std::sqrt(std::max(A.dot(u, u), 0.0));
    if (beta > 0.0) {
      scale_in_place(b, u, beta);
      anorm = std::sqrt(anorm * anorm + alfa * alfa + beta * beta + damp_sq);
      v = A.apply_transposed(u) - beta * v;
      alfa = v.norm();
      if (alfa > 0.0) v /= alfa;
    }
    // Eliminate the damping: a rotation of (ρ̄, damp).
    double rhobar1 = rhobar, psi = 0.0;
    if (damp > 0.0) {
      rhobar1 = std::sqrt(rhobar * rhobar + damp_sq);
      const double cs1 = rhobar / rhobar1, sn1 = damp / rhobar1;
      psi = sn1 * phibar;
      phibar = cs1 * phibar;
    }
    // The plane rotation that eliminates the subdiagonal β of the bidiagonal matrix.
    double cs, sn, rho;
    sym_ortho(rhobar1, beta, cs, sn, rho);
    const double theta = sn * alfa;
    rhobar = -cs * alfa;
    const double phi = cs * phibar;
    phibar = sn * phibar;
    const double tau = sn * phi;
    // Update w and the direction.
    ddnorm += (dir / rho).squaredNorm();
    w += (phi / rho) * dir;
    dir = v - (theta / rho) * dir;
    // Estimates of ‖w‖, cond(A), ‖r‖ and ‖Aᵀr‖ for the stopping rules (scipy's).
    const double delta = sn2 * rho, gambar = -cs2 * rho, rhs = phi - delta * z;
    const double zbar = rhs / gambar;
    const double xnorm = std::sqrt(xxnorm + zbar * zbar);
    const double gamma = std::sqrt(gambar * gambar + theta * theta);
    cs2 = gambar / gamma;
    sn2 = theta / gamma;
    z = rhs / gamma;
    xxnorm += z * z;
    const double acond = anorm * std::sqrt(ddnorm);
    res2 += psi * psi;
    const double rnorm = std::sqrt(phibar * phibar + res2);
    const double arnorm = alfa * std::abs(tau);
    const double test1 = rnorm / bnorm;
    const double test2 = arnorm / (anorm * rnorm + eps);
    const double test3 = 1.0 / (acond + eps);
    const double t1 = test1 / (1.0 + anorm * xnorm / bnorm);
    const double rtol = btol + atol * anorm * xnorm / bnorm;
    // 1: y is (nearly) in A's range; 2: w is a least-squares solution to atol; 3: cond(A)
    // beyond conlim; 4–6: the same at machine precision.
    if (test1 <= rtol || test2 <= atol || test3 <= ctol || 1.0 + t1 <= 1.0 || 1.0 + test2 <= 1.0 ||
        1.0 + test3 <= 1.0) {
      break;
    }
  }
  return w;
}

}  // namespace mlcore::detail
