// FlatTree (see flat_tree.hpp): the compact nodes and the batched walk.
#include "algorithms/trees/flat_tree.hpp"

#include <algorithm>
#include <cmath>

namespace mlcore::detail {

namespace {

// The largest float ≤ t (±inf stay; a finite t beyond the float range gives ±FLT_MAX or −inf).
float float_at_or_below(double t) {
  float f = static_cast<float>(t);
  if (static_cast<double>(f) > t) f = std::nextafter(f, -INFINITY);
  return f;
}

}  // namespace

FlatTree::FlatTree(const Tree& tree) : nodes_(tree.nodes.size()) {
  for (std::size_t k = 0; k < tree.nodes.size(); ++k) {
    const TreeNode& src = tree.nodes[k];
    Node& dst = nodes_[k];
    if (src.is_leaf()) continue;  // left = right = −1, feature 0
    dst.left = src.left;
    dst.right = src.right;
    dst.feature_and_missing = static_cast<std::uint32_t>(src.feature) |
                              (src.missing_left ? 0x80000000u : 0u);
    dst.threshold = float_at_or_below(src.threshold);
  }
}

// Walking one sample down a tree is a chain of dependent loads and data-dependent branches: on
// random data every level mispredicts about half the time (~15 cycles), and the next node's
// load cannot start before the comparison. Here kLanes samples are walked at once, one level
// per step each: their walks are independent, so their loads overlap, and each picks its child
// with arithmetic on the comparison (no branch to mispredict). A lane whose sample reached its
// leaf takes the next sample, so no lane idles while a deeper sample finishes: one
// mispredicted branch per sample, at its leaf, instead of one per level.
void FlatTree::apply_rows(const float* X, std::int64_t d, std::int64_t m,
                          std::int32_t* leaf) const {
  constexpr int kLanes = 16;
  const Node* nd = nodes_.data();
  std::int32_t k[kLanes];    // each lane's current node
  std::int64_t row[kLanes];  // each lane's sample, −1 once no sample is left for it
  std::int64_t next = 0;
  int active = 0;
  for (int l = 0; l < kLanes; ++l) {
    k[l] = 0;
    row[l] = next < m ? next++ : -1;
    active += row[l] >= 0;
  }
  while (active > 0) {
    for (int l = 0; l < kLanes; ++l) {
      if (row[l] < 0) continue;
      const Node& node = nd[k[l]];
      if (node.left < 0) {  // at its leaf: record it, take the next sample
        leaf[row[l]] = k[l];
        k[l] = 0;
        row[l] = next < m ? next++ : -1;
        active -= row[l] < 0;
        continue;
      }
      const std::uint32_t fm = node.feature_and_missing;
      const float v = X[row[l] * d + (fm & 0x7fffffffu)];
      // NaN compares false: it goes left only where missing_left is set. Bitwise, not && / ?:,
      // so the compiler emits compares and masks, not branches.
      const int go_left = int(v <= node.threshold) | (int(v != v) & int(fm >> 31));
      k[l] = node.right + go_left * (node.left - node.right);
    }
  }
}

}  // namespace mlcore::detail
