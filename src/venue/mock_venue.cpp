#include "dita/venue/mock_venue.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <string>
#include <utility>

namespace dita::venue {
namespace {

// BingX codes (reference/bingx-api.md §7).
constexpr std::int32_t kInsufficientMargin = 101204;
constexpr std::int32_t kOrderSizeError = 101400;
constexpr std::int32_t kRateLimitExceeded = 100410;
constexpr std::int32_t kAlreadyFilled = 80018;
constexpr std::int32_t kOrderNotExist = 109414;
constexpr std::int32_t kDuplicateClientOrderId = 101481;
// BingX's "system busy" family; the mock uses it when it has no price for a market order.
constexpr std::int32_t kNoReferencePrice = 80012;

constexpr std::array<std::string_view, 7> kScenarioNames = {
    "ACCEPT_FILL", "PARTIAL_FILLS", "REJECT", "CANCEL_REJECT", "REST", "HANG", "RATE_LIMITED"};
constexpr std::array<std::string_view, 3> kHangNames = {"ACK_LOST", "FILL_LOST", "NEVER_ARRIVED"};

core::OrderStatus normalized(std::string_view bingx_status) {
  if (bingx_status == "NEW" || bingx_status == "PENDING") return core::OrderStatus::kNew;
  if (bingx_status == "PARTIALLY_FILLED") return core::OrderStatus::kPartiallyFilled;
  if (bingx_status == "FILLED") return core::OrderStatus::kFilled;
  if (bingx_status == "CANCELLED" || bingx_status == "CANCELED")
    return core::OrderStatus::kCanceled;
  return core::OrderStatus::kRejected;
}

bool is_open(std::string_view bingx_status) {
  return bingx_status == "NEW" || bingx_status == "PARTIALLY_FILLED";
}

}  // namespace

std::string_view to_string(MockScenarioKind kind) {
  return kScenarioNames[static_cast<std::size_t>(kind)];
}

std::optional<MockScenarioKind> parse_mock_scenario_kind(std::string_view text) {
  for (std::size_t i = 0; i < kScenarioNames.size(); ++i) {
    if (kScenarioNames[i] == text) return static_cast<MockScenarioKind>(i);
  }
  return std::nullopt;
}

std::string_view to_string(MockHangMode mode) {
  return kHangNames[static_cast<std::size_t>(mode)];
}

std::optional<MockHangMode> parse_mock_hang_mode(std::string_view text) {
  for (std::size_t i = 0; i < kHangNames.size(); ++i) {
    if (kHangNames[i] == text) return static_cast<MockHangMode>(i);
  }
  return std::nullopt;
}

MockVenue::MockVenue(MockVenueConfig config)
    : config_(std::move(config)),
      // Ids are derived from the seed so two runs with one seed agree and two seeds differ.
      next_event_id_(1'000'000 * ((config_.seed % 1000) + 1)),
      next_venue_order_id_(1'890'000'000'000'000'000 +
                           static_cast<std::int64_t>(config_.seed % 1'000'000) * 1'000'000) {
  if (config_.instruments.empty()) config_.instruments = core::default_instruments();
}

MockVenue::OrderKey MockVenue::key_of(const core::ClientOrderId& id) {
  return (static_cast<std::uint64_t>(id.slot) << 48) ^
         (static_cast<std::uint64_t>(id.trade) << 24) ^ (static_cast<std::uint64_t>(id.leg) << 12) ^
         id.attempt;
}

const core::Instrument* MockVenue::instrument(const core::Symbol& symbol) const {
  for (const auto& item : config_.instruments) {
    if (item.symbol == symbol) return &item;
  }
  return nullptr;
}

void MockVenue::set_mark(const core::Symbol& symbol, core::Price price) {
  marks_[std::string(symbol.view())] = price;
}

void MockVenue::submit(const core::VenueCommand& command, std::int64_t /*now_ns*/) {
  switch (command.type) {
    case core::KernelCommandType::kPlaceOrder:
      place(command);
      return;
    case core::KernelCommandType::kCancelOrder:
      cancel(command);
      return;
    case core::KernelCommandType::kQueryOrder:
      query(command);
      return;
  }
}

void MockVenue::drain(std::vector<core::VenueEvent>& out) {
  out.insert(out.end(), outbox_.begin(), outbox_.end());
  outbox_.clear();
}

core::VenueEvent MockVenue::event_for(const Order& order, core::KernelEventKind kind) {
  core::VenueEvent event;
  event.kind = kind;
  event.event_id = next_event_id_++;
  event.slot = order.command.slot;
  event.order = order.command.order;
  event.venue_order_id = order.venue_order_id;
  event.command = core::KernelCommandType::kPlaceOrder;
  event.status = normalized(order.status);
  if (order.executed.is_positive()) {
    event.cumulative_filled = order.executed;
    event.average_price = core::average_price(order.executed_notional, order.executed);
    // Fees on the rounded average keep the kernel's notional and ours identical.
    const core::Money value = core::notional(order.executed, event.average_price);
    event.cumulative_fee = core::Money::from_units(core::divide_round_half_even(
        static_cast<core::Int128>(value.units()) * config_.taker_fee_bps, 10'000));
  }
  return event;
}

core::Price MockVenue::fill_price(const Order& order, core::Price leg_price) const {
  if (leg_price.is_positive()) return leg_price;
  if (order.command.price.is_positive()) return order.command.price;
  const auto mark = marks_.find(std::string(order.command.symbol.view()));
  return mark != marks_.end() ? mark->second : core::Price::zero();
}

void MockVenue::fill(Order& order, core::Quantity quantity, core::Price price,
                     std::vector<core::VenueEvent>& batch) {
  const core::Quantity room = order.quantity - order.executed;
  const core::Quantity amount = core::min(quantity, room);
  if (!amount.is_positive()) return;
  order.executed += amount;
  order.executed_notional += core::notional(amount, price);
  const bool complete = order.executed == order.quantity;
  order.status = complete ? "FILLED" : "PARTIALLY_FILLED";
  batch.push_back(event_for(
      order, complete ? core::KernelEventKind::kFullFill : core::KernelEventKind::kPartialFill));
}

void MockVenue::deliver(std::vector<core::VenueEvent> batch, const MockScenario& scenario) {
  if (scenario.reverse) std::reverse(batch.begin(), batch.end());
  for (const auto& event : batch) {
    outbox_.push_back(event);
    if (scenario.duplicate) outbox_.push_back(event);
  }
}

void MockVenue::place(const core::VenueCommand& command) {
  MockScenario scenario;
  if (!scenarios_.empty()) {
    scenario = std::move(scenarios_.front());
    scenarios_.pop_front();
  }
  Order order;
  order.command = command;
  order.scenario = scenario;
  order.venue_order_id = next_venue_order_id_++;
  order.status = "NEW";
  std::vector<core::VenueEvent> batch;
  const auto reject = [&](std::int32_t code) {
    order.status = "FAILED";
    core::VenueEvent event = event_for(order, core::KernelEventKind::kOrderReject);
    event.venue_code = code;
    event.venue_order_id = 0;
    batch.push_back(event);
  };

  if (scenario.kind == MockScenarioKind::kRateLimited) {
    Order throttled = order;
    core::VenueEvent event = event_for(throttled, core::KernelEventKind::kRateLimited);
    event.venue_order_id = 0;
    event.venue_code = scenario.venue_code != 0 ? scenario.venue_code : kRateLimitExceeded;
    event.retry_after_ms = scenario.retry_after_ms;
    batch.push_back(event);
    deliver(std::move(batch), scenario);
    return;  // BingX keeps no trace of a throttled request
  }
  const OrderKey key = key_of(command.order);
  if (orders_.contains(key)) {
    Order duplicate = order;
    core::VenueEvent event = event_for(duplicate, core::KernelEventKind::kOrderReject);
    event.venue_code = kDuplicateClientOrderId;
    batch.push_back(event);
    deliver(std::move(batch), scenario);
    return;
  }
  // BingX truncates excess decimals and refuses what falls below the minimum.
  const core::Instrument* spec = instrument(command.symbol);
  order.quantity = spec != nullptr ? core::snap_to_step(command.quantity, spec->quantity_step)
                                   : command.quantity;
  if (scenario.kind == MockScenarioKind::kReject) {
    reject(scenario.venue_code != 0 ? scenario.venue_code : kInsufficientMargin);
  } else if (spec == nullptr || !order.quantity.is_positive() ||
             (order.quantity < spec->min_quantity && !command.reduce_only)) {
    reject(kOrderSizeError);
  } else if (!fill_price(order, core::Price::zero()).is_positive()) {
    reject(kNoReferencePrice);  // a market order with no mark to fill against
  } else if (scenario.kind == MockScenarioKind::kHang) {
    if (scenario.hang == MockHangMode::kNeverArrived) order.on_book = false;
    if (scenario.hang == MockHangMode::kFillLost) {
      std::vector<core::VenueEvent> silent;
      fill(order, order.quantity, fill_price(order, core::Price::zero()), silent);
    }
  } else {
    batch.push_back(event_for(order, core::KernelEventKind::kAck));
    if (scenario.kind == MockScenarioKind::kAcceptFill) {
      fill(order, order.quantity, fill_price(order, core::Price::zero()), batch);
    } else if (scenario.kind == MockScenarioKind::kPartialFills) {
      for (const MockFillLeg& leg : scenario.legs)
        fill(order, leg.quantity, fill_price(order, leg.price), batch);
    }
  }
  orders_.emplace(key, order);
  deliver(std::move(batch), scenario);
}

void MockVenue::cancel(const core::VenueCommand& command) {
  std::vector<core::VenueEvent> batch;
  const auto it = orders_.find(key_of(command.order));
  if (it == orders_.end() || !it->second.on_book) {
    Order unknown;
    unknown.command = command;
    core::VenueEvent event = event_for(unknown, core::KernelEventKind::kCancelReject);
    event.command = core::KernelCommandType::kCancelOrder;
    event.venue_code = kOrderNotExist;
    batch.push_back(event);
    deliver(std::move(batch), MockScenario{});
    return;
  }
  Order& order = it->second;
  if (order.scenario.kind == MockScenarioKind::kCancelReject && is_open(order.status)) {
    // The venue filled the order before our cancel reached it.
    std::vector<core::VenueEvent> fills;
    fill(order, order.quantity, fill_price(order, core::Price::zero()), fills);
    core::VenueEvent reject = event_for(order, core::KernelEventKind::kCancelReject);
    reject.command = core::KernelCommandType::kCancelOrder;
    reject.venue_code = kAlreadyFilled;
    batch.push_back(reject);
    batch.insert(batch.end(), fills.begin(), fills.end());
  } else if (is_open(order.status)) {
    order.status = "CANCELLED";
    batch.push_back(event_for(order, core::KernelEventKind::kCancelAck));
  } else {
    core::VenueEvent reject = event_for(order, core::KernelEventKind::kCancelReject);
    reject.command = core::KernelCommandType::kCancelOrder;
    reject.venue_code = order.status == "FILLED" ? kAlreadyFilled : kOrderNotExist;
    batch.push_back(reject);
  }
  MockScenario delivery = order.scenario;
  delivery.reverse = false;
  deliver(std::move(batch), delivery);
}

void MockVenue::query(const core::VenueCommand& command) {
  const auto it = orders_.find(key_of(command.order));
  Order unknown;
  unknown.command = command;
  const bool known = it != orders_.end() && it->second.on_book;
  core::VenueEvent event =
      event_for(known ? it->second : unknown, core::KernelEventKind::kOrderStatus);
  event.command = core::KernelCommandType::kQueryOrder;
  if (!known) {
    event.status = core::OrderStatus::kNotFound;
    event.venue_order_id = 0;
  }
  outbox_.push_back(event);
}

std::expected<VenueTruth, TruthError> MockVenue::fetch_truth(const TruthRequest& request) {
  VenueTruth truth;
  truth.netting = true;  // the mock keeps one net position per symbol, like a one-way account
  for (const OrderQuery& query : request.orders) {
    core::VenueCommand asked;
    asked.slot = query.id.slot;
    asked.order = query.id;
    asked.symbol = query.symbol;
    const auto it = orders_.find(key_of(query.id));
    const bool known = it != orders_.end() && it->second.on_book;
    Order unknown;
    unknown.command = asked;
    core::VenueEvent event =
        event_for(known ? it->second : unknown, core::KernelEventKind::kOrderStatus);
    event.command = core::KernelCommandType::kQueryOrder;
    if (!known) {
      event.status = core::OrderStatus::kNotFound;
      event.venue_order_id = 0;
    }
    truth.orders.push_back(event);
  }
  // Net position per symbol: opening fills minus closing fills, signed by position side.
  struct Net {
    std::int64_t units = 0;
    core::Quantity opened_long;
    core::Money opened_long_value;
    core::Quantity opened_short;
    core::Money opened_short_value;
  };
  std::map<std::string, Net> nets;
  for (const auto& [key, order] : orders_) {
    if (!order.executed.is_positive()) continue;
    Net& net = nets[std::string(order.command.symbol.view())];
    const bool long_side = order.command.position_side == core::Side::kLong;
    const std::int64_t sign = (long_side != order.command.reduce_only) ? 1 : -1;
    net.units += sign * order.executed.units();
    if (!order.command.reduce_only) {
      (long_side ? net.opened_long : net.opened_short) += order.executed;
      (long_side ? net.opened_long_value : net.opened_short_value) += order.executed_notional;
    }
  }
  for (const auto& [symbol, net] : nets) {
    if (net.units == 0) continue;
    core::ReconcilePosition position;
    position.symbol = *core::Symbol::parse(symbol);
    position.side = net.units > 0 ? core::Side::kLong : core::Side::kShort;
    position.quantity = core::Quantity::from_units(net.units > 0 ? net.units : -net.units);
    const bool long_side = net.units > 0;
    const core::Quantity opened = long_side ? net.opened_long : net.opened_short;
    const core::Money value = long_side ? net.opened_long_value : net.opened_short_value;
    position.entry_price =
        opened.is_positive() ? core::average_price(value, opened) : core::Price::from_units(1);
    truth.positions.push_back(position);
  }
  return truth;
}

std::string MockVenue::order_status(const core::ClientOrderId& id) const {
  const auto it = orders_.find(key_of(id));
  return it == orders_.end() ? std::string() : it->second.status;
}

}  // namespace dita::venue
