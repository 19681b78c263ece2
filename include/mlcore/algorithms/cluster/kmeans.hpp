// KMeans: Lloyd's algorithm with k-means++ seeding, on the backend's distance primitives.
//
// Each Lloyd iteration is three primitives over the n samples and a little host arithmetic on
// the k centres:
//
//   D      = sqdist(X̃, C̃)                // n × k   squared distances (in row blocks)
//   l, m   = argmin_rows(D)               // n × 1   label and distance of the nearest centre
//   S      = scatter_add(l, [X̃ | 1])     // k × (d+1): per-cluster sums of x, and the counts
//   C_new  = S[:, :d] / S[:, d]           // host, k × d
//
// X̃ = [X − mean | 1]: the data are centred first (as scikit-learn does, for accuracy of the
// ‖a‖² + ‖b‖² − 2a·b expansion in f32), and a constant-1 column rides along so one scatter_add
// yields sums and counts together. Centres carry a 1 in the same column, so that column adds
// (1 − 1)² = 0 to every distance. Iterations stop when the labels no longer change ("strict
// convergence") or when the centres moved less than tol · mean feature variance in total
// squared shift (scikit-learn's tolerance); a cluster left empty is re-seeded with the point
// farthest from its centre (topk_rows of −m), as scikit-learn does.
//
// k-means++ seeding (scikit-learn's greedy variant): each new centre is the best of
// 2 + ⌊ln k⌋ candidates drawn with probability ∝ distance² to the nearest chosen centre; the
// candidates' distances to every sample are one sqdist, and "best" is the lowest potential
// Σ_i min(d_i, d(candidate, x_i)).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "mlcore/estimator.hpp"
#include "mlcore/sparse.hpp"
#include "mlcore/tensor.hpp"

namespace mlcore {

// n_init's value for scikit-learn's "auto" (KMeansOptions::runs says what it means).
inline constexpr std::int64_t kAutoRuns = 0;

struct KMeansOptions {
  std::int64_t n_clusters = 8;
  // "k-means++", "random" (n_clusters distinct samples), or "array": start from init_centers.
  std::string init = "k-means++";
  Tensor init_centers;  // n_clusters × n_features host f32, used when init == "array"
  // Runs from different seeds, keeping the lowest inertia; kAutoRuns is scikit-learn's "auto".
  std::int64_t n_init = kAutoRuns;
  std::int64_t max_iter = 300;
  double tol = 1e-4;  // relative to the mean variance of the features
  std::uint64_t random_state = 0;
  // Keep fit_log(): scikit-learn's verbose lines (each run's start, every iteration's inertia,
  // why it stopped). A runtime setting, not part of a saved model; it costs one more reduction
  // per iteration (the inertia).
  bool verbose = false;

  // How many runs a fit makes: n_init, where "auto" means 1 for "k-means++" and 10 for
  // "random"; a given start ("array") is run once, as scikit-learn does.
  std::int64_t runs() const;
};

class KMeans : public Estimator {
 public:
  explicit KMeans(const KMeansOptions& options = {}, BackendPtr backend = default_backend());

  // X: n × d (n ≥ n_clusters). sample_weight: optional vector of n non-negative weights.
  KMeans& fit(const Tensor& X, const Tensor& sample_weight = Tensor());
  // The index of the nearest centre for each row of X: n × 1 i32.
  Tensor predict(const Tensor& X) const;
  // Euclidean distance of each row of X to each centre: n × n_clusters f32.
  Tensor transform(const Tensor& X) const;
  // fit(X) then labels().
  Tensor fit_predict(const Tensor& X, const Tensor& sample_weight = Tensor());
  // Minus the (weighted) sum of squared distances of X to the nearest centres.
  double score(const Tensor& X, const Tensor& sample_weight = Tensor()) const;
  // The same five for sparse X (n × d CSR), not centred: distances ‖x‖² − 2·x·c + ‖c‖² in one
  // spmm per assignment, cluster sums by the transposed spmm (kmeans.cpp, SparseData).
  KMeans& fit(const CsrMatrix& X, const Tensor& sample_weight = Tensor());
  Tensor predict(const CsrMatrix& X) const;
  Tensor transform(const CsrMatrix& X) const;
  Tensor fit_predict(const CsrMatrix& X, const Tensor& sample_weight = Tensor());
  double score(const CsrMatrix& X, const Tensor& sample_weight = Tensor()) const;

  const KMeansOptions& options() const { return options_; }
  // The last fit's progress, one line each, in scikit-learn's words ("Initialization complete",
  // "Iteration i, inertia v.", "Converged at iteration i: ..."); empty unless options().verbose.
  // The library prints nothing itself: the caller decides where the lines go.
  const std::vector<std::string>& fit_log() const { return fit_log_; }
  const Tensor& cluster_centers() const;  // n_clusters × n_features f32
  const Tensor& labels() const;           // n_samples × 1 i32, of the training samples
  double inertia() const;                 // Σ w_i ‖x_i − c_{l_i}‖² of the best run
  std::int64_t n_iter() const;            // Lloyd iterations of the best run
  std::int64_t n_features_in() const;

  static KMeans load(std::istream& in, BackendPtr backend = default_backend()) {
    return load_model<KMeans>(in, std::move(backend));
  }

 private:
  void visit(Archive& a) override;
  std::vector<std::pair<std::string, Tensor*>> fitted_arrays() override;
  // Sum of (weighted) min squared distances, and the labels, of X against `centers`.
  double assign_new(const Tensor& X, const Tensor& sample_weight, Tensor* labels) const;
  double assign_new(const CsrMatrix& X, const Tensor& sample_weight, Tensor* labels) const;
  template <class Body>
  void for_each_centred_block(const Tensor& X, Body&& body) const;
  // n × k device distances of sparse X to the centres.
  Tensor sparse_distances(const CsrMatrix& X) const;
  // n_clusters ≤ n, and the given init's width d.
  void check_fit_shape(std::int64_t n, std::int64_t d) const;
  // The runs (n_init starts, Lloyd each, the best kept) on DenseData or SparseData (kmeans.cpp),
  // and the fitted state; `mean` is the offset the data were centred by.
  template <class Data>
  void run_all(const Data& data, const Tensor& mean, double tol);

  KMeansOptions options_;
  Tensor mean_;     // 1 × d  the training data's column means (queries are centred with it)
  Tensor centers_;  // k × d
  Tensor labels_;   // n × 1 i32
  double inertia_ = 0.0;
  std::vector<std::string> fit_log_;
  std::int64_t n_iter_ = 0;
};

}  // namespace mlcore
