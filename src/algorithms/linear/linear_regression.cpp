// LinearRegression and Ridge: the normal equations, the Gram matrix on the backend and the small
// d × d solve on the host. See include/mlcore/algorithms/linear/linear_regression.hpp for the plan
// and for why X is centred before its Gram matrix is formed.
#include "mlcore/algorithms/linear/linear_regression.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <istream>
#include <ostream>

#include "algorithms/common/columns.hpp"
#include "algorithms/common/host_math.hpp"
#include "algorithms/common/sparse_input.hpp"
#include "algorithms/common/validate.hpp"
#include "algorithms/linear/ridge_iterative.hpp"

namespace mlcore {

namespace {

// y as an n × t tensor view: a vector of n values (n × 1 or 1 × n) is one target.
Tensor targets_as_matrix(const Tensor& y, std::int64_t n, const char* name) {
  MLCORE_CHECK(y.device() == Device::host && y.dtype() == DType::f32,
               name << ": y must be a host f32 tensor, got " << y.describe());
  if (y.rows() == 1 && y.cols() == n && n != 1) return y.reshaped(n, 1);
  MLCORE_CHECK(y.rows() == n && y.cols() >= 1,
               name << ": y must have one row per sample (" << n << "), got " << y.describe());
  const float* v = y.data<float>();
  for (std::int64_t i = 0; i < y.numel(); ++i) {
    MLCORE_CHECK(std::isfinite(v[i]), name << ": y contains NaN or infinity at [" << i / y.cols()
                                           << ", " << i % y.cols() << "]");
  }
  return y;
}

// B = XᵀY (d × t): a gemv for one target (the memory-bound MAC: one pass over X, no packing),
// else a gemm.
void gram_rhs(Backend& b, const Tensor& X, const Tensor& Y, Tensor& B) {
  if (Y.cols() == 1) {
    b.gemv(Trans::yes, 1.0f, X, Y, 0.0f, B);
  } else {
    b.gemm(Trans::yes, Trans::no, 1.0f, X, Y, 0.0f, B);
  }
}

}  // namespace

// ---- the shared least-squares model -----------------------------------------------------------

const Tensor& detail::LeastSquaresModel::coef() const {
  require_fitted();
  return coef_;
}
const Tensor& detail::LeastSquaresModel::intercept() const {
  require_fitted();
  return intercept_;
}
std::int64_t detail::LeastSquaresModel::n_features_in() const {
  require_fitted();
  return coef_.cols();
}
std::int64_t detail::LeastSquaresModel::n_targets() const {
  require_fitted();
  return coef_.rows();
}

namespace {

using detail::conjugate_gradient;
using detail::from_eigen;
using detail::LeastSquaresOperator;
using detail::lsqr;
using detail::to_eigen;

// The centred, weighted problem as every solver takes it, in ridge_iterative.hpp's terms:
//   A = R·M·diag(c) − r·(m ⊙ c)ᵀ  (n × d),   Ỹ = Yc − r·myᵀ  (n × t),
// and the centres of the intercept, x̄ = x_shift + m ⊙ c, ȳ = y_shift + my.
struct CentredProblem {
  Tensor M;                  // dense X: n × d device (X itself, or the centred scaled copy)
  Tensor Yc;                 // n × t device (rows scaled by √w with weights)
  Tensor sqrt_w;             // n × 1 device √w; empty without weights
  Tensor row_scale;          // sparse X with weights: √w, applied around its products
  Eigen::RowVectorXd m, my;  // means left in M (1 × d) and in Yc (1 × t); 0 without intercept
  Eigen::VectorXd c;         // d: M's columns back to the units of X
  Eigen::RowVectorXd x_shift, y_shift;  // what was subtracted on the backend already
  double total = 0.0;                   // Σw (n without weights)

  Eigen::RowVectorXd x_centre() const { return x_shift + m.cwiseProduct(c.transpose()); }
  Eigen::RowVectorXd y_centre() const { return y_shift + my; }
};

// The direct solvers' G = AᵀA (d × d) and B = AᵀỸ (d × t) for dense M:
//   (M − r·mᵀ)ᵀ(M − r·mᵀ) = MᵀM − Σw·mᵀm   (rᵀM = Σw·m: m is M's weighted mean)
// then back to the units of X: G = C·Gs·C, B = C·Bs.
void dense_gram(Backend& b, const CentredProblem& p, Eigen::MatrixXd& G, Eigen::MatrixXd& B) {
  const std::int64_t d = p.M.cols(), t = p.Yc.cols();
  Tensor Gd = b.empty(d, d), Bd = b.empty(d, t);
  b.gemm(Trans::yes, Trans::no, 1.0f, p.M, p.M, 0.0f, Gd);  // n·d² MACs: the fit's cost
  gram_rhs(b, p.M, p.Yc, Bd);                               // n·d·t MACs
  Eigen::MatrixXd Gs = to_eigen(b.to_host(Gd)), Bs = to_eigen(b.to_host(Bd));
  Gs.noalias() -= p.total * p.m.transpose() * p.m;
  Bs.noalias() -= p.total * p.m.transpose() * p.my;
  G = p.c.asDiagonal() * Gs * p.c.asDiagonal();
  B = p.c.asDiagonal() * Bs;
}

// Ridge's iterative solvers on the operator, one target at a time (scikit-learn solves each
// column separately too and reports n_iter_ per target). W: d × t.
Eigen::MatrixXd solve_iteratively(Backend& b, const CentredProblem& p, const CsrMatrix* sparse,
                                  const std::string& solver, double alpha, double tol,
                                  std::int64_t max_iter, std::vector<std::int64_t>& n_iter) {
  const std::int64_t n = p.Yc.rows(), t = p.Yc.cols();
  Tensor r = p.sqrt_w;
  if (r.numel() == 0) {
    r = b.empty(n, 1);
    b.fill(r, 1.0f);
  }
  const LeastSquaresOperator A(b, sparse ? nullptr : &p.M, sparse, r, p.row_scale, p.m.transpose(),
                               p.c);
  Eigen::MatrixXd W(A.cols(), t);
  n_iter.assign(static_cast<std::size_t>(t), 0);
  for (std::int64_t j = 0; j < t; ++j) {
    // ỹ_j = Yc·e_j − r·my_j: column j picked by a gemv with the unit vector (no host copy).
    Tensor yj = b.empty(n, 1);
    if (t == 1) {
      b.axpby(1.0f, p.Yc, 0.0f, yj);
    } else {
      Eigen::VectorXd e = Eigen::VectorXd::Zero(t);
      e(j) = 1.0;
      b.gemv(Trans::no, 1.0f, p.Yc, b.to_device(from_eigen(e)), 0.0f, yj);
    }
    if (p.my(j) != 0.0) b.axpby(static_cast<float>(-p.my(j)), r, 1.0f, yj);
    std::int64_t iters = 0;
    if (solver == "sparse_cg") {
      W.col(j) = conjugate_gradient(A, A.apply_transposed(yj), alpha, tol, max_iter, iters);
    } else {
      W.col(j) = lsqr(A, yj, alpha, tol, max_iter, iters);
    }
    n_iter[static_cast<std::size_t>(j)] = iters;
  }
  return W;
}

bool is_iterative(const std::string& solver) { return solver == "sparse_cg" || solver == "lsqr"; }

}  // namespace

void detail::LeastSquaresModel::fit_least_squares(const Tensor& X, const Tensor& y,
                                                  const Tensor& sample_weight,
                                                  const Problem& problem) {
  ProfileScope scope = begin_call();
  check_samples(X, name());
  const bool fit_intercept = problem.fit_intercept;
  const std::int64_t n = X.rows(), d = X.cols();
  const Tensor Y = targets_as_matrix(y, n, name());
  const std::int64_t t = Y.cols();
  const SampleWeights sw = check_sample_weight(sample_weight, n, name());
  Backend& b = *backend();

  Tensor Xd = b.to_device(X);  // n × d
  Tensor Yd = b.to_device(Y);  // n × t
  const ColumnStats stats = column_stats(b, X, Xd, name());
  // Raw X only without weights (those need a scaled copy anyway) and with alike columns.
  const InputTransform input = choose_input_transform(stats, fit_intercept, /*always=*/sw.weighted);

  CentredProblem p;
  p.m = Eigen::RowVectorXd::Zero(d);
  p.my = Eigen::RowVectorXd::Zero(t);
  p.x_shift = Eigen::RowVectorXd::Zero(d);
  p.y_shift = Eigen::RowVectorXd::Zero(t);
  p.c = Eigen::VectorXd::Ones(d);
  p.total = sw.weighted ? sw.sum : double(n);
  Tensor y_mean = b.empty(1, t);
  if (input.raw) {
    // M = X, Yc = Y as they are; the centring is left to the solver (m = x̄, my = ȳ): on the
    // host for G (XcᵀXc = XᵀX − n·x̄ᵀx̄), implicit in the iterative solvers' products.
    p.M = Xd;
    p.Yc = Yd;
    if (fit_intercept) {
      b.reduce_cols(Reduce::mean, Yd, y_mean);
      p.m = to_eigen(stats.mean);
      p.my = to_eigen(b.to_host(y_mean));
    }
  } else {
    // Xs = (X − x̄) ⊙ s per column, s = 1/sd (weighted mean x̄ with weights), then √w per row:
    // XsᵀXs = Σ wᵢ (xᵢ − x̄)(xᵢ − x̄)ᵀ scaled by s on both sides.
    Tensor shift = Tensor(1, d), w_dev;
    if (sw.weighted) {
      w_dev = b.to_device(sw.w);
      p.sqrt_w = b.empty(n, 1);
      b.map(MapFn::sqrt, w_dev, p.sqrt_w);
    }
    if (fit_intercept) {
      if (sw.weighted) {
        const float inv_sum = static_cast<float>(1.0 / sw.sum);
        Tensor x_mean = b.empty(1, d);
        b.gemm(Trans::yes, Trans::no, inv_sum, w_dev, Xd, 0.0f, x_mean);  // wᵀX / Σw
        b.gemm(Trans::yes, Trans::no, inv_sum, w_dev, Yd, 0.0f, y_mean);
        shift = b.to_host(x_mean).clone();
      } else {
        b.reduce_cols(Reduce::mean, Yd, y_mean);
        shift = stats.mean;
      }
      p.x_shift = to_eigen(shift);
      p.y_shift = to_eigen(b.to_host(y_mean));
    }
    const InputTransform centred{false, shift, input.scale};
    p.M = apply_input_transform(b, Xd, centred);
    p.Yc = Yd;
    if (fit_intercept || sw.weighted) {
      p.Yc = b.empty(n, t);
      b.axpby(1.0f, Yd, 0.0f, p.Yc);
      if (fit_intercept) b.add_row_vector(-1.0f, b.to_device(from_eigen(p.y_shift)), p.Yc);
    }
    // The centres came from a reduction that may be inexact (int8 on the systolic array: its
    // error is ~1% of the largest |x|, which for offset data can exceed the spread). Measure
    // the means that are left, m (1 × d) and my (1 × t) — small numbers now, so accurately —
    // and leave them to the solver: Σ w (x − m)(x − m)ᵀ = Σ w x xᵀ − Σw·m mᵀ.
    if (fit_intercept) {
      Tensor rx = b.empty(1, d), ry = b.empty(1, t);
      if (sw.weighted) {
        const float inv_sum = static_cast<float>(1.0 / sw.sum);
        b.gemm(Trans::yes, Trans::no, inv_sum, w_dev, p.M, 0.0f, rx);
        b.gemm(Trans::yes, Trans::no, inv_sum, w_dev, p.Yc, 0.0f, ry);
      } else {
        b.reduce_cols(Reduce::mean, p.M, rx);
        b.reduce_cols(Reduce::mean, p.Yc, ry);
      }
      p.m = to_eigen(b.to_host(rx));
      p.my = to_eigen(b.to_host(ry));
    }
    if (sw.weighted) {
      b.scale_rows(p.sqrt_w, p.M);
      b.scale_rows(p.sqrt_w, p.Yc);
    }
    // Back to the units of X: Xc = Xs·S⁻¹.
    p.c = to_eigen(input.scale).transpose().cwiseInverse();
  }

  if (is_iterative(problem.solver)) {
    const Eigen::MatrixXd W = solve_iteratively(b, p, nullptr, problem.solver, problem.alpha,
                                                problem.tol, problem.max_iter, n_iter_);
    store(W, p.x_centre(), p.y_centre());
    rank_ = 0;
    singular_ = Tensor(1, d);  // not computed: the iterative solvers never form G
  } else {
    Eigen::MatrixXd G, B;
    dense_gram(b, p, G, B);
    solve_and_store(G, B, p.x_centre(), p.y_centre(), problem);
  }
  // predict uses the transform the fit chose (a weighted fit's scaled copy was for the weights:
  // predict can use raw X when the columns are alike).
  const InputTransform predict_input = choose_input_transform(stats, fit_intercept);
  raw_input_ = predict_input.raw;
  input_shift_ = predict_input.shift;
  input_scale_ = predict_input.scale;
  fitted_ = true;
}

// The d × d solve on the host, from the centred G (d × d), B (d × t) and the centres x̄, ȳ.
template <class Matrix, class Row>
void detail::LeastSquaresModel::solve_and_store(const Matrix& G, const Matrix& B, const Row& xm,
                                                const Row& ym, const Problem& problem) {
  n_iter_.clear();
  converged_ = true;
  const double alpha = problem.alpha;
  if (problem.solver == "projected_cd") {
    constexpr std::int64_t kDefaultSweeps = 15000;  // scikit-learn's lbfgs max_iter
    const std::int64_t sweeps =
        problem.max_iter == kSolverDefaultIter ? kDefaultSweeps : problem.max_iter;
    const NonnegativeSolution sol =
        solve_by_coordinate_descent(G, B, alpha, problem.positive, problem.tol, sweeps);
    rank_ = 0;
    n_iter_ = sol.sweeps;
    converged_ = sol.converged;
    store(sol.W, xm, ym);
  } else if (problem.solver == "svd") {
    const NormalEquationsSolution sol = solve_by_eigen(G, B, alpha);
    rank_ = sol.rank;
    store(sol.W, xm, ym);
  } else {
    const NormalEquationsSolution sol = solve_normal_equations(G, B, alpha);
    rank_ = sol.rank;
    store(sol.W, xm, ym);
  }
  singular_ = from_eigen(singular_values_from_gram(G).transpose());
}

template <class Matrix, class Row>
void detail::LeastSquaresModel::store(const Matrix& W_dt, const Row& xm, const Row& ym) {
  const Eigen::MatrixXd W = W_dt.transpose();  // t × d
  // b = ȳ − x̄·wᵀ (1 × t); zero without an intercept.
  const Eigen::RowVectorXd intercept = ym - xm * W.transpose();
  coef_ = from_eigen(W);
  intercept_ = from_eigen(intercept);
}

void detail::LeastSquaresModel::fit_least_squares(const CsrMatrix& X, const Tensor& y,
                                                  const Tensor& sample_weight,
                                                  const Problem& problem) {
  // Sparse X is not centred (that would fill in its zeros): the raw products XᵀWX and XᵀWY come
  // from spmm, and the centring is done on their d × d and d × t results on the host,
  //   XcᵀWXc = XᵀWX − Σw·x̄ᵀx̄,   XcᵀWYc = XᵀWY − Σw·x̄ᵀȳ,   x̄ = wᵀX / Σw (one more spmm),
  // as scikit-learn's sparse least squares centre implicitly. In f32 the raw Gram loses the
  // digits that cancel when |mean| ≫ spread; sparse data (counts, indicators) rarely has that.
  // The iterative solvers centre the same way inside each product (ridge_iterative.hpp).
  ProfileScope scope = begin_call();
  check_sparse_samples(X, name());
  const bool fit_intercept = problem.fit_intercept;
  const std::int64_t n = X.rows, d = X.cols;
  const Tensor Y = targets_as_matrix(y, n, name());
  const std::int64_t t = Y.cols();
  const SampleWeights sw = check_sample_weight(sample_weight, n, name());
  Backend& b = *backend();
  const CsrMatrix Xd = csr_on_device(b, X);
  const Tensor Yd = b.to_device(Y);
  const Tensor wd = sw.weighted ? b.to_device(sw.w) : Tensor();
  Eigen::RowVectorXd xm = Eigen::RowVectorXd::Zero(d), ym = Eigen::RowVectorXd::Zero(t);
  if (fit_intercept) {
    Tensor w = wd;
    if (!sw.weighted) {
      w = b.empty(n, 1);
      b.fill(w, 1.0f);
    }
    const double total = sw.weighted ? sw.sum : double(n);
    Tensor xs = b.empty(d, 1), ys = b.empty(1, t);
    b.spmm(Trans::yes, 1.0f, Xd, w, 0.0f, xs);             // Xᵀw (d × 1)
    b.gemm(Trans::yes, Trans::no, 1.0f, w, Yd, 0.0f, ys);  // wᵀY (1 × t)
    xm = to_eigen(b.to_host(xs)).transpose() / total;
    ym = to_eigen(b.to_host(ys)) / total;
  }
  if (is_iterative(problem.solver)) {
    // A = R·X − r·x̄ᵀ, Ỹ = R·Y − r·ȳᵀ (R = diag(√w)).
    CentredProblem p;
    p.Yc = b.empty(n, t);
    b.axpby(1.0f, Yd, 0.0f, p.Yc);
    if (sw.weighted) {
      p.sqrt_w = b.empty(n, 1);
      b.map(MapFn::sqrt, wd, p.sqrt_w);
      p.row_scale = p.sqrt_w;
      b.scale_rows(p.sqrt_w, p.Yc);
    }
    p.m = xm;
    p.my = ym;
    p.c = Eigen::VectorXd::Ones(d);
    p.x_shift = Eigen::RowVectorXd::Zero(d);
    p.y_shift = Eigen::RowVectorXd::Zero(t);
    p.total = sw.weighted ? sw.sum : double(n);
    const Eigen::MatrixXd W = solve_iteratively(b, p, &Xd, problem.solver, problem.alpha,
                                                problem.tol, problem.max_iter, n_iter_);
    store(W, p.x_centre(), p.y_centre());
    rank_ = 0;
    singular_ = Tensor(1, d);
  } else {
    Tensor Yw = Yd;  // w ⊙ Y (n × t)
    if (sw.weighted) {
      Yw = b.empty(n, t);
      b.axpby(1.0f, Yd, 0.0f, Yw);
      b.scale_rows(wd, Yw);
    }
    Eigen::MatrixXd G = to_eigen(sparse_gram(b, X, Xd, sw.weighted ? sw.w : Tensor()));  // nnz·d
    Tensor Bd = b.empty(d, t);
    b.spmm(Trans::yes, 1.0f, Xd, Yw, 0.0f, Bd);  // XᵀWY: nnz·t MACs
    Eigen::MatrixXd B = to_eigen(b.to_host(Bd));
    const double total = sw.weighted ? sw.sum : double(n);
    G.noalias() -= total * xm.transpose() * xm;
    B.noalias() -= total * xm.transpose() * ym;
    solve_and_store(G, B, xm, ym, problem);
  }
  raw_input_ = true;  // sparse X is predicted as it is
  input_shift_ = Tensor();
  input_scale_ = Tensor();
  fitted_ = true;
}

Tensor detail::LeastSquaresModel::predict(const CsrMatrix& X) const {
  ProfileScope scope = begin_call();
  require_fitted();
  check_sparse_samples(X, name());
  check_sparse_n_features(X, coef_.cols(), name());
  Backend& b = *backend();
  return b.to_host(sparse_affine_scores(b, csr_on_device(b, X), coef_, intercept_));
}

Tensor detail::LeastSquaresModel::predict(const Tensor& X) const {
  ProfileScope scope = begin_call();
  require_fitted();
  check_samples(X, name());
  check_n_features(X, coef_.cols(), name());
  Backend& b = *backend();
  const InputTransform input{raw_input_, input_shift_, input_scale_};
  const Tensor Xt = apply_input_transform(b, b.to_device(X), input);
  return b.to_host(affine_scores(b, Xt, coef_, intercept_, input));  // X·wᵀ + b, n × t
}

void detail::LeastSquaresModel::visit_fitted(Archive& a) {
  if (!a.fitted(fitted_)) return;
  a(coef_, intercept_);
  const std::int64_t t = coef_.rows(), d = coef_.cols();
  visit_input_transform(a, raw_input_, input_shift_, input_scale_, d);
  a(rank_, singular_);
  if (a.loading()) {
    MLCORE_CHECK(coef_.dtype() == DType::f32 && intercept_.rows() == 1 && intercept_.cols() == t &&
                     singular_.cols() == d,
                 name() << ": the saved model's arrays have inconsistent shapes");
  }
}

// ---- LinearRegression --------------------------------------------------------------------------

LinearRegression::LinearRegression(Options options, BackendPtr backend)
    : LeastSquaresModel(std::move(backend), "LinearRegression", /*model_version=*/2),
      options_(options) {}  // version 2 added positive

detail::LeastSquaresModel::Problem LinearRegression::problem() const {
  Problem p;
  p.alpha = 0.0;
  p.fit_intercept = options_.fit_intercept;
  if (options_.positive) {
    // scikit-learn's nnls solves to its own precision: ask for a tight projected gradient.
    p.solver = "projected_cd";
    p.positive = true;
    p.tol = 1e-10;
  }
  return p;
}

LinearRegression& LinearRegression::fit(const Tensor& X, const Tensor& y,
                                        const Tensor& sample_weight) {
  fit_least_squares(X, y, sample_weight, problem());
  return *this;
}
LinearRegression& LinearRegression::fit(const CsrMatrix& X, const Tensor& y,
                                        const Tensor& sample_weight) {
  fit_least_squares(X, y, sample_weight, problem());
  return *this;
}

std::int64_t LinearRegression::rank() const {
  require_fitted();
  return rank_;
}

const Tensor& LinearRegression::singular() const {
  require_fitted();
  return singular_;
}

void LinearRegression::visit(Archive& a) {
  a(options_.fit_intercept);
  if (a.version() >= 2) a(options_.positive);
  visit_fitted(a);
}

// ---- Ridge
// ----------------------------------------------------------------------------------------

// Model version 2 added the solver options and n_iter.
Ridge::Ridge(Options options, BackendPtr backend)
    : LeastSquaresModel(std::move(backend), "Ridge", /*model_version=*/2), options_(options) {
  check_options();
}

void Ridge::check_options() const {
  MLCORE_CHECK(std::isfinite(options_.alpha) && options_.alpha >= 0.0,
               "Ridge: alpha must be a finite number >= 0, got " << options_.alpha);
  const std::string& s = options_.solver;
  MLCORE_CHECK(
      s == "cholesky" || s == "svd" || s == "sparse_cg" || s == "lsqr" || s == "projected_cd",
      "Ridge: solver must be 'cholesky', 'svd', 'sparse_cg', 'lsqr' or 'projected_cd', "
      "got '"
          << s << "'");
  MLCORE_CHECK(!options_.positive || s == "projected_cd",
               "Ridge: positive=true needs solver 'projected_cd' (the one with sign "
               "constraints), got '"
                   << s << "'");
  MLCORE_CHECK(std::isfinite(options_.tol) && options_.tol >= 0.0,
               "Ridge: tol must be a finite number >= 0, got " << options_.tol);
  MLCORE_CHECK(
      options_.max_iter >= 0,
      "Ridge: max_iter must be >= 1 (or 0 for the solver's default), got " << options_.max_iter);
}

detail::LeastSquaresModel::Problem Ridge::problem() const {
  Problem p;
  p.alpha = options_.alpha;
  p.fit_intercept = options_.fit_intercept;
  p.solver = options_.solver;
  p.tol = options_.tol;
  p.max_iter = options_.max_iter;
  p.positive = options_.positive;
  return p;
}

bool Ridge::converged() const {
  require_fitted();
  return converged_;
}

const std::vector<std::int64_t>& Ridge::n_iter() const {
  require_fitted();
  return n_iter_;
}

Ridge& Ridge::fit(const Tensor& X, const Tensor& y, const Tensor& sample_weight) {
  fit_least_squares(X, y, sample_weight, problem());
  return *this;
}
Ridge& Ridge::fit(const CsrMatrix& X, const Tensor& y, const Tensor& sample_weight) {
  fit_least_squares(X, y, sample_weight, problem());
  return *this;
}

void Ridge::visit(Archive& a) {
  a(options_.alpha, options_.fit_intercept);
  if (a.version() >= 2) a(options_.solver, options_.tol, options_.max_iter, options_.positive);
  visit_fitted(a);
  if (fitted_ && a.version() >= 2) a(n_iter_, converged_);
  if (a.loading()) check_options();
}

std::vector<std::pair<std::string, Tensor*>> detail::LeastSquaresModel::fitted_arrays() {
  if (!fitted_) return {};
  return {{"coef", &coef_}, {"intercept", &intercept_}};
}

}  // namespace mlcore
