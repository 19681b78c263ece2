// int8 GEMM on AVX-512 VNNI: C (i32) ← op(A)·op(B) (+ C), A and B int8, exact. The same loops
// (gemm_driver.hpp) and register tile (14 × 32) as the SGEMM in gemm_avx512.cpp; only the
// packing and the micro-kernel's instruction differ. Declared in gemm_avx512.hpp.
//
// THE INSTRUCTION. vpdpbusd (_mm512_dpbusd_epi32(acc, a, b)), AVX-512 VNNI ("vector neural
// network instructions"): each of the 16 int32 lanes takes 4 bytes of a and 4 bytes of b and
//   acc[l] += a[4l]·b[4l] + a[4l+1]·b[4l+1] + a[4l+2]·b[4l+2] + a[4l+3]·b[4l+3]
// — 64 int8 multiply-accumulates in one instruction, into the accumulator itself (AVX2 needed
// vpmaddwd on int16 + vpaddd: 16 MACs in two instructions; see igemm_avx2.cpp). So four
// consecutive k-steps travel together: lane l of a packed B row holds B[4q..4q+3, j] as 4 bytes
// and the broadcast A word holds A[i, 4q..4q+3].
//
// THE CATCH: u8 × s8. vpdpbusd multiplies *unsigned* bytes of its first operand by *signed* bytes
// of its second (the instruction was made for u8 activations × s8 weights). Our A is signed. Add
// 128 to it: A' = A + 128 ∈ [0, 255] is a valid u8 (flipping the top bit, A ^ 0x80, is that
// addition), and
//   Σ_p A'[i,p]·B[p,j] = Σ_p A[i,p]·B[p,j] + 128·Σ_p B[p,j],
// so A·B = A'·B − 128·colsum(B)[j]. The column sums of B are computed while B is packed and
// stored as one extra row of each micro-panel; the micro-kernel starts its accumulators at
// −128·colsum instead of 0. Exactness: int32 lanes wrap (vpdpbusd does not saturate; vpdpbusds
// would), and the final value A·B fits in int32 (|A·B| ≤ k·2¹⁴ < 2³¹ for k < 131072), so even if
// the partial sums with the +128 offset wrap on the way, the wrapped result is exactly A·B.
//
// THE TILE. As in the SGEMM: 14 rows × 32 columns = 28 zmm accumulators + 2 for the B row; the
// A word is broadcast from memory ({1to16}). vpdpbusd has the FMA's shape (accumulate in place,
// ~5-cycle latency, 1-2 per cycle), so the same derivation holds: 28 independent chains ≥ 2 × 5.
// Per 4 k-steps: 2 loads of B, 14 broadcasts, 28 vpdpbusd = 1792 MACs (the f32 tile does 448 per
// k-step: 4× the MACs per instruction, on a quarter of the bytes).
//
// Blocking in k-steps: KC = 512 int8 k-steps = 128 words of 4; the B micro-panel is
// 128 × 32 × 4 B = 16 KiB (+ the colsum row), half of L1d, and the A block MC × 128 words ×
// 4 B = 224 KiB — the SGEMM's byte sizes exactly.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "gemm_avx512.hpp"
#include "gemm_driver.hpp"
#include "simd_avx512.hpp"

namespace mlcore::cpu {
namespace {

using std::int32_t;
using std::int64_t;
using std::int8_t;

constexpr int MR = GemmAvx512Blocking::kMR;
constexpr int NR = GemmAvx512Blocking::kNR;
constexpr int kStepsPerWord = 4;  // int8 k-steps per int32 lane
// 128 words of 4 k-steps: the B micro-panel is 128 × 32 × 4 B = 16 KiB, half of a 32 KiB L1d;
// the A block 448 × 128 words = 224 KiB, as the f32 GEMM's (gemm_avx512.cpp derives both).
constexpr int KC = 128 * kStepsPerWord;  // 512 k-steps
constexpr int MC = 448;
constexpr int NC = GemmAvx512Blocking::kNC;
static_assert(KC % kStepsPerWord == 0 && MC % MR == 0 && NC % NR == 0, "whole tiles");
static_assert((KC / kStepsPerWord) * NR * 4 <= 16 * 1024, "B micro-panel: half of a 32 KiB L1d");

inline int64_t words(int64_t kc) { return (kc + kStepsPerWord - 1) / kStepsPerWord; }

// The packing is vectorised, unlike igemm_avx2's: the int8 micro-kernel is 4× faster per
// instruction than the f32 one, so at n = 1024 a byte-at-a-time copy of A and B took as long as
// a third of the multiplication. Two moves cover all four layouts:
//   * where the 4 bytes of a word are contiguous in memory (a row of A, a row of Bᵀ), the
//     packing is a 16 × 16 transpose of 32-bit words (transpose16x16);
//   * where they lie in 4 consecutive rows (Aᵀ, B), it is a byte interleave of 4 rows
//     (interleave4x16).
// Edges are masked byte loads: missing bytes come back 0.

// Packed A block (mc × kc of op(A)) as micro-panels of MR rows × ⌈kc/4⌉ words:
//   a_pack[(i / MR)·MR·kw + q·MR + i % MR] = bytes (A'[i, 4q], …, A'[i, 4q + 3]),  A' = A + 128,
// with A = 0 (A' = 128) past the last row or k-step (B is zero there, so they add nothing).
void pack_a(bool trans, const int8_t* A, int64_t lda, int64_t mc, int64_t kc, int32_t* a_pack) {
  const int64_t kw = words(kc);
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));  // A' = A ^ 0x80 = A + 128
  for (int64_t i0 = 0; i0 < mc; i0 += MR) {
    const int64_t rows = std::min<int64_t>(MR, mc - i0);
    int32_t* out = a_pack + i0 * kw;
    if (!trans) {
      // Row i's words are its bytes read 4 at a time: transpose 16 rows × 16 words.
      for (int64_t q0 = 0; q0 < kw; q0 += 16) {
        const __mmask64 bytes = byte_lanes(kc - 4 * q0);
        __m512 v[16];
        for (int r = 0; r < 16; ++r) {
          const __m512i row = r < rows ? _mm512_maskz_loadu_epi8(bytes, A + (i0 + r) * lda + 4 * q0)
                                       : _mm512_setzero_si512();
          v[r] = _mm512_castsi512_ps(_mm512_xor_si512(row, flip));
        }
        transpose16x16(v);
        for (int64_t q = 0; q < std::min<int64_t>(16, kw - q0); ++q) {
          _mm512_mask_storeu_epi32(out + (q0 + q) * MR, lanes(MR), _mm512_castps_si512(v[q]));
        }
      }
    } else {
      // Aᵀ stored: k-step p's MR values are contiguous (A[p·lda + i0 ...]); interleave 4 k-steps.
      const __mmask16 row_bytes = lanes(rows);
      for (int64_t q = 0; q < kw; ++q) {
        __m128i r[4];
        for (int t = 0; t < 4; ++t) {
          const int64_t p = 4 * q + t;
          r[t] = p < kc ? _mm_maskz_loadu_epi8(row_bytes, A + p * lda + i0) : _mm_setzero_si128();
        }
        const __m512i w = _mm512_xor_si512(interleave4x16(r[0], r[1], r[2], r[3]), flip);
        _mm512_mask_storeu_epi32(out + q * MR, lanes(MR), w);
      }
    }
  }
}

// Packed B panel as micro-panels of ⌈kc/4⌉ + 1 rows × NR words, micro-panels [begin, end):
//   b_pack[j0·(kw+1) + q·NR + c] = bytes (B[4q, j], …, B[4q + 3, j]),  j = j0 + c, zero past
//   the last k-step or column;
//   b_pack[j0·(kw+1) + kw·NR + c] = 128 · Σ_p B[p, j]   (the correction row, see above).
// The column sums come from vpdpbusd itself: a vector of ones (unsigned) times a packed word
// (signed) adds the word's 4 bytes into each lane.
void pack_b(bool trans, const int8_t* B, int64_t ldb, int64_t kc, int64_t nc, int64_t panel_begin,
            int64_t panel_end, int32_t* b_pack) {
  const int64_t kw = words(kc);
  const __m512i ones = _mm512_set1_epi8(1);
  for (int64_t panel = panel_begin; panel < panel_end; ++panel) {
    const int64_t j0 = panel * NR;
    const int64_t cols = std::min<int64_t>(NR, nc - j0);
    int32_t* out = b_pack + j0 * (kw + 1);
    __m512i colsum[2] = {_mm512_setzero_si512(), _mm512_setzero_si512()};
    for (int h = 0; h < 2; ++h) {  // columns 16h .. 16h + 15 of the micro-panel
      const int64_t h_cols = cols - 16 * h;
      if (!trans) {
        // Word (q, c) is 4 bytes from 4 consecutive rows of B: interleave 4 rows of 16 bytes.
        for (int64_t q = 0; q < kw; ++q) {
          __m128i r[4];
          for (int t = 0; t < 4; ++t) {
            const int64_t p = 4 * q + t;
            r[t] = p < kc ? _mm_maskz_loadu_epi8(lanes(h_cols), B + p * ldb + j0 + 16 * h)
                          : _mm_setzero_si128();
          }
          const __m512i w = interleave4x16(r[0], r[1], r[2], r[3]);
          _mm512_store_si512(out + q * NR + 16 * h, w);
          colsum[h] = _mm512_dpbusd_epi32(colsum[h], ones, w);
        }
      } else {
        // Bᵀ stored: word (q, c) is 4 contiguous bytes of row j0 + c: transpose 16 × 16 words.
        for (int64_t q0 = 0; q0 < kw; q0 += 16) {
          const __mmask64 bytes = byte_lanes(kc - 4 * q0);
          __m512 v[16];
          for (int c = 0; c < 16; ++c) {
            v[c] = _mm512_castsi512_ps(
                c < h_cols ? _mm512_maskz_loadu_epi8(bytes, B + (j0 + 16 * h + c) * ldb + 4 * q0)
                           : _mm512_setzero_si512());
          }
          transpose16x16(v);
          for (int64_t q = 0; q < std::min<int64_t>(16, kw - q0); ++q) {
            const __m512i w = _mm512_castps_si512(v[q]);
            _mm512_store_si512(out + (q0 + q) * NR + 16 * h, w);
            colsum[h] = _mm512_dpbusd_epi32(colsum[h], ones, w);
          }
        }
      }
      _mm512_store_si512(out + kw * NR + 16 * h, _mm512_slli_epi32(colsum[h], 7));  // ×128
    }
  }
}

// C tile (mr × nr ≤ MR × NR) ← A_micro · B_micro (+ C tile when accumulate).
//   acc[r][c] = −128·colsum[c];  for q < kw: for r < MR: for c < NR:
//     acc[r][c] += Σ_t A'[r, 4q+t]·B[4q+t, c]            (one vpdpbusd per 16 c)
template <bool kFull>
__attribute__((noinline)) void micro_kernel(int64_t kw, const int32_t* __restrict a,
                                            const int32_t* __restrict b, bool accumulate,
                                            int32_t* __restrict C, int64_t ldc, int64_t mr,
                                            int64_t nr) {
  const __m512i corr0 = _mm512_load_si512(b + kw * NR), corr1 = _mm512_load_si512(b + kw * NR + 16);
  const __m512i start0 = _mm512_sub_epi32(_mm512_setzero_si512(), corr0);
  const __m512i start1 = _mm512_sub_epi32(_mm512_setzero_si512(), corr1);
  __m512i acc[MR][2];
  for (int r = 0; r < MR; ++r) {
    acc[r][0] = start0;
    acc[r][1] = start1;
  }
#pragma GCC unroll 2
  for (int64_t q = 0; q < kw; ++q) {
    const __m512i b0 = _mm512_load_si512(b + q * NR);
    const __m512i b1 = _mm512_load_si512(b + q * NR + 16);
#pragma GCC unroll 14
    for (int r = 0; r < MR; ++r) {
      const __m512i a_rq = _mm512_set1_epi32(a[q * MR + r]);  // A'[r, 4q..4q+3] in every lane
      acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], a_rq, b0);
      acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], a_rq, b1);
    }
  }
  const __mmask16 m0 = kFull ? __mmask16(0xFFFF) : lanes(nr);
  const __mmask16 m1 = kFull ? __mmask16(0xFFFF) : lanes(nr - 16);
  for (int r = 0; r < MR; ++r) {
    if (!kFull && r >= mr) break;
    int32_t* c = C + r * ldc;
    __m512i v0 = acc[r][0], v1 = acc[r][1];
    if (accumulate) {
      v0 = _mm512_add_epi32(v0, _mm512_maskz_loadu_epi32(m0, c));
      v1 = _mm512_add_epi32(v1, _mm512_maskz_loadu_epi32(m1, c + 16));
    }
    _mm512_mask_storeu_epi32(c, m0, v0);
    _mm512_mask_storeu_epi32(c + 16, m1, v1);
  }
}

// The policy for gemm_driver.hpp. alpha is 1 and beta ∈ {0, 1} (1: accumulate into C).
struct Avx512Vnni {
  using In = int8_t;
  using Packed = int32_t;
  using Out = int32_t;
  static constexpr int MR = cpu::MR, NR = cpu::NR, KC = cpu::KC, MC = cpu::MC, NC = cpu::NC;
  static constexpr int kPackAPad = 0;
  static constexpr bool kDirectA = false;  // A must be offset and regrouped: always packed
  // B micro-panels carry the correction row; A micro-panels use the first kw rows of this.
  static int64_t packed_depth(int64_t kc) { return words(kc) + 1; }
  static void pack_a(bool trans, const int8_t* A, int64_t lda, int64_t mc, int64_t kc,
                     int32_t* out) {
    cpu::pack_a(trans, A, lda, mc, kc, out);
  }
  static void pack_b(bool trans, const int8_t* B, int64_t ldb, int64_t kc, int64_t nc,
                     int64_t panel_begin, int64_t panel_end, int32_t* out) {
    cpu::pack_b(trans, B, ldb, kc, nc, panel_begin, panel_end, out);
  }
  static void macro_kernel(int64_t mc, int64_t nc, int64_t kc, float, const int32_t* a_pack,
                           const int32_t* b_pack, float beta, int32_t* C, int64_t ldc,
                           const int8_t*, int64_t) {
    const int64_t kw = words(kc);
    const bool accumulate = beta != 0.0f;
    for (int64_t jr = 0; jr < nc; jr += NR) {
      const int64_t nr = std::min<int64_t>(NR, nc - jr);
      const int32_t* b_micro = b_pack + jr * (kw + 1);
      for (int64_t ir = 0; ir < mc; ir += MR) {
        const int64_t mr = std::min<int64_t>(MR, mc - ir);
        int32_t* c_tile = C + ir * ldc + jr;
        if (mr == MR && nr == NR) {
          micro_kernel<true>(kw, a_pack + ir * kw, b_micro, accumulate, c_tile, ldc, MR, NR);
        } else {
          micro_kernel<false>(kw, a_pack + ir * kw, b_micro, accumulate, c_tile, ldc, mr, nr);
        }
      }
    }
  }
};

}  // namespace

void igemm_avx512(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const int8_t* A,
                  int64_t lda, const int8_t* B, int64_t ldb, bool accumulate, int32_t* C,
                  int64_t ldc, int num_threads) {
  gemm_driver<Avx512Vnni>(
      {trans_a, trans_b, m, n, k, 1.0f, A, lda, B, ldb, accumulate ? 1.0f : 0.0f, C, ldc},
      num_threads);
}

}  // namespace mlcore::cpu
