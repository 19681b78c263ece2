// Per-feature statistics and column scaling on the backend, shared by the linear-family
// estimators (least squares, logistic regression, naive Bayes, PCA).
//
// Why scale columns at all. In f32 a column's units do not matter much: every number carries
// its own exponent. On the int8 systolic backend they matter a lot: the activation operand of a
// GEMM is quantized with one scale for the whole tensor, set by its largest |value|. A feature
// in the thousands (wine's proline) then takes the whole int8 range and a feature around 0.5
// rounds to 0 or ±1 — its information is gone. Shifting each column by its mean and dividing by
// its standard deviation first gives every feature the same int8 range; the estimators fold the
// scale back into their (small, host-side) parameters afterwards. In f32 the results agree to
// rounding, so the same code runs on every backend.
//
// When the columns are already alike (|mean| ≤ spread, spreads within a factor kSpreadRatio —
// e.g. standardized data), the estimators skip the scaled copy and use X as it is: that saves
// two passes over X, and the offsets are then too small to cost precision.
#pragma once

#include <cstdint>

#include "mlcore/backend.hpp"
#include "mlcore/serialize.hpp"
#include "mlcore/tensor.hpp"

namespace mlcore::detail {

// Columns count as "alike" when every |mean_j| ≤ kOffsetRatio · sd_j and the largest sd is at
// most kSpreadRatio times the smallest non-zero sd. kSpreadRatio = 4 keeps the narrowest column
// within 2 bits of the int8 range.
inline constexpr double kOffsetRatio = 1.0;
inline constexpr double kSpreadRatio = 4.0;

// Column means and population variances of X (on the device), as 1 × d host tensors:
// reduce_cols(mean) and reduce_cols(var) on the backend. Throws (throw_too_large, naming X) when
// one is not finite: X's values are too large for float32 (|x − mean|² beyond FLT_MAX), and
// every product the estimator would form from them overflows too. X is the host copy of Xd.
struct ColumnStats {
  Tensor mean;  // 1 × d
  Tensor var;   // 1 × d
  double sd(std::int64_t j) const;
  // √(var + mean²): a column's root mean square, the scale to use when it is not centred.
  double rms(std::int64_t j) const;
};
ColumnStats column_stats(Backend& b, const Tensor& X, const Tensor& Xd, const char* estimator);

// See kOffsetRatio / kSpreadRatio. `centred` = false ignores the offsets (for estimators that
// never centre, such as MultinomialNB) and compares the columns' rms instead of their sd.
bool columns_alike(const ColumnStats& s, bool centred = true);

// The per-column scale factors 1/sd_j (or 1/rms_j when not centred), 1 where a column is
// constant (sd = 0): 1 × d host tensor.
Tensor inverse_spread(const ColumnStats& s, bool centred = true);

// Y = (X − shift) ⊙ scale, column by column (shift, scale: 1 × d host tensors; X on the
// device, n × d). A new n × d device tensor, made with primitives (there is no "scale columns"
// primitive, so the scale row is broadcast to n rows by a gather):
//   Y = X; Y −= shift                         axpby, add_row_vector
//   S = gather_rows(scale, [0, 0, …, 0])      B × d, every row the scale row (B ≤ 4096)
//   Y[block] = S ⊙ Y[block]                   multiply, for each block of B rows
Tensor shift_scale_columns(Backend& b, const Tensor& Xd, const Tensor& shift, const Tensor& scale);

// How an estimator feeds X into its products: as it is (raw), or shifted and scaled column by
// column the way its training data was (see the file comment). Fitted with the model, saved
// with it, applied to every X at predict time.
struct InputTransform {
  bool raw = true;
  Tensor shift;  // 1 × d (used when !raw)
  Tensor scale;  // 1 × d (used when !raw)
};
// The transform's fields, in a model's visit (serialize.hpp): the raw flag, then shift and scale
// when not raw. Loading checks them against the model's d features.
void visit_input_transform(Archive& a, bool& raw, Tensor& shift, Tensor& scale, std::int64_t d);
// raw when the columns are alike (columns_alike) unless `always`; else shift by the mean (0 when
// not `centred`) and scale by inverse_spread.
InputTransform choose_input_transform(const ColumnStats& s, bool centred, bool always = false);
// X on the device as the model's products expect it: Xd itself when raw, else
// shift_scale_columns(Xd, shift, scale).
Tensor apply_input_transform(Backend& b, const Tensor& Xd, const InputTransform& t);

// Z = X·Wᵀ + bias on the device (n × k), for host weights W (k × d, in the units of the
// original X) and bias (1 × k, or empty for none). Xt is X already passed through
// apply_input_transform(t); for a scaled transform the weights and bias are rewritten on the
// host so that the result is the same:
//   X·Wᵀ + bias = Xs·(W ⊙ 1/scale)ᵀ + (bias + shift·Wᵀ),   Xs = (X − shift) ⊙ scale.
// One gemv when k = 1 (the memory-bound MAC), else one gemm (with `hints`); then add_row_vector.
Tensor affine_scores(Backend& b, const Tensor& Xt, const Tensor& W, const Tensor& bias,
                     const InputTransform& t, const GemmHints& hints = {});

}  // namespace mlcore::detail
