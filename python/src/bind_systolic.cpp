// Bindings of the systolic simulator's configuration, cycle model and wavefront trace. A
// configuration crosses the boundary as a flat dict (python/mlcore/systolic.py builds it from
// keyword arguments and validates the names); C++ validates the values.
#include <pybind11/numpy.h>

#include <cstring>

#include "bindings.hpp"
#include "convert.hpp"
#include "mlcore/systolic.hpp"

namespace mlcore::python {

namespace {

py::dict config_to_dict(const SystolicConfig& c) {
  py::dict d;
  d["preset"] = c.preset;
  d["rows"] = c.rows;
  d["cols"] = c.cols;
  d["clock_hz"] = c.clock_hz;
  d["dataflow"] = dataflow_name(c.dataflow);
  d["convention"] = convention_name(c.convention);
  d["mode"] = sim_mode_name(c.mode);
  d["unified_buffer_bytes"] = c.unified_buffer_bytes;
  d["accumulator_bytes"] = c.accumulator_bytes;
  d["dram_bytes_per_second"] = c.dram_bytes_per_second;
  d["vector_lanes"] = c.vector_lanes;
  d["mac_int8_pj"] = c.energy.mac_int8_pj;
  d["accumulate_int32_pj"] = c.energy.accumulate_int32_pj;
  d["sram_pj_per_byte"] = c.energy.sram_pj_per_byte;
  d["dram_pj_per_byte"] = c.energy.dram_pj_per_byte;
  d["vector_op_pj"] = c.energy.vector_op_pj;
  d["record_quant_error"] = c.record_quant_error;
  d["num_threads"] = c.num_threads;
  return d;
}

// The preset named by d["preset"] (default tpu-v1) with every other key of d applied.
SystolicConfig config_from_dict(const py::dict& d) {
  SystolicConfig c =
      systolic_preset(d.contains("preset") ? d["preset"].cast<std::string>() : "tpu-v1");
  for (auto item : d) {
    const std::string key = item.first.cast<std::string>();
    const py::handle v = item.second;
    if (key == "preset") continue;
    if (key == "rows")
      c.rows = v.cast<std::int64_t>();
    else if (key == "cols")
      c.cols = v.cast<std::int64_t>();
    else if (key == "clock_hz")
      c.clock_hz = v.cast<double>();
    else if (key == "dataflow")
      c.dataflow = parse_dataflow(v.cast<std::string>());
    else if (key == "convention")
      c.convention = parse_convention(v.cast<std::string>());
    else if (key == "mode")
      c.mode = parse_sim_mode(v.cast<std::string>());
    else if (key == "unified_buffer_bytes")
      c.unified_buffer_bytes = v.cast<std::int64_t>();
    else if (key == "accumulator_bytes")
      c.accumulator_bytes = v.cast<std::int64_t>();
    else if (key == "dram_bytes_per_second")
      c.dram_bytes_per_second = v.cast<double>();
    else if (key == "vector_lanes")
      c.vector_lanes = v.cast<std::int64_t>();
    else if (key == "mac_int8_pj")
      c.energy.mac_int8_pj = v.cast<double>();
    else if (key == "accumulate_int32_pj")
      c.energy.accumulate_int32_pj = v.cast<double>();
    else if (key == "sram_pj_per_byte")
      c.energy.sram_pj_per_byte = v.cast<double>();
    else if (key == "dram_pj_per_byte")
      c.energy.dram_pj_per_byte = v.cast<double>();
    else if (key == "vector_op_pj")
      c.energy.vector_op_pj = v.cast<double>();
    else if (key == "record_quant_error")
      c.record_quant_error = v.cast<bool>();
    else if (key == "num_threads")
      c.num_threads = v.cast<int>();
    else
      MLCORE_FAIL("unknown systolic configuration key '" << key << "'");
  }
  validate(c);
  return c;
}

py::dict stats_to_dict(const SystolicGemmStats& s) {
  py::dict d;
  d["folds"] = s.folds;
  d["compute_cycles"] = s.compute_cycles;
  d["stall_cycles"] = s.stall_cycles;
  d["cycles"] = s.cycles();
  d["dram_read_bytes"] = s.dram_read_bytes;
  d["dram_write_bytes"] = s.dram_write_bytes;
  d["onchip_read_bytes"] = s.onchip_read_bytes;
  d["onchip_write_bytes"] = s.onchip_write_bytes;
  d["accumulates"] = s.accumulates;
  d["utilization"] = s.utilization;
  d["energy_joules"] = s.energy_joules;
  return d;
}

// A (cycles, rows, cols) numpy array holding a copy of one trace field.
template <class T>
py::array_t<T> trace_array(const std::vector<T>& v, const WavefrontTrace& t) {
  py::array_t<T> out({t.cycles, t.rows, t.cols});
  if (!v.empty()) std::memcpy(out.mutable_data(), v.data(), v.size() * sizeof(T));
  return out;
}

}  // namespace

void bind_systolic(py::module_& m) {
  m.def("systolic_preset_names", &systolic_preset_names);
  m.def("systolic_preset",
        [](const std::string& name) { return config_to_dict(systolic_preset(name)); });
  // The full configuration a dict of overrides stands for (validated).
  m.def("systolic_config", [](const py::dict& d) { return config_to_dict(config_from_dict(d)); });
  m.def("systolic_config_string", [](const py::dict& d) { return to_string(config_from_dict(d)); });
  m.def("make_systolic_backend",
        [](const py::dict& d) { return make_systolic_backend(config_from_dict(d)); });
  m.def("systolic_gemm_cycles",
        [](const py::dict& d, std::int64_t m_, std::int64_t n, std::int64_t k) {
          return stats_to_dict(systolic_gemm_cycles(config_from_dict(d), m_, n, k));
        });
  // The stepped model on int8 a (m × k) and b (k × n): (c, stats, trace dict of arrays).
  m.def("systolic_trace", [](const py::dict& d, py::array a, py::array b) {
    const SystolicConfig c = config_from_dict(d);
    Tensor A = borrow_array(a, "a"), B = borrow_array(b, "b");
    MLCORE_CHECK(A.dtype() == DType::i8 && B.dtype() == DType::i8,
                 "systolic trace: a and b must be int8 arrays");
    MLCORE_CHECK(A.cols() == B.rows(),
                 "systolic trace: a is " << A.describe() << " but b is " << B.describe());
    Tensor C(A.rows(), B.cols(), DType::i32);
    WavefrontTrace t;
    {
      InterruptibleCall nogil;
      t = systolic_trace(c, A, B, C);
    }
    py::dict out;
    out["c"] = tensor_to_array(C);
    out["left"] = trace_array(t.left, t);
    out["top"] = trace_array(t.top, t);
    out["acc"] = trace_array(t.acc, t);
    out["busy"] = trace_array(t.busy, t);
    out["cycles"] = t.cycles;
    out["dataflow"] = dataflow_name(t.dataflow);
    return out;
  });
}

}  // namespace mlcore::python
