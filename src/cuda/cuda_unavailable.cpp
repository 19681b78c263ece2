// Compiled instead of the CUDA backend when mlcore is built without a CUDA compiler (or with
// MLCORE_ENABLE_CUDA=OFF). The registry still knows the name "cuda"; asking for it says why it
// is missing instead of failing to link or pretending to work.
#include "mlcore/backends.hpp"

namespace mlcore {

std::string cuda_unavailable_reason() {
  return "mlcore was built without CUDA (no CUDA compiler was found at configure time, or "
         "MLCORE_ENABLE_CUDA=OFF)";
}

BackendPtr make_cuda_backend(int) {
  throw DeviceError("backend 'cuda' is not available: " + cuda_unavailable_reason());
}

BackendPtr make_cuda_backend(int, const CudaOptions&) {
  throw DeviceError("backend 'cuda' is not available: " + cuda_unavailable_reason());
}

CudaDeviceInfo cuda_device_info(int) {
  throw DeviceError("no CUDA device information: " + cuda_unavailable_reason());
}

}  // namespace mlcore
