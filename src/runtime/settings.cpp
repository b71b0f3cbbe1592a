#include "dita/runtime/settings.hpp"

#include <charconv>
#include <cstdlib>

#include <toml++/toml.h>

namespace dita::runtime {
namespace {

template <class E>
std::expected<E, std::string> parse_named(std::string_view value) {
  std::string upper(value);
  for (char& c : upper) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  if (const auto parsed = core::parse_enum<E>(upper)) return *parsed;
  std::string allowed;
  for (const auto name : core::EnumNames<E>::kNames) {
    if (!allowed.empty()) allowed += ", ";
    allowed += name;
  }
  return std::unexpected("'" + std::string(value) + "' is not one of: " + allowed);
}

template <class T>
std::expected<T, std::string> parse_integer(std::string_view value, T min, T max) {
  T parsed{};
  const auto result = std::from_chars(value.data(), value.data() + value.size(), parsed);
  if (result.ec != std::errc{} || result.ptr != value.data() + value.size() || parsed < min ||
      parsed > max) {
    return std::unexpected("'" + std::string(value) + "' is not an integer between " +
                           std::to_string(min) + " and " + std::to_string(max));
  }
  return parsed;
}

std::expected<bool, std::string> parse_bool(std::string_view value) {
  if (value == "true" || value == "1" || value == "TRUE" || value == "yes") return true;
  if (value == "false" || value == "0" || value == "FALSE" || value == "no") return false;
  return std::unexpected("'" + std::string(value) + "' is not a boolean (true, false, 1, 0)");
}

std::expected<std::string, std::string> parse_name_text(std::string_view value,
                                                        std::size_t max_length, bool lower_only) {
  if (value.empty() || value.size() > max_length) {
    return std::unexpected("must be 1 to " + std::to_string(max_length) + " characters");
  }
  for (const char c : value) {
    const bool lower = c >= 'a' && c <= 'z';
    const bool digit = c >= '0' && c <= '9';
    const bool extra = !lower_only && (c == '-' || c == '_' || (c >= 'A' && c <= 'Z'));
    if (!lower && !digit && !extra) {
      return std::unexpected(lower_only ? "allowed characters: a-z 0-9"
                                        : "allowed characters: a-z A-Z 0-9 - _");
    }
  }
  return std::string(value);
}

const std::vector<std::string_view> kNames = {"mode",
                                              "verbosity",
                                              "venue",
                                              "slot_count",
                                              "active_slot_limit",
                                              "order_id_prefix",
                                              "journal_fsync",
                                              "seed",
                                              "ack_timeout_ms",
                                              "query_interval_ms",
                                              "debug_clickhouse_enabled",
                                              "trace_transitions",
                                              "mirror_to_hazelcast",
                                              "reconcile_on_restart",
                                              "instance"};

}  // namespace

std::string SettingError::describe() const {
  return "invalid setting '" + setting + "' (from " + source + "): " + message;
}

const std::vector<std::string_view>& setting_names() {
  return kNames;
}

std::string env_name(std::string_view setting) {
  std::string name = "DITA_V2_";
  for (const char c : setting) {
    name.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
  }
  return name;
}

std::expected<void, SettingError> apply_setting(Settings& settings, std::string_view name,
                                                std::string_view value, std::string_view source) {
  const auto error = [&](std::string message) {
    return std::unexpected(
        SettingError{std::string(name), std::string(source), std::move(message)});
  };
#define DITA_SET(field, expr)                  \
  do {                                         \
    auto parsed = (expr);                      \
    if (!parsed) return error(parsed.error()); \
    settings.field = *parsed;                  \
    return {};                                 \
  } while (false)
  if (name == "mode") DITA_SET(mode, parse_named<core::KernelMode>(value));
  if (name == "verbosity") DITA_SET(verbosity, parse_named<core::KernelVerbosity>(value));
  if (name == "venue") DITA_SET(venue, parse_named<core::BackendMode>(value));
  if (name == "slot_count") DITA_SET(slot_count, parse_integer<std::uint32_t>(value, 1, 256));
  if (name == "active_slot_limit") {
    DITA_SET(active_slot_limit, parse_integer<std::uint32_t>(value, 0, 256));
  }
  if (name == "order_id_prefix") DITA_SET(order_id_prefix, parse_name_text(value, 8, true));
  if (name == "journal_fsync") {
    if (value == "always" || value == "never" ||
        (value.starts_with("batch:") &&
         parse_integer<std::uint32_t>(value.substr(6), 1, 1'000'000))) {
      settings.journal_fsync = std::string(value);
      return {};
    }
    return error("'" + std::string(value) + "' is not one of: always, never, batch:N (N >= 1)");
  }
  if (name == "seed") {
    DITA_SET(seed, parse_integer<std::uint64_t>(value, 0, UINT64_MAX));
  }
  if (name == "ack_timeout_ms") {
    DITA_SET(ack_timeout_ms, parse_integer<std::int64_t>(value, 1, 3'600'000));
  }
  if (name == "query_interval_ms") {
    DITA_SET(query_interval_ms, parse_integer<std::int64_t>(value, 1, 3'600'000));
  }
  if (name == "debug_clickhouse_enabled") DITA_SET(debug_clickhouse_enabled, parse_bool(value));
  if (name == "trace_transitions") DITA_SET(trace_transitions, parse_bool(value));
  if (name == "mirror_to_hazelcast") DITA_SET(mirror_to_hazelcast, parse_bool(value));
  if (name == "reconcile_on_restart") DITA_SET(reconcile_on_restart, parse_bool(value));
  if (name == "instance") DITA_SET(instance, parse_name_text(value, 32, false));
#undef DITA_SET
  std::string known;
  for (const auto item : kNames) {
    if (!known.empty()) known += ", ";
    known += item;
  }
  return error("unknown setting; known settings: " + known);
}

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe): startup only
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

std::expected<Settings, SettingError> load_settings(
    const std::optional<std::filesystem::path>& file, const EnvLookup& env,
    const std::vector<std::pair<std::string, std::string>>& flags) {
  Settings settings;
  std::optional<std::filesystem::path> path = file;
  if (!path) {
    if (const auto from_env = env("DITA_V2_CONFIG")) path = *from_env;
  }
  if (path) {
    const std::string source = "file " + path->string();
    toml::table parsed;
    try {
      // Debian's toml++ is built with exceptions; the error becomes a SettingError here.
      parsed = toml::parse_file(path->string());
    } catch (const toml::parse_error& failure) {
      return std::unexpected(SettingError{"config", source,
                                          std::string(failure.description()) + " at line " +
                                              std::to_string(failure.source().begin.line)});
    }
    for (const auto& [key, node] : parsed) {
      std::string text;
      if (const auto* s = node.as_string()) {
        text = s->get();
      } else if (const auto* i = node.as_integer()) {
        text = std::to_string(i->get());
      } else if (const auto* b = node.as_boolean()) {
        text = b->get() ? "true" : "false";
      } else {
        return std::unexpected(
            SettingError{std::string(key.str()), source, "must be a string, integer or boolean"});
      }
      if (auto applied = apply_setting(settings, key.str(), text, source); !applied) {
        return std::unexpected(applied.error());
      }
    }
  }
  for (const auto name : kNames) {
    const std::string variable = env_name(name);
    if (const auto value = env(variable)) {
      if (auto applied = apply_setting(settings, name, *value, "env " + variable); !applied) {
        return std::unexpected(applied.error());
      }
    }
  }
  for (const auto& [name, value] : flags) {
    if (auto applied = apply_setting(settings, name, value, "flag --" + name); !applied) {
      return std::unexpected(applied.error());
    }
  }
  if (settings.active_slot_limit > settings.slot_count) {
    return std::unexpected(
        SettingError{"active_slot_limit", "combined settings",
                     "must not exceed slot_count (" + std::to_string(settings.slot_count) + ")"});
  }
  return settings;
}

core::KernelConfig kernel_config(const Settings& settings) {
  core::KernelConfig config;
  config.slot_count = settings.slot_count;
  config.active_slot_limit = settings.active_slot_limit;
  config.order_id_prefix = settings.order_id_prefix;
  config.ack_timeout_ns = settings.ack_timeout_ms * 1'000'000;
  config.query_interval_ns = settings.query_interval_ms * 1'000'000;
  config.instruments = core::default_instruments();
  return config;
}

std::vector<std::pair<std::string, std::string>> describe(const Settings& settings) {
  const auto flag = [](bool value) { return std::string(value ? "true" : "false"); };
  return {
      {"mode", std::string(core::to_string(settings.mode))},
      {"verbosity", std::string(core::to_string(settings.verbosity))},
      {"venue", std::string(core::to_string(settings.venue))},
      {"slot_count", std::to_string(settings.slot_count)},
      {"active_slot_limit", std::to_string(settings.active_slot_limit)},
      {"order_id_prefix", settings.order_id_prefix},
      {"journal_fsync", settings.journal_fsync},
      {"seed", std::to_string(settings.seed)},
      {"ack_timeout_ms", std::to_string(settings.ack_timeout_ms)},
      {"query_interval_ms", std::to_string(settings.query_interval_ms)},
      {"debug_clickhouse_enabled", flag(settings.debug_clickhouse_enabled)},
      {"trace_transitions", flag(settings.trace_transitions)},
      {"mirror_to_hazelcast", flag(settings.mirror_to_hazelcast)},
      {"reconcile_on_restart", flag(settings.reconcile_on_restart)},
      {"instance", settings.instance},
  };
}

}  // namespace dita::runtime
