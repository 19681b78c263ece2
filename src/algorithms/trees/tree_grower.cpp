// grow_tree (see tree_grower.hpp): the frontier loop, partitioning on the backend, and the
// histogram subtraction trick.
#include "algorithms/trees/tree_grower.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "algorithms/trees/tree_split.hpp"
#include "mlcore/error.hpp"
#include "mlcore/interrupt.hpp"

namespace mlcore::detail {

namespace {

// A node waiting to be split, with what splitting it needs.
struct Pending {
  std::int32_t node;
  Histogram hist;  // its histogram: the parent term of its children's subtraction
  SplitInfo split;
};

// Nodes of fewer rows are partitioned on the host, as the small nodes' histograms are summed
// there (SparseHistogram): a primitive call costs ~0.3 µs of checks and its profile record,
// more than splitting 64 ids, and a deep tree has one such split per few samples (an
// unlimited-depth tree of 200 000 rows: ~200 000 splits, 97% of them below 64 rows; their
// records made its fit 5–6% slower). The host share this leaves is O(n) per tree in all,
// the last few levels' rows once each.
constexpr std::int64_t kMinBackendPartitionRows = 64;

// The stable partition of order[begin, end) by `split`: left ids first, each side ascending,
// on the backend (Backend::partition_rows; a device backend gets the ids there and back, a
// host one partitions them where they are — no to_device record per split, which a deep tree
// of 10^5 splits would pay for). Returns the first right position.
std::int64_t partition(Backend& backend, const BinnedData& data, const SplitInfo& split,
                       std::int32_t* order, std::int64_t begin, std::int64_t end) {
  RowSplit rs;
  rs.feature = split.feature;
  rs.bin = split.bin;
  rs.missing_code = data.mapper->n_bins(split.feature);
  rs.missing_left = split.missing_left;
  if (end - begin < kMinBackendPartitionRows) {
    const std::uint8_t* code = data.codes + static_cast<std::ptrdiff_t>(rs.feature) * data.n;
    const auto goes_left = [&](std::int32_t i) {
      const int c = code[i];
      return c == rs.missing_code ? rs.missing_left : c <= rs.bin;
    };
    return std::stable_partition(order + begin, order + end, goes_left) - order;
  }
  Tensor ids = Tensor::borrow(order + begin, end - begin, 1, DType::i32);
  if (backend.device() == Device::host) {
    return begin + backend.partition_rows(*data.feature_codes, rs, ids);
  }
  Tensor device_ids = backend.to_device(ids);
  const std::int64_t n_left = backend.partition_rows(*data.feature_codes, rs, device_ids);
  const Tensor host = backend.to_host(device_ids);
  std::copy_n(host.data<std::int32_t>(), end - begin, order + begin);
  return begin + n_left;
}

// hist −= the statistics of samples rows[0..m), bin by bin (row-major codes).
void subtract_samples(Histogram& hist, const BinnedData& data, const HistogramBuilder& values,
                      const std::int32_t* rows, std::int64_t m) {
  const BinMapper& mapper = *data.mapper;
  const std::int64_t d = data.d;
  const int q = values.n_stats();
  std::vector<double> stats(q);
  const double* s = stats.data();  // sample i's statistics, refilled for each
  for (std::int64_t k = 0; k < m; ++k) {
    const std::int64_t i = rows[k];
    const std::uint8_t* code = data.row_codes + i * d;
    values.sample_stats(i, stats.data());
    for (std::int64_t f = 0; f < d; ++f) {
      double* h = hist.data() + (mapper.offset(f) + code[f]) * static_cast<std::int64_t>(q);
      for (int j = 0; j < q; ++j) h[j] -= s[j];
    }
  }
}

}  // namespace

bool node_may_split(const GrowerParams& params, std::int32_t depth, std::int64_t n_samples,
                    const double* stats) {
  if (params.max_depth >= 0 && depth >= params.max_depth) return false;
  if (n_samples < params.min_samples_split) return false;
  if (n_samples < 2 * params.min_samples_leaf) return false;
  return !node_pure(params, stats);
}

SplitInfo accept_split(SplitInfo s, const GrowerParams& params, double root_weight) {
  if (!s.valid) return s;
  if (params.require_positive_gain && !(s.gain > 0)) s.valid = false;
  // scikit-learn's rule: split when the weighted impurity decrease + ε ≥ the minimum.
  const double decrease = s.gain * gain_unit(params) / root_weight;
  if (decrease + std::numeric_limits<double>::epsilon() < params.min_impurity_decrease) {
    s.valid = false;
  }
  return s;
}

GrownTree grow_tree(const BinnedData& data, const HistogramBuilder& histograms,
                    const GrowerParams& params, std::vector<std::int32_t> rows,
                    std::mt19937_64& rng) {
  MLCORE_CHECK(!rows.empty(), "grow_tree: no samples to grow a tree on");
  const BinMapper& mapper = *data.mapper;
  const int q = params.n_stats;
  const double unit = gain_unit(params);
  GrownTree g;
  g.order = std::move(rows);
  g.importances.assign(data.d, 0.0);
  Tree& tree = g.tree;

  auto add_node = [&](std::int64_t begin, std::int64_t end, std::int32_t depth,
                      std::vector<double> stats) {
    TreeNode node;
    node.depth = depth;
    node.n_samples = end - begin;
    node.weighted_n_samples = node_weight(params, stats.data());
    tree.nodes.push_back(node);
    g.begin.push_back(begin);
    g.end.push_back(end);
    g.stats.push_back(std::move(stats));
    return static_cast<std::int32_t>(tree.nodes.size() - 1);
  };
  // Whether a node could ever be split (decided before paying for its histogram).
  auto may_split = [&](std::int32_t k) {
    const TreeNode& node = tree.nodes[k];
    return node_may_split(params, node.depth, node.n_samples, g.stats[k].data());
  };
  // A node with at most `sparse_rows` samples is summed on the host over its non-empty bins
  // (SparseHistogram) rather than on the backend over all total_bins: its m·d additions then
  // cost less than the full histogram's zero-fill, copy-out and scan (≈ total_bins × c each).
  // At m·d = kSparseRatio × total_bins the two cost about the same on a CPU (measured).
  constexpr std::int64_t kSparseRatio = 2;
  const std::int64_t sparse_rows = kSparseRatio * mapper.total_bins() / data.d;
  auto is_small = [&](std::int32_t k) { return tree.nodes[k].n_samples <= sparse_rows; };
  SparseHistogram sparse(mapper, q);

  // Keeps a split only if it passes the gain rules (else the node stays a leaf).
  double root_weight = 0;
  auto accept = [&](SplitInfo s) { return accept_split(std::move(s), params, root_weight); };

  // Interaction constraints: node k's compatible groups (node_groups[k]; the root's are all of
  // them, a child's those of its parent's that hold the parent's split feature), and the
  // features they allow, as a mask in the node's copy of the parameters.
  const auto* groups = params.interaction_groups;
  std::vector<std::vector<std::int32_t>> node_groups;
  std::vector<std::uint8_t> allowed(groups != nullptr ? static_cast<std::size_t>(data.d) : 0);
  auto node_params = [&](std::int32_t k) {
    GrowerParams p = params;
    if (groups == nullptr) return p;
    std::fill(allowed.begin(), allowed.end(), 0);
    for (const std::int32_t grp : node_groups[k]) {
      for (const std::int32_t f : (*groups)[grp]) allowed[f] = 1;
    }
    p.allowed_features = allowed.data();
    return p;
  };
  auto inherit_groups = [&](std::int32_t parent, std::int32_t child, std::int32_t feature) {
    if (groups == nullptr) return;
    if (node_groups.size() <= static_cast<std::size_t>(child)) node_groups.resize(child + 1);
    node_groups[child].clear();
    for (const std::int32_t grp : node_groups[parent]) {
      const auto& members = (*groups)[grp];
      if (std::find(members.begin(), members.end(), feature) != members.end()) {
        node_groups[child].push_back(grp);
      }
    }
  };
  if (groups != nullptr) {
    node_groups.resize(1);
    for (std::size_t grp = 0; grp < groups->size(); ++grp) {
      node_groups[0].push_back(static_cast<std::int32_t>(grp));
    }
  }

  // Best split of node k from its full histogram, or from its samples when it is small.
  auto best_split = [&](std::int32_t k, const Histogram& hist) {
    const GrowerParams p = node_params(k);
    if (hist.empty()) {
      const std::int64_t begin = g.begin[k], end = g.end[k];
      sparse.build(data, histograms, g.order.data() + begin, end - begin);
      SplitInfo s = find_best_split(sparse, g.stats[k], mapper, p, rng);
      sparse.clear();
      return accept(std::move(s));
    }
    return accept(find_best_split(hist, g.stats[k], mapper, p, rng));
  };

  // Full histograms come from, and go back to, the builder's pool (recycled between nodes and
  // trees: see HistogramBuilder::acquire).
  auto fresh = [&]() { return histograms.acquire(); };
  auto recycle = [&](Histogram& h) { histograms.release(h); };

  // The root: its histogram gives its statistics (any feature's bins sum to the node total).
  Histogram root_hist = fresh();
  histograms.build(g.order.data(), static_cast<std::int64_t>(g.order.size()), root_hist);
  std::vector<double> root_stats(q, 0.0);
  const std::int64_t f0_rows = mapper.n_bins(0) + 1;
  for (std::int64_t b = 0; b < f0_rows; ++b) {
    for (int k = 0; k < q; ++k) root_stats[k] += root_hist[b * q + k];
  }
  const std::int32_t root =
      add_node(0, static_cast<std::int64_t>(g.order.size()), 0, std::move(root_stats));
  root_weight = std::max(tree.nodes[root].weighted_n_samples, 1.0);

  std::vector<Pending> frontier;
  if (may_split(root)) {
    SplitInfo s = best_split(root, root_hist);
    if (s.valid) frontier.push_back({root, std::move(root_hist), std::move(s)});
  }
  const bool best_first = params.max_leaf_nodes > 0;
  std::int64_t n_leaves = 1;
  while (!frontier.empty()) {
    check_interrupt();
    if (best_first && n_leaves >= params.max_leaf_nodes) break;
    // Depth-first: the last pushed. Best-first: the largest gain (the first on ties).
    std::size_t pick = frontier.size() - 1;
    if (best_first) {
      for (std::size_t j = 0; j < frontier.size(); ++j) {
        if (frontier[j].split.gain > frontier[pick].split.gain ||
            (frontier[j].split.gain == frontier[pick].split.gain &&
             frontier[j].node < frontier[pick].node)) {
          pick = j;
        }
      }
    }
    Pending parent = std::move(frontier[pick]);
    frontier.erase(frontier.begin() + static_cast<std::ptrdiff_t>(pick));
    const std::int32_t k = parent.node;
    const SplitInfo& split = parent.split;

    // The split, recorded on the node.
    const int nb = mapper.n_bins(split.feature);
    {
      TreeNode& node = tree.nodes[k];
      node.feature = split.feature;
      node.missing_left = split.missing_left;
      node.threshold = split.bin < nb - 1 ? mapper.thresholds(split.feature)[split.bin]
                                          : std::numeric_limits<double>::infinity();
      node.gain = split.gain * unit;
    }
    g.importances[split.feature] += split.gain * unit;
    ++n_leaves;

    // Children: samples partitioned on the backend, statistics from the split.
    const std::int64_t begin = g.begin[k], end = g.end[k];
    const std::int64_t mid =
        partition(histograms.backend(), data, split, g.order.data(), begin, end);
    std::vector<double> right_stats(q);
    for (int j = 0; j < q; ++j) right_stats[j] = g.stats[k][j] - split.left[j];
    const std::int32_t depth = tree.nodes[k].depth + 1;
    const std::int32_t left = add_node(begin, mid, depth, split.left);
    const std::int32_t right = add_node(mid, end, depth, std::move(right_stats));
    tree.nodes[k].left = left;
    tree.nodes[k].right = right;
    inherit_groups(k, left, split.feature);
    inherit_groups(k, right, split.feature);

    const bool split_left = may_split(left), split_right = may_split(right);
    if (!split_left && !split_right) {
      recycle(parent.hist);
      continue;
    }
    // Full histograms for the children that are not small: the smaller child's on the
    // backend, the larger's as parent − smaller. When the smaller child is small, its samples
    // are subtracted from the parent's histogram one by one instead (m·d host additions).
    // (The larger child is not small only if the parent was not: the parent has a histogram.)
    const bool left_smaller = (mid - begin) <= (end - mid);
    const std::int32_t small = left_smaller ? left : right;
    const std::int32_t large = left_smaller ? right : left;
    const bool split_small = left_smaller ? split_left : split_right;
    const bool split_large = left_smaller ? split_right : split_left;
    const bool large_full = split_large && !is_small(large);
    Histogram small_hist, large_hist;
    if (!is_small(small) && (split_small || large_full)) {
      small_hist = fresh();
      histograms.build(g.order.data() + g.begin[small], g.end[small] - g.begin[small], small_hist);
    }
    if (large_full) {
      large_hist = std::move(parent.hist);
      if (!small_hist.empty()) {
        subtract_histogram(large_hist, small_hist);
      } else {
        subtract_samples(large_hist, data, histograms, g.order.data() + g.begin[small],
                         g.end[small] - g.begin[small]);
      }
    }
    // Push right then left, so depth-first growth visits the left subtree first.
    for (const std::int32_t child : {right, left}) {
      if (!(child == left ? split_left : split_right)) continue;
      Histogram hist = std::move(child == small ? small_hist : large_hist);
      if (is_small(child)) recycle(hist);  // found from its samples; no histogram kept
      SplitInfo s = best_split(child, hist);
      if (s.valid) {
        frontier.push_back({child, std::move(hist), std::move(s)});
      } else {
        recycle(hist);
      }
    }
    recycle(small_hist);  // whichever were not kept (moved-from ones are empty)
    recycle(large_hist);
    recycle(parent.hist);
  }
  for (Pending& left_over : frontier) recycle(left_over.hist);  // best-first stopped early
  recycle(root_hist);  // still held only when the root was never split
  return g;
}

}  // namespace mlcore::detail
