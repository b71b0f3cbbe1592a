// dita/venue/mock_venue.hpp
//
// Owns the deterministic, BingX-shaped mock exchange used by `dita run`, the examples and
// the tests. Same seed and same commands give the same events, byte for byte. It keeps an
// order book per client order id with BingX's statuses (NEW, PARTIALLY_FILLED, FILLED,
// CANCELLED), 19-digit venue order ids, BingX's error codes, quantity truncation to the
// instrument's step and its minimum quantity, and a 5 bps taker fee. A market order for a
// symbol the mock has no mark for is rejected with 80012 (it has no book to fill against).
//
// Scenarios are queued and each applies to the next placed order (default: accept and fill):
//   ACCEPT_FILL   ACK then FULL_FILL at the limit price, or the mark for market orders
//   PARTIAL_FILLS ACK then one PARTIAL_FILL per leg (cumulative), FULL_FILL when complete
//   REJECT        ORDER_REJECT with a venue code (default 101204 insufficient margin)
//   CANCEL_REJECT ACK, order rests; a cancel finds it filled: CANCEL_REJECT 80018, then the fill
//   REST          ACK, order rests until cancelled (CANCEL_ACK)
//   HANG          the venue never answers: ACK_LOST (order open), FILL_LOST (order filled)
//                 or NEVER_ARRIVED (queries answer NOT_FOUND)
//   RATE_LIMITED  RATE_LIMITED 100410 with an optional retry hint; no order is created
// Delivery modifiers per scenario: `duplicate` sends every event twice (same event id);
// `reverse` delivers the order's events newest first (fill before ack, FULL before PARTIAL).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "dita/core/contracts.hpp"
#include "dita/venue/venue.hpp"

namespace dita::venue {

enum class MockScenarioKind : std::uint8_t {
  kAcceptFill,
  kPartialFills,
  kReject,
  kCancelReject,
  kRest,
  kHang,
  kRateLimited,
};

enum class MockHangMode : std::uint8_t { kAckLost, kFillLost, kNeverArrived };

struct MockFillLeg {
  core::Quantity quantity;
  core::Price price;  // zero: the order's price (limit) or the mark (market)
};

struct MockScenario {
  MockScenarioKind kind = MockScenarioKind::kAcceptFill;
  std::vector<MockFillLeg> legs;  // PARTIAL_FILLS
  std::int32_t venue_code = 0;    // REJECT / RATE_LIMITED; 0 = the usual BingX code
  std::int64_t retry_after_ms = -1;
  MockHangMode hang = MockHangMode::kAckLost;
  bool duplicate = false;
  bool reverse = false;
};

std::string_view to_string(MockScenarioKind kind);
std::optional<MockScenarioKind> parse_mock_scenario_kind(std::string_view text);
std::string_view to_string(MockHangMode mode);
std::optional<MockHangMode> parse_mock_hang_mode(std::string_view text);

struct MockVenueConfig {
  std::uint64_t seed = 1;
  std::int64_t taker_fee_bps = 5;
  std::vector<core::Instrument> instruments;  // empty: core::default_instruments()
};

class MockVenue final : public Venue {
 public:
  explicit MockVenue(MockVenueConfig config);

  void queue_scenario(MockScenario scenario) { scenarios_.push_back(std::move(scenario)); }
  std::size_t queued_scenarios() const { return scenarios_.size(); }

  void submit(const core::VenueCommand& command, std::int64_t now_ns) override;
  void drain(std::vector<core::VenueEvent>& out) override;
  std::expected<VenueTruth, TruthError> fetch_truth(const TruthRequest& request) override;
  void set_mark(const core::Symbol& symbol, core::Price price) override;

  // BingX-style status string of an order ("NEW", "CANCELLED", ...), or "" if unknown.
  std::string order_status(const core::ClientOrderId& id) const;
  std::size_t order_count() const { return orders_.size(); }

 private:
  struct Order {
    core::VenueCommand command;
    std::int64_t venue_order_id = 0;
    std::string status;  // BingX REST spelling
    core::Quantity quantity;
    core::Quantity executed;
    core::Money executed_notional;
    MockScenario scenario;
    bool on_book = true;  // false: NEVER_ARRIVED
  };
  using OrderKey = std::uint64_t;

  static OrderKey key_of(const core::ClientOrderId& id);
  void place(const core::VenueCommand& command);
  void cancel(const core::VenueCommand& command);
  void query(const core::VenueCommand& command);
  core::VenueEvent event_for(const Order& order, core::KernelEventKind kind);
  void fill(Order& order, core::Quantity quantity, core::Price price,
            std::vector<core::VenueEvent>& batch);
  core::Price fill_price(const Order& order, core::Price leg_price) const;
  void deliver(std::vector<core::VenueEvent> batch, const MockScenario& scenario);
  const core::Instrument* instrument(const core::Symbol& symbol) const;

  MockVenueConfig config_;
  std::deque<MockScenario> scenarios_;
  std::map<OrderKey, Order> orders_;
  std::map<std::string, core::Price> marks_;
  std::vector<core::VenueEvent> outbox_;
  std::uint64_t next_event_id_;
  std::int64_t next_venue_order_id_;
};

}  // namespace dita::venue
