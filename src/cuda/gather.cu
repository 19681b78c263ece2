// gather_rows: Y[i, :] = X[index[i], :] for rows of any element type, as a byte copy. Threads
// walk the flat (output row, word) space so a warp copies consecutive words of a row; 4-byte
// words when the row length and both bases allow it (f32 and i32 always do), bytes otherwise
// (odd-length i8 rows). Index validity is checked before (index_check.cu).
#include "device_util.cuh"
#include "kernels.hpp"

namespace mlcore::cuda {

namespace {

template <class Word>
__global__ void gather_rows_kernel(i64 rows_out, i64 row_words,
                                   const std::int32_t* __restrict__ index,
                                   const Word* __restrict__ X, Word* __restrict__ Y) {
  const i64 count = rows_out * row_words;
  for (i64 e = static_cast<i64>(blockIdx.x) * blockDim.x + threadIdx.x; e < count;
       e += static_cast<i64>(gridDim.x) * blockDim.x) {
    const i64 i = e / row_words, w = e - i * row_words;
    Y[e] = X[static_cast<i64>(index[i]) * row_words + w];
  }
}

}  // namespace

void gather_rows(i64 rows_out, i64 row_bytes, const std::int32_t* index, const void* X, void* Y,
                 cudaStream_t stream) {
  if (rows_out == 0 || row_bytes == 0) return;
  if (row_bytes % 4 == 0 && is_aligned(X, 4) && is_aligned(Y, 4)) {
    const i64 words = row_bytes / 4;
    gather_rows_kernel<std::uint32_t><<<grid_for(rows_out * words, 256), 256, 0, stream>>>(
        rows_out, words, index, static_cast<const std::uint32_t*>(X),
        static_cast<std::uint32_t*>(Y));
  } else {
    gather_rows_kernel<std::uint8_t><<<grid_for(rows_out * row_bytes, 256), 256, 0, stream>>>(
        rows_out, row_bytes, index, static_cast<const std::uint8_t*>(X),
        static_cast<std::uint8_t*>(Y));
  }
  MLCORE_CUDA_CHECK_LAUNCH();
}

}  // namespace mlcore::cuda
