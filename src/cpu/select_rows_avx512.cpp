// The avx512 backend's row selections (argmin_rows, topk_rows); compiled with the AVX-512 flags.
// What AVX-512 adds to the avx2 kernels' lessons is in primitives_avx512.hpp.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "cpu_parallel.hpp"
#include "primitives_avx2.hpp"
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

namespace {

// The k smallest of row[0..n) (k ≤ 16 < n) by the select_before order, ascending, with the best k
// kept sorted in one zmm register (values) and one of columns. As in topk_rows_avx2, 16 columns
// at a time are compared with the worst of the k and only the few that beat it are inserted
// (about k·ln(n/k) of them in a random row) — but an insertion here is a handful of
// instructions without a branch per entry: its rank is the number of kept values ≤ it (every
// kept column is earlier, so an equal value stays ahead), and the lanes from that rank on move
// up one with a masked permute. Rows holding a NaN take the reference path (row_topk): the
// order then needs select_before's NaN rule, and D from sqdist has none unless X had.
// Returns false (nothing written) when it met a NaN.
bool row_topk_in_register(const float* row, int64_t n, int64_t k, int32_t* out_index,
                          float* out_value) {
  const __mmask16 kept = lanes(k);
  // The first k columns, sorted, start the buffer.
  int32_t first[16];
  std::iota(first, first + k, 0);
  for (int64_t j = 0; j < k; ++j) {
    if (std::isnan(row[j])) return false;
  }
  std::sort(first, first + k,
            [row](int32_t a, int32_t b) { return select_before(row[a], a, row[b], b); });
  alignas(64) float v0[16];
  for (int64_t q = 0; q < k; ++q) v0[q] = row[first[q]];
  __m512 vals = _mm512_maskz_loadu_ps(kept, v0);
  __m512i cols = _mm512_maskz_loadu_epi32(kept, first);
  const __m512i last = _mm512_set1_epi32(static_cast<int32_t>(k - 1));
  const __m512i up_one = _mm512_setr_epi32(0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14);
  float worst = _mm512_cvtss_f32(_mm512_permutexvar_ps(last, vals));

  for (int64_t j = k; j < n; j += 16) {
    const __mmask16 in_row = lanes(n - j);
    const __m512 v = _mm512_maskz_loadu_ps(in_row, row + j);
    if (_mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q) & in_row) return false;
    __mmask16 beats = _mm512_cmp_ps_mask(v, _mm512_set1_ps(worst), _CMP_LT_OQ) & in_row;
    while (beats != 0) {
      const int l = __builtin_ctz(beats);
      const float x = row[j + l];
      const __m512 vx = _mm512_set1_ps(x);
      const int rank = __builtin_popcount(_mm512_mask_cmp_ps_mask(kept, vals, vx, _CMP_LE_OQ));
      const __mmask16 at = static_cast<__mmask16>(1u << rank);
      const __mmask16 moved = static_cast<__mmask16>(kept & ~((2u << rank) - 1));
      vals = _mm512_mask_mov_ps(_mm512_mask_permutexvar_ps(vals, moved, up_one, vals), at, vx);
      cols = _mm512_mask_mov_epi32(_mm512_mask_permutexvar_epi32(cols, moved, up_one, cols), at,
                                   _mm512_set1_epi32(static_cast<int32_t>(j + l)));
      worst = _mm512_cvtss_f32(_mm512_permutexvar_ps(last, vals));
      // The columns after l must now beat the new, smaller worst.
      beats &= static_cast<__mmask16>(beats - 1) &
               _mm512_cmp_ps_mask(v, _mm512_set1_ps(worst), _CMP_LT_OQ);
    }
  }
  _mm512_mask_storeu_ps(out_value, kept, vals);
  _mm512_mask_storeu_epi32(out_index, kept, cols);
  return true;
}

}  // namespace

void topk_rows_avx512(int64_t m, int64_t n, int64_t k, const float* D, int32_t* index, float* value,
                      int threads) {
  // The register buffer holds at most 16; with k close to n there is nothing to filter.
  if (k > 16 || k * 8 > n) {
    topk_rows_avx2(m, n, k, D, index, value, threads);
    return;
  }
  parallel_ranges(m, n, threads, [&](int, int64_t begin, int64_t end) {
    std::vector<int32_t> order;
    for (int64_t i = begin; i < end; ++i) {
      if (!row_topk_in_register(D + i * n, n, k, index + i * k, value + i * k)) {
        row_topk(D + i * n, n, k, order, index + i * k, value + i * k);
      }
    }
  });
}

}  // namespace mlcore::cpu
