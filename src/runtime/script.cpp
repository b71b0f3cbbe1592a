#include "dita/runtime/script.hpp"

#include <limits>

#include <nlohmann/json.hpp>

#include "dita/codec/json_codec.hpp"
#include "dita/runtime/reconcile_plan.hpp"

namespace dita::runtime {
namespace {

using nlohmann::json;

std::unexpected<ScriptError> fail(std::size_t line, std::string field, std::string message) {
  return std::unexpected(ScriptError{line, std::move(field), std::move(message)});
}

std::expected<std::uint32_t, ScriptError> slot_of(const json& step, std::size_t line) {
  const auto it = step.find("slot");
  if (it == step.end()) return fail(line, "slot", "is required");
  if (!it->is_number_unsigned() || it->get<std::uint64_t>() > 0xFFFFFFFEU) {
    return fail(line, "slot", "must be a non-negative integer");
  }
  return static_cast<std::uint32_t>(it->get<std::uint64_t>());
}

std::expected<std::int64_t, ScriptError> decimal(const json& object, std::string_view key,
                                                 std::size_t line, bool required) {
  auto value = codec::decimal_field(object, key, "", required, false);
  if (!value) return fail(line, value.error().field, value.error().message);
  return *value;
}

// An intent in script form is the journal's intent body minus the ids we assign.
std::expected<core::KernelInputPayload, ScriptError> intent_step(const json& step,
                                                                 std::string_view type,
                                                                 std::uint64_t intent_id,
                                                                 std::size_t line) {
  json body = step;
  body.erase("type");
  std::string kind(type);
  for (char& c : kind) c = static_cast<char>(c - 'a' + 'A');
  body["type"] = kind;
  // Scripts name intents by "id" (text) or the older "intent_id" (a number); unnamed intents
  // are numbered in line order.
  if (const auto legacy = body.find("intent_id"); legacy != body.end()) {
    if (!body.contains("id")) body["id"] = legacy->is_string() ? *legacy : json(legacy->dump());
    body.erase("intent_id");
  }
  if (!body.contains("id")) body["id"] = std::to_string(intent_id);
  const json input = {{"ts_ns", 0}, {"kind", "INTENT"}, {"intent", body}};
  auto decoded = codec::input_from_json(input, codec::CodecContext{});
  if (!decoded) {
    std::string field = decoded.error().field;
    if (field.starts_with("intent.")) field = field.substr(7);
    return fail(line, field, decoded.error().message);
  }
  return decoded->payload;
}

std::expected<venue::MockScenario, ScriptError> scenario_step(const json& step, std::size_t line) {
  venue::MockScenario scenario;
  const auto kind = step.find("scenario");
  if (kind == step.end() || !kind->is_string()) {
    return fail(line, "scenario",
                "is required: ACCEPT_FILL, PARTIAL_FILLS, REJECT, CANCEL_REJECT, REST, HANG or "
                "RATE_LIMITED");
  }
  const auto parsed = venue::parse_mock_scenario_kind(kind->get<std::string>());
  if (!parsed) {
    return fail(line, "scenario",
                "'" + kind->get<std::string>() +
                    "' is not one of: ACCEPT_FILL, PARTIAL_FILLS, REJECT, CANCEL_REJECT, REST, "
                    "HANG, RATE_LIMITED");
  }
  scenario.kind = *parsed;
  if (const auto legs = step.find("legs"); legs != step.end()) {
    if (!legs->is_array() || legs->empty() || legs->size() > 64) {
      return fail(line, "legs", "must be an array of 1 to 64 {quantity, price} objects");
    }
    for (const json& leg : *legs) {
      if (!leg.is_object()) return fail(line, "legs", "each leg must be an object");
      auto quantity = decimal(leg, "quantity", line, true);
      if (!quantity) return std::unexpected(quantity.error());
      if (*quantity <= 0) return fail(line, "legs.quantity", "must be positive");
      auto price = decimal(leg, "price", line, false);
      if (!price) return std::unexpected(price.error());
      scenario.legs.push_back(
          {core::Quantity::from_units(*quantity), core::Price::from_units(*price)});
    }
  }
  if (scenario.kind == venue::MockScenarioKind::kPartialFills && scenario.legs.empty()) {
    return fail(line, "legs", "PARTIAL_FILLS needs at least one leg");
  }
  if (const auto code = step.find("venue_code"); code != step.end()) {
    if (!code->is_number_integer() || code->get<std::int64_t>() < 0 ||
        code->get<std::int64_t>() > std::numeric_limits<std::int32_t>::max()) {
      return fail(line, "venue_code", "must be a positive integer");
    }
    scenario.venue_code = static_cast<std::int32_t>(code->get<std::int64_t>());
  }
  if (const auto retry = step.find("retry_after_ms"); retry != step.end()) {
    if (!retry->is_number_unsigned())
      return fail(line, "retry_after_ms", "must be a non-negative integer");
    scenario.retry_after_ms = retry->get<std::int64_t>();
  }
  if (const auto hang = step.find("hang"); hang != step.end()) {
    const auto mode =
        hang->is_string() ? venue::parse_mock_hang_mode(hang->get<std::string>()) : std::nullopt;
    if (!mode) return fail(line, "hang", "must be one of: ACK_LOST, FILL_LOST, NEVER_ARRIVED");
    scenario.hang = *mode;
  }
  for (const char* flag : {"duplicate", "reverse"}) {
    if (const auto it = step.find(flag); it != step.end()) {
      if (!it->is_boolean()) return fail(line, flag, "must be true or false");
      (std::string_view(flag) == "duplicate" ? scenario.duplicate : scenario.reverse) =
          it->get<bool>();
    }
  }
  return scenario;
}

std::expected<Expectation, ScriptError> expect_step(const json& step, std::size_t line) {
  Expectation expectation;
  if (step.contains("slot")) {
    auto slot = slot_of(step, line);
    if (!slot) return std::unexpected(slot.error());
    expectation.slot = *slot;
  }
  if (const auto stage = step.find("stage"); stage != step.end()) {
    const auto parsed = stage->is_string()
                            ? core::parse_enum<core::TradeStage>(stage->get<std::string>())
                            : std::nullopt;
    if (!parsed) return fail(line, "stage", "must be a TradeStage name such as POSITION_OPEN");
    expectation.stage = *parsed;
  }
  if (step.contains("size")) {
    auto size = decimal(step, "size", line, true);
    if (!size) return std::unexpected(size.error());
    expectation.size = core::Quantity::from_units(*size);
  }
  if (step.contains("realized_pnl")) {
    auto value = codec::decimal_field(step, "realized_pnl", "", true, true);
    if (!value) return fail(line, "realized_pnl", value.error().message);
    expectation.realized_pnl = core::Money::from_units(*value);
  }
  if (step.contains("capital")) {
    auto value = codec::decimal_field(step, "capital", "", true, true);
    if (!value) return fail(line, "capital", value.error().message);
    expectation.capital = core::Money::from_units(*value);
  }
  if (const auto seq = step.find("trade_seq"); seq != step.end()) {
    if (!seq->is_number_unsigned())
      return fail(line, "trade_seq", "must be a non-negative integer");
    expectation.trade_seq = seq->get<std::uint64_t>();
  }
  if ((expectation.stage || expectation.size || expectation.realized_pnl) && !expectation.slot) {
    return fail(line, "slot", "is required to check stage, size or realized_pnl");
  }
  return expectation;
}

}  // namespace

std::string ScriptError::describe() const {
  return "script line " + std::to_string(line) + (field.empty() ? "" : ", field '" + field + "'") +
         ": " + message;
}

std::expected<std::vector<ScriptStep>, ScriptError> parse_script(std::istream& in) {
  std::vector<ScriptStep> steps;
  std::string text;
  std::size_t line = 0;
  std::uint64_t next_intent_id = 1;
  constexpr std::size_t kMaxLineBytes = 64 * 1024;
  while (std::getline(in, text)) {
    ++line;
    const auto first = text.find_first_not_of(" \t\r");
    if (first == std::string::npos || text[first] == '#') continue;
    if (text.size() > kMaxLineBytes) return fail(line, "", "line longer than 64 KiB");
    json step = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (step.is_discarded() || !step.is_object()) return fail(line, "", "not a JSON object");
    const auto type_it = step.find("type");
    if (type_it == step.end() || !type_it->is_string()) {
      return fail(line, "type", "is required");
    }
    const std::string type = type_it->get<std::string>();
    ScriptStep out{line, {}};
    if (type == "enter" || type == "exit" || type == "cancel") {
      auto payload = intent_step(step, type, next_intent_id++, line);
      if (!payload) return std::unexpected(payload.error());
      out.action = *payload;
    } else if (type == "seed_capital") {
      auto capital = decimal(step, "capital", line, true);
      if (!capital) return std::unexpected(capital.error());
      out.action = core::KernelInputPayload{core::SeedCapital{core::Money::from_units(*capital)}};
    } else if (type == "mark") {
      const auto symbol = step.contains("symbol") && step["symbol"].is_string()
                              ? core::Symbol::parse(step["symbol"].get<std::string>())
                              : std::nullopt;
      if (!symbol) return fail(line, "symbol", "must be a symbol such as \"BTC-USDT\"");
      auto price = decimal(step, "price", line, true);
      if (!price) return std::unexpected(price.error());
      if (*price <= 0) return fail(line, "price", "must be positive");
      out.action = MarkStep{*symbol, core::Price::from_units(*price)};
    } else if (type == "advance") {
      const auto ms = step.find("ms");
      if (ms == step.end() || !ms->is_number_unsigned() || ms->get<std::uint64_t>() > 86'400'000) {
        return fail(line, "ms", "must be an integer between 0 and 86400000");
      }
      out.action = AdvanceClock{ms->get<std::int64_t>()};
    } else if (type == "reconcile") {
      auto slot = slot_of(step, line);
      if (!slot) return std::unexpected(slot.error());
      out.action = ReconcileSlot{*slot};
    } else if (type == "set_active_slot_limit") {
      const auto limit = step.find("limit");
      if (limit == step.end() || !limit->is_number_unsigned() ||
          limit->get<std::uint64_t>() > 256) {
        return fail(line, "limit", "must be an integer between 0 and 256");
      }
      out.action = core::KernelInputPayload{
          core::SetActiveSlotLimit{static_cast<std::uint32_t>(limit->get<std::uint64_t>())}};
    } else if (type == "venue") {
      auto scenario = scenario_step(step, line);
      if (!scenario) return std::unexpected(scenario.error());
      out.action = std::move(*scenario);
    } else if (type == "expect") {
      auto expectation = expect_step(step, line);
      if (!expectation) return std::unexpected(expectation.error());
      out.action = *expectation;
    } else {
      return fail(line, "type",
                  "'" + type +
                      "' is not one of: seed_capital, mark, venue, enter, exit, cancel, advance, "
                      "reconcile, set_active_slot_limit, expect");
    }
    steps.push_back(std::move(out));
  }
  return steps;
}

namespace {

// The META note a queued mock scenario leaves in the journal, so `dita replay` and a reader
// of the journal know why the venue answered as it did.
json scenario_meta(const venue::MockScenario& scenario, std::size_t line) {
  json meta;
  meta["meta"] = "mock_scenario";
  meta["script_line"] = line;
  meta["scenario"] = std::string(venue::to_string(scenario.kind));
  json legs = json::array();
  for (const auto& leg : scenario.legs) {
    legs.push_back(
        {{"quantity", core::to_string(leg.quantity)}, {"price", core::to_string(leg.price)}});
  }
  meta["legs"] = legs;
  meta["venue_code"] = scenario.venue_code;
  meta["retry_after_ms"] = scenario.retry_after_ms;
  meta["hang"] = std::string(venue::to_string(scenario.hang));
  meta["duplicate"] = scenario.duplicate;
  meta["reverse"] = scenario.reverse;
  return meta;
}

}  // namespace

std::expected<void, SessionError> feed_script_step(Session& session, venue::MockVenue& venue,
                                                   const ScriptStep& step, std::int64_t& now) {
  now += 1'000'000;
  if (const auto* payload = std::get_if<core::KernelInputPayload>(&step.action)) {
    return session.feed({now, *payload});
  }
  if (const auto* mark = std::get_if<MarkStep>(&step.action)) {
    venue.set_mark(mark->symbol, mark->price);
    core::VenueEvent event;
    event.kind = core::KernelEventKind::kMarkPrice;
    event.symbol = mark->symbol;
    event.mark_price = mark->price;
    return session.feed({now, event});
  }
  if (const auto* advance = std::get_if<AdvanceClock>(&step.action)) {
    now += advance->ms * 1'000'000;
    return session.feed({now, core::Tick{}});
  }
  if (const auto* reconcile = std::get_if<ReconcileSlot>(&step.action)) {
    // One reconcile run with the mock's truth, journaled input by input; the run id is the
    // step's line, so a script always mints the same ids.
    auto truth = venue.fetch_truth(truth_request(session.kernel(), reconcile->slot, 0));
    if (!truth) return std::unexpected(SessionError{"mock venue truth: " + truth.error().message});
    for (const core::KernelInputPayload& input :
         reconcile_inputs(step.line, reconcile->slot, core::ReconcileReason::kOperator, *truth)) {
      if (auto fed = session.feed({now, input}); !fed) return fed;
    }
    return {};
  }
  if (const auto* scenario = std::get_if<venue::MockScenario>(&step.action)) {
    venue.queue_scenario(*scenario);
    return session.note(codec::canonical(scenario_meta(*scenario, step.line)));
  }
  return {};  // an expectation: the caller checks it
}

}  // namespace dita::runtime
