// HTTP routing, authentication, rate limits, faults, admin API and user-data WebSocket
// for the simulator; see service.hpp.
#include "service.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <functional>

#include "dita/venue/bingx/signer.hpp"
#include "websocket.hpp"

namespace dita::sim {

namespace {

using nlohmann::json;
namespace bingx = dita::venue::bingx;

constexpr std::string_view kUserDataPath = "/openApi/user/auth/userDataStream";

struct Piece {
  std::string key;
  std::string raw_value;
  std::string value;  // URL-decoded
};

std::vector<Piece> split_pieces(std::string_view text) {
  std::vector<Piece> out;
  while (!text.empty()) {
    const auto amp = text.find('&');
    const std::string_view piece = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view() : text.substr(amp + 1);
    if (piece.empty()) continue;
    const auto eq = piece.find('=');
    Piece p;
    p.key = bingx::url_decode(piece.substr(0, eq), true);
    p.raw_value = eq == std::string_view::npos ? std::string() : std::string(piece.substr(eq + 1));
    p.value = bingx::url_decode(p.raw_value, true);
    out.push_back(std::move(p));
  }
  return out;
}

std::string join_pieces(const std::vector<Piece>& pieces, bool decoded) {
  std::string out;
  for (const auto& p : pieces) {
    if (p.key == "signature") continue;
    if (!out.empty()) out.push_back('&');
    out += p.key + "=" + (decoded ? p.value : p.raw_value);
  }
  return out;
}

std::string join_nonempty(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return a + "&" + b;
}

std::string lower(std::string s) {
  for (auto& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

std::optional<std::int64_t> parse_int64(std::string_view s) {
  std::int64_t v = 0;
  if (s.empty()) return std::nullopt;
  const auto* end = s.data() + s.size();
  const auto [ptr, ec] = std::from_chars(s.data(), end, v);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return v;
}

HttpResponse json_response(int status, const std::string& body) {
  HttpResponse res;
  res.status = status;
  res.body = body;
  return res;
}

HttpResponse envelope(const ApiResult& r, int status = 200) {
  Json body{{"code", r.code}, {"msg", r.msg}, {"data", r.data}};
  return json_response(status, body.dump());
}

HttpResponse error_envelope(int code, const std::string& msg, int status = 200) {
  return envelope(ApiResult::error(code, msg), status);
}

HttpResponse admin_ok(json body) {
  body["ok"] = true;
  return json_response(200, body.dump());
}

HttpResponse admin_error(const std::string& message, int status = 400) {
  return json_response(status, json{{"ok", false}, {"error", message}}.dump());
}

bool is_loopback(const std::string& address) {
  return address.starts_with("127.") || address == "::1";
}

bool fault_matches(const FaultRule& rule, const std::string& method, const std::string& path) {
  if (rule.match == "*") return true;
  if (rule.match == path) return true;
  return rule.match == method + " " + path;
}

// Parameters from query, form body or JSON body, plus the strings a client may have signed.
struct ParsedParams {
  ParamMap merged;
  std::optional<std::string> signature;
  std::vector<std::string> sign_candidates;
  std::string error;
};

ParsedParams parse_params(const HttpRequest& req) {
  ParsedParams out;
  const auto query = split_pieces(req.query);
  std::vector<Piece> form;
  std::string body = req.body;
  const bool blank_body = body.find_first_not_of(" \t\r\n") == std::string::npos;
  bool json_body = false;
  if (!blank_body) {
    if (lower(req.header("content-type")).find("json") != std::string::npos) {
      json_body = true;
      const json parsed = json::parse(body, nullptr, false);
      if (parsed.is_discarded() || !parsed.is_object()) {
        out.error = "request body is not a JSON object";
        return out;
      }
      for (const auto& [k, v] : parsed.items()) {
        if (v.is_string())
          out.merged[k] = v.get<std::string>();
        else if (v.is_null())
          out.merged[k] = "";
        else
          out.merged[k] = v.dump();
      }
    } else {
      form = split_pieces(body);
      for (const auto& p : form) out.merged.try_emplace(p.key, p.value);
    }
  }
  // §2.1: when a name is in both, the query-string copy wins.
  ParamMap query_map;
  for (const auto& p : query) query_map.try_emplace(p.key, p.value);
  for (const auto& [k, v] : query_map) out.merged[k] = v;
  if (const auto it = out.merged.find("signature"); it != out.merged.end()) {
    out.signature = it->second;
    out.merged.erase(it);
  }
  // §11: accept the transmitted bytes or the same with values URL-decoded.
  out.sign_candidates.push_back(join_nonempty(join_pieces(query, false), join_pieces(form, false)));
  out.sign_candidates.push_back(join_nonempty(join_pieces(query, true), join_pieces(form, true)));
  if (json_body) {
    // JSON bodies are signed over keys sorted a-z (std::map order) with textual values.
    bingx::QueryParams sorted;
    for (const auto& [k, v] : out.merged) sorted.push_back({k, v});
    out.sign_candidates.push_back(bingx::canonical_payload(sorted));
  }
  return out;
}

}  // namespace

SimService::SimService(SimConfig config)
    : initial_config_(config),
      exchange_(std::make_unique<Exchange>(config)),
      config_(config),
      faults_(config.faults),
      rng_state_(config.seed * 0x2545F4914F6CDD1DULL + 1) {}

SimService::~SimService() {
  stop_background();
}

void SimService::start_background() {
  if (config_.tick_interval_ms <= 0) return;
  ticker_ = std::thread([this] {
    auto next = std::chrono::steady_clock::now();
    while (!background_stop_.load()) {
      std::int64_t interval = 0;
      {
        std::lock_guard lock(mutex_);
        interval = config_.tick_interval_ms;
      }
      next += std::chrono::milliseconds(std::max<std::int64_t>(interval, 1));
      while (!background_stop_.load() && std::chrono::steady_clock::now() < next) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      if (background_stop_.load()) break;
      std::lock_guard lock(mutex_);
      exchange_->step_prices(1, now_ms());
      publish_events();
    }
  });
}

void SimService::stop_background() {
  background_stop_.store(true);
  if (ticker_.joinable()) ticker_.join();
}

std::int64_t SimService::now_ms() const {
  const auto wall = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  return wall + config_.clock_offset_ms;
}

std::uint64_t SimService::next_random() {
  std::uint64_t z = (rng_state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30U)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27U)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31U);
}

void SimService::publish_events() {
  for (auto& event : exchange_->take_events()) {
    const std::string text = event.payload.dump();
    for (const auto& session : sessions_) {
      if (session->api_key != event.api_key) continue;
      std::lock_guard lock(session->mutex);
      session->queue.push_back(text);
    }
  }
}

std::optional<FaultRule> SimService::pick_fault(const std::string& method,
                                                const std::string& path) {
  for (auto& rule : faults_) {
    if (rule.count == 0 || !fault_matches(rule, method, path)) continue;
    if (rule.probability < 1.0) {
      // 53 random bits -> [0, 1): deterministic for a seed and request sequence.
      const double draw = static_cast<double>(next_random() >> 11U) * 0x1.0p-53;
      if (draw >= rule.probability) continue;
    }
    if (rule.count > 0) --rule.count;
    return rule;
  }
  return std::nullopt;
}

bool SimService::rate_limited(const std::string& api_key, const std::string& endpoint,
                              std::int64_t now) {
  const auto& limits = config_.rate_limits;
  if (!limits.enabled) return false;
  const auto it = limits.endpoints.find(endpoint);
  const RateRule rule = it == limits.endpoints.end() ? limits.default_rule : it->second;
  if (rule.limit <= 0) return false;
  auto& window = rate_windows_[api_key + " " + endpoint];
  while (!window.empty() && window.front() <= now - rule.window_ms) window.pop_front();
  if (static_cast<int>(window.size()) >= rule.limit) return true;
  window.push_back(now);
  return false;
}

void SimService::reset(const json* patch, std::string& error) {
  SimConfig fresh = initial_config_;
  if (patch != nullptr && !patch->empty()) {
    if (auto e = apply_config_json(fresh, *patch)) {
      error = *e;
      return;
    }
  }
  exchange_ = std::make_unique<Exchange>(fresh);
  faults_ = fresh.faults;
  rate_windows_.clear();
  rng_state_ = fresh.seed * 0x2545F4914F6CDD1DULL + 1;
  config_ = std::move(fresh);
}

HttpResponse SimService::handle(const HttpRequest& req) {
  try {
    if (req.path.starts_with("/admin/") || req.path == "/admin") {
      if (!is_loopback(req.peer_address)) return error_envelope(100404, "api not found", 404);
      return handle_admin(req);
    }
    return handle_api(req);
  } catch (const std::exception& e) {
    // Never crash on input: anything unexpected becomes a 500 envelope.
    return error_envelope(100500, std::string("internal error: ") + e.what(), 500);
  }
}

HttpResponse SimService::handle_admin(const HttpRequest& req) {
  const std::string route = req.method + " " + req.path;
  json body = json::object();
  if (req.body.find_first_not_of(" \t\r\n") != std::string::npos) {
    body = json::parse(req.body, nullptr, false);
    if (body.is_discarded()) return admin_error("body is not valid JSON");
  }
  std::lock_guard lock(mutex_);
  const std::int64_t now = now_ms();
  if (route == "GET /admin/health") return admin_ok(json::object());
  if (route == "GET /admin/faults" || route == "POST /admin/faults" ||
      route == "DELETE /admin/faults") {
    if (req.method == "DELETE") faults_.clear();
    if (req.method == "POST") {
      const json& list = body.is_object() && body.contains("faults") ? body["faults"] : body;
      std::vector<FaultRule> parsed;
      if (auto e = parse_fault_rules(list, parsed)) return admin_error(*e);
      faults_ = std::move(parsed);
    }
    json list = json::array();
    for (const auto& f : faults_) list.push_back(fault_rule_to_json(f));
    return admin_ok(json{{"faults", list}});
  }
  if (route == "POST /admin/price") {
    if (!body.is_object() || !body.contains("symbol") || !body["symbol"].is_string() ||
        !body.contains("price")) {
      return admin_error("expected {\"symbol\": \"BTC-USDT\", \"price\": \"60000\"}");
    }
    const json& p = body["price"];
    const auto px = p.is_string() ? Decimal::parse(p.get<std::string>())
                                  : (p.is_number() ? Decimal::parse(p.dump()) : std::nullopt);
    if (!px || px->raw() <= 0) return admin_error("price: expected a positive decimal");
    if (!exchange_->set_price(body["symbol"].get<std::string>(), *px, now)) {
      return admin_error("unknown symbol");
    }
    publish_events();
    return admin_ok(exchange_->admin_state());
  }
  if (route == "POST /admin/tick") {
    int steps = 1;
    if (body.is_object() && body.contains("steps")) {
      if (!body["steps"].is_number_integer() || body["steps"].get<std::int64_t>() < 1 ||
          body["steps"].get<std::int64_t>() > 100000) {
        return admin_error("steps: expected an integer in [1, 100000]");
      }
      steps = body["steps"].get<int>();
    }
    exchange_->step_prices(steps, now);
    publish_events();
    return admin_ok(exchange_->admin_state());
  }
  if (route == "POST /admin/fill-plan") {
    if (!body.is_object() || !body.contains("legs")) {
      return admin_error("expected {\"legs\": [fractions], \"legsPerMatch\"?, \"clientOrderId\"?}");
    }
    std::vector<Decimal> legs;
    if (auto e = parse_fill_legs(body["legs"], legs)) return admin_error(*e);
    if (body.contains("clientOrderId")) {
      if (!body["clientOrderId"].is_string())
        return admin_error("clientOrderId: expected a string");
      exchange_->set_client_fill_plan(body["clientOrderId"].get<std::string>(), std::move(legs));
    } else {
      int per_match = config_.legs_per_match;
      if (body.contains("legsPerMatch")) {
        if (!body["legsPerMatch"].is_number_integer() || body["legsPerMatch"].get<int>() < 0) {
          return admin_error("legsPerMatch: expected a non-negative integer");
        }
        per_match = body["legsPerMatch"].get<int>();
      }
      config_.fill_legs = legs;
      config_.legs_per_match = per_match;
      exchange_->set_default_fill_plan(std::move(legs), per_match);
    }
    return admin_ok(json::object());
  }
  if (route == "POST /admin/reset") {
    std::string error;
    reset(body.is_object() ? &body : nullptr, error);
    if (!error.empty()) return admin_error(error);
    return admin_ok(exchange_->admin_state());
  }
  if (route == "GET /admin/orders") {
    return admin_ok(json{{"orders", json::parse(exchange_->admin_orders().dump())}});
  }
  if (route == "GET /admin/state") return admin_ok(json::parse(exchange_->admin_state().dump()));
  if (route == "POST /admin/switches" || route == "GET /admin/switches") {
    if (req.method == "POST") {
      if (auto e = apply_switches_json(config_.switches, body)) return admin_error(*e);
      exchange_->set_switches(config_.switches);
    }
    return admin_ok(json{{"switches", switches_to_json(config_.switches)}});
  }
  if (route == "POST /admin/rate-limits") {
    if (auto e = apply_rate_limits_json(config_.rate_limits, body)) return admin_error(*e);
    rate_windows_.clear();
    return admin_ok(json::object());
  }
  if (route == "POST /admin/clock") {
    if (!body.is_object() || !body.contains("offsetMs") || !body["offsetMs"].is_number_integer()) {
      return admin_error("expected {\"offsetMs\": integer}");
    }
    config_.clock_offset_ms = body["offsetMs"].get<std::int64_t>();
    return admin_ok(json{{"serverTime", now_ms()}});
  }
  if (route == "POST /admin/listen-key/expire") {
    if (!body.is_object() || !body.contains("listenKey") || !body["listenKey"].is_string()) {
      return admin_error("expected {\"listenKey\": \"...\"}");
    }
    if (!exchange_->expire_listen_key(body["listenKey"].get<std::string>())) {
      return admin_error("unknown listen key", 404);
    }
    return admin_ok(json::object());
  }
  return admin_error("unknown admin route " + route, 404);
}

HttpResponse SimService::handle_api(const HttpRequest& req) {
  using Disposition = HttpResponse::Disposition;
  std::optional<FaultRule> fault;
  {
    std::lock_guard lock(mutex_);
    fault = pick_fault(req.method, req.path);
  }
  std::int64_t delay = 0;
  if (fault) {
    delay = fault->latency_ms;
    if (fault->phase == FaultRule::Phase::kBefore) {
      HttpResponse res;
      switch (fault->action) {
        case FaultRule::Action::kLatency:
          break;
        case FaultRule::Action::kHttpStatus:
          res.status = fault->status;
          res.content_type = "text/plain";
          res.body = fault->body.empty() ? "simulated upstream failure" : fault->body;
          res.delay_ms = delay;
          return res;
        case FaultRule::Action::kDrop:
          res.disposition = Disposition::kDrop;
          res.delay_ms = delay;
          return res;
        case FaultRule::Action::kHold:
          res.disposition = Disposition::kHold;
          res.hold_ms = fault->hold_ms;
          res.delay_ms = delay;
          return res;
      }
    }
  }

  // Everything below executes the request; an "after" fault then replaces the answer,
  // which is how a venue leaves the client unsure whether an order exists.
  HttpResponse res = [&]() -> HttpResponse {
    std::lock_guard lock(mutex_);
    const std::int64_t now = now_ms();
    const std::string endpoint = req.method + " " + req.path;
    const ParamMap query_only = [&] {
      ParamMap m;
      for (const auto& p : split_pieces(req.query)) m.try_emplace(p.key, p.value);
      return m;
    }();

    // Public endpoints.
    if (endpoint == "GET /openApi/swap/v2/server/time") {
      return envelope(ApiResult::ok(Json{{"serverTime", now}}));
    }
    if (endpoint == "GET /openApi/swap/v2/quote/contracts") {
      return envelope(exchange_->contracts(query_only));
    }
    if (endpoint == "GET /openApi/swap/v2/quote/price") {
      return envelope(exchange_->ticker_price(query_only, now));
    }

    using Route = std::function<ApiResult(const std::string&, const ParamMap&, std::int64_t)>;
    Exchange& ex = *exchange_;
    const std::map<std::string, Route> routes = {
        {"POST /openApi/swap/v2/trade/order",
         [&](auto& k, auto& p, auto t) { return ex.place_order(k, p, t); }},
        {"DELETE /openApi/swap/v2/trade/order",
         [&](auto& k, auto& p, auto t) { return ex.cancel_order(k, p, t); }},
        {"GET /openApi/swap/v2/trade/order",
         [&](auto& k, auto& p, auto) { return ex.query_order(k, p); }},
        {"DELETE /openApi/swap/v2/trade/allOpenOrders",
         [&](auto& k, auto& p, auto t) { return ex.cancel_all(k, p, t); }},
        {"GET /openApi/swap/v2/trade/openOrder",
         [&](auto& k, auto& p, auto) { return ex.open_order(k, p); }},
        {"GET /openApi/swap/v2/trade/openOrders",
         [&](auto& k, auto& p, auto) { return ex.open_orders(k, p); }},
        {"GET /openApi/swap/v2/trade/allOrders",
         [&](auto& k, auto& p, auto) { return ex.all_orders(k, p); }},
        {"GET /openApi/swap/v2/user/positions",
         [&](auto& k, auto& p, auto) { return ex.positions(k, p); }},
        {"GET /openApi/swap/v3/user/balance",
         [&](auto& k, auto&, auto) { return ex.balance_v3(k); }},
        {"GET /openApi/swap/v2/user/commissionRate",
         [&](auto& k, auto&, auto) { return ex.commission_rate(k); }},
        {"GET /openApi/swap/v2/trade/leverage",
         [&](auto& k, auto& p, auto) { return ex.get_leverage(k, p); }},
        {"POST /openApi/swap/v2/trade/leverage",
         [&](auto& k, auto& p, auto t) { return ex.set_leverage(k, p, t); }},
        {"GET /openApi/swap/v1/positionSide/dual",
         [&](auto& k, auto&, auto) { return ex.get_position_mode(k); }},
        {"POST /openApi/swap/v1/positionSide/dual",
         [&](auto& k, auto& p, auto) { return ex.set_position_mode(k, p); }},
    };
    const bool user_data = req.path == kUserDataPath &&
                           (req.method == "POST" || req.method == "PUT" || req.method == "DELETE");
    const auto route = routes.find(endpoint);
    if (route == routes.end() && !user_data) {
      bool known_path = req.path == kUserDataPath;
      for (const auto& [key, fn] : routes) {
        known_path = known_path || key.substr(key.find(' ') + 1) == req.path;
      }
      if (known_path) return error_envelope(100405, "method not allowed", 405);
      return error_envelope(100404, "api not found: " + req.path, 404);
    }

    const auto& sw = config_.switches;
    ParsedParams params = parse_params(req);

    // Listen-key extend/delete are keyed by the listen key itself.
    if (user_data && req.method != "POST") {
      if (!params.error.empty()) return error_envelope(100400, params.error);
      const auto it = params.merged.find("listenKey");
      if (it == params.merged.end() || it->second.empty()) {
        return error_envelope(80014, "Invalid parameters, listenKey: This field is required.");
      }
      const bool found = req.method == "PUT" ? exchange_->extend_listen_key(it->second, now)
                                             : exchange_->delete_listen_key(it->second);
      if (!found) return error_envelope(100404, "listenKey does not exist", 404);
      return json_response(200, Json{{"code", 0}, {"msg", ""}}.dump());
    }

    const std::string api_key = req.header("x-bx-apikey");
    if (api_key.empty() || exchange_->find_account(api_key) == nullptr) {
      return error_envelope(100413, "Incorrect apiKey", sw.bad_api_key_http_status);
    }
    if (rate_limited(api_key, endpoint, now)) {
      const auto& rl = config_.rate_limits;
      return error_envelope(rl.code, "Rate limit exceeded",
                            rl.mode == RateLimitConfig::Mode::kHttp429 ? 429 : 200);
    }
    if (!params.error.empty()) return error_envelope(100400, params.error);

    const bool signature_optional =
        user_data && !sw.listen_key_requires_signature && !params.signature;
    if (!signature_optional) {
      if (!params.signature || params.signature->empty()) {
        return error_envelope(100412, "Null signature");
      }
      const std::string& secret = exchange_->find_account(api_key)->secret;
      bool verified = false;
      for (const auto& candidate : params.sign_candidates) {
        verified = verified || bingx::signatures_equal(bingx::hmac_sha256_hex(secret, candidate),
                                                       lower(*params.signature));
      }
      if (!verified) return error_envelope(100001, "Signature verification failed");

      const auto ts_it = params.merged.find("timestamp");
      const auto ts = ts_it == params.merged.end() ? std::nullopt : parse_int64(ts_it->second);
      if (!ts) return error_envelope(100421, "Null timestamp or timestamp mismatch");
      std::int64_t window = bingx::kDefaultRecvWindowMs;
      if (const auto rw = params.merged.find("recvWindow"); rw != params.merged.end()) {
        const auto parsed = parse_int64(rw->second);
        if (!parsed || *parsed <= 0 || *parsed > sw.max_recv_window_ms) {
          return error_envelope(80014, "Invalid parameters, recvWindow: must be between 1 and " +
                                           std::to_string(sw.max_recv_window_ms));
        }
        window = *parsed;
      }
      if (now - *ts > window || *ts - now > sw.future_tolerance_ms) {
        return error_envelope(100421, "Null timestamp or timestamp mismatch: request timestamp " +
                                          std::to_string(*ts) + ", server time " +
                                          std::to_string(now));
      }
    }

    if (user_data) {
      const std::string key = exchange_->create_listen_key(api_key, now);
      return json_response(200, Json{{"listenKey", key}}.dump());  // bare, no envelope (§3)
    }
    if (config_.advance_price_on_request) exchange_->step_prices(1, now);
    ApiResult result = route->second(api_key, params.merged, now);
    publish_events();
    return envelope(result);
  }();

  res.delay_ms = delay;
  if (fault && fault->phase == FaultRule::Phase::kAfter) {
    switch (fault->action) {
      case FaultRule::Action::kLatency:
        break;
      case FaultRule::Action::kHttpStatus:
        res.status = fault->status;
        res.content_type = "text/plain";
        res.body = fault->body.empty() ? "simulated upstream failure" : fault->body;
        break;
      case FaultRule::Action::kDrop:
        res.disposition = Disposition::kDrop;
        break;
      case FaultRule::Action::kHold:
        res.disposition = Disposition::kHold;
        res.hold_ms = fault->hold_ms;
        break;
    }
  }
  return res;
}

void SimService::websocket(const HttpRequest& req, int fd) {
  const auto query = split_pieces(req.query);
  std::string listen_key;
  for (const auto& p : query) {
    if (p.key == "listenKey") listen_key = p.value;
  }
  const std::string client_key = req.header("sec-websocket-key");
  auto session = std::make_shared<WsSession>();
  std::vector<Json> initial;
  std::int64_t ping_interval = 5000;
  std::int64_t config_interval = 0;
  int max_missed = 3;
  {
    std::lock_guard lock(mutex_);
    const auto owner = exchange_->listen_key_owner(listen_key, now_ms());
    if (req.path != "/swap-market" || client_key.empty() || !owner) {
      const std::string body = R"({"code":100404,"msg":"invalid or expired listenKey"})";
      send_all(fd, "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
      return;
    }
    session->api_key = *owner;
    session->listen_key = listen_key;
    initial = exchange_->account_config_events(*owner, now_ms());
    ping_interval = config_.ws_ping_interval_ms;
    config_interval = config_.ws_config_push_interval_ms;
    max_missed = config_.ws_max_missed_pongs;
    sessions_.insert(session);
  }
  const std::string handshake =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: " +
      ws::accept_key(client_key) + "\r\n\r\n";
  bool alive = send_all(fd, handshake);
  auto send_gzip = [&](std::string_view text) {
    alive = alive && send_all(fd, ws::encode_frame(ws::kOpBinary, ws::gzip_compress(text)));
  };
  for (const auto& event : initial) send_gzip(event.dump());

  using Clock = std::chrono::steady_clock;
  auto last_ping = Clock::now();
  auto last_config = Clock::now();
  int outstanding_pings = 0;
  bool expired_sent = false;
  std::string buffer;
  while (alive && (server_ == nullptr || !server_->stopping())) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 20) > 0) {
      char chunk[4096];
      const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
      if (n <= 0) break;
      buffer.append(chunk, static_cast<std::size_t>(n));
      ws::Frame frame;
      ws::DecodeStatus status;
      while ((status = ws::decode_frame(buffer, frame)) == ws::DecodeStatus::kFrame) {
        if (frame.opcode == ws::kOpClose) {
          send_all(fd, ws::encode_frame(ws::kOpClose, frame.payload.substr(0, 2)));
          alive = false;
          break;
        }
        if (frame.opcode == ws::kOpPing) {
          alive = send_all(fd, ws::encode_frame(ws::kOpPong, frame.payload));
        } else if (frame.payload == "Pong") {
          outstanding_pings = 0;
        } else if (frame.payload == "Ping") {
          send_gzip("Pong");
        }
      }
      if (status == ws::DecodeStatus::kError) break;
    }
    const auto now = Clock::now();
    std::vector<std::string> outgoing;
    bool expired_now = false;
    {
      std::lock_guard lock(mutex_);
      const std::int64_t wall = now_ms();
      if (!expired_sent && !exchange_->listen_key_owner(listen_key, wall)) {
        expired_now = true;
        expired_sent = true;
        outgoing.push_back(
            Json{{"e", "listenKeyExpired"}, {"E", wall}, {"listenKey", listen_key}}.dump());
      }
      if (!expired_sent && config_interval > 0 &&
          now - last_config >= std::chrono::milliseconds(config_interval)) {
        last_config = now;
        for (const auto& e : exchange_->account_config_events(session->api_key, wall)) {
          outgoing.push_back(e.dump());
        }
      }
    }
    {
      std::lock_guard lock(session->mutex);
      // After expiry the socket may stay open but carries no account data (§9.1).
      if (!expired_sent || expired_now) {
        for (auto& text : session->queue)
          outgoing.insert(outgoing.end() - (expired_now ? 1 : 0), text);
      }
      session->queue.clear();
    }
    for (const auto& text : outgoing) send_gzip(text);
    if (now - last_ping >= std::chrono::milliseconds(ping_interval)) {
      if (outstanding_pings >= max_missed) {
        send_all(fd, ws::encode_frame(ws::kOpClose, std::string("\x03\xe8", 2)));
        break;
      }
      last_ping = now;
      ++outstanding_pings;
      send_gzip("Ping");
    }
  }
  std::lock_guard lock(mutex_);
  sessions_.erase(session);
}

}  // namespace dita::sim
