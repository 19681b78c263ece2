// Tree (a fitted tree's nodes and values) and MaxFeatures (scikit-learn's max_features).
#include <algorithm>
#include <cmath>

#include "mlcore/algorithms/trees/tree.hpp"
#include "mlcore/serialize.hpp"

namespace mlcore {

int Tree::max_depth() const {
  int depth = 0;
  for (const TreeNode& n : nodes) depth = std::max(depth, static_cast<int>(n.depth));
  return depth;
}

std::int64_t Tree::n_leaves() const {
  return std::count_if(nodes.begin(), nodes.end(), [](const TreeNode& n) { return n.is_leaf(); });
}

void Tree::visit(Archive& a) {
  std::vector<std::int64_t> left, right, feature, depth, n_samples, missing_left;
  std::vector<double> threshold, weighted, gain;
  for (const TreeNode& n : nodes) {  // nothing to copy when loading (no nodes yet)
    left.push_back(n.left);
    right.push_back(n.right);
    feature.push_back(n.feature);
    depth.push_back(n.depth);
    n_samples.push_back(n.n_samples);
    missing_left.push_back(n.missing_left ? 1 : 0);
    threshold.push_back(n.threshold);
    weighted.push_back(n.weighted_n_samples);
    gain.push_back(n.gain);
  }
  std::int64_t outputs = n_outputs;
  a(outputs, left, right, feature, depth, n_samples, missing_left, threshold, weighted, gain,
    values);
  if (!a.loading()) return;
  const std::size_t n = left.size();
  MLCORE_CHECK(n >= 1 && outputs >= 1 && outputs < (std::int64_t{1} << 24) && right.size() == n &&
                   feature.size() == n && depth.size() == n && n_samples.size() == n &&
                   missing_left.size() == n && threshold.size() == n && weighted.size() == n &&
                   gain.size() == n && values.size() == n * static_cast<std::size_t>(outputs),
               "Tree: inconsistent node arrays in the model file");
  n_outputs = static_cast<int>(outputs);
  nodes.resize(n);
  for (std::size_t k = 0; k < n; ++k) {
    TreeNode& node = nodes[k];
    node.left = static_cast<std::int32_t>(left[k]);
    node.right = static_cast<std::int32_t>(right[k]);
    node.feature = static_cast<std::int32_t>(feature[k]);
    // Children must come after their parent (no cycles), so apply_one always terminates.
    MLCORE_CHECK(
        (node.left < 0 && node.right < 0) ||
            (node.left > static_cast<std::int64_t>(k) && node.right > node.left - 1 &&
             static_cast<std::size_t>(std::max(node.left, node.right)) < n && node.feature >= 0),
        "Tree: node " << k << " has invalid children in the model file");
    node.depth = static_cast<std::int32_t>(depth[k]);
    node.n_samples = n_samples[k];
    node.missing_left = missing_left[k] != 0;
    node.threshold = threshold[k];
    node.weighted_n_samples = weighted[k];
    node.gain = gain[k];
  }
}

void Tree::visit_impurity(Archive& a) {
  a(impurity);
  if (a.loading()) {
    MLCORE_CHECK(impurity.size() == nodes.size(),
                 "Tree: " << impurity.size() << " impurities for " << nodes.size() << " nodes");
  }
}

void MaxFeatures::visit(Archive& a) {
  a.enumeration(kind, Kind::fraction);
  a(value);
}

std::int64_t MaxFeatures::resolve(std::int64_t d) const {
  std::int64_t k = d;
  switch (kind) {
    case Kind::all:
      k = d;
      break;
    case Kind::sqrt:
      k = static_cast<std::int64_t>(std::sqrt(double(d)));
      break;
    case Kind::log2:
      k = static_cast<std::int64_t>(std::log2(double(d)));
      break;
    case Kind::count:
      k = static_cast<std::int64_t>(value);
      MLCORE_CHECK(k <= d, "max_features = " << k << " exceeds the " << d << " features of X");
      break;
    case Kind::fraction:
      k = static_cast<std::int64_t>(value * double(d));
      break;
  }
  return std::max<std::int64_t>(1, std::min(k, d));
}

void MaxFeatures::validate(const char* estimator) const {
  if (kind == Kind::count) {
    MLCORE_CHECK(value >= 1 && value == std::floor(value),
                 estimator << ": max_features as a count must be an integer ≥ 1, got " << value);
  } else if (kind == Kind::fraction) {
    MLCORE_CHECK(value > 0 && value <= 1,
                 estimator << ": max_features as a fraction must be in (0, 1], got " << value);
  }
}

}  // namespace mlcore
