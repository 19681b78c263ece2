// What every estimator (KMeans, PCA, ...) shares: the backend it runs on, and the profile of
// its last call.
//
// Conventions for the estimator classes in include/mlcore/algorithms/:
//   * An Options struct with scikit-learn's parameter names and defaults; the constructor takes
//     (Options, BackendPtr) and validates the options (mlcore::Error naming the bad value).
//   * Inputs are host f32 tensors: X is n_samples × n_features, row-major; y is a vector of
//     length n_samples (class labels as floats, or regression targets). Inputs are never
//     modified. The estimator moves what it needs to its backend itself.
//   * fit(...) returns *this; predict / transform / score return host tensors.
//   * Every fit/predict/transform call replaces profile() with the records of that call.
//   * Fitted attributes are read through const accessors named as scikit-learn names them,
//     without the trailing underscore (cluster_centers(), coef(), ...); reading them, or calling
//     predict, before fit throws mlcore::Error ("KMeans is not fitted yet; call fit() first").
//   * save(std::ostream&) / load(std::istream&, BackendPtr) through serialize.hpp.
//   * The fitted parameter arrays are the model: set_fitted_array("coef", values) overwrites
//     one (scikit-learn lets a user edit coef_ and predict with the edit), and whatever the
//     model derives from it is derived again.
#pragma once

#include "mlcore/backend.hpp"
#include "mlcore/profile.hpp"

#include <string>
#include <utility>
#include <vector>

namespace mlcore {

// The backend estimators use when none is given: backend(default_backend_name()), the fastest
// f32 CPU backend this machine runs.
BackendPtr default_backend();

class Estimator {
 public:
  explicit Estimator(BackendPtr backend);
  virtual ~Estimator() = default;

  const BackendPtr& backend() const { return backend_; }
  // Runs later calls on another backend (a fitted model keeps its parameters).
  void set_backend(BackendPtr backend);
  // The records of the last fit / predict / transform call.
  const Profile& profile() const { return profile_; }

  // Overwrites the fitted array `name` (one of fitted_array_names(), e.g. "coef") with a copy
  // of `values` (host f32, the array's shape); later calls use it. mlcore::Error if the model
  // is not fitted, the name is unknown, or the shape differs.
  void set_fitted_array(const std::string& name, const Tensor& values);
  // The names set_fitted_array accepts (empty for a model without public parameter arrays).
  std::vector<std::string> fitted_array_names();

 protected:
  // The model's public parameter arrays by name (as the accessors name them); empty before fit.
  virtual std::vector<std::pair<std::string, Tensor*>> fitted_arrays() { return {}; }
  // Called after set_fitted_array replaced an array: re-derive what the model caches from it.
  virtual void fitted_array_changed(const std::string& /*name*/) {}

  // Starts a call: clears profile() and records into it while the returned scope lives.
  //   ProfileScope scope = begin_call();
  ProfileScope begin_call() const;

 private:
  BackendPtr backend_;
  mutable Profile profile_;
};

}  // namespace mlcore
