// The avx2 backend's Minkowski distances (Backend::minkowski_dist); compiled with -mavx2 -mfma.
//
// There is no GEMM inside |a − b|: each pair costs d subtractions, absolute values and adds (or
// maxima), and no expansion turns that into multiply-adds. What makes it fast is the same
// register blocking as a GEMM's micro-kernel: B's rows are packed feature-major in panels of 16
// (panel[k·16 + j] = b_{j0+j, k}), so one vector load gives feature k of 16 training rows, and a
// 4 × 16 block of distances lives in 8 ymm accumulators while the k loop runs. Each lane adds one
// pair's terms in feature order, as the scalar loop does, so p = 1 and p = ∞ give the scalar
// backend's bits exactly (p = 2: a multiply and an add, not an FMA, for the same reason).
// Other exponents need a pow per term; they run the scalar loop (minkowski_scalar.hpp) on the
// backend's threads.
#include <immintrin.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "cpu_parallel.hpp"
#include "minkowski_scalar.hpp"
#include "primitives_avx2.hpp"
#include "simd_avx2.hpp"

namespace mlcore::cpu {
namespace {

constexpr int64_t kPanel = 16;  // training rows per packed panel: two ymm
constexpr int64_t kRows = 4;    // query rows per micro-kernel call

// One term folded into an accumulator, for each exponent with a vector form.
struct L1 {
  static __m256 fold(__m256 acc, __m256 diff) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    return _mm256_add_ps(acc, _mm256_andnot_ps(sign, diff));
  }
};
struct L2 {
  static __m256 fold(__m256 acc, __m256 diff) {
    return _mm256_add_ps(acc, _mm256_mul_ps(diff, diff));
  }
};
struct LInf {
  // max(|diff|, acc) with the NaN rule of the scalar loop: max_ps returns its second operand
  // when either is NaN, so |diff| goes second and a NaN term sticks.
  static __m256 fold(__m256 acc, __m256 diff) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256 v = _mm256_andnot_ps(sign, diff);
    const __m256 nan_acc = _mm256_cmp_ps(acc, acc, _CMP_UNORD_Q);
    return _mm256_blendv_ps(_mm256_max_ps(acc, v), acc, nan_acc);
  }
};

// D[r, j0 + j] for r < R query rows and j < cols (≤ 16) panel rows, from panel (d × 16).
template <class Op, int R>
void micro_kernel(const float* A, int64_t d, const float* panel, float* D, int64_t ldd,
                  int64_t cols) {
  __m256 acc[R][2];
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  for (int64_t k = 0; k < d; ++k) {
    const __m256 b0 = _mm256_load_ps(panel + k * kPanel);
    const __m256 b1 = _mm256_load_ps(panel + k * kPanel + 8);
    for (int r = 0; r < R; ++r) {
      const __m256 a = _mm256_broadcast_ss(A + r * d + k);
      acc[r][0] = Op::fold(acc[r][0], _mm256_sub_ps(a, b0));
      acc[r][1] = Op::fold(acc[r][1], _mm256_sub_ps(a, b1));
    }
  }
  for (int r = 0; r < R; ++r) {
    float* row = D + r * ldd;
    if (cols == kPanel) {
      _mm256_storeu_ps(row, acc[r][0]);
      _mm256_storeu_ps(row + 8, acc[r][1]);
    } else {
      alignas(32) float tmp[kPanel];
      _mm256_store_ps(tmp, acc[r][0]);
      _mm256_store_ps(tmp + 8, acc[r][1]);
      std::copy_n(tmp, cols, row);
    }
  }
}

template <class Op>
void blocked(int64_t m, int64_t n, int64_t d, const float* A, const float* B, float* D,
             int threads) {
  // Pack B once: panel p holds rows [16p, 16p + 16) feature-major, zero-padded past n (the
  // padded lanes are computed and never stored).
  const int64_t panels = (n + kPanel - 1) / kPanel;
  AlignedBuffer<float> packed;
  float* P = packed.get(panels * d * kPanel);
  parallel_ranges(panels, d * kPanel, threads, [&](int, int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      float* panel = P + p * d * kPanel;
      for (int64_t j = 0; j < kPanel; ++j) {
        const int64_t row = p * kPanel + j;
        for (int64_t k = 0; k < d; ++k) panel[k * kPanel + j] = row < n ? B[row * d + k] : 0.0f;
      }
    }
  });
  // Threads split the query rows; each walks all panels for its block of 4 rows at a time, so
  // the 4 query rows stay in L1 and the panels stream from L2/L3.
  parallel_ranges(m, n * d, threads, [&](int, int64_t begin, int64_t end) {
    int64_t i = begin;
    for (; i + kRows <= end; i += kRows) {
      for (int64_t p = 0; p < panels; ++p) {
        micro_kernel<Op, kRows>(A + i * d, d, P + p * d * kPanel, D + i * n + p * kPanel, n,
                                std::min(kPanel, n - p * kPanel));
      }
    }
    for (; i < end; ++i) {
      for (int64_t p = 0; p < panels; ++p) {
        micro_kernel<Op, 1>(A + i * d, d, P + p * d * kPanel, D + i * n + p * kPanel, n,
                            std::min(kPanel, n - p * kPanel));
      }
    }
  });
}

}  // namespace

void minkowski_dist_avx2(int64_t m, int64_t n, int64_t d, const float* A, const float* B, float p,
                         float* D, int threads) {
  if (p == 1.0f) return blocked<L1>(m, n, d, A, B, D, threads);
  if (p == 2.0f) return blocked<L2>(m, n, d, A, B, D, threads);
  if (p == std::numeric_limits<float>::infinity()) return blocked<LInf>(m, n, d, A, B, D, threads);
  parallel_ranges(m, n * d, threads, [&](int, int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      for (int64_t j = 0; j < n; ++j) D[i * n + j] = minkowski_pair(A + i * d, B + j * d, d, p);
    }
  });
}

}  // namespace mlcore::cpu
