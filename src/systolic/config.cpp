// SystolicConfig: names of the enums, the presets, validation and printing.
#include <cmath>
#include <iomanip>
#include <sstream>

#include "mlcore/systolic.hpp"

namespace mlcore {

const char* dataflow_name(Dataflow d) {
  switch (d) {
    case Dataflow::ws:
      return "ws";
    case Dataflow::os:
      return "os";
    case Dataflow::is:
      return "is";
  }
  return "?";
}

Dataflow parse_dataflow(const std::string& name) {
  if (name == "ws") return Dataflow::ws;
  if (name == "os") return Dataflow::os;
  if (name == "is") return Dataflow::is;
  MLCORE_FAIL("unknown dataflow '" << name << "'; expected one of ws, os, is");
}

const char* convention_name(Convention c) {
  return c == Convention::physical ? "physical" : "scalesim";
}

Convention parse_convention(const std::string& name) {
  if (name == "physical") return Convention::physical;
  if (name == "scalesim") return Convention::scalesim;
  MLCORE_FAIL("unknown timing convention '" << name << "'; expected physical or scalesim");
}

const char* sim_mode_name(SimMode m) { return m == SimMode::analytic ? "analytic" : "stepped"; }

SimMode parse_sim_mode(const std::string& name) {
  if (name == "analytic") return SimMode::analytic;
  if (name == "stepped") return SimMode::stepped;
  MLCORE_FAIL("unknown simulation mode '" << name << "'; expected analytic or stepped");
}

bool operator==(const EnergyTable& a, const EnergyTable& b) {
  return a.mac_int8_pj == b.mac_int8_pj && a.accumulate_int32_pj == b.accumulate_int32_pj &&
         a.sram_pj_per_byte == b.sram_pj_per_byte && a.dram_pj_per_byte == b.dram_pj_per_byte &&
         a.vector_op_pj == b.vector_op_pj;
}

// `preset` is a label, not part of what the machine is: two configurations that simulate the
// same machine compare equal whatever preset they started from.
bool operator==(const SystolicConfig& a, const SystolicConfig& b) {
  return a.rows == b.rows && a.cols == b.cols && a.clock_hz == b.clock_hz &&
         a.dataflow == b.dataflow && a.convention == b.convention && a.mode == b.mode &&
         a.unified_buffer_bytes == b.unified_buffer_bytes &&
         a.accumulator_bytes == b.accumulator_bytes &&
         a.dram_bytes_per_second == b.dram_bytes_per_second && a.vector_lanes == b.vector_lanes &&
         a.energy == b.energy && a.record_quant_error == b.record_quant_error &&
         a.num_threads == b.num_threads;
}

std::vector<std::string> systolic_preset_names() { return {"tpu-v1", "edge-npu"}; }

SystolicConfig systolic_preset(const std::string& name) {
  SystolicConfig c;  // the defaults are the tpu-v1 figures
  if (name == "tpu-v1") {
    // Jouppi et al., ISCA 2017: a 256×256 matrix unit of 8-bit MACs at 700 MHz (92 TOPS), a
    // 24 MiB unified buffer, 4 MiB of 32-bit accumulators (4096 × 256 × 4 B, half of them for
    // double buffering), weights from DDR3 at 34 GB/s; weight stationary. Its activation
    // pipeline processes one 256-wide vector per cycle: our vector unit has 256 lanes.
    c.preset = "tpu-v1";
    return c;
  }
  if (name == "edge-npu") {
    // An illustrative edge NPU, not a product: 1024 MACs (2 TOPS at 1 GHz), little SRAM,
    // one 32-bit LPDDR4x channel (4266 MT/s × 4 B ≈ 17 GB/s peak, ~8 GB/s sustained).
    c.preset = "edge-npu";
    c.rows = 32;
    c.cols = 32;
    c.clock_hz = 1e9;
    c.unified_buffer_bytes = 512ll << 10;
    c.accumulator_bytes = 64ll << 10;
    c.dram_bytes_per_second = 8e9;
    c.vector_lanes = 32;
    return c;
  }
  std::string known;
  for (const std::string& n : systolic_preset_names()) known += (known.empty() ? "" : ", ") + n;
  MLCORE_FAIL("unknown systolic preset '" << name << "'; known presets: " << known);
}

void validate(const SystolicConfig& c) {
  MLCORE_CHECK(c.rows >= 1 && c.rows <= 4096,
               "systolic config: rows must be in [1, 4096], got " << c.rows);
  MLCORE_CHECK(c.cols >= 1 && c.cols <= 4096,
               "systolic config: cols must be in [1, 4096], got " << c.cols);
  MLCORE_CHECK(c.clock_hz > 0 && std::isfinite(c.clock_hz),
               "systolic config: clock_hz must be positive, got " << c.clock_hz);
  MLCORE_CHECK(
      c.dram_bytes_per_second > 0 && std::isfinite(c.dram_bytes_per_second),
      "systolic config: dram_bytes_per_second must be positive, got " << c.dram_bytes_per_second);
  MLCORE_CHECK(c.unified_buffer_bytes >= 2 * c.rows * c.cols,
               "systolic config: unified_buffer_bytes must hold at least two "
                   << c.rows << "x" << c.cols << " int8 tiles (" << 2 * c.rows * c.cols
                   << " bytes), got " << c.unified_buffer_bytes);
  // Double-buffered accumulators need at least one 32-bit row per half.
  MLCORE_CHECK(c.accumulator_bytes >= 2 * 4 * c.cols,
               "systolic config: accumulator_bytes must hold two rows of "
                   << c.cols << " int32 sums (" << 8 * c.cols << " bytes), got "
                   << c.accumulator_bytes);
  MLCORE_CHECK(c.vector_lanes >= 1,
               "systolic config: vector_lanes must be ≥ 1, got " << c.vector_lanes);
  MLCORE_CHECK(c.num_threads >= 0,
               "systolic config: num_threads must be ≥ 0, got " << c.num_threads);
  const EnergyTable& e = c.energy;
  MLCORE_CHECK(e.mac_int8_pj >= 0 && e.accumulate_int32_pj >= 0 && e.sram_pj_per_byte >= 0 &&
                   e.dram_pj_per_byte >= 0 && e.vector_op_pj >= 0,
               "systolic config: energy figures must be ≥ 0");
}

namespace {
std::string bytes_text(std::int64_t b) {
  std::ostringstream s;
  if (b % (1ll << 20) == 0) {
    s << (b >> 20) << " MiB";
  } else if (b % (1ll << 10) == 0) {
    s << (b >> 10) << " KiB";
  } else {
    s << b << " B";
  }
  return s.str();
}
}  // namespace

std::string to_string(const SystolicConfig& c) {
  std::ostringstream s;
  s << "systolic[" << c.preset << "]: " << c.rows << "x" << c.cols << " "
    << dataflow_name(c.dataflow) << " " << convention_name(c.convention) << " "
    << sim_mode_name(c.mode) << ", " << c.clock_hz / 1e6 << " MHz, UB "
    << bytes_text(c.unified_buffer_bytes) << ", acc " << bytes_text(c.accumulator_bytes)
    << ", DRAM " << c.dram_bytes_per_second / 1e9 << " GB/s, " << c.vector_lanes
    << " vector lanes, energy pJ (mac " << c.energy.mac_int8_pj << ", acc "
    << c.energy.accumulate_int32_pj << ", sram/B " << c.energy.sram_pj_per_byte << ", dram/B "
    << c.energy.dram_pj_per_byte << ", vec " << c.energy.vector_op_pj << ")";
  return s.str();
}

}  // namespace mlcore
