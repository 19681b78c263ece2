// The pieces of the mlcore._core module. Each bind_*.cpp file adds one component's functions;
// module.cpp calls them all. A new component adds its bind_ function here and one line there.
#pragma once

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <sstream>
#include <string>

#include "convert.hpp"
#include "mlcore/interrupt.hpp"
#include "mlcore/profile.hpp"

namespace mlcore {
struct MaxFeatures;
struct MaxSamples;
}  // namespace mlcore

namespace mlcore::python {

namespace py = pybind11;

py::list profile_to_list(const Profile& p);

// Replaces py::gil_scoped_release around every call into the library: releases the GIL and lets
// Ctrl-C (Jupyter's "interrupt kernel") stop the call. Python's own SIGINT handler only sets a
// flag; PyErr_CheckSignals runs it and raises KeyboardInterrupt, and only on the main thread
// with the GIL. So the library's check_interrupt() polls here (at most every 50 ms, on the
// calling thread): take the GIL, PyErr_CheckSignals(), and on an exception leave it set and ask
// the call to stop. The library then throws mlcore::Interrupted from its next boundary, every
// thread of the call stops, and module.cpp's translator lets the pending KeyboardInterrupt
// through. Declare it where gil_scoped_release stood: `InterruptibleCall nogil;`.
class InterruptibleCall {
 public:
  InterruptibleCall() = default;

 private:
  static bool poll(void*) {
    py::gil_scoped_acquire gil;
    return PyErr_CheckSignals() != 0;
  }
  InterruptScope scope_{&InterruptibleCall::poll, nullptr};  // constructed first, ended last
  py::gil_scoped_release release_;
};

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

// Runs `f(X as a tensor)` → Tensor with the GIL released (and Ctrl-C honoured) and returns a
// numpy copy of the result: the body of every predict / transform binding.
template <class F>
py::array apply(const py::array& X, F&& f, const char* what = "X") {
  const Tensor tx = borrow_array(X, what);
  Tensor out;
  {
    InterruptibleCall nogil;
    out = f(tx);
  }
  return tensor_to_array(out);
}

// X of a fit or predict binding: a numpy array or an mlcore._core.Csr. `f` is called with a
// Tensor or a CsrMatrix (a generic lambda), with the GIL released.
template <class F>
auto with_input(const py::object& X, F&& f, const char* what = "X") {
  if (py::isinstance<PyCsr>(X)) {
    const CsrMatrix m = X.cast<const PyCsr&>().m;
    InterruptibleCall nogil;
    return f(m);
  }
  const Tensor t = borrow_array(X.cast<py::array>(), what);
  InterruptibleCall nogil;
  return f(t);
}

// apply() for an X that may be sparse: a numpy copy of f(X).
template <class F>
py::array apply_any(const py::object& X, F&& f, const char* what = "X") {
  const Tensor out = with_input(X, std::forward<F>(f), what);
  return tensor_to_array(out);
}

// What every estimator class binds alike (estimator.hpp's Estimator): fitted, profile(),
// set_backend, the fitted arrays, and the model's bytes (save_bytes / load_bytes, the format of
// serialize.hpp, used by pickling).
template <class Model, class Class>
void bind_estimator(Class& c) {
  c.def_property_readonly("fitted", &Model::fitted)
      .def("profile", [](const Model& m) { return profile_to_list(m.profile()); })
      .def("set_backend", &Model::set_backend)
      .def("set_fitted_array", &set_fitted_array<Model>)
      .def("fitted_array_names", &Model::fitted_array_names)
      .def("save_bytes",
           [](const Model& m) {
             std::ostringstream s;
             m.save(s);
             return py::bytes(s.str());
           })
      .def_static("load_bytes", [](const py::bytes& b, BackendPtr backend) {
        std::istringstream s(static_cast<std::string>(b));
        return Model::load(s, std::move(backend));
      });
}

// The defaults of an options struct, as `_core.<Name>.defaults` (a dict): the one place a
// default is written is the C++ struct; the Python estimators' signatures read this dict.
// Arguments: pairs of a parameter's Python name and the struct member that holds it,
//   set_defaults<KMeansOptions>(cls, "n_clusters", &KMeansOptions::n_clusters, ...).
// A member that holds a sentinel (say -1 for "no limit") is listed through `spelled` with the
// word Python uses for that sentinel (None, "auto"): the dict then shows the Python word, and
// `from_python` turns the word back into the same sentinel.
template <class Options, class T>
struct Spelled {
  T Options::* field;
  T sentinel;
  const char* word;  // nullptr: Python's None
};
template <class Options, class T>
Spelled<Options, T> spelled(T Options::* field, T sentinel, const char* word = nullptr) {
  return {field, sentinel, word};
}

inline py::object python_word(const char* word) {
  return word == nullptr ? py::object(py::none()) : py::object(py::str(word));
}

// A spelled option's C++ value: the sentinel for its Python word, the number itself otherwise.
template <class T>
T from_python(const py::object& o, T sentinel, const char* word = nullptr) {
  if (o.equal(python_word(word))) return sentinel;
  return o.cast<T>();
}

// A member of a type with its own Python form is converted by an overload of to_python
// declared here and defined beside that type's binding.
template <class T>
py::object to_python(const T& value) {
  return py::cast(value);
}
py::object to_python(const MaxFeatures& m);          // bind_tree.cpp
MaxFeatures max_features_from(const py::object& o);  // bind_tree.cpp
py::object to_python(const MaxSamples& m);           // bind_tree.cpp
MaxSamples max_samples_from(const py::object& o);    // bind_tree.cpp

template <class Options>
void add_defaults(py::dict&, const Options&) {}
template <class Options, class T, class... Rest>
void add_defaults(py::dict& d, const Options& o, const char* name, T Options::* field,
                  Rest... rest) {
  d[name] = to_python(o.*field);
  add_defaults(d, o, rest...);
}
template <class Options, class T, class... Rest>
void add_defaults(py::dict& d, const Options& o, const char* name, Spelled<Options, T> field,
                  Rest... rest) {
  const T value = o.*(field.field);
  d[name] = value == field.sentinel ? python_word(field.word) : py::cast(value);
  add_defaults(d, o, rest...);
}
template <class Options, class Class, class... Fields>
void set_defaults(Class& c, Fields... fields) {
  py::dict d;
  add_defaults(d, Options{}, fields...);
  c.attr("defaults") = d;
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
