// Squared distances D[i, j] = ‖a_i − b_j‖² = ‖a_i‖² + ‖b_j‖² − 2·a_i·b_j, clamped at 0, fused into
// one kernel: the GEMM A·Bᵀ (A: m × d, B: n × d, both row-major: the "NT" GEMM), the two norm
// vectors and the clamp.
//
// The unfused form costs three passes and two extra vectors in DRAM (norms of A, norms of B,
// then a GEMM whose epilogue reads them). Here the norms come for free from the operand tiles
// the GEMM already holds in shared memory: each tile's rows of A and columns of B are summed
// once per block (tile::BlockNorms), so A and B are read once and D is written once — the
// compulsory traffic of the op. For k-means (d = 32, n = 64
// centroids, m = 10⁶ points) that traffic, not the arithmetic, is the bound: 4 B·d per point
// read, 4 B·n per point written.
//
// Cancellation: when a_i ≈ b_j the expansion subtracts nearly equal numbers; the error is a few
// ulp of ‖a‖² + ‖b‖², and a tiny negative result is clamped to 0. A row equal to a column gives
// exactly 0: the norms and the dot product run the same FMA sequence over the same values.
#include "device_util.cuh"
#include "kernels.hpp"
#include "launch_geometry.hpp"
#include "sgemm_tile.cuh"

namespace mlcore::cuda {

namespace {

// Registers: a thread needs 64 accumulators, 16 operands, the next tile's float4 loads in flight
// and a few addresses. Left at 2 blocks per SM, the compiler took 151–153 (per-thread norms) or
// 143–149 (block norms) for the narrow tile: 3 blocks, 12 warps per SM. Asking for enough
// resident blocks that each thread gets at most 128 gives 16 warps. `nvcc -arch=sm_90 -Xptxas
// -v` (nvcc 13.0): wide tile 127–128 registers, no spills; narrow tile 128 with 12–20 bytes of
// spills (a few loop-invariant values, kept in L1). Whether 16 warps with those spills beat 12
// without is for the GPU run to show (bench_cuda's sqdist rows against the memory floor).
template <class Cfg>
constexpr int kBlocksFor128Registers = 65536 / (128 * Cfg::kThreads);

// grid (ceil(m/BM), ceil(n/BN)), Cfg::kThreads threads.
template <class Cfg, bool kVec>
__global__ void __launch_bounds__(Cfg::kThreads, kBlocksFor128Registers<Cfg>)
    sqdist_kernel(i64 m, i64 n, i64 d, const float* __restrict__ A, const float* __restrict__ B,
                  float* __restrict__ D) {
  const i64 m0 = static_cast<i64>(blockIdx.x) * Cfg::BM;
  const i64 n0 = static_cast<i64>(blockIdx.y) * Cfg::BN;
  const tile::ThreadPlace<Cfg> place;
  float dot[8][8];
  __shared__ float norm_a[Cfg::BM], norm_b[Cfg::BN];
  tile::BlockNorms<Cfg> norms(norm_a, norm_b);
  // op(A) = A (m × d), op(B) = Bᵀ (d × n) with B stored n × d: TA = false, TB = true.
  tile::mainloop<Cfg, false, true, kVec>(A, d, B, d, m, n, d, m0, n0, place, dot, norms);
  norms.finish();
#pragma unroll
  for (int i = 0; i < 8; ++i) {
    const i64 row = m0 + place.row(i);
    if (row >= m) continue;
    const float na_i = norm_a[place.row(i)];
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const i64 col = n0 + place.col(4 * h);
      float v[4];
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        v[e] = fmaxf(fmaf(-2.0f, dot[i][4 * h + e], na_i + norm_b[place.col(4 * h + e)]), 0.0f);
      }
      float* out = D + row * n + col;
      if (kVec && col + 3 < n) {
        *reinterpret_cast<float4*>(out) = make_float4(v[0], v[1], v[2], v[3]);
      } else {
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          if (col + e < n) out[e] = v[e];
        }
      }
    }
  }
}

template <class Cfg>
void launch(i64 m, i64 n, i64 d, const float* A, const float* B, float* D, cudaStream_t stream) {
  const i64 ny = ceil_div<i64>(n, Cfg::BN);
  MLCORE_CHECK(ny <= kMaxGridYZ,
               "sqdist: n = " << n << " needs " << ny << " column tiles, over " << kMaxGridYZ);
  const dim3 grid(static_cast<unsigned>(ceil_div<i64>(m, Cfg::BM)), static_cast<unsigned>(ny));
  // float4 paths: rows of A and B (d floats) and of D (n floats) 16-byte aligned.
  const bool vec =
      d % 4 == 0 && n % 4 == 0 && is_aligned(A, 16) && is_aligned(B, 16) && is_aligned(D, 16);
  if (vec) {
    sqdist_kernel<Cfg, true><<<grid, Cfg::kThreads, 0, stream>>>(m, n, d, A, B, D);
  } else {
    sqdist_kernel<Cfg, false><<<grid, Cfg::kThreads, 0, stream>>>(m, n, d, A, B, D);
  }
}

// Wide tiles for many columns (kNN against a training set); half-width tiles when n ≤ 64 (the
// centroids of k-means) so no block computes 64 columns of padding.
using Wide = tile::RegisterTile<128, 128, 8>;
using Narrow = tile::RegisterTile<128, 64, 8>;

}  // namespace

void sqdist(i64 m, i64 n, i64 d, const float* A, const float* B, float* D, cudaStream_t stream) {
  if (m == 0 || n == 0) return;
  if (n <= Narrow::BN) {
    launch<Narrow>(m, n, d, A, B, D, stream);
  } else {
    launch<Wide>(m, n, d, A, B, D, stream);
  }
  MLCORE_CUDA_CHECK_LAUNCH();
}

}  // namespace mlcore::cuda
