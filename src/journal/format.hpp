// Internal: the journal's byte-level encoding (docs/journal-format.md), shared by the
// reader, the writer and the tests that craft damaged files by hand.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "dita/journal/journal.hpp"

namespace dita::journal::detail {

// magic(8) version(2) flags(2) header_length(4) metadata_length(4), then metadata, then CRC.
inline constexpr std::size_t kHeaderFixedBytes = 20;
inline constexpr std::size_t kHeaderOverheadBytes = kHeaderFixedBytes + 4;
// Every format version keeps header_length at offset 12, the header CRC in its last four
// bytes and the header within this bound, so a reader can verify any version's header
// before deciding whether it supports that version.
inline constexpr std::size_t kMaxHeaderBytes = kHeaderOverheadBytes + kMaxMetadataBytes;
inline constexpr std::size_t kHeaderVersionOffset = 8;
inline constexpr std::size_t kHeaderFlagsOffset = 10;
inline constexpr std::size_t kHeaderLengthOffset = 12;
inline constexpr std::size_t kHeaderMetadataLengthOffset = 16;
// Record: length(4) type(1) sequence(8) header_crc(4) payload(L) record_crc(4).
inline constexpr std::size_t kRecordFieldsBytes = 13;

inline void store_le(char* out, std::uint64_t value, std::size_t bytes) noexcept {
  for (std::size_t i = 0; i < bytes; ++i) {
    out[i] = static_cast<char>(static_cast<unsigned char>(value >> (8 * i)));
  }
}

inline std::uint64_t load_le(const char* in, std::size_t bytes) noexcept {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < bytes; ++i) {
    value |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  }
  return value;
}

inline std::uint16_t load_u16(const char* in) noexcept {
  return static_cast<std::uint16_t>(load_le(in, 2));
}
inline std::uint32_t load_u32(const char* in) noexcept {
  return static_cast<std::uint32_t>(load_le(in, 4));
}
inline std::uint64_t load_u64(const char* in) noexcept {
  return load_le(in, 8);
}

inline void append_le(std::string& out, std::uint64_t value, std::size_t bytes) {
  const std::size_t at = out.size();
  out.resize(at + bytes);
  store_le(out.data() + at, value, bytes);
}

[[nodiscard]] constexpr bool is_record_type(std::uint8_t value) noexcept {
  return value >= static_cast<std::uint8_t>(RecordType::kInput) &&
         value <= static_cast<std::uint8_t>(RecordType::kMeta);
}

// Index of the first byte that is not part of well-formed UTF-8 (overlong forms,
// surrogates and code points above U+10FFFF are ill-formed); nullopt if all of it is.
[[nodiscard]] std::optional<std::size_t> first_invalid_utf8(std::string_view text) noexcept;

// Appends a complete header. `version` and `flags` are parameters so tests can craft
// headers of other versions with valid checksums.
void encode_header(std::string& out, std::string_view metadata,
                   std::uint16_t version = kFormatVersion, std::uint16_t flags = 0);

// Appends one complete record; the sequence and type are not checked, so tests can craft
// gaps and reorders.
void encode_record(std::string& out, std::uint8_t type, std::uint64_t sequence,
                   std::string_view payload);

// The same with an arbitrary (possibly oversized) length field and no payload bytes.
void encode_record_prefix(std::string& out, std::uint32_t length, std::uint8_t type,
                          std::uint64_t sequence);

}  // namespace dita::journal::detail
