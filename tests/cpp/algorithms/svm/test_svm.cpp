// LinearSVC and SVC on hand-checkable problems, on every backend; the kernel-row cache, the
// one-vs-one layout, save/load and bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <sstream>

#include "mlcore/algorithms/svm/svm.hpp"
#include "test_util.hpp"

namespace mlcore::test {
namespace {

Tensor rows_of(std::initializer_list<std::initializer_list<float>> rows) {
  Tensor t(static_cast<std::int64_t>(rows.size()), static_cast<std::int64_t>(rows.begin()->size()));
  std::int64_t i = 0;
  for (const auto& r : rows) {
    std::int64_t j = 0;
    for (float v : r) t.at<float>(i, j++) = v;
    ++i;
  }
  return t;
}

Tensor labels(std::initializer_list<float> values) {
  Tensor t(static_cast<std::int64_t>(values.size()), 1);
  std::int64_t i = 0;
  for (float v : values) t.at<float>(i++, 0) = v;
  return t;
}

// Three well-separated blobs of 20 points in 2-D, classes 0, 1, 2.
void blobs(Tensor& X, Tensor& y) {
  std::mt19937 rng(5);
  std::normal_distribution<float> noise(0.0f, 0.3f);
  const float centre[3][2] = {{0, 0}, {4, 0}, {0, 4}};
  X = Tensor(60, 2);
  y = Tensor(60, 1);
  for (int i = 0; i < 60; ++i) {
    const int c = i % 3;
    X.at<float>(i, 0) = centre[c][0] + noise(rng);
    X.at<float>(i, 1) = centre[c][1] + noise(rng);
    y.at<float>(i, 0) = static_cast<float>(c);
  }
}

class SvmTest : public BackendTest {
 protected:
  BackendPtr b() const { return backend(GetParam()); }
  bool exact() const { return !test::quantized(GetParam()); }
  double tol() const { return exact() ? 2e-3 : 0.05; }
};

TEST_P(SvmTest, TwoPointHardMarginByHand) {
  // x = (−1, 0) class 0 and (1, 0) class 1, linear kernel. The dual: α₁ = α₂ = ½, w = (1, 0),
  // b = 0, so decision(x) = x₀ (positive → class 1), dual_coef = [−½, ½] in scikit-learn's signs.
  SVCOptions o;
  o.kernel = "linear";
  o.C = 10.0;
  SVC svc(o, b());
  svc.fit(rows_of({{-1, 0}, {1, 0}}), labels({0, 1}));
  ASSERT_EQ(svc.support().rows(), 2);
  EXPECT_EQ(svc.n_support(), (std::vector<std::int64_t>{1, 1}));
  expect_close(svc.dual_coef(), {-0.5, 0.5}, 0.0, tol(), "dual_coef");
  expect_close(svc.intercept(), {0.0}, 0.0, tol(), "intercept");
  const Tensor dec = svc.decision_function(rows_of({{2, 5}, {-0.5f, 1}}));
  expect_close(dec, {2.0, -0.5}, 0.0, 5 * tol(), "decision");
  const Tensor pred = svc.predict(rows_of({{2, 5}, {-0.5f, 1}}));
  EXPECT_EQ(pred.at<float>(0, 0), 1.0f);
  EXPECT_EQ(pred.at<float>(1, 0), 0.0f);
}

TEST_P(SvmTest, RbfSolvesXor) {
  // XOR is not linearly separable; an RBF machine separates it.
  const Tensor X = rows_of({{0, 0}, {1, 1}, {0, 1}, {1, 0}});
  SVCOptions o;
  o.C = 10.0;
  o.gamma = "value";
  o.gamma_value = 2.0;
  SVC svc(o, b());
  svc.fit(X, labels({0, 0, 1, 1}));
  const Tensor pred = svc.predict(rows_of({{0.1f, 0.1f}, {0.9f, 0.95f}, {0.05f, 0.9f}, {0.9f, 0}}));
  EXPECT_EQ(pred.at<float>(0, 0), 0.0f);
  EXPECT_EQ(pred.at<float>(1, 0), 0.0f);
  EXPECT_EQ(pred.at<float>(2, 0), 1.0f);
  EXPECT_EQ(pred.at<float>(3, 0), 1.0f);
  // By symmetry all four are support vectors with the same |α|, and b = 0.
  EXPECT_EQ(svc.support().rows(), 4);
  expect_close(svc.intercept(), {0.0}, 0.0, 5 * tol(), "intercept");
}

TEST_P(SvmTest, OneVsOneLayoutOnThreeBlobs) {
  Tensor X, y;
  blobs(X, y);
  for (const char* kernel : {"rbf", "linear", "poly", "sigmoid"}) {
    SVCOptions o;
    o.kernel = kernel;
    if (std::string(kernel) == "sigmoid") {
      o.gamma = "value";
      o.gamma_value = 0.05;
    }
    SVC svc(o, b());
    svc.fit(X, y);
    const Tensor pred = svc.predict(X);
    int correct = 0;
    for (int i = 0; i < 60; ++i) correct += pred.at<float>(i, 0) == y.at<float>(i, 0);
    EXPECT_GE(correct, 57) << kernel;
    const std::int64_t n_sv = svc.support().rows();
    EXPECT_EQ(svc.dual_coef().rows(), 2);
    EXPECT_EQ(svc.dual_coef().cols(), n_sv);
    EXPECT_EQ(svc.intercept().cols(), 3);
    EXPECT_EQ(svc.n_iter().size(), 3u);
    // Support vectors are grouped by class, ascending index within a class.
    std::int64_t s = 0;
    for (std::int64_t c = 0; c < 3; ++c) {
      std::int32_t last = -1;
      for (std::int64_t q = 0; q < svc.n_support()[c]; ++q, ++s) {
        const std::int32_t i = svc.support().at<std::int32_t>(s, 0);
        EXPECT_EQ(y.at<float>(i, 0), static_cast<float>(c));
        EXPECT_GT(i, last);
        last = i;
      }
    }
    EXPECT_EQ(s, n_sv);
    // Each pair's coefficients α·y sum to 0 (the constraint yᵀα = 0). Pair (0, 1) keeps class
    // 0's coefficients in row b − 1 = 0 and class 1's in row a = 0.
    const Tensor& dc = svc.dual_coef();
    const std::int64_t s0 = svc.n_support()[0], s1 = svc.n_support()[1];
    double pair01 = 0.0;
    for (std::int64_t q = 0; q < s0; ++q) pair01 += dc.at<float>(0, q);        // class 0, row b−1=0
    for (std::int64_t q = s0; q < s0 + s1; ++q) pair01 += dc.at<float>(0, q);  // class 1, row a=0
    EXPECT_NEAR(pair01, 0.0, 1e-4) << kernel;
    // "ovr" shape: the largest value is the predicted class.
    const Tensor dec = svc.decision_function(X);
    ASSERT_EQ(dec.cols(), 3);
    for (int i = 0; i < 60; ++i) {
      int best = 0;
      for (int c = 1; c < 3; ++c) best = dec.at<float>(i, c) > dec.at<float>(i, best) ? c : best;
      EXPECT_EQ(static_cast<float>(best), pred.at<float>(i, 0));
    }
  }
}

TEST_P(SvmTest, TinyCacheGivesTheSameModel) {
  std::mt19937 rng(9);
  const Tensor X = random_tensor(120, 4, rng);
  Tensor y(120, 1);
  for (int i = 0; i < 120; ++i) {
    y.at<float>(i, 0) =
        X.at<float>(i, 0) + 0.5f * X.at<float>(i, 1) * X.at<float>(i, 2) > 0 ? 1 : 0;
  }
  SVCOptions o;
  SVC full(o, b());
  full.fit(X, y);
  o.cache_size = 1e-3;  // 1 kB: two rows of 120 floats, far below the 57.6 kB of the matrix
  SVC tiny(o, b());
  tiny.fit(X, y);
  o.shrinking = false;
  SVC plain(o, b());
  plain.fit(X, y);
  const Tensor a = full.decision_function(X), c = tiny.decision_function(X);
  const Tensor p = plain.decision_function(X);
  if (!exact()) {
    // int8: a row computed alone is quantized with its own scale, a row in a block with the
    // block's, so the kernel values (and the model) differ slightly; predictions agree.
    int agree = 0;
    for (int i = 0; i < 120; ++i) agree += (a.at<float>(i, 0) > 0) == (c.at<float>(i, 0) > 0);
    EXPECT_GE(agree, 114);
    return;
  }
  ASSERT_EQ(full.support().rows(), tiny.support().rows());
  for (int i = 0; i < 120; ++i) EXPECT_NEAR(a.at<float>(i, 0), c.at<float>(i, 0), 1e-3);
  for (int i = 0; i < 120; ++i) EXPECT_NEAR(a.at<float>(i, 0), p.at<float>(i, 0), 1e-2);
}

TEST_P(SvmTest, LinearSvcHardMarginByHand) {
  // 1-D, no intercept, points ±1 and ±2: the hinge-loss optimum with a large C is the hard
  // margin w = 1 (the points at ±1 sit exactly on the margin).
  const Tensor X = rows_of({{-2}, {-1}, {1}, {2}});
  LinearSVCOptions o;
  o.loss = "hinge";
  o.C = 100.0;
  o.fit_intercept = false;
  o.tol = 1e-6;
  LinearSVC svc(o, b());
  svc.fit(X, labels({0, 0, 1, 1}));
  EXPECT_NEAR(svc.coef().at<float>(0, 0), 1.0, exact() ? 1e-3 : 0.05);
  EXPECT_EQ(svc.intercept().at<float>(0, 0), 0.0f);
  const Tensor pred = svc.predict(rows_of({{-0.3f}, {0.2f}}));
  EXPECT_EQ(pred.at<float>(0, 0), 0.0f);
  EXPECT_EQ(pred.at<float>(1, 0), 1.0f);
  // Squared hinge, C = 1, no intercept: minimise ½w² + Σ max(0, 1 − |x_i|·w)². For
  // ½ ≤ w ≤ 1 the points at ±2 are outside the margin and the two at ±1 each cost (1 − w)²:
  // d/dw [½w² + 2(1 − w)²] = w − 4(1 − w) = 0 gives w = 4/5.
  o.loss = "squared_hinge";
  o.C = 1.0;
  for (const char* solver : {"dual_cd", "primal_newton"}) {
    o.solver = solver;
    LinearSVC sq(o, b());
    sq.fit(X, labels({0, 0, 1, 1}));
    EXPECT_NEAR(sq.coef().at<float>(0, 0), 0.8, exact() ? 1e-3 : 0.05) << solver;
  }
  // The primal Newton method is exact on this piecewise quadratic: a couple of steps. Where the
  // Hessian X̃ᵀ diag(h) X̃ is an int8 GEMM (quantized backends) and the gradient is not (amx's
  // gemv is f32), each step solves a slightly wrong quadratic and converges linearly near the
  // optimum instead: a step or two more.
  LinearSVC newton(o, b());
  newton.fit(X, labels({0, 0, 1, 1}));
  EXPECT_LE(newton.n_iter(), exact() ? 3 : 5);
  o.loss = "hinge";
  EXPECT_THROW(LinearSVC(o, b()), Error);  // the primal needs a differentiable loss
}

TEST_P(SvmTest, LinearSvcOneVsRestOnBlobs) {
  Tensor X, y;
  blobs(X, y);
  LinearSVCOptions o;
  LinearSVC svc(o, b());
  svc.fit(X, y);
  EXPECT_EQ(svc.coef().rows(), 3);
  EXPECT_EQ(svc.intercept().cols(), 3);
  const Tensor pred = svc.predict(X);
  int correct = 0;
  for (int i = 0; i < 60; ++i) correct += pred.at<float>(i, 0) == y.at<float>(i, 0);
  EXPECT_GE(correct, 57);
  // Same seed → same model; another seed → the same optimum, nearly.
  LinearSVC again(o, b());
  again.fit(X, y);
  for (int k = 0; k < 3; ++k) EXPECT_EQ(again.coef().at<float>(k, 0), svc.coef().at<float>(k, 0));
}

TEST_P(SvmTest, PlattProbabilitiesOnThreeBlobs) {
  // probability: each pair's sigmoid from a 5-fold cross-validation, coupled. On well-separated
  // blobs every sample's own class gets most of the probability, rows sum to 1, and the same
  // random_state gives the same model. Without probability, predict_proba is refused.
  Tensor X, y;
  blobs(X, y);
  SVCOptions o;
  o.probability = true;
  o.random_state = 3;
  SVC svc(o, b());
  svc.fit(X, y);
  ASSERT_EQ(svc.prob_a().cols(), 3);
  const Tensor proba = svc.predict_proba(X);
  ASSERT_EQ(proba.rows(), 60);
  ASSERT_EQ(proba.cols(), 3);
  int confident = 0;
  for (int i = 0; i < 60; ++i) {
    double sum = 0;
    for (int c = 0; c < 3; ++c) sum += proba.at<float>(i, c);
    EXPECT_NEAR(sum, 1.0, 1e-5);
    confident += proba.at<float>(i, static_cast<int>(y.at<float>(i, 0))) > 0.5f;
    EXPECT_LT(svc.prob_a().at<float>(0, i % 3), 0.0f) << "P(first) grows with the margin";
  }
  EXPECT_GE(confident, 57);
  SVC again(o, b());
  again.fit(X, y);
  const Tensor p2 = again.predict_proba(X);
  for (std::int64_t i = 0; i < proba.numel(); ++i) {
    EXPECT_EQ(proba.data<float>()[i], p2.data<float>()[i]);
  }
  std::stringstream s;
  svc.save(s);
  const Tensor p3 = SVC::load(s, b()).predict_proba(X);
  for (std::int64_t i = 0; i < proba.numel(); ++i) {
    EXPECT_EQ(proba.data<float>()[i], p3.data<float>()[i]);
  }
  SVC plain({}, b());
  plain.fit(X, y);
  EXPECT_THROW(plain.predict_proba(X), Error);
}

TEST_P(SvmTest, PrecomputedKernelEqualsTheKernelItComputes) {
  // kernel="precomputed" with the rbf Gram matrix (computed here in float64) solves the rbf
  // problem: the same support vectors and decision values as kernel="rbf" with that gamma (to
  // the f32 kernel's rounding), and it survives save/load. The int8 backend's own rbf kernel is
  // quantized, so there only the precomputed model's accuracy is checked.
  Tensor X, y;
  blobs(X, y);
  const std::int64_t n = X.rows();
  Tensor K(n, n);
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < n; ++j) {
      const double dx = double(X.at<float>(i, 0)) - X.at<float>(j, 0);
      const double dy = double(X.at<float>(i, 1)) - X.at<float>(j, 1);
      K.at<float>(i, j) = static_cast<float>(std::exp(-0.5 * (dx * dx + dy * dy)));
    }
  }
  SVCOptions pre;
  pre.kernel = "precomputed";
  SVC svc(pre, b());
  svc.fit(K, y);
  EXPECT_EQ(svc.support_vectors().rows(), 0);
  const Tensor pred = svc.predict(K);
  int correct = 0;
  for (int i = 0; i < 60; ++i) correct += pred.at<float>(i, 0) == y.at<float>(i, 0);
  EXPECT_GE(correct, 57);
  if (exact()) {
    SVCOptions rbf;
    rbf.gamma = "value";
    rbf.gamma_value = 0.5;
    SVC direct(rbf, b());
    direct.fit(X, y);
    ASSERT_EQ(direct.support().rows(), svc.support().rows());
    for (std::int64_t s = 0; s < svc.support().rows(); ++s) {
      EXPECT_EQ(direct.support().data<std::int32_t>()[s], svc.support().data<std::int32_t>()[s]);
    }
    const Tensor a = direct.decision_function(X), c = svc.decision_function(K);
    for (std::int64_t i = 0; i < a.numel(); ++i) {
      EXPECT_NEAR(a.data<float>()[i], c.data<float>()[i], 1e-4);
    }
  }
  std::stringstream s;
  svc.save(s);
  const Tensor back = SVC::load(s, b()).decision_function(K), here = svc.decision_function(K);
  for (std::int64_t i = 0; i < here.numel(); ++i) {
    EXPECT_EQ(back.data<float>()[i], here.data<float>()[i]);
  }
  EXPECT_THROW(SVC(pre, b()).fit(X, y), Error);  // 60 × 2 is not a Gram matrix
}

TEST_P(SvmTest, SaveLoadRoundTrip) {
  Tensor X, y;
  blobs(X, y);
  SVC svc({}, b());
  svc.fit(X, y);
  std::stringstream s;
  svc.save(s);
  SVC back = SVC::load(s, b());
  const Tensor a = svc.decision_function(X), c = back.decision_function(X);
  for (std::int64_t i = 0; i < a.numel(); ++i) EXPECT_EQ(a.data<float>()[i], c.data<float>()[i]);
  LinearSVC lin({}, b());
  lin.fit(X, y);
  std::stringstream s2;
  lin.save(s2);
  LinearSVC lback = LinearSVC::load(s2, b());
  const Tensor p = lin.predict(X), q = lback.predict(X);
  for (int i = 0; i < 60; ++i) EXPECT_EQ(p.at<float>(i, 0), q.at<float>(i, 0));
  std::stringstream s3;
  svc.save(s3);
  EXPECT_THROW(LinearSVC::load(s3, b()), Error);
}

TEST_P(SvmTest, BadInput) {
  SVCOptions o;
  o.kernel = "laplacian";
  EXPECT_THROW(SVC(o, b()), Error);
  o.kernel = "rbf";
  o.C = 0.0;
  EXPECT_THROW(SVC(o, b()), Error);
  o.C = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(SVC(o, b()), Error);
  o.C = std::numeric_limits<double>::infinity();  // the hard margin: allowed
  EXPECT_NO_THROW(SVC(o, b()));
  o.C = 1.0;
  o.gamma = "huge";
  EXPECT_THROW(SVC(o, b()), Error);
  o.gamma = "scale";
  o.max_iter = 0;
  EXPECT_THROW(SVC(o, b()), Error);
  o.max_iter = -1;
  SVC svc(o, b());
  const Tensor X = rows_of({{0, 0}, {1, 1}, {2, 2}});
  EXPECT_THROW(svc.predict(X), Error);                 // not fitted
  EXPECT_THROW(svc.fit(X, labels({1, 1, 1})), Error);  // one class
  EXPECT_THROW(svc.fit(X, labels({0, 1})), Error);     // mismatched lengths
  Tensor bad = X.clone();
  bad.at<float>(1, 1) = std::nanf("");
  EXPECT_THROW(svc.fit(bad, labels({0, 1, 1})), Error);
  svc.fit(X, labels({0, 1, 1}));
  EXPECT_THROW(svc.predict(Tensor(2, 3)), Error);  // wrong n_features
  LinearSVCOptions lo;
  lo.loss = "log";
  EXPECT_THROW(LinearSVC(lo, b()), Error);
  lo.loss = "hinge";
  lo.C = -1.0;
  EXPECT_THROW(LinearSVC(lo, b()), Error);
  lo.C = 1.0;
  LinearSVC lin(lo, b());
  EXPECT_THROW(lin.fit(X, labels({2, 2, 2})), Error);
  EXPECT_THROW(lin.coef(), Error);
}

INSTANTIATE_TEST_SUITE_P(AllBackends, SvmTest, ::testing::ValuesIn(all_backends()),
                         backend_param_name);

}  // namespace
}  // namespace mlcore::test
