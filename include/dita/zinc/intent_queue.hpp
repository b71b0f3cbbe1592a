// Intent queue region: a bounded multi-producer single-consumer queue of fixed-size intents
// tagged (producer id, producer sequence), with per-producer applied sequences kept in the
// region so every intent is applied exactly once across producer and consumer restarts.
// Slot protocol after Vyukov's bounded MPMC queue; docs/zinc-layout.md has the details/limits.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <string_view>

#include "dita/zinc/error.hpp"
#include "dita/zinc/futex.hpp"
#include "dita/zinc/region.hpp"
#include "dita/zinc/snapshot.hpp"

namespace dita::zinc {

enum class SendOutcome : std::uint8_t {
  Enqueued,        // in the queue; the consumer will apply it unless it is a duplicate
  AlreadyApplied,  // (producer id, seq) was already committed: nothing enqueued
};
[[nodiscard]] std::string_view to_string(SendOutcome outcome) noexcept;  // "ENQUEUED", ...

struct IntentMeta {
  std::uint64_t position = 0;  // queue position; identifies the entry for commit()
  std::uint32_t producer_id = 0;
  std::uint64_t producer_seq = 0;
  std::uint64_t enqueue_mono_ns = 0;
};

struct QueueStats {
  std::uint64_t enqueue_pos = 0;
  std::uint64_t dequeue_pos = 0;
  std::uint64_t committed = 0;
  std::uint64_t duplicates_skipped = 0;
  std::uint64_t abandoned = 0;
};

struct ConsumerOptions {
  // A claimed-but-unpublished slot is checked for a dead producer after this long...
  std::chrono::milliseconds liveness_check_after{10};
  // ...and skipped after this long if its producer died before recording its identity.
  std::chrono::milliseconds abandon_unclaimed_after{2000};
};

// Untyped engine; IntentProducer/IntentConsumer below add the payload type.
class IntentQueue {
 public:
  static std::expected<IntentQueue, ZincError> attach(Region region);

  // Producer side. Sequences start at 1 and increase per producer id.
  [[nodiscard]] std::expected<SendOutcome, ZincError> send(std::uint32_t producer_id,
                                                           std::uint64_t producer_seq,
                                                           const void* payload, std::size_t size);
  // Consumer side (single consumer: the region's owner). peek() returns the oldest entry not
  // yet committed, skipping duplicates and slots of dead producers; it is returned again until
  // commit() is called for it, also after a consumer restart.
  [[nodiscard]] std::expected<std::optional<IntentMeta>, ZincError> peek(void* payload_out,
                                                                         std::size_t size);
  // Marks the entry applied (call only after it was durably handled) and frees its slot.
  [[nodiscard]] std::expected<void, ZincError> commit(const IntentMeta& entry);
  // Waits until an entry may be available (an enqueue happened since the last check).
  [[nodiscard]] std::expected<void, ZincError> wait_for_entry(std::chrono::nanoseconds timeout,
                                                              WaitPolicy policy = {});
  // Consumer recovery: raise a producer's applied sequence from the consumer's own journal
  // (closes the window between durably handling an entry and committing it).
  [[nodiscard]] std::expected<void, ZincError> restore_applied(std::uint32_t producer_id,
                                                               std::uint64_t producer_seq);

  [[nodiscard]] std::uint64_t applied_seq(std::uint32_t producer_id) const noexcept;
  [[nodiscard]] QueueStats stats() const noexcept;
  [[nodiscard]] std::uint32_t capacity() const noexcept { return capacity_; }
  [[nodiscard]] std::uint32_t max_producers() const noexcept { return max_producers_; }
  [[nodiscard]] std::uint32_t payload_size() const noexcept { return payload_size_; }
  void set_consumer_options(ConsumerOptions options) noexcept { options_ = options; }
  [[nodiscard]] Region& region() noexcept { return region_; }

  // Test hook: a producer that claims a slot and stops before publishing (simulates dying
  // mid-write). Returns the claimed position.
  [[nodiscard]] std::expected<std::uint64_t, ZincError> claim_without_publish_for_testing(
      std::uint32_t producer_id, std::uint64_t producer_seq);

 private:
  IntentQueue(Region region, std::uint64_t identity);
  [[nodiscard]] dita_zinc_queue_slot_header* slot(std::uint64_t position) const noexcept;
  [[nodiscard]] dita_zinc_producer_record* producer(std::uint32_t id) const noexcept;
  [[nodiscard]] std::expected<std::uint64_t, ZincError> claim(std::uint32_t producer_id,
                                                              std::uint64_t producer_seq);
  void release(std::uint64_t position) noexcept;  // free the slot, then advance dequeue_pos

  Region region_;
  std::uint64_t identity_;
  dita_zinc_queue_control* control_;
  std::byte* slots_;
  std::size_t slot_stride_;
  std::uint32_t capacity_;
  std::uint32_t max_producers_;
  std::uint32_t payload_size_;
  ConsumerOptions options_{};
  std::uint64_t stall_position_ = ~std::uint64_t{0};
  std::chrono::steady_clock::time_point stall_since_{};
  WaitWord wait_;
};

template <ZincPayload T>
struct Intent {
  IntentMeta meta;
  T payload{};
};

template <ZincPayload T>
class IntentProducer {
 public:
  static std::expected<IntentProducer, ZincError> open(std::string_view instance,
                                                       std::uint32_t producer_id,
                                                       OpenOptions options = {}) {
    auto name = region_name(instance, RegionKind::Intent);
    if (!name) return std::unexpected(name.error());
    RegionGeometry want{RegionKind::Intent, sizeof(T), 0, 0};
    auto region = Region::open(*name, want, options);
    if (!region) return std::unexpected(region.error());
    return attach(std::move(*region), producer_id);
  }
  static std::expected<IntentProducer, ZincError> attach(Region region, std::uint32_t producer_id) {
    auto queue = IntentQueue::attach(std::move(region));
    if (!queue) return std::unexpected(queue.error());
    if (queue->payload_size() != sizeof(T)) {
      return std::unexpected(ZincError{ZincErrorKind::SizeMismatch,
                                       "record_size: expected " + std::to_string(sizeof(T)) +
                                           ", actual " + std::to_string(queue->payload_size())});
    }
    if (producer_id >= queue->max_producers()) {
      return std::unexpected(
          ZincError{ZincErrorKind::InvalidArgument, "producer_id: expected < " +
                                                        std::to_string(queue->max_producers()) +
                                                        ", actual " + std::to_string(producer_id)});
    }
    return IntentProducer(std::move(*queue), producer_id);
  }

  // QueueFull when the consumer is behind: nothing is enqueued, retry later.
  [[nodiscard]] std::expected<SendOutcome, ZincError> send(std::uint64_t producer_seq,
                                                           const T& payload) {
    return queue_.send(producer_id_, producer_seq, &payload, sizeof(T));
  }
  // Highest sequence of this producer the consumer has committed (resume point on restart).
  [[nodiscard]] std::uint64_t applied_seq() const noexcept {
    return queue_.applied_seq(producer_id_);
  }
  [[nodiscard]] IntentQueue& queue() noexcept { return queue_; }

 private:
  IntentProducer(IntentQueue queue, std::uint32_t id)
      : queue_(std::move(queue)), producer_id_(id) {}
  IntentQueue queue_;
  std::uint32_t producer_id_;
};

template <ZincPayload T>
class IntentConsumer {
 public:
  // Creates /dita.<instance>.intent, or takes it over (keeping its entries and applied
  // sequences) if the previous consumer is dead or closed.
  static std::expected<IntentConsumer, ZincError> create(std::string_view instance,
                                                         std::uint32_t capacity,
                                                         std::uint32_t max_producers) {
    auto name = region_name(instance, RegionKind::Intent);
    if (!name) return std::unexpected(name.error());
    auto geometry = RegionGeometry::intent(sizeof(T), capacity, max_producers);
    if (!geometry) return std::unexpected(geometry.error());
    auto region = Region::create_or_take_over(*name, *geometry);
    if (!region) return std::unexpected(region.error());
    return attach(std::move(*region));
  }
  static std::expected<IntentConsumer, ZincError> attach(Region region) {
    if (!region.is_writer()) {
      return std::unexpected(ZincError{ZincErrorKind::NotWriter,
                                       "writer_identity: the consumer must own " + region.name()});
    }
    auto queue = IntentQueue::attach(std::move(region));
    if (!queue) return std::unexpected(queue.error());
    if (queue->payload_size() != sizeof(T)) {
      return std::unexpected(ZincError{ZincErrorKind::SizeMismatch,
                                       "record_size: expected " + std::to_string(sizeof(T)) +
                                           ", actual " + std::to_string(queue->payload_size())});
    }
    return IntentConsumer(std::move(*queue));
  }

  [[nodiscard]] std::expected<std::optional<Intent<T>>, ZincError> peek() {
    Intent<T> out;
    auto meta = queue_.peek(&out.payload, sizeof(T));
    if (!meta) return std::unexpected(meta.error());
    if (!*meta) return std::optional<Intent<T>>{};
    out.meta = **meta;
    return std::optional<Intent<T>>{out};
  }
  [[nodiscard]] std::expected<void, ZincError> commit(const Intent<T>& intent) {
    return queue_.commit(intent.meta);
  }
  [[nodiscard]] std::expected<void, ZincError> wait_for_entry(std::chrono::nanoseconds timeout,
                                                              WaitPolicy policy = {}) {
    return queue_.wait_for_entry(timeout, policy);
  }
  [[nodiscard]] IntentQueue& queue() noexcept { return queue_; }

 private:
  explicit IntentConsumer(IntentQueue queue) : queue_(std::move(queue)) {}
  IntentQueue queue_;
};

}  // namespace dita::zinc
