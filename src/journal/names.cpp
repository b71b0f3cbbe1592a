#include <charconv>
#include <limits>

#include "dita/journal/journal.hpp"

namespace dita::journal {

std::string_view to_string(RecordType type) noexcept {
  switch (type) {
    case RecordType::kInput:
      return "INPUT";
    case RecordType::kOutput:
      return "OUTPUT";
    case RecordType::kMeta:
      return "META";
  }
  return "UNKNOWN";
}

std::optional<RecordType> parse_record_type(std::string_view text) noexcept {
  for (const RecordType type : {RecordType::kInput, RecordType::kOutput, RecordType::kMeta}) {
    if (to_string(type) == text) return type;
  }
  return std::nullopt;
}

std::string_view to_string(JournalErrorKind kind) noexcept {
  switch (kind) {
    case JournalErrorKind::kIo:
      return "IO";
    case JournalErrorKind::kAlreadyExists:
      return "ALREADY_EXISTS";
    case JournalErrorKind::kLocked:
      return "LOCKED";
    case JournalErrorKind::kClosed:
      return "CLOSED";
    case JournalErrorKind::kInvalidArgument:
      return "INVALID_ARGUMENT";
    case JournalErrorKind::kBadMagic:
      return "BAD_MAGIC";
    case JournalErrorKind::kUnsupportedVersion:
      return "UNSUPPORTED_VERSION";
    case JournalErrorKind::kUnsupportedFlags:
      return "UNSUPPORTED_FLAGS";
    case JournalErrorKind::kCorruptHeader:
      return "CORRUPT_HEADER";
    case JournalErrorKind::kTornTail:
      return "TORN_TAIL";
    case JournalErrorKind::kChecksumMismatch:
      return "CHECKSUM_MISMATCH";
    case JournalErrorKind::kOutOfOrder:
      return "OUT_OF_ORDER";
    case JournalErrorKind::kRecordTooLarge:
      return "RECORD_TOO_LARGE";
    case JournalErrorKind::kUnknownRecordType:
      return "UNKNOWN_RECORD_TYPE";
  }
  return "UNKNOWN";
}

std::string to_string(const JournalError& error) {
  std::string text(to_string(error.kind));
  text += " at offset " + std::to_string(error.offset);
  if (error.sequence != 0 || error.last_good_sequence != 0) {
    text += " (sequence " + std::to_string(error.sequence) + ", last good " +
            std::to_string(error.last_good_sequence) + ")";
  }
  text += ": " + error.message;
  return text;
}

std::string to_string(const FsyncPolicy& policy) {
  switch (policy.kind) {
    case FsyncPolicy::Kind::kAlways:
      return "always";
    case FsyncPolicy::Kind::kBatch:
      return "batch:" + std::to_string(policy.every_n_commits);
    case FsyncPolicy::Kind::kNever:
      return "never";
  }
  return "unknown";
}

std::expected<FsyncPolicy, JournalError> parse_fsync_policy(std::string_view text) {
  if (text == "always") return FsyncPolicy::always();
  if (text == "never") return FsyncPolicy::never();
  constexpr std::string_view kBatchPrefix = "batch:";
  if (text.starts_with(kBatchPrefix)) {
    const std::string_view digits = text.substr(kBatchPrefix.size());
    std::uint32_t every_n = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), every_n);
    // from_chars accepts neither '+' nor whitespace, so only plain decimal digits get here.
    if (!digits.empty() && ec == std::errc{} && end == digits.data() + digits.size() &&
        every_n >= 1) {
      return FsyncPolicy::batch(every_n);
    }
  }
  JournalError error;
  error.kind = JournalErrorKind::kInvalidArgument;
  error.message = "invalid fsync policy '" + std::string(text) +
                  "': expected one of 'always', 'batch:N' (N a whole number from 1 to " +
                  std::to_string(std::numeric_limits<std::uint32_t>::max()) + "), 'never'";
  return std::unexpected(std::move(error));
}

}  // namespace dita::journal
