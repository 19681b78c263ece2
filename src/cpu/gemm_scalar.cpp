#include "gemm_scalar.hpp"

#include "mlcore/interrupt.hpp"

namespace mlcore::cpu {

void sgemm_scalar(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
                  float alpha, const float* A, std::int64_t lda, const float* B, std::int64_t ldb,
                  float beta, float* C, std::int64_t ldc) {
  // op(A)(i, p) and op(B)(p, j), whichever way the operands are stored.
  auto a = [&](std::int64_t i, std::int64_t p) {
    return trans_a ? A[p * lda + i] : A[i * lda + p];
  };
  auto b = [&](std::int64_t p, std::int64_t j) {
    return trans_b ? B[j * ldb + p] : B[p * ldb + j];
  };
  for (std::int64_t i = 0; i < m; ++i) {
    check_interrupt();  // a row of C is a point where a long call can stop (interrupt.hpp)
    for (std::int64_t j = 0; j < n; ++j) {
      // C[i, j] = alpha · Σ_p op(A)[i, p] · op(B)[p, j] + beta · C[i, j]
      float sum = 0.0f;
      for (std::int64_t p = 0; p < k; ++p) sum += a(i, p) * b(p, j);
      float& c = C[i * ldc + j];
      c = alpha * sum + (beta == 0.0f ? 0.0f : beta * c);
    }
  }
}

void igemm_scalar(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
                  const std::int8_t* A, std::int64_t lda, const std::int8_t* B, std::int64_t ldb,
                  bool accumulate, std::int32_t* C, std::int64_t ldc) {
  auto a = [&](std::int64_t i, std::int64_t p) {
    return trans_a ? A[p * lda + i] : A[i * lda + p];
  };
  auto b = [&](std::int64_t p, std::int64_t j) {
    return trans_b ? B[j * ldb + p] : B[p * ldb + j];
  };
  for (std::int64_t i = 0; i < m; ++i) {
    check_interrupt();
    for (std::int64_t j = 0; j < n; ++j) {
      // Each product of two int8 values fits in 15 bits; an int32 sum of k of them cannot
      // overflow while k < 2^31 / 2^14 = 131072 (the same bound a TPU's accumulators rely on).
      std::int32_t sum = 0;
      for (std::int64_t p = 0; p < k; ++p) {
        sum += static_cast<std::int32_t>(a(i, p)) * static_cast<std::int32_t>(b(p, j));
      }
      std::int32_t& c = C[i * ldc + j];
      c = accumulate ? c + sum : sum;
    }
  }
}

}  // namespace mlcore::cpu
