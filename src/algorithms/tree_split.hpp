// Split finding: the best split of one node from its histogram (host, O(features × bins)).
//
// For a feature with value bins 0..B−1 and a missing bin, every boundary b ("code ≤ b goes
// left") is scored twice when the node has missing values — missing sent right, then left — so
// the tree learns where NaN goes. Left statistics are running sums over the bins; right ones
// are node total − left. A criterion scores a child by a "proxy" whose sum over the two children
// minus the parent's is the split's gain:
//   gini            Σ_k c_k² / W                       gain = W·G(P) − W_L·G(L) − W_R·G(R)
//   entropy         Σ_k c_k·log2 c_k − W·log2 W        (the same with the entropy H)
//   squared_error   S² / W      (S = Σ w·y)            gain = the drop in the sum of squared errors
//   gradient        G² / (H + λ)                       (XGBoost/LightGBM's structure score, ×2)
// which for the impurities is scikit-learn's weighted impurity decrease times the root weight.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "mlcore/algorithms/binning.hpp"
#include "tree_grower.hpp"
#include "tree_histogram.hpp"

namespace mlcore::detail {

struct SplitInfo {
  bool valid = false;
  std::int32_t feature = -1;
  int bin = 0;  // code ≤ bin goes left
  bool missing_left = false;
  double gain = 0;           // in the criterion's raw units (see gain_unit)
  std::vector<double> left;  // the left child's statistics (integer sums)
};

// The node's weight statistic (class weights summed, w, or the count).
double node_weight(const GrowerParams& p, const double* stats);
// True when every sample of a classification node has the same class.
bool node_pure(const GrowerParams& p, const double* stats);
// Multiplies a raw gain into real units (squared_error: 1/S², others 1).
double gain_unit(const GrowerParams& p);

// The best valid split of a node with statistics `node_stats` and histogram `hist`, over up to
// max_features randomly drawn non-constant features (all, in order, when max_features covers
// them). Ties keep the first candidate met.
SplitInfo find_best_split(const Histogram& hist, const std::vector<double>& node_stats,
                          const BinMapper& mapper, const GrowerParams& p, std::mt19937_64& rng);

}  // namespace mlcore::detail
