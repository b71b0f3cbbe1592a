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
constexpr std::uint32_t kMaxIntentMemory = 1U << 20;

constexpr std::uint64_t kFnvOffset = 14695981039346656037ULL;
constexpr std::uint64_t kFnvPrime = 1099511628211ULL;

std::uint64_t fnv_bytes(std::uint64_t hash, std::string_view bytes) {
  for (const char c : bytes) {
    hash ^= static_cast<std::uint8_t>(c);
    hash *= kFnvPrime;
  }
  return hash;
}

std::uint64_t fnv_int(std::uint64_t hash, std::int64_t value) {
  auto bits = static_cast<std::uint64_t>(value);
  for (int i = 0; i < 8; ++i) {
    hash ^= bits & 0xFFU;
    hash *= kFnvPrime;
    bits >>= 8;
  }
  return hash;
}

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
  if (config.not_found_grace_ns < 0) {
    return std::unexpected(ConfigError{"not_found_grace_ms", "must not be negative"});
  }
  if (config.reconcile_strikes == 0) {
    return std::unexpected(ConfigError{"reconcile_strikes", "must be at least 1"});
  }
  if (config.intent_memory == 0 || config.intent_memory > kMaxIntentMemory) {
    return std::unexpected(ConfigError{"intent_memory", "must be between 1 and 1048576"});
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

Kernel::Kernel(KernelConfig config) : config_(std::move(config)) {
  state_.slots.resize(config_.slot_count);
  for (std::uint32_t i = 0; i < state_.slots.size(); ++i) state_.slots[i].slot_id = i;
  state_.marks.resize(config_.instruments.size());
  state_.active_slot_limit = config_.active_slot_limit;
  state_.intents.resize(config_.intent_memory);
  state_.fact_ids.resize(kFactIdMemory);
  state_.blocks.reserve(kMaxSymbolBlocks);
  state_.run.positions.reserve(2 * config_.instruments.size() + 2);
  std::size_t index_size = 1;
  while (index_size < 2 * static_cast<std::size_t>(config_.intent_memory)) index_size *= 2;
  intent_index_.assign(index_size, 0);
  probe_.reserve(config_.slot_count);
}

std::expected<Kernel, ConfigError> Kernel::restore(KernelConfig config, KernelState state) {
  auto made = create(std::move(config));
  if (!made) return made;
  Kernel& kernel = *made;
  const auto bad = [](std::string field, std::string message) {
    return std::unexpected(ConfigError{"state." + std::move(field), std::move(message)});
  };
  const KernelConfig& c = kernel.config_;
  if (state.slots.size() != c.slot_count) return bad("slots", "count differs from slot_count");
  if (state.marks.size() != c.instruments.size()) {
    return bad("marks", "count differs from the instruments");
  }
  if (state.intents.size() != c.intent_memory) {
    return bad("intents", "count differs from intent_memory");
  }
  if (state.intents_next >= c.intent_memory || state.intents_count > c.intent_memory) {
    return bad("intents_next", "outside the intent ring");
  }
  if (state.fact_ids.size() != kFactIdMemory || state.fact_ids_next >= kFactIdMemory) {
    return bad("fact_ids", "ring size or position is wrong");
  }
  if (state.blocks.size() > kMaxSymbolBlocks) return bad("blocks", "too many symbol blocks");
  if (state.run.positions.size() > 2 * c.instruments.size() + 2) {
    return bad("run.positions", "more positions than instruments");
  }
  if (state.active_slot_limit > c.slot_count) {
    return bad("active_slot_limit", "exceeds slot_count");
  }
  for (std::uint32_t i = 0; i < state.slots.size(); ++i) {
    const TradeSlot& slot = state.slots[i];
    const std::string where = "slots[" + std::to_string(i) + "]";
    if (slot.slot_id != i) return bad(where + ".slot_id", "does not match its position");
    if (static_cast<std::size_t>(slot.stage) >= kStageCount ||
        static_cast<std::size_t>(slot.stage_before_reconcile) >= kStageCount) {
      return bad(where + ".stage", "not a stage");
    }
    if (slot.order_count > kMaxOrdersPerTrade) return bad(where + ".orders", "too many orders");
    if (slot.working_order < -1 || slot.working_order >= static_cast<int>(slot.order_count)) {
      return bad(where + ".working_order", "not an order of the slot");
    }
    if (slot.seen_event_next >= kSeenEventIdCapacity) {
      return bad(where + ".seen_event_next", "outside the seen-event ring");
    }
    if (slot.size.is_negative() || slot.size > slot.entry_filled) {
      return bad(where + ".size", "negative or above what the trade bought");
    }
  }
  // The reconcile run's position list keeps its fixed capacity.
  state.run.positions.reserve(2 * c.instruments.size() + 2);
  state.blocks.reserve(kMaxSymbolBlocks);
  kernel.state_ = std::move(state);
  kernel.rebuild_intent_index();
  return made;
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
  out.input_seq = ++state_.input_seq;
  const std::int64_t now = input.ts_ns;
  now_ = now;
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
    void operator()(const ReconcilePosition& position) const {
      kernel.on_reconcile_position(position, out);
    }
    void operator()(const ExternalFill& fill) const { kernel.on_external_fill(fill, now, out); }
    void operator()(const ReconcileComplete& complete) const {
      kernel.on_reconcile_complete(complete, out);
    }
    void operator()(const FundingPayment& payment) const { kernel.on_funding(payment, out); }
    void operator()(const VenueHealth& health) const { kernel.on_venue_health(health, out); }
    void operator()(const OperatorCommand& command) const { kernel.on_operator(command, now, out); }
    void operator()(const SetActiveSlotLimit& change) const {
      kernel.on_set_active_slot_limit(change, out);
    }
  };
  std::visit(Visitor{*this, now, out}, input.payload);
  out.account = state_.account;
}

KernelDiagnostic& Kernel::diagnose(KernelOutcome& out, KernelDiagnosticCode code,
                                   std::uint32_t slot, std::string_view message) {
  KernelDiagnostic& diagnostic = out.diagnostics.emplace_back();
  diagnostic.code = code;
  diagnostic.severity = default_severity(code);
  diagnostic.slot = slot;
  diagnostic.message = message;
  return diagnostic;
}

// ---------------------------------------------------------------------------------------
// Intents

std::uint64_t intent_id_hash(const ClientIntentId& id) {
  return fnv_bytes(kFnvOffset, id.view());
}

std::uint64_t intent_payload_hash(const KernelIntent& intent) {
  std::uint64_t hash = fnv_int(kFnvOffset, static_cast<std::int64_t>(intent.kind));
  hash = fnv_int(hash, intent.slot);
  hash = fnv_bytes(hash, intent.asset.view());
  hash = fnv_int(hash, static_cast<std::int64_t>(intent.side));
  hash = fnv_int(hash, intent.size.units());
  hash = fnv_int(hash, intent.price.units());
  return fnv_int(hash, intent.leverage);
}

void Kernel::on_intent(const KernelIntent& intent, std::int64_t now, KernelOutcome& out) {
  if (intent.id.empty()) {
    diagnose(out, C::kInvalidIntent, intent.slot, "an intent needs a client intent id")
        .with_text("field", "id");
    return;
  }
  const std::uint64_t id_hash = intent_id_hash(intent.id);
  const std::uint64_t payload_hash = intent_payload_hash(intent);
  if (const IntentMemo* seen = find_intent(id_hash)) {
    // Exactly once: a re-sent intent is answered with what the first one got.
    if (seen->payload_hash == payload_hash) {
      KernelDiagnostic& diagnostic =
          diagnose(out, C::kAlreadyApplied, intent.slot,
                   "this client intent id was already applied; nothing done again")
              .with_int("original_input_seq", static_cast<std::int64_t>(seen->input_seq))
              .with_bool("accepted", seen->accepted)
              .with_text("stage_after", to_string(seen->stage_after));
      if (seen->has_code) diagnostic.with_text("original_code", to_string(seen->code));
    } else {
      diagnose(out, C::kIntentIdReused, intent.slot,
               "this client intent id was used for another intent; refused")
          .with_int("original_input_seq", static_cast<std::int64_t>(seen->input_seq));
    }
    return;
  }
  const std::size_t diagnostics_before = out.diagnostics.size();
  const std::size_t commands_before = out.commands.size();
  dispatch_intent(intent, now, out);
  IntentMemo memo;
  memo.id_hash = id_hash;
  memo.payload_hash = payload_hash;
  memo.input_seq = state_.input_seq;
  memo.accepted = out.commands.size() > commands_before;
  if (out.diagnostics.size() > diagnostics_before) {
    memo.has_code = true;
    memo.code = out.diagnostics[diagnostics_before].code;
  }
  memo.stage_after =
      intent.slot < state_.slots.size() ? state_.slots[intent.slot].stage : TradeStage::kIdle;
  remember_intent(memo);
}

void Kernel::dispatch_intent(const KernelIntent& intent, std::int64_t now, KernelOutcome& out) {
  if (intent.deadline_ns != 0 && now > intent.deadline_ns) {
    diagnose(out, C::kIntentExpired, intent.slot,
             "intent consumed after its deadline; refused, nothing sent")
        .with_int("deadline_ns", intent.deadline_ns)
        .with_int("late_ms", (now - intent.deadline_ns) / 1'000'000);
    return;
  }
  if (intent.slot >= state_.slots.size()) {
    diagnose(out, C::kInvalidSlot, intent.slot, "intent names a slot this kernel does not have")
        .with_int("slot", intent.slot)
        .with_int("slot_count", static_cast<std::int64_t>(state_.slots.size()));
    return;
  }
  TradeSlot& slot = state_.slots[intent.slot];
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
      diagnose(out, cell.code, slot.slot_id, cell.outcome)
          .with_text("stage", to_string(slot.stage))
          .with_text("intent", to_string(intent.kind));
      return;
  }
}

void Kernel::on_venue_event(const VenueEvent& event, std::int64_t now, KernelOutcome& out) {
  if (event.slot >= state_.slots.size()) {
    diagnose(out, C::kInvalidSlot, event.slot, "venue event names a slot this kernel does not have")
        .with_int("slot", event.slot);
    return;
  }
  TradeSlot& slot = state_.slots[event.slot];
  const auto invalid = [&](std::string_view field, std::string_view message) {
    diagnose(out, C::kInvalidEvent, slot.slot_id, message)
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
    diagnose(out, C::kDuplicateEvent, slot.slot_id, "event id already applied; ignored")
        .with_int("event_id", static_cast<std::int64_t>(event.event_id));
    return;
  }
  const FsmInput input = fsm_input_of(event.kind);
  const FsmCell& cell = fsm_cell(slot.stage, input);
  if (cell.action == FsmAction::kDiagnose) {
    diagnose(out, cell.code, slot.slot_id, cell.outcome)
        .with_text("stage", to_string(slot.stage))
        .with_text("event", to_string(event.kind));
    return;
  }
  if (event.order.trade < slot.trade_id) {
    if (carries_fill(event)) {
      // Money moved on a trade we already finished: only venue truth can tell us where.
      diagnose(out, C::kLateFill, slot.slot_id, "fill for an order of an earlier trade")
          .with_int("order_trade", event.order.trade)
          .with_int("current_trade", slot.trade_id);
      enter_reconcile(slot, input, out);
      return;
    }
    diagnose(out, C::kStaleOrderEvent, slot.slot_id,
             "event for an order of an earlier trade; ignored")
        .with_int("order_trade", event.order.trade)
        .with_text("event", to_string(event.kind));
    remember_event(slot, event.event_id);
    return;
  }
  VenueOrder* order = event.order.trade == slot.trade_id ? find_order(slot, event.order) : nullptr;
  if (order == nullptr) {
    if (carries_fill(event) && event.order.trade == slot.trade_id && slot.trade_id != 0) {
      diagnose(out, C::kLateFill, slot.slot_id,
               "fill for an order of this trade that is no longer tracked")
          .with_int("leg", event.order.leg)
          .with_int("attempt", event.order.attempt);
      enter_reconcile(slot, input, out);
      return;
    }
    diagnose(out, C::kUnknownOrder, slot.slot_id, "event for an order this slot never sent")
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
        diagnose(out, C::kDuplicateEvent, slot.slot_id, "order already final; cancel ack ignored")
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
      diagnose(out, C::kInvalidTransition, slot.slot_id, "no rule for this event in this stage")
          .with_text("stage", to_string(slot.stage))
          .with_text("event", to_string(event.kind));
      return;
  }
  remember_event(slot, event.event_id);
  // mark_changed stamps the slot with this input: the event told us something new.
  if (slot.last_input_seq == state_.input_seq) order->last_news_ts_ns = now;
}

bool Kernel::is_news(const VenueEvent& event, std::int64_t now_ns) {
  if (event.kind == KernelEventKind::kMarkPrice || event.slot >= state_.slots.size()) return true;
  // Run the event and roll it back: a venue event touches only its slot and the account, so
  // saving those keeps the kernel exactly as it was, and the answer is exact by construction.
  const TradeSlot saved_slot = state_.slots[event.slot];
  const AccountSnapshot saved_account = state_.account;
  const std::uint64_t saved_seq = state_.input_seq;
  const std::int64_t saved_now = now_;
  now_ = now_ns;
  KernelOutcome& probe = probe_;
  probe.clear();
  ++state_.input_seq;
  on_venue_event(event, now_ns, probe);
  state_.slots[event.slot] = saved_slot;
  state_.account = saved_account;
  state_.input_seq = saved_seq;
  now_ = saved_now;
  if (!probe.transitions.empty() || !probe.commands.empty() || !probe.fills.empty() ||
      !probe.settlements.empty() || probe.account_changed || !probe.changed_slots.empty()) {
    return true;
  }
  return std::any_of(probe.diagnostics.begin(), probe.diagnostics.end(),
                     [](const KernelDiagnostic& d) { return d.code != C::kDuplicateEvent; });
}

// ---------------------------------------------------------------------------------------
// Entries and exits

void Kernel::start_entry(TradeSlot& slot, const KernelIntent& intent, std::int64_t now,
                         KernelOutcome& out) {
  const auto invalid = [&](std::string_view field, std::string_view message) {
    diagnose(out, C::kInvalidIntent, slot.slot_id, message).with_text("field", field);
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
    diagnose(out, C::kUnknownInstrument, slot.slot_id, "no instrument metadata for this asset")
        .with_text("field", "asset");
    return;
  }
  const Quantity quantity = snap_to_step(intent.size, instrument->quantity_step);
  if (quantity.is_zero() || quantity < instrument->min_quantity) {
    diagnose(out, C::kSizeBelowMinimum, slot.slot_id,
             "size after snapping to the quantity step is below the venue minimum")
        .with_decimal("requested", intent.size.units())
        .with_decimal("snapped", quantity.units())
        .with_decimal("minimum", instrument->min_quantity.units());
    return;
  }
  if (venue_banned(now)) {
    diagnose(out, C::kVenueBanned, slot.slot_id, "the venue has banned this account; no entries")
        .with_int("until_ns", state_.account.venue_banned_until_ns);
    return;
  }
  for (const SymbolBlock& block : state_.blocks) {
    if (block.symbol == intent.asset && (block.netting || block.side == intent.side)) {
      // An unexplained venue position on this symbol: a new entry could double the exposure.
      diagnose(out, C::kSymbolBlocked, slot.slot_id,
               "the venue holds a position on this symbol that no slot explains; an operator "
               "must adopt, flatten or release it first")
          .with_text("venue_side", to_string(block.side))
          .with_decimal("venue_quantity", block.venue_quantity.units());
      return;
    }
  }
  if (active_slots() >= state_.active_slot_limit) {
    diagnose(out, C::kActiveSlotLimit, slot.slot_id, "active slot limit reached")
        .with_int("active_slot_limit", state_.active_slot_limit);
    return;
  }
  const Price price = Price::from_units(intent.price.units() -
                                        intent.price.units() % instrument->price_tick.units());
  begin_trade(slot, intent.asset, intent.side, intent.leverage, now);
  place_order(slot, ClientOrderId{slot.slot_id, slot.trade_id, 0, 0}, OrderRole::kEntry, quantity,
              price, now, out);
  move_to(slot, TradeStage::kEntryWorking, FsmInput::kEnter, out);
}

void Kernel::begin_trade(TradeSlot& slot, const Symbol& asset, Side side, std::uint16_t leverage,
                         std::int64_t now) {
  // A new trade starts from the latest mark of its symbol, so unrealized PnL is right from
  // the first fill rather than from the next mark.
  if (const Instrument* instrument = find_instrument(asset)) {
    slot.mark_price =
        state_.marks[static_cast<std::size_t>(instrument - config_.instruments.data())];
  }
  slot.trade_id += 1;
  slot.asset = asset;
  slot.side = side;
  slot.leverage = leverage;
  slot.size = Quantity::zero();
  slot.entry_filled = Quantity::zero();
  slot.entry_notional = Money::zero();
  slot.entry_price = Price::zero();
  slot.cost_basis = Money::zero();
  slot.realized_pnl = Money::zero();
  slot.settled_pnl = Money::zero();
  slot.settled = false;
  slot.fees_paid = Money::zero();
  slot.funding_pnl = Money::zero();
  slot.unrealized_pnl = Money::zero();
  slot.next_exit_leg = 1;
  slot.exit_legs_filled = 0;
  slot.exit_attempt = 0;
  slot.order_count = 0;
  slot.working_order = -1;
  slot.opened_ts_ns = now;
  slot.closed_ts_ns = 0;
  slot.adopted = false;
}

void Kernel::start_exit(TradeSlot& slot, const KernelIntent& intent, std::int64_t now,
                        KernelOutcome& out) {
  if (intent.size.is_negative()) {
    diagnose(out, C::kInvalidIntent, slot.slot_id,
             "EXIT size must be zero (everything) or positive")
        .with_text("field", "size");
    return;
  }
  if (intent.price.is_negative()) {
    diagnose(out, C::kInvalidIntent, slot.slot_id, "price must be zero (market) or positive")
        .with_text("field", "price");
    return;
  }
  if (!slot.size.is_positive()) {
    diagnose(out, C::kNoPosition, slot.slot_id, "nothing left to exit");
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
      diagnose(out, C::kExitClamped, slot.slot_id,
               "exit larger than the open size; clamped to the remainder")
          .with_decimal("requested", requested.units())
          .with_decimal("clamped", quantity.units());
    }
  } else {
    quantity = snap_to_step(requested, step);
    if (quantity.is_zero() || quantity < minimum) {
      diagnose(out, C::kSizeBelowMinimum, slot.slot_id,
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
  if (slot.working_order < 0) {
    // Only a reconciling slot can be asked to cancel with nothing working (the FSM routes
    // other stages without a working order to NO_ACTIVE_ORDER directly).
    diagnose(out, C::kNoActiveOrder, slot.slot_id, "no working order to cancel")
        .with_text("stage", to_string(slot.stage));
    return;
  }
  VenueOrder& order = slot.orders[static_cast<std::size_t>(slot.working_order)];
  if (order.cancel_requested) {
    diagnose(out, C::kCancelPending, slot.slot_id,
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
    diagnose(out, C::kInvalidEvent, slot.slot_id, "an ACK must carry the venue order id")
        .with_text("field", "venue_order_id");
    return;
  }
  if (order.status != OrderStatus::kPendingNew || order.venue_order_id != 0) {
    if (order.venue_order_id == 0) order.venue_order_id = event.venue_order_id;
    diagnose(out, C::kDuplicateEvent, slot.slot_id,
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
    diagnose(out, C::kFillExceedsOrder, slot.slot_id,
             "venue reports more filled than the order's quantity")
        .with_decimal("cumulative_filled", cumulative.units())
        .with_decimal("order_quantity", order.quantity.units());
    enter_reconcile(slot, trigger, out);
    return;
  }
  const bool completes_short = venue_done && cumulative == order.filled &&
                               order.filled.is_positive() && !order.is_terminal();
  if (cumulative <= order.filled && !completes_short) {
    // Cumulative quantities are the truth: a fill reported again (a replayed stream, a
    // reconcile that already adopted it) is never added twice.
    diagnose(out, C::kDuplicateEvent, slot.slot_id,
             "cumulative fill not above what is applied; ignored")
        .with_decimal("cumulative_filled", cumulative.units())
        .with_decimal("applied", order.filled.units());
    return;
  }
  const Quantity delta = cumulative - order.filled;
  if (slot.stage == TradeStage::kClosed && delta.is_positive()) {
    diagnose(out, C::kLateFill, slot.slot_id, "fill arrived after the trade closed")
        .with_decimal("delta", delta.units());
    enter_reconcile(slot, trigger, out);
    return;
  }
  if (order.role == OrderRole::kExit && delta > slot.size) {
    diagnose(out, C::kFillExceedsOrder, slot.slot_id, "exit fill larger than the open position")
        .with_decimal("delta", delta.units())
        .with_decimal("size", slot.size.units());
    enter_reconcile(slot, trigger, out);
    return;
  }
  if (event.venue_order_id > 0 && order.venue_order_id == 0) {
    order.venue_order_id = event.venue_order_id;
  }
  const bool was_terminal = order.is_terminal();
  book_fill(slot, order, cumulative, notional(cumulative, event.average_price),
            event.cumulative_fee, event.trade_id, out);
  if (was_terminal) {
    diagnose(out, C::kFillAfterCancel, slot.slot_id,
             "fill for an order already cancelled or rejected; applied because money moved")
        .with_text("status", to_string(order.status))
        .with_decimal("delta", delta.units());
  }
  if (venue_done && cumulative < order.quantity) {
    diagnose(out, C::kFullFillShort, slot.slot_id,
             "venue reports the order done below its quantity; the filled part is kept")
        .with_decimal("cumulative_filled", cumulative.units())
        .with_decimal("order_quantity", order.quantity.units());
  }

  if (is_working(slot, order)) {
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
    advance(slot, TradeStage::kPositionOpen, trigger, out);
  } else if (slot.stage == TradeStage::kPositionOpen && slot.size.is_zero()) {
    advance(slot, TradeStage::kClosed, trigger, out);
  }
}

void Kernel::book_fill(TradeSlot& slot, VenueOrder& order, Quantity cumulative,
                       Money cumulative_notional, Money cumulative_fee, std::int64_t venue_trade_id,
                       KernelOutcome& out) {
  const Quantity delta = cumulative - order.filled;
  const Money delta_notional = cumulative_notional - order.filled_notional;
  const Money delta_fee = cumulative_fee - order.fee;
  Money realized = Money::zero();
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
      realized =
          slot.side == Side::kLong ? delta_notional - cost_share : cost_share - delta_notional;
      slot.realized_pnl += realized;
      slot.size -= delta;
      slot.cost_basis -= cost_share;
    }
  }
  slot.realized_pnl -= delta_fee;
  slot.fees_paid += delta_fee;
  order.filled = cumulative;
  order.filled_notional = cumulative_notional;
  order.fee = cumulative_fee;

  FillFact& fact = out.fills.emplace_back();
  fact.slot = slot.slot_id;
  fact.trade_id = slot.trade_id;
  fact.order = order.id;
  fact.role = order.role;
  fact.external = order.external;
  fact.venue_order_id = order.venue_order_id;
  fact.venue_trade_id = venue_trade_id;
  fact.quantity = delta;
  fact.notional = delta_notional;
  fact.price = delta.is_positive() ? average_price(delta_notional, delta) : Price::zero();
  fact.fee = delta_fee;
  fact.realized = realized;
  fact.size_after = slot.size;

  refresh_unrealized(slot, out);
  mark_changed(slot, out);
}

void Kernel::end_working_order(TradeSlot& slot, VenueOrder& order, OrderStatus status,
                               FsmInput trigger, KernelOutcome& out) {
  order.status = status;
  order.cancel_requested = false;
  slot.working_order = -1;
  mark_changed(slot, out);
  if (order.role == OrderRole::kEntry) {
    advance(slot, slot.size.is_positive() ? TradeStage::kPositionOpen : TradeStage::kIdle, trigger,
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
  advance(slot, slot.size.is_zero() ? TradeStage::kClosed : TradeStage::kPositionOpen, trigger,
          out);
}

void Kernel::apply_cancel_ack(TradeSlot& slot, VenueOrder& order, FsmInput trigger,
                              KernelOutcome& out) {
  if (is_working(slot, order)) {
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
      diagnose(out, C::kCancelRejected, slot.slot_id,
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
    diagnose(out, C::kDuplicateEvent, slot.slot_id, "order already final; reject ignored")
        .with_text("status", to_string(order.status));
    return;
  }
  diagnose(out, C::kVenueRejected, slot.slot_id, "venue rejected the order")
      .with_int("venue_code", event.venue_code)
      .with_text("role", to_string(order.role));
  end_working_order(slot, order, OrderStatus::kRejected, trigger, out);
}

void Kernel::apply_rate_limit(TradeSlot& slot, VenueOrder& order, const VenueEvent& event,
                              KernelOutcome& out) {
  KernelDiagnostic& diagnostic =
      diagnose(out, C::kRateLimited, slot.slot_id,
               event.rate_scope == RateLimitScope::kClient
                   ? "DITA's own rate limit held the command back; nothing was sent"
                   : "venue throttled the command; retry after the hinted delay")
          .with_bool("retryable", true)
          .with_text("command", to_string(event.command))
          .with_text("scope", to_string(event.rate_scope))
          .with_int("venue_code", event.venue_code);
  if (event.retry_after_ms >= 0) {
    diagnostic.with_int("retry_after_ms", event.retry_after_ms);
  } else {
    diagnostic.with_text("release_eta", "few minutes");
  }
  if (!is_working(slot, order)) return;
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
    if (order.is_terminal()) {
      diagnose(out, C::kOrderNotFound, slot.slot_id,
               "venue says not found for an order already final; nothing changes")
          .with_bool("confirmed", false);
      return;
    }
    // "Not found" is weak evidence (venues forget, lag, or purge): it takes repeated answers
    // and time before it is believed (field lessons 9/10).
    const bool acknowledged = order.venue_order_id != 0 || order.filled.is_positive();
    order.not_found_count = static_cast<std::uint16_t>(order.not_found_count + 1);
    const std::int64_t quiet_since = std::max(order.sent_ts_ns, order.last_news_ts_ns);
    const bool confirmed = order.not_found_count >= config_.not_found_confirmations &&
                           (acknowledged ? now - quiet_since >= config_.not_found_grace_ns
                                         : now - order.sent_ts_ns >= config_.ack_timeout_ns);
    diagnose(out, C::kOrderNotFound, slot.slot_id,
             !confirmed ? "venue does not know the order; weak evidence, will query again"
             : acknowledged
                 ? "an acknowledged order stays unknown to the venue; taken as gone, and the "
                   "slot reconciles its position against the venue"
                 : "order confirmed absent after repeated queries; it never reached the venue")
        .with_bool("confirmed", confirmed)
        .with_bool("acknowledged", acknowledged)
        .with_int("not_found_count", order.not_found_count);
    mark_changed(slot, out);
    if (confirmed && is_working(slot, order)) {
      if (acknowledged) {
        // It may have filled unseen: only the venue's position can tell, so reconcile.
        enter_reconcile(slot, FsmInput::kOrderStatus, out);
        end_working_order(slot, order, OrderStatus::kCanceled, FsmInput::kOrderStatus, out);
      } else {
        end_working_order(slot, order, OrderStatus::kRejected, FsmInput::kOrderStatus, out);
      }
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
    const bool was_reconciling = slot.stage == TradeStage::kStaleStateReconciling;
    apply_fill(slot, order, event, venue_done, FsmInput::kOrderStatus, out);
    changed = true;
    // A fill the kernel could not place (more than ordered) sent the slot to reconcile:
    // the rest of this status is not trusted either.
    if (!was_reconciling && slot.stage == TradeStage::kStaleStateReconciling) return;
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
    diagnose(out, C::kDuplicateEvent, slot.slot_id, "order status adds nothing new")
        .with_text("status", to_string(event.status));
  }
}

void Kernel::on_mark(const VenueEvent& event, KernelOutcome& out) {
  if (event.symbol.empty() || !event.mark_price.is_positive()) {
    diagnose(out, C::kInvalidEvent, kNoSlot, "MARK_PRICE needs a symbol and a positive price")
        .with_text("field", event.symbol.empty() ? "symbol" : "mark_price");
    return;
  }
  if (const Instrument* instrument = find_instrument(event.symbol)) {
    state_.marks[static_cast<std::size_t>(instrument - config_.instruments.data())] =
        event.mark_price;
  }
  for (TradeSlot& slot : state_.slots) {
    if (!(slot.asset == event.symbol) || slot.mark_price == event.mark_price) continue;
    slot.mark_price = event.mark_price;
    mark_changed(slot, out);  // the image changed even when no position is open
    refresh_unrealized(slot, out);
  }
}

void Kernel::on_tick(std::int64_t now, KernelOutcome& out) {
  for (TradeSlot& slot : state_.slots) check_hung_orders(slot, now, out);
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
  return std::any_of(state_.slots.begin(), state_.slots.end(),
                     [&](const TradeSlot& slot) { return hung_order_due(slot, now); });
}

void Kernel::check_hung_orders(TradeSlot& slot, std::int64_t now, KernelOutcome& out) {
  if (!hung_order_due(slot, now)) return;
  VenueOrder& order = slot.orders[static_cast<std::size_t>(slot.working_order)];
  const bool unacknowledged = order.status == OrderStatus::kPendingNew;
  order.last_query_ts_ns = now;
  diagnose(out, C::kOrderHung, slot.slot_id,
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
    diagnose(out, C::kInvalidInput, kNoSlot, "seed capital must not be negative")
        .with_text("field", "capital");
    return;
  }
  if (state_.account.seeded || state_.account.trade_seq > 0) {
    diagnose(out, C::kCapitalAlreadySeeded, kNoSlot,
             "capital is seeded once; later changes come only from settlement")
        .with_decimal("capital", state_.account.capital.units());
    return;
  }
  state_.account.capital = seed.capital;
  state_.account.peak_capital = seed.capital;
  state_.account.drawdown = Money::zero();
  state_.account.seeded = true;
  out.account_changed = true;
}

void Kernel::on_reconcile_begin(const ReconcileBegin& begin, KernelOutcome& out) {
  if (begin.run_id == 0) {
    diagnose(out, C::kInvalidInput, begin.slot, "a reconcile run needs a non-zero run id")
        .with_text("field", "run_id");
    return;
  }
  if (begin.slot != kAllSlots && begin.slot >= state_.slots.size()) {
    diagnose(out, C::kInvalidSlot, begin.slot, "reconcile names a slot this kernel does not have")
        .with_int("slot", begin.slot);
    return;
  }
  ReconcileRun& run = state_.run;
  if (run.active) {
    // A newer run (a reconnect during a run) supersedes the old one; its facts are stale.
    diagnose(out, C::kReconcileInProgress, begin.slot,
             "a reconcile run was still open; the new run replaces it")
        .with_int("replaced_run_id", static_cast<std::int64_t>(run.run_id));
  }
  run.active = true;
  run.run_id = begin.run_id;
  run.slot = begin.slot;
  run.reason = begin.reason;
  run.netting = begin.netting;
  run.positions.clear();
  for (TradeSlot& slot : state_.slots) {
    if (begin.slot != kAllSlots && slot.slot_id != begin.slot) continue;
    // A whole-account run holds only slots with something at stake; idle ones keep trading.
    const bool at_stake = slot.stage != TradeStage::kIdle && slot.stage != TradeStage::kClosed;
    if (begin.slot == kAllSlots && !at_stake) continue;
    slot.reconcile_run = begin.run_id;
    mark_changed(slot, out);
    enter_reconcile(slot, FsmInput::kReconcileBegin, out);
  }
}

void Kernel::enter_reconcile(TradeSlot& slot, FsmInput trigger, KernelOutcome& out) {
  if (slot.stage == TradeStage::kStaleStateReconciling) return;
  slot.stage_before_reconcile = slot.stage;
  move_to(slot, TradeStage::kStaleStateReconciling, trigger, out);
}

void Kernel::on_reconcile_position(const ReconcilePosition& position, KernelOutcome& out) {
  ReconcileRun& run = state_.run;
  if (!run.active || position.run_id != run.run_id) {
    diagnose(out, C::kReconcileNotActive, kNoSlot,
             "venue position for a reconcile run that is not open; ignored")
        .with_int("run_id", static_cast<std::int64_t>(position.run_id));
    return;
  }
  if (position.symbol.empty() || !position.quantity.is_positive() ||
      !position.entry_price.is_positive()) {
    diagnose(out, C::kInvalidInput, kNoSlot,
             "a venue position needs a symbol, a positive quantity and entry price")
        .with_text("field", position.symbol.empty()            ? "symbol"
                            : !position.quantity.is_positive() ? "quantity"
                                                               : "entry_price");
    return;
  }
  for (ReconcilePosition& known : run.positions) {
    if (known.symbol == position.symbol && (run.netting || known.side == position.side)) {
      known = position;  // the later report of the same position wins
      return;
    }
  }
  if (run.positions.size() == run.positions.capacity()) {
    diagnose(out, C::kInvalidInput, kNoSlot, "more venue positions than instruments; ignored")
        .with_text("field", "symbol");
    return;
  }
  run.positions.push_back(position);
}

void Kernel::on_external_fill(const ExternalFill& fill, std::int64_t now, KernelOutcome& out) {
  if (fill.fact_id == 0 || fill.symbol.empty() || !fill.quantity.is_positive() ||
      !fill.price.is_positive() || fill.venue_order_id < 0) {
    diagnose(out, C::kInvalidInput, kNoSlot,
             "an external fill needs a fact id, a symbol, a positive quantity and price")
        .with_text("field", fill.fact_id == 0              ? "fact_id"
                            : fill.symbol.empty()          ? "symbol"
                            : !fill.quantity.is_positive() ? "quantity"
                            : !fill.price.is_positive()    ? "price"
                                                           : "venue_order_id");
    return;
  }
  if (seen_fact(fill.fact_id)) {
    diagnose(out, C::kDuplicateEvent, kNoSlot, "external fill already applied; ignored")
        .with_int("fact_id", static_cast<std::int64_t>(fill.fact_id));
    return;
  }
  remember_fact(fill.fact_id);
  // Attribution by position: the slots that hold this symbol on this side.
  Quantity held = Quantity::zero();
  std::uint32_t holders = 0;
  TradeSlot* last = nullptr;
  for (TradeSlot& slot : state_.slots) {
    if (slot.asset == fill.symbol && slot.side == fill.position_side && slot.size.is_positive()) {
      held += slot.size;
      ++holders;
      last = &slot;
    }
  }
  KernelDiagnostic& diagnostic =
      diagnose(out, C::kExternalFill, last != nullptr ? last->slot_id : kNoSlot,
               "the venue moved a position without a DITA order")
          .with_text("kind", to_string(fill.kind))
          .with_text("symbol", fill.symbol.view())
          .with_decimal("quantity", fill.quantity.units())
          .with_decimal("price", fill.price.units());
  if (holders == 0) {
    diagnostic.with_text("attributed", "none");
    return;  // no slot held it; the position comparison of the run judges what is left
  }
  if (holders == 1 && fill.quantity <= held) {
    diagnostic.with_text("attributed", "slot");
    external_exit(*last, fill, fill.quantity, fill.fee, now, out);
    return;
  }
  if (fill.quantity == held) {
    // The whole position went (a liquidation closes the net): every holder closes, the fee
    // split by size, the last holder taking the rounding remainder.
    diagnostic.with_text("attributed", "all holders");
    Money fee_left = fill.fee;
    for (TradeSlot& slot : state_.slots) {
      if (!(slot.asset == fill.symbol && slot.side == fill.position_side &&
            slot.size.is_positive())) {
        continue;
      }
      const Money fee = &slot == last ? fee_left : mul_div(fill.fee, slot.size, held);
      fee_left -= fee;
      external_exit(slot, fill, slot.size, fee, now, out);
    }
    return;
  }
  // Part of a position several slots share, or more than they hold: nobody can say whose.
  diagnostic.with_text("attributed", "ambiguous");
  for (TradeSlot& slot : state_.slots) {
    if (slot.asset == fill.symbol && slot.side == fill.position_side && slot.size.is_positive()) {
      enter_reconcile(slot, FsmInput::kExternalFill, out);
      fail_closed(slot, fill.symbol, held - fill.quantity, held, out);
    }
  }
}

void Kernel::external_exit(TradeSlot& slot, const ExternalFill& fill, Quantity quantity, Money fee,
                           std::int64_t now, KernelOutcome& out) {
  // The venue's fill becomes an exit leg of the slot's trade with an identity from the next
  // leg number, so it is booked (and settled) exactly like a DITA exit, at its real price.
  VenueOrder& order = add_order(slot);
  order.id = ClientOrderId{slot.slot_id, slot.trade_id, slot.next_exit_leg, 0};
  order.role = OrderRole::kExit;
  order.side = slot.side == Side::kLong ? OrderSide::kSell : OrderSide::kBuy;
  order.type = OrderType::kMarket;
  order.external = true;
  order.venue_order_id = fill.venue_order_id;
  order.quantity = quantity;
  order.sent_ts_ns = now;
  order.last_news_ts_ns = now;
  if (slot.working_order >= 0 && static_cast<std::size_t>(slot.working_order) ==
                                     static_cast<std::size_t>(slot.order_count - 1)) {
    // add_order never hands out the working order's place; kept for clarity of the invariant.
    slot.working_order = -1;
  }
  book_fill(slot, order, quantity, notional(quantity, fill.price), fee, 0, out);
  order.status = OrderStatus::kFilled;
  slot.next_exit_leg = static_cast<std::uint16_t>(slot.next_exit_leg + 1);
  slot.exit_legs_filled = static_cast<std::uint16_t>(slot.exit_legs_filled + 1);
  if (slot.size.is_zero() && slot.working_order < 0) {
    advance(slot, TradeStage::kClosed, FsmInput::kExternalFill, out);
  }
}

void Kernel::fail_closed(TradeSlot& slot, const Symbol& symbol, Quantity venue_quantity,
                         Quantity kernel_quantity, KernelOutcome& out) {
  slot.reconcile_blocked = true;
  mark_changed(slot, out);
  diagnose(out, C::kReconcileUnexplained, slot.slot_id,
           "the venue's position disagrees with the slots that hold it; the slot is blocked until "
           "an operator adopts, flattens or releases it")
      .with_text("symbol", symbol.view())
      .with_decimal("venue_quantity", venue_quantity.units())
      .with_decimal("kernel_quantity", kernel_quantity.units())
      .with_int("strikes", slot.reconcile_strikes);
}

SymbolBlock* Kernel::find_block(const Symbol& symbol, Side side, bool netting) {
  for (SymbolBlock& block : state_.blocks) {
    if (block.symbol == symbol && (netting || block.netting || block.side == side)) return &block;
  }
  return nullptr;
}

void Kernel::remove_block(const SymbolBlock& block) {
  const auto at = state_.blocks.begin() + (&block - state_.blocks.data());
  state_.blocks.erase(at);  // keeps the order of the rest: deterministic
}

void Kernel::block_symbol(const Symbol& symbol, Side side, bool netting, Quantity quantity,
                          Price price, KernelOutcome& out) {
  if (SymbolBlock* known = find_block(symbol, side, netting)) {
    known->side = side;
    known->venue_quantity = quantity;
    known->venue_entry_price = price;
    return;  // already blocked and reported; the numbers are refreshed
  }
  if (state_.blocks.size() < kMaxSymbolBlocks) {
    state_.blocks.push_back(SymbolBlock{symbol, side, netting, quantity, price});
  }
  out.account_changed = true;
  diagnose(out, C::kReconcileUnexplained, kNoSlot,
           "the venue holds a position that no slot explains; entries on the symbol are refused "
           "until an operator adopts, flattens or releases it")
      .with_text("symbol", symbol.view())
      .with_text("side", to_string(side))
      .with_decimal("venue_quantity", quantity.units())
      .with_decimal("kernel_quantity", 0);
}

namespace {

// A signed position: LONG positive, SHORT negative (netting accounts hold one per symbol).
std::int64_t signed_units(Side side, Quantity quantity) {
  return side == Side::kLong ? quantity.units() : -quantity.units();
}

}  // namespace

void Kernel::on_reconcile_complete(const ReconcileComplete& complete, KernelOutcome& out) {
  ReconcileRun& run = state_.run;
  if (!run.active || complete.run_id != run.run_id) {
    diagnose(out, C::kReconcileNotActive, kNoSlot,
             "RECONCILE_COMPLETE for a run that is not open; ignored")
        .with_int("run_id", static_cast<std::int64_t>(complete.run_id));
    return;
  }
  run.active = false;
  const bool all = run.slot == kAllSlots;
  // Only slots that joined this run at RECONCILE_BEGIN are judged by it: a slot that started
  // a trade meanwhile is checked by the next run, never by facts fetched before it existed.
  const auto joined = [&](const TradeSlot& slot) { return slot.reconcile_run == run.run_id; };
  const auto holds = [&](const TradeSlot& slot, const Symbol& symbol, Side side) {
    return slot.asset == symbol && slot.trade_id != 0 && slot.stage != TradeStage::kIdle &&
           slot.stage != TradeStage::kClosed && (run.netting || slot.side == side);
  };
  const auto kernel_units = [&](const Symbol& symbol, Side side) {
    std::int64_t units = 0;
    for (const TradeSlot& slot : state_.slots) {
      if (!(slot.asset == symbol) || !slot.size.is_positive()) continue;
      if (run.netting) {
        units += signed_units(slot.side, slot.size);
      } else if (slot.side == side) {
        units += slot.size.units();
      }
    }
    return units;
  };
  const auto venue_units = [&](const Symbol& symbol, Side side) {
    for (const ReconcilePosition& position : run.positions) {
      if (!(position.symbol == symbol)) continue;
      if (run.netting) return signed_units(position.side, position.quantity);
      if (position.side == side) return position.quantity.units();
    }
    return std::int64_t{0};
  };

  // 1. Every symbol (and side) a joined slot trades: the venue must agree with the kernel.
  std::array<bool, kMaxSlots> disagrees{};
  for (const TradeSlot& slot : state_.slots) {
    if (!joined(slot) || slot.trade_id == 0) continue;
    if (kernel_units(slot.asset, slot.side) == venue_units(slot.asset, slot.side)) continue;
    // Every joined slot that holds the symbol shares the disagreement (attribution is by
    // client order id, so a position cannot be pinned on one of several holders).
    for (const TradeSlot& other : state_.slots) {
      if (joined(other) && other.asset == slot.asset && other.trade_id != 0 &&
          (run.netting || other.side == slot.side)) {
        disagrees[other.slot_id] = true;
      }
    }
  }
  // 2. Whole-account runs: a venue position on a symbol that no slot holds.
  if (all) {
    for (const ReconcilePosition& position : run.positions) {
      bool held = false;
      for (const TradeSlot& slot : state_.slots)
        held = held || holds(slot, position.symbol, position.side);
      if (!held) {
        block_symbol(position.symbol, position.side, run.netting, position.quantity,
                     position.entry_price, out);
      }
    }
    // A block whose venue position is gone (closed by hand) or now explained is lifted.
    for (std::size_t i = state_.blocks.size(); i-- > 0;) {
      const SymbolBlock& block = state_.blocks[i];
      const std::int64_t venue = venue_units(block.symbol, block.side);
      if (venue == 0 || venue == kernel_units(block.symbol, block.side)) {
        diagnose(out, C::kReconcileResolved, kNoSlot,
                 "the venue position that blocked this symbol is gone or explained")
            .with_text("symbol", block.symbol.view());
        remove_block(block);
        out.account_changed = true;
      }
    }
  }
  // 3. Joined slots: agreeing ones leave reconcile, disagreeing ones strike (then fail closed).
  for (TradeSlot& slot : state_.slots) {
    if (!joined(slot)) continue;
    slot.reconcile_run = 0;
    mark_changed(slot, out);
    if (disagrees[slot.slot_id]) {
      slot.reconcile_strikes = static_cast<std::uint8_t>(std::min(slot.reconcile_strikes + 1, 255));
      const Quantity venue = Quantity::from_units(std::abs(venue_units(slot.asset, slot.side)));
      const Quantity kernel = Quantity::from_units(std::abs(kernel_units(slot.asset, slot.side)));
      if (slot.reconcile_strikes >= config_.reconcile_strikes) {
        if (!slot.reconcile_blocked) fail_closed(slot, slot.asset, venue, kernel, out);
      } else {
        diagnose(out, C::kReconcileMismatch, slot.slot_id,
                 "the venue's position disagrees with the kernel's; the slot stays reconciling "
                 "and is checked again")
            .with_text("symbol", slot.asset.view())
            .with_decimal("venue_quantity", venue.units())
            .with_decimal("kernel_quantity", kernel.units())
            .with_int("strikes", slot.reconcile_strikes);
      }
      continue;
    }
    const bool was_blocked = slot.reconcile_blocked;
    slot.reconcile_strikes = 0;
    slot.reconcile_blocked = false;
    if (was_blocked) {
      diagnose(out, C::kReconcileResolved, slot.slot_id,
               "the venue now agrees with the slot; the block is lifted")
          .with_text("symbol", slot.asset.view());
    }
    leave_reconcile(slot, FsmInput::kReconcileComplete, out);
  }
  // 4. Capital is the kernel's authority: the venue balance is compared, never adopted.
  if (complete.has_balance && state_.account.seeded && complete.balance != state_.account.capital) {
    diagnose(out, C::kCapitalDrift, kNoSlot,
             "the venue balance differs from the kernel's capital (open trades, or money moved "
             "outside DITA)")
        .with_decimal("capital", state_.account.capital.units())
        .with_decimal("venue_balance", complete.balance.units())
        .with_decimal("difference", (complete.balance - state_.account.capital).units());
  }
}

TradeStage Kernel::derived_stage(const TradeSlot& slot) const {
  if (slot.working_order >= 0) {
    const VenueOrder& order = slot.orders[static_cast<std::size_t>(slot.working_order)];
    if (!order.is_terminal()) {
      return order.role == OrderRole::kEntry ? TradeStage::kEntryWorking : TradeStage::kExitWorking;
    }
  }
  if (slot.size.is_positive()) return TradeStage::kPositionOpen;
  return slot.entry_filled.is_positive() ? TradeStage::kClosed : TradeStage::kIdle;
}

void Kernel::leave_reconcile(TradeSlot& slot, FsmInput trigger, KernelOutcome& out) {
  // The stage follows from the facts folded while reconciling (an order still open on the
  // venue keeps working; a filled-out trade closes and settles once).
  if (slot.working_order >= 0 &&
      slot.orders[static_cast<std::size_t>(slot.working_order)].is_terminal()) {
    slot.working_order = -1;
  }
  refresh_unrealized(slot, out);
  mark_changed(slot, out);
  move_to(slot, derived_stage(slot), trigger, out);
}

void Kernel::on_funding(const FundingPayment& payment, KernelOutcome& out) {
  if (payment.funding_id == 0 || payment.symbol.empty()) {
    diagnose(out, C::kInvalidInput, kNoSlot, "a funding payment needs a funding id and a symbol")
        .with_text("field", payment.funding_id == 0 ? "funding_id" : "symbol");
    return;
  }
  if (seen_fact(payment.funding_id)) {
    diagnose(out, C::kDuplicateEvent, kNoSlot, "funding payment already applied; ignored")
        .with_int("funding_id", static_cast<std::int64_t>(payment.funding_id));
    return;
  }
  remember_fact(payment.funding_id);
  // Funding changes the balance with no order: capital follows at once, attributed to the
  // slots that held the position, by size (the last holder takes the rounding remainder).
  Quantity held = Quantity::zero();
  const TradeSlot* last = nullptr;
  for (const TradeSlot& slot : state_.slots) {
    if (slot.asset == payment.symbol && slot.size.is_positive()) {
      held += slot.size;
      last = &slot;
    }
  }
  move_capital(payment.amount);
  state_.account.funding_total += payment.amount;
  out.account_changed = true;
  if (last == nullptr) {
    diagnose(out, C::kFundingUnattributed, kNoSlot,
             "funding for a symbol no slot holds; capital changed, no slot charged")
        .with_text("symbol", payment.symbol.view())
        .with_decimal("amount", payment.amount.units());
    SettlementFact& fact = out.settlements.emplace_back();
    fact.kind = SettlementKind::kFunding;
    fact.source_id = payment.funding_id;
    fact.amount = payment.amount;
    fact.capital_after = state_.account.capital;
    fact.trade_seq = state_.account.trade_seq;
    return;
  }
  Money left = payment.amount;
  for (TradeSlot& slot : state_.slots) {
    if (!(slot.asset == payment.symbol && slot.size.is_positive())) continue;
    const Money share = &slot == last ? left : mul_div(payment.amount, slot.size, held);
    left -= share;
    slot.funding_pnl += share;
    mark_changed(slot, out);
    SettlementFact& fact = out.settlements.emplace_back();
    fact.kind = SettlementKind::kFunding;
    fact.slot = slot.slot_id;
    fact.trade_id = slot.trade_id;
    fact.source_id = payment.funding_id;
    fact.amount = share;
    fact.capital_after = state_.account.capital;
    fact.trade_seq = state_.account.trade_seq;
  }
}

void Kernel::on_venue_health(const VenueHealth& health, KernelOutcome& out) {
  if (health.until_ns < 0) {
    diagnose(out, C::kInvalidInput, kNoSlot, "a ban end time must not be negative")
        .with_text("field", "until_ns");
    return;
  }
  AccountSnapshot& account = state_.account;
  if (account.venue_banned == health.banned && account.venue_banned_until_ns == health.until_ns) {
    return;
  }
  account.venue_banned = health.banned;
  account.venue_banned_until_ns = health.banned ? health.until_ns : 0;
  out.account_changed = true;
  if (health.banned) {
    diagnose(out, C::kVenueBanned, kNoSlot,
             "the venue banned this account or IP; new entries are refused until it ends")
        .with_int("venue_code", health.venue_code)
        .with_int("until_ns", health.until_ns);
  } else {
    diagnose(out, C::kReconcileResolved, kNoSlot, "the venue ban ended; entries are allowed again")
        .with_text("venue", "ban lifted");
  }
}

bool Kernel::venue_banned(std::int64_t now) const {
  const AccountSnapshot& account = state_.account;
  return account.venue_banned &&
         (account.venue_banned_until_ns == 0 || now < account.venue_banned_until_ns);
}

void Kernel::on_operator(const OperatorCommand& command, std::int64_t now, KernelOutcome& out) {
  const FsmInput input = command.action == OperatorAction::kAdopt     ? FsmInput::kAdopt
                         : command.action == OperatorAction::kFlatten ? FsmInput::kFlatten
                                                                      : FsmInput::kRelease;
  if (command.action == OperatorAction::kRelease && command.slot == kNoSlot) {
    SymbolBlock* block = find_block(command.symbol, command.side, false);
    if (block == nullptr) {
      diagnose(out, C::kInvalidInput, kNoSlot, "no blocked symbol to release")
          .with_text("field", "symbol");
      return;
    }
    diagnose(out, C::kSlotReleased, kNoSlot,
             "operator released the symbol; its venue position is no longer DITA's concern")
        .with_text("symbol", block->symbol.view())
        .with_decimal("venue_quantity", block->venue_quantity.units());
    remove_block(*block);
    out.account_changed = true;
    return;
  }
  if (command.slot >= state_.slots.size()) {
    diagnose(out, C::kInvalidSlot, command.slot,
             "operator command names a slot this kernel does not have")
        .with_int("slot", command.slot);
    return;
  }
  TradeSlot& slot = state_.slots[command.slot];
  const FsmCell& cell = fsm_cell(slot.stage, input);
  if (cell.action == FsmAction::kDiagnose) {
    diagnose(out, cell.code, slot.slot_id, cell.outcome)
        .with_text("stage", to_string(slot.stage))
        .with_text("operator", to_string(command.action));
    return;
  }
  if (command.action == OperatorAction::kRelease) {
    // The operator takes the local position off the kernel's books: what the slot believed
    // it held is written off, what it realized so far settles, and it trades again.
    diagnose(out, C::kSlotReleased, slot.slot_id,
             "operator released the slot; its local position is written off")
        .with_text("symbol", slot.asset.view())
        .with_decimal("written_off", slot.size.units());
    if (slot.working_order >= 0) {
      VenueOrder& order = slot.orders[static_cast<std::size_t>(slot.working_order)];
      if (!order.is_terminal()) order.status = OrderStatus::kCanceled;
      order.cancel_requested = false;
      slot.working_order = -1;
    }
    slot.size = Quantity::zero();
    slot.cost_basis = Money::zero();
    slot.reconcile_blocked = false;
    slot.reconcile_strikes = 0;
    slot.reconcile_run = 0;
    refresh_unrealized(slot, out);
    mark_changed(slot, out);
    move_to(slot, slot.entry_filled.is_positive() ? TradeStage::kClosed : TradeStage::kIdle,
            FsmInput::kRelease, out);
    return;
  }
  adopt(slot, command, now, out);
}

void Kernel::adopt(TradeSlot& slot, const OperatorCommand& command, std::int64_t now,
                   KernelOutcome& out) {
  const Instrument* instrument = find_instrument(command.symbol);
  if (instrument == nullptr || !command.quantity.is_positive() || !command.price.is_positive()) {
    diagnose(out, C::kInvalidInput, slot.slot_id,
             "adopting needs a known symbol, a positive quantity and the venue's entry price")
        .with_text("field", instrument == nullptr             ? "symbol"
                            : !command.quantity.is_positive() ? "quantity"
                                                              : "price");
    return;
  }
  // An adopted position is a trade like any other from here on: same exits, same settlement
  // (field lesson: an adopted position gets the protection of one opened live).
  begin_trade(slot, command.symbol, command.side, 1, now);
  slot.adopted = true;
  VenueOrder& order = add_order(slot);
  order.id = ClientOrderId{slot.slot_id, slot.trade_id, 0, 0};
  order.role = OrderRole::kEntry;
  order.side = command.side == Side::kLong ? OrderSide::kBuy : OrderSide::kSell;
  order.external = true;
  order.quantity = command.quantity;
  order.limit_price = command.price;
  order.sent_ts_ns = now;
  order.last_news_ts_ns = now;
  book_fill(slot, order, command.quantity, notional(command.quantity, command.price), Money::zero(),
            0, out);
  order.status = OrderStatus::kFilled;
  if (SymbolBlock* block = find_block(command.symbol, command.side, false)) {
    remove_block(*block);
    out.account_changed = true;
  }
  diagnose(out, C::kPositionAdopted, slot.slot_id,
           "operator adopted a venue position into the slot")
      .with_text("symbol", command.symbol.view())
      .with_text("side", to_string(command.side))
      .with_decimal("quantity", command.quantity.units())
      .with_decimal("entry_price", command.price.units());
  move_to(slot, TradeStage::kPositionOpen,
          command.action == OperatorAction::kAdopt ? FsmInput::kAdopt : FsmInput::kFlatten, out);
  if (command.action == OperatorAction::kFlatten) {
    KernelIntent everything;
    everything.kind = KernelIntentKind::kExit;
    start_exit(slot, everything, now, out);
  }
}

void Kernel::on_set_active_slot_limit(const SetActiveSlotLimit& change, KernelOutcome& out) {
  if (change.limit > state_.slots.size()) {
    diagnose(out, C::kInvalidInput, kNoSlot,
             "active_slot_limit must be between 0 and the slot count")
        .with_text("field", "active_slot_limit")
        .with_int("slot_count", static_cast<std::int64_t>(state_.slots.size()));
    return;
  }
  state_.active_slot_limit = change.limit;
}

// ---------------------------------------------------------------------------------------
// Bookkeeping

void Kernel::advance(TradeSlot& slot, TradeStage stage, FsmInput trigger, KernelOutcome& out) {
  if (slot.stage == TradeStage::kStaleStateReconciling) return;
  move_to(slot, stage, trigger, out);
}

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
  move_capital(unsettled);
  state_.account.realized_total += unsettled;
  slot.settled_pnl = slot.realized_pnl;
  const bool first = !slot.settled;
  if (first) {
    slot.settled = true;
    state_.account.trade_seq += 1;
  }
  slot.closed_ts_ns = now_;
  slot.unrealized_pnl = Money::zero();
  out.account_changed = true;
  if (!first && unsettled.is_zero()) return;
  SettlementFact& fact = out.settlements.emplace_back();
  fact.kind = SettlementKind::kTrade;
  fact.slot = slot.slot_id;
  fact.trade_id = slot.trade_id;
  fact.amount = unsettled;
  fact.capital_after = state_.account.capital;
  fact.trade_seq = state_.account.trade_seq;
}

void Kernel::move_capital(Money amount) {
  AccountSnapshot& account = state_.account;
  account.capital += amount;
  if (account.capital > account.peak_capital) account.peak_capital = account.capital;
  account.drawdown = account.peak_capital - account.capital;
  if (account.drawdown > account.max_drawdown) account.max_drawdown = account.drawdown;
}

void Kernel::refresh_unrealized(TradeSlot& slot, KernelOutcome& out) {
  Money unrealized = Money::zero();
  if (slot.size.is_positive() && slot.mark_price.is_positive()) {
    const Money value = notional(slot.size, slot.mark_price);
    unrealized = slot.side == Side::kLong ? value - slot.cost_basis : slot.cost_basis - value;
  }
  if (unrealized == slot.unrealized_pnl) return;
  state_.account.unrealized_total += unrealized - slot.unrealized_pnl;
  slot.unrealized_pnl = unrealized;
  out.account_changed = true;
  mark_changed(slot, out);
}

void Kernel::mark_changed(TradeSlot& slot, KernelOutcome& out) {
  slot.last_input_seq = state_.input_seq;
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

bool Kernel::seen_fact(std::uint64_t fact_id) const {
  return std::find(state_.fact_ids.begin(), state_.fact_ids.end(), fact_id) !=
         state_.fact_ids.end();
}

void Kernel::remember_fact(std::uint64_t fact_id) {
  state_.fact_ids[state_.fact_ids_next] = fact_id;
  state_.fact_ids_next = (state_.fact_ids_next + 1) % kFactIdMemory;
}

// The intent memo is a ring (newest config.intent_memory intents) with an open-addressing
// index of ring positions; the oldest memo leaves the index by backward-shift deletion, so
// probe chains stay short and lookups are O(1) without tombstones.
const IntentMemo* Kernel::find_intent(std::uint64_t id_hash) const {
  const std::size_t mask = intent_index_.size() - 1;
  for (std::size_t i = id_hash & mask;; i = (i + 1) & mask) {
    const std::uint32_t entry = intent_index_[i];
    if (entry == 0) return nullptr;
    const IntentMemo& memo = state_.intents[entry - 1];
    if (memo.id_hash == id_hash) return &memo;
  }
}

void Kernel::remember_intent(const IntentMemo& memo) {
  const std::size_t mask = intent_index_.size() - 1;
  const std::uint32_t position = state_.intents_next;
  if (state_.intents_count == config_.intent_memory) {
    // Evict the memo at `position` from the index.
    const std::uint64_t old_hash = state_.intents[position].id_hash;
    std::size_t hole = old_hash & mask;
    while (intent_index_[hole] != position + 1) hole = (hole + 1) & mask;
    for (std::size_t next = (hole + 1) & mask; intent_index_[next] != 0; next = (next + 1) & mask) {
      const std::size_t home = state_.intents[intent_index_[next] - 1].id_hash & mask;
      // Move `next` into the hole unless its home lies cyclically in (hole, next].
      const bool stays =
          hole <= next ? (hole < home && home <= next) : (hole < home || home <= next);
      if (stays) continue;
      intent_index_[hole] = intent_index_[next];
      hole = next;
    }
    intent_index_[hole] = 0;
  } else {
    ++state_.intents_count;
  }
  state_.intents[position] = memo;
  std::size_t slot = memo.id_hash & mask;
  while (intent_index_[slot] != 0) slot = (slot + 1) & mask;
  intent_index_[slot] = position + 1;
  state_.intents_next = (position + 1) % config_.intent_memory;
}

void Kernel::rebuild_intent_index() {
  std::fill(intent_index_.begin(), intent_index_.end(), 0);
  const std::size_t mask = intent_index_.size() - 1;
  // Oldest first, so lookups find the newest memo of a (colliding) hash last... all ids in
  // the ring are distinct, so any insertion order gives the same answers.
  for (std::uint32_t n = 0; n < state_.intents_count; ++n) {
    const std::uint32_t position =
        (state_.intents_next + config_.intent_memory - state_.intents_count + n) %
        config_.intent_memory;
    std::size_t slot = state_.intents[position].id_hash & mask;
    while (intent_index_[slot] != 0) slot = (slot + 1) & mask;
    intent_index_[slot] = position + 1;
  }
}

VenueOrder* Kernel::find_order(TradeSlot& slot, const ClientOrderId& id) {
  for (std::size_t i = 0; i < slot.order_count; ++i) {
    if (slot.orders[i].id == id) return &slot.orders[i];
  }
  return nullptr;
}

const VenueOrder* Kernel::find_order(const TradeSlot& slot, const ClientOrderId& id) const {
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
    while (victim + 1 < kMaxOrdersPerTrade && !slot.orders[victim].is_terminal()) ++victim;
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
  for (const TradeSlot& slot : state_.slots) {
    if (slot.stage != TradeStage::kIdle && slot.stage != TradeStage::kClosed) ++active;
  }
  return active;
}

bool Kernel::is_working(const TradeSlot& slot, const VenueOrder& order) const {
  return slot.working_order >= 0 &&
         &slot.orders[static_cast<std::size_t>(slot.working_order)] == &order;
}

}  // namespace dita::core
