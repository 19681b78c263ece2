// The host's int8 GEMM (src/cpu/igemm_host.cpp), the one the systolic simulator's analytic mode
// computes its products with: exact against the scalar reference for every transpose, awkward
// sizes and extreme codes, and the kernel it picked is the best this CPU has.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "cpu/cpu_features.hpp"
#include "cpu/gemm_scalar.hpp"
#include "cpu/igemm_amx.hpp"
#include "cpu/igemm_host.hpp"

namespace mlcore::cpu {
namespace {

TEST(IgemmHost, PicksTheBestKernelThisCpuHas) {
  const std::string kernel = igemm_host_kernel();
  if (amx_unavailable_reason().empty()) {
    EXPECT_EQ(kernel, "amx");
  } else if (avx512_unavailable_reason().empty()) {
    EXPECT_EQ(kernel, "avx512_vnni");
  } else if (avx2_unavailable_reason().empty()) {
    EXPECT_EQ(kernel, "avx2");
  } else {
    EXPECT_EQ(kernel, "scalar");
  }
}

TEST(IgemmHost, ExactAgainstTheScalarReference) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> v(-128, 127);
  const std::vector<std::int64_t> sizes = {1, 2, 7, 16, 33, 97};
  for (std::int64_t m : sizes) {
    for (std::int64_t n : {std::int64_t{1}, std::int64_t{17}, std::int64_t{64}}) {
      for (std::int64_t k : {std::int64_t{1}, std::int64_t{3}, std::int64_t{130}}) {
        for (int t = 0; t < 4; ++t) {
          const bool ta = t & 1, tb = t & 2;
          std::vector<std::int8_t> A(m * k), B(k * n);
          for (auto& x : A) x = static_cast<std::int8_t>(v(rng));
          for (auto& x : B) x = static_cast<std::int8_t>(v(rng));
          A[0] = B[0] = -128;  // the largest product, (−128)·(−128)
          const std::int64_t lda = ta ? m : k, ldb = tb ? k : n;
          std::vector<std::int32_t> ref(m * n, 5), got(m * n, 5);
          const bool acc = (m + n + k) % 2 == 0;
          igemm_scalar(ta, tb, m, n, k, A.data(), lda, B.data(), ldb, acc, ref.data(), n);
          igemm_host(ta, tb, m, n, k, A.data(), lda, B.data(), ldb, acc, got.data(), n, 2);
          ASSERT_EQ(got, ref) << m << "×" << n << "×" << k << " ta=" << ta << " tb=" << tb;
        }
      }
    }
  }
}

}  // namespace
}  // namespace mlcore::cpu
