// PCA on hand-checkable data, on every backend: eigenvalues and eigenvectors of a known
// covariance, the sign convention, n_components forms, whitening, inverse_transform, save/load
// and bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "mlcore/algorithms/decomposition/pca.hpp"
#include "test_util.hpp"

namespace mlcore::test {
namespace {

Tensor from_rows(std::int64_t rows, std::int64_t cols, std::initializer_list<float> values) {
  Tensor t(rows, cols);
  std::int64_t i = 0;
  for (float v : values) t.data<float>()[i++] = v;
  return t;
}

// Four points on a tilted rectangle centred at (5, 5): ±2 along u = (1, 1)/√2 and ±1 along
// v = (−1, 1)/√2. Covariance eigenvalues (ddof 1): along u 4·4·2/(4·3)… computed below.
Tensor rect_X() {
  const double s = 1.0 / std::sqrt(2.0);
  const double pts[4][2] = {{2, 1}, {2, -1}, {-2, 1}, {-2, -1}};  // (a, b) along (u, v)
  Tensor X(4, 2);
  for (int i = 0; i < 4; ++i) {
    X.at<float>(i, 0) = static_cast<float>(5 + s * (pts[i][0] - pts[i][1]));
    X.at<float>(i, 1) = static_cast<float>(5 + s * (pts[i][0] + pts[i][1]));
  }
  return X;
}

class PcaTest : public BackendTest {
 protected:
  BackendPtr b() const { return backend(GetParam()); }
  bool exact() const { return !test::quantized(GetParam()); }
  double tol(double f32) const { return exact() ? f32 : 0.03; }
};

TEST_P(PcaTest, KnownRectangle) {
  PCA pca({}, b());
  pca.fit(rect_X());
  ASSERT_EQ(pca.n_components(), 2);
  // Variance (ddof = 1) along u: (4·4)/3 = 16/3; along v: 4/3.
  expect_close(pca.explained_variance(), {16.0 / 3, 4.0 / 3}, tol(1e-5), 0.0, "variance");
  expect_close(pca.explained_variance_ratio(), {0.8, 0.2}, 0.0, tol(1e-5), "ratio");
  expect_close(pca.singular_values(), {4.0, 2.0}, tol(1e-5), 0.0, "singular values");
  expect_close(pca.mean(), {5.0, 5.0}, exact() ? 1e-6 : 1e-2, 0.0, "mean");
  // Components ±u, ±v; the sign convention makes the largest-|entry| positive. For u the two
  // entries tie in |value| and the first is chosen: u = (1, 1)/√2. For v = (−1, 1)/√2 the first
  // |entry| ties too and is negative, so the component is flipped to (1, −1)/√2.
  const double s = 1.0 / std::sqrt(2.0);
  expect_close(pca.components(), {s, s, s, -s}, 0.0, tol(1e-5), "components");
  EXPECT_NEAR(pca.noise_variance(), 0.0, 1e-12);
  // transform: the rectangle's own coordinates (a, b) in the (u, flipped v) frame.
  const Tensor Z = pca.transform(rect_X());
  expect_close(Z, {2, -1, 2, 1, -2, -1, -2, 1}, 0.0, tol(1e-4) * 4, "transform");
  const Tensor back = pca.inverse_transform(Z);
  std::vector<double> want(8);
  for (int i = 0; i < 8; ++i) want[i] = rect_X().data<float>()[i];
  expect_close(back, want, 0.0, tol(1e-4) * 10, "inverse_transform");
}

TEST_P(PcaTest, ComponentCountAndWhitening) {
  std::mt19937 rng(5);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  Tensor X(500, 4);
  const float sd[] = {5, 2, 1, 0.1f};
  for (int i = 0; i < 500; ++i)
    for (int j = 0; j < 4; ++j) X.at<float>(i, j) = sd[j] * nd(rng) + 3.0f * j;
  PCAOptions o;
  o.n_components = 2;
  PCA two(o, b());
  two.fit(X);
  EXPECT_EQ(two.n_components(), 2);
  const Tensor ev = two.explained_variance();
  EXPECT_NEAR(two.noise_variance(), 0.5 * (1.0 + 0.01), exact() ? 0.15 : 0.3);

  PCAOptions f;
  f.variance_fraction = 0.9;  // 25 / (25 + 4 + 1 + 0.01) ≈ 0.83 < 0.9 < 0.97: two components
  PCA frac(f, b());
  frac.fit(X);
  EXPECT_EQ(frac.n_components(), 2);

  PCAOptions w;
  w.n_components = 3;
  w.whiten = true;
  PCA white(w, b());
  const Tensor Z = white.fit_transform(X);
  for (int c = 0; c < 3; ++c) {
    double mean = 0, var = 0;
    for (int i = 0; i < 500; ++i) mean += Z.at<float>(i, c) / 500.0;
    for (int i = 0; i < 500; ++i) var += std::pow(Z.at<float>(i, c) - mean, 2) / 499.0;
    EXPECT_NEAR(var, 1.0, exact() ? 1e-3 : 0.1) << "component " << c;
  }
}

// Minka's MLE finds the dimension of data made of `rank` strong directions plus unit noise in 10
// features, on every backend (int8 included: the choice is robust to a percent of noise in
// the spectrum); fewer samples than features is refused, naming n_components.
TEST_P(PcaTest, MleFindsTheDimensionOfLowRankData) {
  std::mt19937 rng(11);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (int rank : {1, 2, 4}) {
    const int n = 600, d = 10;
    Tensor W(rank, d), X(n, d);
    for (std::int64_t i = 0; i < W.numel(); ++i) W.data<float>()[i] = 4.0f * nd(rng);
    for (int i = 0; i < n; ++i) {
      std::vector<float> z(rank);
      for (float& v : z) v = nd(rng);
      for (int j = 0; j < d; ++j) {
        float x = nd(rng);
        for (int r = 0; r < rank; ++r) x += z[r] * W.at<float>(r, j);
        X.at<float>(i, j) = x;
      }
    }
    PCAOptions o;
    o.n_components = kMleComponents;
    PCA pca(o, b());
    pca.fit(X);
    EXPECT_EQ(pca.n_components(), rank);
  }
  PCAOptions o;
  o.n_components = kMleComponents;
  try {
    PCA(o, b()).fit(Tensor(3, 4));
    ADD_FAILURE() << "fit with 3 samples of 4 features did not throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("n_components='mle'"), std::string::npos) << e.what();
  }
}

TEST_P(PcaTest, Deterministic) {
  PCA a({}, b()), c({}, b());
  a.fit(rect_X());
  c.fit(rect_X());
  for (std::int64_t i = 0; i < 4; ++i) {
    EXPECT_EQ(a.components().data<float>()[i], c.components().data<float>()[i]);
  }
}

TEST_P(PcaTest, SaveLoadRoundTrip) {
  PCAOptions o;
  o.whiten = true;
  PCA pca(o, b());
  pca.fit(rect_X());
  std::stringstream s;
  pca.save(s);
  const PCA p2 = PCA::load(s, b());
  EXPECT_TRUE(p2.options().whiten);
  const Tensor za = pca.transform(rect_X()), zb = p2.transform(rect_X());
  for (std::int64_t i = 0; i < za.numel(); ++i) EXPECT_EQ(za.data<float>()[i], zb.data<float>()[i]);
}

TEST_P(PcaTest, BadInput) {
  PCA pca({}, b());
  EXPECT_THROW(pca.transform(rect_X()), Error);  // not fitted
  EXPECT_THROW(pca.fit(Tensor(1, 2)), Error);    // one sample
  Tensor Xn = rect_X().clone();
  Xn.at<float>(0, 0) = std::nanf("");
  EXPECT_THROW(pca.fit(Xn), Error);
  PCAOptions o;
  o.n_components = 3;  // > min(4, 2)
  EXPECT_THROW(PCA(o, b()).fit(rect_X()), Error);
  o.n_components = 0;
  EXPECT_THROW(PCA(o, b()), Error);
  PCAOptions f;
  f.variance_fraction = 1.5;
  EXPECT_THROW(PCA(f, b()), Error);
  pca.fit(rect_X());
  EXPECT_THROW(pca.transform(Tensor(2, 3)), Error);          // wrong n_features
  EXPECT_THROW(pca.inverse_transform(Tensor(2, 3)), Error);  // wrong n_components
}

INSTANTIATE_TEST_SUITE_P(Backends, PcaTest, ::testing::ValuesIn(all_backends()),
                         backend_param_name);

}  // namespace
}  // namespace mlcore::test
