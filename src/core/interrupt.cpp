#include "mlcore/interrupt.hpp"

namespace mlcore {

namespace {
thread_local InterruptScope* t_current = nullptr;
}  // namespace

InterruptScope::InterruptScope(Poll poll, void* context)
    : poll_(poll),
      context_(context),
      owner_(std::this_thread::get_id()),
      next_poll_(std::chrono::steady_clock::now() + kPollPeriod),
      previous_(t_current) {
  t_current = this;
}

InterruptScope::~InterruptScope() { t_current = previous_; }

InterruptScope* InterruptScope::current() { return t_current; }

void check_interrupt() {
  InterruptScope* s = t_current;
  if (s == nullptr) return;
  if (!s->requested() && s->poll_ != nullptr && std::this_thread::get_id() == s->owner_) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= s->next_poll_) {
      s->next_poll_ = now + InterruptScope::kPollPeriod;
      if (s->poll_(s->context_)) s->request();
    }
  }
  if (s->requested()) throw Interrupted();
}

InheritInterruptScope::InheritInterruptScope(InterruptScope* scope) : previous_(t_current) {
  t_current = scope;
}

InheritInterruptScope::~InheritInterruptScope() { t_current = previous_; }

}  // namespace mlcore
