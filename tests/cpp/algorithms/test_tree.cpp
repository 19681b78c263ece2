// Decision trees on every backend: binning, exact digit sums, hand-checkable splits, missing
// values, identical trees across backends, save/load, bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "algorithms/tree_histogram.hpp"
#include "mlcore/algorithms/binning.hpp"
#include "mlcore/algorithms/tree.hpp"
#include "tree_test_util.hpp"

namespace mlcore::test {
namespace {

// ---- binning and the digit codec (host code, no backend) ----

TEST(BinMapper, FewDistinctValuesGiveMidpointsAndNaNItsOwnBin) {
  const Tensor X = matrix({{1.0f}, {3.0f}, {3.0f}, {7.0f}, {std::nanf("")}});
  BinMapper m;
  m.fit(X, 255, 0);
  ASSERT_EQ(m.n_bins(0), 3);  // values 1, 3, 7
  EXPECT_EQ(m.thresholds(0), (std::vector<double>{2.0, 5.0}));
  EXPECT_EQ(m.code(0, 1.0f), 0);
  EXPECT_EQ(m.code(0, 2.0f), 0);  // x ≤ t_0 ⇔ code ≤ 0
  EXPECT_EQ(m.code(0, 2.5f), 1);
  EXPECT_EQ(m.code(0, 7.0f), 2);
  EXPECT_EQ(m.code(0, std::nanf("")), 3);  // the missing bin
  EXPECT_EQ(m.total_bins(), 4);
  const auto codes = m.transform(X);
  const Tensor index = m.histogram_index(codes, X.rows());
  EXPECT_EQ(index.at<std::int32_t>(4, 0), 3);
}

TEST(BinMapper, ManyValuesAreCutAtQuantilesBetweenDistinctValues) {
  Tensor X(1000, 2);
  for (int i = 0; i < 1000; ++i) {
    X.at<float>(i, 0) = float(i);
    X.at<float>(i, 1) = float(i % 4);
  }
  BinMapper m;
  m.fit(X, 10, 0);
  EXPECT_EQ(m.n_bins(0), 10);
  EXPECT_EQ(m.n_bins(1), 4);
  EXPECT_EQ(m.offset(1), 11);
  for (double t : m.thresholds(0)) EXPECT_EQ(t - std::floor(t), 0.5) << t;  // midpoints
  // Roughly 100 values per bin.
  std::vector<int> count(11, 0);
  for (int i = 0; i < 1000; ++i) ++count[m.code(0, float(i))];
  for (int b = 0; b < 10; ++b) EXPECT_NEAR(count[b], 100, 2) << b;
}

TEST(DigitCodec, DigitsAreBoundedAndRecombineExactly) {
  const detail::DigitCodec c = detail::DigitCodec::for_values(2.5, 100000);
  EXPECT_EQ(c.digits, 2);
  EXPECT_LE(double(c.D) * 100000, detail::kMaxTotalWeight);  // column sums stay below 2^24
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(-2.5, 2.5);
  for (int i = 0; i < 1000; ++i) {
    const double v = u(rng);
    float d[2];
    c.encode(v, 1.0, d);
    EXPECT_LE(std::fabs(d[0]), c.D);
    EXPECT_LE(std::fabs(d[1]), c.D);
    const double sums[2] = {d[0], d[1]};
    EXPECT_EQ(c.combine(sums), std::nearbyint(v * c.scale)) << v;
  }
}

// ---- decision trees on every backend ----

class TreeTest : public ::testing::TestWithParam<std::string> {
 protected:
  BackendPtr b() const { return backend(GetParam()); }
  bool exact() const { return GetParam() != "systolic"; }
};

TEST_P(TreeTest, OneFeatureStepIsOneSplitAtTheMidpoint) {
  const Tensor X = matrix({{0}, {1}, {2}, {3}, {4}, {5}});
  const Tensor y = vec({7, 7, 7, 9, 9, 9});
  DecisionTreeClassifier t({}, b());
  t.fit(X, y);
  EXPECT_EQ(t.get_depth(), 1);
  EXPECT_EQ(t.get_n_leaves(), 2);
  EXPECT_EQ(t.tree().nodes[0].threshold, 2.5);
  const Tensor p = t.predict(matrix({{-1}, {2.5f}, {2.6f}, {100}}));
  EXPECT_EQ(p.at<float>(0, 0), 7);
  EXPECT_EQ(p.at<float>(1, 0), 7);
  EXPECT_EQ(p.at<float>(2, 0), 9);
  EXPECT_EQ(p.at<float>(3, 0), 9);
  const Tensor proba = t.predict_proba(matrix({{0}}));
  EXPECT_EQ(proba.at<float>(0, 0), 1.0f);
  EXPECT_EQ(t.feature_importances().at<float>(0, 0), 1.0f);
}

TEST_P(TreeTest, XorNeedsDepthTwoAndALimitIsHonoured) {
  const Tensor X = matrix({{0, 0}, {0, 1}, {1, 0}, {1, 1}, {0, 0}, {0, 1}, {1, 0}, {1, 1}});
  const Tensor y = vec({0, 1, 1, 0, 0, 1, 1, 0});
  DecisionTreeClassifier full({}, b());
  full.fit(X, y);
  EXPECT_EQ(full.get_depth(), 2);
  EXPECT_EQ(accuracy(full.predict(X), y), 1.0);
  DecisionTreeClassifier::Options o;
  o.max_depth = 1;
  DecisionTreeClassifier stump(o, b());
  stump.fit(X, y);
  EXPECT_EQ(stump.get_depth(), 1);  // zero-gain split still taken, as scikit-learn does
  EXPECT_EQ(stump.get_n_leaves(), 2);
}

TEST_P(TreeTest, MissingValuesLearnTheirSide) {
  const float nan = std::nanf("");
  const Tensor X = matrix({{1}, {2}, {3}, {4}, {nan}, {nan}, {nan}, {5}});
  const Tensor y = vec({0, 0, 0, 0, 1, 1, 1, 0});
  DecisionTreeClassifier t({}, b());
  t.fit(X, y);
  EXPECT_EQ(accuracy(t.predict(X), y), 1.0);
  EXPECT_EQ(t.predict(matrix({{nan}})).at<float>(0, 0), 1.0f);
  EXPECT_EQ(t.predict(matrix({{100}})).at<float>(0, 0), 0.0f);
  // No NaN at training: NaN follows the larger child.
  const Tensor X2 = matrix({{1}, {2}, {3}, {4}, {5}});
  DecisionTreeClassifier t2({}, b());
  t2.fit(X2, vec({0, 1, 1, 1, 1}));
  EXPECT_EQ(t2.predict(matrix({{nan}})).at<float>(0, 0), 1.0f);
}

TEST_P(TreeTest, RegressionLeavesAreExactMeans) {
  const Tensor X = matrix({{0}, {1}, {2}, {10}, {11}, {12}});
  const Tensor y = vec({1, 2, 3, 21, 20, 22});
  DecisionTreeRegressor::Options o;
  o.max_depth = 1;
  DecisionTreeRegressor t(o, b());
  t.fit(X, y);
  const Tensor p = t.predict(matrix({{1}, {11}}));
  EXPECT_EQ(p.at<float>(0, 0), 2.0f);
  EXPECT_EQ(p.at<float>(1, 0), 21.0f);
  // Unlimited depth: every distinct x its own leaf, training error zero.
  DecisionTreeRegressor full({}, b());
  full.fit(X, y);
  EXPECT_EQ(full.get_n_leaves(), 6);
  EXPECT_EQ(mse(full.predict(X), y), 0.0);
  // A constant target is never split.
  DecisionTreeRegressor flat({}, b());
  flat.fit(X, vec({4, 4, 4, 4, 4, 4}));
  EXPECT_EQ(flat.get_n_leaves(), 1);
}

TEST_P(TreeTest, MinSamplesLeafAndImportances) {
  const Problem p = slabs(400, 4, 3, 1);
  DecisionTreeClassifier::Options o;
  o.min_samples_leaf = 30;
  DecisionTreeClassifier t(o, b());
  t.fit(p.X, p.y);
  for (const TreeNode& node : t.tree().nodes) {
    if (node.is_leaf()) EXPECT_GE(node.n_samples, 30);
  }
  const Tensor imp = t.feature_importances();
  double total = 0;
  for (int j = 0; j < 4; ++j) total += imp.at<float>(0, j);
  EXPECT_NEAR(total, 1.0, 1e-6);
  EXPECT_GT(imp.at<float>(0, 0), imp.at<float>(0, 2));  // x0 decides the class
  EXPECT_GT(accuracy(t.predict(p.X), p.y), 0.8);        // oblique slabs, leaves of ≥ 30 samples
}

// The histogram sums are exact integers (tree_histogram.hpp), so every exact backend grows
// the same tree, node by node, whatever order its scatter_add adds in.
TEST_P(TreeTest, SameTreeOnEveryBackend) {
  if (!exact()) GTEST_SKIP() << "an int8 scatter_add is approximate: checked by accuracy";
  const Problem c = slabs(3000, 6, 3, 5, /*nan=*/true);
  DecisionTreeClassifier::Options oc;
  oc.max_features.kind = MaxFeatures::Kind::sqrt;
  oc.random_state = 42;
  DecisionTreeClassifier ref(oc, backend("scalar")), got(oc, b());
  ref.fit(c.X, c.y);
  got.fit(c.X, c.y);
  expect_same_tree(ref.tree(), got.tree(), "classifier");
  const Problem r = wave(3000, 5, 6);
  DecisionTreeRegressor::Options orr;
  orr.max_depth = 8;
  DecisionTreeRegressor rref(orr, backend("scalar")), rgot(orr, b());
  rref.fit(r.X, r.y);
  rgot.fit(r.X, r.y);
  expect_same_tree(rref.tree(), rgot.tree(), "regressor");
}

TEST_P(TreeTest, ProfileShowsTheHistogramPrimitives) {
  const Problem p = slabs(500, 3, 2, 2);
  DecisionTreeClassifier t({}, b());
  t.fit(p.X, p.y);
  const auto by_op = t.profile().totals_by_op();
  ASSERT_TRUE(by_op.count("scatter_add"));
  EXPECT_GE(by_op.at("scatter_add").calls, 1);
}

TEST_P(TreeTest, SaveLoadRoundTrip) {
  const Problem p = slabs(300, 3, 3, 8, true);
  DecisionTreeClassifier t({}, b());
  t.fit(p.X, p.y);
  std::stringstream s;
  t.save(s);
  const DecisionTreeClassifier u = DecisionTreeClassifier::load(s, b());
  expect_same_tree(t.tree(), u.tree(), "reloaded");
  EXPECT_EQ(accuracy(u.predict(p.X), t.predict(p.X)), 1.0);
  const Problem r = wave(200, 2, 9);
  DecisionTreeRegressor tr({}, b());
  tr.fit(r.X, r.y);
  std::stringstream s2;
  tr.save(s2);
  const DecisionTreeRegressor ur = DecisionTreeRegressor::load(s2, b());
  EXPECT_EQ(mse(ur.predict(r.X), tr.predict(r.X)), 0.0);
  std::stringstream wrong(s2.str());
  EXPECT_THROW(DecisionTreeClassifier::load(wrong, b()), Error);  // another model type
}

TEST_P(TreeTest, BadInputIsRefused) {
  DecisionTreeClassifier t({}, b());
  const Problem p = slabs(20, 2, 2, 3);
  EXPECT_THROW(t.predict(p.X), Error);  // not fitted
  EXPECT_THROW(t.fit(Tensor(0, 2), Tensor(0, 1)), Error);
  EXPECT_THROW(t.fit(p.X, Tensor(19, 1)), Error);
  Tensor inf = p.X.clone();
  inf.at<float>(3, 1) = INFINITY;
  EXPECT_THROW(t.fit(inf, p.y), Error);
  t.fit(p.X, p.y);
  EXPECT_THROW(t.predict(Tensor(4, 3)), Error);  // wrong number of features
  DecisionTreeClassifier::Options o;
  o.criterion = "mse";
  EXPECT_THROW(DecisionTreeClassifier(o, b()), Error);
  o = {};
  o.min_samples_split = 1;
  EXPECT_THROW(DecisionTreeClassifier(o, b()), Error);
  o = {};
  o.max_bins = 256;
  EXPECT_THROW(DecisionTreeClassifier(o, b()), Error);
  o = {};
  o.max_features.kind = MaxFeatures::Kind::fraction;
  o.max_features.value = 1.5;
  EXPECT_THROW(DecisionTreeClassifier(o, b()), Error);
  DecisionTreeRegressor::Options r;
  r.criterion = "absolute_error";
  EXPECT_THROW(DecisionTreeRegressor(r, b()), Error);
}

INSTANTIATE_TEST_SUITE_P(Backends, TreeTest, ::testing::ValuesIn(all_backends()),
                         backend_param_name);

}  // namespace
}  // namespace mlcore::test
