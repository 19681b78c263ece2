// KNeighborsClassifier / KNeighborsRegressor on hand-checkable 1-D data, on every backend;
// batching, ties, save/load and bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>
#include <vector>

#include "algorithms/common/validate.hpp"
#include "mlcore/algorithms/neighbors/knn.hpp"
#include "test_util.hpp"

namespace mlcore::test {
namespace {

// Six points on a line in two well-separated groups: 0, 1, 2 (class 0) and 10, 11, 12 (class 1).
Tensor line_X() {
  Tensor X(6, 1);
  const float v[] = {0, 1, 2, 10, 11, 12};
  for (int i = 0; i < 6; ++i) X.at<float>(i, 0) = v[i];
  return X;
}

Tensor column_of(std::initializer_list<float> values) {
  Tensor t(static_cast<std::int64_t>(values.size()), 1);
  std::int64_t i = 0;
  for (float v : values) t.at<float>(i++, 0) = v;
  return t;
}

class KnnTest : public BackendTest {
 protected:
  BackendPtr b() const { return backend(GetParam()); }
  bool exact() const { return !test::quantized(GetParam()); }  // f32 distances
};

TEST_P(KnnTest, ClassifiesTwoGroupsAndReturnsSortedNeighbours) {
  KNeighborsOptions o;
  o.n_neighbors = 3;
  KNeighborsClassifier knn(o, b());
  knn.fit(line_X(), column_of({0, 0, 0, 1, 1, 1}));
  EXPECT_EQ(knn.classes(), (std::vector<double>{0.0, 1.0}));
  const Tensor pred = knn.predict(column_of({0.4f, 10.6f, 3.0f, 9.0f}));
  EXPECT_EQ(pred.at<float>(0, 0), 0.0f);
  EXPECT_EQ(pred.at<float>(1, 0), 1.0f);
  EXPECT_EQ(pred.at<float>(2, 0), 0.0f);  // neighbours 2, 1, 0
  EXPECT_EQ(pred.at<float>(3, 0), 1.0f);  // neighbours 10, 11, 12

  const Neighbors nb = knn.kneighbors(column_of({0.4f}));
  ASSERT_EQ(nb.indices.rows(), 1);
  ASSERT_EQ(nb.indices.cols(), 3);
  EXPECT_EQ(nb.indices.at<std::int32_t>(0, 0), 0);
  EXPECT_EQ(nb.indices.at<std::int32_t>(0, 1), 1);
  EXPECT_EQ(nb.indices.at<std::int32_t>(0, 2), 2);
  if (exact()) {
    expect_close(nb.distances, {0.4, 0.6, 1.6}, 1e-5, 1e-5, "kneighbors distances");
  }
  // proba of the 3-neighbour vote at 3.0: all of class 0.
  const Tensor proba = knn.predict_proba(column_of({3.0f, 10.6f}));
  expect_close(proba, {1.0, 0.0, 0.0, 1.0}, 0.0, 1e-6, "predict_proba");
}

TEST_P(KnnTest, VoteTiesGoToTheSmallestClassAndDistanceTiesToTheLowerIndex) {
  // Two neighbours, one of each class, at equal distance from 0: class 3 < class 7 wins, and the
  // neighbour order is by index.
  Tensor X = column_of({1.0f, -1.0f});
  KNeighborsOptions o;
  o.n_neighbors = 2;
  KNeighborsClassifier knn(o, b());
  knn.fit(X, column_of({7, 3}));
  EXPECT_EQ(knn.predict(column_of({0.0f})).at<float>(0, 0), 3.0f);
  const Neighbors nb = knn.kneighbors(column_of({0.0f}));
  EXPECT_EQ(nb.indices.at<std::int32_t>(0, 0), 0);
  EXPECT_EQ(nb.indices.at<std::int32_t>(0, 1), 1);
}

TEST_P(KnnTest, DistanceWeightsAndExactMatches) {
  KNeighborsOptions o;
  o.n_neighbors = 3;
  o.weights = "distance";
  KNeighborsClassifier knn(o, b());
  // 0, 1, 2 are classes 0, 1, 1. At 0.1 the neighbours 0, 1, 2 weigh 10, 1/0.9, 1/1.9:
  // class 0 wins although class 1 has two of the three votes.
  Tensor X = column_of({0, 1, 2});
  knn.fit(X, column_of({0, 1, 1}));
  EXPECT_EQ(knn.predict(column_of({0.1f})).at<float>(0, 0), 0.0f);
  if (exact()) {
    const double w0 = 10.0, w1 = 1 / 0.9, w2 = 1 / 1.9, s = w0 + w1 + w2;
    expect_close(knn.predict_proba(column_of({0.1f})), {w0 / s, (w1 + w2) / s}, 1e-5, 1e-6,
                 "distance-weighted proba");
    // An exact match takes all the weight (scikit-learn's rule for zero distances).
    expect_close(knn.predict_proba(column_of({1.0f})), {0.0, 1.0}, 0.0, 0.0, "exact match");
  }
}

TEST_P(KnnTest, RegressorMeansTheNeighboursTargets) {
  KNeighborsOptions o;
  o.n_neighbors = 3;
  KNeighborsRegressor reg(o, b());
  reg.fit(line_X(), column_of({0, 1, 2, 10, 11, 12}));  // y = x
  const Tensor pred = reg.predict(column_of({1.0f, 11.2f}));
  ASSERT_EQ(pred.cols(), 1);
  expect_close(pred, {1.0, 11.0}, 1e-6, 1e-5, "uniform mean");

  o.weights = "distance";
  KNeighborsRegressor wreg(o, b());
  wreg.fit(line_X(), column_of({0, 1, 2, 10, 11, 12}));
  if (exact()) {
    // At 0.5: neighbours 0, 1 (distance 0.5) and 2 (1.5): weights 2, 2, 2/3.
    const double ref = (0 * 2 + 1 * 2 + 2 * (2.0 / 3)) / (2 + 2 + 2.0 / 3);
    expect_close(wreg.predict(column_of({0.5f})), {ref}, 1e-5, 1e-6, "distance-weighted mean");
  }
  // Two outputs: y = (x, −x).
  Tensor Y(6, 2);
  for (int i = 0; i < 6; ++i) {
    Y.at<float>(i, 0) = line_X().at<float>(i, 0);
    Y.at<float>(i, 1) = -line_X().at<float>(i, 0);
  }
  KNeighborsRegressor multi(o, b());
  multi.fit(line_X(), Y);
  EXPECT_EQ(multi.n_outputs(), 2);
  const Tensor p2 = multi.predict(column_of({11.0f}));
  expect_close(p2, {11.0, -11.0}, 1e-5, 1e-4, "two outputs");
}

TEST_P(KnnTest, BatchingDoesNotChangeResults) {
  std::mt19937 rng(7);
  const Tensor X = random_tensor(200, 5, rng), Q = random_tensor(37, 5, rng);
  Tensor y(200, 1);
  for (int i = 0; i < 200; ++i) y.at<float>(i, 0) = static_cast<float>(i % 4);
  KNeighborsOptions o;
  o.n_neighbors = 7;
  o.weights = "distance";
  KNeighborsClassifier whole(o, b());
  o.batch_size = 5;  // 8 batches, the last one short
  KNeighborsClassifier batched(o, b());
  whole.fit(X, y);
  batched.fit(X, y);
  const Neighbors a = whole.kneighbors(Q), c = batched.kneighbors(Q);
  // On f32 backends a query's distances do not depend on its batch. (The systolic array
  // quantizes each batch with its own scale, so there they differ slightly.)
  if (exact()) {
    for (std::int64_t i = 0; i < a.indices.numel(); ++i) {
      ASSERT_EQ(a.indices.data<std::int32_t>()[i], c.indices.data<std::int32_t>()[i]);
      ASSERT_EQ(a.distances.data<float>()[i], c.distances.data<float>()[i]);
    }
    const Tensor pa = whole.predict_proba(Q), pc = batched.predict_proba(Q);
    for (std::int64_t i = 0; i < pa.numel(); ++i) {
      ASSERT_FLOAT_EQ(pa.data<float>()[i], pc.data<float>()[i]);
    }
    // kneighbors with another k than the option's.
    const Neighbors one = batched.kneighbors(Q, 1);
    EXPECT_EQ(one.indices.cols(), 1);
    for (std::int64_t q = 0; q < Q.rows(); ++q) {
      EXPECT_EQ(one.indices.at<std::int32_t>(q, 0), a.indices.at<std::int32_t>(q, 0));
    }
  }
  // The profile of a predict shows the primitives of the design.
  batched.predict(Q);
  const auto by_op = batched.profile().totals_by_op();
  if (b()->fuses_sqdist_topk()) {  // one fused search per batch, no distance block
    EXPECT_EQ(by_op.at("sqdist_topk").calls, 8);
    EXPECT_EQ(by_op.count("sqdist"), 0u);
  } else {
    EXPECT_EQ(by_op.at("sqdist").calls, 8);
    EXPECT_EQ(by_op.at("topk_rows").calls, 8);
  }
  // Per batch: the exact distances of the chosen neighbours (two gathers, one scatter_add of
  // the squared differences), then the vote (one gather, one scatter_add).
  EXPECT_EQ(by_op.at("gather_rows").calls, 24);
  EXPECT_EQ(by_op.at("scatter_add").calls, 16);
}

TEST_P(KnnTest, NearNeighbourDistancesAreExactDifferences) {
  // Points of norm ~8 and queries 1e-5 away from some of them: the expansion
  // ‖q‖² + ‖x‖² − 2·q·x cancels to 0 in f32; the differences q − x do not.
  std::mt19937 rng(3);
  std::normal_distribution<float> normal;
  const std::int64_t n = 53, d = 6;
  Tensor X(n, d), Q(5, d);
  for (std::int64_t i = 0; i < X.numel(); ++i) X.data<float>()[i] = 3.0f + normal(rng);
  for (std::int64_t q = 0; q < Q.rows(); ++q) {
    for (std::int64_t j = 0; j < d; ++j)
      Q.at<float>(q, j) = X.at<float>(q * 10, j) + 1e-5f * normal(rng);
  }
  KNeighborsOptions o;
  o.n_neighbors = 2;
  KNeighborsRegressor reg(o, b());
  reg.fit(X, Tensor::zeros(n, 1));
  const Neighbors nb = reg.kneighbors(Q);
  for (std::int64_t q = 0; q < Q.rows(); ++q) {
    const std::int32_t i = nb.indices.at<std::int32_t>(q, 0);
    double ref = 0;  // the float64 distance between the same f32 points
    for (std::int64_t j = 0; j < d; ++j) {
      const double diff = double(Q.at<float>(q, j)) - double(X.at<float>(i, j));
      ref += diff * diff;
    }
    ref = std::sqrt(ref);
    EXPECT_GT(nb.distances.at<float>(q, 0), 0.0f) << "query " << q;
    EXPECT_NEAR(nb.distances.at<float>(q, 0), ref, 1e-5 * ref) << "query " << q;
    if (exact()) EXPECT_EQ(i, q * 10);
  }
}

TEST_P(KnnTest, MinkowskiMetricsFindTheBruteForceNeighbours) {
  // p = 1 (Manhattan), 3, 0.5 (a semi-metric) and ∞ (Chebyshev) against a float64 brute force, on
  // random data (no near ties) and in batches that do not divide the queries. minkowski_dist sums
  // exact f32 terms on every backend (the systolic one on its vector unit), so the neighbours are
  // the reference's everywhere.
  std::mt19937 rng(7);
  const std::int64_t n = 97, q = 23, d = 7, k = 5;
  const Tensor X = random_tensor(n, d, rng, -1.0f, 1.0f), Q = random_tensor(q, d, rng, -1.0f, 1.0f);
  Tensor y(n, 1);
  for (std::int64_t i = 0; i < n; ++i) y.at<float>(i, 0) = float(i % 3);
  for (double p : {1.0, 3.0, 0.5, double(INFINITY)}) {
    for (std::int64_t batch : {0, 4}) {
      KNeighborsOptions o;
      o.n_neighbors = k;
      o.p = p;
      o.batch_size = batch;
      o.weights = "distance";
      KNeighborsClassifier knn(o, b());
      knn.fit(X, y);
      const Neighbors nb = knn.kneighbors(Q);
      for (std::int64_t i = 0; i < q; ++i) {
        std::vector<std::pair<double, std::int32_t>> ref(n);
        for (std::int64_t j = 0; j < n; ++j) {
          double acc = 0;
          for (std::int64_t c = 0; c < d; ++c) {
            const double v = std::fabs(double(Q.at<float>(i, c)) - X.at<float>(j, c));
            acc = std::isinf(p) ? std::max(acc, v) : acc + std::pow(v, p);
          }
          ref[j] = {std::isinf(p) ? acc : std::pow(acc, 1.0 / p), std::int32_t(j)};
        }
        std::sort(ref.begin(), ref.end());
        for (std::int64_t j = 0; j < k; ++j) {
          ASSERT_EQ(nb.indices.at<std::int32_t>(i, j), ref[j].second)
              << "p=" << p << " batch=" << batch << " query " << i << " rank " << j;
          EXPECT_NEAR(nb.distances.at<float>(i, j), ref[j].first, 1e-5 * (1 + ref[j].first));
        }
        // The 'distance' vote weighs each neighbour by 1/distance in this metric.
        std::vector<double> votes(3, 0.0);
        for (std::int64_t j = 0; j < k; ++j) votes[ref[j].second % 3] += 1.0 / ref[j].first;
        const Tensor proba = knn.predict_proba(Q.row_slice(i, i + 1));
        const double total = votes[0] + votes[1] + votes[2];
        for (int c = 0; c < 3; ++c) {
          EXPECT_NEAR(proba.at<float>(0, c), votes[c] / total, 1e-5) << "p=" << p;
        }
      }
    }
  }
  KNeighborsOptions bad;
  bad.p = 0.0;
  EXPECT_THROW(KNeighborsClassifier(bad, b()), Error);
}

TEST_P(KnnTest, SaveLoadRoundTrip) {
  std::mt19937 rng(3);
  const Tensor X = random_tensor(50, 3, rng), Q = random_tensor(10, 3, rng);
  Tensor y(50, 1);
  for (int i = 0; i < 50; ++i) y.at<float>(i, 0) = static_cast<float>(i % 3) * 2.5f;
  KNeighborsOptions manhattan;
  manhattan.p = 1.0;  // the metric is part of the model (version 3)
  KNeighborsClassifier knn(manhattan, b());
  knn.fit(X, y);
  std::stringstream s;
  knn.save(s);
  KNeighborsClassifier back = KNeighborsClassifier::load(s, b());
  EXPECT_EQ(back.options().p, 1.0);
  const Tensor p1 = knn.predict(Q), p2 = back.predict(Q);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(p1.at<float>(i, 0), p2.at<float>(i, 0));
  const Neighbors n1 = knn.kneighbors(Q), n2 = back.kneighbors(Q);
  for (int i = 0; i < n1.distances.numel(); ++i) {
    EXPECT_EQ(n1.distances.data<float>()[i], n2.distances.data<float>()[i]);
  }
  EXPECT_EQ(back.classes(), knn.classes());

  KNeighborsRegressor reg({}, b());
  reg.fit(X, y);
  std::stringstream s2;
  reg.save(s2);
  KNeighborsRegressor rback = KNeighborsRegressor::load(s2, b());
  const Tensor r1 = reg.predict(Q), r2 = rback.predict(Q);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(r1.at<float>(i, 0), r2.at<float>(i, 0));
  // A classifier file is not a regressor.
  std::stringstream s3;
  knn.save(s3);
  EXPECT_THROW(KNeighborsRegressor::load(s3, b()), Error);
}

TEST_P(KnnTest, BadInput) {
  KNeighborsOptions o;
  o.n_neighbors = 0;
  EXPECT_THROW(KNeighborsClassifier(o, b()), Error);
  o.n_neighbors = 3;
  o.weights = "gaussian";
  EXPECT_THROW(KNeighborsClassifier(o, b()), Error);
  o.weights = "uniform";
  KNeighborsClassifier knn(o, b());
  EXPECT_THROW(knn.predict(line_X()), Error);  // not fitted
  // n_neighbors > n_samples.
  EXPECT_THROW(knn.fit(column_of({1, 2}), column_of({0, 1})), Error);
  // Mismatched lengths, NaN, empty.
  EXPECT_THROW(knn.fit(line_X(), column_of({0, 1, 0})), Error);
  Tensor bad = line_X();
  bad.at<float>(2, 0) = std::nanf("");
  EXPECT_THROW(knn.fit(bad, column_of({0, 0, 0, 1, 1, 1})), Error);
  EXPECT_THROW(knn.fit(Tensor(0, 1), Tensor(0, 1)), Error);
  knn.fit(line_X(), column_of({0, 0, 0, 1, 1, 1}));
  EXPECT_THROW(knn.predict(Tensor(2, 3)), Error);             // wrong n_features
  EXPECT_THROW(knn.kneighbors(column_of({1.0f}), 7), Error);  // k > n_samples_fit
}

INSTANTIATE_TEST_SUITE_P(AllBackends, KnnTest, ::testing::ValuesIn(all_backends()),
                         backend_param_name);

}  // namespace
}  // namespace mlcore::test

namespace mlcore::test {

// The label encoding every classifier uses: the sorted distinct labels and each sample's index
// into them, against a plain sort-and-unique reference. Few classes take the incremental path,
// more than 256 distinct values the full sort; the labels are arbitrary floats, negative and
// fractional, in random order.
TEST(LabelEncoding, MatchesSortAndUniqueForFewAndManyClasses) {
  std::mt19937 rng(7);
  for (const int distinct : {1, 2, 3, 10, 256, 257, 5000}) {
    const std::int64_t n = 20000;
    std::vector<float> pool(distinct);
    for (int c = 0; c < distinct; ++c) pool[c] = -50.0f + 0.25f * float(c * 7 % 1999) + c * 1e-3f;
    Tensor y(n, 1);
    std::uniform_int_distribution<int> pick(0, distinct - 1);
    for (std::int64_t i = 0; i < n; ++i) y.at<float>(i, 0) = pool[pick(rng)];
    const detail::LabelEncoding enc = detail::encode_labels(y, "test", 1);

    std::vector<double> want(y.data<float>(), y.data<float>() + n);
    std::sort(want.begin(), want.end());
    want.erase(std::unique(want.begin(), want.end()), want.end());
    ASSERT_EQ(enc.classes, want) << distinct << " distinct labels";
    ASSERT_EQ(static_cast<std::int64_t>(enc.code.size()), n);
    for (std::int64_t i = 0; i < n; ++i) {
      ASSERT_EQ(enc.classes[enc.code[i]], double(y.at<float>(i, 0))) << "sample " << i;
    }
  }
  Tensor one_class(5, 1);
  for (std::int64_t i = 0; i < 5; ++i) one_class.at<float>(i, 0) = 3.0f;
  EXPECT_THROW(detail::encode_labels(one_class, "test", 2), Error);
}

}  // namespace mlcore::test
