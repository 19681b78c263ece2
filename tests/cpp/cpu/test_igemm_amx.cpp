// The AMX int8 GEMM (src/cpu/igemm_amx*.cpp). Its loops (packing, the VNNI-4 layout of B, the
// 32 × 32 blocks, edges, threads) run on every machine on the model of the tile unit and must
// give the scalar GEMM's integers exactly; the hardware path runs the same cases where the CPU
// and OS allow AMX, and is skipped with the reason elsewhere (MLCORE_REQUIRE=amx: a failure).
#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "cpu/gemm_scalar.hpp"
#include "cpu/igemm_amx.hpp"
#include "cpu/igemm_amx_loops.hpp"  // the block sizes the tests cross
#include "test_util.hpp"

namespace mlcore::cpu {
namespace {

using IgemmFn = void (*)(bool, bool, std::int64_t, std::int64_t, std::int64_t, const std::int8_t*,
                         std::int64_t, const std::int8_t*, std::int64_t, bool, std::int32_t*,
                         std::int64_t, int);

struct AmxPath {
  const char* name;
  IgemmFn fn;
  bool hardware;
};

void PrintTo(const AmxPath& path, std::ostream* os) { *os << path.name; }

class AmxIgemm : public ::testing::TestWithParam<AmxPath> {
 protected:
  void SetUp() override {
    if (!GetParam().hardware) return;
    const std::string why = amx_unavailable_reason();
    if (why.empty()) return;
    if (test::is_required("amx")) FAIL() << "MLCORE_REQUIRE lists amx but it cannot run: " << why;
    GTEST_SKIP() << "AMX is not available: " << why;
  }

  // op(A)·op(B) (+ C) on the path under test against igemm_scalar, with leading dimensions
  // larger than the rows (a sub-matrix) so that strides are exercised too.
  void expect_exact(std::int64_t m, std::int64_t n, std::int64_t k, bool ta, bool tb, bool acc,
                    int threads, std::mt19937& rng, bool extremes = false) {
    std::uniform_int_distribution<int> byte(-128, 127);
    const std::int64_t lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 5, ldc = n + 2;
    std::vector<std::int8_t> A((ta ? k : m) * lda), B((tb ? n : k) * ldb);
    for (auto& v : A) v = static_cast<std::int8_t>(extremes ? -128 : byte(rng));
    for (auto& v : B) v = static_cast<std::int8_t>(extremes ? -128 : byte(rng));
    std::vector<std::int32_t> want(m * ldc), got;
    for (auto& v : want) v = byte(rng);
    got = want;
    igemm_scalar(ta, tb, m, n, k, A.data(), lda, B.data(), ldb, acc, want.data(), ldc);
    GetParam().fn(ta, tb, m, n, k, A.data(), lda, B.data(), ldb, acc, got.data(), ldc, threads);
    ASSERT_EQ(got, want) << m << "×" << n << "×" << k << " ta=" << ta << " tb=" << tb
                         << " acc=" << acc << " threads=" << threads;
  }
};

const AmxPath kPaths[] = {{"emulated", igemm_amx_emulated, false}, {"hardware", igemm_amx, true}};
INSTANTIATE_TEST_SUITE_P(Paths, AmxIgemm, ::testing::ValuesIn(kPaths),
                         [](const ::testing::TestParamInfo<AmxPath>& info) {
                           return std::string(info.param.name);
                         });

// Sizes on both sides of every edge: a tile (16), a block (32), a k-chunk (64), and primes.
TEST_P(AmxIgemm, AwkwardSizesEveryTransposeExact) {
  std::mt19937 rng(1);
  const std::int64_t mn[] = {1, 15, 16, 17, 31, 33, 47};
  const std::int64_t ks[] = {1, 3, 63, 64, 65, 131};
  for (std::int64_t m : mn) {
    for (std::int64_t n : {std::int64_t{1}, std::int64_t{16}, std::int64_t{33}}) {
      for (std::int64_t k : ks) {
        for (int t = 0; t < 8; ++t) {
          expect_exact(m, n, k, t & 1, t & 2, t & 4, 1, rng);
        }
      }
    }
  }
  expect_exact(7, 13, 1, false, false, false, 1, rng);
  expect_exact(33, 7, 200, true, true, true, 1, rng);
}

TEST_P(AmxIgemm, ThreadsSplitBlocksWithoutChangingAResult) {
  std::mt19937 rng(2);
  for (int threads : {2, 3, 8}) {
    expect_exact(131, 97, 257, false, false, false, threads, rng);
    expect_exact(64, 129, 70, true, false, true, threads, rng);
  }
}

// Past one k-block (kAmxKcChunks k-chunks: the accumulators go to the scratch and come back)
// and one M-block (kAmxMcPairs row pairs), with whole blocks (stored by the tiles straight into
// C, or loaded from it when accumulating) beside edge blocks (copied from the scratch).
TEST_P(AmxIgemm, KBlocksAndMBlocksResumeExactly) {
  std::mt19937 rng(5);
  const std::int64_t k = kAmxKcChunks * kAmxTileK * 2 + 37;  // three k-blocks, the last partial
  const std::int64_t m = kAmxMcPairs * kAmxBlock + 45;       // two M-blocks, an edge row pair
  for (int t = 0; t < 4; ++t) {
    expect_exact(m, 2 * kAmxBlock + 7, k, t & 1, t & 2, t % 2 == 0, 2, rng);
  }
  expect_exact(2 * kAmxBlock, 2 * kAmxBlock, k, false, false, true, 1, rng);  // whole only
}

// (−128)·(−128) = 2¹⁴ summed over a long k: the largest int32 sums the interface promises.
TEST_P(AmxIgemm, ExtremeCodesOverLongKStayExact) {
  std::mt19937 rng(3);
  expect_exact(17, 18, 4099, false, true, false, 2, rng, /*extremes=*/true);
}

TEST_P(AmxIgemm, EmptyKClearsOrKeepsC) {
  std::mt19937 rng(4);
  expect_exact(5, 6, 0, false, false, false, 1, rng);
  expect_exact(5, 6, 0, false, false, true, 1, rng);
}

}  // namespace
}  // namespace mlcore::cpu
