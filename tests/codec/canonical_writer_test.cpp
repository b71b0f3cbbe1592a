// The one encoder (append_canonical; to_json is its bytes parsed back) must write canonical
// JSON, the bytes canonical() gives for the same value, and the decoder must take back every
// input the encoder can write (what can be journaled can be replayed). Checked checked on random
// values of every contract (every input kind, event kind, detail type, order status and role,
// arbitrary and escaped text, invalid UTF-8), on every byte pair, and on the inputs, outcomes and
// slots of real sessions of examples/*.jsonl.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "dita/codec/json_codec.hpp"
#include "dita/runtime/script.hpp"
#include "dita/runtime/session.hpp"
#include "dita/runtime/settings.hpp"
#include "dita/venue/mock_venue.hpp"

namespace dita::core {

// Counterexamples print as JSON (with invalid UTF-8 replaced, so printing never throws).
void showValue(const KernelInput& input, std::ostream& os);
void showValue(const KernelOutcome& outcome, std::ostream& os);
void showValue(const TradeSlot& slot, std::ostream& os);
void showValue(const AccountSnapshot& account, std::ostream& os);
void showValue(const KernelDiagnostic& diagnostic, std::ostream& os);

void showValue(const KernelInput& input, std::ostream& os) {
  os << codec::to_json(input, codec::CodecContext{})
            .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}
void showValue(const KernelOutcome& outcome, std::ostream& os) {
  os << codec::to_json(outcome, codec::CodecContext{})
            .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}
void showValue(const TradeSlot& slot, std::ostream& os) {
  os << codec::to_json(slot, codec::CodecContext{})
            .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}
void showValue(const AccountSnapshot& account, std::ostream& os) {
  os << codec::to_json(account).dump();
}
void showValue(const KernelDiagnostic& diagnostic, std::ostream& os) {
  os << codec::to_json(diagnostic).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace dita::core

namespace dita::codec {
namespace {

using nlohmann::json;

// ---------------------------------------------------------------------------------------
// What an encoder gave: its bytes, or the message of the JSON error it threw.

struct Encoded {
  std::string bytes;
  std::string error;
  bool operator==(const Encoded&) const = default;
};

[[maybe_unused]] void showValue(const Encoded& encoded, std::ostream& os) {
  if (encoded.error.empty()) {
    os << "bytes " << encoded.bytes;
  } else {
    os << "error " << encoded.error;
  }
}

template <class Encode>
Encoded run(Encode&& encode) {
  try {
    return {encode(), {}};
  } catch (const json::exception& error) {
    return {{}, error.what()};
  }
}

// The old path.
template <class Value, class... Context>
Encoded through_json(const Value& value, const Context&... context) {
  return run([&] { return canonical(to_json(value, context...)); });
}

constexpr std::string_view kPrefix = "prefix:";

// The new path, appending to a non-empty string; checks the prefix survives (and that a
// throw leaves the string exactly as it was).
template <class Value, class... Context>
Encoded streamed(const Value& value, const Context&... context) {
  std::string out(kPrefix);
  const Encoded result = run([&] {
    append_canonical(out, value, context...);
    return out.substr(kPrefix.size());
  });
  if (!out.starts_with(kPrefix) || (!result.error.empty() && out != kPrefix)) {
    return {out, "the prefix was not kept: " + result.error};
  }
  return result;
}

// ---------------------------------------------------------------------------------------
// Generators

// Diagnostic texts are string_views: generated text is kept here for the whole run, so
// values can be copied and shrunk freely.
std::string_view keep(std::string text) {
  static auto* texts = new std::deque<std::string>();  // never freed: views must outlive runs
  return texts->emplace_back(std::move(text));
}

std::string chars(int c) {
  return std::string(1, static_cast<char>(c));
}

// Text built from pieces: printable ASCII, control characters (escaped as \b, \n, ... or
// \u00xx), the characters JSON escapes, DEL, well-formed UTF-8 of every length including
// the boundary code points and, when `allow_invalid`, bytes that break UTF-8.
rc::Gen<std::string> text_gen(bool allow_invalid) {
  const auto printable = rc::gen::map(rc::gen::inRange(0x20, 0x7F), chars);
  const auto control = rc::gen::map(rc::gen::inRange(0x00, 0x20), chars);
  const auto special = rc::gen::elementOf(std::vector<std::string>{
      "\"", "\\", "/", "\x7F", "\b", "\f", "\n", "\r", "\t", std::string(1, '\0')});
  const auto multibyte = rc::gen::elementOf(std::vector<std::string>{
      "\xC2\x80", "\xC3\xA9", "\xDF\xBF", "\xE0\xA0\x80", "\xE2\x82\xAC", "\xED\x9F\xBF",
      "\xEE\x80\x80", "\xEF\xBF\xBF", "\xF0\x90\x80\x80", "\xF0\x9F\x98\x80", "\xF4\x8F\xBF\xBF"});
  const auto broken = rc::gen::map(rc::gen::inRange(0x80, 0x100), chars);
  const auto piece =
      allow_invalid
          ? rc::gen::weightedOneOf<std::string>(
                {{12, printable}, {3, control}, {3, special}, {3, multibyte}, {2, broken}})
          : rc::gen::weightedOneOf<std::string>(
                {{12, printable}, {3, control}, {3, special}, {3, multibyte}});
  return rc::gen::map(rc::gen::container<std::vector<std::string>>(piece),
                      [](const std::vector<std::string>& pieces) {
                        std::string text;
                        for (const auto& p : pieces) text += p;
                        return text;
                      });
}

rc::Gen<std::string_view> kept_text_gen(bool allow_invalid) {
  return rc::gen::map(text_gen(allow_invalid), keep);
}

// Every named value, uniformly (inRange alone favours small values while rapidcheck's size
// is small), and now and then one past the last (to_string gives "UNKNOWN").
template <class E>
rc::Gen<E> enum_gen() {
  const int count = static_cast<int>(core::enum_count<E>());
  return rc::gen::map(rc::gen::weightedOneOf<int>(
                          {{20, rc::gen::resize(rc::kNominalSize, rc::gen::inRange(0, count))},
                           {1, rc::gen::just(count)}}),
                      [](int value) { return static_cast<E>(value); });
}

rc::Gen<std::int64_t> units_gen() {
  constexpr auto kMin = std::numeric_limits<std::int64_t>::min();
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  return rc::gen::weightedOneOf<std::int64_t>({
      {4, rc::gen::arbitrary<std::int64_t>()},
      {4, rc::gen::inRange<std::int64_t>(-1'000'000'000'000'000, 1'000'000'000'000'000)},
      {2, rc::gen::elementOf(std::vector<std::int64_t>{kMin, kMin + 1, kMax, 0, 1, -1, 10,
                                                       100'000'000, -100'000'000, 99'999'999,
                                                       123'400'000, -50'000'000})},
  });
}

template <class Fixed>
rc::Gen<Fixed> fixed_gen() {
  return rc::gen::map(units_gen(), [](std::int64_t units) { return Fixed::from_units(units); });
}

template <class Integer>
rc::Gen<Integer> integer_gen() {
  return rc::gen::weightedOneOf<Integer>({
      {3, rc::gen::arbitrary<Integer>()},
      {1,
       rc::gen::elementOf(std::vector<Integer>{std::numeric_limits<Integer>::min(),
                                               std::numeric_limits<Integer>::max(), Integer{0}})},
  });
}

rc::Gen<core::Symbol> symbol_gen() {
  const auto parse = [](const std::string& text) {
    return core::Symbol::parse(text).value_or(core::Symbol{});
  };
  return rc::gen::weightedOneOf<core::Symbol>({
      {3, rc::gen::map(rc::gen::elementOf(std::vector<std::string>{
                           "BTC-USDT", "ETH-USDT", "SOL-USDT", "TRXUSDT", "1000PEPE-USDC"}),
                       parse)},
      {1, rc::gen::map(
              rc::gen::container<std::string>(rc::gen::elementOf(std::string("ABCXYZ0123456789-"))),
              parse)},
  });
}

rc::Gen<core::ClientOrderId> order_id_gen() {
  return rc::gen::exec([] {
    core::ClientOrderId id;
    id.slot = *integer_gen<std::uint32_t>();
    id.trade = *integer_gen<std::uint32_t>();
    id.leg = *integer_gen<std::uint16_t>();
    id.attempt = *integer_gen<std::uint16_t>();
    return id;
  });
}

// The order id prefix comes from configuration, so it may be any text; ids are cut at 40
// bytes, which can split a multi-byte character (then both paths must throw alike).
rc::Gen<CodecContext> context_gen() {
  return rc::gen::map(
      rc::gen::weightedOneOf<std::string_view>({
          {6, rc::gen::just<std::string_view>("dita")},
          {1, rc::gen::just<std::string_view>("")},
          {2, kept_text_gen(false)},
          {1, rc::gen::just<std::string_view>("\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC\xE2\x82"
                                              "\xAC\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC\xE2"
                                              "\x82\xAC\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC"
                                              "\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC")},
      }),
      [](std::string_view prefix) { return CodecContext{prefix}; });
}

template <class Token>
rc::Gen<Token> token_gen(std::string alphabet) {
  return rc::gen::map(rc::gen::container<std::string>(rc::gen::elementOf(alphabet)),
                      [](std::string text) {
                        if (text.size() > Token::kMaxLength) text.resize(Token::kMaxLength);
                        return *Token::parse(text);
                      });
}

rc::Gen<core::KernelIntent> intent_gen() {
  return rc::gen::exec([] {
    core::KernelIntent intent;
    intent.kind = *enum_gen<core::KernelIntentKind>();
    intent.id = *token_gen<core::ClientIntentId>("abcXYZ019._:-");
    intent.deadline_ns = *integer_gen<std::int64_t>();
    intent.reason = *token_gen<core::ReasonTag>("ab Z9._:-/=+");
    intent.slot = *integer_gen<std::uint32_t>();
    intent.asset = *symbol_gen();
    intent.side = *enum_gen<core::Side>();
    intent.size = *fixed_gen<core::Quantity>();
    intent.price = *fixed_gen<core::Price>();
    intent.leverage = *integer_gen<std::uint16_t>();
    return intent;
  });
}

rc::Gen<core::VenueEvent> event_gen() {
  return rc::gen::exec([] {
    core::VenueEvent event;
    event.kind = *enum_gen<core::KernelEventKind>();
    event.event_id = *integer_gen<std::uint64_t>();
    event.slot = *integer_gen<std::uint32_t>();
    event.order = *order_id_gen();
    event.venue_order_id = *integer_gen<std::int64_t>();
    event.cumulative_filled = *fixed_gen<core::Quantity>();
    event.average_price = *fixed_gen<core::Price>();
    event.cumulative_fee = *fixed_gen<core::Money>();
    event.status = *enum_gen<core::OrderStatus>();
    event.command = *enum_gen<core::KernelCommandType>();
    event.venue_code = *integer_gen<std::int32_t>();
    event.retry_after_ms = *integer_gen<std::int64_t>();
    event.rate_scope = *enum_gen<core::RateLimitScope>();
    event.trade_id = *integer_gen<std::int64_t>();
    event.symbol = *symbol_gen();
    event.mark_price = *fixed_gen<core::Price>();
    return event;
  });
}

// Weighted toward intents and venue events, which have sub-kinds of their own.
rc::Gen<core::KernelInputPayload> payload_gen() {
  using core::KernelInputPayload;
  return rc::gen::weightedOneOf<KernelInputPayload>({
      {3, rc::gen::map(intent_gen(), [](core::KernelIntent v) { return KernelInputPayload{v}; })},
      {6, rc::gen::map(event_gen(), [](core::VenueEvent v) { return KernelInputPayload{v}; })},
      {1, rc::gen::just(KernelInputPayload{core::Tick{}})},
      {1, rc::gen::map(fixed_gen<core::Money>(),
                       [](core::Money v) { return KernelInputPayload{core::SeedCapital{v}}; })},
      {1, rc::gen::exec([] {
         core::ReconcileBegin begin;
         begin.run_id = *integer_gen<std::uint64_t>();
         begin.slot = *integer_gen<std::uint32_t>();
         begin.reason = *enum_gen<core::ReconcileReason>();
         begin.netting = *rc::gen::arbitrary<bool>();
         return KernelInputPayload{begin};
       })},
      {1, rc::gen::exec([] {
         core::ReconcilePosition position;
         position.run_id = *integer_gen<std::uint64_t>();
         position.symbol = *symbol_gen();
         position.side = *enum_gen<core::Side>();
         position.quantity = *fixed_gen<core::Quantity>();
         position.entry_price = *fixed_gen<core::Price>();
         return KernelInputPayload{position};
       })},
      {1, rc::gen::exec([] {
         core::ExternalFill fill;
         fill.fact_id = *integer_gen<std::uint64_t>();
         fill.kind = *enum_gen<core::ExternalFillKind>();
         fill.symbol = *symbol_gen();
         fill.position_side = *enum_gen<core::Side>();
         fill.quantity = *fixed_gen<core::Quantity>();
         fill.price = *fixed_gen<core::Price>();
         fill.fee = *fixed_gen<core::Money>();
         fill.venue_order_id = *integer_gen<std::int64_t>();
         return KernelInputPayload{fill};
       })},
      {1, rc::gen::exec([] {
         core::ReconcileComplete complete;
         complete.run_id = *integer_gen<std::uint64_t>();
         complete.has_balance = *rc::gen::arbitrary<bool>();
         if (complete.has_balance) complete.balance = *fixed_gen<core::Money>();
         return KernelInputPayload{complete};
       })},
      {1, rc::gen::exec([] {
         return KernelInputPayload{core::FundingPayment{*integer_gen<std::uint64_t>(),
                                                        *symbol_gen(), *fixed_gen<core::Money>()}};
       })},
      {1, rc::gen::exec([] {
         return KernelInputPayload{core::VenueHealth{*rc::gen::arbitrary<bool>(),
                                                     *integer_gen<std::int64_t>(),
                                                     *integer_gen<std::int32_t>()}};
       })},
      {1, rc::gen::exec([] {
         core::OperatorCommand command;
         command.action = *enum_gen<core::OperatorAction>();
         command.slot = *integer_gen<std::uint32_t>();
         command.symbol = *symbol_gen();
         command.side = *enum_gen<core::Side>();
         command.quantity = *fixed_gen<core::Quantity>();
         command.price = *fixed_gen<core::Price>();
         return KernelInputPayload{command};
       })},
      {1, rc::gen::map(
              integer_gen<std::uint32_t>(),
              [](std::uint32_t v) { return KernelInputPayload{core::SetActiveSlotLimit{v}}; })},
  });
}

rc::Gen<core::KernelInput> input_gen() {
  return rc::gen::exec([] {
    return core::KernelInput{*integer_gen<std::int64_t>(), *payload_gen()};
  });
}

rc::Gen<core::KernelTransition> transition_gen() {
  return rc::gen::exec([] {
    core::KernelTransition transition;
    transition.slot = *integer_gen<std::uint32_t>();
    transition.trade_id = *integer_gen<std::uint32_t>();
    transition.from = *enum_gen<core::TradeStage>();
    transition.to = *enum_gen<core::TradeStage>();
    transition.trigger = *enum_gen<core::FsmInput>();
    transition.size_after = *fixed_gen<core::Quantity>();
    transition.realized_pnl_after = *fixed_gen<core::Money>();
    return transition;
  });
}

// Keys come mostly from a small pool, so equal keys (the last one wins) and keys that are
// prefixes of each other are common.
rc::Gen<core::DiagnosticDetail> detail_gen(bool allow_invalid) {
  return rc::gen::exec([allow_invalid] {
    core::DiagnosticDetail detail;
    detail.key = *rc::gen::weightedOneOf<std::string_view>({
        {4, rc::gen::elementOf(std::vector<std::string_view>{"slot", "slot_id", "size", "status",
                                                             "stage", "a", "B", "",
                                                             "\xC3\xA9t\xC3\xA9", "z\"q"})},
        {1, kept_text_gen(allow_invalid)},
    });
    // One past kText too: to_json writes null for a type it does not know.
    detail.type = static_cast<core::DiagnosticDetail::Type>(*rc::gen::weightedOneOf<int>(
        {{12, rc::gen::resize(rc::kNominalSize, rc::gen::inRange(0, 4))}, {1, rc::gen::just(4)}}));
    detail.value = *units_gen();
    detail.text = *kept_text_gen(allow_invalid);
    return detail;
  });
}

rc::Gen<core::KernelDiagnostic> diagnostic_gen(bool allow_invalid) {
  return rc::gen::exec([allow_invalid] {
    core::KernelDiagnostic diagnostic;
    diagnostic.code = *enum_gen<core::KernelDiagnosticCode>();
    diagnostic.severity = *enum_gen<core::KernelSeverity>();
    diagnostic.slot = *rc::gen::weightedOneOf<std::uint32_t>(
        {{1, rc::gen::just(core::kNoSlot)}, {2, integer_gen<std::uint32_t>()}});
    diagnostic.message = *rc::gen::weightedOneOf<std::string_view>({
        {1, rc::gen::just<std::string_view>("slot is busy")},
        {3, kept_text_gen(allow_invalid)},
    });
    const auto count = *rc::gen::inRange<std::size_t>(0, core::KernelDiagnostic::kMaxDetails + 1);
    for (std::size_t i = 0; i < count; ++i) diagnostic.details[i] = *detail_gen(allow_invalid);
    diagnostic.detail_count = static_cast<std::uint8_t>(count);
    return diagnostic;
  });
}

rc::Gen<core::VenueCommand> command_gen() {
  return rc::gen::exec([] {
    core::VenueCommand command;
    command.type = *enum_gen<core::KernelCommandType>();
    command.slot = *integer_gen<std::uint32_t>();
    command.order = *order_id_gen();
    command.venue_order_id = *integer_gen<std::int64_t>();
    command.symbol = *symbol_gen();
    command.side = *enum_gen<core::OrderSide>();
    command.position_side = *enum_gen<core::Side>();
    command.order_type = *enum_gen<core::OrderType>();
    command.quantity = *fixed_gen<core::Quantity>();
    command.price = *fixed_gen<core::Price>();
    command.reduce_only = *rc::gen::arbitrary<bool>();
    command.leverage = *integer_gen<std::uint16_t>();
    return command;
  });
}

rc::Gen<core::AccountSnapshot> account_gen() {
  return rc::gen::exec([] {
    core::AccountSnapshot account;
    account.capital = *fixed_gen<core::Money>();
    account.peak_capital = *fixed_gen<core::Money>();
    account.drawdown = *fixed_gen<core::Money>();
    account.max_drawdown = *fixed_gen<core::Money>();
    account.realized_total = *fixed_gen<core::Money>();
    account.unrealized_total = *fixed_gen<core::Money>();
    account.funding_total = *fixed_gen<core::Money>();
    account.trade_seq = *integer_gen<std::uint64_t>();
    account.seeded = *rc::gen::arbitrary<bool>();
    account.venue_banned = *rc::gen::arbitrary<bool>();
    account.venue_banned_until_ns = *integer_gen<std::int64_t>();
    return account;
  });
}

rc::Gen<core::FillFact> fill_fact_gen() {
  return rc::gen::exec([] {
    core::FillFact fill;
    fill.slot = *integer_gen<std::uint32_t>();
    fill.trade_id = *integer_gen<std::uint32_t>();
    fill.order = *order_id_gen();
    fill.role = *enum_gen<core::OrderRole>();
    fill.external = *rc::gen::arbitrary<bool>();
    fill.venue_order_id = *integer_gen<std::int64_t>();
    fill.venue_trade_id = *integer_gen<std::int64_t>();
    fill.quantity = *fixed_gen<core::Quantity>();
    fill.notional = *fixed_gen<core::Money>();
    fill.price = *fixed_gen<core::Price>();
    fill.fee = *fixed_gen<core::Money>();
    fill.realized = *fixed_gen<core::Money>();
    fill.size_after = *fixed_gen<core::Quantity>();
    return fill;
  });
}

rc::Gen<core::SettlementFact> settlement_gen() {
  return rc::gen::exec([] {
    core::SettlementFact settlement;
    settlement.kind = *enum_gen<core::SettlementKind>();
    settlement.slot = *rc::gen::weightedOneOf<std::uint32_t>(
        {{1, rc::gen::just(core::kNoSlot)}, {2, integer_gen<std::uint32_t>()}});
    settlement.trade_id = *integer_gen<std::uint32_t>();
    settlement.source_id = *integer_gen<std::uint64_t>();
    settlement.amount = *fixed_gen<core::Money>();
    settlement.capital_after = *fixed_gen<core::Money>();
    settlement.trade_seq = *integer_gen<std::uint64_t>();
    return settlement;
  });
}

rc::Gen<core::KernelOutcome> outcome_gen() {
  return rc::gen::exec([] {
    core::KernelOutcome outcome;
    outcome.input_seq = *integer_gen<std::uint64_t>();
    outcome.transitions = *rc::gen::container<std::vector<core::KernelTransition>>(
        *rc::gen::inRange<std::size_t>(0, 5), transition_gen());
    outcome.diagnostics = *rc::gen::container<std::vector<core::KernelDiagnostic>>(
        *rc::gen::inRange<std::size_t>(0, 5), diagnostic_gen(false));
    outcome.commands = *rc::gen::container<std::vector<core::VenueCommand>>(
        *rc::gen::inRange<std::size_t>(0, 5), command_gen());
    outcome.fills = *rc::gen::container<std::vector<core::FillFact>>(
        *rc::gen::inRange<std::size_t>(0, 4), fill_fact_gen());
    outcome.settlements = *rc::gen::container<std::vector<core::SettlementFact>>(
        *rc::gen::inRange<std::size_t>(0, 4), settlement_gen());
    outcome.changed_slots = *rc::gen::container<std::vector<std::uint32_t>>(
        *rc::gen::inRange<std::size_t>(0, 6), integer_gen<std::uint32_t>());
    outcome.account_changed = *rc::gen::arbitrary<bool>();
    outcome.account = *account_gen();
    return outcome;
  });
}

rc::Gen<core::VenueOrder> order_gen() {
  return rc::gen::exec([] {
    core::VenueOrder order;
    order.id = *order_id_gen();
    order.venue_order_id = *integer_gen<std::int64_t>();
    order.role = *enum_gen<core::OrderRole>();
    order.side = *enum_gen<core::OrderSide>();
    order.type = *enum_gen<core::OrderType>();
    order.status = *enum_gen<core::OrderStatus>();
    order.quantity = *fixed_gen<core::Quantity>();
    order.limit_price = *fixed_gen<core::Price>();
    order.filled = *fixed_gen<core::Quantity>();
    order.filled_notional = *fixed_gen<core::Money>();
    order.fee = *fixed_gen<core::Money>();
    order.cancel_requested = *rc::gen::arbitrary<bool>();
    order.external = *rc::gen::arbitrary<bool>();
    return order;
  });
}

rc::Gen<core::TradeSlot> slot_gen() {
  return rc::gen::exec([] {
    core::TradeSlot slot;
    slot.slot_id = *integer_gen<std::uint32_t>();
    slot.stage = *enum_gen<core::TradeStage>();
    slot.stage_before_reconcile = *enum_gen<core::TradeStage>();
    slot.trade_id = *integer_gen<std::uint32_t>();
    slot.asset = *symbol_gen();
    slot.side = *enum_gen<core::Side>();
    slot.leverage = *integer_gen<std::uint16_t>();
    slot.size = *fixed_gen<core::Quantity>();
    slot.entry_filled = *fixed_gen<core::Quantity>();
    slot.entry_notional = *fixed_gen<core::Money>();
    slot.entry_price = *fixed_gen<core::Price>();
    slot.cost_basis = *fixed_gen<core::Money>();
    slot.realized_pnl = *fixed_gen<core::Money>();
    slot.unrealized_pnl = *fixed_gen<core::Money>();
    slot.fees_paid = *fixed_gen<core::Money>();
    slot.funding_pnl = *fixed_gen<core::Money>();
    slot.reconcile_run = *integer_gen<std::uint64_t>();
    slot.reconcile_strikes = *integer_gen<std::uint8_t>();
    slot.reconcile_blocked = *rc::gen::arbitrary<bool>();
    slot.adopted = *rc::gen::arbitrary<bool>();
    slot.mark_price = *fixed_gen<core::Price>();
    slot.exit_legs_filled = *integer_gen<std::uint16_t>();
    slot.last_input_seq = *integer_gen<std::uint64_t>();
    const auto count = *rc::gen::inRange<std::size_t>(0, core::kMaxOrdersPerTrade + 1);
    for (std::size_t i = 0; i < count; ++i) slot.orders[i] = *order_gen();
    slot.order_count = static_cast<std::uint8_t>(count);
    slot.working_order = static_cast<std::int8_t>(
        *rc::gen::inRange<int>(-1, static_cast<int>(core::kMaxOrdersPerTrade)));
    return slot;
  });
}

std::string_view kind_name(const core::KernelInput& input) {
  static constexpr std::string_view kNames[] = {
      "INTENT",          "VENUE_EVENT",        "TICK",          "SEED_CAPITAL",
      "RECONCILE_BEGIN", "RECONCILE_POSITION", "EXTERNAL_FILL", "RECONCILE_COMPLETE",
      "FUNDING",         "VENUE_HEALTH",       "OPERATOR",      "SET_ACTIVE_SLOT_LIMIT"};
  static_assert(std::size(kNames) == std::variant_size_v<core::KernelInputPayload>);
  return kNames[input.payload.index()];
}

// ---------------------------------------------------------------------------------------
// Properties

std::string input_kind(const core::KernelInput& input) {
  std::string kind(kind_name(input));
  if (const auto* event = std::get_if<core::VenueEvent>(&input.payload)) {
    kind += ' ';
    kind += core::to_string(event->kind);
  }
  if (const auto* intent = std::get_if<core::KernelIntent>(&input.payload)) {
    kind += ' ';
    kind += core::to_string(intent->kind);
  }
  return kind;
}

RC_GTEST_PROP(CanonicalWriter, WritesTheBytesOfToJsonForEveryInputKind, ()) {
  const auto context = *context_gen();
  const auto inputs = *rc::gen::container<std::vector<core::KernelInput>>(8, input_gen());
  for (const auto& input : inputs) {
    RC_ASSERT(streamed(input, context) == through_json(input, context));
  }
  RC_TAG(input_kind(inputs.front()));  // the distribution shows every kind is reached
}

// An input is journaled only if the kernel can be given it: every enum a known value (the
// shell's decoders never build others). Such an input decodes back to one that encodes to
// the same bytes, whatever its numbers, texts or ids: a refused input still replays.
bool has_known_enums(const core::KernelInput& input) {
  const std::string encoded = codec::encode_input(input, CodecContext{"dita"});
  return encoded.find("\"UNKNOWN\"") == std::string::npos;
}

RC_GTEST_PROP(CanonicalWriter, DecodesEveryInputItCanWriteBackToTheSameBytes, ()) {
  const CodecContext context{"dita"};
  const auto input = *input_gen();
  RC_PRE(has_known_enums(input));
  const std::string encoded = encode_input(input, context);
  const auto decoded = decode_input(encoded, context);
  RC_ASSERT(decoded.has_value());
  RC_ASSERT(encode_input(*decoded, context) == encoded);
  RC_TAG(input_kind(input));
}

RC_GTEST_PROP(CanonicalWriter, WritesTheBytesOfToJsonForEveryOutcome, ()) {
  const auto context = *context_gen();
  const auto outcome = *outcome_gen();
  RC_CLASSIFY(outcome.account_changed, "account");
  RC_CLASSIFY(!outcome.diagnostics.empty(), "diagnostics");
  RC_CLASSIFY(!outcome.commands.empty(), "commands");
  RC_ASSERT(streamed(outcome, context) == through_json(outcome, context));
}

RC_GTEST_PROP(CanonicalWriter, WritesTheBytesOfToJsonForEverySlotImage, ()) {
  const auto context = *context_gen();
  const auto slots = *rc::gen::container<std::vector<core::TradeSlot>>(4, slot_gen());
  for (const auto& slot : slots) {
    RC_ASSERT(streamed(slot, context) == through_json(slot, context));
  }
  RC_TAG(core::to_string(slots.front().stage));
}

RC_GTEST_PROP(CanonicalWriter, WritesTheBytesOfToJsonForEveryAccountTransitionAndCommand, ()) {
  const auto context = *context_gen();
  const auto account = *account_gen();
  const auto transition = *transition_gen();
  const auto command = *command_gen();
  RC_ASSERT(streamed(account) == through_json(account));
  RC_ASSERT(streamed(transition) == through_json(transition));
  RC_ASSERT(streamed(command, context) == through_json(command, context));
}

// Here text may break UTF-8: both paths must then throw the same error, and the writer
// must leave the string as it was.
RC_GTEST_PROP(CanonicalWriter, WritesOrRefusesAnyDiagnosticTextExactlyAsToJson, ()) {
  const auto diagnostic = *diagnostic_gen(true);
  const Encoded expected = through_json(diagnostic);
  RC_CLASSIFY(!expected.error.empty(), "invalid UTF-8");
  for (std::size_t i = 0; i < diagnostic.detail_count; ++i) {
    RC_TAG(static_cast<int>(diagnostic.details[i].type));
  }
  RC_ASSERT(streamed(diagnostic) == expected);
}

// Texts of a few kilobytes: escapes, multi-byte characters and invalid bytes land on every
// position relative to the writer's internal buffering.
RC_GTEST_PROP(CanonicalWriter, WritesOrRefusesLongTextsExactlyAsToJson, ()) {
  const bool allow_invalid = *rc::gen::arbitrary<bool>();
  const std::string message = *rc::gen::scale(20.0, text_gen(allow_invalid));
  const std::string text = *rc::gen::scale(20.0, text_gen(allow_invalid));
  core::KernelDiagnostic diagnostic;
  diagnostic.message = message;
  diagnostic.with_text("text", text).with_int("n", 1);
  const Encoded expected = through_json(diagnostic);
  RC_CLASSIFY(!expected.error.empty(), "invalid UTF-8");
  RC_CLASSIFY(message.size() + text.size() > 1024, "over 1 KiB");
  RC_ASSERT(streamed(diagnostic) == expected);
}

// ---------------------------------------------------------------------------------------
// Examples

core::KernelDiagnostic message_only(std::string_view message) {
  core::KernelDiagnostic diagnostic;
  diagnostic.message = message;
  return diagnostic;
}

TEST(CanonicalWriter, EscapesEveryOneAndTwoByteTextExactlyAsNlohmann) {
  std::size_t refused = 0;
  for (int first = 0; first < 256; ++first) {
    for (int second = -1; second < 256; ++second) {
      std::string text = chars(first);
      if (second >= 0) text += chars(second);
      const auto diagnostic = message_only(text);
      const Encoded expected = through_json(diagnostic);
      if (!expected.error.empty()) ++refused;
      ASSERT_EQ(streamed(diagnostic), expected) << "bytes " << first << " " << second;
    }
  }
  EXPECT_GT(refused, 0U);  // the invalid sequences really were exercised
}

TEST(CanonicalWriter, ValidatesTheSecondByteOfEveryLongSequenceAsNlohmann) {
  for (int lead = 0xE0; lead <= 0xF7; ++lead) {
    for (int second = 0; second < 256; ++second) {
      for (const std::string_view tail : {"\x80\x80", "\xBF\xBF", "\x80", "\x7F\x80"}) {
        const std::string text = chars(lead) + chars(second) + std::string(tail);
        const auto diagnostic = message_only(text);
        ASSERT_EQ(streamed(diagnostic), through_json(diagnostic))
            << "bytes " << lead << " " << second << " + " << tail.size();
      }
    }
  }
}

TEST(CanonicalWriter, WritesControlCharactersAsNlohmannDoes) {
  const auto diagnostic = message_only(std::string_view("a\"b\\c\b\f\n\r\t\x01\x1F\x7F/\0", 15));
  std::string out;
  append_canonical(out, diagnostic);
  EXPECT_NE(out.find(R"("message":"a\"b\\c\b\f\n\r\t\u0001\u001f)"
                     "\x7F"
                     R"(/\u0000")"),
            std::string::npos)
      << out;
  EXPECT_EQ(out, canonical(to_json(diagnostic)));
}

TEST(CanonicalWriter, RefusesInvalidUtf8LikeToJsonAndLeavesTheStringUntouched) {
  core::KernelDiagnostic diagnostic = message_only("ok");
  diagnostic.with_text("reason", "caf\xC3");  // a cut two-byte sequence
  std::string out = "kept";
  try {
    append_canonical(out, diagnostic);
    FAIL() << "no exception: " << out;
  } catch (const json::type_error& error) {
    EXPECT_EQ(error.id, 316);
    EXPECT_EQ(std::string(error.what()), through_json(diagnostic).error);
  }
  EXPECT_EQ(out, "kept");
}

TEST(CanonicalWriter, WritesEveryLengthOfALongTextAndRefusesABadByteAnywhereInIt) {
  // Each unit is 1 + 2 + 3 + 4 + 6 output bytes for 1 + 2 + 3 + 4 + 1 input bytes.
  const std::string unit = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\x01";
  std::string text;
  while (text.size() < 3000) text += unit;
  for (std::size_t length = 0; length <= text.size(); length += 7) {
    const auto cut = message_only(std::string_view(text).substr(0, length));
    ASSERT_EQ(streamed(cut), through_json(cut)) << length;  // may end mid-character
    const std::string broken = text.substr(0, length) + "\xFF" + text.substr(length, 50);
    const auto invalid = message_only(broken);
    ASSERT_EQ(streamed(invalid), through_json(invalid)) << length;
    ASSERT_FALSE(streamed(invalid).error.empty()) << length;
  }
}

TEST(CanonicalWriter, KeepsTheLastOfEqualDetailKeysInSortedPlace) {
  core::KernelDiagnostic diagnostic = message_only("m");
  diagnostic.with_int("slot", 1)
      .with_text("b", "x")
      .with_bool("slot", true)
      .with_decimal("a", 150'000'000);
  std::string out;
  append_canonical(out, diagnostic);
  EXPECT_EQ(out, R"({"code":"INVALID_INPUT","details":{"a":"1.5","b":"x","slot":true},)"
                 R"("message":"m","severity":"INFO","slot":null})");
  EXPECT_EQ(out, canonical(to_json(diagnostic)));
}

TEST(CanonicalWriter, AppendsAfterWhatTheStringAlreadyHolds) {
  const CodecContext context{};
  core::KernelOutcome outcome;
  outcome.input_seq = 9;
  outcome.changed_slots = {1, 2};
  core::TradeSlot slot;
  slot.stage = core::TradeStage::kStaleStateReconciling;
  slot.order_count = 1;
  std::string out = "head|";
  append_canonical(out, core::KernelInput{5, core::Tick{}}, context);
  out += '|';
  append_canonical(out, outcome, context);
  out += '|';
  append_canonical(out, slot, context);
  out += '|';
  append_canonical(out, core::AccountSnapshot{});
  EXPECT_EQ(out, "head|" + canonical(to_json(core::KernelInput{5, core::Tick{}}, context)) + "|" +
                     canonical(to_json(outcome, context)) + "|" +
                     canonical(to_json(slot, context)) + "|" +
                     canonical(to_json(core::AccountSnapshot{})));
  EXPECT_TRUE(out.starts_with(R"(head|{"kind":"TICK","ts_ns":5}|{"changed_slots":[1,2],)")) << out;
}

TEST(CanonicalWriter, AReusedStringIsNotReallocated) {
  const CodecContext context{};
  core::KernelOutcome outcome;
  outcome.commands.resize(2);
  outcome.diagnostics.push_back(message_only("slot is busy"));
  outcome.account_changed = true;
  std::string out;
  append_canonical(out, outcome, context);
  const std::string first = out;
  const char* const buffer = out.data();
  const std::size_t capacity = out.capacity();
  out.clear();
  append_canonical(out, outcome, context);
  EXPECT_EQ(out, first);
  EXPECT_EQ(out.data(), buffer);
  EXPECT_EQ(out.capacity(), capacity);
}

TEST(CanonicalWriter, WritesDecimalsAsFormatDecimalDoes) {
  for (const std::int64_t units :
       {std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max(),
        std::int64_t{0}, std::int64_t{1}, std::int64_t{-1}, std::int64_t{100'000'000},
        std::int64_t{-150'000'000}, std::int64_t{123'456'789'012}, std::int64_t{10}}) {
    core::AccountSnapshot account;
    account.capital = core::Money::from_units(units);
    std::string out;
    append_canonical(out, account);
    EXPECT_NE(out.find("{\"capital\":\"" + core::format_decimal(units) + "\","), std::string::npos)
        << out;
    EXPECT_EQ(out, canonical(to_json(account)));
  }
}

// Runs a script the way `dita run` does (mock venue, default settings) and compares both
// encoders on every input, outcome (and each of its parts) and on every slot and the
// account after every input.
struct SessionCounts {
  std::size_t inputs = 0;
  std::size_t diagnostics = 0;
  std::size_t commands = 0;
  std::size_t transitions = 0;
};

SessionCounts compare_on_script(const std::filesystem::path& script) {
  SessionCounts counts;
  std::ifstream file(script);
  auto steps = runtime::parse_script(file);
  EXPECT_TRUE(steps.has_value()) << script;
  if (!steps) return counts;
  const runtime::Settings settings;
  const core::KernelConfig config = runtime::kernel_config(settings);
  auto kernel = core::Kernel::create(config);
  EXPECT_TRUE(kernel.has_value());
  if (!kernel) return counts;
  auto mock = std::make_unique<venue::MockVenue>(
      venue::MockVenueConfig{settings.seed, 5, config.instruments});
  venue::MockVenue* mock_venue = mock.get();
  const CodecContext context{settings.order_id_prefix};
  const core::Kernel* view = nullptr;
  std::string out;  // reused, as a hot-path caller would
  const auto same = [&](const auto& value, const auto&... extra) {
    out.clear();
    append_canonical(out, value, extra...);
    EXPECT_EQ(out, canonical(to_json(value, extra...))) << script;
  };
  runtime::Session session(
      std::move(*kernel), std::move(mock), std::nullopt,
      [&](const core::KernelInput& input, const core::KernelOutcome& outcome) {
        ++counts.inputs;
        same(input, context);
        same(outcome, context);
        EXPECT_EQ(encode_input(input, context), canonical(to_json(input, context)));
        EXPECT_EQ(encode_outcome(outcome, context), canonical(to_json(outcome, context)));
        for (const auto& diagnostic : outcome.diagnostics) same(diagnostic);
        for (const auto& command : outcome.commands) same(command, context);
        for (const auto& transition : outcome.transitions) same(transition);
        counts.diagnostics += outcome.diagnostics.size();
        counts.commands += outcome.commands.size();
        counts.transitions += outcome.transitions.size();
        for (const auto& slot : view->slots()) same(slot, context);
        same(view->account());
      });
  view = &session.kernel();
  std::int64_t now = 1'767'225'600'000'000'000;
  for (const runtime::ScriptStep& step : *steps) {
    const auto fed = runtime::feed_script_step(session, *mock_venue, step, now);
    EXPECT_TRUE(fed.has_value()) << script << " line " << step.line;
  }
  return counts;
}

TEST(CanonicalWriter, WritesTheBytesOfToJsonForEveryValueOfTheExampleSessions) {
  const char* source = std::getenv("DITA_SOURCE_DIR");
  ASSERT_NE(source, nullptr) << "DITA_SOURCE_DIR is set by ctest";
  SessionCounts total;
  std::size_t scripts = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::filesystem::path(source) / "examples")) {
    if (entry.path().extension() != ".jsonl") continue;
    const SessionCounts counts = compare_on_script(entry.path());
    EXPECT_GT(counts.inputs, 0U) << entry.path();
    total.inputs += counts.inputs;
    total.diagnostics += counts.diagnostics;
    total.commands += counts.commands;
    total.transitions += counts.transitions;
    ++scripts;
  }
  EXPECT_GE(scripts, 7U);
  RecordProperty("inputs", std::to_string(total.inputs));
  RecordProperty("diagnostics", std::to_string(total.diagnostics));
  RecordProperty("commands", std::to_string(total.commands));
  RecordProperty("transitions", std::to_string(total.transitions));
  // The sessions produced every part of an outcome, so none went unchecked.
  EXPECT_GT(total.inputs, 50U);
  EXPECT_GT(total.diagnostics, 0U);
  EXPECT_GT(total.commands, 0U);
  EXPECT_GT(total.transitions, 0U);
}

}  // namespace
}  // namespace dita::codec
