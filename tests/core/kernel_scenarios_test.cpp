// The reference scenarios (§12) and DESIGN's races, fed through the kernel directly or through
// the deterministic mock venue.
#include "dita/core/kernel.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/kernel_test_support.hpp"
#include "dita/codec/json_codec.hpp"
#include "dita/venue/mock_venue.hpp"

namespace dita::core {
namespace {

using namespace dita::core::testing;
using C = KernelDiagnosticCode;
using S = TradeStage;
using Cmd = KernelCommandType;

const ClientOrderId kEntry1 = entry_order(0, 1);
const ClientOrderId kExit1 = exit_order(0, 1, 1, 0);

// Slot 0 holding 0.02 BTC long at 100, optionally with capital seeded at 1000.
void open_position(Harness& h, std::string_view size = "0.02", std::string_view fee = "0") {
  h.enter(0, size);
  h.ack(kEntry1);
  h.full(kEntry1, size, "100", fee);
  ASSERT_EQ(h.slot().stage, S::kPositionOpen);
}

std::string kernel_image(const Harness& h) {
  std::string image = account_image(h.account());
  for (const TradeSlot& slot : h.kernel.slots()) image += "\n" + slot_image(slot, true);
  return image;
}

// Sends the kernel's commands to the mock venue and feeds its events back until quiet.
class VenueLoop {
 public:
  explicit VenueLoop(Harness& h) : harness_(h), venue_(venue::MockVenueConfig{}) {
    venue_.set_mark(sym("BTC-USDT"), px("100"));
  }
  venue::MockVenue& venue() { return venue_; }
  std::vector<KernelOutcome> outcomes;  // every outcome of events fed back, in order

  void run(const KernelOutcome& first) {
    std::vector<VenueCommand> pending = first.commands;
    for (int round = 0; round < 32; ++round) {
      for (const VenueCommand& command : pending) venue_.submit(command, harness_.now);
      pending.clear();
      std::vector<VenueEvent> events;
      venue_.drain(events);
      if (events.empty()) return;
      for (const VenueEvent& event : events) {
        const KernelOutcome& out = harness_.feed(event);
        outcomes.push_back(out);
        pending.insert(pending.end(), out.commands.begin(), out.commands.end());
      }
    }
    FAIL() << "venue loop did not settle";
  }
  bool saw(C code) const {
    for (const auto& out : outcomes) {
      if (has_code(out, code)) return true;
    }
    return false;
  }

 private:
  Harness& harness_;
  venue::MockVenue venue_;
};

// ---------------------------------------------------------------------------------------
// Reference scenarios

TEST(ReferenceScenario, EntryIsPlacedAcknowledgedAndFilledIntoAnOpenPosition) {
  Harness h;
  const auto& placed = h.enter(0, "0.02");
  ASSERT_EQ(placed.commands.size(), 1U);
  const VenueCommand& command = placed.commands[0];
  EXPECT_EQ(command.type, Cmd::kPlaceOrder);
  EXPECT_EQ(command.order, kEntry1);
  EXPECT_EQ(command.side, OrderSide::kBuy);
  EXPECT_EQ(command.order_type, OrderType::kMarket);
  EXPECT_FALSE(command.reduce_only);
  EXPECT_EQ(command.quantity, qty("0.02"));
  ASSERT_EQ(placed.transitions.size(), 1U);
  EXPECT_EQ(placed.transitions[0].from, S::kIdle);
  EXPECT_EQ(placed.transitions[0].to, S::kEntryWorking);
  EXPECT_EQ(h.slot().trade_id, 1U);

  EXPECT_TRUE(h.ack(kEntry1).diagnostics.empty());
  EXPECT_EQ(h.slot().stage, S::kEntryWorking);
  const auto& filled = h.full(kEntry1, "0.02", "100", "0.001");
  EXPECT_TRUE(filled.diagnostics.empty()) << codes_of(filled);
  EXPECT_EQ(h.slot().stage, S::kPositionOpen);
  EXPECT_EQ(h.slot().size, qty("0.02"));
  EXPECT_EQ(h.slot().entry_price, px("100"));
  EXPECT_EQ(h.slot().cost_basis, usd("2"));
  EXPECT_EQ(h.slot().fees_paid, usd("0.001"));
  EXPECT_EQ(h.slot().realized_pnl, usd("-0.001"));
}

TEST(ReferenceScenario, FullExitClosesTheTradeAndSettlesRealizedPnlWithFeesOnce) {
  Harness h;
  h.seed("1000");
  open_position(h, "0.02", "0.001");
  const auto& placed = h.exit(0);
  ASSERT_EQ(placed.commands.size(), 1U);
  EXPECT_EQ(placed.commands[0].order, kExit1);
  EXPECT_EQ(placed.commands[0].side, OrderSide::kSell);
  EXPECT_TRUE(placed.commands[0].reduce_only);
  EXPECT_EQ(placed.commands[0].quantity, qty("0.02"));
  EXPECT_EQ(h.account().capital, usd("1000"));  // nothing settles before the close
  h.ack(kExit1);
  const auto& closed = h.full(kExit1, "0.02", "110", "0.0011");
  EXPECT_EQ(h.slot().stage, S::kClosed);
  EXPECT_TRUE(closed.account_changed);
  // 0.02 x (110 - 100) - 0.001 - 0.0011
  EXPECT_EQ(h.slot().realized_pnl, usd("0.1979"));
  EXPECT_EQ(h.account().capital, usd("1000.1979"));
  EXPECT_EQ(h.account().realized_total, usd("0.1979"));
  EXPECT_EQ(h.account().trade_seq, 1U);
  EXPECT_EQ(h.account().peak_capital, usd("1000.1979"));
  EXPECT_EQ(h.account().drawdown, usd("0"));
  EXPECT_EQ(closed.account.capital, h.account().capital);
  // Redelivering the final fill settles nothing twice.
  h.full(kExit1, "0.02", "110", "0.0011");
  EXPECT_EQ(h.account().capital, usd("1000.1979"));
  EXPECT_EQ(h.account().trade_seq, 1U);
}

TEST(ReferenceScenario, PartialExitInTwoLegsRealizesPnlPerLeg) {
  Harness h;
  h.seed("1000");
  open_position(h, "0.03");
  h.exit(0, "0.01");
  h.ack(kExit1);
  h.full(kExit1, "0.01", "110");
  EXPECT_EQ(h.slot().stage, S::kPositionOpen);
  EXPECT_EQ(h.slot().size, qty("0.02"));
  EXPECT_EQ(h.slot().realized_pnl, usd("0.1"));
  EXPECT_EQ(h.slot().exit_legs_filled, 1);
  EXPECT_EQ(h.account().capital, usd("1000"));

  const auto& second = h.exit(0);
  ASSERT_EQ(second.commands.size(), 1U);
  const ClientOrderId leg2 = exit_order(0, 1, 2, 0);
  EXPECT_EQ(second.commands[0].order, leg2);
  EXPECT_EQ(second.commands[0].quantity, qty("0.02"));
  h.ack(leg2);
  h.full(leg2, "0.02", "120");
  EXPECT_EQ(h.slot().stage, S::kClosed);
  EXPECT_EQ(h.slot().realized_pnl, usd("0.5"));  // 0.1 + 0.02 x 20
  EXPECT_EQ(h.slot().exit_legs_filled, 2);
  EXPECT_EQ(h.slot().cost_basis, usd("0"));
  EXPECT_EQ(h.account().capital, usd("1000.5"));
  EXPECT_EQ(h.account().trade_seq, 1U);
}

TEST(ReferenceScenario, TakeProfitIsALimitExitSnappedToTheTickThatFillsInParts) {
  Harness h;
  h.seed("1000");
  open_position(h);
  const auto& placed = h.exit(0, "0", "110.05");
  ASSERT_EQ(placed.commands.size(), 1U);
  EXPECT_EQ(placed.commands[0].order_type, OrderType::kLimit);
  EXPECT_EQ(placed.commands[0].price, px("110"));  // BTC tick 0.1 truncates
  h.ack(kExit1);
  h.partial(kExit1, "0.005", "110");
  EXPECT_EQ(h.slot().stage, S::kExitWorking);
  EXPECT_EQ(h.slot().realized_pnl, usd("0.05"));
  h.full(kExit1, "0.02", "110");
  EXPECT_EQ(h.slot().stage, S::kClosed);
  EXPECT_EQ(h.account().capital, usd("1000.2"));
}

TEST(ReferenceScenario, UnacknowledgedOrderIsReportedHungAndQueriedAfterTheAckTimeout) {
  Harness h;
  h.enter(0, "0.02");
  EXPECT_TRUE(h.tick(kAckTimeout / 2).commands.empty());
  const auto& hung = h.tick(kAckTimeout / 2);
  EXPECT_TRUE(has_code(hung, C::kOrderHung)) << codes_of(hung);
  ASSERT_EQ(hung.commands.size(), 1U);
  EXPECT_EQ(hung.commands[0].type, Cmd::kQueryOrder);
  EXPECT_EQ(hung.commands[0].order, kEntry1);
  EXPECT_EQ(h.slot().stage, S::kEntryWorking);
  // No query storm: the next one waits for the query interval.
  EXPECT_TRUE(h.tick(kMs).commands.empty());
  EXPECT_EQ(h.tick(kAckTimeout).commands.size(), 1U);
}

TEST(ReferenceScenario, HungOrderAnsweredNotFoundIsOnlyConfirmedAbsentAfterRepeatedQueries) {
  Harness h;
  h.enter(0, "0.02");
  h.tick(kAckTimeout + kMs);
  for (int i = 1; i < 3; ++i) {
    const auto& weak = h.order_status(kEntry1, OrderStatus::kNotFound);
    const KernelDiagnostic* d = find_diagnostic(weak, C::kOrderNotFound);
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(find_detail(*d, "confirmed")->value, 0);
    EXPECT_EQ(h.slot().stage, S::kEntryWorking) << "not found #" << i << " is weak evidence";
  }
  const auto& confirmed = h.order_status(kEntry1, OrderStatus::kNotFound);
  const KernelDiagnostic* d = find_diagnostic(confirmed, C::kOrderNotFound);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(find_detail(*d, "confirmed")->value, 1);
  EXPECT_EQ(h.slot().stage, S::kIdle);
  EXPECT_EQ(h.slot().orders[0].status, OrderStatus::kRejected);
}

TEST(ReferenceScenario, NotFoundAnswersBeforeTheAckTimeoutNeverConfirmAbsence) {
  Harness h;
  h.enter(0, "0.02");
  for (int i = 0; i < 5; ++i) h.order_status(kEntry1, OrderStatus::kNotFound);
  EXPECT_EQ(h.slot().stage, S::kEntryWorking);
}

TEST(ReferenceScenario, HungOrderThatNeverArrivedAtTheMockVenueIsConfirmedAbsent) {
  Harness h;
  VenueLoop loop(h);
  venue::MockScenario hang;
  hang.kind = venue::MockScenarioKind::kHang;
  hang.hang = venue::MockHangMode::kNeverArrived;
  loop.venue().queue_scenario(hang);
  loop.run(h.enter(0, "0.02"));
  EXPECT_EQ(h.slot().stage, S::kEntryWorking);
  for (int i = 0; i < 3; ++i) loop.run(h.tick(kAckTimeout + kMs));
  EXPECT_TRUE(loop.saw(C::kOrderNotFound));
  EXPECT_EQ(h.slot().stage, S::kIdle);
}

TEST(ReferenceScenario, HungOrderAnsweredFilledEndsWithAnOpenPosition) {
  Harness h;
  h.enter(0, "0.02");
  h.tick(kAckTimeout + kMs);
  const auto& out = h.order_status(kEntry1, OrderStatus::kFilled, "0.02", "100");
  EXPECT_TRUE(out.diagnostics.empty()) << codes_of(out);
  EXPECT_EQ(h.slot().stage, S::kPositionOpen);
  EXPECT_EQ(h.slot().size, qty("0.02"));
  EXPECT_EQ(h.slot().orders[0].venue_order_id, venue_id_of(kEntry1));
}

TEST(ReferenceScenario, HungOrderWhoseFillWasLostAtTheMockVenueEndsOpen) {
  Harness h;
  VenueLoop loop(h);
  venue::MockScenario hang;
  hang.kind = venue::MockScenarioKind::kHang;
  hang.hang = venue::MockHangMode::kFillLost;
  loop.venue().queue_scenario(hang);
  loop.run(h.enter(0, "0.02"));
  EXPECT_EQ(h.slot().stage, S::kEntryWorking);
  loop.run(h.tick(kAckTimeout + kMs));
  EXPECT_EQ(h.slot().stage, S::kPositionOpen);
  EXPECT_EQ(h.slot().size, qty("0.02"));
}

TEST(ReferenceScenario, CancelRejectedBecauseFilledFollowedByTheFillEndsPositionOpen) {
  Harness h;
  h.enter(0, "0.02", "99");
  h.ack(kEntry1);
  EXPECT_EQ(command_types(h.cancel(0)), std::vector<Cmd>{Cmd::kCancelOrder});
  const auto& rejected = h.cancel_reject(kEntry1, 80018);
  EXPECT_EQ(codes_of(rejected), "CANCEL_REJECTED");
  EXPECT_EQ(command_types(rejected), std::vector<Cmd>{Cmd::kQueryOrder});
  EXPECT_EQ(h.slot().stage, S::kEntryWorking);
  EXPECT_FALSE(h.slot().orders[0].cancel_requested);
  h.full(kEntry1, "0.02", "99");
  EXPECT_EQ(h.slot().stage, S::kPositionOpen);
  EXPECT_EQ(h.slot().size, qty("0.02"));
}

TEST(ReferenceScenario, CancelRejectAtTheMockVenueFollowedByItsFillEndsPositionOpen) {
  Harness h;
  VenueLoop loop(h);
  venue::MockScenario scenario;
  scenario.kind = venue::MockScenarioKind::kCancelReject;
  loop.venue().queue_scenario(scenario);
  loop.run(h.enter(0, "0.02", "99"));
  EXPECT_EQ(h.slot().stage, S::kEntryWorking);
  loop.run(h.cancel(0));
  EXPECT_TRUE(loop.saw(C::kCancelRejected));
  EXPECT_EQ(h.slot().stage, S::kPositionOpen);
  EXPECT_EQ(h.slot().size, qty("0.02"));
}

TEST(ReferenceScenario, PartialExitThenNothingLeavesThePositionOpenWithTheRemainder) {
  Harness h;
  h.seed("1000");
  open_position(h, "0.03");
  h.exit(0, "0.01");
  h.ack(kExit1);
  h.full(kExit1, "0.01", "90");
  for (int i = 0; i < 3; ++i) h.tick(kAckTimeout);
  EXPECT_EQ(h.slot().stage, S::kPositionOpen);
  EXPECT_EQ(h.slot().size, qty("0.02"));
  EXPECT_EQ(h.slot().realized_pnl, usd("-0.1"));
  EXPECT_FALSE(h.slot().settled);
  EXPECT_EQ(h.account().trade_seq, 0U);
  EXPECT_EQ(h.account().capital, usd("1000"));
}

TEST(ReferenceScenario, MockVenuePartialFillsDeliveredTwiceAndReversedStillOpenTheFullSize) {
  Harness h;
  VenueLoop loop(h);
  venue::MockScenario scenario;
  scenario.kind = venue::MockScenarioKind::kPartialFills;
  scenario.legs = {{qty("0.005"), px("100")}, {qty("0.005"), px("101")}, {qty("0.01"), px("99")}};
  scenario.duplicate = true;
  scenario.reverse = true;
  loop.venue().queue_scenario(scenario);
  loop.run(h.enter(0, "0.02"));
  EXPECT_EQ(h.slot().stage, S::kPositionOpen);
  EXPECT_EQ(h.slot().size, qty("0.02"));
  EXPECT_EQ(h.slot().entry_filled, qty("0.02"));
  EXPECT_TRUE(loop.saw(C::kDuplicateEvent));
}

// ---------------------------------------------------------------------------------------
// Races

TEST(Race, FillAfterTheCancelAckIsAppliedBecauseMoneyMoved) {
  Harness h;
  h.enter(0, "0.02", "99");
  h.ack(kEntry1);
  h.cancel(0);
  h.cancel_ack(kEntry1);
  ASSERT_EQ(h.slot().stage, S::kIdle);
  const auto& out = h.full(kEntry1, "0.02", "99");
  const KernelDiagnostic* d = find_diagnostic(out, C::kFillAfterCancel);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->severity, KernelSeverity::kWarning);
  EXPECT_EQ(h.slot().stage, S::kPositionOpen);
  EXPECT_EQ(h.slot().size, qty("0.02"));
}

TEST(Race, FillBeforeTheAckIsAppliedAndTheLateAckChangesNothing) {
  Harness h;
  h.enter(0, "0.02");
  const auto& filled = h.full(kEntry1, "0.02", "100");
  EXPECT_TRUE(filled.diagnostics.empty()) << codes_of(filled);
  EXPECT_EQ(h.slot().stage, S::kPositionOpen);
  EXPECT_EQ(h.slot().orders[0].venue_order_id, venue_id_of(kEntry1));
  const std::string before = slot_image(h.slot(), false);
  EXPECT_EQ(codes_of(h.ack(kEntry1)), "DUPLICATE_EVENT");
  EXPECT_EQ(slot_image(h.slot(), false), before);
}

TEST(Race, FullFillBeforePartialFillMakesThePartialADuplicate) {
  Harness h;
  h.enter(0, "0.02");
  h.ack(kEntry1);
  h.full(kEntry1, "0.02", "100");
  const std::string before = slot_image(h.slot(), false);
  const auto& late_partial = h.partial(kEntry1, "0.01", "100");
  EXPECT_EQ(codes_of(late_partial), "DUPLICATE_EVENT");
  EXPECT_EQ(slot_image(h.slot(), false), before);
  EXPECT_EQ(h.slot().size, qty("0.02"));
}

TEST(Race, DuplicateAckChangesNothing) {
  Harness h;
  h.enter(0, "0.02");
  h.ack(kEntry1);
  const std::string before = slot_image(h.slot(), false);
  const auto& again = h.ack(kEntry1);
  EXPECT_EQ(codes_of(again), "DUPLICATE_EVENT");
  EXPECT_TRUE(again.transitions.empty());
  EXPECT_EQ(slot_image(h.slot(), false), before);
}

TEST(Race, SameEventIdTwiceIsADuplicateAndNeverAnExtraFill) {
  Harness h;
  h.enter(0, "0.04");
  h.ack(kEntry1);
  const VenueEvent fill = h.fill_event(KernelEventKind::kPartialFill, kEntry1, "0.01", "100");
  h.feed(fill);
  const std::string before = kernel_image(h);
  const auto& again = h.feed(fill);
  EXPECT_EQ(codes_of(again), "DUPLICATE_EVENT");
  EXPECT_EQ(kernel_image(h), before);
  EXPECT_EQ(h.slot().size, qty("0.01"));
}

TEST(Race, NonFillEventForAnEarlierTradesOrderIsStaleAndChangesNothing) {
  Harness h;
  open_position(h);
  h.exit(0);
  h.full(kExit1, "0.02", "100");
  h.enter(0, "0.01");
  ASSERT_EQ(h.slot().trade_id, 2U);
  const std::string before = slot_image(h.slot(), false);
  for (const auto kind : {KernelEventKind::kAck, KernelEventKind::kCancelAck,
                          KernelEventKind::kOrderReject, KernelEventKind::kCancelReject}) {
    const auto& out = h.feed(h.event(kind, kEntry1));
    EXPECT_EQ(codes_of(out), "STALE_ORDER_EVENT") << to_string(kind);
    EXPECT_EQ(slot_image(h.slot(), false), before);
  }
}

TEST(Race, LateFillForAnEarlierTradeIsCriticalAndSendsTheSlotToReconcile) {
  Harness h;
  h.seed("1000");
  h.enter(0, "0.02");
  h.full(kEntry1, "0.01", "100");  // venue finished it short
  h.exit(0);
  h.full(kExit1, "0.01", "100");
  h.enter(0, "0.01");
  h.full(entry_order(0, 2), "0.01", "100");
  ASSERT_EQ(h.slot().stage, S::kPositionOpen);
  const auto& out = h.partial(kEntry1, "0.015", "100");
  const KernelDiagnostic* d = find_diagnostic(out, C::kLateFill);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->severity, KernelSeverity::kCritical);
  EXPECT_EQ(h.slot().stage, S::kStaleStateReconciling);
  EXPECT_EQ(h.slot().stage_before_reconcile, S::kPositionOpen);
  // Venue truth decides, and it disagrees (0.015 held, the kernel knows of 0.01): the first
  // run only strikes (a fill may be in flight), the second fails closed.
  h.reconcile_begin(0);
  h.position("BTC-USDT", Side::kLong, "0.015", "100");
  const KernelDiagnostic* strike = find_diagnostic(h.reconcile_complete(), C::kReconcileMismatch);
  ASSERT_NE(strike, nullptr);
  EXPECT_EQ(h.slot().stage, S::kStaleStateReconciling);
  EXPECT_FALSE(h.slot().reconcile_blocked);
  h.reconcile_begin(0);
  h.position("BTC-USDT", Side::kLong, "0.015", "100");
  const auto& blocked = h.reconcile_complete();
  const KernelDiagnostic* unexplained = find_diagnostic(blocked, C::kReconcileUnexplained);
  ASSERT_NE(unexplained, nullptr);
  EXPECT_EQ(unexplained->severity, KernelSeverity::kCritical);
  EXPECT_EQ(find_detail(*unexplained, "venue_quantity")->value, qty("0.015").units());
  EXPECT_EQ(find_detail(*unexplained, "kernel_quantity")->value, qty("0.01").units());
  EXPECT_TRUE(h.slot().reconcile_blocked);
  EXPECT_EQ(h.slot().size, qty("0.01")) << "reconcile never invents a fill";
  // Until an operator decides, the slot takes nothing new.
  EXPECT_EQ(codes_of(h.exit(0)), "STALE_STATE_RECONCILING");
  // Release writes the local 0.01 off (the trade settles what it realized); adopting the
  // venue's 0.015 makes it a trade like any other.
  h.operator_command(OperatorAction::kRelease, 0);
  EXPECT_EQ(h.slot().stage, S::kClosed);
  const auto& adopted =
      h.operator_command(OperatorAction::kAdopt, 0, "BTC-USDT", Side::kLong, "0.015", "100");
  EXPECT_TRUE(has_code(adopted, C::kPositionAdopted)) << codes_of(adopted);
  EXPECT_EQ(h.slot().stage, S::kPositionOpen);
  EXPECT_EQ(h.slot().size, qty("0.015"));
  EXPECT_EQ(command_types(h.exit(0)), std::vector<Cmd>{Cmd::kPlaceOrder});
}

TEST(Race, MarkPriceIsValidInEveryStageAndMovesUnrealizedOnly) {
  Harness h;
  h.seed("1000");
  const auto mark_ok = [&](std::string_view price) {
    const auto& out = h.mark("BTC-USDT", price);
    EXPECT_TRUE(out.diagnostics.empty()) << to_string(h.slot().stage) << " " << codes_of(out);
    EXPECT_EQ(h.account().capital, usd("1000"));
    EXPECT_EQ(h.slot().mark_price, px(price)) << to_string(h.slot().stage);
  };
  h.mark("BTC-USDT", "100");  // IDLE, never traded: nothing to update and nothing wrong
  EXPECT_TRUE(h.out.diagnostics.empty());
  h.enter(0, "0.02");
  mark_ok("101");  // ENTRY_WORKING
  h.full(kEntry1, "0.02", "100");
  mark_ok("105");  // POSITION_OPEN
  EXPECT_EQ(h.slot().unrealized_pnl, usd("0.1"));
  EXPECT_EQ(h.account().unrealized_total, usd("0.1"));
  h.exit(0);
  mark_ok("95");  // EXIT_WORKING
  EXPECT_EQ(h.slot().unrealized_pnl, usd("-0.1"));
  EXPECT_EQ(h.account().unrealized_total, usd("-0.1"));
  h.reconcile_begin(0);
  mark_ok("96");  // STALE_STATE_RECONCILING
  h.agreeing_positions();
  h.reconcile_complete();
  ASSERT_EQ(h.slot().stage, S::kExitWorking);
  h.full(kExit1, "0.02", "100");
  ASSERT_EQ(h.slot().stage, S::kClosed);
  mark_ok("97");  // CLOSED
  EXPECT_EQ(h.slot().unrealized_pnl, usd("0"));
  EXPECT_EQ(h.account().unrealized_total, usd("0"));
  EXPECT_EQ(h.account().capital, usd("1000"));
}

TEST(Race, MarkPriceOfAShortPositionGainsWhenThePriceFalls) {
  Harness h;
  h.enter(0, "0.02", "0", Side::kShort);
  EXPECT_EQ(h.out.commands[0].side, OrderSide::kSell);
  h.full(kEntry1, "0.02", "100");
  h.mark("BTC-USDT", "90");
  EXPECT_EQ(h.slot().unrealized_pnl, usd("0.2"));
  const auto& exit = h.exit(0);
  EXPECT_EQ(exit.commands[0].side, OrderSide::kBuy);
  h.full(kExit1, "0.02", "90");
  EXPECT_EQ(h.slot().realized_pnl, usd("0.2"));
}

TEST(Race, ANewTradeStartsFromTheLatestMarkOfItsSymbol) {
  Harness h;
  h.mark("BTC-USDT", "110");  // before any trade on the symbol
  h.enter(0, "0.02");
  EXPECT_EQ(h.slot().mark_price, px("110"));
  h.full(kEntry1, "0.02", "100");
  EXPECT_EQ(h.slot().unrealized_pnl, usd("0.2")) << "valued at the known mark at once";
  EXPECT_EQ(h.account().unrealized_total, usd("0.2"));
}

TEST(Race, PartiallyFilledEntryThenCancelledLeavesAPositionOfTheFilledSize) {
  Harness h;
  h.enter(0, "0.02", "99");
  h.ack(kEntry1);
  h.partial(kEntry1, "0.0073", "99");
  h.cancel(0);
  const auto& out = h.cancel_ack(kEntry1);
  EXPECT_EQ(h.slot().stage, S::kPositionOpen);
  EXPECT_EQ(h.slot().size, qty("0.0073"));
  EXPECT_EQ(h.slot().entry_price, px("99"));
  ASSERT_EQ(out.transitions.size(), 1U);
  EXPECT_EQ(out.transitions[0].to, S::kPositionOpen);
}

TEST(Race, ExitLargerThanTheRemainderIsClampedAndNeverOversells) {
  Harness h;
  open_position(h);
  const auto& placed = h.exit(0, "0.05");
  const KernelDiagnostic* d = find_diagnostic(placed, C::kExitClamped);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->severity, KernelSeverity::kInfo);
  ASSERT_EQ(placed.commands.size(), 1U);
  EXPECT_EQ(placed.commands[0].quantity, qty("0.02"));
  h.full(kExit1, "0.02", "100");
  EXPECT_EQ(h.slot().stage, S::kClosed);
  EXPECT_EQ(h.slot().size, qty("0"));
}

TEST(Race, ExitFillAboveTheOrderQuantityIsCriticalAndAppliesNothing) {
  Harness h;
  open_position(h);
  h.exit(0, "0.01");
  const auto& out = h.full(kExit1, "0.03", "100");
  const KernelDiagnostic* d = find_diagnostic(out, C::kFillExceedsOrder);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->severity, KernelSeverity::kCritical);
  EXPECT_EQ(h.slot().size, qty("0.02"));  // nothing sold on bad data
  EXPECT_EQ(h.slot().stage, S::kStaleStateReconciling);
}

TEST(Race, ClosedSlotRejectsExit) {
  Harness h;
  open_position(h);
  h.exit(0);
  h.full(kExit1, "0.02", "100");
  const std::string before = kernel_image(h);
  EXPECT_EQ(codes_of(h.exit(0)), "SLOT_CLOSED");
  EXPECT_EQ(kernel_image(h), before);
}

TEST(Race, StaleStateBlocksNewWorkUntilReconcileCompletes) {
  Harness h;
  open_position(h);
  h.reconcile_begin(0);
  const std::string before = kernel_image(h);
  EXPECT_EQ(codes_of(h.exit(0)), "STALE_STATE_RECONCILING");
  EXPECT_EQ(codes_of(h.enter(0, "0.01")), "STALE_STATE_RECONCILING");
  EXPECT_EQ(codes_of(h.cancel(0)), "NO_ACTIVE_ORDER");  // nothing is working
  EXPECT_EQ(kernel_image(h), before);
  h.agreeing_positions();
  const auto& done = h.reconcile_complete();
  EXPECT_TRUE(done.diagnostics.empty()) << codes_of(done);
  ASSERT_EQ(done.transitions.size(), 1U);
  EXPECT_EQ(done.transitions[0].trigger, FsmInput::kReconcileComplete);
  EXPECT_EQ(h.slot().stage, S::kPositionOpen);
  EXPECT_EQ(command_types(h.exit(0)), std::vector<Cmd>{Cmd::kPlaceOrder});
}

TEST(Race, ReconcileAgainstAFlatVenueFailsClosedAndAReleaseSettlesTheTrade) {
  Harness h;
  h.seed("1000");
  open_position(h);
  for (int run = 1; run <= 2; ++run) {
    h.reconcile_begin(0);
    h.reconcile_complete();  // the venue reports no position at all
  }
  EXPECT_TRUE(h.slot().reconcile_blocked);
  EXPECT_EQ(h.slot().stage, S::kStaleStateReconciling);
  EXPECT_EQ(h.account().trade_seq, 0U) << "nothing settles on a guess";
  EXPECT_EQ(codes_of(h.reconcile_complete()), "RECONCILE_NOT_ACTIVE");
  const auto& released = h.operator_command(OperatorAction::kRelease, 0);
  EXPECT_TRUE(has_code(released, C::kSlotReleased));
  EXPECT_EQ(h.slot().stage, S::kClosed);
  EXPECT_EQ(h.account().trade_seq, 1U);
  EXPECT_EQ(h.account().capital, usd("1000"));
}

TEST(Race, RateLimitedExitIsRetryableAndTheRetryUsesTheNextAttempt) {
  Harness h;
  open_position(h);
  h.exit(0);
  const auto& limited = h.rate_limited(kExit1, Cmd::kPlaceOrder, 1500);
  const KernelDiagnostic* d = find_diagnostic(limited, C::kRateLimited);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->severity, KernelSeverity::kWarning);
  EXPECT_EQ(find_detail(*d, "retryable")->value, 1);
  ASSERT_NE(find_detail(*d, "retry_after_ms"), nullptr);
  EXPECT_EQ(find_detail(*d, "retry_after_ms")->value, 1500);
  EXPECT_EQ(find_detail(*d, "release_eta"), nullptr);
  EXPECT_EQ(h.slot().stage, S::kPositionOpen);
  const auto& retry = h.exit(0);
  ASSERT_EQ(retry.commands.size(), 1U);
  EXPECT_EQ(retry.commands[0].order, exit_order(0, 1, 1, 1));
}

TEST(Race, RateLimitWithoutAHintGivesAReleaseEta) {
  Harness h;
  h.enter(0, "0.02");
  const auto& limited = h.rate_limited(kEntry1, Cmd::kPlaceOrder, -1);
  const KernelDiagnostic* d = find_diagnostic(limited, C::kRateLimited);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(find_detail(*d, "retry_after_ms"), nullptr);
  ASSERT_NE(find_detail(*d, "release_eta"), nullptr);
  EXPECT_EQ(find_detail(*d, "release_eta")->text, "few minutes");
  EXPECT_EQ(h.slot().stage, S::kIdle);
  // The retried entry is a new trade, so a new client order id.
  const auto& retry = h.enter(0, "0.02");
  EXPECT_EQ(retry.commands[0].order, entry_order(0, 2));
}

TEST(Race, RateLimitedCancelKeepsTheOrderWorkingAndAllowsANewCancel) {
  Harness h;
  h.enter(0, "0.02", "99");
  h.ack(kEntry1);
  h.cancel(0);
  EXPECT_EQ(codes_of(h.cancel(0)), "CANCEL_PENDING");
  h.rate_limited(kEntry1, Cmd::kCancelOrder, 200);
  EXPECT_EQ(h.slot().stage, S::kEntryWorking);
  EXPECT_EQ(command_types(h.cancel(0)), std::vector<Cmd>{Cmd::kCancelOrder});
}

TEST(Race, MockVenueRateLimitIsRetryableAndChangesNothingButTheWorkingOrder) {
  Harness h;
  VenueLoop loop(h);
  venue::MockScenario scenario;
  scenario.kind = venue::MockScenarioKind::kRateLimited;
  scenario.retry_after_ms = 750;
  loop.venue().queue_scenario(scenario);
  loop.run(h.enter(0, "0.02"));
  EXPECT_TRUE(loop.saw(C::kRateLimited));
  EXPECT_EQ(h.slot().stage, S::kIdle);
  loop.run(h.enter(0, "0.02"));
  EXPECT_EQ(h.slot().stage, S::kPositionOpen);
}

// ---------------------------------------------------------------------------------------
// Limits, validation and accounting

TEST(KernelLimits, ActiveSlotLimitIsRespected) {
  Harness h(test_config(4, 1));
  h.enter(0, "0.02");
  const std::string before = kernel_image(h);
  EXPECT_EQ(codes_of(h.enter(1, "0.02")), "ACTIVE_SLOT_LIMIT");
  EXPECT_EQ(kernel_image(h), before);
  h.full(kEntry1, "0.02", "100");
  EXPECT_EQ(codes_of(h.enter(1, "0.02")), "ACTIVE_SLOT_LIMIT");  // an open position is active
  h.exit(0);
  h.full(kExit1, "0.02", "100");
  EXPECT_EQ(command_types(h.enter(1, "0.02")), std::vector<Cmd>{Cmd::kPlaceOrder});
  h.feed(SetActiveSlotLimit{2});
  EXPECT_TRUE(h.out.diagnostics.empty());
  EXPECT_EQ(command_types(h.enter(2, "0.02")), std::vector<Cmd>{Cmd::kPlaceOrder});
  EXPECT_EQ(codes_of(h.feed(SetActiveSlotLimit{5})), "INVALID_INPUT");
  EXPECT_EQ(h.kernel.active_slot_limit(), 2U);
}

TEST(KernelLimits, ConfigIsValidatedAtCreation) {
  auto config = test_config();
  config.slot_count = 0;
  EXPECT_FALSE(Kernel::create(config).has_value());
  config = test_config();
  config.order_id_prefix = "Bad-";
  EXPECT_FALSE(Kernel::create(config).has_value());
  config = test_config();
  config.not_found_confirmations = 0;
  EXPECT_FALSE(Kernel::create(config).has_value());
  config = test_config(2, 3);
  EXPECT_FALSE(Kernel::create(config).has_value());
}

struct BadInput {
  std::string name;
  KernelInputPayload payload;
  C code;
};

VenueEvent mark_event(Symbol symbol, std::string_view price) {
  VenueEvent event;
  event.kind = KernelEventKind::kMarkPrice;
  event.event_id = 5000;
  event.symbol = symbol;
  event.mark_price = px(price);
  return event;
}

TEST(BadInputs, EachGivesItsNamedDiagnosticAndChangesNothing) {
  Harness h;
  h.seed("1000");
  h.enter(0, "0.02");
  h.ack(kEntry1);
  h.partial(kEntry1, "0.01", "100");
  const auto intent = [&](auto change) {
    KernelIntent i = h.enter_intent(1, "0.02");
    change(i);
    return i;
  };
  const auto fill = [&](auto change) {
    VenueEvent e = h.fill_event(KernelEventKind::kPartialFill, kEntry1, "0.015", "100");
    change(e);
    return e;
  };
  std::vector<BadInput> cases = {
      {"unknown slot", intent([](KernelIntent& i) { i.slot = 9; }), C::kInvalidSlot},
      {"no client intent id", intent([](KernelIntent& i) { i.id = ClientIntentId{}; }),
       C::kInvalidIntent},
      {"zero size", intent([](KernelIntent& i) { i.size = qty("0"); }), C::kInvalidIntent},
      {"negative size", intent([](KernelIntent& i) { i.size = qty("-1"); }), C::kInvalidIntent},
      {"negative price", intent([](KernelIntent& i) { i.price = px("-1"); }), C::kInvalidIntent},
      {"leverage 0", intent([](KernelIntent& i) { i.leverage = 0; }), C::kInvalidIntent},
      {"leverage 126", intent([](KernelIntent& i) { i.leverage = 126; }), C::kInvalidIntent},
      {"no asset", intent([](KernelIntent& i) { i.asset = Symbol{}; }), C::kInvalidIntent},
      {"unknown instrument", intent([](KernelIntent& i) { i.asset = sym("DOGE-USDT"); }),
       C::kUnknownInstrument},
      {"size below the step", intent([](KernelIntent& i) { i.size = qty("0.00009"); }),
       C::kSizeBelowMinimum},
      {"event id 0", fill([](VenueEvent& e) { e.event_id = 0; }), C::kInvalidEvent},
      {"fill of zero quantity", fill([](VenueEvent& e) { e.cumulative_filled = qty("0"); }),
       C::kInvalidEvent},
      {"fill at zero price", fill([](VenueEvent& e) { e.average_price = px("0"); }),
       C::kInvalidEvent},
      {"fill at a negative price", fill([](VenueEvent& e) { e.average_price = px("-100"); }),
       C::kInvalidEvent},
      {"negative cumulative", fill([](VenueEvent& e) { e.cumulative_filled = qty("-0.01"); }),
       C::kInvalidEvent},
      {"event for an unknown slot", fill([](VenueEvent& e) { e.slot = 77; }), C::kInvalidSlot},
      {"order id of another slot", fill([](VenueEvent& e) { e.order.slot = 1; }), C::kInvalidEvent},
      {"negative venue order id", fill([](VenueEvent& e) { e.venue_order_id = -5; }),
       C::kInvalidEvent},
      {"ack of an order never sent", h.event(KernelEventKind::kAck, exit_order(0, 1, 5)),
       C::kUnknownOrder},
      {"order of a future trade", fill([](VenueEvent& e) { e.order.trade = 9; }), C::kUnknownOrder},
      {"ack without venue id",
       [&] {
         VenueEvent e = h.event(KernelEventKind::kAck, kEntry1);
         e.venue_order_id = 0;
         return e;
       }(),
       C::kInvalidEvent},
      {"mark without symbol", mark_event(Symbol{}, "100"), C::kInvalidEvent},
      {"mark at zero", mark_event(sym("BTC-USDT"), "0"), C::kInvalidEvent},
      {"retry hint below -1", fill([](VenueEvent& e) { e.retry_after_ms = -7; }), C::kInvalidEvent},
      {"negative seed", SeedCapital{usd("-1")}, C::kInvalidInput},
      {"reconcile of an unknown slot", ReconcileBegin{5, 42}, C::kInvalidSlot},
      {"reconcile without a run id", ReconcileBegin{0, 0}, C::kInvalidInput},
      {"reconcile completion without an open run", ReconcileComplete{42, false, {}},
       C::kReconcileNotActive},
      {"venue position without an open run",
       ReconcilePosition{42, sym("BTC-USDT"), Side::kLong, qty("1"), px("100")},
       C::kReconcileNotActive},
      {"external fill without a fact id",
       ExternalFill{0, ExternalFillKind::kLiquidation, sym("BTC-USDT"), Side::kLong, qty("0.01"),
                    px("90"), usd("0"), 1},
       C::kInvalidInput},
      {"external fill of zero quantity",
       ExternalFill{9, ExternalFillKind::kLiquidation, sym("BTC-USDT"), Side::kLong, qty("0"),
                    px("90"), usd("0"), 1},
       C::kInvalidInput},
      {"funding without an id", FundingPayment{0, sym("BTC-USDT"), usd("1")}, C::kInvalidInput},
      {"funding without a symbol", FundingPayment{3, Symbol{}, usd("1")}, C::kInvalidInput},
      {"a ban ending before time began", VenueHealth{true, -1, 418}, C::kInvalidInput},
      {"adopting into an unknown slot",
       OperatorCommand{OperatorAction::kAdopt, 99, sym("BTC-USDT"), Side::kLong, qty("1"),
                       px("100")},
       C::kInvalidSlot},
      {"adopting nothing",
       OperatorCommand{OperatorAction::kAdopt, 2, sym("BTC-USDT"), Side::kLong, qty("0"),
                       px("100")},
       C::kInvalidInput},
      {"releasing a symbol that is not blocked",
       OperatorCommand{OperatorAction::kRelease, kNoSlot, sym("BTC-USDT"), Side::kLong, {}, {}},
       C::kInvalidInput},
      {"active slot limit above the slot count", SetActiveSlotLimit{99}, C::kInvalidInput},
  };
  for (const BadInput& c : cases) {
    const std::string before = kernel_image(h);
    const auto& out = h.feed(c.payload);
    ASSERT_EQ(out.diagnostics.size(), 1U) << c.name << ": " << codes_of(out);
    EXPECT_EQ(out.diagnostics[0].code, c.code) << c.name << ": " << codes_of(out);
    EXPECT_TRUE(out.commands.empty()) << c.name;
    EXPECT_TRUE(out.transitions.empty()) << c.name;
    EXPECT_EQ(kernel_image(h), before) << c.name;
  }
}

TEST(BadInputs, AckWithoutAVenueOrderIdLeavesNoTraceSoItsCorrectionIsApplied) {
  Harness h;
  h.enter(0, "0.02");
  VenueEvent e = h.event(KernelEventKind::kAck, kEntry1);
  e.venue_order_id = 0;
  const std::string before = kernel_image(h);
  EXPECT_EQ(codes_of(h.feed(e)), "INVALID_EVENT");
  EXPECT_EQ(kernel_image(h), before);
  e.venue_order_id = venue_id_of(kEntry1);
  EXPECT_TRUE(h.feed(e).diagnostics.empty()) << codes_of(h.out);
  EXPECT_EQ(h.slot().orders[0].status, OrderStatus::kNew);
}

TEST(BadInputs, NegativeOrNegativelyPricedExitIsInvalidAndChangesNothing) {
  Harness h;
  open_position(h);
  const std::string before = kernel_image(h);
  EXPECT_EQ(codes_of(h.exit(0, "-0.01")), "INVALID_INTENT");
  EXPECT_EQ(codes_of(h.exit(0, "0", "-1")), "INVALID_INTENT");
  EXPECT_EQ(codes_of(h.exit(0, "0.00001")), "SIZE_BELOW_MINIMUM");
  EXPECT_EQ(kernel_image(h), before);
}

TEST(BadInputs, FillOfAnUntrackedOrderOfTheCurrentTradeIsALateFillThatForcesReconcile) {
  Harness h;
  open_position(h);
  const auto& out = h.partial(exit_order(0, 1, 5), "0.01", "100");
  EXPECT_EQ(codes_of(out), "LATE_FILL");
  EXPECT_EQ(h.slot().size, qty("0.02"));
  EXPECT_EQ(h.slot().stage, S::kStaleStateReconciling);
}

TEST(BadInputs, EntryCumulativeAboveTheOrderQuantityIsCriticalAndGoesToReconcile) {
  Harness h;
  h.enter(0, "0.02");
  const auto& out = h.partial(kEntry1, "0.03", "100");
  const KernelDiagnostic* d = find_diagnostic(out, C::kFillExceedsOrder);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->severity, KernelSeverity::kCritical);
  EXPECT_EQ(h.slot().size, qty("0"));  // nothing applied
  EXPECT_EQ(h.slot().stage, S::kStaleStateReconciling);
}

TEST(Accounting, CapitalIsSeededOnce) {
  Harness h;
  EXPECT_TRUE(h.seed("1000").account_changed);
  EXPECT_TRUE(h.account().seeded);
  const auto& again = h.seed("5000");
  EXPECT_EQ(codes_of(again), "CAPITAL_ALREADY_SEEDED");
  EXPECT_FALSE(again.account_changed);
  EXPECT_EQ(h.account().capital, usd("1000"));
}

TEST(Accounting, RealizedPnlWithFeesSettlesAtCloseAndTracksPeakAndDrawdown) {
  Harness h;
  h.seed("1000");
  // Win: +0.2 gross, 0.01 fees.
  open_position(h, "0.02", "0.004");
  h.exit(0);
  h.full(kExit1, "0.02", "110", "0.006");
  EXPECT_EQ(h.account().capital, usd("1000.19"));
  EXPECT_EQ(h.account().peak_capital, usd("1000.19"));
  EXPECT_EQ(h.slot().fees_paid, usd("0.01"));
  // Loss: -0.4 gross, 0.02 fees.
  h.enter(0, "0.02");
  h.full(entry_order(0, 2), "0.02", "100", "0.01");
  h.exit(0);
  h.full(exit_order(0, 2, 1), "0.02", "80", "0.01");
  EXPECT_EQ(h.slot().realized_pnl, usd("-0.42"));
  EXPECT_EQ(h.account().capital, usd("999.77"));
  EXPECT_EQ(h.account().peak_capital, usd("1000.19"));
  EXPECT_EQ(h.account().drawdown, usd("0.42"));
  EXPECT_EQ(h.account().max_drawdown, usd("0.42"));
  EXPECT_EQ(h.account().realized_total, usd("-0.23"));
  EXPECT_EQ(h.account().trade_seq, 2U);
  // Recovery: drawdown shrinks, max drawdown stays.
  h.enter(0, "0.02");
  h.full(entry_order(0, 3), "0.02", "100");
  h.exit(0);
  h.full(exit_order(0, 3, 1), "0.02", "110");
  EXPECT_EQ(h.account().capital, usd("999.97"));
  EXPECT_EQ(h.account().drawdown, usd("0.22"));
  EXPECT_EQ(h.account().max_drawdown, usd("0.42"));
}

TEST(Accounting, AMillionPartialFillsThroughTheKernelSumExactly) {
  Harness h;
  h.enter(0, "100");
  VenueEvent e = h.fill_event(KernelEventKind::kPartialFill, kEntry1, "0.0001", "100.1");
  for (std::int64_t i = 1; i <= 1'000'000; ++i) {
    e.event_id = 1'000 + static_cast<std::uint64_t>(i);
    e.cumulative_filled = Quantity::from_units(i * 10'000);
    h.kernel.process(KernelInput{h.now, e}, h.out);
    if (!h.out.diagnostics.empty()) FAIL() << "fill " << i << ": " << codes_of(h.out);
  }
  EXPECT_EQ(h.slot().stage, S::kPositionOpen);
  EXPECT_EQ(h.slot().size, qty("100"));
  EXPECT_EQ(h.slot().entry_notional, usd("10010"));
  EXPECT_EQ(h.slot().entry_price, px("100.1"));
}

TEST(ClientOrderIds, AreFormattedFromSlotTradeLegAndAttempt) {
  ClientOrderIdText text{};
  const std::size_t n = format_client_order_id("dita", ClientOrderId{0, 1, 0, 0}, text);
  EXPECT_EQ(std::string_view(text.data(), n), "ditas0t1l0a0");
  const std::size_t m =
      format_client_order_id("ab1", ClientOrderId{255, 4294967295U, 65535, 7}, text);
  EXPECT_EQ(std::string_view(text.data(), m), "ab1s255t4294967295l65535a7");
  EXPECT_LE(m, kClientOrderIdMaxLength);
}

TEST(ClientOrderIds, ParseRoundTripsWhatFormatWrites) {
  for (const ClientOrderId id : {ClientOrderId{0, 1, 0, 0}, ClientOrderId{3, 12, 2, 1},
                                 ClientOrderId{255, 4294967295U, 65535, 65535}}) {
    ClientOrderIdText text{};
    const std::size_t n = format_client_order_id("dita", id, text);
    const auto back = parse_client_order_id("dita", std::string_view(text.data(), n));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, id);
  }
}

TEST(ClientOrderIds, ParseRejectsMalformedAndNonCanonicalIds) {
  for (const std::string_view text :
       {"ditas01t1l0a0", "ditas0t01l0a0", "ditas0t1l00a0", "ditas0t1l0a00", "ditas0t1l0",
        "xxxxs0t1l0a0", "ditas0t1l0a0x", "ditas-1t1l0a0", "ditas0t1l65536a0",
        "ditas4294967296t1l0a0", "ditas0t4294967296l0a0", "dita", "", "ditat1s0l0a0",
        "ditas+1t1l0a0", "ditas0t1l0a"}) {
    EXPECT_FALSE(parse_client_order_id("dita", text).has_value()) << text;
  }
}

TEST(ClientOrderIds, AreTheSameWhenTheSameInputsAreReplayed) {
  const auto run = [] {
    Harness h;
    std::vector<std::string> ids;
    const auto record = [&](const KernelOutcome& out) {
      for (const auto& command : out.commands) {
        ClientOrderIdText text{};
        const std::size_t n = format_client_order_id("dita", command.order, text);
        ids.emplace_back(text.data(), n);
      }
    };
    record(h.enter(0, "0.03"));
    record(h.full(kEntry1, "0.03", "100"));
    record(h.exit(0, "0.01"));
    record(h.rate_limited(kExit1));
    record(h.exit(0, "0.01"));
    record(h.full(exit_order(0, 1, 1, 1), "0.01", "100"));
    record(h.exit(0));
    return ids;
  };
  const auto first = run();
  EXPECT_EQ(first, (std::vector<std::string>{"ditas0t1l0a0", "ditas0t1l1a0", "ditas0t1l1a1",
                                             "ditas0t1l2a0"}));
  EXPECT_EQ(run(), first);
}

TEST(MultiSlot, SlotsTradeIndependently) {
  Harness h;
  h.seed("1000");
  h.enter(0, "0.02");
  h.enter(1, "1", "0", Side::kShort, "ETH-USDT");
  h.full(kEntry1, "0.02", "100");
  h.full(entry_order(1, 1), "1", "2000");
  h.mark("ETH-USDT", "1990");
  EXPECT_EQ(h.slot(1).unrealized_pnl, usd("10"));
  EXPECT_EQ(h.slot(0).unrealized_pnl, usd("0"));
  h.exit(1);
  h.full(exit_order(1, 1, 1), "1", "1990");
  EXPECT_EQ(h.slot(1).stage, S::kClosed);
  EXPECT_EQ(h.slot(0).stage, S::kPositionOpen);
  EXPECT_EQ(h.account().capital, usd("1010"));
}

}  // namespace
}  // namespace dita::core
