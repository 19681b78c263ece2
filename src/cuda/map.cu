// Element-wise functions (map) and row softmax. Both are memory-bound: one read and one write
// per element, so the kernels are written for bandwidth — grid-stride loops over float4 chunks
// (LDG.128 / STG.128), a few blocks per SM — and the function itself is chosen at compile time
// (a template parameter, not a switch per element).
//
// The math matches src/cpu/map_scalar.hpp exactly in form, with CUDA's accurate single-
// precision functions (expf, logf, tanhf, powf, log1pf: 1-4 ulp; the build has no
// --use_fast_math, which would swap them for the ~2^-21-accurate SFU approximations).
#include "device_util.cuh"
#include "kernels.hpp"

namespace mlcore::cuda {

namespace {

template <MapFn F>
__device__ __forceinline__ float apply(float x, const MapArgs& args) {
  // __fmul_rn keeps the product a separate rounding (nvcc would otherwise contract it into an
  // FMA), so u is bit-for-bit the u of the reference.
  const float u = __fmul_rn(args.scale, x) + args.shift;
  switch (F) {
    case MapFn::identity:
      return u;
    case MapFn::exp:
      return expf(u);
    case MapFn::log:
      return logf(u);
    case MapFn::sigmoid:
      if (u >= 0.0f) return 1.0f / (1.0f + expf(-u));
      {
        const float e = expf(u);  // u < 0: e^u/(1+e^u) never overflows
        return e / (1.0f + e);
      }
    case MapFn::tanh:
      return tanhf(u);
    case MapFn::sqrt:
      return sqrtf(u);
    case MapFn::square:
      return u * u;
    case MapFn::abs:
      return fabsf(u);
    case MapFn::relu:
      return u > 0.0f ? u : 0.0f;
    case MapFn::reciprocal:
      return 1.0f / u;
    case MapFn::pow:
      return powf(u, args.exponent);
    case MapFn::log1pexp:
      return u > 0.0f ? u + log1pf(expf(-u)) : log1pf(expf(u));
  }
  return u;
}

// y[i] = f(scale·x[i] + shift). In-place (y == x) is fine: each element is read, then written,
// by the same thread. kVec: both pointers 16-byte aligned.
template <MapFn F, bool kVec>
__global__ void map_kernel(i64 count, const float* x, float* y, MapArgs args) {
  const i64 stride = static_cast<i64>(gridDim.x) * blockDim.x;
  const i64 first = static_cast<i64>(blockIdx.x) * blockDim.x + threadIdx.x;
  i64 done = 0;
  if (kVec) {
    const i64 n4 = count / 4;
    for (i64 c = first; c < n4; c += stride) {
      float4 v = reinterpret_cast<const float4*>(x)[c];
      v.x = apply<F>(v.x, args);
      v.y = apply<F>(v.y, args);
      v.z = apply<F>(v.z, args);
      v.w = apply<F>(v.w, args);
      reinterpret_cast<float4*>(y)[c] = v;
    }
    done = n4 * 4;
  }
  for (i64 i = done + first; i < count; i += stride) y[i] = apply<F>(x[i], args);
}

template <MapFn F>
void launch_map(i64 count, const float* x, float* y, MapArgs args, cudaStream_t stream) {
  const bool vec = is_aligned(x, 16) && is_aligned(y, 16);
  const unsigned grid = grid_for(vec ? ceil_div<i64>(count, 4) : count, 256);
  if (vec) {
    map_kernel<F, true><<<grid, 256, 0, stream>>>(count, x, y, args);
  } else {
    map_kernel<F, false><<<grid, 256, 0, stream>>>(count, x, y, args);
  }
}

// Row softmax, one warp per row (8 rows per block): three sweeps over the row, the last two
// served from L1/L2 for rows up to a few thousand columns.
//   mx  = max_j x[j]                 (NaN ignored, like std::max(mx, x) in the reference)
//   sum = Σ_j exp(x[j] − mx)         (accumulated in double, as the reference does)
//   y[j] = exp(x[j] − mx) / sum,  or  (x[j] − mx) − log(sum) for log_softmax
template <bool kLog>
__global__ void __launch_bounds__(256) softmax_rows_kernel(i64 m, i64 n, const float* X, float* Y) {
  const i64 row = static_cast<i64>(blockIdx.x) * 8 + threadIdx.x / kWarpSize;
  const int lane = threadIdx.x % kWarpSize;
  if (row >= m) return;  // warp-uniform
  const float* x = X + row * n;
  float* y = Y + row * n;
  float mx = -INFINITY;
  for (i64 j = lane; j < n; j += kWarpSize) mx = fmaxf(mx, x[j]);
  mx = warp_max(mx);
  double sum = 0.0;
  for (i64 j = lane; j < n; j += kWarpSize) sum += exp(static_cast<double>(x[j] - mx));
  sum = warp_sum(sum);
  const float log_sum = static_cast<float>(log(sum));
  for (i64 j = lane; j < n; j += kWarpSize) {
    const float shifted = x[j] - mx;
    y[j] = kLog ? shifted - log_sum : static_cast<float>(static_cast<double>(expf(shifted)) / sum);
  }
}

}  // namespace

void map(MapFn fn, i64 count, const float* x, float* y, MapArgs args, cudaStream_t stream) {
  if (count == 0) return;
  switch (fn) {
    case MapFn::identity:
      launch_map<MapFn::identity>(count, x, y, args, stream);
      break;
    case MapFn::exp:
      launch_map<MapFn::exp>(count, x, y, args, stream);
      break;
    case MapFn::log:
      launch_map<MapFn::log>(count, x, y, args, stream);
      break;
    case MapFn::sigmoid:
      launch_map<MapFn::sigmoid>(count, x, y, args, stream);
      break;
    case MapFn::tanh:
      launch_map<MapFn::tanh>(count, x, y, args, stream);
      break;
    case MapFn::sqrt:
      launch_map<MapFn::sqrt>(count, x, y, args, stream);
      break;
    case MapFn::square:
      launch_map<MapFn::square>(count, x, y, args, stream);
      break;
    case MapFn::abs:
      launch_map<MapFn::abs>(count, x, y, args, stream);
      break;
    case MapFn::relu:
      launch_map<MapFn::relu>(count, x, y, args, stream);
      break;
    case MapFn::reciprocal:
      launch_map<MapFn::reciprocal>(count, x, y, args, stream);
      break;
    case MapFn::pow:
      launch_map<MapFn::pow>(count, x, y, args, stream);
      break;
    case MapFn::log1pexp:
      launch_map<MapFn::log1pexp>(count, x, y, args, stream);
      break;
  }
  MLCORE_CUDA_CHECK_LAUNCH();
}

void softmax_rows(i64 m, i64 n, const float* X, float* Y, bool log, cudaStream_t stream) {
  if (m == 0 || n == 0) return;
  const unsigned grid = static_cast<unsigned>(ceil_div<i64>(m, 8));
  if (log) {
    softmax_rows_kernel<true><<<grid, 256, 0, stream>>>(m, n, X, Y);
  } else {
    softmax_rows_kernel<false><<<grid, 256, 0, stream>>>(m, n, X, Y);
  }
  MLCORE_CUDA_CHECK_LAUNCH();
}

}  // namespace mlcore::cuda
