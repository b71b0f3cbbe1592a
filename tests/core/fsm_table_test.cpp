// The FSM table, cell by cell: for each (TradeStage x FsmInput) a slot is driven into the
// stage with real inputs, the cell's input is fed with a valid payload that names the slot's
// relevant order, and the documented result is asserted: resulting stage, diagnostics,
// venue commands, and for refusals an unchanged slot image and account.
#include "dita/core/fsm.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/kernel_test_support.hpp"
#include "dita/codec/json_codec.hpp"
#include "dita/core/kernel.hpp"

namespace dita::core {
namespace {

using namespace dita::core::testing;
using C = KernelDiagnosticCode;
using S = TradeStage;
using I = FsmInput;
using Cmd = KernelCommandType;

// How much of the slot a cell may change.
enum class Keeps {
  kNothing,       // refusal: the full image (applied-event ring included) and account unchanged
  kAllButEvents,  // accepted but redundant: only the applied-event ring may grow
  kFree,          // a real transition or update
};

struct Driven {
  std::unique_ptr<Harness> harness;
  ClientOrderId relevant;  // the order the cell's venue events name
};

// Slot 0 in each stage, reached with real inputs (comments give the path).
Driven drive_to(S stage) {
  Driven d{std::make_unique<Harness>(), {}};
  Harness& h = *d.harness;
  const ClientOrderId entry = entry_order(0, 1);
  const ClientOrderId exit_leg = exit_order(0, 1, 1, 0);
  switch (stage) {
    case S::kIdle:
      // A limit entry acknowledged then cancelled without fills: IDLE with a cancelled order.
      h.enter(0, "0.02", "100");
      h.ack(entry);
      h.cancel(0);
      h.cancel_ack(entry);
      d.relevant = entry;
      break;
    case S::kEntryWorking:
      // A market entry sent, not yet acknowledged.
      h.enter(0, "0.02");
      d.relevant = entry;
      break;
    case S::kPositionOpen:
      // Entry filled; an exit of everything acknowledged then cancelled with no fills.
      h.enter(0, "0.02");
      h.ack(entry);
      h.full(entry, "0.02", "100");
      h.exit(0);
      h.ack(exit_leg);
      h.cancel(0);
      h.cancel_ack(exit_leg);
      d.relevant = exit_leg;
      break;
    case S::kExitWorking:
      // Entry filled; an exit of everything sent, not yet acknowledged.
      h.enter(0, "0.02");
      h.ack(entry);
      h.full(entry, "0.02", "100");
      h.exit(0);
      d.relevant = exit_leg;
      break;
    case S::kClosed:
      // The venue finished the entry short (0.01 of 0.02); the exit sold the 0.01.
      h.enter(0, "0.02");
      h.ack(entry);
      h.full(entry, "0.01", "100");
      h.exit(0);
      h.ack(exit_leg);
      h.full(exit_leg, "0.01", "110");
      d.relevant = entry;
      break;
    case S::kStaleStateReconciling:
      // An unacknowledged entry whose slot was sent to reconcile.
      h.enter(0, "0.02");
      h.reconcile_begin(0);
      d.relevant = entry;
      break;
  }
  EXPECT_EQ(h.slot().stage, stage) << "driver did not reach " << to_string(stage);
  return d;
}

const VenueOrder& order_of(const Harness& h, const ClientOrderId& id) {
  const TradeSlot& slot = h.slot();
  for (std::size_t i = 0; i < slot.order_count; ++i) {
    if (slot.orders[i].id == id) return slot.orders[i];
  }
  ADD_FAILURE() << "relevant order not in slot";
  return slot.orders[0];
}

std::string price_for(const VenueOrder& order) {
  return order.role == OrderRole::kEntry ? "100" : "110";
}

// Default payloads; a cell may override its cumulative quantity.
const KernelOutcome& feed_input(Harness& h, I input, const ClientOrderId& rel,
                                std::optional<std::string> cumulative) {
  const VenueOrder& order = order_of(h, rel);
  const std::string half =
      format_decimal(order.filled.units() + (order.quantity.units() - order.filled.units()) / 2);
  const std::string all = format_decimal(order.quantity.units());
  const std::string price = price_for(order);
  switch (input) {
    case I::kEnter:
      return h.enter(0, "0.03");
    case I::kExit:
      return h.exit(0);
    case I::kCancel:
      return h.cancel(0);
    case I::kAck:
      return h.ack(rel);
    case I::kPartialFill:
      return h.partial(rel, cumulative.value_or(half), price);
    case I::kFullFill:
      return h.full(rel, cumulative.value_or(all), price);
    case I::kCancelAck:
      return h.cancel_ack(rel);
    case I::kCancelReject:
      return h.cancel_reject(rel);
    case I::kOrderReject:
      return h.order_reject(rel);
    case I::kRateLimited:
      return h.rate_limited(rel, Cmd::kPlaceOrder, 1000);
    case I::kOrderStatus:
      return h.order_status(rel, OrderStatus::kFilled, cumulative.value_or(all), price);
    case I::kMarkPrice:
      return h.mark("BTC-USDT", "120");
    case I::kReconcileBegin:
      return h.reconcile_begin(0);
    case I::kReconcileComplete:
      // The open run (if any) hears the venue agree with the kernel.
      h.agreeing_positions();
      return h.reconcile_complete();
    case I::kTick:
      return h.tick(kAckTimeout + kMs);
    case I::kExternalFill: {
      // A liquidation of whatever the slot holds (0.01 when it holds nothing).
      const TradeSlot& s = h.slot();
      const std::string size = s.size.is_positive() ? format_decimal(s.size.units()) : "0.01";
      return h.external_fill("BTC-USDT", Side::kLong, size, "90", "0.01");
    }
    case I::kFunding:
      return h.funding("BTC-USDT", "-0.05");
    case I::kAdopt:
      return h.operator_command(OperatorAction::kAdopt, 0, "BTC-USDT", Side::kLong, "0.03", "95");
    case I::kFlatten:
      return h.operator_command(OperatorAction::kFlatten, 0, "BTC-USDT", Side::kLong, "0.03", "95");
    case I::kRelease:
      return h.operator_command(OperatorAction::kRelease, 0);
  }
  return h.out;
}

using Check = std::function<void(const Harness&, const KernelOutcome&)>;

struct CellCase {
  S stage;
  I input;
  S to;
  std::vector<C> codes;  // exactly these diagnostics, in order
  std::vector<Cmd> commands;
  Keeps keeps;
  Check check = nullptr;
  std::optional<std::string> cumulative = std::nullopt;
};

std::string cell_name(S stage, I input) {
  return std::string(to_string(stage)) + "_" + std::string(to_string(input));
}

[[maybe_unused]] std::ostream& operator<<(std::ostream& os, const CellCase& c) {
  return os << cell_name(c.stage, c.input);
}

// Reusable checks.
Check size_is(std::string_view size) {
  return [expected = qty(size)](const Harness& h, const KernelOutcome&) {
    EXPECT_EQ(h.slot().size, expected) << to_string(h.slot().size);
  };
}
Check realized_is(std::string_view pnl) {
  return [expected = usd(pnl)](const Harness& h, const KernelOutcome&) {
    EXPECT_EQ(h.slot().realized_pnl, expected) << to_string(h.slot().realized_pnl);
  };
}
Check checks_all(std::vector<Check> checks) {
  return [checks = std::move(checks)](const Harness& h, const KernelOutcome& out) {
    for (const auto& check : checks) check(h, out);
  };
}
Check placed(ClientOrderId id, bool reduce_only) {
  return [id, reduce_only](const Harness&, const KernelOutcome& out) {
    ASSERT_EQ(out.commands.size(), 1U);
    EXPECT_EQ(out.commands[0].order, id);
    EXPECT_EQ(out.commands[0].reduce_only, reduce_only);
  };
}
Check mark_is_120(std::string_view unrealized) {
  return [expected = usd(unrealized)](const Harness& h, const KernelOutcome&) {
    EXPECT_EQ(h.slot().mark_price, px("120"));
    EXPECT_EQ(h.slot().unrealized_pnl, expected);
  };
}
Check remembers(S before) {
  return [before](const Harness& h, const KernelOutcome&) {
    EXPECT_EQ(h.slot().stage_before_reconcile, before);
  };
}
Check settled_once(std::string_view pnl) {
  return [expected = usd(pnl)](const Harness& h, const KernelOutcome& out) {
    EXPECT_EQ(h.account().trade_seq, 1U);
    EXPECT_EQ(h.account().capital, expected);
    EXPECT_TRUE(out.account_changed);
  };
}
Check rate_limit_is_retryable() {
  return [](const Harness&, const KernelOutcome& out) {
    const KernelDiagnostic* d = find_diagnostic(out, C::kRateLimited);
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->severity, KernelSeverity::kWarning);
    const DiagnosticDetail* retryable = find_detail(*d, "retryable");
    ASSERT_NE(retryable, nullptr);
    EXPECT_EQ(retryable->value, 1);
    const DiagnosticDetail* after = find_detail(*d, "retry_after_ms");
    ASSERT_NE(after, nullptr);
    EXPECT_EQ(after->value, 1000);
  };
}

Check capital_moved_by(std::string_view amount) {
  return [expected = usd(amount)](const Harness& h, const KernelOutcome& out) {
    // Conservation (unseeded harness): capital is what settled plus what funding moved.
    EXPECT_EQ(h.account().funding_total, expected);
    EXPECT_EQ(h.account().capital, h.account().realized_total + h.account().funding_total);
    EXPECT_TRUE(out.account_changed);
  };
}
Check funding_charged(std::string_view amount) {
  return checks_all({capital_moved_by(amount),
                     [expected = usd(amount)](const Harness& h, const KernelOutcome& out) {
                       EXPECT_EQ(h.slot().funding_pnl, expected);
                       ASSERT_EQ(out.settlements.size(), 1U);
                       EXPECT_EQ(out.settlements[0].kind, SettlementKind::kFunding);
                       EXPECT_EQ(out.settlements[0].slot, 0U);
                     }});
}
Check adopted(std::uint32_t trade_id) {
  return [trade_id](const Harness& h, const KernelOutcome& out) {
    EXPECT_TRUE(h.slot().adopted);
    EXPECT_EQ(h.slot().trade_id, trade_id);
    EXPECT_EQ(h.slot().size, qty("0.03"));
    EXPECT_EQ(h.slot().entry_price, px("95"));
    ASSERT_EQ(out.fills.size(), 1U);
    EXPECT_TRUE(out.fills[0].external);
  };
}
Check flattened(std::uint32_t trade_id) {
  return checks_all({adopted(trade_id), placed(exit_order(0, trade_id, 1, 0), true)});
}

const ClientOrderId kNextEntry = entry_order(0, 2);

std::vector<CellCase> all_cells() {
  const auto refused = [](S stage, I input, C code) {
    return CellCase{stage, input, stage, {code}, {}, Keeps::kNothing};
  };
  const auto blocked = [&](I input) {
    return refused(S::kStaleStateReconciling, input, C::kStaleStateReconciling);
  };
  // A liquidation of a symbol the slot does not hold is reported, never attributed.
  const auto not_holding = [&](S stage) {
    return CellCase{stage, I::kExternalFill, stage, {C::kExternalFill}, {}, Keeps::kNothing};
  };
  const auto unattributed_funding = [&](S stage) {
    return CellCase{stage,
                    I::kFunding,
                    stage,
                    {C::kFundingUnattributed},
                    {},
                    Keeps::kFree,
                    capital_moved_by("-0.05")};
  };
  const auto not_releasable = [&](S stage) {
    return refused(stage, I::kRelease, C::kReconcileNotActive);
  };
  return {
      // ---- IDLE (entry acknowledged then cancelled, nothing filled) ----
      {S::kIdle,
       I::kEnter,
       S::kEntryWorking,
       {},
       {Cmd::kPlaceOrder},
       Keeps::kFree,
       placed(kNextEntry, false)},
      refused(S::kIdle, I::kExit, C::kNoPosition),
      refused(S::kIdle, I::kCancel, C::kNoActiveOrder),
      {S::kIdle, I::kAck, S::kIdle, {C::kDuplicateEvent}, {}, Keeps::kAllButEvents},
      {S::kIdle,
       I::kPartialFill,
       S::kPositionOpen,
       {C::kFillAfterCancel},
       {},
       Keeps::kFree,
       size_is("0.01")},
      {S::kIdle,
       I::kFullFill,
       S::kPositionOpen,
       {C::kFillAfterCancel},
       {},
       Keeps::kFree,
       size_is("0.02")},
      {S::kIdle, I::kCancelAck, S::kIdle, {C::kDuplicateEvent}, {}, Keeps::kAllButEvents},
      {S::kIdle, I::kCancelReject, S::kIdle, {C::kCancelRejected}, {}, Keeps::kAllButEvents},
      {S::kIdle, I::kOrderReject, S::kIdle, {C::kDuplicateEvent}, {}, Keeps::kAllButEvents},
      {S::kIdle,
       I::kRateLimited,
       S::kIdle,
       {C::kRateLimited},
       {},
       Keeps::kAllButEvents,
       rate_limit_is_retryable()},
      {S::kIdle,
       I::kOrderStatus,
       S::kPositionOpen,
       {C::kFillAfterCancel},
       {},
       Keeps::kFree,
       size_is("0.02")},
      {S::kIdle, I::kMarkPrice, S::kIdle, {}, {}, Keeps::kFree, mark_is_120("0")},
      {S::kIdle,
       I::kReconcileBegin,
       S::kStaleStateReconciling,
       {},
       {},
       Keeps::kFree,
       remembers(S::kIdle)},
      refused(S::kIdle, I::kReconcileComplete, C::kReconcileNotActive),
      {S::kIdle, I::kTick, S::kIdle, {}, {}, Keeps::kNothing},
      not_holding(S::kIdle),
      unattributed_funding(S::kIdle),
      {S::kIdle, I::kAdopt, S::kPositionOpen, {C::kPositionAdopted}, {}, Keeps::kFree, adopted(2)},
      {S::kIdle,
       I::kFlatten,
       S::kExitWorking,
       {C::kPositionAdopted},
       {Cmd::kPlaceOrder},
       Keeps::kFree,
       flattened(2)},
      not_releasable(S::kIdle),

      // ---- ENTRY_WORKING (market entry 0.02, unacknowledged) ----
      refused(S::kEntryWorking, I::kEnter, C::kSlotBusy),
      refused(S::kEntryWorking, I::kExit, C::kSlotBusy),
      {S::kEntryWorking,
       I::kCancel,
       S::kEntryWorking,
       {},
       {Cmd::kCancelOrder},
       Keeps::kFree,
       [](const Harness& h, const KernelOutcome&) {
         EXPECT_TRUE(h.slot().orders[0].cancel_requested);
       }},
      {S::kEntryWorking,
       I::kAck,
       S::kEntryWorking,
       {},
       {},
       Keeps::kFree,
       [](const Harness& h, const KernelOutcome&) {
         EXPECT_EQ(h.slot().orders[0].status, OrderStatus::kNew);
         EXPECT_EQ(h.slot().orders[0].venue_order_id, venue_id_of(entry_order(0, 1)));
       }},
      {S::kEntryWorking,
       I::kPartialFill,
       S::kEntryWorking,
       {},
       {},
       Keeps::kFree,
       checks_all({size_is("0.01"),
                   [](const Harness& h, const KernelOutcome&) {
                     EXPECT_EQ(h.slot().orders[0].status, OrderStatus::kPartiallyFilled);
                   }})},
      {S::kEntryWorking, I::kFullFill, S::kPositionOpen, {}, {}, Keeps::kFree, size_is("0.02")},
      {S::kEntryWorking, I::kCancelAck, S::kIdle, {}, {}, Keeps::kFree, size_is("0")},
      {S::kEntryWorking,
       I::kCancelReject,
       S::kEntryWorking,
       {C::kCancelRejected},
       {Cmd::kQueryOrder},
       Keeps::kFree},
      {S::kEntryWorking, I::kOrderReject, S::kIdle, {C::kVenueRejected}, {}, Keeps::kFree},
      {S::kEntryWorking,
       I::kRateLimited,
       S::kIdle,
       {C::kRateLimited},
       {},
       Keeps::kFree,
       rate_limit_is_retryable()},
      {S::kEntryWorking, I::kOrderStatus, S::kPositionOpen, {}, {}, Keeps::kFree, size_is("0.02")},
      {S::kEntryWorking, I::kMarkPrice, S::kEntryWorking, {}, {}, Keeps::kFree, mark_is_120("0")},
      {S::kEntryWorking,
       I::kReconcileBegin,
       S::kStaleStateReconciling,
       {},
       {},
       Keeps::kFree,
       remembers(S::kEntryWorking)},
      refused(S::kEntryWorking, I::kReconcileComplete, C::kReconcileNotActive),
      {S::kEntryWorking,
       I::kTick,
       S::kEntryWorking,
       {C::kOrderHung},
       {Cmd::kQueryOrder},
       Keeps::kFree},
      not_holding(S::kEntryWorking),
      unattributed_funding(S::kEntryWorking),
      refused(S::kEntryWorking, I::kAdopt, C::kSlotBusy),
      refused(S::kEntryWorking, I::kFlatten, C::kSlotBusy),
      not_releasable(S::kEntryWorking),

      // ---- POSITION_OPEN (0.02 @ 100; exit leg 1 attempt 0 cancelled unfilled) ----
      refused(S::kPositionOpen, I::kEnter, C::kSlotBusy),
      {S::kPositionOpen,
       I::kExit,
       S::kExitWorking,
       {},
       {Cmd::kPlaceOrder},
       Keeps::kFree,
       placed(exit_order(0, 1, 1, 1), true)},
      refused(S::kPositionOpen, I::kCancel, C::kNoActiveExitOrder),
      {S::kPositionOpen, I::kAck, S::kPositionOpen, {C::kDuplicateEvent}, {}, Keeps::kAllButEvents},
      {S::kPositionOpen,
       I::kPartialFill,
       S::kPositionOpen,
       {C::kFillAfterCancel},
       {},
       Keeps::kFree,
       checks_all({size_is("0.01"), realized_is("0.1")})},
      {S::kPositionOpen,
       I::kFullFill,
       S::kClosed,
       {C::kFillAfterCancel},
       {},
       Keeps::kFree,
       checks_all({size_is("0"), realized_is("0.2"), settled_once("0.2")})},
      {S::kPositionOpen,
       I::kCancelAck,
       S::kPositionOpen,
       {C::kDuplicateEvent},
       {},
       Keeps::kAllButEvents},
      {S::kPositionOpen,
       I::kCancelReject,
       S::kPositionOpen,
       {C::kCancelRejected},
       {},
       Keeps::kAllButEvents},
      {S::kPositionOpen,
       I::kOrderReject,
       S::kPositionOpen,
       {C::kDuplicateEvent},
       {},
       Keeps::kAllButEvents},
      {S::kPositionOpen,
       I::kRateLimited,
       S::kPositionOpen,
       {C::kRateLimited},
       {},
       Keeps::kAllButEvents},
      {S::kPositionOpen,
       I::kOrderStatus,
       S::kClosed,
       {C::kFillAfterCancel},
       {},
       Keeps::kFree,
       settled_once("0.2")},
      {S::kPositionOpen, I::kMarkPrice, S::kPositionOpen, {}, {}, Keeps::kFree, mark_is_120("0.4")},
      {S::kPositionOpen,
       I::kReconcileBegin,
       S::kStaleStateReconciling,
       {},
       {},
       Keeps::kFree,
       remembers(S::kPositionOpen)},
      refused(S::kPositionOpen, I::kReconcileComplete, C::kReconcileNotActive),
      {S::kPositionOpen, I::kTick, S::kPositionOpen, {}, {}, Keeps::kNothing},
      // Liquidated at 90 with a 0.01 fee: the 0.02 @ 100 trade closes at its real price.
      {S::kPositionOpen,
       I::kExternalFill,
       S::kClosed,
       {C::kExternalFill},
       {},
       Keeps::kFree,
       checks_all({size_is("0"), realized_is("-0.21"), settled_once("-0.21"),
                   [](const Harness&, const KernelOutcome& out) {
                     ASSERT_EQ(out.fills.size(), 1U);
                     EXPECT_TRUE(out.fills[0].external);
                     EXPECT_EQ(out.fills[0].price, px("90"));
                   }})},
      {S::kPositionOpen,
       I::kFunding,
       S::kPositionOpen,
       {},
       {},
       Keeps::kFree,
       funding_charged("-0.05")},
      refused(S::kPositionOpen, I::kAdopt, C::kSlotBusy),
      refused(S::kPositionOpen, I::kFlatten, C::kSlotBusy),
      not_releasable(S::kPositionOpen),

      // ---- EXIT_WORKING (0.02 @ 100; market exit of everything, unacknowledged) ----
      refused(S::kExitWorking, I::kEnter, C::kSlotBusy),
      refused(S::kExitWorking, I::kExit, C::kSlotBusy),
      {S::kExitWorking, I::kCancel, S::kExitWorking, {}, {Cmd::kCancelOrder}, Keeps::kFree},
      {S::kExitWorking,
       I::kAck,
       S::kExitWorking,
       {},
       {},
       Keeps::kFree,
       [](const Harness& h, const KernelOutcome&) {
         EXPECT_EQ(h.slot().orders[1].status, OrderStatus::kNew);
       }},
      {S::kExitWorking,
       I::kPartialFill,
       S::kExitWorking,
       {},
       {},
       Keeps::kFree,
       checks_all({size_is("0.01"), realized_is("0.1")})},
      {S::kExitWorking,
       I::kFullFill,
       S::kClosed,
       {},
       {},
       Keeps::kFree,
       checks_all({size_is("0"), realized_is("0.2"), settled_once("0.2")})},
      {S::kExitWorking,
       I::kCancelAck,
       S::kPositionOpen,
       {},
       {},
       Keeps::kFree,
       [](const Harness& h, const KernelOutcome&) { EXPECT_EQ(h.slot().exit_attempt, 1); }},
      {S::kExitWorking,
       I::kCancelReject,
       S::kExitWorking,
       {C::kCancelRejected},
       {Cmd::kQueryOrder},
       Keeps::kFree},
      {S::kExitWorking,
       I::kOrderReject,
       S::kPositionOpen,
       {C::kVenueRejected},
       {},
       Keeps::kFree,
       size_is("0.02")},
      {S::kExitWorking,
       I::kRateLimited,
       S::kPositionOpen,
       {C::kRateLimited},
       {},
       Keeps::kFree,
       rate_limit_is_retryable()},
      {S::kExitWorking, I::kOrderStatus, S::kClosed, {}, {}, Keeps::kFree, settled_once("0.2")},
      {S::kExitWorking, I::kMarkPrice, S::kExitWorking, {}, {}, Keeps::kFree, mark_is_120("0.4")},
      {S::kExitWorking,
       I::kReconcileBegin,
       S::kStaleStateReconciling,
       {},
       {},
       Keeps::kFree,
       remembers(S::kExitWorking)},
      refused(S::kExitWorking, I::kReconcileComplete, C::kReconcileNotActive),
      {S::kExitWorking,
       I::kTick,
       S::kExitWorking,
       {C::kOrderHung},
       {Cmd::kQueryOrder},
       Keeps::kFree},
      // The position is gone, but the working exit leg has not ended yet.
      {S::kExitWorking,
       I::kExternalFill,
       S::kExitWorking,
       {C::kExternalFill},
       {},
       Keeps::kFree,
       checks_all({size_is("0"), realized_is("-0.21")})},
      {S::kExitWorking,
       I::kFunding,
       S::kExitWorking,
       {},
       {},
       Keeps::kFree,
       funding_charged("-0.05")},
      refused(S::kExitWorking, I::kAdopt, C::kSlotBusy),
      refused(S::kExitWorking, I::kFlatten, C::kSlotBusy),
      not_releasable(S::kExitWorking),

      // ---- CLOSED (entry finished short at 0.01 of 0.02, exit sold 0.01) ----
      {S::kClosed,
       I::kEnter,
       S::kEntryWorking,
       {},
       {Cmd::kPlaceOrder},
       Keeps::kFree,
       placed(kNextEntry, false)},
      refused(S::kClosed, I::kExit, C::kSlotClosed),
      refused(S::kClosed, I::kCancel, C::kNoActiveOrder),
      {S::kClosed, I::kAck, S::kClosed, {C::kDuplicateEvent}, {}, Keeps::kAllButEvents},
      // New quantity on the finished trade's entry: money moved after close.
      {S::kClosed,
       I::kPartialFill,
       S::kStaleStateReconciling,
       {C::kLateFill},
       {},
       Keeps::kFree,
       checks_all({remembers(S::kClosed), size_is("0")})},
      // Cumulative equal to what is applied: a duplicate.
      {S::kClosed,
       I::kFullFill,
       S::kClosed,
       {C::kDuplicateEvent},
       {},
       Keeps::kAllButEvents,
       nullptr,
       "0.01"},
      {S::kClosed, I::kCancelAck, S::kClosed, {C::kDuplicateEvent}, {}, Keeps::kAllButEvents},
      {S::kClosed, I::kCancelReject, S::kClosed, {C::kCancelRejected}, {}, Keeps::kAllButEvents},
      {S::kClosed, I::kOrderReject, S::kClosed, {C::kDuplicateEvent}, {}, Keeps::kAllButEvents},
      {S::kClosed, I::kRateLimited, S::kClosed, {C::kRateLimited}, {}, Keeps::kAllButEvents},
      {S::kClosed,
       I::kOrderStatus,
       S::kClosed,
       {C::kDuplicateEvent},
       {},
       Keeps::kAllButEvents,
       nullptr,
       "0.01"},
      {S::kClosed, I::kMarkPrice, S::kClosed, {}, {}, Keeps::kFree, mark_is_120("0")},
      {S::kClosed,
       I::kReconcileBegin,
       S::kStaleStateReconciling,
       {},
       {},
       Keeps::kFree,
       remembers(S::kClosed)},
      refused(S::kClosed, I::kReconcileComplete, C::kReconcileNotActive),
      {S::kClosed, I::kTick, S::kClosed, {}, {}, Keeps::kNothing},
      not_holding(S::kClosed),
      unattributed_funding(S::kClosed),
      {S::kClosed,
       I::kAdopt,
       S::kPositionOpen,
       {C::kPositionAdopted},
       {},
       Keeps::kFree,
       adopted(2)},
      {S::kClosed,
       I::kFlatten,
       S::kExitWorking,
       {C::kPositionAdopted},
       {Cmd::kPlaceOrder},
       Keeps::kFree,
       flattened(2)},
      not_releasable(S::kClosed),

      // ---- STALE_STATE_RECONCILING (unacknowledged entry, reconcile begun) ----
      // Intents that start something wait; venue news is folded into the order and the
      // stage is derived at RECONCILE_COMPLETE.
      blocked(I::kEnter),
      blocked(I::kExit),
      {S::kStaleStateReconciling,
       I::kCancel,
       S::kStaleStateReconciling,
       {},
       {Cmd::kCancelOrder},
       Keeps::kFree},
      {S::kStaleStateReconciling,
       I::kAck,
       S::kStaleStateReconciling,
       {},
       {},
       Keeps::kFree,
       [](const Harness& h, const KernelOutcome&) {
         EXPECT_EQ(h.slot().orders[0].status, OrderStatus::kNew);
       }},
      {S::kStaleStateReconciling,
       I::kPartialFill,
       S::kStaleStateReconciling,
       {},
       {},
       Keeps::kFree,
       size_is("0.01")},
      {S::kStaleStateReconciling,
       I::kFullFill,
       S::kStaleStateReconciling,
       {},
       {},
       Keeps::kFree,
       checks_all({size_is("0.02"),
                   [](const Harness& h, const KernelOutcome&) {
                     EXPECT_EQ(h.slot().orders[0].status, OrderStatus::kFilled);
                     EXPECT_EQ(h.slot().working_order, -1);
                   }})},
      {S::kStaleStateReconciling,
       I::kCancelAck,
       S::kStaleStateReconciling,
       {},
       {},
       Keeps::kFree,
       [](const Harness& h, const KernelOutcome&) {
         EXPECT_EQ(h.slot().orders[0].status, OrderStatus::kCanceled);
       }},
      {S::kStaleStateReconciling,
       I::kCancelReject,
       S::kStaleStateReconciling,
       {C::kCancelRejected},
       {Cmd::kQueryOrder},
       Keeps::kFree},
      {S::kStaleStateReconciling,
       I::kOrderReject,
       S::kStaleStateReconciling,
       {C::kVenueRejected},
       {},
       Keeps::kFree},
      {S::kStaleStateReconciling,
       I::kRateLimited,
       S::kStaleStateReconciling,
       {C::kRateLimited},
       {},
       Keeps::kFree,
       rate_limit_is_retryable()},
      {S::kStaleStateReconciling,
       I::kOrderStatus,
       S::kStaleStateReconciling,
       {},
       {},
       Keeps::kFree,
       size_is("0.02")},
      {S::kStaleStateReconciling,
       I::kMarkPrice,
       S::kStaleStateReconciling,
       {},
       {},
       Keeps::kFree,
       mark_is_120("0")},
      // A newer run replaces the open one.
      {S::kStaleStateReconciling,
       I::kReconcileBegin,
       S::kStaleStateReconciling,
       {C::kReconcileInProgress},
       {},
       Keeps::kFree},
      // The venue still has the order open: back to the stage before reconcile.
      {S::kStaleStateReconciling, I::kReconcileComplete, S::kEntryWorking, {}, {}, Keeps::kFree},
      // Past the ack timeout, yet no hung-order query while reconciling.
      {S::kStaleStateReconciling, I::kTick, S::kStaleStateReconciling, {}, {}, Keeps::kNothing},
      not_holding(S::kStaleStateReconciling),
      unattributed_funding(S::kStaleStateReconciling),
      refused(S::kStaleStateReconciling, I::kAdopt, C::kSlotBusy),
      refused(S::kStaleStateReconciling, I::kFlatten, C::kSlotBusy),
      {S::kStaleStateReconciling,
       I::kRelease,
       S::kIdle,
       {C::kSlotReleased},
       {},
       Keeps::kFree,
       [](const Harness& h, const KernelOutcome&) {
         EXPECT_EQ(h.slot().orders[0].status, OrderStatus::kCanceled);
         EXPECT_FALSE(h.slot().reconcile_blocked);
       }},
  };
}

class FsmCellTest : public ::testing::TestWithParam<CellCase> {};

TEST_P(FsmCellTest, GivesTheDocumentedResult) {
  const CellCase& c = GetParam();
  Driven driven = drive_to(c.stage);
  Harness& h = *driven.harness;
  ASSERT_EQ(h.slot().stage, c.stage);
  const std::string before_full = slot_image(h.slot(), true);
  const std::string before_state = slot_image(h.slot(), false);
  const std::string account_before = account_image(h.account());
  const std::string json_before = codec::canonical(codec::to_json(h.slot(), {}));
  const FsmCell& cell = fsm_cell(c.stage, c.input);

  const KernelOutcome& out = feed_input(h, c.input, driven.relevant, c.cumulative);

  SCOPED_TRACE(std::string("cell outcome text: ") + std::string(cell.outcome));
  EXPECT_EQ(h.slot().stage, c.to);
  std::vector<C> codes;
  for (const auto& d : out.diagnostics) codes.push_back(d.code);
  EXPECT_EQ(codes, c.codes) << "got " << codes_of(out);
  EXPECT_EQ(command_types(out), c.commands);
  for (const auto& d : out.diagnostics) {
    EXPECT_EQ(d.severity, default_severity(d.code)) << to_string(d.code);
    EXPECT_FALSE(d.message.empty());
  }
  if (c.keeps == Keeps::kNothing) {
    EXPECT_EQ(slot_image(h.slot(), true), before_full);
    EXPECT_EQ(codec::canonical(codec::to_json(h.slot(), {})), json_before);
    EXPECT_EQ(account_image(h.account()), account_before);
    EXPECT_TRUE(out.transitions.empty());
    EXPECT_TRUE(out.changed_slots.empty());
  } else if (c.keeps == Keeps::kAllButEvents) {
    EXPECT_EQ(slot_image(h.slot(), false), before_state);
    EXPECT_EQ(account_image(h.account()), account_before);
    EXPECT_TRUE(out.transitions.empty());
  }
  if (c.to != c.stage) {
    ASSERT_FALSE(out.transitions.empty());
    EXPECT_EQ(out.transitions.front().from, c.stage);
    EXPECT_EQ(out.transitions.back().to, c.to);
    EXPECT_EQ(out.transitions.front().trigger, c.input);
  }
  // A refusal cell always answers with its own code and leaves everything alone.
  if (cell.action == FsmAction::kDiagnose) {
    EXPECT_EQ(c.keeps, Keeps::kNothing);
    EXPECT_EQ(codes, std::vector<C>{cell.code});
  }
  if (c.check) c.check(h, out);
}

INSTANTIATE_TEST_SUITE_P(EveryStageAndInput, FsmCellTest, ::testing::ValuesIn(all_cells()),
                         [](const ::testing::TestParamInfo<CellCase>& param_info) {
                           return cell_name(param_info.param.stage, param_info.param.input);
                         });

TEST(FsmTable, ExpectationsCoverEveryCellExactlyOnce) {
  std::set<std::pair<int, int>> seen;
  for (const CellCase& c : all_cells()) {
    EXPECT_TRUE(seen.emplace(static_cast<int>(c.stage), static_cast<int>(c.input)).second)
        << "duplicate expectation for " << cell_name(c.stage, c.input);
  }
  EXPECT_EQ(seen.size(), kStageCount * kFsmInputCount);
  EXPECT_EQ(kStageCount, enum_count<TradeStage>());
  EXPECT_EQ(kFsmInputCount, enum_count<FsmInput>());
}

TEST(FsmTable, HasNoCellWithAnActionOutOfRange) {
  for (std::size_t s = 0; s < kStageCount; ++s) {
    for (std::size_t i = 0; i < kFsmInputCount; ++i) {
      const FsmCell& cell = fsm_table()[s][i];
      EXPECT_LE(static_cast<int>(cell.action), static_cast<int>(FsmAction::kReleaseSlot));
      EXPECT_NE(to_string(cell.action), "UNKNOWN");
      EXPECT_FALSE(cell.outcome.empty()) << s << "," << i;
    }
  }
}

TEST(FsmTable, GivesEveryRefusalCellAStableDiagnosticCode) {
  for (std::size_t s = 0; s < kStageCount; ++s) {
    for (std::size_t i = 0; i < kFsmInputCount; ++i) {
      const FsmCell& cell = fsm_table()[s][i];
      if (cell.action != FsmAction::kDiagnose) continue;
      EXPECT_LT(static_cast<std::size_t>(cell.code), enum_count<KernelDiagnosticCode>());
      EXPECT_NE(to_string(cell.code), "UNKNOWN");
      // Refusals are never the placeholder code of action cells.
      EXPECT_NE(cell.code, C::kInvalidInput)
          << to_string(static_cast<S>(s)) << " x " << to_string(static_cast<I>(i));
    }
  }
}

TEST(FsmTable, LooksUpCellsByStageAndInput) {
  EXPECT_EQ(fsm_cell(S::kIdle, I::kEnter).action, FsmAction::kStartEntry);
  EXPECT_EQ(fsm_cell(S::kClosed, I::kExit).code, C::kSlotClosed);
  EXPECT_EQ(&fsm_cell(S::kExitWorking, I::kTick), &fsm_table()[3][14]);
  for (std::size_t s = 0; s < kStageCount; ++s) {
    EXPECT_EQ(fsm_table()[s][static_cast<std::size_t>(I::kMarkPrice)].action,
              FsmAction::kUpdateMark)
        << "MARK_PRICE must be valid in every stage";
  }
}

}  // namespace
}  // namespace dita::core
