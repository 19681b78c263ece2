// Row selections: argmin (nearest centroid) and top-k (nearest neighbours), with the ordering
// of every backend (src/cpu/row_select.hpp): smaller value first, NaN after every number, ties
// to the lower column index.
//
// argmin: G lanes per row (G = 1..32, the power of two that covers the row in float4 chunks,
// so a 64-column k-means distance row is 16 lanes × one LDG.128 each, two rows per warp). Each
// lane keeps its best (value, index); a shuffle tree over the G lanes merges them with the same
// comparison, which is associative, so the result is the first minimum whatever the order.
//
// top-k: one block of 256 threads per row, a candidate buffer of B 64-bit keys (value bits
// made order-preserving in the high half, column in the low half: unsigned order = the order
// above, so ties need no special case) and a bitonic sort network:
//   kept = 0; threshold = +∞
//   for each slice of 256 columns:
//     if the buffer cannot take 256 more: sort it; keep its first k; threshold = k-th key
//     every column whose key < threshold is appended (a shared atomic counter gives the slot)
//   sort; the first k keys are the answer
// After the first few slices the threshold rejects almost every column, so for random rows
// the cost approaches one pass over the row. B = next power of two ≥ k + 256 lives in shared
// memory up to 4096 keys (32 KiB); beyond that (k > 3840) the buffer is in device memory.
#include <climits>

#include "device_util.cuh"
#include "kernels.hpp"

namespace mlcore::cuda {

namespace {

// ---- argmin ------------------------------------------------------------------------------------

struct Best {
  float value;
  int index;
};

__device__ __forceinline__ void consider(Best& best, float v, int j) {
  if (select_before(v, j, best.value, best.index)) best = {v, j};
}

// G lanes per row; grid ceil(m·G / 256), 256 threads.
template <int G, bool kVec>
__global__ void __launch_bounds__(256)
    argmin_rows_kernel(i64 m, i64 n, const float* __restrict__ D, std::int32_t* __restrict__ index,
                       float* __restrict__ value) {
  static_assert(G >= 1 && G <= kWarpSize && (G & (G - 1)) == 0, "G is a power of two ≤ 32");
  const i64 row = (static_cast<i64>(blockIdx.x) * blockDim.x + threadIdx.x) / G;
  const int lg = threadIdx.x % G;
  // Rows past the end keep a sentinel that loses to everything and still join the shuffles.
  Best best{__int_as_float(0x7fffffff), INT_MAX};  // (NaN, INT_MAX)
  if (row < m) {
    const float* d = D + row * n;
    if (kVec) {
      const float4* d4 = reinterpret_cast<const float4*>(d);
      for (i64 c = lg; c < n / 4; c += G) {
        const float4 v = d4[c];
        const int j = static_cast<int>(4 * c);
        consider(best, v.x, j);
        consider(best, v.y, j + 1);
        consider(best, v.z, j + 2);
        consider(best, v.w, j + 3);
      }
    } else {
      for (i64 j = lg; j < n; j += G) consider(best, d[j], static_cast<int>(j));
    }
  }
#pragma unroll
  for (int offset = G / 2; offset > 0; offset /= 2) {
    Best other;
    other.value = __shfl_xor_sync(kFullMask, best.value, offset);
    other.index = __shfl_xor_sync(kFullMask, best.index, offset);
    if (select_before(other.value, other.index, best.value, best.index)) best = other;
  }
  if (row < m && lg == 0) {
    index[row] = best.index;
    value[row] = best.value;
  }
}

template <int G>
void launch_argmin(bool vec, i64 m, i64 n, const float* D, std::int32_t* index, float* value,
                   cudaStream_t stream) {
  const unsigned grid = static_cast<unsigned>(ceil_div<i64>(m * G, 256));
  if (vec) {
    argmin_rows_kernel<G, true><<<grid, 256, 0, stream>>>(m, n, D, index, value);
  } else {
    argmin_rows_kernel<G, false><<<grid, 256, 0, stream>>>(m, n, D, index, value);
  }
}

// ---- top-k -------------------------------------------------------------------------------------

constexpr int kTopkThreads = 256;
constexpr int kMaxSharedKeys = 4096;             // 32 KiB of shared memory
constexpr unsigned long long kSentinel = ~0ull;  // after every real key (index < 2^31)

// Sorts buf[0..size) ascending; size is a power of two. Every thread of the block calls it.
// The plain network it stands for:
//   for (width = 2; width <= size; width *= 2)          // bitonic runs of `width` ...
//     for (stride = width / 2; stride > 0; stride /= 2) // ... merged by half-cleaners
//       for each pair (lo, lo + stride) with lo's bit `stride` clear:
//         ascending = (lo & width) == 0; swap when out of order for that direction
__device__ void bitonic_sort(unsigned long long* buf, int size) {
  for (int width = 2; width <= size; width *= 2) {
    for (int stride = width / 2; stride > 0; stride /= 2) {
      for (int t = threadIdx.x; t < size / 2; t += blockDim.x) {
        const int lo = 2 * t - (t & (stride - 1));  // = (t / stride)·2·stride + t % stride
        const int hi = lo + stride;
        const bool ascending = (lo & width) == 0;
        const unsigned long long a = buf[lo], b = buf[hi];
        if ((a > b) == ascending) {
          buf[lo] = b;
          buf[hi] = a;
        }
      }
      __syncthreads();
    }
  }
}

// One row per block iteration; grid-stride over rows. `buf` has `size` keys: shared memory, or
// this block's slice of a device-memory buffer (size ≥ k + blockDim.x in both cases).
__device__ void topk_one_row(const float* __restrict__ d, i64 n, int k, int size,
                             unsigned long long* buf, int* count, std::int32_t* __restrict__ index,
                             float* __restrict__ value) {
  for (int i = threadIdx.x; i < size; i += blockDim.x) buf[i] = kSentinel;
  if (threadIdx.x == 0) *count = 0;
  int kept = 0;  // buf[0..kept) holds the best keys so far, sorted
  unsigned long long threshold = kSentinel;
  __syncthreads();
  for (i64 base = 0; base < n; base += blockDim.x) {
    const int pending = *count;  // candidates appended after the kept prefix
    // Every thread reads `count` before any thread of this slice appends to it below: without
    // this barrier a warp that runs ahead could bump `count` while a slower warp has yet to read
    // it, the two would disagree on the branch and meet different __syncthreads (a hang, or a
    // wrong top-k).
    __syncthreads();
    if (kept + pending + static_cast<int>(blockDim.x) > size) {  // same decision in every thread
      bitonic_sort(buf, size);
      kept = kept + pending < k ? kept + pending : k;
      threshold = kept == k ? buf[k - 1] : kSentinel;
      // Everyone has read `count` (above) and buf[k-1] (now) before they are overwritten.
      __syncthreads();
      for (int i = kept + threadIdx.x; i < size; i += blockDim.x) buf[i] = kSentinel;
      if (threadIdx.x == 0) *count = 0;
      __syncthreads();
    }
    const i64 j = base + threadIdx.x;
    if (j < n) {
      const unsigned long long key = select_key(d[j], static_cast<std::int32_t>(j));
      if (key < threshold) buf[kept + atomicAdd(count, 1)] = key;
    }
    __syncthreads();
  }
  bitonic_sort(buf, size);
  for (int r = threadIdx.x; r < k; r += blockDim.x) {
    const std::int32_t col = static_cast<std::int32_t>(buf[r] & 0xffffffffull);
    index[r] = col;
    value[r] = d[col];  // the stored value itself (the key canonicalised −0 and NaN)
  }
  __syncthreads();  // buf is reused by the next row
}

// grid min(m, 65535·…) blocks of 256; dynamic shared memory: size keys when shared.
__global__ void __launch_bounds__(kTopkThreads)
    topk_rows_kernel(i64 m, i64 n, int k, int size, const float* __restrict__ D,
                     std::int32_t* __restrict__ index, float* __restrict__ value,
                     unsigned long long* __restrict__ global_buf) {
  extern __shared__ unsigned long long shared_buf[];
  __shared__ int count;
  unsigned long long* buf =
      global_buf != nullptr ? global_buf + static_cast<i64>(blockIdx.x) * size : shared_buf;
  for (i64 row = blockIdx.x; row < m; row += gridDim.x) {
    topk_one_row(D + row * n, n, k, size, buf, &count, index + row * k, value + row * k);
  }
}

int next_pow2(i64 x) {
  int p = 1;
  while (p < x) p *= 2;
  return p;
}

}  // namespace

void argmin_rows(i64 m, i64 n, const float* D, std::int32_t* index, float* value,
                 cudaStream_t stream) {
  if (m == 0) return;
  MLCORE_CHECK(n < INT_MAX, "argmin_rows: rows of " << n << " columns exceed int32 indices");
  const bool vec = n % 4 == 0 && is_aligned(D, 16);
  const i64 units = vec ? n / 4 : n;  // loads per row
  const int lanes = units >= 32 ? 32 : next_pow2(units);
  switch (lanes) {
    case 1:
      launch_argmin<1>(vec, m, n, D, index, value, stream);
      break;
    case 2:
      launch_argmin<2>(vec, m, n, D, index, value, stream);
      break;
    case 4:
      launch_argmin<4>(vec, m, n, D, index, value, stream);
      break;
    case 8:
      launch_argmin<8>(vec, m, n, D, index, value, stream);
      break;
    case 16:
      launch_argmin<16>(vec, m, n, D, index, value, stream);
      break;
    default:
      launch_argmin<32>(vec, m, n, D, index, value, stream);
      break;
  }
  MLCORE_CUDA_CHECK_LAUNCH();
}

void topk_rows(i64 m, i64 n, i64 k, const float* D, std::int32_t* index, float* value,
               cudaStream_t stream, Workspace& workspace, bool force_global_buffer) {
  if (m == 0) return;
  MLCORE_CHECK(n < INT_MAX, "topk_rows: rows of " << n << " columns exceed int32 indices");
  MLCORE_CHECK(k + kTopkThreads <= (i64{1} << 30), "topk_rows: k = " << k << " is too large");
  const int size = next_pow2(k + kTopkThreads);
  const bool shared = size <= kMaxSharedKeys && !force_global_buffer;
  const i64 blocks = shared ? (m < 65535 * 16 ? m : 65535 * 16)
                            : (m < 4 * current_sm_count() ? m : 4 * current_sm_count());
  unsigned long long* global_buf = nullptr;
  if (!shared) {
    global_buf = workspace.alloc<unsigned long long>(static_cast<std::size_t>(blocks * size));
  }
  const std::size_t smem = shared ? size * sizeof(unsigned long long) : 0;
  topk_rows_kernel<<<static_cast<unsigned>(blocks), kTopkThreads, smem, stream>>>(
      m, n, static_cast<int>(k), size, D, index, value, global_buf);
  MLCORE_CUDA_CHECK_LAUNCH();
}

}  // namespace mlcore::cuda
