// What the kernel-level tests of the CPU backends share (tests/cpp/cpu/test_*.cpp): the kernels
// that exist for more than one instruction set (a TEST_P suite runs once per row, skipped with
// the registry's reason where the CPU lacks the instruction set), constants and random inputs.
// Each file's checks are against the scalar reference; the backend-level tests in
// tests/cpp/core/test_primitives.cpp cover the semantics on small shapes, these add what they
// cannot see: ulp accuracy over dense sweeps and IEEE special values, and shapes large enough to
// take the multi-threaded paths (private scatter copies, per-thread partial sums).
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "cpu/gemm_avx2.hpp"
#include "cpu/gemm_avx512.hpp"
#include "cpu/primitives_avx2.hpp"
#include "cpu/primitives_avx512.hpp"
#include "test_util.hpp"

namespace mlcore::cpu {

using std::int32_t;
using std::int64_t;

#define SKIP_WITHOUT_AVX2() MLCORE_SKIP_UNLESS_BACKEND("avx2")

// The kernels that exist for more than one instruction set, and the backend whose CPU check
// guards each: the TEST_P suites run once per row.
struct SimdKernels {
  const char* backend;
  void (*sqdist)(int64_t, int64_t, int64_t, const float*, const float*, float*, int);
  void (*argmin_rows)(int64_t, int64_t, const float*, int32_t*, float*, int);
  void (*igemm)(bool, bool, int64_t, int64_t, int64_t, const std::int8_t*, int64_t,
                const std::int8_t*, int64_t, bool, int32_t*, int64_t, int);
};
const SimdKernels kSimd[] = {{"avx2", sqdist_avx2, argmin_rows_avx2, igemm_avx2},
                             {"avx512", sqdist_avx512, argmin_rows_avx512, igemm_avx512}};

class SimdTest : public ::testing::TestWithParam<SimdKernels> {
 protected:
  void SetUp() override { MLCORE_SKIP_UNLESS_BACKEND(GetParam().backend); }
};
constexpr int kThreads = 4;  // more than this machine's cores is fine: the kernels cap it
const float kInf = std::numeric_limits<float>::infinity();
const float kNaN = std::numeric_limits<float>::quiet_NaN();

inline std::vector<float> random_floats(int64_t count, float lo, float hi, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(count);
  for (float& x : v) x = dist(rng);
  return v;
}

// Instantiates a TEST_P suite derived from SimdTest once per instruction set.
#define MLCORE_INSTANTIATE_SIMD(Suite)                                                            \
  INSTANTIATE_TEST_SUITE_P(Kernels, Suite, ::testing::ValuesIn(::mlcore::cpu::kSimd),             \
                           [](const ::testing::TestParamInfo<::mlcore::cpu::SimdKernels>& info) { \
                             return std::string(info.param.backend);                              \
                           })

}  // namespace mlcore::cpu
