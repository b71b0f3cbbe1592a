// dita/core/enums.hpp
//
// Owns every enumeration of the kernel's contracts and its stable string form. These
// strings appear in journals, ClickHouse rows, CLI output and Python; renaming one is a
// breaking change of the journal format.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace dita::core {

template <class E>
struct EnumNames;  // specialised below: static constexpr std::array<std::string_view, N> kNames

template <class E>
constexpr std::string_view to_string(E value) {
  const auto index = static_cast<std::size_t>(value);
  return index < EnumNames<E>::kNames.size() ? EnumNames<E>::kNames[index] : "UNKNOWN";
}

template <class E>
constexpr std::optional<E> parse_enum(std::string_view text) {
  for (std::size_t i = 0; i < EnumNames<E>::kNames.size(); ++i) {
    if (EnumNames<E>::kNames[i] == text) return static_cast<E>(i);
  }
  return std::nullopt;
}

template <class E>
constexpr std::size_t enum_count() {
  return EnumNames<E>::kNames.size();
}

#define DITA_ENUM_NAMES(Type, ...)                                                       \
  template <>                                                                            \
  struct EnumNames<Type> {                                                               \
    static constexpr std::array kNames = std::to_array<std::string_view>({__VA_ARGS__}); \
  }

enum class TradeStage : std::uint8_t {
  kIdle,
  kEntryWorking,
  kPositionOpen,
  kExitWorking,
  kClosed,
  kStaleStateReconciling,
};
DITA_ENUM_NAMES(TradeStage, "IDLE", "ENTRY_WORKING", "POSITION_OPEN", "EXIT_WORKING", "CLOSED",
                "STALE_STATE_RECONCILING");

enum class Side : std::uint8_t { kLong, kShort };
DITA_ENUM_NAMES(Side, "LONG", "SHORT");

enum class OrderSide : std::uint8_t { kBuy, kSell };
DITA_ENUM_NAMES(OrderSide, "BUY", "SELL");

enum class OrderType : std::uint8_t { kMarket, kLimit };
DITA_ENUM_NAMES(OrderType, "MARKET", "LIMIT");

enum class OrderRole : std::uint8_t { kEntry, kExit };
DITA_ENUM_NAMES(OrderRole, "ENTRY", "EXIT");

// kPendingNew: sent, no venue acknowledgement yet. kNotFound only appears in query results.
enum class OrderStatus : std::uint8_t {
  kPendingNew,
  kNew,
  kPartiallyFilled,
  kFilled,
  kCanceled,
  kRejected,
  kNotFound,
};
DITA_ENUM_NAMES(OrderStatus, "PENDING_NEW", "NEW", "PARTIALLY_FILLED", "FILLED", "CANCELED",
                "REJECTED", "NOT_FOUND");

enum class KernelIntentKind : std::uint8_t { kEnter, kExit, kCancel };
DITA_ENUM_NAMES(KernelIntentKind, "ENTER", "EXIT", "CANCEL");

enum class KernelEventKind : std::uint8_t {
  kAck,
  kPartialFill,
  kFullFill,
  kCancelAck,
  kCancelReject,
  kOrderReject,
  kRateLimited,
  kOrderStatus,  // result of a targeted query: what reconciliation of one order needs
  kMarkPrice,
};
DITA_ENUM_NAMES(KernelEventKind, "ACK", "PARTIAL_FILL", "FULL_FILL", "CANCEL_ACK", "CANCEL_REJECT",
                "ORDER_REJECT", "RATE_LIMITED", "ORDER_STATUS", "MARK_PRICE");

// Why a reconcile run started; journaled with its RECONCILE_BEGIN so a run explains itself.
enum class ReconcileReason : std::uint8_t { kStart, kReconnect, kStale, kPeriodic, kOperator };
DITA_ENUM_NAMES(ReconcileReason, "START", "RECONNECT", "STALE", "PERIODIC", "OPERATOR");

// Who moved a position without a DITA order: the venue (liquidation, auto-deleverage, a
// triggered stop or take-profit whose fill never reaches the stream) or a person.
enum class ExternalFillKind : std::uint8_t { kLiquidation, kAdl, kStopTrigger, kManual };
DITA_ENUM_NAMES(ExternalFillKind, "LIQUIDATION", "ADL", "STOP_TRIGGER", "MANUAL");

// Operator decisions about a position the kernel could not explain (journaled inputs).
enum class OperatorAction : std::uint8_t { kAdopt, kFlatten, kRelease };
DITA_ENUM_NAMES(OperatorAction, "ADOPT", "FLATTEN", "RELEASE");

enum class SettlementKind : std::uint8_t { kTrade, kFunding };
DITA_ENUM_NAMES(SettlementKind, "TRADE", "FUNDING");

// Who throttled a command: the venue answered 429/100410, or DITA's own token bucket
// refused it before anything was sent.
enum class RateLimitScope : std::uint8_t { kVenue, kClient };
DITA_ENUM_NAMES(RateLimitScope, "VENUE", "CLIENT");

enum class KernelCommandType : std::uint8_t { kPlaceOrder, kCancelOrder, kQueryOrder };
DITA_ENUM_NAMES(KernelCommandType, "PLACE_ORDER", "CANCEL_ORDER", "QUERY_ORDER");

enum class KernelSeverity : std::uint8_t { kInfo, kWarning, kError, kCritical };
DITA_ENUM_NAMES(KernelSeverity, "INFO", "WARNING", "ERROR", "CRITICAL");

enum class KernelMode : std::uint8_t { kNormal, kDebug };
DITA_ENUM_NAMES(KernelMode, "NORMAL", "DEBUG");

enum class KernelVerbosity : std::uint8_t { kQuiet, kVerbose, kTrace };
DITA_ENUM_NAMES(KernelVerbosity, "QUIET", "VERBOSE", "TRACE");

enum class BackendMode : std::uint8_t { kMock, kBingx };
DITA_ENUM_NAMES(BackendMode, "MOCK", "BINGX");

// Every diagnostic the kernel can emit. The first seven are the reference's §11 set.
enum class KernelDiagnosticCode : std::uint8_t {
  kInvalidSlot,
  kSlotBusy,
  kNoActiveExitOrder,
  kInvalidTransition,
  kStaleStateReconciling,
  kDuplicateEvent,
  kVenueRejected,
  kRateLimited,
  kInvalidIntent,
  kInvalidEvent,
  kInvalidInput,
  kUnknownOrder,
  kUnknownInstrument,
  kSizeBelowMinimum,
  kActiveSlotLimit,
  kSlotClosed,
  kNoPosition,
  kNoActiveOrder,
  kCancelPending,
  kCancelRejected,
  kOrderHung,
  kOrderNotFound,
  kLateFill,
  kFillExceedsOrder,
  kFullFillShort,
  kExitClamped,
  kFillAfterCancel,
  kStaleOrderEvent,
  kReconcileInProgress,
  kReconcileNotActive,
  kCapitalAlreadySeeded,
  kAlreadyApplied,
  kIntentIdReused,
  kIntentExpired,
  kVenueBanned,
  kReconcileMismatch,
  kReconcileUnexplained,
  kReconcileResolved,
  kSymbolBlocked,
  kExternalFill,
  kFundingUnattributed,
  kCapitalDrift,
  kPositionAdopted,
  kSlotReleased,
};
DITA_ENUM_NAMES(KernelDiagnosticCode, "INVALID_SLOT", "SLOT_BUSY", "NO_ACTIVE_EXIT_ORDER",
                "INVALID_TRANSITION", "STALE_STATE_RECONCILING", "DUPLICATE_EVENT",
                "VENUE_REJECTED", "RATE_LIMITED", "INVALID_INTENT", "INVALID_EVENT",
                "INVALID_INPUT", "UNKNOWN_ORDER", "UNKNOWN_INSTRUMENT", "SIZE_BELOW_MINIMUM",
                "ACTIVE_SLOT_LIMIT", "SLOT_CLOSED", "NO_POSITION", "NO_ACTIVE_ORDER",
                "CANCEL_PENDING", "CANCEL_REJECTED", "ORDER_HUNG", "ORDER_NOT_FOUND", "LATE_FILL",
                "FILL_EXCEEDS_ORDER", "FULL_FILL_SHORT", "EXIT_CLAMPED", "FILL_AFTER_CANCEL",
                "STALE_ORDER_EVENT", "RECONCILE_IN_PROGRESS", "RECONCILE_NOT_ACTIVE",
                "CAPITAL_ALREADY_SEEDED", "ALREADY_APPLIED", "INTENT_ID_REUSED", "INTENT_EXPIRED",
                "VENUE_BANNED", "RECONCILE_MISMATCH", "RECONCILE_UNEXPLAINED", "RECONCILE_RESOLVED",
                "SYMBOL_BLOCKED", "EXTERNAL_FILL", "FUNDING_UNATTRIBUTED", "CAPITAL_DRIFT",
                "POSITION_ADOPTED", "SLOT_RELEASED");

// The columns of the FSM table: every input a slot can receive.
enum class FsmInput : std::uint8_t {
  kEnter,
  kExit,
  kCancel,
  kAck,
  kPartialFill,
  kFullFill,
  kCancelAck,
  kCancelReject,
  kOrderReject,
  kRateLimited,
  kOrderStatus,
  kMarkPrice,
  kReconcileBegin,
  kReconcileComplete,
  kTick,
  kExternalFill,
  kFunding,
  kAdopt,
  kFlatten,
  kRelease,
};
DITA_ENUM_NAMES(FsmInput, "ENTER", "EXIT", "CANCEL", "ACK", "PARTIAL_FILL", "FULL_FILL",
                "CANCEL_ACK", "CANCEL_REJECT", "ORDER_REJECT", "RATE_LIMITED", "ORDER_STATUS",
                "MARK_PRICE", "RECONCILE_BEGIN", "RECONCILE_COMPLETE", "TICK", "EXTERNAL_FILL",
                "FUNDING", "ADOPT", "FLATTEN", "RELEASE");

#undef DITA_ENUM_NAMES

}  // namespace dita::core

namespace dita::core {

// One severity per code, so the same refusal is always equally loud.
constexpr KernelSeverity default_severity(KernelDiagnosticCode code) {
  using C = KernelDiagnosticCode;
  switch (code) {
    case C::kDuplicateEvent:
    case C::kCancelPending:
    case C::kExitClamped:
    case C::kStaleOrderEvent:
    case C::kReconcileInProgress:
    case C::kAlreadyApplied:
    case C::kReconcileResolved:
      return KernelSeverity::kInfo;
    case C::kInvalidSlot:
    case C::kInvalidIntent:
    case C::kInvalidEvent:
    case C::kInvalidInput:
    case C::kUnknownOrder:
    case C::kUnknownInstrument:
    case C::kIntentIdReused:
      return KernelSeverity::kError;
    case C::kLateFill:
    case C::kFillExceedsOrder:
    case C::kVenueBanned:
    case C::kReconcileUnexplained:
      return KernelSeverity::kCritical;
    default:
      return KernelSeverity::kWarning;
  }
}

}  // namespace dita::core
