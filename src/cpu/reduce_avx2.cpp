// The avx2 backend's column reductions (sum, mean, variance); compiled with -mavx2
// -mfma. The lessons these memory-bound kernels share are in primitives_avx2.hpp.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "cpu_parallel.hpp"
#include "primitives_avx2.hpp"
#include "simd_avx2.hpp"

namespace mlcore::cpu {

namespace {

// acc[j] += (x[j] − center[j])² (square) or x[j] (plain), for one row, in double: 8 floats are
// widened to two groups of 4 doubles. Double sums keep m ≫ 10⁴ rows exact to f32 precision,
// which an f32 running sum does not (it loses ~log2(m) bits).
template <bool kSquare>
inline void accumulate_row(const float* x, const double* center, double* acc, int64_t n) {
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    const __m256 v = _mm256_loadu_ps(x + j);
    for (int h = 0; h < 2; ++h) {
      __m256d d = _mm256_cvtps_pd(h == 0 ? _mm256_castps256_ps128(v) : _mm256_extractf128_ps(v, 1));
      if (kSquare) {
        d = _mm256_sub_pd(d, _mm256_loadu_pd(center + j + 4 * h));
        d = _mm256_mul_pd(d, d);
      }
      _mm256_storeu_pd(acc + j + 4 * h, _mm256_add_pd(_mm256_loadu_pd(acc + j + 4 * h), d));
    }
  }
  for (; j < n; ++j) {
    const double d = kSquare ? double(x[j]) - center[j] : double(x[j]);
    acc[j] += kSquare ? d * d : d;
  }
}

// The same sums over `rows` rows of a narrow X (N < kNarrowRow columns), read as one flat run of
// floats: rows are shorter than a vector, so a row-at-a-time loop would add into acc[j] through
// memory, one dependent add per row. A group of N vectors (8·N floats) holds 8 whole rows, and
// lane l of its t-th vector always holds column (8t + l) mod N; so 2·N double accumulators
// (one per half vector) stay in registers across the groups and are folded into the columns at
// the end. The leftover rows (fewer than 8) are added one by one.
template <bool kSquare, int N>
void accumulate_narrow(const float* x, int64_t rows, const double* center, double* acc) {
  double pattern[8 * N] = {};  // the center of each lane's column, in group order
  if (kSquare) {
    for (int p = 0; p < 8 * N; ++p) pattern[p] = center[p % N];
  }
  __m256d sum[2 * N];
  for (int a = 0; a < 2 * N; ++a) sum[a] = _mm256_setzero_pd();
  const int64_t groups = rows / 8;
  for (int64_t g = 0; g < groups; ++g) {
    const float* xs = x + g * 8 * N;
    for (int t = 0; t < N; ++t) {
      const __m256 v = _mm256_loadu_ps(xs + 8 * t);
      for (int h = 0; h < 2; ++h) {
        __m256d d =
            _mm256_cvtps_pd(h == 0 ? _mm256_castps256_ps128(v) : _mm256_extractf128_ps(v, 1));
        if (kSquare) {
          d = _mm256_sub_pd(d, _mm256_loadu_pd(pattern + 8 * t + 4 * h));
          d = _mm256_mul_pd(d, d);
        }
        sum[2 * t + h] = _mm256_add_pd(sum[2 * t + h], d);
      }
    }
  }
  double lanes[8 * N];
  for (int a = 0; a < 2 * N; ++a) _mm256_storeu_pd(lanes + 4 * a, sum[a]);
  for (int p = 0; p < 8 * N; ++p) acc[p % N] += lanes[p];
  for (int64_t i = groups * 8; i < rows; ++i) {
    for (int j = 0; j < N; ++j) {
      const double d = kSquare ? double(x[i * N + j]) - center[j] : double(x[i * N + j]);
      acc[j] += kSquare ? d * d : d;
    }
  }
}

// accumulate_narrow for the run-time column count n < kNarrowRow.
template <bool kSquare>
void accumulate_narrow(const float* x, int64_t rows, int64_t n, const double* center, double* acc) {
  switch (n) {
    case 1:
      return accumulate_narrow<kSquare, 1>(x, rows, center, acc);
    case 2:
      return accumulate_narrow<kSquare, 2>(x, rows, center, acc);
    case 3:
      return accumulate_narrow<kSquare, 3>(x, rows, center, acc);
    case 4:
      return accumulate_narrow<kSquare, 4>(x, rows, center, acc);
    case 5:
      return accumulate_narrow<kSquare, 5>(x, rows, center, acc);
    case 6:
      return accumulate_narrow<kSquare, 6>(x, rows, center, acc);
    default:
      return accumulate_narrow<kSquare, 7>(x, rows, center, acc);
  }
}
static_assert(kNarrowRow == 8, "accumulate_narrow's switch covers n = 1..7");

// Column sums of `rows` rows from x (sums of (x − center)² when kSquare), into acc (n doubles,
// added to): the row-at-a-time loop, or the flat one for narrow rows.
template <bool kSquare>
void accumulate_rows(const float* x, int64_t rows, int64_t n, const double* center, double* acc) {
  if (n < kNarrowRow) {
    accumulate_narrow<kSquare>(x, rows, n, center, acc);
    return;
  }
  for (int64_t i = 0; i < rows; ++i) accumulate_row<kSquare>(x + i * n, center, acc, n);
}

// out[j] = Σ_i x[i, j] over the rows, in double. Each block of rows (cut by size:
// reduction_blocks) sums into its own accumulator row; the rows are added in block order, so the
// result does not depend on the thread count.
std::vector<double> column_sums(int64_t m, int64_t n, const float* X, int threads) {
  const int64_t blocks = reduction_blocks(m, n);
  std::vector<double> partial(static_cast<std::size_t>(blocks) * n, 0.0);
  parallel_blocks(m, blocks, threads, [&](int64_t blk, int64_t begin, int64_t end) {
    accumulate_rows<false>(X + begin * n, end - begin, n, nullptr, partial.data() + blk * n);
  });
  std::vector<double> sum(partial.begin(), partial.begin() + n);
  for (int64_t blk = 1; blk < blocks; ++blk) {
    for (int64_t j = 0; j < n; ++j) sum[j] += partial[blk * n + j];
  }
  return sum;
}

// Count, mean and sum of squared deviations about the mean, per column, of a run of rows.
struct Moments {
  double count = 0;
  std::vector<double> mean, m2;
};

// a ← the moments of a's rows and b's together (Chan, Golub & LeVeque): with δ = mean_b − mean_a,
// mean = mean_a + δ·n_b/n and M2 = M2_a + M2_b + δ²·n_a·n_b/n. Exact algebra, no cancellation.
void merge_into(Moments& a, const Moments& b) {
  if (b.count == 0) return;
  if (a.count == 0) {
    a = b;
    return;
  }
  const double total = a.count + b.count;
  for (std::size_t j = 0; j < a.mean.size(); ++j) {
    const double delta = b.mean[j] - a.mean[j];
    a.mean[j] += delta * (b.count / total);
    a.m2[j] += b.m2[j] + delta * delta * (a.count * b.count / total);
  }
  a.count = total;
}

// Rows per chunk of the variance: ~128 KiB of X, which stays in L2 between the chunk's two passes.
constexpr int64_t kChunkBytes = 128 * 1024;

// The moments of rows [begin, end) of X, read from memory once: the rows are taken a chunk at a
// time, each chunk's mean by one pass and its squared deviations about that mean by a second
// pass over the same chunk, now in cache; the chunks are merged by merge_into. The two-pass
// algorithm's robustness (deviations about a mean, never E[x²] − E[x]²) at one pass's traffic.
Moments chunked_moments(const float* X, int64_t begin, int64_t end, int64_t n) {
  const int64_t chunk = std::max<int64_t>(1, kChunkBytes / (4 * n));
  Moments all, part;
  part.mean.resize(n);
  part.m2.resize(n);
  for (int64_t r = begin; r < end; r += chunk) {
    const int64_t rows = std::min(chunk, end - r);
    const float* x = X + r * n;
    std::fill(part.mean.begin(), part.mean.end(), 0.0);
    accumulate_rows<false>(x, rows, n, nullptr, part.mean.data());
    for (double& v : part.mean) v /= static_cast<double>(rows);
    std::fill(part.m2.begin(), part.m2.end(), 0.0);
    accumulate_rows<true>(x, rows, n, part.mean.data(), part.m2.data());
    part.count = static_cast<double>(rows);
    merge_into(all, part);
  }
  return all;
}

// Population variance per column (Σ(x − mean)²/m) in double: each block of rows (cut by size, as
// column_sums cuts them) its chunked moments, the blocks merged in block order, so the result
// does not depend on the thread count.
std::vector<double> column_variances(int64_t m, int64_t n, const float* X, int threads) {
  const int64_t blocks = reduction_blocks(m, n);
  std::vector<Moments> partial(static_cast<std::size_t>(blocks));
  parallel_blocks(m, blocks, threads, [&](int64_t blk, int64_t begin, int64_t end) {
    partial[blk] = chunked_moments(X, begin, end, n);
  });
  Moments all;
  for (const Moments& p : partial) merge_into(all, p);
  std::vector<double> var(static_cast<std::size_t>(n), 0.0);
  for (int64_t j = 0; j < n && all.count > 0; ++j) var[j] = all.m2[j] / all.count;
  return var;
}

}  // namespace

void reduce_cols_avx2(Reduce op, int64_t m, int64_t n, const float* X, float* out, int threads) {
  if (op == Reduce::var) {
    // Σ(x − mean)²/m, not E[x²] − E[x]², which would lose every digit at mean 100, spread 1, in
    // f32: chunked two-pass moments (column_variances), X read once.
    const std::vector<double> var = column_variances(m, n, X, threads);
    for (int64_t j = 0; j < n; ++j) out[j] = static_cast<float>(var[j]);
    return;
  }
  const std::vector<double> sum = column_sums(m, n, X, threads);
  for (int64_t j = 0; j < n; ++j) {
    out[j] = static_cast<float>(op == Reduce::mean ? sum[j] / static_cast<double>(m) : sum[j]);
  }
}

}  // namespace mlcore::cpu
