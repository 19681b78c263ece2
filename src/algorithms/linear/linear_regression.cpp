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

void detail::LeastSquaresModel::fit_normal_equations(const Tensor& X, const Tensor& y,
                                                     const Tensor& sample_weight, double alpha,
                                                     bool fit_intercept) {
  ProfileScope scope = begin_call();
  check_samples(X, name());
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

  // G (d × d) and B (d × t) of the centred, weighted problem in the units of X, and the centres
  // x̄ (1 × d), ȳ (1 × t) (zero without an intercept).
  Eigen::MatrixXd G, B;
  Eigen::RowVectorXd xm = Eigen::RowVectorXd::Zero(d), ym = Eigen::RowVectorXd::Zero(t);
  Tensor Gd = b.empty(d, d), Bd = b.empty(d, t), y_mean = b.empty(1, t);
  if (input.raw) {
    // G = XᵀX, B = XᵀY straight from X; centring on the host: XcᵀXc = XᵀX − n·x̄ᵀx̄.
    b.gemm(Trans::yes, Trans::no, 1.0f, Xd, Xd, 0.0f, Gd);  // n·d² MACs: the fit's cost
    gram_rhs(b, Xd, Yd, Bd);                                // n·d·t MACs
    G = to_eigen(b.to_host(Gd));
    B = to_eigen(b.to_host(Bd));
    if (fit_intercept) {
      b.reduce_cols(Reduce::mean, Yd, y_mean);
      xm = to_eigen(stats.mean);
      ym = to_eigen(b.to_host(y_mean));
      G.noalias() -= double(n) * xm.transpose() * xm;
      B.noalias() -= double(n) * xm.transpose() * ym;
    }
  } else {
    // Xs = (X − x̄) ⊙ s per column, s = 1/sd (weighted mean x̄ with weights), then √w per row:
    // XsᵀXs = Σ wᵢ (xᵢ − x̄)(xᵢ − x̄)ᵀ scaled by s on both sides.
    Tensor shift = Tensor(1, d), w_dev, sqrt_w;
    if (sw.weighted) {
      w_dev = b.to_device(sw.w);
      sqrt_w = b.empty(n, 1);
      b.map(MapFn::sqrt, w_dev, sqrt_w);
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
      xm = to_eigen(shift);
      ym = to_eigen(b.to_host(y_mean));
    }
    const InputTransform centred{false, shift, input.scale};
    Tensor Xs = apply_input_transform(b, Xd, centred);
    Tensor Yc = Yd;
    if (fit_intercept || sw.weighted) {
      Yc = b.empty(n, t);
      b.axpby(1.0f, Yd, 0.0f, Yc);
      if (fit_intercept) b.add_row_vector(-1.0f, b.to_device(from_eigen(ym)), Yc);
    }
    // The centres came from a reduction that may be inexact (int8 on the systolic array: its
    // error is ~1% of the largest |x|, which for offset data can exceed the spread). Measure
    // the means that are left, mx (1 × d) and my (1 × t) — small numbers now, so accurately —
    // and remove them on the host: Σ w (x − m)(x − m)ᵀ = Σ w x xᵀ − Σw·m mᵀ.
    Eigen::RowVectorXd mx = Eigen::RowVectorXd::Zero(d), my = Eigen::RowVectorXd::Zero(t);
    if (fit_intercept) {
      Tensor rx = b.empty(1, d), ry = b.empty(1, t);
      if (sw.weighted) {
        const float inv_sum = static_cast<float>(1.0 / sw.sum);
        b.gemm(Trans::yes, Trans::no, inv_sum, w_dev, Xs, 0.0f, rx);
        b.gemm(Trans::yes, Trans::no, inv_sum, w_dev, Yc, 0.0f, ry);
      } else {
        b.reduce_cols(Reduce::mean, Xs, rx);
        b.reduce_cols(Reduce::mean, Yc, ry);
      }
      mx = to_eigen(b.to_host(rx));
      my = to_eigen(b.to_host(ry));
    }
    if (sw.weighted) {
      b.scale_rows(sqrt_w, Xs);
      b.scale_rows(sqrt_w, Yc);
    }
    b.gemm(Trans::yes, Trans::no, 1.0f, Xs, Xs, 0.0f, Gd);  // n·d² MACs: the fit's cost
    gram_rhs(b, Xs, Yc, Bd);
    Eigen::MatrixXd Gs = to_eigen(b.to_host(Gd)), Bs = to_eigen(b.to_host(Bd));
    Gs.noalias() -= sw.sum * mx.transpose() * mx;
    Bs.noalias() -= sw.sum * mx.transpose() * my;
    // Back to the units of X: Xc = Xs·S⁻¹ ⇒ G = S⁻¹·Gs·S⁻¹, B = S⁻¹·Bs; and the true centres
    // x̄ = shift + mx·S⁻¹, ȳ = shift_y + my.
    const Eigen::VectorXd inv_s = to_eigen(input.scale).transpose().cwiseInverse();
    G = inv_s.asDiagonal() * Gs * inv_s.asDiagonal();
    B = inv_s.asDiagonal() * Bs;
    xm += mx.cwiseProduct(inv_s.transpose());
    ym += my;
  }

  solve_and_store(G, B, xm, ym, alpha);
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
                                                const Row& ym, double alpha) {
  const NormalEquationsSolution sol = solve_normal_equations(G, B, alpha);
  const Eigen::MatrixXd W = sol.W.transpose();  // t × d
  rank_ = sol.rank;
  singular_ = from_eigen(singular_values_from_gram(G).transpose());
  // b = ȳ − x̄·wᵀ (1 × t); zero without an intercept.
  const Eigen::RowVectorXd intercept = ym - xm * W.transpose();
  coef_ = from_eigen(W);
  intercept_ = from_eigen(intercept);
}

void detail::LeastSquaresModel::fit_normal_equations(const CsrMatrix& X, const Tensor& y,
                                                     const Tensor& sample_weight, double alpha,
                                                     bool fit_intercept) {
  // Sparse X is not centred (that would fill in its zeros): the raw products XᵀWX and XᵀWY come
  // from spmm, and the centring is done on their d × d and d × t results on the host,
  //   XcᵀWXc = XᵀWX − Σw·x̄ᵀx̄,   XcᵀWYc = XᵀWY − Σw·x̄ᵀȳ,   x̄ = wᵀX / Σw (one more spmm),
  // as scikit-learn's sparse least squares centre implicitly. In f32 the raw Gram loses the
  // digits that cancel when |mean| ≫ spread; sparse data (counts, indicators) rarely has that.
  ProfileScope scope = begin_call();
  check_sparse_samples(X, name());
  const std::int64_t n = X.rows, d = X.cols;
  const Tensor Y = targets_as_matrix(y, n, name());
  const std::int64_t t = Y.cols();
  const SampleWeights sw = check_sample_weight(sample_weight, n, name());
  Backend& b = *backend();
  const CsrMatrix Xd = csr_on_device(b, X);
  Tensor Yw = Y;  // w ⊙ Y (n × t, host)
  if (sw.weighted) {
    Yw = Y.clone();
    for (std::int64_t i = 0; i < n; ++i) {
      for (std::int64_t r = 0; r < t; ++r) Yw.at<float>(i, r) *= sw.w.data<float>()[i];
    }
  }
  Eigen::MatrixXd G = to_eigen(sparse_gram(b, X, Xd, sw.weighted ? sw.w : Tensor()));  // nnz·d
  Tensor Bd = b.empty(d, t);
  b.spmm(Trans::yes, 1.0f, Xd, b.to_device(Yw), 0.0f, Bd);  // XᵀWY: nnz·t MACs
  Eigen::MatrixXd B = to_eigen(b.to_host(Bd));
  Eigen::RowVectorXd xm = Eigen::RowVectorXd::Zero(d), ym = Eigen::RowVectorXd::Zero(t);
  if (fit_intercept) {
    Tensor w = sw.weighted ? sw.w : Tensor(n, 1);
    if (!sw.weighted) std::fill_n(w.data<float>(), n, 1.0f);
    const double total = sw.weighted ? sw.sum : double(n);
    Tensor xs = b.empty(d, 1), ys = b.empty(1, t);
    const Tensor wd = b.to_device(w);
    b.spmm(Trans::yes, 1.0f, Xd, wd, 0.0f, xs);                         // Xᵀw (d × 1)
    b.gemm(Trans::yes, Trans::no, 1.0f, wd, b.to_device(Y), 0.0f, ys);  // wᵀY (1 × t)
    xm = to_eigen(b.to_host(xs)).transpose() / total;
    ym = to_eigen(b.to_host(ys)) / total;
    G.noalias() -= total * xm.transpose() * xm;
    B.noalias() -= total * xm.transpose() * ym;
  }
  solve_and_store(G, B, xm, ym, alpha);
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
    : LeastSquaresModel(std::move(backend), "LinearRegression"), options_(options) {}

LinearRegression& LinearRegression::fit(const Tensor& X, const Tensor& y,
                                        const Tensor& sample_weight) {
  fit_normal_equations(X, y, sample_weight, 0.0, options_.fit_intercept);
  return *this;
}
LinearRegression& LinearRegression::fit(const CsrMatrix& X, const Tensor& y,
                                        const Tensor& sample_weight) {
  fit_normal_equations(X, y, sample_weight, 0.0, options_.fit_intercept);
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
  visit_fitted(a);
}

// ---- Ridge
// ----------------------------------------------------------------------------------------

Ridge::Ridge(Options options, BackendPtr backend)
    : LeastSquaresModel(std::move(backend), "Ridge"), options_(options) {
  MLCORE_CHECK(std::isfinite(options_.alpha) && options_.alpha >= 0.0,
               "Ridge: alpha must be a finite number >= 0, got " << options_.alpha);
}

Ridge& Ridge::fit(const Tensor& X, const Tensor& y, const Tensor& sample_weight) {
  fit_normal_equations(X, y, sample_weight, options_.alpha, options_.fit_intercept);
  return *this;
}
Ridge& Ridge::fit(const CsrMatrix& X, const Tensor& y, const Tensor& sample_weight) {
  fit_normal_equations(X, y, sample_weight, options_.alpha, options_.fit_intercept);
  return *this;
}

void Ridge::visit(Archive& a) {
  a(options_.alpha, options_.fit_intercept);
  visit_fitted(a);
}

std::vector<std::pair<std::string, Tensor*>> detail::LeastSquaresModel::fitted_arrays() {
  if (!fitted_) return {};
  return {{"coef", &coef_}, {"intercept", &intercept_}};
}

}  // namespace mlcore
