// What an op costs besides the array's busy cycles: bytes on and off chip, the vector unit,
// stalls for DRAM, utilization and energy (docs/SYSTOLIC.md, "Memory" and "Energy").
#pragma once

#include <cstdint>

#include "cycle_model.hpp"
#include "mlcore/profile.hpp"
#include "mlcore/systolic.hpp"

namespace mlcore::systolic {

struct OpCost {
  std::int64_t array_cycles = 0;                   // the MAC array busy (cycle model)
  std::int64_t vector_cycles = 0;                  // the vector unit busy
  std::int64_t dram_read = 0, dram_write = 0;      // bytes
  std::int64_t onchip_read = 0, onchip_write = 0;  // bytes of SRAM (buffers, accumulators)
  std::int64_t useful_macs = 0;                    // int8 MACs of the GEMM (padding excluded)
  std::int64_t accumulates = 0;                    // int32 adds in the accumulators
  std::int64_t vector_ops = 0;                     // f32 lane-operations on the vector unit
  std::int64_t folds = 0;
  std::int64_t passes = 0;       // int8 products run on the array
  std::int64_t wasted_macs = 0;  // MACs on zeros inside dense tiles of a sparse operand
  // Bytes that must arrive before the first fold can start, and that leave after the last one
  // ends (the parts of the DRAM traffic double buffering cannot hide).
  std::int64_t first_load = 0, last_store = 0;

  // Appends `next`, run after this one (sums; the first load stays ours, the last store is its).
  void then(const OpCost& next);
};

// The cost of the int8 GEMM C (m × n) = A (m × k) · B (k × n) on the array, given its compute
// count. Operands are read from DRAM as int8, outputs written as 4-byte values (int32 sums or
// f32 after dequantization, which is fused into the accumulator read-out).
OpCost gemm_cost(const SystolicConfig& c, std::int64_t m, std::int64_t n, std::int64_t k,
                 const ComputeCount& count);

// The cost of `lane_ops` f32 lane-operations on the vector unit that stream `bytes_in` from and
// `bytes_out` to DRAM: ceil(lane_ops / lanes) cycles.
OpCost vector_cost(const SystolicConfig& c, std::int64_t lane_ops, std::int64_t bytes_in,
                   std::int64_t bytes_out);

// Cycles to move `bytes` over the DRAM interface: ceil(bytes · clock / bandwidth).
std::int64_t dram_cycles(const SystolicConfig& c, std::int64_t bytes);

// Stalls, utilization and energy of a finished cost:
//   total = max(load(first) + compute + store(last), dram(all bytes)),  stall = total − compute.
SimCounters to_counters(const SystolicConfig& c, const OpCost& cost);

}  // namespace mlcore::systolic
