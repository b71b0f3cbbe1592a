// dita/venue/bingx/config.hpp
//
// Owns the BingX adapter's configuration: where to connect (VST by default, the live host
// only with an explicit opt-in), the credentials (environment or a 0600 key file), the
// timeouts and stream timings, and the one rule for secrets: they live in memory only and
// every text the adapter emits (log line, error message, status) passes through a
// Redactor that replaces them.
//
// Environment (read by load_bingx_config):
//   DITA_V2_BINGX_BASE_URL     REST base URL; default https://open-api-vst.bingx.com (VST)
//   DITA_V2_BINGX_WS_URL       user-data stream URL; default derived from the base URL
//   DITA_V2_BINGX_API_KEY      API key
//   DITA_V2_BINGX_API_SECRET   API secret
//   DITA_V2_BINGX_KEY_FILE     file with `api_key=...` and `api_secret=...` lines, mode 0600
//   DITA_V2_BINGX_ALLOW_LIVE   "1" to allow the live host (open-api.bingx.com/.io/.pro)
//   DITA_V2_BINGX_RECV_WINDOW_MS, DITA_V2_BINGX_TIMEOUT_MS (optional)
#pragma once

#include <cstdint>
#include <expected>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dita::venue::bingx {

inline constexpr std::string_view kVstBaseUrl = "https://open-api-vst.bingx.com";
inline constexpr std::string_view kLiveBaseUrl = "https://open-api.bingx.com";
inline constexpr std::string_view kVstStreamUrl = "wss://vst-open-api-ws.bingx.com/swap-market";
inline constexpr std::string_view kLiveStreamUrl = "wss://open-api-swap.bingx.com/swap-market";

enum class LogLevel : std::uint8_t { kDebug, kInfo, kWarning, kError };
std::string_view to_string(LogLevel level);

// Receives every adapter log line, already redacted. Called from adapter threads.
using LogSink = std::function<void(LogLevel, std::string_view)>;

struct Error {
  std::string message;  // redacted; names the setting or the venue answer
};

// Replaces every occurrence of a registered secret with "<redacted>".
class Redactor {
 public:
  void add(std::string_view secret);
  [[nodiscard]] std::string apply(std::string_view text) const;

 private:
  std::vector<std::string> secrets_;
};

struct BingxConfig {
  std::string base_url = std::string(kVstBaseUrl);
  std::string stream_url;  // empty: derived from base_url (stream_url_for)
  std::string api_key;
  std::string api_secret;
  bool allow_live = false;
  std::string order_id_prefix = "dita";  // the kernel's prefix: ids are parsed with it
  std::int64_t recv_window_ms = 5000;
  std::int64_t request_timeout_ms = 5000;
  std::int64_t connect_timeout_ms = 3000;
  std::int64_t listen_key_keepalive_ms = 30 * 60 * 1000;  // BingX: extend every 30 minutes
  std::int64_t stream_silence_ms = 30'000;                // no frame at all this long: reconnect
  std::int64_t reconnect_backoff_ms = 500;                // first retry; doubles up to the max
  std::int64_t reconnect_backoff_max_ms = 30'000;
  bool start_stream = true;  // false: REST only (smoke --no-stream, some tests)
  LogSink log;               // empty: lines go to stderr
};

// Derives the user-data stream URL: the VST and live hosts map to their stream hosts;
// any other http(s)://host:port maps to ws(s)://host:port/swap-market (the simulator).
std::string stream_url_for(std::string_view base_url);

// True when `base_url` names a live BingX host (trading real money).
bool is_live_host(std::string_view base_url);

// Checks what can be checked offline: URL scheme, live opt-in, key and secret present.
std::expected<void, Error> validate(const BingxConfig& config);

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup process_env_lookup();

// Reads the DITA_V2_BINGX_* variables (and the key file) into a validated config.
std::expected<BingxConfig, Error> load_bingx_config(const EnvLookup& env);

// `api_key=...`/`api_secret=...` lines (DITA_V2_BINGX_API_KEY=... also accepted); the file
// must not be readable by group or others.
std::expected<std::pair<std::string, std::string>, Error> read_key_file(const std::string& path);

// "abcd…wxyz"-style fingerprint safe to print: first 4 characters and the length.
std::string key_fingerprint(std::string_view key);

}  // namespace dita::venue::bingx
