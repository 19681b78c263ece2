// The avx2 backend's row selections (argmin_rows, topk_rows); compiled with -mavx2
// -mfma. The lessons these memory-bound kernels share are in primitives_avx2.hpp.
#include <immintrin.h>

#include <algorithm>
#include <limits>
#include <numeric>
#include <vector>

#include "cpu_parallel.hpp"
#include "primitives_avx2.hpp"
#include "row_select.hpp"
#include "simd_avx2.hpp"

namespace mlcore::cpu {

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

}  // namespace mlcore::cpu
