// Bindings of naive Bayes: GaussianNB, MultinomialNB. Thin: the Python classes in
// mlcore/naive_bayes.py validate parameters and inputs and map class labels to float codes;
// these only convert arrays and options, and release the GIL around the C++ calls.
#include <pybind11/numpy.h>

#include <type_traits>

#include "bindings.hpp"
#include "convert.hpp"
#include "mlcore/algorithms/naive_bayes/naive_bayes.hpp"

namespace mlcore::python {

namespace {

// fit, partial_fit, the four predictions, classes / class_count, and what every estimator binds.
template <class Model, class Class>
void bind_nb_common(Class& c) {
  c.def(
       "fit",
       [](Model& m, const py::object& X, const py::array& y, const py::object& sample_weight) {
         const Tensor ty = borrow_array(y, "y");
         const Tensor tw = borrow_optional(sample_weight, "sample_weight");
         with_input(X, [&](const auto& tx) {
           using Input = std::decay_t<decltype(tx)>;
           if constexpr (std::is_same_v<Input, Tensor> || std::is_same_v<Model, MultinomialNB>) {
             m.fit(tx, ty, tw);
           } else {  // GaussianNB: the Python class refuses sparse X before this
             MLCORE_FAIL(m.name() << ": sparse X is not supported; pass a dense array");
           }
         });
       },
       py::arg("X"), py::arg("y"), py::arg("sample_weight") = py::none())
      .def(
          "partial_fit",
          [](Model& m, const py::object& X, const py::array& y, std::int64_t n_classes,
             const py::object& sample_weight) {
            const Tensor ty = borrow_array(y, "y");
            const Tensor tw = borrow_optional(sample_weight, "sample_weight");
            with_input(X, [&](const auto& tx) {
              using Input = std::decay_t<decltype(tx)>;
              if constexpr (std::is_same_v<Input, Tensor> || std::is_same_v<Model, MultinomialNB>) {
                m.partial_fit(tx, ty, n_classes, tw);
              } else {
                MLCORE_FAIL(m.name() << ": sparse X is not supported; pass a dense array");
              }
            });
          },
          py::arg("X"), py::arg("y"), py::arg("n_classes"), py::arg("sample_weight") = py::none())
      .def("predict",
           [](const Model& m, const py::object& X) {
             return apply_any(X, [&](const auto& t) { return m.predict(t); });
           })
      .def("predict_proba",
           [](const Model& m, const py::object& X) {
             return apply_any(X, [&](const auto& t) { return m.predict_proba(t); });
           })
      .def("predict_log_proba",
           [](const Model& m, const py::object& X) {
             return apply_any(X, [&](const auto& t) { return m.predict_log_proba(t); });
           })
      .def("predict_joint_log_proba",
           [](const Model& m, const py::object& X) {
             return apply_any(X, [&](const auto& t) { return m.predict_joint_log_proba(t); });
           })
      .def_property_readonly("classes", &Model::classes)
      .def_property_readonly("class_count",
                             [](const Model& m) { return tensor_to_array(m.class_count()); })
      .def_property_readonly("n_features_in", &Model::n_features_in);
  bind_estimator<Model>(c);
}

}  // namespace

void bind_naive_bayes(py::module_& m) {
  const GaussianNBOptions gd;
  py::class_<GaussianNB> g(m, "GaussianNB", "Gaussian naive Bayes (use mlcore.GaussianNB)");
  g.def(py::init([](double var_smoothing, const std::vector<double>& priors, BackendPtr backend) {
          GaussianNBOptions o;
          o.var_smoothing = var_smoothing;
          o.priors = priors;
          return GaussianNB(o, std::move(backend));
        }),
        py::arg("var_smoothing") = gd.var_smoothing, py::arg("priors") = gd.priors,
        py::arg("backend"))
      .def_property_readonly("theta",
                             [](const GaussianNB& m) { return tensor_to_array(m.theta()); })
      .def_property_readonly("var", [](const GaussianNB& m) { return tensor_to_array(m.var()); })
      .def_property_readonly("class_prior",
                             [](const GaussianNB& m) { return tensor_to_array(m.class_prior()); })
      .def_property_readonly("epsilon", &GaussianNB::epsilon);
  bind_nb_common<GaussianNB>(g);
  set_defaults<GaussianNBOptions>(g, "var_smoothing", &GaussianNBOptions::var_smoothing);

  const MultinomialNBOptions md;
  py::class_<MultinomialNB> mn(m, "MultinomialNB",
                               "multinomial naive Bayes (use mlcore.MultinomialNB)");
  mn.def(py::init([](double alpha, bool force_alpha, bool fit_prior,
                     const std::vector<double>& class_prior, BackendPtr backend) {
           MultinomialNBOptions o;
           o.alpha = alpha;
           o.force_alpha = force_alpha;
           o.fit_prior = fit_prior;
           o.class_prior = class_prior;
           return MultinomialNB(o, std::move(backend));
         }),
         py::arg("alpha") = md.alpha, py::arg("force_alpha") = md.force_alpha,
         py::arg("fit_prior") = md.fit_prior, py::arg("class_prior") = md.class_prior,
         py::arg("backend"))
      .def_property_readonly(
          "feature_count",
          [](const MultinomialNB& m) { return tensor_to_array(m.feature_count()); })
      .def_property_readonly(
          "feature_log_prob",
          [](const MultinomialNB& m) { return tensor_to_array(m.feature_log_prob()); })
      .def_property_readonly("class_log_prior", [](const MultinomialNB& m) {
        return tensor_to_array(m.class_log_prior());
      });
  bind_nb_common<MultinomialNB>(mn);
  set_defaults<MultinomialNBOptions>(mn, "alpha", &MultinomialNBOptions::alpha, "force_alpha",
                                     &MultinomialNBOptions::force_alpha, "fit_prior",
                                     &MultinomialNBOptions::fit_prior);
}

}  // namespace mlcore::python
