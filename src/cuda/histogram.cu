// histogram: for each listed row r = rows[k] and each wanted feature p (offsets[p] ≥ 0),
//   out[offsets[p] + codes[r, p], :] += X[r, :]          (codes read as unsigned bytes)
// the fused gather + scatter of a histogram tree's node.
//
// One rung only, the plainest correct kernel: threads walk the flat (listed row, feature,
// column) space — consecutive threads take consecutive columns of one row, then the next
// feature — and each adds its element with a float atomicAdd (RED.ADD.F32 at the L2). The
// order in which atomics land varies between runs, so general f32 sums may differ in their
// last bits from run to run; the trees only ever add integers below 2^24, whose sums are
// exact in any order (src/algorithms/trees/tree_histogram.hpp), so their histograms are the same
// bits on every run and every backend. (scatter_add.cu shows the deterministic, warp-private
// alternative; a tree does not need it.) i64 statistics add with a 64-bit integer atomicAdd
// (on unsigned long long: wrapping, the two's complement bits of the signed sums), exact in
// any order.
//
// find_bad_bin is the device-side version of Backend::histogram's host range check.
#include "device_util.cuh"
#include "kernels.hpp"

namespace mlcore::cuda {

namespace {

template <class T>  // float or unsigned long long
__global__ void __launch_bounds__(256)
    histogram_atomic_kernel(i64 m, i64 P, i64 c, const std::uint8_t* __restrict__ codes,
                            const std::int32_t* __restrict__ offsets,
                            const std::int32_t* __restrict__ rows, const T* __restrict__ X,
                            T* __restrict__ out) {
  const i64 count = m * P * c;
  for (i64 e = static_cast<i64>(blockIdx.x) * blockDim.x + threadIdx.x; e < count;
       e += static_cast<i64>(gridDim.x) * blockDim.x) {
    const i64 k = e / (P * c), rest = e - k * P * c;
    const i64 p = rest / c, j = rest - p * c;
    const std::int32_t offset = offsets[p];
    if (offset < 0) continue;  // feature not wanted
    const i64 r = rows[k];
    const i64 bin = static_cast<i64>(offset) + codes[r * P + p];
    atomicAdd(&out[bin * c + j], X[r * c + j]);
  }
}

// The first (k, p) (by flat position k·P + p) whose bin offsets[p] + codes[rows[k], p] is ≥
// bins, for a wanted feature. rows are checked in range before this runs.
__global__ void find_bad_bin_kernel(i64 m, i64 P, const std::uint8_t* __restrict__ codes,
                                    const std::int32_t* __restrict__ offsets,
                                    const std::int32_t* __restrict__ rows, i64 bins,
                                    unsigned long long* __restrict__ first_bad) {
  const i64 count = m * P;
  for (i64 e = static_cast<i64>(blockIdx.x) * blockDim.x + threadIdx.x; e < count;
       e += static_cast<i64>(gridDim.x) * blockDim.x) {
    const i64 k = e / P, p = e - k * P;
    const std::int32_t offset = offsets[p];
    if (offset < 0) continue;
    const i64 bin = static_cast<i64>(offset) + codes[static_cast<i64>(rows[k]) * P + p];
    if (bin >= bins) atomicMin(first_bad, static_cast<unsigned long long>(e));
  }
}

}  // namespace

BadBin find_bad_bin(i64 m, i64 P, const std::uint8_t* codes, const std::int32_t* offsets,
                    const std::int32_t* rows, i64 bins, cudaStream_t stream, Workspace& workspace) {
  BadBin result;
  if (m == 0 || P == 0) return result;
  auto* first_bad = workspace.alloc<unsigned long long>(1);
  MLCORE_CUDA_CHECK(cudaMemsetAsync(first_bad, 0xff, sizeof(unsigned long long), stream));
  find_bad_bin_kernel<<<grid_for(m * P, 256), 256, 0, stream>>>(m, P, codes, offsets, rows, bins,
                                                                first_bad);
  MLCORE_CUDA_CHECK_LAUNCH();
  unsigned long long position = 0;
  MLCORE_CUDA_CHECK(
      cudaMemcpyAsync(&position, first_bad, sizeof(position), cudaMemcpyDeviceToHost, stream));
  MLCORE_CUDA_CHECK(cudaStreamSynchronize(stream));
  if (position == ~0ull) return result;
  result.found = true;
  result.k = static_cast<i64>(position) / P;
  result.p = static_cast<i64>(position) % P;
  // The offending row id, offset and code, for the message.
  MLCORE_CUDA_CHECK(cudaMemcpyAsync(&result.row, rows + result.k, sizeof(std::int32_t),
                                    cudaMemcpyDeviceToHost, stream));
  MLCORE_CUDA_CHECK(cudaMemcpyAsync(&result.offset, offsets + result.p, sizeof(std::int32_t),
                                    cudaMemcpyDeviceToHost, stream));
  MLCORE_CUDA_CHECK(cudaStreamSynchronize(stream));
  MLCORE_CUDA_CHECK(cudaMemcpyAsync(&result.code,
                                    codes + static_cast<i64>(result.row) * P + result.p,
                                    sizeof(std::uint8_t), cudaMemcpyDeviceToHost, stream));
  MLCORE_CUDA_CHECK(cudaStreamSynchronize(stream));
  return result;
}

void histogram(i64 m, i64 P, i64 c, const std::uint8_t* codes, const std::int32_t* offsets,
               const std::int32_t* rows, const float* X, float* out, cudaStream_t stream) {
  if (m == 0 || P == 0 || c == 0) return;
  histogram_atomic_kernel<float>
      <<<grid_for(m * P * c, 256), 256, 0, stream>>>(m, P, c, codes, offsets, rows, X, out);
  MLCORE_CUDA_CHECK_LAUNCH();
}

void histogram(i64 m, i64 P, i64 c, const std::uint8_t* codes, const std::int32_t* offsets,
               const std::int32_t* rows, const std::int64_t* X, std::int64_t* out,
               cudaStream_t stream) {
  if (m == 0 || P == 0 || c == 0) return;
  using u64 = unsigned long long;
  histogram_atomic_kernel<u64><<<grid_for(m * P * c, 256), 256, 0, stream>>>(
      m, P, c, codes, offsets, rows, reinterpret_cast<const u64*>(X), reinterpret_cast<u64*>(out));
  MLCORE_CUDA_CHECK_LAUNCH();
}

}  // namespace mlcore::cuda
