#include "dita/codec/state_codec.hpp"

#include <cstring>
#include <type_traits>

namespace dita::codec {
namespace {

constexpr char kMagic[8] = {'D', 'I', 'T', 'A', 'S', 'T', 'A', 'T'};

class Out {
 public:
  explicit Out(std::string& bytes) : bytes_(bytes) {}
  template <class Int>
  void integer(Int value) {
    static_assert(std::is_integral_v<Int>);
    auto bits = static_cast<std::make_unsigned_t<Int>>(value);
    for (std::size_t i = 0; i < sizeof(Int); ++i) {
      bytes_.push_back(static_cast<char>(bits & 0xFFU));
      if constexpr (sizeof(Int) > 1) bits = static_cast<decltype(bits)>(bits >> 8U);
    }
  }
  void boolean(bool value) { integer<std::uint8_t>(value ? 1 : 0); }
  template <class E>
  void enumerator(E value) {
    integer(static_cast<std::uint8_t>(value));
  }
  template <class Tag>
  void fixed(core::Fixed<Tag> value) {
    integer(value.units());
  }
  void text(std::string_view value) {
    integer(static_cast<std::uint8_t>(value.size()));
    bytes_.append(value);
  }

 private:
  std::string& bytes_;
};

class In {
 public:
  explicit In(std::string_view bytes) : bytes_(bytes) {}
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  std::size_t remaining() const { return bytes_.size() - at_; }

  void fail(std::string field, std::string message) {
    if (error_.empty()) {
      error_ = std::move(message);
      field_ = std::move(field);
    }
  }
  const std::string& field() const { return field_; }

  template <class Int>
  Int integer(const char* field) {
    if (failed()) return Int{};
    if (remaining() < sizeof(Int)) {
      fail(field, "truncated");
      return Int{};
    }
    std::make_unsigned_t<Int> bits = 0;
    for (std::size_t i = 0; i < sizeof(Int); ++i) {
      bits = static_cast<decltype(bits)>(
          bits | static_cast<decltype(bits)>(static_cast<std::uint8_t>(bytes_[at_ + i]))
                     << (8U * i));
    }
    at_ += sizeof(Int);
    return static_cast<Int>(bits);
  }
  bool boolean(const char* field) {
    const auto value = integer<std::uint8_t>(field);
    if (value > 1) fail(field, "is not 0 or 1");
    return value == 1;
  }
  template <class E>
  E enumerator(const char* field) {
    const auto value = integer<std::uint8_t>(field);
    if (value >= core::enum_count<E>()) fail(field, "is not a known value");
    return static_cast<E>(value);
  }
  template <class Value>
  Value fixed(const char* field) {
    return Value::from_units(integer<std::int64_t>(field));
  }
  std::string_view text(const char* field) {
    const auto size = integer<std::uint8_t>(field);
    if (failed()) return {};
    if (remaining() < size) {
      fail(field, "truncated");
      return {};
    }
    const std::string_view value = bytes_.substr(at_, size);
    at_ += size;
    return value;
  }
  core::Symbol symbol(const char* field) {
    const std::string_view value = text(field);
    if (value.empty()) return {};
    const auto symbol = core::Symbol::parse(value);
    if (!symbol || symbol->view() != value) {
      fail(field, "is not a canonical symbol");
      return {};
    }
    return *symbol;
  }
  // A count that cannot exceed `max` (so a corrupt count never allocates gigabytes).
  std::uint32_t count(const char* field, std::uint32_t max) {
    const auto value = integer<std::uint32_t>(field);
    if (value > max) fail(field, "is larger than allowed");
    return failed() ? 0 : value;
  }

 private:
  std::string_view bytes_;
  std::size_t at_ = 0;
  std::string error_;
  std::string field_;
};

void write_order(Out& out, const core::VenueOrder& order) {
  out.integer(order.id.slot);
  out.integer(order.id.trade);
  out.integer(order.id.leg);
  out.integer(order.id.attempt);
  out.integer(order.venue_order_id);
  out.enumerator(order.role);
  out.enumerator(order.side);
  out.enumerator(order.type);
  out.enumerator(order.status);
  out.fixed(order.quantity);
  out.fixed(order.limit_price);
  out.fixed(order.filled);
  out.fixed(order.filled_notional);
  out.fixed(order.fee);
  out.boolean(order.cancel_requested);
  out.integer(order.not_found_count);
  out.integer(order.sent_ts_ns);
  out.integer(order.last_query_ts_ns);
  out.integer(order.last_news_ts_ns);
  out.boolean(order.external);
}

core::VenueOrder read_order(In& in) {
  core::VenueOrder order;
  order.id.slot = in.integer<std::uint32_t>("order.id.slot");
  order.id.trade = in.integer<std::uint32_t>("order.id.trade");
  order.id.leg = in.integer<std::uint16_t>("order.id.leg");
  order.id.attempt = in.integer<std::uint16_t>("order.id.attempt");
  order.venue_order_id = in.integer<std::int64_t>("order.venue_order_id");
  order.role = in.enumerator<core::OrderRole>("order.role");
  order.side = in.enumerator<core::OrderSide>("order.side");
  order.type = in.enumerator<core::OrderType>("order.type");
  order.status = in.enumerator<core::OrderStatus>("order.status");
  order.quantity = in.fixed<core::Quantity>("order.quantity");
  order.limit_price = in.fixed<core::Price>("order.limit_price");
  order.filled = in.fixed<core::Quantity>("order.filled");
  order.filled_notional = in.fixed<core::Money>("order.filled_notional");
  order.fee = in.fixed<core::Money>("order.fee");
  order.cancel_requested = in.boolean("order.cancel_requested");
  order.not_found_count = in.integer<std::uint16_t>("order.not_found_count");
  order.sent_ts_ns = in.integer<std::int64_t>("order.sent_ts_ns");
  order.last_query_ts_ns = in.integer<std::int64_t>("order.last_query_ts_ns");
  order.last_news_ts_ns = in.integer<std::int64_t>("order.last_news_ts_ns");
  order.external = in.boolean("order.external");
  return order;
}

void write_slot(Out& out, const core::TradeSlot& slot) {
  out.integer(slot.slot_id);
  out.enumerator(slot.stage);
  out.enumerator(slot.stage_before_reconcile);
  out.integer(slot.trade_id);
  out.text(slot.asset.view());
  out.enumerator(slot.side);
  out.integer(slot.leverage);
  out.fixed(slot.size);
  out.fixed(slot.entry_filled);
  out.fixed(slot.entry_notional);
  out.fixed(slot.entry_price);
  out.fixed(slot.cost_basis);
  out.fixed(slot.realized_pnl);
  out.fixed(slot.settled_pnl);
  out.boolean(slot.settled);
  out.fixed(slot.unrealized_pnl);
  out.fixed(slot.fees_paid);
  out.fixed(slot.funding_pnl);
  out.fixed(slot.mark_price);
  out.integer(slot.next_exit_leg);
  out.integer(slot.exit_legs_filled);
  out.integer(slot.entry_attempt);
  out.integer(slot.exit_attempt);
  out.integer(slot.working_order);
  out.integer(slot.order_count);
  for (std::size_t i = 0; i < slot.order_count && i < slot.orders.size(); ++i) {
    write_order(out, slot.orders[i]);
  }
  for (const std::uint64_t id : slot.seen_event_ids) out.integer(id);
  out.integer(slot.seen_event_next);
  out.integer(slot.opened_ts_ns);
  out.integer(slot.closed_ts_ns);
  out.integer(slot.last_input_seq);
  out.integer(slot.reconcile_run);
  out.integer(slot.reconcile_strikes);
  out.boolean(slot.reconcile_blocked);
  out.boolean(slot.adopted);
}

core::TradeSlot read_slot(In& in) {
  core::TradeSlot slot;
  slot.slot_id = in.integer<std::uint32_t>("slot.slot_id");
  slot.stage = in.enumerator<core::TradeStage>("slot.stage");
  slot.stage_before_reconcile = in.enumerator<core::TradeStage>("slot.stage_before_reconcile");
  slot.trade_id = in.integer<std::uint32_t>("slot.trade_id");
  slot.asset = in.symbol("slot.asset");
  slot.side = in.enumerator<core::Side>("slot.side");
  slot.leverage = in.integer<std::uint16_t>("slot.leverage");
  slot.size = in.fixed<core::Quantity>("slot.size");
  slot.entry_filled = in.fixed<core::Quantity>("slot.entry_filled");
  slot.entry_notional = in.fixed<core::Money>("slot.entry_notional");
  slot.entry_price = in.fixed<core::Price>("slot.entry_price");
  slot.cost_basis = in.fixed<core::Money>("slot.cost_basis");
  slot.realized_pnl = in.fixed<core::Money>("slot.realized_pnl");
  slot.settled_pnl = in.fixed<core::Money>("slot.settled_pnl");
  slot.settled = in.boolean("slot.settled");
  slot.unrealized_pnl = in.fixed<core::Money>("slot.unrealized_pnl");
  slot.fees_paid = in.fixed<core::Money>("slot.fees_paid");
  slot.funding_pnl = in.fixed<core::Money>("slot.funding_pnl");
  slot.mark_price = in.fixed<core::Price>("slot.mark_price");
  slot.next_exit_leg = in.integer<std::uint16_t>("slot.next_exit_leg");
  slot.exit_legs_filled = in.integer<std::uint16_t>("slot.exit_legs_filled");
  slot.entry_attempt = in.integer<std::uint16_t>("slot.entry_attempt");
  slot.exit_attempt = in.integer<std::uint16_t>("slot.exit_attempt");
  slot.working_order = in.integer<std::int8_t>("slot.working_order");
  slot.order_count = in.integer<std::uint8_t>("slot.order_count");
  if (slot.order_count > core::kMaxOrdersPerTrade) {
    in.fail("slot.order_count", "is larger than allowed");
    return slot;
  }
  for (std::size_t i = 0; i < slot.order_count; ++i) slot.orders[i] = read_order(in);
  for (std::uint64_t& id : slot.seen_event_ids)
    id = in.integer<std::uint64_t>("slot.seen_event_ids");
  slot.seen_event_next = in.integer<std::uint8_t>("slot.seen_event_next");
  slot.opened_ts_ns = in.integer<std::int64_t>("slot.opened_ts_ns");
  slot.closed_ts_ns = in.integer<std::int64_t>("slot.closed_ts_ns");
  slot.last_input_seq = in.integer<std::uint64_t>("slot.last_input_seq");
  slot.reconcile_run = in.integer<std::uint64_t>("slot.reconcile_run");
  slot.reconcile_strikes = in.integer<std::uint8_t>("slot.reconcile_strikes");
  slot.reconcile_blocked = in.boolean("slot.reconcile_blocked");
  slot.adopted = in.boolean("slot.adopted");
  return slot;
}

void write_account(Out& out, const core::AccountSnapshot& account) {
  out.fixed(account.capital);
  out.fixed(account.peak_capital);
  out.fixed(account.drawdown);
  out.fixed(account.max_drawdown);
  out.fixed(account.realized_total);
  out.fixed(account.unrealized_total);
  out.fixed(account.funding_total);
  out.integer(account.trade_seq);
  out.boolean(account.seeded);
  out.boolean(account.venue_banned);
  out.integer(account.venue_banned_until_ns);
}

core::AccountSnapshot read_account(In& in) {
  core::AccountSnapshot account;
  account.capital = in.fixed<core::Money>("account.capital");
  account.peak_capital = in.fixed<core::Money>("account.peak_capital");
  account.drawdown = in.fixed<core::Money>("account.drawdown");
  account.max_drawdown = in.fixed<core::Money>("account.max_drawdown");
  account.realized_total = in.fixed<core::Money>("account.realized_total");
  account.unrealized_total = in.fixed<core::Money>("account.unrealized_total");
  account.funding_total = in.fixed<core::Money>("account.funding_total");
  account.trade_seq = in.integer<std::uint64_t>("account.trade_seq");
  account.seeded = in.boolean("account.seeded");
  account.venue_banned = in.boolean("account.venue_banned");
  account.venue_banned_until_ns = in.integer<std::int64_t>("account.venue_banned_until_ns");
  return account;
}

constexpr std::uint32_t kMaxCount = 1U << 20;

}  // namespace

std::string encode_state(const core::KernelState& state) {
  std::string bytes(kMagic, sizeof(kMagic));
  bytes.reserve(64 + state.slots.size() * 1600 + state.intents.size() * 40);
  Out out(bytes);
  out.integer(kStateFormatVersion);
  out.integer(static_cast<std::uint32_t>(state.slots.size()));
  for (const core::TradeSlot& slot : state.slots) write_slot(out, slot);
  out.integer(static_cast<std::uint32_t>(state.marks.size()));
  for (const core::Price mark : state.marks) out.fixed(mark);
  write_account(out, state.account);
  out.integer(state.active_slot_limit);
  out.integer(state.input_seq);
  out.integer(static_cast<std::uint32_t>(state.intents.size()));
  for (const core::IntentMemo& memo : state.intents) {
    out.integer(memo.id_hash);
    out.integer(memo.payload_hash);
    out.integer(memo.input_seq);
    out.boolean(memo.accepted);
    out.enumerator(memo.code);
    out.boolean(memo.has_code);
    out.enumerator(memo.stage_after);
  }
  out.integer(state.intents_next);
  out.integer(state.intents_count);
  out.integer(static_cast<std::uint32_t>(state.fact_ids.size()));
  for (const std::uint64_t id : state.fact_ids) out.integer(id);
  out.integer(state.fact_ids_next);
  out.integer(static_cast<std::uint32_t>(state.blocks.size()));
  for (const core::SymbolBlock& block : state.blocks) {
    out.text(block.symbol.view());
    out.enumerator(block.side);
    out.boolean(block.netting);
    out.fixed(block.venue_quantity);
    out.fixed(block.venue_entry_price);
  }
  const core::ReconcileRun& run = state.run;
  out.boolean(run.active);
  out.integer(run.run_id);
  out.integer(run.slot);
  out.enumerator(run.reason);
  out.boolean(run.netting);
  out.integer(static_cast<std::uint32_t>(run.positions.size()));
  for (const core::ReconcilePosition& position : run.positions) {
    out.integer(position.run_id);
    out.text(position.symbol.view());
    out.enumerator(position.side);
    out.fixed(position.quantity);
    out.fixed(position.entry_price);
  }
  return bytes;
}

Decoded<core::KernelState> decode_state(std::string_view bytes) {
  if (bytes.size() < sizeof(kMagic) || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    return std::unexpected(CodecError{"state.magic", "not a DITA kernel state"});
  }
  In in(bytes.substr(sizeof(kMagic)));
  const auto version = in.integer<std::uint32_t>("state.version");
  if (!in.failed() && version != kStateFormatVersion) {
    return std::unexpected(CodecError{"state.version", "format version " + std::to_string(version) +
                                                           " is not " +
                                                           std::to_string(kStateFormatVersion)});
  }
  core::KernelState state;
  const std::uint32_t slots = in.count("state.slots", core::Kernel::kMaxSlots);
  state.slots.reserve(slots);
  for (std::uint32_t i = 0; i < slots && !in.failed(); ++i) state.slots.push_back(read_slot(in));
  const std::uint32_t marks = in.count("state.marks", kMaxCount);
  for (std::uint32_t i = 0; i < marks && !in.failed(); ++i) {
    state.marks.push_back(in.fixed<core::Price>("state.marks"));
  }
  state.account = read_account(in);
  state.active_slot_limit = in.integer<std::uint32_t>("state.active_slot_limit");
  state.input_seq = in.integer<std::uint64_t>("state.input_seq");
  const std::uint32_t intents = in.count("state.intents", kMaxCount);
  state.intents.reserve(intents);
  for (std::uint32_t i = 0; i < intents && !in.failed(); ++i) {
    core::IntentMemo memo;
    memo.id_hash = in.integer<std::uint64_t>("intent.id_hash");
    memo.payload_hash = in.integer<std::uint64_t>("intent.payload_hash");
    memo.input_seq = in.integer<std::uint64_t>("intent.input_seq");
    memo.accepted = in.boolean("intent.accepted");
    memo.code = in.enumerator<core::KernelDiagnosticCode>("intent.code");
    memo.has_code = in.boolean("intent.has_code");
    memo.stage_after = in.enumerator<core::TradeStage>("intent.stage_after");
    state.intents.push_back(memo);
  }
  state.intents_next = in.integer<std::uint32_t>("state.intents_next");
  state.intents_count = in.integer<std::uint32_t>("state.intents_count");
  const std::uint32_t facts = in.count("state.fact_ids", kMaxCount);
  for (std::uint32_t i = 0; i < facts && !in.failed(); ++i) {
    state.fact_ids.push_back(in.integer<std::uint64_t>("state.fact_ids"));
  }
  state.fact_ids_next = in.integer<std::uint32_t>("state.fact_ids_next");
  const std::uint32_t blocks = in.count("state.blocks", core::Kernel::kMaxSymbolBlocks);
  for (std::uint32_t i = 0; i < blocks && !in.failed(); ++i) {
    core::SymbolBlock block;
    block.symbol = in.symbol("block.symbol");
    block.side = in.enumerator<core::Side>("block.side");
    block.netting = in.boolean("block.netting");
    block.venue_quantity = in.fixed<core::Quantity>("block.venue_quantity");
    block.venue_entry_price = in.fixed<core::Price>("block.venue_entry_price");
    state.blocks.push_back(block);
  }
  core::ReconcileRun& run = state.run;
  run.active = in.boolean("run.active");
  run.run_id = in.integer<std::uint64_t>("run.run_id");
  run.slot = in.integer<std::uint32_t>("run.slot");
  run.reason = in.enumerator<core::ReconcileReason>("run.reason");
  run.netting = in.boolean("run.netting");
  const std::uint32_t positions = in.count("run.positions", kMaxCount);
  for (std::uint32_t i = 0; i < positions && !in.failed(); ++i) {
    core::ReconcilePosition position;
    position.run_id = in.integer<std::uint64_t>("position.run_id");
    position.symbol = in.symbol("position.symbol");
    position.side = in.enumerator<core::Side>("position.side");
    position.quantity = in.fixed<core::Quantity>("position.quantity");
    position.entry_price = in.fixed<core::Price>("position.entry_price");
    run.positions.push_back(position);
  }
  if (!in.failed() && in.remaining() != 0) in.fail("state", "has trailing bytes");
  if (in.failed()) return std::unexpected(CodecError{in.field(), in.error()});
  return state;
}

}  // namespace dita::codec
