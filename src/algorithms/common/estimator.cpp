#include "mlcore/estimator.hpp"

#include "mlcore/backends.hpp"

namespace mlcore {

BackendPtr default_backend() { return backend(default_backend_name()); }

Estimator::Estimator(const char* name, std::uint32_t model_version, BackendPtr backend)
    : name_(name), model_version_(model_version) {
  set_backend(std::move(backend));
}

void Estimator::require_fitted() const {
  MLCORE_CHECK(fitted_, name_ << " is not fitted yet; call fit() first");
}

void Estimator::save(std::ostream& out) const {
  SaveArchive archive(name_, model_version_);
  // visit() is one function for both directions, so it takes the model non-const; a
  // SaveArchive only reads the fields it is given.
  const_cast<Estimator*>(this)->visit(archive);
  archive.finish(out);
}

void Estimator::set_backend(BackendPtr backend) {
  MLCORE_CHECK(backend != nullptr, "an estimator needs a backend, got a null BackendPtr");
  backend_ = std::move(backend);
}

std::vector<std::string> Estimator::fitted_array_names() {
  std::vector<std::string> names;
  for (const auto& [name, array] : fitted_arrays()) names.push_back(name);
  return names;
}

void Estimator::set_fitted_array(const std::string& name, const Tensor& values) {
  const auto arrays = fitted_arrays();
  MLCORE_CHECK(!arrays.empty(), "set_fitted_array(\""
                                    << name
                                    << "\"): the model is not fitted (or has no parameter arrays)");
  for (const auto& [known, array] : arrays) {
    if (known != name) continue;
    MLCORE_CHECK(values.dtype() == DType::f32 && values.device() == Device::host,
                 "set_fitted_array(\"" << name << "\"): values must be a host f32 tensor");
    MLCORE_CHECK(values.rows() == array->rows() && values.cols() == array->cols(),
                 "set_fitted_array(\"" << name << "\"): the model's array is " << array->rows()
                                       << " × " << array->cols() << ", got " << values.rows()
                                       << " × " << values.cols());
    *array = values.clone();  // a fresh buffer: a copy saved elsewhere keeps the old values
    fitted_array_changed(name);
    return;
  }
  std::string list;
  for (const auto& [known, array] : arrays) list += (list.empty() ? "" : ", ") + known;
  MLCORE_CHECK(false,
               "set_fitted_array: unknown array \"" << name << "\"; this model has " << list);
}

ProfileScope Estimator::begin_call() const {
  profile_.clear();
  return ProfileScope(profile_);
}

}  // namespace mlcore
