// LogisticRegression: binary (sigmoid) and multinomial (softmax) logistic regression with an L2,
// L1 or elastic-net penalty, fitted by L-BFGS (L2) or OWL-QN (any L1 part).
//
// The objective is scikit-learn's, divided by S = Σ sᵢ so that tol means the same thing as
// there (ρ = l1_ratio):
//   F(W, b) = (1/S)·Σᵢ sᵢ·loss(yᵢ, xᵢW + b) + [ρ·‖W‖₁ + (1 − ρ)·½‖W‖²] / (C·S)
// (b is not penalised, unless penalize_intercept: then, as liblinear, b is the weight of an
// extra constant feature of value intercept_scaling, b = intercept_scaling·w₀, and w₀ is
// penalised like the other weights.)
// with sᵢ = sample_weight[i] · class_weight[yᵢ], and
//   binary (K' = 1 column):  loss = log(1 + e^z) − y·z              y ∈ {0, 1}
//   multinomial (K' = K):   loss = −log softmax(z)_y
//
// The optimiser (L-BFGS, src/algorithms/lbfgs.*) runs on the host over the (d + 1)·K'
// parameters; every evaluation of F and ∇F runs on the backend:
//   Z = X·Wᵀ               gemm / gemv    n × K'       n·d·K' MACs
//   Z += b                 add_row_vector
//   binary:      loss = Σ sᵢ·log1pexp(ỹᵢ·zᵢ), ỹ = 1 − 2y ∈ {±1}   (multiply, map, reduction)
//                R = s ⊙ (sigmoid(Z) − y)                          (map, axpby, scale_rows)
//   multinomial: L = log_softmax(Z); loss = −Σ (s ⊙ Y) ⊙ L          (softmax_rows, multiply,
//                R = s ⊙ (exp(L) − Y)           Y one-hot          reduce_cols, map, axpby)
//   ∇W = XᵀR              gemm / gemv    d × K'       n·d·K' MACs
//   ∇b = Σᵢ Rᵢ            reduce_cols
// so a fit costs 2·n·d·K' MACs per evaluation, about one evaluation per iteration.
//
// Unless the features are already alike (|mean| ≤ sd, sds within a factor 4, e.g. standardized
// data: then X is used as it is), X is centred and scaled per column once on the backend
// (Xs = (X − x̄)/sd, src/algorithms/common/columns.hpp) and L-BFGS works on the weights of Xs,
// w″ = sd ⊙ w, with the penalty written in the original weights (½‖w″/sd‖²) and the intercept
// moved back at the end (b ← b″ − x̄·w). The minimiser is the same as scikit-learn's, but the
// problem L-BFGS sees is far better conditioned (badly scaled features make a long narrow
// valley), Z = X·W no longer sums large terms that cancel, and on the int8 systolic backend
// every feature gets the whole int8 range. The convergence test still reads the gradient with
// respect to the original w.
//
// With an L1 part (ρ > 0) the optimiser is OWL-QN (src/algorithms/common/owlqn.hpp): L-BFGS on
// the smooth part with the pseudo-gradient of the L1 term and steps kept inside one orthant, so
// that weights the penalty pins at 0 are exactly 0 (as scikit-learn's saga and liblinear give).
// The evaluations on the backend are the same. Its convergence test reads the pseudo-gradient.
//
// Multinomial fits without an L1 part return W and b with Σ_k W_k = 0 and Σ_k b_k = 0 exactly
// (the class mean removed after the fit: the L2 optimum's own constraint, the loss unchanged).
//
// Convergence: max |∇F| ≤ tol (scikit-learn's test for lbfgs), or no relative decrease of F
// within 64 machine epsilons, or the gradient's noise floor: on the int8 systolic backend the
// gradient is only good to about 1%, far above tol, and once no step along −∇F lowers F the
// optimum has been reached to that precision (solver_message() says which test stopped it;
// see src/algorithms/common/lbfgs.hpp). n_iter() counts the iterations; converged() is false when
// max_iter was reached.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "mlcore/estimator.hpp"
#include "mlcore/sparse.hpp"
#include "mlcore/tensor.hpp"

namespace mlcore {

namespace detail {
struct InputTransform;  // src/algorithms/common/columns.hpp
}  // namespace detail

struct LogisticRegressionOptions {
  double C = 1.0;      // inverse penalty strength, > 0; +infinity: no penalty
  double tol = 1e-4;   // stop when max |∇F| ≤ tol; ≥ 0
  int max_iter = 100;  // L-BFGS iterations, ≥ 0
  bool fit_intercept = true;
  // class_weight: every class weighs 1 unless `class_weight_balanced` (class k weighs
  // Σw / (K · Σ_{i in k} wᵢ), scikit-learn's 'balanced') or listed in `class_weight`
  // ({class label → weight}; labels absent from y are an error).
  bool class_weight_balanced = false;
  std::map<double, double> class_weight;
  int lbfgs_memory = 10;  // (s, y) pairs L-BFGS keeps (scipy's maxcor)
  // Elastic-net mixing ρ in [0, 1]: 0 is the L2 penalty, 1 the L1 penalty (scikit-learn's
  // l1_ratio). Any ρ > 0 with a finite C is solved by OWL-QN.
  double l1_ratio = 0.0;
  // liblinear's formulation: the intercept is the weight of a constant feature of value
  // intercept_scaling (> 0) and is penalised with the other weights.
  bool penalize_intercept = false;
  double intercept_scaling = 1.0;
};

class LogisticRegression : public Estimator {
 public:
  using Options = LogisticRegressionOptions;
  explicit LogisticRegression(Options options = {}, BackendPtr backend = default_backend());

  // X: n × d; y: n class labels (any float values, at least 2 distinct); sample_weight: empty
  // or n values ≥ 0.
  LogisticRegression& fit(const Tensor& X, const Tensor& y, const Tensor& sample_weight = Tensor());
  // The same for sparse X (n × d CSR), used as it is: each evaluation is spmm for the scores
  // and the transposed spmm for the gradient, nnz·K' MACs each.
  LogisticRegression& fit(const CsrMatrix& X, const Tensor& y,
                          const Tensor& sample_weight = Tensor());

  // n × K' scores X·Wᵀ + b (K' = 1 for two classes: the score of classes[1]).
  Tensor decision_function(const Tensor& X) const;
  // n × K class probabilities (columns in classes() order).
  Tensor predict_proba(const Tensor& X) const;
  Tensor predict_log_proba(const Tensor& X) const;
  // n × 1 predicted class labels.
  Tensor predict(const Tensor& X) const;
  // The same four for sparse X: one spmm for the scores.
  Tensor decision_function(const CsrMatrix& X) const;
  Tensor predict_proba(const CsrMatrix& X) const;
  Tensor predict_log_proba(const CsrMatrix& X) const;
  Tensor predict(const CsrMatrix& X) const;

  // The next fit starts from these weights instead of 0 (scikit-learn's warm_start): coef K' × d
  // and intercept 1 × K' as coef() and intercept() give them (checked against the data at fit);
  // empty tensors: start from 0 again.
  void set_start(const Tensor& coef, const Tensor& intercept);

  const Options& options() const { return options_; }
  const std::vector<double>& classes() const;
  // coef: K' × d (1 × d for two classes); intercept: 1 × K'.
  const Tensor& coef() const;
  const Tensor& intercept() const;
  std::int64_t n_features_in() const;
  int n_iter() const;
  bool converged() const;
  // Why the solver stopped (for warnings).
  const std::string& solver_message() const;
  bool fitted() const { return fitted_; }

  static LogisticRegression load(std::istream& in, BackendPtr backend = default_backend()) {
    return load_model<LogisticRegression>(in, std::move(backend));
  }

 private:
  void visit(Archive& a) override;
  std::vector<std::pair<std::string, Tensor*>> fitted_arrays() override;
  // Z = X·Wᵀ + b on the backend, centring X when the training means ask for it: n × K', or
  // with all_classes n × K (for two classes the columns [0, z]).
  Tensor scores_on_device(const Tensor& X, bool all_classes) const;
  Tensor scores_on_device(const CsrMatrix& X, bool all_classes) const;
  // The weights and bias the scores use: Kc × d and 1 × Kc (see scores_on_device).
  std::pair<Tensor, Tensor> class_weights(bool all_classes) const;
  // The fit after X is on the device: Products gives the two products with X (the .cpp's
  // DenseProducts / SparseProducts), input the transform chosen for X (columns.hpp).
  template <class Products>
  void fit_with(const Products& products, std::int64_t n, std::int64_t d, const Tensor& y,
                const Tensor& sample_weight, const detail::InputTransform& input);
  template <class Input>
  Tensor decision_function_impl(const Input& X) const;
  template <class Input>
  Tensor predict_proba_impl(const Input& X) const;
  template <class Input>
  Tensor predict_log_proba_impl(const Input& X) const;
  template <class Input>
  Tensor predict_impl(const Input& X) const;

  Options options_;
  std::vector<double> classes_;
  Tensor coef_;       // K' × d
  Tensor intercept_;  // 1 × K'
  // How X is fed to the GEMMs (src/algorithms/common/columns.hpp): as it is, or shifted and scaled
  // per column like the training data.
  bool raw_input_ = true;
  Tensor input_shift_, input_scale_;     // 1 × d each, when !raw_input_
  Tensor start_coef_, start_intercept_;  // set_start's weights (host), or empty
  int n_iter_ = 0;
  bool converged_ = false;
  std::string message_;
};

}  // namespace mlcore
