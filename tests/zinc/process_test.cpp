// Cross-process behaviour of the Zinc plane, with real forked processes: crashes mid-write,
// torn-read stress, futex wakes, exactly-once intents across restarts, control round trips.
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

#include "dita/zinc/control.hpp"
#include "dita/zinc/intent_queue.hpp"
#include "dita/zinc/snapshot.hpp"
#include "zinc/zinc_test_support.hpp"

namespace dita::zinc {
namespace {

using namespace std::chrono_literals;
using testing::fork_child;
using testing::kill_and_reap;
using testing::RegionCleanup;
using testing::Signal;
using testing::unique_instance;
using testing::wait_child;

// Every word equals the record's stamp: any mix of two writes is detectable.
struct Stamped {
  std::array<std::uint64_t, 512> words;  // 4 KiB: a copy takes long enough to be interrupted
};

Stamped stamped(std::uint64_t stamp) {
  Stamped s{};
  s.words.fill(stamp);
  return s;
}

bool consistent(const Stamped& s) {
  for (auto w : s.words) {
    if (w != s.words[0]) return false;
  }
  return true;
}

struct Intent128 {
  std::array<std::uint8_t, 128> bytes;
};

Intent128 intent_of(std::uint64_t seq) {
  Intent128 p{};
  std::memcpy(p.bytes.data(), &seq, sizeof seq);
  return p;
}

TEST(ZincProcesses, AWriterKilledMidWriteLeavesReadersOnTheLastCompleteValue) {
  RegionCleanup cleanup;
  const auto instance = unique_instance();
  cleanup.add(instance, RegionKind::State);
  Signal mid_write;
  const pid_t child = fork_child([&] {
    auto writer = SnapshotWriter<Stamped>::create(instance);
    if (!writer) return 1;
    writer->publish(stamped(1));
    writer->publish(stamped(2));
    // Start generation 3 and stop halfway through it.
    auto back = writer->cell().begin_write();
    std::memset(back.data(), 0x33, back.size() / 2);
    mid_write.send();
    ::pause();
    return 0;
  });
  ASSERT_EQ(mid_write.receive(), 1);
  auto reader = SnapshotReader<Stamped>::open(instance);
  ASSERT_TRUE(reader) << reader.error().describe();
  EXPECT_EQ(kill_and_reap(child), -SIGKILL);
  auto snap = reader->read();
  EXPECT_EQ(snap.generation, 2U);
  EXPECT_TRUE(consistent(snap.value));
  EXPECT_EQ(snap.value.words[0], 2U);
  EXPECT_EQ(reader->writer_liveness(), WriterLiveness::Dead);
  // A new writer takes the region over and readers continue from there.
  auto writer = SnapshotWriter<Stamped>::create(instance);
  ASSERT_TRUE(writer) << writer.error().describe();
  EXPECT_EQ(writer->publish(stamped(3)), 3U);
  EXPECT_EQ(reader->read().value.words[511], 3U);
  EXPECT_EQ(reader->writer_liveness(), WriterLiveness::Alive);
}

TEST(ZincProcesses, AWriterKilledWhilePublishingInALoopNeverLeavesATornValue) {
  RegionCleanup cleanup;
  const auto instance = unique_instance();
  cleanup.add(instance, RegionKind::State);
  Signal started;
  const pid_t child = fork_child([&] {
    auto writer = SnapshotWriter<Stamped>::create(instance);
    if (!writer) return 1;
    started.send();
    for (std::uint64_t i = 1;; ++i) writer->publish(stamped(i));
  });
  ASSERT_EQ(started.receive(), 1);
  auto reader = SnapshotReader<Stamped>::open(instance);
  ASSERT_TRUE(reader);
  ASSERT_TRUE(reader->wait_for_change(0, 10s));
  std::uint64_t last = 0;
  for (int i = 0; i < 200; ++i) {
    auto gen = reader->wait_for_change(last, 10s);
    ASSERT_TRUE(gen);
    last = *gen;
  }
  EXPECT_EQ(kill_and_reap(child), -SIGKILL);
  auto snap = reader->read();
  EXPECT_TRUE(consistent(snap.value));
  EXPECT_EQ(snap.value.words[0], snap.generation);
  EXPECT_EQ(reader->writer_liveness(), WriterLiveness::Dead);
}

TEST(ZincProcesses, NoSnapshotIsTornUnderAConcurrentWriterInAnotherProcess) {
  RegionCleanup cleanup;
  const auto instance = unique_instance();
  cleanup.add(instance, RegionKind::State);
  auto writer = SnapshotWriter<Stamped>::create(instance);
  ASSERT_TRUE(writer);
  constexpr std::uint64_t kPublishes = 20'000;
  Signal go;
  const pid_t child = fork_child([&] {
    auto reader = SnapshotReader<Stamped>::open(instance);
    if (!reader) return 1;
    go.send();
    std::uint64_t reads = 0;
    std::uint64_t previous = 0;
    for (;;) {
      auto snap = reader->read();
      ++reads;
      if (!consistent(snap.value) || snap.value.words[0] != snap.generation) return 2;
      if (snap.generation < previous) return 3;  // generations never go back
      previous = snap.generation;
      if (snap.generation == kPublishes) return reads > 0 ? 0 : 4;
    }
  });
  ASSERT_EQ(go.receive(), 1);
  for (std::uint64_t i = 1; i <= kPublishes; ++i) writer->publish(stamped(i));
  EXPECT_EQ(wait_child(child), 0);
}

TEST(ZincProcesses, AFutexWakeReachesAReaderSleepingInAnotherProcess) {
  RegionCleanup cleanup;
  const auto instance = unique_instance();
  cleanup.add(instance, RegionKind::State);
  auto writer = SnapshotWriter<Stamped>::create(instance);
  ASSERT_TRUE(writer);
  const pid_t child = fork_child([&] {
    auto reader = SnapshotReader<Stamped>::open(instance);
    if (!reader) return 1;
    auto gen = reader->wait_for_change(0, 30s, WaitPolicy::sleep_at_once());
    if (!gen) return 2;
    return reader->read().value.words[0] == 42 ? 0 : 3;
  });
  auto* cell = reinterpret_cast<dita_zinc_cell_control*>(writer->region().base() +
                                                         DITA_ZINC_STATE_CELL_OFFSET);
  // Publish only once the child registered as a sleeper (bounded by the child's own timeout).
  while (atomic_load(cell->waiters, std::memory_order_acquire) == 0) std::this_thread::yield();
  writer->publish(stamped(42));
  EXPECT_EQ(wait_child(child), 0);
}

TEST(ZincProcesses, IntentsAreAppliedExactlyOnceAcrossAProducerRestart) {
  RegionCleanup cleanup;
  const auto instance = unique_instance();
  cleanup.add(instance, RegionKind::Intent);
  auto consumer = IntentConsumer<Intent128>::create(instance, 16, 4);
  ASSERT_TRUE(consumer) << consumer.error().describe();
  // First producer life: sends 1..5, then dies without warning.
  const pid_t first = fork_child([&] {
    auto producer = IntentProducer<Intent128>::open(instance, 3);
    if (!producer) return 1;
    for (std::uint64_t s = 1; s <= 5; ++s) {
      if (!producer->send(s, intent_of(s))) return 2;
    }
    ::raise(SIGKILL);
    return 0;
  });
  EXPECT_EQ(wait_child(first), -SIGKILL);
  std::vector<std::uint64_t> applied;
  for (int i = 0; i < 3; ++i) {
    auto e = consumer->peek();
    ASSERT_TRUE(e && e->has_value());
    applied.push_back((*e)->meta.producer_seq);
    ASSERT_TRUE(consumer->commit(**e));
  }
  // Second life: unsure what got through, it re-sends everything, then continues to 8.
  Signal outcomes;
  const pid_t second = fork_child([&] {
    auto producer = IntentProducer<Intent128>::open(instance, 3);
    if (!producer) return 1;
    for (std::uint64_t s = 1; s <= 8; ++s) {
      auto r = producer->send(s, intent_of(s));
      if (!r) return 2;
      outcomes.send(static_cast<std::uint8_t>(*r));
    }
    return 0;
  });
  EXPECT_EQ(wait_child(second), 0);
  std::vector<int> kinds;
  for (int i = 0; i < 8; ++i) kinds.push_back(outcomes.receive());
  const int applied_already = static_cast<int>(SendOutcome::AlreadyApplied);
  const int enqueued = static_cast<int>(SendOutcome::Enqueued);
  EXPECT_EQ(kinds, (std::vector<int>{applied_already, applied_already, applied_already, enqueued,
                                     enqueued, enqueued, enqueued, enqueued}));
  for (;;) {
    auto e = consumer->peek();
    ASSERT_TRUE(e);
    if (!e->has_value()) break;
    std::uint64_t carried = 0;
    std::memcpy(&carried, (*e)->payload.bytes.data(), sizeof carried);
    EXPECT_EQ(carried, (*e)->meta.producer_seq);
    applied.push_back((*e)->meta.producer_seq);
    ASSERT_TRUE(consumer->commit(**e));
  }
  EXPECT_EQ(applied, (std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(consumer->queue().stats().duplicates_skipped, 2U);  // the queued copies of 4 and 5
}

TEST(ZincProcesses, IntentsAreAppliedExactlyOnceAcrossAConsumerRestart) {
  RegionCleanup cleanup;
  const auto instance = unique_instance();
  cleanup.add(instance, RegionKind::Intent);
  Signal ready;
  Signal go;
  Signal committed;
  const pid_t old_consumer = fork_child([&] {
    auto consumer = IntentConsumer<Intent128>::create(instance, 8, 2);
    if (!consumer) return 1;
    ready.send();
    if (go.receive() != 1) return 2;
    for (int i = 0; i < 3; ++i) {
      auto e = consumer->peek();
      if (!e || !e->has_value()) return 3;
      if (i < 2) {
        if (!consumer->commit(**e)) return 4;
        committed.send(static_cast<std::uint8_t>((*e)->meta.producer_seq));
      }
      // The third entry is being handled when the consumer crashes: never committed.
    }
    ::raise(SIGKILL);
    return 0;
  });
  ASSERT_EQ(ready.receive(), 1);
  auto producer = IntentProducer<Intent128>::open(instance, 1);
  ASSERT_TRUE(producer) << producer.error().describe();
  for (std::uint64_t s = 1; s <= 6; ++s) ASSERT_TRUE(producer->send(s, intent_of(s)));
  go.send();
  EXPECT_EQ(wait_child(old_consumer), -SIGKILL);
  std::vector<std::uint64_t> applied;
  for (int i = 0; i < 2; ++i) applied.push_back(static_cast<std::uint64_t>(committed.receive()));
  // The restarted consumer takes the region over and re-reads what was not committed.
  auto consumer = IntentConsumer<Intent128>::create(instance, 8, 2);
  ASSERT_TRUE(consumer) << consumer.error().describe();
  for (;;) {
    auto e = consumer->peek();
    ASSERT_TRUE(e);
    if (!e->has_value()) break;
    applied.push_back((*e)->meta.producer_seq);
    ASSERT_TRUE(consumer->commit(**e));
  }
  EXPECT_EQ(applied, (std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(producer->applied_seq(), 6U);
}

TEST(ZincProcesses, AProducerDyingMidWriteDoesNotWedgeTheQueue) {
  RegionCleanup cleanup;
  const auto instance = unique_instance();
  cleanup.add(instance, RegionKind::Intent);
  auto consumer = IntentConsumer<Intent128>::create(instance, 4, 2);
  ASSERT_TRUE(consumer);
  consumer->queue().set_consumer_options(ConsumerOptions{0ms, 2000ms});
  Signal claimed;
  const pid_t child = fork_child([&] {
    auto producer = IntentProducer<Intent128>::open(instance, 0);
    if (!producer) return 1;
    if (!producer->queue().claim_without_publish_for_testing(0, 1)) return 2;
    claimed.send();
    ::pause();
    return 0;
  });
  ASSERT_EQ(claimed.receive(), 1);
  auto producer = IntentProducer<Intent128>::open(instance, 1);
  ASSERT_TRUE(producer);
  ASSERT_TRUE(producer->send(1, intent_of(1)));
  auto blocked = consumer->peek();  // the dead-to-be producer's slot is first in line
  ASSERT_TRUE(blocked);
  EXPECT_FALSE(blocked->has_value());
  EXPECT_EQ(kill_and_reap(child), -SIGKILL);
  std::optional<Intent<Intent128>> got;
  for (int i = 0; i < 1000 && !got; ++i) {
    auto e = consumer->peek();
    ASSERT_TRUE(e);
    got = *e;
  }
  ASSERT_TRUE(got);
  EXPECT_EQ(got->meta.producer_id, 1U);
  EXPECT_EQ(got->meta.producer_seq, 1U);
  EXPECT_EQ(consumer->queue().stats().abandoned, 1U);
}

TEST(ZincProcesses, AControlChangeIsSeenByBothProcesses) {
  RegionCleanup cleanup;
  const auto instance = unique_instance();
  cleanup.add(instance, RegionKind::Control);
  auto kernel = ControlKernel::create(instance, ControlSettings{});
  ASSERT_TRUE(kernel) << kernel.error().describe();
  const pid_t operator_process = fork_child([&] {
    auto op = ControlOperator::open(instance);
    if (!op) return 1;
    auto current = op->applied();
    if (!current) return 2;
    ControlSettings wanted = current->settings;
    wanted.mode = KernelMode::Debug;
    wanted.verbosity = KernelVerbosity::Verbose;
    wanted.active_slot_limit = 3;
    auto seq = op->request(wanted);
    if (!seq) return 3;
    auto applied = op->wait_for_applied(*seq, 30s);
    if (!applied) return 4;
    return applied->status == ControlStatus::Applied && applied->settings == wanted ? 0 : 5;
  });
  ASSERT_TRUE(kernel->wait_for_request(30s));
  auto request = kernel->pending_request();
  ASSERT_TRUE(request);
  EXPECT_EQ(request->requester_pid, operator_process);
  auto applied = kernel->apply_pending();
  ASSERT_TRUE(applied);
  EXPECT_EQ(applied->settings.mode, KernelMode::Debug);
  EXPECT_EQ(applied->settings.verbosity, KernelVerbosity::Verbose);
  EXPECT_EQ(applied->settings.active_slot_limit, 3U);
  EXPECT_EQ(wait_child(operator_process), 0);
}

TEST(ZincProcesses, AControlRequestLockHeldByADeadOperatorIsTakenOver) {
  RegionCleanup cleanup;
  const auto instance = unique_instance();
  cleanup.add(instance, RegionKind::Control);
  auto kernel = ControlKernel::create(instance, ControlSettings{});
  ASSERT_TRUE(kernel);
  auto* cell = reinterpret_cast<dita_zinc_cell_control*>(kernel->region().base() +
                                                         DITA_ZINC_CONTROL_REQUESTED_CELL_OFFSET);
  const pid_t child = fork_child([&] {
    auto me = current_process_identity();
    if (!me) return 1;
    atomic_store(cell->writer_lock, me->word(), std::memory_order_release);
    return 0;  // exits holding the lock
  });
  ASSERT_EQ(wait_child(child), 0);
  auto op = ControlOperator::open(instance);
  ASSERT_TRUE(op);
  ControlSettings wanted;
  wanted.trace_transitions = true;
  auto seq = op->request(wanted, 10s);
  ASSERT_TRUE(seq) << seq.error().describe();
  ASSERT_TRUE(kernel->apply_pending());
  EXPECT_TRUE(op->applied()->settings.trace_transitions);
}

}  // namespace
}  // namespace dita::zinc
