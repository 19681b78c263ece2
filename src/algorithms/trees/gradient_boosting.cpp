// GradientBoostingClassifier / GradientBoostingRegressor: histogram gradient boosting (see
// include/mlcore/algorithms/trees/gradient_boosting.hpp for the algorithm).
#include "mlcore/algorithms/trees/gradient_boosting.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <istream>
#include <numeric>
#include <ostream>
#include <random>

#include "algorithms/common/validate.hpp"
#include "algorithms/trees/flat_tree.hpp"
#include "algorithms/trees/tree_common.hpp"
#include "mlcore/parallel.hpp"
#include "mlcore/serialize.hpp"

namespace mlcore {

namespace {

constexpr const char* kClassifier = "GradientBoostingClassifier";
constexpr const char* kRegressor = "GradientBoostingRegressor";
// 2: the fitted flag (version 1 files were always fitted); saving works before fit.
// 3: interaction_cst in the options (older files: none).
constexpr std::uint32_t kModelVersion = 3;

// poisson and gamma: scikit-learn's half Poisson / half gamma deviance with the log link (the
// raw score is the log of the predicted mean).
enum class Loss { squared_error, poisson, gamma, binary, multiclass };

bool is_regression(Loss loss) {
  return loss == Loss::squared_error || loss == Loss::poisson || loss == Loss::gamma;
}
bool has_log_link(Loss loss) { return loss == Loss::poisson || loss == Loss::gamma; }

// The regressor's loss named by the options ("" is the default, squared error).
Loss regression_loss(const std::string& name) {
  return name == "poisson" ? Loss::poisson : name == "gamma" ? Loss::gamma : Loss::squared_error;
}

void check_boosting_options(const GradientBoostingOptions& o, const char* est) {
  MLCORE_CHECK(o.learning_rate > 0 && std::isfinite(o.learning_rate),
               est << ": learning_rate must be > 0, got " << o.learning_rate);
  MLCORE_CHECK(o.max_iter >= 1, est << ": max_iter must be an integer ≥ 1, got " << o.max_iter);
  MLCORE_CHECK(o.max_leaf_nodes == -1 || o.max_leaf_nodes >= 2,
               est << ": max_leaf_nodes must be ≥ 2 or None (-1), got " << o.max_leaf_nodes);
  MLCORE_CHECK(o.max_depth == -1 || o.max_depth >= 1,
               est << ": max_depth must be ≥ 1 or None (-1), got " << o.max_depth);
  MLCORE_CHECK(o.min_samples_leaf >= 1,
               est << ": min_samples_leaf must be an integer ≥ 1, got " << o.min_samples_leaf);
  MLCORE_CHECK(o.l2_regularization >= 0 && std::isfinite(o.l2_regularization),
               est << ": l2_regularization must be ≥ 0, got " << o.l2_regularization);
  MLCORE_CHECK(o.max_bins >= 2 && o.max_bins <= 255,
               est << ": max_bins must be in [2, 255], got " << o.max_bins);
  MLCORE_CHECK(
      o.early_stopping == "auto" || o.early_stopping == "true" || o.early_stopping == "false",
      est << ": early_stopping must be 'auto', True or False, got '" << o.early_stopping << "'");
  // The scorers early stopping can watch (scikit-learn's names; "default" is its None).
  const bool classifier = std::string(est) == kClassifier;
  const bool named = classifier ? o.scoring == "accuracy"
                                : (o.scoring == "r2" || o.scoring == "neg_mean_squared_error" ||
                                   o.scoring == "neg_mean_absolute_error");
  MLCORE_CHECK(o.scoring == "loss" || o.scoring == "default" || named,
               est << ": scoring must be 'loss', None (the estimator's default score) or "
                   << (classifier ? "'accuracy'"
                                  : "'r2', 'neg_mean_squared_error' or 'neg_mean_absolute_error'")
                   << " (the scorers mlcore implements), got '" << o.scoring << "'");
  MLCORE_CHECK(
      o.validation_fraction < 1 && std::isfinite(o.validation_fraction),
      est << ": validation_fraction must be in (0, 1) or None, got " << o.validation_fraction);
  MLCORE_CHECK(o.n_iter_no_change >= 1,
               est << ": n_iter_no_change must be an integer ≥ 1, got " << o.n_iter_no_change);
  MLCORE_CHECK(o.tol >= 0 && std::isfinite(o.tol), est << ": tol must be ≥ 0, got " << o.tol);
  for (const auto& group : o.interaction_cst) {
    for (const std::int64_t f : group) {
      MLCORE_CHECK(f >= 0, est << ": interaction_cst holds feature index " << f << " < 0");
    }
  }
}

// The interaction constraint groups for d features: interaction_cst's, each index checked,
// plus one group of the features no group names (scikit-learn's rule); empty without any.
std::vector<std::vector<std::int32_t>> interaction_groups(const GradientBoostingOptions& o,
                                                          std::int64_t d) {
  std::vector<std::vector<std::int32_t>> groups;
  if (o.interaction_cst.empty()) return groups;
  std::vector<std::uint8_t> listed(static_cast<std::size_t>(d), 0);
  for (const auto& group : o.interaction_cst) {
    std::vector<std::int32_t> members;
    for (const std::int64_t f : group) {
      MLCORE_CHECK(f >= 0 && f < d, "interaction_cst: feature index "
                                        << f << " is outside [0, n_features - 1] = [0, " << d - 1
                                        << "]");
      listed[f] = 1;
      members.push_back(static_cast<std::int32_t>(f));
    }
    groups.push_back(std::move(members));
  }
  std::vector<std::int32_t> rest;
  for (std::int64_t f = 0; f < d; ++f) {
    if (!listed[f]) rest.push_back(static_cast<std::int32_t>(f));
  }
  if (!rest.empty()) groups.push_back(std::move(rest));
  return groups;
}

// Rows `ids` of X (a host copy).
Tensor take_rows(const Tensor& X, const std::vector<std::int32_t>& ids) {
  Tensor out(static_cast<std::int64_t>(ids.size()), X.cols());
  const std::size_t row = static_cast<std::size_t>(X.cols());
  for (std::size_t r = 0; r < ids.size(); ++r) {
    std::copy_n(X.data<float>() + ids[r] * row, row, out.data<float>() + r * row);
  }
  return out;
}

// The mean loss at raw scores (n × K): half squared error, binary or multiclass log-loss;
// weighted by w when w is not empty.
double mean_loss(Loss loss, const std::vector<double>& raw, const std::vector<double>& y, int K,
                 const std::vector<double>& w) {
  const std::size_t n = y.size();
  double total = 0, total_w = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double* r = raw.data() + i * K;
    const double wi = w.empty() ? 1.0 : w[i];
    total_w += wi;
    if (wi == 0) continue;
    if (loss == Loss::squared_error) {
      total += wi * 0.5 * (y[i] - r[0]) * (y[i] - r[0]);
    } else if (loss == Loss::poisson) {
      total += wi * (std::exp(r[0]) - y[i] * r[0]);  // scikit-learn's, without y's constant
    } else if (loss == Loss::gamma) {
      total += wi * (r[0] + y[i] * std::exp(-r[0]));
    } else if (loss == Loss::binary) {
      // log(1 + e^r) − y·r, without overflow.
      total += wi * ((r[0] > 0 ? r[0] + std::log1p(std::exp(-r[0])) : std::log1p(std::exp(r[0]))) -
                     y[i] * r[0]);
    } else {
      const double mx = *std::max_element(r, r + K);
      double s = 0;
      for (int k = 0; k < K; ++k) s += std::exp(r[k] - mx);
      total += wi * (mx + std::log(s) - r[static_cast<int>(y[i])]);
    }
  }
  return total_w > 0 ? total / total_w : 0.0;
}

// scikit-learn's default score of the estimator at raw scores (scoring=None): the weighted
// accuracy of the predicted classes (binary: class 1 where raw > 0, as predict's p > 0.5;
// multiclass: the first largest raw score), or the weighted R² (1 where y is constant and
// predicted exactly, 0 where constant and not, as r2_score's force_finite).
// With scoring "neg_mean_squared_error" / "neg_mean_absolute_error", minus the weighted mean
// squared / absolute error of the predictions instead (scikit-learn's scorers of those names).
double default_score(Loss loss, const std::vector<double>& raw, const std::vector<double>& y, int K,
                     const std::vector<double>& w, const std::string& scoring) {
  const std::size_t n = y.size();
  auto weight = [&](std::size_t i) { return w.empty() ? 1.0 : w[i]; };
  double total_w = 0;
  for (std::size_t i = 0; i < n; ++i) total_w += weight(i);
  if (total_w <= 0) return 0.0;
  if (is_regression(loss) &&
      (scoring == "neg_mean_squared_error" || scoring == "neg_mean_absolute_error")) {
    const bool squared = scoring == "neg_mean_squared_error";
    double total = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double error = y[i] - (has_log_link(loss) ? std::exp(raw[i]) : raw[i]);
      total += weight(i) * (squared ? error * error : std::fabs(error));
    }
    return -total / total_w;
  }
  if (is_regression(loss)) {
    double mean = 0;
    for (std::size_t i = 0; i < n; ++i) mean += weight(i) * y[i];
    mean /= total_w;
    double residual = 0, spread = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double predicted = has_log_link(loss) ? std::exp(raw[i]) : raw[i];
      residual += weight(i) * (y[i] - predicted) * (y[i] - predicted);
      spread += weight(i) * (y[i] - mean) * (y[i] - mean);
    }
    if (spread == 0) return residual == 0 ? 1.0 : 0.0;
    return 1.0 - residual / spread;
  }
  double right = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double* r = raw.data() + i * K;
    const int predicted =
        K == 1 ? (r[0] > 0 ? 1 : 0) : static_cast<int>(std::max_element(r, r + K) - r);
    if (predicted == static_cast<int>(y[i])) right += weight(i);
  }
  return right / total_w;
}

// The backend's name for the loss.
GradientLoss gradient_loss(Loss loss) {
  switch (loss) {
    case Loss::squared_error:
      return GradientLoss::squared_error;
    case Loss::poisson:
      return GradientLoss::half_poisson;
    case Loss::gamma:
      return GradientLoss::half_gamma;
    case Loss::binary:
      return GradientLoss::binary_log_loss;
    default:
      return GradientLoss::softmax_log_loss;
  }
}

// A host vector as an n × cols f64 tensor on the backend's device (itself on a CPU).
Tensor on_device(Backend& backend, std::vector<double>& v, std::int64_t cols) {
  if (v.empty()) return Tensor();
  return backend.to_device(
      Tensor::borrow(v.data(), static_cast<std::int64_t>(v.size()) / cols, cols, DType::f64));
}

// device's values into the host vector v, unless device is v itself (a CPU backend).
void copy_back(Backend& backend, const Tensor& device, std::vector<double>& v) {
  if (v.empty() || device.raw() == v.data()) return;
  const Tensor host = backend.to_host(device);
  std::copy_n(host.data<double>(), v.size(), v.data());
}

// g, h (n × K) at raw scores, weighted by sw when not empty, and each class's largest |g| and
// h (the range the histograms quantize over): one Backend::loss_gradients call, in double, the
// same bits on every CPU backend. Squared error's unweighted hessian is the constant 1: h is
// left empty and h_max is 1.
void gradients(Backend& backend, Loss loss, std::vector<double>& raw, std::vector<double>& y,
               std::vector<double>& sw, int K, std::vector<double>& g, std::vector<double>& h,
               std::vector<double>& g_max, std::vector<double>& h_max) {
  const std::size_t n = y.size();
  g.resize(n * K);
  if (loss != Loss::squared_error || !sw.empty()) h.resize(n * K);
  Tensor ranges = backend.empty(2, K, DType::f64);
  Tensor dg = on_device(backend, g, K), dh = on_device(backend, h, K);
  backend.loss_gradients(gradient_loss(loss), on_device(backend, y, 1), on_device(backend, raw, K),
                         on_device(backend, sw, 1), dg, dh, ranges);
  copy_back(backend, dg, g);
  copy_back(backend, dh, h);
  const Tensor host_ranges = backend.to_host(ranges);
  g_max.assign(host_ranges.data<double>(), host_ranges.data<double>() + K);
  h_max.assign(host_ranges.data<double>() + K, host_ranges.data<double>() + 2 * K);
}

// sample_weight as a vector (empty when not given): n finite values ≥ 0. Unlike a tree's, they
// need not be whole numbers: they scale the gradients, which are quantized anyway.
std::vector<double> boosting_weights(const Tensor& sample_weight, std::int64_t n,
                                     const char* estimator) {
  if (sample_weight.numel() == 0) return {};
  MLCORE_CHECK(sample_weight.dtype() == DType::f32 && sample_weight.numel() == n,
               estimator << ": sample_weight must hold " << n << " f32 values, got "
                         << sample_weight.numel());
  std::vector<double> w(sample_weight.data<float>(), sample_weight.data<float>() + n);
  for (std::int64_t i = 0; i < n; ++i) {
    MLCORE_CHECK(std::isfinite(w[i]) && w[i] >= 0,
                 estimator << ": sample_weight must be finite and >= 0, got sample_weight[" << i
                           << "] = " << w[i]);
  }
  return w;
}

// The training and validation samples: with early stopping and validation_fraction > 0, a
// split stratified by class (detail::validation_ranks), both sides in sample order; otherwise
// all samples train and none validate.
struct TrainValidation {
  Tensor X, X_val;
  std::vector<double> y, y_val, sw, sw_val;
};

TrainValidation split_for_validation(const Tensor& X, const std::vector<double>& y_all,
                                     const std::vector<double>& sw_all, Loss loss, int n_classes,
                                     bool early, double fraction, std::mt19937_64& rng) {
  const std::int64_t n = X.rows();
  TrainValidation s;
  std::vector<std::int32_t> train_ids, val_ids;
  if (early && fraction > kNoValidationSplit) {
    const int n_groups = is_regression(loss) ? 1 : n_classes;
    auto group_of = [&](std::int64_t i) {
      return is_regression(loss) ? 0 : static_cast<int>(y_all[i]);
    };
    std::vector<std::int64_t> sizes(n_groups, 0);
    for (std::int64_t i = 0; i < n; ++i) ++sizes[group_of(i)];
    const std::vector<std::vector<std::uint8_t>> validates =
        detail::validation_ranks(sizes, fraction, rng);
    std::vector<std::int64_t> rank(n_groups, 0);
    for (std::int64_t i = 0; i < n; ++i) {
      const int grp = group_of(i);
      (validates[grp][rank[grp]++] ? val_ids : train_ids).push_back(static_cast<std::int32_t>(i));
    }
    MLCORE_CHECK(!train_ids.empty() && !val_ids.empty(),
                 "validation_fraction = " << fraction << " leaves an empty "
                                          << (train_ids.empty() ? "training" : "validation")
                                          << " set for " << n << " samples");
  }
  if (val_ids.empty()) {
    s.X = X;
    s.y = y_all;
    s.sw = sw_all;
    return s;
  }
  s.X = take_rows(X, train_ids);
  s.X_val = take_rows(X, val_ids);
  for (std::int32_t i : train_ids) s.y.push_back(y_all[i]);
  for (std::int32_t i : val_ids) s.y_val.push_back(y_all[i]);
  if (!sw_all.empty()) {
    for (std::int32_t i : train_ids) s.sw.push_back(sw_all[i]);
    for (std::int32_t i : val_ids) s.sw_val.push_back(sw_all[i]);
  }
  return s;
}

// The training rows with the validation rows given to fit (targets already as the loss
// reads them: y_val_codes), checked against the training data; nullopt-like empty when none.
TrainValidation given_validation(const Tensor& X, const std::vector<double>& y,
                                 const std::vector<double>& sw, const BoostingValidation& v,
                                 std::vector<double> y_val_codes, const GradientBoostingOptions& o,
                                 const char* est) {
  detail::check_tree_samples(v.X, est);
  detail::check_n_features(v.X, X.cols(), est);
  MLCORE_CHECK(static_cast<std::int64_t>(y_val_codes.size()) == v.X.rows(),
               est << ": y_val holds " << y_val_codes.size() << " values for " << v.X.rows()
                   << " rows of X_val");
  MLCORE_CHECK(o.early_stopping != "false",
               est << ": X_val and y_val are passed to fit while at the same time early_stopping "
                      "is False. When passing X_val and y_val to fit, early_stopping should be "
                      "set to either 'auto' or True.");
  TrainValidation s;
  s.X = X;
  s.y = y;
  s.sw = sw;
  s.X_val = v.X;
  s.y_val = std::move(y_val_codes);
  s.sw_val = boosting_weights(v.sample_weight, v.X.rows(), est);
  // Weighted on one side only: the other side's rows weigh 1 (the loss sums read both).
  if (s.sw.empty() != s.sw_val.empty()) {
    if (s.sw.empty()) s.sw.assign(s.y.size(), 1.0);
    if (s.sw_val.empty()) s.sw_val.assign(s.y_val.size(), 1.0);
  }
  return s;
}

// The best constant raw score (one per tree of an iteration): the weighted mean target, the
// log-odds of the positive class, or the centred log-priors of the classes. Checks that the
// training samples carry weight and every class.
std::vector<double> baseline_scores(Loss loss, const std::vector<double>& y,
                                    const std::vector<double>& sw, int n_classes, int K) {
  const std::int64_t n = static_cast<std::int64_t>(y.size());
  auto weight = [&](std::int64_t i) { return sw.empty() ? 1.0 : sw[i]; };
  double total_weight = 0;
  for (std::int64_t i = 0; i < n; ++i) total_weight += weight(i);
  MLCORE_CHECK(total_weight > 0, "sample_weight is 0 for every training sample");
  std::vector<double> baseline(K, 0.0);
  if (is_regression(loss)) {
    double sum = 0;
    for (std::int64_t i = 0; i < n; ++i) sum += weight(i) * y[i];
    baseline[0] = sum / total_weight;
    // The log link: the log of the mean, kept above 10 ulps of 0 (scikit-learn's clip).
    if (has_log_link(loss)) baseline[0] = std::log(std::max(baseline[0], 10 * 2.220446e-16));
    return baseline;
  }
  std::vector<std::int64_t> counts(n_classes, 0);
  for (double v : y) ++counts[static_cast<int>(v)];
  for (int c = 0; c < n_classes; ++c) {
    MLCORE_CHECK(counts[c] > 0, "class " << c
                                         << " has no sample left for training after the "
                                            "validation split; lower validation_fraction");
  }
  std::vector<double> prior(n_classes, 0.0);
  for (std::int64_t i = 0; i < n; ++i) prior[static_cast<int>(y[i])] += weight(i) / total_weight;
  const double eps = 1e-15;
  if (loss == Loss::binary) {
    const double p = std::min(std::max(prior[1], eps), 1 - eps);
    baseline[0] = std::log(p / (1 - p));
  } else {
    double mean_log = 0;
    for (int k = 0; k < K; ++k) mean_log += std::log(std::max(prior[k], eps)) / K;
    for (int k = 0; k < K; ++k) baseline[k] = std::log(std::max(prior[k], eps)) - mean_log;
  }
  return baseline;
}

// The grower's settings for a boosting tree (gradient criterion, best-first under the limits).
detail::GrowerParams boosting_grower_params(Loss loss, bool weighted,
                                            const GradientBoostingOptions& o) {
  detail::GrowerParams p;
  p.criterion = detail::SplitCriterion::gradient;
  p.constant_hessian = loss == Loss::squared_error && !weighted;
  p.n_stats = p.constant_hessian ? 2 : 3;
  p.max_depth = o.max_depth;
  p.min_samples_split = 2;
  p.min_samples_leaf = o.min_samples_leaf;
  p.max_leaf_nodes = o.max_leaf_nodes;
  p.require_positive_gain = true;
  p.l2_regularization = o.l2_regularization;
  return p;
}

// Class k's statistics as exact integers packed in i64 (PackedCodec): [q_g · 2^24 + 1] with a
// constant hessian, else [q_g · 2^24 + 1, q_h] — count, gradient and hessian sums — into V
// (n × c, reused by every tree: a fresh one page-faults n·c values), with their scales in p.
void pack_statistics(const std::vector<double>& g, const std::vector<double>& h, int K, int k,
                     double g_max, double h_max, std::int64_t n, detail::GrowerParams& p,
                     Tensor& V) {
  const auto gc = detail::PackedCodec::for_values(g_max, double(n), true);
  const auto hc = detail::PackedCodec::for_values(h_max, double(n), false);
  const int c = p.constant_hessian ? 1 : 2;
  if (V.rows() != n || V.cols() != c) V = Tensor(n, c, DType::i64);
  std::int64_t* v = V.data<std::int64_t>();
  parallel::for_each_static(n, n > 8192 ? num_threads() : 1, [&](std::int64_t i) {
    v[i * c] = gc.pack_with_count(g[i * K + k]);
    if (c == 2) v[i * c + 1] = hc.quantize(h[i * K + k]);
  });
  p.value_scale = gc.scale;
  p.hessian_scale = p.constant_hessian ? 1.0 : hc.scale;
}

// The leaf of every training sample (leaf_of, from the grower's partition) and the tree's leaf
// values −lr · G / (H + λ) from exact sums over each leaf's samples. The sums run in one pass
// over the samples in id order: each leaf's samples are then added in ascending id order, as a
// walk of the leaf's own (ascending) ids would add them — the same doubles, with the arrays
// read front to back instead of gathered leaf by leaf (a random access per sample).
void fit_leaf_values(const detail::GrownTree& grown, const std::vector<double>& g,
                     const std::vector<double>& h, int K, int k, bool constant_hessian,
                     const GradientBoostingOptions& o, Tree& tree,
                     std::vector<std::int32_t>& leaf_of) {
  const std::int64_t n = static_cast<std::int64_t>(leaf_of.size());
  std::vector<std::int32_t> leaves;
  for (std::size_t node = 0; node < tree.nodes.size(); ++node) {
    if (tree.nodes[node].is_leaf()) leaves.push_back(static_cast<std::int32_t>(node));
  }
  parallel::for_each(static_cast<std::int64_t>(leaves.size()), n > 8192 ? num_threads() : 1,
                     [&](std::int64_t l) {
                       const std::int32_t node = leaves[l];
                       for (std::int64_t j = grown.begin[node]; j < grown.end[node]; ++j) {
                         leaf_of[grown.order[j]] = node;
                       }
                     });
  std::vector<double> G(tree.nodes.size(), 0.0), H(tree.nodes.size(), 0.0);
  for (std::int64_t i = 0; i < n; ++i) {
    G[leaf_of[i]] += g[i * K + k];
    H[leaf_of[i]] += constant_hessian ? 1.0 : h[i * K + k];
  }
  tree.n_outputs = 1;
  tree.values.assign(tree.nodes.size(), 0.0);
  for (const std::int32_t node : leaves) {
    tree.values[node] = -o.learning_rate * G[node] / (H[node] + o.l2_regularization + 1e-15);
  }
}

// Column k of the raw scores += the new tree's leaf values: the training samples' from
// leaf_of, the validation samples' by walking the tree on the backend.
void update_scores(const Tree& tree, const std::vector<std::int32_t>& leaf_of, int K, int k,
                   const Tensor& X_val, Backend& backend, std::vector<double>& raw,
                   std::vector<double>& raw_val) {
  const std::int64_t n = static_cast<std::int64_t>(leaf_of.size());
  const double* value = tree.values.data();
  parallel::for_each_static(n, n > 8192 ? num_threads() : 1,
                            [&](std::int64_t i) { raw[i * K + k] += value[leaf_of[i]]; });
  const std::int64_t n_val = static_cast<std::int64_t>(raw_val.size()) / K;
  if (n_val == 0) return;
  detail::LeafValues lv;
  lv.columns = 1;
  const Tensor step =
      backend.to_host(detail::walk_sum(backend, detail::make_walk_table({&tree}, lv), X_val, 1.0));
  for (std::int64_t i = 0; i < n_val; ++i) raw_val[i * K + k] += step.data<float>()[i];
}

// Fits the boosted trees. y: targets (regression) or class codes 0..K−1 (classification).
// sw_all: empty, or one weight ≥ 0 per sample (scikit-learn's sample_weight). Each iteration:
// gradients at the current scores, then per class a tree grown on their histograms, its leaf
// values, and the scores moved by it; early stopping watches the (validation) loss.
// given: validation rows passed to fit (y as codes or targets), or nullptr.
BoostedTrees fit_boosting(const Tensor& X, const std::vector<double>& y_all, Loss loss,
                          int n_classes, const GradientBoostingOptions& o,
                          const BackendPtr& backend, const std::vector<double>& sw_all,
                          const TrainValidation* given = nullptr) {
  const std::int64_t d = X.cols();
  const int K = loss == Loss::multiclass ? n_classes : 1;
  BoostedTrees model;
  model.trees_per_iteration = K;
  model.n_features = d;
  model.importances.assign(d, 0.0);
  std::mt19937_64 rng(o.random_state);

  const bool early = o.early_stopping == "true" || (o.early_stopping == "auto" && X.rows() > 10000);
  TrainValidation s = given != nullptr && early
                          ? *given
                          : split_for_validation(X, y_all, sw_all, loss, n_classes, early,
                                                 o.validation_fraction, rng);
  const bool split = !s.y_val.empty();
  const std::int64_t n_train = static_cast<std::int64_t>(s.y.size());
  model.baseline = baseline_scores(loss, s.y, s.sw, n_classes, K);
  std::vector<double> raw(static_cast<std::size_t>(n_train) * K), raw_val(s.y_val.size() * K);
  for (std::size_t e = 0; e < raw.size(); ++e) raw[e] = model.baseline[e % K];
  for (std::size_t e = 0; e < raw_val.size(); ++e) raw_val[e] = model.baseline[e % K];

  // Binning and the histogram builder: once.
  const detail::BinnedTrainingSet data =
      detail::bin_training_set(s.X, o.max_bins, o.random_state, *backend, s.sw);
  detail::HistogramBuilder hist(backend, data.device_codes, data.device_offsets,
                                data.mapper.total_bins());
  detail::GrowerParams p = boosting_grower_params(loss, !s.sw.empty(), o);
  // Which features had a missing value among the training rows (weight 0 ones included, as
  // HistGradientBoosting counts them): one pass over the codes, host preprocessing as binning.
  std::vector<std::uint8_t> feature_has_missing(static_cast<std::size_t>(d), 0);
  for (std::int64_t f = 0; f < d; ++f) {
    const std::uint8_t* codes = data.codes.data() + f * n_train;
    const int missing_code = data.mapper.n_bins(f);
    feature_has_missing[f] =
        std::any_of(codes, codes + n_train, [&](std::uint8_t c) { return c == missing_code; });
  }
  p.feature_has_missing = feature_has_missing.data();
  const std::vector<std::vector<std::int32_t>> groups = interaction_groups(o, d);
  if (!groups.empty()) p.interaction_groups = &groups;

  // Scores are "higher is better": −loss, or the default score (accuracy / R²).
  auto score = [&](const std::vector<double>& r, const std::vector<double>& y,
                   const std::vector<double>& w) {
    return o.scoring == "loss" ? -mean_loss(loss, r, y, K, w)
                               : default_score(loss, r, y, K, w, o.scoring);
  };
  auto record_scores = [&] {
    model.train_score.push_back(score(raw, s.y, s.sw));
    if (split) model.validation_score.push_back(score(raw_val, s.y_val, s.sw_val));
  };
  if (early) record_scores();
  std::vector<double> g, h, g_max, h_max;
  Tensor V;
  std::vector<std::int32_t> leaf_of(static_cast<std::size_t>(n_train));
  std::vector<std::int32_t> all_rows(n_train);
  std::iota(all_rows.begin(), all_rows.end(), 0);
  for (std::int64_t it = 0; it < o.max_iter; ++it) {
    gradients(*backend, loss, raw, s.y, s.sw, K, g, h, g_max, h_max);
    for (int k = 0; k < K; ++k) {
      pack_statistics(g, h, K, k, g_max[k], h_max[k], n_train, p, V);
      hist.set_packed_values(V);
      std::mt19937_64 tree_rng(o.random_state + static_cast<std::uint64_t>(it * K + k));
      detail::GrownTree grown = detail::grow_tree(data.view(), hist, p, all_rows, tree_rng);
      Tree tree = std::move(grown.tree);
      fit_leaf_values(grown, g, h, K, k, p.constant_hessian, o, tree, leaf_of);
      update_scores(tree, leaf_of, K, k, s.X_val, *backend, raw, raw_val);
      for (std::int64_t f = 0; f < d; ++f) model.importances[f] += grown.importances[f];
      model.trees.push_back(std::move(tree));
    }
    model.n_iter = it + 1;
    if (early) {
      record_scores();
      if (detail::should_stop(split ? model.validation_score : model.train_score,
                              o.n_iter_no_change, o.tol)) {
        break;
      }
    }
  }
  return model;
}

void visit_options(Archive& a, GradientBoostingOptions& o) {
  a(o.loss, o.learning_rate, o.max_iter, o.max_leaf_nodes, o.max_depth, o.min_samples_leaf,
    o.l2_regularization, o.max_bins, o.early_stopping, o.scoring, o.validation_fraction,
    o.n_iter_no_change, o.tol, o.random_state);
  if (a.version() < 3) {
    o.interaction_cst.clear();
    return;
  }
  // Flattened: the number of groups, then each group's size and members.
  std::vector<std::int64_t> flat;
  if (!a.loading()) {
    flat.push_back(static_cast<std::int64_t>(o.interaction_cst.size()));
    for (const auto& group : o.interaction_cst) {
      flat.push_back(static_cast<std::int64_t>(group.size()));
      flat.insert(flat.end(), group.begin(), group.end());
    }
  }
  a(flat);
  if (!a.loading()) return;
  o.interaction_cst.clear();
  std::size_t at = 1;
  const std::int64_t n_groups = flat.empty() ? -1 : flat[0];
  MLCORE_CHECK(n_groups >= 0, "model file: inconsistent interaction_cst");
  for (std::int64_t grp = 0; grp < n_groups; ++grp) {
    MLCORE_CHECK(at < flat.size() && flat[at] >= 0 &&
                     static_cast<std::size_t>(flat[at]) <= flat.size() - at - 1,
                 "model file: inconsistent interaction_cst");
    const std::size_t size = static_cast<std::size_t>(flat[at]);
    o.interaction_cst.emplace_back(flat.begin() + at + 1, flat.begin() + at + 1 + size);
    at += size + 1;
  }
  MLCORE_CHECK(at == flat.size(), "model file: inconsistent interaction_cst");
}

void visit_model(Archive& a, BoostedTrees& m) {
  a(m.baseline, m.trees_per_iteration, m.n_iter, m.n_features, m.train_score, m.validation_score,
    m.importances);
  if (a.loading()) {
    MLCORE_CHECK(m.trees_per_iteration >= 1 &&
                     m.baseline.size() == static_cast<std::size_t>(m.trees_per_iteration) &&
                     m.n_iter >= 1 && m.n_iter < (std::int64_t{1} << 24) && m.n_features >= 1 &&
                     m.importances.size() == static_cast<std::size_t>(m.n_features),
                 "model file: inconsistent boosting model");
    m.trees.assign(m.n_iter * m.trees_per_iteration, Tree());
  }
  for (Tree& tree : m.trees) {
    tree.visit(a);
    if (!a.loading()) continue;
    for (const TreeNode& node : tree.nodes) {
      MLCORE_CHECK(node.feature < m.n_features, "model file: a node splits on feature "
                                                    << node.feature << " of " << m.n_features);
    }
  }
}

}  // namespace

// ---- BoostedTrees -------------------------------------------------------------------------------

namespace {

// The walk table of iterations [first, last): tree it·K + k adds its leaf value to column k
// (column 1 for binary_logits, whose column 0 stays 0), after a one-leaf tree adding the
// baseline when `with_baseline`.
detail::WalkTable iterations_table(const BoostedTrees& m, std::int64_t first, std::int64_t last,
                                   bool with_baseline, bool binary_logits) {
  const int K = m.trees_per_iteration;
  detail::LeafValues lv;
  lv.columns = binary_logits ? 2 : K;
  std::vector<const Tree*> trees;
  for (std::int64_t it = first; it < last; ++it) {
    for (int k = 0; k < K; ++k) {
      trees.push_back(&m.trees[it * K + k]);
      lv.column_of_tree.push_back(binary_logits ? 1 : k);
    }
  }
  if (with_baseline) {
    lv.constant = binary_logits ? std::vector<double>{0.0, m.baseline[0]} : m.baseline;
  }
  return detail::make_walk_table(trees, lv);
}

}  // namespace

void BoostedTrees::add_iteration(Backend& backend, const Tensor& X, std::int64_t iteration,
                                 Tensor& raw) const {
  MLCORE_CHECK(iteration >= 0 && iteration < n_iter,
               "iteration " << iteration << " is outside [0, " << n_iter << ")");
  check_shape(raw, X.rows(), trees_per_iteration, "raw");
  const Tensor step = detail::walk_sum(
      backend, iterations_table(*this, iteration, iteration + 1, false, false), X, 1.0);
  Tensor r = backend.to_device(raw);
  backend.axpby(1.0f, step, 1.0f, r);  // raw += step (exact: 1·x + 1·y)
  const Tensor host = backend.to_host(r);
  if (host.raw() != raw.raw()) std::memcpy(raw.raw(), host.raw(), raw.size_bytes());
}

Tensor BoostedTrees::raw_predict(Backend& backend, const Tensor& X, std::int64_t iterations,
                                 bool binary_logits) const {
  // The baseline first, then the trees in order, summed in double and rounded once.
  return detail::walk_sum(backend, iterations_table(*this, 0, iterations, true, binary_logits), X,
                          1.0);
}

// ---- GradientBoostingClassifier -----------------------------------------------------------------

GradientBoostingClassifier::GradientBoostingClassifier(Options options, BackendPtr backend)
    : Estimator(kClassifier, kModelVersion, std::move(backend)), options_(std::move(options)) {
  if (options_.loss.empty()) options_.loss = kDefaultLoss;
  MLCORE_CHECK(options_.loss == "log_loss",
               kClassifier << ": loss must be 'log_loss', got '" << options_.loss << "'");
  check_boosting_options(options_, kClassifier);
}

GradientBoostingClassifier& GradientBoostingClassifier::fit(const Tensor& X, const Tensor& y,
                                                            const Tensor& sample_weight,
                                                            const BoostingValidation& validation) {
  ProfileScope scope = begin_call();
  detail::check_tree_samples(X, kClassifier);
  detail::check_targets(y, X.rows(), kClassifier);
  const detail::LabelEncoding enc = detail::encode_labels(y, kClassifier, 2);
  const int n_classes = static_cast<int>(enc.classes.size());
  std::vector<double> codes(enc.code.begin(), enc.code.end());
  const std::vector<double> sw = boosting_weights(sample_weight, X.rows(), kClassifier);
  TrainValidation given;
  if (validation.X.numel() > 0) {
    // y_val's labels as the training labels' codes (enc.classes is sorted).
    detail::check_targets(validation.y, validation.y.numel(), kClassifier, "y_val");
    std::vector<double> val_codes;
    for (std::int64_t i = 0; i < validation.y.numel(); ++i) {
      const double label = validation.y.data<float>()[i];
      const auto at = std::lower_bound(enc.classes.begin(), enc.classes.end(), label);
      MLCORE_CHECK(
          at != enc.classes.end() && *at == label,
          kClassifier << ": y_val[" << i << "] = " << label << " is not one of the classes of y");
      val_codes.push_back(static_cast<double>(at - enc.classes.begin()));
    }
    given = given_validation(X, codes, sw, validation, std::move(val_codes), options_, kClassifier);
  }
  model_ = fit_boosting(X, codes, n_classes == 2 ? Loss::binary : Loss::multiclass, n_classes,
                        options_, backend(), sw, given.X_val.numel() > 0 ? &given : nullptr);
  classes_ = enc.classes;
  fitted_ = true;
  return *this;
}

Tensor GradientBoostingClassifier::decision_function(const Tensor& X) const {
  ProfileScope scope = begin_call();
  require_fitted();
  detail::check_tree_samples(X, kClassifier);
  detail::check_n_features(X, model_.n_features, kClassifier);
  return backend()->to_host(model_.raw_predict(*backend(), X, model_.n_iter));
}

// One logit per class (binary: [0, raw], whose softmax is [1 − σ(raw), σ(raw)]), on the device.
Tensor GradientBoostingClassifier::class_logits(const Tensor& X) const {
  require_fitted();
  detail::check_tree_samples(X, kClassifier);
  detail::check_n_features(X, model_.n_features, kClassifier);
  return model_.raw_predict(*backend(), X, model_.n_iter, classes_.size() == 2);
}

Tensor GradientBoostingClassifier::predict_proba(const Tensor& X) const {
  ProfileScope scope = begin_call();
  Tensor P = class_logits(X);
  backend()->softmax_rows(P, P);
  return backend()->to_host(P);
}

Tensor GradientBoostingClassifier::predict(const Tensor& X) const {
  // The class of the largest logit, first on ties (binary: raw > 0, as [0, raw] orders it).
  ProfileScope scope = begin_call();
  Tensor logits = class_logits(X);
  return detail::labels_of_max(*backend(), logits, classes_);
}

void GradientBoostingClassifier::add_iteration(const Tensor& X, std::int64_t iteration,
                                               Tensor& raw) const {
  require_fitted();
  detail::check_tree_samples(X, kClassifier);
  detail::check_n_features(X, model_.n_features, kClassifier);
  model_.add_iteration(*backend(), X, iteration, raw);
}

Tensor GradientBoostingClassifier::baseline_raw(std::int64_t n) const {
  require_fitted();
  Tensor raw(n, model_.trees_per_iteration);
  for (std::int64_t i = 0; i < raw.numel(); ++i) {
    raw.data<float>()[i] = static_cast<float>(model_.baseline[i % model_.trees_per_iteration]);
  }
  return raw;
}

const std::vector<double>& GradientBoostingClassifier::classes() const {
  require_fitted();
  return classes_;
}
std::int64_t GradientBoostingClassifier::n_features_in() const {
  require_fitted();
  return model_.n_features;
}
std::int64_t GradientBoostingClassifier::n_iter() const {
  require_fitted();
  return model_.n_iter;
}
int GradientBoostingClassifier::n_trees_per_iteration() const {
  require_fitted();
  return model_.trees_per_iteration;
}
const BoostedTrees& GradientBoostingClassifier::model() const {
  require_fitted();
  return model_;
}
Tensor GradientBoostingClassifier::feature_importances() const {
  require_fitted();
  return detail::normalized_importances(model_.importances);
}

void GradientBoostingClassifier::visit(Archive& a) {
  visit_options(a, options_);
  if (!a.fitted(fitted_, 2)) return;
  a(classes_);
  visit_model(a, model_);
  if (a.loading()) {
    MLCORE_CHECK(classes_.size() >= 2 && (classes_.size() == 2 ? 1u : classes_.size()) ==
                                             static_cast<std::size_t>(model_.trees_per_iteration),
                 kClassifier << ": inconsistent model file");
  }
}

// ---- GradientBoostingRegressor ------------------------------------------------------------------

GradientBoostingRegressor::GradientBoostingRegressor(Options options, BackendPtr backend)
    : Estimator(kRegressor, kModelVersion, std::move(backend)), options_(std::move(options)) {
  if (options_.loss.empty()) options_.loss = kDefaultLoss;
  MLCORE_CHECK(
      options_.loss == "squared_error" || options_.loss == "poisson" || options_.loss == "gamma",
      kRegressor << ": loss must be 'squared_error', 'poisson' or 'gamma', got '" << options_.loss
                 << "'");
  check_boosting_options(options_, kRegressor);
}

GradientBoostingRegressor& GradientBoostingRegressor::fit(const Tensor& X, const Tensor& y,
                                                          const Tensor& sample_weight,
                                                          const BoostingValidation& validation) {
  ProfileScope scope = begin_call();
  detail::check_tree_samples(X, kRegressor);
  detail::check_targets(y, X.rows(), kRegressor);
  std::vector<double> targets(y.data<float>(), y.data<float>() + y.numel());
  const Loss loss = regression_loss(options_.loss);
  // The targets a log link can fit (scikit-learn's rules and words).
  if (loss == Loss::gamma) {
    MLCORE_CHECK(std::all_of(targets.begin(), targets.end(), [](double v) { return v > 0; }),
                 "loss='gamma' requires strictly positive y.");
  } else if (loss == Loss::poisson) {
    MLCORE_CHECK(std::all_of(targets.begin(), targets.end(), [](double v) { return v >= 0; }) &&
                     std::accumulate(targets.begin(), targets.end(), 0.0) > 0,
                 "loss='poisson' requires non-negative y and sum(y) > 0.");
  }
  const std::vector<double> sw = boosting_weights(sample_weight, X.rows(), kRegressor);
  TrainValidation given;
  if (validation.X.numel() > 0) {
    detail::check_targets(validation.y, validation.y.numel(), kRegressor, "y_val");
    std::vector<double> y_val(validation.y.data<float>(),
                              validation.y.data<float>() + validation.y.numel());
    given = given_validation(X, targets, sw, validation, std::move(y_val), options_, kRegressor);
  }
  model_ = fit_boosting(X, targets, loss, 0, options_, backend(), sw,
                        given.X_val.numel() > 0 ? &given : nullptr);
  fitted_ = true;
  return *this;
}

Tensor GradientBoostingRegressor::predict(const Tensor& X) const {
  ProfileScope scope = begin_call();
  require_fitted();
  detail::check_tree_samples(X, kRegressor);
  detail::check_n_features(X, model_.n_features, kRegressor);
  Tensor raw = model_.raw_predict(*backend(), X, model_.n_iter);
  // The log link's inverse on the backend: the predicted mean e^raw.
  if (has_log_link(regression_loss(options_.loss))) backend()->map(MapFn::exp, raw, raw);
  return backend()->to_host(raw);
}

void GradientBoostingRegressor::add_iteration(const Tensor& X, std::int64_t iteration,
                                              Tensor& raw) const {
  require_fitted();
  detail::check_tree_samples(X, kRegressor);
  detail::check_n_features(X, model_.n_features, kRegressor);
  model_.add_iteration(*backend(), X, iteration, raw);
}

Tensor GradientBoostingRegressor::baseline_raw(std::int64_t n) const {
  require_fitted();
  Tensor raw(n, 1);
  for (std::int64_t i = 0; i < n; ++i) raw.data<float>()[i] = float(model_.baseline[0]);
  return raw;
}

std::int64_t GradientBoostingRegressor::n_features_in() const {
  require_fitted();
  return model_.n_features;
}
std::int64_t GradientBoostingRegressor::n_iter() const {
  require_fitted();
  return model_.n_iter;
}
const BoostedTrees& GradientBoostingRegressor::model() const {
  require_fitted();
  return model_;
}
Tensor GradientBoostingRegressor::feature_importances() const {
  require_fitted();
  return detail::normalized_importances(model_.importances);
}

void GradientBoostingRegressor::visit(Archive& a) {
  visit_options(a, options_);
  if (!a.fitted(fitted_, 2)) return;
  visit_model(a, model_);
  if (a.loading()) {
    MLCORE_CHECK(model_.trees_per_iteration == 1, kRegressor << ": inconsistent model file");
  }
}

}  // namespace mlcore
