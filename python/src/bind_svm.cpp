// Bindings of the support vector machines: LinearSVC and SVC. Thin: the Python classes in
// mlcore/svm.py validate parameters and inputs, resolve class_weight and map class labels to
// float codes; these only convert arrays and options, and release the GIL around the C++ calls.
#include <pybind11/numpy.h>

#include <sstream>

#include "bindings.hpp"
#include "convert.hpp"
#include "mlcore/algorithms/svm/svm.hpp"

namespace mlcore::python {

namespace {

Tensor optional_array(const py::object& o, const char* what) {
  if (o.is_none()) return Tensor();
  return borrow_array(o.cast<py::array>(), what);
}

// fit(X, y, sample_weight=None), decision_function, predict, profile, save/load, set_backend.
template <class Model, class Class>
void bind_svm_common(Class& c) {
  c.def(
       "fit",
       [](Model& m, const py::array& X, const py::array& y, const py::object& sample_weight) {
         const Tensor tx = borrow_array(X, "X"), ty = borrow_array(y, "y");
         const Tensor tw = optional_array(sample_weight, "sample_weight");
         InterruptibleCall nogil;
         m.fit(tx, ty, tw);
       },
       py::arg("X"), py::arg("y"), py::arg("sample_weight") = py::none())
      .def("decision_function",
           [](const Model& m, const py::array& X) {
             const Tensor tx = borrow_array(X, "X");
             Tensor out;
             {
               InterruptibleCall nogil;
               out = m.decision_function(tx);
             }
             return tensor_to_array(out);
           })
      .def("predict",
           [](const Model& m, const py::array& X) {
             const Tensor tx = borrow_array(X, "X");
             Tensor out;
             {
               InterruptibleCall nogil;
               out = m.predict(tx);
             }
             return tensor_to_array(out);
           })
      .def_property_readonly("classes", &Model::classes)
      .def_property_readonly("intercept",
                             [](const Model& m) { return tensor_to_array(m.intercept()); })
      .def_property_readonly("n_features_in", &Model::n_features_in)
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

}  // namespace

void bind_svm(py::module_& m) {
  py::class_<LinearSVC> lin(m, "LinearSVC",
                            "linear SVM, dual coordinate descent (use mlcore.LinearSVC)");
  lin.def(py::init([](const std::string& loss, const std::string& solver, double C, double tol,
                      std::int64_t max_iter, bool fit_intercept, double intercept_scaling,
                      bool shrinking, std::vector<double> class_weight, std::uint64_t random_state,
                      BackendPtr backend) {
            LinearSVCOptions o;
            o.loss = loss;
            o.solver = solver;
            o.C = C;
            o.tol = tol;
            o.max_iter = max_iter;
            o.fit_intercept = fit_intercept;
            o.intercept_scaling = intercept_scaling;
            o.shrinking = shrinking;
            o.class_weight = std::move(class_weight);
            o.random_state = random_state;
            return LinearSVC(o, std::move(backend));
          }),
          py::arg("loss") = "squared_hinge", py::arg("solver") = "auto", py::arg("C") = 1.0,
          py::arg("tol") = 1e-4, py::arg("max_iter") = 1000, py::arg("fit_intercept") = true,
          py::arg("intercept_scaling") = 1.0, py::arg("shrinking") = true,
          py::arg("class_weight") = std::vector<double>{}, py::arg("random_state") = 0,
          py::arg("backend"));
  bind_svm_common<LinearSVC>(lin);
  lin.def_property_readonly("coef", [](const LinearSVC& m) { return tensor_to_array(m.coef()); })
      .def_property_readonly("n_iter", &LinearSVC::n_iter);

  py::class_<SVC> svc(m, "SVC", "kernel SVM, SMO solver (use mlcore.SVC)");
  svc.def(py::init([](double C, const std::string& kernel, std::int64_t degree,
                      const std::string& gamma, double gamma_value, double coef0, bool shrinking,
                      double tol, double cache_size, std::vector<double> class_weight,
                      std::int64_t max_iter, const std::string& decision_function_shape,
                      bool break_ties, BackendPtr backend) {
            SVCOptions o;
            o.C = C;
            o.kernel = kernel;
            o.degree = degree;
            o.gamma = gamma;
            o.gamma_value = gamma_value;
            o.coef0 = coef0;
            o.shrinking = shrinking;
            o.tol = tol;
            o.cache_size = cache_size;
            o.class_weight = std::move(class_weight);
            o.max_iter = max_iter;
            o.decision_function_shape = decision_function_shape;
            o.break_ties = break_ties;
            return SVC(o, std::move(backend));
          }),
          py::arg("C") = 1.0, py::arg("kernel") = "rbf", py::arg("degree") = 3,
          py::arg("gamma") = "scale", py::arg("gamma_value") = 0.0, py::arg("coef0") = 0.0,
          py::arg("shrinking") = true, py::arg("tol") = 1e-3, py::arg("cache_size") = 200.0,
          py::arg("class_weight") = std::vector<double>{}, py::arg("max_iter") = -1,
          py::arg("decision_function_shape") = "ovr", py::arg("break_ties") = false,
          py::arg("backend"));
  bind_svm_common<SVC>(svc);
  svc.def_property_readonly("support", [](const SVC& m) { return tensor_to_array(m.support()); })
      .def_property_readonly("support_vectors",
                             [](const SVC& m) { return tensor_to_array(m.support_vectors()); })
      .def_property_readonly("n_support", &SVC::n_support)
      .def_property_readonly("dual_coef",
                             [](const SVC& m) { return tensor_to_array(m.dual_coef()); })
      .def_property_readonly("n_iter", &SVC::n_iter)
      .def_property_readonly("gamma", &SVC::gamma)
      .def_property_readonly("converged", &SVC::converged);
}

}  // namespace mlcore::python
