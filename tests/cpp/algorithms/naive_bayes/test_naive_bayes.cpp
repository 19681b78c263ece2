// GaussianNB and MultinomialNB on hand-checkable data, on every backend: class statistics, the
// GEMM scores against the textbook formulas, hard (constant-within-class) features, save/load
// and bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <sstream>
#include <vector>

#include "mlcore/algorithms/naive_bayes/naive_bayes.hpp"
#include "test_util.hpp"

namespace mlcore::test {
namespace {

Tensor from_rows(std::int64_t rows, std::int64_t cols, std::initializer_list<float> values) {
  Tensor t(rows, cols);
  std::int64_t i = 0;
  for (float v : values) t.data<float>()[i++] = v;
  return t;
}

// Two classes of 1-D data: class 0 = {1, 2, 3} (mean 2, var 2/3), class 1 = {10, 12}
// (mean 11, var 1).
Tensor two_X() { return from_rows(5, 1, {1, 2, 3, 10, 12}); }
Tensor two_y() { return from_rows(5, 1, {0, 0, 0, 1, 1}); }

class NaiveBayesTest : public BackendTest {
 protected:
  BackendPtr b() const { return backend(GetParam()); }
  bool exact() const { return !test::quantized(GetParam()); }
};

TEST_P(NaiveBayesTest, GaussianStatisticsAndScores) {
  GaussianNBOptions o;
  o.var_smoothing = 0.0;
  GaussianNB nb(o, b());
  nb.fit(two_X(), two_y());
  expect_close(nb.theta(), {2.0, 11.0}, 1e-6, 1e-6, "theta");
  expect_close(nb.var(), {2.0 / 3.0, 1.0}, 1e-5, 1e-6, "var");
  expect_close(nb.class_prior(), {0.6, 0.4}, 1e-6, 0.0, "class_prior");
  expect_close(nb.class_count(), {3.0, 2.0}, 0.0, 0.0, "class_count");
  // jll(x) = log prior − ½ log(2πσ²) − (x − μ)²/(2σ²), by hand at x = 4.
  auto jll = [](double x, double prior, double mu, double var) {
    return std::log(prior) - 0.5 * std::log(2 * M_PI * var) - (x - mu) * (x - mu) / (2 * var);
  };
  const double j0 = jll(4, 0.6, 2, 2.0 / 3.0), j1 = jll(4, 0.4, 11, 1.0);
  const Tensor got = nb.predict_joint_log_proba(from_rows(1, 1, {4}));
  expect_close(got, {j0, j1}, exact() ? 1e-4 : 0.03, exact() ? 1e-3 : 1.0, "joint log proba");
  const double p1 = 1.0 / (1.0 + std::exp(j0 - j1));
  expect_close(nb.predict_proba(from_rows(1, 1, {4})), {1 - p1, p1}, 0.0, exact() ? 1e-5 : 1e-2,
               "predict_proba");
  const Tensor pred = nb.predict(from_rows(3, 1, {0, 6, 20}));
  EXPECT_EQ(pred.at<float>(0, 0), 0.0f);
  EXPECT_EQ(pred.at<float>(1, 0), 0.0f);  // nearer class 1's mean, but its σ is no wider
  EXPECT_EQ(pred.at<float>(2, 0), 1.0f);
}

TEST_P(NaiveBayesTest, GaussianPriorsAndSmoothing) {
  GaussianNBOptions o;
  o.priors = {0.1, 0.9};
  o.var_smoothing = 0.5;
  GaussianNB nb(o, b());
  nb.fit(two_X(), two_y());
  // epsilon = 0.5 × var(X) over all samples; the prior is the one given.
  const double mean = (1 + 2 + 3 + 10 + 12) / 5.0;
  double var = 0;
  for (double x : {1, 2, 3, 10, 12}) var += (x - mean) * (x - mean) / 5.0;
  EXPECT_NEAR(nb.epsilon(), 0.5 * var, exact() ? 1e-4 : 0.05 * var);
  expect_close(nb.class_prior(), {0.1, 0.9}, 1e-6, 0.0, "given priors");
}

TEST_P(NaiveBayesTest, GaussianHardFeatureIsAConstraint) {
  // Feature 1 is 0 in every class-0 sample (a digit's blank pixel): its class-0 variance is
  // var_smoothing·max var, tiny. A query with ink there cannot be class 0; one without can.
  const Tensor X = from_rows(6, 2, {0, 0, 1, 0, 2, 0, 0, 3, 1, 5, 2, 4});
  const Tensor y = from_rows(6, 1, {0, 0, 0, 1, 1, 1});
  GaussianNB nb({}, b());
  nb.fit(X, y);
  const Tensor pred = nb.predict(from_rows(2, 2, {1, 0, 1, 1}));
  EXPECT_EQ(pred.at<float>(0, 0), 0.0f);
  EXPECT_EQ(pred.at<float>(1, 0), 1.0f);
  if (exact()) {
    // The class-0 score of the blank query is finite and moderate: the huge terms cancelled.
    const Tensor jll = nb.predict_joint_log_proba(from_rows(1, 2, {1, 0}));
    EXPECT_GT(jll.at<float>(0, 0), -50.0f);
  }
}

TEST_P(NaiveBayesTest, GaussianWideWeightRangePredictsLikeFloat64) {
  // Three classes, 6 features, 301 samples (an awkward size). Class 0 is constant at 2.5 on
  // feature 0 (a "hard" pair: precision ~1/var_smoothing) and class 1 has a tight spread
  // (sd 0.02) around 3 on feature 1, next to ordinary features with sd ~1: weights that span
  // ~1e9 within a class. Predictions must match the float64 formula on the fitted statistics
  // (on the int8 array too: centring on the tightest class, and the magnitude bands the
  // systolic gemm makes of wide-range weights, keep the ordinary weights from rounding to 0).
  std::mt19937 rng(21);
  std::normal_distribution<double> z(0.0, 1.0);
  const std::int64_t n = 301, d = 6, K = 3;
  Tensor X(n, d), y(n, 1);
  for (std::int64_t i = 0; i < n; ++i) {
    const int k = static_cast<int>(i % K);
    y.at<float>(i, 0) = static_cast<float>(k);
    for (std::int64_t j = 0; j < d; ++j) {
      double v = 0.8 * k * (j % 2 == 0 ? 1.0 : -1.0) + z(rng);
      if (j == 0 && k == 0) v = 2.5;
      if (j == 1 && k == 1) v = 3.0 + 0.02 * z(rng);
      X.at<float>(i, j) = static_cast<float>(v);
    }
  }
  GaussianNB nb({}, b());
  nb.fit(X, y);
  // Test points: fresh samples of each class (class 0 exactly at its constant).
  Tensor Q(90, d);
  std::vector<int> want(90);
  for (std::int64_t i = 0; i < 90; ++i) {
    const int k = static_cast<int>(i % K);
    for (std::int64_t j = 0; j < d; ++j) {
      double v = 0.8 * k * (j % 2 == 0 ? 1.0 : -1.0) + z(rng);
      if (j == 0 && k == 0) v = 2.5;
      if (j == 1 && k == 1) v = 3.0 + 0.02 * z(rng);
      Q.at<float>(i, j) = static_cast<float>(v);
    }
    double best = -INFINITY;
    for (int c = 0; c < K; ++c) {
      double jll = std::log(double(nb.class_prior().at<float>(0, c)));
      for (std::int64_t j = 0; j < d; ++j) {
        const double var = nb.var().at<float>(c, j), mu = nb.theta().at<float>(c, j);
        const double x = Q.at<float>(i, j);
        jll -= 0.5 * (std::log(2 * M_PI * var) + (x - mu) * (x - mu) / var);
      }
      if (jll > best) best = jll, want[i] = c;
    }
  }
  const Tensor pred = nb.predict(Q);
  int same = 0;
  for (std::int64_t i = 0; i < 90; ++i) same += pred.at<float>(i, 0) == float(want[i]) ? 1 : 0;
  EXPECT_GE(same, exact() ? 90 : 87) << "of 90";
}

TEST_P(NaiveBayesTest, MultinomialCountsAndScores) {
  // Word counts of 3 documents over 3 words; classes 5 and 6.
  const Tensor X = from_rows(3, 3, {2, 1, 0, 3, 0, 1, 0, 1, 4});
  const Tensor y = from_rows(3, 1, {5, 5, 6});
  MultinomialNB nb({}, b());
  nb.fit(X, y);
  EXPECT_EQ(nb.classes(), (std::vector<double>{5, 6}));
  expect_close(nb.feature_count(), {5, 1, 1, 0, 1, 4}, 0.0, 0.0, "feature_count");
  // log θ with Laplace smoothing: class 5 counts 5,1,1 (+1 each) over 10; class 6: 0,1,4 over 8.
  expect_close(nb.feature_log_prob(),
               {std::log(0.6), std::log(0.2), std::log(0.2), std::log(1.0 / 8), std::log(2.0 / 8),
                std::log(5.0 / 8)},
               1e-6, 1e-6, "feature_log_prob");
  expect_close(nb.class_log_prior(), {std::log(2.0 / 3), std::log(1.0 / 3)}, 1e-6, 1e-6,
               "class_log_prior");
  const Tensor q = from_rows(1, 3, {1, 0, 2});
  const double j5 = std::log(2.0 / 3) + std::log(0.6) + 2 * std::log(0.2);
  const double j6 = std::log(1.0 / 3) + std::log(1.0 / 8) + 2 * std::log(5.0 / 8);
  expect_close(nb.predict_joint_log_proba(q), {j5, j6}, exact() ? 1e-5 : 0.03, exact() ? 1e-5 : 0.1,
               "joint log proba");
  EXPECT_EQ(nb.predict(q).at<float>(0, 0), j5 > j6 ? 5.0f : 6.0f);
  const Tensor lp = nb.predict_log_proba(q);
  EXPECT_NEAR(std::exp(lp.at<float>(0, 0)) + std::exp(lp.at<float>(0, 1)), 1.0, 1e-5);
}

// partial_fit in batches adds up to fit on all rows: random counts over 7 features, 3 classes,
// batches of 1, a prime and the rest, weighted, dense and sparse; a class first seen in a later
// batch; codes out of range refused.
TEST_P(NaiveBayesTest, MultinomialPartialFitAddsUpToFit) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> count(0, 4), cls(0, 2);
  const std::int64_t n = 41, d = 7;
  Tensor X(n, d), y(n, 1), w(n, 1);
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < d; ++j) X.at<float>(i, j) = float(count(rng));
    // Class 2 only from row 20 on: the first batches have not seen it.
    y.at<float>(i, 0) = float(i < 20 ? cls(rng) % 2 : cls(rng));
    w.at<float>(i, 0) = 0.5f + float(i % 3);
  }
  y.at<float>(40, 0) = 2.0f;
  MultinomialNB whole({}, b());
  whole.fit(X, y, w);
  const std::int64_t cuts[] = {0, 1, 14, 20, n};  // batches of 1, 13, 6 and 21 rows
  MultinomialNB dense({}, b()), sparse({}, b());
  for (int c = 0; c + 1 < 5; ++c) {
    const Tensor Xb = X.row_slice(cuts[c], cuts[c + 1]).clone();
    const Tensor yb = y.row_slice(cuts[c], cuts[c + 1]).clone();
    const Tensor wb = w.row_slice(cuts[c], cuts[c + 1]).clone();
    dense.partial_fit(Xb, yb, 3, wb);
    sparse.partial_fit(csr_from_dense(Xb), yb, 3, wb);
    if (c == 1) {  // class 2 not seen yet: count 0, log prior −inf
      EXPECT_EQ(dense.class_count().at<float>(0, 2), 0.0f);
      EXPECT_TRUE(std::isinf(dense.class_log_prior().at<float>(0, 2)));
    }
  }
  for (const MultinomialNB* m : {&dense, &sparse}) {
    EXPECT_EQ(m->classes(), whole.classes());
    // The sparse counts are an spmm: int8 products on the systolic array.
    const bool approx = m == &sparse && !exact();
    for (std::int64_t e = 0; e < 3 * d; ++e) {
      const float want = whole.feature_count().data<float>()[e];
      EXPECT_NEAR(m->feature_count().data<float>()[e], want, approx ? 0.02 * want + 0.1 : 1e-4)
          << e;
      EXPECT_NEAR(m->feature_log_prob().data<float>()[e], whole.feature_log_prob().data<float>()[e],
                  approx ? 0.03 : 1e-5)
          << e;
    }
    for (std::int64_t k = 0; k < 3; ++k) {
      EXPECT_NEAR(m->class_log_prior().at<float>(0, k), whole.class_log_prior().at<float>(0, k),
                  1e-6);
    }
  }
  EXPECT_THROW(dense.partial_fit(X.row_slice(0, 2).clone(), from_rows(2, 1, {0, 3}), 3),
               Error);  // code 3 of 3 classes
  EXPECT_THROW(dense.partial_fit(X.row_slice(0, 2).clone(), from_rows(2, 1, {0, 0.5f}), 3),
               Error);  // not a code
  EXPECT_THROW(dense.partial_fit(Tensor(2, d + 1), from_rows(2, 1, {0, 1}), 3), Error);
  // A different number of classes starts over (as a first call does).
  dense.partial_fit(X.row_slice(0, 2).clone(), from_rows(2, 1, {0, 1}), 2);
  EXPECT_EQ(dense.classes(), (std::vector<double>{0, 1}));
  EXPECT_EQ(dense.class_count().at<float>(0, 0) + dense.class_count().at<float>(0, 1), 2.0f);
}

// GaussianNB's partial_fit merges the batches' class moments into fit's: means exactly up to
// rounding, variances less epsilon likewise (epsilon comes from the latest batch).
TEST_P(NaiveBayesTest, GaussianPartialFitMergesToFit) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  const std::int64_t n = 53, d = 5;
  Tensor X(n, d), y(n, 1), w(n, 1);
  for (std::int64_t i = 0; i < n; ++i) {
    y.at<float>(i, 0) = float(i % 3);
    for (std::int64_t j = 0; j < d; ++j) {
      X.at<float>(i, j) = normal(rng) * float(j + 1) + (j == 2 ? 100.0f : 0.0f) + y.at<float>(i, 0);
    }
    w.at<float>(i, 0) = 1.0f + float(i % 4);
  }
  GaussianNB whole({}, b()), parts({}, b());
  whole.fit(X, y, w);
  const std::int64_t cuts[] = {0, 1, 18, n};
  for (int c = 0; c < 3; ++c) {
    parts.partial_fit(X.row_slice(cuts[c], cuts[c + 1]).clone(),
                      y.row_slice(cuts[c], cuts[c + 1]).clone(), 3,
                      w.row_slice(cuts[c], cuts[c + 1]).clone());
  }
  for (std::int64_t e = 0; e < 3 * d; ++e) {
    EXPECT_NEAR(parts.theta().data<float>()[e], whole.theta().data<float>()[e],
                1e-4 * (1 + std::abs(whole.theta().data<float>()[e])))
        << e;
    const double vp = parts.var().data<float>()[e] - parts.epsilon();
    const double vw = whole.var().data<float>()[e] - whole.epsilon();
    EXPECT_NEAR(vp, vw, 1e-3 * vw) << e;
  }
  for (std::int64_t k = 0; k < 3; ++k) {
    EXPECT_EQ(parts.class_count().at<float>(0, k), whole.class_count().at<float>(0, k));
    EXPECT_NEAR(parts.class_prior().at<float>(0, k), whole.class_prior().at<float>(0, k), 1e-6);
  }
  if (exact()) {  // int8 scores may flip a borderline sample between two near-equal models
    const Tensor pp = parts.predict(X), pw = whole.predict(X);
    for (std::int64_t i = 0; i < n; ++i) EXPECT_EQ(pp.at<float>(i, 0), pw.at<float>(i, 0)) << i;
  }
  EXPECT_THROW(parts.partial_fit(Tensor(2, d + 1), from_rows(2, 1, {0, 1}), 3), Error);
  EXPECT_THROW(parts.partial_fit(Tensor(2, d), from_rows(2, 1, {0, 7}), 3), Error);
}

TEST_P(NaiveBayesTest, MultinomialPriorOptions) {
  const Tensor X = from_rows(3, 2, {1, 0, 2, 1, 0, 3});
  const Tensor y = from_rows(3, 1, {0, 0, 1});
  MultinomialNBOptions o;
  o.fit_prior = false;
  MultinomialNB uniform(o, b());
  uniform.fit(X, y);
  expect_close(uniform.class_log_prior(), {std::log(0.5), std::log(0.5)}, 1e-6, 0.0, "uniform");
  o.class_prior = {0.25, 0.75};
  MultinomialNB given(o, b());
  given.fit(X, y);
  expect_close(given.class_log_prior(), {std::log(0.25), std::log(0.75)}, 1e-6, 0.0, "given");
}

TEST_P(NaiveBayesTest, SampleWeightsEqualRepeatedSamples) {
  const Tensor w = from_rows(5, 1, {2, 1, 1, 1, 3});
  const Tensor Xr = from_rows(8, 1, {1, 1, 2, 3, 10, 12, 12, 12});
  const Tensor yr = from_rows(8, 1, {0, 0, 0, 0, 1, 1, 1, 1});
  GaussianNB a({}, b()), c({}, b());
  a.fit(two_X(), two_y(), w);
  c.fit(Xr, yr);
  expect_close(a.theta(), {c.theta().at<float>(0, 0), c.theta().at<float>(1, 0)}, 1e-5, 1e-6,
               "weighted theta");
  expect_close(a.var(), {c.var().at<float>(0, 0), c.var().at<float>(1, 0)}, 1e-4, 1e-5,
               "weighted var");
  expect_close(a.class_count(), {4.0, 4.0}, 0.0, 0.0, "weighted class_count");
}

TEST_P(NaiveBayesTest, SaveLoadRoundTrip) {
  GaussianNB g({}, b());
  g.fit(two_X(), two_y());
  std::stringstream s1;
  g.save(s1);
  const GaussianNB g2 = GaussianNB::load(s1, b());
  const Tensor q = from_rows(3, 1, {0, 6, 20});
  const Tensor pa = g.predict_proba(q), pb = g2.predict_proba(q);
  for (std::int64_t i = 0; i < pa.numel(); ++i) EXPECT_EQ(pa.data<float>()[i], pb.data<float>()[i]);

  const Tensor X = from_rows(3, 3, {2, 1, 0, 3, 0, 1, 0, 1, 4});
  const Tensor y = from_rows(3, 1, {5, 5, 6});
  MultinomialNB m({}, b());
  m.fit(X, y);
  std::stringstream s2;
  m.save(s2);
  const MultinomialNB m2 = MultinomialNB::load(s2, b());
  EXPECT_EQ(m2.classes(), m.classes());
  const Tensor ja = m.predict_joint_log_proba(X), jb = m2.predict_joint_log_proba(X);
  for (std::int64_t i = 0; i < ja.numel(); ++i) EXPECT_EQ(ja.data<float>()[i], jb.data<float>()[i]);
  std::stringstream s3;
  m.save(s3);
  EXPECT_THROW(GaussianNB::load(s3, b()), Error);
}

TEST_P(NaiveBayesTest, BadInput) {
  GaussianNB g({}, b());
  EXPECT_THROW(g.predict(two_X()), Error);
  {  // one class is allowed (scikit-learn's rule): every prediction is it
    GaussianNB one({}, b());
    one.fit(two_X(), from_rows(5, 1, {1, 1, 1, 1, 1}));
    const Tensor p = one.predict(two_X());
    for (std::int64_t i = 0; i < p.numel(); ++i) EXPECT_EQ(p.data<float>()[i], 1.0f);
  }
  EXPECT_THROW(g.fit(two_X(), from_rows(4, 1, {0, 0, 1, 1})), Error);  // length
  Tensor Xn = two_X().clone();
  Xn.at<float>(1, 0) = INFINITY;
  EXPECT_THROW(g.fit(Xn, two_y()), Error);
  GaussianNBOptions o;
  o.priors = {0.5, 0.6};
  EXPECT_THROW(GaussianNB(o, b()).fit(two_X(), two_y()), Error);  // sum ≠ 1
  o.priors = {1.0};
  EXPECT_THROW(GaussianNB(o, b()).fit(two_X(), two_y()), Error);  // length
  o = {};
  o.var_smoothing = -1;
  EXPECT_THROW(GaussianNB(o, b()), Error);
  g.fit(two_X(), two_y());
  EXPECT_THROW(g.predict(Tensor(2, 3)), Error);  // wrong n_features

  MultinomialNB m({}, b());
  EXPECT_THROW(m.fit(from_rows(2, 1, {1, -1}), from_rows(2, 1, {0, 1})), Error);  // negative
  MultinomialNBOptions mo;
  mo.alpha = -1;
  EXPECT_THROW(MultinomialNB(mo, b()), Error);
}

INSTANTIATE_TEST_SUITE_P(Backends, NaiveBayesTest, ::testing::ValuesIn(all_backends()),
                         backend_param_name);

}  // namespace
}  // namespace mlcore::test
