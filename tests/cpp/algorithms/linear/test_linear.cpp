// LinearRegression, Ridge and LogisticRegression on hand-checkable data, on every backend; the
// rank-deficient fallback, column scaling, L-BFGS and OWL-QN on known functions, the L1 and
// liblinear penalties, warm starts, save/load and bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "algorithms/common/lbfgs.hpp"
#include "algorithms/common/owlqn.hpp"
#include "mlcore/algorithms/linear/linear_regression.hpp"
#include "mlcore/algorithms/linear/logistic_regression.hpp"
#include "test_util.hpp"

namespace mlcore::test {
namespace {

Tensor from_rows(std::int64_t rows, std::int64_t cols, std::initializer_list<float> values) {
  Tensor t(rows, cols);
  std::int64_t i = 0;
  for (float v : values) t.data<float>()[i++] = v;
  return t;
}

// y = 2 + 3·x₀ − x₁ exactly, on 6 points (no noise): least squares must recover it.
Tensor plane_X() { return from_rows(6, 2, {0, 0, 1, 0, 0, 1, 1, 1, 2, 1, 1, 3}); }
Tensor plane_y() {
  const Tensor X = plane_X();
  Tensor y(6, 1);
  for (int i = 0; i < 6; ++i) y.at<float>(i, 0) = 2 + 3 * X.at<float>(i, 0) - X.at<float>(i, 1);
  return y;
}

class LinearTest : public BackendTest {
 protected:
  BackendPtr b() const { return backend(GetParam()); }
  bool exact() const { return !test::quantized(GetParam()); }  // f32 MACs
  double tol(double f32_tol) const { return exact() ? f32_tol : 0.05; }
};

TEST_P(LinearTest, LinearRegressionRecoversAnExactPlane) {
  LinearRegression lr({}, b());
  lr.fit(plane_X(), plane_y());
  // The fit's profile: the Gram matrix is a gemm over the samples.
  bool saw_gemm = false;
  for (const OpRecord& r : lr.profile().records()) saw_gemm |= r.op == "gemm";
  EXPECT_TRUE(saw_gemm);
  expect_close(lr.coef(), {3.0, -1.0}, 0.0, tol(1e-4), "coef");
  expect_close(lr.intercept(), {2.0}, 0.0, tol(1e-4), "intercept");
  EXPECT_EQ(lr.rank(), 2);
  const Tensor pred = lr.predict(from_rows(2, 2, {10, 0, 0, 10}));
  expect_close(pred, {32.0, -8.0}, 0.01, tol(1e-3), "predict");
}

TEST_P(LinearTest, RidgeMatchesTheClosedForm) {
  // One centred feature x = (−1, 0, 1), y = (−2, 0, 2): w = Σxy / (Σx² + α) = 4 / (2 + α).
  Ridge r({/*alpha=*/2.0, /*fit_intercept=*/true}, b());
  r.fit(from_rows(3, 1, {-1, 0, 1}), from_rows(3, 1, {3, 5, 7}));  // y − 5 = 2x
  expect_close(r.coef(), {1.0}, 0.0, tol(1e-5), "ridge coef");
  expect_close(r.intercept(), {5.0}, 0.0, tol(1e-5), "ridge intercept");
}

TEST_P(LinearTest, MultipleTargetsAndNoIntercept) {
  // Two targets: y₀ = x₀ + x₁, y₁ = 2·x₀ (through the origin).
  const Tensor X = plane_X();
  Tensor Y(6, 2);
  for (int i = 0; i < 6; ++i) {
    Y.at<float>(i, 0) = X.at<float>(i, 0) + X.at<float>(i, 1);
    Y.at<float>(i, 1) = 2 * X.at<float>(i, 0);
  }
  LinearRegression lr({/*fit_intercept=*/false}, b());
  lr.fit(X, Y);
  ASSERT_EQ(lr.n_targets(), 2);
  expect_close(lr.coef(), {1.0, 1.0, 2.0, 0.0}, 0.0, tol(1e-4), "coef (2 × 2)");
  expect_close(lr.intercept(), {0.0, 0.0}, 0.0, 0.0, "no intercept");
}

TEST_P(LinearTest, CollinearColumnsGiveTheMinimumNormSolution) {
  // Column 1 duplicates column 0 and column 2 is constant: rank 1 after centring. The
  // minimum-norm solution of y = 4·x splits the weight equally, 2 and 2, and gives 0 to the
  // constant column.
  const Tensor X = from_rows(4, 3, {0, 0, 5, 1, 1, 5, 2, 2, 5, 3, 3, 5});
  const Tensor y = from_rows(4, 1, {1, 5, 9, 13});
  LinearRegression lr({}, b());
  lr.fit(X, y);
  EXPECT_EQ(lr.rank(), 1);
  expect_close(lr.coef(), {2.0, 2.0, 0.0}, 0.0, tol(1e-4), "minimum-norm coef");
  expect_close(lr.intercept(), {1.0}, 0.0, tol(1e-4), "intercept");
}

TEST_P(LinearTest, SampleWeightsEqualRepeatedSamples) {
  const Tensor X = from_rows(5, 1, {0, 1, 2, 3, 4});
  const Tensor y = from_rows(5, 1, {1, 2, 2, 5, 4});
  Tensor w = from_rows(5, 1, {1, 2, 1, 3, 1});
  // Each sample repeated w times.
  const Tensor Xr = from_rows(8, 1, {0, 1, 1, 2, 3, 3, 3, 4});
  const Tensor yr = from_rows(8, 1, {1, 2, 2, 2, 5, 5, 5, 4});
  Ridge a({0.5, true}, b()), c({0.5, true}, b());
  a.fit(X, y, w);
  c.fit(Xr, yr);
  expect_close(a.coef(), {c.coef().at<float>(0, 0)}, 1e-4, tol(1e-5), "weighted coef");
  expect_close(a.intercept(), {c.intercept().at<float>(0, 0)}, 1e-4, tol(1e-5), "intercept");
}

TEST_P(LinearTest, LargeOffsetsAndMixedScales) {
  // x₀ ≈ 1e4 ± 1, x₁ ≈ ±1e-3: the columns are not alike, so X is centred and scaled per column
  // on the backend before its Gram matrix; the result is still exact to f32 rounding.
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  const int n = 400;
  Tensor X(n, 2), y(n, 1);
  for (int i = 0; i < n; ++i) {
    X.at<float>(i, 0) = 1e4f + nd(rng);
    X.at<float>(i, 1) = 1e-3f * nd(rng);
    y.at<float>(i, 0) = 0.5f * (X.at<float>(i, 0) - 1e4f) + 300.0f * X.at<float>(i, 1) + 7.0f;
  }
  LinearRegression lr({}, b());
  lr.fit(X, y);
  expect_close(lr.coef(), {0.5, 300.0}, tol(1e-3), 0.0, "coef");
  const Tensor pred = lr.predict(X.row_slice(0, 5));
  std::vector<double> want(5);
  for (int i = 0; i < 5; ++i) want[i] = y.at<float>(i, 0);
  expect_close(pred, want, 0.0, exact() ? 1e-2 : 0.5, "predict");
}

TEST_P(LinearTest, LogisticRegressionSeparatesAndReportsProbabilities) {
  // Two overlapping 1-D classes: x < 0 mostly class 0, x > 0 mostly class 1, symmetric, so the
  // fitted intercept is 0 and the weight positive.
  const Tensor X = from_rows(8, 1, {-3, -2, -1, 0.5f, -0.5f, 1, 2, 3});
  const Tensor y = from_rows(8, 1, {0, 0, 0, 0, 1, 1, 1, 1});
  LogisticRegression lr({}, b());
  lr.fit(X, y);
  ASSERT_EQ(lr.coef().rows(), 1);
  EXPECT_GT(lr.coef().at<float>(0, 0), 0.5f);
  EXPECT_NEAR(lr.intercept().at<float>(0, 0), 0.0, exact() ? 1e-3 : 0.1);
  // On the int8 backend: converged to the precision of its arithmetic (the noise floor).
  EXPECT_TRUE(lr.converged()) << lr.solver_message();
  const Tensor pred = lr.predict(from_rows(2, 1, {-5, 5}));
  EXPECT_EQ(pred.at<float>(0, 0), 0.0f);
  EXPECT_EQ(pred.at<float>(1, 0), 1.0f);
  const Tensor p = lr.predict_proba(from_rows(1, 1, {0}));
  expect_close(p, {0.5, 0.5}, 0.0, exact() ? 1e-3 : 0.05, "p(x = 0)");
  const Tensor z = lr.decision_function(from_rows(1, 1, {2}));
  EXPECT_NEAR(z.at<float>(0, 0), 2 * lr.coef().at<float>(0, 0) + lr.intercept().at<float>(0, 0),
              exact() ? 1e-4 : 0.1);
}

TEST_P(LinearTest, MultinomialLogisticRegressionOnThreeClusters) {
  // Three clusters on the corners of a triangle, labels 7, 8, 9 (arbitrary label values).
  std::mt19937 rng(3);
  std::normal_distribution<float> nd(0.0f, 0.3f);
  const float cx[] = {0, 4, 2}, cy[] = {0, 0, 3};
  Tensor X(90, 2), y(90, 1);
  for (int i = 0; i < 90; ++i) {
    X.at<float>(i, 0) = cx[i % 3] + nd(rng);
    X.at<float>(i, 1) = cy[i % 3] + nd(rng);
    y.at<float>(i, 0) = 7.0f + static_cast<float>(i % 3);
  }
  LogisticRegressionOptions o;
  o.C = 10.0;
  LogisticRegression lr(o, b());
  lr.fit(X, y);
  EXPECT_EQ(lr.classes(), (std::vector<double>{7, 8, 9}));
  ASSERT_EQ(lr.coef().rows(), 3);
  const Tensor pred = lr.predict(from_rows(3, 2, {0, 0, 4, 0, 2, 3}));
  EXPECT_EQ(pred.at<float>(0, 0), 7.0f);
  EXPECT_EQ(pred.at<float>(1, 0), 8.0f);
  EXPECT_EQ(pred.at<float>(2, 0), 9.0f);
  const Tensor p = lr.predict_proba(from_rows(1, 2, {2, 1}));
  double sum = 0;
  for (int k = 0; k < 3; ++k) sum += p.at<float>(0, k);
  EXPECT_NEAR(sum, 1.0, 1e-5);
  // The multinomial coefficients sum to ~0 over the classes (the L2 penalty's optimum).
  for (int j = 0; j < 2; ++j) {
    double s = 0;
    for (int k = 0; k < 3; ++k) s += lr.coef().at<float>(k, j);
    EXPECT_NEAR(s, 0.0, exact() ? 1e-3 : 0.2) << "feature " << j;
  }
}

TEST_P(LinearTest, ClassWeightsShiftTheBoundary) {
  const Tensor X = from_rows(8, 1, {-3, -2, -1, 0.5f, -0.5f, 1, 2, 3});
  const Tensor y = from_rows(8, 1, {0, 0, 0, 0, 1, 1, 1, 1});
  LogisticRegressionOptions o;
  o.class_weight = {{1.0, 5.0}};  // class 1 counts 5×: the boundary moves towards class 0
  LogisticRegression heavy(o, b()), plain({}, b());
  heavy.fit(X, y);
  plain.fit(X, y);
  EXPECT_GT(heavy.intercept().at<float>(0, 0), plain.intercept().at<float>(0, 0) + 0.3f);
  LogisticRegressionOptions bad;
  bad.class_weight = {{4.0, 2.0}};
  EXPECT_THROW(LogisticRegression(bad, b()).fit(X, y), Error);  // no class 4 in y
}

TEST_P(LinearTest, SaveLoadRoundTrip) {
  LinearRegression lr({}, b());
  lr.fit(plane_X(), plane_y());
  std::stringstream s1;
  lr.save(s1);
  const LinearRegression lr2 = LinearRegression::load(s1, b());
  const Tensor q = from_rows(2, 2, {1, 2, 3, 4});
  expect_close(lr2.predict(q), {lr.predict(q).at<float>(0, 0), lr.predict(q).at<float>(1, 0)}, 0.0,
               0.0, "LinearRegression reloaded");
  EXPECT_EQ(lr2.rank(), lr.rank());

  Ridge r({0.3, true}, b());
  r.fit(plane_X(), plane_y());
  std::stringstream s2;
  r.save(s2);
  EXPECT_EQ(Ridge::load(s2, b()).options().alpha, 0.3);

  const Tensor X = from_rows(6, 1, {-2, -1, 0.5f, -0.5f, 1, 2});
  const Tensor y = from_rows(6, 1, {3, 3, 3, 5, 5, 5});
  LogisticRegression lg({}, b());
  lg.fit(X, y);
  std::stringstream s3;
  lg.save(s3);
  const LogisticRegression lg2 = LogisticRegression::load(s3, b());
  EXPECT_EQ(lg2.classes(), lg.classes());
  EXPECT_EQ(lg2.n_iter(), lg.n_iter());
  LogisticRegressionOptions lo;
  lo.l1_ratio = 0.25;
  lo.penalize_intercept = true;
  lo.intercept_scaling = 3.0;
  std::stringstream s3b;
  LogisticRegression(lo, b()).save(s3b);
  const LogisticRegression lg3 = LogisticRegression::load(s3b, b());
  EXPECT_EQ(lg3.options().l1_ratio, 0.25);
  EXPECT_TRUE(lg3.options().penalize_intercept);
  EXPECT_EQ(lg3.options().intercept_scaling, 3.0);
  const Tensor pa = lg.predict_proba(X), pb = lg2.predict_proba(X);
  for (std::int64_t i = 0; i < pa.numel(); ++i) EXPECT_EQ(pa.data<float>()[i], pb.data<float>()[i]);

  // An unfitted model saves and loads too; a model of another type is refused.
  std::stringstream s4;
  LinearRegression({}, b()).save(s4);
  EXPECT_FALSE(LinearRegression::load(s4, b()).fitted());
  std::stringstream s5;
  lr.save(s5);
  EXPECT_THROW(Ridge::load(s5, b()), Error);
}

TEST_P(LinearTest, BadInput) {
  LinearRegression lr({}, b());
  EXPECT_THROW(lr.predict(plane_X()), Error);  // not fitted
  EXPECT_THROW(lr.coef(), Error);
  EXPECT_THROW(lr.fit(Tensor(0, 2), Tensor(0, 1)), Error);
  EXPECT_THROW(lr.fit(plane_X(), from_rows(5, 1, {1, 2, 3, 4, 5})), Error);  // length
  Tensor Xn = plane_X().clone();
  Xn.at<float>(2, 1) = std::nanf("");
  EXPECT_THROW(lr.fit(Xn, plane_y()), Error);
  EXPECT_THROW(lr.fit(plane_X(), plane_y(), from_rows(6, 1, {1, 1, -1, 1, 1, 1})), Error);
  EXPECT_THROW(lr.fit(plane_X(), plane_y(), from_rows(6, 1, {0, 0, 0, 0, 0, 0})), Error);
  lr.fit(plane_X(), plane_y());
  EXPECT_THROW(lr.predict(Tensor(3, 5)), Error);  // wrong n_features
  EXPECT_THROW(Ridge({-1.0, true}, b()), Error);

  LogisticRegressionOptions o;
  o.C = 0.0;
  EXPECT_THROW(LogisticRegression(o, b()), Error);
  o.C = 1.0;
  o.max_iter = -1;
  EXPECT_THROW(LogisticRegression(o, b()), Error);
  o.max_iter = 100;
  o.l1_ratio = 1.5;
  EXPECT_THROW(LogisticRegression(o, b()), Error);
  o.l1_ratio = 0.0;
  o.intercept_scaling = 0.0;
  EXPECT_THROW(LogisticRegression(o, b()), Error);
  LogisticRegression lg({}, b());
  EXPECT_THROW(lg.fit(plane_X(), from_rows(6, 1, {1, 1, 1, 1, 1, 1})), Error);  // one class
  EXPECT_THROW(lg.predict(plane_X()), Error);                                   // not fitted
}

TEST_P(LinearTest, L1PenaltyGivesExactZerosForNoiseFeatures) {
  // y depends on x₀ only; x₁, x₂ are independent noise. A strong L1 penalty (OWL-QN) gives them
  // exactly 0 and keeps x₀; the L2 penalty leaves them small but non-zero.
  std::mt19937 rng(5);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::uniform_real_distribution<float> ud(0.0f, 1.0f);
  const int n = 400;
  Tensor X(n, 3), y(n, 1);
  for (int i = 0; i < n; ++i) {
    // x₀ on another scale and offset: the fit takes the scaled-columns path.
    for (int j = 0; j < 3; ++j) X.at<float>(i, j) = j == 0 ? 5.0f * nd(rng) + 3.0f : nd(rng);
    const float z = 0.4f * (X.at<float>(i, 0) - 3.0f) + 0.5f;
    y.at<float>(i, 0) = ud(rng) < 1.0f / (1.0f + std::exp(-z)) ? 1.0f : 0.0f;
  }
  LogisticRegressionOptions o;
  o.C = 0.02;
  o.l1_ratio = 1.0;
  LogisticRegression l1(o, b());
  l1.fit(X, y);
  EXPECT_TRUE(l1.converged()) << l1.solver_message();
  EXPECT_GT(l1.coef().at<float>(0, 0), 0.1f);
  EXPECT_EQ(l1.coef().at<float>(0, 1), 0.0f);
  EXPECT_EQ(l1.coef().at<float>(0, 2), 0.0f);
  o.l1_ratio = 0.0;
  LogisticRegression l2(o, b());
  l2.fit(X, y);
  EXPECT_NE(l2.coef().at<float>(0, 1), 0.0f);
  // A warm start from the L1 optimum stops within a few iterations, at the same point.
  o.l1_ratio = 1.0;
  LogisticRegression warm(o, b());
  warm.set_start(l1.coef(), l1.intercept());
  warm.fit(X, y);
  EXPECT_LE(warm.n_iter(), std::max(3, l1.n_iter() / 3));
  EXPECT_NEAR(warm.coef().at<float>(0, 0), l1.coef().at<float>(0, 0), tol(1e-3));
  EXPECT_EQ(warm.coef().at<float>(0, 1), 0.0f);
  // The warm start must have this fit's shape.
  LogisticRegression wrong(o, b());
  wrong.set_start(Tensor(1, 2), Tensor(1, 1));
  EXPECT_THROW(wrong.fit(X, y), Error);
}

TEST_P(LinearTest, LiblinearFormulationPenalisesTheIntercept) {
  // Two classes split at x = 5: the unpenalised intercept is large (≈ −5·slope); liblinear's
  // formulation (the intercept is the weight of a constant feature c) shrinks it, the more the
  // smaller c is, and leaves it alone as c grows.
  std::mt19937 rng(8);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  Tensor X(200, 1), y(200, 1);
  for (int i = 0; i < 200; ++i) {
    X.at<float>(i, 0) = 5.0f + 2.0f * nd(rng);
    y.at<float>(i, 0) = X.at<float>(i, 0) + 0.5f * nd(rng) > 5.0f ? 1.0f : 0.0f;
  }
  auto intercept = [&](bool penalise, double scaling) {
    LogisticRegressionOptions o;
    o.C = 0.1;
    o.penalize_intercept = penalise;
    o.intercept_scaling = scaling;
    LogisticRegression lr(o, b());
    lr.fit(X, y);
    return std::fabs(lr.intercept().at<float>(0, 0));
  };
  const double free_b = intercept(false, 1.0);
  EXPECT_LT(intercept(true, 0.1), 0.5 * free_b);
  EXPECT_LT(intercept(true, 1.0), free_b);
  EXPECT_NEAR(intercept(true, 1000.0), free_b, 0.05 * free_b);
}

INSTANTIATE_TEST_SUITE_P(Backends, LinearTest, ::testing::ValuesIn(all_backends()),
                         backend_param_name);

// ---- the host-side pieces
// -------------------------------------------------------------------------

TEST(Lbfgs, MinimisesTheRosenbrockFunction) {
  // f(x, y) = (1 − x)² + 100(y − x²)², minimum 0 at (1, 1): a curved valley that plain gradient
  // descent needs thousands of steps for.
  detail::Objective f = [](const Eigen::VectorXd& v, Eigen::VectorXd& g) {
    const double x = v(0), y = v(1);
    g(0) = -2 * (1 - x) - 400 * x * (y - x * x);
    g(1) = 200 * (y - x * x);
    return (1 - x) * (1 - x) + 100 * (y - x * x) * (y - x * x);
  };
  Eigen::VectorXd x(2);
  x << -1.2, 1.0;
  detail::LbfgsOptions o;
  o.max_iter = 200;
  o.gtol = 1e-8;
  const detail::LbfgsResult r = detail::minimize_lbfgs(f, x, o);
  EXPECT_TRUE(r.converged) << r.message;
  EXPECT_NEAR(x(0), 1.0, 1e-6);
  EXPECT_NEAR(x(1), 1.0, 1e-6);
  EXPECT_LT(r.n_iter, 100);
}

TEST(Lbfgs, RecognisesTheNoiseFloorOfANoisyGradient) {
  // f = ½‖x − c‖² with f and g each carrying a deterministic pseudo-random error (1e-4 on g,
  // 1e-7 on f), like products computed in low precision: gtol = 1e-8 is out of reach, but
  // the optimiser must get within the noise of c and say that it stopped at the noise floor,
  // not loop until max_iter.
  const Eigen::VectorXd c = Eigen::VectorXd::LinSpaced(6, -2.0, 3.0);
  auto noise = [](const Eigen::VectorXd& v, int salt) {
    double h = salt;
    for (Eigen::Index i = 0; i < v.size(); ++i) h = std::sin(1e5 * v(i) + 3.7 * h + i);
    return h;  // in [−1, 1], changes completely when v moves by ~1e-5
  };
  detail::Objective f = [&](const Eigen::VectorXd& v, Eigen::VectorXd& g) {
    g = v - c;
    for (Eigen::Index i = 0; i < v.size(); ++i) g(i) += 1e-4 * noise(v, int(i) + 1);
    return 0.5 * (v - c).squaredNorm() + 1e-7 * noise(v, 0);
  };
  Eigen::VectorXd x = Eigen::VectorXd::Zero(6);
  detail::LbfgsOptions o;
  o.gtol = 1e-8;
  o.max_iter = 500;
  const detail::LbfgsResult r = detail::minimize_lbfgs(f, x, o);
  EXPECT_TRUE(r.converged) << r.message;
  EXPECT_TRUE(r.noise_floor) << r.message;
  EXPECT_LT(r.n_iter, 100);
  EXPECT_LT((x - c).cwiseAbs().maxCoeff(), 1e-3);
}

TEST(Lbfgs, StopsAtMaxIterAndOnAFlatStart) {
  detail::Objective quad = [](const Eigen::VectorXd& v, Eigen::VectorXd& g) {
    g = 2 * v;
    return v.squaredNorm();
  };
  Eigen::VectorXd x = Eigen::VectorXd::Zero(3);
  detail::LbfgsOptions o;
  detail::LbfgsResult r = detail::minimize_lbfgs(quad, x, o);
  EXPECT_TRUE(r.converged);
  EXPECT_FALSE(r.noise_floor);
  EXPECT_EQ(r.n_iter, 0);  // already at the minimum
  x << 1, 2, 3;
  o.max_iter = 0;
  r = detail::minimize_lbfgs(quad, x, o);
  EXPECT_FALSE(r.converged);
  EXPECT_EQ(r.n_iter, 0);
}

TEST(OwlQn, SoftThresholdsASeparableQuadratic) {
  // f = ½Σ aᵢ(xᵢ − cᵢ)², plus Σ λᵢ|xᵢ|: the minimiser is cᵢ shrunk towards 0 by λᵢ/aᵢ, and
  // exactly 0 where |cᵢ| ≤ λᵢ/aᵢ. The coordinates are coupled only through the quasi-Newton
  // steps.
  Eigen::VectorXd a(6), c(6), l1(6);
  a << 1, 2, 0.5, 4, 1, 3;
  c << 3, -0.2, 1, -2, 0.5, 0;
  l1 << 1, 1, 1, 0.5, 0, 2;
  detail::Objective f = [&](const Eigen::VectorXd& v, Eigen::VectorXd& g) {
    g = a.cwiseProduct(v - c);
    return 0.5 * (a.cwiseProduct((v - c).cwiseAbs2())).sum();
  };
  Eigen::VectorXd x = Eigen::VectorXd::Constant(6, 0.3);
  detail::LbfgsOptions o;
  o.gtol = 1e-10;
  o.max_iter = 200;
  const detail::LbfgsResult r = detail::minimize_owlqn(f, l1, x, o);
  EXPECT_TRUE(r.converged) << r.message;
  for (int i = 0; i < 6; ++i) {
    const double shrink = l1(i) / a(i);
    const double expect = std::fabs(c(i)) <= shrink ? 0.0 : c(i) - std::copysign(shrink, c(i));
    if (expect == 0.0) {
      EXPECT_EQ(x(i), 0.0) << i;  // exactly
    } else {
      EXPECT_NEAR(x(i), expect, 1e-8) << i;
    }
  }
}

TEST(OwlQn, MeetsTheL1OptimalityConditionsOnACoupledProblem) {
  // f = ½xᵀAx − bᵀx with A positive definite and dense: at the optimum, |∂ᵢf| ≤ λ where xᵢ = 0
  // and ∂ᵢf = −λ·sign(xᵢ) elsewhere.
  const int n = 8;
  Eigen::MatrixXd M(n, n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) M(i, j) = std::sin(1.0 + i * 3.1 + j * 1.7);
  const Eigen::MatrixXd A = M.transpose() * M + Eigen::MatrixXd::Identity(n, n);
  Eigen::VectorXd bv(n);
  for (int i = 0; i < n; ++i) bv(i) = std::cos(2.0 * i) * 3.0;
  const Eigen::VectorXd l1 = Eigen::VectorXd::Constant(n, 1.5);
  detail::Objective f = [&](const Eigen::VectorXd& v, Eigen::VectorXd& g) {
    g = A * v - bv;
    return 0.5 * v.dot(A * v) - bv.dot(v);
  };
  Eigen::VectorXd x = Eigen::VectorXd::Zero(n);
  detail::LbfgsOptions o;
  o.gtol = 1e-9;
  o.max_iter = 500;
  const detail::LbfgsResult r = detail::minimize_owlqn(f, l1, x, o);
  EXPECT_TRUE(r.converged) << r.message;
  const Eigen::VectorXd g = A * x - bv;
  int zeros = 0;
  for (int i = 0; i < n; ++i) {
    if (x(i) == 0.0) {
      ++zeros;
      EXPECT_LE(std::fabs(g(i)), 1.5 + 1e-5) << i;
    } else {
      // (to 1e-5: the run may stop on ftol, F no longer moving in double, before gtol)
      EXPECT_NEAR(g(i), -1.5 * (x(i) > 0 ? 1.0 : -1.0), 1e-5) << i;
    }
  }
  EXPECT_GT(zeros, 0);  // the problem is built so that some coordinates are pinned at 0
  EXPECT_LT(zeros, n);
}

}  // namespace
}  // namespace mlcore::test
