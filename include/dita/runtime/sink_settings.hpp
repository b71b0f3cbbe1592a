// dita/runtime/sink_settings.hpp
//
// Owns the sink settings of `dita serve`: which sinks are enabled and where they are, read
// from the environment in one place (errors name the variable and the allowed values), and
// the sink::PipelineConfig they give together with the control settings in force at start.
//
//   DITA_V2_CLICKHOUSE_URL        http://HOST:PORT (empty or unset: ClickHouse off)
//   DITA_V2_CLICKHOUSE_USER       default "default"
//   DITA_V2_CLICKHOUSE_PASSWORD   default empty
//   DITA_V2_CLICKHOUSE_DATABASE   default "dita"
//   DITA_V2_CLICKHOUSE_LINGER_MS  0..60000, default 200: how long rows wait for a fuller batch
//   DITA_V2_HAZELCAST             OFF (default) or REAL
//   DITA_V2_HAZELCAST_ADDRESS     HOST:PORT, required with REAL
//   DITA_V2_HAZELCAST_CLUSTER     default "dita"
//   DITA_V2_STRATEGY              strategy name in rows and map names; default the instance
//   DITA_V2_SPOOL_DIR             default var/spool/<instance>
//   DITA_V2_SINK_CPUS             CPU list (1 | 1,3 | 2-3) for the sink threads; default: any
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "dita/runtime/settings.hpp"
#include "dita/sink/pipeline.hpp"
#include "dita/zinc/control.hpp"

namespace dita::runtime {

struct SinkSettings {
  bool clickhouse = false;
  std::string clickhouse_host;
  std::uint16_t clickhouse_port = 0;
  std::string clickhouse_user = "default";
  std::string clickhouse_password;
  std::string clickhouse_database = "dita";
  std::chrono::milliseconds clickhouse_linger{200};
  bool hazelcast = false;  // DITA_V2_HAZELCAST=REAL (mirroring also needs mirror_to_hazelcast)
  std::string hazelcast_host;
  std::uint16_t hazelcast_port = 0;
  std::string hazelcast_cluster = "dita";
  std::string strategy;
  std::filesystem::path spool_dir;
  std::vector<unsigned> sink_cpus;  // empty: the sink threads run wherever the process may

  [[nodiscard]] bool any() const { return clickhouse || hazelcast; }
};

// Reads every DITA_V2_* sink variable; `instance` gives the strategy and spool defaults.
// Errors: SettingError{variable name, "env <variable>", message naming the allowed values}.
std::expected<SinkSettings, SettingError> load_sink_settings(const EnvLookup& env,
                                                             std::string_view instance);

// The pipeline for these settings. The projection mode is DEBUG when `control.mode` is DEBUG
// or `control.debug_clickhouse_enabled` is set, NORMAL otherwise; Hazelcast is enabled when
// configured and `control.mirror_to_hazelcast` is set. Both are fixed for the pipeline's life.
sink::PipelineConfig pipeline_config(const SinkSettings& settings,
                                     const zinc::ControlSettings& control,
                                     std::string_view order_id_prefix);

}  // namespace dita::runtime
