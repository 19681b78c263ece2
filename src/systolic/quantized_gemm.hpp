// An f32 GEMM through int8, written once for every backend whose matrix unit multiplies int8:
// the systolic simulator (systolic_backend.cpp) and the CPU's AMX tiles (cpu/amx_backend.cpp).
//
//   quantize    op(A) per row, op(B) per output column (quantize.hpp), as GemmHints allow:
//               op(B) less its row medians, op(B) cut into magnitude bands
//   int8 GEMM   one exact int32 pass per band on the backend's engine (the `pass` callback)
//   dequantize  C = α · Σ_bands s_A[i]·s_b[j]·(qA·q_b)[i, j] + β·C, in float64, rounded once
//
// plus what both report: outputs fed by a NaN / ±inf operand taken from the f32 reference (an
// int8 code cannot hold them), and the product's relative error against a float64 reference on a
// sample of outputs (OpRecord::quant_error). Sharing this, not copying it, is what makes an amx
// GEMM give the systolic array's functional result bit for bit: the same codes, the same integer
// sums (integer addition does not care about the engine's order), the same rounding.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "mlcore/backend.hpp"
#include "quantize.hpp"

namespace mlcore::systolic {

// An int32 sum of K products of codes in [−127, 127] stays below 2^31 while K ≤ 2^17
// (2^17 · 127² = 2 114 060 288 < 2 147 483 648). Longer products are cut into groups of this
// depth whose int32 sums are added in float64 in the read-out, as a real accelerator's compiler
// would split them.
inline constexpr std::int64_t kExactDepth = std::int64_t{1} << 17;

// C (m × n, i32, row stride ldc) = A (m × k, i8, stride lda) · B (k × n, i8, stride ldb), exact,
// for k ≤ kExactDepth: an engine's int8 GEMM.
using Int8Gemm = std::function<void(std::int64_t m, std::int64_t n, std::int64_t k,
                                    const std::int8_t* A, std::int64_t lda, const std::int8_t* B,
                                    std::int64_t ldb, std::int32_t* C, std::int64_t ldc)>;

// The exact integer sums qa · qb (m × n, row-major), as an engine leaves them. One depth group
// (k ≤ kExactDepth, nearly every call) is the engine's int32 output itself, 4 bytes an output
// and written once; deeper products add their groups' int32 sums in float64. Read either way as
// sums[f] (a double, exact).
struct ExactSums {
  std::vector<std::int32_t> narrow;  // one depth group: the int32 sums
  std::vector<double> wide;          // several depth groups: their sums, in float64
  double operator[](std::size_t f) const {
    return wide.empty() ? static_cast<double>(narrow[f]) : wide[f];
  }
};

// sums = qa · qb as exact integers on `gemm`, depths beyond kExactDepth summed in groups.
void exact_product(const Quantized& qa, const Quantized& qb, const Int8Gemm& gemm, ExactSums& sums);

// One int8 pass of a quantized GEMM: sums (m × n) = qa · qb exactly. `pass` is its index (0 for
// the first band), for engines that cost passes after the first differently.
using Int8Pass = std::function<void(const Quantized& qa, const Quantized& qb, ExactSums& sums,
                                    std::size_t pass)>;

// What quantized_gemm did.
struct QuantizedGemmReport {
  std::size_t passes = 0;             // int8 passes (magnitude bands of op(B))
  std::optional<double> quant_error;  // sampled relative error of α·op(A)·op(B), when asked
  double error_seconds = 0;           // spent on that estimate (a measuring backend leaves it
                                      // out of the call's time: it is the instrument's cost)
};

// C ← α·op(A)·op(B) + β·C for f32 A, B, C (validated by Backend::gemm), each int8 pass run by
// `pass`, the dequantization on up to `threads` threads (row by row: the same result on any
// count). With `record_error`, the report carries the error of the product the engine computed
// (β·C is not quantized) against op(A) times the op(B) it was given (less the row medians when
// the hints allowed them: that shift is exact and the caller's to ignore).
QuantizedGemmReport quantized_gemm(bool trans_a, bool trans_b, float alpha, const Tensor& A,
                                   const Tensor& B, float beta, Tensor& C, const GemmHints& hints,
                                   bool record_error, int threads, const Int8Pass& pass);

// Up to this many outputs are compared with a float64 reference to estimate a call's
// quantization error (all of them for small outputs); a deterministic, evenly spread sample.
// The reference costs `depth` multiply-adds per output, so long reductions (XᵀX over a million
// samples) get fewer samples: at most kErrorWork multiply-adds in all, and at least 16 outputs.
inline constexpr std::int64_t kErrorSamples = 1024;
inline constexpr std::int64_t kErrorWork = std::int64_t{1} << 24;

// ‖got − ref‖ / ‖ref‖ over the sampled flat indices of a `count`-element output whose reference
// costs `depth` multiply-adds per element (the absolute error when the reference is all zero).
template <class Got, class Ref>
double sampled_relative_error(std::int64_t count, std::int64_t depth, Got got, Ref ref) {
  if (count <= 0) return 0.0;
  const std::int64_t budget =
      std::max<std::int64_t>(16, kErrorWork / std::max<std::int64_t>(depth, 1));
  const std::int64_t samples = std::min({count, kErrorSamples, budget});
  double num = 0.0, den = 0.0;
  for (std::int64_t s = 0; s < samples; ++s) {
    const std::int64_t flat = samples == count ? s : s * count / samples;
    const double r = ref(flat), d = got(flat) - r;
    num += d * d;
    den += r * r;
  }
  if (den > 0.0) return std::sqrt(num / den);
  return std::sqrt(num);
}

// Y[i, :] = R[i, :] for i in rows, Y[:, j] = R[:, j] for j in cols (R, Y: host f32, same shape):
// the outputs a non-finite operand feeds, taken from the f32 reference.
void take_from_reference(const Tensor& R, const std::vector<std::int64_t>& rows,
                         const std::vector<std::int64_t>& cols, Tensor& Y);

}  // namespace mlcore::systolic
