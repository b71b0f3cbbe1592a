// dita/sink/pipeline.hpp
//
// Owns the path from the kernel thread to the sinks: `SinkPipeline`. The kernel thread calls
// publish() after each processed input; it copies only the input (a fixed-size value, no
// heap) and the shape of the outcome into a preallocated single-producer ring and returns:
// no lock, no syscall, no allocation. A spool thread keeps its own replica of the kernel
// (a copy taken at create()) and feeds it the same inputs; the core is deterministic, so the
// replica's outcomes and slot images are the kernel's, and the kernel thread never copies a
// slot image. The spool thread checks each replica outcome against the shape the kernel
// thread published (input seq and the sizes of its lists) and reports a divergence loudly.
// It projects each record (dita/sink/projection.hpp) and appends it to one durable spool per
// sink (write-through: every record goes to disk before any delivery); one delivery thread
// per sink reads its spool in order, delivers batches with bounded exponential backoff, and
// advances the spool cursor only after the sink accepted the batch. A sink that is down or
// slow therefore only grows its spool; it never backs up into the kernel thread.
//
// If the ring is full (the spool thread is stalled, e.g. on a slow disk), publish() takes
// the spool lock, spools the oldest ring record itself and then queues its own, so order is
// kept and nothing is dropped; the kernel thread waits for at most one record's projection
// and buffered write (longer if the spool thread is preempted while holding the lock: see
// docs/benchmarks-sinks.md). health() reports how often that happened.
//
// Exactly once, effectively: see docs/sinks.md ("Delivery guarantees").
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <expected>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "dita/core/contracts.hpp"
#include "dita/core/kernel.hpp"
#include "dita/sink/clickhouse_writer.hpp"
#include "dita/sink/hazelcast/client.hpp"
#include "dita/sink/projection.hpp"
#include "dita/sink/spool.hpp"

namespace dita::sink {

enum class SinkState : std::uint8_t {
  kDisabled,  // not configured
  kUp,        // last delivery succeeded and the backlog is small
  kDegraded,  // retrying after a failure, or the backlog is above degraded_backlog
  kDown,      // down_after_failures consecutive failures; records are spooling
};
std::string_view to_string(SinkState state) noexcept;

struct SinkHealth {
  std::string name;  // "clickhouse" / "hazelcast"
  SinkState state = SinkState::kDisabled;
  std::string last_error;         // empty once a delivery succeeded after it
  std::uint64_t spool_depth = 0;  // spooled records not yet accepted by the sink
  std::uint64_t delivered_records = 0;
  std::uint64_t delivered_items = 0;  // rows (ClickHouse) or writes (Hazelcast)
  std::uint64_t failures = 0;         // failed delivery attempts since start
  std::uint64_t consecutive_failures = 0;
  std::uint64_t resyncs = 0;  // Hazelcast: full state re-put after a reconnect
};

struct PipelineHealth {
  std::vector<SinkHealth> sinks;
  std::uint64_t published = 0;                // records accepted by publish()
  std::uint64_t skipped_already_spooled = 0;  // publish() of an input seq already spooled
  std::uint64_t overflow_publishes = 0;       // publish() found the ring full
  std::uint64_t queued = 0;                   // in the ring, not yet spooled
  std::string spool_error;  // last spool I/O error, until a commit succeeds (records stay queued)
  // First disagreement between the spool thread's kernel replica and the published outcome
  // (a runtime bug: an input processed but not published). Sticky; empty when none.
  std::string projection_error;
};

struct ClickHouseSinkConfig {
  bool enabled = false;
  clickhouse::WriterConfig writer;
  std::size_t max_batch_rows = 20000;
  // Rows wait up to this long for more before an INSERT, so a slow trickle of inputs does not
  // create one ClickHouse part per input and table (0 = deliver as soon as anything is
  // spooled). A full batch, stop() and flush() do not wait.
  std::chrono::milliseconds linger{200};
};

struct HazelcastSinkConfig {
  bool enabled = false;
  hazelcast::ClientConfig client;
  std::size_t max_batch_ops = 5000;
};

struct PipelineConfig {
  ProjectionConfig projection;
  std::filesystem::path spool_dir;     // spools live in <spool_dir>/clickhouse and /hazelcast
  std::size_t queue_capacity = 65536;  // inputs the ring holds (192 bytes each)
  ClickHouseSinkConfig clickhouse;
  HazelcastSinkConfig hazelcast;
  std::chrono::milliseconds retry_initial{50};
  std::chrono::milliseconds retry_max{2000};
  std::chrono::milliseconds spool_sync_interval{50};  // fdatasync of spool segments
  std::uint32_t down_after_failures = 3;
  std::uint64_t degraded_backlog = 10000;
  std::uint64_t spool_segment_bytes = 64ULL * 1024 * 1024;
  // CPUs the pipeline's threads (spool and delivery) run on; empty: wherever the process may.
  // Keeping them off the kernel thread's CPU keeps their cache and scheduling noise away
  // from it (docs/benchmarks-sinks.md). create() refuses a CPU the process cannot use.
  std::vector<unsigned> thread_cpus;
};

class SinkPipeline {
 public:
  // Opens (or recovers) the spools and starts the threads. `kernel` is the kernel's state
  // now (after journal recovery): the spool thread's replica is a copy of it, it seeds the
  // projector, and it is written to Hazelcast as a full snapshot, so a member that lost its
  // data converges. From now on every input the kernel processes must be published, in order.
  static std::expected<std::unique_ptr<SinkPipeline>, std::string> create(
      PipelineConfig config, const core::Kernel& kernel, std::int64_t ts_ns);
  ~SinkPipeline();
  SinkPipeline(const SinkPipeline&) = delete;
  SinkPipeline& operator=(const SinkPipeline&) = delete;

  // Kernel thread only (single producer), right after `kernel.process(input, outcome)`.
  // Never blocks on a sink. An input whose seq is not above the spools' highest input seq at
  // create() (spooled before a restart) only advances the replica and the projector's slot
  // images and is not spooled again, so a runtime may re-publish its journal after recovery
  // without duplicating anything.
  void publish(const core::KernelInput& input, const core::KernelOutcome& outcome);

  // Any thread; rare events (mutex + queue).
  void record_control_change(ControlChange change);
  void record_venue_message(VenueMessage message);

  [[nodiscard]] PipelineHealth health() const;
  // Highest kernel input seq known to be spooled (persisted across restarts).
  [[nodiscard]] std::uint64_t last_spooled_input_seq() const;

  // Waits until everything published so far is delivered to every enabled sink, or the
  // timeout passes; returns whether it all got there.
  bool flush(std::chrono::milliseconds timeout);
  // Spools whatever is still queued, stops the threads. Undelivered records stay in the
  // spool for the next pipeline on the same directory. Idempotent.
  void stop();

 private:
  struct KernelRecord;
  struct Entry;
  struct SinkState_;
  explicit SinkPipeline(PipelineConfig config);

  void spool_loop();
  // Project one record and append it to the spools; caller holds spool_mutex_.
  void spool_kernel_record(const KernelRecord& record);
  void spool_entry(Entry& entry);
  void append_projection(std::uint64_t tag);
  void commit_spools();
  void sync_spools(bool force);
  bool drain_ring_locked(std::size_t limit);
  void clickhouse_loop();
  void hazelcast_loop();
  void record_failure(SinkState_& sink, const std::string& error);
  void record_success(SinkState_& sink, std::uint64_t records, std::uint64_t items);
  bool sleep_unless_stopping(std::chrono::milliseconds duration);

  PipelineConfig config_;

  // Ring (single producer: the kernel thread; consumers serialised by spool_mutex_).
  std::vector<KernelRecord> ring_;
  // Written by the kernel thread only, on a cache line of their own so the spool thread's
  // writes of head_ do not pull it away from the kernel's core on every publish().
  alignas(64) std::atomic<std::uint64_t> tail_{0};  // next to produce
  std::uint64_t head_seen_ = 0;  // the kernel thread's last view of head_ (a lower bound)
  std::atomic<std::uint64_t> published_{0};
  std::atomic<std::uint64_t> skipped_{0};
  std::atomic<std::uint64_t> overflows_{0};
  std::uint64_t skip_upto_ = 0;
  alignas(64) std::atomic<std::uint64_t> head_{0};  // next to consume; spool side

  std::mutex side_mutex_;  // control changes and venue messages
  std::deque<std::unique_ptr<Entry>> side_queue_;
  std::atomic<std::uint64_t> side_enqueued_{0};   // side entries ever queued
  std::atomic<std::uint64_t> side_committed_{0};  // side entries committed to the spools
  std::uint64_t side_uncommitted_ = 0;            // spooled, not yet committed (spool_mutex_)
  std::atomic<std::uint64_t> committed_head_{0};  // ring records committed to the spools

  std::mutex spool_mutex_;  // replica_, projector_, spools (writer side), projection_
  std::unique_ptr<core::Kernel> replica_;
  core::KernelOutcome replica_outcome_;
  std::vector<core::TradeSlot> changed_;
  std::unique_ptr<Projector> projector_;
  Projection projection_;
  std::string payload_;
  std::unique_ptr<SinkState_> clickhouse_;
  std::unique_ptr<SinkState_> hazelcast_;
  std::chrono::steady_clock::time_point last_sync_{};  // spool thread only
  std::atomic<bool> unsynced_{false};                  // committed but not yet fdatasync'ed

  std::atomic<std::uint64_t> spooled_input_seq_{0};

  mutable std::mutex state_mutex_;  // spool_error_, projection_error_
  std::string spool_error_;
  std::string projection_error_;

  std::mutex wake_mutex_;
  std::condition_variable wake_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> flushing_{0};  // flush() calls in progress
  std::atomic<bool> stopped_{false};
  std::thread spool_thread_;
  std::thread clickhouse_thread_;
  std::thread hazelcast_thread_;
};

}  // namespace dita::sink
