// The avx2 backend's kernels other than the GEMMs (those are in gemm_avx2.hpp): raw pointers,
// row-major, shapes in the comments. The code (the *_avx2.cpp files named below) is compiled with
// -mavx2 -mfma; this header is plain C++ so the baseline-compiled Avx2Backend can call it. Every
// function needs a CPU with AVX2 + FMA (the backend checks before it is created) and has the
// semantics of the matching Backend primitive (backend.hpp), which the tests check against the
// scalar backend's loops. One file per primitive family (gemv_avx2.cpp, sqdist_avx2.cpp,
// select_rows_avx2.cpp, map_avx2.cpp, elementwise_avx2.cpp, scatter_add_avx2.cpp,
// histogram_avx2.cpp, reduce_avx2.cpp, tree_walk_avx2.cpp, partition_rows_avx2.cpp), as in
// src/cuda; their small helpers are in simd_avx2.hpp.
//
// They are all memory-bound or nearly so (a few flops per element loaded), so the lessons differ
// from the GEMM's: 8 floats per instruction, masked loads for the tails instead of scalar
// clean-up loops, several independent accumulators where a reduction would otherwise wait on
// its own latency, and a second thread only where a row range carries enough work to pay for
// waking it.
//
// `threads` is an upper bound: a kernel splits its rows over threads only when there is enough
// work to pay for waking them (see kMinWorkPerThread in cpu_parallel.hpp), and always in contiguous
// blocks with a fixed order of summation, so results do not depend on timing.
#pragma once

#include <cstdint>

#include "mlcore/backend.hpp"

namespace mlcore::cpu {

// y ← alpha·op(A)·x + beta·y.  A: m × n (lda = n); x: n (m if trans); y: m (n if trans).
// beta == 0 ignores y's contents.
void sgemv_avx2(bool trans, std::int64_t m, std::int64_t n, float alpha, const float* A,
                const float* x, float beta, float* y, int threads);

// D[i, j] = max(0, ‖a_i‖² + ‖b_j‖² − 2·a_i·b_j).  A: m × d, B: n × d, D: m × n.
// One sgemm_avx2 (A·Bᵀ, m·n·d MACs) plus the norms and a fused add-and-clamp pass over D.
void sqdist_avx2(std::int64_t m, std::int64_t n, std::int64_t d, const float* A, const float* B,
                 float* D, int threads);

// D[i, j] = Σ_k |a_ik − b_jk|^p (finite p > 0) or max_k |a_ik − b_jk| (p = +∞).  A: m × d,
// B: n × d, D: m × n. p = 1, 2, ∞ register-blocked (bit-identical to the scalar loop); other p
// run the scalar loop on the threads.
void minkowski_dist_avx2(std::int64_t m, std::int64_t n, std::int64_t d, const float* A,
                         const float* B, float p, float* D, int threads);

// For each row i of D (m × n, n ≥ 1): index[i], value[i] = the first minimum (NaN never chosen
// unless the row is all NaN; then index 0). Ties → lowest column.
void argmin_rows_avx2(std::int64_t m, std::int64_t n, const float* D, std::int32_t* index,
                      float* value, int threads);

// The k smallest entries of each row of D (m × n), ascending, ties → lower column, NaN last.
// index, value: m × k.
void topk_rows_avx2(std::int64_t m, std::int64_t n, std::int64_t k, const float* D,
                    std::int32_t* index, float* value, int threads);

// y[i] = fn(scale·x[i] + shift) for i < count. In place (y == x) allowed.
void map_avx2(MapFn fn, std::int64_t count, const float* x, float* y, MapArgs args, int threads);

// Y[i, :] = softmax(X[i, :]) or log_softmax. X, Y: m × n; in place allowed.
void softmax_rows_avx2(std::int64_t m, std::int64_t n, const float* X, float* Y, bool log,
                       int threads);

// C (m × n) ← alpha·A·B + beta·C for A in CSR (m rows: indptr m + 1 entries; indices i32, or i64
// when indices_i64), B: k × n. beta == 0 ignores C. The transposed product is this on Aᵀ's CSR.
void spmm_avx2(std::int64_t m, const std::int64_t* indptr, const void* indices, bool indices_i64,
               const float* data, float alpha, const float* B, std::int64_t n, float beta, float* C,
               int threads);

// y ← alpha·x + beta·y (beta == 0 ignores y); y ← x ⊙ y.   x, y: count floats.
void axpby_avx2(std::int64_t count, float alpha, const float* x, float beta, float* y, int threads);
void multiply_avx2(std::int64_t count, const float* x, float* y, int threads);

// Y[i, j] += alpha·v[j] (Y: m × n, v: n);  Y[i, j] *= w[i] (w: m).
void add_row_vector_avx2(std::int64_t m, std::int64_t n, float alpha, const float* v, float* Y,
                         int threads);
void scale_rows_avx2(std::int64_t m, std::int64_t n, const float* w, float* Y, int threads);

// out[index[i, q], :] += X[i, :] for every i < n, q < p with index[i, q] ≥ 0.
// index: n × p; X: n × c; out: out_rows × c (indices already checked < out_rows).
void scatter_add_avx2(std::int64_t n, std::int64_t p, std::int64_t c, const std::int32_t* index,
                      const float* X, std::int64_t out_rows, float* out, int threads);

// For k < m, r = rows[k], and each p < P with offsets[p] ≥ 0:
//   out[offsets[p] + codes[r·P + p], :] += X[r, :]        (codes read as unsigned bytes)
// codes: n × P; X: n × c and out: bins × c, both f32 or both i64 (is_i64; summed as unsigned
// integers, wrapping); rows and bins already checked in range.
void histogram_avx2(std::int64_t m, std::int64_t P, std::int64_t c, const std::uint8_t* codes,
                    const std::int32_t* offsets, const std::int32_t* rows, const void* X,
                    bool is_i64, void* out, std::int64_t bins, int threads);

// Y[i, :] = X[index[i], :] for i < m; rows of `row_bytes` bytes (any dtype).
void gather_rows_avx2(std::int64_t m, std::int64_t row_bytes, const void* X,
                      const std::int32_t* index, void* Y, int threads);

// The tree walks (tree_walk_avx2.cpp). For each of the m rows of X (m × d) and each of the T
// trees (nodes, roots: Backend::tree_walk's table): values == nullptr → out is the m × T i32
// leaf ids; else out (m × c f32) = scale · Σ_t values[leaf, :] (N × c), summed in double in
// tree order. Needs 512·d < 2^31 (the gathers' i32 offsets within a block of rows).
void tree_walk_avx2(std::int64_t m, std::int64_t d, std::int64_t T, const TreeWalkNode* nodes,
                    const std::int32_t* roots, const float* X, const float* values, std::int64_t c,
                    double scale, void* out, int threads);

// Backend::partition_rows (partition_rows_avx2.cpp): ids[0, m) reordered stably, the rows whose
// code[id] goes left (RowSplit) first; returns their number. code: one feature's n codes; the ids
// already checked in [0, n). Threads split the ids into chunks; the result is the serial one.
std::int64_t partition_rows_avx2(const std::uint8_t* code, const RowSplit& split, std::int32_t* ids,
                                 std::int64_t m, int threads);

// out[j] = sum / mean / population variance over the m rows of column j. X: m × n (m ≥ 1).
// Sums are accumulated in double (and the variance in two passes), like the reference.
void reduce_cols_avx2(Reduce op, std::int64_t m, std::int64_t n, const float* X, float* out,
                      int threads);

}  // namespace mlcore::cpu
