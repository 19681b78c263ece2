// Histogram gradient boosting on every backend: losses go down, best-first growth honours
// max_leaf_nodes, staged predictions add up, early stopping stops, identical models across
// backends, save/load, bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <sstream>
#include <vector>

#include "algorithms/trees/tree_histogram.hpp"
#include "mlcore/algorithms/trees/gradient_boosting.hpp"
#include "mlcore/parallel.hpp"
#include "tree_test_util.hpp"

namespace mlcore::test {
namespace {

// PackedCodec: a column-0 value sums, over any subset of samples and in any order, to
// (Σ q) · 2^24 + count, and unpacks to exactly the count and Σ q of a plain loop — including
// negative and near-limit sums (the largest |q| on every sample of the largest node).
TEST(PackedCodec, CountAndValueSumsUnpackExactly) {
  for (const double total : {1.0, 7.0, 160000.0, detail::kMaxTotalWeight}) {
    const double max_abs = 3.5;
    const auto c = detail::PackedCodec::for_values(max_abs, total, true);
    ASSERT_GT(c.q_max, 0);
    // The room the packing needs: every |Σ q| below 2^39.
    EXPECT_LT(double(c.q_max) * total, std::ldexp(1.0, 39)) << total;
    EXPECT_LT(double(c.q_max) * double(c.q_max) * total, std::ldexp(1.0, 52)) << total;
    EXPECT_EQ(c.quantize(max_abs), c.q_max);
    EXPECT_EQ(c.quantize(-10 * max_abs), -c.q_max);  // clamped
    EXPECT_EQ(c.quantize(0.5 / c.scale), 0);         // ties to even
    EXPECT_EQ(c.quantize(1.5 / c.scale), 2);
    // Extreme sums: `count` samples all at +max or all at −max.
    const std::int64_t count = static_cast<std::int64_t>(std::min(total, 1.0e6));
    for (const double v : {max_abs, -max_abs}) {
      std::int64_t sum = 0;
      for (std::int64_t i = 0; i < count; ++i) sum += c.pack_with_count(v);
      double n = 0, q = 0;
      detail::PackedCodec::unpack(sum, &n, &q);
      EXPECT_EQ(n, double(count));
      EXPECT_EQ(q, double(count) * double(v > 0 ? c.q_max : -c.q_max));
    }
  }
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(-2.0, 2.0);
  const auto c = detail::PackedCodec::for_values(2.0, 5000, true);
  std::vector<double> v(5000);
  for (double& x : v) x = u(rng);
  for (int trial = 0; trial < 50; ++trial) {
    std::int64_t sum = 0, n_want = 0, q_want = 0;
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (rng() % 3 == 0) continue;
      sum += c.pack_with_count(v[i]);
      ++n_want;
      q_want += c.quantize(v[i]);
    }
    double n = 0, q = 0;
    detail::PackedCodec::unpack(sum, &n, &q);
    ASSERT_EQ(n, double(n_want));
    ASSERT_EQ(q, double(q_want));
  }
  EXPECT_THROW(detail::PackedCodec::for_values(1.0, 0.5, true), Error);
  EXPECT_THROW(detail::PackedCodec::for_values(1.0, 2 * detail::kMaxTotalWeight, true), Error);
}

class BoostingTest : public BackendTest {
 protected:
  BackendPtr b() const { return backend(GetParam()); }
};

// Where NaN goes, as scikit-learn's HistGradientBoostingRegressor sends it (the expected values
// are its predictions with the same settings): of two "NaN left" boundaries that gain alike, the
// higher (its right-to-left scan); from a node without NaN, the right child when the feature had
// NaNs elsewhere in training, else the larger child.
TEST_P(BoostingTest, MissingValuesFollowHistGradientBoosting) {
  const float nan = std::nanf("");
  GradientBoostingOptions o;
  o.max_iter = 1;
  o.learning_rate = 1.0;
  o.min_samples_leaf = 1;
  o.early_stopping = "false";
  o.max_depth = 1;
  GradientBoostingRegressor stump(o, b());
  stump.fit(matrix({{3}, {nan}, {0}, {3}, {0}, {1}, {2}}), vec({2, 0, 1, 2, -1, 1, 2}));
  expect_close(stump.predict(matrix({{nan}, {0}, {0.5f}, {1}, {1.5f}, {2}, {3}})),
               {0.25, 0.25, 0.25, 0.25, 0.25, 2, 2}, 1e-5, 1e-5, "higher NaN-left boundary");
  // x1 splits the root; x0 splits the x1 = 0 side (3 rows left, 1 right), which holds no NaN.
  o.max_depth = 2;
  const Tensor Q = matrix({{nan, 0}, {0, 0}, {1, 0}, {nan, 1}});
  for (const bool nan_elsewhere : {false, true}) {
    const float gap = nan_elsewhere ? nan : 0.0f;
    GradientBoostingRegressor g(o, b());
    g.fit(matrix({{0, 0}, {0, 0}, {0, 0}, {1, 0}, {gap, 1}, {0, 1}, {gap, 1}, {1, 1}}),
          vec({0, 0, 0, 1, 8, 8, 8, 8}));
    expect_close(g.predict(Q), {nan_elsewhere ? 1.0 : 0.0, 0, 1, 8}, 1e-5, 1e-5,
                 nan_elsewhere ? "x0 had NaNs: right" : "x0 had none: the larger child");
  }
}

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

// Large enough (≥ 2^15 samples) that the root's partition, the split scans and the
// histograms are spread over threads: the model must be the one a single thread grows, leaf
// values to the last bit — on every backend, for a constant hessian (regression) and not.
TEST_P(BoostingTest, SameModelForAnyThreadCount) {
  const Problem r = wave(40000, 6, 17);
  const Problem c = slabs(40000, 6, 3, 18, true);
  GradientBoostingOptions o;
  o.max_iter = 4;
  o.early_stopping = "false";
  auto fit_both = [&](int threads) {
    set_num_threads(threads);
    GradientBoostingRegressor reg(o, b());
    reg.fit(r.X, r.y);
    GradientBoostingClassifier clf(o, b());
    clf.fit(c.X, c.y);
    return std::make_pair(reg.model(), clf.model());
  };
  const auto one = fit_both(1);
  const auto three = fit_both(3);
  set_num_threads(0);  // back to the default
  for (std::size_t t = 0; t < one.first.trees.size(); ++t) {
    expect_same_tree(one.first.trees[t], three.first.trees[t],
                     "regression tree " + std::to_string(t));
  }
  ASSERT_EQ(one.second.trees.size(), three.second.trees.size());
  for (std::size_t t = 0; t < one.second.trees.size(); ++t) {
    expect_same_tree(one.second.trees[t], three.second.trees[t], "class tree " + std::to_string(t));
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

// Interaction constraints (scikit-learn's rule): below a split on feature f, a branch keeps
// only the groups that hold f, so every path from the root uses features of one group at most
// — groups {0, 1} and {1, 2} (feature 3 left out: its own group) never put 0 and 2, or 3 and
// anything else, on one path. Without constraints the same data does combine them. The option
// survives save / load; an index outside [0, d) is refused at fit.
TEST_P(BoostingTest, InteractionConstraintsKeepEachPathInOneGroup) {
  Problem p = wave(600, 4, 11);
  for (std::int64_t i = 0; i < 600; ++i) {  // strong 0–2 and 1–3 interactions
    const float* x = &p.X.at<float>(i, 0);
    p.y.at<float>(i, 0) += 4.0f * x[0] * x[2] + 4.0f * x[1] * x[3];
  }
  GradientBoostingOptions o;
  o.max_iter = 15;
  o.max_leaf_nodes = 15;
  o.min_samples_leaf = 5;
  // The features each path uses, as bitmasks, collected over every root-to-leaf path.
  auto path_sets = [](const BoostedTrees& m) {
    std::vector<unsigned> sets;
    for (const Tree& t : m.trees) {
      std::vector<std::pair<std::int32_t, unsigned>> stack{{0, 0u}};
      while (!stack.empty()) {
        const auto [node, used] = stack.back();
        stack.pop_back();
        const TreeNode& nd = t.nodes[node];
        if (nd.is_leaf()) {
          sets.push_back(used);
          continue;
        }
        stack.push_back({nd.left, used | (1u << nd.feature)});
        stack.push_back({nd.right, used | (1u << nd.feature)});
      }
    }
    return sets;
  };
  auto within_a_group = [](unsigned used) {
    return (used & ~0b0011u) == 0 || (used & ~0b0110u) == 0 || (used & ~0b1000u) == 0;
  };
  GradientBoostingRegressor free(o, b());
  free.fit(p.X, p.y);
  bool crossed = false;
  for (unsigned used : path_sets(free.model())) crossed = crossed || !within_a_group(used);
  EXPECT_TRUE(crossed) << "the unconstrained trees never combine two groups: a weak test";

  o.interaction_cst = {{0, 1}, {1, 2}};
  GradientBoostingRegressor g(o, b());
  g.fit(p.X, p.y);
  for (unsigned used : path_sets(g.model())) EXPECT_TRUE(within_a_group(used)) << used;
  std::stringstream s;
  g.save(s);
  const GradientBoostingRegressor h = GradientBoostingRegressor::load(s, b());
  EXPECT_EQ(h.options().interaction_cst, o.interaction_cst);
  EXPECT_EQ(mse(h.predict(p.X), g.predict(p.X)), 0.0);

  o.interaction_cst = {{0, 4}};
  GradientBoostingRegressor bad(o, b());
  EXPECT_THROW(bad.fit(p.X, p.y), Error);
  o.interaction_cst = {{-1}};
  EXPECT_THROW(GradientBoostingRegressor(o, b()), Error);
}

// Validation rows given to fit: every training row trains (the baseline is the mean of all
// of y), and early stopping scores the given rows: the last validation score is minus the half
// squared error of predict on them. Without early stopping they are refused.
TEST_P(BoostingTest, GivenValidationRowsAreWhatEarlyStoppingScores) {
  const Problem train = wave(400, 3, 21), val = wave(131, 3, 22);
  GradientBoostingOptions o;
  o.max_iter = 12;
  o.early_stopping = "true";
  o.n_iter_no_change = 100;
  GradientBoostingRegressor g(o, b());
  g.fit(train.X, train.y, Tensor(), BoostingValidation{val.X, val.y, Tensor()});
  ASSERT_EQ(g.model().validation_score.size(), 13u);
  double mean = 0;
  for (std::int64_t i = 0; i < 400; ++i) mean += train.y.data<float>()[i] / 400.0;
  EXPECT_NEAR(g.model().baseline[0], mean, 1e-12);
  const Tensor pred = g.predict(val.X);
  double half_mse = 0;
  for (std::int64_t i = 0; i < 131; ++i) {
    const double e = double(val.y.data<float>()[i]) - pred.data<float>()[i];
    half_mse += 0.5 * e * e / 131.0;
  }
  // predict is float32: its rounding (~6e-8 relative) moves the mean by ~1e-6 relative.
  EXPECT_NEAR(g.model().validation_score.back(), -half_mse, 1e-5 * half_mse);
  o.early_stopping = "false";
  GradientBoostingRegressor off(o, b());
  EXPECT_THROW(off.fit(train.X, train.y, Tensor(), BoostingValidation{val.X, val.y, Tensor()}),
               Error);
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
  o.scoring = "r2";  // a regressor's scorer
  EXPECT_THROW(GradientBoostingClassifier(o, b()), Error);
  o.scoring = "accuracy";  // a classifier's
  EXPECT_THROW(GradientBoostingRegressor(o, b()), Error);
  EXPECT_NO_THROW(GradientBoostingClassifier(o, b()));
  o.scoring = "f1";  // not implemented
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
