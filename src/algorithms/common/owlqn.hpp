// OWL-QN: L-BFGS for a smooth function plus a weighted L1 norm, on the host (Andrew & Gao,
// "Scalable training of L1-regularized log-linear models", ICML 2007).
//
//   F(x) = f(x) + Σᵢ λᵢ·|xᵢ|        f smooth (the caller's loss + L2 part), λᵢ ≥ 0
//
// |x| has no gradient at 0, so L-BFGS cannot be used as it is. OWL-QN keeps its machinery and
// changes three things:
//   * the pseudo-gradient ◇F replaces ∇F: for xᵢ ≠ 0 it is ∂ᵢf + λᵢ·sign(xᵢ); at xᵢ = 0 it is the
//     one-sided derivative that points downhill (∂ᵢf + λᵢ when that is < 0, ∂ᵢf − λᵢ when that
//     is > 0), or 0 when |∂ᵢf| ≤ λᵢ — the optimality condition of a zero coefficient;
//   * the quasi-Newton direction p = −H·◇F (two-loop recursion over the (s, y) pairs of f's
//     own gradients) is zeroed where it disagrees in sign with −◇F;
//   * each trial point is projected onto the orthant the step started in (coordinates that
//     would cross zero are set to exactly 0), and the line search backtracks on
//     F(x⁺) ≤ F(x) + c₁·◇Fᵀ(x⁺ − x).
// Coefficients that the L1 term pins at 0 are therefore exactly 0, as in scikit-learn's saga
// and liblinear. With every λᵢ = 0 it is L-BFGS with a backtracking line search.
//
// Stops when max |◇F| ≤ gtol (with LbfgsOptions::gtol_scale as in L-BFGS), when F stops
// decreasing relative to its size (ftol), at max_iter, or when no step along −◇F lowers F: the
// noise floor of f32 (or int8) arithmetic, reported as in lbfgs.hpp.
#pragma once

#include <Eigen/Dense>

#include "algorithms/common/lbfgs.hpp"

namespace mlcore::detail {

// Minimises f(x) + Σ l1ᵢ·|xᵢ| from x (updated in place). l1 has x's size, entries ≥ 0.
// LbfgsResult::f is F (with the L1 term) and grad_max is max |◇F| (scaled).
LbfgsResult minimize_owlqn(const Objective& f, const Eigen::VectorXd& l1, Eigen::VectorXd& x,
                           const LbfgsOptions& options);

}  // namespace mlcore::detail
