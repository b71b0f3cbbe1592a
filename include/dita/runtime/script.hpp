// dita/runtime/script.hpp
//
// Owns the scripted strategy session format that `dita run` feeds through the kernel: one
// JSON object per line (blank lines and lines starting with '#' are skipped).
//
//   {"type":"seed_capital","capital":"10000"}
//   {"type":"mark","symbol":"BTC-USDT","price":"60000"}
//   {"type":"venue","scenario":"PARTIAL_FILLS","legs":[{"quantity":"0.004","price":"60010"}]}
//   {"type":"enter","slot":0,"asset":"BTC-USDT","side":"LONG","size":"0.01","leverage":5}
//   {"type":"exit","slot":0,"size":"0.004","price":"61000"}
//   {"type":"cancel","slot":0}
//   {"type":"advance","ms":6000}                 // clock moves, then a TICK
//   {"type":"reconcile","slot":0}                // RECONCILE_BEGIN, venue truth, COMPLETE
//   {"type":"set_active_slot_limit","limit":2}
//   {"type":"expect","slot":0,"stage":"CLOSED","size":"0"}   // checked, run fails if not
//   {"type":"expect","capital":"10004.5","trade_seq":1}
//
// Time is logical: every step advances the clock by 1 ms from 2026-01-01T00:00:00Z, so a
// script always produces the same journal.
#pragma once

#include <cstdint>
#include <expected>
#include <istream>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "dita/core/contracts.hpp"
#include "dita/runtime/session.hpp"
#include "dita/venue/mock_venue.hpp"

namespace dita::runtime {

struct ScriptError {
  std::size_t line = 0;
  std::string field;
  std::string message;
  std::string describe() const;
};

struct AdvanceClock {
  std::int64_t ms = 0;
};
struct ReconcileSlot {
  std::uint32_t slot = 0;
};
struct MarkStep {
  core::Symbol symbol;
  core::Price price;
};
struct Expectation {
  std::optional<std::uint32_t> slot;
  std::optional<core::TradeStage> stage;
  std::optional<core::Quantity> size;
  std::optional<core::Money> realized_pnl;
  std::optional<core::Money> capital;
  std::optional<std::uint64_t> trade_seq;
};

using ScriptAction = std::variant<core::KernelInputPayload, AdvanceClock, ReconcileSlot, MarkStep,
                                  venue::MockScenario, Expectation>;

struct ScriptStep {
  std::size_t line = 0;
  ScriptAction action;
};

std::expected<std::vector<ScriptStep>, ScriptError> parse_script(std::istream& in);

// Feeds one step into `session`, whose venue is `venue`, as `dita run` does: kernel inputs,
// marks (the venue's and the kernel's), clock advances (a Tick), reconcile passes (begin, then
// the venue's truth) and mock scenarios (queued on the venue and journaled as a META note).
// `now` moves 1 ms per step, plus an advance's own amount. Expectation steps only move `now`:
// checking them is the caller's.
std::expected<void, SessionError> feed_script_step(Session& session, venue::MockVenue& venue,
                                                   const ScriptStep& step, std::int64_t& now);

}  // namespace dita::runtime
