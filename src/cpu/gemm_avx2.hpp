// The avx2 backend's SGEMM, built the GotoBLAS / BLIS way (packing + cache blocking +
// a register-blocked FMA micro-kernel + threads). The code is in gemm_avx2.cpp, the only file
// compiled with -mavx2 -mfma; this header is plain C++ so baseline-compiled files may include it.
// docs/AVX2_GEMM.md derives the block sizes below from the cache sizes.
#pragma once

#include <cstdint>

namespace mlcore::cpu {

// Block sizes of sgemm_avx2 (the derivation is in gemm_avx2.cpp, beside the code that uses them).
struct GemmAvx2Blocking {
  static constexpr int kMR = 6;    // micro-tile rows      (6 × 2 = 12 ymm accumulators)
  static constexpr int kNR = 16;   // micro-tile columns   (2 ymm of 8 floats)
  static constexpr int kKC = 256;  // depth of a packed panel: B micro-panel KC×NR = 16 KiB ≈ ½ L1d
  static constexpr int kMC =
      144;  // rows of a packed A block: MC×KC = 144 KiB ≤ ½ L2 (Zen 3: 512 KiB)
  static constexpr int kNC = 4080;  // cols of the packed B panel: KC×NC ≈ 4 MiB ≪ L3
};

// C (m × n, row stride ldc) ← alpha·op(A)·op(B) + beta·C, everything row-major.
//   op(A) is m × k: A is stored m × k (lda ≥ k) when !trans_a, k × m (lda ≥ m) when trans_a.
//   op(B) is k × n: B is stored k × n (ldb ≥ n) when !trans_b, n × k (ldb ≥ k) when trans_b.
// beta == 0 means C's old contents are ignored (even NaN or Inf). num_threads ≥ 1 is an upper
// bound: small products use fewer threads. C must not overlap A or B. Called from inside an
// OpenMP parallel region it runs on the calling thread only (nested parallelism off).
// Requires a CPU with AVX2 and FMA (the caller checks; see Avx2Backend).
void sgemm_avx2(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
                float alpha, const float* A, std::int64_t lda, const float* B, std::int64_t ldb,
                float beta, float* C, std::int64_t ldc, int num_threads);

// C (m × n, i32, row stride ldc) ← op(A)·op(B) + (accumulate ? C : 0) with int8 A and B and
// exact int32 arithmetic (no overflow while k < 2³¹/2¹⁴ = 131072). Shapes and transposes as in
// sgemm_avx2. The code is in igemm_avx2.cpp (the same packing + register tile idea with
// _mm256_madd_epi16: 16 int8×int8 products per instruction).
void igemm_avx2(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
                const std::int8_t* A, std::int64_t lda, const std::int8_t* B, std::int64_t ldb,
                bool accumulate, std::int32_t* C, std::int64_t ldc, int num_threads);

// The ladder of versions (STYLE.md 2): each step adds one idea to the previous one. Only
// sgemm_avx2 above is on the library path; these are kept for the benchmark and the notebooks.
// All three compute C (m × n, ldc = n) ← A (m × k, lda = k) · B (k × n, ldb = n), no transposes,
// no alpha/beta, one thread.
namespace gemm_avx2_ladder {
// Step 1: the i-p-j loop nest with the j loop in ymm registers (one broadcast of A[i,p] times
// 8 floats of B's row p, FMA into 8 floats of C's row i).
void step1_vectorized_loops(std::int64_t m, std::int64_t n, std::int64_t k, const float* A,
                            const float* B, float* C);
// Step 2: + register blocking: a 6×16 tile of C lives in 12 ymm accumulators for the whole k
// loop, reading A and B straight from the (unpacked) matrices.
void step2_register_blocked(std::int64_t m, std::int64_t n, std::int64_t k, const float* A,
                            const float* B, float* C);
// Step 3: + packing and MC/KC/NC cache blocking (= sgemm_avx2 with num_threads = 1).
void step3_packed_blocked(std::int64_t m, std::int64_t n, std::int64_t k, const float* A,
                          const float* B, float* C);
}  // namespace gemm_avx2_ladder

}  // namespace mlcore::cpu
