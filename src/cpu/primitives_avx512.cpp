// The avx512 backend's non-GEMM kernels (primitives_avx512.hpp), compiled with the AVX-512
// flags. What AVX-512 adds to the lessons of primitives_avx2.cpp is the mask register: a
// compare writes a 16-bit mask (k-register) instead of a vector of all-ones lanes, a blend or a
// store takes that mask directly, and a loop's tail is the body's instruction under a mask
// (_mm512_maskz_loadu_ps never touches memory past the end), so no scalar clean-up loop and no
// second rounding path exist.
#include "primitives_avx512.hpp"

#include <immintrin.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "cpu_parallel.hpp"
#include "gemm_avx512.hpp"
#include "row_select.hpp"
#include "simd_avx512.hpp"

namespace mlcore::cpu {
namespace {

using std::int32_t;
using std::int64_t;

// Σ a[j]·b[j]: 4 zmm accumulators (4 FMA chains of 4-cycle latency, where the loads allow one
// step per cycle); the tail is one more masked step.
inline float dot(const float* a, const float* b, int64_t n) {
  __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  int64_t j = 0;
  for (; j + 64 <= n; j += 64) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + j), _mm512_loadu_ps(b + j), s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + j + 16), _mm512_loadu_ps(b + j + 16), s1);
    s2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + j + 32), _mm512_loadu_ps(b + j + 32), s2);
    s3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + j + 48), _mm512_loadu_ps(b + j + 48), s3);
  }
  for (; j < n; j += 16) {
    const __mmask16 m = lanes(n - j);
    s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + j), _mm512_maskz_loadu_ps(m, b + j), s0);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

}  // namespace

// ---- sqdist ---------------------------------------------------------------------------------

void sqdist_avx512(int64_t m, int64_t n, int64_t d, const float* A, const float* B, float* D,
                   int threads) {
  std::vector<float> norm_a(m), norm_b(n);
  parallel_ranges(m, d, threads, [&](int, int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) norm_a[i] = dot(A + i * d, A + i * d, d);
  });
  parallel_ranges(n, d, threads, [&](int, int64_t begin, int64_t end) {
    for (int64_t j = begin; j < end; ++j) norm_b[j] = dot(B + j * d, B + j * d, d);
  });
  sgemm_avx512(false, true, m, n, d, -2.0f, A, d, B, d, 0.0f, D, n, threads);
  // D[i, j] = max(0, (‖a_i‖² + ‖b_j‖²) + D[i, j]) (rounding can leave a tiny negative where a_i
  // and b_j nearly coincide; max keeps a NaN, its second operand). The row's last partial
  // 16 columns are the same instructions under a mask.
  parallel_ranges(m, n, threads, [&](int, int64_t begin, int64_t end) {
    const __m512 zero = _mm512_setzero_ps();
    for (int64_t i = begin; i < end; ++i) {
      const __m512 na = _mm512_set1_ps(norm_a[i]);
      float* row = D + i * n;
      for (int64_t j = 0; j < n; j += 16) {
        const __mmask16 mk = lanes(n - j);
        const __m512 v =
            _mm512_add_ps(_mm512_add_ps(na, _mm512_maskz_loadu_ps(mk, norm_b.data() + j)),
                          _mm512_maskz_loadu_ps(mk, row + j));
        _mm512_mask_storeu_ps(row + j, mk, _mm512_max_ps(zero, v));
      }
    }
  });
}

// ---- argmin ---------------------------------------------------------------------------------

namespace {

// A running (minimum, column) per lane.
struct LaneMin {
  __m512 value;
  __m512i column;
};

// The lanes where (v, c) comes first in the order: smaller value, or equal value at a lower
// column. Ordered compares are false for NaN, so a NaN is never taken. A mask, not a vector:
// the blends below take it as their selector.
inline __mmask16 comes_first(__m512 v, __m512i c, const LaneMin& cur) {
  const __mmask16 lt = _mm512_cmp_ps_mask(v, cur.value, _CMP_LT_OQ);
  const __mmask16 eq = _mm512_cmp_ps_mask(v, cur.value, _CMP_EQ_OQ);
  return lt | (eq & _mm512_cmpgt_epi32_mask(cur.column, c));
}

inline void take_where(__mmask16 take, __m512 v, __m512i c, LaneMin& cur) {
  cur.value = _mm512_mask_blend_ps(take, cur.value, v);
  cur.column = _mm512_mask_blend_epi32(take, cur.column, c);
}

// Folds the 16 lanes into lane 0 in four steps (halves, quarters, pairs, neighbours), each
// keeping the first of two (value, column) pairs.
inline RowMin fold_lanes(LaneMin cur) {
  auto step = [&](__m512i perm) {
    const __m512 v = _mm512_permutexvar_ps(perm, cur.value);
    const __m512i c = _mm512_permutexvar_epi32(perm, cur.column);
    take_where(comes_first(v, c, cur), v, c, cur);
  };
  step(_mm512_setr_epi32(8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7));
  step(_mm512_setr_epi32(4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11));
  step(_mm512_setr_epi32(2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13));
  step(_mm512_setr_epi32(1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14));
  return {_mm_cvtsi128_si32(_mm512_castsi512_si128(cur.column)), _mm512_cvtss_f32(cur.value)};
}

}  // namespace

void argmin_rows_avx512(int64_t m, int64_t n, const float* D, int32_t* index, float* value,
                        int threads) {
  parallel_ranges(m, n, threads, [&](int, int64_t begin, int64_t end) {
    const __m512 inf = _mm512_set1_ps(std::numeric_limits<float>::infinity());
    const __m512i none = _mm512_set1_epi32(-1);
    const __m512i step16 = _mm512_set1_epi32(16), step32 = _mm512_set1_epi32(32);
    const __m512i first = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (int64_t i = begin; i < end; ++i) {
      const float* row = D + i * n;
      // Two running minima per lane over alternate blocks of 16 columns (two independent
      // compare-blend chains, as in argmin_rows_avx2). Within a chain `v < min` is strict, so a
      // lane keeps its first occurrence of a tie. The tail block is loaded under a mask with
      // +inf in the missing lanes, which never compares below the running minimum.
      LaneMin even{inf, none}, odd{inf, none};
      __m512i col = first;
      int64_t j = 0;
      for (; j + 32 <= n; j += 32) {
        const __m512 v0 = _mm512_loadu_ps(row + j), v1 = _mm512_loadu_ps(row + j + 16);
        const __m512i col1 = _mm512_add_epi32(col, step16);
        take_where(_mm512_cmp_ps_mask(v0, even.value, _CMP_LT_OQ), v0, col, even);
        take_where(_mm512_cmp_ps_mask(v1, odd.value, _CMP_LT_OQ), v1, col1, odd);
        col = _mm512_add_epi32(col, step32);
      }
      for (; j < n; j += 16) {
        const __m512 v = _mm512_mask_loadu_ps(inf, lanes(n - j), row + j);
        take_where(_mm512_cmp_ps_mask(v, even.value, _CMP_LT_OQ), v, col, even);
        col = _mm512_add_epi32(col, step16);
      }
      // The chains interleave columns, so either may hold the earlier of a tie: compare both.
      take_where(comes_first(odd.value, odd.column, even), odd.value, odd.column, even);
      // Lanes never taken hold (+inf, −1) and lose to any taken lane (whose value is < +inf).
      RowMin best = fold_lanes(even);
      // Nothing below +inf: the row is +inf and NaN only; the reference rule settles it.
      if (best.index < 0) best = row_argmin(row, n);
      index[i] = best.index;
      value[i] = best.value;
    }
  });
}

}  // namespace mlcore::cpu
