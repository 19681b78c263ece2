// Node histograms for the tree learners (decision trees, forests, gradient boosting), built on
// the backend with gather_rows + scatter_add, summed exactly so every backend grows the same tree.
//
// What a histogram is. For the samples S of a tree node and every (feature f, bin b), the sum of
// some per-sample statistics: class weights (a classification tree), [weight, weight·y] (a
// regression tree), [count, gradient, hessian] (boosting). With BinMapper's index
// (index[i, f] = offset(f) + code(x[i, f]), n × d i32 on the device) and the statistics V
// (n × c f32 on the device), one node is
//     I_S = gather_rows(index, S)      (m × d)     V_S = gather_rows(V, S)      (m × c)
//     H   = 0 (total_bins × c);  scatter_add(I_S, V_S, H)      // H[I_S[r, f], :] += V_S[r, :]
// which is m·d·c additions — the whole cost of growing a tree lives here. (When S is a contiguous
// run of samples, as at the root, row_slice replaces the gathers.)
//
// Why the sums are exact, so trees agree across backends. A backend may add the m·d rows in any
// order: avx2 splits the samples into per-thread blocks and adds the blocks' histograms at the
// end, a GPU uses atomics. f32 addition is not associative, so f32 sums of arbitrary gradients
// would differ in their last bits between backends, and a near-tie between two splits could go
// either way. We therefore only ever scatter *integers*: a statistic v is quantized to
// q = round(v·S) and q is written as k balanced digits in base β = 2D + 1,
//     q = d_0 + β·d_1 + … + β^(k−1)·d_(k−1),      |d_t| ≤ D,
// one f32 column per digit. D is chosen so that D · (Σ of all sample weights) < 2^24: then every
// partial sum of any column, in any order, is an integer below 2^24 in magnitude, which f32
// represents exactly — so each column's sum is the same exact integer on every backend, whatever
// the order. The host recombines the digit sums in double (exact below 2^53). Counts and class
// weights are integers already (one column, no quantization). The quantization grid has at least
// 2^14 steps over the largest |v| (k = 2 digits for 10^5 samples, 1 digit below ~2000 samples):
// far finer than split finding needs (LightGBM trains on 3-bit gradients with little loss).
// Where this can break: a backend whose scatter_add is itself inexact (an int8 systolic array
// that quantizes V) returns sums that are not exact integers; we round them, trees on such a
// backend may differ, and the tests hold it to a looser accuracy tolerance instead.
//
// Exact integer sums also make the histogram-subtraction trick exact: a node's larger child is
// parent − smaller child, with no drift, and a node may be built in several row blocks (one per
// thread) and the blocks added on the host — the same exact integers.
#pragma once

#include <cstdint>
#include <vector>

#include "mlcore/backend.hpp"
#include "tree_parallel.hpp"

namespace mlcore::detail {

// How one statistic is stored in digit columns (see above).
struct DigitCodec {
  int digits = 1;      // k: f32 columns used
  std::int64_t D = 0;  // largest |digit|
  double base = 1;     // β = 2D + 1
  double scale = 1;    // S: q = round(v·S)
  std::int64_t q_max = 0;

  // Integers (counts, class weights): one column, no quantization.
  static DigitCodec integers();
  // Values with |v| ≤ max_abs, summed over samples of total weight `total_weight` (integer
  // weights). Also keeps q_max² · total_weight < 2^52, so sums of squares of sums stay exact.
  static DigitCodec for_values(double max_abs, double total_weight);

  // Writes w·digits(round(v·S)) to out[0..digits).
  void encode(double v, double w, float* out) const;
  // The integer Σ q from the digit-column sums.
  double combine(const double* column_sums) const;
};

// The largest total sample weight the exact scheme supports (counts must stay below 2^24).
constexpr double kMaxTotalWeight = 16777215.0;

// The width of V and of the scatter_add output for `digit_columns` used columns: rounded up to
// a multiple of 8 floats. A row is then whole 32-byte vectors, so a vectorised scatter_add adds
// one sample's statistics to a histogram row with one AVX load/add/store (c = 5 used columns
// would otherwise be five scalar read-modify-writes), and a row never straddles a 64-byte line.
inline int padded_columns(int digit_columns) { return (digit_columns + 7) / 8 * 8; }

// A node's histogram: total_bins × Q integer sums (as doubles), Q = number of statistics.
using Histogram = std::vector<double>;

class HistogramBuilder {
 public:
  // index: n × d i32 on the backend's device (BinMapper::histogram_index, moved once).
  HistogramBuilder(BackendPtr backend, Tensor index, std::int32_t total_bins);

  // The statistics to accumulate: V (n × c f32 on the device) and, per statistic, its codec.
  // The codecs' digits fill the first columns of V; the rest (up to padded_columns) are zero.
  // Called once per tree (boosting: once per tree of an iteration).
  void set_values(Tensor values, std::vector<DigitCodec> codecs);

  int n_stats() const { return static_cast<int>(codecs_.size()); }
  std::int32_t total_bins() const { return total_bins_; }
  const std::vector<DigitCodec>& codecs() const { return codecs_; }

  // hist (resized to total_bins × n_stats) ← the histogram of samples rows[0..m), ascending ids.
  // Large nodes are split into row blocks built on parallel threads (each thread installs the
  // caller's profile); inside an enclosing parallel region (a forest) it runs on this thread.
  // Not reentrant: one build at a time per builder (a forest uses one builder per thread).
  void build(const std::int32_t* rows, std::int64_t m, Histogram& hist) const;

 private:
  // Device buffers of one row block, kept between calls: allocating (and page-faulting) fresh
  // multi-megabyte tensors for every node cost more than the scatter itself.
  struct Scratch {
    Tensor index;              // capacity × d i32: the gathered index rows
    Tensor values;             // capacity × c f32: the gathered statistics
    Tensor out;                // total_bins × c f32: the block's histogram
    std::vector<double> sums;  // total_bins × c, host
  };
  // Σ over rows[0..m) into scratch.sums (total_bins × c column sums, as doubles).
  void build_block(const std::int32_t* rows, std::int64_t m, Scratch& scratch) const;

  BackendPtr backend_;
  mutable std::vector<Scratch> scratch_;  // one per row block (block b runs on one thread)
  Tensor index_;                          // n × d i32, device
  Tensor values_;                         // n × c f32, device
  std::vector<DigitCodec> codecs_;
  std::int32_t total_bins_ = 0;
  int columns_ = 0;
};

// hist[k] −= other[k] (the sibling of a child: parent − child).
void subtract_histogram(Histogram& hist, const Histogram& other);

}  // namespace mlcore::detail
