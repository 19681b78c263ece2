// Bindings of the neighbours estimators: KNeighborsClassifier, KNeighborsRegressor. Thin: the
// Python classes in mlcore/neighbors.py validate parameters and inputs and map class labels to
// float codes; these only convert arrays and options, and release the GIL around the C++ calls.
#include <pybind11/numpy.h>

#include "bindings.hpp"
#include "convert.hpp"
#include "mlcore/algorithms/neighbors/knn.hpp"

namespace mlcore::python {

namespace {

KNeighborsOptions knn_options(std::int64_t n_neighbors, const std::string& weights, double p,
                              std::int64_t batch_size) {
  KNeighborsOptions o;
  o.n_neighbors = n_neighbors;
  o.weights = weights;
  o.p = p;
  o.batch_size = batch_size;
  return o;
}

// What both estimators bind alike: fit, predict, kneighbors, attributes, and what every
// estimator binds.
template <class Model, class Class>
void bind_knn_common(Class& c) {
  const KNeighborsOptions d;
  c.def(py::init([](std::int64_t n_neighbors, const std::string& weights, double p,
                    std::int64_t batch_size, BackendPtr backend) {
          return Model(knn_options(n_neighbors, weights, p, batch_size), std::move(backend));
        }),
        py::arg("n_neighbors") = d.n_neighbors, py::arg("weights") = d.weights, py::arg("p") = d.p,
        py::arg("batch_size") = d.batch_size, py::arg("backend"))
      .def("fit",
           [](Model& m, const py::array& X, const py::array& y) {
             const Tensor tx = borrow_array(X, "X"), ty = borrow_array(y, "y");
             InterruptibleCall nogil;
             m.fit(tx, ty);
           })
      .def("predict",
           [](const Model& m, const py::array& X) {
             return apply(X, [&](const Tensor& t) { return m.predict(t); });
           })
      .def(
          "kneighbors",
          [](const Model& m, const py::array& X, std::int64_t n_neighbors) {
            const Tensor tx = borrow_array(X, "X");
            Neighbors nb;
            {
              InterruptibleCall nogil;
              nb = m.kneighbors(tx, n_neighbors);
            }
            return py::make_tuple(tensor_to_array(nb.distances), tensor_to_array(nb.indices));
          },
          py::arg("X"), py::arg("n_neighbors") = 0)
      .def_property_readonly("fit_X", [](const Model& m) { return tensor_to_array(m.fit_X()); })
      .def_property_readonly("n_samples_fit", &Model::n_samples_fit)
      .def_property_readonly("n_features_in", &Model::n_features_in);
  bind_estimator<Model>(c);
  set_defaults<KNeighborsOptions>(c, "n_neighbors", &KNeighborsOptions::n_neighbors, "weights",
                                  &KNeighborsOptions::weights, "p", &KNeighborsOptions::p);
}

}  // namespace

void bind_neighbors(py::module_& m) {
  py::class_<KNeighborsClassifier> clf(
      m, "KNeighborsClassifier", "k-nearest-neighbours vote (use mlcore.KNeighborsClassifier)");
  bind_knn_common<KNeighborsClassifier>(clf);
  clf.def("predict_proba",
          [](const KNeighborsClassifier& m, const py::array& X) {
            return apply(X, [&](const Tensor& t) { return m.predict_proba(t); });
          })
      .def_property_readonly("classes", &KNeighborsClassifier::classes);

  py::class_<KNeighborsRegressor> reg(m, "KNeighborsRegressor",
                                      "k-nearest-neighbours mean (use mlcore.KNeighborsRegressor)");
  bind_knn_common<KNeighborsRegressor>(reg);
  reg.def_property_readonly("n_outputs", &KNeighborsRegressor::n_outputs);
}

}  // namespace mlcore::python
