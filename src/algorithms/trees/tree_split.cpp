// Split finding from a node histogram (see tree_split.hpp). One scan loop, specialised per
// criterion at compile time so the per-bin arithmetic has no branches on the criterion.
#include "algorithms/trees/tree_split.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <type_traits>

#include "algorithms/trees/tree_parallel.hpp"

namespace mlcore::detail {

namespace {

inline double xlog2x(double x) { return x > 0 ? x * std::log2(x) : 0.0; }

// Each criterion: weight (the min_samples_leaf statistic), score (the proxy), leaf_ok.
struct Gini {
  static double weight(const GrowerParams& p, const double* s) {
    double w = 0;
    for (int k = 0; k < p.n_stats; ++k) w += s[k];
    return w;
  }
  static double score(const GrowerParams& p, const double* s, double w) {
    double sq = 0;
    for (int k = 0; k < p.n_stats; ++k) sq += s[k] * s[k];
    return w > 0 ? sq / w : 0.0;
  }
  static bool leaf_ok(const GrowerParams& p, const double*, double w) {
    return w >= double(p.min_samples_leaf) && w > 0;
  }
};

struct Entropy : Gini {
  static double score(const GrowerParams& p, const double* s, double w) {
    double acc = 0;
    for (int k = 0; k < p.n_stats; ++k) acc += xlog2x(s[k]);
    return acc - xlog2x(w);
  }
};

struct SquaredError {
  static double weight(const GrowerParams&, const double* s) { return s[0]; }
  static double score(const GrowerParams&, const double* s, double w) {
    return w > 0 ? s[1] * s[1] / w : 0.0;
  }
  static bool leaf_ok(const GrowerParams& p, const double*, double w) {
    return w >= double(p.min_samples_leaf) && w > 0;
  }
};

struct Gradient {
  static double weight(const GrowerParams&, const double* s) { return s[0]; }
  static double hessian(const GrowerParams& p, const double* s) {
    return p.constant_hessian ? s[0] : s[2] * p.inv_hessian_scale;
  }
  static double score(const GrowerParams& p, const double* s, double) {
    const double g = s[1] * p.inv_value_scale;
    return g * g / (hessian(p, s) + p.l2_regularization);
  }
  static bool leaf_ok(const GrowerParams& p, const double* s, double w) {
    return w >= double(p.min_samples_leaf) && w > 0 && hessian(p, s) >= p.min_hessian_to_split;
  }
};

// Where NaN goes at prediction after a split of a node that held no missing value of feature f:
// the larger child, the right one on a tie (scikit-learn's n_left > n_right, in both its trees).
// Boosting's exception (HistGradientBoosting's rule): when f had missing values anywhere in
// training, the split search scanned both directions and the first scan, NaN right, wins the
// tie with the second (the missing bin is empty here), so NaN goes right.
inline bool nan_left_without_missing(const GrowerParams& p, std::int32_t f, double wl, double wr) {
  if (p.feature_has_missing != nullptr && p.feature_has_missing[f] != 0) return false;
  return wl > wr;
}

// Scratch of one scan: running sums (n_stats doubles each) and the feature's best candidate of
// each kind (see scan_feature), reused so that a scan allocates nothing.
struct Scratch {
  std::vector<double> left, right, left_missing;
  SplitInfo nan_right, nan_left;
  explicit Scratch(int q) : left(q), right(q), left_missing(q) {}
};

// Keeps `candidate` when it is strictly better than `best`: the first of equal gains wins.
inline void keep_if_better(const SplitInfo& candidate, SplitInfo& best) {
  if (candidate.valid && (!best.valid || candidate.gain > best.gain)) best = candidate;
}

// Scores every boundary of feature f into `best`. h: the feature's histogram rows, value bins
// 0..nb−1 then the missing bin nb. bins: the value bins to visit, ascending, or nullptr for all
// of them (count = nb).
//
// Which of several equal gains wins is scikit-learn's order, for the same tree on the same data
// (it matters on symmetric data, e.g. "NaN and the smallest values left" against "NaN and the
// largest values right"). Both its splitters score, with "first strictly best wins":
//   1. every boundary with the missing values right, ascending, ending with "every value left,
//      NaN right";
//   2. every boundary with the missing values left (at least one value with them: "NaN alone
//      left" is the mirror of the end of scan 1), ascending in the trees (DecisionTree*,
//      forests), descending in HistGradientBoosting (its right-to-left scan).
// One pass over the bins computes every candidate; each scan keeps its own best (ties: the
// first met, or for boosting's descending scan 2 the last), and the two are merged in order.
//
// Visiting only the non-empty bins (a SparseHistogram) meets the same best candidates as
// visiting all of them: an empty bin repeats its predecessor's candidates, which are never
// strictly better; boosting's descending scan 2 meets the highest of such repeats first, so its
// candidate takes the boundary just below the next non-empty bin, as the full scan's "last of
// equals" does.
// Q > 0: the number of statistics, known at compile time (2 or 3: regression trees and
// boosting), so the running sums live in registers and their loops unroll; Q = 0: p.n_stats
// (a classification tree's classes) in the Scratch vectors.
template <class C, int Q>
void scan_feature(const GrowerParams& p, const double* h, int nb, const std::uint8_t* bins,
                  int count, const double* total, double parent_score, std::int32_t f, Scratch& s,
                  SplitInfo& best) {
  static_assert(Q <= 3, "the register path holds at most 3 statistics");
  constexpr bool kBoosting = std::is_same_v<C, Gradient>;
  const int q = Q > 0 ? Q : p.n_stats;
  // Three slots even for Q = 2: Gradient::hessian names s[2] behind its constant-hessian test.
  double left_q[3] = {}, right_q[3] = {}, left_missing_q[3] = {};
  double* left = Q > 0 ? left_q : s.left.data();
  double* right = Q > 0 ? right_q : s.right.data();
  double* left_missing = Q > 0 ? left_missing_q : s.left_missing.data();
  const double* miss = h + static_cast<std::ptrdiff_t>(nb) * q;
  const bool has_missing = C::weight(p, miss) > 0;
  for (int k = 0; k < q; ++k) left[k] = 0.0;
  s.nan_right.valid = s.nan_left.valid = false;
  auto consider = [&](SplitInfo& kind, bool last_of_equals, const double* l, const double* r,
                      int bin, bool missing_left) {
    const double wl = C::weight(p, l), wr = C::weight(p, r);
    if (!C::leaf_ok(p, l, wl) || !C::leaf_ok(p, r, wr)) return;
    const double gain = C::score(p, l, wl) + C::score(p, r, wr) - parent_score;
    if (kind.valid && !(gain > kind.gain) && !(last_of_equals && gain == kind.gain)) return;
    kind.valid = true;
    kind.feature = f;
    kind.bin = bin;
    kind.gain = gain;
    kind.missing_left = has_missing ? missing_left : nan_left_without_missing(p, f, wl, wr);
    kind.left.assign(l, l + q);
  };
  for (int idx = 0; idx < count; ++idx) {
    const int b = bins != nullptr ? bins[idx] : idx;
    const double* row = h + static_cast<std::ptrdiff_t>(b) * q;
    for (int k = 0; k < q; ++k) left[k] += row[k];
    const bool last = (idx == count - 1);
    if (last && !has_missing) break;  // everything left: not a split
    // Missing values to the right (at the last boundary: values left, missing right).
    for (int k = 0; k < q; ++k) right[k] = total[k] - left[k];
    consider(s.nan_right, false, left, right, b, false);
    if (has_missing && !last && C::weight(p, left) > 0) {  // missing values to the left
      for (int k = 0; k < q; ++k) {
        left_missing[k] = left[k] + miss[k];
        right[k] = total[k] - left_missing[k];
      }
      const int top = bins != nullptr ? bins[idx + 1] - 1 : b;  // highest boundary of this split
      consider(s.nan_left, kBoosting, left_missing, right, kBoosting ? top : b, true);
    }
  }
  keep_if_better(s.nan_right, best);
  keep_if_better(s.nan_left, best);
}

// scan_feature for the gradient criterion on a full histogram, when the node has no missing
// value: boosting's common case, and most of its scanning time. The same candidates, gains
// (the same operations in the same order, so the same doubles) and first-best-wins choice as
// scan_feature, in three passes, so that the middle one — two divisions per boundary, where
// the time goes — is a branch-free loop over arrays that the compiler vectorises:
//   1. running sums: left statistics of every boundary b (bins 0..b left, the rest right);
//   2. every boundary's gain;
//   3. the first largest gain among the boundaries whose children keep the leaf rules.
template <int Q, bool kConstantHessian>
void scan_gradient_dense(const GrowerParams& p, const double* h, int nb, const double* total,
                         double parent_score, std::int32_t f, SplitInfo& best) {
  const int boundaries = nb - 1;  // the last bin puts everything left: not a split
  if (boundaries <= 0) return;
  thread_local std::vector<double> buffer;
  buffer.resize(static_cast<std::size_t>(4 * boundaries));
  double* w_left = buffer.data();        // count (weight) left
  double* g_left = w_left + boundaries;  // Σ q_g left
  double* h_left = g_left + boundaries;  // Σ q_h left (Q = 3)
  double* gain = h_left + boundaries;
  double left[3] = {0, 0, 0};
  for (int b = 0; b < boundaries; ++b) {
    for (int k = 0; k < Q; ++k) left[k] += h[b * Q + k];
    w_left[b] = left[0];
    g_left[b] = left[1];
    h_left[b] = Q == 3 ? left[2] : 0.0;
  }
  const double lambda = p.l2_regularization, inv_g = p.inv_value_scale;
  const double inv_h = p.inv_hessian_scale;
  // Gradient::hessian: the count when the hessian is constant (a missing third statistic reads
  // as 0, as the general loop's zeroed third slot does).
  auto hessians = [&](int b, double* hl, double* hr) {
    const double wl = w_left[b], wr = total[0] - wl;
    *hl = kConstantHessian ? wl : h_left[b] * inv_h;
    *hr = kConstantHessian ? wr : (Q == 3 ? total[2] - h_left[b] : 0.0) * inv_h;
  };
  for (int b = 0; b < boundaries; ++b) {  // pure arithmetic: vectorised
    double hl, hr;
    hessians(b, &hl, &hr);
    const double gl = g_left[b] * inv_g, gr = (total[1] - g_left[b]) * inv_g;
    gain[b] = (gl * gl / (hl + lambda) + gr * gr / (hr + lambda)) - parent_score;
  }
  const double min_leaf = double(p.min_samples_leaf), min_h = p.min_hessian_to_split;
  for (int b = 0; b < boundaries; ++b) {
    if (best.valid && !(gain[b] > best.gain)) continue;
    const double wl = w_left[b], wr = total[0] - wl;
    double hl, hr;
    hessians(b, &hl, &hr);
    if (!(wl >= min_leaf && wl > 0 && hl >= min_h && wr >= min_leaf && wr > 0 && hr >= min_h)) {
      continue;  // a child breaks a leaf rule (Gradient::leaf_ok)
    }
    best.valid = true;
    best.feature = f;
    best.bin = b;
    best.gain = gain[b];
    best.missing_left = nan_left_without_missing(p, f, wl, wr);  // the node has no NaN
    const double l[3] = {w_left[b], g_left[b], h_left[b]};
    best.left.assign(l, l + Q);
  }
}

// A node's histogram as the scan sees it: per feature, its rows and the value bins to visit.
struct DenseView {
  const Histogram& hist;
  const BinMapper& mapper;
  int q;
  const double* rows(std::int64_t f) const {
    return hist.data() + static_cast<std::ptrdiff_t>(mapper.offset(f)) * q;
  }
  const std::uint8_t* bins(std::int64_t f, int* count) const {
    *count = mapper.n_bins(f);
    return nullptr;  // all of them
  }
  std::int64_t cells() const { return static_cast<std::int64_t>(hist.size()); }
};

struct SparseView {
  const SparseHistogram& hist;
  const double* rows(std::int64_t f) const { return hist.feature_rows(f); }
  const std::uint8_t* bins(std::int64_t f, int* count) const { return hist.value_bins(f, count); }
  std::int64_t cells() const { return 0; }  // small: never worth a second thread
};

// True when all of feature f's weight in this node sits in one bin (no split possible).
template <class C, class View>
bool constant_feature(const GrowerParams& p, const View& view, std::int64_t f, int nb) {
  const double* h = view.rows(f);
  int count = 0;
  const std::uint8_t* bins = view.bins(f, &count);
  int nonempty = C::weight(p, h + static_cast<std::ptrdiff_t>(nb) * p.n_stats) > 0 ? 1 : 0;
  for (int idx = 0; idx < count; ++idx) {
    const int b = bins != nullptr ? bins[idx] : idx;
    if (C::weight(p, h + static_cast<std::ptrdiff_t>(b) * p.n_stats) > 0 && ++nonempty > 1) {
      return false;
    }
  }
  return true;
}

template <class C, class View>
void scan_one(const GrowerParams& p, const View& view, const BinMapper& mapper, std::int64_t f,
              const double* total, double parent, Scratch& scratch, SplitInfo& best) {
  int count = 0;
  const std::uint8_t* bins = view.bins(f, &count);
  const int nb = mapper.n_bins(f);
  const auto feature = static_cast<std::int32_t>(f);
  if constexpr (std::is_same_v<C, Gradient>) {
    const double* h = view.rows(f);
    const bool no_missing = !(C::weight(p, h + static_cast<std::ptrdiff_t>(nb) * p.n_stats) > 0);
    if (bins == nullptr && no_missing && (p.n_stats == 2 || p.n_stats == 3)) {
      if (p.n_stats == 2 && p.constant_hessian) {
        scan_gradient_dense<2, true>(p, h, nb, total, parent, feature, best);
      } else if (p.n_stats == 2) {
        scan_gradient_dense<2, false>(p, h, nb, total, parent, feature, best);
      } else if (p.constant_hessian) {
        scan_gradient_dense<3, true>(p, h, nb, total, parent, feature, best);
      } else {
        scan_gradient_dense<3, false>(p, h, nb, total, parent, feature, best);
      }
      return;
    }
  }
  switch (p.n_stats) {
    case 2:
      scan_feature<C, 2>(p, view.rows(f), nb, bins, count, total, parent, feature, scratch, best);
      break;
    case 3:
      scan_feature<C, 3>(p, view.rows(f), nb, bins, count, total, parent, feature, scratch, best);
      break;
    default:
      scan_feature<C, 0>(p, view.rows(f), nb, bins, count, total, parent, feature, scratch, best);
  }
}

// Scans features [f_begin, f_end) (all of them) into `best`.
template <class C, class View>
void scan_range(const View& view, const std::vector<double>& node_stats, const BinMapper& mapper,
                const GrowerParams& p, double parent, std::int64_t f_begin, std::int64_t f_end,
                SplitInfo& best) {
  Scratch scratch(p.n_stats);
  for (std::int64_t f = f_begin; f < f_end; ++f) {
    if (p.allowed_features != nullptr && !p.allowed_features[f]) continue;
    scan_one<C>(p, view, mapper, f, node_stats.data(), parent, scratch, best);
  }
}

template <class C, class View>
SplitInfo find_split(const View& view, const std::vector<double>& node_stats,
                     const BinMapper& mapper, const GrowerParams& p, std::mt19937_64& rng) {
  SplitInfo best;
  const std::int64_t d = mapper.n_features();
  const double parent = C::score(p, node_stats.data(), C::weight(p, node_stats.data()));
  const std::int64_t wanted = (p.max_features <= 0 || p.max_features >= d) ? d : p.max_features;
  if (wanted == d) {
    // Every feature, in order. A large histogram is scanned in contiguous feature ranges on
    // parallel threads; taking range 0's best unless a later range's is strictly better is
    // exactly the sequential scan's "first best wins".
    const int threads = tree_threads();
    const int parts = static_cast<int>(
        std::min<std::int64_t>({threads, d, std::max<std::int64_t>(1, view.cells() / 4096)}));
    if (parts <= 1) {
      scan_range<C>(view, node_stats, mapper, p, parent, 0, d, best);
      return best;
    }
    std::vector<SplitInfo> bests(parts);
    parallel::for_each_static(parts, parts, [&](std::int64_t t) {
      scan_range<C>(view, node_stats, mapper, p, parent, d * t / parts, d * (t + 1) / parts,
                    bests[t]);
    });
    for (SplitInfo& s : bests) {
      if (s.valid && (!best.valid || s.gain > best.gain)) best = std::move(s);
    }
    return best;
  }
  // Draw features without replacement until `wanted` non-constant ones were examined (a
  // constant feature drawn does not count, as in scikit-learn).
  Scratch scratch(p.n_stats);
  std::vector<std::int32_t> features(d);
  std::iota(features.begin(), features.end(), 0);
  std::int64_t examined = 0;
  for (std::int64_t i = 0; i < d && examined < wanted; ++i) {
    std::uniform_int_distribution<std::int64_t> pick(i, d - 1);
    std::swap(features[i], features[pick(rng)]);
    const std::int32_t f = features[i];
    if (p.allowed_features != nullptr && !p.allowed_features[f]) continue;
    if (constant_feature<C>(p, view, f, mapper.n_bins(f))) continue;
    ++examined;
    scan_one<C>(p, view, mapper, f, node_stats.data(), parent, scratch, best);
  }
  return best;
}

template <class View>
SplitInfo find_split_for(const View& view, const std::vector<double>& node_stats,
                         const BinMapper& mapper, const GrowerParams& params,
                         std::mt19937_64& rng) {
  GrowerParams p = params;
  p.inv_value_scale = 1.0 / params.value_scale;
  p.inv_hessian_scale = 1.0 / params.hessian_scale;
  switch (p.criterion) {
    case SplitCriterion::gini:
      return find_split<Gini>(view, node_stats, mapper, p, rng);
    case SplitCriterion::entropy:
      return find_split<Entropy>(view, node_stats, mapper, p, rng);
    case SplitCriterion::squared_error:
      return find_split<SquaredError>(view, node_stats, mapper, p, rng);
    default:
      return find_split<Gradient>(view, node_stats, mapper, p, rng);
  }
}

}  // namespace

double node_weight(const GrowerParams& p, const double* stats) {
  switch (p.criterion) {
    case SplitCriterion::gini:
    case SplitCriterion::entropy:
      return Gini::weight(p, stats);
    default:
      return stats[0];
  }
}

bool node_pure(const GrowerParams& p, const double* stats) {
  if (p.criterion != SplitCriterion::gini && p.criterion != SplitCriterion::entropy) return false;
  const double w = Gini::weight(p, stats);
  for (int k = 0; k < p.n_stats; ++k) {
    if (stats[k] == w) return true;
  }
  return false;
}

double gain_unit(const GrowerParams& p) {
  return p.criterion == SplitCriterion::squared_error ? 1.0 / (p.value_scale * p.value_scale) : 1.0;
}

SplitInfo find_best_split(const Histogram& hist, const std::vector<double>& node_stats,
                          const BinMapper& mapper, const GrowerParams& params,
                          std::mt19937_64& rng) {
  return find_split_for(DenseView{hist, mapper, params.n_stats}, node_stats, mapper, params, rng);
}

SplitInfo find_best_split(const SparseHistogram& hist, const std::vector<double>& node_stats,
                          const BinMapper& mapper, const GrowerParams& params,
                          std::mt19937_64& rng) {
  return find_split_for(SparseView{hist}, node_stats, mapper, params, rng);
}

// ---- SparseHistogram ---------------------------------------------------------------------------

SparseHistogram::SparseHistogram(const BinMapper& mapper, int n_stats)
    : mapper_(mapper),
      q_(n_stats),
      sums_(static_cast<std::size_t>(mapper.total_bins()) * n_stats, 0.0),
      touched_(static_cast<std::size_t>(mapper.total_bins()), 0),
      bins_(static_cast<std::size_t>(mapper.n_features()) * 256),
      count_(static_cast<std::size_t>(mapper.n_features()), 0),
      value_count_(static_cast<std::size_t>(mapper.n_features()), 0),
      sample_(static_cast<std::size_t>(n_stats), 0.0) {}

void SparseHistogram::build(const BinnedData& data, const HistogramBuilder& values,
                            const std::int32_t* rows, std::int64_t m) {
  const std::int64_t d = data.d;
  const int q = q_;
  double* s = sample_.data();
  for (std::int64_t k = 0; k < m; ++k) {
    const std::int64_t i = rows[k];
    const std::uint8_t* code = data.row_codes + i * d;
    values.sample_stats(i, s);
    for (std::int64_t f = 0; f < d; ++f) {
      const std::int64_t bin = mapper_.offset(f) + code[f];
      if (!touched_[bin]) {
        touched_[bin] = 1;
        bins_[f * 256 + count_[f]++] = code[f];
      }
      double* a = sums_.data() + bin * q;
      for (int j = 0; j < q; ++j) a[j] += s[j];
    }
  }
  // Each feature's codes in ascending order: an insertion sort for a few, else read back from
  // the touched flags in bin order (n_bins + 1 bytes).
  for (std::int64_t f = 0; f < d; ++f) {
    std::uint8_t* list = bins_.data() + f * 256;
    const int count = count_[f], nb = mapper_.n_bins(f);
    if (count <= 16) {
      for (int a = 1; a < count; ++a) {
        const std::uint8_t v = list[a];
        int b = a;
        for (; b > 0 && list[b - 1] > v; --b) list[b] = list[b - 1];
        list[b] = v;
      }
    } else {
      const std::uint8_t* t = touched_.data() + mapper_.offset(f);
      int out = 0;
      for (int c = 0; c <= nb; ++c) {
        if (t[c]) list[out++] = static_cast<std::uint8_t>(c);
      }
    }
    value_count_[f] = (count > 0 && list[count - 1] == nb) ? count - 1 : count;
  }
}

void SparseHistogram::clear() {
  const std::int64_t d = mapper_.n_features();
  for (std::int64_t f = 0; f < d; ++f) {
    const std::uint8_t* list = bins_.data() + f * 256;
    for (int idx = 0; idx < count_[f]; ++idx) {
      const std::int64_t bin = mapper_.offset(f) + list[idx];
      touched_[bin] = 0;
      std::fill_n(sums_.data() + bin * q_, q_, 0.0);
    }
    count_[f] = 0;
    value_count_[f] = 0;
  }
}

const double* SparseHistogram::feature_rows(std::int64_t f) const {
  return sums_.data() + static_cast<std::ptrdiff_t>(mapper_.offset(f)) * q_;
}

const std::uint8_t* SparseHistogram::value_bins(std::int64_t f, int* count) const {
  *count = value_count_[f];
  return bins_.data() + f * 256;
}

}  // namespace mlcore::detail
