// The avx2 backend's matrix-vector product (sgemv); compiled with -mavx2
// -mfma. The lessons these memory-bound kernels share are in primitives_avx2.hpp.
#include <immintrin.h>

#include "cpu_parallel.hpp"
#include "gemm_avx2.hpp"
#include "primitives_avx2.hpp"
#include "simd_avx2.hpp"

namespace mlcore::cpu {

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

}  // namespace mlcore::cpu
