// Each node's impurity (Tree::impurity, scikit-learn's tree_.impurity) and a tree's
// importances from its splits, for the decision trees and the forests.
#pragma once

#include <cstdint>
#include <vector>

#include "algorithms/trees/tree_grower.hpp"
#include "mlcore/algorithms/trees/tree.hpp"

namespace mlcore::detail {

// A classification tree whose values are class fractions: Gini 1 − Σ p², or the entropy
// −Σ p·log2 p (in bits, scikit-learn's), per node. O(nodes × classes).
void set_class_impurity(Tree& tree, bool entropy);

// A regression tree: the weighted variance of y over each node's samples (Σ w·(y − ȳ)² / Σ w).
// Leaves are summed over their samples (g's order ranges, O(n) in all, the pass that gives
// their means); an inner node's sums are its children's.
void set_regression_impurity(Tree& tree, const GrownTree& g, const float* y,
                             const std::vector<double>& weights);

// A tree's unnormalized importances (per feature, Σ of its splits' gains), the splits added
// in the order the grower made them (that of their children's numbers), as the grower sums them.
std::vector<double> tree_importances(const Tree& tree, std::int64_t n_features);

}  // namespace mlcore::detail
