// RFC 6455 pieces the simulator's user-data stream needs: the handshake accept key,
// server frame encoding, client frame decoding, and gzip (BingX compresses every frame).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dita::sim::ws {

inline constexpr std::uint8_t kOpText = 0x1;
inline constexpr std::uint8_t kOpBinary = 0x2;
inline constexpr std::uint8_t kOpClose = 0x8;
inline constexpr std::uint8_t kOpPing = 0x9;
inline constexpr std::uint8_t kOpPong = 0xA;

// base64(SHA1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")).
[[nodiscard]] std::string accept_key(std::string_view client_key);

// One unfragmented, unmasked server frame.
[[nodiscard]] std::string encode_frame(std::uint8_t opcode, std::string_view payload);

// One client-side (masked) frame, as a test client would send it.
[[nodiscard]] std::string encode_masked_frame(std::uint8_t opcode, std::string_view payload,
                                              std::uint32_t mask);

struct Frame {
  bool fin = true;
  std::uint8_t opcode = 0;
  std::string payload;
};

enum class DecodeStatus { kFrame, kNeedMore, kError };

// Decodes one frame from the front of `buffer` (masked or not); on kFrame the consumed
// bytes are erased. Payloads above `max_payload` are an error.
DecodeStatus decode_frame(std::string& buffer, Frame& out, std::size_t max_payload = 1 << 20);

[[nodiscard]] std::string gzip_compress(std::string_view data);
[[nodiscard]] std::optional<std::string> gzip_decompress(std::string_view data);

}  // namespace dita::sim::ws
