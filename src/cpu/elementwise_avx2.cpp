// The avx2 backend's element-wise arithmetic (axpby, multiply, add_row_vector, scale_rows);
// compiled with -mavx2 -mfma. The lessons these memory-bound kernels share are in
// primitives_avx2.hpp.
#include <immintrin.h>

#include "cpu_parallel.hpp"
#include "primitives_avx2.hpp"
#include "simd_avx2.hpp"

namespace mlcore::cpu {

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
    if (n < kNarrowRow) {  // see kNarrowRow: plain loops, which the compiler may vectorise
      for (int64_t i = begin; i < end; ++i) {
        for (int64_t j = 0; j < n; ++j) Y[i * n + j] += av[j];
      }
      return;
    }
    for (int64_t i = begin; i < end; ++i) {
      float* row = Y + i * n;
      zip_vector(row, av.data(), row, n, [](__m256 r, __m256 a) { return _mm256_add_ps(r, a); });
    }
  });
}

void scale_rows_avx2(int64_t m, int64_t n, const float* w, float* Y, int threads) {
  parallel_ranges(m, n, threads, [&](int, int64_t begin, int64_t end) {
    if (n < kNarrowRow) {
      for (int64_t i = begin; i < end; ++i) {
        for (int64_t j = 0; j < n; ++j) Y[i * n + j] *= w[i];
      }
      return;
    }
    for (int64_t i = begin; i < end; ++i) {
      const __m256 wi = _mm256_set1_ps(w[i]);
      float* row = Y + i * n;
      map_vector(row, row, n, [wi](__m256 r) { return _mm256_mul_ps(r, wi); });
    }
  });
}

}  // namespace mlcore::cpu
