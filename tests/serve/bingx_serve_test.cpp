// `dita serve --venue bingx` against dita-bingx-sim on 127.0.0.1 (never any other address):
// the kernel's instruments and capital come from the venue, market intents from `dita intent`
// fill through the adapter (REST + user-data stream), and a restart on the same journal keeps
// the order id prefix minted for it, so client order ids never repeat on the account.
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "serve/serve_process.hpp"
#include "sim/sim_harness.hpp"

namespace {

using dita::serve_testing::json;
using dita::serve_testing::ServeProcess;
using dita::sim::testing::admin;
using dita::sim::testing::SimProcess;

// Points `dita serve` at the simulator; no sink is configured.
void configure_env(const SimProcess& sim) {
  ::setenv("DITA_V2_BINGX_BASE_URL", sim.base_url().c_str(), 1);
  ::setenv("DITA_V2_BINGX_API_KEY", dita::sim::testing::kApiKey, 1);
  ::setenv("DITA_V2_BINGX_API_SECRET", dita::sim::testing::kSecret, 1);
  for (const char* name : {"DITA_V2_BINGX_KEY_FILE", "DITA_V2_BINGX_WS_URL",
                           "DITA_V2_BINGX_ALLOW_LIVE", "DITA_V2_CLICKHOUSE_URL",
                           "DITA_V2_HAZELCAST", "DITA_V2_ORDER_ID_PREFIX", "DITA_V2_VENUE"}) {
    ::unsetenv(name);
  }
}

std::vector<std::string> client_order_ids(const SimProcess& sim) {
  std::vector<std::string> ids;
  const json answer = admin(sim, "GET", "/admin/orders").json();
  for (const auto& order : answer["orders"]) {
    ids.push_back(order.value("clientOrderId", ""));
  }
  return ids;
}

json stage_is(ServeProcess& serve, const std::string& stage) {
  return serve.wait_for_status([&](const json& s) { return s["slots"][0]["stage"] == stage; });
}

TEST(BingxServe, MarketCycleThroughTheAdapterAndARestartKeepsTheOrderIdPrefix) {
  SimProcess sim;
  ASSERT_TRUE(admin(sim, "POST", "/admin/price", R"({"symbol":"BTC-USDT","price":"60000"})")
                  .json()
                  .value("ok", false));
  configure_env(sim);
  ServeProcess serve("bxs");
  const std::vector<std::string> flags{"--venue", "bingx", "--slot-count", "2", "--tick-ms", "50"};
  if (auto failed = serve.start(flags)) FAIL() << *failed;

  json s = serve.wait_for_status([](const json& j) { return j["account"]["seeded"] == true; });
  EXPECT_EQ(s["account"]["capital"], "10000") << "capital comes from the venue balance";
  EXPECT_EQ(s["control"]["backend"], "BINGX");

  // Market entry (no --price): the simulator fills at its price; the fill arrives by stream.
  auto entered = serve.intent({"enter", "--slot", "0", "--asset", "BTC-USDT", "--side", "LONG",
                               "--size", "0.001", "--leverage", "5"});
  ASSERT_EQ(entered.code, 0) << entered.describe();
  s = stage_is(serve, "POSITION_OPEN");
  ASSERT_EQ(s["slots"][0]["stage"], "POSITION_OPEN") << s.dump(1) << serve.log_text();
  EXPECT_EQ(s["slots"][0]["size"], "0.001");
  EXPECT_EQ(s["slots"][0]["entry_price"], "60000");

  auto exited = serve.intent({"exit", "--slot", "0"});
  ASSERT_EQ(exited.code, 0) << exited.describe();
  s = stage_is(serve, "CLOSED");
  ASSERT_EQ(s["slots"][0]["stage"], "CLOSED") << s.dump(1) << serve.log_text();
  EXPECT_EQ(s["slots"][0]["size"], "0");
  EXPECT_EQ(s["account"]["trade_seq"], 1);

  // A prefix of its own, minted for this journal: "d" + 7 base-36 digits.
  const auto first_ids = client_order_ids(sim);
  ASSERT_EQ(first_ids.size(), 2U);
  std::smatch match;
  ASSERT_TRUE(std::regex_match(first_ids[0], match, std::regex("(d[0-9a-z]{7})s0t1l0a0")))
      << first_ids[0];
  const std::string prefix = match[1];
  EXPECT_EQ(first_ids[1], prefix + "s0t1l1a0");
  EXPECT_EQ(serve.stop(), 0) << serve.log_text();

  // Restart on the same journal: recovery takes the prefix from the journal (its kernel
  // configuration must match), and the next trade's ids continue under it.
  if (auto failed = serve.start(flags)) FAIL() << *failed;
  s = serve.status_or_null().value_or(json::object());
  EXPECT_EQ(s["slots"][0]["stage"], "CLOSED");
  EXPECT_EQ(s["account"]["trade_seq"], 1);
  entered = serve.intent({"enter", "--slot", "0", "--asset", "BTC-USDT", "--side", "SHORT",
                          "--size", "0.002", "--leverage", "3"});
  ASSERT_EQ(entered.code, 0) << entered.describe();
  s = stage_is(serve, "POSITION_OPEN");
  ASSERT_EQ(s["slots"][0]["stage"], "POSITION_OPEN") << s.dump(1) << serve.log_text();
  exited = serve.intent({"exit", "--slot", "0"});
  ASSERT_EQ(exited.code, 0) << exited.describe();
  s = stage_is(serve, "CLOSED");
  ASSERT_EQ(s["slots"][0]["stage"], "CLOSED") << s.dump(1) << serve.log_text();
  EXPECT_EQ(s["account"]["trade_seq"], 2);
  const auto all_ids = client_order_ids(sim);
  ASSERT_EQ(all_ids.size(), 4U);
  EXPECT_EQ(all_ids[2], prefix + "s0t2l0a0");
  EXPECT_EQ(all_ids[3], prefix + "s0t2l1a0");
  EXPECT_EQ(serve.stop(), 0) << serve.log_text();
  EXPECT_NE(serve.log_text().find("order id prefix " + prefix), std::string::npos)
      << serve.log_text();
}

}  // namespace
