#include "dita/sink/spool.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "dita/journal/crc32c.hpp"

namespace dita::sink::spool {
namespace {

constexpr std::size_t kHeaderBytes = 24;  // u32 length, u32 crc, u64 seq, u64 tag
constexpr std::uint32_t kMaxPayloadBytes = 64U * 1024U * 1024U;
constexpr std::size_t kCursorBytes = 20;

void put_u32(char* out, std::uint32_t value) {
  std::memcpy(out, &value, 4);
}
void put_u64(char* out, std::uint64_t value) {
  std::memcpy(out, &value, 8);
}
std::uint32_t get_u32(const char* in) {
  std::uint32_t value = 0;
  std::memcpy(&value, in, 4);
  return value;
}
std::uint64_t get_u64(const char* in) {
  std::uint64_t value = 0;
  std::memcpy(&value, in, 8);
  return value;
}

std::uint32_t record_crc(const char* seq_and_tag, std::string_view payload) {
  return journal::crc32c_extend(journal::crc32c(std::string_view(seq_and_tag, 16)), payload);
}

std::unexpected<SpoolError> io_error(std::string what) {
  return std::unexpected(SpoolError{ErrorCode::kIo, what + ": " + std::strerror(errno)});
}

std::string segment_name(std::uint64_t first_seq) {
  char name[48];
  std::snprintf(name, sizeof(name), "seg-%020llu.spool",
                static_cast<unsigned long long>(first_seq));
  return name;
}

bool pread_all(int fd, char* out, std::size_t size, std::uint64_t offset) {
  while (size > 0) {
    const ssize_t got = ::pread(fd, out, size, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    out += got;
    size -= static_cast<std::size_t>(got);
    offset += static_cast<std::uint64_t>(got);
  }
  return true;
}

bool write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t wrote = ::write(fd, data, size);
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote <= 0) return false;
    data += wrote;
    size -= static_cast<std::size_t>(wrote);
  }
  return true;
}

}  // namespace

std::string_view to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::kIo:
      return "IO";
    case ErrorCode::kCorrupt:
      return "CORRUPT";
    case ErrorCode::kLocked:
      return "LOCKED";
    case ErrorCode::kInvalidArgument:
      return "INVALID_ARGUMENT";
  }
  return "UNKNOWN";
}

Spool::Spool(SpoolConfig config) : config_(std::move(config)) {}

Spool::~Spool() {
  if (write_fd_ >= 0) {
    // Best effort: whatever was appended but not committed is written now.
    (void)commit();
    ::close(write_fd_);
  }
  if (read_fd_ >= 0) ::close(read_fd_);
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Result<std::unique_ptr<Spool>> Spool::open(SpoolConfig config) {
  if (config.dir.empty() || config.segment_bytes < 1024) {
    return std::unexpected(SpoolError{ErrorCode::kInvalidArgument,
                                      "spool needs a directory and segment_bytes >= 1024"});
  }
  std::error_code error;
  std::filesystem::create_directories(config.dir, error);
  if (error) {
    return std::unexpected(
        SpoolError{ErrorCode::kIo, "create " + config.dir.string() + ": " + error.message()});
  }
  std::unique_ptr<Spool> spool(new Spool(std::move(config)));
  const std::string lock_path = (spool->config_.dir / "lock").string();
  spool->lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (spool->lock_fd_ < 0) return io_error("open " + lock_path);
  if (::flock(spool->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return std::unexpected(
        SpoolError{ErrorCode::kLocked, "another process or pipeline owns " + lock_path});
  }
  if (auto loaded = spool->load(); !loaded) return std::unexpected(loaded.error());
  return spool;
}

Result<void> Spool::load() {
  // Cursor.
  const std::filesystem::path cursor_path = config_.dir / "cursor";
  const int cursor_fd = ::open(cursor_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (cursor_fd >= 0) {
    std::array<char, kCursorBytes> bytes{};
    const bool ok = pread_all(cursor_fd, bytes.data(), bytes.size(), 0);
    ::close(cursor_fd);
    if (!ok || journal::crc32c(std::string_view(bytes.data(), 16)) != get_u32(bytes.data() + 16)) {
      return std::unexpected(SpoolError{ErrorCode::kCorrupt, "bad cursor " + cursor_path.string()});
    }
    delivered_seq_ = get_u64(bytes.data());
    max_tag_ = get_u64(bytes.data() + 8);
  }

  // Segments, in sequence order.
  for (const auto& entry : std::filesystem::directory_iterator(config_.dir)) {
    const std::string name = entry.path().filename().string();
    if (name.size() != 30 || !name.starts_with("seg-") || !name.ends_with(".spool")) continue;
    segments_.push_back({std::stoull(name.substr(4, 20)), entry.path(), 0});
  }
  std::sort(segments_.begin(), segments_.end(),
            [](const Segment& a, const Segment& b) { return a.first_seq < b.first_seq; });

  std::uint64_t last_seq = 0;
  for (std::size_t i = 0; i < segments_.size(); ++i) {
    Segment& segment = segments_[i];
    const bool last = i + 1 == segments_.size();
    const int fd = ::open(segment.path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return io_error("open " + segment.path.string());
    struct stat info {};
    ::fstat(fd, &info);
    const auto size = static_cast<std::uint64_t>(info.st_size);
    std::uint64_t offset = 0;
    std::uint64_t expected = segment.first_seq;
    std::string payload;
    std::string damage;
    while (offset < size) {
      std::array<char, kHeaderBytes> header{};
      if (size - offset < kHeaderBytes || !pread_all(fd, header.data(), kHeaderBytes, offset)) {
        damage = "truncated header";
        break;
      }
      const std::uint32_t length = get_u32(header.data());
      const std::uint64_t seq = get_u64(header.data() + 8);
      if (length > kMaxPayloadBytes || size - offset - kHeaderBytes < length) {
        damage = "truncated record";
        break;
      }
      payload.resize(length);
      if (!pread_all(fd, payload.data(), length, offset + kHeaderBytes)) {
        damage = "unreadable record";
        break;
      }
      if (record_crc(header.data() + 8, payload) != get_u32(header.data() + 4)) {
        damage = "checksum mismatch";
        break;
      }
      if (seq != expected) {
        damage = "sequence gap";
        break;
      }
      max_tag_ = std::max(max_tag_, get_u64(header.data() + 16));
      last_seq = seq;
      ++expected;
      offset += kHeaderBytes + length;
    }
    if (!damage.empty()) {
      if (!last) {
        ::close(fd);
        return std::unexpected(SpoolError{
            ErrorCode::kCorrupt,
            segment.path.string() + ": " + damage + " at offset " + std::to_string(offset)});
      }
      // A crash mid-append leaves a partial record at the end of the newest segment only.
      if (::ftruncate(fd, static_cast<off_t>(offset)) != 0) {
        ::close(fd);
        return io_error("truncate " + segment.path.string());
      }
      repaired_bytes_ = size - offset;
    }
    segment.committed_bytes = offset;
    ::close(fd);
  }

  next_seq_ = std::max(last_seq, delivered_seq_) + 1;
  committed_seq_ = next_seq_ - 1;
  read_seq_ = delivered_seq_;
  // Fully delivered segments (all but the newest) are garbage.
  while (segments_.size() > 1 && segments_[1].first_seq <= delivered_seq_ + 1) {
    std::filesystem::remove(segments_.front().path);
    segments_.erase(segments_.begin());
  }
  if (segments_.empty() || segments_.back().committed_bytes >= config_.segment_bytes ||
      (segments_.back().committed_bytes == 0 && segments_.back().first_seq != next_seq_)) {
    if (!segments_.empty() && segments_.back().committed_bytes == 0) {
      std::filesystem::remove(segments_.back().path);
      segments_.pop_back();
    }
    return open_segment_for_append(next_seq_);
  }
  write_fd_ = ::open(segments_.back().path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (write_fd_ < 0) return io_error("open " + segments_.back().path.string());
  write_bytes_ = segments_.back().committed_bytes;
  return {};
}

Result<void> Spool::open_segment_for_append(std::uint64_t first_seq) {
  const std::filesystem::path path = config_.dir / segment_name(first_seq);
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return io_error("create " + path.string());
  std::lock_guard lock(mutex_);
  if (write_fd_ >= 0) ::close(write_fd_);
  write_fd_ = fd;
  write_bytes_ = 0;
  segments_.push_back({first_seq, path, 0});
  return {};
}

std::uint64_t Spool::append(std::uint64_t tag, std::string_view payload) {
  const std::uint64_t seq = next_seq_++;
  char header[kHeaderBytes];
  put_u32(header, static_cast<std::uint32_t>(payload.size()));
  put_u64(header + 8, seq);
  put_u64(header + 16, tag);
  put_u32(header + 4, record_crc(header + 8, payload));
  pending_.append(header, kHeaderBytes);
  pending_.append(payload);
  pending_last_seq_ = seq;
  pending_max_tag_ = std::max(pending_max_tag_, tag);
  return seq;
}

Result<void> Spool::commit() {
  if (pending_.empty()) return {};
  if (write_fd_ < 0) return std::unexpected(SpoolError{ErrorCode::kIo, "spool is not writable"});
  if (!write_all(write_fd_, pending_.data(), pending_.size())) {
    auto error = io_error("write spool segment");
    // Cut a partial write off so the segment stays a clean sequence of records; the pending
    // bytes stay buffered for the next commit.
    if (::ftruncate(write_fd_, static_cast<off_t>(write_bytes_)) != 0) {
      error.error().message += " (and truncating the partial write failed)";
    }
    return error;
  }
  write_bytes_ += pending_.size();
  pending_.clear();
  {
    std::lock_guard lock(mutex_);
    segments_.back().committed_bytes = write_bytes_;
    committed_seq_ = pending_last_seq_;
    max_tag_ = std::max(max_tag_, pending_max_tag_);
  }
  if (write_bytes_ >= config_.segment_bytes) {
    if (::fdatasync(write_fd_) != 0) return io_error("fdatasync spool segment");
    return open_segment_for_append(next_seq_);
  }
  return {};
}

Result<void> Spool::sync() {
  // On a duplicate of the segment's descriptor, so a commit that rolls the segment meanwhile
  // cannot close it under us; callers may sync without holding their writer lock.
  int fd = -1;
  {
    std::lock_guard lock(mutex_);
    if (write_fd_ >= 0) fd = ::dup(write_fd_);
  }
  if (fd < 0) return {};
  const bool ok = ::fdatasync(fd) == 0;
  ::close(fd);
  if (!ok) return io_error("fdatasync spool segment");
  return {};
}

Result<std::size_t> Spool::read(std::size_t max_records, std::size_t max_bytes,
                                std::vector<SpoolRecord>& out) {
  std::size_t count = 0;
  std::size_t bytes = 0;
  while (count < max_records && bytes < max_bytes) {
    std::uint64_t committed_bytes = 0;
    std::uint64_t next_first = 0;  // 0: no later segment
    std::filesystem::path path;
    {
      std::lock_guard lock(mutex_);
      if (read_seq_ >= committed_seq_) break;
      // The reader's segment: the newest one starting at or before the next seq to read.
      const Segment* current = nullptr;
      for (std::size_t i = 0; i < segments_.size(); ++i) {
        if (segments_[i].first_seq <= read_seq_ + 1) {
          current = &segments_[i];
          next_first = i + 1 < segments_.size() ? segments_[i + 1].first_seq : 0;
        }
      }
      if (current == nullptr) {
        return std::unexpected(SpoolError{ErrorCode::kCorrupt,
                                          "no segment holds seq " + std::to_string(read_seq_ + 1)});
      }
      if (current->first_seq != read_segment_first_ || read_fd_ < 0) {
        if (read_fd_ >= 0) ::close(read_fd_);
        read_fd_ = -1;
        read_segment_first_ = current->first_seq;
        read_offset_ = 0;
        path = current->path;
      }
      committed_bytes = current->committed_bytes;
    }
    if (read_fd_ < 0) {
      read_fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (read_fd_ < 0) return io_error("open " + path.string());
    }
    if (read_offset_ >= committed_bytes) {
      if (next_first == 0) break;
      // Move on: the next segment starts right after this one's last record.
      ::close(read_fd_);
      read_fd_ = -1;
      read_segment_first_ = next_first;
      read_offset_ = 0;
      continue;
    }
    std::array<char, kHeaderBytes> header{};
    if (!pread_all(read_fd_, header.data(), kHeaderBytes, read_offset_)) {
      return io_error("read spool record header");
    }
    const std::uint32_t length = get_u32(header.data());
    if (length > kMaxPayloadBytes) {
      return std::unexpected(SpoolError{ErrorCode::kCorrupt, "record length out of range"});
    }
    SpoolRecord record;
    record.seq = get_u64(header.data() + 8);
    record.tag = get_u64(header.data() + 16);
    record.payload.resize(length);
    if (!pread_all(read_fd_, record.payload.data(), length, read_offset_ + kHeaderBytes)) {
      return io_error("read spool record");
    }
    if (record_crc(header.data() + 8, record.payload) != get_u32(header.data() + 4)) {
      return std::unexpected(SpoolError{ErrorCode::kCorrupt, "spool record checksum mismatch"});
    }
    read_offset_ += kHeaderBytes + length;
    if (record.seq <= read_seq_) continue;  // before the cursor: already delivered
    read_seq_ = record.seq;
    bytes += length;
    out.push_back(std::move(record));
    ++count;
  }
  return count;
}

Result<void> Spool::acknowledge(std::uint64_t seq) {
  std::uint64_t tag = 0;
  {
    std::lock_guard lock(mutex_);
    if (seq <= delivered_seq_) return {};
    if (seq > committed_seq_) {
      return std::unexpected(
          SpoolError{ErrorCode::kInvalidArgument, "acknowledge beyond the committed sequence"});
    }
    tag = max_tag_;
  }
  if (auto written = write_cursor(seq, tag); !written) return written;
  std::vector<std::filesystem::path> garbage;
  {
    std::lock_guard lock(mutex_);
    delivered_seq_ = seq;
    while (segments_.size() > 1 && segments_[1].first_seq <= seq + 1 &&
           segments_.front().first_seq != read_segment_first_) {
      garbage.push_back(segments_.front().path);
      segments_.erase(segments_.begin());
    }
  }
  for (const auto& path : garbage) {
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
  }
  return {};
}

Result<void> Spool::write_cursor(std::uint64_t delivered, std::uint64_t max_tag) {
  std::array<char, kCursorBytes> bytes{};
  put_u64(bytes.data(), delivered);
  put_u64(bytes.data() + 8, max_tag);
  put_u32(bytes.data() + 16, journal::crc32c(std::string_view(bytes.data(), 16)));
  const std::filesystem::path tmp = config_.dir / "cursor.tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return io_error("create " + tmp.string());
  const bool ok = write_all(fd, bytes.data(), bytes.size()) && ::fdatasync(fd) == 0;
  ::close(fd);
  if (!ok) return io_error("write " + tmp.string());
  if (::rename(tmp.c_str(), (config_.dir / "cursor").c_str()) != 0) {
    return io_error("rename cursor");
  }
  const int dir_fd = ::open(config_.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return {};
}

std::uint64_t Spool::committed_seq() const {
  std::lock_guard lock(mutex_);
  return committed_seq_;
}
std::uint64_t Spool::delivered_seq() const {
  std::lock_guard lock(mutex_);
  return delivered_seq_;
}
std::uint64_t Spool::depth() const {
  std::lock_guard lock(mutex_);
  return committed_seq_ - delivered_seq_;
}
std::uint64_t Spool::max_tag() const {
  std::lock_guard lock(mutex_);
  return max_tag_;
}
std::size_t Spool::segment_count() const {
  std::lock_guard lock(mutex_);
  return segments_.size();
}

}  // namespace dita::sink::spool
