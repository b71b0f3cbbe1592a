#include "dita/zinc/intent_queue.hpp"

#include <cstring>

namespace dita::zinc {
namespace {

ZincError error(ZincErrorKind kind, std::string message) {
  return ZincError{kind, std::move(message), 0};
}

std::int64_t signed_diff(std::uint64_t a, std::uint64_t b) noexcept {
  return static_cast<std::int64_t>(a - b);
}

}  // namespace

std::string_view to_string(SendOutcome outcome) noexcept {
  switch (outcome) {
    case SendOutcome::Enqueued:
      return "ENQUEUED";
    case SendOutcome::AlreadyApplied:
      return "ALREADY_APPLIED";
  }
  return "UNKNOWN";
}

IntentQueue::IntentQueue(Region region, std::uint64_t identity)
    : region_(std::move(region)),
      identity_(identity),
      control_(reinterpret_cast<dita_zinc_queue_control*>(region_.base() +
                                                          DITA_ZINC_QUEUE_CONTROL_OFFSET)),
      slots_(region_.base() + DITA_ZINC_QUEUE_PRODUCERS_OFFSET +
             64U * std::size_t{region_.header()->aux_count}),
      slot_stride_(64U + ((std::size_t{region_.header()->record_size} + 63U) & ~std::size_t{63})),
      capacity_(region_.header()->record_count),
      max_producers_(region_.header()->aux_count),
      payload_size_(region_.header()->record_size),
      wait_(&control_->futex_word, &control_->waiters, region_.process_shared()) {}

std::expected<IntentQueue, ZincError> IntentQueue::attach(Region region) {
  if (!region.valid())
    return std::unexpected(error(ZincErrorKind::InvalidArgument, "region: not mapped"));
  const auto g = region.geometry();
  if (g.kind != RegionKind::Intent) {
    return std::unexpected(error(ZincErrorKind::BadMagic, "region_kind: expected intent, actual " +
                                                              std::string(to_string(g.kind))));
  }
  if (auto checked = RegionGeometry::intent(g.record_size, g.record_count, g.aux_count); !checked) {
    return std::unexpected(checked.error());
  }
  auto me = current_process_identity();
  if (!me) return std::unexpected(me.error());
  return IntentQueue(std::move(region), me->word());
}

dita_zinc_queue_slot_header* IntentQueue::slot(std::uint64_t position) const noexcept {
  const auto index = static_cast<std::size_t>(position & (capacity_ - 1U));
  return reinterpret_cast<dita_zinc_queue_slot_header*>(slots_ + index * slot_stride_);
}

dita_zinc_producer_record* IntentQueue::producer(std::uint32_t id) const noexcept {
  return reinterpret_cast<dita_zinc_producer_record*>(
      region_.base() + DITA_ZINC_QUEUE_PRODUCERS_OFFSET + 64U * std::size_t{id});
}

std::uint64_t IntentQueue::applied_seq(std::uint32_t producer_id) const noexcept {
  if (producer_id >= max_producers_) return 0;
  return atomic_load(producer(producer_id)->applied_seq, std::memory_order_acquire);
}

QueueStats IntentQueue::stats() const noexcept {
  return QueueStats{atomic_load(control_->enqueue_pos, std::memory_order_acquire),
                    atomic_load(control_->dequeue_pos, std::memory_order_acquire),
                    atomic_load(control_->committed_count, std::memory_order_acquire),
                    atomic_load(control_->duplicates_skipped, std::memory_order_acquire),
                    atomic_load(control_->abandoned_count, std::memory_order_acquire)};
}

std::expected<std::uint64_t, ZincError> IntentQueue::claim(std::uint32_t producer_id,
                                                           std::uint64_t producer_seq) {
  if (producer_id >= max_producers_) {
    return std::unexpected(error(ZincErrorKind::InvalidArgument,
                                 "producer_id: expected < " + std::to_string(max_producers_) +
                                     ", actual " + std::to_string(producer_id)));
  }
  if (producer_seq == 0) {
    return std::unexpected(
        error(ZincErrorKind::InvalidArgument, "producer_seq: expected >= 1, actual 0"));
  }
  atomic_ref<std::uint64_t> enqueue(control_->enqueue_pos);
  std::uint64_t pos = enqueue.load(std::memory_order_relaxed);
  for (;;) {
    auto* s = slot(pos);
    const std::uint64_t seq = atomic_load(s->sequence, std::memory_order_acquire);
    const std::int64_t diff = signed_diff(seq, pos);
    if (diff == 0) {
      if (enqueue.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
    } else if (diff < 0) {
      return std::unexpected(
          error(ZincErrorKind::QueueFull,
                "intent queue " + region_.name() + " is full: capacity " +
                    std::to_string(capacity_) + ", dequeue_pos " +
                    std::to_string(atomic_load(control_->dequeue_pos, std::memory_order_relaxed)) +
                    "; nothing was enqueued, retry after the consumer catches up"));
    } else {
      pos = enqueue.load(std::memory_order_relaxed);
    }
  }
  auto* s = slot(pos);
  atomic_store(s->claim_identity, identity_, std::memory_order_relaxed);
  atomic_store(s->claim_pos, pos, std::memory_order_release);
  s->producer_id = producer_id;
  s->payload_size = payload_size_;
  s->producer_seq = producer_seq;
  s->enqueue_mono_ns = monotonic_ns();
  return pos;
}

std::expected<SendOutcome, ZincError> IntentQueue::send(std::uint32_t producer_id,
                                                        std::uint64_t producer_seq,
                                                        const void* payload, std::size_t size) {
  if (size != payload_size_) {
    return std::unexpected(error(ZincErrorKind::SizeMismatch,
                                 "payload_size: expected " + std::to_string(payload_size_) +
                                     ", actual " + std::to_string(size)));
  }
  if (producer_id < max_producers_ && producer_seq != 0 &&
      producer_seq <= applied_seq(producer_id)) {
    return SendOutcome::AlreadyApplied;
  }
  auto pos = claim(producer_id, producer_seq);
  if (!pos) return std::unexpected(pos.error());
  auto* s = slot(*pos);
  std::memcpy(reinterpret_cast<std::byte*>(s) + sizeof(dita_zinc_queue_slot_header), payload, size);
  std::uint64_t expected = *pos;
  if (!atomic_ref<std::uint64_t>(s->sequence)
           .compare_exchange_strong(expected, *pos + 1, std::memory_order_release,
                                    std::memory_order_relaxed)) {
    return std::unexpected(error(ZincErrorKind::EntryAbandoned,
                                 "sequence: slot for position " + std::to_string(*pos) +
                                     " was skipped by the consumer before this producer " +
                                     "published it; re-send (producer_seq " +
                                     std::to_string(producer_seq) + ")"));
  }
  atomic_store(producer(producer_id)->last_enqueued_seq, producer_seq, std::memory_order_relaxed);
  wait_.notify();
  return SendOutcome::Enqueued;
}

std::expected<std::uint64_t, ZincError> IntentQueue::claim_without_publish_for_testing(
    std::uint32_t producer_id, std::uint64_t producer_seq) {
  return claim(producer_id, producer_seq);
}

void IntentQueue::release(std::uint64_t position) noexcept {
  // Free the slot before advancing: a consumer that dies in between finds a slot already
  // freed for a later lap and simply advances (see peek()).
  atomic_store(slot(position)->sequence, position + capacity_, std::memory_order_release);
  atomic_store(control_->dequeue_pos, position + 1, std::memory_order_release);
}

std::expected<std::optional<IntentMeta>, ZincError> IntentQueue::peek(void* payload_out,
                                                                      std::size_t size) {
  if (size != payload_size_) {
    return std::unexpected(error(ZincErrorKind::SizeMismatch,
                                 "payload_size: expected " + std::to_string(payload_size_) +
                                     ", actual " + std::to_string(size)));
  }
  for (;;) {
    const std::uint64_t pos = atomic_load(control_->dequeue_pos, std::memory_order_acquire);
    auto* s = slot(pos);
    const std::uint64_t seq = atomic_load(s->sequence, std::memory_order_acquire);
    const std::int64_t diff = signed_diff(seq, pos + 1);
    if (diff == 0) {
      stall_position_ = ~std::uint64_t{0};
      const std::uint32_t id = s->producer_id;
      const std::uint64_t pseq = s->producer_seq;
      if (id >= max_producers_ || s->payload_size != payload_size_ || pseq == 0) {
        atomic_ref<std::uint64_t>(control_->abandoned_count)
            .fetch_add(1, std::memory_order_relaxed);
        release(pos);
        continue;
      }
      if (pseq <= applied_seq(id)) {
        atomic_ref<std::uint64_t>(control_->duplicates_skipped)
            .fetch_add(1, std::memory_order_relaxed);
        release(pos);
        continue;
      }
      std::memcpy(payload_out,
                  reinterpret_cast<std::byte*>(s) + sizeof(dita_zinc_queue_slot_header), size);
      return IntentMeta{pos, id, pseq, s->enqueue_mono_ns};
    }
    if (diff > 0) {
      // Already freed for a later lap: a previous consumer died between release's two stores.
      atomic_store(control_->dequeue_pos, pos + 1, std::memory_order_release);
      continue;
    }
    if (atomic_load(control_->enqueue_pos, std::memory_order_acquire) <= pos) {
      stall_position_ = ~std::uint64_t{0};
      return std::optional<IntentMeta>{};  // empty
    }
    // Claimed but not published yet: a producer is writing, or died while writing.
    const auto now = std::chrono::steady_clock::now();
    if (stall_position_ != pos) {
      stall_position_ = pos;
      stall_since_ = now;
      return std::optional<IntentMeta>{};
    }
    bool abandon = false;
    if (atomic_load(s->claim_pos, std::memory_order_acquire) == pos) {
      abandon = now - stall_since_ >= options_.liveness_check_after &&
                !identity_is_alive(atomic_load(s->claim_identity, std::memory_order_relaxed));
    } else {
      abandon = now - stall_since_ >= options_.abandon_unclaimed_after;
    }
    if (!abandon) return std::optional<IntentMeta>{};
    std::uint64_t expected = pos;
    if (atomic_ref<std::uint64_t>(s->sequence)
            .compare_exchange_strong(expected, pos + capacity_, std::memory_order_acq_rel)) {
      atomic_ref<std::uint64_t>(control_->abandoned_count).fetch_add(1, std::memory_order_relaxed);
      atomic_store(control_->dequeue_pos, pos + 1, std::memory_order_release);
    }
    stall_position_ = ~std::uint64_t{0};
  }
}

std::expected<void, ZincError> IntentQueue::commit(const IntentMeta& entry) {
  const std::uint64_t pos = atomic_load(control_->dequeue_pos, std::memory_order_acquire);
  if (entry.position != pos) {
    return std::unexpected(
        error(ZincErrorKind::InvalidArgument, "position: expected the oldest uncommitted entry " +
                                                  std::to_string(pos) + ", actual " +
                                                  std::to_string(entry.position)));
  }
  if (entry.producer_id >= max_producers_) {
    return std::unexpected(error(ZincErrorKind::InvalidArgument,
                                 "producer_id: out of range " + std::to_string(entry.producer_id)));
  }
  auto* rec = producer(entry.producer_id);
  if (entry.producer_seq > atomic_load(rec->applied_seq, std::memory_order_relaxed)) {
    atomic_store(rec->applied_seq, entry.producer_seq, std::memory_order_release);
  }
  atomic_ref<std::uint64_t>(rec->applied_count).fetch_add(1, std::memory_order_relaxed);
  release(pos);
  atomic_ref<std::uint64_t>(control_->committed_count).fetch_add(1, std::memory_order_relaxed);
  return {};
}

std::expected<void, ZincError> IntentQueue::restore_applied(std::uint32_t producer_id,
                                                            std::uint64_t producer_seq) {
  if (producer_id >= max_producers_) {
    return std::unexpected(error(ZincErrorKind::InvalidArgument,
                                 "producer_id: expected < " + std::to_string(max_producers_) +
                                     ", actual " + std::to_string(producer_id)));
  }
  auto* rec = producer(producer_id);
  if (producer_seq > atomic_load(rec->applied_seq, std::memory_order_relaxed)) {
    atomic_store(rec->applied_seq, producer_seq, std::memory_order_release);
  }
  return {};
}

std::expected<void, ZincError> IntentQueue::wait_for_entry(std::chrono::nanoseconds timeout,
                                                           WaitPolicy policy) {
  const bool ready = wait_.wait_until(
      [&] {
        const std::uint64_t pos = atomic_load(control_->dequeue_pos, std::memory_order_acquire);
        const std::uint64_t seq = atomic_load(slot(pos)->sequence, std::memory_order_acquire);
        return signed_diff(seq, pos + 1) >= 0;
      },
      timeout, policy);
  if (!ready) {
    return std::unexpected(
        error(ZincErrorKind::Timeout,
              "intent queue: no entry after " + std::to_string(timeout.count()) + " ns"));
  }
  return {};
}

}  // namespace dita::zinc
