// The systolic simulator's own speed (issue 3, item 7): how fast it simulates, not how fast the
// simulated machine is (that is in each call's OpRecord). Figures go to bench/RESULTS.md,
// section "systolic".
//   ./bench/bench_systolic --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <random>

#include "mlcore/mlcore.hpp"
#include "mlcore/systolic.hpp"

namespace {

using namespace mlcore;

Tensor random_f32(std::int64_t rows, std::int64_t cols, std::uint32_t seed) {
  Tensor t(rows, cols);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (std::int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

Tensor random_i8(std::int64_t rows, std::int64_t cols, std::uint32_t seed) {
  Tensor t(rows, cols, DType::i8);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(-128, 127);
  for (std::int64_t i = 0; i < t.numel(); ++i) t.data<std::int8_t>()[i] = std::int8_t(dist(rng));
  return t;
}

// Analytic mode, values included: an f32 n³ GEMM on tpu-v1 through the backend (quantize A and
// B, exact int8 product, dequantize, estimate the quantization error, count the cycles).
// Target: 1024³ in < 0.5 s on the 2-core development machine.
void BM_AnalyticGemmF32(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  BackendPtr b = make_default_systolic_backend();
  Tensor A = random_f32(n, n, 1), B = random_f32(n, n, 2), C(n, n);
  Profile p;
  for (auto _ : state) {
    p.clear();
    ProfileScope scope(p);
    b->gemm(Trans::no, Trans::no, 1.0f, A, B, 0.0f, C);
    benchmark::DoNotOptimize(C.data<float>());
  }
  const OpRecord r = p.records().at(0);
  state.counters["sim_cycles"] = double(r.sim->cycles());
  state.counters["sim_util"] = r.sim->utilization;
  state.counters["quant_err"] = r.quant_error.value_or(-1);
  state.counters["host_GMACs"] =
      benchmark::Counter(double(n * n * n) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_AnalyticGemmF32)->Arg(256)->Arg(1024)->Unit(benchmark::kMillisecond)->UseRealTime();

// The same with int8 operands (no quantization): the exact int8 kernel alone.
void BM_AnalyticGemmI8(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  BackendPtr b = make_default_systolic_backend();
  Tensor A = random_i8(n, n, 1), B = random_i8(n, n, 2), C(n, n, DType::i32);
  for (auto _ : state) {
    b->gemm(Trans::no, Trans::no, 1.0f, A, B, 0.0f, C);
    benchmark::DoNotOptimize(C.data<std::int32_t>());
  }
  state.counters["host_GMACs"] =
      benchmark::Counter(double(n * n * n) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_AnalyticGemmI8)->Arg(1024)->Unit(benchmark::kMillisecond)->UseRealTime();

// The cycle count alone (no values): closed form per fold, microseconds at any size.
void BM_AnalyticCountOnly(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  const SystolicConfig c = systolic_preset("tpu-v1");
  for (auto _ : state) {
    SystolicGemmStats s = systolic_gemm_cycles(c, n, n, n);
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_AnalyticCountOnly)->Arg(1024)->Arg(65536)->Unit(benchmark::kMicrosecond);

// Stepped mode: every operand moves one PE per cycle. Counter: PE-updates per second
// (rows × cols × counted cycles ÷ time). Target ≥ 1e8. Memory is O(rows × cols + folds): no
// per-cycle state is kept unless a trace is asked for.
void BM_Stepped(benchmark::State& state) {
  const std::int64_t array = state.range(0), n = state.range(1);
  const Dataflow d = static_cast<Dataflow>(state.range(2));
  SystolicConfig c = systolic_preset("tpu-v1");
  c.rows = c.cols = array;
  c.dataflow = d;
  Tensor A = random_i8(n, n, 1), B = random_i8(n, n, 2), C(n, n, DType::i32);
  std::int64_t cycles = 0;
  for (auto _ : state) {
    cycles = systolic_gemm_stepped(c, A, B, C).compute_cycles;
    benchmark::DoNotOptimize(C.data<std::int32_t>());
  }
  state.SetLabel(dataflow_name(d));
  state.counters["sim_cycles"] = double(cycles);
  state.counters["PE_updates_per_s"] = benchmark::Counter(
      double(array * array * cycles), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_Stepped)
    ->Args({32, 256, int(Dataflow::ws)})
    ->Args({32, 256, int(Dataflow::os)})
    ->Args({32, 256, int(Dataflow::is)})
    ->Args({128, 256, int(Dataflow::ws)})
    ->Args({256, 256, int(Dataflow::ws)})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
