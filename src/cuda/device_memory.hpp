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
// rewind() lets a loop that repeats the same call (a benchmark) reuse them: after it, the
// allocations of the next call get the same blocks back, in order, with no allocator call at
// all — so nothing is allocated inside a timed window and memory does not grow per iteration.
// Only rewind when the stream has finished with the blocks.
class Workspace {
 public:
  template <class T>
  T* alloc(std::size_t count) {
    const std::size_t bytes = count * sizeof(T);
    if (next_ < blocks_.size() && sizes_[next_] >= bytes) {
      return static_cast<T*>(blocks_[next_++].get());
    }
    if (next_ < blocks_.size()) {  // the call changed shape: the old block is too small
      blocks_[next_] = device_allocate(bytes);
      sizes_[next_] = bytes;
    } else {
      blocks_.push_back(device_allocate(bytes));
      sizes_.push_back(bytes);
    }
    return static_cast<T*>(blocks_[next_++].get());
  }

  void rewind() { next_ = 0; }

 private:
  std::vector<std::shared_ptr<void>> blocks_;
  std::vector<std::size_t> sizes_;
  std::size_t next_ = 0;  // blocks_[0..next_) are handed out
};

}  // namespace mlcore::cuda
