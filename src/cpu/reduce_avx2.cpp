// The avx2 backend's column reductions (sum, mean, variance); compiled with -mavx2
// -mfma. The lessons these memory-bound kernels share are in primitives_avx2.hpp.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "cpu_parallel.hpp"
#include "primitives_avx2.hpp"
#include "simd_avx2.hpp"

namespace mlcore::cpu {

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

// The same sums over `rows` rows of a narrow X (N < kNarrowRow columns), read as one flat run of
// floats: rows are shorter than a vector, so a row-at-a-time loop would add into acc[j] through
// memory, one dependent add per row. A group of N vectors (8·N floats) holds 8 whole rows, and
// lane l of its t-th vector always holds column (8t + l) mod N; so 2·N double accumulators
// (one per half vector) stay in registers across the groups and are folded into the columns at
// the end. The leftover rows (fewer than 8) are added one by one.
template <bool kSquare, int N>
void accumulate_narrow(const float* x, int64_t rows, const double* center, double* acc) {
  double pattern[8 * N] = {};  // the center of each lane's column, in group order
  if (kSquare) {
    for (int p = 0; p < 8 * N; ++p) pattern[p] = center[p % N];
  }
  __m256d sum[2 * N];
  for (int a = 0; a < 2 * N; ++a) sum[a] = _mm256_setzero_pd();
  const int64_t groups = rows / 8;
  for (int64_t g = 0; g < groups; ++g) {
    const float* xs = x + g * 8 * N;
    for (int t = 0; t < N; ++t) {
      const __m256 v = _mm256_loadu_ps(xs + 8 * t);
      for (int h = 0; h < 2; ++h) {
        __m256d d =
            _mm256_cvtps_pd(h == 0 ? _mm256_castps256_ps128(v) : _mm256_extractf128_ps(v, 1));
        if (kSquare) {
          d = _mm256_sub_pd(d, _mm256_loadu_pd(pattern + 8 * t + 4 * h));
          d = _mm256_mul_pd(d, d);
        }
        sum[2 * t + h] = _mm256_add_pd(sum[2 * t + h], d);
      }
    }
  }
  double lanes[8 * N];
  for (int a = 0; a < 2 * N; ++a) _mm256_storeu_pd(lanes + 4 * a, sum[a]);
  for (int p = 0; p < 8 * N; ++p) acc[p % N] += lanes[p];
  for (int64_t i = groups * 8; i < rows; ++i) {
    for (int j = 0; j < N; ++j) {
      const double d = kSquare ? double(x[i * N + j]) - center[j] : double(x[i * N + j]);
      acc[j] += kSquare ? d * d : d;
    }
  }
}

// accumulate_narrow for the run-time column count n < kNarrowRow.
template <bool kSquare>
void accumulate_narrow(const float* x, int64_t rows, int64_t n, const double* center, double* acc) {
  switch (n) {
    case 1:
      return accumulate_narrow<kSquare, 1>(x, rows, center, acc);
    case 2:
      return accumulate_narrow<kSquare, 2>(x, rows, center, acc);
    case 3:
      return accumulate_narrow<kSquare, 3>(x, rows, center, acc);
    case 4:
      return accumulate_narrow<kSquare, 4>(x, rows, center, acc);
    case 5:
      return accumulate_narrow<kSquare, 5>(x, rows, center, acc);
    case 6:
      return accumulate_narrow<kSquare, 6>(x, rows, center, acc);
    default:
      return accumulate_narrow<kSquare, 7>(x, rows, center, acc);
  }
}
static_assert(kNarrowRow == 8, "accumulate_narrow's switch covers n = 1..7");

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
    if (n < kNarrowRow) {
      accumulate_narrow<kSquare>(X + begin * n, end - begin, n, center, acc);
      return;
    }
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
