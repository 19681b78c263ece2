// Column reductions out[0, j] = sum / mean / population variance over the rows of X (m × n).
//
// Thread mapping as in gemv's transposed case: a block is 32 columns × 8 row-lanes, so each
// warp reads 128 contiguous bytes of a row; the rows are split over grid.y so that a tall,
// narrow matrix (a million samples of 32 features) still fills every SM. Each split writes a
// partial sum to workspace and a small kernel adds the splits in a fixed order.
//
// Accuracy: the partial sums are kept in double (the reference does the same), so a column of
// a million values near 100 keeps all of f32's digits; the variance takes two passes,
// Σ(x − mean)² / m, instead of E[x²] − E[x]², which cancels catastrophically when the mean is
// large next to the spread.
#include "device_util.cuh"
#include "kernels.hpp"

namespace mlcore::cuda {

namespace {

constexpr int kThreads = 256;  // 32 columns × 8 row-lanes

// partial[s, j] = Σ_{i in split s} (x[i, j] − center[j])^power, power 1 or 2 (center may be null).
template <int kPower>
__global__ void __launch_bounds__(kThreads)
    column_partial_kernel(i64 m, i64 n, i64 rows_per_split, const float* __restrict__ X,
                          const double* __restrict__ center, double* __restrict__ partial) {
  __shared__ double part[8][kWarpSize + 1];
  const int tx = threadIdx.x % kWarpSize, ty = threadIdx.x / kWarpSize;
  const i64 col = static_cast<i64>(blockIdx.x) * kWarpSize + tx;
  const i64 begin = static_cast<i64>(blockIdx.y) * rows_per_split;
  const i64 end = begin + rows_per_split < m ? begin + rows_per_split : m;
  double sum = 0.0;
  if (col < n) {
    const double c = center != nullptr ? center[col] : 0.0;
#pragma unroll 4
    for (i64 i = begin + ty; i < end; i += 8) {
      const double v = static_cast<double>(X[i * n + col]) - c;
      sum += kPower == 1 ? v : v * v;
    }
  }
  part[ty][tx] = sum;
  __syncthreads();
  if (ty == 0 && col < n) {
    double total = 0.0;
#pragma unroll
    for (int r = 0; r < 8; ++r) total += part[r][tx];
    partial[static_cast<i64>(blockIdx.y) * n + col] = total;
  }
}

// total[j] = Σ_s partial[s, j] / divisor; also written to out (as f32) when out is not null.
__global__ void column_finish_kernel(i64 n, i64 splits, double divisor,
                                     const double* __restrict__ partial, double* __restrict__ total,
                                     float* __restrict__ out) {
  for (i64 j = static_cast<i64>(blockIdx.x) * blockDim.x + threadIdx.x; j < n;
       j += static_cast<i64>(gridDim.x) * blockDim.x) {
    double s = 0.0;
    for (i64 r = 0; r < splits; ++r) s += partial[r * n + j];
    s /= divisor;
    total[j] = s;
    if (out != nullptr) out[j] = static_cast<float>(s);
  }
}

}  // namespace

void reduce_cols(Reduce op, i64 m, i64 n, const float* X, float* out, cudaStream_t stream,
                 Workspace& workspace) {
  if (n == 0) return;
  const i64 col_tiles = ceil_div<i64>(n, kWarpSize);
  const i64 wanted = ceil_div<i64>(4 * current_sm_count(), col_tiles);
  const i64 max_splits = ceil_div<i64>(m, 8 * 64);  // at least 64 rows per row-lane
  i64 splits = wanted < max_splits ? wanted : max_splits;
  if (splits < 1) splits = 1;
  if (splits > 65535) splits = 65535;
  const i64 rows_per_split = ceil_div<i64>(m, splits);
  splits = ceil_div<i64>(m, rows_per_split);  // m ≥ 1 (checked by Backend)
  double* partial = workspace.alloc<double>(static_cast<std::size_t>(splits * n));
  double* mean = workspace.alloc<double>(static_cast<std::size_t>(n));
  const dim3 grid(static_cast<unsigned>(col_tiles), static_cast<unsigned>(splits));
  const unsigned finish_grid = grid_for(n, 256);

  column_partial_kernel<1>
      <<<grid, kThreads, 0, stream>>>(m, n, rows_per_split, X, nullptr, partial);
  MLCORE_CUDA_CHECK_LAUNCH();
  const double divisor = op == Reduce::sum ? 1.0 : static_cast<double>(m);
  column_finish_kernel<<<finish_grid, 256, 0, stream>>>(n, splits, divisor, partial, mean,
                                                        op == Reduce::var ? nullptr : out);
  MLCORE_CUDA_CHECK_LAUNCH();
  if (op != Reduce::var) return;

  double* var = workspace.alloc<double>(static_cast<std::size_t>(n));
  column_partial_kernel<2><<<grid, kThreads, 0, stream>>>(m, n, rows_per_split, X, mean, partial);
  MLCORE_CUDA_CHECK_LAUNCH();
  column_finish_kernel<<<finish_grid, 256, 0, stream>>>(n, splits, static_cast<double>(m), partial,
                                                        var, out);
  MLCORE_CUDA_CHECK_LAUNCH();
}

}  // namespace mlcore::cuda
