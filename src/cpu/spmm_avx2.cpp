// The avx2 backend's sparse × dense product (Backend::spmm); compiled with -mavx2 -mfma.
//
// C (m × n) = α·A·B + β·C, A in CSR. Row i of C is a weighted sum of the rows of B that row i of
// A names: C[i, :] = Σ_p α·a_p·B[idx_p, :]. The lesson is where the time goes: each nonzero
// costs one *gathered* row of B (a random read of n floats) for n MACs, so the product is
// bound by memory latency and bandwidth, never by the FMA units — 2 flops per 4 bytes of B read,
// against the 30+ a cache-blocked dense GEMM reuses per byte. Sparsity pays on a CPU when it
// skips enough of the dense product's work to beat that: roughly below a few percent density.
//
// So the kernel keeps a 32-column strip of C's row in four ymm registers across all the row's
// nonzeros (loaded and stored once per strip, not once per nonzero), and streams B's rows
// through FMAs; the strip's tail uses masked loads and stores, so it runs the same code. Rows of
// C are independent: threads take contiguous row ranges (weighted by nnz), each row summed in
// the order of its nonzeros, so the result does not depend on the thread count. The transposed
// product Aᵀ·B is this kernel on Aᵀ's CSR (csr_transpose: a counting sort, O(nnz)), which turns
// the scatter into C's rows (races between threads) into the same race-free gather.
#include <immintrin.h>

#include <algorithm>

#include "cpu_parallel.hpp"
#include "primitives_avx2.hpp"
#include "simd_avx2.hpp"

namespace mlcore::cpu {

namespace {

// Four ymm accumulators: 32 columns of C's row stay in registers across the row's nonzeros.
constexpr int64_t kStrip = 32;

template <class Index>
void spmm_rows(int64_t begin, int64_t end, const int64_t* ptr, const Index* idx, const float* v,
               float alpha, const float* B, int64_t n, float beta, float* C) {
  const __m256 vbeta = _mm256_set1_ps(beta);
  for (int64_t i = begin; i < end; ++i) {
    float* c = C + i * n;
    for (int64_t j0 = 0; j0 < n; j0 += kStrip) {
      const int64_t w = std::min(kStrip, n - j0);
      // Lane masks of the strip's four 8-column groups (all set in a full strip).
      __m256i mask[4];
      for (int g = 0; g < 4; ++g) mask[g] = tail_mask(std::clamp<int64_t>(w - 8 * g, 0, 8));
      __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                       _mm256_setzero_ps()};
      if (w == kStrip) {
        for (int64_t p = ptr[i]; p < ptr[i + 1]; ++p) {
          const __m256 a = _mm256_set1_ps(alpha * v[p]);
          const float* b = B + static_cast<int64_t>(idx[p]) * n + j0;
          acc[0] = _mm256_fmadd_ps(a, _mm256_loadu_ps(b), acc[0]);
          acc[1] = _mm256_fmadd_ps(a, _mm256_loadu_ps(b + 8), acc[1]);
          acc[2] = _mm256_fmadd_ps(a, _mm256_loadu_ps(b + 16), acc[2]);
          acc[3] = _mm256_fmadd_ps(a, _mm256_loadu_ps(b + 24), acc[3]);
        }
      } else {
        const int groups = static_cast<int>((w + 7) / 8);
        for (int64_t p = ptr[i]; p < ptr[i + 1]; ++p) {
          const __m256 a = _mm256_set1_ps(alpha * v[p]);
          const float* b = B + static_cast<int64_t>(idx[p]) * n + j0;
          for (int g = 0; g < groups; ++g) {
            acc[g] = _mm256_fmadd_ps(a, _mm256_maskload_ps(b + 8 * g, mask[g]), acc[g]);
          }
        }
      }
      for (int g = 0; g < 4 && 8 * g < w; ++g) {
        float* cg = c + j0 + 8 * g;
        __m256 out = acc[g];
        if (beta != 0.0f) out = _mm256_fmadd_ps(vbeta, _mm256_maskload_ps(cg, mask[g]), out);
        _mm256_maskstore_ps(cg, mask[g], out);
      }
    }
  }
}

}  // namespace

void spmm_avx2(int64_t m, const int64_t* indptr, const void* indices, bool indices_i64,
               const float* data, float alpha, const float* B, int64_t n, float beta, float* C,
               int threads) {
  const int64_t nnz = indptr[m];
  // Work per row ≈ its nonzeros × n plus the row's own store; spread evenly by rows, which is
  // close enough to even by work unless a few rows hold most of the nonzeros.
  const int64_t work_per_row = std::max<int64_t>(1, (nnz / std::max<int64_t>(m, 1) + 1) * n);
  parallel_ranges(m, work_per_row, threads, [&](int, int64_t begin, int64_t end) {
    if (indices_i64) {
      spmm_rows(begin, end, indptr, static_cast<const int64_t*>(indices), data, alpha, B, n, beta,
                C);
    } else {
      spmm_rows(begin, end, indptr, static_cast<const int32_t*>(indices), data, alpha, B, n, beta,
                C);
    }
  });
}

}  // namespace mlcore::cpu
