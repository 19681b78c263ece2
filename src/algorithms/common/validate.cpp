#include "algorithms/common/validate.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "mlcore/parallel.hpp"

namespace mlcore::detail {

namespace {

// Whether x[0..n) holds no NaN and no infinity: exactly the floats whose exponent bits are all
// ones. An OR over the bit tests has no early exit and no branch per element, so the compiler
// vectorizes it (a loop of isfinite checks that throw cannot be). The scan is a full pass over
// X in every fit and predict, as long as a linear model's whole predict (a gemv is one pass
// too), so a large X is scanned by all cores: one core alone does not saturate memory
// bandwidth (200 000 × 100 floats: ~9 ms on one core of the dev VM). The slow loop that names
// the first bad position runs only when this says there is one.
bool all_finite(const float* x, std::int64_t n) {
  constexpr std::uint32_t kExponent = 0x7f800000u;
  constexpr std::int64_t kParallelFrom = 1 << 21;  // 8 MiB: below, starting threads costs more
  std::atomic<std::uint32_t> bad{0};
  parallel::for_ranges(n, n >= kParallelFrom ? num_threads() : 1,
                       [&](int, std::int64_t begin, std::int64_t end) {
                         std::uint32_t part = 0;
                         for (std::int64_t i = begin; i < end; ++i) {
                           std::uint32_t bits;
                           std::memcpy(&bits, x + i, sizeof bits);
                           part |= static_cast<std::uint32_t>((bits & kExponent) == kExponent);
                         }
                         bad.fetch_or(part, std::memory_order_relaxed);
                       });
  return bad.load() == 0;
}

}  // namespace

void check_samples(const Tensor& X, const char* estimator, const char* what) {
  MLCORE_CHECK(X.device() == Device::host && X.dtype() == DType::f32,
               estimator << ": " << what << " must be a host f32 tensor, got " << X.describe());
  MLCORE_CHECK(X.rows() >= 1,
               estimator << ": " << what << " has no samples (" << X.describe() << ")");
  MLCORE_CHECK(X.cols() >= 1,
               estimator << ": " << what << " has no features (" << X.describe() << ")");
  const float* x = X.data<float>();
  if (all_finite(x, X.numel())) return;
  for (std::int64_t i = 0; i < X.numel(); ++i) {
    MLCORE_CHECK(std::isfinite(x[i]), estimator << ": " << what << " contains NaN or infinity at ["
                                                << i / X.cols() << ", " << i % X.cols() << "]");
  }
}

void check_targets(const Tensor& y, std::int64_t n, const char* estimator, const char* what) {
  MLCORE_CHECK(y.device() == Device::host && y.dtype() == DType::f32,
               estimator << ": " << what << " must be a host f32 tensor, got " << y.describe());
  MLCORE_CHECK((y.rows() == 1 || y.cols() == 1) && y.numel() == n,
               estimator << ": " << what << " must be a vector with one value per sample (" << n
                         << "), got " << y.describe());
  const float* v = y.data<float>();
  for (std::int64_t i = 0; i < n; ++i) {
    MLCORE_CHECK(std::isfinite(v[i]),
                 estimator << ": " << what << " contains NaN or infinity at " << i);
  }
}

void throw_too_large(const Tensor& X, const char* estimator, const std::string& overflowed,
                     const char* what) {
  const float* x = X.data<float>();
  float max_abs = 0.0f;
  for (std::int64_t i = 0; i < X.numel(); ++i) max_abs = std::max(max_abs, std::fabs(x[i]));
  MessageBuilder message;
  message << estimator << ": " << what << "'s values are too large for float32 arithmetic (the "
          << "largest |value| is " << max_abs << "): " << overflowed << " overflows. Rescale "
          << what << ", e.g. with sklearn.preprocessing.StandardScaler";
  throw Error(message.stream.str());
}

void check_n_features(const Tensor& X, std::int64_t expected, const char* estimator) {
  MLCORE_CHECK(X.cols() == expected, estimator << ": X has " << X.cols()
                                               << " features, but the model was fitted with "
                                               << expected);
}

LabelEncoding encode_labels(const Tensor& y, const char* estimator, std::size_t min_classes) {
  const float* v = y.data<float>();
  const std::int64_t n = y.numel();
  LabelEncoding enc;
  // The distinct labels, sorted. Classification labels are few, so keep the sorted list of
  // those seen so far and binary-search it per sample: O(n log C) instead of sorting all n
  // labels (O(n log n): ~3 ms for 50 000, most of a kNN fit). Past kFewClasses distinct
  // values the list is abandoned for the sort, so many-valued y never costs O(n·C).
  constexpr std::size_t kFewClasses = 256;
  std::vector<double>& seen = enc.classes;
  bool few = true;
  for (std::int64_t i = 0; i < n && few; ++i) {
    const double label = v[i];
    const auto at = std::lower_bound(seen.begin(), seen.end(), label);
    if (at == seen.end() || *at != label) {
      seen.insert(at, label);
      few = seen.size() <= kFewClasses;
    }
  }
  if (!few) {
    seen.assign(v, v + n);
    std::sort(seen.begin(), seen.end());
    seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
  }
  MLCORE_CHECK(enc.classes.size() >= min_classes, estimator << " needs at least " << min_classes
                                                            << " classes in y, got "
                                                            << enc.classes.size());
  enc.code.resize(n);
  for (std::int64_t i = 0; i < n; ++i) {
    enc.code[i] = static_cast<std::int32_t>(
        std::lower_bound(enc.classes.begin(), enc.classes.end(), double(v[i])) -
        enc.classes.begin());
  }
  return enc;
}

Tensor column(const std::vector<float>& values) {
  Tensor t(static_cast<std::int64_t>(values.size()), 1);
  std::copy(values.begin(), values.end(), t.data<float>());
  return t;
}

}  // namespace mlcore::detail
