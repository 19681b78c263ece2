// Bindings for mlcore.dask: the pieces of the single-machine fits that a distributed fit reuses,
// so that it computes the same model rather than a look-alike:
//   * ModelWriter (include/mlcore/serialize.hpp): a distributed fit reduces statistics across
//     workers and writes the fitted parameters in the model's own layout; the model's
//     load_bytes then checks every field (versions, shapes, checksum) as for a saved file.
//   * choose_input_transform (src/algorithms/common/columns.hpp): whether the linear models feed X
//   as
//     it is or shifted and scaled per column, from column statistics reduced across workers.
//   * minimize_lbfgs (src/algorithms/common/lbfgs.hpp): the L-BFGS of LogisticRegression, driven by
//   a
//     Python objective whose loss and gradient are summed over the workers' partitions.
//   * solve_normal_equations, singular_values_from_gram, symmetric_eigen_descending
//     (src/algorithms/common/host_math.hpp): the host-side d × d algebra of least squares and PCA,
//     applied to the Gram / covariance matrix reduced across workers.
//   * the tree learners' pieces (src/algorithms/trees): BinMapper with given thresholds (the
//     codes and histogram offsets a worker bins its partition with, and BinMapper::fit for the
//     merged quantile sketch), the split finder find_best_split with the grower's own rules
//     node_may_split / accept_split, PackedCodec's scale, and a forest tree's seed and
//     bootstrap draw: the distributed grower (mlcore/dask/_grower.py) sums the workers' node
//     histograms and lets these choose every split, so that it grows the single-machine trees.
// The private headers of the algorithms (the one place the bindings reach past the
// public API): exposing them publicly would make two internal helpers part of the C++ API only
// for this use.
#include <pybind11/eigen.h>
#include <pybind11/numpy.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <random>

#include "algorithms/common/columns.hpp"
#include "algorithms/common/host_math.hpp"
#include "algorithms/common/lbfgs.hpp"
#include "algorithms/decomposition/pca_rank.hpp"
#include "algorithms/svm/linear_svc_newton.hpp"
#include "algorithms/trees/tree_common.hpp"
#include "algorithms/trees/tree_grower.hpp"
#include "algorithms/trees/tree_split.hpp"
#include "bindings.hpp"
#include "convert.hpp"
#include "mlcore/algorithms/trees/binning.hpp"
#include "mlcore/algorithms/trees/forest.hpp"
#include "mlcore/serialize.hpp"

namespace mlcore::python {

namespace {

using F64Array = py::array_t<double, py::array::c_style | py::array::forcecast>;

BinMapper mapper_from(const std::vector<std::vector<double>>& thresholds) {
  BinMapper mapper;
  mapper.set_thresholds(thresholds);
  return mapper;
}

py::list thresholds_of(const BinMapper& mapper) {
  py::list out;
  for (std::int64_t f = 0; f < mapper.n_features(); ++f) {
    const std::vector<double>& t = mapper.thresholds(f);
    py::array_t<double> a(static_cast<py::ssize_t>(t.size()));
    std::copy(t.begin(), t.end(), a.mutable_data());
    out.append(a);
  }
  return out;
}

// One tree's split finder on the client of a distributed fit: the bins, the grower's
// parameters (as the single-machine estimator sets them) and the generator that draws the
// features examined at each split, consumed in the single-machine order by the caller.
struct TreeSplitter {
  BinMapper mapper;
  detail::GrowerParams params;
  std::mt19937_64 rng;
  double root_weight = 1;
  std::vector<std::uint8_t> feature_has_missing;  // boosting (GrowerParams::feature_has_missing)

  std::vector<double> stats_of(const F64Array& a) const {
    MLCORE_CHECK(a.size() == params.n_stats, "TreeSplitter: node statistics have "
                                                 << a.size() << " entries, expected "
                                                 << params.n_stats);
    return std::vector<double>(a.data(), a.data() + a.size());
  }
};

detail::SplitCriterion criterion_from(const std::string& name) {
  if (name == "gini") return detail::SplitCriterion::gini;
  if (name == "entropy") return detail::SplitCriterion::entropy;
  if (name == "squared_error") return detail::SplitCriterion::squared_error;
  if (name == "gradient") return detail::SplitCriterion::gradient;
  MLCORE_FAIL("TreeSplitter: criterion must be gini, entropy, squared_error or gradient, got '"
              << name << "'");
}

void bind_trees(py::module_& m) {
  py::class_<TreeSplitter>(m, "TreeSplitter", "a distributed tree's split finder (private)")
      .def(py::init([](const std::vector<std::vector<double>>& thresholds,
                       const std::string& criterion, int n_stats, std::int64_t max_depth,
                       std::int64_t min_samples_split, std::int64_t min_samples_leaf,
                       std::int64_t max_leaf_nodes, const py::object& max_features,
                       double min_impurity_decrease, bool require_positive_gain,
                       double l2_regularization, bool constant_hessian, std::uint64_t seed) {
             TreeSplitter t;
             t.mapper = mapper_from(thresholds);
             detail::GrowerParams& p = t.params;
             p.criterion = criterion_from(criterion);
             MLCORE_CHECK(n_stats >= 1, "TreeSplitter: n_stats must be >= 1, got " << n_stats);
             p.n_stats = n_stats;
             p.max_depth = max_depth;
             p.min_samples_split = min_samples_split;
             p.min_samples_leaf = min_samples_leaf;
             p.max_leaf_nodes = max_leaf_nodes;
             const MaxFeatures mf = max_features_from(max_features);
             mf.validate("TreeSplitter");
             p.max_features = mf.resolve(t.mapper.n_features());
             p.min_impurity_decrease = min_impurity_decrease;
             p.require_positive_gain = require_positive_gain;
             p.l2_regularization = l2_regularization;
             p.constant_hessian = constant_hessian;
             t.rng.seed(seed);
             return t;
           }),
           py::arg("thresholds"), py::arg("criterion"), py::arg("n_stats"), py::arg("max_depth"),
           py::arg("min_samples_split"), py::arg("min_samples_leaf"), py::arg("max_leaf_nodes"),
           py::arg("max_features"), py::arg("min_impurity_decrease"),
           py::arg("require_positive_gain"), py::arg("l2_regularization"),
           py::arg("constant_hessian"), py::arg("seed"))
      // The quantization scales of the histogram statistics (PackedCodec::scale).
      .def("set_scales",
           [](TreeSplitter& t, double value_scale, double hessian_scale) {
             t.params.value_scale = value_scale;
             t.params.hessian_scale = hessian_scale;
           })
      .def("seed", [](TreeSplitter& t, std::uint64_t seed) { t.rng.seed(seed); })
      // A forest's tree t: the generator seeded as the single-machine forest seeds it, its
      // bootstrap counts drawn first (`draws` draws among n: forest_bootstrap_draws; uint8
      // would not do: returned as int32).
      .def("forest_bootstrap",
           [](TreeSplitter& t, std::uint64_t random_state, std::int64_t tree, std::int64_t n,
              std::int64_t draws) {
             t.rng.seed(detail::forest_tree_seed(random_state, tree));
             const std::vector<double> counts = detail::bootstrap_counts(t.rng, n, draws);
             py::array_t<std::int32_t> out(static_cast<py::ssize_t>(n));
             std::int32_t* o = out.mutable_data();
             for (std::int64_t i = 0; i < n; ++i) o[i] = static_cast<std::int32_t>(counts[i]);
             return out;
           })
      // A forest's tree t without bootstrap: the generator seeded as the forest seeds it.
      .def("forest_seed",
           [](TreeSplitter& t, std::uint64_t random_state, std::int64_t tree) {
             t.rng.seed(detail::forest_tree_seed(random_state, tree));
           })
      .def("set_root_weight", [](TreeSplitter& t, double w) { t.root_weight = std::max(w, 1.0); })
      .def("may_split",
           [](const TreeSplitter& t, std::int32_t depth, std::int64_t n_samples,
              const F64Array& stats) {
             return detail::node_may_split(t.params, depth, n_samples, t.stats_of(stats).data());
           })
      .def("node_weight",
           [](const TreeSplitter& t, const F64Array& stats) {
             return detail::node_weight(t.params, t.stats_of(stats).data());
           })
      .def("node_pure",
           [](const TreeSplitter& t, const F64Array& stats) {
             return detail::node_pure(t.params, t.stats_of(stats).data());
           })
      .def("gain_unit", [](const TreeSplitter& t) { return detail::gain_unit(t.params); })
      // hist: total_bins × n_stats integer sums (float64); stats: the node's n_stats sums.
      // Returns None (no split kept) or (feature, bin, missing_left, gain, left statistics).
      .def("best_split",
           [](TreeSplitter& t, const F64Array& hist, const F64Array& stats) -> py::object {
             const std::int64_t cells =
                 static_cast<std::int64_t>(t.mapper.total_bins()) * t.params.n_stats;
             MLCORE_CHECK(hist.size() == cells, "TreeSplitter: the histogram has "
                                                    << hist.size() << " cells, expected "
                                                    << t.mapper.total_bins() << " bins × "
                                                    << t.params.n_stats);
             const detail::Histogram h(hist.data(), hist.data() + cells);
             t.params.feature_has_missing =
                 t.feature_has_missing.empty() ? nullptr : t.feature_has_missing.data();
             detail::SplitInfo s = detail::accept_split(
                 detail::find_best_split(h, t.stats_of(stats), t.mapper, t.params, t.rng), t.params,
                 t.root_weight);
             if (!s.valid) return py::none();
             py::array_t<double> left(static_cast<py::ssize_t>(s.left.size()));
             std::copy(s.left.begin(), s.left.end(), left.mutable_data());
             return py::make_tuple(s.feature, s.bin, s.missing_left, s.gain, left);
           })
      // Boosting: which features had a missing value among the training rows, read from the
      // root's histogram (the count statistic of each feature's missing bin), as the single-
      // machine fit records it. Other criteria decide where NaN goes per node: ignored.
      .def("set_missing_from_root",
           [](TreeSplitter& t, const F64Array& root_hist) {
             if (t.params.criterion != detail::SplitCriterion::gradient) return;
             const std::int64_t d = t.mapper.n_features();
             MLCORE_CHECK(root_hist.size() ==
                              static_cast<std::int64_t>(t.mapper.total_bins()) * t.params.n_stats,
                          "TreeSplitter: the root histogram has " << root_hist.size() << " cells");
             t.feature_has_missing.assign(static_cast<std::size_t>(d), 0);
             for (std::int64_t f = 0; f < d; ++f) {
               const std::int64_t row = t.mapper.offset(f) + t.mapper.n_bins(f);
               t.feature_has_missing[f] = root_hist.data()[row * t.params.n_stats] > 0;
             }
           })
      // The raw-value threshold of "code ≤ bin" (+inf when every value bin goes left).
      .def("threshold",
           [](const TreeSplitter& t, std::int32_t f, int bin) {
             return bin < t.mapper.n_bins(f) - 1 ? t.mapper.thresholds(f)[bin]
                                                 : std::numeric_limits<double>::infinity();
           })
      // Whether each split examines a random subset of the features (the generator matters).
      .def_property_readonly("random_features",
                             [](const TreeSplitter& t) {
                               return t.params.max_features > 0 &&
                                      t.params.max_features < t.mapper.n_features();
                             })
      .def_property_readonly("total_bins",
                             [](const TreeSplitter& t) { return t.mapper.total_bins(); });

  // X: n × d float32 (NaN = missing) → (n × d uint8 codes row-major, offsets int32 (d,),
  // missing codes int32 (d,)) under the given thresholds: what a worker bins its partition to.
  m.def(
      "bin_codes",
      [](const std::vector<std::vector<double>>& thresholds, const py::array& X) {
        const BinMapper mapper = mapper_from(thresholds);
        const Tensor x = borrow_array(X, "X");
        MLCORE_CHECK(x.dtype() == DType::f32 && x.cols() == mapper.n_features(),
                     "bin_codes: X must be float32 with " << mapper.n_features() << " columns, got "
                                                          << x.describe());
        Tensor codes;
        {
          InterruptibleCall nogil;
          codes = mapper.histogram_codes(mapper.transform(x), x.rows());
        }
        const std::int64_t d = mapper.n_features();
        py::array_t<std::uint8_t> out(
            {static_cast<py::ssize_t>(x.rows()), static_cast<py::ssize_t>(d)});
        std::memcpy(out.mutable_data(), codes.raw(), static_cast<std::size_t>(x.rows() * d));
        py::array_t<std::int32_t> offsets(static_cast<py::ssize_t>(d)),
            missing(static_cast<py::ssize_t>(d));
        for (std::int64_t f = 0; f < d; ++f) {
          offsets.mutable_data()[f] = mapper.offset(f);
          missing.mutable_data()[f] = mapper.n_bins(f);
        }
        return py::make_tuple(out, offsets, missing);
      },
      py::arg("thresholds"), py::arg("X"));
  // BinMapper::fit on X (n × d float32, NaN ignored) → the thresholds of every feature.
  m.def(
      "bin_thresholds",
      [](const py::array& X, int max_bins, std::uint64_t seed, std::int64_t subsample) {
        const Tensor x = borrow_array(X, "X");
        MLCORE_CHECK(x.dtype() == DType::f32, "bin_thresholds: X must be float32");
        BinMapper mapper;
        {
          InterruptibleCall nogil;
          mapper.fit(x, max_bins, seed, subsample);
        }
        return thresholds_of(mapper);
      },
      py::arg("X"), py::arg("max_bins"), py::arg("seed"), py::arg("subsample"));
  // max_features as the model file stores it (MaxFeatures: kind, value).
  // A forest's per-tree generator seeds as its model file stores them (random_forest.cpp:
  // visit_seeds, the 64 bits as int64), and max_samples as (kind, value) (MaxSamples::visit).
  m.def("forest_tree_seeds", [](std::uint64_t random_state, std::int64_t n_trees) {
    std::vector<std::int64_t> seeds;
    for (std::int64_t t = 0; t < n_trees; ++t) {
      seeds.push_back(static_cast<std::int64_t>(detail::forest_tree_seed(random_state, t)));
    }
    return seeds;
  });
  m.def("max_samples_spec", [](const py::object& o) {
    const MaxSamples ms = max_samples_from(o);
    return py::make_tuple(static_cast<int>(ms.kind), ms.value);
  });
  m.def("max_features_spec", [](const py::object& o) {
    const MaxFeatures mf = max_features_from(o);
    return py::make_tuple(static_cast<int>(mf.kind), mf.value);
  });
  // PackedCodec::for_values → (scale, q_max): a statistic v is stored as
  // clamp(round(clamp(v·scale, ±2 q_max)), ±q_max).
  m.def(
      "packed_codec",
      [](double max_abs, double total_weight, bool with_count) {
        const detail::PackedCodec c =
            detail::PackedCodec::for_values(max_abs, total_weight, with_count);
        return py::make_tuple(c.scale, c.q_max);
      },
      py::arg("max_abs"), py::arg("total_weight"), py::arg("with_count"));
  // Boosting's validation split by rank within each group (detail::validation_ranks), drawn
  // from the generator the single-machine fit seeds with random_state: one uint8 array per
  // group (1 = the group's sample of that rank validates).
  m.def(
      "validation_ranks",
      [](const std::vector<std::int64_t>& sizes, double fraction, std::uint64_t random_state) {
        std::mt19937_64 rng(random_state);
        py::list out;
        for (const std::vector<std::uint8_t>& flags :
             detail::validation_ranks(sizes, fraction, rng)) {
          py::array_t<std::uint8_t> a(static_cast<py::ssize_t>(flags.size()));
          std::copy(flags.begin(), flags.end(), a.mutable_data());
          out.append(a);
        }
        return out;
      },
      py::arg("sizes"), py::arg("fraction"), py::arg("random_state"));
  // Boosting's early-stopping rule on the scores so far (detail::should_stop).
  m.def("boosting_should_stop", &detail::should_stop, py::arg("scores"),
        py::arg("n_iter_no_change"), py::arg("tol"));
}

}  // namespace

void bind_distributed(py::module_& m) {
  bind_trees(m);
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

  // LinearSVC's primal Newton method (linear_svc_newton.hpp) driven by Python sums:
  // evaluate(w, f0) -> (f, G, S) or None on overflow; line(w, s) -> obj(t, f0) -> f.
  // Returns (w, n_iter) or None when a product overflowed.
  m.def(
      "minimize_squared_hinge",
      [](const py::function& evaluate, const py::function& line, std::int64_t da, double eps,
         std::int64_t max_iter) -> py::object {
        detail::SquaredHingeOracle oracle;
        oracle.evaluate = [&](const Eigen::VectorXd& w, double f0, double& f, Eigen::VectorXd& G,
                              Eigen::MatrixXd& S) {
          const py::object out = evaluate(w, f0);
          if (out.is_none()) return false;
          const py::tuple t = out.cast<py::tuple>();
          f = t[0].cast<double>();
          G = t[1].cast<Eigen::VectorXd>();
          S = t[2].cast<Eigen::MatrixXd>();
          MLCORE_CHECK(G.size() == da && S.rows() == da && S.cols() == da,
                       "minimize_squared_hinge: evaluate returned G of "
                           << G.size() << " and S of " << S.rows() << " × " << S.cols()
                           << ", expected " << da);
          return true;
        };
        oracle.line = [&](const Eigen::VectorXd& w, const Eigen::VectorXd& s) {
          const py::function obj = line(w, s);
          return std::function<double(double, double)>(
              [obj](double t, double f0) { return obj(t, f0).cast<double>(); });
        };
        const detail::SquaredHingeResult r =
            detail::minimize_squared_hinge(oracle, da, eps, max_iter);
        if (r.overflow) return py::none();
        return py::make_tuple(r.w, r.n_iter);
      },
      py::arg("evaluate"), py::arg("line"), py::arg("da"), py::arg("eps"), py::arg("max_iter"));
  m.def("primal_eps", &detail::primal_eps, py::arg("tol"), py::arg("pos"), py::arg("neg"));

  // PCA's number of components from the covariance's eigenvalues (descending, clipped at 0)
  // and its options (pca_rank.hpp): mlcore.dask's PCA keeps what the single machine keeps.
  m.def("pca_components_to_keep", &detail::components_to_keep, py::arg("explained_variance"),
        py::arg("n_samples"), py::arg("n_components"), py::arg("variance_fraction"));

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
