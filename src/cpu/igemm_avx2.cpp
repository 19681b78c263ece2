// int8 GEMM for AVX2: C (i32) ← op(A)·op(B) (+ C), A and B int8, exact integer arithmetic: the
// arithmetic of int8 tensor cores and of the systolic array, here on a CPU. Compiled with
// -mavx2 -mfma; declared in gemm_avx2.hpp. Read gemm_avx2.cpp first: this file uses the same
// five loops, packing and register tile, and only the micro-kernel's arithmetic differs.
//
// THE INSTRUCTION. AVX2 has no int8 multiply-accumulate into int32 (that is AVX-512 VNNI's
// vpdpbusd). It has vpmaddwd (_mm256_madd_epi16): 16 signed int16 products, added in adjacent
// pairs into 8 int32 lanes:  out[l] = a[2l]·b[2l] + a[2l+1]·b[2l+1].
// So int8 values are sign-extended to int16 at packing time, and two consecutive k-steps travel
// together: lane l of a packed B row holds (B[p, j], B[p+1, j]) as two int16, and the broadcast A
// word holds (A[i, p], A[i, p+1]). One vpmaddwd then does 2 k-steps of 8 columns: 16 MACs.
// Overflow: |int8·int8| ≤ 2¹⁴, a pair ≤ 2¹⁵, so the int32 accumulators are exact for k < 2¹⁷.
//
// THE TILE: 4 × 16 int32 accumulators in 8 ymm. Unlike an FMA, vpmaddwd cannot add into its
// destination, so each step needs a temporary: 6 × 16 (the f32 tile) would need 12 accumulators
// + 2 B + 1 A + 1 temporary = all 16 registers, and GCC then spills accumulators to the stack
// (seen in the assembly: half of them lived on the stack, the int8 GEMM ran slower than f32).
// 4 × 16 uses 8 + 2 + 1 + 1 = 12. Per 2 k-steps: 2 loads of B, 4 broadcasts of A, 8 vpmaddwd +
// 8 vpaddd = 128 MACs. The accumulator chains only see the 1-cycle vpaddd (vpmaddwd's 5-cycle
// latency is off the chain), so 8 accumulators suffice. vpmaddwd issues on 2 ports (Skylake
// p0/p1; Zen 3 also 2) and vpaddd on 3, so ~16/3 ≈ 5.3 cycles per 128 MACs: ~24 MACs per cycle,
// 1.5× the f32 kernel's 16 (2 ports × 8 lanes), on a quarter of the operand bytes.
#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

#include "cpu_parallel.hpp"
#include "gemm_avx2.hpp"
#include "mlcore/parallel.hpp"

namespace mlcore::cpu {
namespace {

using std::int32_t;
using std::int64_t;
using std::int8_t;

constexpr int MR = 4;    // micro-tile rows
constexpr int NR = 16;   // micro-tile columns: 2 ymm of 8 int32
constexpr int KC = 512;  // k-steps per packed panel (256 pairs): B micro-panel 256·16·4 B = 16 KiB,
                         // half of L1d, as in the f32 kernel
constexpr int MC = 144;  // A block 144 rows × 256 pairs × 4 B = 144 KiB ≤ ½ of a 512 KiB L2
constexpr int NC = 4080;  // B panel 256 pairs × 4080 × 4 B ≈ 4 MiB, a small share of L3
constexpr int KC2 = KC / 2;
static_assert(KC % 2 == 0 && MC % MR == 0 && NC % NR == 0, "blocks must be whole tiles");
static_assert(KC2 * NR * 4 <= 16 * 1024, "B micro-panel must fit in half of L1d");

// One packed word: two int16 (low = the first k-step) in an int32.
inline int32_t pair(int8_t first, int8_t second) {
  return static_cast<int32_t>(
      static_cast<std::uint16_t>(static_cast<int16_t>(first)) |
      (static_cast<std::uint32_t>(static_cast<std::uint16_t>(second)) << 16));
}

// Grow-only, 64-byte aligned per-thread buffers (cpu_parallel.hpp, as in gemm_avx2.cpp).
thread_local AlignedBuffer<int32_t> tls_a_block;
thread_local AlignedBuffer<int32_t> tls_b_panel;

// Packed A block (mc rows × kc k-steps of op(A), kc2 = ⌈kc/2⌉ pairs) as micro-panels of MR rows:
//   a_pack[(i / MR)·MR·kc2 + q·MR + i % MR] = pair(op(A)[i, 2q], op(A)[i, 2q + 1]),
// zero past the last row or k-step. `A` points at op(A)[ic, pc] (element (i, p) at A[i·lda + p],
// or A[p·lda + i] when trans).
void pack_a(bool trans, const int8_t* A, int64_t lda, int64_t mc, int64_t kc, int32_t* a_pack) {
  const int64_t kc2 = (kc + 1) / 2;
  auto at = [&](int64_t i, int64_t p) -> int8_t {
    if (i >= mc || p >= kc) return 0;
    return trans ? A[p * lda + i] : A[i * lda + p];
  };
  for (int64_t i0 = 0; i0 < mc; i0 += MR) {
    int32_t* out = a_pack + i0 * kc2;
    for (int64_t q = 0; q < kc2; ++q) {
      for (int r = 0; r < MR; ++r) out[q * MR + r] = pair(at(i0 + r, 2 * q), at(i0 + r, 2 * q + 1));
    }
  }
}

// Packed B panel (kc × nc of op(B)) as micro-panels of NR columns, micro-panels
// [panel_begin, panel_end) only:
//   b_pack[(j / NR)·NR·kc2 + q·NR + j % NR] = pair(op(B)[2q, j], op(B)[2q + 1, j]).
void pack_b(bool trans, const int8_t* B, int64_t ldb, int64_t kc, int64_t nc, int64_t panel_begin,
            int64_t panel_end, int32_t* b_pack) {
  const int64_t kc2 = (kc + 1) / 2;
  auto at = [&](int64_t p, int64_t j) -> int8_t {
    if (j >= nc || p >= kc) return 0;
    return trans ? B[j * ldb + p] : B[p * ldb + j];
  };
  for (int64_t panel = panel_begin; panel < panel_end; ++panel) {
    const int64_t j0 = panel * NR;
    int32_t* out = b_pack + j0 * kc2;
    for (int64_t q = 0; q < kc2; ++q) {
      for (int c = 0; c < NR; ++c) out[q * NR + c] = pair(at(2 * q, j0 + c), at(2 * q + 1, j0 + c));
    }
  }
}

// C tile (mr × nr ≤ MR × NR) ← A_micro · B_micro (+ C tile when accumulate).
//   for q < kc2: for r < MR: for c < NR: acc[r][c] += a.lo·b.lo + a.hi·b.hi   (one vpmaddwd per 8
//   c)
void micro_kernel(int64_t kc2, const int32_t* __restrict a, const int32_t* __restrict b,
                  bool accumulate, int32_t* __restrict C, int64_t ldc, int64_t mr, int64_t nr) {
  __m256i acc[MR][2];
  for (int r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
  for (int64_t q = 0; q < kc2; ++q) {
    const __m256i b0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(b + q * NR));
    const __m256i b1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(b + q * NR + 8));
#pragma GCC unroll 4
    for (int r = 0; r < MR; ++r) {
      const __m256i a_rq = _mm256_set1_epi32(a[q * MR + r]);  // (A[r, 2q], A[r, 2q+1]) × 8
      acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(a_rq, b0));
      acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(a_rq, b1));
    }
  }
  if (mr == MR && nr == NR) {
    for (int r = 0; r < MR; ++r) {
      for (int h = 0; h < 2; ++h) {
        __m256i* c = reinterpret_cast<__m256i*>(C + r * ldc + 8 * h);
        __m256i v = acc[r][h];
        if (accumulate) v = _mm256_add_epi32(v, _mm256_loadu_si256(c));
        _mm256_storeu_si256(c, v);
      }
    }
    return;
  }
  alignas(32) int32_t tile[MR * NR];
  for (int r = 0; r < MR; ++r) {
    _mm256_store_si256(reinterpret_cast<__m256i*>(tile + r * NR), acc[r][0]);
    _mm256_store_si256(reinterpret_cast<__m256i*>(tile + r * NR + 8), acc[r][1]);
  }
  for (int64_t r = 0; r < mr; ++r) {
    for (int64_t j = 0; j < nr; ++j) {
      C[r * ldc + j] = accumulate ? C[r * ldc + j] + tile[r * NR + j] : tile[r * NR + j];
    }
  }
}

struct Args {
  bool trans_a, trans_b;
  int64_t m, n, k;
  const int8_t* A;
  int64_t lda;
  const int8_t* B;
  int64_t ldb;
  bool accumulate;
  int32_t* C;
  int64_t ldc;
  int32_t* b_panel;
};

// The five loops of gemm_avx2.cpp; threads split C's rows (the B panel is packed by all and
// shared, with a barrier on each side).
void team_body(const Args& g, parallel::Team& team) {
  int64_t row_begin, row_end;
  team.my_range((g.m + MR - 1) / MR, &row_begin, &row_end);
  row_begin *= MR;
  row_end = std::min(row_end * MR, g.m);
  int32_t* a_block = tls_a_block.get(std::size_t{MC} * KC2);
  for (int64_t jc = 0; jc < g.n; jc += NC) {
    const int64_t nc = std::min<int64_t>(NC, g.n - jc);
    const int64_t panels = (nc + NR - 1) / NR;
    for (int64_t pc = 0; pc < g.k; pc += KC) {
      const int64_t kc = std::min<int64_t>(KC, g.k - pc), kc2 = (kc + 1) / 2;
      const bool accumulate = pc > 0 || g.accumulate;
      int64_t pb, pe;
      team.my_range(panels, &pb, &pe);
      pack_b(g.trans_b, g.trans_b ? g.B + jc * g.ldb + pc : g.B + pc * g.ldb + jc, g.ldb, kc, nc,
             pb, pe, g.b_panel);
      team.barrier();
      for (int64_t ic = row_begin; ic < row_end; ic += MC) {
        const int64_t mc = std::min<int64_t>(MC, row_end - ic);
        pack_a(g.trans_a, g.trans_a ? g.A + pc * g.lda + ic : g.A + ic * g.lda + pc, g.lda, mc, kc,
               a_block);
        for (int64_t jr = 0; jr < nc; jr += NR) {
          for (int64_t ir = 0; ir < mc; ir += MR) {
            micro_kernel(kc2, a_block + ir * kc2, g.b_panel + jr * kc2, accumulate,
                         g.C + (ic + ir) * g.ldc + jc + jr, g.ldc, std::min<int64_t>(MR, mc - ir),
                         std::min<int64_t>(NR, nc - jr));
          }
        }
      }
      team.barrier();
    }
  }
}

}  // namespace

void igemm_avx2(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const int8_t* A,
                int64_t lda, const int8_t* B, int64_t ldb, bool accumulate, int32_t* C, int64_t ldc,
                int num_threads) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!accumulate) {
      for (int64_t i = 0; i < m; ++i) std::fill(C + i * ldc, C + i * ldc + n, 0);
    }
    return;
  }
  const int64_t panel_cols = (std::min<int64_t>(n, NC) + NR - 1) / NR * NR;
  int32_t* b_panel = tls_b_panel.get(std::size_t(KC2) * panel_cols);
  const Args g{trans_a, trans_b, m, n, k, A, lda, B, ldb, accumulate, C, ldc, b_panel};
  // As in sgemm_avx2: ≥ 2^20 MACs per thread, and at least one MR-row panel each.
  const int64_t threads =
      std::min<int64_t>({num_threads, std::max<int64_t>(1, (m * n * k) >> 20), (m + MR - 1) / MR});
  // From inside someone else's team, run_team makes a team of one (see sgemm_avx2).
  parallel::run_team(static_cast<int>(threads), [&](parallel::Team& team) { team_body(g, team); });
}

}  // namespace mlcore::cpu
