// The baseline int8 micro-kernel: plain loops over the packed pairs (the compiler may use SSE2's
// pmaddwd for them). Used on CPUs without AVX2, and the reference for igemm_avx2.cpp.
#include <cstring>

#include "igemm.hpp"

namespace mlcore::systolic {

void igemm_microkernel_scalar(std::int64_t kp2, const std::int32_t* ap, std::int64_t ap_stride,
                              const std::int16_t* bpanel, std::int32_t* ctile) {
  // Unsigned accumulators: a 32-bit register wraps modulo 2^32, as the vpaddd of the AVX2
  // kernel does (signed overflow would be undefined behaviour in C++).
  std::uint32_t c[kIgemmMR][kIgemmNR] = {};
  for (std::int64_t q = 0; q < kp2; ++q) {
    const std::int16_t* b = bpanel + q * kIgemmNR * 2;  // 16 columns × (B[2q, j], B[2q+1, j])
    for (int r = 0; r < kIgemmMR; ++r) {
      const std::int32_t pair = ap[r * ap_stride + q];
      const std::int32_t a0 = static_cast<std::int16_t>(pair & 0xFFFF);
      const std::int32_t a1 = static_cast<std::int16_t>(static_cast<std::uint32_t>(pair) >> 16);
      for (int j = 0; j < kIgemmNR; ++j) {
        c[r][j] += static_cast<std::uint32_t>(a0 * b[2 * j] + a1 * b[2 * j + 1]);
      }
    }
  }
  std::memcpy(ctile, c, sizeof(c));
}

}  // namespace mlcore::systolic
