// LinearSVC: per one-vs-rest problem, dual coordinate descent (Hsieh et al. 2008) on the host,
// or a primal Newton method whose passes over the data are backend GEMV/GEMMs. See
// include/mlcore/algorithms/svm/svm.hpp.
//
// Dual coordinate descent. The dual of  min_w ½‖w‖² + Σ_i C_i ξ_i^p  (p = 1 hinge, p = 2
// squared hinge) is
//   min_α ½ αᵀ Q̄ α − Σα,  0 ≤ α_i ≤ U,   Q̄ = Q + D,  Q_ij = y_i y_j x̃_i·x̃_j,
// with U = C_i, D_ii = 0 (hinge) or U = ∞, D_ii = 1/(2C_i) (squared hinge). Coordinate i's
// gradient is G = y_i w·x̃_i − 1 + D_ii α_i where w = Σ_j y_j α_j x̃_j is kept up to date, so a
// step costs two passes over one sample (a dot product and an axpy), O(d):
//   α_i ← min(max(α_i − G / Q̄_ii, 0), U),   w ← w + (Δα_i) y_i x̃_i.
// That loop is inherently sequential (each step reads the w the previous one wrote) and runs
// on the host; only Q̄_ii = ‖x̃_i‖² + D_ii (one sqdist against the origin) and the decision
// function (a GEMM) are per-sample work that the backend does. The one-vs-rest problems are
// independent and run on separate host threads. Stopping (liblinear's rule): the spread of the
// projected gradient over a pass, max PG − min PG, falls below tol. With shrinking, a variable
// at a bound whose gradient pushes it further out (beyond last pass's extreme PG) leaves the
// active set; when the active set converges, all variables come back for a final check.
//
// Primal Newton (squared hinge). f(w) = ½‖w‖² + Σ_i C_i max(0, 1 − y_i z_i)², z = X̃w, is
// piecewise quadratic. With I = {i : y_i z_i < 1} (the samples inside the margin):
//   g = w + X̃ᵀc,          c_i = −2 C_i (1 − y_i z_i) y_i on I, 0 elsewhere    (gemv, Trans)
//   H = 1 + X̃ᵀ diag(h) X̃,  h_i = 2 C_i on I, 0 elsewhere                      (scale_rows, gemm)
//   s = −H⁻¹g (Cholesky, (d+1)², host);  X̃s (gemv);  w ← w + t·s, t from a backtracking
//   (Armijo) search on f along s, evaluated from z + t·X̃s on the host.
// Keerthi & DeCoste (2005) show this "finite Newton" method ends in a few iterations.
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "algorithms/common/validate.hpp"
#include "algorithms/svm/linear_svc_newton.hpp"
#include "mlcore/algorithms/svm/svm.hpp"
#include "mlcore/interrupt.hpp"
#include "mlcore/parallel.hpp"
#include "mlcore/serialize.hpp"

namespace mlcore {

namespace {

constexpr const char* kName = "LinearSVC";
// 2: the fitted flag (version 1 files were always fitted); saving works before fit.
constexpr std::uint32_t kModelVersion = 2;
constexpr double kInf = std::numeric_limits<double>::infinity();

struct CdProblem {
  const float* X = nullptr;  // n × d, row-major (host)
  std::int64_t d = 0;
  double bias = 0.0;                            // value of the constant feature (0: no intercept)
  std::vector<std::int64_t> index;              // the samples taking part (C_i > 0)
  std::vector<double> y;                        // ±1, per sample of X
  std::vector<double> C;                        // C_i, per sample of X
  const std::vector<double>* sqnorm = nullptr;  // ‖x_i‖² per sample of X (without the bias)
  bool squared_hinge = true;
  double eps = 1e-4;
  std::int64_t max_iter = 1000;
  bool shrinking = true;
  std::uint64_t seed = 0;
};

struct CdResult {
  std::vector<double> w;  // d + 1: weights, then the bias feature's weight
  std::int64_t n_iter = 0;
  bool overflow = false;  // the primal's gradient or Hessian overflowed (X's values too large)
};

CdResult solve_dual_cd(const CdProblem& p) {
  const std::int64_t d = p.d, l = static_cast<std::int64_t>(p.index.size());
  std::vector<double> w(d + 1, 0.0), alpha(l, 0.0), QD(l), diag(l), upper(l);
  for (std::int64_t s = 0; s < l; ++s) {
    const std::int64_t i = p.index[s];
    diag[s] = p.squared_hinge ? 0.5 / p.C[i] : 0.0;
    upper[s] = p.squared_hinge ? kInf : p.C[i];
    QD[s] = diag[s] + (*p.sqnorm)[i] + p.bias * p.bias;
  }
  std::vector<std::int64_t> order(l);
  for (std::int64_t s = 0; s < l; ++s) order[s] = s;
  std::mt19937_64 rng(p.seed);
  std::int64_t active = l, iter = 0;
  double PGmax_old = kInf, PGmin_old = -kInf;
  while (iter < p.max_iter) {
    check_interrupt();
    double PGmax_new = -kInf, PGmin_new = kInf;
    // A random order of the active variables for this pass.
    for (std::int64_t s = 0; s < active; ++s) {
      const std::int64_t r =
          s + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(active - s));
      std::swap(order[s], order[r]);
    }
    for (std::int64_t s = 0; s < active; ++s) {
      const std::int64_t v = order[s], i = p.index[v];
      const float* x = p.X + i * d;
      const double yi = p.y[i];
      double dot = w[d] * p.bias;
      for (std::int64_t k = 0; k < d; ++k) dot += w[k] * x[k];
      const double G = yi * dot - 1.0 + diag[v] * alpha[v];
      double PG = 0.0;
      if (alpha[v] == 0.0) {
        if (p.shrinking && G > PGmax_old) {  // stays at 0: shrink
          --active;
          std::swap(order[s], order[active]);
          --s;
          continue;
        }
        if (G < 0.0) PG = G;
      } else if (alpha[v] == upper[v]) {
        if (p.shrinking && G < PGmin_old) {  // stays at C: shrink
          --active;
          std::swap(order[s], order[active]);
          --s;
          continue;
        }
        if (G > 0.0) PG = G;
      } else {
        PG = G;
      }
      PGmax_new = std::max(PGmax_new, PG);
      PGmin_new = std::min(PGmin_new, PG);
      if (std::fabs(PG) > 1e-12) {
        const double old = alpha[v];
        alpha[v] = std::min(std::max(old - G / QD[v], 0.0), upper[v]);
        const double step = (alpha[v] - old) * yi;
        for (std::int64_t k = 0; k < d; ++k) w[k] += step * x[k];
        w[d] += step * p.bias;
      }
    }
    ++iter;
    if (PGmax_new - PGmin_new <= p.eps) {
      if (active == l) break;
      // Converged on the active set: bring everything back for a full pass.
      active = l;
      PGmax_old = kInf;
      PGmin_old = -kInf;
      continue;
    }
    PGmax_old = PGmax_new > 0.0 ? PGmax_new : kInf;
    PGmin_old = PGmin_new < 0.0 ? PGmin_new : -kInf;
  }
  return {w, iter};
}

// Primal Newton on the squared hinge. Xa: the device samples with the bias column, n × da.
CdResult solve_primal_newton(Backend& b, const Tensor& Xa, const CdProblem& p) {
  const std::int64_t n = Xa.rows(), da = Xa.cols();
  std::int64_t pos = 0, neg = 0;
  for (std::int64_t i : p.index) (p.y[i] > 0 ? pos : neg) += 1;

  std::vector<double> z(n, 0.0), xs(n);
  Tensor c_host(n, 1), h_host(n, 1), vec_host(da, 1);
  Tensor out_d = b.empty(da, 1), out_n = b.empty(n, 1), T = b.empty(n, da), H = b.empty(da, da);
  auto to_vec = [&](const Eigen::VectorXd& v) {
    for (std::int64_t j = 0; j < da; ++j) vec_host.data<float>()[j] = static_cast<float>(v[j]);
    return b.to_device(vec_host);
  };
  bool first = true;
  detail::SquaredHingeOracle oracle;
  oracle.evaluate = [&](const Eigen::VectorXd& w, double f0, double& f, Eigen::VectorXd& G,
                        Eigen::MatrixXd& S) {
    // z = X̃w, recomputed each step rather than updated by z += t·X̃s: on int8 hardware each
    // product carries ~1 % error, which must not accumulate in the margins over the steps.
    if (!first) {
      b.gemv(Trans::no, 1.0f, Xa, to_vec(w), 0.0f, out_n);
      const Tensor zh = b.to_host(out_n);
      for (std::int64_t i = 0; i < n; ++i) z[i] = zh.data<float>()[i];
    }
    first = false;
    // Loss terms at z: the gradient coefficients c and Hessian weights h (0 outside I).
    f = f0;
    for (std::int64_t i = 0; i < n; ++i) {
      const double r = 1.0 - p.y[i] * z[i];
      const bool inside = p.C[i] > 0.0 && r > 0.0;
      if (inside) f += p.C[i] * r * r;
      c_host.data<float>()[i] = inside ? static_cast<float>(-2.0 * p.C[i] * r * p.y[i]) : 0.0f;
      h_host.data<float>()[i] = inside ? static_cast<float>(2.0 * p.C[i]) : 0.0f;
    }
    b.gemv(Trans::yes, 1.0f, Xa, b.to_device(c_host), 0.0f, out_d);  // X̃ᵀc
    const Tensor gh = b.to_host(out_d);
    G.resize(da);
    for (std::int64_t j = 0; j < da; ++j) G[j] = gh.data<float>()[j];
    if (!std::isfinite(G.norm())) return false;
    // X̃ᵀ diag(h) X̃: the weighted Gram matrix of the samples inside the margin.
    b.axpby(1.0f, Xa, 0.0f, T);
    b.scale_rows(b.to_device(h_host), T);
    b.gemm(Trans::yes, Trans::no, 1.0f, Xa, T, 0.0f, H);
    const Tensor Hh = b.to_host(H);
    S.resize(da, da);
    for (std::int64_t r = 0; r < da; ++r) {
      for (std::int64_t q = 0; q < da; ++q) S(r, q) = Hh.at<float>(r, q);
    }
    return true;
  };
  oracle.line = [&](const Eigen::VectorXd&, const Eigen::VectorXd& s) {
    b.gemv(Trans::no, 1.0f, Xa, to_vec(s), 0.0f, out_n);  // X̃s
    const Tensor xh = b.to_host(out_n);
    for (std::int64_t i = 0; i < n; ++i) xs[i] = xh.data<float>()[i];
    // f0 + the loss at w + t·s from z + t·X̃s, on the host (O(n) per trial step).
    return std::function<double(double, double)>([&](double t, double f0) {
      double f = f0;
      for (std::int64_t i = 0; i < n; ++i) {
        if (p.C[i] == 0.0) continue;
        const double r = 1.0 - p.y[i] * (z[i] + t * xs[i]);
        if (r > 0.0) f += p.C[i] * r * r;
      }
      return f;
    });
  };
  const detail::SquaredHingeResult r =
      detail::minimize_squared_hinge(oracle, da, detail::primal_eps(p.eps, pos, neg), p.max_iter);
  CdResult res;
  if (r.overflow) {
    res.overflow = true;
    return res;
  }
  res.w.assign(p.d + 1, 0.0);
  for (std::int64_t j = 0; j < p.d; ++j) res.w[j] = r.w[j];
  if (da > p.d) res.w[p.d] = r.w[p.d];
  res.n_iter = r.n_iter;
  return res;
}

}  // namespace

LinearSVC::LinearSVC(const LinearSVCOptions& options, BackendPtr backend)
    : Estimator(kName, kModelVersion, std::move(backend)), options_(options) {
  MLCORE_CHECK(options.loss == "hinge" || options.loss == "squared_hinge",
               "LinearSVC: loss must be 'hinge' or 'squared_hinge', got '" << options.loss << "'");
  MLCORE_CHECK(options.C > 0.0 && std::isfinite(options.C),
               "LinearSVC: C must be a positive number, got " << options.C);
  MLCORE_CHECK(
      options.solver == "auto" || options.solver == "dual_cd" || options.solver == "primal_newton",
      "LinearSVC: solver must be 'auto', 'dual_cd' or 'primal_newton', got '" << options.solver
                                                                              << "'");
  MLCORE_CHECK(options.solver != "primal_newton" || options.loss == "squared_hinge",
               "LinearSVC: the primal solver needs loss='squared_hinge' (the hinge loss is not "
               "differentiable); use the dual solver");
  MLCORE_CHECK(options.tol > 0.0 && std::isfinite(options.tol),
               "LinearSVC: tol must be a positive number, got " << options.tol);
  MLCORE_CHECK(options.max_iter >= 1, "LinearSVC: max_iter must be >= 1, got " << options.max_iter);
  MLCORE_CHECK(options.intercept_scaling > 0.0 && std::isfinite(options.intercept_scaling),
               "LinearSVC: intercept_scaling must be > 0, got " << options.intercept_scaling);
  for (double w : options.class_weight) {
    MLCORE_CHECK(w >= 0.0 && std::isfinite(w), "LinearSVC: class weights must be >= 0, got " << w);
  }
}

LinearSVC& LinearSVC::fit(const Tensor& X, const Tensor& y, const Tensor& sample_weight) {
  ProfileScope scope = begin_call();
  fitted_ = false;
  detail::check_samples(X, kName);
  const std::int64_t n = X.rows(), d = X.cols();
  detail::check_targets(y, n, kName);
  const detail::LabelEncoding enc = detail::encode_labels(y, kName, 2);
  const std::int64_t K = static_cast<std::int64_t>(enc.classes.size());
  MLCORE_CHECK(
      options_.class_weight.empty() || static_cast<std::int64_t>(options_.class_weight.size()) == K,
      "LinearSVC: class_weight has " << options_.class_weight.size() << " entries for " << K
                                     << " classes");
  std::vector<double> sw(n, 1.0);
  if (!sample_weight.empty()) {
    detail::check_targets(sample_weight, n, kName, "sample_weight");
    for (std::int64_t i = 0; i < n; ++i) {
      sw[i] = sample_weight.data<float>()[i];
      MLCORE_CHECK(sw[i] >= 0.0,
                   kName << ": sample_weight must be >= 0, got " << sw[i] << " at " << i);
    }
  }
  auto cw = [&](std::int64_t c) {
    return options_.class_weight.empty() ? 1.0 : options_.class_weight[c];
  };

  // scikit-learn's dual="auto": the primal when there are at least as many samples as features
  // and the loss allows it (the squared hinge), else the dual.
  const bool primal = options_.solver == "primal_newton" ||
                      (options_.solver == "auto" && options_.loss == "squared_hinge" && n >= d);
  // ‖x_i‖² for every sample (the dual solver's diagonal): sqdist against the origin.
  Backend& b = *backend();
  std::vector<double> sqnorm(n);
  if (!primal) {
    Tensor origin = b.empty(1, d), norms = b.empty(n, 1);
    b.sqdist(b.to_device(X), origin, norms);
    const Tensor h = b.to_host(norms);
    for (std::int64_t i = 0; i < n; ++i) {
      sqnorm[i] = h.data<float>()[i];
      if (!std::isfinite(sqnorm[i])) {
        detail::throw_too_large(X, kName, "the squared norm of sample " + std::to_string(i));
      }
    }
  }

  // Two classes: one problem, positive = classes[1]. More: one per class, that class positive.
  const std::int64_t n_problems = K == 2 ? 1 : K;
  std::vector<CdProblem> problems(n_problems);
  for (std::int64_t k = 0; k < n_problems; ++k) {
    CdProblem& p = problems[k];
    const std::int64_t positive = K == 2 ? 1 : k;
    p.X = X.data<float>();
    p.d = d;
    p.bias = options_.fit_intercept ? options_.intercept_scaling : 0.0;
    p.y.resize(n);
    p.C.resize(n);
    for (std::int64_t i = 0; i < n; ++i) {
      const bool pos = enc.code[i] == positive;
      p.y[i] = pos ? 1.0 : -1.0;
      // liblinear's weights: binary, each class its own; one-vs-rest, only the positive class.
      const double weight = K == 2 ? cw(enc.code[i]) : (pos ? cw(k) : 1.0);
      p.C[i] = options_.C * sw[i] * weight;
      if (p.C[i] > 0.0) p.index.push_back(i);
    }
    p.sqnorm = &sqnorm;
    p.squared_hinge = options_.loss == "squared_hinge";
    p.eps = options_.tol;
    p.max_iter = options_.max_iter;
    p.shrinking = options_.shrinking;
    p.seed = options_.random_state + static_cast<std::uint64_t>(k);
  }
  std::vector<CdResult> results(n_problems);
  if (primal) {
    // X̃ = [X | intercept_scaling] on the device, built once (a layout step on the host).
    const std::int64_t da = options_.fit_intercept ? d + 1 : d;
    Tensor Xa_host(n, da);
    for (std::int64_t i = 0; i < n; ++i) {
      std::memcpy(Xa_host.data<float>() + i * da, X.data<float>() + i * d, d * sizeof(float));
      if (da > d) Xa_host.at<float>(i, d) = static_cast<float>(options_.intercept_scaling);
    }
    const Tensor Xa = b.to_device(Xa_host);
    for (std::int64_t k = 0; k < n_problems; ++k) {
      results[k] = solve_primal_newton(b, Xa, problems[k]);
      if (results[k].overflow)
        detail::throw_too_large(X, kName, "the Newton step's products X̃ᵀc and X̃ᵀ·diag(h)·X̃");
    }
  } else {
    parallel::for_each(n_problems, num_threads(),
                       [&](std::int64_t k) { results[k] = solve_dual_cd(problems[k]); });
  }

  coef_ = Tensor(n_problems, d);
  intercept_ = Tensor(1, n_problems);
  n_iter_ = 0;
  for (std::int64_t k = 0; k < n_problems; ++k) {
    for (std::int64_t j = 0; j < d; ++j)
      coef_.at<float>(k, j) = static_cast<float>(results[k].w[j]);
    intercept_.at<float>(0, k) =
        options_.fit_intercept ? static_cast<float>(options_.intercept_scaling * results[k].w[d])
                               : 0.0f;
    n_iter_ = std::max(n_iter_, results[k].n_iter);
  }
  classes_ = enc.classes;
  fitted_ = true;
  return *this;
}

Tensor LinearSVC::decision_values(const Tensor& X) const {
  require_fitted();
  detail::check_samples(X, kName);
  detail::check_n_features(X, coef_.cols(), kName);
  Backend& b = *backend();
  Tensor out = b.empty(X.rows(), coef_.rows());  // n × n_problems
  b.gemm(Trans::no, Trans::yes, 1.0f, b.to_device(X), b.to_device(coef_), 0.0f, out);
  b.add_row_vector(1.0f, b.to_device(intercept_), out);
  return out;
}

Tensor LinearSVC::decision_function(const Tensor& X) const {
  ProfileScope scope = begin_call();
  return backend()->to_host(decision_values(X)).clone();
}

Tensor LinearSVC::predict(const Tensor& X) const {
  ProfileScope scope = begin_call();
  Backend& b = *backend();
  Tensor dec = decision_values(X);
  Tensor out(dec.rows(), 1);
  if (classes_.size() == 2) {
    const Tensor h = b.to_host(dec);
    for (std::int64_t i = 0; i < dec.rows(); ++i) {
      out.at<float>(i, 0) = static_cast<float>(classes_[h.at<float>(i, 0) > 0.0f ? 1 : 0]);
    }
    return out;
  }
  // The class of the largest decision value (the first on ties), as argmin of −dec.
  b.map(MapFn::identity, dec, dec, MapArgs{-1.0f, 0.0f, 1.0f});
  Tensor best = b.empty(dec.rows(), 1, DType::i32), value = b.empty(dec.rows(), 1);
  b.argmin_rows(dec, best, value);
  const Tensor h = b.to_host(best);
  for (std::int64_t i = 0; i < dec.rows(); ++i) {
    out.at<float>(i, 0) = static_cast<float>(classes_[h.data<std::int32_t>()[i]]);
  }
  return out;
}

const Tensor& LinearSVC::coef() const {
  require_fitted();
  return coef_;
}
const Tensor& LinearSVC::intercept() const {
  require_fitted();
  return intercept_;
}
const std::vector<double>& LinearSVC::classes() const {
  require_fitted();
  return classes_;
}
std::int64_t LinearSVC::n_iter() const {
  require_fitted();
  return n_iter_;
}
std::int64_t LinearSVC::n_features_in() const {
  require_fitted();
  return coef_.cols();
}

void LinearSVC::visit(Archive& a) {
  a(options_.loss, options_.solver, options_.C, options_.tol, options_.max_iter,
    options_.fit_intercept, options_.intercept_scaling, options_.shrinking, options_.class_weight,
    options_.random_state);
  if (!a.fitted(fitted_, 2)) return;
  a(classes_, coef_, intercept_, n_iter_);
  if (a.loading()) {
    const std::int64_t K = static_cast<std::int64_t>(classes_.size());
    const std::int64_t rows = K == 2 ? 1 : K;
    MLCORE_CHECK(
        K >= 2 && coef_.dtype() == DType::f32 && coef_.rows() == rows && intercept_.cols() == rows,
        "LinearSVC: the saved model is inconsistent");
  }
}

std::vector<std::pair<std::string, Tensor*>> LinearSVC::fitted_arrays() {
  if (!fitted_) return {};
  return {{"coef", &coef_}, {"intercept", &intercept_}};
}

}  // namespace mlcore

namespace mlcore::detail {

double primal_eps(double tol, std::int64_t pos, std::int64_t neg) {
  const double l = static_cast<double>(std::max<std::int64_t>(pos + neg, 1));
  return tol * static_cast<double>(std::max<std::int64_t>(std::min(pos, neg), 1)) / l;
}

SquaredHingeResult minimize_squared_hinge(const SquaredHingeOracle& oracle, std::int64_t da,
                                          double eps, std::int64_t max_iter) {
  Eigen::VectorXd w = Eigen::VectorXd::Zero(da), g(da), step(da), G(da);
  Eigen::MatrixXd S(da, da);
  double gnorm0 = -1.0, f_prev = std::numeric_limits<double>::infinity();
  SquaredHingeResult res;
  std::int64_t iter = 0;
  for (; iter < max_iter; ++iter) {
    check_interrupt();
    double f = 0.0;
    // With finite X and C, the gradient and the Hessian are finite unless the float32
    // products of huge x (|x|² beyond FLT_MAX) overflow: report that instead of stopping on a
    // NaN test with the weights at 0.
    if (!oracle.evaluate(w, 0.5 * w.squaredNorm(), f, G, S)) {
      res.overflow = true;
      return res;
    }
    g = w + G;
    const double gnorm = g.norm();
    if (!std::isfinite(gnorm)) {
      res.overflow = true;
      return res;
    }
    if (gnorm0 < 0.0) gnorm0 = gnorm;
    if (gnorm <= eps * gnorm0) break;
    // Stagnation: the objective no longer moves (f32 / int8 rounding of the products sets a
    // floor under the gradient that the test above may never see).
    if (f >= f_prev * (1.0 - 1e-9)) break;
    f_prev = f;
    Eigen::MatrixXd Hd(da, da);
    for (std::int64_t r = 0; r < da; ++r) {
      for (std::int64_t q = 0; q < da; ++q) {
        // Symmetrised (the GEMM's rounding need not be), plus the regulariser's identity.
        Hd(r, q) = 0.5 * (S(r, q) + S(q, r)) + (r == q ? 1.0 : 0.0);
      }
    }
    if (!Hd.allFinite()) {
      res.overflow = true;
      return res;
    }
    step = Hd.ldlt().solve(-g);
    const std::function<double(double, double)> objective = oracle.line(w, step);
    const double slope = g.dot(step);
    if (!(slope < 0.0)) break;  // not a descent direction: rounding has the last word
    // The step length: the largest t = 2^−k with Armijo's sufficient decrease.
    double t = 1.0;
    bool accepted = false;
    for (int k = 0; k < 30; ++k, t *= 0.5) {
      if (objective(t, 0.5 * (w + t * step).squaredNorm()) <= f + 0.01 * t * slope) {
        accepted = true;
        break;
      }
    }
    if (!accepted) break;  // no measurable decrease left
    w += t * step;
  }
  res.w = w;
  res.n_iter = iter;
  return res;
}

}  // namespace mlcore::detail
