// The parts of bench_gemm that need -mavx2 -mfma (set for this file only, STYLE.md 5): the FMA
// peak probe and Eigen's product, compiled with the flags a user would give Eigen
// (-O3 -mavx2 -mfma -fopenmp), so the comparison with mlcore's AVX2 GEMM is like for like.
// bench_gemm.cpp calls these only after checking that the CPU has AVX2 and FMA.
#include "bench_gemm_avx2.hpp"

#include <immintrin.h>
#include <omp.h>

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <thread>

namespace mlcore::bench {

double measure_fma_peak_gflops(int threads) {
  // 12 independent accumulator chains per thread: 2 FMA ports × 4-cycle latency = 8 FMAs must be
  // in flight to fill both ports; 12 leaves margin. Each FMA is 8 lanes × 2 flops.
  constexpr int kChains = 12;
  constexpr long kIters = 8'000'000;  // ~40 ms per run at ~80 GFLOP/s per core
  double best = 0.0;
  // Best of 7 short runs, 50 ms apart: the peak is what the cores *can* do, so on a machine
  // shared with other work the runs that were interrupted are discarded, not averaged in.
  for (int run = 0; run < 7; ++run) {
    if (run > 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const auto start = std::chrono::steady_clock::now();
    float sink = 0.0f;
#pragma omp parallel num_threads(threads) reduction(+ : sink)
    {
      __m256 acc[kChains];
      for (int c = 0; c < kChains; ++c) acc[c] = _mm256_set1_ps(1.0f + 1e-3f * c);
      const __m256 mul = _mm256_set1_ps(0.999999f), add = _mm256_set1_ps(1e-6f);
      for (long it = 0; it < kIters; ++it) {
#pragma GCC unroll 12
        for (int c = 0; c < kChains; ++c) acc[c] = _mm256_fmadd_ps(acc[c], mul, add);
      }
      for (int c = 0; c < kChains; ++c) sink += _mm256_cvtss_f32(acc[c]);
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double flops = 2.0 * 8 * kChains * double(kIters) * threads;
    if (sink != 12345.0f) best = std::max(best, flops / seconds * 1e-9);  // sink keeps the loop
  }
  return best;
}

void eigen_sgemm(std::int64_t m, std::int64_t n, std::int64_t k, const float* A, const float* B,
                 float* C, int threads) {
  using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Eigen::setNbThreads(threads);
  Eigen::Map<const RowMajor> a(A, m, k), b(B, k, n);
  Eigen::Map<RowMajor> c(C, m, n);
  c.noalias() = a * b;  // C = A·B, Eigen's blocked, packed, threaded GEBP kernel
}

}  // namespace mlcore::bench
