// In-process tests of the simulator's decimal type, config validation and exchange core.
#include <gtest/gtest.h>

#include "dita/sim/config.hpp"
#include "dita/sim/decimal.hpp"
#include "dita/sim/exchange.hpp"

namespace sim = dita::sim;

namespace {

sim::Decimal dec(const char* text) {
  return *sim::Decimal::parse(text);
}

TEST(SimDecimal, ParsesPlainNotationAndTruncatesBeyondEightDecimals) {
  EXPECT_EQ(dec("0.001").raw(), 100000);
  EXPECT_EQ(dec("-12.5").raw(), -1250000000);
  EXPECT_EQ(dec("1.123456789").raw(), 112345678);
  EXPECT_EQ(dec("5.").raw(), 500000000);
  EXPECT_EQ(dec(".5").raw(), 50000000);
}

TEST(SimDecimal, RejectsExponentsGarbageAndOverflow) {
  for (const char* bad :
       {"", "-", ".", "1e5", "NaN", "inf", "1.2.3", "12a", " 1", "999999999999999999999"}) {
    EXPECT_FALSE(sim::Decimal::parse(bad).has_value()) << bad;
  }
}

TEST(SimDecimal, FormatsWithTruncationNotRounding) {
  EXPECT_EQ(dec("0.123456").truncated(4).to_string(4), "0.1234");
  EXPECT_EQ(dec("59999.99").to_string(1), "59999.9");
  EXPECT_EQ(dec("-0.5").to_string(2), "-0.50");
  EXPECT_EQ(dec("2.50").to_plain(), "2.5");
  EXPECT_EQ(dec("0").to_plain(), "0");
}

TEST(SimDecimal, MultipliesAndDividesExactlyAtScale) {
  EXPECT_EQ(sim::Decimal::mul(dec("0.001"), dec("60000")), dec("60"));
  EXPECT_EQ(sim::Decimal::div(dec("60"), dec("0.001")), dec("60000"));
}

TEST(SimConfig, RejectsUnknownFieldsAndNamesThem) {
  auto config = sim::default_config();
  const auto error = sim::apply_config_json(config, nlohmann::json{{"sede", 5}});
  ASSERT_TRUE(error.has_value());
  EXPECT_NE(error->find("sede"), std::string::npos);
}

TEST(SimConfig, RejectsFillLegsThatDoNotSumToOne) {
  auto config = sim::default_config();
  const auto error = sim::apply_config_json(
      config, nlohmann::json::parse(R"({"fillPlan":{"legs":["0.5","0.4"]}})"));
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(config.fill_legs.size(), 1U);  // unchanged on error
}

TEST(SimConfig, AppliesSwitchesAndRateLimits) {
  auto config = sim::default_config();
  const auto error = sim::apply_config_json(config, nlohmann::json::parse(R"({
    "switches": {"cancelFilledCode": 109422},
    "rateLimits": {"mode": "http429", "endpoints": {"GET /x": {"limit": 2, "windowMs": 100}}}
  })"));
  ASSERT_FALSE(error.has_value()) << *error;
  EXPECT_EQ(config.switches.cancel_filled_code, 109422);
  EXPECT_EQ(config.rate_limits.mode, sim::RateLimitConfig::Mode::kHttp429);
  EXPECT_EQ(config.rate_limits.endpoints.at("GET /x").limit, 2);
}

std::vector<std::string> walk(std::uint64_t seed, int steps) {
  auto config = sim::default_config();
  config.seed = seed;
  sim::Exchange ex(config);
  std::vector<std::string> prices;
  for (int i = 0; i < steps; ++i) {
    ex.step_prices(1, 0);
    prices.push_back(ex.price("BTC-USDT")->to_plain());
  }
  return prices;
}

TEST(SimExchange, RandomWalkIsDeterministicForASeed) {
  EXPECT_EQ(walk(42, 50), walk(42, 50));
  EXPECT_NE(walk(42, 50), walk(43, 50));
}

TEST(SimExchange, ScriptedPricesAreVisitedInOrderAndRestingLimitFillsOnCross) {
  auto config = sim::default_config();
  ASSERT_FALSE(sim::apply_config_json(config, nlohmann::json::parse(R"({
    "prices": {"BTC-USDT": {"mode": "script", "script": ["60000", "59900", "59800"]}}
  })")));
  sim::Exchange ex(config);
  const sim::ParamMap order{{"symbol", "BTC-USDT"}, {"side", "BUY"},      {"type", "LIMIT"},
                            {"price", "59850"},     {"quantity", "0.01"}, {"positionSide", "BOTH"}};
  const auto placed = ex.place_order("sim-key", order, 1);
  ASSERT_EQ(placed.code, 0) << placed.msg;
  const auto id = placed.data["order"]["orderId"].get<std::int64_t>();
  const sim::ParamMap query{{"symbol", "BTC-USDT"}, {"orderId", std::to_string(id)}};
  ex.step_prices(1, 2);
  EXPECT_EQ(ex.query_order("sim-key", query).data["order"]["status"], "PENDING");
  ex.step_prices(1, 3);
  EXPECT_EQ(*ex.price("BTC-USDT"), dec("59800"));
  const auto filled = ex.query_order("sim-key", query).data["order"];
  EXPECT_EQ(filled["status"], "FILLED");
  EXPECT_EQ(filled["avgPrice"], "59850.0");  // resting orders fill at their limit (maker)
}

TEST(SimExchange, EventsUseWebSocketSpellings) {
  sim::Exchange ex(sim::default_config());
  const sim::ParamMap order{{"symbol", "BTC-USDT"},   {"side", "BUY"},
                            {"type", "LIMIT"},        {"price", "50000"},
                            {"quantity", "0.001"},    {"positionSide", "BOTH"},
                            {"clientOrderId", "AbC1"}};
  const auto placed = ex.place_order("sim-key", order, 1);
  ASSERT_EQ(placed.code, 0);
  const auto cancelled =
      ex.cancel_order("sim-key", {{"symbol", "BTC-USDT"}, {"clientOrderId", "ABC1"}}, 2);
  ASSERT_EQ(cancelled.code, 0) << cancelled.msg;
  EXPECT_EQ(cancelled.data["order"]["status"], "CANCELLED");
  const auto events = ex.take_events();
  ASSERT_EQ(events.size(), 2U);
  EXPECT_EQ(events[0].payload["o"]["X"], "NEW");
  EXPECT_EQ(events[1].payload["o"]["X"], "CANCELED");
  EXPECT_EQ(events[1].payload["o"]["c"], "abc1");
}

}  // namespace
