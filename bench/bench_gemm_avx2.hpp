// Helpers of bench_gemm compiled with -mavx2 -mfma (bench_gemm_avx2.cpp). Call them only on a
// CPU with AVX2 and FMA (mlcore::cpu_supports_avx2()).
#pragma once

#include <cstdint>

namespace mlcore::bench {

// This machine's single-precision FMA peak on `threads` cores, in GFLOP/s: independent ymm FMA
// chains, no memory traffic, best of 7 short runs.
double measure_fma_peak_gflops(int threads);

// C (m × n) = A (m × k) · B (k × n), row-major, with Eigen on `threads` threads.
void eigen_sgemm(std::int64_t m, std::int64_t n, std::int64_t k, const float* A, const float* B,
                 float* C, int threads);

}  // namespace mlcore::bench
