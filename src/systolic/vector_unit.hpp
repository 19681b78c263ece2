// The vector unit: the f32 SIMD unit beside the array that runs every primitive that is not a
// multiply-accumulate (the TPU v1's "activation pipeline", Jouppi et al. 2017, Section 2,
// processes one 256-wide vector per cycle). It has `vector_lanes` f32 lanes; an op costs
//     cycles = ceil(Σ over elements of (lane-cycles per element) / lanes).
// The lane-cycles per element below assume a pipelined unit with one add/multiply/compare/FMA
// per lane per cycle; transcendental functions by short polynomial approximations and
// reciprocals/square roots by a Newton step cost a few cycles more. They are modelling choices,
// documented in docs/SYSTOLIC.md, not measurements.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

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

// Lane-cycles per term |a − b|^p of a Minkowski distance: a subtract and an absolute value
// folded into an add (p = 1), a max (p = ∞) or a multiply-add (p = 2); any other p adds a pow
// (an exp and a log, as map's pow).
inline std::int64_t minkowski_lane_cycles(float p) {
  return (p == 1.0f || p == 2.0f || p > 3.0e38f) ? 2 : 2 + map_lane_cycles(MapFn::pow);
}

constexpr std::int64_t kSoftmaxLaneCycles = 9;      // max 1, subtract+exp 5, sum 1, scale 2
constexpr std::int64_t kCompareLaneCycles = 1;      // argmin: one compare-select per element
constexpr std::int64_t kElementwiseLaneCycles = 1;  // add, multiply, FMA, store

// Lane-cycles per row per tree level of a tree walk: a gather of the node's 16 bytes from the
// on-chip buffer, a gather of the row's feature value, a compare (and NaN test) and a select.
// The lanes walk `vector_lanes` rows in lockstep, so a group of rows costs the depth of its
// deepest row (see tree_walk_lane_ops).
constexpr std::int64_t kTreeStepLaneCycles = 4;

// The lane-cycles of walking m rows through T trees (nodes: N TreeWalkNodes; leaf: m × T, the
// leaves reached), `lanes` rows in lockstep: for each group of rows and each tree, every lane
// spends (depth of the group's deepest leaf + 1) steps — the last one finds the leaf. The
// idle lanes of shallower rows are counted: that is the cost of divergence on a SIMD unit.
inline std::int64_t tree_walk_lane_ops(const TreeWalkNode* nodes, std::int64_t N,
                                       const std::int32_t* leaf, std::int64_t m, std::int64_t T,
                                       std::int64_t lanes) {
  // Depths in one forward pass: a child's row is after its parent's (Backend checks).
  std::vector<std::int32_t> depth(static_cast<std::size_t>(N), 0);
  for (std::int64_t j = 0; j < N; ++j) {
    if (nodes[j].left < 0) continue;
    depth[nodes[j].left] = depth[nodes[j].right] = depth[j] + 1;
  }
  std::int64_t ops = 0;
  for (std::int64_t g = 0; g < m; g += lanes) {
    const std::int64_t g_end = std::min(m, g + lanes);
    for (std::int64_t t = 0; t < T; ++t) {
      std::int32_t deepest = 0;
      for (std::int64_t i = g; i < g_end; ++i) deepest = std::max(deepest, depth[leaf[i * T + t]]);
      ops += lanes * (deepest + 1) * kTreeStepLaneCycles;
    }
  }
  return ops;
}

// Lane-cycles per row of partition_rows: a gather of the row's code, a compare against the
// split's bin (and the missing code) with a select, and the row id's store into its side's
// stream by a compress (a lane-mask prefix sum gives each selected lane its slot).
constexpr std::int64_t kPartitionLaneCycles = 3;

// Lane-cycles per element of loss_gradients (in f64, which the unit runs at half rate: 2 per
// f32 lane-cycle): squared error a subtract (and the range's max); the log losses an exp
// (kSoftmaxLaneCycles' share for softmax, a sigmoid for binary), the subtract of the label,
// p·(1 − p), the maxima; a weight's two multiplies.
inline std::int64_t loss_gradient_lane_cycles(GradientLoss loss, bool weighted) {
  // (Poisson and gamma: an exp, a multiply or a subtract, the maxima: as the binary loss.)
  const std::int64_t base = loss == GradientLoss::squared_error      ? 2
                            : loss == GradientLoss::softmax_log_loss ? kSoftmaxLaneCycles + 4
                                                                     : 6 + 4;
  return 2 * (base + (weighted ? 2 : 0));
}

// Lane-cycles per element for the k smallest of a row: a compare against the current k-th
// value, and for the few that enter, a binary search of the sorted list of k: 1 + ceil(log2 k).
inline std::int64_t topk_lane_cycles(std::int64_t k) {
  std::int64_t log2k = 0;
  while ((std::int64_t{1} << log2k) < k) ++log2k;
  return 1 + log2k;
}

}  // namespace mlcore::systolic
