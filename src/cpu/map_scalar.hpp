// The meaning of each element-wise function of Backend::map, written once in plain C++.
// The scalar backend applies it directly; faster backends use it for their loop tails and are
// tested against it, so every backend agrees on edge cases (overflow, u ≤ 0 in log, ...).
#pragma once

#include <cmath>

#include "mlcore/backend.hpp"

namespace mlcore::cpu {
// Unnamed: included by files built for different instruction sets (baseline, -mavx2, -mavx512f);
// each must get its own copy, or the linker may keep an AVX-512-compiled one for the scalar
// backend (see cpu_parallel.hpp).
namespace {

// f(u) for u = scale·x + shift.
inline float apply_map_fn(MapFn fn, float x, const MapArgs& args) {
  const float u = args.scale * x + args.shift;
  switch (fn) {
    case MapFn::identity:
      return u;
    case MapFn::exp:
      return std::exp(u);
    case MapFn::log:
      return std::log(u);
    case MapFn::sigmoid:
      // Split by sign so exp() never overflows: for u < 0, 1/(1+e^-u) = e^u/(1+e^u).
      if (u >= 0.0f) return 1.0f / (1.0f + std::exp(-u));
      {
        const float e = std::exp(u);
        return e / (1.0f + e);
      }
    case MapFn::tanh:
      return std::tanh(u);
    case MapFn::sqrt:
      return std::sqrt(u);
    case MapFn::square:
      return u * u;
    case MapFn::abs:
      return std::fabs(u);
    case MapFn::relu:
      return u > 0.0f ? u : 0.0f;
    case MapFn::reciprocal:
      return 1.0f / u;
    case MapFn::pow:
      return std::pow(u, args.exponent);
    case MapFn::log1pexp:
      // ln(1 + e^u) = u + ln(1 + e^-u) for u > 0: no overflow, and exact-enough for large u.
      return u > 0.0f ? u + std::log1p(std::exp(-u)) : std::log1p(std::exp(u));
  }
  return u;
}

}  // namespace
}  // namespace mlcore::cpu
