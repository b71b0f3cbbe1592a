// dita/core/contracts.hpp
//
// Owns the kernel's data contracts (reference §4): what goes in (intents, venue events,
// ticks, reconcile truth), what comes out (transitions, diagnostics, venue commands,
// account changes) and the state in between (slots, orders, account). All of it is plain
// data with fixed capacity: no heap, no strings owned, so the hot path never allocates
// and a slot image can be copied into shared memory as is.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>
#include <vector>

#include "dita/core/enums.hpp"
#include "dita/core/fixed_point.hpp"

namespace dita::core {

inline constexpr std::uint32_t kNoSlot = 0xFFFFFFFFU;

// A venue symbol in BingX's canonical form ("BTC-USDT"), stored inline.
class Symbol {
 public:
  static constexpr std::size_t kMaxLength = 23;
  constexpr Symbol() = default;
  // Accepts upper-case letters, digits and '-'; "BTCUSDT" is normalised to "BTC-USDT".
  static std::optional<Symbol> parse(std::string_view text);
  std::string_view view() const { return {chars_.data(), length_}; }
  bool empty() const { return length_ == 0; }
  bool operator==(const Symbol& other) const { return view() == other.view(); }

 private:
  std::array<char, kMaxLength + 1> chars_{};
  std::uint8_t length_ = 0;
};

// A short text token of a fixed character set, stored inline (no heap, trivially copyable),
// so every value it can hold is valid: whatever reaches the kernel can be journaled and
// replayed. `Allowed` is the character rule; parse() refuses anything else.
template <std::size_t MaxLength, bool (*Allowed)(char)>
class BoundedToken {
 public:
  static constexpr std::size_t kMaxLength = MaxLength;
  constexpr BoundedToken() = default;
  static std::optional<BoundedToken> parse(std::string_view text) {
    if (text.size() > MaxLength) return std::nullopt;
    BoundedToken token;
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (!Allowed(text[i])) return std::nullopt;
      token.chars_[i] = text[i];
    }
    token.length_ = static_cast<std::uint8_t>(text.size());
    return token;
  }
  std::string_view view() const { return {chars_.data(), length_}; }
  bool empty() const { return length_ == 0; }
  bool operator==(const BoundedToken& other) const { return view() == other.view(); }

 private:
  std::array<char, MaxLength + 1> chars_{};
  std::uint8_t length_ = 0;
};

constexpr bool is_intent_id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == ':' || c == '-';
}
constexpr bool is_reason_char(char c) {
  return is_intent_id_char(c) || c == ' ' || c == '/' || c == '=' || c == '+';
}

// The sender's identity of one intent: chosen by the strategy (or generated for it), 1-40 of
// [A-Za-z0-9._:-]. The kernel remembers recent ids: the same id again is ALREADY_APPLIED (same
// payload) or INTENT_ID_REUSED (another payload), never applied twice.
using ClientIntentId = BoundedToken<40, is_intent_id_char>;
// The strategy's reason for an intent ("tp_hit", "signal:breakout"), 0-31 characters; it only
// explains (journal, rows), never decides.
using ReasonTag = BoundedToken<31, is_reason_char>;

// Client order ids are pure functions of (slot, trade, leg, attempt), so a restarted or
// replayed kernel mints exactly the same ids and never a second venue order for one leg.
struct ClientOrderId {
  std::uint32_t slot = 0;
  std::uint32_t trade = 0;
  std::uint16_t leg = 0;  // 0 = entry, 1.. = exit legs
  std::uint16_t attempt = 0;
  bool operator==(const ClientOrderId&) const = default;
};

// "<prefix>s<slot>t<trade>l<leg>a<attempt>", lower-case alphanumerics (BingX lower-cases
// ids and accepts [a-z0-9]{1,40}). Returns the length written into `out` (≤ 40).
inline constexpr std::size_t kClientOrderIdMaxLength = 40;
using ClientOrderIdText = std::array<char, kClientOrderIdMaxLength + 1>;
std::size_t format_client_order_id(std::string_view prefix, const ClientOrderId& id,
                                   ClientOrderIdText& out);
std::optional<ClientOrderId> parse_client_order_id(std::string_view prefix, std::string_view text);

struct Instrument {
  Symbol symbol;
  Quantity quantity_step = Quantity::from_units(1);
  Price price_tick = Price::from_units(1);
  Quantity min_quantity = Quantity::from_units(1);
};

struct VenueOrder {
  ClientOrderId id;
  std::int64_t venue_order_id = 0;  // 0 until acknowledged
  OrderRole role = OrderRole::kEntry;
  OrderSide side = OrderSide::kBuy;
  OrderType type = OrderType::kMarket;
  OrderStatus status = OrderStatus::kPendingNew;
  Quantity quantity;
  Price limit_price;
  Quantity filled;
  Money filled_notional;  // cumulative quantity x average price, as last reported
  Money fee;              // cumulative fee paid (positive = cost)
  bool cancel_requested = false;
  std::uint16_t not_found_count = 0;
  std::int64_t sent_ts_ns = 0;
  std::int64_t last_query_ts_ns = 0;
  std::int64_t last_news_ts_ns = 0;  // input time of the last venue event that changed it
  bool external = false;             // a venue-made fill (liquidation, stop): no DITA order

  bool is_terminal() const {
    return status == OrderStatus::kFilled || status == OrderStatus::kCanceled ||
           status == OrderStatus::kRejected;
  }
};

inline constexpr std::size_t kMaxOrdersPerTrade = 8;
inline constexpr std::size_t kSeenEventIdCapacity = 32;

// The unit of execution. A slot runs one trade at a time; its orders for the current trade
// are kept (the oldest terminal exit legs are evicted past kMaxOrdersPerTrade).
struct TradeSlot {
  std::uint32_t slot_id = 0;
  TradeStage stage = TradeStage::kIdle;
  TradeStage stage_before_reconcile = TradeStage::kIdle;
  std::uint32_t trade_id = 0;  // 0 = no trade yet; increments on every accepted ENTER
  Symbol asset;
  Side side = Side::kLong;
  std::uint16_t leverage = 1;
  Quantity size;          // open position in coins
  Quantity entry_filled;  // total entry fills of this trade
  Money entry_notional;   // total entry fill value of this trade
  Price entry_price;      // average entry price
  Money cost_basis;       // entry value still attributed to the open size
  Money realized_pnl;     // this trade: exit gains minus all fees so far
  Money settled_pnl;      // the part of realized_pnl already moved into capital
  bool settled = false;   // the trade has closed (counted once in trade_seq)
  Money unrealized_pnl;   // against the last mark
  Money fees_paid;
  Money funding_pnl;  // this trade: funding received minus paid (already in capital)
  Price mark_price;
  std::uint16_t next_exit_leg = 1;
  std::uint16_t exit_legs_filled = 0;
  std::uint16_t entry_attempt = 0;
  std::uint16_t exit_attempt = 0;
  std::int8_t working_order = -1;  // index into orders, or -1
  std::uint8_t order_count = 0;
  std::array<VenueOrder, kMaxOrdersPerTrade> orders{};
  std::array<std::uint64_t, kSeenEventIdCapacity> seen_event_ids{};
  std::uint8_t seen_event_next = 0;
  std::int64_t opened_ts_ns = 0;
  std::int64_t closed_ts_ns = 0;
  std::uint64_t last_input_seq = 0;
  // Reconcile: the run the slot takes part in, consecutive runs whose venue position
  // disagreed, and whether it failed closed (only an operator command frees it).
  std::uint64_t reconcile_run = 0;
  std::uint8_t reconcile_strikes = 0;
  bool reconcile_blocked = false;
  bool adopted = false;  // the trade was adopted from a venue position by an operator
};

struct AccountSnapshot {
  Money capital;
  Money peak_capital;
  Money drawdown;      // peak - capital, now
  Money max_drawdown;  // largest drawdown seen
  Money realized_total;
  Money unrealized_total;
  Money funding_total;          // funding received minus paid, already in capital
  std::uint64_t trade_seq = 0;  // closed trades settled
  bool seeded = false;
  bool venue_banned = false;               // the venue banned this account/IP: no new entries
  std::int64_t venue_banned_until_ns = 0;  // 0: until the venue says otherwise
};

// ---------------------------------------------------------------------------------------
// Inputs

struct KernelIntent {
  KernelIntentKind kind = KernelIntentKind::kEnter;
  ClientIntentId id;  // required
  std::uint32_t slot = 0;
  Symbol asset;                  // ENTER
  Side side = Side::kLong;       // ENTER
  Quantity size;                 // ENTER: required; EXIT: zero = everything left
  Price price;                   // zero = market order
  std::uint16_t leverage = 1;    // ENTER
  std::int64_t deadline_ns = 0;  // consumed later than this: INTENT_EXPIRED (0 = no deadline)
  ReasonTag reason;
};

struct VenueEvent {
  KernelEventKind kind = KernelEventKind::kAck;
  std::uint64_t event_id = 0;  // venue-derived, unique per event; 0 is invalid
  std::uint32_t slot = 0;
  ClientOrderId order;
  std::int64_t venue_order_id = 0;
  Quantity cumulative_filled;              // fills and ORDER_STATUS: cumulative quantity
  Price average_price;                     // fills and ORDER_STATUS: cumulative average price
  Money cumulative_fee;                    // fills and ORDER_STATUS
  OrderStatus status = OrderStatus::kNew;  // ORDER_STATUS
  KernelCommandType command = KernelCommandType::kPlaceOrder;  // RATE_LIMITED, rejects
  std::int32_t venue_code = 0;
  std::int64_t retry_after_ms = -1;  // RATE_LIMITED: -1 when the venue gave no hint
  RateLimitScope rate_scope = RateLimitScope::kVenue;  // RATE_LIMITED
  std::int64_t trade_id = 0;  // fills: the venue's id of the last trade, 0 when not known
  Symbol symbol;              // MARK_PRICE
  Price mark_price;           // MARK_PRICE
};

struct Tick {};

struct SeedCapital {
  Money capital;
};

// A reconcile run: RECONCILE_BEGIN, then the venue's facts (ORDER_STATUS events for every
// working order in scope, RECONCILE_POSITION for every non-flat venue position, EXTERNAL_FILL
// for venue-made fills), then RECONCILE_COMPLETE. All of them are ordinary journaled inputs,
// so a replay reproduces the reconcile byte for byte.
inline constexpr std::uint32_t kAllSlots = kNoSlot;

struct ReconcileBegin {
  std::uint64_t run_id = 0;        // non-zero; minted by the shell, unique per journal
  std::uint32_t slot = kAllSlots;  // one slot, or every slot
  ReconcileReason reason = ReconcileReason::kStale;
  bool netting = true;  // one-way account: positions are net per symbol (hedge: per side)
};

// One non-flat venue position (netting: the net, with its side).
struct ReconcilePosition {
  std::uint64_t run_id = 0;
  Symbol symbol;
  Side side = Side::kLong;
  Quantity quantity;
  Price entry_price;
};

// A fill the venue made without a DITA order (liquidation, ADL, a triggered stop), learned by
// a reconcile. `fact_id` derives from venue facts (order id, trade id), so the same fill
// reported by the next run is recognised.
struct ExternalFill {
  std::uint64_t fact_id = 0;
  ExternalFillKind kind = ExternalFillKind::kLiquidation;
  Symbol symbol;
  Side position_side = Side::kLong;  // the position it reduced
  Quantity quantity;
  Price price;
  Money fee;  // positive = cost
  std::int64_t venue_order_id = 0;
};

struct ReconcileComplete {
  std::uint64_t run_id = 0;
  bool has_balance = false;
  Money balance;  // the venue's wallet balance when it was fetched (compared, never adopted)
};

// A funding payment of the venue (received > 0, paid < 0). `funding_id` is the venue's id.
struct FundingPayment {
  std::uint64_t funding_id = 0;
  Symbol symbol;
  Money amount;
};

// The venue banned the account or IP (HTTP 418, a firewall 403), or lifted the ban.
struct VenueHealth {
  bool banned = false;
  std::int64_t until_ns = 0;  // 0: until a VenueHealth{banned = false}
  std::int32_t venue_code = 0;
};

// An operator's decision (journaled): ADOPT a venue position into an idle slot, FLATTEN one
// (adopt, then exit it all at market), or RELEASE a blocked slot (its local position is
// written off) or, with slot kNoSlot, a blocked symbol.
struct OperatorCommand {
  OperatorAction action = OperatorAction::kRelease;
  std::uint32_t slot = kNoSlot;
  Symbol symbol;            // ADOPT / FLATTEN / symbol RELEASE
  Side side = Side::kLong;  // ADOPT / FLATTEN / symbol RELEASE
  Quantity quantity;        // ADOPT / FLATTEN
  Price price;              // ADOPT / FLATTEN: the venue's entry price
};

struct SetActiveSlotLimit {
  std::uint32_t limit = 0;
};

using KernelInputPayload =
    std::variant<KernelIntent, VenueEvent, Tick, SeedCapital, ReconcileBegin, ReconcilePosition,
                 ExternalFill, ReconcileComplete, FundingPayment, VenueHealth, OperatorCommand,
                 SetActiveSlotLimit>;

struct KernelInput {
  std::int64_t ts_ns = 0;  // time comes in with the input; the core has no clock
  KernelInputPayload payload;
};

// ---------------------------------------------------------------------------------------
// Outputs

struct KernelTransition {
  std::uint32_t slot = 0;
  std::uint32_t trade_id = 0;
  TradeStage from = TradeStage::kIdle;
  TradeStage to = TradeStage::kIdle;
  FsmInput trigger = FsmInput::kEnter;
  Quantity size_after;
  Money realized_pnl_after;
};

struct DiagnosticDetail {
  enum class Type : std::uint8_t { kInt, kDecimal, kBool, kText };
  std::string_view key;  // static text
  Type type = Type::kInt;
  std::int64_t value = 0;
  std::string_view text;  // static text, for kText
};

struct KernelDiagnostic {
  static constexpr std::size_t kMaxDetails = 5;
  KernelDiagnosticCode code = KernelDiagnosticCode::kInvalidInput;
  KernelSeverity severity = KernelSeverity::kInfo;
  std::uint32_t slot = kNoSlot;
  std::string_view message;  // static text
  std::array<DiagnosticDetail, kMaxDetails> details{};
  std::uint8_t detail_count = 0;

  KernelDiagnostic& with_int(std::string_view key, std::int64_t value);
  KernelDiagnostic& with_decimal(std::string_view key, std::int64_t units);
  KernelDiagnostic& with_bool(std::string_view key, bool value);
  KernelDiagnostic& with_text(std::string_view key, std::string_view text);
};

struct VenueCommand {
  KernelCommandType type = KernelCommandType::kPlaceOrder;
  std::uint32_t slot = 0;
  ClientOrderId order;
  std::int64_t venue_order_id = 0;
  Symbol symbol;
  OrderSide side = OrderSide::kBuy;
  Side position_side = Side::kLong;
  OrderType order_type = OrderType::kMarket;
  Quantity quantity;
  Price price;
  bool reduce_only = false;
  std::uint16_t leverage = 1;
};

// Money that moved on one order: the delta of one fill (never a cumulative figure).
struct FillFact {
  std::uint32_t slot = 0;
  std::uint32_t trade_id = 0;
  ClientOrderId order;
  OrderRole role = OrderRole::kEntry;
  bool external = false;  // venue-made (EXTERNAL_FILL)
  std::int64_t venue_order_id = 0;
  std::int64_t venue_trade_id = 0;  // 0 when the venue did not say
  Quantity quantity;
  Money notional;
  Price price;     // notional / quantity
  Money fee;       // positive = cost
  Money realized;  // exits: gross PnL of this delta (fees are in `fee`); entries: 0
  Quantity size_after;
};

// Capital moved: a closed trade settled, or a funding payment.
struct SettlementFact {
  SettlementKind kind = SettlementKind::kTrade;
  std::uint32_t slot = kNoSlot;  // kNoSlot: funding no slot held
  std::uint32_t trade_id = 0;
  std::uint64_t source_id = 0;  // FUNDING: the venue's funding id
  Money amount;                 // what moved into capital
  Money capital_after;
  std::uint64_t trade_seq = 0;  // account.trade_seq after it
};

// What one input did. The caller owns it and reuses it: `clear()` keeps the capacity, so
// steady-state processing never allocates.
struct KernelOutcome {
  std::uint64_t input_seq = 0;
  std::vector<KernelTransition> transitions;
  std::vector<KernelDiagnostic> diagnostics;
  std::vector<VenueCommand> commands;
  std::vector<FillFact> fills;
  std::vector<SettlementFact> settlements;
  std::vector<std::uint32_t> changed_slots;
  bool account_changed = false;
  AccountSnapshot account;

  void reserve(std::size_t slot_count);
  void clear();
};

struct KernelConfig {
  std::uint32_t slot_count = 4;
  std::uint32_t active_slot_limit = 1;
  std::string_view order_id_prefix = "dita";    // must outlive the kernel (static or config-owned)
  std::int64_t ack_timeout_ns = 5'000'000'000;  // no ACK this long: the order is hung
  std::int64_t query_interval_ns = 5'000'000'000;  // between targeted queries of one order
  std::uint16_t not_found_confirmations = 3;       // "not found" answers before we believe it
  // ...and for an order the venue once acknowledged, also this long without any news of it.
  std::int64_t not_found_grace_ns = 30'000'000'000;
  // Consecutive reconcile runs that must disagree with the venue before a slot fails closed
  // (one run can race a fill in flight).
  std::uint8_t reconcile_strikes = 2;
  // Client intent ids remembered for ALREADY_APPLIED / INTENT_ID_REUSED (the newest ones).
  std::uint32_t intent_memory = 4096;
  std::vector<Instrument> instruments;
};

// The instruments DITA knows without venue metadata (BingX swap precisions).
std::vector<Instrument> default_instruments();

}  // namespace dita::core
