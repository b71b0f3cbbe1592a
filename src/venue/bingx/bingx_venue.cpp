// BingX venue adapter; see include/dita/venue/bingx/bingx_venue.hpp.
#include "dita/venue/bingx/bingx_venue.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <utility>

#include "dita/venue/bingx/ws_client.hpp"

namespace dita::venue::bingx {
namespace {

constexpr std::string_view kOrderPath = "/openApi/swap/v2/trade/order";
constexpr std::string_view kLeveragePath = "/openApi/swap/v2/trade/leverage";
constexpr std::string_view kOpenOrdersPath = "/openApi/swap/v2/trade/openOrders";
constexpr std::string_view kPositionsPath = "/openApi/swap/v2/user/positions";
constexpr std::string_view kContractsPath = "/openApi/swap/v2/quote/contracts";
constexpr std::string_view kServerTimePath = "/openApi/swap/v2/server/time";
constexpr std::string_view kDualPath = "/openApi/swap/v1/positionSide/dual";
constexpr std::string_view kBalancePath = "/openApi/swap/v3/user/balance";
constexpr std::string_view kListenKeyPath = "/openApi/user/auth/userDataStream";
constexpr std::size_t kMaxDiagnostics = 256;
constexpr int kStreamReadSliceMs = 200;

class Fnv {
 public:
  Fnv& add(std::string_view bytes) {
    for (char c : bytes) {
      hash_ ^= static_cast<std::uint8_t>(c);
      hash_ *= 1099511628211ULL;
    }
    hash_ ^= 0xFFU;  // field separator, so ("ab","c") != ("a","bc")
    hash_ *= 1099511628211ULL;
    return *this;
  }
  Fnv& add(std::int64_t value) {
    for (int i = 0; i < 8; ++i) {
      hash_ ^= static_cast<std::uint8_t>(static_cast<std::uint64_t>(value) >> (8 * i));
      hash_ *= 1099511628211ULL;
    }
    return *this;
  }
  [[nodiscard]] std::uint64_t value() const { return hash_ == 0 ? 1 : hash_; }

 private:
  std::uint64_t hash_ = 14695981039346656037ULL;
};

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool is_terminal(VenueStatus status) {
  return status == VenueStatus::kFilled || status == VenueStatus::kCanceled ||
         status == VenueStatus::kFailed;
}

std::string symbol_text(const core::Symbol& symbol) {
  return std::string(symbol.view());
}

}  // namespace

std::uint64_t fact_event_id(std::int64_t order_id, core::Quantity cumulative, VenueStatus status) {
  return Fnv()
      .add("fact")
      .add(order_id)
      .add(cumulative.units())
      .add(static_cast<std::int64_t>(status))
      .value();
}

// A REST answer, classified once.
struct BingxVenue::Answer {
  ResponseClass cls = ResponseClass::kUnknownOutcome;
  std::int64_t code = 0;
  std::string msg;
  nlohmann::json data;
  std::string problem;  // for logs: what went wrong (redacted before use)
  // The venue code to report: BingX's code, or the HTTP status when there is none.
  [[nodiscard]] std::int32_t venue_code(long http_status) const {
    return static_cast<std::int32_t>(code != 0 ? code : http_status);
  }
};

BingxVenue::BingxVenue(BingxConfig config) : config_(std::move(config)) {
  redactor_.add(config_.api_secret);
  redactor_.add(config_.api_key);
  if (config_.stream_url.empty()) config_.stream_url = stream_url_for(config_.base_url);
  worker_rest_ = std::make_unique<RestClient>(rest_options());
  stream_rest_ = std::make_unique<RestClient>(rest_options());
  sync_rest_ = std::make_unique<RestClient>(rest_options());
  event_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

BingxVenue::~BingxVenue() {
  stop();
  if (event_fd_ >= 0) ::close(event_fd_);
}

RestClientOptions BingxVenue::rest_options() const {
  return RestClientOptions{config_.base_url,           config_.api_key,
                           config_.api_secret,         config_.recv_window_ms,
                           config_.request_timeout_ms, config_.connect_timeout_ms};
}

void BingxVenue::log(LogLevel level, const std::string& text) const {
  const std::string line = redactor_.apply(text);
  if (config_.log) {
    config_.log(level, line);
  } else {
    std::fprintf(stderr, "bingx %s: %s\n", std::string(to_string(level)).c_str(), line.c_str());
  }
}

void BingxVenue::diagnose(const std::string& text) const {
  {
    std::lock_guard lock(stats_mutex_);
    ++stats_.malformed_payloads;
    diagnostics_.push_back(redactor_.apply(text));
    if (diagnostics_.size() > kMaxDiagnostics) diagnostics_.pop_front();
  }
  log(LogLevel::kWarning, text);
}

std::vector<std::string> BingxVenue::diagnostics() const {
  std::lock_guard lock(stats_mutex_);
  return {diagnostics_.begin(), diagnostics_.end()};
}

BingxVenueStats BingxVenue::stats() const {
  std::lock_guard lock(stats_mutex_);
  return stats_;
}

void BingxVenue::set_wakeup(std::function<void()> wake) {
  std::lock_guard lock(events_mutex_);
  wake_ = std::move(wake);
}

bool BingxVenue::wait_for_events(std::int64_t timeout_ms) const {
  {
    std::lock_guard lock(events_mutex_);
    if (!events_.empty()) return true;
  }
  pollfd p{event_fd_, POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(timeout_ms)) > 0;
}

void BingxVenue::push(core::VenueEvent event) {
  std::function<void()> wake;
  {
    std::lock_guard lock(events_mutex_);
    events_.push_back(event);
    wake = wake_;
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto written = ::write(event_fd_, &one, sizeof(one));
  }
  {
    std::lock_guard lock(stats_mutex_);
    ++stats_.events;
  }
  if (wake) wake();
}

void BingxVenue::drain(std::vector<core::VenueEvent>& out) {
  std::lock_guard lock(events_mutex_);
  out.insert(out.end(), events_.begin(), events_.end());
  events_.clear();
  std::uint64_t count = 0;
  [[maybe_unused]] const auto read = ::read(event_fd_, &count, sizeof(count));
}

bool BingxVenue::wait_stop(std::int64_t ms) {
  std::unique_lock lock(stop_mutex_);
  return stop_cv_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return stopping_.load(); });
}

// ---------------------------------------------------------------------------------------
// Start-up and metadata

std::expected<void, Error> BingxVenue::start() {
  if (started_) return {};
  {
    std::lock_guard lock(sync_mutex_);
    const RestResponse time = sync_rest_->call("GET", kServerTimePath, {}, Auth::kNone);
    if (!time.answered()) {
      return std::unexpected(Error{
          redactor_.apply("cannot reach BingX at " + config_.base_url + ": " + time.curl_error)});
    }
    const Answer answer = interpret(time);
    if (answer.cls == ResponseClass::kOk) {
      if (auto server = parse_server_time(answer.data)) {
        const std::int64_t offset = *server - sync_rest_->now_ms();
        for (auto* rest : {worker_rest_.get(), stream_rest_.get(), sync_rest_.get()}) {
          rest->set_clock_offset_ms(offset);
        }
      }
    }
  }
  if (auto mode = detect_position_mode(); !mode) return std::unexpected(mode.error());
  if (auto instruments = fetch_instruments(); !instruments) {
    return std::unexpected(instruments.error());
  }
  stopping_ = false;
  worker_ = std::thread([this] { worker_loop(); });
  if (config_.start_stream) {
    stream_ = std::thread([this] { stream_loop(); });
    // Orders placed before the stream listens are only seen by the reconcile; wait (bounded)
    // for the first connection so the normal path is the stream.
    std::unique_lock lock(stop_mutex_);
    const bool ready =
        stop_cv_.wait_for(lock, std::chrono::milliseconds(2 * config_.connect_timeout_ms + 1000),
                          [&] { return stream_ready_; });
    if (!ready) log(LogLevel::kWarning, "stream not connected yet; continuing with REST only");
  }
  started_ = true;
  log(LogLevel::kInfo, "started: " + config_.base_url + (hedge_ ? " hedge mode" : " one-way mode") +
                           ", key " + key_fingerprint(config_.api_key));
  return {};
}

void BingxVenue::stop() {
  {
    std::lock_guard lock(stop_mutex_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  { std::lock_guard lock(commands_mutex_); }
  commands_cv_.notify_all();
  if (worker_.joinable()) worker_.join();
  if (stream_.joinable()) stream_.join();
  started_ = false;
}

std::expected<bool, Error> BingxVenue::detect_position_mode() {
  std::lock_guard lock(sync_mutex_);
  const RestResponse response = sync_rest_->call("GET", kDualPath, {}, Auth::kSigned);
  const Answer answer = interpret(response);
  if (answer.cls != ResponseClass::kOk) {
    return std::unexpected(Error{redactor_.apply("position mode query failed: " + answer.problem)});
  }
  auto hedge = parse_dual_side_position(answer.data);
  if (!hedge) {
    return std::unexpected(Error{"position mode answer malformed: " + hedge.error().describe()});
  }
  hedge_ = *hedge;
  return *hedge;
}

std::expected<std::vector<core::Instrument>, Error> BingxVenue::fetch_instruments() {
  std::lock_guard lock(sync_mutex_);
  const RestResponse response = sync_rest_->call("GET", kContractsPath, {}, Auth::kNone);
  const Answer answer = interpret(response);
  if (answer.cls != ResponseClass::kOk) {
    return std::unexpected(Error{redactor_.apply("contracts query failed: " + answer.problem)});
  }
  auto instruments = parse_contracts(answer.data);
  if (!instruments) {
    return std::unexpected(Error{"contracts answer malformed: " + instruments.error().describe()});
  }
  std::lock_guard instruments_lock(instruments_mutex_);
  instruments_ = *instruments;
  return *instruments;
}

std::vector<core::Instrument> BingxVenue::instruments() const {
  std::lock_guard lock(instruments_mutex_);
  return instruments_;
}

std::expected<core::Money, Error> BingxVenue::fetch_balance() {
  std::lock_guard lock(sync_mutex_);
  const Answer answer = interpret(sync_rest_->call("GET", kBalancePath, {}, Auth::kSigned));
  if (answer.cls != ResponseClass::kOk) {
    return std::unexpected(Error{redactor_.apply("balance query failed: " + answer.problem)});
  }
  auto balance = parse_usdt_balance(answer.data);
  if (!balance)
    return std::unexpected(Error{"balance answer malformed: " + balance.error().describe()});
  return *balance;
}

void BingxVenue::set_mark(const core::Symbol& /*symbol*/, core::Price /*price*/) {}

// ---------------------------------------------------------------------------------------
// Answers and ids

BingxVenue::Answer BingxVenue::interpret(const RestResponse& response) const {
  Answer answer;
  if (!response.answered()) {
    answer.cls = ResponseClass::kUnknownOutcome;
    answer.problem = "no answer (" + response.curl_error +
                     (response.resend_blocked ? "; transport re-send refused" : "") + ")";
    return answer;
  }
  auto envelope = parse_envelope(response.body);
  if (!envelope) {
    answer.cls = classify(response.http_status, 0);
    // HTTP 200 with an unreadable body: the request may have been executed.
    if (answer.cls == ResponseClass::kOk || answer.cls == ResponseClass::kRejected) {
      answer.cls =
          response.http_status == 200 ? ResponseClass::kUnknownOutcome : ResponseClass::kRejected;
    }
    answer.problem = "HTTP " + std::to_string(response.http_status) + ", unreadable body (" +
                     envelope.error().describe() + ")";
    return answer;
  }
  answer.code = envelope->code;
  answer.msg = envelope->msg;
  answer.data = std::move(envelope->data);
  answer.cls = classify(response.http_status, answer.code);
  answer.problem = "HTTP " + std::to_string(response.http_status) + " code " +
                   std::to_string(answer.code) + " " + answer.msg.substr(0, 200);
  return answer;
}

std::string BingxVenue::client_text(const core::ClientOrderId& id) const {
  core::ClientOrderIdText text{};
  const std::size_t length = core::format_client_order_id(config_.order_id_prefix, id, text);
  return std::string(text.data(), length);
}

std::optional<core::ClientOrderId> BingxVenue::parse_client(std::string_view text) const {
  return core::parse_client_order_id(config_.order_id_prefix, text);
}

void BingxVenue::track(const core::VenueCommand& command) {
  const std::string client = client_text(command.order);
  std::lock_guard lock(orders_mutex_);
  Tracked& tracked = orders_[client];
  tracked.id = command.order;
  tracked.symbol = command.symbol;
  if (command.venue_order_id > 0 && tracked.order_id == 0) {
    tracked.order_id = command.venue_order_id;
    by_venue_id_[command.venue_order_id] = client;
  }
}

std::optional<core::VenueEvent> BingxVenue::fact_event(core::KernelEventKind kind,
                                                       const OrderFacts& facts,
                                                       std::optional<core::Money> fee_override,
                                                       core::KernelCommandType command) {
  std::lock_guard lock(orders_mutex_);
  std::string client = facts.client_order_id;
  if (client.empty()) {
    // The stream often leaves `c` blank (§9.2): recognise the order by its venue id.
    const auto known = by_venue_id_.find(facts.order_id);
    if (known == by_venue_id_.end()) return std::nullopt;
    client = known->second;
  }
  auto it = orders_.find(client);
  if (it == orders_.end()) {
    // An order of this kernel we did not send in this process (restart): track it.
    const auto id = parse_client(client);
    if (!id) return std::nullopt;
    const auto symbol = core::Symbol::parse(facts.symbol);
    Tracked tracked;
    tracked.id = *id;
    if (symbol) tracked.symbol = *symbol;
    it = orders_.emplace(client, tracked).first;
  }
  Tracked& tracked = it->second;
  if (tracked.order_id == 0) {
    tracked.order_id = facts.order_id;
    by_venue_id_[facts.order_id] = client;
  }
  if (facts.cumulative_filled > tracked.reported) tracked.reported = facts.cumulative_filled;
  if (is_terminal(facts.status)) tracked.terminal = true;

  core::VenueEvent event;
  event.kind = kind;
  event.event_id = fact_event_id(facts.order_id, facts.cumulative_filled, facts.status);
  event.slot = tracked.id.slot;
  event.order = tracked.id;
  event.venue_order_id = facts.order_id;
  event.cumulative_filled = facts.cumulative_filled;
  event.average_price = facts.cumulative_filled.is_positive() ? facts.average_price : core::Price{};
  event.cumulative_fee = fee_override.value_or(facts.cumulative_fee.value_or(tracked.fee_sum));
  event.status = to_order_status(facts.status);
  event.command = command;
  event.symbol = tracked.symbol;
  return event;
}

core::VenueEvent BingxVenue::plain_event(core::KernelEventKind kind,
                                         const core::VenueCommand& command, std::int64_t venue_code,
                                         std::string_view tag) {
  core::VenueEvent event;
  event.kind = kind;
  event.event_id = Fnv()
                       .add(tag)
                       .add(client_text(command.order))
                       .add(venue_code)
                       .add(static_cast<std::int64_t>(sequence_.fetch_add(1)))
                       .value();
  event.slot = command.slot;
  event.order = command.order;
  event.venue_order_id = command.venue_order_id;
  event.command = command.type;
  event.venue_code = static_cast<std::int32_t>(venue_code);
  event.symbol = command.symbol;
  return event;
}

// ---------------------------------------------------------------------------------------
// Commands (worker thread)

void BingxVenue::submit(const core::VenueCommand& command, std::int64_t now_ns) {
  {
    std::lock_guard lock(commands_mutex_);
    commands_.push_back(Pending{command, now_ns});
  }
  {
    std::lock_guard lock(stats_mutex_);
    ++stats_.commands;
  }
  commands_cv_.notify_one();
}

void BingxVenue::worker_loop() {
  while (true) {
    Pending pending;
    {
      std::unique_lock lock(commands_mutex_);
      commands_cv_.wait(lock, [&] { return stopping_.load() || !commands_.empty(); });
      if (commands_.empty()) return;  // stopping with nothing left
      if (stopping_) return;          // commands not sent are simply not sent
      pending = commands_.front();
      commands_.pop_front();
    }
    switch (pending.command.type) {
      case core::KernelCommandType::kPlaceOrder:
        place(pending);
        break;
      case core::KernelCommandType::kCancelOrder:
        cancel(pending);
        break;
      case core::KernelCommandType::kQueryOrder:
        query(pending.command, pending.now_ns, "kernel query");
        break;
    }
  }
}

// An entry trades at the leverage its intent asked for: BingX keeps leverage per symbol and
// position side, so it is set (once per change) before the order. If the venue refuses or
// throttles that, the order is not placed and the kernel hears a reject or RATE_LIMITED.
bool BingxVenue::ensure_leverage(const core::VenueCommand& command, const std::string& client) {
  const std::string side = hedge_ ? std::string(core::to_string(command.position_side)) : "BOTH";
  const std::string key = symbol_text(command.symbol) + "/" + side;
  const auto known = leverage_set_.find(key);
  if (known != leverage_set_.end() && known->second == command.leverage) return true;
  QueryParams params;
  params.push_back({"symbol", symbol_text(command.symbol)});
  params.push_back({"side", side});
  params.push_back({"leverage", std::to_string(command.leverage)});
  const RestResponse response =
      worker_rest_->call("POST", kLeveragePath, std::move(params), Auth::kSigned, true);
  const Answer answer = interpret(response);
  if (answer.cls == ResponseClass::kOk) {
    leverage_set_[key] = command.leverage;
    return true;
  }
  const bool throttled = answer.cls == ResponseClass::kRateLimited;
  log(LogLevel::kWarning, "place " + client + ": setting leverage " +
                              std::to_string(command.leverage) + " failed (" + answer.problem +
                              "); the order is not sent");
  core::VenueEvent event = plain_event(
      throttled ? core::KernelEventKind::kRateLimited : core::KernelEventKind::kOrderReject,
      command, answer.venue_code(response.http_status), throttled ? "ratelimit" : "reject");
  if (throttled) event.retry_after_ms = -1;
  push(event);
  std::lock_guard lock(orders_mutex_);
  orders_[client].terminal = true;
  return false;
}

void BingxVenue::place(const Pending& pending) {
  const core::VenueCommand& command = pending.command;
  const std::string client = client_text(command.order);
  track(command);
  if (!command.reduce_only && !ensure_leverage(command, client)) return;
  QueryParams params;
  params.push_back({"symbol", symbol_text(command.symbol)});
  params.push_back({"side", std::string(core::to_string(command.side))});
  params.push_back({"type", std::string(core::to_string(command.order_type))});
  params.push_back({"quantity", core::to_string(command.quantity)});
  params.push_back({"clientOrderId", client});
  if (hedge_) {
    params.push_back({"positionSide", std::string(core::to_string(command.position_side))});
  } else {
    params.push_back({"positionSide", "BOTH"});
    // reduceOnly is forbidden in hedge mode; in one-way mode it keeps an exit an exit.
    if (command.reduce_only) params.push_back({"reduceOnly", "true"});
  }
  if (command.order_type == core::OrderType::kLimit) {
    params.push_back({"price", core::to_string(command.price)});
    params.push_back({"timeInForce", "GTC"});
  }
  {
    std::lock_guard lock(stats_mutex_);
    ++stats_.places_sent;
  }
  const RestResponse response =
      worker_rest_->call("POST", kOrderPath, std::move(params), Auth::kSigned, false);
  if (response.resend_blocked) {
    std::lock_guard lock(stats_mutex_);
    ++stats_.resends_blocked;
  }
  const Answer answer = interpret(response);
  switch (answer.cls) {
    case ResponseClass::kOk: {
      auto ack = parse_place_ack(answer.data);
      if (!ack) {
        diagnose("place " + client + ": ack malformed (" + ack.error().describe() +
                 "); querying the order");
        break;  // falls through to the unknown-outcome query below
      }
      OrderFacts facts;
      facts.order_id = ack->order_id;
      facts.client_order_id = client;
      facts.symbol = symbol_text(command.symbol);
      facts.status = VenueStatus::kNew;
      if (auto event = fact_event(core::KernelEventKind::kAck, facts, core::Money{},
                                  core::KernelCommandType::kPlaceOrder)) {
        push(*event);
      }
      return;
    }
    case ResponseClass::kRateLimited: {
      log(LogLevel::kWarning, "place " + client + " rate limited: " + answer.problem);
      core::VenueEvent event = plain_event(core::KernelEventKind::kRateLimited, command,
                                           answer.venue_code(response.http_status), "ratelimit");
      event.retry_after_ms = -1;  // BingX sends no Retry-After (§8)
      push(event);
      std::lock_guard lock(orders_mutex_);
      orders_[client].terminal = true;
      return;
    }
    case ResponseClass::kRejected:
    case ResponseClass::kAuth:
    case ResponseClass::kNotFound:
    case ResponseClass::kNotCancellable: {
      log(LogLevel::kWarning, "place " + client + " rejected: " + answer.problem);
      push(plain_event(core::KernelEventKind::kOrderReject, command,
                       answer.venue_code(response.http_status), "reject"));
      std::lock_guard lock(orders_mutex_);
      orders_[client].terminal = true;
      return;
    }
    case ResponseClass::kUnknownOutcome:
    case ResponseClass::kDuplicateClientOrderId:
      break;
  }
  {
    std::lock_guard lock(stats_mutex_);
    ++stats_.unknown_outcomes;
  }
  log(LogLevel::kWarning,
      "place " + client + " outcome unknown (" + answer.problem + "); querying, not re-sending");
  query(command, pending.now_ns, "unknown place outcome");
}

void BingxVenue::cancel(const Pending& pending) {
  const core::VenueCommand& command = pending.command;
  const std::string client = client_text(command.order);
  track(command);
  std::int64_t order_id = command.venue_order_id;
  if (order_id == 0) {
    std::lock_guard lock(orders_mutex_);
    if (auto it = orders_.find(client); it != orders_.end()) order_id = it->second.order_id;
  }
  QueryParams params{{"symbol", symbol_text(command.symbol)}};
  if (order_id > 0) {
    params.push_back({"orderId", std::to_string(order_id)});
  } else {
    params.push_back({"clientOrderId", client});
  }
  {
    std::lock_guard lock(stats_mutex_);
    ++stats_.cancels_sent;
  }
  const RestResponse response =
      worker_rest_->call("DELETE", kOrderPath, std::move(params), Auth::kSigned, false);
  const Answer answer = interpret(response);
  switch (answer.cls) {
    case ResponseClass::kOk: {
      auto facts = parse_order_data(answer.data);
      if (!facts) {
        diagnose("cancel " + client + ": answer malformed (" + facts.error().describe() +
                 "); querying the order");
        query(command, pending.now_ns, "malformed cancel answer");
        return;
      }
      if (facts->client_order_id.empty()) facts->client_order_id = client;
      core::Quantity reported;
      {
        std::lock_guard lock(orders_mutex_);
        reported = orders_[client].reported;
      }
      // A cancel answer that also shows fills we never reported carries both facts.
      const bool plain_cancel =
          facts->status == VenueStatus::kCanceled && !(facts->cumulative_filled > reported);
      if (auto event = fact_event(plain_cancel ? core::KernelEventKind::kCancelAck
                                               : core::KernelEventKind::kOrderStatus,
                                  *facts, std::nullopt, core::KernelCommandType::kCancelOrder)) {
        push(*event);
      }
      return;
    }
    case ResponseClass::kRateLimited: {
      log(LogLevel::kWarning, "cancel " + client + " rate limited: " + answer.problem);
      core::VenueEvent event = plain_event(core::KernelEventKind::kRateLimited, command,
                                           answer.venue_code(response.http_status), "ratelimit");
      event.retry_after_ms = -1;
      push(event);
      return;
    }
    case ResponseClass::kUnknownOutcome:
      log(LogLevel::kWarning,
          "cancel " + client + " outcome unknown (" + answer.problem + "); querying the order");
      query(command, pending.now_ns, "unknown cancel outcome");
      return;
    default:
      // Not cancellable (filled, gone, repeated): the kernel answers CANCEL_REJECT with a
      // targeted query command, which the worker then runs.
      log(LogLevel::kInfo, "cancel " + client + " refused: " + answer.problem);
      push(plain_event(core::KernelEventKind::kCancelReject, command,
                       answer.venue_code(response.http_status), "cancelreject"));
      return;
  }
}

void BingxVenue::query(const core::VenueCommand& command, std::int64_t /*now_ns*/,
                       std::string_view reason) {
  const std::string client = client_text(command.order);
  track(command);
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (attempt > 0 && wait_stop(200 * attempt)) return;
    // By client id: after a lost place answer the venue id is unknown, and the client id
    // is the identity that never creates a second order.
    QueryParams params{{"symbol", symbol_text(command.symbol)}, {"clientOrderId", client}};
    {
      std::lock_guard lock(stats_mutex_);
      ++stats_.queries_sent;
    }
    const RestResponse response =
        worker_rest_->call("GET", kOrderPath, std::move(params), Auth::kSigned);
    const Answer answer = interpret(response);
    switch (answer.cls) {
      case ResponseClass::kOk: {
        auto facts = parse_order_data(answer.data);
        if (!facts) {
          diagnose("query " + client + ": answer malformed (" + facts.error().describe() + ")");
          return;  // the kernel queries again on its own schedule
        }
        if (facts->client_order_id.empty()) facts->client_order_id = client;
        if (auto event = fact_event(core::KernelEventKind::kOrderStatus, *facts, std::nullopt,
                                    core::KernelCommandType::kQueryOrder)) {
          push(*event);
        }
        return;
      }
      case ResponseClass::kNotFound: {
        log(LogLevel::kInfo, "query " + client + " (" + std::string(reason) +
                                 "): venue says not found; weak evidence for the kernel");
        core::VenueEvent event =
            plain_event(core::KernelEventKind::kOrderStatus, command, answer.code, "notfound");
        event.status = core::OrderStatus::kNotFound;
        event.venue_order_id = 0;
        push(event);
        return;
      }
      case ResponseClass::kRateLimited: {
        core::VenueEvent event = plain_event(core::KernelEventKind::kRateLimited, command,
                                             answer.venue_code(response.http_status), "ratelimit");
        event.command = core::KernelCommandType::kQueryOrder;
        event.retry_after_ms = -1;
        push(event);
        return;
      }
      case ResponseClass::kUnknownOutcome:
        log(LogLevel::kWarning, "query " + client + " failed (" + answer.problem + "); retrying");
        continue;  // reads are safe to repeat
      default:
        log(LogLevel::kWarning, "query " + client + " refused: " + answer.problem);
        return;
    }
  }
  log(LogLevel::kWarning,
      "query " + client + " gave no answer; the kernel's next query will try again");
}

// ---------------------------------------------------------------------------------------
// Venue truth (caller's thread)

std::expected<VenueTruth, TruthError> BingxVenue::fetch_truth(const TruthRequest& request) {
  std::lock_guard lock(sync_mutex_);
  const auto failure = [this](const std::string& what) {
    return std::unexpected(TruthError{redactor_.apply(what)});
  };
  VenueTruth truth;
  truth.netting = !hedge_.load();
  // Targeted queries by client order id: the identity that survives a lost place answer.
  for (const OrderQuery& query : request.orders) {
    const std::string client = client_text(query.id);
    core::VenueCommand asked;
    asked.type = core::KernelCommandType::kQueryOrder;
    asked.slot = query.id.slot;
    asked.order = query.id;
    asked.symbol = query.symbol;
    asked.venue_order_id = query.venue_order_id;
    track(asked);
    const Answer answer = interpret(sync_rest_->call(
        "GET", kOrderPath, {{"symbol", symbol_text(query.symbol)}, {"clientOrderId", client}},
        Auth::kSigned));
    if (answer.cls == ResponseClass::kNotFound) {
      core::VenueEvent event =
          plain_event(core::KernelEventKind::kOrderStatus, asked, answer.code, "notfound");
      event.status = core::OrderStatus::kNotFound;
      event.venue_order_id = 0;
      truth.orders.push_back(event);
      continue;
    }
    if (answer.cls != ResponseClass::kOk) {
      return failure("order query " + client + " failed: " + answer.problem);
    }
    auto facts = parse_order_data(answer.data);
    if (!facts) return failure("order query " + client + " malformed: " + facts.error().describe());
    if (facts->client_order_id.empty()) facts->client_order_id = client;
    if (auto event = fact_event(core::KernelEventKind::kOrderStatus, *facts, std::nullopt,
                                core::KernelCommandType::kQueryOrder)) {
      truth.orders.push_back(*event);
    }
  }
  const Answer positions = interpret(sync_rest_->call("GET", kPositionsPath, {}, Auth::kSigned));
  if (positions.cls != ResponseClass::kOk) {
    return failure("positions query failed: " + positions.problem);
  }
  auto list = parse_positions(positions.data);
  if (!list) return failure("positions malformed: " + list.error().describe());
  for (const PositionFacts& facts : *list) {
    auto symbol = core::Symbol::parse(facts.symbol);
    if (!symbol || facts.amount.is_zero()) continue;
    core::ReconcilePosition position;
    position.symbol = *symbol;
    if (facts.position_side == "LONG" || facts.position_side == "SHORT") {
      position.side = facts.position_side == "LONG" ? core::Side::kLong : core::Side::kShort;
    } else {
      // One-way with BOTH: the sign says the side (§12.6).
      position.side = facts.amount.is_negative() ? core::Side::kShort : core::Side::kLong;
    }
    position.quantity = facts.amount.is_negative() ? -facts.amount : facts.amount;
    position.entry_price = facts.average_price;
    truth.positions.push_back(position);
  }
  const Answer balance = interpret(sync_rest_->call("GET", kBalancePath, {}, Auth::kSigned));
  if (balance.cls != ResponseClass::kOk) return failure("balance query failed: " + balance.problem);
  auto usdt = parse_usdt_balance(balance.data);
  if (!usdt) return failure("balance malformed: " + usdt.error().describe());
  truth.balance = *usdt;
  {
    std::lock_guard stats(stats_mutex_);
    ++stats_.reconciles;
  }
  return truth;
}

// ---------------------------------------------------------------------------------------
// User-data stream (stream thread)

void BingxVenue::request_reconcile() {
  reconcile_requested_ = true;
}

void BingxVenue::reconcile_tracked(RestClient& rest) {
  std::vector<std::pair<std::string, Tracked>> open;
  {
    std::lock_guard lock(orders_mutex_);
    for (const auto& [client, tracked] : orders_) {
      if (!tracked.terminal) open.emplace_back(client, tracked);
    }
  }
  {
    std::lock_guard lock(stats_mutex_);
    ++stats_.reconciles;
  }
  for (const auto& [client, tracked] : open) {
    if (stopping_) return;
    QueryParams params{{"symbol", symbol_text(tracked.symbol)}};
    if (tracked.order_id > 0) {
      params.push_back({"orderId", std::to_string(tracked.order_id)});
    } else {
      params.push_back({"clientOrderId", client});
    }
    const Answer answer = interpret(rest.call("GET", kOrderPath, std::move(params), Auth::kSigned));
    if (answer.cls != ResponseClass::kOk) {
      // Not found or no answer here is not evidence of anything: the kernel's own
      // hung-order queries will ask again.
      log(LogLevel::kInfo, "reconcile " + client + ": " + answer.problem);
      continue;
    }
    auto facts = parse_order_data(answer.data);
    if (!facts) {
      diagnose("reconcile " + client + ": answer malformed (" + facts.error().describe() + ")");
      continue;
    }
    if (facts->client_order_id.empty()) facts->client_order_id = client;
    if (auto event = fact_event(core::KernelEventKind::kOrderStatus, *facts, std::nullopt,
                                core::KernelCommandType::kQueryOrder)) {
      push(*event);
    }
  }
}

void BingxVenue::on_order_update(const StreamMessage& message) {
  const OrderFacts& facts = *message.order;
  core::KernelEventKind kind = core::KernelEventKind::kAck;
  std::optional<core::Money> fee;
  {
    std::lock_guard lock(orders_mutex_);
    std::string client = facts.client_order_id;
    if (client.empty()) {
      if (auto known = by_venue_id_.find(facts.order_id); known != by_venue_id_.end()) {
        client = known->second;
      }
    }
    if (auto it = orders_.find(client); it != orders_.end()) {
      Tracked& tracked = it->second;
      // `n` is this trade's fee; sum it once per new cumulative quantity.
      if (message.last_fee && facts.cumulative_filled > tracked.fee_counted) {
        tracked.fee_sum += *message.last_fee;
        tracked.fee_counted = facts.cumulative_filled;
      }
      fee = tracked.fee_sum;
      if (facts.status == VenueStatus::kCanceled && facts.cumulative_filled > tracked.reported) {
        kind = core::KernelEventKind::kOrderStatus;  // fills we never saw ride on the cancel
      }
    } else if (message.last_fee) {
      fee = message.last_fee;
    }
  }
  switch (facts.status) {
    case VenueStatus::kNew:
      kind = core::KernelEventKind::kAck;
      break;
    case VenueStatus::kPartiallyFilled:
      kind = core::KernelEventKind::kPartialFill;
      break;
    case VenueStatus::kFilled:
      kind = core::KernelEventKind::kFullFill;
      break;
    case VenueStatus::kCanceled:
      if (kind != core::KernelEventKind::kOrderStatus) kind = core::KernelEventKind::kCancelAck;
      break;
    case VenueStatus::kFailed:
      kind = core::KernelEventKind::kOrderReject;
      break;
  }
  if (auto event = fact_event(kind, facts, fee, core::KernelCommandType::kPlaceOrder)) {
    push(*event);
  }
}

void BingxVenue::handle_stream_text(std::string_view text, bool& expired,
                                    WsConnection& connection) {
  auto message = parse_stream_message(text);
  if (!message) {
    diagnose("stream message malformed: " + message.error().describe());
    return;
  }
  switch (message->kind) {
    case StreamKind::kPing:
      if (connection.send_text("Pong")) {
        std::lock_guard lock(stats_mutex_);
        ++stats_.pongs_sent;
      }
      return;
    case StreamKind::kOrderUpdate:
      on_order_update(*message);
      return;
    case StreamKind::kListenKeyExpired: {
      std::lock_guard lock(stats_mutex_);
      ++stats_.listen_keys_expired;
      expired = true;
      return;
    }
    default:
      return;  // account/config updates: the kernel's account is seeded, not streamed
  }
}

void BingxVenue::stream_loop() {
  RestClient& rest = *stream_rest_;
  std::int64_t backoff = config_.reconnect_backoff_ms;
  bool first = true;
  while (!stopping_) {
    const RestResponse created = rest.call("POST", kListenKeyPath, {}, Auth::kKeyOnly);
    std::optional<std::string> listen_key;
    if (created.answered() && created.http_status == 200) {
      if (auto key = parse_listen_key(created.body)) {
        listen_key = *key;
      } else {
        diagnose("listen key answer malformed: " + key.error().describe());
      }
    } else {
      log(LogLevel::kWarning, "listen key creation failed: " + interpret(created).problem);
    }
    std::unique_ptr<WsConnection> connection;
    if (listen_key) {
      auto endpoint = parse_ws_url(config_.stream_url);
      if (!endpoint) {
        log(LogLevel::kError, "stream URL unusable: " + endpoint.error());
      } else {
        endpoint->target += (endpoint->target.find('?') == std::string::npos ? "?" : "&");
        endpoint->target += "listenKey=" + *listen_key;
        auto opened = WsConnection::open(*endpoint, static_cast<int>(config_.connect_timeout_ms));
        if (opened) {
          connection = std::move(*opened);
        } else {
          log(LogLevel::kWarning, "stream connect failed: " + opened.error());
        }
      }
    }
    if (!connection) {
      if (wait_stop(backoff)) return;
      backoff = std::min(backoff * 2, config_.reconnect_backoff_max_ms);
      continue;
    }
    {
      std::lock_guard lock(stats_mutex_);
      ++stats_.stream_connects;
      if (!first) ++stats_.stream_reconnects;
    }
    log(LogLevel::kInfo, first ? "stream connected" : "stream reconnected; reconciling over REST");
    first = false;
    backoff = config_.reconnect_backoff_ms;
    // Whatever happened while no stream was listening is only visible over REST.
    reconcile_tracked(rest);
    {
      std::lock_guard lock(stop_mutex_);
      stream_ready_ = true;
    }
    stop_cv_.notify_all();
    std::int64_t last_frame = steady_ms();
    std::int64_t last_keepalive = last_frame;
    bool expired = false;
    while (!stopping_ && !expired) {
      if (reconcile_requested_.exchange(false)) reconcile_tracked(rest);
      std::string text;
      std::string error;
      const auto read = connection->read_message(text, kStreamReadSliceMs, error);
      const std::int64_t now = steady_ms();
      if (read == WsConnection::Read::kMessage) {
        last_frame = now;
        handle_stream_text(text, expired, *connection);
      } else if (read == WsConnection::Read::kTimeout) {
        if (now - last_frame > config_.stream_silence_ms) {
          log(LogLevel::kWarning, "stream silent too long; reconnecting");
          break;
        }
      } else {
        if (read == WsConnection::Read::kError) diagnose("stream protocol error: " + error);
        log(LogLevel::kWarning, "stream closed; reconnecting");
        break;
      }
      if (now - last_keepalive >= config_.listen_key_keepalive_ms) {
        last_keepalive = now;
        const RestResponse extended =
            rest.call("PUT", kListenKeyPath, {{"listenKey", *listen_key}}, Auth::kKeyOnly);
        if (extended.answered() && extended.http_status == 404) {
          log(LogLevel::kWarning, "listen key unknown to the venue; reconnecting");
          break;
        }
      }
    }
    if (expired) log(LogLevel::kWarning, "listen key expired; reconnecting with a new key");
    connection->close();
    if (stopping_) return;
    if (wait_stop(backoff)) return;
  }
}

}  // namespace dita::venue::bingx
