// The cuda backend's launch-shape arithmetic (src/cuda/launch_geometry.hpp): plain host code,
// so these run on every machine, with or without a GPU.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>

#include "cuda/launch_geometry.hpp"

namespace mlcore::cuda {
namespace {

using i64 = std::int64_t;

TEST(CudaGeometry, GridsUnderOneWaveStayAsAsked) {
  EXPECT_EQ(whole_wave_blocks(1, 396, 1024), 1);
  EXPECT_EQ(whole_wave_blocks(395, 396, 1024), 395);
  EXPECT_EQ(whole_wave_blocks(396, 396, 1024), 396);
  EXPECT_EQ(whole_wave_blocks(0, 396, 1024), 1);  // at least one block
}

TEST(CudaGeometry, KmeansShapeBecomesOneWholeWave) {
  // 10⁶ × 33 pairs in blocks of 64 Ki pairs: 504 blocks, against 3 blocks × 132 SMs resident.
  const i64 wanted = (i64{1000000} * 33 + 65535) / 65536;
  ASSERT_EQ(wanted, 504);
  EXPECT_EQ(whole_wave_blocks(wanted, 3 * 132, 1024), 396);
  EXPECT_EQ(whole_wave_blocks(700, 396, 1024), 792);  // 1.77 waves → 2
}

TEST(CudaGeometry, TheCapIsRoundedDownToWholeWaves) {
  EXPECT_EQ(whole_wave_blocks(5000, 396, 1024), 792);    // 2 waves fit under 1024, 3 do not
  EXPECT_EQ(whole_wave_blocks(5000, 2000, 1024), 1024);  // a cap under one wave is kept as is
  EXPECT_EQ(whole_wave_blocks(10, 0, 1024), 10);         // unknown residency: as asked
}

TEST(CudaGeometry, WholeWavesOnRandomShapes) {
  std::mt19937_64 rng(7);
  for (int t = 0; t < 10000; ++t) {
    const i64 resident = std::uniform_int_distribution<i64>(1, 2000)(rng);
    const i64 wanted = std::uniform_int_distribution<i64>(1, 20000)(rng);
    const i64 cap = std::uniform_int_distribution<i64>(1, 30000)(rng);
    const i64 got = whole_wave_blocks(wanted, resident, cap);
    ASSERT_GE(got, 1);
    ASSERT_LE(got, cap);
    if (wanted > resident && cap >= resident) {
      ASSERT_EQ(got % resident, 0) << wanted << " blocks, " << resident << " resident";
      // The nearest whole number of waves unless the cap cut it.
      if (got < cap - resident + 1) ASSERT_LE(std::llabs(got - wanted), resident / 2 + 1);
    }
  }
}

TEST(CudaGeometry, PaddedKThatOverflowsIntIsRefused) {
  EXPECT_EQ(padded_k_or_overflow(0, 16), 0);
  EXPECT_EQ(padded_k_or_overflow(1, 16), 16);
  EXPECT_EQ(padded_k_or_overflow(17, 16), 32);
  EXPECT_EQ(padded_k_or_overflow((i64{1} << 31) - 16, 16), (i64{1} << 31) - 16);
  EXPECT_EQ(padded_k_or_overflow((i64{1} << 31) - 15, 16), -1);  // would round to 2^31
  EXPECT_EQ(padded_k_or_overflow((i64{1} << 31) - 1, 16), -1);
}

}  // namespace
}  // namespace mlcore::cuda
