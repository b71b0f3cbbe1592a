#include "dita/codec/json_codec.hpp"

#include <charconv>
#include <cmath>
#include <limits>

namespace dita::codec {
namespace {

using core::to_string;
using nlohmann::json;

std::string order_id_text(const core::ClientOrderId& id, const CodecContext& context) {
  core::ClientOrderIdText text{};
  const std::size_t length = core::format_client_order_id(context.order_id_prefix, id, text);
  return {text.data(), length};
}

std::string str(std::string_view view) {
  return std::string(view);
}

std::unexpected<CodecError> fail(std::string_view path, std::string_view key, std::string message) {
  std::string field(path);
  if (!key.empty()) {
    if (!field.empty()) field += '.';
    field += key;
  }
  return std::unexpected(CodecError{field, std::move(message)});
}

template <class E>
Decoded<E> enum_field(const json& object, std::string_view key, std::string_view path,
                      std::optional<E> fallback) {
  const auto it = object.find(key);
  if (it == object.end()) {
    if (fallback) return *fallback;
    return fail(path, key, "is required");
  }
  std::string allowed;
  for (const auto name : core::EnumNames<E>::kNames) {
    if (!allowed.empty()) allowed += ", ";
    allowed += name;
  }
  if (!it->is_string()) return fail(path, key, "must be a string, one of: " + allowed);
  const auto value = core::parse_enum<E>(it->template get<std::string>());
  if (!value) {
    return fail(path, key, "'" + it->template get<std::string>() + "' is not one of: " + allowed);
  }
  return *value;
}

Decoded<std::uint64_t> unsigned_field(const json& object, std::string_view key,
                                      std::string_view path, bool required, std::uint64_t max,
                                      std::uint64_t fallback = 0) {
  const auto it = object.find(key);
  if (it == object.end()) {
    if (!required) return fallback;
    return fail(path, key, "is required");
  }
  if (it->is_number_unsigned()) {
    const auto value = it->get<std::uint64_t>();
    if (value > max) return fail(path, key, "must be at most " + std::to_string(max));
    return value;
  }
  if (it->is_number_integer()) {
    const auto value = it->get<std::int64_t>();
    if (value < 0) return fail(path, key, "must not be negative");
    if (static_cast<std::uint64_t>(value) > max) {
      return fail(path, key, "must be at most " + std::to_string(max));
    }
    return static_cast<std::uint64_t>(value);
  }
  return fail(path, key, "must be a non-negative integer");
}

Decoded<std::int64_t> signed_field(const json& object, std::string_view key, std::string_view path,
                                   bool required, std::int64_t fallback = 0) {
  const auto it = object.find(key);
  if (it == object.end()) {
    if (!required) return fallback;
    return fail(path, key, "is required");
  }
  if (it->is_number_integer()) return it->get<std::int64_t>();
  return fail(path, key, "must be an integer");
}

Decoded<bool> bool_field(const json& object, std::string_view key, std::string_view path,
                         bool fallback) {
  const auto it = object.find(key);
  if (it == object.end()) return fallback;
  if (!it->is_boolean()) return fail(path, key, "must be true or false");
  return it->get<bool>();
}

Decoded<core::Symbol> symbol_field(const json& object, std::string_view key, std::string_view path,
                                   bool required) {
  const auto it = object.find(key);
  if (it == object.end()) {
    if (!required) return core::Symbol{};
    return fail(path, key, "is required");
  }
  if (!it->is_string()) return fail(path, key, "must be a string like \"BTC-USDT\"");
  const auto symbol = core::Symbol::parse(it->get<std::string>());
  if (!symbol) {
    return fail(path, key,
                "'" + it->get<std::string>() +
                    "' is not a symbol (upper-case letters, digits and '-', at most 23)");
  }
  return *symbol;
}

Decoded<core::ClientOrderId> order_field(const json& object, std::string_view key,
                                         std::string_view path, const CodecContext& context) {
  const auto it = object.find(key);
  if (it == object.end()) return fail(path, key, "is required");
  if (!it->is_string()) return fail(path, key, "must be a client order id string");
  const auto id = core::parse_client_order_id(context.order_id_prefix, it->get<std::string>());
  if (!id) {
    return fail(path, key,
                "'" + it->get<std::string>() + "' is not a DITA client order id (" +
                    std::string(context.order_id_prefix) + "s<slot>t<trade>l<leg>a<attempt>)");
  }
  return *id;
}

#define DITA_TRY(var, expr)                                        \
  auto var##_result = (expr);                                      \
  if (!var##_result) return std::unexpected(var##_result.error()); \
  auto var = *var##_result

json detail_value(const core::DiagnosticDetail& detail) {
  switch (detail.type) {
    case core::DiagnosticDetail::Type::kInt:
      return detail.value;
    case core::DiagnosticDetail::Type::kDecimal:
      return core::format_decimal(detail.value);
    case core::DiagnosticDetail::Type::kBool:
      return detail.value != 0;
    case core::DiagnosticDetail::Type::kText:
      return str(detail.text);
  }
  return nullptr;
}

}  // namespace

Decoded<std::int64_t> decimal_field(const json& object, std::string_view key, std::string_view path,
                                    bool required, bool allow_negative) {
  const auto it = object.find(key);
  if (it == object.end()) {
    if (!required) return std::int64_t{0};
    return fail(path, key, "is required");
  }
  std::string text;
  if (it->is_string()) {
    text = it->get<std::string>();
  } else if (it->is_number_integer()) {
    text = it->dump();
  } else if (it->is_number_float()) {
    const double value = it->get<double>();
    if (!std::isfinite(value)) return fail(path, key, "must be a finite number");
    char buffer[64];
    const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
    text.assign(buffer, result.ptr);
  } else {
    return fail(path, key, "must be a decimal string or number");
  }
  const auto units = core::parse_decimal(text);
  if (!units) {
    return fail(
        path, key,
        "'" + text + "' is not a finite decimal (" + str(core::to_string(units.error())) + ")");
  }
  if (!allow_negative && *units < 0) return fail(path, key, "must not be negative");
  return *units;
}

std::string canonical(const json& value) {
  return value.dump();
}

json to_json(const core::KernelInput& input, const CodecContext& context) {
  json out;
  out["ts_ns"] = input.ts_ns;
  struct Visitor {
    json& out;
    const CodecContext& context;
    void operator()(const core::KernelIntent& intent) const {
      out["kind"] = "INTENT";
      json body;
      body["type"] = str(to_string(intent.kind));
      body["intent_id"] = intent.intent_id;
      body["slot"] = intent.slot;
      if (intent.kind == core::KernelIntentKind::kEnter) {
        body["asset"] = str(intent.asset.view());
        body["side"] = str(to_string(intent.side));
        body["leverage"] = intent.leverage;
      }
      if (intent.kind != core::KernelIntentKind::kCancel) {
        body["size"] = core::to_string(intent.size);
        body["price"] = core::to_string(intent.price);
      }
      out["intent"] = std::move(body);
    }
    void operator()(const core::VenueEvent& event) const {
      out["kind"] = "VENUE_EVENT";
      json body;
      body["type"] = str(to_string(event.kind));
      if (event.kind == core::KernelEventKind::kMarkPrice) {
        body["symbol"] = str(event.symbol.view());
        body["mark_price"] = core::to_string(event.mark_price);
      } else {
        body["event_id"] = event.event_id;
        body["slot"] = event.slot;
        body["order"] = order_id_text(event.order, context);
        body["venue_order_id"] = event.venue_order_id;
        body["cumulative_filled"] = core::to_string(event.cumulative_filled);
        body["average_price"] = core::to_string(event.average_price);
        body["cumulative_fee"] = core::to_string(event.cumulative_fee);
        body["status"] = str(to_string(event.status));
        body["command"] = str(to_string(event.command));
        body["venue_code"] = event.venue_code;
        body["retry_after_ms"] = event.retry_after_ms;
      }
      out["event"] = std::move(body);
    }
    void operator()(const core::Tick&) const { out["kind"] = "TICK"; }
    void operator()(const core::SeedCapital& seed) const {
      out["kind"] = "SEED_CAPITAL";
      out["capital"] = core::to_string(seed.capital);
    }
    void operator()(const core::ReconcileBegin& begin) const {
      out["kind"] = "RECONCILE_BEGIN";
      out["slot"] = begin.slot;
    }
    void operator()(const core::ReconcileComplete& truth) const {
      out["kind"] = "RECONCILE_COMPLETE";
      out["slot"] = truth.slot;
      out["venue_position"] = core::to_string(truth.venue_position);
      out["venue_entry_price"] = core::to_string(truth.venue_entry_price);
      out["working_order_open"] = truth.working_order_open;
    }
    void operator()(const core::SetActiveSlotLimit& change) const {
      out["kind"] = "SET_ACTIVE_SLOT_LIMIT";
      out["limit"] = change.limit;
    }
  };
  std::visit(Visitor{out, context}, input.payload);
  return out;
}

Decoded<core::KernelInput> input_from_json(const json& value, const CodecContext& context) {
  if (!value.is_object()) return fail("", "", "a kernel input must be a JSON object");
  core::KernelInput input;
  DITA_TRY(ts, signed_field(value, "ts_ns", "", true));
  input.ts_ns = ts;
  const auto kind_it = value.find("kind");
  if (kind_it == value.end() || !kind_it->is_string()) {
    return fail("", "kind",
                "is required: INTENT, VENUE_EVENT, TICK, SEED_CAPITAL, RECONCILE_BEGIN, "
                "RECONCILE_COMPLETE or SET_ACTIVE_SLOT_LIMIT");
  }
  const std::string kind = kind_it->get<std::string>();
  if (kind == "INTENT") {
    const auto body_it = value.find("intent");
    if (body_it == value.end() || !body_it->is_object()) return fail("", "intent", "is required");
    const json& body = *body_it;
    core::KernelIntent intent;
    DITA_TRY(type, enum_field<core::KernelIntentKind>(body, "type", "intent", std::nullopt));
    intent.kind = type;
    DITA_TRY(intent_id, unsigned_field(body, "intent_id", "intent", true,
                                       std::numeric_limits<std::uint64_t>::max()));
    intent.intent_id = intent_id;
    DITA_TRY(slot, unsigned_field(body, "slot", "intent", true, 0xFFFFFFFEU));
    intent.slot = static_cast<std::uint32_t>(slot);
    const bool enter = intent.kind == core::KernelIntentKind::kEnter;
    DITA_TRY(asset, symbol_field(body, "asset", "intent", enter));
    intent.asset = asset;
    DITA_TRY(side, enum_field<core::Side>(body, "side", "intent",
                                          enter ? std::nullopt : std::optional(core::Side::kLong)));
    intent.side = side;
    DITA_TRY(size, decimal_field(body, "size", "intent", enter, true));
    intent.size = core::Quantity::from_units(size);
    DITA_TRY(price, decimal_field(body, "price", "intent", false, true));
    intent.price = core::Price::from_units(price);
    DITA_TRY(leverage, unsigned_field(body, "leverage", "intent", false, 0xFFFF, 1));
    intent.leverage = static_cast<std::uint16_t>(leverage);
    input.payload = intent;
  } else if (kind == "VENUE_EVENT") {
    const auto body_it = value.find("event");
    if (body_it == value.end() || !body_it->is_object()) return fail("", "event", "is required");
    const json& body = *body_it;
    core::VenueEvent event;
    DITA_TRY(type, enum_field<core::KernelEventKind>(body, "type", "event", std::nullopt));
    event.kind = type;
    if (event.kind == core::KernelEventKind::kMarkPrice) {
      DITA_TRY(symbol, symbol_field(body, "symbol", "event", true));
      event.symbol = symbol;
      DITA_TRY(mark, decimal_field(body, "mark_price", "event", true, true));
      event.mark_price = core::Price::from_units(mark);
    } else {
      DITA_TRY(event_id, unsigned_field(body, "event_id", "event", true,
                                        std::numeric_limits<std::uint64_t>::max()));
      event.event_id = event_id;
      DITA_TRY(slot, unsigned_field(body, "slot", "event", true, 0xFFFFFFFEU));
      event.slot = static_cast<std::uint32_t>(slot);
      DITA_TRY(order, order_field(body, "order", "event", context));
      event.order = order;
      DITA_TRY(venue_order_id, signed_field(body, "venue_order_id", "event", false));
      event.venue_order_id = venue_order_id;
      DITA_TRY(filled, decimal_field(body, "cumulative_filled", "event", false, true));
      event.cumulative_filled = core::Quantity::from_units(filled);
      DITA_TRY(average, decimal_field(body, "average_price", "event", false, true));
      event.average_price = core::Price::from_units(average);
      DITA_TRY(fee, decimal_field(body, "cumulative_fee", "event", false, true));
      event.cumulative_fee = core::Money::from_units(fee);
      DITA_TRY(status,
               enum_field<core::OrderStatus>(body, "status", "event", core::OrderStatus::kNew));
      event.status = status;
      DITA_TRY(command, enum_field<core::KernelCommandType>(body, "command", "event",
                                                            core::KernelCommandType::kPlaceOrder));
      event.command = command;
      DITA_TRY(code, signed_field(body, "venue_code", "event", false));
      if (code < std::numeric_limits<std::int32_t>::min() ||
          code > std::numeric_limits<std::int32_t>::max()) {
        return fail("event", "venue_code", "must fit in 32 bits");
      }
      event.venue_code = static_cast<std::int32_t>(code);
      DITA_TRY(retry, signed_field(body, "retry_after_ms", "event", false, -1));
      event.retry_after_ms = retry;
    }
    input.payload = event;
  } else if (kind == "TICK") {
    input.payload = core::Tick{};
  } else if (kind == "SEED_CAPITAL") {
    DITA_TRY(capital, decimal_field(value, "capital", "", true, true));
    input.payload = core::SeedCapital{core::Money::from_units(capital)};
  } else if (kind == "RECONCILE_BEGIN") {
    DITA_TRY(slot, unsigned_field(value, "slot", "", true, 0xFFFFFFFEU));
    input.payload = core::ReconcileBegin{static_cast<std::uint32_t>(slot)};
  } else if (kind == "RECONCILE_COMPLETE") {
    core::ReconcileComplete truth;
    DITA_TRY(slot, unsigned_field(value, "slot", "", true, 0xFFFFFFFEU));
    truth.slot = static_cast<std::uint32_t>(slot);
    DITA_TRY(position, decimal_field(value, "venue_position", "", true, true));
    truth.venue_position = core::Quantity::from_units(position);
    DITA_TRY(price, decimal_field(value, "venue_entry_price", "", false, true));
    truth.venue_entry_price = core::Price::from_units(price);
    DITA_TRY(open, bool_field(value, "working_order_open", "", false));
    truth.working_order_open = open;
    input.payload = truth;
  } else if (kind == "SET_ACTIVE_SLOT_LIMIT") {
    DITA_TRY(limit, unsigned_field(value, "limit", "", true, 0xFFFFFFFFU));
    input.payload = core::SetActiveSlotLimit{static_cast<std::uint32_t>(limit)};
  } else {
    return fail("", "kind", "'" + kind + "' is not a kernel input kind");
  }
  return input;
}

json to_json(const core::KernelTransition& transition) {
  json out;
  out["slot"] = transition.slot;
  out["trade_id"] = transition.trade_id;
  out["from"] = str(to_string(transition.from));
  out["to"] = str(to_string(transition.to));
  out["trigger"] = str(to_string(transition.trigger));
  out["size_after"] = core::to_string(transition.size_after);
  out["realized_pnl_after"] = core::to_string(transition.realized_pnl_after);
  return out;
}

json to_json(const core::KernelDiagnostic& diagnostic) {
  json out;
  out["code"] = str(to_string(diagnostic.code));
  out["severity"] = str(to_string(diagnostic.severity));
  out["slot"] = diagnostic.slot == core::kNoSlot ? json(nullptr) : json(diagnostic.slot);
  out["message"] = str(diagnostic.message);
  json details = json::object();
  for (std::size_t i = 0; i < diagnostic.detail_count; ++i) {
    details[str(diagnostic.details[i].key)] = detail_value(diagnostic.details[i]);
  }
  out["details"] = std::move(details);
  return out;
}

json to_json(const core::VenueCommand& command, const CodecContext& context) {
  json out;
  out["type"] = str(to_string(command.type));
  out["slot"] = command.slot;
  out["client_order_id"] = order_id_text(command.order, context);
  out["venue_order_id"] = command.venue_order_id;
  out["symbol"] = str(command.symbol.view());
  out["side"] = str(to_string(command.side));
  out["position_side"] = str(to_string(command.position_side));
  out["order_type"] = str(to_string(command.order_type));
  out["quantity"] = core::to_string(command.quantity);
  out["price"] = core::to_string(command.price);
  out["reduce_only"] = command.reduce_only;
  out["leverage"] = command.leverage;
  return out;
}

json to_json(const core::AccountSnapshot& account) {
  json out;
  out["capital"] = core::to_string(account.capital);
  out["peak_capital"] = core::to_string(account.peak_capital);
  out["drawdown"] = core::to_string(account.drawdown);
  out["max_drawdown"] = core::to_string(account.max_drawdown);
  out["realized_total"] = core::to_string(account.realized_total);
  out["unrealized_total"] = core::to_string(account.unrealized_total);
  out["trade_seq"] = account.trade_seq;
  out["seeded"] = account.seeded;
  return out;
}

json to_json(const core::KernelOutcome& outcome, const CodecContext& context) {
  json out;
  out["input_seq"] = outcome.input_seq;
  json transitions = json::array();
  for (const auto& transition : outcome.transitions) transitions.push_back(to_json(transition));
  out["transitions"] = std::move(transitions);
  json diagnostics = json::array();
  for (const auto& diagnostic : outcome.diagnostics) diagnostics.push_back(to_json(diagnostic));
  out["diagnostics"] = std::move(diagnostics);
  json commands = json::array();
  for (const auto& command : outcome.commands) commands.push_back(to_json(command, context));
  out["commands"] = std::move(commands);
  out["changed_slots"] = outcome.changed_slots;
  if (outcome.account_changed) out["account"] = to_json(outcome.account);
  return out;
}

json to_json(const core::TradeSlot& slot, const CodecContext& context) {
  json out;
  out["slot"] = slot.slot_id;
  out["stage"] = str(to_string(slot.stage));
  out["trade_id"] = slot.trade_id;
  out["asset"] = str(slot.asset.view());
  out["side"] = str(to_string(slot.side));
  out["leverage"] = slot.leverage;
  out["size"] = core::to_string(slot.size);
  out["entry_filled"] = core::to_string(slot.entry_filled);
  out["entry_price"] = core::to_string(slot.entry_price);
  out["cost_basis"] = core::to_string(slot.cost_basis);
  out["realized_pnl"] = core::to_string(slot.realized_pnl);
  out["unrealized_pnl"] = core::to_string(slot.unrealized_pnl);
  out["fees_paid"] = core::to_string(slot.fees_paid);
  out["mark_price"] = core::to_string(slot.mark_price);
  out["exit_legs_filled"] = slot.exit_legs_filled;
  out["last_input_seq"] = slot.last_input_seq;
  if (slot.stage == core::TradeStage::kStaleStateReconciling) {
    out["stage_before_reconcile"] = str(to_string(slot.stage_before_reconcile));
  }
  json orders = json::array();
  for (std::size_t i = 0; i < slot.order_count; ++i) {
    const core::VenueOrder& order = slot.orders[i];
    json item;
    item["client_order_id"] = order_id_text(order.id, context);
    item["venue_order_id"] = order.venue_order_id;
    item["role"] = str(to_string(order.role));
    item["side"] = str(to_string(order.side));
    item["type"] = str(to_string(order.type));
    item["status"] = str(to_string(order.status));
    item["quantity"] = core::to_string(order.quantity);
    item["price"] = core::to_string(order.limit_price);
    item["filled"] = core::to_string(order.filled);
    item["fee"] = core::to_string(order.fee);
    item["cancel_requested"] = order.cancel_requested;
    item["working"] = static_cast<std::int64_t>(i) == slot.working_order;
    orders.push_back(std::move(item));
  }
  out["orders"] = std::move(orders);
  return out;
}

std::string encode_input(const core::KernelInput& input, const CodecContext& context) {
  return canonical(to_json(input, context));
}

std::string encode_outcome(const core::KernelOutcome& outcome, const CodecContext& context) {
  return canonical(to_json(outcome, context));
}

Decoded<core::KernelInput> decode_input(std::string_view text, const CodecContext& context) {
  json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return fail("", "", "not valid JSON");
  return input_from_json(value, context);
}

json config_to_json(const core::KernelConfig& config) {
  json out;
  out["slot_count"] = config.slot_count;
  out["active_slot_limit"] = config.active_slot_limit;
  out["order_id_prefix"] = str(config.order_id_prefix);
  out["ack_timeout_ns"] = config.ack_timeout_ns;
  out["query_interval_ns"] = config.query_interval_ns;
  out["not_found_confirmations"] = config.not_found_confirmations;
  json instruments = json::array();
  for (const auto& instrument : config.instruments) {
    json item;
    item["symbol"] = str(instrument.symbol.view());
    item["quantity_step"] = core::to_string(instrument.quantity_step);
    item["price_tick"] = core::to_string(instrument.price_tick);
    item["min_quantity"] = core::to_string(instrument.min_quantity);
    instruments.push_back(std::move(item));
  }
  out["instruments"] = std::move(instruments);
  return out;
}

Decoded<core::KernelConfig> config_from_json(const json& value, std::string& prefix_storage) {
  if (!value.is_object()) return fail("", "config", "must be a JSON object");
  core::KernelConfig config;
  DITA_TRY(slots, unsigned_field(value, "slot_count", "config", true, 0xFFFFFFFFU));
  config.slot_count = static_cast<std::uint32_t>(slots);
  DITA_TRY(limit, unsigned_field(value, "active_slot_limit", "config", true, 0xFFFFFFFFU));
  config.active_slot_limit = static_cast<std::uint32_t>(limit);
  const auto prefix = value.find("order_id_prefix");
  if (prefix == value.end() || !prefix->is_string()) {
    return fail("config", "order_id_prefix", "is required");
  }
  prefix_storage = prefix->get<std::string>();
  config.order_id_prefix = prefix_storage;
  DITA_TRY(ack, signed_field(value, "ack_timeout_ns", "config", true));
  config.ack_timeout_ns = ack;
  DITA_TRY(query, signed_field(value, "query_interval_ns", "config", true));
  config.query_interval_ns = query;
  DITA_TRY(confirmations, unsigned_field(value, "not_found_confirmations", "config", true, 0xFFFF));
  config.not_found_confirmations = static_cast<std::uint16_t>(confirmations);
  const auto instruments = value.find("instruments");
  if (instruments == value.end() || !instruments->is_array()) {
    return fail("config", "instruments", "must be an array");
  }
  for (const json& item : *instruments) {
    core::Instrument instrument;
    DITA_TRY(symbol, symbol_field(item, "symbol", "config.instruments", true));
    instrument.symbol = symbol;
    DITA_TRY(step, decimal_field(item, "quantity_step", "config.instruments", true, false));
    instrument.quantity_step = core::Quantity::from_units(step);
    DITA_TRY(tick, decimal_field(item, "price_tick", "config.instruments", true, false));
    instrument.price_tick = core::Price::from_units(tick);
    DITA_TRY(minimum, decimal_field(item, "min_quantity", "config.instruments", true, false));
    instrument.min_quantity = core::Quantity::from_units(minimum);
    config.instruments.push_back(instrument);
  }
  return config;
}

#undef DITA_TRY

}  // namespace dita::codec
