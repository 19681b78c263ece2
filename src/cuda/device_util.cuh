// Small device-side helpers shared by the kernels (included by .cu files only).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "cuda_check.hpp"

namespace mlcore::cuda {

constexpr unsigned kFullMask = 0xffffffffu;
constexpr int kWarpSize = 32;

template <class T>
__host__ __device__ constexpr T ceil_div(T a, T b) {
  return (a + b - 1) / b;
}

// True when p is aligned to `bytes` (for choosing float4 / 16-byte paths).
inline bool is_aligned(const void* p, std::uintptr_t bytes) {
  return reinterpret_cast<std::uintptr_t>(p) % bytes == 0;
}

// Multiprocessors of the current device: grids of grid-stride kernels are sized from it.
inline int current_sm_count() {
  int device = 0, sms = 0;
  MLCORE_CUDA_CHECK(cudaGetDevice(&device));
  MLCORE_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  return sms;
}

// Blocks for a grid-stride loop over `work` items: enough to fill every SM several times over,
// no more (each extra block only adds launch and tail cost).
inline unsigned grid_for(std::int64_t work, int threads, int blocks_per_sm = 8) {
  const std::int64_t needed = ceil_div<std::int64_t>(work, threads);
  const std::int64_t cap = static_cast<std::int64_t>(current_sm_count()) * blocks_per_sm;
  const std::int64_t blocks = needed < cap ? needed : cap;
  return static_cast<unsigned>(blocks < 1 ? 1 : blocks);
}

// The order of argmin and top-k on every backend (src/cpu/row_select.hpp): smaller value first,
// NaN after every number, ties to the lower index.
__device__ __forceinline__ bool select_before(float a, int ia, float b, int ib) {
  const bool a_nan = isnan(a), b_nan = isnan(b);
  if (a_nan != b_nan) return b_nan;
  if (!a_nan && a != b) return a < b;
  return ia < ib;
}

// One 64-bit key per (value, index) whose unsigned order is select_before's order: the float
// mapped to an order-preserving uint32 in the high half (NaN → largest, −0 → +0, so that −0 and
// +0 tie like they compare), the column index in the low half.
__device__ __forceinline__ unsigned long long select_key(float v, std::int32_t index) {
  unsigned u;
  if (isnan(v)) {
    u = 0xffffffffu;
  } else {
    const unsigned bits = __float_as_uint(v == 0.0f ? 0.0f : v);
    u = (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
  }
  return (static_cast<unsigned long long>(u) << 32) | static_cast<unsigned>(index);
}

__device__ __forceinline__ float warp_sum(float v) {
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2) {
    v += __shfl_xor_sync(kFullMask, v, offset);
  }
  return v;
}

__device__ __forceinline__ double warp_sum(double v) {
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2) {
    v += __shfl_xor_sync(kFullMask, v, offset);
  }
  return v;
}

// max that ignores NaN like std::max(running, x) with running never NaN (fmaxf's rule).
__device__ __forceinline__ float warp_max(float v) {
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2) {
    v = fmaxf(v, __shfl_xor_sync(kFullMask, v, offset));
  }
  return v;
}

}  // namespace mlcore::cuda
