// Reading: round trips, the documented byte layout, and every way a file can be damaged.
#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <vector>

#include "dita/journal/crc32c.hpp"
#include "dita/journal/journal.hpp"
#include "journal/format.hpp"
#include "journal/test_support.hpp"

namespace dita::journal {
namespace {

using testing::make_payload;
using testing::read_all;
using testing::read_bytes;
using testing::write_bytes;

constexpr std::string_view kMetadata = R"({"venue":"mock","slots":4,"note":"é✓"})";

struct Written {
  std::string bytes;
  std::vector<Record> records;  // with offsets
  std::uint64_t header_length = 0;
};

// Writes a journal through the public writer with one record per payload size.
Written write_journal(const std::filesystem::path& path, const std::vector<std::size_t>& sizes) {
  Written written;
  auto writer = JournalWriter::create(path, FsyncPolicy::never(), kMetadata);
  EXPECT_TRUE(writer.has_value());
  if (!writer) return written;
  written.header_length = writer->header().header_length;
  std::uint64_t offset = written.header_length;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    const auto type = static_cast<RecordType>(1 + i % 3);
    std::string payload = make_payload(sizes[i], static_cast<std::uint32_t>(i));
    const auto sequence = writer->append(type, payload);
    EXPECT_EQ(sequence, i + 1);
    written.records.push_back(Record{type, i + 1, offset, payload});
    offset += kRecordOverheadBytes + sizes[i];
    if (i % 4 == 3) {
      EXPECT_TRUE(writer->commit().has_value());
    }
  }
  EXPECT_TRUE(writer->close().has_value());
  written.bytes = read_bytes(path);
  EXPECT_EQ(written.bytes.size(), offset);
  return written;
}

std::string header_bytes(std::string_view metadata = "{}", std::uint16_t version = kFormatVersion,
                         std::uint16_t flags = 0) {
  std::string bytes;
  detail::encode_header(bytes, metadata, version, flags);
  return bytes;
}

class JournalReading : public ::testing::Test {
 protected:
  testing::TempDir dir_;
  std::filesystem::path path_ = dir_.file("journal.dj");
  std::filesystem::path damaged_ = dir_.file("damaged.dj");
};

TEST_F(JournalReading, ReturnsManyRecordsOfVariedSizesIncludingEmptyExactlyAsWritten) {
  std::vector<std::size_t> sizes = {0, 1,    2,    3,     7,     8,     9,      16, 17, 100,
                                    0, 4095, 4096, 65535, 65536, 65537, 200000, 0,  5};
  for (std::size_t i = 0; i < 200; ++i) sizes.push_back((i * 7919) % 1500);
  const Written written = write_journal(path_, sizes);
  const auto outcome = read_all(path_);
  EXPECT_FALSE(outcome.error.has_value()) << to_string(*outcome.error);
  EXPECT_EQ(outcome.records, written.records);
}

TEST_F(JournalReading, ExposesTheHeaderMetadataVersionAndPosition) {
  write_journal(path_, {10, 20});
  auto reader = JournalReader::open(path_);
  ASSERT_TRUE(reader.has_value()) << to_string(reader.error());
  EXPECT_EQ(reader->header().metadata, kMetadata);
  EXPECT_EQ(reader->header().format_version, 1);
  EXPECT_EQ(reader->header().flags, 0);
  EXPECT_EQ(reader->header().header_length, 24 + kMetadata.size());
  EXPECT_EQ(reader->offset(), reader->header().header_length);
  ASSERT_TRUE(reader->next().has_value());
  EXPECT_EQ(reader->last_sequence(), 1U);
  EXPECT_EQ(reader->offset(), reader->header().header_length + kRecordOverheadBytes + 10);
}

TEST_F(JournalReading, ProducesTheByteLayoutTheFormatDocumentSpecifies) {
  {
    auto writer = JournalWriter::create(path_, FsyncPolicy::never(), "{}");
    ASSERT_TRUE(writer.has_value());
    ASSERT_EQ(writer->append(RecordType::kOutput, "hi"), 1U);
    ASSERT_TRUE(writer->close().has_value());
  }
  std::string expected("DITAJRNL\x01\x00\x00\x00\x1A\x00\x00\x00\x02\x00\x00\x00{}", 22);
  const std::uint32_t header_crc = crc32c(expected);
  for (int i = 0; i < 4; ++i) expected += static_cast<char>((header_crc >> (8 * i)) & 0xFFU);
  const std::string fields("\x02\x00\x00\x00\x02\x01\x00\x00\x00\x00\x00\x00\x00", 13);
  expected += fields;
  const std::uint32_t fields_crc = crc32c(fields);
  for (int i = 0; i < 4; ++i) expected += static_cast<char>((fields_crc >> (8 * i)) & 0xFFU);
  expected += "hi";
  const std::uint32_t record_crc = crc32c(fields + "hi");
  for (int i = 0; i < 4; ++i) expected += static_cast<char>((record_crc >> (8 * i)) & 0xFFU);
  EXPECT_EQ(read_bytes(path_), expected);
}

TEST_F(JournalReading, EndsCleanlyOnAJournalWithOnlyAHeader) {
  write_bytes(path_, header_bytes());
  const auto outcome = read_all(path_);
  EXPECT_FALSE(outcome.error.has_value());
  EXPECT_TRUE(outcome.records.empty());
}

TEST_F(JournalReading, ReportsAMissingFileAsIoWithErrno) {
  const auto reader = JournalReader::open(dir_.file("absent"));
  ASSERT_FALSE(reader.has_value());
  EXPECT_EQ(reader.error().kind, JournalErrorKind::kIo);
  EXPECT_EQ(reader.error().sys_errno, ENOENT);
  EXPECT_NE(reader.error().message.find("No such file"), std::string::npos);
}

TEST_F(JournalReading, RepeatsTheSameErrorOnEveryCallAfterAFailure) {
  const Written written = write_journal(path_, {10, 10});
  write_bytes(damaged_, written.bytes.substr(0, written.bytes.size() - 3));
  auto reader = JournalReader::open(damaged_);
  ASSERT_TRUE(reader.has_value());
  ASSERT_TRUE(reader->next().has_value());
  const auto first = reader->next();
  const auto second = reader->next();
  ASSERT_FALSE(first.has_value());
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(first.error().kind, JournalErrorKind::kTornTail);
  EXPECT_EQ(second.error().kind, JournalErrorKind::kTornTail);
  EXPECT_EQ(second.error().offset, first.error().offset);
}

// --- torn tails -------------------------------------------------------------------------

TEST_F(JournalReading, ReportsTruncationAtEveryOffsetInsideTheLastRecordAsTornTail) {
  const Written written = write_journal(path_, {5, 0, 33, 40});
  const Record& last = written.records.back();
  for (std::size_t cut = last.offset + 1; cut < written.bytes.size(); ++cut) {
    write_bytes(damaged_, written.bytes.substr(0, cut));
    const auto outcome = read_all(damaged_);
    ASSERT_TRUE(outcome.error.has_value()) << "cut " << cut << " was read as a clean end";
    EXPECT_EQ(outcome.error->kind, JournalErrorKind::kTornTail) << to_string(*outcome.error);
    EXPECT_EQ(outcome.error->offset, last.offset) << "cut " << cut;
    EXPECT_EQ(outcome.error->last_good_sequence, 3U) << "cut " << cut;
    EXPECT_TRUE(outcome.error->tail_damage);
    EXPECT_EQ(outcome.records,
              std::vector<Record>(written.records.begin(), written.records.end() - 1));
  }
}

TEST_F(JournalReading, EndsCleanlyWhenTruncatedExactlyAtARecordBoundary) {
  const Written written = write_journal(path_, {5, 0, 33, 40});
  for (std::size_t kept = 0; kept <= written.records.size(); ++kept) {
    const std::size_t cut =
        kept < written.records.size() ? written.records[kept].offset : written.bytes.size();
    write_bytes(damaged_, written.bytes.substr(0, cut));
    const auto outcome = read_all(damaged_);
    EXPECT_FALSE(outcome.error.has_value()) << "kept " << kept << ": " << to_string(*outcome.error);
    EXPECT_EQ(outcome.records,
              std::vector<Record>(written.records.begin(),
                                  written.records.begin() + static_cast<std::ptrdiff_t>(kept)));
  }
}

TEST_F(JournalReading, NeverReadsATruncatedFileAsAnythingButItsIntactPrefix) {
  const Written written = write_journal(path_, {3, 0, 20, 1, 9});
  for (std::size_t cut = written.header_length; cut <= written.bytes.size(); ++cut) {
    write_bytes(damaged_, written.bytes.substr(0, cut));
    const auto outcome = read_all(damaged_);
    std::size_t complete = 0;
    while (complete < written.records.size() && written.records[complete].offset +
                                                        kRecordOverheadBytes +
                                                        written.records[complete].payload.size() <=
                                                    cut) {
      ++complete;
    }
    const bool at_boundary = complete == written.records.size()
                                 ? cut == written.bytes.size()
                                 : written.records[complete].offset == cut;
    ASSERT_EQ(outcome.records.size(), complete) << "cut " << cut;
    EXPECT_EQ(outcome.error.has_value(), !at_boundary) << "cut " << cut;
    if (outcome.error) {
      EXPECT_EQ(outcome.error->kind, JournalErrorKind::kTornTail);
    }
  }
}

TEST_F(JournalReading, ReportsAZeroFilledTailAsTornTail) {
  const Written written = write_journal(path_, {5, 6});
  write_bytes(damaged_, written.bytes + std::string(300, '\0'));
  const auto outcome = read_all(damaged_);
  ASSERT_TRUE(outcome.error.has_value());
  EXPECT_EQ(outcome.error->kind, JournalErrorKind::kTornTail);
  EXPECT_EQ(outcome.error->offset, written.bytes.size());
  EXPECT_EQ(outcome.error->last_good_sequence, 2U);
  EXPECT_TRUE(outcome.error->tail_damage);
  EXPECT_EQ(outcome.records, written.records);
}

// --- corruption -------------------------------------------------------------------------

TEST_F(JournalReading, DetectsAnySingleByteChangeInAMiddleRecordAndAcceptsNoWrongRecord) {
  const Written written = write_journal(path_, {8, 30, 12});
  const Record& middle = written.records[1];
  const std::size_t end = middle.offset + kRecordOverheadBytes + middle.payload.size();
  for (std::size_t at = middle.offset; at < end; ++at) {
    for (const unsigned mask : {0x01U, 0x80U, 0xFFU}) {
      std::string bytes = written.bytes;
      bytes[at] = static_cast<char>(static_cast<unsigned char>(bytes[at]) ^ mask);
      write_bytes(damaged_, bytes);
      const auto outcome = read_all(damaged_);
      ASSERT_TRUE(outcome.error.has_value()) << "flip at " << at << " was accepted";
      EXPECT_EQ(outcome.error->kind, JournalErrorKind::kChecksumMismatch)
          << "flip at " << at << ": " << to_string(*outcome.error);
      EXPECT_EQ(outcome.error->offset, middle.offset);
      EXPECT_EQ(outcome.error->last_good_sequence, 1U);
      EXPECT_FALSE(outcome.error->tail_damage) << "flip at " << at;
      ASSERT_EQ(outcome.records.size(), 1U);
      EXPECT_EQ(outcome.records[0], written.records[0]);
    }
  }
}

TEST_F(JournalReading, MarksAnyCorruptionOfTheLastRecordAsTailDamage) {
  const Written written = write_journal(path_, {8, 30});
  const Record& last = written.records[1];
  for (std::size_t at = last.offset; at < written.bytes.size(); ++at) {
    std::string bytes = written.bytes;
    bytes[at] = static_cast<char>(static_cast<unsigned char>(bytes[at]) ^ 0x10U);
    write_bytes(damaged_, bytes);
    const auto outcome = read_all(damaged_);
    ASSERT_TRUE(outcome.error.has_value()) << "flip at " << at << " was accepted";
    EXPECT_EQ(outcome.error->kind, JournalErrorKind::kChecksumMismatch) << "flip at " << at;
    EXPECT_EQ(outcome.error->offset, last.offset);
    EXPECT_TRUE(outcome.error->tail_damage) << "flip at " << at;
    EXPECT_EQ(outcome.records, std::vector<Record>{written.records[0]});
  }
}

TEST_F(JournalReading, NamesTheStoredAndComputedChecksumsInTheMessage) {
  const Written written = write_journal(path_, {8, 8});
  std::string bytes = written.bytes;
  bytes[written.records[0].offset + kRecordPrefixBytes] ^= 0x01;
  write_bytes(damaged_, bytes);
  const auto outcome = read_all(damaged_);
  ASSERT_TRUE(outcome.error.has_value());
  EXPECT_NE(outcome.error->message.find("stored 0x"), std::string::npos);
  EXPECT_NE(outcome.error->message.find("computed 0x"), std::string::npos);
  EXPECT_NE(outcome.error->message.find("record 1"), std::string::npos);
  EXPECT_EQ(outcome.error->sequence, 1U);
}

// --- header -----------------------------------------------------------------------------

TEST_F(JournalReading, RejectsAFileWithTheWrongMagicAsBadMagic) {
  std::string bytes = header_bytes();
  bytes[3] = 'X';
  write_bytes(path_, bytes);
  auto reader = JournalReader::open(path_);
  ASSERT_FALSE(reader.has_value());
  EXPECT_EQ(reader.error().kind, JournalErrorKind::kBadMagic);
  EXPECT_EQ(reader.error().offset, 0U);

  write_bytes(path_, "{\"this is\": \"json, not a journal\"}\n");
  reader = JournalReader::open(path_);
  ASSERT_FALSE(reader.has_value());
  EXPECT_EQ(reader.error().kind, JournalErrorKind::kBadMagic);
  EXPECT_NE(reader.error().message.find("DITAJRNL"), std::string::npos);
}

TEST_F(JournalReading, RejectsAWellFormedHeaderOfAnotherVersionAsUnsupportedVersion) {
  for (const std::uint16_t version : {std::uint16_t{0}, std::uint16_t{2}, std::uint16_t{65535}}) {
    write_bytes(path_, header_bytes("{}", version));
    const auto reader = JournalReader::open(path_);
    ASSERT_FALSE(reader.has_value());
    EXPECT_EQ(reader.error().kind, JournalErrorKind::kUnsupportedVersion);
    EXPECT_EQ(reader.error().offset, 8U);
    EXPECT_NE(reader.error().message.find(testing::numbered("version ", version)),
              std::string::npos)
        << reader.error().message;
  }
}

TEST_F(JournalReading, RejectsUnknownHeaderFlagsAsUnsupportedFlags) {
  write_bytes(path_, header_bytes("{}", kFormatVersion, 0x0004));
  const auto reader = JournalReader::open(path_);
  ASSERT_FALSE(reader.has_value());
  EXPECT_EQ(reader.error().kind, JournalErrorKind::kUnsupportedFlags);
}

TEST_F(JournalReading, RejectsAnySingleByteChangeInTheHeader) {
  const Written written = write_journal(path_, {4});
  for (std::size_t at = 0; at < written.header_length; ++at) {
    std::string bytes = written.bytes;
    bytes[at] = static_cast<char>(static_cast<unsigned char>(bytes[at]) ^ 0x01U);
    write_bytes(damaged_, bytes);
    const auto reader = JournalReader::open(damaged_);
    ASSERT_FALSE(reader.has_value()) << "flip at " << at << " was accepted";
    EXPECT_EQ(reader.error().kind,
              at < 8 ? JournalErrorKind::kBadMagic : JournalErrorKind::kCorruptHeader)
        << "flip at " << at << ": " << to_string(reader.error());
  }
}

TEST_F(JournalReading, RejectsATruncatedHeaderAsCorruptHeader) {
  const std::string bytes = header_bytes(kMetadata);
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    write_bytes(path_, bytes.substr(0, cut));
    const auto reader = JournalReader::open(path_);
    ASSERT_FALSE(reader.has_value()) << "cut " << cut;
    EXPECT_EQ(reader.error().kind, JournalErrorKind::kCorruptHeader) << "cut " << cut;
    EXPECT_NE(reader.error().message.find("truncated"), std::string::npos);
  }
}

TEST_F(JournalReading, RejectsAHeaderWhoseLengthsDisagreeEvenWithAValidChecksum) {
  std::string bytes = header_bytes("{}");
  bytes[16] = 3;  // metadata_length 3, header_length still 26
  bytes.resize(bytes.size() - 4);
  const std::uint32_t crc = crc32c(bytes);
  for (int i = 0; i < 4; ++i) bytes += static_cast<char>((crc >> (8 * i)) & 0xFFU);
  write_bytes(path_, bytes);
  const auto reader = JournalReader::open(path_);
  ASSERT_FALSE(reader.has_value());
  EXPECT_EQ(reader.error().kind, JournalErrorKind::kCorruptHeader);
  EXPECT_NE(reader.error().message.find("metadata_length"), std::string::npos);
}

TEST_F(JournalReading, RejectsMetadataThatIsNotUtf8AsCorruptHeader) {
  write_bytes(path_, header_bytes("ok\xC0\xAF"));  // overlong encoding of '/'
  const auto reader = JournalReader::open(path_);
  ASSERT_FALSE(reader.has_value());
  EXPECT_EQ(reader.error().kind, JournalErrorKind::kCorruptHeader);
  EXPECT_EQ(reader.error().offset, 22U);
  EXPECT_NE(reader.error().message.find("UTF-8"), std::string::npos);
}

// --- sequence ---------------------------------------------------------------------------

std::vector<std::uint64_t> kept_sequences(const testing::ReadOutcome& outcome) {
  std::vector<std::uint64_t> sequences;
  for (const Record& record : outcome.records) sequences.push_back(record.sequence);
  return sequences;
}

TEST_F(JournalReading, ReportsASequenceGapAsOutOfOrder) {
  std::string bytes = header_bytes();
  detail::encode_record(bytes, 1, 1, "a");
  detail::encode_record(bytes, 2, 2, "b");
  const std::size_t gap_offset = bytes.size();
  detail::encode_record(bytes, 1, 4, "d");
  write_bytes(path_, bytes);
  const auto outcome = read_all(path_);
  ASSERT_TRUE(outcome.error.has_value());
  EXPECT_EQ(outcome.error->kind, JournalErrorKind::kOutOfOrder);
  EXPECT_EQ(outcome.error->offset, gap_offset);
  EXPECT_EQ(outcome.error->sequence, 4U);
  EXPECT_EQ(outcome.error->last_good_sequence, 2U);
  EXPECT_FALSE(outcome.error->tail_damage);
  EXPECT_NE(outcome.error->message.find("3 was expected"), std::string::npos);
  EXPECT_EQ(kept_sequences(outcome), (std::vector<std::uint64_t>{1, 2}));
}

TEST_F(JournalReading, ReportsReorderedRecordsAsOutOfOrder) {
  std::string bytes = header_bytes();
  detail::encode_record(bytes, 1, 1, "a");
  detail::encode_record(bytes, 1, 3, "c");
  detail::encode_record(bytes, 1, 2, "b");
  write_bytes(path_, bytes);
  const auto outcome = read_all(path_);
  ASSERT_TRUE(outcome.error.has_value());
  EXPECT_EQ(outcome.error->kind, JournalErrorKind::kOutOfOrder);
  EXPECT_EQ(outcome.error->sequence, 3U);
  EXPECT_EQ(kept_sequences(outcome), (std::vector<std::uint64_t>{1}));
}

TEST_F(JournalReading, ReportsADuplicatedRecordAsOutOfOrder) {
  std::string bytes = header_bytes();
  detail::encode_record(bytes, 1, 1, "a");
  detail::encode_record(bytes, 1, 1, "a");
  write_bytes(path_, bytes);
  const auto outcome = read_all(path_);
  ASSERT_TRUE(outcome.error.has_value());
  EXPECT_EQ(outcome.error->kind, JournalErrorKind::kOutOfOrder);
  EXPECT_EQ(outcome.records.size(), 1U);
}

TEST_F(JournalReading, RequiresTheFirstSequenceToBeOne) {
  for (const std::uint64_t first : {std::uint64_t{0}, std::uint64_t{2}}) {
    std::string bytes = header_bytes();
    detail::encode_record(bytes, 1, first, "a");
    write_bytes(path_, bytes);
    const auto outcome = read_all(path_);
    ASSERT_TRUE(outcome.error.has_value());
    EXPECT_EQ(outcome.error->kind, JournalErrorKind::kOutOfOrder) << first;
    EXPECT_TRUE(outcome.records.empty());
  }
}

// --- limits and types -------------------------------------------------------------------

TEST_F(JournalReading, RejectsAnOversizedLengthFieldBeforeReadingOrAllocatingThePayload) {
  for (const std::uint32_t length : {kMaxPayloadBytes + 1, 0xFFFFFFFFU}) {
    std::string bytes = header_bytes();
    detail::encode_record(bytes, 1, 1, "ok");
    const std::size_t bad_offset = bytes.size();
    // Only the 17-byte prefix is present: had the reader tried to read (and so allocate)
    // the payload it would have reported a torn tail instead.
    detail::encode_record_prefix(bytes, length, 1, 2);
    write_bytes(path_, bytes);
    const auto outcome = read_all(path_);
    ASSERT_TRUE(outcome.error.has_value());
    EXPECT_EQ(outcome.error->kind, JournalErrorKind::kRecordTooLarge) << length;
    EXPECT_EQ(outcome.error->offset, bad_offset);
    EXPECT_EQ(outcome.error->sequence, 2U);
    EXPECT_FALSE(outcome.error->tail_damage);
    EXPECT_NE(outcome.error->message.find(std::to_string(length)), std::string::npos);
    EXPECT_EQ(outcome.records.size(), 1U);
  }
}

TEST_F(JournalReading, AcceptsAPayloadOfExactlyTheMaximumSize) {
  const std::string payload = make_payload(kMaxPayloadBytes, 9);
  {
    auto writer = JournalWriter::create(path_, FsyncPolicy::never(), "");
    ASSERT_TRUE(writer.has_value());
    ASSERT_TRUE(writer->append(RecordType::kMeta, payload).has_value());
    ASSERT_TRUE(writer->close().has_value());
  }
  const auto outcome = read_all(path_);
  EXPECT_FALSE(outcome.error.has_value());
  ASSERT_EQ(outcome.records.size(), 1U);
  EXPECT_TRUE(outcome.records[0].payload == payload);
}

TEST_F(JournalReading, RejectsAnUnknownRecordTypeByte) {
  for (const std::uint8_t type : {std::uint8_t{0}, std::uint8_t{4}, std::uint8_t{255}}) {
    std::string bytes = header_bytes();
    detail::encode_record(bytes, type, 1, "x");
    write_bytes(path_, bytes);
    const auto outcome = read_all(path_);
    ASSERT_TRUE(outcome.error.has_value());
    EXPECT_EQ(outcome.error->kind, JournalErrorKind::kUnknownRecordType) << int{type};
    EXPECT_NE(outcome.error->message.find(testing::numbered("type ", type)), std::string::npos);
  }
}

}  // namespace
}  // namespace dita::journal
