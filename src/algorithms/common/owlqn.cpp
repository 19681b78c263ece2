// OWL-QN (orthant-wise limited-memory quasi-Newton). See owlqn.hpp for the algorithm.
#include "algorithms/common/owlqn.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <vector>

namespace mlcore::detail {

namespace {

constexpr double kC1 = 1e-4;  // sufficient decrease, as in L-BFGS

struct Pair {
  Eigen::VectorXd s, y;
  double rho;  // 1 / (yᵀs)
};

// −H·v by the two-loop recursion with H₀ = γI, γ = sᵀy / yᵀy of the newest pair.
Eigen::VectorXd quasi_newton(const std::deque<Pair>& pairs, const Eigen::VectorXd& v) {
  Eigen::VectorXd q = v;
  std::vector<double> a(pairs.size());
  for (std::size_t i = pairs.size(); i-- > 0;) {
    a[i] = pairs[i].rho * pairs[i].s.dot(q);
    q -= a[i] * pairs[i].y;
  }
  if (!pairs.empty()) q *= pairs.back().s.dot(pairs.back().y) / pairs.back().y.squaredNorm();
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    q += (a[i] - pairs[i].rho * pairs[i].y.dot(q)) * pairs[i].s;
  }
  return -q;
}

double sign(double v) { return v > 0.0 ? 1.0 : (v < 0.0 ? -1.0 : 0.0); }

// ◇F at x for the smooth gradient g (see owlqn.hpp).
Eigen::VectorXd pseudo_gradient(const Eigen::VectorXd& x, const Eigen::VectorXd& g,
                                const Eigen::VectorXd& l1) {
  Eigen::VectorXd pg(x.size());
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    if (x(i) != 0.0) {
      pg(i) = g(i) + l1(i) * sign(x(i));
    } else if (g(i) + l1(i) < 0.0) {
      pg(i) = g(i) + l1(i);
    } else if (g(i) - l1(i) > 0.0) {
      pg(i) = g(i) - l1(i);
    } else {
      pg(i) = 0.0;
    }
  }
  return pg;
}

double l1_norm(const Eigen::VectorXd& x, const Eigen::VectorXd& l1) {
  return l1.cwiseProduct(x.cwiseAbs()).sum();
}

struct Step {
  bool ok = false;
  Eigen::VectorXd x, g;
  double F = 0.0;
};

// Backtracking from t0 along p within the orthant `orthant` (signs; 0: the coordinate stays 0).
Step backtrack(const Objective& fun, const Eigen::VectorXd& l1, const Eigen::VectorXd& x, double F0,
               const Eigen::VectorXd& pg, const Eigen::VectorXd& p, const Eigen::VectorXd& orthant,
               double t0, int max_eval, int& n_eval) {
  Step st;
  st.g.resize(x.size());
  double t = t0;
  for (int k = 0; k < max_eval; ++k, t *= 0.5) {
    Eigen::VectorXd xn = x + t * p;
    for (Eigen::Index i = 0; i < xn.size(); ++i) {
      if (sign(xn(i)) != orthant(i)) xn(i) = 0.0;
    }
    const double f = fun(xn, st.g);
    ++n_eval;
    if (!std::isfinite(f) || !st.g.allFinite()) continue;
    const double F = f + l1_norm(xn, l1);
    if (F <= F0 + kC1 * pg.dot(xn - x)) {
      st.ok = true;
      st.x = std::move(xn);
      st.F = F;
      return st;
    }
  }
  return st;
}

}  // namespace

LbfgsResult minimize_owlqn(const Objective& fun, const Eigen::VectorXd& l1, Eigen::VectorXd& x,
                           const LbfgsOptions& o) {
  LbfgsResult res;
  Eigen::VectorXd g(x.size());
  double F = fun(x, g);
  res.n_eval = 1;
  if (!std::isfinite(F) || !g.allFinite()) {
    res.f = F;
    res.message = "the objective or its gradient is not finite at the starting point";
    return res;
  }
  F += l1_norm(x, l1);
  std::deque<Pair> pairs;
  auto grad_max = [&](const Eigen::VectorXd& v) {
    if (v.size() == 0) return 0.0;
    if (o.gtol_scale.size() == v.size()) return v.cwiseProduct(o.gtol_scale).cwiseAbs().maxCoeff();
    return v.cwiseAbs().maxCoeff();
  };
  for (;;) {
    const Eigen::VectorXd pg = pseudo_gradient(x, g, l1);
    res.grad_max = grad_max(pg);
    if (res.grad_max <= o.gtol) {
      res.converged = true;
      res.message = "converged: max |pseudo-gradient| <= tol";
      break;
    }
    if (res.n_iter >= o.max_iter) {
      res.message = "maximum number of iterations reached";
      break;
    }
    // The orthant of this step: x's signs, and for zeros the side −◇F points to.
    Eigen::VectorXd orthant(x.size());
    for (Eigen::Index i = 0; i < x.size(); ++i) {
      orthant(i) = x(i) != 0.0 ? sign(x(i)) : sign(-pg(i));
    }
    auto constrained = [&](Eigen::VectorXd p) {
      for (Eigen::Index i = 0; i < p.size(); ++i) {
        if (p(i) * pg(i) >= 0.0) p(i) = 0.0;  // keep only components that go downhill
      }
      return p;
    };
    Eigen::VectorXd p = constrained(quasi_newton(pairs, pg));
    if (!(pg.dot(p) < 0.0)) {
      pairs.clear();
      p = -pg;
    }
    // Steepest descent has no scale: its first trial step has length 1 (as in L-BFGS).
    double t0 = pairs.empty() ? std::min(1.0, 1.0 / p.norm()) : 1.0;
    Step st = backtrack(fun, l1, x, F, pg, p, orthant, t0, o.max_linesearch, res.n_eval);
    if (!st.ok && !pairs.empty()) {
      pairs.clear();
      p = -pg;
      t0 = std::min(1.0, 1.0 / p.norm());
      st = backtrack(fun, l1, x, F, pg, p, orthant, t0, o.max_linesearch, res.n_eval);
    }
    if (!st.ok) {
      // No step along −◇F lowers F: ◇F is below the noise of the arithmetic (see lbfgs.hpp).
      res.converged = res.n_iter > 0;
      res.noise_floor = true;
      res.message = res.converged
                        ? "converged to the precision of the arithmetic: no step along the "
                          "negative pseudo-gradient decreases the objective (max |pseudo-gradient| "
                          "is at its noise floor, above tol)"
                        : "the line search found no decrease at the starting point";
      break;
    }
    Pair pair;
    pair.s = st.x - x;
    pair.y = st.g - g;
    const double sy = pair.s.dot(pair.y);
    if (sy > 1e-10 * pair.y.squaredNorm() && sy > 0.0) {
      pair.rho = 1.0 / sy;
      pairs.push_back(std::move(pair));
      if (static_cast<int>(pairs.size()) > o.memory) pairs.pop_front();
    }
    const double F_old = F;
    x = std::move(st.x);
    g = std::move(st.g);
    F = st.F;
    ++res.n_iter;
    if (F_old - F <= o.ftol * std::max({std::fabs(F_old), std::fabs(F), 1.0})) {
      res.grad_max = grad_max(pseudo_gradient(x, g, l1));
      res.converged = true;
      res.message = "converged: relative reduction of the objective <= ftol";
      break;
    }
  }
  res.f = F;
  return res;
}

}  // namespace mlcore::detail
