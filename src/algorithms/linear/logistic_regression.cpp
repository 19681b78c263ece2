// LogisticRegression: L-BFGS on the host over a loss and gradient computed on the backend.
// The plan, with the primitive behind each step, is in
// include/mlcore/algorithms/linear/logistic_regression.hpp.
#include "mlcore/algorithms/linear/logistic_regression.hpp"

#include <algorithm>
#include <cmath>
#include <istream>
#include <limits>
#include <ostream>
#include <sstream>

#include "algorithms/common/columns.hpp"
#include "algorithms/common/host_math.hpp"
#include "algorithms/common/lbfgs.hpp"
#include "algorithms/common/owlqn.hpp"
#include "algorithms/common/sparse_input.hpp"
#include "algorithms/common/validate.hpp"
#include "mlcore/serialize.hpp"

namespace mlcore {

namespace {

constexpr const char* kName = "LogisticRegression";

// Per-sample weights sᵢ = sample_weight[i] · class_weight[yᵢ], and whether any differs from 1.
struct Weights {
  bool weighted = false;
  std::vector<float> s;  // n (empty when unweighted)
  double sum = 0.0;      // S = Σ sᵢ
};

Weights sample_times_class_weights(const LogisticRegressionOptions& o,
                                   const detail::LabelEncoding& enc,
                                   const detail::SampleWeights& sw) {
  const std::size_t K = enc.classes.size();
  const std::size_t n = enc.code.size();
  const float* w = sw.weighted ? sw.w.data<float>() : nullptr;
  std::vector<double> cw(K, 1.0);
  if (o.class_weight_balanced) {
    // class k weighs Σw / (K · Σ_{i in k} wᵢ): each class then carries the same total weight.
    std::vector<double> count(K, 0.0);
    for (std::size_t i = 0; i < n; ++i) count[enc.code[i]] += w ? w[i] : 1.0;
    for (std::size_t k = 0; k < K; ++k) {
      MLCORE_CHECK(count[k] > 0.0, kName << ": class_weight='balanced' needs a positive total "
                                            "sample weight in every class; class "
                                         << enc.classes[k] << " has 0");
      cw[k] = sw.sum / (static_cast<double>(K) * count[k]);
    }
  }
  for (const auto& [label, weight] : o.class_weight) {
    auto it = std::find(enc.classes.begin(), enc.classes.end(), label);
    MLCORE_CHECK(it != enc.classes.end(),
                 kName << ": class_weight names class " << label << ", which is not in y");
    cw[it - enc.classes.begin()] = weight;
  }
  Weights out;
  out.weighted =
      sw.weighted || std::any_of(cw.begin(), cw.end(), [](double c) { return c != 1.0; });
  if (!out.weighted) {
    out.sum = static_cast<double>(n);
    return out;
  }
  out.s.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    out.s[i] = static_cast<float>((w ? w[i] : 1.0) * cw[enc.code[i]]);
    out.sum += out.s[i];
  }
  MLCORE_CHECK(out.sum > 0.0, kName << ": the sample weights times the class weights sum to 0");
  return out;
}

}  // namespace

LogisticRegression::LogisticRegression(Options options, BackendPtr backend)
    : Estimator(kName, /*model_version=*/2, std::move(backend)), options_(std::move(options)) {
  const Options& o = options_;
  MLCORE_CHECK(o.C > 0.0 && !std::isnan(o.C),
               kName << ": C must be > 0 (+infinity for no penalty), got " << o.C);
  MLCORE_CHECK(std::isfinite(o.tol) && o.tol >= 0.0, kName << ": tol must be >= 0, got " << o.tol);
  MLCORE_CHECK(o.max_iter >= 0, kName << ": max_iter must be >= 0, got " << o.max_iter);
  MLCORE_CHECK(o.lbfgs_memory >= 1, kName << ": lbfgs_memory must be >= 1, got " << o.lbfgs_memory);
  MLCORE_CHECK(o.l1_ratio >= 0.0 && o.l1_ratio <= 1.0,
               kName << ": l1_ratio must be in [0, 1], got " << o.l1_ratio);
  MLCORE_CHECK(std::isfinite(o.intercept_scaling) && o.intercept_scaling > 0.0,
               kName << ": intercept_scaling must be > 0, got " << o.intercept_scaling);
  MLCORE_CHECK(!(o.class_weight_balanced && !o.class_weight.empty()),
               kName << ": give class_weight either as 'balanced' or as a map, not both");
  for (const auto& [label, weight] : o.class_weight) {
    MLCORE_CHECK(std::isfinite(weight) && weight >= 0.0, kName << ": class_weight[" << label
                                                               << "] must be finite and >= 0, got "
                                                               << weight);
  }
}

namespace {

// The solver's two products with X (n × d). scores: Z (n × Kp) = X·Wᵀ for the weights W
// (Kp × d, W_host on the host and W on the device); gradient: Rᵀ·X (Kp × d) as a host tensor,
// with GW (Kp × d, on the device) as the dense path's buffer.
struct DenseProducts {
  Backend& b;
  const Tensor& Xc;  // n × d, the (transformed) dense X on the device
  void scores(const Tensor&, const Tensor& W, Tensor& Z) const {
    if (W.rows() == 1) {
      b.gemv(Trans::no, 1.0f, Xc, W, 0.0f, Z);
    } else {
      b.gemm(Trans::no, Trans::yes, 1.0f, Xc, W, 0.0f, Z);
    }
  }
  Tensor gradient(const Tensor& R, Tensor& GW) const {
    if (R.cols() == 1) {
      b.gemv(Trans::yes, 1.0f, Xc, R, 0.0f, GW);
    } else {
      b.gemm(Trans::yes, Trans::no, 1.0f, R, Xc, 0.0f, GW);
    }
    return b.to_host(GW);
  }
};

// Sparse X: Z = X·Wᵀ is spmm against Wᵀ (d × Kp, transposed on the host: Kp·d values), and
// Rᵀ·X = (Xᵀ·R)ᵀ is the transposed spmm (d × Kp), transposed back on the host. nnz·Kp MACs each.
struct SparseProducts {
  Backend& b;
  CsrMatrix Xd;  // n × d on the device
  void scores(const Tensor& W_host, const Tensor&, Tensor& Z) const {
    const std::int64_t Kp = W_host.rows(), d = W_host.cols();
    Tensor Wt(d, Kp);
    for (std::int64_t k = 0; k < Kp; ++k) {
      for (std::int64_t j = 0; j < d; ++j) Wt.at<float>(j, k) = W_host.at<float>(k, j);
    }
    b.spmm(Trans::no, 1.0f, Xd, b.to_device(Wt), 0.0f, Z);
  }
  Tensor gradient(const Tensor& R, Tensor& GW) const {
    const std::int64_t Kp = R.cols(), d = Xd.cols;
    Tensor G = b.empty(d, Kp);
    b.spmm(Trans::yes, 1.0f, Xd, R, 0.0f, G);
    const Tensor Gh = b.to_host(G);
    Tensor out(Kp, d);
    for (std::int64_t k = 0; k < Kp; ++k) {
      for (std::int64_t j = 0; j < d; ++j) out.at<float>(k, j) = Gh.at<float>(j, k);
    }
    (void)GW;
    return out;
  }
};

}  // namespace

LogisticRegression& LogisticRegression::fit(const Tensor& X, const Tensor& y,
                                            const Tensor& sample_weight) {
  ProfileScope scope = begin_call();
  detail::check_samples(X, kName);
  Backend& b = *backend();
  // X as it is, or centred and scaled per column (columns.hpp); the products are gemv / gemm.
  Tensor Xd = b.to_device(X);  // n × d
  const detail::ColumnStats stats = detail::column_stats(b, X, Xd, kName);
  // A penalised intercept is not separable from the centring shift (b = b″ − x̄·w): then X is
  // only scaled.
  const detail::InputTransform input =
      detail::choose_input_transform(stats, options_.fit_intercept && !options_.penalize_intercept);
  const Tensor Xc = detail::apply_input_transform(b, Xd, input);  // n × d
  const DenseProducts products{b, Xc};
  fit_with(products, X.rows(), X.cols(), y, sample_weight, input);
  return *this;
}

LogisticRegression& LogisticRegression::fit(const CsrMatrix& X, const Tensor& y,
                                            const Tensor& sample_weight) {
  ProfileScope scope = begin_call();
  detail::check_sparse_samples(X, kName);
  Backend& b = *backend();
  // Sparse X is used as it is (centring would fill in its zeros): the products are spmm.
  const SparseProducts products{b, detail::csr_on_device(b, X)};
  fit_with(products, X.rows, X.cols, y, sample_weight, detail::InputTransform{});
  return *this;
}

template <class Products>
void LogisticRegression::fit_with(const Products& products, std::int64_t n, std::int64_t d,
                                  const Tensor& y, const Tensor& sample_weight,
                                  const detail::InputTransform& input) {
  detail::check_targets(y, n, kName);
  const detail::SampleWeights sw = detail::check_sample_weight(sample_weight, n, kName);
  const detail::LabelEncoding enc = detail::encode_labels(y, kName, 2);
  const std::int64_t K = static_cast<std::int64_t>(enc.classes.size());
  const bool binary = K == 2;
  const std::int64_t Kp = binary ? 1 : K;  // columns of W: one score for two classes
  const Weights wt = sample_times_class_weights(options_, enc, sw);
  const bool fit_b = options_.fit_intercept;
  const double S = wt.sum;
  // The penalty's two parts: (1 − ρ)/(CS) on ½‖W‖², ρ/(CS) on ‖W‖₁.
  const double rho = options_.l1_ratio;
  const double inv_CS = std::isinf(options_.C) ? 0.0 : (1.0 - rho) / (options_.C * S);
  const double l1_CS = std::isinf(options_.C) ? 0.0 : rho / (options_.C * S);
  // liblinear's penalised intercept b = c·w₀ (c = intercept_scaling): ½w₀² = ½b²/c², |w₀| = |b|/c.
  const bool pen_b = fit_b && options_.penalize_intercept;
  const double is = options_.intercept_scaling;
  Backend& b = *backend();
  // The optimiser's weights w″ relate to the model's by w_j = s_j·w″_j (s = the column scale).
  std::vector<double> s_col(d, 1.0);
  if (!input.raw) {
    for (std::int64_t j = 0; j < d; ++j) s_col[j] = input.scale.at<float>(0, j);
  }
  // Targets, built once on the host (O(n) setup) and moved to the device:
  //   binary:      y (n × 1) in {0, 1} and ỹ = 1 − 2y in {+1, −1}
  //   multinomial: Ys (n × K) = sᵢ at (i, yᵢ), 0 elsewhere (the weighted one-hot matrix)
  Tensor s_dev, y_dev, ysign_dev, Ys_dev;
  if (wt.weighted) s_dev = b.to_device(detail::column(wt.s));
  if (binary) {
    Tensor yh(n, 1), sh(n, 1);
    for (std::int64_t i = 0; i < n; ++i) {
      yh.at<float>(i, 0) = static_cast<float>(enc.code[i]);
      sh.at<float>(i, 0) = enc.code[i] == 1 ? -1.0f : 1.0f;
    }
    y_dev = b.to_device(yh);
    ysign_dev = b.to_device(sh);
  } else {
    Tensor Yh(n, K);
    for (std::int64_t i = 0; i < n; ++i) {
      Yh.at<float>(i, enc.code[i]) = wt.weighted ? wt.s[i] : 1.0f;
    }
    Ys_dev = b.to_device(Yh);
  }

  // Work buffers, allocated once per fit.
  Tensor Z = b.empty(n, Kp), U = b.empty(n, Kp), P = b.empty(n, Kp);
  Tensor GW = b.empty(Kp, d), gb = b.empty(1, Kp), loss_parts = b.empty(1, Kp);
  Tensor loss_scalar = b.empty(1, 1);
  Tensor W_host(Kp, d), b_host(1, Kp);

  // ---- F(θ) and ∇F(θ), θ = [W (Kp × d, row-major), b (Kp)] -----------------------------------
  const std::int64_t n_w = Kp * d;
  auto objective = [&](const Eigen::VectorXd& theta, Eigen::VectorXd& grad) -> double {
    for (std::int64_t i = 0; i < n_w; ++i) W_host.data<float>()[i] = static_cast<float>(theta(i));
    for (std::int64_t k = 0; k < Kp; ++k)
      b_host.at<float>(0, k) = fit_b ? static_cast<float>(theta(n_w + k)) : 0.0f;
    Tensor W = b.to_device(W_host);

    // Z = Xc·Wᵀ + b   (n × Kp)
    products.scores(W_host, W, Z);
    if (fit_b) b.add_row_vector(1.0f, b.to_device(b_host), Z);

    double loss = 0.0;
    if (binary) {
      // loss = Σ sᵢ·log(1 + exp(ỹᵢ·zᵢ)): for y = 1 that is log(1 + e^{−z}), for y = 0
      // log(1 + e^{z}) — the binomial loss without computing a sigmoid and its log.
      b.axpby(1.0f, Z, 0.0f, U);
      b.multiply(ysign_dev, U);
      b.map(MapFn::log1pexp, U, U);
      if (wt.weighted) {
        b.gemv(Trans::yes, 1.0f, U, s_dev, 0.0f, loss_scalar);  // sᵀU
      } else {
        b.reduce_cols(Reduce::sum, U, loss_scalar);
      }
      loss = b.to_host(loss_scalar).at<float>(0, 0);
      // R = s ⊙ (sigmoid(Z) − y), in Z's storage.
      b.map(MapFn::sigmoid, Z, Z);
      b.axpby(-1.0f, y_dev, 1.0f, Z);
      if (wt.weighted) b.scale_rows(s_dev, Z);
    } else {
      // L = log_softmax(Z); loss = −Σ Ys ⊙ L; R = s ⊙ exp(L) − Ys.
      b.softmax_rows(Z, U, /*log=*/true);
      b.map(MapFn::exp, U, P);
      b.multiply(Ys_dev, U);
      b.reduce_cols(Reduce::sum, U, loss_parts);
      const Tensor lp = b.to_host(loss_parts);
      for (std::int64_t k = 0; k < Kp; ++k) loss -= lp.at<float>(0, k);
      if (wt.weighted) b.scale_rows(s_dev, P);
      b.axpby(-1.0f, Ys_dev, 1.0f, P);
    }
    const Tensor& R = binary ? Z : P;  // n × Kp

    // ∇W = Rᵀ·Xc (Kp × d), ∇b = Σᵢ Rᵢ (1 × Kp).
    const Tensor GWh = products.gradient(R, GW);
    Tensor gbh;
    if (fit_b) {
      b.reduce_cols(Reduce::sum, R, gb);
      gbh = b.to_host(gb);
    }

    // F = loss/S + ‖W‖²/(2CS);  ∇F = (GW + W/C)/S, ∇b F = gb/S — with W = s ⊙ W″ per column,
    // so the penalty reads ‖s ⊙ W″‖² and its gradient s²·W″.
    double penalty = 0.0;
    for (std::int64_t i = 0; i < n_w; ++i) {
      const double s2 = s_col[i % d] * s_col[i % d];
      penalty += s2 * theta(i) * theta(i);
      grad(i) = GWh.data<float>()[i] / S + s2 * theta(i) * inv_CS;
    }
    double b_penalty = 0.0;
    for (std::int64_t k = 0; k < Kp && fit_b; ++k) {
      const double bk = theta(n_w + k);
      grad(n_w + k) = gbh.at<float>(0, k) / S + (pen_b ? bk * inv_CS / (is * is) : 0.0);
      if (pen_b) b_penalty += bk * bk / (is * is);
    }
    return loss / S + 0.5 * (penalty + b_penalty) * inv_CS;
  };

  // ---- L-BFGS (or OWL-QN) from θ = 0 or the warm start ------------------------------------------
  Eigen::VectorXd theta = Eigen::VectorXd::Zero(n_w + (fit_b ? Kp : 0));
  if (!start_coef_.empty()) {
    MLCORE_CHECK(start_coef_.rows() == Kp && start_coef_.cols() == d &&
                     start_intercept_.rows() == 1 && start_intercept_.cols() == Kp,
                 kName << ": the warm start's coef is " << start_coef_.rows() << " x "
                       << start_coef_.cols() << " and intercept 1 x " << start_intercept_.cols()
                       << "; this fit needs " << Kp << " x " << d << " and 1 x " << Kp);
    // θ is in the optimiser's units: w″ = w / s, and b″ = b + x̄·w for centred X.
    for (std::int64_t k = 0; k < Kp; ++k) {
      double bk = start_intercept_.at<float>(0, k);
      for (std::int64_t j = 0; j < d; ++j) {
        const double w = start_coef_.at<float>(k, j);
        theta(k * d + j) = w / s_col[j];
        if (!input.raw) bk += double(input.shift.at<float>(0, j)) * w;
      }
      if (fit_b) theta(n_w + k) = bk;
    }
  }
  detail::LbfgsOptions lo;
  lo.max_iter = options_.max_iter;
  lo.gtol = options_.tol;
  lo.memory = options_.lbfgs_memory;
  // Converge on the gradient with respect to the original weights: ∂F/∂w_j = (∂F/∂w″_j)/s_j.
  lo.gtol_scale = Eigen::VectorXd::Ones(theta.size());
  for (std::int64_t i = 0; i < n_w; ++i) lo.gtol_scale(i) = 1.0 / s_col[i % d];
  detail::LbfgsResult res;
  if (l1_CS > 0.0) {
    // |w_j| = s_j·|w″_j|: the L1 weight of each optimiser coordinate.
    Eigen::VectorXd l1 = Eigen::VectorXd::Zero(theta.size());
    for (std::int64_t i = 0; i < n_w; ++i) l1(i) = l1_CS * s_col[i % d];
    for (std::int64_t k = 0; k < Kp && pen_b; ++k) l1(n_w + k) = l1_CS / is;
    res = detail::minimize_owlqn(objective, l1, theta, lo);
  } else {
    res = detail::minimize_lbfgs(objective, theta, lo);
  }

  // ---- the fitted model: w = s ⊙ w″, and the intercept moved back to uncentred X: b = b″ − x̄·w --
  Eigen::MatrixXd Wd(Kp, d);
  Eigen::VectorXd bd(Kp);
  for (std::int64_t k = 0; k < Kp; ++k) {
    double bk = fit_b ? theta(n_w + k) : 0.0;
    for (std::int64_t j = 0; j < d; ++j) {
      Wd(k, j) = s_col[j] * theta(k * d + j);
      if (!input.raw) bk -= double(input.shift.at<float>(0, j)) * Wd(k, j);
    }
    bd(k) = bk;
  }
  // Multinomial scores are defined up to a shift common to all classes (softmax ignores it).
  // Without an L1 part the optimum has Σ_k W_k = 0 (removing the class mean of a column leaves
  // the loss and lowers the L2 penalty), and the unpenalised intercepts are chosen the same way:
  // the optimiser reaches it only to its tolerance, so the mean is removed exactly here.
  if (!binary && l1_CS == 0.0) {
    Wd.rowwise() -= Wd.colwise().mean();
    if (!pen_b) bd.array() -= bd.mean();
  }
  classes_ = enc.classes;
  coef_ = Tensor(Kp, d);
  intercept_ = Tensor(1, Kp);
  for (std::int64_t k = 0; k < Kp; ++k) {
    for (std::int64_t j = 0; j < d; ++j) coef_.at<float>(k, j) = static_cast<float>(Wd(k, j));
    intercept_.at<float>(0, k) = static_cast<float>(bd(k));
  }
  raw_input_ = input.raw;
  input_shift_ = input.shift;
  input_scale_ = input.scale;
  n_iter_ = res.n_iter;
  converged_ = res.converged;
  message_ = res.message;
  fitted_ = true;
}

Tensor LogisticRegression::scores_on_device(const Tensor& X, bool all_classes) const {
  require_fitted();
  detail::check_samples(X, kName);
  detail::check_n_features(X, coef_.cols(), kName);
  Backend& b = *backend();
  const auto [W, bias] = class_weights(all_classes);
  const detail::InputTransform input{raw_input_, input_shift_, input_scale_};
  const Tensor Xt = detail::apply_input_transform(b, b.to_device(X), input);
  return detail::affine_scores(b, Xt, W, bias, input);  // n × Kc
}

std::pair<Tensor, Tensor> LogisticRegression::class_weights(bool all_classes) const {
  const std::int64_t d = coef_.cols(), Kp = coef_.rows();
  // With all_classes, two classes get the scores [0, z]: softmax of that row is
  // [1 − σ(z), σ(z)], and its argmax is classes[1] exactly when z > 0 (scikit-learn's rule).
  const std::int64_t Kc = all_classes ? static_cast<std::int64_t>(classes_.size()) : Kp;
  const std::int64_t off = Kc - Kp;  // 1 for the zero column of the binary case, else 0
  Tensor W(Kc, d), bias(1, Kc);
  for (std::int64_t k = 0; k < Kp; ++k) {
    for (std::int64_t j = 0; j < d; ++j) W.at<float>(off + k, j) = coef_.at<float>(k, j);
    bias.at<float>(0, off + k) = intercept_.at<float>(0, k);
  }
  return {W, bias};
}

Tensor LogisticRegression::scores_on_device(const CsrMatrix& X, bool all_classes) const {
  require_fitted();
  detail::check_sparse_samples(X, kName);
  detail::check_sparse_n_features(X, coef_.cols(), kName);
  Backend& b = *backend();
  const auto [W, bias] = class_weights(all_classes);
  return detail::sparse_affine_scores(b, detail::csr_on_device(b, X), W, bias);  // n × Kc
}

template <class Input>
Tensor LogisticRegression::decision_function_impl(const Input& X) const {
  ProfileScope scope = begin_call();
  return backend()->to_host(scores_on_device(X, /*all_classes=*/false));
}

template <class Input>
Tensor LogisticRegression::predict_proba_impl(const Input& X) const {
  ProfileScope scope = begin_call();
  Tensor Z = scores_on_device(X, /*all_classes=*/true);
  backend()->softmax_rows(Z, Z);
  return backend()->to_host(Z);
}

template <class Input>
Tensor LogisticRegression::predict_log_proba_impl(const Input& X) const {
  ProfileScope scope = begin_call();
  Tensor Z = scores_on_device(X, /*all_classes=*/true);
  backend()->softmax_rows(Z, Z, /*log=*/true);
  return backend()->to_host(Z);
}

template <class Input>
Tensor LogisticRegression::predict_impl(const Input& X) const {
  ProfileScope scope = begin_call();
  Backend& b = *backend();
  if (classes_.size() == 2) {
    // One score z per sample (a gemv): classes[1] exactly when z > 0, scikit-learn's rule. The
    // comparison rides along with the label lookup the host does anyway.
    const Tensor z = b.to_host(scores_on_device(X, /*all_classes=*/false));
    Tensor labels(z.rows(), 1);
    for (std::int64_t i = 0; i < z.rows(); ++i) {
      labels.at<float>(i, 0) = static_cast<float>(classes_[z.at<float>(i, 0) > 0.0f ? 1 : 0]);
    }
    return labels;
  }
  Tensor Z = scores_on_device(X, /*all_classes=*/true);
  // argmax over classes = argmin of −Z (the first on ties, as numpy's argmax).
  b.map(MapFn::identity, Z, Z, MapArgs{-1.0f, 0.0f, 1.0f});
  Tensor index = b.empty(Z.rows(), 1, DType::i32), value = b.empty(Z.rows(), 1);
  b.argmin_rows(Z, index, value);
  const Tensor idx = b.to_host(index);
  Tensor labels(Z.rows(), 1);
  for (std::int64_t i = 0; i < Z.rows(); ++i) {
    labels.at<float>(i, 0) = static_cast<float>(classes_[idx.at<std::int32_t>(i, 0)]);
  }
  return labels;
}

Tensor LogisticRegression::decision_function(const Tensor& X) const {
  return decision_function_impl(X);
}
Tensor LogisticRegression::decision_function(const CsrMatrix& X) const {
  return decision_function_impl(X);
}
Tensor LogisticRegression::predict_proba(const Tensor& X) const { return predict_proba_impl(X); }
Tensor LogisticRegression::predict_proba(const CsrMatrix& X) const { return predict_proba_impl(X); }
Tensor LogisticRegression::predict_log_proba(const Tensor& X) const {
  return predict_log_proba_impl(X);
}
Tensor LogisticRegression::predict_log_proba(const CsrMatrix& X) const {
  return predict_log_proba_impl(X);
}
Tensor LogisticRegression::predict(const Tensor& X) const { return predict_impl(X); }
Tensor LogisticRegression::predict(const CsrMatrix& X) const { return predict_impl(X); }

void LogisticRegression::set_start(const Tensor& coef, const Tensor& intercept) {
  MLCORE_CHECK(coef.empty() == intercept.empty(),
               kName << ": set_start takes both coef and intercept, or neither");
  start_coef_ = coef.empty() ? Tensor() : coef.clone();
  start_intercept_ = intercept.empty() ? Tensor() : intercept.clone();
}

const std::vector<double>& LogisticRegression::classes() const {
  require_fitted();
  return classes_;
}
const Tensor& LogisticRegression::coef() const {
  require_fitted();
  return coef_;
}
const Tensor& LogisticRegression::intercept() const {
  require_fitted();
  return intercept_;
}
std::int64_t LogisticRegression::n_features_in() const {
  require_fitted();
  return coef_.cols();
}
int LogisticRegression::n_iter() const {
  require_fitted();
  return n_iter_;
}
bool LogisticRegression::converged() const {
  require_fitted();
  return converged_;
}
const std::string& LogisticRegression::solver_message() const {
  require_fitted();
  return message_;
}

void LogisticRegression::visit(Archive& a) {
  a(options_.C, options_.tol, options_.max_iter, options_.fit_intercept,
    options_.class_weight_balanced);
  // class_weight as one flat list of (label, weight) pairs.
  std::vector<double> cw;
  for (const auto& [label, weight] : options_.class_weight) cw.insert(cw.end(), {label, weight});
  a(cw);
  if (a.loading()) {
    MLCORE_CHECK(cw.size() % 2 == 0, kName << ": corrupted class_weight in the saved model");
    options_.class_weight.clear();
    for (std::size_t i = 0; i < cw.size(); i += 2) options_.class_weight[cw[i]] = cw[i + 1];
  }
  a(options_.lbfgs_memory);
  if (a.version() >= 2)
    a(options_.l1_ratio, options_.penalize_intercept, options_.intercept_scaling);
  if (!a.fitted(fitted_)) return;
  a(classes_, coef_, intercept_);
  detail::visit_input_transform(a, raw_input_, input_shift_, input_scale_, coef_.cols());
  a(n_iter_, converged_, message_);
  if (a.loading()) {
    const std::int64_t K = static_cast<std::int64_t>(classes_.size());
    const std::int64_t Kp = coef_.rows(), d = coef_.cols();
    MLCORE_CHECK(K >= 2 && Kp == (K == 2 ? 1 : K) && intercept_.cols() == Kp && d >= 1,
                 kName << ": the saved model's arrays have inconsistent shapes");
  }
}

std::vector<std::pair<std::string, Tensor*>> LogisticRegression::fitted_arrays() {
  if (!fitted_) return {};
  return {{"coef", &coef_}, {"intercept", &intercept_}};
}

}  // namespace mlcore
