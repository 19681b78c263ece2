// parallel_for_profiled: an OpenMP loop whose workers record into the caller's profile.
//
// ProfileScope is per thread (profile.hpp): the estimator's begin_call() installs its Profile
// on the calling thread only. A worker thread therefore installs a scope for the same Profile
// (Profile::add is thread-safe), unless it *is* the calling thread (OpenMP's thread 0, or any
// thread of an inactive nested region), which already records there — installing a second scope
// would record every call twice.
//
// Backend primitives may be called from several threads at once on distinct tensors. The avx2
// backend's own OpenMP loops see that they are inside a parallel region and run on the calling
// thread, so a forest's trees (one per thread) do not oversubscribe the cores.
#pragma once

#include <omp.h>

#include <cstdint>
#include <exception>
#include <mutex>
#include <optional>

#include "mlcore/profile.hpp"

namespace mlcore::detail {

// The number of threads the tree learners use: OpenMP's (OMP_NUM_THREADS, threadpoolctl).
inline int tree_threads() { return omp_in_parallel() ? 1 : omp_get_max_threads(); }

// Runs body(i) for i in [0, count) with dynamic scheduling on up to `threads` threads. The first
// exception thrown by any body is rethrown on the calling thread after the loop.
template <class Body>
void parallel_for_profiled(std::int64_t count, int threads, Body&& body) {
  if (count <= 0) return;
  if (threads <= 1 || count == 1 || omp_in_parallel()) {
    for (std::int64_t i = 0; i < count; ++i) body(i);
    return;
  }
  Profile* parent = ProfileScope::current();
  std::exception_ptr error;
  std::mutex error_mutex;
  const int t = static_cast<int>(std::min<std::int64_t>(threads, count));
#pragma omp parallel num_threads(t)
  {
    std::optional<ProfileScope> scope;
    if (parent != nullptr && ProfileScope::current() != parent) scope.emplace(*parent);
#pragma omp for schedule(dynamic, 1)
    for (std::int64_t i = 0; i < count; ++i) {
      try {
        {
          std::lock_guard<std::mutex> lock(error_mutex);
          if (error) continue;
        }
        body(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
      }
    }
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace mlcore::detail
