// The Zinc contract, written once and run against both backends: POSIX shared memory (two
// mappings of one region) and the process-local in-memory stand-in.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <thread>
#include <vector>

#include "dita/zinc/control.hpp"
#include "dita/zinc/intent_queue.hpp"
#include "dita/zinc/snapshot.hpp"
#include "zinc/zinc_test_support.hpp"

namespace dita::zinc {
namespace {

using namespace std::chrono_literals;
using testing::RegionCleanup;
using testing::unique_instance;

enum class Backend { SharedMemory, InMemory };

struct Record {
  std::uint64_t id;
  std::array<std::uint64_t, 15> words;
};

struct IntentPayload {
  std::array<std::uint8_t, 128> bytes;
};

IntentPayload payload_of(std::uint8_t v) {
  IntentPayload p{};
  p.bytes.fill(v);
  return p;
}

struct BackendName {
  std::string operator()(const ::testing::TestParamInfo<Backend>& param_info) const {
    return param_info.param == Backend::SharedMemory ? "SharedMemory" : "InMemory";
  }
};

class ZincContract : public ::testing::TestWithParam<Backend> {
 protected:
  // The owner's view and a second, independent view of the same region.
  std::pair<Region, Region> make(const RegionGeometry& geometry) {
    if (GetParam() == Backend::InMemory) {
      auto r = Region::create_in_memory(geometry);
      EXPECT_TRUE(r);
      return {*r, *r};
    }
    const auto name = cleanup_.add(unique_instance(), geometry.kind);
    auto owner = Region::create(name, geometry);
    EXPECT_TRUE(owner) << owner.error().describe();
    auto peer = Region::open(name, geometry);
    EXPECT_TRUE(peer) << peer.error().describe();
    return {*owner, *peer};
  }

  RegionCleanup cleanup_;
};

TEST_P(ZincContract, AReaderSeesGenerationZeroBeforeTheFirstPublish) {
  auto [owner, peer] = make(*RegionGeometry::state(sizeof(Record)));
  auto reader = SnapshotReader<Record>::attach(peer);
  ASSERT_TRUE(reader);
  auto snap = reader->read();
  EXPECT_EQ(snap.generation, 0U);
  EXPECT_EQ(snap.value.id, 0U);
}

TEST_P(ZincContract, AReaderSeesExactlyTheLatestPublishedValue) {
  auto [owner, peer] = make(*RegionGeometry::state(sizeof(Record)));
  auto writer = SnapshotWriter<Record>::attach(owner);
  auto reader = SnapshotReader<Record>::attach(peer);
  ASSERT_TRUE(writer);
  ASSERT_TRUE(reader);
  for (std::uint64_t i = 1; i <= 5; ++i) {
    Record r{};
    r.id = i;
    r.words.fill(i * 11);
    EXPECT_EQ(writer->publish(r), i);
  }
  auto snap = reader->read();
  EXPECT_EQ(snap.generation, 5U);
  EXPECT_EQ(snap.value.id, 5U);
  for (auto w : snap.value.words) EXPECT_EQ(w, 55U);
}

TEST_P(ZincContract, AReaderCannotAttachAsWriter) {
  if (GetParam() == Backend::InMemory) GTEST_SKIP() << "one view owns the in-memory region";
  auto [owner, peer] = make(*RegionGeometry::state(sizeof(Record)));
  auto writer = SnapshotWriter<Record>::attach(peer);
  ASSERT_FALSE(writer);
  EXPECT_EQ(writer.error().kind, ZincErrorKind::NotWriter);
}

TEST_P(ZincContract, AttachingWithTheWrongRecordTypeIsASizeMismatch) {
  auto [owner, peer] = make(*RegionGeometry::state(sizeof(Record)));
  auto reader = SnapshotReader<std::uint64_t>::attach(peer);
  ASSERT_FALSE(reader);
  EXPECT_EQ(reader.error().kind, ZincErrorKind::SizeMismatch);
}

TEST_P(ZincContract, WaitForChangeReturnsAtOnceWhenTheGenerationAlreadyMoved) {
  auto [owner, peer] = make(*RegionGeometry::state(sizeof(Record)));
  auto writer = SnapshotWriter<Record>::attach(owner);
  auto reader = SnapshotReader<Record>::attach(peer);
  writer->publish(Record{});
  auto gen = reader->wait_for_change(0, 10s);
  ASSERT_TRUE(gen);
  EXPECT_EQ(*gen, 1U);
}

TEST_P(ZincContract, WaitForChangeTimesOutWithTimeoutWhenNothingIsPublished) {
  auto [owner, peer] = make(*RegionGeometry::state(sizeof(Record)));
  auto reader = SnapshotReader<Record>::attach(peer);
  auto gen = reader->wait_for_change(0, 1ms, WaitPolicy::sleep_at_once());
  ASSERT_FALSE(gen);
  EXPECT_EQ(gen.error().kind, ZincErrorKind::Timeout);
}

TEST_P(ZincContract, ASleepingReaderIsWokenByAPublish) {
  auto [owner, peer] = make(*RegionGeometry::state(sizeof(Record)));
  auto writer = SnapshotWriter<Record>::attach(owner);
  auto reader = SnapshotReader<Record>::attach(peer);
  std::atomic<bool> woke{false};
  std::thread waiter([&] {
    auto gen = reader->wait_for_change(0, 30s, WaitPolicy::sleep_at_once());
    woke = gen.has_value() && *gen == 1;
  });
  // Publish only once the reader is registered as a sleeper, so the wake path is exercised.
  auto* cell =
      reinterpret_cast<dita_zinc_cell_control*>(owner.base() + DITA_ZINC_STATE_CELL_OFFSET);
  while (atomic_load(cell->waiters, std::memory_order_acquire) == 0) std::this_thread::yield();
  Record r{};
  r.id = 7;
  writer->publish(r);
  waiter.join();
  EXPECT_TRUE(woke);
  EXPECT_EQ(atomic_load(cell->waiters, std::memory_order_acquire), 0U);
}

TEST_P(ZincContract, IntentsComeOutInOrderWithTheirProducerTags) {
  auto [owner, peer] = make(*RegionGeometry::intent(sizeof(IntentPayload), 8, 4));
  auto consumer = IntentConsumer<IntentPayload>::attach(owner);
  auto producer = IntentProducer<IntentPayload>::attach(peer, 2);
  ASSERT_TRUE(consumer) << consumer.error().describe();
  ASSERT_TRUE(producer) << producer.error().describe();
  for (std::uint8_t i = 1; i <= 3; ++i) {
    auto sent = producer->send(i, payload_of(i));
    ASSERT_TRUE(sent) << sent.error().describe();
    EXPECT_EQ(*sent, SendOutcome::Enqueued);
  }
  for (std::uint8_t i = 1; i <= 3; ++i) {
    auto entry = consumer->peek();
    ASSERT_TRUE(entry);
    ASSERT_TRUE(entry->has_value());
    EXPECT_EQ((*entry)->meta.producer_id, 2U);
    EXPECT_EQ((*entry)->meta.producer_seq, i);
    EXPECT_EQ((*entry)->payload.bytes[127], i);
    ASSERT_TRUE(consumer->commit(**entry));
  }
  auto empty = consumer->peek();
  ASSERT_TRUE(empty);
  EXPECT_FALSE(empty->has_value());
  EXPECT_EQ(producer->applied_seq(), 3U);
}

TEST_P(ZincContract, AFullQueueReturnsQueueFullAndLosesNothing) {
  auto [owner, peer] = make(*RegionGeometry::intent(sizeof(IntentPayload), 4, 1));
  auto consumer = IntentConsumer<IntentPayload>::attach(owner);
  auto producer = IntentProducer<IntentPayload>::attach(peer, 0);
  for (std::uint8_t i = 1; i <= 4; ++i) ASSERT_TRUE(producer->send(i, payload_of(i)));
  auto full = producer->send(5, payload_of(5));
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().kind, ZincErrorKind::QueueFull);
  EXPECT_NE(full.error().message.find("capacity 4"), std::string::npos) << full.error().message;
  auto first = consumer->peek();
  ASSERT_TRUE(first && first->has_value());
  ASSERT_TRUE(consumer->commit(**first));
  ASSERT_TRUE(producer->send(5, payload_of(5)));
  std::vector<std::uint64_t> seen;
  while (true) {
    auto e = consumer->peek();
    ASSERT_TRUE(e);
    if (!e->has_value()) break;
    seen.push_back((*e)->meta.producer_seq);
    ASSERT_TRUE(consumer->commit(**e));
  }
  EXPECT_EQ(seen, (std::vector<std::uint64_t>{2, 3, 4, 5}));
}

TEST_P(ZincContract, AnUncommittedIntentIsReturnedAgainUntilCommitted) {
  auto [owner, peer] = make(*RegionGeometry::intent(sizeof(IntentPayload), 4, 1));
  auto consumer = IntentConsumer<IntentPayload>::attach(owner);
  auto producer = IntentProducer<IntentPayload>::attach(peer, 0);
  ASSERT_TRUE(producer->send(1, payload_of(1)));
  auto a = consumer->peek();
  auto b = consumer->peek();
  ASSERT_TRUE(a && a->has_value() && b && b->has_value());
  EXPECT_EQ((*a)->meta.position, (*b)->meta.position);
  EXPECT_EQ((*a)->meta.producer_seq, 1U);
}

TEST_P(ZincContract, AResentIntentIsAppliedOnlyOnce) {
  auto [owner, peer] = make(*RegionGeometry::intent(sizeof(IntentPayload), 8, 2));
  auto consumer = IntentConsumer<IntentPayload>::attach(owner);
  auto producer = IntentProducer<IntentPayload>::attach(peer, 1);
  ASSERT_TRUE(producer->send(1, payload_of(1)));
  ASSERT_TRUE(producer->send(1, payload_of(1)));  // re-sent before the consumer committed
  auto e = consumer->peek();
  ASSERT_TRUE(e && e->has_value());
  ASSERT_TRUE(consumer->commit(**e));
  auto again = producer->send(1, payload_of(1));  // re-sent after the commit
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, SendOutcome::AlreadyApplied);
  auto none = consumer->peek();
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  EXPECT_EQ(consumer->queue().stats().duplicates_skipped, 1U);
  EXPECT_EQ(consumer->queue().stats().committed, 1U);
}

TEST_P(ZincContract, BadProducerIdsSequencesAndCommitsAreRefusedPrecisely) {
  auto [owner, peer] = make(*RegionGeometry::intent(sizeof(IntentPayload), 4, 2));
  auto bad_producer = IntentProducer<IntentPayload>::attach(peer, 2);
  ASSERT_FALSE(bad_producer);
  EXPECT_EQ(bad_producer.error().kind, ZincErrorKind::InvalidArgument);
  auto consumer = IntentConsumer<IntentPayload>::attach(owner);
  auto producer = IntentProducer<IntentPayload>::attach(peer, 0);
  auto zero = producer->send(0, payload_of(0));
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().kind, ZincErrorKind::InvalidArgument);
  ASSERT_TRUE(producer->send(1, payload_of(1)));
  auto e = consumer->peek();
  ASSERT_TRUE(e && e->has_value());
  auto wrong = **e;
  wrong.meta.position += 1;
  auto refused = consumer->commit(wrong);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ZincErrorKind::InvalidArgument);
}

TEST_P(ZincContract, ASleepingConsumerIsWokenByAnEnqueue) {
  auto [owner, peer] = make(*RegionGeometry::intent(sizeof(IntentPayload), 4, 1));
  auto consumer = IntentConsumer<IntentPayload>::attach(owner);
  auto producer = IntentProducer<IntentPayload>::attach(peer, 0);
  std::atomic<bool> woke{false};
  std::thread waiter(
      [&] { woke = consumer->wait_for_entry(30s, WaitPolicy::sleep_at_once()).has_value(); });
  auto* control =
      reinterpret_cast<dita_zinc_queue_control*>(peer.base() + DITA_ZINC_QUEUE_CONTROL_OFFSET);
  while (atomic_load(control->waiters, std::memory_order_acquire) == 0) std::this_thread::yield();
  ASSERT_TRUE(producer->send(1, payload_of(1)));
  waiter.join();
  EXPECT_TRUE(woke);
}

TEST_P(ZincContract, RestoringAppliedSequencesFromAJournalDeduplicatesLaterEntries) {
  auto [owner, peer] = make(*RegionGeometry::intent(sizeof(IntentPayload), 4, 1));
  auto consumer = IntentConsumer<IntentPayload>::attach(owner);
  auto producer = IntentProducer<IntentPayload>::attach(peer, 0);
  ASSERT_TRUE(producer->send(1, payload_of(1)));
  ASSERT_TRUE(producer->send(2, payload_of(2)));
  ASSERT_TRUE(consumer->queue().restore_applied(0, 1));
  auto e = consumer->peek();
  ASSERT_TRUE(e && e->has_value());
  EXPECT_EQ((*e)->meta.producer_seq, 2U);
}

TEST_P(ZincContract, AControlRequestIsAppliedAndTheAppliedSnapshotIsSeenByTheOperator) {
  auto [owner, peer] = make(RegionGeometry::control());
  ControlSettings initial;
  initial.active_slot_limit = 4;
  auto kernel = ControlKernel::attach(owner, initial);
  auto op = ControlOperator::attach(peer);
  ASSERT_TRUE(kernel) << kernel.error().describe();
  ASSERT_TRUE(op);
  auto before = op->applied();
  ASSERT_TRUE(before);
  EXPECT_EQ(before->settings, initial);
  EXPECT_EQ(before->change_seq, 0U);
  EXPECT_FALSE(kernel->pending_request());

  ControlSettings wanted = initial;
  wanted.mode = KernelMode::Debug;
  wanted.verbosity = KernelVerbosity::Trace;
  wanted.backend = BackendMode::Bingx;
  wanted.debug_clickhouse_enabled = true;
  wanted.trace_transitions = true;
  wanted.mirror_to_hazelcast = true;
  wanted.active_slot_limit = 12;
  wanted.reconcile_on_restart = false;
  auto seq = op->request(wanted);
  ASSERT_TRUE(seq);
  ASSERT_TRUE(kernel->wait_for_request(10s));
  auto applied = kernel->apply_pending();
  ASSERT_TRUE(applied);
  EXPECT_EQ(applied->status, ControlStatus::Applied);
  EXPECT_EQ(applied->settings, wanted);
  auto seen = op->wait_for_applied(*seq, 10s);
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->settings, wanted);
  EXPECT_EQ(seen->change_seq, 1U);
  EXPECT_EQ(seen->request_seq, *seq);
  EXPECT_FALSE(kernel->apply_pending());
}

TEST_P(ZincContract, AnInvalidControlRequestIsRejectedAndChangesNothing) {
  auto [owner, peer] = make(RegionGeometry::control());
  auto kernel = ControlKernel::attach(owner, ControlSettings{});
  auto op = ControlOperator::attach(peer);
  auto raw = encode(ControlSettings{});
  raw.verbosity = 9;
  auto seq = op->request_raw(raw);
  ASSERT_TRUE(seq);
  auto applied = kernel->apply_pending();
  ASSERT_TRUE(applied);
  EXPECT_EQ(applied->status, ControlStatus::Rejected);
  EXPECT_EQ(applied->settings, ControlSettings{});
  EXPECT_EQ(applied->change_seq, 0U);
  auto bad = decode(raw);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("verbosity: expected 0..2, actual 9"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, ZincContract,
                         ::testing::Values(Backend::SharedMemory, Backend::InMemory),
                         BackendName{});

TEST(ZincControlStrings, ControlEnumsHaveStableStringsThatRoundTrip) {
  EXPECT_EQ(to_string(KernelMode::Debug), "DEBUG");
  EXPECT_EQ(to_string(KernelVerbosity::Verbose), "VERBOSE");
  EXPECT_EQ(to_string(BackendMode::Bingx), "BINGX");
  EXPECT_EQ(to_string(ControlStatus::Rejected), "REJECTED");
  EXPECT_EQ(to_string(SendOutcome::AlreadyApplied), "ALREADY_APPLIED");
  EXPECT_EQ(parse_kernel_mode("NORMAL"), KernelMode::Normal);
  EXPECT_EQ(parse_kernel_verbosity("TRACE"), KernelVerbosity::Trace);
  EXPECT_EQ(parse_backend_mode("MOCK"), BackendMode::Mock);
  EXPECT_FALSE(parse_backend_mode("mock"));
}

}  // namespace
}  // namespace dita::zinc
