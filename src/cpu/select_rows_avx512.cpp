// The avx512 backend's argmin_rows; compiled with the AVX-512 flags. What AVX-512 adds to the
// avx2 kernels' lessons is in primitives_avx512.hpp.
#include <immintrin.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "cpu_parallel.hpp"
#include "primitives_avx512.hpp"
#include "row_select.hpp"
#include "simd_avx512.hpp"

namespace mlcore::cpu {

using std::int32_t;
using std::int64_t;

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
