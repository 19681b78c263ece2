#include "convert.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "bindings.hpp"

namespace mlcore::python {

namespace {

DType dtype_of_array(const py::array& a, const char* what) {
  // Compare by kind and size, not by dtype object identity: numpy may hand an equal float32
  // dtype that is a different object (e.g. after unpickling).
  const py::dtype dt = a.dtype();
  const char order = dt.byteorder();
  MLCORE_CHECK(
      order == '=' || order == '|' || order == '<',
      what << ": dtype " << std::string(py::str(dt)) << " is not in the machine's byte order");
  if (dt.kind() == 'f' && dt.itemsize() == 4) return DType::f32;
  if (dt.kind() == 'i' && dt.itemsize() == 1) return DType::i8;
  if (dt.kind() == 'i' && dt.itemsize() == 4) return DType::i32;
  if (dt.kind() == 'i' && dt.itemsize() == 8) return DType::i64;
  if (dt.kind() == 'f' && dt.itemsize() == 8) return DType::f64;
  MLCORE_FAIL(what << ": dtype " << std::string(py::str(dt))
                   << " is not one of float32, int8, int32, int64, float64");
}

py::dtype numpy_dtype(DType d) {
  switch (d) {
    case DType::f32:
      return py::dtype::of<float>();
    case DType::i8:
      return py::dtype::of<std::int8_t>();
    case DType::i32:
      return py::dtype::of<std::int32_t>();
    case DType::i64:
      return py::dtype::of<std::int64_t>();
    case DType::f64:
      return py::dtype::of<double>();
  }
  return py::dtype::of<float>();
}

}  // namespace

Tensor borrow_array(const py::array& a, const char* what) {
  MLCORE_CHECK(a.ndim() == 1 || a.ndim() == 2,
               what << ": expected a 1-D or 2-D array, got " << a.ndim() << " dimensions");
  MLCORE_CHECK(a.flags() & py::array::c_style,
               what << ": array must be C-contiguous (the Python layer should have converted it)");
  const DType dtype = dtype_of_array(a, what);
  const std::int64_t rows = a.shape(0);
  const std::int64_t cols = a.ndim() == 2 ? a.shape(1) : 1;
  // numpy may hand a null data pointer for empty arrays; a tensor of no elements never reads it.
  void* data = const_cast<void*>(a.data());
  if (rows * cols == 0) return Tensor::borrow(nullptr, rows, cols, dtype);
  return Tensor::borrow(data, rows, cols, dtype);
}

PyCsr make_py_csr(std::int64_t rows, std::int64_t cols, const py::array& indptr,
                  const py::array& indices, const py::array& data) {
  PyCsr c;
  c.m.rows = rows;
  c.m.cols = cols;
  c.m.indptr = borrow_array(indptr, "X.indptr");
  c.m.indices = borrow_array(indices, "X.indices");
  c.m.data = borrow_array(data, "X.data");
  c.keep = py::make_tuple(indptr, indices, data);
  check_csr(c.m, "X");
  return c;
}

std::int64_t first_non_finite(const py::array_t<float, py::array::c_style>& a) {
  const std::uint32_t* bits = reinterpret_cast<const std::uint32_t*>(a.data());
  const std::int64_t n = a.size();
  constexpr std::uint32_t kExponent = 0x7f800000u;  // all ones: infinity or NaN
  constexpr std::int64_t kBlock = 4096;             // branch once per block, not per element
  for (std::int64_t b = 0; b < n; b += kBlock) {
    const std::int64_t end = std::min(n, b + kBlock);
    std::uint32_t any = 0;
    for (std::int64_t i = b; i < end; ++i) any |= (bits[i] & kExponent) == kExponent;
    if (any) {
      for (std::int64_t i = b; i < end; ++i) {
        if ((bits[i] & kExponent) == kExponent) return i;
      }
    }
  }
  return -1;
}

py::array new_array(std::int64_t rows, std::int64_t cols, DType dtype) {
  return py::array(numpy_dtype(dtype), {rows, cols});
}

py::array tensor_to_array(const Tensor& t) {
  MLCORE_CHECK(t.device() == Device::host,
               "tensor_to_array needs a host tensor, got " << t.describe());
  py::array out = new_array(t.rows(), t.cols(), t.dtype());
  if (t.size_bytes() > 0) std::memcpy(out.mutable_data(), t.raw(), t.size_bytes());
  return out;
}

py::dict record_to_dict(const OpRecord& r) {
  py::dict d;
  d["op"] = r.op;
  d["backend"] = r.backend;
  d["dtype"] = r.dtype;
  d["m"] = r.m;
  d["n"] = r.n;
  d["k"] = r.k;
  d["macs"] = r.macs;
  d["bytes_read"] = r.bytes_read;
  d["bytes_written"] = r.bytes_written;
  d["host_to_device_bytes"] = r.host_to_device_bytes;
  d["device_to_host_bytes"] = r.device_to_host_bytes;
  d["seconds"] = r.seconds;
  d["seconds_simulated"] = r.seconds_simulated;
  d["wall_seconds"] = r.wall_seconds;
  const py::object none = py::none();
  d["cycles"] = r.sim ? py::object(py::int_(r.sim->cycles())) : none;
  d["compute_cycles"] = r.sim ? py::object(py::int_(r.sim->compute_cycles)) : none;
  d["stall_cycles"] = r.sim ? py::object(py::int_(r.sim->stall_cycles)) : none;
  d["clock_hz"] = r.sim ? py::object(py::float_(r.sim->clock_hz)) : none;
  d["utilization"] = r.sim ? py::object(py::float_(r.sim->utilization)) : none;
  d["onchip_read_bytes"] = r.sim ? py::object(py::int_(r.sim->onchip_read_bytes)) : none;
  d["onchip_write_bytes"] = r.sim ? py::object(py::int_(r.sim->onchip_write_bytes)) : none;
  d["dram_read_bytes"] = r.sim ? py::object(py::int_(r.sim->dram_read_bytes)) : none;
  d["dram_write_bytes"] = r.sim ? py::object(py::int_(r.sim->dram_write_bytes)) : none;
  d["energy_joules"] = r.sim ? py::object(py::float_(r.sim->energy_joules)) : none;
  d["passes"] = r.sim ? py::object(py::int_(r.sim->passes)) : none;
  d["wasted_macs"] = r.sim ? py::object(py::int_(r.sim->wasted_macs)) : none;
  d["quant_error"] = r.quant_error ? py::object(py::float_(*r.quant_error)) : none;
  return d;
}

py::list profile_to_list(const Profile& p) {
  py::list out;
  for (const OpRecord& r : p.records()) out.append(record_to_dict(r));
  return out;
}

Tensor DeviceCall::input(const py::array& a, const char* what) {
  Tensor host = borrow_array(a, what);
  if (backend_->device() == Device::host) return host;
  InterruptibleCall nogil;
  return backend_->to_device(host);
}

Tensor DeviceCall::output(py::array& a, const char* what) {
  Tensor host = borrow_array(a, what);
  if (backend_->device() == Device::host) return host;
  InterruptibleCall nogil;
  Tensor device = backend_->to_device(host);  // carries the initial contents (beta ≠ 0)
  outputs_.push_back({host, device});
  return device;
}

void DeviceCall::finish() {
  InterruptibleCall nogil;
  for (Pending& p : outputs_) {
    Tensor back = backend_->to_host(p.device);
    std::memcpy(p.host.raw(), back.raw(), back.size_bytes());
  }
  outputs_.clear();
}

Tensor borrow_optional(const py::object& a, const char* what) {
  if (a.is_none()) return Tensor();
  return borrow_array(a.cast<py::array>(), what);
}

}  // namespace mlcore::python
