// The small element-wise updates: fill, axpby, multiply, add_row_vector, scale_rows. Each is
// one pass over memory with one or two flops per element, so each is a grid-stride loop sized
// to fill the SMs a few times over (more blocks would only add scheduling cost), reading and
// writing consecutive addresses across a warp (128-byte transactions).
#include "device_util.cuh"
#include "kernels.hpp"

namespace mlcore::cuda {

namespace {

constexpr int kThreads = 256;

#define MLCORE_GRID_STRIDE(i, count)                                                 \
  for (i64 i = static_cast<i64>(blockIdx.x) * blockDim.x + threadIdx.x; i < (count); \
       i += static_cast<i64>(gridDim.x) * blockDim.x)

template <class T>
__global__ void fill_kernel(i64 count, T* y, T value) {
  MLCORE_GRID_STRIDE(i, count) y[i] = value;
}

// y = α·x + β·y; β = 0 ignores y (NaN included).
__global__ void axpby_kernel(i64 count, float alpha, const float* x, float beta, float* y) {
  MLCORE_GRID_STRIDE(i, count) y[i] = beta == 0.0f ? alpha * x[i] : fmaf(beta, y[i], alpha * x[i]);
}

__global__ void multiply_kernel(i64 count, const float* x, float* y) {
  MLCORE_GRID_STRIDE(i, count) y[i] *= x[i];
}

// Y[i, j] += α·v[j]: the flat index's column is i % n (v stays in L1).
__global__ void add_row_vector_kernel(i64 count, i64 n, float alpha, const float* __restrict__ v,
                                      float* __restrict__ Y) {
  MLCORE_GRID_STRIDE(i, count) Y[i] += alpha * v[i % n];
}

// Y[i, j] *= w[i].
__global__ void scale_rows_kernel(i64 count, i64 n, const float* __restrict__ w,
                                  float* __restrict__ Y) {
  MLCORE_GRID_STRIDE(i, count) Y[i] *= w[i / n];
}

#undef MLCORE_GRID_STRIDE

}  // namespace

void fill(i64 count, float* y, float value, cudaStream_t stream) {
  if (count == 0) return;
  fill_kernel<float><<<grid_for(count, kThreads), kThreads, 0, stream>>>(count, y, value);
  MLCORE_CUDA_CHECK_LAUNCH();
}

void fill(i64 count, std::int32_t* y, std::int32_t value, cudaStream_t stream) {
  if (count == 0) return;
  fill_kernel<std::int32_t><<<grid_for(count, kThreads), kThreads, 0, stream>>>(count, y, value);
  MLCORE_CUDA_CHECK_LAUNCH();
}

void fill(i64 count, std::int64_t* y, std::int64_t value, cudaStream_t stream) {
  if (count == 0) return;
  fill_kernel<std::int64_t><<<grid_for(count, kThreads), kThreads, 0, stream>>>(count, y, value);
  MLCORE_CUDA_CHECK_LAUNCH();
}

void axpby(i64 count, float alpha, const float* x, float beta, float* y, cudaStream_t stream) {
  if (count == 0) return;
  axpby_kernel<<<grid_for(count, kThreads), kThreads, 0, stream>>>(count, alpha, x, beta, y);
  MLCORE_CUDA_CHECK_LAUNCH();
}

void multiply(i64 count, const float* x, float* y, cudaStream_t stream) {
  if (count == 0) return;
  multiply_kernel<<<grid_for(count, kThreads), kThreads, 0, stream>>>(count, x, y);
  MLCORE_CUDA_CHECK_LAUNCH();
}

void add_row_vector(i64 m, i64 n, float alpha, const float* v, float* Y, cudaStream_t stream) {
  const i64 count = m * n;
  if (count == 0) return;
  add_row_vector_kernel<<<grid_for(count, kThreads), kThreads, 0, stream>>>(count, n, alpha, v, Y);
  MLCORE_CUDA_CHECK_LAUNCH();
}

void scale_rows(i64 m, i64 n, const float* w, float* Y, cudaStream_t stream) {
  const i64 count = m * n;
  if (count == 0) return;
  scale_rows_kernel<<<grid_for(count, kThreads), kThreads, 0, stream>>>(count, n, w, Y);
  MLCORE_CUDA_CHECK_LAUNCH();
}

}  // namespace mlcore::cuda
