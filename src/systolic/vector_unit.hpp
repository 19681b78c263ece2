// The vector unit: the f32 SIMD unit beside the array that runs every primitive that is not a
// multiply-accumulate (the TPU v1's "activation pipeline", Jouppi et al. 2017, Section 2,
// processes one 256-wide vector per cycle). It has `vector_lanes` f32 lanes; an op costs
//     cycles = ceil(Σ over elements of (lane-cycles per element) / lanes).
// The lane-cycles per element below assume a pipelined unit with one add/multiply/compare/FMA
// per lane per cycle; transcendental functions by short polynomial approximations and
// reciprocals/square roots by a Newton step cost a few cycles more. They are modelling choices,
// documented in docs/SYSTOLIC.md, not measurements.
#pragma once

#include <cstdint>

#include "mlcore/backend.hpp"

namespace mlcore::systolic {

// Lane-cycles per element of map(fn) (the affine u = scale·x + shift is one FMA, included).
inline std::int64_t map_lane_cycles(MapFn fn) {
  switch (fn) {
    case MapFn::identity:
    case MapFn::square:
    case MapFn::abs:
    case MapFn::relu:
      return 1;
    case MapFn::sqrt:
    case MapFn::reciprocal:
      return 2;  // an estimate instruction + one Newton step
    case MapFn::exp:
    case MapFn::log:
      return 4;  // range reduction + a degree-5 polynomial, pipelined
    case MapFn::sigmoid:
    case MapFn::tanh:
      return 6;  // an exp + a reciprocal
    case MapFn::pow:
    case MapFn::log1pexp:
      return 8;  // an exp and a log
  }
  return 1;
}

constexpr std::int64_t kSoftmaxLaneCycles = 9;      // max 1, subtract+exp 5, sum 1, scale 2
constexpr std::int64_t kCompareLaneCycles = 1;      // argmin: one compare-select per element
constexpr std::int64_t kElementwiseLaneCycles = 1;  // add, multiply, FMA, store

// Lane-cycles per element for the k smallest of a row: a compare against the current k-th
// value, and for the few that enter, a binary search of the sorted list of k: 1 + ceil(log2 k).
inline std::int64_t topk_lane_cycles(std::int64_t k) {
  std::int64_t log2k = 0;
  while ((std::int64_t{1} << log2k) < k) ++log2k;
  return 1 + log2k;
}

}  // namespace mlcore::systolic
