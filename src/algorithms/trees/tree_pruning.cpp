// Minimal cost-complexity pruning of a fitted tree (tree.hpp: cost_complexity_pruning_path,
// prune_tree). O(nodes) per collapse on the host: the tree's own arrays, no sample is read.
#include <algorithm>
#include <limits>

#include "mlcore/algorithms/trees/tree.hpp"
#include "mlcore/error.hpp"

namespace mlcore {

namespace {

// The weakest-link state of a tree: which nodes are still in it, which are (now) leaves, and
// per node its own cost R(t), its branch's cost Σ_leaves R and its branch's leaf count.
struct Pruner {
  const Tree& tree;
  std::vector<std::int32_t> parent, preorder;
  std::vector<double> r_node, r_branch;
  std::vector<std::int64_t> leaves;
  std::vector<char> in_tree, is_leaf;

  explicit Pruner(const Tree& t) : tree(t) {
    const std::size_t n = t.nodes.size();
    MLCORE_CHECK(t.impurity.size() == n,
                 "cost-complexity pruning needs each node's impurity, which this tree (loaded "
                 "from an older model file) does not have; fit it again");
    parent.assign(n, -1);
    r_node.resize(n);
    r_branch.assign(n, 0.0);
    leaves.assign(n, 0);
    in_tree.assign(n, 1);
    is_leaf.assign(n, 0);
    const double total = std::max(t.nodes[0].weighted_n_samples, 1e-300);
    for (std::size_t k = 0; k < n; ++k) {
      const TreeNode& node = t.nodes[k];
      r_node[k] = node.weighted_n_samples / total * t.impurity[k];
      if (!node.is_leaf()) {
        parent[node.left] = parent[node.right] = static_cast<std::int32_t>(k);
      }
    }
    // Children come after their parent, so a reverse sweep adds each branch into its parent.
    for (std::size_t k = n; k-- > 0;) {
      if (t.nodes[k].is_leaf()) {
        is_leaf[k] = 1;
        leaves[k] = 1;
        r_branch[k] = r_node[k];
      }
      if (parent[k] >= 0) {
        leaves[parent[k]] += leaves[k];
        r_branch[parent[k]] += r_branch[k];
      }
    }
    // The candidates are scanned in pre-order (node, left subtree, right subtree): the first
    // weakest link on ties is then the one scikit-learn's depth-first numbering finds first.
    std::vector<std::int32_t> stack{0};
    while (!stack.empty()) {
      const std::int32_t k = stack.back();
      stack.pop_back();
      preorder.push_back(k);
      if (!t.nodes[k].is_leaf()) {
        stack.push_back(t.nodes[k].right);
        stack.push_back(t.nodes[k].left);
      }
    }
  }

  // The weakest link: the inner node of least effective alpha (and that alpha); -1 if none.
  std::pair<std::int32_t, double> weakest() const {
    std::int32_t best = -1;
    double alpha = std::numeric_limits<double>::max();
    for (const std::int32_t k : preorder) {
      if (!in_tree[k] || is_leaf[k]) continue;
      const double a = (r_node[k] - r_branch[k]) / static_cast<double>(leaves[k] - 1);
      if (a < alpha) {
        alpha = a;
        best = k;
      }
    }
    return {best, alpha};
  }

  // Collapses node k's branch into a leaf.
  void collapse(std::int32_t k) {
    std::vector<std::int32_t> stack{tree.nodes[k].left, tree.nodes[k].right};
    while (!stack.empty()) {
      const std::int32_t j = stack.back();
      stack.pop_back();
      in_tree[j] = 0;
      if (!tree.nodes[j].is_leaf()) {
        stack.push_back(tree.nodes[j].left);
        stack.push_back(tree.nodes[j].right);
      }
    }
    is_leaf[k] = 1;
    const std::int64_t removed = leaves[k] - 1;
    const double diff = r_node[k] - r_branch[k];
    leaves[k] = 1;
    r_branch[k] = r_node[k];
    for (std::int32_t a = parent[k]; a >= 0; a = parent[a]) {
      leaves[a] -= removed;
      r_branch[a] += diff;
    }
  }
};

}  // namespace

PruningPath cost_complexity_pruning_path(const Tree& tree) {
  Pruner p(tree);
  PruningPath path;
  path.ccp_alphas.push_back(0.0);
  path.impurities.push_back(p.r_branch[0]);
  while (!p.is_leaf[0]) {
    const auto [k, alpha] = p.weakest();
    p.collapse(k);
    path.ccp_alphas.push_back(alpha);
    path.impurities.push_back(p.r_branch[0]);
  }
  return path;
}

Tree prune_tree(const Tree& tree, double ccp_alpha) {
  Pruner p(tree);
  while (!p.is_leaf[0]) {
    const auto [k, alpha] = p.weakest();
    if (alpha > ccp_alpha) break;  // scikit-learn's rule: collapse while alpha ≤ ccp_alpha
    p.collapse(k);
  }
  // The kept nodes in their order; ids remapped.
  const std::size_t n = tree.nodes.size();
  std::vector<std::int32_t> id(n, -1);
  Tree out;
  out.n_outputs = tree.n_outputs;
  for (std::size_t k = 0; k < n; ++k) {
    if (!p.in_tree[k]) continue;
    id[k] = static_cast<std::int32_t>(out.nodes.size());
    TreeNode node = tree.nodes[k];
    if (p.is_leaf[k] && !node.is_leaf()) {
      node.left = node.right = node.feature = -1;
      node.threshold = 0;
      node.missing_left = false;
      node.gain = 0;
    }
    out.nodes.push_back(node);
    out.impurity.push_back(tree.impurity[k]);
    const double* v = tree.value(static_cast<std::int32_t>(k));
    out.values.insert(out.values.end(), v, v + tree.n_outputs);
  }
  for (TreeNode& node : out.nodes) {
    if (node.is_leaf()) continue;
    node.left = id[node.left];
    node.right = id[node.right];
  }
  return out;
}

}  // namespace mlcore
