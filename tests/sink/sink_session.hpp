// Test-only scripted trading session for the sink tests: a kernel plus deterministic inputs
// (seed, then full trades with a two-leg exit across slots), and helpers to read exact
// decimals out of projected JSON rows.
#pragma once

#include <cstdint>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "dita/core/contracts.hpp"
#include "dita/core/kernel.hpp"
#include "dita/sink/projection.hpp"

namespace dita::sink::testing {

inline core::KernelConfig session_config() {
  core::KernelConfig config;
  config.slot_count = 4;
  config.active_slot_limit = 4;
  config.order_id_prefix = "dita";
  return config;
}

inline core::Kernel session_kernel() {
  return std::move(*core::Kernel::create(session_config()));
}

inline core::Quantity q(std::int64_t units) {
  return core::Quantity::from_units(units);
}
inline core::Price p(std::int64_t whole) {
  return core::Price::from_integer(whole);
}
inline core::Money m(std::int64_t units) {
  return core::Money::from_units(units);
}

// Inputs of a whole session: a capital seed, then `trades` trades; trade k runs on slot
// k % 4, alternates LONG/SHORT, fills its entry in two parts, exits in two legs (the second
// leg in two partial fills), with marks and ticks in between.
inline std::vector<core::KernelInput> session_inputs(std::uint32_t trades) {
  std::vector<core::KernelInput> inputs;
  std::int64_t ts = 1'700'000'000'000'000'000LL;
  std::uint64_t event_id = 1;
  std::uint64_t intent_id = 1;
  std::vector<std::uint32_t> trade_of_slot(4, 0);
  const auto add = [&](core::KernelInputPayload payload) {
    ts += 250'000'000;
    inputs.push_back({ts, std::move(payload)});
  };
  const auto symbol = *core::Symbol::parse("BTC-USDT");
  add(core::SeedCapital{core::Money::from_integer(10'000)});
  for (std::uint32_t k = 0; k < trades; ++k) {
    const std::uint32_t slot = k % 4;
    const std::uint32_t trade = ++trade_of_slot[slot];
    const core::Side side = k % 2 == 0 ? core::Side::kLong : core::Side::kShort;
    const std::int64_t base = 50'000 + static_cast<std::int64_t>(k % 7) * 10;
    const auto event = [&](core::KernelEventKind kind, std::uint16_t leg, std::int64_t cum,
                           std::int64_t price, std::int64_t fee_units) {
      core::VenueEvent e;
      e.kind = kind;
      e.event_id = event_id++;
      e.slot = slot;
      e.order = core::ClientOrderId{slot, trade, leg, 0};
      e.venue_order_id = 1'000'000 + static_cast<std::int64_t>(k) * 10 + leg;
      e.cumulative_filled = q(cum);
      e.average_price = cum > 0 ? p(price) : core::Price::zero();
      e.cumulative_fee = m(fee_units);
      return e;
    };
    core::KernelIntent enter;
    enter.kind = core::KernelIntentKind::kEnter;
    enter.id = *core::ClientIntentId::parse("k" + std::to_string(intent_id++));
    enter.slot = slot;
    enter.asset = symbol;
    enter.side = side;
    enter.size = q(1'000'000);  // 0.01 BTC
    add(enter);
    add(event(core::KernelEventKind::kAck, 0, 0, 0, 0));
    add(event(core::KernelEventKind::kPartialFill, 0, 400'000, base, 2'000'000));
    add(event(core::KernelEventKind::kFullFill, 0, 1'000'000, base + 10, 5'000'000));
    core::VenueEvent mark;
    mark.kind = core::KernelEventKind::kMarkPrice;
    mark.event_id = event_id++;
    mark.symbol = symbol;
    mark.mark_price = p(base + 50);
    add(mark);
    core::KernelIntent exit1;
    exit1.kind = core::KernelIntentKind::kExit;
    exit1.id = *core::ClientIntentId::parse("k" + std::to_string(intent_id++));
    exit1.slot = slot;
    exit1.size = q(600'000);
    add(exit1);
    add(event(core::KernelEventKind::kAck, 1, 0, 0, 0));
    add(event(core::KernelEventKind::kFullFill, 1, 600'000, base + 150, 3'000'000));
    add(core::Tick{});
    core::KernelIntent exit2;
    exit2.kind = core::KernelIntentKind::kExit;
    exit2.id = *core::ClientIntentId::parse("k" + std::to_string(intent_id++));
    exit2.slot = slot;
    add(exit2);
    add(event(core::KernelEventKind::kAck, 2, 0, 0, 0));
    add(event(core::KernelEventKind::kPartialFill, 2, 150'000, base - 20, 700'000));
    add(event(core::KernelEventKind::kFullFill, 2, 400'000, base - 30, 1'900'001));
  }
  return inputs;
}

// The raw text of a scalar field in a hand-built JSON row ("12.5", "\"abc\"", "null").
inline std::string raw_field(const std::string& json, const std::string& key) {
  const std::string needle = "\"" + key + "\":";
  const auto at = json.find(needle);
  if (at == std::string::npos) return {};
  auto start = at + needle.size();
  auto end = start;
  if (json[start] == '"') {
    end = start + 1;
    while (end < json.size() && json[end] != '"') end += json[end] == '\\' ? 2U : 1U;
    return json.substr(start + 1, end - start - 1);
  }
  while (end < json.size() && json[end] != ',' && json[end] != '}') ++end;
  return json.substr(start, end - start);
}

inline std::int64_t decimal_field(const std::string& json, const std::string& key) {
  return core::parse_decimal(raw_field(json, key)).value_or(INT64_MIN);
}

// Runs `inputs` through `kernel` and a projector, collecting every projection.
inline Projection project_all(core::Kernel& kernel, Projector& projector,
                              const std::vector<core::KernelInput>& inputs) {
  Projection all;
  core::KernelOutcome outcome;
  outcome.reserve(kernel.slot_count());
  for (const auto& input : inputs) {
    kernel.process(input, outcome);
    projector.project(input, outcome, kernel, all);
  }
  return all;
}

inline std::set<std::string> row_ids(const std::vector<Row>& rows) {
  std::set<std::string> ids;
  for (const auto& row : rows) ids.insert(row.row_id);
  return ids;
}

}  // namespace dita::sink::testing

namespace dita::sink::testing {

// Calls fn(row_id) for every JSONEachRow line of an INSERT body.
template <class Fn>
void for_each_row_id(const std::string& body, Fn&& fn) {
  std::size_t start = 0;
  while (start < body.size()) {
    auto end = body.find('\n', start);
    if (end == std::string::npos) end = body.size();
    const std::string line = body.substr(start, end - start);
    if (!line.empty()) fn(raw_field(line, "row_id"));
    start = end + 1;
  }
}

}  // namespace dita::sink::testing
