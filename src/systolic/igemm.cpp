// Packing, blocking and threading of the exact int8 GEMM; the micro-kernels are in
// igemm_microkernel.cpp (baseline) and igemm_avx2.cpp (the only file built with -mavx2).
#include "igemm.hpp"

#include <algorithm>
#include <vector>

#include "mlcore/backends.hpp"
#include "mlcore/parallel.hpp"

namespace mlcore::systolic {

void igemm_fast(std::int64_t m, std::int64_t n, std::int64_t k, const std::int8_t* A,
                std::int64_t lda, const std::int8_t* B, std::int64_t ldb, std::int32_t* C,
                std::int64_t ldc, int num_threads) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    for (std::int64_t i = 0; i < m; ++i) std::fill_n(C + i * ldc, n, 0);
    return;
  }
  const std::int64_t kp2 = (k + 1) / 2;  // pairs along k (k padded to even)
  const std::int64_t mp = (m + kIgemmMR - 1) / kIgemmMR * kIgemmMR;  // rows padded to MR
  const std::int64_t panels = (n + kIgemmNR - 1) / kIgemmNR;

  // Ap (mp × kp2): the pair (A[i, 2q], A[i, 2q+1]) as the low and high int16 of one int32.
  std::vector<std::int32_t> ap(static_cast<std::size_t>(mp * kp2), 0);
  for (std::int64_t i = 0; i < m; ++i) {
    const std::int8_t* a = A + i * lda;
    std::int32_t* out = ap.data() + i * kp2;
    for (std::int64_t q = 0; q < kp2; ++q) {
      const std::int16_t lo = a[2 * q];
      const std::int16_t hi = 2 * q + 1 < k ? a[2 * q + 1] : std::int16_t{0};
      out[q] = static_cast<std::int32_t>(
          static_cast<std::uint16_t>(lo) |
          (static_cast<std::uint32_t>(static_cast<std::uint16_t>(hi)) << 16));
    }
  }
  // Bp: panel jp, pair q, column j, half h  at  ((jp · kp2 + q) · 16 + j) · 2 + h.
  std::vector<std::int16_t> bp(static_cast<std::size_t>(panels * kp2 * kIgemmNR * 2), 0);
  for (std::int64_t p = 0; p < k; ++p) {
    const std::int64_t q = p / 2, h = p % 2;
    for (std::int64_t j = 0; j < n; ++j) {
      const std::int64_t jp = j / kIgemmNR, jj = j % kIgemmNR;
      bp[((jp * kp2 + q) * kIgemmNR + jj) * 2 + h] = B[p * ldb + j];
    }
  }

  // The kernel is chosen once per call, never inside the loop (STYLE.md 5).
  const auto kernel = cpu_supports_avx2() ? igemm_microkernel_avx2 : igemm_microkernel_scalar;
  const int threads = num_threads > 0 ? num_threads : mlcore::num_threads();
  const std::int64_t blocks = (mp + kIgemmMC - 1) / kIgemmMC;
  // Loop nest: for each MC block of rows (one per thread at a time; its Ap rows stay in L2),
  //   for each 16-column panel of B (K × 32 bytes, streamed from L3),
  //     for each 6-row micro-tile: a 6 × 16 tile of C from one pass over k.
  parallel::for_each(blocks, threads, [&](std::int64_t blk) {
    std::int32_t tile[kIgemmMR * kIgemmNR];
    const std::int64_t i_end = std::min(mp, (blk + 1) * kIgemmMC);
    for (std::int64_t jp = 0; jp < panels; ++jp) {
      const std::int16_t* panel = bp.data() + jp * kp2 * kIgemmNR * 2;
      const std::int64_t j0 = jp * kIgemmNR, nj = std::min<std::int64_t>(kIgemmNR, n - j0);
      for (std::int64_t i0 = blk * kIgemmMC; i0 < i_end; i0 += kIgemmMR) {
        kernel(kp2, ap.data() + i0 * kp2, kp2, panel, tile);
        const std::int64_t ni = std::min<std::int64_t>(kIgemmMR, m - i0);
        for (std::int64_t r = 0; r < ni; ++r) {
          std::copy_n(tile + r * kIgemmNR, nj, C + (i0 + r) * ldc + j0);
        }
      }
    }
  });
}

}  // namespace mlcore::systolic
