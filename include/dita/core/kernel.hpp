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
//
// Everything the kernel remembers is one plain value, KernelState: state() reads it and
// restore() rebuilds a kernel from it (snapshots), so a restored kernel continues exactly as
// the one that was saved.
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

// One remembered intent: its identity, what it asked for and what the kernel answered.
struct IntentMemo {
  std::uint64_t id_hash = 0;       // FNV-1a 64 of the client intent id
  std::uint64_t payload_hash = 0;  // kind, slot, asset, side, size, price, leverage
  std::uint64_t input_seq = 0;     // the input that consumed it
  bool accepted = false;           // it started an entry, an exit or a cancel
  KernelDiagnosticCode code = KernelDiagnosticCode::kInvalidInput;  // first diagnostic
  bool has_code = false;
  TradeStage stage_after = TradeStage::kIdle;
};

// A venue position no slot explains: entries on this symbol (and side) are refused until an
// operator adopts, flattens or releases it.
struct SymbolBlock {
  Symbol symbol;
  Side side = Side::kLong;
  bool netting = true;
  Quantity venue_quantity;  // netting: the net, on `side`
  Price venue_entry_price;
};

// The reconcile run in progress (RECONCILE_BEGIN .. RECONCILE_COMPLETE).
struct ReconcileRun {
  bool active = false;
  std::uint64_t run_id = 0;
  std::uint32_t slot = kAllSlots;
  ReconcileReason reason = ReconcileReason::kStale;
  bool netting = true;
  std::vector<ReconcilePosition> positions;  // capacity fixed at creation
};

struct KernelState {
  std::vector<TradeSlot> slots;
  std::vector<Price> marks;  // latest mark per instrument (index of config.instruments)
  AccountSnapshot account;
  std::uint32_t active_slot_limit = 1;
  std::uint64_t input_seq = 0;
  std::vector<IntentMemo> intents;  // ring of the newest config.intent_memory intents
  std::uint32_t intents_next = 0;   // ring position of the next memo
  std::uint32_t intents_count = 0;
  std::vector<std::uint64_t> fact_ids;  // ring of external-fill and funding ids applied
  std::uint32_t fact_ids_next = 0;
  std::vector<SymbolBlock> blocks;
  ReconcileRun run;
};

class Kernel {
 public:
  static constexpr std::uint32_t kMaxSlots = 256;
  static constexpr std::uint32_t kFactIdMemory = 256;
  static constexpr std::uint32_t kMaxSymbolBlocks = 64;

  static std::expected<Kernel, ConfigError> create(KernelConfig config);
  // A kernel that continues from `state` (a snapshot); the state is checked against the
  // configuration and for internal consistency, and refused naming the first bad field.
  static std::expected<Kernel, ConfigError> restore(KernelConfig config, KernelState state);

  // Folds one input. `out` is cleared first; size it once with out.reserve(slot_count()).
  void process(const KernelInput& input, KernelOutcome& out);

  std::span<const TradeSlot> slots() const { return state_.slots; }
  const TradeSlot& slot(std::uint32_t id) const { return state_.slots[id]; }
  const AccountSnapshot& account() const { return state_.account; }
  const KernelConfig& config() const { return config_; }
  const KernelState& state() const { return state_; }
  std::uint32_t slot_count() const { return static_cast<std::uint32_t>(state_.slots.size()); }
  std::uint32_t active_slot_limit() const { return state_.active_slot_limit; }
  std::uint64_t inputs_processed() const { return state_.input_seq; }
  std::span<const SymbolBlock> symbol_blocks() const { return state_.blocks; }
  const ReconcileRun& reconcile_run() const { return state_.run; }
  const Instrument* find_instrument(const Symbol& symbol) const;
  // True when a TICK at `now_ns` would act (query a hung order). A TICK that would not is
  // pure noise, so the shell does not feed (or journal) it; replay stays exact because the
  // kernel never saw it.
  bool tick_due(std::int64_t now_ns) const;
  // True when feeding this venue event at `now_ns` would report anything but DUPLICATE_EVENT
  // (it adds a fact the kernel does not hold). A periodic status check whose answer is no
  // news is then not fed, so an idle server with resting orders writes nothing. Leaves the
  // kernel exactly as it was.
  bool is_news(const VenueEvent& event, std::int64_t now_ns);

 private:
  explicit Kernel(KernelConfig config);

  void on_intent(const KernelIntent& intent, std::int64_t now, KernelOutcome& out);
  void dispatch_intent(const KernelIntent& intent, std::int64_t now, KernelOutcome& out);
  void on_venue_event(const VenueEvent& event, std::int64_t now, KernelOutcome& out);
  void on_tick(std::int64_t now, KernelOutcome& out);
  void on_mark(const VenueEvent& event, KernelOutcome& out);
  void on_seed(const SeedCapital& seed, KernelOutcome& out);
  void on_reconcile_begin(const ReconcileBegin& begin, KernelOutcome& out);
  void on_reconcile_position(const ReconcilePosition& position, KernelOutcome& out);
  void on_external_fill(const ExternalFill& fill, std::int64_t now, KernelOutcome& out);
  void on_reconcile_complete(const ReconcileComplete& complete, KernelOutcome& out);
  void on_funding(const FundingPayment& payment, KernelOutcome& out);
  void on_venue_health(const VenueHealth& health, KernelOutcome& out);
  void on_operator(const OperatorCommand& command, std::int64_t now, KernelOutcome& out);
  void on_set_active_slot_limit(const SetActiveSlotLimit& change, KernelOutcome& out);

  void start_entry(TradeSlot& slot, const KernelIntent& intent, std::int64_t now,
                   KernelOutcome& out);
  void start_exit(TradeSlot& slot, const KernelIntent& intent, std::int64_t now,
                  KernelOutcome& out);
  void begin_trade(TradeSlot& slot, const Symbol& asset, Side side, std::uint16_t leverage,
                   std::int64_t now);
  void request_cancel(TradeSlot& slot, KernelOutcome& out);
  void place_order(TradeSlot& slot, const ClientOrderId& id, OrderRole role, Quantity quantity,
                   Price price, std::int64_t now, KernelOutcome& out);
  VenueCommand& emit_order_command(const TradeSlot& slot, const VenueOrder& order,
                                   KernelCommandType type, KernelOutcome& out);
  void record_ack(TradeSlot& slot, VenueOrder& order, const VenueEvent& event, KernelOutcome& out);
  void apply_fill(TradeSlot& slot, VenueOrder& order, const VenueEvent& event, bool venue_done,
                  FsmInput trigger, KernelOutcome& out);
  void book_fill(TradeSlot& slot, VenueOrder& order, Quantity cumulative, Money cumulative_notional,
                 Money cumulative_fee, std::int64_t venue_trade_id, KernelOutcome& out);
  void apply_cancel_ack(TradeSlot& slot, VenueOrder& order, FsmInput trigger, KernelOutcome& out);
  void apply_cancel_reject(TradeSlot& slot, VenueOrder& order, const VenueEvent& event,
                           KernelOutcome& out);
  void apply_order_reject(TradeSlot& slot, VenueOrder& order, const VenueEvent& event,
                          FsmInput trigger, KernelOutcome& out);
  void apply_rate_limit(TradeSlot& slot, VenueOrder& order, const VenueEvent& event,
                        KernelOutcome& out);
  void fold_order_status(TradeSlot& slot, VenueOrder& order, const VenueEvent& event,
                         std::int64_t now, KernelOutcome& out);
  void check_hung_orders(TradeSlot& slot, std::int64_t now, KernelOutcome& out);
  bool hung_order_due(const TradeSlot& slot, std::int64_t now) const;
  void end_working_order(TradeSlot& slot, VenueOrder& order, OrderStatus status, FsmInput trigger,
                         KernelOutcome& out);
  void enter_reconcile(TradeSlot& slot, FsmInput trigger, KernelOutcome& out);
  void leave_reconcile(TradeSlot& slot, FsmInput trigger, KernelOutcome& out);
  void external_exit(TradeSlot& slot, const ExternalFill& fill, Quantity quantity, Money fee,
                     std::int64_t now, KernelOutcome& out);
  void fail_closed(TradeSlot& slot, const Symbol& symbol, Quantity venue_quantity,
                   Quantity kernel_quantity, KernelOutcome& out);
  void block_symbol(const Symbol& symbol, Side side, bool netting, Quantity quantity, Price price,
                    KernelOutcome& out);
  SymbolBlock* find_block(const Symbol& symbol, Side side, bool netting);
  void remove_block(const SymbolBlock& block);
  void adopt(TradeSlot& slot, const OperatorCommand& command, std::int64_t now, KernelOutcome& out);

  // Stage changes caused by venue news. While a slot reconciles they wait: RECONCILE_COMPLETE
  // derives the stage from the facts folded in the meantime.
  void advance(TradeSlot& slot, TradeStage stage, FsmInput trigger, KernelOutcome& out);
  void move_to(TradeSlot& slot, TradeStage stage, FsmInput trigger, KernelOutcome& out);
  TradeStage derived_stage(const TradeSlot& slot) const;
  void settle(TradeSlot& slot, KernelOutcome& out);
  void move_capital(Money amount);
  void refresh_unrealized(TradeSlot& slot, KernelOutcome& out);
  void mark_changed(TradeSlot& slot, KernelOutcome& out);
  void remember_event(TradeSlot& slot, std::uint64_t event_id);
  bool seen_event(const TradeSlot& slot, std::uint64_t event_id) const;
  bool seen_fact(std::uint64_t fact_id) const;
  void remember_fact(std::uint64_t fact_id);
  const IntentMemo* find_intent(std::uint64_t id_hash) const;
  void remember_intent(const IntentMemo& memo);
  void rebuild_intent_index();
  VenueOrder* find_order(TradeSlot& slot, const ClientOrderId& id);
  const VenueOrder* find_order(const TradeSlot& slot, const ClientOrderId& id) const;
  VenueOrder& add_order(TradeSlot& slot);
  std::uint32_t active_slots() const;
  bool is_working(const TradeSlot& slot, const VenueOrder& order) const;
  Quantity step_of(const Symbol& symbol) const;
  bool venue_banned(std::int64_t now) const;

  KernelDiagnostic& diagnose(KernelOutcome& out, KernelDiagnosticCode code, std::uint32_t slot,
                             std::string_view message);

  KernelConfig config_;
  KernelState state_;
  // Open-addressing index over state_.intents (ring positions + 1, 0 = empty); derived, so
  // a snapshot does not carry it.
  std::vector<std::uint32_t> intent_index_;
  KernelOutcome probe_;   // is_news() scratch, sized once
  std::int64_t now_ = 0;  // the time of the input being processed
};

// The hashes IntentMemo holds (exposed so tools can explain a memo).
std::uint64_t intent_id_hash(const ClientIntentId& id);
std::uint64_t intent_payload_hash(const KernelIntent& intent);

}  // namespace dita::core
