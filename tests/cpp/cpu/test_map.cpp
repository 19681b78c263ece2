// The vector math (vecmath_avx2.hpp: ulp bounds over dense sweeps, IEEE special values) and the
// avx2 map, softmax and element-wise kernels (map_avx2.cpp, elementwise_avx2.cpp), against the
// scalar reference.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "cpu/map_scalar.hpp"
#include "cpu_test_util.hpp"

namespace mlcore::cpu {
namespace {

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

TEST(PrimitivesAvx2, SoftmaxLargeRowsAndTails) {
  SKIP_WITHOUT_AVX2();
  // Wide rows, and narrow ones (n < 8: eight rows at a time, lanes across rows) with row counts
  // that leave a partial group.
  for (auto [m, n] : {std::pair<int64_t, int64_t>{3000, 13},
                      {7, 10001},
                      {1003, 5},
                      {17, 1},
                      {9, 7},
                      {4, 2},
                      {64, 3}}) {
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

}  // namespace
}  // namespace mlcore::cpu
