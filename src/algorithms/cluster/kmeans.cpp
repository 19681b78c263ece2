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
#include <sstream>
#include <string>
#include <vector>

#include "algorithms/common/sparse_input.hpp"
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

// The E-step's search: labels[i], mind[i] = the nearest row of C (k × d) to row i of X and its
// squared distance. A backend that fuses the search does it in one sqdist_topk call (k = 1);
// the others compute the distances D.rows() rows at a time into D and take each row's argmin.
void nearest_centres(Backend& b, const Tensor& X, const Tensor& C, Tensor& labels, Tensor& mind,
                     Tensor& D) {
  if (b.fuses_sqdist_topk()) {
    b.sqdist_topk(X, C, 1, labels, mind);
    return;
  }
  const std::int64_t n = X.rows(), block = D.rows();
  for (std::int64_t b0 = 0; b0 < n; b0 += block) {
    const std::int64_t b1 = std::min(n, b0 + block);
    Tensor Db = D.row_slice(0, b1 - b0);
    Tensor lb = labels.row_slice(b0, b1), mb = mind.row_slice(b0, b1);
    b.sqdist(X.row_slice(b0, b1), C, Db);  // (b1−b0) × k
    b.argmin_rows(Db, lb, mb);
  }
}

// nearest_centres' distance buffer for n rows against k centres: a block × k (none if fused).
Tensor nearest_buffer(Backend& b, std::int64_t n, std::int64_t k) {
  return b.fuses_sqdist_topk() ? Tensor() : b.empty(block_rows(n, k), k);
}

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

// The training data as the Lloyd iterations need them, on the device: dense X (DenseData,
// centred) or sparse X (SparseData, as it is). Each gives the iterations the same five things —
// a sample's coordinates, the distances of a few samples to all, the assignment step, the
// per-cluster sums, and the weighted rows of a few samples — so kmeans_plusplus,
// random_centers and lloyd are written once for both.
struct DenseData {
  explicit DenseData(Backend& backend) : b(backend) {}
  Backend& b;
  std::int64_t n = 0, d = 0;
  Tensor Xa;  // n × (d+1)  [x − mean | 1]: distances (the 1 meets the centres' 1)
  Tensor Xs;  // n × (d+1)  [w·(x − mean) | w]: what scatter_add sums (Xa if unweighted)
  Tensor w;   // n × 1      sample weights (ones if none were given)
  bool weighted = false;
  std::vector<double> w_host;  // the weights, for drawing k-means++ candidates

  // row(i, out): the d coordinates of sample i (centred), read from a host copy of Xa.
  auto row_reader() const {
    const Tensor Xa_host = b.to_host(Xa);  // free on CPU backends; one copy on a GPU
    const std::int64_t dd = d;
    return [Xa_host, dd](std::int64_t i, float* out) {
      std::memcpy(out, Xa_host.data<float>() + i * (dd + 1), dd * sizeof(float));
    };
  }
  // D (m × n): squared distances of the samples idx (m × 1 host i32) to every sample.
  void sample_distances(const Tensor& idx, Tensor& D) const {
    if (idx.numel() == 1) {
      const std::int64_t i = idx.data<std::int32_t>()[0];
      b.sqdist(Xa.row_slice(i, i + 1), Xa, D);
      return;
    }
    Tensor Xc = b.empty(idx.numel(), d + 1);  // the samples' rows
    b.gather_rows(Xa, b.to_device(idx), Xc);
    b.sqdist(Xc, Xa, D);
  }
  // The buffer assign() computes distances in: a block of rows × k.
  Tensor work(std::int64_t k) const { return nearest_buffer(b, n, k); }
  // E-step: labels[i], mind[i] = nearest centre (C: k × d host, centred) and its squared
  // distance. labels n × 1 i32, mind n × 1 f32, D from work().
  void assign(const Tensor& C, Tensor& labels, Tensor& mind, Tensor& D) const {
    nearest_centres(b, Xa, b.to_device(augment(C)), labels, mind, D);
  }
  // k × (d+1) host: per cluster [Σ w·x | Σ w] of the samples labelled with it.
  Tensor sums(const Tensor& labels, std::int64_t k) const {
    Tensor S = b.empty(k, d + 1);
    b.fill(S, 0.0f);
    b.scatter_add(labels, Xs, S);
    return b.to_host(S).clone();
  }
  // e × (d+1) host: [w·x | w] of the samples idx (1 × e device i32).
  Tensor weighted_rows(const Tensor& idx, std::int64_t e) const {
    Tensor rows = b.empty(e, d + 1);
    b.gather_rows(Xs, idx.reshaped(e, 1), rows);
    return b.to_host(rows);
  }
};

// Sparse X (never centred: that would fill in its zeros) with two columns appended,
//   X̃ = [x | 1 | ‖x‖²]   (n × (d+2) CSR, built once on the host: a layout step, O(nnz)),
// so one spmm gives whole squared distances to m centres:
//   X̃ · [−2Cᵀ ; ‖c‖² ; 1]  =  ‖x‖² − 2·x·c + ‖c‖²    (n × m, nnz·m MACs),
// and one transposed spmm the per-cluster sums: X̃ᵀ·(w ⊙ onehot(labels)) = [Σ w·x ; Σ w ; ·].
// In f32 the expansion loses the digits that cancel when ‖x‖ ≫ ‖x − c‖ (the dense path centres
// X for that); counts and tf-idf rows are rarely far from the origin relative to their spread.
struct SparseData {
  explicit SparseData(Backend& backend) : b(backend) {}
  Backend& b;
  std::int64_t n = 0, d = 0;
  CsrMatrix X;   // n × d host
  CsrMatrix Xt;  // n × (d+2) device: X̃ above
  Tensor w;
  bool weighted = false;
  std::vector<double> w_host;

  void densify_row(std::int64_t i, float* out) const {
    std::fill_n(out, d, 0.0f);
    const std::int64_t* ptr = X.indptr.data<std::int64_t>();
    const float* v = X.data.data<float>();
    for (std::int64_t p = ptr[i]; p < ptr[i + 1]; ++p) {
      const std::int64_t j = X.indices.dtype() == DType::i64
                                 ? X.indices.data<std::int64_t>()[p]
                                 : std::int64_t{X.indices.data<std::int32_t>()[p]};
      out[j] = v[p];
    }
  }
  auto row_reader() const {
    return [this](std::int64_t i, float* out) { densify_row(i, out); };
  }
  // n × m device: squared distances of every sample to the rows of C (m × d host), ≥ 0.
  Tensor distances(const Tensor& C) const {
    const std::int64_t m = C.rows();
    Tensor B(d + 2, m);  // [−2Cᵀ ; ‖c‖² ; 1]
    for (std::int64_t j = 0; j < m; ++j) {
      double norm = 0.0;
      for (std::int64_t p = 0; p < d; ++p) {
        const float c = C.at<float>(j, p);
        B.at<float>(p, j) = -2.0f * c;
        norm += double(c) * c;
      }
      B.at<float>(d, j) = static_cast<float>(norm);
      B.at<float>(d + 1, j) = 1.0f;
    }
    Tensor D = b.empty(n, m);
    b.spmm(Trans::no, 1.0f, Xt, b.to_device(B), 0.0f, D);
    b.map(MapFn::relu, D, D);  // rounding can leave −ε for a sample at its centre
    return D;
  }
  void sample_distances(const Tensor& idx, Tensor& D) const {
    const std::int64_t m = idx.numel();
    Tensor C(m, d);
    for (std::int64_t t = 0; t < m; ++t) {
      densify_row(idx.data<std::int32_t>()[t], C.data<float>() + t * d);
    }
    // One sample's n distances are a column of distances(C); D wants them as its row t.
    for (std::int64_t t = 0; t < m; ++t) {
      const Tensor Dt = distances(C.row_slice(t, t + 1));  // n × 1
      Tensor row = D.row_slice(t, t + 1);
      b.axpby(1.0f, Dt.reshaped(1, n), 0.0f, row);
    }
  }
  Tensor work(std::int64_t) const { return Tensor(); }
  void assign(const Tensor& C, Tensor& labels, Tensor& mind, Tensor&) const {
    const Tensor D = distances(C);  // n × k
    b.argmin_rows(D, labels, mind);
  }
  Tensor sums(const Tensor& labels, std::int64_t k) const {
    const Tensor lab = b.to_host(labels);
    Tensor W(n, k);  // w ⊙ onehot(labels)
    for (std::int64_t i = 0; i < n; ++i) {
      W.at<float>(i, lab.data<std::int32_t>()[i]) = static_cast<float>(w_host[i]);
    }
    Tensor G = b.empty(d + 2, k);
    b.spmm(Trans::yes, 1.0f, Xt, b.to_device(W), 0.0f, G);  // X̃ᵀ·W
    const Tensor g = b.to_host(G);
    Tensor S(k, d + 1);
    for (std::int64_t j = 0; j < k; ++j) {
      for (std::int64_t p = 0; p <= d; ++p) S.at<float>(j, p) = g.at<float>(p, j);
    }
    return S;
  }
  Tensor weighted_rows(const Tensor& idx, std::int64_t e) const {
    const Tensor ih = b.to_host(idx);
    Tensor rows(e, d + 1);
    for (std::int64_t q = 0; q < e; ++q) {
      const std::int64_t i = ih.data<std::int32_t>()[q];
      densify_row(i, rows.data<float>() + q * (d + 1));
      for (std::int64_t p = 0; p < d; ++p) rows.at<float>(q, p) *= float(w_host[i]);
      rows.at<float>(q, d) = float(w_host[i]);
    }
    return rows;
  }
};

// X̃ = [x | 1 | ‖x‖²] (n × (d+2) CSR, i64 indices) from sparse X (SparseData says why), and,
// when `squares` is given, X with its entries squared (same structure) for column variances.
CsrMatrix augment_sparse(const CsrMatrix& X, CsrMatrix* squares) {
  const std::int64_t n = X.rows, d = X.cols;
  const std::int64_t* ptr = X.indptr.data<std::int64_t>();
  const float* v = X.data.data<float>();
  CsrMatrix Xt;
  Xt.rows = n;
  Xt.cols = d + 2;
  Xt.indptr = Tensor(n + 1, 1, DType::i64);
  Xt.indices = Tensor(X.nnz() + 2 * n, 1, DType::i64);
  Xt.data = Tensor(X.nnz() + 2 * n, 1);
  if (squares) {
    *squares = X;
    squares->data = Tensor(X.nnz(), 1);
  }
  std::int64_t* idx = Xt.indices.data<std::int64_t>();
  float* val = Xt.data.data<float>();
  std::int64_t q = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    double norm = 0.0;
    for (std::int64_t p = ptr[i]; p < ptr[i + 1]; ++p, ++q) {
      idx[q] = X.indices.dtype() == DType::i64 ? X.indices.data<std::int64_t>()[p]
                                               : std::int64_t{X.indices.data<std::int32_t>()[p]};
      val[q] = v[p];
      if (squares) squares->data.data<float>()[p] = v[p] * v[p];
      norm += double(v[p]) * v[p];
    }
    idx[q] = d;
    val[q++] = 1.0f;
    idx[q] = d + 1;
    val[q++] = static_cast<float>(norm);
    Xt.indptr.data<std::int64_t>()[i + 1] = q;
  }
  return Xt;
}

// Σ_i w_i · mind_i, summed by reduce_cols (which accumulates in double). Overwrites mind when
// weighted.
template <class Data>
double weighted_sum(const Data& data, Tensor& mind) {
  Backend& b = data.b;
  if (data.weighted) b.multiply(data.w, mind);
  Tensor total = b.empty(1, 1);
  b.reduce_cols(Reduce::sum, mind, total);
  return static_cast<double>(b.to_host(total).data<float>()[0]);
}

// Index i with probability ∝ weight[i]: the first i whose prefix sum reaches u·total
// (numpy's searchsorted(cumsum, u·total), clipped to the last index against rounding).
std::int64_t draw(const std::vector<double>& prefix, double u) {
  const double target = u * prefix.back();
  const auto it = std::lower_bound(prefix.begin(), prefix.end(), target);
  return std::min<std::int64_t>(it - prefix.begin(), static_cast<std::int64_t>(prefix.size()) - 1);
}

// scikit-learn's greedy k-means++: returns k × d centres (centred coordinates).
template <class Data>
Tensor kmeans_plusplus(const Data& data, std::int64_t k, std::mt19937_64& rng) {
  Backend& b = data.b;
  const std::int64_t n = data.n, d = data.d;
  const std::int64_t trials = 2 + static_cast<std::int64_t>(std::log(static_cast<double>(k)));
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<double> prefix(n);
  Tensor centers(k, d);
  const auto row = data.row_reader();
  auto take = [&](std::int64_t c, std::int64_t i) { row(i, centers.data<float>() + c * d); };

  // The first centre: a sample drawn ∝ its weight.
  double acc = 0.0;
  for (std::int64_t i = 0; i < n; ++i) prefix[i] = acc += data.w_host[i];
  std::int64_t first = draw(prefix, uniform(rng));
  take(0, first);
  Tensor closest = b.empty(1, n);  // 1 × n  distance² of each sample to its nearest centre
  Tensor first_index(1, 1, DType::i32);
  first_index.data<std::int32_t>()[0] = static_cast<std::int32_t>(first);
  data.sample_distances(first_index, closest);

  Tensor cand_index_host(trials, 1, DType::i32);
  Tensor Dc = b.empty(trials, n);  // trials × n  the candidates' distances to every sample
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
    data.sample_distances(cand_index_host, Dc);
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
template <class Data>
Tensor random_centers(const Data& data, std::int64_t k, std::mt19937_64& rng) {
  const std::int64_t n = data.n, d = data.d;
  std::vector<double> w = data.w_host;
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<double> prefix(n);
  const auto row = data.row_reader();
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
    row(i, centers.data<float>() + c * d);
  }
  return centers;
}

struct Run {
  Tensor centers;  // k × d host, centred coordinates
  Tensor labels;   // n × 1 i32 host
  double inertia = 0.0;
  std::int64_t n_iter = 0;
};

// Lloyd's iterations from `start` (k × d host, centred coordinates). With a `log`, each
// iteration's inertia and the reason for stopping are appended in scikit-learn's words.
template <class Data>
Run lloyd(const Data& data, const Tensor& start, std::int64_t max_iter, double tol,
          std::vector<std::string>* log) {
  Backend& b = data.b;
  const std::int64_t n = data.n, d = data.d, k = start.rows();
  Tensor labels = b.empty(n, 1, DType::i32), mind = b.empty(n, 1);
  Tensor D = data.work(k);
  Tensor C = start.clone();  // k × d host
  std::vector<std::int32_t> labels_old(n, -1);
  bool strict = false;
  std::int64_t it = 0;
  for (; it < max_iter; ++it) {
    data.assign(C, labels, mind, D);
    if (log != nullptr) {  // the inertia of these centres (weighted_sum scales its argument)
      Tensor scratch = b.empty(n, 1);
      b.axpby(1.0f, mind, 0.0f, scratch);
      std::ostringstream line;
      line << "Iteration " << it << ", inertia " << weighted_sum(data, scratch) << ".";
      log->push_back(line.str());
    }
    Tensor sums = data.sums(labels, k);  // k × (d+1): per cluster [Σ w·x | Σ w]
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
      const Tensor rows_h = data.weighted_rows(fi, e);
      const Tensor far = b.to_host(fi);
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
      if (log != nullptr) {
        log->push_back("Converged at iteration " + std::to_string(it) + ": strict convergence.");
      }
      ++it;
      break;
    }
    if (shift <= tol) {
      if (log != nullptr) {
        std::ostringstream line;
        line << "Converged at iteration " << it << ": center shift " << shift
             << " within tolerance " << tol << ".";
        log->push_back(line.str());
      }
      ++it;
      break;
    }
    std::copy(lab, lab + n, labels_old.begin());
  }
  // Unless the labels were already stable, one more E-step so labels match the final centres.
  if (!strict) data.assign(C, labels, mind, D);
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

namespace {

// The sample weights (ones when none are given), checked: n values ≥ 0, not all 0.
std::vector<double> checked_weights(const Tensor& sample_weight, std::int64_t n) {
  std::vector<double> w(n, 1.0);
  if (sample_weight.empty()) return w;
  detail::check_targets(sample_weight, n, kName, "sample_weight");
  double total = 0.0;
  for (std::int64_t i = 0; i < n; ++i) {
    const float wi = sample_weight.data<float>()[i];
    MLCORE_CHECK(wi >= 0.0f, "KMeans: sample_weight must be >= 0, got " << wi << " at " << i);
    w[i] = wi;
    total += wi;
  }
  MLCORE_CHECK(total > 0.0, "KMeans: sample_weight sums to 0");
  return w;
}

}  // namespace

void KMeans::check_fit_shape(std::int64_t n, std::int64_t d) const {
  const std::int64_t k = options_.n_clusters;
  MLCORE_CHECK(k <= n, "KMeans: n_clusters = " << k << " is larger than the number of samples ("
                                               << n << ")");
  if (options_.init == "array") {
    MLCORE_CHECK(options_.init_centers.cols() == d, "KMeans: init has "
                                                        << options_.init_centers.cols()
                                                        << " features, but X has " << d);
  }
}

KMeans& KMeans::fit(const Tensor& X, const Tensor& sample_weight) {
  ProfileScope scope = begin_call();
  fitted_ = false;
  detail::check_samples(X, kName);
  const std::int64_t n = X.rows(), d = X.cols();
  check_fit_shape(n, d);
  Backend& b = *backend();
  DenseData data(b);
  data.n = n;
  data.d = d;
  data.weighted = !sample_weight.empty();
  data.w_host = checked_weights(sample_weight, n);

  // Column means and variances on the backend: the centring offset and the tolerance.
  const Tensor Xd = b.to_device(X);
  Tensor stat = b.empty(1, d);
  b.reduce_cols(Reduce::mean, Xd, stat);
  const Tensor mean = b.to_host(stat).clone();
  b.reduce_cols(Reduce::var, Xd, stat);
  const Tensor var = b.to_host(stat);
  double mean_var = 0.0;
  for (std::int64_t p = 0; p < d; ++p) mean_var += var.data<float>()[p];

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
  run_all(data, mean, options_.tol * mean_var / static_cast<double>(d));
  return *this;
}

KMeans& KMeans::fit(const CsrMatrix& X, const Tensor& sample_weight) {
  ProfileScope scope = begin_call();
  fitted_ = false;
  detail::check_sparse_samples(X, kName);
  const std::int64_t n = X.rows, d = X.cols;
  check_fit_shape(n, d);
  Backend& b = *backend();
  SparseData data(b);
  data.n = n;
  data.d = d;
  data.X = X;
  data.weighted = !sample_weight.empty();
  data.w_host = checked_weights(sample_weight, n);
  Tensor w_col(n, 1);
  for (std::int64_t i = 0; i < n; ++i) w_col.data<float>()[i] = static_cast<float>(data.w_host[i]);
  data.w = b.to_device(w_col);

  // X̃ = [x | 1 | ‖x‖²] (n × (d+2), CSR), and X² (X's entries squared) for the variances.
  CsrMatrix Xsq;
  const CsrMatrix Xt = augment_sparse(X, &Xsq);
  data.Xt = detail::csr_on_device(b, Xt);

  // The tolerance's mean column variance, E[x²] − E[x]² per column from two transposed spmm.
  Tensor ones(n, 1);
  std::fill_n(ones.data<float>(), n, 1.0f / float(n));
  const Tensor ones_d = b.to_device(ones);
  Tensor m1 = b.empty(d, 1), m2 = b.empty(d, 1);
  b.spmm(Trans::yes, 1.0f, detail::csr_on_device(b, X), ones_d, 0.0f, m1);
  b.spmm(Trans::yes, 1.0f, detail::csr_on_device(b, Xsq), ones_d, 0.0f, m2);
  const Tensor h1 = b.to_host(m1), h2 = b.to_host(m2);
  double mean_var = 0.0;
  for (std::int64_t p = 0; p < d; ++p) {
    const double mu = h1.data<float>()[p];
    mean_var += std::max(0.0, double(h2.data<float>()[p]) - mu * mu);
  }
  run_all(data, Tensor(1, d), options_.tol * mean_var / static_cast<double>(d));
  return *this;
}

template <class Data>
void KMeans::run_all(const Data& data, const Tensor& mean, double tol) {
  const std::int64_t k = options_.n_clusters, d = data.d;
  const bool is_array = options_.init == "array";
  const std::int64_t runs = options_.runs();
  std::mt19937_64 rng(options_.random_state);
  Run best;
  bool have_best = false;
  fit_log_.clear();
  std::vector<std::string>* log = options_.verbose ? &fit_log_ : nullptr;
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
    if (log != nullptr) log->push_back("Initialization complete");
    Run run = lloyd(data, start, options_.max_iter, tol, log);
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
  Tensor D = nearest_buffer(b, n, k);
  for_each_centred_block(X,
                         [&](std::int64_t b0, std::int64_t b1, const Tensor& Xb, const Tensor& Cc) {
                           Tensor lb = lab.row_slice(b0, b1), mb = mind.row_slice(b0, b1);
                           nearest_centres(b, Xb, Cc, lb, mb, D);
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

// Sparse queries: the distances to the centres in the caller's coordinates (X is not
// centred), n × k in one spmm (SparseData's expansion).
Tensor KMeans::sparse_distances(const CsrMatrix& X) const {
  require_fitted();
  detail::check_sparse_samples(X, kName);
  detail::check_sparse_n_features(X, centers_.cols(), kName);
  Backend& b = *backend();
  SparseData data(b);
  data.n = X.rows;
  data.d = X.cols;
  data.Xt = detail::csr_on_device(b, augment_sparse(X, nullptr));
  return data.distances(centers_);
}

Tensor KMeans::predict(const CsrMatrix& X) const {
  ProfileScope scope = begin_call();
  Tensor labels;
  assign_new(X, Tensor(), &labels);
  return labels;
}

Tensor KMeans::transform(const CsrMatrix& X) const {
  ProfileScope scope = begin_call();
  Backend& b = *backend();
  Tensor D = sparse_distances(X);
  b.map(MapFn::sqrt, D, D);
  return b.to_host(D).clone();
}

double KMeans::score(const CsrMatrix& X, const Tensor& sample_weight) const {
  ProfileScope scope = begin_call();
  return -assign_new(X, sample_weight, nullptr);
}

double KMeans::assign_new(const CsrMatrix& X, const Tensor& sample_weight, Tensor* labels) const {
  Backend& b = *backend();
  const std::int64_t n = X.rows;
  if (!sample_weight.empty()) detail::check_targets(sample_weight, n, kName, "sample_weight");
  const Tensor D = sparse_distances(X);
  Tensor lab = b.empty(n, 1, DType::i32), mind = b.empty(n, 1);
  b.argmin_rows(D, lab, mind);
  if (labels) *labels = b.to_host(lab).clone();
  if (!sample_weight.empty()) b.multiply(b.to_device(sample_weight.reshaped(n, 1)), mind);
  Tensor total = b.empty(1, 1);
  b.reduce_cols(Reduce::sum, mind, total);
  return static_cast<double>(b.to_host(total).data<float>()[0]);
}

Tensor KMeans::fit_predict(const CsrMatrix& X, const Tensor& sample_weight) {
  fit(X, sample_weight);
  return labels_.clone();
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
