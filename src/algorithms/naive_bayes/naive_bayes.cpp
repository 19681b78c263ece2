// GaussianNB and MultinomialNB: class statistics by scatter_add, scores by GEMM. The plan is in
// include/mlcore/algorithms/naive_bayes/naive_bayes.hpp.
#include "mlcore/algorithms/naive_bayes/naive_bayes.hpp"

#include <algorithm>
#include <cmath>
#include <istream>
#include <ostream>
#include <type_traits>

#include "algorithms/common/columns.hpp"
#include "algorithms/common/host_math.hpp"
#include "algorithms/common/sparse_input.hpp"
#include "algorithms/common/validate.hpp"
#include "mlcore/serialize.hpp"

namespace mlcore {

namespace {

constexpr double kTwoPi = 6.283185307179586;
// Model format: version 2 dropped GaussianNB's "hard pairs" tensor (version 1 files still load).
constexpr std::uint32_t kGaussianVersion = 2;

// The class code of every sample as an n × 1 i32 host tensor (the scatter / gather index).
Tensor code_column(const detail::LabelEncoding& enc) {
  Tensor t(static_cast<std::int64_t>(enc.code.size()), 1, DType::i32);
  std::copy(enc.code.begin(), enc.code.end(), t.data<std::int32_t>());
  return t;
}

// Per-class totals of the sample weights (counts without weights), 1 × K on the host, computed
// on the backend as scatter_add(code, w).
Tensor class_totals(Backend& b, const Tensor& code_dev, const detail::SampleWeights& sw,
                    std::int64_t n, std::int64_t K) {
  Tensor w = b.empty(n, 1);
  if (sw.weighted) {
    w = b.to_device(sw.w);
  } else {
    b.fill(w, 1.0f);
  }
  Tensor totals = b.empty(K, 1);
  b.scatter_add(code_dev, w, totals);
  return b.to_host(totals).clone().reshaped(1, K);
}

// Checks a user-given prior: one value per class, each ≥ 0, summing to 1 (within 1e-5, numpy's
// isclose, as scikit-learn).
void check_prior(const std::vector<double>& p, std::size_t K, const char* name, const char* what) {
  MLCORE_CHECK(p.size() == K, name << ": " << what << " has " << p.size() << " values but y has "
                                   << K << " classes");
  double sum = 0.0;
  for (double v : p) {
    MLCORE_CHECK(std::isfinite(v) && v >= 0.0,
                 name << ": " << what << " must be finite and >= 0, got " << v);
    sum += v;
  }
  MLCORE_CHECK(std::fabs(sum - 1.0) <= 1e-8 + 1e-5,
               name << ": " << what << " must sum to 1, got " << sum);
}

// The scores' hints for the gemm (backend.hpp, GemmHints): naive Bayes weights span orders of
// magnitude (GaussianNB's precisions; MultinomialNB's log-probabilities of rare features), and
// predict / predict_proba use only the differences between a sample's class scores, so the
// scores may come back moved by a constant per sample unless the exact jll is asked for.
GemmHints score_hints(bool wide_range, bool exact) {
  GemmHints h;
  h.wide_range_b = wide_range;
  h.rows_up_to_constant = !exact;
  return h;
}

Tensor row_tensor(const std::vector<double>& v) {
  Tensor t(1, static_cast<std::int64_t>(v.size()));
  for (std::size_t i = 0; i < v.size(); ++i) t.at<float>(0, i) = static_cast<float>(v[i]);
  return t;
}

// y as codes 0 … K − 1 (partial_fit's labels), each checked.
detail::LabelEncoding codes_of(const Tensor& y, std::int64_t K, const char* estimator) {
  MLCORE_CHECK(K >= 1, estimator << ": partial_fit's n_classes must be >= 1, got " << K);
  detail::LabelEncoding enc;
  enc.classes.resize(K);
  for (std::int64_t k = 0; k < K; ++k) enc.classes[k] = static_cast<double>(k);
  const float* v = y.data<float>();
  enc.code.resize(y.numel());
  for (std::int64_t i = 0; i < y.numel(); ++i) {
    MLCORE_CHECK(v[i] >= 0.0f && v[i] < static_cast<float>(K) && v[i] == std::floor(v[i]),
                 estimator << ": partial_fit's y holds class codes 0 … " << K - 1 << ", got y[" << i
                           << "] = " << v[i]);
    enc.code[i] = static_cast<std::int32_t>(v[i]);
  }
  return enc;
}

// A fit's checked targets: the sample weights and y's classes — y's own sorted labels (fit,
// n_classes = 0) or the class codes 0 … n_classes − 1 (partial_fit).
struct Targets {
  detail::SampleWeights sw;
  detail::LabelEncoding enc;
  std::int64_t K = 0;
};

Targets check_fit_targets(const Tensor& y, std::int64_t n, const Tensor& sample_weight,
                          std::int64_t n_classes, const char* estimator) {
  detail::check_targets(y, n, estimator);
  Targets t;
  t.sw = detail::check_sample_weight(sample_weight, n, estimator);
  t.enc = n_classes > 0 ? codes_of(y, n_classes, estimator)
                        : detail::encode_labels(y, estimator, 1);  // one class: P = 1
  t.K = static_cast<std::int64_t>(t.enc.classes.size());
  return t;
}

}  // namespace

// ---- the shared part ---------------------------------------------------------------------------

void detail::NaiveBayesBase::check_predict_input(const Tensor& X) const {
  require_fitted();
  check_samples(X, name());
  check_n_features(X, n_features_, name());
}

void detail::NaiveBayesBase::check_predict_input(const CsrMatrix& X) const {
  require_fitted();
  check_sparse_samples(X, name());
  check_sparse_n_features(X, n_features_, name());
}

Tensor detail::NaiveBayesBase::jll_sparse_on_device(const CsrMatrix&, bool) const {
  MLCORE_FAIL(name() << ": sparse X is not supported; pass a dense array (X.toarray())");
}

Tensor detail::NaiveBayesBase::predict_joint_log_proba(const Tensor& X) const {
  ProfileScope scope = begin_call();
  check_predict_input(X);
  return finish_prediction(jll_on_device(backend()->to_device(X), /*exact=*/true), Output::joint);
}
Tensor detail::NaiveBayesBase::predict_proba(const Tensor& X) const {
  ProfileScope scope = begin_call();
  check_predict_input(X);
  return finish_prediction(jll_on_device(backend()->to_device(X), false), Output::proba);
}
Tensor detail::NaiveBayesBase::predict_log_proba(const Tensor& X) const {
  ProfileScope scope = begin_call();
  check_predict_input(X);
  return finish_prediction(jll_on_device(backend()->to_device(X), false), Output::log_proba);
}
Tensor detail::NaiveBayesBase::predict(const Tensor& X) const {
  ProfileScope scope = begin_call();
  check_predict_input(X);
  return finish_prediction(jll_on_device(backend()->to_device(X), false), Output::labels);
}

Tensor detail::NaiveBayesBase::predict_joint_log_proba(const CsrMatrix& X) const {
  ProfileScope scope = begin_call();
  check_predict_input(X);
  return finish_prediction(jll_sparse_on_device(csr_on_device(*backend(), X), true), Output::joint);
}
Tensor detail::NaiveBayesBase::predict_proba(const CsrMatrix& X) const {
  ProfileScope scope = begin_call();
  check_predict_input(X);
  return finish_prediction(jll_sparse_on_device(csr_on_device(*backend(), X), false),
                           Output::proba);
}
Tensor detail::NaiveBayesBase::predict_log_proba(const CsrMatrix& X) const {
  ProfileScope scope = begin_call();
  check_predict_input(X);
  return finish_prediction(jll_sparse_on_device(csr_on_device(*backend(), X), false),
                           Output::log_proba);
}
Tensor detail::NaiveBayesBase::predict(const CsrMatrix& X) const {
  ProfileScope scope = begin_call();
  check_predict_input(X);
  return finish_prediction(jll_sparse_on_device(csr_on_device(*backend(), X), false),
                           Output::labels);
}

Tensor detail::NaiveBayesBase::finish_prediction(Tensor Q, Output what) const {
  Backend& b = *backend();
  if (what == Output::joint) return b.to_host(Q);
  if (what != Output::labels) {
    b.softmax_rows(Q, Q, /*log=*/what == Output::log_proba);
    return b.to_host(Q);
  }
  // argmax over classes = argmin of −jll (the first on ties, as numpy's argmax).
  b.map(MapFn::identity, Q, Q, MapArgs{-1.0f, 0.0f, 1.0f});
  Tensor index = b.empty(Q.rows(), 1, DType::i32), value = b.empty(Q.rows(), 1);
  b.argmin_rows(Q, index, value);
  const Tensor idx = b.to_host(index);
  Tensor labels(Q.rows(), 1);
  for (std::int64_t i = 0; i < Q.rows(); ++i) {
    labels.at<float>(i, 0) = static_cast<float>(classes_[idx.at<std::int32_t>(i, 0)]);
  }
  return labels;
}

const std::vector<double>& detail::NaiveBayesBase::classes() const {
  require_fitted();
  return classes_;
}
const Tensor& detail::NaiveBayesBase::class_count() const {
  require_fitted();
  return class_count_;
}
std::int64_t detail::NaiveBayesBase::n_features_in() const {
  require_fitted();
  return n_features_;
}

// ---- GaussianNB ---------------------------------------------------------------------------------

GaussianNB::GaussianNB(Options options, BackendPtr backend)
    : NaiveBayesBase(std::move(backend), "GaussianNB", kGaussianVersion),
      options_(std::move(options)) {
  MLCORE_CHECK(std::isfinite(options_.var_smoothing) && options_.var_smoothing >= 0.0,
               "GaussianNB: var_smoothing must be >= 0, got " << options_.var_smoothing);
}

namespace {

// One batch's class statistics, the passes fit makes: per class the total weight (1 × K), the
// weighted mean (K × d) and the weighted variance about it (K × d, no epsilon), in double on the
// host. A class without weight in the batch gets mean and variance 0.
struct ClassMoments {
  Tensor count;
  Eigen::MatrixXd theta, var;
};

ClassMoments class_moments(Backend& b, const Tensor& Xd, const detail::LabelEncoding& enc,
                           const detail::SampleWeights& sw, std::int64_t K) {
  const std::int64_t n = Xd.rows(), d = Xd.cols();
  ClassMoments out;
  Tensor code = b.to_device(code_column(enc));  // n × 1 i32
  out.count = class_totals(b, code, sw, n, K);
  auto per_class = [&](Eigen::MatrixXd m) {
    for (std::int64_t k = 0; k < K; ++k) {
      const double c = out.count.at<float>(0, k);
      m.row(k) = c > 0 ? Eigen::RowVectorXd(m.row(k) / c) : Eigen::RowVectorXd::Zero(d);
    }
    return m;
  };
  // Pass 1: per-class sums Σ wᵢ xᵢ → means θ (K × d).
  Tensor Xw = Xd;
  Tensor w_dev;
  if (sw.weighted) {
    w_dev = b.to_device(sw.w);
    Xw = b.empty(n, d);
    b.axpby(1.0f, Xd, 0.0f, Xw);
    b.scale_rows(w_dev, Xw);
  }
  Tensor sums = b.empty(K, d);
  b.scatter_add(code, Xw, sums);
  out.theta = per_class(detail::to_eigen(b.to_host(sums)));
  // Pass 2: per-class Σ wᵢ (xᵢ − θ_k)² → variances. M = X − θ[code] (gather_rows brings each
  // sample its class mean), squared, scattered back by class.
  Tensor theta_dev = b.to_device(detail::from_eigen(out.theta));
  Tensor M = b.empty(n, d);
  b.gather_rows(theta_dev, code, M);
  b.axpby(1.0f, Xd, -1.0f, M);
  b.map(MapFn::square, M, M);
  if (sw.weighted) b.scale_rows(w_dev, M);
  Tensor sq = b.empty(K, d);
  b.scatter_add(code, M, sq);
  out.var = per_class(detail::to_eigen(b.to_host(sq)));
  return out;
}

// The largest column variance of X (unweighted), whose var_smoothing-th part is epsilon.
double largest_variance(const detail::ColumnStats& stats) {
  double max_var = 0.0;
  for (std::int64_t j = 0; j < stats.var.cols(); ++j) {
    max_var = std::max(max_var, double(stats.var.at<float>(0, j)));
  }
  return max_var;
}

// The column means and variances of all the samples, from the classes' totals, means and
// variances about their means (law of total variance: the within-class part plus the spread of
// the class means), O(K·d) on the host: what a pass of reduce_cols over X would give, to
// rounding, without the pass. Totals weighted by sample weights give the weighted moments.
detail::ColumnStats pooled_column_stats(const Tensor& count, const Eigen::MatrixXd& mu,
                                        const Eigen::MatrixXd& var) {
  const std::int64_t K = mu.rows(), d = mu.cols();
  double total = 0.0;
  for (std::int64_t k = 0; k < K; ++k) total += count.at<float>(0, k);
  detail::ColumnStats all;
  all.mean = Tensor(1, d);
  all.var = Tensor(1, d);
  for (std::int64_t j = 0; j < d; ++j) {
    double m = 0.0, v = 0.0;
    for (std::int64_t k = 0; k < K; ++k) m += count.at<float>(0, k) * mu(k, j);
    m = total > 0 ? m / total : 0.0;
    for (std::int64_t k = 0; k < K; ++k) {
      const double dm = mu(k, j) - m;
      v += count.at<float>(0, k) * (var(k, j) + dm * dm);
    }
    all.mean.at<float>(0, j) = static_cast<float>(m);
    all.var.at<float>(0, j) = static_cast<float>(total > 0 ? std::max(v / total, 0.0) : 0.0);
  }
  return all;
}

// The column statistics of a batch X for epsilon and the expansion's scale. Unweighted, they
// follow from the class moments already made (pooled_column_stats), which saves fit two passes
// over X; weighted, epsilon still needs the unweighted variance (scikit-learn's rule), so X is
// read again (column_stats). Either way a feature whose statistics overflow float32 is refused.
detail::ColumnStats batch_column_stats(Backend& b, const Tensor& X, const Tensor& Xd,
                                       const ClassMoments& cm, const detail::SampleWeights& sw,
                                       const char* estimator) {
  if (sw.weighted) return detail::column_stats(b, X, Xd, estimator);
  detail::ColumnStats stats = pooled_column_stats(cm.count, cm.theta, cm.var);
  for (std::int64_t j = 0; j < stats.mean.cols(); ++j) {
    if (!std::isfinite(stats.mean.at<float>(0, j)) || !std::isfinite(stats.var.at<float>(0, j))) {
      detail::throw_too_large(X, estimator, "the variance of feature " + std::to_string(j));
    }
  }
  return stats;
}

}  // namespace

GaussianNB& GaussianNB::fit(const Tensor& X, const Tensor& y, const Tensor& sample_weight) {
  ProfileScope scope = begin_call();
  detail::check_samples(X, name());
  const Targets t = check_fit_targets(y, X.rows(), sample_weight, 0, name());
  if (!options_.priors.empty()) check_prior(options_.priors, t.K, name(), "priors");
  Backend& b = *backend();
  const Tensor Xd = b.to_device(X);  // n × d
  // A class whose samples all weigh 0 keeps mean 0, variance epsilon and prior 0, as in
  // scikit-learn: it is never predicted.
  ClassMoments cm = class_moments(b, Xd, t.enc, t.sw, t.K);
  // epsilon = var_smoothing × the largest (unweighted) variance of any feature.
  const detail::ColumnStats stats = batch_column_stats(b, X, Xd, cm, t.sw, name());
  epsilon_ = options_.var_smoothing * largest_variance(stats);
  cm.var.array() += epsilon_;
  finish_fit(detail::from_eigen(cm.theta), detail::from_eigen(cm.var), cm.count, t.enc.classes,
             detail::inverse_spread(stats, /*centred=*/true));
  return *this;
}

GaussianNB& GaussianNB::partial_fit(const Tensor& X, const Tensor& y, std::int64_t K,
                                    const Tensor& sample_weight) {
  ProfileScope scope = begin_call();
  detail::check_samples(X, name());
  const std::int64_t d = X.cols();
  const Targets t = check_fit_targets(y, X.rows(), sample_weight, K, name());
  if (!options_.priors.empty()) check_prior(options_.priors, K, name(), "priors");
  bool continues = fitted_ && static_cast<std::int64_t>(classes_.size()) == K;
  for (std::int64_t k = 0; continues && k < K; ++k) continues = classes_[k] == double(k);
  MLCORE_CHECK(!continues || d == n_features_, name() << ": partial_fit got X with " << d
                                                      << " features; the model so far has "
                                                      << n_features_);
  Backend& b = *backend();
  const Tensor Xd = b.to_device(X);
  const ClassMoments batch = class_moments(b, Xd, t.enc, t.sw, K);
  const detail::ColumnStats stats = batch_column_stats(b, X, Xd, batch, t.sw, name());
  const double eps = options_.var_smoothing * largest_variance(stats);

  // The classes so far (nothing on a first call). scikit-learn takes the latest batch's epsilon
  // off the stored variances before merging, and adds it back after; so does this.
  Eigen::VectorXd n_old = Eigen::VectorXd::Zero(K);
  Eigen::MatrixXd mu = Eigen::MatrixXd::Zero(K, d), var = Eigen::MatrixXd::Zero(K, d);
  if (continues) {
    for (std::int64_t k = 0; k < K; ++k) n_old(k) = class_count_.at<float>(0, k);
    mu = detail::to_eigen(theta_);
    var = (detail::to_eigen(var_).array() - eps).matrix();
  }
  // Chan, Golub & LeVeque: totals of counts, means and squared deviations of two parts.
  Tensor count(1, K);
  for (std::int64_t k = 0; k < K; ++k) {
    const double nb = batch.count.at<float>(0, k), na = n_old(k), nt = na + nb;
    count.at<float>(0, k) = static_cast<float>(nt);
    if (nb <= 0.0) continue;
    const Eigen::RowVectorXd delta = mu.row(k) - batch.theta.row(k);
    const Eigen::RowVectorXd ssd =
        na * var.row(k) + nb * batch.var.row(k) + (na * nb / nt) * delta.array().square().matrix();
    mu.row(k) = (na * mu.row(k) + nb * batch.theta.row(k)) / nt;
    var.row(k) = ssd / nt;
  }
  var.array() += eps;
  epsilon_ = eps;

  // The expansion's scale from all data so far: the classes' (weighted) moments pooled.
  const detail::ColumnStats all = pooled_column_stats(count, mu, (var.array() - eps).matrix());
  finish_fit(detail::from_eigen(mu), detail::from_eigen(var), count, t.enc.classes,
             detail::inverse_spread(all, /*centred=*/true));
  return *this;
}

void GaussianNB::finish_fit(const Tensor& theta, const Tensor& var, const Tensor& count,
                            std::vector<double> classes, const Tensor& input_scale) {
  const std::int64_t K = theta.rows(), d = theta.cols();
  classes_ = std::move(classes);
  class_count_ = count;
  std::vector<double> prior(K);
  double total = 0.0;
  for (std::int64_t k = 0; k < K; ++k) total += count.at<float>(0, k);
  for (std::int64_t k = 0; k < K; ++k) {
    prior[k] = options_.priors.empty() ? count.at<float>(0, k) / total : options_.priors[k];
  }
  class_prior_ = row_tensor(prior);
  theta_ = theta;
  var_ = var;
  // The expansion's centre and scale per feature (see naive_bayes.hpp, "Centre"): scale 1/sd,
  // centre the mean of the feature's tightest class (of those with samples), whose large weights
  // then multiply terms that vanish for its own samples instead of cancelling.
  Tensor shift(1, d);
  for (std::int64_t j = 0; j < d; ++j) {
    std::int64_t tightest = -1;
    for (std::int64_t k = 0; k < K; ++k) {
      if (count.at<float>(0, k) > 0.0f &&
          (tightest < 0 || var.at<float>(k, j) < var.at<float>(tightest, j))) {
        tightest = k;
      }
    }
    shift.at<float>(0, j) = tightest < 0 ? 0.0f : theta.at<float>(tightest, j);
  }
  input_shift_ = shift;
  input_scale_ = input_scale;
  n_features_ = d;
  fitted_ = true;
}

Tensor GaussianNB::jll_on_device(const Tensor& Xd, bool exact) const {
  Backend& b = *backend();
  const std::int64_t n = Xd.rows(), d = Xd.cols();
  const std::int64_t K = static_cast<std::int64_t>(classes_.size());

  // Host (K × d): in the scaled coordinates x″ = (x − c)·s (c, s: the expansion's centre and
  // scale, chosen at fit), μ″ = (μ − c)·s and σ″² = σ²·s², the quadratic form is unchanged:
  // (x − μ)²/σ² = (x″ − μ″)²/σ″², and
  //   −½(x″ − μ″)²/σ″² = x″²·A1 + x″·A2 − ½μ″²/σ″²,   A1 = −½/σ″²,  A2 = μ″/σ″².
  Eigen::MatrixXd A1(K, d), A2(K, d);
  std::vector<double> bias(K);
  for (std::int64_t k = 0; k < K; ++k) {
    double c = std::log(double(class_prior_.at<float>(0, k)));
    for (std::int64_t j = 0; j < d; ++j) {
      const double s = input_scale_.at<float>(0, j);
      const double v = var_.at<float>(k, j);
      const double v2 = v * s * s;
      const double mu = (double(theta_.at<float>(k, j)) - input_shift_.at<float>(0, j)) * s;
      A1(k, j) = -0.5 / v2;
      A2(k, j) = mu / v2;
      c -= 0.5 * (std::log(kTwoPi * v) + mu * mu / v2);
    }
    bias[k] = c;
  }

  // Device: the three terms, jll = X″²·A1ᵀ + X″·A2ᵀ + bias (n × K). X″ is squared in place once
  // the linear term is done: one n × d temporary, not two.
  const GemmHints hints = score_hints(/*wide_range=*/true, exact);
  Tensor Xs = detail::shift_scale_columns(b, Xd, input_shift_, input_scale_);
  Tensor Q = b.empty(n, K);
  b.gemm(Trans::no, Trans::yes, 1.0f, Xs, b.to_device(detail::from_eigen(A2)), 0.0f, Q, hints);
  b.map(MapFn::square, Xs, Xs);  // X″²
  b.gemm(Trans::no, Trans::yes, 1.0f, Xs, b.to_device(detail::from_eigen(A1)), 1.0f, Q, hints);
  b.add_row_vector(1.0f, b.to_device(row_tensor(bias)), Q);
  return Q;
}

const Tensor& GaussianNB::theta() const {
  require_fitted();
  return theta_;
}
const Tensor& GaussianNB::var() const {
  require_fitted();
  return var_;
}
const Tensor& GaussianNB::class_prior() const {
  require_fitted();
  return class_prior_;
}
double GaussianNB::epsilon() const {
  require_fitted();
  return epsilon_;
}

void GaussianNB::visit(Archive& a) {
  a(options_.var_smoothing, options_.priors);
  if (!a.fitted(fitted_)) return;
  a(classes_, class_count_, theta_, var_, class_prior_, input_shift_, input_scale_);
  if (a.version() == 1) {
    Tensor hard_pairs;  // version 1 stored the "hard pairs", no longer used
    a(hard_pairs);
  }
  a(epsilon_);
  if (a.loading()) {
    const std::int64_t K = static_cast<std::int64_t>(classes_.size());
    n_features_ = theta_.cols();
    MLCORE_CHECK(K >= 2 && theta_.rows() == K && var_.rows() == K && var_.cols() == n_features_ &&
                     class_prior_.cols() == K && class_count_.cols() == K &&
                     input_shift_.cols() == n_features_ && input_scale_.cols() == n_features_,
                 "GaussianNB: the saved model's arrays have inconsistent shapes");
  }
}

// ---- MultinomialNB ------------------------------------------------------------------------------

MultinomialNB::MultinomialNB(Options options, BackendPtr backend)
    : NaiveBayesBase(std::move(backend), "MultinomialNB", /*model_version=*/1),
      options_(std::move(options)) {
  MLCORE_CHECK(std::isfinite(options_.alpha) && options_.alpha >= 0.0,
               "MultinomialNB: alpha must be >= 0, got " << options_.alpha);
}

namespace {

void check_counts(const Tensor& X, const char* estimator) {
  const std::int64_t d = X.cols();
  const float* x = X.data<float>();
  for (std::int64_t i = 0; i < X.numel(); ++i) {
    MLCORE_CHECK(x[i] >= 0.0f, estimator << ": X must be non-negative (counts or frequencies), got "
                                         << x[i] << " at [" << i / d << ", " << i % d << "]");
  }
}

void check_counts(const CsrMatrix& X, const char* estimator) {
  const float* v = X.data.data<float>();
  for (std::int64_t p = 0; p < X.nnz(); ++p) {
    MLCORE_CHECK(v[p] >= 0.0f, estimator << ": X must be non-negative (counts or frequencies), got "
                                         << v[p] << " (stored entry " << p << ")");
  }
}

// One batch's sums: per class the (weighted) feature counts (K × d) and the class total (1 × K),
// on the host.
struct BatchCounts {
  Tensor counts, count;
};

// Dense X: Σ_{i in k} wᵢ xᵢ is a scatter_add of each (weighted) row into its class's row.
BatchCounts batch_counts(Backend& b, const Tensor& Xd, const detail::LabelEncoding& enc,
                         const detail::SampleWeights& sw, std::int64_t K) {
  const std::int64_t n = Xd.rows(), d = Xd.cols();
  Tensor code = b.to_device(code_column(enc));
  BatchCounts out;
  out.count = class_totals(b, code, sw, n, K);
  Tensor Xw = Xd;
  if (sw.weighted) {
    Xw = b.empty(n, d);
    b.axpby(1.0f, Xd, 0.0f, Xw);
    b.scale_rows(b.to_device(sw.w), Xw);
  }
  Tensor fc = b.empty(K, d);
  b.scatter_add(code, Xw, fc);
  out.counts = b.to_host(fc).clone();
  return out;
}

// Sparse X: Xᵀ·(w ⊙ onehot(y)) (d × K) in one transposed spmm, nnz·K MACs, then transposed.
BatchCounts batch_counts(Backend& b, const CsrMatrix& X, const detail::LabelEncoding& enc,
                         const detail::SampleWeights& sw, std::int64_t K) {
  const std::int64_t n = X.rows, d = X.cols;
  BatchCounts out;
  out.count = class_totals(b, b.to_device(code_column(enc)), sw, n, K);
  Tensor Y(n, K);
  for (std::int64_t i = 0; i < n; ++i) {
    Y.at<float>(i, enc.code[i]) = sw.weighted ? sw.w.data<float>()[i] : 1.0f;
  }
  Tensor fct = b.empty(d, K);
  b.spmm(Trans::yes, 1.0f, detail::csr_on_device(b, X), b.to_device(Y), 0.0f, fct);
  const Tensor ct = b.to_host(fct);
  out.counts = Tensor(K, d);
  for (std::int64_t j = 0; j < d; ++j) {
    for (std::int64_t k = 0; k < K; ++k) out.counts.at<float>(k, j) = ct.at<float>(j, k);
  }
  return out;
}

}  // namespace

namespace {
// counts += batch (host f32 tensors of the same shape).
void add_into(Tensor& total, const Tensor& batch) {
  float* t = total.data<float>();
  const float* v = batch.data<float>();
  for (std::int64_t i = 0; i < total.numel(); ++i) t[i] += v[i];
}
std::int64_t rows_of(const Tensor& X) { return X.rows(); }
std::int64_t rows_of(const CsrMatrix& X) { return X.rows; }
std::int64_t cols_of(const Tensor& X) { return X.cols(); }
std::int64_t cols_of(const CsrMatrix& X) { return X.cols; }
}  // namespace

MultinomialNB& MultinomialNB::fit(const Tensor& X, const Tensor& y, const Tensor& sample_weight) {
  return fit_batch(X, y, sample_weight, 0);
}
MultinomialNB& MultinomialNB::fit(const CsrMatrix& X, const Tensor& y,
                                  const Tensor& sample_weight) {
  return fit_batch(X, y, sample_weight, 0);
}
MultinomialNB& MultinomialNB::partial_fit(const Tensor& X, const Tensor& y, std::int64_t n_classes,
                                          const Tensor& sample_weight) {
  return fit_batch(X, y, sample_weight, n_classes);
}
MultinomialNB& MultinomialNB::partial_fit(const CsrMatrix& X, const Tensor& y,
                                          std::int64_t n_classes, const Tensor& sample_weight) {
  return fit_batch(X, y, sample_weight, n_classes);
}

template <class Input>
MultinomialNB& MultinomialNB::fit_batch(const Input& X, const Tensor& y,
                                        const Tensor& sample_weight, std::int64_t n_classes) {
  constexpr bool dense = std::is_same_v<Input, Tensor>;
  ProfileScope scope = begin_call();
  if constexpr (dense) {
    detail::check_samples(X, name());
  } else {
    detail::check_sparse_samples(X, name());
  }
  check_counts(X, name());
  const Targets t = check_fit_targets(y, rows_of(X), sample_weight, n_classes, name());
  if (!options_.class_prior.empty()) check_prior(options_.class_prior, t.K, name(), "class_prior");
  // The counts so far: none for fit, the model's for a partial_fit that continues.
  Tensor counts(t.K, cols_of(X)), count(1, t.K);
  if (n_classes > 0) continue_counts(t.K, cols_of(X), &counts, &count);
  Backend& b = *backend();
  if constexpr (dense) {
    const Tensor Xd = b.to_device(X);
    const BatchCounts batch = batch_counts(b, Xd, t.enc, t.sw, t.K);
    add_into(counts, batch.counts);
    add_into(count, batch.count);
    // Predict scales X per column when the features' magnitudes differ widely (not centred:
    // counts keep their 0); for a partial_fit, chosen from this batch.
    const detail::InputTransform input =
        detail::choose_input_transform(detail::column_stats(b, X, Xd, name()), /*centred=*/false);
    raw_input_ = input.raw;
    input_shift_ = input.shift;
    input_scale_ = input.scale;
  } else {
    const BatchCounts batch = batch_counts(b, X, t.enc, t.sw, t.K);
    add_into(counts, batch.counts);
    add_into(count, batch.count);
    raw_input_ = true;  // sparse X is never rescaled (that would fill in its zeros)
    input_shift_ = Tensor();
    input_scale_ = Tensor();
  }
  finish_fit(counts, count, t.enc.classes);
  return *this;
}

void MultinomialNB::continue_counts(std::int64_t K, std::int64_t d, Tensor* counts,
                                    Tensor* count) const {
  bool continues = fitted_ && static_cast<std::int64_t>(classes_.size()) == K;
  for (std::int64_t k = 0; continues && k < K; ++k) continues = classes_[k] == double(k);
  if (!continues) return;  // a first call: from zero
  MLCORE_CHECK(d == n_features_, name() << ": partial_fit got X with " << d
                                        << " features; the model so far has " << n_features_);
  *counts = feature_count_.clone();
  *count = class_count_.clone();
}

void MultinomialNB::finish_fit(const Tensor& counts_f32, const Tensor& count,
                               std::vector<double> classes) {
  const std::int64_t K = counts_f32.rows(), d = counts_f32.cols();
  const Eigen::MatrixXd counts = detail::to_eigen(counts_f32);

  // log θ_kj = log(count_kj + α) − log Σⱼ (count_kj + α)
  const double alpha = (!options_.force_alpha && options_.alpha < 1e-10) ? 1e-10 : options_.alpha;
  Eigen::MatrixXd flp = (counts.array() + alpha).matrix();
  for (std::int64_t k = 0; k < K; ++k) {
    const double row_total = flp.row(k).sum();
    for (std::int64_t j = 0; j < d; ++j) flp(k, j) = std::log(flp(k, j)) - std::log(row_total);
  }
  std::vector<double> prior(K);
  double total = 0.0;
  for (std::int64_t k = 0; k < K; ++k) total += count.at<float>(0, k);
  for (std::int64_t k = 0; k < K; ++k) {
    if (!options_.class_prior.empty()) {
      prior[k] = std::log(options_.class_prior[k]);
    } else if (options_.fit_prior) {
      prior[k] = std::log(double(count.at<float>(0, k))) - std::log(total);
    } else {
      prior[k] = -std::log(static_cast<double>(K));
    }
  }
  classes_ = std::move(classes);
  class_count_ = count;
  feature_count_ = detail::from_eigen(counts);
  feature_log_prob_ = detail::from_eigen(flp);
  class_log_prior_ = row_tensor(prior);
  n_features_ = d;
  fitted_ = true;
}

Tensor MultinomialNB::jll_sparse_on_device(const CsrMatrix& Xd, bool) const {
  // jll = X·log θᵀ + log prior: one spmm, nnz·K MACs.
  return detail::sparse_affine_scores(*backend(), Xd, feature_log_prob_, class_log_prior_);
}

Tensor MultinomialNB::jll_on_device(const Tensor& Xd, bool exact) const {
  Backend& b = *backend();
  // jll = X·log θᵀ + log prior: one GEMM (through the column scaling when the model has one).
  const detail::InputTransform input{raw_input_, input_shift_, input_scale_};
  const Tensor Xt = detail::apply_input_transform(b, Xd, input);
  return detail::affine_scores(b, Xt, feature_log_prob_, class_log_prior_, input,
                               score_hints(/*wide_range=*/false, exact));
}

const Tensor& MultinomialNB::feature_count() const {
  require_fitted();
  return feature_count_;
}
const Tensor& MultinomialNB::feature_log_prob() const {
  require_fitted();
  return feature_log_prob_;
}
const Tensor& MultinomialNB::class_log_prior() const {
  require_fitted();
  return class_log_prior_;
}

void MultinomialNB::visit(Archive& a) {
  a(options_.alpha, options_.force_alpha, options_.fit_prior, options_.class_prior);
  if (!a.fitted(fitted_)) return;
  a(classes_, class_count_, feature_count_, feature_log_prob_, class_log_prior_);
  n_features_ = feature_log_prob_.cols();
  detail::visit_input_transform(a, raw_input_, input_shift_, input_scale_, n_features_);
  if (a.loading()) {
    const std::int64_t K = static_cast<std::int64_t>(classes_.size());
    MLCORE_CHECK(K >= 2 && feature_log_prob_.rows() == K && feature_count_.rows() == K &&
                     feature_count_.cols() == n_features_ && class_log_prior_.cols() == K &&
                     class_count_.cols() == K,
                 "MultinomialNB: the saved model's arrays have inconsistent shapes");
  }
}

// theta / var / class_prior are read at every call (jll_on_device); the expansion's centre and
// scale chosen at fit only condition the arithmetic, so edits need nothing more.
std::vector<std::pair<std::string, Tensor*>> GaussianNB::fitted_arrays() {
  if (!fitted_) return {};
  return {{"theta", &theta_}, {"var", &var_}, {"class_prior", &class_prior_}};
}

std::vector<std::pair<std::string, Tensor*>> MultinomialNB::fitted_arrays() {
  if (!fitted_) return {};
  return {{"feature_log_prob", &feature_log_prob_}, {"class_log_prior", &class_log_prior_}};
}

}  // namespace mlcore
