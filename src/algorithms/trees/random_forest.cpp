// RandomForestClassifier and RandomForestRegressor (see
// include/mlcore/algorithms/trees/forest.hpp): bootstrap weights, trees grown in parallel on the
// shared binned data, averaged predictions.
#include <algorithm>
#include <cmath>
#include <istream>
#include <iterator>
#include <limits>
#include <memory>
#include <ostream>
#include <random>

#include "algorithms/common/validate.hpp"
#include "algorithms/trees/flat_tree.hpp"
#include "algorithms/trees/tree_common.hpp"
#include "algorithms/trees/tree_impurity.hpp"
#include "algorithms/trees/tree_parallel.hpp"
#include "mlcore/algorithms/trees/forest.hpp"
#include "mlcore/serialize.hpp"

namespace mlcore {

namespace {

constexpr const char* kClassifier = "RandomForestClassifier";
constexpr const char* kRegressor = "RandomForestRegressor";
// 2: the fitted flag (version 1 files were always fitted); saving works before fit.
// 3: max_leaf_nodes, max_samples, warm_start (older files: None, None, False).
// 4: each node's impurity (older files: none).
constexpr std::uint32_t kModelVersion = 4;

template <class Options>
void check_forest_options(const Options& o, const char* estimator) {
  MLCORE_CHECK(o.n_estimators >= 1,
               estimator << ": n_estimators must be an integer ≥ 1, got " << o.n_estimators);
  detail::check_tree_options(estimator, o.max_depth, o.min_samples_split, o.min_samples_leaf,
                             o.min_impurity_decrease, o.max_bins, o.max_leaf_nodes);
  o.max_features.validate(estimator);
  o.max_samples.validate(estimator, o.bootstrap);
  MLCORE_CHECK(o.bootstrap || !o.oob_score,
               estimator << ": oob_score=True needs bootstrap=True (no sample is out of bag)");
}

// What differs between the classifier and the regressor while growing.
struct ForestTarget {
  bool classification = true;
  int n_classes = 0;
  const std::vector<std::int32_t>* codes = nullptr;  // classification
  const float* y = nullptr;                          // regression
  double center = 0;                                 // regression: mean of y
};

// Tree t's generator, with its bootstrap counts drawn (empty without bootstrap): the one
// place that fixes the order of tree t's draws, for growing it and for finding its out-of-bag
// samples again (a warm-started forest's earlier trees included).
// `seed`: forest_tree_seed(random_state, t) of the fit that grew it.
template <class Options>
std::mt19937_64 tree_generator(const Options& o, std::uint64_t seed, std::int64_t n,
                               std::vector<double>& counts) {
  std::mt19937_64 rng(seed);
  counts.clear();
  if (o.bootstrap) counts = detail::bootstrap_counts(rng, n, o.max_samples.resolve(n));
  return rng;
}

template <class Options>
// Grows trees t = first … n_estimators − 1 (a warm start has the others).
// sample_weight: empty, or integer weights (integer_sample_weights) that multiply each tree's
// bootstrap counts, as scikit-learn's forests do.
std::vector<Tree> grow_forest(const Tensor& X, const ForestTarget& target, const Options& o,
                              std::int64_t first, const BackendPtr& backend,
                              detail::SplitCriterion criterion,
                              const std::vector<double>& sample_weight) {
  if (first >= o.n_estimators) return {};  // a warm start with nothing to add bins nothing
  const std::int64_t n = X.rows(), d = X.cols();
  // Binning and the scatter_add index: once for all trees.
  const detail::BinnedTrainingSet data =
      detail::bin_training_set(X, o.max_bins, o.random_state, *backend, sample_weight);
  std::vector<Tree> trees(o.n_estimators - first);
  const int threads = o.n_jobs > 0 ? o.n_jobs : detail::tree_threads();
  // One histogram builder per thread, reused by the trees that thread grows (its device
  // buffers are allocated once, not once per tree).
  std::vector<std::unique_ptr<detail::HistogramBuilder>> builders(std::max(threads, 1));

  detail::parallel_for_profiled(o.n_estimators - first, threads, [&](std::int64_t j, int worker) {
    // The bootstrap sample as integer weights: w_i = times sample i was drawn.
    std::vector<double> weights;
    std::mt19937_64 rng =
        tree_generator(o, detail::forest_tree_seed(o.random_state, first + j), n, weights);
    std::vector<std::int32_t> rows;
    if (o.bootstrap) {
      for (std::int64_t i = 0; i < n; ++i) {
        if (!sample_weight.empty()) weights[i] *= sample_weight[i];
        if (weights[i] > 0) rows.push_back(static_cast<std::int32_t>(i));
      }
    } else {
      weights = sample_weight;
      rows = detail::weighted_rows(weights, n);
    }
    // This tree's statistics (its own weights), on the device; the index is shared.
    std::unique_ptr<detail::HistogramBuilder>& slot =
        builders[std::min<int>(worker, static_cast<int>(builders.size()) - 1)];
    if (!slot) {
      slot = std::make_unique<detail::HistogramBuilder>(
          backend, data.device_codes, data.device_offsets, data.mapper.total_bins());
    }
    detail::HistogramBuilder& hist = *slot;
    detail::GrowerParams p;
    p.criterion = criterion;
    detail::PackedCodec codec;
    if (target.classification) {
      hist.set_values(detail::class_weight_values(*target.codes, target.n_classes, weights),
                      target.n_classes);
      p.n_stats = target.n_classes;
    } else {
      const Tensor V = detail::regression_values(target.y, n, weights, target.center, codec);
      hist.set_packed_values(V);
      p.n_stats = 2;
      p.value_scale = codec.scale;
      p.require_positive_gain = true;
    }
    p.max_depth = o.max_depth;
    p.min_samples_split = o.min_samples_split;
    p.min_samples_leaf = o.min_samples_leaf;
    p.max_features = o.max_features.resolve(d);
    p.min_impurity_decrease = o.min_impurity_decrease;
    p.max_leaf_nodes = o.max_leaf_nodes;
    detail::GrownTree g = detail::grow_tree(data.view(), hist, p, std::move(rows), rng);

    Tree& tree = trees[j];
    tree = std::move(g.tree);
    const int k_out = target.classification ? target.n_classes : 1;
    tree.n_outputs = k_out;
    tree.values.assign(tree.nodes.size() * k_out, 0.0);
    for (std::size_t k = 0; k < tree.nodes.size(); ++k) {
      const double w = tree.nodes[k].weighted_n_samples;
      if (target.classification) {
        for (int c = 0; c < k_out; ++c) tree.values[k * k_out + c] = g.stats[k][c] / w;
      } else if (tree.nodes[k].is_leaf()) {  // exact weighted mean of the leaf's targets
        double sum = 0, wsum = 0;
        for (std::int64_t j = g.begin[k]; j < g.end[k]; ++j) {
          const std::int32_t i = g.order[j];
          const double wi = weights.empty() ? 1.0 : weights[i];
          sum += wi * target.y[i];
          wsum += wi;
        }
        tree.values[k] = sum / wsum;
      } else {
        tree.values[k] = target.center + g.stats[k][1] / (g.stats[k][0] * codec.scale);
      }
    }
    if (target.classification) {
      detail::set_class_impurity(tree, criterion == detail::SplitCriterion::entropy);
    } else {
      detail::set_regression_impurity(tree, g, target.y, weights);
    }
  });
  return trees;
}

// scikit-learn's forest importances: the mean over trees (of more than one node) of each tree's
// normalized importances, normalized again. A tree's importance of a feature is the sum of its
// splits' gains on it (TreeNode::gain), added in the order the grower made the splits (that of
// their children's numbers), so that the sums are the grower's to the last bit (and the
// distributed forest's, mlcore/dask/ensemble.py).
std::vector<double> forest_importances(const std::vector<Tree>& trees, std::int64_t d) {
  std::vector<double> mean(d, 0.0), own(d);
  std::vector<const TreeNode*> splits;
  for (const Tree& tree : trees) {
    if (tree.nodes.size() <= 1) continue;
    splits.clear();
    for (const TreeNode& node : tree.nodes) {
      if (!node.is_leaf()) splits.push_back(&node);
    }
    std::sort(splits.begin(), splits.end(),
              [](const TreeNode* a, const TreeNode* b) { return a->left < b->left; });
    std::fill(own.begin(), own.end(), 0.0);
    for (const TreeNode* node : splits) own[node->feature] += node->gain;
    double total = 0;
    for (const double v : own) total += v;
    if (total <= 0) continue;
    for (std::int64_t j = 0; j < d; ++j) mean[j] += own[j] / total;
  }
  return mean;  // normalized_importances() divides by the sum
}

// The mean over trees of the leaf values each row of X reaches (n × n_outputs), walked on the
// backend (Backend::tree_walk_sum, scale 1/T); left on the backend's device.
Tensor mean_over_trees(Backend& backend, const std::vector<Tree>& trees, const Tensor& X) {
  std::vector<const Tree*> all;
  for (const Tree& t : trees) all.push_back(&t);
  detail::LeafValues lv;
  lv.columns = trees.front().n_outputs;
  return detail::walk_sum(backend, detail::make_walk_table(all, lv), X, 1.0 / double(trees.size()));
}

// Out-of-bag sums: for every sample, Σ over the trees it was out of bag for (n × k), and how
// many such trees. Each tree's bootstrap is drawn again from its generator (O(n) per tree).
template <class Options>
void oob_sums(const std::vector<Tree>& trees, const std::vector<std::uint64_t>& seeds,
              const Options& o, const Tensor& X, std::vector<double>& sums,
              std::vector<std::int64_t>& counts) {
  const std::int64_t n = X.rows(), d = X.cols();
  const int k = trees.front().n_outputs;
  sums.assign(static_cast<std::size_t>(n) * k, 0.0);
  counts.assign(n, 0);
  const float* x = X.data<float>();
  std::vector<double> drawn;
  for (std::size_t t = 0; t < trees.size(); ++t) {
    tree_generator(o, seeds[t], n, drawn);
    for (std::int64_t i = 0; i < n; ++i) {
      if (drawn[i] > 0) continue;
      const double* v = trees[t].value(trees[t].apply_one(x + i * d));
      for (int c = 0; c < k; ++c) sums[i * k + c] += v[c];
      ++counts[i];
    }
  }
}

// How many of the trees held a fit keeps: all when warm-starting a fitted forest (n_estimators
// must not be fewer, scikit-learn's rule), else none.
template <class Options>
std::int64_t kept_trees(const Options& o, bool fitted, const std::vector<Tree>& trees,
                        const char* estimator) {
  if (!o.warm_start || !fitted) return 0;
  const auto held = static_cast<std::int64_t>(trees.size());
  MLCORE_CHECK(o.n_estimators >= held, estimator << ": n_estimators=" << o.n_estimators
                                                 << " must be larger or equal to len(estimators_)="
                                                 << held << " when warm_start==True");
  return held;
}

// The generator seeds of trees first … n_estimators − 1 after the `first` kept ones.
template <class Options>
void append_seeds(const Options& o, std::int64_t first, std::vector<std::uint64_t>& seeds) {
  seeds.resize(first);
  for (std::int64_t t = first; t < o.n_estimators; ++t) {
    seeds.push_back(detail::forest_tree_seed(o.random_state, t));
  }
}

// Each tree's generator seed (files before model version 3: those of the options'
// random_state, the only one a forest was then grown with).
template <class Options>
void visit_seeds(Archive& a, const Options& o, std::size_t n_trees,
                 std::vector<std::uint64_t>& seeds) {
  if (a.version() >= 3) {
    std::vector<std::int64_t> bits(seeds.begin(), seeds.end());  // the same 64 bits
    a(bits);
    seeds.assign(bits.begin(), bits.end());
    MLCORE_CHECK(seeds.size() == n_trees,
                 "model file: " << seeds.size() << " tree seeds for " << n_trees << " trees");
  } else if (a.loading()) {
    seeds.clear();
    Options all = o;
    all.n_estimators = static_cast<std::int64_t>(n_trees);
    append_seeds(all, 0, seeds);
  }
}

// The leaf of every row of X in every tree (n × T i32, host), one walk per tree on the backend.
Tensor forest_apply(Backend& backend, const std::vector<Tree>& trees, const Tensor& X) {
  const std::int64_t n = X.rows(), n_trees = static_cast<std::int64_t>(trees.size());
  Tensor out(n, n_trees, DType::i32);
  for (std::int64_t t = 0; t < n_trees; ++t) {
    const Tensor leaves = detail::apply_tree(backend, trees[t], X);
    const std::int32_t* l = leaves.data<std::int32_t>();
    for (std::int64_t i = 0; i < n; ++i) out.data<std::int32_t>()[i * n_trees + t] = l[i];
  }
  return out;
}

template <class Options>
void visit_forest_options(Archive& a, Options& o) {
  a(o.n_estimators, o.criterion, o.max_depth, o.min_samples_split, o.min_samples_leaf);
  o.max_features.visit(a);
  a(o.min_impurity_decrease, o.bootstrap, o.oob_score, o.n_jobs, o.random_state, o.max_bins);
  if (a.version() < 3) return;
  a(o.max_leaf_nodes);
  o.max_samples.visit(a);
  a(o.warm_start);
}

// The number of trees, then each tree; loading checks each against the model.
void visit_trees(Archive& a, std::vector<Tree>& trees, std::int64_t n_features, int n_outputs) {
  std::int64_t count = static_cast<std::int64_t>(trees.size());
  a(count);
  if (a.loading()) {
    MLCORE_CHECK(count >= 1 && count < (std::int64_t{1} << 24),
                 "model file: invalid number of trees " << count);
    trees.assign(count, Tree());
  }
  for (std::int64_t t = 0; t < count; ++t) {
    trees[t].visit(a);
    if (a.version() >= 4) trees[t].visit_impurity(a);
    if (!a.loading()) continue;
    MLCORE_CHECK(trees[t].n_outputs == n_outputs, "model file: tree "
                                                      << t << " has " << trees[t].n_outputs
                                                      << " outputs, expected " << n_outputs);
    for (const TreeNode& node : trees[t].nodes) {
      MLCORE_CHECK(node.feature < n_features,
                   "model file: a node splits on feature " << node.feature << " of " << n_features);
    }
  }
}

}  // namespace

// ---- MaxSamples ---------------------------------------------------------------------------------

std::int64_t MaxSamples::resolve(std::int64_t n_samples) const {
  // scikit-learn's max(int(fraction · n), 1) for a fraction: truncated, and more than n allowed.
  double draws = double(n_samples);
  if (kind == Kind::count) draws = value;
  if (kind == Kind::fraction) draws = std::max(std::floor(value * double(n_samples)), 1.0);
  // A tree's counts are exact integer histogram statistics (tree_histogram.hpp).
  MLCORE_CHECK(
      draws <= detail::kMaxTotalWeight,
      "max_samples = " << value << " gives " << draws
                       << " bootstrap draws; the trees' exact counts hold at most 2^24 − 1");
  return static_cast<std::int64_t>(draws);
}

void MaxSamples::validate(const char* estimator, bool bootstrap) const {
  MLCORE_CHECK(bootstrap || kind == Kind::all,
               estimator << ": `max_sample` cannot be set if `bootstrap=False`. Either switch to "
                            "`bootstrap=True` or set `max_sample=None`.");
  if (kind == Kind::count) {
    MLCORE_CHECK(value >= 1 && value == std::floor(value) && value < 9.0e15,
                 estimator << ": max_samples as a count must be an integer ≥ 1, got " << value);
  } else if (kind == Kind::fraction) {
    MLCORE_CHECK(value > 0 && std::isfinite(value),
                 estimator << ": max_samples as a fraction must be > 0, got " << value);
  }
}

void MaxSamples::visit(Archive& a) {
  a.enumeration(kind, Kind::fraction);
  a(value);
}

// ---- RandomForestClassifier ---------------------------------------------------------------------

RandomForestClassifier::RandomForestClassifier(Options options, BackendPtr backend)
    : Estimator(kClassifier, kModelVersion, std::move(backend)), options_(std::move(options)) {
  MLCORE_CHECK(options_.criterion == "gini" || options_.criterion == "entropy" ||
                   options_.criterion == "log_loss",
               kClassifier << ": criterion must be 'gini', 'entropy' or 'log_loss', got '"
                           << options_.criterion << "'");
  check_forest_options(options_, kClassifier);
}

RandomForestClassifier& RandomForestClassifier::fit(const Tensor& X, const Tensor& y,
                                                    const Tensor& sample_weight) {
  ProfileScope scope = begin_call();
  detail::check_tree_samples(X, kClassifier);
  detail::check_targets(y, X.rows(), kClassifier);
  const detail::LabelEncoding enc = detail::encode_labels(y, kClassifier, 1);
  ForestTarget target;
  target.classification = true;
  target.n_classes = static_cast<int>(enc.classes.size());
  target.codes = &enc.code;
  const detail::SplitCriterion criterion =
      options_.criterion == "gini" ? detail::SplitCriterion::gini : detail::SplitCriterion::entropy;
  const std::int64_t first = kept_trees(options_, fitted_, trees_, kClassifier);
  if (first > 0) {
    MLCORE_CHECK(enc.classes == classes_ && X.cols() == n_features_,
                 kClassifier << ": warm_start needs the classes and the number of features of "
                                "the fit it continues");
  }
  std::vector<Tree> grown =
      grow_forest(X, target, options_, first, backend(), criterion,
                  detail::integer_sample_weights(sample_weight, X.rows(), kClassifier));
  if (first == 0) trees_.clear();
  std::move(grown.begin(), grown.end(), std::back_inserter(trees_));
  append_seeds(options_, first, seeds_);
  const std::int64_t n = X.rows(), k = target.n_classes;
  if (options_.oob_score) {
    std::vector<double> sums;
    std::vector<std::int64_t> counts;
    oob_sums(trees_, seeds_, options_, X, sums, counts);
    oob_decision_ = Tensor(n, k);
    std::int64_t correct = 0, scored = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      const double* s = sums.data() + i * k;
      for (std::int64_t c = 0; c < k; ++c) {
        oob_decision_.at<float>(i, c) = counts[i] > 0 ? static_cast<float>(s[c] / counts[i])
                                                      : std::numeric_limits<float>::quiet_NaN();
      }
      if (counts[i] == 0) continue;
      ++scored;
      correct += (std::max_element(s, s + k) - s) == enc.code[i];
    }
    oob_score_ = scored > 0 ? double(correct) / double(scored) : 0.0;
  }
  importances_ = forest_importances(trees_, X.cols());
  classes_ = enc.classes;
  n_features_ = X.cols();
  fitted_ = true;
  return *this;
}

Tensor RandomForestClassifier::predict_proba(const Tensor& X) const {
  ProfileScope scope = begin_call();
  require_fitted();
  detail::check_tree_samples(X, kClassifier);
  detail::check_n_features(X, n_features_, kClassifier);
  return backend()->to_host(mean_over_trees(*backend(), trees_, X));
}

Tensor RandomForestClassifier::predict(const Tensor& X) const {
  ProfileScope scope = begin_call();
  require_fitted();
  detail::check_tree_samples(X, kClassifier);
  detail::check_n_features(X, n_features_, kClassifier);
  Tensor P = mean_over_trees(*backend(), trees_, X);
  return detail::labels_of_max(*backend(), P, classes_);
}

const std::vector<double>& RandomForestClassifier::classes() const {
  require_fitted();
  return classes_;
}
std::int64_t RandomForestClassifier::n_features_in() const {
  require_fitted();
  return n_features_;
}
const std::vector<Tree>& RandomForestClassifier::trees() const {
  require_fitted();
  return trees_;
}
Tensor RandomForestClassifier::feature_importances() const {
  require_fitted();
  return detail::normalized_importances(importances_);
}
double RandomForestClassifier::oob_score() const {
  require_fitted();
  MLCORE_CHECK(options_.oob_score,
               kClassifier << ": oob_score is only computed with oob_score=True");
  return oob_score_;
}
Tensor RandomForestClassifier::apply(const Tensor& X) const {
  ProfileScope scope = begin_call();
  require_fitted();
  detail::check_tree_samples(X, kClassifier);
  detail::check_n_features(X, n_features_, kClassifier);
  return forest_apply(*backend(), trees_, X);
}
void RandomForestClassifier::warm_start_from(const RandomForestClassifier& fitted) {
  fitted.require_fitted();
  classes_ = fitted.classes_;
  n_features_ = fitted.n_features_;
  trees_ = fitted.trees_;
  seeds_ = fitted.seeds_;
  importances_ = fitted.importances_;
  fitted_ = true;
}
Tensor RandomForestClassifier::oob_decision_function() const {
  require_fitted();
  MLCORE_CHECK(options_.oob_score, kClassifier << ": oob_decision_function is only computed with "
                                                  "oob_score=True");
  return oob_decision_;
}

void RandomForestClassifier::visit(Archive& a) {
  visit_forest_options(a, options_);
  if (!a.fitted(fitted_, 2)) return;
  a(classes_, n_features_, importances_, oob_score_);
  bool has_oob = options_.oob_score;
  a(has_oob);
  if (has_oob) a(oob_decision_);
  visit_trees(a, trees_, n_features_, static_cast<int>(classes_.size()));
  visit_seeds(a, options_, trees_.size(), seeds_);
  if (a.loading()) {
    MLCORE_CHECK(static_cast<std::int64_t>(importances_.size()) == n_features_,
                 kClassifier << ": inconsistent model file");
  }
}

// ---- RandomForestRegressor ----------------------------------------------------------------------

RandomForestRegressor::RandomForestRegressor(Options options, BackendPtr backend)
    : Estimator(kRegressor, kModelVersion, std::move(backend)), options_(std::move(options)) {
  detail::check_regression_criterion(options_.criterion, kRegressor);
  check_forest_options(options_, kRegressor);
}

RandomForestRegressor& RandomForestRegressor::fit(const Tensor& X, const Tensor& y,
                                                  const Tensor& sample_weight) {
  ProfileScope scope = begin_call();
  detail::check_tree_samples(X, kRegressor);
  detail::check_targets(y, X.rows(), kRegressor);
  const std::int64_t n = X.rows();
  ForestTarget target;
  target.classification = false;
  target.y = y.data<float>();
  for (std::int64_t i = 0; i < n; ++i) target.center += target.y[i];
  target.center /= double(n);
  const std::int64_t first = kept_trees(options_, fitted_, trees_, kRegressor);
  MLCORE_CHECK(first == 0 || X.cols() == n_features_,
               kRegressor << ": warm_start needs the number of features of the fit it continues");
  std::vector<Tree> grown =
      grow_forest(X, target, options_, first, backend(), detail::SplitCriterion::squared_error,
                  detail::integer_sample_weights(sample_weight, X.rows(), kRegressor));
  if (first == 0) trees_.clear();
  std::move(grown.begin(), grown.end(), std::back_inserter(trees_));
  append_seeds(options_, first, seeds_);
  if (options_.oob_score) {
    std::vector<double> sums;
    std::vector<std::int64_t> counts;
    oob_sums(trees_, seeds_, options_, X, sums, counts);
    oob_prediction_ = Tensor(n, 1);
    double mean = 0;
    std::int64_t scored = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      if (counts[i] > 0) {
        mean += target.y[i];
        ++scored;
      }
    }
    mean /= std::max<std::int64_t>(scored, 1);
    double ss_res = 0, ss_tot = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      if (counts[i] == 0) {
        oob_prediction_.at<float>(i, 0) = std::numeric_limits<float>::quiet_NaN();
        continue;
      }
      const double pred = sums[i] / counts[i];
      oob_prediction_.at<float>(i, 0) = static_cast<float>(pred);
      ss_res += (target.y[i] - pred) * (target.y[i] - pred);
      ss_tot += (target.y[i] - mean) * (target.y[i] - mean);
    }
    oob_score_ = ss_tot > 0 ? 1.0 - ss_res / ss_tot : 0.0;
  }
  importances_ = forest_importances(trees_, X.cols());
  n_features_ = X.cols();
  fitted_ = true;
  return *this;
}

Tensor RandomForestRegressor::predict(const Tensor& X) const {
  ProfileScope scope = begin_call();
  require_fitted();
  detail::check_tree_samples(X, kRegressor);
  detail::check_n_features(X, n_features_, kRegressor);
  return backend()->to_host(mean_over_trees(*backend(), trees_, X));
}

std::int64_t RandomForestRegressor::n_features_in() const {
  require_fitted();
  return n_features_;
}
const std::vector<Tree>& RandomForestRegressor::trees() const {
  require_fitted();
  return trees_;
}
Tensor RandomForestRegressor::feature_importances() const {
  require_fitted();
  return detail::normalized_importances(importances_);
}
double RandomForestRegressor::oob_score() const {
  require_fitted();
  MLCORE_CHECK(options_.oob_score,
               kRegressor << ": oob_score is only computed with oob_score=True");
  return oob_score_;
}
Tensor RandomForestRegressor::apply(const Tensor& X) const {
  ProfileScope scope = begin_call();
  require_fitted();
  detail::check_tree_samples(X, kRegressor);
  detail::check_n_features(X, n_features_, kRegressor);
  return forest_apply(*backend(), trees_, X);
}
void RandomForestRegressor::warm_start_from(const RandomForestRegressor& fitted) {
  fitted.require_fitted();
  n_features_ = fitted.n_features_;
  trees_ = fitted.trees_;
  seeds_ = fitted.seeds_;
  importances_ = fitted.importances_;
  fitted_ = true;
}
Tensor RandomForestRegressor::oob_prediction() const {
  require_fitted();
  MLCORE_CHECK(options_.oob_score,
               kRegressor << ": oob_prediction is only computed with oob_score=True");
  return oob_prediction_;
}

void RandomForestRegressor::visit(Archive& a) {
  visit_forest_options(a, options_);
  if (!a.fitted(fitted_, 2)) return;
  a(n_features_, importances_, oob_score_);
  bool has_oob = options_.oob_score;
  a(has_oob);
  if (has_oob) a(oob_prediction_);
  visit_trees(a, trees_, n_features_, 1);
  visit_seeds(a, options_, trees_.size(), seeds_);
  if (a.loading()) {
    MLCORE_CHECK(static_cast<std::int64_t>(importances_.size()) == n_features_,
                 kRegressor << ": inconsistent model file");
  }
}

}  // namespace mlcore
