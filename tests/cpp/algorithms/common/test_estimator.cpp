// What every estimator shares (src/algorithms/common/estimator.cpp): one visit() per model that
// both saves and loads it, the same behaviour before fit, and require_fitted. Each estimator,
// unfitted and fitted, goes through save → load → save: the second file must equal the first
// byte for byte (the visit wrote and read every field in the same order), and the loaded model
// must answer as the original. Old files of each model's earlier versions are checked by
// tests/python/test_saved_formats.py.
#include <sstream>
#include <string>

#include "mlcore/algorithms/cluster/kmeans.hpp"
#include "mlcore/algorithms/decomposition/pca.hpp"
#include "mlcore/algorithms/linear/linear_regression.hpp"
#include "mlcore/algorithms/linear/logistic_regression.hpp"
#include "mlcore/algorithms/naive_bayes/naive_bayes.hpp"
#include "mlcore/algorithms/neighbors/knn.hpp"
#include "mlcore/algorithms/svm/svm.hpp"
#include "mlcore/algorithms/trees/forest.hpp"
#include "mlcore/algorithms/trees/gradient_boosting.hpp"
#include "mlcore/algorithms/trees/tree.hpp"
#include "test_util.hpp"

namespace mlcore::test {
namespace {

std::string saved(const Estimator& model) {
  std::ostringstream out;
  model.save(out);
  return out.str();
}

struct Data {
  Tensor X, classes, targets;
};

Data make_data() {
  std::mt19937 rng(7);
  Data d{random_tensor(48, 4, rng, 0.0f, 1.0f), Tensor(48, 1, DType::f32),
         Tensor(48, 1, DType::f32)};
  for (std::int64_t i = 0; i < 48; ++i) {
    const float* x = d.X.data<float>() + i * 4;
    d.classes.data<float>()[i] = static_cast<float>(i % 3);
    d.targets.data<float>()[i] = 2 * x[0] - x[1] + 0.5f * x[2];
  }
  return d;
}

// The output of `query` (predict, or transform): its description and bytes, to compare two
// models exactly (same arithmetic on the same parameters).
template <class Model, class Query>
std::string answers(const Model& m, const Tensor& X, Query query) {
  const Tensor out = query(m, X);
  return out.describe() + std::string(static_cast<const char*>(out.raw()), out.size_bytes());
}

template <class Model, class Fit, class Query>
void check_round_trips(Model model, Fit fit, Query query) {
  SCOPED_TRACE(model.name());
  const Data d = make_data();
  // Before fit: saving works for every model and gives back an unfitted one with the options.
  ASSERT_FALSE(model.fitted());
  const std::string unfitted = saved(model);
  std::istringstream in(unfitted);
  const Model back = Model::load(in, backend("scalar"));
  EXPECT_FALSE(back.fitted());
  EXPECT_EQ(saved(back), unfitted);
  try {
    query(back, d.X);
    ADD_FAILURE() << "a loaded unfitted model answered a query";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(std::string(model.name()) + " is not fitted yet"),
              std::string::npos)
        << e.what();
  }
  // After fit: the same answers from the loaded model, and the same bytes again.
  fit(model, d);
  ASSERT_TRUE(model.fitted());
  const std::string fitted = saved(model);
  EXPECT_NE(fitted, unfitted);
  std::istringstream in2(fitted);
  const Model loaded = Model::load(in2, backend("scalar"));
  EXPECT_TRUE(loaded.fitted());
  EXPECT_EQ(saved(loaded), fitted);
  EXPECT_EQ(answers(loaded, d.X, query), answers(model, d.X, query));
}

const auto classify = [](auto& m, const Data& d) { m.fit(d.X, d.classes); };
const auto regress = [](auto& m, const Data& d) { m.fit(d.X, d.targets); };
const auto predict = [](const auto& m, const Tensor& X) { return m.predict(X); };

TEST(EstimatorPersistence, EveryEstimatorRoundTripsUnfittedAndFitted) {
  const BackendPtr b = backend("scalar");
  check_round_trips(LinearRegression({false}, b), regress, predict);
  check_round_trips(Ridge({0.25, true}, b), regress, predict);
  LogisticRegressionOptions logistic;
  logistic.C = 0.5;
  logistic.class_weight = {{1.0, 2.0}};
  check_round_trips(LogisticRegression(logistic, b), classify, predict);
  LinearSVCOptions linear_svc;
  linear_svc.C = 2.0;
  check_round_trips(LinearSVC(linear_svc, b), classify, predict);
  SVCOptions svc;
  svc.kernel = "poly";
  svc.degree = 2;
  check_round_trips(SVC(svc, b), classify, predict);
  check_round_trips(GaussianNB({}, b), classify, predict);
  check_round_trips(MultinomialNB({}, b), classify, predict);
  KNeighborsOptions knn;
  knn.n_neighbors = 3;
  knn.weights = "distance";
  check_round_trips(KNeighborsClassifier(knn, b), classify, predict);
  check_round_trips(KNeighborsRegressor(knn, b), regress, predict);
  KMeansOptions kmeans;
  kmeans.n_clusters = 3;
  kmeans.random_state = 5;
  check_round_trips(KMeans(kmeans, b), [](KMeans& m, const Data& d) { m.fit(d.X); }, predict);
  PCAOptions pca;
  pca.n_components = 2;
  pca.whiten = true;
  check_round_trips(
      PCA(pca, b), [](PCA& m, const Data& d) { m.fit(d.X); },
      [](const PCA& m, const Tensor& X) { return m.transform(X); });
  DecisionTreeClassifierOptions tree_c;
  tree_c.max_depth = 3;
  check_round_trips(DecisionTreeClassifier(tree_c, b), classify, predict);
  DecisionTreeRegressorOptions tree_r;
  tree_r.max_depth = 3;
  check_round_trips(DecisionTreeRegressor(tree_r, b), regress, predict);
  RandomForestClassifierOptions forest_c;
  forest_c.n_estimators = 3;
  forest_c.oob_score = true;
  check_round_trips(RandomForestClassifier(forest_c, b), classify, predict);
  RandomForestRegressorOptions forest_r;
  forest_r.n_estimators = 3;
  check_round_trips(RandomForestRegressor(forest_r, b), regress, predict);
  GradientBoostingOptions boosting;
  boosting.max_iter = 4;
  check_round_trips(GradientBoostingClassifier(boosting, b), classify, predict);
  GradientBoostingOptions boosting_r;
  boosting_r.max_iter = 4;
  boosting_r.loss = "squared_error";
  check_round_trips(GradientBoostingRegressor(boosting_r, b), regress, predict);
}

// A file's options go through the estimator's own checks before any fitted field is read: a
// file whose options the constructor refuses is refused with the constructor's message.
TEST(EstimatorPersistence, LoadedOptionsAreCheckedByTheConstructor) {
  KMeansOptions o;
  o.n_clusters = 3;
  std::string bytes = saved(KMeans(o, backend("scalar")));
  // The payload starts with n_clusters (i64): header = magic 8 + format 4 + type (8 + 6) +
  // model version 4 + payload length 8.
  const std::size_t at = 8 + 4 + 8 + 6 + 4 + 8;
  const std::int64_t bad = -2;
  std::string payload = bytes.substr(at, bytes.size() - at - 8);
  payload.replace(0, 8, reinterpret_cast<const char*>(&bad), 8);
  // Re-hash (FNV-1a, as serialize.cpp) so that only the option is wrong.
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : payload) h = (h ^ c) * 1099511628211ull;
  bytes = bytes.substr(0, at) + payload + std::string(reinterpret_cast<const char*>(&h), 8);
  std::istringstream in(bytes);
  try {
    KMeans::load(in, backend("scalar"));
    FAIL() << "a file with n_clusters = -2 loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("n_clusters must be >= 1, got -2"), std::string::npos)
        << e.what();
  }
}

// ... and the model is built from them by its constructor, which also normalizes them: an empty
// boosting loss (the options' "default") becomes the classifier's "log_loss", as in a fit.
TEST(EstimatorPersistence, LoadedOptionsAreNormalizedByTheConstructor) {
  const GradientBoostingOptions o;  // loss ""
  ModelWriter w("GradientBoostingClassifier", 2);
  w.write_string(o.loss);
  w.write_f64(o.learning_rate);
  for (std::int64_t v : {o.max_iter, o.max_leaf_nodes, o.max_depth, o.min_samples_leaf}) {
    w.write_i64(v);
  }
  w.write_f64(o.l2_regularization);
  w.write_i64(o.max_bins);
  w.write_string(o.early_stopping);
  w.write_string(o.scoring);
  w.write_f64(o.validation_fraction);
  w.write_i64(o.n_iter_no_change);
  w.write_f64(o.tol);
  w.write_i64(static_cast<std::int64_t>(o.random_state));
  w.write_u8(0);  // not fitted
  std::istringstream in(w.finish());
  const GradientBoostingClassifier loaded = GradientBoostingClassifier::load(in, backend("scalar"));
  EXPECT_EQ(loaded.options().loss, "log_loss");
  EXPECT_FALSE(loaded.fitted());
}

}  // namespace
}  // namespace mlcore::test
