#include "dita/zinc/futex.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

namespace dita::zinc {

FutexWaitResult futex_wait(std::uint32_t& word, std::uint32_t expected,
                           std::optional<std::chrono::nanoseconds> timeout, bool shared) noexcept {
  timespec ts{};
  timespec* tsp = nullptr;
  if (timeout) {
    const auto ns = timeout->count() < 0 ? 0 : timeout->count();
    ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    tsp = &ts;
  }
  const int op = shared ? FUTEX_WAIT : FUTEX_WAIT_PRIVATE;
  const long rc = ::syscall(SYS_futex, &word, op, expected, tsp, nullptr, 0);
  if (rc == 0) return FutexWaitResult::Woken;
  switch (errno) {
    case EAGAIN:
      return FutexWaitResult::ValueChanged;
    case ETIMEDOUT:
      return FutexWaitResult::TimedOut;
    default:
      return FutexWaitResult::Interrupted;
  }
}

int futex_wake(std::uint32_t& word, int count, bool shared) noexcept {
  const int op = shared ? FUTEX_WAKE : FUTEX_WAKE_PRIVATE;
  const long rc = ::syscall(SYS_futex, &word, op, count, nullptr, nullptr, 0);
  return rc < 0 ? 0 : static_cast<int>(rc);
}

}  // namespace dita::zinc
