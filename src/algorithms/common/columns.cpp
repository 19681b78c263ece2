#include "algorithms/common/columns.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "algorithms/common/validate.hpp"

namespace mlcore::detail {

namespace {
// Rows per block of shift_scale_columns' broadcast scale: 4096 rows of 100 features = 1.6 MB,
// few enough primitive calls (n / 4096) that their fixed cost stays below 1% of the pass.
constexpr std::int64_t kScaleBlockRows = 4096;
}  // namespace

double ColumnStats::sd(std::int64_t j) const {
  return std::sqrt(std::max(static_cast<double>(var.at<float>(0, j)), 0.0));
}

double ColumnStats::rms(std::int64_t j) const {
  const double m = mean.at<float>(0, j);
  return std::sqrt(std::max(static_cast<double>(var.at<float>(0, j)), 0.0) + m * m);
}

ColumnStats column_stats(Backend& b, const Tensor& X, const Tensor& Xd, const char* estimator) {
  const std::int64_t d = Xd.cols();
  Tensor mean = b.empty(1, d), var = b.empty(1, d);
  b.reduce_cols(Reduce::mean, Xd, mean);
  b.reduce_cols(Reduce::var, Xd, var);
  ColumnStats s;
  s.mean = b.to_host(mean).clone();
  s.var = b.to_host(var).clone();
  for (std::int64_t j = 0; j < d; ++j) {
    if (!std::isfinite(s.mean.at<float>(0, j)) || !std::isfinite(s.var.at<float>(0, j))) {
      throw_too_large(X, estimator, "the variance of feature " + std::to_string(j));
    }
  }
  return s;
}

bool columns_alike(const ColumnStats& s, bool centred) {
  const std::int64_t d = s.mean.cols();
  double lo = 0.0, hi = 0.0;
  for (std::int64_t j = 0; j < d; ++j) {
    const double sd = s.sd(j);
    if (centred && std::fabs(double(s.mean.at<float>(0, j))) > kOffsetRatio * sd) return false;
    const double spread = centred ? sd : s.rms(j);
    if (spread <= 0.0) continue;  // a constant column has nothing to lose
    lo = lo == 0.0 ? spread : std::min(lo, spread);
    hi = std::max(hi, spread);
  }
  return hi <= kSpreadRatio * lo;
}

Tensor inverse_spread(const ColumnStats& s, bool centred) {
  const std::int64_t d = s.mean.cols();
  Tensor out(1, d);
  for (std::int64_t j = 0; j < d; ++j) {
    const double spread = centred ? s.sd(j) : s.rms(j);
    out.at<float>(0, j) = spread > 0.0 ? static_cast<float>(1.0 / spread) : 1.0f;
  }
  return out;
}

Tensor shift_scale_columns(Backend& b, const Tensor& Xd, const Tensor& shift, const Tensor& scale) {
  const std::int64_t n = Xd.rows(), d = Xd.cols();
  // Subtract first, then scale: x − μ is exact to one rounding however large μ is, whereas
  // x·s − μ·s would lose |μ|/sd digits to the cancellation.
  Tensor Y = b.empty(n, d);
  b.axpby(1.0f, Xd, 0.0f, Y);
  b.add_row_vector(-1.0f, b.to_device(shift), Y);
  // The broadcast scale rows are made once for a block of rows and reused down Y, so the
  // temporary is a few MB (an L2-to-L3-sized block), not another n × d tensor: a full-size
  // one cost a gather pass and, more, the first touch of n·d·4 fresh bytes.
  const std::int64_t block = std::min<std::int64_t>(n, kScaleBlockRows);
  Tensor zeros(block, 1, DType::i32);  // gather index: row 0 of `scale` for every row
  Tensor S = b.empty(block, d);
  b.gather_rows(b.to_device(scale), b.to_device(zeros), S);
  for (std::int64_t r0 = 0; r0 < n; r0 += block) {
    const std::int64_t r1 = std::min(n, r0 + block);
    Tensor Yb = Y.row_slice(r0, r1);
    b.multiply(S.row_slice(0, r1 - r0), Yb);
  }
  return Y;
}

InputTransform choose_input_transform(const ColumnStats& s, bool centred, bool always) {
  InputTransform t;
  t.raw = !always && columns_alike(s, centred);
  if (!t.raw) {
    t.shift = centred ? s.mean.clone() : Tensor(1, s.mean.cols());
    t.scale = inverse_spread(s, centred);
  }
  return t;
}

Tensor apply_input_transform(Backend& b, const Tensor& Xd, const InputTransform& t) {
  return t.raw ? Xd : shift_scale_columns(b, Xd, t.shift, t.scale);
}

Tensor affine_scores(Backend& b, const Tensor& Xt, const Tensor& W, const Tensor& bias,
                     const InputTransform& t, const GemmHints& hints) {
  const std::int64_t n = Xt.rows(), k = W.rows(), d = W.cols();
  Tensor Wt = W, bt = bias;
  if (!t.raw) {
    Wt = Tensor(k, d);
    bt = Tensor(1, k);
    for (std::int64_t r = 0; r < k; ++r) {
      double s = bias.numel() ? double(bias.at<float>(0, r)) : 0.0;
      for (std::int64_t j = 0; j < d; ++j) {
        Wt.at<float>(r, j) =
            static_cast<float>(double(W.at<float>(r, j)) / t.scale.at<float>(0, j));
        s += double(t.shift.at<float>(0, j)) * W.at<float>(r, j);
      }
      bt.at<float>(0, r) = static_cast<float>(s);
    }
  }
  Tensor Z = b.empty(n, k);
  if (k == 1) {
    b.gemv(Trans::no, 1.0f, Xt, b.to_device(Wt), 0.0f, Z);
  } else {
    b.gemm(Trans::no, Trans::yes, 1.0f, Xt, b.to_device(Wt), 0.0f, Z, hints);  // (n × d)(d × k)
  }
  if (bt.numel()) b.add_row_vector(1.0f, b.to_device(bt), Z);
  return Z;
}

void visit_input_transform(Archive& a, bool& raw, Tensor& shift, Tensor& scale, std::int64_t d) {
  a(raw);
  if (raw) return;
  a(shift, scale);
  if (a.loading()) {
    MLCORE_CHECK(shift.dtype() == DType::f32 && scale.dtype() == DType::f32 && shift.rows() == 1 &&
                     shift.cols() == d && scale.rows() == 1 && scale.cols() == d,
                 "the saved model's input transform does not match its " << d << " features");
  }
}

}  // namespace mlcore::detail
