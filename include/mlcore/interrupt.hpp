// Interrupting a long call: Ctrl-C in a terminal, "interrupt kernel" in Jupyter.
//
// A front end (the Python bindings, or a C++ program with its own signal handling) installs an
// InterruptScope on the thread that makes a call, with a poll that answers "did the user ask to
// stop?". The library calls check_interrupt() at block and iteration boundaries — every
// primitive call, every parallel team's start and barrier, the GEMM's cache blocks, the solvers'
// iterations — and it throws mlcore::Interrupted once the poll said yes. The threads of a
// parallel team see the caller's scope too, so all of them stop at their next boundary.
//
// The poll runs only on the thread that installed the scope, at most every kPollPeriod (it may
// take a lock, e.g. Python's GIL); the other threads only read a flag. Without a scope,
// check_interrupt() costs one thread-local load.
#pragma once

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

namespace mlcore {

// The call was stopped on the user's request. Not a caller mistake (mlcore::Error) nor a
// hardware failure (mlcore::DeviceError); Python sees KeyboardInterrupt.
class Interrupted : public std::runtime_error {
 public:
  Interrupted() : std::runtime_error("interrupted") {}
};

class InterruptScope {
 public:
  // Returns true when the user asked to stop. Called on the installing thread only.
  using Poll = bool (*)(void* context);
  // How often the poll runs at most: well under a second from a request to the stop, and rare
  // enough that a poll that takes a lock costs nothing measurable.
  static constexpr std::chrono::milliseconds kPollPeriod{50};

  InterruptScope(Poll poll, void* context);
  ~InterruptScope();
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;

  // Asks the call to stop (from any thread): the next check_interrupt() throws.
  void request() { requested_.store(true, std::memory_order_relaxed); }
  bool requested() const { return requested_.load(std::memory_order_relaxed); }

  // The scope of the call running on this thread (installed here or inherited by a team worker).
  static InterruptScope* current();

 private:
  friend void check_interrupt();
  friend class InheritInterruptScope;
  Poll poll_;
  void* context_;
  std::thread::id owner_;
  std::chrono::steady_clock::time_point next_poll_;
  std::atomic<bool> requested_{false};
  InterruptScope* previous_;
};

// Throws Interrupted if the running call was asked to stop. Cheap: call it at every boundary.
void check_interrupt();

// A worker thread adopts the caller's scope while it runs the caller's work (parallel.cpp).
class InheritInterruptScope {
 public:
  explicit InheritInterruptScope(InterruptScope* scope);
  ~InheritInterruptScope();
  InheritInterruptScope(const InheritInterruptScope&) = delete;
  InheritInterruptScope& operator=(const InheritInterruptScope&) = delete;

 private:
  InterruptScope* previous_;
};

}  // namespace mlcore
