// Helpers shared by the Zinc tests: unique instance names, region cleanup, forked children
// and pipe-based hand-shakes (no sleeps, no timing assertions).
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "dita/zinc/region.hpp"

namespace dita::zinc::testing {

inline std::string unique_instance() {
  static int counter = 0;
  return "zt" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
}

// Unlinks every region name it was given when the test ends.
class RegionCleanup {
 public:
  std::string add(std::string name) {
    names_.push_back(name);
    return name;
  }
  std::string add(const std::string& instance, RegionKind kind) {
    return add(*region_name(instance, kind));
  }
  ~RegionCleanup() {
    for (const auto& n : names_) ::shm_unlink(n.c_str());
  }

 private:
  std::vector<std::string> names_;
};

// A one-way pipe used as a hand-shake between parent and child.
class Signal {
 public:
  Signal() {
    if (::pipe(fds_) != 0) fds_[0] = fds_[1] = -1;
  }
  ~Signal() {
    for (int fd : fds_) {
      if (fd >= 0) ::close(fd);
    }
  }
  Signal(const Signal&) = delete;
  Signal& operator=(const Signal&) = delete;

  void send(std::uint8_t value = 1) const { [[maybe_unused]] auto n = ::write(fds_[1], &value, 1); }
  // Returns the byte, or -1 after timeout_ms / on EOF.
  int receive(int timeout_ms = 10'000) const {
    pollfd p{fds_[0], POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) != 1) return -1;
    std::uint8_t value = 0;
    return ::read(fds_[0], &value, 1) == 1 ? value : -1;
  }
  // Sends/receives a raw POD value.
  template <class T>
  void send_value(const T& value) const {
    [[maybe_unused]] auto n = ::write(fds_[1], &value, sizeof(T));
  }
  template <class T>
  bool receive_value(T& value, int timeout_ms = 10'000) const {
    pollfd p{fds_[0], POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) != 1) return false;
    return ::read(fds_[0], &value, sizeof(T)) == static_cast<ssize_t>(sizeof(T));
  }

 private:
  int fds_[2]{-1, -1};
};

// Runs body in a forked child that leaves with _exit(body()) (no destructors, no gtest).
inline pid_t fork_child(const std::function<int()>& body) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    int rc = 99;
    rc = body();
    ::_exit(rc);
  }
  return pid;
}

// Exit code of a child, or -signal if it was killed, or -1000 on error.
inline int wait_child(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1000;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  return -1000;
}

inline int kill_and_reap(pid_t pid) {
  ::kill(pid, SIGKILL);
  return wait_child(pid);
}

}  // namespace dita::zinc::testing
