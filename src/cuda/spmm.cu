// spmm: C ← α·op(A)·B + β·C with A in CSR (Backend::spmm). The structure was checked by Backend
// (on a host copy of indptr and indices) before these run.
//
// No transpose: one warp per row of C. The warp walks the row's nonzeros in order; for each, its
// 32 lanes read 32 consecutive floats of B's row idx_p — one 128-byte coalesced transaction —
// and accumulate in registers, so each output element is summed in the nonzeros' order by one
// thread (deterministic) and written once. What the GPU buys here is bandwidth and latency
// hiding (thousands of warps each waiting on its own gathered row of B), not its FMA rate: a
// nonzero brings n MACs for 4n bytes of B, far below the ~10 MACs per byte the SMs could do.
//
// Transposed: one warp per row i of A scatters α·a_ip·B[i, :] into row idx_p of C with
// atomicAdd (two rows of A may name the same column). Atomic f32 adds land in arrival order,
// so Aᵀ·B may differ from the CPU backends in the last bits, as cuda's scatter_add does.
#include "device_util.cuh"
#include "kernels.hpp"

namespace mlcore::cuda {

namespace {

// C ← β·C (β = 0: zeros, NaN included), before the accumulating kernels.
__global__ void scale_kernel(i64 count, float beta, float* __restrict__ C) {
  for (i64 e = static_cast<i64>(blockIdx.x) * blockDim.x + threadIdx.x; e < count;
       e += static_cast<i64>(gridDim.x) * blockDim.x) {
    C[e] = beta == 0.0f ? 0.0f : beta * C[e];
  }
}

template <class Index>
__global__ void spmm_rows_kernel(i64 m, i64 n, const i64* __restrict__ indptr,
                                 const Index* __restrict__ indices, const float* __restrict__ data,
                                 float alpha, const float* __restrict__ B, float* __restrict__ C) {
  const int lane = threadIdx.x % kWarpSize;
  const i64 warps = static_cast<i64>(gridDim.x) * (blockDim.x / kWarpSize);
  for (i64 i = static_cast<i64>(blockIdx.x) * (blockDim.x / kWarpSize) + threadIdx.x / kWarpSize;
       i < m; i += warps) {
    const i64 begin = indptr[i], end = indptr[i + 1];
    for (i64 j0 = 0; j0 < n; j0 += kWarpSize) {
      const i64 j = j0 + lane;
      float acc = 0.0f;
      if (j < n) {
        for (i64 p = begin; p < end; ++p) {
          acc += alpha * data[p] * B[static_cast<i64>(indices[p]) * n + j];
        }
        C[i * n + j] += acc;  // C already holds β·C
      }
    }
  }
}

template <class Index>
__global__ void spmm_t_rows_kernel(i64 m, i64 n, const i64* __restrict__ indptr,
                                   const Index* __restrict__ indices,
                                   const float* __restrict__ data, float alpha,
                                   const float* __restrict__ B, float* __restrict__ C) {
  const int lane = threadIdx.x % kWarpSize;
  const i64 warps = static_cast<i64>(gridDim.x) * (blockDim.x / kWarpSize);
  for (i64 i = static_cast<i64>(blockIdx.x) * (blockDim.x / kWarpSize) + threadIdx.x / kWarpSize;
       i < m; i += warps) {
    for (i64 p = indptr[i]; p < indptr[i + 1]; ++p) {
      const float a = alpha * data[p];
      float* c = C + static_cast<i64>(indices[p]) * n;
      for (i64 j = lane; j < n; j += kWarpSize) atomicAdd(c + j, a * B[i * n + j]);
    }
  }
}

template <class Index>
void launch(bool trans, i64 m, i64 n, const i64* indptr, const Index* indices, const float* data,
            float alpha, const float* B, float* C, cudaStream_t stream) {
  constexpr int kThreads = 256;  // 8 warps, one row each per step
  const unsigned grid = grid_for(m * kWarpSize, kThreads);
  if (trans) {
    spmm_t_rows_kernel<Index>
        <<<grid, kThreads, 0, stream>>>(m, n, indptr, indices, data, alpha, B, C);
  } else {
    spmm_rows_kernel<Index>
        <<<grid, kThreads, 0, stream>>>(m, n, indptr, indices, data, alpha, B, C);
  }
}

}  // namespace

void spmm(bool trans, i64 a_rows, i64 c_rows, i64 n, const i64* indptr, const void* indices,
          bool indices_i64, const float* data, float alpha, const float* B, float beta, float* C,
          cudaStream_t stream) {
  if (c_rows * n > 0 && beta != 1.0f) {
    scale_kernel<<<grid_for(c_rows * n, 256), 256, 0, stream>>>(c_rows * n, beta, C);
    MLCORE_CUDA_CHECK_LAUNCH();
  }
  if (a_rows == 0 || n == 0) return;
  if (indices_i64) {
    launch(trans, a_rows, n, indptr, static_cast<const i64*>(indices), data, alpha, B, C, stream);
  } else {
    launch(trans, a_rows, n, indptr, static_cast<const std::int32_t*>(indices), data, alpha, B, C,
           stream);
  }
  MLCORE_CUDA_CHECK_LAUNCH();
}

}  // namespace mlcore::cuda
