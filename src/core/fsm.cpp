#include "dita/core/fsm.hpp"

#include <cstddef>

namespace dita::core {
namespace {

using A = FsmAction;
using C = KernelDiagnosticCode;

constexpr FsmCell act(A action, std::string_view outcome) {
  return {action, C::kInvalidInput, outcome};
}
constexpr FsmCell refuse(C code, std::string_view outcome) {
  return {A::kDiagnose, code, outcome};
}

// Shared cells: the same answer in several stages.
constexpr FsmCell kAckCell =
    act(A::kRecordAck,
        "record venue order id; stage unchanged; DUPLICATE_EVENT if already acknowledged");
constexpr FsmCell kMarkCell =
    act(A::kUpdateMark, "update mark price and unrealized PnL; stage unchanged");
constexpr FsmCell kBeginCell =
    act(A::kBeginReconcile, "-> STALE_STATE_RECONCILING (previous stage remembered)");
constexpr FsmCell kStatusCell =
    act(A::kFoldOrderStatus,
        "fold as ACK / fill / CANCEL_ACK / ORDER_REJECT by the reported status; NOT_FOUND counts "
        "as weak evidence until confirmed");
constexpr FsmCell kBlocked = refuse(C::kStaleStateReconciling,
                                    "STALE_STATE_RECONCILING; unchanged until reconcile completes");
constexpr FsmCell kNotReconcilingCell = refuse(
    C::kReconcileNotActive,
    "RECONCILE_NOT_ACTIVE without an open run; a run leaves slots that did not join it unchanged");
constexpr FsmCell kFundingCell =
    act(A::kApplyFunding, "funding share to the slot's funding PnL and to capital; unchanged");
constexpr FsmCell kNotHolding =
    act(A::kApplyExternalFill, "holds nothing: never attributed; unchanged");
constexpr FsmCell kAdoptCell =
    act(A::kAdoptPosition,
        "ADOPT: new adopted trade -> POSITION_OPEN (POSITION_ADOPTED); FLATTEN: the same, then "
        "PLACE_ORDER exit of everything -> EXIT_WORKING");
constexpr FsmCell kBusyForAdopt =
    refuse(C::kSlotBusy, "SLOT_BUSY (the slot has a trade; adopt into an idle slot); unchanged");
constexpr FsmCell kNotReleasable =
    refuse(C::kReconcileNotActive, "RECONCILE_NOT_ACTIVE (only a reconciling slot is released)");

constexpr FsmTable kTable = {{
    // IDLE
    {{
        act(A::kStartEntry, "-> ENTRY_WORKING; PLACE_ORDER entry (new trade id)"),
        refuse(C::kNoPosition, "NO_POSITION; unchanged"),
        refuse(C::kNoActiveOrder, "NO_ACTIVE_ORDER; unchanged"),
        kAckCell,
        act(A::kApplyFill,
            "fill of a cancelled/rejected entry: applied (money moved) -> "
            "POSITION_OPEN with FILL_AFTER_CANCEL"),
        act(A::kApplyFill,
            "fill of a cancelled/rejected entry: applied (money moved) -> "
            "POSITION_OPEN with FILL_AFTER_CANCEL"),
        act(A::kApplyCancelAck, "order already terminal: DUPLICATE_EVENT; unchanged"),
        act(A::kApplyCancelReject,
            "CANCEL_REJECTED; QUERY_ORDER if the order is still open; unchanged"),
        act(A::kApplyOrderReject, "order already terminal: DUPLICATE_EVENT; unchanged"),
        act(A::kApplyRateLimit, "RATE_LIMITED (retryable); unchanged"),
        kStatusCell,
        kMarkCell,
        kBeginCell,
        kNotReconcilingCell,
        act(A::kNoOp, "nothing working; unchanged"),
        kNotHolding,
        kFundingCell,
        kAdoptCell,
        kAdoptCell,
        kNotReleasable,
    }},
    // ENTRY_WORKING
    {{
        refuse(C::kSlotBusy, "SLOT_BUSY; unchanged"),
        refuse(C::kSlotBusy, "SLOT_BUSY (entry still working; cancel it first); unchanged"),
        act(A::kRequestCancel,
            "CANCEL_ORDER for the entry; stage unchanged; CANCEL_PENDING if "
            "a cancel is already outstanding"),
        kAckCell,
        act(A::kApplyFill, "apply fill; stays ENTRY_WORKING"),
        act(A::kApplyFill, "apply fill -> POSITION_OPEN (FULL_FILL_SHORT if below order size)"),
        act(A::kApplyCancelAck, "-> POSITION_OPEN if partially filled, else -> IDLE"),
        act(A::kApplyCancelReject, "CANCEL_REJECTED; QUERY_ORDER; stays ENTRY_WORKING"),
        act(A::kApplyOrderReject, "VENUE_REJECTED -> IDLE (POSITION_OPEN if partially filled)"),
        act(A::kApplyRateLimit,
            "RATE_LIMITED (retryable): throttled place -> IDLE; throttled "
            "cancel -> stays"),
        kStatusCell,
        kMarkCell,
        kBeginCell,
        kNotReconcilingCell,
        act(A::kCheckHungOrders, "unacknowledged past ack timeout: ORDER_HUNG + QUERY_ORDER"),
        act(A::kApplyExternalFill, "reduces the partly filled position; the entry keeps working"),
        kFundingCell,
        kBusyForAdopt,
        kBusyForAdopt,
        kNotReleasable,
    }},
    // POSITION_OPEN
    {{
        refuse(C::kSlotBusy, "SLOT_BUSY; unchanged"),
        act(A::kStartExit,
            "-> EXIT_WORKING; PLACE_ORDER exit leg (reduce-only, clamped to "
            "open size: EXIT_CLAMPED)"),
        refuse(C::kNoActiveExitOrder, "NO_ACTIVE_EXIT_ORDER; unchanged"),
        kAckCell,
        act(A::kApplyFill, "late fill of a cancelled order: applied; size 0 -> CLOSED"),
        act(A::kApplyFill, "late fill of a cancelled order: applied; size 0 -> CLOSED"),
        act(A::kApplyCancelAck, "non-working order: status recorded or DUPLICATE_EVENT; unchanged"),
        act(A::kApplyCancelReject,
            "CANCEL_REJECTED; QUERY_ORDER if the order is still open; unchanged"),
        act(A::kApplyOrderReject, "order already terminal: DUPLICATE_EVENT; unchanged"),
        act(A::kApplyRateLimit, "RATE_LIMITED (retryable); unchanged"),
        kStatusCell,
        kMarkCell,
        kBeginCell,
        kNotReconcilingCell,
        act(A::kNoOp, "nothing working; unchanged"),
        act(A::kApplyExternalFill,
            "books an exit leg at the venue's price and fee; size 0 -> CLOSED (settle once)"),
        kFundingCell,
        kBusyForAdopt,
        kBusyForAdopt,
        kNotReleasable,
    }},
    // EXIT_WORKING
    {{
        refuse(C::kSlotBusy, "SLOT_BUSY; unchanged"),
        refuse(C::kSlotBusy, "SLOT_BUSY (an exit leg is working); unchanged"),
        act(A::kRequestCancel,
            "CANCEL_ORDER for the exit leg; stage unchanged; CANCEL_PENDING "
            "if a cancel is already outstanding"),
        kAckCell,
        act(A::kApplyFill, "apply fill, realize leg PnL; stays EXIT_WORKING"),
        act(A::kApplyFill,
            "apply fill, realize leg PnL -> CLOSED when size is 0 (settle once), "
            "else -> POSITION_OPEN (multi-leg)"),
        act(A::kApplyCancelAck, "-> POSITION_OPEN (-> CLOSED if the partial fills emptied it)"),
        act(A::kApplyCancelReject, "CANCEL_REJECTED; QUERY_ORDER; stays EXIT_WORKING"),
        act(A::kApplyOrderReject, "VENUE_REJECTED -> POSITION_OPEN"),
        act(A::kApplyRateLimit,
            "RATE_LIMITED (retryable): throttled place -> POSITION_OPEN; "
            "throttled cancel -> stays"),
        kStatusCell,
        kMarkCell,
        kBeginCell,
        kNotReconcilingCell,
        act(A::kCheckHungOrders, "unacknowledged past ack timeout: ORDER_HUNG + QUERY_ORDER"),
        act(A::kApplyExternalFill,
            "books an exit leg; stays EXIT_WORKING until the working leg ends"),
        kFundingCell,
        kBusyForAdopt,
        kBusyForAdopt,
        kNotReleasable,
    }},
    // CLOSED
    {{
        act(A::kStartEntry, "-> ENTRY_WORKING; PLACE_ORDER entry (next trade id)"),
        refuse(C::kSlotClosed, "SLOT_CLOSED; unchanged (a closed slot never exits twice)"),
        refuse(C::kNoActiveOrder, "NO_ACTIVE_ORDER; unchanged"),
        kAckCell,
        act(A::kApplyFill,
            "not above applied: DUPLICATE_EVENT; new quantity: LATE_FILL "
            "(CRITICAL) -> STALE_STATE_RECONCILING"),
        act(A::kApplyFill,
            "not above applied: DUPLICATE_EVENT; new quantity: LATE_FILL "
            "(CRITICAL) -> STALE_STATE_RECONCILING"),
        act(A::kApplyCancelAck, "order already terminal: DUPLICATE_EVENT; unchanged"),
        act(A::kApplyCancelReject, "CANCEL_REJECTED; unchanged"),
        act(A::kApplyOrderReject, "order already terminal: DUPLICATE_EVENT; unchanged"),
        act(A::kApplyRateLimit, "RATE_LIMITED (retryable); unchanged"),
        kStatusCell,
        kMarkCell,
        kBeginCell,
        kNotReconcilingCell,
        act(A::kNoOp, "nothing working; unchanged"),
        kNotHolding,
        kFundingCell,
        kAdoptCell,
        kAdoptCell,
        kNotReleasable,
    }},
    // STALE_STATE_RECONCILING
    {{
        kBlocked,
        kBlocked,
        act(A::kRequestCancel,
            "CANCEL_ORDER for the working order (NO_ACTIVE_ORDER if none); stage unchanged"),
        kAckCell,
        act(A::kApplyFill, "apply to the order; the stage waits for RECONCILE_COMPLETE"),
        act(A::kApplyFill, "apply to the order; the stage waits for RECONCILE_COMPLETE"),
        act(A::kApplyCancelAck, "order cancelled; the stage waits for RECONCILE_COMPLETE"),
        act(A::kApplyCancelReject, "CANCEL_REJECTED; QUERY_ORDER if the order is still open"),
        act(A::kApplyOrderReject, "order rejected; the stage waits for RECONCILE_COMPLETE"),
        act(A::kApplyRateLimit, "RATE_LIMITED (retryable); stage unchanged"),
        act(A::kFoldOrderStatus,
            "fold the venue's facts into the order; the stage waits for RECONCILE_COMPLETE"),
        kMarkCell,
        act(A::kBeginReconcile, "joins the new run (a newer run replaces an open one); unchanged"),
        act(A::kCompleteReconcile,
            "venue agrees: stage derived from the facts (order still open -> ENTRY/EXIT_WORKING, "
            "position -> POSITION_OPEN, filled out -> CLOSED and settled, else IDLE); disagrees: "
            "stays, RECONCILE_MISMATCH, then CRITICAL RECONCILE_UNEXPLAINED and blocked"),
        act(A::kNoOp, "unchanged"),
        act(A::kApplyExternalFill,
            "books an exit leg at the venue's price and fee; the stage waits for "
            "RECONCILE_COMPLETE"),
        kFundingCell,
        refuse(C::kSlotBusy, "SLOT_BUSY (release the slot first); unchanged"),
        refuse(C::kSlotBusy, "SLOT_BUSY (release the slot first); unchanged"),
        act(A::kReleaseSlot,
            "SLOT_RELEASED: local position written off, realized PnL settles -> CLOSED (IDLE "
            "if nothing filled)"),
    }},
}};

}  // namespace

const FsmTable& fsm_table() {
  return kTable;
}

const FsmCell& fsm_cell(TradeStage stage, FsmInput input) {
  return kTable[static_cast<std::size_t>(stage)][static_cast<std::size_t>(input)];
}

std::string_view to_string(FsmAction action) {
  static constexpr std::array<std::string_view, 20> kNames = {"DIAGNOSE",
                                                              "NO_OP",
                                                              "START_ENTRY",
                                                              "START_EXIT",
                                                              "REQUEST_CANCEL",
                                                              "RECORD_ACK",
                                                              "APPLY_FILL",
                                                              "APPLY_CANCEL_ACK",
                                                              "APPLY_CANCEL_REJECT",
                                                              "APPLY_ORDER_REJECT",
                                                              "APPLY_RATE_LIMIT",
                                                              "FOLD_ORDER_STATUS",
                                                              "UPDATE_MARK",
                                                              "BEGIN_RECONCILE",
                                                              "COMPLETE_RECONCILE",
                                                              "CHECK_HUNG_ORDERS",
                                                              "APPLY_EXTERNAL_FILL",
                                                              "APPLY_FUNDING",
                                                              "ADOPT_POSITION",
                                                              "RELEASE_SLOT"};
  const auto index = static_cast<std::size_t>(action);
  return index < kNames.size() ? kNames[index] : "UNKNOWN";
}

}  // namespace dita::core
