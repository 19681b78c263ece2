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
//     predict, before fit throws mlcore::Error ("KMeans is not fitted yet; call fit() first"):
//     require_fitted().
//   * The model's fields are listed once, in visit(Archive&) (serialize.hpp): options first,
//     then Archive::fitted, then the fitted state. save(std::ostream&) (here) and the static
//     load(std::istream&, BackendPtr) (load_model here) both run it. Every model saves before
//     fit too, and loads back unfitted with the same options.
//   * The fitted parameter arrays are the model: set_fitted_array("coef", values) overwrites
//     one (scikit-learn lets a user edit coef_ and predict with the edit), and whatever the
//     model derives from it is derived again.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

#include "mlcore/backend.hpp"
#include "mlcore/profile.hpp"
#include "mlcore/serialize.hpp"

namespace mlcore {

// The backend estimators use when none is given: backend(default_backend_name()), the fastest
// f32 CPU backend this machine runs.
BackendPtr default_backend();

class Estimator {
 public:
  // `name`: the estimator's name ("KMeans"), for messages and as the model type of its files;
  // `model_version`: the version of the field list in its visit(), bumped whenever it changes.
  Estimator(const char* name, std::uint32_t model_version, BackendPtr backend);
  virtual ~Estimator() = default;

  const char* name() const { return name_; }
  bool fitted() const { return fitted_; }

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

  // Writes the model (serialize.hpp's format): its options, and its fitted state if fitted.
  void save(std::ostream& out) const;

 protected:
  // Throws mlcore::Error "<name> is not fitted yet; call fit() first" unless fitted().
  void require_fitted() const;

  // The model's fields, once, for both directions (serialize.hpp, Archive).
  virtual void visit(Archive& a) = 0;

  // What each model's static load() returns: Model(options, backend) with the file's options
  // and fitted state. Once the visit has read the options, the model is constructed afresh from
  // them, so the constructor checks (and normalizes) them before any fitted field is read.
  template <class Model>
  static Model load_model(std::istream& in, BackendPtr backend) {
    Model model({}, backend);
    Estimator& base = model;
    LoadArchive archive(in, base.name_, base.model_version_,
                        [&] { model = Model(model.options(), backend); });
    base.visit(archive);
    archive.finish();
    return model;
  }

  bool fitted_ = false;  // set by fit (and by loading a fitted model)

  // The model's public parameter arrays by name (as the accessors name them); empty before fit.
  virtual std::vector<std::pair<std::string, Tensor*>> fitted_arrays() { return {}; }
  // Called after set_fitted_array replaced an array: re-derive what the model caches from it.
  virtual void fitted_array_changed(const std::string& /*name*/) {}

  // Starts a call: clears profile() and records into it while the returned scope lives.
  //   ProfileScope scope = begin_call();
  ProfileScope begin_call() const;

 private:
  const char* name_;
  std::uint32_t model_version_;
  BackendPtr backend_;
  mutable Profile profile_;
};

}  // namespace mlcore
