// Ridge's solvers ("cholesky", "svd", "sparse_cg", "lsqr") against the closed form computed here
// in double, on random weighted, offset, multi-target data of awkward sizes, dense and sparse, on
// every backend; the iterative ones are matrix-free (no d × d product in their profile), count
// their iterations and honour max_iter; options survive save/load; bad options are refused.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <random>
#include <sstream>

#include "mlcore/algorithms/linear/linear_regression.hpp"
#include "mlcore/sparse.hpp"
#include "test_util.hpp"

namespace mlcore::test {
namespace {

struct Data {
  Tensor X, Y, w;
  Eigen::MatrixXd W;     // d × t reference coefficients
  Eigen::RowVectorXd b;  // 1 × t reference intercept
  double xm_l1 = 0.0;    // ‖x̄‖₁: the intercept ȳ − x̄·W carries x̄ times W's error
};

// n × d with column offsets and scales that differ (so the fit takes the centred, scaled copy),
// t targets, positive weights; the reference is the weighted, centred closed form
//   W = (XcᵀSXc + αI)⁻¹·XcᵀSYc,   b = ȳ − x̄·W   (S = diag(w)), in double.
Data make_data(int n, int d, int t, double alpha, bool weighted, unsigned seed,
               double density = 1.0) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> nd(0.0, 1.0);
  std::uniform_real_distribution<double> ud(0.0, 1.0);
  Eigen::MatrixXd X(n, d), Y(n, t);
  Eigen::VectorXd w = Eigen::VectorXd::Ones(n);
  Eigen::MatrixXd Wtrue(d, t);
  for (int j = 0; j < d; ++j) {
    for (int r = 0; r < t; ++r) Wtrue(j, r) = nd(rng);
  }
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < d; ++j) {
      X(i, j) = ud(rng) < density ? (1.0 + j) * nd(rng) + (j % 3 == 0 ? 3.0 * j : 0.0) : 0.0;
    }
    if (weighted) w(i) = 0.5 + 1.5 * ud(rng);
  }
  for (int i = 0; i < n; ++i) {
    for (int r = 0; r < t; ++r) Y(i, r) = X.row(i).dot(Wtrue.col(r)) + 0.1 * nd(rng) + r + 1.0;
  }
  const double sw = w.sum();
  const Eigen::RowVectorXd xm = (w.transpose() * X) / sw, ym = (w.transpose() * Y) / sw;
  const Eigen::MatrixXd Xc = X.rowwise() - xm, Yc = Y.rowwise() - ym;
  Eigen::MatrixXd G = Xc.transpose() * w.asDiagonal() * Xc;
  G.diagonal().array() += alpha;
  Data data;
  data.W = G.ldlt().solve(Xc.transpose() * w.asDiagonal() * Yc);
  data.b = ym - xm * data.W;
  data.xm_l1 = xm.cwiseAbs().sum();
  data.X = Tensor(n, d);
  data.Y = Tensor(n, t);
  data.w = Tensor(n, 1);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < d; ++j) data.X.at<float>(i, j) = static_cast<float>(X(i, j));
    for (int r = 0; r < t; ++r) data.Y.at<float>(i, r) = static_cast<float>(Y(i, r));
    data.w.at<float>(i, 0) = weighted ? static_cast<float>(w(i)) : 1.0f;
  }
  return data;
}

RidgeOptions options(const std::string& solver, double alpha, double tol = 1e-8,
                     std::int64_t max_iter = kSolverDefaultIter) {
  RidgeOptions o;
  o.alpha = alpha;
  o.solver = solver;
  o.tol = tol;
  o.max_iter = max_iter;
  return o;
}

// |got − ref| ≤ rtol·max|ref| entry by entry (the solution's scale: f32 rounding and the int8
// MACs perturb every entry by a fraction of the largest).
void expect_matches(const Ridge& r, const Data& data, double rtol, const std::string& what) {
  const Tensor& coef = r.coef();  // t × d
  const double scale = std::max(data.W.cwiseAbs().maxCoeff(), 1.0);
  for (Eigen::Index j = 0; j < data.W.rows(); ++j) {
    for (Eigen::Index k = 0; k < data.W.cols(); ++k) {
      EXPECT_NEAR(coef.at<float>(k, j), data.W(j, k), rtol * scale)
          << what << " coef " << k << "," << j;
    }
  }
  const double bscale = std::max(data.b.cwiseAbs().maxCoeff(), 1.0) + (1.0 + data.xm_l1) * scale;
  for (Eigen::Index k = 0; k < data.b.cols(); ++k) {
    EXPECT_NEAR(r.intercept().at<float>(0, k), data.b(k), rtol * bscale) << what << " intercept";
  }
}

class RidgeSolverTest : public BackendTest {
 protected:
  BackendPtr b() const { return backend(GetParam()); }
  // f32: κ of these problems is ~1e2–1e3, so ~1e-7·κ relative; int8 MACs: ~1e-3·κ (the same
  // allowance the other least-squares tests give the quantized backends).
  double rtol() const { return quantized(GetParam()) ? 0.1 : 2e-3; }
};

const char* const kSolvers[] = {"cholesky", "svd", "sparse_cg", "lsqr"};

TEST_P(RidgeSolverTest, EverySolverMatchesTheClosedForm) {
  struct Case {
    int n, d, t;
    double alpha;
    bool weighted;
  };
  // Primes, n < d, one feature, one target and several.
  for (const Case c : {Case{37, 5, 1, 1.0, false}, Case{53, 7, 3, 0.3, true},
                       Case{11, 17, 2, 2.0, true}, Case{29, 1, 1, 0.5, false}}) {
    const Data data = make_data(c.n, c.d, c.t, c.alpha, c.weighted, 1000u + c.n);
    for (const char* solver : kSolvers) {
      Ridge r(options(solver, c.alpha), b());
      r.fit(data.X, data.Y, c.weighted ? data.w : Tensor());
      expect_matches(
          r, data, rtol(),
          std::string(solver) + " n=" + std::to_string(c.n) + " d=" + std::to_string(c.d));
      const bool iterative = std::string(solver) == "sparse_cg" || std::string(solver) == "lsqr";
      EXPECT_EQ(r.n_iter().size(), iterative ? static_cast<std::size_t>(c.t) : 0u) << solver;
    }
  }
}

TEST_P(RidgeSolverTest, SparseInputMatchesTheClosedForm) {
  const Data data = make_data(41, 9, 2, 0.7, true, 7u, /*density=*/0.4);
  const CsrMatrix Xs = csr_from_dense(data.X);
  for (const char* solver : kSolvers) {
    Ridge r(options(solver, 0.7), b());
    r.fit(Xs, data.Y, data.w);
    expect_matches(r, data, rtol(), std::string("sparse ") + solver);
  }
}

TEST_P(RidgeSolverTest, NoInterceptSolvesTheUncentredProblem) {
  // Through the origin: W = (XᵀX + αI)⁻¹XᵀY, checked here by the normal equations' residual.
  const Data data = make_data(31, 4, 1, 1.0, false, 3u);
  for (const char* solver : kSolvers) {
    RidgeOptions o = options(solver, 1.0);
    o.fit_intercept = false;
    Ridge r(o, b());
    r.fit(data.X, data.Y);
    EXPECT_EQ(r.intercept().at<float>(0, 0), 0.0f);
    Eigen::MatrixXd X(31, 4), y(31, 1);
    for (int i = 0; i < 31; ++i) {
      for (int j = 0; j < 4; ++j) X(i, j) = data.X.at<float>(i, j);
      y(i, 0) = data.Y.at<float>(i, 0);
    }
    Eigen::MatrixXd G = X.transpose() * X;
    G.diagonal().array() += 1.0;
    const Eigen::VectorXd ref = G.ldlt().solve(X.transpose() * y);
    for (int j = 0; j < 4; ++j) {
      EXPECT_NEAR(r.coef().at<float>(0, j), ref(j), rtol() * ref.cwiseAbs().maxCoeff()) << solver;
    }
  }
}

TEST_P(RidgeSolverTest, IterativeSolversAreMatrixFreeAndCountIterations) {
  const Data data = make_data(60, 8, 2, 0.1, false, 11u);
  for (const char* solver : {"sparse_cg", "lsqr"}) {
    Ridge r(options(solver, 0.1, /*tol=*/0.0, /*max_iter=*/3), b());
    r.fit(data.X, data.Y);
    // tol = 0 never stops early: exactly max_iter iterations per target.
    EXPECT_EQ(r.n_iter(), (std::vector<std::int64_t>{3, 3})) << solver;
    // No d × d Gram matrix: every product with X is a matrix-vector one.
    for (const OpRecord& rec : r.profile().records()) {
      EXPECT_FALSE(rec.op == "gemm" && rec.m == 8 && rec.n == 8) << solver << " formed XᵀX";
    }
    bool saw_gemv = false;
    for (const OpRecord& rec : r.profile().records()) saw_gemv |= rec.op == "gemv";
    EXPECT_TRUE(saw_gemv) << solver;
  }
  // A loose tolerance stops well before the default cap (10·d for CG, 2·d for LSQR).
  Ridge cg(options("sparse_cg", 0.1, 1e-2), b());
  cg.fit(data.X, data.Y);
  for (std::int64_t k : cg.n_iter()) EXPECT_LT(k, 80);
}

TEST_P(RidgeSolverTest, SvdGivesTheMinimumNormSolutionWhenRankDeficient) {
  // Column 1 duplicates column 0, column 2 is constant; α = 0: the minimum-norm solution of
  // y = 4·x splits the weight 2 / 2 and gives the constant column 0.
  Tensor X(4, 3), y(4, 1);
  const float xs[] = {0, 1, 2, 3};
  for (int i = 0; i < 4; ++i) {
    X.at<float>(i, 0) = X.at<float>(i, 1) = xs[i];
    X.at<float>(i, 2) = 5;
    y.at<float>(i, 0) = 1 + 4 * xs[i];
  }
  Ridge r(options("svd", 0.0), b());
  r.fit(X, y);
  const double tol = quantized(GetParam()) ? 0.05 : 1e-4;
  expect_close(r.coef(), {2.0, 2.0, 0.0}, 0.0, tol, "svd minimum-norm coef");
  expect_close(r.intercept(), {1.0}, 0.0, tol, "svd intercept");
}

TEST_P(RidgeSolverTest, ProjectedCoordinateDescent) {
  // Unconstrained it is one more solver of the same problem; with positive it must meet the
  // optimality conditions of the constrained one: g = (XcᵀSXc + αI)w − XcᵀSyc is 0 where w > 0
  // and ≥ 0 where w = 0 (computed here in double from the f32 data).
  const Data data = make_data(43, 9, 1, 0.5, true, 21u);
  RidgeOptions o = options("projected_cd", 0.5, 1e-9);
  Ridge free(o, b());
  free.fit(data.X, data.Y, data.w);
  expect_matches(free, data, rtol(), "projected_cd");
  ASSERT_TRUE((data.W.array() < 0).any());  // the constraint will bind
  o.positive = true;
  Ridge r(o, b());
  r.fit(data.X, data.Y, data.w);
  EXPECT_TRUE(r.converged());
  ASSERT_EQ(r.n_iter().size(), 1u);
  const int n = 43, d = 9;
  Eigen::MatrixXd X(n, d);
  Eigen::VectorXd y(n), w(n), coef(d);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < d; ++j) X(i, j) = data.X.at<float>(i, j);
    y(i) = data.Y.at<float>(i, 0);
    w(i) = data.w.at<float>(i, 0);
  }
  for (int j = 0; j < d; ++j) coef(j) = r.coef().at<float>(0, j);
  const Eigen::RowVectorXd xm = (w.transpose() * X) / w.sum();
  const double ym = w.dot(y) / w.sum();
  const Eigen::MatrixXd Xc = X.rowwise() - xm;
  const Eigen::VectorXd yc = y.array() - ym;
  const Eigen::VectorXd g =
      Xc.transpose() * (w.asDiagonal() * (Xc * coef - yc)) + 0.5 * coef;  // gradient
  const double scale = (Xc.transpose() * (w.asDiagonal() * yc)).cwiseAbs().maxCoeff();
  const double tol = (quantized(GetParam()) ? 5e-2 : 1e-4) * scale;
  int active = 0;
  for (int j = 0; j < d; ++j) {
    EXPECT_GE(coef(j), 0.0);
    if (coef(j) > 0.0) {
      EXPECT_NEAR(g(j), 0.0, tol) << "free coefficient " << j;
    } else {
      EXPECT_GE(g(j), -tol) << "bound coefficient " << j;
      ++active;
    }
  }
  EXPECT_GT(active, 0);
  // positive needs the solver that has sign constraints.
  RidgeOptions bad = options("cholesky", 1.0);
  bad.positive = true;
  EXPECT_THROW(Ridge(bad, b()), Error);
}

TEST_P(RidgeSolverTest, OptionsSurviveSaveAndLoad) {
  const Data data = make_data(20, 3, 1, 1.0, false, 5u);
  Ridge r(options("lsqr", 1.0, 1e-6, 40), b());
  r.fit(data.X, data.Y);
  std::stringstream s;
  r.save(s);
  const Ridge r2 = Ridge::load(s, b());
  EXPECT_EQ(r2.options().solver, "lsqr");
  EXPECT_EQ(r2.options().tol, 1e-6);
  EXPECT_EQ(r2.options().max_iter, 40);
  EXPECT_EQ(r2.n_iter(), r.n_iter());
}

TEST_P(RidgeSolverTest, BadOptionsAreRefused) {
  EXPECT_THROW(Ridge(options("sag", 1.0), b()), Error);
  EXPECT_THROW(Ridge(options("lsqr", 1.0, -1.0), b()), Error);
  EXPECT_THROW(Ridge(options("lsqr", 1.0, 1e-4, -2), b()), Error);
  try {
    Ridge(options("qr", 1.0), b());
    FAIL() << "unknown solver accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("solver"), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, RidgeSolverTest, ::testing::ValuesIn(all_backends()),
                         backend_param_name);

}  // namespace
}  // namespace mlcore::test
