// The avx2 gemv kernel (gemv_avx2.cpp) on large and threaded shapes, against the scalar reference.
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

TEST(PrimitivesAvx2, GemvBothWaysLargeAndThreaded) {
  SKIP_WITHOUT_AVX2();
  for (auto [m, n] : {std::pair<int64_t, int64_t>{5000, 67}, {67, 5000}, {100003, 3}, {3, 9}}) {
    const std::vector<float> A = random_floats(m * n, -1, 1, 1);
    for (bool trans : {false, true}) {
      const int64_t in = trans ? m : n, out = trans ? n : m;
      const std::vector<float> x = random_floats(in, -1, 1, 2);
      std::vector<float> y = random_floats(out, -1, 1, 3), y0 = y;
      sgemv_avx2(trans, m, n, 0.5f, A.data(), x.data(), -2.0f, y.data(), kThreads);
      for (int64_t i = 0; i < out; ++i) {
        double sum = 0, mag = 0;
        for (int64_t p = 0; p < in; ++p) {
          const double t = double(trans ? A[p * n + i] : A[i * n + p]) * x[p];
          sum += t;
          mag += std::fabs(t);
        }
        const double ref = 0.5 * sum - 2.0 * y0[i];
        ASSERT_NEAR(y[i], ref, (in + 4) * 1.2e-7 * (0.5 * mag + 2 * std::fabs(y0[i])) + 1e-6)
            << "gemv " << m << "x" << n << " trans=" << trans << " y[" << i << "]";
      }
    }
  }
}

}  // namespace
}  // namespace mlcore::cpu
