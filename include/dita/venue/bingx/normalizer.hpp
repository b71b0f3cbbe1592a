// dita/venue/bingx/normalizer.hpp
//
// Owns the translation of BingX payloads (reference bingx-api.md §3–§9) into plain typed
// facts: the {code,msg,data} envelope, order objects (REST) and ORDER_TRADE_UPDATE (WS),
// the place-order ack, contracts, positions, position mode, listen keys, server time, and
// the classification of error codes. Pure functions, no I/O. Every parser accepts both
// spellings BingX uses (numbers as strings or numbers, `clientOrderId`/`clientOrderID`,
// `CANCELLED`/`CANCELED`, `PENDING`/`NEW`) and returns a ParseError naming the field
// instead of throwing, whatever the input.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "dita/core/contracts.hpp"

namespace dita::venue::bingx {

struct ParseError {
  std::string field;    // "data.order.orderId", "o.z", "body"
  std::string message;  // what was wrong with it
  [[nodiscard]] std::string describe() const { return field + ": " + message; }
};

template <class T>
using Parsed = std::expected<T, ParseError>;

// Normalized order status (REST and WS spellings folded together, §6).
enum class VenueStatus : std::uint8_t { kNew, kPartiallyFilled, kFilled, kCanceled, kFailed };
std::optional<VenueStatus> parse_status(std::string_view text);
std::string_view to_string(VenueStatus status);
core::OrderStatus to_order_status(VenueStatus status);

// ---------------------------------------------------------------------------------------
// Scalars (the tolerant readers every object parser uses)

// A decimal given as a JSON string ("0.001"), integer or float; "" and null are absent.
// Floats go through their shortest round-trip text, never through arithmetic on doubles.
Parsed<std::optional<std::int64_t>> read_decimal(const nlohmann::json& object, std::string_view key,
                                                 std::string_view path);
// An int64 id given as a JSON integer or a string of digits; floats are refused because
// ids above 2^53 would already have lost digits.
Parsed<std::optional<std::int64_t>> read_int64(const nlohmann::json& object, std::string_view key,
                                               std::string_view path);
// A string member; numbers are not accepted as strings.
Parsed<std::optional<std::string>> read_string(const nlohmann::json& object, std::string_view key,
                                               std::string_view path);

// ---------------------------------------------------------------------------------------
// Envelope and error classification

struct Envelope {
  std::int64_t code = 0;
  std::string msg;
  nlohmann::json data;  // null when absent
};

// `{"code":0,"msg":"","data":...}`; `code` may be a number or a digit string.
Parsed<Envelope> parse_envelope(std::string_view body);

// BingX codes the adapter treats specially (§7).
inline constexpr std::int64_t kCodeRateLimited = 100410;
inline constexpr std::int64_t kCodeTooManyInvalid = 109429;
inline constexpr std::int64_t kCodeDuplicateClientOrderId = 101481;
inline constexpr std::int64_t kCodeQueryNotFound = 80016;
inline constexpr std::int64_t kCodeAlreadyFilled = 80018;
inline constexpr std::int64_t kCodeOrderNotExist = 109414;
inline constexpr std::int64_t kCodeOrderNotExistD4 = 109421;
inline constexpr std::int64_t kCodeFilledL1 = 109422;
inline constexpr std::int64_t kCodeRepeatWithinSecond = 109201;
inline constexpr std::int64_t kCodeStillProcessing = 80019;

// What an answer means for the request that produced it.
enum class ResponseClass : std::uint8_t {
  kOk,              // code 0
  kRateLimited,     // 100410 / 109429 / HTTP 429 / 418 / 403
  kUnknownOutcome,  // transport failure, HTTP 5xx/504, busy codes, unreadable body
  kNotFound,        // the order does not exist (80016, 109414, 109421)
  kNotCancellable,  // cancel refused because the order is final or gone (80018, 109422, 109201…)
  kDuplicateClientOrderId,  // 101481: an order with this client id already exists
  kAuth,                    // 100001/100412/100413/100419/100004/100421 and HTTP 401
  kRejected,                // any other business code: the venue refused the request
};
std::string_view to_string(ResponseClass value);
ResponseClass classify(long http_status, std::int64_t code);
bool is_busy_code(std::int64_t code);  // 100500, 80012, 101500, 100503, …: outcome unknown

// ---------------------------------------------------------------------------------------
// Orders

struct OrderFacts {
  std::string symbol;           // "BTC-USDT"
  std::int64_t order_id = 0;    // > 0
  std::string client_order_id;  // lower-cased; "" when the venue left it blank
  std::string side;             // BUY / SELL
  std::string position_side;    // LONG / SHORT / BOTH / ""
  std::string type;             // MARKET / LIMIT / ...
  VenueStatus status = VenueStatus::kNew;
  core::Quantity quantity;
  core::Price price;
  core::Quantity cumulative_filled;
  core::Price average_price;
  std::optional<core::Money> cumulative_fee;  // positive = cost (BingX reports it negative)
  std::int64_t update_time_ms = 0;
};

// A REST order object (query, cancel, open orders, history; §5.1).
Parsed<OrderFacts> parse_order_object(const nlohmann::json& order, std::string_view path = "order");
// `data.order` of query/cancel answers.
Parsed<OrderFacts> parse_order_data(const nlohmann::json& data);
// `data.orders[]` of openOrders/allOrders; a bad element is an error naming its index.
Parsed<std::vector<OrderFacts>> parse_order_list(const nlohmann::json& data);

struct PlaceAck {
  std::int64_t order_id = 0;
  std::string client_order_id;  // lower-cased
  std::string symbol;
  std::optional<VenueStatus> status;  // sometimes present for MARKET orders
};
// `data.order` of a place answer: either the docs shape or the echo shape (§4.1).
Parsed<PlaceAck> parse_place_ack(const nlohmann::json& data);

// ---------------------------------------------------------------------------------------
// Account and metadata

// `data[]` of GET quote/contracts: step = 10^-quantityPrecision, tick = 10^-pricePrecision,
// minimum = tradeMinQuantity (rounded up to the step). Precisions beyond 8 are refused.
Parsed<std::vector<core::Instrument>> parse_contracts(const nlohmann::json& data);

struct PositionFacts {
  std::string symbol;
  std::string position_side;  // LONG / SHORT / BOTH
  core::Quantity amount;      // signed as reported (one-way: negative = short)
  core::Price average_price;
};
Parsed<std::vector<PositionFacts>> parse_positions(const nlohmann::json& data);

// `data.dualSidePosition` ("true"/"false" string or bool): true = hedge mode.
Parsed<bool> parse_dual_side_position(const nlohmann::json& data);
// Bare `{"listenKey":"..."}` (no envelope), or the same inside `data`.
Parsed<std::string> parse_listen_key(std::string_view body);
Parsed<std::int64_t> parse_server_time(const nlohmann::json& data);
// USDT row of GET v3 user/balance (`balance`, or `equity` when balance is blank).
Parsed<core::Money> parse_usdt_balance(const nlohmann::json& data);

// ---------------------------------------------------------------------------------------
// User-data stream

enum class StreamKind : std::uint8_t {
  kPing,  // the text "Ping": answer "Pong"
  kOrderUpdate,
  kAccountUpdate,
  kConfigUpdate,
  kListenKeyExpired,
  kSnapshot,
  kOther,  // well-formed, not for us (subscription acks, unknown `e`)
};
std::string_view to_string(StreamKind kind);

struct StreamMessage {
  StreamKind kind = StreamKind::kOther;
  std::string event_type;  // `e`
  std::int64_t event_time_ms = 0;
  std::optional<OrderFacts> order;      // kOrderUpdate
  std::string execution_type;           // `o.x`: NEW / TRADE / CANCELED / CALCULATED / EXPIRED
  std::optional<core::Money> last_fee;  // `o.n` as a cost (positive = paid)
  std::string listen_key;               // kListenKeyExpired
};
// One decompressed stream message.
Parsed<StreamMessage> parse_stream_message(std::string_view text);

}  // namespace dita::venue::bingx
