// The AVX-512 FMA ceiling: compiled with the AVX-512 flags, called only after a CPUID check.
// The same measurement as peaks_avx2.cpp with zmm registers: what "% of peak" of the avx512
// SGEMM divides by. On Intel server cores with two 512-bit FMA units it is twice the AVX2
// figure; on AMD Zen 4, whose two 256-bit FMA units execute a zmm FMA as two halves, it is the
// same — a measured figure says which machine this is.
#include <immintrin.h>

#include <cstdint>

#include "peaks.hpp"

namespace mlcore::cpu {

namespace {

// Twelve independent zmm accumulators: 2 FMA ports × 4-cycle latency = 8 must be in flight to
// saturate a core; twelve leave margin for a 5- or 6-cycle latency (AVX-512 FMAs on some cores).
constexpr int kChains = 12;

__attribute__((noinline)) void fma_chains(const float* init, const float* ab, float* out,
                                          std::int64_t iters) {
  __m512 acc[kChains];
  for (int j = 0; j < kChains; ++j) acc[j] = _mm512_set1_ps(init[j]);
  const __m512 a = _mm512_set1_ps(ab[0]), b = _mm512_set1_ps(ab[1]);
  for (std::int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 12
    for (int j = 0; j < kChains; ++j) acc[j] = _mm512_fmadd_ps(acc[j], a, b);
  }
  __m512 sum = acc[0];
  for (int j = 1; j < kChains; ++j) sum = _mm512_add_ps(sum, acc[j]);
  _mm512_storeu_ps(out, sum);
}

// One team member's share of the probe: kChains chains of 16-lane FMAs, iters times each.
void run_chains(long long iters) {
  float init[kChains];
  for (int j = 0; j < kChains; ++j) init[j] = 1.0f + 0.01f * j;
  const float ab[2] = {0.9999999f, 1e-7f};
  float out[16];
  fma_chains(init, ab, out, iters);
  volatile float sink = out[0];
  (void)sink;
}

}  // namespace

double measure_avx512_fma_peak(int threads) {
  // Best of 7 short runs (~10 ms each): a run that lost its core is discarded, not averaged in.
  return measure_team_mac_rate(threads, 7, 2'000'000, double(kChains) * 16, run_chains);
}

}  // namespace mlcore::cpu
