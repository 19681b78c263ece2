// Row selections (argmin, top-k) written once, with one ordering rule for every backend:
// smaller value first, NaN after every number, ties broken by the lower column index. The
// scalar backend uses these directly; faster backends are tested against them.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace mlcore::cpu {
// Unnamed: included by files built for different instruction sets (baseline, -mavx2, -mavx512f);
// each must get its own copy, or the linker may keep an AVX-512-compiled one for the scalar
// backend (see cpu_parallel.hpp).
namespace {

// The total order used by argmin and top-k: (value, index), NaN largest.
inline bool select_before(float a, std::int32_t ia, float b, std::int32_t ib) {
  const bool a_nan = std::isnan(a), b_nan = std::isnan(b);
  if (a_nan != b_nan) return b_nan;  // a number comes before a NaN
  if (!a_nan && a != b) return a < b;
  return ia < ib;
}

struct RowMin {
  std::int32_t index;
  float value;
};

// The first minimum of row[0..n), n ≥ 1 (index 0 with value NaN if the row is all NaN).
inline RowMin row_argmin(const float* row, std::int64_t n) {
  RowMin best{0, row[0]};
  for (std::int64_t j = 1; j < n; ++j) {
    if (select_before(row[j], static_cast<std::int32_t>(j), best.value, best.index)) {
      best = {static_cast<std::int32_t>(j), row[j]};
    }
  }
  return best;
}

// The k smallest of row[0..n), ascending. `order` is scratch space of n entries.
inline void row_topk(const float* row, std::int64_t n, std::int64_t k,
                     std::vector<std::int32_t>& order, std::int32_t* out_index, float* out_value) {
  order.resize(n);
  for (std::int64_t j = 0; j < n; ++j) order[j] = static_cast<std::int32_t>(j);
  auto before = [row](std::int32_t a, std::int32_t b) {
    return select_before(row[a], a, row[b], b);
  };
  // partial_sort: O(n log k), enough for a reference.
  std::partial_sort(order.begin(), order.begin() + k, order.end(), before);
  for (std::int64_t j = 0; j < k; ++j) {
    out_index[j] = order[j];
    out_value[j] = row[order[j]];
  }
}

}  // namespace
}  // namespace mlcore::cpu
