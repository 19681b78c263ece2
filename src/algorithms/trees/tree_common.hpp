// Pieces shared by the tree estimators (decision trees, forests, boosting): input checks that
// allow NaN (a missing value), binning a training set onto a backend, and growing options.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "algorithms/trees/tree_grower.hpp"
#include "mlcore/algorithms/trees/binning.hpp"
#include "mlcore/algorithms/trees/tree.hpp"
#include "mlcore/backend.hpp"

namespace mlcore::detail {

// X must be a non-empty host f32 tensor whose values are finite or NaN (missing); ±inf throws.
void check_tree_samples(const Tensor& X, const char* estimator);

// A training set binned once: the mapper, the codes column-major (host, and on the backend's
// device for partitioning a node by one feature) and row-major (host, for the small-node path; and
// on the backend's device with the offsets, for Backend::histogram). Moved, never copied:
// device_feature_codes may borrow `codes`' buffer.
struct BinnedTrainingSet {
  BinMapper mapper;
  std::vector<std::uint8_t> codes;  // d × n
  Tensor device_feature_codes;      // the same as a d × n i8 tensor on the device (a view of
                                    // `codes` on a CPU), for Backend::partition_rows
  Tensor row_codes;                 // n × d i8 (unsigned codes), host
  Tensor device_codes;              // the same on the device (row_codes itself on a CPU)
  Tensor device_offsets;            // 1 × d i32 on the device
  std::int64_t n = 0, d = 0;
  BinnedTrainingSet() = default;
  BinnedTrainingSet(BinnedTrainingSet&&) = default;
  BinnedTrainingSet& operator=(BinnedTrainingSet&&) = default;
  BinnedTrainingSet(const BinnedTrainingSet&) = delete;
  BinnedTrainingSet& operator=(const BinnedTrainingSet&) = delete;
  BinnedData view() const {
    return BinnedData{&mapper,
                      codes.data(),
                      reinterpret_cast<const std::uint8_t*>(row_codes.raw()),
                      &device_feature_codes,
                      n,
                      d};
  }
};
// The bin edges are learned from the rows of positive weight only (all rows when `weights` is
// empty): a row of weight 0 is no training sample, and its value must not place a threshold
// (the fit then equals the fit without the row, as scikit-learn's weight semantics require).
BinnedTrainingSet bin_training_set(const Tensor& X, int max_bins, std::uint64_t seed,
                                   Backend& backend, const std::vector<double>& weights = {});

// Checks shared by the tree options (names as scikit-learn's), throwing mlcore::Error.
void check_tree_options(const char* estimator, std::int64_t max_depth,
                        std::int64_t min_samples_split, std::int64_t min_samples_leaf,
                        double min_impurity_decrease, int max_bins, std::int64_t max_leaf_nodes);

// A regression tree's or forest's criterion must be "squared_error" or "friedman_mse": the same
// criterion (Friedman's improvement w_l·w_r/(w_l + w_r)·(mean_l − mean_r)² is the node's
// squared-error decrease; scikit-learn 1.9 made the name an alias with a FutureWarning).
void check_regression_criterion(const std::string& name, const char* estimator);

// sample_weight of a tree or forest fit as the integer weights the exact histogram statistics
// take (empty when sample_weight is empty: every weight 1). Each must be a whole number ≥ 0
// (weight 2 is the row counted twice, as scikit-learn's equivalence demands), not all 0;
// mlcore::Error naming the first bad one otherwise.
std::vector<double> integer_sample_weights(const Tensor& sample_weight, std::int64_t n,
                                           const char* estimator);
// The rows with a positive weight, ascending (all rows when `weights` is empty).
std::vector<std::int32_t> weighted_rows(const std::vector<double>& weights, std::int64_t n);

// The class-weight statistics of a classification tree: V[i, code_i] = w_i (n × K, integers).
Tensor class_weight_values(const std::vector<std::int32_t>& codes, int n_classes,
                           const std::vector<double>& weights);
// The statistics of a regression tree, packed (PackedCodec): V[i] = w_i·(q_i·2^24 + 1) with
// q_i = round((y_i − center)·S), n × 1 i64, whose sums are [Σ w, Σ w·q]; and the codec. The
// weights (bootstrap counts) are integers.
Tensor regression_values(const float* y, std::int64_t n, const std::vector<double>& weights,
                         double center, PackedCodec& codec);

// A forest's tree t: the seed of its generator (splitmix64 of random_state and t, well mixed),
// and its bootstrap sample drawn from that generator first (`draws` draws with replacement
// among n, n unless max_samples says otherwise; counts[i] = times sample i was drawn). The
// generator then draws the tree's features.
std::uint64_t forest_tree_seed(std::uint64_t random_state, std::int64_t t);
std::vector<double> bootstrap_counts(std::mt19937_64& rng, std::int64_t n, std::int64_t draws);

// Boosting's early stopping, scikit-learn's rule: stop when none of the last n_iter_no_change
// scores beats the score before them by more than tol (scores are −loss: higher is better).
bool should_stop(const std::vector<double>& scores, std::int64_t n_iter_no_change, double tol);

// Boosting's validation split (scikit-learn's stratified train_test_split, in mlcore's draw):
// for each group (one per class, or one for regression) in order, the ranks 0..size−1 of its
// samples in sample order are shuffled by `rng` and the first round(fraction·size) validate.
// Returns per group a flag per rank (1 = validation). Only the group sizes enter, so a
// distributed fit draws the single machine's split from the reduced class counts.
std::vector<std::vector<std::uint8_t>> validation_ranks(const std::vector<std::int64_t>& sizes,
                                                        double fraction, std::mt19937_64& rng);

// Leaf ids of every row of X (n × 1 i32, host), walked on the backend (Backend::tree_walk).
Tensor apply_tree(Backend& backend, const Tree& tree, const Tensor& X);
// The leaf values of one tree for every row of X (n × n_outputs f32, host; the doubles
// rounded to float), walked on the backend (Backend::tree_walk_sum).
Tensor tree_values(Backend& backend, const Tree& tree, const Tensor& X);

// importances / Σ importances (all zero when the sum is zero), as a 1 × d tensor.
Tensor normalized_importances(const std::vector<double>& importances);

}  // namespace mlcore::detail
