// JSON config parsing and validation for the simulator; see include/dita/sim/config.hpp.
#include "dita/sim/config.hpp"

#include <cmath>
#include <initializer_list>
#include <set>

namespace dita::sim {

namespace {

using nlohmann::json;
using Error = std::optional<std::string>;

Error unknown_keys(const json& obj, std::string_view where,
                   std::initializer_list<std::string_view> known) {
  for (const auto& [key, value] : obj.items()) {
    bool found = false;
    for (auto k : known) found = found || key == k;
    if (!found) return std::string(where) + ": unknown field '" + key + "'";
  }
  return std::nullopt;
}

Error read_decimal(const json& v, std::string_view field, Decimal& out) {
  std::optional<Decimal> parsed;
  if (v.is_string()) {
    parsed = Decimal::parse(v.get<std::string>());
  } else if (v.is_number_integer()) {
    parsed = Decimal::parse(v.dump());
  } else if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::isfinite(d)) parsed = Decimal::parse(json(d).dump());
  }
  if (!parsed) return std::string(field) + ": expected a decimal (string or number)";
  out = *parsed;
  return std::nullopt;
}

template <typename Int>
Error read_int(const json& v, std::string_view field, Int& out, std::int64_t min,
               std::int64_t max) {
  if (!v.is_number_integer()) return std::string(field) + ": expected an integer";
  const auto value = v.get<std::int64_t>();
  if (value < min || value > max) {
    return std::string(field) + ": out of range [" + std::to_string(min) + ", " +
           std::to_string(max) + "]";
  }
  out = static_cast<Int>(value);
  return std::nullopt;
}

Error read_bool(const json& v, std::string_view field, bool& out) {
  if (!v.is_boolean()) return std::string(field) + ": expected true or false";
  out = v.get<bool>();
  return std::nullopt;
}

Error read_string(const json& v, std::string_view field, std::string& out) {
  if (!v.is_string()) return std::string(field) + ": expected a string";
  out = v.get<std::string>();
  return std::nullopt;
}

constexpr std::int64_t kMaxMs = 24LL * 3600 * 1000;
constexpr std::int64_t kMaxInt = 2'000'000'000;

Error parse_contract(const json& j, ContractSpec& c) {
  if (!j.is_object()) return "contracts[]: expected an object";
  if (auto e = unknown_keys(
          j, "contracts[]",
          {"symbol", "asset", "currency", "contractId", "quantityPrecision", "pricePrecision",
           "tradeMinQuantity", "tradeMinUSDT", "makerFeeRate", "takerFeeRate", "maxLongLeverage",
           "maxShortLeverage", "status", "apiStateOpen", "apiStateClose"})) {
    return e;
  }
  if (!j.contains("symbol")) return "contracts[]: symbol is required";
  Error e;
  for (const auto& [k, v] : j.items()) {
    if (k == "symbol")
      e = read_string(v, "contracts[].symbol", c.symbol);
    else if (k == "asset")
      e = read_string(v, "contracts[].asset", c.asset);
    else if (k == "currency")
      e = read_string(v, "contracts[].currency", c.currency);
    else if (k == "contractId")
      e = read_string(v, "contracts[].contractId", c.contract_id);
    else if (k == "quantityPrecision")
      e = read_int(v, "contracts[].quantityPrecision", c.quantity_precision, 0, 8);
    else if (k == "pricePrecision")
      e = read_int(v, "contracts[].pricePrecision", c.price_precision, 0, 8);
    else if (k == "tradeMinQuantity")
      e = read_decimal(v, "contracts[].tradeMinQuantity", c.trade_min_quantity);
    else if (k == "tradeMinUSDT")
      e = read_decimal(v, "contracts[].tradeMinUSDT", c.trade_min_usdt);
    else if (k == "makerFeeRate")
      e = read_decimal(v, "contracts[].makerFeeRate", c.maker_fee_rate);
    else if (k == "takerFeeRate")
      e = read_decimal(v, "contracts[].takerFeeRate", c.taker_fee_rate);
    else if (k == "maxLongLeverage")
      e = read_int(v, "contracts[].maxLongLeverage", c.max_long_leverage, 1, 1000);
    else if (k == "maxShortLeverage")
      e = read_int(v, "contracts[].maxShortLeverage", c.max_short_leverage, 1, 1000);
    else if (k == "status")
      e = read_int(v, "contracts[].status", c.status, 0, 1000);
    else if (k == "apiStateOpen")
      e = read_bool(v, "contracts[].apiStateOpen", c.api_state_open);
    else if (k == "apiStateClose")
      e = read_bool(v, "contracts[].apiStateClose", c.api_state_close);
    if (e) return e;
  }
  const auto dash = c.symbol.find('-');
  if (dash == std::string::npos || dash == 0) return "contracts[].symbol: expected BASE-QUOTE";
  if (c.asset.empty()) c.asset = c.symbol.substr(0, dash);
  if (c.contract_id.empty()) c.contract_id = c.symbol;
  return std::nullopt;
}

Error parse_price_model(const std::string& symbol, const json& j, PriceModel& m) {
  const std::string where = "prices." + symbol;
  if (!j.is_object()) return where + ": expected an object";
  if (auto e = unknown_keys(j, where, {"mode", "start", "maxStepTicks", "script", "loop"})) {
    return e;
  }
  Error e;
  for (const auto& [k, v] : j.items()) {
    if (k == "mode") {
      std::string mode;
      e = read_string(v, where + ".mode", mode);
      if (!e && mode == "random_walk")
        m.kind = PriceModel::Kind::kRandomWalk;
      else if (!e && mode == "script")
        m.kind = PriceModel::Kind::kScript;
      else if (!e)
        e = where + ".mode: expected random_walk or script";
    } else if (k == "start") {
      e = read_decimal(v, where + ".start", m.start);
    } else if (k == "maxStepTicks") {
      e = read_int(v, where + ".maxStepTicks", m.max_step_ticks, 0, kMaxInt);
    } else if (k == "loop") {
      e = read_bool(v, where + ".loop", m.loop);
    } else if (k == "script") {
      if (!v.is_array() || v.empty()) {
        e = where + ".script: expected a non-empty array";
      } else {
        m.script.clear();
        for (const auto& p : v) {
          Decimal d;
          if ((e = read_decimal(p, where + ".script[]", d))) break;
          if (d.raw() <= 0) {
            e = where + ".script[]: prices must be positive";
            break;
          }
          m.script.push_back(d);
        }
      }
    }
    if (e) return e;
  }
  if (m.kind == PriceModel::Kind::kScript && m.script.empty()) {
    return where + ": script mode needs a script";
  }
  if (m.start.raw() <= 0 && !m.script.empty()) m.start = m.script.front();
  if (m.start.raw() <= 0) return where + ".start: must be positive";
  return std::nullopt;
}

Error parse_account(const json& j, AccountSpec& a) {
  if (!j.is_object()) return "accounts[]: expected an object";
  if (auto e = unknown_keys(
          j, "accounts[]",
          {"apiKey", "secret", "userId", "balances", "dualSidePosition", "defaultLeverage"})) {
    return e;
  }
  Error e;
  for (const auto& [k, v] : j.items()) {
    if (k == "apiKey")
      e = read_string(v, "accounts[].apiKey", a.api_key);
    else if (k == "secret")
      e = read_string(v, "accounts[].secret", a.secret);
    else if (k == "userId")
      e = read_int(v, "accounts[].userId", a.user_id, 0, INT64_MAX);
    else if (k == "dualSidePosition")
      e = read_bool(v, "accounts[].dualSidePosition", a.dual_side_position);
    else if (k == "defaultLeverage")
      e = read_int(v, "accounts[].defaultLeverage", a.default_leverage, 1, 1000);
    else if (k == "balances") {
      if (!v.is_object()) {
        e = "accounts[].balances: expected an object of asset -> amount";
      } else {
        a.balances.clear();
        for (const auto& [asset, amount] : v.items()) {
          Decimal d;
          if ((e = read_decimal(amount, "accounts[].balances." + asset, d))) break;
          a.balances[asset] = d;
        }
      }
    }
    if (e) return e;
  }
  if (a.api_key.empty() || a.secret.empty()) return "accounts[]: apiKey and secret are required";
  return std::nullopt;
}

Error parse_rate_rule(const json& j, std::string_view where, RateRule& r) {
  if (!j.is_object()) return std::string(where) + ": expected {limit, windowMs}";
  if (auto e = unknown_keys(j, where, {"limit", "windowMs"})) return e;
  if (j.contains("limit")) {
    if (auto e = read_int(j["limit"], std::string(where) + ".limit", r.limit, 0, kMaxInt)) {
      return e;
    }
  }
  if (j.contains("windowMs")) {
    if (auto e =
            read_int(j["windowMs"], std::string(where) + ".windowMs", r.window_ms, 1, kMaxMs)) {
      return e;
    }
  }
  return std::nullopt;
}

}  // namespace

SimConfig default_config() {
  SimConfig c;
  ContractSpec btc;
  btc.symbol = "BTC-USDT";
  btc.asset = "BTC";
  btc.contract_id = "100";
  btc.quantity_precision = 4;
  btc.price_precision = 1;
  btc.trade_min_quantity = Decimal::from_raw(10'000);  // 0.0001
  c.contracts.push_back(btc);
  ContractSpec eth;
  eth.symbol = "ETH-USDT";
  eth.asset = "ETH";
  eth.contract_id = "101";
  eth.quantity_precision = 2;
  eth.price_precision = 2;
  eth.trade_min_quantity = Decimal::from_raw(1'000'000);  // 0.01
  c.contracts.push_back(eth);
  PriceModel btc_price;
  btc_price.start = Decimal::from_int(60000);
  btc_price.max_step_ticks = 50;
  c.prices["BTC-USDT"] = btc_price;
  PriceModel eth_price;
  eth_price.start = Decimal::from_int(3000);
  eth_price.max_step_ticks = 50;
  c.prices["ETH-USDT"] = eth_price;
  AccountSpec account;
  account.api_key = "sim-key";
  account.secret = "sim-secret-0123456789abcdef";
  account.user_id = 1000001;
  account.balances["USDT"] = Decimal::from_int(10000);
  account.balances["USDC"] = Decimal::from_int(0);
  c.accounts.push_back(account);
  return c;
}

Error parse_fill_legs(const json& list, std::vector<Decimal>& out) {
  if (!list.is_array() || list.empty()) return "legs: expected a non-empty array of fractions";
  std::vector<Decimal> legs;
  Decimal sum;
  for (const auto& v : list) {
    Decimal d;
    if (auto e = read_decimal(v, "legs[]", d)) return e;
    if (d.raw() <= 0) return "legs[]: fractions must be positive";
    legs.push_back(d);
    sum += d;
  }
  if (sum != Decimal::from_int(1)) return "legs: fractions must sum to 1";
  out = std::move(legs);
  return std::nullopt;
}

Error parse_fault_rules(const json& list, std::vector<FaultRule>& out) {
  if (!list.is_array()) return "faults: expected an array";
  std::vector<FaultRule> rules;
  for (const auto& j : list) {
    if (!j.is_object()) return "faults[]: expected an object";
    if (auto e = unknown_keys(j, "faults[]",
                              {"match", "action", "phase", "latencyMs", "status", "body", "holdMs",
                               "count", "probability"})) {
      return e;
    }
    FaultRule r;
    Error e;
    for (const auto& [k, v] : j.items()) {
      if (k == "match") {
        e = read_string(v, "faults[].match", r.match);
      } else if (k == "action") {
        std::string a;
        e = read_string(v, "faults[].action", a);
        if (!e && a == "latency")
          r.action = FaultRule::Action::kLatency;
        else if (!e && a == "http_status")
          r.action = FaultRule::Action::kHttpStatus;
        else if (!e && a == "drop")
          r.action = FaultRule::Action::kDrop;
        else if (!e && a == "hold")
          r.action = FaultRule::Action::kHold;
        else if (!e)
          e = "faults[].action: expected latency, http_status, drop or hold";
      } else if (k == "phase") {
        std::string p;
        e = read_string(v, "faults[].phase", p);
        if (!e && p == "before")
          r.phase = FaultRule::Phase::kBefore;
        else if (!e && p == "after")
          r.phase = FaultRule::Phase::kAfter;
        else if (!e)
          e = "faults[].phase: expected before or after";
      } else if (k == "latencyMs") {
        e = read_int(v, "faults[].latencyMs", r.latency_ms, 0, kMaxMs);
      } else if (k == "status") {
        e = read_int(v, "faults[].status", r.status, 100, 599);
      } else if (k == "body") {
        e = read_string(v, "faults[].body", r.body);
      } else if (k == "holdMs") {
        e = read_int(v, "faults[].holdMs", r.hold_ms, 0, kMaxMs);
      } else if (k == "count") {
        e = read_int(v, "faults[].count", r.count, -1, INT64_MAX);
      } else if (k == "probability") {
        if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < 0.0 ||
            v.get<double>() > 1.0) {
          e = "faults[].probability: expected a number in [0, 1]";
        } else {
          r.probability = v.get<double>();
        }
      }
      if (e) return e;
    }
    if (!j.contains("action")) return "faults[].action is required";
    rules.push_back(std::move(r));
  }
  out = std::move(rules);
  return std::nullopt;
}

Error apply_switches_json(Switches& switches, const json& patch) {
  if (!patch.is_object()) return "switches: expected an object";
  Switches s = switches;
  constexpr std::int64_t kCodeMax = 10'000'000;
  for (const auto& [k, v] : patch.items()) {
    Error e;
    const std::string f = "switches." + k;
    if (k == "cancelFilledCode")
      e = read_int(v, f, s.cancel_filled_code, 0, kCodeMax);
    else if (k == "cancelFilledMsg")
      e = read_string(v, f, s.cancel_filled_msg);
    else if (k == "cancelCancelledCode")
      e = read_int(v, f, s.cancel_cancelled_code, 0, kCodeMax);
    else if (k == "cancelUnknownCode")
      e = read_int(v, f, s.cancel_unknown_code, 0, kCodeMax);
    else if (k == "queryUnknownCode")
      e = read_int(v, f, s.query_unknown_code, 0, kCodeMax);
    else if (k == "duplicateClientOrderIdCode")
      e = read_int(v, f, s.duplicate_client_order_id_code, 0, kCodeMax);
    else if (k == "minQuantityCode")
      e = read_int(v, f, s.min_quantity_code, 0, kCodeMax);
    else if (k == "minNotionalCode")
      e = read_int(v, f, s.min_notional_code, 0, kCodeMax);
    else if (k == "badApiKeyHttpStatus")
      e = read_int(v, f, s.bad_api_key_http_status, 200, 599);
    else if (k == "maxRecvWindowMs")
      e = read_int(v, f, s.max_recv_window_ms, 1, kMaxMs);
    else if (k == "futureToleranceMs")
      e = read_int(v, f, s.future_tolerance_ms, 0, kMaxMs);
    else if (k == "cancelRepeatWindowMs")
      e = read_int(v, f, s.cancel_repeat_window_ms, 0, kMaxMs);
    else if (k == "acceptClientOrderIDCapital")
      e = read_bool(v, f, s.accept_client_order_id_capital);
    else if (k == "clientOrderIdAlnumOnly")
      e = read_bool(v, f, s.client_order_id_alnum_only);
    else if (k == "listenKeyRequiresSignature")
      e = read_bool(v, f, s.listen_key_requires_signature);
    else if (k == "wsBlankClientOrderId")
      e = read_bool(v, f, s.ws_blank_client_order_id);
    else if (k == "wsIncludeLastFill")
      e = read_bool(v, f, s.ws_include_last_fill);
    else
      e = f + ": unknown switch";
    if (e) return e;
  }
  switches = s;
  return std::nullopt;
}

json switches_to_json(const Switches& s) {
  return json{{"cancelFilledCode", s.cancel_filled_code},
              {"cancelFilledMsg", s.cancel_filled_msg},
              {"cancelCancelledCode", s.cancel_cancelled_code},
              {"cancelUnknownCode", s.cancel_unknown_code},
              {"queryUnknownCode", s.query_unknown_code},
              {"duplicateClientOrderIdCode", s.duplicate_client_order_id_code},
              {"minQuantityCode", s.min_quantity_code},
              {"minNotionalCode", s.min_notional_code},
              {"badApiKeyHttpStatus", s.bad_api_key_http_status},
              {"maxRecvWindowMs", s.max_recv_window_ms},
              {"futureToleranceMs", s.future_tolerance_ms},
              {"cancelRepeatWindowMs", s.cancel_repeat_window_ms},
              {"acceptClientOrderIDCapital", s.accept_client_order_id_capital},
              {"clientOrderIdAlnumOnly", s.client_order_id_alnum_only},
              {"listenKeyRequiresSignature", s.listen_key_requires_signature},
              {"wsBlankClientOrderId", s.ws_blank_client_order_id},
              {"wsIncludeLastFill", s.ws_include_last_fill}};
}

json fault_rule_to_json(const FaultRule& r) {
  static constexpr const char* kActions[] = {"latency", "http_status", "drop", "hold"};
  return json{{"match", r.match},
              {"action", kActions[static_cast<int>(r.action)]},
              {"phase", r.phase == FaultRule::Phase::kBefore ? "before" : "after"},
              {"latencyMs", r.latency_ms},
              {"status", r.status},
              {"body", r.body},
              {"holdMs", r.hold_ms},
              {"count", r.count},
              {"probability", r.probability}};
}

Error apply_rate_limits_json(RateLimitConfig& limits, const json& patch) {
  if (!patch.is_object()) return "rateLimits: expected an object";
  if (auto e =
          unknown_keys(patch, "rateLimits", {"enabled", "mode", "code", "default", "endpoints"})) {
    return e;
  }
  RateLimitConfig r = limits;
  for (const auto& [k, v] : patch.items()) {
    Error e;
    if (k == "enabled") {
      e = read_bool(v, "rateLimits.enabled", r.enabled);
    } else if (k == "mode") {
      std::string m;
      e = read_string(v, "rateLimits.mode", m);
      if (!e && m == "code")
        r.mode = RateLimitConfig::Mode::kCode;
      else if (!e && m == "http429")
        r.mode = RateLimitConfig::Mode::kHttp429;
      else if (!e)
        e = "rateLimits.mode: expected code or http429";
    } else if (k == "code") {
      e = read_int(v, "rateLimits.code", r.code, 0, 10'000'000);
    } else if (k == "default") {
      e = parse_rate_rule(v, "rateLimits.default", r.default_rule);
    } else if (k == "endpoints") {
      if (!v.is_object()) {
        e = "rateLimits.endpoints: expected an object of \"METHOD /path\" -> rule";
      } else {
        for (const auto& [ep, rule] : v.items()) {
          RateRule rr;
          if ((e = parse_rate_rule(rule, "rateLimits.endpoints." + ep, rr))) break;
          r.endpoints[ep] = rr;
        }
      }
    }
    if (e) return e;
  }
  limits = r;
  return std::nullopt;
}

Error apply_config_json(SimConfig& config, const json& patch) {
  if (!patch.is_object()) return "config: expected a JSON object";
  if (auto e = unknown_keys(
          patch, "config",
          {"seed", "orderIdStart", "clockOffsetMs", "contracts", "prices", "accounts", "fillPlan",
           "advancePriceOnRequest", "tickIntervalMs", "rateLimits", "faults", "switches",
           "listenKeyTtlMs", "wsPingIntervalMs", "wsMaxMissedPongs", "wsConfigPushIntervalMs"})) {
    return e;
  }
  SimConfig c = config;
  for (const auto& [k, v] : patch.items()) {
    Error e;
    if (k == "seed") {
      e = read_int(v, "seed", c.seed, 0, INT64_MAX);
    } else if (k == "orderIdStart") {
      e = read_int(v, "orderIdStart", c.order_id_start, 1, INT64_MAX / 2);
    } else if (k == "clockOffsetMs") {
      e = read_int(v, "clockOffsetMs", c.clock_offset_ms, -kMaxMs, kMaxMs);
    } else if (k == "contracts") {
      if (!v.is_array() || v.empty()) {
        e = "contracts: expected a non-empty array";
      } else {
        c.contracts.clear();
        std::set<std::string> seen;
        for (const auto& cj : v) {
          ContractSpec spec;
          if ((e = parse_contract(cj, spec))) break;
          if (!seen.insert(spec.symbol).second) {
            e = "contracts: duplicate symbol " + spec.symbol;
            break;
          }
          c.contracts.push_back(spec);
        }
      }
    } else if (k == "prices") {
      if (!v.is_object()) {
        e = "prices: expected an object of symbol -> model";
      } else {
        for (const auto& [symbol, mj] : v.items()) {
          PriceModel m;
          if ((e = parse_price_model(symbol, mj, m))) break;
          c.prices[symbol] = m;
        }
      }
    } else if (k == "accounts") {
      if (!v.is_array() || v.empty()) {
        e = "accounts: expected a non-empty array";
      } else {
        c.accounts.clear();
        std::set<std::string> seen;
        for (const auto& aj : v) {
          AccountSpec a;
          a.balances["USDT"] = Decimal::from_int(10000);
          if ((e = parse_account(aj, a))) break;
          if (!seen.insert(a.api_key).second) {
            e = "accounts: duplicate apiKey";
            break;
          }
          if (a.user_id == 0) a.user_id = 1000001 + static_cast<std::int64_t>(c.accounts.size());
          c.accounts.push_back(a);
        }
      }
    } else if (k == "fillPlan") {
      if (!v.is_object()) {
        e = "fillPlan: expected {legs, legsPerMatch}";
      } else if ((e = unknown_keys(v, "fillPlan", {"legs", "legsPerMatch"}))) {
      } else {
        if (v.contains("legs")) e = parse_fill_legs(v["legs"], c.fill_legs);
        if (!e && v.contains("legsPerMatch")) {
          e = read_int(v["legsPerMatch"], "fillPlan.legsPerMatch", c.legs_per_match, 0, 1000);
        }
      }
    } else if (k == "advancePriceOnRequest") {
      e = read_bool(v, "advancePriceOnRequest", c.advance_price_on_request);
    } else if (k == "tickIntervalMs") {
      e = read_int(v, "tickIntervalMs", c.tick_interval_ms, 0, kMaxMs);
    } else if (k == "rateLimits") {
      e = apply_rate_limits_json(c.rate_limits, v);
    } else if (k == "faults") {
      e = parse_fault_rules(v, c.faults);
    } else if (k == "switches") {
      e = apply_switches_json(c.switches, v);
    } else if (k == "listenKeyTtlMs") {
      e = read_int(v, "listenKeyTtlMs", c.listen_key_ttl_ms, 1, kMaxMs);
    } else if (k == "wsPingIntervalMs") {
      e = read_int(v, "wsPingIntervalMs", c.ws_ping_interval_ms, 10, kMaxMs);
    } else if (k == "wsMaxMissedPongs") {
      e = read_int(v, "wsMaxMissedPongs", c.ws_max_missed_pongs, 1, 1000);
    } else if (k == "wsConfigPushIntervalMs") {
      e = read_int(v, "wsConfigPushIntervalMs", c.ws_config_push_interval_ms, 0, kMaxMs);
    }
    if (e) return e;
  }
  // Every contract needs a price model; default to a random walk from a nominal price.
  for (const auto& spec : c.contracts) {
    if (!c.prices.contains(spec.symbol)) {
      PriceModel m;
      m.start = Decimal::from_int(100);
      c.prices[spec.symbol] = m;
    }
  }
  config = std::move(c);
  return std::nullopt;
}

}  // namespace dita::sim
