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

#include "algorithms/trees/tree_grower.hpp"
#include "algorithms/trees/tree_histogram.hpp"
#include "mlcore/algorithms/trees/binning.hpp"

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
// them). Among equal gains, the one scikit-learn's search keeps (tree_split.cpp, scan_feature).
SplitInfo find_best_split(const Histogram& hist, const std::vector<double>& node_stats,
                          const BinMapper& mapper, const GrowerParams& p, std::mt19937_64& rng);

// The histogram of a small node, summed on the host over its non-empty bins only.
//
// A node of m samples touches at most m bins per feature; when m is far below the number of
// bins, zeroing, copying and scanning the whole total_bins × c histogram costs more than the
// node's m·d additions. SparseHistogram adds each sample's statistics (HistogramBuilder::
// sample_stats, exact integers) into a dense total_bins × n_stats array that is zero outside a
// build, and remembers which bins it touched, so that the split scan visits those only and
// clear() re-zeroes only them: O(m·d) per node, whatever the number of bins.
//
// find_best_split on it gives the very split the full histogram gives: a scan that skips empty
// bins meets the same candidates (see scan_feature), so a node's split does not depend on
// which path summed it.
class SparseHistogram {
 public:
  SparseHistogram(const BinMapper& mapper, int n_stats);

  // Sums the statistics of samples rows[0..m) (row-major codes: data.row_codes).
  void build(const BinnedData& data, const HistogramBuilder& values, const std::int32_t* rows,
             std::int64_t m);
  // Back to all zeros (O(bins touched)).
  void clear();

  // Feature f's rows of the dense array (n_bins(f) + 1 rows of n_stats sums; zero if untouched)
  const double* feature_rows(std::int64_t f) const;
  // Feature f's non-empty *value* bins, ascending (the missing bin is never listed).
  const std::uint8_t* value_bins(std::int64_t f, int* count) const;

 private:
  const BinMapper& mapper_;
  int q_;
  std::vector<double> sums_;           // total_bins × q, zero outside a build
  std::vector<std::uint8_t> touched_;  // total_bins: 1 for a bin listed in this build
  std::vector<std::uint8_t> bins_;     // d × 256: feature f's touched codes, sorted by build
  std::vector<int> count_;             // d: how many of them
  std::vector<int> value_count_;       // d: how many are value bins (not the missing one)
  std::vector<double> sample_;         // one sample's statistics
};

// The same as find_best_split, for a node summed into a SparseHistogram.
SplitInfo find_best_split(const SparseHistogram& hist, const std::vector<double>& node_stats,
                          const BinMapper& mapper, const GrowerParams& p, std::mt19937_64& rng);

}  // namespace mlcore::detail
