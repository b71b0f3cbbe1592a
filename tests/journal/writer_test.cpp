// Writing: exclusive creation, numbering, group commit, durability accounting, locking,
// I/O failure, and tail repair on reopen.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <string>
#include <vector>

#include "dita/journal/journal.hpp"
#include "journal/format.hpp"
#include "journal/test_support.hpp"

namespace dita::journal {
namespace {

using testing::read_all;
using testing::read_bytes;
using testing::write_bytes;

std::vector<std::string> payloads_of(const testing::ReadOutcome& outcome) {
  std::vector<std::string> payloads;
  for (const Record& record : outcome.records) payloads.push_back(record.payload);
  return payloads;
}

class JournalWriting : public ::testing::Test {
 protected:
  // Writes records "r1".."rN" with one commit each and closes the journal.
  std::string write_records(int count, std::string_view metadata = "{}") {
    auto writer = JournalWriter::create(path_, FsyncPolicy::never(), metadata);
    EXPECT_TRUE(writer.has_value());
    for (int i = 1; i <= count; ++i) {
      EXPECT_TRUE(writer->append(RecordType::kInput, testing::numbered("r", i)).has_value());
      EXPECT_TRUE(writer->commit().has_value());
    }
    EXPECT_TRUE(writer->close().has_value());
    return read_bytes(path_);
  }

  testing::TempDir dir_;
  std::filesystem::path path_ = dir_.file("journal.dj");
};

TEST_F(JournalWriting, CreateRefusesAnExistingPathAndLeavesItUntouched) {
  write_bytes(path_, "precious");
  const auto writer = JournalWriter::create(path_, FsyncPolicy::always(), "{}");
  ASSERT_FALSE(writer.has_value());
  EXPECT_EQ(writer.error().kind, JournalErrorKind::kAlreadyExists);
  EXPECT_NE(writer.error().message.find(path_.string()), std::string::npos);
  EXPECT_EQ(read_bytes(path_), "precious");
}

TEST_F(JournalWriting, CreatesTheFileWithOwnerOnlyPermissionsWhateverTheUmask) {
  for (const mode_t mask : {mode_t{0}, mode_t{022}, mode_t{0277}}) {
    const std::filesystem::path path = dir_.file(testing::numbered("perm", mask));
    const mode_t previous = ::umask(mask);
    auto writer = JournalWriter::create(path, FsyncPolicy::always(), "{}");
    ::umask(previous);
    ASSERT_TRUE(writer.has_value()) << to_string(writer.error());
    struct stat info {};
    ASSERT_EQ(::stat(path.c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 07777, 0600U) << "umask " << mask;
  }
}

TEST_F(JournalWriting, CreateInAMissingDirectoryFailsWithIoAndErrno) {
  const auto writer =
      JournalWriter::create(dir_.file("no/such/dir/j.dj"), FsyncPolicy::always(), "{}");
  ASSERT_FALSE(writer.has_value());
  EXPECT_EQ(writer.error().kind, JournalErrorKind::kIo);
  EXPECT_EQ(writer.error().sys_errno, ENOENT);
}

TEST_F(JournalWriting, CreateRejectsMetadataThatIsTooLargeOrNotUtf8AndLeavesNoFile) {
  const std::string too_large(kMaxMetadataBytes + 1, 'm');
  for (const std::string_view metadata : {std::string_view(too_large), std::string_view("\xFF")}) {
    const auto writer = JournalWriter::create(path_, FsyncPolicy::always(), metadata);
    ASSERT_FALSE(writer.has_value());
    EXPECT_EQ(writer.error().kind, JournalErrorKind::kInvalidArgument);
    EXPECT_FALSE(std::filesystem::exists(path_));
  }
}

TEST_F(JournalWriting, RejectsABatchPolicyOfZeroCommits) {
  const auto writer = JournalWriter::create(path_, FsyncPolicy::batch(0), "{}");
  ASSERT_FALSE(writer.has_value());
  EXPECT_EQ(writer.error().kind, JournalErrorKind::kInvalidArgument);
}

TEST_F(JournalWriting, AppendNumbersRecordsFromOneAndBuffersThemUntilCommit) {
  auto writer = JournalWriter::create(path_, FsyncPolicy::always(), "{}");
  ASSERT_TRUE(writer.has_value());
  const auto header_size = read_bytes(path_).size();
  EXPECT_EQ(writer->append(RecordType::kInput, "a"), 1U);
  EXPECT_EQ(writer->append(RecordType::kOutput, ""), 2U);
  EXPECT_EQ(writer->append(RecordType::kMeta, "c"), 3U);
  EXPECT_EQ(read_bytes(path_).size(), header_size);
  EXPECT_TRUE(read_all(path_).records.empty());
  EXPECT_EQ(writer->committed_sequence(), 0U);

  ASSERT_TRUE(writer->commit().has_value());
  EXPECT_EQ(writer->pending_bytes(), 0U);
  EXPECT_EQ(writer->committed_sequence(), 3U);
  const auto outcome = read_all(path_);
  EXPECT_FALSE(outcome.error.has_value());
  EXPECT_EQ(payloads_of(outcome), (std::vector<std::string>{"a", "", "c"}));
  EXPECT_EQ(outcome.records[1].type, RecordType::kOutput);
}

TEST_F(JournalWriting, OpenForAppendContinuesTheSequenceAndKeepsTheMetadata) {
  write_records(3, R"({"run":"a"})");
  {
    auto writer = JournalWriter::open_for_append(path_, FsyncPolicy::always(), TailRepair::kRefuse);
    ASSERT_TRUE(writer.has_value()) << to_string(writer.error());
    EXPECT_EQ(writer->last_sequence(), 3U);
    EXPECT_EQ(writer->committed_sequence(), 3U);
    EXPECT_EQ(writer->durable_sequence(), 3U);
    EXPECT_EQ(writer->dropped_tail_bytes(), 0U);
    EXPECT_EQ(writer->header().metadata, R"({"run":"a"})");
    EXPECT_EQ(writer->append(RecordType::kInput, "r4"), 4U);
    ASSERT_TRUE(writer->close().has_value());
  }
  const auto outcome = read_all(path_);
  EXPECT_FALSE(outcome.error.has_value());
  EXPECT_EQ(payloads_of(outcome), (std::vector<std::string>{"r1", "r2", "r3", "r4"}));
  EXPECT_EQ(outcome.records.back().sequence, 4U);
}

TEST_F(JournalWriting, CloseAndDestructionFlushPendingRecords) {
  {
    auto writer = JournalWriter::create(path_, FsyncPolicy::batch(100), "{}");
    ASSERT_TRUE(writer.has_value());
    ASSERT_TRUE(writer->append(RecordType::kInput, "closed").has_value());
    ASSERT_TRUE(writer->close().has_value());
    EXPECT_EQ(writer->durable_sequence(), 1U);
  }
  {
    auto writer = JournalWriter::open_for_append(path_, FsyncPolicy::never(), TailRepair::kRefuse);
    ASSERT_TRUE(writer.has_value());
    ASSERT_TRUE(writer->append(RecordType::kInput, "destroyed").has_value());
  }
  EXPECT_EQ(payloads_of(read_all(path_)), (std::vector<std::string>{"closed", "destroyed"}));
}

TEST_F(JournalWriting, AlwaysPolicyMakesEveryCommitDurable) {
  auto writer = JournalWriter::create(path_, FsyncPolicy::always(), "{}");
  ASSERT_TRUE(writer.has_value());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(writer->append(RecordType::kInput, "x").has_value());
    ASSERT_TRUE(writer->append(RecordType::kOutput, "y").has_value());
    ASSERT_TRUE(writer->commit().has_value());
    EXPECT_EQ(writer->durable_sequence(), writer->committed_sequence());
    EXPECT_EQ(writer->durable_sequence(), static_cast<std::uint64_t>(2 * (i + 1)));
  }
}

TEST_F(JournalWriting, BatchPolicySyncsEveryNthNonEmptyCommitAndOnClose) {
  auto writer = JournalWriter::create(path_, FsyncPolicy::batch(3), "{}");
  ASSERT_TRUE(writer.has_value());
  const auto commit_one = [&] {
    ASSERT_TRUE(writer->append(RecordType::kInput, "x").has_value());
    ASSERT_TRUE(writer->commit().has_value());
  };
  commit_one();
  commit_one();
  ASSERT_TRUE(writer->commit().has_value());  // empty: does not count
  EXPECT_EQ(writer->committed_sequence(), 2U);
  EXPECT_EQ(writer->durable_sequence(), 0U);
  commit_one();
  EXPECT_EQ(writer->durable_sequence(), 3U);
  commit_one();
  EXPECT_EQ(writer->durable_sequence(), 3U);
  ASSERT_TRUE(writer->close().has_value());
  EXPECT_EQ(writer->durable_sequence(), 4U);
}

TEST_F(JournalWriting, NeverPolicySyncsOnlyWhenAskedExplicitly) {
  auto writer = JournalWriter::create(path_, FsyncPolicy::never(), "{}");
  ASSERT_TRUE(writer.has_value());
  ASSERT_TRUE(writer->append(RecordType::kInput, "x").has_value());
  ASSERT_TRUE(writer->commit().has_value());
  EXPECT_EQ(writer->committed_sequence(), 1U);
  EXPECT_EQ(writer->durable_sequence(), 0U);
  ASSERT_TRUE(writer->sync().has_value());
  EXPECT_EQ(writer->durable_sequence(), 1U);
}

TEST_F(JournalWriting, RejectsAnOversizedPayloadWithoutConsumingASequenceNumber) {
  auto writer = JournalWriter::create(path_, FsyncPolicy::never(), "{}");
  ASSERT_TRUE(writer.has_value());
  const std::string too_large(kMaxPayloadBytes + 1, 'p');
  const auto rejected = writer->append(RecordType::kInput, too_large);
  ASSERT_FALSE(rejected.has_value());
  EXPECT_EQ(rejected.error().kind, JournalErrorKind::kRecordTooLarge);
  EXPECT_NE(rejected.error().message.find(std::to_string(kMaxPayloadBytes)), std::string::npos);
  EXPECT_EQ(writer->pending_bytes(), 0U);
  EXPECT_EQ(writer->append(RecordType::kInput, "fits"), 1U);
}

TEST_F(JournalWriting, RejectsARecordTypeOutsideTheEnum) {
  auto writer = JournalWriter::create(path_, FsyncPolicy::never(), "{}");
  ASSERT_TRUE(writer.has_value());
  const auto rejected = writer->append(static_cast<RecordType>(9), "x");
  ASSERT_FALSE(rejected.has_value());
  EXPECT_EQ(rejected.error().kind, JournalErrorKind::kInvalidArgument);
  EXPECT_EQ(writer->append(RecordType::kMeta, "x"), 1U);
}

TEST_F(JournalWriting, RefusesASecondWriterWhileTheFirstHoldsTheJournal) {
  auto first = JournalWriter::create(path_, FsyncPolicy::never(), "{}");
  ASSERT_TRUE(first.has_value());
  const auto second =
      JournalWriter::open_for_append(path_, FsyncPolicy::never(), TailRepair::kRefuse);
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().kind, JournalErrorKind::kLocked);
  ASSERT_TRUE(first->close().has_value());
  EXPECT_TRUE(
      JournalWriter::open_for_append(path_, FsyncPolicy::never(), TailRepair::kRefuse).has_value());
}

TEST_F(JournalWriting, ReportsClosedAfterCloseAndAfterBeingMovedFrom) {
  auto writer = JournalWriter::create(path_, FsyncPolicy::never(), "{}");
  ASSERT_TRUE(writer.has_value());
  JournalWriter moved = std::move(*writer);
  EXPECT_EQ(writer->append(RecordType::kInput, "x").error().kind, JournalErrorKind::kClosed);
  EXPECT_EQ(moved.append(RecordType::kInput, "x"), 1U);
  ASSERT_TRUE(moved.close().has_value());
  EXPECT_TRUE(moved.close().has_value());  // idempotent
  EXPECT_FALSE(moved.is_open());
  EXPECT_EQ(moved.append(RecordType::kInput, "y").error().kind, JournalErrorKind::kClosed);
  EXPECT_EQ(moved.commit().error().kind, JournalErrorKind::kClosed);
  EXPECT_EQ(moved.sync().error().kind, JournalErrorKind::kClosed);
  EXPECT_EQ(payloads_of(read_all(path_)), (std::vector<std::string>{"x"}));
}

// Lowers the file-size limit so the kernel itself fails a write with EFBIG part-way.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    previous_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    ::getrlimit(RLIMIT_FSIZE, &previous_);
    rlimit lowered = previous_;
    lowered.rlim_cur = bytes;
    ::setrlimit(RLIMIT_FSIZE, &lowered);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &previous_);
    std::signal(SIGXFSZ, previous_handler_);
  }

 private:
  rlimit previous_{};
  void (*previous_handler_)(int) = nullptr;
};

TEST_F(JournalWriting, ReturnsIoErrorsAsValuesAndThenRefusesFurtherWorkUntilReopened) {
  auto writer = JournalWriter::create(path_, FsyncPolicy::always(), "{}");
  ASSERT_TRUE(writer.has_value());
  ASSERT_TRUE(writer->append(RecordType::kInput, "kept").has_value());
  ASSERT_TRUE(writer->commit().has_value());
  const auto good_size = read_bytes(path_).size();
  std::expected<void, JournalError> failed;
  {
    const FileSizeLimit limit(good_size + 10);
    ASSERT_TRUE(writer->append(RecordType::kInput, std::string(100, 'z')).has_value());
    failed = writer->commit();
  }
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().kind, JournalErrorKind::kIo);
  EXPECT_EQ(failed.error().sys_errno, EFBIG);
  EXPECT_NE(failed.error().message.find(std::strerror(EFBIG)), std::string::npos);
  EXPECT_EQ(read_bytes(path_).size(), good_size + 10);  // the short write really happened

  const auto refused = writer->append(RecordType::kInput, "more");
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().kind, JournalErrorKind::kIo);
  EXPECT_NE(refused.error().message.find("earlier I/O error"), std::string::npos);
  EXPECT_FALSE(writer->commit().has_value());
  EXPECT_FALSE(writer->close().has_value());

  auto reopened =
      JournalWriter::open_for_append(path_, FsyncPolicy::always(), TailRepair::kTruncateTornTail);
  ASSERT_TRUE(reopened.has_value()) << to_string(reopened.error());
  EXPECT_EQ(reopened->dropped_tail_bytes(), 10U);
  EXPECT_EQ(reopened->append(RecordType::kInput, "after"), 2U);
  ASSERT_TRUE(reopened->close().has_value());
  EXPECT_EQ(payloads_of(read_all(path_)), (std::vector<std::string>{"kept", "after"}));
}

// --- tail repair ------------------------------------------------------------------------

TEST_F(JournalWriting, RefuseReportsATornTailAndLeavesTheFileUntouched) {
  const std::string bytes = write_records(3);
  const std::string torn = bytes.substr(0, bytes.size() - 2);
  write_bytes(path_, torn);
  const auto writer =
      JournalWriter::open_for_append(path_, FsyncPolicy::always(), TailRepair::kRefuse);
  ASSERT_FALSE(writer.has_value());
  EXPECT_EQ(writer.error().kind, JournalErrorKind::kTornTail);
  EXPECT_EQ(writer.error().last_good_sequence, 2U);
  EXPECT_EQ(read_bytes(path_), torn);
}

TEST_F(JournalWriting, TruncateTornTailCutsOnlyThePartialRecordAndReportsTheDroppedBytes) {
  const std::string bytes = write_records(3);
  const std::size_t last_offset = bytes.size() - (kRecordOverheadBytes + 2);
  for (std::size_t cut = last_offset + 1; cut < bytes.size(); ++cut) {
    write_bytes(path_, bytes.substr(0, cut));
    auto writer =
        JournalWriter::open_for_append(path_, FsyncPolicy::always(), TailRepair::kTruncateTornTail);
    ASSERT_TRUE(writer.has_value()) << "cut " << cut << ": " << to_string(writer.error());
    EXPECT_EQ(writer->dropped_tail_bytes(), cut - last_offset);
    EXPECT_EQ(writer->last_sequence(), 2U);
    EXPECT_EQ(read_bytes(path_), bytes.substr(0, last_offset));
    EXPECT_EQ(writer->append(RecordType::kInput, "new3"), 3U);
    ASSERT_TRUE(writer->close().has_value());
    const auto outcome = read_all(path_);
    EXPECT_FALSE(outcome.error.has_value());
    EXPECT_EQ(payloads_of(outcome), (std::vector<std::string>{"r1", "r2", "new3"}));
  }
}

TEST_F(JournalWriting, TruncateTornTailRemovesACorruptLastRecordAndAZeroFilledTail) {
  const std::string bytes = write_records(2);
  std::string corrupt_last = bytes;
  corrupt_last[corrupt_last.size() - 5] ^= 0x40;  // inside the last payload
  for (const std::string& damaged : {corrupt_last, bytes + std::string(64, '\0')}) {
    write_bytes(path_, damaged);
    auto writer =
        JournalWriter::open_for_append(path_, FsyncPolicy::always(), TailRepair::kTruncateTornTail);
    ASSERT_TRUE(writer.has_value()) << to_string(writer.error());
    EXPECT_EQ(writer->dropped_tail_bytes(),
              damaged == corrupt_last ? kRecordOverheadBytes + 2 : 64U);
    ASSERT_TRUE(writer->close().has_value());
    EXPECT_FALSE(read_all(path_).error.has_value());
  }
}

TEST_F(JournalWriting, NeverRepairsACorruptRecordThatIsFollowedByGoodRecords) {
  std::string bytes = write_records(3);
  const std::size_t header_length = bytes.size() - 3 * (kRecordOverheadBytes + 2);
  bytes[header_length + kRecordOverheadBytes + 2 + kRecordPrefixBytes] ^= 0x01;  // r2 payload
  write_bytes(path_, bytes);
  const auto writer =
      JournalWriter::open_for_append(path_, FsyncPolicy::always(), TailRepair::kTruncateTornTail);
  ASSERT_FALSE(writer.has_value());
  EXPECT_EQ(writer.error().kind, JournalErrorKind::kChecksumMismatch);
  EXPECT_FALSE(writer.error().tail_damage);
  EXPECT_NE(writer.error().message.find("follows"), std::string::npos);
  EXPECT_EQ(read_bytes(path_), bytes);
}

TEST_F(JournalWriting, NeverRepairsACorruptRecordHeaderThatIsFollowedByGoodRecords) {
  std::string bytes = write_records(3);
  const std::size_t header_length = bytes.size() - 3 * (kRecordOverheadBytes + 2);
  bytes[header_length + 1] ^= 0x01;  // r1 length field: its extent is now unknown
  write_bytes(path_, bytes);
  const auto writer =
      JournalWriter::open_for_append(path_, FsyncPolicy::always(), TailRepair::kTruncateTornTail);
  ASSERT_FALSE(writer.has_value());
  EXPECT_EQ(writer.error().kind, JournalErrorKind::kChecksumMismatch);
  EXPECT_EQ(writer.error().offset, header_length);
  EXPECT_EQ(read_bytes(path_), bytes);
}

TEST_F(JournalWriting, NeverRepairsHeaderDamageOrASequenceError) {
  std::string bytes = write_records(1);
  std::string bad_header = bytes;
  bad_header[9] ^= 0x01;
  std::string gap;
  detail::encode_header(gap, "{}");
  detail::encode_record(gap, 1, 1, "a");
  detail::encode_record(gap, 1, 3, "c");
  for (const auto& [damaged, kind] : {std::pair{bad_header, JournalErrorKind::kCorruptHeader},
                                      std::pair{gap, JournalErrorKind::kOutOfOrder}}) {
    write_bytes(path_, damaged);
    const auto writer =
        JournalWriter::open_for_append(path_, FsyncPolicy::always(), TailRepair::kTruncateTornTail);
    ASSERT_FALSE(writer.has_value());
    EXPECT_EQ(writer.error().kind, kind);
    EXPECT_EQ(read_bytes(path_), damaged);
  }
}

}  // namespace
}  // namespace dita::journal
