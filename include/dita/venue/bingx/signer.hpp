// BingX request signing: canonical parameter strings, URL encoding of values and the
// HMAC-SHA256 signature (reference bingx-api.md §2.3/§2.4). Pure functions; nothing here
// logs, stores or returns the secret.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dita::venue::bingx {

// One request parameter with its raw (not URL-encoded) value.
struct QueryParam {
  std::string key;
  std::string value;

  friend bool operator==(const QueryParam&, const QueryParam&) = default;
};

using QueryParams = std::vector<QueryParam>;

// Default recvWindow the exchange assumes when none is sent.
inline constexpr std::int64_t kDefaultRecvWindowMs = 5000;

// Lower-case hex HMAC-SHA256 of `payload` keyed by `secret` (64 characters).
[[nodiscard]] std::string hmac_sha256_hex(std::string_view secret, std::string_view payload);

// `k1=v1&k2=v2...` with raw values in the given order: the string that is signed.
[[nodiscard]] std::string canonical_payload(const QueryParams& params);

// Percent-encodes everything except RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~),
// so plain values (symbols, decimals, timestamps) are transmitted unchanged.
[[nodiscard]] std::string url_encode_value(std::string_view value);

// Decodes %XX escapes; `plus_is_space` for x-www-form-urlencoded data. Malformed escapes
// are kept literally rather than rejected, because the server must still answer.
[[nodiscard]] std::string url_decode(std::string_view text, bool plus_is_space);

// `k1=enc(v1)&k2=enc(v2)...`: keys as-is, values URL-encoded (never the whole string).
[[nodiscard]] std::string encoded_query(const QueryParams& params);

// Stable ASCII-ascending sort by key: the order every mature client signs and sends in.
[[nodiscard]] QueryParams sorted_by_key(QueryParams params);

struct SignedRequest {
  std::string payload;    // the raw string that was signed
  std::string signature;  // 64 lower-case hex characters
  std::string query;      // encoded query to transmit, ending in `&signature=<hex>`
};

// Adds `timestamp` (and `recvWindow` when given), sorts keys ASCII-ascending, signs the
// raw payload and builds the transmitted query string.
[[nodiscard]] SignedRequest sign_request(QueryParams params, std::string_view secret,
                                         std::int64_t timestamp_ms,
                                         std::optional<std::int64_t> recv_window_ms);

// Signs the parameters exactly in the given order (no timestamp added, no sorting).
[[nodiscard]] SignedRequest sign_in_order(const QueryParams& params, std::string_view secret);

// Constant-time comparison so a verifier does not leak how many characters matched.
[[nodiscard]] bool signatures_equal(std::string_view a, std::string_view b);

}  // namespace dita::venue::bingx
