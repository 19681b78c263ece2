// The squared-distance kernels (sqdist_avx2.cpp, sqdist_avx512.cpp), against the scalar reference.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "cpu/gemm_scalar.hpp"
#include "cpu_test_util.hpp"

namespace mlcore::cpu {
namespace {

class SqdistKernels : public SimdTest {};
MLCORE_INSTANTIATE_SIMD(SqdistKernels);

TEST_P(SqdistKernels, SqdistLargeIsClampedAndAccurate) {
  const int64_t m = 531, n = 389, d = 19;
  std::vector<float> A = random_floats(m * d, 5, 6, 4), B = random_floats(n * d, 5, 6, 5);
  for (int64_t p = 0; p < d; ++p) B[3 * d + p] = A[7 * d + p];  // an exact zero distance
  std::vector<float> D(m * n);
  GetParam().sqdist(m, n, d, A.data(), B.data(), D.data(), kThreads);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double dist = 0, norms = 0;
      for (int64_t p = 0; p < d; ++p) {
        const double diff = double(A[i * d + p]) - B[j * d + p];
        dist += diff * diff;
        norms += double(A[i * d + p]) * A[i * d + p] + double(B[j * d + p]) * B[j * d + p];
      }
      ASSERT_GE(D[i * n + j], 0.0f);
      ASSERT_NEAR(D[i * n + j], dist, 2 * (d + 4) * 1.2e-7 * norms) << i << "," << j;
    }
  }
}

}  // namespace
}  // namespace mlcore::cpu
