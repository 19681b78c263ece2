// mlcore._core: the private extension module under the pure-Python package `mlcore`.
// It stays thin (STYLE.md 14): array conversion, GIL release and exception translation. The
// user-facing API, its validation messages and docstrings live in python/mlcore/.
#include <pybind11/pybind11.h>

#include "bindings.hpp"
#include "mlcore/error.hpp"
#include "mlcore/interrupt.hpp"
#include "mlcore/parallel.hpp"

PYBIND11_MODULE(_core, m) {
  m.doc() = "mlcore's C++ core (private: use the mlcore package)";

  // mlcore::Error is a caller's mistake -> ValueError; DeviceError is the hardware -> RuntimeError;
  // InternalError (a broken MLCORE_ASSERT, a bug in mlcore) -> RuntimeError.
  pybind11::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const mlcore::Error& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const mlcore::DeviceError& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    } catch (const mlcore::InternalError& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    } catch (const mlcore::Interrupted&) {
      // InterruptibleCall's poll left the signal handler's exception (KeyboardInterrupt) set.
      if (!PyErr_Occurred()) PyErr_SetNone(PyExc_KeyboardInterrupt);
    }
  });

  m.def("num_threads", &mlcore::num_threads,
        "Threads a call uses when its backend was not given a count.");
  m.def("set_num_threads", &mlcore::set_num_threads, pybind11::arg("n"),
        "Sets that default (0: back to MLCORE_NUM_THREADS / OMP_NUM_THREADS / the CPUs).");

  mlcore::python::bind_core(m);
  mlcore::python::bind_neighbors(m);
  mlcore::python::bind_cluster(m);
  mlcore::python::bind_svm(m);
  mlcore::python::bind_tree(m);
  mlcore::python::bind_linear(m);
  mlcore::python::bind_naive_bayes(m);
  mlcore::python::bind_decomposition(m);
  mlcore::python::bind_systolic(m);
  mlcore::python::bind_distributed(m);
}
