// The simulator's HTTP face: routes BingX REST paths to the Exchange, checks API key,
// signature and timestamp, applies per-account rate limits and injected faults, serves the
// admin API, and runs the gzip user-data WebSocket sessions. One mutex guards all state.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "dita/sim/config.hpp"
#include "dita/sim/exchange.hpp"
#include "http_server.hpp"

namespace dita::sim {

class SimService {
 public:
  explicit SimService(SimConfig config);
  ~SimService();
  SimService(const SimService&) = delete;
  SimService& operator=(const SimService&) = delete;

  // Must be called before serving so held/delayed requests can wake on shutdown.
  void attach(HttpServer* server) { server_ = server; }
  // Starts the wall-clock price ticker if tickIntervalMs > 0.
  void start_background();
  void stop_background();

  HttpResponse handle(const HttpRequest& req);
  void websocket(const HttpRequest& req, int fd);

 private:
  struct WsSession {
    std::string api_key;
    std::string listen_key;
    std::mutex mutex;
    std::deque<std::string> queue;  // JSON texts to send
  };

  [[nodiscard]] std::int64_t now_ms() const;
  HttpResponse handle_admin(const HttpRequest& req);
  HttpResponse handle_api(const HttpRequest& req);
  void publish_events();
  std::optional<FaultRule> pick_fault(const std::string& method, const std::string& path);
  bool rate_limited(const std::string& api_key, const std::string& endpoint, std::int64_t now);
  std::uint64_t next_random();
  void reset(const nlohmann::json* patch, std::string& error);

  const SimConfig initial_config_;
  HttpServer* server_ = nullptr;
  std::mutex mutex_;
  std::unique_ptr<Exchange> exchange_;
  SimConfig config_;  // live copy for rate limits, faults and timing knobs
  std::vector<FaultRule> faults_;
  std::map<std::string, std::deque<std::int64_t>> rate_windows_;
  std::uint64_t rng_state_;
  std::set<std::shared_ptr<WsSession>> sessions_;

  std::atomic<bool> background_stop_{false};
  std::thread ticker_;
};

}  // namespace dita::sim
