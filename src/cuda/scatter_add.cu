// scatter_add: out[index[i, q], :] += X[i, :] for every sample i and index column q with
// index[i, q] ≥ 0. K-means sums the points of each cluster with it (p = 1); a histogram tree
// sums gradients into (feature, bin) cells (p = features); kNN counts votes (p = neighbours).
//
// Many samples land on the same output row, so the additions collide. Two rungs:
//
//   1. atomics (scatter_add_atomic): every pair does atomicAdd into out (RED.ADD.F32 at the
//      L2). Simple and fast, but float addition is not associative and the order in which
//      atomics land changes from run to run: the last bits of the sums change, and an
//      algorithm built on them (k-means: sums → centroids → distances → labels) stops being
//      reproducible. Kept for the benchmarks and notebooks.
//   2. warp-private accumulators (scatter_add, the library path): every warp owns a private
//      copy of out (shared memory when 8 copies fit in 96 KiB, else device memory) and walks a
//      fixed, contiguous range of (sample, index column, feature) pairs in order, 32 lanes on 32
//      consecutive pairs, adding with plain loads and stores. Lanes of one step that hit the
//      same cell (possible when p > 1 or a sample has fewer than 32 pairs) are detected with
//      __match_any_sync and summed in lane order first. The copies are then added in a fixed
//      order — warps within a block, then blocks (a second kernel) — into out. Same inputs,
//      same bits on every run: the ranges depend only on the shapes and on how many blocks the
//      GPU holds at once (the grid is a whole number of waves: launch_geometry.hpp).
//
// Index check: an entry ≥ m is met by the accumulating kernels anyway, so they report it there
// (the first position, by atomicMin on a device word) and the finishing kernel then leaves
// `out` alone. No separate checking kernel and no extra host round trip per call.
//
// Flattened pairs: f = i·P + q·c + j with P = p·c; pair f adds X[i, j] to cell index[i, q]·c + j.
// Consecutive lanes take consecutive f, so a warp reads consecutive elements of X.
#include "device_util.cuh"
#include "kernels.hpp"
#include "launch_geometry.hpp"

namespace mlcore::cuda {

namespace {

// ---- rung 1: atomics -------------------------------------------------------------------------

__global__ void __launch_bounds__(256)
    scatter_add_atomic_kernel(i64 n, i64 p, i64 c, const std::int32_t* __restrict__ index,
                              const float* __restrict__ X, float* __restrict__ out) {
  const i64 count = n * c;
  for (i64 e = static_cast<i64>(blockIdx.x) * blockDim.x + threadIdx.x; e < count;
       e += static_cast<i64>(gridDim.x) * blockDim.x) {
    const i64 i = e / c, j = e - i * c;
    const float x = X[e];
    for (i64 q = 0; q < p; ++q) {
      const std::int32_t t = index[i * p + q];
      if (t >= 0) atomicAdd(&out[t * c + j], x);
    }
  }
}

// ---- rung 2: deterministic warp-private accumulation -------------------------------------------

constexpr int kWarps = 8;                                      // per block, shared-memory path
constexpr int kThreads = kWarps * kWarpSize;                   // 256
constexpr i64 kSharedBudget = 96 * 1024;                       // bytes: fits every sm_80+ GPU
constexpr i64 kMaxSharedCells = kSharedBudget / (kWarps * 4);  // 3072 cells per warp copy
constexpr i64 kPairsPerBlock = 65536;                          // target work per block
constexpr i64 kMaxBlocks = 1024;
constexpr i64 kPairsPerGlobalWarp = 8192;
constexpr i64 kGlobalBudget = i64{256} << 20;  // bytes of warp copies in device memory
using Idx = std::uint32_t;                     // pair numbers
constexpr int kPrefetch = 8;  // steps of 32 pairs loaded before they are added (loads in flight)

static_assert(kThreads <= 1024 && kMaxSharedCells >= 64 * 33,
              "the shared path must hold k-means' 64 centroids × (32 features + weight)");

// One step: 32 lanes add their (cell, v) to the warp's copy; cell < 0: nothing to add.
// Cells are below 2^31 (checked by the host), so -1 and every cell differ in 32 bits.
template <bool kMayCollide>
__device__ __forceinline__ void add_step(float* acc, int cell, float v, int lane) {
  if (kMayCollide) {
    const unsigned same = __match_any_sync(kFullMask, static_cast<unsigned>(cell));
    const bool shared_cell = cell >= 0 && __popc(same) > 1;
    if (__any_sync(kFullMask, shared_cell)) {
      // Lanes on the same cell: the lowest one adds their values, summed in lane order.
      float sum = 0.0f;
      for (int src = 0; src < kWarpSize; ++src) {
        const float other = __shfl_sync(kFullMask, v, src);
        if ((same >> src) & 1u) sum += other;
      }
      if (cell >= 0 && lane == __ffs(same) - 1) acc[cell] += sum;
      __syncwarp();
      return;
    }
  }
  if (cell >= 0) acc[cell] += v;
  __syncwarp();  // this step's stores are seen by the next step's loads on other lanes
}

// Where an index entry ≥ m (out's rows) is reported; position_base: the flat index position of
// this slice's first sample.
struct IndexReport {
  std::int32_t rows;              // m (below 2^31: checked by the host)
  unsigned long long* first_bad;  // nullptr: not reported
  i64 position_base;
};

// Adds pairs [f0, f1) to `acc` (this warp's private copy), in order. Pair numbers are 32-bit
// (the host splits larger calls): a 32-bit division is a short instruction sequence, a 64-bit
// one a slow subroutine.
template <bool kOneIndex, bool kMayCollide>
__device__ void accumulate_pairs(const std::int32_t* __restrict__ index,
                                 const float* __restrict__ X, Idx p, Idx c, Idx f0, Idx f1,
                                 float* acc, int lane, const IndexReport& report) {
  const Idx P = p * c;
  for (Idx base = f0; base < f1; base += kWarpSize * kPrefetch) {
    int cell[kPrefetch];
    float v[kPrefetch];
#pragma unroll
    for (int u = 0; u < kPrefetch; ++u) {  // all loads first: kPrefetch in flight per lane
      const Idx f = base + static_cast<Idx>(u * kWarpSize + lane);
      cell[u] = -1;
      v[u] = 0.0f;
      if (f < f1) {
        const Idx i = f / P, r = f - i * P;
        const Idx q = kOneIndex ? Idx{0} : r / c;
        const Idx j = r - q * c;
        const std::int32_t t = index[static_cast<i64>(i) * p + q];
        if (t >= report.rows) {
          if (report.first_bad != nullptr) {
            atomicMin(report.first_bad, static_cast<unsigned long long>(
                                            report.position_base + static_cast<i64>(i) * p + q));
          }
        } else if (t >= 0) {
          cell[u] = static_cast<int>(static_cast<Idx>(t) * c + j);
          v[u] = X[static_cast<i64>(i) * c + j];
        }
      }
    }
#pragma unroll
    for (int u = 0; u < kPrefetch; ++u) {
      add_step<kMayCollide>(acc, cell[u], v[u], lane);
    }
  }
}

// Shared-memory path: grid B blocks of 256; block b takes pairs [b·per_block, (b+1)·per_block),
// its warp w a contiguous eighth of them; partial[b, :] = the block's sum (warps added in order).
// Dynamic shared memory: kWarps × cells floats.
template <bool kOneIndex, bool kMayCollide>
__global__ void __launch_bounds__(kThreads)
    scatter_add_shared_kernel(Idx p, Idx c, Idx total, Idx per_block, i64 cells,
                              const std::int32_t* __restrict__ index, const float* __restrict__ X,
                              float* __restrict__ partial, IndexReport report) {
  extern __shared__ float copies[];
  const int warp = threadIdx.x / kWarpSize, lane = threadIdx.x % kWarpSize;
  for (i64 e = threadIdx.x; e < kWarps * cells; e += blockDim.x) copies[e] = 0.0f;
  __syncthreads();
  const Idx b0 = static_cast<Idx>(blockIdx.x) * per_block;
  const Idx b1 = b0 + per_block < total ? b0 + per_block : total;
  const Idx per_warp = ceil_div<Idx>(per_block, kWarps);
  const Idx w0 = b0 + static_cast<Idx>(warp) * per_warp;
  const Idx w1 = w0 + per_warp < b1 ? w0 + per_warp : b1;
  if (w0 < w1) {  // warp-uniform
    accumulate_pairs<kOneIndex, kMayCollide>(index, X, p, c, w0, w1, copies + warp * cells, lane,
                                             report);
  }
  __syncthreads();
  for (i64 e = threadIdx.x; e < cells; e += blockDim.x) {
    float sum = 0.0f;
#pragma unroll
    for (int w = 0; w < kWarps; ++w) sum += copies[w * cells + e];
    partial[static_cast<i64>(blockIdx.x) * cells + e] = sum;
  }
}

// Device-memory path (outputs too big for shared memory): warp g of the grid owns copy g,
// zeroed beforehand, and pairs [g·per_warp, (g+1)·per_warp).
template <bool kOneIndex, bool kMayCollide>
__global__ void __launch_bounds__(128)
    scatter_add_global_kernel(Idx p, Idx c, Idx total, Idx per_warp, i64 cells, i64 warps,
                              const std::int32_t* __restrict__ index, const float* __restrict__ X,
                              float* __restrict__ copies, IndexReport report) {
  const i64 g = static_cast<i64>(blockIdx.x) * (blockDim.x / kWarpSize) + threadIdx.x / kWarpSize;
  if (g >= warps) return;  // warp-uniform
  const Idx w0 = static_cast<Idx>(g) * per_warp;
  const Idx w1 = w0 + per_warp < total ? w0 + per_warp : total;
  if (w0 >= w1) return;
  accumulate_pairs<kOneIndex, kMayCollide>(index, X, p, c, w0, w1, copies + g * cells,
                                           threadIdx.x % kWarpSize, report);
}

// out[e] += Σ_b partial[b, e], b in order — unless an index was reported bad (then out stays as
// it was). Block: 32 cells × 32 row-lanes; grid ceil(cells/32).
__global__ void __launch_bounds__(1024)
    scatter_add_finish_kernel(i64 cells, i64 copies, const float* __restrict__ partial,
                              const unsigned long long* __restrict__ first_bad,
                              float* __restrict__ out) {
  if (first_bad != nullptr && *first_bad != ~0ull) return;  // the same for the whole grid
  __shared__ float part[kWarpSize][kWarpSize + 1];
  const int tx = threadIdx.x % kWarpSize, ty = threadIdx.x / kWarpSize;
  const i64 e = static_cast<i64>(blockIdx.x) * kWarpSize + tx;
  float sum = 0.0f;
  if (e < cells) {
    for (i64 b = ty; b < copies; b += kWarpSize) sum += partial[b * cells + e];
  }
  part[ty][tx] = sum;
  __syncthreads();
  if (ty == 0 && e < cells) {
    float total = 0.0f;
#pragma unroll
    for (int r = 0; r < kWarpSize; ++r) total += part[r][tx];
    out[e] += total;
  }
}

// One launch pair (accumulate, then finish into out) for samples whose pair numbers fit 32 bits.
template <bool kOneIndex, bool kMayCollide>
void launch(i64 n, i64 p, i64 c, i64 m, const std::int32_t* index, const float* X, float* out,
            const IndexReport& report, cudaStream_t stream, Workspace& workspace) {
  const i64 cells = m * c;
  const i64 total = n * p * c;
  float* partial = nullptr;
  i64 copies = 0;
  if (cells <= kMaxSharedCells) {
    const std::size_t smem = static_cast<std::size_t>(kWarps * cells) * sizeof(float);
    auto kernel = scatter_add_shared_kernel<kOneIndex, kMayCollide>;
    MLCORE_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                           static_cast<int>(kSharedBudget)));
    // At k-means' shape (10⁶ × 33 pairs, 64 × 33 cells: 66 KiB of warp copies a block) ~500
    // blocks of 64 Ki pairs would be ~1.3 waves of an H100/H200's resident blocks, the last
    // 0.3 leaving most SMs idle; a whole number of waves, each block a little more work, is not.
    int per_sm = 0;
    MLCORE_CUDA_CHECK(
        cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, kThreads, smem));
    const i64 resident = static_cast<i64>(per_sm) * current_sm_count();
    copies = whole_wave_blocks(ceil_div(total, kPairsPerBlock), resident, kMaxBlocks);
    const i64 per_block = ceil_div(total, copies);
    partial = workspace.alloc<float>(static_cast<std::size_t>(copies * cells));
    kernel<<<static_cast<unsigned>(copies), kThreads, smem, stream>>>(
        static_cast<Idx>(p), static_cast<Idx>(c), static_cast<Idx>(total),
        static_cast<Idx>(per_block), cells, index, X, partial, report);
  } else {
    copies = ceil_div(total, kPairsPerGlobalWarp);
    const i64 affordable = kGlobalBudget / (cells * 4);
    if (copies > affordable) copies = affordable;
    if (copies < 1) copies = 1;
    const i64 per_warp = ceil_div(total, copies);
    partial = workspace.alloc<float>(static_cast<std::size_t>(copies * cells));
    MLCORE_CUDA_CHECK(cudaMemsetAsync(partial, 0, copies * cells * sizeof(float), stream));
    const unsigned blocks = static_cast<unsigned>(ceil_div<i64>(copies, 4));
    scatter_add_global_kernel<kOneIndex, kMayCollide><<<blocks, 128, 0, stream>>>(
        static_cast<Idx>(p), static_cast<Idx>(c), static_cast<Idx>(total),
        static_cast<Idx>(per_warp), cells, copies, index, X, partial, report);
  }
  MLCORE_CUDA_CHECK_LAUNCH();
  scatter_add_finish_kernel<<<static_cast<unsigned>(ceil_div<i64>(cells, kWarpSize)), 1024, 0,
                              stream>>>(cells, copies, partial, report.first_bad, out);
  MLCORE_CUDA_CHECK_LAUNCH();
}

}  // namespace

void scatter_add(i64 n, i64 p, i64 c, i64 m, const std::int32_t* index, const float* X, float* out,
                 unsigned long long* first_bad, cudaStream_t stream, Workspace& workspace) {
  if (n == 0 || p == 0 || c == 0 || m == 0) return;
  MLCORE_CHECK(m * c < (i64{1} << 31) && p * c < (i64{1} << 30),
               "scatter_add: out (" << m << " x " << c << ") or a sample's " << p * c
                                    << " pairs exceed the 32-bit cell numbering");
  // Pair numbers are 32-bit: bigger calls go in slices of whole samples (fixed slices, so the
  // result stays reproducible), each adding its sums into out.
  const i64 samples_per_slice = ((i64{1} << 31) - kWarpSize * kPrefetch) / (p * c);
  // With more than one slice, a bad entry in a later slice would be found after an earlier one
  // had been added into out: then every entry is checked first, by its own kernel.
  if (first_bad != nullptr && n > samples_per_slice) {
    find_bad_index_async(index, n * p, 0, static_cast<std::int32_t>(m), true, first_bad, stream);
  }
  for (i64 s0 = 0; s0 < n; s0 += samples_per_slice) {
    const IndexReport report{static_cast<std::int32_t>(m), first_bad, s0 * p};
    const i64 ns = n - s0 < samples_per_slice ? n - s0 : samples_per_slice;
    const std::int32_t* idx = index + s0 * p;
    const float* x = X + s0 * c;
    // With one index column and at least 32 features, the 32 pairs of a step span at most two
    // samples whose feature ranges do not overlap: no two lanes can hit the same cell.
    if (p == 1 && c >= kWarpSize) {
      launch<true, false>(ns, p, c, m, idx, x, out, report, stream, workspace);
    } else if (p == 1) {
      launch<true, true>(ns, p, c, m, idx, x, out, report, stream, workspace);
    } else {
      launch<false, true>(ns, p, c, m, idx, x, out, report, stream, workspace);
    }
  }
}

void scatter_add_atomic(i64 n, i64 p, i64 c, const std::int32_t* index, const float* X, float* out,
                        cudaStream_t stream) {
  if (n == 0 || p == 0 || c == 0) return;
  scatter_add_atomic_kernel<<<grid_for(n * c, 256), 256, 0, stream>>>(n, p, c, index, X, out);
  MLCORE_CUDA_CHECK_LAUNCH();
}

}  // namespace mlcore::cuda
