#include "journal/format.hpp"

#include "dita/journal/crc32c.hpp"

namespace dita::journal::detail {

std::optional<std::size_t> first_invalid_utf8(std::string_view text) noexcept {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    if (lead < 0x80) {
      ++i;
      continue;
    }
    std::size_t length = 0;
    std::uint32_t code_point = 0;
    std::uint32_t minimum = 0;
    if ((lead & 0xE0U) == 0xC0U) {
      length = 2;
      code_point = lead & 0x1FU;
      minimum = 0x80;
    } else if ((lead & 0xF0U) == 0xE0U) {
      length = 3;
      code_point = lead & 0x0FU;
      minimum = 0x800;
    } else if ((lead & 0xF8U) == 0xF0U) {
      length = 4;
      code_point = lead & 0x07U;
      minimum = 0x10000;
    } else {
      return i;
    }
    if (text.size() - i < length) return i;
    for (std::size_t k = 1; k < length; ++k) {
      const auto continuation = static_cast<unsigned char>(text[i + k]);
      if ((continuation & 0xC0U) != 0x80U) return i;
      code_point = (code_point << 6) | (continuation & 0x3FU);
    }
    if (code_point < minimum || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      return i;
    }
    i += length;
  }
  return std::nullopt;
}

void encode_header(std::string& out, std::string_view metadata, std::uint16_t version,
                   std::uint16_t flags) {
  const std::size_t start = out.size();
  out.append(kMagic.data(), kMagic.size());
  append_le(out, version, 2);
  append_le(out, flags, 2);
  append_le(out, kHeaderOverheadBytes + metadata.size(), 4);
  append_le(out, metadata.size(), 4);
  out.append(metadata);
  const std::uint32_t crc = crc32c(std::string_view(out).substr(start));
  append_le(out, crc, 4);
}

void encode_record_prefix(std::string& out, std::uint32_t length, std::uint8_t type,
                          std::uint64_t sequence) {
  const std::size_t start = out.size();
  append_le(out, length, 4);
  append_le(out, type, 1);
  append_le(out, sequence, 8);
  append_le(out, crc32c(std::string_view(out).substr(start, kRecordFieldsBytes)), 4);
}

void encode_record(std::string& out, std::uint8_t type, std::uint64_t sequence,
                   std::string_view payload) {
  const std::size_t start = out.size();
  encode_record_prefix(out, static_cast<std::uint32_t>(payload.size()), type, sequence);
  out.append(payload);
  // The record CRC covers the fields and the payload but not the header CRC: a CRC over
  // data followed by its own CRC is a constant, so including it would add nothing.
  const std::uint32_t crc =
      crc32c_extend(crc32c(std::string_view(out).substr(start, kRecordFieldsBytes)), payload);
  append_le(out, crc, 4);
}

}  // namespace dita::journal::detail
