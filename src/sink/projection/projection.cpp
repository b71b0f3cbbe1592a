#include "dita/sink/projection.hpp"

#include <ctime>
#include <utility>

#include "dita/codec/json_codec.hpp"

namespace dita::sink {
namespace {

using core::Money;
using core::Quantity;
using core::TradeSlot;
using core::TradeStage;

constexpr std::array<std::string_view, kTableCount> kTableNames = {
    "transitions", "trade_entries",   "trade_exits",    "trade_exit_legs",  "account_snapshots",
    "diagnostics", "control_changes", "venue_messages", "reconcile_events", "kernel_inputs"};

#define DITA_COMMON "row_id", "strategy", "seq", "ts", "ts_ms"
constexpr std::array kTransitionsColumns =
    std::to_array<std::string_view>({DITA_COMMON, "slot_id", "trade_id", "from_stage", "to_stage",
                                     "cause", "event_id", "detail_json"});
constexpr std::array kEntriesColumns = std::to_array<std::string_view>(
    {DITA_COMMON, "slot_id", "trade_id", "symbol", "side", "qty", "price", "notional", "fee",
     "client_order_id", "venue_order_id"});
constexpr std::array kExitsColumns = std::to_array<std::string_view>(
    {DITA_COMMON, "slot_id", "trade_id", "symbol", "side", "reason", "qty_closed", "avg_exit_price",
     "realized_pnl", "fees", "leg_count"});
constexpr std::array kLegsColumns = std::to_array<std::string_view>(
    {DITA_COMMON, "slot_id", "trade_id", "leg_index", "symbol", "side", "client_order_id",
     "venue_order_id", "leg_qty", "leg_price", "leg_fee", "leg_realized_pnl", "cum_qty_closed",
     "remaining_qty", "leg_proceeds", "leg_cost_share", "leg_entry_fee_share"});
constexpr std::array kAccountColumns = std::to_array<std::string_view>(
    {DITA_COMMON, "account_id", "currency", "source", "capital", "realized_pnl", "unrealized_pnl",
     "equity", "reserved_margin", "peak_capital", "drawdown", "max_drawdown", "trade_seq"});
constexpr std::array kDiagnosticsColumns =
    std::to_array<std::string_view>({DITA_COMMON, "code", "severity", "slot_id", "trade_id",
                                     "retryable", "retry_after_ms", "message", "detail_json"});
constexpr std::array kControlColumns = std::to_array<std::string_view>(
    {DITA_COMMON, "control", "old_value", "new_value", "actor", "reason"});
constexpr std::array kVenueColumns =
    std::to_array<std::string_view>({DITA_COMMON, "venue", "direction", "correlation_id", "method",
                                     "endpoint", "http_status", "latency_us", "payload"});
constexpr std::array kReconcileColumns =
    std::to_array<std::string_view>({DITA_COMMON, "slot_id", "trade_id", "kind", "outcome",
                                     "venue_state_json", "kernel_state_json", "detail"});
constexpr std::array kKernelInputsColumns = std::to_array<std::string_view>(
    {DITA_COMMON, "input_kind", "slot_id", "input_json", "outcome_json"});
#undef DITA_COMMON

bool is_active(TradeStage stage) {
  return stage != TradeStage::kIdle && stage != TradeStage::kClosed;
}

std::int64_t ts_ms_of(std::int64_t ts_ns) {
  return ts_ns > 0 ? ts_ns / 1'000'000 : 0;
}

// Builds one JSON object by hand: rows are on the projection's hot path (≥ 100k rows/s) and
// ClickHouse needs decimals as unquoted numbers, which a generic JSON library would not keep
// exact.
class ObjectBuilder {
 public:
  ObjectBuilder() {
    text_.reserve(384);
    text_ += '{';
  }
  ObjectBuilder& str(std::string_view key, std::string_view value) {
    put_key(key);
    append_json_string(text_, value);
    return *this;
  }
  ObjectBuilder& num(std::string_view key, std::int64_t value) {
    put_key(key);
    text_ += std::to_string(value);
    return *this;
  }
  ObjectBuilder& unum(std::string_view key, std::uint64_t value) {
    put_key(key);
    text_ += std::to_string(value);
    return *this;
  }
  ObjectBuilder& dec(std::string_view key, std::int64_t units) {
    put_key(key);
    text_ += core::format_decimal(units);
    return *this;
  }
  ObjectBuilder& null(std::string_view key) {
    put_key(key);
    text_ += "null";
    return *this;
  }
  std::string finish() {
    text_ += '}';
    return std::move(text_);
  }

 private:
  void put_key(std::string_view key) {
    if (text_.size() > 1) text_ += ',';
    text_ += '"';
    text_ += key;
    text_ += "\":";
  }
  std::string text_;
};

// Canonical JSON of a slot image / diagnostic (the codec's streaming writer: no JSON value).
std::string slot_json(const TradeSlot& slot, const codec::CodecContext& context) {
  std::string out;
  out.reserve(1280);
  codec::append_canonical(out, slot, context);
  return out;
}
std::string diagnostic_json(const core::KernelDiagnostic& diagnostic) {
  std::string out;
  out.reserve(256);
  codec::append_canonical(out, diagnostic);
  return out;
}

std::string slot_text(std::uint32_t slot) {
  return slot == core::kNoSlot ? std::string() : std::to_string(slot);
}

std::string order_id_text(std::string_view prefix, const core::ClientOrderId& id) {
  core::ClientOrderIdText buffer{};
  const std::size_t length = core::format_client_order_id(prefix, id, buffer);
  return std::string(buffer.data(), length);
}

std::string_view input_kind(const core::KernelInput& input) {
  struct Visitor {
    std::string_view operator()(const core::KernelIntent& intent) const {
      switch (intent.kind) {
        case core::KernelIntentKind::kEnter:
          return "INTENT_ENTER";
        case core::KernelIntentKind::kExit:
          return "INTENT_EXIT";
        case core::KernelIntentKind::kCancel:
          return "INTENT_CANCEL";
      }
      return "INTENT";
    }
    std::string_view operator()(const core::VenueEvent&) const { return "VENUE_EVENT"; }
    std::string_view operator()(const core::Tick&) const { return "TICK"; }
    std::string_view operator()(const core::SeedCapital&) const { return "SEED_CAPITAL"; }
    std::string_view operator()(const core::ReconcileBegin&) const { return "RECONCILE_BEGIN"; }
    std::string_view operator()(const core::ReconcilePosition&) const {
      return "RECONCILE_POSITION";
    }
    std::string_view operator()(const core::ExternalFill&) const { return "EXTERNAL_FILL"; }
    std::string_view operator()(const core::ReconcileComplete&) const {
      return "RECONCILE_COMPLETE";
    }
    std::string_view operator()(const core::FundingPayment&) const { return "FUNDING"; }
    std::string_view operator()(const core::VenueHealth&) const { return "VENUE_HEALTH"; }
    std::string_view operator()(const core::OperatorCommand&) const { return "OPERATOR"; }
    std::string_view operator()(const core::SetActiveSlotLimit&) const {
      return "SET_ACTIVE_SLOT_LIMIT";
    }
  };
  return std::visit(Visitor{}, input.payload);
}

std::uint32_t input_slot(const core::KernelInput& input) {
  if (const auto* intent = std::get_if<core::KernelIntent>(&input.payload)) return intent->slot;
  if (const auto* event = std::get_if<core::VenueEvent>(&input.payload)) {
    return event->kind == core::KernelEventKind::kMarkPrice ? core::kNoSlot : event->slot;
  }
  if (const auto* begin = std::get_if<core::ReconcileBegin>(&input.payload)) return begin->slot;
  if (const auto* command = std::get_if<core::OperatorCommand>(&input.payload)) {
    return command->slot;
  }
  return core::kNoSlot;
}

std::string input_event_id(const core::KernelInput& input) {
  if (const auto* intent = std::get_if<core::KernelIntent>(&input.payload)) {
    return "intent:" + std::string(intent->id.view());
  }
  if (const auto* event = std::get_if<core::VenueEvent>(&input.payload)) {
    return std::to_string(event->event_id);
  }
  return {};
}

const core::VenueOrder* find_order(const TradeSlot& slot, const core::ClientOrderId& id) {
  for (std::size_t i = 0; i < slot.order_count; ++i) {
    if (slot.orders[i].id == id) return &slot.orders[i];
  }
  return nullptr;
}

// Entry fees of the slot's current trade (the entry order is never evicted).
Money entry_fees(const TradeSlot& slot) {
  return slot.order_count > 0 && slot.orders[0].role == core::OrderRole::kEntry ? slot.orders[0].fee
                                                                                : Money::zero();
}

// The part of the entry fees attributed to the first `closed` coins of `filled`; cumulative,
// so consecutive differences telescope and the legs' shares sum exactly to the entry fees.
Money fee_share_upto(Money fees, Quantity closed, Quantity filled) {
  if (!filled.is_positive() || !closed.is_positive()) return Money::zero();
  if (closed >= filled) return fees;
  return core::mul_div(fees, closed, filled);
}

// Exit proceeds of a closed trade from the slot's own totals: gross = realized + fees, and
// gross = proceeds - entry value (long) or entry value - proceeds (short).
Money exit_proceeds(const TradeSlot& slot) {
  const Money gross = slot.realized_pnl + slot.fees_paid;
  return slot.side == core::Side::kLong ? gross + slot.entry_notional : slot.entry_notional - gross;
}

core::Price price_of(Money value, Quantity quantity) {
  return quantity.is_positive() ? core::average_price(value, quantity) : core::Price::zero();
}

}  // namespace

std::string_view table_name(Table table) {
  return kTableNames[static_cast<std::size_t>(table)];
}

std::span<const std::string_view> table_columns(Table table) {
  switch (table) {
    case Table::kTransitions:
      return kTransitionsColumns;
    case Table::kTradeEntries:
      return kEntriesColumns;
    case Table::kTradeExits:
      return kExitsColumns;
    case Table::kTradeExitLegs:
      return kLegsColumns;
    case Table::kAccountSnapshots:
      return kAccountColumns;
    case Table::kDiagnostics:
      return kDiagnosticsColumns;
    case Table::kControlChanges:
      return kControlColumns;
    case Table::kVenueMessages:
      return kVenueColumns;
    case Table::kReconcileEvents:
      return kReconcileColumns;
    case Table::kKernelInputs:
      return kKernelInputsColumns;
  }
  return {};
}

HazelcastNames HazelcastNames::for_strategy(std::string_view strategy, std::string_view prefix) {
  const std::string suffix = "_" + std::string(strategy);
  const std::string base(prefix);
  return {base + "_STATE" + suffix, base + "_PNL" + suffix, base + "_ACTIVE_SLOTS" + suffix,
          base + "_CONTROL" + suffix, base + "_TRADE_EVENTS" + suffix};
}

std::string make_row_id(std::string_view strategy, Table table, std::uint64_t seq,
                        std::uint32_t item) {
  std::string id;
  id.reserve(strategy.size() + 40);
  id += strategy;
  id += ':';
  id += table_name(table);
  id += ':';
  id += std::to_string(seq);
  id += ':';
  id += std::to_string(item);
  return id;
}

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += "\\u00";
          out += kHex[(c >> 4) & 0xF];
          out += kHex[c & 0xF];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

std::string format_datetime(std::int64_t ts_ns) {
  const std::time_t seconds = static_cast<std::time_t>(ts_ns > 0 ? ts_ns / 1'000'000'000 : 0);
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  char buffer[32];
  const std::size_t length = std::strftime(buffer, sizeof(buffer), "%Y-%m-%d %H:%M:%S", &tm);
  return std::string(buffer, length);
}

// ---------------------------------------------------------------------------------------

namespace {

// Per-input row factory: numbers each table's rows and writes the common columns.
class RowSink {
 public:
  // `origin` (optional) names a sequence space other than the kernel's input sequence; it
  // goes into the row id so two spaces never collide in one table.
  RowSink(const ProjectionConfig& config, std::uint64_t seq, std::int64_t ts_ns,
          std::vector<Row>& rows, std::string_view origin = {})
      : config_(config),
        seq_(seq),
        ts_(format_datetime(ts_ns)),
        ts_ms_(ts_ms_of(ts_ns)),
        rows_(rows),
        origin_(origin) {}

  ObjectBuilder begin(Table table) {
    pending_table_ = table;
    const std::uint32_t item = counters_[static_cast<std::size_t>(table)]++;
    pending_id_ = origin_.empty() ? make_row_id(config_.strategy, table, seq_, item)
                                  : make_row_id(config_.strategy, table, seq_, item) + "@" +
                                        std::string(origin_);
    ObjectBuilder builder;
    builder.str("row_id", pending_id_)
        .str("strategy", config_.strategy)
        .unum("seq", seq_)
        .str("ts", ts_)
        .num("ts_ms", ts_ms_);
    return builder;
  }
  void end(ObjectBuilder& builder) {
    rows_.push_back(Row{pending_table_, std::move(pending_id_), builder.finish()});
  }

 private:
  const ProjectionConfig& config_;
  std::uint64_t seq_;
  std::string ts_;
  std::int64_t ts_ms_;
  std::vector<Row>& rows_;
  std::array<std::uint32_t, kTableCount> counters_{};
  std::string_view origin_;
  Table pending_table_ = Table::kTransitions;
  std::string pending_id_;
};

}  // namespace

Projector::Projector(ProjectionConfig config, std::span<const core::TradeSlot> slots,
                     std::uint32_t active_slot_limit)
    : config_(std::move(config)),
      slots_(slots.begin(), slots.end()),
      active_slot_limit_(active_slot_limit) {}

Projector::Projector(ProjectionConfig config, const core::Kernel& kernel)
    : Projector(std::move(config), kernel.slots(), kernel.active_slot_limit()) {}

void collect_changed_slots(const core::KernelOutcome& outcome, const core::Kernel& kernel,
                           std::vector<core::TradeSlot>& out) {
  out.clear();
  for (const std::uint32_t id : outcome.changed_slots) out.push_back(kernel.slot(id));
}

void Projector::project(const core::KernelInput& input, const core::KernelOutcome& outcome,
                        const core::Kernel& kernel, Projection& out) {
  std::vector<TradeSlot> changed;
  collect_changed_slots(outcome, kernel, changed);
  project(input, outcome, changed, kernel.active_slot_limit(), out);
}

void Projector::project(const core::KernelInput& input, const core::KernelOutcome& outcome,
                        std::span<const core::TradeSlot> changed_after,
                        std::uint32_t active_slot_limit, Projection& out) {
  const bool debug = config_.mode == core::KernelMode::kDebug;
  const std::uint64_t seq = outcome.input_seq;
  const std::int64_t ts_ms = ts_ms_of(input.ts_ns);
  const codec::CodecContext context{config_.order_id_prefix};
  const std::string& prefix = config_.order_id_prefix;
  RowSink rows(config_, seq, input.ts_ns, out.rows);
  std::uint32_t topic_item = 0;
  const auto topic = [&](std::string_view event, const TradeSlot& slot) {
    ObjectBuilder builder;
    builder.str("event", event)
        .str("event_id", config_.strategy + ":" + std::string(event) + ":" + std::to_string(seq) +
                             ":" + std::to_string(topic_item++))
        .str("strategy", config_.strategy)
        .unum("seq", seq)
        .num("ts_ms", ts_ms)
        .unum("slot_id", slot.slot_id)
        .unum("trade_id", slot.trade_id)
        .str("asset", slot.asset.view())
        .str("side", core::to_string(slot.side));
    return builder;
  };
  const auto publish = [&](ObjectBuilder& builder) {
    out.hazelcast.push_back(
        {HazelcastOpKind::kTopicPublish, config_.names.trade_events, {}, builder.finish()});
  };
  const auto after_of = [&](std::uint32_t id) -> const TradeSlot* {
    for (const TradeSlot& slot : changed_after) {
      if (slot.slot_id == id) return &slot;
    }
    return id < slots_.size() ? &slots_[id] : nullptr;
  };

  // kernel_inputs (DEBUG): the canonical input and outcome, enough to replay the timeline.
  if (debug) {
    ObjectBuilder row = rows.begin(Table::kKernelInputs);
    row.str("input_kind", input_kind(input))
        .str("slot_id", slot_text(input_slot(input)))
        .str("input_json", codec::encode_input(input, context))
        .str("outcome_json", codec::encode_outcome(outcome, context));
    rows.end(row);
  }

  // transitions (DEBUG): every stage change, with the numbers after it.
  const std::string event_id = input_event_id(input);
  for (const core::KernelTransition& transition : outcome.transitions) {
    if (!debug) break;
    ObjectBuilder detail;
    detail.unum("input_seq", seq)
        .str("input_kind", input_kind(input))
        .str("size_after", core::to_string(transition.size_after))
        .str("realized_pnl_after", core::to_string(transition.realized_pnl_after));
    ObjectBuilder row = rows.begin(Table::kTransitions);
    row.str("slot_id", std::to_string(transition.slot))
        .str("trade_id", std::to_string(transition.trade_id))
        .str("from_stage", core::to_string(transition.from))
        .str("to_stage", core::to_string(transition.to))
        .str("cause", core::to_string(transition.trigger))
        .str("event_id", event_id)
        .str("detail_json", detail.finish());
    rows.end(row);
  }

  // Fills: per changed slot, each order whose cumulative fill or fee moved.
  for (const TradeSlot& after : changed_after) {
    if (after.slot_id >= slots_.size()) continue;
    const TradeSlot& before = slots_[after.slot_id];
    const bool same_trade = before.trade_id == after.trade_id;
    for (std::size_t i = 0; i < after.order_count; ++i) {
      const core::VenueOrder& order = after.orders[i];
      const core::VenueOrder* prior = same_trade ? find_order(before, order.id) : nullptr;
      const Quantity filled_before = prior != nullptr ? prior->filled : Quantity::zero();
      const Money notional_before = prior != nullptr ? prior->filled_notional : Money::zero();
      const Money fee_before = prior != nullptr ? prior->fee : Money::zero();
      const Quantity qty = order.filled - filled_before;
      const Money fee = order.fee - fee_before;
      if (!qty.is_positive() && fee.is_zero()) continue;
      const Money proceeds = order.filled_notional - notional_before;
      const std::string client_order_id = order_id_text(prefix, order.id);
      const std::string venue_order_id =
          order.venue_order_id != 0 ? std::to_string(order.venue_order_id) : std::string();
      if (order.role == core::OrderRole::kEntry) {
        ObjectBuilder row = rows.begin(Table::kTradeEntries);
        row.str("slot_id", std::to_string(after.slot_id))
            .str("trade_id", std::to_string(after.trade_id))
            .str("symbol", after.asset.view())
            .str("side", core::to_string(after.side))
            .dec("qty", qty.units())
            .dec("price", price_of(proceeds, qty).units())
            .dec("notional", proceeds.units())
            .dec("fee", fee.units())
            .str("client_order_id", client_order_id)
            .str("venue_order_id", venue_order_id);
        rows.end(row);
        ObjectBuilder message = topic("ENTRY_FILL", after);
        message.dec("qty", qty.units())
            .dec("price", price_of(proceeds, qty).units())
            .dec("fee", fee.units())
            .dec("size_after", after.size.units())
            .str("client_order_id", client_order_id);
        publish(message);
        continue;
      }
      // Exit leg: isolated deltas between the slot before and after this input.
      const Quantity filled = after.entry_filled;
      const Quantity closed_before = same_trade ? filled - before.size : Quantity::zero();
      const Quantity closed_after = filled - after.size;
      const Money fees = entry_fees(after);
      const Money entry_fee_share =
          fee_share_upto(fees, closed_after, filled) - fee_share_upto(fees, closed_before, filled);
      const Money cost_share =
          same_trade ? before.cost_basis - after.cost_basis : Money::zero() - after.cost_basis;
      const Money realized_delta =
          (same_trade ? after.realized_pnl - before.realized_pnl : after.realized_pnl) -
          entry_fee_share;
      ObjectBuilder row = rows.begin(Table::kTradeExitLegs);
      row.str("slot_id", std::to_string(after.slot_id))
          .str("trade_id", std::to_string(after.trade_id))
          .unum("leg_index", order.id.leg)
          .str("symbol", after.asset.view())
          .str("side", core::to_string(after.side))
          .str("client_order_id", client_order_id)
          .str("venue_order_id", venue_order_id)
          .dec("leg_qty", qty.units())
          .dec("leg_price", price_of(proceeds, qty).units())
          .dec("leg_fee", fee.units())
          .dec("leg_realized_pnl", realized_delta.units())
          .dec("cum_qty_closed", closed_after.units())
          .dec("remaining_qty", after.size.units())
          .dec("leg_proceeds", proceeds.units())
          .dec("leg_cost_share", cost_share.units())
          .dec("leg_entry_fee_share", entry_fee_share.units());
      rows.end(row);
      ObjectBuilder message = topic("EXIT_FILL", after);
      message.unum("leg_index", order.id.leg)
          .dec("qty", qty.units())
          .dec("price", price_of(proceeds, qty).units())
          .dec("fee", fee.units())
          .dec("realized_pnl_delta", realized_delta.units())
          .dec("size_after", after.size.units())
          .str("client_order_id", client_order_id);
      publish(message);
    }
  }

  // Trade-level transitions: ENTER and CLOSE events, exits, reconcile entries.
  for (const core::KernelTransition& transition : outcome.transitions) {
    const TradeSlot* after = after_of(transition.slot);
    if (after == nullptr) continue;
    if (transition.to == TradeStage::kEntryWorking &&
        transition.trigger == core::FsmInput::kEnter) {
      ObjectBuilder message = topic("ENTER", *after);
      const core::VenueOrder& entry = after->orders[0];
      message.dec("qty", entry.quantity.units())
          .dec("limit_price", entry.limit_price.units())
          .unum("leverage", after->leverage)
          .str("client_order_id", order_id_text(prefix, entry.id));
      publish(message);
    }
    if (transition.to == TradeStage::kClosed) {
      const Quantity qty_closed = after->entry_filled - after->size;
      ObjectBuilder row = rows.begin(Table::kTradeExits);
      row.str("slot_id", std::to_string(after->slot_id))
          .str("trade_id", std::to_string(transition.trade_id))
          .str("symbol", after->asset.view())
          .str("side", core::to_string(after->side))
          .str("reason", core::to_string(transition.trigger))
          .dec("qty_closed", qty_closed.units())
          .dec("avg_exit_price", price_of(exit_proceeds(*after), qty_closed).units())
          .dec("realized_pnl", after->realized_pnl.units())
          .dec("fees", after->fees_paid.units())
          .unum("leg_count", after->exit_legs_filled);
      rows.end(row);
      ObjectBuilder message = topic("CLOSE", *after);
      message.str("reason", core::to_string(transition.trigger))
          .dec("qty_closed", qty_closed.units())
          .dec("realized_pnl", after->realized_pnl.units())
          .dec("fees", after->fees_paid.units());
      publish(message);
    }
    if (transition.to == TradeStage::kStaleStateReconciling &&
        !std::holds_alternative<core::ReconcileBegin>(input.payload)) {
      ObjectBuilder row = rows.begin(Table::kReconcileEvents);
      row.str("slot_id", std::to_string(after->slot_id))
          .str("trade_id", std::to_string(after->trade_id))
          .str("kind", "AUTO")
          .str("outcome", "ENTERED")
          .str("venue_state_json", "{}")
          .str("kernel_state_json", slot_json(*after, context))
          .str("detail", core::to_string(transition.trigger));
      rows.end(row);
    }
  }

  // Reconcile inputs: what was asked or compared, and what the kernel concluded.
  const auto* begin = std::get_if<core::ReconcileBegin>(&input.payload);
  const auto* complete = std::get_if<core::ReconcileComplete>(&input.payload);
  const auto* external = std::get_if<core::ExternalFill>(&input.payload);
  if (begin != nullptr || complete != nullptr || external != nullptr) {
    const std::uint32_t id = begin != nullptr ? begin->slot : core::kNoSlot;
    const TradeSlot* after = after_of(id);
    std::string_view result = begin != nullptr ? "ENTERED" : "CONFIRMED";
    std::string detail;
    for (const core::KernelDiagnostic& diagnostic : outcome.diagnostics) {
      if (!detail.empty()) detail += "; ";
      detail += core::to_string(diagnostic.code);
      if (diagnostic.code == core::KernelDiagnosticCode::kReconcileMismatch) result = "MISMATCH";
      if (diagnostic.code == core::KernelDiagnosticCode::kReconcileUnexplained) result = "BLOCKED";
      if (diagnostic.code == core::KernelDiagnosticCode::kReconcileNotActive ||
          diagnostic.code == core::KernelDiagnosticCode::kInvalidInput ||
          diagnostic.code == core::KernelDiagnosticCode::kInvalidSlot) {
        result = "REFUSED";
      }
    }
    ObjectBuilder venue;
    std::string_view kind = "BEGIN";
    if (begin != nullptr) {
      venue.str("run_id", std::to_string(begin->run_id))
          .str("reason", core::to_string(begin->reason))
          .str("netting", begin->netting ? "true" : "false");
    } else if (complete != nullptr) {
      kind = "COMPLETE";
      venue.str("run_id", std::to_string(complete->run_id))
          .str("balance", complete->has_balance ? core::to_string(complete->balance) : "");
    } else {
      kind = "EXTERNAL_FILL";
      if (result == "CONFIRMED") result = "APPLIED";
      venue.str("fill_kind", core::to_string(external->kind))
          .str("symbol", external->symbol.view())
          .str("quantity", core::to_string(external->quantity))
          .str("price", core::to_string(external->price))
          .str("fee", core::to_string(external->fee));
    }
    ObjectBuilder row = rows.begin(Table::kReconcileEvents);
    row.str("slot_id", slot_text(id))
        .str("trade_id", after != nullptr ? std::to_string(after->trade_id) : std::string())
        .str("kind", kind)
        .str("outcome", result)
        .str("venue_state_json", venue.finish())
        .str("kernel_state_json", after != nullptr ? slot_json(*after, context) : "{}")
        .str("detail", detail);
    rows.end(row);
  }

  // Diagnostics: all in DEBUG, WARNING and above in NORMAL.
  for (const core::KernelDiagnostic& diagnostic : outcome.diagnostics) {
    if (!debug && diagnostic.severity < core::KernelSeverity::kWarning) continue;
    bool retryable = diagnostic.code == core::KernelDiagnosticCode::kRateLimited;
    std::int64_t retry_after_ms = -1;
    for (std::size_t i = 0; i < diagnostic.detail_count; ++i) {
      const core::DiagnosticDetail& item = diagnostic.details[i];
      if (item.key == "retryable" && item.type == core::DiagnosticDetail::Type::kBool) {
        retryable = item.value != 0;
      }
      if (item.key == "retry_after_ms" && item.type == core::DiagnosticDetail::Type::kInt) {
        retry_after_ms = item.value;
      }
    }
    const TradeSlot* slot = diagnostic.slot != core::kNoSlot ? after_of(diagnostic.slot) : nullptr;
    ObjectBuilder row = rows.begin(Table::kDiagnostics);
    row.str("code", core::to_string(diagnostic.code))
        .str("severity", core::to_string(diagnostic.severity))
        .str("slot_id", slot_text(diagnostic.slot))
        .str("trade_id", slot != nullptr ? std::to_string(slot->trade_id) : std::string())
        .num("retryable", retryable ? 1 : 0);
    if (retry_after_ms >= 0) {
      row.num("retry_after_ms", retry_after_ms);
    } else {
      row.null("retry_after_ms");
    }
    row.str("message", diagnostic.message).str("detail_json", diagnostic_json(diagnostic));
    rows.end(row);
  }

  // Control: the active slot limit is a control value that arrives as a kernel input.
  if (std::holds_alternative<core::SetActiveSlotLimit>(input.payload) &&
      active_slot_limit != active_slot_limit_) {
    ControlChange change;
    change.seq = seq;
    change.ts_ns = input.ts_ns;
    change.control = "active_slot_limit";
    change.old_value = std::to_string(active_slot_limit_);
    change.new_value = std::to_string(active_slot_limit);
    change.origin = "input";
    change.actor = "kernel_input";
    change.reason = "SET_ACTIVE_SLOT_LIMIT";
    project_control_change(change, out);
    active_slot_limit_ = active_slot_limit;
  }

  // Account snapshot, with where the change came from.
  if (outcome.account_changed) {
    std::string_view source = "MARK";
    if (std::holds_alternative<core::SeedCapital>(input.payload)) source = "SEED";
    if (std::holds_alternative<core::ReconcileComplete>(input.payload)) source = "RECONCILE";
    for (const core::KernelTransition& transition : outcome.transitions) {
      if (transition.to == TradeStage::kClosed) source = "SETTLEMENT";
    }
    Money reserved = Money::zero();
    for (std::size_t id = 0; id < slots_.size(); ++id) {
      const TradeSlot* slot = after_of(static_cast<std::uint32_t>(id));
      if (slot->size.is_positive() && slot->leverage > 0) {
        reserved += Money::from_units(slot->cost_basis.units() / slot->leverage);
      }
    }
    const core::AccountSnapshot& account = outcome.account;
    ObjectBuilder row = rows.begin(Table::kAccountSnapshots);
    row.str("account_id", config_.account_id)
        .str("currency", config_.currency)
        .str("source", source)
        .dec("capital", account.capital.units())
        .dec("realized_pnl", account.realized_total.units())
        .dec("unrealized_pnl", account.unrealized_total.units())
        .dec("equity", (account.capital + account.unrealized_total).units())
        .dec("reserved_margin", reserved.units())
        .dec("peak_capital", account.peak_capital.units())
        .dec("drawdown", account.drawdown.units())
        .dec("max_drawdown", account.max_drawdown.units())
        .unum("trade_seq", account.trade_seq);
    rows.end(row);
  }

  // Hazelcast latest-value maps: changed slots, active registry, account.
  for (const TradeSlot& after : changed_after) {
    const std::string key = std::to_string(after.slot_id);
    out.hazelcast.push_back(
        {HazelcastOpKind::kMapSet, config_.names.state, key, slot_json(after, context)});
    const bool was_active = after.slot_id < slots_.size() && is_active(slots_[after.slot_id].stage);
    if (is_active(after.stage)) {
      ObjectBuilder entry;
      entry.unum("slot_id", after.slot_id)
          .unum("trade_id", after.trade_id)
          .str("stage", core::to_string(after.stage))
          .str("asset", after.asset.view())
          .str("side", core::to_string(after.side))
          .unum("input_seq", seq);
      out.hazelcast.push_back(
          {HazelcastOpKind::kMapSet, config_.names.active_slots, key, entry.finish()});
    } else if (was_active) {
      out.hazelcast.push_back({HazelcastOpKind::kMapRemove, config_.names.active_slots, key, {}});
    }
  }
  if (outcome.account_changed) {
    nlohmann::json account = codec::to_json(outcome.account);
    account["strategy"] = config_.strategy;
    account["input_seq"] = seq;
    account["ts_ms"] = ts_ms;
    out.hazelcast.push_back(
        {HazelcastOpKind::kMapSet, config_.names.pnl, "account", codec::canonical(account)});
  }

  for (const TradeSlot& after : changed_after) {
    if (after.slot_id < slots_.size()) slots_[after.slot_id] = after;
  }
}

void Projector::advance(std::span<const core::TradeSlot> changed_after,
                        std::uint32_t active_slot_limit) {
  for (const TradeSlot& after : changed_after) {
    if (after.slot_id < slots_.size()) slots_[after.slot_id] = after;
  }
  active_slot_limit_ = active_slot_limit;
}

void Projector::snapshot(const core::AccountSnapshot& account, std::int64_t ts_ns,
                         Projection& out) const {
  const codec::CodecContext context{config_.order_id_prefix};
  for (const TradeSlot& slot : slots_) {
    const std::string key = std::to_string(slot.slot_id);
    out.hazelcast.push_back(
        {HazelcastOpKind::kMapSet, config_.names.state, key, slot_json(slot, context)});
    if (is_active(slot.stage)) {
      ObjectBuilder entry;
      entry.unum("slot_id", slot.slot_id)
          .unum("trade_id", slot.trade_id)
          .str("stage", core::to_string(slot.stage))
          .str("asset", slot.asset.view())
          .str("side", core::to_string(slot.side))
          .unum("input_seq", slot.last_input_seq);
      out.hazelcast.push_back(
          {HazelcastOpKind::kMapSet, config_.names.active_slots, key, entry.finish()});
    } else {
      out.hazelcast.push_back({HazelcastOpKind::kMapRemove, config_.names.active_slots, key, {}});
    }
  }
  nlohmann::json json = codec::to_json(account);
  json["strategy"] = config_.strategy;
  json["input_seq"] = 0;
  json["ts_ms"] = ts_ms_of(ts_ns);
  out.hazelcast.push_back(
      {HazelcastOpKind::kMapSet, config_.names.pnl, "account", codec::canonical(json)});
}

void Projector::project_control_change(const ControlChange& change, Projection& out) const {
  RowSink rows(config_, change.seq, change.ts_ns, out.rows, change.origin);
  ObjectBuilder row = rows.begin(Table::kControlChanges);
  row.str("control", change.control)
      .str("old_value", change.old_value)
      .str("new_value", change.new_value)
      .str("actor", change.actor)
      .str("reason", change.reason);
  rows.end(row);
  ObjectBuilder entry;
  entry.str("control", change.control)
      .str("value", change.new_value)
      .str("actor", change.actor)
      .str("reason", change.reason)
      .unum("seq", change.seq)
      .num("ts_ms", ts_ms_of(change.ts_ns));
  out.hazelcast.push_back(
      {HazelcastOpKind::kMapSet, config_.names.control, change.control, entry.finish()});
}

void Projector::project_venue_message(const VenueMessage& message, Projection& out) const {
  if (config_.mode != core::KernelMode::kDebug) return;
  RowSink rows(config_, message.seq, message.ts_ns, out.rows);
  ObjectBuilder row = rows.begin(Table::kVenueMessages);
  row.str("venue", message.venue)
      .str("direction", message.direction)
      .str("correlation_id", message.correlation_id)
      .str("method", message.method)
      .str("endpoint", message.endpoint)
      .num("http_status", message.http_status)
      .unum("latency_us", message.latency_us)
      .str("payload", message.payload);
  rows.end(row);
}

}  // namespace dita::sink
