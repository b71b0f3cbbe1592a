// Zinc plane errors: one typed error for every failure crossing the shared-memory boundary.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace dita::zinc {

enum class ZincErrorKind : std::uint8_t {
  InvalidInstanceName,  // instance name charset/length
  InvalidArgument,      // bad geometry, producer id out of range, sequence 0, ...
  AlreadyExists,        // exclusive create found an existing region
  NotFound,             // no region under that name
  NotReady,             // region exists but its creator has not published magic yet
  BadMagic,             // magic differs from the expected region kind's
  BadVersion,           // layout version differs
  SizeMismatch,         // a size/capacity field disagrees with the mapping or expectation
  BadPermissions,       // mode is not 0600 or owner is not us
  WriterAlive,          // takeover refused: the current writer is alive
  NotWriter,            // operation needs region ownership we do not hold
  QueueFull,            // intent queue back-pressure
  EntryAbandoned,       // the consumer skipped our claimed slot (we stalled or were declared dead)
  Busy,                 // a multi-writer cell stayed locked by a live writer for the whole timeout
  Timeout,              // a wait ran out
  SystemError,          // an unexpected syscall failure (errno in the message)
};

// Stable upper-case string form ("QUEUE_FULL"), used in logs, journals and CLI output.
[[nodiscard]] std::string_view to_string(ZincErrorKind kind) noexcept;

struct ZincError {
  ZincErrorKind kind;
  std::string message;  // names the field and the expected/actual values
  int sys_errno = 0;

  [[nodiscard]] std::string describe() const;  // "BAD_MAGIC: magic: expected ..., actual ..."
};

}  // namespace dita::zinc
