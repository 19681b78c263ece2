// CsrMatrix: the one sparse matrix type, a view of compressed sparse rows (CSR).
//
// Row i of a rows × cols matrix holds the nonzeros data[p] at columns indices[p] for
// p in [indptr[i], indptr[i + 1]):
//   indptr:  (rows + 1) × 1, i64, indptr[0] = 0, non-decreasing, indptr[rows] = nnz
//   indices: nnz × 1, i32 or i64 (scipy.sparse's two index types), each in [0, cols), strictly
//            increasing within a row (sorted, no duplicates)
//   data:    nnz × 1, f32
// The three are Tensors, so a CsrMatrix borrows scipy's arrays without a copy when the dtypes
// match (python/src/convert.cpp) and moves to a device like any tensor. It is a handle: copies
// share the arrays. Backend::spmm is the primitive that reads it (backend.hpp).
#pragma once

#include <cstdint>

#include "mlcore/tensor.hpp"

namespace mlcore {

struct CsrMatrix {
  std::int64_t rows = 0, cols = 0;
  Tensor indptr;   // (rows + 1) × 1 i64
  Tensor indices;  // nnz × 1 i32 or i64
  Tensor data;     // nnz × 1 f32

  std::int64_t nnz() const { return data.numel(); }
  Device device() const { return data.device(); }
  // "csr[3×4, nnz 5, i32 indices]@host": for error messages.
  std::string describe() const;
};

// Throws mlcore::Error naming `what` and the offending entry unless A is a valid CSR matrix as
// above: dtypes, lengths, indptr's start, end and order, every index in range and sorted within
// its row. O(rows + nnz), on host arrays (a caller with device arrays copies them first).
void check_csr(const CsrMatrix& A, const char* what);

// A's entries as a dense rows × cols f32 host tensor (tests, and the systolic array, whose tiles
// are dense). Host arrays only.
Tensor csr_to_dense(const CsrMatrix& A);
// The nonzeros of a dense f32 host tensor as a CSR matrix with i32 indices (tests, examples).
CsrMatrix csr_from_dense(const Tensor& X);
// Aᵀ (cols × rows) in CSR, built by a counting sort of A's column indices: O(rows + cols + nnz).
// Aᵀ's CSR arrays are A's CSC arrays; same index dtype as A. Host arrays only.
CsrMatrix csr_transpose(const CsrMatrix& A);

}  // namespace mlcore
