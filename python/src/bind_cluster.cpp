// Bindings of the clustering estimators: KMeans. Thin: the Python class in mlcore/cluster.py
// validates parameters and inputs (and resolves random_state and callable inits); this only
// converts arrays and options, and releases the GIL around the C++ calls.
#include <pybind11/numpy.h>

#include "bindings.hpp"
#include "convert.hpp"
#include "mlcore/algorithms/cluster/kmeans.hpp"

namespace mlcore::python {

void bind_cluster(py::module_& m) {
  const KMeansOptions d;
  py::class_<KMeans> c(m, "KMeans", "k-means clustering (use mlcore.KMeans)");
  c.def(py::init([](std::int64_t n_clusters, const std::string& init,
                    const py::object& init_centers, const py::object& n_init, std::int64_t max_iter,
                    double tol, std::uint64_t random_state, bool verbose, BackendPtr backend) {
          KMeansOptions o;
          o.n_clusters = n_clusters;
          o.init = init;
          o.init_centers = borrow_optional(init_centers, "init");  // cloned by KMeans
          o.n_init = from_python(n_init, kAutoRuns, "auto");
          o.max_iter = max_iter;
          o.tol = tol;
          o.random_state = random_state;
          o.verbose = verbose;
          return KMeans(o, std::move(backend));
        }),
        py::arg("n_clusters") = d.n_clusters, py::arg("init") = d.init,
        py::arg("init_centers") = py::none(), py::arg("n_init") = d.n_init,
        py::arg("max_iter") = d.max_iter, py::arg("tol") = d.tol,
        py::arg("random_state") = d.random_state, py::arg("verbose") = d.verbose,
        py::arg("backend"))
      .def(
          "fit",
          [](KMeans& m, const py::object& X, const py::object& sample_weight) {
            const Tensor tw = borrow_optional(sample_weight, "sample_weight");
            with_input(X, [&](const auto& tx) { m.fit(tx, tw); });
          },
          py::arg("X"), py::arg("sample_weight") = py::none())
      .def("predict",
           [](const KMeans& m, const py::object& X) {
             return apply_any(X, [&](const auto& t) { return m.predict(t); });
           })
      .def("transform",
           [](const KMeans& m, const py::object& X) {
             return apply_any(X, [&](const auto& t) { return m.transform(t); });
           })
      .def(
          "score",
          [](const KMeans& m, const py::object& X, const py::object& sample_weight) {
            const Tensor tw = borrow_optional(sample_weight, "sample_weight");
            return with_input(X, [&](const auto& tx) { return m.score(tx, tw); });
          },
          py::arg("X"), py::arg("sample_weight") = py::none())
      .def_property_readonly("cluster_centers",
                             [](const KMeans& m) { return tensor_to_array(m.cluster_centers()); })
      .def_property_readonly("labels", [](const KMeans& m) { return tensor_to_array(m.labels()); })
      .def_property_readonly("inertia", &KMeans::inertia)
      .def_property_readonly("n_iter", &KMeans::n_iter)
      .def_property_readonly("fit_log", &KMeans::fit_log)
      .def_property_readonly("n_features_in", &KMeans::n_features_in);
  bind_estimator<KMeans>(c);
  set_defaults<KMeansOptions>(c, "n_clusters", &KMeansOptions::n_clusters, "init",
                              &KMeansOptions::init, "n_init",
                              spelled(&KMeansOptions::n_init, kAutoRuns, "auto"), "max_iter",
                              &KMeansOptions::max_iter, "tol", &KMeansOptions::tol);
  // The runs a fit makes for Python's init (a name, or "array") and n_init (an int or "auto").
  c.def_static(
      "runs",
      [](const std::string& init, const py::object& n_init) {
        KMeansOptions o;
        o.init = init;
        o.n_init = from_python(n_init, kAutoRuns, "auto");
        return o.runs();
      },
      py::arg("init"), py::arg("n_init"));
}

}  // namespace mlcore::python
