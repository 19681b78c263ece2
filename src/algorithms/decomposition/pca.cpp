// PCA: covariance GEMM on the backend, symmetric eigensolver on the host. The plan is in
// include/mlcore/algorithms/decomposition/pca.hpp.
#include "mlcore/algorithms/decomposition/pca.hpp"

#include <algorithm>
#include <cmath>
#include <istream>
#include <ostream>

#include "algorithms/common/columns.hpp"
#include "algorithms/common/host_math.hpp"
#include "algorithms/common/sparse_input.hpp"
#include "algorithms/common/validate.hpp"
#include "algorithms/decomposition/pca_rank.hpp"
#include "mlcore/serialize.hpp"

namespace mlcore {

namespace {

constexpr const char* kName = "PCA";
// Whitening divides by √λ; scikit-learn clips that scale at the machine epsilon of the data's
// type so a zero-variance direction does not divide by 0. Ours is f32.
constexpr double kMinWhitenScale = 1.1920928955078125e-07;

}  // namespace

PCA::PCA(Options options, BackendPtr backend)
    : Estimator(kName, /*model_version=*/1, std::move(backend)), options_(options) {
  const Options& o = options_;
  MLCORE_CHECK(
      o.n_components == kAllComponents || o.n_components == kMleComponents || o.n_components >= 1,
      kName << ": n_components must be >= 1 (or " << kAllComponents << " for all, "
            << kMleComponents << " for Minka's MLE), got " << o.n_components);
  MLCORE_CHECK(
      o.variance_fraction == 0.0 || (o.variance_fraction > 0.0 && o.variance_fraction < 1.0),
      kName << ": variance_fraction must be in (0, 1) (or 0 to use n_components), got "
            << o.variance_fraction);
  MLCORE_CHECK(!(o.variance_fraction > 0.0 && o.n_components != kAllComponents),
               kName << ": give either n_components or variance_fraction, not both");
}

void PCA::check_shape_for_options(std::int64_t n, std::int64_t d) const {
  const std::int64_t r = std::min(n, d);  // the rank bound: at most min(n, d) components
  MLCORE_CHECK(n >= 2, kName << " needs at least 2 samples to estimate a variance, got " << n);
  MLCORE_CHECK(options_.n_components <= r,
               kName << ": n_components=" << options_.n_components
                     << " must be between 1 and min(n_samples, n_features)=" << r);
  // Minka's model of d − k noise directions needs at least as many samples as features (the
  // eigenvalues beyond n − 1 are 0), scikit-learn's rule and words.
  MLCORE_CHECK(options_.n_components != kMleComponents || n >= d,
               kName << ": n_components='mle' is only supported if n_samples >= n_features (got "
                     << n << " samples, " << d << " features)");
}

void PCA::fit_impl(const Tensor& X) {
  detail::check_samples(X, kName);
  const std::int64_t n = X.rows(), d = X.cols();
  check_shape_for_options(n, d);
  Backend& b = *backend();

  // ---- backend: the column means and G = XᵀX, on X as it is ------------------------------------
  Tensor Xd = b.to_device(X);
  Tensor mean_dev = b.empty(1, d);
  b.reduce_cols(Reduce::mean, Xd, mean_dev);
  Tensor G = b.empty(d, d);
  b.gemm(Trans::yes, Trans::no, 1.0f, Xd, Xd, 0.0f, G);  // n·d² MACs: the fit's cost
  Eigen::MatrixXd Ch = detail::to_eigen(b.to_host(G));
  const double inv_n1 = 1.0 / double(n - 1);
  // G's diagonal gives the variances in one pass, Σx²/n − x̄², without a pass of reduce_cols:
  // accurate when the offsets are small (|x̄| ≤ sd: at most a factor 2 cancels), and only then
  // used. Their f32 rounding is ~1e-7·x̄², so a feature with |x̄| ≫ sd never passes the test.
  detail::ColumnStats stats;
  stats.mean = b.to_host(mean_dev).clone();
  stats.var = Tensor(1, d);
  bool small_offsets = true;
  for (std::int64_t j = 0; j < d; ++j) {
    const double m = stats.mean.at<float>(0, j);
    const double v = std::max(Ch(j, j) / double(n) - m * m, 0.0);
    if (!std::isfinite(v)) detail::throw_too_large(X, kName, "XᵀX");
    stats.var.at<float>(0, j) = static_cast<float>(v);
    if (std::fabs(m) > detail::kOffsetRatio * std::sqrt(v)) small_offsets = false;
  }
  detail::InputTransform input;
  Tensor mean = stats.mean;  // 1 × d, refined below on the scaled path
  if (!small_offsets) {
    // Large offsets: XᵀX − n·x̄ᵀx̄ would cancel most of G's digits. Measure the variances in
    // two passes and decide again (the one-pass ones were not to be trusted here).
    stats = detail::column_stats(b, X, Xd, kName);
    input = detail::choose_input_transform(stats, /*centred=*/true);
    small_offsets = input.raw;
  } else {
    // The covariance comes from G; the transform (for transform / fit_transform) still scales
    // the columns when their spreads differ widely (columns.hpp).
    input = detail::choose_input_transform(stats, /*centred=*/true);
  }
  if (small_offsets) {
    // XcᵀXc = XᵀX − n·x̄ᵀx̄ (the offsets are small: see the header).
    const Eigen::RowVectorXd xm = detail::to_eigen(stats.mean);
    Ch.noalias() -= double(n) * xm.transpose() * xm;
    Ch *= inv_n1;
  } else {
    // Centred and scaled, Xs = (X − x̄)/sd, and its Gram matrix. The shift came from a
    // reduction, which rounds relative to the largest |x| (more than the spread for offset
    // data), so measure the mean left in Xs — a small number now, so accurately — and remove it
    // on the host, XsᵀXs − n·m mᵀm: the corrected two-pass formula. Then Xc = Xs·D,
    // D = diag(sd) ⇒ XcᵀXc = D·(that)·D.
    const Tensor Xs = detail::apply_input_transform(b, Xd, input);
    b.gemm(Trans::yes, Trans::no, 1.0f, Xs, Xs, 0.0f, G);
    Ch = detail::to_eigen(b.to_host(G));
    Tensor rest = b.empty(1, d);
    b.reduce_cols(Reduce::mean, Xs, rest);
    const Eigen::RowVectorXd m = detail::to_eigen(b.to_host(rest));
    Ch.noalias() -= double(n) * m.transpose() * m;
    const Eigen::VectorXd sd = detail::to_eigen(input.scale).transpose().cwiseInverse();
    Ch = inv_n1 * (sd.asDiagonal() * Ch * sd.asDiagonal());
    mean = detail::from_eigen(detail::to_eigen(stats.mean) + m.cwiseProduct(sd.transpose()));
  }

  finish_fit(Ch, mean, input, n);
}

void PCA::fit_impl(const CsrMatrix& X) {
  // Sparse X is not centred (centring fills in its zeros): the covariance comes from the raw
  // Gram XᵀX (spmm against dense column blocks of X, nnz·d MACs) and the means x̄ = Xᵀ1/n (one
  // more spmm), C = (XᵀX − n·x̄ᵀx̄)/(n − 1) on the host — scikit-learn's covariance_eigh on
  // sparse input. The f32 Gram loses the digits that cancel when |x̄| ≫ sd.
  detail::check_sparse_samples(X, kName);
  const std::int64_t n = X.rows, d = X.cols;
  check_shape_for_options(n, d);
  Backend& b = *backend();
  const CsrMatrix Xd = detail::csr_on_device(b, X);
  Eigen::MatrixXd Ch = detail::to_eigen(detail::sparse_gram(b, X, Xd, Tensor()));
  Tensor ones(n, 1);
  std::fill_n(ones.data<float>(), n, 1.0f);
  Tensor sums = b.empty(d, 1);
  b.spmm(Trans::yes, 1.0f / float(n), Xd, b.to_device(ones), 0.0f, sums);  // x̄ (d × 1)
  const Eigen::RowVectorXd xm = detail::to_eigen(b.to_host(sums)).transpose();
  Ch.noalias() -= double(n) * xm.transpose() * xm;
  Ch *= 1.0 / double(n - 1);
  finish_fit(Ch, detail::from_eigen(xm), detail::InputTransform{}, n);
}

template <class Covariance, class Transform>
void PCA::finish_fit(const Covariance& Ch, const Tensor& mean, const Transform& input,
                     std::int64_t n) {
  const std::int64_t d = Ch.rows(), r = std::min(n, d);
  // ---- host: eigen-decomposition, descending, negative rounding clipped to 0
  // ---------------------
  detail::SymmetricEigen eig = detail::symmetric_eigen_descending(Ch);
  Eigen::VectorXd ev = eig.values.cwiseMax(0.0);
  const double total_var = ev.sum();
  const Eigen::VectorXd ratio =
      total_var > 0.0 ? Eigen::VectorXd(ev / total_var) : Eigen::VectorXd::Zero(d);

  // ---- how many to keep (pca_rank.hpp) ---------------------------------------------------------
  const std::int64_t k =
      detail::components_to_keep(ev, n, options_.n_components, options_.variance_fraction);

  // ---- attributes, with the sign of each component fixed
  // ------------------------------------------
  components_ = Tensor(k, d);
  explained_variance_ = Tensor(1, k);
  explained_variance_ratio_ = Tensor(1, k);
  singular_values_ = Tensor(1, k);
  for (std::int64_t c = 0; c < k; ++c) {
    Eigen::VectorXd v = eig.vectors.col(c);
    Eigen::Index big = 0;
    v.cwiseAbs().maxCoeff(&big);  // the first entry of largest |v|, as numpy's argmax
    if (v(big) < 0.0) v = -v;
    for (std::int64_t j = 0; j < d; ++j) components_.at<float>(c, j) = static_cast<float>(v(j));
    explained_variance_.at<float>(0, c) = static_cast<float>(ev(c));
    explained_variance_ratio_.at<float>(0, c) = static_cast<float>(ratio(c));
    singular_values_.at<float>(0, c) = static_cast<float>(std::sqrt(ev(c) * double(n - 1)));
  }
  noise_variance_ = k < r ? ev.segment(k, r - k).mean() : 0.0;
  mean_ = mean;
  raw_input_ = input.raw;
  input_shift_ = input.shift;
  input_scale_ = input.scale;
  n_samples_ = n;
  fitted_ = true;
}

PCA& PCA::fit(const Tensor& X) {
  ProfileScope scope = begin_call();
  fit_impl(X);
  return *this;
}
PCA& PCA::fit(const CsrMatrix& X) {
  ProfileScope scope = begin_call();
  fit_impl(X);
  return *this;
}
Tensor PCA::fit_transform(const CsrMatrix& X) {
  ProfileScope scope = begin_call();
  fit_impl(X);
  Backend& b = *backend();
  return b.to_host(project_sparse(detail::csr_on_device(b, X)));
}
Tensor PCA::transform(const CsrMatrix& X) const {
  ProfileScope scope = begin_call();
  require_fitted();
  detail::check_sparse_samples(X, kName);
  detail::check_sparse_n_features(X, components_.cols(), kName);
  Backend& b = *backend();
  return b.to_host(project_sparse(detail::csr_on_device(b, X)));
}

Tensor PCA::fit_transform(const Tensor& X) {
  ProfileScope scope = begin_call();
  fit_impl(X);
  Backend& b = *backend();
  const detail::InputTransform input{raw_input_, input_shift_, input_scale_};
  return b.to_host(project(detail::apply_input_transform(b, b.to_device(X), input)));
}

Tensor PCA::project(const Tensor& Xt) const {
  const auto [W, bias] = projection();
  const detail::InputTransform input{raw_input_, input_shift_, input_scale_};
  return detail::affine_scores(*backend(), Xt, W, bias, input);
}

Tensor PCA::project_sparse(const CsrMatrix& Xd) const {
  const auto [W, bias] = projection();
  return detail::sparse_affine_scores(*backend(), Xd, W, bias);
}

std::pair<Tensor, Tensor> PCA::projection() const {
  const std::int64_t k = components_.rows(), d = components_.cols();
  Tensor W = components_;  // k × d
  if (options_.whiten) {
    W = components_.clone();
    for (std::int64_t c = 0; c < k; ++c) {
      const double scale =
          std::max(std::sqrt(double(explained_variance_.at<float>(0, c))), kMinWhitenScale);
      for (std::int64_t j = 0; j < d; ++j) {
        W.at<float>(c, j) = static_cast<float>(W.at<float>(c, j) / scale);
      }
    }
  }
  // (X − x̄)·Wᵀ = X·Wᵀ + bias with bias = −x̄·Wᵀ (affine_scores folds in the column scaling).
  Tensor bias(1, k);
  for (std::int64_t c = 0; c < k; ++c) {
    double s = 0.0;
    for (std::int64_t j = 0; j < d; ++j) s -= double(mean_.at<float>(0, j)) * W.at<float>(c, j);
    bias.at<float>(0, c) = static_cast<float>(s);
  }
  return {W, bias};
}

Tensor PCA::transform(const Tensor& X) const {
  ProfileScope scope = begin_call();
  require_fitted();
  detail::check_samples(X, kName);
  detail::check_n_features(X, components_.cols(), kName);
  Backend& b = *backend();
  const detail::InputTransform input{raw_input_, input_shift_, input_scale_};
  return b.to_host(project(detail::apply_input_transform(b, b.to_device(X), input)));
}

Tensor PCA::inverse_transform(const Tensor& Z) const {
  ProfileScope scope = begin_call();
  require_fitted();
  detail::check_samples(Z, kName, "Z");
  const std::int64_t k = components_.rows(), d = components_.cols();
  MLCORE_CHECK(Z.cols() == k, kName << ": Z has " << Z.cols() << " columns, but the model has " << k
                                    << " components");
  Backend& b = *backend();
  Tensor W = components_;  // k × d
  if (options_.whiten) {
    W = components_.clone();
    for (std::int64_t c = 0; c < k; ++c) {
      const double scale = std::sqrt(double(explained_variance_.at<float>(0, c)));
      for (std::int64_t j = 0; j < d; ++j)
        W.at<float>(c, j) = static_cast<float>(W.at<float>(c, j) * scale);
    }
  }
  Tensor Xr = b.empty(Z.rows(), d);
  b.gemm(Trans::no, Trans::no, 1.0f, b.to_device(Z), b.to_device(W), 0.0f, Xr);  // (n × k)(k × d)
  b.add_row_vector(1.0f, b.to_device(mean_), Xr);
  return b.to_host(Xr);
}

const Tensor& PCA::components() const {
  require_fitted();
  return components_;
}
const Tensor& PCA::explained_variance() const {
  require_fitted();
  return explained_variance_;
}
const Tensor& PCA::explained_variance_ratio() const {
  require_fitted();
  return explained_variance_ratio_;
}
const Tensor& PCA::singular_values() const {
  require_fitted();
  return singular_values_;
}
const Tensor& PCA::mean() const {
  require_fitted();
  return mean_;
}
std::int64_t PCA::n_components() const {
  require_fitted();
  return components_.rows();
}
std::int64_t PCA::n_features_in() const {
  require_fitted();
  return components_.cols();
}
std::int64_t PCA::n_samples() const {
  require_fitted();
  return n_samples_;
}
double PCA::noise_variance() const {
  require_fitted();
  return noise_variance_;
}

void PCA::visit(Archive& a) {
  a(options_.n_components, options_.variance_fraction, options_.whiten);
  if (!a.fitted(fitted_)) return;
  a(components_, explained_variance_, explained_variance_ratio_, singular_values_, mean_,
    n_samples_, noise_variance_);
  const std::int64_t k = components_.rows(), d = components_.cols();
  detail::visit_input_transform(a, raw_input_, input_shift_, input_scale_, d);
  if (a.loading()) {
    MLCORE_CHECK(explained_variance_.cols() == k && explained_variance_ratio_.cols() == k &&
                     singular_values_.cols() == k && mean_.cols() == d,
                 kName << ": the saved model's arrays have inconsistent shapes");
  }
}

// project() and inverse_transform() read these at every call.
std::vector<std::pair<std::string, Tensor*>> PCA::fitted_arrays() {
  if (!fitted_) return {};
  return {
      {"components", &components_}, {"mean", &mean_}, {"explained_variance", &explained_variance_}};
}

}  // namespace mlcore
