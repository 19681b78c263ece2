// The host's exact int8 GEMM: the fastest of the CPU backends' int8 kernels this machine can run,
// chosen once per process (AMX tiles, else avx512's VNNI vpdpbusd, else avx2's vpmaddwd, else
// the scalar reference). One int8 CPU GEMM serves both the CPU backends and the systolic simulator,
// whose analytic mode needs the exact int32 product its array would compute: integer addition is
// associative, so any blocking gives the array's bits.
#pragma once

#include <cstdint>

namespace mlcore::cpu {

// C (i32) ← op(A)·op(B) (+ C when accumulate), int8 A and B, exact in int32 for k < 131072
// (|a·b| ≤ 2^14). Shapes and strides as igemm_avx2 (gemm_avx2.hpp); num_threads 0: the default.
void igemm_host(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
                const std::int8_t* A, std::int64_t lda, const std::int8_t* B, std::int64_t ldb,
                bool accumulate, std::int32_t* C, std::int64_t ldc, int num_threads);

// Which kernel igemm_host runs here: "amx", "avx512_vnni", "avx2" or "scalar".
const char* igemm_host_kernel();

}  // namespace mlcore::cpu
