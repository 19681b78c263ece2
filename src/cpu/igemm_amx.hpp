// The int8 GEMM on Intel AMX tiles (igemm_amx_loops.hpp explains the tile unit and the loops).
// Plain C++: callable from baseline-compiled code once amx_unavailable_reason() is empty.
#pragma once

#include <cstdint>
#include <string>

namespace mlcore::cpu {

// Empty when this process may run AMX int8 tile instructions, otherwise why not: the build's
// compiler lacks AMX, the CPU lacks AMX-TILE / AMX-INT8, the OS does not save tile state (XCR0),
// Linux refused the process permission to use tile data (arch_prctl ARCH_REQ_XCOMP_PERM, asked
// here once per process), or the kernel's self-test — run once, in a forked child, so that a
// fault cannot take the caller down — did not reproduce the scalar GEMM bit for bit.
std::string amx_unavailable_reason();

// C (i32) ← op(A)·op(B) (+ C when accumulate), int8 A and B, exact while |op(A)·op(B)| < 2³¹
// (k < 131072). Shapes and strides as igemm_avx2 (gemm_avx2.hpp). Needs
// amx_unavailable_reason() to be empty.
void igemm_amx(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
               const std::int8_t* A, std::int64_t lda, const std::int8_t* B, std::int64_t ldb,
               bool accumulate, std::int32_t* C, std::int64_t ldc, int threads);

// int8 MACs/s of `threads` cores running independent tile multiplies on resident tiles: the
// ceiling the AMX GEMM is measured against (bench/bench_avx512.py). Needs
// amx_unavailable_reason() to be empty.
double measure_amx_int8_peak(int threads);

// The same loops on a plain-C++ model of the tile unit (the tiles as arrays, tdpbssd as its
// defining sum): runs anywhere, so the tests check the packing and the loops on every machine.
void igemm_amx_emulated(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
                        const std::int8_t* A, std::int64_t lda, const std::int8_t* B,
                        std::int64_t ldb, bool accumulate, std::int32_t* C, std::int64_t ldc,
                        int threads);

}  // namespace mlcore::cpu
