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
//   4. A lane that reached its leaf keeps its node (a second blend) while the others go on;
//      the loop ends when all 8 lanes are at leaves.
// What it costs: the 8 walks share one instruction stream, so a group takes as many steps as
// its *deepest* row — lanes that finished early idle, exactly as the threads of a GPU warp do
// on divergent branches (src/cuda/tree_walk.cu). For a forest's or boosted model's trees,
// whose leaves sit at similar depths, the idle share is small; what is gained is no
// mispredicted branch at all and 8 independent load chains in flight.
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

// The leaves of `count` ≤ 8 rows (x: their first row, d floats per row) in the tree at `root`,
// into leaf[0..count). `nodes` is the table as 4 i32 per node.
inline void walk8(const int32_t* nodes, int32_t root, const float* x, int64_t d, int count,
                  int32_t* leaf) {
  // Lane l reads row l (rows past `count` re-read row 0: in bounds, results dropped).
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i live = _mm256_cmpgt_epi32(_mm256_set1_epi32(count), lane);
  const __m256i row_offset =
      _mm256_and_si256(_mm256_mullo_epi32(lane, _mm256_set1_epi32(static_cast<int>(d))), live);
  const __m256i feature_bits = _mm256_set1_epi32(0x7fffffff);
  __m256i j = _mm256_set1_epi32(root);
  for (;;) {
    const __m256i at = _mm256_slli_epi32(j, 2);  // node j's fields start at nodes[4j]
    const __m256i left = _mm256_i32gather_epi32(nodes, at, 4);
    // left < 0: the lane is at its leaf. All 8 there: done (one well-predicted branch per step).
    const __m256i at_leaf = _mm256_cmpgt_epi32(_mm256_setzero_si256(), left);
    if (_mm256_movemask_ps(_mm256_castsi256_ps(at_leaf)) == 0xff) break;
    const __m256i right = _mm256_i32gather_epi32(nodes + 1, at, 4);
    const __m256i fm = _mm256_i32gather_epi32(nodes + 2, at, 4);
    const __m256 thr = _mm256_i32gather_ps(reinterpret_cast<const float*>(nodes + 3), at, 4);
    // A leaf's feature field is 0, so its lane gathers x[l, 0]: in bounds, and ignored.
    const __m256i at_x = _mm256_add_epi32(row_offset, _mm256_and_si256(fm, feature_bits));
    const __m256 v = _mm256_i32gather_ps(x, at_x, 4);
    // The branch as a mask: v ≤ thr (false for NaN), or NaN where missing_left (the top bit,
    // spread over the lane by an arithmetic shift).
    const __m256 le = _mm256_cmp_ps(v, thr, _CMP_LE_OQ);
    const __m256 nan = _mm256_cmp_ps(v, v, _CMP_UNORD_Q);
    const __m256 missing_left = _mm256_castsi256_ps(_mm256_srai_epi32(fm, 31));
    const __m256 go_left = _mm256_or_ps(le, _mm256_and_ps(nan, missing_left));
    const __m256i child = _mm256_castps_si256(_mm256_blendv_ps(
        _mm256_castsi256_ps(right), _mm256_castsi256_ps(left), go_left));
    j = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(child), _mm256_castsi256_ps(j),
                                             _mm256_castsi256_ps(at_leaf)));
  }
  alignas(32) int32_t out[kLanes];
  _mm256_store_si256(reinterpret_cast<__m256i*>(out), j);
  std::copy_n(out, count, leaf);
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
        for (int64_t r = 0; r < rows; r += kLanes) {
          walk8(nd, roots[t], X + (begin + r) * d, d, static_cast<int>(std::min<int64_t>(
                                                          kLanes, rows - r)),
                leaf + r);
        }
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
