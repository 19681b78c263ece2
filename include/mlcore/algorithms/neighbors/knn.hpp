// k-nearest neighbours (KNeighborsClassifier, KNeighborsRegressor) by batched brute force.
//
// fit() only remembers the training set. A query is answered in batches of `batch_size` rows,
// so memory stays bounded however many queries arrive:
//
//   for each batch Q (b × d) of the queries:
//     D   = sqdist(Q, X_fit)            // b × n   squared Euclidean distances (one GEMM)
//     I,V = topk_rows(D, k)             // b × k   the k nearest, ascending, ties → lower index
//
// Other Minkowski exponents (p = 1 Manhattan, p = ∞ Chebyshev, any p ≥ 1) search the same way
// with D = minkowski_dist(Q, X_fit, p), Σ|q − x|^p: no GEMM, so no cancellation to repair, and
// the p-th root is taken of the k winners only.
//
// A training set of many tiles (more than 4 × 2048 rows) is searched tile by tile instead, so
// that each distance tile (256 queries × ~2048 rows) stays in cache between sqdist and
// topk_rows rather than going to DRAM and back; each tile's k best are kept, and one more
// topk_rows over the tiles' candidates gives the same I, V (ties → lower index) as above.
//
// kneighbors() returns √V and I. predict() turns the neighbours into a vote without leaving the
// backend: gather the neighbours' targets (one-hot class rows, or regression targets), scale
// them by the neighbour weights, and scatter_add them into one row per query:
//
//   G   = gather_rows(Y_fit, I)          // (b·k) × c   targets of every neighbour
//   G  *= w                               //             scale_rows: uniform 1 or 1/distance
//   out = scatter_add(query_of_row, G)    // b × c       Σ over each query's k neighbours
//
// For the classifier `out` holds each class's (weighted) votes: normalised it is
// predict_proba, its argmax the prediction. For the regressor it is the weighted sum of the
// neighbours' targets, divided by the sum of the weights.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "mlcore/estimator.hpp"
#include "mlcore/serialize.hpp"
#include "mlcore/tensor.hpp"

namespace mlcore {

// Options shared by the classifier and the regressor (scikit-learn's names and defaults).
struct KNeighborsOptions {
  std::int64_t n_neighbors = 5;     // k ≥ 1
  std::string weights = "uniform";  // "uniform", or "distance": weight 1/distance
  // The Minkowski exponent of the distance (Σ_k |a_k − b_k|^p)^(1/p): 2 Euclidean (the default,
  // searched by sqdist's GEMM), 1 Manhattan, +inf Chebyshev (max_k |a_k − b_k|), any p > 0
  // (searched by minkowski_dist: no GEMM, every term on the vector lanes; p < 1 is a
  // semi-metric, fine for brute force).
  double p = 2.0;
  // Queries per batch: bounds the distance block (batch_size × n_samples_fit floats, or
  // batch_size × ~2048 for a tiled training set). 0 chooses a batch so that the block stays
  // within about 64 MiB (256 queries for a tiled training set).
  std::int64_t batch_size = 0;
};

// The k nearest training samples of each query (host tensors, n_queries × k).
struct Neighbors {
  Tensor distances;  // f32 distances (Minkowski, exponent p), ascending along each row
  Tensor indices;    // i32 row indices into the training X
};

// What the classifier and regressor share: the stored training set and the batched search.
class KNeighborsBase : public Estimator {
 public:
  const KNeighborsOptions& options() const { return options_; }

  // The k nearest training samples of each row of X (n_queries × n_features), k =
  // n_neighbors (0: the option's value). Throws unless 1 ≤ k ≤ n_samples_fit.
  Neighbors kneighbors(const Tensor& X, std::int64_t n_neighbors = 0) const;

  // The training samples (n_samples_fit × n_features) and their count.
  const Tensor& fit_X() const;
  std::int64_t n_samples_fit() const;
  std::int64_t n_features_in() const;

 protected:
  KNeighborsBase(const KNeighborsOptions& options, BackendPtr backend, const char* name);
  // The options, the fitted flag and the training set (the first part of each visit).
  void visit_base(Archive& a);

  // Stores a copy of X (and checks it); targets are stored by the subclass.
  void fit_samples(const Tensor& X);
  // The (weighted) vote of each query's k nearest neighbours, batch by batch. For each batch
  // of queries [begin, end) it calls finish(begin, end, sums, weight_sums) with
  //   sums[q, :]     = Σ_j w_qj · Y_fit[I_qj, :]   (b × c, on the device)
  //   weight_sums[q] = Σ_j w_qj                     (host)
  // where Y_fit is the host n_samples_fit × c target table (one-hot classes, or targets) and
  // w_qj is 1 (uniform) or 1/distance ("distance", with scikit-learn's rule for zero distances).
  void vote(const Tensor& X, const Tensor& Y_fit,
            const std::function<void(std::int64_t, std::int64_t, Tensor&,
                                     const std::vector<float>&)>& finish) const;
  // Whether the search is the backend's fused sqdist_topk (Euclidean only): the batch size
  // depends on it, so every caller asks here.
  bool fused_search() const;
  KNeighborsOptions options_;
  Tensor fit_X_;  // host copy of the training samples (n × d)

 private:
  // Runs `body(begin, end, I, V)` for each batch of queries [begin, end) with the batch's
  // top-k indices I (b × k i32) and distances V (b × k f32), both on the device. V holds the
  // distances when `distances` is set, else only a value of the same order (Σ|q − x|^p).
  template <class Body>
  void for_each_batch(const Tensor& X, std::int64_t k, bool distances, Body&& body) const;
};

// Classification by a (weighted) vote of the k nearest training samples.
class KNeighborsClassifier : public KNeighborsBase {
 public:
  explicit KNeighborsClassifier(const KNeighborsOptions& options = {},
                                BackendPtr backend = default_backend());

  // X: n × d; y: n class labels (any float values; classes() lists them sorted).
  KNeighborsClassifier& fit(const Tensor& X, const Tensor& y);
  // The most voted class of each row (n × 1 f32, values from classes()); ties → the
  // smallest class, as scikit-learn.
  Tensor predict(const Tensor& X) const;
  // Each class's share of the (weighted) votes: n × n_classes, rows sum to 1.
  Tensor predict_proba(const Tensor& X) const;

  const std::vector<double>& classes() const;

  static KNeighborsClassifier load(std::istream& in, BackendPtr backend = default_backend()) {
    return load_model<KNeighborsClassifier>(in, std::move(backend));
  }

 private:
  void visit(Archive& a) override;
  std::vector<double> classes_;
  Tensor one_hot_;  // host n × n_classes: row i has a 1 in the column of y[i]'s class
};

// Regression by the (weighted) mean of the k nearest training samples' targets.
class KNeighborsRegressor : public KNeighborsBase {
 public:
  explicit KNeighborsRegressor(const KNeighborsOptions& options = {},
                               BackendPtr backend = default_backend());

  // X: n × d; y: a vector of n targets, or an n × n_outputs matrix.
  KNeighborsRegressor& fit(const Tensor& X, const Tensor& y);
  // n × n_outputs f32.
  Tensor predict(const Tensor& X) const;

  std::int64_t n_outputs() const;

  static KNeighborsRegressor load(std::istream& in, BackendPtr backend = default_backend()) {
    return load_model<KNeighborsRegressor>(in, std::move(backend));
  }

 private:
  void visit(Archive& a) override;
  Tensor targets_;  // host n × n_outputs
};

}  // namespace mlcore
