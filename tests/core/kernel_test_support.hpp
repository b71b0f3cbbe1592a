// tests/core/kernel_test_support.hpp
//
// A small driver around dita::core::Kernel for the core tests: it mints event and intent
// ids, advances a test clock, builds valid payloads for every input, and renders a slot's
// complete image (every field, not only the journaled ones) so "nothing changed" can be
// asserted exactly.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "dita/core/contracts.hpp"
#include "dita/core/fixed_point.hpp"
#include "dita/core/kernel.hpp"

namespace dita::core::testing {

inline std::int64_t units_of(std::string_view text) {
  const auto parsed = parse_decimal(text);
  EXPECT_TRUE(parsed.has_value()) << "bad decimal in test: " << text;
  return parsed.value_or(0);
}
inline Quantity qty(std::string_view text) {
  return Quantity::from_units(units_of(text));
}
inline Price px(std::string_view text) {
  return Price::from_units(units_of(text));
}
inline Money usd(std::string_view text) {
  return Money::from_units(units_of(text));
}
inline Symbol sym(std::string_view text) {
  const auto symbol = Symbol::parse(text);
  EXPECT_TRUE(symbol.has_value()) << "bad symbol in test: " << text;
  return symbol.value_or(Symbol{});
}

inline constexpr std::int64_t kMs = 1'000'000;
inline constexpr std::int64_t kAckTimeout = 5'000 * kMs;

inline KernelConfig test_config(std::uint32_t slots = 4, std::uint32_t active_limit = 4) {
  KernelConfig config;
  config.slot_count = slots;
  config.active_slot_limit = active_limit;
  config.order_id_prefix = "dita";
  config.ack_timeout_ns = kAckTimeout;
  config.query_interval_ns = kAckTimeout;
  config.not_found_confirmations = 3;
  return config;
}

inline Kernel make_kernel(KernelConfig config) {
  auto kernel = Kernel::create(std::move(config));
  if (!kernel) throw std::runtime_error("test kernel config rejected: " + kernel.error().message);
  return std::move(*kernel);
}

// A venue order id the tests can predict: one per (slot, trade, leg, attempt).
inline std::int64_t venue_id_of(const ClientOrderId& id) {
  return 1'000'000'000LL + static_cast<std::int64_t>(id.slot) * 1'000'000 +
         static_cast<std::int64_t>(id.trade) * 1'000 + id.leg * 10 + id.attempt;
}

inline bool has_code(const KernelOutcome& out, KernelDiagnosticCode code) {
  return std::any_of(out.diagnostics.begin(), out.diagnostics.end(),
                     [code](const KernelDiagnostic& d) { return d.code == code; });
}

inline const KernelDiagnostic* find_diagnostic(const KernelOutcome& out,
                                               KernelDiagnosticCode code) {
  for (const auto& diagnostic : out.diagnostics) {
    if (diagnostic.code == code) return &diagnostic;
  }
  return nullptr;
}

inline const DiagnosticDetail* find_detail(const KernelDiagnostic& diagnostic,
                                           std::string_view key) {
  for (std::size_t i = 0; i < diagnostic.detail_count; ++i) {
    if (diagnostic.details[i].key == key) return &diagnostic.details[i];
  }
  return nullptr;
}

inline std::string codes_of(const KernelOutcome& out) {
  std::string text;
  for (const auto& diagnostic : out.diagnostics) {
    if (!text.empty()) text += ",";
    text += to_string(diagnostic.code);
  }
  return text.empty() ? "<none>" : text;
}

inline std::vector<KernelCommandType> command_types(const KernelOutcome& out) {
  std::vector<KernelCommandType> types;
  for (const auto& command : out.commands) types.push_back(command.type);
  return types;
}

// Every field of a slot. `with_event_ids` = false leaves out the ring of applied event ids,
// which an accepted (even if redundant) event legitimately extends.
inline std::string slot_image(const TradeSlot& s, bool with_event_ids = true) {
  std::ostringstream o;
  o << "slot=" << s.slot_id << " stage=" << to_string(s.stage)
    << " before=" << to_string(s.stage_before_reconcile) << " trade=" << s.trade_id
    << " asset=" << s.asset.view() << " side=" << to_string(s.side) << " lev=" << s.leverage
    << " size=" << s.size.units() << " entry_filled=" << s.entry_filled.units()
    << " entry_notional=" << s.entry_notional.units() << " entry_price=" << s.entry_price.units()
    << " cost=" << s.cost_basis.units() << " realized=" << s.realized_pnl.units()
    << " settled_pnl=" << s.settled_pnl.units() << " settled=" << s.settled
    << " unrealized=" << s.unrealized_pnl.units() << " fees=" << s.fees_paid.units()
    << " funding=" << s.funding_pnl.units() << " run=" << s.reconcile_run
    << " strikes=" << static_cast<int>(s.reconcile_strikes) << " blocked=" << s.reconcile_blocked
    << " adopted=" << s.adopted << " mark=" << s.mark_price.units()
    << " next_leg=" << s.next_exit_leg << " legs_filled=" << s.exit_legs_filled
    << " entry_attempt=" << s.entry_attempt << " exit_attempt=" << s.exit_attempt
    << " working=" << static_cast<int>(s.working_order) << " opened=" << s.opened_ts_ns
    << " closed=" << s.closed_ts_ns << " last_input=" << s.last_input_seq
    << " orders=" << static_cast<int>(s.order_count);
  for (std::size_t i = 0; i < s.order_count; ++i) {
    const VenueOrder& v = s.orders[i];
    o << " [s" << v.id.slot << "t" << v.id.trade << "l" << v.id.leg << "a" << v.id.attempt
      << " vid=" << v.venue_order_id << " role=" << to_string(v.role)
      << " side=" << to_string(v.side) << " type=" << to_string(v.type)
      << " status=" << to_string(v.status) << " qty=" << v.quantity.units()
      << " limit=" << v.limit_price.units() << " filled=" << v.filled.units()
      << " notional=" << v.filled_notional.units() << " fee=" << v.fee.units()
      << " cancel=" << v.cancel_requested << " nf=" << v.not_found_count << " sent=" << v.sent_ts_ns
      << " queried=" << v.last_query_ts_ns << " news=" << v.last_news_ts_ns
      << " external=" << v.external << "]";
  }
  if (with_event_ids) {
    o << " seen=";
    for (const auto id : s.seen_event_ids) o << id << ",";
    o << " next=" << static_cast<int>(s.seen_event_next);
  }
  return o.str();
}

inline std::string account_image(const AccountSnapshot& a) {
  std::ostringstream o;
  o << "capital=" << a.capital.units() << " peak=" << a.peak_capital.units()
    << " dd=" << a.drawdown.units() << " maxdd=" << a.max_drawdown.units()
    << " realized=" << a.realized_total.units() << " unrealized=" << a.unrealized_total.units()
    << " funding=" << a.funding_total.units() << " trades=" << a.trade_seq << " seeded=" << a.seeded
    << " banned=" << a.venue_banned << " until=" << a.venue_banned_until_ns;
  return o.str();
}

// Drives one kernel; every helper returns the outcome of the input it fed.
class Harness {
 public:
  explicit Harness(KernelConfig config = test_config()) : kernel(make_kernel(std::move(config))) {
    out.reserve(kernel.slot_count());
  }

  Kernel kernel;
  KernelOutcome out;
  std::int64_t now = 1'000 * kMs;
  std::uint64_t next_event_id = 1;
  std::uint64_t next_intent_id = 1;
  std::uint64_t next_fact_id = 1;
  std::uint64_t run_id = 0;  // the reconcile run reconcile_begin opened last

  const TradeSlot& slot(std::uint32_t id = 0) const { return kernel.slot(id); }
  const AccountSnapshot& account() const { return kernel.account(); }

  const KernelOutcome& feed(KernelInputPayload payload, std::int64_t advance_ns = kMs) {
    now += advance_ns;
    kernel.process(KernelInput{now, std::move(payload)}, out);
    return out;
  }

  const KernelOutcome& seed(std::string_view capital) { return feed(SeedCapital{usd(capital)}); }

  KernelIntent enter_intent(std::uint32_t slot_id, std::string_view size,
                            std::string_view price = "0", Side side = Side::kLong,
                            std::string_view asset = "BTC-USDT", std::uint16_t leverage = 1) {
    KernelIntent intent;
    intent.kind = KernelIntentKind::kEnter;
    intent.id = next_id();
    intent.slot = slot_id;
    intent.asset = sym(asset);
    intent.side = side;
    intent.size = qty(size);
    intent.price = px(price);
    intent.leverage = leverage;
    return intent;
  }
  const KernelOutcome& enter(std::uint32_t slot_id, std::string_view size,
                             std::string_view price = "0", Side side = Side::kLong,
                             std::string_view asset = "BTC-USDT") {
    return feed(enter_intent(slot_id, size, price, side, asset));
  }
  const KernelOutcome& exit(std::uint32_t slot_id, std::string_view size = "0",
                            std::string_view price = "0") {
    KernelIntent intent;
    intent.kind = KernelIntentKind::kExit;
    intent.id = next_id();
    intent.slot = slot_id;
    intent.size = qty(size);
    intent.price = px(price);
    return feed(intent);
  }
  const KernelOutcome& cancel(std::uint32_t slot_id) {
    KernelIntent intent;
    intent.kind = KernelIntentKind::kCancel;
    intent.id = next_id();
    intent.slot = slot_id;
    return feed(intent);
  }

  ClientIntentId next_id() {
    return *ClientIntentId::parse("i" + std::to_string(next_intent_id++));
  }

  VenueEvent event(KernelEventKind kind, const ClientOrderId& order) {
    VenueEvent e;
    e.kind = kind;
    e.event_id = next_event_id++;
    e.slot = order.slot;
    e.order = order;
    e.venue_order_id = venue_id_of(order);
    return e;
  }
  const KernelOutcome& ack(const ClientOrderId& order) {
    return feed(event(KernelEventKind::kAck, order));
  }
  VenueEvent fill_event(KernelEventKind kind, const ClientOrderId& order,
                        std::string_view cumulative, std::string_view average,
                        std::string_view fee = "0") {
    VenueEvent e = event(kind, order);
    e.cumulative_filled = qty(cumulative);
    e.average_price = px(average);
    e.cumulative_fee = usd(fee);
    return e;
  }
  const KernelOutcome& partial(const ClientOrderId& order, std::string_view cumulative,
                               std::string_view average, std::string_view fee = "0") {
    return feed(fill_event(KernelEventKind::kPartialFill, order, cumulative, average, fee));
  }
  const KernelOutcome& full(const ClientOrderId& order, std::string_view cumulative,
                            std::string_view average, std::string_view fee = "0") {
    return feed(fill_event(KernelEventKind::kFullFill, order, cumulative, average, fee));
  }
  const KernelOutcome& cancel_ack(const ClientOrderId& order) {
    return feed(event(KernelEventKind::kCancelAck, order));
  }
  const KernelOutcome& cancel_reject(const ClientOrderId& order, std::int32_t code = 80018) {
    VenueEvent e = event(KernelEventKind::kCancelReject, order);
    e.command = KernelCommandType::kCancelOrder;
    e.venue_code = code;
    return feed(e);
  }
  const KernelOutcome& order_reject(const ClientOrderId& order, std::int32_t code = 101204) {
    VenueEvent e = event(KernelEventKind::kOrderReject, order);
    e.venue_order_id = 0;
    e.venue_code = code;
    return feed(e);
  }
  const KernelOutcome& rate_limited(const ClientOrderId& order,
                                    KernelCommandType command = KernelCommandType::kPlaceOrder,
                                    std::int64_t retry_after_ms = 1000) {
    VenueEvent e = event(KernelEventKind::kRateLimited, order);
    e.venue_order_id = 0;
    e.command = command;
    e.venue_code = 100410;
    e.retry_after_ms = retry_after_ms;
    return feed(e);
  }
  const KernelOutcome& order_status(const ClientOrderId& order, OrderStatus status,
                                    std::string_view cumulative = "0",
                                    std::string_view average = "0", std::string_view fee = "0",
                                    std::int64_t advance_ns = kMs) {
    VenueEvent e = fill_event(KernelEventKind::kOrderStatus, order, cumulative, average, fee);
    e.status = status;
    if (status == OrderStatus::kNotFound) e.venue_order_id = 0;
    return feed(e, advance_ns);
  }
  const KernelOutcome& mark(std::string_view symbol, std::string_view price) {
    VenueEvent e;
    e.kind = KernelEventKind::kMarkPrice;
    e.event_id = next_event_id++;
    e.symbol = sym(symbol);
    e.mark_price = px(price);
    return feed(e);
  }
  const KernelOutcome& tick(std::int64_t advance_ns = kMs) { return feed(Tick{}, advance_ns); }
  // A reconcile run: begin (one slot or kAllSlots), the venue's positions, complete.
  const KernelOutcome& reconcile_begin(std::uint32_t slot_id, bool netting = true,
                                       ReconcileReason reason = ReconcileReason::kOperator) {
    run_id += 1;
    return feed(ReconcileBegin{run_id, slot_id, reason, netting});
  }
  const KernelOutcome& position(std::string_view symbol, Side side, std::string_view quantity,
                                std::string_view entry_price) {
    return feed(ReconcilePosition{run_id, sym(symbol), side, qty(quantity), px(entry_price)});
  }
  const KernelOutcome& reconcile_complete() { return feed(ReconcileComplete{run_id, false, {}}); }
  const KernelOutcome& reconcile_complete_with_balance(std::string_view balance) {
    return feed(ReconcileComplete{run_id, true, usd(balance)});
  }
  // Reports, as the venue, exactly the positions the kernel holds (so the run agrees).
  void agreeing_positions() {
    for (const TradeSlot& each : kernel.slots()) {
      if (each.size.is_positive()) {
        feed(ReconcilePosition{run_id, each.asset, each.side, each.size, each.entry_price});
      }
    }
  }
  const KernelOutcome& external_fill(std::string_view symbol, Side side, std::string_view quantity,
                                     std::string_view price, std::string_view fee = "0",
                                     ExternalFillKind kind = ExternalFillKind::kLiquidation) {
    ExternalFill fill;
    fill.fact_id = next_fact_id++;
    fill.kind = kind;
    fill.symbol = sym(symbol);
    fill.position_side = side;
    fill.quantity = qty(quantity);
    fill.price = px(price);
    fill.fee = usd(fee);
    fill.venue_order_id = 7'000'000 + static_cast<std::int64_t>(fill.fact_id);
    return feed(fill);
  }
  const KernelOutcome& funding(std::string_view symbol, std::string_view amount) {
    return feed(FundingPayment{next_fact_id++, sym(symbol), usd(amount)});
  }
  const KernelOutcome& operator_command(OperatorAction action, std::uint32_t slot_id,
                                        std::string_view symbol = "", Side side = Side::kLong,
                                        std::string_view quantity = "0",
                                        std::string_view price = "0") {
    OperatorCommand command;
    command.action = action;
    command.slot = slot_id;
    if (!symbol.empty()) command.symbol = sym(symbol);
    command.side = side;
    command.quantity = qty(quantity);
    command.price = px(price);
    return feed(command);
  }
};

inline ClientOrderId entry_order(std::uint32_t slot, std::uint32_t trade) {
  return ClientOrderId{slot, trade, 0, 0};
}
inline ClientOrderId exit_order(std::uint32_t slot, std::uint32_t trade, std::uint16_t leg,
                                std::uint16_t attempt = 0) {
  return ClientOrderId{slot, trade, leg, attempt};
}

}  // namespace dita::core::testing
