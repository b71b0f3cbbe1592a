// dita/sink/projection.hpp
//
// Owns the projection of kernel outcomes onto the two sinks: which ClickHouse rows (one JSON
// object per row, every column present, for the tables of deploy/clickhouse/) and which
// Hazelcast writes (slot-state map, account/PnL map, active-slot registry, control map,
// trade-event topic) one kernel input produces. Pure and deterministic: the same inputs give
// byte-identical rows and row ids, which is what lets a retried or re-delivered batch dedup.
//
// The Projector keeps one piece of state, the slot images as of the previous input, because
// per-leg deltas (fill quantity, proceeds, cost share, fees, realized PnL) are differences
// between a slot before and after an input. It is seeded from the kernel at start.
//
// Row ids: "<strategy>:<table>:<seq>:<item>", where seq is the kernel's input sequence
// (KernelOutcome::input_seq) and item the row's index among that input's rows of that table.
// Venue messages use the adapter's message sequence; control changes append "@<origin>" to
// keep the control plane's sequence apart from kernel input sequences.
//
// Mode rule: DEBUG emits every family (every transition, one kernel_inputs row per input with
// the canonical input and outcome, so the whole timeline can be replayed, all diagnostics,
// venue messages). NORMAL emits only trade-level rows: trade_entries, trade_exits,
// trade_exit_legs, account_snapshots, reconcile_events, control_changes and diagnostics of
// severity WARNING or above. Hazelcast writes are the same in both modes.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dita/core/contracts.hpp"
#include "dita/core/kernel.hpp"

namespace dita::sink {

enum class Table : std::uint8_t {
  kTransitions,
  kTradeEntries,
  kTradeExits,
  kTradeExitLegs,
  kAccountSnapshots,
  kDiagnostics,
  kControlChanges,
  kVenueMessages,
  kReconcileEvents,
  kKernelInputs,
};
inline constexpr std::size_t kTableCount = 10;

// "transitions", "trade_entries", ... (the table name without the database).
std::string_view table_name(Table table);
// The columns of `table` in DDL order; every row of the table carries exactly these keys.
std::span<const std::string_view> table_columns(Table table);

// One ClickHouse row: `json` is one JSONEachRow object with every column of `table`.
struct Row {
  Table table = Table::kTransitions;
  std::string row_id;
  std::string json;
  friend bool operator==(const Row&, const Row&) = default;
};

enum class HazelcastOpKind : std::uint8_t { kMapSet, kMapRemove, kTopicPublish };

// One Hazelcast write: a map set/remove (String key, HazelcastJsonValue value) or a topic
// message (value only). Map writes are idempotent; topic messages carry a deterministic
// "event_id" so subscribers can drop a re-delivered one.
struct HazelcastOp {
  HazelcastOpKind kind = HazelcastOpKind::kMapSet;
  std::string name;   // map or topic name
  std::string key;    // empty for topics
  std::string value;  // JSON text; empty for removes
  friend bool operator==(const HazelcastOp&, const HazelcastOp&) = default;
};

struct HazelcastNames {
  std::string state;         // slot id -> canonical slot JSON
  std::string pnl;           // "account" -> account / PnL JSON
  std::string active_slots;  // slot id -> {slot_id, trade_id, stage, asset, side}, active only
  std::string control;       // control name -> {value, actor, reason, seq, ts_ms}
  std::string trade_events;  // topic: ENTER / ENTRY_FILL / EXIT_FILL / CLOSE messages

  // DITA_STATE_<strategy>, DITA_PNL_<strategy>, DITA_ACTIVE_SLOTS_<strategy>,
  // DITA_CONTROL_<strategy>, DITA_TRADE_EVENTS_<strategy> (with `prefix` instead of DITA).
  static HazelcastNames for_strategy(std::string_view strategy, std::string_view prefix = "DITA");
};

struct ProjectionConfig {
  std::string strategy = "default";
  core::KernelMode mode = core::KernelMode::kNormal;
  std::string order_id_prefix = "dita";  // as in KernelConfig, to render client order ids
  std::string account_id = "main";
  std::string currency = "USDT";
  HazelcastNames names = HazelcastNames::for_strategy("default");
};

// Everything one input (or one control change / venue message) projects to.
struct Projection {
  std::vector<Row> rows;
  std::vector<HazelcastOp> hazelcast;
  void clear() {
    rows.clear();
    hazelcast.clear();
  }
};

// An operator/control-plane change (halt, resume, limits), recorded by whoever applied it.
struct ControlChange {
  std::uint64_t seq = 0;  // the control plane's own version / sequence; part of the row id
  // Sequence space of `seq`, appended to the row id ("...:<seq>:0@control"): "control" for the
  // control plane, "input" for limits that arrived as kernel inputs (seq = input seq).
  std::string origin = "control";
  std::int64_t ts_ns = 0;
  std::string control;
  std::string old_value;
  std::string new_value;
  std::string actor;
  std::string reason;
};

// A venue request or response (debug stream), recorded by the venue adapter. The payload must
// already be redacted (no keys, no signatures).
struct VenueMessage {
  std::uint64_t seq = 0;  // the adapter's own message sequence; part of the row id
  std::int64_t ts_ns = 0;
  std::string venue;
  std::string direction;  // "REQUEST" or "RESPONSE"
  std::string correlation_id;
  std::string method;
  std::string endpoint;
  std::int32_t http_status = 0;
  std::uint64_t latency_us = 0;
  std::string payload;
};

std::string make_row_id(std::string_view strategy, Table table, std::uint64_t seq,
                        std::uint32_t item);

// The slot images a projection needs after an input: those of outcome.changed_slots (the
// kernel lists every slot whose image changed, a new mark included). Clears `out`; no
// allocation once `out` has capacity for the slot count.
void collect_changed_slots(const core::KernelOutcome& outcome, const core::Kernel& kernel,
                           std::vector<core::TradeSlot>& out);

class Projector {
 public:
  // `slots` and `active_slot_limit` are the kernel's state before the first projected input.
  Projector(ProjectionConfig config, std::span<const core::TradeSlot> slots,
            std::uint32_t active_slot_limit);
  Projector(ProjectionConfig config, const core::Kernel& kernel);

  // Projects one processed input. `changed_after` holds the images (after the input) of the
  // slots listed in outcome.changed_slots, in any order. Appends to `out`.
  void project(const core::KernelInput& input, const core::KernelOutcome& outcome,
               std::span<const core::TradeSlot> changed_after, std::uint32_t active_slot_limit,
               Projection& out);
  // Takes the slot images of an input without projecting it (an input already projected
  // before a restart), so the next input's per-leg deltas start from the right state.
  void advance(std::span<const core::TradeSlot> changed_after, std::uint32_t active_slot_limit);
  // Convenience on the kernel thread (tests, tools): takes the changed images from `kernel`.
  void project(const core::KernelInput& input, const core::KernelOutcome& outcome,
               const core::Kernel& kernel, Projection& out);

  // The full Hazelcast state as of now (every slot, the account, the active registry with
  // removes for inactive slots): written at start so a fresh member converges.
  void snapshot(const core::AccountSnapshot& account, std::int64_t ts_ns, Projection& out) const;

  void project_control_change(const ControlChange& change, Projection& out) const;
  // DEBUG only; NORMAL mode adds nothing.
  void project_venue_message(const VenueMessage& message, Projection& out) const;

  [[nodiscard]] const ProjectionConfig& config() const { return config_; }
  [[nodiscard]] std::span<const core::TradeSlot> slots() const { return slots_; }

 private:
  ProjectionConfig config_;
  std::vector<core::TradeSlot> slots_;  // as of the last projected input
  std::uint32_t active_slot_limit_ = 0;
};

// JSON string escaping for hand-built rows (quotes, backslash, control characters).
void append_json_string(std::string& out, std::string_view text);
// "YYYY-MM-DD hh:mm:ss" in UTC, the DateTime text both 18.16 and current servers accept.
std::string format_datetime(std::int64_t ts_ns);

}  // namespace dita::sink
