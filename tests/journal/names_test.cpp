#include <gtest/gtest.h>

#include <set>
#include <string>

#include "dita/journal/journal.hpp"

namespace dita::journal {
namespace {

TEST(JournalErrorKindNames, AreStableAndDistinct) {
  const std::vector<std::pair<JournalErrorKind, std::string_view>> expected = {
      {JournalErrorKind::kIo, "IO"},
      {JournalErrorKind::kAlreadyExists, "ALREADY_EXISTS"},
      {JournalErrorKind::kLocked, "LOCKED"},
      {JournalErrorKind::kClosed, "CLOSED"},
      {JournalErrorKind::kInvalidArgument, "INVALID_ARGUMENT"},
      {JournalErrorKind::kBadMagic, "BAD_MAGIC"},
      {JournalErrorKind::kUnsupportedVersion, "UNSUPPORTED_VERSION"},
      {JournalErrorKind::kUnsupportedFlags, "UNSUPPORTED_FLAGS"},
      {JournalErrorKind::kCorruptHeader, "CORRUPT_HEADER"},
      {JournalErrorKind::kTornTail, "TORN_TAIL"},
      {JournalErrorKind::kChecksumMismatch, "CHECKSUM_MISMATCH"},
      {JournalErrorKind::kOutOfOrder, "OUT_OF_ORDER"},
      {JournalErrorKind::kRecordTooLarge, "RECORD_TOO_LARGE"},
      {JournalErrorKind::kUnknownRecordType, "UNKNOWN_RECORD_TYPE"},
  };
  std::set<std::string_view> seen;
  for (const auto& [kind, name] : expected) {
    EXPECT_EQ(to_string(kind), name);
    EXPECT_TRUE(seen.insert(to_string(kind)).second) << name;
  }
}

TEST(JournalErrorDescription, NamesKindOffsetSequencesAndMessage) {
  JournalError error;
  error.kind = JournalErrorKind::kTornTail;
  error.offset = 123;
  error.sequence = 7;
  error.last_good_sequence = 6;
  error.message = "file ends early";
  EXPECT_EQ(to_string(error), "TORN_TAIL at offset 123 (sequence 7, last good 6): file ends early");
}

TEST(RecordTypeNames, RoundTripThroughTheirStringForm) {
  for (const RecordType type : {RecordType::kInput, RecordType::kOutput, RecordType::kMeta}) {
    EXPECT_EQ(parse_record_type(to_string(type)), type);
  }
  EXPECT_EQ(to_string(RecordType::kInput), "INPUT");
  EXPECT_EQ(to_string(RecordType::kOutput), "OUTPUT");
  EXPECT_EQ(to_string(RecordType::kMeta), "META");
  EXPECT_EQ(static_cast<int>(RecordType::kInput), 1);
  EXPECT_EQ(static_cast<int>(RecordType::kOutput), 2);
  EXPECT_EQ(static_cast<int>(RecordType::kMeta), 3);
  EXPECT_FALSE(parse_record_type("input").has_value());
}

TEST(FsyncPolicyParser, AcceptsAlwaysNeverAndBatchWithACount) {
  EXPECT_EQ(parse_fsync_policy("always"), FsyncPolicy::always());
  EXPECT_EQ(parse_fsync_policy("never"), FsyncPolicy::never());
  EXPECT_EQ(parse_fsync_policy("batch:1"), FsyncPolicy::batch(1));
  EXPECT_EQ(parse_fsync_policy("batch:64"), FsyncPolicy::batch(64));
  EXPECT_EQ(parse_fsync_policy("batch:4294967295"), FsyncPolicy::batch(4294967295U));
}

TEST(FsyncPolicyParser, RejectsAnythingElseWithAMessageNamingTheAllowedValues) {
  for (const std::string_view bad :
       {"", "Always", "ALWAYS", " always", "always ", "sometimes", "batch", "batch:", "batch:0",
        "batch:-1", "batch:+4", "batch: 4", "batch:4x", "batch:x", "batch:4294967296",
        "batch:99999999999999999999", "batch:1:2"}) {
    const auto parsed = parse_fsync_policy(bad);
    ASSERT_FALSE(parsed.has_value()) << "'" << bad << "' was accepted";
    EXPECT_EQ(parsed.error().kind, JournalErrorKind::kInvalidArgument);
    const std::string& message = parsed.error().message;
    std::string quoted(1, '\'');
    quoted.append(bad).push_back('\'');
    EXPECT_NE(message.find(quoted), std::string::npos) << message;
    EXPECT_NE(message.find("always"), std::string::npos) << message;
    EXPECT_NE(message.find("batch:N"), std::string::npos) << message;
    EXPECT_NE(message.find("never"), std::string::npos) << message;
  }
}

TEST(FsyncPolicyParser, RoundTripsEveryPolicyThroughItsStringForm) {
  for (const FsyncPolicy policy : {FsyncPolicy::always(), FsyncPolicy::never(),
                                   FsyncPolicy::batch(1), FsyncPolicy::batch(1000)}) {
    EXPECT_EQ(parse_fsync_policy(to_string(policy)), policy) << to_string(policy);
  }
  EXPECT_EQ(to_string(FsyncPolicy::batch(8)), "batch:8");
}

}  // namespace
}  // namespace dita::journal
