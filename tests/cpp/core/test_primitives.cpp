// Every primitive on every f32 backend against a float64 reference computed here with plain
// loops, on random inputs whose shapes include 1, primes and non-multiples of every tile size
// (the AVX2 micro-tile is 6×16, its blocks 144×256×4080; CUDA tiles are powers of two).
#include <algorithm>
#include <cstring>
#include <limits>
#include <numeric>

#include "test_util.hpp"

namespace mlcore::test {
namespace {

class Primitives : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    MLCORE_SKIP_UNLESS_BACKEND(GetParam());
    on.b = backend(GetParam());
  }
  OnBackend on;
  std::mt19937 rng{12345};
};

struct GemmShape {
  std::int64_t m, n, k;
};

// Shapes: degenerate, prime, just off the 6×16 micro-tile, spanning the KC = 256 panel depth,
// and one large enough to spread over threads and several MC blocks.
const GemmShape kGemmShapes[] = {{1, 1, 1},    {1, 7, 3},      {13, 1, 17},   {6, 16, 8},
                                 {7, 17, 9},   {37, 41, 29},   {5, 33, 257},  {97, 130, 61},
                                 {64, 64, 64}, {149, 37, 300}, {301, 263, 19}};

TEST_P(Primitives, GemmMatchesFloat64ForAllTransposesAndScalings) {
  const std::pair<float, float> scalings[] = {{1.0f, 0.0f}, {0.5f, 2.0f}, {-1.5f, 1.0f}};
  for (const GemmShape& s : kGemmShapes) {
    for (bool ta : {false, true}) {
      for (bool tb : {false, true}) {
        for (auto [alpha, beta] : scalings) {
          Tensor A = ta ? random_tensor(s.k, s.m, rng) : random_tensor(s.m, s.k, rng);
          Tensor B = tb ? random_tensor(s.n, s.k, rng) : random_tensor(s.k, s.n, rng);
          Tensor C0 = random_tensor(s.m, s.n, rng);
          if (beta == 0.0f) {
            // beta = 0 must ignore C entirely, NaN included (BLAS semantics).
            std::fill_n(C0.data<float>(), C0.numel(), std::numeric_limits<float>::quiet_NaN());
          }
          std::vector<double> ref(s.m * s.n), scale(s.m * s.n);
          for (std::int64_t i = 0; i < s.m; ++i) {
            for (std::int64_t j = 0; j < s.n; ++j) {
              double sum = 0, mag = 0;
              for (std::int64_t p = 0; p < s.k; ++p) {
                const double prod = op_at(A, ta, i, p) * op_at(B, tb, p, j);
                sum += prod;
                mag += std::fabs(prod);
              }
              const double c = beta == 0.0f ? 0.0 : beta * C0.at<float>(i, j);
              ref[i * s.n + j] = alpha * sum + c;
              scale[i * s.n + j] = std::fabs(alpha) * mag + std::fabs(c);
            }
          }
          Tensor C = on.dev(C0.clone());
          on.b->gemm(ta ? Trans::yes : Trans::no, tb ? Trans::yes : Trans::no, alpha, on.dev(A),
                     on.dev(B), beta, C);
          // Summation error of a k-term f32 dot product is at most ~k·eps·Σ|a·b|; random
          // signs make it far smaller in practice, so (k + 2)·eps is a safe, still-tight bound.
          const double rtol = static_cast<double>(s.k + 2) * kEpsF32;
          expect_close(on.host(C), ref, scale, rtol, 1e-6,
                       "gemm " + std::to_string(s.m) + "x" + std::to_string(s.n) + "x" +
                           std::to_string(s.k) + " ta=" + std::to_string(ta) +
                           " tb=" + std::to_string(tb) + " alpha=" + std::to_string(alpha) +
                           " beta=" + std::to_string(beta));
        }
      }
    }
  }
}

// A Gram matrix, B the same tensor as A and one of them transposed: the CPU GEMMs compute only
// its lower triangle's tiles and mirror them (gemm_driver.hpp, symmetric_product). Sizes across
// the micro-tile and split-k boundaries; exact symmetry, float64 agreement, C's NaNs ignored at
// β = 0, and β ≠ 0 (where C need not be symmetric, so the whole product is computed).
TEST_P(Primitives, GramMatrixOfOneOperandMatchesFloat64AndIsSymmetric) {
  const std::pair<std::int64_t, std::int64_t> shapes[] = {{1, 1},    {7, 3},      {13, 300},
                                                          {33, 129}, {100, 5000}, {131, 2053}};
  for (auto [d, k] : shapes) {
    for (bool xtx : {true, false}) {  // XᵀX of X (k × d), or X·Xᵀ of X (d × k)
      for (float beta : {0.0f, 0.5f}) {
        Tensor X = xtx ? random_tensor(k, d, rng) : random_tensor(d, k, rng);
        Tensor C0 = random_tensor(d, d, rng);  // not symmetric: β·C0 shows if it is dropped
        if (beta == 0.0f) {
          std::fill_n(C0.data<float>(), C0.numel(), std::numeric_limits<float>::quiet_NaN());
        }
        std::vector<double> ref(d * d), scale(d * d);
        for (std::int64_t i = 0; i < d; ++i) {
          for (std::int64_t j = 0; j < d; ++j) {
            double sum = 0, mag = 0;
            for (std::int64_t p = 0; p < k; ++p) {
              const double prod = op_at(X, xtx, i, p) * op_at(X, !xtx, p, j);
              sum += prod;
              mag += std::fabs(prod);
            }
            const double c = beta == 0.0f ? 0.0 : beta * C0.at<float>(i, j);
            ref[i * d + j] = 1.5 * sum + c;
            scale[i * d + j] = 1.5 * mag + std::fabs(c);
          }
        }
        const Tensor Xd = on.dev(X);
        Tensor C = on.dev(C0.clone());
        on.b->gemm(xtx ? Trans::yes : Trans::no, xtx ? Trans::no : Trans::yes, 1.5f, Xd, Xd, beta,
                   C);
        const Tensor Ch = on.host(C);
        const std::string what = std::string(xtx ? "XtX " : "XXt ") + std::to_string(d) + "x" +
                                 std::to_string(k) + " beta=" + std::to_string(beta);
        expect_close(Ch, ref, scale, static_cast<double>(k + 2) * kEpsF32, 1e-6, what);
        if (beta == 0.0f) {
          for (std::int64_t i = 0; i < d; ++i) {
            for (std::int64_t j = 0; j < i; ++j) {
              ASSERT_EQ(Ch.at<float>(i, j), Ch.at<float>(j, i)) << what << " at " << i << "," << j;
            }
          }
        }
      }
    }
  }
}

TEST_P(Primitives, GemmWithZeroInnerDimensionScalesC) {
  Tensor A(4, 0), B(0, 3);
  Tensor C0 = random_tensor(4, 3, rng);
  Tensor C = on.dev(C0.clone());
  on.b->gemm(Trans::no, Trans::no, 1.0f, on.dev(A), on.dev(B), 0.5f, C);
  std::vector<double> ref(12);
  for (int i = 0; i < 12; ++i) ref[i] = 0.5 * C0.data<float>()[i];
  expect_close(on.host(C), ref, 1e-6, 0.0, "gemm with k = 0");
}

TEST_P(Primitives, Int8GemmIsExact) {
  const GemmShape shapes[] = {{1, 1, 1}, {3, 5, 7}, {17, 31, 64}, {65, 33, 129}, {130, 70, 300}};
  for (const GemmShape& s : shapes) {
    for (bool ta : {false, true}) {
      for (bool tb : {false, true}) {
        for (bool accumulate : {false, true}) {
          Tensor A = ta ? random_i8(s.k, s.m, rng) : random_i8(s.m, s.k, rng);
          Tensor B = tb ? random_i8(s.n, s.k, rng) : random_i8(s.k, s.n, rng);
          Tensor C0(s.m, s.n, DType::i32);
          for (std::int64_t i = 0; i < C0.numel(); ++i)
            C0.data<std::int32_t>()[i] = int(i % 97) - 40;
          Tensor C = on.dev(C0.clone());
          on.b->gemm(ta ? Trans::yes : Trans::no, tb ? Trans::yes : Trans::no, 1.0f, on.dev(A),
                     on.dev(B), accumulate ? 1.0f : 0.0f, C);
          Tensor got = on.host(C);
          std::int64_t mismatches = 0;
          for (std::int64_t i = 0; i < s.m; ++i) {
            for (std::int64_t j = 0; j < s.n; ++j) {
              std::int64_t sum = accumulate ? C0.at<std::int32_t>(i, j) : 0;
              for (std::int64_t p = 0; p < s.k; ++p) {
                const int a = ta ? A.at<std::int8_t>(p, i) : A.at<std::int8_t>(i, p);
                const int b = tb ? B.at<std::int8_t>(j, p) : B.at<std::int8_t>(p, j);
                sum += a * b;
              }
              mismatches += got.at<std::int32_t>(i, j) != sum;
            }
          }
          EXPECT_EQ(mismatches, 0) << "int8 gemm " << s.m << "x" << s.n << "x" << s.k
                                   << " ta=" << ta << " tb=" << tb << " acc=" << accumulate;
        }
      }
    }
  }
}

TEST_P(Primitives, GemvMatchesFloat64) {
  const std::pair<std::int64_t, std::int64_t> shapes[] = {
      {1, 1}, {1, 13}, {17, 1}, {31, 67}, {300, 129}};
  for (auto [m, n] : shapes) {
    for (bool ta : {false, true}) {
      Tensor A = random_tensor(m, n, rng);
      const std::int64_t in = ta ? m : n, out = ta ? n : m;
      Tensor x = random_tensor(in, 1, rng);
      Tensor y0 = random_tensor(1, out, rng);  // a row vector works as well as a column
      const float alpha = 1.25f, beta = -0.5f;
      std::vector<double> ref(out), scale(out);
      for (std::int64_t i = 0; i < out; ++i) {
        double sum = 0, mag = 0;
        for (std::int64_t p = 0; p < in; ++p) {
          const double prod = (ta ? A.at<float>(p, i) : A.at<float>(i, p)) * x.data<float>()[p];
          sum += prod;
          mag += std::fabs(prod);
        }
        ref[i] = alpha * sum + beta * y0.data<float>()[i];
        scale[i] = std::fabs(alpha) * mag + std::fabs(beta * y0.data<float>()[i]);
      }
      Tensor y = on.dev(y0.clone());
      on.b->gemv(ta ? Trans::yes : Trans::no, alpha, on.dev(A), on.dev(x), beta, y);
      expect_close(
          on.host(y), ref, scale, (in + 2) * kEpsF32, 1e-6,
          "gemv " + std::to_string(m) + "x" + std::to_string(n) + " ta=" + std::to_string(ta));
    }
  }
}

TEST_P(Primitives, SqdistMatchesFloat64AndIsNonNegative) {
  const GemmShape shapes[] = {{1, 1, 1}, {5, 3, 2}, {37, 53, 17}, {200, 64, 33}, {129, 257, 3}};
  for (const GemmShape& s : shapes) {
    // An offset makes ‖a‖² and ‖b‖² large next to ‖a − b‖²: the expansion's cancellation case.
    Tensor A = random_tensor(s.m, s.k, rng, 2.0f, 3.0f);
    Tensor B = random_tensor(s.n, s.k, rng, 2.0f, 3.0f);
    // Rows equal to a row of A: their distance is exactly 0 and must not come out negative.
    for (std::int64_t p = 0; p < s.k; ++p) B.at<float>(0, p) = A.at<float>(0, p);
    std::vector<double> ref(s.m * s.n), scale(s.m * s.n);
    for (std::int64_t i = 0; i < s.m; ++i) {
      for (std::int64_t j = 0; j < s.n; ++j) {
        double d = 0, na = 0, nb = 0;
        for (std::int64_t p = 0; p < s.k; ++p) {
          const double diff = A.at<float>(i, p) - B.at<float>(j, p);
          d += diff * diff;
          na += A.at<float>(i, p) * A.at<float>(i, p);
          nb += B.at<float>(j, p) * B.at<float>(j, p);
        }
        ref[i * s.n + j] = d;
        scale[i * s.n + j] = na + nb;  // the size of the terms that cancel
      }
    }
    Tensor D = on.b->empty(s.m, s.n);
    on.b->sqdist(on.dev(A), on.dev(B), D);
    Tensor got = on.host(D);
    expect_close(
        got, ref, scale, (s.k + 4) * kEpsF32 * 2, 1e-6,
        "sqdist " + std::to_string(s.m) + "x" + std::to_string(s.n) + " d=" + std::to_string(s.k));
    for (std::int64_t i = 0; i < got.numel(); ++i) {
      ASSERT_GE(got.data<float>()[i], 0.0f) << "sqdist must clamp at 0 (flat index " << i << ")";
    }
  }
}

TEST_P(Primitives, MinkowskiDistMatchesFloat64ForEachExponent) {
  // p = 1, 2, ∞ take the register-blocked SIMD paths; 3, 1.5 and 0.5 (a semi-metric) the pow
  // loop. Shapes cover 1,
  // primes and non-multiples of the 4 × 16 micro-tile and of CUDA's 16 × 16 tile.
  const float inf = std::numeric_limits<float>::infinity();
  const GemmShape shapes[] = {{1, 1, 1}, {1, 17, 3}, {5, 16, 16}, {13, 33, 7}, {67, 131, 29}};
  for (float p : {1.0f, 2.0f, inf, 3.0f, 1.5f, 0.5f}) {
    for (const GemmShape& s : shapes) {
      Tensor A = random_tensor(s.m, s.k, rng, -2.0f, 2.0f);
      Tensor B = random_tensor(s.n, s.k, rng, -2.0f, 2.0f);
      for (std::int64_t q = 0; q < s.k; ++q) B.at<float>(0, q) = A.at<float>(0, q);  // 0 apart
      std::vector<double> ref(s.m * s.n), scale(s.m * s.n);
      for (std::int64_t i = 0; i < s.m; ++i) {
        for (std::int64_t j = 0; j < s.n; ++j) {
          double acc = 0;
          for (std::int64_t q = 0; q < s.k; ++q) {
            const double v = std::fabs(double(A.at<float>(i, q)) - B.at<float>(j, q));
            acc = p == inf ? std::max(acc, v) : acc + std::pow(v, double(p));
          }
          ref[i * s.n + j] = acc;
          scale[i * s.n + j] = acc;  // every term is >= 0: no cancellation
        }
      }
      Tensor D = on.b->empty(s.m, s.n);
      on.b->minkowski_dist(on.dev(A), on.dev(B), p, D);
      Tensor got = on.host(D);
      expect_close(got, ref, scale, (s.k + 8) * kEpsF32 * 4, 0.0,
                   "minkowski_dist p=" + std::to_string(p) + " " + std::to_string(s.m) + "x" +
                       std::to_string(s.n) + " d=" + std::to_string(s.k));
      EXPECT_EQ(got.at<float>(0, 0), 0.0f) << "identical rows must be exactly 0 apart, p=" << p;
    }
  }
  // Its record: no multiply-adds (nothing for a GEMM or a matrix unit to take).
  const Tensor A = on.dev(random_tensor(3, 5, rng)), B = on.dev(random_tensor(4, 5, rng));
  Tensor D = on.b->empty(3, 4);
  Profile profile;
  {
    ProfileScope scope(profile);
    on.b->minkowski_dist(A, B, 1.0f, D);
  }
  ASSERT_EQ(profile.records().size(), 1u);
  EXPECT_EQ(profile.records()[0].op, "minkowski_dist");
  EXPECT_EQ(profile.records()[0].macs, 0);
}

TEST_P(Primitives, MinkowskiDistRefusesBadArguments) {
  Tensor D = on.b->empty(3, 4);
  const Tensor A = on.dev(random_tensor(3, 5, rng)), B = on.dev(random_tensor(4, 5, rng));
  EXPECT_THROW(on.b->minkowski_dist(A, B, 0.0f, D), Error);
  EXPECT_THROW(on.b->minkowski_dist(A, B, -1.0f, D), Error);
  EXPECT_THROW(on.b->minkowski_dist(A, B, std::numeric_limits<float>::quiet_NaN(), D), Error);
  EXPECT_THROW(on.b->minkowski_dist(A, on.dev(random_tensor(4, 6, rng)), 1.0f, D), Error);
  Tensor wrong = on.b->empty(4, 3);
  EXPECT_THROW(on.b->minkowski_dist(A, B, 1.0f, wrong), Error);
}

TEST_P(Primitives, ArgminRowsPicksFirstMinimumAndSkipsNaN) {
  const std::pair<std::int64_t, std::int64_t> shapes[] = {
      {1, 1}, {7, 1}, {1, 19}, {33, 64}, {101, 257}};
  for (auto [m, n] : shapes) {
    Tensor D = random_tensor(m, n, rng);
    // Plant ties and NaNs: row 0's minimum appears twice, row 1 starts with a NaN.
    if (n >= 3) {
      D.at<float>(0, 1) = -5.0f;
      D.at<float>(0, n - 1) = -5.0f;
    }
    if (m >= 2 && n >= 2) D.at<float>(1, 0) = std::numeric_limits<float>::quiet_NaN();
    Tensor idx = on.b->empty(m, 1, DType::i32), val = on.b->empty(m, 1);
    on.b->argmin_rows(on.dev(D), idx, val);
    Tensor hi = on.host(idx), hv = on.host(val);
    for (std::int64_t i = 0; i < m; ++i) {
      std::int64_t best = -1;
      for (std::int64_t j = 0; j < n; ++j) {
        const float v = D.at<float>(i, j);
        if (std::isnan(v)) continue;
        if (best < 0 || v < D.at<float>(i, best)) best = j;
      }
      ASSERT_EQ(hi.data<std::int32_t>()[i], best) << "row " << i << " of " << m << "x" << n;
      ASSERT_EQ(hv.data<float>()[i], D.at<float>(i, best)) << "row " << i;
    }
  }
}

TEST_P(Primitives, TopkRowsIsSortedWithStableTies) {
  const std::tuple<std::int64_t, std::int64_t, std::int64_t> cases[] = {
      {1, 1, 1}, {5, 9, 9}, {17, 100, 1}, {31, 257, 10}, {8, 1000, 64}, {3, 70, 65}};
  for (auto [m, n, k] : cases) {
    Tensor D = random_tensor(m, n, rng);
    // Quantise some values so ties occur and must be broken by the lower column index.
    for (std::int64_t i = 0; i < D.numel(); i += 3)
      D.data<float>()[i] = std::round(D.data<float>()[i] * 4) / 4;
    Tensor idx = on.b->empty(m, k, DType::i32), val = on.b->empty(m, k);
    on.b->topk_rows(on.dev(D), k, idx, val);
    Tensor hi = on.host(idx), hv = on.host(val);
    for (std::int64_t i = 0; i < m; ++i) {
      std::vector<std::int32_t> order(n);
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(),
                       [&](int a, int b) { return D.at<float>(i, a) < D.at<float>(i, b); });
      for (std::int64_t j = 0; j < k; ++j) {
        ASSERT_EQ(hi.at<std::int32_t>(i, j), order[j])
            << "row " << i << " rank " << j << " (" << m << "x" << n << ", k=" << k << ")";
        ASSERT_EQ(hv.at<float>(i, j), D.at<float>(i, order[j]));
      }
    }
  }
}

// sqdist_topk must be topk_rows(sqdist(A, B)) exactly, on a backend that fuses the two (avx512,
// amx) as on one that composes them: same indices, same value bits. Shapes cross the fused
// kernel's 14 × 32 tile, its 512 KiB chunks of B (d = 32: 4096 rows) and the GEMM's KC slices
// (d = 300 > 256); duplicated rows of B make exact ties, which the lower index must win; huge
// rows (norms that overflow) take the composition inside the fused path.
TEST_P(Primitives, SqdistTopkIsTopkOfSqdistExactly) {
  struct Case {
    std::int64_t m, n, d, k;
    float magnitude;
    std::int64_t huge_row = -1;  // a row scaled by 1e19 (its norm overflows), or none
  };
  const Case cases[] = {
      {1, 1, 1, 1, 1},
      {13, 31, 3, 5, 1},
      {14, 32, 32, 1, 1},
      {15, 33, 7, 33, 1},
      {97, 5000, 32, 7, 1},
      {29, 300, 300, 4, 1},
      {40, 257, 17, 1, 1e3f},
      {5, 40, 4, 3, 1e19f},
      {20, 40, 4100, 3, 1},  // long d: sqdist's GEMM may split k there
      // One overflowing row late in the rows, met after other rows' lists were written.
      {4000, 40, 8, 2, 1, 3900},
      {4000, 40, 8, 1, 1, 3900},
      {30, 20, 300, 1, 1}};  // k = 1 and few rows: avx512 turns the roles round, here two k-slices
  for (const Case& c : cases) {
    Tensor A = random_tensor(c.m, c.d, rng, -c.magnitude, c.magnitude);
    if (c.huge_row >= 0) {
      for (std::int64_t p = 0; p < c.d; ++p) A.at<float>(c.huge_row, p) *= 1e19f;
    }
    Tensor B = random_tensor(c.n, c.d, rng, -c.magnitude, c.magnitude);
    for (std::int64_t j = 1; j < c.n; j += 3) {  // ties: every third row repeats the one before
      for (std::int64_t p = 0; p < c.d; ++p) B.at<float>(j, p) = B.at<float>(j - 1, p);
    }
    const std::string what = "sqdist_topk " + std::to_string(c.m) + "x" + std::to_string(c.n) +
                             " d=" + std::to_string(c.d) + " k=" + std::to_string(c.k);
    Tensor D = on.b->empty(c.m, c.n);
    Tensor ref_i = on.b->empty(c.m, c.k, DType::i32), ref_v = on.b->empty(c.m, c.k);
    on.b->sqdist(on.dev(A), on.dev(B), D);
    on.b->topk_rows(D, c.k, ref_i, ref_v);
    Tensor got_i = on.b->empty(c.m, c.k, DType::i32), got_v = on.b->empty(c.m, c.k);
    on.b->sqdist_topk(on.dev(A), on.dev(B), c.k, got_i, got_v);
    Tensor ri = on.host(ref_i), rv = on.host(ref_v), gi = on.host(got_i), gv = on.host(got_v);
    for (std::int64_t e = 0; e < c.m * c.k; ++e) {
      ASSERT_EQ(gi.data<std::int32_t>()[e], ri.data<std::int32_t>()[e]) << what << " at " << e;
      ASSERT_EQ(std::memcmp(gv.data<float>() + e, rv.data<float>() + e, sizeof(float)), 0)
          << what << " at " << e << ": " << gv.data<float>()[e] << " vs " << rv.data<float>()[e];
    }
  }
  // And against float64 where the magnitudes are plain: the chosen rows are within rounding of
  // the true k nearest (the k-th true distance bounds every chosen one).
  Tensor A = random_tensor(23, 9, rng), B = random_tensor(211, 9, rng);
  Tensor gi = on.b->empty(23, 4, DType::i32), gv = on.b->empty(23, 4);
  on.b->sqdist_topk(on.dev(A), on.dev(B), 4, gi, gv);
  Tensor hi = on.host(gi);
  for (std::int64_t i = 0; i < 23; ++i) {
    std::vector<double> dist(211);
    for (std::int64_t j = 0; j < 211; ++j) {
      double s = 0;
      for (std::int64_t p = 0; p < 9; ++p) {
        const double diff = double(A.at<float>(i, p)) - B.at<float>(j, p);
        s += diff * diff;
      }
      dist[j] = s;
    }
    std::vector<double> sorted = dist;
    std::sort(sorted.begin(), sorted.end());
    for (std::int64_t r = 0; r < 4; ++r) {
      EXPECT_LE(dist[hi.at<std::int32_t>(i, r)], sorted[3] + 1e-5) << "row " << i << " rank " << r;
    }
  }
  Tensor idx = on.b->empty(3, 2, DType::i32), val = on.b->empty(3, 2);
  EXPECT_THROW(on.b->sqdist_topk(on.dev(Tensor(3, 4)), on.dev(Tensor(1, 4)), 2, idx, val), Error);
  EXPECT_THROW(on.b->sqdist_topk(on.dev(Tensor(3, 4)), on.dev(Tensor(5, 3)), 2, idx, val), Error);
  EXPECT_THROW(on.b->sqdist_topk(on.dev(Tensor(3, 4)), on.dev(Tensor(5, 4)), 0, idx, val), Error);
}

TEST_P(Primitives, MapMatchesStdMath) {
  struct Case {
    MapFn fn;
    MapArgs args;
    float lo, hi;
    double (*ref)(double, double);
  };
  const Case cases[] = {
      {MapFn::identity, {2.0f, -1.0f, 1.0f}, -3, 3, [](double u, double) { return u; }},
      {MapFn::exp, {1.0f, 0.0f, 1.0f}, -80, 80, [](double u, double) { return std::exp(u); }},
      {MapFn::exp, {-0.7f, 0.0f, 1.0f}, 0, 30, [](double u, double) { return std::exp(u); }},
      {MapFn::log, {1.0f, 0.0f, 1.0f}, 1e-6f, 1e6f, [](double u, double) { return std::log(u); }},
      {MapFn::sigmoid,
       {1.0f, 0.0f, 1.0f},
       -100,
       100,
       [](double u, double) { return 1 / (1 + std::exp(-u)); }},
      {MapFn::tanh, {1.0f, 0.0f, 1.0f}, -20, 20, [](double u, double) { return std::tanh(u); }},
      {MapFn::sqrt, {1.0f, 0.0f, 1.0f}, 0, 1e4f, [](double u, double) { return std::sqrt(u); }},
      {MapFn::square, {1.0f, 0.5f, 1.0f}, -10, 10, [](double u, double) { return u * u; }},
      {MapFn::abs, {1.0f, 0.0f, 1.0f}, -10, 10, [](double u, double) { return std::fabs(u); }},
      {MapFn::relu, {1.0f, 0.0f, 1.0f}, -10, 10, [](double u, double) { return u > 0 ? u : 0; }},
      {MapFn::reciprocal, {1.0f, 0.0f, 1.0f}, 0.01f, 100, [](double u, double) { return 1 / u; }},
      {MapFn::pow, {0.5f, 1.0f, 3.0f}, -4, 4, [](double u, double p) { return std::pow(u, p); }},
      {MapFn::log1pexp,
       {1.0f, 0.0f, 1.0f},
       -100,
       100,
       [](double u, double) {
         return u > 0 ? u + std::log1p(std::exp(-u)) : std::log1p(std::exp(u));
       }},
  };
  for (const Case& c : cases) {
    for (std::int64_t n : {1, 7, 33, 1000}) {
      Tensor X = random_tensor(n, 3, rng, c.lo, c.hi);
      std::vector<double> ref(X.numel()), scale(X.numel());
      for (std::int64_t i = 0; i < X.numel(); ++i) {
        // The reference sees the same rounded u the backend computes (scale·x + shift in f32).
        const float u = c.args.scale * X.data<float>()[i] + c.args.shift;
        ref[i] = c.ref(u, c.args.exponent);
        scale[i] = std::fabs(ref[i]);
      }
      Tensor Y = on.b->empty(n, 3);
      on.b->map(c.fn, on.dev(X), Y, c.args);
      // A few ulp of the result: vectorised polynomial exp/log are accurate to ~2-4 ulp.
      expect_close(on.host(Y), ref, scale, 8 * kEpsF32, 1e-30,
                   std::string("map ") + map_fn_name(c.fn) + " n=" + std::to_string(n));
      // In place gives the same answer.
      Tensor Z = on.dev(X.clone());
      on.b->map(c.fn, Z, Z, c.args);
      expect_close(on.host(Z), ref, scale, 8 * kEpsF32, 1e-30,
                   std::string("in-place map ") + map_fn_name(c.fn));
    }
  }
}

TEST_P(Primitives, SoftmaxRowsMatchesFloat64IncludingLargeLogits) {
  for (auto [m, n] :
       std::vector<std::pair<std::int64_t, std::int64_t>>{{1, 1}, {3, 2}, {17, 10}, {64, 257}}) {
    for (bool log : {false, true}) {
      Tensor X = random_tensor(m, n, rng, -5.0f, 5.0f);
      X.at<float>(0, 0) = 500.0f;  // would overflow exp() without the max subtraction
      std::vector<double> ref(m * n);
      for (std::int64_t i = 0; i < m; ++i) {
        double mx = -INFINITY, sum = 0;
        for (std::int64_t j = 0; j < n; ++j) mx = std::max(mx, double(X.at<float>(i, j)));
        for (std::int64_t j = 0; j < n; ++j) sum += std::exp(X.at<float>(i, j) - mx);
        for (std::int64_t j = 0; j < n; ++j) {
          const double ls = X.at<float>(i, j) - mx - std::log(sum);
          ref[i * n + j] = log ? ls : std::exp(ls);
        }
      }
      Tensor Y = on.b->empty(m, n);
      on.b->softmax_rows(on.dev(X), Y, log);
      expect_close(on.host(Y), ref, 16 * kEpsF32, 1e-6,
                   std::string(log ? "log_" : "") + "softmax " + std::to_string(m) + "x" +
                       std::to_string(n));
    }
  }
}

TEST_P(Primitives, ElementwiseUpdatesMatchFloat64) {
  for (auto [m, n] :
       std::vector<std::pair<std::int64_t, std::int64_t>>{{1, 1}, {13, 7}, {100, 33}}) {
    Tensor X = random_tensor(m, n, rng), Y0 = random_tensor(m, n, rng);
    Tensor v = random_tensor(1, n, rng), w = random_tensor(m, 1, rng);
    std::vector<double> axpby(m * n), mul(m * n), addrow(m * n), scale(m * n);
    for (std::int64_t i = 0; i < m; ++i) {
      for (std::int64_t j = 0; j < n; ++j) {
        const double x = X.at<float>(i, j), y = Y0.at<float>(i, j);
        axpby[i * n + j] = 2.5 * x - 0.5 * y;
        mul[i * n + j] = x * y;
        addrow[i * n + j] = y - 3.0 * v.data<float>()[j];
        scale[i * n + j] = y * w.data<float>()[i];
      }
    }
    Tensor Y = on.dev(Y0.clone());
    on.b->axpby(2.5f, on.dev(X), -0.5f, Y);
    expect_close(on.host(Y), axpby, 4 * kEpsF32, 1e-7, "axpby");
    Tensor Z = on.b->empty(m, n);
    on.b->fill(Z, std::numeric_limits<float>::quiet_NaN());
    on.b->axpby(1.0f, on.dev(Y0), 0.0f, Z);  // beta = 0 ignores Z (NaN) and copies
    std::vector<double> copy(Y0.data<float>(), Y0.data<float>() + m * n);
    expect_close(on.host(Z), copy, 0.0, 0.0, "axpby with beta = 0");
    Y = on.dev(Y0.clone());
    on.b->multiply(on.dev(X), Y);
    expect_close(on.host(Y), mul, 2 * kEpsF32, 1e-7, "multiply");
    Y = on.dev(Y0.clone());
    on.b->add_row_vector(-3.0f, on.dev(v), Y);
    expect_close(on.host(Y), addrow, 4 * kEpsF32, 1e-6, "add_row_vector");
    Y = on.dev(Y0.clone());
    on.b->scale_rows(on.dev(w), Y);
    expect_close(on.host(Y), scale, 2 * kEpsF32, 1e-7, "scale_rows");
  }
}

TEST_P(Primitives, ScatterAddAccumulatesAndSkipsNegativeIndices) {
  for (auto [n, p, c, m] : std::vector<std::tuple<int, int, int, int>>{
           {1, 1, 1, 1}, {50, 1, 3, 7}, {257, 5, 2, 40}, {1000, 3, 1, 255}}) {
    Tensor X = random_tensor(n, c, rng);
    Tensor index(n, p, DType::i32);
    std::uniform_int_distribution<int> pick(-1, m - 1);  // -1: skipped
    for (std::int64_t i = 0; i < index.numel(); ++i) index.data<std::int32_t>()[i] = pick(rng);
    Tensor out0 = random_tensor(m, c, rng);
    std::vector<double> ref(out0.data<float>(), out0.data<float>() + m * c), scale(m * c, 1.0);
    for (int i = 0; i < n; ++i) {
      for (int q = 0; q < p; ++q) {
        const int t = index.at<std::int32_t>(i, q);
        if (t < 0) continue;
        for (int j = 0; j < c; ++j) {
          ref[t * c + j] += X.at<float>(i, j);
          scale[t * c + j] += std::fabs(X.at<float>(i, j));
        }
      }
    }
    Tensor out = on.dev(out0.clone());
    on.b->scatter_add(on.dev(index), on.dev(X), out);
    expect_close(on.host(out), ref, scale, (n + 2) * kEpsF32, 1e-6,
                 "scatter_add n=" + std::to_string(n));
  }
}

TEST_P(Primitives, GatherRowsCopiesTheIndexedRows) {
  Tensor X = random_tensor(37, 5, rng);
  Tensor index(1, 11, DType::i32);
  for (int i = 0; i < 11; ++i) index.data<std::int32_t>()[i] = (i * 7 + 3) % 37;
  Tensor Y = on.b->empty(11, 5);
  on.b->gather_rows(on.dev(X), on.dev(index), Y);
  Tensor got = on.host(Y);
  for (int i = 0; i < 11; ++i) {
    for (int j = 0; j < 5; ++j) {
      ASSERT_EQ(got.at<float>(i, j), X.at<float>((i * 7 + 3) % 37, j));
    }
  }
  // i32 payloads (labels) gather too.
  Tensor labels(37, 1, DType::i32);
  for (int i = 0; i < 37; ++i) labels.data<std::int32_t>()[i] = 100 + i;
  Tensor L = on.b->empty(11, 1, DType::i32);
  on.b->gather_rows(on.dev(labels), on.dev(index), L);
  Tensor hl = on.host(L);
  for (int i = 0; i < 11; ++i) ASSERT_EQ(hl.data<std::int32_t>()[i], 100 + (i * 7 + 3) % 37);
}

TEST_P(Primitives, ReduceColsMatchesFloat64) {
  for (auto [m, n] : std::vector<std::pair<std::int64_t, std::int64_t>>{
           {1, 1}, {1, 9}, {31, 1}, {1000, 17}, {20000, 3}}) {
    // An offset of 100 makes naive E[x²] − E[x]² variance lose every digit in f32.
    Tensor X = random_tensor(m, n, rng, 99.0f, 101.0f);
    for (Reduce op : {Reduce::sum, Reduce::mean, Reduce::var}) {
      std::vector<double> ref(n);
      for (std::int64_t j = 0; j < n; ++j) {
        double s = 0;
        for (std::int64_t i = 0; i < m; ++i) s += X.at<float>(i, j);
        const double mean = s / m;
        double ss = 0;
        for (std::int64_t i = 0; i < m; ++i)
          ss += (X.at<float>(i, j) - mean) * (X.at<float>(i, j) - mean);
        ref[j] = op == Reduce::sum ? s : op == Reduce::mean ? mean : ss / m;
      }
      Tensor out = on.b->empty(1, n);
      on.b->reduce_cols(op, on.dev(X), out);
      // Pairwise/blocked f32 sums are good to ~log2(m)·eps; allow 64·eps relative.
      expect_close(on.host(out), ref, 64 * kEpsF32, 1e-7,
                   std::string("reduce_cols ") + reduce_name(op) + " " + std::to_string(m) + "x" +
                       std::to_string(n));
    }
  }
}

TEST_P(Primitives, BadArgumentsThrowErrorsNamingTheValues) {
  Tensor A(3, 4), B(5, 6), C(3, 6);
  try {
    on.b->gemm(Trans::no, Trans::no, 1.0f, on.dev(A), on.dev(B), 0.0f, C);
    FAIL() << "gemm with mismatched inner dimensions must throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("3x4"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("5x6"), std::string::npos) << e.what();
  }
  Tensor D = on.b->empty(3, 4);
  Tensor idx = on.b->empty(3, 2, DType::i32), val = on.b->empty(3, 2);
  EXPECT_THROW(on.b->topk_rows(D, 5, idx, val), Error);
  EXPECT_THROW(on.b->topk_rows(D, 0, idx, val), Error);
  Tensor wrong_dtype = on.b->empty(3, 1, DType::f32);
  Tensor v1 = on.b->empty(3, 1);
  EXPECT_THROW(on.b->argmin_rows(D, wrong_dtype, v1), Error);
  Tensor index(2, 1, DType::i32);
  index.data<std::int32_t>()[1] = 9;
  Tensor X(2, 3), out = on.b->empty(4, 3);
  EXPECT_THROW(on.b->scatter_add(on.dev(index), on.dev(X), out), Error);
  Tensor S = on.dev(Tensor(4, 4));
  EXPECT_THROW(on.b->gemm(Trans::no, Trans::no, 1.0f, S, S, 0.0f, S), Error) << "C aliases A";
}

INSTANTIATE_TEST_SUITE_P(AllF32Backends, Primitives, ::testing::ValuesIn(f32_backends()),
                         backend_param_name);

// ---- histogram: on every backend (the systolic array runs it in f32 on its vector unit) ----

class HistogramPrimitive : public Primitives {};

// n × P codes (unsigned bytes in an i8 tensor) drawn in [0, max_code].
Tensor random_codes(std::int64_t n, std::int64_t P, int max_code, std::mt19937& rng) {
  Tensor codes(n, P, DType::i8);
  std::uniform_int_distribution<int> pick(0, max_code);
  auto* c = reinterpret_cast<std::uint8_t*>(codes.raw());
  for (std::int64_t i = 0; i < codes.numel(); ++i) c[i] = static_cast<std::uint8_t>(pick(rng));
  return codes;
}

// One histogram test case: n samples of P features with codes in [0, max_code], c statistics,
// m listed rows; skip_some gives every third feature a negative offset (skipped).
struct HistogramCase {
  int n, P, c, m, max_code;
  bool skip_some;
};

// Offsets for P features of codes in [0, max_code], each feature's bins right after the
// previous one's; with skip_some every third feature (p % 3 == 1) is skipped (offset −1).
// *bins: the rows `out` needs.
Tensor packed_offsets(int P, int max_code, bool skip_some, int* bins) {
  Tensor offsets(1, P, DType::i32);
  std::int32_t next = 0;
  for (int p = 0; p < P; ++p) {
    const bool skip = skip_some && p % 3 == 1;
    offsets.data<std::int32_t>()[p] = skip ? -1 : next;
    if (!skip) next += max_code + 1;
  }
  *bins = std::max(next, 1);
  return offsets;
}

// m row ids in [0, n): repeats allowed, any order.
Tensor random_rows(int m, int n, std::mt19937& rng) {
  Tensor rows(m, 1, DType::i32);
  std::uniform_int_distribution<int> pick_row(0, n - 1);
  for (int k = 0; k < m; ++k) rows.data<std::int32_t>()[k] = pick_row(rng);
  return rows;
}

TEST_P(HistogramPrimitive, MatchesAPlainLoopOverListedRowsAndWantedFeatures) {
  // c = 4, 8 and 16 are the avx2 kernel's register widths; 1, 3 and 13 its generic path. Codes up
  // to 255 check they are read unsigned; m = 0 adds nothing; P = 1 and primes split unevenly
  // over threads; 3000 × 37 is large enough to spread over threads.
  for (const HistogramCase& t :
       std::vector<HistogramCase>{{1, 1, 1, 1, 0, false},
                                  {5, 1, 8, 0, 3, false},
                                  {50, 3, 3, 70, 9, true},
                                  {257, 7, 8, 300, 255, true},
                                  {300, 5, 16, 123, 200, false},
                                  {400, 9, 4, 333, 255, true},
                                  {1000, 20, 4, 900, 255, false},
                                  {100, 11, 13, 64, 130, true},
                                  {3000, 37, 8, 2500, 255, true},
                                  // ≥ 2048·c rows, every feature: avx2's blocked kernels,
                                  // with bins spaced < 256 apart (the block clipped)
                                  {10000, 20, 4, 9000, 255, false},
                                  {9000, 17, 4, 8500, 40, false},
                                  {18000, 9, 8, 17000, 255, false},
                                  {34000, 5, 16, 33000, 200, false}}) {
    Tensor X = random_tensor(t.n, t.c, rng);
    Tensor codes = random_codes(t.n, t.P, t.max_code, rng);
    int bins = 0;
    const Tensor offsets = packed_offsets(t.P, t.max_code, t.skip_some, &bins);
    const Tensor rows = random_rows(t.m, t.n, rng);
    Tensor out0 = random_tensor(bins, t.c, rng);  // histogram() accumulates
    std::vector<double> ref(out0.data<float>(), out0.data<float>() + bins * t.c);
    std::vector<double> scale(ref.size(), 1.0);
    const auto* code = reinterpret_cast<const std::uint8_t*>(codes.raw());
    for (int k = 0; k < t.m; ++k) {
      const int r = rows.data<std::int32_t>()[k];
      for (int p = 0; p < t.P; ++p) {
        const std::int32_t off = offsets.data<std::int32_t>()[p];
        if (off < 0) continue;
        const int bin = off + code[r * t.P + p];
        for (int j = 0; j < t.c; ++j) {
          ref[bin * t.c + j] += X.at<float>(r, j);
          scale[bin * t.c + j] += std::fabs(X.at<float>(r, j));
        }
      }
    }
    Tensor out = on.dev(out0.clone());
    on.b->histogram(on.dev(codes), on.dev(offsets), on.dev(rows), on.dev(X), out);
    expect_close(on.host(out), ref, scale, (t.m + 2) * kEpsF32, 1e-6,
                 "histogram n=" + std::to_string(t.n) + " P=" + std::to_string(t.P) +
                     " c=" + std::to_string(t.c) + " m=" + std::to_string(t.m));
  }
}

TEST_P(HistogramPrimitive, IntegerSumsAreExactAndEqualScatterAdd) {
  // What the trees rely on: integer statistics sum to the same exact integers in any order,
  // and histogram() is scatter_add with index[k, p] = offsets[p] + code(rows[k], p).
  const int n = 2000, P = 6, c = 8, bins = P * 256;
  Tensor X(n, c);
  std::uniform_int_distribution<int> digit(-200, 200);
  for (std::int64_t i = 0; i < X.numel(); ++i) X.data<float>()[i] = float(digit(rng));
  Tensor codes = random_codes(n, P, 255, rng);
  Tensor offsets(1, P, DType::i32);
  for (int p = 0; p < P; ++p) offsets.data<std::int32_t>()[p] = 256 * p;
  Tensor rows(n / 2, 1, DType::i32), index(n / 2, P, DType::i32), Xs(n / 2, c);
  const auto* code = reinterpret_cast<const std::uint8_t*>(codes.raw());
  for (int k = 0; k < n / 2; ++k) {
    const int r = 2 * k + 1;
    rows.data<std::int32_t>()[k] = r;
    for (int p = 0; p < P; ++p) index.at<std::int32_t>(k, p) = 256 * p + code[r * P + p];
    for (int j = 0; j < c; ++j) Xs.at<float>(k, j) = X.at<float>(r, j);
  }
  Tensor a = on.b->empty(bins, c), b = on.b->empty(bins, c);
  on.b->histogram(on.dev(codes), on.dev(offsets), on.dev(rows), on.dev(X), a);
  on.b->scatter_add(on.dev(index), on.dev(Xs), b);
  Tensor ha = on.host(a), hb = on.host(b);
  for (std::int64_t e = 0; e < ha.numel(); ++e) {
    ASSERT_EQ(ha.data<float>()[e], hb.data<float>()[e]) << "cell " << e;
  }
  // The record: one op, m·P·c MACs.
  const Tensor dc = on.dev(codes), doff = on.dev(offsets), drows = on.dev(rows), dX = on.dev(X);
  Profile prof;
  {
    ProfileScope scope(prof);
    on.b->histogram(dc, doff, drows, dX, a);
  }
  ASSERT_EQ(prof.records().size(), 1u);
  EXPECT_EQ(prof.records()[0].op, "histogram");
  EXPECT_EQ(prof.records()[0].macs, std::int64_t{n / 2} * P * c);
}

TEST_P(HistogramPrimitive, I64SumsAreExactAndWrapLikeAPlainLoop) {
  // i64 statistics (boosting's packed count + gradient): every backend gives the bits of a
  // plain unsigned 64-bit loop, whatever order it adds in — including sums that wrap past
  // 2^63 and negative values. Sizes cover avx2's plain loop (small m, skipped features, odd c)
  // and its blocked kernels (m ≥ 2048·c, every feature, c = 1 and 2).
  std::uniform_int_distribution<std::int64_t> small(-(std::int64_t{1} << 40),
                                                    std::int64_t{1} << 40);
  std::uniform_int_distribution<std::int64_t> huge(std::numeric_limits<std::int64_t>::min(),
                                                   std::numeric_limits<std::int64_t>::max());
  for (const HistogramCase& t : std::vector<HistogramCase>{{1, 1, 1, 1, 0, false},
                                                           {7, 3, 1, 0, 5, false},
                                                           {50, 5, 3, 70, 255, true},
                                                           {400, 11, 2, 333, 255, true},
                                                           {3000, 20, 1, 2500, 255, false},
                                                           {2500, 13, 1, 2100, 60, false},
                                                           {5000, 9, 2, 4200, 255, false},
                                                           {1300, 7, 5, 1100, 255, false}}) {
    Tensor X(t.n, t.c, DType::i64);
    for (std::int64_t i = 0; i < X.numel(); ++i) {
      X.data<std::int64_t>()[i] = (i % 5 == 0) ? huge(rng) : small(rng);
    }
    Tensor codes = random_codes(t.n, t.P, t.max_code, rng);
    int bins = 0;
    const Tensor offsets = packed_offsets(t.P, t.max_code, t.skip_some, &bins);
    const Tensor rows = random_rows(t.m, t.n, rng);
    Tensor out0(bins, t.c, DType::i64);  // histogram() accumulates
    for (std::int64_t e = 0; e < out0.numel(); ++e) out0.data<std::int64_t>()[e] = small(rng);
    std::vector<std::uint64_t> ref(out0.numel());
    for (std::int64_t e = 0; e < out0.numel(); ++e) {
      ref[e] = static_cast<std::uint64_t>(out0.data<std::int64_t>()[e]);
    }
    const auto* code = reinterpret_cast<const std::uint8_t*>(codes.raw());
    for (int k = 0; k < t.m; ++k) {
      const int r = rows.data<std::int32_t>()[k];
      for (int p = 0; p < t.P; ++p) {
        const std::int32_t off = offsets.data<std::int32_t>()[p];
        if (off < 0) continue;
        const int bin = off + code[r * t.P + p];
        for (int j = 0; j < t.c; ++j) {
          ref[bin * t.c + j] += static_cast<std::uint64_t>(X.at<std::int64_t>(r, j));
        }
      }
    }
    Tensor out = on.dev(out0.clone());
    on.b->histogram(on.dev(codes), on.dev(offsets), on.dev(rows), on.dev(X), out);
    const Tensor got = on.host(out);
    ASSERT_EQ(got.dtype(), DType::i64);
    for (std::int64_t e = 0; e < got.numel(); ++e) {
      ASSERT_EQ(static_cast<std::uint64_t>(got.data<std::int64_t>()[e]), ref[e])
          << "cell " << e << " of n=" << t.n << " P=" << t.P << " c=" << t.c << " m=" << t.m;
    }
  }
  // X and out must agree on the dtype, and only f32 and i64 are statistics.
  Tensor codes = random_codes(4, 2, 3, rng), offsets(1, 2, DType::i32), rows(2, 1, DType::i32);
  offsets.data<std::int32_t>()[1] = 4;
  Tensor Xi(4, 1, DType::i64), Xf(4, 1), X32(4, 1, DType::i32);
  Tensor out_f = on.b->empty(8, 1), out_i = on.b->empty(8, 1, DType::i64);
  EXPECT_THROW(on.b->histogram(on.dev(codes), on.dev(offsets), on.dev(rows), on.dev(Xi), out_f),
               Error);
  EXPECT_THROW(on.b->histogram(on.dev(codes), on.dev(offsets), on.dev(rows), on.dev(Xf), out_i),
               Error);
  try {
    on.b->histogram(on.dev(codes), on.dev(offsets), on.dev(rows), on.dev(X32), out_f);
    ADD_FAILURE() << "i32 statistics accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("f32 or i64"), std::string::npos) << e.what();
  }
}

TEST_P(HistogramPrimitive, BadArgumentsThrowErrorsNamingTheValues) {
  const int n = 10, P = 3, c = 2;
  Tensor X = random_tensor(n, c, rng);
  Tensor codes = random_codes(n, P, 9, rng);
  reinterpret_cast<std::uint8_t*>(codes.raw())[7 * P + 2] = 200;  // row 7, feature 2
  Tensor offsets(1, P, DType::i32);
  for (int p = 0; p < P; ++p) offsets.data<std::int32_t>()[p] = 10 * p;
  Tensor rows(4, 1, DType::i32);
  for (int k = 0; k < 4; ++k) rows.data<std::int32_t>()[k] = k;
  Tensor out = on.b->empty(30, c);
  auto expect_error = [&](const Tensor& cd, const Tensor& off, const Tensor& r, const Tensor& x,
                          Tensor& o, const std::string& needle) {
    try {
      on.b->histogram(on.dev(cd), on.dev(off), on.dev(r), on.dev(x), o);
      ADD_FAILURE() << "expected an error containing '" << needle << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  on.b->histogram(on.dev(codes), on.dev(offsets), on.dev(rows), on.dev(X), out);  // fine
  Tensor bad_rows = rows.clone();
  bad_rows.data<std::int32_t>()[2] = n;
  expect_error(codes, offsets, bad_rows, X, out, "rows[2] = 10");
  bad_rows.data<std::int32_t>()[2] = -1;
  expect_error(codes, offsets, bad_rows, X, out, "rows[2] = -1");
  Tensor rows7(1, 1, DType::i32);
  rows7.data<std::int32_t>()[0] = 7;
  expect_error(codes, offsets, rows7, X, out, "offsets[2] + codes[7, 2] = 20 + 200");
  // Skipping the feature skips its check.
  Tensor skip2 = offsets.clone();
  skip2.data<std::int32_t>()[2] = -5;
  on.b->histogram(on.dev(codes), on.dev(skip2), on.dev(rows7), on.dev(X), out);
  Tensor codes_i32(n, P, DType::i32);
  expect_error(codes_i32, offsets, rows, X, out, "codes");
  Tensor short_offsets(1, P - 1, DType::i32);
  expect_error(codes, short_offsets, rows, X, out, "offsets");
  Tensor X_short = random_tensor(n - 1, c, rng);
  expect_error(codes, offsets, rows, X_short, out, "one row per sample");
  Tensor out_wide = on.b->empty(30, c + 1);
  expect_error(codes, offsets, rows, X, out_wide, "columns");
  Tensor rows_matrix(2, 2, DType::i32);
  expect_error(codes, offsets, rows_matrix, X, out, "vector");
}

INSTANTIATE_TEST_SUITE_P(AllBackends, HistogramPrimitive, ::testing::ValuesIn(all_backends()),
                         backend_param_name);

// ---- loss_gradients ----------------------------------------------------------------------

class LossGradientsPrimitive : public Primitives {};

// An n × cols f64 tensor of values drawn in [lo, hi).
Tensor random_f64(std::int64_t n, std::int64_t cols, double lo, double hi, std::mt19937& rng) {
  Tensor t(n, cols, DType::f64);
  std::uniform_real_distribution<double> dist(lo, hi);
  for (std::int64_t i = 0; i < t.numel(); ++i) t.data<double>()[i] = dist(rng);
  return t;
}

TEST_P(LossGradientsPrimitive, MatchesLongDoubleFormulasAndTheScalarBackendBitForBit) {
  // n = 1, primes, and sizes past the 8192 rows where the CPU backends split the rows; K = 1
  // and classes 3 and 5 for softmax; logits up to ±40 (p within 1e-17 of 0 or 1).
  const BackendPtr ref_backend = backend("scalar");
  for (const std::int64_t n : {1, 7, 13, 8209, 20011}) {
    for (const GradientLoss loss :
         {GradientLoss::squared_error, GradientLoss::binary_log_loss,
          GradientLoss::softmax_log_loss, GradientLoss::half_poisson, GradientLoss::half_gamma}) {
      for (const std::int64_t K : {1, 3, 5}) {
        if (K > 1 && loss != GradientLoss::softmax_log_loss) continue;
        if (K == 1 && loss == GradientLoss::softmax_log_loss) continue;
        for (const bool weighted : {false, true}) {
          const Tensor raw = random_f64(n, K, -40, 40, rng);
          Tensor y(n, 1, DType::f64);
          std::uniform_int_distribution<int> label(0, static_cast<int>(K == 1 ? 1 : K - 1));
          std::normal_distribution<double> target(0, 10);
          std::poisson_distribution<int> count(3.0);
          std::gamma_distribution<double> amount(2.0, 1.5);
          for (std::int64_t i = 0; i < n; ++i) {
            y.data<double>()[i] = loss == GradientLoss::squared_error  ? target(rng)
                                  : loss == GradientLoss::half_poisson ? count(rng)
                                  : loss == GradientLoss::half_gamma   ? amount(rng)
                                                                       : label(rng);
          }
          const Tensor w = weighted ? random_f64(n, 1, 0, 3, rng) : Tensor();
          const bool unit = loss == GradientLoss::squared_error && !weighted;
          auto run = [&](Backend& b, Tensor& g, Tensor& h, Tensor& ranges) {
            Tensor dg = b.empty(n, K, DType::f64);
            Tensor dh = unit ? Tensor() : b.empty(n, K, DType::f64);
            Tensor dr = b.empty(2, K, DType::f64);
            b.loss_gradients(loss, b.to_device(y), b.to_device(raw),
                             weighted ? b.to_device(w) : Tensor(), dg, dh, dr);
            g = b.to_host(dg);
            h = unit ? Tensor() : b.to_host(dh);
            ranges = b.to_host(dr);
          };
          Tensor g, h, ranges, rg, rh, rranges;
          run(*on.b, g, h, ranges);
          run(*ref_backend, rg, rh, rranges);
          const std::string what = std::string(gradient_loss_name(loss)) +
                                   " n=" + std::to_string(n) + " K=" + std::to_string(K) +
                                   (weighted ? " weighted" : "");
          std::vector<double> g_max(K, 0.0), h_max(K, unit ? 1.0 : 0.0);
          // p − y and 1 − p subtract numbers ≤ 1: a few ulps of 1 (2.2e-16) absolute, times
          // the weight; exp, the divide and the products add a few ulps relative.
          auto tol = [](long double want, long double wi) {
            return static_cast<double>(1e-15L * wi + 1e-14L * std::fabs(want));
          };
          for (std::int64_t i = 0; i < n; ++i) {
            // The reference in long double, written from the formulas.
            const double* r = raw.data<double>() + i * K;
            long double mx = r[0], sum = 0;
            for (std::int64_t k = 1; k < K; ++k) mx = std::max<long double>(mx, r[k]);
            for (std::int64_t k = 0; k < K; ++k)
              sum += std::exp(static_cast<long double>(r[k]) - mx);
            const long double wi = weighted ? w.data<double>()[i] : 1.0L;
            for (std::int64_t k = 0; k < K; ++k) {
              long double want_g, want_h;
              const long double yi = y.data<double>()[i];
              if (loss == GradientLoss::squared_error) {
                want_g = r[0] - yi;
                want_h = 1;
              } else if (loss == GradientLoss::half_poisson) {  // log link: mean e^raw
                want_h = std::exp(static_cast<long double>(r[0]));
                want_g = want_h - yi;
              } else if (loss == GradientLoss::half_gamma) {
                want_h = yi * std::exp(-static_cast<long double>(r[0]));
                want_g = 1 - want_h;
              } else {
                const long double p = loss == GradientLoss::binary_log_loss
                                          ? 1 / (1 + std::exp(-static_cast<long double>(r[0])))
                                          : std::exp(static_cast<long double>(r[k]) - mx) / sum;
                want_g = p - (loss == GradientLoss::binary_log_loss ? yi : (yi == k ? 1 : 0));
                want_h = p * (1 - p);
              }
              want_g *= wi;
              want_h *= wi;
              const double got_g = g.data<double>()[i * K + k];
              // Poisson's e^raw − y and gamma's 1 − y·e^−raw subtract the hessian's value:
              // a few of its ulps, absolute.
              const bool log_link =
                  loss == GradientLoss::half_poisson || loss == GradientLoss::half_gamma;
              const double g_tol =
                  tol(want_g, wi) + (log_link ? 1e-14 * std::fabs(static_cast<double>(want_h)) : 0);
              ASSERT_LE(std::fabs(got_g - static_cast<double>(want_g)), g_tol)
                  << what << " g[" << i << ", " << k << "]";
              ASSERT_EQ(got_g, rg.data<double>()[i * K + k]) << what << " differs from scalar";
              g_max[k] = std::max(g_max[k], std::fabs(got_g));
              if (unit) continue;
              const double got_h = h.data<double>()[i * K + k];
              ASSERT_LE(std::fabs(got_h - static_cast<double>(want_h)), tol(want_h, wi))
                  << what << " h[" << i << ", " << k << "]";
              ASSERT_EQ(got_h, rh.data<double>()[i * K + k]) << what << " differs from scalar";
              h_max[k] = std::max(h_max[k], got_h);
            }
          }
          for (std::int64_t k = 0; k < K; ++k) {
            EXPECT_EQ(ranges.data<double>()[k], g_max[k]) << what << " g range " << k;
            EXPECT_EQ(ranges.data<double>()[K + k], h_max[k]) << what << " h range " << k;
          }
        }
      }
    }
  }
}

TEST_P(LossGradientsPrimitive, BadArgumentsThrowErrorsNamingTheValues) {
  const std::int64_t n = 5;
  Tensor y(n, 1, DType::f64), raw = random_f64(n, 3, -1, 1, rng);
  for (std::int64_t i = 0; i < n; ++i) y.data<double>()[i] = static_cast<double>(i % 3);
  auto expect_error = [&](GradientLoss loss, const Tensor& yy, const Tensor& rr, const Tensor& ww,
                          std::int64_t h_rows, std::int64_t r_rows, const std::string& needle) {
    const std::int64_t K = rr.cols();
    Tensor g = on.b->empty(rr.rows(), K, DType::f64);
    Tensor h = h_rows > 0 ? on.b->empty(h_rows, K, DType::f64) : Tensor();
    Tensor ranges = on.b->empty(r_rows, K, DType::f64);
    try {
      on.b->loss_gradients(loss, on.dev(yy), on.dev(rr), ww.numel() ? on.dev(ww) : Tensor(), g, h,
                           ranges);
      ADD_FAILURE() << "expected an error containing '" << needle << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  const auto softmax = GradientLoss::softmax_log_loss, binary = GradientLoss::binary_log_loss;
  {  // fine
    Tensor g = on.b->empty(n, 3, DType::f64), h = on.b->empty(n, 3, DType::f64);
    Tensor ranges = on.b->empty(2, 3, DType::f64);
    on.b->loss_gradients(softmax, on.dev(y), on.dev(raw), Tensor(), g, h, ranges);
  }
  Tensor bad_y = y.clone();
  bad_y.data<double>()[2] = 3;
  expect_error(softmax, bad_y, raw, Tensor(), n, 2, "y[2] = 3");
  bad_y.data<double>()[2] = 0.5;
  expect_error(softmax, bad_y, raw, Tensor(), n, 2, "y[2] = 0.5");
  expect_error(binary, y, raw, Tensor(), n, 2, "raw must have 1 column");
  expect_error(softmax, Tensor(n - 1, 1, DType::f64), raw, Tensor(), n, 2, "y");
  expect_error(softmax, y, raw, Tensor(), 0, 2, "hess");
  expect_error(softmax, y, raw, Tensor(), n, 1, "ranges");
  expect_error(softmax, y, raw, Tensor(n + 1, 1, DType::f64), n, 2, "weight");
  expect_error(softmax, y, Tensor::zeros(n, 3, DType::f32), Tensor(), n, 2, "raw");
}

INSTANTIATE_TEST_SUITE_P(AllBackends, LossGradientsPrimitive, ::testing::ValuesIn(all_backends()),
                         backend_param_name);

// ---- partition_rows ----------------------------------------------------------------------

class PartitionRowsPrimitive : public Primitives {};

// The reference: a plain stable partition of `rows` by the split, on copies.
std::int64_t reference_partition(const Tensor& codes, const RowSplit& s,
                                 std::vector<std::int32_t>& rows) {
  const auto* code =
      reinterpret_cast<const std::uint8_t*>(codes.raw()) + std::int64_t{s.feature} * codes.cols();
  std::vector<std::int32_t> left, right;
  for (const std::int32_t r : rows) {
    const int c = code[r];
    ((c == s.missing_code) ? s.missing_left : c <= s.bin) ? left.push_back(r) : right.push_back(r);
  }
  rows = left;
  rows.insert(rows.end(), right.begin(), right.end());
  return static_cast<std::int64_t>(left.size());
}

TEST_P(PartitionRowsPrimitive, MatchesAStablePartitionByAPlainLoop) {
  // m = 1 and primes; 40 009 and 100 003 rows take the avx2 kernel's threaded path (≥ 2^15);
  // codes up to 255 check they are read unsigned; rows ascending (a tree's) or any order with
  // repeats; splits with the missing code on either side, and a bin that sends all one way.
  struct Case {
    int n, P, m, max_code;
    bool ascending;
  };
  for (const Case& cs : {Case{1, 1, 1, 0, true}, Case{7, 2, 7, 5, true},
                         Case{13, 3, 29, 255, false}, Case{97, 5, 61, 17, true},
                         Case{40009, 3, 40009, 64, true}, Case{100003, 2, 70001, 255, false}}) {
    Tensor codes = random_codes(cs.P, cs.n, cs.max_code, rng);  // feature-major: P × n
    std::vector<std::int32_t> ids;
    if (cs.ascending) {
      for (int i = 0; i < cs.n && static_cast<int>(ids.size()) < cs.m; ++i) ids.push_back(i);
    } else {
      const Tensor r = random_rows(cs.m, cs.n, rng);
      ids.assign(r.data<std::int32_t>(), r.data<std::int32_t>() + cs.m);
    }
    std::uniform_int_distribution<int> pick_bin(0, std::max(cs.max_code - 1, 0));
    for (int trial = 0; trial < 4; ++trial) {
      RowSplit s;
      s.feature = trial % cs.P;
      s.bin = trial == 3 ? 255 : pick_bin(rng);
      s.missing_code = std::min(cs.max_code, 255 - trial % 2);
      s.missing_left = trial % 2 == 0;
      std::vector<std::int32_t> want = ids;
      const std::int64_t want_left = reference_partition(codes, s, want);
      Tensor rows(static_cast<std::int64_t>(ids.size()), 1, DType::i32);
      std::copy(ids.begin(), ids.end(), rows.data<std::int32_t>());
      Tensor d_rows = on.dev(rows);
      Profile profile;
      std::int64_t got_left = 0;
      {
        ProfileScope scope(profile);
        got_left = on.b->partition_rows(on.dev(codes), s, d_rows);
      }
      const Tensor got = on.host(d_rows);
      ASSERT_EQ(got_left, want_left) << "n=" << cs.n << " trial " << trial;
      for (std::size_t k = 0; k < want.size(); ++k) {
        ASSERT_EQ(got.data<std::int32_t>()[k], want[k]) << "n=" << cs.n << " position " << k;
      }
      const std::vector<OpRecord> records = profile.records();
      const OpRecord* rec = nullptr;
      for (const OpRecord& r : records) {
        if (r.op == "partition_rows") rec = &r;
      }
      ASSERT_NE(rec, nullptr);
      EXPECT_EQ(rec->m, static_cast<std::int64_t>(ids.size()));
      EXPECT_EQ(rec->bytes_written, 4 * rec->m);
      EXPECT_EQ(rec->sim.has_value(), on.b->capabilities().simulated_time);
    }
  }
}

TEST_P(PartitionRowsPrimitive, BadArgumentsThrowErrorsNamingTheValuesAndLeaveRows) {
  const int n = 10, P = 3;
  const Tensor codes = random_codes(P, n, 9, rng);
  Tensor rows(4, 1, DType::i32);
  for (int k = 0; k < 4; ++k) rows.data<std::int32_t>()[k] = 2 * k;
  RowSplit ok;
  ok.feature = 2;
  ok.bin = 4;
  ok.missing_code = 9;
  auto expect_error = [&](const Tensor& cd, const RowSplit& s, const Tensor& r,
                          const std::string& needle) {
    Tensor d_rows = on.dev(r);
    try {
      on.b->partition_rows(on.dev(cd), s, d_rows);
      ADD_FAILURE() << "expected an error containing '" << needle << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
    const Tensor after = on.host(d_rows);  // untouched by a refused call
    EXPECT_EQ(std::memcmp(after.raw(), r.raw(), r.size_bytes()), 0) << needle;
  };
  Tensor fine = on.dev(rows.clone());
  on.b->partition_rows(on.dev(codes), ok, fine);
  Tensor bad_rows = rows.clone();
  bad_rows.data<std::int32_t>()[2] = n;
  expect_error(codes, ok, bad_rows, "rows[2] = 10");
  bad_rows.data<std::int32_t>()[2] = -1;
  expect_error(codes, ok, bad_rows, "rows[2] = -1");
  RowSplit s = ok;
  s.feature = P;
  expect_error(codes, s, rows, "split.feature = 3");
  s = ok;
  s.bin = 256;
  expect_error(codes, s, rows, "split.bin = 256");
  s = ok;
  s.missing_code = -1;
  expect_error(codes, s, rows, "split.missing_code = -1");
  expect_error(Tensor(P, n, DType::i32), ok, rows, "codes");
  Tensor rows_f32 = Tensor::zeros(4, 1, DType::f32);
  expect_error(codes, ok, rows_f32, "rows");
  Tensor rows_matrix(2, 2, DType::i32);
  for (int k = 0; k < 4; ++k) rows_matrix.data<std::int32_t>()[k] = k;
  expect_error(codes, ok, rows_matrix, "vector");
}

INSTANTIATE_TEST_SUITE_P(AllBackends, PartitionRowsPrimitive, ::testing::ValuesIn(all_backends()),
                         backend_param_name);

}  // namespace
}  // namespace mlcore::test
