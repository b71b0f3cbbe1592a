// BingX user-data WebSocket transport; see include/dita/venue/bingx/ws_client.hpp.
#include "dita/venue/bingx/ws_client.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <array>
#include <charconv>
#include <chrono>
#include <cstring>
#include <random>

namespace dita::venue::bingx {
namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

std::string base64(const unsigned char* data, std::size_t size) {
  std::string out(4 * ((size + 2) / 3) + 1, '\0');
  const int written =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

std::string lowered(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Value of header `name` (case-insensitive) in an HTTP response head, or "".
std::string header_value(std::string_view head, std::string_view name) {
  const std::string wanted = lowered(name) + ":";
  std::size_t at = 0;
  while (at < head.size()) {
    const auto end = head.find("\r\n", at);
    const std::string_view line =
        head.substr(at, end == std::string_view::npos ? head.size() - at : end - at);
    if (lowered(line.substr(0, wanted.size())) == wanted) {
      std::string_view value = line.substr(wanted.size());
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
      return std::string(value);
    }
    if (end == std::string_view::npos) break;
    at = end + 2;
  }
  return {};
}

}  // namespace

std::expected<WsEndpoint, std::string> parse_ws_url(std::string_view url) {
  WsEndpoint endpoint;
  if (url.starts_with("wss://")) {
    endpoint.tls = true;
    url.remove_prefix(6);
    endpoint.port = 443;
  } else if (url.starts_with("ws://")) {
    url.remove_prefix(5);
    endpoint.port = 80;
  } else {
    return std::unexpected("stream URL must start with ws:// or wss://");
  }
  const auto slash = url.find_first_of("/?");
  std::string_view authority = url.substr(0, slash);
  endpoint.target = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  if (!endpoint.target.starts_with("/")) endpoint.target.insert(0, "/");
  const auto colon = authority.rfind(':');
  if (colon != std::string_view::npos) {
    const std::string_view port_text = authority.substr(colon + 1);
    unsigned port = 0;
    const auto [end, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      return std::unexpected("stream URL has a bad port");
    }
    endpoint.port = static_cast<std::uint16_t>(port);
    authority = authority.substr(0, colon);
  }
  if (authority.empty()) return std::unexpected("stream URL has no host");
  endpoint.host = std::string(authority);
  return endpoint;
}

WsDecode decode_server_frame(std::string& buffer, WsFrame& out, std::string& error,
                             std::size_t max_payload) {
  if (buffer.size() < 2) return WsDecode::kNeedMore;
  const auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(buffer[i]); };
  const std::uint8_t b0 = byte(0);
  const std::uint8_t b1 = byte(1);
  if ((b0 & 0x70U) != 0) {
    error = "reserved bits set (no extension was negotiated)";
    return WsDecode::kError;
  }
  const std::uint8_t opcode = b0 & 0x0FU;
  const bool known = opcode == kWsOpContinuation || opcode == kWsOpText || opcode == kWsOpBinary ||
                     opcode == kWsOpClose || opcode == kWsOpPing || opcode == kWsOpPong;
  if (!known) {
    error = "unknown opcode " + std::to_string(opcode);
    return WsDecode::kError;
  }
  const bool fin = (b0 & 0x80U) != 0;
  if (opcode >= 0x8 && !fin) {
    error = "fragmented control frame";
    return WsDecode::kError;
  }
  if ((b1 & 0x80U) != 0) {
    error = "server frame is masked";
    return WsDecode::kError;
  }
  std::uint64_t length = b1 & 0x7FU;
  std::size_t header = 2;
  if (length == 126) {
    if (buffer.size() < 4) return WsDecode::kNeedMore;
    length = (static_cast<std::uint64_t>(byte(2)) << 8U) | byte(3);
    header = 4;
  } else if (length == 127) {
    if (buffer.size() < 10) return WsDecode::kNeedMore;
    length = 0;
    for (std::size_t i = 2; i < 10; ++i) length = (length << 8U) | byte(i);
    header = 10;
  }
  if (opcode >= 0x8 && length > 125) {
    error = "control frame longer than 125 bytes";
    return WsDecode::kError;
  }
  if (length > max_payload) {
    error = "frame payload of " + std::to_string(length) + " bytes exceeds the limit";
    return WsDecode::kError;
  }
  const auto total = header + static_cast<std::size_t>(length);
  if (buffer.size() < total) return WsDecode::kNeedMore;
  out.fin = fin;
  out.opcode = opcode;
  out.payload.assign(buffer, header, static_cast<std::size_t>(length));
  buffer.erase(0, total);
  return WsDecode::kFrame;
}

std::string encode_client_frame(std::uint8_t opcode, std::string_view payload, std::uint32_t mask) {
  std::string frame;
  frame.reserve(payload.size() + 14);
  frame.push_back(static_cast<char>(0x80U | opcode));
  if (payload.size() < 126) {
    frame.push_back(static_cast<char>(0x80U | payload.size()));
  } else if (payload.size() <= 0xFFFF) {
    frame.push_back(static_cast<char>(0x80U | 126U));
    frame.push_back(static_cast<char>((payload.size() >> 8U) & 0xFFU));
    frame.push_back(static_cast<char>(payload.size() & 0xFFU));
  } else {
    frame.push_back(static_cast<char>(0x80U | 127U));
    const auto size = static_cast<std::uint64_t>(payload.size());
    for (int shift = 56; shift >= 0; shift -= 8) {
      frame.push_back(static_cast<char>((size >> static_cast<unsigned>(shift)) & 0xFFU));
    }
  }
  const std::array<std::uint8_t, 4> key = {
      static_cast<std::uint8_t>(mask >> 24U), static_cast<std::uint8_t>(mask >> 16U),
      static_cast<std::uint8_t>(mask >> 8U), static_cast<std::uint8_t>(mask)};
  for (auto k : key) frame.push_back(static_cast<char>(k));
  for (std::size_t i = 0; i < payload.size(); ++i) {
    frame.push_back(static_cast<char>(static_cast<std::uint8_t>(payload[i]) ^ key[i % 4]));
  }
  return frame;
}

std::optional<std::string> inflate_gzip(std::string_view data, std::size_t max_output) {
  z_stream stream{};
  // 32 + MAX_WBITS: accept gzip or zlib headers.
  if (inflateInit2(&stream, 32 + MAX_WBITS) != Z_OK) return std::nullopt;
  std::string out;
  std::array<char, 16384> chunk{};
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  int status = Z_OK;
  while (status == Z_OK) {
    stream.next_out = reinterpret_cast<Bytef*>(chunk.data());
    stream.avail_out = static_cast<uInt>(chunk.size());
    status = inflate(&stream, Z_NO_FLUSH);
    if (status != Z_OK && status != Z_STREAM_END) break;
    out.append(chunk.data(), chunk.size() - stream.avail_out);
    if (out.size() > max_output) {
      status = Z_MEM_ERROR;
      break;
    }
    if (status == Z_OK && stream.avail_in == 0 && stream.avail_out != 0) {
      status = Z_BUF_ERROR;  // input ended before the stream did: truncated
      break;
    }
  }
  inflateEnd(&stream);
  if (status != Z_STREAM_END) return std::nullopt;
  return out;
}

std::string websocket_accept_key(std::string_view client_key) {
  const std::string input = std::string(client_key) + std::string(kGuid);
  std::array<unsigned char, SHA_DIGEST_LENGTH> digest{};
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest.data());
  return base64(digest.data(), digest.size());
}

std::expected<std::unique_ptr<WsConnection>, std::string> WsConnection::open(
    const WsEndpoint& endpoint, int timeout_ms) {
  std::unique_ptr<WsConnection> connection(new WsConnection());
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(endpoint.port);
  if (::getaddrinfo(endpoint.host.c_str(), port.c_str(), &hints, &found) != 0 || found == nullptr) {
    return std::unexpected("cannot resolve stream host " + endpoint.host);
  }
  int fd = -1;
  for (addrinfo* ai = found; ai != nullptr && fd < 0; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  if (fd < 0) {
    return std::unexpected("cannot connect to stream host " + endpoint.host + ":" + port);
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  connection->fd_ = fd;
  std::random_device random;
  connection->mask_state_ = random() | 1U;

  if (endpoint.tls) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == nullptr) return std::unexpected("TLS context creation failed");
    connection->ssl_ctx_ = ctx;
    SSL_CTX_set_default_verify_paths(ctx);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    SSL* ssl = SSL_new(ctx);
    if (ssl == nullptr) return std::unexpected("TLS session creation failed");
    connection->ssl_ = ssl;
    SSL_set_fd(ssl, fd);
    // SSL_set_tlsext_host_name is a macro with a C cast; call what it expands to.
    SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(endpoint.host.c_str()));
    SSL_set1_host(ssl, endpoint.host.c_str());
    if (SSL_connect(ssl) != 1) {
      return std::unexpected("TLS handshake with " + endpoint.host + " failed");
    }
  }

  std::array<unsigned char, 16> nonce{};
  for (auto& b : nonce) b = static_cast<unsigned char>(random());
  const std::string key = base64(nonce.data(), nonce.size());
  std::string host_header = endpoint.host;
  if (!((endpoint.tls && endpoint.port == 443) || (!endpoint.tls && endpoint.port == 80))) {
    host_header += ":" + port;
  }
  const std::string request = "GET " + endpoint.target + " HTTP/1.1\r\nHost: " + host_header +
                              "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                              "Sec-WebSocket-Key: " +
                              key + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
  if (!connection->write_all(request)) return std::unexpected("stream handshake send failed");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  std::string& buffer = connection->buffer_;
  while (buffer.find("\r\n\r\n") == std::string::npos) {
    if (buffer.size() > 16384) return std::unexpected("stream handshake answer too long");
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) return std::unexpected("stream handshake timed out");
    std::array<char, 4096> chunk{};
    bool timed_out = false;
    const long n =
        connection->read_some(chunk.data(), chunk.size(), static_cast<int>(left), timed_out);
    if (n <= 0 && !timed_out) return std::unexpected("stream closed during the handshake");
    if (n > 0) buffer.append(chunk.data(), static_cast<std::size_t>(n));
  }
  const auto end = buffer.find("\r\n\r\n");
  const std::string head = buffer.substr(0, end);
  buffer.erase(0, end + 4);
  const auto line_end = head.find("\r\n");
  const std::string status_line = head.substr(0, line_end);
  if (!status_line.starts_with("HTTP/1.1 101")) {
    // The status line only: the target (with the listen key) is never echoed.
    return std::unexpected("stream upgrade refused: " + status_line.substr(0, 64));
  }
  if (header_value(head, "Sec-WebSocket-Accept") != websocket_accept_key(key)) {
    return std::unexpected("stream upgrade answer has a wrong Sec-WebSocket-Accept");
  }
  return connection;
}

WsConnection::~WsConnection() {
  close();
}

void WsConnection::close() {
  if (ssl_ != nullptr) {
    SSL_free(static_cast<SSL*>(ssl_));
    ssl_ = nullptr;
  }
  if (ssl_ctx_ != nullptr) {
    SSL_CTX_free(static_cast<SSL_CTX*>(ssl_ctx_));
    ssl_ctx_ = nullptr;
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

bool WsConnection::write_all(std::string_view bytes) {
  if (fd_ < 0) return false;
  while (!bytes.empty()) {
    long n = 0;
    if (ssl_ != nullptr) {
      n = SSL_write(static_cast<SSL*>(ssl_), bytes.data(), static_cast<int>(bytes.size()));
    } else {
      n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    }
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

long WsConnection::read_some(char* buffer, std::size_t size, int timeout_ms, bool& timed_out) {
  timed_out = false;
  if (fd_ < 0) return -1;
  const bool pending = ssl_ != nullptr && SSL_pending(static_cast<SSL*>(ssl_)) > 0;
  if (!pending) {
    pollfd p{fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, timeout_ms);
    if (ready == 0) {
      timed_out = true;
      return 0;
    }
    if (ready < 0) return -1;
  }
  if (ssl_ != nullptr) return SSL_read(static_cast<SSL*>(ssl_), buffer, static_cast<int>(size));
  return ::recv(fd_, buffer, size, 0);
}

bool WsConnection::send_text(std::string_view text) {
  // xorshift: masks only need to be unpredictable to intermediaries, not secret.
  mask_state_ ^= mask_state_ << 13U;
  mask_state_ ^= mask_state_ >> 17U;
  mask_state_ ^= mask_state_ << 5U;
  return write_all(encode_client_frame(kWsOpText, text, mask_state_));
}

WsConnection::Read WsConnection::read_message(std::string& out, int timeout_ms,
                                              std::string& error) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    WsFrame frame;
    const WsDecode status = decode_server_frame(buffer_, frame, error);
    if (status == WsDecode::kError) return Read::kError;
    if (status == WsDecode::kFrame) {
      switch (frame.opcode) {
        case kWsOpClose:
          write_all(encode_client_frame(kWsOpClose, "", mask_state_));
          return Read::kClosed;
        case kWsOpPing:
          write_all(encode_client_frame(kWsOpPong, frame.payload, mask_state_));
          continue;
        case kWsOpPong:
          continue;
        case kWsOpContinuation:
          if (fragment_opcode_ == 0) {
            error = "continuation frame without a start";
            return Read::kError;
          }
          fragments_ += frame.payload;
          if (fragments_.size() > (1U << 22U)) {
            error = "fragmented message exceeds the limit";
            return Read::kError;
          }
          if (!frame.fin) continue;
          frame.opcode = fragment_opcode_;
          frame.payload = std::move(fragments_);
          fragments_.clear();
          fragment_opcode_ = 0;
          break;
        default:
          if (fragment_opcode_ != 0) {
            error = "new data frame inside a fragmented message";
            return Read::kError;
          }
          if (!frame.fin) {
            fragment_opcode_ = frame.opcode;
            fragments_ = std::move(frame.payload);
            continue;
          }
          break;
      }
      if (frame.opcode == kWsOpBinary) {
        auto text = inflate_gzip(frame.payload);
        if (!text) {
          error = "binary frame is not valid gzip";
          return Read::kError;
        }
        out = std::move(*text);
      } else {
        out = std::move(frame.payload);
      }
      return Read::kMessage;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) return Read::kTimeout;
    std::array<char, 16384> chunk{};
    bool timed_out = false;
    const long n = read_some(chunk.data(), chunk.size(), static_cast<int>(left), timed_out);
    if (timed_out) return Read::kTimeout;
    if (n <= 0) return Read::kClosed;
    buffer_.append(chunk.data(), static_cast<std::size_t>(n));
  }
}

}  // namespace dita::venue::bingx
