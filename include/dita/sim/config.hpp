// Configuration of the BingX simulator: contracts, accounts, price model, fill plan,
// rate limits, fault rules and the switches for behaviours the reference marks uncertain
// (⚠ in bingx-api.md). Owns the JSON config format (docs/simulator.md) and its validation.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dita/sim/decimal.hpp"

namespace dita::sim {

struct ContractSpec {
  std::string symbol;  // "BTC-USDT"
  std::string asset;   // base asset, "BTC"
  std::string currency = "USDT";
  std::string contract_id;
  int quantity_precision = 4;
  int price_precision = 1;
  Decimal trade_min_quantity = Decimal::from_raw(10'000);  // 0.0001
  Decimal trade_min_usdt = Decimal::from_int(2);
  Decimal maker_fee_rate = Decimal::from_raw(20'000);  // 0.0002
  Decimal taker_fee_rate = Decimal::from_raw(50'000);  // 0.0005
  int max_long_leverage = 125;
  int max_short_leverage = 125;
  int status = 1;
  bool api_state_open = true;
  bool api_state_close = true;
};

struct PriceModel {
  enum class Kind { kRandomWalk, kScript };
  Kind kind = Kind::kRandomWalk;
  Decimal start;
  // Random walk: each step moves by a uniform integer number of ticks in [-max, +max].
  std::int64_t max_step_ticks = 50;
  // Script: prices visited one per step; the last one repeats unless `loop`.
  std::vector<Decimal> script;
  bool loop = false;
};

struct AccountSpec {
  std::string api_key;
  std::string secret;
  std::int64_t user_id = 0;
  std::map<std::string, Decimal> balances;  // settle asset -> wallet balance
  bool dual_side_position = false;          // hedge mode when true
  int default_leverage = 10;
};

struct RateRule {
  int limit = 0;  // requests per window; 0 disables the rule
  std::int64_t window_ms = 1000;
};

struct RateLimitConfig {
  enum class Mode { kCode, kHttp429 };  // ⚠ §3/§12.1: 200+100410 vs HTTP 429
  bool enabled = true;
  Mode mode = Mode::kCode;
  int code = 100410;
  RateRule default_rule{10, 1000};
  std::map<std::string, RateRule> endpoints;  // "METHOD /path" -> rule
};

struct FaultRule {
  enum class Action { kLatency, kHttpStatus, kDrop, kHold };
  enum class Phase { kBefore, kAfter };  // before = request not executed; after = executed
  std::string match = "*";               // "*", "/path", or "METHOD /path"
  Action action = Action::kLatency;
  Phase phase = Phase::kBefore;
  std::int64_t latency_ms = 0;
  int status = 503;
  std::string body;              // body for kHttpStatus; default is a plain error text
  std::int64_t hold_ms = 30000;  // kHold: how long to sit on the request before closing
  std::int64_t count = -1;       // remaining applications; -1 = unlimited
  double probability = 1.0;      // drawn from the seeded RNG
};

// Error codes and behaviours whose real mapping is uncertain or drifts.
struct Switches {
  int cancel_filled_code = 80018;  // ⚠ §4.3/§12.2
  std::string cancel_filled_msg = "order is already filled";
  int cancel_cancelled_code = 109414;
  int cancel_unknown_code = 109414;
  int query_unknown_code = 80016;
  int duplicate_client_order_id_code = 101481;
  int min_quantity_code = 101400;
  int min_notional_code = 101400;
  int bad_api_key_http_status = 200;            // §7: "HTTP 401 possible"
  std::int64_t max_recv_window_ms = 60000;      // ⚠ §2.4
  std::int64_t future_tolerance_ms = 1000;      // ⚠ §2.4
  std::int64_t cancel_repeat_window_ms = 1000;  // 109201 guard; 0 disables
  bool accept_client_order_id_capital = true;   // ⚠ §10.1 `clientOrderID` as request key
  bool client_order_id_alnum_only = false;      // ⚠ §5.1 D4 regex [a-zA-Z0-9]{1,40}
  bool listen_key_requires_signature = false;   // ⚠ §9.1
  bool ws_blank_client_order_id = false;        // JKorf/BingX.Net #49: `c` always ""
  bool ws_include_last_fill = true;             // ⚠ `l`/`L` are D4-only
};

struct SimConfig {
  std::uint64_t seed = 1;
  std::int64_t order_id_start = 1'890'000'000'000'000'001;  // > 2^53 like the real ids
  std::int64_t clock_offset_ms = 0;                         // server clock = host clock + offset
  std::vector<ContractSpec> contracts;
  std::map<std::string, PriceModel> prices;  // symbol -> model
  std::vector<AccountSpec> accounts;
  std::vector<Decimal> fill_legs{Decimal::from_int(1)};  // fractions of the order quantity
  int legs_per_match = 1;  // resting LIMIT legs executed per matching pass; 0 = all
  bool advance_price_on_request = false;
  std::int64_t tick_interval_ms = 0;  // wall-clock price steps; 0 = only /admin/tick
  RateLimitConfig rate_limits;
  std::vector<FaultRule> faults;
  Switches switches;
  std::int64_t listen_key_ttl_ms = 3'600'000;
  std::int64_t ws_ping_interval_ms = 5000;
  int ws_max_missed_pongs = 3;
  std::int64_t ws_config_push_interval_ms = 5000;  // ACCOUNT_CONFIG_UPDATE; 0 = on connect only
};

// Built-in defaults: one account (key `sim-key`, secret `sim-secret-0123456789abcdef`) with
// 10000 USDT, contracts BTC-USDT and ETH-USDT.
[[nodiscard]] SimConfig default_config();

// Applies the members present in `patch` on top of `config`. Returns an error message that
// names the offending field; `config` is left unchanged on error.
[[nodiscard]] std::optional<std::string> apply_config_json(SimConfig& config,
                                                           const nlohmann::json& patch);

[[nodiscard]] std::optional<std::string> parse_fault_rules(const nlohmann::json& list,
                                                           std::vector<FaultRule>& out);
[[nodiscard]] std::optional<std::string> parse_fill_legs(const nlohmann::json& list,
                                                         std::vector<Decimal>& out);
[[nodiscard]] std::optional<std::string> apply_switches_json(Switches& switches,
                                                             const nlohmann::json& patch);
[[nodiscard]] std::optional<std::string> apply_rate_limits_json(RateLimitConfig& limits,
                                                                const nlohmann::json& patch);

[[nodiscard]] nlohmann::json fault_rule_to_json(const FaultRule& rule);
[[nodiscard]] nlohmann::json switches_to_json(const Switches& switches);

}  // namespace dita::sim
