// Small AVX-512 helpers shared by the *_avx512.cpp files: edge masks, the 16 × 16 in-register
// transpose that packing uses, and the 4-row byte interleave of the int8 packing. Include it
// only from files compiled with the AVX-512 flags (the #error enforces that); the unnamed
// namespace gives each of them its own copy (see cpu_parallel.hpp for why that matters).
#pragma once

#if !defined(__AVX512F__) || !defined(__AVX512BW__)
#error "simd_avx512.hpp needs -mavx512f -mavx512bw: include it only from *_avx512.cpp files"
#endif

#include <immintrin.h>

#include <cstdint>

namespace mlcore::cpu {
namespace {

// Lanes 0..count-1 of a 16-lane vector (count clamped to [0, 16]): the mask of an edge. A load
// under it reads nothing past the edge (and cannot fault there); a store writes nothing there.
inline __mmask16 lanes(std::int64_t count) {
  return count >= 16 ? __mmask16(0xFFFF) : count <= 0 ? __mmask16(0) : __mmask16((1u << count) - 1);
}

// Bytes 0..count-1 of a 64-byte vector (count clamped to [0, 64]).
inline __mmask64 byte_lanes(std::int64_t count) {
  return count >= 64 ? ~__mmask64(0) : count <= 0 ? __mmask64(0) : (__mmask64(1) << count) - 1;
}

// In-register transpose of a 16 × 16 block of 32-bit elements: r[i] holds row i on entry,
// column i on exit. Three rounds, each swapping ever larger sub-blocks:
//   unpack{lo,hi}_ps   interleaves pairs of rows           (2 × 2 blocks of single elements)
//   shuffle_ps         combines 64-bit pairs               (4 × 4 blocks inside each 128 bits)
//   shuffle_f32x4 ×2   moves 128-bit quarters across rows  (the 4 × 4 grid of 4 × 4 blocks)
// 64 shuffles for 256 elements; the packing routines use it for every transposed layout.
inline void transpose16x16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {
    r[4 * i + 0] = _mm512_shuffle_ps(t[4 * i + 0], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i + 0], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int h = 0; h < 2; ++h) {  // quarters of row groups (0..3, 4..7) and (8..11, 12..15)
    for (int i = 0; i < 4; ++i) {
      t[8 * h + i] = _mm512_shuffle_f32x4(r[8 * h + i], r[8 * h + 4 + i], 0x88);
      t[8 * h + 4 + i] = _mm512_shuffle_f32x4(r[8 * h + i], r[8 * h + 4 + i], 0xDD);
    }
  }
  for (int i = 0; i < 8; ++i) {
    r[i] = _mm512_shuffle_f32x4(t[i], t[8 + i], 0x88);
    r[8 + i] = _mm512_shuffle_f32x4(t[i], t[8 + i], 0xDD);
  }
}

// Four rows of 16 bytes (r0..r3: row t holds x[t][0..15]) regrouped into 16 words of 4 bytes,
// word c = (x[0][c], x[1][c], x[2][c], x[3][c]) — the "4 k-steps of one column per lane" layout of
// the VNNI GEMM. Two rounds of interleaves: bytes of rows (0,1) and (2,3), then 16-bit pairs.
inline __m512i interleave4x16(__m128i r0, __m128i r1, __m128i r2, __m128i r3) {
  const __m128i a_lo = _mm_unpacklo_epi8(r0, r1), a_hi = _mm_unpackhi_epi8(r0, r1);
  const __m128i b_lo = _mm_unpacklo_epi8(r2, r3), b_hi = _mm_unpackhi_epi8(r2, r3);
  const __m256i lo =
      _mm256_set_m128i(_mm_unpackhi_epi16(a_lo, b_lo), _mm_unpacklo_epi16(a_lo, b_lo));
  const __m256i hi =
      _mm256_set_m128i(_mm_unpackhi_epi16(a_hi, b_hi), _mm_unpacklo_epi16(a_hi, b_hi));
  return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

// Σ a[j]·b[j]: 4 zmm accumulators (4 FMA chains of 4-cycle latency, where the loads allow one
// step per cycle); the tail is one more masked step.
inline float dot(const float* a, const float* b, int64_t n) {
  __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  int64_t j = 0;
  for (; j + 64 <= n; j += 64) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + j), _mm512_loadu_ps(b + j), s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + j + 16), _mm512_loadu_ps(b + j + 16), s1);
    s2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + j + 32), _mm512_loadu_ps(b + j + 32), s2);
    s3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + j + 48), _mm512_loadu_ps(b + j + 48), s3);
  }
  for (; j < n; j += 16) {
    const __mmask16 m = lanes(n - j);
    s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + j), _mm512_maskz_loadu_ps(m, b + j), s0);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

}  // namespace
}  // namespace mlcore::cpu
