// The systolic array's cycle model, shared by the analytic and the cycle-stepped modes.
//
// Every GEMM is first put in one of two canonical forms:
//   * weight-stationary form  Y (t × p) = X (t × kd) · S (kd × p): the stationary tile of S sits
//     in the PEs (kd on the array's rows, p on its columns) and the rows of X stream through.
//     ws is C = A·B with X = A, S = B; is is Cᵀ = Bᵀ·Aᵀ with X = Bᵀ, S = Aᵀ (the array holds
//     a tile of A and the columns of B stream), so one model serves both.
//   * output-stationary form  C (m × n) = A (m × k) · B (k × n): PE (r, c) owns C[r, c] of the
//     current tile; A streams from the left, B from the top.
// docs/SYSTOLIC.md derives every formula below; the stepped engines (dataflow_ws.cpp,
// dataflow_os.cpp) reproduce them cycle by cycle and the tests check that they agree.
#pragma once

#include <cstdint>

#include "mlcore/systolic.hpp"

namespace mlcore::systolic {

inline std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

// The weight-stationary view of a ws or is GEMM (m × n × k).
struct WsView {
  std::int64_t t, p, kd;  // streamed rows, stationary columns, reduction depth
};
inline WsView ws_view(Dataflow d, std::int64_t m, std::int64_t n, std::int64_t k) {
  return d == Dataflow::is ? WsView{n, m, k} : WsView{m, n, k};
}

// Rows of X streamed per fold in the physical convention. The int32 partial sums of one fold
// group (all K folds of one column tile) stay in the accumulators below the array, one row of
// `cols` sums per streamed row; half the accumulators are left for double buffering (the next
// group computes while the previous one is read out), as in the TPU v1 (Jouppi et al. 2017,
// Section 2: 4096 accumulator rows, "duplicated so the compiler could use double buffering").
// tpu-v1: 4 MiB / (2 × 256 × 4 B) = 2048 rows. The scalesim convention does not limit it.
inline std::int64_t stream_chunk_rows(const SystolicConfig& c, std::int64_t t) {
  if (c.convention == Convention::scalesim) return t > 0 ? t : 1;
  const std::int64_t rows = c.accumulator_bytes / (2 * 4 * c.cols);
  return rows > 0 ? rows : 1;
}

// Cycles the array is busy for one GEMM and the number of folds, without memory stalls.
struct ComputeCount {
  std::int64_t folds = 0;
  std::int64_t cycles = 0;
};

// The analytic (closed-form) count; microseconds for any size.
ComputeCount analytic_compute(const SystolicConfig& c, std::int64_t m, std::int64_t n,
                              std::int64_t k);

// The stepped engines. Operands are dense row-major int8; the result is written (not added)
// into the int32 output. They throw std::logic_error if the schedule ever lets two operands
// meet out of step (a bug in the model, never a caller's mistake).
//   Y (t × p) = X (t × kd) · S (kd × p)
ComputeCount step_weight_stationary(const SystolicConfig& c, std::int64_t t, std::int64_t p,
                                    std::int64_t kd, const std::int8_t* X, const std::int8_t* S,
                                    std::int32_t* Y, WavefrontTrace* trace);
//   C (m × n) = A (m × k) · B (k × n)
ComputeCount step_output_stationary(const SystolicConfig& c, std::int64_t m, std::int64_t n,
                                    std::int64_t k, const std::int8_t* A, const std::int8_t* B,
                                    std::int32_t* C, WavefrontTrace* trace);

// Runs the stepped engine of c.dataflow on C (m × n) = A (m × k) · B (k × n), all row-major.
ComputeCount stepped_compute(const SystolicConfig& c, std::int64_t m, std::int64_t n,
                             std::int64_t k, const std::int8_t* A, const std::int8_t* B,
                             std::int32_t* C, WavefrontTrace* trace);

}  // namespace mlcore::systolic
