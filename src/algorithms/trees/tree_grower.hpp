// grow_tree: one histogram tree, shared by decision trees, random forests and gradient boosting.
//
//   root histogram ← HistogramBuilder (backend: one Backend::histogram call)
//   frontier ← {root with its best split}
//   while the frontier has a node to split (and the leaf budget allows):
//     pop a node (depth-first, or the largest gain first when max_leaf_nodes is set — the
//       "best-first" growth of LightGBM / scikit-learn's HistGradientBoosting)
//     partition its samples (backend: Backend::partition_rows; stable, so each child's ids
//       stay ascending)
//     for the children that may still split: build the smaller child's histogram on the backend,
//       derive the larger as parent − smaller (exact: integer sums), find their best splits
//       (host scan, O(features × bins)), push them
// A child that can never split (depth limit, too few samples, pure) gets no histogram at all,
// so the last level of a depth-limited tree costs only its partition.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "algorithms/trees/tree_histogram.hpp"
#include "mlcore/algorithms/trees/binning.hpp"
#include "mlcore/algorithms/trees/tree.hpp"

namespace mlcore::detail {

struct SplitInfo;  // tree_split.hpp

enum class SplitCriterion : std::uint8_t { gini, entropy, squared_error, gradient };

// The statistics a criterion reads from a histogram row (integer sums, see tree_histogram.hpp):
//   gini, entropy:  [w_class_0, …, w_class_(K−1)]   (integer class weights)
//   squared_error:  [w, Σ w·q]                       (q = quantized y − center, scale S)
//   gradient:       [count, Σ q_g, Σ q_h]            (quantized gradient and hessian)
//                   or [count, Σ q_g] with a constant hessian of 1 (squared-error boosting)
struct GrowerParams {
  SplitCriterion criterion = SplitCriterion::gini;
  int n_stats = 1;
  double value_scale = 1;    // squared_error: S of q; gradient: S of the gradient
  double hessian_scale = 1;  // gradient: S of the hessian
  bool constant_hessian = false;
  std::int64_t max_depth = -1;         // -1: unlimited
  std::int64_t min_samples_split = 2;  // on the number of distinct samples of a node
  std::int64_t min_samples_leaf = 1;   // on each child's weight (its count when unweighted)
  std::int64_t max_leaf_nodes = -1;    // > 0: best-first growth with this many leaves at most
  std::int64_t max_features = 0;       // features examined per split (0: all)
  double min_impurity_decrease = 0;    // on the weighted impurity decrease (scikit-learn's)
  bool require_positive_gain = false;  // split only when the gain is > 0
  double l2_regularization = 0;        // gradient: λ in G²/(H + λ)
  double min_hessian_to_split = 1e-3;  // gradient: each child's hessian sum at least this
  // gradient: per feature, nonzero when the training rows had a missing value of it (owned by
  // the caller); where NaN goes after a split of a node without one follows from it
  // (tree_split.cpp, nan_left_without_missing). nullptr: the trees' rule, the larger child.
  const std::uint8_t* feature_has_missing = nullptr;
  // gradient: scikit-learn's interaction constraints (owned by the caller), groups of feature
  // indices; every feature is in at least one group. A node may split only on the features of
  // the groups that hold every feature split on above it (the root: all groups). nullptr: none.
  const std::vector<std::vector<std::int32_t>>* interaction_groups = nullptr;
  // Set by grow_tree per node from interaction_groups: nonzero for the features this node may
  // split on. nullptr: every feature.
  const std::uint8_t* allowed_features = nullptr;
  // 1 / value_scale and 1 / hessian_scale: set by find_best_split (a multiply, not a divide,
  // per candidate split).
  double inv_value_scale = 1, inv_hessian_scale = 1;
};

// The samples, as binned codes: column-major d × n (BinMapper::transform) and row-major n × d.
struct BinnedData {
  const BinMapper* mapper = nullptr;
  const std::uint8_t* codes = nullptr;      // codes[f·n + i]
  const std::uint8_t* row_codes = nullptr;  // row_codes[i·d + f]
  const Tensor* feature_codes = nullptr;    // d × n i8: `codes` on the backend's device
  std::int64_t n = 0, d = 0;
};

struct GrownTree {
  Tree tree;  // structure and split statistics; values are filled by the caller
  std::vector<std::int32_t> order;  // sample ids; node k's samples are order[begin_k, end_k)
  std::vector<std::int64_t> begin, end;
  std::vector<std::vector<double>> stats;  // per node: its n_stats integer sums
  std::vector<double> importances;         // per feature: Σ of its splits' gains (criterion units)
};

// The grower's two rules, shared with the distributed grower (python/mlcore/dask/_grower.py,
// through python/src/bind_distributed.cpp) so that both grow the same trees:
// whether a node of `n_samples` distinct samples at `depth` with statistics `stats` may ever be
// split (decided before paying for its histogram) ...
bool node_may_split(const GrowerParams& params, std::int32_t depth, std::int64_t n_samples,
                    const double* stats);
// ... and whether a split found for it is kept: the gain rules (require_positive_gain and
// scikit-learn's min_impurity_decrease on the weighted impurity decrease, relative to the
// root's weight). Returns the split, invalid when rejected.
SplitInfo accept_split(SplitInfo split, const GrowerParams& params, double root_weight);

// Grows a tree over the samples `rows` (ascending distinct ids, each with its weight already in
// the histogram builder's values). `rng` draws the features examined at each split.
GrownTree grow_tree(const BinnedData& data, const HistogramBuilder& histograms,
                    const GrowerParams& params, std::vector<std::int32_t> rows,
                    std::mt19937_64& rng);

}  // namespace mlcore::detail
