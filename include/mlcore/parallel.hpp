// The threading layer: one pool of worker threads for every parallel loop in mlcore.
//
// Why not OpenMP (which this library used before): GNU OpenMP's worker threads do not survive
// fork(), so a child process forked after the parent used mlcore (multiprocessing's default on
// Linux) hung in its first parallel call; its idle and barrier waits spin for a long time, so on
// a machine where another process holds a core, a team whose member was descheduled burned the
// remaining core at every barrier (k-means fits took ~90× longer with one of two cores busy);
// and an OpenMP region cannot be left early when the user presses Ctrl-C.
//
// This pool:
//   * waits passively: a waiting thread spins for at most kSpinLimit (a barrier normally
//     completes within that), then sleeps on a condition variable, giving its core to whoever
//     is late;
//   * survives fork: an atfork handler gives the child a fresh, empty pool (its threads are
//     started again on first use);
//   * stops early: check_interrupt() runs at each team's start and at each barrier, and a member
//     that throws releases the others from their barriers; the first exception is rethrown on
//     the calling thread;
//   * runs nested work inline: inside a team, a second run_team is a team of one (the caller's
//     cores are already busy), as OpenMP's inactive nested regions did.
//
// The thread count of a call is the caller's (a backend's num_threads); 0 means num_threads(),
// the process default.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <utility>

namespace mlcore {

// The number of threads a call uses when it was not given one: set_num_threads(n) if called
// with n > 0, else MLCORE_NUM_THREADS or OMP_NUM_THREADS from the environment, else the number
// of CPUs this process may run on (its affinity mask, which containers and taskset narrow).
int num_threads();
void set_num_threads(int n);  // 0: back to the default above

namespace parallel {

// How long a waiting thread spins before it sleeps. A barrier between two equal halves of a
// kernel completes within a few µs when both threads run; 20 µs covers that with a margin, and
// it is short against a scheduler time slice (~3 ms), so a descheduled member costs the others
// at most 20 µs of a core each before they sleep and give it back.
constexpr std::chrono::microseconds kSpinLimit{20};

struct TeamState;  // parallel.cpp

// What a member of a team sees: its id in [0, size), the team's size, and the team's barrier and
// dynamic loop. A Team of one (solo) is a plain serial context: barriers and loops run inline.
class Team {
 public:
  static Team solo() { return Team(nullptr, 0, 1); }
  int id() const { return id_; }
  int size() const { return size_; }

  // Every member waits here until all have arrived. Throws (ending this member's body) when
  // another member failed or the call was interrupted.
  void barrier();

  // body(i) for i in [0, count), items handed out one at a time to whichever member asks next
  // (a member slowed by another process takes fewer); ends with a barrier, like OpenMP's
  // `omp for schedule(dynamic, 1)`. Every member must call it, with the same count.
  template <class Body>
  void for_dynamic(std::int64_t count, Body&& body) {
    if (size_ == 1) {
      for (std::int64_t i = 0; i < count; ++i) body(i);
      return;
    }
    for (std::int64_t i = claim(); i < count; i = claim()) body(i);
    end_dynamic();
  }

  // [begin, end) of this member's share when `count` items are split into size() near-equal
  // contiguous ranges.
  void my_range(std::int64_t count, std::int64_t* begin, std::int64_t* end) const;

 private:
  friend struct TeamState;
  friend struct Pool;
  Team(TeamState* state, int id, int size) : state_(state), id_(id), size_(size) {}
  std::int64_t claim();
  void end_dynamic();
  TeamState* state_;
  int id_;
  int size_;
};

// True on a thread that is running a member of a team of two or more.
bool in_team();

namespace detail {
using MemberFn = void (*)(void* body, Team& team);
void run_team(int threads, MemberFn fn, void* body);
}  // namespace detail

// Runs body(team) on `threads` threads at once (the calling thread is member 0) and returns when
// all are done. Fewer run when threads ≤ 1, when called inside a team, or when the pool is busy
// with another caller's team: the body must accept any team size.
template <class Body>
void run_team(int threads, Body&& body) {
  using B = std::remove_reference_t<Body>;
  detail::run_team(
      threads, [](void* b, Team& team) { (*static_cast<B*>(b))(team); },
      const_cast<void*>(static_cast<const void*>(&body)));
}

// [begin, end) of part `part` when `count` items are split into `parts` near-equal ranges.
// (Out of line on purpose: this header is included by files compiled with AVX2 / AVX-512
// flags, and the linker keeps one copy of an inline function; a copy compiled for AVX-512
// must never be the one a baseline caller runs.)
void split_range(std::int64_t count, int parts, int part, std::int64_t* begin, std::int64_t* end);

// body(part, begin, end) over `count` items split into up to `threads` contiguous ranges, one
// per member (static: the same split every time, so per-part partial results combine in a
// fixed order and the result does not depend on timing).
template <class Body>
void for_ranges(std::int64_t count, int threads, Body&& body) {
  if (count <= 0) return;
  const int t = static_cast<int>(std::min<std::int64_t>(std::max(threads, 1), count));
  if (t == 1 || in_team()) {
    body(0, std::int64_t{0}, count);
    return;
  }
  run_team(t, [&](Team& team) {
    std::int64_t begin, end;
    split_range(count, team.size(), team.id(), &begin, &end);
    body(team.id(), begin, end);
  });
}

// body(i) for i in [0, count), split as for_ranges does: for loops of equal-cost iterations.
template <class Body>
void for_each_static(std::int64_t count, int threads, Body&& body) {
  for_ranges(count, threads, [&](int, std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) body(i);
  });
}

// body(i) for i in [0, count), handed out one at a time over up to `threads` threads.
template <class Body>
void for_each(std::int64_t count, int threads, Body&& body) {
  if (count <= 0) return;
  const int t = static_cast<int>(std::min<std::int64_t>(std::max(threads, 1), count));
  if (t == 1 || in_team()) {
    for (std::int64_t i = 0; i < count; ++i) body(i);
    return;
  }
  run_team(t, [&](Team& team) { team.for_dynamic(count, body); });
}

}  // namespace parallel
}  // namespace mlcore
