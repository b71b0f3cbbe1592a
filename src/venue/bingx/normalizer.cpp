// BingX payload normalizer; see include/dita/venue/bingx/normalizer.hpp.
#include "dita/venue/bingx/normalizer.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>

namespace dita::venue::bingx {
namespace {

using nlohmann::json;

ParseError error_at(std::string_view path, std::string_view key, std::string message) {
  std::string field(path);
  if (!key.empty()) {
    if (!field.empty()) field.push_back('.');
    field += key;
  }
  return ParseError{std::move(field), std::move(message)};
}

const json* member(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(std::string(key));
  return it == object.end() ? nullptr : &*it;
}

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lowered(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}

// Case-insensitive lookup: BingX spells clientOrderId three ways (§10.1).
const json* member_ci(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  if (const json* exact = member(object, key)) return exact;
  const std::string wanted = lowered(key);
  for (const auto& [name, value] : object.items()) {
    if (lowered(name) == wanted) return &value;
  }
  return nullptr;
}

Parsed<std::optional<std::int64_t>> decimal_from_text(std::string_view text, std::string_view path,
                                                      std::string_view key) {
  if (text.empty()) return std::optional<std::int64_t>{};
  const auto units = core::parse_decimal(text);
  if (!units) {
    return std::unexpected(
        error_at(path, key, "not a decimal: " + std::string(core::to_string(units.error()))));
  }
  return std::optional<std::int64_t>{*units};
}

Parsed<std::optional<std::int64_t>> decimal_value(const json& value, std::string_view path,
                                                  std::string_view key) {
  if (value.is_null()) return std::optional<std::int64_t>{};
  if (value.is_string()) return decimal_from_text(value.get_ref<const std::string&>(), path, key);
  if (value.is_number_integer() || value.is_number_unsigned()) {
    // Integers convert exactly; the range check keeps x 10^8 inside int64.
    constexpr std::int64_t kLimit = std::numeric_limits<std::int64_t>::max() / core::kFixedScale;
    if (value.is_number_unsigned()) {
      const auto v = value.get<std::uint64_t>();
      if (v > static_cast<std::uint64_t>(kLimit)) {
        return std::unexpected(error_at(path, key, "number out of range"));
      }
      return std::optional<std::int64_t>{static_cast<std::int64_t>(v) * core::kFixedScale};
    }
    const auto v = value.get<std::int64_t>();
    if (v > kLimit || v < -kLimit)
      return std::unexpected(error_at(path, key, "number out of range"));
    return std::optional<std::int64_t>{v * core::kFixedScale};
  }
  if (value.is_number_float()) {
    // The shortest round-trip text of the double is what the venue wrote (e.g. 0.001).
    const std::string text = value.dump();
    if (text == "null") return std::unexpected(error_at(path, key, "not a finite number"));
    return decimal_from_text(text, path, key);
  }
  return std::unexpected(error_at(path, key, "expected a decimal string or number"));
}

Parsed<std::optional<std::int64_t>> int64_value(const json& value, std::string_view path,
                                                std::string_view key) {
  if (value.is_null()) return std::optional<std::int64_t>{};
  if (value.is_number_integer() && !value.is_number_unsigned()) {
    return std::optional<std::int64_t>{value.get<std::int64_t>()};
  }
  if (value.is_number_unsigned()) {
    const auto v = value.get<std::uint64_t>();
    if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return std::unexpected(error_at(path, key, "integer out of int64 range"));
    }
    return std::optional<std::int64_t>{static_cast<std::int64_t>(v)};
  }
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    if (text.empty()) return std::optional<std::int64_t>{};
    std::int64_t out = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    if (ec != std::errc() || end != text.data() + text.size()) {
      return std::unexpected(error_at(path, key, "not an integer: '" + text.substr(0, 32) + "'"));
    }
    return std::optional<std::int64_t>{out};
  }
  if (value.is_number_float()) {
    return std::unexpected(error_at(path, key, "integer id given as a float (precision lost)"));
  }
  return std::unexpected(error_at(path, key, "expected an integer"));
}

template <class Tag>
core::Fixed<Tag> fixed_or_zero(const std::optional<std::int64_t>& units) {
  return core::Fixed<Tag>::from_units(units.value_or(0));
}

std::string path_index(std::string_view path, std::size_t index) {
  return std::string(path) + "[" + std::to_string(index) + "]";
}

// The parts of an order shared by the REST object and the WS update, read via key names.
struct OrderKeys {
  std::string_view symbol, order_id, client_id, side, position_side, type, status, quantity, price,
      executed, average, fee, time;
};

constexpr OrderKeys kRestKeys{"symbol",   "orderId",    "clientOrderId", "side",  "positionSide",
                              "type",     "status",     "origQty",       "price", "executedQty",
                              "avgPrice", "commission", "updateTime"};
constexpr OrderKeys kStreamKeys{"s", "i", "c", "S", "ps", "o", "X", "q", "p", "z", "ap", "", "T"};

Parsed<OrderFacts> parse_order_with(const json& order, std::string_view path, const OrderKeys& k) {
  if (!order.is_object()) return std::unexpected(error_at(path, "", "expected an object"));
  OrderFacts facts;
  auto symbol = read_string(order, k.symbol, path);
  if (!symbol) return std::unexpected(symbol.error());
  if (!*symbol || (*symbol)->empty()) {
    return std::unexpected(error_at(path, k.symbol, "missing"));
  }
  facts.symbol = **symbol;
  auto id = read_int64(order, k.order_id, path);
  if (!id) return std::unexpected(id.error());
  if (!*id || **id <= 0)
    return std::unexpected(error_at(path, k.order_id, "missing or not positive"));
  facts.order_id = **id;
  if (const json* client = member_ci(order, k.client_id)) {
    if (client->is_string()) {
      facts.client_order_id = lowered(client->get_ref<const std::string&>());
    } else if (!client->is_null()) {
      return std::unexpected(error_at(path, k.client_id, "expected a string"));
    }
  }
  for (auto [key, target] :
       {std::pair{k.side, &facts.side}, std::pair{k.position_side, &facts.position_side},
        std::pair{k.type, &facts.type}}) {
    auto text = read_string(order, key, path);
    if (!text) return std::unexpected(text.error());
    if (*text) *target = **text;
  }
  auto status_text = read_string(order, k.status, path);
  if (!status_text) return std::unexpected(status_text.error());
  if (!*status_text) return std::unexpected(error_at(path, k.status, "missing"));
  const auto status = parse_status(**status_text);
  if (!status) {
    return std::unexpected(
        error_at(path, k.status, "unknown order status '" + (*status_text)->substr(0, 32) + "'"));
  }
  facts.status = *status;
  auto quantity = read_decimal(order, k.quantity, path);
  if (!quantity) return std::unexpected(quantity.error());
  facts.quantity = fixed_or_zero<core::QuantityTag>(*quantity);
  auto price = read_decimal(order, k.price, path);
  if (!price) return std::unexpected(price.error());
  facts.price = fixed_or_zero<core::PriceTag>(*price);
  auto executed = read_decimal(order, k.executed, path);
  if (!executed) return std::unexpected(executed.error());
  facts.cumulative_filled = fixed_or_zero<core::QuantityTag>(*executed);
  if (facts.cumulative_filled.is_negative()) {
    return std::unexpected(error_at(path, k.executed, "negative filled quantity"));
  }
  auto average = read_decimal(order, k.average, path);
  if (!average) return std::unexpected(average.error());
  facts.average_price = fixed_or_zero<core::PriceTag>(*average);
  if (facts.average_price.is_negative()) {
    return std::unexpected(error_at(path, k.average, "negative average price"));
  }
  if (facts.cumulative_filled.is_positive() && !facts.average_price.is_positive()) {
    return std::unexpected(error_at(path, k.average, "a filled order needs an average price"));
  }
  if (!k.fee.empty()) {
    auto fee = read_decimal(order, k.fee, path);
    if (!fee) return std::unexpected(fee.error());
    // BingX reports commission negative when paid; the kernel counts cost as positive.
    if (*fee) facts.cumulative_fee = core::Money::from_units(-**fee);
  }
  auto time = read_int64(order, k.time, path);
  if (!time) return std::unexpected(time.error());
  facts.update_time_ms = time->value_or(0);
  return facts;
}

constexpr std::array<std::int64_t, 7> kBusyCodes = {
    100500, 80012, 101500, 100503, 109500, 110500, kCodeStillProcessing};
constexpr std::array<std::int64_t, 6> kAuthCodes = {100001, 100412, 100413, 100419, 100004, 100421};

}  // namespace

std::optional<VenueStatus> parse_status(std::string_view text) {
  if (text == "NEW" || text == "PENDING" || text == "WORKING" || text == "RUNNING" ||
      text == "TRIGGERED") {
    return VenueStatus::kNew;
  }
  if (text == "PARTIALLY_FILLED") return VenueStatus::kPartiallyFilled;
  if (text == "FILLED") return VenueStatus::kFilled;
  if (text == "CANCELLED" || text == "CANCELED" || text == "EXPIRED") return VenueStatus::kCanceled;
  if (text == "FAILED" || text == "REJECTED") return VenueStatus::kFailed;
  return std::nullopt;
}

std::string_view to_string(VenueStatus status) {
  constexpr std::array<std::string_view, 5> kNames = {"NEW", "PARTIALLY_FILLED", "FILLED",
                                                      "CANCELED", "FAILED"};
  return kNames[static_cast<std::size_t>(status)];
}

core::OrderStatus to_order_status(VenueStatus status) {
  switch (status) {
    case VenueStatus::kNew:
      return core::OrderStatus::kNew;
    case VenueStatus::kPartiallyFilled:
      return core::OrderStatus::kPartiallyFilled;
    case VenueStatus::kFilled:
      return core::OrderStatus::kFilled;
    case VenueStatus::kCanceled:
      return core::OrderStatus::kCanceled;
    case VenueStatus::kFailed:
      return core::OrderStatus::kRejected;
  }
  return core::OrderStatus::kRejected;
}

Parsed<std::optional<std::int64_t>> read_decimal(const json& object, std::string_view key,
                                                 std::string_view path) {
  const json* value = member(object, key);
  if (value == nullptr) return std::optional<std::int64_t>{};
  return decimal_value(*value, path, key);
}

Parsed<std::optional<std::int64_t>> read_int64(const json& object, std::string_view key,
                                               std::string_view path) {
  const json* value = member(object, key);
  if (value == nullptr) return std::optional<std::int64_t>{};
  return int64_value(*value, path, key);
}

Parsed<std::optional<std::string>> read_string(const json& object, std::string_view key,
                                               std::string_view path) {
  const json* value = member(object, key);
  if (value == nullptr || value->is_null()) return std::optional<std::string>{};
  if (!value->is_string()) return std::unexpected(error_at(path, key, "expected a string"));
  return std::optional<std::string>{value->get<std::string>()};
}

Parsed<Envelope> parse_envelope(std::string_view body) {
  json root = json::parse(body.begin(), body.end(), nullptr, false);
  if (root.is_discarded()) return std::unexpected(ParseError{"body", "not JSON"});
  if (!root.is_object()) return std::unexpected(ParseError{"body", "expected a JSON object"});
  auto code = read_int64(root, "code", "");
  if (!code) return std::unexpected(code.error());
  if (!*code) return std::unexpected(ParseError{"code", "missing"});
  Envelope envelope;
  envelope.code = **code;
  if (const json* msg = member(root, "msg"); msg != nullptr && msg->is_string()) {
    envelope.msg = msg->get<std::string>();
  }
  if (const json* data = member(root, "data")) envelope.data = *data;
  return envelope;
}

std::string_view to_string(ResponseClass value) {
  constexpr std::array<std::string_view, 8> kNames = {
      "OK",        "RATE_LIMITED",    "UNKNOWN_OUTCOME",
      "NOT_FOUND", "NOT_CANCELLABLE", "DUPLICATE_CLIENT_ORDER_ID",
      "AUTH",      "REJECTED"};
  return kNames[static_cast<std::size_t>(value)];
}

bool is_busy_code(std::int64_t code) {
  return std::find(kBusyCodes.begin(), kBusyCodes.end(), code) != kBusyCodes.end();
}

ResponseClass classify(long http_status, std::int64_t code) {
  if (http_status == 429 || http_status == 418 || http_status == 403) {
    return ResponseClass::kRateLimited;
  }
  if (http_status == 401) return ResponseClass::kAuth;
  if (http_status == 0 || http_status >= 500) return ResponseClass::kUnknownOutcome;
  if (code == 0) {
    return http_status == 200 ? ResponseClass::kOk : ResponseClass::kRejected;
  }
  if (code == kCodeRateLimited || code == kCodeTooManyInvalid) return ResponseClass::kRateLimited;
  if (is_busy_code(code)) return ResponseClass::kUnknownOutcome;
  if (code == kCodeQueryNotFound || code == kCodeOrderNotExist || code == kCodeOrderNotExistD4) {
    return ResponseClass::kNotFound;
  }
  if (code == kCodeAlreadyFilled || code == kCodeFilledL1 || code == kCodeRepeatWithinSecond) {
    return ResponseClass::kNotCancellable;
  }
  if (code == kCodeDuplicateClientOrderId) return ResponseClass::kDuplicateClientOrderId;
  if (std::find(kAuthCodes.begin(), kAuthCodes.end(), code) != kAuthCodes.end()) {
    return ResponseClass::kAuth;
  }
  return ResponseClass::kRejected;
}

Parsed<OrderFacts> parse_order_object(const json& order, std::string_view path) {
  return parse_order_with(order, path, kRestKeys);
}

Parsed<OrderFacts> parse_order_data(const json& data) {
  const json* order = member(data, "order");
  if (order == nullptr) return std::unexpected(ParseError{"data.order", "missing"});
  return parse_order_object(*order, "data.order");
}

Parsed<std::vector<OrderFacts>> parse_order_list(const json& data) {
  const json* orders = member(data, "orders");
  if (orders == nullptr || orders->is_null()) return std::vector<OrderFacts>{};
  if (!orders->is_array()) return std::unexpected(ParseError{"data.orders", "expected an array"});
  std::vector<OrderFacts> out;
  out.reserve(orders->size());
  for (std::size_t i = 0; i < orders->size(); ++i) {
    auto facts = parse_order_object((*orders)[i], path_index("data.orders", i));
    if (!facts) return std::unexpected(facts.error());
    out.push_back(std::move(*facts));
  }
  return out;
}

Parsed<PlaceAck> parse_place_ack(const json& data) {
  const json* order = member(data, "order");
  if (order == nullptr || !order->is_object()) {
    return std::unexpected(ParseError{"data.order", "missing or not an object"});
  }
  PlaceAck ack;
  auto id = read_int64(*order, "orderId", "data.order");
  if (!id) return std::unexpected(id.error());
  if (!*id || **id <= 0) {
    // D4 mentions a string twin `orderID`; accept it when the number is absent.
    auto twin = read_int64(*order, "orderID", "data.order");
    if (!twin) return std::unexpected(twin.error());
    if (!*twin || **twin <= 0) {
      return std::unexpected(ParseError{"data.order.orderId", "missing or not positive"});
    }
    id = twin;
  }
  ack.order_id = **id;
  if (const json* client = member_ci(*order, "clientOrderId")) {
    if (!client->is_string() && !client->is_null()) {
      return std::unexpected(ParseError{"data.order.clientOrderID", "expected a string"});
    }
    if (client->is_string()) ack.client_order_id = lowered(client->get_ref<const std::string&>());
  }
  auto symbol = read_string(*order, "symbol", "data.order");
  if (!symbol) return std::unexpected(symbol.error());
  ack.symbol = symbol->value_or("");
  auto status = read_string(*order, "status", "data.order");
  if (!status) return std::unexpected(status.error());
  if (*status && !(*status)->empty()) ack.status = parse_status(**status);
  return ack;
}

Parsed<std::vector<core::Instrument>> parse_contracts(const json& data) {
  if (!data.is_array())
    return std::unexpected(ParseError{"data", "expected an array of contracts"});
  std::vector<core::Instrument> out;
  for (std::size_t i = 0; i < data.size(); ++i) {
    const std::string path = path_index("data", i);
    const json& contract = data[i];
    if (!contract.is_object()) return std::unexpected(ParseError{path, "expected an object"});
    auto symbol_text = read_string(contract, "symbol", path);
    if (!symbol_text) return std::unexpected(symbol_text.error());
    if (!*symbol_text) return std::unexpected(error_at(path, "symbol", "missing"));
    const auto symbol = core::Symbol::parse(**symbol_text);
    if (!symbol) continue;  // not a symbol the kernel can name; it cannot trade it anyway
    core::Instrument instrument;
    instrument.symbol = *symbol;
    std::int64_t steps[2] = {0, 0};
    const std::string_view keys[2] = {"quantityPrecision", "pricePrecision"};
    for (int k = 0; k < 2; ++k) {
      auto precision = read_int64(contract, keys[k], path);
      if (!precision) return std::unexpected(precision.error());
      if (!*precision) return std::unexpected(error_at(path, keys[k], "missing"));
      if (**precision < 0 || **precision > core::kDecimalPlaces) {
        return std::unexpected(error_at(path, keys[k], "precision must be 0..8"));
      }
      std::int64_t units = core::kFixedScale;
      for (std::int64_t d = 0; d < **precision; ++d) units /= 10;
      steps[k] = units;
    }
    instrument.quantity_step = core::Quantity::from_units(steps[0]);
    instrument.price_tick = core::Price::from_units(steps[1]);
    auto minimum = read_decimal(contract, "tradeMinQuantity", path);
    if (!minimum) return std::unexpected(minimum.error());
    std::int64_t min_units = minimum->value_or(0);
    if (min_units < 0) return std::unexpected(error_at(path, "tradeMinQuantity", "negative"));
    // A minimum that is not a multiple of the step rounds up: the venue cannot fill less.
    if (min_units % steps[0] != 0) min_units += steps[0] - min_units % steps[0];
    instrument.min_quantity = core::Quantity::from_units(std::max(min_units, steps[0]));
    out.push_back(instrument);
  }
  return out;
}

Parsed<std::vector<PositionFacts>> parse_positions(const json& data) {
  if (data.is_null()) return std::vector<PositionFacts>{};
  if (!data.is_array())
    return std::unexpected(ParseError{"data", "expected an array of positions"});
  std::vector<PositionFacts> out;
  for (std::size_t i = 0; i < data.size(); ++i) {
    const std::string path = path_index("data", i);
    const json& position = data[i];
    if (!position.is_object()) return std::unexpected(ParseError{path, "expected an object"});
    PositionFacts facts;
    auto symbol = read_string(position, "symbol", path);
    if (!symbol) return std::unexpected(symbol.error());
    if (!*symbol) return std::unexpected(error_at(path, "symbol", "missing"));
    facts.symbol = **symbol;
    auto side = read_string(position, "positionSide", path);
    if (!side) return std::unexpected(side.error());
    facts.position_side = side->value_or("");
    auto amount = read_decimal(position, "positionAmt", path);
    if (!amount) return std::unexpected(amount.error());
    facts.amount = fixed_or_zero<core::QuantityTag>(*amount);
    auto price = read_decimal(position, "avgPrice", path);
    if (!price) return std::unexpected(price.error());
    facts.average_price = fixed_or_zero<core::PriceTag>(*price);
    out.push_back(std::move(facts));
  }
  return out;
}

Parsed<bool> parse_dual_side_position(const json& data) {
  const json* value = member(data, "dualSidePosition");
  if (value == nullptr) return std::unexpected(ParseError{"data.dualSidePosition", "missing"});
  if (value->is_boolean()) return value->get<bool>();
  if (value->is_string()) {
    const std::string text = lowered(value->get_ref<const std::string&>());
    if (text == "true") return true;
    if (text == "false") return false;
  }
  return std::unexpected(ParseError{"data.dualSidePosition", "expected \"true\" or \"false\""});
}

Parsed<std::string> parse_listen_key(std::string_view body) {
  json root = json::parse(body.begin(), body.end(), nullptr, false);
  if (root.is_discarded() || !root.is_object()) {
    return std::unexpected(ParseError{"body", "expected a JSON object"});
  }
  const json* holder = &root;
  if (member(root, "listenKey") == nullptr) {
    if (const json* data = member(root, "data"); data != nullptr && data->is_object()) {
      holder = data;
    }
  }
  auto key = read_string(*holder, "listenKey", "");
  if (!key) return std::unexpected(key.error());
  if (!*key || (*key)->empty() || (*key)->size() > 256) {
    return std::unexpected(ParseError{"listenKey", "missing, empty or too long"});
  }
  for (char c : **key) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    c == '-' || c == '_';
    if (!ok) return std::unexpected(ParseError{"listenKey", "unexpected character"});
  }
  return **key;
}

Parsed<std::int64_t> parse_server_time(const json& data) {
  auto time = read_int64(data, "serverTime", "data");
  if (!time) return std::unexpected(time.error());
  if (!*time || **time <= 0) return std::unexpected(ParseError{"data.serverTime", "missing"});
  return **time;
}

Parsed<core::Money> parse_usdt_balance(const json& data) {
  const json* rows = &data;
  json wrapped;
  if (const json* balance = member(data, "balance"); balance != nullptr && balance->is_object()) {
    wrapped = json::array({*balance});  // legacy v2 shape: one object
    rows = &wrapped;
  }
  if (!rows->is_array())
    return std::unexpected(ParseError{"data", "expected an array of balances"});
  for (std::size_t i = 0; i < rows->size(); ++i) {
    const std::string path = path_index("data", i);
    auto asset = read_string((*rows)[i], "asset", path);
    if (!asset) return std::unexpected(asset.error());
    if (asset->value_or("") != "USDT") continue;
    auto balance = read_decimal((*rows)[i], "balance", path);
    if (!balance) return std::unexpected(balance.error());
    if (!*balance) {
      balance = read_decimal((*rows)[i], "equity", path);
      if (!balance) return std::unexpected(balance.error());
    }
    return core::Money::from_units(balance->value_or(0));
  }
  return std::unexpected(ParseError{"data", "no USDT balance row"});
}

std::string_view to_string(StreamKind kind) {
  constexpr std::array<std::string_view, 7> kNames = {"PING",
                                                      "ORDER_TRADE_UPDATE",
                                                      "ACCOUNT_UPDATE",
                                                      "ACCOUNT_CONFIG_UPDATE",
                                                      "listenKeyExpired",
                                                      "SNAPSHOT",
                                                      "OTHER"};
  return kNames[static_cast<std::size_t>(kind)];
}

Parsed<StreamMessage> parse_stream_message(std::string_view text) {
  StreamMessage message;
  if (text == "Ping" || text == "ping") {
    message.kind = StreamKind::kPing;
    return message;
  }
  json root = json::parse(text.begin(), text.end(), nullptr, false);
  if (root.is_discarded()) return std::unexpected(ParseError{"message", "neither Ping nor JSON"});
  if (!root.is_object()) return std::unexpected(ParseError{"message", "expected a JSON object"});
  auto type = read_string(root, "e", "");
  if (!type) return std::unexpected(type.error());
  message.event_type = type->value_or("");
  auto time = read_int64(root, "E", "");
  if (!time) return std::unexpected(time.error());
  message.event_time_ms = time->value_or(0);
  if (message.event_type == "ORDER_TRADE_UPDATE") {
    message.kind = StreamKind::kOrderUpdate;
    const json* order = member(root, "o");
    if (order == nullptr) return std::unexpected(ParseError{"o", "missing"});
    auto facts = parse_order_with(*order, "o", kStreamKeys);
    if (!facts) return std::unexpected(facts.error());
    auto execution = read_string(*order, "x", "o");
    if (!execution) return std::unexpected(execution.error());
    message.execution_type = execution->value_or("");
    auto fee = read_decimal(*order, "n", "o");
    if (!fee) return std::unexpected(fee.error());
    if (*fee) message.last_fee = core::Money::from_units(-**fee);
    message.order = std::move(*facts);
    return message;
  }
  if (message.event_type == "ACCOUNT_UPDATE") {
    message.kind = StreamKind::kAccountUpdate;
  } else if (message.event_type == "ACCOUNT_CONFIG_UPDATE") {
    message.kind = StreamKind::kConfigUpdate;
  } else if (message.event_type == "listenKeyExpired") {
    message.kind = StreamKind::kListenKeyExpired;
    auto key = read_string(root, "listenKey", "");
    if (!key) return std::unexpected(key.error());
    message.listen_key = key->value_or("");
  } else if (message.event_type == "SNAPSHOT") {
    message.kind = StreamKind::kSnapshot;
  }
  return message;
}

}  // namespace dita::venue::bingx
