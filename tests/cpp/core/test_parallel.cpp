// The threading layer (include/mlcore/parallel.hpp) and interrupts (include/mlcore/interrupt.hpp):
// barriers order phases, dynamic loops hand out every item exactly once, a failing member stops
// the team without a hang, nested work runs inline, an interrupt reaches every member and every
// backend, and a forked child can still run parallel work.
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "mlcore/interrupt.hpp"
#include "mlcore/parallel.hpp"
#include "test_util.hpp"

namespace mlcore::test {
namespace {

TEST(Parallel, BarrierSeparatesPhases) {
  // Each member writes its slot in phase p, then after the barrier reads all slots of phase p:
  // without a working barrier some member would read a slot not yet written.
  for (int threads : {1, 2, 3, 5}) {
    constexpr int kPhases = 200;
    std::vector<std::atomic<int>> slot(threads);
    std::atomic<int> wrong{0}, members{0};
    parallel::run_team(threads, [&](parallel::Team& team) {
      members.fetch_add(1);
      for (int p = 1; p <= kPhases; ++p) {
        slot[team.id()].store(p);
        team.barrier();
        for (int t = 0; t < team.size(); ++t) {
          if (slot[t].load() < p) wrong.fetch_add(1);
        }
        team.barrier();
      }
    });
    EXPECT_EQ(wrong.load(), 0) << threads << " threads";
    EXPECT_GE(members.load(), 1);
    EXPECT_LE(members.load(), threads);
  }
}

TEST(Parallel, DynamicLoopsHandOutEveryItemOnce) {
  // Several loops in a row with different counts (the counter is reset between them), on odd
  // team sizes and counts of 0, 1, primes and more items than threads.
  for (int threads : {1, 2, 3, 4}) {
    const std::vector<std::int64_t> counts = {0, 1, 7, 1000, 13, 2};
    std::vector<std::vector<std::atomic<int>>> seen;
    for (std::int64_t c : counts) seen.emplace_back(static_cast<std::size_t>(c));
    parallel::run_team(threads, [&](parallel::Team& team) {
      for (std::size_t l = 0; l < counts.size(); ++l) {
        team.for_dynamic(counts[l], [&](std::int64_t i) { seen[l][i].fetch_add(1); });
      }
    });
    for (std::size_t l = 0; l < counts.size(); ++l) {
      for (std::int64_t i = 0; i < counts[l]; ++i) {
        EXPECT_EQ(seen[l][i].load(), 1) << "loop " << l << " item " << i << ", " << threads;
      }
    }
  }
}

TEST(Parallel, RangesCoverTheItemsInOrder) {
  for (std::int64_t count : {1, 2, 17, 1000}) {
    for (int threads : {1, 2, 3, 64}) {
      std::vector<int> hits(count, 0);
      std::atomic<int> parts{0};
      parallel::for_ranges(count, threads, [&](int, std::int64_t b, std::int64_t e) {
        parts.fetch_add(1);
        for (std::int64_t i = b; i < e; ++i) ++hits[i];
      });
      for (std::int64_t i = 0; i < count; ++i) ASSERT_EQ(hits[i], 1) << count << "/" << threads;
      EXPECT_LE(parts.load(), std::min<std::int64_t>(threads, count));
    }
  }
}

TEST(Parallel, AFailingMemberStopsTheTeamAndItsErrorIsRethrown) {
  // Member 1 throws before the barrier the others wait at: they must be released, not hang.
  for (int round = 0; round < 20; ++round) {
    std::atomic<int> passed{0};
    EXPECT_THROW(parallel::run_team(3,
                                    [&](parallel::Team& team) {
                                      if (team.id() == team.size() - 1 && team.size() > 1) {
                                        throw std::runtime_error("member failed");
                                      }
                                      if (team.size() == 1) throw std::runtime_error("alone");
                                      team.barrier();
                                      passed.fetch_add(1);
                                    }),
                 std::runtime_error);
    EXPECT_EQ(passed.load(), 0);
  }
  // The pool is usable afterwards.
  std::atomic<int> ran{0};
  parallel::for_each(8, 2, [&](std::int64_t) { ran.fetch_add(1); });
  EXPECT_EQ(ran.load(), 8);
}

TEST(Parallel, NestedWorkRunsInlineInsideATeam) {
  std::atomic<int> nested_sizes_above_one{0}, nested_items{0};
  parallel::run_team(2, [&](parallel::Team& team) {
    EXPECT_EQ(parallel::in_team(), team.size() > 1);
    parallel::run_team(4, [&](parallel::Team& inner) {
      if (inner.size() > 1 && parallel::in_team()) nested_sizes_above_one.fetch_add(1);
    });
    parallel::for_each(5, 4, [&](std::int64_t) { nested_items.fetch_add(1); });
  });
  EXPECT_EQ(nested_sizes_above_one.load(), 0);
  EXPECT_GE(nested_items.load(), 5);  // 5 per member that ran
  EXPECT_FALSE(parallel::in_team());
}

TEST(Parallel, NumThreadsFollowsSetNumThreads) {
  set_num_threads(3);
  EXPECT_EQ(num_threads(), 3);
  set_num_threads(0);
  EXPECT_GE(num_threads(), 1);
}

// A poll that says "stop" after `after` calls, counting them.
struct CountingPoll {
  int calls = 0;
  int after = 0;
  static bool poll(void* self) {
    auto* p = static_cast<CountingPoll*>(self);
    return ++p->calls > p->after;
  }
};

TEST(Interrupt, NoScopeNoInterrupt) { EXPECT_NO_THROW(check_interrupt()); }

TEST(Interrupt, ARequestReachesEveryMemberAndStopsTheTeam) {
  CountingPoll never{0, 1 << 30};
  InterruptScope scope(&CountingPoll::poll, &never);
  std::atomic<std::int64_t> done{0};
  std::thread requester([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    scope.request();
  });
  const auto start = std::chrono::steady_clock::now();
  // Would take ~100 s without the interrupt: 100 000 items of 1 ms.
  EXPECT_THROW(parallel::for_each(100000, 2,
                                  [&](std::int64_t) {
                                    std::this_thread::sleep_for(std::chrono::milliseconds(1));
                                    done.fetch_add(1);
                                  }),
               Interrupted);
  requester.join();
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(secs, 5.0);
  EXPECT_LT(done.load(), 100000);
}

class InterruptOnBackend : public BackendTest {};

TEST_P(InterruptOnBackend, ThePollStopsAPrimitiveCall) {
  const std::string& name = GetParam();
  CountingPoll stop_now{0, 0};
  InterruptScope scope(&CountingPoll::poll, &stop_now);
  BackendPtr b = backend(name);
  std::mt19937 rng(1);
  Tensor A = b->to_device(random_tensor(8, 4, rng)), B = b->to_device(random_tensor(4, 8, rng));
  Tensor C = b->empty(8, 8);
  // The first poll runs once kPollPeriod has passed since the scope began.
  std::this_thread::sleep_for(InterruptScope::kPollPeriod + std::chrono::milliseconds(5));
  EXPECT_THROW(b->gemm(Trans::no, Trans::no, 1.0f, A, B, 0.0f, C), Interrupted) << name;
  EXPECT_TRUE(scope.requested()) << name;
  EXPECT_EQ(stop_now.calls, 1) << name;
}

INSTANTIATE_TEST_SUITE_P(AllBackends, InterruptOnBackend, ::testing::ValuesIn(all_backends()),
                         backend_param_name);

TEST(Interrupt, ThePollRunsOnlyOnTheCallingThreadAndAtMostEveryPeriod) {
  CountingPoll never{0, 1 << 30};
  InterruptScope scope(&CountingPoll::poll, &never);
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(220)) {
    check_interrupt();
    parallel::for_each(64, 2, [](std::int64_t) { check_interrupt(); });
  }
  // 220 ms / 50 ms: at most 4 polls (+1 for timing slack), however many checks were made.
  EXPECT_LE(never.calls, 5);
  EXPECT_GE(never.calls, 3);
}

TEST(Parallel, AForkedChildCanRunParallelWork) {
  // Start the pool's workers in the parent, then fork: the child's first team must not wait
  // for workers that do not exist in it.
  std::atomic<int> warm{0};
  parallel::for_each(16, 2, [&](std::int64_t) { warm.fetch_add(1); });
  ASSERT_EQ(warm.load(), 16);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::atomic<int> ran{0};
    parallel::run_team(2, [&](parallel::Team& team) {
      team.barrier();
      team.for_dynamic(100, [&](std::int64_t) { ran.fetch_add(1); });
    });
    _exit(ran.load() == 100 ? 0 : 1);
  }
  int status = 0;
  pid_t done = 0;
  for (int i = 0; i < 200 && done == 0; ++i) {  // ≤ 10 s
    done = waitpid(pid, &status, WNOHANG);
    if (done == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (done == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    FAIL() << "the forked child hung in its first parallel call";
  }
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace mlcore::test
