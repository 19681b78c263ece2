// DecisionTreeClassifier and DecisionTreeRegressor: one histogram tree each (see
// include/mlcore/algorithms/trees/tree.hpp for the algorithm in terms of the primitives).
#include <algorithm>
#include <cmath>
#include <istream>
#include <numeric>
#include <ostream>
#include <random>

#include "algorithms/common/validate.hpp"
#include "algorithms/trees/flat_tree.hpp"
#include "algorithms/trees/tree_common.hpp"
#include "algorithms/trees/tree_impurity.hpp"
#include "mlcore/algorithms/trees/tree.hpp"
#include "mlcore/serialize.hpp"

namespace mlcore {

namespace {

constexpr const char* kClassifier = "DecisionTreeClassifier";
constexpr const char* kRegressor = "DecisionTreeRegressor";
// 2: the fitted flag (version 1 files were always fitted); saving works before fit.
// 3: max_leaf_nodes (older files: none).
// 4: ccp_alpha and each node's impurity (older files: 0, and no impurities).
constexpr std::uint32_t kModelVersion = 4;

detail::SplitCriterion classification_criterion(const std::string& name, const char* estimator) {
  if (name == "gini") return detail::SplitCriterion::gini;
  if (name == "entropy" || name == "log_loss") return detail::SplitCriterion::entropy;
  MLCORE_FAIL(estimator << ": criterion must be 'gini', 'entropy' or 'log_loss', got '" << name
                        << "'");
}

// The options' max_leaf_nodes, saved since model version 3 (older files: no limit).
void visit_max_leaf_nodes(Archive& a, std::int64_t& max_leaf_nodes) {
  if (a.version() >= 3) a(max_leaf_nodes);
}

void check_ccp_alpha(double ccp_alpha, const char* estimator) {
  MLCORE_CHECK(ccp_alpha >= 0 && std::isfinite(ccp_alpha),
               estimator << ": ccp_alpha must be a finite float >= 0, got " << ccp_alpha);
}

// The grown tree pruned with ccp_alpha (when > 0), and its unnormalized importances.
void finish_tree(Tree& tree, std::vector<double>& importances, double ccp_alpha,
                 std::int64_t n_features) {
  if (ccp_alpha <= 0) return;
  tree = prune_tree(tree, ccp_alpha);
  importances = detail::tree_importances(tree, n_features);
}

}  // namespace

// ---- DecisionTreeClassifier ---------------------------------------------------------------------

DecisionTreeClassifier::DecisionTreeClassifier(Options options, BackendPtr backend)
    : Estimator(kClassifier, kModelVersion, std::move(backend)), options_(std::move(options)) {
  classification_criterion(options_.criterion, kClassifier);
  detail::check_tree_options(kClassifier, options_.max_depth, options_.min_samples_split,
                             options_.min_samples_leaf, options_.min_impurity_decrease,
                             options_.max_bins, options_.max_leaf_nodes);
  options_.max_features.validate(kClassifier);
  check_ccp_alpha(options_.ccp_alpha, kClassifier);
}

DecisionTreeClassifier& DecisionTreeClassifier::fit(const Tensor& X, const Tensor& y,
                                                    const Tensor& sample_weight) {
  ProfileScope scope = begin_call();
  detail::check_tree_samples(X, kClassifier);
  detail::check_targets(y, X.rows(), kClassifier);
  const detail::LabelEncoding enc = detail::encode_labels(y, kClassifier, 1);
  const int n_classes = static_cast<int>(enc.classes.size());
  const std::int64_t n = X.rows(), d = X.cols();
  const std::vector<double> weights = detail::integer_sample_weights(sample_weight, n, kClassifier);

  Backend& b = *backend();
  detail::BinnedTrainingSet data =
      detail::bin_training_set(X, options_.max_bins, options_.random_state, b, weights);
  detail::HistogramBuilder hist(backend(), data.device_codes, data.device_offsets,
                                data.mapper.total_bins());
  // Statistics: one-hot class counts (n × K) times the sample weights, exact integers.
  hist.set_values(detail::class_weight_values(enc.code, n_classes, weights), n_classes);

  detail::GrowerParams p;
  p.criterion = classification_criterion(options_.criterion, kClassifier);
  p.n_stats = n_classes;
  p.max_depth = options_.max_depth;
  p.min_samples_split = options_.min_samples_split;
  p.min_samples_leaf = options_.min_samples_leaf;
  p.max_features = options_.max_features.resolve(d);
  p.min_impurity_decrease = options_.min_impurity_decrease;
  p.max_leaf_nodes = options_.max_leaf_nodes;
  std::mt19937_64 rng(options_.random_state);
  detail::GrownTree g =
      detail::grow_tree(data.view(), hist, p, detail::weighted_rows(weights, n), rng);

  // Node values: class probabilities from the exact class counts.
  tree_ = std::move(g.tree);
  tree_.n_outputs = n_classes;
  tree_.values.assign(tree_.nodes.size() * n_classes, 0.0);
  for (std::size_t k = 0; k < tree_.nodes.size(); ++k) {
    const double w = tree_.nodes[k].weighted_n_samples;
    for (int c = 0; c < n_classes; ++c) tree_.values[k * n_classes + c] = g.stats[k][c] / w;
  }
  detail::set_class_impurity(tree_, p.criterion == detail::SplitCriterion::entropy);
  classes_ = enc.classes;
  n_features_ = d;
  importances_ = std::move(g.importances);
  finish_tree(tree_, importances_, options_.ccp_alpha, d);
  fitted_ = true;
  return *this;
}

Tensor DecisionTreeClassifier::predict_proba(const Tensor& X) const {
  ProfileScope scope = begin_call();
  require_fitted();
  detail::check_tree_samples(X, kClassifier);
  detail::check_n_features(X, n_features_, kClassifier);
  return detail::tree_values(*backend(), tree_, X);
}

Tensor DecisionTreeClassifier::predict(const Tensor& X) const {
  ProfileScope scope = begin_call();
  require_fitted();
  detail::check_tree_samples(X, kClassifier);
  detail::check_n_features(X, n_features_, kClassifier);
  // Each leaf's label (its class of largest value, first on ties) as the leaf's one value:
  // O(nodes) here, and the rows' labels in one walk on the backend.
  detail::WalkTable table = detail::make_walk_table({&tree_}, {});
  table.values = Tensor(table.nodes.rows(), 1);
  const int k = tree_.n_outputs;
  for (std::size_t j = 0; j < tree_.nodes.size(); ++j) {
    if (!tree_.nodes[j].is_leaf()) continue;
    const double* v = tree_.value(static_cast<std::int32_t>(j));
    table.values.data<float>()[j] = static_cast<float>(classes_[std::max_element(v, v + k) - v]);
  }
  return backend()->to_host(detail::walk_sum(*backend(), table, X, 1.0));
}

Tensor DecisionTreeClassifier::apply(const Tensor& X) const {
  ProfileScope scope = begin_call();
  require_fitted();
  detail::check_tree_samples(X, kClassifier);
  detail::check_n_features(X, n_features_, kClassifier);
  return detail::apply_tree(*backend(), tree_, X);
}

const std::vector<double>& DecisionTreeClassifier::classes() const {
  require_fitted();
  return classes_;
}
std::int64_t DecisionTreeClassifier::n_features_in() const {
  require_fitted();
  return n_features_;
}
Tensor DecisionTreeClassifier::feature_importances() const {
  require_fitted();
  return detail::normalized_importances(importances_);
}
int DecisionTreeClassifier::get_depth() const {
  require_fitted();
  return tree_.max_depth();
}
std::int64_t DecisionTreeClassifier::get_n_leaves() const {
  require_fitted();
  return tree_.n_leaves();
}
const Tree& DecisionTreeClassifier::tree() const {
  require_fitted();
  return tree_;
}
PruningPath DecisionTreeClassifier::pruning_path() const {
  require_fitted();
  return cost_complexity_pruning_path(tree_);
}
void DecisionTreeClassifier::set_fitted(Tree tree, std::vector<double> classes,
                                        std::int64_t n_features) {
  MLCORE_CHECK(tree.n_outputs == static_cast<int>(classes.size()) && n_features >= 1,
               kClassifier << ": set_fitted: the tree has " << tree.n_outputs << " outputs for "
                           << classes.size() << " classes");
  importances_ = detail::tree_importances(tree, n_features);
  tree_ = std::move(tree);
  classes_ = std::move(classes);
  n_features_ = n_features;
  fitted_ = true;
}

void DecisionTreeClassifier::visit(Archive& a) {
  a(options_.criterion, options_.max_depth, options_.min_samples_split, options_.min_samples_leaf);
  options_.max_features.visit(a);
  a(options_.min_impurity_decrease, options_.random_state, options_.max_bins);
  visit_max_leaf_nodes(a, options_.max_leaf_nodes);
  if (a.version() >= 4) a(options_.ccp_alpha);
  if (!a.fitted(fitted_, 2)) return;
  a(classes_, n_features_, importances_);
  tree_.visit(a);
  if (a.version() >= 4) {
    tree_.visit_impurity(a);
  } else if (a.loading()) {
    tree_.impurity.clear();
  }
  if (a.loading()) {
    MLCORE_CHECK(tree_.n_outputs == static_cast<int>(classes_.size()) &&
                     static_cast<std::int64_t>(importances_.size()) == n_features_,
                 kClassifier << ": inconsistent model file");
  }
}

// ---- DecisionTreeRegressor ----------------------------------------------------------------------

DecisionTreeRegressor::DecisionTreeRegressor(Options options, BackendPtr backend)
    : Estimator(kRegressor, kModelVersion, std::move(backend)), options_(std::move(options)) {
  detail::check_regression_criterion(options_.criterion, kRegressor);
  detail::check_tree_options(kRegressor, options_.max_depth, options_.min_samples_split,
                             options_.min_samples_leaf, options_.min_impurity_decrease,
                             options_.max_bins, options_.max_leaf_nodes);
  options_.max_features.validate(kRegressor);
  check_ccp_alpha(options_.ccp_alpha, kRegressor);
}

DecisionTreeRegressor& DecisionTreeRegressor::fit(const Tensor& X, const Tensor& y,
                                                  const Tensor& sample_weight) {
  ProfileScope scope = begin_call();
  detail::check_tree_samples(X, kRegressor);
  detail::check_targets(y, X.rows(), kRegressor);
  const std::int64_t n = X.rows(), d = X.cols();
  const float* yv = y.data<float>();
  const std::vector<double> weights = detail::integer_sample_weights(sample_weight, n, kRegressor);
  auto weight = [&](std::int64_t i) { return weights.empty() ? 1.0 : weights[i]; };
  double center = 0, total = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    center += weight(i) * yv[i];
    total += weight(i);
  }
  center /= total;

  Backend& b = *backend();
  detail::BinnedTrainingSet data =
      detail::bin_training_set(X, options_.max_bins, options_.random_state, b, weights);
  detail::HistogramBuilder hist(backend(), data.device_codes, data.device_offsets,
                                data.mapper.total_bins());
  // Statistics: [count, Σ quantized (y − mean)], packed in one i64 — exact integer sums
  // (PackedCodec in tree_histogram.hpp).
  detail::PackedCodec codec;
  const Tensor V = detail::regression_values(yv, n, weights, center, codec);
  hist.set_packed_values(V);

  detail::GrowerParams p;
  p.criterion = detail::SplitCriterion::squared_error;
  p.n_stats = 2;
  p.value_scale = codec.scale;
  p.max_depth = options_.max_depth;
  p.min_samples_split = options_.min_samples_split;
  p.min_samples_leaf = options_.min_samples_leaf;
  p.max_features = options_.max_features.resolve(d);
  p.min_impurity_decrease = options_.min_impurity_decrease;
  p.max_leaf_nodes = options_.max_leaf_nodes;
  p.require_positive_gain = true;
  std::mt19937_64 rng(options_.random_state);
  detail::GrownTree g =
      detail::grow_tree(data.view(), hist, p, detail::weighted_rows(weights, n), rng);

  // Node values: the mean target. Leaves exactly (a host pass over their samples, O(n) per
  // tree in all); inner nodes from the quantized sums.
  tree_ = std::move(g.tree);
  tree_.n_outputs = 1;
  tree_.values.assign(tree_.nodes.size(), 0.0);
  for (std::size_t k = 0; k < tree_.nodes.size(); ++k) {
    if (tree_.nodes[k].is_leaf()) {
      double sum = 0, wsum = 0;  // the leaf's exact weighted mean
      for (std::int64_t j = g.begin[k]; j < g.end[k]; ++j) {
        sum += weight(g.order[j]) * yv[g.order[j]];
        wsum += weight(g.order[j]);
      }
      tree_.values[k] = sum / wsum;
    } else {
      tree_.values[k] = center + g.stats[k][1] / (g.stats[k][0] * codec.scale);
    }
  }
  detail::set_regression_impurity(tree_, g, yv, weights);
  n_features_ = d;
  importances_ = std::move(g.importances);
  finish_tree(tree_, importances_, options_.ccp_alpha, d);
  fitted_ = true;
  return *this;
}

Tensor DecisionTreeRegressor::predict(const Tensor& X) const {
  ProfileScope scope = begin_call();
  require_fitted();
  detail::check_tree_samples(X, kRegressor);
  detail::check_n_features(X, n_features_, kRegressor);
  return detail::tree_values(*backend(), tree_, X);
}

Tensor DecisionTreeRegressor::apply(const Tensor& X) const {
  ProfileScope scope = begin_call();
  require_fitted();
  detail::check_tree_samples(X, kRegressor);
  detail::check_n_features(X, n_features_, kRegressor);
  return detail::apply_tree(*backend(), tree_, X);
}

std::int64_t DecisionTreeRegressor::n_features_in() const {
  require_fitted();
  return n_features_;
}
Tensor DecisionTreeRegressor::feature_importances() const {
  require_fitted();
  return detail::normalized_importances(importances_);
}
int DecisionTreeRegressor::get_depth() const {
  require_fitted();
  return tree_.max_depth();
}
std::int64_t DecisionTreeRegressor::get_n_leaves() const {
  require_fitted();
  return tree_.n_leaves();
}
const Tree& DecisionTreeRegressor::tree() const {
  require_fitted();
  return tree_;
}
PruningPath DecisionTreeRegressor::pruning_path() const {
  require_fitted();
  return cost_complexity_pruning_path(tree_);
}
void DecisionTreeRegressor::set_fitted(Tree tree, std::int64_t n_features) {
  MLCORE_CHECK(tree.n_outputs == 1 && n_features >= 1,
               kRegressor << ": set_fitted: the tree has " << tree.n_outputs << " outputs");
  importances_ = detail::tree_importances(tree, n_features);
  tree_ = std::move(tree);
  n_features_ = n_features;
  fitted_ = true;
}

void DecisionTreeRegressor::visit(Archive& a) {
  a(options_.criterion, options_.max_depth, options_.min_samples_split, options_.min_samples_leaf);
  options_.max_features.visit(a);
  a(options_.min_impurity_decrease, options_.random_state, options_.max_bins);
  visit_max_leaf_nodes(a, options_.max_leaf_nodes);
  if (a.version() >= 4) a(options_.ccp_alpha);
  if (!a.fitted(fitted_, 2)) return;
  a(n_features_, importances_);
  tree_.visit(a);
  if (a.version() >= 4) {
    tree_.visit_impurity(a);
  } else if (a.loading()) {
    tree_.impurity.clear();
  }
  if (a.loading()) {
    MLCORE_CHECK(
        tree_.n_outputs == 1 && static_cast<std::int64_t>(importances_.size()) == n_features_,
        kRegressor << ": inconsistent model file");
  }
}

}  // namespace mlcore
