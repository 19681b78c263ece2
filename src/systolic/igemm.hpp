// The functional half of the analytic mode: the exact int8 × int8 → int32 product the array
// would compute, as fast as the host allows. (The array's result does not depend on the order
// of the additions: integer addition is associative, so any blocking gives the same bits.)
//
// Both kernels work on the same packed operands, built the GotoBLAS way:
//   Ap  (m rounded up to kMR) × kp2 int32: each int32 holds the int16 pair (A[i, 2q], A[i, 2q+1])
//   Bp  one panel per 16 columns, kp2 × 16 × 2 int16: (B[2q, j], B[2q+1, j]) side by side
// so that one AVX2 vpmaddwd multiplies a broadcast pair of A by the pairs of 8 columns of B
// and adds each column's two products: 16 MACs per instruction, exact in int32
// (|a·b| ≤ 2^14, two of them ≤ 2^15).
#pragma once

#include <cstdint>

namespace mlcore::systolic {

constexpr int kIgemmMR = 6;   // micro-tile rows: 6 × 2 ymm accumulators = 12 of the 16 ymm
constexpr int kIgemmNR = 16;  // micro-tile columns: 2 ymm of 8 int32
constexpr int kIgemmMC = 96;  // rows per thread block: 96 × K × 2 B ≈ 192 KiB at K = 1024 (L2)

// ctile (kIgemmMR × kIgemmNR, row-major) = Σ_q Ap[r, q] ⊙ Bpanel[q] for q < kp2.
// ap points at the first of kIgemmMR rows of Ap, each `ap_stride` int32 apart.
void igemm_microkernel_scalar(std::int64_t kp2, const std::int32_t* ap, std::int64_t ap_stride,
                              const std::int16_t* bpanel, std::int32_t* ctile);
void igemm_microkernel_avx2(std::int64_t kp2, const std::int32_t* ap, std::int64_t ap_stride,
                            const std::int16_t* bpanel, std::int32_t* ctile);

// C (m × n, row stride ldc) = A (m × k, row stride lda) · B (k × n, row stride ldb), exact
// modulo 2^32 like any int32 accumulator. Picks the AVX2 kernel when the CPU has it; runs on
// `num_threads` OpenMP threads (0: all).
void igemm_fast(std::int64_t m, std::int64_t n, std::int64_t k, const std::int8_t* A,
                std::int64_t lda, const std::int8_t* B, std::int64_t ldb, std::int32_t* C,
                std::int64_t ldc, int num_threads);

}  // namespace mlcore::systolic
