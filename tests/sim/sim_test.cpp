// End-to-end tests of dita-bingx-sim over HTTP and WebSocket on 127.0.0.1.
#include <curl/curl.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include "sim_harness.hpp"

namespace {

using dita::sim::testing::admin;
using dita::sim::testing::http;
using dita::sim::testing::HttpResult;
using dita::sim::testing::signed_call;
using dita::sim::testing::SimProcess;
using dita::sim::testing::wall_ms;
using dita::sim::testing::WsClient;
using nlohmann::json;
namespace bingx = dita::venue::bingx;

constexpr const char* kOrderPath = "/openApi/swap/v2/trade/order";

json ok_data(const HttpResult& r) {
  EXPECT_EQ(r.curl_code, 0);
  EXPECT_EQ(r.status, 200);
  const json j = r.json();
  EXPECT_FALSE(j.is_discarded()) << r.body;
  EXPECT_EQ(j.value("code", -1), 0) << r.body;
  return j.is_discarded() ? json() : j["data"];
}

int code_of(const HttpResult& r) {
  const json j = r.json();
  return j.is_discarded() ? -1 : j.value("code", -1);
}

HttpResult place(const SimProcess& sim, const std::string& side, const std::string& type,
                 const std::string& qty, const std::string& price = "",
                 const std::string& client_id = "", const std::string& symbol = "BTC-USDT") {
  bingx::QueryParams p{{"symbol", symbol},
                       {"side", side},
                       {"type", type},
                       {"quantity", qty},
                       {"positionSide", "BOTH"}};
  if (!price.empty()) p.push_back({"price", price});
  if (!client_id.empty()) p.push_back({"clientOrderId", client_id});
  return signed_call(sim, "POST", kOrderPath, p);
}

json query(const SimProcess& sim, const std::string& key, const std::string& value) {
  return ok_data(
      signed_call(sim, "GET", kOrderPath, {{"symbol", "BTC-USDT"}, {key, value}}))["order"];
}

std::string order_id(const HttpResult& placed) {
  return std::to_string(ok_data(placed)["order"]["orderId"].get<std::int64_t>());
}

class SimTest : public ::testing::Test {
 protected:
  SimProcess sim_;
};

// ------------------------------------------------------------------------ process & shapes

TEST(SimCli, RefusesNonLoopbackHost) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, STDERR_FILENO);
    ::execl(DITA_BINGX_SIM_PATH, DITA_BINGX_SIM_PATH, "--port", "0", "--host", "0.0.0.0",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2);
}

TEST(SimCli, ShutsDownCleanlyOnSigterm) {
  SimProcess sim;
  EXPECT_EQ(ok_data(http("GET", sim.base_url() + "/openApi/swap/v2/server/time")).size(), 1U);
  EXPECT_EQ(sim.stop(), 0);
}

TEST_F(SimTest, ServerTimeIsAnIntegerInTheEnvelope) {
  const auto before = wall_ms();
  const json data = ok_data(http("GET", sim_.base_url() + "/openApi/swap/v2/server/time"));
  ASSERT_TRUE(data["serverTime"].is_number_integer());
  EXPECT_GE(data["serverTime"].get<std::int64_t>(), before);
}

TEST_F(SimTest, ContractsUseNumbersAndStringsWhereTheVenueDoes) {
  const json data = ok_data(http("GET", sim_.base_url() + "/openApi/swap/v2/quote/contracts"));
  ASSERT_TRUE(data.is_array());
  ASSERT_GE(data.size(), 1U);
  const json& c = data[0];
  EXPECT_EQ(c["symbol"], "BTC-USDT");
  EXPECT_TRUE(c["contractId"].is_string());
  EXPECT_TRUE(c["quantityPrecision"].is_number_integer());
  EXPECT_TRUE(c["pricePrecision"].is_number_integer());
  EXPECT_TRUE(c["tradeMinQuantity"].is_number());
  EXPECT_TRUE(c["tradeMinUSDT"].is_number());
  EXPECT_TRUE(c["takerFeeRate"].is_number());
  EXPECT_EQ(c["apiStateOpen"], "true");
  EXPECT_EQ(c["size"], "0");
}

TEST_F(SimTest, BalanceV3ReturnsStringAmountsPerAsset) {
  const json data = ok_data(signed_call(sim_, "GET", "/openApi/swap/v3/user/balance", {}));
  ASSERT_TRUE(data.is_array());
  bool saw_usdt = false;
  for (const auto& row : data) {
    for (const char* f : {"userId", "asset", "balance", "equity", "unrealizedProfit",
                          "realisedProfit", "availableMargin", "usedMargin", "freezedMargin"}) {
      EXPECT_TRUE(row[f].is_string()) << f;
    }
    if (row["asset"] == "USDT") {
      saw_usdt = true;
      EXPECT_EQ(row["balance"], "10000.00000000");
    }
  }
  EXPECT_TRUE(saw_usdt);
}

TEST_F(SimTest, PositionsAppearAfterAFillWithTheVenueTypes) {
  EXPECT_TRUE(ok_data(signed_call(sim_, "GET", "/openApi/swap/v2/user/positions", {})).empty());
  ok_data(place(sim_, "BUY", "MARKET", "0.01"));
  const json data = ok_data(
      signed_call(sim_, "GET", "/openApi/swap/v2/user/positions", {{"symbol", "BTC-USDT"}}));
  ASSERT_EQ(data.size(), 1U);
  const json& p = data[0];
  EXPECT_EQ(p["positionSide"], "BOTH");
  EXPECT_EQ(p["positionAmt"], "0.0100");
  EXPECT_TRUE(p["positionId"].is_string());
  EXPECT_TRUE(p["avgPrice"].is_string());
  EXPECT_TRUE(p["liquidationPrice"].is_number());
  EXPECT_TRUE(p["leverage"].is_number_integer());
  EXPECT_TRUE(p["realisedProfit"].is_string());
  EXPECT_EQ(p["onlyOnePosition"], true);
}

// ---------------------------------------------------------------------------- authentication

TEST_F(SimTest, MissingApiKeyIsRejectedWith100413) {
  const auto r = http("GET", sim_.base_url() + "/openApi/swap/v3/user/balance?timestamp=1");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(code_of(r), 100413);
}

TEST_F(SimTest, UnknownApiKeyIsRejectedWith100413) {
  EXPECT_EQ(code_of(signed_call(sim_, "GET", "/openApi/swap/v3/user/balance", {}, std::nullopt,
                                "other-key")),
            100413);
}

TEST_F(SimTest, WrongSecretIsRejectedWith100001) {
  const auto r = signed_call(sim_, "GET", "/openApi/swap/v3/user/balance", {}, std::nullopt,
                             "sim-key", "not-the-secret");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(code_of(r), 100001);
}

TEST_F(SimTest, TamperedParameterIsRejectedWith100001) {
  auto s = bingx::sign_request({{"symbol", "BTC-USDT"}}, "sim-secret-0123456789abcdef", wall_ms(),
                               std::nullopt);
  const std::string tampered = "symbol=ETH-USDT" + s.query.substr(s.query.find('&'));
  const auto r = http("GET", sim_.base_url() + "/openApi/swap/v2/user/positions?" + tampered,
                      {"X-BX-APIKEY: sim-key"});
  EXPECT_EQ(code_of(r), 100001);
}

TEST_F(SimTest, MissingSignatureIsRejectedWith100412) {
  const auto r =
      http("GET",
           sim_.base_url() + "/openApi/swap/v3/user/balance?timestamp=" + std::to_string(wall_ms()),
           {"X-BX-APIKEY: sim-key"});
  EXPECT_EQ(code_of(r), 100412);
}

TEST_F(SimTest, StaleTimestampIsRejectedWith100421) {
  EXPECT_EQ(
      code_of(signed_call(sim_, "GET", "/openApi/swap/v3/user/balance", {}, wall_ms() - 60'000)),
      100421);
}

TEST_F(SimTest, FutureTimestampIsRejectedWith100421) {
  EXPECT_EQ(
      code_of(signed_call(sim_, "GET", "/openApi/swap/v3/user/balance", {}, wall_ms() + 60'000)),
      100421);
}

TEST_F(SimTest, WiderRecvWindowAcceptsAnOlderTimestamp) {
  const auto r = signed_call(sim_, "GET", "/openApi/swap/v3/user/balance",
                             {{"recvWindow", "60000"}}, wall_ms() - 20'000);
  EXPECT_EQ(code_of(r), 0) << r.body;
}

TEST_F(SimTest, FormBodyAndJsonBodySignaturesAreAccepted) {
  const auto s = bingx::sign_request({{"symbol", "BTC-USDT"}}, "sim-secret-0123456789abcdef",
                                     wall_ms(), std::nullopt);
  const auto form =
      http("GET", sim_.base_url() + "/openApi/swap/v2/trade/openOrders",
           {"X-BX-APIKEY: sim-key", "Content-Type: application/x-www-form-urlencoded"}, s.query);
  EXPECT_EQ(code_of(form), 0) << form.body;
  const json body{{"symbol", "BTC-USDT"},
                  {"timestamp", std::stoll(s.payload.substr(s.payload.find("timestamp=") + 10))},
                  {"signature", s.signature}};
  const auto js = http("GET", sim_.base_url() + "/openApi/swap/v2/trade/openOrders",
                       {"X-BX-APIKEY: sim-key", "Content-Type: application/json"}, body.dump());
  EXPECT_EQ(code_of(js), 0) << js.body;
}

// --------------------------------------------------------------------------------- orders

TEST_F(SimTest, MarketOrderFillsImmediatelyAndAckUsesCapitalIdAndNumbers) {
  const auto placed = place(sim_, "BUY", "MARKET", "0.001", "", "MyOrder01");
  const json ack = ok_data(placed)["order"];
  EXPECT_TRUE(ack["orderId"].is_number_integer());
  EXPECT_GT(ack["orderId"].get<std::int64_t>(), std::int64_t{1} << 53);
  EXPECT_EQ(ack["clientOrderID"], "myorder01");
  EXPECT_FALSE(ack.contains("clientOrderId"));
  EXPECT_TRUE(ack["quantity"].is_number());
  EXPECT_TRUE(ack["price"].is_number());

  const json order = query(sim_, "clientOrderId", "MYORDER01");
  EXPECT_EQ(order["status"], "FILLED");
  EXPECT_EQ(order["clientOrderId"], "myorder01");
  EXPECT_FALSE(order.contains("clientOrderID"));
  EXPECT_EQ(order["executedQty"], "0.0010");
  EXPECT_EQ(order["avgPrice"], "60000.0");
  EXPECT_TRUE(order["commission"].is_string());
  EXPECT_EQ(order["commission"].get<std::string>().front(), '-');
  EXPECT_EQ(order["orderId"], ack["orderId"]);
}

TEST_F(SimTest, LimitOrderRestsThenFillsWhenThePriceCrosses) {
  const auto id = order_id(place(sim_, "BUY", "LIMIT", "0.001", "59000"));
  EXPECT_EQ(query(sim_, "orderId", id)["status"], "PENDING");
  const json open = ok_data(signed_call(sim_, "GET", "/openApi/swap/v2/trade/openOrders", {}));
  EXPECT_EQ(open["orders"].size(), 1U);
  ASSERT_EQ(admin(sim_, "POST", "/admin/price", R"({"symbol":"BTC-USDT","price":"58950"})").status,
            200);
  const json order = query(sim_, "orderId", id);
  EXPECT_EQ(order["status"], "FILLED");
  EXPECT_EQ(order["avgPrice"], "59000.0");
}

TEST_F(SimTest, PartialFillsFollowTheFillPlan) {
  ASSERT_EQ(admin(sim_, "POST", "/admin/fill-plan", R"({"legs":["0.25","0.75"],"legsPerMatch":1})")
                .status,
            200);
  const auto id = order_id(place(sim_, "SELL", "LIMIT", "0.0100", "60000"));  // crosses now
  json order = query(sim_, "orderId", id);
  EXPECT_EQ(order["status"], "PARTIALLY_FILLED");
  EXPECT_EQ(order["executedQty"], "0.0025");
  admin(sim_, "POST", "/admin/price", R"({"symbol":"BTC-USDT","price":"60010"})");
  order = query(sim_, "orderId", id);
  EXPECT_EQ(order["status"], "FILLED");
  EXPECT_EQ(order["executedQty"], "0.0100");
  const json orders = admin(sim_, "GET", "/admin/orders").json()["orders"];
  ASSERT_EQ(orders.size(), 1U);
  EXPECT_EQ(orders[0]["fills"].size(), 2U);
}

TEST_F(SimTest, PerClientFillPlanSplitsAMarketOrderIntoLegs) {
  admin(sim_, "POST", "/admin/fill-plan",
        R"({"clientOrderId":"Legs3","legs":["0.5","0.3","0.2"]})");
  ok_data(place(sim_, "BUY", "MARKET", "0.01", "", "legs3"));
  const json orders = admin(sim_, "GET", "/admin/orders").json()["orders"];
  ASSERT_EQ(orders.size(), 1U);
  EXPECT_EQ(orders[0]["status"], "FILLED");
  EXPECT_EQ(orders[0]["fills"].size(), 3U);
}

TEST_F(SimTest, CancellingAWorkingOrderReturnsItCancelled) {
  const auto id = order_id(place(sim_, "BUY", "LIMIT", "0.001", "50000", "cxl1"));
  const json data =
      ok_data(signed_call(sim_, "DELETE", kOrderPath, {{"symbol", "BTC-USDT"}, {"orderId", id}}));
  EXPECT_EQ(data["order"]["status"], "CANCELLED");
  EXPECT_EQ(data["order"]["clientOrderId"], "cxl1");
  EXPECT_TRUE(
      ok_data(signed_call(sim_, "GET", "/openApi/swap/v2/trade/openOrders", {}))["orders"].empty());
}

TEST_F(SimTest, CancellingAFilledOrderIsRejectedWithTheConfiguredCode) {
  const auto id = order_id(place(sim_, "BUY", "MARKET", "0.001"));
  const auto r = signed_call(sim_, "DELETE", kOrderPath, {{"symbol", "BTC-USDT"}, {"orderId", id}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(code_of(r), 80018);

  admin(sim_, "POST", "/admin/switches", R"({"cancelFilledCode":109422,"cancelRepeatWindowMs":0})");
  EXPECT_EQ(
      code_of(signed_call(sim_, "DELETE", kOrderPath, {{"symbol", "BTC-USDT"}, {"orderId", id}})),
      109422);
}

TEST_F(SimTest, CancellingUnknownOrderAndQueryingUnknownOrderUseNotFoundCodes) {
  EXPECT_EQ(code_of(signed_call(sim_, "DELETE", kOrderPath,
                                {{"symbol", "BTC-USDT"}, {"orderId", "123"}})),
            109414);
  EXPECT_EQ(code_of(signed_call(sim_, "GET", kOrderPath,
                                {{"symbol", "BTC-USDT"}, {"clientOrderId", "nope"}})),
            80016);
  EXPECT_EQ(code_of(signed_call(sim_, "DELETE", kOrderPath, {{"symbol", "BTC-USDT"}})), 80014);
}

TEST_F(SimTest, CancelAllCancelsEveryOpenOrder) {
  order_id(place(sim_, "BUY", "LIMIT", "0.001", "50000"));
  order_id(place(sim_, "BUY", "LIMIT", "0.001", "51000"));
  const json data = ok_data(signed_call(sim_, "DELETE", "/openApi/swap/v2/trade/allOpenOrders",
                                        {{"symbol", "BTC-USDT"}}));
  EXPECT_EQ(data["success"].size(), 2U);
  EXPECT_TRUE(data["failed"].is_null());
  EXPECT_EQ(data["success"][0]["status"], "CANCELLED");
}

TEST_F(SimTest, DuplicateClientOrderIdIsRejectedCaseInsensitively) {
  ok_data(place(sim_, "BUY", "LIMIT", "0.001", "50000", "dup1"));
  const auto r = place(sim_, "BUY", "LIMIT", "0.001", "50000", "DUP1");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(code_of(r), 101481);
}

TEST_F(SimTest, QuantityAndPriceAreTruncatedToContractPrecision) {
  const auto id = order_id(place(sim_, "BUY", "LIMIT", "0.123456", "50000.99"));
  const json order = query(sim_, "orderId", id);
  EXPECT_EQ(order["origQty"], "0.1234");
  EXPECT_EQ(order["price"], "50000.9");
}

TEST_F(SimTest, QuantityBelowMinimumIsRejectedWith101400) {
  EXPECT_EQ(code_of(place(sim_, "BUY", "MARKET", "0.00005")), 101400);
}

TEST(SimConfigured, NotionalBelowMinimumIsRejectedWith101400) {
  SimProcess sim(R"({"contracts":[{"symbol":"BTC-USDT","quantityPrecision":4,
                     "pricePrecision":1,"tradeMinQuantity":"0.0001","tradeMinUSDT":"100"}],
                     "prices":{"BTC-USDT":{"start":"60000"}}})");
  EXPECT_EQ(code_of(place(sim, "BUY", "MARKET", "0.001")), 101400);  // 60 USDT < 100
  EXPECT_EQ(code_of(place(sim, "BUY", "MARKET", "0.002")), 0);       // 120 USDT
}

TEST_F(SimTest, OneWayAccountRejectsLongPositionSide) {
  const auto r = signed_call(sim_, "POST", kOrderPath,
                             {{"symbol", "BTC-USDT"},
                              {"side", "BUY"},
                              {"type", "MARKET"},
                              {"quantity", "0.001"}});  // omitted positionSide means LONG
  EXPECT_EQ(code_of(r), 109400);
}

TEST_F(SimTest, InsufficientMarginIsRejectedWith101204) {
  EXPECT_EQ(code_of(place(sim_, "BUY", "MARKET", "100")), 101204);
}

TEST_F(SimTest, LeverageCanBeReadAndSetWithModeChecks) {
  json lev = ok_data(
      signed_call(sim_, "GET", "/openApi/swap/v2/trade/leverage", {{"symbol", "BTC-USDT"}}));
  EXPECT_EQ(lev["longLeverage"], 10);
  EXPECT_TRUE(lev["availableLongVol"].is_string());
  ok_data(signed_call(sim_, "POST", "/openApi/swap/v2/trade/leverage",
                      {{"symbol", "BTC-USDT"}, {"side", "BOTH"}, {"leverage", "20"}}));
  lev = ok_data(
      signed_call(sim_, "GET", "/openApi/swap/v2/trade/leverage", {{"symbol", "BTC-USDT"}}));
  EXPECT_EQ(lev["longLeverage"], 20);
  EXPECT_EQ(lev["shortLeverage"], 20);
  EXPECT_EQ(code_of(signed_call(sim_, "POST", "/openApi/swap/v2/trade/leverage",
                                {{"symbol", "BTC-USDT"}, {"side", "LONG"}, {"leverage", "5"}})),
            109400);
  EXPECT_EQ(code_of(signed_call(sim_, "POST", "/openApi/swap/v2/trade/leverage",
                                {{"symbol", "BTC-USDT"}, {"side", "BOTH"}, {"leverage", "500"}})),
            101414);
}

// ----------------------------------------------------------------------------- rate limits

constexpr const char* kTightLimits = R"({"rateLimits":{"endpoints":{
    "GET /openApi/swap/v2/user/positions":{"limit":2,"windowMs":600000}}}})";

TEST(SimRateLimit, CodeModeAnswersHttp200With100410) {
  SimProcess sim(kTightLimits);
  EXPECT_EQ(code_of(signed_call(sim, "GET", "/openApi/swap/v2/user/positions", {})), 0);
  EXPECT_EQ(code_of(signed_call(sim, "GET", "/openApi/swap/v2/user/positions", {})), 0);
  const auto r = signed_call(sim, "GET", "/openApi/swap/v2/user/positions", {});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(code_of(r), 100410);
  // Other endpoints have their own bucket.
  EXPECT_EQ(code_of(signed_call(sim, "GET", "/openApi/swap/v3/user/balance", {})), 0);
}

TEST(SimRateLimit, Http429ModeAnswers429) {
  SimProcess sim(kTightLimits);
  ASSERT_EQ(admin(sim, "POST", "/admin/rate-limits", R"({"mode":"http429"})").status, 200);
  signed_call(sim, "GET", "/openApi/swap/v2/user/positions", {});
  signed_call(sim, "GET", "/openApi/swap/v2/user/positions", {});
  const auto r = signed_call(sim, "GET", "/openApi/swap/v2/user/positions", {});
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(code_of(r), 100410);
}

// ---------------------------------------------------------------------------------- faults

TEST_F(SimTest, InjectedServerErrorAppliesForItsCountThenClears) {
  ASSERT_EQ(admin(sim_, "POST", "/admin/faults",
                  R"({"faults":[{"match":"GET /openApi/swap/v2/server/time",
                                 "action":"http_status","status":503,"count":1}]})")
                .status,
            200);
  EXPECT_EQ(http("GET", sim_.base_url() + "/openApi/swap/v2/server/time").status, 503);
  EXPECT_EQ(http("GET", sim_.base_url() + "/openApi/swap/v2/server/time").status, 200);
}

TEST_F(SimTest, DroppedResponseIsAConnectionErrorButTheOrderExists) {
  admin(
      sim_, "POST", "/admin/faults",
      R"([{"match":"POST /openApi/swap/v2/trade/order","action":"drop","phase":"after","count":1}])");
  const auto r = place(sim_, "BUY", "LIMIT", "0.001", "50000", "ghost1");
  EXPECT_EQ(r.curl_code, CURLE_GOT_NOTHING);
  // The venue executed it even though the client never heard back.
  EXPECT_EQ(query(sim_, "clientOrderId", "ghost1")["status"], "PENDING");
}

TEST_F(SimTest, DroppedBeforeExecutionLeavesNoOrder) {
  admin(sim_, "POST", "/admin/faults",
        R"([{"match":"/openApi/swap/v2/trade/order","action":"drop","count":1}])");
  EXPECT_EQ(place(sim_, "BUY", "LIMIT", "0.001", "50000", "ghost2").curl_code, CURLE_GOT_NOTHING);
  EXPECT_EQ(code_of(signed_call(sim_, "GET", kOrderPath,
                                {{"symbol", "BTC-USDT"}, {"clientOrderId", "ghost2"}})),
            80016);
}

TEST_F(SimTest, HeldRequestTimesOutAtTheClient) {
  admin(
      sim_, "POST", "/admin/faults",
      R"([{"match":"GET /openApi/swap/v2/server/time","action":"hold","holdMs":60000,"count":1}])");
  const auto r = http("GET", sim_.base_url() + "/openApi/swap/v2/server/time", {}, "", 300);
  EXPECT_EQ(r.curl_code, CURLE_OPERATION_TIMEDOUT);
  EXPECT_EQ(http("GET", sim_.base_url() + "/openApi/swap/v2/server/time").status, 200);
}

TEST_F(SimTest, InjectedLatencyDelaysTheAnswerAtLeastThatLong) {
  admin(
      sim_, "POST", "/admin/faults",
      R"([{"match":"GET /openApi/swap/v2/server/time","action":"latency","latencyMs":300,"count":1}])");
  const auto start = std::chrono::steady_clock::now();
  const auto r = http("GET", sim_.base_url() + "/openApi/swap/v2/server/time");
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.status, 200);
  // A lower bound only: the server sleeps before answering, so this cannot flake.
  EXPECT_GE(elapsed, std::chrono::milliseconds(300));
}

TEST(SimFaults, ConfigFileFaultsApplyFromStart) {
  SimProcess sim(R"({"faults":[{"match":"*","action":"http_status","status":502,"count":2}]})");
  EXPECT_EQ(http("GET", sim.base_url() + "/openApi/swap/v2/server/time").status, 502);
  EXPECT_EQ(http("GET", sim.base_url() + "/openApi/swap/v2/quote/contracts").status, 502);
  EXPECT_EQ(http("GET", sim.base_url() + "/openApi/swap/v2/server/time").status, 200);
}

// ------------------------------------------------------------------------- malformed input

TEST_F(SimTest, MalformedJsonBodyGetsAnErrorEnvelope) {
  const auto r = http("POST", sim_.base_url() + kOrderPath,
                      {"X-BX-APIKEY: sim-key", "Content-Type: application/json"}, "{not json");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(code_of(r), 100400);
}

TEST_F(SimTest, BadParameterValuesGetErrorEnvelopes) {
  EXPECT_EQ(code_of(place(sim_, "BUY", "LIMIT", "abc", "50000")), 80014);
  EXPECT_EQ(code_of(place(sim_, "BUY", "LIMIT", "1e3", "50000")), 80014);
  EXPECT_EQ(code_of(place(sim_, "BUY", "LIMIT", "-1", "50000")), 80014);
  EXPECT_EQ(code_of(place(sim_, "HOLD", "LIMIT", "0.001", "50000")), 80014);
  EXPECT_EQ(code_of(place(sim_, "BUY", "STOP_MARKET", "0.001")), 80014);
  EXPECT_EQ(code_of(place(sim_, "BUY", "LIMIT", "0.001", "", "", "DOGE-USDT")), 109500);
  EXPECT_EQ(
      code_of(signed_call(sim_, "GET", kOrderPath, {{"symbol", "BTC-USDT"}, {"orderId", "12x"}})),
      80014);
  const auto bad_ts = http("GET",
                           sim_.base_url() +
                               "/openApi/swap/v3/user/balance?timestamp=abc&"
                               "signature=00",
                           {"X-BX-APIKEY: sim-key"});
  EXPECT_EQ(code_of(bad_ts), 100001);
  EXPECT_EQ(code_of(place(sim_, "BUY", "LIMIT", "0.001", "50000",
                          "an-id-that-is-way-too-long-for-the-venue-limit-of-40")),
            80014);
}

TEST_F(SimTest, UnknownPathGets404Envelope) {
  const auto r = http("GET", sim_.base_url() + "/openApi/swap/v9/nothing");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(code_of(r), 0);
}

TEST_F(SimTest, GarbageOnTheSocketGets400AndTheServerKeepsServing) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(sim_.port());
  ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  const std::string garbage = "THIS IS NOT HTTP\r\n\r\n";
  ASSERT_GT(::send(fd, garbage.data(), garbage.size(), MSG_NOSIGNAL), 0);
  char buf[512] = {};
  const ssize_t n = ::recv(fd, buf, sizeof(buf) - 1, 0);
  ::close(fd);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf).substr(0, 12), "HTTP/1.1 400");
  EXPECT_EQ(http("GET", sim_.base_url() + "/openApi/swap/v2/server/time").status, 200);
}

// ----------------------------------------------------------------------- listen keys & WS

TEST_F(SimTest, ListenKeyLifecycleUsesBareCreateResponse) {
  const auto created =
      http("POST", sim_.base_url() + "/openApi/user/auth/userDataStream", {"X-BX-APIKEY: sim-key"});
  const json j = created.json();
  ASSERT_TRUE(j.contains("listenKey")) << created.body;
  EXPECT_FALSE(j.contains("code"));
  const std::string key = j["listenKey"];
  EXPECT_EQ(key.size(), 64U);
  const std::string url = sim_.base_url() + "/openApi/user/auth/userDataStream?listenKey=" + key;
  EXPECT_EQ(http("PUT", url).status, 200);
  EXPECT_EQ(http("DELETE", url).status, 200);
  EXPECT_EQ(http("PUT", url).status, 404);
}

std::string create_listen_key(const SimProcess& sim) {
  return http("POST", sim.base_url() + "/openApi/user/auth/userDataStream",
              {"X-BX-APIKEY: sim-key"})
      .json()["listenKey"];
}

TEST_F(SimTest, WebSocketRejectsUnknownListenKey) {
  WsClient ws(sim_.port(), "/swap-market?listenKey=deadbeef");
  EXPECT_FALSE(ws.connected());
  EXPECT_NE(ws.handshake_response().find("404"), std::string::npos);
}

TEST_F(SimTest, WebSocketStreamsGzipOrderAndAccountEvents) {
  const std::string key = create_listen_key(sim_);
  WsClient ws(sim_.port(), "/swap-market?listenKey=" + key);
  ASSERT_TRUE(ws.connected()) << ws.handshake_response();
  // RFC 6455 §1.3 sample key -> this accept value.
  EXPECT_NE(ws.handshake_response().find("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), std::string::npos);
  const auto config = ws.next_event("ACCOUNT_CONFIG_UPDATE");
  ASSERT_TRUE(config.has_value());
  EXPECT_TRUE(config->at("ac")["l"].is_number_integer());

  ok_data(place(sim_, "BUY", "MARKET", "0.001", "", "WsOrder1"));
  const auto first = ws.next_event("ORDER_TRADE_UPDATE");
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->at("o")["X"], "NEW");
  EXPECT_EQ(first->at("o")["c"], "wsorder1");
  EXPECT_TRUE(first->at("o")["i"].is_number_integer());
  const auto fill = ws.next_event("ORDER_TRADE_UPDATE");
  ASSERT_TRUE(fill.has_value());
  EXPECT_EQ(fill->at("o")["x"], "TRADE");
  EXPECT_EQ(fill->at("o")["X"], "FILLED");
  EXPECT_EQ(fill->at("o")["z"], "0.00100000");
  EXPECT_TRUE(fill->at("o")["n"].is_string());
  const auto account = ws.next_event("ACCOUNT_UPDATE");
  ASSERT_TRUE(account.has_value());
  EXPECT_EQ(account->at("a")["m"], "ORDER");
  EXPECT_EQ(account->at("a")["P"][0]["pa"], "0.00100000");

  const auto id = order_id(place(sim_, "BUY", "LIMIT", "0.001", "50000"));
  ws.next_event("ORDER_TRADE_UPDATE");  // NEW
  ok_data(signed_call(sim_, "DELETE", kOrderPath, {{"symbol", "BTC-USDT"}, {"orderId", id}}));
  const auto cancelled = ws.next_event("ORDER_TRADE_UPDATE");
  ASSERT_TRUE(cancelled.has_value());
  EXPECT_EQ(cancelled->at("o")["X"], "CANCELED");  // WS spelling, one L
}

TEST(SimWebSocket, ServerPingsAndDropsAClientThatNeverPongs) {
  SimProcess sim(R"({"wsPingIntervalMs":50,"wsMaxMissedPongs":2,"wsConfigPushIntervalMs":0})");
  const std::string key = create_listen_key(sim);
  WsClient ws(sim.port(), "/swap-market?listenKey=" + key);
  ASSERT_TRUE(ws.connected());
  int pings = 0;
  while (auto message = ws.next_message()) {
    if (*message == "Ping") ++pings;
  }
  EXPECT_EQ(pings, 2);  // then the server closed the stream
}

TEST(SimWebSocket, AnsweringPongKeepsTheStreamAlive) {
  // Three missed pings would close it, so six pings prove the Pongs were counted; the slack
  // keeps a slow (sanitized, shared-core) client from being dropped.
  SimProcess sim(R"({"wsPingIntervalMs":100,"wsMaxMissedPongs":3,"wsConfigPushIntervalMs":0})");
  const std::string key = create_listen_key(sim);
  WsClient ws(sim.port(), "/swap-market?listenKey=" + key);
  ASSERT_TRUE(ws.connected());
  int pings = 0;
  while (pings < 6) {
    const auto message = ws.next_message();
    ASSERT_TRUE(message.has_value()) << "stream closed after " << pings << " pings";
    if (*message == "Ping") {
      ++pings;
      ASSERT_TRUE(ws.send_text("Pong"));
    }
  }
}

TEST_F(SimTest, ExpiredListenKeyPushesListenKeyExpired) {
  const std::string key = create_listen_key(sim_);
  WsClient ws(sim_.port(), "/swap-market?listenKey=" + key);
  ASSERT_TRUE(ws.connected());
  ASSERT_EQ(admin(sim_, "POST", "/admin/listen-key/expire", json{{"listenKey", key}}.dump()).status,
            200);
  const auto expired = ws.next_event("listenKeyExpired");
  ASSERT_TRUE(expired.has_value());
  EXPECT_EQ(expired->at("listenKey"), key);
  EXPECT_EQ(
      http("PUT", sim_.base_url() + "/openApi/user/auth/userDataStream?listenKey=" + key).status,
      404);
}

// ----------------------------------------------------------------------------- determinism

TEST(SimDeterminism, SameSeedGivesSamePricesAndListenKeys) {
  auto run = [](const char* seed) {
    SimProcess sim("", {"--seed", seed});
    const std::string key = create_listen_key(sim);
    const json state = admin(sim, "POST", "/admin/tick", R"({"steps":25})").json();
    return key + state["prices"].dump();
  };
  EXPECT_EQ(run("7"), run("7"));
  EXPECT_NE(run("7"), run("8"));
}

TEST_F(SimTest, ResetRestoresTheInitialState) {
  ok_data(place(sim_, "BUY", "MARKET", "0.001"));
  ASSERT_EQ(admin(sim_, "POST", "/admin/reset").status, 200);
  EXPECT_TRUE(admin(sim_, "GET", "/admin/orders").json()["orders"].empty());
  EXPECT_TRUE(ok_data(signed_call(sim_, "GET", "/openApi/swap/v2/user/positions", {})).empty());
}

}  // namespace
