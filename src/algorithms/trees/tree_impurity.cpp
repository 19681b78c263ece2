// Node impurities and a tree's importances (tree_impurity.hpp).
#include "algorithms/trees/tree_impurity.hpp"

#include <algorithm>
#include <cmath>

namespace mlcore::detail {

void set_class_impurity(Tree& tree, bool entropy) {
  const std::size_t n = tree.nodes.size();
  const int k = tree.n_outputs;
  tree.impurity.assign(n, 0.0);
  for (std::size_t j = 0; j < n; ++j) {
    const double* p = tree.value(static_cast<std::int32_t>(j));
    double acc = entropy ? 0.0 : 1.0;
    for (int c = 0; c < k; ++c) {
      if (entropy) {
        if (p[c] > 0) acc -= p[c] * std::log2(p[c]);
      } else {
        acc -= p[c] * p[c];
      }
    }
    tree.impurity[j] = std::max(acc, 0.0);
  }
}

void set_regression_impurity(Tree& tree, const GrownTree& g, const float* y,
                             const std::vector<double>& weights) {
  const std::size_t n = tree.nodes.size();
  // Sums of w, w·(y − c), w·(y − c)² about the root's mean c (no cancellation from a large
  // mean), children into parents by a reverse sweep (children come after their parent).
  std::vector<double> sw(n, 0.0), s1(n, 0.0), s2(n, 0.0);
  const double c = tree.values[0];
  for (std::size_t k = 0; k < n; ++k) {
    if (!tree.nodes[k].is_leaf()) continue;
    for (std::int64_t j = g.begin[k]; j < g.end[k]; ++j) {
      const std::int32_t i = g.order[j];
      const double w = weights.empty() ? 1.0 : weights[i];
      const double r = double(y[i]) - c;
      sw[k] += w;
      s1[k] += w * r;
      s2[k] += w * r * r;
    }
  }
  for (std::size_t k = n; k-- > 0;) {
    const TreeNode& node = tree.nodes[k];
    if (!node.is_leaf()) {
      sw[k] = sw[node.left] + sw[node.right];
      s1[k] = s1[node.left] + s1[node.right];
      s2[k] = s2[node.left] + s2[node.right];
    }
  }
  tree.impurity.assign(n, 0.0);
  for (std::size_t k = 0; k < n; ++k) {
    const double mean = s1[k] / sw[k];
    tree.impurity[k] = std::max(s2[k] / sw[k] - mean * mean, 0.0);
  }
}

std::vector<double> tree_importances(const Tree& tree, std::int64_t n_features) {
  std::vector<const TreeNode*> splits;
  for (const TreeNode& node : tree.nodes) {
    if (!node.is_leaf()) splits.push_back(&node);
  }
  std::sort(splits.begin(), splits.end(),
            [](const TreeNode* a, const TreeNode* b) { return a->left < b->left; });
  std::vector<double> out(n_features, 0.0);
  for (const TreeNode* node : splits) out[node->feature] += node->gain;
  return out;
}

}  // namespace mlcore::detail
