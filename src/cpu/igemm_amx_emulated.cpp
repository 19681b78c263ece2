// The AMX GEMM's loops on a model of the tile unit, compiled for the baseline x86-64: each tile
// register an array of 16 rows × 64 bytes, tileloadd / tilestored as row copies with a stride,
// tdpbssd as the sum that defines it (Intel SDM, "TDPBSSD"). The loops are the hardware path's
// (igemm_amx_loops.hpp), so a machine without AMX still tests everything but the instructions.
#include <cstdint>
#include <cstring>

#include "igemm_amx.hpp"
#include "igemm_amx_loops.hpp"

namespace mlcore::cpu {
namespace {

class EmulatedTiles {
 public:
  // The 32 × 32 block [a0; a1]·[b0 b1] added to the accumulators loaded from `from` (or to
  // zero) and stored at `to`, as HardwareTiles::block issues it: C tiles 0–3, A tiles 4–5, B
  // tiles 6–7, four tdpbssd per k-chunk.
  void block(const std::int8_t* a0, const std::int8_t* a1, const std::int8_t* b0,
             const std::int8_t* b1, std::int64_t kchunks, const std::int32_t* from,
             std::int64_t ld_from, std::int32_t* to, std::int64_t ld_to) {
    for (int t = 0; t < 4; ++t) {
      const int i0 = (t / 2) * kAmxTileRows, j0 = (t % 2) * kAmxTileCols;
      for (int i = 0; i < kAmxTileRows; ++i) {
        if (from != nullptr) {
          std::memcpy(c_[t][i], from + (i0 + i) * ld_from + j0, sizeof(c_[t][i]));
        } else {
          std::memset(c_[t][i], 0, sizeof(c_[t][i]));
        }
      }
    }
    for (std::int64_t kb = 0; kb < kchunks; ++kb) {
      load(a_[0], a0 + kb * kAmxTileSize);
      load(a_[1], a1 + kb * kAmxTileSize);
      load(b_[0], b0 + kb * kAmxTileSize);
      load(b_[1], b1 + kb * kAmxTileSize);
      dpbssd(c_[0], a_[0], b_[0]);
      dpbssd(c_[1], a_[0], b_[1]);
      dpbssd(c_[2], a_[1], b_[0]);
      dpbssd(c_[3], a_[1], b_[1]);
    }
    for (int t = 0; t < 4; ++t) {
      const int i0 = (t / 2) * kAmxTileRows, j0 = (t % 2) * kAmxTileCols;
      for (int i = 0; i < kAmxTileRows; ++i) {
        std::memcpy(to + (i0 + i) * ld_to + j0, c_[t][i], sizeof(c_[t][i]));
      }
    }
  }

 private:
  using ByteTile = std::int8_t[kAmxTileRows][kAmxTileBytes];
  using AccTile = std::int32_t[kAmxTileRows][kAmxTileCols];

  // tileloadd from packed memory (stride 64 B: one tile is 1 KiB contiguous).
  static void load(ByteTile& t, const std::int8_t* src) { std::memcpy(t, src, sizeof(t)); }

  // tdpbssd: C[i][j] += Σ_r Σ_q A[i][4r+q]·B[r][4j+q], signed bytes, int32 sums that wrap.
  static void dpbssd(AccTile& c, const ByteTile& a, const ByteTile& b) {
    for (int i = 0; i < kAmxTileRows; ++i) {
      for (int j = 0; j < kAmxTileCols; ++j) {
        std::uint32_t sum = static_cast<std::uint32_t>(c[i][j]);  // unsigned: wraps, defined
        for (int r = 0; r < kAmxTileRows; ++r) {
          for (int q = 0; q < 4; ++q) {
            sum += static_cast<std::uint32_t>(std::int32_t{a[i][4 * r + q]} * b[r][4 * j + q]);
          }
        }
        c[i][j] = static_cast<std::int32_t>(sum);
      }
    }
  }

  AccTile c_[4];
  ByteTile a_[2], b_[2];
};

}  // namespace

void igemm_amx_emulated(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
                        const std::int8_t* A, std::int64_t lda, const std::int8_t* B,
                        std::int64_t ldb, bool accumulate, std::int32_t* C, std::int64_t ldc,
                        int threads) {
  amx_igemm_loops<EmulatedTiles>(trans_a, trans_b, m, n, k, A, lda, B, ldb, accumulate, C, ldc,
                                 threads);
}

}  // namespace mlcore::cpu
