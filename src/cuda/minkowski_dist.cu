// Minkowski distances D[i, j] = Σ_k |a_ik − b_jk|^p (finite p > 0) or max_k |a_ik − b_jk|
// (p = ∞), A: m × d, B: n × d, both row-major.
//
// No tensor core or GEMM tiling helps here: |a − b| is not a product, so the work is m·n·d
// subtract-and-fold steps on the CUDA cores. The kernel is the classic shared-memory tiling of
// a matrix product with the multiply-add replaced: a block of 16 × 16 threads stages a 16-row
// slice of A and of B, 16 features at a time, in shared memory; each thread folds its own
// (i, j) pair over those features in feature order, as the CPU loop does, and writes D once.
// Each operand value loaded from DRAM is reused by 16 threads.
#include <limits>

#include "device_util.cuh"
#include "kernels.hpp"
#include "launch_geometry.hpp"

namespace mlcore::cuda {

namespace {

constexpr int kTile = 16;

enum class Fold { l1, l2, linf, power };

template <Fold F>
__device__ __forceinline__ float fold(float acc, float diff, float p) {
  const float v = fabsf(diff);
  if constexpr (F == Fold::l1) return acc + v;
  if constexpr (F == Fold::l2) return acc + diff * diff;
  if constexpr (F == Fold::linf) return (v > acc || v != v) ? v : acc;
  return acc + powf(v, p);
}

// grid (ceil(n/16), ceil(m/16)), block 16 × 16: thread (x, y) computes D[m0 + y, n0 + x].
template <Fold F>
__global__ void minkowski_kernel(i64 m, i64 n, i64 d, const float* __restrict__ A,
                                 const float* __restrict__ B, float p, float* __restrict__ D) {
  __shared__ float a_tile[kTile][kTile + 1];  // +1: threads of a warp read a column
  __shared__ float b_tile[kTile][kTile + 1];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const i64 row = static_cast<i64>(blockIdx.y) * kTile + ty;
  const i64 col = static_cast<i64>(blockIdx.x) * kTile + tx;
  const i64 b_row = static_cast<i64>(blockIdx.x) * kTile + ty;  // the B row this thread stages
  float acc = 0.0f;
  for (i64 k0 = 0; k0 < d; k0 += kTile) {
    const i64 k = k0 + tx;
    a_tile[ty][tx] = (row < m && k < d) ? A[row * d + k] : 0.0f;
    b_tile[ty][tx] = (b_row < n && k < d) ? B[b_row * d + k] : 0.0f;
    __syncthreads();
    const int kmax = static_cast<int>(d - k0 < kTile ? d - k0 : kTile);
    for (int kk = 0; kk < kmax; ++kk) acc = fold<F>(acc, a_tile[ty][kk] - b_tile[tx][kk], p);
    __syncthreads();
  }
  if (row < m && col < n) D[row * n + col] = acc;
}

template <Fold F>
void launch(i64 m, i64 n, i64 d, const float* A, const float* B, float p, float* D,
            cudaStream_t stream) {
  const i64 rows = ceil_div<i64>(m, kTile);
  MLCORE_CHECK(rows <= kMaxGridYZ, "minkowski_dist: m = " << m << " needs " << rows
                                                          << " row tiles, over " << kMaxGridYZ);
  const dim3 grid(static_cast<unsigned>(ceil_div<i64>(n, kTile)), static_cast<unsigned>(rows));
  minkowski_kernel<F><<<grid, dim3(kTile, kTile), 0, stream>>>(m, n, d, A, B, p, D);
}

}  // namespace

void minkowski_dist(i64 m, i64 n, i64 d, const float* A, const float* B, float p, float* D,
                    cudaStream_t stream) {
  if (m == 0 || n == 0) return;
  if (p == 1.0f) {
    launch<Fold::l1>(m, n, d, A, B, p, D, stream);
  } else if (p == 2.0f) {
    launch<Fold::l2>(m, n, d, A, B, p, D, stream);
  } else if (p == std::numeric_limits<float>::infinity()) {
    launch<Fold::linf>(m, n, d, A, B, p, D, stream);
  } else {
    launch<Fold::power>(m, n, d, A, B, p, D, stream);
  }
  MLCORE_CUDA_CHECK_LAUNCH();
}

}  // namespace mlcore::cuda
