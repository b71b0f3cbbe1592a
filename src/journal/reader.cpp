#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "dita/journal/crc32c.hpp"
#include "dita/journal/journal.hpp"
#include "journal/format.hpp"
#include "journal/io.hpp"

namespace dita::journal {
namespace {

// Large enough that replay does one read per many records, small enough to keep a
// reader cheap; records larger than this grow the buffer to fit.
constexpr std::size_t kReadChunkBytes = 64 * 1024;
constexpr std::size_t kScanChunkBytes = 1024 * 1024;

std::string hex32(std::uint32_t value) {
  constexpr std::string_view kDigits = "0123456789ABCDEF";
  std::string text = "0x00000000";
  for (std::size_t i = 0; i < 8; ++i) {
    text[9 - i] = kDigits[(value >> (4 * i)) & 0xFU];
  }
  return text;
}

std::string hex_bytes(std::string_view bytes) {
  constexpr std::string_view kDigits = "0123456789ABCDEF";
  std::string text;
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    if (!text.empty()) text += ' ';
    text += kDigits[byte >> 4];
    text += kDigits[byte & 0xFU];
  }
  return text.empty() ? "nothing" : text;
}

JournalError header_error(JournalErrorKind kind, std::uint64_t offset, std::string_view path,
                          std::string message) {
  JournalError error;
  error.kind = kind;
  error.offset = offset;
  error.message = "journal '" + std::string(path) + "' header: " + std::move(message);
  return error;
}

std::expected<JournalHeader, JournalError> read_header(int fd, std::string_view path) {
  using detail::kHeaderFixedBytes;
  using detail::kHeaderOverheadBytes;
  using detail::kMaxHeaderBytes;
  std::string fixed(kHeaderFixedBytes, '\0');
  const auto got = detail::read_at(fd, fixed.data(), fixed.size(), 0, path);
  if (!got) return std::unexpected(got.error());
  fixed.resize(*got);

  const std::size_t magic_bytes = std::min(fixed.size(), kMagic.size());
  if (std::memcmp(fixed.data(), kMagic.data(), magic_bytes) != 0) {
    return std::unexpected(header_error(JournalErrorKind::kBadMagic, 0, path,
                                        "not a DITA journal: starts with " +
                                            hex_bytes(std::string_view(fixed).substr(0, 8)) +
                                            ", expected the magic 'DITAJRNL'"));
  }
  if (fixed.size() < kHeaderFixedBytes) {
    return std::unexpected(header_error(
        JournalErrorKind::kCorruptHeader, fixed.size(), path,
        "truncated: the file has " + std::to_string(fixed.size()) + " bytes, fewer than the " +
            std::to_string(kHeaderFixedBytes) + "-byte fixed header"));
  }
  const std::uint32_t header_length = detail::load_u32(fixed.data() + detail::kHeaderLengthOffset);
  if (header_length < kHeaderOverheadBytes || header_length > kMaxHeaderBytes) {
    return std::unexpected(header_error(
        JournalErrorKind::kCorruptHeader, detail::kHeaderLengthOffset, path,
        "header_length " + std::to_string(header_length) + " is outside [" +
            std::to_string(kHeaderOverheadBytes) + ", " + std::to_string(kMaxHeaderBytes) + "]"));
  }
  std::string full(header_length, '\0');
  const auto got_full = detail::read_at(fd, full.data(), full.size(), 0, path);
  if (!got_full) return std::unexpected(got_full.error());
  if (*got_full < header_length) {
    return std::unexpected(
        header_error(JournalErrorKind::kCorruptHeader, *got_full, path,
                     "truncated: header_length says " + std::to_string(header_length) +
                         " bytes but the file has only " + std::to_string(*got_full)));
  }
  const std::uint32_t stored = detail::load_u32(full.data() + header_length - 4);
  const std::uint32_t computed = crc32c(std::string_view(full).substr(0, header_length - 4));
  if (stored != computed) {
    return std::unexpected(header_error(JournalErrorKind::kCorruptHeader, header_length - 4, path,
                                        "checksum mismatch: stored " + hex32(stored) +
                                            ", computed " + hex32(computed) + " over bytes [0, " +
                                            std::to_string(header_length - 4) + ")"));
  }
  JournalHeader header;
  header.format_version = detail::load_u16(full.data() + detail::kHeaderVersionOffset);
  header.flags = detail::load_u16(full.data() + detail::kHeaderFlagsOffset);
  header.header_length = header_length;
  if (header.format_version != kFormatVersion) {
    return std::unexpected(header_error(
        JournalErrorKind::kUnsupportedVersion, detail::kHeaderVersionOffset, path,
        "format version " + std::to_string(header.format_version) +
            " is not supported; this build reads version " + std::to_string(kFormatVersion)));
  }
  if (header.flags != 0) {
    return std::unexpected(
        header_error(JournalErrorKind::kUnsupportedFlags, detail::kHeaderFlagsOffset, path,
                     "flags " + std::to_string(header.flags) +
                         " are not supported; format version 1 defines no flags"));
  }
  const std::uint32_t metadata_length =
      detail::load_u32(full.data() + detail::kHeaderMetadataLengthOffset);
  if (metadata_length != header_length - kHeaderOverheadBytes) {
    return std::unexpected(header_error(
        JournalErrorKind::kCorruptHeader, detail::kHeaderMetadataLengthOffset, path,
        "metadata_length " + std::to_string(metadata_length) + " disagrees with header_length " +
            std::to_string(header_length) + " (expected " +
            std::to_string(header_length - kHeaderOverheadBytes) + ")"));
  }
  header.metadata = full.substr(kHeaderFixedBytes, metadata_length);
  if (const auto bad = detail::first_invalid_utf8(header.metadata)) {
    return std::unexpected(
        header_error(JournalErrorKind::kCorruptHeader, kHeaderFixedBytes + *bad, path,
                     "metadata is not valid UTF-8 at metadata byte " + std::to_string(*bad)));
  }
  return header;
}

}  // namespace

JournalReader::JournalReader(int fd, std::string path, JournalHeader header) noexcept
    : fd_(fd),
      path_(std::move(path)),
      header_(std::move(header)),
      offset_(header_.header_length),
      buffer_offset_(header_.header_length) {}

JournalReader::JournalReader(JournalReader&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      header_(std::move(other.header_)),
      offset_(other.offset_),
      last_sequence_(other.last_sequence_),
      buffer_(std::move(other.buffer_)),
      buffer_offset_(other.buffer_offset_),
      failure_(std::move(other.failure_)) {}

JournalReader& JournalReader::operator=(JournalReader&& other) noexcept {
  if (this != &other) {
    detail::close_fd(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
    header_ = std::move(other.header_);
    offset_ = other.offset_;
    last_sequence_ = other.last_sequence_;
    buffer_ = std::move(other.buffer_);
    buffer_offset_ = other.buffer_offset_;
    failure_ = std::move(other.failure_);
  }
  return *this;
}

JournalReader::~JournalReader() {
  detail::close_fd(fd_);
}

std::expected<JournalReader, JournalError> JournalReader::open(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return std::unexpected(
        detail::io_error(errno, 0, "cannot open journal '" + path.string() + "' for reading"));
  }
  return adopt(fd, path.string());
}

std::expected<JournalReader, JournalError> JournalReader::adopt(int fd, std::string path) {
  auto header = read_header(fd, path);
  if (!header) {
    detail::close_fd(fd);
    return std::unexpected(std::move(header.error()));
  }
  return JournalReader(fd, std::move(path), std::move(*header));
}

std::expected<std::optional<Record>, JournalError> JournalReader::next() {
  if (failure_) return std::unexpected(*failure_);
  auto record = read_record();
  if (!record) failure_ = record.error();
  return record;
}

JournalError JournalReader::make_error(JournalErrorKind kind, std::uint64_t offset,
                                       std::uint64_t sequence, bool tail_damage,
                                       std::string message) const {
  JournalError error;
  error.kind = kind;
  error.offset = offset;
  error.sequence = sequence;
  error.last_good_sequence = last_sequence_;
  error.tail_damage = tail_damage;
  error.message = "journal '" + path_ + "': " + std::move(message);
  return error;
}

std::expected<std::size_t, JournalError> JournalReader::fill(std::size_t needed) {
  const std::size_t available = static_cast<std::size_t>(buffer_offset_ + buffer_.size() - offset_);
  if (available >= needed) return needed;
  buffer_.erase(0, static_cast<std::size_t>(offset_ - buffer_offset_));
  buffer_offset_ = offset_;
  const std::size_t have = buffer_.size();
  buffer_.resize(std::max(needed, kReadChunkBytes));
  const auto got =
      detail::read_at(fd_, buffer_.data() + have, buffer_.size() - have, offset_ + have, path_);
  if (!got) {
    buffer_.resize(have);
    return std::unexpected(got.error());
  }
  buffer_.resize(have + *got);
  return std::min(needed, buffer_.size());
}

std::expected<std::optional<Record>, JournalError> JournalReader::read_record() {
  const auto prefix_available = fill(kRecordPrefixBytes);
  if (!prefix_available) return std::unexpected(prefix_available.error());
  if (*prefix_available == 0) return std::nullopt;
  if (*prefix_available < kRecordPrefixBytes) {
    return std::unexpected(make_error(
        JournalErrorKind::kTornTail, offset_, 0, true,
        "torn tail: the file ends " + std::to_string(*prefix_available) +
            " bytes into a record header that needs " + std::to_string(kRecordPrefixBytes) +
            " bytes (after sequence " + std::to_string(last_sequence_) + ")"));
  }
  const char* prefix = buffer_.data() + (offset_ - buffer_offset_);
  const std::string_view fields(prefix, detail::kRecordFieldsBytes);
  const std::uint32_t fields_crc = crc32c(fields);
  const std::uint32_t stored_fields_crc = detail::load_u32(prefix + detail::kRecordFieldsBytes);
  if (fields_crc != stored_fields_crc)
    return std::unexpected(classify_bad_header(stored_fields_crc, fields_crc));

  const std::uint32_t length = detail::load_u32(prefix);
  const auto type_byte = static_cast<std::uint8_t>(prefix[4]);
  const std::uint64_t sequence = detail::load_u64(prefix + 5);
  if (!detail::is_record_type(type_byte)) {
    return std::unexpected(
        make_error(JournalErrorKind::kUnknownRecordType, offset_, sequence, false,
                   "record " + std::to_string(sequence) + " has type " + std::to_string(type_byte) +
                       "; known types are 1 (INPUT), 2 (OUTPUT), 3 (META)"));
  }
  if (length > kMaxPayloadBytes) {
    return std::unexpected(
        make_error(JournalErrorKind::kRecordTooLarge, offset_, sequence, false,
                   "record " + std::to_string(sequence) + " declares a " + std::to_string(length) +
                       "-byte payload; the maximum is " + std::to_string(kMaxPayloadBytes)));
  }
  if (sequence != last_sequence_ + 1) {
    return std::unexpected(make_error(JournalErrorKind::kOutOfOrder, offset_, sequence, false,
                                      "record has sequence " + std::to_string(sequence) + " but " +
                                          std::to_string(last_sequence_ + 1) +
                                          " was expected (sequences start at 1 and " +
                                          "increase by 1)"));
  }

  const std::size_t total = kRecordOverheadBytes + std::size_t{length};
  const auto record_available = fill(total);
  if (!record_available) return std::unexpected(record_available.error());
  if (*record_available < total) {
    return std::unexpected(
        make_error(JournalErrorKind::kTornTail, offset_, sequence, true,
                   "torn tail: the file ends " + std::to_string(*record_available) +
                       " bytes into record " + std::to_string(sequence) + ", which needs " +
                       std::to_string(total) + " bytes (payload " + std::to_string(length) + ")"));
  }
  const char* record = buffer_.data() + (offset_ - buffer_offset_);
  const std::string_view payload(record + kRecordPrefixBytes, length);
  const std::uint32_t computed =
      crc32c_extend(crc32c(std::string_view(record, detail::kRecordFieldsBytes)), payload);
  const std::uint32_t stored = detail::load_u32(record + kRecordPrefixBytes + length);
  if (computed != stored) {
    // The verified fields say where this record ends, so only what lies beyond that can
    // tell a damaged last record from damage in the middle.
    const auto following = find_valid_record_from(offset_ + total);
    if (!following) return std::unexpected(following.error());
    std::string message = "checksum mismatch in record " + std::to_string(sequence) + ": stored " +
                          hex32(stored) + ", computed " + hex32(computed) +
                          " over its fields and " + std::to_string(length) + "-byte payload";
    if (*following) {
      message += "; a valid record (sequence " + std::to_string((*following)->second) +
                 ") follows at offset " + std::to_string((*following)->first);
    } else {
      message += "; no valid record follows it";
    }
    return std::unexpected(make_error(JournalErrorKind::kChecksumMismatch, offset_, sequence,
                                      !following->has_value(), std::move(message)));
  }

  Record result{static_cast<RecordType>(type_byte), sequence, offset_, std::string(payload)};
  offset_ += total;
  last_sequence_ = sequence;
  return result;
}

JournalError JournalReader::classify_bad_header(std::uint32_t stored, std::uint32_t computed) {
  // With the length field unverified the record's extent is unknown, so look at everything
  // after it: a later verifiable record means corruption inside the journal; an all-zero
  // rest is what a crash leaves when the file grew but its data never reached the disk.
  const auto following = find_valid_record_from(offset_ + 1);
  if (!following) return following.error();
  if (*following) {
    return make_error(JournalErrorKind::kChecksumMismatch, offset_, 0, false,
                      "record header checksum mismatch after sequence " +
                          std::to_string(last_sequence_) + ": stored " + hex32(stored) +
                          ", computed " + hex32(computed) + "; a valid record (sequence " +
                          std::to_string((*following)->second) + ") follows at offset " +
                          std::to_string((*following)->first) +
                          ", so this is damage inside the journal, not a torn tail");
  }
  const auto zero = rest_is_zero(offset_);
  if (!zero) return zero.error();
  if (*zero) {
    return make_error(JournalErrorKind::kTornTail, offset_, 0, true,
                      "torn tail: the file ends in zero bytes where the record after sequence " +
                          std::to_string(last_sequence_) + " should be");
  }
  return make_error(JournalErrorKind::kChecksumMismatch, offset_, 0, true,
                    "record header checksum mismatch after sequence " +
                        std::to_string(last_sequence_) + ": stored " + hex32(stored) +
                        ", computed " + hex32(computed) + "; no valid record follows it");
}

std::expected<std::optional<std::pair<std::uint64_t, std::uint64_t>>, JournalError>
JournalReader::find_valid_record_from(std::uint64_t start) const {
  std::string chunk(kScanChunkBytes + kRecordPrefixBytes, '\0');
  std::uint64_t position = start;
  for (;;) {
    const auto got = detail::read_at(fd_, chunk.data(), chunk.size(), position, path_);
    if (!got) return std::unexpected(got.error());
    if (*got < kRecordPrefixBytes) return std::nullopt;
    const std::size_t candidates = *got - kRecordPrefixBytes + 1;
    for (std::size_t i = 0; i < candidates; ++i) {
      const char* p = chunk.data() + i;
      if (!detail::is_record_type(static_cast<std::uint8_t>(p[4]))) continue;
      if (detail::load_u32(p) > kMaxPayloadBytes) continue;
      const std::uint64_t sequence = detail::load_u64(p + 5);
      if (sequence <= last_sequence_) continue;
      if (crc32c(std::string_view(p, detail::kRecordFieldsBytes)) !=
          detail::load_u32(p + detail::kRecordFieldsBytes)) {
        continue;
      }
      return std::pair{position + i, sequence};
    }
    if (*got < chunk.size()) return std::nullopt;
    position += candidates;
  }
}

std::expected<bool, JournalError> JournalReader::rest_is_zero(std::uint64_t start) const {
  std::string chunk(kScanChunkBytes, '\0');
  std::uint64_t position = start;
  for (;;) {
    const auto got = detail::read_at(fd_, chunk.data(), chunk.size(), position, path_);
    if (!got) return std::unexpected(got.error());
    const std::string_view data(chunk.data(), *got);
    if (data.find_first_not_of('\0') != std::string_view::npos) return false;
    if (*got < chunk.size()) return true;
    position += *got;
  }
}

}  // namespace dita::journal
