// CsrMatrix's checks and conversions (include/mlcore/sparse.hpp).
#include "mlcore/sparse.hpp"

#include <sstream>
#include <type_traits>
#include <vector>

namespace mlcore {

namespace {

// body(idx) with indices' data typed (i32 or i64).
template <class Body>
void with_indices(const CsrMatrix& A, Body&& body) {
  if (A.indices.dtype() == DType::i64) {
    body(A.indices.data<std::int64_t>());
  } else {
    body(A.indices.data<std::int32_t>());
  }
}

bool is_vector(const Tensor& t) { return t.cols() == 1 || t.rows() == 1 || t.numel() == 0; }

}  // namespace

std::string CsrMatrix::describe() const {
  std::ostringstream s;
  s << "csr[" << rows << "×" << cols << ", nnz " << nnz() << ", " << dtype_name(indices.dtype())
    << " indices]@" << device_name(device());
  return s.str();
}

void check_csr(const CsrMatrix& A, const char* what) {
  MLCORE_CHECK(A.rows >= 0 && A.cols >= 0,
               what << ": shape must be non-negative, got " << A.rows << " x " << A.cols);
  check_dtype(A.indptr, DType::i64, (std::string(what) + " indptr").c_str());
  MLCORE_CHECK(A.indices.dtype() == DType::i32 || A.indices.dtype() == DType::i64,
               what << ": indices must be i32 or i64, got " << A.indices.describe());
  check_dtype(A.data, DType::f32, (std::string(what) + " data").c_str());
  MLCORE_CHECK(is_vector(A.indptr) && A.indptr.numel() == A.rows + 1,
               what << ": indptr must hold rows + 1 = " << A.rows + 1 << " entries, got "
                    << A.indptr.describe());
  MLCORE_CHECK(is_vector(A.indices) && is_vector(A.data) && A.indices.numel() == A.data.numel(),
               what << ": indices and data must be vectors of the same length (nnz), got "
                    << A.indices.describe() << " and " << A.data.describe());
  MLCORE_CHECK(A.indptr.device() == Device::host && A.indices.device() == Device::host,
               what << ": check_csr reads host arrays; copy device ones with to_host() first");
  const std::int64_t* ptr = A.indptr.data<std::int64_t>();
  MLCORE_CHECK(ptr[0] == 0, what << ": indptr[0] must be 0, got " << ptr[0]);
  MLCORE_CHECK(ptr[A.rows] == A.nnz(), what << ": indptr[" << A.rows << "] = " << ptr[A.rows]
                                            << " must equal nnz = " << A.nnz());
  for (std::int64_t i = 0; i < A.rows; ++i) {
    MLCORE_CHECK(ptr[i] <= ptr[i + 1], what << ": indptr must be non-decreasing, but indptr[" << i
                                            << "] = " << ptr[i] << " > indptr[" << i + 1
                                            << "] = " << ptr[i + 1]);
  }
  with_indices(A, [&](const auto* idx) {
    for (std::int64_t i = 0; i < A.rows; ++i) {
      for (std::int64_t p = ptr[i]; p < ptr[i + 1]; ++p) {
        MLCORE_CHECK(idx[p] >= 0 && idx[p] < A.cols, what << ": indices[" << p << "] = " << idx[p]
                                                          << " (row " << i << ") is outside [0, "
                                                          << A.cols << ")");
        MLCORE_CHECK(p == ptr[i] || idx[p - 1] < idx[p],
                     what << ": indices of row " << i << " must be sorted without duplicates, got "
                          << idx[p - 1] << " then " << idx[p] << " at indices[" << p << "]");
      }
    }
  });
}

Tensor csr_to_dense(const CsrMatrix& A) {
  Tensor D(A.rows, A.cols);
  float* d = D.data<float>();
  const std::int64_t* ptr = A.indptr.data<std::int64_t>();
  const float* v = A.data.data<float>();
  with_indices(A, [&](const auto* idx) {
    for (std::int64_t i = 0; i < A.rows; ++i) {
      for (std::int64_t p = ptr[i]; p < ptr[i + 1]; ++p) d[i * A.cols + idx[p]] = v[p];
    }
  });
  return D;
}

CsrMatrix csr_from_dense(const Tensor& X) {
  const float* x = X.data<float>();
  CsrMatrix A;
  A.rows = X.rows();
  A.cols = X.cols();
  std::int64_t nnz = 0;
  for (std::int64_t i = 0; i < X.numel(); ++i) nnz += x[i] != 0.0f ? 1 : 0;
  A.indptr = Tensor(A.rows + 1, 1, DType::i64);
  A.indices = Tensor(nnz, 1, DType::i32);
  A.data = Tensor(nnz, 1);
  std::int64_t* ptr = A.indptr.data<std::int64_t>();
  std::int32_t* idx = A.indices.data<std::int32_t>();
  float* v = A.data.data<float>();
  std::int64_t p = 0;
  for (std::int64_t i = 0; i < A.rows; ++i) {
    for (std::int64_t j = 0; j < A.cols; ++j) {
      if (x[i * A.cols + j] == 0.0f) continue;
      idx[p] = static_cast<std::int32_t>(j);
      v[p++] = x[i * A.cols + j];
    }
    ptr[i + 1] = p;
  }
  return A;
}

CsrMatrix csr_transpose(const CsrMatrix& A) {
  CsrMatrix T;
  T.rows = A.cols;
  T.cols = A.rows;
  T.indptr = Tensor(T.rows + 1, 1, DType::i64);
  T.indices = Tensor(A.nnz(), 1, A.indices.dtype());
  T.data = Tensor(A.nnz(), 1);
  const std::int64_t* ptr = A.indptr.data<std::int64_t>();
  const float* v = A.data.data<float>();
  std::int64_t* tptr = T.indptr.data<std::int64_t>();
  float* tv = T.data.data<float>();
  with_indices(A, [&](const auto* idx) {
    using Index = std::remove_const_t<std::remove_pointer_t<decltype(idx)>>;
    Index* tidx = static_cast<Index*>(T.indices.raw());
    // Count each column's entries, prefix-sum into row starts of Aᵀ, then place the entries row
    // by row of A: the rows of each column arrive in increasing order, so Aᵀ's indices are sorted.
    for (std::int64_t p = 0; p < A.nnz(); ++p) ++tptr[idx[p] + 1];
    for (std::int64_t j = 0; j < T.rows; ++j) tptr[j + 1] += tptr[j];
    std::vector<std::int64_t> next(tptr, tptr + T.rows);
    for (std::int64_t i = 0; i < A.rows; ++i) {
      for (std::int64_t p = ptr[i]; p < ptr[i + 1]; ++p) {
        const std::int64_t q = next[idx[p]]++;
        tidx[q] = static_cast<Index>(i);
        tv[q] = v[p];
      }
    }
  });
  return T;
}

}  // namespace mlcore
