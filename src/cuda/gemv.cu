// Matrix-vector product y ← α·op(A)·x + β·y: the memory-bound MAC. Every element of A is used
// for exactly one multiply-add, so the kernel's job is only to stream A from DRAM at full
// bandwidth (one FMA per 4 bytes: ~0.25 MAC/B against the ~20 MAC/B an H100 can do per byte of
// DRAM bandwidth). The two layouts need two different thread mappings to read A coalesced:
//
//   no transpose  y[i] = Σ_j A[i, j]·x[j]     one warp per row; the lanes stride along the row
//                                            (float4: 512 contiguous bytes per warp load), then
//                                            a shuffle tree sums the 32 partial dots.
//   transpose     y[j] = Σ_i A[i, j]·x[i]     one lane per column; a warp reads 128 contiguous
//                                            bytes of a row, 8 warps take every 8th row, and
//                                            the rows are split over grid.y so that a tall
//                                            matrix still fills every SM; the splits' partial
//                                            sums go to workspace and a second kernel adds them.
#include "device_util.cuh"
#include "kernels.hpp"

namespace mlcore::cuda {

namespace {

constexpr int kThreads = 256;
constexpr int kRowsPerBlock = kThreads / kWarpSize;  // no-transpose: one warp per row

// grid ceil(rows/8), 256 threads.
template <bool kVec>
__global__ void __launch_bounds__(kThreads)
    gemv_rows_kernel(i64 rows, i64 cols, float alpha, const float* __restrict__ A,
                     const float* __restrict__ x, float beta, float* __restrict__ y) {
  const i64 row = static_cast<i64>(blockIdx.x) * kRowsPerBlock + threadIdx.x / kWarpSize;
  const int lane = threadIdx.x % kWarpSize;
  if (row >= rows) return;  // a whole warp leaves together: the shuffles below stay full-warp
  const float* a = A + row * cols;
  float sum = 0.0f;
  if (kVec) {  // cols % 4 == 0 and aligned rows: LDG.128, 4 independent loads in flight
    const float4* a4 = reinterpret_cast<const float4*>(a);
    const float4* x4 = reinterpret_cast<const float4*>(x);
    const i64 n4 = cols / 4;
#pragma unroll 4
    for (i64 j = lane; j < n4; j += kWarpSize) {
      const float4 av = a4[j], xv = x4[j];
      sum = fmaf(av.x, xv.x, sum);
      sum = fmaf(av.y, xv.y, sum);
      sum = fmaf(av.z, xv.z, sum);
      sum = fmaf(av.w, xv.w, sum);
    }
  } else {
#pragma unroll 4
    for (i64 j = lane; j < cols; j += kWarpSize) sum = fmaf(a[j], x[j], sum);
  }
  sum = warp_sum(sum);
  if (lane == 0) y[row] = beta == 0.0f ? alpha * sum : fmaf(beta, y[row], alpha * sum);
}

// Transpose: block (32, 8) covers 32 columns; grid (ceil(cols/32), splits). Split s sums rows
// [s·rows_per_split, (s+1)·rows_per_split). With one split the result goes straight to y.
__global__ void __launch_bounds__(kThreads)
    gemv_cols_kernel(i64 rows, i64 cols, i64 rows_per_split, float alpha,
                     const float* __restrict__ A, const float* __restrict__ x, float beta,
                     float* __restrict__ y, float* __restrict__ partial) {
  __shared__ float part[8][kWarpSize + 1];
  const int tx = threadIdx.x % kWarpSize, ty = threadIdx.x / kWarpSize;
  const i64 col = static_cast<i64>(blockIdx.x) * kWarpSize + tx;
  const i64 begin = static_cast<i64>(blockIdx.y) * rows_per_split;
  const i64 end = begin + rows_per_split < rows ? begin + rows_per_split : rows;
  float sum = 0.0f;
  if (col < cols) {
#pragma unroll 4
    for (i64 i = begin + ty; i < end; i += 8) sum = fmaf(A[i * cols + col], x[i], sum);
  }
  part[ty][tx] = sum;
  __syncthreads();
  if (ty == 0 && col < cols) {
    float total = 0.0f;
#pragma unroll
    for (int r = 0; r < 8; ++r) total += part[r][tx];
    if (gridDim.y == 1) {
      y[col] = beta == 0.0f ? alpha * total : fmaf(beta, y[col], alpha * total);
    } else {
      partial[static_cast<i64>(blockIdx.y) * cols + col] = total;
    }
  }
}

// y[j] = α·Σ_s partial[s, j] + β·y[j].
__global__ void gemv_finish_kernel(i64 cols, int splits, float alpha,
                                   const float* __restrict__ partial, float beta,
                                   float* __restrict__ y) {
  for (i64 j = static_cast<i64>(blockIdx.x) * blockDim.x + threadIdx.x; j < cols;
       j += static_cast<i64>(gridDim.x) * blockDim.x) {
    float total = 0.0f;
    for (int s = 0; s < splits; ++s) total += partial[s * cols + j];
    y[j] = beta == 0.0f ? alpha * total : fmaf(beta, y[j], alpha * total);
  }
}

}  // namespace

void gemv(bool trans, i64 rows, i64 cols, float alpha, const float* A, const float* x, float beta,
          float* y, cudaStream_t stream, Workspace& workspace) {
  const i64 out_len = trans ? cols : rows;
  if (out_len == 0) return;
  if (!trans) {
    const unsigned grid = static_cast<unsigned>(ceil_div<i64>(rows, kRowsPerBlock));
    const bool vec = cols % 4 == 0 && is_aligned(A, 16) && is_aligned(x, 16);
    if (vec) {
      gemv_rows_kernel<true><<<grid, kThreads, 0, stream>>>(rows, cols, alpha, A, x, beta, y);
    } else {
      gemv_rows_kernel<false><<<grid, kThreads, 0, stream>>>(rows, cols, alpha, A, x, beta, y);
    }
    MLCORE_CUDA_CHECK_LAUNCH();
    return;
  }
  // Enough blocks for ~4 per SM, but at least 64 rows per thread-row of a split.
  const i64 col_tiles = ceil_div<i64>(cols, kWarpSize);
  const i64 wanted = ceil_div<i64>(4 * current_sm_count(), col_tiles);
  const i64 max_splits = ceil_div<i64>(rows, 8 * 64);
  i64 splits = wanted < max_splits ? wanted : max_splits;
  if (splits < 1) splits = 1;
  if (splits > 65535) splits = 65535;
  const i64 rows_per_split = ceil_div<i64>(rows, splits);
  splits = rows == 0 ? 1 : ceil_div<i64>(rows, rows_per_split);
  float* partial =
      splits > 1 ? workspace.alloc<float>(static_cast<std::size_t>(splits * cols)) : nullptr;
  const dim3 grid(static_cast<unsigned>(col_tiles), static_cast<unsigned>(splits));
  gemv_cols_kernel<<<grid, kThreads, 0, stream>>>(rows, cols, rows_per_split, alpha, A, x, beta, y,
                                                  partial);
  MLCORE_CUDA_CHECK_LAUNCH();
  if (splits > 1) {
    gemv_finish_kernel<<<grid_for(cols, kThreads), kThreads, 0, stream>>>(
        cols, static_cast<int>(splits), alpha, partial, beta, y);
    MLCORE_CUDA_CHECK_LAUNCH();
  }
}

}  // namespace mlcore::cuda
