// L-BFGS: limited-memory quasi-Newton minimisation of a smooth function, on the host.
//
// The parameters (a logistic regression's d × K weights) are few; the function and its gradient
// are where the time goes, and the caller computes them on its backend. L-BFGS needs only
// gradients: from the last m steps s = x_{k+1} − x_k and gradient changes y = g_{k+1} − g_k it
// builds, by the two-loop recursion, a product H·g with an approximation H of the inverse
// Hessian — Newton-like steps without ever forming a d × d matrix.
//
//   x₀, g₀ = ∇f(x₀)
//   repeat:  p = −H·g                      two-loop recursion over the stored (s, y) pairs
//            find t with the strong Wolfe conditions along p    (line search, below)
//            x ← x + t·p;  store s = t·p, y = g_new − g;  drop the oldest pair beyond m
//   until ‖g‖∞ ≤ gtol (converged), or f stops decreasing relative to its size (ftol), or
//   max_iter iterations.
//
// Line search (Nocedal & Wright, Numerical Optimization, algorithms 3.5 and 3.6): bracket a step
// satisfying f(x + t·p) ≤ f(x) + c₁·t·gᵀp (sufficient decrease) and |∇f(x + t·p)ᵀp| ≤ c₂·|gᵀp|
// (curvature), then shrink the bracket by safeguarded cubic interpolation. Each trial step costs
// one function + gradient evaluation. Near the optimum, f changes by less than its own f32
// rounding while the gradient is still accurate; there the sufficient-decrease test switches to
// Hager & Zhang's approximate Wolfe condition, which reads the slope instead of f.
//
// Written for noisy gradients too: on the int8 systolic backend f and g carry ~1% relative
// error, so the gradient has a noise floor far above a tol such as 1e-4. The optimiser
// recognises it: when a line search along −g (the steepest-descent direction, along which a
// small enough step must lower an exact f) finds no decrease, the gradient is no longer
// telling the truth about f, and the point is the optimum to the arithmetic's precision. It
// then stops with converged = true, noise_floor = true and says so in `message`. In f32 this
// happens only when ‖g‖ is within rounding of 0.
#pragma once

#include <Eigen/Dense>
#include <functional>
#include <string>

namespace mlcore::detail {

struct LbfgsOptions {
  int max_iter = 100;  // iterations (each: one line search, usually one evaluation)
  double gtol = 1e-4;  // stop when max |gᵢ| ≤ gtol
  double ftol =
      64 * 2.220446049250313e-16;  // stop when (f_k − f_{k+1}) ≤ ftol·max(|f_k|, |f_{k+1}|, 1)
  int memory = 10;                 // m: (s, y) pairs kept (scipy's maxcor)
  int max_linesearch = 20;         // evaluations per line search before giving up
  // When the parameters are a rescaling x = D·u of the caller's (for better conditioning), the
  // convergence test should still read the caller's gradient ∇_u f = D·∇_x f: give D's
  // diagonal here (empty: the identity).
  Eigen::VectorXd gtol_scale;
};

struct LbfgsResult {
  int n_iter = 0;  // iterations completed
  int n_eval = 0;  // function + gradient evaluations
  bool converged = false;
  // Stopped because the gradient is at the noise floor of its arithmetic (see
  // "Written for noisy gradients" above): converged to that precision, not to gtol.
  bool noise_floor = false;
  double f = 0.0;         // f at the returned x
  double grad_max = 0.0;  // max |gtol_scaleᵢ·gᵢ| at the returned x
  std::string message;    // why it stopped
};

// f(x, g): returns f(x) and writes ∇f(x) into g (already sized like x).
using Objective = std::function<double(const Eigen::VectorXd& x, Eigen::VectorXd& g)>;

// Minimises f from x (updated in place to the best point found).
LbfgsResult minimize_lbfgs(const Objective& f, Eigen::VectorXd& x, const LbfgsOptions& options);

}  // namespace mlcore::detail
