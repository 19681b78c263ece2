// The avx512 backend's GEMMs: an SGEMM on zmm FMAs (gemm_avx512.cpp) and an int8 GEMM on AVX-512
// VNNI's vpdpbusd (igemm_avx512.cpp). The code is compiled with the AVX-512 flags; this header
// is plain C++ so baseline-compiled files may include it. Both run the shared loops of
// gemm_driver.hpp with their own block sizes, packing and micro-kernels.
#pragma once

#include <cstdint>

namespace mlcore::cpu {

// Block sizes of sgemm_avx512 (derived in gemm_avx512.cpp beside the code that uses them). The
// register tile and NC are fixed; the packed depth KC and the A block's height MC follow the
// core's L1d: KC = 128, MC = 448 for a 32 KiB L1d, KC = 256, MC = 224 for 48 KiB.
struct GemmAvx512Blocking {
  static constexpr int kMR = 14;    // micro-tile rows      (14 × 2 = 28 zmm accumulators)
  static constexpr int kNR = 32;    // micro-tile columns   (2 zmm of 16 floats)
  static constexpr int kNC = 8192;  // B panel columns: KC × 8192 × 4 B ≤ 8 MiB, shared in L3
};

// The two L1d sizes sgemm_avx512 has blocks for (the smaller one also serves smaller caches).
enum class L1dClass { k32KiB, k48KiB };

// C (m × n, row stride ldc) ← alpha·op(A)·op(B) + beta·C, everything row-major; shapes,
// transposes, beta == 0 and threads exactly as sgemm_avx2 (gemm_avx2.hpp). Requires AVX-512F
// (the caller checks; see the avx512 backend). Blocked for this core's L1d (host_cache_sizes).
void sgemm_avx512(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
                  float alpha, const float* A, std::int64_t lda, const float* B, std::int64_t ldb,
                  float beta, float* C, std::int64_t ldc, int num_threads);

// The same product blocked for the given L1d whatever this core has, so the tests run both sets
// of blocks on any machine.
void sgemm_avx512_blocked_for(L1dClass l1d, bool trans_a, bool trans_b, std::int64_t m,
                              std::int64_t n, std::int64_t k, float alpha, const float* A,
                              std::int64_t lda, const float* B, std::int64_t ldb, float beta,
                              float* C, std::int64_t ldc, int num_threads);

// C (i32) ← op(A)·op(B) (+ C when accumulate), int8 A and B, exact int32 arithmetic (for
// k < 2³¹/2¹⁴ = 131072, as igemm_avx2). Requires AVX-512F/BW and VNNI.
void igemm_avx512(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
                  const std::int8_t* A, std::int64_t lda, const std::int8_t* B, std::int64_t ldb,
                  bool accumulate, std::int32_t* C, std::int64_t ldc, int num_threads);

}  // namespace mlcore::cpu
