#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "dita/journal/journal.hpp"
#include "journal/format.hpp"
#include "journal/io.hpp"

namespace dita::journal {
namespace {

JournalError writer_error(JournalErrorKind kind, std::string message) {
  JournalError error;
  error.kind = kind;
  error.message = std::move(message);
  return error;
}

std::expected<void, JournalError> check_policy(FsyncPolicy policy) {
  if (policy.kind == FsyncPolicy::Kind::kBatch && policy.every_n_commits == 0) {
    return std::unexpected(writer_error(JournalErrorKind::kInvalidArgument,
                                        "fsync policy batch:0 is invalid; N must be at least 1"));
  }
  return {};
}

// Exclusive and non-blocking: a second writer must fail at once, not wait for the first.
std::expected<void, JournalError> lock_exclusively(int fd, const std::string& path) {
  int result = 0;
  do {
    result = ::flock(fd, LOCK_EX | LOCK_NB);
  } while (result != 0 && errno == EINTR);
  if (result == 0) return {};
  if (errno == EWOULDBLOCK) {
    return std::unexpected(writer_error(
        JournalErrorKind::kLocked, "journal '" + path + "' is already open by another writer"));
  }
  return std::unexpected(detail::io_error(errno, 0, "cannot lock journal '" + path + "'"));
}

// A new file is only durable once its directory entry is; without this a machine crash
// can lose the whole journal even though every record in it was fdatasync'ed.
std::expected<void, JournalError> sync_parent_directory(const std::filesystem::path& path) {
  std::filesystem::path directory = path.parent_path();
  if (directory.empty()) directory = ".";
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return std::unexpected(
        detail::io_error(errno, 0, "cannot open directory '" + directory.string() + "'"));
  }
  int result = 0;
  do {
    result = ::fsync(fd);
  } while (result != 0 && errno == EINTR);
  const int saved_errno = errno;
  detail::close_fd(fd);
  if (result != 0) {
    return std::unexpected(
        detail::io_error(saved_errno, 0, "fsync of directory '" + directory.string() + "' failed"));
  }
  return {};
}

std::expected<void, JournalError> truncate_to(int fd, std::uint64_t size, const std::string& path) {
  int result = 0;
  do {
    result = ::ftruncate(fd, static_cast<off_t>(size));
  } while (result != 0 && errno == EINTR);
  if (result != 0) {
    return std::unexpected(detail::io_error(
        errno, size,
        "cannot truncate journal '" + path + "' to " + std::to_string(size) + " bytes"));
  }
  return {};
}

}  // namespace

JournalWriter::JournalWriter(int fd, std::string path, FsyncPolicy policy, JournalHeader header,
                             std::uint64_t end_offset, std::uint64_t last_sequence) noexcept
    : fd_(fd),
      path_(std::move(path)),
      policy_(policy),
      header_(std::move(header)),
      end_offset_(end_offset),
      next_sequence_(last_sequence + 1),
      committed_sequence_(last_sequence) {}

JournalWriter::JournalWriter(JournalWriter&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      policy_(other.policy_),
      header_(std::move(other.header_)),
      end_offset_(other.end_offset_),
      next_sequence_(other.next_sequence_),
      committed_sequence_(other.committed_sequence_),
      durable_sequence_(other.durable_sequence_),
      commits_since_sync_(other.commits_since_sync_),
      dropped_tail_bytes_(other.dropped_tail_bytes_),
      pending_(std::move(other.pending_)),
      failure_(std::move(other.failure_)) {}

JournalWriter& JournalWriter::operator=(JournalWriter&& other) noexcept {
  if (this != &other) {
    (void)close();
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
    policy_ = other.policy_;
    header_ = std::move(other.header_);
    end_offset_ = other.end_offset_;
    next_sequence_ = other.next_sequence_;
    committed_sequence_ = other.committed_sequence_;
    durable_sequence_ = other.durable_sequence_;
    commits_since_sync_ = other.commits_since_sync_;
    dropped_tail_bytes_ = other.dropped_tail_bytes_;
    pending_ = std::move(other.pending_);
    failure_ = std::move(other.failure_);
  }
  return *this;
}

JournalWriter::~JournalWriter() {
  (void)close();
}

std::expected<JournalWriter, JournalError> JournalWriter::create(const std::filesystem::path& path,
                                                                 FsyncPolicy policy,
                                                                 std::string_view metadata) {
  if (auto ok = check_policy(policy); !ok) return std::unexpected(std::move(ok.error()));
  if (metadata.size() > kMaxMetadataBytes) {
    return std::unexpected(writer_error(JournalErrorKind::kInvalidArgument,
                                        "journal metadata is " + std::to_string(metadata.size()) +
                                            " bytes; the maximum is " +
                                            std::to_string(kMaxMetadataBytes)));
  }
  if (const auto bad = detail::first_invalid_utf8(metadata)) {
    return std::unexpected(
        writer_error(JournalErrorKind::kInvalidArgument,
                     "journal metadata is not valid UTF-8 at byte " + std::to_string(*bad)));
  }
  const std::string path_text = path.string();
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) {
      return std::unexpected(writer_error(
          JournalErrorKind::kAlreadyExists,
          "journal '" + path_text + "' already exists; create never overwrites a journal"));
    }
    return std::unexpected(detail::io_error(errno, 0, "cannot create journal '" + path_text + "'"));
  }
  // From here the half-made file is ours to remove: leaving it would make the next
  // create() fail with kAlreadyExists and open_for_append() fail on its header.
  const auto abandon = [&](JournalError error) {
    detail::close_fd(fd);
    (void)::unlink(path.c_str());
    return std::unexpected(std::move(error));
  };
  // The umask could have cleared owner bits; the journal must be exactly owner read/write.
  if (::fchmod(fd, S_IRUSR | S_IWUSR) != 0) {
    return abandon(detail::io_error(errno, 0, "cannot chmod journal '" + path_text + "'"));
  }
  if (auto locked = lock_exclusively(fd, path_text); !locked) {
    return abandon(std::move(locked.error()));
  }
  std::string header_bytes;
  detail::encode_header(header_bytes, metadata);
  if (auto written = detail::write_all(fd, header_bytes, 0, path_text); !written) {
    return abandon(std::move(written.error()));
  }
  if (policy.kind != FsyncPolicy::Kind::kNever) {
    if (auto synced = detail::sync_data(fd, path_text); !synced) {
      return abandon(std::move(synced.error()));
    }
    if (auto synced = sync_parent_directory(path); !synced) {
      return abandon(std::move(synced.error()));
    }
  }
  JournalHeader header;
  header.header_length = static_cast<std::uint32_t>(header_bytes.size());
  header.metadata = std::string(metadata);
  return JournalWriter(fd, path_text, policy, std::move(header), header_bytes.size(), 0);
}

std::expected<JournalWriter, JournalError> JournalWriter::open_for_append(
    const std::filesystem::path& path, FsyncPolicy policy, TailRepair repair) {
  if (auto ok = check_policy(policy); !ok) return std::unexpected(std::move(ok.error()));
  const std::string path_text = path.string();
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    return std::unexpected(
        detail::io_error(errno, 0, "cannot open journal '" + path_text + "' for appending"));
  }
  const auto give_up = [fd](JournalError error) {
    detail::close_fd(fd);
    return std::unexpected(std::move(error));
  };
  // Lock before reading so nobody appends between our verification and our first write.
  if (auto locked = lock_exclusively(fd, path_text); !locked) {
    return give_up(std::move(locked.error()));
  }
  const int read_fd = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (read_fd < 0) {
    return give_up(
        detail::io_error(errno, 0, "cannot duplicate descriptor of '" + path_text + "'"));
  }
  auto reader = JournalReader::adopt(read_fd, path_text);
  if (!reader) return give_up(std::move(reader.error()));

  std::optional<JournalError> damage;
  for (;;) {
    auto record = reader->next();
    if (!record) {
      damage = std::move(record.error());
      break;
    }
    if (!record->has_value()) break;
  }

  std::uint64_t dropped = 0;
  bool synced = false;
  if (damage) {
    if (repair == TailRepair::kRefuse || !damage->tail_damage) {
      return give_up(std::move(*damage));
    }
    struct stat info {};
    if (::fstat(fd, &info) != 0) {
      return give_up(detail::io_error(errno, 0, "cannot stat journal '" + path_text + "'"));
    }
    const auto file_size = static_cast<std::uint64_t>(info.st_size);
    if (auto cut = truncate_to(fd, damage->offset, path_text); !cut) {
      return give_up(std::move(cut.error()));
    }
    // The cut is made durable whatever the policy: a repair that a crash could undo would
    // leave new records behind the old damage.
    if (auto ok = detail::sync_data(fd, path_text); !ok) return give_up(std::move(ok.error()));
    synced = true;
    dropped = file_size - damage->offset;
  } else if (policy.kind != FsyncPolicy::Kind::kNever) {
    // The previous writer may have died before syncing; start from a durable state so that
    // durable_sequence() means what it says.
    if (auto ok = detail::sync_data(fd, path_text); !ok) return give_up(std::move(ok.error()));
    synced = true;
  }

  JournalWriter writer(fd, path_text, policy, reader->header(), reader->offset(),
                       reader->last_sequence());
  writer.dropped_tail_bytes_ = dropped;
  writer.durable_sequence_ = synced ? reader->last_sequence() : 0;
  return writer;
}

std::expected<void, JournalError> JournalWriter::usable() const {
  if (fd_ < 0) {
    return std::unexpected(
        writer_error(JournalErrorKind::kClosed, "journal writer is closed (or was moved from)"));
  }
  if (failure_) {
    JournalError error = *failure_;
    error.message =
        "journal writer refuses work after an earlier I/O error (reopen it with "
        "open_for_append to continue): " +
        error.message;
    return std::unexpected(std::move(error));
  }
  return {};
}

std::expected<void, JournalError> JournalWriter::fail(JournalError error) {
  error.last_good_sequence = committed_sequence_;
  failure_ = error;
  return std::unexpected(std::move(error));
}

std::expected<std::uint64_t, JournalError> JournalWriter::append(RecordType type,
                                                                 std::string_view payload) {
  if (auto ok = usable(); !ok) return std::unexpected(std::move(ok.error()));
  const auto type_byte = static_cast<std::uint8_t>(type);
  if (!detail::is_record_type(type_byte)) {
    return std::unexpected(writer_error(
        JournalErrorKind::kInvalidArgument,
        "record type " + std::to_string(type_byte) + " is not INPUT (1), OUTPUT (2) or META (3)"));
  }
  if (payload.size() > kMaxPayloadBytes) {
    return std::unexpected(writer_error(JournalErrorKind::kRecordTooLarge,
                                        "record payload is " + std::to_string(payload.size()) +
                                            " bytes; the maximum is " +
                                            std::to_string(kMaxPayloadBytes)));
  }
  detail::encode_record(pending_, type_byte, next_sequence_, payload);
  return next_sequence_++;
}

std::expected<void, JournalError> JournalWriter::commit() {
  if (auto ok = usable(); !ok) return ok;
  if (pending_.empty()) return {};
  if (auto written = detail::write_all(fd_, pending_, end_offset_, path_); !written) {
    return fail(std::move(written.error()));
  }
  end_offset_ += pending_.size();
  pending_.clear();  // keeps its capacity, so steady-state appends do not allocate
  committed_sequence_ = next_sequence_ - 1;
  switch (policy_.kind) {
    case FsyncPolicy::Kind::kAlways:
      return sync();
    case FsyncPolicy::Kind::kBatch:
      if (++commits_since_sync_ >= policy_.every_n_commits) return sync();
      return {};
    case FsyncPolicy::Kind::kNever:
      return {};
  }
  return {};
}

std::expected<void, JournalError> JournalWriter::sync() {
  if (auto ok = usable(); !ok) return ok;
  // After a failed fdatasync Linux may already have dropped the dirty pages and will report
  // success next time, so a failure here is final for this writer.
  if (auto synced = detail::sync_data(fd_, path_); !synced) {
    return fail(std::move(synced.error()));
  }
  durable_sequence_ = committed_sequence_;
  commits_since_sync_ = 0;
  return {};
}

std::expected<void, JournalError> JournalWriter::close() {
  if (fd_ < 0) return {};
  std::expected<void, JournalError> result = usable();
  if (result) result = commit();
  if (result && policy_.kind != FsyncPolicy::Kind::kNever &&
      durable_sequence_ < committed_sequence_) {
    result = sync();
  }
  release();
  return result;
}

void JournalWriter::release() noexcept {
  detail::close_fd(fd_);  // also releases the flock
  fd_ = -1;
}

}  // namespace dita::journal
