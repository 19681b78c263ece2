// KMeans: k-means++ / random / given seeds, then Lloyd iterations of sqdist + argmin_rows +
// scatter_add on the backend (see include/mlcore/algorithms/cluster/kmeans.hpp for the picture).
//
// What runs where: every pass over the n samples is a backend primitive (distances, argmin,
// sums, the k-means++ potentials). The host does O(k·d) work per iteration (dividing sums by
// counts, the centre shift, re-seeding empty clusters) plus two O(n) steps that have no
// primitive: building X̃ = [X − mean | 1] once per fit (a layout step, like packing), and per
// k-means++ centre a prefix sum of the n distances to draw candidates from (a sequential scan).
// Comparing this iteration's labels with the last one's (for strict convergence) reads the
// labels back: free on the CPU backends, n·4 bytes over the bus on a GPU.
#include "mlcore/algorithms/cluster/kmeans.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "algorithms/common/validate.hpp"
#include "mlcore/serialize.hpp"

namespace mlcore {

namespace {

constexpr const char* kName = "KMeans";
// 2: the fitted flag (version 1 files were always fitted); saving works before fit.
constexpr std::uint32_t kModelVersion = 2;

// Rows per distance block: a block of D (rows × k floats) of about 1 MiB stays in a core's L2
// between sqdist writing it and argmin_rows reading it, and is tall enough (thousands of rows
// for tens of clusters) that each call's fixed costs are small.
constexpr std::int64_t kBlockBytes = 1ll << 20;

std::int64_t block_rows(std::int64_t n, std::int64_t k) {
  const std::int64_t rows = kBlockBytes / (k * std::int64_t(sizeof(float)));
  return std::clamp<std::int64_t>(rows, 256, std::max<std::int64_t>(n, 1));
}

// The training data as the Lloyd iterations need them, on the device.
struct Data {
  explicit Data(Backend& backend) : b(backend) {}
  Backend& b;
  std::int64_t n = 0, d = 0;
  Tensor Xa;  // n × (d+1)  [x − mean | 1]: distances (the 1 meets the centres' 1)
  Tensor Xs;  // n × (d+1)  [w·(x − mean) | w]: what scatter_add sums (Xa if unweighted)
  Tensor w;   // n × 1      sample weights (ones if none were given)
  bool weighted = false;
  std::vector<double> w_host;  // the weights, for drawing k-means++ candidates
};

// A host k × (d+1) tensor [C | 1] from k × d centres.
Tensor augment(const Tensor& C) {
  const std::int64_t k = C.rows(), d = C.cols();
  Tensor out(k, d + 1);
  for (std::int64_t j = 0; j < k; ++j) {
    std::memcpy(out.data<float>() + j * (d + 1), C.data<float>() + j * d, d * sizeof(float));
    out.at<float>(j, d) = 1.0f;
  }
  return out;
}

// E-step: labels[i], mind[i] = nearest centre of sample i and its squared distance.
// Ca: device k × (d+1) augmented centres; labels n × 1 i32, mind n × 1 f32, D block × k.
// A backend that fuses the search (sqdist_topk with k = 1) does it in one call, without D.
void assign(const Data& data, const Tensor& Ca, Tensor& labels, Tensor& mind, Tensor& D) {
  if (data.b.fuses_sqdist_topk()) {
    data.b.sqdist_topk(data.Xa, Ca, 1, labels, mind);
    return;
  }
  const std::int64_t n = data.n, block = D.rows();
  for (std::int64_t b0 = 0; b0 < n; b0 += block) {
    const std::int64_t b1 = std::min(n, b0 + block);
    Tensor Db = D.row_slice(0, b1 - b0);
    Tensor lb = labels.row_slice(b0, b1), mb = mind.row_slice(b0, b1);
    data.b.sqdist(data.Xa.row_slice(b0, b1), Ca, Db);  // (b1−b0) × k
    data.b.argmin_rows(Db, lb, mb);
  }
}

// Σ_i w_i · mind_i, summed by reduce_cols (which accumulates in double). Overwrites mind when
// weighted.
double weighted_sum(const Data& data, Tensor& mind) {
  if (data.weighted) data.b.multiply(data.w, mind);
  Tensor total = data.b.empty(1, 1);
  data.b.reduce_cols(Reduce::sum, mind, total);
  return static_cast<double>(data.b.to_host(total).data<float>()[0]);
}

// Index i with probability ∝ weight[i]: the first i whose prefix sum reaches u·total
// (numpy's searchsorted(cumsum, u·total), clipped to the last index against rounding).
std::int64_t draw(const std::vector<double>& prefix, double u) {
  const double target = u * prefix.back();
  const auto it = std::lower_bound(prefix.begin(), prefix.end(), target);
  return std::min<std::int64_t>(it - prefix.begin(), static_cast<std::int64_t>(prefix.size()) - 1);
}

// scikit-learn's greedy k-means++: returns k × d centres (centred coordinates).
Tensor kmeans_plusplus(const Data& data, std::int64_t k, std::mt19937_64& rng) {
  Backend& b = data.b;
  const std::int64_t n = data.n, d = data.d;
  const std::int64_t trials = 2 + static_cast<std::int64_t>(std::log(static_cast<double>(k)));
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<double> prefix(n);
  Tensor centers(k, d);
  const Tensor Xa_host = b.to_host(data.Xa);  // free on CPU backends; one copy on a GPU
  auto take = [&](std::int64_t c, std::int64_t i) {
    std::memcpy(centers.data<float>() + c * d, Xa_host.data<float>() + i * (d + 1),
                d * sizeof(float));
  };

  // The first centre: a sample drawn ∝ its weight.
  double acc = 0.0;
  for (std::int64_t i = 0; i < n; ++i) prefix[i] = acc += data.w_host[i];
  std::int64_t first = draw(prefix, uniform(rng));
  take(0, first);
  Tensor closest = b.empty(1, n);  // 1 × n  distance² of each sample to its nearest centre
  b.sqdist(data.Xa.row_slice(first, first + 1), data.Xa, closest);

  Tensor cand_index_host(trials, 1, DType::i32);
  Tensor Xc = b.empty(trials, d + 1);  // the candidates' rows
  Tensor Dc = b.empty(trials, n);      // trials × n  their distances to every sample
  Tensor T = b.empty(trials, n);
  Tensor pots = b.empty(trials, 1);
  for (std::int64_t c = 1; c < k; ++c) {
    // Draw candidates ∝ w·closest (a prefix sum on the host: a sequential scan of n values).
    const Tensor closest_h = b.to_host(closest);
    acc = 0.0;
    for (std::int64_t i = 0; i < n; ++i) {
      prefix[i] = acc += data.w_host[i] * closest_h.data<float>()[i];
    }
    for (std::int64_t t = 0; t < trials; ++t) {
      cand_index_host.data<std::int32_t>()[t] =
          static_cast<std::int32_t>(draw(prefix, uniform(rng)));
    }
    b.gather_rows(data.Xa, b.to_device(cand_index_host), Xc);
    b.sqdist(Xc, data.Xa, Dc);
    // Dc ← min(Dc, closest) row by row, from the primitives: min(a, c) = a − relu(a − c).
    b.axpby(1.0f, Dc, 0.0f, T);
    b.add_row_vector(-1.0f, closest, T);  // T = Dc − closest (closest broadcast over rows)
    b.map(MapFn::relu, T, T);
    b.axpby(-1.0f, T, 1.0f, Dc);
    // Each candidate's potential Σ_i w_i · min(...), and the best (first lowest) candidate.
    b.gemv(Trans::no, 1.0f, Dc, data.w, 0.0f, pots);
    const Tensor pots_h = b.to_host(pots);
    std::int64_t best = 0;
    for (std::int64_t t = 1; t < trials; ++t) {
      if (pots_h.data<float>()[t] < pots_h.data<float>()[best]) best = t;
    }
    b.axpby(1.0f, Dc.row_slice(best, best + 1), 0.0f, closest);
    take(c, cand_index_host.data<std::int32_t>()[best]);
  }
  return centers;
}

// k distinct samples, drawn ∝ weight (uniformly without weights), as the starting centres.
Tensor random_centers(const Data& data, std::int64_t k, std::mt19937_64& rng) {
  const std::int64_t n = data.n, d = data.d;
  std::vector<double> w = data.w_host;
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<double> prefix(n);
  const Tensor Xa_host = data.b.to_host(data.Xa);
  Tensor centers(k, d);
  std::vector<bool> taken(n, false);
  for (std::int64_t c = 0; c < k; ++c) {
    double acc = 0.0;
    for (std::int64_t i = 0; i < n; ++i) prefix[i] = acc += w[i];
    std::int64_t i = 0;
    if (acc > 0.0) {
      i = draw(prefix, uniform(rng));
      while (w[i] == 0.0) i = (i + 1) % n;  // rounding at the edge of a zero-weight run
    } else {
      // Fewer samples of positive weight than clusters: the rest uniformly among the others.
      // Pick the skip-th sample not taken yet.
      std::int64_t skip = std::uniform_int_distribution<std::int64_t>(0, n - c - 1)(rng);
      for (;; ++i) {
        if (taken[i]) continue;
        if (skip == 0) break;
        --skip;
      }
    }
    w[i] = 0.0;  // without replacement
    taken[i] = true;
    std::memcpy(centers.data<float>() + c * d, Xa_host.data<float>() + i * (d + 1),
                d * sizeof(float));
  }
  return centers;
}

struct Run {
  Tensor centers;  // k × d host, centred coordinates
  Tensor labels;   // n × 1 i32 host
  double inertia = 0.0;
  std::int64_t n_iter = 0;
};

// Lloyd's iterations from `start` (k × d host, centred coordinates).
Run lloyd(const Data& data, const Tensor& start, std::int64_t max_iter, double tol) {
  Backend& b = data.b;
  const std::int64_t n = data.n, d = data.d, k = start.rows();
  Tensor labels = b.empty(n, 1, DType::i32), mind = b.empty(n, 1);
  Tensor D = b.empty(block_rows(n, k), k);
  Tensor S = b.empty(k, d + 1);  // per-cluster [Σ w·x | Σ w]
  Tensor C = start.clone();      // k × d host
  std::vector<std::int32_t> labels_old(n, -1);
  bool strict = false;
  std::int64_t it = 0;
  for (; it < max_iter; ++it) {
    assign(data, b.to_device(augment(C)), labels, mind, D);
    b.fill(S, 0.0f);
    b.scatter_add(labels, data.Xs, S);
    Tensor sums = b.to_host(S).clone();  // k × (d+1)
    const Tensor labels_h = b.to_host(labels);
    const std::int32_t* lab = labels_h.data<std::int32_t>();

    // Empty clusters: give each the sample farthest from its centre (largest mind), moving
    // that sample's contribution out of its old cluster's sums — scikit-learn's rule.
    std::vector<std::int64_t> empty;
    for (std::int64_t j = 0; j < k; ++j) {
      if (sums.at<float>(j, d) == 0.0f) empty.push_back(j);
    }
    if (!empty.empty()) {
      const std::int64_t e = static_cast<std::int64_t>(empty.size());
      Tensor neg = b.empty(1, n), fi = b.empty(1, e, DType::i32), fv = b.empty(1, e);
      b.map(MapFn::identity, mind.reshaped(1, n), neg, MapArgs{-1.0f, 0.0f, 1.0f});
      b.topk_rows(neg, e, fi, fv);  // the e largest distances
      Tensor rows = b.empty(e, d + 1);
      b.gather_rows(data.Xs, fi.reshaped(e, 1), rows);
      const Tensor far = b.to_host(fi), rows_h = b.to_host(rows);
      for (std::int64_t q = 0; q < e; ++q) {
        const std::int32_t f = far.data<std::int32_t>()[q];
        const std::int64_t to = empty[q], from = lab[f];
        for (std::int64_t p = 0; p <= d; ++p) {
          sums.at<float>(from, p) -= rows_h.at<float>(q, p);
          sums.at<float>(to, p) = rows_h.at<float>(q, p);
        }
      }
    }

    // M-step on the host (k × d): new centre = sum / weight; shift² summed for the tolerance.
    double shift = 0.0;
    for (std::int64_t j = 0; j < k; ++j) {
      const float weight = sums.at<float>(j, d);
      for (std::int64_t p = 0; p < d; ++p) {
        const float c_new = weight > 0.0f ? sums.at<float>(j, p) / weight : C.at<float>(j, p);
        const double delta = double(c_new) - double(C.at<float>(j, p));
        shift += delta * delta;
        C.at<float>(j, p) = c_new;
      }
    }
    if (std::equal(labels_old.begin(), labels_old.end(), lab)) {
      strict = true;  // same labels as last time: the centres are already their means
      ++it;
      break;
    }
    if (shift <= tol) {
      ++it;
      break;
    }
    std::copy(lab, lab + n, labels_old.begin());
  }
  // Unless the labels were already stable, one more E-step so labels match the final centres.
  if (!strict) assign(data, b.to_device(augment(C)), labels, mind, D);
  Run run;
  run.centers = C;
  run.labels = b.to_host(labels).clone();
  run.inertia = weighted_sum(data, mind);
  run.n_iter = it;
  return run;
}

}  // namespace

std::int64_t KMeansOptions::runs() const {
  if (init == "array") return 1;
  if (n_init != kAutoRuns) return n_init;
  return init == "random" ? 10 : 1;
}

KMeans::KMeans(const KMeansOptions& options, BackendPtr backend)
    : Estimator(kName, kModelVersion, std::move(backend)), options_(options) {
  MLCORE_CHECK(options.n_clusters >= 1,
               "KMeans: n_clusters must be >= 1, got " << options.n_clusters);
  MLCORE_CHECK(options.init == "k-means++" || options.init == "random" || options.init == "array",
               "KMeans: init must be 'k-means++', 'random' or an array of centres (\"array\"), "
               "got '"
                   << options.init << "'");
  if (options.init == "array") {
    const Tensor& c = options.init_centers;
    MLCORE_CHECK(c.device() == Device::host && c.dtype() == DType::f32 &&
                     c.rows() == options.n_clusters && c.cols() >= 1,
                 "KMeans: init_centers must be a host f32 tensor of n_clusters ("
                     << options.n_clusters << ") rows, got " << c.describe());
    detail::check_samples(c, kName, "init");
    options_.init_centers = c.clone();
  }
  MLCORE_CHECK(options.n_init >= 0, "KMeans: n_init must be >= 1 (or "
                                        << kAutoRuns << " for 'auto'), got " << options.n_init);
  MLCORE_CHECK(options.max_iter >= 1, "KMeans: max_iter must be >= 1, got " << options.max_iter);
  MLCORE_CHECK(options.tol >= 0.0 && std::isfinite(options.tol),
               "KMeans: tol must be a finite number >= 0, got " << options.tol);
}

KMeans& KMeans::fit(const Tensor& X, const Tensor& sample_weight) {
  ProfileScope scope = begin_call();
  fitted_ = false;
  detail::check_samples(X, kName);
  const std::int64_t n = X.rows(), d = X.cols(), k = options_.n_clusters;
  MLCORE_CHECK(k <= n, "KMeans: n_clusters = " << k << " is larger than the number of samples ("
                                               << n << ")");
  if (options_.init == "array") {
    MLCORE_CHECK(options_.init_centers.cols() == d, "KMeans: init has "
                                                        << options_.init_centers.cols()
                                                        << " features, but X has " << d);
  }
  Backend& b = *backend();
  Data data(b);
  data.n = n;
  data.d = d;
  data.weighted = !sample_weight.empty();
  data.w_host.assign(n, 1.0);
  if (data.weighted) {
    detail::check_targets(sample_weight, n, kName, "sample_weight");
    double total = 0.0;
    for (std::int64_t i = 0; i < n; ++i) {
      const float wi = sample_weight.data<float>()[i];
      MLCORE_CHECK(wi >= 0.0f, "KMeans: sample_weight must be >= 0, got " << wi << " at " << i);
      data.w_host[i] = wi;
      total += wi;
    }
    MLCORE_CHECK(total > 0.0, "KMeans: sample_weight sums to 0");
  }

  // Column means and variances on the backend: the centring offset and the tolerance.
  const Tensor Xd = b.to_device(X);
  Tensor stat = b.empty(1, d);
  b.reduce_cols(Reduce::mean, Xd, stat);
  const Tensor mean = b.to_host(stat).clone();
  b.reduce_cols(Reduce::var, Xd, stat);
  const Tensor var = b.to_host(stat);
  double mean_var = 0.0;
  for (std::int64_t p = 0; p < d; ++p) mean_var += var.data<float>()[p];
  const double tol = options_.tol * mean_var / static_cast<double>(d);

  // X̃ = [X − mean | 1], built once on the host (a layout step) and sent to the device.
  {
    Tensor Xa(n, d + 1);
    const float* x = X.data<float>();
    const float* mu = mean.data<float>();
    float* xa = Xa.data<float>();
    for (std::int64_t i = 0; i < n; ++i) {
      for (std::int64_t p = 0; p < d; ++p) xa[i * (d + 1) + p] = x[i * d + p] - mu[p];
      xa[i * (d + 1) + d] = 1.0f;
    }
    data.Xa = b.to_device(Xa);
  }
  Tensor w_col(n, 1);
  for (std::int64_t i = 0; i < n; ++i) w_col.data<float>()[i] = static_cast<float>(data.w_host[i]);
  data.w = b.to_device(w_col);
  if (data.weighted) {
    data.Xs = b.empty(n, d + 1);
    b.axpby(1.0f, data.Xa, 0.0f, data.Xs);
    b.scale_rows(data.w, data.Xs);  // [w·(x − mean) | w]
  } else {
    data.Xs = data.Xa;
  }

  const bool is_array = options_.init == "array";
  const std::int64_t runs = options_.runs();
  std::mt19937_64 rng(options_.random_state);
  Run best;
  bool have_best = false;
  for (std::int64_t r = 0; r < runs; ++r) {
    Tensor start;
    if (is_array) {
      start = options_.init_centers.clone();
      for (std::int64_t j = 0; j < k; ++j) {
        for (std::int64_t p = 0; p < d; ++p) start.at<float>(j, p) -= mean.data<float>()[p];
      }
    } else if (options_.init == "random") {
      start = random_centers(data, k, rng);
    } else {
      start = kmeans_plusplus(data, k, rng);
    }
    Run run = lloyd(data, start, options_.max_iter, tol);
    if (!have_best || run.inertia < best.inertia) {
      best = std::move(run);
      have_best = true;
    }
  }

  mean_ = mean;
  centers_ = best.centers;  // back to the caller's coordinates
  for (std::int64_t j = 0; j < k; ++j) {
    for (std::int64_t p = 0; p < d; ++p) centers_.at<float>(j, p) += mean.data<float>()[p];
  }
  labels_ = best.labels;
  inertia_ = best.inertia;
  n_iter_ = best.n_iter;
  fitted_ = true;
  return *this;
}

// Runs body(b0, b1, Xb, Cc) for row blocks [b0, b1) of X, Xb the block centred with the training
// mean and Cc the centres centred alike (device). The distances then come from small numbers
// (accurate in f32's ‖a‖² + ‖b‖² − 2a·b and in int8), as in training.
template <class Body>
void KMeans::for_each_centred_block(const Tensor& X, Body&& body) const {
  require_fitted();
  detail::check_samples(X, kName);
  detail::check_n_features(X, centers_.cols(), kName);
  Backend& b = *backend();
  const std::int64_t n = X.rows(), d = X.cols(), k = centers_.rows();
  const Tensor Xd = b.to_device(X), mean = b.to_device(mean_);
  Tensor Cc = b.empty(k, d);
  b.axpby(1.0f, b.to_device(centers_), 0.0f, Cc);
  b.add_row_vector(-1.0f, mean, Cc);
  const std::int64_t block = block_rows(n, k);
  Tensor Xc = b.empty(block, d);
  for (std::int64_t b0 = 0; b0 < n; b0 += block) {
    const std::int64_t b1 = std::min(n, b0 + block);
    Tensor Xb = Xc.row_slice(0, b1 - b0);
    b.axpby(1.0f, Xd.row_slice(b0, b1), 0.0f, Xb);
    b.add_row_vector(-1.0f, mean, Xb);
    body(b0, b1, Xb, Cc);
  }
}

double KMeans::assign_new(const Tensor& X, const Tensor& sample_weight, Tensor* labels) const {
  Backend& b = *backend();
  const std::int64_t n = X.rows(), k = options_.n_clusters;
  if (!sample_weight.empty()) detail::check_targets(sample_weight, n, kName, "sample_weight");
  Tensor lab = b.empty(n, 1, DType::i32), mind = b.empty(n, 1);
  const bool fused = b.fuses_sqdist_topk();  // else: the distances, then their minimum
  Tensor D = fused ? Tensor() : b.empty(block_rows(n, k), k);
  for_each_centred_block(X,
                         [&](std::int64_t b0, std::int64_t b1, const Tensor& Xb, const Tensor& Cc) {
                           Tensor lb = lab.row_slice(b0, b1), mb = mind.row_slice(b0, b1);
                           if (fused) {
                             b.sqdist_topk(Xb, Cc, 1, lb, mb);
                           } else {
                             Tensor Db = D.row_slice(0, b1 - b0);
                             b.sqdist(Xb, Cc, Db);
                             b.argmin_rows(Db, lb, mb);
                           }
                         });
  if (labels) *labels = b.to_host(lab).clone();
  if (!sample_weight.empty()) b.multiply(b.to_device(sample_weight.reshaped(n, 1)), mind);
  Tensor total = b.empty(1, 1);
  b.reduce_cols(Reduce::sum, mind, total);
  return static_cast<double>(b.to_host(total).data<float>()[0]);
}

Tensor KMeans::predict(const Tensor& X) const {
  ProfileScope scope = begin_call();
  Tensor labels;
  assign_new(X, Tensor(), &labels);
  return labels;
}

Tensor KMeans::transform(const Tensor& X) const {
  ProfileScope scope = begin_call();
  Backend& b = *backend();
  const std::int64_t k = options_.n_clusters;
  Tensor out(X.rows(), k);
  Tensor D = b.empty(block_rows(X.rows(), k), k);
  for_each_centred_block(X,
                         [&](std::int64_t b0, std::int64_t b1, const Tensor& Xb, const Tensor& Cc) {
                           Tensor Db = D.row_slice(0, b1 - b0);
                           b.sqdist(Xb, Cc, Db);
                           b.map(MapFn::sqrt, Db, Db);
                           const Tensor h = b.to_host(Db);
                           std::memcpy(out.data<float>() + b0 * k, h.raw(), h.size_bytes());
                         });
  return out;
}

Tensor KMeans::fit_predict(const Tensor& X, const Tensor& sample_weight) {
  fit(X, sample_weight);
  return labels_.clone();
}

double KMeans::score(const Tensor& X, const Tensor& sample_weight) const {
  ProfileScope scope = begin_call();
  return -assign_new(X, sample_weight, nullptr);
}

const Tensor& KMeans::cluster_centers() const {
  require_fitted();
  return centers_;
}

const Tensor& KMeans::labels() const {
  require_fitted();
  return labels_;
}

double KMeans::inertia() const {
  require_fitted();
  return inertia_;
}

std::int64_t KMeans::n_iter() const {
  require_fitted();
  return n_iter_;
}

std::int64_t KMeans::n_features_in() const {
  require_fitted();
  return centers_.cols();
}

void KMeans::visit(Archive& a) {
  a(options_.n_clusters, options_.init, options_.init_centers, options_.n_init, options_.max_iter,
    options_.tol, options_.random_state);
  if (!a.fitted(fitted_, 2)) return;
  a(mean_, centers_, labels_, inertia_, n_iter_);
  if (a.loading()) {
    MLCORE_CHECK(centers_.dtype() == DType::f32 && centers_.rows() == options_.n_clusters &&
                     mean_.dtype() == DType::f32 && mean_.rows() == 1 &&
                     mean_.cols() == centers_.cols() && labels_.dtype() == DType::i32,
                 "KMeans: the saved model is inconsistent");
  }
}

std::vector<std::pair<std::string, Tensor*>> KMeans::fitted_arrays() {
  if (!fitted_) return {};
  return {{"cluster_centers", &centers_}};
}

}  // namespace mlcore
