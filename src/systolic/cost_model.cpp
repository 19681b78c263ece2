// Traffic, stalls and energy (docs/SYSTOLIC.md, "Memory" and "Energy").
//
// Memory model. Every operand starts in DRAM and every result ends there. A DMA engine moves
// tiles between DRAM and the on-chip buffers while the array computes, double-buffered: fold f
// computes while fold f+1's operands arrive and fold f−1's results leave. So an op takes
//     max( load(first fold) + compute + store(last fold),   DRAM bytes / bandwidth )
// cycles: the first is the latency no overlap can hide, the second the bandwidth floor. The
// cycles beyond `compute` are stalls. Buffer capacity enters through the traffic: an operand
// that does not fit in half the unified buffer (the other half is the double buffer) is read
// from DRAM again for each tile that needs it.
#include "cost_model.hpp"

#include <algorithm>
#include <cmath>

namespace mlcore::systolic {

void OpCost::then(const OpCost& next) {
  array_cycles += next.array_cycles;
  vector_cycles += next.vector_cycles;
  dram_read += next.dram_read;
  dram_write += next.dram_write;
  onchip_read += next.onchip_read;
  onchip_write += next.onchip_write;
  useful_macs += next.useful_macs;
  accumulates += next.accumulates;
  vector_ops += next.vector_ops;
  folds += next.folds;
  passes += next.passes;
  wasted_macs += next.wasted_macs;
  if (first_load == 0) first_load = next.first_load;
  last_store = next.last_store;
}

std::int64_t dram_cycles(const SystolicConfig& c, std::int64_t bytes) {
  if (bytes <= 0) return 0;
  // A small epsilon so that an exact quotient computed as x.0000000001 is not rounded up.
  const double cycles = static_cast<double>(bytes) * c.clock_hz / c.dram_bytes_per_second;
  return static_cast<std::int64_t>(std::ceil(cycles - 1e-9));
}

OpCost gemm_cost(const SystolicConfig& c, std::int64_t m, std::int64_t n, std::int64_t k,
                 const ComputeCount& count) {
  OpCost cost;
  cost.array_cycles = count.cycles;
  cost.folds = count.folds;
  cost.passes = 1;
  if (m <= 0 || n <= 0) return cost;
  const std::int64_t R = c.rows, C = c.cols;
  const std::int64_t half_ub = c.unified_buffer_bytes / 2;
  const std::int64_t out_bytes = 4 * m * n;
  cost.useful_macs = m * n * k;
  cost.dram_write = out_bytes;
  if (k <= 0) {  // nothing to multiply: the outputs are written (as zeros, or β·C)
    cost.onchip_read = out_bytes;
    cost.last_store = out_bytes;
    return cost;
  }
  if (c.dataflow == Dataflow::os) {
    // Loop order: row tiles of A outer, column tiles of B inner. A's row tile (≤ R × k) stays
    // on chip while the column tiles pass, so A is read once if a tile fits in half the UB;
    // B is read once if it fits whole, else once per row tile.
    const std::int64_t fm = ceil_div(m, R), fn = ceil_div(n, C);
    const std::int64_t a_reads = std::min(R, m) * k <= half_ub ? 1 : fn;
    const std::int64_t b_reads = k * n <= half_ub ? 1 : fm;
    cost.dram_read = m * k * a_reads + k * n * b_reads;
    // Into the array: every fold streams its A rows and B columns from the buffer.
    cost.onchip_read = m * k * fn + k * n * fm + out_bytes;  // + the outputs on their way out
    cost.onchip_write = cost.dram_read + out_bytes;          // DMA arrivals + finished sums
    cost.first_load = std::min(R, m) * k + k * std::min(C, n);
    const std::int64_t rt_last = m - (fm - 1) * R, w_last = n - (fn - 1) * C;
    cost.last_store = 4 * rt_last * w_last;
    return cost;
  }
  // Weight stationary (is: the same with A and B exchanged). Loop order: chunks of L streamed
  // rows, then column tiles of S, then K tiles. The weights are read once per chunk; a chunk of
  // X is read once if it fits in half the UB, else once per column tile.
  const WsView v = ws_view(c.dataflow, m, n, k);
  const std::int64_t L = stream_chunk_rows(c, v.t);
  const std::int64_t chunks = ceil_div(v.t, L);
  const std::int64_t fk = ceil_div(v.kd, R), fp = ceil_div(v.p, C);
  const std::int64_t x_reads = std::min(L, v.t) * v.kd <= half_ub ? 1 : fp;
  const std::int64_t x_bytes = v.t * v.kd, s_bytes = v.kd * v.p;
  cost.dram_read = x_bytes * x_reads + s_bytes * chunks;
  // On chip: X into the array once per column tile, weights once per chunk; the accumulators
  // write one int32 per output per K fold and read it back for every fold after the first,
  // then once more to send it out.
  cost.onchip_read = x_bytes * fp + s_bytes * chunks + 4 * v.t * v.p * (fk - 1) + out_bytes;
  cost.onchip_write = cost.dram_read + 4 * v.t * v.p * fk;
  cost.accumulates = v.t * v.p * (fk - 1);
  cost.first_load = std::min(R, v.kd) * std::min(C, v.p) + std::min(L, v.t) * std::min(R, v.kd);
  const std::int64_t len_last = v.t - (chunks - 1) * L, w_last = v.p - (fp - 1) * C;
  cost.last_store = 4 * len_last * w_last;
  return cost;
}

OpCost vector_cost(const SystolicConfig& c, std::int64_t lane_ops, std::int64_t bytes_in,
                   std::int64_t bytes_out) {
  OpCost cost;
  cost.vector_ops = lane_ops;
  cost.vector_cycles = ceil_div(std::max<std::int64_t>(lane_ops, 0), c.vector_lanes);
  cost.dram_read = bytes_in;
  cost.dram_write = bytes_out;
  cost.onchip_write = bytes_in + bytes_out;  // DMA in, results out (through the buffer)
  cost.onchip_read = bytes_in + bytes_out;
  // The vector unit streams one vector of `lanes` f32 at a time.
  cost.first_load = std::min(bytes_in, 4 * c.vector_lanes);
  cost.last_store = std::min(bytes_out, 4 * c.vector_lanes);
  return cost;
}

SimCounters to_counters(const SystolicConfig& c, const OpCost& cost) {
  SimCounters s;
  s.clock_hz = c.clock_hz;
  s.compute_cycles = cost.array_cycles + cost.vector_cycles;
  const std::int64_t latency =
      dram_cycles(c, cost.first_load) + s.compute_cycles + dram_cycles(c, cost.last_store);
  const std::int64_t bandwidth = dram_cycles(c, cost.dram_read + cost.dram_write);
  const std::int64_t total = std::max(latency, bandwidth);
  s.stall_cycles = total - s.compute_cycles;
  s.utilization = total > 0
                      ? static_cast<double>(cost.useful_macs) /
                            (static_cast<double>(c.rows * c.cols) * static_cast<double>(total))
                      : 0.0;
  s.onchip_read_bytes = cost.onchip_read;
  s.onchip_write_bytes = cost.onchip_write;
  s.dram_read_bytes = cost.dram_read;
  s.dram_write_bytes = cost.dram_write;
  const EnergyTable& e = c.energy;
  // Idle and padded PEs are assumed clock-gated: only useful MACs cost MAC energy, and the MACs
  // on a sparse operand's zeros (they flow through the PEs like any other code).
  const double pj = static_cast<double>(cost.useful_macs + cost.wasted_macs) * e.mac_int8_pj +
                    static_cast<double>(cost.accumulates) * e.accumulate_int32_pj +
                    static_cast<double>(cost.onchip_read + cost.onchip_write) * e.sram_pj_per_byte +
                    static_cast<double>(cost.dram_read + cost.dram_write) * e.dram_pj_per_byte +
                    static_cast<double>(cost.vector_ops) * e.vector_op_pj;
  s.energy_joules = pj * 1e-12;
  s.passes = cost.passes;
  s.wasted_macs = cost.wasted_macs;
  return s;
}

}  // namespace mlcore::systolic
