// dita/venue/bingx/rest_client.hpp
//
// Owns BingX REST transport: one libcurl easy handle per client (so the TCP/TLS connection
// is reused between calls), timeouts, the X-BX-APIKEY header, and request signing in the
// form ccxt proves in production (every parameter, ASCII-sorted, in the query string, empty
// body). A client is used by one thread at a time; the adapter gives each thread its own.
//
// Non-idempotent requests (place, cancel) are never re-sent by the transport: libcurl
// silently retries a request whose reused connection died before any answer byte, and a
// CURLOPT_PREREQFUNCTION guard aborts that second send, so the caller sees an unknown
// outcome and resolves it by a query instead.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "dita/venue/bingx/signer.hpp"

namespace dita::venue::bingx {

struct RestResponse {
  int curl_code = 0;       // CURLE_OK == 0
  std::string curl_error;  // curl's text for curl_code (never contains the URL or headers)
  long http_status = 0;    // 0 when no answer arrived
  std::string body;
  std::int64_t elapsed_us = 0;
  bool resend_blocked = false;  // the transport wanted to re-send and was stopped
  [[nodiscard]] bool answered() const { return curl_code == 0 && http_status != 0; }
};

enum class Auth : std::uint8_t {
  kNone,     // public market data
  kKeyOnly,  // X-BX-APIKEY header, no signature (listen keys)
  kSigned,   // header + timestamp + recvWindow + signature
};

struct RestClientOptions {
  std::string base_url;
  std::string api_key;
  std::string api_secret;
  std::int64_t recv_window_ms = 5000;
  std::int64_t timeout_ms = 5000;
  std::int64_t connect_timeout_ms = 3000;
};

class RestClient {
 public:
  explicit RestClient(RestClientOptions options);
  ~RestClient();
  RestClient(const RestClient&) = delete;
  RestClient& operator=(const RestClient&) = delete;

  // `idempotent=false` forbids the transport's own re-send (see the header comment).
  RestResponse call(std::string_view method, std::string_view path, QueryParams params, Auth auth,
                    bool idempotent = true);

  // The URL `call` would request (signed with `timestamp_ms`); for tests and benchmarks.
  [[nodiscard]] std::string build_url(std::string_view path, QueryParams params, Auth auth,
                                      std::int64_t timestamp_ms) const;

  // Server time minus local time, applied to every signed timestamp.
  void set_clock_offset_ms(std::int64_t offset) { clock_offset_ms_ = offset; }
  [[nodiscard]] std::int64_t now_ms() const;

 private:
  RestClientOptions options_;
  void* curl_ = nullptr;            // CURL*
  void* headers_ = nullptr;         // curl_slist* with the API key header
  void* public_headers_ = nullptr;  // curl_slist* without it
  std::int64_t clock_offset_ms_ = 0;
};

}  // namespace dita::venue::bingx
