// SGEMM for AVX2 + FMA, the GotoBLAS / BLIS way. This is the only file of the library compiled
// with -mavx2 -mfma (STYLE.md 5); everything it exports is declared in gemm_avx2.hpp.
//
// THE LADDER (each level adds one idea; figures are 1024³ on one core of the 2-core Cascade Lake
// this was written on, whose measured FMA peak is ≈ 80 GFLOP/s per core; see bench/RESULTS.md):
//
//   step 1  vectorised loops        C[i, j:j+8] += A[i,p] · B[p, j:j+8] with ymm FMAs. Every
//                                   FMA loads and stores C: bound by loads/stores, not FMAs.
//   step 2  register blocking       a 6×16 tile of C stays in 12 ymm accumulators for the whole
//                                   k loop: 12 FMAs per 2 loads of B + 6 broadcasts of A. Fast
//                                   while A's rows and B fit in cache, falls off for large n
//                                   (B's column strip is k × 16 floats with stride n: TLB and
//                                   cache misses).
//   step 3  packing + cache blocks  (this file's real path) copy a KC×NC panel of B and an MC×KC
//                                   block of A into contiguous, micro-kernel-ordered buffers, so
//                                   the micro-kernel reads both with unit stride from L1 / L2,
//                                   and the copy also absorbs the transposes.
//   step 4  threads                 the MC blocks of C split between cores; the B panel is packed
//                                   once, by all threads together, and shared.
//
// The loop nest of step 3/4 (BLIS's five loops around the micro-kernel; they are written once, in
// gemm_driver.hpp, for every SIMD GEMM of the library; this file supplies the AVX2 packing and
// kernels and the block sizes, through the policy Avx2F32 at the end):
//
//   for jc in [0, n) step NC:                        B panel  op(B)[pc:pc+KC, jc:jc+NC] → L3
//     for pc in [0, k) step KC:
//       pack_b(op(B)[pc:pc+kc, jc:jc+nc])            (all threads, one shared buffer)
//       for ic in [0, m) step MC:      (each thread its own rows)
//         pack_a(op(A)[ic:ic+mc, pc:pc+kc])          A block → L2 (one buffer per thread)
//         macro_kernel:
//           for jr in [0, nc) step NR:               B micro-panel KC×NR → L1
//             for ir in [0, mc) step MR:             A micro-panel MR×KC streams from L2
//               micro_kernel: C[ic+ir : +MR, jc+jr : +NR] += A_micro · B_micro   (registers)

#include "gemm_avx2.hpp"

#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "gemm_driver.hpp"

namespace mlcore::cpu {
namespace {

using std::int64_t;

// ---------------------------------------------------------------------------------------------
// Block sizes and where they come from.
//
// Register tile MR × NR = 6 × 16. An FMA unit has a 4-cycle latency and Skylake/Cascade Lake
// (and Zen 3) issue 2 FMAs per cycle, so 2 × 4 = 8 independent FMAs must be in flight to keep
// both ports busy; with fewer accumulators the loop waits on its own dependency chains. The tile
// uses 6 × 16 / 8 = 12 independent ymm accumulators (≥ 8), 2 ymm for the row of B and 1 for the
// broadcast element of A: 15 of the 16 ymm registers, so nothing spills. Per step of k the
// micro-kernel issues 12 FMAs (6 cycles on 2 ports) against 2 loads + 6 broadcast-loads (4 cycles
// on 2 load ports): FMA-bound, as it must be.
//
// KC: the B micro-panel (KC × NR floats) is reused by every MR-row slice of the A block, so it
// must stay in L1d while the A micro-panels (MR × KC) stream past it. L1d is 32 KiB on both
// Skylake-SP/Cascade Lake and Zen 3; KC = 256 makes the B micro-panel 256·16·4 B = 16 KiB, half
// of L1d, leaving the other half for the streaming A micro-panel (6 KiB) and the C tile. A large
// KC also amortises the C tile's load/store (6×16 floats) over 256 k-steps of work.
//
// MC: the packed A block (MC × KC floats) is re-read from L2 once per B micro-panel, so it must
// stay in L2, next to the B micro-panels that pass through on their way to L1. L2 is 1 MiB per
// core on Skylake-SP/Cascade Lake but 512 KiB on Zen 3; sized for the smaller one, keeping the A
// block to at most ~half of L2 (256 KiB) gives MC ≤ 256. The measured optimum was flat between
// MC = 96 and 252 on this machine; MC = 144 (a multiple of MR, 144 KiB) leaves headroom on both.
//
// NC: the packed B panel (KC × NC floats) is shared by all cores and re-read once per A block,
// from L3. KC × 4080 × 4 B ≈ 4 MiB: a small share of Skylake-SP's ~36 MiB L3 and of Zen 3's
// 32 MiB per-CCD L3, so it survives while other threads' traffic passes. NC is a multiple of NR.
constexpr int MR = GemmAvx2Blocking::kMR;
constexpr int NR = GemmAvx2Blocking::kNR;
constexpr int KC = GemmAvx2Blocking::kKC;
constexpr int MC = GemmAvx2Blocking::kMC;
constexpr int NC = GemmAvx2Blocking::kNC;

constexpr int kYmmFloats = 8;
constexpr int kYmmRegisters = 16;
constexpr int kFmaPorts = 2, kFmaLatency = 4;
constexpr int kL1dBytes = 32 * 1024;
constexpr int kL2BytesSmallest = 512 * 1024;  // Zen 3 (Skylake-SP has 1 MiB)
constexpr int kL3BytesSmallest = 32 * 1024 * 1024;

static_assert(NR % kYmmFloats == 0, "NR must be whole ymm registers");
static_assert(MR * NR / kYmmFloats >= kFmaPorts * kFmaLatency,
              "need at least ports x latency independent accumulators");
static_assert(MR * NR / kYmmFloats + NR / kYmmFloats + 1 <= kYmmRegisters,
              "accumulators + B row + A broadcast must fit in 16 ymm registers");
static_assert(KC * NR * 4 <= kL1dBytes / 2, "B micro-panel must fit in half of L1d");
static_assert(MC * KC * 4 <= kL2BytesSmallest / 2, "A block must fit in half of the smaller L2");
static_assert(int64_t{KC} * NC * 4 <= kL3BytesSmallest / 4, "B panel must be a small share of L3");
static_assert(MC % MR == 0 && NC % NR == 0, "blocks must be whole micro-tiles");

// Extra floats at the end of a packed A block: pack_a stores 8 floats where 6 are meant (the next
// store overwrites the extra 2), so the last store runs 2 floats past the block.
constexpr int kPackAPad = kYmmFloats - MR;

// Lanes 0..count-1 set: masked loads never touch memory past a matrix's last element.
inline __m256i lane_mask(int64_t count) {
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count)), lanes);
}

// In-register transpose of an 8 × 8 block: r[i] holds row i on entry, column i on exit.
inline void transpose8x8(__m256 r[8]) {
  __m256 t[8], u[8];
  for (int i = 0; i < 4; ++i) {  // interleave pairs of rows
    t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 2; ++i) {  // combine 64-bit pairs
    u[4 * i + 0] = _mm256_shuffle_ps(t[4 * i + 0], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    u[4 * i + 1] = _mm256_shuffle_ps(t[4 * i + 0], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    u[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    u[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int i = 0; i < 4; ++i) {  // swap 128-bit halves
    r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
    r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
  }
}

// ---------------------------------------------------------------------------------------------
// LEVEL: packing. Copies a block of op(A) or op(B) into the order the micro-kernel reads it, so
// the micro-kernel sees one layout whatever the transposes, reads with unit stride (every cache
// line and TLB page it touches is fully used), and partial micro-panels are zero-padded (the
// micro-kernel never needs a bounds check). Gained: step 2 → step 3 in the ladder.

// Packed A block (mc × kc, from op(A)[ic:ic+mc, pc:pc+kc]) as ⌈mc/MR⌉ micro-panels of MR × kc:
//   a_pack[(i / MR)·MR·kc + p·MR + i % MR] = op(A)[i, p],  zero for rows i ≥ mc.
// `A` points at op(A)[ic, pc]: element (i, p) is A[i·lda + p] (!trans) or A[p·lda + i] (trans).
void pack_a(bool trans, const float* A, int64_t lda, int64_t mc, int64_t kc, float* a_pack) {
  for (int64_t i0 = 0; i0 < mc; i0 += MR) {
    const int64_t rows = std::min<int64_t>(MR, mc - i0);
    float* out = a_pack + i0 * kc;  // this micro-panel: kc × MR
    if (trans) {
      // Each k-step's MR values are contiguous in A: one masked 8-float load, one 8-float store
      // (the 2 extra floats are overwritten by the next step's store; kPackAPad covers the last).
      const float* src = A + i0;
      const __m256i mask = lane_mask(rows);
      for (int64_t p = 0; p < kc; ++p) {
        _mm256_storeu_ps(out + p * MR, _mm256_maskload_ps(src + p * lda, mask));
      }
    } else if (rows == MR) {
      // Row i of the micro-panel is contiguous in A; the packed order wants column p contiguous:
      // a transpose. 8 k-steps at a time: load 8 floats of each of the 6 rows (+2 zero rows),
      // transpose 8×8 in registers, store column p's 6 values (as 8, overlapped) per k-step.
      const float* rows_ptr[MR];
      for (int r = 0; r < MR; ++r) rows_ptr[r] = A + (i0 + r) * lda;
      int64_t p = 0;
      for (; p + kYmmFloats <= kc; p += kYmmFloats) {
        __m256 v[8];
        for (int r = 0; r < MR; ++r) v[r] = _mm256_loadu_ps(rows_ptr[r] + p);
        v[6] = v[7] = _mm256_setzero_ps();
        transpose8x8(v);
        for (int q = 0; q < kYmmFloats; ++q) _mm256_storeu_ps(out + (p + q) * MR, v[q]);
      }
      for (; p < kc; ++p) {
        for (int r = 0; r < MR; ++r) out[p * MR + r] = rows_ptr[r][p];
      }
    } else {  // the last, partial micro-panel: plain copy with zero rows
      for (int64_t p = 0; p < kc; ++p) {
        for (int r = 0; r < MR; ++r) out[p * MR + r] = r < rows ? A[(i0 + r) * lda + p] : 0.0f;
      }
    }
  }
}

// Packed B panel (kc × nc, from op(B)[pc:pc+kc, jc:jc+nc]) as ⌈nc/NR⌉ micro-panels of kc × NR:
//   b_pack[(j / NR)·NR·kc + p·NR + j % NR] = op(B)[p, j],  zero for columns j ≥ nc.
// Only micro-panels [panel_begin, panel_end) are packed (threads share the work).
// `B` points at op(B)[pc, jc]: element (p, j) is B[p·ldb + j] (!trans) or B[j·ldb + p] (trans).
void pack_b(bool trans, const float* B, int64_t ldb, int64_t kc, int64_t nc, int64_t panel_begin,
            int64_t panel_end, float* b_pack) {
  for (int64_t panel = panel_begin; panel < panel_end; ++panel) {
    const int64_t j0 = panel * NR;
    const int64_t cols = std::min<int64_t>(NR, nc - j0);
    float* out = b_pack + j0 * kc;  // this micro-panel: kc × NR, 64-byte aligned rows
    if (!trans) {
      // Row p of the micro-panel is 16 contiguous floats of B's row p: two ymm copies.
      const float* src = B + j0;
      if (cols == NR) {
        for (int64_t p = 0; p < kc; ++p) {
          _mm256_store_ps(out + p * NR, _mm256_loadu_ps(src + p * ldb));
          _mm256_store_ps(out + p * NR + 8, _mm256_loadu_ps(src + p * ldb + 8));
        }
      } else {
        const __m256i mask0 = lane_mask(cols), mask1 = lane_mask(cols - 8);
        for (int64_t p = 0; p < kc; ++p) {
          _mm256_store_ps(out + p * NR, _mm256_maskload_ps(src + p * ldb, mask0));
          _mm256_store_ps(out + p * NR + 8, _mm256_maskload_ps(src + p * ldb + 8, mask1));
        }
      }
    } else {
      // B is stored n × k, so the micro-panel's row p is column p of 16 rows of B: transpose
      // 8 × 8 blocks (8 k-steps × 8 columns) in registers.
      int64_t p = 0;
      if (cols == NR) {
        for (; p + kYmmFloats <= kc; p += kYmmFloats) {
          for (int half = 0; half < 2; ++half) {
            __m256 v[8];
            for (int c = 0; c < 8; ++c) v[c] = _mm256_loadu_ps(B + (j0 + half * 8 + c) * ldb + p);
            transpose8x8(v);
            for (int q = 0; q < 8; ++q) _mm256_store_ps(out + (p + q) * NR + half * 8, v[q]);
          }
        }
      }
      for (; p < kc; ++p) {  // k tail, or the last partial micro-panel
        for (int c = 0; c < NR; ++c) out[p * NR + c] = c < cols ? B[(j0 + c) * ldb + p] : 0.0f;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// LEVEL: micro-kernel. C tile (MR × NR) ← alpha · A_micro (MR × kc) · B_micro (kc × NR) + beta · C
// tile, with the whole tile in registers for the k loop. The plain loop it stands for:
//   for p in [0, kc): for r in [0, MR): for c in [0, NR): acc[r][c] += a[p·MR + r] · b[p·NR + c]
// Per k-step: 2 aligned loads of B (one 64-byte line), 6 broadcasts of A, 12 FMAs into 12
// independent accumulators. Gained: step 1 → step 2 in the ladder (C leaves the load/store
// path; FMAs become the bottleneck).
//
// `b` is a packed micro-panel. `a` is a packed micro-panel (kPackedA: A_micro[r, p] at
// a[p·MR + r]) or, on the unpacked-A path (see gemm_team_body), MR full rows of op(A) in place
// (A_micro[r, p] at a[r·lda + p]). kFull: the tile is entirely inside C (write it directly);
// otherwise only rows < mr and columns < nr are written (through a small stack tile).
// beta == 0 stores without reading C.
template <bool kFull, bool kPackedA>
__attribute__((noinline)) void micro_kernel(int64_t kc, const float* __restrict a,
                                            const float* __restrict b, float alpha, float beta,
                                            float* __restrict C, int64_t ldc, int64_t mr,
                                            int64_t nr, int64_t lda) {
  // acc[r][h]: C tile row r, columns 8h..8h+7. With the loops fully unrolled these are 12 ymm
  // registers (checked: the compiled loop has no stack traffic).
  __m256 acc[MR][2];
  for (int r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();

  if (kFull) {  // start pulling the C tile into L1 while the k loop runs
    for (int r = 0; r < MR; ++r) {
      _mm_prefetch(reinterpret_cast<const char*>(C + r * ldc), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(C + r * ldc + NR - 1), _MM_HINT_T0);
    }
  }

#pragma GCC unroll 2
  for (int64_t p = 0; p < kc; ++p) {
    const __m256 b0 = _mm256_load_ps(b + p * NR);      // B_micro[p, 0:8]
    const __m256 b1 = _mm256_load_ps(b + p * NR + 8);  // B_micro[p, 8:16]
#pragma GCC unroll 6
    for (int r = 0; r < MR; ++r) {
      // A_micro[r, p] in all 8 lanes
      const __m256 a_rp = _mm256_broadcast_ss(kPackedA ? a + p * MR + r : a + r * lda + p);
      acc[r][0] = _mm256_fmadd_ps(a_rp, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(a_rp, b1, acc[r][1]);
    }
  }

  const __m256 valpha = _mm256_set1_ps(alpha), vbeta = _mm256_set1_ps(beta);
  // The loops over the tile are unrolled here too: an acc[r][h] indexed by a loop counter would
  // make GCC keep the whole array in memory, storing all 12 accumulators on every k-step.
  if (kFull) {
#pragma GCC unroll 6
    for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 2
      for (int h = 0; h < 2; ++h) {
        float* c = C + r * ldc + h * 8;
        __m256 v = _mm256_mul_ps(valpha, acc[r][h]);
        if (beta != 0.0f) v = _mm256_fmadd_ps(vbeta, _mm256_loadu_ps(c), v);
        _mm256_storeu_ps(c, v);
      }
    }
  } else {
    alignas(32) float tile[MR * NR];
#pragma GCC unroll 6
    for (int r = 0; r < MR; ++r) {
      _mm256_store_ps(tile + r * NR, acc[r][0]);
      _mm256_store_ps(tile + r * NR + 8, acc[r][1]);
    }
    for (int64_t r = 0; r < mr; ++r) {
      float* c = C + r * ldc;
      for (int64_t j = 0; j < nr; ++j) {
        const float v = alpha * tile[r * NR + j];
        c[j] = beta == 0.0f ? v : v + beta * c[j];
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// LEVEL: macro-kernel. C block (mc × nc) ← alpha · A block (packed, mc × kc) · B panel columns
// (packed, kc × nc) + beta · C block, as a grid of micro-tiles. The jr loop is outside the ir
// loop so one B micro-panel (16 KiB) stays in L1 while all the A block's micro-panels stream
// from L2 past it. Gained: together with packing, step 2 → step 3.
// a_direct != nullptr: the unpacked-A path; whole MR-row micro-panels are read from a_direct
// (row stride lda) and only a partial last one comes from a_pack.
void macro_kernel(int64_t mc, int64_t nc, int64_t kc, float alpha, const float* a_pack,
                  const float* b_pack, float beta, float* C, int64_t ldc, const float* a_direct,
                  int64_t lda) {
  for (int64_t jr = 0; jr < nc; jr += NR) {
    const int64_t nr = std::min<int64_t>(NR, nc - jr);
    const float* b_micro = b_pack + jr * kc;
    for (int64_t ir = 0; ir < mc; ir += MR) {
      const int64_t mr = std::min<int64_t>(MR, mc - ir);
      const float* a_micro = a_pack + ir * kc;
      float* c_tile = C + ir * ldc + jr;
      if (a_direct != nullptr && mr == MR) {
        const float* a_rows = a_direct + ir * lda;
        if (nr == NR) {
          micro_kernel<true, false>(kc, a_rows, b_micro, alpha, beta, c_tile, ldc, MR, NR, lda);
        } else {
          micro_kernel<false, false>(kc, a_rows, b_micro, alpha, beta, c_tile, ldc, MR, nr, lda);
        }
      } else if (mr == MR && nr == NR) {
        micro_kernel<true, true>(kc, a_micro, b_micro, alpha, beta, c_tile, ldc, MR, NR, 0);
      } else {
        micro_kernel<false, true>(kc, a_micro, b_micro, alpha, beta, c_tile, ldc, mr, nr, 0);
      }
    }
  }
}

// The policy that plugs this file's packing and kernels into the shared loops (gemm_driver.hpp:
// the five loops, work items, threads and the split along k are written there, once).
struct Avx2F32 {
  using In = float;
  using Packed = float;
  using Out = float;
  static constexpr int MR = cpu::MR, NR = cpu::NR, KC = cpu::KC, MC = cpu::MC, NC = cpu::NC;
  static constexpr int kPackAPad = cpu::kPackAPad;
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

void sgemm_avx2(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                int64_t ldc, int num_threads) {
  gemm_driver<Avx2F32>({trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc},
                       num_threads);
}

// ---------------------------------------------------------------------------------------------
// The ladder's lower steps (benchmarked, not on the library path).
namespace gemm_avx2_ladder {

void step1_vectorized_loops(int64_t m, int64_t n, int64_t k, const float* A, const float* B,
                            float* C) {
  // for i: C[i, :] = 0; for p: C[i, :] += A[i, p] · B[p, :]   (the j loop 8 floats at a time)
  for (int64_t i = 0; i < m; ++i) {
    float* c = C + i * n;
    std::fill(c, c + n, 0.0f);
    for (int64_t p = 0; p < k; ++p) {
      const __m256 a_ip = _mm256_set1_ps(A[i * k + p]);
      const float* b = B + p * n;
      int64_t j = 0;
      for (; j + 8 <= n; j += 8) {
        _mm256_storeu_ps(c + j,
                         _mm256_fmadd_ps(a_ip, _mm256_loadu_ps(b + j), _mm256_loadu_ps(c + j)));
      }
      for (; j < n; ++j) c[j] += A[i * k + p] * b[j];
    }
  }
}

void step2_register_blocked(int64_t m, int64_t n, int64_t k, const float* A, const float* B,
                            float* C) {
  const int64_t m_full = m / MR * MR, n_full = n / NR * NR;
  for (int64_t i0 = 0; i0 < m_full; i0 += MR) {
    for (int64_t j0 = 0; j0 < n_full; j0 += NR) {
      // The micro-kernel's loop, but reading A (row stride k) and B (row stride n) in place.
      __m256 acc[MR][2];
      for (int r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
      for (int64_t p = 0; p < k; ++p) {
        const __m256 b0 = _mm256_loadu_ps(B + p * n + j0);
        const __m256 b1 = _mm256_loadu_ps(B + p * n + j0 + 8);
#pragma GCC unroll 6
        for (int r = 0; r < MR; ++r) {
          const __m256 a_rp = _mm256_broadcast_ss(A + (i0 + r) * k + p);
          acc[r][0] = _mm256_fmadd_ps(a_rp, b0, acc[r][0]);
          acc[r][1] = _mm256_fmadd_ps(a_rp, b1, acc[r][1]);
        }
      }
      for (int r = 0; r < MR; ++r) {
        _mm256_storeu_ps(C + (i0 + r) * n + j0, acc[r][0]);
        _mm256_storeu_ps(C + (i0 + r) * n + j0 + 8, acc[r][1]);
      }
    }
  }
  // The edges (rows ≥ m_full or columns ≥ n_full): plain loops.
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = (i < m_full ? n_full : 0); j < n; ++j) {
      float s = 0.0f;
      for (int64_t p = 0; p < k; ++p) s += A[i * k + p] * B[p * n + j];
      C[i * n + j] = s;
    }
  }
}

void step3_packed_blocked(int64_t m, int64_t n, int64_t k, const float* A, const float* B,
                          float* C) {
  sgemm_avx2(false, false, m, n, k, 1.0f, A, k, B, n, 0.0f, C, n, 1);
}

}  // namespace gemm_avx2_ladder
}  // namespace mlcore::cpu
