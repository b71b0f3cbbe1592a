#include "dita/journal/crc32c.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "journal/test_support.hpp"

namespace dita::journal {
namespace {

// Bit-at-a-time definition of CRC32C, independent of the sliced tables under test.
std::uint32_t reference_crc32c(std::string_view data) {
  std::uint32_t crc = 0xFFFFFFFFU;
  for (const char c : data) {
    crc ^= static_cast<unsigned char>(c);
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 1U) != 0 ? (crc >> 1) ^ 0x82F63B78U : crc >> 1;
    }
  }
  return ~crc;
}

TEST(Crc32c, MatchesTheStandardCheckValueFor123456789) {
  EXPECT_EQ(crc32c(std::string_view("123456789")), 0xE3069283U);
}

TEST(Crc32c, OfNothingIsZero) {
  EXPECT_EQ(crc32c(std::string_view()), 0U);
}

TEST(Crc32c, MatchesTheIscsiTestVectorsOfRfc3720) {
  std::string zeros(32, '\0');
  std::string ones(32, '\xFF');
  std::string ascending(32, '\0');
  std::string descending(32, '\0');
  for (std::size_t i = 0; i < 32; ++i) {
    ascending[i] = static_cast<char>(i);
    descending[i] = static_cast<char>(31 - i);
  }
  EXPECT_EQ(crc32c(zeros), 0x8A9136AAU);
  EXPECT_EQ(crc32c(ones), 0x62A8AB43U);
  EXPECT_EQ(crc32c(ascending), 0x46DD794EU);
  EXPECT_EQ(crc32c(descending), 0x113FDB5CU);
}

TEST(Crc32c, ByteSpanAndStringViewOverloadsAgree) {
  const std::string text = "journal bytes";
  EXPECT_EQ(crc32c(std::as_bytes(std::span(text.data(), text.size()))), crc32c(text));
}

TEST(Crc32c, AgreesWithTheBitwiseDefinitionAtEveryLengthAndAlignment) {
  const std::string data = testing::make_payload(300, 7);
  for (std::size_t start = 0; start < 9; ++start) {
    for (std::size_t length = 0; start + length <= data.size(); ++length) {
      const std::string_view slice = std::string_view(data).substr(start, length);
      ASSERT_EQ(crc32c(slice), reference_crc32c(slice))
          << "start " << start << " length " << length;
    }
  }
}

TEST(Crc32c, TheHardwareAndSoftwarePathsAgreeAtEveryLengthAndAlignment) {
  // crc32c() takes the SSE4.2 path on CPUs that have it; the software tables must agree.
  const std::string data = testing::make_payload(300, 11);
  for (std::size_t start = 0; start < 9; ++start) {
    for (std::size_t length = 0; start + length <= data.size(); ++length) {
      const std::string_view slice = std::string_view(data).substr(start, length);
      ASSERT_EQ(crc32c_software_extend(0, slice), reference_crc32c(slice))
          << "start " << start << " length " << length;
      ASSERT_EQ(crc32c_extend(0x12345678U, slice), crc32c_software_extend(0x12345678U, slice));
    }
  }
}

TEST(Crc32c, ExtendingPieceByPieceEqualsOneShot) {
  const std::string data = testing::make_payload(1000, 3);
  for (std::size_t split = 0; split <= data.size(); split += 37) {
    const std::string_view view(data);
    EXPECT_EQ(crc32c_extend(crc32c(view.substr(0, split)), view.substr(split)), crc32c(view));
  }
}

}  // namespace
}  // namespace dita::journal
