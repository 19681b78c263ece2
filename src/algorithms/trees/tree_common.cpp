// Shared pieces of the tree estimators (see tree_common.hpp).
#include "algorithms/trees/tree_common.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "algorithms/trees/flat_tree.hpp"
#include "mlcore/error.hpp"
#include "mlcore/parallel.hpp"

namespace mlcore::detail {

void check_tree_samples(const Tensor& X, const char* estimator) {
  MLCORE_CHECK(X.device() == Device::host && X.dtype() == DType::f32,
               estimator << ": X must be a host f32 tensor, got " << X.describe());
  MLCORE_CHECK(X.rows() >= 1, estimator << ": X has no samples (" << X.describe() << ")");
  MLCORE_CHECK(X.cols() >= 1, estimator << ": X has no features (" << X.describe() << ")");
  // One branch-free pass (the compiler vectorises it: |x| == inf on 8 floats at a time), and
  // the position searched for only when there is one to report.
  const float* x = X.data<float>();
  bool any_inf = false;
  for (std::int64_t i = 0; i < X.numel(); ++i) any_inf |= std::fabs(x[i]) == INFINITY;
  if (any_inf) {
    std::int64_t i = 0;
    while (!std::isinf(x[i])) ++i;
    MLCORE_FAIL(estimator << ": X contains infinity at [" << i / X.cols() << ", " << i % X.cols()
                          << "] (NaN is allowed: a missing value)");
  }
  MLCORE_CHECK(double(X.rows()) <= kMaxTotalWeight,
               estimator << ": at most 2^24 − 1 samples are supported, got " << X.rows());
}

void check_tree_options(const char* estimator, std::int64_t max_depth,
                        std::int64_t min_samples_split, std::int64_t min_samples_leaf,
                        double min_impurity_decrease, int max_bins, std::int64_t max_leaf_nodes) {
  MLCORE_CHECK(max_depth == -1 || max_depth >= 1,
               estimator << ": max_depth must be ≥ 1 or None (-1), got " << max_depth);
  MLCORE_CHECK(min_samples_split >= 2, estimator
                                           << ": min_samples_split must be an integer ≥ 2, got "
                                           << min_samples_split);
  MLCORE_CHECK(min_samples_leaf >= 1,
               estimator << ": min_samples_leaf must be an integer ≥ 1, got " << min_samples_leaf);
  MLCORE_CHECK(min_impurity_decrease >= 0 && std::isfinite(min_impurity_decrease),
               estimator << ": min_impurity_decrease must be ≥ 0, got " << min_impurity_decrease);
  MLCORE_CHECK(max_bins >= 2 && max_bins <= 255,
               estimator << ": max_bins must be in [2, 255], got " << max_bins);
  MLCORE_CHECK(max_leaf_nodes == kNoLimit || max_leaf_nodes >= 2,
               estimator << ": max_leaf_nodes must be ≥ 2 or None (-1), got " << max_leaf_nodes);
}

void check_regression_criterion(const std::string& name, const char* estimator) {
  MLCORE_CHECK(name == "squared_error" || name == "friedman_mse",
               estimator << ": criterion must be 'squared_error' or 'friedman_mse' (others, such "
                            "as 'absolute_error' and 'poisson', are not supported by mlcore), got '"
                         << name << "'");
}

BinnedTrainingSet bin_training_set(const Tensor& X, int max_bins, std::uint64_t seed,
                                   Backend& backend, const std::vector<double>& weights) {
  BinnedTrainingSet s;
  s.n = X.rows();
  s.d = X.cols();
  const std::vector<std::int32_t> rows = weighted_rows(weights, s.n);
  if (static_cast<std::int64_t>(rows.size()) == s.n) {
    s.mapper.fit(X, max_bins, seed);
  } else {  // host preprocessing, like the binning itself: a copy of the weighted rows
    Tensor kept(static_cast<std::int64_t>(rows.size()), s.d);
    for (std::size_t r = 0; r < rows.size(); ++r) {
      std::copy_n(X.data<float>() + rows[r] * s.d, s.d, kept.data<float>() + r * s.d);
    }
    s.mapper.fit(kept, max_bins, seed);
  }
  s.codes = s.mapper.transform(X);
  s.device_feature_codes = backend.to_device(Tensor::borrow(s.codes.data(), s.d, s.n, DType::i8));
  s.row_codes = s.mapper.histogram_codes(s.codes, s.n);
  s.device_codes = backend.to_device(s.row_codes);
  s.device_offsets = backend.to_device(s.mapper.histogram_offsets());
  return s;
}

std::vector<double> integer_sample_weights(const Tensor& sample_weight, std::int64_t n,
                                           const char* estimator) {
  if (sample_weight.numel() == 0) return {};
  MLCORE_CHECK(sample_weight.dtype() == DType::f32 && sample_weight.numel() == n,
               estimator << ": sample_weight must hold " << n << " f32 values, got "
                         << sample_weight.numel());
  std::vector<double> w(static_cast<std::size_t>(n));
  double total = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const double v = sample_weight.data<float>()[i];
    MLCORE_CHECK(std::isfinite(v) && v >= 0 && v == std::floor(v) && v < (1 << 24),
                 estimator << ": sample_weight must be whole numbers >= 0 (the trees keep exact "
                              "integer counts in their histograms), got sample_weight["
                           << i << "] = " << v);
    w[i] = v;
    total += v;
  }
  MLCORE_CHECK(total > 0, estimator << ": sample_weight is 0 for every sample");
  MLCORE_CHECK(total <= kMaxTotalWeight, estimator << ": sample_weight sums to " << total
                                                   << "; the exact histogram counts hold at most "
                                                   << kMaxTotalWeight);
  return w;
}

std::vector<std::int32_t> weighted_rows(const std::vector<double>& weights, std::int64_t n) {
  std::vector<std::int32_t> rows;
  rows.reserve(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    if (weights.empty() || weights[i] > 0) rows.push_back(static_cast<std::int32_t>(i));
  }
  return rows;
}

Tensor class_weight_values(const std::vector<std::int32_t>& codes, int n_classes,
                           const std::vector<double>& weights) {
  const std::int64_t n = static_cast<std::int64_t>(codes.size());
  const int c = padded_columns(n_classes);
  Tensor V(n, c, DType::f32);  // zero-filled; n × c, columns K.. are padding
  float* v = V.data<float>();
  for (std::int64_t i = 0; i < n; ++i) {
    v[i * c + codes[i]] = static_cast<float>(weights.empty() ? 1.0 : weights[i]);
  }
  return V;
}

Tensor regression_values(const float* y, std::int64_t n, const std::vector<double>& weights,
                         double center, PackedCodec& codec) {
  double max_abs = 0, total = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const double w = weights.empty() ? 1.0 : weights[i];
    if (w > 0) max_abs = std::max(max_abs, std::fabs(double(y[i]) - center));
    total += w;
  }
  codec = PackedCodec::for_values(max_abs, total, true);  // keeps Σ w·|q| < 2^39
  Tensor V(n, 1, DType::i64);
  std::int64_t* v = V.data<std::int64_t>();
  for (std::int64_t i = 0; i < n; ++i) {
    const auto w = static_cast<std::int64_t>(weights.empty() ? 1.0 : weights[i]);
    v[i] = w * codec.pack_with_count(double(y[i]) - center);
  }
  return V;
}

std::uint64_t forest_tree_seed(std::uint64_t random_state, std::int64_t t) {
  std::uint64_t z = random_state + 0x9E3779B97F4A7C15ull * static_cast<std::uint64_t>(t + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::vector<double> bootstrap_counts(std::mt19937_64& rng, std::int64_t n, std::int64_t draws) {
  std::vector<double> counts(static_cast<std::size_t>(n), 0.0);
  std::uniform_int_distribution<std::int64_t> draw(0, n - 1);
  for (std::int64_t k = 0; k < draws; ++k) counts[draw(rng)] += 1.0;
  return counts;
}

bool should_stop(const std::vector<double>& scores, std::int64_t n_iter_no_change, double tol) {
  const std::size_t ref = static_cast<std::size_t>(n_iter_no_change) + 1;
  if (scores.size() < ref) return false;
  const double reference = scores[scores.size() - ref] + tol;
  for (std::size_t j = scores.size() - ref + 1; j < scores.size(); ++j) {
    if (scores[j] > reference) return false;
  }
  return true;
}

std::vector<std::vector<std::uint8_t>> validation_ranks(const std::vector<std::int64_t>& sizes,
                                                        double fraction, std::mt19937_64& rng) {
  std::vector<std::vector<std::uint8_t>> out;
  for (const std::int64_t size : sizes) {
    // std::shuffle's swaps depend on the length and the generator only, so shuffling the ranks
    // moves them as shuffling the group's sample ids would.
    std::vector<std::int32_t> order(static_cast<std::size_t>(size));
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    const std::size_t n_val =
        static_cast<std::size_t>(std::llround(fraction * static_cast<double>(size)));
    std::vector<std::uint8_t> flags(static_cast<std::size_t>(size), 0);
    for (std::size_t j = 0; j < n_val; ++j) flags[order[j]] = 1;
    out.push_back(std::move(flags));
  }
  return out;
}

Tensor apply_tree(Backend& backend, const Tree& tree, const Tensor& X) {
  return walk_leaves(backend, make_walk_table({&tree}, {}), X);
}

Tensor tree_values(Backend& backend, const Tree& tree, const Tensor& X) {
  LeafValues lv;
  lv.columns = tree.n_outputs;
  return backend.to_host(walk_sum(backend, make_walk_table({&tree}, lv), X, 1.0));
}

Tensor normalized_importances(const std::vector<double>& importances) {
  const std::int64_t d = static_cast<std::int64_t>(importances.size());
  Tensor out(1, d);
  double total = 0;
  for (double v : importances) total += v;
  for (std::int64_t f = 0; f < d; ++f) {
    out.at<float>(0, f) = total > 0 ? static_cast<float>(importances[f] / total) : 0.0f;
  }
  return out;
}

}  // namespace mlcore::detail
