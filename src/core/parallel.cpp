// The pool behind parallel.hpp. One team runs at a time: the pool holds kMaxWorkers-bounded
// worker threads that sleep between teams; run_team publishes a job (the body, the team size)
// under a new epoch, wakes the workers it needs, runs member 0 itself, and waits for the rest.
#include "mlcore/parallel.hpp"

#include <pthread.h>
#include <sched.h>

#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "mlcore/interrupt.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define MLCORE_CPU_RELAX() _mm_pause()
#else
#define MLCORE_CPU_RELAX() ((void)0)
#endif

namespace mlcore {

// ---- the default thread count ------------------------------------------------------------------
namespace {

int env_threads(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr) return 0;
  char* end = nullptr;
  const long n = std::strtol(v, &end, 10);  // "4" or OpenMP's "4,2" (the outer level)
  return (end != v && n > 0 && n < 4096) ? static_cast<int>(n) : 0;
}

int machine_threads() {
  for (const char* name : {"MLCORE_NUM_THREADS", "OMP_NUM_THREADS"}) {
    if (int n = env_threads(name); n > 0) return n;
  }
#ifdef __linux__
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
#endif
  return std::max(1u, std::thread::hardware_concurrency());
}

std::atomic<int> g_threads{0};

}  // namespace

int num_threads() {
  const int n = g_threads.load(std::memory_order_relaxed);
  if (n > 0) return n;
  static const int machine = machine_threads();
  return machine;
}

void set_num_threads(int n) { g_threads.store(std::max(n, 0), std::memory_order_relaxed); }

namespace parallel {

// ---- waiting: spin briefly, then sleep ----------------------------------------------------------
namespace {

// Waits until ready() holds. `mutex`/`cv` are what the notifier signals after making it hold
// (notify_under_lock below), so no wake-up is lost between our last check and our sleep.
template <class Ready>
void wait_until(Ready&& ready, std::mutex& mutex, std::condition_variable& cv) {
  const auto spin_end = std::chrono::steady_clock::now() + kSpinLimit;
  do {
    for (int i = 0; i < 64; ++i) {
      if (ready()) return;
      MLCORE_CPU_RELAX();
    }
  } while (std::chrono::steady_clock::now() < spin_end);
  std::unique_lock<std::mutex> lock(mutex);
  cv.wait(lock, ready);
}

// Wakes the sleepers of wait_until after the caller made their condition true. Taking the mutex
// orders the change before any sleeper's final check under it.
void notify_under_lock(std::mutex& mutex, std::condition_variable& cv) {
  {
    std::lock_guard<std::mutex> lock(mutex);
  }
  cv.notify_all();
}

// Unwinds a member whose team failed or was interrupted; never escapes run_team.
struct TeamAborted {};

thread_local int t_team_size = 1;  // size of the team this thread is a member of (1: none)

}  // namespace

bool in_team() { return t_team_size > 1; }

// ---- a team's shared state ----------------------------------------------------------------------
struct TeamState {
  int size = 1;
  std::atomic<int> arrived{0};
  std::atomic<std::uint32_t> generation{0};
  std::atomic<std::int64_t> next_item{0};  // the current for_dynamic loop's next item
  std::atomic<bool> failed{false};
  std::mutex mutex;
  std::condition_variable cv;
  std::mutex error_mutex;
  std::exception_ptr error;

  void fail(std::exception_ptr e) {
    {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::move(e);
    }
    failed.store(true, std::memory_order_release);
    notify_under_lock(mutex, cv);  // release the members waiting at a barrier
  }

  // The last member to arrive runs on_complete (while all others still wait), then releases them.
  template <class OnComplete>
  void barrier(OnComplete&& on_complete) {
    if (failed.load(std::memory_order_acquire)) throw TeamAborted{};
    check_interrupt();
    const std::uint32_t gen = generation.load(std::memory_order_acquire);
    if (arrived.fetch_add(1, std::memory_order_acq_rel) == size - 1) {
      on_complete();
      arrived.store(0, std::memory_order_relaxed);
      generation.store(gen + 1, std::memory_order_release);
      notify_under_lock(mutex, cv);
    } else {
      wait_until(
          [&] {
            return generation.load(std::memory_order_acquire) != gen ||
                   failed.load(std::memory_order_acquire);
          },
          mutex, cv);
    }
    if (failed.load(std::memory_order_acquire)) throw TeamAborted{};
  }
};

void Team::barrier() {
  if (size_ > 1) state_->barrier([] {});
}

std::int64_t Team::claim() {
  // An item boundary is a cancellation point: stop taking items once the team failed.
  if (state_->failed.load(std::memory_order_relaxed)) throw TeamAborted{};
  check_interrupt();
  return state_->next_item.fetch_add(1, std::memory_order_relaxed);
}

void Team::end_dynamic() {
  // Everyone has stopped claiming once all have arrived: the counter can start over.
  state_->barrier([this] { state_->next_item.store(0, std::memory_order_relaxed); });
}

void split_range(std::int64_t count, int parts, int part, std::int64_t* begin, std::int64_t* end) {
  const std::int64_t base = count / parts, extra = count % parts;
  *begin = part * base + std::min<std::int64_t>(part, extra);
  *end = *begin + base + (part < extra ? 1 : 0);
}

void Team::my_range(std::int64_t count, std::int64_t* begin, std::int64_t* end) const {
  split_range(count, size_, id_, begin, end);
}

// ---- the pool -----------------------------------------------------------------------------------
struct Pool {
  // A job: the body every member runs, published under a new epoch.
  struct Job {
    detail::MemberFn fn = nullptr;
    void* body = nullptr;
    int size = 1;               // a copy of team->size: non-members must not touch *team
    TeamState* team = nullptr;  // lives on the caller's stack until every member is done
    InterruptScope* interrupt = nullptr;
  };

  std::mutex team_mutex;  // held by the caller whose team runs; others run alone
  std::mutex mutex;       // guards job and epoch (written together, read together)
  std::condition_variable cv;
  std::atomic<std::uint64_t> epoch{0};
  Job job;
  std::atomic<int> pending{0};  // members 1.. still running the current job
  std::mutex done_mutex;
  std::condition_variable done_cv;
  int workers = 0;  // started so far (member ids 1..workers)

  static void run_member(const Job& job, int id) {
    TeamState& t = *job.team;
    InheritInterruptScope interrupt(job.interrupt);
    t_team_size = t.size;
    Team team(&t, id, t.size);
    try {
      check_interrupt();
      job.fn(job.body, team);
    } catch (const TeamAborted&) {
      // another member failed first; its exception is the one reported
    } catch (...) {
      t.fail(std::current_exception());
    }
    t_team_size = 1;
  }

  // `seen`: the epoch when the worker was created, so a job published before the thread got
  // to run is still new to it.
  void worker_main(int id, std::uint64_t seen) {
    for (;;) {
      wait_until([&] { return epoch.load(std::memory_order_acquire) != seen; }, mutex, cv);
      Job current;
      {
        std::lock_guard<std::mutex> lock(mutex);
        seen = epoch.load(std::memory_order_relaxed);
        current = job;
      }
      if (id < current.size) {
        run_member(current, id);
        if (pending.fetch_sub(1, std::memory_order_acq_rel) == 1) {
          notify_under_lock(done_mutex, done_cv);
        }
      }
    }
  }

  void ensure_workers(int count) {
    while (workers < count) {
      const int id = ++workers;
      // Detached: a worker lives as long as the process (or until a fork leaves it behind).
      const std::uint64_t now = epoch.load(std::memory_order_relaxed);
      std::thread([this, id, now] { worker_main(id, now); }).detach();
    }
  }

  void run(int threads, detail::MemberFn fn, void* body) {
    TeamState team;
    team.size = threads;
    ensure_workers(threads - 1);
    const Job mine{fn, body, threads, &team, InterruptScope::current()};
    pending.store(threads - 1, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lock(mutex);
      job = mine;
      epoch.fetch_add(1, std::memory_order_release);
    }
    cv.notify_all();

    run_member(mine, 0);
    wait_until([&] { return pending.load(std::memory_order_acquire) == 0; }, done_mutex, done_cv);
    if (team.error) std::rethrow_exception(team.error);
  }
};

namespace {

Pool* g_pool = nullptr;
std::once_flag g_pool_once;

// fork(): the child has only the forking thread, so the pool's workers are gone. prepare holds
// the team mutex so that no team is half-published at the fork; the child abandons the old pool
// (its detached threads' objects are leaked, never touched again) and starts a fresh one on
// first use. The parent just lets go.
void atfork_prepare() { g_pool->team_mutex.lock(); }
void atfork_parent() { g_pool->team_mutex.unlock(); }
void atfork_child() { g_pool = new Pool; }

Pool& pool() {
  std::call_once(g_pool_once, [] {
    g_pool = new Pool;  // never destroyed: workers may still sleep in it at exit
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
  });
  return *g_pool;
}

}  // namespace

namespace detail {

void run_team(int threads, MemberFn fn, void* body) {
  check_interrupt();
  if (threads > 1 && !in_team()) {
    Pool& p = pool();
    std::unique_lock<std::mutex> lock(p.team_mutex, std::try_to_lock);
    if (lock.owns_lock()) {
      p.run(threads, fn, body);
      return;
    }
  }
  Team team = Team::solo();
  fn(body, team);
}

}  // namespace detail
}  // namespace parallel
}  // namespace mlcore
