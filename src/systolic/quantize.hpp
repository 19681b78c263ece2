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

// The scale that maps max_abs to 127 (1 when max_abs is 0, so all codes are 0).
inline float symmetric_scale(float max_abs) { return max_abs > 0.0f ? max_abs / 127.0f : 1.0f; }

}  // namespace mlcore::systolic
