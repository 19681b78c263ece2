// The register-blocked block tile: the main loop of the fastest f32 GEMM (sgemm.cu, top of the
// ladder) and of the fused distance kernel (sqdist.cu), which differ only in their epilogues.
//
// Shapes (one thread block):
//   C_blk   (BM, BN)            the outputs this block owns, rows m0.., columns n0..
//   As      [2][BK][BM + 4]     op(A)'s (BM, BK) tile, stored k-major: As[k][i] = op(A)[m0+i, k0+k]
//   Bs      [2][BK][BN + 4]     op(B)'s (BK, BN) tile:                  Bs[k][j] = op(B)[k0+k,
//   n0+j] warp    (32, 64)            4 rows of lanes × 8 columns of lanes thread  (8, 8)
//   accumulators rows {r0..r0+3, r0+16..r0+19} × cols {c0..c0+3, c0+32..c0+35}
//
// The loop it stands for, per thread:
//   for k0 in 0..K step BK:                  // one shared-memory tile per step
//     for k in 0..BK:
//       a[0..8] = As[k][rows]; b[0..8] = Bs[k][cols]     // 4 × LDS.128
//       acc[i][j] += a[i] * b[j]                         // 64 FFMA
//
// Why it is fast (the hardware reasons):
//   * 64 FMAs per 4 shared-memory loads: an SM sub-partition issues one warp-FFMA per clock
//     but shared memory delivers one 128-byte wavefront per clock for the whole SM, so each
//     loaded value must feed several FMAs; 8 × 8 per thread gives 16 FMAs per loaded float.
//   * Float4 loads everywhere the layout allows (LDG.128 / LDS.128): a quarter of the load
//     instructions, and 8 lanes × 16 B = 128 contiguous bytes per quarter-warp.
//   * The two 4-wide halves of a thread's tile sit 16 rows / 32 columns apart so that the 8
//     lanes of a quarter-warp read 8 consecutive float4 of Bs (conflict-free) and the 4 row-
//     groups of As are broadcast.
//   * Double buffering: the global loads of tile t+1 are issued into registers before the
//     FMAs of tile t, and stored to the other shared buffer after them, so DRAM latency hides
//     behind arithmetic and one __syncthreads per tile suffices.
//   * The +4 float padding keeps the transposing shared stores (A read along k, stored along
//     m) conflict-free while keeping every row 16-byte aligned for LDS.128.
#pragma once

#include <cstdint>

#include "device_util.cuh"

namespace mlcore::cuda::tile {

using i64 = std::int64_t;

template <int BM_, int BN_, int BK_>
struct RegisterTile {
  static constexpr int BM = BM_, BN = BN_, BK = BK_;
  static constexpr int kTM = 8, kTN = 8;                // accumulators per thread
  static constexpr int kWarpRows = 32, kWarpCols = 64;  // 4 × 8 lanes, each 8 × 8
  static constexpr int kWarpsM = BM / kWarpRows, kWarpsN = BN / kWarpCols;
  static constexpr int kThreads = kWarpSize * kWarpsM * kWarpsN;
  static constexpr int kPad = 4;
  static constexpr int kAPitch = BM + kPad, kBPitch = BN + kPad;
  static constexpr int kALoads = BM * BK / 4 / kThreads;  // float4 chunks per thread per tile
  static constexpr int kBLoads = BN * BK / 4 / kThreads;

  static_assert(BM % kWarpRows == 0 && BN % kWarpCols == 0,
                "the block tile is a whole number of 32 x 64 warp tiles");
  static_assert(kThreads * kTM * kTN == BM * BN, "every output has exactly one owner");
  static_assert(BK % 4 == 0, "tiles are loaded as float4 chunks along k");
  static_assert((BM * BK / 4) % kThreads == 0 && (BN * BK / 4) % kThreads == 0,
                "every thread loads the same number of float4 chunks");
  static_assert(kAPitch % 4 == 0 && kBPitch % 4 == 0, "rows stay 16-byte aligned for LDS.128");
  static_assert(kThreads <= 1024, "a block has at most 1024 threads");
  static_assert(2 * BK * (kAPitch + kBPitch) * 4 <= 48 * 1024,
                "static shared memory is limited to 48 KiB per block");
};

// Element [row, col .. col+3] of a row-major matrix (rows × cols, stride ld), zeros outside.
// kVec: ld % 4 == 0, base 16-byte aligned and col % 4 == 0, so a chunk wholly inside the
// row is one aligned LDG.128.
template <bool kVec>
__device__ __forceinline__ float4 load_chunk(const float* __restrict__ base, i64 ld, i64 row,
                                             i64 col, i64 rows, i64 cols) {
  float4 v = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
  if (row >= rows) return v;
  const float* p = base + row * ld + col;
  if (kVec && col + 3 < cols) return *reinterpret_cast<const float4*>(p);
  if (col < cols) v.x = p[0];
  if (col + 1 < cols) v.y = p[1];
  if (col + 2 < cols) v.z = p[2];
  if (col + 3 < cols) v.w = p[3];
  return v;
}

// Where this thread's accumulators sit inside the block tile.
template <class Cfg>
struct ThreadPlace {
  int r0, c0;  // rows r0 + {0..3, 16..19}, columns c0 + {0..3, 32..35}
  __device__ ThreadPlace() {
    const int warp = threadIdx.x / kWarpSize, lane = threadIdx.x % kWarpSize;
    const int wm = warp / Cfg::kWarpsN, wn = warp % Cfg::kWarpsN;
    r0 = wm * Cfg::kWarpRows + (lane / 8) * 4;
    c0 = wn * Cfg::kWarpCols + (lane % 8) * 4;
  }
  // Row offset of accumulator row i (0..7) and column offset of accumulator column j (0..7).
  __device__ int row(int i) const { return r0 + (i < 4 ? i : i + 12); }
  __device__ int col(int j) const { return c0 + (j < 4 ? j : j + 28); }
};

// The main loop: acc[i][j] = Σ_k op(A)[m0 + row(i), k] · op(B)[k, n0 + col(j)] over all K.
// `Norms` (sqdist's fused norms; NoNorms for a plain GEMM) sees every shared tile once, after
// the FMAs that read it and before the barrier that frees it.
//   op(A)(i, k) = TA ? A[k·lda + i] : A[i·lda + k];   op(B)(k, j) = TB ? B[j·ldb + k] : B[k·ldb +
//   j]
template <class Cfg, bool TA, bool TB, bool kVec, class Norms>
__device__ __forceinline__ void mainloop(const float* __restrict__ A, i64 lda,
                                         const float* __restrict__ B, i64 ldb, i64 M, i64 N, i64 K,
                                         i64 m0, i64 n0, const ThreadPlace<Cfg>& place,
                                         float (&acc)[8][8], Norms& norms) {
  constexpr int BM = Cfg::BM, BN = Cfg::BN, BK = Cfg::BK;
  __shared__ __align__(16) float As[2][BK][Cfg::kAPitch];
  __shared__ __align__(16) float Bs[2][BK][Cfg::kBPitch];
  const int tid = threadIdx.x;

#pragma unroll
  for (int i = 0; i < 8; ++i) {
#pragma unroll
    for (int j = 0; j < 8; ++j) acc[i][j] = 0.0f;
  }

  float4 ra[Cfg::kALoads], rb[Cfg::kBLoads];  // the next tile, in flight in registers

  // Global → registers: tile kt of op(A) (BM × BK) and op(B) (BK × BN).
  auto load_tile = [&](int kt) {
    const i64 k0 = static_cast<i64>(kt) * BK;
#pragma unroll
    for (int l = 0; l < Cfg::kALoads; ++l) {
      const int c = tid + l * Cfg::kThreads;
      if (TA) {  // A stored K × M: the tile's rows are k, contiguous along m
        ra[l] = load_chunk<kVec>(A, lda, k0 + c / (BM / 4), m0 + (c % (BM / 4)) * 4, K, M);
      } else {  // A stored M × K: contiguous along k
        ra[l] = load_chunk<kVec>(A, lda, m0 + c / (BK / 4), k0 + (c % (BK / 4)) * 4, M, K);
      }
    }
#pragma unroll
    for (int l = 0; l < Cfg::kBLoads; ++l) {
      const int c = tid + l * Cfg::kThreads;
      if (TB) {  // B stored N × K: contiguous along k
        rb[l] = load_chunk<kVec>(B, ldb, n0 + c / (BK / 4), k0 + (c % (BK / 4)) * 4, N, K);
      } else {  // B stored K × N: contiguous along n
        rb[l] = load_chunk<kVec>(B, ldb, k0 + c / (BN / 4), n0 + (c % (BN / 4)) * 4, K, N);
      }
    }
  };

  // Registers → shared buffer `buf`, k-major (transposing the operands stored along k).
  auto store_tile = [&](int buf) {
#pragma unroll
    for (int l = 0; l < Cfg::kALoads; ++l) {
      const int c = tid + l * Cfg::kThreads;
      if (TA) {
        *reinterpret_cast<float4*>(&As[buf][c / (BM / 4)][(c % (BM / 4)) * 4]) = ra[l];
      } else {
        const int i = c / (BK / 4), k = (c % (BK / 4)) * 4;
        As[buf][k + 0][i] = ra[l].x;
        As[buf][k + 1][i] = ra[l].y;
        As[buf][k + 2][i] = ra[l].z;
        As[buf][k + 3][i] = ra[l].w;
      }
    }
#pragma unroll
    for (int l = 0; l < Cfg::kBLoads; ++l) {
      const int c = tid + l * Cfg::kThreads;
      if (TB) {
        const int j = c / (BK / 4), k = (c % (BK / 4)) * 4;
        Bs[buf][k + 0][j] = rb[l].x;
        Bs[buf][k + 1][j] = rb[l].y;
        Bs[buf][k + 2][j] = rb[l].z;
        Bs[buf][k + 3][j] = rb[l].w;
      } else {
        *reinterpret_cast<float4*>(&Bs[buf][c / (BN / 4)][(c % (BN / 4)) * 4]) = rb[l];
      }
    }
  };

  const int ktiles = static_cast<int>(ceil_div<i64>(K, BK));
  load_tile(0);
  store_tile(0);
  __syncthreads();

  for (int kt = 0; kt < ktiles; ++kt) {
    const int buf = kt & 1;
    const bool more = kt + 1 < ktiles;
    if (more) load_tile(kt + 1);  // in flight while we compute

#pragma unroll
    for (int k = 0; k < BK; ++k) {
      float a[8], b[8];
      const float4 a0 = *reinterpret_cast<const float4*>(&As[buf][k][place.r0]);
      const float4 a1 = *reinterpret_cast<const float4*>(&As[buf][k][place.r0 + 16]);
      const float4 b0 = *reinterpret_cast<const float4*>(&Bs[buf][k][place.c0]);
      const float4 b1 = *reinterpret_cast<const float4*>(&Bs[buf][k][place.c0 + 32]);
      a[0] = a0.x, a[1] = a0.y, a[2] = a0.z, a[3] = a0.w;
      a[4] = a1.x, a[5] = a1.y, a[6] = a1.z, a[7] = a1.w;
      b[0] = b0.x, b[1] = b0.y, b[2] = b0.z, b[3] = b0.w;
      b[4] = b1.x, b[5] = b1.y, b[6] = b1.z, b[7] = b1.w;
#pragma unroll
      for (int i = 0; i < 8; ++i) {
#pragma unroll
        for (int j = 0; j < 8; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
      }
    }
    norms.add_tile(As[buf], Bs[buf]);

    // Tile kt+1 goes to the other buffer: everyone finished reading it in iteration kt−1,
    // before the barrier that ended that iteration.
    if (more) store_tile(buf ^ 1);
    __syncthreads();
  }
}

// For a plain GEMM: no norms.
struct NoNorms {
  template <class TileA, class TileB>
  __device__ void add_tile(const TileA&, const TileB&) {}
};

// The squared norms of the block's BM rows of op(A) and BN columns of op(B), for sqdist: each
// is summed by one thread from the shared tiles, k in order, with the FMA sequence the dot
// products use — so a row equal to a column gives a distance of exactly 0. Done once per block
// (BK·(BM + BN) FMAs a tile) rather than by every thread for its own 8 + 8 rows and columns
// (16 FMAs beside each 64, +25 %, and 16 registers more per thread).
template <class Cfg>
struct BlockNorms {
  static constexpr int kCount = Cfg::BM + Cfg::BN;
  static constexpr int kPerThread = (kCount + Cfg::kThreads - 1) / Cfg::kThreads;
  float sum[kPerThread];
  float* a;  // [BM] in shared memory, filled by finish()
  float* b;  // [BN]

  __device__ BlockNorms(float* a_shared, float* b_shared) : a(a_shared), b(b_shared) {
#pragma unroll
    for (int s = 0; s < kPerThread; ++s) sum[s] = 0.0f;
  }

  __device__ void add_tile(const float (&As)[Cfg::BK][Cfg::kAPitch],
                           const float (&Bs)[Cfg::BK][Cfg::kBPitch]) {
#pragma unroll
    for (int s = 0; s < kPerThread; ++s) {
      const int e = threadIdx.x + s * Cfg::kThreads;
      if (e < Cfg::BM) {
#pragma unroll
        for (int k = 0; k < Cfg::BK; ++k) sum[s] = fmaf(As[k][e], As[k][e], sum[s]);
      } else if (e < kCount) {
#pragma unroll
        for (int k = 0; k < Cfg::BK; ++k) {
          sum[s] = fmaf(Bs[k][e - Cfg::BM], Bs[k][e - Cfg::BM], sum[s]);
        }
      }
    }
  }

  // After the main loop (which ends with a barrier): publish the sums to the whole block.
  __device__ void finish() {
#pragma unroll
    for (int s = 0; s < kPerThread; ++s) {
      const int e = threadIdx.x + s * Cfg::kThreads;
      if (e < Cfg::BM) {
        a[e] = sum[s];
      } else if (e < kCount) {
        b[e - Cfg::BM] = sum[s];
      }
    }
    __syncthreads();
  }
};

}  // namespace mlcore::cuda::tile
