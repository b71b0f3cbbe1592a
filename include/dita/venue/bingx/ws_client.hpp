// dita/venue/bingx/ws_client.hpp
//
// Owns the client side of BingX's user-data WebSocket transport: URL parsing, the RFC 6455
// client handshake (with Sec-WebSocket-Accept verification), masked client frames,
// server-frame decoding with fragmentation and size limits, RFC ping/pong and close, gzip
// inflation (BingX compresses every server frame, §9.2), over a plain TCP socket or TLS
// (OpenSSL) for wss://. Message semantics (Ping/Pong text, events) belong to the venue.
#pragma once

#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace dita::venue::bingx {

struct WsEndpoint {
  bool tls = false;
  std::string host;
  std::uint16_t port = 0;
  std::string target;  // path + query, "/swap-market"
};
std::expected<WsEndpoint, std::string> parse_ws_url(std::string_view url);

inline constexpr std::uint8_t kWsOpContinuation = 0x0;
inline constexpr std::uint8_t kWsOpText = 0x1;
inline constexpr std::uint8_t kWsOpBinary = 0x2;
inline constexpr std::uint8_t kWsOpClose = 0x8;
inline constexpr std::uint8_t kWsOpPing = 0x9;
inline constexpr std::uint8_t kWsOpPong = 0xA;

struct WsFrame {
  bool fin = true;
  std::uint8_t opcode = 0;
  std::string payload;
};

enum class WsDecode : std::uint8_t { kFrame, kNeedMore, kError };

// Decodes one frame from the front of `buffer`; on kFrame the bytes are consumed. Server
// frames must not be masked; reserved bits, unknown opcodes, fragmented control frames
// and payloads above `max_payload` are errors (`error` says which).
WsDecode decode_server_frame(std::string& buffer, WsFrame& out, std::string& error,
                             std::size_t max_payload = 1U << 22U);

// One masked client frame.
std::string encode_client_frame(std::uint8_t opcode, std::string_view payload, std::uint32_t mask);

// gzip (or zlib) inflation with an output cap against decompression bombs.
std::optional<std::string> inflate_gzip(std::string_view data, std::size_t max_output = 1U << 22U);

// base64(SHA1(key + GUID)) as the server must answer it.
std::string websocket_accept_key(std::string_view client_key);

class WsConnection {
 public:
  enum class Read : std::uint8_t { kMessage, kTimeout, kClosed, kError };

  // Connects, (TLS-)handshakes and upgrades. The error text never contains the target's
  // query (it carries the listen key).
  static std::expected<std::unique_ptr<WsConnection>, std::string> open(const WsEndpoint& endpoint,
                                                                        int timeout_ms);
  ~WsConnection();
  WsConnection(const WsConnection&) = delete;
  WsConnection& operator=(const WsConnection&) = delete;

  // Next data message (binary frames are gunzipped, text frames returned as is). RFC pings
  // are answered on the way. kError sets `error`.
  Read read_message(std::string& out, int timeout_ms, std::string& error);
  bool send_text(std::string_view text);
  void close();

 private:
  WsConnection() = default;
  bool write_all(std::string_view bytes);
  long read_some(char* buffer, std::size_t size, int timeout_ms, bool& timed_out);

  int fd_ = -1;
  void* ssl_ = nullptr;      // SSL*
  void* ssl_ctx_ = nullptr;  // SSL_CTX*
  std::string buffer_;
  std::string fragments_;
  std::uint8_t fragment_opcode_ = 0;
  std::uint32_t mask_state_ = 0x9e3779b9U;
};

}  // namespace dita::venue::bingx
