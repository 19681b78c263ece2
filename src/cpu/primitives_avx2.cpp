// The avx2 backend's non-GEMM kernels (declared in primitives_avx2.hpp), compiled with
// -mavx2 -mfma. They are all memory-bound or nearly so (a few flops per element loaded), so the
// lessons here are different from the GEMM's: 8 floats per instruction, masked loads for the
// tails instead of scalar clean-up loops, several independent accumulators where a reduction
// would otherwise wait on its own latency, and a second thread only where a row range carries
// enough work to pay for waking it.
#include "primitives_avx2.hpp"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <vector>

#include "cpu_parallel.hpp"
#include "gemm_avx2.hpp"
#include "map_scalar.hpp"
#include "row_select.hpp"
#include "vecmath_avx2.hpp"

namespace mlcore::cpu {
namespace {

using std::int32_t;
using std::int64_t;

// Threads: parallel_ranges / threads_for / split_range (cpu_parallel.hpp, shared with avx512).

// ---- small vector helpers -------------------------------------------------------------------
// Lanes 0..count-1 set (count ≤ 8): the mask of a loop's tail.
inline __m256i tail_mask(int64_t count) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count)),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// x0 + x1 + … + x7.
inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
inline double hsum(__m256d v) {
  __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
  return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

// Σ a[j]·b[j]: 4 accumulators, because one FMA chain would wait 4 cycles per step (latency)
// where the loads allow ~1 step per cycle.
inline float dot(const float* a, const float* b, int64_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  int64_t j = 0;
  for (; j + 32 <= n; j += 32) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j), _mm256_loadu_ps(b + j), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j + 8), _mm256_loadu_ps(b + j + 8), s1);
    s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j + 16), _mm256_loadu_ps(b + j + 16), s2);
    s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j + 24), _mm256_loadu_ps(b + j + 24), s3);
  }
  for (; j + 8 <= n; j += 8) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j), _mm256_loadu_ps(b + j), s0);
  }
  if (j < n) {
    const __m256i mask = tail_mask(n - j);
    s1 = _mm256_fmadd_ps(_mm256_maskload_ps(a + j, mask), _mm256_maskload_ps(b + j, mask), s1);
  }
  return hsum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

// y[j] = f(x[j]) for j < count, 8 at a time; the tail goes through masked loads and stores,
// so it runs the same vector code (same rounding) as the body.
template <class F>
inline void map_vector(const float* x, float* y, int64_t count, F f) {
  int64_t j = 0;
  for (; j + 8 <= count; j += 8) _mm256_storeu_ps(y + j, f(_mm256_loadu_ps(x + j)));
  if (j < count) {
    const __m256i mask = tail_mask(count - j);
    _mm256_maskstore_ps(y + j, mask, f(_mm256_maskload_ps(x + j, mask)));
  }
}

// y[j] = f(a[j], b[j]) for j < count: the two-input form of map_vector.
template <class F>
inline void zip_vector(const float* a, const float* b, float* y, int64_t count, F f) {
  int64_t j = 0;
  for (; j + 8 <= count; j += 8) {
    _mm256_storeu_ps(y + j, f(_mm256_loadu_ps(a + j), _mm256_loadu_ps(b + j)));
  }
  if (j < count) {
    const __m256i mask = tail_mask(count - j);
    _mm256_maskstore_ps(y + j, mask,
                        f(_mm256_maskload_ps(a + j, mask), _mm256_maskload_ps(b + j, mask)));
  }
}

}  // namespace

// ---- gemv -----------------------------------------------------------------------------------

void sgemv_avx2(bool trans, int64_t m, int64_t n, float alpha, const float* A, const float* x,
                float beta, float* y, int threads) {
  auto finish = [alpha, beta](float sum, float& out) {
    out = beta == 0.0f ? alpha * sum : alpha * sum + beta * out;
  };
  if (!trans) {
    // y[i] = alpha·(A[i, :] · x) + beta·y[i]: one dot product per row. Four rows at a time, so
    // each load of x feeds 4 FMAs (x stays in L1; A streams from memory once).
    parallel_ranges(m, n, threads, [&](int, int64_t begin, int64_t end) {
      int64_t i = begin;
      for (; i + 4 <= end; i += 4) {
        const float* a0 = A + i * n;
        const float *a1 = a0 + n, *a2 = a1 + n, *a3 = a2 + n;
        __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
        int64_t j = 0;
        for (; j + 8 <= n; j += 8) {
          const __m256 xv = _mm256_loadu_ps(x + j);
          s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a0 + j), xv, s0);
          s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a1 + j), xv, s1);
          s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a2 + j), xv, s2);
          s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a3 + j), xv, s3);
        }
        if (j < n) {
          const __m256i mask = tail_mask(n - j);
          const __m256 xv = _mm256_maskload_ps(x + j, mask);
          s0 = _mm256_fmadd_ps(_mm256_maskload_ps(a0 + j, mask), xv, s0);
          s1 = _mm256_fmadd_ps(_mm256_maskload_ps(a1 + j, mask), xv, s1);
          s2 = _mm256_fmadd_ps(_mm256_maskload_ps(a2 + j, mask), xv, s2);
          s3 = _mm256_fmadd_ps(_mm256_maskload_ps(a3 + j, mask), xv, s3);
        }
        finish(hsum(s0), y[i]);
        finish(hsum(s1), y[i + 1]);
        finish(hsum(s2), y[i + 2]);
        finish(hsum(s3), y[i + 3]);
      }
      for (; i < end; ++i) finish(dot(A + i * n, x, n), y[i]);
    });
    return;
  }
  // y[j] = alpha·Σ_i A[i, j]·x[i] + beta·y[j]: walk A row by row (contiguous) and accumulate
  // x[i]·A[i, :] into a row of partial sums. Each block of rows (cut by size: reduction_blocks)
  // has its own partial row; the partial rows are then added in block order, so the result
  // does not depend on the thread count.
  const int64_t blocks = reduction_blocks(m, n);
  std::vector<float> partial(static_cast<std::size_t>(blocks) * n, 0.0f);
  parallel_blocks(m, blocks, threads, [&](int64_t blk, int64_t begin, int64_t end) {
    float* acc = partial.data() + blk * n;
    // Two rows per pass over acc: halves the loads and stores of the partial row.
    int64_t i = begin;
    for (; i + 2 <= end; i += 2) {
      const float *a0 = A + i * n, *a1 = a0 + n;
      const __m256 x0 = _mm256_set1_ps(x[i]), x1 = _mm256_set1_ps(x[i + 1]);
      int64_t j = 0;
      for (; j + 8 <= n; j += 8) {
        __m256 s = _mm256_fmadd_ps(_mm256_loadu_ps(a0 + j), x0, _mm256_loadu_ps(acc + j));
        _mm256_storeu_ps(acc + j, _mm256_fmadd_ps(_mm256_loadu_ps(a1 + j), x1, s));
      }
      for (; j < n; ++j) acc[j] += a0[j] * x[i] + a1[j] * x[i + 1];
    }
    for (; i < end; ++i) {
      const float* a0 = A + i * n;
      const __m256 x0 = _mm256_set1_ps(x[i]);
      int64_t j = 0;
      for (; j + 8 <= n; j += 8) {
        _mm256_storeu_ps(acc + j,
                         _mm256_fmadd_ps(_mm256_loadu_ps(a0 + j), x0, _mm256_loadu_ps(acc + j)));
      }
      for (; j < n; ++j) acc[j] += a0[j] * x[i];
    }
  });
  for (int64_t j = 0; j < n; ++j) {
    float sum = partial[j];
    for (int64_t blk = 1; blk < blocks; ++blk) sum += partial[blk * n + j];
    finish(sum, y[j]);
  }
}

// ---- sqdist ---------------------------------------------------------------------------------

void sqdist_avx2(int64_t m, int64_t n, int64_t d, const float* A, const float* B, float* D,
                 int threads) {
  // ‖a − b‖² = ‖a‖² + ‖b‖² − 2·a·b: the m·n·d MACs become one GEMM (D = −2·A·Bᵀ, at the GEMM's
  // speed) and the norms cost only (m + n)·d.
  std::vector<float> norm_a(m), norm_b(n);
  parallel_ranges(m, d, threads, [&](int, int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) norm_a[i] = dot(A + i * d, A + i * d, d);
  });
  parallel_ranges(n, d, threads, [&](int, int64_t begin, int64_t end) {
    for (int64_t j = begin; j < end; ++j) norm_b[j] = dot(B + j * d, B + j * d, d);
  });
  sgemm_avx2(false, true, m, n, d, -2.0f, A, d, B, d, 0.0f, D, n, threads);
  // D[i, j] = max(0, (‖a_i‖² + ‖b_j‖²) + D[i, j]). Rounding can leave a tiny negative where a_i
  // and b_j (nearly) coincide; a squared distance is never negative, so clamp. max(0, v) keeps a
  // NaN (max returns its second operand when one is NaN).
  parallel_ranges(m, n, threads, [&](int, int64_t begin, int64_t end) {
    const __m256 zero = _mm256_setzero_ps();
    for (int64_t i = begin; i < end; ++i) {
      const __m256 na = _mm256_set1_ps(norm_a[i]);
      float* row = D + i * n;
      int64_t j = 0;
      for (; j + 8 <= n; j += 8) {
        const __m256 v = _mm256_add_ps(_mm256_add_ps(na, _mm256_loadu_ps(norm_b.data() + j)),
                                       _mm256_loadu_ps(row + j));
        _mm256_storeu_ps(row + j, _mm256_max_ps(zero, v));
      }
      for (; j < n; ++j) {
        const float v = (norm_a[i] + norm_b[j]) + row[j];
        row[j] = v < 0.0f ? 0.0f : v;
      }
    }
  });
}

// ---- row selections -------------------------------------------------------------------------

namespace {

// A running (minimum, column) per lane; `take` marks the lanes where (v, c) comes first in the
// order: smaller value, or the same value at a lower column. Ordered compares are false for
// NaN, so a NaN is never taken.
struct LaneMin {
  __m256 value;
  __m256i column;
};

inline __m256 comes_first(__m256 v, __m256i c, const LaneMin& cur) {
  const __m256 lt = _mm256_cmp_ps(v, cur.value, _CMP_LT_OQ);
  const __m256 eq = _mm256_cmp_ps(v, cur.value, _CMP_EQ_OQ);
  const __m256 lower = _mm256_castsi256_ps(_mm256_cmpgt_epi32(cur.column, c));
  return _mm256_or_ps(lt, _mm256_and_ps(eq, lower));
}

inline void take_where(__m256 take, __m256 v, __m256i c, LaneMin& cur) {
  cur.value = _mm256_blendv_ps(cur.value, v, take);
  cur.column = _mm256_castps_si256(
      _mm256_blendv_ps(_mm256_castsi256_ps(cur.column), _mm256_castsi256_ps(c), take));
}

// Folds the 8 lanes into lane 0 in three shuffle steps (halves, pairs, neighbours), each
// keeping the first of two (value, column) pairs.
inline RowMin fold_lanes(LaneMin cur) {
  auto step = [&](__m256 v, __m256i c) { take_where(comes_first(v, c, cur), v, c, cur); };
  step(_mm256_permute2f128_ps(cur.value, cur.value, 1),
       _mm256_permute2f128_si256(cur.column, cur.column, 1));
  step(_mm256_permute_ps(cur.value, _MM_SHUFFLE(1, 0, 3, 2)),
       _mm256_shuffle_epi32(cur.column, _MM_SHUFFLE(1, 0, 3, 2)));
  step(_mm256_permute_ps(cur.value, _MM_SHUFFLE(2, 3, 0, 1)),
       _mm256_shuffle_epi32(cur.column, _MM_SHUFFLE(2, 3, 0, 1)));
  return {_mm256_cvtsi256_si32(cur.column), _mm256_cvtss_f32(cur.value)};
}

}  // namespace

void argmin_rows_avx2(int64_t m, int64_t n, const float* D, int32_t* index, float* value,
                      int threads) {
  parallel_ranges(m, n, threads, [&](int, int64_t begin, int64_t end) {
    const __m256 inf = _mm256_set1_ps(std::numeric_limits<float>::infinity());
    const __m256i none = _mm256_set1_epi32(-1);
    const __m256i step8 = _mm256_set1_epi32(8), step16 = _mm256_set1_epi32(16);
    for (int64_t i = begin; i < end; ++i) {
      const float* row = D + i * n;
      // Two running minima per lane, over alternate blocks of 8 columns: a compare + blend
      // takes ~6 cycles of latency, so one chain would leave the core idle between blocks;
      // two independent chains overlap (k-means rows are 10-100 columns: a few blocks each).
      // Within a chain `v < min` is strict, so each lane keeps its first occurrence of a tie.
      LaneMin even{inf, none}, odd{inf, none};
      __m256i col = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
      int64_t j = 0;
      for (; j + 16 <= n; j += 16) {
        const __m256 v0 = _mm256_loadu_ps(row + j), v1 = _mm256_loadu_ps(row + j + 8);
        const __m256i col1 = _mm256_add_epi32(col, step8);
        take_where(_mm256_cmp_ps(v0, even.value, _CMP_LT_OQ), v0, col, even);
        take_where(_mm256_cmp_ps(v1, odd.value, _CMP_LT_OQ), v1, col1, odd);
        col = _mm256_add_epi32(col, step16);
      }
      if (j + 8 <= n) {
        const __m256 v = _mm256_loadu_ps(row + j);
        take_where(_mm256_cmp_ps(v, even.value, _CMP_LT_OQ), v, col, even);
        j += 8;
      }
      // The chains interleave columns, so either may hold the earlier of a tie: compare both.
      take_where(comes_first(odd.value, odd.column, even), odd.value, odd.column, even);
      // Lanes never taken hold (+inf, −1) and lose to any taken lane (whose value is < +inf).
      RowMin best = fold_lanes(even);
      for (; j < n; ++j) {  // the tail: later columns, so strict < keeps the earlier tie
        if (row[j] < best.value) best = {static_cast<int32_t>(j), row[j]};
      }
      // Nothing below +inf: the row is +inf and NaN only; the reference rule settles it.
      if (best.index < 0) best = row_argmin(row, n);
      index[i] = best.index;
      value[i] = best.value;
    }
  });
}

namespace {

// The k smallest of row[0..n) by the select_before order, ascending, for k ≪ n: keep the best k
// in a sorted buffer and test 8 columns at a time against its worst entry; only the (few)
// columns that beat it are inserted. For random rows about k·ln(n/k) insertions happen.
void row_topk_filtered(const float* row, int64_t n, int64_t k, std::vector<int32_t>& order,
                       int32_t* out_index, float* out_value) {
  // The first k columns, sorted, start the buffer.
  order.resize(k);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [row](int32_t a, int32_t b) { return select_before(row[a], a, row[b], b); });
  for (int64_t q = 0; q < k; ++q) {
    out_index[q] = order[q];
    out_value[q] = row[order[q]];
  }
  auto insert = [&](float v, int32_t j) {
    if (!select_before(v, j, out_value[k - 1], out_index[k - 1])) return;
    int64_t pos = k - 1;  // shift worse entries right, dropping the worst
    while (pos > 0 && select_before(v, j, out_value[pos - 1], out_index[pos - 1])) {
      out_value[pos] = out_value[pos - 1];
      out_index[pos] = out_index[pos - 1];
      --pos;
    }
    out_value[pos] = v;
    out_index[pos] = j;
  };
  int64_t j = k;
  for (; j + 8 <= n; j += 8) {
    const __m256 v = _mm256_loadu_ps(row + j);
    const float worst = out_value[k - 1];
    // A later column beats the worst entry iff it is smaller (ties lose to the lower index), or
    // the worst is NaN and it is a number.
    const __m256 beats = std::isnan(worst) ? _mm256_cmp_ps(v, v, _CMP_ORD_Q)
                                           : _mm256_cmp_ps(v, _mm256_set1_ps(worst), _CMP_LT_OQ);
    int bits = _mm256_movemask_ps(beats);
    while (bits != 0) {
      const int l = __builtin_ctz(bits);
      bits &= bits - 1;
      insert(row[j + l], static_cast<int32_t>(j + l));  // re-checked: the worst may have moved
    }
  }
  for (; j < n; ++j) insert(row[j], static_cast<int32_t>(j));
}

}  // namespace

void topk_rows_avx2(int64_t m, int64_t n, int64_t k, const float* D, int32_t* index, float* value,
                    int threads) {
  // The filtered insertion pays while k is small next to n; otherwise partial_sort (the
  // reference) is as good.
  const bool filtered = k <= 64 && k * 8 <= n;
  parallel_ranges(m, n, threads, [&](int, int64_t begin, int64_t end) {
    std::vector<int32_t> order;
    for (int64_t i = begin; i < end; ++i) {
      if (filtered) {
        row_topk_filtered(D + i * n, n, k, order, index + i * k, value + i * k);
      } else {
        row_topk(D + i * n, n, k, order, index + i * k, value + i * k);
      }
    }
  });
}

// ---- element-wise ---------------------------------------------------------------------------

namespace {

// uᵖ for an integer p, |p| ≤ 64, computed in double by repeated squaring (≤ 12 roundings of
// 2⁻⁵³ each) and rounded once to float: correctly rounded in practice, and right for negative
// u, which exp(p·ln u) is not.
inline __m256 pow_int(__m256 u, int p) {
  const unsigned e = static_cast<unsigned>(p < 0 ? -p : p);
  __m256d base[2] = {_mm256_cvtps_pd(_mm256_castps256_ps128(u)),
                     _mm256_cvtps_pd(_mm256_extractf128_ps(u, 1))};
  __m256d result[2] = {_mm256_set1_pd(1.0), _mm256_set1_pd(1.0)};
  for (unsigned bits = e; bits != 0; bits >>= 1) {
    for (int h = 0; h < 2; ++h) {
      if (bits & 1u) result[h] = _mm256_mul_pd(result[h], base[h]);
      base[h] = _mm256_mul_pd(base[h], base[h]);
    }
  }
  if (p < 0) {
    for (int h = 0; h < 2; ++h) result[h] = _mm256_div_pd(_mm256_set1_pd(1.0), result[h]);
  }
  return _mm256_set_m128(_mm256_cvtpd_ps(result[1]), _mm256_cvtpd_ps(result[0]));
}

// Runs f(u) over the range with u = scale·x + shift rounded twice (a multiply, then an add), the
// same u the scalar reference computes, so f sees identical inputs on every backend.
template <class F>
void map_range(const float* x, float* y, int64_t count, const MapArgs& args, F f) {
  const __m256 scale = _mm256_set1_ps(args.scale), shift = _mm256_set1_ps(args.shift);
  map_vector(x, y, count,
             [&](__m256 v) { return f(_mm256_add_ps(_mm256_mul_ps(scale, v), shift)); });
}

}  // namespace

void map_avx2(MapFn fn, int64_t count, const float* x, float* y, MapArgs args, int threads) {
  namespace vm = vecmath;
  // Transcendentals cost ~20–40 instructions per 8 elements: count them as 8 units of work.
  const int64_t cost =
      (fn == MapFn::identity || fn == MapFn::square || fn == MapFn::abs || fn == MapFn::relu) ? 1
                                                                                              : 8;
  const double p = args.exponent;
  const bool small_int_pow = p == std::floor(p) && std::fabs(p) <= 64.0;
  parallel_ranges(count, cost, threads, [&](int, int64_t begin, int64_t end) {
    const float* xs = x + begin;
    float* ys = y + begin;
    const int64_t len = end - begin;
    switch (fn) {
      case MapFn::identity:
        map_range(xs, ys, len, args, [](__m256 u) { return u; });
        break;
      case MapFn::exp:
        map_range(xs, ys, len, args, [](__m256 u) { return vm::exp(u); });
        break;
      case MapFn::log:
        map_range(xs, ys, len, args, [](__m256 u) { return vm::log(u); });
        break;
      case MapFn::sigmoid:
        map_range(xs, ys, len, args, [](__m256 u) { return vm::sigmoid(u); });
        break;
      case MapFn::tanh:
        map_range(xs, ys, len, args, [](__m256 u) { return vm::tanh(u); });
        break;
      case MapFn::sqrt:
        map_range(xs, ys, len, args, [](__m256 u) { return _mm256_sqrt_ps(u); });
        break;
      case MapFn::square:
        map_range(xs, ys, len, args, [](__m256 u) { return _mm256_mul_ps(u, u); });
        break;
      case MapFn::abs:
        map_range(xs, ys, len, args, [](__m256 u) { return vm::abs(u); });
        break;
      case MapFn::relu:
        // max(u, 0) returns its second operand, 0, for a NaN u: like the reference u > 0 ? u : 0.
        map_range(xs, ys, len, args,
                  [](__m256 u) { return _mm256_max_ps(u, _mm256_setzero_ps()); });
        break;
      case MapFn::reciprocal:
        map_range(xs, ys, len, args,
                  [](__m256 u) { return _mm256_div_ps(_mm256_set1_ps(1.0f), u); });
        break;
      case MapFn::pow:
        if (small_int_pow) {
          const int e = static_cast<int>(p);
          map_range(xs, ys, len, args, [e](__m256 u) { return pow_int(u, e); });
        } else {  // a fractional power: std::pow, one element at a time
          for (int64_t i = 0; i < len; ++i) ys[i] = apply_map_fn(fn, xs[i], args);
        }
        break;
      case MapFn::log1pexp:
        map_range(xs, ys, len, args, [](__m256 u) { return vm::log1pexp(u); });
        break;
    }
  });
}

void softmax_rows_avx2(int64_t m, int64_t n, const float* X, float* Y, bool log, int threads) {
  parallel_ranges(m, n * 4, threads, [&](int, int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const float* x = X + i * n;
      float* y = Y + i * n;
      // Pass 1: the row max, so exp never overflows (softmax(x) = softmax(x − max x)).
      __m256 vmax = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
      int64_t j = 0;
      for (; j + 8 <= n; j += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(x + j));
      alignas(32) float lanes[8];
      _mm256_store_ps(lanes, vmax);
      float mx = lanes[0];
      for (int l = 1; l < 8; ++l) mx = std::max(mx, lanes[l]);
      for (; j < n; ++j) mx = std::max(mx, x[j]);
      const __m256 vmx = _mm256_set1_ps(mx);
      // Pass 2: Σ exp(x − max), summed in double (as the reference does) from f32 exps. For
      // softmax the exps are kept in y, so pass 3 only scales them.
      __m256d sum0 = _mm256_setzero_pd(), sum1 = sum0;
      auto accumulate = [&](__m256 e) {
        sum0 = _mm256_add_pd(sum0, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
        sum1 = _mm256_add_pd(sum1, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
      };
      for (j = 0; j + 8 <= n; j += 8) {
        const __m256 e = vecmath::exp(_mm256_sub_ps(_mm256_loadu_ps(x + j), vmx));
        accumulate(e);
        if (!log) _mm256_storeu_ps(y + j, e);
      }
      if (j < n) {
        const __m256i mask = tail_mask(n - j);
        const __m256 e = _mm256_and_ps(  // lanes past the row add 0
            vecmath::exp(_mm256_sub_ps(_mm256_maskload_ps(x + j, mask), vmx)),
            _mm256_castsi256_ps(mask));
        accumulate(e);
        if (!log) _mm256_maskstore_ps(y + j, mask, e);
      }
      const double sum = hsum(_mm256_add_pd(sum0, sum1));
      // Pass 3.
      if (log) {
        // log_softmax = (x − max) − ln Σ.
        const __m256 lse = _mm256_set1_ps(static_cast<float>(std::log(sum)));
        map_vector(x, y, n, [&](__m256 v) { return _mm256_sub_ps(_mm256_sub_ps(v, vmx), lse); });
      } else {
        const __m256 inv = _mm256_set1_ps(static_cast<float>(1.0 / sum));
        map_vector(y, y, n, [&](__m256 e) { return _mm256_mul_ps(e, inv); });
      }
    }
  });
}

void axpby_avx2(int64_t count, float alpha, const float* x, float beta, float* y, int threads) {
  const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
  parallel_ranges(count, 1, threads, [&](int, int64_t begin, int64_t end) {
    const float* xs = x + begin;
    float* ys = y + begin;
    if (beta == 0.0f) {  // y's old contents are ignored, NaN included
      map_vector(xs, ys, end - begin, [va](__m256 xv) { return _mm256_mul_ps(va, xv); });
    } else {
      zip_vector(xs, ys, ys, end - begin, [va, vb](__m256 xv, __m256 yv) {
        return _mm256_fmadd_ps(va, xv, _mm256_mul_ps(vb, yv));
      });
    }
  });
}

void multiply_avx2(int64_t count, const float* x, float* y, int threads) {
  parallel_ranges(count, 1, threads, [&](int, int64_t begin, int64_t end) {
    zip_vector(x + begin, y + begin, y + begin, end - begin,
               [](__m256 xv, __m256 yv) { return _mm256_mul_ps(xv, yv); });
  });
}

void add_row_vector_avx2(int64_t m, int64_t n, float alpha, const float* v, float* Y, int threads) {
  // alpha·v is the same for every row: computed once (rounded as the reference rounds it).
  std::vector<float> av(n);
  for (int64_t j = 0; j < n; ++j) av[j] = alpha * v[j];
  parallel_ranges(m, n, threads, [&](int, int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      float* row = Y + i * n;
      zip_vector(row, av.data(), row, n, [](__m256 r, __m256 a) { return _mm256_add_ps(r, a); });
    }
  });
}

void scale_rows_avx2(int64_t m, int64_t n, const float* w, float* Y, int threads) {
  parallel_ranges(m, n, threads, [&](int, int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const __m256 wi = _mm256_set1_ps(w[i]);
      float* row = Y + i * n;
      map_vector(row, row, n, [wi](__m256 r) { return _mm256_mul_ps(r, wi); });
    }
  });
}

// ---- scatter / gather -----------------------------------------------------------------------

namespace {

// dst[0..c) += src[0..c).
inline void add_row(float* dst, const float* src, int64_t c) {
  int64_t j = 0;
  for (; j + 8 <= c; j += 8) {
    _mm256_storeu_ps(dst + j, _mm256_add_ps(_mm256_loadu_ps(dst + j), _mm256_loadu_ps(src + j)));
  }
  for (; j < c; ++j) dst[j] += src[j];
}

void scatter_rows(int64_t begin, int64_t end, int64_t p, int64_t c, const int32_t* index,
                  const float* X, float* out) {
  for (int64_t i = begin; i < end; ++i) {
    for (int64_t q = 0; q < p; ++q) {
      const int32_t target = index[i * p + q];
      if (target >= 0) add_row(out + target * c, X + i * c, c);
    }
  }
}

}  // namespace

void scatter_add_avx2(int64_t n, int64_t p, int64_t c, const int32_t* index, const float* X,
                      int64_t out_rows, float* out, int threads) {
  // Two samples may hit the same output row, so threads cannot share `out`. Each block of
  // samples (cut by size: reduction_blocks) scatters into a private zeroed copy, and the copies
  // are added into `out` in block order, so the result does not depend on the thread count.
  // Worth it only when the scatter work (n·p·c) dwarfs the copies (blocks·m·c), as in k-means
  // (few centroids, many samples); that choice too depends on sizes alone.
  const int64_t work = n * p * c, copies = out_rows * c;
  int64_t blocks = reduction_blocks(n, p * c);
  if (work < 4 * copies * blocks) blocks = 1;
  if (blocks <= 1) {
    scatter_rows(0, n, p, c, index, X, out);
    return;
  }
  std::vector<float> priv(static_cast<std::size_t>(blocks) * copies, 0.0f);
  parallel_blocks(n, blocks, threads, [&](int64_t blk, int64_t begin, int64_t end) {
    scatter_rows(begin, end, p, c, index, X, priv.data() + blk * copies);
  });
  for (int64_t blk = 0; blk < blocks; ++blk) add_row(out, priv.data() + blk * copies, copies);
}

// ---- histograms -----------------------------------------------------------------------------
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

void gather_rows_avx2(int64_t m, int64_t row_bytes, const void* X, const int32_t* index, void* Y,
                      int threads) {
  const char* x = static_cast<const char*>(X);
  char* y = static_cast<char*>(Y);
  parallel_ranges(m, std::max<int64_t>(1, row_bytes / 4), threads,
                  [&](int, int64_t begin, int64_t end) {
                    for (int64_t i = begin; i < end; ++i) {
                      std::memcpy(y + i * row_bytes, x + index[i] * row_bytes, row_bytes);
                    }
                  });
}

// ---- column reductions ----------------------------------------------------------------------

namespace {

// acc[j] += (x[j] − center[j])² (square) or x[j] (plain), for one row, in double: 8 floats are
// widened to two groups of 4 doubles. Double sums keep m ≫ 10⁴ rows exact to f32 precision,
// which an f32 running sum does not (it loses ~log2(m) bits).
template <bool kSquare>
inline void accumulate_row(const float* x, const double* center, double* acc, int64_t n) {
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    const __m256 v = _mm256_loadu_ps(x + j);
    for (int h = 0; h < 2; ++h) {
      __m256d d = _mm256_cvtps_pd(h == 0 ? _mm256_castps256_ps128(v) : _mm256_extractf128_ps(v, 1));
      if (kSquare) {
        d = _mm256_sub_pd(d, _mm256_loadu_pd(center + j + 4 * h));
        d = _mm256_mul_pd(d, d);
      }
      _mm256_storeu_pd(acc + j + 4 * h, _mm256_add_pd(_mm256_loadu_pd(acc + j + 4 * h), d));
    }
  }
  for (; j < n; ++j) {
    const double d = kSquare ? double(x[j]) - center[j] : double(x[j]);
    acc[j] += kSquare ? d * d : d;
  }
}

// out[j] = Σ_i over rows (of x[i, j], or of (x[i, j] − center[j])²), in double. Each block of
// rows (cut by size: reduction_blocks) sums into its own accumulator row; the rows are added in
// block order, so the result does not depend on the thread count.
template <bool kSquare>
std::vector<double> column_sums(int64_t m, int64_t n, const float* X, const double* center,
                                int threads) {
  const int64_t blocks = reduction_blocks(m, n);
  std::vector<double> partial(static_cast<std::size_t>(blocks) * n, 0.0);
  parallel_blocks(m, blocks, threads, [&](int64_t blk, int64_t begin, int64_t end) {
    double* acc = partial.data() + blk * n;
    for (int64_t i = begin; i < end; ++i) accumulate_row<kSquare>(X + i * n, center, acc, n);
  });
  std::vector<double> sum(partial.begin(), partial.begin() + n);
  for (int64_t blk = 1; blk < blocks; ++blk) {
    for (int64_t j = 0; j < n; ++j) sum[j] += partial[blk * n + j];
  }
  return sum;
}

}  // namespace

void reduce_cols_avx2(Reduce op, int64_t m, int64_t n, const float* X, float* out, int threads) {
  std::vector<double> sum = column_sums<false>(m, n, X, nullptr, threads);
  if (op == Reduce::sum) {
    for (int64_t j = 0; j < n; ++j) out[j] = static_cast<float>(sum[j]);
    return;
  }
  for (int64_t j = 0; j < n; ++j) sum[j] /= static_cast<double>(m);  // now the means
  if (op == Reduce::mean) {
    for (int64_t j = 0; j < n; ++j) out[j] = static_cast<float>(sum[j]);
    return;
  }
  // Variance in two passes, Σ(x − mean)²/m: no catastrophic cancellation when the mean is large
  // next to the spread (E[x²] − E[x]² would lose every digit at mean 100, spread 1, in f32).
  const std::vector<double> ss = column_sums<true>(m, n, X, sum.data(), threads);
  for (int64_t j = 0; j < n; ++j) out[j] = static_cast<float>(ss[j] / static_cast<double>(m));
}

}  // namespace mlcore::cpu
