// Tests of the cuda backend's own machinery, beyond the backend-agnostic suites of tests/cpp/core
// (which run on cuda by themselves whenever a GPU is present): every step of the SGEMM ladder
// against the scalar reference, the int8 tensor-core GEMM exact on awkward shapes and layouts,
// TF32 within its tolerance, both top-k buffers, both scatter_add paths, device-side index
// checks, transfers in the profile, out of memory and the file:line of CUDA errors.
//
// Without a GPU, or in a build without CUDA, every test here is skipped with the reason: a
// skipped test never counts as a pass that did not run.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <numeric>

#include "mlcore/config.hpp"
#include "test_util.hpp"

#if MLCORE_WITH_CUDA
#include "cpu/gemm_scalar.hpp"
#include "cuda/cuda_check.hpp"
#include "cuda/device_memory.hpp"
#include "cuda/kernels.hpp"
#endif

namespace mlcore::test {
namespace {

#if !MLCORE_WITH_CUDA

TEST(Cuda, SkippedInABuildWithoutCuda) { MLCORE_SKIP_UNLESS_BACKEND("cuda"); }

#else

class Cuda : public ::testing::Test {
 protected:
  void SetUp() override {
    // On the GPU machine (bench/gpu_check.sh sets MLCORE_REQUIRE_CUDA=1, the older spelling of
    // MLCORE_REQUIRE=cuda) a missing device is a failure, not a skip.
    MLCORE_SKIP_UNLESS_BACKEND("cuda");
    gpu = backend("cuda");
    ref = backend("scalar");
  }

  // Runs a launcher on the legacy default stream and waits for it (the backend's own stream
  // has already finished every transfer when to_device returns).
  template <class F>
  void launch_and_wait(F&& f) {
    f();
    MLCORE_CUDA_CHECK(cudaDeviceSynchronize());
  }

  BackendPtr gpu, ref;
  std::mt19937 rng{2024};
};

struct Shape {
  std::int64_t m, n, k;
};

std::string shape_name(const Shape& s) {
  return std::to_string(s.m) + "x" + std::to_string(s.n) + "x" + std::to_string(s.k);
}

// scale[i, j] = |α|·Σ_p |op(A)[i, p]·op(B)[p, j]| + |β·C0[i, j]|: the size of what was summed.
std::vector<double> gemm_scale(const Tensor& A, bool ta, const Tensor& B, bool tb, const Tensor& C0,
                               float alpha, float beta, const Shape& s) {
  std::vector<double> scale(s.m * s.n);
  for (std::int64_t i = 0; i < s.m; ++i) {
    for (std::int64_t j = 0; j < s.n; ++j) {
      double mag = 0;
      for (std::int64_t p = 0; p < s.k; ++p)
        mag += std::fabs(op_at(A, ta, i, p) * op_at(B, tb, p, j));
      const double c = beta == 0.0f ? 0.0 : std::fabs(beta * C0.at<float>(i, j));
      scale[i * s.n + j] = std::fabs(alpha) * mag + c;
    }
  }
  return scale;
}

std::vector<double> as_doubles(const Tensor& t) {
  return std::vector<double>(t.data<float>(), t.data<float>() + t.numel());
}

// ---- the SGEMM ladder ------------------------------------------------------------------------

TEST_F(Cuda, EverySgemmLadderStepMatchesTheScalarReference) {
  const Shape shapes[] = {{1, 1, 1},       {7, 17, 9},     {37, 41, 29}, {128, 128, 8},
                          {129, 130, 131}, {300, 257, 65}, {64, 5, 300}, {2, 300, 4}};
  const cuda::SgemmStep steps[] = {cuda::SgemmStep::naive, cuda::SgemmStep::coalesced,
                                   cuda::SgemmStep::shared_tiles,
                                   cuda::SgemmStep::register_blocked};
  for (const Shape& s : shapes) {
    for (bool ta : {false, true}) {
      for (bool tb : {false, true}) {
        for (auto [alpha, beta] : {std::pair{1.0f, 0.0f}, std::pair{-0.5f, 2.0f}}) {
          Tensor A = ta ? random_tensor(s.k, s.m, rng) : random_tensor(s.m, s.k, rng);
          Tensor B = tb ? random_tensor(s.n, s.k, rng) : random_tensor(s.k, s.n, rng);
          Tensor C0 = random_tensor(s.m, s.n, rng);
          if (beta == 0.0f) {
            std::fill_n(C0.data<float>(), C0.numel(), std::numeric_limits<float>::quiet_NaN());
          }
          Tensor expected = C0.clone();
          ref->gemm(ta ? Trans::yes : Trans::no, tb ? Trans::yes : Trans::no, alpha, A, B, beta,
                    expected);
          const std::vector<double> scale = gemm_scale(A, ta, B, tb, C0, alpha, beta, s);
          Tensor dA = gpu->to_device(A), dB = gpu->to_device(B);
          for (cuda::SgemmStep step : steps) {
            Tensor dC = gpu->to_device(C0);
            launch_and_wait([&] {
              cuda::sgemm(step, ta, tb, s.m, s.n, s.k, alpha, dA.data<float>(), A.cols(),
                          dB.data<float>(), B.cols(), beta, dC.data<float>(), s.n, nullptr);
            });
            // Both results carry f32 rounding: twice the one-sided bound.
            expect_close(gpu->to_host(dC), as_doubles(expected), scale, 2.0 * (s.k + 2) * kEpsF32,
                         1e-6,
                         std::string("sgemm step ") + cuda::sgemm_step_name(step) + " " +
                             shape_name(s) + " ta=" + std::to_string(ta) +
                             " tb=" + std::to_string(tb) + " beta=" + std::to_string(beta));
          }
        }
      }
    }
  }
}

TEST_F(Cuda, RegisterBlockedSgemmTakesTheScalarPathForUnalignedOperands) {
  // Row slices starting one row in: with 5 columns the data is 20 bytes off a 16-byte boundary,
  // which must send the kernel down its element-wise load path (and still be right).
  const Shape s{70, 45, 5};
  Tensor A = random_tensor(s.m + 1, s.k, rng), B = random_tensor(s.n + 1, s.k, rng);
  Tensor C0 = random_tensor(s.m, s.n, rng);
  Tensor dA = gpu->to_device(A), dB = gpu->to_device(B), dC = gpu->to_device(C0);
  Tensor a = dA.row_slice(1, s.m + 1), b = dB.row_slice(1, s.n + 1);
  gpu->gemm(Trans::no, Trans::yes, 1.0f, a, b, 0.0f, dC);
  Tensor ha = A.row_slice(1, s.m + 1).clone(), hb = B.row_slice(1, s.n + 1).clone();
  Tensor expected(s.m, s.n);
  ref->gemm(Trans::no, Trans::yes, 1.0f, ha, hb, 0.0f, expected);
  expect_close(gpu->to_host(dC), as_doubles(expected),
               gemm_scale(ha, false, hb, true, C0, 1.0f, 0.0f, s), 2.0 * (s.k + 2) * kEpsF32, 1e-6,
               "sgemm on unaligned row slices");
}

// ---- int8 on the tensor cores ----------------------------------------------------------------

TEST_F(Cuda, Int8TensorCoreGemmIsExactOnAwkwardShapesAndLayouts) {
  const Shape shapes[] = {{1, 1, 1},     {16, 8, 32},   {127, 129, 16},   {128, 128, 64},
                          {200, 70, 17}, {33, 300, 48}, {130, 257, 1000}, {5, 3, 4096}};
  int unpacked = 0, packed = 0;
  for (const Shape& s : shapes) {
    for (bool ta : {false, true}) {
      for (bool tb : {false, true}) {
        for (bool accumulate : {false, true}) {
          Tensor A = ta ? random_i8(s.k, s.m, rng) : random_i8(s.m, s.k, rng);
          Tensor B = tb ? random_i8(s.n, s.k, rng) : random_i8(s.k, s.n, rng);
          Tensor C0(s.m, s.n, DType::i32);
          for (std::int64_t i = 0; i < C0.numel(); ++i) {
            C0.data<std::int32_t>()[i] = static_cast<std::int32_t>(i % 1001) - 500;
          }
          Tensor expected = C0.clone();
          cpu::igemm_scalar(ta, tb, s.m, s.n, s.k, A.data<std::int8_t>(), A.cols(),
                            B.data<std::int8_t>(), B.cols(), accumulate,
                            expected.data<std::int32_t>(), s.n);
          Tensor dA = gpu->to_device(A), dB = gpu->to_device(B), dC = gpu->to_device(C0);
          (cuda::igemm_runs_unpacked(ta, tb, s.k, dA.data<std::int8_t>(), A.cols(),
                                     dB.data<std::int8_t>(), B.cols())
               ? unpacked
               : packed) += 1;
          gpu->gemm(ta ? Trans::yes : Trans::no, tb ? Trans::yes : Trans::no, 1.0f, dA, dB,
                    accumulate ? 1.0f : 0.0f, dC);
          Tensor got = gpu->to_host(dC);
          std::int64_t mismatches = 0, first = -1;
          for (std::int64_t i = 0; i < got.numel(); ++i) {
            if (got.data<std::int32_t>()[i] != expected.data<std::int32_t>()[i]) {
              if (first < 0) first = i;
              ++mismatches;
            }
          }
          EXPECT_EQ(mismatches, 0)
              << "int8 gemm " << shape_name(s) << " ta=" << ta << " tb=" << tb
              << " accumulate=" << accumulate << ", first at flat index " << first;
        }
      }
    }
  }
  EXPECT_GT(unpacked, 0) << "the direct (unpacked) tensor-core path was never exercised";
  EXPECT_GT(packed, 0) << "the packing path was never exercised";
}

TEST_F(Cuda, Int8GemmIsExactAtTheExtremes) {
  // -128 · -128 summed over k = 4096 is 2^26: far from int32 overflow, and every product at its
  // largest magnitude, so a lost bit anywhere would show.
  const Shape s{64, 72, 4096};
  Tensor A(s.m, s.k, DType::i8), B(s.n, s.k, DType::i8);
  std::fill_n(A.data<std::int8_t>(), A.numel(), std::int8_t{-128});
  std::fill_n(B.data<std::int8_t>(), B.numel(), std::int8_t{-128});
  B.at<std::int8_t>(3, 7) = 127;
  Tensor dC = gpu->empty(s.m, s.n, DType::i32);
  gpu->gemm(Trans::no, Trans::yes, 1.0f, gpu->to_device(A), gpu->to_device(B), 0.0f, dC);
  Tensor got = gpu->to_host(dC);
  for (std::int64_t i = 0; i < s.m; ++i) {
    for (std::int64_t j = 0; j < s.n; ++j) {
      const std::int64_t want = j == 3 ? 16384 * (s.k - 1) - 128 * 127 : 16384 * s.k;
      ASSERT_EQ(got.at<std::int32_t>(i, j), want) << "C[" << i << ", " << j << "]";
    }
  }
}

// ---- TF32
// ----------------------------------------------------------------------------------------

TEST_F(Cuda, Tf32GemmIsWithinTf32ToleranceAndReallyUsesTf32) {
  BackendPtr tf32 = make_cuda_backend(0, CudaOptions{true});
  EXPECT_EQ(tf32->name(), "cuda");
  EXPECT_NE(tf32->description().find("TF32"), std::string::npos) << tf32->description();
  const Shape shapes[] = {{1, 1, 1}, {64, 64, 64}, {100, 37, 513}, {129, 65, 31}};
  double worst_ratio = 0.0;
  for (const Shape& s : shapes) {
    for (bool ta : {false, true}) {
      for (bool tb : {false, true}) {
        const float alpha = 1.5f, beta = -0.25f;
        Tensor A = ta ? random_tensor(s.k, s.m, rng) : random_tensor(s.m, s.k, rng);
        Tensor B = tb ? random_tensor(s.n, s.k, rng) : random_tensor(s.k, s.n, rng);
        Tensor C0 = random_tensor(s.m, s.n, rng);
        std::vector<double> exact(s.m * s.n);
        for (std::int64_t i = 0; i < s.m; ++i) {
          for (std::int64_t j = 0; j < s.n; ++j) {
            double sum = 0;
            for (std::int64_t p = 0; p < s.k; ++p) sum += op_at(A, ta, i, p) * op_at(B, tb, p, j);
            exact[i * s.n + j] = alpha * sum + beta * C0.at<float>(i, j);
          }
        }
        const std::vector<double> scale = gemm_scale(A, ta, B, tb, C0, alpha, beta, s);
        Tensor dC = tf32->to_device(C0);
        tf32->gemm(ta ? Trans::yes : Trans::no, tb ? Trans::yes : Trans::no, alpha,
                   tf32->to_device(A), tf32->to_device(B), beta, dC);
        Tensor got = tf32->to_host(dC);
        // Each input rounded to 11 significant bits (≤ 2^-11 relative, 2^-10 per product) plus
        // the f32 accumulation; 2^-9 leaves room for hardware that truncates instead of rounds.
        const double rtol = std::ldexp(1.0, -9) + (s.k + 2) * kEpsF32;
        expect_close(got, exact, scale, rtol, 1e-6, "tf32 gemm " + shape_name(s));
        for (std::int64_t i = 0; i < got.numel(); ++i) {
          worst_ratio = std::max(worst_ratio,
                                 std::fabs(got.data<float>()[i] - exact[i]) / (scale[i] + 1e-30));
        }
      }
    }
  }
  // f32 arithmetic stays near 1e-7 of the scale on these shapes; TF32 lands near 1e-4.
  EXPECT_GT(worst_ratio, 3e-6) << "the TF32 backend computed with f32 precision: not on TF32?";
}

// ---- row selections --------------------------------------------------------------------------

TEST_F(Cuda, TopkSharedAndGlobalBuffersAgreeWithAStableSort) {
  const std::tuple<std::int64_t, std::int64_t, std::int64_t> cases[] = {
      {37, 5000, 1},   {37, 5000, 64},  {5, 5000, 300},
      {3, 3000, 1000}, {2, 4100, 4000}, {1, 257, 257}};
  for (auto [m, n, k] : cases) {
    Tensor D = random_tensor(m, n, rng);
    for (std::int64_t i = 0; i < D.numel(); i += 2) {
      D.data<float>()[i] = std::round(D.data<float>()[i] * 8) / 8;  // many ties
    }
    Tensor dD = gpu->to_device(D);
    Tensor idx1 = gpu->empty(m, k, DType::i32), val1 = gpu->empty(m, k);
    gpu->topk_rows(dD, k, idx1, val1);  // shared buffer unless k > 3840
    Tensor idx2 = gpu->empty(m, k, DType::i32), val2 = gpu->empty(m, k);
    {
      cuda::Workspace workspace;
      launch_and_wait([&] {
        cuda::topk_rows(m, n, k, dD.data<float>(), idx2.data<std::int32_t>(), val2.data<float>(),
                        nullptr, workspace, /*force_global_buffer=*/true);
      });
    }
    Tensor h1 = gpu->to_host(idx1), h2 = gpu->to_host(idx2), v1 = gpu->to_host(val1);
    for (std::int64_t i = 0; i < m; ++i) {
      std::vector<std::int32_t> order(n);
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(),
                       [&](int a, int b) { return D.at<float>(i, a) < D.at<float>(i, b); });
      for (std::int64_t j = 0; j < k; ++j) {
        ASSERT_EQ(h1.at<std::int32_t>(i, j), order[j])
            << "shared buffer, row " << i << " rank " << j << " (" << m << "x" << n << ", k=" << k
            << ")";
        ASSERT_EQ(h2.at<std::int32_t>(i, j), order[j])
            << "global buffer, row " << i << " rank " << j << " (k=" << k << ")";
        ASSERT_EQ(v1.at<float>(i, j), D.at<float>(i, order[j]));
      }
    }
  }
}

TEST_F(Cuda, TopkPutsNaNLastAndTreatsSignedZerosAsTies) {
  Tensor D(1, 6);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float row[] = {nan, 0.0f, -0.0f, -1.0f, nan, 2.0f};
  std::copy(row, row + 6, D.data<float>());
  Tensor idx = gpu->empty(1, 6, DType::i32), val = gpu->empty(1, 6);
  gpu->topk_rows(gpu->to_device(D), 6, idx, val);
  Tensor h = gpu->to_host(idx);
  const std::int32_t want[] = {3, 1, 2, 5, 0, 4};
  for (int j = 0; j < 6; ++j) EXPECT_EQ(h.data<std::int32_t>()[j], want[j]) << "rank " << j;
}

TEST_F(Cuda, ArgminOnWideRowsFindsTheFirstMinimumAndSkipsNaN) {
  for (std::int64_t n :
       {std::int64_t{100000}, std::int64_t{100003}, std::int64_t{64}, std::int64_t{3}}) {
    const std::int64_t m = 9;
    Tensor D = random_tensor(m, n, rng);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    D.at<float>(0, n - 1) = -7.0f;                                 // minimum at the very end
    if (n > 3) D.at<float>(1, 2) = D.at<float>(1, n - 2) = -7.0f;  // tie: the first wins
    D.at<float>(2, 0) = nan;
    for (std::int64_t j = 0; j < n; ++j) D.at<float>(3, j) = nan;  // all NaN: index 0
    Tensor idx = gpu->empty(m, 1, DType::i32), val = gpu->empty(m, 1);
    gpu->argmin_rows(gpu->to_device(D), idx, val);
    Tensor hi = gpu->to_host(idx), hv = gpu->to_host(val);
    Tensor ri(m, 1, DType::i32), rv(m, 1);
    ref->argmin_rows(D, ri, rv);
    for (std::int64_t i = 0; i < m; ++i) {
      ASSERT_EQ(hi.data<std::int32_t>()[i], ri.data<std::int32_t>()[i])
          << "row " << i << ", n=" << n;
      const float a = hv.data<float>()[i], b = rv.data<float>()[i];
      ASSERT_TRUE(a == b || (std::isnan(a) && std::isnan(b))) << "row " << i;
    }
  }
}

// ---- distances, the k-means shape ------------------------------------------------------------

TEST_F(Cuda, SqdistOnAKmeansShapedProblemMatchesFloat64) {
  const std::int64_t m = 20000, n = 64, d = 32;
  Tensor A = random_tensor(m, d, rng, -3.0f, 3.0f), B = random_tensor(n, d, rng, -3.0f, 3.0f);
  Tensor dD = gpu->empty(m, n);
  gpu->sqdist(gpu->to_device(A), gpu->to_device(B), dD);
  Tensor got = gpu->to_host(dD);
  std::vector<double> expected(m * n), scale(m * n);
  for (std::int64_t i = 0; i < m; ++i) {
    for (std::int64_t j = 0; j < n; ++j) {
      double s = 0, na = 0, nb = 0;
      for (std::int64_t p = 0; p < d; ++p) {
        const double diff = A.at<float>(i, p) - B.at<float>(j, p);
        s += diff * diff;
        na += A.at<float>(i, p) * A.at<float>(i, p);
        nb += B.at<float>(j, p) * B.at<float>(j, p);
      }
      expected[i * n + j] = s;
      scale[i * n + j] = na + nb;
    }
  }
  expect_close(got, expected, scale, 2.0 * (d + 4) * kEpsF32, 1e-6, "sqdist 20000x64 d=32");
}

// ---- scatter / gather and their device-side index checks -----------------------------------

TEST_F(Cuda, ScatterAddPathsMatchFloat64AndRepeatBitForBit) {
  // (m, c) = (64, 32): 8 warp copies in shared memory, no lane collisions possible;
  // (1000, 16): copies in device memory; (5, 2) with p = 7: many lanes of a step on one cell;
  // (40, 3) with duplicated targets inside a row; (3, 33) with a single sample per block range.
  struct Case {
    int n, p, c, m;
    bool duplicate_targets;
  };
  for (const Case& k :
       {Case{20000, 1, 32, 64, false}, Case{20000, 2, 16, 1000, false}, Case{3000, 7, 2, 5, false},
        Case{999, 4, 3, 40, true}, Case{1, 1, 33, 3, false}}) {
    Tensor X = random_tensor(k.n, k.c, rng);
    Tensor index(k.n, k.p, DType::i32);
    std::uniform_int_distribution<int> pick(-1, k.m - 1);
    for (std::int64_t i = 0; i < index.numel(); ++i) index.data<std::int32_t>()[i] = pick(rng);
    if (k.duplicate_targets) {
      for (int i = 0; i < k.n; ++i) index.at<std::int32_t>(i, 1) = index.at<std::int32_t>(i, 0);
    }
    Tensor out0 = random_tensor(k.m, k.c, rng);
    std::vector<double> expected(out0.data<float>(), out0.data<float>() + k.m * k.c),
        scale(k.m * k.c, 1.0);
    for (int i = 0; i < k.n; ++i) {
      for (int q = 0; q < k.p; ++q) {
        const int t = index.at<std::int32_t>(i, q);
        if (t < 0) continue;
        for (int j = 0; j < k.c; ++j) {
          expected[t * k.c + j] += X.at<float>(i, j);
          scale[t * k.c + j] += std::fabs(X.at<float>(i, j));
        }
      }
    }
    const std::string what = "scatter_add n=" + std::to_string(k.n) + " p=" + std::to_string(k.p) +
                             " c=" + std::to_string(k.c) + " m=" + std::to_string(k.m);
    Tensor dX = gpu->to_device(X), dI = gpu->to_device(index);
    Tensor first = gpu->to_device(out0), second = gpu->to_device(out0);
    gpu->scatter_add(dI, dX, first);
    gpu->scatter_add(dI, dX, second);
    Tensor a = gpu->to_host(first), b = gpu->to_host(second);
    expect_close(a, expected, scale, (k.n + 2) * kEpsF32, 1e-6, what);
    EXPECT_EQ(std::memcmp(a.raw(), b.raw(), a.size_bytes()), 0) << what << ": not reproducible";
    // The atomic rung computes the same sums (in some order).
    Tensor atomic = gpu->to_device(out0);
    launch_and_wait([&] {
      cuda::scatter_add_atomic(k.n, k.p, k.c, dI.data<std::int32_t>(), dX.data<float>(),
                               atomic.data<float>(), nullptr);
    });
    expect_close(gpu->to_host(atomic), expected, scale, (k.n + 2) * kEpsF32, 1e-6,
                 what + " (atomics)");
  }
}

TEST_F(Cuda, DeviceIndicesOutOfRangeRaiseTheHostErrorAndTouchNothing) {
  Tensor index(4, 1, DType::i32);
  const std::int32_t values[] = {0, -1, 5, 9};  // 5 is the first entry ≥ 3
  std::copy(values, values + 4, index.data<std::int32_t>());
  Tensor X = random_tensor(4, 2, rng), out0 = random_tensor(3, 2, rng);
  Tensor out = gpu->to_device(out0);
  try {
    gpu->scatter_add(gpu->to_device(index), gpu->to_device(X), out);
    FAIL() << "an index past the end of out must throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("index[2, 0] = 5"), std::string::npos) << e.what();
  }
  Tensor after = gpu->to_host(out);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(after.data<float>()[i], out0.data<float>()[i]);

  Tensor gidx(1, 3, DType::i32);
  gidx.data<std::int32_t>()[1] = -1;
  Tensor Y = gpu->empty(3, 2);
  try {
    gpu->gather_rows(gpu->to_device(X), gpu->to_device(gidx), Y);
    FAIL() << "a negative gather index must throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("index[1] = -1"), std::string::npos) << e.what();
  }
}

TEST_F(Cuda, ScatterAddFindsTheFirstBadIndexInsideItsOwnKernels) {
  // The check rides in the accumulating kernels (no separate pass): a bad entry met by a late
  // block, with another bad entry after it and a valid one before, on both the shared-memory
  // and the device-memory paths, and with p > 1. The first position is reported, out untouched.
  struct Case {
    int n, p, c, m;
  };
  for (const Case& k : {Case{200000, 1, 33, 64}, Case{50000, 3, 16, 1000}}) {
    Tensor X = random_tensor(k.n, k.c, rng);
    Tensor index(k.n, k.p, DType::i32);
    for (std::int64_t i = 0; i < index.numel(); ++i) {
      index.data<std::int32_t>()[i] = static_cast<std::int32_t>(i % k.m);
    }
    const std::int64_t first = index.numel() - 1000, later = index.numel() - 7;
    index.data<std::int32_t>()[first] = k.m + 3;
    index.data<std::int32_t>()[later] = k.m;
    Tensor out0 = random_tensor(k.m, k.c, rng);
    Tensor out = gpu->to_device(out0);
    try {
      gpu->scatter_add(gpu->to_device(index), gpu->to_device(X), out);
      FAIL() << "an index past the end of out must throw";
    } catch (const Error& e) {
      const std::string want = "index[" + std::to_string(first / k.p) + ", " +
                               std::to_string(first % k.p) + "] = " + std::to_string(k.m + 3);
      EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << e.what();
    }
    Tensor after = gpu->to_host(out);
    EXPECT_EQ(std::memcmp(after.raw(), out0.raw(), out0.size_bytes()), 0)
        << "out changed although the call was refused (n=" << k.n << ")";
  }
}

TEST_F(Cuda, GatherCopiesOddLengthInt8RowsBytewise) {
  Tensor X(11, 3, DType::i8);
  for (std::int64_t i = 0; i < X.numel(); ++i) X.data<std::int8_t>()[i] = std::int8_t(i * 7 - 60);
  Tensor index(5, 1, DType::i32);
  const std::int32_t rows[] = {10, 0, 3, 3, 7};
  std::copy(rows, rows + 5, index.data<std::int32_t>());
  Tensor Y = gpu->empty(5, 3, DType::i8);
  gpu->gather_rows(gpu->to_device(X), gpu->to_device(index), Y);
  Tensor got = gpu->to_host(Y);
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 3; ++j) EXPECT_EQ(got.at<std::int8_t>(i, j), X.at<std::int8_t>(rows[i], j));
}

// ---- tall reductions: the split + finish kernels -----------------------------------------------

TEST_F(Cuda, TallGemvTransposeAndColumnReductionsUseSplitsCorrectly) {
  const std::int64_t m = 300000, n = 5;
  Tensor X = random_tensor(m, n, rng, 99.0f, 101.0f);
  Tensor dX = gpu->to_device(X);
  for (Reduce op : {Reduce::sum, Reduce::mean, Reduce::var}) {
    Tensor out = gpu->empty(1, n), want(1, n);
    gpu->reduce_cols(op, dX, out);
    ref->reduce_cols(op, X, want);
    expect_close(gpu->to_host(out), as_doubles(want), 64 * kEpsF32, 1e-7,
                 std::string("reduce_cols ") + reduce_name(op));
  }
  Tensor x = random_tensor(m, 1, rng), y0 = random_tensor(n, 1, rng);
  Tensor dy = gpu->to_device(y0), want = y0.clone();
  gpu->gemv(Trans::yes, 0.5f, dX, gpu->to_device(x), 2.0f, dy);
  ref->gemv(Trans::yes, 0.5f, X, x, 2.0f, want);
  std::vector<double> scale(n, 0.0);
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j)
      scale[j] += 0.5 * std::fabs(X.at<float>(i, j) * x.data<float>()[i]);
  expect_close(gpu->to_host(dy), as_doubles(want), scale, 2.0 * (m + 2) * kEpsF32, 1e-4,
               "gemv transposed, tall");
}

// ---- memory, transfers, profile, errors ------------------------------------------------------

TEST_F(Cuda, TransfersAreCountedAndTimedWithEvents) {
  Tensor t = random_tensor(1000, 37, rng);
  Profile p;
  Tensor back;
  {
    ProfileScope scope(p);
    Tensor d = gpu->to_device(t);
    EXPECT_EQ(d.device(), Device::cuda);
    EXPECT_NE(d.raw(), t.raw());
    back = gpu->to_host(d);
  }
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p.total().host_to_device_bytes, 1000 * 37 * 4);
  EXPECT_EQ(p.total().device_to_host_bytes, 1000 * 37 * 4);
  for (const OpRecord& r : p.records()) {
    EXPECT_GT(r.seconds, 0.0) << r.op;
    EXPECT_LE(r.seconds, r.wall_seconds + 1e-4) << r.op << ": GPU time inside the host call";
  }
  for (std::int64_t i = 0; i < t.numel(); ++i) ASSERT_EQ(back.data<float>()[i], t.data<float>()[i]);
}

TEST_F(Cuda, EmptyTensorsAreZeroedEvenWhenTheCacheReusesABlock) {
  {
    Tensor dirty = gpu->to_device(random_tensor(256, 256, rng));
  }  // back to the cache
  Tensor z = gpu->to_host(gpu->empty(256, 256));
  for (std::int64_t i = 0; i < z.numel(); ++i) ASSERT_EQ(z.data<float>()[i], 0.0f) << i;
}

TEST_F(Cuda, OutOfMemoryIsADeviceErrorWithFileAndLine) {
  try {
    Tensor huge = gpu->empty(std::int64_t{1} << 20, std::int64_t{1} << 20);  // 4 TiB
    FAIL() << "a 4 TiB allocation cannot succeed";
  } catch (const DeviceError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("out of memory"), std::string::npos) << msg;
    EXPECT_NE(msg.find("device_memory.cpp:"), std::string::npos) << msg;
  }
  // The failure is not sticky: the device keeps working.
  Tensor C = gpu->empty(8, 8);
  Tensor A = gpu->to_device(random_tensor(8, 8, rng));
  EXPECT_NO_THROW(gpu->gemm(Trans::no, Trans::no, 1.0f, A, A, 0.0f, C));
}

TEST_F(Cuda, CudaErrorsCarryFileLineAndTheCudaText) {
  try {
    MLCORE_CUDA_CHECK(cudaSetDevice(-1));
    FAIL() << "cudaSetDevice(-1) must fail";
  } catch (const DeviceError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("test_cuda.cpp:"), std::string::npos) << msg;
    EXPECT_NE(msg.find("cudaSetDevice(-1)"), std::string::npos) << msg;
    EXPECT_NE(msg.find(cudaGetErrorString(cudaErrorInvalidDevice)), std::string::npos) << msg;
  }
  EXPECT_THROW(make_cuda_backend(1000), DeviceError);
  EXPECT_THROW(cuda_device_info(-3), DeviceError);
}

TEST_F(Cuda, DeviceInfoGivesTheFiguresForPercentOfPeak) {
  const CudaDeviceInfo info = cuda_device_info(0);
  EXPECT_FALSE(info.name.empty());
  EXPECT_GE(info.compute_capability_major, 8);
  EXPECT_GT(info.sm_count, 0);
  EXPECT_GT(info.peak_f32_flops, 1e12);
  EXPECT_GT(info.peak_int8_ops, info.peak_f32_flops);
  EXPECT_GT(info.peak_bytes_per_second, 1e11);
  EXPECT_GT(info.global_memory_bytes, std::int64_t{1} << 30);
  EXPECT_NE(gpu->description().find(info.name), std::string::npos) << gpu->description();
  const MachinePeaks peaks = gpu->peaks();
  EXPECT_DOUBLE_EQ(peaks.macs_per_second, info.peak_f32_flops / 2);
  EXPECT_DOUBLE_EQ(peaks.bytes_per_second, info.peak_bytes_per_second);
  EXPECT_EQ(gpu->device(), Device::cuda);
}

TEST_F(Cuda, ProfileSecondsOfAPrimitiveComeFromEvents) {
  Tensor A = gpu->to_device(random_tensor(512, 512, rng)), C = gpu->empty(512, 512);
  Profile p;
  {
    ProfileScope scope(p);
    gpu->gemm(Trans::no, Trans::no, 1.0f, A, A, 0.0f, C);
  }
  ASSERT_EQ(p.size(), 1u);
  const OpRecord r = p.records()[0];
  EXPECT_EQ(r.backend, "cuda");
  EXPECT_GT(r.seconds, 0.0);
  EXPECT_LE(r.seconds, r.wall_seconds + 1e-4);
  EXPECT_FALSE(r.seconds_simulated);
}

// tree_walk / tree_walk_sum (tree_walk.cu, one thread per row) give the scalar reference's
// leaves and sums bit for bit: a forest of random trees (unbalanced, depths up to 14) in one
// table, rows with NaNs (missing_left both ways) and values on thresholds, m not a multiple of
// the block; a bad table is refused from the device copy with the host checks' messages.
TEST_F(Cuda, TreeWalkMatchesTheScalarReference) {
  const std::int64_t d = 7, T = 5, c = 3;
  std::vector<TreeWalkNode> nodes;
  std::vector<std::int32_t> roots;
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (std::int64_t t = 0; t < T; ++t) {
    roots.push_back(static_cast<std::int32_t>(nodes.size()));
    // Grow breadth-first: each open node splits with probability 0.8 until depth 14.
    std::vector<std::pair<std::size_t, int> > open{{nodes.size(), 0}};
    nodes.emplace_back();
    for (std::size_t q = 0; q < open.size(); ++q) {
      const auto [j, depth] = open[q];
      if (depth >= 14 || u(rng) < -0.6f) continue;  // a leaf
      const auto left = static_cast<std::int32_t>(nodes.size());
      nodes.emplace_back();
      nodes.emplace_back();
      nodes[j].left = left;
      nodes[j].right = left + 1;
      nodes[j].feature_and_missing =
          static_cast<std::uint32_t>(rng() % d) | (rng() % 2 ? 0x80000000u : 0u);
      nodes[j].threshold = u(rng) * 0.5f;
      open.push_back({std::size_t(left), depth + 1});
      open.push_back({std::size_t(left) + 1, depth + 1});
    }
  }
  const std::int64_t N = static_cast<std::int64_t>(nodes.size()), m = 10007;
  Tensor table(N, 4, DType::i32), root(T, 1, DType::i32);
  std::memcpy(table.raw(), nodes.data(), sizeof(TreeWalkNode) * N);
  std::copy(roots.begin(), roots.end(), root.data<std::int32_t>());
  const Tensor values = random_tensor(N, c, rng);
  Tensor X = random_tensor(m, d, rng);
  for (std::int64_t i = 0; i < m; i += 11) X.at<float>(i, i % d) = std::nanf("");
  for (std::int64_t i = 5; i < m; i += 13) X.at<float>(i, 0) = nodes[0].threshold;

  Tensor leaf_ref(m, T, DType::i32), sum_ref(m, c);
  ref->tree_walk(table, root, X, leaf_ref);
  ref->tree_walk_sum(table, root, values, X, 0.2, sum_ref);
  const Tensor dt = gpu->to_device(table), dr = gpu->to_device(root), dx = gpu->to_device(X);
  Tensor leaf = gpu->empty(m, T, DType::i32), sum = gpu->empty(m, c);
  gpu->tree_walk(dt, dr, dx, leaf);
  gpu->tree_walk_sum(dt, dr, gpu->to_device(values), dx, 0.2, sum);
  const Tensor leaf_h = gpu->to_host(leaf), sum_h = gpu->to_host(sum);
  ASSERT_EQ(std::memcmp(leaf_h.raw(), leaf_ref.raw(), leaf_ref.size_bytes()), 0);
  ASSERT_EQ(std::memcmp(sum_h.raw(), sum_ref.raw(), sum_ref.size_bytes()), 0);

  // A cycle in the table: refused before any walk.
  TreeWalkNode* first = reinterpret_cast<TreeWalkNode*>(table.raw());
  first[0].left = 0;
  try {
    gpu->tree_walk(gpu->to_device(table), dr, dx, leaf);
    ADD_FAILURE() << "a cyclic table was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("node 0's children 0,"), std::string::npos) << e.what();
  }
}

#endif  // MLCORE_WITH_CUDA

}  // namespace
}  // namespace mlcore::test
