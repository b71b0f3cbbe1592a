// dita/journal/crc32c.hpp
//
// Owns DITA's CRC32C (Castagnoli, reflected polynomial 0x82F63B78): the checksum that guards
// every journal header and record. Implemented in portable software (slicing-by-8 tables
// built at compile time) so a journal written on one machine verifies identically on any
// other, with no dependency on SSE4.2 or ARMv8 CRC instructions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace dita::journal {

// Continues a CRC32C: crc32c_extend(crc32c(a), b) == crc32c(a + b). The empty input's CRC is 0.
[[nodiscard]] std::uint32_t crc32c_extend(std::uint32_t crc,
                                          std::span<const std::byte> data) noexcept;
[[nodiscard]] std::uint32_t crc32c_extend(std::uint32_t crc, std::string_view data) noexcept;

[[nodiscard]] inline std::uint32_t crc32c(std::span<const std::byte> data) noexcept {
  return crc32c_extend(0, data);
}
[[nodiscard]] inline std::uint32_t crc32c(std::string_view data) noexcept {
  return crc32c_extend(0, data);
}

}  // namespace dita::journal
