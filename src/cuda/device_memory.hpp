// Device memory for the cuda backend: a small caching allocator and per-call workspaces.
//
// cudaMalloc and cudaFree are slow (cudaFree also waits for the whole device), and ML loops
// allocate the same shapes again and again, so freed blocks are kept in per-device free lists
// keyed by their rounded size and handed out again. When cudaMalloc runs out of memory the
// cache is emptied and the allocation retried once; if it still fails, DeviceError says how much
// was asked for and how much the device has free.
//
// Ordering rule that makes reuse safe without events: every cuda backend call synchronises its
// stream before returning, so a block is never returned to the cache while a kernel still uses
// it (see CudaBackend::Call).
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

namespace mlcore::cuda {

// `bytes` of memory on the current device, 256-byte aligned; freed (back into the cache) when
// the last copy of the returned pointer goes. Zero bytes give a null pointer. Throws
// DeviceError when the device is out of memory.
std::shared_ptr<void> device_allocate(std::size_t bytes);

// Frees every cached (unused) block of every device; returns the bytes released.
std::size_t release_cached_memory();
// Bytes currently held in the free lists (not in use).
std::size_t cached_bytes();

// Temporary device buffers for one primitive call; all freed when the Workspace goes.
class Workspace {
 public:
  template <class T>
  T* alloc(std::size_t count) {
    blocks_.push_back(device_allocate(count * sizeof(T)));
    return static_cast<T*>(blocks_.back().get());
  }

 private:
  std::vector<std::shared_ptr<void>> blocks_;
};

}  // namespace mlcore::cuda
