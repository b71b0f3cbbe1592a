#include "dita/runtime/state_image.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace dita::runtime {
namespace {

constexpr std::uint16_t kMaxLeverage = 125;  // BingX's maximum, as the kernel checks it

template <std::size_t N>
void copy_text(std::string_view text, char (&out)[N]) {
  std::memset(out, 0, N);
  std::memcpy(out, text.data(), std::min(text.size(), N - 1));
}

// A text field of a record from shared memory: must be NUL-terminated inside the field.
template <std::size_t N>
std::optional<std::string_view> read_text(const char (&field)[N]) {
  const void* end = std::memchr(field, '\0', N);
  if (end == nullptr) return std::nullopt;
  return std::string_view(field, static_cast<std::size_t>(static_cast<const char*>(end) - field));
}

template <class E>
std::string enum_name(std::uint8_t code) {
  return std::string(core::to_string(static_cast<E>(code)));
}

std::string decimal(std::int64_t units) {
  return core::format_decimal(units);
}

IntentRecordError bad(std::string field, std::string message) {
  return IntentRecordError{std::move(field), std::move(message)};
}

std::expected<std::int64_t, IntentRecordError> parse_units(std::string_view field,
                                                           std::string_view text) {
  const auto parsed = core::parse_decimal(text);
  if (!parsed) {
    return std::unexpected(
        bad(std::string(field), "'" + std::string(text) + "' is not a decimal number (" +
                                    std::string(core::to_string(parsed.error())) + ")"));
  }
  return *parsed;
}

}  // namespace

void write_slot_image(const core::TradeSlot& slot, std::string_view prefix, SlotImage& out) {
  out = SlotImage{};
  out.slot_id = slot.slot_id;
  out.trade_id = slot.trade_id;
  out.stage = static_cast<std::uint8_t>(slot.stage);
  out.stage_before_reconcile = static_cast<std::uint8_t>(slot.stage_before_reconcile);
  out.side = static_cast<std::uint8_t>(slot.side);
  out.leverage = slot.leverage;
  out.exit_legs_filled = slot.exit_legs_filled;
  copy_text(slot.asset.view(), out.asset);
  out.size = slot.size.units();
  out.entry_price = slot.entry_price.units();
  out.realized_pnl = slot.realized_pnl.units();
  out.unrealized_pnl = slot.unrealized_pnl.units();
  out.fees_paid = slot.fees_paid.units();
  out.mark_price = slot.mark_price.units();
  out.opened_ts_ns = slot.opened_ts_ns;
  out.closed_ts_ns = slot.closed_ts_ns;
  out.last_input_seq = slot.last_input_seq;
  std::uint8_t flags = slot.settled ? DITA_SLOT_FLAG_SETTLED : 0U;
  if (slot.working_order >= 0 && static_cast<std::size_t>(slot.working_order) < slot.order_count) {
    const core::VenueOrder& order = slot.orders[static_cast<std::size_t>(slot.working_order)];
    flags |= DITA_SLOT_FLAG_WORKING_ORDER;
    if (order.cancel_requested) flags |= DITA_SLOT_FLAG_CANCEL_REQUESTED;
    out.order_status = static_cast<std::uint8_t>(order.status);
    out.order_role = static_cast<std::uint8_t>(order.role);
    out.order_side = static_cast<std::uint8_t>(order.side);
    out.order_type = static_cast<std::uint8_t>(order.type);
    out.order_leg = order.id.leg;
    out.order_attempt = order.id.attempt;
    out.order_quantity = order.quantity.units();
    out.order_price = order.limit_price.units();
    out.order_filled = order.filled.units();
    out.venue_order_id = order.venue_order_id;
    core::ClientOrderIdText text{};
    const std::size_t length = core::format_client_order_id(prefix, order.id, text);
    copy_text(std::string_view(text.data(), length), out.client_order_id);
  }
  out.flags = flags;
}

void write_account_image(const core::AccountSnapshot& account, AccountImage& out) {
  out = AccountImage{};
  out.capital = account.capital.units();
  out.peak_capital = account.peak_capital.units();
  out.drawdown = account.drawdown.units();
  out.max_drawdown = account.max_drawdown.units();
  out.realized_total = account.realized_total.units();
  out.unrealized_total = account.unrealized_total.units();
  out.trade_seq = account.trade_seq;
  out.seeded = account.seeded ? 1 : 0;
}

void write_kernel_header(const core::Kernel& kernel, dita_state_header& out) {
  out.layout_version = DITA_STATE_LAYOUT_VERSION;
  out.slot_count = kernel.slot_count();
  out.inputs_processed = kernel.inputs_processed();
  out.active_slot_limit = kernel.active_slot_limit();
}

std::string_view state_status_name(std::uint32_t status) {
  switch (status) {
    case DITA_STATE_STATUS_STARTING:
      return "STARTING";
    case DITA_STATE_STATUS_RUNNING:
      return "RUNNING";
    case DITA_STATE_STATUS_STOPPED:
      return "STOPPED";
    default:
      return "UNKNOWN";
  }
}

std::string_view sink_state_name(std::uint32_t state) {
  switch (state) {
    case DITA_SINK_STATE_DISABLED:
      return "DISABLED";
    case DITA_SINK_STATE_UP:
      return "UP";
    case DITA_SINK_STATE_DEGRADED:
      return "DEGRADED";
    case DITA_SINK_STATE_DOWN:
      return "DOWN";
    default:
      return "UNKNOWN";
  }
}

nlohmann::json to_json(const SinkImage& sink) {
  nlohmann::json out;
  out["state"] = std::string(sink_state_name(sink.state));
  out["spool_depth"] = sink.spool_depth;
  out["delivered_records"] = sink.delivered_records;
  out["failures"] = sink.failures;
  out["consecutive_failures"] = sink.consecutive_failures;
  out["last_error"] = std::string(read_text(sink.last_error).value_or(""));
  return out;
}

nlohmann::json sinks_to_json(const StateImage& image) {
  return {{"clickhouse", to_json(image.sinks[DITA_STATE_SINK_CLICKHOUSE])},
          {"hazelcast", to_json(image.sinks[DITA_STATE_SINK_HAZELCAST])}};
}

nlohmann::json to_json(const SlotImage& slot) {
  nlohmann::json out;
  out["slot"] = slot.slot_id;
  out["stage"] = enum_name<core::TradeStage>(slot.stage);
  out["trade_id"] = slot.trade_id;
  out["asset"] = std::string(read_text(slot.asset).value_or(""));
  out["side"] = enum_name<core::Side>(slot.side);
  out["leverage"] = slot.leverage;
  out["size"] = decimal(slot.size);
  out["entry_price"] = decimal(slot.entry_price);
  out["realized_pnl"] = decimal(slot.realized_pnl);
  out["unrealized_pnl"] = decimal(slot.unrealized_pnl);
  out["fees_paid"] = decimal(slot.fees_paid);
  out["mark_price"] = decimal(slot.mark_price);
  out["exit_legs_filled"] = slot.exit_legs_filled;
  out["settled"] = (slot.flags & DITA_SLOT_FLAG_SETTLED) != 0;
  out["last_input_seq"] = slot.last_input_seq;
  if (slot.stage == static_cast<std::uint8_t>(core::TradeStage::kStaleStateReconciling)) {
    out["stage_before_reconcile"] = enum_name<core::TradeStage>(slot.stage_before_reconcile);
  }
  if ((slot.flags & DITA_SLOT_FLAG_WORKING_ORDER) != 0) {
    nlohmann::json order;
    order["client_order_id"] = std::string(read_text(slot.client_order_id).value_or(""));
    order["venue_order_id"] = slot.venue_order_id;
    order["status"] = enum_name<core::OrderStatus>(slot.order_status);
    order["role"] = enum_name<core::OrderRole>(slot.order_role);
    order["side"] = enum_name<core::OrderSide>(slot.order_side);
    order["type"] = enum_name<core::OrderType>(slot.order_type);
    order["quantity"] = decimal(slot.order_quantity);
    order["price"] = decimal(slot.order_price);
    order["filled"] = decimal(slot.order_filled);
    order["cancel_requested"] = (slot.flags & DITA_SLOT_FLAG_CANCEL_REQUESTED) != 0;
    out["working_order"] = std::move(order);
  } else {
    out["working_order"] = nullptr;
  }
  return out;
}

nlohmann::json to_json(const AccountImage& account) {
  nlohmann::json out;
  out["capital"] = decimal(account.capital);
  out["peak_capital"] = decimal(account.peak_capital);
  out["drawdown"] = decimal(account.drawdown);
  out["max_drawdown"] = decimal(account.max_drawdown);
  out["realized_total"] = decimal(account.realized_total);
  out["unrealized_total"] = decimal(account.unrealized_total);
  out["trade_seq"] = account.trade_seq;
  out["seeded"] = account.seeded != 0;
  return out;
}

nlohmann::json header_to_json(const dita_state_header& header) {
  nlohmann::json out;
  out["layout_version"] = header.layout_version;
  out["status"] = std::string(state_status_name(header.status));
  out["slot_count"] = header.slot_count;
  out["active_slot_limit"] = header.active_slot_limit;
  out["inputs_processed"] = header.inputs_processed;
  out["journal_sequence"] = header.journal_sequence;
  out["intents_handled"] = header.intents_handled;
  out["control_change_seq"] = header.control_change_seq;
  out["kernel_pid"] = header.kernel_pid;
  out["updated_real_ns"] = header.updated_real_ns;
  return out;
}

std::expected<IntentRecord, IntentRecordError> make_intent_record(const IntentArgs& args,
                                                                  std::uint32_t slot_count) {
  IntentRecord record{};
  record.kind = static_cast<std::uint8_t>(args.kind);
  if (args.slot < 0 || args.slot >= static_cast<std::int64_t>(slot_count)) {
    return std::unexpected(
        bad("slot", std::to_string(args.slot) + " is not a slot of this kernel (0.." +
                        std::to_string(slot_count == 0 ? 0 : slot_count - 1) + ")"));
  }
  record.slot = static_cast<std::uint32_t>(args.slot);
  if (args.kind == core::KernelIntentKind::kEnter) {
    const auto symbol = core::Symbol::parse(args.asset);
    if (!symbol) {
      return std::unexpected(bad("asset", "'" + args.asset +
                                              "' is not a symbol (upper-case letters, digits and "
                                              "'-', e.g. BTC-USDT or BTCUSDT)"));
    }
    copy_text(symbol->view(), record.asset);
    const auto side = core::parse_enum<core::Side>(args.side);
    if (!side) {
      return std::unexpected(bad("side", "'" + args.side + "' is not one of: LONG, SHORT"));
    }
    record.side = static_cast<std::uint8_t>(*side);
    if (!args.size) return std::unexpected(bad("size", "ENTER needs --size"));
    const std::int64_t leverage = args.leverage.value_or(1);
    if (leverage < 1 || leverage > kMaxLeverage) {
      return std::unexpected(
          bad("leverage", std::to_string(leverage) + " is not between 1 and 125"));
    }
    record.leverage = static_cast<std::uint16_t>(leverage);
  } else {
    record.leverage = 1;
  }
  if (args.size) {
    if (args.kind == core::KernelIntentKind::kCancel) {
      return std::unexpected(bad("size", "CANCEL takes no size"));
    }
    auto units = parse_units("size", *args.size);
    if (!units) return std::unexpected(units.error());
    const bool enter = args.kind == core::KernelIntentKind::kEnter;
    if (*units < 0 || (enter && *units == 0)) {
      return std::unexpected(
          bad("size", "'" + *args.size + "' must be " +
                          (enter ? "positive" : "zero (everything) or positive")));
    }
    record.size = *units;
  }
  if (args.price) {
    if (args.kind == core::KernelIntentKind::kCancel) {
      return std::unexpected(bad("price", "CANCEL takes no price"));
    }
    auto units = parse_units("price", *args.price);
    if (!units) return std::unexpected(units.error());
    if (*units < 0) {
      return std::unexpected(
          bad("price", "'" + *args.price + "' must be zero (market) or positive"));
    }
    record.price = *units;
  }
  return record;
}

std::expected<core::KernelIntent, IntentRecordError> intent_from_record(
    const IntentRecord& record, std::uint32_t producer_id, std::uint64_t producer_seq) {
  if (producer_id > kMaxIntentProducerId) {
    return std::unexpected(bad("producer_id", std::to_string(producer_id) + " exceeds " +
                                                  std::to_string(kMaxIntentProducerId)));
  }
  if (producer_seq == 0 || producer_seq > kMaxIntentSeq) {
    return std::unexpected(
        bad("producer_seq", std::to_string(producer_seq) + " is not between 1 and 2^40-1"));
  }
  if (record.producer_seq != 0 &&
      (record.producer_seq != producer_seq || record.producer_id != producer_id)) {
    return std::unexpected(bad(
        "producer_seq", "payload names producer " + std::to_string(record.producer_id) + " seq " +
                            std::to_string(record.producer_seq) + ", the queue tag producer " +
                            std::to_string(producer_id) + " seq " + std::to_string(producer_seq)));
  }
  if (record.kind >= core::enum_count<core::KernelIntentKind>()) {
    return std::unexpected(bad("kind", std::to_string(record.kind) + " is not 0..2"));
  }
  core::KernelIntent intent;
  intent.kind = static_cast<core::KernelIntentKind>(record.kind);
  intent.id = make_intent_id(producer_id, producer_seq);
  intent.slot = record.slot;
  intent.size = core::Quantity::from_units(record.size);
  intent.price = core::Price::from_units(record.price);
  intent.leverage = record.leverage;
  if (intent.kind == core::KernelIntentKind::kEnter) {
    if (record.side >= core::enum_count<core::Side>()) {
      return std::unexpected(bad("side", std::to_string(record.side) + " is not 0 or 1"));
    }
    intent.side = static_cast<core::Side>(record.side);
    const auto text = read_text(record.asset);
    if (!text) return std::unexpected(bad("asset", "not NUL-terminated within 24 bytes"));
    const auto symbol = core::Symbol::parse(*text);
    if (!symbol) {
      return std::unexpected(bad("asset", "'" + std::string(*text) + "' is not a symbol"));
    }
    intent.asset = *symbol;
  }
  return intent;
}

nlohmann::json to_json(const IntentRecord& record) {
  nlohmann::json out;
  out["kind"] = record.kind < core::enum_count<core::KernelIntentKind>()
                    ? enum_name<core::KernelIntentKind>(record.kind)
                    : std::to_string(record.kind);
  out["slot"] = record.slot;
  const auto asset = read_text(record.asset);
  out["asset"] = std::string(asset.value_or(""));
  out["side"] = record.side < core::enum_count<core::Side>() ? enum_name<core::Side>(record.side)
                                                             : std::to_string(record.side);
  out["size"] = decimal(record.size);
  out["price"] = decimal(record.price);
  out["leverage"] = record.leverage;
  return out;
}

core::ClientIntentId make_intent_id(std::uint32_t producer_id, std::uint64_t seq) {
  const std::string text = "q" + std::to_string(producer_id) + "." + std::to_string(seq);
  return *core::ClientIntentId::parse(text);  // at most 1 + 8 + 1 + 13 characters
}

std::optional<QueueIntent> parse_queue_intent_id(const core::ClientIntentId& id) {
  const std::string_view text = id.view();
  if (text.size() < 4 || text.front() != 'q') return std::nullopt;
  const std::size_t dot = text.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  QueueIntent out;
  const auto parse = [](std::string_view digits, std::uint64_t max, std::uint64_t& value) {
    if (digits.empty() || (digits.size() > 1 && digits.front() == '0')) return false;
    const auto result = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    return result.ec == std::errc{} && result.ptr == digits.data() + digits.size() && value <= max;
  };
  std::uint64_t producer = 0;
  if (!parse(text.substr(1, dot - 1), kMaxIntentProducerId, producer) ||
      !parse(text.substr(dot + 1), kMaxIntentSeq, out.seq) || out.seq == 0) {
    return std::nullopt;
  }
  out.producer_id = static_cast<std::uint32_t>(producer);
  return out;
}

}  // namespace dita::runtime
