// dita/runtime/state_image.hpp
//
// Owns the conversions between the kernel's contracts and the fixed-layout payloads of its
// Zinc regions (dita/runtime/dita_state.h): kernel slots and account -> state image, intent
// record <-> kernel intent, the intent id that carries (producer id, sequence) into the
// journal, and the JSON form `dita status` prints. Both the server and the CLI tools use it,
// so a field is read the way it was written.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "dita/core/contracts.hpp"
#include "dita/core/kernel.hpp"
#include "dita/runtime/dita_state.h"

namespace dita::runtime {

using StateImage = dita_state_image;
using SlotImage = dita_state_slot;
using AccountImage = dita_state_account;
using IntentRecord = dita_intent_record;
using SinkImage = dita_state_sink;

static_assert(std::is_trivially_copyable_v<StateImage>);
static_assert(std::is_trivially_copyable_v<IntentRecord>);
static_assert(DITA_STATE_MAX_SLOTS == core::Kernel::kMaxSlots);
static_assert(DITA_STATE_ASSET_SIZE > core::Symbol::kMaxLength);
static_assert(DITA_STATE_ORDER_ID_SIZE > core::kClientOrderIdMaxLength);

// The client intent id of a queued intent that carries none of its own:
// "q<producer_id>.<producer_seq>". Recovery reads the pair back from the journal's INPUT
// records, so an intent the journal holds is never applied again even if the queue commit
// was lost.
inline constexpr std::uint64_t kMaxIntentSeq = (std::uint64_t{1} << 40) - 1;
inline constexpr std::uint32_t kMaxIntentProducerId = (1U << 24) - 1;
core::ClientIntentId make_intent_id(std::uint32_t producer_id, std::uint64_t seq);
struct QueueIntent {
  std::uint32_t producer_id = 0;
  std::uint64_t seq = 0;
};
std::optional<QueueIntent> parse_queue_intent_id(const core::ClientIntentId& id);

// Image writers. `prefix` renders client order ids as the venue sees them.
void write_slot_image(const core::TradeSlot& slot, std::string_view prefix, SlotImage& out);
void write_account_image(const core::AccountSnapshot& account, AccountImage& out);
// Header fields that come from the kernel (the server fills the rest).
void write_kernel_header(const core::Kernel& kernel, dita_state_header& out);

// JSON for operators. Decimals are exact strings; enums their stable names.
nlohmann::json to_json(const SlotImage& slot);
nlohmann::json to_json(const AccountImage& account);
nlohmann::json header_to_json(const dita_state_header& header);
std::string_view state_status_name(std::uint32_t status);
// "DISABLED", "UP", "DEGRADED", "DOWN" ("UNKNOWN" for other codes).
std::string_view sink_state_name(std::uint32_t state);
// {"state", "spool_depth", "delivered_records", "failures", "consecutive_failures",
//  "last_error"}.
nlohmann::json to_json(const SinkImage& sink);
// {"clickhouse": {...}, "hazelcast": {...}}.
nlohmann::json sinks_to_json(const StateImage& image);

struct IntentRecordError {
  std::string field;
  std::string message;
  std::string describe() const { return field + ": " + message; }
};

// Text arguments of one intent, as `dita intent` takes them. Empty optionals: not given.
struct IntentArgs {
  core::KernelIntentKind kind = core::KernelIntentKind::kEnter;
  std::int64_t slot = -1;
  std::string asset;
  std::string side;
  std::optional<std::string> size;
  std::optional<std::string> price;
  std::optional<std::int64_t> leverage;
};

// Validates every argument (naming the first bad one) and builds the record. `slot_count`
// bounds the slot (the running kernel's, read from its state image).
std::expected<IntentRecord, IntentRecordError> make_intent_record(const IntentArgs& args,
                                                                  std::uint32_t slot_count);

// Decodes a record taken from the queue into a kernel intent. Structural damage (kind or side
// out of range, asset not NUL-terminated or not a symbol, echo tags that disagree with the
// queue's) is an error; semantic checks (size > 0, leverage range, slot range) are the kernel's,
// which answers them with journaled diagnostics.
std::expected<core::KernelIntent, IntentRecordError> intent_from_record(const IntentRecord& record,
                                                                        std::uint32_t producer_id,
                                                                        std::uint64_t producer_seq);

nlohmann::json to_json(const IntentRecord& record);

}  // namespace dita::runtime
