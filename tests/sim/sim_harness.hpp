// Test harness for dita-bingx-sim: starts the executable on port 0 as a child process,
// reads its `listening HOST:PORT` line, and offers signed HTTP calls (libcurl) and a tiny
// WebSocket client for the gzip user-data stream.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dita/venue/bingx/signer.hpp"

namespace dita::sim::testing {

struct HttpResult {
  int curl_code = 0;  // CURLE_OK == 0
  long status = 0;
  std::string body;
  [[nodiscard]] nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
};

class SimProcess {
 public:
  // `config_json` is written to a temp file and passed with --config (empty = defaults).
  explicit SimProcess(const std::string& config_json = "", std::vector<std::string> extra = {});
  ~SimProcess();
  SimProcess(const SimProcess&) = delete;
  SimProcess& operator=(const SimProcess&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] std::string base_url() const;
  // Sends SIGTERM and returns the exit status (0 on a clean shutdown).
  int stop();

 private:
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::string config_path_;
};

HttpResult http(const std::string& method, const std::string& url,
                const std::vector<std::string>& headers = {}, const std::string& body = "",
                long timeout_ms = 10000);

[[nodiscard]] std::int64_t wall_ms();

inline constexpr const char* kApiKey = "sim-key";
inline constexpr const char* kSecret = "sim-secret-0123456789abcdef";

// Signs `params` (adds timestamp) and sends them in the query string like ccxt does.
HttpResult signed_call(const SimProcess& sim, const std::string& method, const std::string& path,
                       venue::bingx::QueryParams params,
                       std::optional<std::int64_t> timestamp = std::nullopt,
                       const std::string& api_key = kApiKey, const std::string& secret = kSecret,
                       long timeout_ms = 10000);

HttpResult admin(const SimProcess& sim, const std::string& method, const std::string& path,
                 const std::string& body = "");

// Minimal RFC 6455 client: connects, handshakes, reads gunzipped messages, sends text.
class WsClient {
 public:
  WsClient(std::uint16_t port, const std::string& target);
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  [[nodiscard]] bool connected() const { return connected_; }
  [[nodiscard]] const std::string& handshake_response() const { return handshake_; }
  // Next decompressed data message, or nullopt on timeout/close.
  std::optional<std::string> next_message(int timeout_ms = 10000);
  // Skips messages until one satisfies `pred`, answering "Ping" with "Pong" on the way.
  std::optional<nlohmann::json> next_event(const std::string& event_type, int timeout_ms = 10000);
  bool send_text(const std::string& text);

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::string handshake_;
  std::string buffer_;
};

}  // namespace dita::sim::testing
