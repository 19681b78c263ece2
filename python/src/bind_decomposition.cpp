// Bindings of PCA. Thin: the Python class in mlcore/decomposition.py validates parameters and
// inputs; this only converts arrays and options, and releases the GIL around the C++ calls.
#include <pybind11/numpy.h>

#include "bindings.hpp"
#include "convert.hpp"
#include "mlcore/algorithms/decomposition/pca.hpp"

namespace mlcore::python {

namespace {

py::array row(const Tensor& t) { return tensor_to_array(t); }

}  // namespace

void bind_decomposition(py::module_& m) {
  const PCAOptions d;
  py::class_<PCA> pca(m, "PCA", "principal component analysis (use mlcore.PCA)");
  pca.def(py::init([](const py::object& n_components, double variance_fraction, bool whiten,
                      BackendPtr backend) {
            PCAOptions o;
            o.n_components = from_python(n_components, kAllComponents);
            o.variance_fraction = variance_fraction;
            o.whiten = whiten;
            return PCA(o, std::move(backend));
          }),
          py::arg("n_components") = d.n_components,
          py::arg("variance_fraction") = d.variance_fraction, py::arg("whiten") = d.whiten,
          py::arg("backend"))
      .def("fit",
           [](PCA& p, const py::object& X) { with_input(X, [&](const auto& t) { p.fit(t); }); })
      .def("transform",
           [](const PCA& p, const py::object& X) {
             return apply_any(X, [&](const auto& t) { return p.transform(t); });
           })
      .def("fit_transform",
           [](PCA& p, const py::object& X) {
             return apply_any(X, [&](const auto& t) { return p.fit_transform(t); });
           })
      .def("inverse_transform",
           [](const PCA& p, const py::array& Z) {
             return apply(Z, [&](const Tensor& t) { return p.inverse_transform(t); }, "Z");
           })
      .def_property_readonly("components", [](const PCA& p) { return row(p.components()); })
      .def_property_readonly("explained_variance",
                             [](const PCA& p) { return row(p.explained_variance()); })
      .def_property_readonly("explained_variance_ratio",
                             [](const PCA& p) { return row(p.explained_variance_ratio()); })
      .def_property_readonly("singular_values",
                             [](const PCA& p) { return row(p.singular_values()); })
      .def_property_readonly("mean", [](const PCA& p) { return row(p.mean()); })
      .def_property_readonly("n_components", &PCA::n_components)
      .def_property_readonly("n_features_in", &PCA::n_features_in)
      .def_property_readonly("n_samples", &PCA::n_samples)
      .def_property_readonly("noise_variance", &PCA::noise_variance);
  bind_estimator<PCA>(pca);
  set_defaults<PCAOptions>(pca, "n_components", spelled(&PCAOptions::n_components, kAllComponents),
                           "whiten", &PCAOptions::whiten);
  // Python spells "all components" None; the serialized model (written by mlcore.dask's PCA
  // too) stores the C++ sentinel, which is published here rather than retyped there.
  pca.attr("all_components") = kAllComponents;
  pca.attr("mle_components") = kMleComponents;
}

}  // namespace mlcore::python
