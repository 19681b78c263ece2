// Node histograms for the tree learners (decision trees, forests, gradient boosting), built on
// the backend with one Backend::histogram call per node, summed exactly so every backend grows
// the same tree.
//
// What a histogram is. For the samples S of a tree node and every (feature f, bin b), the sum of
// some per-sample statistics: class weights (a classification tree), [weight, weight·y] (a
// regression tree), [count, gradient, hessian] (boosting). With BinMapper's row-major codes
// (n × d, one byte each), its offsets (offset(f): feature f's first histogram row) and the
// statistics V (n × c), all on the device, one node is
//     H = 0 (total_bins × c);  histogram(codes, offsets, S, V, H)
//         // H[offset(f) + code(i, f), :] += V[i, :] for every i in S and every feature f
// which is m·d·c additions — the whole cost of growing a tree lives here. The primitive fetches
// the node's rows by id itself (no gathered copy of the node's index and statistics).
//
// Small nodes skip the backend (SparseHistogram in tree_split.hpp): a node of m samples needs
// only m·d additions, but a full histogram costs total_bins × c to zero, copy and scan whatever
// m is — for the ~10^5 nodes of a few samples each of an unlimited-depth tree, that fixed cost
// was nearly all of the fit. Below a size chosen by the grower, the node's non-empty bins are
// summed on the host from the per-sample statistics (sample_stats), O(m·d) work that is at most
// O(features × bins), within the host-glue rule of DESIGN.md.
//
// Why the sums are exact, so trees agree across backends. A backend may add the m·d rows in any
// order: avx2 splits the work over its threads, a GPU adds with atomics, the small-node path
// sums on the host. Floating-point addition is not associative, so f32 sums of arbitrary
// gradients would differ in their last bits between backends, and a near-tie between two splits
// could go either way. We therefore only ever add *integers*, in one of two forms:
//   * class weights (classification trees): integer weights in f32 columns, one per class.
//     Every partial sum of a column, in any order, is an integer below 2^24 (the total weight is
//     kept below it), which f32 represents exactly.
//   * values (regression trees' targets, boosting's gradients and hessians): quantized to
//     q = round(v·S) and stored in i64 (PackedCodec below). 64-bit integer addition is exact and
//     associative, so any order gives the same sum; and since a count (or integer weight) is
//     never negative and stays below 2^24, it rides in the low 24 bits of the first value's
//     column: one 8-byte integer per bin carries [count, Σ q] (where f32 needed a 16-byte row of
//     digit columns). The grid has at least 2^14 steps over the largest |v| up to 2^24 samples
//     (2^17 at 200 000): far finer than split finding needs (LightGBM trains on 3-bit
//     gradients with little loss).
// Where this could break: a backend whose histogram were itself inexact (one that quantized V
// to int8, as the systolic array's MAC primitives do) would return f32 sums that are not exact
// integers; we round them, and trees on it could differ. No backend does today: the systolic
// array runs histogram on its vector unit (f32 and i64 adds), so it grows the same trees too.
//
// Exact integer sums also make the histogram-subtraction trick exact: a node's larger child is
// parent − smaller child, with no drift, whether the smaller child was summed on the backend
// or on the host, sample by sample — the same exact integers.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "mlcore/backend.hpp"

namespace mlcore::detail {

// nearbyint(x) for |x| < 2^51 in the default rounding mode (to nearest, ties to even), without
// the library call that nearbyint is on a baseline x86-64 build (no SSE4.1 roundsd): adding
// 1.5·2^52 pushes the fraction bits out of the double, subtracting it back leaves the integer.
inline double round_integer(double x) {
  constexpr double kRound = 6755399441055744.0;  // 1.5 · 2^52
  return (x + kRound) - kRound;
}

// One statistic stored as an integer in an i64 column (gradient boosting's gradients and
// hessians): q = round(v·S), clamped to ±q_max. Column 0 of the i64 statistics packs the
// sample's count under its first statistic,
//     column 0 = q · 2^24 + 1,   so a node's sum is (Σ q) · 2^24 + count,
// exact as long as count < 2^24 (no carry ever crosses bit 24: every sample adds exactly 1 to
// the low part) and |Σ q| < 2^39 (the sum stays inside 63 bits); two's complement makes
// negative Σ q work unchanged. Further columns hold one statistic each, q alone.
struct PackedCodec {
  static constexpr int kCountBits = 24;
  static constexpr std::int64_t kCountUnit = std::int64_t{1} << kCountBits;
  double scale = 1;  // S
  std::int64_t q_max = 0;

  // For |v| ≤ max_abs over samples of total count `total_weight`; `with_count`: the statistic
  // shares column 0 with the count (|Σ q| < 2^39), else it has a column of its own (|Σ q| <
  // 2^62). And q_max² · total_weight < 2^52, so the squares of sums that the split criteria
  // form stay exact in double.
  static PackedCodec for_values(double max_abs, double total_weight, bool with_count);

  // round(v·S) clamped to [−q_max, q_max]; v beyond ±2·max_abs is clamped before scaling.
  std::int64_t quantize(double v) const {
    const double qmax = double(q_max);
    const double scaled = std::max(-2 * qmax, std::min(2 * qmax, v * scale));
    return static_cast<std::int64_t>(std::max(-qmax, std::min(qmax, round_integer(scaled))));
  }
  // Column 0's value for one sample of statistic v.
  std::int64_t pack_with_count(double v) const { return quantize(v) * kCountUnit + 1; }
  // A column-0 sum → (count, Σ q).
  static void unpack(std::int64_t sum, double* count, double* value) {
    const std::int64_t n = sum & (kCountUnit - 1);
    *count = double(n);
    *value = double((sum - n) / kCountUnit);  // exact: sum − n is a multiple of 2^24
  }
};

// The largest total sample weight the exact scheme supports (counts must stay below 2^24).
constexpr double kMaxTotalWeight = 16777215.0;

// The width of V and of the histogram for `used` f32 columns (a classification tree's
// classes): 4 floats when they fit, else a multiple of 8. A row is then one 16-byte SSE or whole
// 32-byte AVX vectors, so a vectorised histogram adds one sample's statistics to a bin with one
// load/add/store (c = 5 used columns would otherwise be five scalar read-modify-writes), and a
// row never straddles a 64-byte line.
inline int padded_columns(int used) { return used <= 4 ? 4 : (used + 7) / 8 * 8; }

// A node's histogram: total_bins × Q integer sums (as doubles), Q = number of statistics.
using Histogram = std::vector<double>;

class HistogramBuilder {
 public:
  // codes: n × d i8 (BinMapper::histogram_codes) and offsets: 1 × d i32
  // (BinMapper::histogram_offsets), both on the backend's device, moved there once per fit.
  HistogramBuilder(BackendPtr backend, Tensor codes, Tensor offsets, std::int32_t total_bins);

  // The statistics to accumulate, as f32 integers: V (n × c f32, a *host* tensor; it is moved
  // to the device here) whose first n_stats columns are integer statistics (a classification
  // tree's class weights) and the rest zero padding. Called once per tree. Keeps a reference
  // to the host V for sample_stats.
  void set_values(const Tensor& values, int n_stats);
  // The same for i64 statistics (PackedCodec): values n × c i64 on the host, column 0 the
  // count packed with the first statistic, then one statistic per column: the statistics are
  // [count, Σ q_1, …, Σ q_c] (c + 1 of them). Boosting calls it once per tree of an iteration.
  void set_packed_values(const Tensor& values);

  int n_stats() const { return n_stats_; }
  Backend& backend() const { return *backend_; }
  std::int32_t total_bins() const { return total_bins_; }

  // Sample i's n_stats integer statistics (what a histogram sums; unpacked for i64) into
  // out[0..n_stats). Computed on demand: only the samples of small nodes ever need them.
  void sample_stats(std::int64_t i, double* out) const {
    if (packed_) {
      const std::int64_t* row = host_values_.data<std::int64_t>() + i * columns_;
      PackedCodec::unpack(row[0], &out[0], &out[1]);
      for (int j = 1; j < columns_; ++j) out[j + 1] = double(row[j]);
      return;
    }
    const float* row = host_values_.data<float>() + i * columns_;
    for (int j = 0; j < n_stats_; ++j) out[j] = row[j];
  }

  // hist (resized to total_bins × n_stats) ← the histogram of samples rows[0..m), one
  // Backend::histogram call (which spreads large nodes over the backend's threads).
  // Not reentrant: one build at a time per builder (a forest uses one builder per thread).
  void build(const std::int32_t* rows, std::int64_t m, Histogram& hist) const;

  // Histogram buffers for the grower, recycled across nodes and trees: a best-first tree keeps
  // up to max_leaf_nodes of them alive (~300 KB each for 50 features), and fresh ones for every
  // tree cost page faults and zero-fills each boosting iteration.
  Histogram acquire() const;
  void release(Histogram& hist) const;  // leaves `hist` empty

 private:
  BackendPtr backend_;
  mutable std::vector<Histogram> pool_;  // released buffers (capacity kept)
  mutable Tensor out_;   // total_bins × c (f32 or i64) on the device, kept between calls:
                         // allocating (and page-faulting) it per node cost more than the
                         // histogram itself
  Tensor codes_;         // n × d i8, device
  Tensor offsets_;       // 1 × d i32, device
  Tensor values_;        // n × c f32 or i64, device
  Tensor host_values_;   // n × c, host (values_ itself on a CPU backend)
  bool packed_ = false;  // i64 statistics (set_packed_values), else f32 integers
  int n_stats_ = 0;
  std::int32_t total_bins_ = 0;
  std::int32_t out_rows_ = 0;  // total_bins_, or more: room for any code after the last offset
  int columns_ = 0;
};

// hist[k] −= other[k] (the sibling of a child: parent − child).
void subtract_histogram(Histogram& hist, const Histogram& other);

}  // namespace mlcore::detail
