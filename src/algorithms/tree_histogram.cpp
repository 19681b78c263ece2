// Exact node histograms on the backend: digit codecs and HistogramBuilder (see the header).
#include "tree_histogram.hpp"

#include <algorithm>
#include <cmath>

#include "mlcore/error.hpp"

namespace mlcore::detail {

// ---- DigitCodec -------------------------------------------------------------------------------

DigitCodec DigitCodec::integers() {
  DigitCodec c;
  c.digits = 1;
  c.D = static_cast<std::int64_t>(kMaxTotalWeight);
  c.base = 2.0 * double(c.D) + 1.0;
  c.scale = 1.0;
  c.q_max = c.D;
  return c;
}

DigitCodec DigitCodec::for_values(double max_abs, double total_weight) {
  MLCORE_CHECK(total_weight >= 1 && total_weight <= kMaxTotalWeight,
               "histogram trees support a total sample weight in [1, 2^24), got " << total_weight);
  DigitCodec c;
  // Every column sum Σ w·|digit| ≤ D·Σw must stay below 2^24 (exact in f32).
  c.D = static_cast<std::int64_t>(std::floor(kMaxTotalWeight / total_weight));
  c.base = 2.0 * double(c.D) + 1.0;
  // Largest |q| we allow: sums Σ w·q, and the squares of node sums divided by node weights that
  // the split criteria form, stay exact in double (q² · W < 2^52).
  const double cap =
      std::min(std::ldexp(1.0, 30), std::floor(std::sqrt(std::ldexp(1.0, 52) / total_weight)));
  // Fewest digits giving a grid of at least 2^13 steps each side of zero.
  constexpr double kMinSteps = 8192.0;
  double reach = double(c.D);  // (β^k − 1) / 2: the largest |q| k balanced digits can write
  c.digits = 1;
  while (reach < kMinSteps && reach < cap) {
    reach = (std::pow(c.base, c.digits + 1) - 1.0) / 2.0;
    ++c.digits;
  }
  c.q_max = static_cast<std::int64_t>(std::min(reach, cap));
  c.scale = max_abs > 0 ? double(c.q_max) / max_abs : 1.0;
  return c;
}

void DigitCodec::encode(double v, double w, float* out) const {
  const double qmax = double(q_max);
  double q = std::max(-qmax, std::min(qmax, std::nearbyint(v * scale)));
  // Balanced digits in double arithmetic (exact: every value is an integer below 2^53). β is
  // odd, so q/β is never halfway between integers and nearbyint picks the unique nearest.
  for (int t = 0; t < digits; ++t) {
    const double r = q - base * std::nearbyint(q / base);  // in [−D, D]
    out[t] = static_cast<float>(w * r);
    q = (q - r) / base;
  }
}

double DigitCodec::combine(const double* column_sums) const {
  double acc = column_sums[digits - 1];
  for (int t = digits - 2; t >= 0; --t) acc = acc * base + column_sums[t];
  return acc;
}

// ---- HistogramBuilder -------------------------------------------------------------------------

HistogramBuilder::HistogramBuilder(BackendPtr backend, Tensor index, std::int32_t total_bins)
    : backend_(std::move(backend)), index_(std::move(index)), total_bins_(total_bins) {}

void HistogramBuilder::set_values(Tensor values, std::vector<DigitCodec> codecs) {
  int used = 0;
  for (const DigitCodec& c : codecs) used += c.digits;
  MLCORE_CHECK(values.cols() >= used && values.rows() == index_.rows(),
               "HistogramBuilder: values " << values.describe() << " do not hold " << used
                                           << " digit columns for " << index_.rows() << " samples");
  columns_ = static_cast<int>(values.cols());
  values_ = std::move(values);
  codecs_ = std::move(codecs);
}

void HistogramBuilder::build_block(const std::int32_t* rows, std::int64_t m,
                                   Scratch& scratch) const {
  Backend& b = *backend_;
  const std::int64_t d = index_.cols();
  if (scratch.out.rows() != total_bins_ || scratch.out.cols() != columns_) {
    scratch.out = b.empty(total_bins_, columns_, DType::f32);
    scratch.sums.assign(static_cast<std::size_t>(total_bins_) * columns_, 0.0);
  } else {
    b.fill(scratch.out, 0.0f);
  }
  Tensor I, V;  // m × d i32, m × c f32: this block's index rows and statistics
  // Ascending distinct ids spanning exactly m values are a contiguous run: no gather needed.
  if (rows[m - 1] - rows[0] == m - 1) {
    I = index_.row_slice(rows[0], rows[0] + m);
    V = values_.row_slice(rows[0], rows[0] + m);
  } else {
    if (scratch.index.rows() < m || scratch.values.cols() != columns_) {
      scratch.index = b.empty(m, d, DType::i32);
      scratch.values = b.empty(m, columns_, DType::f32);
    }
    const Tensor ids =
        b.to_device(Tensor::borrow(const_cast<std::int32_t*>(rows), m, 1, DType::i32));
    I = scratch.index.row_slice(0, m);
    b.gather_rows(index_, ids, I);
    V = scratch.values.row_slice(0, m);
    b.gather_rows(values_, ids, V);
  }
  b.scatter_add(I, V, scratch.out);
  const Tensor host = b.to_host(scratch.out);
  const float* h = host.data<float>();
  // The sums are exact integers on an exact backend; on an inexact one (an int8 array) they are
  // rounded to the nearest integer: adding and subtracting 1.5·2^52 rounds a double to an integer
  // in one vectorisable step (for |x| < 2^51), where nearbyint would be a library call.
  constexpr double kRound = 6755399441055744.0;  // 1.5 · 2^52
  std::vector<double>& sums = scratch.sums;
  for (std::size_t k = 0; k < sums.size(); ++k) sums[k] = (double(h[k]) + kRound) - kRound;
}

void HistogramBuilder::build(const std::int32_t* rows, std::int64_t m, Histogram& hist) const {
  hist.assign(static_cast<std::size_t>(total_bins_) * codecs_.size(), 0.0);
  if (m == 0) return;
  // Row blocks for the threads: each at least ~2^18 index entries (≈ 1 ms of scatter), so the
  // extra zero-fill and host reduction of a block's histogram (total_bins × c) stay small.
  const std::int64_t d = index_.cols();
  constexpr std::int64_t kMinBlockEntries = std::int64_t{1} << 18;
  const int threads = tree_threads();
  const std::int64_t blocks =
      std::max<std::int64_t>(1, std::min<std::int64_t>(threads, m * d / kMinBlockEntries));
  if (static_cast<std::int64_t>(scratch_.size()) < blocks) scratch_.resize(blocks);
  parallel_for_profiled(blocks, threads, [&](std::int64_t b) {
    const std::int64_t begin = m * b / blocks, end = m * (b + 1) / blocks;
    build_block(rows + begin, end - begin, scratch_[b]);
  });
  const std::size_t cells = static_cast<std::size_t>(total_bins_) * columns_;
  std::vector<double>& total = scratch_[0].sums;
  for (std::int64_t b = 1; b < blocks; ++b) {
    const std::vector<double>& other = scratch_[b].sums;
    for (std::size_t k = 0; k < cells; ++k) total[k] += other[k];  // exact integers
  }
  // Digit columns → one integer sum per statistic.
  const std::size_t n_stats = codecs_.size();
  const double* s = total.data();
  for (std::int32_t bin = 0; bin < total_bins_; ++bin) {
    const double* row = s + static_cast<std::size_t>(bin) * columns_;
    double* out = hist.data() + static_cast<std::size_t>(bin) * n_stats;
    int col = 0;
    for (std::size_t j = 0; j < n_stats; ++j) {
      out[j] = codecs_[j].combine(row + col);
      col += codecs_[j].digits;
    }
  }
}

void subtract_histogram(Histogram& hist, const Histogram& other) {
  for (std::size_t k = 0; k < hist.size(); ++k) hist[k] -= other[k];
}

}  // namespace mlcore::detail
