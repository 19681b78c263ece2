// partition_rows_avx2 (partition_rows_avx2.cpp): its threaded path (chunks split in parallel,
// then copied to places found by prefix sums) gives the serial order for every thread count.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "cpu_test_util.hpp"

namespace mlcore::cpu {
namespace {

TEST(PrimitivesAvx2, PartitionRowsThreadedEqualsSerialForAnyThreadCount) {
  SKIP_WITHOUT_AVX2();
  const int64_t n = 200003;  // prime, above the 2^15 rows of the threaded path
  std::mt19937 rng(21);
  std::uniform_int_distribution<int> pick(0, 255);
  std::vector<std::uint8_t> code(n);
  for (auto& c : code) c = static_cast<std::uint8_t>(pick(rng));
  std::vector<int32_t> ids;
  for (int64_t i = 0; i < n; i += 1 + (i % 3)) ids.push_back(static_cast<int32_t>(i));
  RowSplit split;
  split.bin = 100;
  split.missing_code = 255;
  split.missing_left = true;
  std::vector<int32_t> serial = ids;
  const int64_t serial_left =
      partition_rows_avx2(code.data(), split, serial.data(), int64_t(serial.size()), 1);
  int64_t lefts = 0;
  for (int32_t i : ids) lefts += code[i] <= 100 || code[i] == 255;
  ASSERT_EQ(serial_left, lefts);
  for (int threads : {2, 3, 4, 7}) {
    std::vector<int32_t> got = ids;
    EXPECT_EQ(partition_rows_avx2(code.data(), split, got.data(), int64_t(got.size()), threads),
              serial_left);
    EXPECT_EQ(got, serial) << threads << " threads";
  }
}

}  // namespace
}  // namespace mlcore::cpu
