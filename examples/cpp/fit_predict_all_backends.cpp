// Fits and predicts with two algorithms — k-means and k-nearest neighbours — on every backend
// available here, and prints what each backend's hardware did (its profile).
//   usage: fit_predict_all_backends [n_samples]      (default 3000)
#include <cstdio>
#include <cstdlib>
#include <mlcore/algorithms/cluster/kmeans.hpp>
#include <mlcore/algorithms/neighbors/knn.hpp>
#include <mlcore/mlcore.hpp>
#include <random>

namespace {

// Gaussian blobs: `centers` clusters in `dims` dimensions; y holds each sample's cluster.
void make_blobs(std::int64_t n, std::int64_t dims, int centers, mlcore::Tensor& X,
                mlcore::Tensor& y, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0.0f, 1.0f);
  std::uniform_real_distribution<float> where(-8.0f, 8.0f);
  mlcore::Tensor means(centers, dims);
  for (std::int64_t i = 0; i < means.numel(); ++i) means.data<float>()[i] = where(rng);
  X = mlcore::Tensor(n, dims);
  y = mlcore::Tensor(n, 1);
  for (std::int64_t i = 0; i < n; ++i) {
    const int c = static_cast<int>(i % centers);
    y.at<float>(i, 0) = static_cast<float>(c);
    for (std::int64_t j = 0; j < dims; ++j) X.at<float>(i, j) = means.at<float>(c, j) + noise(rng);
  }
}

void print_profile(const char* what, const mlcore::Profile& profile) {
  const mlcore::OpTotals t = profile.total();
  std::printf("    %-8s %4lld calls %12.3e MACs %12.3e bytes %10.3g s (%s)", what,
              (long long)t.calls, (double)t.macs, (double)(t.bytes_read + t.bytes_written),
              t.seconds, t.cycles ? "simulated" : "measured");
  if (t.cycles) std::printf(" %lld cycles %.2e J", (long long)t.cycles, t.energy_joules);
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  const std::int64_t n = argc > 1 ? std::atoll(argv[1]) : 3000;
  if (n < 20) {
    std::fprintf(stderr, "n_samples must be at least 20\n");
    return 2;
  }
  mlcore::Tensor X_train, y_train, X_test, y_test;
  make_blobs(n, 16, 5, X_train, y_train, 1);
  make_blobs(n / 4, 16, 5, X_test, y_test, 1);  // same centres (same seed), fresh noise below
  for (std::int64_t i = 0; i < X_test.numel(); ++i) X_test.data<float>()[i] += 0.01f * (i % 7);

  for (const std::string& name : mlcore::available_backends()) {
    mlcore::BackendPtr b = mlcore::backend(name);
    std::printf("%s (%s)\n", name.c_str(), b->description().c_str());

    mlcore::KMeansOptions km_options;
    km_options.n_clusters = 5;
    km_options.random_state = 0;
    mlcore::KMeans kmeans(km_options, b);
    kmeans.fit(X_train);
    std::printf("  k-means: inertia %.1f after %lld iterations\n", kmeans.inertia(),
                (long long)kmeans.n_iter());
    print_profile("fit", kmeans.profile());

    mlcore::KNeighborsClassifier knn({}, b);
    knn.fit(X_train, y_train);
    mlcore::Tensor predicted = knn.predict(X_test);
    std::int64_t correct = 0;
    for (std::int64_t i = 0; i < X_test.rows(); ++i) {
      correct += predicted.at<float>(i, 0) == y_test.at<float>(i, 0);
    }
    std::printf("  kNN: accuracy %.4f on %lld test samples\n",
                double(correct) / double(X_test.rows()), (long long)X_test.rows());
    print_profile("predict", knn.profile());
  }
  return 0;
}
