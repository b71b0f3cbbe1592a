// Simulated exchange state and matching; see include/dita/sim/exchange.hpp.
#include "dita/sim/exchange.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace dita::sim {

namespace {

constexpr const char* kMsgInvalid = "Invalid parameters, ";

ApiResult invalid_param(const std::string& field, const std::string& why) {
  return ApiResult::error(80014, std::string(kMsgInvalid) + field + ": " + why);
}

std::optional<std::string> param(const ParamMap& params, const std::string& key) {
  const auto it = params.find(key);
  if (it == params.end()) return std::nullopt;
  return it->second;
}

std::optional<std::int64_t> parse_int64(std::string_view s) {
  std::int64_t v = 0;
  if (s.empty()) return std::nullopt;
  const auto* end = s.data() + s.size();
  const auto [ptr, ec] = std::from_chars(s.data(), end, v);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return v;
}

std::string to_lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

Decimal tick_of(int precision) {
  std::int64_t raw = Decimal::kScale;
  for (int i = 0; i < precision; ++i) raw /= 10;
  return Decimal::from_raw(raw);
}

std::string money(Decimal d) {
  return d.to_string(8);
}

std::string position_key(const std::string& api_key, const std::string& symbol,
                         const std::string& side) {
  return api_key + "|" + symbol + "|" + side;
}

bool is_hedge_close(const std::string& side, const std::string& position_side) {
  return (side == "SELL" && position_side == "LONG") || (side == "BUY" && position_side == "SHORT");
}

}  // namespace

const char* rest_status_name(OrderStatus status) {
  switch (status) {
    case OrderStatus::kPending:
      return "PENDING";
    case OrderStatus::kPartiallyFilled:
      return "PARTIALLY_FILLED";
    case OrderStatus::kFilled:
      return "FILLED";
    case OrderStatus::kCancelled:
      return "CANCELLED";
  }
  return "UNKNOWN";
}

const char* ws_status_name(OrderStatus status) {
  switch (status) {
    case OrderStatus::kPending:
      return "NEW";
    case OrderStatus::kPartiallyFilled:
      return "PARTIALLY_FILLED";
    case OrderStatus::kFilled:
      return "FILLED";
    case OrderStatus::kCancelled:
      return "CANCELED";
  }
  return "UNKNOWN";
}

Exchange::Exchange(SimConfig config)
    : config_(std::move(config)),
      rng_state_(config_.seed ^ 0x9E3779B97F4A7C15ULL),
      next_order_id_(config_.order_id_start) {
  for (const auto& spec : config_.accounts) {
    AccountState state;
    state.spec = spec;
    state.wallet = spec.balances;
    for (const auto& c : config_.contracts) {
      if (!state.wallet.contains(c.currency)) state.wallet[c.currency] = Decimal();
    }
    accounts_[spec.api_key] = std::move(state);
  }
  for (const auto& c : config_.contracts) {
    PriceState ps;
    ps.model = config_.prices.at(c.symbol);
    ps.price = ps.model.start.truncated(c.price_precision);
    if (ps.price.raw() <= 0) ps.price = tick_of(c.price_precision);
    prices_[c.symbol] = ps;
  }
}

// splitmix64: fixed, portable arithmetic so a seed means the same walk everywhere
// (std distributions are implementation-defined).
std::uint64_t Exchange::next_random() {
  std::uint64_t z = (rng_state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30U)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27U)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31U);
}

const AccountSpec* Exchange::find_account(const std::string& api_key) const {
  const auto it = accounts_.find(api_key);
  return it == accounts_.end() ? nullptr : &it->second.spec;
}

const ContractSpec* Exchange::find_contract(const std::string& symbol) const {
  for (const auto& c : config_.contracts) {
    if (c.symbol == symbol) return &c;
  }
  return nullptr;
}

Exchange::AccountState& Exchange::account(const std::string& api_key) {
  return accounts_.at(api_key);
}

const Exchange::AccountState& Exchange::account(const std::string& api_key) const {
  return accounts_.at(api_key);
}

std::optional<Decimal> Exchange::price(const std::string& symbol) const {
  const auto it = prices_.find(symbol);
  if (it == prices_.end()) return std::nullopt;
  return it->second.price;
}

// ---------------------------------------------------------------------------- market data

ApiResult Exchange::contracts(const ParamMap& params) const {
  const auto symbol = param(params, "symbol");
  Json list = Json::array();
  for (const auto& c : config_.contracts) {
    if (symbol && *symbol != c.symbol) continue;
    list.push_back(Json{{"contractId", c.contract_id},
                        {"symbol", c.symbol},
                        {"size", "0"},
                        {"quantityPrecision", c.quantity_precision},
                        {"pricePrecision", c.price_precision},
                        {"feeRate", c.taker_fee_rate.to_double()},
                        {"makerFeeRate", c.maker_fee_rate.to_double()},
                        {"takerFeeRate", c.taker_fee_rate.to_double()},
                        {"tradeMinLimit", 0},
                        {"tradeMinQuantity", c.trade_min_quantity.to_double()},
                        {"tradeMinUSDT", c.trade_min_usdt.to_double()},
                        {"maxLongLeverage", c.max_long_leverage},
                        {"maxShortLeverage", c.max_short_leverage},
                        {"currency", c.currency},
                        {"asset", c.asset},
                        {"status", c.status},
                        {"apiStateOpen", c.api_state_open ? "true" : "false"},
                        {"apiStateClose", c.api_state_close ? "true" : "false"},
                        {"ensureTrigger", true},
                        {"triggerFeeRate", c.taker_fee_rate.to_string(8)},
                        {"brokerState", true},
                        {"launchTime", 0},
                        {"maintainTime", 0},
                        {"offTime", 0},
                        {"displayName", c.symbol}});
  }
  if (symbol && list.empty()) return ApiResult::error(109500, "symbol not exist");
  return ApiResult::ok(std::move(list));
}

ApiResult Exchange::ticker_price(const ParamMap& params, std::int64_t now_ms) const {
  const auto symbol = param(params, "symbol");
  Json list = Json::array();
  for (const auto& c : config_.contracts) {
    if (symbol && *symbol != c.symbol) continue;
    list.push_back(Json{{"symbol", c.symbol},
                        {"price", prices_.at(c.symbol).price.to_string(c.price_precision)},
                        {"time", now_ms}});
  }
  if (symbol) {
    if (list.empty()) return ApiResult::error(109500, "symbol not exist");
    return ApiResult::ok(list[0]);
  }
  return ApiResult::ok(std::move(list));
}

// ------------------------------------------------------------------------------ accounting

Position& Exchange::position(const std::string& api_key, const std::string& symbol,
                             const std::string& position_side) {
  auto& pos = positions_[position_key(api_key, symbol, position_side)];
  if (pos.symbol.empty()) {
    pos.api_key = api_key;
    pos.symbol = symbol;
    pos.position_side = position_side;
    pos.position_id = next_position_id_++;
  }
  return pos;
}

int Exchange::leverage_for(const std::string& api_key, const std::string& symbol,
                           const std::string& position_side) const {
  const auto& acc = account(api_key);
  const auto it = acc.leverage.find(symbol);
  if (it == acc.leverage.end()) return acc.spec.default_leverage;
  return position_side == "SHORT" ? it->second.second : it->second.first;
}

Decimal Exchange::unrealized(const std::string& api_key, const std::string& currency) const {
  Decimal total;
  for (const auto& [key, pos] : positions_) {
    if (!key.starts_with(api_key + "|") || pos.amount.is_zero()) continue;
    const auto* c = find_contract(pos.symbol);
    if (c == nullptr || c->currency != currency) continue;
    const Decimal mark = prices_.at(pos.symbol).price;
    const Decimal signed_amount = pos.position_side == "SHORT" ? -pos.amount : pos.amount;
    total += Decimal::mul(mark - pos.avg_price, signed_amount);
  }
  return total;
}

Decimal Exchange::used_margin(const std::string& api_key, const std::string& currency) const {
  Decimal total;
  for (const auto& [key, pos] : positions_) {
    if (!key.starts_with(api_key + "|") || pos.amount.is_zero()) continue;
    const auto* c = find_contract(pos.symbol);
    if (c == nullptr || c->currency != currency) continue;
    const int lev = leverage_for(api_key, pos.symbol, pos.position_side);
    total += Decimal::div(Decimal::mul(pos.amount.abs(), pos.avg_price), Decimal::from_int(lev));
  }
  return total;
}

Decimal Exchange::frozen_margin(const std::string& api_key, const std::string& currency) const {
  Decimal total;
  for (const auto& [id, o] : orders_) {
    if (o.api_key != api_key || !o.is_open() || o.reduce_only) continue;
    if (is_hedge_close(o.side, o.position_side)) continue;
    const auto* c = find_contract(o.symbol);
    if (c == nullptr || c->currency != currency) continue;
    const Decimal px = o.price.is_zero() ? prices_.at(o.symbol).price : o.price;
    total += Decimal::div(Decimal::mul(o.quantity - o.executed, px),
                          Decimal::from_int(std::max(o.leverage, 1)));
  }
  return total;
}

Decimal Exchange::available_margin(const std::string& api_key, const std::string& currency) const {
  const auto& acc = account(api_key);
  const auto it = acc.wallet.find(currency);
  const Decimal wallet = it == acc.wallet.end() ? Decimal() : it->second;
  return wallet + unrealized(api_key, currency) - used_margin(api_key, currency) -
         frozen_margin(api_key, currency);
}

// How much of `candidate` may still close an existing position (hedge closes / reduce-only).
Decimal Exchange::closable(const Order& candidate) const {
  const auto it =
      positions_.find(position_key(candidate.api_key, candidate.symbol, candidate.position_side));
  if (it == positions_.end()) return Decimal();
  const Decimal amount = it->second.amount;
  if (candidate.position_side != "BOTH") return amount;
  // One-way: a BUY reduces a short, a SELL reduces a long.
  if (candidate.side == "BUY" && amount.is_negative()) return amount.abs();
  if (candidate.side == "SELL" && amount.raw() > 0) return amount;
  return Decimal();
}

// ------------------------------------------------------------------------------- trading

std::optional<std::string> Exchange::client_id_param(const ParamMap& params) const {
  if (auto v = param(params, "clientOrderId")) return v;
  if (config_.switches.accept_client_order_id_capital) {
    if (auto v = param(params, "clientOrderID")) return v;
  }
  return std::nullopt;
}

std::vector<Decimal> Exchange::plan_legs(const Order& order) const {
  const auto it = client_fill_plans_.find(order.client_order_id);
  const std::vector<Decimal>& fractions =
      (!order.client_order_id.empty() && it != client_fill_plans_.end()) ? it->second
                                                                         : config_.fill_legs;
  const int qp = find_contract(order.symbol)->quantity_precision;
  std::vector<Decimal> legs;
  Decimal assigned;
  for (std::size_t i = 0; i < fractions.size(); ++i) {
    Decimal leg = i + 1 == fractions.size()
                      ? order.quantity - assigned
                      : Decimal::mul(order.quantity, fractions[i]).truncated(qp);
    if (leg.raw() <= 0) continue;
    assigned += leg;
    legs.push_back(leg);
  }
  if (legs.empty()) legs.push_back(order.quantity);
  return legs;
}

ApiResult Exchange::place_order(const std::string& api_key, const ParamMap& params,
                                std::int64_t now_ms) {
  const auto& sw = config_.switches;
  auto& acc = account(api_key);

  const auto symbol = param(params, "symbol");
  if (!symbol || symbol->empty()) return invalid_param("symbol", "This field is required.");
  const ContractSpec* contract = find_contract(*symbol);
  if (contract == nullptr) return ApiResult::error(109500, "symbol not exist: " + *symbol);
  if (!contract->api_state_open || contract->status != 1) {
    return ApiResult::error(101415, "This trading pair is suspended from opening new position");
  }
  const auto side = param(params, "side");
  if (!side) return invalid_param("side", "This field is required.");
  if (*side != "BUY" && *side != "SELL") return invalid_param("side", "must be BUY or SELL");
  const auto type = param(params, "type");
  if (!type) return invalid_param("type", "This field is required.");
  if (*type != "LIMIT" && *type != "MARKET") {
    return invalid_param("type", "order type " + *type + " is not supported by the simulator");
  }
  // Omitting positionSide means LONG on the real venue; one-way accounts then get 109400.
  const std::string position_side = param(params, "positionSide").value_or("LONG");
  if (position_side != "LONG" && position_side != "SHORT" && position_side != "BOTH") {
    return invalid_param("positionSide", "must be LONG, SHORT or BOTH");
  }
  const bool hedge = acc.spec.dual_side_position;
  if (!hedge && position_side != "BOTH") {
    return ApiResult::error(
        109400, "In the One-way mode, the 'PositionSide' field can only be set to BOTH.");
  }
  if (hedge && position_side == "BOTH") {
    return ApiResult::error(109400,
                            "In the Hedge mode, the 'PositionSide' field can only be set to LONG "
                            "or SHORT.");
  }
  bool reduce_only = false;
  if (const auto ro = param(params, "reduceOnly")) {
    if (*ro != "true" && *ro != "false")
      return invalid_param("reduceOnly", "must be true or false");
    reduce_only = *ro == "true";
    if (hedge && reduce_only) {
      return ApiResult::error(109400,
                              "In the Hedge mode, the 'ReduceOnly' field can not be filled.");
    }
  }
  const std::string tif = param(params, "timeInForce").value_or("GTC");
  if (tif != "GTC" && tif != "IOC" && tif != "FOK" && tif != "PostOnly") {
    return invalid_param("timeInForce", "must be GTC, IOC, FOK or PostOnly");
  }

  const Decimal market = prices_.at(*symbol).price;
  Decimal price;
  if (*type == "LIMIT") {
    const auto p = param(params, "price");
    if (!p) return invalid_param("price", "This field is required.");
    const auto parsed = Decimal::parse(*p);
    if (!parsed || parsed->raw() <= 0) return invalid_param("price", "must be a positive decimal");
    price = parsed->truncated(contract->price_precision);  // §4.1: truncated, not rejected
    if (price.raw() <= 0) {
      return ApiResult::error(101400, "price is smaller than the minimum price step");
    }
  }
  const Decimal ref_price = *type == "LIMIT" ? price : market;

  Decimal quantity;
  if (const auto q = param(params, "quantity")) {
    const auto parsed = Decimal::parse(*q);
    if (!parsed || parsed->raw() <= 0) {
      return invalid_param("quantity", "must be a positive decimal");
    }
    quantity = *parsed;
  } else if (const auto qq = param(params, "quoteOrderQty")) {
    const auto parsed = Decimal::parse(*qq);
    if (!parsed || parsed->raw() <= 0) {
      return invalid_param("quoteOrderQty", "must be a positive decimal");
    }
    quantity = Decimal::div(*parsed, ref_price);
  } else {
    return ApiResult::error(80014, "parameter quantity is must");
  }
  quantity = quantity.truncated(contract->quantity_precision);
  if (quantity.raw() <= 0 || quantity < contract->trade_min_quantity) {
    return ApiResult::error(sw.min_quantity_code,
                            "Order size error: the minimum order quantity is " +
                                contract->trade_min_quantity.to_plain() + " " + contract->asset);
  }
  if (Decimal::mul(quantity, ref_price) < contract->trade_min_usdt) {
    return ApiResult::error(sw.min_notional_code,
                            "the minimum nominal value of the order must be greater than " +
                                contract->trade_min_usdt.to_plain() + "u");
  }

  std::string client_id;
  if (const auto cid = client_id_param(params)) {
    client_id = to_lower(*cid);
    if (client_id.empty() || client_id.size() > 40) {
      return invalid_param("clientOrderId", "length must be between 1 and 40");
    }
    for (char c : client_id) {
      const bool alnum = std::isalnum(static_cast<unsigned char>(c)) != 0;
      const bool allowed = alnum || (!sw.client_order_id_alnum_only && (c == '-' || c == '_'));
      if (!allowed) return invalid_param("clientOrderId", "contains unsupported characters");
    }
    if (acc.client_ids.contains(client_id)) {
      return ApiResult::error(sw.duplicate_client_order_id_code,
                              "clientOrderID cannot be repeated");
    }
  }

  Order order;
  order.api_key = api_key;
  order.client_order_id = client_id;
  order.symbol = *symbol;
  order.side = *side;
  order.position_side = position_side;
  order.type = *type;
  order.time_in_force = *type == "MARKET" ? "GTC" : tif;
  order.quantity = quantity;
  order.price = price;
  order.reduce_only = reduce_only;
  order.leverage =
      leverage_for(api_key, *symbol,
                   position_side == "BOTH" ? (*side == "BUY" ? "LONG" : "SHORT") : position_side);
  order.time_ms = now_ms;
  order.update_time_ms = now_ms;
  if (const auto wt = param(params, "workingType")) order.working_type = *wt;

  const bool closing = reduce_only || (hedge && is_hedge_close(*side, position_side));
  if (closing) {
    const Decimal can_close = closable(order);
    if (can_close.is_zero()) return ApiResult::error(101205, "No position to close");
    if (quantity > can_close) {
      return ApiResult::error(101290, "Reduce Only order quantity exceeds the position");
    }
  } else {
    const Decimal notional = Decimal::mul(quantity, ref_price);
    const Decimal required =
        Decimal::div(notional, Decimal::from_int(std::max(order.leverage, 1))) +
        Decimal::mul(notional, contract->taker_fee_rate);
    if (required > available_margin(api_key, contract->currency)) {
      return ApiResult::error(101204, "Insufficient margin");
    }
  }

  const bool crosses = *type == "MARKET" || (*side == "BUY" && market <= price) ||
                       (*side == "SELL" && market >= price);
  if (*type == "LIMIT" && tif == "PostOnly" && crosses) {
    return ApiResult::error(101215,
                            "The Post Only order will be filled immediately and has been "
                            "cancelled");
  }

  order.id = next_order_id_++;
  order.legs = plan_legs(order);
  if (!client_id.empty()) acc.client_ids.insert(client_id);
  auto& stored = orders_.emplace(order.id, std::move(order)).first->second;
  emit_order_event(stored, "NEW", nullptr, now_ms);

  if (crosses) {
    // Taker legs fill at the current price; MARKET, IOC and FOK take every leg at once.
    const bool all_now = *type == "MARKET" || tif == "IOC" || tif == "FOK";
    execute_legs(stored, market, all_now ? 0 : config_.legs_per_match, false, now_ms);
  } else if (tif == "IOC" || tif == "FOK") {
    cancel_internal(stored, now_ms);
  }

  Json ack{{"orderId", stored.id},
           {"symbol", stored.symbol},
           {"positionSide", stored.position_side},
           {"side", stored.side},
           {"type", stored.type},
           {"price", stored.price.to_double()},
           {"quantity", stored.quantity.to_double()},
           {"stopPrice", 0},
           {"workingType", stored.working_type},
           {"clientOrderID", stored.client_order_id},
           {"timeInForce", stored.time_in_force},
           {"priceRate", 0},
           {"stopLoss", ""},
           {"takeProfit", ""},
           {"reduceOnly", stored.reduce_only}};
  return ApiResult::ok(Json{{"order", std::move(ack)}});
}

void Exchange::execute_legs(Order& order, Decimal px, int max_legs, bool maker,
                            std::int64_t now_ms) {
  int done = 0;
  const bool hedge = account(order.api_key).spec.dual_side_position;
  const bool closing =
      order.reduce_only || (hedge && is_hedge_close(order.side, order.position_side));
  while (order.is_open() && !order.legs.empty() && (max_legs == 0 || done < max_legs)) {
    Decimal leg = order.legs.front();
    order.legs.erase(order.legs.begin());
    if (closing) {
      // The position shrank since placement (another order closed it): fill what is left
      // and cancel the rest rather than opening the other way.
      const Decimal can_close = closable(order);
      if (can_close.is_zero()) {
        cancel_internal(order, now_ms);
        return;
      }
      if (leg > can_close) {
        order.legs.clear();
        leg = can_close;
      }
    }
    apply_fill(order, leg, px, maker, now_ms);
    ++done;
  }
  if (closing && order.is_open() && order.legs.empty()) cancel_internal(order, now_ms);
}

void Exchange::apply_fill(Order& order, Decimal qty, Decimal px, bool maker, std::int64_t now_ms) {
  const ContractSpec& contract = *find_contract(order.symbol);
  auto& acc = account(order.api_key);
  const Decimal notional = Decimal::mul(qty, px);
  const Decimal fee =
      Decimal::mul(notional, maker ? contract.maker_fee_rate : contract.taker_fee_rate);

  Position& pos = position(order.api_key, order.symbol, order.position_side);
  Decimal realised;
  auto increase = [&](Decimal add) {
    const Decimal old_abs = pos.amount.abs();
    const Decimal new_abs = old_abs + add;
    pos.avg_price =
        Decimal::div(Decimal::mul(old_abs, pos.avg_price) + Decimal::mul(add, px), new_abs);
  };
  if (order.position_side == "BOTH") {
    const bool buy = order.side == "BUY";
    const bool same_direction =
        pos.amount.is_zero() || (buy ? pos.amount.raw() > 0 : pos.amount.is_negative());
    if (same_direction) {
      increase(qty);
      pos.amount += buy ? qty : -qty;
    } else {
      const Decimal reduce = std::min(qty, pos.amount.abs());
      const Decimal per_unit = pos.amount.raw() > 0 ? px - pos.avg_price : pos.avg_price - px;
      realised = Decimal::mul(per_unit, reduce);
      pos.amount += buy ? reduce : -reduce;
      const Decimal flip = qty - reduce;
      if (flip.raw() > 0) {
        pos.amount = buy ? flip : -flip;
        pos.avg_price = px;
      } else if (pos.amount.is_zero()) {
        pos.avg_price = Decimal();
      }
    }
  } else {
    const bool opening = !is_hedge_close(order.side, order.position_side);
    if (opening) {
      increase(qty);
      pos.amount += qty;
    } else {
      const Decimal reduce = std::min(qty, pos.amount);
      const Decimal per_unit =
          order.position_side == "LONG" ? px - pos.avg_price : pos.avg_price - px;
      realised = Decimal::mul(per_unit, reduce);
      pos.amount -= reduce;
      if (pos.amount.is_zero()) pos.avg_price = Decimal();
    }
  }
  pos.realised += realised;
  pos.update_time_ms = now_ms;
  const Decimal balance_change = realised - fee;
  acc.wallet[contract.currency] += balance_change;

  order.executed += qty;
  order.cum_quote += notional;
  order.commission -= fee;
  order.profit += realised;
  order.update_time_ms = now_ms;
  order.status =
      order.executed >= order.quantity ? OrderStatus::kFilled : OrderStatus::kPartiallyFilled;
  Fill fill{next_trade_id_++, qty, px, -fee, realised, now_ms, maker};
  order.fills.push_back(fill);
  emit_order_event(order, "TRADE", &order.fills.back(), now_ms);
  emit_account_event(order, balance_change, now_ms);
}

void Exchange::cancel_internal(Order& order, std::int64_t now_ms) {
  order.status = OrderStatus::kCancelled;
  order.legs.clear();
  order.update_time_ms = now_ms;
  emit_order_event(order, "CANCELED", nullptr, now_ms);
}

const Order* Exchange::find_order(const std::string& api_key, const ParamMap& params,
                                  std::string& error_field) const {
  const auto symbol = param(params, "symbol");
  const auto id_text = param(params, "orderId");
  const auto cid = client_id_param(params);
  if ((!id_text || id_text->empty()) && (!cid || cid->empty())) {
    error_field = "Cannot have both orderId and clientOrderID fields empty, one must be filled";
    return nullptr;
  }
  const Order* found = nullptr;
  if (id_text && !id_text->empty()) {
    const auto id = parse_int64(*id_text);
    if (!id) {
      error_field = "orderId: must be an integer";
      return nullptr;
    }
    const auto it = orders_.find(*id);
    if (it != orders_.end()) found = &it->second;
  } else {
    const std::string lowered = to_lower(*cid);
    for (const auto& [id, o] : orders_) {
      if (o.api_key == api_key && o.client_order_id == lowered) {
        found = &o;
        break;
      }
    }
  }
  if (found != nullptr && (found->api_key != api_key || (symbol && *symbol != found->symbol))) {
    found = nullptr;
  }
  return found;
}

Order* Exchange::find_order(const std::string& api_key, const ParamMap& params,
                            std::string& error_field) {
  const auto* self = this;
  return const_cast<Order*>(self->find_order(api_key, params, error_field));
}

ApiResult Exchange::cancel_order(const std::string& api_key, const ParamMap& params,
                                 std::int64_t now_ms) {
  const auto& sw = config_.switches;
  const auto symbol = param(params, "symbol");
  if (!symbol || symbol->empty()) return invalid_param("symbol", "This field is required.");
  std::string error;
  Order* order = find_order(api_key, params, error);
  if (!error.empty()) return ApiResult::error(80014, std::string(kMsgInvalid) + error);
  if (order == nullptr) return ApiResult::error(sw.cancel_unknown_code, "order not exist");
  // The real venue refuses the same order number twice within a second (wall clock).
  if (sw.cancel_repeat_window_ms > 0 && order->last_cancel_ms >= 0 &&
      now_ms - order->last_cancel_ms < sw.cancel_repeat_window_ms) {
    order->last_cancel_ms = now_ms;
    return ApiResult::error(109201,
                            "The same order number is only allowed to be submitted once "
                            "within 1 second.");
  }
  order->last_cancel_ms = now_ms;
  if (order->status == OrderStatus::kFilled) {
    return ApiResult::error(sw.cancel_filled_code, sw.cancel_filled_msg);
  }
  if (order->status == OrderStatus::kCancelled) {
    return ApiResult::error(sw.cancel_cancelled_code, "order not exist");
  }
  cancel_internal(*order, now_ms);
  return ApiResult::ok(Json{{"order", order_json(*order)}});
}

ApiResult Exchange::cancel_all(const std::string& api_key, const ParamMap& params,
                               std::int64_t now_ms) {
  const auto symbol = param(params, "symbol");
  if (symbol && !symbol->empty() && find_contract(*symbol) == nullptr) {
    return ApiResult::error(109500, "symbol not exist: " + *symbol);
  }
  Json success = Json::array();
  for (auto& [id, o] : orders_) {
    if (o.api_key != api_key || !o.is_open()) continue;
    if (symbol && !symbol->empty() && o.symbol != *symbol) continue;
    cancel_internal(o, now_ms);
    success.push_back(order_json(o));
  }
  return ApiResult::ok(Json{{"success", std::move(success)}, {"failed", nullptr}});
}

ApiResult Exchange::query_order(const std::string& api_key, const ParamMap& params) const {
  const auto symbol = param(params, "symbol");
  if (!symbol || symbol->empty()) return invalid_param("symbol", "This field is required.");
  std::string error;
  const Order* order = find_order(api_key, params, error);
  if (!error.empty()) return ApiResult::error(80014, std::string(kMsgInvalid) + error);
  if (order == nullptr) {
    return ApiResult::error(config_.switches.query_unknown_code, "order does not exist");
  }
  return ApiResult::ok(Json{{"order", order_json(*order)}});
}

ApiResult Exchange::open_order(const std::string& api_key, const ParamMap& params) const {
  const auto symbol = param(params, "symbol");
  if (!symbol || symbol->empty()) return invalid_param("symbol", "This field is required.");
  std::string error;
  const Order* order = find_order(api_key, params, error);
  if (!error.empty()) return ApiResult::error(80014, std::string(kMsgInvalid) + error);
  if (order == nullptr || !order->is_open()) {
    return ApiResult::error(config_.switches.query_unknown_code, "order does not exist");
  }
  return ApiResult::ok(Json{{"order", order_json(*order)}});
}

ApiResult Exchange::open_orders(const std::string& api_key, const ParamMap& params) const {
  const auto symbol = param(params, "symbol");
  Json list = Json::array();
  for (const auto& [id, o] : orders_) {
    if (o.api_key != api_key || !o.is_open()) continue;
    if (symbol && !symbol->empty() && o.symbol != *symbol) continue;
    list.push_back(order_json(o));
  }
  return ApiResult::ok(Json{{"orders", std::move(list)}});
}

ApiResult Exchange::all_orders(const std::string& api_key, const ParamMap& params) const {
  const auto symbol = param(params, "symbol");
  std::int64_t limit = 500;
  if (const auto l = param(params, "limit")) {
    const auto parsed = parse_int64(*l);
    if (!parsed || *parsed < 1 || *parsed > 1000) return invalid_param("limit", "must be 1..1000");
    limit = *parsed;
  }
  Json list = Json::array();
  for (const auto& [id, o] : orders_) {
    if (o.api_key != api_key || o.is_open()) continue;
    if (symbol && !symbol->empty() && o.symbol != *symbol) continue;
    list.push_back(order_json(o));
    if (static_cast<std::int64_t>(list.size()) >= limit) break;
  }
  return ApiResult::ok(Json{{"orders", std::move(list)}});
}

// ------------------------------------------------------------------------------- account

ApiResult Exchange::positions(const std::string& api_key, const ParamMap& params) const {
  const auto symbol = param(params, "symbol");
  Json list = Json::array();
  for (const auto& [key, pos] : positions_) {
    if (!key.starts_with(api_key + "|") || pos.amount.is_zero()) continue;  // flat = absent
    if (symbol && !symbol->empty() && pos.symbol != *symbol) continue;
    list.push_back(position_json(pos));
  }
  return ApiResult::ok(std::move(list));
}

Json Exchange::position_json(const Position& pos) const {
  const ContractSpec& c = *find_contract(pos.symbol);
  const std::string& api_key = pos.api_key;
  const int lev = leverage_for(api_key, pos.symbol, pos.position_side);
  const Decimal mark = prices_.at(pos.symbol).price;
  const Decimal signed_amount = pos.position_side == "SHORT" ? -pos.amount : pos.amount;
  const Decimal upnl = Decimal::mul(mark - pos.avg_price, signed_amount);
  const Decimal value = Decimal::mul(pos.amount.abs(), mark);
  const Decimal margin =
      Decimal::div(Decimal::mul(pos.amount.abs(), pos.avg_price), Decimal::from_int(lev));
  const bool long_exposure = signed_amount.raw() > 0;
  // Rough isolated-style liquidation estimate; BingX emits it as a float number.
  const Decimal lev_move = Decimal::div(pos.avg_price, Decimal::from_int(lev));
  const Decimal liq = long_exposure ? pos.avg_price - lev_move : pos.avg_price + lev_move;
  const bool hedge = account(api_key).spec.dual_side_position;
  return Json{{"symbol", pos.symbol},
              {"positionId", std::to_string(pos.position_id)},
              {"positionSide", pos.position_side},
              {"isolated", false},
              {"positionAmt", pos.amount.to_string(c.quantity_precision)},
              {"availableAmt", pos.amount.to_string(c.quantity_precision)},
              {"unrealizedProfit", money(upnl)},
              {"realisedProfit", money(pos.realised)},
              {"initialMargin", money(margin)},
              {"margin", money(margin)},
              {"avgPrice", pos.avg_price.to_string(c.price_precision)},
              {"markPrice", mark.to_string(c.price_precision)},
              {"liquidationPrice", liq.to_double()},
              {"leverage", lev},
              {"positionValue", money(value)},
              {"riskRate", "0.0000"},
              {"maxMarginReduction", "0.0"},
              {"pnlRatio",
               margin.is_zero() ? std::string("0.0000") : Decimal::div(upnl, margin).to_string(4)},
              {"currency", c.currency},
              {"onlyOnePosition", !hedge},
              {"updateTime", pos.update_time_ms}};
}

ApiResult Exchange::balance_v3(const std::string& api_key) const {
  const auto& acc = account(api_key);
  Json list = Json::array();
  // USDT first, as the venue lists it; then the other settle assets.
  std::vector<std::pair<std::string, Decimal>> rows(acc.wallet.begin(), acc.wallet.end());
  std::stable_partition(rows.begin(), rows.end(), [](const auto& r) { return r.first == "USDT"; });
  for (const auto& [asset, wallet] : rows) {
    Decimal realised;
    for (const auto& [key, pos] : positions_) {
      if (key.starts_with(api_key + "|") && find_contract(pos.symbol)->currency == asset) {
        realised += pos.realised;
      }
    }
    const Decimal upnl = unrealized(api_key, asset);
    list.push_back(Json{{"userId", std::to_string(acc.spec.user_id)},
                        {"asset", asset},
                        {"balance", money(wallet)},
                        {"equity", money(wallet + upnl)},
                        {"unrealizedProfit", money(upnl)},
                        {"realisedProfit", money(realised)},
                        {"availableMargin", money(available_margin(api_key, asset))},
                        {"usedMargin", money(used_margin(api_key, asset))},
                        {"freezedMargin", money(frozen_margin(api_key, asset))},
                        {"shortUid", std::to_string(acc.spec.user_id)}});
  }
  return ApiResult::ok(std::move(list));
}

ApiResult Exchange::commission_rate(const std::string& /*api_key*/) const {
  const ContractSpec& c = config_.contracts.front();
  return ApiResult::ok(
      Json{{"commission", Json{{"takerCommissionRate", c.taker_fee_rate.to_double()},
                               {"makerCommissionRate", c.maker_fee_rate.to_double()}}}});
}

ApiResult Exchange::get_leverage(const std::string& api_key, const ParamMap& params) const {
  const auto symbol = param(params, "symbol");
  if (!symbol || symbol->empty()) return invalid_param("symbol", "This field is required.");
  const ContractSpec* c = find_contract(*symbol);
  if (c == nullptr) return ApiResult::error(109500, "symbol not exist: " + *symbol);
  const int long_lev = leverage_for(api_key, *symbol, "LONG");
  const int short_lev = leverage_for(api_key, *symbol, "SHORT");
  const Decimal avail = available_margin(api_key, c->currency);
  const Decimal px = prices_.at(*symbol).price;
  auto vol = [&](int lev) {
    return Decimal::div(Decimal::mul_int(avail, lev), px).to_string(c->quantity_precision);
  };
  return ApiResult::ok(Json{{"longLeverage", long_lev},
                            {"shortLeverage", short_lev},
                            {"maxLongLeverage", c->max_long_leverage},
                            {"maxShortLeverage", c->max_short_leverage},
                            {"availableLongVol", vol(long_lev)},
                            {"availableShortVol", vol(short_lev)},
                            {"availableLongVal", money(Decimal::mul_int(avail, long_lev))},
                            {"availableShortVal", money(Decimal::mul_int(avail, short_lev))},
                            {"maxPositionLongVal", "10000000"},
                            {"maxPositionShortVal", "10000000"}});
}

ApiResult Exchange::set_leverage(const std::string& api_key, const ParamMap& params,
                                 std::int64_t now_ms) {
  const auto symbol = param(params, "symbol");
  if (!symbol || symbol->empty()) return invalid_param("symbol", "This field is required.");
  const ContractSpec* c = find_contract(*symbol);
  if (c == nullptr) return ApiResult::error(109500, "symbol not exist: " + *symbol);
  const auto side = param(params, "side");
  if (!side) return invalid_param("side", "This field is required.");
  auto& acc = account(api_key);
  const bool hedge = acc.spec.dual_side_position;
  if (*side != "LONG" && *side != "SHORT" && *side != "BOTH") {
    return invalid_param("side", "must be LONG, SHORT or BOTH");
  }
  if (!hedge && *side != "BOTH") {
    return ApiResult::error(
        109400, "In the One-way mode, the 'PositionSide' field can only be set to BOTH.");
  }
  if (hedge && *side == "BOTH") {
    return ApiResult::error(109400,
                            "In the Hedge mode, the 'PositionSide' field can only be set to LONG "
                            "or SHORT.");
  }
  const auto lev_text = param(params, "leverage");
  if (!lev_text) return invalid_param("leverage", "This field is required.");
  const auto lev = parse_int64(*lev_text);
  if (!lev || *lev < 1) return invalid_param("leverage", "must be a positive integer");
  const int max = *side == "SHORT" ? c->max_short_leverage : c->max_long_leverage;
  if (*lev > max) {
    return ApiResult::error(101414, "leverage exceeds the maximum of " + std::to_string(max));
  }
  auto [it, inserted] = acc.leverage.try_emplace(
      *symbol, std::pair{acc.spec.default_leverage, acc.spec.default_leverage});
  const int value = static_cast<int>(*lev);
  if (*side == "LONG" || *side == "BOTH") it->second.first = value;
  if (*side == "SHORT" || *side == "BOTH") it->second.second = value;
  events_.push_back(UserEvent{api_key, Json{{"e", "ACCOUNT_CONFIG_UPDATE"},
                                            {"E", now_ms},
                                            {"ac", Json{{"s", *symbol},
                                                        {"l", it->second.first},
                                                        {"S", it->second.second},
                                                        {"mt", "cross"}}}}});
  const Decimal avail = available_margin(api_key, c->currency);
  return ApiResult::ok(
      Json{{"leverage", value},
           {"symbol", *symbol},
           {"availableLongVol",
            Decimal::div(Decimal::mul_int(avail, it->second.first), prices_.at(*symbol).price)
                .to_string(c->quantity_precision)},
           {"availableShortVol",
            Decimal::div(Decimal::mul_int(avail, it->second.second), prices_.at(*symbol).price)
                .to_string(c->quantity_precision)},
           {"maxPositionLongVal", "10000000"},
           {"maxPositionShortVal", "10000000"}});
}

ApiResult Exchange::get_position_mode(const std::string& api_key) const {
  return ApiResult::ok(
      Json{{"dualSidePosition", account(api_key).spec.dual_side_position ? "true" : "false"}});
}

ApiResult Exchange::set_position_mode(const std::string& api_key, const ParamMap& params) {
  const auto v = param(params, "dualSidePosition");
  if (!v || (*v != "true" && *v != "false")) {
    return invalid_param("dualSidePosition", "must be \"true\" or \"false\"");
  }
  for (const auto& [key, pos] : positions_) {
    if (key.starts_with(api_key + "|") && !pos.amount.is_zero()) {
      return ApiResult::error(109401, "the account has positions or pending orders");
    }
  }
  for (const auto& [id, o] : orders_) {
    if (o.api_key == api_key && o.is_open()) {
      return ApiResult::error(109401, "the account has positions or pending orders");
    }
  }
  account(api_key).spec.dual_side_position = *v == "true";
  return ApiResult::ok(Json{{"dualSidePosition", *v}});
}

// --------------------------------------------------------------------------- listen keys

std::string Exchange::create_listen_key(const std::string& api_key, std::int64_t now_ms) {
  static constexpr std::string_view kHex = "0123456789abcdef";
  std::string key;
  while (key.empty() || listen_keys_.contains(key)) {
    key.clear();
    for (int i = 0; i < 4; ++i) {
      std::uint64_t r = next_random();
      for (int j = 0; j < 16; ++j) {
        key.push_back(kHex[r & 0xFU]);
        r >>= 4U;
      }
    }
  }
  listen_keys_[key] = ListenKey{api_key, now_ms + config_.listen_key_ttl_ms, false};
  return key;
}

bool Exchange::extend_listen_key(const std::string& key, std::int64_t now_ms) {
  const auto it = listen_keys_.find(key);
  if (it == listen_keys_.end() || it->second.forced_expired || it->second.expires_at_ms <= now_ms) {
    return false;
  }
  it->second.expires_at_ms = now_ms + config_.listen_key_ttl_ms;
  return true;
}

bool Exchange::delete_listen_key(const std::string& key) {
  return listen_keys_.erase(key) > 0;
}

bool Exchange::expire_listen_key(const std::string& key) {
  const auto it = listen_keys_.find(key);
  if (it == listen_keys_.end()) return false;
  it->second.forced_expired = true;
  return true;
}

std::optional<std::string> Exchange::listen_key_owner(const std::string& key,
                                                      std::int64_t now_ms) const {
  const auto it = listen_keys_.find(key);
  if (it == listen_keys_.end() || it->second.forced_expired || it->second.expires_at_ms <= now_ms) {
    return std::nullopt;
  }
  return it->second.api_key;
}

bool Exchange::listen_key_known(const std::string& key) const {
  return listen_keys_.contains(key);
}

std::vector<Json> Exchange::account_config_events(const std::string& api_key,
                                                  std::int64_t now_ms) const {
  std::vector<Json> out;
  for (const auto& c : config_.contracts) {
    out.push_back(Json{{"e", "ACCOUNT_CONFIG_UPDATE"},
                       {"E", now_ms},
                       {"ac", Json{{"s", c.symbol},
                                   {"l", leverage_for(api_key, c.symbol, "LONG")},
                                   {"S", leverage_for(api_key, c.symbol, "SHORT")},
                                   {"mt", "cross"}}}});
  }
  return out;
}

// ------------------------------------------------------------------------ price & matching

void Exchange::step_prices(int steps, std::int64_t now_ms) {
  for (int s = 0; s < steps; ++s) {
    for (const auto& c : config_.contracts) {
      auto& ps = prices_.at(c.symbol);
      const Decimal tick = tick_of(c.price_precision);
      if (ps.model.kind == PriceModel::Kind::kScript) {
        if (ps.script_index + 1 < ps.model.script.size()) {
          ++ps.script_index;
        } else if (ps.model.loop) {
          ps.script_index = 0;
        }
        ps.price = ps.model.script[ps.script_index].truncated(c.price_precision);
      } else {
        const auto span = static_cast<std::uint64_t>(ps.model.max_step_ticks) * 2 + 1;
        const auto offset =
            static_cast<std::int64_t>(next_random() % span) - ps.model.max_step_ticks;
        ps.price = ps.price + Decimal::mul_int(tick, offset);
      }
      if (ps.price < tick) ps.price = tick;
      match_symbol(c.symbol, now_ms);
    }
  }
}

bool Exchange::set_price(const std::string& symbol, Decimal px, std::int64_t now_ms) {
  const ContractSpec* c = find_contract(symbol);
  if (c == nullptr || px.raw() <= 0) return false;
  prices_.at(symbol).price = px.truncated(c->price_precision);
  if (prices_.at(symbol).price.is_zero()) prices_.at(symbol).price = tick_of(c->price_precision);
  match_symbol(symbol, now_ms);
  return true;
}

void Exchange::match_symbol(const std::string& symbol, std::int64_t now_ms) {
  const Decimal market = prices_.at(symbol).price;
  for (auto& [id, o] : orders_) {
    if (!o.is_open() || o.symbol != symbol || o.type != "LIMIT") continue;
    const bool crossed =
        (o.side == "BUY" && market <= o.price) || (o.side == "SELL" && market >= o.price);
    // Resting orders fill at their own limit price (maker).
    if (crossed) execute_legs(o, o.price, config_.legs_per_match, true, now_ms);
  }
}

void Exchange::set_default_fill_plan(std::vector<Decimal> legs, int legs_per_match) {
  config_.fill_legs = std::move(legs);
  config_.legs_per_match = legs_per_match;
}

void Exchange::set_client_fill_plan(const std::string& client_order_id, std::vector<Decimal> legs) {
  client_fill_plans_[to_lower(client_order_id)] = std::move(legs);
}

// ---------------------------------------------------------------------------- rendering

Json Exchange::order_json(const Order& o) const {
  const ContractSpec& c = *find_contract(o.symbol);
  const int pp = c.price_precision;
  const int qp = c.quantity_precision;
  const Decimal avg = o.executed.is_zero() ? Decimal() : Decimal::div(o.cum_quote, o.executed);
  const Json empty_trigger{
      {"type", ""}, {"quantity", 0}, {"stopPrice", 0}, {"price", 0}, {"workingType", ""}};
  return Json{{"symbol", o.symbol},
              {"orderId", o.id},
              {"side", o.side},
              {"positionSide", o.position_side},
              {"type", o.type},
              {"origQty", o.quantity.to_string(qp)},
              {"price", o.price.to_string(pp)},
              {"executedQty", o.executed.to_string(qp)},
              {"avgPrice", o.executed.is_zero() ? std::string("0.0") : avg.to_string(pp)},
              {"cumQuote", o.cum_quote.is_zero() ? std::string("") : o.cum_quote.to_plain()},
              {"stopPrice", ""},
              {"profit", o.profit.to_string(4)},
              {"commission", o.commission.to_string(8)},
              {"status", rest_status_name(o.status)},
              {"time", o.time_ms},
              {"updateTime", o.update_time_ms},
              {"clientOrderId", o.client_order_id},
              {"leverage", std::to_string(o.leverage) + "X"},
              {"takeProfit", empty_trigger},
              {"stopLoss", empty_trigger},
              {"advanceAttr", 0},
              {"positionID", 0},
              {"takeProfitEntrustPrice", 0},
              {"stopLossEntrustPrice", 0},
              {"orderType", ""},
              {"workingType", o.working_type},
              {"stopGuaranteed", false},
              {"reduceOnly", o.reduce_only},
              {"timeInForce", o.time_in_force},
              {"postOnly", o.time_in_force == "PostOnly"}};
}

void Exchange::emit_order_event(const Order& o, const std::string& execution_type, const Fill* fill,
                                std::int64_t now_ms) {
  const ContractSpec& c = *find_contract(o.symbol);
  const Decimal avg = o.executed.is_zero() ? Decimal() : Decimal::div(o.cum_quote, o.executed);
  Json body{{"s", o.symbol},
            {"c", config_.switches.ws_blank_client_order_id ? std::string() : o.client_order_id},
            {"i", o.id},
            {"S", o.side},
            {"o", o.type},
            {"q", o.quantity.to_string(8)},
            {"p", o.price.to_string(8)},
            {"sp", "0.00000000"},
            {"ap", avg.to_string(8)},
            {"x", execution_type},
            {"X", ws_status_name(o.status)},
            {"N", c.currency},
            {"n", money(fill != nullptr ? fill->commission : Decimal())},
            {"T", fill != nullptr ? fill->time_ms : 0},
            {"wt", o.working_type},
            {"ps", o.position_side},
            {"rp", money(fill != nullptr ? fill->realised_pnl : Decimal())},
            {"z", o.executed.to_string(8)}};
  if (config_.switches.ws_include_last_fill) {
    body["l"] = money(fill != nullptr ? fill->quantity : Decimal());
    body["L"] = money(fill != nullptr ? fill->price : Decimal());
  }
  events_.push_back(UserEvent{
      o.api_key, Json{{"e", "ORDER_TRADE_UPDATE"}, {"E", now_ms}, {"o", std::move(body)}}});
}

void Exchange::emit_account_event(const Order& o, Decimal balance_change, std::int64_t now_ms) {
  const ContractSpec& c = *find_contract(o.symbol);
  const auto& acc = account(o.api_key);
  const Decimal wallet = acc.wallet.at(c.currency);
  const auto& pos = positions_.at(position_key(o.api_key, o.symbol, o.position_side));
  const Decimal mark = prices_.at(o.symbol).price;
  const Decimal signed_amount = pos.position_side == "SHORT" ? -pos.amount : pos.amount;
  Json balance{{"a", c.currency},
               {"wb", money(wallet)},
               {"cw", money(wallet)},
               {"bc", money(balance_change)}};
  Json position_entry{{"s", pos.symbol},
                      {"pa", money(pos.amount)},
                      {"ep", money(pos.avg_price)},
                      {"up", money(Decimal::mul(mark - pos.avg_price, signed_amount))},
                      {"mt", "cross"},
                      {"iw", money(Decimal())},
                      {"ps", pos.position_side},
                      {"cr", money(pos.realised)}};
  events_.push_back(
      UserEvent{o.api_key, Json{{"e", "ACCOUNT_UPDATE"},
                                {"E", now_ms},
                                {"T", now_ms},
                                {"a", Json{{"m", "ORDER"},
                                           {"B", Json::array({std::move(balance)})},
                                           {"P", Json::array({std::move(position_entry)})}}}}});
}

std::vector<UserEvent> Exchange::take_events() {
  std::vector<UserEvent> out;
  out.swap(events_);
  return out;
}

Json Exchange::admin_orders() const {
  Json list = Json::array();
  for (const auto& [id, o] : orders_) {
    Json j = order_json(o);
    j["apiKey"] = o.api_key;
    Json fills = Json::array();
    for (const auto& f : o.fills) {
      fills.push_back(Json{{"tradeId", f.trade_id},
                           {"qty", f.quantity.to_plain()},
                           {"price", f.price.to_plain()},
                           {"commission", f.commission.to_plain()},
                           {"realisedPnl", f.realised_pnl.to_plain()},
                           {"time", f.time_ms},
                           {"role", f.maker ? "maker" : "taker"}});
    }
    j["fills"] = std::move(fills);
    Json legs = Json::array();
    for (const auto& l : o.legs) legs.push_back(l.to_plain());
    j["remainingLegs"] = std::move(legs);
    list.push_back(std::move(j));
  }
  return list;
}

Json Exchange::admin_state() const {
  Json prices = Json::object();
  for (const auto& c : config_.contracts) {
    prices[c.symbol] = prices_.at(c.symbol).price.to_string(c.price_precision);
  }
  Json accounts = Json::array();
  for (const auto& [key, acc] : accounts_) {
    Json wallet = Json::object();
    for (const auto& [asset, amount] : acc.wallet) wallet[asset] = amount.to_plain();
    Json positions = Json::array();
    for (const auto& [pkey, pos] : positions_) {
      if (pkey.starts_with(key + "|") && !pos.amount.is_zero())
        positions.push_back(position_json(pos));
    }
    accounts.push_back(Json{{"apiKey", key},
                            {"dualSidePosition", acc.spec.dual_side_position},
                            {"wallet", std::move(wallet)},
                            {"positions", std::move(positions)}});
  }
  return Json{{"prices", std::move(prices)}, {"accounts", std::move(accounts)}};
}

}  // namespace dita::sim
