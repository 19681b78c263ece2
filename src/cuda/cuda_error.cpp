#include <string>

#include "cuda_check.hpp"

namespace mlcore::cuda {

namespace {

// "/work/main/src/cuda/sgemm.cu" → "src/cuda/sgemm.cu": short, and still findable.
std::string short_path(const char* file) {
  const std::string path(file);
  for (const char* root : {"/src/", "/tests/", "/bench/"}) {
    const auto pos = path.rfind(root);
    if (pos != std::string::npos) return path.substr(pos + 1);
  }
  return path;
}

bool is_sticky(cudaError_t error) {
  // Errors after which the context cannot be used again (CUDA documents these as sticky).
  switch (error) {
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchFailure:
    case cudaErrorHardwareStackError:
    case cudaErrorIllegalInstruction:
    case cudaErrorMisalignedAddress:
    case cudaErrorInvalidAddressSpace:
    case cudaErrorInvalidPc:
    case cudaErrorAssert:
    case cudaErrorLaunchTimeout:
      return true;
    default:
      return false;
  }
}

}  // namespace

void throw_cuda_error(cudaError_t error, const char* what, const char* file, int line) {
  (void)cudaGetLastError();  // reset the last-error slot (a no-op for sticky errors)
  std::string message = short_path(file) + ":" + std::to_string(line) + ": " + what +
                        " failed: " + cudaGetErrorName(error) + ": " + cudaGetErrorString(error);
  if (error == cudaErrorMemoryAllocation) message += " (the GPU is out of memory)";
  if (is_sticky(error)) {
    message += " (this error leaves the CUDA context unusable: restart the process)";
  }
  throw DeviceError(message);
}

}  // namespace mlcore::cuda
