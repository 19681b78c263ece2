// The SIMD int8 GEMMs (igemm_avx2.cpp, igemm_avx512.cpp): exact on large threaded shapes, over
// long k at the extremes, and when called from inside a parallel region.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "cpu/gemm_scalar.hpp"
#include "cpu_test_util.hpp"
#include "mlcore/parallel.hpp"

namespace mlcore::cpu {
namespace {

class Int8GemmKernels : public SimdTest {};
MLCORE_INSTANTIATE_SIMD(Int8GemmKernels);

TEST_P(Int8GemmKernels, Int8GemmExactOnLargeThreadedShapes) {
  struct Shape {
    int64_t m, n, k;
  };
  // Cross KC = 512 (odd k too, and k not a multiple of avx512's 4-byte groups), NC (4080; 8192),
  // several MC blocks per thread, tile edges (14 × 32 for avx512), and the split along k
  // (small C, long k).
  for (Shape s : {Shape{301, 97, 1031}, Shape{13, 4100, 37}, Shape{1, 1, 1}, Shape{7, 5, 2},
                  Shape{15, 33, 3}, Shape{29, 8200, 5}, Shape{30, 20, 9000}}) {
    for (bool ta : {false, true}) {
      for (bool tb : {false, true}) {
        std::mt19937 rng(19);
        std::uniform_int_distribution<int> dist(-128, 127);
        std::vector<std::int8_t> A(s.m * s.k), B(s.k * s.n);
        for (auto& a : A) a = std::int8_t(dist(rng));
        for (auto& b : B) b = std::int8_t(dist(rng));
        // Extreme values: −128·−128 summed over k must not overflow the pair sums.
        A[0] = B[0] = -128;
        std::vector<int32_t> C(s.m * s.n), R(s.m * s.n);
        for (int64_t i = 0; i < s.m * s.n; ++i) C[i] = R[i] = int32_t(i % 101) - 50;
        const int64_t lda = ta ? s.m : s.k, ldb = tb ? s.k : s.n;
        for (bool accumulate : {true, false}) {
          GetParam().igemm(ta, tb, s.m, s.n, s.k, A.data(), lda, B.data(), ldb, accumulate,
                           C.data(), s.n, kThreads);
          igemm_scalar(ta, tb, s.m, s.n, s.k, A.data(), lda, B.data(), ldb, accumulate, R.data(),
                       s.n);
          ASSERT_EQ(C, R) << s.m << "x" << s.n << "x" << s.k << " ta=" << ta << " tb=" << tb
                          << " acc=" << accumulate;
        }
      }
    }
  }
}

TEST_P(Int8GemmKernels, Int8GemmCalledFromInsideAParallelRegion) {
  const int64_t m = 200, n = 50, k = 600;
  std::vector<std::int8_t> A(m * k), B(k * n);
  for (int64_t i = 0; i < m * k; ++i) A[i] = std::int8_t(i * 7 % 255 - 127);
  for (int64_t i = 0; i < k * n; ++i) B[i] = std::int8_t(i * 13 % 255 - 127);
  std::vector<int32_t> ref(m * n);
  igemm_scalar(false, false, m, n, k, A.data(), k, B.data(), n, false, ref.data(), n);
  std::vector<std::vector<int32_t>> results(4, std::vector<int32_t>(m * n));
  parallel::for_each(4, 2, [&](int64_t t) {
    GetParam().igemm(false, false, m, n, k, A.data(), k, B.data(), n, false, results[t].data(), n,
                     2);
  });
  for (const auto& r : results) EXPECT_EQ(r, ref);
}

// The extremes of the u8 × s8 offset trick (igemm_avx512.cpp): A = −128 (A + 128 = 0) and 127
// (255) against B = −128 and 127, over long k, where the partial sums with the offset exceed
// int32 and wrap; the result must still be exact.
TEST_P(Int8GemmKernels, Int8GemmExtremesOverLongK) {
  const int64_t m = 16, n = 33, k = 100000;  // 255·127·k > 2³¹: the offset sums wrap
  std::vector<std::int8_t> A(m * k), B(k * n);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t p = 0; p < k; ++p) A[i * k + p] = std::int8_t(i % 2 ? 127 : -128);
  }
  for (int64_t p = 0; p < k; ++p) {
    for (int64_t j = 0; j < n; ++j)
      B[p * n + j] = std::int8_t(j % 3 == 0 ? -128 : (j % 3 == 1 ? 127 : p % 256 - 128));
  }
  std::vector<int32_t> C(m * n), R(m * n);
  GetParam().igemm(false, false, m, n, k, A.data(), k, B.data(), n, false, C.data(), n, kThreads);
  igemm_scalar(false, false, m, n, k, A.data(), k, B.data(), n, false, R.data(), n);
  EXPECT_EQ(C, R);
}

}  // namespace
}  // namespace mlcore::cpu
