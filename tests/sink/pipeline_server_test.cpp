// The sink pipeline against a real ClickHouse and a real Hazelcast member started by
// scripts/start-clickhouse (or scripts/start-chdb: current ClickHouse) / scripts/start-hazelcast:
// the writer's inserts and typed errors, outages in the middle of a session (stop the server, keep
// trading, restart it on the same data dir and port), a pipeline restart on the same spool while
// the sink is down, and read-back of the Hazelcast projection through the official
// hazelcast-python-client.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "dita/codec/json_codec.hpp"
#include "dita/sink/clickhouse_writer.hpp"
#include "dita/sink/pipeline.hpp"
#include "sink/server_harness.hpp"
#include "sink/sink_session.hpp"

namespace dita::sink {
namespace {

using testing::run_command;
using testing::shell_quote;
using testing::source_dir;

constexpr std::string_view kCluster = "dita-pipe-test";

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

class PipelineServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<testing::TempDir>("dita-pipe-servers");
    clickhouse_ =
        std::make_unique<testing::ScriptedServer>(testing::clickhouse_kind(), dir_->path() + "/ch");
    hazelcast_ = std::make_unique<testing::ScriptedServer>(
        "hazelcast", dir_->path() + "/hz", "DITA_HAZELCAST_CLUSTER=" + std::string(kCluster));
    if (!clickhouse_->start()) {
      setup_error_ = "start-" + testing::clickhouse_kind() + ": " + clickhouse_->last_output();
      return;
    }
    const auto schema =
        run_command("python3 " + shell_quote(source_dir() + "/deploy/clickhouse/apply_schema.py") +
                    " " + shell_quote(clickhouse_->address()));
    if (schema.exit_code != 0) {
      setup_error_ = "apply_schema: " + schema.output;
      return;
    }
    if (!hazelcast_->start()) setup_error_ = "start-hazelcast: " + hazelcast_->last_output();
  }
  static void TearDownTestSuite() {
    clickhouse_.reset();
    hazelcast_.reset();
    dir_.reset();
  }
  void SetUp() override { ASSERT_TRUE(setup_error_.empty()) << setup_error_; }

  static clickhouse::WriterConfig writer_config() {
    clickhouse::WriterConfig config;
    config.host = clickhouse_->host();
    config.port = clickhouse_->port();
    config.connect_timeout = std::chrono::milliseconds(500);
    config.request_timeout = std::chrono::milliseconds(5000);
    return config;
  }
  static hazelcast::ClientConfig hazelcast_config() {
    hazelcast::ClientConfig config;
    config.host = hazelcast_->host();
    config.port = hazelcast_->port();
    config.cluster_name = std::string(kCluster);
    config.connect_timeout = std::chrono::milliseconds(500);
    config.call_timeout = std::chrono::milliseconds(3000);
    return config;
  }
  static PipelineConfig pipeline_config(const std::string& strategy, const std::string& spool,
                                        core::KernelMode mode) {
    PipelineConfig config;
    config.projection.strategy = strategy;
    config.projection.mode = mode;
    config.projection.names = HazelcastNames::for_strategy(strategy);
    config.spool_dir = spool;
    config.clickhouse.writer = writer_config();
    config.hazelcast.client = hazelcast_config();
    config.retry_initial = std::chrono::milliseconds(10);
    config.retry_max = std::chrono::milliseconds(200);
    return config;
  }

  static std::string query(const std::string& sql) {
    clickhouse::Writer writer(writer_config());
    auto result = writer.query(sql);
    EXPECT_TRUE(result.has_value()) << (result ? "" : result.error().describe());
    return result.value_or("");
  }

  // Every row id of `strategy` in every table (FINAL), as a multiset: duplicates would show.
  static std::multiset<std::string> stored_row_ids(const std::string& strategy) {
    std::multiset<std::string> ids;
    for (std::size_t t = 0; t < kTableCount; ++t) {
      const std::string table(table_name(static_cast<Table>(t)));
      for (auto& line : lines_of(query("SELECT row_id FROM dita." + table +
                                       " FINAL WHERE strategy = '" + strategy + "'"))) {
        ids.insert(std::move(line));
      }
    }
    return ids;
  }

  static std::multiset<std::string> expected_row_ids(const ProjectionConfig& projection,
                                                     const std::vector<core::KernelInput>& inputs) {
    core::Kernel twin = testing::session_kernel();
    Projector projector(projection, twin);
    const Projection expected = testing::project_all(twin, projector, inputs);
    std::multiset<std::string> ids;
    for (const auto& row : expected.rows) ids.insert(row.row_id);
    return ids;
  }

  static bool wait_for_state(SinkPipeline& pipeline, std::size_t sink, SinkState state,
                             std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (pipeline.health().sinks[sink].state == state) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  static std::vector<nlohmann::json> dump_map(const std::string& map) {
    const auto result =
        run_command("python3 " + shell_quote(source_dir() + "/tests/sink/hazelcast_readback.py") +
                    " dump " + shell_quote(hazelcast_->address()) + " " +
                    shell_quote(std::string(kCluster)) + " " + shell_quote(map));
    EXPECT_EQ(result.exit_code, 0);
    std::vector<nlohmann::json> entries;
    for (const auto& line : lines_of(result.output)) entries.push_back(nlohmann::json::parse(line));
    return entries;
  }

  static inline std::unique_ptr<testing::TempDir> dir_;
  static inline std::unique_ptr<testing::ScriptedServer> clickhouse_;
  static inline std::unique_ptr<testing::ScriptedServer> hazelcast_;
  static inline std::string setup_error_;
};

TEST_F(PipelineServerTest, WriterInsertsReadsBackAndRetriedBatchesCountOnce) {
  core::Kernel kernel = testing::session_kernel();
  ProjectionConfig projection;
  projection.strategy = "writer";
  projection.mode = core::KernelMode::kDebug;
  Projector projector(projection, kernel);
  const Projection all = testing::project_all(kernel, projector, testing::session_inputs(3));
  clickhouse::Writer writer(writer_config());
  std::map<Table, std::string> bodies;
  for (const auto& row : all.rows) bodies[row.table] += row.json + "\n";
  for (int attempt = 0; attempt < 2; ++attempt) {  // the second round is the "retry"
    for (const auto& [table, body] : bodies) {
      auto inserted = writer.insert_json_each_row(table_name(table), table_columns(table), body);
      ASSERT_TRUE(inserted.has_value()) << table_name(table) << ": " << inserted.error().describe();
    }
  }
  EXPECT_EQ(query("SELECT count() FROM dita.trade_exit_legs WHERE strategy = 'writer'"), "18\n");
  EXPECT_EQ(query("SELECT count() FROM dita.trade_exit_legs FINAL WHERE strategy = 'writer'"),
            "9\n");
  const auto stored = stored_row_ids("writer");
  EXPECT_EQ(std::set<std::string>(stored.begin(), stored.end()), testing::row_ids(all.rows));
  EXPECT_EQ(stored.size(), all.rows.size());
  // Exact decimals survive: the legs' realized PnL sums to the exits' realized PnL.
  EXPECT_EQ(query("SELECT toString(sum(leg_realized_pnl)) FROM dita.trade_exit_legs FINAL WHERE "
                  "strategy = 'writer'"),
            query("SELECT toString(sum(realized_pnl)) FROM dita.trade_exits FINAL WHERE strategy "
                  "= 'writer'"));

  auto bad_sql = writer.query("SELEC nonsense");
  ASSERT_FALSE(bad_sql);
  EXPECT_EQ(bad_sql.error().code, clickhouse::ErrorCode::kHttpStatus);
  EXPECT_EQ(bad_sql.error().server_code, 62) << bad_sql.error().describe();
  const std::array<std::string_view, 1> columns = {"row_id"};
  auto unknown_table =
      writer.insert_json_each_row("no_such_table", columns, "{\"row_id\":\"x\"}\n");
  ASSERT_FALSE(unknown_table);
  EXPECT_EQ(unknown_table.error().server_code, 60) << unknown_table.error().describe();
  EXPECT_TRUE(unknown_table.error().is_permanent());
  auto bad_row = writer.insert_json_each_row("trade_exits", table_columns(Table::kTradeExits),
                                             "{\"row_id\":\"y\",\"unknown\":1}\n");
  ASSERT_FALSE(bad_row);
  EXPECT_NE(bad_row.error().message.find("Code:"), std::string::npos);
}

TEST_F(PipelineServerTest, ClickHouseOutageMidSessionLosesAndDuplicatesNothing) {
  testing::TempDir spool("dita-pipe-ch");
  PipelineConfig config = pipeline_config("chout", spool.path(), core::KernelMode::kDebug);
  config.clickhouse.enabled = true;
  core::Kernel kernel = testing::session_kernel();
  auto pipeline = SinkPipeline::create(config, kernel, 0);
  ASSERT_TRUE(pipeline.has_value()) << pipeline.error();
  const auto inputs = testing::session_inputs(24);
  const std::size_t third = inputs.size() / 3;
  core::KernelOutcome outcome;
  const auto feed = [&](std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; ++i) {
      kernel.process(inputs[i], outcome);
      (*pipeline)->publish(inputs[i], outcome);
    }
  };
  feed(0, third);
  ASSERT_TRUE((*pipeline)->flush(std::chrono::seconds(20)));
  const std::uint16_t port = clickhouse_->port();
  ASSERT_TRUE(clickhouse_->stop());
  feed(third, 2 * third);  // trading goes on while ClickHouse is down
  EXPECT_TRUE(wait_for_state(**pipeline, 0, SinkState::kDown, std::chrono::seconds(10)));
  EXPECT_GT((*pipeline)->health().sinks[0].spool_depth, 0U);
  ASSERT_TRUE(clickhouse_->start(port).has_value()) << clickhouse_->last_output();
  feed(2 * third, inputs.size());
  ASSERT_TRUE((*pipeline)->flush(std::chrono::seconds(30)));
  EXPECT_EQ((*pipeline)->health().sinks[0].state, SinkState::kUp);
  (*pipeline)->stop();
  EXPECT_EQ(stored_row_ids("chout"), expected_row_ids(config.projection, inputs));
}

TEST_F(PipelineServerTest, SpoolSurvivesAPipelineRestartWhileClickHouseIsDown) {
  testing::TempDir spool("dita-pipe-restart");
  PipelineConfig config = pipeline_config("chrestart", spool.path(), core::KernelMode::kNormal);
  config.clickhouse.enabled = true;
  const auto inputs = testing::session_inputs(12);
  const std::size_t half = inputs.size() / 2;
  core::Kernel kernel = testing::session_kernel();
  core::KernelOutcome outcome;
  const std::uint16_t port = clickhouse_->port();
  ASSERT_TRUE(clickhouse_->stop());
  {
    auto first = SinkPipeline::create(config, kernel, 0);
    ASSERT_TRUE(first.has_value()) << first.error();
    for (std::size_t i = 0; i < half; ++i) {
      kernel.process(inputs[i], outcome);
      (*first)->publish(inputs[i], outcome);
    }
    EXPECT_FALSE((*first)->flush(std::chrono::milliseconds(200)));
  }  // destroyed with everything undelivered
  // A restarted DITA rebuilds its kernel by replaying the journal and re-publishes it: the
  // inputs already spooled are skipped, the rest are new.
  core::Kernel replayed = testing::session_kernel();
  auto second = SinkPipeline::create(config, replayed, 0);
  ASSERT_TRUE(second.has_value()) << second.error();
  EXPECT_GT((*second)->last_spooled_input_seq(), 0U);
  for (const auto& input : inputs) {
    replayed.process(input, outcome);
    (*second)->publish(input, outcome);
  }
  EXPECT_GT((*second)->health().skipped_already_spooled, 0U);
  ASSERT_TRUE(clickhouse_->start(port).has_value()) << clickhouse_->last_output();
  ASSERT_TRUE((*second)->flush(std::chrono::seconds(30)));
  (*second)->stop();
  EXPECT_EQ(stored_row_ids("chrestart"), expected_row_ids(config.projection, inputs));
}

TEST_F(PipelineServerTest, HazelcastMemberRestartConvergesToTheKernelsFinalState) {
  testing::TempDir spool("dita-pipe-hz");
  PipelineConfig config = pipeline_config("hzout", spool.path(), core::KernelMode::kNormal);
  config.hazelcast.enabled = true;
  core::Kernel kernel = testing::session_kernel();
  auto pipeline = SinkPipeline::create(config, kernel, 0);
  ASSERT_TRUE(pipeline.has_value()) << pipeline.error();
  // 10 trades, then 2 more ENTERs left open so the active registry is not empty.
  auto inputs = testing::session_inputs(10);
  const auto more = testing::session_inputs(12);
  for (std::size_t i = inputs.size(); i < more.size() && inputs.size() < more.size() - 20; ++i) {
    inputs.push_back(more[i]);
  }
  const std::size_t third = inputs.size() / 3;
  core::KernelOutcome outcome;
  const auto feed = [&](std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; ++i) {
      kernel.process(inputs[i], outcome);
      (*pipeline)->publish(inputs[i], outcome);
    }
  };
  feed(0, third);
  ASSERT_TRUE((*pipeline)->flush(std::chrono::seconds(20)));
  const std::uint16_t port = hazelcast_->port();
  ASSERT_TRUE(hazelcast_->stop());
  feed(third, 2 * third);
  EXPECT_TRUE(wait_for_state(**pipeline, 1, SinkState::kDown, std::chrono::seconds(10)));
  ASSERT_TRUE(hazelcast_->start(port).has_value()) << hazelcast_->last_output();
  feed(2 * third, inputs.size());
  ASSERT_TRUE((*pipeline)->flush(std::chrono::seconds(60)));
  // The member came back empty; the resync re-put everything, not only what changed since.
  EXPECT_GE((*pipeline)->health().sinks[1].resyncs, 1U);
  (*pipeline)->stop();

  const codec::CodecContext context{"dita"};
  const auto state = dump_map(config.projection.names.state);
  ASSERT_EQ(state.size(), kernel.slot_count());
  for (const auto& entry : state) {
    EXPECT_EQ(entry["key_type"], "str");
    EXPECT_EQ(entry["value_type"], "HazelcastJsonValue");
    const auto id = static_cast<std::uint32_t>(std::stoul(entry["key"].get<std::string>()));
    EXPECT_EQ(entry["value"], codec::canonical(codec::to_json(kernel.slot(id), context)));
    EXPECT_EQ(entry["get_value"], entry["value"]);
  }
  std::set<std::string> active_expected;
  for (const auto& slot : kernel.slots()) {
    if (slot.stage != core::TradeStage::kIdle && slot.stage != core::TradeStage::kClosed) {
      active_expected.insert(std::to_string(slot.slot_id));
    }
  }
  std::set<std::string> active;
  for (const auto& entry : dump_map(config.projection.names.active_slots)) {
    active.insert(entry["key"].get<std::string>());
  }
  EXPECT_FALSE(active_expected.empty());
  EXPECT_EQ(active, active_expected);
  const auto pnl = dump_map(config.projection.names.pnl);
  ASSERT_EQ(pnl.size(), 1U);
  const auto account = nlohmann::json::parse(pnl[0]["value"].get<std::string>());
  EXPECT_EQ(account["capital"], core::to_string(kernel.account().capital));
  EXPECT_EQ(account["trade_seq"], kernel.account().trade_seq);
}

TEST_F(PipelineServerTest, TradeEventsAndControlSnapshotReachOfficialClients) {
  testing::TempDir spool("dita-pipe-topic");
  PipelineConfig config = pipeline_config("hztopic", spool.path(), core::KernelMode::kNormal);
  config.hazelcast.enabled = true;
  const std::string command =
      "python3 " + shell_quote(source_dir() + "/tests/sink/hazelcast_readback.py") + " listen " +
      shell_quote(hazelcast_->address()) + " " + shell_quote(std::string(kCluster)) + " " +
      shell_quote(config.projection.names.trade_events) + " 14 30";
  FILE* listener = ::popen(command.c_str(), "r");
  ASSERT_NE(listener, nullptr);
  char line[8192];
  std::string ready;
  if (std::fgets(line, sizeof(line), listener) != nullptr) ready = line;
  if (ready != "ready\n") {
    ::pclose(listener);
    FAIL() << "listener did not subscribe: " << ready;
  }
  core::Kernel kernel = testing::session_kernel();
  auto pipeline = SinkPipeline::create(config, kernel, 0);
  ASSERT_TRUE(pipeline.has_value()) << pipeline.error();
  core::KernelOutcome outcome;
  for (const auto& input : testing::session_inputs(2)) {
    kernel.process(input, outcome);
    (*pipeline)->publish(input, outcome);
  }
  ControlChange halt;
  halt.seq = 1;
  halt.control = "halt";
  halt.old_value = "false";
  halt.new_value = "true";
  halt.actor = "operator";
  halt.reason = "test";
  (*pipeline)->record_control_change(halt);
  ASSERT_TRUE((*pipeline)->flush(std::chrono::seconds(20)));
  std::vector<std::string> events;
  while (std::fgets(line, sizeof(line), listener) != nullptr) {
    const auto message = nlohmann::json::parse(line);
    EXPECT_EQ(message["type"], "HazelcastJsonValue");
    events.push_back(nlohmann::json::parse(message["value"].get<std::string>())["event"]);
  }
  ::pclose(listener);
  std::map<std::string, int> counts;
  for (const auto& event : events) counts[event] += 1;
  EXPECT_EQ(events.size(), 14U);
  EXPECT_EQ(counts["ENTER"], 2);
  EXPECT_EQ(counts["ENTRY_FILL"], 4);
  EXPECT_EQ(counts["EXIT_FILL"], 6);
  EXPECT_EQ(counts["CLOSE"], 2);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.front(), "ENTER");
  const auto control = dump_map(config.projection.names.control);
  ASSERT_EQ(control.size(), 1U);
  EXPECT_EQ(control[0]["key"], "halt");
  EXPECT_EQ(nlohmann::json::parse(control[0]["value"].get<std::string>())["value"], "true");
}

}  // namespace
}  // namespace dita::sink
