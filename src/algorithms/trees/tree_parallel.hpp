// parallel_for_profiled: a parallel loop whose workers record into the caller's profile.
//
// ProfileScope is per thread (profile.hpp): the estimator's begin_call() installs its Profile
// on the calling thread only. A worker thread therefore installs a scope for the same Profile
// (Profile::add is thread-safe), unless it *is* the calling thread (the team's member 0, or a
// team of one), which already records there — installing a second scope would record every
// call twice.
//
// Backend primitives may be called from several threads at once on distinct tensors. The avx2
// backend's own parallel loops see that they are inside a team and run on the calling thread,
// so a forest's trees (one per thread) do not oversubscribe the cores.
#pragma once

#include <cstdint>
#include <optional>

#include "mlcore/parallel.hpp"
#include "mlcore/profile.hpp"

namespace mlcore::detail {

// The number of threads the tree learners use: mlcore::num_threads() (set_num_threads,
// MLCORE_NUM_THREADS / OMP_NUM_THREADS), or one inside another team.
inline int tree_threads() { return parallel::in_team() ? 1 : num_threads(); }

// Runs body(i, worker) for i in [0, count), handed out one at a time to up to `threads` threads;
// worker ∈ [0, threads) names the thread (for per-thread scratch). The first exception thrown
// by any body is rethrown on the calling thread once the others have stopped.
template <class Body>
void parallel_for_profiled(std::int64_t count, int threads, Body&& body) {
  if (count <= 0) return;
  Profile* parent = ProfileScope::current();
  parallel::run_team(static_cast<int>(std::min<std::int64_t>(std::max(threads, 1), count)),
                     [&](parallel::Team& team) {
                       std::optional<ProfileScope> scope;
                       if (parent != nullptr && ProfileScope::current() != parent) {
                         scope.emplace(*parent);
                       }
                       team.for_dynamic(count, [&](std::int64_t i) { body(i, team.id()); });
                     });
}

}  // namespace mlcore::detail
