// The loops around a GEMM micro-kernel, shared by the SIMD CPU GEMMs (sgemm_avx2, sgemm_avx512,
// igemm_avx512): BLIS's five loops, the packed-B panel shared by the threads, the work items
// handed out to them, and the split along k for small C. What differs between instruction sets —
// the block sizes, the packed layouts, the micro-kernel — comes in as the policy `K`; the
// structure is written once, here. Read gemm_avx2.cpp first: it derives the block sizes and
// explains each level with the AVX2 numbers.
//
//   for jc in [0, n) step NC:                        B panel  op(B)[pc:pc+KC, jc:jc+NC] → L3
//     for pc in [0, k) step KC:
//       K::pack_b(op(B)[pc:pc+kc, jc:jc+nc])         (all threads, one shared buffer)
//       for each item (ic, column chunk) of C:       (handed out to the threads one at a time)
//         K::pack_a(op(A)[ic:ic+mc, pc:pc+kc])       A block → L2 (one buffer per thread)
//         K::macro_kernel: the micro-tiles of the item, jr outside ir
//
// The policy K provides:
//   using In;       element of A and B (float, int8)
//   using Packed;   element of the packed buffers (float; int32 holding 2 or 4 int8 k-steps)
//   using Out;      element of C (float, int32)
//   MR, NR, KC, MC, NC           the block sizes (KC a multiple of the k-steps one Packed holds)
//   kPackAPad                    extra Packed elements pack_a may write past an A block
//   kDirectA                     whether macro_kernel can read whole MR-row panels of a
//                                non-transposed A in place (the "sup" path, f32 only)
//   packed_depth(kc)             rows of Packed in a micro-panel holding kc k-steps
//   pack_a(trans, A, lda, mc, kc, a_pack)                 whole micro-panels, zero-padded
//   pack_b(trans, B, ldb, kc, nc, panel_begin, panel_end, b_pack)
//   macro_kernel(mc, nc, kc, alpha, a_pack, b_pack, beta, C, ldc, a_direct, lda)
// alpha and beta are floats; an integer GEMM has alpha = 1 and beta ∈ {0, 1} (1: accumulate).
//
// The unnamed namespace gives every including file its own copy, compiled with its own ISA
// flags (see cpu_parallel.hpp for why that matters).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "cpu_parallel.hpp"
#include "mlcore/parallel.hpp"

namespace mlcore::cpu {
namespace {

template <class K>
struct GemmArgs {
  using In = typename K::In;
  using Out = typename K::Out;
  bool trans_a, trans_b;
  std::int64_t m, n, k;
  float alpha;
  const In* A;
  std::int64_t lda;
  const In* B;
  std::int64_t ldb;
  float beta;
  Out* C;
  std::int64_t ldc;
  // C = op(A)·op(A)ᵀ (a Gram matrix XᵀX or X·Xᵀ) with β = 0 is symmetric: only the micro-tiles
  // that reach the diagonal or below it are computed, and the upper triangle is copied from the
  // lower one at the end (gemm_driver sets this; see symmetric_product).
  bool lower_only = false;
};

// Whether C = α·op(A)·op(B) is symmetric and may be computed as its lower triangle: B is A, one of
// the two is transposed (so C is XᵀX or X·Xᵀ), and β = 0 (a β·C term need not be symmetric). A
// Gram matrix then costs about half its MACs (m(m+1)/2 of m² outputs, plus the tiles that
// straddle the diagonal): what BLAS calls a SYRK, found here without a separate entry point.
template <class K>
bool symmetric_product(const GemmArgs<K>& g) {
  return g.A == g.B && g.lda == g.ldb && g.trans_a != g.trans_b && g.m == g.n && g.beta == 0.0f;
}

// C[i, j] = C[j, i] for j > i: the upper triangle from the lower one.
template <class Out>
void mirror_lower_triangle(std::int64_t m, Out* C, std::int64_t ldc) {
  for (std::int64_t i = 0; i < m; ++i) {
    for (std::int64_t j = i + 1; j < m; ++j) C[i * ldc + j] = C[j * ldc + i];
  }
}

// The per-thread packing buffers of policy K: the A block (MC × KC) of each thread, and the B
// panel (KC × NC), owned by the thread that calls the GEMM and shared by its team.
template <class K>
AlignedBuffer<typename K::Packed>& a_block_buffer() {
  static thread_local AlignedBuffer<typename K::Packed> buffer;
  return buffer;
}
template <class K>
AlignedBuffer<typename K::Packed>& b_panel_buffer() {
  static thread_local AlignedBuffer<typename K::Packed> buffer;
  return buffer;
}

// How the C block of one (jc, pc) step is cut into work items for the threads: row blocks of at
// most MC rows, and, only when there are too few of those to keep every thread busy (a short,
// wide C), column chunks of whole NR-panels. An item is one A block (packed by the thread that
// takes it) times one column chunk of the shared B panel; no two items write the same C element.
struct ItemGrid {
  std::int64_t rows_per_item;  // a multiple of MR, ≤ MC
  std::int64_t row_items;
  std::int64_t col_chunks;  // ≥ 1; chunk c covers NR-panels [split_range(panels, col_chunks, c)]
  std::int64_t items() const { return row_items * col_chunks; }
};

inline ItemGrid make_item_grid(std::int64_t m, std::int64_t panels_n, int threads, int MR, int MC) {
  ItemGrid grid;
  // q items per thread, all of about the same height: q = ⌈m / (threads·MC)⌉ keeps items ≤ MC
  // rows, and q ≥ 2 (with several threads) leaves dynamic scheduling something to even out.
  // Equal heights matter: at m = 1024 on 2 threads, MC-high items (7 × 144 + 16) would leave one
  // thread 576 rows and the other 448 (89% efficiency); 8 items of ~128 rows give 528 vs 496.
  const std::int64_t t = threads;
  const std::int64_t q = std::max<std::int64_t>(threads > 1 ? 2 : 1, (m + t * MC - 1) / (t * MC));
  const std::int64_t rows = (m + t * q - 1) / (t * q);
  grid.rows_per_item = std::min<std::int64_t>(MC, (rows + MR - 1) / MR * MR);
  grid.row_items = (m + grid.rows_per_item - 1) / grid.rows_per_item;
  // Too few row items for the threads (a short, wide C): split the columns too.
  grid.col_chunks = 1;
  if (grid.row_items < 2 * t) {
    grid.col_chunks = std::max<std::int64_t>(
        1, std::min(panels_n, (2 * t + grid.row_items - 1) / grid.row_items));
  }
  if (threads == 1) grid.col_chunks = 1;
  return grid;
}

// LEVEL: threads. The body every thread of the team runs: the five loops, with the B panel packed
// cooperatively (each thread a share of its micro-panels) and a barrier before it is read. The
// items of C (make_item_grid) are then handed out one at a time (a dynamic loop: a thread that
// finishes early, or was not preempted by another process, takes the next one, so a busy
// neighbour on a shared machine slows the team by one item, not by half the matrix). Each thread
// packs the A block of its item into its own L2-sized buffer (its own core's L2). The barrier
// that ends the dynamic loop keeps the B panel alive until every item is done. In a team of one
// the barriers are no-ops and the loop is an ordinary loop.
template <class K>
void gemm_team_body(const GemmArgs<K>& g, typename K::Packed* b_panel, parallel::Team& team) {
  using Packed = typename K::Packed;
  const int threads = team.size();
  constexpr int MR = K::MR, NR = K::NR, KC = K::KC, MC = K::MC, NC = K::NC;
  Packed* a_block = a_block_buffer<K>().get(std::size_t{MC} * K::packed_depth(KC) + K::kPackAPad);

  for (std::int64_t jc = 0; jc < g.n; jc += NC) {
    const std::int64_t nc = std::min<std::int64_t>(NC, g.n - jc);
    const std::int64_t panels_n = (nc + NR - 1) / NR;
    const ItemGrid grid = make_item_grid(g.m, panels_n, threads, MR, MC);

    for (std::int64_t pc = 0; pc < g.k; pc += KC) {
      const std::int64_t kc = std::min<std::int64_t>(KC, g.k - pc);
      const std::int64_t depth = K::packed_depth(kc);
      // After the first KC slice, later slices accumulate into the C computed so far.
      const float beta = pc == 0 ? g.beta : 1.0f;

      const auto* b_src = g.trans_b ? g.B + jc * g.ldb + pc : g.B + pc * g.ldb + jc;
      std::int64_t pb, pe;
      team.my_range(panels_n, &pb, &pe);
      K::pack_b(g.trans_b, b_src, g.ldb, kc, nc, pb, pe, b_panel);
      team.barrier();  // the whole panel is packed before anyone reads it

      team.for_dynamic(grid.items(), [&](std::int64_t item) {
        const std::int64_t ic = (item / grid.col_chunks) * grid.rows_per_item;
        const std::int64_t mc = std::min(grid.rows_per_item, g.m - ic);
        std::int64_t col_begin, col_end;  // this item's columns of the panel, whole NR-panels
        split_range(panels_n, static_cast<int>(grid.col_chunks),
                    static_cast<int>(item % grid.col_chunks), &col_begin, &col_end);
        col_begin *= NR;
        col_end = std::min(col_end * NR, nc);
        if (col_end <= col_begin) return;

        // Unpacked A (BLIS calls such paths "sup", for skinny shapes): when the item's C block is
        // at most 4 micro-panels wide, each element of the A block is used by at most 4 B
        // micro-panels, and copying it into the packed buffer costs more than the unit-stride
        // reads save; the micro-kernel then reads MR rows of A in place. Only for !trans_a (rows
        // of A are contiguous) and k ≤ KC (one pass over k, each row read in one sweep). Gained
        // on the tall-skinny 100000×64·64×64: ~5-15% (see docs/AVX2_GEMM.md).
        const bool direct_a =
            K::kDirectA && !g.trans_a && g.k <= KC && col_end - col_begin <= 4 * NR;
        const auto* a_src = g.trans_a ? g.A + pc * g.lda + ic : g.A + ic * g.lda + pc;
        if (direct_a) {
          const std::int64_t full = mc / MR * MR;  // a partial last micro-panel is still packed
          if (full < mc) {
            K::pack_a(false, a_src + full * g.lda, g.lda, mc - full, kc, a_block + full * depth);
          }
        } else {
          K::pack_a(g.trans_a, a_src, g.lda, mc, kc, a_block);
        }
        if (!g.lower_only) {
          K::macro_kernel(mc, col_end - col_begin, kc, g.alpha, a_block,
                          b_panel + col_begin * depth, beta, g.C + ic * g.ldc + jc + col_begin,
                          g.ldc, direct_a ? a_src : nullptr, g.lda);
          return;
        }
        // Lower triangle only: per NR-panel of columns from c0 on, the micro-tiles from the one
        // holding row c0 down (those above it lie wholly above the diagonal). The packed A
        // block is whole MR-row micro-panels of `depth` Packed each, so row ir0 starts at
        // ir0·depth.
        for (std::int64_t col = col_begin; col < col_end; col += NR) {
          const std::int64_t c0 = jc + col;  // the panel's first column of C
          const std::int64_t ir0 = std::max<std::int64_t>(0, (c0 - ic) / MR * MR);
          if (ir0 >= mc) break;  // this panel and the ones right of it: all above
          K::macro_kernel(mc - ir0, std::min<std::int64_t>(NR, col_end - col), kc, g.alpha,
                          a_block + ir0 * depth, b_panel + col * depth, beta,
                          g.C + (ic + ir0) * g.ldc + c0, g.ldc,
                          direct_a ? a_src + ir0 * g.lda : nullptr, g.lda);
        }
      });  // ends with a barrier: everyone is done with the panel before it is overwritten
    }
  }
}

template <class K>
typename K::Packed* b_panel_for(std::int64_t k, std::int64_t n) {
  const std::int64_t panel_cols = (std::min<std::int64_t>(n, K::NC) + K::NR - 1) / K::NR * K::NR;
  return b_panel_buffer<K>().get(std::size_t(K::packed_depth(std::min<std::int64_t>(k, K::KC))) *
                                 panel_cols);
}

// LEVEL: threads, split along k. When C is small and k long — a Gram matrix XᵀX of a tall X,
// 100 × 100 from 200 000 rows — the loops above leave each KC slice too little work to share:
// one barrier and one B pack per 100·100·256 MACs, and only a few C items to hand out. Then
// each thread takes its own share of k instead and computes a private partial C with the
// single-thread loops (no barrier at all), and the partials are added at the end: m·n adds per
// extra thread against m·n·k MACs. Worth it when every thread gets several KC slices and C
// fits in L2 (each partial is re-read once, from cache).
constexpr std::int64_t kSplitKMaxC = 256 * 256;  // m·n elements: 256 KiB
constexpr std::int64_t kSplitKMinSlices = 8;     // KC slices per thread at least

template <class K>
void gemm_split_k(const GemmArgs<K>& g, int team) {
  using Out = typename K::Out;
  std::vector<Out> partial(std::size_t(team - 1) * g.m * g.n);
  // Whole KC slices per thread (so an integer kernel's k-groups never straddle two threads); the
  // last thread also takes the remainder. A part the pool could not run on its own thread (it was
  // busy) still runs, so every partial is written.
  const std::int64_t slices = g.k / K::KC;
  parallel::for_each(team, team, [&](std::int64_t part) {
    const int tid = static_cast<int>(part);
    std::int64_t kb, ke;
    split_range(slices, team, tid, &kb, &ke);
    kb *= K::KC;
    ke = tid == team - 1 ? g.k : ke * K::KC;
    // Thread 0 writes C itself (with β); the others their partial, row stride n.
    GemmArgs<K> mine = g;
    mine.k = ke - kb;
    mine.A = g.trans_a ? g.A + kb * g.lda : g.A + kb;  // op(A) = A[:, kb:ke]
    mine.B = g.trans_b ? g.B + kb : g.B + kb * g.ldb;  // op(B) = B[kb:ke, :]
    if (tid > 0) {
      mine.beta = 0.0f;
      mine.C = partial.data() + std::size_t(tid - 1) * g.m * g.n;
      mine.ldc = g.n;
    }
    if (mine.k > 0) {
      typename K::Packed* b_panel = b_panel_for<K>(mine.k, g.n);
      parallel::Team solo = parallel::Team::solo();  // this thread's share runs alone
      gemm_team_body<K>(mine, b_panel, solo);
    } else if (tid > 0) {
      std::fill(mine.C, mine.C + g.m * g.n, Out(0));
    }
  });
  for (int t = 1; t < team; ++t) {
    const Out* p = partial.data() + std::size_t(t - 1) * g.m * g.n;
    for (std::int64_t i = 0; i < g.m; ++i) {
      Out* c = g.C + i * g.ldc;
      for (std::int64_t j = 0; j < g.n; ++j) c[j] += p[i * g.n + j];
    }
  }
}

// C ← beta · C (for k == 0 or alpha == 0, where there is no product to add).
template <class Out>
void scale_c(std::int64_t m, std::int64_t n, float beta, Out* C, std::int64_t ldc) {
  for (std::int64_t i = 0; i < m; ++i) {
    Out* c = C + i * ldc;
    if (beta == 0.0f) {
      std::fill(c, c + n, Out(0));
    } else if (beta != 1.0f) {
      for (std::int64_t j = 0; j < n; ++j) c[j] = static_cast<Out>(c[j] * beta);
    }
  }
}

// The whole GEMM: C ← alpha·op(A)·op(B) + beta·C on up to num_threads threads.
template <class K>
void gemm_driver(const GemmArgs<K>& g, int num_threads) {
  if (g.m <= 0 || g.n <= 0) return;
  if (g.k <= 0 || g.alpha == 0.0f) {
    scale_c(g.m, g.n, g.beta, g.C, g.ldc);
    return;
  }
  // A thread is worth starting only with enough work: ≥ 2^20 MACs each (~25 µs at the FMA peak,
  // far above the few µs a team's start and join cost), and no more threads than MR×NR tiles.
  const std::int64_t macs = g.m * g.n * g.k;
  const std::int64_t tiles = ((g.m + K::MR - 1) / K::MR) * ((g.n + K::NR - 1) / K::NR);
  const std::int64_t threads =
      std::min<std::int64_t>({num_threads, std::max<std::int64_t>(1, macs >> 20), tiles});
  // Called from inside someone else's team: run on this thread alone (run_team makes a team of
  // one there, whose barriers are no-ops).
  const int team = parallel::in_team() ? 1 : static_cast<int>(threads);
  GemmArgs<K> args = g;
  args.lower_only = symmetric_product(g);
  if (team > 1 && g.m * g.n <= kSplitKMaxC && g.k >= kSplitKMinSlices * K::KC * team) {
    gemm_split_k<K>(args, team);
  } else {
    typename K::Packed* b_panel = b_panel_for<K>(g.k, g.n);
    parallel::run_team(team, [&](parallel::Team& t) { gemm_team_body<K>(args, b_panel, t); });
  }
  if (args.lower_only) mirror_lower_triangle(g.m, g.C, g.ldc);
}

}  // namespace
}  // namespace mlcore::cpu
