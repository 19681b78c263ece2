// Decision trees (CART) on binned features: DecisionTreeClassifier and DecisionTreeRegressor.
//
// The algorithm in terms of the primitives (the same grower serves the forests and boosting):
//   1. Bin every feature once (BinMapper, host preprocessing): codes ≤ 255, NaN → its own bin;
//      the codes (n × d, one byte each) and each feature's first histogram row offset(f) are
//      moved to the device once.
//   2. Per-sample statistics V (n × c): one-hot class weights (classifier, f32 integers) or
//      [1, y] (regressor: y quantized and packed with the count in one exact i64; see
//      src/algorithms/trees/tree_histogram.hpp).
//   3. Grow from the root. A node's histogram (total_bins × c) is one Backend::histogram call
//      over its samples' ids: H[offset(f) + code(i, f)] += V[i] for every sample i of the node
//      and feature f. Only the smaller child of each split is built that way; the larger is
//      parent − smaller (histogram subtraction). Nodes of a few samples are summed on the host
//      over their non-empty bins instead (src/algorithms/trees/tree_split.hpp: SparseHistogram).
//   4. The best split of a node is a scan over its histogram, O(features × bins) on the host:
//      for every feature and bin boundary the class counts (or sums of y) left and right give the
//      impurity decrease; missing values are tried on both sides (the learned default direction).
//   5. Samples are partitioned into the children on the host (index arrays, O(node size)): a
//      split reads one column of codes, there is no backend primitive for a comparison-driven
//      compaction, and this O(m) pass costs 1/d of the node's O(m·d) histogram.
// Prediction walks each sample down the tree comparing raw values with the thresholds (host
// pointer chasing: no multiply-accumulate to give to a backend).
//
// Where this differs from scikit-learn's exact CART: a feature with more than max_bins distinct
// values is split only at max_bins − 1 quantile thresholds (with ≤ max_bins distinct values it is
// exact); regression nodes split only when the best split strictly reduces the squared error.
//
// max_leaf_nodes (scikit-learn's) grows best-first: the node whose split decreases the weighted
// impurity most is split next, until the tree has max_leaf_nodes leaves (depth-first otherwise).
// criterion="friedman_mse" is "squared_error" (Friedman's improvement
// w_l·w_r/(w_l + w_r)·(mean_l − mean_r)² is the node's squared-error decrease; scikit-learn 1.9
// made the name an alias of "squared_error").
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "mlcore/estimator.hpp"
#include "mlcore/tensor.hpp"

namespace mlcore {

class Archive;

// One node of a fitted tree. A leaf has left == right == -1.
struct TreeNode {
  std::int32_t left = -1, right = -1;
  std::int32_t feature = -1;
  double threshold = 0;       // x[feature] ≤ threshold goes left
  bool missing_left = false;  // where NaN goes (learned, or the larger child if none was seen)
  std::int32_t depth = 0;
  std::int64_t n_samples = 0;     // training samples reaching the node (distinct, unweighted)
  double weighted_n_samples = 0;  // their total weight (bootstrap counts in a forest)
  double gain = 0;                // the split's criterion improvement (0 for leaves)
  bool is_leaf() const { return left < 0; }
};

// A fitted tree: nodes (root = 0) and n_outputs values per node (class probabilities, the mean
// target, or a boosting leaf's raw score).
class Tree {
 public:
  std::vector<TreeNode> nodes;
  std::vector<double> values;  // n_nodes × n_outputs
  int n_outputs = 1;
  // Per node, the criterion's impurity of its training samples (scikit-learn's tree_.impurity:
  // Gini, entropy in bits, or the weighted variance of y). Empty when unknown (model files
  // written before trees kept it; boosting trees).
  std::vector<double> impurity;

  // The leaf reached by one sample x (n_features floats; NaN follows missing_left).
  std::int32_t apply_one(const float* x) const {
    std::int32_t k = 0;
    while (nodes[k].left >= 0) {
      const TreeNode& node = nodes[k];
      const float v = x[node.feature];
      const bool left = (v != v) ? node.missing_left : double(v) <= node.threshold;
      k = left ? node.left : node.right;
    }
    return k;
  }
  const double* value(std::int32_t node) const { return values.data() + node * n_outputs; }
  int max_depth() const;
  std::int64_t n_leaves() const;

  // The tree's fields in a model's visit (serialize.hpp): stored as one array per node field.
  // Loading checks that the node arrays agree and that every walk ends.
  void visit(Archive& a);
  // `impurity`, saved by the models whose format has it (they call it after visit).
  void visit_impurity(Archive& a);
};

// max_features of scikit-learn: None (all), "sqrt", "log2", an int (count) or a float (fraction).
struct MaxFeatures {
  enum class Kind : std::uint8_t { all, sqrt, log2, count, fraction };
  Kind kind = Kind::all;
  double value = 0;  // the count or the fraction
  // The number of features to draw at each split for d features (≥ 1); throws if invalid.
  std::int64_t resolve(std::int64_t n_features) const;
  void validate(const char* estimator) const;
  void visit(Archive& a);  // kind (one byte), value
};

// The value of max_depth and max_leaf_nodes that sets no limit (scikit-learn's None).
inline constexpr std::int64_t kNoLimit = -1;

// scikit-learn's parameters and defaults (max_bins is mlcore's: bins per feature).
struct DecisionTreeClassifierOptions {
  std::string criterion = "gini";  // "gini", "entropy" or "log_loss" (= entropy)
  std::int64_t max_depth = kNoLimit;
  std::int64_t min_samples_split = 2;
  std::int64_t min_samples_leaf = 1;
  MaxFeatures max_features;  // default None: every feature
  double min_impurity_decrease = 0.0;
  std::int64_t max_leaf_nodes = kNoLimit;  // ≥ 2: best-first growth up to this many leaves
  std::uint64_t random_state = 0;
  int max_bins = 255;
  double ccp_alpha = 0.0;  // > 0: minimal cost-complexity pruning of the grown tree
};

struct DecisionTreeRegressorOptions {
  std::string criterion = "squared_error";  // or its alias "friedman_mse"
  std::int64_t max_depth = kNoLimit;
  std::int64_t min_samples_split = 2;
  std::int64_t min_samples_leaf = 1;
  MaxFeatures max_features;
  double min_impurity_decrease = 0.0;
  std::int64_t max_leaf_nodes = kNoLimit;
  std::uint64_t random_state = 0;
  int max_bins = 255;
  double ccp_alpha = 0.0;
};

// Minimal cost-complexity pruning (Breiman et al., CART ch. 3): the weakest-link sequence of a
// fitted tree whose nodes have their impurity. R(t) = w_t / w_root · impurity_t; a branch's
// effective alpha is (R(t) − Σ_leaves R) / (leaves − 1); the branch of least alpha (the first
// node on ties) is collapsed, again and again, until the root is a leaf.
struct PruningPath {
  std::vector<double> ccp_alphas;  // 0, then each collapse's effective alpha (non-decreasing)
  std::vector<double> impurities;  // Σ_leaves R of the tree after each step
};
PruningPath cost_complexity_pruning_path(const Tree& tree);
// The tree pruned with every collapse of effective alpha ≤ ccp_alpha: the kept nodes in their
// order (children still after their parent), a collapsed node a leaf with its own value.
Tree prune_tree(const Tree& tree, double ccp_alpha);

class DecisionTreeClassifier : public Estimator {
 public:
  using Options = DecisionTreeClassifierOptions;

  explicit DecisionTreeClassifier(Options options = Options(),
                                  BackendPtr backend = default_backend());

  // X: n × d host f32 (NaN = missing); y: n class labels (as floats).
  DecisionTreeClassifier& fit(const Tensor& X, const Tensor& y,
                              const Tensor& sample_weight = Tensor());
  Tensor predict(const Tensor& X) const;        // n × 1 labels
  Tensor predict_proba(const Tensor& X) const;  // n × n_classes
  Tensor apply(const Tensor& X) const;          // n × 1 i32 leaf ids

  const Options& options() const { return options_; }
  const std::vector<double>& classes() const;
  std::int64_t n_features_in() const;
  Tensor feature_importances() const;  // 1 × d, sums to 1 (all 0 for a single-leaf tree)
  int get_depth() const;
  std::int64_t get_n_leaves() const;
  const Tree& tree() const;
  // The pruning path of the fitted tree (cost_complexity_pruning_path).
  PruningPath pruning_path() const;
  // Makes this a fitted tree from a forest's tree (scikit-learn's estimators_): the tree, the
  // classes and the number of features; the importances follow from the tree's gains.
  void set_fitted(Tree tree, std::vector<double> classes, std::int64_t n_features);

  static DecisionTreeClassifier load(std::istream& in, BackendPtr backend = default_backend()) {
    return load_model<DecisionTreeClassifier>(in, std::move(backend));
  }

 private:
  void visit(Archive& a) override;
  Options options_;
  std::vector<double> classes_;
  std::int64_t n_features_ = 0;
  Tree tree_;
  std::vector<double> importances_;
};

class DecisionTreeRegressor : public Estimator {
 public:
  using Options = DecisionTreeRegressorOptions;

  explicit DecisionTreeRegressor(Options options = Options(),
                                 BackendPtr backend = default_backend());

  DecisionTreeRegressor& fit(const Tensor& X, const Tensor& y,
                             const Tensor& sample_weight = Tensor());
  Tensor predict(const Tensor& X) const;  // n × 1
  Tensor apply(const Tensor& X) const;    // n × 1 i32

  const Options& options() const { return options_; }
  std::int64_t n_features_in() const;
  Tensor feature_importances() const;
  int get_depth() const;
  std::int64_t get_n_leaves() const;
  const Tree& tree() const;
  PruningPath pruning_path() const;
  void set_fitted(Tree tree, std::int64_t n_features);

  static DecisionTreeRegressor load(std::istream& in, BackendPtr backend = default_backend()) {
    return load_model<DecisionTreeRegressor>(in, std::move(backend));
  }

 private:
  void visit(Archive& a) override;
  Options options_;
  std::int64_t n_features_ = 0;
  Tree tree_;
  std::vector<double> importances_;
};

}  // namespace mlcore
