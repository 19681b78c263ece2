// Helpers shared by the C++ tests: random tensors, float64 reference arithmetic, tolerance
// checks of the form |got − ref| ≤ atol + rtol·scale (STYLE.md 10), and the list of backends a
// parameterised test runs on.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "mlcore/mlcore.hpp"

namespace mlcore::test {

// Every backend the registry knows, whether or not it can run here. A test body written once
// runs on each (STYLE.md 9); one this machine lacks is reported as skipped with the registry's
// reason (BackendTest), not left out of the list unseen.
inline std::vector<std::string> all_backends() {
  std::vector<std::string> names;
  for (const BackendInfo& info : backend_info()) names.push_back(info.name);
  return names;
}

// True where the backend quantizes f32 operands to int8 (Capabilities::exact_f32 false: the
// systolic array, an int8 matrix engine): its results are compared at int8 tolerances. Tests ask
// the capability, never the name, so a new backend is tested by what it is.
inline bool quantized(const std::string& name) { return !backend(name)->capabilities().exact_f32; }

// Backends whose f32 arithmetic is IEEE f32, for tests that compare f32 results tightly against a
// float64 reference. A backend this machine lacks cannot be asked its capabilities, so it stays
// in the list and is reported as skipped.
inline std::vector<std::string> f32_backends() {
  std::vector<std::string> names;
  for (const BackendInfo& info : backend_info()) {
    if (!info.available || !quantized(info.name)) names.push_back(info.name);
  }
  return names;
}

// The backends this machine must run: MLCORE_REQUIRE=avx512,cuda (comma-separated names; the
// older MLCORE_REQUIRE_CUDA=1 means cuda). On the project's own machines it is set, so a test
// that would skip for want of a listed backend fails instead: a silent skip cannot pass.
inline std::vector<std::string> required_backends() {
  std::vector<std::string> names;
  if (const char* env = std::getenv("MLCORE_REQUIRE")) {
    std::stringstream list(env);
    std::string name;
    while (std::getline(list, name, ',')) {
      name.erase(0, name.find_first_not_of(" \t"));
      name.erase(name.find_last_not_of(" \t") + 1);
      if (!name.empty()) names.push_back(name);
    }
  }
  if (std::getenv("MLCORE_REQUIRE_CUDA") != nullptr) names.push_back("cuda");
  return names;
}

inline bool is_required(const std::string& name) {
  for (const std::string& n : required_backends()) {
    if (n == name) return true;
  }
  return false;
}

// Empty when backend `name` can run here, otherwise the registry's reason (or "unknown backend").
inline std::string unavailable_reason(const std::string& name) {
  for (const BackendInfo& info : backend_info()) {
    if (info.name == name) return info.reason;
  }
  return "unknown backend '" + name + "'";
}

// In a test body: skip, with the registry's reason, when backend `name` cannot run here, or
// fail instead when MLCORE_REQUIRE lists it.
#define MLCORE_SKIP_UNLESS_BACKEND(name)                                                      \
  do {                                                                                        \
    const std::string mlcore_why_ = ::mlcore::test::unavailable_reason(name);                 \
    if (!mlcore_why_.empty()) {                                                               \
      if (::mlcore::test::is_required(name)) {                                                \
        FAIL() << "MLCORE_REQUIRE lists " << (name) << " but it cannot run: " << mlcore_why_; \
      }                                                                                       \
      GTEST_SKIP() << "backend " << (name) << " is not available: " << mlcore_why_;           \
    }                                                                                         \
  } while (0)

// The fixture of a test parameterised over backend names (all_backends(), f32_backends()):
// SetUp skips with the registry's reason where the backend cannot run here. A fixture with its
// own SetUp calls MLCORE_SKIP_UNLESS_BACKEND(GetParam()) first instead.
class BackendTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { MLCORE_SKIP_UNLESS_BACKEND(GetParam()); }
};

inline std::string backend_param_name(const ::testing::TestParamInfo<std::string>& info) {
  return info.param;
}

// A host f32 tensor of uniform values in [lo, hi).
inline Tensor random_tensor(std::int64_t rows, std::int64_t cols, std::mt19937& rng,
                            float lo = -1.0f, float hi = 1.0f) {
  Tensor t(rows, cols, DType::f32);
  std::uniform_real_distribution<float> dist(lo, hi);
  float* p = t.data<float>();
  for (std::int64_t i = 0; i < t.numel(); ++i) p[i] = dist(rng);
  return t;
}

inline Tensor random_i8(std::int64_t rows, std::int64_t cols, std::mt19937& rng) {
  Tensor t(rows, cols, DType::i8);
  std::uniform_int_distribution<int> dist(-128, 127);
  std::int8_t* p = t.data<std::int8_t>();
  for (std::int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<std::int8_t>(dist(rng));
  return t;
}

// Element (i, j) of op(T) where op transposes when `trans`.
inline double op_at(const Tensor& t, bool trans, std::int64_t i, std::int64_t j) {
  return trans ? t.at<float>(j, i) : t.at<float>(i, j);
}

// A device-agnostic round trip: put host tensor `t` on backend `b`, and bring results back.
struct OnBackend {
  BackendPtr b;
  Tensor dev(const Tensor& host) { return b->to_device(host); }
  Tensor host(const Tensor& device) { return b->to_host(device); }
};

// Expects |got − ref| ≤ atol + rtol·scale for every element; reports the worst element.
inline void expect_close(const Tensor& got, const std::vector<double>& ref,
                         const std::vector<double>& scale, double rtol, double atol,
                         const std::string& what) {
  ASSERT_EQ(static_cast<std::size_t>(got.numel()), ref.size()) << what;
  const float* g = got.data<float>();
  std::int64_t bad = 0, worst = -1;
  double worst_excess = 0.0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    const double err = std::fabs(static_cast<double>(g[i]) - ref[i]);
    const double allowed = atol + rtol * scale[i];
    const bool same_nonfinite =
        !std::isfinite(ref[i]) && (std::isnan(ref[i]) ? std::isnan(g[i]) : g[i] == ref[i]);
    if (!(err <= allowed) && !same_nonfinite) {
      ++bad;
      if (worst < 0 || err - allowed > worst_excess) {
        worst_excess = err - allowed;
        worst = static_cast<std::int64_t>(i);
      }
    }
  }
  if (bad > 0) {
    ADD_FAILURE() << what << ": " << bad << " of " << ref.size() << " elements out of tolerance; "
                  << "worst at flat index " << worst << ": got " << g[worst] << ", want "
                  << ref[worst] << " (allowed ±" << atol + rtol * scale[worst] << ")";
  }
}

// Same, with scale = |ref|.
inline void expect_close(const Tensor& got, const std::vector<double>& ref, double rtol,
                         double atol, const std::string& what) {
  std::vector<double> scale(ref.size());
  for (std::size_t i = 0; i < ref.size(); ++i) scale[i] = std::fabs(ref[i]);
  expect_close(got, ref, scale, rtol, atol, what);
}

constexpr double kEpsF32 = 1.1920928955078125e-07;  // 2^-23

}  // namespace mlcore::test
