// Histogram gradient boosting (the LightGBM / XGBoost-hist method, with the parameters of
// scikit-learn's HistGradientBoosting*): GradientBoostingClassifier and GradientBoostingRegressor.
//
// The model is raw(x) = baseline + Σ_iterations Σ_trees leaf value. Each iteration:
//   1. g, h ← the loss's gradient and hessian at the current raw predictions (host, O(n·K),
//      in double: see below);
//        squared error  g = raw − y,  h = 1
//        binary log-loss  p = σ(raw),  g = p − y,  h = p(1 − p)
//        multiclass (one tree per class)  p = softmax(raw),  g_k = p_k − [y = k],  h_k = p_k(1 −
//        p_k)
//        poisson (log link: raw = log mean)  g = e^raw − y,  h = e^raw
//        gamma (log link)  g = 1 − y·e^−raw,  h = y·e^−raw
//      (the regressor's poisson and gamma predict e^raw; their baseline is log of the mean)
//   2. per tree: statistics V = [q_g · 2^24 + 1, q_h] (n × 1 or 2 i64: the count packed under
//      the quantized gradient, then the quantized hessian unless it is constant; exact integer
//      sums, see PackedCodec in src/algorithms/trees/tree_histogram.hpp), and a tree grown
//      best-first (the split with the largest gain G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ) first) up
//      to max_leaf_nodes leaves (with interaction_cst, each node only on the features its
//      branch's constraint groups allow). Every node histogram is one Backend::histogram call over
//      the node's samples, and only the smaller child of a split is built: the larger one is parent
//      − smaller (the histogram-subtraction trick).
//   3. leaf value = −learning_rate · G / (H + λ) with G, H summed exactly over the leaf's samples,
//      added to raw for those samples (the partition already says which leaf each sample is in).
// Early stopping holds out validation_fraction of the data (stratified for the classifier) and
// stops when the validation score — −loss, or with scoring="default" accuracy / R² — has not
// improved by more than tol for n_iter_no_change iterations; "auto" turns it on above 10 000
// samples, as scikit-learn does. (scikit-learn scores the training side of a non-loss scorer on
// a 10 000-row subsample; mlcore on all training rows.)
//
// Why the loss step runs on the host: it is O(n·K) element-wise work per iteration against the
// O(n·d·depth) of the histograms, and keeping it in double on the host makes the gradients
// bit-identical on every backend (an avx2 or GPU exp differs from libm in the last bits, which
// could flip a near-tied split). With exact histogram sums, every backend grows the same trees.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "mlcore/algorithms/trees/tree.hpp"
#include "mlcore/estimator.hpp"

namespace mlcore {

// The validation_fraction that scores early stopping on the training data (scikit-learn's None).
inline constexpr double kNoValidationSplit = 0.0;

// scikit-learn's HistGradientBoosting* parameters and defaults.
struct GradientBoostingOptions {
  std::string loss;  // "log_loss" (classifier) or "squared_error" (regressor); "" = default
  double learning_rate = 0.1;
  std::int64_t max_iter = 100;
  std::int64_t max_leaf_nodes = 31;
  std::int64_t max_depth = kNoLimit;
  std::int64_t min_samples_leaf = 20;
  double l2_regularization = 0.0;
  int max_bins = 255;
  std::string early_stopping = "auto";  // "auto", "true" or "false"
  // What early stopping watches: "loss" (the mean loss), or "default": the estimator's default
  // score, scikit-learn's scoring=None — accuracy for the classifier, R² for the regressor —
  // or by scikit-learn's scorer name: "accuracy" (classifier), "r2",
  // "neg_mean_squared_error", "neg_mean_absolute_error" (regressor).
  std::string scoring = "loss";
  double validation_fraction = 0.1;  // kNoValidationSplit: score on the training data
  std::int64_t n_iter_no_change = 10;
  double tol = 1e-7;
  std::uint64_t random_state = 0;
  // scikit-learn's interaction_cst as groups of feature indices (empty: no constraint). A
  // branch splits only on the features of the groups that hold every feature split on above
  // it; a feature in no group forms a group of its own with the others left out.
  std::vector<std::vector<std::int64_t>> interaction_cst;
};

// Validation rows given to fit (scikit-learn's X_val, y_val, sample_weight_val): when early
// stopping is on, it scores these instead of a validation_fraction split of the training rows,
// all of which then train. X: m × d host f32; y: m labels (classifier: among the training
// labels) or targets; sample_weight: empty or m weights ≥ 0. Empty X: none given.
struct BoostingValidation {
  Tensor X, y, sample_weight;
};

// A fitted boosting model: baseline + trees, n_iter × trees_per_iteration of them.
struct BoostedTrees {
  std::vector<double> baseline;  // one raw score per tree of an iteration
  std::vector<Tree> trees;       // iteration-major: trees[it · K + k]
  int trees_per_iteration = 1;
  std::int64_t n_iter = 0;
  std::int64_t n_features = 0;
  std::vector<double> train_score, validation_score;  // −loss per iteration (0 = baseline)
  std::vector<double> importances;                    // Σ of split gains per feature

  // The raw scores of X (host, n × d) after iterations [0, iterations): baseline + the trees'
  // leaf values, walked on `backend` (Backend::tree_walk_sum); n × K f32 on its device. With
  // `binary_logits` (K = 1 only) the n × 2 logits [0, raw], whose softmax is [1 − σ, σ].
  Tensor raw_predict(Backend& backend, const Tensor& X, std::int64_t iterations,
                     bool binary_logits = false) const;
  // raw (n × K host f32) += the trees of iteration `iteration` (for staged predictions).
  void add_iteration(Backend& backend, const Tensor& X, std::int64_t iteration, Tensor& raw) const;
};

class GradientBoostingClassifier : public Estimator {
 public:
  using Options = GradientBoostingOptions;
  static constexpr const char* kDefaultLoss = "log_loss";  // what Options' loss "" means
  explicit GradientBoostingClassifier(Options options = Options(),
                                      BackendPtr backend = default_backend());

  // X: n × d host f32 (NaN = missing); y: n class labels (at least two classes).
  GradientBoostingClassifier& fit(const Tensor& X, const Tensor& y,
                                  const Tensor& sample_weight = Tensor(),
                                  const BoostingValidation& validation = {});
  Tensor predict(const Tensor& X) const;            // n × 1 labels
  Tensor predict_proba(const Tensor& X) const;      // n × n_classes
  Tensor decision_function(const Tensor& X) const;  // n × K raw scores (K = 1 when binary)
  // raw (n × K, from decision-function space) += iteration `iteration`'s trees; raw starts at
  // baseline_raw(n). For staged_predict / staged_predict_proba.
  void add_iteration(const Tensor& X, std::int64_t iteration, Tensor& raw) const;
  Tensor baseline_raw(std::int64_t n) const;

  const Options& options() const { return options_; }
  const std::vector<double>& classes() const;
  std::int64_t n_features_in() const;
  std::int64_t n_iter() const;
  int n_trees_per_iteration() const;
  const BoostedTrees& model() const;
  Tensor feature_importances() const;  // gain-based, normalized (mlcore extra)

  static GradientBoostingClassifier load(std::istream& in, BackendPtr backend = default_backend()) {
    return load_model<GradientBoostingClassifier>(in, std::move(backend));
  }

 private:
  void visit(Archive& a) override;
  Tensor class_logits(const Tensor& X) const;  // on the backend's device
  Options options_;
  std::vector<double> classes_;
  BoostedTrees model_;
};

class GradientBoostingRegressor : public Estimator {
 public:
  using Options = GradientBoostingOptions;
  static constexpr const char* kDefaultLoss = "squared_error";  // what Options' loss "" means
  explicit GradientBoostingRegressor(Options options = Options(),
                                     BackendPtr backend = default_backend());

  GradientBoostingRegressor& fit(const Tensor& X, const Tensor& y,
                                 const Tensor& sample_weight = Tensor(),
                                 const BoostingValidation& validation = {});
  Tensor predict(const Tensor& X) const;  // n × 1
  void add_iteration(const Tensor& X, std::int64_t iteration, Tensor& raw) const;
  Tensor baseline_raw(std::int64_t n) const;

  const Options& options() const { return options_; }
  std::int64_t n_features_in() const;
  std::int64_t n_iter() const;
  const BoostedTrees& model() const;
  Tensor feature_importances() const;

  static GradientBoostingRegressor load(std::istream& in, BackendPtr backend = default_backend()) {
    return load_model<GradientBoostingRegressor>(in, std::move(backend));
  }

 private:
  void visit(Archive& a) override;
  Options options_;
  BoostedTrees model_;
};

}  // namespace mlcore
