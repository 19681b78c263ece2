// The row selections (select_rows_avx2.cpp, select_rows_avx512.cpp): argmin over nasty rows and
// the filtered top-k path, against the plain reference (row_select.hpp).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

#include "cpu/row_select.hpp"
#include "cpu_test_util.hpp"

namespace mlcore::cpu {
namespace {

class ArgminKernels : public SimdTest {};
MLCORE_INSTANTIATE_SIMD(ArgminKernels);

TEST_P(ArgminKernels, ArgminMatchesReferenceOnNastyRows) {
  // Widths around the kernels' blocks (8 lanes for avx2, 16 for avx512): under one block, one,
  // two (one per chain), two and a tail, k-means-sized rows, and long ones.
  for (const int64_t n : {1, 5, 8, 9, 16, 17, 23, 31, 32, 33, 37, 48, 64, 65, 100, 257}) {
    const int64_t m = 600;
    std::vector<float> D = random_floats(m * n, -1, 1, 6 + n);
    auto at = [&](int64_t i, int64_t j) -> float& { return D[i * n + j]; };
    for (int64_t j = 0; j < n; ++j) {
      at(0, j) = kNaN;                            // all NaN → index 0
      at(1, j) = kInf;                            // all +inf → index 0, value inf
      at(2, j) = j % 2 ? kNaN : kInf;             // NaN and +inf → the first +inf
      at(3, j) = 0.25f;                           // all tied → index 0
      at(4, j) = j < (n * 4) / 5 ? kNaN : -kInf;  // −inf only late (in the tail for n = 37)
      at(7, j) = std::fabs(at(7, j)) + 1.0f;
      at(8, j) = std::fabs(at(8, j)) + 1.0f;
    }
    at(5, n - 1) = -5.0f;  // the minimum in the last column
    // Ties between lanes, blocks and the two chains (blocks 0/2 are one chain, 1/3 the
    // other): the lower column must win whichever chain holds it.
    if (n > 17) at(6, 9) = at(6, 17) = -7.0f;     // chain 1 (block 1) before chain 0 (block 2)
    if (n > 9) at(9, 1) = at(9, 9) = -7.0f;       // chain 0 before chain 1
    if (n > 40) at(10, 40) = at(10, 3) = -7.0f;   // the later one seen first in its chain
    if (n > 33) at(11, 33) = at(11, 17) = -7.0f;  // avx512: block 2 (chain 0) vs 1 (chain 1)
    if (n > 31) at(12, 31) = -kInf;               // the last lane of a block
    if (n > 16) {
      at(7, 8) = -0.0f;  // −0 == 0: the first of the two zeros wins
      at(7, 16) = 0.0f;
      at(8, 16) = -0.0f;
      at(8, 8) = 0.0f;
    }
    std::vector<int32_t> index(m);
    std::vector<float> value(m);
    GetParam().argmin_rows(m, n, D.data(), index.data(), value.data(), kThreads);
    for (int64_t i = 0; i < m; ++i) {
      const RowMin want = row_argmin(D.data() + i * n, n);
      ASSERT_EQ(index[i], want.index) << "row " << i << ", n " << n;
      if (std::isnan(want.value)) {
        ASSERT_TRUE(std::isnan(value[i]));
      } else {
        ASSERT_EQ(value[i], want.value) << "row " << i << ", n " << n;
      }
    }
  }
}

using TopkFn = void (*)(int64_t, int64_t, int64_t, const float*, int32_t*, float*, int);

// Runs `topk` on rows with ties, NaN, ±inf and −0 and compares every rank with the reference.
void expect_topk_matches_reference(TopkFn topk, int64_t m, int64_t n, int64_t k, unsigned seed) {
  SCOPED_TRACE("m=" + std::to_string(m) + " n=" + std::to_string(n) + " k=" + std::to_string(k));
  std::vector<float> D = random_floats(m * n, -1, 1, seed);
  for (int64_t i = 0; i < m * n; i += 5) D[i] = std::round(D[i] * 8) / 8;  // ties
  auto at = [&](int64_t i, int64_t j) -> float& { return D[i * n + j]; };
  for (int64_t j = 0; j < n; ++j) {
    if (j % 3 == 0) at(0, j) = kNaN;             // row 0: a third NaN
    at(1, j) = j < n - 3 ? kNaN : 1.0f;          // row 1: numbers only at the end
    if (m > 2) at(2, j) = 0.5f;                  // row 2: all tied
    if (m > 3) at(3, j) = j % 2 ? kInf : -kInf;  // row 3: infinities only
    if (m > 4) at(4, j) = float(n - j);          // row 4: descending, every column an insertion
    if (m > 5 && j == n - 1) at(5, j) = kNaN;    // row 5: one NaN, in the last column
  }
  if (m > 6 && n > 20) at(6, 3) = -0.0f, at(6, 20) = 0.0f, at(6, 19) = -0.0f;
  std::vector<int32_t> index(m * k), want_index(k);
  std::vector<float> value(m * k), want_value(k);
  std::vector<int32_t> scratch;
  topk(m, n, k, D.data(), index.data(), value.data(), kThreads);
  for (int64_t i = 0; i < m; ++i) {
    row_topk(D.data() + i * n, n, k, scratch, want_index.data(), want_value.data());
    for (int64_t q = 0; q < k; ++q) {
      ASSERT_EQ(index[i * k + q], want_index[q]) << "row " << i << " rank " << q;
      const float got = value[i * k + q], want = want_value[q];
      ASSERT_TRUE(std::isnan(want) ? std::isnan(got) : got == want)
          << "row " << i << " rank " << q << ": " << got << " vs " << want;
    }
  }
}

TEST(PrimitivesAvx2, TopkFilteredPathMatchesReference) {
  SKIP_WITHOUT_AVX2();
  for (auto [m, n, k] : {std::tuple<int64_t, int64_t, int64_t>{300, 1000, 5},
                         {50, 517, 64},
                         {40, 100, 1},
                         {20, 20, 20},
                         {9, 300, 65}}) {
    expect_topk_matches_reference(topk_rows_avx2, m, n, k, 7);
  }
}

TEST(PrimitivesAvx512, TopkInRegisterMatchesReference) {
  MLCORE_SKIP_UNLESS_BACKEND("avx512");
  // The register path (k ≤ 16, n ≥ 8k): k = 1, a prime, 16; widths one under, at and over a
  // 16-column block and the kNN tile (2048); and the avx2 fallbacks (k = 17, n < 8k).
  for (auto [m, n, k] : {std::tuple<int64_t, int64_t, int64_t>{300, 1000, 5},
                         {64, 2048, 5},
                         {40, 100, 1},
                         {40, 8, 1},
                         {33, 129, 16},
                         {33, 128, 16},
                         {33, 143, 13},
                         {17, 63, 7},
                         {50, 517, 17},
                         {20, 20, 20},
                         {9, 300, 65}}) {
    expect_topk_matches_reference(topk_rows_avx512, m, n, k, 11);
  }
}

}  // namespace
}  // namespace mlcore::cpu
