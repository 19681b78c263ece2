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

// The SGEMM's packing and micro-kernel, for a kernel that fuses its own epilogue with the product
// (sqdist_topk_avx512.cpp) and must round exactly as sgemm_avx512 does: the same packed layouts,
// the same k-steps in the same order, the same KC slices (for k > KC, the first slice stored with
// beta = 0 and each later one added with beta = 1, as the GEMM's loops do).
struct GemmAvx512Tiles {
  static constexpr int kMR = GemmAvx512Blocking::kMR, kNR = GemmAvx512Blocking::kNR;
  // The k-slice depth sgemm_avx512 uses on this core.
  static std::int64_t kc();
  // Whether sgemm_avx512 sums every C element slice after slice, in k order, for depth k on any
  // number of threads — false where it may split k across threads (gemm_driver.hpp) and add the
  // threads' partial sums, which rounds differently.
  static bool sums_in_slice_order(std::int64_t k);
  // ⌈rows / kMR⌉ packed micro-panels of kMR × kc from rows of A (row stride lda), zero-padded.
  static void pack_rows(const float* A, std::int64_t lda, std::int64_t rows, std::int64_t kc,
                        float* out);
  // Micro-panels [panel_begin, panel_end) of kc × kNR from the rows of B (n × ≥kc, stride ldb)
  // taken as columns (B's row j is column j of the panel), zero past row n; panel p starts at
  // out + p·kNR·kc.
  static void pack_columns(const float* B, std::int64_t ldb, std::int64_t kc, std::int64_t n,
                           std::int64_t panel_begin, std::int64_t panel_end, float* out);
  // C (kMR × kNR, row stride kNR) ← alpha · a_panel · b_panel + beta · C.
  static void tile(std::int64_t kc, const float* a_panel, const float* b_panel, float alpha,
                   float beta, float* C);
};

// C (i32) ← op(A)·op(B) (+ C when accumulate), int8 A and B, exact int32 arithmetic (for
// k < 2³¹/2¹⁴ = 131072, as igemm_avx2). Requires AVX-512F/BW and VNNI.
void igemm_avx512(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
                  const std::int8_t* A, std::int64_t lda, const std::int8_t* B, std::int64_t ldb,
                  bool accumulate, std::int32_t* C, std::int64_t ldc, int num_threads);

}  // namespace mlcore::cpu
