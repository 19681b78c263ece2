// Random forests on every backend: accuracy on easy problems, out-of-bag scores, determinism
// across thread counts and backends, save/load, bad input.
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "mlcore/algorithms/trees/forest.hpp"
#include "tree_test_util.hpp"

namespace mlcore::test {
namespace {

class ForestTest : public BackendTest {
 protected:
  BackendPtr b() const { return backend(GetParam()); }
};

TEST_P(ForestTest, ClassifierLearnsSlabsAndScoresOutOfBag) {
  const Problem train = slabs(1500, 5, 3, 11, true), test = slabs(500, 5, 3, 12, true);
  RandomForestClassifier::Options o;
  o.n_estimators = 30;
  o.oob_score = true;
  o.random_state = 3;
  RandomForestClassifier f(o, b());
  f.fit(train.X, train.y);
  EXPECT_EQ(f.trees().size(), 30u);
  EXPECT_GT(accuracy(f.predict(test.X), test.y), 0.9);
  EXPECT_GT(f.oob_score(), 0.85);
  EXPECT_LE(f.oob_score(), 1.0);
  const Tensor proba = f.predict_proba(test.X.row_slice(0, 5));
  for (int i = 0; i < 5; ++i) {
    EXPECT_NEAR(proba.at<float>(i, 0) + proba.at<float>(i, 1) + proba.at<float>(i, 2), 1.0, 1e-5);
  }
  const Tensor imp = f.feature_importances();
  EXPECT_GT(imp.at<float>(0, 0), imp.at<float>(0, 4));
}

TEST_P(ForestTest, RegressorFitsAWave) {
  const Problem train = wave(1500, 3, 21), test = wave(500, 3, 22);
  RandomForestRegressor::Options o;
  o.n_estimators = 20;
  o.oob_score = true;
  RandomForestRegressor f(o, b());
  f.fit(train.X, train.y);
  EXPECT_LT(mse(f.predict(test.X), test.y), 0.05);
  EXPECT_GT(f.oob_score(), 0.8);
}

// Tree t draws from its own generator seeded by (random_state, t): the forest does not depend
// on the number of threads, nor (exact histogram sums) on the backend.
TEST_P(ForestTest, SameForestForAnyThreadCountAndBackend) {
  const Problem p = slabs(800, 4, 2, 31, true);
  RandomForestClassifier::Options o;
  o.n_estimators = 8;
  o.max_depth = 6;
  o.random_state = 9;
  o.n_jobs = 1;
  RandomForestClassifier one(o, backend("scalar"));
  one.fit(p.X, p.y);
  o.n_jobs = 3;
  RandomForestClassifier three(o, b());
  three.fit(p.X, p.y);
  for (std::size_t t = 0; t < one.trees().size(); ++t) {
    expect_same_tree(one.trees()[t], three.trees()[t], "tree " + std::to_string(t));
  }
  const Problem r = wave(600, 3, 32);
  RandomForestRegressor::Options orr;
  orr.n_estimators = 5;
  orr.n_jobs = 2;
  RandomForestRegressor a(orr, backend("scalar")), c(orr, b());
  a.fit(r.X, r.y);
  c.fit(r.X, r.y);
  for (std::size_t t = 0; t < a.trees().size(); ++t) {
    expect_same_tree(a.trees()[t], c.trees()[t], "regression tree " + std::to_string(t));
  }
}

TEST_P(ForestTest, WorkerThreadsRecordIntoTheEstimatorsProfile) {
  const Problem p = slabs(400, 3, 2, 41);
  RandomForestClassifier::Options o;
  o.n_estimators = 6;
  o.n_jobs = 3;
  RandomForestClassifier f(o, b());
  f.fit(p.X, p.y);
  const auto by_op = f.profile().totals_by_op();
  ASSERT_TRUE(by_op.count("histogram"));
  EXPECT_GE(by_op.at("histogram").calls, 6);  // at least each tree's root
}

TEST_P(ForestTest, SaveLoadRoundTrip) {
  const Problem p = slabs(300, 3, 2, 51);
  RandomForestClassifier::Options o;
  o.n_estimators = 5;
  o.oob_score = true;
  RandomForestClassifier f(o, b());
  f.fit(p.X, p.y);
  std::stringstream s;
  f.save(s);
  const RandomForestClassifier g = RandomForestClassifier::load(s, b());
  EXPECT_EQ(accuracy(g.predict(p.X), f.predict(p.X)), 1.0);
  EXPECT_EQ(g.oob_score(), f.oob_score());
  const Problem r = wave(200, 2, 52);
  RandomForestRegressor::Options orr;
  orr.n_estimators = 4;
  RandomForestRegressor fr(orr, b());
  fr.fit(r.X, r.y);
  std::stringstream s2;
  fr.save(s2);
  EXPECT_EQ(mse(RandomForestRegressor::load(s2, b()).predict(r.X), fr.predict(r.X)), 0.0);
}

TEST_P(ForestTest, BadInputIsRefused) {
  RandomForestClassifier::Options o;
  o.n_estimators = 0;
  EXPECT_THROW(RandomForestClassifier(o, b()), Error);
  o = {};
  o.bootstrap = false;
  o.oob_score = true;
  EXPECT_THROW(RandomForestClassifier(o, b()), Error);
  RandomForestClassifier f({}, b());
  const Problem p = slabs(30, 2, 2, 61);
  EXPECT_THROW(f.predict(p.X), Error);
  EXPECT_THROW(f.fit(p.X, Tensor(29, 1)), Error);
  f.fit(p.X, p.y);
  EXPECT_THROW(f.oob_score(), Error);  // oob_score=False
  EXPECT_THROW(f.predict(Tensor(2, 5)), Error);
}

// warm_start: 4 trees, then 4 more, is the forest of 8 grown at once (tree t's generator is
// seeded by (random_state, t)); its out-of-bag score too, with max_samples and max_leaf_nodes.
// Fewer trees than held is refused; as many grows none.
TEST_P(ForestTest, WarmStartEqualsOneFit) {
  const Problem p = slabs(301, 4, 3, 51, true);
  RandomForestClassifier::Options o;
  o.n_estimators = 8;
  o.random_state = 5;
  o.oob_score = true;
  o.max_leaf_nodes = 6;
  o.max_samples.kind = MaxSamples::Kind::fraction;
  o.max_samples.value = 0.7;
  RandomForestClassifier once(o, b());
  once.fit(p.X, p.y);
  o.warm_start = true;
  o.n_estimators = 4;
  RandomForestClassifier warm(o, b());
  warm.fit(p.X, p.y);
  ASSERT_EQ(warm.trees().size(), 4u);
  o.n_estimators = 8;
  RandomForestClassifier more(o, b());
  more.warm_start_from(warm);
  more.fit(p.X, p.y);
  ASSERT_EQ(more.trees().size(), 8u);
  for (std::size_t t = 0; t < 8; ++t) {
    expect_same_tree(once.trees()[t], more.trees()[t], "tree " + std::to_string(t));
    EXPECT_LE(more.trees()[t].n_leaves(), 6);
  }
  EXPECT_EQ(once.oob_score(), more.oob_score());
  const Tensor a = once.feature_importances(), c = more.feature_importances();
  for (std::int64_t j = 0; j < 4; ++j) EXPECT_EQ(a.at<float>(0, j), c.at<float>(0, j));
  more.fit(p.X, p.y);  // as many trees: none grown
  EXPECT_EQ(more.trees().size(), 8u);
  o.n_estimators = 7;
  RandomForestClassifier fewer(o, b());
  fewer.warm_start_from(more);
  EXPECT_THROW(fewer.fit(p.X, p.y), Error);
}

// max_samples: the number of bootstrap draws; an int and the fraction that gives it grow the
// same forest, and bootstrap=False refuses it.
TEST_P(ForestTest, MaxSamplesSetsTheDraws) {
  const Problem p = wave(200, 3, 53);
  RandomForestRegressor::Options o;
  o.n_estimators = 3;
  o.max_samples.kind = MaxSamples::Kind::count;
  o.max_samples.value = 50;
  RandomForestRegressor count(o, b());
  count.fit(p.X, p.y);
  for (const Tree& t : count.trees()) EXPECT_EQ(t.nodes[0].weighted_n_samples, 50.0);
  o.max_samples.kind = MaxSamples::Kind::fraction;
  o.max_samples.value = 0.25;  // int(0.25 · 200) = 50
  RandomForestRegressor fraction(o, b());
  fraction.fit(p.X, p.y);
  for (std::size_t t = 0; t < 3; ++t) {
    expect_same_tree(count.trees()[t], fraction.trees()[t], "tree " + std::to_string(t));
  }
  o.max_samples.value = 1e-9;  // at least one draw
  RandomForestRegressor tiny(o, b());
  tiny.fit(p.X, p.y);
  EXPECT_EQ(tiny.trees()[0].nodes.size(), 1u);
  o.bootstrap = false;
  EXPECT_THROW(RandomForestRegressor(o, b()), Error);
  o.bootstrap = true;
  o.max_samples.value = 0;
  EXPECT_THROW(RandomForestRegressor(o, b()), Error);
  o.max_samples.kind = MaxSamples::Kind::count;
  o.max_samples.value = 2.5;
  EXPECT_THROW(RandomForestRegressor(o, b()), Error);
}

INSTANTIATE_TEST_SUITE_P(Backends, ForestTest, ::testing::ValuesIn(all_backends()),
                         backend_param_name);

}  // namespace
}  // namespace mlcore::test
