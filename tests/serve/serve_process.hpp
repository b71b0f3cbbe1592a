// Test-only helpers for end-to-end tests of `dita serve` with external services (BingX
// simulator, ClickHouse, Hazelcast): run `dita` commands to completion, keep one server
// process per test with its log, and poll `dita status --json` (bounded). The server inherits
// this process's environment, so tests configure it with setenv() before start().
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

extern char** environ;

namespace dita::serve_testing {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct Result {
  int code = -1;
  std::string out;
  std::string err;
  [[nodiscard]] std::string describe() const {
    return "exit " + std::to_string(code) + "\nstdout: " + out + "\nstderr: " + err;
  }
};

// Sends `signal` to `pid` and waits (bounded) for it to exit: its exit code (128 + signal when
// killed), or -1 on timeout. On exit `pid` is set to -1.
inline int signal_and_wait(pid_t& pid, int signal, std::chrono::milliseconds timeout) {
  ::kill(pid, signal);
  const auto deadline = Clock::now() + timeout;
  int wstatus = 0;
  while (Clock::now() < deadline) {
    if (::waitpid(pid, &wstatus, WNOHANG) == pid) {
      pid = -1;
      return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

// Runs `dita args...` to completion (at most `timeout`, then SIGKILL) and captures its output.
inline Result run_dita(const std::vector<std::string>& args,
                       std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe(out_pipe) != 0) return {};
  if (::pipe(err_pipe) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return {};
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  posix_spawn_file_actions_addclose(&actions, out_pipe[0]);
  posix_spawn_file_actions_addclose(&actions, err_pipe[0]);
  std::vector<std::string> storage{DITA_EXECUTABLE};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = ::posix_spawn(&pid, DITA_EXECUTABLE, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  Result result;
  if (spawned != 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    return result;
  }
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_fds = 2;
  const auto deadline = Clock::now() + timeout;
  while (open_fds > 0 && Clock::now() < deadline) {
    if (::poll(fds, 2, 100) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP)) == 0) continue;
      char buffer[4096];
      const ssize_t n = ::read(fds[i].fd, buffer, sizeof(buffer));
      if (n > 0) {
        sinks[i]->append(buffer, static_cast<std::size_t>(n));
      } else {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (auto& fd : fds) {
    if (fd.fd >= 0) ::close(fd.fd);
  }
  if (open_fds > 0) ::kill(pid, SIGKILL);  // ran past the bound: the caller's check fails
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

// One `dita serve` of a unique instance in its own temp dir (journal, spool, logs); the
// destructor kills a server still running and removes the regions and the dir.
class ServeProcess {
 public:
  explicit ServeProcess(const std::string& tag) {
    static int counter = 0;
    instance_ = tag + std::to_string(::getpid()) + "-" + std::to_string(++counter);
    std::string pattern = "/tmp/dita-" + tag + "-XXXXXX";
    if (::mkdtemp(pattern.data()) != nullptr) dir_ = pattern;
  }
  ~ServeProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    for (const char* kind : {"state", "control", "intent"}) {
      ::shm_unlink(("/dita." + instance_ + "." + kind).c_str());
    }
    std::error_code ignored;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
  }
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  [[nodiscard]] const std::string& instance() const { return instance_; }
  [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }
  [[nodiscard]] std::filesystem::path journal() const { return dir_ / "kernel.journal"; }

  // Starts `dita serve` and waits (bounded) until its status says RUNNING; an error text
  // (with the server's log) if it exited or did not get there.
  std::optional<std::string> start(const std::vector<std::string>& extra,
                                   std::chrono::seconds timeout = std::chrono::seconds(30)) {
    std::vector<std::string> storage{DITA_EXECUTABLE, "serve",     "--instance",
                                     instance_,       "--journal", journal().string()};
    storage.insert(storage.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : storage) argv.push_back(a.data());
    argv.push_back(nullptr);
    const std::string log = (dir_ / ("serve-" + std::to_string(++starts_) + ".log")).string();
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    if (::posix_spawn(&pid_, DITA_EXECUTABLE, &actions, nullptr, argv.data(), environ) != 0) {
      pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&actions);
    if (pid_ <= 0) return "cannot spawn dita serve";
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      const auto s = status_or_null();
      if (s && (*s)["writer"]["pid"] == pid_ && (*s)["writer"]["liveness"] == "ALIVE" &&
          (*s)["kernel"]["status"] == "RUNNING") {
        return std::nullopt;
      }
      int wstatus = 0;
      if (::waitpid(pid_, &wstatus, WNOHANG) == pid_) {
        pid_ = -1;
        return "dita serve exited before it was ready:\n" + log_text();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return "dita serve was not ready in time:\n" + log_text();
  }

  // SIGTERM, then waits (bounded) for the exit; its exit code, -1 on timeout.
  int stop(std::chrono::seconds timeout = std::chrono::seconds(20)) {
    if (pid_ <= 0) return -1;
    return signal_and_wait(pid_, SIGTERM, timeout);
  }

  [[nodiscard]] std::string log_text() const {
    std::string all;
    for (int i = 1; i <= starts_; ++i) {
      std::ifstream in(dir_ / ("serve-" + std::to_string(i) + ".log"));
      all += std::string(std::istreambuf_iterator<char>(in), {});
    }
    return all;
  }

  [[nodiscard]] std::optional<json> status_or_null() const {
    const Result r = run_dita({"status", "--instance", instance_, "--json"});
    if (r.code != 0) return std::nullopt;
    auto parsed = json::parse(r.out, nullptr, false);
    if (parsed.is_discarded()) return std::nullopt;
    return parsed;
  }

  // Polls status (bounded) until `done` holds; returns the last status read (or {}).
  template <class Done>
  json wait_for_status(Done done, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    const auto deadline = Clock::now() + timeout;
    json last = json::object();
    while (Clock::now() < deadline) {
      if (auto s = status_or_null()) {
        last = *s;
        if (done(last)) return last;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return last;
  }

  // `dita intent --instance I --json --wait args...` (waits until the kernel applied it).
  [[nodiscard]] Result intent(const std::vector<std::string>& args) const {
    std::vector<std::string> full{"intent",        "--instance", instance_, "--json",
                                  "--producer-id", "5",          "--wait"};
    full.insert(full.end(), args.begin(), args.end());
    return run_dita(full);
  }

 private:
  std::string instance_;
  std::filesystem::path dir_;
  pid_t pid_ = -1;
  int starts_ = 0;
};

}  // namespace dita::serve_testing
