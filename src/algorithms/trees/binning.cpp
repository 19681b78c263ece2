// BinMapper: quantile thresholds per feature, and the codes / scatter_add index of a data set.
// See include/mlcore/algorithms/trees/binning.hpp for what the codes mean.
#include "mlcore/algorithms/trees/binning.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>

#include "mlcore/error.hpp"
#include "mlcore/parallel.hpp"

namespace mlcore {

namespace {

// Sorts finite floats ascending: an LSD radix sort on 11-bit digits of an order-preserving
// key (the sign bit flipped for positives, every bit for negatives), three counting passes.
// For the 10^5 values of a feature it is several times faster than std::sort's comparisons;
// −0 sorts just before +0, an order std::sort could also produce (they compare equal).
void radix_sort(std::vector<float>& v) {
  const std::size_t n = v.size();
  if (n < 512) {  // the passes' fixed cost (3 × 2048 counters) would dominate
    std::sort(v.begin(), v.end());
    return;
  }
  std::vector<std::uint32_t> a(n), b(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t u;
    std::memcpy(&u, &v[i], sizeof u);
    a[i] = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
  }
  for (int shift = 0; shift < 32; shift += 11) {
    std::vector<std::size_t> count(2049, 0);
    for (std::uint32_t k : a) ++count[((k >> shift) & 2047u) + 1];
    for (int j = 0; j < 2048; ++j) count[j + 1] += count[j];
    for (std::uint32_t k : a) b[count[(k >> shift) & 2047u]++] = k;
    a.swap(b);
  }
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t k = a[i];
    const std::uint32_t u = (k & 0x80000000u) ? (k & 0x7fffffffu) : ~k;
    std::memcpy(&v[i], &u, sizeof u);
  }
}

// Thresholds of one feature from its sorted non-missing values v (ascending).
std::vector<double> learn_thresholds(const std::vector<float>& v, int max_bins) {
  std::vector<double> t;
  if (v.empty()) return t;  // only NaN seen: one (empty) value bin
  std::vector<float> distinct;
  distinct.reserve(std::min<std::size_t>(v.size(), max_bins + 1));
  for (float x : v) {
    if (distinct.empty() || x != distinct.back()) {
      distinct.push_back(x);
      if (static_cast<int>(distinct.size()) > max_bins) break;  // too many: quantiles below
    }
  }
  if (static_cast<int>(distinct.size()) <= max_bins) {
    // Few distinct values: one bin each, thresholds at the midpoints (exact CART thresholds).
    for (std::size_t j = 0; j + 1 < distinct.size(); ++j) {
      t.push_back((double(distinct[j]) + double(distinct[j + 1])) / 2.0);
    }
    return t;
  }
  // Many values: a boundary near each j/max_bins quantile. The boundary is placed at the
  // midpoint between the quantile's value a and the next larger distinct value b, as exact CART
  // would place it, so a split that falls on a bin boundary is the very split scikit-learn's
  // tree finds. Duplicates are dropped (a heavy value may absorb several quantiles, so a feature
  // can get fewer than max_bins bins).
  const std::size_t m = v.size();
  for (int j = 1; j < max_bins; ++j) {
    const std::size_t pos = static_cast<std::size_t>(double(j) * double(m) / double(max_bins));
    const float a = v[std::min(pos, m - 1)];
    const auto next = std::upper_bound(v.begin(), v.end(), a);
    if (next == v.end()) break;  // a is the largest value: no boundary above it
    const double q = (double(a) + double(*next)) / 2.0;
    if (t.empty() || q > t.back()) t.push_back(q);
  }
  return t;
}

}  // namespace

void BinMapper::fit(const Tensor& X, int max_bins, std::uint64_t seed, std::int64_t subsample) {
  MLCORE_CHECK(max_bins >= 2 && max_bins <= 255,
               "BinMapper: max_bins must be in [2, 255], got " << max_bins);
  const std::int64_t n = X.rows(), d = X.cols();
  const float* x = X.data<float>();
  // Rows used to learn the thresholds: all of them, or a seeded subsample (sorted so reads
  // stay in order).
  std::vector<std::int64_t> rows;
  if (n > subsample) {
    std::mt19937_64 rng(seed);
    rows.resize(n);
    std::iota(rows.begin(), rows.end(), 0);
    for (std::int64_t i = 0; i < subsample; ++i) {  // partial Fisher–Yates
      std::uniform_int_distribution<std::int64_t> pick(i, n - 1);
      std::swap(rows[i], rows[pick(rng)]);
    }
    rows.resize(subsample);
    std::sort(rows.begin(), rows.end());
  }
  const std::int64_t m = rows.empty() ? n : static_cast<std::int64_t>(rows.size());

  n_bins_.assign(d, 1);
  thresholds_.assign(d, {});
  parallel::for_each(d, num_threads(), [&](std::int64_t f) {
    std::vector<float> v;
    v.reserve(m);
    for (std::int64_t r = 0; r < m; ++r) {
      const float value = x[(rows.empty() ? r : rows[r]) * d + f];
      if (!std::isnan(value)) v.push_back(value);
    }
    radix_sort(v);
    thresholds_[f] = learn_thresholds(v, max_bins);
    n_bins_[f] = static_cast<int>(thresholds_[f].size()) + 1;
  });
  offsets_.assign(d + 1, 0);
  for (std::int64_t f = 0; f < d; ++f) offsets_[f + 1] = offsets_[f] + n_bins_[f] + 1;
}

void BinMapper::set_thresholds(std::vector<std::vector<double>> thresholds) {
  MLCORE_CHECK(!thresholds.empty(), "BinMapper: thresholds for at least one feature needed");
  const std::int64_t d = static_cast<std::int64_t>(thresholds.size());
  for (std::int64_t f = 0; f < d; ++f) {
    const std::vector<double>& t = thresholds[f];
    MLCORE_CHECK(t.size() <= 254, "BinMapper: feature " << f << " has " << t.size()
                                                        << " thresholds; at most 254 (255 bins)");
    for (std::size_t b = 0; b < t.size(); ++b) {
      MLCORE_CHECK(std::isfinite(t[b]) && (b == 0 || t[b] > t[b - 1]),
                   "BinMapper: the thresholds of feature " << f
                                                           << " must be finite and strictly "
                                                              "ascending, got "
                                                           << t[b] << " at position " << b);
    }
  }
  thresholds_ = std::move(thresholds);
  n_bins_.assign(d, 1);
  offsets_.assign(d + 1, 0);
  for (std::int64_t f = 0; f < d; ++f) {
    n_bins_[f] = static_cast<int>(thresholds_[f].size()) + 1;
    offsets_[f + 1] = offsets_[f] + n_bins_[f] + 1;
  }
}

std::uint8_t BinMapper::code(std::int64_t f, float x) const {
  if (std::isnan(x)) return static_cast<std::uint8_t>(n_bins_[f]);
  const std::vector<double>& t = thresholds_[f];
  // #{b : t_b < x}: the position of the first threshold ≥ x.
  return static_cast<std::uint8_t>(std::lower_bound(t.begin(), t.end(), double(x)) - t.begin());
}

namespace {

// #{b : t[b] < x} for ascending t[0..n): a binary search without branches (the compare picks
// the next base with a conditional move), so the ~8 steps of 255 thresholds do not mispredict
// on random data as std::lower_bound's branches do.
inline int count_below(const float* t, int n, float x) {
  const float* base = t;
  while (n > 1) {
    const int half = n / 2;
    base = (base[half] < x) ? base + half : base;
    n -= half;
  }
  return static_cast<int>(base - t) + (n == 1 && *base < x ? 1 : 0);
}

}  // namespace

std::vector<std::uint8_t> BinMapper::transform(const Tensor& X) const {
  MLCORE_CHECK(X.cols() == n_features(),
               "BinMapper: X has " << X.cols() << " features, expected " << n_features());
  const std::int64_t n = X.rows(), d = X.cols();
  const float* x = X.data<float>();
  // The thresholds rounded down to floats: for a float x, t < x ⇔ round_down(t) < x (when t
  // is not a float, no float lies between round_down(t) and t), so the search compares floats.
  std::vector<std::vector<float>> t(d);
  for (std::int64_t f = 0; f < d; ++f) {
    for (double v : thresholds_[f]) {
      float r = static_cast<float>(v);
      if (double(r) > v) r = std::nextafter(r, -std::numeric_limits<float>::infinity());
      t[f].push_back(r);
    }
  }
  std::vector<std::uint8_t> codes(static_cast<std::size_t>(n * d));
  // Blocks of rows, so each block of X is read from cache once for all d features.
  constexpr std::int64_t kBlock = 512;
  const std::int64_t blocks = (n + kBlock - 1) / kBlock;
  parallel::for_each_static(blocks, num_threads(), [&](std::int64_t blk) {
    const std::int64_t begin = blk * kBlock, end = std::min(n, begin + kBlock);
    for (std::int64_t f = 0; f < d; ++f) {
      std::uint8_t* out = codes.data() + f * n;
      const float* tf = t[f].data();
      const int nt = static_cast<int>(t[f].size());
      const auto missing = static_cast<std::uint8_t>(n_bins_[f]);
      for (std::int64_t i = begin; i < end; ++i) {
        const float v = x[i * d + f];
        out[i] = std::isnan(v) ? missing : static_cast<std::uint8_t>(count_below(tf, nt, v));
      }
    }
  });
  return codes;
}

Tensor BinMapper::histogram_index(const std::vector<std::uint8_t>& codes, std::int64_t n) const {
  const std::int64_t d = n_features();
  MLCORE_CHECK(static_cast<std::int64_t>(codes.size()) == n * d,
               "BinMapper: " << codes.size() << " codes for " << n << " × " << d << " samples");
  Tensor index(n, d, DType::i32);  // n × d
  std::int32_t* idx = index.data<std::int32_t>();
  parallel::for_each_static(n, num_threads(), [&](std::int64_t i) {
    for (std::int64_t f = 0; f < d; ++f) idx[i * d + f] = offsets_[f] + codes[f * n + i];
  });
  return index;
}

Tensor BinMapper::histogram_codes(const std::vector<std::uint8_t>& codes, std::int64_t n) const {
  const std::int64_t d = n_features();
  MLCORE_CHECK(static_cast<std::int64_t>(codes.size()) == n * d,
               "BinMapper: " << codes.size() << " codes for " << n << " × " << d << " samples");
  Tensor out(n, d, DType::i8);  // n × d, one unsigned code per byte
  auto* o = reinterpret_cast<std::uint8_t*>(out.raw());
  // Blocks of rows, so each block's column segments stay in cache while rows are written.
  constexpr std::int64_t kBlock = 4096;
  parallel::for_each_static((n + kBlock - 1) / kBlock, num_threads(), [&](std::int64_t blk) {
    const std::int64_t begin = blk * kBlock, end = std::min(n, begin + kBlock);
    for (std::int64_t f = 0; f < d; ++f) {
      const std::uint8_t* col = codes.data() + f * n;
      for (std::int64_t i = begin; i < end; ++i) o[i * d + f] = col[i];
    }
  });
  return out;
}

Tensor BinMapper::histogram_offsets() const {
  const std::int64_t d = n_features();
  Tensor out(1, d, DType::i32);
  std::copy_n(offsets_.data(), d, out.data<std::int32_t>());
  return out;
}

}  // namespace mlcore
