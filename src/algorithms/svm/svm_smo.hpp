// Sequential minimal optimisation for the C-SVM dual, as in libsvm (written from the papers):
//
//   min_α  f(α) = ½ αᵀQα − eᵀα    subject to  0 ≤ α_t ≤ C_t,  yᵀα = 0,
//   Q_st = y_s y_t K(x_s, x_t),   gradient G = Qα − e.
//
// Each step picks a pair (i, j) and solves the two-variable problem exactly:
//   i = argmax { −y_t G_t : t ∈ I_up }            (the most violating "up" variable)
//   j = argmin { −b_it² / a_it : t ∈ I_low, −y_t G_t < −y_i G_i }
//       with a_it = K_ii + K_tt − 2K_it, b_it = −y_i G_i + y_t G_t
// (Fan, Chen & Lin 2005, WSS 2: the j giving the largest decrease of f under the second-order
// model), and stops when  max_{I_up} −y G − min_{I_low} −y G < eps  (Keerthi et al.'s maximal
// violating pair criterion). Updating G after a step needs two kernel rows, i and j — the only
// contact with the data, served by KernelRows from the backend. The rest is O(l) sequential
// scans of small vectors, run on the host.
//
// Shrinking (Joachims 1999; libsvm's variant): every min(l, 1000) steps, variables at a bound
// whose gradient says they will stay there leave the active set, so scans and updates only run
// over the active ones. G_bar_t = Σ_{s at upper bound} C_s Q_ts is kept so the full gradient
// can be rebuilt (reconstruct_gradient) before the final check on all variables.
#pragma once

#include <cstdint>
#include <vector>

#include "algorithms/svm/svm_kernel.hpp"

namespace mlcore::detail {

struct SmoProblem {
  std::vector<double> y;    // ±1, length l
  std::vector<double> C;    // upper bound of each α (> 0)
  std::vector<double> QD;   // K(x_t, x_t)
  KernelRows* K = nullptr;  // rows of K (not y-folded)
  double eps = 1e-3;
  std::int64_t max_iter = -1;  // −1: max(10⁷, 100·l), a safety cap only
  bool shrinking = true;
};

struct SmoResult {
  std::vector<double> alpha;  // l values in [0, C_t]
  double rho = 0.0;           // decision(x) = Σ α_t y_t K(x_t, x) − rho
  std::int64_t n_iter = 0;
  bool converged = true;  // false when max_iter stopped it
};

SmoResult solve_smo(const SmoProblem& problem);

}  // namespace mlcore::detail
