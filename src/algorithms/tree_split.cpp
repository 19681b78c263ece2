// Split finding from a node histogram (see tree_split.hpp). One scan loop, specialised per
// criterion at compile time so the per-bin arithmetic has no branches on the criterion.
#include "tree_split.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "tree_parallel.hpp"

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

// Scratch buffers of one scan (n_stats doubles each).
struct Scratch {
  std::vector<double> left, right, left_missing;
  explicit Scratch(int q) : left(q), right(q), left_missing(q) {}
};

// Scores every boundary of feature f (bins h[0..nb], h[nb] the missing bin) into `best`.
template <class C>
void scan_feature(const GrowerParams& p, const double* h, int nb, const double* total,
                  double parent_score, std::int32_t f, Scratch& s, SplitInfo& best) {
  const int q = p.n_stats;
  const double* miss = h + static_cast<std::ptrdiff_t>(nb) * q;
  const bool has_missing = C::weight(p, miss) > 0;
  std::fill(s.left.begin(), s.left.end(), 0.0);
  auto consider = [&](const double* l, const double* r, int bin, bool missing_left) {
    const double wl = C::weight(p, l), wr = C::weight(p, r);
    if (!C::leaf_ok(p, l, wl) || !C::leaf_ok(p, r, wr)) return;
    const double gain = C::score(p, l, wl) + C::score(p, r, wr) - parent_score;
    if (!best.valid || gain > best.gain) {
      best.valid = true;
      best.feature = f;
      best.bin = bin;
      best.gain = gain;
      // With no missing value in the node, NaN later follows the larger child.
      best.missing_left = has_missing ? missing_left : (wl >= wr);
      best.left.assign(l, l + q);
    }
  };
  for (int b = 0; b < nb; ++b) {
    const double* row = h + static_cast<std::ptrdiff_t>(b) * q;
    for (int k = 0; k < q; ++k) s.left[k] += row[k];
    const bool last = (b == nb - 1);
    if (last && !has_missing) break;  // everything left: not a split
    // Missing values to the right (at the last boundary: values left, missing right).
    for (int k = 0; k < q; ++k) s.right[k] = total[k] - s.left[k];
    consider(s.left.data(), s.right.data(), b, false);
    if (has_missing && !last) {  // missing values to the left
      for (int k = 0; k < q; ++k) {
        s.left_missing[k] = s.left[k] + miss[k];
        s.right[k] = total[k] - s.left_missing[k];
      }
      consider(s.left_missing.data(), s.right.data(), b, true);
    }
  }
}

// True when all of feature f's weight in this node sits in one bin (no split possible).
template <class C>
bool constant_feature(const GrowerParams& p, const double* h, int nb) {
  int nonempty = 0;
  for (int b = 0; b <= nb; ++b) {
    if (C::weight(p, h + static_cast<std::ptrdiff_t>(b) * p.n_stats) > 0 && ++nonempty > 1) {
      return false;
    }
  }
  return true;
}

// Scans features [f_begin, f_end) (all of them) into `best`.
template <class C>
void scan_range(const Histogram& hist, const std::vector<double>& node_stats,
                const BinMapper& mapper, const GrowerParams& p, double parent, std::int64_t f_begin,
                std::int64_t f_end, SplitInfo& best) {
  Scratch scratch(p.n_stats);
  for (std::int64_t f = f_begin; f < f_end; ++f) {
    const double* h = hist.data() + static_cast<std::ptrdiff_t>(mapper.offset(f)) * p.n_stats;
    scan_feature<C>(p, h, mapper.n_bins(f), node_stats.data(), parent, static_cast<std::int32_t>(f),
                    scratch, best);
  }
}

template <class C>
SplitInfo find_split(const Histogram& hist, const std::vector<double>& node_stats,
                     const BinMapper& mapper, const GrowerParams& p, std::mt19937_64& rng) {
  SplitInfo best;
  const std::int64_t d = mapper.n_features();
  const double parent = C::score(p, node_stats.data(), C::weight(p, node_stats.data()));
  auto feature_hist = [&](std::int64_t f) {
    return hist.data() + static_cast<std::ptrdiff_t>(mapper.offset(f)) * p.n_stats;
  };
  const std::int64_t wanted = (p.max_features <= 0 || p.max_features >= d) ? d : p.max_features;
  if (wanted == d) {
    // Every feature, in order. A large histogram is scanned in contiguous feature ranges on
    // parallel threads; taking range 0's best unless a later range's is strictly better is
    // exactly the sequential scan's "first best wins".
    const int threads = tree_threads();
    const std::int64_t cells = static_cast<std::int64_t>(hist.size());
    const int parts = static_cast<int>(
        std::min<std::int64_t>({threads, d, std::max<std::int64_t>(1, cells / 16384)}));
    if (parts <= 1) {
      scan_range<C>(hist, node_stats, mapper, p, parent, 0, d, best);
      return best;
    }
    std::vector<SplitInfo> bests(parts);
#pragma omp parallel for num_threads(parts) schedule(static)
    for (int t = 0; t < parts; ++t) {
      scan_range<C>(hist, node_stats, mapper, p, parent, d * t / parts, d * (t + 1) / parts,
                    bests[t]);
    }
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
    if (constant_feature<C>(p, feature_hist(f), mapper.n_bins(f))) continue;
    ++examined;
    scan_feature<C>(p, feature_hist(f), mapper.n_bins(f), node_stats.data(), parent, f, scratch,
                    best);
  }
  return best;
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
  GrowerParams p = params;
  p.inv_value_scale = 1.0 / params.value_scale;
  p.inv_hessian_scale = 1.0 / params.hessian_scale;
  switch (p.criterion) {
    case SplitCriterion::gini:
      return find_split<Gini>(hist, node_stats, mapper, p, rng);
    case SplitCriterion::entropy:
      return find_split<Entropy>(hist, node_stats, mapper, p, rng);
    case SplitCriterion::squared_error:
      return find_split<SquaredError>(hist, node_stats, mapper, p, rng);
    default:
      return find_split<Gradient>(hist, node_stats, mapper, p, rng);
  }
}

}  // namespace mlcore::detail
