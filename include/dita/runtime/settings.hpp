// dita/runtime/settings.hpp
//
// Owns the runtime configuration: every setting, its default, its allowed values, and the
// precedence rule flags > environment (DITA_V2_*) > TOML file > embedded defaults. An
// invalid value is an error naming the setting, where it came from and what is allowed.
#pragma once

#include <cstdint>
#include <expected>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dita/core/contracts.hpp"

namespace dita::runtime {

struct Settings {
  core::KernelMode mode = core::KernelMode::kNormal;
  core::KernelVerbosity verbosity = core::KernelVerbosity::kVerbose;
  core::BackendMode venue = core::BackendMode::kMock;
  std::uint32_t slot_count = 4;
  std::uint32_t active_slot_limit = 1;
  std::string order_id_prefix = "dita";
  std::string journal_fsync = "always";
  std::uint64_t seed = 1;
  std::int64_t ack_timeout_ms = 5000;
  std::int64_t query_interval_ms = 5000;
  bool debug_clickhouse_enabled = false;
  bool trace_transitions = false;
  bool mirror_to_hazelcast = false;
  bool reconcile_on_restart = true;
  std::string instance = "default";
};

struct SettingError {
  std::string setting;  // e.g. "verbosity"
  std::string source;   // "flag", "env DITA_V2_VERBOSITY", "file dita.toml", "default"
  std::string message;  // names the allowed values

  std::string describe() const;
};

// Every setting's name, in the order `dita once` prints them.
const std::vector<std::string_view>& setting_names();
// "DITA_V2_" + upper-cased name.
std::string env_name(std::string_view setting);

// Sets one setting from text. Unknown names and bad values are errors.
std::expected<void, SettingError> apply_setting(Settings& settings, std::string_view name,
                                                std::string_view value, std::string_view source);

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup process_env();

// defaults <- file (if given, or $DITA_V2_CONFIG) <- env <- flags.
std::expected<Settings, SettingError> load_settings(
    const std::optional<std::filesystem::path>& file, const EnvLookup& env,
    const std::vector<std::pair<std::string, std::string>>& flags);

// The kernel configuration these settings describe. The returned config refers to
// `settings.order_id_prefix`, so `settings` must outlive it.
core::KernelConfig kernel_config(const Settings& settings);

// Settings as (name, value) text pairs, for `dita once` and the journal header.
std::vector<std::pair<std::string, std::string>> describe(const Settings& settings);

}  // namespace dita::runtime
