// Kernel-level tests of the avx2 backend's non-GEMM kernels (src/cpu/primitives_avx2.cpp,
// vecmath_avx2.hpp) and of its int8 GEMM (igemm_avx2.cpp); the kernels the avx512 backend
// replaces (sqdist, argmin, the VNNI int8 GEMM: primitives_avx512.cpp, igemm_avx512.cpp) run
// the same test bodies (the TEST_P suites below, one instance per instruction set). The
// backend-level test in tests/cpp/core/test_primitives.cpp covers the semantics on small shapes;
// these add what it cannot see: ulp accuracy of the vector math over dense sweeps and IEEE special
// values, and shapes large enough to take the multi-threaded paths (private scatter copies,
// per-thread partial sums), each against the scalar reference.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "cpu/gemm_avx2.hpp"
#include "cpu/gemm_avx512.hpp"
#include "cpu/gemm_scalar.hpp"
#include "cpu/map_scalar.hpp"
#include "cpu/primitives_avx2.hpp"
#include "cpu/primitives_avx512.hpp"
#include "cpu/row_select.hpp"
#include "mlcore/parallel.hpp"
#include "test_util.hpp"

namespace mlcore::cpu {
namespace {

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

class Simd : public ::testing::TestWithParam<SimdKernels> {
 protected:
  void SetUp() override { MLCORE_SKIP_UNLESS_BACKEND(GetParam().backend); }
};
INSTANTIATE_TEST_SUITE_P(Kernels, Simd, ::testing::ValuesIn(kSimd),
                         [](const ::testing::TestParamInfo<SimdKernels>& info) {
                           return std::string(info.param.backend);
                         });

constexpr int kThreads = 4;  // more than this machine's cores is fine: the kernels cap it
const float kInf = std::numeric_limits<float>::infinity();
const float kNaN = std::numeric_limits<float>::quiet_NaN();

std::vector<float> random_floats(int64_t count, float lo, float hi, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(count);
  for (float& x : v) x = dist(rng);
  return v;
}

// Distance from `got` to the exact value `ref` in units of the f32 ulp at ref (subnormal ulp
// below the normal range). Matching infinities/NaNs count as 0.
double ulp_error(float got, double ref) {
  if (std::isnan(ref)) return std::isnan(got) ? 0.0 : INFINITY;
  if (std::isinf(ref) || std::fabs(ref) > std::numeric_limits<float>::max()) {
    return (std::isinf(got) && (got > 0) == (ref > 0)) ? 0.0 : INFINITY;
  }
  const double a = std::max(std::fabs(ref), double(std::numeric_limits<float>::min()));
  const double ulp = std::ldexp(1.0, std::ilogb(a) - 23);
  return std::fabs(double(got) - ref) / ulp;
}

struct UlpCase {
  MapFn fn;
  double (*ref)(double);
  double lo, hi;   // sweep range of u
  double max_ulp;  // the bound documented in vecmath_avx2.hpp
};

// A dense sweep (2^20 points, evenly spaced in u) plus random points: the worst error found must
// be within the documented bound.
TEST(VecmathAvx2, UlpErrorWithinDocumentedBounds) {
  SKIP_WITHOUT_AVX2();
  const UlpCase cases[] = {
      {MapFn::exp, [](double u) { return std::exp(u); }, -103.9, 88.7, 2.0},
      {MapFn::exp, [](double u) { return std::exp(u); }, -1e-3, 1e-3, 2.0},
      {MapFn::log, [](double u) { return std::log(u); }, 1e-6, 1e6, 2.0},
      {MapFn::log, [](double u) { return std::log(u); }, 0.5, 2.0, 2.0},
      {MapFn::sigmoid, [](double u) { return 1.0 / (1.0 + std::exp(-u)); }, -100, 100, 3.0},
      {MapFn::tanh, [](double u) { return std::tanh(u); }, -10, 10, 4.0},
      {MapFn::tanh, [](double u) { return std::tanh(u); }, -1e-3, 1e-3, 4.0},
      {MapFn::log1pexp,
       [](double u) { return u > 0 ? u + std::log1p(std::exp(-u)) : std::log1p(std::exp(u)); },
       -100, 100, 4.0},
  };
  for (const UlpCase& c : cases) {
    const int64_t count = int64_t{1} << 20;
    std::vector<float> x(count), y(count);
    for (int64_t i = 0; i < count; ++i)
      x[i] = float(c.lo + (c.hi - c.lo) * double(i) / double(count - 1));
    map_avx2(c.fn, count, x.data(), y.data(), MapArgs{}, kThreads);
    double worst = 0.0;
    float worst_u = 0.0f;
    for (int64_t i = 0; i < count; ++i) {
      const double e = ulp_error(y[i], c.ref(double(x[i])));
      if (e > worst) {
        worst = e;
        worst_u = x[i];
      }
    }
    EXPECT_LE(worst, c.max_ulp) << map_fn_name(c.fn) << " on [" << c.lo << ", " << c.hi
                                << "]: worst at u = " << worst_u;
  }
}

TEST(VecmathAvx2, LogOfSubnormalsAndAllExponents) {
  SKIP_WITHOUT_AVX2();
  // One value per binade from the smallest subnormal to the largest float, and its neighbours.
  std::vector<float> x;
  for (float v = std::numeric_limits<float>::denorm_min();
       v < std::numeric_limits<float>::max() / 2; v *= 2.0f) {
    x.push_back(v);
    x.push_back(std::nextafter(v, kInf));
    x.push_back(v * 1.41421356f);
  }
  std::vector<float> y(x.size());
  map_avx2(MapFn::log, int64_t(x.size()), x.data(), y.data(), MapArgs{}, 1);
  for (std::size_t i = 0; i < x.size(); ++i) {
    EXPECT_LE(ulp_error(y[i], std::log(double(x[i]))), 2.0) << "log(" << x[i] << ")";
  }
}

TEST(VecmathAvx2, IeeeSpecialValues) {
  SKIP_WITHOUT_AVX2();
  const float specials[] = {
      0.0f,   -0.0f,  kInf,    -kInf, kNaN,
      89.0f,  -89.0f, -104.0f, -1.0f, std::numeric_limits<float>::denorm_min(),
      1e-30f, -1e-30f};
  const MapFn fns[] = {MapFn::exp,  MapFn::log,  MapFn::sigmoid, MapFn::tanh,      MapFn::log1pexp,
                       MapFn::sqrt, MapFn::relu, MapFn::abs,     MapFn::reciprocal};
  for (MapFn fn : fns) {
    for (float s : specials) {
      float y = 0.0f;
      map_avx2(fn, 1, &s, &y, MapArgs{}, 1);
      const float want = apply_map_fn(fn, s, MapArgs{});
      if (std::isnan(want)) {
        EXPECT_TRUE(std::isnan(y)) << map_fn_name(fn) << "(" << s << ") = " << y;
      } else if (std::isinf(want) || want == 0.0f) {
        EXPECT_EQ(y, want) << map_fn_name(fn) << "(" << s << ")";
      } else {
        EXPECT_LE(ulp_error(y, double(want)), 4.0)
            << map_fn_name(fn) << "(" << s << ") = " << y << ", want " << want;
      }
    }
  }
}

TEST(VecmathAvx2, IntegerPowersIncludingNegativeBases) {
  SKIP_WITHOUT_AVX2();
  std::vector<float> x = random_floats(1003, -3.0f, 3.0f, 5);
  std::vector<float> y(x.size());
  for (float p : {0.0f, 1.0f, 2.0f, 3.0f, 5.0f, -2.0f, 7.0f}) {
    map_avx2(MapFn::pow, int64_t(x.size()), x.data(), y.data(), MapArgs{1.0f, 0.0f, p}, 1);
    for (std::size_t i = 0; i < x.size(); ++i) {
      EXPECT_LE(ulp_error(y[i], std::pow(double(x[i]), double(p))), 1.0)
          << x[i] << "^" << p << " = " << y[i];
    }
  }
  // A fractional power takes std::pow (NaN for a negative base, as in IEEE).
  map_avx2(MapFn::pow, int64_t(x.size()), x.data(), y.data(), MapArgs{1.0f, 0.0f, 0.5f}, 1);
  for (std::size_t i = 0; i < x.size(); ++i) EXPECT_EQ(std::isnan(y[i]), x[i] < 0.0f);
}

// Every map function on a large array (threads), in place and out of place, against the scalar
// definition: same u, results within a few ulp.
TEST(PrimitivesAvx2, MapLargeArraysInPlace) {
  SKIP_WITHOUT_AVX2();
  const int64_t count = (1 << 18) + 5;
  const std::vector<float> x = random_floats(count, -5.0f, 5.0f, 11);
  const MapArgs args{0.75f, 1.25f, 3.0f};
  for (MapFn fn :
       {MapFn::identity, MapFn::exp, MapFn::log, MapFn::sigmoid, MapFn::tanh, MapFn::sqrt,
        MapFn::square, MapFn::abs, MapFn::relu, MapFn::reciprocal, MapFn::pow, MapFn::log1pexp}) {
    std::vector<float> y = x;
    map_avx2(fn, count, y.data(), y.data(), args, kThreads);
    int64_t bad = 0;
    for (int64_t i = 0; i < count; ++i) {
      const float want = apply_map_fn(fn, x[i], args);
      const bool ok = std::isnan(want) ? std::isnan(y[i]) : ulp_error(y[i], want) <= 5.0;
      if (!ok && ++bad <= 3) {
        ADD_FAILURE() << map_fn_name(fn) << "(" << x[i] << "): got " << y[i] << ", want " << want;
      }
    }
  }
}

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

TEST_P(Simd, SqdistLargeIsClampedAndAccurate) {
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

TEST_P(Simd, ArgminMatchesReferenceOnNastyRows) {
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

TEST(PrimitivesAvx2, TopkFilteredPathMatchesReference) {
  SKIP_WITHOUT_AVX2();
  for (auto [m, n, k] : {std::tuple<int64_t, int64_t, int64_t>{300, 1000, 5},
                         {50, 517, 64},
                         {40, 100, 1},
                         {20, 20, 20},
                         {9, 300, 65}}) {
    std::vector<float> D = random_floats(m * n, -1, 1, 7);
    for (int64_t i = 0; i < m * n; i += 5) D[i] = std::round(D[i] * 8) / 8;  // ties
    for (int64_t j = 0; j < n; ++j) {
      if (j % 3 == 0) D[j] = kNaN;         // row 0: a third NaN
      D[n + j] = j < n - 3 ? kNaN : 1.0f;  // row 1: numbers only at the end
    }
    std::vector<int32_t> index(m * k), want_index(k);
    std::vector<float> value(m * k), want_value(k);
    std::vector<int32_t> scratch;
    topk_rows_avx2(m, n, k, D.data(), index.data(), value.data(), kThreads);
    for (int64_t i = 0; i < m; ++i) {
      row_topk(D.data() + i * n, n, k, scratch, want_index.data(), want_value.data());
      for (int64_t q = 0; q < k; ++q) {
        ASSERT_EQ(index[i * k + q], want_index[q])
            << "row " << i << " rank " << q << " (n=" << n << ", k=" << k << ")";
      }
    }
  }
}

TEST(PrimitivesAvx2, SoftmaxLargeRowsAndTails) {
  SKIP_WITHOUT_AVX2();
  for (auto [m, n] : {std::pair<int64_t, int64_t>{3000, 13}, {7, 10001}}) {
    std::vector<float> X = random_floats(m * n, -30, 30, 8);
    X[0] = 1000.0f;
    for (bool log : {false, true}) {
      std::vector<float> Y(m * n);
      softmax_rows_avx2(m, n, X.data(), Y.data(), log, kThreads);
      for (int64_t i = 0; i < m; ++i) {
        // x − max is rounded to f32 first, as every backend computes it (for x − max ≈ −60 that
        // rounding alone moves exp() by ~1e-6 relative, more than the tolerance).
        float mx = -INFINITY;
        for (int64_t j = 0; j < n; ++j) mx = std::max(mx, X[i * n + j]);
        double sum = 0;
        for (int64_t j = 0; j < n; ++j) sum += std::exp(double(X[i * n + j] - mx));
        for (int64_t j = 0; j < n; ++j) {
          const double ls = double(X[i * n + j] - mx) - std::log(sum);
          const double ref = log ? ls : std::exp(ls);
          // log_softmax of the max element is −ln Σ ≈ −(tiny) when one term dominates; both
          // sides sum 1 + tiny in double, so compare that case absolutely (1e-12 ≫ 2⁻⁵²).
          ASSERT_NEAR(Y[i * n + j], ref, 16 * 1.2e-7 * std::fabs(ref) + (log ? 1e-12 : 1e-30))
              << (log ? "log_" : "") << "softmax " << m << "x" << n << " at " << i << "," << j;
        }
      }
    }
  }
}

TEST(PrimitivesAvx2, ElementwiseLargeAndUnaligned) {
  SKIP_WITHOUT_AVX2();
  const int64_t count = (1 << 20) + 3;
  const std::vector<float> x = random_floats(count + 1, -1, 1, 9);
  const std::vector<float> y0 = random_floats(count + 1, -1, 1, 10);
  // Start one float in, so no pointer is 32-byte aligned.
  std::vector<float> y = y0;
  axpby_avx2(count, 2.0f, x.data() + 1, -0.5f, y.data() + 1, kThreads);
  for (int64_t i = 0; i < count; ++i) {
    ASSERT_NEAR(y[i + 1], 2.0 * x[i + 1] - 0.5 * y0[i + 1], 4e-7) << i;
  }
  ASSERT_EQ(y[0], y0[0]) << "wrote before the array";
  std::fill(y.begin(), y.end(), kNaN);
  axpby_avx2(count, 3.0f, x.data(), 0.0f, y.data(), kThreads);  // beta = 0 ignores NaN
  for (int64_t i = 0; i < count; ++i) ASSERT_EQ(y[i], 3.0f * x[i]);
  y = y0;
  multiply_avx2(count, x.data(), y.data(), kThreads);
  for (int64_t i = 0; i < count; ++i) ASSERT_EQ(y[i], x[i] * y0[i]);

  const int64_t m = 20011, n = 53;
  const std::vector<float> v = random_floats(n, -1, 1, 12), w = random_floats(m, -1, 1, 13);
  std::vector<float> Y = random_floats(m * n, -1, 1, 14), Y0 = Y;
  add_row_vector_avx2(m, n, -1.5f, v.data(), Y.data(), kThreads);
  for (int64_t i = 0; i < m * n; ++i) ASSERT_EQ(Y[i], Y0[i] + -1.5f * v[i % n]) << i;
  Y = Y0;
  scale_rows_avx2(m, n, w.data(), Y.data(), kThreads);
  for (int64_t i = 0; i < m * n; ++i) ASSERT_EQ(Y[i], Y0[i] * w[i / n]) << i;
}

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
  for (auto [m, n] : {std::pair<int64_t, int64_t>{300000, 3}, {40000, 37}, {1, 20}}) {
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

TEST_P(Simd, Int8GemmExactOnLargeThreadedShapes) {
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

TEST_P(Simd, Int8GemmCalledFromInsideAParallelRegion) {
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
TEST_P(Simd, Int8GemmExtremesOverLongK) {
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
