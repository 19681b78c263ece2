#include "quantize.hpp"

#include <algorithm>
#include <cmath>

namespace mlcore::systolic {

namespace {

// op(X)[i, j] of a row-major f32 tensor, op transposing when `trans`.
struct OpView {
  const float* x;
  std::int64_t ld;
  bool trans;
  float operator()(std::int64_t i, std::int64_t j) const {
    return trans ? x[j * ld + i] : x[i * ld + j];
  }
};

// The scale group of op(X)[i, j].
std::size_t group_of(ScaleAxis axis, std::int64_t i, std::int64_t j) {
  return axis == ScaleAxis::tensor ? 0
         : axis == ScaleAxis::row  ? static_cast<std::size_t>(i)
                                   : static_cast<std::size_t>(j);
}

// f(i, j, v) for every value v = op(X)[i, j], visited in X's storage order (row-major), so that
// a transposed view reads memory contiguously too (a column walk over a tall X misses the
// cache on every value).
template <class F>
void for_each_value(const Tensor& X, bool trans, F&& f) {
  const float* x = X.data<float>();
  const std::int64_t rows = X.rows(), cols = X.cols();
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* row = x + r * cols;
    if (trans) {
      for (std::int64_t c = 0; c < cols; ++c) f(c, r, row[c]);
    } else {
      for (std::int64_t c = 0; c < cols; ++c) f(r, c, row[c]);
    }
  }
}

// The positions where `flags` is set, ascending.
std::vector<std::int64_t> flagged(const std::vector<char>& flags) {
  std::vector<std::int64_t> out;
  for (std::size_t p = 0; p < flags.size(); ++p) {
    if (flags[p]) out.push_back(static_cast<std::int64_t>(p));
  }
  return out;
}

// The shape, axis and non-finite rows / columns of op(X) in `out`; returns max |x| per group over
// the finite values.
std::vector<float> scan(const Tensor& X, bool trans, ScaleAxis axis, Quantized& out) {
  const std::size_t groups = axis == ScaleAxis::tensor ? 1
                             : axis == ScaleAxis::row  ? static_cast<std::size_t>(out.rows)
                                                       : static_cast<std::size_t>(out.cols);
  out.axis = axis;
  std::vector<float> max_abs(groups, 0.0f);
  // Sized on the first non-finite value: finite inputs pay nothing.
  std::vector<char> bad_row, bad_col;
  float* top = max_abs.data();
  for_each_value(X, trans, [&](std::int64_t i, std::int64_t j, float v) {
    if (!std::isfinite(v)) {
      bad_row.resize(static_cast<std::size_t>(out.rows), 0);
      bad_col.resize(static_cast<std::size_t>(out.cols), 0);
      bad_row[static_cast<std::size_t>(i)] = bad_col[static_cast<std::size_t>(j)] = 1;
      return;
    }
    float& m = top[group_of(axis, i, j)];
    m = std::max(m, std::fabs(v));
  });
  out.non_finite_rows = flagged(bad_row);
  out.non_finite_cols = flagged(bad_col);
  return max_abs;
}

// q = round(x / s), half to even, in [−127, 127]. Clamped before rounding (the same codes as
// after: ±127.5 rounds to ±128 and back to ±127), so the value is small, and rounded by adding and
// subtracting 1.5·2⁵²: at that magnitude a double has no fraction bits, so the addition itself
// rounds, to nearest even in the default mode, as std::nearbyint would — without the libm call
// that x86-64's baseline ISA (no SSE4.1 `roundsd`) makes of nearbyint, once per value.
std::int8_t code(float v, double s) {
  constexpr double kRound = 6755399441055744.0;  // 1.5 · 2^52
  const double c = std::clamp(static_cast<double>(v) / s, -127.0, 127.0);
  return static_cast<std::int8_t>((c + kRound) - kRound);
}

}  // namespace

Quantized quantize(const Tensor& X, bool trans, ScaleAxis axis) {
  Quantized out;
  out.rows = trans ? X.cols() : X.rows();
  out.cols = trans ? X.rows() : X.cols();

  // 1. max |x| per group, over the finite values; the others are listed by row and column.
  const std::vector<float> max_abs = scan(X, trans, axis, out);
  out.scale.resize(max_abs.size());
  for (std::size_t g = 0; g < max_abs.size(); ++g) out.scale[g] = symmetric_scale(max_abs[g]);

  // 2. the codes; a non-finite value is coded 0.
  out.q.resize(static_cast<std::size_t>(out.rows * out.cols));
  // Plain pointers: through out.q's, each int8 store (which may alias anything) would make the
  // compiler reload the vector's data pointer for the next value.
  std::int8_t* q = out.q.data();
  const float* scale = out.scale.data();
  const std::int64_t ld = out.cols;
  for_each_value(X, trans, [=](std::int64_t i, std::int64_t j, float v) {
    q[i * ld + j] = std::isfinite(v) ? code(v, scale[group_of(axis, i, j)]) : 0;
  });
  return out;
}

std::vector<Quantized> quantize_bands(const Tensor& X, bool trans, ScaleAxis axis) {
  Quantized shape;
  shape.rows = trans ? X.cols() : X.rows();
  shape.cols = trans ? X.rows() : X.cols();
  const OpView at{X.data<float>(), X.cols(), trans};
  const std::size_t groups = scan(X, trans, axis, shape).size();
  const std::int64_t count = shape.rows * shape.cols;

  // 1. The band of every finite non-zero value and each band's max |x| per group. Band b of a
  //    group takes the values not yet in a band that are within a factor R of the largest of
  //    them (the last band all that remain), so a gap in magnitudes (hard weights ~1e9, the rest
  //    ~1) costs no empty band: the ordinary values start a band of their own at their own top.
  //    kNone marks zeros and non-finite values, which belong to no band.
  constexpr std::uint8_t kNone = 0xff;
  std::vector<std::uint8_t> band(static_cast<std::size_t>(count), kNone);
  std::vector<float> band_max(static_cast<std::size_t>(kMaxBands) * groups, 0.0f);
  std::int64_t left = 0;  // finite non-zero values not yet in a band
  for (std::int64_t i = 0; i < shape.rows; ++i) {
    for (std::int64_t j = 0; j < shape.cols; ++j) {
      const float v = at(i, j);
      if (std::isfinite(v) && v != 0.0f) ++left;
    }
  }
  for (int b = 0; b < kMaxBands && left > 0; ++b) {
    float* bmax = band_max.data() + b * groups;
    for (std::int64_t i = 0; i < shape.rows; ++i) {  // the band's top: the largest value left
      for (std::int64_t j = 0; j < shape.cols; ++j) {
        const float v = std::fabs(at(i, j));
        if (band[i * shape.cols + j] != kNone || !std::isfinite(v) || v == 0.0f) continue;
        float& m = bmax[group_of(axis, i, j)];
        m = std::max(m, v);
      }
    }
    const bool last = b + 1 == kMaxBands;
    for (std::int64_t i = 0; i < shape.rows; ++i) {  // its values: within R of the top
      for (std::int64_t j = 0; j < shape.cols; ++j) {
        const float v = std::fabs(at(i, j));
        if (band[i * shape.cols + j] != kNone || !std::isfinite(v) || v == 0.0f) continue;
        if (last || double(v) * kBandRatio > bmax[group_of(axis, i, j)]) {
          band[i * shape.cols + j] = static_cast<std::uint8_t>(b);
          --left;
        }
      }
    }
  }

  // 2. One Quantized per band that holds a value in some group, with that band's scales.
  std::vector<Quantized> out;
  for (int b = 0; b < kMaxBands; ++b) {
    const float* bmax = band_max.data() + b * groups;
    if (std::none_of(bmax, bmax + groups, [](float m) { return m > 0.0f; }) &&
        !(b + 1 == kMaxBands && out.empty())) {
      continue;  // no value in this band (the last one is kept when all are empty: op(X) = 0)
    }
    Quantized q = shape;
    q.scale.resize(groups);
    for (std::size_t g = 0; g < groups; ++g) q.scale[g] = symmetric_scale(bmax[g]);
    q.q.assign(static_cast<std::size_t>(count), 0);
    for (std::int64_t i = 0; i < shape.rows; ++i) {
      for (std::int64_t j = 0; j < shape.cols; ++j) {
        if (band[i * shape.cols + j] != b) continue;
        q.q[i * shape.cols + j] = code(at(i, j), q.scale[group_of(axis, i, j)]);
      }
    }
    out.push_back(std::move(q));
  }
  return out;
}

Tensor subtract_row_medians(const Tensor& X, bool trans) {
  const std::int64_t rows = trans ? X.cols() : X.rows(), cols = trans ? X.rows() : X.cols();
  const OpView at{X.data<float>(), X.cols(), trans};
  Tensor out(rows, cols);
  float* o = out.data<float>();
  std::vector<float> ordinary;
  ordinary.reserve(static_cast<std::size_t>(cols));
  for (std::int64_t i = 0; i < rows; ++i) {
    float smallest = 0.0f;  // the smallest non-zero finite |x| of the row
    for (std::int64_t j = 0; j < cols; ++j) {
      const float v = at(i, j);
      o[i * cols + j] = v;
      const float a = std::fabs(v);
      if (std::isfinite(v) && a > 0.0f && (smallest == 0.0f || a < smallest)) smallest = a;
    }
    ordinary.clear();
    const double limit = double(smallest) * kOrdinaryRange;
    for (std::int64_t j = 0; j < cols; ++j) {
      const float v = at(i, j);
      if (std::isfinite(v) && std::fabs(double(v)) <= limit) ordinary.push_back(v);
    }
    if (ordinary.empty()) continue;
    const auto mid = ordinary.begin() + static_cast<std::ptrdiff_t>(ordinary.size() / 2);
    std::nth_element(ordinary.begin(), mid, ordinary.end());
    const float median = *mid;
    for (std::int64_t j = 0; j < cols; ++j) o[i * cols + j] -= median;
  }
  return out;
}

}  // namespace mlcore::systolic
