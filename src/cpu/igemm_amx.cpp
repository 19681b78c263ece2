// The AMX GEMM's tile unit: the hardware's. Compiled with -mamx-tile -mamx-int8 (only this
// file), and called only after amx_unavailable_reason() (amx_support.cpp) said this process may.
// GCC's tile intrinsics name the tile register in their assembly text, so the register numbers
// are literals here and the block is written out; EmulatedTiles (igemm_amx_emulated.cpp) issues
// the same sequence on its model, and the tests compare both with the scalar GEMM.
#include "igemm_amx.hpp"

#include <immintrin.h>

#include <cstdint>

#include "igemm_amx_loops.hpp"
#include "peaks.hpp"

namespace mlcore::cpu {
namespace {

class HardwareTiles {
 public:
  // The tile configuration is per thread (XSAVE state): each worker loads it before its first
  // tile instruction and releases the tiles (back to the init state, cheap to context-switch)
  // when it is done.
  HardwareTiles() {
    static const AmxTileConfig config = amx_config_16x64();
    _tile_loadconfig(&config);
  }
  ~HardwareTiles() { _tile_release(); }
  HardwareTiles(const HardwareTiles&) = delete;
  HardwareTiles& operator=(const HardwareTiles&) = delete;

  void block(const std::int8_t* a0, const std::int8_t* a1, const std::int8_t* b0,
             const std::int8_t* b1, std::int64_t kchunks, const std::int32_t* from,
             std::int64_t ld_from, std::int32_t* to, std::int64_t ld_to) {
    if (from != nullptr) {
      const std::int64_t stride = ld_from * sizeof(std::int32_t);  // bytes per row
      _tile_loadd(0, from, stride);
      _tile_loadd(1, from + kAmxTileCols, stride);
      _tile_loadd(2, from + kAmxTileRows * ld_from, stride);
      _tile_loadd(3, from + kAmxTileRows * ld_from + kAmxTileCols, stride);
    } else {
      _tile_zero(0);
      _tile_zero(1);
      _tile_zero(2);
      _tile_zero(3);
    }
    // Each tdpbssd is issued as soon as its two operands are loaded, so the unit starts on the
    // first product while the other tiles are still coming in.
    for (std::int64_t kb = 0; kb < kchunks; ++kb) {
      const std::int64_t at = kb * kAmxTileSize;
      _tile_loadd(4, a0 + at, kAmxTileBytes);
      _tile_loadd(6, b0 + at, kAmxTileBytes);
      _tile_dpbssd(0, 4, 6);
      _tile_loadd(7, b1 + at, kAmxTileBytes);
      _tile_dpbssd(1, 4, 7);
      _tile_loadd(5, a1 + at, kAmxTileBytes);
      _tile_dpbssd(2, 5, 6);
      _tile_dpbssd(3, 5, 7);
    }
    const std::int64_t stride = ld_to * sizeof(std::int32_t);
    _tile_stored(0, to, stride);
    _tile_stored(1, to + kAmxTileCols, stride);
    _tile_stored(2, to + kAmxTileRows * ld_to, stride);
    _tile_stored(3, to + kAmxTileRows * ld_to + kAmxTileCols, stride);
  }
};

// The tile unit's ceiling: four independent tdpbssd chains on resident tiles (no loads), so only
// the multiply unit's throughput limits them — Intel rates it at one 16 × 16 × 64 tile multiply
// per 16 cycles per core. One team member's share of the probe.
void run_tile_chains(long long iters) {
  alignas(64) static const std::int8_t zeros[kAmxTileSize] = {};
  HardwareTiles tiles;
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  _tile_loadd(4, zeros, kAmxTileBytes);
  _tile_loadd(5, zeros, kAmxTileBytes);
  _tile_loadd(6, zeros, kAmxTileBytes);
  _tile_loadd(7, zeros, kAmxTileBytes);
  for (long long i = 0; i < iters; ++i) {
    _tile_dpbssd(0, 4, 6);
    _tile_dpbssd(1, 4, 7);
    _tile_dpbssd(2, 5, 6);
    _tile_dpbssd(3, 5, 7);
  }
}

}  // namespace

double measure_amx_int8_peak(int threads) {
  constexpr double kMacsPerTileMultiply = double(kAmxTileRows) * kAmxTileCols * kAmxTileK;
  return measure_team_mac_rate(threads, 7, 20'000, 4 * kMacsPerTileMultiply, run_tile_chains);
}

void igemm_amx(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
               const std::int8_t* A, std::int64_t lda, const std::int8_t* B, std::int64_t ldb,
               bool accumulate, std::int32_t* C, std::int64_t ldc, int threads) {
  amx_igemm_loops<HardwareTiles>(trans_a, trans_b, m, n, k, A, lda, B, ldb, accumulate, C, ldc,
                                 threads);
}

}  // namespace mlcore::cpu
