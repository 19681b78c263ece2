// scatter_add and gather_rows (scatter_add_avx2.cpp) on threaded shapes, and the column
// reductions (reduce_avx2.cpp) in double accuracy, against serial sums.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "cpu_test_util.hpp"

namespace mlcore::cpu {
namespace {

TEST(PrimitivesAvx2, ScatterAddPrivateCopiesMatchSerialSums) {
  SKIP_WITHOUT_AVX2();
  // k-means-like (few targets, many samples: the private-copy path) and histogram-like.
  for (auto [n, p, c, rows] : {std::tuple<int64_t, int64_t, int64_t, int64_t>{200000, 1, 9, 8},
                               {50000, 4, 3, 1024},
                               {1000, 2, 17, 5000}}) {
    const std::vector<float> X = random_floats(n * c, -1, 1, 15);
    std::vector<int32_t> index(n * p);
    std::mt19937 rng(16);
    std::uniform_int_distribution<int> pick(-1, int(rows) - 1);
    for (int32_t& t : index) t = pick(rng);
    std::vector<float> out = random_floats(rows * c, -1, 1, 17);
    std::vector<double> ref(out.begin(), out.end()), mag(rows * c, 1.0);
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t q = 0; q < p; ++q) {
        const int32_t t = index[i * p + q];
        if (t < 0) continue;
        for (int64_t j = 0; j < c; ++j) {
          ref[t * c + j] += X[i * c + j];
          mag[t * c + j] += std::fabs(X[i * c + j]);
        }
      }
    }
    scatter_add_avx2(n, p, c, index.data(), X.data(), rows, out.data(), kThreads);
    for (int64_t i = 0; i < rows * c; ++i) {
      ASSERT_NEAR(out[i], ref[i], (n + 2) * 1.2e-7 * mag[i]) << "n=" << n << " flat " << i;
    }
  }
}

TEST(PrimitivesAvx2, GatherRowsLargeAnyRowSize) {
  SKIP_WITHOUT_AVX2();
  const int64_t rows = 1000, m = 300000;
  for (int64_t row_bytes : {int64_t{1}, int64_t{12}, int64_t{260}}) {
    std::vector<char> X(rows * row_bytes);
    for (std::size_t i = 0; i < X.size(); ++i) X[i] = char(i * 7);
    std::vector<int32_t> index(m);
    for (int64_t i = 0; i < m; ++i) index[i] = int32_t((i * 131) % rows);
    std::vector<char> Y(m * row_bytes);
    gather_rows_avx2(m, row_bytes, X.data(), index.data(), Y.data(), kThreads);
    for (int64_t i = 0; i < m; ++i) {
      ASSERT_EQ(std::memcmp(Y.data() + i * row_bytes, X.data() + index[i] * row_bytes, row_bytes),
                0);
    }
  }
}

TEST(PrimitivesAvx2, ReduceColsThreadedDoubleAccuracy) {
  SKIP_WITHOUT_AVX2();
  // Narrow X (n < 8: the flat, register-accumulator path) at every width, with row counts that
  // leave a partial group of 8 rows, and wide X (the row-at-a-time path).
  for (auto [m, n] : {std::pair<int64_t, int64_t>{300000, 3},
                      {40000, 37},
                      {1, 20},
                      {100003, 1},
                      {13, 2},
                      {8191, 4},
                      {7, 5},
                      {99991, 6},
                      {17, 7},
                      {1, 1},
                      {70001, 33}}) {
    // Mean ~1700 × the spread: E[x²] − E[x]² would lose ~6 of double's 16 digits here
    // (mean²/var ≈ 3·10⁶) and all of f32's. The variance is merged from chunks of ~128 KiB (a
    // partial one at the end) and blocks of rows.
    const std::vector<float> X = random_floats(m * n, 999.0f, 1001.0f, 18);
    for (Reduce op : {Reduce::sum, Reduce::mean, Reduce::var}) {
      std::vector<float> out(n);
      reduce_cols_avx2(op, m, n, X.data(), out.data(), kThreads);
      for (int64_t j = 0; j < n; ++j) {
        double s = 0, ss = 0;
        for (int64_t i = 0; i < m; ++i) s += X[i * n + j];
        const double mean = s / m;
        for (int64_t i = 0; i < m; ++i) ss += (X[i * n + j] - mean) * (X[i * n + j] - mean);
        const double ref = op == Reduce::sum ? s : op == Reduce::mean ? mean : ss / m;
        // Double sums: only the final rounding to f32 remains.
        ASSERT_NEAR(out[j], ref, 1.2e-7 * std::fabs(ref) + 1e-30)
            << reduce_name(op) << " " << m << "x" << n << " col " << j;
      }
    }
  }
}

TEST(PrimitivesAvx2, AddRowVectorAndScaleRowsAnyWidth) {
  SKIP_WITHOUT_AVX2();
  for (auto [m, n] :
       {std::pair<int64_t, int64_t>{100003, 1}, {37, 3}, {9, 7}, {1000, 8}, {5, 19}}) {
    const std::vector<float> Y0 = random_floats(m * n, -2.0f, 2.0f, 5);
    const std::vector<float> v = random_floats(n, -1.0f, 1.0f, 6);
    const std::vector<float> w = random_floats(m, -1.0f, 1.0f, 7);
    std::vector<float> Y = Y0;
    add_row_vector_avx2(m, n, -3.0f, v.data(), Y.data(), kThreads);
    for (int64_t i = 0; i < m * n; ++i) {
      // One rounding of Y + (−3·v): the same as the plain loop's.
      ASSERT_EQ(Y[i], Y0[i] + -3.0f * v[i % n]) << m << "x" << n << " flat " << i;
    }
    Y = Y0;
    scale_rows_avx2(m, n, w.data(), Y.data(), kThreads);
    for (int64_t i = 0; i < m * n; ++i) {
      ASSERT_EQ(Y[i], Y0[i] * w[i / n]) << m << "x" << n << " flat " << i;
    }
  }
}

}  // namespace
}  // namespace mlcore::cpu
