#include "dita/runtime/sink_settings.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <utility>

namespace dita::runtime {
namespace {

using Failure = std::unexpected<SettingError>;

Failure fail(const std::string& variable, std::string message) {
  return Failure(SettingError{variable, "env " + variable, std::move(message)});
}

// Unset and empty are the same: "not given".
std::optional<std::string> lookup(const EnvLookup& env, const std::string& name) {
  auto value = env(name);
  if (!value || value->empty()) return std::nullopt;
  return value;
}

bool valid_host(std::string_view host) {
  return !host.empty() && host.size() <= 253 && std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-' || c == '_';
  });
}

// "HOST:PORT" with a port 1..65535.
std::expected<std::pair<std::string, std::uint16_t>, std::string> parse_host_port(
    std::string_view text) {
  const auto colon = text.rfind(':');
  const std::string_view host = colon == std::string_view::npos ? text : text.substr(0, colon);
  if (colon == std::string_view::npos || !valid_host(host)) {
    return std::unexpected("'" + std::string(text) +
                           "' is not HOST:PORT (host: letters, digits, '.', '-', '_')");
  }
  const std::string_view digits = text.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || port == 0 ||
      port > 65535) {
    return std::unexpected("'" + std::string(text) + "' has no port 1..65535");
  }
  return std::pair{std::string(host), static_cast<std::uint16_t>(port)};
}

// 1-64 characters of [A-Za-z0-9_-]: strategy names go into row ids, map names and SQL.
bool valid_name(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
  });
}

// "1", "1,3", "2-3,5": CPU numbers 0..1023, ascending ranges, no duplicates.
std::expected<std::vector<unsigned>, std::string> parse_cpu_list(std::string_view text) {
  std::vector<unsigned> cpus;
  const auto number = [](std::string_view digits) -> std::optional<unsigned> {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
        value > 1023) {
      return std::nullopt;
    }
    return value;
  };
  while (true) {
    const auto comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    const auto dash = item.find('-');
    const auto first = number(item.substr(0, dash));
    const auto last = dash == std::string_view::npos ? first : number(item.substr(dash + 1));
    if (!first || !last || *last < *first) {
      return std::unexpected("has a bad item '" + std::string(item) + "' (CPUs are 0..1023)");
    }
    for (unsigned cpu = *first; cpu <= *last; ++cpu) {
      if (std::find(cpus.begin(), cpus.end(), cpu) != cpus.end()) {
        return std::unexpected("names CPU " + std::to_string(cpu) + " twice");
      }
      cpus.push_back(cpu);
    }
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return cpus;
}

}  // namespace

std::expected<SinkSettings, SettingError> load_sink_settings(const EnvLookup& env,
                                                             std::string_view instance) {
  SinkSettings out;
  if (auto url = lookup(env, "DITA_V2_CLICKHOUSE_URL")) {
    constexpr std::string_view kScheme = "http://";
    std::string_view rest(*url);
    if (!rest.starts_with(kScheme)) {
      return fail("DITA_V2_CLICKHOUSE_URL",
                  "'" + *url + "' must be http://HOST:PORT (https is not supported), or empty");
    }
    rest.remove_prefix(kScheme.size());
    if (rest.ends_with('/')) rest.remove_suffix(1);
    auto address = parse_host_port(rest);
    if (!address) {
      return fail("DITA_V2_CLICKHOUSE_URL", "'" + *url + "': " + address.error() +
                                                "; must be http://HOST:PORT, or empty for no "
                                                "ClickHouse");
    }
    out.clickhouse = true;
    out.clickhouse_host = address->first;
    out.clickhouse_port = address->second;
  }
  if (auto user = lookup(env, "DITA_V2_CLICKHOUSE_USER")) out.clickhouse_user = *user;
  if (auto password = env("DITA_V2_CLICKHOUSE_PASSWORD")) out.clickhouse_password = *password;
  if (auto database = lookup(env, "DITA_V2_CLICKHOUSE_DATABASE")) {
    if (!valid_name(*database)) {
      return fail("DITA_V2_CLICKHOUSE_DATABASE",
                  "'" + *database + "' must be 1-64 characters of A-Z a-z 0-9 _ -");
    }
    out.clickhouse_database = *database;
  }
  if (auto linger = lookup(env, "DITA_V2_CLICKHOUSE_LINGER_MS")) {
    unsigned ms = 0;
    const auto [end, ec] = std::from_chars(linger->data(), linger->data() + linger->size(), ms);
    if (linger->empty() || ec != std::errc() || end != linger->data() + linger->size() ||
        ms > 60000) {
      return fail("DITA_V2_CLICKHOUSE_LINGER_MS",
                  "'" + *linger + "' must be a whole number of milliseconds 0..60000");
    }
    out.clickhouse_linger = std::chrono::milliseconds(ms);
  }

  const std::string mode = lookup(env, "DITA_V2_HAZELCAST").value_or("OFF");
  if (mode == "REAL") {
    out.hazelcast = true;
  } else if (mode != "OFF") {
    return fail("DITA_V2_HAZELCAST", "'" + mode + "' is not allowed; allowed: OFF, REAL");
  }
  if (out.hazelcast) {
    auto text = lookup(env, "DITA_V2_HAZELCAST_ADDRESS");
    if (!text) {
      return fail("DITA_V2_HAZELCAST_ADDRESS",
                  "required with DITA_V2_HAZELCAST=REAL: HOST:PORT of a Hazelcast member");
    }
    auto address = parse_host_port(*text);
    if (!address) return fail("DITA_V2_HAZELCAST_ADDRESS", address.error());
    out.hazelcast_host = address->first;
    out.hazelcast_port = address->second;
  }
  if (auto cluster = lookup(env, "DITA_V2_HAZELCAST_CLUSTER")) {
    if (!valid_name(*cluster)) {
      return fail("DITA_V2_HAZELCAST_CLUSTER",
                  "'" + *cluster + "' must be 1-64 characters of A-Z a-z 0-9 _ -");
    }
    out.hazelcast_cluster = *cluster;
  }

  out.strategy = lookup(env, "DITA_V2_STRATEGY").value_or(std::string(instance));
  if (!valid_name(out.strategy)) {
    return fail("DITA_V2_STRATEGY",
                "'" + out.strategy + "' must be 1-64 characters of A-Z a-z 0-9 _ -");
  }
  if (auto cpus = lookup(env, "DITA_V2_SINK_CPUS")) {
    auto parsed = parse_cpu_list(*cpus);
    if (!parsed) {
      return fail("DITA_V2_SINK_CPUS", "'" + *cpus + "' " + parsed.error() +
                                           "; must be a CPU list like 1 or 1,3 or 2-3");
    }
    out.sink_cpus = std::move(*parsed);
  }
  if (auto dir = lookup(env, "DITA_V2_SPOOL_DIR")) {
    out.spool_dir = *dir;
  } else {
    out.spool_dir = std::filesystem::path("var/spool") / std::string(instance);
  }
  return out;
}

sink::PipelineConfig pipeline_config(const SinkSettings& settings,
                                     const zinc::ControlSettings& control,
                                     std::string_view order_id_prefix) {
  sink::PipelineConfig config;
  config.projection.strategy = settings.strategy;
  config.projection.mode =
      control.mode == zinc::KernelMode::Debug || control.debug_clickhouse_enabled
          ? core::KernelMode::kDebug
          : core::KernelMode::kNormal;
  config.projection.order_id_prefix = std::string(order_id_prefix);
  config.projection.names = sink::HazelcastNames::for_strategy(settings.strategy);
  config.spool_dir = settings.spool_dir;
  config.clickhouse.enabled = settings.clickhouse;
  config.clickhouse.writer.host = settings.clickhouse_host;
  config.clickhouse.writer.port = settings.clickhouse_port;
  config.clickhouse.writer.user = settings.clickhouse_user;
  config.clickhouse.writer.password = settings.clickhouse_password;
  config.clickhouse.writer.database = settings.clickhouse_database;
  config.clickhouse.linger = settings.clickhouse_linger;
  config.thread_cpus = settings.sink_cpus;
  config.clickhouse.writer.connect_timeout = std::chrono::milliseconds(1000);
  config.clickhouse.writer.request_timeout = std::chrono::milliseconds(10000);
  config.hazelcast.enabled = settings.hazelcast && control.mirror_to_hazelcast;
  config.hazelcast.client.host = settings.hazelcast_host;
  config.hazelcast.client.port = settings.hazelcast_port;
  config.hazelcast.client.cluster_name = settings.hazelcast_cluster;
  config.hazelcast.client.connect_timeout = std::chrono::milliseconds(1000);
  config.hazelcast.client.call_timeout = std::chrono::milliseconds(5000);
  return config;
}

}  // namespace dita::runtime
