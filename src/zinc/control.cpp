#include "dita/zinc/control.hpp"

#include <unistd.h>

#include <algorithm>
#include <utility>

namespace dita::zinc {
namespace {

ZincError error(ZincErrorKind kind, std::string message) {
  return ZincError{kind, std::move(message), 0};
}

struct Cells {
  SnapshotCell applied;
  SnapshotCell requested;
};

std::expected<Cells, ZincError> control_cells(const Region& region) {
  if (!region.valid())
    return std::unexpected(error(ZincErrorKind::InvalidArgument, "region: not mapped"));
  const auto g = region.geometry();
  if (g != RegionGeometry::control()) {
    return std::unexpected(
        error(ZincErrorKind::SizeMismatch, "control geometry: expected kind control, record_size " +
                                               std::to_string(sizeof(dita_zinc_control_record)) +
                                               ", actual kind " + std::string(to_string(g.kind)) +
                                               ", record_size " + std::to_string(g.record_size)));
  }
  auto* base = region.base();
  const bool shared = region.process_shared();
  auto cell = [&](std::size_t control_offset, std::size_t buffer_offset) {
    return SnapshotCell(reinterpret_cast<dita_zinc_cell_control*>(base + control_offset),
                        base + buffer_offset, DITA_ZINC_CONTROL_STRIDE,
                        sizeof(dita_zinc_control_record), shared);
  };
  return Cells{
      cell(DITA_ZINC_CONTROL_APPLIED_CELL_OFFSET, DITA_ZINC_CONTROL_APPLIED_BUFFER0_OFFSET),
      cell(DITA_ZINC_CONTROL_REQUESTED_CELL_OFFSET, DITA_ZINC_CONTROL_REQUESTED_BUFFER0_OFFSET)};
}

std::expected<AppliedControl, ZincError> read_applied(const SnapshotCell& cell) {
  dita_zinc_control_record rec{};
  const std::uint64_t gen = cell.read(&rec);
  auto settings = decode(rec.settings);
  if (!settings) return std::unexpected(settings.error());
  return AppliedControl{gen, rec.change_seq, rec.request_seq,
                        rec.status == DITA_ZINC_CONTROL_STATUS_REJECTED ? ControlStatus::Rejected
                                                                        : ControlStatus::Applied,
                        *settings};
}

template <class E>
std::expected<E, ZincError> enum_field(const char* field, std::uint8_t value, std::uint8_t max) {
  if (value > max) {
    return std::unexpected(error(ZincErrorKind::InvalidArgument,
                                 std::string(field) + ": expected 0.." + std::to_string(max) +
                                     ", actual " + std::to_string(value)));
  }
  return static_cast<E>(value);
}

}  // namespace

std::string_view to_string(KernelMode v) noexcept {
  return v == KernelMode::Debug ? "DEBUG" : "NORMAL";
}
std::string_view to_string(KernelVerbosity v) noexcept {
  switch (v) {
    case KernelVerbosity::Quiet:
      return "QUIET";
    case KernelVerbosity::Verbose:
      return "VERBOSE";
    case KernelVerbosity::Trace:
      return "TRACE";
  }
  return "UNKNOWN";
}
std::string_view to_string(BackendMode v) noexcept {
  return v == BackendMode::Bingx ? "BINGX" : "MOCK";
}
std::string_view to_string(ControlStatus v) noexcept {
  return v == ControlStatus::Rejected ? "REJECTED" : "APPLIED";
}
std::optional<KernelMode> parse_kernel_mode(std::string_view s) noexcept {
  if (s == "NORMAL") return KernelMode::Normal;
  if (s == "DEBUG") return KernelMode::Debug;
  return std::nullopt;
}
std::optional<KernelVerbosity> parse_kernel_verbosity(std::string_view s) noexcept {
  if (s == "QUIET") return KernelVerbosity::Quiet;
  if (s == "VERBOSE") return KernelVerbosity::Verbose;
  if (s == "TRACE") return KernelVerbosity::Trace;
  return std::nullopt;
}
std::optional<BackendMode> parse_backend_mode(std::string_view s) noexcept {
  if (s == "MOCK") return BackendMode::Mock;
  if (s == "BINGX") return BackendMode::Bingx;
  return std::nullopt;
}

dita_zinc_control_settings encode(const ControlSettings& s) noexcept {
  dita_zinc_control_settings raw{};
  raw.mode = static_cast<std::uint8_t>(s.mode);
  raw.verbosity = static_cast<std::uint8_t>(s.verbosity);
  raw.backend = static_cast<std::uint8_t>(s.backend);
  raw.debug_clickhouse_enabled = s.debug_clickhouse_enabled ? 1 : 0;
  raw.trace_transitions = s.trace_transitions ? 1 : 0;
  raw.mirror_to_hazelcast = s.mirror_to_hazelcast ? 1 : 0;
  raw.reconcile_on_restart = s.reconcile_on_restart ? 1 : 0;
  raw.active_slot_limit = s.active_slot_limit;
  return raw;
}

std::expected<ControlSettings, ZincError> decode(const dita_zinc_control_settings& raw) {
  ControlSettings s;
  auto mode = enum_field<KernelMode>("mode", raw.mode, DITA_ZINC_MODE_DEBUG);
  if (!mode) return std::unexpected(mode.error());
  auto verbosity =
      enum_field<KernelVerbosity>("verbosity", raw.verbosity, DITA_ZINC_VERBOSITY_TRACE);
  if (!verbosity) return std::unexpected(verbosity.error());
  auto backend = enum_field<BackendMode>("backend", raw.backend, DITA_ZINC_BACKEND_BINGX);
  if (!backend) return std::unexpected(backend.error());
  const std::pair<const char*, std::uint8_t> flags[] = {
      {"debug_clickhouse_enabled", raw.debug_clickhouse_enabled},
      {"trace_transitions", raw.trace_transitions},
      {"mirror_to_hazelcast", raw.mirror_to_hazelcast},
      {"reconcile_on_restart", raw.reconcile_on_restart}};
  for (const auto& [field, value] : flags) {
    if (value > 1) {
      return std::unexpected(
          error(ZincErrorKind::InvalidArgument,
                std::string(field) + ": expected 0 or 1, actual " + std::to_string(value)));
    }
  }
  s.mode = *mode;
  s.verbosity = *verbosity;
  s.backend = *backend;
  s.debug_clickhouse_enabled = raw.debug_clickhouse_enabled != 0;
  s.trace_transitions = raw.trace_transitions != 0;
  s.mirror_to_hazelcast = raw.mirror_to_hazelcast != 0;
  s.reconcile_on_restart = raw.reconcile_on_restart != 0;
  s.active_slot_limit = raw.active_slot_limit;
  return s;
}

std::expected<ControlKernel, ZincError> ControlKernel::create(std::string_view instance,
                                                              const ControlSettings& initial) {
  auto name = region_name(instance, RegionKind::Control);
  if (!name) return std::unexpected(name.error());
  auto region = Region::create_or_take_over(*name, RegionGeometry::control());
  if (!region) return std::unexpected(region.error());
  return attach(std::move(*region), initial);
}

std::expected<ControlKernel, ZincError> ControlKernel::attach(Region region,
                                                              const ControlSettings& initial) {
  if (!region.is_writer()) {
    return std::unexpected(
        error(ZincErrorKind::NotWriter, "writer_identity: the kernel must own " + region.name()));
  }
  auto cells = control_cells(region);
  if (!cells) return std::unexpected(cells.error());
  ControlKernel kernel(std::move(region), cells->applied, cells->requested);
  if (kernel.applied_.generation() == 0) {
    dita_zinc_control_record rec{};
    rec.settings = encode(initial);
    rec.status = DITA_ZINC_CONTROL_STATUS_APPLIED;
    rec.requester_pid = static_cast<std::int32_t>(::getpid());
    kernel.applied_.publish(&rec);
  }
  return kernel;
}

std::optional<ControlRequest> ControlKernel::pending_request() const {
  dita_zinc_control_record req{};
  if (requested_.read(&req) == 0) return std::nullopt;
  dita_zinc_control_record app{};
  applied_.read(&app);
  if (req.change_seq <= app.request_seq) return std::nullopt;
  return ControlRequest{req.change_seq, req.requester_pid, req.settings};
}

std::optional<AppliedControl> ControlKernel::apply_pending() {
  auto request = pending_request();
  if (!request) return std::nullopt;
  dita_zinc_control_record current{};
  applied_.read(&current);
  dita_zinc_control_record next = current;
  next.request_seq = request->request_seq;
  next.requester_pid = request->requester_pid;
  if (auto decoded = decode(request->settings)) {
    next.settings = encode(*decoded);
    next.change_seq = current.change_seq + 1;
    next.status = DITA_ZINC_CONTROL_STATUS_APPLIED;
  } else {
    next.status = DITA_ZINC_CONTROL_STATUS_REJECTED;
  }
  applied_.publish(&next);
  auto out = read_applied(applied_);
  if (!out) return std::nullopt;
  return *out;
}

std::expected<void, ZincError> ControlKernel::wait_for_request(std::chrono::nanoseconds timeout,
                                                               WaitPolicy policy) const {
  const std::uint64_t start_gen = requested_.generation();
  if (pending_request()) return {};
  auto changed = requested_.wait_for_change(start_gen, timeout, policy);
  if (!changed) return std::unexpected(changed.error());
  return {};
}

AppliedControl ControlKernel::applied() const {
  auto out = read_applied(applied_);
  return out ? *out : AppliedControl{};
}

std::expected<ControlOperator, ZincError> ControlOperator::open(std::string_view instance,
                                                                OpenOptions options) {
  auto name = region_name(instance, RegionKind::Control);
  if (!name) return std::unexpected(name.error());
  auto region = Region::open(*name, RegionGeometry::control(), options);
  if (!region) return std::unexpected(region.error());
  return attach(std::move(*region));
}

std::expected<ControlOperator, ZincError> ControlOperator::attach(Region region) {
  auto cells = control_cells(region);
  if (!cells) return std::unexpected(cells.error());
  return ControlOperator(std::move(region), cells->applied, cells->requested);
}

std::expected<std::uint64_t, ZincError> ControlOperator::request(
    const ControlSettings& settings, std::chrono::nanoseconds lock_timeout) {
  return request_raw(encode(settings), lock_timeout);
}

std::expected<std::uint64_t, ZincError> ControlOperator::request_raw(
    const dita_zinc_control_settings& settings, std::chrono::nanoseconds lock_timeout) {
  auto me = current_process_identity();
  if (!me) return std::unexpected(me.error());
  if (auto locked = requested_.lock(me->word(), lock_timeout); !locked) {
    return std::unexpected(locked.error());
  }
  dita_zinc_control_record last{};
  requested_.read(&last);
  dita_zinc_control_record app{};
  applied_.read(&app);
  dita_zinc_control_record rec{};
  rec.change_seq = std::max(last.change_seq, app.request_seq) + 1;
  rec.settings = settings;
  rec.requester_pid = me->pid;
  requested_.publish(&rec);
  requested_.unlock(me->word());
  return rec.change_seq;
}

std::expected<AppliedControl, ZincError> ControlOperator::applied() const {
  return read_applied(applied_);
}

std::expected<AppliedControl, ZincError> ControlOperator::wait_for_applied(
    std::uint64_t request_seq, std::chrono::nanoseconds timeout, WaitPolicy policy) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const std::uint64_t gen = applied_.generation();
    auto current = read_applied(applied_);
    if (!current) return current;
    if (current->request_seq >= request_seq) return current;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      return std::unexpected(error(
          ZincErrorKind::Timeout,
          "request_seq: " + std::to_string(request_seq) + " not answered by the kernel in time"));
    }
    (void)applied_.wait_for_change(gen, deadline - now, policy);
  }
}

}  // namespace dita::zinc
