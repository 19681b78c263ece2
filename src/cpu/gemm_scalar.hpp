// The reference GEMMs: three nested loops, obviously right. Every faster GEMM in mlcore (AVX2,
// CUDA, the systolic array) is tested against these.
#pragma once

#include <cstdint>

namespace mlcore::cpu {

// C (m×n) ← alpha·op(A)·op(B) + beta·C, row-major with row strides lda, ldb, ldc.
// op(A) is m×k: A is stored m×k when !trans_a, k×m when trans_a (likewise B). beta == 0
// ignores C's old contents.
void sgemm_scalar(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
                  float alpha, const float* A, std::int64_t lda, const float* B, std::int64_t ldb,
                  float beta, float* C, std::int64_t ldc);

// C (m×n, i32) ← op(A)·op(B) + (accumulate ? C : 0), with int8 operands and exact int32
// accumulation: the arithmetic of int8 tensor cores and of a TPU's MAC array.
void igemm_scalar(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
                  const std::int8_t* A, std::int64_t lda, const std::int8_t* B, std::int64_t ldb,
                  bool accumulate, std::int32_t* C, std::int64_t ldc);

}  // namespace mlcore::cpu
