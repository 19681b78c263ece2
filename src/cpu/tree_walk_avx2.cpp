// The avx2 backend's tree walks (tree_walk, tree_walk_sum); compiled with -mavx2 -mfma. The
// avx512 backend runs this file too (avx512_backend.cpp says why).
//
// A LESSON ON BRANCHY CODE AND SIMD. The scalar walk (scalar_backend.cpp) is
//     while (left(j) >= 0) j = x[f(j)] <= thr(j) ? left(j) : right(j);
// a chain of dependent loads and a data-dependent branch per level. On random data that branch
// goes either way about half the time, so a core mispredicts about every other level (~15
// cycles each), and the next node's load cannot start before the comparison is known.
//
// SIMD has no branches per lane, so the walk is turned into *data flow*:
//   1. 8 rows walk together, one lane each: lane l holds its current node j_l.
//   2. Each step gathers the 8 nodes' fields (vpgatherdd: 8 loads at 8 addresses in one
//      instruction) and the 8 rows' values x[l, f(j_l)] (one more gather).
//   3. The branch becomes a mask: go_left = (v ≤ thr) | (v is NaN & missing_left), and
//      j ← blend(right, left, go_left) — both children are fetched, the mask picks one.
//   4. A lane that reached its leaf hands its row's leaf over and takes the next row.
// What lockstep would cost: 8 walks sharing one instruction stream take as many steps as the
// *deepest* row — lanes that finished early idle, exactly as the threads of a GPU warp do on
// divergent branches (src/cuda/tree_walk.cu). A single tree of unlimited depth is very
// unbalanced, and a first version that walked 8 rows in lockstep predicted 1.7× slower than
// the 16-lane scalar walk it replaced (bench/RESULTS.md, "tree walks"); refilling lanes
// (walk_rows) removes the idling, at the price of one unpredictable branch per row. What is
// gained: no mispredicted branch per level and 8 independent load chains in flight.
//
// Blocks of rows walk one tree at a time (its nodes stay in cache: a depth-10 tree is 32 KB of
// TreeWalkNodes) and blocks are shared out over the threads. A row's leaf values are added in
// double, tree by tree in order, exactly as the scalar loop does, so the sums are bit-identical
// to the reference whatever the thread count.
#include <immintrin.h>

#include <algorithm>
#include <climits>
#include <vector>

#include "cpu_parallel.hpp"
#include "primitives_avx2.hpp"

namespace mlcore::cpu {

namespace {

using std::int32_t;
using std::int64_t;

// Rows per block: one tree's nodes are reused by all of them while in cache, and the block's
// rows (512 × d floats: 100 KB for d = 50) stay in L2 from one tree to the next.
constexpr int64_t kBlockRows = 512;
constexpr int kLanes = 8;  // one ymm of i32 node ids or f32 values

// The leaves of `rows` rows (x: their first row, d floats per row) in the tree at `root`, into
// leaf[0..rows). `nodes` is the table as 4 i32 per node.
//
// Lanes do not wait for each other: a lane whose row reached its leaf records it and takes
// the next row of the block at once (a refill), so no lane idles while a deeper row finishes.
// That costs one unpredictable branch per *row* (the refill), not one per level; for the very
// unbalanced trees of unlimited depth, where one row of 8 may be 3× deeper than the others,
// it keeps all 8 lanes busy.
inline void walk_rows(const int32_t* nodes, int32_t root, const float* x, int64_t d, int64_t rows,
                      int32_t* leaf) {
  alignas(32) int32_t row[kLanes];     // each lane's row, −1 once no row is left for it
  alignas(32) int32_t offset[kLanes];  // row · d: where the lane's row starts in x
  alignas(32) int32_t node[kLanes];
  int64_t next = 0;
  auto take_next = [&](int l) {
    row[l] = next < rows ? static_cast<int32_t>(next++) : -1;
    offset[l] = row[l] >= 0 ? static_cast<int32_t>(row[l] * d) : 0;
    node[l] = root;  // a lane without a row stays parked at the root
  };
  for (int l = 0; l < kLanes; ++l) take_next(l);
  const __m256i feature_bits = _mm256_set1_epi32(0x7fffffff);
  __m256i j = _mm256_load_si256(reinterpret_cast<const __m256i*>(node));
  __m256i row_offset = _mm256_load_si256(reinterpret_cast<const __m256i*>(offset));
  __m256i live = _mm256_cmpgt_epi32(_mm256_load_si256(reinterpret_cast<const __m256i*>(row)),
                                    _mm256_set1_epi32(-1));
  for (;;) {
    const __m256i at = _mm256_slli_epi32(j, 2);  // node j's fields start at nodes[4j]
    const __m256i left = _mm256_i32gather_epi32(nodes, at, 4);
    // left < 0: the lane is at its leaf. Live lanes there record it and take their next row.
    const __m256i at_leaf = _mm256_cmpgt_epi32(_mm256_setzero_si256(), left);
    int done = _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_and_si256(at_leaf, live)));
    if (done != 0) {
      _mm256_store_si256(reinterpret_cast<__m256i*>(node), j);
      for (; done != 0; done &= done - 1) {
        const int l = __builtin_ctz(static_cast<unsigned>(done));
        leaf[row[l]] = node[l];
        take_next(l);
      }
      j = _mm256_load_si256(reinterpret_cast<const __m256i*>(node));
      row_offset = _mm256_load_si256(reinterpret_cast<const __m256i*>(offset));
      live = _mm256_cmpgt_epi32(_mm256_load_si256(reinterpret_cast<const __m256i*>(row)),
                                _mm256_set1_epi32(-1));
      if (_mm256_movemask_ps(_mm256_castsi256_ps(live)) == 0) return;
      continue;  // the refilled lanes gather their roots
    }
    const __m256i right = _mm256_i32gather_epi32(nodes + 1, at, 4);
    const __m256i fm = _mm256_i32gather_epi32(nodes + 2, at, 4);
    const __m256 thr = _mm256_i32gather_ps(reinterpret_cast<const float*>(nodes + 3), at, 4);
    // A leaf's feature field is 0, so a parked lane gathers x[0]: in bounds, and ignored.
    const __m256i at_x = _mm256_add_epi32(row_offset, _mm256_and_si256(fm, feature_bits));
    const __m256 v = _mm256_i32gather_ps(x, at_x, 4);
    // The branch as a mask: v ≤ thr (false for NaN), or NaN where missing_left (the top bit,
    // spread over the lane by an arithmetic shift).
    const __m256 le = _mm256_cmp_ps(v, thr, _CMP_LE_OQ);
    const __m256 nan = _mm256_cmp_ps(v, v, _CMP_UNORD_Q);
    const __m256 missing_left = _mm256_castsi256_ps(_mm256_srai_epi32(fm, 31));
    const __m256 go_left = _mm256_or_ps(le, _mm256_and_ps(nan, missing_left));
    const __m256i child = _mm256_castps_si256(
        _mm256_blendv_ps(_mm256_castsi256_ps(right), _mm256_castsi256_ps(left), go_left));
    // Parked lanes (no row left) stay where they are, at the root or at a leaf.
    j = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(j), _mm256_castsi256_ps(child),
                                             _mm256_castsi256_ps(live)));
  }
}

}  // namespace

void tree_walk_avx2(int64_t m, int64_t d, int64_t T, const TreeWalkNode* nodes,
                    const int32_t* roots, const float* X, const float* values, int64_t c,
                    double scale, void* out, int threads) {
  const auto* nd = reinterpret_cast<const int32_t*>(nodes);
  const int64_t blocks = (m + kBlockRows - 1) / kBlockRows;
  // Work per block: its rows × trees × ~10 levels × ~10 instructions.
  parallel_ranges(blocks, kBlockRows * T * 100, threads, [&](int, int64_t b0, int64_t b1) {
    std::vector<double> acc(values ? static_cast<std::size_t>(kBlockRows * c) : 0);
    int32_t leaf[kBlockRows];
    for (int64_t blk = b0; blk < b1; ++blk) {
      const int64_t begin = blk * kBlockRows, rows = std::min(kBlockRows, m - begin);
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t t = 0; t < T; ++t) {
        walk_rows(nd, roots[t], X + begin * d, d, rows, leaf);
        if (values == nullptr) {
          int32_t* o = static_cast<int32_t*>(out);
          for (int64_t r = 0; r < rows; ++r) o[(begin + r) * T + t] = leaf[r];
        } else {
          for (int64_t r = 0; r < rows; ++r) {
            const float* v = values + int64_t{leaf[r]} * c;
            double* a = acc.data() + r * c;
            for (int64_t q = 0; q < c; ++q) a[q] += v[q];
          }
        }
      }
      if (values != nullptr) {
        float* o = static_cast<float*>(out) + begin * c;
        for (int64_t e = 0; e < rows * c; ++e) o[e] = static_cast<float>(scale * acc[e]);
      }
    }
  });
}

}  // namespace mlcore::cpu
