#include "quantize.hpp"

#include <algorithm>
#include <cmath>

namespace mlcore::systolic {

Quantized quantize(const Tensor& X, bool trans, ScaleAxis axis) {
  Quantized out;
  out.rows = trans ? X.cols() : X.rows();
  out.cols = trans ? X.rows() : X.cols();
  out.axis = axis;
  const float* x = X.data<float>();
  const std::int64_t ld = X.cols();
  // op(X)[i, j]
  auto at = [&](std::int64_t i, std::int64_t j) { return trans ? x[j * ld + i] : x[i * ld + j]; };

  // 1. max |x| per group, over the finite values; the others are listed by row and column.
  const std::size_t groups = axis == ScaleAxis::tensor ? 1
                             : axis == ScaleAxis::row  ? static_cast<std::size_t>(out.rows)
                                                       : static_cast<std::size_t>(out.cols);
  std::vector<float> max_abs(groups, 0.0f);
  std::vector<char> bad_col;  // sized on the first non-finite value: finite inputs pay nothing
  for (std::int64_t i = 0; i < out.rows; ++i) {
    for (std::int64_t j = 0; j < out.cols; ++j) {
      const float v = at(i, j);
      if (!std::isfinite(v)) {
        if (out.non_finite_rows.empty() || out.non_finite_rows.back() != i) {
          out.non_finite_rows.push_back(i);
        }
        bad_col.resize(static_cast<std::size_t>(out.cols), 0);
        bad_col[j] = 1;
        continue;
      }
      const std::size_t g = axis == ScaleAxis::tensor ? 0
                            : axis == ScaleAxis::row  ? static_cast<std::size_t>(i)
                                                      : static_cast<std::size_t>(j);
      max_abs[g] = std::max(max_abs[g], std::fabs(v));
    }
  }
  for (std::size_t j = 0; j < bad_col.size(); ++j) {
    if (bad_col[j]) out.non_finite_cols.push_back(static_cast<std::int64_t>(j));
  }
  out.scale.resize(groups);
  for (std::size_t g = 0; g < groups; ++g) out.scale[g] = symmetric_scale(max_abs[g]);

  // 2. q = round(x / s), half to even (nearbyint in the default rounding mode), in [−127, 127].
  out.q.resize(static_cast<std::size_t>(out.rows * out.cols));
  for (std::int64_t i = 0; i < out.rows; ++i) {
    for (std::int64_t j = 0; j < out.cols; ++j) {
      const double s = axis == ScaleAxis::tensor ? out.scale[0]
                       : axis == ScaleAxis::row  ? out.scale[i]
                                                 : out.scale[j];
      const float v = at(i, j);
      if (!std::isfinite(v)) {
        out.q[i * out.cols + j] = 0;
        continue;
      }
      const double code = std::nearbyint(static_cast<double>(v) / s);
      out.q[i * out.cols + j] = static_cast<std::int8_t>(std::clamp(code, -127.0, 127.0));
    }
  }
  return out;
}

}  // namespace mlcore::systolic
