// LinearSVC's primal Newton method for the squared hinge (Keerthi & DeCoste 2005), written
// against an oracle that computes the sums over the samples, so that one machine (its backend's
// GEMV / GEMM over all rows, linear_svc.cpp) and a Dask cluster (the same sums per row partition,
// reduced on the client: python/mlcore/dask/svm.py through python/src/bind_distributed.cpp) run
// the same iterations, step lengths and stopping rules.
//
//   f(w) = ½‖w‖² + Σ_i C_i max(0, 1 − y_i x̃_i·w)²
//   g = w + X̃ᵀc,   c_i = −2 C_i r_i y_i on I = {i : r_i = 1 − y_i x̃_i·w > 0}, else 0
//   H = 1 + X̃ᵀ diag(h) X̃,   h_i = 2 C_i on I, else 0
//   s = −H⁻¹ g (LDLᵀ, (d+1)², host);  w ← w + t·s with t the largest 2^−k (k < 30) meeting
//   Armijo's f(w + t s) ≤ f(w) + 0.01·t·gᵀs.
// Stops when ‖g‖ ≤ eps·‖g₀‖, when f stagnates (f ≥ f_prev·(1 − 1e-9)), when s is no descent
// direction or no step decreases f, or after max_iter iterations.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <functional>

namespace mlcore::detail {

struct SquaredHingeOracle {
  // At w (da): f0 + Σ_{i∈I} C_i r_i² (added to f0 in sample order), G = X̃ᵀc (da) and
  // S = X̃ᵀ diag(h) X̃ (da × da, unsymmetrised). Returns false when a product overflowed.
  std::function<bool(const Eigen::VectorXd& w, double f0, double& f, Eigen::VectorXd& G,
                     Eigen::MatrixXd& S)>
      evaluate;
  // Along s from w (the w of the last evaluate): a function of (t, f0) giving
  // f0 + Σ C_i max(0, 1 − y_i (x̃_i·w + t x̃_i·s))², for t = 2^−k, k = 0, 1, … in turn.
  std::function<std::function<double(double t, double f0)>(const Eigen::VectorXd& w,
                                                           const Eigen::VectorXd& s)>
      line;
};

struct SquaredHingeResult {
  Eigen::VectorXd w;
  std::int64_t n_iter = 0;
  bool overflow = false;  // the gradient or the Hessian overflowed (X's values too large)
};

// liblinear's tolerance for its primal solvers: tol relative to the first gradient, scaled by
// the minority class's share (pos, neg: the positive and negative samples with C_i > 0).
double primal_eps(double tol, std::int64_t pos, std::int64_t neg);

SquaredHingeResult minimize_squared_hinge(const SquaredHingeOracle& oracle, std::int64_t da,
                                          double eps, std::int64_t max_iter);

}  // namespace mlcore::detail
