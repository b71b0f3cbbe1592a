#include "dita/codec/json_codec.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>

namespace dita::codec {
namespace {

using core::to_string;
using nlohmann::json;

std::string str(std::string_view view) {
  return std::string(view);
}

std::unexpected<CodecError> fail(std::string_view path, std::string_view key, std::string message) {
  std::string field(path);
  if (!key.empty()) {
    if (!field.empty()) field += '.';
    field += key;
  }
  return std::unexpected(CodecError{field, std::move(message)});
}

template <class E>
Decoded<E> enum_field(const json& object, std::string_view key, std::string_view path,
                      std::optional<E> fallback) {
  const auto it = object.find(key);
  if (it == object.end()) {
    if (fallback) return *fallback;
    return fail(path, key, "is required");
  }
  std::string allowed;
  for (const auto name : core::EnumNames<E>::kNames) {
    if (!allowed.empty()) allowed += ", ";
    allowed += name;
  }
  if (!it->is_string()) return fail(path, key, "must be a string, one of: " + allowed);
  const auto value = core::parse_enum<E>(it->template get<std::string>());
  if (!value) {
    return fail(path, key, "'" + it->template get<std::string>() + "' is not one of: " + allowed);
  }
  return *value;
}

Decoded<std::uint64_t> unsigned_field(const json& object, std::string_view key,
                                      std::string_view path, bool required, std::uint64_t max,
                                      std::uint64_t fallback = 0) {
  const auto it = object.find(key);
  if (it == object.end()) {
    if (!required) return fallback;
    return fail(path, key, "is required");
  }
  if (it->is_number_unsigned()) {
    const auto value = it->get<std::uint64_t>();
    if (value > max) return fail(path, key, "must be at most " + std::to_string(max));
    return value;
  }
  if (it->is_number_integer()) {
    const auto value = it->get<std::int64_t>();
    if (value < 0) return fail(path, key, "must not be negative");
    if (static_cast<std::uint64_t>(value) > max) {
      return fail(path, key, "must be at most " + std::to_string(max));
    }
    return static_cast<std::uint64_t>(value);
  }
  return fail(path, key, "must be a non-negative integer");
}

Decoded<std::int64_t> signed_field(const json& object, std::string_view key, std::string_view path,
                                   bool required, std::int64_t fallback = 0) {
  const auto it = object.find(key);
  if (it == object.end()) {
    if (!required) return fallback;
    return fail(path, key, "is required");
  }
  if (it->is_number_integer()) return it->get<std::int64_t>();
  return fail(path, key, "must be an integer");
}

Decoded<bool> bool_field(const json& object, std::string_view key, std::string_view path,
                         bool fallback) {
  const auto it = object.find(key);
  if (it == object.end()) return fallback;
  if (!it->is_boolean()) return fail(path, key, "must be true or false");
  return it->get<bool>();
}

Decoded<core::Symbol> symbol_field(const json& object, std::string_view key, std::string_view path,
                                   bool required) {
  const auto it = object.find(key);
  if (it == object.end()) {
    if (!required) return core::Symbol{};
    return fail(path, key, "is required");
  }
  if (!it->is_string()) return fail(path, key, "must be a string like \"BTC-USDT\"");
  // "" is the empty symbol: the kernel refuses it by name, and that refusal must replay.
  if (it->get_ref<const std::string&>().empty()) return core::Symbol{};
  const auto symbol = core::Symbol::parse(it->get<std::string>());
  if (!symbol) {
    return fail(path, key,
                "'" + it->get<std::string>() +
                    "' is not a symbol (upper-case letters, digits and '-', at most 23)");
  }
  return *symbol;
}

Decoded<core::ClientOrderId> order_field(const json& object, std::string_view key,
                                         std::string_view path, const CodecContext& context) {
  const auto it = object.find(key);
  if (it == object.end()) return fail(path, key, "is required");
  if (!it->is_string()) return fail(path, key, "must be a client order id string");
  const auto id = core::parse_client_order_id(context.order_id_prefix, it->get<std::string>());
  if (!id) {
    return fail(path, key,
                "'" + it->get<std::string>() + "' is not a DITA client order id (" +
                    std::string(context.order_id_prefix) + "s<slot>t<trade>l<leg>a<attempt>)");
  }
  return *id;
}

#define DITA_TRY(var, expr)                                        \
  auto var##_result = (expr);                                      \
  if (!var##_result) return std::unexpected(var##_result.error()); \
  auto var = *var##_result

}  // namespace

Decoded<std::int64_t> decimal_field(const json& object, std::string_view key, std::string_view path,
                                    bool required, bool allow_negative) {
  const auto it = object.find(key);
  if (it == object.end()) {
    if (!required) return std::int64_t{0};
    return fail(path, key, "is required");
  }
  std::string text;
  if (it->is_string()) {
    text = it->get<std::string>();
  } else if (it->is_number_integer()) {
    text = it->dump();
  } else if (it->is_number_float()) {
    const double value = it->get<double>();
    if (!std::isfinite(value)) return fail(path, key, "must be a finite number");
    char buffer[64];
    const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
    text.assign(buffer, result.ptr);
  } else {
    return fail(path, key, "must be a decimal string or number");
  }
  const auto units = core::parse_decimal(text);
  if (!units) {
    return fail(
        path, key,
        "'" + text + "' is not a finite decimal (" + str(core::to_string(units.error())) + ")");
  }
  if (!allow_negative && *units < 0) return fail(path, key, "must not be negative");
  return *units;
}

std::string canonical(const json& value) {
  return value.dump();
}

namespace {

template <class Token>
Decoded<Token> token_field(const json& object, std::string_view key, std::string_view path,
                           bool required, std::string_view what) {
  const auto it = object.find(key);
  if (it == object.end()) {
    if (!required) return Token{};
    return fail(path, key, "is required");
  }
  if (!it->is_string()) return fail(path, key, "must be a string");
  const auto token = Token::parse(it->get<std::string>());
  if (!token || (required && token->empty())) {
    return fail(path, key, "'" + it->get<std::string>() + "' is not " + std::string(what));
  }
  return *token;
}

// A slot number or null (every slot / no slot).
Decoded<std::uint32_t> slot_or_all_field(const json& object, std::string_view key,
                                         std::string_view path) {
  const auto it = object.find(key);
  if (it != object.end() && it->is_null()) return core::kNoSlot;
  auto slot = unsigned_field(object, key, path, true, 0xFFFFFFFFU);
  if (!slot) return std::unexpected(slot.error());
  return static_cast<std::uint32_t>(*slot);
}

Decoded<std::int32_t> int32_field(const json& object, std::string_view key, std::string_view path) {
  auto value = signed_field(object, key, path, false);
  if (!value) return std::unexpected(value.error());
  if (*value < std::numeric_limits<std::int32_t>::min() ||
      *value > std::numeric_limits<std::int32_t>::max()) {
    return fail(path, key, "must fit in 32 bits");
  }
  return static_cast<std::int32_t>(*value);
}

constexpr std::uint64_t kAnyU64 = std::numeric_limits<std::uint64_t>::max();

// The decoder takes back every value the encoder can write (every integer of the field's
// type, negative decimals included): the kernel, not the codec, refuses what is out of its
// domain, and that refusal is journaled, so it must replay.
Decoded<core::KernelIntent> decode_intent(const json& body) {
  core::KernelIntent intent;
  DITA_TRY(type, enum_field<core::KernelIntentKind>(body, "type", "intent", std::nullopt));
  intent.kind = type;
  DITA_TRY(id, token_field<core::ClientIntentId>(body, "id", "intent", false,
                                                 "a client intent id (1-40 of A-Za-z0-9._:-)"));
  intent.id = id;
  DITA_TRY(slot, unsigned_field(body, "slot", "intent", true, 0xFFFFFFFFU));
  intent.slot = static_cast<std::uint32_t>(slot);
  const bool enter = intent.kind == core::KernelIntentKind::kEnter;
  DITA_TRY(asset, symbol_field(body, "asset", "intent", enter));
  intent.asset = asset;
  DITA_TRY(side, enum_field<core::Side>(body, "side", "intent",
                                        enter ? std::nullopt : std::optional(core::Side::kLong)));
  intent.side = side;
  DITA_TRY(size, decimal_field(body, "size", "intent", enter, true));
  intent.size = core::Quantity::from_units(size);
  DITA_TRY(price, decimal_field(body, "price", "intent", false, true));
  intent.price = core::Price::from_units(price);
  DITA_TRY(leverage, unsigned_field(body, "leverage", "intent", false, 0xFFFF, 1));
  intent.leverage = static_cast<std::uint16_t>(leverage);
  DITA_TRY(deadline, signed_field(body, "deadline_ns", "intent", false));
  intent.deadline_ns = deadline;
  DITA_TRY(reason,
           token_field<core::ReasonTag>(body, "reason", "intent", false,
                                        "a reason tag (0-31 of A-Za-z0-9._:-/=+ and space)"));
  intent.reason = reason;
  return intent;
}

Decoded<core::VenueEvent> decode_event(const json& body, const CodecContext& context) {
  core::VenueEvent event;
  DITA_TRY(type, enum_field<core::KernelEventKind>(body, "type", "event", std::nullopt));
  event.kind = type;
  if (event.kind == core::KernelEventKind::kMarkPrice) {
    DITA_TRY(symbol, symbol_field(body, "symbol", "event", false));
    event.symbol = symbol;
    DITA_TRY(mark, decimal_field(body, "mark_price", "event", true, true));
    event.mark_price = core::Price::from_units(mark);
    return event;
  }
  DITA_TRY(event_id, unsigned_field(body, "event_id", "event", true, kAnyU64));
  event.event_id = event_id;
  DITA_TRY(slot, unsigned_field(body, "slot", "event", true, 0xFFFFFFFFU));
  event.slot = static_cast<std::uint32_t>(slot);
  DITA_TRY(order, order_field(body, "order", "event", context));
  event.order = order;
  DITA_TRY(venue_order_id, signed_field(body, "venue_order_id", "event", false));
  event.venue_order_id = venue_order_id;
  DITA_TRY(filled, decimal_field(body, "cumulative_filled", "event", false, true));
  event.cumulative_filled = core::Quantity::from_units(filled);
  DITA_TRY(average, decimal_field(body, "average_price", "event", false, true));
  event.average_price = core::Price::from_units(average);
  DITA_TRY(fee, decimal_field(body, "cumulative_fee", "event", false, true));
  event.cumulative_fee = core::Money::from_units(fee);
  DITA_TRY(status, enum_field<core::OrderStatus>(body, "status", "event", core::OrderStatus::kNew));
  event.status = status;
  DITA_TRY(command, enum_field<core::KernelCommandType>(body, "command", "event",
                                                        core::KernelCommandType::kPlaceOrder));
  event.command = command;
  DITA_TRY(code, int32_field(body, "venue_code", "event"));
  event.venue_code = code;
  DITA_TRY(retry, signed_field(body, "retry_after_ms", "event", false, -1));
  event.retry_after_ms = retry;
  DITA_TRY(scope, enum_field<core::RateLimitScope>(body, "rate_scope", "event",
                                                   core::RateLimitScope::kVenue));
  event.rate_scope = scope;
  DITA_TRY(trade_id, signed_field(body, "trade_id", "event", false));
  event.trade_id = trade_id;
  return event;
}

}  // namespace

Decoded<core::KernelInput> input_from_json(const json& value, const CodecContext& context) {
  if (!value.is_object()) return fail("", "", "a kernel input must be a JSON object");
  core::KernelInput input;
  DITA_TRY(ts, signed_field(value, "ts_ns", "", true));
  input.ts_ns = ts;
  const auto kind_it = value.find("kind");
  if (kind_it == value.end() || !kind_it->is_string()) {
    return fail("", "kind",
                "is required: INTENT, VENUE_EVENT, TICK, SEED_CAPITAL, RECONCILE_BEGIN, "
                "RECONCILE_POSITION, EXTERNAL_FILL, RECONCILE_COMPLETE, FUNDING, VENUE_HEALTH, "
                "OPERATOR or SET_ACTIVE_SLOT_LIMIT");
  }
  const std::string kind = kind_it->get<std::string>();
  if (kind == "INTENT") {
    const auto body_it = value.find("intent");
    if (body_it == value.end() || !body_it->is_object()) return fail("", "intent", "is required");
    DITA_TRY(intent, decode_intent(*body_it));
    input.payload = intent;
  } else if (kind == "VENUE_EVENT") {
    const auto body_it = value.find("event");
    if (body_it == value.end() || !body_it->is_object()) return fail("", "event", "is required");
    DITA_TRY(event, decode_event(*body_it, context));
    input.payload = event;
  } else if (kind == "TICK") {
    input.payload = core::Tick{};
  } else if (kind == "SEED_CAPITAL") {
    DITA_TRY(capital, decimal_field(value, "capital", "", true, true));
    input.payload = core::SeedCapital{core::Money::from_units(capital)};
  } else if (kind == "RECONCILE_BEGIN") {
    core::ReconcileBegin begin;
    DITA_TRY(run_id, unsigned_field(value, "run_id", "", true, kAnyU64));
    begin.run_id = run_id;
    DITA_TRY(slot, slot_or_all_field(value, "slot", ""));
    begin.slot = slot;
    DITA_TRY(reason, enum_field<core::ReconcileReason>(value, "reason", "", std::nullopt));
    begin.reason = reason;
    DITA_TRY(netting, bool_field(value, "netting", "", true));
    begin.netting = netting;
    input.payload = begin;
  } else if (kind == "RECONCILE_POSITION") {
    core::ReconcilePosition position;
    DITA_TRY(run_id, unsigned_field(value, "run_id", "", true, kAnyU64));
    position.run_id = run_id;
    DITA_TRY(symbol, symbol_field(value, "symbol", "", false));
    position.symbol = symbol;
    DITA_TRY(side, enum_field<core::Side>(value, "side", "", std::nullopt));
    position.side = side;
    DITA_TRY(quantity, decimal_field(value, "quantity", "", true, true));
    position.quantity = core::Quantity::from_units(quantity);
    DITA_TRY(price, decimal_field(value, "entry_price", "", true, true));
    position.entry_price = core::Price::from_units(price);
    input.payload = position;
  } else if (kind == "EXTERNAL_FILL") {
    core::ExternalFill fill;
    DITA_TRY(fact_id, unsigned_field(value, "fact_id", "", true, kAnyU64));
    fill.fact_id = fact_id;
    DITA_TRY(fill_kind, enum_field<core::ExternalFillKind>(value, "fill_kind", "", std::nullopt));
    fill.kind = fill_kind;
    DITA_TRY(symbol, symbol_field(value, "symbol", "", false));
    fill.symbol = symbol;
    DITA_TRY(side, enum_field<core::Side>(value, "position_side", "", std::nullopt));
    fill.position_side = side;
    DITA_TRY(quantity, decimal_field(value, "quantity", "", true, true));
    fill.quantity = core::Quantity::from_units(quantity);
    DITA_TRY(price, decimal_field(value, "price", "", true, true));
    fill.price = core::Price::from_units(price);
    DITA_TRY(fee, decimal_field(value, "fee", "", true, true));
    fill.fee = core::Money::from_units(fee);
    DITA_TRY(venue_order_id, signed_field(value, "venue_order_id", "", false));
    fill.venue_order_id = venue_order_id;
    input.payload = fill;
  } else if (kind == "RECONCILE_COMPLETE") {
    core::ReconcileComplete complete;
    DITA_TRY(run_id, unsigned_field(value, "run_id", "", true, kAnyU64));
    complete.run_id = run_id;
    const auto balance = value.find("balance");
    if (balance != value.end() && !balance->is_null()) {
      DITA_TRY(units, decimal_field(value, "balance", "", true, true));
      complete.has_balance = true;
      complete.balance = core::Money::from_units(units);
    }
    input.payload = complete;
  } else if (kind == "FUNDING") {
    core::FundingPayment payment;
    DITA_TRY(funding_id, unsigned_field(value, "funding_id", "", true, kAnyU64));
    payment.funding_id = funding_id;
    DITA_TRY(symbol, symbol_field(value, "symbol", "", false));
    payment.symbol = symbol;
    DITA_TRY(amount, decimal_field(value, "amount", "", true, true));
    payment.amount = core::Money::from_units(amount);
    input.payload = payment;
  } else if (kind == "VENUE_HEALTH") {
    core::VenueHealth health;
    DITA_TRY(banned, bool_field(value, "banned", "", false));
    health.banned = banned;
    DITA_TRY(until, signed_field(value, "until_ns", "", false));
    health.until_ns = until;
    DITA_TRY(code, int32_field(value, "venue_code", ""));
    health.venue_code = code;
    input.payload = health;
  } else if (kind == "OPERATOR") {
    core::OperatorCommand command;
    DITA_TRY(action, enum_field<core::OperatorAction>(value, "action", "", std::nullopt));
    command.action = action;
    DITA_TRY(slot, slot_or_all_field(value, "slot", ""));
    command.slot = slot;
    DITA_TRY(symbol, symbol_field(value, "symbol", "", false));
    command.symbol = symbol;
    DITA_TRY(side, enum_field<core::Side>(value, "side", "", core::Side::kLong));
    command.side = side;
    DITA_TRY(quantity, decimal_field(value, "quantity", "", false, true));
    command.quantity = core::Quantity::from_units(quantity);
    DITA_TRY(price, decimal_field(value, "price", "", false, true));
    command.price = core::Price::from_units(price);
    input.payload = command;
  } else if (kind == "SET_ACTIVE_SLOT_LIMIT") {
    DITA_TRY(limit, unsigned_field(value, "limit", "", true, 0xFFFFFFFFU));
    input.payload = core::SetActiveSlotLimit{static_cast<std::uint32_t>(limit)};
  } else {
    return fail("", "kind", "'" + kind + "' is not a kernel input kind");
  }
  return input;
}

// ---------------------------------------------------------------------------------------
// Streaming canonical writer.
//
// Writes exactly the bytes canonical(to_json(x)) gives, straight into the caller's string:
// the keys of every object are written in the byte-wise order of nlohmann's std::map,
// strings are escaped as dump() does with its defaults, and integers and decimals are
// printed as nlohmann and core::format_decimal print them. Nothing is allocated beyond
// `out` growing. tests/codec/canonical_writer_test.cpp compares both paths on random
// and on real kernel values; keep each key list below sorted when a field is added.

namespace {

// Collects output in a stack buffer and appends it to the string in large pieces, so the
// many small writes (a comma, a key, a number) are plain stores instead of string calls.
class Writer {
 public:
  static constexpr std::size_t kCapacity = 512;

  explicit Writer(std::string& out) : out_(out) {}
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Room for `n` <= kCapacity bytes at the returned cursor; commit with advance().
  char* room(std::size_t n) {
    if (static_cast<std::size_t>(limit() - cursor_) < n) flush();
    return cursor_;
  }
  // One past the last byte the cursor may reach before the next room() call.
  const char* limit() const { return buffer_ + kCapacity; }
  void advance(char* to) { cursor_ = to; }

  void put(char c) {
    char* at = room(1);
    *at = c;
    cursor_ = at + 1;
  }
  // A literal: its size is a constant, so the copy compiles to a few moves.
  template <std::size_t N>
  void put_literal(const char (&text)[N]) {
    char* at = room(N - 1);
    std::memcpy(at, text, N - 1);
    cursor_ = at + (N - 1);
  }

  // Bytes written so far, flushed or not.
  std::size_t position() const { return out_.size() + static_cast<std::size_t>(cursor_ - buffer_); }
  // Moves the buffered bytes to the string (room() does when full; append_with at the end).
  void flush() {
    out_.append(buffer_, static_cast<std::size_t>(cursor_ - buffer_));
    cursor_ = buffer_;
  }
  std::string& flushed() {
    flush();
    return out_;
  }

 private:
  std::string& out_;
  char buffer_[kCapacity];
  char* cursor_ = buffer_;
};

constexpr char kHexDigits[] = "0123456789abcdef";

// Length of the well-formed UTF-8 sequence starting at `p` (lead byte >= 0x80), or 0 when
// it is not one (Unicode Table 3-7: no overlongs, surrogates or code points past U+10FFFF),
// which is the set nlohmann's decoder accepts.
std::size_t utf8_sequence_length(const char* p, const char* end) {
  const auto byte_at = [p](std::size_t i) { return static_cast<unsigned char>(p[i]); };
  const unsigned char lead = byte_at(0);
  std::size_t length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (static_cast<std::size_t>(end - p) < length) return 0;
  if (byte_at(1) < low || byte_at(1) > high) return 0;
  for (std::size_t i = 2; i < length; ++i) {
    if (byte_at(i) < 0x80 || byte_at(i) > 0xBF) return 0;
  }
  return length;
}

// Text that is not well-formed UTF-8 goes through nlohmann itself, so the outcome (today
// json::type_error 316, "invalid UTF-8 byte at index ...") is exactly what
// canonical(to_json(x)) gives for it. Kernel texts are static ASCII; this is never hot.
[[gnu::cold, gnu::noinline]] void put_string_through_nlohmann(Writer& writer, std::size_t start,
                                                              std::string_view text) {
  std::string& out = writer.flushed();
  out.resize(start);
  out += json(std::string(text)).dump();
}

// What put_string does with each byte.
enum class ByteClass : std::uint8_t { kCopy, kEscape, kMultibyte };

constexpr std::array<ByteClass, 256> kByteClasses = [] {
  std::array<ByteClass, 256> classes{};
  for (std::size_t byte = 0; byte < classes.size(); ++byte) {
    if (byte < 0x20 || byte == '"' || byte == '\\') {
      classes[byte] = ByteClass::kEscape;
    } else if (byte >= 0x80) {
      classes[byte] = ByteClass::kMultibyte;
    }
  }
  return classes;
}();

// A JSON string as dump() writes it (ensure_ascii = false): '"', '\\' and the control
// characters are escaped (\b \f \n \r \t, others \u00xx in lower-case hex); every other
// byte, including well-formed multi-byte UTF-8 and 0x7F, is copied. One pass over the
// text, in stretches short enough that even all-escaped bytes fit the writer's room.
void put_string(Writer& writer, std::string_view text) {
  constexpr std::size_t kLongestEscape = 6;  // \u00xx; a UTF-8 sequence (<= 4) is shorter
  const std::size_t start = writer.position();
  writer.put('"');
  const char* p = text.data();
  const char* const end = p + text.size();
  while (p < end) {
    char* at = writer.room(Writer::kCapacity / 2);
    const auto fits = static_cast<std::size_t>(writer.limit() - at) / kLongestEscape;
    const char* const stop = p + std::min(fits, static_cast<std::size_t>(end - p));
    while (p < stop) {
      const auto byte = static_cast<unsigned char>(*p);
      switch (kByteClasses[byte]) {
        case ByteClass::kCopy:
          *at++ = *p++;
          continue;
        case ByteClass::kMultibyte: {
          // May run past `stop` by up to 3 bytes, writing <= 4: within the 6 reserved.
          const std::size_t length = utf8_sequence_length(p, end);
          if (length == 0) {
            writer.advance(at);
            put_string_through_nlohmann(writer, start, text);
            return;
          }
          for (std::size_t i = 0; i < length; ++i) *at++ = *p++;
          continue;
        }
        case ByteClass::kEscape:
          break;
      }
      *at++ = '\\';
      switch (byte) {
        case '"':
          *at++ = '"';
          break;
        case '\\':
          *at++ = '\\';
          break;
        case '\b':
          *at++ = 'b';
          break;
        case '\f':
          *at++ = 'f';
          break;
        case '\n':
          *at++ = 'n';
          break;
        case '\r':
          *at++ = 'r';
          break;
        case '\t':
          *at++ = 't';
          break;
        default:
          *at++ = 'u';
          *at++ = '0';
          *at++ = '0';
          *at++ = kHexDigits[byte >> 4U];
          *at++ = kHexDigits[byte & 0xFU];
          break;
      }
      ++p;
    }
    writer.advance(at);
  }
  writer.put('"');
}

template <class Integer>
void put_integer(Writer& writer, Integer value) {
  constexpr std::size_t kMaxDigits = 24;
  char* at = writer.room(kMaxDigits);
  writer.advance(std::to_chars(at, at + kMaxDigits, value).ptr);
}

// core::format_decimal's text, quoted: to_json stores every decimal as a JSON string.
void put_decimal(Writer& writer, std::int64_t units) {
  constexpr auto kScale = static_cast<std::uint64_t>(core::kFixedScale);
  // '"' '-' 11 whole digits '.' 8 decimals '"' = 23 bytes at most.
  constexpr std::size_t kMaxLength = 32;
  char* const begin = writer.room(kMaxLength);
  char* at = begin;
  *at++ = '"';
  // Unsigned negation, so INT64_MIN formats correctly.
  const std::uint64_t magnitude =
      units < 0 ? 0U - static_cast<std::uint64_t>(units) : static_cast<std::uint64_t>(units);
  if (units < 0) *at++ = '-';
  at = std::to_chars(at, begin + kMaxLength, magnitude / kScale).ptr;
  std::uint64_t fraction = magnitude % kScale;
  if (fraction != 0) {
    *at = '.';
    char* const last = at + core::kDecimalPlaces;
    for (char* digit = last; digit != at; --digit) {
      *digit = static_cast<char>('0' + fraction % 10);
      fraction /= 10;
    }
    at = last;
    while (*at == '0') --at;  // the first decimal digit or a later one is not '0'
    ++at;
  }
  *at++ = '"';
  writer.advance(at);
}

template <class Tag>
void put_decimal(Writer& writer, core::Fixed<Tag> value) {
  put_decimal(writer, value.units());
}

void put_bool(Writer& writer, bool value) {
  if (value) {
    writer.put_literal("true");
  } else {
    writer.put_literal("false");
  }
}

void put_null(Writer& writer) {
  writer.put_literal("null");
}

void put_order_id(Writer& writer, const core::ClientOrderId& id, const CodecContext& context) {
  core::ClientOrderIdText text{};
  const std::size_t length = core::format_client_order_id(context.order_id_prefix, id, text);
  put_string(writer, {text.data(), length});
}

// Writes one object's members; the caller names them in sorted order. Keys are this
// file's fixed ASCII names (literals, so their copies have constant sizes), which need no
// escaping.
class ObjectWriter {
 public:
  explicit ObjectWriter(Writer& writer) : writer_(writer) { writer_.put('{'); }
  ObjectWriter(const ObjectWriter&) = delete;
  ObjectWriter& operator=(const ObjectWriter&) = delete;

  // Writes `"name":` (after a comma if needed) and returns the writer for the value.
  template <std::size_t N>
  Writer& key(const char (&name)[N]) {
    char* at = writer_.room(N + 3);
    if (!first_) *at++ = ',';
    first_ = false;
    *at++ = '"';
    std::memcpy(at, name, N - 1);
    at += N - 1;
    *at++ = '"';
    *at++ = ':';
    writer_.advance(at);
    return writer_;
  }
  template <std::size_t N, class Integer>
  void integer(const char (&name)[N], Integer value) {
    put_integer(key(name), value);
  }
  template <std::size_t N, class Value>
  void decimal(const char (&name)[N], Value value) {
    put_decimal(key(name), value);
  }
  template <std::size_t N>
  void boolean(const char (&name)[N], bool value) {
    put_bool(key(name), value);
  }
  template <std::size_t N>
  void text(const char (&name)[N], std::string_view value) {
    put_string(key(name), value);
  }
  template <std::size_t N, class E>
  void enumerator(const char (&name)[N], E value) {
    put_string(key(name), to_string(value));
  }
  template <std::size_t N>
  void order_id(const char (&name)[N], const core::ClientOrderId& id, const CodecContext& context) {
    put_order_id(key(name), id, context);
  }
  void close() { writer_.put('}'); }

 private:
  Writer& writer_;
  bool first_ = true;
};

void write_intent(Writer& writer, const core::KernelIntent& intent) {
  const bool enter = intent.kind == core::KernelIntentKind::kEnter;
  const bool priced = intent.kind != core::KernelIntentKind::kCancel;
  ObjectWriter object(writer);
  if (enter) object.text("asset", intent.asset.view());
  object.integer("deadline_ns", intent.deadline_ns);
  object.text("id", intent.id.view());
  if (enter) object.integer("leverage", intent.leverage);
  if (priced) object.decimal("price", intent.price);
  object.text("reason", intent.reason.view());
  if (enter) object.enumerator("side", intent.side);
  if (priced) object.decimal("size", intent.size);
  object.integer("slot", intent.slot);
  object.enumerator("type", intent.kind);
  object.close();
}

void write_event(Writer& writer, const core::VenueEvent& event, const CodecContext& context) {
  ObjectWriter object(writer);
  if (event.kind == core::KernelEventKind::kMarkPrice) {
    object.decimal("mark_price", event.mark_price);
    object.text("symbol", event.symbol.view());
    object.enumerator("type", event.kind);
  } else {
    object.decimal("average_price", event.average_price);
    object.enumerator("command", event.command);
    object.decimal("cumulative_fee", event.cumulative_fee);
    object.decimal("cumulative_filled", event.cumulative_filled);
    object.integer("event_id", event.event_id);
    object.order_id("order", event.order, context);
    object.enumerator("rate_scope", event.rate_scope);
    object.integer("retry_after_ms", event.retry_after_ms);
    object.integer("slot", event.slot);
    object.enumerator("status", event.status);
    object.integer("trade_id", event.trade_id);
    object.enumerator("type", event.kind);
    object.integer("venue_code", event.venue_code);
    object.integer("venue_order_id", event.venue_order_id);
  }
  object.close();
}

// kNoSlot (every slot, or none) is written as null.
template <std::size_t N>
void put_slot_or_null(ObjectWriter& object, const char (&name)[N], std::uint32_t slot) {
  if (slot == core::kNoSlot) {
    put_null(object.key(name));
  } else {
    object.integer(name, slot);
  }
}

void write_input(Writer& writer, const core::KernelInput& input, const CodecContext& context) {
  ObjectWriter object(writer);
  struct Visitor {
    ObjectWriter& object;
    const CodecContext& context;
    std::int64_t ts_ns;
    void operator()(const core::KernelIntent& intent) const {
      write_intent(object.key("intent"), intent);
      object.text("kind", "INTENT");
      object.integer("ts_ns", ts_ns);
    }
    void operator()(const core::VenueEvent& event) const {
      write_event(object.key("event"), event, context);
      object.text("kind", "VENUE_EVENT");
      object.integer("ts_ns", ts_ns);
    }
    void operator()(const core::Tick&) const {
      object.text("kind", "TICK");
      object.integer("ts_ns", ts_ns);
    }
    void operator()(const core::SeedCapital& seed) const {
      object.decimal("capital", seed.capital);
      object.text("kind", "SEED_CAPITAL");
      object.integer("ts_ns", ts_ns);
    }
    void operator()(const core::ReconcileBegin& begin) const {
      object.text("kind", "RECONCILE_BEGIN");
      object.boolean("netting", begin.netting);
      object.enumerator("reason", begin.reason);
      object.integer("run_id", begin.run_id);
      put_slot_or_null(object, "slot", begin.slot);
      object.integer("ts_ns", ts_ns);
    }
    void operator()(const core::ReconcilePosition& position) const {
      object.decimal("entry_price", position.entry_price);
      object.text("kind", "RECONCILE_POSITION");
      object.decimal("quantity", position.quantity);
      object.integer("run_id", position.run_id);
      object.enumerator("side", position.side);
      object.text("symbol", position.symbol.view());
      object.integer("ts_ns", ts_ns);
    }
    void operator()(const core::ExternalFill& fill) const {
      object.integer("fact_id", fill.fact_id);
      object.decimal("fee", fill.fee);
      object.enumerator("fill_kind", fill.kind);
      object.text("kind", "EXTERNAL_FILL");
      object.enumerator("position_side", fill.position_side);
      object.decimal("price", fill.price);
      object.decimal("quantity", fill.quantity);
      object.text("symbol", fill.symbol.view());
      object.integer("ts_ns", ts_ns);
      object.integer("venue_order_id", fill.venue_order_id);
    }
    void operator()(const core::ReconcileComplete& complete) const {
      if (complete.has_balance) {
        object.decimal("balance", complete.balance);
      } else {
        put_null(object.key("balance"));
      }
      object.text("kind", "RECONCILE_COMPLETE");
      object.integer("run_id", complete.run_id);
      object.integer("ts_ns", ts_ns);
    }
    void operator()(const core::FundingPayment& payment) const {
      object.decimal("amount", payment.amount);
      object.integer("funding_id", payment.funding_id);
      object.text("kind", "FUNDING");
      object.text("symbol", payment.symbol.view());
      object.integer("ts_ns", ts_ns);
    }
    void operator()(const core::VenueHealth& health) const {
      object.boolean("banned", health.banned);
      object.text("kind", "VENUE_HEALTH");
      object.integer("ts_ns", ts_ns);
      object.integer("until_ns", health.until_ns);
      object.integer("venue_code", health.venue_code);
    }
    void operator()(const core::OperatorCommand& command) const {
      object.enumerator("action", command.action);
      object.text("kind", "OPERATOR");
      object.decimal("price", command.price);
      object.decimal("quantity", command.quantity);
      object.enumerator("side", command.side);
      put_slot_or_null(object, "slot", command.slot);
      object.text("symbol", command.symbol.view());
      object.integer("ts_ns", ts_ns);
    }
    void operator()(const core::SetActiveSlotLimit& change) const {
      object.text("kind", "SET_ACTIVE_SLOT_LIMIT");
      object.integer("limit", change.limit);
      object.integer("ts_ns", ts_ns);
    }
  };
  std::visit(Visitor{object, context, input.ts_ns}, input.payload);
  object.close();
}

void write_transition(Writer& writer, const core::KernelTransition& transition) {
  ObjectWriter object(writer);
  object.enumerator("from", transition.from);
  object.decimal("realized_pnl_after", transition.realized_pnl_after);
  object.decimal("size_after", transition.size_after);
  object.integer("slot", transition.slot);
  object.enumerator("to", transition.to);
  object.integer("trade_id", transition.trade_id);
  object.enumerator("trigger", transition.trigger);
  object.close();
}

void write_detail_value(Writer& writer, const core::DiagnosticDetail& detail) {
  switch (detail.type) {
    case core::DiagnosticDetail::Type::kInt:
      put_integer(writer, detail.value);
      return;
    case core::DiagnosticDetail::Type::kDecimal:
      put_decimal(writer, detail.value);
      return;
    case core::DiagnosticDetail::Type::kBool:
      put_bool(writer, detail.value != 0);
      return;
    case core::DiagnosticDetail::Type::kText:
      put_string(writer, detail.text);
      return;
  }
  put_null(writer);
}

// Details are keyed by arbitrary text, so they are sorted here (at most kMaxDetails, by
// insertion sort, stable). to_json assigns them in order, so of equal keys the last wins.
void write_details(Writer& writer, const core::KernelDiagnostic& diagnostic) {
  constexpr std::size_t kMax = core::KernelDiagnostic::kMaxDetails;
  const auto& details = diagnostic.details;
  const std::size_t count = std::min<std::size_t>(diagnostic.detail_count, kMax);
  std::array<std::size_t, kMax> sorted{};
  for (std::size_t i = 0; i < count; ++i) {
    std::size_t j = i;
    while (j > 0 && details[i].key < details[sorted[j - 1]].key) {
      sorted[j] = sorted[j - 1];
      --j;
    }
    sorted[j] = i;
  }
  writer.put('{');
  bool first = true;
  for (std::size_t n = 0; n < count; ++n) {
    const core::DiagnosticDetail& detail = details[sorted[n]];
    if (n + 1 < count && details[sorted[n + 1]].key == detail.key) continue;
    if (!first) writer.put(',');
    first = false;
    put_string(writer, detail.key);
    writer.put(':');
    write_detail_value(writer, detail);
  }
  writer.put('}');
}

void write_diagnostic(Writer& writer, const core::KernelDiagnostic& diagnostic) {
  ObjectWriter object(writer);
  object.enumerator("code", diagnostic.code);
  write_details(object.key("details"), diagnostic);
  object.text("message", diagnostic.message);
  object.enumerator("severity", diagnostic.severity);
  if (diagnostic.slot == core::kNoSlot) {
    put_null(object.key("slot"));
  } else {
    object.integer("slot", diagnostic.slot);
  }
  object.close();
}

void write_command(Writer& writer, const core::VenueCommand& command, const CodecContext& context) {
  ObjectWriter object(writer);
  object.order_id("client_order_id", command.order, context);
  object.integer("leverage", command.leverage);
  object.enumerator("order_type", command.order_type);
  object.enumerator("position_side", command.position_side);
  object.decimal("price", command.price);
  object.decimal("quantity", command.quantity);
  object.boolean("reduce_only", command.reduce_only);
  object.enumerator("side", command.side);
  object.integer("slot", command.slot);
  object.text("symbol", command.symbol.view());
  object.enumerator("type", command.type);
  object.integer("venue_order_id", command.venue_order_id);
  object.close();
}

void write_account(Writer& writer, const core::AccountSnapshot& account) {
  ObjectWriter object(writer);
  object.decimal("capital", account.capital);
  object.decimal("drawdown", account.drawdown);
  object.decimal("funding_total", account.funding_total);
  object.decimal("max_drawdown", account.max_drawdown);
  object.decimal("peak_capital", account.peak_capital);
  object.decimal("realized_total", account.realized_total);
  object.boolean("seeded", account.seeded);
  object.integer("trade_seq", account.trade_seq);
  object.decimal("unrealized_total", account.unrealized_total);
  object.boolean("venue_banned", account.venue_banned);
  object.integer("venue_banned_until_ns", account.venue_banned_until_ns);
  object.close();
}

void write_fill(Writer& writer, const core::FillFact& fill, const CodecContext& context) {
  ObjectWriter object(writer);
  object.boolean("external", fill.external);
  object.decimal("fee", fill.fee);
  object.decimal("notional", fill.notional);
  object.order_id("order", fill.order, context);
  object.decimal("price", fill.price);
  object.decimal("quantity", fill.quantity);
  object.decimal("realized", fill.realized);
  object.enumerator("role", fill.role);
  object.decimal("size_after", fill.size_after);
  object.integer("slot", fill.slot);
  object.integer("trade_id", fill.trade_id);
  object.integer("venue_order_id", fill.venue_order_id);
  object.integer("venue_trade_id", fill.venue_trade_id);
  object.close();
}

void write_settlement(Writer& writer, const core::SettlementFact& settlement) {
  ObjectWriter object(writer);
  object.decimal("amount", settlement.amount);
  object.decimal("capital_after", settlement.capital_after);
  object.enumerator("kind", settlement.kind);
  put_slot_or_null(object, "slot", settlement.slot);
  object.integer("source_id", settlement.source_id);
  object.integer("trade_id", settlement.trade_id);
  object.integer("trade_seq", settlement.trade_seq);
  object.close();
}

// Writes `[item,item,...]` with `write_item(writer, item)` for each element.
template <class Range, class WriteItem>
void write_array(Writer& writer, const Range& items, WriteItem&& write_item) {
  writer.put('[');
  bool first = true;
  for (const auto& item : items) {
    if (!first) writer.put(',');
    first = false;
    write_item(writer, item);
  }
  writer.put(']');
}

void write_outcome(Writer& writer, const core::KernelOutcome& outcome,
                   const CodecContext& context) {
  ObjectWriter object(writer);
  if (outcome.account_changed) write_account(object.key("account"), outcome.account);
  write_array(object.key("changed_slots"), outcome.changed_slots,
              [](Writer& to, std::uint32_t slot) { put_integer(to, slot); });
  write_array(object.key("commands"), outcome.commands,
              [&context](Writer& to, const core::VenueCommand& command) {
                write_command(to, command, context);
              });
  write_array(object.key("diagnostics"), outcome.diagnostics, write_diagnostic);
  write_array(
      object.key("fills"), outcome.fills,
      [&context](Writer& to, const core::FillFact& fill) { write_fill(to, fill, context); });
  object.integer("input_seq", outcome.input_seq);
  write_array(object.key("settlements"), outcome.settlements, write_settlement);
  write_array(object.key("transitions"), outcome.transitions, write_transition);
  object.close();
}

void write_order(Writer& writer, const core::VenueOrder& order, bool working,
                 const CodecContext& context) {
  ObjectWriter object(writer);
  object.boolean("cancel_requested", order.cancel_requested);
  object.order_id("client_order_id", order.id, context);
  object.boolean("external", order.external);
  object.decimal("fee", order.fee);
  object.decimal("filled", order.filled);
  object.decimal("price", order.limit_price);
  object.decimal("quantity", order.quantity);
  object.enumerator("role", order.role);
  object.enumerator("side", order.side);
  object.enumerator("status", order.status);
  object.enumerator("type", order.type);
  object.integer("venue_order_id", order.venue_order_id);
  object.boolean("working", working);
  object.close();
}

void write_slot(Writer& writer, const core::TradeSlot& slot, const CodecContext& context) {
  ObjectWriter object(writer);
  object.boolean("adopted", slot.adopted);
  object.text("asset", slot.asset.view());
  object.decimal("cost_basis", slot.cost_basis);
  object.decimal("entry_filled", slot.entry_filled);
  object.decimal("entry_price", slot.entry_price);
  object.integer("exit_legs_filled", slot.exit_legs_filled);
  object.decimal("fees_paid", slot.fees_paid);
  object.decimal("funding_pnl", slot.funding_pnl);
  object.integer("last_input_seq", slot.last_input_seq);
  object.integer("leverage", slot.leverage);
  object.decimal("mark_price", slot.mark_price);
  Writer& orders = object.key("orders");
  orders.put('[');
  const std::size_t count = std::min<std::size_t>(slot.order_count, slot.orders.size());
  for (std::size_t i = 0; i < count; ++i) {
    if (i != 0) orders.put(',');
    write_order(orders, slot.orders[i], static_cast<std::int64_t>(i) == slot.working_order,
                context);
  }
  orders.put(']');
  object.decimal("realized_pnl", slot.realized_pnl);
  object.boolean("reconcile_blocked", slot.reconcile_blocked);
  object.integer("reconcile_run", slot.reconcile_run);
  object.integer("reconcile_strikes", slot.reconcile_strikes);
  object.enumerator("side", slot.side);
  object.decimal("size", slot.size);
  object.integer("slot", slot.slot_id);
  object.enumerator("stage", slot.stage);
  if (slot.stage == core::TradeStage::kStaleStateReconciling) {
    object.enumerator("stage_before_reconcile", slot.stage_before_reconcile);
  }
  object.integer("trade_id", slot.trade_id);
  object.decimal("unrealized_pnl", slot.unrealized_pnl);
  object.close();
}

// Runs `write(writer)` and flushes. All or nothing: if writing throws (text that is not
// UTF-8), `out` is left as it was.
template <class Write>
void append_with(std::string& out, Write&& write) {
  const std::size_t start = out.size();
  try {
    Writer writer(out);
    write(writer);
    writer.flush();
  } catch (...) {
    out.resize(start);
    throw;
  }
}

// Typical encoded sizes, so encode_input/encode_outcome allocate once.
constexpr std::size_t kInputReserve = 384;

std::size_t outcome_reserve(const core::KernelOutcome& outcome) {
  return 128 + 192 * outcome.transitions.size() + 320 * outcome.diagnostics.size() +
         352 * outcome.commands.size() + 352 * outcome.fills.size() +
         192 * outcome.settlements.size() + 12 * outcome.changed_slots.size() +
         (outcome.account_changed ? 320 : 0);
}

}  // namespace

void append_canonical(std::string& out, const core::KernelInput& input,
                      const CodecContext& context) {
  append_with(out, [&](Writer& writer) { write_input(writer, input, context); });
}

void append_canonical(std::string& out, const core::KernelOutcome& outcome,
                      const CodecContext& context) {
  append_with(out, [&](Writer& writer) { write_outcome(writer, outcome, context); });
}

void append_canonical(std::string& out, const core::TradeSlot& slot, const CodecContext& context) {
  append_with(out, [&](Writer& writer) { write_slot(writer, slot, context); });
}

void append_canonical(std::string& out, const core::AccountSnapshot& account) {
  append_with(out, [&](Writer& writer) { write_account(writer, account); });
}

void append_canonical(std::string& out, const core::KernelDiagnostic& diagnostic) {
  append_with(out, [&](Writer& writer) { write_diagnostic(writer, diagnostic); });
}

void append_canonical(std::string& out, const core::KernelTransition& transition) {
  append_with(out, [&](Writer& writer) { write_transition(writer, transition); });
}

void append_canonical(std::string& out, const core::VenueCommand& command,
                      const CodecContext& context) {
  append_with(out, [&](Writer& writer) { write_command(writer, command, context); });
}

// The JSON values are the canonical bytes parsed back: there is one encoder.
json to_json(const core::KernelInput& input, const CodecContext& context) {
  return json::parse(encode_input(input, context));
}
json to_json(const core::KernelOutcome& outcome, const CodecContext& context) {
  return json::parse(encode_outcome(outcome, context));
}
json to_json(const core::TradeSlot& slot, const CodecContext& context) {
  std::string text;
  append_canonical(text, slot, context);
  return json::parse(text);
}
json to_json(const core::AccountSnapshot& account) {
  std::string text;
  append_canonical(text, account);
  return json::parse(text);
}
json to_json(const core::KernelDiagnostic& diagnostic) {
  std::string text;
  append_canonical(text, diagnostic);
  return json::parse(text);
}
json to_json(const core::KernelTransition& transition) {
  std::string text;
  append_canonical(text, transition);
  return json::parse(text);
}
json to_json(const core::VenueCommand& command, const CodecContext& context) {
  std::string text;
  append_canonical(text, command, context);
  return json::parse(text);
}

std::string encode_input(const core::KernelInput& input, const CodecContext& context) {
  std::string out;
  out.reserve(kInputReserve);
  append_canonical(out, input, context);
  return out;
}

std::string encode_outcome(const core::KernelOutcome& outcome, const CodecContext& context) {
  std::string out;
  out.reserve(outcome_reserve(outcome));
  append_canonical(out, outcome, context);
  return out;
}

Decoded<core::KernelInput> decode_input(std::string_view text, const CodecContext& context) {
  json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return fail("", "", "not valid JSON");
  return input_from_json(value, context);
}

json config_to_json(const core::KernelConfig& config) {
  json out;
  out["slot_count"] = config.slot_count;
  out["active_slot_limit"] = config.active_slot_limit;
  out["order_id_prefix"] = str(config.order_id_prefix);
  out["ack_timeout_ns"] = config.ack_timeout_ns;
  out["query_interval_ns"] = config.query_interval_ns;
  out["not_found_confirmations"] = config.not_found_confirmations;
  out["not_found_grace_ns"] = config.not_found_grace_ns;
  out["reconcile_strikes"] = config.reconcile_strikes;
  out["intent_memory"] = config.intent_memory;
  json instruments = json::array();
  for (const auto& instrument : config.instruments) {
    json item;
    item["symbol"] = str(instrument.symbol.view());
    item["quantity_step"] = core::to_string(instrument.quantity_step);
    item["price_tick"] = core::to_string(instrument.price_tick);
    item["min_quantity"] = core::to_string(instrument.min_quantity);
    instruments.push_back(std::move(item));
  }
  out["instruments"] = std::move(instruments);
  return out;
}

Decoded<core::KernelConfig> config_from_json(const json& value, std::string& prefix_storage) {
  if (!value.is_object()) return fail("", "config", "must be a JSON object");
  core::KernelConfig config;
  DITA_TRY(slots, unsigned_field(value, "slot_count", "config", true, 0xFFFFFFFFU));
  config.slot_count = static_cast<std::uint32_t>(slots);
  DITA_TRY(limit, unsigned_field(value, "active_slot_limit", "config", true, 0xFFFFFFFFU));
  config.active_slot_limit = static_cast<std::uint32_t>(limit);
  const auto prefix = value.find("order_id_prefix");
  if (prefix == value.end() || !prefix->is_string()) {
    return fail("config", "order_id_prefix", "is required");
  }
  prefix_storage = prefix->get<std::string>();
  config.order_id_prefix = prefix_storage;
  DITA_TRY(ack, signed_field(value, "ack_timeout_ns", "config", true));
  config.ack_timeout_ns = ack;
  DITA_TRY(query, signed_field(value, "query_interval_ns", "config", true));
  config.query_interval_ns = query;
  DITA_TRY(confirmations, unsigned_field(value, "not_found_confirmations", "config", true, 0xFFFF));
  config.not_found_confirmations = static_cast<std::uint16_t>(confirmations);
  DITA_TRY(grace, signed_field(value, "not_found_grace_ns", "config", true));
  config.not_found_grace_ns = grace;
  DITA_TRY(strikes, unsigned_field(value, "reconcile_strikes", "config", true, 0xFF));
  config.reconcile_strikes = static_cast<std::uint8_t>(strikes);
  DITA_TRY(memory, unsigned_field(value, "intent_memory", "config", true, 0xFFFFFFFFU));
  config.intent_memory = static_cast<std::uint32_t>(memory);
  const auto instruments = value.find("instruments");
  if (instruments == value.end() || !instruments->is_array()) {
    return fail("config", "instruments", "must be an array");
  }
  for (const json& item : *instruments) {
    core::Instrument instrument;
    DITA_TRY(symbol, symbol_field(item, "symbol", "config.instruments", true));
    instrument.symbol = symbol;
    DITA_TRY(step, decimal_field(item, "quantity_step", "config.instruments", true, false));
    instrument.quantity_step = core::Quantity::from_units(step);
    DITA_TRY(tick, decimal_field(item, "price_tick", "config.instruments", true, false));
    instrument.price_tick = core::Price::from_units(tick);
    DITA_TRY(minimum, decimal_field(item, "min_quantity", "config.instruments", true, false));
    instrument.min_quantity = core::Quantity::from_units(minimum);
    config.instruments.push_back(instrument);
  }
  return config;
}

#undef DITA_TRY

}  // namespace dita::codec
