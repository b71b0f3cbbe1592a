// The durable spool: order, cursor persistence across reopen, torn tails, locking, segments.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>

#include "dita/sink/spool.hpp"
#include "sink/server_harness.hpp"

namespace dita::sink::spool {
namespace {

using testing::TempDir;

std::unique_ptr<Spool> open_spool(const std::string& dir, std::uint64_t segment_bytes = 1 << 20) {
  auto spool = Spool::open({dir, segment_bytes});
  EXPECT_TRUE(spool.has_value()) << (spool ? "" : spool.error().message);
  return spool ? std::move(*spool) : nullptr;
}

std::vector<SpoolRecord> read_all(Spool& spool) {
  std::vector<SpoolRecord> out;
  while (true) {
    auto got = spool.read(7, 1 << 20, out);
    EXPECT_TRUE(got.has_value());
    if (!got || *got == 0) break;
  }
  return out;
}

TEST(Spool, RecordsAreReadInOrderOnlyOnceCommitted) {
  TempDir dir("dita-spool");
  auto spool = open_spool(dir.path());
  EXPECT_EQ(spool->append(10, "a"), 1U);
  EXPECT_EQ(spool->append(11, "bb"), 2U);
  EXPECT_TRUE(read_all(*spool).empty());
  ASSERT_TRUE(spool->commit());
  const auto records = read_all(*spool);
  ASSERT_EQ(records.size(), 2U);
  EXPECT_EQ(records[0].payload, "a");
  EXPECT_EQ(records[1].tag, 11U);
  EXPECT_EQ(spool->depth(), 2U);
  ASSERT_TRUE(spool->acknowledge(2));
  EXPECT_EQ(spool->depth(), 0U);
}

TEST(Spool, ReopenDeliversExactlyTheUnacknowledgedRecords) {
  TempDir dir("dita-spool");
  {
    auto spool = open_spool(dir.path());
    for (std::uint64_t i = 1; i <= 10; ++i) spool->append(100 + i, "r" + std::to_string(i));
    ASSERT_TRUE(spool->commit());
    std::vector<SpoolRecord> some;
    ASSERT_TRUE(spool->read(4, 1 << 20, some));
    ASSERT_TRUE(spool->acknowledge(4));
  }
  auto spool = open_spool(dir.path());
  EXPECT_EQ(spool->delivered_seq(), 4U);
  EXPECT_EQ(spool->max_tag(), 110U);
  const auto records = read_all(*spool);
  ASSERT_EQ(records.size(), 6U);
  EXPECT_EQ(records.front().seq, 5U);
  EXPECT_EQ(records.front().payload, "r5");
  EXPECT_EQ(spool->append(0, "next"), 11U);
}

TEST(Spool, MaxTagSurvivesEvenWhenEverythingWasDelivered) {
  TempDir dir("dita-spool");
  {
    auto spool = open_spool(dir.path(), 1024);
    for (std::uint64_t i = 1; i <= 200; ++i) spool->append(i, std::string(40, 'x'));
    ASSERT_TRUE(spool->commit());
    read_all(*spool);
    ASSERT_TRUE(spool->acknowledge(200));
  }
  auto spool = open_spool(dir.path(), 1024);
  EXPECT_EQ(spool->max_tag(), 200U);
  EXPECT_EQ(spool->depth(), 0U);
  EXPECT_EQ(spool->append(0, "x"), 201U);
}

TEST(Spool, SegmentsRollAndDeliveredOnesAreDeleted) {
  TempDir dir("dita-spool");
  auto spool = open_spool(dir.path(), 1024);
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 10; ++i)
      spool->append(0, std::string(50, static_cast<char>('a' + (round % 26))));
    ASSERT_TRUE(spool->commit());
  }
  EXPECT_GT(spool->segment_count(), 5U);
  const auto records = read_all(*spool);
  ASSERT_EQ(records.size(), 200U);
  for (std::size_t i = 0; i < records.size(); ++i) EXPECT_EQ(records[i].seq, i + 1);
  ASSERT_TRUE(spool->acknowledge(200));
  EXPECT_LE(spool->segment_count(), 2U);
}

TEST(Spool, ATornTailIsCutOffAndEarlierRecordsSurvive) {
  TempDir dir("dita-spool");
  {
    auto spool = open_spool(dir.path());
    spool->append(1, "complete");
    ASSERT_TRUE(spool->commit());
  }
  std::filesystem::path segment;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    if (entry.path().extension() == ".spool") segment = entry.path();
  }
  const int fd = ::open(segment.c_str(), O_WRONLY | O_APPEND);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "\x10\x00\x00\x00garbage", 11), 11);
  ::close(fd);
  auto spool = open_spool(dir.path());
  EXPECT_EQ(spool->repaired_bytes(), 11U);
  const auto records = read_all(*spool);
  ASSERT_EQ(records.size(), 1U);
  EXPECT_EQ(records[0].payload, "complete");
  EXPECT_EQ(spool->append(0, "after"), 2U);
}

TEST(Spool, SecondOwnerOfTheSameDirectoryIsRefused) {
  TempDir dir("dita-spool");
  auto first = open_spool(dir.path());
  auto second = Spool::open({dir.path(), 1 << 20});
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code, ErrorCode::kLocked);
}

TEST(Spool, ReaderAndWriterThreadsInterleaveWithoutLossOrReordering) {
  TempDir dir("dita-spool");
  auto spool = open_spool(dir.path(), 4096);
  std::thread writer([&] {
    for (std::uint64_t i = 1; i <= 5000; ++i) {
      spool->append(i, std::to_string(i));
      if (i % 7 == 0) {
        ASSERT_TRUE(spool->commit());
      }
    }
    ASSERT_TRUE(spool->commit());
  });
  std::uint64_t expected = 1;
  std::vector<SpoolRecord> batch;
  while (expected <= 5000) {
    batch.clear();
    ASSERT_TRUE(spool->read(100, 1 << 20, batch));
    for (const auto& record : batch) {
      ASSERT_EQ(record.seq, expected);
      ASSERT_EQ(record.payload, std::to_string(expected));
      ++expected;
    }
    if (!batch.empty()) {
      ASSERT_TRUE(spool->acknowledge(batch.back().seq));
    }
  }
  writer.join();
}

}  // namespace
}  // namespace dita::sink::spool
