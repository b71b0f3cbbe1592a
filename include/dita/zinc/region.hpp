// Zinc region bring-up: naming, the common header, exclusive creation, validated opening,
// writer liveness and takeover. Owns every mmap of the Zinc plane (POSIX shm under /dev/shm)
// and the process-local in-memory stand-in used by unit tests.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "dita/zinc/dita_zinc.h"
#include "dita/zinc/error.hpp"

namespace dita::zinc {

enum class RegionKind : std::uint32_t {
  State = DITA_ZINC_KIND_STATE,
  Control = DITA_ZINC_KIND_CONTROL,
  Intent = DITA_ZINC_KIND_INTENT,
};
[[nodiscard]] std::string_view to_string(RegionKind kind) noexcept;  // "state", ...
[[nodiscard]] std::uint64_t magic_for(RegionKind kind) noexcept;

// Sizes and capacities a region is created with and validated against.
struct RegionGeometry {
  RegionKind kind = RegionKind::State;
  std::uint32_t record_size = 0;   // payload bytes per record / intent
  std::uint32_t record_count = 0;  // state/control: 1; intent: capacity (power of two >= 2)
  std::uint32_t aux_count = 0;     // intent: max producers; otherwise 0

  [[nodiscard]] std::uint64_t total_size() const noexcept;

  static std::expected<RegionGeometry, ZincError> state(std::uint32_t record_size);
  static RegionGeometry control() noexcept;
  static std::expected<RegionGeometry, ZincError> intent(std::uint32_t payload_size,
                                                         std::uint32_t capacity,
                                                         std::uint32_t max_producers);
  friend bool operator==(const RegionGeometry&, const RegionGeometry&) = default;
};

inline constexpr std::size_t kMaxInstanceNameLength = 48;
// Instance names: 1..48 characters of [A-Za-z0-9_-], not starting with '-'.
[[nodiscard]] std::expected<void, ZincError> validate_instance_name(std::string_view instance);
// "/dita.<instance>.intent" | ".state" | ".control".
[[nodiscard]] std::expected<std::string, ZincError> region_name(std::string_view instance,
                                                                RegionKind kind);

// Who a process is, robust to pid reuse: pid plus its start time from /proc/<pid>/stat.
struct ProcessIdentity {
  std::int32_t pid = 0;
  std::uint64_t start_time = 0;                       // clock ticks since boot (field 22)
  [[nodiscard]] std::uint64_t word() const noexcept;  // (pid << 32) | (start_time & 0xffffffff)
};
[[nodiscard]] std::expected<ProcessIdentity, ZincError> current_process_identity();
// Start time of a running process; nullopt if it does not exist or is a zombie.
[[nodiscard]] std::optional<std::uint64_t> process_start_time(std::int32_t pid);

enum class WriterLiveness : std::uint8_t { Alive, Dead, ClosedCleanly };
[[nodiscard]] std::string_view to_string(WriterLiveness liveness) noexcept;  // "ALIVE", ...
// Liveness of the process an identity word names (0 names nobody: Dead).
[[nodiscard]] bool identity_is_alive(std::uint64_t identity_word);

struct OpenOptions {
  // How long an opener waits for a creator that has not published its magic yet.
  std::chrono::milliseconds ready_timeout{200};
};

// A mapped region. Copies share one mapping (the in-memory stand-in relies on that); the
// mapping is released with the last copy, and if this process was the writer and still owns
// the region, the header is marked "closed cleanly" then.
class Region {
 public:
  Region() = default;

  // Exclusive create (O_CREAT|O_EXCL, 0600); this process becomes the writer.
  static std::expected<Region, ZincError> create(const std::string& name,
                                                 const RegionGeometry& geometry);
  // Opens and validates an existing region without claiming it. Fields of `expected` that
  // are 0 (record_count, aux_count) are accepted as the region has them.
  static std::expected<Region, ZincError> open(const std::string& name,
                                               const RegionGeometry& expected,
                                               OpenOptions options = {});
  // Opens, validates, then claims a region whose writer is dead or closed cleanly.
  static std::expected<Region, ZincError> take_over(const std::string& name,
                                                    const RegionGeometry& expected,
                                                    OpenOptions options = {});
  // create(), or take_over() if the name exists.
  static std::expected<Region, ZincError> create_or_take_over(const std::string& name,
                                                              const RegionGeometry& geometry,
                                                              OpenOptions options = {});
  // Process-local stand-in: same layout and code paths on heap memory, private futexes.
  static std::expected<Region, ZincError> create_in_memory(const RegionGeometry& geometry);
  static std::expected<void, ZincError> unlink(const std::string& name);

  [[nodiscard]] bool valid() const noexcept { return mapping_ != nullptr; }
  [[nodiscard]] bool is_writer() const noexcept;
  [[nodiscard]] bool process_shared() const noexcept;
  [[nodiscard]] std::byte* base() const noexcept;
  [[nodiscard]] std::size_t size() const noexcept;
  [[nodiscard]] const std::string& name() const noexcept;
  [[nodiscard]] dita_zinc_region_header* header() const noexcept;
  [[nodiscard]] RegionGeometry geometry() const noexcept;

  [[nodiscard]] WriterLiveness writer_liveness() const;
  [[nodiscard]] std::int32_t writer_pid() const noexcept;
  // Writer only: bumps the heartbeat counter and timestamp.
  void heartbeat() noexcept;
  // Writer only: marks the region closed cleanly now (also done by the last copy's destructor).
  std::expected<void, ZincError> close_cleanly();

  struct Mapping;

 private:
  explicit Region(std::shared_ptr<Mapping> mapping) : mapping_(std::move(mapping)) {}
  std::expected<void, ZincError> claim();

  std::shared_ptr<Mapping> mapping_;
};

// Monotonic nanoseconds (CLOCK_MONOTONIC is system-wide, so comparable across processes).
[[nodiscard]] std::uint64_t monotonic_ns() noexcept;

}  // namespace dita::zinc
