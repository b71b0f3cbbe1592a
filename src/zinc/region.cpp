#include "dita/zinc/region.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "dita/zinc/atomics.hpp"

namespace dita::zinc {
namespace {

ZincError make_error(ZincErrorKind kind, std::string message, int err = 0) {
  if (err != 0) {
    message += " (errno ";
    message += std::to_string(err);
    message += ": ";
    message += std::strerror(err);
    message += ")";
  }
  return ZincError{kind, std::move(message), err};
}

std::string hex(std::uint64_t value) {
  std::ostringstream out;
  out << "0x" << std::hex << value;
  return out.str();
}

std::string octal(unsigned value) {
  std::ostringstream out;
  out << "0" << std::oct << value;
  return out.str();
}

std::uint64_t round_up64(std::uint64_t n) {
  return (n + 63U) & ~std::uint64_t{63};
}

bool is_power_of_two(std::uint32_t v) {
  return v != 0 && (v & (v - 1)) == 0;
}

std::uint64_t realtime_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

}  // namespace

struct Region::Mapping {
  std::byte* base = nullptr;
  std::size_t size = 0;
  std::string name;
  bool shm = false;
  std::uint64_t owner_identity = 0;  // non-zero when this process created/claimed the region

  Mapping() = default;
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() {
    if (base == nullptr) return;
    if (owner_identity != 0) {
      auto* hdr = reinterpret_cast<dita_zinc_region_header*>(base);
      if (atomic_load(hdr->writer_identity, std::memory_order_acquire) == owner_identity) {
        atomic_store(hdr->closed_cleanly, 1U, std::memory_order_release);
      }
    }
    if (shm) {
      ::munmap(base, size);
    } else {
      std::free(base);
    }
  }
};

std::string_view to_string(RegionKind kind) noexcept {
  switch (kind) {
    case RegionKind::State:
      return "state";
    case RegionKind::Control:
      return "control";
    case RegionKind::Intent:
      return "intent";
  }
  return "unknown";
}

std::uint64_t magic_for(RegionKind kind) noexcept {
  switch (kind) {
    case RegionKind::State:
      return DITA_ZINC_MAGIC_STATE;
    case RegionKind::Control:
      return DITA_ZINC_MAGIC_CONTROL;
    case RegionKind::Intent:
      return DITA_ZINC_MAGIC_INTENT;
  }
  return 0;
}

std::string_view to_string(WriterLiveness liveness) noexcept {
  switch (liveness) {
    case WriterLiveness::Alive:
      return "ALIVE";
    case WriterLiveness::Dead:
      return "DEAD";
    case WriterLiveness::ClosedCleanly:
      return "CLOSED_CLEANLY";
  }
  return "UNKNOWN";
}

std::uint64_t monotonic_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

std::uint64_t RegionGeometry::total_size() const noexcept {
  switch (kind) {
    case RegionKind::State:
      return DITA_ZINC_STATE_BUFFER0_OFFSET + 2 * round_up64(record_size);
    case RegionKind::Control:
      return DITA_ZINC_CONTROL_TOTAL_SIZE;
    case RegionKind::Intent:
      return DITA_ZINC_QUEUE_PRODUCERS_OFFSET + 64ULL * aux_count +
             std::uint64_t{record_count} * (64 + round_up64(record_size));
  }
  return 0;
}

std::expected<RegionGeometry, ZincError> RegionGeometry::state(std::uint32_t record_size) {
  if (record_size == 0 || record_size > (1U << 30)) {
    return std::unexpected(
        make_error(ZincErrorKind::InvalidArgument,
                   "record_size: expected 1..2^30 bytes, actual " + std::to_string(record_size)));
  }
  return RegionGeometry{RegionKind::State, record_size, 1, 0};
}

RegionGeometry RegionGeometry::control() noexcept {
  return RegionGeometry{RegionKind::Control, sizeof(dita_zinc_control_record), 1, 0};
}

std::expected<RegionGeometry, ZincError> RegionGeometry::intent(std::uint32_t payload_size,
                                                                std::uint32_t capacity,
                                                                std::uint32_t max_producers) {
  if (payload_size == 0 || payload_size > (1U << 20)) {
    return std::unexpected(
        make_error(ZincErrorKind::InvalidArgument,
                   "payload_size: expected 1..2^20 bytes, actual " + std::to_string(payload_size)));
  }
  if (!is_power_of_two(capacity) || capacity < 2 || capacity > (1U << 24)) {
    return std::unexpected(make_error(
        ZincErrorKind::InvalidArgument,
        "capacity: expected a power of two in 2..2^24, actual " + std::to_string(capacity)));
  }
  if (max_producers == 0 || max_producers > 4096) {
    return std::unexpected(
        make_error(ZincErrorKind::InvalidArgument,
                   "max_producers: expected 1..4096, actual " + std::to_string(max_producers)));
  }
  return RegionGeometry{RegionKind::Intent, payload_size, capacity, max_producers};
}

std::expected<void, ZincError> validate_instance_name(std::string_view instance) {
  if (instance.empty() || instance.size() > kMaxInstanceNameLength) {
    return std::unexpected(
        make_error(ZincErrorKind::InvalidInstanceName,
                   "instance: expected 1.." + std::to_string(kMaxInstanceNameLength) +
                       " characters, actual " + std::to_string(instance.size())));
  }
  for (std::size_t i = 0; i < instance.size(); ++i) {
    const char c = instance[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) {
      return std::unexpected(
          make_error(ZincErrorKind::InvalidInstanceName,
                     "instance: character " +
                         std::to_string(static_cast<unsigned>(static_cast<unsigned char>(c))) +
                         " at position " + std::to_string(i) + " is not one of [A-Za-z0-9_-]"));
    }
  }
  if (instance.front() == '-') {
    return std::unexpected(
        make_error(ZincErrorKind::InvalidInstanceName, "instance: must not start with '-'"));
  }
  return {};
}

std::expected<std::string, ZincError> region_name(std::string_view instance, RegionKind kind) {
  if (auto ok = validate_instance_name(instance); !ok) return std::unexpected(ok.error());
  std::string name = "/dita.";
  name += instance;
  name += '.';
  name += to_string(kind);
  return name;
}

std::uint64_t ProcessIdentity::word() const noexcept {
  return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(pid)) << 32) |
         (start_time & 0xffffffffULL);
}

std::optional<std::uint64_t> process_start_time(std::int32_t pid) {
  if (pid <= 0) return std::nullopt;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  if (!in) return std::nullopt;
  std::string line;
  std::getline(in, line);
  // comm (field 2) may contain spaces and parentheses: parse after the last ')'.
  const auto close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(line.substr(close + 1));
  std::string state;
  fields >> state;  // field 3
  if (state == "Z" || state == "X" || state == "x") return std::nullopt;
  std::string skip;
  for (int field = 4; field < 22; ++field) fields >> skip;
  std::uint64_t start = 0;
  if (!(fields >> start)) return std::nullopt;
  return start;
}

std::expected<ProcessIdentity, ZincError> current_process_identity() {
  const auto pid = static_cast<std::int32_t>(::getpid());
  auto start = process_start_time(pid);
  if (!start) {
    return std::unexpected(make_error(ZincErrorKind::SystemError,
                                      "writer_start_time: cannot read /proc/self start time"));
  }
  return ProcessIdentity{pid, *start};
}

bool identity_is_alive(std::uint64_t identity_word) {
  if (identity_word == 0) return false;
  const auto pid = static_cast<std::int32_t>(identity_word >> 32);
  if (::kill(pid, 0) != 0 && errno == ESRCH) return false;
  auto start = process_start_time(pid);
  return start && (*start & 0xffffffffULL) == (identity_word & 0xffffffffULL);
}

namespace {

void init_header(std::byte* base, const RegionGeometry& g, const ProcessIdentity& me) {
  auto* hdr = reinterpret_cast<dita_zinc_region_header*>(base);
  hdr->layout_version = DITA_ZINC_LAYOUT_VERSION;
  hdr->region_kind = static_cast<std::uint32_t>(g.kind);
  hdr->total_size = g.total_size();
  hdr->header_size = DITA_ZINC_HEADER_SIZE;
  hdr->record_size = g.record_size;
  hdr->record_count = g.record_count;
  hdr->aux_count = g.aux_count;
  hdr->writer_start_time = me.start_time;
  hdr->writer_pid = me.pid;
  hdr->created_real_ns = realtime_ns();
  atomic_store(hdr->writer_identity, me.word(), std::memory_order_relaxed);
  atomic_store(hdr->closed_cleanly, 0U, std::memory_order_relaxed);
  atomic_store(hdr->writer_epoch, std::uint64_t{1}, std::memory_order_relaxed);
  atomic_store(hdr->heartbeat_mono_ns, monotonic_ns(), std::memory_order_relaxed);
  atomic_store(hdr->heartbeat_counter, std::uint64_t{1}, std::memory_order_relaxed);
  if (g.kind == RegionKind::Intent) {
    // Slot i starts free for position i (Vyukov turn numbering).
    const std::uint64_t stride = 64 + round_up64(g.record_size);
    std::byte* slots = base + DITA_ZINC_QUEUE_PRODUCERS_OFFSET + 64ULL * g.aux_count;
    for (std::uint32_t i = 0; i < g.record_count; ++i) {
      auto* slot = reinterpret_cast<dita_zinc_queue_slot_header*>(slots + i * stride);
      atomic_store(slot->sequence, std::uint64_t{i}, std::memory_order_relaxed);
    }
  }
  // Publication point: everything above becomes visible to an opener that sees the magic.
  atomic_store(hdr->magic, magic_for(g.kind), std::memory_order_release);
}

std::expected<void, ZincError> validate_header(const dita_zinc_region_header* hdr,
                                               std::size_t mapped, const RegionGeometry& want) {
  const std::uint64_t magic = atomic_load(hdr->magic, std::memory_order_acquire);
  if (magic != magic_for(want.kind)) {
    std::string msg = "magic: expected " + hex(magic_for(want.kind)) + " (" +
                      std::string(to_string(want.kind)) + " region), actual " + hex(magic);
    for (auto other : {RegionKind::State, RegionKind::Control, RegionKind::Intent}) {
      if (magic == magic_for(other)) msg += " (" + std::string(to_string(other)) + " region)";
    }
    return std::unexpected(make_error(ZincErrorKind::BadMagic, msg));
  }
  if (hdr->layout_version != DITA_ZINC_LAYOUT_VERSION) {
    return std::unexpected(make_error(ZincErrorKind::BadVersion,
                                      "layout_version: expected " +
                                          std::to_string(DITA_ZINC_LAYOUT_VERSION) + ", actual " +
                                          std::to_string(hdr->layout_version)));
  }
  if (hdr->region_kind != static_cast<std::uint32_t>(want.kind)) {
    return std::unexpected(make_error(ZincErrorKind::BadMagic,
                                      "region_kind: expected " +
                                          std::to_string(static_cast<std::uint32_t>(want.kind)) +
                                          ", actual " + std::to_string(hdr->region_kind)));
  }
  auto mismatch = [](const char* field, std::uint64_t expected, std::uint64_t actual) {
    return std::unexpected(make_error(
        ZincErrorKind::SizeMismatch, std::string(field) + ": expected " + std::to_string(expected) +
                                         ", actual " + std::to_string(actual)));
  };
  if (hdr->header_size != DITA_ZINC_HEADER_SIZE) {
    return mismatch("header_size", DITA_ZINC_HEADER_SIZE, hdr->header_size);
  }
  if (hdr->total_size != mapped) {
    return mismatch("total_size (vs mapped length)", mapped, hdr->total_size);
  }
  if (hdr->record_size != want.record_size) {
    return mismatch("record_size", want.record_size, hdr->record_size);
  }
  if (want.record_count != 0 && hdr->record_count != want.record_count) {
    return mismatch("record_count", want.record_count, hdr->record_count);
  }
  if (want.aux_count != 0 && hdr->aux_count != want.aux_count) {
    return mismatch("aux_count", want.aux_count, hdr->aux_count);
  }
  RegionGeometry actual{want.kind, hdr->record_size, hdr->record_count, hdr->aux_count};
  if (want.kind == RegionKind::Intent) {
    auto checked = RegionGeometry::intent(hdr->record_size, hdr->record_count, hdr->aux_count);
    if (!checked) {
      return std::unexpected(make_error(ZincErrorKind::SizeMismatch,
                                        "intent geometry in header: " + checked.error().message));
    }
  } else if (hdr->record_count != 1 || hdr->aux_count != 0) {
    return mismatch("record_count", 1, hdr->record_count);
  }
  if (actual.total_size() != hdr->total_size) {
    return mismatch("total_size (vs computed layout)", actual.total_size(), hdr->total_size);
  }
  return {};
}

}  // namespace

std::expected<Region, ZincError> Region::create(const std::string& name,
                                                const RegionGeometry& geometry) {
  auto me = current_process_identity();
  if (!me) return std::unexpected(me.error());
  // Owner-write-only while initialising: openers get EACCES and retry until the final mode.
  const int fd = ::shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, S_IWUSR);
  if (fd < 0) {
    const int err = errno;
    if (err == EEXIST) {
      return std::unexpected(
          make_error(ZincErrorKind::AlreadyExists, "region " + name + " already exists"));
    }
    return std::unexpected(
        make_error(ZincErrorKind::SystemError, "shm_open(" + name + ", O_CREAT|O_EXCL)", err));
  }
  const auto size = static_cast<std::size_t>(geometry.total_size());
  auto fail = [&](const char* what) {
    const int err = errno;
    ::close(fd);
    ::shm_unlink(name.c_str());
    return std::unexpected(make_error(ZincErrorKind::SystemError, std::string(what), err));
  };
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0) return fail("ftruncate");
  void* addr = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (addr == MAP_FAILED) return fail("mmap");
  auto mapping = std::make_shared<Mapping>();
  mapping->base = static_cast<std::byte*>(addr);
  mapping->size = size;
  mapping->name = name;
  mapping->shm = true;
  init_header(mapping->base, geometry, *me);
  if (::fchmod(fd, S_IRUSR | S_IWUSR) != 0) {
    const int err = errno;
    ::close(fd);
    ::shm_unlink(name.c_str());
    return std::unexpected(make_error(ZincErrorKind::SystemError, "fchmod(0600)", err));
  }
  ::close(fd);
  mapping->owner_identity = me->word();
  return Region(std::move(mapping));
}

std::expected<Region, ZincError> Region::open(const std::string& name,
                                              const RegionGeometry& expected, OpenOptions options) {
  const auto deadline = std::chrono::steady_clock::now() + options.ready_timeout;
  int fd = -1;
  for (;;) {
    fd = ::shm_open(name.c_str(), O_RDWR, 0);
    if (fd >= 0) break;
    const int err = errno;
    if (err == ENOENT) {
      return std::unexpected(
          make_error(ZincErrorKind::NotFound, "region " + name + " does not exist"));
    }
    if (err != EACCES) {
      return std::unexpected(make_error(ZincErrorKind::SystemError, "shm_open(" + name + ")", err));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return std::unexpected(make_error(ZincErrorKind::BadPermissions,
                                        "mode: region " + name +
                                            " is not readable and writable by its owner (still " +
                                            "initialising, or mode lacks 0600)",
                                        err));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return std::unexpected(make_error(ZincErrorKind::SystemError, "fstat", errno));
  }
  const unsigned mode = static_cast<unsigned>(st.st_mode) & 0777U;
  if (mode != 0600U) {
    return std::unexpected(
        make_error(ZincErrorKind::BadPermissions,
                   "mode: expected 0600, actual " + octal(mode) + " for region " + name));
  }
  if (st.st_uid != ::geteuid()) {
    return std::unexpected(make_error(ZincErrorKind::BadPermissions,
                                      "owner uid: expected " + std::to_string(::geteuid()) +
                                          ", actual " + std::to_string(st.st_uid)));
  }
  const auto mapped = static_cast<std::size_t>(st.st_size);
  if (mapped < DITA_ZINC_HEADER_SIZE) {
    return std::unexpected(make_error(ZincErrorKind::SizeMismatch,
                                      "total_size: mapped length " + std::to_string(mapped) +
                                          " is smaller than the " +
                                          std::to_string(DITA_ZINC_HEADER_SIZE) + "-byte header"));
  }
  void* addr = ::mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (addr == MAP_FAILED) {
    return std::unexpected(make_error(ZincErrorKind::SystemError, "mmap", errno));
  }
  auto mapping = std::make_shared<Mapping>();
  mapping->base = static_cast<std::byte*>(addr);
  mapping->size = mapped;
  mapping->name = name;
  mapping->shm = true;
  auto* hdr = reinterpret_cast<dita_zinc_region_header*>(mapping->base);
  while (atomic_load(hdr->magic, std::memory_order_acquire) == 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return std::unexpected(make_error(ZincErrorKind::NotReady,
                                        "magic: still 0 after " +
                                            std::to_string(options.ready_timeout.count()) +
                                            " ms; the creator has not finished initialising"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (auto ok = validate_header(hdr, mapped, expected); !ok) return std::unexpected(ok.error());
  return Region(std::move(mapping));
}

std::expected<void, ZincError> Region::claim() {
  auto me = current_process_identity();
  if (!me) return std::unexpected(me.error());
  auto* hdr = header();
  std::uint64_t current = atomic_load(hdr->writer_identity, std::memory_order_acquire);
  for (;;) {
    const bool closed = atomic_load(hdr->closed_cleanly, std::memory_order_acquire) != 0;
    if (!closed && identity_is_alive(current)) {
      return std::unexpected(
          make_error(ZincErrorKind::WriterAlive,
                     "writer_pid: region " + mapping_->name + " is owned by live process " +
                         std::to_string(static_cast<std::int32_t>(current >> 32))));
    }
    if (atomic_ref<std::uint64_t>(hdr->writer_identity)
            .compare_exchange_weak(current, me->word(), std::memory_order_acq_rel,
                                   std::memory_order_acquire)) {
      break;
    }
  }
  hdr->writer_pid = me->pid;
  hdr->writer_start_time = me->start_time;
  atomic_ref<std::uint64_t>(hdr->writer_epoch).fetch_add(1, std::memory_order_acq_rel);
  atomic_store(hdr->closed_cleanly, 0U, std::memory_order_release);
  mapping_->owner_identity = me->word();
  heartbeat();
  return {};
}

std::expected<Region, ZincError> Region::take_over(const std::string& name,
                                                   const RegionGeometry& expected,
                                                   OpenOptions options) {
  auto region = open(name, expected, options);
  if (!region) return region;
  if (auto ok = region->claim(); !ok) return std::unexpected(ok.error());
  return region;
}

std::expected<Region, ZincError> Region::create_or_take_over(const std::string& name,
                                                             const RegionGeometry& geometry,
                                                             OpenOptions options) {
  auto created = create(name, geometry);
  if (created || created.error().kind != ZincErrorKind::AlreadyExists) return created;
  return take_over(name, geometry, options);
}

std::expected<Region, ZincError> Region::create_in_memory(const RegionGeometry& geometry) {
  auto me = current_process_identity();
  if (!me) return std::unexpected(me.error());
  const auto size = static_cast<std::size_t>(geometry.total_size());
  void* mem = std::aligned_alloc(DITA_ZINC_CACHE_LINE, round_up64(size));
  if (mem == nullptr) {
    return std::unexpected(make_error(ZincErrorKind::SystemError, "aligned_alloc", ENOMEM));
  }
  std::memset(mem, 0, size);
  auto mapping = std::make_shared<Mapping>();
  mapping->base = static_cast<std::byte*>(mem);
  mapping->size = size;
  mapping->name = "(in-memory " + std::string(to_string(geometry.kind)) + ")";
  mapping->shm = false;
  init_header(mapping->base, geometry, *me);
  mapping->owner_identity = me->word();
  return Region(std::move(mapping));
}

std::expected<void, ZincError> Region::unlink(const std::string& name) {
  if (::shm_unlink(name.c_str()) != 0) {
    const int err = errno;
    if (err == ENOENT) {
      return std::unexpected(
          make_error(ZincErrorKind::NotFound, "region " + name + " does not exist"));
    }
    return std::unexpected(make_error(ZincErrorKind::SystemError, "shm_unlink(" + name + ")", err));
  }
  return {};
}

bool Region::is_writer() const noexcept {
  return mapping_ && mapping_->owner_identity != 0 &&
         atomic_load(header()->writer_identity, std::memory_order_acquire) ==
             mapping_->owner_identity;
}
bool Region::process_shared() const noexcept {
  return mapping_ && mapping_->shm;
}
std::byte* Region::base() const noexcept {
  return mapping_ ? mapping_->base : nullptr;
}
std::size_t Region::size() const noexcept {
  return mapping_ ? mapping_->size : 0;
}
const std::string& Region::name() const noexcept {
  static const std::string empty;
  return mapping_ ? mapping_->name : empty;
}
dita_zinc_region_header* Region::header() const noexcept {
  return reinterpret_cast<dita_zinc_region_header*>(base());
}
RegionGeometry Region::geometry() const noexcept {
  const auto* hdr = header();
  if (hdr == nullptr) return RegionGeometry{};
  return RegionGeometry{static_cast<RegionKind>(hdr->region_kind), hdr->record_size,
                        hdr->record_count, hdr->aux_count};
}

WriterLiveness Region::writer_liveness() const {
  const auto* hdr = header();
  if (atomic_load(hdr->closed_cleanly, std::memory_order_acquire) != 0) {
    return WriterLiveness::ClosedCleanly;
  }
  return identity_is_alive(atomic_load(hdr->writer_identity, std::memory_order_acquire))
             ? WriterLiveness::Alive
             : WriterLiveness::Dead;
}

std::int32_t Region::writer_pid() const noexcept {
  return static_cast<std::int32_t>(
      atomic_load(header()->writer_identity, std::memory_order_acquire) >> 32);
}

void Region::heartbeat() noexcept {
  auto* hdr = header();
  atomic_store(hdr->heartbeat_mono_ns, monotonic_ns(), std::memory_order_relaxed);
  atomic_ref<std::uint64_t>(hdr->heartbeat_counter).fetch_add(1, std::memory_order_release);
}

std::expected<void, ZincError> Region::close_cleanly() {
  if (!is_writer()) {
    return std::unexpected(
        make_error(ZincErrorKind::NotWriter, "close_cleanly: this process does not own " + name()));
  }
  atomic_store(header()->closed_cleanly, 1U, std::memory_order_release);
  mapping_->owner_identity = 0;
  return {};
}

}  // namespace dita::zinc
