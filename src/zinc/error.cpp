#include "dita/zinc/error.hpp"

namespace dita::zinc {

std::string_view to_string(ZincErrorKind kind) noexcept {
  switch (kind) {
    case ZincErrorKind::InvalidInstanceName:
      return "INVALID_INSTANCE_NAME";
    case ZincErrorKind::InvalidArgument:
      return "INVALID_ARGUMENT";
    case ZincErrorKind::AlreadyExists:
      return "ALREADY_EXISTS";
    case ZincErrorKind::NotFound:
      return "NOT_FOUND";
    case ZincErrorKind::NotReady:
      return "NOT_READY";
    case ZincErrorKind::BadMagic:
      return "BAD_MAGIC";
    case ZincErrorKind::BadVersion:
      return "BAD_VERSION";
    case ZincErrorKind::SizeMismatch:
      return "SIZE_MISMATCH";
    case ZincErrorKind::BadPermissions:
      return "BAD_PERMISSIONS";
    case ZincErrorKind::WriterAlive:
      return "WRITER_ALIVE";
    case ZincErrorKind::NotWriter:
      return "NOT_WRITER";
    case ZincErrorKind::QueueFull:
      return "QUEUE_FULL";
    case ZincErrorKind::EntryAbandoned:
      return "ENTRY_ABANDONED";
    case ZincErrorKind::Busy:
      return "BUSY";
    case ZincErrorKind::Timeout:
      return "TIMEOUT";
    case ZincErrorKind::SystemError:
      return "SYSTEM_ERROR";
  }
  return "UNKNOWN";
}

std::string ZincError::describe() const {
  std::string out{to_string(kind)};
  out += ": ";
  out += message;
  return out;
}

}  // namespace dita::zinc
