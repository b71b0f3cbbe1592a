#include "journal/io.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace dita::journal::detail {

JournalError io_error(int err, std::uint64_t offset, std::string what) {
  JournalError error;
  error.kind = JournalErrorKind::kIo;
  error.offset = offset;
  error.sys_errno = err;
  error.message = std::move(what) + ": " + std::strerror(err);
  return error;
}

std::expected<void, JournalError> write_all(int fd, std::string_view data, std::uint64_t offset,
                                            std::string_view path, PwriteFn pwrite_fn) {
  if (pwrite_fn == nullptr) pwrite_fn = &::pwrite;
  std::size_t done = 0;
  while (done < data.size()) {
    const std::uint64_t at = offset + done;
    const ssize_t written =
        pwrite_fn(fd, data.data() + done, data.size() - done, static_cast<off_t>(at));
    if (written < 0) {
      if (errno == EINTR) continue;
      return std::unexpected(io_error(errno, at,
                                      "write to journal '" + std::string(path) + "' at offset " +
                                          std::to_string(at) + " failed"));
    }
    if (written == 0) {
      // pwrite never legitimately writes nothing for a non-empty buffer; retrying could spin.
      return std::unexpected(io_error(EIO, at,
                                      "write to journal '" + std::string(path) + "' at offset " +
                                          std::to_string(at) + " wrote 0 bytes"));
    }
    done += static_cast<std::size_t>(written);
  }
  return {};
}

std::expected<std::size_t, JournalError> read_at(int fd, char* out, std::size_t size,
                                                 std::uint64_t offset, std::string_view path) {
  std::size_t done = 0;
  while (done < size) {
    const std::uint64_t at = offset + done;
    const ssize_t got = ::pread(fd, out + done, size - done, static_cast<off_t>(at));
    if (got < 0) {
      if (errno == EINTR) continue;
      return std::unexpected(io_error(errno, at,
                                      "read of journal '" + std::string(path) + "' at offset " +
                                          std::to_string(at) + " failed"));
    }
    if (got == 0) break;
    done += static_cast<std::size_t>(got);
  }
  return done;
}

std::expected<void, JournalError> sync_data(int fd, std::string_view path) {
  int result = 0;
  do {
    result = ::fdatasync(fd);
  } while (result != 0 && errno == EINTR);
  if (result != 0) {
    return std::unexpected(io_error(errno, 0, "fdatasync of '" + std::string(path) + "' failed"));
  }
  return {};
}

void close_fd(int fd) noexcept {
  if (fd >= 0) {
    // Not retried on EINTR: on Linux the descriptor is released even then.
    (void)::close(fd);
  }
}

}  // namespace dita::journal::detail
