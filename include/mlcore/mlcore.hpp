// The whole public C++ API in one include.
#pragma once

#include "mlcore/backend.hpp"
#include "mlcore/backends.hpp"
#include "mlcore/config.hpp"
#include "mlcore/error.hpp"
#include "mlcore/estimator.hpp"
#include "mlcore/profile.hpp"
#include "mlcore/serialize.hpp"
#include "mlcore/tensor.hpp"
