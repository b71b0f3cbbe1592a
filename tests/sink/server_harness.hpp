// Test-only helpers for sink tests that need a real server: temp dirs, running the project's
// scripts/start-* and scripts/stop-server, and capturing a command's output. Servers are tied
// to the test process (DITA_SERVER_OWNER_PID), so even a crashed test does not leak one.
#pragma once

#include <stdio.h>  // popen/pclose
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace dita::sink::testing {

inline std::string source_dir() {
  const char* dir = std::getenv("DITA_SOURCE_DIR");
  return dir != nullptr ? dir : DITA_TEST_SOURCE_DIR;
}

inline std::string shell_quote(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout only; stderr goes to the test log
};

inline CommandResult run_command(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  while (std::fgets(buffer, sizeof(buffer), pipe) != nullptr) result.output += buffer;
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

inline std::string last_line(const std::string& text) {
  std::string trimmed = text;
  while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == '\r')) trimmed.pop_back();
  const auto newline = trimmed.rfind('\n');
  return newline == std::string::npos ? trimmed : trimmed.substr(newline + 1);
}

// A fresh directory under $TMPDIR (or /tmp), removed on destruction.
class TempDir {
 public:
  explicit TempDir(std::string_view prefix) {
    const char* base = std::getenv("TMPDIR");
    std::string pattern =
        std::string(base != nullptr ? base : "/tmp") + "/" + std::string(prefix) + "-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// DITA_TEST_CLICKHOUSE_KIND picks the ClickHouse a server test starts: "clickhouse" (Debian's
// 18.16, the default) or "chdb" (current ClickHouse through scripts/start-chdb); ctest runs
// the ClickHouse server tests once with each.
inline std::string clickhouse_kind() {
  const char* kind = std::getenv("DITA_TEST_CLICKHOUSE_KIND");
  return kind != nullptr && *kind != '\0' ? kind : "clickhouse";
}

// One server started by scripts/start-<kind> in `dir`; stopped by stop() or the destructor.
class ScriptedServer {
 public:
  ScriptedServer(std::string kind, std::string dir, std::string env = {})
      : kind_(std::move(kind)), dir_(std::move(dir)), env_(std::move(env)) {}
  ~ScriptedServer() { stop(); }
  ScriptedServer(const ScriptedServer&) = delete;
  ScriptedServer& operator=(const ScriptedServer&) = delete;

  // Starts the server (on `port` if given) and returns "host:port", or nullopt with the
  // script's output in last_output().
  std::optional<std::string> start(std::optional<std::uint16_t> port = std::nullopt) {
    std::string command = "DITA_SERVER_OWNER_PID=" + std::to_string(::getpid()) + " " + env_ + " " +
                          shell_quote(source_dir() + "/scripts/start-" + kind_) + " " +
                          shell_quote(dir_);
    if (port) command += " " + std::to_string(*port);
    const CommandResult result = run_command(command);
    last_output_ = result.output;
    if (result.exit_code != 0) return std::nullopt;
    address_ = last_line(result.output);
    running_ = true;
    return address_;
  }

  bool stop() {
    if (!running_) return true;
    running_ = false;
    const CommandResult result =
        run_command(shell_quote(source_dir() + "/scripts/stop-server") + " " + shell_quote(dir_));
    return result.exit_code == 0;
  }

  [[nodiscard]] const std::string& address() const { return address_; }
  [[nodiscard]] const std::string& last_output() const { return last_output_; }
  [[nodiscard]] std::string host() const { return address_.substr(0, address_.rfind(':')); }
  [[nodiscard]] std::uint16_t port() const {
    return static_cast<std::uint16_t>(std::stoi(address_.substr(address_.rfind(':') + 1)));
  }

 private:
  std::string kind_;
  std::string dir_;
  std::string env_;
  std::string address_;
  std::string last_output_;
  bool running_ = false;
};

}  // namespace dita::sink::testing
