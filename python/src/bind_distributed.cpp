// Bindings for mlcore.dask: the pieces of the single-machine fits that a distributed fit reuses,
// so that it computes the same model rather than a look-alike:
//   * ModelWriter (include/mlcore/serialize.hpp): a distributed fit reduces statistics across
//     workers and writes the fitted parameters in the model's own layout; the model's
//     load_bytes then checks every field (versions, shapes, checksum) as for a saved file.
//   * choose_input_transform (src/algorithms/common/columns.hpp): whether the linear models feed X as
//     it is or shifted and scaled per column, from column statistics reduced across workers.
//   * minimize_lbfgs (src/algorithms/common/lbfgs.hpp): the L-BFGS of LogisticRegression, driven by a
//     Python objective whose loss and gradient are summed over the workers' partitions.
//   * solve_normal_equations, singular_values_from_gram, symmetric_eigen_descending
//     (src/algorithms/common/host_math.hpp): the host-side d × d algebra of least squares and PCA,
//     applied to the Gram / covariance matrix reduced across workers.
// The last three are private headers of the algorithms (the one place the bindings reach past the
// public API): exposing them publicly would make two internal helpers part of the C++ API only
// for this use.
#include <pybind11/eigen.h>
#include <pybind11/numpy.h>

#include <cstring>

#include "bindings.hpp"
#include "algorithms/common/columns.hpp"
#include "convert.hpp"
#include "algorithms/common/host_math.hpp"
#include "algorithms/common/lbfgs.hpp"
#include "mlcore/serialize.hpp"

namespace mlcore::python {

void bind_distributed(py::module_& m) {
  py::class_<ModelWriter>(m, "ModelWriter",
                          "writes a fitted model in mlcore's binary format (private)")
      .def(py::init<std::string, std::uint32_t>(), py::arg("model_type"), py::arg("model_version"))
      .def("write_u8", &ModelWriter::write_u8)
      .def("write_i64", &ModelWriter::write_i64)
      .def("write_f64", &ModelWriter::write_f64)
      .def("write_string", &ModelWriter::write_string)
      .def("write_tensor",
           [](ModelWriter& w, const py::array& a) { w.write_tensor(borrow_array(a, "tensor")); })
      .def("write_f64s", &ModelWriter::write_f64s)
      .def("write_i64s", &ModelWriter::write_i64s)
      .def("finish", [](const ModelWriter& w) { return py::bytes(w.finish()); });

  // mean, var: float32 (1, d) column means and population variances. Returns (raw, shift,
  // scale) with shift / scale float32 (1, d) arrays, or None when raw.
  m.def(
      "choose_input_transform",
      [](const py::array& mean, const py::array& var, bool centred) {
        detail::ColumnStats s{borrow_array(mean, "mean").clone(), borrow_array(var, "var").clone()};
        MLCORE_CHECK(s.mean.rows() == 1 && s.var.rows() == 1 && s.mean.cols() == s.var.cols(),
                     "choose_input_transform: mean and var must both be 1 × d, got "
                         << s.mean.describe() << " and " << s.var.describe());
        const detail::InputTransform t = detail::choose_input_transform(s, centred);
        py::tuple out(3);
        out[0] = t.raw;
        out[1] = t.raw ? py::object(py::none()) : tensor_to_array(t.shift);
        out[2] = t.raw ? py::object(py::none()) : tensor_to_array(t.scale);
        return out;
      },
      py::arg("mean"), py::arg("var"), py::arg("centred"));

  // fun(x) -> (f, grad): x and grad float64 vectors of x0's length. Runs with the GIL held (the
  // objective is Python). Returns (x, dict of n_iter, n_eval, converged, noise_floor, f,
  // grad_max, message).
  m.def(
      "minimize_lbfgs",
      [](const py::function& fun, const py::array_t<double, py::array::c_style>& x0, int max_iter,
         double gtol, int memory, const py::object& gtol_scale) {
        const py::ssize_t n = x0.size();
        Eigen::VectorXd x(n);
        std::memcpy(x.data(), x0.data(), n * sizeof(double));
        detail::LbfgsOptions o;
        o.max_iter = max_iter;
        o.gtol = gtol;
        o.memory = memory;
        if (!gtol_scale.is_none()) {
          const auto s = gtol_scale.cast<py::array_t<double, py::array::c_style>>();
          MLCORE_CHECK(s.size() == n,
                       "minimize_lbfgs: gtol_scale has " << s.size() << " entries, x0 " << n);
          o.gtol_scale.resize(n);
          std::memcpy(o.gtol_scale.data(), s.data(), n * sizeof(double));
        }
        const detail::Objective objective = [&](const Eigen::VectorXd& xk, Eigen::VectorXd& g) {
          py::array_t<double> xa(n);
          std::memcpy(xa.mutable_data(), xk.data(), n * sizeof(double));
          const py::tuple out = fun(xa);
          const auto ga =
              out[1].cast<py::array_t<double, py::array::c_style | py::array::forcecast>>();
          MLCORE_CHECK(ga.size() == n, "minimize_lbfgs: the objective's gradient has "
                                           << ga.size() << " entries, expected " << n);
          std::memcpy(g.data(), ga.data(), n * sizeof(double));
          return out[0].cast<double>();
        };
        const detail::LbfgsResult r = detail::minimize_lbfgs(objective, x, o);
        py::array_t<double> xr(n);
        std::memcpy(xr.mutable_data(), x.data(), n * sizeof(double));
        py::dict info;
        info["n_iter"] = r.n_iter;
        info["n_eval"] = r.n_eval;
        info["converged"] = r.converged;
        info["noise_floor"] = r.noise_floor;
        info["f"] = r.f;
        info["grad_max"] = r.grad_max;
        info["message"] = r.message;
        return py::make_tuple(xr, info);
      },
      py::arg("fun"), py::arg("x0"), py::arg("max_iter"), py::arg("gtol"), py::arg("memory"),
      py::arg("gtol_scale") = py::none());

  // G (d × d), B (d × t) float64 → (W (d × t), rank).
  m.def(
      "solve_normal_equations",
      [](const Eigen::MatrixXd& G, const Eigen::MatrixXd& B, double alpha) {
        MLCORE_CHECK(G.rows() == G.cols() && B.rows() == G.rows(),
                     "solve_normal_equations: G must be d × d and B d × t, got "
                         << G.rows() << " × " << G.cols() << " and " << B.rows() << " × "
                         << B.cols());
        const detail::NormalEquationsSolution s = detail::solve_normal_equations(G, B, alpha);
        return py::make_tuple(s.W, s.rank);
      },
      py::arg("G"), py::arg("B"), py::arg("alpha"));
  m.def("singular_values_from_gram", [](const Eigen::MatrixXd& G) -> Eigen::VectorXd {
    return detail::singular_values_from_gram(G);
  });
  // A symmetric matrix → (eigenvalues descending, eigenvectors in the columns).
  m.def("symmetric_eigen_descending", [](const Eigen::MatrixXd& A) {
    const detail::SymmetricEigen e = detail::symmetric_eigen_descending(A);
    return py::make_tuple(e.values, e.vectors);
  });
}

}  // namespace mlcore::python
