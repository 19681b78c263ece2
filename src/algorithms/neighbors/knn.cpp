// k-nearest neighbours by batched brute force: sqdist + topk_rows per batch of queries, and the
// vote as gather_rows + scale_rows + scatter_add (see include/mlcore/algorithms/neighbors/knn.hpp).
#include "mlcore/algorithms/neighbors/knn.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <tuple>
#include <utility>
#include <vector>

#include "algorithms/common/validate.hpp"

namespace mlcore {

namespace {

// 2: the fitted flag (version 1 files were always fitted); saving works before fit.
// 3: the Minkowski exponent p (older files are Euclidean, p = 2).
constexpr std::uint32_t kModelVersion = 3;

// Distance blocks of about this many bytes when batch_size = 0. Large enough that the GEMM
// inside sqdist has a tall A (hundreds of queries) to amortise packing X_fit, small enough to
// never be a memory problem. A query row of a batch holds n_fit distances, and for the exact
// re-ranking (refine_neighbours) k gathered neighbours, k copies of the query and k·d row
// numbers: n_fit + 3·k·d four-byte values.
constexpr std::int64_t kAutoBlockBytes = 64ll << 20;

// A large training set is searched in tiles of kTileQueries queries × about kTileFit training
// rows (256 × 2048 floats = 2 MiB: each thread's half of the tile stays in its 1 MiB L2 between
// sqdist writing it and topk_rows reading it). One distance block per batch over all of X_fit
// (64 MiB) went to DRAM and back: 10 000 queries against 50 000 rows wrote and re-read 4 GB,
// as much time as the 16 G MACs themselves. Each tile keeps its own k best; a second, small
// topk_rows over the tiles' candidates picks the k best of the row.
constexpr std::int64_t kTileQueries = 256;
constexpr std::int64_t kTileFit = 2048;

// How many tiles X_fit is cut into for k neighbours: 1 (the whole row at once) unless X_fit is
// several tiles long; every tile holds at least k rows, so each yields k candidates.
std::int64_t fit_tiles(std::int64_t n_fit, std::int64_t k) {
  const std::int64_t tiles = (n_fit + kTileFit - 1) / kTileFit;
  return (tiles < 4 || n_fit / tiles < 4 * k) ? 1 : tiles;
}

// How many candidates the search keeps for k neighbours: more than k. sqdist's rounding error
// grows with the norms (‖q‖² + ‖x‖²) while the gaps between neighbours do not, so two training
// rows at nearly the same distance can come out of it in the wrong order; if the true k-th
// neighbour lost that way to the (k+1)-th, re-ranking only k candidates could never bring it
// back (seen: 1 query in 10 000 of bench_neighbors.py on avx512, whose GEMM rounds differently
// from avx2's). With kMarginCandidates more, all re-ranked by exact distances, a wrong answer
// needs more than that many rows inside the rounding band (~10⁻⁷ relative) of the k-th, where
// random data rarely puts even one. The price is in the row selections, which insert more
// candidates per row: on bench_neighbors.py's case (k = 5) kNN predict took 9 % longer with a
// margin of 2, 19 % with a margin of k.
constexpr std::int64_t kMarginCandidates = 2;
std::int64_t search_candidates(std::int64_t n_fit, std::int64_t k) {
  return std::min(n_fit, k + kMarginCandidates);
}

// The most multiply-adds one fused search call does: ~50 ms at avx512's pace on a quiet core
// pair. Ctrl-C is checked between primitive calls, so this bounds how long an interrupted
// predict runs on (a whole 60 000 × 100 000 search in one call took over a second to answer
// under load); each call re-packs X_fit, ~2 % of the call at this size.
constexpr std::int64_t kFusedCallMacs = std::int64_t{1} << 33;

// Queries per batch for k neighbours (the search's, the re-ranking's and the vote's buffers are
// sized by it). A fused search (Backend::fuses_sqdist_topk) has no distance block, so its
// batches are as large as the re-ranking's buffers and kFusedCallMacs allow.
std::int64_t batch_rows(std::int64_t option, std::int64_t n_queries, std::int64_t n_fit,
                        std::int64_t k_out, std::int64_t d, bool fused) {
  const std::int64_t k = search_candidates(n_fit, k_out);
  const std::int64_t row_bytes = ((fused ? 0 : n_fit) + 3 * k * d) * std::int64_t(sizeof(float));
  const std::int64_t by_bytes = kAutoBlockBytes / row_bytes;
  const std::int64_t b =
      option > 0                          ? option
      : !fused && fit_tiles(n_fit, k) > 1 ? kTileQueries
      : fused ? std::min(by_bytes, kFusedCallMacs / std::max<std::int64_t>(1, n_fit * d))
              : by_bytes;
  return std::clamp<std::int64_t>(b, 1, std::max<std::int64_t>(n_queries, 1));
}

// index[r] = r / group for r < count: row r of a block of repeated rows belongs to r / group.
Tensor group_index(std::int64_t count, std::int64_t group) {
  Tensor index(count, 1, DType::i32);
  for (std::int64_t r = 0; r < count; ++r) {
    index.data<std::int32_t>()[r] = static_cast<std::int32_t>(r / group);
  }
  return index;
}

// scikit-learn's 'distance' weights for one query's k neighbours: w = 1/dist, except that a
// query with an exact match (dist = 0) gives weight 1 to its exact matches and 0 to the rest.
// Writes w[0..k) and returns Σ w.
float distance_weights(const float* dist, std::int64_t k, float* w) {
  bool exact = false;
  for (std::int64_t j = 0; j < k; ++j) exact = exact || dist[j] == 0.0f;
  float sum = 0.0f;
  for (std::int64_t j = 0; j < k; ++j) {
    w[j] = exact ? (dist[j] == 0.0f ? 1.0f : 0.0f) : 1.0f / dist[j];
    sum += w[j];
  }
  return sum;
}

}  // namespace

// ---- KNeighborsBase ----------------------------------------------------------------------------

KNeighborsBase::KNeighborsBase(const KNeighborsOptions& options, BackendPtr backend,
                               const char* name)
    : Estimator(name, kModelVersion, std::move(backend)), options_(options) {
  MLCORE_CHECK(options.n_neighbors >= 1,
               name << ": n_neighbors must be >= 1, got " << options.n_neighbors);
  MLCORE_CHECK(
      options.weights == "uniform" || options.weights == "distance",
      name << ": weights must be 'uniform' or 'distance', got '" << options.weights << "'");
  MLCORE_CHECK(options.p > 0.0, name << ": p must be > 0 (or inf), got " << options.p);
  MLCORE_CHECK(options.batch_size >= 0,
               name << ": batch_size must be >= 0 (0: automatic), got " << options.batch_size);
}

const Tensor& KNeighborsBase::fit_X() const {
  require_fitted();
  return fit_X_;
}

std::int64_t KNeighborsBase::n_samples_fit() const {
  require_fitted();
  return fit_X_.rows();
}

std::int64_t KNeighborsBase::n_features_in() const {
  require_fitted();
  return fit_X_.cols();
}

void KNeighborsBase::fit_samples(const Tensor& X) {
  detail::check_samples(X, name());
  MLCORE_CHECK(options_.n_neighbors <= X.rows(),
               name() << ": n_neighbors = " << options_.n_neighbors
                      << " is larger than the number of training samples (" << X.rows() << ")");
  fit_X_ = X.clone();  // X may borrow the caller's memory: keep our own copy
}

bool KNeighborsBase::fused_search() const {
  return options_.p == 2.0 && backend()->fuses_sqdist_topk();
}

template <class Body>
void KNeighborsBase::for_each_batch(const Tensor& X, std::int64_t k_out, bool distances,
                                    Body&& body) const {
  Backend& b = *backend();
  const std::int64_t n_fit = fit_X_.rows(), n_q = X.rows(), d = fit_X_.cols();
  const bool euclidean = options_.p == 2.0;
  const float p_exp = static_cast<float>(options_.p);
  // Only the Euclidean search's GEMM trick needs candidates beyond k to re-rank (below).
  const std::int64_t k = euclidean ? search_candidates(n_fit, k_out) : k_out;
  const bool fused = fused_search();  // then no distance block and no tiles
  const std::int64_t batch = batch_rows(options_.batch_size, n_q, n_fit, k_out, d, fused);
  const Tensor fit = b.to_device(fit_X_);  // n_fit × d
  const Tensor queries = b.to_device(X);   // n_q × d
  const std::int64_t tiles = fused ? 1 : fit_tiles(n_fit, k);
  // The distance block: batch × n_fit, or one batch × ~n_fit/tiles tile (reshaped per tile).
  const std::int64_t tile_max = tiles == 1 ? n_fit : n_fit / tiles + 1;
  Tensor D = fused ? Tensor() : b.empty(batch * tile_max, 1);
  Tensor I = b.empty(batch, k, DType::i32);
  Tensor V = b.empty(batch, k);
  // Tiles [start[t], start[t + 1]) of X_fit, of equal size ± 1. Candidates, tile-major: rows
  // [t·rows, (t + 1)·rows) hold tile t's k best of each query (indices local to the tile).
  // gather_rows reorders them query-major, so that each query's tiles·k candidates are one row
  // for the final topk_rows; candidate c of a query comes from tile c / k, and positions keep
  // the global index order (tile, then rank within it), so the final tie-break by lower
  // position is the tie-break by lower index of one topk over the whole row.
  std::vector<std::int64_t> start(tiles + 1);
  for (std::int64_t t = 0; t <= tiles; ++t) start[t] = t * n_fit / tiles;
  Tensor cand_i, cand_v, merged_v, pos, order_host;
  if (tiles > 1) {
    cand_i = b.empty(tiles * batch, k, DType::i32);
    cand_v = b.empty(tiles * batch, k);
    merged_v = b.empty(batch * tiles, k);
    pos = b.empty(batch, k, DType::i32);
    order_host = Tensor(batch * tiles, 1, DType::i32);
  }
  // The k nearest of queries [begin, end): I (rows × k, device i32) and V (squared distances).
  // The distance block of queries Q against training rows F: squared Euclidean (a GEMM) or
  // Σ|q − x|^p.
  auto distance = [&](const Tensor& Q, const Tensor& F, Tensor& Db) {
    if (euclidean) {
      b.sqdist(Q, F, Db);
    } else {
      b.minkowski_dist(Q, F, p_exp, Db);
    }
  };
  auto search = [&](std::int64_t begin, std::int64_t end, Tensor& Ib, Tensor& Vb) {
    const std::int64_t rows = end - begin;
    const Tensor Q = queries.row_slice(begin, end);
    if (fused) {
      b.sqdist_topk(Q, fit, k, Ib, Vb);
      return;
    }
    if (tiles == 1) {
      Tensor Db = D.row_slice(0, rows * n_fit).reshaped(rows, n_fit);
      distance(Q, fit, Db);        // ‖q − x‖² (or Σ|q − x|^p) for the whole batch
      b.topk_rows(Db, k, Ib, Vb);  // the k smallest per query
      return;
    }
    for (std::int64_t t = 0; t < tiles; ++t) {
      const std::int64_t len = start[t + 1] - start[t];
      Tensor Dt = D.row_slice(0, rows * len).reshaped(rows, len);
      distance(Q, fit.row_slice(start[t], start[t + 1]), Dt);
      Tensor Ct = cand_i.row_slice(t * rows, (t + 1) * rows);
      Tensor Cv = cand_v.row_slice(t * rows, (t + 1) * rows);
      b.topk_rows(Dt, k, Ct, Cv);
    }
    std::int32_t* order = order_host.data<std::int32_t>();
    for (std::int64_t q = 0; q < rows; ++q) {
      for (std::int64_t t = 0; t < tiles; ++t) order[q * tiles + t] = std::int32_t(t * rows + q);
    }
    Tensor Mv = merged_v.row_slice(0, rows * tiles), Pb = pos.row_slice(0, rows);
    b.gather_rows(cand_v.row_slice(0, tiles * rows),
                  b.to_device(order_host.row_slice(0, rows * tiles)), Mv);
    b.topk_rows(Mv.reshaped(rows, tiles * k), k, Pb, Vb);
    // Position p of a query's merged row is tile p / k, rank p % k: its global index is that
    // candidate's local index plus the tile's start (O(rows·k) host work, like the vote's).
    const Tensor Ph = b.to_host(Pb), Ch = b.to_host(cand_i.row_slice(0, tiles * rows));
    Tensor Ih(rows, k, DType::i32);
    for (std::int64_t q = 0; q < rows; ++q) {
      for (std::int64_t j = 0; j < k; ++j) {
        const std::int64_t p = Ph.data<std::int32_t>()[q * k + j], t = p / k;
        Ih.data<std::int32_t>()[q * k + j] = static_cast<std::int32_t>(
            Ch.data<std::int32_t>()[(t * rows + q) * k + p % k] + start[t]);
      }
    }
    Ib = b.to_device(Ih);
  };
  // For the exact distances of the chosen neighbours (see below): query_of[r] = r / k picks the
  // query of neighbour row r; row_of[e] = e / d the neighbour row of element e of a flattened
  // (b·k) × d block. The same indices serve every batch (a shorter one uses their first rows).
  Tensor query_of, row_of, Nbr, Qry;
  if (euclidean) {
    query_of = b.to_device(group_index(batch * k, k));
    row_of = b.to_device(group_index(batch * k * d, d));
    Nbr = b.empty(batch * k, d);
    Qry = b.empty(batch * k, d);
  }
  for (std::int64_t begin = 0; begin < n_q; begin += batch) {
    const std::int64_t end = std::min(n_q, begin + batch), rows = end - begin, m = rows * k;
    Tensor Ib = I.row_slice(0, rows), Vb = V.row_slice(0, rows);
    search(begin, end, Ib, Vb);
    if (!euclidean) {
      // Exact sums of |q − x|^p, no cancellation: the search's k are the neighbours. The
      // distance is the p-th root (p = 1 and ∞: the value itself).
      if (distances && p_exp != 1.0f && p_exp != std::numeric_limits<float>::infinity()) {
        b.map(MapFn::pow, Vb, Vb, MapArgs{1.0f, 0.0f, 1.0f / p_exp});
      }
      body(begin, end, Ib, Vb);
      continue;
    }
    // sqdist's ‖q‖² + ‖x‖² − 2·q·x cancels: in f32 a neighbour 1e-5 from the query, both
    // of norm ~1, comes out as 0 (the terms' rounding, ~1e-7 each, swamps the 1e-10 result).
    // So the k candidates' distances (k = k_out + the margin, search_candidates) are computed
    // again from the differences q − x (O(b·k·d), against sqdist's O(b·n_fit·d)), every step
    // an f32 element-wise primitive:
    //   N[r] = fit[I[r]], Q[r] = queries[r / k], N = (Q − N)², V[r] = Σ_p N[r, p]
    // and each query's candidates are re-sorted by these distances (ties: lower index).
    Tensor Nb = Nbr.row_slice(0, m), Qb = Qry.row_slice(0, m), Vcol = Vb.reshaped(m, 1);
    b.gather_rows(fit, Ib.reshaped(m, 1), Nb);
    b.gather_rows(queries.row_slice(begin, end), query_of.row_slice(0, m), Qb);
    b.axpby(1.0f, Qb, -1.0f, Nb);
    b.map(MapFn::square, Nb, Nb);
    b.fill(Vcol, 0.0f);
    b.scatter_add(row_of.row_slice(0, m * d), Nb.reshaped(m * d, 1), Vcol);
    // Each query's candidates sorted by the exact distances (ties: lower index); the first
    // k_out are its neighbours.
    const Tensor Ih = b.to_host(Ib), Vh = b.to_host(Vb);
    Tensor Io(rows, k_out, DType::i32), Vo(rows, k_out);
    std::vector<std::pair<float, std::int32_t>> pairs(k);
    for (std::int64_t q = 0; q < rows; ++q) {
      const float* v = Vh.data<float>() + q * k;
      const std::int32_t* idx = Ih.data<std::int32_t>() + q * k;
      for (std::int64_t j = 0; j < k; ++j) pairs[j] = {v[j], idx[j]};
      std::sort(pairs.begin(), pairs.end());  // NaN distances only come from NaN in X, refused
      for (std::int64_t j = 0; j < k_out; ++j) {
        std::tie(Vo.data<float>()[q * k_out + j], Io.data<std::int32_t>()[q * k_out + j]) =
            pairs[j];
      }
    }
    Tensor Ir = b.to_device(Io), Vr = b.to_device(Vo);
    if (distances) b.map(MapFn::sqrt, Vr, Vr);  // Euclidean distances, as scikit-learn's
    body(begin, end, Ir, Vr);
  }
}

Neighbors KNeighborsBase::kneighbors(const Tensor& X, std::int64_t n_neighbors) const {
  ProfileScope scope = begin_call();
  require_fitted();
  detail::check_samples(X, name());
  detail::check_n_features(X, fit_X_.cols(), name());
  MLCORE_CHECK(n_neighbors >= 0, name() << ": n_neighbors must be >= 1, got " << n_neighbors);
  const std::int64_t k = n_neighbors > 0 ? n_neighbors : options_.n_neighbors;
  MLCORE_CHECK(k <= fit_X_.rows(), name() << ": n_neighbors = " << k
                                          << " is larger than the number of training samples ("
                                          << fit_X_.rows() << ")");
  Neighbors out{Tensor(X.rows(), k, DType::f32), Tensor(X.rows(), k, DType::i32)};
  Backend& b = *backend();
  for_each_batch(X, k, true, [&](std::int64_t begin, std::int64_t end, Tensor& I, Tensor& V) {
    const Tensor Ih = b.to_host(I), Vh = b.to_host(V);
    std::memcpy(out.indices.data<std::int32_t>() + begin * k, Ih.raw(), Ih.size_bytes());
    std::memcpy(out.distances.data<float>() + begin * k, Vh.raw(), Vh.size_bytes());
    (void)end;
  });
  return out;
}

void KNeighborsBase::vote(const Tensor& X, const Tensor& Y_fit,
                          const std::function<void(std::int64_t, std::int64_t, Tensor&,
                                                   const std::vector<float>&)>& finish) const {
  Backend& b = *backend();
  const std::int64_t k = options_.n_neighbors, c = Y_fit.cols();
  const bool uniform = options_.weights == "uniform";
  const std::int64_t batch =
      batch_rows(options_.batch_size, X.rows(), fit_X_.rows(), k, fit_X_.cols(), fused_search());
  const Tensor Y = b.to_device(Y_fit);  // n_fit × c

  // query_of[r] = r / k: neighbour row r of a batch belongs to query r / k. The same index
  // serves every batch (a shorter last batch uses its first rows).
  const Tensor query_of = b.to_device(group_index(batch * k, k));
  Tensor G = b.empty(batch * k, c);  // (b·k) × c   the neighbours' target rows
  Tensor sums = b.empty(batch, c);   // b × c
  Tensor w_host(batch * k, 1);
  std::vector<float> weight_sums(batch);

  for_each_batch(X, k, !uniform, [&](std::int64_t begin, std::int64_t end, Tensor& I, Tensor& V) {
    const std::int64_t rows = end - begin;
    Tensor Gb = G.row_slice(0, rows * k), Sb = sums.row_slice(0, rows);
    b.gather_rows(Y, I.reshaped(rows * k, 1), Gb);  // G[q·k + j, :] = Y[I[q, j], :]
    weight_sums.resize(rows);
    if (uniform) {
      std::fill(weight_sums.begin(), weight_sums.end(), static_cast<float>(k));
    } else {
      // The weights need the zero-distance rule per query, a branchy O(b·k) loop over the k
      // distances we already have: done on the host, then sent back as one column.
      const Tensor Vh = b.to_host(V);
      for (std::int64_t q = 0; q < rows; ++q) {
        weight_sums[q] =
            distance_weights(Vh.data<float>() + q * k, k, w_host.data<float>() + q * k);
      }
      const Tensor w = b.to_device(w_host.row_slice(0, rows * k));
      b.scale_rows(w, Gb);  // G[r, :] *= w[r]
    }
    b.fill(Sb, 0.0f);
    b.scatter_add(query_of.row_slice(0, rows * k), Gb, Sb);  // S[q, :] += G[q·k + j, :]
    finish(begin, end, Sb, weight_sums);
  });
}

void KNeighborsBase::visit_base(Archive& a) {
  a(options_.n_neighbors, options_.weights, options_.batch_size);
  if (a.version() >= 3) a(options_.p);
  if (!a.fitted(fitted_, 2)) return;
  a(fit_X_);
  if (a.loading()) {
    MLCORE_CHECK(fit_X_.dtype() == DType::f32 && fit_X_.rows() >= options_.n_neighbors,
                 name() << ": the saved model is inconsistent");
  }
}

// ---- KNeighborsClassifier ----------------------------------------------------------------------

KNeighborsClassifier::KNeighborsClassifier(const KNeighborsOptions& options, BackendPtr backend)
    : KNeighborsBase(options, std::move(backend), "KNeighborsClassifier") {}

KNeighborsClassifier& KNeighborsClassifier::fit(const Tensor& X, const Tensor& y) {
  ProfileScope scope = begin_call();
  fitted_ = false;
  fit_samples(X);
  detail::check_targets(y, X.rows(), name());
  // One class is allowed: every prediction is then that class (as scikit-learn does).
  detail::LabelEncoding enc = detail::encode_labels(y, name(), 1);
  classes_ = enc.classes;
  const std::int64_t n_classes = static_cast<std::int64_t>(classes_.size());
  one_hot_ = Tensor::zeros(X.rows(), n_classes);
  for (std::int64_t i = 0; i < X.rows(); ++i) one_hot_.at<float>(i, enc.code[i]) = 1.0f;
  fitted_ = true;
  return *this;
}

const std::vector<double>& KNeighborsClassifier::classes() const {
  require_fitted();
  return classes_;
}

Tensor KNeighborsClassifier::predict_proba(const Tensor& X) const {
  ProfileScope scope = begin_call();
  require_fitted();
  detail::check_samples(X, name());
  detail::check_n_features(X, fit_X_.cols(), name());
  Backend& b = *backend();
  const std::int64_t c = one_hot_.cols();
  Tensor proba(X.rows(), c);
  std::vector<float> inv;
  vote(X, one_hot_,
       [&](std::int64_t begin, std::int64_t end, Tensor& votes,
           const std::vector<float>& weight_sums) {
         // proba = votes / Σ weights, row by row.
         inv.resize(weight_sums.size());
         for (std::size_t q = 0; q < inv.size(); ++q) inv[q] = 1.0f / weight_sums[q];
         const Tensor inv_dev = b.to_device(detail::column(inv));
         b.scale_rows(inv_dev, votes);
         const Tensor h = b.to_host(votes);
         std::memcpy(proba.data<float>() + begin * c, h.raw(), h.size_bytes());
         (void)end;
       });
  return proba;
}

Tensor KNeighborsClassifier::predict(const Tensor& X) const {
  ProfileScope scope = begin_call();
  require_fitted();
  detail::check_samples(X, name());
  detail::check_n_features(X, fit_X_.cols(), name());
  Backend& b = *backend();
  Tensor labels(X.rows(), 1);
  const std::int64_t batch = batch_rows(options_.batch_size, X.rows(), fit_X_.rows(),
                                        options_.n_neighbors, fit_X_.cols(), fused_search());
  Tensor best = b.empty(batch, 1, DType::i32), best_value = b.empty(batch, 1);
  vote(X, one_hot_,
       [&](std::int64_t begin, std::int64_t end, Tensor& votes, const std::vector<float>&) {
         // The most voted class is the argmin of −votes; ties go to the lower column, i.e. the
         // smallest class, which is scikit-learn's rule too.
         const std::int64_t rows = end - begin;
         Tensor bi = best.row_slice(0, rows), bv = best_value.row_slice(0, rows);
         b.map(MapFn::identity, votes, votes, MapArgs{-1.0f, 0.0f, 1.0f});
         b.argmin_rows(votes, bi, bv);
         const Tensor h = b.to_host(bi);
         for (std::int64_t q = 0; q < rows; ++q) {
           labels.data<float>()[begin + q] =
               static_cast<float>(classes_[h.data<std::int32_t>()[q]]);
         }
       });
  return labels;
}

void KNeighborsClassifier::visit(Archive& a) {
  visit_base(a);
  if (!fitted_) return;
  a(classes_, one_hot_);
  if (a.loading()) {
    MLCORE_CHECK(one_hot_.rows() == fit_X_.rows() &&
                     one_hot_.cols() == static_cast<std::int64_t>(classes_.size()) &&
                     !classes_.empty(),
                 "KNeighborsClassifier: the saved model is inconsistent");
  }
}

// ---- KNeighborsRegressor -----------------------------------------------------------------------

KNeighborsRegressor::KNeighborsRegressor(const KNeighborsOptions& options, BackendPtr backend)
    : KNeighborsBase(options, std::move(backend), "KNeighborsRegressor") {}

KNeighborsRegressor& KNeighborsRegressor::fit(const Tensor& X, const Tensor& y) {
  ProfileScope scope = begin_call();
  fitted_ = false;
  fit_samples(X);
  // y: a vector of n targets (either orientation), or an n × n_outputs matrix.
  const bool vector = (y.rows() == 1 || y.cols() == 1) && y.numel() == X.rows();
  if (vector) {
    detail::check_targets(y, X.rows(), name());
    targets_ = y.clone().reshaped(X.rows(), 1);
  } else {
    MLCORE_CHECK(
        y.device() == Device::host && y.dtype() == DType::f32 && y.rows() == X.rows() &&
            y.cols() >= 1,
        name() << ": y must have one row per sample (" << X.rows() << "), got " << y.describe());
    detail::check_samples(y, name(), "y");
    targets_ = y.clone();
  }
  fitted_ = true;
  return *this;
}

std::int64_t KNeighborsRegressor::n_outputs() const {
  require_fitted();
  return targets_.cols();
}

Tensor KNeighborsRegressor::predict(const Tensor& X) const {
  ProfileScope scope = begin_call();
  require_fitted();
  detail::check_samples(X, name());
  detail::check_n_features(X, fit_X_.cols(), name());
  Backend& b = *backend();
  const std::int64_t t = targets_.cols();
  Tensor out(X.rows(), t);
  std::vector<float> inv;
  vote(X, targets_,
       [&](std::int64_t begin, std::int64_t end, Tensor& sums,
           const std::vector<float>& weight_sums) {
         // The weighted mean: Σ w·y / Σ w.
         inv.resize(weight_sums.size());
         for (std::size_t q = 0; q < inv.size(); ++q) inv[q] = 1.0f / weight_sums[q];
         const Tensor inv_dev = b.to_device(detail::column(inv));
         b.scale_rows(inv_dev, sums);
         const Tensor h = b.to_host(sums);
         std::memcpy(out.data<float>() + begin * t, h.raw(), h.size_bytes());
         (void)end;
       });
  return out;
}

void KNeighborsRegressor::visit(Archive& a) {
  visit_base(a);
  if (!fitted_) return;
  a(targets_);
  if (a.loading()) {
    MLCORE_CHECK(
        targets_.dtype() == DType::f32 && targets_.rows() == fit_X_.rows() && targets_.cols() >= 1,
        "KNeighborsRegressor: the saved model is inconsistent");
  }
}

}  // namespace mlcore
