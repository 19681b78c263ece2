// loss_gradients: gradient boosting's per-sample gradients and hessians (Backend::
// loss_gradients), one thread per sample, in double.
//
// Each thread computes its sample's K gradients with the reference's formula, in the same
// order (src/cpu/loss_gradients.cpp); the class ranges (max |g|, max h) are reduced per block
// in shared memory and then with one atomicMax per block and class. The values are
// non-negative doubles, whose IEEE bit patterns order as unsigned integers, so the maximum
// is an integer atomicMax on the bits: exact, and the same whatever the blocks' order.
// CUDA's exp is not the C library's (both are within 1 ulp, not always the same ulp), so
// g and h can differ from the CPU backends' in their last bit; the quantized histograms
// then usually, not always, pick the same splits.
#include "device_util.cuh"
#include "kernels.hpp"

namespace mlcore::cuda {

namespace {

constexpr int kThreads = 128;

__device__ __forceinline__ void atomic_max_nonneg(double* address, double value) {
  atomicMax(reinterpret_cast<unsigned long long*>(address),
            static_cast<unsigned long long>(__double_as_longlong(value)));
}

// One sample per thread; each block keeps class k's maxima in shared memory (K ≤ kMaxClasses
// there; more classes go straight to the global atomics).
constexpr int kMaxClasses = 32;

__global__ void loss_gradients_kernel(GradientLoss loss, i64 n, i64 K, const double* __restrict__ y,
                                      const double* __restrict__ raw, const double* __restrict__ w,
                                      double* __restrict__ g, double* __restrict__ h,
                                      double* __restrict__ ranges) {
  __shared__ unsigned long long block_g[kMaxClasses], block_h[kMaxClasses];
  const bool shared_ranges = K <= kMaxClasses;
  if (shared_ranges) {
    for (int k = threadIdx.x; k < K; k += blockDim.x) block_g[k] = block_h[k] = 0ull;
  }
  __syncthreads();
  const i64 i = static_cast<i64>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) {
    const double* r = raw + i * K;
    double* gi = g + i * K;
    double* hi = h != nullptr ? h + i * K : nullptr;
    if (loss == GradientLoss::squared_error) {
      gi[0] = r[0] - y[i];
      if (hi != nullptr) hi[0] = 1.0;
    } else if (loss == GradientLoss::binary_log_loss) {
      const double p = 1.0 / (1.0 + exp(-r[0]));
      gi[0] = p - y[i];
      hi[0] = p * (1.0 - p);
    } else if (loss == GradientLoss::half_poisson) {
      const double e = exp(r[0]);
      gi[0] = e - y[i];
      hi[0] = e;
    } else if (loss == GradientLoss::half_gamma) {
      const double e = __dmul_rn(y[i], exp(-r[0]));  // _rn: as the CPU's y·e^−raw, unfused
      gi[0] = 1.0 - e;
      hi[0] = e;
    } else {
      double mx = r[0];
      for (i64 k = 1; k < K; ++k) mx = fmax(mx, r[k]);
      double s = 0;
      for (i64 k = 0; k < K; ++k) s += exp(r[k] - mx);
      const i64 label = static_cast<i64>(y[i]);
      for (i64 k = 0; k < K; ++k) {
        const double p = exp(r[k] - mx) / s;
        gi[k] = p - (label == k ? 1.0 : 0.0);
        hi[k] = p * (1.0 - p);
      }
    }
    for (i64 k = 0; k < K; ++k) {
      if (w != nullptr) {
        gi[k] = __dmul_rn(gi[k], w[i]);  // _rn: no contraction with a neighbouring add
        hi[k] = loss == GradientLoss::squared_error ? w[i] : __dmul_rn(hi[k], w[i]);
      }
      const unsigned long long gb = __double_as_longlong(fabs(gi[k]));
      const unsigned long long hb = hi != nullptr ? __double_as_longlong(hi[k]) : 0ull;
      if (shared_ranges) {
        atomicMax(&block_g[k], gb);
        if (hi != nullptr) atomicMax(&block_h[k], hb);
      } else {
        atomic_max_nonneg(ranges + k, fabs(gi[k]));
        if (hi != nullptr) atomic_max_nonneg(ranges + K + k, hi[k]);
      }
    }
  }
  __syncthreads();
  if (shared_ranges) {
    for (int k = threadIdx.x; k < K; k += blockDim.x) {
      atomicMax(reinterpret_cast<unsigned long long*>(ranges + k), block_g[k]);
      atomicMax(reinterpret_cast<unsigned long long*>(ranges + K + k), block_h[k]);
    }
  }
}

__global__ void init_ranges_kernel(i64 K, double h_start, double* ranges) {
  for (i64 k = threadIdx.x; k < K; k += blockDim.x) {
    ranges[k] = 0.0;
    ranges[K + k] = h_start;
  }
}

}  // namespace

void loss_gradients(GradientLoss loss, i64 n, i64 K, const double* y, const double* raw,
                    const double* w, double* g, double* h, double* ranges, cudaStream_t stream) {
  // The unstored unit hessian of unweighted squared error has range 1.
  init_ranges_kernel<<<1, 32, 0, stream>>>(K, h == nullptr ? 1.0 : 0.0, ranges);
  MLCORE_CUDA_CHECK_LAUNCH();
  if (n == 0) return;
  const unsigned blocks = static_cast<unsigned>((n + kThreads - 1) / kThreads);
  loss_gradients_kernel<<<blocks, kThreads, 0, stream>>>(loss, n, K, y, raw, w, g, h, ranges);
  MLCORE_CUDA_CHECK_LAUNCH();
}

}  // namespace mlcore::cuda
