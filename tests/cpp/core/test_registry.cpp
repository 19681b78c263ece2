#include <algorithm>
#include <cmath>
#include <random>

#include "test_util.hpp"

namespace mlcore::test {
namespace {

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(Registry, ScalarIsAlwaysAvailableAndTheSimdBackendsFollowCpuid) {
  auto names = available_backends();
  EXPECT_TRUE(contains(names, "scalar"));
  EXPECT_EQ(contains(names, "avx2"), cpu_supports_avx2());
  EXPECT_EQ(contains(names, "avx512"), cpu_supports_avx512());
  // Every AVX-512 CPU has AVX2: the avx512 backend reuses avx2 kernels where they are at
  // bandwidth, so it must never be listed without avx2.
  if (contains(names, "avx512")) EXPECT_TRUE(contains(names, "avx2"));
}

// The parameter lists of the backend suites hold every registered backend, so one this machine
// lacks shows in the results as skipped (with its reason), not as a silently shorter list.
TEST(Registry, BackendSuitesListEveryRegisteredBackend) {
  const auto listed = all_backends();
  ASSERT_EQ(listed.size(), backend_info().size());
  const auto f32 = f32_backends();
  for (const BackendInfo& info : backend_info()) {
    EXPECT_TRUE(contains(listed, info.name)) << info.name;
    if (!info.available) EXPECT_TRUE(contains(f32, info.name)) << info.name << " must be skipped";
  }
}

// MLCORE_REQUIRE=avx512,cuda on the project's machines: every listed backend must be known and
// able to run here, or this fails with the registry's reason (the other tests would only skip).
TEST(Registry, RequiredBackendsAreAvailable) {
  for (const std::string& name : required_backends()) {
    EXPECT_EQ(unavailable_reason(name), "") << "MLCORE_REQUIRE lists " << name;
  }
}

// Backend::capabilities() is what tests and code branch on instead of names, so it must tell the
// truth about what the backend does: exact_f32 backends match a float64 GEMM to f32 rounding and
// quantizing ones do not (int8 steps are ~1/127 of the operands' range); simulated_time says
// whether the profile's seconds came from the simulator's clock.
TEST(Registry, CapabilitiesDescribeWhatEachBackendDoes) {
  for (const std::string& name : available_backends()) {
    SCOPED_TRACE(name);
    BackendPtr b = backend(name);
    std::mt19937 rng(11);
    const std::int64_t m = 37, k = 53, n = 29;  // primes: no tile divides them
    Tensor A = random_tensor(m, k, rng, -1.0f, 1.0f), B = random_tensor(k, n, rng, -1.0f, 1.0f);
    OnBackend on{b};
    Tensor Ad = on.dev(A), Bd = on.dev(B), Cd = b->empty(m, n);
    Profile profile;
    {
      ProfileScope scope(profile);
      b->gemm(Trans::no, Trans::no, 1.0f, Ad, Bd, 0.0f, Cd);
    }
    Tensor C = on.host(Cd);
    double worst = 0.0;
    for (std::int64_t i = 0; i < m; ++i) {
      for (std::int64_t j = 0; j < n; ++j) {
        double ref = 0.0;
        for (std::int64_t p = 0; p < k; ++p) ref += double(A.at<float>(i, p)) * B.at<float>(p, j);
        worst = std::max(worst, std::fabs(C.at<float>(i, j) - ref));
      }
    }
    const Capabilities caps = b->capabilities();
    if (caps.exact_f32) {
      EXPECT_LT(worst, 1e-4);
    } else {
      EXPECT_GT(worst, 1e-4);
    }
    bool simulated = false;
    for (const OpRecord& r : profile.records()) simulated |= r.op == "gemm" && r.seconds_simulated;
    EXPECT_EQ(simulated, caps.simulated_time);
  }
}

TEST(Registry, DefaultIsTheFastestF32CpuBackendHere) {
  const std::string name = default_backend_name();
  const auto names = available_backends();
  ASSERT_TRUE(contains(names, name)) << name;
  const char* expected = cpu_supports_avx512() ? "avx512" : cpu_supports_avx2() ? "avx2" : "scalar";
  EXPECT_EQ(name, expected);
  EXPECT_EQ(default_backend()->name(), name);  // what estimators get when none is named
}

TEST(Registry, DefaultInstancesAreSharedAndNamed) {
  BackendPtr a = backend("scalar");
  BackendPtr b = backend("scalar");
  EXPECT_EQ(a.get(), b.get());
  EXPECT_EQ(a->name(), "scalar");
  for (const std::string& n : available_backends()) EXPECT_EQ(backend(n)->name(), n);
}

TEST(Registry, UnknownNameListsTheKnownOnes) {
  try {
    backend("tpu9000");
    FAIL() << "an unknown backend must throw";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("tpu9000"), std::string::npos) << msg;
    EXPECT_NE(msg.find("scalar"), std::string::npos) << msg;
  }
}

TEST(Registry, UnavailableBackendsSayWhy) {
  for (const BackendInfo& info : backend_info()) {
    if (info.available) {
      EXPECT_TRUE(info.reason.empty()) << info.name;
      EXPECT_TRUE(contains(available_backends(), info.name)) << info.name;
      continue;
    }
    EXPECT_FALSE(info.reason.empty()) << info.name << " is unavailable without a reason";
    EXPECT_FALSE(contains(available_backends(), info.name)) << info.name;
    try {
      backend(info.name);
      FAIL() << "asking for unavailable backend " << info.name << " must throw";
    } catch (const DeviceError& e) {
      EXPECT_NE(std::string(e.what()).find(info.reason), std::string::npos) << e.what();
    }
  }
}

TEST(Registry, CudaIsKnownEvenWhenNotBuilt) {
  bool known = false;
  for (const BackendInfo& info : backend_info()) known |= info.name == "cuda";
  EXPECT_TRUE(known);
  EXPECT_EQ(contains(available_backends(), "cuda"), cuda_unavailable_reason().empty());
}

TEST(Registry, ConfiguredAvx2InstanceReportsItsThreads) {
  MLCORE_SKIP_UNLESS_BACKEND("avx2");
  BackendPtr one = make_avx2_backend(1);
  EXPECT_NE(one->description().find("1 thread"), std::string::npos) << one->description();
}

TEST(Registry, ConfiguredAvx512InstanceReportsItsThreads) {
  MLCORE_SKIP_UNLESS_BACKEND("avx512");
  BackendPtr one = make_avx512_backend(1);
  EXPECT_NE(one->description().find("1 thread"), std::string::npos) << one->description();
}

TEST(Registry, Avx512AbsentSaysWhichFeatureIsMissing) {
  if (cpu_supports_avx512()) GTEST_SKIP() << "this machine runs avx512: no reason to check";
  const std::string why = unavailable_reason("avx512");
  EXPECT_TRUE(why.find("lacks") != std::string::npos || why.find("XCR0") != std::string::npos)
      << why;
  try {
    make_avx512_backend(1);
    FAIL() << "make_avx512_backend must refuse a CPU without AVX-512";
  } catch (const DeviceError& e) {
    EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace mlcore::test
