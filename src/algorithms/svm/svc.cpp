// SVC: one SMO problem per pair of classes (one-vs-one), kernel rows from the backend, and
// scikit-learn's (libsvm's) layout of the fitted attributes. See
// include/mlcore/algorithms/svm/svm.hpp.
//
// Layout, for classes c_0 < c_1 < … < c_{K−1} and pairs p = (a, b), a < b, in the order
// (0,1), (0,2), …, (0,K−1), (1,2), …:
//   * the samples of pair (a, b) are those of class a then those of class b, each in their
//     order in X, with y = +1 for a and −1 for b;
//   * a sample is a support vector if its α is non-zero in any of its pairs; support vectors
//     are listed by class, then by index in X (support_, support_vectors_, n_support_);
//   * dual_coef_[b−1, s] = α_s·y_s of a support vector s of class a in pair (a, b), and
//     dual_coef_[a, s] the same for a support vector of class b (libsvm's packing: row r of
//     dual_coef_ holds, for each SV, its coefficient in its pair with the r-th other class);
//   * intercept_[p] = −rho_p. For two classes scikit-learn flips the signs of dual_coef_,
//     intercept_ and the decision function, so that positive means classes_[1]; so do we.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>
#include <string>

#include "algorithms/common/validate.hpp"
#include "algorithms/svm/svc_probability.hpp"
#include "algorithms/svm/svm_kernel.hpp"
#include "algorithms/svm/svm_smo.hpp"
#include "mlcore/algorithms/svm/svm.hpp"
#include "mlcore/serialize.hpp"

namespace mlcore {

namespace {

constexpr const char* kName = "SVC";
// The kernel runs in float32: a larger gamma would be inf there, and K(x, x) = exp(−inf·0) NaN.
constexpr double kMaxGamma = std::numeric_limits<float>::max();
// 2: derived coefficients no longer stored; 3: the fitted flag (earlier files were always
// fitted), saving works before fit.
// 4: probability and random_state, and the pairs' Platt sigmoids (probA, probB).
constexpr std::uint32_t kModelVersion = 4;

// Rows of X per block when each row needs `width` floats: a block of at most `floats` floats
// (4 Mi, 16 MiB: the kernel blocks of ovo_decision; predict allows its one-vs-one values 16 Mi,
// so that at many classes a block still holds enough rows to amortise its K per-class calls).
std::int64_t decision_block(std::int64_t n, std::int64_t width, std::int64_t floats = 4ll << 20) {
  return std::clamp<std::int64_t>(floats / std::max<std::int64_t>(width, 1), 1,
                                  std::max<std::int64_t>(n, 1));
}

// The first rows·cols elements of t's storage as a dense rows × cols tensor (a smaller block in a
// buffer allocated once for the largest).
Tensor leading(const Tensor& t, std::int64_t rows, std::int64_t cols) {
  return t.reshaped(t.numel(), 1).row_slice(0, rows * cols).reshaped(rows, cols);
}

// The rows `which` of host M, in that order.
Tensor rows(const Tensor& M, const std::vector<std::int64_t>& which) {
  const std::int64_t w = static_cast<std::int64_t>(which.size()), d = M.cols();
  Tensor out(w, d);
  for (std::int64_t i = 0; i < w; ++i) {
    std::memcpy(out.data<float>() + i * d, M.data<float>() + which[i] * d, d * sizeof(float));
  }
  return out;
}

// The columns `cols` of host M, in that order (a precomputed kernel's block against chosen
// training samples; host work of the block's own size).
template <class Index>
Tensor columns(const Tensor& M, const std::vector<Index>& cols) {
  const std::int64_t m = M.rows(), w = static_cast<std::int64_t>(cols.size());
  Tensor out(m, w);
  for (std::int64_t i = 0; i < m; ++i) {
    const float* row = M.data<float>() + i * M.cols();
    for (std::int64_t j = 0; j < w; ++j) out.data<float>()[i * w + j] = row[cols[j]];
  }
  return out;
}

detail::KernelSpec kernel_spec(const SVCOptions& o, double gamma) {
  detail::KernelSpec spec;
  spec.kind = detail::parse_kernel(o.kernel);
  spec.gamma = gamma;
  spec.coef0 = o.coef0;
  spec.degree = o.degree;
  return spec;
}

// Var(X) over all elements: mean over columns of (var_j + (μ_j − μ)²), from two column
// reductions on the backend.
double total_variance(Backend& b, const Tensor& X) {
  const std::int64_t d = X.cols();
  Tensor stat = b.empty(1, d);
  b.reduce_cols(Reduce::mean, X, stat);
  const Tensor mean = b.to_host(stat).clone();
  b.reduce_cols(Reduce::var, X, stat);
  const Tensor var = b.to_host(stat);
  double mu = 0.0;
  for (std::int64_t j = 0; j < d; ++j) mu += mean.data<float>()[j];
  mu /= static_cast<double>(d);
  double total = 0.0;
  for (std::int64_t j = 0; j < d; ++j) {
    const double dm = mean.data<float>()[j] - mu;
    total += var.data<float>()[j] + dm * dm;
  }
  return total / static_cast<double>(d);
}

}  // namespace

SVC::SVC(const SVCOptions& options, BackendPtr backend)
    : Estimator(kName, kModelVersion, std::move(backend)), options_(options) {
  // C = +inf is the hard-margin SVM: no upper bound on the dual variables (the SMO's box
  // clipping and bound tests are IEEE-safe with an infinite bound).
  MLCORE_CHECK(options.C > 0.0, "SVC: C must be a positive number (or inf), got " << options.C);
  detail::parse_kernel(options.kernel);  // throws for an unknown kernel
  MLCORE_CHECK(options.degree >= 0, "SVC: degree must be >= 0, got " << options.degree);
  MLCORE_CHECK(
      options.gamma == "scale" || options.gamma == "auto" || options.gamma == "value",
      "SVC: gamma must be 'scale', 'auto' or a number (\"value\"), got '" << options.gamma << "'");
  MLCORE_CHECK(options.gamma != "value" ||
                   (options.gamma_value >= 0.0 && std::isfinite(options.gamma_value)),
               "SVC: gamma must be >= 0, got " << options.gamma_value);
  MLCORE_CHECK(options.gamma != "value" || options.gamma_value <= kMaxGamma,
               "SVC: gamma must be at most " << kMaxGamma << " (the kernel runs in float32), got "
                                             << options.gamma_value);
  MLCORE_CHECK(std::isfinite(options.coef0), "SVC: coef0 must be finite");
  MLCORE_CHECK(options.tol > 0.0 && std::isfinite(options.tol),
               "SVC: tol must be a positive number, got " << options.tol);
  MLCORE_CHECK(options.cache_size > 0.0, "SVC: cache_size must be > 0, got " << options.cache_size);
  MLCORE_CHECK(options.max_iter == -1 || options.max_iter >= 1,
               "SVC: max_iter must be -1 (no limit) or >= 1, got " << options.max_iter);
  MLCORE_CHECK(options.decision_function_shape == "ovr" || options.decision_function_shape == "ovo",
               "SVC: decision_function_shape must be 'ovr' or 'ovo', got '"
                   << options.decision_function_shape << "'");
  for (double w : options.class_weight) {
    MLCORE_CHECK(w >= 0.0 && std::isfinite(w), "SVC: class weights must be >= 0, got " << w);
  }
}

SVC& SVC::fit(const Tensor& X, const Tensor& y, const Tensor& sample_weight) {
  ProfileScope scope = begin_call();
  fitted_ = false;
  detail::check_samples(X, kName);
  const std::int64_t n = X.rows(), d = X.cols();
  detail::check_targets(y, n, kName);
  const detail::LabelEncoding enc = detail::encode_labels(y, kName, 2);
  const std::int64_t K = static_cast<std::int64_t>(enc.classes.size());
  MLCORE_CHECK(
      options_.class_weight.empty() || static_cast<std::int64_t>(options_.class_weight.size()) == K,
      "SVC: class_weight has " << options_.class_weight.size() << " entries for " << K
                               << " classes");
  std::vector<double> sw(n, 1.0);
  if (!sample_weight.empty()) {
    detail::check_targets(sample_weight, n, kName, "sample_weight");
    for (std::int64_t i = 0; i < n; ++i) {
      sw[i] = sample_weight.data<float>()[i];
      MLCORE_CHECK(sw[i] >= 0.0, "SVC: sample_weight must be >= 0, got " << sw[i] << " at " << i);
    }
  }

  Backend& b = *backend();
  const bool precomputed = options_.kernel == "precomputed";
  MLCORE_CHECK(!precomputed || X.rows() == X.cols(),
               "SVC: a precomputed kernel must be the square Gram matrix of the training samples "
               "(n_samples × n_samples), got "
                   << X.rows() << " × " << X.cols());
  const Tensor Xd = b.to_device(X);
  if (precomputed) {
    gamma_ = 0.0;  // the caller's kernel has its own parameters
  } else if (options_.gamma == "scale") {
    const double var = total_variance(b, Xd);
    gamma_ = var > 0.0 ? 1.0 / (static_cast<double>(d) * var) : 1.0;
  } else if (options_.gamma == "auto") {
    gamma_ = 1.0 / static_cast<double>(d);
  } else {
    gamma_ = options_.gamma_value;
  }
  MLCORE_CHECK(gamma_ <= kMaxGamma,
               "SVC: gamma='scale' is 1 / (n_features · X.var()) = "
                   << gamma_ << ", beyond float32's range (the kernel runs in float32): X's values "
                   << "are too small (their variance is " << 1.0 / (gamma_ * double(d))
                   << "). Rescale X, e.g. with sklearn.preprocessing.StandardScaler, or pass "
                   << "gamma as a number");
  const detail::KernelSpec spec = kernel_spec(options_, gamma_);

  // Samples by class, in order; a sample of zero C (weight 0) takes no part (libsvm too).
  // factor[i]: sample i's weight times its class's; its box bound is C·factor[i].
  std::vector<double> Cs(n), factor(n);
  std::vector<std::vector<std::int64_t>> members(K);
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int32_t c = enc.code[i];
    factor[i] = sw[i] * (options_.class_weight.empty() ? 1.0 : options_.class_weight[c]);
    Cs[i] = factor[i] > 0.0 ? options_.C * factor[i] : 0.0;  // never inf · 0
    if (Cs[i] > 0.0) members[c].push_back(i);
  }
  for (std::int64_t c = 0; c < K; ++c) {
    MLCORE_CHECK(!members[c].empty(),
                 "SVC: class " << enc.classes[c] << " has no sample of positive weight");
  }

  // One SMO problem per pair; alpha_of[i] collects sample i's coefficient in each of its pairs.
  const std::int64_t n_pairs = K * (K - 1) / 2;
  std::vector<std::vector<double>> pair_alpha(n_pairs);  // aligned with the pair's samples
  std::vector<std::vector<std::int64_t>> pair_samples(n_pairs);
  std::vector<double> rho(n_pairs);
  n_iter_.assign(n_pairs, 0);
  converged_ = true;
  std::int64_t p = 0;
  for (std::int64_t a = 0; a < K; ++a) {
    for (std::int64_t c = a + 1; c < K; ++c, ++p) {
      std::vector<std::int64_t>& idx = pair_samples[p];
      idx = members[a];
      idx.insert(idx.end(), members[c].begin(), members[c].end());
      const std::int64_t l = static_cast<std::int64_t>(idx.size());
      Tensor index(l, 1, DType::i32);
      for (std::int64_t t = 0; t < l; ++t)
        index.data<std::int32_t>()[t] = static_cast<std::int32_t>(idx[t]);
      Tensor Xp = b.empty(l, d);  // the pair's samples, on the device
      b.gather_rows(Xd, b.to_device(index), Xp);
      if (precomputed) Xp = b.to_device(columns(b.to_host(Xp), idx));  // the pair's Gram block

      detail::KernelRows rows(b, spec, Xp, options_.cache_size * 1024.0 * 1024.0);
      detail::SmoProblem prob;
      prob.y.resize(l);
      prob.C.resize(l);
      for (std::int64_t t = 0; t < l; ++t) {
        prob.y[t] = t < static_cast<std::int64_t>(members[a].size()) ? 1.0 : -1.0;
        prob.C[t] = Cs[idx[t]];
      }
      prob.QD = detail::kernel_diagonal(b, spec, Xp);
      for (std::int64_t t = 0; t < l; ++t) {
        // Finite X and gamma: only a polynomial kernel of huge x overflows float32.
        if (!std::isfinite(prob.QD[t])) {
          detail::throw_too_large(X, kName,
                                  "the kernel K(x, x) of sample " + std::to_string(idx[t]));
        }
      }
      prob.K = &rows;
      prob.eps = options_.tol;
      prob.max_iter = options_.max_iter;
      prob.shrinking = options_.shrinking;
      detail::SmoResult res = detail::solve_smo(prob);
      pair_alpha[p] = std::move(res.alpha);
      rho[p] = res.rho;
      n_iter_[p] = res.n_iter;
      converged_ = converged_ && res.converged;
    }
  }

  // Support vectors: non-zero α in any pair; listed by class, then by index.
  std::vector<char> is_sv(n, 0);
  for (std::int64_t q = 0; q < n_pairs; ++q) {
    for (std::size_t t = 0; t < pair_samples[q].size(); ++t) {
      if (pair_alpha[q][t] > 0.0) is_sv[pair_samples[q][t]] = 1;
    }
  }
  std::vector<std::int64_t> sv_list, sv_pos(n, -1);
  n_support_.assign(K, 0);
  for (std::int64_t c = 0; c < K; ++c) {
    for (std::int64_t i : members[c]) {
      if (!is_sv[i]) continue;
      sv_pos[i] = static_cast<std::int64_t>(sv_list.size());
      sv_list.push_back(i);
      ++n_support_[c];
    }
  }
  const std::int64_t n_sv = static_cast<std::int64_t>(sv_list.size());
  support_ = Tensor(n_sv, 1, DType::i32);
  // A precomputed kernel keeps no rows (scikit-learn's empty support_vectors_): predict reads
  // the query's kernel values at support_.
  support_vectors_ = Tensor(precomputed ? 0 : n_sv, d);
  for (std::int64_t s = 0; s < n_sv; ++s) {
    support_.data<std::int32_t>()[s] = static_cast<std::int32_t>(sv_list[s]);
    if (precomputed) continue;
    std::memcpy(support_vectors_.data<float>() + s * d, X.data<float>() + sv_list[s] * d,
                d * sizeof(float));
  }
  dual_coef_ = Tensor::zeros(std::max<std::int64_t>(K - 1, 1), n_sv);
  intercept_ = Tensor(1, n_pairs);
  p = 0;
  for (std::int64_t a = 0; a < K; ++a) {
    for (std::int64_t c = a + 1; c < K; ++c, ++p) {
      const std::int64_t na = static_cast<std::int64_t>(members[a].size());
      for (std::size_t t = 0; t < pair_samples[p].size(); ++t) {
        const double alpha = pair_alpha[p][t];
        if (!(alpha > 0.0)) continue;  // the support-vector test above: sv_pos is set exactly then
        const bool first = static_cast<std::int64_t>(t) < na;
        const std::int64_t s = sv_pos[pair_samples[p][t]];
        dual_coef_.at<float>(first ? c - 1 : a, s) =
            static_cast<float>(first ? alpha : -alpha);  // α·y
      }
      intercept_.at<float>(0, p) = static_cast<float>(-rho[p]);
    }
  }
  if (K == 2) {  // scikit-learn's sign convention for two classes: positive → classes_[1]
    for (std::int64_t s = 0; s < n_sv; ++s) dual_coef_.at<float>(0, s) *= -1.0f;
    intercept_.at<float>(0, 0) *= -1.0f;
  }
  derive_pair_coefficients();
  classes_ = enc.classes;
  prob_a_ = prob_b_ = Tensor();
  if (options_.probability) fit_probability(X, enc.code, factor);
  fitted_ = true;
  return *this;
}

void SVC::fit_probability(const Tensor& X, const std::vector<std::int32_t>& code,
                          const std::vector<double>& weight) {
  // libsvm's procedure: for each pair, its samples in a random order cut into 5 folds; each
  // fold's decision values come from an SVC fitted on the other four (the same C, kernel and
  // gamma, the pair's two classes only), so the sigmoid sees margins of unseen data.
  constexpr std::int64_t kFolds = 5;
  const std::int64_t K = static_cast<std::int64_t>(classes_.size());
  const bool precomputed = options_.kernel == "precomputed";
  SVCOptions sub = options_;
  sub.probability = false;
  sub.gamma = "value";  // the full fit's gamma, not one recomputed from a fold
  sub.gamma_value = gamma_;
  sub.class_weight.clear();  // folded into `weight`
  sub.decision_function_shape = "ovr";
  sub.break_ties = false;
  std::mt19937_64 rng(options_.random_state);
  prob_a_ = Tensor(1, K * (K - 1) / 2);
  prob_b_ = Tensor(1, K * (K - 1) / 2);
  std::int64_t p = 0;
  for (std::int64_t a = 0; a < K; ++a) {
    for (std::int64_t c = a + 1; c < K; ++c, ++p) {
      std::vector<std::int64_t> idx;
      for (std::int64_t i = 0; i < X.rows(); ++i) {
        if (weight[i] > 0.0 && (code[i] == a || code[i] == c)) idx.push_back(i);
      }
      std::shuffle(idx.begin(), idx.end(), rng);
      const std::int64_t l = static_cast<std::int64_t>(idx.size());
      std::vector<double> f(l);
      std::vector<char> first(l);
      for (std::int64_t t = 0; t < l; ++t) first[t] = code[idx[t]] == a;
      for (std::int64_t fold = 0; fold < kFolds; ++fold) {
        const std::int64_t t0 = fold * l / kFolds, t1 = (fold + 1) * l / kFolds;
        if (t0 == t1) continue;
        const std::int64_t m = l - (t1 - t0);
        std::vector<std::int64_t> train, held_out;
        Tensor yt(m, 1), wt(m, 1);
        std::int64_t n_first = 0;
        for (std::int64_t t = 0; t < l; ++t) {
          if (t >= t0 && t < t1) {
            held_out.push_back(idx[t]);
            continue;
          }
          const std::int64_t r = static_cast<std::int64_t>(train.size());
          train.push_back(idx[t]);
          yt.data<float>()[r] = first[t] ? 0.0f : 1.0f;  // the pair's first class is code 0
          wt.data<float>()[r] = static_cast<float>(weight[idx[t]]);
          n_first += first[t];
        }
        // The folds' samples; with a precomputed kernel, their kernel values against the
        // training part only (the sub-fit's Gram matrix, and its queries' rows).
        Tensor Xt = rows(X, train), Xv = rows(X, held_out);
        if (precomputed) {
          Xt = columns(Xt, train);
          Xv = columns(Xv, train);
        }
        if (n_first == 0 || n_first == m) {
          // The other folds hold one class: libsvm's values, ±1 toward it.
          for (std::int64_t t = t0; t < t1; ++t) f[t] = n_first == m ? 1.0 : -1.0;
          continue;
        }
        SVC model(sub, backend());
        model.fit(Xt, yt, wt);
        // Two classes: decision_function is positive toward code 1 (scikit-learn's sign);
        // libsvm's pair value is positive toward the first class.
        const Tensor dv = model.decision_function(Xv);
        for (std::int64_t t = t0; t < t1; ++t) f[t] = -double(dv.data<float>()[t - t0]);
      }
      const detail::PlattSigmoid s = detail::fit_platt_sigmoid(f, first);
      prob_a_.at<float>(0, p) = static_cast<float>(s.A);
      prob_b_.at<float>(0, p) = static_cast<float>(s.B);
    }
  }
}

Tensor SVC::predict_proba(const Tensor& X) const {
  ProfileScope scope = begin_call();
  require_fitted();
  MLCORE_CHECK(options_.probability,
               "SVC: predict_proba needs probability=True at fit (Platt scaling is fitted then)");
  const std::int64_t K = static_cast<std::int64_t>(classes_.size()), n = X.rows();
  Tensor out(n, K);
  const std::int64_t block = decision_block(n, K * (K - 1) / 2, 16ll << 20);
  std::vector<double> r(K * K, 0.0), prob(K);
  for (std::int64_t r0 = 0; r0 < std::max<std::int64_t>(n, 1); r0 += block) {
    const std::int64_t r1 = std::min(n, r0 + block);
    const Tensor dec = ovo_decision(X.row_slice(r0, r1));
    for (std::int64_t i = 0; i < dec.rows(); ++i) {
      std::int64_t p = 0;
      for (std::int64_t a = 0; a < K; ++a) {
        for (std::int64_t c = a + 1; c < K; ++c, ++p) {
          const detail::PlattSigmoid s{prob_a_.at<float>(0, p), prob_b_.at<float>(0, p)};
          r[a * K + c] = detail::platt_probability(s, dec.at<float>(i, p));
          r[c * K + a] = 1.0 - r[a * K + c];
        }
      }
      if (K == 2) {
        prob[0] = r[1];
        prob[1] = r[2];
      } else {
        detail::couple_pairwise(r, K, prob.data());
      }
      for (std::int64_t a = 0; a < K; ++a) out.at<float>(r0 + i, a) = static_cast<float>(prob[a]);
    }
  }
  return out;
}

const Tensor& SVC::prob_a() const {
  require_fitted();
  return prob_a_;
}

const Tensor& SVC::prob_b() const {
  require_fitted();
  return prob_b_;
}

Tensor SVC::ovo_decision(const Tensor& X) const {
  require_fitted();
  detail::check_samples(X, kName);
  detail::check_n_features(X, support_vectors_.cols(), kName);
  Backend& b = *backend();
  const std::int64_t n = X.rows(), n_pairs = rho_.cols();
  const Tensor Xd = b.to_device(X);
  Tensor out(n, n_pairs);
  if (options_.kernel == "linear") {
    // Linear kernel: Σ_s c_s (x·sv_s) = x·w with w = Σ_s c_s sv_s (primal_coef_, from fit):
    // one GEMM over the features instead of one over the support vectors.
    Tensor D = b.empty(n, n_pairs);
    b.gemm(Trans::no, Trans::yes, 1.0f, Xd, b.to_device(primal_coef_), 0.0f, D);
    b.add_row_vector(-1.0f, b.to_device(rho_), D);
    const Tensor h = b.to_host(D);
    std::memcpy(out.raw(), h.raw(), h.size_bytes());
    return out;
  }
  // decision[x, p] = Σ_s coef(s, p) · K(x, sv_s) − rho_p for pair p = (a, c), where only the
  // support vectors of classes a and c have a coefficient in p. Class by class, with SV_k the
  // rows of class k (contiguous: support vectors are grouped by class) and sv_coef_k their rows
  // of sv_coef_ (n_k × (K−1), libsvm's packing: column c−1 for a pair with a later class c,
  // column a for an earlier class a), in blocks of rows X_r of X:
  //   K_rk = k(X_r, SV_k)               m × n_k
  //   E_kᵀ = sv_coef_kᵀ · K_rkᵀ         (K−1) × m   (gemm with K_rk as the transposed B)
  //   decision[x, (a, c)] = E_a[c−1, x] + E_c[a, x] − rho_p
  // Σ_k m·n_k·(K−1) = m·n_SV·(K−1) MACs: each support vector meets only its own K−1 pairs (a
  // dense n_SV × n_pairs coefficient matrix would cost K/2 times more, and its memory grows with
  // K³: 4 GB at 1000 classes of 2 samples). K_rk is the B operand so that each query's kernel
  // row is one output column: int8 hardware quantizes B per column, so a query whose kernel
  // values are large (poly) does not coarsen the others'.
  const detail::KernelSpec spec = kernel_spec(options_, gamma_);
  const std::int64_t K = static_cast<std::int64_t>(n_support_.size()), others = K - 1;
  const Tensor SV = b.to_device(support_vectors_);
  const Tensor W = b.to_device(sv_coef_);  // n_SV × (K−1)
  std::int64_t widest = 1;
  for (std::int64_t nk : n_support_) widest = std::max(widest, nk);
  const std::int64_t block = decision_block(n, std::max(widest, others));
  Tensor Kb = b.empty(block, widest), scratch, Eb = b.empty(others, block);
  if (spec.kind == detail::KernelKind::poly) scratch = b.empty(block, widest);
  std::vector<Tensor> E(K);  // host copies of E_k for the block
  for (std::int64_t r0 = 0; r0 < n; r0 += block) {
    const std::int64_t r1 = std::min(n, r0 + block), m = r1 - r0;
    for (std::int64_t k = 0, s0 = 0; k < K; s0 += n_support_[k], ++k) {
      const std::int64_t nk = n_support_[k];
      if (nk == 0) {
        E[k] = Tensor::zeros(others, m);
        continue;
      }
      Tensor Kr = leading(Kb, m, nk);
      Tensor Sr = scratch.empty() ? scratch : leading(scratch, m, nk);
      if (spec.kind == detail::KernelKind::precomputed) {
        // The caller's kernel values against class k's support vectors: columns of X.
        const std::int32_t* sv = support_.data<std::int32_t>() + s0;
        const std::vector<std::int32_t> cols(sv, sv + nk);
        b.axpby(1.0f, b.to_device(columns(X.row_slice(r0, r1), cols)), 0.0f, Kr);
      } else {
        detail::kernel_block(b, spec, Xd.row_slice(r0, r1), SV.row_slice(s0, s0 + nk), Kr, Sr);
      }
      Tensor Er = leading(Eb, others, m);
      b.gemm(Trans::yes, Trans::yes, 1.0f, W.row_slice(s0, s0 + nk), Kr, 0.0f, Er);
      E[k] = b.to_host(Er).clone();
    }
    // The pairs' values, minus rho (an O(m·n_pairs) pass on the host: the output's own size).
    for (std::int64_t a = 0, p = 0; a < K; ++a) {
      for (std::int64_t c = a + 1; c < K; ++c, ++p) {
        const float r = rho_.at<float>(0, p);
        const float* ea = E[a].data<float>() + (c - 1) * m;
        const float* ec = E[c].data<float>() + a * m;
        for (std::int64_t q = 0; q < m; ++q) out.at<float>(r0 + q, p) = ea[q] + ec[q] - r;
      }
    }
  }
  return out;
}

Tensor SVC::ovr_from_ovo(const Tensor& dec) const {
  // scikit-learn's "ovr" shape from one-vs-one results: votes plus confidences squashed into
  // (−1/3, 1/3), so they only break ties between equal vote counts. (O(n·K²) on the host.)
  const std::int64_t n = dec.rows(), K = static_cast<std::int64_t>(classes_.size());
  Tensor out(n, K);
  std::vector<double> votes(K), conf(K);
  for (std::int64_t i = 0; i < n; ++i) {
    std::fill(votes.begin(), votes.end(), 0.0);
    std::fill(conf.begin(), conf.end(), 0.0);
    std::int64_t p = 0;
    for (std::int64_t a = 0; a < K; ++a) {
      for (std::int64_t c = a + 1; c < K; ++c, ++p) {
        const double v = dec.at<float>(i, p);
        conf[a] += v;
        conf[c] -= v;
        votes[v < 0 ? c : a] += 1.0;
      }
    }
    for (std::int64_t a = 0; a < K; ++a) {
      out.at<float>(i, a) =
          static_cast<float>(votes[a] + conf[a] / (3.0 * (std::fabs(conf[a]) + 1.0)));
    }
  }
  return out;
}

Tensor SVC::decision_function(const Tensor& X) const {
  ProfileScope scope = begin_call();
  Tensor dec = ovo_decision(X);
  const std::int64_t K = static_cast<std::int64_t>(classes_.size());
  if (K == 2) {
    for (std::int64_t i = 0; i < dec.rows(); ++i) dec.data<float>()[i] *= -1.0f;
    return dec;
  }
  if (options_.decision_function_shape == "ovo") return dec;
  return ovr_from_ovo(dec);
}

Tensor SVC::predict(const Tensor& X) const {
  ProfileScope scope = begin_call();
  require_fitted();
  const std::int64_t K = static_cast<std::int64_t>(classes_.size()), n = X.rows();
  Tensor out(n, 1);
  // Row blocks: the n × n_pairs one-vs-one values exist only a block at a time (at 1000
  // classes a row holds 499 500 of them).
  const std::int64_t block = decision_block(n, K * (K - 1) / 2, 16ll << 20);
  std::vector<std::int64_t> votes(K);
  for (std::int64_t r0 = 0; r0 < std::max<std::int64_t>(n, 1); r0 += block) {
    const std::int64_t r1 = std::min(n, r0 + block);
    const Tensor dec = ovo_decision(X.row_slice(r0, r1));
    if (options_.break_ties && options_.decision_function_shape == "ovr" && K > 2) {
      // The largest "ovr" value (first on ties).
      const Tensor ovr = ovr_from_ovo(dec);
      for (std::int64_t i = 0; i < dec.rows(); ++i) {
        std::int64_t best = 0;
        for (std::int64_t a = 1; a < K; ++a) {
          if (ovr.at<float>(i, a) > ovr.at<float>(i, best)) best = a;
        }
        out.at<float>(r0 + i, 0) = static_cast<float>(classes_[best]);
      }
      continue;
    }
    // libsvm's vote: pair (a, b) votes a when its decision value is > 0; most votes win, ties
    // go to the smallest class. (O(n·K²) on the host: the block's values are already here.)
    for (std::int64_t i = 0; i < dec.rows(); ++i) {
      std::fill(votes.begin(), votes.end(), 0);
      std::int64_t p = 0;
      for (std::int64_t a = 0; a < K; ++a) {
        for (std::int64_t c = a + 1; c < K; ++c, ++p) ++votes[dec.at<float>(i, p) > 0 ? a : c];
      }
      const std::int64_t best = std::max_element(votes.begin(), votes.end()) - votes.begin();
      out.at<float>(r0 + i, 0) = static_cast<float>(classes_[best]);
    }
  }
  return out;
}

const std::vector<double>& SVC::classes() const {
  require_fitted();
  return classes_;
}
const Tensor& SVC::support() const {
  require_fitted();
  return support_;
}
const Tensor& SVC::support_vectors() const {
  require_fitted();
  return support_vectors_;
}
const std::vector<std::int64_t>& SVC::n_support() const {
  require_fitted();
  return n_support_;
}
const Tensor& SVC::dual_coef() const {
  require_fitted();
  return dual_coef_;
}
const Tensor& SVC::intercept() const {
  require_fitted();
  return intercept_;
}
const std::vector<std::int64_t>& SVC::n_iter() const {
  require_fitted();
  return n_iter_;
}
double SVC::gamma() const {
  require_fitted();
  return gamma_;
}
bool SVC::converged() const {
  require_fitted();
  return converged_;
}
std::int64_t SVC::n_features_in() const {
  require_fitted();
  return support_vectors_.cols();
}

void SVC::visit(Archive& a) {
  a(options_.C, options_.kernel, options_.degree, options_.gamma, options_.gamma_value,
    options_.coef0, options_.shrinking, options_.tol, options_.cache_size, options_.class_weight,
    options_.max_iter, options_.decision_function_shape, options_.break_ties);
  if (a.version() >= 4) a(options_.probability, options_.random_state);
  if (!a.fitted(fitted_, 3)) return;
  a(gamma_, converged_, classes_, support_, support_vectors_, dual_coef_, intercept_, n_support_,
    n_iter_);
  if (a.version() >= 4 && options_.probability) a(prob_a_, prob_b_);
  if (a.loading()) {
    const std::int64_t K = static_cast<std::int64_t>(classes_.size());
    const std::int64_t n_sv = support_.rows();
    std::int64_t counted = 0;
    for (std::int64_t c : n_support_) counted += c >= 0 ? c : n_sv + 1;
    MLCORE_CHECK(K >= 2 && support_vectors_.dtype() == DType::f32 &&
                     static_cast<std::int64_t>(n_support_.size()) == K && counted == n_sv &&
                     support_vectors_.rows() == (options_.kernel == "precomputed" ? 0 : n_sv) &&
                     dual_coef_.dtype() == DType::f32 && dual_coef_.rows() == K - 1 &&
                     dual_coef_.cols() == n_sv && intercept_.dtype() == DType::f32 &&
                     intercept_.rows() == 1 && intercept_.cols() == K * (K - 1) / 2 &&
                     (!options_.probability ||
                      (prob_a_.cols() == K * (K - 1) / 2 && prob_b_.cols() == K * (K - 1) / 2)),
                 "SVC: the saved model is inconsistent");
    derive_pair_coefficients();
  }
}

std::vector<std::pair<std::string, Tensor*>> SVC::fitted_arrays() {
  if (!fitted_) return {};
  return {{"dual_coef", &dual_coef_},
          {"intercept", &intercept_},
          {"support_vectors", &support_vectors_}};
}

void SVC::fitted_array_changed(const std::string& /*name*/) { derive_pair_coefficients(); }

void SVC::derive_pair_coefficients() {
  // dual_coef_ row r holds, for a support vector s of class k, its coefficient in the pair of k
  // with the r-th other class: row o − 1 for another class o > k, row o for o < k (libsvm's
  // packing). sv_coef_ is its transpose, one row per support vector, with the pairs' own signs:
  // for two classes the public dual_coef_ and intercept_ carry scikit-learn's flipped sign
  // (positive → classes_[1]), so the pair's coefficients are their negation.
  const std::int64_t K = static_cast<std::int64_t>(n_support_.size());
  // (dual_coef_'s columns count the support vectors: a precomputed kernel keeps no rows.)
  const std::int64_t n_pairs = K * (K - 1) / 2, n_sv = dual_coef_.cols();
  const std::int64_t d = support_vectors_.cols(), others = dual_coef_.rows();
  const float sign = K == 2 ? -1.0f : 1.0f;
  sv_coef_ = Tensor(n_sv, others);
  for (std::int64_t r = 0; r < others; ++r) {
    for (std::int64_t s = 0; s < n_sv; ++s)
      sv_coef_.at<float>(s, r) = sign * dual_coef_.at<float>(r, s);
  }
  rho_ = Tensor(1, n_pairs);
  for (std::int64_t p = 0; p < n_pairs; ++p)
    rho_.at<float>(0, p) = -sign * intercept_.at<float>(0, p);
  // Linear kernel: the primal weights w_p = Σ_s coef(s, p) · sv_s (n_pairs × d), summed class by
  // class as ovo_decision sums (w_(a,c) = the a-part of column c−1 plus the c-part of column a),
  // in double on the host: a small dense product that must not lose the cancellation between
  // support vectors.
  primal_coef_ = Tensor(n_pairs, d);
  if (options_.kernel != "linear") return;
  std::vector<double> part(static_cast<std::size_t>(K * others * d), 0.0);  // [k][r][j]
  for (std::int64_t k = 0, s = 0; k < K; ++k) {
    for (std::int64_t t = 0; t < n_support_[k]; ++t, ++s) {
      for (std::int64_t r = 0; r < others; ++r) {
        const double c = sv_coef_.at<float>(s, r);
        if (c == 0.0) continue;
        double* w = part.data() + (k * others + r) * d;
        for (std::int64_t j = 0; j < d; ++j) w[j] += c * support_vectors_.at<float>(s, j);
      }
    }
  }
  for (std::int64_t a = 0, p = 0; a < K; ++a) {
    for (std::int64_t c = a + 1; c < K; ++c, ++p) {
      const double* wa = part.data() + (a * others + (c - 1)) * d;
      const double* wc = part.data() + (c * others + a) * d;
      for (std::int64_t j = 0; j < d; ++j)
        primal_coef_.at<float>(p, j) = static_cast<float>(wa[j] + wc[j]);
    }
  }
}

}  // namespace mlcore
