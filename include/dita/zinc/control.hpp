// Control region: operators write a requested settings change, the kernel validates and
// applies it and publishes the applied snapshot, so each side sees the other's changes.
// Two double-buffered cells; the request cell is multi-writer behind a dead-holder-safe lock.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <optional>
#include <string_view>

#include "dita/zinc/dita_zinc.h"
#include "dita/zinc/error.hpp"
#include "dita/zinc/region.hpp"
#include "dita/zinc/snapshot.hpp"

namespace dita::zinc {

enum class KernelMode : std::uint8_t {
  Normal = DITA_ZINC_MODE_NORMAL,
  Debug = DITA_ZINC_MODE_DEBUG
};
enum class KernelVerbosity : std::uint8_t {
  Quiet = DITA_ZINC_VERBOSITY_QUIET,
  Verbose = DITA_ZINC_VERBOSITY_VERBOSE,
  Trace = DITA_ZINC_VERBOSITY_TRACE,
};
enum class BackendMode : std::uint8_t {
  Mock = DITA_ZINC_BACKEND_MOCK,
  Bingx = DITA_ZINC_BACKEND_BINGX
};
enum class ControlStatus : std::uint8_t {
  Applied = DITA_ZINC_CONTROL_STATUS_APPLIED,
  Rejected = DITA_ZINC_CONTROL_STATUS_REJECTED,
};

// Stable forms: "NORMAL"/"DEBUG", "QUIET"/"VERBOSE"/"TRACE", "MOCK"/"BINGX", "APPLIED"/"REJECTED".
[[nodiscard]] std::string_view to_string(KernelMode v) noexcept;
[[nodiscard]] std::string_view to_string(KernelVerbosity v) noexcept;
[[nodiscard]] std::string_view to_string(BackendMode v) noexcept;
[[nodiscard]] std::string_view to_string(ControlStatus v) noexcept;
[[nodiscard]] std::optional<KernelMode> parse_kernel_mode(std::string_view s) noexcept;
[[nodiscard]] std::optional<KernelVerbosity> parse_kernel_verbosity(std::string_view s) noexcept;
[[nodiscard]] std::optional<BackendMode> parse_backend_mode(std::string_view s) noexcept;

struct ControlSettings {
  KernelMode mode = KernelMode::Normal;
  KernelVerbosity verbosity = KernelVerbosity::Quiet;
  BackendMode backend = BackendMode::Mock;
  bool debug_clickhouse_enabled = false;
  bool trace_transitions = false;
  bool mirror_to_hazelcast = false;
  std::uint32_t active_slot_limit = 0;
  bool reconcile_on_restart = true;
  friend bool operator==(const ControlSettings&, const ControlSettings&) = default;
};

[[nodiscard]] dita_zinc_control_settings encode(const ControlSettings& settings) noexcept;
// Validates every field (enum ranges, 0/1 flags), naming the first bad one.
[[nodiscard]] std::expected<ControlSettings, ZincError> decode(
    const dita_zinc_control_settings& raw);

struct AppliedControl {
  std::uint64_t generation = 0;   // of the applied cell
  std::uint64_t change_seq = 0;   // number of changes applied so far
  std::uint64_t request_seq = 0;  // request this snapshot answers (0: initial settings)
  ControlStatus status = ControlStatus::Applied;
  ControlSettings settings;  // currently effective settings
};

struct ControlRequest {
  std::uint64_t request_seq = 0;
  std::int32_t requester_pid = 0;
  dita_zinc_control_settings settings{};  // raw: validated when applied
};

// Kernel side: owns the control region.
class ControlKernel {
 public:
  // Creates /dita.<instance>.control (or takes it over). A fresh region publishes `initial`;
  // a taken-over one keeps its applied snapshot (change_seq continues).
  static std::expected<ControlKernel, ZincError> create(std::string_view instance,
                                                        const ControlSettings& initial);
  static std::expected<ControlKernel, ZincError> attach(Region region,
                                                        const ControlSettings& initial);

  // A request newer than the last one answered, if any.
  [[nodiscard]] std::optional<ControlRequest> pending_request() const;
  // Validates the pending request and publishes the applied snapshot (Applied with the new
  // settings, or Rejected with the settings unchanged). nullopt if nothing is pending.
  std::optional<AppliedControl> apply_pending();
  [[nodiscard]] std::expected<void, ZincError> wait_for_request(std::chrono::nanoseconds timeout,
                                                                WaitPolicy policy = {}) const;
  [[nodiscard]] AppliedControl applied() const;
  [[nodiscard]] Region& region() noexcept { return region_; }

 private:
  ControlKernel(Region region, SnapshotCell applied, SnapshotCell requested)
      : region_(std::move(region)), applied_(applied), requested_(requested) {}
  Region region_;
  SnapshotCell applied_;
  SnapshotCell requested_;
};

// Operator side (CLI, tools): any number of processes.
class ControlOperator {
 public:
  static std::expected<ControlOperator, ZincError> open(std::string_view instance,
                                                        OpenOptions options = {});
  static std::expected<ControlOperator, ZincError> attach(Region region);

  // Writes a requested change; returns its request sequence.
  [[nodiscard]] std::expected<std::uint64_t, ZincError> request(
      const ControlSettings& settings,
      std::chrono::nanoseconds lock_timeout = std::chrono::milliseconds(100));
  // Same with raw fields (lets tools and tests send values the kernel must reject).
  [[nodiscard]] std::expected<std::uint64_t, ZincError> request_raw(
      const dita_zinc_control_settings& settings,
      std::chrono::nanoseconds lock_timeout = std::chrono::milliseconds(100));
  [[nodiscard]] std::expected<AppliedControl, ZincError> applied() const;
  // Waits until the kernel has answered request_seq (applied or rejected).
  [[nodiscard]] std::expected<AppliedControl, ZincError> wait_for_applied(
      std::uint64_t request_seq, std::chrono::nanoseconds timeout, WaitPolicy policy = {}) const;
  [[nodiscard]] Region& region() noexcept { return region_; }

 private:
  ControlOperator(Region region, SnapshotCell applied, SnapshotCell requested)
      : region_(std::move(region)), applied_(applied), requested_(requested) {}
  Region region_;
  SnapshotCell applied_;
  SnapshotCell requested_;
};

}  // namespace dita::zinc
