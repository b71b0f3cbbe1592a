// Latest-value snapshot cells (double buffer + generation counter) and the state region:
// one fixed-size trivially copyable blob per region (e.g. the kernel's slot images + account
// record as one struct). A writer that dies mid-write leaves readers on the last complete value.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <span>
#include <string_view>
#include <type_traits>

#include "dita/zinc/dita_zinc.h"
#include "dita/zinc/error.hpp"
#include "dita/zinc/futex.hpp"
#include "dita/zinc/region.hpp"

namespace dita::zinc {

template <class T>
concept ZincPayload =
    std::is_trivially_copyable_v<T> && !std::is_pointer_v<T> && sizeof(T) <= (1U << 30);

// Untyped engine over one cell control block and its two buffers.
class SnapshotCell {
 public:
  SnapshotCell(dita_zinc_cell_control* control, std::byte* buffer0, std::size_t stride,
               std::size_t record_size, bool shared) noexcept;

  // Two-phase write for writers that build the value in place: begin_write() marks the back
  // buffer as being written and returns it; commit_write() publishes it and wakes readers.
  [[nodiscard]] std::span<std::byte> begin_write() noexcept;
  std::uint64_t commit_write() noexcept;
  // begin_write + copy + commit_write. Single writer per cell.
  std::uint64_t publish(const void* record) noexcept;

  [[nodiscard]] std::uint64_t generation() const noexcept;
  // Copies the latest complete record into `out` (record_size bytes) and returns its
  // generation; 0 means nothing was published yet (out receives zeros).
  std::uint64_t read(void* out) const noexcept;
  // Waits until generation() != last_seen; returns the new generation or Timeout.
  [[nodiscard]] std::expected<std::uint64_t, ZincError> wait_for_change(
      std::uint64_t last_seen, std::chrono::nanoseconds timeout, WaitPolicy policy = {}) const;

  // Multi-writer cells (control requests): a lock word holding the holder's identity; a lock
  // whose holder died is taken over. Fails with Busy after `timeout` if a live holder keeps it.
  [[nodiscard]] std::expected<void, ZincError> lock(std::uint64_t identity,
                                                    std::chrono::nanoseconds timeout) noexcept;
  void unlock(std::uint64_t identity) noexcept;

  [[nodiscard]] std::size_t record_size() const noexcept { return record_size_; }

 private:
  [[nodiscard]] std::byte* buffer(std::uint64_t generation) const noexcept {
    return buffer0_ + (generation & 1U) * stride_;
  }

  dita_zinc_cell_control* control_;
  std::byte* buffer0_;
  std::size_t stride_;
  std::size_t record_size_;
  WaitWord wait_;
};

template <ZincPayload T>
struct Snapshot {
  std::uint64_t generation = 0;  // 0: nothing published yet
  T value{};
};

namespace detail {
std::expected<SnapshotCell, ZincError> state_cell(const Region& region, std::size_t record_size);
}  // namespace detail

// Writer side of a state region (the region's owner).
template <ZincPayload T>
class SnapshotWriter {
 public:
  // Creates /dita.<instance>.state, or takes it over if its writer is dead or closed.
  static std::expected<SnapshotWriter, ZincError> create(std::string_view instance) {
    auto name = region_name(instance, RegionKind::State);
    if (!name) return std::unexpected(name.error());
    auto geometry = RegionGeometry::state(sizeof(T));
    if (!geometry) return std::unexpected(geometry.error());
    auto region = Region::create_or_take_over(*name, *geometry);
    if (!region) return std::unexpected(region.error());
    return attach(std::move(*region));
  }
  static std::expected<SnapshotWriter, ZincError> attach(Region region) {
    if (!region.is_writer()) {
      return std::unexpected(ZincError{
          ZincErrorKind::NotWriter, "writer_identity: this process does not own " + region.name()});
    }
    auto cell = detail::state_cell(region, sizeof(T));
    if (!cell) return std::unexpected(cell.error());
    return SnapshotWriter(std::move(region), *cell);
  }

  std::uint64_t publish(const T& value) noexcept { return cell_.publish(&value); }
  [[nodiscard]] std::uint64_t generation() const noexcept { return cell_.generation(); }
  [[nodiscard]] SnapshotCell& cell() noexcept { return cell_; }
  [[nodiscard]] Region& region() noexcept { return region_; }

 private:
  SnapshotWriter(Region region, SnapshotCell cell) : region_(std::move(region)), cell_(cell) {}
  Region region_;
  SnapshotCell cell_;
};

// Reader side of a state region.
template <ZincPayload T>
class SnapshotReader {
 public:
  static std::expected<SnapshotReader, ZincError> open(std::string_view instance,
                                                       OpenOptions options = {}) {
    auto name = region_name(instance, RegionKind::State);
    if (!name) return std::unexpected(name.error());
    auto geometry = RegionGeometry::state(sizeof(T));
    if (!geometry) return std::unexpected(geometry.error());
    auto region = Region::open(*name, *geometry, options);
    if (!region) return std::unexpected(region.error());
    return attach(std::move(*region));
  }
  static std::expected<SnapshotReader, ZincError> attach(Region region) {
    auto cell = detail::state_cell(region, sizeof(T));
    if (!cell) return std::unexpected(cell.error());
    return SnapshotReader(std::move(region), *cell);
  }

  [[nodiscard]] Snapshot<T> read() const noexcept {
    Snapshot<T> out;
    out.generation = cell_.read(&out.value);
    return out;
  }
  [[nodiscard]] std::uint64_t generation() const noexcept { return cell_.generation(); }
  [[nodiscard]] std::expected<std::uint64_t, ZincError> wait_for_change(
      std::uint64_t last_seen, std::chrono::nanoseconds timeout, WaitPolicy policy = {}) const {
    return cell_.wait_for_change(last_seen, timeout, policy);
  }
  [[nodiscard]] WriterLiveness writer_liveness() const { return region_.writer_liveness(); }
  [[nodiscard]] const Region& region() const noexcept { return region_; }

 private:
  SnapshotReader(Region region, SnapshotCell cell) : region_(std::move(region)), cell_(cell) {}
  Region region_;
  SnapshotCell cell_;
};

}  // namespace dita::zinc
