#include "dita/core/kernel.hpp"

#include <algorithm>
#include <utility>

namespace dita::core {
namespace {

using C = KernelDiagnosticCode;

constexpr FsmInput fsm_input_of(KernelIntentKind kind) {
  switch (kind) {
    case KernelIntentKind::kEnter:
      return FsmInput::kEnter;
    case KernelIntentKind::kExit:
      return FsmInput::kExit;
    case KernelIntentKind::kCancel:
      return FsmInput::kCancel;
  }
  return FsmInput::kEnter;
}

constexpr FsmInput fsm_input_of(KernelEventKind kind) {
  switch (kind) {
    case KernelEventKind::kAck:
      return FsmInput::kAck;
    case KernelEventKind::kPartialFill:
      return FsmInput::kPartialFill;
    case KernelEventKind::kFullFill:
      return FsmInput::kFullFill;
    case KernelEventKind::kCancelAck:
      return FsmInput::kCancelAck;
    case KernelEventKind::kCancelReject:
      return FsmInput::kCancelReject;
    case KernelEventKind::kOrderReject:
      return FsmInput::kOrderReject;
    case KernelEventKind::kRateLimited:
      return FsmInput::kRateLimited;
    case KernelEventKind::kOrderStatus:
      return FsmInput::kOrderStatus;
    case KernelEventKind::kMarkPrice:
      return FsmInput::kMarkPrice;
  }
  return FsmInput::kAck;
}

constexpr OrderSide opening_side(Side side) {
  return side == Side::kLong ? OrderSide::kBuy : OrderSide::kSell;
}
constexpr OrderSide closing_side(Side side) {
  return side == Side::kLong ? OrderSide::kSell : OrderSide::kBuy;
}

bool carries_fill(const VenueEvent& event) {
  return event.kind == KernelEventKind::kPartialFill || event.kind == KernelEventKind::kFullFill ||
         (event.kind == KernelEventKind::kOrderStatus && event.cumulative_filled.is_positive());
}

bool is_valid_symbol_text(const Symbol& symbol) {
  return !symbol.empty();
}

bool is_lower_alnum(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); });
}

constexpr std::uint16_t kMaxLeverage = 125;

}  // namespace

// ---------------------------------------------------------------------------------------
// Construction

std::expected<Kernel, ConfigError> Kernel::create(KernelConfig config) {
  if (config.slot_count == 0 || config.slot_count > kMaxSlots) {
    return std::unexpected(ConfigError{"slot_count", "must be between 1 and 256"});
  }
  if (config.active_slot_limit > config.slot_count) {
    return std::unexpected(ConfigError{"active_slot_limit", "must be between 0 and slot_count"});
  }
  if (config.order_id_prefix.empty() || config.order_id_prefix.size() > 8 ||
      !is_lower_alnum(config.order_id_prefix)) {
    return std::unexpected(
        ConfigError{"order_id_prefix", "must be 1 to 8 lower-case letters or digits"});
  }
  if (config.ack_timeout_ns <= 0) {
    return std::unexpected(ConfigError{"ack_timeout_ms", "must be positive"});
  }
  if (config.query_interval_ns <= 0) {
    return std::unexpected(ConfigError{"query_interval_ms", "must be positive"});
  }
  if (config.not_found_confirmations == 0) {
    return std::unexpected(ConfigError{"not_found_confirmations", "must be at least 1"});
  }
  if (config.instruments.empty()) config.instruments = default_instruments();
  for (std::size_t i = 0; i < config.instruments.size(); ++i) {
    const Instrument& instrument = config.instruments[i];
    if (instrument.symbol.empty() || !instrument.quantity_step.is_positive() ||
        !instrument.price_tick.is_positive() || instrument.min_quantity.is_negative()) {
      return std::unexpected(
          ConfigError{"instruments",
                      "each instrument needs a symbol, a positive step and tick, and a "
                      "non-negative minimum quantity"});
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (config.instruments[j].symbol == instrument.symbol) {
        return std::unexpected(ConfigError{
            "instruments", "duplicate symbol " + std::string(instrument.symbol.view())});
      }
    }
  }
  return Kernel(std::move(config));
}

Kernel::Kernel(KernelConfig config)
    : config_(std::move(config)),
      slots_(config_.slot_count),
      marks_(config_.instruments.size()),
      active_slot_limit_(config_.active_slot_limit) {
  for (std::uint32_t i = 0; i < slots_.size(); ++i) slots_[i].slot_id = i;
}

const Instrument* Kernel::find_instrument(const Symbol& symbol) const {
  for (const Instrument& instrument : config_.instruments) {
    if (instrument.symbol == symbol) return &instrument;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------
// Dispatch

void Kernel::process(const KernelInput& input, KernelOutcome& out) {
  out.clear();
  out.input_seq = ++input_seq_;
  const std::int64_t now = input.ts_ns;
  struct Visitor {
    Kernel& kernel;
    std::int64_t now;
    KernelOutcome& out;
    void operator()(const KernelIntent& intent) const { kernel.on_intent(intent, now, out); }
    void operator()(const VenueEvent& event) const {
      if (event.kind == KernelEventKind::kMarkPrice) {
        kernel.on_mark(event, out);
      } else {
        kernel.on_venue_event(event, now, out);
      }
    }
    void operator()(const Tick&) const { kernel.on_tick(now, out); }
    void operator()(const SeedCapital& seed) const { kernel.on_seed(seed, out); }
    void operator()(const ReconcileBegin& begin) const { kernel.on_reconcile_begin(begin, out); }
    void operator()(const ReconcileComplete& truth) const {
      kernel.on_reconcile_complete(truth, out);
    }
    void operator()(const SetActiveSlotLimit& change) const {
      kernel.on_set_active_slot_limit(change, out);
    }
  };
  std::visit(Visitor{*this, now, out}, input.payload);
  out.account = account_;
}

KernelDiagnostic& Kernel::diagnose(KernelOutcome& out, KernelDiagnosticCode code,
                                   KernelSeverity severity, std::uint32_t slot,
                                   std::string_view message) {
  KernelDiagnostic& diagnostic = out.diagnostics.emplace_back();
  diagnostic.code = code;
  diagnostic.severity = severity;
  diagnostic.slot = slot;
  diagnostic.message = message;
  return diagnostic;
}

void Kernel::on_intent(const KernelIntent& intent, std::int64_t now, KernelOutcome& out) {
  if (intent.slot >= slots_.size()) {
    diagnose(out, C::kInvalidSlot, default_severity(C::kInvalidSlot), intent.slot,
             "intent names a slot this kernel does not have")
        .with_int("slot", intent.slot)
        .with_int("slot_count", static_cast<std::int64_t>(slots_.size()));
    return;
  }
  TradeSlot& slot = slots_[intent.slot];
  if (intent.intent_id == 0) {
    diagnose(out, C::kInvalidIntent, default_severity(C::kInvalidIntent), slot.slot_id,
             "intent_id must be non-zero")
        .with_text("field", "intent_id");
    return;
  }
  const FsmCell& cell = fsm_cell(slot.stage, fsm_input_of(intent.kind));
  switch (cell.action) {
    case FsmAction::kStartEntry:
      start_entry(slot, intent, now, out);
      return;
    case FsmAction::kStartExit:
      start_exit(slot, intent, now, out);
      return;
    case FsmAction::kRequestCancel:
      request_cancel(slot, out);
      return;
    default:
      diagnose(out, cell.code, default_severity(cell.code), slot.slot_id, cell.outcome)
          .with_text("stage", to_string(slot.stage))
          .with_text("intent", to_string(intent.kind));
      return;
  }
}

void Kernel::on_venue_event(const VenueEvent& event, std::int64_t now, KernelOutcome& out) {
  if (event.slot >= slots_.size()) {
    diagnose(out, C::kInvalidSlot, default_severity(C::kInvalidSlot), event.slot,
             "venue event names a slot this kernel does not have")
        .with_int("slot", event.slot);
    return;
  }
  TradeSlot& slot = slots_[event.slot];
  const auto invalid = [&](std::string_view field, std::string_view message) {
    diagnose(out, C::kInvalidEvent, default_severity(C::kInvalidEvent), slot.slot_id, message)
        .with_text("field", field)
        .with_text("event", to_string(event.kind));
  };
  if (event.event_id == 0) return invalid("event_id", "event_id must be non-zero");
  if (event.order.slot != event.slot) {
    return invalid("order", "the client order id belongs to another slot");
  }
  const bool fill_kind =
      event.kind == KernelEventKind::kPartialFill || event.kind == KernelEventKind::kFullFill;
  if (event.cumulative_filled.is_negative() || (fill_kind && event.cumulative_filled.is_zero())) {
    return invalid("cumulative_filled", "cumulative filled quantity must be positive");
  }
  if (event.average_price.is_negative() ||
      (event.cumulative_filled.is_positive() && !event.average_price.is_positive())) {
    return invalid("average_price", "a fill needs a positive average price");
  }
  if (event.venue_order_id < 0) return invalid("venue_order_id", "venue order id is negative");
  // Checked here, before the event id is remembered, so a malformed ACK leaves no trace and
  // a corrected redelivery under the same event id is still applied.
  if (event.kind == KernelEventKind::kAck && event.venue_order_id == 0) {
    return invalid("venue_order_id", "an ACK must carry the venue order id");
  }
  if (event.retry_after_ms < -1) return invalid("retry_after_ms", "must be -1 or more");
  if (seen_event(slot, event.event_id)) {
    diagnose(out, C::kDuplicateEvent, default_severity(C::kDuplicateEvent), slot.slot_id,
             "event id already applied; ignored")
        .with_int("event_id", static_cast<std::int64_t>(event.event_id));
    return;
  }
  const FsmInput input = fsm_input_of(event.kind);
  const FsmCell& cell = fsm_cell(slot.stage, input);
  if (cell.action == FsmAction::kDiagnose) {
    diagnose(out, cell.code, default_severity(cell.code), slot.slot_id, cell.outcome)
        .with_text("stage", to_string(slot.stage))
        .with_text("event", to_string(event.kind));
    return;
  }
  if (event.order.trade < slot.trade_id) {
    if (carries_fill(event)) {
      // Money moved on a trade we already finished: only venue truth can tell us where.
      diagnose(out, C::kLateFill, default_severity(C::kLateFill), slot.slot_id,
               "fill for an order of an earlier trade")
          .with_int("order_trade", event.order.trade)
          .with_int("current_trade", slot.trade_id);
      enter_reconcile(slot, input, out);
      return;
    }
    diagnose(out, C::kStaleOrderEvent, default_severity(C::kStaleOrderEvent), slot.slot_id,
             "event for an order of an earlier trade; ignored")
        .with_int("order_trade", event.order.trade)
        .with_text("event", to_string(event.kind));
    remember_event(slot, event.event_id);
    return;
  }
  VenueOrder* order = event.order.trade == slot.trade_id ? find_order(slot, event.order) : nullptr;
  if (order == nullptr) {
    if (carries_fill(event) && event.order.trade == slot.trade_id && slot.trade_id != 0) {
      diagnose(out, C::kLateFill, default_severity(C::kLateFill), slot.slot_id,
               "fill for an order of this trade that is no longer tracked")
          .with_int("leg", event.order.leg)
          .with_int("attempt", event.order.attempt);
      enter_reconcile(slot, input, out);
      return;
    }
    diagnose(out, C::kUnknownOrder, default_severity(C::kUnknownOrder), slot.slot_id,
             "event for an order this slot never sent")
        .with_int("order_trade", event.order.trade)
        .with_int("leg", event.order.leg)
        .with_int("attempt", event.order.attempt);
    return;
  }
  switch (cell.action) {
    case FsmAction::kRecordAck:
      record_ack(slot, *order, event, out);
      break;
    case FsmAction::kApplyFill:
      apply_fill(slot, *order, event, event.kind == KernelEventKind::kFullFill, input, out);
      break;
    case FsmAction::kApplyCancelAck:
      if (order->is_terminal()) {
        diagnose(out, C::kDuplicateEvent, default_severity(C::kDuplicateEvent), slot.slot_id,
                 "order already final; cancel ack ignored")
            .with_text("status", to_string(order->status));
      } else {
        apply_cancel_ack(slot, *order, input, out);
      }
      break;
    case FsmAction::kApplyCancelReject: {
      // Only a cancel reject that sends a query restarts the query clock; one for an order
      // already final changes nothing.
      const bool queries = !order->is_terminal();
      apply_cancel_reject(slot, *order, event, out);
      if (queries) order->last_query_ts_ns = now;
      break;
    }
    case FsmAction::kApplyOrderReject:
      apply_order_reject(slot, *order, event, input, out);
      break;
    case FsmAction::kApplyRateLimit:
      apply_rate_limit(slot, *order, event, out);
      break;
    case FsmAction::kFoldOrderStatus:
      fold_order_status(slot, *order, event, now, out);
      break;
    default:
      diagnose(out, C::kInvalidTransition, default_severity(C::kInvalidTransition), slot.slot_id,
               "no rule for this event in this stage")
          .with_text("stage", to_string(slot.stage))
          .with_text("event", to_string(event.kind));
      return;
  }
  remember_event(slot, event.event_id);
}

// ---------------------------------------------------------------------------------------
// Intents

void Kernel::start_entry(TradeSlot& slot, const KernelIntent& intent, std::int64_t now,
                         KernelOutcome& out) {
  const auto invalid = [&](std::string_view field, std::string_view message) {
    diagnose(out, C::kInvalidIntent, default_severity(C::kInvalidIntent), slot.slot_id, message)
        .with_text("field", field);
  };
  if (!is_valid_symbol_text(intent.asset)) return invalid("asset", "ENTER needs an asset");
  if (!intent.size.is_positive()) return invalid("size", "ENTER size must be positive");
  if (intent.price.is_negative())
    return invalid("price", "price must be zero (market) or positive");
  if (intent.leverage == 0 || intent.leverage > kMaxLeverage) {
    return invalid("leverage", "leverage must be between 1 and 125");
  }
  const Instrument* instrument = find_instrument(intent.asset);
  if (instrument == nullptr) {
    diagnose(out, C::kUnknownInstrument, default_severity(C::kUnknownInstrument), slot.slot_id,
             "no instrument metadata for this asset")
        .with_text("field", "asset");
    return;
  }
  const Quantity quantity = snap_to_step(intent.size, instrument->quantity_step);
  if (quantity.is_zero() || quantity < instrument->min_quantity) {
    diagnose(out, C::kSizeBelowMinimum, default_severity(C::kSizeBelowMinimum), slot.slot_id,
             "size after snapping to the quantity step is below the venue minimum")
        .with_decimal("requested", intent.size.units())
        .with_decimal("snapped", quantity.units())
        .with_decimal("minimum", instrument->min_quantity.units());
    return;
  }
  if (active_slots() >= active_slot_limit_) {
    diagnose(out, C::kActiveSlotLimit, default_severity(C::kActiveSlotLimit), slot.slot_id,
             "active slot limit reached")
        .with_int("active_slot_limit", active_slot_limit_);
    return;
  }
  const Price price = Price::from_units(intent.price.units() -
                                        intent.price.units() % instrument->price_tick.units());
  // A new trade starts from the latest mark of its symbol, so unrealized PnL is right from
  // the first fill rather than from the next mark.
  slot.mark_price = marks_[static_cast<std::size_t>(instrument - config_.instruments.data())];
  slot.trade_id += 1;
  slot.asset = intent.asset;
  slot.side = intent.side;
  slot.leverage = intent.leverage;
  slot.size = Quantity::zero();
  slot.entry_filled = Quantity::zero();
  slot.entry_notional = Money::zero();
  slot.entry_price = Price::zero();
  slot.cost_basis = Money::zero();
  slot.realized_pnl = Money::zero();
  slot.settled_pnl = Money::zero();
  slot.settled = false;
  slot.fees_paid = Money::zero();
  slot.unrealized_pnl = Money::zero();
  slot.next_exit_leg = 1;
  slot.exit_legs_filled = 0;
  slot.exit_attempt = 0;
  slot.order_count = 0;
  slot.working_order = -1;
  slot.opened_ts_ns = now;
  slot.closed_ts_ns = 0;

  place_order(slot, ClientOrderId{slot.slot_id, slot.trade_id, 0, 0}, OrderRole::kEntry, quantity,
              price, now, out);
  move_to(slot, TradeStage::kEntryWorking, FsmInput::kEnter, out);
}

void Kernel::start_exit(TradeSlot& slot, const KernelIntent& intent, std::int64_t now,
                        KernelOutcome& out) {
  if (intent.size.is_negative()) {
    diagnose(out, C::kInvalidIntent, default_severity(C::kInvalidIntent), slot.slot_id,
             "EXIT size must be zero (everything) or positive")
        .with_text("field", "size");
    return;
  }
  if (intent.price.is_negative()) {
    diagnose(out, C::kInvalidIntent, default_severity(C::kInvalidIntent), slot.slot_id,
             "price must be zero (market) or positive")
        .with_text("field", "price");
    return;
  }
  if (!slot.size.is_positive()) {
    diagnose(out, C::kNoPosition, default_severity(C::kNoPosition), slot.slot_id,
             "nothing left to exit");
    return;
  }
  const Instrument* instrument = find_instrument(slot.asset);
  const Quantity step = instrument != nullptr ? instrument->quantity_step : Quantity::from_units(1);
  const Quantity minimum = instrument != nullptr ? instrument->min_quantity : Quantity::zero();
  const Quantity requested = intent.size.is_zero() ? slot.size : intent.size;
  Quantity quantity = requested;
  if (requested >= slot.size) {
    quantity = slot.size;  // never oversell: the final leg is exactly the remainder
    if (requested > slot.size) {
      diagnose(out, C::kExitClamped, default_severity(C::kExitClamped), slot.slot_id,
               "exit larger than the open size; clamped to the remainder")
          .with_decimal("requested", requested.units())
          .with_decimal("clamped", quantity.units());
    }
  } else {
    quantity = snap_to_step(requested, step);
    if (quantity.is_zero() || quantity < minimum) {
      diagnose(out, C::kSizeBelowMinimum, default_severity(C::kSizeBelowMinimum), slot.slot_id,
               "exit size after snapping to the quantity step is below the venue minimum")
          .with_decimal("requested", requested.units())
          .with_decimal("snapped", quantity.units())
          .with_decimal("minimum", minimum.units());
      return;
    }
  }
  const Price tick = instrument != nullptr ? instrument->price_tick : Price::from_units(1);
  const Price price = Price::from_units(intent.price.units() - intent.price.units() % tick.units());

  place_order(slot,
              ClientOrderId{slot.slot_id, slot.trade_id, slot.next_exit_leg, slot.exit_attempt},
              OrderRole::kExit, quantity, price, now, out);
  move_to(slot, TradeStage::kExitWorking, FsmInput::kExit, out);
}

void Kernel::request_cancel(TradeSlot& slot, KernelOutcome& out) {
  VenueOrder& order = slot.orders[static_cast<std::size_t>(slot.working_order)];
  if (order.cancel_requested) {
    diagnose(out, C::kCancelPending, default_severity(C::kCancelPending), slot.slot_id,
             "a cancel for this order is already outstanding");
    return;
  }
  order.cancel_requested = true;
  emit_order_command(slot, order, KernelCommandType::kCancelOrder, out);
  mark_changed(slot, out);
}

void Kernel::place_order(TradeSlot& slot, const ClientOrderId& id, OrderRole role,
                         Quantity quantity, Price price, std::int64_t now, KernelOutcome& out) {
  VenueOrder& order = add_order(slot);
  order.id = id;
  order.role = role;
  order.side = role == OrderRole::kEntry ? opening_side(slot.side) : closing_side(slot.side);
  order.type = price.is_positive() ? OrderType::kLimit : OrderType::kMarket;
  order.quantity = quantity;
  order.limit_price = price;
  order.sent_ts_ns = now;
  slot.working_order = static_cast<std::int8_t>(slot.order_count - 1);
  VenueCommand& command = emit_order_command(slot, order, KernelCommandType::kPlaceOrder, out);
  command.reduce_only = role == OrderRole::kExit;  // exits can only shrink the position
  command.leverage = slot.leverage;
}

VenueCommand& Kernel::emit_order_command(const TradeSlot& slot, const VenueOrder& order,
                                         KernelCommandType type, KernelOutcome& out) {
  VenueCommand& command = out.commands.emplace_back();
  command.type = type;
  command.slot = slot.slot_id;
  command.order = order.id;
  command.venue_order_id = order.venue_order_id;
  command.symbol = slot.asset;
  command.side = order.side;
  command.position_side = slot.side;
  command.order_type = order.type;
  command.quantity = order.quantity;
  command.price = order.limit_price;
  return command;
}

// ---------------------------------------------------------------------------------------
// Venue events

void Kernel::record_ack(TradeSlot& slot, VenueOrder& order, const VenueEvent& event,
                        KernelOutcome& out) {
  if (event.venue_order_id <= 0) {
    diagnose(out, C::kInvalidEvent, default_severity(C::kInvalidEvent), slot.slot_id,
             "an ACK must carry the venue order id")
        .with_text("field", "venue_order_id");
    return;
  }
  if (order.status != OrderStatus::kPendingNew || order.venue_order_id != 0) {
    if (order.venue_order_id == 0) order.venue_order_id = event.venue_order_id;
    diagnose(out, C::kDuplicateEvent, default_severity(C::kDuplicateEvent), slot.slot_id,
             "order already acknowledged; ack changes nothing")
        .with_text("status", to_string(order.status));
    return;
  }
  order.venue_order_id = event.venue_order_id;
  order.status = OrderStatus::kNew;
  mark_changed(slot, out);
}

void Kernel::apply_fill(TradeSlot& slot, VenueOrder& order, const VenueEvent& event,
                        bool venue_done, FsmInput trigger, KernelOutcome& out) {
  const Quantity cumulative = event.cumulative_filled;
  if (cumulative > order.quantity) {
    diagnose(out, C::kFillExceedsOrder, default_severity(C::kFillExceedsOrder), slot.slot_id,
             "venue reports more filled than the order's quantity")
        .with_decimal("cumulative_filled", cumulative.units())
        .with_decimal("order_quantity", order.quantity.units());
    enter_reconcile(slot, trigger, out);
    return;
  }
  const bool completes_short = venue_done && cumulative == order.filled &&
                               order.filled.is_positive() && !order.is_terminal();
  if (cumulative <= order.filled && !completes_short) {
    diagnose(out, C::kDuplicateEvent, default_severity(C::kDuplicateEvent), slot.slot_id,
             "cumulative fill not above what is applied; ignored")
        .with_decimal("cumulative_filled", cumulative.units())
        .with_decimal("applied", order.filled.units());
    return;
  }
  const Quantity delta = cumulative - order.filled;
  if (slot.stage == TradeStage::kClosed && delta.is_positive()) {
    diagnose(out, C::kLateFill, default_severity(C::kLateFill), slot.slot_id,
             "fill arrived after the trade closed")
        .with_decimal("delta", delta.units());
    enter_reconcile(slot, trigger, out);
    return;
  }
  if (order.role == OrderRole::kExit && delta > slot.size) {
    diagnose(out, C::kFillExceedsOrder, default_severity(C::kFillExceedsOrder), slot.slot_id,
             "exit fill larger than the open position")
        .with_decimal("delta", delta.units())
        .with_decimal("size", slot.size.units());
    enter_reconcile(slot, trigger, out);
    return;
  }
  if (event.venue_order_id > 0 && order.venue_order_id == 0) {
    order.venue_order_id = event.venue_order_id;
  }
  const Money new_notional = notional(cumulative, event.average_price);
  const Money delta_notional = new_notional - order.filled_notional;
  const Money delta_fee = event.cumulative_fee - order.fee;
  if (delta.is_positive()) {
    if (order.role == OrderRole::kEntry) {
      slot.size += delta;
      slot.entry_filled += delta;
      slot.entry_notional += delta_notional;
      slot.cost_basis += delta_notional;
      slot.entry_price = average_price(slot.entry_notional, slot.entry_filled);
    } else {
      // The last leg takes the exact remaining cost, so leg costs sum to the entry value.
      const Money cost_share =
          delta == slot.size ? slot.cost_basis : mul_div(slot.cost_basis, delta, slot.size);
      const Money gross =
          slot.side == Side::kLong ? delta_notional - cost_share : cost_share - delta_notional;
      slot.realized_pnl += gross;
      slot.size -= delta;
      slot.cost_basis -= cost_share;
    }
  }
  slot.realized_pnl -= delta_fee;
  slot.fees_paid += delta_fee;
  order.filled = cumulative;
  order.filled_notional = new_notional;
  order.fee = event.cumulative_fee;
  const bool was_terminal = order.is_terminal();
  if (was_terminal) {
    diagnose(out, C::kFillAfterCancel, default_severity(C::kFillAfterCancel), slot.slot_id,
             "fill for an order already cancelled or rejected; applied because money moved")
        .with_text("status", to_string(order.status))
        .with_decimal("delta", delta.units());
  }
  if (venue_done && cumulative < order.quantity) {
    diagnose(out, C::kFullFillShort, default_severity(C::kFullFillShort), slot.slot_id,
             "venue reports the order done below its quantity; the filled part is kept")
        .with_decimal("cumulative_filled", cumulative.units())
        .with_decimal("order_quantity", order.quantity.units());
  }
  refresh_unrealized(slot, out);
  mark_changed(slot, out);

  const bool is_working = slot.working_order >= 0 &&
                          &slot.orders[static_cast<std::size_t>(slot.working_order)] == &order;
  if (is_working) {
    if (venue_done || cumulative == order.quantity) {
      end_working_order(slot, order, OrderStatus::kFilled, trigger, out);
    } else {
      order.status = OrderStatus::kPartiallyFilled;
    }
    return;
  }
  if (!was_terminal)
    order.status = venue_done ? OrderStatus::kFilled : OrderStatus::kPartiallyFilled;
  if (slot.stage == TradeStage::kIdle && slot.size.is_positive()) {
    move_to(slot, TradeStage::kPositionOpen, trigger, out);
  } else if (slot.stage == TradeStage::kPositionOpen && slot.size.is_zero()) {
    move_to(slot, TradeStage::kClosed, trigger, out);
  }
}

void Kernel::end_working_order(TradeSlot& slot, VenueOrder& order, OrderStatus status,
                               FsmInput trigger, KernelOutcome& out) {
  order.status = status;
  order.cancel_requested = false;
  slot.working_order = -1;
  mark_changed(slot, out);
  if (order.role == OrderRole::kEntry) {
    move_to(slot, slot.size.is_positive() ? TradeStage::kPositionOpen : TradeStage::kIdle, trigger,
            out);
    return;
  }
  if (order.filled.is_positive()) {
    // A leg that moved money is used up; a leg that did not is retried under a new attempt.
    slot.next_exit_leg = static_cast<std::uint16_t>(slot.next_exit_leg + 1);
    slot.exit_attempt = 0;
    slot.exit_legs_filled = static_cast<std::uint16_t>(slot.exit_legs_filled + 1);
  } else {
    slot.exit_attempt = static_cast<std::uint16_t>(slot.exit_attempt + 1);
  }
  move_to(slot, slot.size.is_zero() ? TradeStage::kClosed : TradeStage::kPositionOpen, trigger,
          out);
}

void Kernel::apply_cancel_ack(TradeSlot& slot, VenueOrder& order, FsmInput trigger,
                              KernelOutcome& out) {
  const bool is_working = slot.working_order >= 0 &&
                          &slot.orders[static_cast<std::size_t>(slot.working_order)] == &order;
  if (is_working) {
    end_working_order(slot, order, OrderStatus::kCanceled, trigger, out);
    return;
  }
  order.status = OrderStatus::kCanceled;
  order.cancel_requested = false;
  mark_changed(slot, out);
}

void Kernel::apply_cancel_reject(TradeSlot& slot, VenueOrder& order, const VenueEvent& event,
                                 KernelOutcome& out) {
  order.cancel_requested = false;
  KernelDiagnostic& diagnostic =
      diagnose(out, C::kCancelRejected, default_severity(C::kCancelRejected), slot.slot_id,
               "venue refused the cancel; the order's final state is being queried")
          .with_int("venue_code", event.venue_code)
          .with_text("status", to_string(order.status));
  if (order.is_terminal()) {
    diagnostic.message = "venue refused the cancel of an order already final";
    return;
  }
  // "Not cancellable" usually means filled: ask, never assume (field lesson 10/11).
  emit_order_command(slot, order, KernelCommandType::kQueryOrder, out);
  mark_changed(slot, out);
}

void Kernel::apply_order_reject(TradeSlot& slot, VenueOrder& order, const VenueEvent& event,
                                FsmInput trigger, KernelOutcome& out) {
  if (order.is_terminal()) {
    diagnose(out, C::kDuplicateEvent, default_severity(C::kDuplicateEvent), slot.slot_id,
             "order already final; reject ignored")
        .with_text("status", to_string(order.status));
    return;
  }
  diagnose(out, C::kVenueRejected, default_severity(C::kVenueRejected), slot.slot_id,
           "venue rejected the order")
      .with_int("venue_code", event.venue_code)
      .with_text("role", to_string(order.role));
  end_working_order(slot, order, OrderStatus::kRejected, trigger, out);
}

void Kernel::apply_rate_limit(TradeSlot& slot, VenueOrder& order, const VenueEvent& event,
                              KernelOutcome& out) {
  KernelDiagnostic& diagnostic =
      diagnose(out, C::kRateLimited, default_severity(C::kRateLimited), slot.slot_id,
               "venue throttled the command; retry after the hinted delay")
          .with_bool("retryable", true)
          .with_text("command", to_string(event.command))
          .with_int("venue_code", event.venue_code);
  if (event.retry_after_ms >= 0) {
    diagnostic.with_int("retry_after_ms", event.retry_after_ms);
  } else {
    diagnostic.with_text("release_eta", "few minutes");
  }
  const bool is_working = slot.working_order >= 0 &&
                          &slot.orders[static_cast<std::size_t>(slot.working_order)] == &order;
  if (!is_working) return;
  if (event.command == KernelCommandType::kPlaceOrder && order.status == OrderStatus::kPendingNew) {
    end_working_order(slot, order, OrderStatus::kRejected, FsmInput::kRateLimited, out);
  } else if (event.command == KernelCommandType::kCancelOrder) {
    order.cancel_requested = false;
    mark_changed(slot, out);
  }
}

void Kernel::fold_order_status(TradeSlot& slot, VenueOrder& order, const VenueEvent& event,
                               std::int64_t now, KernelOutcome& out) {
  const std::size_t diagnostics_before = out.diagnostics.size();
  const std::size_t transitions_before = out.transitions.size();
  if (event.status == OrderStatus::kNotFound) {
    const bool venue_knew_it = order.venue_order_id != 0 || order.filled.is_positive();
    if (order.is_terminal() || venue_knew_it) {
      diagnose(out, C::kOrderNotFound, default_severity(C::kOrderNotFound), slot.slot_id,
               "venue says not found for an order it acknowledged; treated as weak evidence")
          .with_bool("confirmed", false);
      return;
    }
    order.not_found_count = static_cast<std::uint16_t>(order.not_found_count + 1);
    const bool confirmed = order.not_found_count >= config_.not_found_confirmations &&
                           now - order.sent_ts_ns >= config_.ack_timeout_ns;
    diagnose(out, C::kOrderNotFound, default_severity(C::kOrderNotFound), slot.slot_id,
             confirmed ? "order confirmed absent after repeated queries; it never reached the venue"
                       : "venue does not know the order yet; weak evidence, will query again")
        .with_bool("confirmed", confirmed)
        .with_int("not_found_count", order.not_found_count);
    mark_changed(slot, out);
    const bool is_working = slot.working_order >= 0 &&
                            &slot.orders[static_cast<std::size_t>(slot.working_order)] == &order;
    if (confirmed && is_working) {
      end_working_order(slot, order, OrderStatus::kRejected, FsmInput::kOrderStatus, out);
    }
    return;
  }
  bool changed = false;
  if (event.venue_order_id > 0 && order.venue_order_id == 0) {
    order.venue_order_id = event.venue_order_id;
    if (order.status == OrderStatus::kPendingNew) order.status = OrderStatus::kNew;
    mark_changed(slot, out);
    changed = true;
  }
  const bool venue_done = event.status == OrderStatus::kFilled;
  const bool completes_short = venue_done && event.cumulative_filled == order.filled &&
                               order.filled.is_positive() && !order.is_terminal();
  if (event.cumulative_filled > order.filled || completes_short) {
    apply_fill(slot, order, event, venue_done, FsmInput::kOrderStatus, out);
    changed = true;
    if (slot.stage == TradeStage::kStaleStateReconciling) return;
  }
  if (!order.is_terminal()) {
    if (event.status == OrderStatus::kCanceled) {
      apply_cancel_ack(slot, order, FsmInput::kOrderStatus, out);
      changed = true;
    } else if (event.status == OrderStatus::kRejected) {
      apply_order_reject(slot, order, event, FsmInput::kOrderStatus, out);
      changed = true;
    }
  }
  if (!changed && out.diagnostics.size() == diagnostics_before &&
      out.transitions.size() == transitions_before) {
    diagnose(out, C::kDuplicateEvent, default_severity(C::kDuplicateEvent), slot.slot_id,
             "order status adds nothing new")
        .with_text("status", to_string(event.status));
  }
}

void Kernel::on_mark(const VenueEvent& event, KernelOutcome& out) {
  if (event.symbol.empty() || !event.mark_price.is_positive()) {
    diagnose(out, C::kInvalidEvent, default_severity(C::kInvalidEvent), kNoSlot,
             "MARK_PRICE needs a symbol and a positive price")
        .with_text("field", event.symbol.empty() ? "symbol" : "mark_price");
    return;
  }
  if (const Instrument* instrument = find_instrument(event.symbol)) {
    marks_[static_cast<std::size_t>(instrument - config_.instruments.data())] = event.mark_price;
  }
  for (TradeSlot& slot : slots_) {
    if (!(slot.asset == event.symbol) || slot.mark_price == event.mark_price) continue;
    slot.mark_price = event.mark_price;
    mark_changed(slot, out);  // the image changed even when no position is open
    refresh_unrealized(slot, out);
  }
}

void Kernel::on_tick(std::int64_t now, KernelOutcome& out) {
  for (TradeSlot& slot : slots_) check_hung_orders(slot, now, out);
}

bool Kernel::hung_order_due(const TradeSlot& slot, std::int64_t now) const {
  if (fsm_cell(slot.stage, FsmInput::kTick).action != FsmAction::kCheckHungOrders) return false;
  if (slot.working_order < 0) return false;
  const VenueOrder& order = slot.orders[static_cast<std::size_t>(slot.working_order)];
  if (order.status != OrderStatus::kPendingNew && !order.cancel_requested) return false;
  const std::int64_t since =
      order.last_query_ts_ns != 0 ? order.last_query_ts_ns : order.sent_ts_ns;
  const std::int64_t deadline =
      order.last_query_ts_ns != 0 ? config_.query_interval_ns : config_.ack_timeout_ns;
  return now - since >= deadline;
}

bool Kernel::tick_due(std::int64_t now) const {
  return std::any_of(slots_.begin(), slots_.end(),
                     [&](const TradeSlot& slot) { return hung_order_due(slot, now); });
}

void Kernel::check_hung_orders(TradeSlot& slot, std::int64_t now, KernelOutcome& out) {
  if (!hung_order_due(slot, now)) return;
  VenueOrder& order = slot.orders[static_cast<std::size_t>(slot.working_order)];
  const bool unacknowledged = order.status == OrderStatus::kPendingNew;
  order.last_query_ts_ns = now;
  diagnose(out, C::kOrderHung, default_severity(C::kOrderHung), slot.slot_id,
           unacknowledged ? "no acknowledgement before the deadline; querying the order"
                          : "no answer to the cancel before the deadline; querying the order")
      .with_int("waited_ms", (now - order.sent_ts_ns) / 1'000'000)
      .with_int("leg", order.id.leg);
  emit_order_command(slot, order, KernelCommandType::kQueryOrder, out);
  mark_changed(slot, out);
}

// ---------------------------------------------------------------------------------------
// Account, reconcile, control

void Kernel::on_seed(const SeedCapital& seed, KernelOutcome& out) {
  if (seed.capital.is_negative()) {
    diagnose(out, C::kInvalidInput, default_severity(C::kInvalidInput), kNoSlot,
             "seed capital must not be negative")
        .with_text("field", "capital");
    return;
  }
  if (account_.seeded || account_.trade_seq > 0) {
    diagnose(out, C::kCapitalAlreadySeeded, default_severity(C::kCapitalAlreadySeeded), kNoSlot,
             "capital is seeded once; later changes come only from settlement")
        .with_decimal("capital", account_.capital.units());
    return;
  }
  account_.capital = seed.capital;
  account_.peak_capital = seed.capital;
  account_.drawdown = Money::zero();
  account_.seeded = true;
  out.account_changed = true;
}

void Kernel::on_reconcile_begin(const ReconcileBegin& begin, KernelOutcome& out) {
  if (begin.slot >= slots_.size()) {
    diagnose(out, C::kInvalidSlot, default_severity(C::kInvalidSlot), begin.slot,
             "reconcile names a slot this kernel does not have")
        .with_int("slot", begin.slot);
    return;
  }
  TradeSlot& slot = slots_[begin.slot];
  const FsmCell& cell = fsm_cell(slot.stage, FsmInput::kReconcileBegin);
  if (cell.action == FsmAction::kDiagnose) {
    diagnose(out, cell.code, default_severity(cell.code), slot.slot_id, cell.outcome);
    return;
  }
  enter_reconcile(slot, FsmInput::kReconcileBegin, out);
}

void Kernel::enter_reconcile(TradeSlot& slot, FsmInput trigger, KernelOutcome& out) {
  if (slot.stage == TradeStage::kStaleStateReconciling) return;
  slot.stage_before_reconcile = slot.stage;
  move_to(slot, TradeStage::kStaleStateReconciling, trigger, out);
}

void Kernel::on_reconcile_complete(const ReconcileComplete& truth, KernelOutcome& out) {
  if (truth.slot >= slots_.size()) {
    diagnose(out, C::kInvalidSlot, default_severity(C::kInvalidSlot), truth.slot,
             "reconcile names a slot this kernel does not have")
        .with_int("slot", truth.slot);
    return;
  }
  TradeSlot& slot = slots_[truth.slot];
  const FsmCell& cell = fsm_cell(slot.stage, FsmInput::kReconcileComplete);
  if (cell.action == FsmAction::kDiagnose) {
    diagnose(out, cell.code, default_severity(cell.code), slot.slot_id, cell.outcome);
    return;
  }
  if (truth.venue_position.is_negative() || truth.venue_entry_price.is_negative() ||
      (truth.venue_position.is_positive() && !truth.venue_entry_price.is_positive())) {
    diagnose(out, C::kInvalidInput, default_severity(C::kInvalidInput), slot.slot_id,
             "venue truth needs a non-negative position and a positive entry price when open")
        .with_text("field",
                   truth.venue_position.is_negative() ? "venue_position" : "venue_entry_price");
    return;
  }
  if (!(truth.venue_position == slot.size)) {
    diagnose(out, C::kReconcileAdjusted, default_severity(C::kReconcileAdjusted), slot.slot_id,
             "local position moved to the venue's")
        .with_decimal("local_size", slot.size.units())
        .with_decimal("venue_size", truth.venue_position.units());
    slot.size = truth.venue_position;
    slot.cost_basis = notional(truth.venue_position, truth.venue_entry_price);
    if (truth.venue_position.is_positive()) slot.entry_price = truth.venue_entry_price;
  }
  const TradeStage prior = slot.stage_before_reconcile;
  const bool prior_working =
      prior == TradeStage::kEntryWorking || prior == TradeStage::kExitWorking;
  TradeStage next = TradeStage::kIdle;
  if (truth.working_order_open && prior_working && slot.working_order >= 0) {
    next = prior;
  } else {
    if (slot.working_order >= 0) {
      VenueOrder& order = slot.orders[static_cast<std::size_t>(slot.working_order)];
      order.status = OrderStatus::kCanceled;
      order.cancel_requested = false;
      slot.working_order = -1;
    }
    if (slot.size.is_positive()) {
      next = TradeStage::kPositionOpen;
    } else if (slot.entry_filled.is_positive()) {
      next = TradeStage::kClosed;
    }
  }
  refresh_unrealized(slot, out);
  mark_changed(slot, out);
  move_to(slot, next, FsmInput::kReconcileComplete, out);
}

void Kernel::on_set_active_slot_limit(const SetActiveSlotLimit& change, KernelOutcome& out) {
  if (change.limit > slots_.size()) {
    diagnose(out, C::kInvalidInput, default_severity(C::kInvalidInput), kNoSlot,
             "active_slot_limit must be between 0 and the slot count")
        .with_text("field", "active_slot_limit")
        .with_int("slot_count", static_cast<std::int64_t>(slots_.size()));
    return;
  }
  active_slot_limit_ = change.limit;
}

// ---------------------------------------------------------------------------------------
// Bookkeeping

void Kernel::move_to(TradeSlot& slot, TradeStage stage, FsmInput trigger, KernelOutcome& out) {
  if (slot.stage == stage) return;
  const TradeStage from = slot.stage;
  slot.stage = stage;
  if (stage == TradeStage::kClosed) settle(slot, out);
  KernelTransition& transition = out.transitions.emplace_back();
  transition.slot = slot.slot_id;
  transition.trade_id = slot.trade_id;
  transition.from = from;
  transition.to = stage;
  transition.trigger = trigger;
  transition.size_after = slot.size;
  transition.realized_pnl_after = slot.realized_pnl;
  mark_changed(slot, out);
}

void Kernel::settle(TradeSlot& slot, KernelOutcome& out) {
  // Only what has not been settled yet moves capital, so a trade settles exactly once even
  // if reconciliation reopens and closes it again.
  const Money unsettled = slot.realized_pnl - slot.settled_pnl;
  account_.capital += unsettled;
  account_.realized_total += unsettled;
  slot.settled_pnl = slot.realized_pnl;
  if (!slot.settled) {
    slot.settled = true;
    account_.trade_seq += 1;
  }
  slot.unrealized_pnl = Money::zero();
  if (account_.capital > account_.peak_capital) account_.peak_capital = account_.capital;
  account_.drawdown = account_.peak_capital - account_.capital;
  if (account_.drawdown > account_.max_drawdown) account_.max_drawdown = account_.drawdown;
  out.account_changed = true;
}

void Kernel::refresh_unrealized(TradeSlot& slot, KernelOutcome& out) {
  Money unrealized = Money::zero();
  if (slot.size.is_positive() && slot.mark_price.is_positive()) {
    const Money value = notional(slot.size, slot.mark_price);
    unrealized = slot.side == Side::kLong ? value - slot.cost_basis : slot.cost_basis - value;
  }
  if (unrealized == slot.unrealized_pnl) return;
  account_.unrealized_total += unrealized - slot.unrealized_pnl;
  slot.unrealized_pnl = unrealized;
  out.account_changed = true;
  mark_changed(slot, out);
}

void Kernel::mark_changed(TradeSlot& slot, KernelOutcome& out) {
  slot.last_input_seq = input_seq_;
  for (const std::uint32_t id : out.changed_slots) {
    if (id == slot.slot_id) return;
  }
  out.changed_slots.push_back(slot.slot_id);
}

void Kernel::remember_event(TradeSlot& slot, std::uint64_t event_id) {
  slot.seen_event_ids[slot.seen_event_next] = event_id;
  slot.seen_event_next =
      static_cast<std::uint8_t>((slot.seen_event_next + 1) % kSeenEventIdCapacity);
}

bool Kernel::seen_event(const TradeSlot& slot, std::uint64_t event_id) const {
  return std::find(slot.seen_event_ids.begin(), slot.seen_event_ids.end(), event_id) !=
         slot.seen_event_ids.end();
}

VenueOrder* Kernel::find_order(TradeSlot& slot, const ClientOrderId& id) {
  for (std::size_t i = 0; i < slot.order_count; ++i) {
    if (slot.orders[i].id == id) return &slot.orders[i];
  }
  return nullptr;
}

VenueOrder& Kernel::add_order(TradeSlot& slot) {
  if (slot.order_count == kMaxOrdersPerTrade) {
    // Evict the oldest final exit leg (never the entry, never the working order). A late
    // fill for an evicted leg is then unknown and forces a reconcile instead of being lost.
    std::size_t victim = 1;
    while (victim < kMaxOrdersPerTrade && !slot.orders[victim].is_terminal()) ++victim;
    for (std::size_t i = victim; i + 1 < kMaxOrdersPerTrade; ++i)
      slot.orders[i] = slot.orders[i + 1];
    slot.order_count = static_cast<std::uint8_t>(slot.order_count - 1);
    if (slot.working_order > static_cast<std::int8_t>(victim)) --slot.working_order;
  }
  VenueOrder& order = slot.orders[slot.order_count];
  order = VenueOrder{};
  slot.order_count = static_cast<std::uint8_t>(slot.order_count + 1);
  return order;
}

std::uint32_t Kernel::active_slots() const {
  std::uint32_t active = 0;
  for (const TradeSlot& slot : slots_) {
    if (slot.stage != TradeStage::kIdle && slot.stage != TradeStage::kClosed) ++active;
  }
  return active;
}

}  // namespace dita::core
