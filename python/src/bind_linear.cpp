// Bindings of the linear models: LinearRegression, Ridge, LogisticRegression. Thin: the Python
// classes in mlcore/linear_model.py validate parameters and inputs and map class labels to float
// codes; these only convert arrays and options, and release the GIL around the C++ calls.
#include <pybind11/numpy.h>

#include "bindings.hpp"
#include "convert.hpp"
#include "mlcore/algorithms/linear/linear_regression.hpp"
#include "mlcore/algorithms/linear/logistic_regression.hpp"

namespace mlcore::python {

namespace {

// The least-squares models share fit / predict / coef / intercept.
template <class Model, class Class>
void bind_least_squares(Class& c) {
  c.def(
       "fit",
       [](Model& m, const py::object& X, const py::array& y, const py::object& sample_weight) {
         const Tensor ty = borrow_array(y, "y");
         const Tensor tw = borrow_optional(sample_weight, "sample_weight");
         with_input(X, [&](const auto& tx) { m.fit(tx, ty, tw); });
       },
       py::arg("X"), py::arg("y"), py::arg("sample_weight") = py::none())
      .def("predict",
           [](const Model& m, const py::object& X) {
             return apply_any(X, [&](const auto& t) { return m.predict(t); });
           })
      .def_property_readonly("coef", [](const Model& m) { return tensor_to_array(m.coef()); })
      .def_property_readonly("intercept",
                             [](const Model& m) { return tensor_to_array(m.intercept()); })
      .def_property_readonly("n_features_in", &Model::n_features_in);
  bind_estimator<Model>(c);
}

}  // namespace

void bind_linear(py::module_& m) {
  const LinearRegressionOptions lrd;
  const RidgeOptions rd;
  const LogisticRegressionOptions gd;
  py::class_<LinearRegression> lr(m, "LinearRegression",
                                  "least squares by the normal equations (use "
                                  "mlcore.LinearRegression)");
  lr.def(py::init([](bool fit_intercept, bool positive, BackendPtr backend) {
           LinearRegressionOptions o;
           o.fit_intercept = fit_intercept;
           o.positive = positive;
           return LinearRegression(o, std::move(backend));
         }),
         py::arg("fit_intercept") = lrd.fit_intercept, py::arg("positive") = lrd.positive,
         py::arg("backend"))
      .def_property_readonly("rank", &LinearRegression::rank)
      .def_property_readonly(
          "singular", [](const LinearRegression& m) { return tensor_to_array(m.singular()); });
  bind_least_squares<LinearRegression>(lr);
  set_defaults<LinearRegressionOptions>(lr, "fit_intercept",
                                        &LinearRegressionOptions::fit_intercept);

  py::class_<Ridge> ridge(m, "Ridge", "L2-penalised least squares (use mlcore.Ridge)");
  ridge
      .def(py::init([](double alpha, bool fit_intercept, const std::string& solver, double tol,
                       const py::object& max_iter, bool positive, BackendPtr backend) {
             RidgeOptions o;
             o.positive = positive;
             o.alpha = alpha;
             o.fit_intercept = fit_intercept;
             o.solver = solver;
             o.tol = tol;
             o.max_iter = from_python<std::int64_t>(max_iter, kSolverDefaultIter);
             return Ridge(o, std::move(backend));
           }),
           py::arg("alpha") = rd.alpha, py::arg("fit_intercept") = rd.fit_intercept,
           py::arg("solver") = rd.solver, py::arg("tol") = rd.tol, py::arg("max_iter") = py::none(),
           py::arg("positive") = rd.positive, py::arg("backend"))
      .def_property_readonly("n_iter", &Ridge::n_iter)
      .def_property_readonly("converged", &Ridge::converged);
  bind_least_squares<Ridge>(ridge);
  set_defaults<RidgeOptions>(ridge, "alpha", &RidgeOptions::alpha, "fit_intercept",
                             &RidgeOptions::fit_intercept, "tol", &RidgeOptions::tol, "max_iter",
                             spelled(&RidgeOptions::max_iter, kSolverDefaultIter));

  py::class_<LogisticRegression> logit(
      m, "LogisticRegression",
      "L2 / L1 / elastic-net logistic regression by L-BFGS or OWL-QN (use "
      "mlcore.LogisticRegression)");
  logit
      .def(py::init([](double C, double tol, int max_iter, bool fit_intercept, bool balanced,
                       const std::map<double, double>& class_weight, double l1_ratio,
                       bool penalize_intercept, double intercept_scaling, BackendPtr backend) {
             LogisticRegressionOptions o;
             o.C = C;
             o.l1_ratio = l1_ratio;
             o.penalize_intercept = penalize_intercept;
             o.intercept_scaling = intercept_scaling;
             o.tol = tol;
             o.max_iter = max_iter;
             o.fit_intercept = fit_intercept;
             o.class_weight_balanced = balanced;
             o.class_weight = class_weight;
             return LogisticRegression(o, std::move(backend));
           }),
           py::arg("C") = gd.C, py::arg("tol") = gd.tol, py::arg("max_iter") = gd.max_iter,
           py::arg("fit_intercept") = gd.fit_intercept,
           py::arg("class_weight_balanced") = gd.class_weight_balanced,
           py::arg("class_weight") = gd.class_weight, py::arg("l1_ratio") = gd.l1_ratio,
           py::arg("penalize_intercept") = gd.penalize_intercept,
           py::arg("intercept_scaling") = gd.intercept_scaling, py::arg("backend"))
      .def(
          "set_start",
          [](LogisticRegression& m, const py::array& coef, const py::array& intercept) {
            m.set_start(borrow_array(coef, "coef"), borrow_array(intercept, "intercept"));
          },
          py::arg("coef"), py::arg("intercept"))
      .def(
          "fit",
          [](LogisticRegression& m, const py::object& X, const py::array& y,
             const py::object& sample_weight) {
            const Tensor ty = borrow_array(y, "y");
            const Tensor tw = borrow_optional(sample_weight, "sample_weight");
            with_input(X, [&](const auto& tx) { m.fit(tx, ty, tw); });
          },
          py::arg("X"), py::arg("y"), py::arg("sample_weight") = py::none())
      .def("decision_function",
           [](const LogisticRegression& m, const py::object& X) {
             return apply_any(X, [&](const auto& t) { return m.decision_function(t); });
           })
      .def("predict_proba",
           [](const LogisticRegression& m, const py::object& X) {
             return apply_any(X, [&](const auto& t) { return m.predict_proba(t); });
           })
      .def("predict_log_proba",
           [](const LogisticRegression& m, const py::object& X) {
             return apply_any(X, [&](const auto& t) { return m.predict_log_proba(t); });
           })
      .def("predict",
           [](const LogisticRegression& m, const py::object& X) {
             return apply_any(X, [&](const auto& t) { return m.predict(t); });
           })
      .def_property_readonly("classes", &LogisticRegression::classes)
      .def_property_readonly("coef",
                             [](const LogisticRegression& m) { return tensor_to_array(m.coef()); })
      .def_property_readonly(
          "intercept", [](const LogisticRegression& m) { return tensor_to_array(m.intercept()); })
      .def_property_readonly("n_features_in", &LogisticRegression::n_features_in)
      .def_property_readonly("n_iter", &LogisticRegression::n_iter)
      .def_property_readonly("converged", &LogisticRegression::converged)
      .def_property_readonly("solver_message", &LogisticRegression::solver_message);
  bind_estimator<LogisticRegression>(logit);
  using G = LogisticRegressionOptions;
  set_defaults<G>(logit, "C", &G::C, "tol", &G::tol, "max_iter", &G::max_iter, "fit_intercept",
                  &G::fit_intercept, "l1_ratio", &G::l1_ratio, "intercept_scaling",
                  &G::intercept_scaling);
}

}  // namespace mlcore::python
