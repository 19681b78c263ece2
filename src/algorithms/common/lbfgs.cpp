// L-BFGS with a strong-Wolfe line search. See lbfgs.hpp for the algorithm.
#include "algorithms/common/lbfgs.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>

namespace mlcore::detail {

namespace {

// Wolfe constants: c₁ asks for a tiny decrease (1e-4 of the linear prediction), c₂ = 0.9 accepts
// any step that removed most of the slope — the usual choice for quasi-Newton methods, where
// the step t = 1 is usually right and a precise line minimum is wasted work.
constexpr double kC1 = 1e-4;
constexpr double kC2 = 0.9;
// The approximate Wolfe condition (Hager & Zhang, "A new conjugate gradient method with
// guaranteed descent and an efficient line search", SIAM J. Optim. 2005): δ, and ε, the relative
// size of f's rounding noise (an f32 sum of n losses is good to a few 1e-7).
constexpr double kApproxDelta = 0.1;
constexpr double kRelativeNoise = 1e-6;
// Zoom evaluations spent on the curvature condition after a step with sufficient decrease is in
// hand (see line_search's phase 2). In f32 a zoom that has such a step meets the condition within
// one or two more evaluations; the cap binds on noisy objectives.
constexpr int kMaxZoomPastProgress = 4;

// One trial step t along p: f(x + t·p), its gradient, and the slope gᵀp.
struct Trial {
  double t = 0.0;
  double f = 0.0;
  double slope = 0.0;
  Eigen::VectorXd g;
};

// The minimiser of the cubic through (a.t, a.f, a.slope) and (b.t, b.f, b.slope) (Nocedal &
// Wright eq. 3.59), kept inside the middle 80% of [a.t, b.t]; bisection when the cubic has no
// minimum there or the values are not finite.
double interpolate(const Trial& a, const Trial& b) {
  const double lo = std::min(a.t, b.t), hi = std::max(a.t, b.t);
  const double mid = 0.5 * (lo + hi);
  if (!std::isfinite(a.f) || !std::isfinite(b.f) || !std::isfinite(a.slope) ||
      !std::isfinite(b.slope)) {
    return mid;
  }
  const double d1 = a.slope + b.slope - 3.0 * (a.f - b.f) / (a.t - b.t);
  const double disc = d1 * d1 - a.slope * b.slope;
  if (disc < 0.0) return mid;
  const double d2 = std::copysign(std::sqrt(disc), b.t - a.t);
  const double denom = b.slope - a.slope + 2.0 * d2;
  if (denom == 0.0) return mid;
  const double t = b.t - (b.t - a.t) * (b.slope + d2 - d1) / denom;
  const double margin = 0.1 * (hi - lo);
  if (!std::isfinite(t) || t < lo + margin || t > hi - margin) return mid;
  return t;
}

struct LineSearch {
  bool ok = false;  // a step with sufficient decrease was found
  Trial best;
  bool armijo = false;  // the step decreased f measurably (not only by the approximate test)
};

// Strong-Wolfe line search from (x, f0, g0) along the descent direction p (slope0 = g0ᵀp < 0).
LineSearch line_search(const Objective& fun, const Eigen::VectorXd& x, double f0, double slope0,
                       const Eigen::VectorXd& p, double t_init, int max_eval, int& n_eval) {
  auto evaluate = [&](double t) {
    Trial tr;
    tr.t = t;
    tr.g.resize(x.size());
    tr.f = fun(x + t * p, tr.g);
    ++n_eval;
    if (!std::isfinite(tr.f) || !tr.g.allFinite()) {
      tr.f = std::numeric_limits<double>::infinity();
      tr.slope = std::numeric_limits<double>::quiet_NaN();
    } else {
      tr.slope = tr.g.dot(p);
    }
    return tr;
  };
  // Sufficient decrease: Armijo, or — when f has stopped moving by more than its own rounding
  // noise — Hager and Zhang's "approximate Wolfe" condition, which judges the step by the slope
  // instead: f no higher than f0 + ε|f0| and the slope at most (2δ − 1)·slope0 (δ = 0.1). Near
  // the optimum of an f32 objective, f(x + t·p) − f(x) ~ |g|² is far below f's 1e-7 relative
  // rounding while the gradient is still accurate; Armijo alone would stall there.
  const double noise = kRelativeNoise * std::fabs(f0);
  auto armijo = [&](const Trial& tr) { return tr.f <= f0 + kC1 * tr.t * slope0; };
  auto sufficient = [&](const Trial& tr) {
    if (armijo(tr)) return true;
    return tr.f <= f0 + noise && tr.slope <= (2.0 * kApproxDelta - 1.0) * slope0;
  };
  auto curvature = [&](const Trial& tr) { return std::fabs(tr.slope) <= -kC2 * slope0; };

  LineSearch out;
  Trial prev;  // t = 0
  prev.f = f0;
  prev.slope = slope0;
  Trial lo, hi;
  bool bracketed = false;
  double t = t_init;
  int evals = 0;

  // Phase 1 (algorithm 3.5): grow t until the interval [prev, cur] must contain a good step.
  while (evals < max_eval) {
    Trial cur = evaluate(t);
    ++evals;
    if (!sufficient(cur) || (evals > 1 && cur.f > prev.f + noise)) {
      lo = prev;
      hi = cur;
      bracketed = true;
      break;
    }
    if (curvature(cur)) {
      out.ok = true;
      out.best = cur;
      out.armijo = armijo(cur);
      return out;
    }
    if (cur.slope >= 0.0) {
      lo = cur;
      hi = prev;
      bracketed = true;
      break;
    }
    prev = cur;
    t *= 2.0;
  }
  if (!bracketed) {  // out of evaluations while still descending: take the last step
    if (prev.t > 0.0) {
      out.ok = true;
      out.best = prev;
      out.armijo = armijo(prev);
    }
    return out;
  }

  // Phase 2 (algorithm 3.6, "zoom"): lo has sufficient decrease and the lowest f seen; shrink
  // [lo, hi] until a step also meets the curvature condition — but once lo is a real step
  // (t > 0), only for kMaxZoomPastProgress more evaluations: the curvature condition only makes
  // the step better, and with a noisy gradient (int8 products) the slope's sign is noise near
  // the minimiser along p, so the zoom would spend every remaining evaluation chasing it.
  int zoom_past_progress = 0;
  while (evals < max_eval && !(lo.t > 0.0 && zoom_past_progress >= kMaxZoomPastProgress)) {
    if (lo.t > 0.0) ++zoom_past_progress;
    const double tj = interpolate(lo, hi);
    if (std::fabs(hi.t - lo.t) <= 1e-12 * std::max(1.0, std::fabs(lo.t))) break;
    Trial cur = evaluate(tj);
    ++evals;
    if (!sufficient(cur) || cur.f > lo.f + noise) {
      hi = cur;
    } else {
      if (curvature(cur)) {
        out.ok = true;
        out.best = cur;
        return out;
      }
      if (cur.slope * (hi.t - lo.t) >= 0.0) hi = lo;
      lo = cur;
    }
  }
  // No step met both conditions: a step with sufficient decrease still makes progress.
  if (lo.t > 0.0) {
    out.ok = true;
    out.best = lo;
    out.armijo = armijo(lo);
  }
  return out;
}

struct Pair {
  Eigen::VectorXd s, y;
  double rho;  // 1 / (yᵀs)
};

// p = −H·g by the two-loop recursion, with H₀ = γI, γ = sᵀy / yᵀy of the newest pair.
Eigen::VectorXd direction(const std::deque<Pair>& pairs, const Eigen::VectorXd& g) {
  Eigen::VectorXd q = g;
  std::vector<double> a(pairs.size());
  for (std::size_t i = pairs.size(); i-- > 0;) {
    a[i] = pairs[i].rho * pairs[i].s.dot(q);
    q -= a[i] * pairs[i].y;
  }
  if (!pairs.empty()) {
    const Pair& last = pairs.back();
    q *= last.s.dot(last.y) / last.y.squaredNorm();
  }
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    const double beta = pairs[i].rho * pairs[i].y.dot(q);
    q += (a[i] - beta) * pairs[i].s;
  }
  return -q;
}

}  // namespace

LbfgsResult minimize_lbfgs(const Objective& fun, Eigen::VectorXd& x, const LbfgsOptions& o) {
  LbfgsResult res;
  Eigen::VectorXd g(x.size());
  double f = fun(x, g);
  res.n_eval = 1;
  if (!std::isfinite(f) || !g.allFinite()) {
    res.f = f;
    res.message = "the objective or its gradient is not finite at the starting point";
    return res;
  }
  std::deque<Pair> pairs;
  auto grad_max = [&](const Eigen::VectorXd& grad) {
    if (grad.size() == 0) return 0.0;
    if (o.gtol_scale.size() == grad.size())
      return grad.cwiseProduct(o.gtol_scale).cwiseAbs().maxCoeff();
    return grad.cwiseAbs().maxCoeff();
  };

  for (;;) {
    res.grad_max = grad_max(g);
    if (res.grad_max <= o.gtol) {
      res.converged = true;
      res.message = "converged: max |gradient| <= tol";
      break;
    }
    if (res.n_iter >= o.max_iter) {
      res.message = "maximum number of iterations reached";
      break;
    }
    // Search direction; fall back to steepest descent when the quasi-Newton one is not a
    // descent direction (possible when noisy gradients spoil the curvature pairs).
    Eigen::VectorXd p = direction(pairs, g);
    double slope = g.dot(p);
    if (!(slope < 0.0)) {
      pairs.clear();
      p = -g;
      slope = -g.squaredNorm();
    }
    // The first step of steepest descent has no scale: make its length 1 (as L-BFGS-B does).
    double t0 = pairs.empty() ? std::min(1.0, 1.0 / p.norm()) : 1.0;
    LineSearch ls = line_search(fun, x, f, slope, p, t0, o.max_linesearch, res.n_eval);
    if (!ls.ok && !pairs.empty()) {
      // Retry once along −g with the memory cleared.
      pairs.clear();
      p = -g;
      slope = -g.squaredNorm();
      t0 = std::min(1.0, 1.0 / p.norm());
      ls = line_search(fun, x, f, slope, p, t0, o.max_linesearch, res.n_eval);
    }
    if (!ls.ok) {
      // The last search ran along −g (the retry above, or a memory that was already empty).
      // In exact arithmetic a small enough step along −g always lowers f, by about t·‖g‖².
      // When no step does, the computed f and g disagree: g is below the noise of the
      // arithmetic that computes them (int8 products carry ~1% error, so their gradient has a
      // floor far above tol). That is as far as this arithmetic can go — the optimum to its
      // precision — and counts as converged once at least one step was made.
      res.grad_max = grad_max(g);
      res.converged = res.n_iter > 0;
      res.noise_floor = true;
      res.message =
          "converged to the precision of the arithmetic: no step along the negative gradient "
          "decreases the objective (max |gradient| is at its noise floor, above tol)";
      if (!res.converged) res.message = "the line search found no decrease at the starting point";
      break;
    }
    Pair pair;
    pair.s = ls.best.t * p;
    pair.y = ls.best.g - g;
    const double sy = pair.s.dot(pair.y);
    // Keep the pair only with positive curvature (sᵀy > 0), which keeps H positive definite.
    if (sy > 1e-10 * pair.y.squaredNorm() && sy > 0.0) {
      pair.rho = 1.0 / sy;
      pairs.push_back(std::move(pair));
      if (static_cast<int>(pairs.size()) > o.memory) pairs.pop_front();
    }
    const double f_old = f;
    x += ls.best.t * p;
    f = ls.best.f;
    g = ls.best.g;
    ++res.n_iter;
    // The relative-reduction test only means something while f still moves measurably: a step
    // taken on the slope alone (approximate Wolfe) can make real progress with f unchanged.
    if (ls.armijo && f_old - f <= o.ftol * std::max({std::fabs(f_old), std::fabs(f), 1.0})) {
      res.grad_max = grad_max(g);
      res.converged = true;
      res.message = "converged: relative reduction of the objective <= ftol";
      break;
    }
  }
  res.f = f;
  return res;
}

}  // namespace mlcore::detail
