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
// The loop nest of step 3/4 (BLIS's five loops around the micro-kernel):
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
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include "mlcore/parallel.hpp"

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

// ---------------------------------------------------------------------------------------------
// Packing buffers: 64-byte aligned (a cache line, so every micro-panel row of B is two aligned
// ymm loads), grow-only and kept per thread, so no call after the first allocates (a fresh
// 4 MiB malloc is an mmap whose page faults would cost ~1 ms per call).
class Workspace {
 public:
  ~Workspace() { std::free(data_); }
  float* get(std::size_t floats) {
    if (floats > capacity_) {
      std::free(data_);
      // Round up to a whole cache line, as aligned_alloc requires a multiple of the alignment.
      std::size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
      data_ = static_cast<float*>(std::aligned_alloc(64, bytes));
      if (data_ == nullptr) {
        capacity_ = 0;
        throw std::bad_alloc();
      }
      capacity_ = bytes / sizeof(float);
    }
    return data_;
  }

 private:
  float* data_ = nullptr;
  std::size_t capacity_ = 0;
};
thread_local Workspace tls_a_block;  // MC × KC, one per thread
thread_local Workspace tls_b_panel;  // KC × NC, owned by the calling thread, shared by the team

// The unpacked-A path's limit on a thread's C columns: 4 micro-panels (see gemm_team_body).
constexpr int64_t kDirectACols = 4 * NR;

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
inline void micro_kernel(int64_t kc, const float* __restrict a, const float* __restrict b,
                         float alpha, float beta, float* __restrict C, int64_t ldc, int64_t mr,
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

#pragma GCC unroll 4
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
  if (kFull) {
    for (int r = 0; r < MR; ++r) {
      for (int h = 0; h < 2; ++h) {
        float* c = C + r * ldc + h * 8;
        __m256 v = _mm256_mul_ps(valpha, acc[r][h]);
        if (beta != 0.0f) v = _mm256_fmadd_ps(vbeta, _mm256_loadu_ps(c), v);
        _mm256_storeu_ps(c, v);
      }
    }
  } else {
    alignas(32) float tile[MR * NR];
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

using parallel::split_range;

struct GemmArgs {
  bool trans_a, trans_b;
  int64_t m, n, k;
  float alpha;
  const float* A;
  int64_t lda;
  const float* B;
  int64_t ldb;
  float beta;
  float* C;
  int64_t ldc;
  float* b_panel;  // shared packed-B buffer, KC × min(NC, n) rounded up to NR
};

// How the C block of one (jc, pc) step is cut into work items for the threads: row blocks of at
// most MC rows, and, only when there are too few of those to keep every thread busy (a short,
// wide C), column chunks of whole NR-panels. An item is one A block (packed by the thread that
// takes it) times one column chunk of the shared B panel; no two items write the same C element.
struct ItemGrid {
  int64_t rows_per_item;  // a multiple of MR, ≤ MC
  int64_t row_items;
  int64_t col_chunks;  // ≥ 1; chunk c covers NR-panels [split_range(panels, col_chunks, c)]
  int64_t items() const { return row_items * col_chunks; }
};

ItemGrid make_item_grid(int64_t m, int64_t panels_n, int threads) {
  ItemGrid grid;
  // q items per thread, all of about the same height: q = ⌈m / (threads·MC)⌉ keeps items ≤ MC
  // rows, and q ≥ 2 (with several threads) leaves dynamic scheduling something to even out.
  // Equal heights matter: at m = 1024 on 2 threads, MC-high items (7 × 144 + 16) would leave one
  // thread 576 rows and the other 448 (89% efficiency); 8 items of ~128 rows give 528 vs 496.
  const int64_t t = threads;
  const int64_t q = std::max<int64_t>(threads > 1 ? 2 : 1, (m + t * MC - 1) / (t * MC));
  const int64_t rows = (m + t * q - 1) / (t * q);
  grid.rows_per_item = std::min<int64_t>(MC, (rows + MR - 1) / MR * MR);
  grid.row_items = (m + grid.rows_per_item - 1) / grid.rows_per_item;
  // Too few row items for the threads (a short, wide C): split the columns too.
  grid.col_chunks = 1;
  if (grid.row_items < 2 * t) {
    grid.col_chunks =
        std::max<int64_t>(1, std::min(panels_n, (2 * t + grid.row_items - 1) / grid.row_items));
  }
  if (threads == 1) grid.col_chunks = 1;
  return grid;
}

// LEVEL: threads. The body every thread of the team runs: the five loops, with the B panel packed
// cooperatively (each thread a share of its micro-panels) and a barrier before it is read. The
// items of C (make_item_grid) are then handed out one at a time (schedule(dynamic): a thread
// that finishes early, or was not preempted by another process, takes the next one, so a busy
// neighbour on a shared machine slows the team by one item, not by half the matrix). Each thread
// packs the A block of its item into its own L2-sized buffer (its own core's L2). The implicit
// barrier at the end of the dynamic loop keeps the B panel alive until every item is done.
// In a team of one the barriers are no-ops and the loop is an ordinary loop.
void gemm_team_body(const GemmArgs& g, parallel::Team& team) {
  const int threads = team.size();
  float* a_block = tls_a_block.get(std::size_t{MC} * KC + kPackAPad);

  for (int64_t jc = 0; jc < g.n; jc += NC) {
    const int64_t nc = std::min<int64_t>(NC, g.n - jc);
    const int64_t panels_n = (nc + NR - 1) / NR;
    const ItemGrid grid = make_item_grid(g.m, panels_n, threads);

    for (int64_t pc = 0; pc < g.k; pc += KC) {
      const int64_t kc = std::min<int64_t>(KC, g.k - pc);
      // After the first KC slice, later slices accumulate into the C computed so far.
      const float beta = pc == 0 ? g.beta : 1.0f;

      const float* b_src = g.trans_b ? g.B + jc * g.ldb + pc : g.B + pc * g.ldb + jc;
      int64_t pb, pe;
      team.my_range(panels_n, &pb, &pe);
      pack_b(g.trans_b, b_src, g.ldb, kc, nc, pb, pe, g.b_panel);
      team.barrier();  // the whole panel is packed before anyone reads it

      team.for_dynamic(grid.items(), [&](int64_t item) {
        const int64_t ic = (item / grid.col_chunks) * grid.rows_per_item;
        const int64_t mc = std::min(grid.rows_per_item, g.m - ic);
        int64_t col_begin, col_end;  // this item's columns of the panel, whole NR-panels
        split_range(panels_n, static_cast<int>(grid.col_chunks),
                    static_cast<int>(item % grid.col_chunks), &col_begin, &col_end);
        col_begin *= NR;
        col_end = std::min(col_end * NR, nc);
        if (col_end <= col_begin) return;

        // Unpacked A (BLIS calls such paths "sup", for skinny shapes): when the item's C block is
        // at most kDirectACols wide, each element of the A block is used by at most 4 B
        // micro-panels, and copying it into the packed buffer costs more than the unit-stride
        // reads save; the micro-kernel then reads MR rows of A in place. Only for !trans_a (rows
        // of A are contiguous) and k ≤ KC (one pass over k, each row read in one sweep). Gained
        // on the tall-skinny 100000×64·64×64: ~5-15% (see docs/AVX2_GEMM.md).
        const bool direct_a = !g.trans_a && g.k <= KC && col_end - col_begin <= kDirectACols;
        const float* a_src = g.trans_a ? g.A + pc * g.lda + ic : g.A + ic * g.lda + pc;
        if (direct_a) {
          const int64_t full = mc / MR * MR;  // a partial last micro-panel is still packed
          if (full < mc) {
            pack_a(false, a_src + full * g.lda, g.lda, mc - full, kc, a_block + full * kc);
          }
        } else {
          pack_a(g.trans_a, a_src, g.lda, mc, kc, a_block);
        }
        macro_kernel(mc, col_end - col_begin, kc, g.alpha, a_block, g.b_panel + col_begin * kc,
                     beta, g.C + ic * g.ldc + jc + col_begin, g.ldc, direct_a ? a_src : nullptr,
                     g.lda);
      });  // ends with a barrier: everyone is done with the panel before it is overwritten
    }
  }
}

// LEVEL: threads, split along k. When C is small and k long — a Gram matrix XᵀX of a tall X,
// 100 × 100 from 200 000 rows — the loops above leave each KC slice too little work to share:
// one barrier and one B pack per 100·100·256 MACs, and only a few C items to hand out. Then
// each thread takes its own share of k instead and computes a private partial C with the
// single-thread loops (no barrier at all), and the partials are added at the end: m·n adds per
// extra thread against m·n·k MACs. Worth it when every thread gets several KC slices and C
// fits in L2 (each partial is re-read once, from cache).
constexpr int64_t kSplitKMaxC = 256 * 256;        // m·n floats: 256 KiB
constexpr int64_t kSplitKMinSlices = 8;           // KC slices per thread at least

bool use_split_k(int64_t m, int64_t n, int64_t k, int team) {
  return team > 1 && m * n <= kSplitKMaxC && k >= kSplitKMinSlices * KC * team;
}

void gemm_split_k(const GemmArgs& g, int team) {
  std::vector<float> partial(std::size_t(team - 1) * g.m * g.n);
  parallel::for_ranges(g.k, team, [&](int tid, int64_t kb, int64_t ke) {
    // Thread 0 writes C itself (with β); the others their partial, row stride n.
    GemmArgs mine = g;
    mine.k = ke - kb;
    mine.A = g.trans_a ? g.A + kb * g.lda : g.A + kb;  // op(A) = A[:, kb:ke]
    mine.B = g.trans_b ? g.B + kb : g.B + kb * g.ldb;  // op(B) = B[kb:ke, :]
    if (tid > 0) {
      mine.beta = 0.0f;
      mine.C = partial.data() + std::size_t(tid - 1) * g.m * g.n;
      mine.ldc = g.n;
    }
    mine.b_panel = tls_b_panel.get(std::size_t(std::min<int64_t>(mine.k, KC)) *
                                   ((std::min<int64_t>(g.n, NC) + NR - 1) / NR * NR));
    if (mine.k > 0) {
      parallel::Team solo = parallel::Team::solo();  // this thread's share runs alone
      gemm_team_body(mine, solo);
    }
  });
  for (int t = 1; t < team; ++t) {
    const float* p = partial.data() + std::size_t(t - 1) * g.m * g.n;
    for (int64_t i = 0; i < g.m; ++i) {
      float* c = g.C + i * g.ldc;
      for (int64_t j = 0; j < g.n; ++j) c[j] += p[i * g.n + j];
    }
  }
}

// C ← beta · C (for k == 0 or alpha == 0, where there is no product to add).
void scale_c(int64_t m, int64_t n, float beta, float* C, int64_t ldc) {
  for (int64_t i = 0; i < m; ++i) {
    float* c = C + i * ldc;
    if (beta == 0.0f) {
      std::fill(c, c + n, 0.0f);
    } else {
      for (int64_t j = 0; j < n; ++j) c[j] *= beta;
    }
  }
}

}  // namespace

void sgemm_avx2(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                int64_t ldc, int num_threads) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0 || alpha == 0.0f) {
    scale_c(m, n, beta, C, ldc);
    return;
  }
  const int64_t panel_cols = (std::min<int64_t>(n, NC) + NR - 1) / NR * NR;
  float* b_panel = tls_b_panel.get(std::size_t(std::min<int64_t>(k, KC)) * panel_cols);
  const GemmArgs g{trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, b_panel};

  // A thread is worth starting only with enough work: ≥ 2^20 MACs each (~25 µs at the FMA peak,
  // far above the few µs a team's start and join cost), and no more threads than MR×NR tiles.
  const int64_t macs = m * n * k;
  const int64_t tiles = ((m + MR - 1) / MR) * ((n + NR - 1) / NR);
  const int64_t threads = std::min<int64_t>({num_threads, std::max<int64_t>(1, macs >> 20), tiles});
  // Called from inside someone else's team: run on this thread alone (run_team makes a team of
  // one there, whose barriers are no-ops).
  const int team = parallel::in_team() ? 1 : static_cast<int>(threads);
  if (use_split_k(m, n, k, team)) {
    gemm_split_k(g, team);
    return;
  }
  parallel::run_team(team, [&](parallel::Team& t) { gemm_team_body(g, t); });
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
