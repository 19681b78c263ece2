// Every CUDA runtime call in mlcore goes through MLCORE_CUDA_CHECK: a failure becomes an
// mlcore::DeviceError (RuntimeError in Python) naming the call, the file and line, and the CUDA
// error text. Library code never calls exit() or abort() (STYLE.md 12): in a Jupyter notebook
// that would kill the user's kernel along with the GPU context.
//
//   MLCORE_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream));
//   my_kernel<<<grid, block, 0, stream>>>(...);
//   MLCORE_CUDA_CHECK_LAUNCH();   // a bad launch configuration is reported here; a fault while
//                                 // the kernel runs is reported at the next synchronisation
#pragma once

#include <cuda_runtime_api.h>

#include "mlcore/error.hpp"

namespace mlcore::cuda {

// Throws DeviceError "<file>:<line>: <what> failed: <cudaErrorName>: <text>". Clears CUDA's
// last-error slot first, so a recoverable error (out of memory, a bad argument) does not
// resurface at an unrelated later check. Sticky errors (an illegal address inside a kernel)
// leave the context unusable; the message says so.
[[noreturn]] void throw_cuda_error(cudaError_t error, const char* what, const char* file, int line);

}  // namespace mlcore::cuda

#define MLCORE_CUDA_CHECK(expr)                                                        \
  do {                                                                                 \
    const cudaError_t mlcore_cuda_error_ = (expr);                                     \
    if (mlcore_cuda_error_ != cudaSuccess) {                                           \
      ::mlcore::cuda::throw_cuda_error(mlcore_cuda_error_, #expr, __FILE__, __LINE__); \
    }                                                                                  \
  } while (0)

#define MLCORE_CUDA_CHECK_LAUNCH() MLCORE_CUDA_CHECK(cudaGetLastError())
