// The avx2 backend's squared distances (one GEMM plus the norms); compiled with -mavx2
// -mfma. The lessons these memory-bound kernels share are in primitives_avx2.hpp.
#include <immintrin.h>

#include "cpu_parallel.hpp"
#include "gemm_avx2.hpp"
#include "primitives_avx2.hpp"
#include "simd_avx2.hpp"

namespace mlcore::cpu {

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

}  // namespace mlcore::cpu
