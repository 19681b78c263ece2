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
