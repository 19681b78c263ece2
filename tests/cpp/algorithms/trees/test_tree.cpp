// Decision trees on every backend: binning, exact digit sums, hand-checkable splits, missing
// values, identical trees across backends, save/load, bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <sstream>

#include "algorithms/trees/flat_tree.hpp"
#include "algorithms/trees/tree_common.hpp"
#include "algorithms/trees/tree_histogram.hpp"
#include "algorithms/trees/tree_split.hpp"
#include "mlcore/algorithms/trees/binning.hpp"
#include "mlcore/algorithms/trees/tree.hpp"
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

TEST(BinMapper, FastTransformAgreesWithCodeAndRowMajorCodesWithTheIndex) {
  // Values on and right beside every threshold (midpoints that are not floats), duplicates,
  // NaN: the float search of transform() must give code()'s double comparison.
  std::mt19937 rng(5);
  std::normal_distribution<float> g;
  const std::int64_t n = 3000, d = 3;
  Tensor X(n, d);
  for (std::int64_t i = 0; i < n; ++i) {
    X.at<float>(i, 0) = g(rng);
    X.at<float>(i, 1) = std::round(g(rng) * 4.0f) / 4.0f;  // few distinct values
    X.at<float>(i, 2) = i % 17 == 0 ? std::nanf("") : g(rng) * 1e6f;
  }
  BinMapper m;
  m.fit(X, 64, 0);
  Tensor probe(n + 6 * 64 * d, d);
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t f = 0; f < d; ++f) probe.at<float>(i, f) = X.at<float>(i, f);
  }
  std::int64_t r = n;
  for (std::int64_t f = 0; f < d; ++f) {
    for (double t : m.thresholds(f)) {
      const float near = static_cast<float>(t);
      for (float v : {near, std::nextafter(near, -INFINITY), std::nextafter(near, INFINITY)}) {
        for (std::int64_t j = 0; j < d; ++j) probe.at<float>(r, j) = v;
        ++r;
      }
    }
  }
  probe = probe.row_slice(0, r).clone();
  const auto codes = m.transform(probe);
  for (std::int64_t i = 0; i < probe.rows(); ++i) {
    for (std::int64_t f = 0; f < d; ++f) {
      ASSERT_EQ(codes[f * probe.rows() + i], m.code(f, probe.at<float>(i, f)))
          << "value " << probe.at<float>(i, f) << " of feature " << f;
    }
  }
  const Tensor rows = m.histogram_codes(codes, probe.rows());
  const Tensor offsets = m.histogram_offsets();
  const Tensor index = m.histogram_index(codes, probe.rows());
  const auto* c = reinterpret_cast<const std::uint8_t*>(rows.raw());
  for (std::int64_t i = 0; i < probe.rows(); ++i) {
    for (std::int64_t f = 0; f < d; ++f) {
      ASSERT_EQ(offsets.data<std::int32_t>()[f] + c[i * d + f], index.at<std::int32_t>(i, f));
    }
  }
}

// A small node's split found from its samples (SparseHistogram) is the split the full
// histogram gives, for every criterion, with and without missing values and feature sampling.
TEST(SparseHistogram, FindsTheSplitOfTheFullHistogram) {
  std::mt19937 rng(11);
  std::normal_distribution<float> g;
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  const std::int64_t n = 600, d = 5;
  Tensor X(n, d), y(n, 1);
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t f = 0; f < d; ++f) X.at<float>(i, f) = g(rng);
    X.at<float>(i, 3) = std::round(X.at<float>(i, 3));  // a few values: empty bins in nodes
    if (u(rng) < 0.15f) X.at<float>(i, 1) = std::nanf("");
    if (u(rng) < 0.5f) X.at<float>(i, 4) = std::nanf("");  // often "missing left" wins
    y.at<float>(i, 0) = X.at<float>(i, 0) > 0.3f ? 2.0f : (u(rng) < 0.3f ? 1.0f : 0.0f);
  }
  BackendPtr b = backend("scalar");
  const detail::BinnedTrainingSet data = detail::bin_training_set(X, 40, 0, *b);
  detail::HistogramBuilder hb(b, data.device_codes, data.device_offsets, data.mapper.total_bins());
  // Statistics of three criteria: class weights (gini/entropy), [w, w·y] (squared error),
  // [1, g, h] (gradient).
  std::vector<std::int32_t> labels(n);
  std::vector<double> weights(n);
  for (std::int64_t i = 0; i < n; ++i) {
    labels[i] = static_cast<std::int32_t>(y.at<float>(i, 0));
    weights[i] = 1 + i % 3;
  }
  struct Setup {
    detail::SplitCriterion criterion;
    int n_stats;
    std::int64_t max_features;
  };
  for (const Setup& st : std::vector<Setup>{{detail::SplitCriterion::gini, 3, 0},
                                            {detail::SplitCriterion::entropy, 3, 2},
                                            {detail::SplitCriterion::squared_error, 2, 0},
                                            {detail::SplitCriterion::gradient, 3, 3},
                                            {detail::SplitCriterion::gradient, 2, 0}}) {
    detail::GrowerParams p;
    p.criterion = st.criterion;
    p.n_stats = st.n_stats;
    p.max_features = st.max_features;
    p.min_samples_leaf = 2;
    if (st.criterion == detail::SplitCriterion::gini ||
        st.criterion == detail::SplitCriterion::entropy) {
      hb.set_values(detail::class_weight_values(labels, 3, weights), 3);
    } else if (st.criterion == detail::SplitCriterion::squared_error) {
      detail::PackedCodec codec;
      hb.set_packed_values(detail::regression_values(y.data<float>(), n, weights, 0.7, codec));
      p.value_scale = codec.scale;
    } else {
      // Boosting's packed i64 statistics: [q_g · 2^24 + 1, q_h], or [q_g · 2^24 + 1] with a
      // constant hessian (squared error).
      p.constant_hessian = st.n_stats == 2;
      const auto gc = detail::PackedCodec::for_values(1.0, double(n), true);
      const auto hc = detail::PackedCodec::for_values(0.25, double(n), false);
      const int c = st.n_stats - 1;
      Tensor V(n, c, DType::i64);
      for (std::int64_t i = 0; i < n; ++i) {
        V.at<std::int64_t>(i, 0) =
            gc.pack_with_count(std::tanh(double(y.at<float>(i, 0)) - 1.0 + 0.1 * g(rng)));
        if (c == 2) V.at<std::int64_t>(i, 1) = hc.quantize(0.1 + 0.15 * u(rng));
      }
      hb.set_packed_values(V);
      p.value_scale = gc.scale;
      p.hessian_scale = hc.scale;
    }
    detail::SparseHistogram sp(data.mapper, st.n_stats);
    for (int trial = 0; trial < 40; ++trial) {
      // A node: a random subset of 3..80 samples, ascending.
      std::vector<std::int32_t> rows;
      const float keep = float(3 + trial * 2) / float(n);
      for (std::int64_t i = 0; i < n; ++i) {
        if (u(rng) < keep) rows.push_back(static_cast<std::int32_t>(i));
      }
      if (rows.size() < 2) continue;
      detail::Histogram full;
      hb.build(rows.data(), static_cast<std::int64_t>(rows.size()), full);
      std::vector<double> stats(st.n_stats, 0.0);
      for (const std::int32_t i : rows) {
        double one[3];
        hb.sample_stats(i, one);
        for (int j = 0; j < st.n_stats; ++j) stats[j] += one[j];
      }
      sp.build(data.view(), hb, rows.data(), static_cast<std::int64_t>(rows.size()));
      std::mt19937_64 r1(trial), r2(trial);
      const detail::SplitInfo a = detail::find_best_split(full, stats, data.mapper, p, r1);
      const detail::SplitInfo s2 = detail::find_best_split(sp, stats, data.mapper, p, r2);
      sp.clear();
      const std::string what = "criterion " + std::to_string(int(st.criterion)) + " trial " +
                               std::to_string(trial) + " (" + std::to_string(rows.size()) +
                               " samples)";
      ASSERT_EQ(a.valid, s2.valid) << what;
      if (!a.valid) continue;
      EXPECT_EQ(a.feature, s2.feature) << what;
      EXPECT_EQ(a.bin, s2.bin) << what;
      EXPECT_EQ(a.missing_left, s2.missing_left) << what;
      EXPECT_EQ(a.gain, s2.gain) << what;
      EXPECT_EQ(a.left, s2.left) << what;
    }
  }
}

// ---- decision trees on every backend ----

class TreeTest : public BackendTest {
 protected:
  BackendPtr b() const { return backend(GetParam()); }
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

// Equal gains go to the candidate scikit-learn's search keeps (tree_split.cpp, scan_feature);
// the expected values are scikit-learn's DecisionTreeRegressor(max_depth=1) predictions.
TEST_P(TreeTest, EqualGainsResolvedInScikitLearnsOrder) {
  const float nan = std::nanf("");
  DecisionTreeRegressor::Options o;
  o.max_depth = 1;
  const Tensor Q = matrix({{nan}, {0}, {0.5f}, {1}, {1.5f}, {2}, {3}});
  // "x ≤ 2.5, NaN right" and "x ≤ 0.5, NaN left" gain alike: the NaN-right scan comes first.
  DecisionTreeRegressor right_first(o, b());
  right_first.fit(matrix({{2}, {nan}, {3}, {1}, {3}, {0}, {1}, {0}}),
                  vec({1, 2, 2, 2, 2, 2, 1, 2}));
  expect_close(right_first.predict(Q), {2, 1.6, 1.6, 1.6, 1.6, 1.6, 2}, 1e-6, 1e-6, "NaN right");
  // "x ≤ 0.5, NaN left" and "x ≤ 1.5, NaN left" gain alike: the tree keeps the lower boundary
  // (boosting the higher one, test_boosting.cpp).
  DecisionTreeRegressor lower_left(o, b());
  lower_left.fit(matrix({{3}, {nan}, {0}, {3}, {0}, {1}, {2}}), vec({2, 0, 1, 2, -1, 1, 2}));
  expect_close(lower_left.predict(Q), {0, 0, 0, 1.75, 1.75, 1.75, 1.75}, 1e-6, 1e-6,
               "lower NaN-left boundary");
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

// The histogram sums are exact integers (tree_histogram.hpp), so every backend grows the same
// tree, node by node, whatever order its histogram adds in — the systolic array too: its
// histogram runs in f32 on the vector unit, not quantized on the array.
// max_leaf_nodes grows best-first: the budget is met exactly on a problem that could use more
// leaves, and the tree of k + 1 leaves is the tree of k leaves with one more split, of a node
// (e) that was waiting while the k-leaf tree made its later splits: so no better than any of
// them (a node split after e was created has children numbered after e).
TEST_P(TreeTest, MaxLeafNodesGrowsBestFirst) {
  const Problem p = wave(700, 3, 41);
  for (const std::int64_t k : {2, 3, 7, 16}) {
    DecisionTreeRegressor::Options o;
    o.max_leaf_nodes = k;
    DecisionTreeRegressor small(o, backend(GetParam()));
    small.fit(p.X, p.y);
    EXPECT_EQ(small.get_n_leaves(), k) << "max_leaf_nodes " << k;
    o.max_leaf_nodes = k + 1;
    DecisionTreeRegressor larger(o, backend(GetParam()));
    larger.fit(p.X, p.y);
    const Tree& a = small.tree();
    const Tree& b = larger.tree();
    ASSERT_EQ(b.nodes.size(), a.nodes.size() + 2);
    std::int32_t extra = -1;
    for (std::size_t j = 0; j < a.nodes.size(); ++j) {
      if (a.nodes[j].is_leaf()) {
        if (!b.nodes[j].is_leaf()) extra = static_cast<std::int32_t>(j);
        continue;
      }
      EXPECT_EQ(a.nodes[j].feature, b.nodes[j].feature) << k << " node " << j;
      EXPECT_EQ(a.nodes[j].threshold, b.nodes[j].threshold) << k << " node " << j;
    }
    ASSERT_GE(extra, 0) << k;
    for (const TreeNode& node : a.nodes) {
      if (!node.is_leaf() && node.left > extra) {
        EXPECT_LE(b.nodes[extra].gain, node.gain) << k;
      }
    }
  }
  DecisionTreeClassifier::Options bad;
  bad.max_leaf_nodes = 1;
  EXPECT_THROW(DecisionTreeClassifier(bad, backend(GetParam())), Error);
  bad.max_leaf_nodes = 0;
  EXPECT_THROW(DecisionTreeClassifier(bad, backend(GetParam())), Error);
}

// friedman_mse is the squared-error criterion under scikit-learn 1.9's other name.
TEST_P(TreeTest, FriedmanMseIsSquaredError) {
  const Problem p = wave(400, 3, 43);
  DecisionTreeRegressor::Options o;
  o.max_depth = 5;
  o.min_impurity_decrease = 1e-3;
  DecisionTreeRegressor plain(o, backend(GetParam()));
  plain.fit(p.X, p.y);
  o.criterion = "friedman_mse";
  DecisionTreeRegressor friedman(o, backend(GetParam()));
  friedman.fit(p.X, p.y);
  expect_same_tree(plain.tree(), friedman.tree(), "friedman_mse");
  o.criterion = "poisson";
  EXPECT_THROW(DecisionTreeRegressor(o, backend(GetParam())), Error);
}

TEST_P(TreeTest, SameTreeOnEveryBackend) {
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
  ASSERT_TRUE(by_op.count("histogram"));
  EXPECT_GE(by_op.at("histogram").calls, 1);
}

// Backend::tree_walk on the walk table (float thresholds rounded down) finds apply_one's leaf
// for every sample: fitted trees of several depths (a stump, depth 4, unlimited), NaN in the
// data (missing_left both ways), values exactly on a threshold and on the floats just above and
// below it, ±inf, and m = 0, 1, a prime, a non-multiple of 8 and of the avx2 block (512).
// tree_walk_sum over the three trees as one forest (one tree's values in another column, and
// a constant one-leaf tree first) matches a double-precision reference to the last bit.
TEST_P(TreeTest, WalkAgreesWithApplyOne) {
  const Problem p = slabs(3001, 5, 4, 77, true);
  std::vector<Tree> trees;
  for (const std::int64_t max_depth : {std::int64_t{1}, std::int64_t{4}, std::int64_t{-1}}) {
    DecisionTreeClassifierOptions o;
    o.max_depth = max_depth;
    DecisionTreeClassifier t(o, backend("scalar"));
    t.fit(p.X, p.y);
    trees.push_back(t.tree());
  }
  Tensor X = p.X.clone();
  // Values at and right beside the thresholds of the first nodes (a threshold is a double
  // midpoint between two floats: the float nearest it, the next one up and the next down).
  for (std::int64_t i = 0; i < X.rows(); i += 5) {
    const Tree& tree = trees[(i / 5) % 3];
    const TreeNode& node = tree.nodes[(i / 15) % std::min<std::size_t>(tree.nodes.size(), 7)];
    if (node.is_leaf()) continue;
    const float f = static_cast<float>(node.threshold);
    const float pick[] = {f, std::nextafter(f, INFINITY), std::nextafter(f, -INFINITY), INFINITY,
                          -INFINITY};
    X.at<float>(i, node.feature) = pick[(i / 5) % 5];
  }
  Backend& be = *b();
  for (const std::int64_t m :
       {std::int64_t{0}, std::int64_t{1}, std::int64_t{17}, std::int64_t{1009}, X.rows()}) {
    Tensor rows(m, X.cols());
    std::copy_n(X.data<float>(), m * X.cols(), rows.data<float>());
    for (const Tree& tree : trees) {
      const Tensor leaf = detail::apply_tree(be, tree, rows);
      ASSERT_EQ(leaf.rows(), m);
      for (std::int64_t i = 0; i < m; ++i) {
        ASSERT_EQ(leaf.at<std::int32_t>(i, 0), tree.apply_one(rows.data<float>() + i * X.cols()))
            << "row " << i << " of " << m << ", " << tree.nodes.size() << " nodes";
      }
    }
    // The forest: a constant tree, then tree 0 into columns [0, 4), tree 1 into [1, 5), tree 2
    // into [0, 4); scaled by 1/3.
    detail::LeafValues lv;
    lv.columns = 5;
    lv.column_of_tree = {0, 1, 0};
    lv.constant = {0.25, -1.5, 0.0, 3.0, 1e-3};
    const detail::WalkTable table = detail::make_walk_table({&trees[0], &trees[1], &trees[2]}, lv);
    const Tensor got = be.to_host(detail::walk_sum(be, table, rows, 1.0 / 3.0));
    for (std::int64_t i = 0; i < m; ++i) {
      double acc[5];
      for (int q = 0; q < 5; ++q) acc[q] = double(float(lv.constant[q]));
      for (int t = 0; t < 3; ++t) {
        const double* v = trees[t].value(trees[t].apply_one(rows.data<float>() + i * X.cols()));
        for (int q = 0; q < trees[t].n_outputs; ++q) {
          acc[lv.column_of_tree[t] + q] += double(float(v[q]));
        }
      }
      for (int q = 0; q < 5; ++q) {
        ASSERT_EQ(got.at<float>(i, q), static_cast<float>((1.0 / 3.0) * acc[q]))
            << "row " << i << " column " << q;
      }
    }
  }
}

// The walks refuse a table that could send a walk astray, naming the node, on every backend
// (the cuda backend checks its device copy).
TEST_P(TreeTest, WalkRefusesABadTable) {
  Backend& be = *b();
  Tensor nodes(3, 4, DType::i32);
  auto* nd = reinterpret_cast<TreeWalkNode*>(nodes.raw());
  nd[0] = {1, 2, 0, 0.5f};
  nd[1] = TreeWalkNode{};
  nd[2] = TreeWalkNode{};
  Tensor roots(1, 1, DType::i32);
  Tensor X(4, 2);
  Tensor leaf = be.empty(4, 1, DType::i32);
  auto walk = [&] {
    be.tree_walk(be.to_device(nodes), be.to_device(roots), be.to_device(X), leaf);
  };
  auto expect_error = [&](const std::string& what) {
    try {
      walk();
      ADD_FAILURE() << "no error; expected: " << what;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  EXPECT_NO_THROW(walk());
  nd[0].feature_and_missing = 2;  // X has 2 columns
  expect_error("node 0 splits on feature 2");
  nd[0].feature_and_missing = 1;
  nd[0].left = 0;  // a cycle
  expect_error("node 0's children 0, 2 must lie after it");
  nd[0].left = 3;  // past the table
  expect_error("node 0's children 3, 2 must lie after it and before 3");
  nd[0].left = 1;
  roots.at<std::int32_t>(0, 0) = 3;
  expect_error("roots[0] = 3 is outside [0, 3)");
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

// Impurities (scikit-learn's tree_.impurity) and minimal cost-complexity pruning, by hand:
// y = {0, 0, 0, 10} splits once; the root's variance is (3·2.5² + 7.5²) / 4 = 18.75, its leaves'
// 0, so the one collapse has effective alpha 18.75 / (2 − 1). Gini: {0, 0, 1, 1}, root 0.5.
TEST_P(TreeTest, ImpuritiesAndCostComplexityPruning) {
  const Tensor X = matrix({{0}, {1}, {2}, {3}});
  DecisionTreeRegressor r({}, b());
  r.fit(X, vec({0, 0, 0, 10}));
  ASSERT_EQ(r.tree().nodes.size(), 3u);
  EXPECT_NEAR(r.tree().impurity[0], 18.75, 1e-9);
  EXPECT_EQ(r.tree().impurity[1], 0.0);
  EXPECT_EQ(r.tree().impurity[2], 0.0);
  const PruningPath path = r.pruning_path();
  ASSERT_EQ(path.ccp_alphas.size(), 2u);
  EXPECT_EQ(path.ccp_alphas[0], 0.0);
  EXPECT_NEAR(path.ccp_alphas[1], 18.75, 1e-9);
  EXPECT_NEAR(path.impurities[1], 18.75, 1e-9);
  DecisionTreeRegressor::Options o;
  o.ccp_alpha = 18.7;  // below the link's alpha: kept
  DecisionTreeRegressor kept(o, b());
  kept.fit(X, vec({0, 0, 0, 10}));
  EXPECT_EQ(kept.get_n_leaves(), 2);
  o.ccp_alpha = 18.75 + 1e-9;  // collapsed: one leaf predicting the mean
  DecisionTreeRegressor pruned(o, b());
  pruned.fit(X, vec({0, 0, 0, 10}));
  EXPECT_EQ(pruned.get_n_leaves(), 1);
  EXPECT_NEAR(pruned.predict(matrix({{3}})).at<float>(0, 0), 2.5f, 1e-4);
  EXPECT_EQ(pruned.feature_importances().at<float>(0, 0), 0.0f);

  DecisionTreeClassifier c({}, b());
  c.fit(X, vec({0, 0, 1, 1}));
  EXPECT_NEAR(c.tree().impurity[0], 0.5, 1e-12);
  EXPECT_NEAR(c.pruning_path().ccp_alphas[1], 0.5, 1e-12);
  // The impurities are saved (model version 4) and reloaded.
  std::stringstream s;
  r.save(s);
  const DecisionTreeRegressor u = DecisionTreeRegressor::load(s, b());
  EXPECT_EQ(u.tree().impurity, r.tree().impurity);
  DecisionTreeRegressor::Options bad;
  bad.ccp_alpha = -1;
  EXPECT_THROW(DecisionTreeRegressor(bad, b()), Error);
}

INSTANTIATE_TEST_SUITE_P(Backends, TreeTest, ::testing::ValuesIn(all_backends()),
                         backend_param_name);

}  // namespace
}  // namespace mlcore::test
