// SMO with second-order working-set selection and shrinking (see svm_smo.hpp).
#include "algorithms/svm/svm_smo.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "mlcore/interrupt.hpp"

namespace mlcore::detail {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// Curvature used when a_ij = K_ii + K_jj − 2K_ij ≤ 0 (a non-PSD kernel, or x_i = x_j): a tiny
// positive value, so the step is large and the clipping to the box decides it.
constexpr double kTau = 1e-12;

enum Status : std::uint8_t { kLower, kUpper, kFree };

class Solver {
 public:
  explicit Solver(const SmoProblem& p)
      : y_(p.y),
        C_(p.C),
        QD_(p.QD),
        K_(*p.K),
        eps_(p.eps),
        shrinking_(p.shrinking),
        l_(static_cast<std::int64_t>(p.y.size())) {
    max_iter_ = p.max_iter > 0 ? p.max_iter : std::max<std::int64_t>(10000000, 100 * l_);
    alpha_.assign(l_, 0.0);
    G_.assign(l_, -1.0);  // α = 0: G = Qα − e = −e
    G_bar_.assign(l_, 0.0);
    status_.assign(l_, kLower);
    active_.resize(l_);
    for (std::int64_t t = 0; t < l_; ++t) active_[t] = t;
    active_size_ = l_;
  }

  SmoResult run() {
    SmoResult res;
    std::int64_t iter = 0;
    std::int64_t counter = std::min<std::int64_t>(l_, 1000) + 1;
    while (iter < max_iter_) {
      check_interrupt();
      if (--counter == 0) {
        counter = std::min<std::int64_t>(l_, 1000);
        if (shrinking_) shrink();
      }
      std::int64_t i = -1, j = -1;
      if (!select_working_set(i, j)) {
        // Optimal on the active set: rebuild the full gradient and check all variables.
        reconstruct_gradient();
        active_size_ = l_;
        if (!select_working_set(i, j)) break;
        counter = 1;  // shrink again at the next step
      }
      ++iter;
      step(i, j);
    }
    if (iter >= max_iter_) {
      res.converged = false;
      reconstruct_gradient();
      active_size_ = l_;
    }
    res.alpha = alpha_;
    res.rho = compute_rho();
    res.n_iter = iter;
    return res;
  }

 private:
  bool upper(std::int64_t t) const { return status_[t] == kUpper; }
  bool lower(std::int64_t t) const { return status_[t] == kLower; }
  void update_status(std::int64_t t) {
    status_[t] = alpha_[t] >= C_[t] ? kUpper : (alpha_[t] <= 0.0 ? kLower : kFree);
  }

  // WSS 2. Returns false when the active set is optimal within eps.
  bool select_working_set(std::int64_t& out_i, std::int64_t& out_j) {
    // i: the largest −y_t G_t over I_up = {t : y_t = +1, α_t < C_t} ∪ {t : y_t = −1, α_t > 0}.
    double Gmax = -kInf;
    std::int64_t Gmax_idx = -1;
    for (std::int64_t s = 0; s < active_size_; ++s) {
      const std::int64_t t = active_[s];
      if (y_[t] > 0) {
        if (!upper(t) && -G_[t] >= Gmax) {
          Gmax = -G_[t];
          Gmax_idx = t;
        }
      } else if (!lower(t) && G_[t] >= Gmax) {
        Gmax = G_[t];
        Gmax_idx = t;
      }
    }
    const std::int64_t i = Gmax_idx;
    const float* Ki = i >= 0 ? K_.row(i) : nullptr;
    // j: over I_low, the largest decrease b²/a of the two-variable problem; Gmax2 tracks
    // max −(−y_t G_t) over I_low for the stopping test.
    double Gmax2 = -kInf, obj_min = kInf;
    std::int64_t Gmin_idx = -1;
    for (std::int64_t s = 0; s < active_size_; ++s) {
      const std::int64_t t = active_[s];
      double grad_diff;
      if (y_[t] > 0) {
        if (lower(t)) continue;
        Gmax2 = std::max(Gmax2, G_[t]);
        grad_diff = Gmax + G_[t];
      } else {
        if (upper(t)) continue;
        Gmax2 = std::max(Gmax2, -G_[t]);
        grad_diff = Gmax - G_[t];
      }
      if (grad_diff > 0.0) {
        // a_it = ‖φ(x_i) − φ(x_t)‖² = K_ii + K_tt − 2K_it, whatever the labels.
        const double quad = QD_[i] + QD_[t] - 2.0 * Ki[t];
        const double obj = -(grad_diff * grad_diff) / (quad > 0.0 ? quad : kTau);
        if (obj <= obj_min) {
          Gmin_idx = t;
          obj_min = obj;
        }
      }
    }
    if (Gmax + Gmax2 < eps_ || Gmin_idx == -1) return false;
    out_i = Gmax_idx;
    out_j = Gmin_idx;
    return true;
  }

  // Solves the two-variable subproblem on (i, j) and updates G (and G_bar).
  void step(std::int64_t i, std::int64_t j) {
    const float* Ki = K_.row(i);
    const float* Kj = K_.row(j);  // Ki stays valid: the cache never evicts the latest row
    const double Ci = C_[i], Cj = C_[j];
    const double old_ai = alpha_[i], old_aj = alpha_[j];
    double quad = QD_[i] + QD_[j] - 2.0 * Ki[j];
    if (quad <= 0.0) quad = kTau;
    double& ai = alpha_[i];
    double& aj = alpha_[j];
    if (y_[i] != y_[j]) {
      // Constraint α_i − α_j = diff: move both by the same delta, then clip to the box.
      const double delta = (-G_[i] - G_[j]) / quad;
      const double diff = ai - aj;
      ai += delta;
      aj += delta;
      if (diff > 0) {
        if (aj < 0) {
          aj = 0;
          ai = diff;
        }
      } else if (ai < 0) {
        ai = 0;
        aj = -diff;
      }
      if (diff > Ci - Cj) {
        if (ai > Ci) {
          ai = Ci;
          aj = Ci - diff;
        }
      } else if (aj > Cj) {
        aj = Cj;
        ai = Cj + diff;
      }
    } else {
      // Constraint α_i + α_j = sum: move them in opposite directions, then clip.
      const double delta = (G_[i] - G_[j]) / quad;
      const double sum = ai + aj;
      ai -= delta;
      aj += delta;
      if (sum > Ci) {
        if (ai > Ci) {
          ai = Ci;
          aj = sum - Ci;
        }
      } else if (aj < 0) {
        aj = 0;
        ai = sum;
      }
      if (sum > Cj) {
        if (aj > Cj) {
          aj = Cj;
          ai = sum - Cj;
        }
      } else if (ai < 0) {
        ai = 0;
        aj = sum;
      }
    }
    // G_t += Q_ti Δα_i + Q_tj Δα_j = y_t (y_i Δα_i K_it + y_j Δα_j K_jt), over the active set.
    const double di = y_[i] * (ai - old_ai), dj = y_[j] * (aj - old_aj);
    for (std::int64_t s = 0; s < active_size_; ++s) {
      const std::int64_t t = active_[s];
      G_[t] += y_[t] * (di * Ki[t] + dj * Kj[t]);
    }
    // G_bar follows the variables entering or leaving the upper bound, over all l.
    const bool ui = upper(i), uj = upper(j);
    update_status(i);
    update_status(j);
    if (ui != upper(i)) {
      const double c = (ui ? -Ci : Ci) * y_[i];
      for (std::int64_t t = 0; t < l_; ++t) G_bar_[t] += c * y_[t] * Ki[t];
    }
    if (uj != upper(j)) {
      const double c = (uj ? -Cj : Cj) * y_[j];
      for (std::int64_t t = 0; t < l_; ++t) G_bar_[t] += c * y_[t] * Kj[t];
    }
  }

  // Would variable t stay at its bound? (Gmax1 = max −y G over I_up, Gmax2 = max y G over
  // I_low, on the active set.)
  bool be_shrunk(std::int64_t t, double Gmax1, double Gmax2) const {
    if (upper(t)) return y_[t] > 0 ? -G_[t] > Gmax1 : -G_[t] > Gmax2;
    if (lower(t)) return y_[t] > 0 ? G_[t] > Gmax2 : G_[t] > Gmax1;
    return false;
  }

  void shrink() {
    double Gmax1 = -kInf, Gmax2 = -kInf;
    for (std::int64_t s = 0; s < active_size_; ++s) {
      const std::int64_t t = active_[s];
      if (y_[t] > 0) {
        if (!upper(t)) Gmax1 = std::max(Gmax1, -G_[t]);
        if (!lower(t)) Gmax2 = std::max(Gmax2, G_[t]);
      } else {
        if (!upper(t)) Gmax2 = std::max(Gmax2, -G_[t]);
        if (!lower(t)) Gmax1 = std::max(Gmax1, G_[t]);
      }
    }
    // Near the end, bring every variable back once (with an exact gradient) before shrinking
    // with the final, tighter bounds.
    if (!unshrunk_ && Gmax1 + Gmax2 <= eps_ * 10) {
      unshrunk_ = true;
      reconstruct_gradient();
      active_size_ = l_;
    }
    for (std::int64_t s = 0; s < active_size_; ++s) {
      if (!be_shrunk(active_[s], Gmax1, Gmax2)) continue;
      // Swap it with the last active variable that stays.
      --active_size_;
      while (active_size_ > s) {
        if (!be_shrunk(active_[active_size_], Gmax1, Gmax2)) {
          std::swap(active_[s], active_[active_size_]);
          break;
        }
        --active_size_;
      }
    }
  }

  // G of the inactive variables from G_bar and the free variables' rows.
  void reconstruct_gradient() {
    if (active_size_ == l_) return;
    for (std::int64_t s = active_size_; s < l_; ++s) G_[active_[s]] = G_bar_[active_[s]] - 1.0;
    for (std::int64_t s = 0; s < active_size_; ++s) {
      const std::int64_t f = active_[s];
      if (status_[f] != kFree) continue;
      const float* Kf = K_.row(f);
      const double c = alpha_[f] * y_[f];
      for (std::int64_t q = active_size_; q < l_; ++q) {
        const std::int64_t t = active_[q];
        G_[t] += c * y_[t] * Kf[t];
      }
    }
  }

  // rho = the mean of y_t G_t over free variables (or the middle of the feasible interval).
  double compute_rho() const {
    double ub = kInf, lb = -kInf, sum_free = 0.0;
    std::int64_t n_free = 0;
    for (std::int64_t t = 0; t < l_; ++t) {
      const double yG = y_[t] * G_[t];
      if (upper(t)) {
        if (y_[t] < 0)
          ub = std::min(ub, yG);
        else
          lb = std::max(lb, yG);
      } else if (lower(t)) {
        if (y_[t] > 0)
          ub = std::min(ub, yG);
        else
          lb = std::max(lb, yG);
      } else {
        ++n_free;
        sum_free += yG;
      }
    }
    return n_free > 0 ? sum_free / static_cast<double>(n_free) : (ub + lb) / 2;
  }

  const std::vector<double>& y_;
  const std::vector<double>& C_;
  const std::vector<double>& QD_;
  KernelRows& K_;
  const double eps_;
  const bool shrinking_;
  const std::int64_t l_;
  std::int64_t max_iter_ = 0;
  std::vector<double> alpha_, G_, G_bar_;
  std::vector<Status> status_;
  std::vector<std::int64_t> active_;  // active_[0, active_size_) are the active variables
  std::int64_t active_size_ = 0;
  bool unshrunk_ = false;
};

}  // namespace

SmoResult solve_smo(const SmoProblem& problem) { return Solver(problem).run(); }

}  // namespace mlcore::detail
