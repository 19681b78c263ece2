#include "sparse_input.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace mlcore::detail {

void check_sparse_samples(const CsrMatrix& X, const char* estimator, const char* what) {
  MLCORE_CHECK(X.device() == Device::host,
               estimator << ": " << what << " must be on the host, got " << X.describe());
  check_csr(X, (std::string(estimator) + ": " + what).c_str());
  MLCORE_CHECK(X.rows >= 1,
               estimator << ": " << what << " has no samples (" << X.describe() << ")");
  MLCORE_CHECK(X.cols >= 1,
               estimator << ": " << what << " has no features (" << X.describe() << ")");
  const float* v = X.data.data<float>();
  for (std::int64_t p = 0; p < X.nnz(); ++p) {
    MLCORE_CHECK(std::isfinite(v[p]), estimator << ": " << what
                                                << " contains NaN or infinity (stored entry " << p
                                                << ")");
  }
}

void check_sparse_n_features(const CsrMatrix& X, std::int64_t expected, const char* estimator) {
  MLCORE_CHECK(X.cols == expected, estimator << ": X has " << X.cols
                                             << " features, but the model was fitted with "
                                             << expected << " features");
}

CsrMatrix csr_on_device(Backend& b, const CsrMatrix& X) {
  CsrMatrix d = X;
  d.indptr = b.to_device(X.indptr);
  d.indices = b.to_device(X.indices);
  d.data = b.to_device(X.data);
  return d;
}

Tensor sparse_affine_scores(Backend& b, const CsrMatrix& Xd, const Tensor& W, const Tensor& bias) {
  const std::int64_t k = W.rows(), d = W.cols();
  Tensor Wt(d, k);  // Wᵀ, the dense right operand
  for (std::int64_t r = 0; r < k; ++r) {
    for (std::int64_t j = 0; j < d; ++j) Wt.at<float>(j, r) = W.at<float>(r, j);
  }
  Tensor Z = b.empty(Xd.rows, k);
  b.spmm(Trans::no, 1.0f, Xd, b.to_device(Wt), 0.0f, Z);
  if (bias.numel()) b.add_row_vector(1.0f, b.to_device(bias), Z);
  return Z;
}

Tensor sparse_gram(Backend& b, const CsrMatrix& X, const CsrMatrix& Xd, const Tensor& w) {
  const std::int64_t n = X.rows, d = X.cols;
  // Blocks of up to 16 Mi floats (64 MiB) of dense columns, at least one column.
  const std::int64_t block =
      std::clamp<std::int64_t>((std::int64_t{1} << 24) / std::max<std::int64_t>(n, 1), 1, d);
  const std::int64_t* ptr = X.indptr.data<std::int64_t>();
  const float* v = X.data.data<float>();
  const float* wv = w.numel() ? w.data<float>() : nullptr;
  Tensor G(d, d);
  for (std::int64_t j0 = 0; j0 < d; j0 += block) {
    const std::int64_t width = std::min(block, d - j0);
    Tensor D(n, width);  // w ⊙ X[:, j0 : j0 + width], dense
    float* dv = D.data<float>();
    for (std::int64_t i = 0; i < n; ++i) {
      for (std::int64_t p = ptr[i]; p < ptr[i + 1]; ++p) {
        const std::int64_t j = X.indices.dtype() == DType::i64
                                   ? X.indices.data<std::int64_t>()[p]
                                   : std::int64_t{X.indices.data<std::int32_t>()[p]};
        if (j >= j0 && j < j0 + width) dv[i * width + (j - j0)] = wv ? wv[i] * v[p] : v[p];
      }
    }
    Tensor Gb = b.empty(d, width);
    b.spmm(Trans::yes, 1.0f, Xd, b.to_device(D), 0.0f, Gb);  // Xᵀ (d × n) · D (n × width)
    const Tensor gh = b.to_host(Gb);
    for (std::int64_t r = 0; r < d; ++r) {
      for (std::int64_t c = 0; c < width; ++c) G.at<float>(r, j0 + c) = gh.at<float>(r, c);
    }
  }
  return G;
}

}  // namespace mlcore::detail
