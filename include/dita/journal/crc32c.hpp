// dita/journal/crc32c.hpp
//
// Owns DITA's CRC32C (Castagnoli, reflected polynomial 0x82F63B78): the checksum that guards
// every journal header and record, and every spool record. It uses the SSE4.2 crc32
// instruction where the CPU has it (checked once at start) and portable slicing-by-8 tables
// otherwise; both compute the same function, so a journal written on one machine verifies
// identically on any other.
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

// The portable implementation on its own, so tests can hold the two against each other.
[[nodiscard]] std::uint32_t crc32c_software_extend(std::uint32_t crc,
                                                   std::string_view data) noexcept;

}  // namespace dita::journal
