// The Minkowski "distance to the p" of two rows, as the reference loop writes it: the scalar
// backend runs it for every pair, the SIMD backends for exponents they have no vector form of.
// Summed in feature order in f32, so a SIMD kernel that keeps one lane per pair and adds the
// features in the same order gets the same bits (p = 1 and p = ∞ do; see minkowski_avx2.cpp).
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

namespace mlcore::cpu {

// Σ_k |a_k − b_k|^p for finite p > 0; max_k |a_k − b_k| for p = +∞. A NaN difference makes the
// result NaN (the maximum keeps it rather than skipping it).
inline float minkowski_pair(const float* a, const float* b, std::int64_t d, float p) {
  float acc = 0.0f;
  if (p == std::numeric_limits<float>::infinity()) {
    for (std::int64_t k = 0; k < d; ++k) {
      const float v = std::fabs(a[k] - b[k]);
      acc = (v > acc || v != v) ? v : acc;
    }
  } else if (p == 1.0f) {
    for (std::int64_t k = 0; k < d; ++k) acc += std::fabs(a[k] - b[k]);
  } else if (p == 2.0f) {
    for (std::int64_t k = 0; k < d; ++k) acc += (a[k] - b[k]) * (a[k] - b[k]);
  } else {
    for (std::int64_t k = 0; k < d; ++k) acc += std::pow(std::fabs(a[k] - b[k]), p);
  }
  return acc;
}

}  // namespace mlcore::cpu
