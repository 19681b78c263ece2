// Index validation on the device: scatter_add and gather_rows take index tensors that live on
// the GPU, so Backend's host-side range checks cannot see them. A kernel finds the first
// offending entry (atomicMin on its position, so "first" is well defined however the blocks
// are scheduled) and the host turns it into the same mlcore::Error the CPU backends raise,
// before any output is touched.
#include <climits>

#include "device_util.cuh"
#include "kernels.hpp"

namespace mlcore::cuda {

namespace {

__global__ void find_bad_index_kernel(const std::int32_t* __restrict__ index, i64 count,
                                      std::int32_t lo, std::int32_t hi, bool negative_ok,
                                      unsigned long long* __restrict__ first_bad) {
  for (i64 i = static_cast<i64>(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += static_cast<i64>(gridDim.x) * blockDim.x) {
    const std::int32_t v = index[i];
    const bool ok = (v >= lo && v < hi) || (negative_ok && v < 0);
    if (!ok) atomicMin(first_bad, static_cast<unsigned long long>(i));
  }
}

}  // namespace

void find_bad_index_async(const std::int32_t* index, i64 count, std::int32_t lo, std::int32_t hi,
                          bool negative_ok, unsigned long long* first_bad, cudaStream_t stream) {
  if (count == 0) return;
  find_bad_index_kernel<<<grid_for(count, 256), 256, 0, stream>>>(index, count, lo, hi, negative_ok,
                                                                  first_bad);
  MLCORE_CUDA_CHECK_LAUNCH();
}

BadIndex find_bad_index(const std::int32_t* index, i64 count, std::int32_t lo, std::int32_t hi,
                        bool negative_ok, cudaStream_t stream, Workspace& workspace) {
  BadIndex result;
  if (count == 0) return result;
  auto* first_bad = workspace.alloc<unsigned long long>(1);
  MLCORE_CUDA_CHECK(cudaMemsetAsync(first_bad, 0xff, sizeof(unsigned long long), stream));
  find_bad_index_async(index, count, lo, hi, negative_ok, first_bad, stream);
  unsigned long long position = 0;
  MLCORE_CUDA_CHECK(
      cudaMemcpyAsync(&position, first_bad, sizeof(position), cudaMemcpyDeviceToHost, stream));
  MLCORE_CUDA_CHECK(cudaStreamSynchronize(stream));
  if (position == ~0ull) return result;
  result.found = true;
  result.position = static_cast<i64>(position);
  MLCORE_CUDA_CHECK(cudaMemcpyAsync(&result.value, index + position, sizeof(std::int32_t),
                                    cudaMemcpyDeviceToHost, stream));
  MLCORE_CUDA_CHECK(cudaStreamSynchronize(stream));
  return result;
}

}  // namespace mlcore::cuda
