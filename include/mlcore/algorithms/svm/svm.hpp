// Support vector machines: LinearSVC (dual coordinate descent) and SVC (SMO on a kernel).
//
// LinearSVC minimises  ½‖w‖² + C Σ_i loss(y_i·w·x̃_i)  with the hinge or squared hinge loss.
// x̃ = [x, intercept_scaling] when fit_intercept (the intercept is a weight on a constant
// feature, regularised like the others, as liblinear does). Multiclass is one-vs-rest. Two
// solvers, chosen as scikit-learn's dual="auto" chooses:
//   * dual coordinate descent (Hsieh, Chang, Lin, Keerthi & Sundararajan, "A dual coordinate
//     descent method for large-scale linear SVM", ICML 2008): one dual variable α_i at a time,
//     keeping w = Σ α_i y_i x̃_i up to date, with optional shrinking of variables stuck at a
//     bound. Each step reads the w the previous one wrote, so this loop is sequential host
//     code; the squared norms ‖x̃_i‖² come from the backend. Any loss; best when
//     n_samples < n_features.
//   * primal Newton for the squared hinge (Keerthi & DeCoste, "A modified finite Newton method
//     for fast solution of large scale linear SVMs", JMLR 2005): with I = {i : y_i w·x̃_i < 1},
//     gradient w − 2 X̃_Iᵀ(C(1 − y z) y) and Hessian 1 + 2 X̃_Iᵀ C X̃_I — a GEMV, a GEMV and a
//     GEMM (XᵀDX) over the samples on the backend, then a (d+1)² Cholesky solve on the host,
//     and a backtracking line search. A handful of iterations; best when n_samples ≥ n_features.
// decision_function = X·Wᵀ + b is a GEMM.
//
// SVC solves the dual  min ½αᵀQα − Σα,  0 ≤ α_i ≤ C, yᵀα = 0,  Q_ij = y_i y_j K(x_i, x_j), by
// sequential minimal optimisation with libsvm's working-set selection using second-order
// information (Fan, Chen & Lin, "Working set selection using second order information for
// training support vector machines", JMLR 2005), and shrinking. Rows of the kernel matrix come
// from the backend — a block of rows is one GEMM (linear, poly, sigmoid: gemm then map) or one
// sqdist then map(exp) (rbf) — and are kept in an LRU cache bounded by cache_size megabytes
// (the whole matrix is computed up front, in blocks, when it fits). Multiclass is one-vs-one
// with voting, and every fitted attribute has scikit-learn's layout. Prediction is
// K(X, support_vectors) · dual_coef on the backend, in blocks of rows.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "mlcore/estimator.hpp"
#include "mlcore/tensor.hpp"

namespace mlcore {

struct LinearSVCOptions {
  std::string loss = "squared_hinge";  // or "hinge"
  double C = 1.0;
  // "dual_cd", "primal_newton" (squared_hinge only), or "auto": scikit-learn's dual="auto"
  // rule, primal when n_samples ≥ n_features and the loss allows it, else dual.
  std::string solver = "auto";
  // dual_cd: stop when the projected-gradient spread falls below tol. primal_newton: when
  // ‖gradient‖ ≤ tol · max(min(n_pos, n_neg), 1) / n · ‖initial gradient‖ (liblinear's rule).
  double tol = 1e-4;
  std::int64_t max_iter = 1000;  // passes over the data (dual_cd) or Newton steps, per problem
  bool fit_intercept = true;
  double intercept_scaling = 1.0;
  bool shrinking = true;  // skip variables that sit at a bound (Hsieh et al., §3.2)
  // Per-class weights in the order of the sorted classes (empty: all 1). C of a sample of the
  // positive class of a one-vs-rest problem is C·class_weight (liblinear's convention).
  std::vector<double> class_weight;
  std::uint64_t random_state = 0;  // order of the coordinates in each pass
};

class LinearSVC : public Estimator {
 public:
  explicit LinearSVC(const LinearSVCOptions& options = {}, BackendPtr backend = default_backend());

  // X: n × d; y: n class labels (at least 2 classes); sample_weight: optional n weights ≥ 0.
  LinearSVC& fit(const Tensor& X, const Tensor& y, const Tensor& sample_weight = Tensor());
  // X·coefᵀ + intercept: n × 1 for two classes (positive → classes()[1]), else n × n_classes.
  Tensor decision_function(const Tensor& X) const;
  // n × 1 f32 class labels.
  Tensor predict(const Tensor& X) const;

  const LinearSVCOptions& options() const { return options_; }
  const Tensor& coef() const;       // 1 × d (two classes) or n_classes × d
  const Tensor& intercept() const;  // 1 × 1 or 1 × n_classes
  const std::vector<double>& classes() const;
  std::int64_t n_iter() const;  // the most passes any one-vs-rest problem took
  std::int64_t n_features_in() const;

  static LinearSVC load(std::istream& in, BackendPtr backend = default_backend()) {
    return load_model<LinearSVC>(in, std::move(backend));
  }

 private:
  void visit(Archive& a) override;
  std::vector<std::pair<std::string, Tensor*>> fitted_arrays() override;
  // X·coefᵀ + intercept on the device (n × n_problems).
  Tensor decision_values(const Tensor& X) const;

  LinearSVCOptions options_;
  std::vector<double> classes_;
  Tensor coef_, intercept_;
  std::int64_t n_iter_ = 0;
};

struct SVCOptions {
  double C = 1.0;
  std::string kernel = "rbf";  // "linear", "poly", "rbf", "sigmoid"
  std::int64_t degree = 3;     // poly
  // "scale": 1 / (n_features · Var(X)), "auto": 1 / n_features, "value": gamma_value.
  std::string gamma = "scale";
  double gamma_value = 0.0;
  double coef0 = 0.0;  // poly, sigmoid
  bool shrinking = true;
  double tol = 1e-3;          // stop when the maximal violating pair violates by less than tol
  double cache_size = 200.0;  // MB of kernel rows kept per one-vs-one problem
  std::vector<double> class_weight;  // per class (sorted classes), empty: all 1
  std::int64_t max_iter = -1;        // SMO steps per problem; -1: no limit (a huge safety cap)
  std::string decision_function_shape = "ovr";  // or "ovo"
  bool break_ties = false;  // predict by argmax of the ovr decision function instead of votes
  // Platt scaling for predict_proba (src/algorithms/svm/svc_probability.hpp): each pair's
  // sigmoid is fitted to decision values of an internal 5-fold cross-validation, so fit costs
  // about 5 more fits. random_state orders the samples before they are cut into folds.
  bool probability = false;
  std::uint64_t random_state = 0;
};

class SVC : public Estimator {
 public:
  explicit SVC(const SVCOptions& options = {}, BackendPtr backend = default_backend());

  // X: n × d; y: n class labels (at least 2 classes); sample_weight: optional n weights ≥ 0.
  SVC& fit(const Tensor& X, const Tensor& y, const Tensor& sample_weight = Tensor());
  // Two classes: n × 1 (positive → classes()[1]). More: n × n_classes ("ovr", scikit-learn's
  // votes + scaled confidences) or n × n_classes·(n_classes−1)/2 ("ovo", pairs (0,1), (0,2), …,
  // positive → the first class of the pair).
  Tensor decision_function(const Tensor& X) const;
  // n × 1 f32 class labels: one-vs-one votes, ties → the smallest class.
  Tensor predict(const Tensor& X) const;
  // n × n_classes probabilities (rows sum to 1): the pairs' Platt sigmoids of the one-vs-one
  // decision values, coupled. Needs options().probability at fit.
  Tensor predict_proba(const Tensor& X) const;

  const SVCOptions& options() const { return options_; }
  const std::vector<double>& classes() const;
  const Tensor& support() const;          // n_SV × 1 i32: indices of the support vectors in X
  const Tensor& support_vectors() const;  // n_SV × d, grouped by class
  const std::vector<std::int64_t>& n_support() const;  // per class
  const Tensor& dual_coef() const;                  // (n_classes − 1) × n_SV, scikit-learn's layout
  const Tensor& intercept() const;                  // 1 × n_classes·(n_classes−1)/2
  const std::vector<std::int64_t>& n_iter() const;  // SMO steps per one-vs-one problem
  double gamma() const;                             // the value used (after "scale" / "auto")
  bool converged() const;                           // false when some problem stopped at max_iter
  std::int64_t n_features_in() const;
  // The pairs' sigmoids P(first class | f) = 1 / (1 + exp(A·f + B)), 1 × n_pairs each (libsvm's
  // probA / probB; f with libsvm's sign, positive → the pair's first class). Empty unless
  // options().probability.
  const Tensor& prob_a() const;
  const Tensor& prob_b() const;

  static SVC load(std::istream& in, BackendPtr backend = default_backend()) {
    return load_model<SVC>(in, std::move(backend));
  }

 private:
  void visit(Archive& a) override;
  std::vector<std::pair<std::string, Tensor*>> fitted_arrays() override;
  void fitted_array_changed(const std::string& name) override;
  // sv_coef_, primal_coef_ and rho_ from dual_coef_, intercept_,
  // support_vectors_ and n_support_ (after fit, and after an edit of those arrays).
  void derive_pair_coefficients();
  // The one-vs-one decision values, libsvm's signs (positive → the pair's first class):
  // n × n_pairs, computed class by class from K(X, SV_k) · sv_coef_k − rho in row blocks.
  Tensor ovo_decision(const Tensor& X) const;
  // scikit-learn's "ovr" decision values (n × n_classes) from the one-vs-one ones.
  Tensor ovr_from_ovo(const Tensor& dec) const;
  // prob_a_ / prob_b_ by Platt's internal 5-fold cross-validation (weight[i]: sample i's C
  // factor, its sample weight times its class weight; 0 leaves it out).
  void fit_probability(const Tensor& X, const std::vector<std::int32_t>& code,
                       const std::vector<double>& weight);

  SVCOptions options_;
  double gamma_ = 0.0;
  bool converged_ = true;
  std::vector<double> classes_;
  Tensor support_, support_vectors_, dual_coef_, intercept_;
  std::vector<std::int64_t> n_support_, n_iter_;
  Tensor sv_coef_;          // n_SV × (K−1): dual_coef_ᵀ with the pairs' own signs (libsvm packing)
  Tensor primal_coef_;      // linear kernel: n_pairs × d, w_p = Σ_s coef(s, p) · sv_s
  Tensor rho_;              // 1 × n_pairs
  Tensor prob_a_, prob_b_;  // 1 × n_pairs each when options_.probability
};

}  // namespace mlcore
