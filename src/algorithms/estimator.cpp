#include "mlcore/estimator.hpp"

#include "mlcore/backends.hpp"

namespace mlcore {

BackendPtr default_backend() { return backend(default_backend_name()); }

Estimator::Estimator(BackendPtr backend) { set_backend(std::move(backend)); }

void Estimator::set_backend(BackendPtr backend) {
  MLCORE_CHECK(backend != nullptr, "an estimator needs a backend, got a null BackendPtr");
  backend_ = std::move(backend);
}

ProfileScope Estimator::begin_call() const {
  profile_.clear();
  return ProfileScope(profile_);
}

}  // namespace mlcore
