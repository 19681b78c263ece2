// partition_rows: a tree node's row ids split stably into its children (Backend::partition_rows).
//
// A stable partition is a prefix sum: row k goes to (lefts before it) when it goes left, and
// to total_left + (rights before it) when it goes right. The GPU computes the prefix in three
// launches over tiles of kTile ids, one tile per block:
//   1. count:   each block counts its tile's lefts (__syncthreads_count);
//   2. scan:    one block turns the counts into each tile's first left slot (exclusive prefix
//               sum, the total at the end);
//   3. scatter: each block ranks its ids within the tile — a warp's lefts by a ballot and a
//               popcount of the lanes below, the warps' counts by a prefix over shared memory
//               — and writes every id to its slot in a scratch copy, copied back over `rows`.
// Reads of ids and writes of the outputs are coalesced (neighbouring threads, neighbouring
// ids and, within a side, neighbouring slots); the code reads are random (one byte per row,
// a 32-byte sector each), the same cost as the CPU's. The order is the reference's by
// construction, so every backend gives the same bits.
#include "device_util.cuh"
#include "kernels.hpp"

namespace mlcore::cuda {

namespace {

constexpr int kTile = 256;  // ids per block: 8 warps, one id per thread
constexpr int kWarps = kTile / 32;
static_assert(kTile % 32 == 0, "a tile is whole warps");
constexpr int kScanThreads = 1024;

__device__ __forceinline__ bool goes_left(std::uint8_t c, RowSplit s) {
  return c == s.missing_code ? s.missing_left : c <= s.bin;
}

__global__ void count_lefts_kernel(const std::uint8_t* __restrict__ code,
                                   const std::int32_t* __restrict__ ids, i64 m, RowSplit split,
                                   std::int32_t* __restrict__ counts) {
  const i64 k = static_cast<i64>(blockIdx.x) * kTile + threadIdx.x;
  const bool left = k < m && goes_left(code[ids[k]], split);
  const int n = __syncthreads_count(left);
  if (threadIdx.x == 0) counts[blockIdx.x] = n;
}

// first[b] = Σ counts[0..b), first[tiles] = the total; one block walks the tiles in chunks of
// kScanThreads, each chunk scanned in shared memory (Hillis–Steele) and carried to the next.
__global__ void scan_counts_kernel(const std::int32_t* __restrict__ counts, i64 tiles,
                                   i64* __restrict__ first) {
  __shared__ i64 buf[kScanThreads];
  i64 carry = 0;
  for (i64 base = 0; base < tiles; base += kScanThreads) {
    const i64 b = base + threadIdx.x;
    const i64 v = b < tiles ? counts[b] : 0;
    buf[threadIdx.x] = v;
    __syncthreads();
    for (int step = 1; step < kScanThreads; step *= 2) {
      const i64 add = threadIdx.x >= step ? buf[threadIdx.x - step] : 0;
      __syncthreads();
      buf[threadIdx.x] += add;
      __syncthreads();
    }
    if (b < tiles) first[b] = carry + buf[threadIdx.x] - v;  // exclusive
    carry += buf[kScanThreads - 1];
    __syncthreads();  // buf is rewritten by the next chunk
  }
  if (threadIdx.x == 0) first[tiles] = carry;
}

__global__ void scatter_kernel(const std::uint8_t* __restrict__ code,
                               const std::int32_t* __restrict__ ids, i64 m, RowSplit split,
                               const i64* __restrict__ first, i64 tiles,
                               std::int32_t* __restrict__ out) {
  __shared__ int warp_lefts[kWarps];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const i64 tile_begin = static_cast<i64>(blockIdx.x) * kTile;
  const i64 k = tile_begin + threadIdx.x;
  const bool valid = k < m;
  const std::int32_t id = valid ? ids[k] : 0;
  const bool left = valid && goes_left(code[id], split);
  const unsigned ballot = __ballot_sync(0xffffffffu, left);
  if (lane == 0) warp_lefts[warp] = __popc(ballot);
  __syncthreads();
  int rank = __popc(ballot & ((1u << lane) - 1u));  // lefts before this lane in its warp
  for (int w = 0; w < warp; ++w) rank += warp_lefts[w];
  if (!valid) return;
  const i64 lefts_before = first[blockIdx.x];
  if (left) {
    out[lefts_before + rank] = id;
  } else {
    // Rights before this id: those of earlier tiles, then of this tile before it.
    const i64 total_left = first[tiles];
    out[total_left + (tile_begin - lefts_before) + (threadIdx.x - rank)] = id;
  }
}

}  // namespace

i64 partition_rows(const std::uint8_t* code, const RowSplit& split, std::int32_t* ids, i64 m,
                   cudaStream_t stream, Workspace& workspace) {
  if (m == 0) return 0;
  const i64 tiles = (m + kTile - 1) / kTile;
  auto* counts = workspace.alloc<std::int32_t>(static_cast<std::size_t>(tiles));
  auto* first = workspace.alloc<i64>(static_cast<std::size_t>(tiles + 1));
  auto* out = workspace.alloc<std::int32_t>(static_cast<std::size_t>(m));
  count_lefts_kernel<<<static_cast<unsigned>(tiles), kTile, 0, stream>>>(code, ids, m, split,
                                                                         counts);
  MLCORE_CUDA_CHECK_LAUNCH();
  scan_counts_kernel<<<1, kScanThreads, 0, stream>>>(counts, tiles, first);
  MLCORE_CUDA_CHECK_LAUNCH();
  scatter_kernel<<<static_cast<unsigned>(tiles), kTile, 0, stream>>>(code, ids, m, split, first,
                                                                     tiles, out);
  MLCORE_CUDA_CHECK_LAUNCH();
  MLCORE_CUDA_CHECK(cudaMemcpyAsync(ids, out, sizeof(std::int32_t) * static_cast<std::size_t>(m),
                                    cudaMemcpyDeviceToDevice, stream));
  i64 total_left = 0;
  MLCORE_CUDA_CHECK(cudaMemcpyAsync(&total_left, first + tiles, sizeof(total_left),
                                    cudaMemcpyDeviceToHost, stream));
  MLCORE_CUDA_CHECK(cudaStreamSynchronize(stream));
  return total_left;
}

}  // namespace mlcore::cuda
