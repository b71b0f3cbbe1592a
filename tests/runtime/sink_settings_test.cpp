// The sink settings of `dita serve` (DITA_V2_* environment): defaults, every variable's bad
// values refused with the variable's name, and the pipeline config they give.
#include "dita/runtime/sink_settings.hpp"

#include <gtest/gtest.h>

#include <map>

#include "runtime/env_lookup.hpp"

namespace dita::runtime {
namespace {

using testing::env_of;

TEST(SinkSettings, DefaultsEnableNoSinkAndNameTheStrategyAfterTheInstance) {
  const auto settings = load_sink_settings(env_of({}), "alpha");
  ASSERT_TRUE(settings.has_value());
  EXPECT_FALSE(settings->clickhouse);
  EXPECT_FALSE(settings->hazelcast);
  EXPECT_EQ(settings->strategy, "alpha");
  EXPECT_EQ(settings->clickhouse_linger, std::chrono::milliseconds(200));
  EXPECT_TRUE(settings->sink_cpus.empty());
}

TEST(SinkSettings, EveryVariableIsReadAndReachesThePipelineConfig) {
  const auto settings =
      load_sink_settings(env_of({{"DITA_V2_CLICKHOUSE_URL", "http://127.0.0.1:8123/"},
                                 {"DITA_V2_CLICKHOUSE_DATABASE", "prod_db"},
                                 {"DITA_V2_CLICKHOUSE_LINGER_MS", "0"},
                                 {"DITA_V2_HAZELCAST", "REAL"},
                                 {"DITA_V2_HAZELCAST_ADDRESS", "127.0.0.1:5701"},
                                 {"DITA_V2_SINK_CPUS", "1,3-4"},
                                 {"DITA_V2_STRATEGY", "s1"}}),
                         "alpha");
  ASSERT_TRUE(settings.has_value()) << settings.error().describe();
  EXPECT_EQ(settings->clickhouse_host, "127.0.0.1");
  EXPECT_EQ(settings->clickhouse_port, 8123);
  EXPECT_EQ(settings->hazelcast_port, 5701);
  EXPECT_EQ(settings->sink_cpus, (std::vector<unsigned>{1, 3, 4}));
  const sink::PipelineConfig config = pipeline_config(*settings, zinc::ControlSettings{}, "dita");
  EXPECT_EQ(config.clickhouse.writer.database, "prod_db");
  EXPECT_EQ(config.clickhouse.linger, std::chrono::milliseconds(0));
  EXPECT_EQ(config.thread_cpus, (std::vector<unsigned>{1, 3, 4}));
  EXPECT_EQ(config.projection.strategy, "s1");
}

TEST(SinkSettings, BadValuesAreRefusedNamingTheVariable) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"DITA_V2_CLICKHOUSE_URL", "https://127.0.0.1:8123"},
      {"DITA_V2_CLICKHOUSE_URL", "http://127.0.0.1"},
      {"DITA_V2_CLICKHOUSE_URL", "http://127.0.0.1:99999"},
      {"DITA_V2_CLICKHOUSE_DATABASE", "db; DROP TABLE x"},
      {"DITA_V2_CLICKHOUSE_LINGER_MS", "-1"},
      {"DITA_V2_CLICKHOUSE_LINGER_MS", "60001"},
      {"DITA_V2_CLICKHOUSE_LINGER_MS", "2s"},
      {"DITA_V2_HAZELCAST", "yes"},
      {"DITA_V2_HAZELCAST_CLUSTER", "a b"},
      {"DITA_V2_STRATEGY", "a/b"},
      {"DITA_V2_SINK_CPUS", "x"},
      {"DITA_V2_SINK_CPUS", "3-2"},
      {"DITA_V2_SINK_CPUS", "1,1"},
      {"DITA_V2_SINK_CPUS", "1,"},
      {"DITA_V2_SINK_CPUS", "1024"},
  };
  for (const auto& [name, value] : bad) {
    const auto settings = load_sink_settings(env_of({{name, value}}), "alpha");
    ASSERT_FALSE(settings.has_value()) << name << "=" << value;
    EXPECT_EQ(settings.error().setting, name) << value;
    EXPECT_NE(settings.error().message.find(value), std::string::npos)
        << name << ": " << settings.error().message;
  }
  const auto missing = load_sink_settings(env_of({{"DITA_V2_HAZELCAST", "REAL"}}), "alpha");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().setting, "DITA_V2_HAZELCAST_ADDRESS");
}

}  // namespace
}  // namespace dita::runtime
