// dita/venue/bingx/bingx_venue.hpp
//
// Owns the BingX venue adapter: kernel VenueCommands become signed REST requests, and REST
// answers plus user-data stream events become normalized core::VenueEvents. It translates,
// it never decides (reference §9): no retries of orders, no invented fills.
//
// Threads. The kernel thread never blocks on the network in submit()/drain(): submit()
// enqueues to a worker thread that does the REST calls; a stream thread keeps the
// user-data WebSocket (listen key create/keepalive/expiry, Ping→Pong, reconnect with
// backoff) and parses ORDER_TRADE_UPDATE. Both push events into one queue that drain()
// empties. To wait for events, poll event_fd() (an eventfd, readable while events are
// queued) or register set_wakeup(); wait_for_events() does the poll for simple loops.
// fetch_truth() is the exception: reconcile asks the venue synchronously (targeted order
// queries, positions, balance) on the caller's thread; a failure returns an error (the
// reconciler retries the run), never a guess.
//
// Event ids (so the kernel's DUPLICATE_EVENT rule sees one venue fact once, whichever
// channel brought it): an event that states an order's state carries
//     event_id = FNV-1a64("fact", orderId, cumulative filled units, status class)
// with status class NEW / PARTIALLY_FILLED / FILLED / CANCELED / FAILED. So the ACK from
// the place answer and the stream's NEW share an id, the stream's FULL_FILL and a REST
// query's ORDER_STATUS FILLED of the same cumulative quantity share an id, and so on.
// Events without a venue fact behind them (place rejects, cancel rejects, RATE_LIMITED,
// ORDER_STATUS NOT_FOUND) hash the client order id, the venue code and a per-adapter
// sequence number, so each answer counts once (the kernel must see repeated NOT_FOUNDs).
//
// Unknown outcomes. A place whose answer is lost (timeout, dropped connection, HTTP 5xx,
// busy codes, unreadable body, duplicate client id) is never re-sent: the adapter queries
// the order by clientOrderId and reports ORDER_STATUS (NOT_FOUND is reported as such and
// the kernel's confirmation rule decides). After every stream (re)connect the adapter
// queries every order it still tracks as open and reports ORDER_STATUS for each.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <expected>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "dita/core/contracts.hpp"
#include "dita/venue/bingx/config.hpp"
#include "dita/venue/bingx/normalizer.hpp"
#include "dita/venue/bingx/rest_client.hpp"
#include "dita/venue/venue.hpp"

namespace dita::venue::bingx {

// The id rule above, exposed for tests and tools.
std::uint64_t fact_event_id(std::int64_t order_id, core::Quantity cumulative, VenueStatus status);

struct BingxVenueStats {
  std::uint64_t commands = 0;
  std::uint64_t places_sent = 0;
  std::uint64_t cancels_sent = 0;
  std::uint64_t queries_sent = 0;
  std::uint64_t unknown_outcomes = 0;
  std::uint64_t resends_blocked = 0;
  std::uint64_t stream_connects = 0;
  std::uint64_t stream_reconnects = 0;
  std::uint64_t listen_keys_expired = 0;
  std::uint64_t pongs_sent = 0;
  std::uint64_t reconciles = 0;
  std::uint64_t malformed_payloads = 0;
  std::uint64_t events = 0;
};

class BingxVenue final : public Venue {
 public:
  explicit BingxVenue(BingxConfig config);
  ~BingxVenue() override;
  BingxVenue(const BingxVenue&) = delete;
  BingxVenue& operator=(const BingxVenue&) = delete;

  // Syncs the clock, detects the position mode, loads contracts and starts the worker and
  // stream threads. Fails with a redacted message if the venue refuses or is unreachable.
  std::expected<void, Error> start();
  // Stops both threads (idempotent; the destructor calls it).
  void stop();

  void submit(const core::VenueCommand& command, std::int64_t now_ns) override;
  void drain(std::vector<core::VenueEvent>& out) override;
  std::expected<VenueTruth, TruthError> fetch_truth(const TruthRequest& request) override;
  // BingX prices its own market orders; marks only matter to the kernel. No-op.
  void set_mark(const core::Symbol& symbol, core::Price price) override;

  // GET quote/contracts -> instruments (step, tick, minimum) for KernelConfig.
  std::expected<std::vector<core::Instrument>, Error> fetch_instruments();
  [[nodiscard]] std::vector<core::Instrument> instruments() const;
  // GET v1 positionSide/dual: true = hedge mode.
  std::expected<bool, Error> detect_position_mode();
  [[nodiscard]] bool hedge_mode() const { return hedge_.load(); }
  // USDT wallet balance (v3 user/balance), to seed the kernel's capital.
  std::expected<core::Money, Error> fetch_balance();

  // Readable (POLLIN) while events are queued; drain() resets it.
  [[nodiscard]] int event_fd() const { return event_fd_; }
  // Called from an adapter thread after events were queued. Set before start().
  void set_wakeup(std::function<void()> wake);
  // Waits until events are queued or the timeout passes; true if events are ready.
  bool wait_for_events(std::int64_t timeout_ms) const;
  // Asks the stream thread to query every tracked open order now (as after a reconnect).
  void request_reconcile();

  [[nodiscard]] BingxVenueStats stats() const;
  // The last adapter diagnostics (malformed payloads, refused requests), redacted.
  [[nodiscard]] std::vector<std::string> diagnostics() const;
  [[nodiscard]] const BingxConfig& config() const { return config_; }

 private:
  struct Pending {
    core::VenueCommand command;
    std::int64_t now_ns = 0;
  };
  struct Tracked {
    core::ClientOrderId id;
    core::Symbol symbol;
    std::int64_t order_id = 0;
    core::Quantity reported;  // largest cumulative quantity reported to the kernel
    core::Quantity fee_counted;
    core::Money fee_sum;  // stream fees (`n` per trade), summed by cumulative quantity
    bool terminal = false;
  };
  struct Answer;

  void worker_loop();
  void stream_loop();
  void place(const Pending& pending);
  bool ensure_leverage(const core::VenueCommand& command, const std::string& client);
  void cancel(const Pending& pending);
  void query(const core::VenueCommand& command, std::int64_t now_ns, std::string_view reason);
  void reconcile_tracked(RestClient& rest);
  void handle_stream_text(std::string_view text, bool& expired, class WsConnection& connection);
  void on_order_update(const StreamMessage& message);

  Answer interpret(const RestResponse& response) const;
  std::string client_text(const core::ClientOrderId& id) const;
  std::optional<core::ClientOrderId> parse_client(std::string_view text) const;
  void track(const core::VenueCommand& command);
  // Event for an order fact; updates the tracked order. Returns nothing for orders that
  // are not this kernel's.
  std::optional<core::VenueEvent> fact_event(core::KernelEventKind kind, const OrderFacts& facts,
                                             std::optional<core::Money> fee_override,
                                             core::KernelCommandType command);
  core::VenueEvent plain_event(core::KernelEventKind kind, const core::VenueCommand& command,
                               std::int64_t venue_code, std::string_view tag);
  void push(core::VenueEvent event);
  void log(LogLevel level, const std::string& text) const;
  void diagnose(const std::string& text) const;
  bool wait_stop(std::int64_t ms);
  RestClientOptions rest_options() const;

  BingxConfig config_;
  Redactor redactor_;
  std::unique_ptr<RestClient> worker_rest_;
  std::unique_ptr<RestClient> stream_rest_;
  std::unique_ptr<RestClient> sync_rest_;
  mutable std::mutex sync_mutex_;  // guards sync_rest_ (start, truth, fetch_*)

  std::atomic<bool> hedge_{false};
  mutable std::mutex instruments_mutex_;
  std::vector<core::Instrument> instruments_;

  std::mutex commands_mutex_;
  std::condition_variable commands_cv_;
  std::deque<Pending> commands_;

  mutable std::mutex events_mutex_;
  std::vector<core::VenueEvent> events_;
  int event_fd_ = -1;
  std::function<void()> wake_;

  // Leverage the venue last confirmed per "SYMBOL/SIDE", touched only by the worker thread.
  std::map<std::string, std::uint16_t> leverage_set_;

  std::mutex orders_mutex_;
  std::map<std::string, Tracked> orders_;            // by client order id text
  std::map<std::int64_t, std::string> by_venue_id_;  // venue order id -> client text

  std::atomic<bool> stopping_{false};
  std::atomic<bool> reconcile_requested_{false};
  std::mutex stop_mutex_;
  std::condition_variable stop_cv_;
  bool stream_ready_ = false;  // guarded by stop_mutex_
  std::thread worker_;
  std::thread stream_;
  bool started_ = false;

  std::atomic<std::uint64_t> sequence_{1};
  mutable std::mutex stats_mutex_;
  mutable BingxVenueStats stats_;
  mutable std::deque<std::string> diagnostics_;
};

}  // namespace dita::venue::bingx
