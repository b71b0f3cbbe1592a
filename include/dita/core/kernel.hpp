// dita/core/kernel.hpp
//
// Owns the execution kernel: the slots, the account projection and the one entry point
// `process`, which folds one input into state and reports everything it decided in a
// KernelOutcome. The kernel never calls a venue, reads a clock or allocates on the steady
// state path; the same inputs always give byte-identical outcomes.
//
//   dita::core::Kernel kernel = *dita::core::Kernel::create(config);
//   dita::core::KernelOutcome outcome;
//   kernel.process({.ts_ns = now, .payload = intent}, outcome);
//   for (const auto& command : outcome.commands) { /* the shell sends them */ }
#pragma once

#include <cstdint>
#include <expected>
#include <span>
#include <string>
#include <vector>

#include "dita/core/contracts.hpp"
#include "dita/core/fsm.hpp"

namespace dita::core {

struct ConfigError {
  std::string setting;
  std::string message;
};

class Kernel {
 public:
  static constexpr std::uint32_t kMaxSlots = 256;

  static std::expected<Kernel, ConfigError> create(KernelConfig config);

  // Folds one input. `out` is cleared first; size it once with out.reserve(slot_count()).
  void process(const KernelInput& input, KernelOutcome& out);

  std::span<const TradeSlot> slots() const { return slots_; }
  const TradeSlot& slot(std::uint32_t id) const { return slots_[id]; }
  const AccountSnapshot& account() const { return account_; }
  const KernelConfig& config() const { return config_; }
  std::uint32_t slot_count() const { return static_cast<std::uint32_t>(slots_.size()); }
  std::uint32_t active_slot_limit() const { return active_slot_limit_; }
  std::uint64_t inputs_processed() const { return input_seq_; }
  const Instrument* find_instrument(const Symbol& symbol) const;
  // True when a TICK at `now_ns` would act (query a hung order). A TICK that would not is
  // pure noise, so the shell does not feed (or journal) it; replay stays exact because the
  // kernel never saw it.
  bool tick_due(std::int64_t now_ns) const;

 private:
  explicit Kernel(KernelConfig config);

  void on_intent(const KernelIntent& intent, std::int64_t now, KernelOutcome& out);
  void on_venue_event(const VenueEvent& event, std::int64_t now, KernelOutcome& out);
  void on_tick(std::int64_t now, KernelOutcome& out);
  void on_mark(const VenueEvent& event, KernelOutcome& out);
  void on_seed(const SeedCapital& seed, KernelOutcome& out);
  void on_reconcile_begin(const ReconcileBegin& begin, KernelOutcome& out);
  void on_reconcile_complete(const ReconcileComplete& truth, KernelOutcome& out);
  void on_set_active_slot_limit(const SetActiveSlotLimit& change, KernelOutcome& out);

  void start_entry(TradeSlot& slot, const KernelIntent& intent, std::int64_t now,
                   KernelOutcome& out);
  void start_exit(TradeSlot& slot, const KernelIntent& intent, std::int64_t now,
                  KernelOutcome& out);
  void request_cancel(TradeSlot& slot, KernelOutcome& out);
  void place_order(TradeSlot& slot, const ClientOrderId& id, OrderRole role, Quantity quantity,
                   Price price, std::int64_t now, KernelOutcome& out);
  VenueCommand& emit_order_command(const TradeSlot& slot, const VenueOrder& order,
                                   KernelCommandType type, KernelOutcome& out);
  void record_ack(TradeSlot& slot, VenueOrder& order, const VenueEvent& event, KernelOutcome& out);
  void apply_fill(TradeSlot& slot, VenueOrder& order, const VenueEvent& event, bool venue_done,
                  FsmInput trigger, KernelOutcome& out);
  void apply_cancel_ack(TradeSlot& slot, VenueOrder& order, FsmInput trigger, KernelOutcome& out);
  void apply_cancel_reject(TradeSlot& slot, VenueOrder& order, const VenueEvent& event,
                           KernelOutcome& out);
  void apply_order_reject(TradeSlot& slot, VenueOrder& order, const VenueEvent& event,
                          FsmInput trigger, KernelOutcome& out);
  void apply_rate_limit(TradeSlot& slot, VenueOrder& order, const VenueEvent& event,
                        KernelOutcome& out);
  void fold_order_status(TradeSlot& slot, VenueOrder& order, const VenueEvent& event,
                         std::int64_t now, KernelOutcome& out);
  bool hung_order_due(const TradeSlot& slot, std::int64_t now) const;
  void check_hung_orders(TradeSlot& slot, std::int64_t now, KernelOutcome& out);
  void end_working_order(TradeSlot& slot, VenueOrder& order, OrderStatus status, FsmInput trigger,
                         KernelOutcome& out);
  void enter_reconcile(TradeSlot& slot, FsmInput trigger, KernelOutcome& out);

  void move_to(TradeSlot& slot, TradeStage stage, FsmInput trigger, KernelOutcome& out);
  void settle(TradeSlot& slot, KernelOutcome& out);
  void refresh_unrealized(TradeSlot& slot, KernelOutcome& out);
  void mark_changed(TradeSlot& slot, KernelOutcome& out);
  void remember_event(TradeSlot& slot, std::uint64_t event_id);
  bool seen_event(const TradeSlot& slot, std::uint64_t event_id) const;
  VenueOrder* find_order(TradeSlot& slot, const ClientOrderId& id);
  VenueOrder& add_order(TradeSlot& slot);
  std::uint32_t active_slots() const;

  KernelDiagnostic& diagnose(KernelOutcome& out, KernelDiagnosticCode code, KernelSeverity severity,
                             std::uint32_t slot, std::string_view message);

  KernelConfig config_;
  std::vector<TradeSlot> slots_;
  std::vector<Price> marks_;  // latest mark per instrument (index of config_.instruments)
  AccountSnapshot account_;
  std::uint32_t active_slot_limit_ = 1;
  std::uint64_t input_seq_ = 0;
};

}  // namespace dita::core
