// The avx2 backend's scatter_add and gather_rows; compiled with -mavx2
// -mfma. The lessons these memory-bound kernels share are in primitives_avx2.hpp.
#include <immintrin.h>

#include <cstring>

#include "cpu_parallel.hpp"
#include "primitives_avx2.hpp"
#include "simd_avx2.hpp"

namespace mlcore::cpu {

namespace {

void scatter_rows(int64_t begin, int64_t end, int64_t p, int64_t c, const int32_t* index,
                  const float* X, float* out) {
  for (int64_t i = begin; i < end; ++i) {
    for (int64_t q = 0; q < p; ++q) {
      const int32_t target = index[i * p + q];
      if (target >= 0) add_row(out + target * c, X + i * c, c);
    }
  }
}

}  // namespace

void scatter_add_avx2(int64_t n, int64_t p, int64_t c, const int32_t* index, const float* X,
                      int64_t out_rows, float* out, int threads) {
  // Two samples may hit the same output row, so threads cannot share `out`. Each block of
  // samples (cut by size: reduction_blocks) scatters into a private zeroed copy, and the copies
  // are added into `out` in block order, so the result does not depend on the thread count.
  // Worth it only when the scatter work (n·p·c) dwarfs the copies (blocks·m·c), as in k-means
  // (few centroids, many samples); that choice too depends on sizes alone.
  const int64_t work = n * p * c, copies = out_rows * c;
  int64_t blocks = reduction_blocks(n, p * c);
  if (work < 4 * copies * blocks) blocks = 1;
  if (blocks <= 1) {
    scatter_rows(0, n, p, c, index, X, out);
    return;
  }
  std::vector<float> priv(static_cast<std::size_t>(blocks) * copies, 0.0f);
  parallel_blocks(n, blocks, threads, [&](int64_t blk, int64_t begin, int64_t end) {
    scatter_rows(begin, end, p, c, index, X, priv.data() + blk * copies);
  });
  for (int64_t blk = 0; blk < blocks; ++blk) add_row(out, priv.data() + blk * copies, copies);
}

void gather_rows_avx2(int64_t m, int64_t row_bytes, const void* X, const int32_t* index, void* Y,
                      int threads) {
  const char* x = static_cast<const char*>(X);
  char* y = static_cast<char*>(Y);
  parallel_ranges(m, std::max<int64_t>(1, row_bytes / 4), threads,
                  [&](int, int64_t begin, int64_t end) {
                    for (int64_t i = begin; i < end; ++i) {
                      std::memcpy(y + i * row_bytes, x + index[i] * row_bytes, row_bytes);
                    }
                  });
}

}  // namespace mlcore::cpu
