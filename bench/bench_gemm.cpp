// GEMM on every backend, next to Eigen, against the machine's measured FMA peak.
//
//   ./bench/bench_gemm                                   # everything
//   ./bench/bench_gemm --benchmark_filter='avx2|eigen' --benchmark_repetitions=5 \
//                      --benchmark_report_aggregates_only=true
//
// Benchmarks (one per backend × shape × thread count):
//   gemm/<backend>[/threads:T]/<m>x<n>x<k>   mlcore::backend(name)->gemm, f32, C = A·B
//   gemm_i8/<backend>[/threads:T]/<shape>     the int8 × int8 → int32 GEMM
//   eigen/threads:T/<shape>                   Eigen 3's product, same flags as a user would use
//   ladder/stepN/<shape>                      the lower steps of the AVX2 GEMM (gemm_avx2.hpp)
//   head2head/avx2_vs_eigen/threads:T/<shape> both, alternating call by call; on a shared machine
//                                             this is the comparison to trust (see below)
//   blocks/avx512_l1d48k_vs_32k/threads:T/<shape>  the avx512 SGEMM's two sets of cache blocks,
//                                             alternating (gemm_avx512.cpp picks one by L1d size)
//   head2head/amx_vs_vnni/threads:T/<shape>   the amx backend's int8 GEMM, the avx512 backend's
//                                             (VNNI) and the AMX tile-loop peak, round by round
//                                             (where the registry lists amx; bench/RESULTS.md)
// Shapes: square n = 256, 512, 1024, 2048 (scalar and systolic only up to 512: they are slow to
// run) and the tall-skinny 100000×64 · 64×64 of a linear model's X·W.
//
// Counters: GFLOP/s (2·m·n·k flops per call) and, for CPU backends, pct_peak = GFLOP/s as a
// percentage of the FMA peak measured at start-up on the same number of cores (printed first).
// Times are the backend's own record.seconds from its Profile (wall time on the CPU backends,
// CUDA events on cuda, simulated cycles / clock on systolic), so each backend is timed the way
// its profile reports it.
//
// On a machine shared with other work, separate benchmarks of mlcore and Eigen can run in
// different weather. head2head alternates the two call by call (mlcore first on even iterations,
// Eigen first on odd ones) and reports the median of the per-pair time ratio as `speedup`
// (Eigen's time ÷ mlcore's; > 1: mlcore is faster), plus each side's median GFLOP/s.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "bench_gemm_avx2.hpp"
#include "cpu/amx_backend.hpp"
#include "cpu/gemm_avx2.hpp"
#include "cpu/gemm_avx512.hpp"
#include "cpu/igemm_amx.hpp"
#include "mlcore/backends.hpp"
#include "mlcore/mlcore.hpp"

namespace {

using mlcore::BackendPtr;
using mlcore::DType;
using mlcore::Tensor;
using mlcore::Trans;

struct Shape {
  std::int64_t m, n, k;
  std::string label() const {
    return std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k);
  }
  double flops() const { return 2.0 * double(m) * double(n) * double(k); }
};

std::map<int, double> g_peak_gflops;  // threads → measured FMA peak

Tensor random_f32(std::int64_t rows, std::int64_t cols, unsigned seed) {
  Tensor t(rows, cols, DType::f32);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (std::int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

Tensor random_i8(std::int64_t rows, std::int64_t cols, unsigned seed) {
  Tensor t(rows, cols, DType::i8);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(-128, 127);
  for (std::int64_t i = 0; i < t.numel(); ++i) t.data<std::int8_t>()[i] = std::int8_t(dist(rng));
  return t;
}

// Sets GFLOP/s and, when a peak for `cpu_threads` is known (> 0), pct_peak.
void set_counters(benchmark::State& state, double flops, double seconds, int cpu_threads) {
  const double gflops = flops * double(state.iterations()) / seconds * 1e-9;
  state.counters["GFLOP/s"] = gflops;
  const auto peak = g_peak_gflops.find(cpu_threads);
  if (cpu_threads > 0 && peak != g_peak_gflops.end()) {
    state.counters["pct_peak"] = 100.0 * gflops / peak->second;
  }
}

// gemm through a Backend, timed by the backend's own profile record.
void bm_backend_gemm(benchmark::State& state, BackendPtr backend, Shape s, DType dtype,
                     int cpu_threads) {
  const bool int8 = dtype == DType::i8;
  Tensor A = backend->to_device(int8 ? random_i8(s.m, s.k, 1) : random_f32(s.m, s.k, 1));
  Tensor B = backend->to_device(int8 ? random_i8(s.k, s.n, 2) : random_f32(s.k, s.n, 2));
  Tensor C = backend->empty(s.m, s.n, int8 ? DType::i32 : DType::f32);
  backend->gemm(Trans::no, Trans::no, 1.0f, A, B, 0.0f, C);  // warm-up: buffers, caches, clocks
  mlcore::Profile profile;
  mlcore::ProfileScope scope(profile);
  double seconds = 0.0;
  for (auto _ : state) {
    profile.clear();
    backend->gemm(Trans::no, Trans::no, 1.0f, A, B, 0.0f, C);
    const double t = profile.records().back().seconds;
    state.SetIterationTime(t);
    seconds += t;
  }
  set_counters(state, s.flops(), seconds, cpu_threads);
}

// A raw-pointer GEMM (Eigen, the ladder steps), timed with the wall clock.
template <class Fn>
void bm_raw_gemm(benchmark::State& state, Shape s, int cpu_threads, Fn fn) {
  Tensor A = random_f32(s.m, s.k, 1), B = random_f32(s.k, s.n, 2), C(s.m, s.n);
  fn(A.data<float>(), B.data<float>(), C.data<float>());  // warm-up
  double seconds = 0.0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    fn(A.data<float>(), B.data<float>(), C.data<float>());
    const double t =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    benchmark::DoNotOptimize(C.data<float>());
    benchmark::ClobberMemory();
    state.SetIterationTime(t);
    seconds += t;
  }
  set_counters(state, s.flops(), seconds, cpu_threads);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

// Runs `first` and `second` alternately, one call each per iteration (first-first on even
// iterations, second-first on odd ones), and returns each one's median seconds and the median
// of the per-pair ratio second / first (> 1: first is faster). On a shared machine both calls
// of a pair see the same weather, so the ratio is the figure to trust.
struct PairTimes {
  double first, second, ratio;
};
template <class A, class B>
PairTimes alternate(benchmark::State& state, A&& first, B&& second) {
  auto timed = [](auto&& fn) {
    const auto start = std::chrono::steady_clock::now();
    fn();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  first();
  second();  // warm-up both
  std::vector<double> t_first, t_second, ratio;
  for (auto _ : state) {
    double a, b;
    if (t_first.size() % 2 == 0) {
      a = timed(first);
      b = timed(second);
    } else {
      b = timed(second);
      a = timed(first);
    }
    benchmark::ClobberMemory();
    t_first.push_back(a);
    t_second.push_back(b);
    ratio.push_back(b / a);
    state.SetIterationTime(a + b);
  }
  return {median(t_first), median(t_second), median(ratio)};
}

void bm_head2head(benchmark::State& state, Shape s, int threads) {
  Tensor A = random_f32(s.m, s.k, 1), B = random_f32(s.k, s.n, 2), C(s.m, s.n);
  auto ours = [&] {
    mlcore::cpu::sgemm_avx2(false, false, s.m, s.n, s.k, 1.0f, A.data<float>(), s.k,
                            B.data<float>(), s.n, 0.0f, C.data<float>(), s.n, threads);
  };
  auto eigen = [&] {
    mlcore::bench::eigen_sgemm(s.m, s.n, s.k, A.data<float>(), B.data<float>(), C.data<float>(),
                               threads);
  };
  const PairTimes t = alternate(state, ours, eigen);
  state.counters["avx2_GFLOP/s"] = s.flops() / t.first * 1e-9;
  state.counters["eigen_GFLOP/s"] = s.flops() / t.second * 1e-9;
  state.counters["speedup"] = t.ratio;
  const auto peak = g_peak_gflops.find(threads);
  if (peak != g_peak_gflops.end()) {
    state.counters["avx2_pct_peak"] = 100.0 * s.flops() / t.first * 1e-9 / peak->second;
  }
}

// The avx512 SGEMM's two sets of cache blocks (gemm_avx512.cpp) on this machine, alternated:
// `speedup` > 1 means the 48 KiB-L1d blocks (KC = 256) are faster here than the 32 KiB ones.
void bm_avx512_blocks(benchmark::State& state, Shape s, int threads) {
  using mlcore::cpu::L1dClass;
  Tensor A = random_f32(s.m, s.k, 1), B = random_f32(s.k, s.n, 2), C(s.m, s.n);
  auto with = [&](L1dClass l1d) {
    return [&, l1d] {
      mlcore::cpu::sgemm_avx512_blocked_for(l1d, false, false, s.m, s.n, s.k, 1.0f, A.data<float>(),
                                            s.k, B.data<float>(), s.n, 0.0f, C.data<float>(), s.n,
                                            threads);
    };
  };
  const PairTimes t = alternate(state, with(L1dClass::k48KiB), with(L1dClass::k32KiB));
  state.counters["l1d48k_GFLOP/s"] = s.flops() / t.first * 1e-9;
  state.counters["l1d32k_GFLOP/s"] = s.flops() / t.second * 1e-9;
  state.counters["speedup"] = t.ratio;
}

// The AMX targets of issue 14 in one run: each round times the amx backend's int8 GEMM, the
// avx512 backend's (VNNI vpdpbusd) and the tile unit's peak (measure_amx_int8_peak: four tdpbssd
// chains on resident tiles per thread), so a neighbour's load falls on all three alike; the
// counters are medians over rounds of each rate and of the per-round ratios.
void bm_amx_vs_vnni(benchmark::State& state, Shape s, int threads) {
  mlcore::AmxOptions options;
  options.num_threads = threads;
  BackendPtr amx = mlcore::make_amx_backend(options);
  BackendPtr vnni = mlcore::make_avx512_backend(threads);
  Tensor A = random_i8(s.m, s.k, 1), B = random_i8(s.k, s.n, 2), C(s.m, s.n, DType::i32);
  auto timed = [&](const BackendPtr& b) {
    const auto start = std::chrono::steady_clock::now();
    b->gemm(Trans::no, Trans::no, 1.0f, A, B, 0.0f, C);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  timed(amx);
  timed(vnni);  // warm-up both
  std::vector<double> t_amx, t_vnni, peak, pct, speedup;
  for (auto _ : state) {
    const double a = timed(amx), v = timed(vnni);
    const double p = 2.0 * mlcore::cpu::measure_amx_int8_peak(threads);  // int8 ops/s
    benchmark::DoNotOptimize(C.data<std::int32_t>());
    t_amx.push_back(a);
    t_vnni.push_back(v);
    peak.push_back(p);
    pct.push_back(100.0 * s.flops() / a / p);
    speedup.push_back(v / a);
    state.SetIterationTime(a + v);
  }
  state.counters["amx_TOP/s"] = s.flops() / median(t_amx) * 1e-12;
  state.counters["vnni_TOP/s"] = s.flops() / median(t_vnni) * 1e-12;
  state.counters["peak_TOP/s"] = median(peak) * 1e-12;
  state.counters["amx_pct_peak"] = median(pct);
  state.counters["amx_over_vnni"] = median(speedup);
}

void register_all() {
  const std::vector<Shape> squares = {
      {256, 256, 256}, {512, 512, 512}, {1024, 1024, 1024}, {2048, 2048, 2048}};
  const Shape tall{100000, 64, 64};
  const bool avx2 = mlcore::cpu_supports_avx2();
  const int cores = std::max(1, omp_get_num_procs());
  std::vector<int> thread_counts = {1};
  if (cores > 1) thread_counts.push_back(cores);

  auto reg = [](const std::string& name, auto fn) {
    benchmark::RegisterBenchmark(name.c_str(), fn)->UseManualTime()->Unit(benchmark::kMillisecond);
  };

  for (const std::string& name : mlcore::available_backends()) {
    // (label suffix, backend instance, cores it uses: 0 = not a CPU backend, no % of peak)
    std::vector<std::tuple<std::string, BackendPtr, int>> variants;
    if (name == "avx2") {
      for (int t : thread_counts) {
        variants.emplace_back("/threads:" + std::to_string(t), mlcore::make_avx2_backend(t), t);
      }
    } else {
      variants.emplace_back("", mlcore::backend(name), name == "scalar" ? 1 : 0);
    }
    const bool slow = name == "scalar" || name == "systolic";
    for (const auto& [suffix, backend, cpu_threads] : variants) {
      std::vector<Shape> shapes;
      for (const Shape& s : squares) {
        if (!slow || s.n <= 512) shapes.push_back(s);
      }
      shapes.push_back(tall);
      for (const Shape& s : shapes) {
        BackendPtr b = backend;
        const int ct = cpu_threads;
        reg("gemm/" + name + suffix + "/" + s.label(),
            [b, s, ct](benchmark::State& st) { bm_backend_gemm(st, b, s, DType::f32, ct); });
      }
      for (const Shape& s : {Shape{512, 512, 512}, Shape{1024, 1024, 1024}}) {
        if (slow && s.n > 512) continue;
        BackendPtr b = backend;
        reg("gemm_i8/" + name + suffix + "/" + s.label(),
            [b, s](benchmark::State& st) { bm_backend_gemm(st, b, s, DType::i8, 0); });
      }
    }
  }

  if (mlcore::cpu_supports_avx512()) {
    for (int t : thread_counts) {
      for (const Shape& s : {Shape{1024, 1024, 1024}, Shape{2048, 2048, 2048}}) {
        reg("blocks/avx512_l1d48k_vs_32k/threads:" + std::to_string(t) + "/" + s.label(),
            [s, t](benchmark::State& st) { bm_avx512_blocks(st, s, t); });
      }
    }
  }

  if (mlcore::cpu::amx_backend_unavailable_reason().empty()) {
    for (int t : thread_counts) {
      for (const Shape& s : {Shape{1024, 1024, 1024}, Shape{2048, 2048, 2048}}) {
        reg("head2head/amx_vs_vnni/threads:" + std::to_string(t) + "/" + s.label(),
            [s, t](benchmark::State& st) { bm_amx_vs_vnni(st, s, t); });
      }
    }
  }

  if (!avx2) return;  // Eigen (built with -mavx2 -mfma here) and the ladder need AVX2
  for (int t : thread_counts) {
    std::vector<Shape> shapes = squares;
    shapes.push_back(tall);
    for (const Shape& s : shapes) {
      reg("eigen/threads:" + std::to_string(t) + "/" + s.label(), [s, t](benchmark::State& st) {
        bm_raw_gemm(st, s, t, [&](const float* A, const float* B, float* C) {
          mlcore::bench::eigen_sgemm(s.m, s.n, s.k, A, B, C, t);
        });
      });
    }
  }
  for (int t : thread_counts) {
    for (const Shape& s : {Shape{1024, 1024, 1024}, Shape{2048, 2048, 2048}, tall}) {
      reg("head2head/avx2_vs_eigen/threads:" + std::to_string(t) + "/" + s.label(),
          [s, t](benchmark::State& st) { bm_head2head(st, s, t); });
    }
  }
  namespace ladder = mlcore::cpu::gemm_avx2_ladder;
  using Step =
      void (*)(std::int64_t, std::int64_t, std::int64_t, const float*, const float*, float*);
  const std::pair<const char*, Step> steps[] = {
      {"step1_vectorized_loops", ladder::step1_vectorized_loops},
      {"step2_register_blocked", ladder::step2_register_blocked},
      {"step3_packed_blocked", ladder::step3_packed_blocked}};
  for (const Shape& s : {Shape{512, 512, 512}, Shape{1024, 1024, 1024}}) {
    for (const auto& [label, step] : steps) {
      Step f = step;
      reg(std::string("ladder/") + label + "/" + s.label(), [s, f](benchmark::State& st) {
        bm_raw_gemm(st, s, 1,
                    [&](const float* A, const float* B, float* C) { f(s.m, s.n, s.k, A, B, C); });
      });
    }
    reg("ladder/step4_threads:" + std::to_string(cores) + "/" + s.label(),
        [s, cores](benchmark::State& st) {
          bm_raw_gemm(st, s, cores, [&](const float* A, const float* B, float* C) {
            mlcore::cpu::sgemm_avx2(false, false, s.m, s.n, s.k, 1.0f, A, s.k, B, s.n, 0.0f, C, s.n,
                                    cores);
          });
        });
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  if (mlcore::cpu_supports_avx2()) {
    const int cores = std::max(1, omp_get_num_procs());
    for (int t : {1, cores}) {
      g_peak_gflops[t] = mlcore::bench::measure_fma_peak_gflops(t);
      benchmark::AddCustomContext("fma_peak_gflops_threads_" + std::to_string(t),
                                  std::to_string(g_peak_gflops[t]));
      std::fprintf(stderr, "FMA peak (AVX2, %d thread%s): %.1f GFLOP/s\n", t, t > 1 ? "s" : "",
                   g_peak_gflops[t]);
    }
  }
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
