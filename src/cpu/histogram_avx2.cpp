// The avx2 backend's histograms (the tree learners' per-feature gradient sums); compiled with
// -mavx2 -mfma. The lessons these memory-bound kernels share are in primitives_avx2.hpp.
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "cpu_parallel.hpp"
#include "primitives_avx2.hpp"
#include "simd_avx2.hpp"

namespace mlcore::cpu {

//
// histogram() is a tree's hot loop: each listed row adds its c statistics to one bin row per
// feature, m·P read-modify-writes at random bins of a histogram that stays in L2 (256 bins ×
// 50 features × 32 B = 400 KiB). What makes it fast:
//   * one sample's statistics (c = 4 or 8 floats, the widths the trees pad to) are one
//     register, loaded once per row and added to each feature's bin with one load, add, store;
//   * one byte per code: a row's 50 codes are one cache line, where an i32 index took four, and
//     the bin is offset + code, computed on the fly, so no index is gathered or written;
//   * the node's rows are fetched by id with software prefetch a few rows ahead (a node's rows
//     are scattered over the training set: each is a likely cache miss);
//   * threads split the *features*, not the rows: each owns a disjoint slice of `out`, so there
//     are no private copies to zero and add up, and the result does not depend on the split.

namespace {

// A feature to accumulate: its column in `codes` and its first bin row in `out`.
struct HistFeature {
  int32_t column;
  int32_t offset;
};

// How many rows ahead to prefetch: ~16 rows × (codes + statistics) ≈ 32 lines in flight,
// enough to cover a DRAM miss (~100 ns) at ~5 ns of adds per row of 50 features.
constexpr int64_t kHistPrefetchRows = 16;

template <class T>  // float or std::uint64_t statistics
inline void prefetch_row(const uint8_t* codes, int64_t P, const T* X, int64_t c, int64_t r) {
  const uint8_t* code = codes + r * P;
  _mm_prefetch(reinterpret_cast<const char*>(code), _MM_HINT_T0);
  _mm_prefetch(reinterpret_cast<const char*>(code + P - 1), _MM_HINT_T0);  // may span two lines
  _mm_prefetch(reinterpret_cast<const char*>(X + r * c), _MM_HINT_T0);
}

template <class R>
struct RowTag {  // names a row type where a value is needed (a generic lambda's argument)
  using Row = R;
};

template <int C>
struct F32Row;  // one sample's c f32 statistics, held in registers
template <>
struct F32Row<4> {
  using T = float;
  static constexpr int kColumns = 4;
  __m128 v;
  explicit F32Row(const float* x) : v(_mm_loadu_ps(x)) {}
  void add_to(float* o) const { _mm_storeu_ps(o, _mm_add_ps(_mm_loadu_ps(o), v)); }
};
template <>
struct F32Row<8> {
  using T = float;
  static constexpr int kColumns = 8;
  __m256 v;
  explicit F32Row(const float* x) : v(_mm256_loadu_ps(x)) {}
  void add_to(float* o) const { _mm256_storeu_ps(o, _mm256_add_ps(_mm256_loadu_ps(o), v)); }
};
template <>
struct F32Row<16> {
  using T = float;
  static constexpr int kColumns = 16;
  __m256 v0, v1;
  explicit F32Row(const float* x) : v0(_mm256_loadu_ps(x)), v1(_mm256_loadu_ps(x + 8)) {}
  void add_to(float* o) const {
    _mm256_storeu_ps(o, _mm256_add_ps(_mm256_loadu_ps(o), v0));
    _mm256_storeu_ps(o + 8, _mm256_add_ps(_mm256_loadu_ps(o + 8), v1));
  }
};
// C i64 statistics as unsigned integers (wrapping adds are defined; the bits are the signed
// sums' bits). One: a scalar `add` to memory; two: one 16-byte SSE add (paddq).
template <int C>
struct U64Row;
template <>
struct U64Row<1> {
  using T = std::uint64_t;
  static constexpr int kColumns = 1;
  std::uint64_t v;
  explicit U64Row(const std::uint64_t* x) : v(*x) {}
  void add_to(std::uint64_t* o) const { *o += v; }
};
template <>
struct U64Row<2> {
  using T = std::uint64_t;
  static constexpr int kColumns = 2;
  __m128i v;
  explicit U64Row(const std::uint64_t* x)
      : v(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x))) {}
  void add_to(std::uint64_t* o) const {
    auto* p = reinterpret_cast<__m128i*>(o);
    _mm_storeu_si128(p, _mm_add_epi64(_mm_loadu_si128(p), v));
  }
};

// Features f[0..nf) of rows[0..m), C statistics per row held in registers by Row (F32Row:
// c = 4, 8, 16 floats; U64Row: 1 or 2 integers): per update one load/add/store of a bin.
// kAllWanted: the features are columns f[0].column, f[0].column + 1, … with offsets read
// straight from `offsets` — two loads per update (code, offset) besides the bin's own
// load and store, where the feature list needs a third.
template <class Row, int C, bool kAllWanted>
void histogram_rows(int64_t m, int64_t P, const uint8_t* codes, const HistFeature* f, int64_t nf,
                    const int32_t* offsets, const int32_t* rows, const typename Row::T* X,
                    typename Row::T* out) {
  const int64_t first = f[0].column;
  const int32_t* off = offsets + first;
  for (int64_t k = 0; k < m; ++k) {
    if (k + kHistPrefetchRows < m) prefetch_row(codes, P, X, C, rows[k + kHistPrefetchRows]);
    const int64_t r = rows[k];
    const Row x(X + r * C);
    const uint8_t* code = codes + r * P;
    for (int64_t j = 0; j < nf; ++j) {
      const int64_t bin =
          kAllWanted ? int64_t{off[j]} + code[first + j] : int64_t{f[j].offset} + code[f[j].column];
      x.add_to(out + bin * C);
    }
  }
}

// The same sums for the common case — every feature wanted, nodes of ≥ kBlockedMinRows rows per
// statistic — reorganised around the two costs left in the loop above, which are not the
// additions:
//   * loads: each update loads its code byte *and* its feature's offset, besides the bin it
//     adds to — three loads on two load ports. Here eight codes come in one 8-byte load and are
//     taken apart with shifts (ALU work, of which there are four ports), and
//   * the offsets disappear: the thread accumulates into a private block laid out with a fixed
//     stride of 256 bins per feature, so a bin's address is block + 256·j + code, with 256·j a
//     constant of the unrolled loop. The block is added into `out` at the real offsets at the
//     end: 256 · c values per feature to zero and add, which a node must have enough rows to
//     repay — why smaller nodes, and wide rows, keep the direct loops.
// i64 statistics (a regression or boosting tree's count and value packed in one integer: 8
// bytes a bin, where f32 digit columns took 16) add with one read-modify-write `add` per bin.
// Measured with one thread on 10–20 features of random codes: ≈ 1.0 ns per update for the
// direct f32 loop, ≈ 0.9 ns blocked f32 (c = 4), ≈ 0.7 ns blocked i64 (c = 1).
constexpr int64_t kBlockedMinRows = 2048;

// Columns [first, first + nf) of rows[0..m) into out (bins at offsets[first..], out has
// `bins` rows), C statistics of type Row::T per row.
template <class Row, int C>
void histogram_rows_blocked(int64_t m, int64_t P, int64_t first, int64_t nf, const uint8_t* codes,
                            const int32_t* offsets, int64_t bins, const int32_t* rows,
                            const typename Row::T* X, typename Row::T* out) {
  using T = typename Row::T;
  constexpr int64_t kStride = 256 * C;  // values per feature in the block
  thread_local std::vector<T> block;
  block.assign(static_cast<std::size_t>(nf * kStride), T(0));
  T* blk = block.data();
  for (int64_t k = 0; k < m; ++k) {
    if (k + kHistPrefetchRows < m) {
      const int64_t ahead = rows[k + kHistPrefetchRows];
      _mm_prefetch(reinterpret_cast<const char*>(codes + ahead * P + first), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(X + ahead * C), _MM_HINT_T0);
    }
    const int64_t r = rows[k];
    const Row x(X + r * C);
    const uint8_t* code = codes + r * P + first;
    T* o = blk;
    int64_t j = 0;
    for (; j + 8 <= nf; j += 8, o += 8 * kStride) {
      std::uint64_t w;
      std::memcpy(&w, code + j, 8);
      for (int b = 0; b < 8; ++b) x.add_to(o + b * kStride + int64_t((w >> (8 * b)) & 255) * C);
    }
    for (; j < nf; ++j, o += kStride) x.add_to(o + int64_t{code[j]} * C);
  }
  // The block into out: feature j's 256 rows at offsets[first + j], clipped to out's rows (the
  // caller checked that no listed code lands past them, so the clipped rows are zero).
  for (int64_t j = 0; j < nf; ++j) {
    const int64_t off = offsets[first + j];
    const int64_t rows_j = std::min<int64_t>(256, bins - off);
    T* dst = out + off * C;
    const T* src = blk + j * kStride;
    for (int64_t e = 0; e < rows_j * C; ++e) dst[e] += src[e];
  }
}

// Any c: the row added with add_row (whole vectors, then a scalar tail).
void histogram_rows_any(int64_t m, int64_t P, int64_t c, const uint8_t* codes, const HistFeature* f,
                        int64_t nf, const int32_t* rows, const float* X, float* out) {
  for (int64_t k = 0; k < m; ++k) {
    if (k + kHistPrefetchRows < m) prefetch_row(codes, P, X, c, rows[k + kHistPrefetchRows]);
    const int64_t r = rows[k];
    const uint8_t* code = codes + r * P;
    for (int64_t j = 0; j < nf; ++j) {
      add_row(out + (int64_t{f[j].offset} + code[f[j].column]) * c, X + r * c, c);
    }
  }
}

// i64 statistics, any c, any features: the plain loop.
void histogram_rows_u64_any(int64_t m, int64_t P, int64_t c, const uint8_t* codes,
                            const HistFeature* f, int64_t nf, const int32_t* rows,
                            const std::uint64_t* X, std::uint64_t* out) {
  for (int64_t k = 0; k < m; ++k) {
    if (k + kHistPrefetchRows < m) prefetch_row(codes, P, X, c, rows[k + kHistPrefetchRows]);
    const int64_t r = rows[k];
    const uint8_t* code = codes + r * P;
    const std::uint64_t* x = X + r * c;
    for (int64_t j = 0; j < nf; ++j) {
      std::uint64_t* o = out + (int64_t{f[j].offset} + code[f[j].column]) * c;
      for (int64_t e = 0; e < c; ++e) o[e] += x[e];
    }
  }
}

}  // namespace

void histogram_avx2(int64_t m, int64_t P, int64_t c, const uint8_t* codes, const int32_t* offsets,
                    const int32_t* rows, const void* X, bool is_i64, void* out, int64_t bins,
                    int threads) {
  std::vector<HistFeature> features;  // the wanted ones (offset ≥ 0), in column order
  features.reserve(static_cast<std::size_t>(P));
  for (int64_t p = 0; p < P; ++p) {
    if (offsets[p] >= 0) features.push_back({static_cast<int32_t>(p), offsets[p]});
  }
  const int64_t nf = static_cast<int64_t>(features.size());
  if (m == 0 || nf == 0 || c == 0) return;
  const bool all = nf == P;
  const bool blocked = all && m >= kBlockedMinRows * c;
  // A second thread only for ≥ 2^17 updates (≥ ~50 µs each): a tree makes some 30 calls per
  // boosting iteration, and each fork/join is also a chance to wait on a descheduled thread
  // when the machine is shared.
  const int t = m * nf >= (int64_t{1} << 17) ? threads : 1;
  const auto* xf = static_cast<const float*>(X);
  auto* of = static_cast<float*>(out);
  const auto* xu = static_cast<const std::uint64_t*>(X);
  auto* ou = static_cast<std::uint64_t*>(out);
  parallel_ranges(nf, m * c, t, [&](int, int64_t begin, int64_t end) {
    const HistFeature* f = features.data() + begin;
    const int64_t count = end - begin;
    // A statistics width with a register row type: the blocked or the direct kernel.
    auto run = [&](auto tag, const auto* x, auto* o) {
      using Row = typename decltype(tag)::Row;
      constexpr int C = Row::kColumns;
      if (blocked) {
        histogram_rows_blocked<Row, C>(m, P, f[0].column, count, codes, offsets, bins, rows, x, o);
      } else if (all) {
        histogram_rows<Row, C, true>(m, P, codes, f, count, offsets, rows, x, o);
      } else {
        histogram_rows<Row, C, false>(m, P, codes, f, count, offsets, rows, x, o);
      }
    };
    if (is_i64 && c == 1) {
      run(RowTag<U64Row<1>>(), xu, ou);
    } else if (is_i64 && c == 2) {
      run(RowTag<U64Row<2>>(), xu, ou);
    } else if (is_i64) {
      histogram_rows_u64_any(m, P, c, codes, f, count, rows, xu, ou);
    } else if (c == 4) {
      run(RowTag<F32Row<4>>(), xf, of);
    } else if (c == 8) {
      run(RowTag<F32Row<8>>(), xf, of);
    } else if (c == 16) {
      run(RowTag<F32Row<16>>(), xf, of);
    } else {
      histogram_rows_any(m, P, c, codes, f, count, rows, xf, of);
    }
  });
}

}  // namespace mlcore::cpu
