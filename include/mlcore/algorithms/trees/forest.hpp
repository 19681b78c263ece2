// Random forests: RandomForestClassifier and RandomForestRegressor.
//
// n_estimators histogram trees (tree.hpp explains one), each grown on a bootstrap sample and
// examining max_features random features at each split, averaged at prediction. The features are
// binned once for all trees; the per-node histograms of every tree are Backend::histogram calls.
//
// Parallelism: trees are independent, so they are grown in parallel over the cores (an OpenMP
// loop over trees, n_jobs threads). Each worker installs the estimator's profile for its own
// thread, and calls the (shared, stateless) backend with its own tensors; the avx2 backend's
// kernels, called inside that parallel region, run on the calling thread.
//
// Determinism: tree t draws its bootstrap sample and its features from an mt19937_64 seeded
// with (random_state, t), never from a shared generator, so the forest does not depend on which
// thread grew which tree — nor on the backend (the histograms are exact integer sums).
//
// A bootstrap sample is represented by integer weights (how many times each sample was drawn);
// samples drawn zero times are out-of-bag and give oob_score. min_samples_leaf applies to a
// child's total weight (scikit-learn counts distinct samples there; equal without bootstrap).
// max_samples sets the number of draws (scikit-learn's: an int, or a fraction of n).
//
// warm_start: a fit continues the forest it holds (warm_start_from hands it the trees of an earlier
// fit) with trees t = size … n_estimators − 1. As tree t's generator depends only on
// (random_state, t), growing 5 trees and then 5 more equals growing 10 at once.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "mlcore/algorithms/trees/tree.hpp"
#include "mlcore/estimator.hpp"

namespace mlcore {

// max_samples of scikit-learn: None (n draws), an int (that many) or a float (that fraction of
// n, at least one draw).
struct MaxSamples {
  enum class Kind : std::uint8_t { all, count, fraction };
  Kind kind = Kind::all;
  double value = 0;                                    // the count or the fraction
  std::int64_t resolve(std::int64_t n_samples) const;  // the number of draws (≥ 1)
  void validate(const char* estimator, bool bootstrap) const;
  void visit(Archive& a);  // kind (one byte), value
};

struct RandomForestClassifierOptions {
  std::int64_t n_estimators = 100;
  std::string criterion = "gini";  // "gini", "entropy", "log_loss"
  std::int64_t max_depth = kNoLimit;
  std::int64_t min_samples_split = 2;
  std::int64_t min_samples_leaf = 1;
  MaxFeatures max_features{MaxFeatures::Kind::sqrt, 0};
  double min_impurity_decrease = 0.0;
  std::int64_t max_leaf_nodes = kNoLimit;  // ≥ 2: best-first trees (tree.hpp)
  bool bootstrap = true;
  bool oob_score = false;
  MaxSamples max_samples;   // draws per bootstrap sample (bootstrap only)
  bool warm_start = false;  // fit adds trees to the forest held (see above)
  int n_jobs = -1;          // threads growing trees; ≤ 0: OpenMP's default (all cores)
  std::uint64_t random_state = 0;
  int max_bins = 255;
};

struct RandomForestRegressorOptions {
  std::int64_t n_estimators = 100;
  std::string criterion = "squared_error";  // or its alias "friedman_mse" (tree.hpp)
  std::int64_t max_depth = kNoLimit;
  std::int64_t min_samples_split = 2;
  std::int64_t min_samples_leaf = 1;
  MaxFeatures max_features{MaxFeatures::Kind::fraction, 1.0};
  double min_impurity_decrease = 0.0;
  std::int64_t max_leaf_nodes = kNoLimit;  // ≥ 2: best-first trees (tree.hpp)
  bool bootstrap = true;
  bool oob_score = false;
  MaxSamples max_samples;   // draws per bootstrap sample (bootstrap only)
  bool warm_start = false;  // fit adds trees to the forest held (see above)
  int n_jobs = -1;
  std::uint64_t random_state = 0;
  int max_bins = 255;
};

class RandomForestClassifier : public Estimator {
 public:
  using Options = RandomForestClassifierOptions;
  explicit RandomForestClassifier(Options options = Options(),
                                  BackendPtr backend = default_backend());

  // X: n × d host f32 (NaN = missing); y: n class labels.
  RandomForestClassifier& fit(const Tensor& X, const Tensor& y,
                              const Tensor& sample_weight = Tensor());
  Tensor predict(const Tensor& X) const;        // n × 1 labels
  Tensor predict_proba(const Tensor& X) const;  // n × n_classes: the trees' mean probabilities

  const Options& options() const { return options_; }
  const std::vector<double>& classes() const;
  std::int64_t n_features_in() const;
  const std::vector<Tree>& trees() const;
  Tensor feature_importances() const;    // 1 × d, mean of the trees' normalized importances
  double oob_score() const;              // accuracy on out-of-bag predictions (oob_score=true)
  Tensor oob_decision_function() const;  // n × n_classes (NaN rows: never out of bag)
  Tensor apply(const Tensor& X) const;   // n × n_trees i32: the leaf of each row in each tree
  // warm_start: the next fit keeps `fitted`'s trees (and must see the same classes) and grows
  // only the ones it lacks. The options are this model's.
  void warm_start_from(const RandomForestClassifier& fitted);

  static RandomForestClassifier load(std::istream& in, BackendPtr backend = default_backend()) {
    return load_model<RandomForestClassifier>(in, std::move(backend));
  }

 private:
  void visit(Archive& a) override;
  Options options_;
  std::vector<double> classes_;
  std::int64_t n_features_ = 0;
  std::vector<Tree> trees_;
  std::vector<std::uint64_t> seeds_;  // per tree, its generator's seed (for its out-of-bag rows)
  std::vector<double> importances_;
  double oob_score_ = 0;
  Tensor oob_decision_;
};

class RandomForestRegressor : public Estimator {
 public:
  using Options = RandomForestRegressorOptions;
  explicit RandomForestRegressor(Options options = Options(),
                                 BackendPtr backend = default_backend());

  RandomForestRegressor& fit(const Tensor& X, const Tensor& y,
                             const Tensor& sample_weight = Tensor());
  Tensor predict(const Tensor& X) const;  // n × 1: the trees' mean

  const Options& options() const { return options_; }
  std::int64_t n_features_in() const;
  const std::vector<Tree>& trees() const;
  Tensor feature_importances() const;
  double oob_score() const;       // R² of the out-of-bag predictions (oob_score=true)
  Tensor oob_prediction() const;  // n × 1 (NaN: never out of bag)
  Tensor apply(const Tensor& X) const;
  void warm_start_from(const RandomForestRegressor& fitted);

  static RandomForestRegressor load(std::istream& in, BackendPtr backend = default_backend()) {
    return load_model<RandomForestRegressor>(in, std::move(backend));
  }

 private:
  void visit(Archive& a) override;
  Options options_;
  std::int64_t n_features_ = 0;
  std::vector<Tree> trees_;
  std::vector<std::uint64_t> seeds_;  // per tree, its generator's seed (for its out-of-bag rows)
  std::vector<double> importances_;
  double oob_score_ = 0;
  Tensor oob_prediction_;
};

}  // namespace mlcore
