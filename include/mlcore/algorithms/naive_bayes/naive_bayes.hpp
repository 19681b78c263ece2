// Naive Bayes: GaussianNB and MultinomialNB.
//
// Both score a sample x against each class k by a joint log-likelihood
//   jll[i, k] = log P(class k) + log P(xᵢ | class k)
// that is *linear in a few feature maps of x*, so scoring n samples against K classes is a GEMM:
//
//   MultinomialNB:  log P(x | k) = Σⱼ xⱼ·log θ_kj (+ a term that does not depend on k)
//                   jll = X · log θᵀ + log prior                           one gemm, n·d·K MACs
//   GaussianNB:     log P(x | k) = −½ Σⱼ [log 2πσ²_kj + (xⱼ − μ_kj)² / σ²_kj]; expanding the
//                   square, (x − μ)²/σ² = x²·(1/σ²) − 2x·(μ/σ²) + μ²/σ², so
//                   jll = X²·(−½/σ²)ᵀ + X·(μ/σ²)ᵀ + const_k                two gemms (β = 1)
//                   with X² = map(square, X).
// predict_proba / predict_log_proba = softmax_rows(jll) (log option); predict = the argmax
// (argmin_rows of −jll).
//
// Fitting is a handful of passes over X: per-class sums are a scatter_add of the rows of X into
// the row of their class (index = class code), i.e. a one-hot(y)ᵀ·X product without the zeros:
//   feature sums   S = scatter_add(code, X)                       K × d
//   GaussianNB's variance, in two passes for accuracy: M = gather_rows(μ, code) (each sample's
//   class mean), M = X − M, map(square), scatter_add(code, M)  →  Σ (x − μ_k)² per class.
//   (The one-pass E[x²] − E[x]² loses every digit when |mean| ≫ spread.)
//
// Precision of the GaussianNB expansion. x²/σ² and 2xμ/σ² can be much larger than their
// difference (x − μ)²/σ²: the GEMM then leaves an error proportional to those terms (about
// 1e-7 of them in f32, about 1% in int8). So X is shifted and scaled per feature first,
// x″ = (x − c)/sd (on the backend, src/algorithms/common/columns.hpp; the weights are rewritten
// for x″ on the host), with c the mean of the feature's *tightest* class — the class with the
// smallest variance on it. That class has the largest weights 1/σ² on the feature, and its terms
// now vanish (μ″ = 0, and x″² ≈ 0 for its own samples) instead of cancelling: for its samples the
// error term is proportional to x″², which is small exactly where the weight is large.
//
// The weights span orders of magnitude: a feature (nearly) constant within one class (digits'
// blank border pixels) has a precision 1/σ² up to 1/(var_smoothing · max var) ≈ 1e9 times the
// others', a "hard" constraint ("this class never has ink here") whose terms are exactly 0 when
// x equals the class mean and huge otherwise, as they should be. Both GEMMs say so to the
// backend (GemmHints::wide_range_b), and predict / predict_proba also say that they use only the
// differences between a sample's class scores (rows_up_to_constant; predict_joint_log_proba does
// not). An f32 backend needs neither; an int8 backend uses them to keep the small weights
// (magnitude bands) and to narrow the weights' range (src/systolic/quantize.hpp).
// MultinomialNB's predict / predict_proba pass rows_up_to_constant too, and its X is scaled per
// column when the features' magnitudes differ widely (the weights take the inverse scale).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <vector>

#include "mlcore/estimator.hpp"
#include "mlcore/sparse.hpp"
#include "mlcore/tensor.hpp"

namespace mlcore {

struct GaussianNBOptions {
  // Added to every variance: var_smoothing × the largest variance of any feature (over all
  // samples), so a feature constant within a class does not give a zero variance.
  double var_smoothing = 1e-9;
  // Class prior probabilities in classes() order (≥ 0, summing to 1); empty: the class
  // frequencies of the training data.
  std::vector<double> priors;
};

struct MultinomialNBOptions {
  double alpha = 1.0;       // additive (Laplace / Lidstone) smoothing of the feature counts, ≥ 0
  bool force_alpha = true;  // false: an alpha below 1e-10 is raised to 1e-10 (as scikit-learn)
  bool fit_prior = true;    // false: uniform class prior
  std::vector<double> class_prior;  // explicit prior in classes() order (overrides fit_prior)
};

namespace detail {
// What the two share: classes, the jll → probabilities / labels step.
class NaiveBayesBase : public Estimator {
 public:
  // n × K joint log-likelihood log P(k) + log P(xᵢ | k), columns in classes() order.
  Tensor predict_joint_log_proba(const Tensor& X) const;
  Tensor predict_proba(const Tensor& X) const;      // n × K
  Tensor predict_log_proba(const Tensor& X) const;  // n × K
  Tensor predict(const Tensor& X) const;            // n × 1 class labels
  // The same four for sparse X (n × d CSR): MultinomialNB's jll is one spmm. GaussianNB refuses
  // sparse X, as scikit-learn's does.
  Tensor predict_joint_log_proba(const CsrMatrix& X) const;
  Tensor predict_proba(const CsrMatrix& X) const;
  Tensor predict_log_proba(const CsrMatrix& X) const;
  Tensor predict(const CsrMatrix& X) const;

  const std::vector<double>& classes() const;
  // Σ of sample weights per class (the number of samples without weights), 1 × K.
  const Tensor& class_count() const;
  std::int64_t n_features_in() const;

 protected:
  NaiveBayesBase(BackendPtr backend, const char* name, std::uint32_t model_version)
      : Estimator(name, model_version, std::move(backend)) {}
  // jll on the device, n × K; `exact` = false allows a constant per sample (see above).
  virtual Tensor jll_on_device(const Tensor& Xd, bool exact) const = 0;
  // The same for sparse X on the device; by default the estimator refuses sparse input.
  virtual Tensor jll_sparse_on_device(const CsrMatrix& Xd, bool exact) const;
  void check_predict_input(const Tensor& X) const;
  void check_predict_input(const CsrMatrix& X) const;
  // What the four predictions make of the jll Q (n × K, on the device).
  enum class Output { joint, proba, log_proba, labels };
  Tensor finish_prediction(Tensor Q, Output what) const;

  std::vector<double> classes_;
  Tensor class_count_;  // 1 × K
  std::int64_t n_features_ = 0;
};
}  // namespace detail

// Gaussian naive Bayes (scikit-learn's GaussianNB).
class GaussianNB : public detail::NaiveBayesBase {
 public:
  using Options = GaussianNBOptions;
  explicit GaussianNB(Options options = {}, BackendPtr backend = default_backend());

  // X: n × d; y: n class labels (≥ 2 distinct); sample_weight: empty or n values ≥ 0.
  GaussianNB& fit(const Tensor& X, const Tensor& y, const Tensor& sample_weight = Tensor());
  // One batch of an out-of-core fit (scikit-learn's partial_fit): each class's mean and
  // variance so far are merged with the batch's (Chan, Golub & LeVeque's pairwise update), so any
  // split of the rows into batches gives fit's statistics. y holds class codes 0 … n_classes − 1
  // (a class with no samples yet has mean 0, variance epsilon and count 0). As scikit-learn's,
  // epsilon is var_smoothing × the largest column variance of the latest batch. A call on an
  // unfitted model, or whose n_classes differs from the model's classes (0 … n_classes − 1),
  // starts from nothing; otherwise X must have the model's number of features.
  GaussianNB& partial_fit(const Tensor& X, const Tensor& y, std::int64_t n_classes,
                          const Tensor& sample_weight = Tensor());

  const Options& options() const { return options_; }
  const Tensor& theta() const;        // K × d per-class feature means
  const Tensor& var() const;          // K × d per-class feature variances (+ epsilon)
  const Tensor& class_prior() const;  // 1 × K
  double epsilon() const;             // the variance added to every entry of var()

  static GaussianNB load(std::istream& in, BackendPtr backend = default_backend()) {
    return load_model<GaussianNB>(in, std::move(backend));
  }

 private:
  void visit(Archive& a) override;
  std::vector<std::pair<std::string, Tensor*>> fitted_arrays() override;
  Tensor jll_on_device(const Tensor& Xd, bool exact) const override;
  // The fit after the class statistics: theta and var (K × d host, var with epsilon_ added),
  // class totals (1 × K), the classes, and the columns' spread for the expansion's scale.
  void finish_fit(const Tensor& theta, const Tensor& var, const Tensor& count,
                  std::vector<double> classes, const Tensor& input_scale);

  Options options_;
  Tensor theta_, var_, class_prior_;
  // The centre and scale of the expansion: x″ = (x − c)/sd per column (1 × d each).
  Tensor input_shift_, input_scale_;
  double epsilon_ = 0.0;
};

// Multinomial naive Bayes for counts / frequencies (scikit-learn's MultinomialNB).
class MultinomialNB : public detail::NaiveBayesBase {
 public:
  using Options = MultinomialNBOptions;
  explicit MultinomialNB(Options options = {}, BackendPtr backend = default_backend());

  // X: n × d, non-negative; y: n class labels (≥ 2 distinct); sample_weight: empty or n ≥ 0.
  MultinomialNB& fit(const Tensor& X, const Tensor& y, const Tensor& sample_weight = Tensor());
  // The same for sparse X (n × d CSR): the feature counts are one transposed spmm,
  // Xᵀ·(w ⊙ onehot(y)) (d × K), nnz·K MACs; X is not rescaled (predict uses it raw).
  MultinomialNB& fit(const CsrMatrix& X, const Tensor& y, const Tensor& sample_weight = Tensor());
  // One batch of an out-of-core fit (scikit-learn's partial_fit): its counts are added to those
  // seen so far and the model is recomputed from the sums, so any split of the rows into
  // batches gives fit's counts. y holds class codes 0 … n_classes − 1 (the classes are fixed by
  // the first call; a class with no samples yet has count 0 and log prior −inf). A call on an
  // unfitted model, or whose n_classes differs from the model's classes (0 … n_classes − 1),
  // starts from zero counts; otherwise X must have the model's number of features. Dense X:
  // predict's column scaling is chosen from the latest batch.
  MultinomialNB& partial_fit(const Tensor& X, const Tensor& y, std::int64_t n_classes,
                             const Tensor& sample_weight = Tensor());
  MultinomialNB& partial_fit(const CsrMatrix& X, const Tensor& y, std::int64_t n_classes,
                             const Tensor& sample_weight = Tensor());

  const Options& options() const { return options_; }
  const Tensor& feature_count() const;     // K × d  Σ (weighted) counts per class
  const Tensor& feature_log_prob() const;  // K × d  log θ_kj
  const Tensor& class_log_prior() const;   // 1 × K

  static MultinomialNB load(std::istream& in, BackendPtr backend = default_backend()) {
    return load_model<MultinomialNB>(in, std::move(backend));
  }

 private:
  void visit(Archive& a) override;
  std::vector<std::pair<std::string, Tensor*>> fitted_arrays() override;
  Tensor jll_on_device(const Tensor& Xd, bool exact) const override;
  Tensor jll_sparse_on_device(const CsrMatrix& Xd, bool exact) const override;
  // The fit after the per-class sums: counts (K × d, host f32), class totals (1 × K, host).
  void finish_fit(const Tensor& counts, const Tensor& count, std::vector<double> classes);
  // fit and partial_fit (n_classes > 0) on dense or sparse X.
  template <class Input>
  MultinomialNB& fit_batch(const Input& X, const Tensor& y, const Tensor& sample_weight,
                           std::int64_t n_classes);
  // A partial_fit that continues (this model has classes 0 … K − 1) starts from the model's
  // counts (K × d, 1 × K); otherwise *counts and *count are left as they are (zeros).
  void continue_counts(std::int64_t K, std::int64_t d, Tensor* counts, Tensor* count) const;

  Options options_;
  Tensor feature_count_, feature_log_prob_, class_log_prior_;
  // How X is fed to the GEMM (src/algorithms/common/columns.hpp): as it is, or scaled per column.
  bool raw_input_ = true;
  Tensor input_shift_, input_scale_;  // 1 × d each, when !raw_input_
};

}  // namespace mlcore
