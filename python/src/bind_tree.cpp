// Bindings of the tree estimators: DecisionTree*, RandomForest*, GradientBoosting*. Thin: the
// Python classes in mlcore/tree.py and mlcore/ensemble.py validate parameters and inputs and
// handle class labels; these only convert arrays and options, and release the GIL around the
// C++ calls.
#include <pybind11/numpy.h>

#include <limits>
#include <type_traits>

#include "bindings.hpp"
#include "convert.hpp"
#include "mlcore/algorithms/trees/forest.hpp"
#include "mlcore/algorithms/trees/gradient_boosting.hpp"
#include "mlcore/algorithms/trees/tree.hpp"

namespace mlcore::python {

// scikit-learn's max_features: None, "sqrt", "log2", an int (count) or a float (fraction).
// (Also used by bind_distributed.cpp.)
MaxFeatures max_features_from(const py::object& o) {
  MaxFeatures m;
  if (o.is_none()) return m;
  if (py::isinstance<py::str>(o)) {
    const std::string s = o.cast<std::string>();
    if (s == "sqrt") {
      m.kind = MaxFeatures::Kind::sqrt;
    } else if (s == "log2") {
      m.kind = MaxFeatures::Kind::log2;
    } else {
      MLCORE_FAIL("max_features must be None, 'sqrt', 'log2', an int or a float, got '" << s
                                                                                        << "'");
    }
  } else if (py::isinstance<py::bool_>(o)) {
    MLCORE_FAIL("max_features must be None, 'sqrt', 'log2', an int or a float, got a bool");
  } else if (py::isinstance<py::int_>(o)) {
    m.kind = MaxFeatures::Kind::count;
    m.value = o.cast<double>();
  } else {
    m.kind = MaxFeatures::Kind::fraction;
    m.value = o.cast<double>();
  }
  return m;
}

// max_features in scikit-learn's spelling (the inverse of max_features_from).
py::object to_python(const MaxFeatures& m) {
  switch (m.kind) {
    case MaxFeatures::Kind::all:
      return py::none();
    case MaxFeatures::Kind::sqrt:
      return py::str("sqrt");
    case MaxFeatures::Kind::log2:
      return py::str("log2");
    case MaxFeatures::Kind::count:
      return py::int_(static_cast<std::int64_t>(m.value));
    case MaxFeatures::Kind::fraction:
      break;
  }
  return py::float_(m.value);
}

// scikit-learn's max_samples: None, an int (count) or a float (fraction); the Python layer
// has checked the type.
MaxSamples max_samples_from(const py::object& o) {
  MaxSamples m;
  if (o.is_none()) return m;
  m.kind = py::isinstance<py::int_>(o) ? MaxSamples::Kind::count : MaxSamples::Kind::fraction;
  m.value = o.cast<double>();
  return m;
}

py::object to_python(const MaxSamples& m) {
  switch (m.kind) {
    case MaxSamples::Kind::all:
      return py::none();
    case MaxSamples::Kind::count:
      return py::int_(static_cast<std::int64_t>(m.value));
    case MaxSamples::Kind::fraction:
      break;
  }
  return py::float_(m.value);
}

namespace {

// A fitted tree's arrays as numpy arrays (python/mlcore/_tree_view.py turns them into
// scikit-learn's tree_): one per node field, values n_nodes × n_outputs; impurity NaN when the
// tree has none (an older model file).
py::dict tree_arrays(const Tree& t) {
  const py::ssize_t n = static_cast<py::ssize_t>(t.nodes.size());
  py::array_t<std::int64_t> left(n), right(n), feature(n), n_samples(n), depth(n);
  py::array_t<std::uint8_t> missing_left(n);
  py::array_t<double> threshold(n), weighted(n), impurity(n), gain(n);
  py::array_t<double> values({n, static_cast<py::ssize_t>(t.n_outputs)});
  for (py::ssize_t k = 0; k < n; ++k) {
    const TreeNode& node = t.nodes[k];
    left.mutable_at(k) = node.left;
    right.mutable_at(k) = node.right;
    feature.mutable_at(k) = node.feature;
    n_samples.mutable_at(k) = node.n_samples;
    depth.mutable_at(k) = node.depth;
    missing_left.mutable_at(k) = node.missing_left ? 1 : 0;
    threshold.mutable_at(k) = node.threshold;
    weighted.mutable_at(k) = node.weighted_n_samples;
    impurity.mutable_at(k) = t.impurity.size() == t.nodes.size()
                                 ? t.impurity[k]
                                 : std::numeric_limits<double>::quiet_NaN();
    gain.mutable_at(k) = node.gain;
  }
  std::copy(t.values.begin(), t.values.end(), values.mutable_data());
  py::dict d;
  d["left"] = left;
  d["right"] = right;
  d["feature"] = feature;
  d["n_samples"] = n_samples;
  d["depth"] = depth;
  d["missing_left"] = missing_left;
  d["threshold"] = threshold;
  d["weighted_n_samples"] = weighted;
  d["impurity"] = impurity;
  d["gain"] = gain;
  d["values"] = values;
  return d;
}

// A query method of a fitted model on X: X borrowed, the C++ call without the GIL (and
// interruptible), the result as a numpy array.
template <class Model>
py::object query(const Model& m, Tensor (Model::*method)(const Tensor&) const, const py::array& X) {
  const Tensor tx = borrow_array(X, "X");
  Tensor out;
  {
    InterruptibleCall nogil;
    out = (m.*method)(tx);
  }
  return tensor_to_array(out);
}

// What every tree estimator binding has: fit, predict, feature_importances_, and what every
// estimator binds.
template <class Model, class Class>
void bind_common(Class& c) {
  c.def(
       "fit",
       [](Model& m, const py::array& X, const py::array& y, const py::object& sample_weight) {
         const Tensor tx = borrow_array(X, "X"), ty = borrow_array(y, "y");
         const Tensor tw = sample_weight.is_none()
                               ? Tensor()
                               : borrow_array(sample_weight.cast<py::array>(), "sample_weight");
         InterruptibleCall nogil;
         m.fit(tx, ty, tw);
       },
       py::arg("X"), py::arg("y"), py::arg("sample_weight") = py::none())
      .def("predict",
           [](const Model& m, const py::array& X) { return query(m, &Model::predict, X); })
      .def_property_readonly("feature_importances_", [](const Model& m) {
        return tensor_to_array(m.feature_importances()).attr("reshape")(-1);
      });
  bind_estimator<Model>(c);
}

// The defaults (bindings.hpp, set_defaults) of a tree's, or a forest's, parameters.
template <class O, class Class>
void set_tree_defaults(Class& c) {
  set_defaults<O>(c, "criterion", &O::criterion, "max_depth", spelled(&O::max_depth, kNoLimit),
                  "min_samples_split", &O::min_samples_split, "min_samples_leaf",
                  &O::min_samples_leaf, "max_features", &O::max_features, "min_impurity_decrease",
                  &O::min_impurity_decrease, "max_bins", &O::max_bins, "max_leaf_nodes",
                  spelled(&O::max_leaf_nodes, kNoLimit), "ccp_alpha", &O::ccp_alpha);
}
template <class O, class Class>
void set_forest_defaults(Class& c) {
  set_defaults<O>(c, "n_estimators", &O::n_estimators, "criterion", &O::criterion, "max_depth",
                  spelled(&O::max_depth, kNoLimit), "max_features", &O::max_features,
                  "min_samples_split", &O::min_samples_split, "min_samples_leaf",
                  &O::min_samples_leaf, "min_impurity_decrease", &O::min_impurity_decrease,
                  "bootstrap", &O::bootstrap, "oob_score", &O::oob_score, "max_bins", &O::max_bins,
                  "max_leaf_nodes", spelled(&O::max_leaf_nodes, kNoLimit), "max_samples",
                  &O::max_samples, "warm_start", &O::warm_start);
}

template <class Model, class Class>
void bind_single_tree(Class& c) {
  bind_common<Model>(c);
  c.def("apply", [](const Model& m,
                    const py::array& X) { return query(m, &Model::apply, X).attr("reshape")(-1); })
      .def("get_depth", &Model::get_depth)
      .def("get_n_leaves", &Model::get_n_leaves)
      .def_property_readonly("node_count", [](const Model& m) { return m.tree().nodes.size(); })
      .def("tree_arrays", [](const Model& m) { return tree_arrays(m.tree()); })
      .def("pruning_path", [](const Model& m) {
        const PruningPath p = m.pruning_path();
        return py::make_tuple(py::array_t<double>(p.ccp_alphas.size(), p.ccp_alphas.data()),
                              py::array_t<double>(p.impurities.size(), p.impurities.data()));
      });
}

// A forest's leaves (apply) and its warm start from an earlier fit.
template <class Model, class Class>
void bind_forest(Class& c) {
  c.def("apply", [](const Model& m, const py::array& X) { return query(m, &Model::apply, X); })
      .def("warm_start_from", &Model::warm_start_from, py::arg("fitted"))
      .def("tree_arrays", [](const Model& m, std::int64_t t) {
        MLCORE_CHECK(t >= 0 && t < static_cast<std::int64_t>(m.trees().size()),
                     "tree index " << t << " out of range");
        return tree_arrays(m.trees()[t]);
      });
}

template <class Model, class Class>
void bind_predict_proba(Class& c) {
  c.def("predict_proba",
        [](const Model& m, const py::array& X) { return query(m, &Model::predict_proba, X); });
}

template <class Options>
Options tree_options(const std::string& criterion, const py::object& max_depth,
                     std::int64_t min_samples_split, std::int64_t min_samples_leaf,
                     const py::object& max_features, double min_impurity_decrease,
                     std::uint64_t random_state, int max_bins, const py::object& max_leaf_nodes,
                     double ccp_alpha) {
  Options o;
  o.ccp_alpha = ccp_alpha;
  o.criterion = criterion;
  o.max_leaf_nodes = from_python(max_leaf_nodes, kNoLimit);
  o.max_depth = from_python(max_depth, kNoLimit);
  o.min_samples_split = min_samples_split;
  o.min_samples_leaf = min_samples_leaf;
  o.max_features = max_features_from(max_features);
  o.min_impurity_decrease = min_impurity_decrease;
  o.random_state = random_state;
  o.max_bins = max_bins;
  return o;
}

template <class Options>
Options forest_options(std::int64_t n_estimators, const std::string& criterion,
                       const py::object& max_depth, std::int64_t min_samples_split,
                       std::int64_t min_samples_leaf, const py::object& max_features,
                       double min_impurity_decrease, bool bootstrap, bool oob_score, int n_jobs,
                       std::uint64_t random_state, int max_bins, const py::object& max_leaf_nodes,
                       const py::object& max_samples, bool warm_start) {
  Options o;
  o.n_estimators = n_estimators;
  o.max_leaf_nodes = from_python(max_leaf_nodes, kNoLimit);
  o.max_samples = max_samples_from(max_samples);
  o.warm_start = warm_start;
  o.criterion = criterion;
  o.max_depth = from_python(max_depth, kNoLimit);
  o.min_samples_split = min_samples_split;
  o.min_samples_leaf = min_samples_leaf;
  o.max_features = max_features_from(max_features);
  o.min_impurity_decrease = min_impurity_decrease;
  o.bootstrap = bootstrap;
  o.oob_score = oob_score;
  o.n_jobs = n_jobs;
  o.random_state = random_state;
  o.max_bins = max_bins;
  return o;
}

// Both boosting estimators: options, staged raw scores, scores per iteration.
template <class M>
void bind_boosting(py::module_& m, const char* name, bool classifier) {
  py::class_<M> c(m, name);
  c.def(py::init([](const std::string& loss, double learning_rate, std::int64_t max_iter,
                    const py::object& max_leaf_nodes, const py::object& max_depth,
                    std::int64_t min_samples_leaf, double l2_regularization, int max_bins,
                    const std::string& early_stopping, const std::string& scoring,
                    const py::object& validation_fraction, std::int64_t n_iter_no_change,
                    double tol, std::uint64_t random_state,
                    const std::vector<std::vector<std::int64_t>>& interaction_cst,
                    BackendPtr backend) {
          GradientBoostingOptions o;
          o.interaction_cst = interaction_cst;
          o.loss = loss;
          o.learning_rate = learning_rate;
          o.max_iter = max_iter;
          o.max_leaf_nodes = from_python(max_leaf_nodes, kNoLimit);
          o.max_depth = from_python(max_depth, kNoLimit);
          o.min_samples_leaf = min_samples_leaf;
          o.l2_regularization = l2_regularization;
          o.max_bins = max_bins;
          o.early_stopping = early_stopping;
          o.scoring = scoring;
          o.validation_fraction = from_python(validation_fraction, kNoValidationSplit);
          o.n_iter_no_change = n_iter_no_change;
          o.tol = tol;
          o.random_state = random_state;
          return M(o, std::move(backend));
        }),
        py::arg("loss"), py::arg("learning_rate"), py::arg("max_iter"), py::arg("max_leaf_nodes"),
        py::arg("max_depth"), py::arg("min_samples_leaf"), py::arg("l2_regularization"),
        py::arg("max_bins"), py::arg("early_stopping"), py::arg("scoring"),
        py::arg("validation_fraction"), py::arg("n_iter_no_change"), py::arg("tol"),
        py::arg("random_state"), py::arg("interaction_cst"), py::arg("backend"));
  bind_common<M>(c);
  using O = GradientBoostingOptions;
  set_defaults<O>(c, "learning_rate", &O::learning_rate, "max_iter", &O::max_iter, "max_leaf_nodes",
                  spelled(&O::max_leaf_nodes, kNoLimit), "max_depth",
                  spelled(&O::max_depth, kNoLimit), "min_samples_leaf", &O::min_samples_leaf,
                  "l2_regularization", &O::l2_regularization, "max_bins", &O::max_bins,
                  "early_stopping", &O::early_stopping, "scoring", &O::scoring,
                  "validation_fraction", spelled(&O::validation_fraction, kNoValidationSplit),
                  "n_iter_no_change", &O::n_iter_no_change, "tol", &O::tol);
  c.attr("defaults")["loss"] = M::kDefaultLoss;  // Options' "" differs per estimator
  c.def(
      "fit_with_validation",
      [](M& m, const py::array& X, const py::array& y, const py::object& sample_weight,
         const py::array& X_val, const py::array& y_val, const py::object& sample_weight_val) {
        auto optional = [](const py::object& a, const char* what) {
          return a.is_none() ? Tensor() : borrow_array(a.cast<py::array>(), what);
        };
        const Tensor tx = borrow_array(X, "X"), ty = borrow_array(y, "y");
        const Tensor tw = optional(sample_weight, "sample_weight");
        BoostingValidation v{borrow_array(X_val, "X_val"), borrow_array(y_val, "y_val"),
                             optional(sample_weight_val, "sample_weight_val")};
        InterruptibleCall nogil;
        m.fit(tx, ty, tw, v);
      },
      py::arg("X"), py::arg("y"), py::arg("sample_weight"), py::arg("X_val"), py::arg("y_val"),
      py::arg("sample_weight_val"));
  c.def("baseline_raw",
        [](const M& model, std::int64_t n) { return tensor_to_array(model.baseline_raw(n)); })
      .def("add_iteration",
           [](const M& model, const py::array& X, std::int64_t iteration, py::array raw) {
             const Tensor tx = borrow_array(X, "X");
             Tensor tr = borrow_array(raw, "raw");
             InterruptibleCall nogil;
             model.add_iteration(tx, iteration, tr);
           })
      .def_property_readonly("n_iter_", &M::n_iter)
      .def_property_readonly("train_score_",
                             [](const M& model) { return model.model().train_score; })
      .def_property_readonly("validation_score_",
                             [](const M& model) { return model.model().validation_score; })
      .def("tree_leaf_counts", [](const M& model) {
        std::vector<std::int64_t> leaves;
        for (const Tree& t : model.model().trees) leaves.push_back(t.n_leaves());
        return leaves;
      });
  if constexpr (std::is_same_v<M, GradientBoostingClassifier>) {
    bind_predict_proba<M>(c);
    c.def("decision_function", [](const M& model, const py::array& X) {
      const Tensor tx = borrow_array(X, "X");
      Tensor out;
      {
        InterruptibleCall nogil;
        out = model.decision_function(tx);
      }
      return tensor_to_array(out);
    });
  }
  (void)classifier;
}

}  // namespace

void bind_tree(py::module_& m) {
  // ---- decision trees ----
  {
    using M = DecisionTreeClassifier;
    py::class_<M> c(m, "DecisionTreeClassifier");
    c.def(py::init([](const std::string& criterion, const py::object& max_depth,
                      std::int64_t min_samples_split, std::int64_t min_samples_leaf,
                      const py::object& max_features, double min_impurity_decrease,
                      std::uint64_t random_state, int max_bins, const py::object& max_leaf_nodes,
                      double ccp_alpha, BackendPtr backend) {
            return M(tree_options<M::Options>(criterion, max_depth, min_samples_split,
                                              min_samples_leaf, max_features, min_impurity_decrease,
                                              random_state, max_bins, max_leaf_nodes, ccp_alpha),
                     std::move(backend));
          }),
          py::arg("criterion"), py::arg("max_depth"), py::arg("min_samples_split"),
          py::arg("min_samples_leaf"), py::arg("max_features"), py::arg("min_impurity_decrease"),
          py::arg("random_state"), py::arg("max_bins"), py::arg("max_leaf_nodes"),
          py::arg("ccp_alpha") = 0.0, py::arg("backend"));
    bind_single_tree<M>(c);
    bind_predict_proba<M>(c);
    set_tree_defaults<M::Options>(c);
    c.def(
        "set_from_forest",
        [](M& m, const RandomForestClassifier& forest, std::int64_t t) {
          MLCORE_CHECK(t >= 0 && t < static_cast<std::int64_t>(forest.trees().size()),
                       "tree index " << t << " out of range");
          m.set_fitted(forest.trees()[t], forest.classes(), forest.n_features_in());
        },
        py::arg("forest"), py::arg("t"));
  }
  {
    using M = DecisionTreeRegressor;
    py::class_<M> c(m, "DecisionTreeRegressor");
    c.def(py::init([](const std::string& criterion, const py::object& max_depth,
                      std::int64_t min_samples_split, std::int64_t min_samples_leaf,
                      const py::object& max_features, double min_impurity_decrease,
                      std::uint64_t random_state, int max_bins, const py::object& max_leaf_nodes,
                      double ccp_alpha, BackendPtr backend) {
            return M(tree_options<M::Options>(criterion, max_depth, min_samples_split,
                                              min_samples_leaf, max_features, min_impurity_decrease,
                                              random_state, max_bins, max_leaf_nodes, ccp_alpha),
                     std::move(backend));
          }),
          py::arg("criterion"), py::arg("max_depth"), py::arg("min_samples_split"),
          py::arg("min_samples_leaf"), py::arg("max_features"), py::arg("min_impurity_decrease"),
          py::arg("random_state"), py::arg("max_bins"), py::arg("max_leaf_nodes"),
          py::arg("ccp_alpha") = 0.0, py::arg("backend"));
    bind_single_tree<M>(c);
    set_tree_defaults<M::Options>(c);
    c.def(
        "set_from_forest",
        [](M& m, const RandomForestRegressor& forest, std::int64_t t) {
          MLCORE_CHECK(t >= 0 && t < static_cast<std::int64_t>(forest.trees().size()),
                       "tree index " << t << " out of range");
          m.set_fitted(forest.trees()[t], forest.n_features_in());
        },
        py::arg("forest"), py::arg("t"));
  }

  // ---- random forests ----
  {
    using M = RandomForestClassifier;
    py::class_<M> c(m, "RandomForestClassifier");
    c.def(py::init([](std::int64_t n_estimators, const std::string& criterion,
                      const py::object& max_depth, std::int64_t min_samples_split,
                      std::int64_t min_samples_leaf, const py::object& max_features,
                      double min_impurity_decrease, bool bootstrap, bool oob_score, int n_jobs,
                      std::uint64_t random_state, int max_bins, const py::object& max_leaf_nodes,
                      const py::object& max_samples, bool warm_start, BackendPtr backend) {
            return M(forest_options<M::Options>(
                         n_estimators, criterion, max_depth, min_samples_split, min_samples_leaf,
                         max_features, min_impurity_decrease, bootstrap, oob_score, n_jobs,
                         random_state, max_bins, max_leaf_nodes, max_samples, warm_start),
                     std::move(backend));
          }),
          py::arg("n_estimators"), py::arg("criterion"), py::arg("max_depth"),
          py::arg("min_samples_split"), py::arg("min_samples_leaf"), py::arg("max_features"),
          py::arg("min_impurity_decrease"), py::arg("bootstrap"), py::arg("oob_score"),
          py::arg("n_jobs"), py::arg("random_state"), py::arg("max_bins"),
          py::arg("max_leaf_nodes"), py::arg("max_samples"), py::arg("warm_start"),
          py::arg("backend"));
    bind_common<M>(c);
    bind_forest<M>(c);
    bind_predict_proba<M>(c);
    set_forest_defaults<M::Options>(c);
    c.def_property_readonly("oob_score_", &M::oob_score)
        .def_property_readonly(
            "oob_decision_function_",
            [](const M& m) { return tensor_to_array(m.oob_decision_function()); })
        .def_property_readonly("n_estimators_", [](const M& m) { return m.trees().size(); })
        .def("tree_depths", [](const M& m) {
          std::vector<int> d;
          for (const Tree& t : m.trees()) d.push_back(t.max_depth());
          return d;
        });
  }
  {
    using M = RandomForestRegressor;
    py::class_<M> c(m, "RandomForestRegressor");
    c.def(py::init([](std::int64_t n_estimators, const std::string& criterion,
                      const py::object& max_depth, std::int64_t min_samples_split,
                      std::int64_t min_samples_leaf, const py::object& max_features,
                      double min_impurity_decrease, bool bootstrap, bool oob_score, int n_jobs,
                      std::uint64_t random_state, int max_bins, const py::object& max_leaf_nodes,
                      const py::object& max_samples, bool warm_start, BackendPtr backend) {
            return M(forest_options<M::Options>(
                         n_estimators, criterion, max_depth, min_samples_split, min_samples_leaf,
                         max_features, min_impurity_decrease, bootstrap, oob_score, n_jobs,
                         random_state, max_bins, max_leaf_nodes, max_samples, warm_start),
                     std::move(backend));
          }),
          py::arg("n_estimators"), py::arg("criterion"), py::arg("max_depth"),
          py::arg("min_samples_split"), py::arg("min_samples_leaf"), py::arg("max_features"),
          py::arg("min_impurity_decrease"), py::arg("bootstrap"), py::arg("oob_score"),
          py::arg("n_jobs"), py::arg("random_state"), py::arg("max_bins"),
          py::arg("max_leaf_nodes"), py::arg("max_samples"), py::arg("warm_start"),
          py::arg("backend"));
    bind_common<M>(c);
    bind_forest<M>(c);
    set_forest_defaults<M::Options>(c);
    c.def_property_readonly("oob_score_", &M::oob_score)
        .def_property_readonly(
            "oob_prediction_",
            [](const M& m) { return tensor_to_array(m.oob_prediction()).attr("reshape")(-1); })
        .def_property_readonly("n_estimators_", [](const M& m) { return m.trees().size(); });
  }

  // The draws of a forest's bootstrap samples for max_samples and n samples (MaxSamples: its
  // checks and resolve), for the distributed forests (mlcore/dask/ensemble.py).
  m.def(
      "forest_bootstrap_draws",
      [](const std::string& estimator, const py::object& max_samples, bool bootstrap,
         std::int64_t n) {
        const MaxSamples ms = max_samples_from(max_samples);
        ms.validate(estimator.c_str(), bootstrap);
        return ms.resolve(n);
      },
      py::arg("estimator"), py::arg("max_samples"), py::arg("bootstrap"), py::arg("n"));

  // ---- gradient boosting ----
  bind_boosting<GradientBoostingClassifier>(m, "GradientBoostingClassifier", true);
  bind_boosting<GradientBoostingRegressor>(m, "GradientBoostingRegressor", false);
}

}  // namespace mlcore::python
