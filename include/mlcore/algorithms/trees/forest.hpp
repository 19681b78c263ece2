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
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "mlcore/algorithms/trees/tree.hpp"
#include "mlcore/estimator.hpp"

namespace mlcore {

struct RandomForestClassifierOptions {
  std::int64_t n_estimators = 100;
  std::string criterion = "gini";  // "gini", "entropy", "log_loss"
  std::int64_t max_depth = kNoLimit;
  std::int64_t min_samples_split = 2;
  std::int64_t min_samples_leaf = 1;
  MaxFeatures max_features{MaxFeatures::Kind::sqrt, 0};
  double min_impurity_decrease = 0.0;
  bool bootstrap = true;
  bool oob_score = false;
  int n_jobs = -1;  // threads growing trees; ≤ 0: OpenMP's default (all cores)
  std::uint64_t random_state = 0;
  int max_bins = 255;
};

struct RandomForestRegressorOptions {
  std::int64_t n_estimators = 100;
  std::string criterion = "squared_error";
  std::int64_t max_depth = kNoLimit;
  std::int64_t min_samples_split = 2;
  std::int64_t min_samples_leaf = 1;
  MaxFeatures max_features{MaxFeatures::Kind::fraction, 1.0};
  double min_impurity_decrease = 0.0;
  bool bootstrap = true;
  bool oob_score = false;
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

  static RandomForestClassifier load(std::istream& in, BackendPtr backend = default_backend()) {
    return load_model<RandomForestClassifier>(in, std::move(backend));
  }

 private:
  void visit(Archive& a) override;
  Options options_;
  std::vector<double> classes_;
  std::int64_t n_features_ = 0;
  std::vector<Tree> trees_;
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

  static RandomForestRegressor load(std::istream& in, BackendPtr backend = default_backend()) {
    return load_model<RandomForestRegressor>(in, std::move(backend));
  }

 private:
  void visit(Archive& a) override;
  Options options_;
  std::int64_t n_features_ = 0;
  std::vector<Tree> trees_;
  std::vector<double> importances_;
  double oob_score_ = 0;
  Tensor oob_prediction_;
};

}  // namespace mlcore
