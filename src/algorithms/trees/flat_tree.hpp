// FlatTree: a fitted Tree in the compact form that prediction walks.
//
// A TreeNode carries what fitting and inspection need (depth, sample counts, gain, a double
// threshold): 56 bytes, so a forest tree of depth 10 (2047 nodes) is 115 KB, past L1. The walk
// only reads the children, the feature, the threshold and where NaN goes: 16 bytes here, so the
// same tree is 32 KB. The threshold becomes a float rounded *down* — the largest float t_f with
// t_f ≤ t — which decides exactly as the double did for every float input v:
//     double(v) ≤ t  ⇔  v ≤ t_f
// (if v ≤ t_f then v ≤ t; if v ≤ t then v is a float ≤ t, and t_f is the largest such float),
// so a float compare replaces a float → double conversion on the walk's critical path.
#pragma once

#include <cstdint>
#include <vector>

#include "mlcore/algorithms/trees/tree.hpp"

namespace mlcore::detail {

class FlatTree {
 public:
  explicit FlatTree(const Tree& tree);

  // The leaves (node ids of the Tree) of m samples, rows of X (m × d floats, row-major), into
  // leaf[0..m): Tree::apply_one for each, walked 16 samples at a time (see flat_tree.cpp).
  void apply_rows(const float* X, std::int64_t d, std::int64_t m, std::int32_t* leaf) const;

 private:
  struct Node {
    std::int32_t left = -1, right = -1;    // −1: a leaf
    std::uint32_t feature_and_missing = 0;  // feature in the low 31 bits, missing_left on top
    float threshold = 0;                    // rounded down (see above)
  };
  std::vector<Node> nodes_;
};

}  // namespace mlcore::detail
