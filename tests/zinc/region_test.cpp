// Region bring-up: names, exclusive creation, validation errors, liveness and takeover.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "dita/zinc/region.hpp"
#include "zinc/zinc_test_support.hpp"

namespace dita::zinc {
namespace {

using testing::fork_child;
using testing::kill_and_reap;
using testing::RegionCleanup;
using testing::Signal;
using testing::unique_instance;
using testing::wait_child;

RegionGeometry small_state() {
  return *RegionGeometry::state(64);
}

TEST(ZincRegionNames, RegionNamesDeriveFromTheInstanceName) {
  EXPECT_EQ(*region_name("prod-1", RegionKind::Intent), "/dita.prod-1.intent");
  EXPECT_EQ(*region_name("prod_1", RegionKind::State), "/dita.prod_1.state");
  EXPECT_EQ(*region_name("A9", RegionKind::Control), "/dita.A9.control");
}

TEST(ZincRegionNames, InstanceNamesWithBadCharactersOrLengthAreRefusedPrecisely) {
  auto slash = region_name("a/b", RegionKind::State);
  ASSERT_FALSE(slash);
  EXPECT_EQ(slash.error().kind, ZincErrorKind::InvalidInstanceName);
  EXPECT_NE(slash.error().message.find("position 1"), std::string::npos);
  EXPECT_FALSE(validate_instance_name(""));
  EXPECT_FALSE(validate_instance_name(std::string(kMaxInstanceNameLength + 1, 'a')));
  EXPECT_TRUE(validate_instance_name(std::string(kMaxInstanceNameLength, 'a')));
  EXPECT_FALSE(validate_instance_name("-lead"));
  EXPECT_FALSE(validate_instance_name("a.b"));
  EXPECT_EQ(to_string(ZincErrorKind::InvalidInstanceName), "INVALID_INSTANCE_NAME");
}

TEST(ZincRegionNames, ErrorKindsHaveStableStrings) {
  EXPECT_EQ(to_string(ZincErrorKind::QueueFull), "QUEUE_FULL");
  EXPECT_EQ(to_string(ZincErrorKind::BadMagic), "BAD_MAGIC");
  EXPECT_EQ(to_string(ZincErrorKind::WriterAlive), "WRITER_ALIVE");
  EXPECT_EQ(to_string(WriterLiveness::ClosedCleanly), "CLOSED_CLEANLY");
  EXPECT_EQ(to_string(RegionKind::Intent), "intent");
}

TEST(ZincRegion, CreatedRegionHasOwnerOnlyModeAndAValidHeader) {
  RegionCleanup cleanup;
  const auto name = cleanup.add(unique_instance(), RegionKind::State);
  auto region = Region::create(name, small_state());
  ASSERT_TRUE(region) << region.error().describe();
  struct stat st {};
  const int fd = ::shm_open(name.c_str(), O_RDONLY, 0);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::fstat(fd, &st), 0);
  ::close(fd);
  EXPECT_EQ(st.st_mode & 0777, 0600U);
  EXPECT_EQ(static_cast<std::size_t>(st.st_size), region->size());
  const auto* hdr = region->header();
  EXPECT_EQ(hdr->magic, DITA_ZINC_MAGIC_STATE);
  EXPECT_EQ(hdr->layout_version, DITA_ZINC_LAYOUT_VERSION);
  EXPECT_EQ(hdr->writer_pid, ::getpid());
  EXPECT_EQ(region->writer_liveness(), WriterLiveness::Alive);
  EXPECT_TRUE(region->is_writer());
  auto opened = Region::open(name, small_state());
  ASSERT_TRUE(opened) << opened.error().describe();
  EXPECT_FALSE(opened->is_writer());
}

TEST(ZincRegion, ExclusiveCreateRefusesAnExistingLiveRegion) {
  RegionCleanup cleanup;
  const auto name = cleanup.add(unique_instance(), RegionKind::State);
  auto first = Region::create(name, small_state());
  ASSERT_TRUE(first);
  auto second = Region::create(name, small_state());
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().kind, ZincErrorKind::AlreadyExists);
  auto takeover = Region::create_or_take_over(name, small_state());
  ASSERT_FALSE(takeover);
  EXPECT_EQ(takeover.error().kind, ZincErrorKind::WriterAlive);
}

TEST(ZincRegion, OpeningAMissingRegionReportsNotFound) {
  auto r = Region::open("/dita." + unique_instance() + ".state", small_state());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ZincErrorKind::NotFound);
}

TEST(ZincRegion, WrongMagicIsReportedAsBadMagic) {
  RegionCleanup cleanup;
  const auto name = cleanup.add(unique_instance(), RegionKind::State);
  auto region = Region::create(name, small_state());
  ASSERT_TRUE(region);
  region->header()->magic = DITA_ZINC_MAGIC_CONTROL;
  auto r = Region::open(name, small_state());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ZincErrorKind::BadMagic);
  EXPECT_NE(r.error().message.find("magic: expected"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("control region"), std::string::npos) << r.error().message;
}

TEST(ZincRegion, WrongLayoutVersionIsReportedAsBadVersion) {
  RegionCleanup cleanup;
  const auto name = cleanup.add(unique_instance(), RegionKind::State);
  auto region = Region::create(name, small_state());
  ASSERT_TRUE(region);
  region->header()->layout_version = DITA_ZINC_LAYOUT_VERSION + 1;
  auto r = Region::open(name, small_state());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ZincErrorKind::BadVersion);
  EXPECT_NE(r.error().message.find("layout_version: expected 1, actual 2"), std::string::npos);
}

TEST(ZincRegion, MappedLengthDifferentFromTotalSizeIsReportedAsSizeMismatch) {
  RegionCleanup cleanup;
  const auto name = cleanup.add(unique_instance(), RegionKind::State);
  auto region = Region::create(name, small_state());
  ASSERT_TRUE(region);
  const int fd = ::shm_open(name.c_str(), O_RDWR, 0);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(region->size() + 4096)), 0);
  ::close(fd);
  auto r = Region::open(name, small_state());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ZincErrorKind::SizeMismatch);
  EXPECT_NE(r.error().message.find("total_size"), std::string::npos) << r.error().message;
}

TEST(ZincRegion, ExpectedRecordSizeDifferentFromTheRegionsIsReportedAsSizeMismatch) {
  RegionCleanup cleanup;
  const auto name = cleanup.add(unique_instance(), RegionKind::State);
  auto region = Region::create(name, small_state());
  ASSERT_TRUE(region);
  auto r = Region::open(name, *RegionGeometry::state(128));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ZincErrorKind::SizeMismatch);
  EXPECT_NE(r.error().message.find("record_size: expected 128, actual 64"), std::string::npos)
      << r.error().message;
}

TEST(ZincRegion, ARegionShorterThanItsHeaderIsReportedAsSizeMismatch) {
  RegionCleanup cleanup;
  const auto name = cleanup.add(unique_instance(), RegionKind::State);
  const int fd = ::shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::fchmod(fd, 0600), 0);
  ASSERT_EQ(::ftruncate(fd, 16), 0);
  ::close(fd);
  auto r = Region::open(name, small_state());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ZincErrorKind::SizeMismatch);
}

TEST(ZincRegion, GroupOrWorldAccessibleRegionIsReportedAsBadPermissions) {
  RegionCleanup cleanup;
  const auto name = cleanup.add(unique_instance(), RegionKind::State);
  auto region = Region::create(name, small_state());
  ASSERT_TRUE(region);
  const int fd = ::shm_open(name.c_str(), O_RDWR, 0);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::fchmod(fd, 0644), 0);
  ::close(fd);
  auto r = Region::open(name, small_state());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ZincErrorKind::BadPermissions);
  EXPECT_NE(r.error().message.find("mode: expected 0600, actual 0644"), std::string::npos)
      << r.error().message;
}

TEST(ZincRegion, ARegionWhoseMagicWasNeverPublishedIsReportedAsNotReady) {
  RegionCleanup cleanup;
  const auto name = cleanup.add(unique_instance(), RegionKind::State);
  const int fd = ::shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::fchmod(fd, 0600), 0);
  ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(small_state().total_size())), 0);
  ::close(fd);
  auto r = Region::open(name, small_state(), OpenOptions{std::chrono::milliseconds(5)});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ZincErrorKind::NotReady);
}

TEST(ZincRegion, IntentGeometryRejectsACapacityThatIsNotAPowerOfTwo) {
  auto g = RegionGeometry::intent(128, 1000, 4);
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().kind, ZincErrorKind::InvalidArgument);
  EXPECT_NE(g.error().message.find("capacity"), std::string::npos);
}

TEST(ZincRegionProcesses, TakeoverOfADeadWritersRegionSucceeds) {
  RegionCleanup cleanup;
  const auto name = cleanup.add(unique_instance(), RegionKind::State);
  Signal ready;
  const pid_t child = fork_child([&] {
    auto region = Region::create(name, small_state());
    if (!region) return 1;
    ready.send();
    ::pause();
    return 0;
  });
  ASSERT_EQ(ready.receive(), 1);
  auto reader = Region::open(name, small_state());
  ASSERT_TRUE(reader);
  EXPECT_EQ(reader->writer_liveness(), WriterLiveness::Alive);
  EXPECT_EQ(reader->writer_pid(), child);
  EXPECT_EQ(kill_and_reap(child), -SIGKILL);
  EXPECT_EQ(reader->writer_liveness(), WriterLiveness::Dead);
  const auto epoch_before = reader->header()->writer_epoch;
  auto taken = Region::take_over(name, small_state());
  ASSERT_TRUE(taken) << taken.error().describe();
  EXPECT_TRUE(taken->is_writer());
  EXPECT_EQ(taken->writer_pid(), ::getpid());
  EXPECT_EQ(taken->header()->writer_pid, ::getpid());
  EXPECT_EQ(taken->header()->writer_epoch, epoch_before + 1);
  EXPECT_EQ(reader->writer_liveness(), WriterLiveness::Alive);
}

TEST(ZincRegionProcesses, TakeoverOfALiveWritersRegionIsRefused) {
  RegionCleanup cleanup;
  const auto name = cleanup.add(unique_instance(), RegionKind::State);
  Signal ready;
  Signal release;
  const pid_t child = fork_child([&] {
    auto region = Region::create(name, small_state());
    if (!region) return 1;
    ready.send();
    release.receive();
    return 0;
  });
  ASSERT_EQ(ready.receive(), 1);
  auto taken = Region::take_over(name, small_state());
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().kind, ZincErrorKind::WriterAlive);
  EXPECT_NE(taken.error().message.find(std::to_string(child)), std::string::npos);
  release.send();
  EXPECT_EQ(wait_child(child), 0);
}

TEST(ZincRegionProcesses, ARegionClosedCleanlyReportsClosedAndCanBeTakenOver) {
  RegionCleanup cleanup;
  const auto name = cleanup.add(unique_instance(), RegionKind::State);
  const pid_t child = fork_child([&] {
    auto region = Region::create(name, small_state());
    if (!region) return 1;
    return region->close_cleanly() ? 0 : 2;
  });
  ASSERT_EQ(wait_child(child), 0);
  auto reader = Region::open(name, small_state());
  ASSERT_TRUE(reader);
  EXPECT_EQ(reader->writer_liveness(), WriterLiveness::ClosedCleanly);
  auto taken = Region::take_over(name, small_state());
  ASSERT_TRUE(taken) << taken.error().describe();
  EXPECT_EQ(reader->writer_liveness(), WriterLiveness::Alive);
}

TEST(ZincRegionProcesses, ARecycledPidWithADifferentStartTimeCountsAsDead) {
  auto me = current_process_identity();
  ASSERT_TRUE(me);
  EXPECT_TRUE(identity_is_alive(me->word()));
  ProcessIdentity impostor{me->pid, me->start_time + 1};
  EXPECT_FALSE(identity_is_alive(impostor.word()));
  EXPECT_FALSE(identity_is_alive(0));
}

TEST(ZincRegion, HeartbeatAdvancesTheCounter) {
  auto region = Region::create_in_memory(small_state());
  ASSERT_TRUE(region);
  const auto before = region->header()->heartbeat_counter;
  region->heartbeat();
  EXPECT_EQ(region->header()->heartbeat_counter, before + 1);
}

}  // namespace
}  // namespace dita::zinc
