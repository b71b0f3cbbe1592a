#include "dita/sink/pipeline.hpp"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <array>
#include <future>
#include <map>
#include <optional>

namespace dita::sink {

// One processed kernel input as the kernel thread hands it over: the input itself (the
// replica recomputes everything else) and the outcome's shape to check the replica against.
//
// Cache-line aligned: the spool thread reads a slot right after the kernel thread wrote it, so
// a line shared with the next slot would have to come back to the kernel's core on the next
// publish().
struct alignas(64) SinkPipeline::KernelRecord {
  core::KernelInput input;
  std::uint64_t input_seq = 0;
  std::uint32_t transitions = 0;
  std::uint32_t diagnostics = 0;
  std::uint32_t commands = 0;
  std::uint32_t changed_slots = 0;
  bool account_changed = false;
  bool already_spooled = false;
};

// Everything that is not a kernel input (rare; queued under side_mutex_).
struct SinkPipeline::Entry {
  enum class Kind : std::uint8_t { kSnapshot, kControl, kVenue };
  Kind kind = Kind::kSnapshot;
  core::AccountSnapshot account;
  std::int64_t ts_ns = 0;
  ControlChange control;
  VenueMessage venue;
};

struct SinkPipeline::SinkState_ {
  std::unique_ptr<spool::Spool> spool;
  mutable std::mutex mutex;
  SinkHealth health;
  // Highest spool seq acknowledged *and* counted in `health`: flush() waits on this, so a
  // caller that reads health() after a successful flush() sees every delivered item.
  std::atomic<std::uint64_t> accounted_seq{0};
};

namespace {

constexpr std::size_t kSpoolBatch = 256;
constexpr std::size_t kMaxReadBytes = 16U * 1024U * 1024U;

bool valid_name(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

// Splits "a\tb\tc\td" into at most `N` fields (the last takes the rest).
template <std::size_t N>
std::array<std::string_view, N> split_tabs(std::string_view line) {
  std::array<std::string_view, N> fields{};
  for (std::size_t i = 0; i + 1 < N; ++i) {
    const auto tab = line.find('\t');
    fields[i] = line.substr(0, tab);
    line = tab == std::string_view::npos ? std::string_view() : line.substr(tab + 1);
  }
  fields[N - 1] = line;
  return fields;
}

template <class Fn>
void for_each_line(std::string_view text, Fn&& fn) {
  while (!text.empty()) {
    const auto newline = text.find('\n');
    fn(text.substr(0, newline));
    if (newline == std::string_view::npos) break;
    text.remove_prefix(newline + 1);
  }
}

// Names the calling thread (seen in top -H, ps -L, /proc) and pins it to `cpus` (nothing to
// pin when empty; create() has checked them).
void start_thread(const char* name, const std::vector<unsigned>& cpus) {
  (void)pthread_setname_np(pthread_self(), name);
  if (cpus.empty()) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  for (const unsigned cpu : cpus) CPU_SET(cpu, &set);
  (void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

// Whether this process may run a thread on every CPU of `cpus` (tried on the calling thread,
// whose affinity is restored afterwards).
std::expected<void, std::string> check_cpus(const std::vector<unsigned>& cpus) {
  cpu_set_t saved;
  if (pthread_getaffinity_np(pthread_self(), sizeof(saved), &saved) != 0) {
    return std::unexpected("thread_cpus: cannot read this thread's CPU affinity");
  }
  for (const unsigned cpu : cpus) {
    if (cpu >= CPU_SETSIZE) {
      return std::unexpected("thread_cpus: CPU " + std::to_string(cpu) + " is out of range");
    }
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    const int tried = pthread_setaffinity_np(pthread_self(), sizeof(one), &one);
    (void)pthread_setaffinity_np(pthread_self(), sizeof(saved), &saved);
    if (tried != 0) {
      return std::unexpected("thread_cpus: CPU " + std::to_string(cpu) +
                             " is not available to this process (offline or outside its cpuset)");
    }
  }
  return {};
}

}  // namespace

std::string_view to_string(SinkState state) noexcept {
  switch (state) {
    case SinkState::kDisabled:
      return "DISABLED";
    case SinkState::kUp:
      return "UP";
    case SinkState::kDegraded:
      return "DEGRADED";
    case SinkState::kDown:
      return "DOWN";
  }
  return "UNKNOWN";
}

SinkPipeline::SinkPipeline(PipelineConfig config) : config_(std::move(config)) {}

std::expected<std::unique_ptr<SinkPipeline>, std::string> SinkPipeline::create(
    PipelineConfig config, const core::Kernel& kernel, std::int64_t ts_ns) {
  if (!valid_name(config.projection.strategy)) {
    return std::unexpected("strategy must be non-empty [A-Za-z0-9_.-]");
  }
  for (const std::string* name :
       {&config.projection.names.state, &config.projection.names.pnl,
        &config.projection.names.active_slots, &config.projection.names.control,
        &config.projection.names.trade_events}) {
    if (!valid_name(*name)) return std::unexpected("Hazelcast names must be [A-Za-z0-9_.-]");
  }
  if (config.queue_capacity < 2) return std::unexpected("queue_capacity must be at least 2");
  if (config.spool_dir.empty()) return std::unexpected("spool_dir is required");
  if (auto cpus = check_cpus(config.thread_cpus); !cpus) return std::unexpected(cpus.error());
  std::unique_ptr<SinkPipeline> pipeline(new SinkPipeline(std::move(config)));
  SinkPipeline& self = *pipeline;
  const auto open_sink =
      [&](std::string name) -> std::expected<std::unique_ptr<SinkState_>, std::string> {
    auto sink = std::make_unique<SinkState_>();
    auto opened =
        spool::Spool::open({self.config_.spool_dir / name, self.config_.spool_segment_bytes});
    if (!opened) {
      return std::unexpected("spool " + name + ": " +
                             std::string(spool::to_string(opened.error().code)) + ": " +
                             opened.error().message);
    }
    sink->spool = std::move(*opened);
    sink->accounted_seq = sink->spool->delivered_seq();
    sink->health.name = std::move(name);
    sink->health.state = SinkState::kUp;
    self.skip_upto_ = std::max(self.skip_upto_, sink->spool->max_tag());
    return sink;
  };
  if (self.config_.clickhouse.enabled) {
    auto sink = open_sink("clickhouse");
    if (!sink) return std::unexpected(sink.error());
    self.clickhouse_ = std::move(*sink);
  }
  if (self.config_.hazelcast.enabled) {
    auto sink = open_sink("hazelcast");
    if (!sink) return std::unexpected(sink.error());
    self.hazelcast_ = std::move(*sink);
  }
  self.spooled_input_seq_ = self.skip_upto_;
  // Constructed (so touched) now: the kernel thread never takes a page fault on it.
  self.ring_.resize(self.config_.queue_capacity);
  // The full Hazelcast state first, so a member that lost its data (or a fresh one) converges
  // even for slots that do not change again.
  auto snapshot = std::make_unique<Entry>();
  snapshot->kind = Entry::Kind::kSnapshot;
  snapshot->account = kernel.account();
  snapshot->ts_ns = ts_ns;
  self.side_queue_.push_back(std::move(snapshot));
  self.side_enqueued_ = 1;

  // The spool thread copies the kernel itself, and create() waits for it (the caller must not
  // touch `kernel` meanwhile): the replica's memory then comes from that thread's malloc arena
  // rather than interleaved with the kernel's own allocations, where the two threads would
  // share cache lines at every boundary between their blocks.
  std::promise<void> replica_ready;
  self.spool_thread_ = std::thread([&self, &kernel, &replica_ready] {
    start_thread("dita-spool", self.config_.thread_cpus);
    self.replica_ = std::make_unique<core::Kernel>(kernel);
    self.replica_outcome_.reserve(kernel.slot_count());
    self.changed_.reserve(kernel.slot_count());
    self.projector_ = std::make_unique<Projector>(self.config_.projection, kernel);
    replica_ready.set_value();
    self.spool_loop();
  });
  replica_ready.get_future().wait();
  if (self.clickhouse_) {
    self.clickhouse_thread_ = std::thread([&self] {
      start_thread("dita-clickhouse", self.config_.thread_cpus);
      self.clickhouse_loop();
    });
  }
  if (self.hazelcast_) {
    self.hazelcast_thread_ = std::thread([&self] {
      start_thread("dita-hazelcast", self.config_.thread_cpus);
      self.hazelcast_loop();
    });
  }
  return pipeline;
}

SinkPipeline::~SinkPipeline() {
  stop();
}

// ---------------------------------------------------------------------------------------
// Kernel thread

void SinkPipeline::publish(const core::KernelInput& input, const core::KernelOutcome& outcome) {
  // Already spooled before a restart: the replica and the projector still take the input
  // (below), so the next new input's deltas are right, but nothing is spooled again.
  const bool already_spooled = outcome.input_seq <= skip_upto_;
  // Single producer: plain load + store instead of a locked read-modify-write.
  const auto bump = [](std::atomic<std::uint64_t>& counter) {
    counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  };
  if (already_spooled) bump(skipped_);
  const std::uint64_t tail = tail_.load(std::memory_order_relaxed);
  if (tail - head_seen_ >= ring_.size()) head_seen_ = head_.load(std::memory_order_acquire);
  if (tail - head_seen_ >= ring_.size()) {
    // Full: spool the oldest record here, under the spool lock, to make room in order.
    bump(overflows_);
    std::lock_guard lock(spool_mutex_);
    if (tail - head_.load(std::memory_order_acquire) >= ring_.size()) {
      drain_ring_locked(1);
      commit_spools();
      unsynced_.store(true);
    }
    head_seen_ = head_.load(std::memory_order_acquire);
  }
  KernelRecord& record = ring_[tail % ring_.size()];
  record.input = input;
  record.input_seq = outcome.input_seq;
  record.transitions = static_cast<std::uint32_t>(outcome.transitions.size());
  record.diagnostics = static_cast<std::uint32_t>(outcome.diagnostics.size());
  record.commands = static_cast<std::uint32_t>(outcome.commands.size());
  record.changed_slots = static_cast<std::uint32_t>(outcome.changed_slots.size());
  record.account_changed = outcome.account_changed;
  record.already_spooled = already_spooled;
  tail_.store(tail + 1, std::memory_order_release);
  if (!already_spooled) bump(published_);
  // The next slot was last written a whole ring ago and is cold: fetch it for writing now,
  // while the kernel thread waits for its next input, rather than inside the next publish().
  const auto* next = reinterpret_cast<const char*>(&ring_[(tail + 1) % ring_.size()]);
  for (std::size_t offset = 0; offset < sizeof(KernelRecord); offset += 64) {
    __builtin_prefetch(next + offset, 1, 3);
  }
}

void SinkPipeline::record_control_change(ControlChange change) {
  auto entry = std::make_unique<Entry>();
  entry->kind = Entry::Kind::kControl;
  entry->control = std::move(change);
  std::lock_guard lock(side_mutex_);
  side_queue_.push_back(std::move(entry));
  side_enqueued_.fetch_add(1);
}

void SinkPipeline::record_venue_message(VenueMessage message) {
  if (config_.projection.mode != core::KernelMode::kDebug) return;
  auto entry = std::make_unique<Entry>();
  entry->kind = Entry::Kind::kVenue;
  entry->venue = std::move(message);
  std::lock_guard lock(side_mutex_);
  side_queue_.push_back(std::move(entry));
  side_enqueued_.fetch_add(1);
}

// ---------------------------------------------------------------------------------------
// Spool thread

bool SinkPipeline::drain_ring_locked(std::size_t limit) {
  std::size_t done = 0;
  while (done < limit) {
    const std::uint64_t head = head_.load(std::memory_order_relaxed);
    if (head == tail_.load(std::memory_order_acquire)) break;
    spool_kernel_record(ring_[head % ring_.size()]);
    head_.store(head + 1, std::memory_order_release);
    ++done;
  }
  return done > 0;
}

void SinkPipeline::spool_kernel_record(const KernelRecord& record) {
  replica_->process(record.input, replica_outcome_);
  const core::KernelOutcome& outcome = replica_outcome_;
  if (outcome.input_seq != record.input_seq || outcome.transitions.size() != record.transitions ||
      outcome.diagnostics.size() != record.diagnostics ||
      outcome.commands.size() != record.commands ||
      outcome.changed_slots.size() != record.changed_slots ||
      outcome.account_changed != record.account_changed) {
    std::lock_guard lock(state_mutex_);
    if (projection_error_.empty()) {
      projection_error_ =
          "sink projection diverged from the kernel at input " + std::to_string(record.input_seq) +
          " (the sinks' replica computed input " + std::to_string(outcome.input_seq) +
          "): an input was processed without being published; restart to re-publish the journal";
    }
  }
  collect_changed_slots(outcome, *replica_, changed_);
  if (record.already_spooled) {
    projector_->advance(changed_, replica_->active_slot_limit());
    return;
  }
  projection_.clear();
  projector_->project(record.input, outcome, changed_, replica_->active_slot_limit(), projection_);
  append_projection(outcome.input_seq);
}

void SinkPipeline::spool_entry(Entry& entry) {
  projection_.clear();
  switch (entry.kind) {
    case Entry::Kind::kSnapshot:
      projector_->snapshot(entry.account, entry.ts_ns, projection_);
      break;
    case Entry::Kind::kControl:
      projector_->project_control_change(entry.control, projection_);
      break;
    case Entry::Kind::kVenue:
      projector_->project_venue_message(entry.venue, projection_);
      break;
  }
  append_projection(0);
}

void SinkPipeline::append_projection(std::uint64_t tag) {
  if (clickhouse_ && !projection_.rows.empty()) {
    // One line per row: a table letter, then the row's JSON (which has no raw newline).
    payload_.clear();
    for (const Row& row : projection_.rows) {
      payload_ += static_cast<char>('A' + static_cast<int>(row.table));
      payload_ += row.json;
      payload_ += '\n';
    }
    clickhouse_->spool->append(tag, payload_);
  }
  if (hazelcast_ && !projection_.hazelcast.empty()) {
    payload_.clear();
    for (const HazelcastOp& op : projection_.hazelcast) {
      payload_ += static_cast<char>('0' + static_cast<int>(op.kind));
      payload_ += '\t';
      payload_ += op.name;
      payload_ += '\t';
      payload_ += op.key;
      payload_ += '\t';
      payload_ += op.value;
      payload_ += '\n';
    }
    hazelcast_->spool->append(tag, payload_);
  }
  if (tag > spooled_input_seq_.load(std::memory_order_relaxed)) {
    spooled_input_seq_.store(tag, std::memory_order_relaxed);
  }
}

void SinkPipeline::commit_spools() {
  std::string error;
  for (SinkState_* sink : {clickhouse_.get(), hazelcast_.get()}) {
    if (sink == nullptr) continue;
    if (auto committed = sink->spool->commit(); !committed) error = committed.error().message;
  }
  if (error.empty()) {
    // Everything drained so far (the caller holds spool_mutex_) is in the spools now.
    committed_head_.store(head_.load(std::memory_order_relaxed), std::memory_order_release);
    side_committed_.fetch_add(side_uncommitted_, std::memory_order_release);
    side_uncommitted_ = 0;
  }
  std::lock_guard lock(state_mutex_);
  spool_error_ = error;  // a successful commit wrote everything buffered: the error is over
}

// Spool thread only, without spool_mutex_: an fdatasync can take milliseconds, and the kernel
// thread may need that lock on its overflow path.
void SinkPipeline::sync_spools(bool force) {
  if (!force &&
      (!unsynced_ || std::chrono::steady_clock::now() - last_sync_ < config_.spool_sync_interval)) {
    return;
  }
  last_sync_ = std::chrono::steady_clock::now();
  unsynced_.store(false);
  std::string error;
  for (SinkState_* sink : {clickhouse_.get(), hazelcast_.get()}) {
    if (sink == nullptr) continue;
    if (auto synced = sink->spool->sync(); !synced) error = synced.error().message;
  }
  if (error.empty()) return;
  std::lock_guard lock(state_mutex_);
  spool_error_ = error;
}

void SinkPipeline::spool_loop() {
  while (true) {
    bool worked = false;
    {
      // Side entries first: the start snapshot must precede every kernel record (it carries
      // the account as of create()); control changes and venue messages are independent.
      std::deque<std::unique_ptr<Entry>> side;
      {
        std::lock_guard side_lock(side_mutex_);
        side.swap(side_queue_);
      }
      std::lock_guard lock(spool_mutex_);
      for (auto& entry : side) spool_entry(*entry);
      side_uncommitted_ += side.size();
      worked = !side.empty();
    }
    // The lock is taken per record, so a kernel thread on the overflow path waits for at
    // most one record's projection, never for a whole batch.
    for (std::size_t i = 0; i < kSpoolBatch; ++i) {
      std::lock_guard lock(spool_mutex_);
      if (!drain_ring_locked(1)) break;
      worked = true;
    }
    if (worked) {
      std::lock_guard lock(spool_mutex_);
      commit_spools();
      unsynced_.store(true);
    }
    if (worked) {
      sync_spools(false);
      wake_.notify_all();
      continue;
    }
    if (stopping_.load()) {
      std::lock_guard lock(spool_mutex_);
      std::lock_guard side_lock(side_mutex_);
      if (head_.load() == tail_.load() && side_queue_.empty()) break;
      continue;
    }
    sync_spools(false);
    std::unique_lock lock(wake_mutex_);
    wake_.wait_for(lock, std::chrono::milliseconds(1));
  }
  {
    std::lock_guard lock(spool_mutex_);
    commit_spools();
  }
  sync_spools(true);
}

// ---------------------------------------------------------------------------------------
// Delivery

bool SinkPipeline::sleep_unless_stopping(std::chrono::milliseconds duration) {
  std::unique_lock lock(wake_mutex_);
  wake_.wait_for(lock, duration, [this] { return stopped_.load(); });
  return !stopped_.load();
}

void SinkPipeline::record_failure(SinkState_& sink, const std::string& error) {
  std::lock_guard lock(sink.mutex);
  sink.health.last_error = error;
  sink.health.failures += 1;
  sink.health.consecutive_failures += 1;
}

void SinkPipeline::record_success(SinkState_& sink, std::uint64_t records, std::uint64_t items) {
  std::lock_guard lock(sink.mutex);
  sink.health.last_error.clear();
  sink.health.consecutive_failures = 0;
  sink.health.delivered_records += records;
  sink.health.delivered_items += items;
}

void SinkPipeline::clickhouse_loop() {
  SinkState_& sink = *clickhouse_;
  clickhouse::Writer writer(config_.clickhouse.writer);
  std::vector<spool::SpoolRecord> records;
  std::array<std::string, kTableCount> bodies;
  std::array<bool, kTableCount> done{};
  std::size_t rows = 0;
  bool sealed = false;  // the batch is fixed: a delivery of it has been attempted
  std::chrono::steady_clock::time_point batch_started{};
  std::chrono::milliseconds backoff = config_.retry_initial;
  while (!stopped_.load()) {
    if (!sealed) {
      while (rows < config_.clickhouse.max_batch_rows) {
        const std::size_t first = records.size();
        auto got = sink.spool->read(64, kMaxReadBytes, records);
        if (!got) {
          record_failure(sink, "spool: " + got.error().message);
          break;
        }
        if (*got == 0) break;
        if (first == 0) batch_started = std::chrono::steady_clock::now();
        for (std::size_t i = first; i < records.size(); ++i) {
          for_each_line(records[i].payload, [&](std::string_view line) {
            if (line.empty()) return;
            const auto table = static_cast<std::size_t>(line[0] - 'A');
            if (table >= kTableCount) return;
            bodies[table].append(line.substr(1));
            bodies[table] += '\n';
            ++rows;
          });
        }
      }
      if (records.empty()) {
        sleep_unless_stopping(std::chrono::milliseconds(5));
        continue;
      }
      // Linger for a fuller batch unless it is full, the pipeline is stopping or flushing.
      const auto waited = std::chrono::steady_clock::now() - batch_started;
      if (rows < config_.clickhouse.max_batch_rows && waited < config_.clickhouse.linger &&
          !stopping_.load() && flushing_.load() == 0) {
        sleep_unless_stopping(std::min<std::chrono::milliseconds>(
            std::chrono::milliseconds(5), std::chrono::duration_cast<std::chrono::milliseconds>(
                                              config_.clickhouse.linger - waited) +
                                              std::chrono::milliseconds(1)));
        continue;
      }
      sealed = true;
    }
    bool ok = true;
    for (std::size_t t = 0; t < kTableCount && ok; ++t) {
      if (bodies[t].empty() || done[t]) continue;
      const auto table = static_cast<Table>(t);
      auto inserted =
          writer.insert_json_each_row(table_name(table), table_columns(table), bodies[t]);
      if (!inserted) {
        record_failure(sink, inserted.error().describe());
        ok = false;
      } else {
        done[t] = true;
      }
    }
    if (ok) {
      if (auto acked = sink.spool->acknowledge(records.back().seq); !acked) {
        record_failure(sink, "spool: " + acked.error().message);
        ok = false;
      }
    }
    if (ok) {
      record_success(sink, records.size(), rows);
      sink.accounted_seq.store(records.back().seq, std::memory_order_release);
      records.clear();
      for (auto& body : bodies) body.clear();
      done.fill(false);
      rows = 0;
      sealed = false;
      backoff = config_.retry_initial;
      continue;
    }
    sleep_unless_stopping(backoff);
    backoff = std::min(backoff * 2, config_.retry_max);
  }
}

void SinkPipeline::hazelcast_loop() {
  SinkState_& sink = *hazelcast_;
  hazelcast::Client client(config_.hazelcast.client);
  using Key = std::pair<std::string, std::string>;
  // Latest value of every map entry written since start (nullopt = removed): re-put after a
  // reconnect, because a restarted member comes back empty.
  std::map<Key, std::string> mirror;
  std::uint64_t synced_connections = 0;
  bool resync_pending = false;

  std::vector<spool::SpoolRecord> records;
  std::map<Key, std::optional<std::string>> maps;  // coalesced: last write per key wins
  std::vector<std::pair<std::string, std::string>> topics;
  std::size_t ops = 0;
  bool maps_done = false;
  std::size_t topics_sent = 0;
  std::chrono::milliseconds backoff = config_.retry_initial;

  const auto fail = [&](const std::string& error) {
    record_failure(sink, error);
    sleep_unless_stopping(backoff);
    backoff = std::min(backoff * 2, config_.retry_max);
  };
  while (!stopped_.load()) {
    if (records.empty()) {
      maps.clear();
      topics.clear();
      ops = 0;
      maps_done = false;
      topics_sent = 0;
      while (ops < config_.hazelcast.max_batch_ops) {
        const std::size_t first = records.size();
        auto got = sink.spool->read(64, kMaxReadBytes, records);
        if (!got) {
          record_failure(sink, "spool: " + got.error().message);
          break;
        }
        if (*got == 0) break;
        for (std::size_t i = first; i < records.size(); ++i) {
          for_each_line(records[i].payload, [&](std::string_view line) {
            if (line.empty()) return;
            const auto fields = split_tabs<4>(line);
            const auto kind = static_cast<HazelcastOpKind>(fields[0][0] - '0');
            ++ops;
            if (kind == HazelcastOpKind::kTopicPublish) {
              topics.emplace_back(std::string(fields[1]), std::string(fields[3]));
            } else if (kind == HazelcastOpKind::kMapSet) {
              maps[{std::string(fields[1]), std::string(fields[2])}] = std::string(fields[3]);
            } else {
              maps[{std::string(fields[1]), std::string(fields[2])}] = std::nullopt;
            }
          });
        }
      }
      if (records.empty()) {
        if (resync_pending ||
            (synced_connections != 0 && client.connection_count() != synced_connections)) {
          resync_pending = true;
        } else if (synced_connections != 0 && !client.is_connected()) {
          // Reconnect while idle too: a restarted member must get the state back even if
          // nothing changes for a while.
          if (auto connected = client.connect(); !connected) {
            fail(connected.error().describe());
          }
          continue;
        } else {
          (void)client.ping_if_idle();
          sleep_unless_stopping(std::chrono::milliseconds(5));
          continue;
        }
      }
    }
    if (!maps_done && !records.empty()) {
      std::map<std::string, std::vector<hazelcast::MapEntry>> sets;
      bool ok = true;
      for (const auto& [key, value] : maps) {
        if (value) {
          sets[key.first].push_back({key.second, {*value}});
        } else if (auto removed = client.map_remove(key.first, key.second); !removed) {
          fail(removed.error().describe());
          ok = false;
          break;
        }
      }
      for (const auto& [name, entries] : sets) {
        if (!ok) break;
        if (auto put = client.map_put_all(name, entries); !put) {
          fail(put.error().describe());
          ok = false;
        }
      }
      if (!ok) continue;
      maps_done = true;
      for (const auto& [key, value] : maps) {
        if (value) {
          mirror[key] = *value;
        } else {
          mirror.erase(key);
        }
      }
    }
    bool ok = true;
    while (topics_sent < topics.size()) {
      const auto& [name, message] = topics[topics_sent];
      if (auto published = client.topic_publish(name, {message}); !published) {
        fail(published.error().describe());
        ok = false;
        break;
      }
      ++topics_sent;
    }
    if (!ok) continue;
    if (synced_connections != 0 && client.connection_count() != synced_connections) {
      resync_pending = true;
    }
    if (resync_pending) {
      std::map<std::string, std::vector<hazelcast::MapEntry>> all;
      for (const auto& [key, value] : mirror) all[key.first].push_back({key.second, {value}});
      const std::uint64_t connections = client.connection_count();
      for (const auto& [name, entries] : all) {
        if (auto put = client.map_put_all(name, entries); !put) {
          ok = false;
          fail("resync: " + put.error().describe());
          break;
        }
      }
      if (!ok) continue;
      // A reconnect during the resync itself means it has to run again.
      if (client.connection_count() == connections) {
        resync_pending = false;
        std::lock_guard lock(sink.mutex);
        sink.health.resyncs += 1;
      }
    }
    synced_connections = client.connection_count();
    if (!records.empty()) {
      if (auto acked = sink.spool->acknowledge(records.back().seq); !acked) {
        fail("spool: " + acked.error().message);
        continue;
      }
      record_success(sink, records.size(), ops);
      sink.accounted_seq.store(records.back().seq, std::memory_order_release);
      records.clear();
    }
    backoff = config_.retry_initial;
  }
}

// ---------------------------------------------------------------------------------------
// Control

PipelineHealth SinkPipeline::health() const {
  PipelineHealth health;
  health.published = published_.load();
  health.skipped_already_spooled = skipped_.load();
  health.overflow_publishes = overflows_.load();
  health.queued = tail_.load() - head_.load();
  {
    std::lock_guard lock(state_mutex_);
    health.spool_error = spool_error_;
    health.projection_error = projection_error_;
  }
  // A pipeline-level problem concerns every sink: status shows it on each one.
  const std::string pipeline_error = !health.projection_error.empty() ? health.projection_error
                                     : !health.spool_error.empty() ? "spool: " + health.spool_error
                                                                   : std::string();
  const auto describe = [&](const SinkState_* sink, std::string_view name) {
    if (sink == nullptr) {
      SinkHealth disabled;
      disabled.name = name;
      return disabled;
    }
    SinkHealth out;
    {
      std::lock_guard lock(sink->mutex);
      out = sink->health;
    }
    out.spool_depth = sink->spool->depth();
    if (out.consecutive_failures >= config_.down_after_failures) {
      out.state = SinkState::kDown;
    } else if (out.consecutive_failures > 0 || out.spool_depth > config_.degraded_backlog) {
      out.state = SinkState::kDegraded;
    } else {
      out.state = SinkState::kUp;
    }
    if (!pipeline_error.empty()) {
      if (out.last_error.empty()) out.last_error = pipeline_error;
      if (out.state == SinkState::kUp) out.state = SinkState::kDegraded;
    }
    return out;
  };
  health.sinks.push_back(describe(clickhouse_.get(), "clickhouse"));
  health.sinks.push_back(describe(hazelcast_.get(), "hazelcast"));
  return health;
}

std::uint64_t SinkPipeline::last_spooled_input_seq() const {
  return spooled_input_seq_.load();
}

bool SinkPipeline::flush(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  flushing_.fetch_add(1);  // delivery stops lingering for fuller batches
  struct Done {
    std::atomic<int>& flushing;
    ~Done() { flushing.fetch_sub(1); }
  } done{flushing_};
  // Everything published or recorded before this call: committed to the spools, then
  // acknowledged by every sink.
  const std::uint64_t published = tail_.load(std::memory_order_acquire);
  const std::uint64_t recorded = side_enqueued_.load(std::memory_order_acquire);
  while (true) {
    bool delivered = committed_head_.load(std::memory_order_acquire) >= published &&
                     side_committed_.load(std::memory_order_acquire) >= recorded;
    for (const SinkState_* sink : {clickhouse_.get(), hazelcast_.get()}) {
      if (delivered && sink != nullptr &&
          sink->accounted_seq.load(std::memory_order_acquire) < sink->spool->committed_seq()) {
        delivered = false;
      }
    }
    if (delivered) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    wake_.notify_all();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

void SinkPipeline::stop() {
  if (stopped_.load()) return;
  stopping_.store(true);
  wake_.notify_all();
  if (spool_thread_.joinable()) spool_thread_.join();
  stopped_.store(true);
  wake_.notify_all();
  if (clickhouse_thread_.joinable()) clickhouse_thread_.join();
  if (hazelcast_thread_.joinable()) hazelcast_thread_.join();
}

}  // namespace dita::sink
