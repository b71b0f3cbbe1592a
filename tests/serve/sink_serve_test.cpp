// `dita serve` with its sinks on: a real ClickHouse and a real Hazelcast member started by
// scripts/start-clickhouse (or start-chdb: DITA_TEST_CLICKHOUSE_KIND) / scripts/start-hazelcast
// in temp dirs on loopback. Trades made with `dita intent` reach both; `dita status` shows each
// sink's health and spool depth; with ClickHouse stopped mid-session the rows wait in the
// spool (DOWN/DEGRADED, depth > 0) and arrive after its restart on the same data dir and port,
// each exactly once.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "dita/sink/clickhouse_writer.hpp"
#include "serve/serve_process.hpp"
#include "sink/server_harness.hpp"

namespace {

using dita::serve_testing::json;
using dita::serve_testing::ServeProcess;
namespace harness = dita::sink::testing;

constexpr const char* kCluster = "dita-serve-sink";

class SinkServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    servers_ = std::make_unique<harness::TempDir>("dita-serve-sinks");
    clickhouse_ = std::make_unique<harness::ScriptedServer>(harness::clickhouse_kind(),
                                                            servers_->path() + "/ch");
    hazelcast_ = std::make_unique<harness::ScriptedServer>(
        "hazelcast", servers_->path() + "/hz", std::string("DITA_HAZELCAST_CLUSTER=") + kCluster);
    ASSERT_TRUE(clickhouse_->start()) << clickhouse_->last_output();
    const auto schema = harness::run_command(
        "python3 " +
        harness::shell_quote(harness::source_dir() + "/deploy/clickhouse/apply_schema.py") + " " +
        harness::shell_quote(clickhouse_->address()));
    ASSERT_EQ(schema.exit_code, 0) << schema.output;
    ASSERT_TRUE(hazelcast_->start()) << hazelcast_->last_output();
  }
  void TearDown() override {
    serve_.reset();  // kills a server still running
    clickhouse_.reset();
    hazelcast_.reset();
    servers_.reset();
  }

  std::string query(const std::string& sql) {
    dita::sink::clickhouse::WriterConfig config;
    config.host = clickhouse_->host();
    config.port = clickhouse_->port();
    dita::sink::clickhouse::Writer writer(config);
    auto result = writer.query(sql);
    EXPECT_TRUE(result.has_value()) << (result ? "" : result.error().describe());
    return result.value_or("");
  }

  // A limit entry at 60000 and exit at 61000 on slot 0 (the mock fills limits at once).
  void cycle() {
    auto entered = serve_->intent({"enter", "--slot", "0", "--asset", "BTC-USDT", "--side", "LONG",
                                   "--size", "0.01", "--price", "60000"});
    ASSERT_EQ(entered.code, 0) << entered.describe();
    auto exited = serve_->intent({"exit", "--slot", "0", "--price", "61000"});
    ASSERT_EQ(exited.code, 0) << exited.describe();
  }

  std::unique_ptr<harness::TempDir> servers_;
  std::unique_ptr<harness::ScriptedServer> clickhouse_;
  std::unique_ptr<harness::ScriptedServer> hazelcast_;
  std::unique_ptr<ServeProcess> serve_;
};

TEST_F(SinkServeTest, RowsSurviveAClickHouseOutageAndArriveExactlyOnce) {
  serve_ = std::make_unique<ServeProcess>("sks");
  const std::string strategy = "sks" + std::to_string(::getpid());
  ::setenv("DITA_V2_CLICKHOUSE_URL", ("http://" + clickhouse_->address()).c_str(), 1);
  ::setenv("DITA_V2_HAZELCAST", "REAL", 1);
  ::setenv("DITA_V2_HAZELCAST_ADDRESS", hazelcast_->address().c_str(), 1);
  ::setenv("DITA_V2_HAZELCAST_CLUSTER", kCluster, 1);
  ::setenv("DITA_V2_MIRROR_TO_HAZELCAST", "true", 1);
  ::setenv("DITA_V2_STRATEGY", strategy.c_str(), 1);
  ::setenv("DITA_V2_SPOOL_DIR", (serve_->dir() / "spool").c_str(), 1);
  if (auto failed = serve_->start({"--venue", "mock"})) FAIL() << *failed;

  cycle();
  const auto delivered = [](const json& s) {
    return s["slots"][0]["stage"] == "CLOSED" && s["sinks"]["clickhouse"]["state"] == "UP" &&
           s["sinks"]["clickhouse"]["spool_depth"] == 0 &&
           s["sinks"]["clickhouse"]["delivered_records"].get<int>() > 0 &&
           s["sinks"]["hazelcast"]["state"] == "UP" && s["sinks"]["hazelcast"]["spool_depth"] == 0;
  };
  json s = serve_->wait_for_status(delivered);
  ASSERT_TRUE(delivered(s)) << s.dump(1) << serve_->log_text();

  // ClickHouse goes away: trading goes on, its rows wait in the spool.
  ASSERT_TRUE(clickhouse_->stop());
  cycle();
  s = serve_->wait_for_status([](const json& j) {
    const auto& ch = j["sinks"]["clickhouse"];
    return j["account"]["trade_seq"] == 2 && (ch["state"] == "DOWN" || ch["state"] == "DEGRADED") &&
           ch["spool_depth"].get<int>() > 0;
  });
  ASSERT_EQ(s["account"]["trade_seq"], 2) << s.dump(1);
  EXPECT_TRUE(s["sinks"]["clickhouse"]["state"] == "DOWN" ||
              s["sinks"]["clickhouse"]["state"] == "DEGRADED")
      << s.dump(1);
  EXPECT_GT(s["sinks"]["clickhouse"]["spool_depth"].get<int>(), 0) << s.dump(1);
  EXPECT_FALSE(s["sinks"]["clickhouse"]["last_error"].get<std::string>().empty()) << s.dump(1);
  EXPECT_EQ(s["sinks"]["hazelcast"]["state"], "UP") << s.dump(1);
  const auto text = dita::serve_testing::run_dita({"status", "--instance", serve_->instance()});
  EXPECT_NE(text.out.find("clickhouse "), std::string::npos) << text.out;

  // Back on the same data dir and port: the spool drains.
  ASSERT_TRUE(clickhouse_->start(clickhouse_->port())) << clickhouse_->last_output();
  s = serve_->wait_for_status(delivered, std::chrono::seconds(30));
  ASSERT_TRUE(delivered(s)) << s.dump(1) << serve_->log_text();
  EXPECT_EQ(serve_->stop(), 0) << serve_->log_text();

  // Exactly once: one row per row id, two closed trades, two entries.
  const std::string where = " WHERE strategy = '" + strategy + "'";
  for (const char* table :
       {"trade_entries", "trade_exits", "trade_exit_legs", "account_snapshots"}) {
    const std::string counts = query(std::string("SELECT count(), uniqExact(row_id) FROM dita.") +
                                     table + " FINAL" + where);
    const auto tab = counts.find('\t');
    ASSERT_NE(tab, std::string::npos) << table << ": " << counts;
    EXPECT_EQ(std::stoi(counts.substr(0, tab)), std::stoi(counts.substr(tab + 1)))
        << table << ": " << counts;
  }
  EXPECT_EQ(query("SELECT count() FROM dita.trade_exits FINAL" + where), "2\n");
  EXPECT_EQ(query("SELECT count() FROM dita.trade_entries FINAL" + where), "2\n");
  EXPECT_EQ(query("SELECT count() FROM dita.trade_exits" + where), "2\n") << "no duplicate sent";
}

TEST_F(SinkServeTest, JournaledInputsMissingFromTheSpoolAreSpooledFromTheJournalOnRestart) {
  serve_ = std::make_unique<ServeProcess>("skr");
  const std::string strategy = "skr" + std::to_string(::getpid());
  const auto spool = serve_->dir() / "spool";
  ::setenv("DITA_V2_CLICKHOUSE_URL", ("http://" + clickhouse_->address()).c_str(), 1);
  ::setenv("DITA_V2_HAZELCAST", "OFF", 1);
  ::setenv("DITA_V2_STRATEGY", strategy.c_str(), 1);
  ::setenv("DITA_V2_SPOOL_DIR", spool.c_str(), 1);
  ASSERT_TRUE(clickhouse_->stop());  // nothing is delivered in the first run
  if (auto failed = serve_->start({"--venue", "mock"})) FAIL() << *failed;
  cycle();
  json s = serve_->wait_for_status([](const json& j) { return j["account"]["trade_seq"] == 1; });
  ASSERT_EQ(s["account"]["trade_seq"], 1) << s.dump(1);
  ASSERT_EQ(serve_->stop(), 0) << serve_->log_text();

  // The spool is lost: every input is in the journal but none in the spool, as after a
  // crash between the journal commit and the spool write.
  std::filesystem::remove_all(spool);
  ASSERT_TRUE(clickhouse_->start(clickhouse_->port())) << clickhouse_->last_output();
  if (auto failed = serve_->start({"--venue", "mock"})) FAIL() << *failed;
  const auto delivered = [](const json& j) {
    const auto& ch = j["sinks"]["clickhouse"];
    return ch["state"] == "UP" && ch["spool_depth"] == 0 && ch["delivered_records"].get<int>() > 0;
  };
  s = serve_->wait_for_status(delivered, std::chrono::seconds(30));
  ASSERT_TRUE(delivered(s)) << s.dump(1) << serve_->log_text();
  EXPECT_NE(serve_->log_text().find("spooled them from the journal"), std::string::npos)
      << serve_->log_text();
  EXPECT_EQ(serve_->stop(), 0) << serve_->log_text();

  const std::string where = " WHERE strategy = '" + strategy + "'";
  EXPECT_EQ(query("SELECT count() FROM dita.trade_entries FINAL" + where), "1\n");
  EXPECT_EQ(query("SELECT count() FROM dita.trade_exits FINAL" + where), "1\n");
  EXPECT_EQ(query("SELECT count() FROM dita.trade_exits" + where), "1\n") << "sent once";
}

}  // namespace
