// The avx2 backend's element-wise functions (map) and row softmax; compiled with -mavx2
// -mfma. The lessons these memory-bound kernels share are in primitives_avx2.hpp.
#include <immintrin.h>

#include <cmath>
#include <limits>

#include "cpu_parallel.hpp"
#include "map_scalar.hpp"
#include "primitives_avx2.hpp"
#include "simd_avx2.hpp"
#include "vecmath_avx2.hpp"

namespace mlcore::cpu {

namespace {

// uᵖ for an integer p, |p| ≤ 64, computed in double by repeated squaring (≤ 12 roundings of
// 2⁻⁵³ each) and rounded once to float: correctly rounded in practice, and right for negative
// u, which exp(p·ln u) is not.
inline __m256 pow_int(__m256 u, int p) {
  const unsigned e = static_cast<unsigned>(p < 0 ? -p : p);
  __m256d base[2] = {_mm256_cvtps_pd(_mm256_castps256_ps128(u)),
                     _mm256_cvtps_pd(_mm256_extractf128_ps(u, 1))};
  __m256d result[2] = {_mm256_set1_pd(1.0), _mm256_set1_pd(1.0)};
  for (unsigned bits = e; bits != 0; bits >>= 1) {
    for (int h = 0; h < 2; ++h) {
      if (bits & 1u) result[h] = _mm256_mul_pd(result[h], base[h]);
      base[h] = _mm256_mul_pd(base[h], base[h]);
    }
  }
  if (p < 0) {
    for (int h = 0; h < 2; ++h) result[h] = _mm256_div_pd(_mm256_set1_pd(1.0), result[h]);
  }
  return _mm256_set_m128(_mm256_cvtpd_ps(result[1]), _mm256_cvtpd_ps(result[0]));
}

// Runs f(u) over the range with u = scale·x + shift rounded twice (a multiply, then an add), the
// same u the scalar reference computes, so f sees identical inputs on every backend.
template <class F>
void map_range(const float* x, float* y, int64_t count, const MapArgs& args, F f) {
  const __m256 scale = _mm256_set1_ps(args.scale), shift = _mm256_set1_ps(args.shift);
  map_vector(x, y, count,
             [&](__m256 v) { return f(_mm256_add_ps(_mm256_mul_ps(scale, v), shift)); });
}

}  // namespace

void map_avx2(MapFn fn, int64_t count, const float* x, float* y, MapArgs args, int threads) {
  namespace vm = vecmath;
  // Transcendentals cost ~20–40 instructions per 8 elements: count them as 8 units of work.
  const int64_t cost =
      (fn == MapFn::identity || fn == MapFn::square || fn == MapFn::abs || fn == MapFn::relu) ? 1
                                                                                              : 8;
  const double p = args.exponent;
  const bool small_int_pow = p == std::floor(p) && std::fabs(p) <= 64.0;
  parallel_ranges(count, cost, threads, [&](int, int64_t begin, int64_t end) {
    const float* xs = x + begin;
    float* ys = y + begin;
    const int64_t len = end - begin;
    switch (fn) {
      case MapFn::identity:
        map_range(xs, ys, len, args, [](__m256 u) { return u; });
        break;
      case MapFn::exp:
        map_range(xs, ys, len, args, [](__m256 u) { return vm::exp(u); });
        break;
      case MapFn::log:
        map_range(xs, ys, len, args, [](__m256 u) { return vm::log(u); });
        break;
      case MapFn::sigmoid:
        map_range(xs, ys, len, args, [](__m256 u) { return vm::sigmoid(u); });
        break;
      case MapFn::tanh:
        map_range(xs, ys, len, args, [](__m256 u) { return vm::tanh(u); });
        break;
      case MapFn::sqrt:
        map_range(xs, ys, len, args, [](__m256 u) { return _mm256_sqrt_ps(u); });
        break;
      case MapFn::square:
        map_range(xs, ys, len, args, [](__m256 u) { return _mm256_mul_ps(u, u); });
        break;
      case MapFn::abs:
        map_range(xs, ys, len, args, [](__m256 u) { return vm::abs(u); });
        break;
      case MapFn::relu:
        // max(u, 0) returns its second operand, 0, for a NaN u: like the reference u > 0 ? u : 0.
        map_range(xs, ys, len, args,
                  [](__m256 u) { return _mm256_max_ps(u, _mm256_setzero_ps()); });
        break;
      case MapFn::reciprocal:
        map_range(xs, ys, len, args,
                  [](__m256 u) { return _mm256_div_ps(_mm256_set1_ps(1.0f), u); });
        break;
      case MapFn::pow:
        if (small_int_pow) {
          const int e = static_cast<int>(p);
          map_range(xs, ys, len, args, [e](__m256 u) { return pow_int(u, e); });
        } else {  // a fractional power: std::pow, one element at a time
          for (int64_t i = 0; i < len; ++i) ys[i] = apply_map_fn(fn, xs[i], args);
        }
        break;
      case MapFn::log1pexp:
        map_range(xs, ys, len, args, [](__m256 u) { return vm::log1pexp(u); });
        break;
    }
  });
}

namespace {

// softmax_rows for 8 narrow rows at once (n < kNarrowRow): a row is less than a vector, so the
// row-wise path below would spend a masked load, a horizontal sum, a scalar log and a masked
// store on a handful of values. Here lane r holds row r: column j of the 8 rows is one gathered
// vector, and max, exp and the double sums run down the columns, the 8 rows side by side. The
// same exp polynomial and double sums as the row-wise path; the results go back row by row.
void softmax_8_narrow_rows(int64_t n, const float* x, float* y, bool log) {
  const __m256i stride = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
                                            _mm256_set1_epi32(static_cast<int>(n)));
  __m256 col[kNarrowRow], e[kNarrowRow];
  __m256 mx = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  for (int64_t j = 0; j < n; ++j) {
    col[j] = _mm256_i32gather_ps(x + j, stride, 4);
    mx = _mm256_max_ps(mx, col[j]);
  }
  __m256d sum0 = _mm256_setzero_pd(), sum1 = sum0;  // rows 0–3, 4–7
  for (int64_t j = 0; j < n; ++j) {
    e[j] = vecmath::exp(_mm256_sub_ps(col[j], mx));
    sum0 = _mm256_add_pd(sum0, _mm256_cvtps_pd(_mm256_castps256_ps128(e[j])));
    sum1 = _mm256_add_pd(sum1, _mm256_cvtps_pd(_mm256_extractf128_ps(e[j], 1)));
  }
  // ln Σ (log) or 1 / Σ (softmax) of each row, from its double sum and rounded once, as the
  // row-wise path does. The log stays a double one: Σ = 1 + tiny when one class dominates, and
  // −ln Σ (that class's log-probability) keeps its relative accuracy only in double.
  alignas(32) double sums[8];
  _mm256_store_pd(sums, sum0);
  _mm256_store_pd(sums + 4, sum1);
  alignas(32) float per_row[8];
  for (int r = 0; r < 8; ++r) {
    per_row[r] = static_cast<float>(log ? std::log(sums[r]) : 1.0 / sums[r]);
  }
  const __m256 f = _mm256_load_ps(per_row);
  alignas(32) float out[kNarrowRow][8];
  for (int64_t j = 0; j < n; ++j) {
    _mm256_store_ps(out[j],
                    log ? _mm256_sub_ps(_mm256_sub_ps(col[j], mx), f) : _mm256_mul_ps(e[j], f));
  }
  for (int r = 0; r < 8; ++r) {
    for (int64_t j = 0; j < n; ++j) y[r * n + j] = out[j][r];
  }
}

}  // namespace

void softmax_rows_avx2(int64_t m, int64_t n, const float* X, float* Y, bool log, int threads) {
  parallel_ranges(m, n * 4, threads, [&](int, int64_t begin, int64_t end) {
    if (n < kNarrowRow) {
      for (; begin + 8 <= end; begin += 8)
        softmax_8_narrow_rows(n, X + begin * n, Y + begin * n, log);
    }
    for (int64_t i = begin; i < end; ++i) {
      const float* x = X + i * n;
      float* y = Y + i * n;
      // Pass 1: the row max, so exp never overflows (softmax(x) = softmax(x − max x)).
      __m256 vmax = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
      int64_t j = 0;
      for (; j + 8 <= n; j += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(x + j));
      alignas(32) float lanes[8];
      _mm256_store_ps(lanes, vmax);
      float mx = lanes[0];
      for (int l = 1; l < 8; ++l) mx = std::max(mx, lanes[l]);
      for (; j < n; ++j) mx = std::max(mx, x[j]);
      const __m256 vmx = _mm256_set1_ps(mx);
      // Pass 2: Σ exp(x − max), summed in double (as the reference does) from f32 exps. For
      // softmax the exps are kept in y, so pass 3 only scales them.
      __m256d sum0 = _mm256_setzero_pd(), sum1 = sum0;
      auto accumulate = [&](__m256 e) {
        sum0 = _mm256_add_pd(sum0, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
        sum1 = _mm256_add_pd(sum1, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
      };
      for (j = 0; j + 8 <= n; j += 8) {
        const __m256 e = vecmath::exp(_mm256_sub_ps(_mm256_loadu_ps(x + j), vmx));
        accumulate(e);
        if (!log) _mm256_storeu_ps(y + j, e);
      }
      if (j < n) {
        const __m256i mask = tail_mask(n - j);
        const __m256 e = _mm256_and_ps(  // lanes past the row add 0
            vecmath::exp(_mm256_sub_ps(_mm256_maskload_ps(x + j, mask), vmx)),
            _mm256_castsi256_ps(mask));
        accumulate(e);
        if (!log) _mm256_maskstore_ps(y + j, mask, e);
      }
      const double sum = hsum(_mm256_add_pd(sum0, sum1));
      // Pass 3.
      if (log) {
        // log_softmax = (x − max) − ln Σ.
        const __m256 lse = _mm256_set1_ps(static_cast<float>(std::log(sum)));
        map_vector(x, y, n, [&](__m256 v) { return _mm256_sub_ps(_mm256_sub_ps(v, vmx), lse); });
      } else {
        const __m256 inv = _mm256_set1_ps(static_cast<float>(1.0 / sum));
        map_vector(y, y, n, [&](__m256 e) { return _mm256_mul_ps(e, inv); });
      }
    }
  });
}

}  // namespace mlcore::cpu
