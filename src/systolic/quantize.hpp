// Symmetric int8 quantization (docs/SYSTOLIC.md, "Quantization").
//
// A real value x is stored as the int8 code q = round(x / s), clamped to [−127, 127], with one
// f32 scale s = max|x| / 127 per group of values; x ≈ s · q. Symmetric (no zero point) because
// a zero point would add correction terms to every dot product; −128 is left unused so that
// −q is always representable. The group is the whole tensor, one row of activations (gemm's
// op(A): one sample, so a sample with an outlying value does not cost the others their
// precision), or one output channel (weights: the column of op(B) that makes output column j,
// so one large column does not cost the others theirs).
//
// A product of quantized operands is then exact in int32 and dequantized once per output:
//   C[i, j] = Σ_p op(A)[i, p] · op(B)[p, j] ≈ s_A[i] · s_B[j] · Σ_p qA[i, p] · qB[p, j].
//
// Two things a caller may allow (Backend::gemm's GemmHints) and the functions below do:
//  * Magnitude bands (quantize_bands). One scale per group rounds every value below s/2 to 0: a
//    group whose values span orders of magnitude (GaussianNB's precisions 1/σ², 10⁹ for a pixel
//    that never varies within a class beside ~1 for the others) loses its small values, which
//    still matter. So the group is cut by magnitude: band 0 holds the values within a factor
//    R = kBandRatio of the group's max |x|, band 1 those within R of the largest value left,
//    and so on (the last band takes all that remain), and each band is quantized with its own
//    scale (the largest |x| in it). Every value is in exactly one band, so op(X) = Σ_b band_b
//    and a product is the sum of one int8 pass per band: Σ_b s_A[i]·s_b[j]·(qA·q_b)[i, j], the
//    passes' int32 sums dequantized and added in the read-out. Within a band a value keeps at
//    least 127 / R ≈ 16 codes (4 bits) of relative precision instead of rounding to 0.
//  * A constant per row of op(B) (subtract_row_medians), when the caller uses only the
//    differences within each row of C (a softmax or an argmax follows): subtracting c_p from row
//    p of op(B) moves C[i, :] by Σ_p op(A)[i, p]·c_p alike for every j. The median of the row is
//    the constant that narrows the row most robustly (a mean is dragged by one extreme value).
// Both are int8 concerns only: an f32 backend computes the same product with or without them.
#pragma once

#include <cstdint>
#include <vector>

#include "mlcore/tensor.hpp"

namespace mlcore::systolic {

// Which values share one scale.
enum class ScaleAxis : std::uint8_t { tensor, row, col };

// op(X) as int8 codes (rows × cols, row-major) and its scales.
struct Quantized {
  std::int64_t rows = 0, cols = 0;
  ScaleAxis axis = ScaleAxis::tensor;
  std::vector<std::int8_t> q;
  std::vector<float> scale;  // 1 (tensor), rows (row) or cols (col) entries
  // The rows and the columns of op(X) that hold a NaN or an infinity, ascending. Such a value
  // has no int8 code: it is coded 0 and left out of its group's scale, and the primitive takes
  // every output it feeds from the f32 reference instead, where IEEE arithmetic makes that
  // output NaN or ±inf as on every other backend (systolic_backend.cpp, "Non-finite operands").
  std::vector<std::int64_t> non_finite_rows, non_finite_cols;
  bool all_finite() const { return non_finite_rows.empty(); }
  float scale_of_row(std::int64_t i) const { return axis == ScaleAxis::row ? scale[i] : scale[0]; }
  float scale_of_col(std::int64_t j) const { return axis == ScaleAxis::col ? scale[j] : scale[0]; }
};

// Quantizes op(X), where op transposes when `trans` (X is f32, stored row-major). NaN and ±inf
// are coded 0, kept out of the scales and listed in non_finite_rows / non_finite_cols.
Quantized quantize(const Tensor& X, bool trans, ScaleAxis axis);

// Band ratio R and the most bands a group is cut into. R = 8 leaves each value of a band ≥ 16
// codes. Measured on GaussianNB (digits, the tests' split): R = 8 makes the class-score
// differences' median error 20–25 % smaller than the three fixed bands per weight matrix the
// estimator used before, at the same accuracy; R = 16 lost 1–2 test samples, R = 4 gains
// little more for ~20 % more passes. Bands start at the largest value left, so a gap in
// magnitudes costs no band, and 8 bands cover any realistic spread of values (R⁸ ≈ 1.7e7
// within the values that are not separated by gaps); the last band takes what remains.
inline constexpr double kBandRatio = 8.0;
inline constexpr int kMaxBands = 8;

// op(X) cut into magnitude bands per group of `axis` (see the file comment), the bands that hold
// a value in at least one group, largest first: each has op(X)'s shape, the codes of its own
// values (0 elsewhere) and its own scales. At least one band (all codes 0 when op(X) is). The
// non-finite values are listed as by quantize(), in every band, and coded 0 in all of them.
std::vector<Quantized> quantize_bands(const Tensor& X, bool trans, ScaleAxis axis);

// op(X) (rows × cols, a new row-major f32 tensor) with the median of each row's *ordinary*
// values subtracted from that row: the finite values within kOrdinaryRange of the row's smallest
// non-zero |x| (zeros included). Values orders of magnitude beyond them (GaussianNB's precisions
// of a class constant on the feature) would drag the median to their size and make every
// ordinary value of the row as large; they are shifted like the rest but do not choose the shift.
inline constexpr double kOrdinaryRange = 1024.0;
Tensor subtract_row_medians(const Tensor& X, bool trans);

// The scale that maps max_abs to 127 (1 when max_abs is 0, so all codes are 0).
inline float symmetric_scale(float max_abs) { return max_abs > 0.0f ? max_abs / 127.0f : 1.0f; }

}  // namespace mlcore::systolic
