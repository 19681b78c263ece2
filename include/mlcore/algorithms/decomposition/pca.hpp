// PCA: principal component analysis through the covariance matrix.
//
//   x̄, var = reduce_cols(mean / var, X)             1 × d        on the backend
//   C  = gemm(Xcᵀ, Xc) / (n − 1), Xc = X − x̄        d × d        on the backend, n·d² MACs
//   C  = V·Λ·Vᵀ  (Eigen's SelfAdjointEigenSolver)   d × d        on the host, O(d³), double
//   components = the first k columns of V (as rows), explained_variance = λ₁ ≥ … ≥ λ_k
//
// This is scikit-learn's svd_solver='covariance_eigh' (its choice for n ≫ d): the right
// singular vectors of Xc are the eigenvectors of XcᵀXc, and σᵢ² = (n − 1)·λᵢ. Only one pass of
// MACs over the data, against a full SVD's several; the price is that the eigenvalues of XcᵀXc
// are the squares of Xc's singular values, so directions with σᵢ/σ₁ below ~√ε (3e-4 in f32)
// are lost in rounding — harmless for PCA, which keeps the large ones.
//
// Sign convention (scikit-learn ≥ 1.5, svd_flip with u_based_decision=False): each component is
// flipped so that its entry of largest absolute value is positive. Eigenvectors are defined only
// up to sign; fixing it makes results deterministic and comparable across backends and with
// scikit-learn.
//
// How Xc is formed (src/algorithms/common/columns.hpp): first the column means and G = XᵀX on X as
// it is (two passes, one GEMM). When the offsets are small (every |mean| ≤ sd, with the variances
// read off G's diagonal, Σx²/n − x̄², exact enough exactly then) the host centres the product,
// C = (XᵀX − n·x̄ᵀx̄)/(n − 1) — no copy of X and no variance pass (the offsets are too small to
// cost precision). Otherwise X is centred and scaled per column on the backend (after a
// two-pass variance), Xs = (X − x̄)/sd, and the host scales back,
// C = D·(XsᵀXs − n·mᵀm)·D/(n − 1) with D = diag(sd), where m is the mean left in Xs (the
// corrected two-pass formula: the first mean's rounding, relative to max |x|, is removed).
//
// transform(X)   = (X − x̄)·componentsᵀ  [/ √explained_variance when whiten]      gemm
// inverse(Z)     = Z·[√explained_variance ·] components + x̄                      gemm
// Whitening folds the per-component scale into the k × d weight matrix on the host, so each
// direction is still one GEMM; the mean is subtracted after the product (−x̄·Wᵀ per row), or
// before it through the same column scaling as the fit.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <utility>

#include "mlcore/estimator.hpp"
#include "mlcore/sparse.hpp"
#include "mlcore/tensor.hpp"

namespace mlcore {

// n_components's value for "all of them" (scikit-learn's None).
inline constexpr std::int64_t kAllComponents = -1;
// n_components's value for Minka's maximum-likelihood choice (scikit-learn's 'mle'; needs
// n_samples ≥ n_features).
inline constexpr std::int64_t kMleComponents = -2;

struct PCAOptions {
  // How many components to keep (scikit-learn's n_components):
  //   n_components = kAllComponents and variance_fraction = 0: min(n_samples, n_features);
  //   n_components = k ≥ 1: the first k (k ≤ min(n_samples, n_features));
  //   n_components = kMleComponents: as many as Minka's MLE picks (in [1, n_features − 1]);
  //   variance_fraction in (0, 1): the fewest components whose explained variance ratios sum
  //   to more than this fraction (scikit-learn's float n_components).
  std::int64_t n_components = kAllComponents;
  double variance_fraction = 0.0;
  bool whiten = false;  // scale the projections to unit variance
};

class PCA : public Estimator {
 public:
  using Options = PCAOptions;
  explicit PCA(Options options = {}, BackendPtr backend = default_backend());

  // X: n × d (n ≥ 2). Returns *this.
  PCA& fit(const Tensor& X);
  // n × k projections of X.
  Tensor transform(const Tensor& X) const;
  // fit(X) then transform(X), reusing the centred X of the fit.
  Tensor fit_transform(const Tensor& X);
  // The same three for sparse X (n × d CSR), scikit-learn's covariance_eigh on sparse input:
  // the covariance from the raw Gram XᵀX by spmm, centred on the host (X is never centred);
  // transform is one spmm against the components.
  PCA& fit(const CsrMatrix& X);
  Tensor transform(const CsrMatrix& X) const;
  Tensor fit_transform(const CsrMatrix& X);
  // Z: n × k → n × d back in feature space.
  Tensor inverse_transform(const Tensor& Z) const;

  const Options& options() const { return options_; }
  const Tensor& components() const;                // k × d, unit rows
  const Tensor& explained_variance() const;        // 1 × k, descending
  const Tensor& explained_variance_ratio() const;  // 1 × k
  const Tensor& singular_values() const;           // 1 × k  σᵢ = √((n − 1)·λᵢ)
  const Tensor& mean() const;                      // 1 × d
  std::int64_t n_components() const;               // k
  std::int64_t n_features_in() const;
  std::int64_t n_samples() const;
  // The mean of the discarded eigenvalues among the first min(n, d) (probabilistic PCA's noise
  // variance); 0 when none is discarded.
  double noise_variance() const;
  bool fitted() const { return fitted_; }

  static PCA load(std::istream& in, BackendPtr backend = default_backend()) {
    return load_model<PCA>(in, std::move(backend));
  }

 private:
  void visit(Archive& a) override;
  std::vector<std::pair<std::string, Tensor*>> fitted_arrays() override;
  // The fit (fit and fit_transform).
  // n ≥ 2 samples and n_components possible for an n × d X (throws naming n_components).
  void check_shape_for_options(std::int64_t n, std::int64_t d) const;
  void fit_impl(const Tensor& X);
  void fit_impl(const CsrMatrix& X);
  // The fit from the d × d covariance Ch (an Eigen matrix, kept out of this header), the 1 × d
  // mean, the input transform chosen (raw, shift, scale) and the sample count.
  template <class Covariance, class Transform>
  void finish_fit(const Covariance& Ch, const Tensor& mean, const Transform& input, std::int64_t n);
  // (X − x̄)·Wᵀ with W the (whitened) components, n × k on the device; Xt is X on the device
  // after the model's input transform.
  Tensor project(const Tensor& Xt) const;
  // The same for sparse X on the device (never transformed).
  Tensor project_sparse(const CsrMatrix& Xd) const;
  // W (k × d, the components, whitened if asked) and bias = −x̄·Wᵀ (1 × k).
  std::pair<Tensor, Tensor> projection() const;

  Options options_;
  Tensor components_, explained_variance_, explained_variance_ratio_, singular_values_, mean_;
  std::int64_t n_samples_ = 0;
  double noise_variance_ = 0.0;
  // How X is fed to the GEMMs (src/algorithms/common/columns.hpp): as it is, or shifted and scaled
  // per column like the training data.
  bool raw_input_ = true;
  Tensor input_shift_, input_scale_;  // 1 × d each, when !raw_input_
};

}  // namespace mlcore
