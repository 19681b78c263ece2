// f32 GEMM on the tensor cores in TF32, through the WMMA API (nvcuda::wmma): the opt-in fast,
// less precise path (CudaOptions::tf32).
//
// TF32 keeps f32's 8-bit exponent but only 10 mantissa bits: each input is rounded to 11
// significant bits (relative error ≤ 2⁻¹¹), the products are exact and accumulated in f32. So a
// TF32 GEMM is as accurate as an f32 one whose inputs were perturbed by ~5e-4: fine for k-means
// assignments or kernel matrices, not for a least-squares solve. In return the tensor cores do
// m16n16k8 tiles at 8× (A100) to 16× (H100) the f32 FMA rate of the CUDA cores.
//
// WMMA hides the per-lane fragment layout that igemm_tensor_core.cu spells out with mma.sync
// and ldmatrix; compare the two to see what the API does for you.
//
// Shapes (one thread block, 4 warps in a 2 × 2 grid):
//   As (64, 16 + 4)  op(A) tile, row-major        Bs (16, 64 + 4)  op(B) tile, row-major
//   warp (32, 32) = 2 × 2 fragments of (16, 16), k-steps of 8
//   Cs (64, 64 + 4)  the accumulators, staged for the α/β epilogue and the bounds checks
#include <mma.h>

#include "device_util.cuh"
#include "kernels.hpp"
#include "launch_geometry.hpp"

namespace mlcore::cuda {

namespace {

namespace wmma = nvcuda::wmma;

constexpr int kBM = 64, kBN = 64, kBK = 16;
constexpr int kWmmaM = 16, kWmmaN = 16, kWmmaK = 8;
constexpr int kThreads = 128;  // 4 warps, 2 × 2, each (32, 32)
constexpr int kAPitch = kBK + 4, kBPitch = kBN + 4, kCPitch = kBN + 4;

static_assert(kBK % kWmmaK == 0, "whole WMMA k-steps per tile");
static_assert(kAPitch % 4 == 0 && kBPitch % 4 == 0 && kCPitch % 4 == 0,
              "wmma::load/store_matrix_sync need a leading dimension that is a multiple of 4 "
              "floats");
static_assert((kWmmaM * kAPitch * 4) % 32 == 0 && (kWmmaK * kBPitch * 4) % 32 == 0 &&
                  (kWmmaM * kCPitch * 4) % 32 == 0,
              "fragment pointers must be 32-byte aligned");
static_assert((kBM * kBK) % kThreads == 0 && (kBK * kBN) % kThreads == 0,
              "every thread loads the same number of elements");

// grid (ceil(m/64), ceil(n/64)), 128 threads.
__global__ void __launch_bounds__(kThreads)
    sgemm_tf32_kernel(bool ta, bool tb, i64 M, i64 N, i64 K, float alpha,
                      const float* __restrict__ A, i64 lda, const float* __restrict__ B, i64 ldb,
                      float beta, float* __restrict__ C, i64 ldc) {
  __shared__ __align__(128) float As[kBM][kAPitch];
  __shared__ __align__(128) float Bs[kBK][kBPitch];
  __shared__ __align__(128) float Cs[kBM][kCPitch];
  const int tid = threadIdx.x, warp = tid / kWarpSize;
  const int wm = warp / 2, wn = warp % 2;
  // Row tiles on grid.x (no M reaches its limit), column tiles on grid.y.
  const i64 m0 = static_cast<i64>(blockIdx.x) * kBM, n0 = static_cast<i64>(blockIdx.y) * kBN;

  wmma::fragment<wmma::accumulator, kWmmaM, kWmmaN, kWmmaK, float> acc[2][2];
#pragma unroll
  for (int i = 0; i < 2; ++i)
#pragma unroll
    for (int j = 0; j < 2; ++j) wmma::fill_fragment(acc[i][j], 0.0f);

  for (i64 k0 = 0; k0 < K; k0 += kBK) {
    // op(A) tile, read along whichever dimension is contiguous in memory.
    for (int e = tid; e < kBM * kBK; e += kThreads) {
      int i, p;
      if (ta) {  // A stored K × M
        i = e % kBM, p = e / kBM;
      } else {
        i = e / kBK, p = e % kBK;
      }
      const i64 gi = m0 + i, gp = k0 + p;
      float v = 0.0f;
      if (gi < M && gp < K) v = ta ? A[gp * lda + gi] : A[gi * lda + gp];
      As[i][p] = v;
    }
    for (int e = tid; e < kBK * kBN; e += kThreads) {
      int p, j;
      if (tb) {  // B stored N × K
        p = e % kBK, j = e / kBK;
      } else {
        p = e / kBN, j = e % kBN;
      }
      const i64 gp = k0 + p, gj = n0 + j;
      float v = 0.0f;
      if (gp < K && gj < N) v = tb ? B[gj * ldb + gp] : B[gp * ldb + gj];
      Bs[p][j] = v;
    }
    __syncthreads();

#pragma unroll
    for (int kk = 0; kk < kBK; kk += kWmmaK) {
      wmma::fragment<wmma::matrix_a, kWmmaM, kWmmaN, kWmmaK, wmma::precision::tf32, wmma::row_major>
          a[2];
      wmma::fragment<wmma::matrix_b, kWmmaM, kWmmaN, kWmmaK, wmma::precision::tf32, wmma::row_major>
          b[2];
#pragma unroll
      for (int i = 0; i < 2; ++i) {
        wmma::load_matrix_sync(a[i], &As[wm * 32 + i * kWmmaM][kk], kAPitch);
        // Round to nearest TF32 explicitly (the hardware would otherwise truncate).
#pragma unroll
        for (int t = 0; t < a[i].num_elements; ++t) a[i].x[t] = wmma::__float_to_tf32(a[i].x[t]);
      }
#pragma unroll
      for (int j = 0; j < 2; ++j) {
        wmma::load_matrix_sync(b[j], &Bs[kk][wn * 32 + j * kWmmaN], kBPitch);
#pragma unroll
        for (int t = 0; t < b[j].num_elements; ++t) b[j].x[t] = wmma::__float_to_tf32(b[j].x[t]);
      }
#pragma unroll
      for (int i = 0; i < 2; ++i)
#pragma unroll
        for (int j = 0; j < 2; ++j) wmma::mma_sync(acc[i][j], a[i], b[j], acc[i][j]);
    }
    __syncthreads();  // before the next tile overwrites As / Bs
  }

#pragma unroll
  for (int i = 0; i < 2; ++i)
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      wmma::store_matrix_sync(&Cs[wm * 32 + i * kWmmaM][wn * 32 + j * kWmmaN], acc[i][j], kCPitch,
                              wmma::mem_row_major);
    }
  __syncthreads();
  for (int e = tid; e < kBM * kBN; e += kThreads) {
    const int i = e / kBN, j = e % kBN;  // consecutive threads, consecutive columns
    const i64 gi = m0 + i, gj = n0 + j;
    if (gi < M && gj < N) {
      float& c = C[gi * ldc + gj];
      const float v = alpha * Cs[i][j];
      c = beta == 0.0f ? v : fmaf(beta, c, v);
    }
  }
}

}  // namespace

void sgemm_tf32(bool trans_a, bool trans_b, i64 m, i64 n, i64 k, float alpha, const float* A,
                i64 lda, const float* B, i64 ldb, float beta, float* C, i64 ldc,
                cudaStream_t stream) {
  if (m == 0 || n == 0) return;
  const i64 grid_y = ceil_div<i64>(n, kBN);
  MLCORE_CHECK(grid_y <= kMaxGridYZ, "tf32 gemm: n = " << n << " needs " << grid_y
                                                       << " column tiles, over " << kMaxGridYZ);
  const dim3 grid(static_cast<unsigned>(ceil_div<i64>(m, kBM)), static_cast<unsigned>(grid_y));
  sgemm_tf32_kernel<<<grid, kThreads, 0, stream>>>(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb,
                                                   beta, C, ldc);
  MLCORE_CUDA_CHECK_LAUNCH();
}

}  // namespace mlcore::cuda
