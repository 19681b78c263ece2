// Input checks shared by the estimators: each throws mlcore::Error naming the problem, so bad
// input never becomes a crash, a hang or a silently wrong model.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mlcore/tensor.hpp"

namespace mlcore::detail {

// X must be a host f32 tensor with at least one row and one column and only finite values.
void check_samples(const Tensor& X, const char* estimator, const char* what = "X");
// y must be a host f32 vector of length n with only finite values.
void check_targets(const Tensor& y, std::int64_t n, const char* estimator, const char* what = "y");
// X must have the number of features the estimator was fitted with.
void check_n_features(const Tensor& X, std::int64_t expected, const char* estimator);
// Throws mlcore::Error saying that X's values (finite, as check_samples made sure) are too large
// for float32 arithmetic: `overflowed` (e.g. "the variance of feature 3"), computed from X, came
// out NaN or infinite. Names X's largest |value| and what to do (rescale X). X: host f32.
[[noreturn]] void throw_too_large(const Tensor& X, const char* estimator,
                                  const std::string& overflowed, const char* what = "X");

// Class labels mapped to 0..n_classes-1. classes is sorted ascending (as scikit-learn's
// classes_); code[i] is the index of y[i] in classes.
struct LabelEncoding {
  std::vector<double> classes;
  std::vector<std::int32_t> code;
};
// Throws unless y has at least `min_classes` distinct values.
LabelEncoding encode_labels(const Tensor& y, const char* estimator, std::size_t min_classes = 2);

// A host f32 n × 1 tensor holding `values`.
Tensor column(const std::vector<float>& values);

}  // namespace mlcore::detail
