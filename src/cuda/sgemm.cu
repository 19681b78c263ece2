// f32 GEMM on CUDA cores, as a ladder of four kernels (STYLE.md 2). Each step keeps the
// arithmetic of the one before (the same FMAs, the same f32 accumulation along k) and changes
// only how operands travel from DRAM to the FMA units:
//
//   1. naive             one thread per C[i, j], consecutive threads on consecutive rows i.
//                        A warp's 32 loads of A[i, p] are 32 different rows: 32 sectors per
//                        request, and C is written the same way. Expected: ~1-2% of peak.
//   2. coalesced         consecutive threads on consecutive columns j. A warp now reads 128
//                        contiguous bytes of B and writes 128 of C; A[i, p] is one broadcast.
//                        Expected: several times step 1, still bound by L1/L2 traffic.
//   3. shared_tiles      32×32 tiles of op(A) and op(B) staged in shared memory; each global
//                        element is loaded once per tile instead of once per output, so DRAM
//                        and L2 traffic drop 32×. Now bound by shared-memory bandwidth (two
//                        LDS per FMA). Expected: ~15-25% of peak.
//   4. register_blocked  sgemm_tile.cuh: 128×128 block tiles, 8×8 outputs per thread (16 FMAs
//                        per loaded float), float4 loads, double-buffered shared memory.
//                        Expected: 65-85% of peak, the library path.
//
// op(A)(i, p) = trans_a ? A[p·lda + i] : A[i·lda + p]  (m × k)
// op(B)(p, j) = trans_b ? B[j·ldb + p] : B[p·ldb + j]  (k × n)
// C[i, j] = α·Σ_p op(A)(i, p)·op(B)(p, j) + β·C[i, j]   (β = 0: C is not read)
#include "device_util.cuh"
#include "kernels.hpp"
#include "sgemm_tile.cuh"

namespace mlcore::cuda {

namespace {

struct Operands {
  bool ta, tb;
  i64 m, n, k;
  float alpha, beta;
  const float* A;
  i64 lda;
  const float* B;
  i64 ldb;
  float* C;
  i64 ldc;

  __device__ float a(i64 i, i64 p) const { return ta ? A[p * lda + i] : A[i * lda + p]; }
  __device__ float b(i64 p, i64 j) const { return tb ? B[j * ldb + p] : B[p * ldb + j]; }
  __device__ void store(i64 i, i64 j, float sum) const {
    float& c = C[i * ldc + j];
    c = beta == 0.0f ? alpha * sum : fmaf(beta, c, alpha * sum);
  }
};

// ---- step 1: naive ------------------------------------------------------------------------
// grid (ceil(m/32), ceil(n/8)), block (32, 8): threadIdx.x → row i.
__global__ void sgemm_naive_kernel(Operands o) {
  const i64 i = static_cast<i64>(blockIdx.x) * blockDim.x + threadIdx.x;
  const i64 j = static_cast<i64>(blockIdx.y) * blockDim.y + threadIdx.y;
  if (i >= o.m || j >= o.n) return;
  float sum = 0.0f;
  for (i64 p = 0; p < o.k; ++p) sum = fmaf(o.a(i, p), o.b(p, j), sum);
  o.store(i, j, sum);
}

// ---- step 2: coalesced --------------------------------------------------------------------
// grid (ceil(n/32), ceil(m/8)), block (32, 8): threadIdx.x → column j, so a warp's accesses to
// B[p, j..j+31] and C[i, j..j+31] are 128 contiguous bytes and A[i, p] is one broadcast.
__global__ void sgemm_coalesced_kernel(Operands o) {
  const i64 j = static_cast<i64>(blockIdx.x) * blockDim.x + threadIdx.x;
  const i64 i = static_cast<i64>(blockIdx.y) * blockDim.y + threadIdx.y;
  if (i >= o.m || j >= o.n) return;
  float sum = 0.0f;
  for (i64 p = 0; p < o.k; ++p) sum = fmaf(o.a(i, p), o.b(p, j), sum);
  o.store(i, j, sum);
}

// ---- step 3: shared-memory tiles ------------------------------------------------------------
// grid (ceil(n/32), ceil(m/32)), block (32, 32): thread (ty, tx) owns C[m0+ty, n0+tx].
//   As (32, 32+1) = op(A)[m0.., k0..]   Bs (32, 32+1) = op(B)[k0.., n0..]
// Each operand is read along its contiguous dimension (the transposed cases load with the
// thread roles swapped), and the +1 column keeps those transposing stores conflict-free.
constexpr int kTile = 32;

__global__ void sgemm_shared_tiles_kernel(Operands o) {
  __shared__ float As[kTile][kTile + 1];
  __shared__ float Bs[kTile][kTile + 1];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const i64 m0 = static_cast<i64>(blockIdx.y) * kTile, n0 = static_cast<i64>(blockIdx.x) * kTile;
  float sum = 0.0f;
  for (i64 k0 = 0; k0 < o.k; k0 += kTile) {
    // op(A) tile: As[i][p] = op(A)(m0+i, k0+p); a warp (fixed ty) reads along the stored row.
    if (o.ta) {  // stored k × m: contiguous along i
      const i64 p = k0 + ty, i = m0 + tx;
      As[tx][ty] = (p < o.k && i < o.m) ? o.A[p * o.lda + i] : 0.0f;
    } else {
      const i64 i = m0 + ty, p = k0 + tx;
      As[ty][tx] = (i < o.m && p < o.k) ? o.A[i * o.lda + p] : 0.0f;
    }
    // op(B) tile: Bs[p][j] = op(B)(k0+p, n0+j).
    if (o.tb) {  // stored n × k: contiguous along p
      const i64 j = n0 + ty, p = k0 + tx;
      Bs[tx][ty] = (j < o.n && p < o.k) ? o.B[j * o.ldb + p] : 0.0f;
    } else {
      const i64 p = k0 + ty, j = n0 + tx;
      Bs[ty][tx] = (p < o.k && j < o.n) ? o.B[p * o.ldb + j] : 0.0f;
    }
    __syncthreads();
#pragma unroll
    for (int p = 0; p < kTile; ++p) sum = fmaf(As[ty][p], Bs[p][tx], sum);
    __syncthreads();  // before the next tile overwrites As/Bs
  }
  const i64 i = m0 + ty, j = n0 + tx;
  if (i < o.m && j < o.n) o.store(i, j, sum);
}

// ---- step 4: register blocking, float4 loads, double buffering (the library path) -----------
// grid (ceil(m/128), ceil(n/128)), 256 threads; see sgemm_tile.cuh for the main loop.
using Gemm128 = tile::RegisterTile<128, 128, 8>;

template <bool TA, bool TB, bool kVec>
__global__ void __launch_bounds__(Gemm128::kThreads, 2) sgemm_register_blocked_kernel(Operands o) {
  using Cfg = Gemm128;
  const i64 m0 = static_cast<i64>(blockIdx.x) * Cfg::BM;
  const i64 n0 = static_cast<i64>(blockIdx.y) * Cfg::BN;
  const tile::ThreadPlace<Cfg> place;
  float acc[8][8];
  tile::NoNorms no_norms;
  tile::mainloop<Cfg, TA, TB, kVec>(o.A, o.lda, o.B, o.ldb, o.m, o.n, o.k, m0, n0, place, acc,
                                    no_norms);
  // Epilogue: C = α·acc + β·C, as two float4 per row (8 lanes write 128 contiguous bytes).
#pragma unroll
  for (int i = 0; i < 8; ++i) {
    const i64 row = m0 + place.row(i);
    if (row >= o.m) continue;
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const i64 col = n0 + place.col(4 * h);
      float* c = o.C + row * o.ldc + col;
      float v[4];
#pragma unroll
      for (int e = 0; e < 4; ++e) v[e] = o.alpha * acc[i][4 * h + e];
      if (kVec && col + 3 < o.n) {
        if (o.beta != 0.0f) {
          const float4 old = *reinterpret_cast<const float4*>(c);
          v[0] = fmaf(o.beta, old.x, v[0]);
          v[1] = fmaf(o.beta, old.y, v[1]);
          v[2] = fmaf(o.beta, old.z, v[2]);
          v[3] = fmaf(o.beta, old.w, v[3]);
        }
        *reinterpret_cast<float4*>(c) = make_float4(v[0], v[1], v[2], v[3]);
      } else {
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          if (col + e < o.n) c[e] = o.beta == 0.0f ? v[e] : fmaf(o.beta, c[e], v[e]);
        }
      }
    }
  }
}

template <bool TA, bool TB>
void launch_register_blocked(const Operands& o, bool vec, cudaStream_t stream) {
  const dim3 grid(static_cast<unsigned>(ceil_div<i64>(o.m, Gemm128::BM)),
                  static_cast<unsigned>(ceil_div<i64>(o.n, Gemm128::BN)));
  if (vec) {
    sgemm_register_blocked_kernel<TA, TB, true><<<grid, Gemm128::kThreads, 0, stream>>>(o);
  } else {
    sgemm_register_blocked_kernel<TA, TB, false><<<grid, Gemm128::kThreads, 0, stream>>>(o);
  }
}

}  // namespace

const char* sgemm_step_name(SgemmStep step) {
  switch (step) {
    case SgemmStep::naive:
      return "naive";
    case SgemmStep::coalesced:
      return "coalesced";
    case SgemmStep::shared_tiles:
      return "shared_tiles";
    case SgemmStep::register_blocked:
      return "register_blocked";
  }
  return "?";
}

void sgemm(SgemmStep step, bool trans_a, bool trans_b, i64 m, i64 n, i64 k, float alpha,
           const float* A, i64 lda, const float* B, i64 ldb, float beta, float* C, i64 ldc,
           cudaStream_t stream) {
  if (m == 0 || n == 0) return;
  const Operands o{trans_a, trans_b, m, n, k, alpha, beta, A, lda, B, ldb, C, ldc};
  // gridDim.y is limited to 65535 blocks (gridDim.x to 2^31 - 1).
  auto grid = [&](i64 x, i64 y) {
    MLCORE_CHECK(y <= 65535, "sgemm (" << sgemm_step_name(step) << "): " << m << "x" << n
                                       << " needs " << y << " blocks in y, more than 65535");
    return dim3(static_cast<unsigned>(x), static_cast<unsigned>(y));
  };
  switch (step) {
    case SgemmStep::naive: {
      sgemm_naive_kernel<<<grid(ceil_div<i64>(m, 32), ceil_div<i64>(n, 8)), dim3(32, 8), 0,
                           stream>>>(o);
      break;
    }
    case SgemmStep::coalesced: {
      sgemm_coalesced_kernel<<<grid(ceil_div<i64>(n, 32), ceil_div<i64>(m, 8)), dim3(32, 8), 0,
                               stream>>>(o);
      break;
    }
    case SgemmStep::shared_tiles: {
      sgemm_shared_tiles_kernel<<<grid(ceil_div<i64>(n, kTile), ceil_div<i64>(m, kTile)),
                                  dim3(kTile, kTile), 0, stream>>>(o);
      break;
    }
    case SgemmStep::register_blocked: {
      // float4 paths need every row stride to be a multiple of 4 floats and 16-byte bases.
      grid(1, ceil_div<i64>(n, Gemm128::BN));  // checks the y extent
      const bool vec = lda % 4 == 0 && ldb % 4 == 0 && ldc % 4 == 0 && is_aligned(A, 16) &&
                       is_aligned(B, 16) && is_aligned(C, 16);
      if (!trans_a && !trans_b) launch_register_blocked<false, false>(o, vec, stream);
      if (!trans_a && trans_b) launch_register_blocked<false, true>(o, vec, stream);
      if (trans_a && !trans_b) launch_register_blocked<true, false>(o, vec, stream);
      if (trans_a && trans_b) launch_register_blocked<true, true>(o, vec, stream);
      break;
    }
  }
  MLCORE_CUDA_CHECK_LAUNCH();
}

}  // namespace mlcore::cuda
