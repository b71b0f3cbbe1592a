// BingX HMAC-SHA256 signer; see include/dita/venue/bingx/signer.hpp.
#include "dita/venue/bingx/signer.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <stdexcept>

namespace dita::venue::bingx {

namespace {

constexpr std::string_view kHexDigits = "0123456789abcdef";
constexpr std::string_view kUpperHexDigits = "0123456789ABCDEF";

bool is_unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string hmac_sha256_hex(std::string_view secret, std::string_view payload) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_len = 0;
  // HMAC() with an explicit key length accepts secrets containing NUL bytes.
  const unsigned char* result = HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
                                     reinterpret_cast<const unsigned char*>(payload.data()),
                                     payload.size(), digest.data(), &digest_len);
  if (result == nullptr) throw std::runtime_error("HMAC-SHA256 failed");
  std::string hex;
  hex.reserve(static_cast<std::size_t>(digest_len) * 2);
  for (unsigned int i = 0; i < digest_len; ++i) {
    hex.push_back(kHexDigits[digest[i] >> 4U]);
    hex.push_back(kHexDigits[digest[i] & 0x0FU]);
  }
  return hex;
}

std::string canonical_payload(const QueryParams& params) {
  std::string out;
  for (const auto& p : params) {
    if (!out.empty()) out.push_back('&');
    out += p.key;
    out.push_back('=');
    out += p.value;
  }
  return out;
}

std::string url_encode_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (is_unreserved(c)) {
      out.push_back(c);
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kUpperHexDigits[byte >> 4U]);
      out.push_back(kUpperHexDigits[byte & 0x0FU]);
    }
  }
  return out;
}

std::string url_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      const int hi = hex_value(text[i + 1]);
      const int lo = hex_value(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return out;
}

std::string encoded_query(const QueryParams& params) {
  std::string out;
  for (const auto& p : params) {
    if (!out.empty()) out.push_back('&');
    out += p.key;
    out.push_back('=');
    out += url_encode_value(p.value);
  }
  return out;
}

QueryParams sorted_by_key(QueryParams params) {
  std::stable_sort(params.begin(), params.end(),
                   [](const QueryParam& a, const QueryParam& b) { return a.key < b.key; });
  return params;
}

SignedRequest sign_in_order(const QueryParams& params, std::string_view secret) {
  SignedRequest out;
  out.payload = canonical_payload(params);
  out.signature = hmac_sha256_hex(secret, out.payload);
  out.query = encoded_query(params);
  if (!out.query.empty()) out.query.push_back('&');
  out.query += "signature=";
  out.query += out.signature;
  return out;
}

SignedRequest sign_request(QueryParams params, std::string_view secret, std::int64_t timestamp_ms,
                           std::optional<std::int64_t> recv_window_ms) {
  params.push_back({"timestamp", std::to_string(timestamp_ms)});
  if (recv_window_ms) params.push_back({"recvWindow", std::to_string(*recv_window_ms)});
  return sign_in_order(sorted_by_key(std::move(params)), secret);
}

bool signatures_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff = static_cast<unsigned char>(
        diff | (static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(b[i])));
  }
  return diff == 0;
}

}  // namespace dita::venue::bingx
