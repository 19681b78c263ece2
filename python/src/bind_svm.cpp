// Bindings of the support vector machines: LinearSVC and SVC. Thin: the Python classes in
// mlcore/svm.py validate parameters and inputs, resolve class_weight and map class labels to
// float codes; these only convert arrays and options, and release the GIL around the C++ calls.
#include <pybind11/numpy.h>

#include "bindings.hpp"
#include "convert.hpp"
#include "mlcore/algorithms/svm/svm.hpp"

namespace mlcore::python {

namespace {

// fit(X, y, sample_weight=None), decision_function, predict, and what every estimator binds.
template <class Model, class Class>
void bind_svm_common(Class& c) {
  c.def(
       "fit",
       [](Model& m, const py::array& X, const py::array& y, const py::object& sample_weight) {
         const Tensor tx = borrow_array(X, "X"), ty = borrow_array(y, "y");
         const Tensor tw = borrow_optional(sample_weight, "sample_weight");
         InterruptibleCall nogil;
         m.fit(tx, ty, tw);
       },
       py::arg("X"), py::arg("y"), py::arg("sample_weight") = py::none())
      .def("decision_function",
           [](const Model& m, const py::array& X) {
             return apply(X, [&](const Tensor& t) { return m.decision_function(t); });
           })
      .def("predict",
           [](const Model& m, const py::array& X) {
             return apply(X, [&](const Tensor& t) { return m.predict(t); });
           })
      .def_property_readonly("classes", &Model::classes)
      .def_property_readonly("intercept",
                             [](const Model& m) { return tensor_to_array(m.intercept()); })
      .def_property_readonly("n_features_in", &Model::n_features_in);
  bind_estimator<Model>(c);
}

}  // namespace

void bind_svm(py::module_& m) {
  const LinearSVCOptions ld;
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
          py::arg("loss") = ld.loss, py::arg("solver") = ld.solver, py::arg("C") = ld.C,
          py::arg("tol") = ld.tol, py::arg("max_iter") = ld.max_iter,
          py::arg("fit_intercept") = ld.fit_intercept,
          py::arg("intercept_scaling") = ld.intercept_scaling, py::arg("shrinking") = ld.shrinking,
          py::arg("class_weight") = ld.class_weight, py::arg("random_state") = ld.random_state,
          py::arg("backend"));
  bind_svm_common<LinearSVC>(lin);
  using L = LinearSVCOptions;
  set_defaults<L>(lin, "loss", &L::loss, "C", &L::C, "tol", &L::tol, "max_iter", &L::max_iter,
                  "fit_intercept", &L::fit_intercept, "intercept_scaling", &L::intercept_scaling,
                  "shrinking", &L::shrinking);
  lin.def_property_readonly("coef", [](const LinearSVC& m) { return tensor_to_array(m.coef()); })
      .def_property_readonly("n_iter", &LinearSVC::n_iter);

  const SVCOptions sd;
  py::class_<SVC> svc(m, "SVC", "kernel SVM, SMO solver (use mlcore.SVC)");
  svc.def(py::init([](double C, const std::string& kernel, std::int64_t degree,
                      const std::string& gamma, double gamma_value, double coef0, bool shrinking,
                      double tol, double cache_size, std::vector<double> class_weight,
                      std::int64_t max_iter, const std::string& decision_function_shape,
                      bool break_ties, bool probability, std::uint64_t random_state,
                      BackendPtr backend) {
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
            o.probability = probability;
            o.random_state = random_state;
            return SVC(o, std::move(backend));
          }),
          py::arg("C") = sd.C, py::arg("kernel") = sd.kernel, py::arg("degree") = sd.degree,
          py::arg("gamma") = sd.gamma, py::arg("gamma_value") = sd.gamma_value,
          py::arg("coef0") = sd.coef0, py::arg("shrinking") = sd.shrinking, py::arg("tol") = sd.tol,
          py::arg("cache_size") = sd.cache_size, py::arg("class_weight") = sd.class_weight,
          py::arg("max_iter") = sd.max_iter,
          py::arg("decision_function_shape") = sd.decision_function_shape,
          py::arg("break_ties") = sd.break_ties, py::arg("probability") = sd.probability,
          py::arg("random_state") = sd.random_state, py::arg("backend"));
  bind_svm_common<SVC>(svc);
  using S = SVCOptions;
  set_defaults<S>(svc, "C", &S::C, "kernel", &S::kernel, "degree", &S::degree, "gamma", &S::gamma,
                  "coef0", &S::coef0, "shrinking", &S::shrinking, "tol", &S::tol, "cache_size",
                  &S::cache_size, "max_iter", &S::max_iter, "decision_function_shape",
                  &S::decision_function_shape, "break_ties", &S::break_ties);
  svc.def_property_readonly("support", [](const SVC& m) { return tensor_to_array(m.support()); })
      .def_property_readonly("support_vectors",
                             [](const SVC& m) { return tensor_to_array(m.support_vectors()); })
      .def_property_readonly("n_support", &SVC::n_support)
      .def_property_readonly("dual_coef",
                             [](const SVC& m) { return tensor_to_array(m.dual_coef()); })
      .def_property_readonly("n_iter", &SVC::n_iter)
      .def_property_readonly("gamma", &SVC::gamma)
      .def_property_readonly("converged", &SVC::converged)
      .def("predict_proba",
           [](const SVC& m, const py::array& X) {
             return apply(X, [&](const Tensor& t) { return m.predict_proba(t); });
           })
      .def_property_readonly("options_probability",
                             [](const SVC& m) { return m.options().probability; })
      .def_property_readonly("prob_a", [](const SVC& m) { return tensor_to_array(m.prob_a()); })
      .def_property_readonly("prob_b", [](const SVC& m) { return tensor_to_array(m.prob_b()); });
}

}  // namespace mlcore::python
