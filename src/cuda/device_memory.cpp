#include "device_memory.hpp"

#include <cuda_runtime_api.h>

#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "cuda_check.hpp"

namespace mlcore::cuda {

namespace {

// Small blocks round up to 512 B, large ones to 2 MiB (the GPU's large-page size), so a loop
// that allocates slightly different sizes still hits the cache while waste stays bounded.
std::size_t round_size(std::size_t bytes) {
  constexpr std::size_t kSmall = 512, kLarge = std::size_t(2) << 20;
  const std::size_t unit = bytes <= kLarge ? kSmall : kLarge;
  return (bytes + unit - 1) / unit * unit;
}

class CachingAllocator {
 public:
  std::shared_ptr<void> allocate(std::size_t bytes) {
    if (bytes == 0) return nullptr;
    int device = 0;
    MLCORE_CUDA_CHECK(cudaGetDevice(&device));
    const std::size_t size = round_size(bytes);
    void* ptr = take_cached(device, size);
    if (ptr == nullptr) ptr = malloc_or_throw(device, size, bytes);
    return std::shared_ptr<void>(ptr,
                                 [this, device, size](void* p) { give_back(device, size, p); });
  }

  std::size_t release_all() {
    std::lock_guard<std::mutex> lock(mutex_);
    return release_locked(-1);
  }

  std::size_t cached() {
    std::lock_guard<std::mutex> lock(mutex_);
    return cached_bytes_;
  }

 private:
  using Key = std::pair<int, std::size_t>;  // (device, rounded size)

  void* take_cached(int device, std::size_t size) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = free_.find({device, size});
    if (it == free_.end() || it->second.empty()) return nullptr;
    void* p = it->second.back();
    it->second.pop_back();
    cached_bytes_ -= size;
    return p;
  }

  void* malloc_or_throw(int device, std::size_t size, std::size_t requested) {
    void* p = nullptr;
    cudaError_t err = cudaMalloc(&p, size);
    if (err == cudaErrorMemoryAllocation) {
      (void)cudaGetLastError();
      {
        std::lock_guard<std::mutex> lock(mutex_);
        release_locked(device);
      }
      err = cudaMalloc(&p, size);
    }
    if (err != cudaSuccess) {
      std::size_t free_bytes = 0, total_bytes = 0;
      (void)cudaGetLastError();
      (void)cudaMemGetInfo(&free_bytes, &total_bytes);
      const std::string what = "cudaMalloc of " + std::to_string(requested) + " bytes on device " +
                               std::to_string(device) + " (" + std::to_string(free_bytes) + " of " +
                               std::to_string(total_bytes) + " bytes free)";
      throw_cuda_error(err, what.c_str(), __FILE__, __LINE__);
    }
    return p;
  }

  // The deleter: never throws (it runs in destructors, possibly during stack unwinding).
  void give_back(int device, std::size_t size, void* p) noexcept {
    try {
      std::lock_guard<std::mutex> lock(mutex_);
      free_[{device, size}].push_back(p);
      cached_bytes_ += size;
    } catch (...) {
      (void)cudaFree(p);  // could not cache it (no memory for the list): free it instead
    }
  }

  // Frees the cached blocks of `device` (every device when -1). Caller holds the mutex.
  std::size_t release_locked(int device) {
    std::size_t released = 0;
    int current = 0;
    (void)cudaGetDevice(&current);
    for (auto& [key, blocks] : free_) {
      if (device >= 0 && key.first != device) continue;
      if (!blocks.empty()) (void)cudaSetDevice(key.first);
      for (void* p : blocks) (void)cudaFree(p);
      released += key.second * blocks.size();
      blocks.clear();
    }
    (void)cudaSetDevice(current);
    (void)cudaGetLastError();
    cached_bytes_ -= released;
    return released;
  }

  std::mutex mutex_;
  std::map<Key, std::vector<void*>> free_;
  std::size_t cached_bytes_ = 0;
};

// Deliberately never destroyed: tensors held by static objects may be freed after main()
// returns, and their deleters must still find the allocator (the OS reclaims the memory).
CachingAllocator& allocator() {
  static CachingAllocator* instance = new CachingAllocator();
  return *instance;
}

}  // namespace

std::shared_ptr<void> device_allocate(std::size_t bytes) { return allocator().allocate(bytes); }

std::size_t release_cached_memory() { return allocator().release_all(); }

std::size_t cached_bytes() { return allocator().cached(); }

}  // namespace mlcore::cuda
