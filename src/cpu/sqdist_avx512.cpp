// The avx512 backend's squared distances (one GEMM plus the norms); compiled with the AVX-512
// flags. What AVX-512 adds to the avx2 kernels' lessons is in primitives_avx512.hpp.
#include <immintrin.h>

#include "cpu_parallel.hpp"
#include "gemm_avx512.hpp"
#include "primitives_avx512.hpp"
#include "simd_avx512.hpp"

namespace mlcore::cpu {

using std::int32_t;
using std::int64_t;

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

}  // namespace mlcore::cpu
