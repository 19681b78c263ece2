// The amx backend (src/cpu/amx_backend.cpp), on both tile units: the plain-C++ model of the tiles
// (every machine with AVX-512, since the other primitives are avx512's) and the hardware (where
// the registry lists amx; skipped with the reason elsewhere, a failure where MLCORE_REQUIRE lists
// amx). Each is held to an independent reference:
//   * int8 GEMMs: bit-exact against the plain int8 loop (igemm_scalar);
//   * f32 GEMMs: bit-identical to the systolic backend's functional result (the same
//     quantization), with and without GemmHints, past the int32-exact depth, with non-finite
//     operands; and within the int8 bound of a float64 product;
//   * every other primitive: identical to the avx512 backend's.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "cpu/gemm_scalar.hpp"
#include "mlcore/systolic.hpp"
#include "systolic/quantized_gemm.hpp"
#include "test_util.hpp"

namespace mlcore::test {
namespace {

struct Variant {
  const char* name;
  bool emulate_tiles;
};

void PrintTo(const Variant& v, std::ostream* os) { *os << v.name; }

class AmxBackend : public ::testing::TestWithParam<Variant> {
 protected:
  void SetUp() override {
    // The tile model needs the avx512 backend it delegates to; the hardware needs amx itself.
    if (GetParam().emulate_tiles) {
      MLCORE_SKIP_UNLESS_BACKEND("avx512");
    } else {
      MLCORE_SKIP_UNLESS_BACKEND("amx");
    }
    AmxOptions options;
    options.emulate_tiles = GetParam().emulate_tiles;
    options.num_threads = 2;
    amx_ = make_amx_backend(options);
  }

  BackendPtr amx_;
};

const Variant kVariants[] = {{"tile_model", true}, {"hardware", false}};
INSTANTIATE_TEST_SUITE_P(Tiles, AmxBackend, ::testing::ValuesIn(kVariants),
                         [](const ::testing::TestParamInfo<Variant>& info) {
                           return std::string(info.param.name);
                         });

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.size_bytes() == b.size_bytes() && std::memcmp(a.raw(), b.raw(), a.size_bytes()) == 0;
}

// The first differing element of two f32 tensors, for a readable failure.
std::string first_difference(const Tensor& got, const Tensor& want) {
  const float* g = got.data<float>();
  const float* w = want.data<float>();
  for (std::int64_t i = 0; i < got.numel(); ++i) {
    if (std::memcmp(g + i, w + i, sizeof(float)) != 0) {
      return "flat index " + std::to_string(i) + ": " + std::to_string(g[i]) + " vs " +
             std::to_string(w[i]);
    }
  }
  return "none";
}

struct Shape {
  std::int64_t m, n, k;
};
// 1, primes, one below / above a tile (16), a block (32) and a k-chunk (64).
const Shape kShapes[] = {{1, 1, 1},    {1, 17, 65},  {37, 29, 53}, {16, 16, 64},
                         {33, 31, 63}, {47, 1, 131}, {2, 65, 7}};

TEST_P(AmxBackend, Int8GemmIsExactEveryTransposeAndAccumulate) {
  std::mt19937 rng(3);
  for (const Shape& s : kShapes) {
    for (int t = 0; t < 8; ++t) {
      const bool ta = t & 1, tb = t & 2, acc = t & 4;
      SCOPED_TRACE(std::to_string(s.m) + "x" + std::to_string(s.n) + "x" + std::to_string(s.k) +
                   " ta=" + std::to_string(ta) + " tb=" + std::to_string(tb) +
                   " beta=" + std::to_string(acc));
      Tensor A = random_i8(ta ? s.k : s.m, ta ? s.m : s.k, rng);
      Tensor B = random_i8(tb ? s.n : s.k, tb ? s.k : s.n, rng);
      Tensor C(s.m, s.n, DType::i32);
      std::uniform_int_distribution<int> start(-1000, 1000);
      for (std::int64_t i = 0; i < C.numel(); ++i) C.data<std::int32_t>()[i] = start(rng);
      Tensor want = C.clone();
      cpu::igemm_scalar(ta, tb, s.m, s.n, s.k, A.data<std::int8_t>(), A.cols(),
                        B.data<std::int8_t>(), B.cols(), acc, want.data<std::int32_t>(), s.n);
      amx_->gemm(ta ? Trans::yes : Trans::no, tb ? Trans::yes : Trans::no, 1.0f, A, B,
                 acc ? 1.0f : 0.0f, C);
      EXPECT_TRUE(same_bits(C, want));
    }
  }
}

// The f32 GEMM quantizes exactly as the systolic backend does and multiplies the same codes, so
// its C is the simulator's functional result bit for bit, and its record carries the same error.
TEST_P(AmxBackend, F32GemmIsTheSystolicResultBitForBit) {
  BackendPtr tpu = backend("systolic");
  std::mt19937 rng(5);
  const GemmHints kHints[] = {{}, {true, false}, {false, true}, {true, true}};
  int case_no = 0;
  for (const Shape& s : kShapes) {
    for (int t = 0; t < 4; ++t) {
      const bool ta = t & 1, tb = t & 2;
      const GemmHints hints = kHints[case_no % 4];
      const float alpha = case_no % 3 == 0 ? 1.0f : -0.75f;
      const float beta = case_no % 2 == 0 ? 0.0f : 0.5f;
      ++case_no;
      SCOPED_TRACE(std::to_string(s.m) + "x" + std::to_string(s.n) + "x" + std::to_string(s.k) +
                   " ta=" + std::to_string(ta) + " tb=" + std::to_string(tb) +
                   " wide_range_b=" + std::to_string(hints.wide_range_b) +
                   " rows_up_to_constant=" + std::to_string(hints.rows_up_to_constant));
      Tensor A = random_tensor(ta ? s.k : s.m, ta ? s.m : s.k, rng);
      Tensor B = random_tensor(tb ? s.n : s.k, tb ? s.k : s.n, rng);
      if (hints.wide_range_b) {  // magnitudes 1e-3 … 1e3, so the bands matter
        std::uniform_int_distribution<int> decade(-3, 3);
        for (std::int64_t i = 0; i < B.numel(); ++i)
          B.data<float>()[i] *= std::pow(10.0f, float(decade(rng)));
      }
      Tensor C0 = random_tensor(s.m, s.n, rng);
      Tensor got = C0.clone(), want = C0.clone();
      Profile pa, ps;
      {
        ProfileScope scope(pa);
        amx_->gemm(ta ? Trans::yes : Trans::no, tb ? Trans::yes : Trans::no, alpha, A, B, beta, got,
                   hints);
      }
      {
        ProfileScope scope(ps);
        tpu->gemm(ta ? Trans::yes : Trans::no, tb ? Trans::yes : Trans::no, alpha, A, B, beta, want,
                  hints);
      }
      EXPECT_TRUE(same_bits(got, want)) << first_difference(got, want);
      ASSERT_EQ(pa.records().size(), 1u);
      const OpRecord r = pa.records()[0];
      ASSERT_TRUE(r.quant_error.has_value());
      EXPECT_EQ(*r.quant_error, *ps.records()[0].quant_error);
      EXPECT_FALSE(r.seconds_simulated);  // measured on this machine
      EXPECT_FALSE(r.sim.has_value());
      EXPECT_GE(r.seconds, 0.0);
      EXPECT_LE(r.seconds, r.wall_seconds);  // the error estimate is not the tiles' time
    }
  }
}

// Within the int8 bound of the exact product: each code is off by at most half a step
// (s = max/127 of its row or column), so |C − op(A)·op(B)| ≤ Σ_p (|a|·s_b/2 + |b|·s_a/2 +
// s_a·s_b/4).
TEST_P(AmxBackend, F32GemmIsWithinTheInt8BoundOfAFloat64Product) {
  std::mt19937 rng(9);
  const std::int64_t m = 29, n = 41, k = 67;
  Tensor A = random_tensor(m, k, rng), B = random_tensor(k, n, rng), C(m, n);
  amx_->gemm(Trans::no, Trans::no, 1.0f, A, B, 0.0f, C);
  std::vector<double> sa(m, 0.0), sb(n, 0.0);
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t p = 0; p < k; ++p) sa[i] = std::max(sa[i], std::fabs(op_at(A, false, i, p)));
  for (std::int64_t j = 0; j < n; ++j)
    for (std::int64_t p = 0; p < k; ++p) sb[j] = std::max(sb[j], std::fabs(op_at(B, false, p, j)));
  double worst = 0.0;
  for (std::int64_t i = 0; i < m; ++i) {
    for (std::int64_t j = 0; j < n; ++j) {
      double ref = 0.0, bound = 0.0;
      const double ha = sa[i] / 127 / 2, hb = sb[j] / 127 / 2;
      for (std::int64_t p = 0; p < k; ++p) {
        const double a = op_at(A, false, i, p), b = op_at(B, false, p, j);
        ref += a * b;
        bound += std::fabs(a) * hb + std::fabs(b) * ha + ha * hb;
      }
      const double err = std::fabs(C.at<float>(i, j) - ref);
      EXPECT_LE(err, bound + 1e-5 * std::fabs(ref)) << i << "," << j;
      worst = std::max(worst, err);
    }
  }
  EXPECT_GT(worst, 1e-5);  // and it did quantize: an f32 product would be exact to ~1e-6
}

// Past the depth at which int32 sums of codes stay exact (2^17), the product is cut into groups
// whose sums are added in float64 — the same cut on both backends.
TEST_P(AmxBackend, F32GemmDeeperThanTheExactDepthMatchesSystolic) {
  std::mt19937 rng(13);
  const std::int64_t k = systolic::kExactDepth + 67;
  Tensor A = random_tensor(2, k, rng), B = random_tensor(k, 3, rng);
  Tensor got(2, 3), want(2, 3);
  amx_->gemm(Trans::no, Trans::no, 1.0f, A, B, 0.0f, got);
  backend("systolic")->gemm(Trans::no, Trans::no, 1.0f, A, B, 0.0f, want);
  EXPECT_TRUE(same_bits(got, want)) << first_difference(got, want);
}

// An int8 code cannot hold NaN or ±inf: the outputs such an operand feeds come from the f32
// reference, as on the systolic array; the others stay quantized.
TEST_P(AmxBackend, NonFiniteOperandsGiveNonFiniteOutputsAsOnSystolic) {
  std::mt19937 rng(17);
  Tensor A = random_tensor(5, 7, rng), B = random_tensor(7, 4, rng);
  A.at<float>(2, 3) = std::numeric_limits<float>::quiet_NaN();
  B.at<float>(1, 1) = std::numeric_limits<float>::infinity();
  Tensor got(5, 4), want(5, 4);
  amx_->gemm(Trans::no, Trans::no, 1.0f, A, B, 0.0f, got);
  backend("systolic")->gemm(Trans::no, Trans::no, 1.0f, A, B, 0.0f, want);
  EXPECT_TRUE(same_bits(got, want)) << first_difference(got, want);
  for (std::int64_t j = 0; j < 4; ++j) EXPECT_TRUE(std::isnan(got.at<float>(2, j))) << j;
  EXPECT_FALSE(std::isfinite(got.at<float>(0, 1)));
  EXPECT_TRUE(std::isfinite(got.at<float>(0, 0)));
}

// Everything but the GEMMs is the avx512 backend's code: the same bits.
TEST_P(AmxBackend, OtherPrimitivesAreTheAvx512Ones) {
  BackendPtr ref = make_avx512_backend(2);
  std::mt19937 rng(21);
  const std::int64_t m = 53, n = 37, d = 19;
  Tensor X = random_tensor(m, d, rng), Y = random_tensor(n, d, rng);
  auto both = [&](auto&& call, Tensor out_amx, Tensor out_ref, const char* what) {
    call(*amx_, out_amx);
    call(*ref, out_ref);
    EXPECT_TRUE(same_bits(out_amx, out_ref)) << what;
  };
  both([&](Backend& b, Tensor& D) { b.sqdist(X, Y, D); }, Tensor(m, n), Tensor(m, n), "sqdist");
  Tensor x = random_tensor(d, 1, rng);
  both([&](Backend& b, Tensor& y) { b.gemv(Trans::no, 1.5f, X, x, 0.0f, y); }, Tensor(m, 1),
       Tensor(m, 1), "gemv");
  both([&](Backend& b, Tensor& o) { b.reduce_cols(Reduce::var, X, o); }, Tensor(1, d), Tensor(1, d),
       "reduce_cols var");
  both([&](Backend& b, Tensor& o) { b.map(MapFn::sigmoid, X, o, {2.0f, 0.5f, 1.0f}); },
       Tensor(m, d), Tensor(m, d), "map sigmoid");
  both([&](Backend& b, Tensor& o) { b.softmax_rows(X, o, true); }, Tensor(m, d), Tensor(m, d),
       "log softmax");
  Tensor D(m, n);
  ref->sqdist(X, Y, D);
  both(
      [&](Backend& b, Tensor& v) {
        Tensor idx(m, 1, DType::i32);
        b.argmin_rows(D, idx, v);
      },
      Tensor(m, 1), Tensor(m, 1), "argmin_rows value");
  both(
      [&](Backend& b, Tensor& idx) {
        Tensor v(m, 5);
        b.topk_rows(D, 5, idx, v);
      },
      Tensor(m, 5, DType::i32), Tensor(m, 5, DType::i32), "topk_rows index");
  Tensor labels(m, 1, DType::i32);
  for (std::int64_t i = 0; i < m; ++i) labels.data<std::int32_t>()[i] = int(i % 7) - 1;
  both([&](Backend& b, Tensor& out) { b.scatter_add(labels, X, out); }, Tensor(6, d), Tensor(6, d),
       "scatter_add");
}

TEST_P(AmxBackend, SaysWhatItIs) {
  EXPECT_EQ(amx_->name(), "amx");
  EXPECT_FALSE(amx_->capabilities().exact_f32);  // f32 GEMMs are quantized
  EXPECT_FALSE(amx_->capabilities().simulated_time);
  EXPECT_EQ(amx_->device(), Device::host);
  const std::string d = amx_->description();
  EXPECT_NE(d.find("2 threads"), std::string::npos) << d;
  EXPECT_EQ(d.find("tile model") != std::string::npos, GetParam().emulate_tiles) << d;
  const MachinePeaks p = amx_->peaks();
  EXPECT_GT(p.macs_per_second, 0.0) << p.source;
  EXPECT_GT(p.bytes_per_second, 0.0) << p.source;
}

// Registry: listed exactly where AMX and AVX-512 run, with the reason elsewhere; never the
// default (its f32 GEMMs are quantized).
TEST(AmxRegistry, ListedWhereAmxRunsNeverTheDefault) {
  const std::string why = unavailable_reason("amx");
  EXPECT_NE(why, "unknown backend 'amx'");
  if (!cpu_supports_avx512()) {
    EXPECT_NE(why.find("avx512"), std::string::npos) << why;
  } else {
    EXPECT_EQ(why, amx_unavailable_reason());
  }
  EXPECT_NE(default_backend_name(), "amx");
  if (!why.empty()) {
    try {
      make_amx_backend();
      FAIL() << "make_amx_backend must refuse where amx cannot run";
    } catch (const DeviceError& e) {
      EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace mlcore::test
