// The loops of the AMX int8 GEMM, written once for two tile units: the hardware's
// (igemm_amx.cpp, compiled with -mamx-tile -mamx-int8) and a plain-C++ model of it
// (igemm_amx_emulated.cpp), which runs on any CPU so that the packing, the VNNI-4 layout of B,
// the edges and the threads are tested on every machine, bit for bit against the scalar GEMM.
//
// THE TILE UNIT. AMX adds eight tile registers tmm0–tmm7 of up to 16 rows × 64 bytes (1 KiB
// each) and a tile multiply unit. One instruction, tdpbssd (_tile_dpbssd), takes an A tile of
// 16 rows × 64 int8 (16 rows of 64 k-steps) and a B tile of 16 rows × 64 bytes in which row r
// holds, for each of 16 columns j, the 4 bytes B[4r..4r+3, j] (the VNNI-4 layout, the same
// pairing of four k-steps vpdpbusd uses), and adds into a C tile of 16 × 16 int32:
//   C[i][j] += Σ_{r<16} Σ_{q<4} A[i][4r+q] · B[r][4j+q]           (signed × signed, int32 sums)
// — 16·16·64 = 16,384 multiply-accumulates per instruction, against 64 for one vpdpbusd. Inside,
// the unit is a small systolic array (docs/AVX512_AMX.md): the tiles are the operand buffers
// the simulator in src/systolic models, and the int32 accumulation wraps like its adders.
//
// THE REGISTER BLOCK. A 2 × 2 block of C tiles (32 × 32 int32) lives in tmm0–3; each k-chunk of
// 64 loads two A tiles (tmm4, 5) and two B tiles (tmm6, 7) and issues four tdpbssd: every loaded
// tile is used twice, the most the eight registers allow (4 accumulators + 2 + 2). Operands are
// packed first, each tile's 1 KiB contiguous (stride 64 B), zero-padded to whole tiles and to an
// even number of tile rows and columns, so the block loop has no edge cases: the padding
// multiplies zeros, and only the valid part of each block is written to C.
//
// THE CACHE BLOCKS. The unit retires one tdpbssd per 16 cycles per core (Intel's rating; 1,024
// MACs/cycle), and the 2 × 2 block feeds it one 1 KiB tile load per tdpbssd: 64 B per cycle,
// which only L1 sustains (two 64-byte loads per cycle; L2 gives about half that). So, as in the
// GotoBLAS loops of gemm_driver.hpp:
//   * k is cut into blocks of kAmxKcChunks k-chunks, and the two B panels of one column pair over
//     one k-block (2 × kAmxKcChunks KiB = 16 KiB) stay in L1 while the row pairs of an M-block
//     stream past them: B is read from L1, A (one tile load per two tdpbssd: 32 B/cycle) from L2;
//   * an M-block of kAmxMcPairs row pairs (256 rows × k bytes: 512 KiB at k = 2048) stays in L2
//     while a thread walks every column pair, so A comes from DRAM/L3 once per M-block, and each
//     column pair's B panel (32 × k bytes) once per M-block, ~4 B/cycle;
//   * between k-blocks a 2 × 2 block's accumulators go to a per-thread scratch (4 KiB per row
//     pair, in L1/L2) and are reloaded: 8 tile moves per 4·kAmxKcChunks tdpbssd.
// The threads take whole (M-block, column pair) items, M-block-major, so a thread keeps its
// M-block of A in its own L2. Packing writes every byte of a tile (zeros past the edges) into
// buffers reused across calls, so no call zero-fills or page-faults megabytes first; B's VNNI-4
// interleave is four SSE2 unpacks per 64-byte tile row.
#pragma once

#include <emmintrin.h>  // SSE2, part of baseline x86-64: B's VNNI-4 interleave

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "mlcore/parallel.hpp"

namespace mlcore::cpu {
namespace {

constexpr int kAmxTileRows = 16;                                     // rows of every tile
constexpr int kAmxTileBytes = 64;                                    // bytes per tile row
constexpr int kAmxTileK = 64;                                        // int8 k-steps per A tile row
constexpr int kAmxTileCols = 16;                                     // int32 columns of a C tile
constexpr std::int64_t kAmxTileSize = kAmxTileRows * kAmxTileBytes;  // 1 KiB
constexpr int kAmxBlock = 2 * kAmxTileRows;                          // a 32 × 32 block of C
// k-chunks per k-block: the B panels of a column pair over a k-block, 2 × 8 KiB, fit in L1 (32
// KiB on every AMX core, 48 KiB on Sapphire Rapids) beside the A tiles passing through.
constexpr std::int64_t kAmxKcChunks = 8;
static_assert(2 * kAmxKcChunks * kAmxTileSize <= 16 * 1024, "a column pair's k-block fits in L1");
// Row pairs per M-block: 8 × 32 rows × k bytes of A (512 KiB at k = 2048) stay in a 2 MiB L2.
constexpr std::int64_t kAmxMcPairs = 8;

// The 64-byte operand of ldtilecfg (_tile_loadconfig): palette 1, and per tile register its
// rows and bytes per row. All eight tiles are 16 × 64 here.
struct AmxTileConfig {
  std::uint8_t palette = 1;
  std::uint8_t start_row = 0;
  std::uint8_t reserved[14] = {};
  std::uint16_t colsb[16] = {};
  std::uint8_t rows[16] = {};
};
static_assert(sizeof(AmxTileConfig) == 64, "ldtilecfg reads exactly 64 bytes");

inline AmxTileConfig amx_config_16x64() {
  AmxTileConfig c;
  for (int t = 0; t < 8; ++t) {
    c.colsb[t] = kAmxTileBytes;
    c.rows[t] = kAmxTileRows;
  }
  return c;
}

inline std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

// op(X)(i, p) for a row-major int8 X with leading dimension ld.
inline std::int8_t op_at(const std::int8_t* X, std::int64_t ld, bool trans, std::int64_t i,
                         std::int64_t p) {
  return trans ? X[p * ld + i] : X[i * ld + p];
}

// A tile row-block rb, k-chunk kb of op(A) (m × k) at out + (rb·kchunks + kb)·1 KiB: 16 rows of 64
// k-steps, zeros past m and k (every byte of the tiles is written).
void amx_pack_a(bool trans, std::int64_t m, std::int64_t k, const std::int8_t* A, std::int64_t lda,
                std::int64_t rb, std::int64_t kchunks, std::int8_t* out) {
  for (std::int64_t kb = 0; kb < kchunks; ++kb) {
    std::int8_t* tile = out + (rb * kchunks + kb) * kAmxTileSize;
    const std::int64_t p0 = kb * kAmxTileK, pn = std::min<std::int64_t>(kAmxTileK, k - p0);
    for (std::int64_t r = 0; r < kAmxTileRows; ++r) {
      const std::int64_t i = rb * kAmxTileRows + r;
      std::int8_t* row = tile + r * kAmxTileBytes;
      if (i >= m) {
        std::memset(row, 0, kAmxTileBytes);
        continue;
      }
      if (!trans) {
        std::memcpy(row, A + i * lda + p0, static_cast<std::size_t>(pn));
      } else {
        for (std::int64_t q = 0; q < pn; ++q) row[q] = op_at(A, lda, true, i, p0 + q);
      }
      std::memset(row + pn, 0, static_cast<std::size_t>(kAmxTileBytes - pn));
    }
  }
}

// One row of a VNNI-4 B tile from four rows of B (16 columns each): out[4j + q] = rq[j]. Two
// rounds of unpacks interleave bytes, then byte pairs:
//   r0 r1 → (r0[j] r1[j]) pairs; r2 r3 → (r2[j] r3[j]); the pairs of pairs → 4-byte groups.
inline void amx_vnni4_row(const std::int8_t* r0, const std::int8_t* r1, const std::int8_t* r2,
                          const std::int8_t* r3, std::int8_t* out) {
  const __m128i x0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r0));
  const __m128i x1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r1));
  const __m128i x2 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r2));
  const __m128i x3 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r3));
  const __m128i lo01 = _mm_unpacklo_epi8(x0, x1), hi01 = _mm_unpackhi_epi8(x0, x1);
  const __m128i lo23 = _mm_unpacklo_epi8(x2, x3), hi23 = _mm_unpackhi_epi8(x2, x3);
  __m128i* o = reinterpret_cast<__m128i*>(out);
  _mm_storeu_si128(o + 0, _mm_unpacklo_epi16(lo01, lo23));  // columns 0–3
  _mm_storeu_si128(o + 1, _mm_unpackhi_epi16(lo01, lo23));  // 4–7
  _mm_storeu_si128(o + 2, _mm_unpacklo_epi16(hi01, hi23));  // 8–11
  _mm_storeu_si128(o + 3, _mm_unpackhi_epi16(hi01, hi23));  // 12–15
}

// B tiles of column-blocks [cb0, cb1), every k-chunk kb, of op(B) (k × n) in the VNNI-4 layout:
// tile (cb, kb) at out + (cb·kchunks + kb)·1 KiB, row r, byte 4j + q = op(B)(64·kb + 4r + q,
// 16·cb + j), zeros past k and n (every byte written). Four column blocks (64 columns: one cache
// line of a row of B) are packed together, so each line of B is read once for the four tiles it
// feeds, and the writes go to four tiles at a time rather than to one per column block (which,
// 32 KiB apart, thrash the TLB and one L1 set).
void amx_pack_b(bool trans, std::int64_t k, std::int64_t n, const std::int8_t* B, std::int64_t ldb,
                std::int64_t cb0, std::int64_t cb1, std::int64_t kchunks, std::int8_t* out) {
  constexpr std::int64_t kGroup = kAmxTileBytes / kAmxTileCols;  // 4 column blocks per line
  for (std::int64_t g = cb0; g < cb1; g += kGroup) {
    for (std::int64_t kb = 0; kb < kchunks; ++kb) {
      for (std::int64_t r = 0; r < kAmxTileRows; ++r) {
        const std::int64_t p = kb * kAmxTileK + 4 * r;  // the tile row's first k-step
        for (std::int64_t cb = g; cb < std::min(g + kGroup, cb1); ++cb) {
          std::int8_t* row = out + (cb * kchunks + kb) * kAmxTileSize + r * kAmxTileBytes;
          const std::int64_t j0 = cb * kAmxTileCols;
          const std::int64_t jn =
              std::max<std::int64_t>(0, std::min<std::int64_t>(kAmxTileCols, n - j0));
          if (!trans && jn == kAmxTileCols && p + 3 < k) {  // a whole row: the SSE2 interleave
            const std::int8_t* b = B + p * ldb + j0;
            amx_vnni4_row(b, b + ldb, b + 2 * ldb, b + 3 * ldb, row);
            continue;
          }
          std::memset(row, 0, kAmxTileBytes);
          for (int q = 0; q < 4 && p + q < k; ++q) {
            for (std::int64_t j = 0; j < jn; ++j) {
              row[4 * j + q] = op_at(B, ldb, trans, p + q, j0 + j);
            }
          }
        }
      }
    }
  }
}

// Packed operands live in 64-byte-aligned buffers: a tile row is then one cache line, where an
// unaligned one straddles two and every tileloadd moves twice the lines (measured: half the
// GEMM's speed). Up to kAmxKeptBufferBytes they are per-thread buffers reused across calls
// (grown, never shrunk), so that packing neither allocates nor page-faults per call — the pack
// functions write every byte they hand out; larger ones (XᵀX of a tall X) take a buffer for the
// call only, so a thread does not keep a tall matrix's copy after the call.
struct alignas(64) AmxLine {
  std::int8_t bytes[64];
};
using AmxBuffer = std::vector<AmxLine>;
constexpr std::size_t kAmxKeptBufferBytes = std::size_t{32} << 20;

inline std::int8_t* amx_buffer(AmxBuffer& kept, AmxBuffer& once, std::size_t bytes) {
  AmxBuffer& b = bytes <= kAmxKeptBufferBytes ? kept : once;
  const std::size_t lines = (bytes + sizeof(AmxLine) - 1) / sizeof(AmxLine);
  if (b.size() < lines) b.resize(lines);
  return b.data()->bytes;
}

// C (m × n int32) ← op(A)·op(B) (+ C when accumulate) on the tile unit `Tiles`: a class whose
// constructor configures the calling thread's tiles (and destructor releases them), with
//   void block(a0, a1, b0, b1, kchunks, from, ld_from, to, ld_to)
// loading the 32 × 32 accumulators from `from` (row stride ld_from int32; zeros when null),
// adding the block [a0; a1]·[b0 b1] over kchunks packed k-chunks, and storing them at `to`.
// Exact while |op(A)·op(B)| < 2³¹ (k < 131072).
template <class Tiles>
void amx_igemm_loops(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
                     const std::int8_t* A, std::int64_t lda, const std::int8_t* B, std::int64_t ldb,
                     bool accumulate, std::int32_t* C, std::int64_t ldc, int threads) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!accumulate) {
      for (std::int64_t i = 0; i < m; ++i) std::fill(C + i * ldc, C + i * ldc + n, 0);
    }
    return;
  }
  const std::int64_t row_blocks = 2 * ceil_div(m, kAmxBlock);  // even: blocks pair up
  const std::int64_t col_blocks = 2 * ceil_div(n, kAmxBlock);
  const std::int64_t kchunks = ceil_div(k, kAmxTileK);
  const std::int64_t panel = kchunks * kAmxTileSize;  // bytes of one packed 16-row/column panel
  thread_local AmxBuffer kept_a, kept_b;
  AmxBuffer once_a, once_b;
  std::int8_t* pa = amx_buffer(kept_a, once_a, static_cast<std::size_t>(row_blocks * panel));
  std::int8_t* pb = amx_buffer(kept_b, once_b, static_cast<std::size_t>(col_blocks * panel));
  parallel::for_each_static(row_blocks, threads, [&](std::int64_t rb) {
    amx_pack_a(trans_a, m, k, A, lda, rb, kchunks, pa);
  });
  parallel::for_ranges(col_blocks, threads, [&](int, std::int64_t begin, std::int64_t end) {
    amx_pack_b(trans_b, k, n, B, ldb, begin, end, kchunks, pb);
  });

  const std::int64_t row_pairs = row_blocks / 2, col_pairs = col_blocks / 2;
  const std::int64_t m_blocks = ceil_div(row_pairs, kAmxMcPairs);
  // Loop order per item (M-block mb, column pair cp), the plain loops it stands for:
  //   for k-block kc:                       B panels of cp over kc: in L1
  //     for row pair rp in mb:              A panels of rp over kc: from L2
  //       acc[rp] (+)= A[rp, kc] · B[kc, cp]   (4·kAmxKcChunks tdpbssd)
  //   C[mb rows, cp columns] (+)= acc
  parallel::for_ranges(
      m_blocks * col_pairs, threads, [&](int, std::int64_t begin, std::int64_t end) {
        Tiles tiles;
        alignas(64) std::int32_t acc[kAmxMcPairs][kAmxBlock * kAmxBlock];
        for (std::int64_t item = begin; item < end; ++item) {
          const std::int64_t mb = item / col_pairs, cp = item % col_pairs;
          const std::int64_t rp0 = mb * kAmxMcPairs;
          const std::int64_t rps = std::min(kAmxMcPairs, row_pairs - rp0);
          const std::int64_t j0 = cp * kAmxBlock;
          const std::int64_t nj = std::min<std::int64_t>(kAmxBlock, n - j0);
          const std::int8_t* b0 = pb + 2 * cp * panel;
          for (std::int64_t kc = 0; kc < kchunks; kc += kAmxKcChunks) {
            const std::int64_t chunks = std::min(kAmxKcChunks, kchunks - kc);
            const std::int64_t at = kc * kAmxTileSize;
            const bool first = kc == 0, last = kc + chunks == kchunks;
            for (std::int64_t r = 0; r < rps; ++r) {
              const std::int8_t* a0 = pa + 2 * (rp0 + r) * panel;
              const std::int64_t i0 = (rp0 + r) * kAmxBlock;
              // A whole block of C is read (when accumulating) and written by the tiles
              // themselves; an edge block goes through the scratch and is copied below.
              const bool whole = nj == kAmxBlock && m - i0 >= kAmxBlock;
              std::int32_t* c = C + i0 * ldc + j0;
              const std::int32_t* from = !first ? acc[r] : whole && accumulate ? c : nullptr;
              const std::int64_t ld_from = !first ? kAmxBlock : ldc;
              std::int32_t* to = last && whole ? c : acc[r];
              tiles.block(a0 + at, a0 + panel + at, b0 + at, b0 + panel + at, chunks, from, ld_from,
                          to, to == c ? ldc : kAmxBlock);
            }
          }
          for (std::int64_t r = 0; r < rps; ++r) {  // the edge blocks
            const std::int64_t i0 = (rp0 + r) * kAmxBlock;
            const std::int64_t ni = std::min<std::int64_t>(kAmxBlock, m - i0);
            if (nj == kAmxBlock && ni == kAmxBlock) continue;
            for (std::int64_t i = 0; i < ni; ++i) {
              std::int32_t* c = C + (i0 + i) * ldc + j0;
              const std::int32_t* o = acc[r] + i * kAmxBlock;
              for (std::int64_t j = 0; j < nj; ++j) c[j] = accumulate ? c[j] + o[j] : o[j];
            }
          }
        }
      });
}

}  // namespace
}  // namespace mlcore::cpu
