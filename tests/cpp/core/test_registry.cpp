#include <algorithm>

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

// MLCORE_REQUIRE=avx512,cuda on the project's machines: every listed backend must be known and
// able to run here, or this fails with the registry's reason (the other tests would only skip).
TEST(Registry, RequiredBackendsAreAvailable) {
  for (const std::string& name : required_backends()) {
    EXPECT_EQ(unavailable_reason(name), "") << "MLCORE_REQUIRE lists " << name;
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
