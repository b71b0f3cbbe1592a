// src/cli/command_registry.hpp
//
// Owns how subcommands join the `dita` executable. A command file defines a factory that
// adds its CLI11 subcommand and returns what to run when it was chosen, and registers it
// with DITA_REGISTER_COMMAND; main.cpp then needs no edit per command.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <vector>

namespace dita::cli {

// Exit codes shared by every command (documented in docs/cli.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitMismatch = 3;
inline constexpr int kExitJournalDamaged = 4;

struct RegisteredCommand {
  CLI::App* subcommand = nullptr;
  std::function<int()> run;
};

using CommandFactory = RegisteredCommand (*)(CLI::App& app);

inline std::vector<CommandFactory>& command_registry() {
  static std::vector<CommandFactory> registry;
  return registry;
}

}  // namespace dita::cli

#define DITA_REGISTER_COMMAND(factory)                             \
  namespace {                                                      \
  [[maybe_unused]] const bool registered_##factory =               \
      (::dita::cli::command_registry().push_back(&factory), true); \
  }
