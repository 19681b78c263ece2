#include <algorithm>

#include "test_util.hpp"

namespace mlcore::test {
namespace {

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(Registry, ScalarIsAlwaysAvailableAndAvx2FollowsCpuid) {
  auto names = available_backends();
  EXPECT_TRUE(contains(names, "scalar"));
  EXPECT_EQ(contains(names, "avx2"), cpu_supports_avx2());
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
  if (!cpu_supports_avx2()) GTEST_SKIP() << "this CPU lacks AVX2/FMA";
  BackendPtr one = make_avx2_backend(1);
  EXPECT_NE(one->description().find("1 thread"), std::string::npos) << one->description();
}

}  // namespace
}  // namespace mlcore::test
