// The stepped mode's entry points: put the GEMM in the form its dataflow's engine takes, run it,
// and (for the trace API) record every cycle.
#include <vector>

#include "cycle_model.hpp"

namespace mlcore::systolic {
namespace {

// out (cols × rows) = in (rows × cols)ᵀ
template <class T>
std::vector<T> transposed(const T* in, std::int64_t rows, std::int64_t cols) {
  std::vector<T> out(static_cast<std::size_t>(rows * cols));
  for (std::int64_t i = 0; i < rows; ++i) {
    for (std::int64_t j = 0; j < cols; ++j) out[j * rows + i] = in[i * cols + j];
  }
  return out;
}

}  // namespace

ComputeCount stepped_compute(const SystolicConfig& c, std::int64_t m, std::int64_t n,
                             std::int64_t k, const std::int8_t* A, const std::int8_t* B,
                             std::int32_t* C, WavefrontTrace* trace) {
  switch (c.dataflow) {
    case Dataflow::ws:
      // X = A (m × k) streams, S = B (k × n) is stationary, Y = C.
      return step_weight_stationary(c, m, n, k, A, B, C, trace);
    case Dataflow::is: {
      // Cᵀ (n × m) = Bᵀ (n × k) · Aᵀ (k × m): the array holds a tile of A, B's columns stream.
      const std::vector<std::int8_t> bt = transposed(B, k, n), at = transposed(A, m, k);
      std::vector<std::int32_t> ct(static_cast<std::size_t>(n * m));
      const ComputeCount count =
          step_weight_stationary(c, n, m, k, bt.data(), at.data(), ct.data(), trace);
      for (std::int64_t j = 0; j < n; ++j) {
        for (std::int64_t i = 0; i < m; ++i) C[i * n + j] = ct[j * m + i];
      }
      return count;
    }
    case Dataflow::os:
      return step_output_stationary(c, m, n, k, A, B, C, trace);
  }
  return {};
}

}  // namespace mlcore::systolic
