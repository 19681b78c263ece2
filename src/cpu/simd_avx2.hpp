// Small AVX2 helpers shared by the *_avx2.cpp kernel files: the tail mask, horizontal sums, a
// dot product with independent accumulators, and the map/zip loops whose tails run the same
// vector code as their bodies. Include it only from files compiled with -mavx2 -mfma (the #error
// enforces that); the unnamed namespace gives each of them its own copy (see cpu_parallel.hpp
// for why that matters when files are compiled with different ISA flags).
#pragma once

#if !defined(__AVX2__) || !defined(__FMA__)
#error "simd_avx2.hpp needs -mavx2 -mfma: include it only from *_avx2.cpp files"
#endif

#include <immintrin.h>

#include <cstdint>

namespace mlcore::cpu {
namespace {

using std::int32_t;
using std::int64_t;

// Lanes 0..count-1 set (count ≤ 8): the mask of a loop's tail.
inline __m256i tail_mask(int64_t count) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count)),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// Rows shorter than this (n < 8 floats: a column of residuals, a 5-class score matrix) are all
// tail: a row-wise kernel would run one masked load and store per row, and a masked store costs
// many cycles, so such a matrix ran ~20× slower than its bytes say (100 000 × 1: ~0.9 ms for
// 400 KB). The row-wise kernels take narrow matrices by a path of their own.
inline constexpr int64_t kNarrowRow = 8;

// x0 + x1 + … + x7.
inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
inline double hsum(__m256d v) {
  __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
  return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

// Σ a[j]·b[j]: 4 accumulators, because one FMA chain would wait 4 cycles per step (latency)
// where the loads allow ~1 step per cycle.
inline float dot(const float* a, const float* b, int64_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  int64_t j = 0;
  for (; j + 32 <= n; j += 32) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j), _mm256_loadu_ps(b + j), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j + 8), _mm256_loadu_ps(b + j + 8), s1);
    s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j + 16), _mm256_loadu_ps(b + j + 16), s2);
    s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j + 24), _mm256_loadu_ps(b + j + 24), s3);
  }
  for (; j + 8 <= n; j += 8) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j), _mm256_loadu_ps(b + j), s0);
  }
  if (j < n) {
    const __m256i mask = tail_mask(n - j);
    s1 = _mm256_fmadd_ps(_mm256_maskload_ps(a + j, mask), _mm256_maskload_ps(b + j, mask), s1);
  }
  return hsum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

// y[j] = f(x[j]) for j < count, 8 at a time; the tail goes through masked loads and stores,
// so it runs the same vector code (same rounding) as the body.
template <class F>
inline void map_vector(const float* x, float* y, int64_t count, F f) {
  int64_t j = 0;
  for (; j + 8 <= count; j += 8) _mm256_storeu_ps(y + j, f(_mm256_loadu_ps(x + j)));
  if (j < count) {
    const __m256i mask = tail_mask(count - j);
    _mm256_maskstore_ps(y + j, mask, f(_mm256_maskload_ps(x + j, mask)));
  }
}

// y[j] = f(a[j], b[j]) for j < count: the two-input form of map_vector.
template <class F>
inline void zip_vector(const float* a, const float* b, float* y, int64_t count, F f) {
  int64_t j = 0;
  for (; j + 8 <= count; j += 8) {
    _mm256_storeu_ps(y + j, f(_mm256_loadu_ps(a + j), _mm256_loadu_ps(b + j)));
  }
  if (j < count) {
    const __m256i mask = tail_mask(count - j);
    _mm256_maskstore_ps(y + j, mask,
                        f(_mm256_maskload_ps(a + j, mask), _mm256_maskload_ps(b + j, mask)));
  }
}

// dst[0..c) += src[0..c).
inline void add_row(float* dst, const float* src, int64_t c) {
  int64_t j = 0;
  for (; j + 8 <= c; j += 8) {
    _mm256_storeu_ps(dst + j, _mm256_add_ps(_mm256_loadu_ps(dst + j), _mm256_loadu_ps(src + j)));
  }
  for (; j < c; ++j) dst[j] += src[j];
}

}  // namespace
}  // namespace mlcore::cpu
