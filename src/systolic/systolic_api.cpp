// The cycle model's public entry points (include/mlcore/systolic.hpp): counts without values,
// the stepped model with values, and the wavefront trace.
#include <algorithm>

#include "cost_model.hpp"
#include "cycle_model.hpp"
#include "mlcore/systolic.hpp"

namespace mlcore {
namespace {

SystolicGemmStats to_stats(const SystolicConfig& c, std::int64_t m, std::int64_t n, std::int64_t k,
                           const systolic::ComputeCount& count) {
  const systolic::OpCost cost = systolic::gemm_cost(c, m, n, k, count);
  const SimCounters s = systolic::to_counters(c, cost);
  SystolicGemmStats out;
  out.folds = count.folds;
  out.compute_cycles = s.compute_cycles;
  out.stall_cycles = s.stall_cycles;
  out.dram_read_bytes = s.dram_read_bytes;
  out.dram_write_bytes = s.dram_write_bytes;
  out.onchip_read_bytes = s.onchip_read_bytes;
  out.onchip_write_bytes = s.onchip_write_bytes;
  out.accumulates = cost.accumulates;
  out.utilization = s.utilization;
  out.energy_joules = s.energy_joules;
  return out;
}

void check_int8_operands(const Tensor& A, const Tensor& B, const Tensor& C, const char* what) {
  MLCORE_CHECK(
      A.device() == Device::host && B.device() == Device::host && C.device() == Device::host,
      what << ": tensors must be on the host");
  check_dtype(A, DType::i8, what);
  check_dtype(B, DType::i8, what);
  check_dtype(C, DType::i32, what);
  MLCORE_CHECK(A.cols() == B.rows(), what << ": A is " << A.describe() << " but B is "
                                          << B.describe() << " (inner dimensions differ)");
  check_shape(C, A.rows(), B.cols(), what);
}

}  // namespace

SystolicGemmStats systolic_gemm_cycles(const SystolicConfig& config, std::int64_t m, std::int64_t n,
                                       std::int64_t k) {
  validate(config);
  MLCORE_CHECK(m >= 0 && n >= 0 && k >= 0,
               "systolic_gemm_cycles(): m, n, k must be ≥ 0, got " << m << ", " << n << ", " << k);
  return to_stats(config, m, n, k, systolic::analytic_compute(config, m, n, k));
}

SystolicGemmStats systolic_gemm_stepped(const SystolicConfig& config, const Tensor& A,
                                        const Tensor& B, Tensor& C) {
  validate(config);
  check_int8_operands(A, B, C, "systolic_gemm_stepped()");
  const std::int64_t m = A.rows(), n = B.cols(), k = A.cols();
  const systolic::ComputeCount count =
      systolic::stepped_compute(config, m, n, k, A.data<std::int8_t>(), B.data<std::int8_t>(),
                                C.data<std::int32_t>(), nullptr);
  return to_stats(config, m, n, k, count);
}

WavefrontTrace systolic_trace(const SystolicConfig& config, const Tensor& A, const Tensor& B,
                              Tensor& C) {
  validate(config);
  check_int8_operands(A, B, C, "systolic_trace()");
  const std::int64_t m = A.rows(), n = B.cols(), k = A.cols();
  const std::int64_t cycles = systolic::analytic_compute(config, m, n, k).cycles + 1;
  const std::int64_t limit = std::int64_t{1} << 26;
  MLCORE_CHECK(cycles * config.rows * config.cols <= limit,
               "systolic_trace(): " << cycles << " cycles x " << config.rows << "x" << config.cols
                                    << " PEs exceeds the trace limit of " << limit
                                    << " entries; trace a smaller array or GEMM");
  WavefrontTrace trace;
  trace.rows = config.rows;
  trace.cols = config.cols;
  trace.dataflow = config.dataflow;
  const systolic::ComputeCount count =
      systolic::stepped_compute(config, m, n, k, A.data<std::int8_t>(), B.data<std::int8_t>(),
                                C.data<std::int32_t>(), &trace);
  // The engines run until padded columns have drained too; keep the cycles the count covers
  // (physical: a count; scalesim: the index of the last cycle, so one more).
  const std::int64_t keep = std::min(
      trace.cycles, config.convention == Convention::physical ? count.cycles : count.cycles + 1);
  const std::size_t entries = static_cast<std::size_t>(keep * config.rows * config.cols);
  trace.cycles = keep;
  trace.left.resize(entries);
  trace.top.resize(entries);
  trace.acc.resize(entries);
  trace.busy.resize(entries);
  return trace;
}

}  // namespace mlcore
