// The avx512 backend's fused nearest-row search: sqdist and topk_rows in one pass, the distance
// matrix never written. Compiled with the AVX-512 flags.
//
// WHY FUSE
// kNN and k-means ask, for each query row, for the k training rows (k-means: the one centre)
// nearest to it. Composed, that is sqdist writing an m × n distance block and topk_rows reading
// it back. At kNN's shape (d = 32) the GEMM inside sqdist does only d = 32 multiply-adds per
// distance it stores, so the block's stores and the selection's loads — 8 bytes of traffic per
// 32 MACs — cost as much as the arithmetic (bench/RESULTS.md "peers": sqdist ran at ~30 % of the
// FMA peak there). Fused, each 14 × 32 tile of distances lives in L1 for a moment: it is
// compared with each row's current k-th best distance, and only the rare distance that beats it
// is inserted into that row's list. After the first few tiles almost every comparison fails, so
// the selection costs a compare and a mask test per 16 distances.
//
// SAME NUMBERS AS THE COMPOSITION
// The tiles come from sgemm_avx512's own packing and micro-kernel (GemmAvx512Tiles) with its
// k-slices, and the norms and the clamp are sqdist_avx512's, so every distance is bit-identical
// to what sqdist would have stored; rows are scanned in column order and a candidate replaces
// the k-th only when strictly smaller, so ties keep the lower index, as topk_rows does. The
// fused search therefore returns exactly the composition's indices and values (tests compare
// them bit for bit). Two cases are handled by not fusing, running the composition itself: when
// the norms could overflow, distances could be NaN or inf, whose ordering topk_rows defines; and
// when d is so long that sqdist's GEMM may split k across threads (another summation order) —
// at that depth (≥ 2048) the distance block's traffic is under 1 % of the arithmetic anyway.
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <vector>

#include "cpu_parallel.hpp"
#include "gemm_avx512.hpp"
#include "primitives_avx512.hpp"
#include "simd_avx512.hpp"

namespace mlcore::cpu {

namespace {

using std::int32_t;
using std::int64_t;
using Tiles = GemmAvx512Tiles;
constexpr int MR = Tiles::kMR, NR = Tiles::kNR;

// Training columns per chunk: the packed chunk (all k-slices) should stay in a core's L2 while
// every row slab of the thread passes over it. 512 KiB: half of the smallest L2 of these cores.
constexpr int64_t kChunkBytes = 512 * 1024;
// Query rows packed at a time: a group is packed just before its tiles and re-read from L1/L2 by
// every chunk of B. 32 KiB: beside the B chunk in L2, and no page of packed rows goes cold.
constexpr int64_t kGroupBytes = 32 * 1024;
// Up to this many rows of B, k = 1 turns the roles round (nearest_of_few): k-means' centres.
constexpr int64_t kFewRows = 512;

// One row's k best so far, ascending by value; equal values in the order they were found
// (ascending column), so the list's order is topk_rows' (value, then lower index).
struct Best {
  float* value;
  int32_t* index;
  int64_t k;
  float worst() const { return value[k - 1]; }
  void insert(float v, int32_t j) {
    int64_t pos = k - 1;  // v < value[k-1]: it enters; shift larger entries right
    while (pos > 0 && value[pos - 1] > v) {
      value[pos] = value[pos - 1];
      index[pos] = index[pos - 1];
      --pos;
    }
    value[pos] = v;
    index[pos] = j;
  }
};

// The distances of one tile (rows r0.., columns j0..j0+cols) as sqdist_avx512 stores them,
// offered to each row's list. `tile` holds −2·a·b (MR × NR, stride NR).
inline void select_from_tile(const float* tile, const float* norm_a, const float* norm_b,
                             int64_t rows, int64_t j0, int64_t cols, float* best_v, int32_t* best_i,
                             int64_t k) {
  const __m512 zero = _mm512_setzero_ps();
  const __mmask16 m0 = lanes(cols), m1 = lanes(cols - 16);
  const __m512 nb0 = _mm512_maskz_loadu_ps(m0, norm_b + j0);
  const __m512 nb1 = _mm512_maskz_loadu_ps(m1, norm_b + j0 + 16);
  for (int64_t r = 0; r < rows; ++r) {
    Best best{best_v + r * k, best_i + r * k, k};
    const __m512 na = _mm512_set1_ps(norm_a[r]);
    // (‖a‖² + ‖b‖²) + (−2·a·b), clamped at 0: sqdist_avx512's expression, operand for operand.
    const __m512 d0 =
        _mm512_max_ps(zero, _mm512_add_ps(_mm512_add_ps(na, nb0), _mm512_load_ps(tile + r * NR)));
    const __m512 d1 = _mm512_max_ps(
        zero, _mm512_add_ps(_mm512_add_ps(na, nb1), _mm512_load_ps(tile + r * NR + 16)));
    if (k == 1) {
      // The nearest row alone (k-means): the tile row's minimum and its first column, without a
      // branch per candidate. Strictly smaller replaces, so ties keep the lower index.
      const __m512 inf = _mm512_set1_ps(std::numeric_limits<float>::infinity());
      const __m512 e0 = _mm512_mask_mov_ps(inf, m0, d0), e1 = _mm512_mask_mov_ps(inf, m1, d1);
      const float low = _mm512_reduce_min_ps(_mm512_min_ps(e0, e1));
      if (low < best.value[0]) {
        const __m512 l = _mm512_set1_ps(low);
        const std::uint32_t at = std::uint32_t(_mm512_cmp_ps_mask(e0, l, _CMP_EQ_OQ)) |
                                 (std::uint32_t(_mm512_cmp_ps_mask(e1, l, _CMP_EQ_OQ)) << 16);
        best.value[0] = low;
        best.index[0] = static_cast<int32_t>(j0 + __builtin_ctz(at));
      }
      continue;
    }
    // The columns that beat the row's current k-th best, as a 32-bit mask.
    auto beating = [&](float worst) {
      const __m512 w = _mm512_set1_ps(worst);
      return std::uint32_t(_mm512_mask_cmp_ps_mask(m0, d0, w, _CMP_LT_OQ)) |
             (std::uint32_t(_mm512_mask_cmp_ps_mask(m1, d1, w, _CMP_LT_OQ)) << 16);
    };
    std::uint32_t hits = beating(best.worst());
    if (hits == 0) continue;  // the common case once the list holds near neighbours
    alignas(64) float d[NR];
    _mm512_store_ps(d, d0);
    _mm512_store_ps(d + 16, d1);
    // Insert the first beating column, then keep only the later columns that beat the new k-th
    // best: one iteration per insertion, not per candidate. That matters on a row's first tiles
    // (k-means' every row: its list starts empty each iteration), where most columns beat +inf
    // but only ~ln(32) of them are ever a new best.
    while (hits != 0) {
      const int c = __builtin_ctz(hits);
      best.insert(d[c], static_cast<int32_t>(j0 + c));
      hits &= hits - 1;
      if (hits != 0) hits &= beating(best.worst());
    }
  }
}

// k = 1 against few rows of B (k-means' centres): the roles turn round. B's rows are packed once
// as the GEMM packs A (MR-row slabs; a few KiB, they stay in L1/L2) and the query rows stream
// past as NR-wide column panels, so a tile holds MR centres × NR queries and each query's
// nearest centre is a running minimum down the tile's columns: per centre, two compares and
// four masked moves for 32 queries — no horizontal reduction per query and tile, no branch.
// Same numbers: each a·b is the same products summed in the same order (a product does not
// care which factor the kernel broadcasts), ‖a‖² + ‖b‖² is the same sum, and centres are
// scanned in index order with a strict <, so ties keep the lower index.
// Returns false, having stopped early, if a query's norm reached a_limit (the caller then runs
// the composition).
bool nearest_of_few(int64_t m, int64_t n, int64_t d, const float* A, const float* B,
                    const float* norm_b, float a_limit, int32_t* index, float* value, int threads) {
  const int64_t KC = Tiles::kc();
  const int64_t slices = std::max<int64_t>(1, (d + KC - 1) / KC);
  auto slice_kc = [&](int64_t s) { return std::min(KC, d - s * KC); };
  const int64_t slabs = (n + MR - 1) / MR, slab_floats = MR * d;
  static thread_local AlignedBuffer<float> centre_buffer;
  float* const centres = centre_buffer.get(std::size_t(slabs) * slab_floats);
  for (int64_t sl = 0; sl < slabs; ++sl) {
    const int64_t r0 = sl * MR, rows = std::min<int64_t>(MR, n - r0);
    for (int64_t s = 0; s < slices; ++s) {
      Tiles::pack_rows(B + r0 * d + s * KC, d, rows, slice_kc(s),
                       centres + sl * slab_floats + s * MR * KC);
    }
  }
  std::atomic<bool> too_large{false};
  const int64_t panels = (m + NR - 1) / NR;
  parallel_ranges(panels, n * d * NR, threads, [&](int, int64_t p_begin, int64_t p_end) {
    static thread_local AlignedBuffer<float> query_buffer;
    float* const queries = query_buffer.get(std::size_t(NR) * slices * KC);  // slice s: s·NR·KC
    alignas(64) float tile[MR * NR];
    alignas(64) float norm_q[NR];
    const __m512 zero = _mm512_setzero_ps();
    for (int64_t p = p_begin; p < p_end; ++p) {
      if (too_large.load(std::memory_order_relaxed)) return;
      const int64_t i0 = p * NR, cols = std::min<int64_t>(NR, m - i0);
      for (int64_t c = 0; c < NR; ++c) {
        const float norm = c < cols ? dot(A + (i0 + c) * d, A + (i0 + c) * d, d) : 0.0f;
        if (!(norm < a_limit)) {
          too_large.store(true, std::memory_order_relaxed);
          return;
        }
        norm_q[c] = norm;  // sqdist_avx512's norm, bit for bit
      }
      for (int64_t s = 0; s < slices; ++s) {
        Tiles::pack_columns(A + i0 * d + s * KC, d, slice_kc(s), cols, 0, 1, queries + s * NR * KC);
      }
      const __m512 nq0 = _mm512_load_ps(norm_q), nq1 = _mm512_load_ps(norm_q + 16);
      __m512 best0 = _mm512_set1_ps(std::numeric_limits<float>::infinity()), best1 = best0;
      __m512i at0 = _mm512_setzero_si512(), at1 = at0;
      for (int64_t sl = 0; sl < slabs; ++sl) {
        const int64_t r0 = sl * MR, rows = std::min<int64_t>(MR, n - r0);
        for (int64_t s = 0; s < slices; ++s) {
          Tiles::tile(slice_kc(s), centres + sl * slab_floats + s * MR * KC, queries + s * NR * KC,
                      -2.0f, s == 0 ? 0.0f : 1.0f, tile);
        }
        for (int64_t r = 0; r < rows; ++r) {
          const __m512 nc = _mm512_set1_ps(norm_b[r0 + r]);
          const __m512i centre = _mm512_set1_epi32(static_cast<int32_t>(r0 + r));
          const __m512 d0 = _mm512_max_ps(
              zero, _mm512_add_ps(_mm512_add_ps(nq0, nc), _mm512_load_ps(tile + r * NR)));
          const __m512 d1 = _mm512_max_ps(
              zero, _mm512_add_ps(_mm512_add_ps(nq1, nc), _mm512_load_ps(tile + r * NR + 16)));
          const __mmask16 lt0 = _mm512_cmp_ps_mask(d0, best0, _CMP_LT_OQ);
          const __mmask16 lt1 = _mm512_cmp_ps_mask(d1, best1, _CMP_LT_OQ);
          best0 = _mm512_mask_mov_ps(best0, lt0, d0);
          best1 = _mm512_mask_mov_ps(best1, lt1, d1);
          at0 = _mm512_mask_mov_epi32(at0, lt0, centre);
          at1 = _mm512_mask_mov_epi32(at1, lt1, centre);
        }
      }
      const __mmask16 m0 = lanes(cols), m1 = lanes(cols - 16);
      _mm512_mask_storeu_ps(value + i0, m0, best0);
      _mm512_mask_storeu_ps(value + i0 + 16, m1, best1);
      _mm512_mask_storeu_epi32(index + i0, m0, at0);
      _mm512_mask_storeu_epi32(index + i0 + 16, m1, at1);
    }
  });
  return !too_large.load();
}

}  // namespace

void sqdist_topk_avx512(int64_t m, int64_t n, int64_t d, const float* A, const float* B, int64_t k,
                        int32_t* index, float* value, int threads) {
  if (m == 0) return;
  auto composition = [&] {
    std::vector<float> D(static_cast<std::size_t>(m) * n);
    sqdist_avx512(m, n, d, A, B, D.data(), threads);
    topk_rows_avx512(m, n, k, D.data(), index, value, threads);
  };
  if (!Tiles::sums_in_slice_order(d)) return composition();
  std::vector<float> norm_b(n);
  parallel_ranges(n, d, threads, [&](int, int64_t begin, int64_t end) {
    for (int64_t j = begin; j < end; ++j) norm_b[j] = dot(B + j * d, B + j * d, d);
  });
  // |−2·a·b| ≤ ‖a‖² + ‖b‖², so while every ‖a‖² stays below a_limit every distance and every
  // partial sum is finite. The rows' norms are computed group by group below, from rows about to
  // be packed (in cache); a row at or above the limit (or NaN) stops the fused search, and the
  // composition, whose NaN/inf rules hold, runs instead.
  const float max_b = n > 0 ? *std::max_element(norm_b.begin(), norm_b.end()) : 0.0f;
  const float a_limit = std::numeric_limits<float>::max() / 4 - max_b;
  if (!(std::isfinite(max_b) && max_b < std::numeric_limits<float>::max() / 4)) {
    return composition();
  }
  if (k == 1 && n <= kFewRows) {
    if (!nearest_of_few(m, n, d, A, B, norm_b.data(), a_limit, index, value, threads)) {
      composition();
    }
    return;
  }
  std::atomic<bool> too_large{false};

  // B packed once, as the GEMM packs it: for each k-slice s, ⌈n/NR⌉ micro-panels of kc × NR.
  const int64_t KC = Tiles::kc();
  const int64_t slices = std::max<int64_t>(1, (d + KC - 1) / KC);
  const int64_t panels = (n + NR - 1) / NR;
  auto slice_kc = [&](int64_t s) { return std::min(KC, d - s * KC); };
  const int64_t slice_floats = panels * NR * KC;
  // Kept per thread, as the GEMM's buffers (cpu_parallel.hpp, AlignedBuffer): no page faults
  // after the first call.
  static thread_local AlignedBuffer<float> b_buffer;
  float* const b_pack = b_buffer.get(std::size_t(slices) * slice_floats);
  parallel_ranges(panels, NR * d, threads, [&](int, int64_t begin, int64_t end) {
    for (int64_t s = 0; s < slices; ++s) {
      Tiles::pack_columns(B + s * KC, d, slice_kc(s), n, begin, end, b_pack + s * slice_floats);
    }
  });
  // (the panel of slice s starting at column j: b_pack + s·slice_floats + j·kc(s))

  const int64_t chunk_panels = std::max<int64_t>(1, kChunkBytes / (NR * d * 4));
  const int64_t group_slabs = std::max<int64_t>(1, kGroupBytes / (MR * d * 4));
  const int64_t slabs = (m + MR - 1) / MR;
  parallel_ranges(slabs, n * d * MR, threads, [&](int, int64_t slab_begin, int64_t slab_end) {
    // This thread's rows' lists start full of +inf (any finite distance enters).
    const int64_t r_begin = slab_begin * MR, r_end = std::min(m, slab_end * MR);
    float* best_v = value + r_begin * k;
    int32_t* best_i = index + r_begin * k;
    std::fill(best_v, best_v + (r_end - r_begin) * k, std::numeric_limits<float>::infinity());
    std::fill(best_i, best_i + (r_end - r_begin) * k, 0);

    // A group of slabs packed as the GEMM packs A (per slab: each k-slice's MR × kc panel, the
    // slab MR·d floats), just before its tiles are computed, so it is read from cache.
    const int64_t slab_floats = MR * d;
    static thread_local AlignedBuffer<float> a_buffer, norm_buffer;
    float* const a_pack = a_buffer.get(std::size_t(group_slabs) * slab_floats);
    float* const norm_a = norm_buffer.get(std::size_t(group_slabs) * MR);  // the group's ‖a‖²
    alignas(64) float tile[MR * NR];
    for (int64_t g0 = slab_begin; g0 < slab_end; g0 += group_slabs) {
      if (too_large.load(std::memory_order_relaxed)) return;
      const int64_t g1 = std::min(slab_end, g0 + group_slabs);
      for (int64_t sl = g0; sl < g1; ++sl) {
        const int64_t r0 = sl * MR, rows = std::min<int64_t>(MR, m - r0);
        for (int64_t r = 0; r < rows; ++r) {
          const float* a = A + (r0 + r) * d;
          const float norm = dot(a, a, d);  // sqdist_avx512's norm, bit for bit
          if (!(norm < a_limit)) {
            too_large.store(true, std::memory_order_relaxed);
            return;
          }
          norm_a[(sl - g0) * MR + r] = norm;
        }
        for (int64_t s = 0; s < slices; ++s) {
          Tiles::pack_rows(A + r0 * d + s * KC, d, rows, slice_kc(s),
                           a_pack + (sl - g0) * slab_floats + s * MR * KC);
        }
      }
      for (int64_t p0 = 0; p0 < panels; p0 += chunk_panels) {  // a chunk of B stays in L2
        const int64_t p1 = std::min(panels, p0 + chunk_panels);
        for (int64_t sl = g0; sl < g1; ++sl) {
          const int64_t r0 = sl * MR, rows = std::min<int64_t>(MR, m - r0);
          const float* a_slab = a_pack + (sl - g0) * slab_floats;
          for (int64_t p = p0; p < p1; ++p) {
            const int64_t j0 = p * NR;
            for (int64_t s = 0; s < slices; ++s) {
              Tiles::tile(slice_kc(s), a_slab + s * MR * KC,
                          b_pack + s * slice_floats + j0 * slice_kc(s), -2.0f, s == 0 ? 0.0f : 1.0f,
                          tile);
            }
            select_from_tile(tile, norm_a + (sl - g0) * MR, norm_b.data(), rows, j0,
                             std::min<int64_t>(NR, n - j0), best_v + (r0 - r_begin) * k,
                             best_i + (r0 - r_begin) * k, k);
          }
        }
      }
    }
  });
  if (too_large.load()) composition();
}

}  // namespace mlcore::cpu
