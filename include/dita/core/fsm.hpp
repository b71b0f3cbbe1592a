// dita/core/fsm.hpp
//
// Owns the slot state machine as data: a total table over (TradeStage x FsmInput). Every
// cell names the action the kernel takes and, for refusals, the diagnostic it emits with
// the slot unchanged. The kernel dispatches through this table, `docs/fsm.md` is generated
// from it (`dita fsm --markdown`), and the tests walk every cell.
#pragma once

#include <array>
#include <string_view>

#include "dita/core/enums.hpp"

namespace dita::core {

enum class FsmAction : std::uint8_t {
  kDiagnose,           // refuse with the cell's diagnostic; nothing changes
  kNoOp,               // nothing to do and nothing wrong (a TICK with no working order)
  kStartEntry,         // new trade: place the entry order
  kStartExit,          // place an exit leg, clamped to the open size
  kRequestCancel,      // send a cancel for the working order
  kRecordAck,          // record the venue order id
  kApplyFill,          // apply the cumulative fill delta, then derive the stage
  kApplyCancelAck,     // order cancelled: derive the stage from what was filled
  kApplyCancelReject,  // cancel refused: keep working, query the order for its final state
  kApplyOrderReject,   // order refused by the venue
  kApplyRateLimit,     // command throttled: retryable diagnostic; a throttled place ends
  kFoldOrderStatus,    // a targeted query's answer: fold it as ack / fills / cancel / reject
  kUpdateMark,         // new mark price: unrealized PnL only
  kBeginReconcile,     // enter STALE_STATE_RECONCILING
  kCompleteReconcile,  // adopt venue truth, leave STALE_STATE_RECONCILING
  kCheckHungOrders,    // an unacknowledged order past its deadline is queried
  kApplyExternalFill,  // a venue-made fill (liquidation, stop) books as an exit leg
  kApplyFunding,       // a funding payment: funding PnL and capital, stage unchanged
  kAdoptPosition,      // operator: a venue position becomes the slot's trade (FLATTEN exits it)
  kReleaseSlot,        // operator: a reconciling slot's local position is written off
};

struct FsmCell {
  FsmAction action;
  KernelDiagnosticCode code;  // for kDiagnose
  std::string_view outcome;   // documented result, as published in docs/fsm.md
};

inline constexpr std::size_t kStageCount = 6;
inline constexpr std::size_t kFsmInputCount = 20;
using FsmTable = std::array<std::array<FsmCell, kFsmInputCount>, kStageCount>;

const FsmTable& fsm_table();
const FsmCell& fsm_cell(TradeStage stage, FsmInput input);
std::string_view to_string(FsmAction action);

}  // namespace dita::core
