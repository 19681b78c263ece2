// The `systolic` backend: an int8 TPU-style systolic-array simulator (docs/SYSTOLIC.md).
//
// A systolic array is a grid of rows × cols processing elements (PEs). Each PE multiplies two
// int8 operands and adds the product to a 32-bit partial sum, then hands its operands to its
// neighbours one cycle later. Which operand stays put in the PEs is the *dataflow*:
//   ws  weight stationary  (TPU v1): a tile of B sits in the PEs, rows of A stream from the left,
//       partial sums flow down into accumulators below the array;
//   os  output stationary: each PE owns one element of C, A streams from the left and B from
//       the top, the finished sums drain out afterwards;
//   is  input stationary: a tile of A sits in the PEs and columns of B stream through (weight
//       stationary with the roles of A and B exchanged).
// The simulator computes exact int8 × int8 → int32 results (f32 operands are quantized to int8
// first and the results dequantized) and counts the cycles the array would take, the bytes it
// moves on and off chip, and the energy, into the call's OpRecord.SimCounters.
//
//   mlcore::SystolicConfig cfg = mlcore::systolic_preset("tpu-v1");
//   cfg.rows = cfg.cols = 32;
//   cfg.dataflow = mlcore::Dataflow::os;
//   mlcore::BackendPtr tpu = mlcore::make_systolic_backend(cfg);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mlcore/backend.hpp"
#include "mlcore/tensor.hpp"

namespace mlcore {

enum class Dataflow : std::uint8_t { ws, os, is };
// "ws", "os", "is"; parse_dataflow accepts the same names (and throws mlcore::Error otherwise).
const char* dataflow_name(Dataflow d);
Dataflow parse_dataflow(const std::string& name);

// How cycles are counted (docs/SYSTOLIC.md, "Two conventions").
//   physical  what the modelled hardware does: the next weight tile is shifted in while the
//             current one computes (double-buffered weights, TPU v1), partial sums of K folds
//             stay in on-chip accumulators, the output-stationary drain is overlapped;
//   scalesim  the compute-cycle count SCALE-Sim v2/v3 reports for the same array, dataflow and
//             GEMM (folds run one after another, each padded to the full array).
enum class Convention : std::uint8_t { physical, scalesim };
const char* convention_name(Convention c);
Convention parse_convention(const std::string& name);

// analytic: closed-form cycle counts per fold (fast, the default). stepped: every operand moves
// one PE per cycle in a register-level model (for validation and for wavefront traces).
enum class SimMode : std::uint8_t { analytic, stepped };
const char* sim_mode_name(SimMode m);
SimMode parse_sim_mode(const std::string& name);

// Energy per event, picojoules. Defaults: Horowitz, "Computing's energy problem (and what we
// can do about it)", ISSCC 2014, Fig. 1.1.9 (45 nm, 0.9 V), as reproduced by Han et al.,
// "Learning both weights and connections", NeurIPS 2015, Table 1.
struct EnergyTable {
  double mac_int8_pj = 0.3;          // 8-bit multiply 0.2 pJ + 32-bit add 0.1 pJ (Horowitz)
  double accumulate_int32_pj = 0.1;  // 32-bit integer add in the accumulators (Horowitz)
  double sram_pj_per_byte = 2.5;     // 64-bit read from a 32 KB SRAM bank = 20 pJ (Horowitz)
  double dram_pj_per_byte = 160.0;   // 32-bit DRAM access = 640 pJ (Horowitz; Han et al.)
  double vector_op_pj = 3.7;         // one f32 lane-operation ~ a 32-bit float multiply (Horowitz)
};
bool operator==(const EnergyTable& a, const EnergyTable& b);

// Every knob of the simulated machine. Presets fill all of them; any field may be overridden.
struct SystolicConfig {
  std::string preset = "tpu-v1";  // the preset this configuration started from (informative)
  std::int64_t rows = 256;        // PE rows (the K dimension in ws/is, M in os)
  std::int64_t cols = 256;        // PE columns
  double clock_hz = 700e6;
  Dataflow dataflow = Dataflow::ws;
  Convention convention = Convention::physical;
  SimMode mode = SimMode::analytic;
  std::int64_t unified_buffer_bytes = 24ll << 20;  // activations and outputs on chip
  std::int64_t accumulator_bytes = 4ll << 20;      // int32 partial sums below the array
  double dram_bytes_per_second = 34e9;             // off-chip bandwidth
  std::int64_t vector_lanes = 256;                 // f32 lanes of the vector unit
  EnergyTable energy;
  bool record_quant_error = true;  // estimate each f32 MAC call's relative int8 error
  int num_threads = 0;             // host threads for the functional int8 arithmetic (0: all)
};
bool operator==(const SystolicConfig& a, const SystolicConfig& b);
inline bool operator!=(const SystolicConfig& a, const SystolicConfig& b) { return !(a == b); }

// Names of the presets: "tpu-v1" (the default) and "edge-npu".
std::vector<std::string> systolic_preset_names();
// The configuration of a preset; throws mlcore::Error for an unknown name.
//   tpu-v1    256×256 int8 MACs at 700 MHz, 24 MiB unified buffer, 4 MiB accumulators,
//             34 GB/s DRAM (Jouppi et al., "In-Datacenter Performance Analysis of a Tensor
//             Processing Unit", ISCA 2017, Table 2 and Section 2), weight stationary.
//   edge-npu  an illustrative edge accelerator (not a specific product): 32×32 MACs at 1 GHz,
//             512 KiB buffer, 64 KiB accumulators, 8 GB/s (one 32-bit LPDDR4x channel).
SystolicConfig systolic_preset(const std::string& name);
// Throws mlcore::Error naming the bad field (rows < 1, clock ≤ 0, ...).
void validate(const SystolicConfig& config);
// A one-line description: "systolic[tpu-v1]: 256x256 ws physical analytic, 700 MHz, ...".
std::string to_string(const SystolicConfig& config);

// A configured simulator. make_default_systolic_backend() is the "systolic" registry entry.
BackendPtr make_systolic_backend(const SystolicConfig& config);
BackendPtr make_default_systolic_backend();
// The configuration of a backend made by make_systolic_backend; throws mlcore::Error when `b`
// is not a systolic backend.
SystolicConfig systolic_config_of(const Backend& b);

// ---- the cycle model on its own ----------------------------------------------------------
// What the array does for one int8 GEMM C (m × n) = A (m × k) · B (k × n).
struct SystolicGemmStats {
  std::int64_t folds = 0;           // array-sized tiles the GEMM was cut into
  std::int64_t compute_cycles = 0;  // array busy: fill, stream, drain, weight loads not hidden
  std::int64_t stall_cycles = 0;    // waiting for DRAM (docs/SYSTOLIC.md, "Memory")
  std::int64_t dram_read_bytes = 0, dram_write_bytes = 0;
  std::int64_t onchip_read_bytes = 0, onchip_write_bytes = 0;
  std::int64_t accumulates = 0;  // int32 adds in the accumulators (K folds after the first)
  double utilization = 0;        // m·n·k ÷ (rows·cols·(compute + stall))
  double energy_joules = 0;
  std::int64_t cycles() const { return compute_cycles + stall_cycles; }
};
// The analytic count for the configuration's dataflow and convention (values not computed).
SystolicGemmStats systolic_gemm_cycles(const SystolicConfig& config, std::int64_t m, std::int64_t n,
                                       std::int64_t k);

// The cycle-stepped model: moves every operand one PE per cycle and returns C (m × n, i32) =
// A (m × k, i8) · B (k × n, i8) together with its counts, which equal systolic_gemm_cycles's.
SystolicGemmStats systolic_gemm_stepped(const SystolicConfig& config, const Tensor& A,
                                        const Tensor& B, Tensor& C);

// ---- the wavefront trace (for drawing; small arrays only) --------------------------------
// Each PE's registers at the end of every cycle of a stepped GEMM. Arrays are cycles × rows ×
// cols, flattened: element (t, r, c) is at [(t·rows + r)·cols + c].
//   left  the operand moving right: A in ws and os, a row of Bᵀ in is
//   top   ws/is: the stationary operand the PE multiplied with this cycle (its weight);
//         os: the operand moving down (B)
//   acc   ws/is: the partial sum the PE passes down; os: the PE's running sum
//   busy  1 when the PE did a useful multiply-accumulate this cycle (padding and idle PEs: 0)
struct WavefrontTrace {
  std::int64_t cycles = 0, rows = 0, cols = 0;
  Dataflow dataflow = Dataflow::ws;
  std::vector<std::int8_t> left, top;
  std::vector<std::int32_t> acc;
  std::vector<std::uint8_t> busy;
};
// Runs the stepped model on A (m × k, i8) and B (k × n, i8), filling C (m × n, i32) and
// recording every cycle. Throws mlcore::Error when cycles × rows × cols would exceed 2^26
// entries (use a small array: the trace is for notebooks, not for big GEMMs).
WavefrontTrace systolic_trace(const SystolicConfig& config, const Tensor& A, const Tensor& B,
                              Tensor& C);

}  // namespace mlcore
