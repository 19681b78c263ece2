// How many principal components PCA keeps, from the covariance's eigenvalues: written once for
// the single-machine fit (pca.cpp) and mlcore.dask's (through the bindings).
#pragma once

#include <Eigen/Dense>
#include <cstdint>

namespace mlcore::detail {

// The number of components to keep. explained_variance: the covariance's eigenvalues,
// descending, negative rounding clipped to 0 (length d); n_samples: the rows fitted. The
// options as PCAOptions holds them: n_components ≥ 1 (that many), kAllComponents (min(n, d),
// or by variance_fraction in (0, 1): the fewest whose ratios sum to more than it), or
// kMleComponents (Minka's choice below).
std::int64_t components_to_keep(const Eigen::VectorXd& explained_variance, std::int64_t n_samples,
                                std::int64_t n_components, double variance_fraction);

// Minka's Bayesian choice of the dimension ("Automatic choice of dimensionality for PCA",
// NIPS 2000), as scikit-learn's n_components='mle' computes it: for each rank k in [1, d − 1],
// the log-likelihood of the data under a model of k principal directions plus isotropic noise
// (the variance the discarded d − k eigenvalues leave, their mean), with a Laplace
// approximation of the integral over the directions; the k of the largest wins. Needs
// n_samples ≥ d (the caller checks); d = 1 gives 1.
std::int64_t minka_mle_rank(const Eigen::VectorXd& spectrum, std::int64_t n_samples);

}  // namespace mlcore::detail
