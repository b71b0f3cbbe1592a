// Internal: system-call wrappers that retry EINTR and short transfers and turn failures
// into JournalError values carrying errno.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

#include "dita/journal/journal.hpp"

namespace dita::journal::detail {

using PwriteFn = ssize_t (*)(int fd, const void* data, std::size_t size, off_t offset);

[[nodiscard]] JournalError io_error(int err, std::uint64_t offset, std::string what);

// Writes all of `data` at `offset`, retrying EINTR and continuing after short writes.
// `pwrite_fn` is a seam so tests can inject short writes, EINTR and failures.
[[nodiscard]] std::expected<void, JournalError> write_all(int fd, std::string_view data,
                                                          std::uint64_t offset,
                                                          std::string_view path,
                                                          PwriteFn pwrite_fn = nullptr);

// Reads up to `size` bytes at `offset`; fewer only at end of file.
[[nodiscard]] std::expected<std::size_t, JournalError> read_at(int fd, char* out, std::size_t size,
                                                               std::uint64_t offset,
                                                               std::string_view path);

[[nodiscard]] std::expected<void, JournalError> sync_data(int fd, std::string_view path);

void close_fd(int fd) noexcept;

}  // namespace dita::journal::detail
