#include "peaks.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "mlcore/parallel.hpp"

namespace mlcore::cpu {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

namespace {

// Sixteen independent chains: without FMA in the baseline instruction set a multiply-add is a
// multiply then an add, ~8 cycles of latency, and two of each can issue per cycle, so 16 chains
// keep the ports busy. Vectorisation is off for this function so the figure is what scalar
// code can reach; inputs and result go through memory so the compiler cannot fold the chains.
constexpr int kScalarChains = 16;

__attribute__((noinline, optimize("no-tree-vectorize"))) void scalar_chains(const float* init,
                                                                            const float* ab,
                                                                            float* out,
                                                                            std::int64_t iters) {
  float acc[kScalarChains];
  for (int j = 0; j < kScalarChains; ++j) acc[j] = init[j];
  const float a = ab[0], b = ab[1];
  for (std::int64_t i = 0; i < iters; ++i) {
    for (int j = 0; j < kScalarChains; ++j) acc[j] = acc[j] * a + b;
  }
  for (int j = 0; j < kScalarChains; ++j) out[j] = acc[j];
}

}  // namespace

double measure_scalar_mac_peak() {
  constexpr std::int64_t kIters = 5'000'000;
  float init[kScalarChains], out[kScalarChains];
  for (int j = 0; j < kScalarChains; ++j) init[j] = 1.0f + 0.001f * j;
  const float ab[2] = {0.999999f, 1e-7f};
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    scalar_chains(init, ab, out, kIters);
    best = std::max(best, kIters * kScalarChains / seconds_since(t0));
  }
  volatile float sink = out[0];
  (void)sink;
  return best;
}

double measure_team_mac_rate(int threads, int reps, long long iters, double macs_per_iter,
                             void (*run)(long long iters)) {
  double best = 0;
  for (int rep = 0; rep < reps; ++rep) {
    std::atomic<int> ran{0};
    const auto t0 = std::chrono::steady_clock::now();
    parallel::run_team(threads, [&](parallel::Team&) {
      run(iters);
      ran.fetch_add(1, std::memory_order_relaxed);
    });
    best = std::max(best, ran.load() * double(iters) * macs_per_iter / seconds_since(t0));
  }
  return best;
}

double measure_read_bandwidth(int threads) {
  // 64 MiB per pass: larger than this machine's 36 MiB L3, so the reads come from DRAM.
  const std::size_t n = (std::size_t(64) << 20) / sizeof(float);
  // Summed as 64-bit integers: integer adds reassociate freely, so the compiler can keep many
  // sums in flight and the loop is limited by memory, not by the latency of one add chain.
  std::vector<std::uint64_t> buffer(n / 2, 1);
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    std::atomic<std::uint64_t> total{0};
    const auto t0 = std::chrono::steady_clock::now();
    parallel::for_ranges(static_cast<std::int64_t>(buffer.size()), threads,
                         [&](int, std::int64_t begin, std::int64_t end) {
                           std::uint64_t part = 0;
                           for (std::int64_t i = begin; i < end; ++i) part += buffer[i];
                           total.fetch_add(part, std::memory_order_relaxed);
                         });
    const double secs = seconds_since(t0);
    volatile std::uint64_t sink = total;
    (void)sink;
    best = std::max(best, buffer.size() * sizeof(std::uint64_t) / secs);
  }
  return best;
}

}  // namespace mlcore::cpu
