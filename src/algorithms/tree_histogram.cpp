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
  const double cap = std::min(std::ldexp(1.0, 30), std::floor(std::sqrt(std::ldexp(1.0, 52) /
                                                                          total_weight)));
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
  std::int64_t q = std::llround(v * scale);
  q = std::max(-q_max, std::min(q_max, q));
  const std::int64_t b = 2 * D + 1;
  for (int t = 0; t < digits; ++t) {
    std::int64_t r = ((q % b) + b) % b;  // in [0, β)
    if (r > D) r -= b;                   // balanced: in [−D, D]
    out[t] = static_cast<float>(w * double(r));
    q = (q - r) / b;
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
  int columns = 0;
  for (const DigitCodec& c : codecs) columns += c.digits;
  MLCORE_CHECK(values.cols() == columns && values.rows() == index_.rows(),
               "HistogramBuilder: values " << values.describe() << " do not match " << columns
                                           << " digit columns for " << index_.rows()
                                           << " samples");
  values_ = std::move(values);
  codecs_ = std::move(codecs);
  columns_ = columns;
}

void HistogramBuilder::build_block(const std::int32_t* rows, std::int64_t m,
                                   std::vector<double>& sums) const {
  const std::int64_t d = index_.cols();
  Tensor I, V;  // m × d i32, m × c f32: this block's index rows and statistics
  // Ascending distinct ids spanning exactly m values are a contiguous run: no gather needed.
  if (rows[m - 1] - rows[0] == m - 1) {
    I = index_.row_slice(rows[0], rows[0] + m);
    V = values_.row_slice(rows[0], rows[0] + m);
  } else {
    const Tensor ids = backend_->to_device(
        Tensor::borrow(const_cast<std::int32_t*>(rows), m, 1, DType::i32));
    I = backend_->empty(m, d, DType::i32);
    backend_->gather_rows(index_, ids, I);
    V = backend_->empty(m, columns_, DType::f32);
    backend_->gather_rows(values_, ids, V);
  }
  Tensor out = backend_->empty(total_bins_, columns_, DType::f32);  // zero-filled
  backend_->scatter_add(I, V, out);
  const Tensor host = backend_->to_host(out);
  const float* h = host.data<float>();
  // The sums are exact integers on an exact backend; rounding only matters on an inexact one.
  for (std::size_t k = 0; k < sums.size(); ++k) sums[k] += std::nearbyint(double(h[k]));
}

void HistogramBuilder::build(const std::int32_t* rows, std::int64_t m, Histogram& hist) const {
  const std::size_t cells = static_cast<std::size_t>(total_bins_) * columns_;
  hist.assign(static_cast<std::size_t>(total_bins_) * codecs_.size(), 0.0);
  if (m == 0) return;
  // Row blocks for the threads: each at least ~2^18 index entries (≈ 1 ms of scatter), so the
  // extra zero-fill and host reduction of a block's histogram (total_bins × c) stay small.
  const std::int64_t d = index_.cols();
  constexpr std::int64_t kMinBlockEntries = std::int64_t{1} << 18;
  const int threads = tree_threads();
  const std::int64_t blocks =
      std::max<std::int64_t>(1, std::min<std::int64_t>(threads, m * d / kMinBlockEntries));
  std::vector<std::vector<double>> sums(blocks, std::vector<double>(cells, 0.0));
  parallel_for_profiled(blocks, threads, [&](std::int64_t b) {
    const std::int64_t begin = m * b / blocks, end = m * (b + 1) / blocks;
    build_block(rows + begin, end - begin, sums[b]);
  });
  for (std::int64_t b = 1; b < blocks; ++b) {
    for (std::size_t k = 0; k < cells; ++k) sums[0][k] += sums[b][k];  // exact integers
  }
  // Digit columns → one integer sum per statistic.
  const std::size_t n_stats = codecs_.size();
  const double* s = sums[0].data();
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
