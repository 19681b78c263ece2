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
// THE BLOCKING. A 2 × 2 block of C tiles (32 × 32 int32) lives in tmm0–3 for the whole k loop;
// each k-chunk of 64 loads two A tiles (tmm4, 5) and two B tiles (tmm6, 7) and issues four
// tdpbssd: every loaded tile is used twice, the most the eight registers allow (4 accumulators
// + 2 + 2). Operands are packed first, each tile's 1 KiB contiguous (stride 64 B), zero-padded
// to whole tiles and to an even number of tile rows and columns, so the block loop has no edge
// cases: the padding multiplies zeros, and only the valid part of each block is written to C.
// The threads take whole 32 × 32 blocks, column-pair-major, so a thread's two B panels
// (2 × 16 columns × k bytes) stay in its L2 while the A panels stream past them.
#pragma once

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
// k-steps, zeros past m and k. `out` is zero-filled by the caller.
void amx_pack_a(bool trans, std::int64_t m, std::int64_t k, const std::int8_t* A, std::int64_t lda,
                std::int64_t rb, std::int64_t kchunks, std::int8_t* out) {
  for (std::int64_t kb = 0; kb < kchunks; ++kb) {
    std::int8_t* tile = out + (rb * kchunks + kb) * kAmxTileSize;
    const std::int64_t p0 = kb * kAmxTileK, pn = std::min<std::int64_t>(kAmxTileK, k - p0);
    for (std::int64_t r = 0; r < kAmxTileRows; ++r) {
      const std::int64_t i = rb * kAmxTileRows + r;
      if (i >= m) break;
      std::int8_t* row = tile + r * kAmxTileBytes;
      if (!trans) {
        std::memcpy(row, A + i * lda + p0, static_cast<std::size_t>(pn));
      } else {
        for (std::int64_t q = 0; q < pn; ++q) row[q] = op_at(A, lda, true, i, p0 + q);
      }
    }
  }
}

// B tile column-block cb, k-chunk kb of op(B) (k × n) in the VNNI-4 layout, at
// out + (cb·kchunks + kb)·1 KiB: row r, byte 4j + q = op(B)(64·kb + 4r + q, 16·cb + j).
void amx_pack_b(bool trans, std::int64_t k, std::int64_t n, const std::int8_t* B, std::int64_t ldb,
                std::int64_t cb, std::int64_t kchunks, std::int8_t* out) {
  const std::int64_t jn = std::min<std::int64_t>(kAmxTileCols, n - cb * kAmxTileCols);
  for (std::int64_t kb = 0; kb < kchunks; ++kb) {
    std::int8_t* tile = out + (cb * kchunks + kb) * kAmxTileSize;
    for (std::int64_t r = 0; r < kAmxTileRows; ++r) {
      for (int q = 0; q < 4; ++q) {
        const std::int64_t p = kb * kAmxTileK + 4 * r + q;
        if (p >= k) break;
        for (std::int64_t j = 0; j < jn; ++j) {
          tile[r * kAmxTileBytes + 4 * j + q] = op_at(B, ldb, trans, p, cb * kAmxTileCols + j);
        }
      }
    }
  }
}

// C (m × n int32) ← op(A)·op(B) (+ C when accumulate) on the tile unit `Tiles`: a class whose
// constructor configures the calling thread's tiles (and destructor releases them), with
//   void block(a0, a1, b0, b1, kchunks, out)
// computing the 32 × 32 block [a0; a1]·[b0 b1] over kchunks packed k-chunks into out (row
// stride 32 int32). Exact while |op(A)·op(B)| < 2³¹ (k < 131072).
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
  std::vector<std::int8_t> pa(static_cast<std::size_t>(row_blocks * kchunks * kAmxTileSize));
  std::vector<std::int8_t> pb(static_cast<std::size_t>(col_blocks * kchunks * kAmxTileSize));
  parallel::for_each_static(row_blocks, threads, [&](std::int64_t rb) {
    amx_pack_a(trans_a, m, k, A, lda, rb, kchunks, pa.data());
  });
  parallel::for_each_static(col_blocks, threads, [&](std::int64_t cb) {
    amx_pack_b(trans_b, k, n, B, ldb, cb, kchunks, pb.data());
  });

  const std::int64_t row_pairs = row_blocks / 2, col_pairs = col_blocks / 2;
  const std::int64_t panel = kchunks * kAmxTileSize;  // bytes of one packed 16-row/column panel
  parallel::for_ranges(row_pairs * col_pairs, threads,
                       [&](int, std::int64_t begin, std::int64_t end) {
                         Tiles tiles;
                         alignas(64) std::int32_t out[kAmxBlock * kAmxBlock];
                         for (std::int64_t item = begin; item < end; ++item) {
                           const std::int64_t cp = item / row_pairs, rp = item % row_pairs;
                           const std::int8_t* a0 = pa.data() + 2 * rp * panel;
                           const std::int8_t* b0 = pb.data() + 2 * cp * panel;
                           tiles.block(a0, a0 + panel, b0, b0 + panel, kchunks, out);
                           const std::int64_t i0 = rp * kAmxBlock, j0 = cp * kAmxBlock;
                           const std::int64_t ni = std::min<std::int64_t>(kAmxBlock, m - i0);
                           const std::int64_t nj = std::min<std::int64_t>(kAmxBlock, n - j0);
                           for (std::int64_t i = 0; i < ni; ++i) {
                             std::int32_t* c = C + (i0 + i) * ldc + j0;
                             const std::int32_t* o = out + i * kAmxBlock;
                             for (std::int64_t j = 0; j < nj; ++j)
                               c[j] = accumulate ? c[j] + o[j] : o[j];
                           }
                         }
                       });
}

}  // namespace
}  // namespace mlcore::cpu
