// SGEMM for AVX-512, the GotoBLAS / BLIS way, the same structure as gemm_avx2.cpp (read that
// first): packing + cache blocking + a register-blocked FMA micro-kernel + threads. Only the
// numbers change, and one idea is new: masks. The five loops and the threads are the shared
// ones of gemm_driver.hpp; this file supplies the AVX-512 block sizes, packing and kernels.
// Compiled with -mavx512f -mavx512bw -mavx512dq -mavx512vl -mavx512vnni -mfma
// -ffp-contract=off (src/cpu/CMakeLists.txt); declared in gemm_avx512.hpp.
//
// WHAT AVX-512 CHANGES FOR A GEMM
//   * a zmm register holds 16 floats (a ymm 8): one FMA instruction does 16 multiply-adds;
//   * there are 32 vector registers (AVX2: 16), so the C tile kept in registers can be twice
//     as large, and the loads per FMA fall;
//   * eight mask registers k0–k7: a load or store under a mask touches only the lanes whose bit
//     is set, never faults on the others, so a matrix edge (the last 5 columns of 37) is the same
//     instruction as the body with a mask — no scalar remainder loop, no stack tile;
//   * FMAs can take one operand straight from memory broadcast to all lanes ({1to16}), so the
//     broadcast element of A needs no register of its own.
#include "gemm_avx512.hpp"

#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "cpu_features.hpp"
#include "gemm_driver.hpp"
#include "simd_avx512.hpp"

namespace mlcore::cpu {
namespace {

using std::int64_t;

// ---------------------------------------------------------------------------------------------
// Block sizes and where they come from.
//
// Register tile MR × NR = 14 × 32. Per step p of k the micro-kernel loads one row of the packed B
// micro-panel (NR / 16 zmm) and, for each of the MR rows, broadcasts A[r, p] and issues NR / 16
// FMAs into that row's accumulators. Constraints:
//   (1) latency: an FMA has a 4-cycle latency and a core issues up to 2 zmm FMAs per cycle (Intel
//       server cores with two 512-bit FMA units; AMD Zen 4 issues one zmm FMA per cycle on its two
//       256-bit units), so ≥ 2 × 4 = 8 independent accumulators must be in flight;
//   (2) registers: MR·NR/16 accumulators + NR/16 rows of B must fit in the 32 zmm registers (the
//       A broadcast is a memory operand of the FMA, {1to16}, and needs none);
//   (3) loads: per k-step NR/16 loads of B + MR broadcasts of A feed MR·NR/16 FMAs; 2 load ports
//       against 2 FMA ports, so the loads must not outnumber the FMAs;
//   (4) reuse: each loaded float of A is used NR times and of B MR times — the tile's
//       arithmetic intensity MR·NR / (MR + NR) FMAs per float loaded, to be made as large as (2)
//       allows.
// Candidates with NR = 32 (2 zmm) or 48 (3) or 64 (4): 14 × 32 uses 28 + 2 = 30 registers, 16 loads
// per 28 FMAs, intensity 448/46 = 9.7; 8 × 48: 24 + 3, 11 loads per 24 FMAs, 384/56 = 6.9;
// 6 × 64: 24 + 4, 10 per 24, 384/70 = 5.5. 14 × 32 wins (4): A and B stream from cache at half
// the rate of the other two. (The AVX2 tile 6 × 16 had intensity 96/22 = 4.4.)
//
// KC and MC depend on the core's caches, which differ between the CPUs this runs on, so there are
// two sets, both compiled, and sgemm_avx512 picks one at run time from the L1d size the C
// library reports (host_cache_sizes()):
//
// KC: the B micro-panel (KC × NR floats) is reused by every MR-row slice of the A block, so it
// must stay in L1d while the A micro-panels (MR × KC floats) stream past it from L2. Give it at
// most two thirds of L1d (the rest holds the streaming A micro-panel and the C tile's lines) and
// round down to a power of two: a 32 KiB L1d (Skylake-SP, Cascade Lake, Zen 4) gives KC = 128,
// a 16 KiB B micro-panel; a 48 KiB L1d (Ice Lake, Sapphire Rapids and later Xeons) gives
// KC = 256, 32 KiB. A longer KC halves how often the micro-kernel loads and stores its C tile
// (once per KC·28 FMAs): on a Xeon with a 48 KiB L1d, KC = 256 ran 1024³ and 2048³ 4–6 % faster
// than KC = 128, on one core and on two (bench_gemm's blocks/ rows; bench/RESULTS.md "avx512").
//
// MC: the packed A block (MC × KC) is re-read from L2 once per B micro-panel. MC is chosen so
// the block is 224 KiB whatever KC is — a quarter of a 1 MiB L2, the smallest of these cores
// (Sapphire Rapids has 2 MiB; a 448 KiB block measured no faster there): MC = 448 for KC = 128,
// MC = 224 for KC = 256, both whole MR-row panels.
//
// NC: the packed B panel (KC × NC) is shared by all cores and re-read from L3 once per A block:
// at most 256 × 8192 × 4 B = 8 MiB, a quarter of a 32 MiB L3.
constexpr int MR = GemmAvx512Blocking::kMR;
constexpr int NR = GemmAvx512Blocking::kNR;
constexpr int NC = GemmAvx512Blocking::kNC;

constexpr int kZmmFloats = 16;
constexpr int kZmmRegisters = 32;
constexpr int kFmaPorts = 2, kFmaLatency = 4;
constexpr int kABlockBytes = 224 * 1024;
constexpr int kL3Bytes = 32 * 1024 * 1024;
constexpr int kAccumulators = MR * NR / kZmmFloats;

constexpr int floor_power_of_two(int x) {
  int p = 1;
  while (p * 2 <= x) p *= 2;
  return p;
}

// The cache blocks for a core whose L1d holds `l1d_bytes`.
template <int l1d_bytes>
struct CacheBlocks {
  static constexpr int KC = floor_power_of_two(l1d_bytes * 2 / 3 / (NR * 4));
  static constexpr int MC = kABlockBytes / (KC * 4);
  static_assert(KC * NR * 4 <= l1d_bytes * 2 / 3, "B micro-panel: at most 2/3 of L1d");
  static_assert(MC % MR == 0 && KC % kZmmFloats == 0, "blocks must be whole micro-tiles");
  static_assert(int64_t{KC} * NC * 4 <= kL3Bytes / 4, "B panel must be a small share of L3");
};
static_assert(CacheBlocks<32 * 1024>::KC == 128 && CacheBlocks<32 * 1024>::MC == 448);
static_assert(CacheBlocks<48 * 1024>::KC == 256 && CacheBlocks<48 * 1024>::MC == 224);

static_assert(NR % kZmmFloats == 0, "NR must be whole zmm registers");
static_assert(kAccumulators >= kFmaPorts * kFmaLatency,
              "need at least ports x latency independent accumulators");
static_assert(kAccumulators + NR / kZmmFloats <= kZmmRegisters,
              "accumulators + the B row must fit in 32 zmm registers");
static_assert(NR / kZmmFloats + MR <= 2 * kAccumulators, "loads must not outnumber FMAs");
static_assert(MR <= kZmmFloats, "a packed A column (MR floats) is one masked zmm store");
static_assert(NC % NR == 0, "NC must be whole micro-panels");

// ---------------------------------------------------------------------------------------------
// LEVEL: packing (as gemm_avx2.cpp: one layout whatever the transposes, unit-stride reads, zero
// padding so the micro-kernel has no bounds checks). Edges are masked loads: a lane past the
// matrix reads nothing and comes back zero.

// Packed A block (mc × kc of op(A)) as ⌈mc/MR⌉ micro-panels of MR × kc:
//   a_pack[(i / MR)·MR·kc + p·MR + i % MR] = op(A)[i, p],  zero for rows i ≥ mc.
// `A` points at op(A)[ic, pc]: element (i, p) is A[i·lda + p] (!trans) or A[p·lda + i] (trans).
void pack_a(bool trans, const float* A, int64_t lda, int64_t mc, int64_t kc, float* a_pack) {
  for (int64_t i0 = 0; i0 < mc; i0 += MR) {
    const int64_t rows = std::min<int64_t>(MR, mc - i0);
    float* out = a_pack + i0 * kc;  // this micro-panel: kc × MR
    const __mmask16 row_mask = lanes(rows), panel_mask = lanes(MR);
    if (trans) {
      // Each k-step's MR values are contiguous in A: one masked load, one masked store.
      const float* src = A + i0;
      for (int64_t p = 0; p < kc; ++p) {
        _mm512_mask_storeu_ps(out + p * MR, panel_mask,
                              _mm512_maskz_loadu_ps(row_mask, src + p * lda));
      }
    } else {
      // Row r of the micro-panel is contiguous in A; the packed order wants column p contiguous:
      // transpose 16 × 16 blocks (MR real rows + zero rows; a masked load for the k edge).
      for (int64_t p = 0; p < kc; p += kZmmFloats) {
        const int64_t steps = std::min<int64_t>(kZmmFloats, kc - p);
        const __mmask16 k_mask = lanes(steps);
        __m512 v[16];
        for (int r = 0; r < 16; ++r) {
          v[r] = r < rows ? _mm512_maskz_loadu_ps(k_mask, A + (i0 + r) * lda + p)
                          : _mm512_setzero_ps();
        }
        transpose16x16(v);
        for (int64_t q = 0; q < steps; ++q)
          _mm512_mask_storeu_ps(out + (p + q) * MR, panel_mask, v[q]);
      }
    }
  }
}

// Packed B panel (kc × nc of op(B)) as ⌈nc/NR⌉ micro-panels of kc × NR, micro-panels
// [panel_begin, panel_end) only (threads share the work):
//   b_pack[(j / NR)·NR·kc + p·NR + j % NR] = op(B)[p, j],  zero for columns j ≥ nc.
// `B` points at op(B)[pc, jc]: element (p, j) is B[p·ldb + j] (!trans) or B[j·ldb + p] (trans).
void pack_b(bool trans, const float* B, int64_t ldb, int64_t kc, int64_t nc, int64_t panel_begin,
            int64_t panel_end, float* b_pack) {
  for (int64_t panel = panel_begin; panel < panel_end; ++panel) {
    const int64_t j0 = panel * NR;
    const int64_t cols = std::min<int64_t>(NR, nc - j0);
    float* out = b_pack + j0 * kc;  // this micro-panel: kc × NR, rows of 128 B (2 cache lines)
    if (!trans) {
      // Row p of the micro-panel is 32 contiguous floats of B's row p: two (masked) zmm copies.
      const __mmask16 m0 = lanes(cols), m1 = lanes(cols - 16);
      for (int64_t p = 0; p < kc; ++p) {
        _mm512_store_ps(out + p * NR, _mm512_maskz_loadu_ps(m0, B + p * ldb + j0));
        _mm512_store_ps(out + p * NR + 16, _mm512_maskz_loadu_ps(m1, B + p * ldb + j0 + 16));
      }
    } else {
      // B is stored n × k, so row p of the micro-panel is column p of 32 rows of B: transpose
      // 16 × 16 blocks (16 columns × 16 k-steps), zero rows past the last column.
      for (int64_t p = 0; p < kc; p += kZmmFloats) {
        const int64_t steps = std::min<int64_t>(kZmmFloats, kc - p);
        const __mmask16 k_mask = lanes(steps);
        for (int h = 0; h < 2; ++h) {
          __m512 v[16];
          for (int c = 0; c < 16; ++c) {
            v[c] = h * 16 + c < cols
                       ? _mm512_maskz_loadu_ps(k_mask, B + (j0 + h * 16 + c) * ldb + p)
                       : _mm512_setzero_ps();
          }
          transpose16x16(v);
          for (int64_t q = 0; q < steps; ++q) _mm512_store_ps(out + (p + q) * NR + h * 16, v[q]);
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// LEVEL: micro-kernel. C tile (MR × NR) ← alpha · A_micro (MR × kc) · B_micro (kc × NR) + beta · C
// tile, the whole tile in 28 zmm registers for the k loop. The plain loop it stands for:
//   for p in [0, kc): for r in [0, MR): for c in [0, NR): acc[r][c] += a[p·MR + r] · b[p·NR + c]
// Per k-step: 2 aligned loads of B (two 64-byte lines), 14 broadcasts of A folded into the FMAs,
// 28 FMAs.
// `a` is a packed micro-panel (kPackedA: A_micro[r, p] at a[p·MR + r]) or MR rows of op(A) read
// in place (A_micro[r, p] at a[r·lda + p], the unpacked-A path of gemm_driver.hpp).
// kFull: the tile is entirely inside C. Otherwise rows ≥ mr are skipped and the columns ≥ nr
// masked off: the same loads and stores under a mask, where gemm_avx2.cpp needs a stack tile.
// beta == 0 stores without reading C.
template <bool kFull, bool kPackedA>
__attribute__((noinline)) void micro_kernel(int64_t kc, const float* __restrict a,
                                            const float* __restrict b, float alpha, float beta,
                                            float* __restrict C, int64_t ldc, int64_t mr,
                                            int64_t nr, int64_t lda) {
  __m512 acc[MR][2];  // acc[r][h]: C tile row r, columns 16h..16h+15 (28 zmm registers)
  for (int r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();

  if (kFull) {  // start pulling the C tile into L1 while the k loop runs
    for (int r = 0; r < MR; ++r) {
      _mm_prefetch(reinterpret_cast<const char*>(C + r * ldc), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(C + r * ldc + NR - 1), _MM_HINT_T0);
    }
  }

#pragma GCC unroll 2
  for (int64_t p = 0; p < kc; ++p) {
    const __m512 b0 = _mm512_load_ps(b + p * NR);       // B_micro[p, 0:16]
    const __m512 b1 = _mm512_load_ps(b + p * NR + 16);  // B_micro[p, 16:32]
#pragma GCC unroll 14
    for (int r = 0; r < MR; ++r) {
      const __m512 a_rp = _mm512_set1_ps(kPackedA ? a[p * MR + r] : a[r * lda + p]);
      acc[r][0] = _mm512_fmadd_ps(a_rp, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(a_rp, b1, acc[r][1]);
    }
  }

  const __m512 valpha = _mm512_set1_ps(alpha), vbeta = _mm512_set1_ps(beta);
  const __mmask16 m0 = kFull ? __mmask16(0xFFFF) : lanes(nr);
  const __mmask16 m1 = kFull ? __mmask16(0xFFFF) : lanes(nr - 16);
  for (int r = 0; r < MR; ++r) {
    if (!kFull && r >= mr) break;
    float* c = C + r * ldc;
    __m512 v0 = _mm512_mul_ps(valpha, acc[r][0]), v1 = _mm512_mul_ps(valpha, acc[r][1]);
    if (kFull) {
      if (beta != 0.0f) {
        v0 = _mm512_fmadd_ps(vbeta, _mm512_loadu_ps(c), v0);
        v1 = _mm512_fmadd_ps(vbeta, _mm512_loadu_ps(c + 16), v1);
      }
      _mm512_storeu_ps(c, v0);
      _mm512_storeu_ps(c + 16, v1);
    } else {
      if (beta != 0.0f) {
        v0 = _mm512_fmadd_ps(vbeta, _mm512_maskz_loadu_ps(m0, c), v0);
        v1 = _mm512_fmadd_ps(vbeta, _mm512_maskz_loadu_ps(m1, c + 16), v1);
      }
      _mm512_mask_storeu_ps(c, m0, v0);
      _mm512_mask_storeu_ps(c + 16, m1, v1);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// LEVEL: macro-kernel. C block (mc × nc) ← alpha · A block · B panel columns + beta · C block as
// a grid of micro-tiles, jr outside ir: one B micro-panel (16 KiB) stays in L1 while the A
// block's micro-panels stream from L2 past it. a_direct: see gemm_driver.hpp (unpacked A).
void macro_kernel(int64_t mc, int64_t nc, int64_t kc, float alpha, const float* a_pack,
                  const float* b_pack, float beta, float* C, int64_t ldc, const float* a_direct,
                  int64_t lda) {
  for (int64_t jr = 0; jr < nc; jr += NR) {
    const int64_t nr = std::min<int64_t>(NR, nc - jr);
    const float* b_micro = b_pack + jr * kc;
    for (int64_t ir = 0; ir < mc; ir += MR) {
      const int64_t mr = std::min<int64_t>(MR, mc - ir);
      float* c_tile = C + ir * ldc + jr;
      const bool full = mr == MR && nr == NR;
      if (a_direct != nullptr && mr == MR) {
        const float* a_rows = a_direct + ir * lda;
        if (full) {
          micro_kernel<true, false>(kc, a_rows, b_micro, alpha, beta, c_tile, ldc, MR, NR, lda);
        } else {
          micro_kernel<false, false>(kc, a_rows, b_micro, alpha, beta, c_tile, ldc, MR, nr, lda);
        }
      } else if (full) {
        micro_kernel<true, true>(kc, a_pack + ir * kc, b_micro, alpha, beta, c_tile, ldc, MR, NR,
                                 0);
      } else {
        micro_kernel<false, true>(kc, a_pack + ir * kc, b_micro, alpha, beta, c_tile, ldc, mr, nr,
                                  0);
      }
    }
  }
}

// The policy that plugs this file into the shared loops of gemm_driver.hpp, for the cache blocks
// of an L1d of `l1d_bytes`.
template <int l1d_bytes>
struct Avx512F32 {
  using In = float;
  using Packed = float;
  using Out = float;
  static constexpr int MR = cpu::MR, NR = cpu::NR, NC = cpu::NC;
  static constexpr int KC = CacheBlocks<l1d_bytes>::KC, MC = CacheBlocks<l1d_bytes>::MC;
  static constexpr int kPackAPad = 0;  // masked stores never write past a micro-panel
  static constexpr bool kDirectA = true;
  static constexpr int64_t packed_depth(int64_t kc) { return kc; }
  static void pack_a(bool trans, const float* A, int64_t lda, int64_t mc, int64_t kc, float* out) {
    cpu::pack_a(trans, A, lda, mc, kc, out);
  }
  static void pack_b(bool trans, const float* B, int64_t ldb, int64_t kc, int64_t nc,
                     int64_t panel_begin, int64_t panel_end, float* out) {
    cpu::pack_b(trans, B, ldb, kc, nc, panel_begin, panel_end, out);
  }
  static void macro_kernel(int64_t mc, int64_t nc, int64_t kc, float alpha, const float* a_pack,
                           const float* b_pack, float beta, float* C, int64_t ldc,
                           const float* a_direct, int64_t lda) {
    cpu::macro_kernel(mc, nc, kc, alpha, a_pack, b_pack, beta, C, ldc, a_direct, lda);
  }
};

}  // namespace

void sgemm_avx512_blocked_for(L1dClass l1d, bool trans_a, bool trans_b, int64_t m, int64_t n,
                              int64_t k, float alpha, const float* A, int64_t lda, const float* B,
                              int64_t ldb, float beta, float* C, int64_t ldc, int num_threads) {
  if (l1d == L1dClass::k48KiB) {
    gemm_driver<Avx512F32<48 * 1024>>(
        {trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc}, num_threads);
  } else {
    gemm_driver<Avx512F32<32 * 1024>>(
        {trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc}, num_threads);
  }
}

namespace {
L1dClass host_l1d_class() {
  static const L1dClass l1d =
      host_cache_sizes().l1d >= 48 * 1024 ? L1dClass::k48KiB : L1dClass::k32KiB;
  return l1d;
}
}  // namespace

void sgemm_avx512(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                  const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                  int64_t ldc, int num_threads) {
  sgemm_avx512_blocked_for(host_l1d_class(), trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta,
                           C, ldc, num_threads);
}

// ---- the pieces a fused kernel reuses (gemm_avx512.hpp, GemmAvx512Tiles) ----------------------

int64_t GemmAvx512Tiles::kc() {
  return host_l1d_class() == L1dClass::k48KiB ? CacheBlocks<48 * 1024>::KC
                                              : CacheBlocks<32 * 1024>::KC;
}

bool GemmAvx512Tiles::sums_in_slice_order(int64_t k) {
  return k < kSplitKMinSlices * kc() * 2;  // gemm_driver's split-k rule, for its smallest team
}

void GemmAvx512Tiles::pack_rows(const float* A, int64_t lda, int64_t rows, int64_t kc, float* out) {
  cpu::pack_a(false, A, lda, rows, kc, out);
}

void GemmAvx512Tiles::pack_columns(const float* B, int64_t ldb, int64_t kc, int64_t n,
                                   int64_t panel_begin, int64_t panel_end, float* out) {
  cpu::pack_b(true, B, ldb, kc, n, panel_begin, panel_end, out);
}

void GemmAvx512Tiles::tile(int64_t kc, const float* a_panel, const float* b_panel, float alpha,
                           float beta, float* C) {
  micro_kernel<true, true>(kc, a_panel, b_panel, alpha, beta, C, kNR, kMR, kNR, 0);
}

}  // namespace mlcore::cpu
