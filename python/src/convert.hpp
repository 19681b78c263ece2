// Conversions between numpy arrays and mlcore tensors, and between profiles and Python lists.
// Shared by every bind_*.cpp file. The Python layer (python/mlcore/) has already validated and
// converted user input, so these functions only borrow memory and check what they rely on.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

#include "mlcore/backend.hpp"
#include "mlcore/profile.hpp"
#include "mlcore/sparse.hpp"
#include "mlcore/tensor.hpp"

namespace mlcore::python {

namespace py = pybind11;

// A host tensor borrowing a numpy array's memory, no copy. The array must be 2-D (or 1-D: a
// column vector) and C-contiguous, of dtype float32, int8 or int32; anything else raises
// mlcore::Error (ValueError). The array must outlive the tensor (true for one call).
Tensor borrow_array(const py::array& a, const char* what);
// The same for an optional argument: None gives an empty tensor, which the C++ side reads as
// "absent" (sample_weight, init centres).
Tensor borrow_optional(const py::object& a, const char* what);

// mlcore._core.Csr: a CsrMatrix over numpy arrays it keeps alive (borrowed, no copy). The Python
// layer (mlcore/_sparse.py) makes them from a scipy.sparse matrix: indptr int64, indices int32
// or int64, data float32, C-contiguous; the constructor checks the structure (check_csr).
struct PyCsr {
  CsrMatrix m;
  py::tuple keep;  // (indptr, indices, data): the arrays m borrows
};
PyCsr make_py_csr(std::int64_t rows, std::int64_t cols, const py::array& indptr,
                  const py::array& indices, const py::array& data);

// Estimator::set_fitted_array with a numpy array (converted to f32, C order; 2-D, the array's
// shape). Bound on every model as set_fitted_array(name, values), beside fitted_array_names().
template <class Model>
void set_fitted_array(Model& m, const std::string& name,
                      const py::array_t<float, py::array::c_style | py::array::forcecast>& a) {
  m.set_fitted_array(name, borrow_array(a, name.c_str()));
}

// The flat index of the first NaN or ±infinity in a C-contiguous float32 array, or -1. The check
// every estimator makes on its input, so it must cost little beside the work it guards: a bit
// test the compiler vectorises (exponent bits all ones), several times faster than numpy's
// isfinite(x).all(), which first writes a bool array as large as x.
std::int64_t first_non_finite(const py::array_t<float, py::array::c_style>& a);

// A new numpy array of the given shape and dtype (uninitialised).
py::array new_array(std::int64_t rows, std::int64_t cols, DType dtype);

// A numpy array holding a copy of a host tensor.
py::array tensor_to_array(const Tensor& t);

// One record as a flat dict (simulator counters as keys; None when absent).
py::dict record_to_dict(const OpRecord& r);
py::list profile_to_list(const Profile& p);

// Runs a primitive call on `b` with numpy inputs and outputs, moving them to the backend's device
// and back when it has its own memory (CUDA). Usage:
//   DeviceCall call(b);
//   Tensor A = call.input(a, "a");           // on the device
//   Tensor C = call.output(out_array, "out");  // on the device; copied back into out_array
//   { py::gil_scoped_release nogil; b->gemm(..., A, ..., C); }
//   call.finish();                            // copies outputs back to their numpy arrays
class DeviceCall {
 public:
  explicit DeviceCall(BackendPtr b) : backend_(std::move(b)) {}
  Tensor input(const py::array& a, const char* what);
  Tensor output(py::array& a, const char* what);
  void finish();

 private:
  struct Pending {
    Tensor host;
    Tensor device;
  };
  BackendPtr backend_;
  std::vector<Pending> outputs_;
};

}  // namespace mlcore::python
