// Kernel-level tests of the SIMD SGEMMs — AVX2 (src/cpu/gemm_avx2.cpp) and AVX-512
// (gemm_avx512.cpp), one test body run on each (they share the loops of gemm_driver.hpp and
// differ in tiles, packing and masks) — against a float64 plain-loop reference: awkward sizes
// (1, primes, one less / one more than every block size of either kernel), all four transpose
// combinations, alpha/beta values, leading dimensions larger than the matrix, threads. A kernel
// whose instruction set this CPU lacks is skipped with the reason (a failure where
// MLCORE_REQUIRE lists its backend).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "cpu/cpu_features.hpp"
#include "cpu/gemm_avx2.hpp"
#include "cpu/gemm_avx512.hpp"
#include "mlcore/parallel.hpp"
#include "test_util.hpp"

namespace mlcore::cpu {
namespace {

using std::int64_t;

using SgemmFn = void (*)(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t,
                         const float*, int64_t, float, float*, int64_t, int);

// A SIMD SGEMM, the backend whose CPU check guards it, and the test's name for it.
struct Kernel {
  const char* backend;
  SgemmFn sgemm;
  const char* name;
};

// sgemm_avx512 blocks for the L1d of the core it runs on; both sets of blocks are tested here,
// whatever this core has.
template <L1dClass l1d>
void sgemm_avx512_for(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha,
                      const float* A, int64_t lda, const float* B, int64_t ldb, float beta,
                      float* C, int64_t ldc, int threads) {
  sgemm_avx512_blocked_for(l1d, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, threads);
}

const Kernel kKernels[] = {{"avx2", sgemm_avx2, "avx2"},
                           {"avx512", sgemm_avx512, "avx512"},
                           {"avx512", sgemm_avx512_for<L1dClass::k32KiB>, "avx512_l1d_32k"},
                           {"avx512", sgemm_avx512_for<L1dClass::k48KiB>, "avx512_l1d_48k"}};

class Sgemm : public ::testing::TestWithParam<Kernel> {
 protected:
  void SetUp() override { MLCORE_SKIP_UNLESS_BACKEND(GetParam().backend); }
};

struct Case {
  bool trans_a, trans_b;
  int64_t m, n, k;
  float alpha, beta;
  int64_t pad_a = 0, pad_b = 0, pad_c = 0;  // leading dimension minus the stored row length
  int threads = 1;
};

std::string describe(const Case& c) {
  return "ta=" + std::to_string(c.trans_a) + " tb=" + std::to_string(c.trans_b) +
         " m=" + std::to_string(c.m) + " n=" + std::to_string(c.n) + " k=" + std::to_string(c.k) +
         " alpha=" + std::to_string(c.alpha) + " beta=" + std::to_string(c.beta) +
         " pads=" + std::to_string(c.pad_a) + "," + std::to_string(c.pad_b) + "," +
         std::to_string(c.pad_c) + " threads=" + std::to_string(c.threads);
}

// Runs one case and compares every element of C with the float64 reference, with the tolerance
//   |got − ref| ≤ 2·(k + 2)·u · (|α|·Σ_p |a_ip·b_pj| + |β·c_ij|),   u = 2⁻²⁴,
// the textbook bound γ_k for a float32 dot product of length k (any summation order, so any
// blocking), doubled for the final scaling by α and β.
void run_case(SgemmFn sgemm, const Case& c) {
  SCOPED_TRACE(describe(c));
  const int64_t a_rows = c.trans_a ? c.k : c.m, a_cols = c.trans_a ? c.m : c.k;
  const int64_t b_rows = c.trans_b ? c.n : c.k, b_cols = c.trans_b ? c.k : c.n;
  const int64_t lda = a_cols + c.pad_a, ldb = b_cols + c.pad_b, ldc = c.n + c.pad_c;

  std::mt19937 rng(static_cast<unsigned>(c.m * 131 + c.n * 17 + c.k));
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  const float sentinel = 12345.0f;  // in the padding: must never be read into C nor written
  std::vector<float> A(a_rows * lda, sentinel), B(b_rows * ldb, sentinel);
  std::vector<float> C(c.m * ldc, sentinel);
  for (int64_t i = 0; i < a_rows; ++i)
    for (int64_t j = 0; j < a_cols; ++j) A[i * lda + j] = dist(rng);
  for (int64_t i = 0; i < b_rows; ++i)
    for (int64_t j = 0; j < b_cols; ++j) B[i * ldb + j] = dist(rng);
  for (int64_t i = 0; i < c.m; ++i)
    for (int64_t j = 0; j < c.n; ++j)
      C[i * ldc + j] = c.beta == 0.0f ? std::numeric_limits<float>::quiet_NaN() : dist(rng);
  const std::vector<float> C0 = C;

  sgemm(c.trans_a, c.trans_b, c.m, c.n, c.k, c.alpha, A.data(), lda, B.data(), ldb, c.beta,
        C.data(), ldc, c.threads);

  auto a_at = [&](int64_t i, int64_t p) { return c.trans_a ? A[p * lda + i] : A[i * lda + p]; };
  auto b_at = [&](int64_t p, int64_t j) { return c.trans_b ? B[j * ldb + p] : B[p * ldb + j]; };
  const double u = std::ldexp(1.0, -24);
  int64_t failures = 0;
  for (int64_t i = 0; i < c.m; ++i) {
    for (int64_t j = 0; j < c.n; ++j) {
      double dot = 0.0, abs_dot = 0.0;
      for (int64_t p = 0; p < c.k; ++p) {
        const double t = double(a_at(i, p)) * double(b_at(p, j));
        dot += t;
        abs_dot += std::fabs(t);
      }
      const double old_c = c.beta == 0.0f ? 0.0 : double(C0[i * ldc + j]);
      const double ref = double(c.alpha) * dot + double(c.beta) * old_c;
      const double tol =
          2.0 * double(c.k + 2) * u * (std::fabs(c.alpha) * abs_dot + std::fabs(c.beta * old_c)) +
          1e-30;
      const double got = C[i * ldc + j];
      if (!(std::fabs(got - ref) <= tol) && ++failures <= 5) {
        ADD_FAILURE() << "C[" << i << "," << j << "] = " << got << ", reference " << ref
                      << ", tolerance " << tol;
      }
    }
    for (int64_t j = c.n; j < ldc; ++j) {  // C's padding is untouched
      if (C[i * ldc + j] != sentinel && ++failures <= 5) {
        ADD_FAILURE() << "padding C[" << i << "," << j << "] was overwritten";
      }
    }
  }
  EXPECT_EQ(failures, 0);
}

TEST_P(Sgemm, AwkwardSizesAllTransposes) {
  // 1, primes, and one off every tile and block size: avx2 MR = 6, NR = 16, KC = 256, MC = 144;
  // avx512 MR = 14, NR = 32, KC = 128, MC = 448 (32 KiB L1d) or KC = 256, MC = 224 (48 KiB).
  const int64_t sizes[] = {1, 2, 5, 7, 13, 15, 17, 29, 31, 47, 97, 145, 225, 257, 449};
  for (int ta = 0; ta < 2; ++ta) {
    for (int tb = 0; tb < 2; ++tb) {
      for (int64_t m : sizes) {
        for (int64_t n :
             {int64_t{1}, int64_t{15}, int64_t{17}, int64_t{31}, int64_t{33}, int64_t{97}}) {
          for (int64_t k :
               {int64_t{1}, int64_t{7}, int64_t{17}, int64_t{127}, int64_t{129}, int64_t{257}}) {
            run_case(GetParam().sgemm, {ta == 1, tb == 1, m, n, k, 1.0f, 0.0f});
          }
        }
      }
    }
  }
}

TEST_P(Sgemm, AlphaBetaAndLeadingDimensions) {
  const SgemmFn sgemm = GetParam().sgemm;
  const float alphas[] = {1.0f, -0.5f, 2.0f};
  const float betas[] = {0.0f, 1.0f, -1.5f};
  for (int ta = 0; ta < 2; ++ta) {
    for (int tb = 0; tb < 2; ++tb) {
      for (float alpha : alphas) {
        for (float beta : betas) {
          run_case(sgemm, {ta == 1, tb == 1, 37, 41, 300, alpha, beta, 3, 5, 7});
          run_case(sgemm, {ta == 1, tb == 1, 6, 16, 8, alpha, beta, 1, 1, 1});
          run_case(sgemm, {ta == 1, tb == 1, 14, 32, 16, alpha, beta, 1, 1, 1});
        }
      }
    }
  }
}

TEST_P(Sgemm, AlphaZeroAndEmptyK) {
  const SgemmFn sgemm = GetParam().sgemm;
  run_case(sgemm, {false, false, 9, 10, 11, 0.0f, 0.0f});  // C = 0 even though C held NaN
  run_case(sgemm, {false, false, 9, 10, 11, 0.0f, 2.0f});  // C = 2·C
  run_case(sgemm, {false, true, 9, 10, 0, 1.0f, 0.0f});    // k = 0: no product
  run_case(sgemm, {true, false, 9, 10, 0, 1.0f, -1.0f});
  // m = 0 or n = 0 touch nothing.
  float c = 7.0f, a = 1.0f, b = 1.0f;
  sgemm(false, false, 0, 1, 1, 1.0f, &a, 1, &b, 1, 0.0f, &c, 1, 1);
  sgemm(false, false, 1, 0, 1, 1.0f, &a, 1, &b, 1, 0.0f, &c, 1, 1);
  EXPECT_EQ(c, 7.0f);
}

TEST_P(Sgemm, ThreadsAndBlockBoundaries) {
  const SgemmFn sgemm = GetParam().sgemm;
  // Large enough to use several threads and cross MC, KC and (for n) NC (4080; 8192) boundaries.
  for (int threads : {1, 2, 3, 4}) {
    run_case(sgemm, {false, false, 301, 190, 530, 1.0f, 0.0f, 0, 0, 0, threads});
    run_case(sgemm, {true, true, 289, 211, 260, -1.0f, 0.5f, 2, 0, 1, threads});
  }
  run_case(sgemm, {false, true, 7, 4100, 70, 1.0f, 1.0f, 0, 3, 0, 2});   // short, wide: split cols
  run_case(sgemm, {true, false, 5, 8200, 33, 1.0f, 0.0f, 0, 0, 0, 2});   // crosses avx512's NC
  run_case(sgemm, {true, false, 2000, 33, 64, 1.0f, 0.0f, 0, 0, 0, 2});  // tall and skinny
  run_case(sgemm, {false, false, 1000, 40, 100, 1.0f, 0.5f, 0, 0, 0, 2});  // unpacked-A path
}

TEST_P(Sgemm, SmallCLongKSplitsKAcrossThreads) {
  const SgemmFn sgemm = GetParam().sgemm;
  // C small and k long (a Gram matrix XᵀX of a tall X): each thread sums its own share of k
  // and the partial Cs are added. Every transpose, α and β, padded leading dimensions, a k that
  // does not divide evenly, and 3 threads (the partials of two helpers added to thread 0's C).
  for (int ta = 0; ta < 2; ++ta) {
    for (int tb = 0; tb < 2; ++tb) {
      run_case(sgemm, {ta == 1, tb == 1, 37, 19, 20011, 1.0f, 0.0f, 0, 0, 0, 2});
      run_case(sgemm, {ta == 1, tb == 1, 100, 100, 7001, -0.5f, 1.5f, 3, 1, 2, 3});
    }
  }
}

TEST_P(Sgemm, CalledFromInsideAParallelRegion) {
  const SgemmFn sgemm = GetParam().sgemm;
  // Each thread of the caller's team runs its own GEMM (asking for 2 threads): the GEMM must run
  // on the calling thread alone and never wait at a barrier of the caller's team.
  const int64_t m = 150, n = 70, k = 300;
  std::vector<float> A(m * k), B(k * n);
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (float& x : A) x = dist(rng);
  for (float& x : B) x = dist(rng);
  std::vector<float> ref(m * n);
  sgemm(false, false, m, n, k, 1.0f, A.data(), k, B.data(), n, 0.0f, ref.data(), n, 1);
  std::vector<std::vector<float>> results(4, std::vector<float>(m * n));
  parallel::for_each(4, 2, [&](int64_t t) {
    sgemm(false, false, m, n, k, 1.0f, A.data(), k, B.data(), n, 0.0f, results[t].data(), n, 2);
  });
  for (const auto& r : results) EXPECT_EQ(r, ref);  // same blocking, so bit-identical
}

INSTANTIATE_TEST_SUITE_P(Simd, Sgemm, ::testing::ValuesIn(kKernels),
                         [](const ::testing::TestParamInfo<Kernel>& info) {
                           return std::string(info.param.name);
                         });

TEST(GemmAvx512, BlocksForThisCoresL1d) {
  MLCORE_SKIP_UNLESS_BACKEND("avx512");
  const CacheSizes& caches = host_cache_sizes();
  EXPECT_GE(caches.l1d, 16 * 1024);
  EXPECT_GE(caches.l2, caches.l1d);
  // k spans several KC slices of either set, so the two sets sum in different orders: the
  // product sgemm_avx512 returns must be, bit for bit, the one of the set this L1d calls for.
  const int64_t m = 60, n = 70, k = 700;
  std::vector<float> A(m * k), B(k * n), C(m * n), C32(m * n), C48(m * n);
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (float& x : A) x = dist(rng);
  for (float& x : B) x = dist(rng);
  sgemm_avx512(false, false, m, n, k, 1.0f, A.data(), k, B.data(), n, 0.0f, C.data(), n, 1);
  sgemm_avx512_blocked_for(L1dClass::k32KiB, false, false, m, n, k, 1.0f, A.data(), k, B.data(), n,
                           0.0f, C32.data(), n, 1);
  sgemm_avx512_blocked_for(L1dClass::k48KiB, false, false, m, n, k, 1.0f, A.data(), k, B.data(), n,
                           0.0f, C48.data(), n, 1);
  ASSERT_NE(C32, C48) << "the two sets of blocks should round differently at k = " << k;
  EXPECT_EQ(C, caches.l1d >= 48 * 1024 ? C48 : C32) << "L1d = " << caches.l1d << " bytes";
}

TEST(GemmAvx2, LadderStepsMatchTheReference) {
  MLCORE_SKIP_UNLESS_BACKEND("avx2");
  for (int64_t s : {int64_t{1}, int64_t{23}, int64_t{100}}) {
    const int64_t m = s + 5, n = s + 17, k = s + 3;
    std::vector<float> A(m * k), B(k * n), C(m * n), R(m * n);
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    for (float& x : A) x = dist(rng);
    for (float& x : B) x = dist(rng);
    sgemm_avx2(false, false, m, n, k, 1.0f, A.data(), k, B.data(), n, 0.0f, R.data(), n, 1);
    using Step = void (*)(int64_t, int64_t, int64_t, const float*, const float*, float*);
    for (Step step : {Step{gemm_avx2_ladder::step1_vectorized_loops},
                      Step{gemm_avx2_ladder::step2_register_blocked},
                      Step{gemm_avx2_ladder::step3_packed_blocked}}) {
      step(m, n, k, A.data(), B.data(), C.data());
      for (int64_t i = 0; i < m * n; ++i) {
        ASSERT_NEAR(C[i], R[i], 4.0 * (k + 2) * std::ldexp(1.0, -24) * k) << "element " << i;
      }
    }
  }
}

}  // namespace
}  // namespace mlcore::cpu
