// The GPU code of the cuda backend, one host-callable launcher per kernel family: the table of
// contents of src/cuda. Each launcher enqueues its kernels on `stream` and returns without
// waiting (unless its comment says it synchronises); CudaBackend times and synchronises the
// whole call. Pointers are device pointers; matrices are row-major with the given row stride
// (ld, in elements). Sizes are validated by Backend before they get here.
//
// This header is plain C++ (no kernel syntax), so the tests and benchmarks can call every
// step of a ladder directly.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "device_memory.hpp"
#include "mlcore/backend.hpp"

namespace mlcore::cuda {

using i64 = std::int64_t;

// ---- sgemm.cu: f32 GEMM, a ladder of four steps -------------------------------------------------
// C (m×n) ← α·op(A)·op(B) + β·C; op(A) is m×k (A stored k×m when trans_a), op(B) is k×n
// (B stored n×k when trans_b). β = 0 ignores C (NaN included). Only `register_blocked` is on
// the library path; the others stay for the benchmarks and notebooks.
enum class SgemmStep : int {
  naive,             // one thread per C element, threads along rows: uncoalesced
  coalesced,         // threads along columns: each warp reads 128 contiguous bytes of B and C
  shared_tiles,      // 32×32 tiles staged in shared memory: each element loaded once per tile
  register_blocked,  // 128×128 block tile, 8×8 per thread, float4 loads, double buffering
};
const char* sgemm_step_name(SgemmStep step);
void sgemm(SgemmStep step, bool trans_a, bool trans_b, i64 m, i64 n, i64 k, float alpha,
           const float* A, i64 lda, const float* B, i64 ldb, float beta, float* C, i64 ldc,
           cudaStream_t stream);

// ---- sgemm_tf32_tensor_core.cu: the same GEMM on the tensor cores in TF32 (WMMA) ----------------
void sgemm_tf32(bool trans_a, bool trans_b, i64 m, i64 n, i64 k, float alpha, const float* A,
                i64 lda, const float* B, i64 ldb, float beta, float* C, i64 ldc,
                cudaStream_t stream);

// ---- igemm_tensor_core.cu: int8 × int8 → int32 on the tensor cores (mma.sync) ------------------
// C (m×n, i32) ← op(A)·op(B) + (accumulate ? C : 0), exact. The kernel wants both operands
// K-contiguous (A as m×k, B as n×k) with 16-byte aligned rows; other layouts are first packed
// into that form in workspace memory.
void igemm(bool trans_a, bool trans_b, i64 m, i64 n, i64 k, const std::int8_t* A, i64 lda,
           const std::int8_t* B, i64 ldb, bool accumulate, std::int32_t* C, i64 ldc,
           cudaStream_t stream, Workspace& workspace);
// True when igemm can run on these operands as they are (no packing pass).
bool igemm_runs_unpacked(bool trans_a, bool trans_b, i64 k, const std::int8_t* A, i64 lda,
                         const std::int8_t* B, i64 ldb);

// ---- gemv.cu -------------------------------------------------------------------------------
// y ← α·op(A)·x + β·y; A is rows × cols (row stride cols); op(A) = Aᵀ when trans.
void gemv(bool trans, i64 rows, i64 cols, float alpha, const float* A, const float* x, float beta,
          float* y, cudaStream_t stream, Workspace& workspace);

// ---- sqdist.cu: D (m×n) = max(0, ‖a_i‖² + ‖b_j‖² − 2·a_i·b_j), fused in one kernel -----------
void sqdist(i64 m, i64 n, i64 d, const float* A, const float* B, float* D, cudaStream_t stream);

// ---- minkowski_dist.cu: D (m×n) = Σ_k |a_ik − b_jk|^p, or the max for p = ∞ ------------------
void minkowski_dist(i64 m, i64 n, i64 d, const float* A, const float* B, float p, float* D,
                    cudaStream_t stream);

// ---- select_rows.cu: argmin and top-k per row (NaN last, ties to the lower column) ---------
void argmin_rows(i64 m, i64 n, const float* D, std::int32_t* index, float* value,
                 cudaStream_t stream);
// `force_global_buffer` runs the path for very large k (candidate buffer in device memory
// instead of shared memory) whatever k is: for the tests.
void topk_rows(i64 m, i64 n, i64 k, const float* D, std::int32_t* index, float* value,
               cudaStream_t stream, Workspace& workspace, bool force_global_buffer = false);

// ---- map.cu: element-wise functions and row softmax ----------------------------------------
void map(MapFn fn, i64 count, const float* x, float* y, MapArgs args, cudaStream_t stream);
void softmax_rows(i64 m, i64 n, const float* X, float* Y, bool log, cudaStream_t stream);

// ---- elementwise.cu --------------------------------------------------------------------------
void fill(i64 count, float* y, float value, cudaStream_t stream);
void fill(i64 count, std::int32_t* y, std::int32_t value, cudaStream_t stream);
void fill(i64 count, std::int64_t* y, std::int64_t value, cudaStream_t stream);
void axpby(i64 count, float alpha, const float* x, float beta, float* y, cudaStream_t stream);
void multiply(i64 count, const float* x, float* y, cudaStream_t stream);
void add_row_vector(i64 m, i64 n, float alpha, const float* v, float* Y, cudaStream_t stream);
void scale_rows(i64 m, i64 n, const float* w, float* Y, cudaStream_t stream);

// ---- index_check.cu: the device-side version of Backend's host index checks ----------------
struct BadIndex {
  bool found = false;
  i64 position = -1;       // flat position of the first offending entry
  std::int32_t value = 0;  // its value
};
// The first entry of index[0..count) outside [lo, hi), where entries < 0 are allowed (skipped)
// when `negative_ok`. Synchronises the stream (the answer is needed on the host).
BadIndex find_bad_index(const std::int32_t* index, i64 count, std::int32_t lo, std::int32_t hi,
                        bool negative_ok, cudaStream_t stream, Workspace& workspace);

// find_bad_index without the answer: lowers *first_bad (set to ~0 beforehand) to the first
// offending position, on the stream, without waiting.
void find_bad_index_async(const std::int32_t* index, i64 count, std::int32_t lo, std::int32_t hi,
                          bool negative_ok, unsigned long long* first_bad, cudaStream_t stream);

// ---- scatter_add.cu: out[index[i, q], :] += X[i, :] -------------------------------------------
// index: n × p, X: n × c, out: m × c; negative indices skipped; all others must be < m.
// The library path is deterministic (the same bits on every run on a given GPU): warp-private
// partial sums added in a fixed order.
// first_bad: a device word the caller set to ~0; the kernels lower it to the flat position
// (i·p + q) of the first index ≥ m they meet, and then `out` is left untouched — the index check
// rides along in the kernels that run anyway, and the caller reads the word once, after the
// call. nullptr: entries ≥ m are skipped without a report (the benchmarks' trusted input).
void scatter_add(i64 n, i64 p, i64 c, i64 m, const std::int32_t* index, const float* X, float* out,
                 unsigned long long* first_bad, cudaStream_t stream, Workspace& workspace);
// The first rung: one float atomicAdd per (sample, index column, feature). Faster to write,
// not reproducible (the order in which atomics land changes the rounding).
void scatter_add_atomic(i64 n, i64 p, i64 c, const std::int32_t* index, const float* X, float* out,
                        cudaStream_t stream);

// ---- histogram.cu: out[offsets[p] + codes[rows[k], p], :] += X[rows[k], :] -------------------
// codes: n × P unsigned bytes; offsets: P (negative: feature skipped); rows: m ids in [0, n)
// (checked before); X: n × c; out: bins × c. float atomics: exact for integer sums below 2^24,
// otherwise the last bits may vary from run to run; i64: exact (wrapping) in any order.
void histogram(i64 m, i64 P, i64 c, const std::uint8_t* codes, const std::int32_t* offsets,
               const std::int32_t* rows, const float* X, float* out, cudaStream_t stream);
void histogram(i64 m, i64 P, i64 c, const std::uint8_t* codes, const std::int32_t* offsets,
               const std::int32_t* rows, const std::int64_t* X, std::int64_t* out,
               cudaStream_t stream);
struct BadBin {
  bool found = false;
  i64 k = -1, p = -1;  // the listed row's position and the feature of the first offender
  std::int32_t row = 0, offset = 0;
  std::uint8_t code = 0;
};
// The first (k, p) whose bin offsets[p] + codes[rows[k], p] is ≥ bins (wanted features only).
// Synchronises the stream.
BadBin find_bad_bin(i64 m, i64 P, const std::uint8_t* codes, const std::int32_t* offsets,
                    const std::int32_t* rows, i64 bins, cudaStream_t stream, Workspace& workspace);

// ---- spmm.cu: C ← α·op(A)·B + β·C, A in CSR (a_rows rows), C: c_rows × n ----------------------
// op(A) = A (trans false: one warp per row of C, coalesced reads of B's rows) or Aᵀ (atomicAdd
// scatter). indices: i32, or i64 when indices_i64. β = 0 ignores C.
void spmm(bool trans, i64 a_rows, i64 c_rows, i64 n, const i64* indptr, const void* indices,
          bool indices_i64, const float* data, float alpha, const float* B, float beta, float* C,
          cudaStream_t stream);

// ---- gather.cu: Y[i, :] = X[index[i], :] for rows of `row_bytes` bytes -----------------------
void gather_rows(i64 rows_out, i64 row_bytes, const std::int32_t* index, const void* X, void* Y,
                 cudaStream_t stream);

// ---- tree_walk.cu: rows of X (m × d) down T trees of one node table, one thread per row ------
// The first node j (in row order) that breaks the table's rules (a split node whose children
// are not after it and inside [0, N), or whose feature is ≥ d), or −1. Synchronises the stream.
i64 find_bad_node(const TreeWalkNode* nodes, i64 N, i64 d, cudaStream_t stream,
                  Workspace& workspace);
// values == nullptr: out = leaf ids, m × T i32. Else out (m × c f32) = scale · Σ_t
// values[leaf, :] (values: N × c), summed in double in tree order.
void tree_walk(i64 m, i64 d, i64 T, const TreeWalkNode* nodes, const std::int32_t* roots,
               const float* X, const float* values, i64 c, double scale, void* out,
               cudaStream_t stream, Workspace& workspace);

// ---- loss_gradients.cu: boosting's gradients and hessians (Backend::loss_gradients) ---------
// raw: n × K; y, w (nullptr: weight 1): n; g: n × K; h: n × K or nullptr (unweighted squared
// error); ranges: 2 × K (max |g| per class, then max h), written here.
void loss_gradients(GradientLoss loss, i64 n, i64 K, const double* y, const double* raw,
                    const double* w, double* g, double* h, double* ranges, cudaStream_t stream);

// ---- partition_rows.cu: a tree node's ids split stably (Backend::partition_rows) ------------
// ids[0, m) reordered in place, those whose code[id] goes left first, each side in order;
// returns their number. code: one feature's codes (the ids already checked in range).
// Synchronises the stream (the count comes back to the host).
i64 partition_rows(const std::uint8_t* code, const RowSplit& split, std::int32_t* ids, i64 m,
                   cudaStream_t stream, Workspace& workspace);

// ---- reduce.cu: column sum / mean / population variance, accumulated in double ------------
void reduce_cols(Reduce op, i64 m, i64 n, const float* X, float* out, cudaStream_t stream,
                 Workspace& workspace);

}  // namespace mlcore::cuda
