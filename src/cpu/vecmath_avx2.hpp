// Element-wise math on 8 floats at a time (AVX2 + FMA): exp, expm1, log, log1p and the functions
// built from them (sigmoid, tanh, softplus). Include it only from files compiled with
// -mavx2 -mfma (the *_avx2.cpp files); the #error below enforces that.
//
// Each function states its method and its accuracy against the correctly rounded result; the
// tests compare them with std::exp / std::log in double. The constants are exact mathematical
// values (Taylor coefficients 1/k!, 2/(2k+1), ln 2), not fitted ones, so a reader can check every
// one of them by hand.
#pragma once

#if !defined(__AVX2__) || !defined(__FMA__)
#error "vecmath_avx2.hpp needs -mavx2 -mfma: include it only from *_avx2.cpp files"
#endif

#include <immintrin.h>

namespace mlcore::cpu::vecmath {

// ln 2 split in two (Cody & Waite): kLn2Hi has only 9 significant bits, so n·kLn2Hi is exact for
// |n| < 2^15 and x − n·kLn2Hi loses nothing; kLn2Lo carries the rest of ln 2.
constexpr float kLn2Hi = 0.693359375f;
constexpr float kLn2Lo = -2.12194440e-4f;
constexpr float kLog2e = 1.44269504088896341f;

// 2^n for integer n in [−126, 127], built directly as float bits: exponent field n + 127.
inline __m256 pow2i(__m256i n) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n, _mm256_set1_epi32(127)), 23));
}

// eˣ. Method: n = round(x / ln 2), r = x − n·ln 2 ∈ [−0.347, 0.347], eʳ by its Taylor polynomial
// of degree 7 (truncation r⁸/8! < 1e-8, 0.1 ulp), then eˣ = eʳ·2ⁿ. The 2ⁿ is applied as two
// factors 2^⌊n/2⌋·2^⌈n/2⌉ so that results in the subnormal range (x down to −103.97) still come
// out right, rounded once. Accuracy: ≤ 2 ulp. x > 88.72 gives +inf, x < −103.97 gives 0, NaN
// stays NaN.
inline __m256 exp(__m256 x) {
  const __m256 hi = _mm256_set1_ps(88.7228394f);   // ln(FLT_MAX)
  const __m256 lo = _mm256_set1_ps(-103.972084f);  // ln(2^-150): below it eˣ rounds to 0
  // max/min return their second operand when one is NaN: x's NaN survives the clamp.
  const __m256 xc = _mm256_min_ps(hi, _mm256_max_ps(lo, x));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(xc, _mm256_set1_ps(kLog2e)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Hi), xc);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Lo), r);
  // eʳ ≈ 1 + r + r²/2! + … + r⁷/7!, Horner from the highest term.
  __m256 p = _mm256_set1_ps(1.0f / 5040.0f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 720.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  const __m256i ni = _mm256_cvtps_epi32(n);
  const __m256i n1 = _mm256_srai_epi32(ni, 1);  // ⌊n/2⌋, n − ⌊n/2⌋: both in [−76, 64]
  const __m256i n2 = _mm256_sub_epi32(ni, n1);
  __m256 y = _mm256_mul_ps(_mm256_mul_ps(p, pow2i(n1)), pow2i(n2));
  y = _mm256_blendv_ps(y, _mm256_set1_ps(__builtin_inff()), _mm256_cmp_ps(x, hi, _CMP_GT_OQ));
  y = _mm256_blendv_ps(y, _mm256_setzero_ps(), _mm256_cmp_ps(x, lo, _CMP_LT_OQ));
  return y;
}

// eˣ − 1, accurate also for tiny x (where exp(x) − 1 would cancel). Method as exp, with
// eʳ − 1 = r + r²/2! + … + r⁸/8! (truncation < 1e-9 relative) and eˣ − 1 = 2ⁿ·(eʳ − 1) + (2ⁿ − 1),
// exact for n = 0. x is clamped to [−88, 88] (eˣ − 1 is −1 in f32 below −88). Accuracy: ≤ 2 ulp.
inline __m256 expm1(__m256 x) {
  const __m256 xc = _mm256_min_ps(_mm256_set1_ps(88.0f), _mm256_max_ps(_mm256_set1_ps(-88.0f), x));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(xc, _mm256_set1_ps(kLog2e)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Hi), xc);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Lo), r);
  __m256 p = _mm256_set1_ps(1.0f / 40320.0f);  // (eʳ − 1 − r)/r² = 1/2! + r/3! + … + r⁶/8!
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 5040.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 720.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
  const __m256 q = _mm256_fmadd_ps(_mm256_mul_ps(r, r), p, r);  // eʳ − 1
  const __m256 two_n = pow2i(_mm256_cvtps_epi32(n));            // n ∈ [−127, 127]
  return _mm256_fmadd_ps(two_n, q, _mm256_sub_ps(two_n, _mm256_set1_ps(1.0f)));
}

// ln x. Method: x = m·2ᵉ with m ∈ [√½, √2), ln m = 2·atanh(s) = 2(s + s³/3 + … + s¹¹/11) with
// s = (m − 1)/(m + 1), |s| ≤ 0.1716 (next term < 1e-10 relative), then ln x = e·ln 2 + ln m with
// ln 2 split as in exp. Subnormal x is first scaled by 2²⁴. Accuracy: ≤ 2 ulp. x = 0 → −inf,
// x < 0 → NaN, +inf → +inf, NaN → NaN (IEEE, like std::log).
inline __m256 log(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  // Subnormals: scale into the normal range, remember the 24 in the exponent.
  const __m256 tiny = _mm256_cmp_ps(x, _mm256_set1_ps(1.17549435e-38f), _CMP_LT_OQ);
  const __m256 xs = _mm256_blendv_ps(x, _mm256_mul_ps(x, _mm256_set1_ps(16777216.0f)), tiny);
  const __m256i bits = _mm256_castps_si256(xs);
  __m256i e = _mm256_sub_epi32(_mm256_srli_epi32(bits, 23), _mm256_set1_epi32(127));
  e = _mm256_sub_epi32(e, _mm256_and_si256(_mm256_castps_si256(tiny), _mm256_set1_epi32(24)));
  // m ∈ [1, 2): the mantissa bits with the exponent of 1.0.
  __m256 m = _mm256_castsi256_ps(_mm256_or_si256(
      _mm256_and_si256(bits, _mm256_set1_epi32(0x007FFFFF)), _mm256_set1_epi32(0x3F800000)));
  // Fold [√2, 2) onto [√½, 1): m /= 2, e += 1 (keeps |s| small).
  const __m256 big = _mm256_cmp_ps(m, _mm256_set1_ps(1.41421356f), _CMP_GE_OQ);
  m = _mm256_blendv_ps(m, _mm256_mul_ps(m, _mm256_set1_ps(0.5f)), big);
  e = _mm256_sub_epi32(e, _mm256_castps_si256(big));  // the mask is −1 where big
  const __m256 s = _mm256_div_ps(_mm256_sub_ps(m, one), _mm256_add_ps(m, one));
  const __m256 s2 = _mm256_mul_ps(s, s);
  __m256 p = _mm256_set1_ps(2.0f / 11.0f);
  p = _mm256_fmadd_ps(p, s2, _mm256_set1_ps(2.0f / 9.0f));
  p = _mm256_fmadd_ps(p, s2, _mm256_set1_ps(2.0f / 7.0f));
  p = _mm256_fmadd_ps(p, s2, _mm256_set1_ps(2.0f / 5.0f));
  p = _mm256_fmadd_ps(p, s2, _mm256_set1_ps(2.0f / 3.0f));
  const __m256 ln_m = _mm256_fmadd_ps(_mm256_mul_ps(s, s2), p, _mm256_add_ps(s, s));
  const __m256 ef = _mm256_cvtepi32_ps(e);
  __m256 y = _mm256_fmadd_ps(ef, _mm256_set1_ps(kLn2Hi),
                             _mm256_fmadd_ps(ef, _mm256_set1_ps(kLn2Lo), ln_m));
  // IEEE special cases, in order: +inf, 0 → −inf, negative or NaN → NaN.
  y = _mm256_blendv_ps(y, x, _mm256_cmp_ps(x, _mm256_set1_ps(__builtin_inff()), _CMP_EQ_OQ));
  y = _mm256_blendv_ps(y, _mm256_set1_ps(-__builtin_inff()),
                       _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_EQ_OQ));
  y = _mm256_blendv_ps(y, _mm256_set1_ps(__builtin_nanf("")),
                       _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_NGE_UQ));  // x < 0 or NaN
  return y;
}

// ln(1 + x) for x ≥ −1, accurate for tiny x. Method (Goldberg): w = 1 + x rounded; then
// ln(1 + x) = ln(w)·x/(w − 1), which cancels the rounding of w; = x where w == 1. ≤ 3 ulp.
inline __m256 log1p(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 w = _mm256_add_ps(one, x);
  const __m256 wm1 = _mm256_sub_ps(w, one);
  const __m256 y = _mm256_mul_ps(log(w), _mm256_div_ps(x, wm1));
  // w == 1 (x below half an ulp of 1): ln(1 + x) = x to f32 precision. x = +inf: inf/inf = NaN
  // in the formula, so pass it through too.
  const __m256 pass = _mm256_or_ps(_mm256_cmp_ps(wm1, _mm256_setzero_ps(), _CMP_EQ_OQ),
                                   _mm256_cmp_ps(x, _mm256_set1_ps(__builtin_inff()), _CMP_EQ_OQ));
  return _mm256_blendv_ps(y, x, pass);
}

// |x| and the sign bit of x.
inline __m256 abs(__m256 x) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x); }
inline __m256 sign_bit(__m256 x) { return _mm256_and_ps(_mm256_set1_ps(-0.0f), x); }

// 1 / (1 + e⁻ˣ) without overflow: with e = e^−|x| ∈ (0, 1], it is 1/(1 + e) for x ≥ 0 and
// e/(1 + e) for x < 0. ≤ 3 ulp.
inline __m256 sigmoid(__m256 x) {
  const __m256 e = exp(_mm256_or_ps(abs(x), _mm256_set1_ps(-0.0f)));  // e^−|x|
  const __m256 num =
      _mm256_blendv_ps(e, _mm256_set1_ps(1.0f), _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GE_OQ));
  return _mm256_div_ps(num, _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}

// tanh x = sign(x)·(−t)/(t + 2) with t = e^−2|x| − 1 (expm1, so small |x| keeps its digits).
// ≤ 4 ulp; ±1 for |x| > 9.
inline __m256 tanh(__m256 x) {
  const __m256 t = expm1(_mm256_mul_ps(abs(x), _mm256_set1_ps(-2.0f)));
  const __m256 th =
      _mm256_div_ps(_mm256_sub_ps(_mm256_setzero_ps(), t), _mm256_add_ps(t, _mm256_set1_ps(2.0f)));
  return _mm256_or_ps(th, sign_bit(x));
}

// ln(1 + eˣ) (softplus) without overflow: max(x, 0) + ln(1 + e^−|x|). ≤ 4 ulp (where eˣ is
// small, exp's own error passes straight through log1p).
inline __m256 log1pexp(__m256 x) {
  const __m256 e = exp(_mm256_or_ps(abs(x), _mm256_set1_ps(-0.0f)));  // e^−|x|
  // max(0, x): NaN survives (second operand), giving NaN like the scalar reference.
  return _mm256_add_ps(_mm256_max_ps(_mm256_setzero_ps(), x), log1p(e));
}

}  // namespace mlcore::cpu::vecmath
