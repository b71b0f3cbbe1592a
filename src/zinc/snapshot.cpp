#include "dita/zinc/snapshot.hpp"

#include <thread>

namespace dita::zinc {

SnapshotCell::SnapshotCell(dita_zinc_cell_control* control, std::byte* buffer0, std::size_t stride,
                           std::size_t record_size, bool shared) noexcept
    : control_(control),
      buffer0_(buffer0),
      stride_(stride),
      record_size_(record_size),
      wait_(&control->futex_word, &control->waiters, shared) {}

std::span<std::byte> SnapshotCell::begin_write() noexcept {
  const std::uint64_t next = atomic_load(control_->generation, std::memory_order_relaxed) + 1;
  // write_begin > generation tells readers the back buffer (next & 1) is being rewritten;
  // the fence orders this store before every data store that follows.
  atomic_store(control_->write_begin, next, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  return {buffer(next), record_size_};
}

std::uint64_t SnapshotCell::commit_write() noexcept {
  const std::uint64_t next = atomic_load(control_->generation, std::memory_order_relaxed) + 1;
  atomic_store(control_->generation, next, std::memory_order_release);
  wait_.notify();
  return next;
}

std::uint64_t SnapshotCell::publish(const void* record) noexcept {
  auto back = begin_write();
  copy_to_shared(back.data(), record, record_size_);
  return commit_write();
}

std::uint64_t SnapshotCell::generation() const noexcept {
  return atomic_load(control_->generation, std::memory_order_acquire);
}

std::uint64_t SnapshotCell::read(void* out) const noexcept {
  for (;;) {
    const std::uint64_t gen = atomic_load(control_->generation, std::memory_order_acquire);
    copy_from_shared(out, buffer(gen), record_size_);
    std::atomic_thread_fence(std::memory_order_acquire);
    // The buffer we copied (gen & 1) is rewritten only for generation gen + 2 and later.
    if (atomic_load(control_->write_begin, std::memory_order_relaxed) < gen + 2) return gen;
    cpu_relax();
  }
}

std::expected<std::uint64_t, ZincError> SnapshotCell::wait_for_change(
    std::uint64_t last_seen, std::chrono::nanoseconds timeout, WaitPolicy policy) const {
  std::uint64_t now_gen = last_seen;
  const bool changed = wait_.wait_until(
      [&] {
        now_gen = atomic_load(control_->generation, std::memory_order_acquire);
        return now_gen != last_seen;
      },
      timeout, policy);
  if (!changed) {
    return std::unexpected(
        ZincError{ZincErrorKind::Timeout, "generation: still " + std::to_string(last_seen) +
                                              " after " + std::to_string(timeout.count()) + " ns"});
  }
  return now_gen;
}

std::expected<void, ZincError> SnapshotCell::lock(std::uint64_t identity,
                                                  std::chrono::nanoseconds timeout) noexcept {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  atomic_ref<std::uint64_t> word(control_->writer_lock);
  for (std::uint32_t attempt = 0;; ++attempt) {
    std::uint64_t holder = word.load(std::memory_order_acquire);
    if (holder == 0 || holder == identity || !identity_is_alive(holder)) {
      if (word.compare_exchange_strong(holder, identity, std::memory_order_acq_rel)) return {};
      continue;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return std::unexpected(ZincError{
          ZincErrorKind::Busy, "writer_lock: held by live process " +
                                   std::to_string(static_cast<std::int32_t>(holder >> 32))});
    }
    if (attempt < 64) {
      cpu_relax();
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }
}

void SnapshotCell::unlock(std::uint64_t identity) noexcept {
  std::uint64_t expected = identity;
  atomic_ref<std::uint64_t>(control_->writer_lock)
      .compare_exchange_strong(expected, 0, std::memory_order_release, std::memory_order_relaxed);
}

namespace detail {

std::expected<SnapshotCell, ZincError> state_cell(const Region& region, std::size_t record_size) {
  if (!region.valid()) {
    return std::unexpected(ZincError{ZincErrorKind::InvalidArgument, "region: not mapped"});
  }
  const auto geometry = region.geometry();
  if (geometry.kind != RegionKind::State) {
    return std::unexpected(
        ZincError{ZincErrorKind::BadMagic,
                  "region_kind: expected state, actual " + std::string(to_string(geometry.kind))});
  }
  if (geometry.record_size != record_size) {
    return std::unexpected(ZincError{ZincErrorKind::SizeMismatch,
                                     "record_size: expected " + std::to_string(record_size) +
                                         ", actual " + std::to_string(geometry.record_size)});
  }
  auto* base = region.base();
  const std::size_t stride = (record_size + 63U) & ~std::size_t{63};
  return SnapshotCell(reinterpret_cast<dita_zinc_cell_control*>(base + DITA_ZINC_STATE_CELL_OFFSET),
                      base + DITA_ZINC_STATE_BUFFER0_OFFSET, stride, record_size,
                      region.process_shared());
}

}  // namespace detail
}  // namespace dita::zinc
