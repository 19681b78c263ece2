// The pieces of the mlcore._core module. Each bind_*.cpp file adds one component's functions;
// module.cpp calls them all. A new component adds its bind_ function here and one line there.
#pragma once

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "mlcore/profile.hpp"

namespace mlcore::python {

namespace py = pybind11;

py::list profile_to_list(const Profile& p);

// Runs `body` under a fresh ProfileScope and returns the records it produced (list of dicts).
template <class Body>
py::list profiled(Body&& body) {
  Profile profile;
  {
    ProfileScope scope(profile);
    body();
  }
  return profile_to_list(profile);
}

void bind_core(py::module_& m);
void bind_neighbors(py::module_& m);
void bind_cluster(py::module_& m);
void bind_svm(py::module_& m);
void bind_tree(py::module_& m);
void bind_linear(py::module_& m);
void bind_naive_bayes(py::module_& m);
void bind_decomposition(py::module_& m);
void bind_systolic(py::module_& m);
void bind_distributed(py::module_& m);

}  // namespace mlcore::python
