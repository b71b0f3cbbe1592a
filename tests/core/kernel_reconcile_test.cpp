// Venue truth across lifetimes, at the kernel: reconcile runs (begin, the venue's facts,
// complete), venue-made fills, funding, the intent memory, bans and operator decisions.
// Each test is a failure peer engines shipped (shared/reference/field-lessons.md) or a
// defect DITA had, fed as the journaled inputs a restart or a reconnect produces.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/kernel_test_support.hpp"
#include "dita/core/kernel.hpp"

namespace dita::core {
namespace {

using namespace dita::core::testing;
using C = KernelDiagnosticCode;
using S = TradeStage;
using Cmd = KernelCommandType;

const ClientOrderId kEntry1 = entry_order(0, 1);
const ClientOrderId kExit1 = exit_order(0, 1, 1, 0);

void open_position(Harness& h, std::uint32_t slot = 0, std::string_view size = "0.02",
                   std::string_view symbol = "BTC-USDT", Side side = Side::kLong) {
  h.enter(slot, size, "0", side, symbol);
  const ClientOrderId entry = entry_order(slot, h.slot(slot).trade_id);
  h.ack(entry);
  h.full(entry, size, "100");
  ASSERT_EQ(h.slot(slot).stage, S::kPositionOpen);
}

// A resting, acknowledged limit exit of everything at 110.
void rest_exit(Harness& h) {
  h.exit(0, "0", "110");
  h.ack(kExit1);
  ASSERT_EQ(h.slot().stage, S::kExitWorking);
}

TEST(RestartReconcile, AFillMadeWhileTheServerWasDownClosesTheSlotAtItsRealPriceAndFee) {
  Harness h;
  h.seed("1000");
  open_position(h);
  rest_exit(h);
  // Restart: a whole-account run; the targeted query finds the exit filled; the venue is flat.
  h.reconcile_begin(kAllSlots, true, ReconcileReason::kStart);
  EXPECT_EQ(h.slot().stage, S::kStaleStateReconciling);
  h.order_status(kExit1, OrderStatus::kFilled, "0.02", "110", "0.0011");
  EXPECT_EQ(h.slot().stage, S::kStaleStateReconciling) << "the stage waits for the run";
  const auto& done = h.reconcile_complete_with_balance("1000.1989");
  EXPECT_TRUE(done.diagnostics.empty()) << codes_of(done);
  EXPECT_EQ(h.slot().stage, S::kClosed);
  EXPECT_EQ(h.slot().realized_pnl, usd("0.1989"));
  EXPECT_EQ(h.account().capital, usd("1000.1989"));
  ASSERT_EQ(done.settlements.size(), 1U);
  EXPECT_EQ(done.settlements[0].amount, usd("0.1989"));
}

TEST(RestartReconcile, AnAcknowledgedOrderTheVenueFilledDuringACrashIsLearnedNotLeftHanging) {
  Harness h;
  h.enter(0, "0.02", "100");
  h.ack(kEntry1);  // journaled; the fill never was
  h.reconcile_begin(kAllSlots, true, ReconcileReason::kStart);
  h.order_status(kEntry1, OrderStatus::kFilled, "0.02", "100");
  h.position("BTC-USDT", Side::kLong, "0.02", "100");
  const auto& done = h.reconcile_complete();
  EXPECT_TRUE(done.diagnostics.empty()) << codes_of(done);
  EXPECT_EQ(h.slot().stage, S::kPositionOpen);
  EXPECT_EQ(h.slot().size, qty("0.02"));
}

TEST(RestartReconcile, AnOrderStillOpenOnTheVenueKeepsWorkingAfterTheRun) {
  Harness h;
  open_position(h);
  rest_exit(h);
  h.reconcile_begin(kAllSlots, true, ReconcileReason::kStart);
  h.order_status(kExit1, OrderStatus::kNew, "0", "0");
  h.position("BTC-USDT", Side::kLong, "0.02", "100");
  h.reconcile_complete();
  EXPECT_EQ(h.slot().stage, S::kExitWorking);
  // ...and it can be managed like any other (field lesson: NautilusTrader #5057).
  EXPECT_EQ(command_types(h.cancel(0)), std::vector<Cmd>{Cmd::kCancelOrder});
}

TEST(RestartReconcile, AFillAppliedWhileReconcilingIsNeverCountedTwiceWhenReportedAgain) {
  // The defect: a fill refused while reconciling, then adopted by RECONCILE_COMPLETE, was
  // applied again when the venue reported it later (FILL_AFTER_CANCEL): 100 held, 50 real.
  Harness h;
  h.enter(0, "0.02", "100");
  h.ack(kEntry1);
  h.reconcile_begin(0);
  h.partial(kEntry1, "0.01", "100");  // arrives mid-run: folded into the order
  h.order_status(kEntry1, OrderStatus::kCanceled, "0.01", "100");
  h.position("BTC-USDT", Side::kLong, "0.01", "100");
  EXPECT_TRUE(h.reconcile_complete().diagnostics.empty());
  EXPECT_EQ(h.slot().stage, S::kPositionOpen);
  EXPECT_EQ(h.slot().size, qty("0.01"));
  // The stream replays the same trade after a reconnect, and a query repeats it.
  EXPECT_EQ(codes_of(h.full(kEntry1, "0.01", "100")), "DUPLICATE_EVENT");
  EXPECT_EQ(codes_of(h.order_status(kEntry1, OrderStatus::kCanceled, "0.01", "100")),
            "DUPLICATE_EVENT");
  EXPECT_EQ(h.slot().size, qty("0.01"));
}

TEST(RestartReconcile, ALiquidationWhileDownSettlesTheSlotWithTheVenuesPriceAndFee) {
  Harness h;
  h.seed("1000");
  open_position(h);
  h.reconcile_begin(kAllSlots, true, ReconcileReason::kStart);
  const auto& liquidated = h.external_fill("BTC-USDT", Side::kLong, "0.02", "90", "0.009");
  const KernelDiagnostic* d = find_diagnostic(liquidated, C::kExternalFill);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->severity, KernelSeverity::kWarning);
  EXPECT_EQ(liquidated.fills.size(), 1U);
  EXPECT_TRUE(h.reconcile_complete().diagnostics.empty());
  EXPECT_EQ(h.slot().stage, S::kClosed);
  EXPECT_EQ(h.slot().realized_pnl, usd("-0.209"));
  EXPECT_EQ(h.account().capital, usd("999.791"));
  // The next run reports the same liquidation: recognised by its fact id, not booked again.
  h.reconcile_begin(kAllSlots);
  ExternalFill again;
  again.fact_id = 1;  // the harness numbered the first one 1
  again.symbol = sym("BTC-USDT");
  again.quantity = qty("0.02");
  again.price = px("90");
  EXPECT_EQ(codes_of(h.feed(again)), "DUPLICATE_EVENT");
}

TEST(RestartReconcile, AVenuePositionNoSlotExplainsBlocksItsSymbolUntilAnOperatorDecides) {
  // Field lesson (NautilusTrader #4739, #4736): an unexplained position gets a diagnostic and
  // an operator decision, never invented history; a new entry must not double the exposure.
  Harness h;
  h.reconcile_begin(kAllSlots, true, ReconcileReason::kStart);
  h.position("ETH-USDT", Side::kShort, "0.5", "3000");
  const auto& done = h.reconcile_complete();
  const KernelDiagnostic* d = find_diagnostic(done, C::kReconcileUnexplained);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->severity, KernelSeverity::kCritical);
  EXPECT_EQ(std::string(find_detail(*d, "symbol")->text), "ETH-USDT");
  EXPECT_EQ(find_detail(*d, "venue_quantity")->value, qty("0.5").units());
  ASSERT_EQ(h.kernel.symbol_blocks().size(), 1U);
  EXPECT_EQ(codes_of(h.enter(1, "0.1", "0", Side::kShort, "ETH-USDT")), "SYMBOL_BLOCKED");
  EXPECT_TRUE(h.enter(2, "0.01").diagnostics.empty()) << "other symbols trade on";
  const auto& adopted =
      h.operator_command(OperatorAction::kAdopt, 3, "ETH-USDT", Side::kShort, "0.5", "3000");
  EXPECT_TRUE(has_code(adopted, C::kPositionAdopted));
  EXPECT_TRUE(h.kernel.symbol_blocks().empty());
  EXPECT_EQ(h.slot(3).stage, S::kPositionOpen);
  EXPECT_TRUE(h.slot(3).adopted);
  // The adopted position now explains the venue's: the next run agrees.
  h.reconcile_begin(kAllSlots);
  h.position("ETH-USDT", Side::kShort, "0.5", "3000");
  EXPECT_TRUE(h.reconcile_complete().diagnostics.empty());
}

TEST(RestartReconcile, FlatteningAnUnexplainedPositionAdoptsItAndSendsOneReduceOnlyExit) {
  Harness h;
  h.reconcile_begin(kAllSlots, true, ReconcileReason::kStart);
  h.position("ETH-USDT", Side::kLong, "0.4", "3000");
  h.reconcile_complete();
  const auto& flat =
      h.operator_command(OperatorAction::kFlatten, 1, "ETH-USDT", Side::kLong, "0.4", "3000");
  ASSERT_EQ(flat.commands.size(), 1U);
  EXPECT_TRUE(flat.commands[0].reduce_only);
  EXPECT_EQ(flat.commands[0].quantity, qty("0.4"));
  EXPECT_EQ(h.slot(1).stage, S::kExitWorking);
}

TEST(RestartReconcile, AttributionIsByClientOrderIdSoTwoSlotsOnOneSymbolStayApart) {
  Harness h;
  open_position(h, 0, "0.02");
  open_position(h, 1, "0.03");
  // The venue holds the net 0.05: both slots agree with it.
  h.reconcile_begin(kAllSlots);
  h.position("BTC-USDT", Side::kLong, "0.05", "100");
  EXPECT_TRUE(h.reconcile_complete().diagnostics.empty());
  // A liquidation of part of that net cannot be pinned on either slot: both fail closed.
  const auto& partial = h.external_fill("BTC-USDT", Side::kLong, "0.01", "90");
  EXPECT_EQ(
      std::string(find_detail(*find_diagnostic(partial, C::kExternalFill), "attributed")->text),
      "ambiguous");
  EXPECT_TRUE(h.slot(0).reconcile_blocked);
  EXPECT_TRUE(h.slot(1).reconcile_blocked);
  EXPECT_EQ(h.slot(0).size, qty("0.02")) << "nothing is booked on a guess";
}

TEST(RestartReconcile, AWholeLiquidationOfASharedSymbolClosesEveryHolderWithTheFeeSplitBySize) {
  Harness h;
  open_position(h, 0, "0.02");
  open_position(h, 1, "0.06");
  const auto& out = h.external_fill("BTC-USDT", Side::kLong, "0.08", "90", "0.08");
  EXPECT_EQ(out.fills.size(), 2U);
  EXPECT_EQ(h.slot(0).stage, S::kClosed);
  EXPECT_EQ(h.slot(1).stage, S::kClosed);
  EXPECT_EQ(h.slot(0).fees_paid, usd("0.02"));
  EXPECT_EQ(h.slot(1).fees_paid, usd("0.06"));
}

TEST(RestartReconcile, OneRunThatDisagreesOnlyStrikesSoAFillInFlightCannotFailASlotClosed) {
  Harness h;
  h.enter(0, "0.02");
  h.ack(kEntry1);
  h.reconcile_begin(0, true, ReconcileReason::kReconnect);
  h.order_status(kEntry1, OrderStatus::kNew, "0", "0");
  h.position("BTC-USDT", Side::kLong, "0.02", "100");  // the fill raced the status query
  EXPECT_EQ(codes_of(h.reconcile_complete()), "RECONCILE_MISMATCH");
  EXPECT_FALSE(h.slot().reconcile_blocked);
  h.full(kEntry1, "0.02", "100");  // the stream delivers it
  h.reconcile_begin(0, true, ReconcileReason::kStale);
  h.order_status(kEntry1, OrderStatus::kFilled, "0.02", "100");
  h.position("BTC-USDT", Side::kLong, "0.02", "100");
  EXPECT_TRUE(h.reconcile_complete().diagnostics.empty());
  EXPECT_EQ(h.slot().stage, S::kPositionOpen);
  EXPECT_EQ(h.slot().reconcile_strikes, 0);
}

TEST(RestartReconcile, HedgeAccountsAreComparedPerSideAndNettingAccountsOnTheNet) {
  Harness h;
  open_position(h, 0, "0.02", "BTC-USDT", Side::kLong);
  open_position(h, 1, "0.02", "BTC-USDT", Side::kShort);
  // One-way: the venue nets the two slots to nothing.
  h.reconcile_begin(kAllSlots, true);
  EXPECT_TRUE(h.reconcile_complete().diagnostics.empty());
  // Hedge: one position per side.
  h.reconcile_begin(kAllSlots, false);
  h.position("BTC-USDT", Side::kLong, "0.02", "100");
  h.position("BTC-USDT", Side::kShort, "0.02", "100");
  EXPECT_TRUE(h.reconcile_complete().diagnostics.empty());
}

TEST(RestartReconcile, ANewerRunReplacesAnOpenOneAndFactsOfTheOldRunAreRefused) {
  Harness h;
  open_position(h);
  h.reconcile_begin(kAllSlots);
  const std::uint64_t old_run = h.run_id;
  EXPECT_EQ(codes_of(h.reconcile_begin(kAllSlots)), "RECONCILE_IN_PROGRESS");
  EXPECT_EQ(codes_of(h.feed(ReconcileComplete{old_run, false, {}})), "RECONCILE_NOT_ACTIVE");
  h.position("BTC-USDT", Side::kLong, "0.02", "100");
  EXPECT_TRUE(h.reconcile_complete().diagnostics.empty());
  EXPECT_EQ(h.slot().stage, S::kPositionOpen);
}

TEST(RestartReconcile, TheVenueBalanceIsComparedWithCapitalButNeverAdopted) {
  Harness h;
  h.seed("1000");
  h.reconcile_begin(kAllSlots);
  const auto& done = h.reconcile_complete_with_balance("990");
  const KernelDiagnostic* d = find_diagnostic(done, C::kCapitalDrift);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(find_detail(*d, "difference")->value, usd("-10").units());
  EXPECT_EQ(h.account().capital, usd("1000"));
}

TEST(NotFound, AnAcknowledgedOrderIsOnlyTakenAsGoneAfterRepeatedAnswersAndTheGracePeriod) {
  KernelConfig config = test_config();
  config.not_found_grace_ns = 30'000 * kMs;
  Harness h(config);
  open_position(h);
  rest_exit(h);
  for (int i = 0; i < 5; ++i) {
    const auto& weak = h.order_status(kExit1, OrderStatus::kNotFound, "0", "0", "0", kMs);
    EXPECT_EQ(find_detail(*find_diagnostic(weak, C::kOrderNotFound), "confirmed")->value, 0);
    EXPECT_EQ(h.slot().stage, S::kExitWorking) << "answer " << i << " within the grace period";
  }
  // Past the grace period and the confirmations: gone, and the position decides.
  const auto& gone = h.order_status(kExit1, OrderStatus::kNotFound, "0", "0", "0", 31'000 * kMs);
  EXPECT_EQ(find_detail(*find_diagnostic(gone, C::kOrderNotFound), "confirmed")->value, 1);
  EXPECT_EQ(h.slot().stage, S::kStaleStateReconciling);
  h.reconcile_begin(0);
  h.position("BTC-USDT", Side::kLong, "0.02", "100");
  EXPECT_TRUE(h.reconcile_complete().diagnostics.empty());
  EXPECT_EQ(h.slot().stage, S::kPositionOpen);
}

TEST(Funding, CapitalFollowsEveryFundingPaymentAndEachSlotCarriesItsShare) {
  Harness h;
  h.seed("1000");
  open_position(h, 0, "0.01");
  open_position(h, 1, "0.03");
  Money total;
  for (int interval = 0; interval < 100; ++interval) {
    const Money amount = usd(interval % 3 == 0 ? "0.0004" : "-0.0012");
    h.feed(FundingPayment{static_cast<std::uint64_t>(1000 + interval), sym("BTC-USDT"), amount});
    total += amount;
  }
  EXPECT_EQ(h.account().capital, usd("1000") + total);
  EXPECT_EQ(h.account().funding_total, total);
  EXPECT_EQ(h.slot(0).funding_pnl + h.slot(1).funding_pnl, total);
  // A payment repeated by the venue (the reconciler fetches history again) counts once.
  EXPECT_EQ(codes_of(h.feed(FundingPayment{1000, sym("BTC-USDT"), usd("1")})), "DUPLICATE_EVENT");
  EXPECT_EQ(h.account().funding_total, total);
}

TEST(IntentMemory, TheSameIntentTwiceIsAnsweredWithTheFirstOutcomeAndNeverAppliedAgain) {
  Harness h;
  const KernelIntent intent = h.enter_intent(0, "0.02");
  const auto& first = h.feed(intent);
  ASSERT_EQ(first.commands.size(), 1U);
  const std::uint64_t first_seq = first.input_seq;
  const auto& again = h.feed(intent);
  ASSERT_EQ(codes_of(again), "ALREADY_APPLIED");
  EXPECT_TRUE(again.commands.empty());
  const KernelDiagnostic& d = again.diagnostics[0];
  EXPECT_EQ(find_detail(d, "original_input_seq")->value, static_cast<std::int64_t>(first_seq));
  EXPECT_EQ(find_detail(d, "accepted")->value, 1);
  KernelIntent other = intent;
  other.size = qty("0.05");
  EXPECT_EQ(codes_of(h.feed(other)), "INTENT_ID_REUSED");
}

TEST(IntentMemory, ARefusedIntentSentAgainGetsItsOriginalRefusal) {
  Harness h;
  h.enter(0, "0.02");
  const KernelIntent busy = h.enter_intent(0, "0.01");
  EXPECT_EQ(codes_of(h.feed(busy)), "SLOT_BUSY");
  const auto& again = h.feed(busy);
  ASSERT_EQ(codes_of(again), "ALREADY_APPLIED");
  EXPECT_EQ(std::string(find_detail(again.diagnostics[0], "original_code")->text), "SLOT_BUSY");
}

TEST(IntentMemory, AnIntentConsumedAfterItsDeadlineIsRefusedAndSendsNothing) {
  Harness h;
  KernelIntent late = h.enter_intent(0, "0.02");
  late.deadline_ns = h.now;  // the next input is 1 ms later
  const auto& out = h.feed(late);
  EXPECT_EQ(codes_of(out), "INTENT_EXPIRED");
  EXPECT_TRUE(out.commands.empty());
  EXPECT_EQ(h.slot().stage, S::kIdle);
}

TEST(IntentMemory, RemembersTheNewestIdsAndSurvivesRingWraparound) {
  KernelConfig config = test_config();
  config.intent_memory = 8;
  Harness h(config);
  std::vector<KernelIntent> sent;
  for (int i = 0; i < 30; ++i) {
    sent.push_back(h.enter_intent(9, "0.01"));  // slot 9 does not exist: refused, remembered
    h.feed(sent.back());
  }
  for (int i = 22; i < 30; ++i) {
    EXPECT_EQ(codes_of(h.feed(sent[static_cast<std::size_t>(i)])), "ALREADY_APPLIED") << i;
  }
  // Older than the memory: forgotten (documented; deadlines make such re-sends expire).
  EXPECT_EQ(codes_of(h.feed(sent[0])), "INVALID_SLOT");
}

TEST(VenueBan, NewEntriesAreRefusedWhileBannedAndExitsStillGoOut) {
  Harness h;
  open_position(h);
  const auto& banned = h.feed(VenueHealth{true, 0, 418});
  EXPECT_EQ(codes_of(banned), "VENUE_BANNED");
  EXPECT_TRUE(h.account().venue_banned);
  EXPECT_EQ(codes_of(h.enter(1, "0.01")), "VENUE_BANNED");
  EXPECT_EQ(command_types(h.exit(0)), std::vector<Cmd>{Cmd::kPlaceOrder});
  h.feed(VenueHealth{false, 0, 0});
  EXPECT_TRUE(h.enter(1, "0.01").diagnostics.empty());
}

TEST(VenueBan, ABanWithAnEndTimeEndsByItself) {
  Harness h;
  h.feed(VenueHealth{true, h.now + 10 * kMs, 418});
  EXPECT_EQ(codes_of(h.enter(0, "0.01")), "VENUE_BANNED");
  h.tick(20 * kMs);
  EXPECT_TRUE(h.enter(1, "0.01").diagnostics.empty());
}

TEST(Facts, EveryFillAndSettlementIsReportedAsADeltaNeverACumulativeFigure) {
  Harness h;
  h.seed("1000");
  h.enter(0, "0.02");
  h.ack(kEntry1);
  const auto& first = h.partial(kEntry1, "0.005", "100", "0.0001");
  ASSERT_EQ(first.fills.size(), 1U);
  EXPECT_EQ(first.fills[0].quantity, qty("0.005"));
  const auto& second = h.full(kEntry1, "0.02", "101", "0.0004");
  ASSERT_EQ(second.fills.size(), 1U);
  EXPECT_EQ(second.fills[0].quantity, qty("0.015"));
  EXPECT_EQ(second.fills[0].fee, usd("0.0003"));
  // 0.02 @ 101 is 2.02; 0.005 @ 100 was 0.5: this delta is 1.52 for 0.015.
  EXPECT_EQ(second.fills[0].notional, usd("1.52"));
  h.exit(0);
  const auto& closed = h.full(kExit1, "0.02", "110", "0.001");
  ASSERT_EQ(closed.fills.size(), 1U);
  EXPECT_EQ(closed.fills[0].realized, usd("0.18"));
  ASSERT_EQ(closed.settlements.size(), 1U);
  EXPECT_EQ(closed.settlements[0].kind, SettlementKind::kTrade);
  EXPECT_EQ(closed.settlements[0].trade_seq, 1U);
  EXPECT_EQ(closed.settlements[0].amount, h.slot().realized_pnl);
  EXPECT_EQ(closed.settlements[0].capital_after, h.account().capital);
}

}  // namespace
}  // namespace dita::core
