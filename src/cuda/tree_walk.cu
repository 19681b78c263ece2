// tree_walk / tree_walk_sum: each row of X walks down T trees of one node table
// (TreeWalkNode, backend.hpp). One thread per row, the trees in order.
//
// Why one thread per row. Rows are independent and a GPU has ~10^5 threads in flight, so a
// batch of rows fills it; a row's walk is a chain of dependent loads, and the many resident
// warps hide that latency the way the avx2 kernel's 8 lanes do on a core. The 32 threads of a
// warp run in lockstep (SIMT): where their rows take different children they still share one
// instruction stream, and a warp takes as many steps as its deepest row — the divergence cost
// the avx2 kernel pays with its idle lanes (src/cpu/tree_walk_avx2.cpp). The node table is
// small (16 bytes a node) and read by every thread: read-only loads (__ldg) keep it in L1/L2.
// X is row-major, so the 32 threads of a warp read 32 different rows (d floats apart): each
// read is its own 32-byte sector, the price of per-row walks (a column-major X would coalesce
// only at the root, where every row reads the same feature).
//
// A row's leaf values are summed in double, tree by tree in order, and rounded once: the same
// arithmetic as the scalar reference, so the sums agree bit for bit. The node table is checked
// on the device first (children after their parent, features inside X), with the messages of
// Backend's host checks, so a bad table never sends a walk out of bounds.
#include <climits>

#include "device_util.cuh"
#include "kernels.hpp"

namespace mlcore::cuda {

namespace {

__global__ void find_bad_node_kernel(const TreeWalkNode* __restrict__ nodes, i64 N, i64 d,
                                     unsigned long long* __restrict__ first_bad) {
  for (i64 j = static_cast<i64>(blockIdx.x) * blockDim.x + threadIdx.x; j < N;
       j += static_cast<i64>(gridDim.x) * blockDim.x) {
    const TreeWalkNode nd = nodes[j];
    if (nd.left < 0) continue;
    const bool ok = nd.left > j && nd.left < N && nd.right > j && nd.right < N &&
                    static_cast<i64>(nd.feature_and_missing & 0x7fffffffu) < d;
    if (!ok) atomicMin(first_bad, static_cast<unsigned long long>(j));
  }
}

// The leaf row i reaches in the tree rooted at `root`.
__device__ __forceinline__ std::int32_t walk(const TreeWalkNode* __restrict__ nodes,
                                             std::int32_t root, const float* __restrict__ x) {
  std::int32_t j = root;
  for (;;) {
    const int4 nd = __ldg(reinterpret_cast<const int4*>(nodes) + j);  // one 16-byte load
    if (nd.x < 0) return j;                                           // left < 0: a leaf
    const unsigned fm = static_cast<unsigned>(nd.z);
    const float v = __ldg(x + (fm & 0x7fffffffu));
    const bool go_left = v <= __int_as_float(nd.w) || (isnan(v) && (fm >> 31) != 0);
    j = go_left ? nd.x : nd.y;
  }
}

__global__ void tree_walk_kernel(i64 m, i64 d, i64 T, const TreeWalkNode* __restrict__ nodes,
                                 const std::int32_t* __restrict__ roots,
                                 const float* __restrict__ X, std::int32_t* __restrict__ leaf) {
  for (i64 i = static_cast<i64>(blockIdx.x) * blockDim.x + threadIdx.x; i < m;
       i += static_cast<i64>(gridDim.x) * blockDim.x) {
    for (i64 t = 0; t < T; ++t) leaf[i * T + t] = walk(nodes, __ldg(roots + t), X + i * d);
  }
}

// acc (m × c, double, zeroed) += values of each tree's leaf; then out = scale · acc.
__global__ void tree_walk_sum_kernel(i64 m, i64 d, i64 T, const TreeWalkNode* __restrict__ nodes,
                                     const std::int32_t* __restrict__ roots,
                                     const float* __restrict__ X, const float* __restrict__ values,
                                     i64 c, double scale, double* __restrict__ acc,
                                     float* __restrict__ out) {
  for (i64 i = static_cast<i64>(blockIdx.x) * blockDim.x + threadIdx.x; i < m;
       i += static_cast<i64>(gridDim.x) * blockDim.x) {
    double* a = acc + i * c;
    for (i64 t = 0; t < T; ++t) {
      const float* v = values + static_cast<i64>(walk(nodes, __ldg(roots + t), X + i * d)) * c;
      for (i64 q = 0; q < c; ++q) a[q] += static_cast<double>(__ldg(v + q));
    }
    for (i64 q = 0; q < c; ++q) out[i * c + q] = static_cast<float>(scale * a[q]);
  }
}

}  // namespace

i64 find_bad_node(const TreeWalkNode* nodes, i64 N, i64 d, cudaStream_t stream,
                  Workspace& workspace) {
  auto* first_bad = workspace.alloc<unsigned long long>(1);
  MLCORE_CUDA_CHECK(cudaMemsetAsync(first_bad, 0xff, sizeof(unsigned long long), stream));
  find_bad_node_kernel<<<grid_for(N, 256), 256, 0, stream>>>(nodes, N, d, first_bad);
  MLCORE_CUDA_CHECK_LAUNCH();
  unsigned long long position = 0;
  MLCORE_CUDA_CHECK(
      cudaMemcpyAsync(&position, first_bad, sizeof(position), cudaMemcpyDeviceToHost, stream));
  MLCORE_CUDA_CHECK(cudaStreamSynchronize(stream));
  return position == ~0ull ? -1 : static_cast<i64>(position);
}

void tree_walk(i64 m, i64 d, i64 T, const TreeWalkNode* nodes, const std::int32_t* roots,
               const float* X, const float* values, i64 c, double scale, void* out,
               cudaStream_t stream, Workspace& workspace) {
  if (m == 0) return;
  // 128 threads a block: a walk holds few registers, and small blocks spread a batch of rows
  // over every SM.
  constexpr int kThreads = 128;
  if (values == nullptr) {
    tree_walk_kernel<<<grid_for(m, kThreads), kThreads, 0, stream>>>(
        m, d, T, nodes, roots, X, static_cast<std::int32_t*>(out));
  } else {
    double* acc = workspace.alloc<double>(static_cast<std::size_t>(m * c));
    MLCORE_CUDA_CHECK(cudaMemsetAsync(acc, 0, sizeof(double) * m * c, stream));
    tree_walk_sum_kernel<<<grid_for(m, kThreads), kThreads, 0, stream>>>(
        m, d, T, nodes, roots, X, values, c, scale, acc, static_cast<float*>(out));
  }
  MLCORE_CUDA_CHECK_LAUNCH();
}

}  // namespace mlcore::cuda
