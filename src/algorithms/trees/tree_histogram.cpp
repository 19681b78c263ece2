// Exact node histograms on the backend: digit codecs and HistogramBuilder (see the header).
#include "algorithms/trees/tree_histogram.hpp"

#include <algorithm>
#include <cmath>

#include "mlcore/error.hpp"
#include "mlcore/parallel.hpp"

namespace mlcore::detail {

// ---- PackedCodec ------------------------------------------------------------------------------

PackedCodec PackedCodec::for_values(double max_abs, double total_weight, bool with_count) {
  MLCORE_CHECK(total_weight >= 1 && total_weight <= kMaxTotalWeight,
               "histogram trees support a total sample weight in [1, 2^24), got " << total_weight);
  // |Σ q| ≤ q_max · total_weight must stay below the column's room for it: 2^39 beside the
  // count (63 bits less the count's 24), 2^62 alone; and q_max² · total_weight < 2^52.
  const double room = std::ldexp(1.0, with_count ? 39 : 62);
  PackedCodec c;
  double q =
      std::min({std::ldexp(1.0, 30), std::floor(std::sqrt(std::ldexp(1.0, 52) / total_weight)),
                std::floor((room - 1) / total_weight)});
  if (q * q * total_weight >= std::ldexp(1.0, 52)) q -= 1;  // strictly below (W = 1: 2^26)
  c.q_max = static_cast<std::int64_t>(q);
  c.scale = max_abs > 0 ? double(c.q_max) / max_abs : 1.0;
  return c;
}

// ---- HistogramBuilder -------------------------------------------------------------------------

HistogramBuilder::HistogramBuilder(BackendPtr backend, Tensor codes, Tensor offsets,
                                   std::int32_t total_bins)
    : backend_(std::move(backend)),
      codes_(std::move(codes)),
      offsets_(std::move(offsets)),
      total_bins_(total_bins) {
  // out gets room for every code (0..255) after the last feature's offset, rows that are never
  // written: Backend::histogram then sees that no code can fall outside out and skips reading
  // the codes to check them (a pass as long as a small node's whole histogram).
  const Tensor host_offsets = backend_->to_host(offsets_);
  std::int32_t last = 0;
  for (std::int64_t f = 0; f < host_offsets.numel(); ++f) {
    last = std::max(last, host_offsets.data<std::int32_t>()[f]);
  }
  out_rows_ = std::max(total_bins_, last + 256);
}

void HistogramBuilder::set_values(const Tensor& values, int n_stats) {
  MLCORE_CHECK(values.device() == Device::host && values.dtype() == DType::f32 && n_stats >= 1 &&
                   values.cols() >= n_stats && values.rows() == codes_.rows(),
               "HistogramBuilder: values " << values.describe() << " do not hold " << n_stats
                                           << " statistics for " << codes_.rows()
                                           << " samples on the host");
  columns_ = static_cast<int>(values.cols());
  values_ = backend_->to_device(values);
  packed_ = false;
  n_stats_ = n_stats;
  host_values_ = values;
}

void HistogramBuilder::set_packed_values(const Tensor& values) {
  MLCORE_CHECK(values.device() == Device::host && values.dtype() == DType::i64 &&
                   values.cols() >= 1 && values.rows() == codes_.rows(),
               "HistogramBuilder: packed values " << values.describe() << " are not n × c i64 for "
                                                  << codes_.rows() << " samples on the host");
  columns_ = static_cast<int>(values.cols());
  values_ = backend_->to_device(values);
  packed_ = true;
  n_stats_ = columns_ + 1;
  host_values_ = values;
}

void HistogramBuilder::build(const std::int32_t* rows, std::int64_t m, Histogram& hist) const {
  const std::size_t q = static_cast<std::size_t>(n_stats());
  hist.resize(static_cast<std::size_t>(total_bins_) * q);  // every entry is written below
  if (m == 0) {
    std::fill(hist.begin(), hist.end(), 0.0);
    return;
  }
  Backend& b = *backend_;
  const DType dtype = packed_ ? DType::i64 : DType::f32;
  if (out_.rows() != out_rows_ || out_.cols() != columns_ || out_.dtype() != dtype) {
    out_ = b.empty(out_rows_, columns_, dtype);
  } else {
    b.fill(out_, 0.0f);
  }
  const Tensor ids = b.to_device(Tensor::borrow(const_cast<std::int32_t*>(rows), m, 1, DType::i32));
  b.histogram(codes_, offsets_, ids, values_, out_);
  const Tensor host = b.to_host(out_);
  double* out = hist.data();
  const std::int64_t bins = total_bins_, C = columns_;
  if (packed_) {
    // [count, Σ q_1] from column 0, then Σ q_j from column j.
    const std::int64_t* h = host.data<std::int64_t>();
    for (std::int64_t bin = 0; bin < bins; ++bin) {
      double* o = out + bin * static_cast<std::int64_t>(q);
      PackedCodec::unpack(h[bin * C], &o[0], &o[1]);
      for (std::int64_t j = 1; j < C; ++j) o[j + 1] = double(h[bin * C + j]);
    }
    return;
  }
  // f32 integer columns: exact integers on an exact backend; on an inexact one they would be
  // rounded to the nearest integer (adding and subtracting 1.5·2^52 rounds a double in one
  // vectorisable step, where nearbyint would be a library call).
  const float* h = host.data<float>();
  parallel::for_each_static(bins, bins * C > (1 << 16) ? num_threads() : 1, [&](std::int64_t bin) {
    for (std::size_t j = 0; j < q; ++j) {
      out[bin * static_cast<std::int64_t>(q) + j] = round_integer(double(h[bin * C + j]));
    }
  });
}

Histogram HistogramBuilder::acquire() const {
  Histogram h;
  if (!pool_.empty()) {
    h = std::move(pool_.back());
    pool_.pop_back();
  }
  return h;
}

void HistogramBuilder::release(Histogram& hist) const {
  if (hist.capacity() > 0) pool_.push_back(std::move(hist));
  hist = Histogram();
}

void subtract_histogram(Histogram& hist, const Histogram& other) {
  for (std::size_t k = 0; k < hist.size(); ++k) hist[k] -= other[k];
}

}  // namespace mlcore::detail
