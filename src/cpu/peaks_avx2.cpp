// The AVX2 FMA ceiling: compiled with -mavx2 -mfma, called only after a CPUID check.
#include <immintrin.h>

#include <cstdint>

#include "peaks.hpp"

namespace mlcore::cpu {

namespace {

// Ten independent ymm accumulators: 2 FMA ports × 4-cycle latency = 8 FMAs must be in flight
// to saturate a core; ten leaves margin on cores with 5-cycle FMA latency. Inputs come in and
// the result goes out through memory, so the compiler cannot evaluate the chains itself.
constexpr int kChains = 10;

__attribute__((noinline)) void fma_chains(const float* init, const float* ab, float* out,
                                          std::int64_t iters) {
  __m256 acc[kChains];
  for (int j = 0; j < kChains; ++j) acc[j] = _mm256_set1_ps(init[j]);
  const __m256 a = _mm256_set1_ps(ab[0]), b = _mm256_set1_ps(ab[1]);
  for (std::int64_t i = 0; i < iters; ++i) {
    for (int j = 0; j < kChains; ++j) acc[j] = _mm256_fmadd_ps(acc[j], a, b);
  }
  __m256 sum = acc[0];
  for (int j = 1; j < kChains; ++j) sum = _mm256_add_ps(sum, acc[j]);
  _mm256_storeu_ps(out, sum);
}

// One team member's share of the probe: kChains chains of 8-lane FMAs, iters times each.
void run_chains(long long iters) {
  float init[kChains];
  for (int j = 0; j < kChains; ++j) init[j] = 1.0f + 0.01f * j;
  const float ab[2] = {0.9999999f, 1e-7f};
  float out[8];
  fma_chains(init, ab, out, iters);
  volatile float sink = out[0];
  (void)sink;
}

}  // namespace

double measure_avx2_fma_peak(int threads) {
  return measure_team_mac_rate(threads, 3, 10'000'000, double(kChains) * 8, run_chains);
}

}  // namespace mlcore::cpu
