// The BingX adapter against dita-bingx-sim on 127.0.0.1 (never any other address): full
// fill, partial fills, multi-leg exit, reject, cancel reject, rate limits, a timed-out and
// a dropped place answer resolved by query (never re-sent), the same fill from stream and
// REST, stream reconnect with REST reconcile, secrets never in logs, and `dita smoke`.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <thread>

#include "dita/core/kernel.hpp"
#include "dita/venue/bingx/factory.hpp"
#include "sim/sim_harness.hpp"

namespace dita::venue::bingx {
namespace {

using sim::testing::admin;
using sim::testing::SimProcess;

constexpr const char* kSecret = "sim-secret-0123456789abcdef";
constexpr const char* kKey = "sim-key";

core::Quantity qty(std::string_view text) {
  return core::Quantity::from_units(*core::parse_decimal(text));
}
core::Price px(std::string_view text) {
  return core::Price::from_units(*core::parse_decimal(text));
}

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct LogCapture {
  std::mutex mutex;
  std::string text;
  LogSink sink() {
    return [this](LogLevel level, std::string_view line) {
      std::lock_guard lock(mutex);
      text += std::string(to_string(level)) + " " + std::string(line) + "\n";
    };
  }
  std::string get() {
    std::lock_guard lock(mutex);
    return text;
  }
};

BingxConfig sim_config(const SimProcess& sim, LogCapture& logs) {
  BingxConfig config;
  config.base_url = sim.base_url();
  config.api_key = kKey;
  config.api_secret = kSecret;
  config.request_timeout_ms = 2000;
  config.connect_timeout_ms = 2000;
  config.reconnect_backoff_ms = 300;
  config.log = logs.sink();
  return config;
}

// A kernel driven by the adapter, the way a serve loop would do it.
class Rig {
 public:
  explicit Rig(const std::string& sim_json = "", std::function<void(BingxConfig&)> tweak = {})
      : sim_(sim_json) {
    BingxConfig config = sim_config(sim_, logs_);
    if (tweak) tweak(config);
    auto venue = make_bingx_venue(config);
    if (!venue) throw std::runtime_error(venue.error().message);
    venue_ = std::move(*venue);
    core::KernelConfig kernel_config;
    kernel_config.slot_count = 2;
    kernel_config.active_slot_limit = 2;
    kernel_config.ack_timeout_ns = 1'500'000'000;
    kernel_config.query_interval_ns = 1'000'000'000;
    kernel_config.instruments = venue_->instruments();
    kernel_.emplace(*core::Kernel::create(kernel_config));
    out_.reserve(2);
  }

  ~Rig() {
    if (::testing::Test::HasFailure()) {
      std::string trace;
      for (const auto& e : events_) {
        trace += std::string(core::to_string(e.kind)) + " slot " + std::to_string(e.slot) +
                 " status " + std::string(core::to_string(e.status)) + " cum " +
                 core::to_string(e.cumulative_filled) + " code " + std::to_string(e.venue_code) +
                 " id " + std::to_string(e.event_id) + "\n";
      }
      std::cerr << "adapter log:\n" << logs_.get() << "events:\n" << trace;
    }
  }

  void input(core::KernelInputPayload payload) {
    kernel_->process({now_ns(), payload}, out_);
    for (const auto& d : out_.diagnostics) diagnostics_.push_back(d.code);
    for (const auto& command : out_.commands) venue_->submit(command, now_ns());
  }

  void enter(std::uint32_t slot, std::string_view size, std::string_view price = "0",
             std::uint16_t leverage = 1) {
    core::KernelIntent intent;
    intent.kind = core::KernelIntentKind::kEnter;
    intent.id = *core::ClientIntentId::parse("t" + std::to_string(++intent_id_));
    intent.slot = slot;
    intent.asset = *core::Symbol::parse("BTC-USDT");
    intent.side = core::Side::kLong;
    intent.size = qty(size);
    intent.price = px(price);
    intent.leverage = leverage;
    input(intent);
  }
  void exit(std::uint32_t slot, std::string_view size = "0") {
    core::KernelIntent intent;
    intent.kind = core::KernelIntentKind::kExit;
    intent.id = *core::ClientIntentId::parse("t" + std::to_string(++intent_id_));
    intent.slot = slot;
    intent.size = qty(size);
    input(intent);
  }
  void cancel(std::uint32_t slot) {
    core::KernelIntent intent;
    intent.kind = core::KernelIntentKind::kCancel;
    intent.id = *core::ClientIntentId::parse("t" + std::to_string(++intent_id_));
    intent.slot = slot;
    input(intent);
  }

  // Feeds venue events (and a Tick every 200 ms) until `done` holds or time runs out.
  bool pump_until(const std::function<bool()>& done, int timeout_ms = 8000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    auto next_tick = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      venue_->wait_for_events(50);
      std::vector<core::VenueEvent> batch;
      venue_->drain(batch);
      for (const auto& event : batch) {
        events_.push_back(event);
        input(event);
      }
      if (std::chrono::steady_clock::now() >= next_tick) {
        input(core::Tick{});
        next_tick += std::chrono::milliseconds(200);
      }
    }
    return done();
  }

  const core::TradeSlot& slot(std::uint32_t id) const { return kernel_->slot(id); }
  bool saw(core::KernelEventKind kind) const {
    return std::any_of(events_.begin(), events_.end(),
                       [&](const auto& e) { return e.kind == kind; });
  }
  bool diagnosed(core::KernelDiagnosticCode code) const {
    return std::find(diagnostics_.begin(), diagnostics_.end(), code) != diagnostics_.end();
  }
  // Orders the simulator holds for one client order id.
  int venue_orders_for(const std::string& client) const {
    const auto orders = admin(sim_, "GET", "/admin/orders").json()["orders"];
    int count = 0;
    for (const auto& order : orders) count += order.value("clientOrderId", "") == client ? 1 : 0;
    return count;
  }

  SimProcess sim_;
  LogCapture logs_;
  std::unique_ptr<BingxVenue> venue_;
  std::optional<core::Kernel> kernel_;
  core::KernelOutcome out_;
  std::vector<core::VenueEvent> events_;
  std::vector<core::KernelDiagnosticCode> diagnostics_;
  std::uint64_t intent_id_ = 0;
};

bool stage_is(const Rig& rig, std::uint32_t slot, core::TradeStage stage) {
  return rig.slot(slot).stage == stage;
}

// ---------------------------------------------------------------------------------------

TEST(BingxAdapter, StartsDetectsOneWayModeAndLoadsContracts) {
  Rig rig;
  EXPECT_FALSE(rig.venue_->hedge_mode());
  const auto instruments = rig.venue_->instruments();
  ASSERT_GE(instruments.size(), 2U);
  EXPECT_EQ(instruments[0].symbol.view(), "BTC-USDT");
  EXPECT_EQ(instruments[0].quantity_step, qty("0.0001"));
  auto balance = rig.venue_->fetch_balance();
  ASSERT_TRUE(balance.has_value());
  EXPECT_EQ(*balance, core::Money::from_integer(10000));
}

TEST(BingxAdapter, FullFillThenExitClosesTheTrade) {
  Rig rig;
  rig.enter(0, "0.001");
  ASSERT_TRUE(rig.pump_until([&] { return stage_is(rig, 0, core::TradeStage::kPositionOpen); }));
  EXPECT_TRUE(rig.saw(core::KernelEventKind::kAck));
  EXPECT_TRUE(rig.saw(core::KernelEventKind::kFullFill));
  EXPECT_EQ(rig.slot(0).size, qty("0.001"));
  EXPECT_EQ(rig.slot(0).entry_price, px("60000"));
  rig.exit(0);
  ASSERT_TRUE(rig.pump_until([&] { return stage_is(rig, 0, core::TradeStage::kClosed); }));
  EXPECT_EQ(rig.kernel_->account().trade_seq, 1U);
  EXPECT_TRUE(rig.slot(0).fees_paid.is_positive());
}

TEST(BingxAdapter, AnEntryTradesAtTheLeverageItsIntentAskedFor) {
  Rig rig;
  rig.enter(0, "0.001", "0", 7);
  ASSERT_TRUE(rig.pump_until([&] { return stage_is(rig, 0, core::TradeStage::kPositionOpen); }));
  const auto orders = admin(rig.sim_, "GET", "/admin/orders").json()["orders"];
  ASSERT_EQ(orders.size(), 1U);
  EXPECT_EQ(orders[0].value("leverage", ""), "7X");
}

TEST(BingxAdapter, AnEntryWhoseLeverageTheVenueRefusesIsNeverPlaced) {
  Rig rig;
  admin(rig.sim_, "POST", "/admin/faults",
        R"({"faults":[{"match":"POST /openApi/swap/v2/trade/leverage","action":"http_status",
            "status":200,"body":"{\"code\":101414,\"msg\":\"leverage too high\",\"data\":{}}",
            "count":1}]})");
  rig.enter(0, "0.001", "0", 20);
  ASSERT_TRUE(rig.pump_until([&] { return rig.saw(core::KernelEventKind::kOrderReject); }));
  const auto it = std::find_if(rig.events_.begin(), rig.events_.end(), [](const auto& e) {
    return e.kind == core::KernelEventKind::kOrderReject;
  });
  EXPECT_EQ(it->venue_code, 101414);
  EXPECT_EQ(rig.slot(0).stage, core::TradeStage::kIdle);
  EXPECT_TRUE(admin(rig.sim_, "GET", "/admin/orders").json()["orders"].empty());
}

TEST(BingxAdapter, PartialFillsAccumulateToTheFullSize) {
  Rig rig;
  ASSERT_TRUE(
      admin(rig.sim_, "POST", "/admin/fill-plan", R"({"legs":["0.25","0.75"],"legsPerMatch":1})")
          .json()
          .value("ok", false));
  rig.enter(0, "0.002", "60000");  // crosses at placement: first leg only
  ASSERT_TRUE(rig.pump_until([&] { return rig.saw(core::KernelEventKind::kPartialFill); }));
  EXPECT_EQ(rig.slot(0).stage, core::TradeStage::kEntryWorking);
  admin(rig.sim_, "POST", "/admin/price", R"({"symbol":"BTC-USDT","price":"59990"})");
  ASSERT_TRUE(rig.pump_until([&] { return stage_is(rig, 0, core::TradeStage::kPositionOpen); }));
  EXPECT_EQ(rig.slot(0).size, qty("0.002"));
  EXPECT_TRUE(rig.saw(core::KernelEventKind::kFullFill));
}

TEST(BingxAdapter, MultiLegExitClosesExactlyOnce) {
  Rig rig;
  rig.enter(0, "0.003");
  ASSERT_TRUE(rig.pump_until([&] { return stage_is(rig, 0, core::TradeStage::kPositionOpen); }));
  admin(rig.sim_, "POST", "/admin/price", R"({"symbol":"BTC-USDT","price":"60100"})");
  rig.exit(0, "0.001");
  ASSERT_TRUE(rig.pump_until([&] {
    return stage_is(rig, 0, core::TradeStage::kPositionOpen) && rig.slot(0).size == qty("0.002");
  }));
  rig.exit(0);
  ASSERT_TRUE(rig.pump_until([&] { return stage_is(rig, 0, core::TradeStage::kClosed); }));
  EXPECT_EQ(rig.slot(0).exit_legs_filled, 2);
  EXPECT_EQ(rig.kernel_->account().trade_seq, 1U);
  EXPECT_TRUE(rig.slot(0).realized_pnl.is_positive());  // +0.3 minus fees
}

TEST(BingxAdapter, BusinessRejectBecomesOrderRejectWithTheVenueCode) {
  Rig rig;
  rig.enter(0, "50");  // 3,000,000 USDT notional against 10,000
  ASSERT_TRUE(rig.pump_until([&] { return rig.saw(core::KernelEventKind::kOrderReject); }));
  const auto it = std::find_if(rig.events_.begin(), rig.events_.end(), [](const auto& e) {
    return e.kind == core::KernelEventKind::kOrderReject;
  });
  EXPECT_EQ(it->venue_code, 101204);
  EXPECT_TRUE(rig.diagnosed(core::KernelDiagnosticCode::kVenueRejected));
  EXPECT_NE(rig.slot(0).stage, core::TradeStage::kEntryWorking);
}

TEST(BingxAdapter, CancelRacingAFillEndsFilledAfterCancelReject) {
  // Listen keys expire quickly, so for a while no stream tells the kernel about the fill.
  Rig rig(R"({"listenKeyTtlMs":2500})", [](BingxConfig& c) { c.reconnect_backoff_ms = 2000; });
  rig.enter(0, "0.001", "59000");  // rests
  ASSERT_TRUE(rig.pump_until([&] { return rig.saw(core::KernelEventKind::kAck); }));
  const auto expired_before = rig.venue_->stats().listen_keys_expired;
  ASSERT_TRUE(rig.pump_until(
      [&] { return rig.venue_->stats().listen_keys_expired > expired_before; }, 6000));
  admin(rig.sim_, "POST", "/admin/price", R"({"symbol":"BTC-USDT","price":"58990"})");
  rig.cancel(0);  // the kernel still believes the order rests
  ASSERT_TRUE(rig.pump_until([&] { return rig.saw(core::KernelEventKind::kCancelReject); }));
  ASSERT_TRUE(rig.pump_until([&] { return stage_is(rig, 0, core::TradeStage::kPositionOpen); }));
  const auto reject = std::find_if(rig.events_.begin(), rig.events_.end(), [](const auto& e) {
    return e.kind == core::KernelEventKind::kCancelReject;
  });
  EXPECT_EQ(reject->venue_code, 80018);
  EXPECT_TRUE(rig.diagnosed(core::KernelDiagnosticCode::kCancelRejected));
  EXPECT_EQ(rig.slot(0).size, qty("0.001"));
}

TEST(BingxAdapter, SameFillFromStreamAndRestHasOneEventId) {
  Rig rig;
  rig.enter(0, "0.001");
  ASSERT_TRUE(rig.pump_until([&] { return stage_is(rig, 0, core::TradeStage::kPositionOpen); }));
  const auto fill = *std::find_if(rig.events_.begin(), rig.events_.end(), [](const auto& e) {
    return e.kind == core::KernelEventKind::kFullFill;
  });
  core::VenueCommand query;
  query.type = core::KernelCommandType::kQueryOrder;
  query.slot = 0;
  query.order = fill.order;
  query.symbol = *core::Symbol::parse("BTC-USDT");
  const auto duplicates = [&] {
    return std::count(rig.diagnostics_.begin(), rig.diagnostics_.end(),
                      core::KernelDiagnosticCode::kDuplicateEvent);
  };
  const auto duplicates_before = duplicates();
  rig.venue_->submit(query, now_ns());
  const std::size_t before = rig.events_.size();
  // Wait for the query's answer itself: a late stream event may arrive in between.
  const auto answer = [&] {
    return std::find_if(rig.events_.begin() + static_cast<std::ptrdiff_t>(before),
                        rig.events_.end(), [](const auto& e) {
                          return e.kind == core::KernelEventKind::kOrderStatus;
                        });
  };
  ASSERT_TRUE(rig.pump_until([&] { return answer() != rig.events_.end(); }));
  const auto status = *answer();
  EXPECT_EQ(status.status, core::OrderStatus::kFilled);
  EXPECT_EQ(status.event_id, fill.event_id);
  EXPECT_EQ(duplicates(), duplicates_before + 1);  // the kernel applied the fill once
  EXPECT_EQ(rig.slot(0).size, qty("0.001"));
}

TEST(BingxAdapter, RateLimitedPlaceReportsRetryHintThenRetrySucceeds) {
  for (const char* mode : {"code", "http429"}) {
    SCOPED_TRACE(mode);
    Rig rig;
    admin(
        rig.sim_, "POST", "/admin/rate-limits",
        std::string(R"({"mode":")") + mode +
            R"(","endpoints":{"POST /openApi/swap/v2/trade/order":{"limit":1,"windowMs":1500}}})");
    rig.enter(0, "0.001");
    rig.enter(1, "0.001");
    ASSERT_TRUE(rig.pump_until([&] { return rig.saw(core::KernelEventKind::kRateLimited); }));
    const auto limited = *std::find_if(rig.events_.begin(), rig.events_.end(), [](const auto& e) {
      return e.kind == core::KernelEventKind::kRateLimited;
    });
    EXPECT_EQ(limited.venue_code, 100410);
    EXPECT_EQ(limited.retry_after_ms, -1);  // BingX gives no hint: the kernel says release_eta
    EXPECT_TRUE(rig.diagnosed(core::KernelDiagnosticCode::kRateLimited));
    const std::uint32_t throttled = limited.slot;
    ASSERT_TRUE(rig.pump_until([&] { return rig.slot(throttled).working_order < 0; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(1600));
    rig.enter(throttled, "0.001");  // the strategy's retry: a new trade, a new client id
    ASSERT_TRUE(
        rig.pump_until([&] { return stage_is(rig, throttled, core::TradeStage::kPositionOpen); }));
  }
}

TEST(BingxAdapter, TimedOutPlaceIsQueriedNeverResent) {
  Rig rig("", [](BingxConfig& c) { c.request_timeout_ms = 400; });
  admin(rig.sim_, "POST", "/admin/faults",
        R"({"faults":[{"match":"POST /openApi/swap/v2/trade/order","action":"hold",
            "holdMs":3000,"phase":"after","count":1}]})");
  rig.enter(0, "0.001");
  ASSERT_TRUE(rig.pump_until([&] {
    return stage_is(rig, 0, core::TradeStage::kPositionOpen) &&
           rig.venue_->stats().unknown_outcomes == 1 &&
           rig.saw(core::KernelEventKind::kOrderStatus);
  }));
  EXPECT_TRUE(rig.saw(core::KernelEventKind::kOrderStatus));
  const auto stats = rig.venue_->stats();
  EXPECT_EQ(stats.places_sent, 1U);
  EXPECT_EQ(stats.unknown_outcomes, 1U);
  EXPECT_EQ(rig.venue_orders_for("ditas0t1l0a0"), 1);
  EXPECT_EQ(rig.slot(0).size, qty("0.001"));
}

TEST(BingxAdapter, DroppedPlaceAnswerOnAReusedConnectionIsNotResentByTheTransport) {
  Rig rig;
  rig.enter(1, "0.001");  // warms the worker's connection so the next call reuses it
  ASSERT_TRUE(rig.pump_until([&] { return stage_is(rig, 1, core::TradeStage::kPositionOpen); }));
  admin(rig.sim_, "POST", "/admin/faults",
        R"({"faults":[{"match":"POST /openApi/swap/v2/trade/order","action":"drop",
            "phase":"after","count":1}]})");
  rig.enter(0, "0.001");
  ASSERT_TRUE(rig.pump_until([&] { return stage_is(rig, 0, core::TradeStage::kPositionOpen); }));
  EXPECT_EQ(rig.venue_orders_for("ditas0t1l0a0"), 1);
  const auto stats = rig.venue_->stats();
  EXPECT_EQ(stats.places_sent, 2U);
  EXPECT_EQ(stats.unknown_outcomes, 1U);
  // No 101481 answer anywhere: the request really was sent once.
  EXPECT_EQ(rig.logs_.get().find("101481"), std::string::npos) << rig.logs_.get();
}

TEST(BingxAdapter, PlaceThatNeverArrivedIsReportedNotFoundForTheKernelToConfirm) {
  Rig rig("", [](BingxConfig& c) { c.request_timeout_ms = 400; });
  admin(rig.sim_, "POST", "/admin/faults",
        R"({"faults":[{"match":"POST /openApi/swap/v2/trade/order","action":"drop",
            "phase":"before","count":1}]})");
  rig.enter(0, "0.001");
  ASSERT_TRUE(rig.pump_until([&] {
    return std::any_of(rig.events_.begin(), rig.events_.end(), [](const auto& e) {
      return e.kind == core::KernelEventKind::kOrderStatus &&
             e.status == core::OrderStatus::kNotFound;
    });
  }));
  EXPECT_TRUE(rig.diagnosed(core::KernelDiagnosticCode::kOrderNotFound));
  // Repeated NOT_FOUNDs carry distinct ids so the kernel can count its confirmations.
  ASSERT_TRUE(rig.pump_until([&] { return rig.slot(0).working_order < 0; }, 10000));
  EXPECT_EQ(rig.venue_orders_for("ditas0t1l0a0"), 0);
}

TEST(BingxAdapter, StreamReconnectAfterListenKeyExpiryReconcilesOverRest) {
  Rig rig(R"({"listenKeyTtlMs":2500})", [](BingxConfig& c) { c.reconnect_backoff_ms = 1500; });
  rig.enter(0, "0.001", "59000");  // rests
  ASSERT_TRUE(rig.pump_until([&] { return rig.saw(core::KernelEventKind::kAck); }));
  const auto expired_before = rig.venue_->stats().listen_keys_expired;
  ASSERT_TRUE(rig.pump_until(
      [&] { return rig.venue_->stats().listen_keys_expired > expired_before; }, 6000));
  // Filled while no stream listens: only REST can tell.
  admin(rig.sim_, "POST", "/admin/price", R"({"symbol":"BTC-USDT","price":"58990"})");
  ASSERT_TRUE(rig.pump_until([&] { return stage_is(rig, 0, core::TradeStage::kPositionOpen); }));
  const auto stats = rig.venue_->stats();
  EXPECT_GE(stats.stream_reconnects, 1U);
  EXPECT_GE(stats.reconciles, 2U);
  const auto filled = std::find_if(rig.events_.begin(), rig.events_.end(), [](const auto& e) {
    return e.status == core::OrderStatus::kFilled;
  });
  ASSERT_NE(filled, rig.events_.end());
  EXPECT_EQ(filled->kind, core::KernelEventKind::kOrderStatus);  // from the reconcile
}

TEST(BingxAdapter, AnswersPingsWithPong) {
  Rig rig(R"({"wsPingIntervalMs":200,"wsMaxMissedPongs":2})");
  ASSERT_TRUE(rig.pump_until([&] { return rig.venue_->stats().pongs_sent >= 3; }, 4000));
  EXPECT_EQ(rig.venue_->stats().stream_reconnects, 0U);
}

TEST(BingxAdapter, TruthReportsTheOrderByItsClientIdThePositionAndTheBalance) {
  Rig rig;
  rig.enter(0, "0.002");
  ASSERT_TRUE(rig.pump_until([&] { return stage_is(rig, 0, core::TradeStage::kPositionOpen); }));
  const core::TradeSlot& slot = rig.slot(0);
  venue::TruthRequest request;
  request.orders.push_back({slot.orders[0].id, slot.asset, slot.orders[0].venue_order_id});
  request.orders.push_back({core::ClientOrderId{0, 9, 0, 0}, slot.asset, 0});  // never sent
  const auto truth = rig.venue_->fetch_truth(request);
  ASSERT_TRUE(truth.has_value()) << truth.error().message;
  EXPECT_TRUE(truth->netting);
  ASSERT_EQ(truth->orders.size(), 2U);
  EXPECT_EQ(truth->orders[0].kind, core::KernelEventKind::kOrderStatus);
  EXPECT_EQ(truth->orders[0].status, core::OrderStatus::kFilled);
  EXPECT_EQ(truth->orders[0].cumulative_filled, qty("0.002"));
  EXPECT_EQ(truth->orders[1].status, core::OrderStatus::kNotFound);
  ASSERT_EQ(truth->positions.size(), 1U);
  EXPECT_EQ(truth->positions[0].quantity, qty("0.002"));
  EXPECT_EQ(truth->positions[0].side, core::Side::kLong);
  EXPECT_EQ(truth->positions[0].entry_price, px("60000"));
  ASSERT_TRUE(truth->balance.has_value());
  EXPECT_TRUE(truth->balance->is_positive());
}

TEST(BingxAdapter, TruthFailsLoudlyInsteadOfGuessingWhenTheVenueDoesNotAnswer) {
  Rig rig("", [](BingxConfig& c) { c.request_timeout_ms = 400; });
  admin(rig.sim_, "POST", "/admin/faults",
        R"({"faults":[{"match":"GET /openApi/swap/v2/user/positions","action":"http_status",)"
        R"("status":503,"count":-1}]})");
  const auto truth = rig.venue_->fetch_truth({});
  ASSERT_FALSE(truth.has_value());
  EXPECT_NE(truth.error().message.find("positions"), std::string::npos) << truth.error().message;
}

TEST(BingxAdapter, SecretsNeverAppearInLogsOrErrors) {
  LogCapture logs;
  {
    Rig rig("", [](BingxConfig& c) { c.request_timeout_ms = 400; });
    admin(rig.sim_, "POST", "/admin/faults",
          R"({"faults":[{"match":"POST /openApi/swap/v2/trade/order","action":"http_status",
              "status":504,"phase":"after","count":1}]})");
    rig.enter(0, "0.001");
    ASSERT_TRUE(rig.pump_until([&] { return stage_is(rig, 0, core::TradeStage::kPositionOpen); }));
    rig.enter(1, "50");
    ASSERT_TRUE(rig.pump_until([&] { return rig.saw(core::KernelEventKind::kOrderReject); }));
    rig.venue_->stop();
    const std::string text = rig.logs_.get();
    EXPECT_FALSE(text.empty());
    EXPECT_EQ(text.find(kSecret), std::string::npos) << text;
    for (const auto& line : rig.venue_->diagnostics()) {
      EXPECT_EQ(line.find(kSecret), std::string::npos);
    }
  }
  // A wrong secret: the venue refuses; the error names the failure, not the secret.
  SimProcess sim;
  BingxConfig config = sim_config(sim, logs);
  config.api_secret = "wrong-secret-ffffffffffffffff";
  auto venue = make_bingx_venue(config);
  ASSERT_FALSE(venue.has_value());
  EXPECT_NE(venue.error().message.find("100001"), std::string::npos) << venue.error().message;
  EXPECT_EQ(venue.error().message.find("wrong-secret-ffffffffffffffff"), std::string::npos);
  EXPECT_EQ(logs.get().find("wrong-secret-ffffffffffffffff"), std::string::npos);
}

TEST(BingxAdapter, UnreachableVenueFailsStartWithAMessage) {
  LogCapture logs;
  BingxConfig config;
  config.base_url = "http://127.0.0.1:1";
  config.api_key = kKey;
  config.api_secret = kSecret;
  config.request_timeout_ms = 300;
  config.connect_timeout_ms = 300;
  config.log = logs.sink();
  auto venue = make_bingx_venue(config);
  ASSERT_FALSE(venue.has_value());
  EXPECT_NE(venue.error().message.find("cannot reach BingX"), std::string::npos);
}

// ---------------------------------------------------------------------------------------
// dita smoke

struct SmokeRun {
  int status = -1;
  std::string output;
};

SmokeRun run_smoke(const std::string& env, const std::string& args) {
  const std::string command =
      "env -i PATH=/usr/bin:/bin " + env + " " + DITA_CLI_PATH + " smoke " + args + " 2>&1";
  SmokeRun run;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return run;
  char buffer[4096];
  while (std::fgets(buffer, sizeof(buffer), pipe) != nullptr) run.output += buffer;
  const int status = ::pclose(pipe);
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

TEST(DitaSmoke, DryRunPrintsThePlanAndEnvWithoutSecrets) {
  const SmokeRun run = run_smoke(std::string("DITA_V2_BINGX_API_KEY=") + kKey +
                                     " DITA_V2_BINGX_API_SECRET=" + kSecret +
                                     " DITA_V2_BINGX_BASE_URL=http://127.0.0.1:1",
                                 "--symbol TRXUSDT --dry-run");
  EXPECT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("TRX-USDT"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("BINGX_SMOKE_LIVE"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("<redacted>"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find(kSecret), std::string::npos) << run.output;
}

TEST(DitaSmoke, RefusesWithoutTheLiveGate) {
  const SmokeRun run = run_smoke(std::string("DITA_V2_BINGX_API_KEY=") + kKey, "--symbol TRX-USDT");
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_NE(run.output.find("BINGX_SMOKE_LIVE"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("DITA_V2_BINGX_API_SECRET"), std::string::npos) << run.output;
}

TEST(DitaSmoke, RunsAnEntryExitCycleAgainstTheSimulator) {
  SimProcess sim;
  const SmokeRun run = run_smoke(std::string("BINGX_SMOKE_LIVE=1 DITA_V2_BINGX_API_KEY=") + kKey +
                                     " DITA_V2_BINGX_API_SECRET=" + kSecret +
                                     " DITA_V2_BINGX_BASE_URL=" + sim.base_url(),
                                 "--symbol BTCUSDT --size 0.001");
  EXPECT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("entry confirmed"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("exit confirmed"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("CLOSED"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find(kSecret), std::string::npos) << run.output;
  const auto orders = admin(sim, "GET", "/admin/orders").json()["orders"];
  EXPECT_EQ(orders.size(), 2U);
}

}  // namespace
}  // namespace dita::venue::bingx
