// KMeans on hand-checkable data on every backend: known centres from given seeds, k-means++
// and random starts, empty-cluster relocation, weights, determinism, save/load, bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "mlcore/algorithms/cluster/kmeans.hpp"
#include "test_util.hpp"

namespace mlcore::test {
namespace {

// Four points around (0, 0) and four around (10, 10): the corners of two unit squares.
Tensor two_squares() {
  const float v[8][2] = {{0, 0}, {1, 0}, {0, 1}, {1, 1}, {10, 10}, {11, 10}, {10, 11}, {11, 11}};
  Tensor X(8, 2);
  for (int i = 0; i < 8; ++i) {
    X.at<float>(i, 0) = v[i][0];
    X.at<float>(i, 1) = v[i][1];
  }
  return X;
}

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

class KMeansTest : public BackendTest {
 protected:
  BackendPtr b() const { return backend(GetParam()); }
  // The systolic array's int8 distances are approximate: looser checks of the values there.
  double rtol() const { return test::quantized(GetParam()) ? 0.05 : 1e-5; }
};

TEST_P(KMeansTest, ConvergesToTheTwoSquaresFromGivenCentres) {
  KMeansOptions o;
  o.n_clusters = 2;
  o.init = "array";
  o.init_centers = rows_of({{0, 0}, {1, 1}});  // both in the first square
  KMeans km(o, b());
  km.fit(two_squares());
  // Whatever the start, two clusters: centres (0.5, 0.5) and (10.5, 10.5), inertia 8 · 0.5.
  const Tensor& c = km.cluster_centers();
  const int first = c.at<float>(0, 0) < c.at<float>(1, 0) ? 0 : 1;
  expect_close(c.row_slice(first, first + 1), {0.5, 0.5}, rtol(), 1e-4, "centre 1");
  expect_close(c.row_slice(1 - first, 2 - first), {10.5, 10.5}, rtol(), 1e-4, "centre 2");
  EXPECT_NEAR(km.inertia(), 4.0, 4.0 * rtol() + 1e-4);
  const Tensor& labels = km.labels();
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(labels.at<std::int32_t>(i, 0), i < 4 ? first : 1 - first) << i;
  }
  EXPECT_GE(km.n_iter(), 2);
  // predict / transform / score on new points.
  const Tensor q = rows_of({{0.2f, 0.1f}, {12, 12}});
  const Tensor p = km.predict(q);
  EXPECT_EQ(p.at<std::int32_t>(0, 0), first);
  EXPECT_EQ(p.at<std::int32_t>(1, 0), 1 - first);
  const Tensor t = km.transform(rows_of({{0.5f, 0.5f}}));
  EXPECT_NEAR(t.at<float>(0, first), 0.0, 0.05);
  EXPECT_NEAR(t.at<float>(0, 1 - first), 10.0 * std::sqrt(2.0), 10.0 * std::sqrt(2.0) * rtol());
  EXPECT_NEAR(km.score(two_squares()), -4.0, 4.0 * rtol() + 1e-4);
}

TEST_P(KMeansTest, VerboseLogsEachIterationsInertiaAndWhyItStopped) {
  // Two runs from random starts: each logs its start, one inertia per iteration (never
  // increasing: Lloyd's steps only lower it) and its stop; the kept run's inertia is the
  // fit's. Without verbose nothing is kept.
  KMeansOptions o;
  o.n_clusters = 2;
  o.init = "random";
  o.n_init = 2;
  o.verbose = true;
  o.tol = 0.0;  // stop on stable labels: "strict convergence"
  KMeans km(o, b());
  km.fit(two_squares());
  const std::vector<std::string>& log = km.fit_log();
  int starts = 0, stops = 0;
  double last = 1e300;
  for (const std::string& line : log) {
    if (line == "Initialization complete") {
      ++starts;
      last = 1e300;
    } else if (line.rfind("Iteration ", 0) == 0) {
      const double inertia = std::stod(line.substr(line.find("inertia ") + 8));
      EXPECT_LE(inertia, last * (1 + rtol())) << line;
      last = inertia;
    } else {
      EXPECT_NE(line.find("strict convergence"), std::string::npos) << line;
      ++stops;
    }
  }
  EXPECT_EQ(starts, 2);
  EXPECT_EQ(stops, 2);
  o.verbose = false;
  KMeans quiet(o, b());
  quiet.fit(two_squares());
  EXPECT_TRUE(quiet.fit_log().empty());
  o.tol = 1e3;  // a huge tolerance: the first shift is within it
  o.verbose = true;
  KMeans loose(o, b());
  loose.fit(two_squares());
  EXPECT_NE(loose.fit_log().back().find("within tolerance"), std::string::npos);
}

TEST_P(KMeansTest, SeedingsFindTheSquares) {
  for (const char* init : {"k-means++", "random"}) {
    KMeansOptions o;
    o.n_clusters = 2;
    o.init = init;
    o.random_state = 5;
    KMeans km(o, b());
    km.fit(two_squares());
    EXPECT_NEAR(km.inertia(), 4.0, 4.0 * rtol() + 1e-4) << init;
    // Same seed → the same result (same backend).
    KMeans again(o, b());
    again.fit(two_squares());
    EXPECT_EQ(again.inertia(), km.inertia()) << init;
    for (int i = 0; i < 8; ++i) {
      EXPECT_EQ(again.labels().at<std::int32_t>(i, 0), km.labels().at<std::int32_t>(i, 0));
    }
  }
}

TEST_P(KMeansTest, EmptyClusterIsMovedToTheFarthestPoint) {
  // Start a third centre far from every sample: it gets no sample in the first E-step and is
  // moved to the sample farthest from its centre; the result has three non-empty clusters.
  KMeansOptions o;
  o.n_clusters = 3;
  o.init = "array";
  o.init_centers = rows_of({{0.5f, 0.5f}, {10.5f, 10.5f}, {100, -100}});
  Tensor X = rows_of({{0, 0}, {1, 0}, {0, 1}, {1, 1}, {10, 10}, {11, 10}, {10, 11}, {14, 14}});
  KMeans km(o, b());
  km.fit(X);
  std::vector<int> count(3, 0);
  for (int i = 0; i < 8; ++i) ++count[km.labels().at<std::int32_t>(i, 0)];
  for (int j = 0; j < 3; ++j) EXPECT_GT(count[j], 0) << "cluster " << j;
  // (14, 14) is the farthest from its centre: it becomes a cluster of its own.
  EXPECT_EQ(count[km.labels().at<std::int32_t>(7, 0)], 1);
  EXPECT_EQ(km.labels().at<std::int32_t>(7, 0), 2);
}

TEST_P(KMeansTest, SampleWeightsPullTheCentre) {
  KMeansOptions o;
  o.n_clusters = 1;
  KMeans km(o, b());
  const Tensor X = rows_of({{0, 0}, {4, 0}});
  Tensor w(2, 1);
  w.at<float>(0, 0) = 3.0f;
  w.at<float>(1, 0) = 1.0f;
  km.fit(X, w);
  expect_close(km.cluster_centers(), {1.0, 0.0}, rtol(), 0.05, "weighted mean");
  // inertia = 3·1² + 1·3² = 12
  EXPECT_NEAR(km.inertia(), 12.0, 12.0 * rtol() + 1e-3);
}

TEST_P(KMeansTest, LargerRandomProblemIsDeterministicAndNoWorseThanItsStart) {
  std::mt19937 rng(11);
  const Tensor X = random_tensor(3000, 6, rng);
  KMeansOptions o;
  o.n_clusters = 16;
  o.random_state = 3;
  KMeans a(o, b()), c(o, b());
  a.fit(X);
  c.fit(X);
  EXPECT_EQ(a.inertia(), c.inertia());
  EXPECT_EQ(a.n_iter(), c.n_iter());
  // The inertia matches a float64 recomputation from the returned centres and labels.
  double ref = 0.0;
  for (int i = 0; i < 3000; ++i) {
    const int l = a.labels().at<std::int32_t>(i, 0);
    for (int p = 0; p < 6; ++p) {
      const double diff = double(X.at<float>(i, p)) - a.cluster_centers().at<float>(l, p);
      ref += diff * diff;
    }
  }
  EXPECT_NEAR(a.inertia(), ref, ref * (test::quantized(GetParam()) ? 0.03 : 1e-4));
  // A Lloyd step never increases the objective: the fit beats its own random start.
  KMeansOptions one = o;
  one.max_iter = 1;
  KMeans start(one, b());
  start.fit(X);
  EXPECT_LE(a.inertia(), start.inertia() * (1 + rtol()));
}

TEST_P(KMeansTest, SaveLoadRoundTrip) {
  KMeansOptions o;
  o.n_clusters = 2;
  o.random_state = 1;
  KMeans km(o, b());
  km.fit(two_squares());
  std::stringstream s;
  km.save(s);
  KMeans back = KMeans::load(s, b());
  EXPECT_EQ(back.inertia(), km.inertia());
  const Tensor q = rows_of({{0.2f, 0.1f}, {12, 12}, {5, 5.5f}});
  const Tensor p1 = km.predict(q), p2 = back.predict(q);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(p1.at<std::int32_t>(i, 0), p2.at<std::int32_t>(i, 0));
}

TEST_P(KMeansTest, BadInput) {
  KMeansOptions o;
  o.n_clusters = 0;
  EXPECT_THROW(KMeans(o, b()), Error);
  o.n_clusters = 3;
  o.init = "kmeans";
  EXPECT_THROW(KMeans(o, b()), Error);
  o.init = "array";
  o.init_centers = rows_of({{0, 0}, {1, 1}});  // 2 rows for 3 clusters
  EXPECT_THROW(KMeans(o, b()), Error);
  o.init = "k-means++";
  o.max_iter = 0;
  EXPECT_THROW(KMeans(o, b()), Error);
  o.max_iter = 300;
  o.tol = -1;
  EXPECT_THROW(KMeans(o, b()), Error);
  o.tol = 1e-4;
  KMeans km(o, b());
  EXPECT_THROW(km.predict(two_squares()), Error);  // not fitted
  EXPECT_THROW(km.cluster_centers(), Error);
  EXPECT_THROW(km.fit(rows_of({{0, 0}, {1, 1}})), Error);  // n_clusters > n_samples
  Tensor bad = two_squares();
  bad.at<float>(3, 1) = std::numeric_limits<float>::infinity();
  EXPECT_THROW(km.fit(bad), Error);
  Tensor w(8, 1);
  w.at<float>(0, 0) = -1.0f;
  EXPECT_THROW(km.fit(two_squares(), w), Error);             // negative weight
  EXPECT_THROW(km.fit(two_squares(), Tensor(3, 1)), Error);  // wrong length
  km.fit(two_squares());
  EXPECT_THROW(km.predict(Tensor(2, 3)), Error);  // wrong n_features
  o.init = "array";
  o.init_centers = rows_of({{0, 0, 0}, {1, 1, 1}, {2, 2, 2}});
  KMeans wrong_d(o, b());
  EXPECT_THROW(wrong_d.fit(two_squares()), Error);  // init has 3 features, X 2
}

INSTANTIATE_TEST_SUITE_P(AllBackends, KMeansTest, ::testing::ValuesIn(all_backends()),
                         backend_param_name);

}  // namespace
}  // namespace mlcore::test
