#include "journal/io.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "journal/test_support.hpp"

namespace dita::journal {
namespace {

// State for the fake pwrite; a function pointer seam cannot capture, hence globals.
int g_calls = 0;
int g_fail_with = 0;

// Alternates EINTR with writes of at most 3 bytes, then delegates to the real pwrite.
ssize_t stuttering_pwrite(int fd, const void* data, std::size_t size, off_t offset) {
  if (g_calls++ % 2 == 0) {
    errno = EINTR;
    return -1;
  }
  return ::pwrite(fd, data, std::min<std::size_t>(size, 3), offset);
}

ssize_t failing_pwrite(int fd, const void* data, std::size_t size, off_t offset) {
  if (g_calls++ == 0) return ::pwrite(fd, data, std::min<std::size_t>(size, 5), offset);
  errno = g_fail_with;
  return -1;
}

ssize_t zero_pwrite(int, const void*, std::size_t, off_t) {
  return 0;
}

class WriteAll : public ::testing::Test {
 protected:
  void SetUp() override {
    g_calls = 0;
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    ASSERT_GE(fd_, 0);
  }
  void TearDown() override { ::close(fd_); }

  testing::TempDir dir_;
  std::filesystem::path path_ = dir_.file("io");
  int fd_ = -1;
};

TEST_F(WriteAll, CompletesDespiteShortWritesAndEintr) {
  const std::string data = testing::make_payload(100, 1);
  ASSERT_TRUE(detail::write_all(fd_, data, 10, "io", &stuttering_pwrite).has_value());
  EXPECT_GT(g_calls, 60);  // 34 short writes, each preceded by an EINTR
  const std::string bytes = testing::read_bytes(path_);
  ASSERT_EQ(bytes.size(), 110U);
  EXPECT_EQ(bytes.substr(10), data);
}

TEST_F(WriteAll, ReportsTheErrnoTextAndTheOffsetOfAFailedWrite) {
  g_fail_with = ENOSPC;
  const auto result = detail::write_all(fd_, "0123456789", 100, "some/journal", &failing_pwrite);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, JournalErrorKind::kIo);
  EXPECT_EQ(result.error().sys_errno, ENOSPC);
  EXPECT_EQ(result.error().offset, 105U);
  EXPECT_NE(result.error().message.find(std::strerror(ENOSPC)), std::string::npos);
  EXPECT_NE(result.error().message.find("some/journal"), std::string::npos);
}

TEST_F(WriteAll, TreatsAWriteOfZeroBytesAsAnErrorInsteadOfSpinning) {
  const auto result = detail::write_all(fd_, "abc", 0, "io", &zero_pwrite);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, JournalErrorKind::kIo);
  EXPECT_EQ(result.error().sys_errno, EIO);
}

}  // namespace
}  // namespace dita::journal
