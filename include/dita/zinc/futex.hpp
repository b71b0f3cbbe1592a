// Cross-process wait/notify: raw SYS_futex on a 32-bit word inside a region (non-private ops
// for shared memory, private ops for the in-memory stand-in), with a shared waiter count so
// notifiers skip the wake syscall when nobody sleeps, and bounded spinning before sleeping.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "dita/zinc/atomics.hpp"

namespace dita::zinc {

enum class FutexWaitResult : std::uint8_t { Woken, ValueChanged, TimedOut, Interrupted };

// FUTEX_WAIT: sleeps while `word` == expected, at most `timeout` (nullopt: forever).
FutexWaitResult futex_wait(std::uint32_t& word, std::uint32_t expected,
                           std::optional<std::chrono::nanoseconds> timeout, bool shared) noexcept;
// FUTEX_WAKE: wakes up to `count` waiters; returns how many were woken.
int futex_wake(std::uint32_t& word, int count, bool shared) noexcept;

struct WaitPolicy {
  // Iterations of check+pause before sleeping in the kernel. kSpinForever never sleeps.
  std::uint32_t spin_iterations = 2048;
  static constexpr std::uint32_t kSpinForever = 0xffffffffU;
  static constexpr WaitPolicy spin_only() { return WaitPolicy{kSpinForever}; }
  static constexpr WaitPolicy sleep_at_once() { return WaitPolicy{0}; }
};

// A notification channel made of a futex word and a waiter count living in shared memory.
class WaitWord {
 public:
  WaitWord(std::uint32_t* futex_word, std::uint32_t* waiters, bool shared) noexcept
      : word_(futex_word), waiters_(waiters), shared_(shared) {}

  // Called after the state change readers wait for has been published.
  void notify() noexcept {
    atomic_ref<std::uint32_t>(*word_).fetch_add(1, std::memory_order_seq_cst);
    if (atomic_ref<std::uint32_t>(*waiters_).load(std::memory_order_seq_cst) != 0) {
      futex_wake(*word_, 0x7fffffff, shared_);
    }
  }

  // Returns true once ready() holds, false if the timeout ran out first.
  template <class Ready>
  bool wait_until(Ready&& ready, std::chrono::nanoseconds timeout, WaitPolicy policy) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (std::uint32_t i = 0;
         policy.spin_iterations == WaitPolicy::kSpinForever || i < policy.spin_iterations; ++i) {
      if (ready()) return true;
      cpu_relax();
      if ((i & 1023U) == 1023U && std::chrono::steady_clock::now() >= deadline) return false;
    }
    atomic_ref<std::uint32_t> waiters(*waiters_);
    atomic_ref<std::uint32_t> word(*word_);
    for (;;) {
      waiters.fetch_add(1, std::memory_order_seq_cst);
      const std::uint32_t seen = word.load(std::memory_order_seq_cst);
      if (ready()) {
        waiters.fetch_sub(1, std::memory_order_seq_cst);
        return true;
      }
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) {
        waiters.fetch_sub(1, std::memory_order_seq_cst);
        return false;
      }
      futex_wait(*word_, seen, deadline - now, shared_);
      waiters.fetch_sub(1, std::memory_order_seq_cst);
    }
  }

 private:
  std::uint32_t* word_;
  std::uint32_t* waiters_;
  bool shared_;
};

}  // namespace dita::zinc
