// Binning: each feature turned into small integer codes once, before any tree is grown.
//
// A histogram tree never looks at a feature's raw values while it grows: it looks at per-bin
// sums. BinMapper learns, per feature, up to max_bins − 1 thresholds t_0 < t_1 < … (quantiles
// of the training values, or every midpoint between consecutive distinct values when a feature
// has at most max_bins of them — then binning loses nothing and the tree is exact CART), and
// maps a value x to the code
//     code(x) = #{ b : t_b < x }          so   x ≤ t_b  ⇔  code(x) ≤ b,
// and a missing value (NaN) to its own code, n_bins(f) (the "missing bin"). A split "code ≤ b"
// learned on codes is then the split "x ≤ t_b" on raw values, which is how fitted trees predict.
//
// Cost: learning the thresholds sorts each feature (O(n log n) per feature, on at most
// `subsample` rows) and coding is a binary search per value: O(n·d·log(max_bins)) host work,
// done once per fit as preprocessing (the per-node work, the histograms, is what runs on the
// backend). Features are processed in parallel over the cores.
//
// The histogram index: the codes of all features are laid out in one histogram of
// total_bins() rows, feature f owning rows [offset(f), offset(f) + n_bins(f)] (its value bins,
// then its missing bin). histogram_index() gives, for every sample i and feature f, the row
//     index[i, f] = offset(f) + code(x[i, f])
// which is exactly the multi-column index Backend::scatter_add takes: one scatter_add of the
// per-sample statistics accumulates every feature's histogram at once. The trees use the
// leaner form Backend::histogram takes: the codes row-major, one byte each (histogram_codes),
// and the offsets (histogram_offsets), the index being offset + code computed in the kernel.
#pragma once

#include <cstdint>
#include <vector>

#include "mlcore/tensor.hpp"

namespace mlcore {

class BinMapper {
 public:
  BinMapper() = default;

  // Learns the thresholds from X (n × d host f32; NaN means missing). max_bins ∈ [2, 255];
  // when n > subsample, `subsample` rows drawn with `seed` are used (as scikit-learn does).
  void fit(const Tensor& X, int max_bins, std::uint64_t seed, std::int64_t subsample = 200000);

  // Takes given thresholds instead of learning them: thresholds[f] ascending, finite, at most
  // 254 per feature (n_bins(f) ≤ 255). "Given the same bins, the same trees": a distributed
  // fit (python/mlcore/dask) bins with thresholds merged from its workers' sketches, or with
  // these of a single-machine fit, through this.
  void set_thresholds(std::vector<std::vector<double>> thresholds);

  bool fitted() const { return !n_bins_.empty(); }
  std::int64_t n_features() const { return static_cast<std::int64_t>(n_bins_.size()); }
  // Value bins of feature f (≥ 1); its missing-value bin has code n_bins(f) (≤ 255).
  int n_bins(std::int64_t f) const { return n_bins_[f]; }
  // Thresholds t_0 < … of feature f (n_bins(f) − 1 of them): code ≤ b ⇔ x ≤ t_b.
  const std::vector<double>& thresholds(std::int64_t f) const { return thresholds_[f]; }
  // First histogram row of feature f; total_bins() = Σ_f (n_bins(f) + 1).
  std::int32_t offset(std::int64_t f) const { return offsets_[f]; }
  std::int32_t total_bins() const { return offsets_.empty() ? 0 : offsets_.back(); }

  // The code of one value of feature f.
  std::uint8_t code(std::int64_t f, float x) const;
  // Codes of every sample, column-major: codes[f·n + i] for X (n × d). Column-major because a
  // tree partitions a node's samples by reading one feature's codes.
  std::vector<std::uint8_t> transform(const Tensor& X) const;
  // The scatter_add index (n × d i32 host tensor): index[i, f] = offset(f) + codes[f·n + i].
  Tensor histogram_index(const std::vector<std::uint8_t>& codes, std::int64_t n) const;
  // The same codes row-major for Backend::histogram: an n × d i8 host tensor whose bytes are
  // the unsigned codes (codes ≥ 128 read back negative as i8; histogram() reads them unsigned).
  Tensor histogram_codes(const std::vector<std::uint8_t>& codes, std::int64_t n) const;
  // offset(f) for every feature: a 1 × d i32 host tensor.
  Tensor histogram_offsets() const;

 private:
  std::vector<int> n_bins_;
  std::vector<std::vector<double>> thresholds_;
  std::vector<std::int32_t> offsets_;  // d + 1 entries
};

}  // namespace mlcore
