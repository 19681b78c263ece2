// The AVX2 int8 micro-kernel (the only systolic file compiled with -mavx2 -mfma).
//
// Per pair q of k: 2 loads of B (16 columns × 2 int16), 6 broadcasts of an A pair, 12 vpmaddwd
// (16 MACs each) and 12 vpaddd into 12 ymm accumulators: 192 MACs from 14 live ymm registers of
// the 16, so the C tile never leaves registers during the k loop.
#include <immintrin.h>

#include "igemm.hpp"

namespace mlcore::systolic {

static_assert(kIgemmMR * 2 + 2 <= 16, "accumulators + B registers must fit in 16 ymm");

void igemm_microkernel_avx2(std::int64_t kp2, const std::int32_t* ap, std::int64_t ap_stride,
                            const std::int16_t* bpanel, std::int32_t* ctile) {
  __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
          c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  const std::int32_t* a0 = ap;
  const std::int32_t* a1 = ap + ap_stride;
  const std::int32_t* a2 = ap + 2 * ap_stride;
  const std::int32_t* a3 = ap + 3 * ap_stride;
  const std::int32_t* a4 = ap + 4 * ap_stride;
  const std::int32_t* a5 = ap + 5 * ap_stride;
  for (std::int64_t q = 0; q < kp2; ++q) {
    const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bpanel + q * 32));
    const __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bpanel + q * 32 + 16));
    __m256i a = _mm256_set1_epi32(a0[q]);
    c00 = _mm256_add_epi32(c00, _mm256_madd_epi16(a, b0));
    c01 = _mm256_add_epi32(c01, _mm256_madd_epi16(a, b1));
    a = _mm256_set1_epi32(a1[q]);
    c10 = _mm256_add_epi32(c10, _mm256_madd_epi16(a, b0));
    c11 = _mm256_add_epi32(c11, _mm256_madd_epi16(a, b1));
    a = _mm256_set1_epi32(a2[q]);
    c20 = _mm256_add_epi32(c20, _mm256_madd_epi16(a, b0));
    c21 = _mm256_add_epi32(c21, _mm256_madd_epi16(a, b1));
    a = _mm256_set1_epi32(a3[q]);
    c30 = _mm256_add_epi32(c30, _mm256_madd_epi16(a, b0));
    c31 = _mm256_add_epi32(c31, _mm256_madd_epi16(a, b1));
    a = _mm256_set1_epi32(a4[q]);
    c40 = _mm256_add_epi32(c40, _mm256_madd_epi16(a, b0));
    c41 = _mm256_add_epi32(c41, _mm256_madd_epi16(a, b1));
    a = _mm256_set1_epi32(a5[q]);
    c50 = _mm256_add_epi32(c50, _mm256_madd_epi16(a, b0));
    c51 = _mm256_add_epi32(c51, _mm256_madd_epi16(a, b1));
  }
  __m256i* out = reinterpret_cast<__m256i*>(ctile);
  _mm256_storeu_si256(out + 0, c00);
  _mm256_storeu_si256(out + 1, c01);
  _mm256_storeu_si256(out + 2, c10);
  _mm256_storeu_si256(out + 3, c11);
  _mm256_storeu_si256(out + 4, c20);
  _mm256_storeu_si256(out + 5, c21);
  _mm256_storeu_si256(out + 6, c30);
  _mm256_storeu_si256(out + 7, c31);
  _mm256_storeu_si256(out + 8, c40);
  _mm256_storeu_si256(out + 9, c41);
  _mm256_storeu_si256(out + 10, c50);
  _mm256_storeu_si256(out + 11, c51);
}

}  // namespace mlcore::systolic
