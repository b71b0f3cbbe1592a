// WebSocket framing and gzip helpers; see websocket.hpp.
#include "websocket.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <zlib.h>

#include <array>
#include <cstring>
#include <vector>

namespace dita::sim::ws {

std::string accept_key(std::string_view client_key) {
  std::string input(client_key);
  input += "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  std::array<unsigned char, SHA_DIGEST_LENGTH> digest{};
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest.data());
  std::array<unsigned char, 64> encoded{};
  const int len = EVP_EncodeBlock(encoded.data(), digest.data(), SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<const char*>(encoded.data()), static_cast<std::size_t>(len));
}

namespace {

std::string header(std::uint8_t opcode, std::size_t len, bool masked) {
  std::string out;
  out.push_back(static_cast<char>(0x80U | opcode));
  const unsigned mask_bit = masked ? 0x80U : 0U;
  if (len < 126) {
    out.push_back(static_cast<char>(mask_bit | len));
  } else if (len <= 0xFFFF) {
    out.push_back(static_cast<char>(mask_bit | 126U));
    out.push_back(static_cast<char>((len >> 8U) & 0xFFU));
    out.push_back(static_cast<char>(len & 0xFFU));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127U));
    for (int i = 7; i >= 0; --i) {
      out.push_back(static_cast<char>(
          (static_cast<std::uint64_t>(len) >> (8U * static_cast<unsigned>(i))) & 0xFFU));
    }
  }
  return out;
}

}  // namespace

std::string encode_frame(std::uint8_t opcode, std::string_view payload) {
  std::string out = header(opcode, payload.size(), false);
  out.append(payload);
  return out;
}

std::string encode_masked_frame(std::uint8_t opcode, std::string_view payload, std::uint32_t mask) {
  std::string out = header(opcode, payload.size(), true);
  std::array<unsigned char, 4> key{
      static_cast<unsigned char>(mask >> 24U), static_cast<unsigned char>(mask >> 16U),
      static_cast<unsigned char>(mask >> 8U), static_cast<unsigned char>(mask)};
  for (unsigned char k : key) out.push_back(static_cast<char>(k));
  for (std::size_t i = 0; i < payload.size(); ++i) {
    out.push_back(static_cast<char>(static_cast<unsigned char>(payload[i]) ^ key[i % 4]));
  }
  return out;
}

DecodeStatus decode_frame(std::string& buffer, Frame& out, std::size_t max_payload) {
  if (buffer.size() < 2) return DecodeStatus::kNeedMore;
  const auto b0 = static_cast<unsigned char>(buffer[0]);
  const auto b1 = static_cast<unsigned char>(buffer[1]);
  if ((b0 & 0x70U) != 0) return DecodeStatus::kError;  // no extensions negotiated
  const bool masked = (b1 & 0x80U) != 0;
  std::uint64_t len = b1 & 0x7FU;
  std::size_t pos = 2;
  if (len == 126) {
    if (buffer.size() < 4) return DecodeStatus::kNeedMore;
    len = (static_cast<std::uint64_t>(static_cast<unsigned char>(buffer[2])) << 8U) |
          static_cast<unsigned char>(buffer[3]);
    pos = 4;
  } else if (len == 127) {
    if (buffer.size() < 10) return DecodeStatus::kNeedMore;
    len = 0;
    for (std::size_t i = 2; i < 10; ++i) {
      len = (len << 8U) | static_cast<unsigned char>(buffer[i]);
    }
    pos = 10;
  }
  if (len > max_payload) return DecodeStatus::kError;
  const std::size_t mask_len = masked ? 4 : 0;
  if (buffer.size() < pos + mask_len + len) return DecodeStatus::kNeedMore;
  std::array<unsigned char, 4> key{};
  if (masked) {
    for (std::size_t i = 0; i < 4; ++i) key[i] = static_cast<unsigned char>(buffer[pos + i]);
  }
  pos += mask_len;
  out.fin = (b0 & 0x80U) != 0;
  out.opcode = static_cast<std::uint8_t>(b0 & 0x0FU);
  out.payload.assign(buffer, pos, static_cast<std::size_t>(len));
  if (masked) {
    for (std::size_t i = 0; i < out.payload.size(); ++i) {
      out.payload[i] = static_cast<char>(static_cast<unsigned char>(out.payload[i]) ^ key[i % 4]);
    }
  }
  buffer.erase(0, pos + static_cast<std::size_t>(len));
  return DecodeStatus::kFrame;
}

std::string gzip_compress(std::string_view data) {
  z_stream zs{};
  // windowBits 15 + 16 selects the gzip wrapper, which is what BingX sends.
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return {};
  }
  std::string out;
  out.resize(deflateBound(&zs, static_cast<uLong>(data.size())) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::optional<std::string> gzip_decompress(std::string_view data) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return std::nullopt;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  std::string out;
  std::array<char, 16384> chunk{};
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(chunk.data());
    zs.avail_out = static_cast<uInt>(chunk.size());
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) break;
    out.append(chunk.data(), chunk.size() - zs.avail_out);
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) return std::nullopt;
  return out;
}

}  // namespace dita::sim::ws
