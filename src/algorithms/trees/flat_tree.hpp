// Fitted trees in the flat form the Backend's tree walks read (TreeWalkNode, backend.hpp), and
// the calls that walk them: every tree, forest and boosted-model prediction goes through
// Backend::tree_walk / tree_walk_sum, so it is measured and recorded like any primitive.
//
// A TreeNode carries what fitting and inspection need (depth, sample counts, gain, a double
// threshold): 56 bytes, so a forest tree of depth 10 (2047 nodes) is 115 KB, past L1. The walk
// only reads the children, the feature, the threshold and where NaN goes: 16 bytes, so the same
// tree is 32 KB. The threshold becomes a float rounded *down* — the largest float t_f with
// t_f ≤ t — which decides exactly as the double did for every float input v:
//     double(v) ≤ t  ⇔  v ≤ t_f
// (if v ≤ t_f then v ≤ t; if v ≤ t then v is a float ≤ t, and t_f is the largest such float),
// so a float compare replaces a float → double conversion on the walk's critical path.
#pragma once

#include <cstdint>
#include <vector>

#include "mlcore/algorithms/trees/tree.hpp"
#include "mlcore/backend.hpp"

namespace mlcore::detail {

// T trees in one node table (host tensors): tree t's node j is row offset[t] + j.
struct WalkTable {
  Tensor nodes;                      // N × 4 i32, TreeWalkNode rows
  Tensor roots;                      // T × 1 i32
  Tensor values;                     // N × c f32, or empty (leaf ids only)
  std::vector<std::int32_t> offset;  // per tree
};

// What each leaf adds to a row's sum, for make_walk_table.
struct LeafValues {
  int columns = 0;                  // c; 0: no values (leaf ids only)
  std::vector<int> column_of_tree;  // tree t's n_outputs values go to columns [this, +n_outputs);
                                    // empty: column 0 for every tree
  std::vector<double> constant;     // if not empty (c values): a first one-leaf tree adding
                                    // them to every row (a boosted model's baseline)
};

WalkTable make_walk_table(const std::vector<const Tree*>& trees, const LeafValues& leaf_values);

// Backend::tree_walk_sum of X (host, m × d) through the table on `backend`: m × c, left on the
// backend's device (callers chain further primitives or move it to the host).
Tensor walk_sum(Backend& backend, const WalkTable& table, const Tensor& X, double scale);

// Backend::tree_walk of X through a table of one tree: its leaf ids (node ids of the Tree),
// m × 1 i32 on the host.
Tensor walk_leaves(Backend& backend, const WalkTable& table, const Tensor& X);

// A classifier's labels from scores P (m × k, on the device; first maximum on ties, as
// std::max_element): on the backend, argmin_rows of −P and a gather of the labels. m × 1 f32,
// host. P is overwritten.
Tensor labels_of_max(Backend& backend, Tensor& P, const std::vector<double>& classes);

}  // namespace mlcore::detail
