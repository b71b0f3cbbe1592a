// The simulated BingX USDT-M exchange state: accounts, orders, positions, balances, prices,
// the matching of orders against a scripted or seeded random-walk price, listen keys, and
// the user-data events these produce. Single-threaded and deterministic for a given seed and
// input sequence: time arrives as an argument (`now_ms`), randomness from the seed.
// HTTP, signatures, rate limits and faults live in the service layer, not here.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dita/sim/config.hpp"
#include "dita/sim/decimal.hpp"

namespace dita::sim {

using Json = nlohmann::ordered_json;

// Request parameters after transport decoding (query wins over body on duplicates).
using ParamMap = std::map<std::string, std::string>;

// Outcome of an exchange call: code 0 plus `data`, or a BingX error code and message.
struct ApiResult {
  int code = 0;
  std::string msg;
  Json data = Json::object();

  static ApiResult ok(Json data_in) { return ApiResult{0, "", std::move(data_in)}; }
  static ApiResult error(int code_in, std::string msg_in) {
    return ApiResult{code_in, std::move(msg_in), Json::object()};
  }
};

// A user-data stream event for the account owning `api_key`.
struct UserEvent {
  std::string api_key;
  Json payload;
};

enum class OrderStatus { kPending, kPartiallyFilled, kFilled, kCancelled };

struct Fill {
  std::int64_t trade_id = 0;
  Decimal quantity;
  Decimal price;
  Decimal commission;  // negative = fee paid
  Decimal realised_pnl;
  std::int64_t time_ms = 0;
  bool maker = false;
};

struct Order {
  std::int64_t id = 0;
  std::string api_key;
  std::string client_order_id;  // lower-cased; empty if none
  std::string symbol;
  std::string side;           // BUY / SELL
  std::string position_side;  // LONG / SHORT / BOTH
  std::string type;           // LIMIT / MARKET
  std::string time_in_force;  // GTC / IOC / FOK / PostOnly
  std::string working_type = "MARK_PRICE";
  Decimal quantity;
  Decimal price;  // zero for MARKET
  Decimal executed;
  Decimal cum_quote;
  Decimal commission;
  Decimal profit;
  OrderStatus status = OrderStatus::kPending;
  bool reduce_only = false;
  int leverage = 0;
  std::int64_t time_ms = 0;
  std::int64_t update_time_ms = 0;
  std::int64_t last_cancel_ms = -1;
  std::vector<Decimal> legs;  // quantities still to fill, in order
  std::vector<Fill> fills;

  [[nodiscard]] bool is_open() const {
    return status == OrderStatus::kPending || status == OrderStatus::kPartiallyFilled;
  }
};

struct Position {
  std::string api_key;
  std::string symbol;
  std::string position_side;  // LONG / SHORT / BOTH
  Decimal amount;             // signed in one-way mode (BOTH), non-negative in hedge mode
  Decimal avg_price;
  Decimal realised;
  std::int64_t position_id = 0;
  std::int64_t update_time_ms = 0;
};

class Exchange {
 public:
  explicit Exchange(SimConfig config);

  [[nodiscard]] const SimConfig& config() const { return config_; }
  [[nodiscard]] const AccountSpec* find_account(const std::string& api_key) const;

  // Public market endpoints.
  [[nodiscard]] ApiResult contracts(const ParamMap& params) const;
  [[nodiscard]] ApiResult ticker_price(const ParamMap& params, std::int64_t now_ms) const;

  // Trading endpoints, for the account that owns `api_key`.
  ApiResult place_order(const std::string& api_key, const ParamMap& params, std::int64_t now_ms);
  ApiResult cancel_order(const std::string& api_key, const ParamMap& params, std::int64_t now_ms);
  ApiResult cancel_all(const std::string& api_key, const ParamMap& params, std::int64_t now_ms);
  [[nodiscard]] ApiResult query_order(const std::string& api_key, const ParamMap& params) const;
  [[nodiscard]] ApiResult open_order(const std::string& api_key, const ParamMap& params) const;
  [[nodiscard]] ApiResult open_orders(const std::string& api_key, const ParamMap& params) const;
  [[nodiscard]] ApiResult all_orders(const std::string& api_key, const ParamMap& params) const;
  [[nodiscard]] ApiResult positions(const std::string& api_key, const ParamMap& params) const;
  [[nodiscard]] ApiResult balance_v3(const std::string& api_key) const;
  [[nodiscard]] ApiResult commission_rate(const std::string& api_key) const;
  [[nodiscard]] ApiResult get_leverage(const std::string& api_key, const ParamMap& params) const;
  ApiResult set_leverage(const std::string& api_key, const ParamMap& params, std::int64_t now_ms);
  [[nodiscard]] ApiResult get_position_mode(const std::string& api_key) const;
  ApiResult set_position_mode(const std::string& api_key, const ParamMap& params);

  // Listen keys: 64 hex characters drawn from the seeded RNG.
  std::string create_listen_key(const std::string& api_key, std::int64_t now_ms);
  bool extend_listen_key(const std::string& key, std::int64_t now_ms);
  bool delete_listen_key(const std::string& key);
  // Owner api key if the listen key exists and has not expired at `now_ms`.
  [[nodiscard]] std::optional<std::string> listen_key_owner(const std::string& key,
                                                            std::int64_t now_ms) const;
  [[nodiscard]] bool listen_key_known(const std::string& key) const;
  bool expire_listen_key(const std::string& key);  // admin: force expiry now
  // ACCOUNT_CONFIG_UPDATE payloads (one per contract) for a newly connected stream.
  [[nodiscard]] std::vector<Json> account_config_events(const std::string& api_key,
                                                        std::int64_t now_ms) const;

  // Price control. `step_price` advances every symbol one step of its model and matches.
  void step_prices(int steps, std::int64_t now_ms);
  bool set_price(const std::string& symbol, Decimal price, std::int64_t now_ms);
  [[nodiscard]] std::optional<Decimal> price(const std::string& symbol) const;

  // Fill plan for the next orders (default) or for one client order id (lower-cased).
  void set_default_fill_plan(std::vector<Decimal> legs, int legs_per_match);
  void set_client_fill_plan(const std::string& client_order_id, std::vector<Decimal> legs);

  // Admin: every order (all accounts), with fills, in REST object shape plus extras.
  [[nodiscard]] Json admin_orders() const;
  [[nodiscard]] Json admin_state() const;

  // Drains the user-data events produced since the last call.
  std::vector<UserEvent> take_events();

  void set_switches(const Switches& switches) { config_.switches = switches; }

 private:
  struct AccountState {
    AccountSpec spec;
    std::map<std::string, Decimal> wallet;                // asset -> wallet balance
    std::map<std::string, std::pair<int, int>> leverage;  // symbol -> (long, short)
    std::set<std::string> client_ids;
  };
  struct PriceState {
    PriceModel model;
    Decimal price;
    std::size_t script_index = 0;
  };
  struct ListenKey {
    std::string api_key;
    std::int64_t expires_at_ms = 0;
    bool forced_expired = false;
  };

  std::uint64_t next_random();
  [[nodiscard]] const ContractSpec* find_contract(const std::string& symbol) const;
  AccountState& account(const std::string& api_key);
  [[nodiscard]] const AccountState& account(const std::string& api_key) const;
  Order* find_order(const std::string& api_key, const ParamMap& params, std::string& error_field);
  [[nodiscard]] const Order* find_order(const std::string& api_key, const ParamMap& params,
                                        std::string& error_field) const;
  [[nodiscard]] std::optional<std::string> client_id_param(const ParamMap& params) const;
  Position& position(const std::string& api_key, const std::string& symbol,
                     const std::string& position_side);
  [[nodiscard]] int leverage_for(const std::string& api_key, const std::string& symbol,
                                 const std::string& position_side) const;
  [[nodiscard]] Decimal available_margin(const std::string& api_key,
                                         const std::string& currency) const;
  [[nodiscard]] Decimal used_margin(const std::string& api_key, const std::string& currency) const;
  [[nodiscard]] Decimal frozen_margin(const std::string& api_key,
                                      const std::string& currency) const;
  [[nodiscard]] Decimal unrealized(const std::string& api_key, const std::string& currency) const;
  [[nodiscard]] Decimal closable(const Order& candidate) const;

  void match_symbol(const std::string& symbol, std::int64_t now_ms);
  // Executes up to `max_legs` legs (0 = all) of `order` at `price`.
  void execute_legs(Order& order, Decimal price, int max_legs, bool maker, std::int64_t now_ms);
  void apply_fill(Order& order, Decimal qty, Decimal price, bool maker, std::int64_t now_ms);
  void cancel_internal(Order& order, std::int64_t now_ms);
  std::vector<Decimal> plan_legs(const Order& order) const;

  [[nodiscard]] Json order_json(const Order& order) const;
  [[nodiscard]] Json position_json(const Position& pos) const;
  void emit_order_event(const Order& order, const std::string& execution_type, const Fill* fill,
                        std::int64_t now_ms);
  void emit_account_event(const Order& order, Decimal balance_change, std::int64_t now_ms);

  SimConfig config_;
  std::uint64_t rng_state_;
  std::int64_t next_order_id_;
  std::int64_t next_trade_id_ = 1;
  std::int64_t next_position_id_ = 1'800'000'000'000'000'001;
  std::map<std::string, AccountState> accounts_;
  std::map<std::string, PriceState> prices_;
  std::map<std::int64_t, Order> orders_;       // id order == placement order
  std::map<std::string, Position> positions_;  // key: api_key|symbol|side
  std::map<std::string, ListenKey> listen_keys_;
  std::map<std::string, std::vector<Decimal>> client_fill_plans_;
  std::vector<UserEvent> events_;
};

// "CANCELLED" etc.: the REST spelling.
[[nodiscard]] const char* rest_status_name(OrderStatus status);
// "CANCELED"/"NEW" etc.: the WebSocket spelling.
[[nodiscard]] const char* ws_status_name(OrderStatus status);

}  // namespace dita::sim
