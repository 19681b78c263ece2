// Histogram gradient boosting on every backend: losses go down, best-first growth honours
// max_leaf_nodes, staged predictions add up, early stopping stops, identical models across
// backends, save/load, bad input.
#include <gtest/gtest.h>

#include <random>
#include <sstream>
#include <vector>

#include "algorithms/tree_histogram.hpp"

#include "mlcore/algorithms/gradient_boosting.hpp"
#include "tree_test_util.hpp"

namespace mlcore::test {
namespace {

// The vectorised encoder of squared-error gradients writes exactly DigitCodec::encode's floats
// (so the fast path grows the same trees as the general one): random values, values past the
// clamp, grid points and half-way points between them, on a strided input, below and above
// the size that spreads the loop over threads.
TEST(BoostingEncoder, TwoDigitEncoderMatchesDigitCodecEncode) {
  for (const double total : {3000.0, 160000.0}) {
    const double max_abs = 7.25;
    const detail::DigitCodec c = detail::DigitCodec::for_values(max_abs, total);
    ASSERT_EQ(c.digits, 2);
    for (const std::int64_t n : {std::int64_t{7}, std::int64_t{20011}}) {
      const std::int64_t stride = 3;
      std::vector<double> v(static_cast<std::size_t>(n * stride), 0.0);
      std::mt19937_64 rng(11);
      std::uniform_real_distribution<double> u(-1.0, 1.0);
      for (std::int64_t i = 0; i < n; ++i) {
        double x = 0;
        switch (i % 5) {
          case 0: x = u(rng) * max_abs; break;
          case 1: x = u(rng) * 3 * max_abs; break;                              // clamped
          case 2: x = std::round(u(rng) * double(c.q_max)) / c.scale; break;    // grid point
          case 3: x = (std::floor(u(rng) * double(c.q_max)) + 0.5) / c.scale; break;  // half
          default: x = (i % 2 ? 1 : -1) * max_abs * (i % 3 == 0 ? 1.0 : 0.0); break;
        }
        v[static_cast<std::size_t>(i * stride)] = x;
      }
      std::vector<float> fast(static_cast<std::size_t>(n * 4), -9.0f);
      detail::encode_count_and_two_digits(c, v.data(), stride, n, fast.data());
      for (std::int64_t i = 0; i < n; ++i) {
        float want[2];
        c.encode(v[static_cast<std::size_t>(i * stride)], 1.0, want);
        const float* row = fast.data() + i * 4;
        ASSERT_EQ(row[0], 1.0f) << i;
        ASSERT_EQ(row[1], want[0]) << "sample " << i << " value " << v[i * stride];
        ASSERT_EQ(row[2], want[1]) << "sample " << i << " value " << v[i * stride];
        ASSERT_EQ(row[3], 0.0f) << i;
      }
    }
  }
  EXPECT_THROW(detail::encode_count_and_two_digits(detail::DigitCodec::integers(), nullptr, 1, 0,
                                                   nullptr),
               Error);
}

class BoostingTest : public ::testing::TestWithParam<std::string> {
 protected:
  BackendPtr b() const { return backend(GetParam()); }
};

TEST_P(BoostingTest, RegressorFitsAWaveWithBoundedLeaves) {
  const Problem train = wave(2000, 3, 1), test = wave(500, 3, 2);
  GradientBoostingOptions o;
  o.max_iter = 60;
  o.max_leaf_nodes = 8;
  GradientBoostingRegressor g(o, b());
  g.fit(train.X, train.y);
  EXPECT_EQ(g.n_iter(), 60);
  EXPECT_LT(mse(g.predict(test.X), test.y), 0.03);  // noise variance is 0.01
  for (const Tree& t : g.model().trees) EXPECT_LE(t.n_leaves(), 8);
  // Staged predictions: baseline + iterations one by one = predict.
  Tensor raw = g.baseline_raw(test.X.rows());
  for (std::int64_t it = 0; it < g.n_iter(); ++it) g.add_iteration(test.X, it, raw);
  expect_close(
      raw,
      [&] {
        const Tensor p = g.predict(test.X);
        return std::vector<double>(p.data<float>(), p.data<float>() + p.numel());
      }(),
      1e-5, 1e-5, "staged");
}

TEST_P(BoostingTest, BinaryAndMulticlassClassifiers) {
  for (int classes : {2, 3}) {
    const Problem train = slabs(2000, 4, classes, 10 + classes, true);
    const Problem test = slabs(500, 4, classes, 20 + classes, true);
    GradientBoostingOptions o;
    o.max_iter = 40;
    GradientBoostingClassifier g(o, b());
    g.fit(train.X, train.y);
    EXPECT_EQ(g.n_trees_per_iteration(), classes == 2 ? 1 : classes);
    EXPECT_GT(accuracy(g.predict(test.X), test.y), 0.9) << classes;
    const Tensor P = g.predict_proba(test.X.row_slice(0, 3));
    for (int i = 0; i < 3; ++i) {
      double s = 0;
      for (int c = 0; c < classes; ++c) s += P.at<float>(i, c);
      EXPECT_NEAR(s, 1.0, 1e-5);
    }
  }
}

TEST_P(BoostingTest, EarlyStoppingStopsOnAPlateau) {
  const Problem p = wave(3000, 2, 3);
  GradientBoostingOptions o;
  o.max_iter = 500;
  o.learning_rate = 0.5;
  o.early_stopping = "true";
  o.n_iter_no_change = 5;
  GradientBoostingRegressor g(o, b());
  g.fit(p.X, p.y);
  EXPECT_LT(g.n_iter(), 500);
  EXPECT_EQ(g.model().validation_score.size(), static_cast<std::size_t>(g.n_iter() + 1));
}

// Gradients are computed in double on the host and histogram sums are exact integers, so every
// backend (systolic included: f32 vector unit) grows the very same trees.
TEST_P(BoostingTest, SameModelOnEveryBackend) {
  const Problem p = slabs(3000, 5, 3, 7, true);
  GradientBoostingOptions o;
  o.max_iter = 10;
  GradientBoostingClassifier a(o, backend("scalar")), c(o, b());
  a.fit(p.X, p.y);
  c.fit(p.X, p.y);
  ASSERT_EQ(a.model().trees.size(), c.model().trees.size());
  for (std::size_t t = 0; t < a.model().trees.size(); ++t) {
    expect_same_tree(a.model().trees[t], c.model().trees[t], "tree " + std::to_string(t));
  }
}

TEST_P(BoostingTest, SaveLoadRoundTrip) {
  const Problem p = slabs(500, 3, 3, 8);
  GradientBoostingOptions o;
  o.max_iter = 5;
  GradientBoostingClassifier g(o, b());
  g.fit(p.X, p.y);
  std::stringstream s;
  g.save(s);
  const GradientBoostingClassifier h = GradientBoostingClassifier::load(s, b());
  EXPECT_EQ(accuracy(h.predict(p.X), g.predict(p.X)), 1.0);
  const Problem r = wave(300, 2, 9);
  GradientBoostingRegressor gr(o, b());
  gr.fit(r.X, r.y);
  std::stringstream s2;
  gr.save(s2);
  EXPECT_EQ(mse(GradientBoostingRegressor::load(s2, b()).predict(r.X), gr.predict(r.X)), 0.0);
}

TEST_P(BoostingTest, BadInputIsRefused) {
  GradientBoostingOptions o;
  o.learning_rate = 0;
  EXPECT_THROW(GradientBoostingClassifier(o, b()), Error);
  o = {};
  o.max_leaf_nodes = 1;
  EXPECT_THROW(GradientBoostingRegressor(o, b()), Error);
  o = {};
  o.loss = "squared_error";
  EXPECT_THROW(GradientBoostingClassifier(o, b()), Error);
  o = {};
  o.scoring = "accuracy";
  EXPECT_THROW(GradientBoostingClassifier(o, b()), Error);
  GradientBoostingClassifier g({}, b());
  const Problem p = slabs(50, 2, 2, 4);
  EXPECT_THROW(g.predict(p.X), Error);
  Tensor one_class(50, 1);
  EXPECT_THROW(g.fit(p.X, one_class), Error);  // a single class
  g.fit(p.X, p.y);
  EXPECT_THROW(g.predict(Tensor(3, 7)), Error);
}

INSTANTIATE_TEST_SUITE_P(Backends, BoostingTest, ::testing::ValuesIn(all_backends()),
                         backend_param_name);

}  // namespace
}  // namespace mlcore::test
