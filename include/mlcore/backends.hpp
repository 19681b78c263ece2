// Factories for configured backend instances.
//
// mlcore::backend("avx2") (backend.hpp) returns a shared default instance; these functions
// build a new instance with explicit settings. Each throws mlcore::DeviceError, naming the
// reason, when the backend cannot run here.
#pragma once

#include <string>

#include "mlcore/backend.hpp"

namespace mlcore {

// Plain loops on one core: the reference every other backend is tested against.
BackendPtr make_scalar_backend();

// AVX2 + FMA kernels on `num_threads` threads (0: one per core).
BackendPtr make_avx2_backend(int num_threads = 0);
// True when this CPU and OS support AVX2 and FMA (checked with CPUID at run time, so a build
// for the baseline x86-64 never executes an AVX2 instruction on a CPU without it).
bool cpu_supports_avx2();

// The CUDA GPU `device_index`. Throws DeviceError when mlcore was built without CUDA or no
// device is present.
BackendPtr make_cuda_backend(int device_index = 0);
// Empty when the CUDA backend can run here; otherwise the reason it cannot.
std::string cuda_unavailable_reason();

}  // namespace mlcore
