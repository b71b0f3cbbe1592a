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
constexpr FsmCell kNotReconcilingCell =
    refuse(C::kReconcileNotActive, "RECONCILE_NOT_ACTIVE; unchanged");
constexpr FsmCell kStatusCell =
    act(A::kFoldOrderStatus,
        "fold as ACK / fill / CANCEL_ACK / ORDER_REJECT by the reported status; NOT_FOUND counts "
        "as weak evidence until confirmed");
constexpr FsmCell kBlocked = refuse(C::kStaleStateReconciling,
                                    "STALE_STATE_RECONCILING; unchanged until reconcile completes");

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
    }},
    // STALE_STATE_RECONCILING
    {{
        kBlocked,
        kBlocked,
        kBlocked,
        kBlocked,
        kBlocked,
        kBlocked,
        kBlocked,
        kBlocked,
        kBlocked,
        kBlocked,
        kBlocked,
        kMarkCell,
        refuse(C::kReconcileInProgress, "RECONCILE_IN_PROGRESS; unchanged"),
        act(A::kCompleteReconcile,
            "adopt venue truth: -> ENTRY/EXIT_WORKING if the order is "
            "still open, POSITION_OPEN if a position remains, CLOSED if "
            "the trade had fills and is flat, else IDLE"),
        act(A::kNoOp, "unchanged"),
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
  static constexpr std::array<std::string_view, 16> kNames = {"DIAGNOSE",
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
                                                              "CHECK_HUNG_ORDERS"};
  const auto index = static_cast<std::size_t>(action);
  return index < kNames.size() ? kNames[index] : "UNKNOWN";
}

}  // namespace dita::core
