// What the estimators that accept sparse X (CsrMatrix, include/mlcore/sparse.hpp) share: the
// input checks, the move to the backend's device, and the two products every such estimator is
// made of, both on Backend::spmm so that only the stored entries are multiplied:
//   scores   Z = X·Wᵀ + bias           (predictions, decision functions, joint log-likelihoods)
//   Gram     G = Xᵀ·diag(w)·X          (least squares), by column blocks of X
// Sparse X is never centred or scaled (that would fill in its zeros, as scikit-learn says for
// its own sparse paths): an estimator centres its small d × d or d × k results on the host.
#pragma once

#include <cstdint>

#include "mlcore/backend.hpp"
#include "mlcore/sparse.hpp"

namespace mlcore::detail {

// check_csr, at least one row and column, and finite stored values (errors name the estimator
// and `what`).
void check_sparse_samples(const CsrMatrix& X, const char* estimator, const char* what = "X");
// X has `expected` columns.
void check_sparse_n_features(const CsrMatrix& X, std::int64_t expected, const char* estimator);

// X's three arrays on b's device (free on CPU backends).
CsrMatrix csr_on_device(Backend& b, const CsrMatrix& X);

// Z = X·Wᵀ + bias on the device (n × k) for host weights W (k × d) and bias (1 × k, or empty):
// one spmm against Wᵀ, then add_row_vector.
Tensor sparse_affine_scores(Backend& b, const CsrMatrix& Xd, const Tensor& W, const Tensor& bias);

// G = Xᵀ·diag(w)·X (d × d, host f32; w: n × 1 host f32, or empty for all ones). X's columns are
// densified a block at a time on the host (n × block) and each block multiplied by
// spmm(Trans::yes): G[:, J] = Xᵀ·(w ⊙ X[:, J]), so the MACs are nnz·d in all, and the dense
// block's memory n·block floats stays bounded.
Tensor sparse_gram(Backend& b, const CsrMatrix& X, const CsrMatrix& Xd, const Tensor& w);

}  // namespace mlcore::detail
