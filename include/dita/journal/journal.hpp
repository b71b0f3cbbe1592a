// dita/journal/journal.hpp
//
// Owns the journal record file: the append-only, checksummed, sequence-numbered file in
// which the runtime records every kernel input and output, and from which `dita replay`
// reads them back. This module knows bytes, checksums, sequence numbers and durability;
// it does not know what a payload means (the runtime stores canonical JSON in it).
// The byte layout is specified in docs/journal-format.md; change both together.
//
// Nothing here throws: every fallible call returns std::expected<T, JournalError>.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace dita::journal {

inline constexpr std::array<char, 8> kMagic = {'D', 'I', 'T', 'A', 'J', 'R', 'N', 'L'};
inline constexpr std::uint16_t kFormatVersion = 1;
// Bounds exist so that a corrupt length field can never make a reader allocate gigabytes.
inline constexpr std::uint32_t kMaxPayloadBytes = 16U * 1024U * 1024U;
inline constexpr std::uint32_t kMaxMetadataBytes = 1024U * 1024U;
// u32 length + u8 type + u64 sequence + u32 header CRC32C, then the payload, then u32 CRC32C.
inline constexpr std::uint32_t kRecordPrefixBytes = 17;
inline constexpr std::uint32_t kRecordOverheadBytes = kRecordPrefixBytes + 4;

enum class RecordType : std::uint8_t {
  kInput = 1,   // something the kernel was given (intent, venue event, tick)
  kOutput = 2,  // what the kernel produced for it
  kMeta = 3,    // runtime bookkeeping (start, config, reconcile markers)
};
// "INPUT", "OUTPUT", "META"; "UNKNOWN" for a value outside the enum.
[[nodiscard]] std::string_view to_string(RecordType type) noexcept;
[[nodiscard]] std::optional<RecordType> parse_record_type(std::string_view text) noexcept;

enum class JournalErrorKind : std::uint8_t {
  kIo,                  // a system call failed; sys_errno and the message carry errno
  kAlreadyExists,       // create() found the path already present
  kLocked,              // another writer holds the journal's lock
  kClosed,              // the writer was closed or moved from
  kInvalidArgument,     // caller input the format cannot carry (bad metadata, policy, type)
  kBadMagic,            // the file is not a DITA journal
  kUnsupportedVersion,  // a well-formed header of a format version this build cannot read
  kUnsupportedFlags,    // a well-formed header with flag bits this build does not know
  kCorruptHeader,       // truncated header, header checksum mismatch, inconsistent fields
  kTornTail,            // the file ends part-way through a record (an interrupted append)
  kChecksumMismatch,    // a record's bytes do not match its CRC32C
  kOutOfOrder,          // a verified record whose sequence is not previous + 1
  kRecordTooLarge,      // a payload over kMaxPayloadBytes (on write or in a verified header)
  kUnknownRecordType,   // a verified record whose type byte is not a RecordType
};
// Stable UPPER_SNAKE_CASE names ("TORN_TAIL", ...), safe to match on in scripts and logs.
[[nodiscard]] std::string_view to_string(JournalErrorKind kind) noexcept;

struct JournalError {
  JournalErrorKind kind = JournalErrorKind::kIo;
  // File offset where the problem starts: the start of the damaged record, or of the
  // header field at fault. For kTornTail it is where a repair would truncate.
  std::uint64_t offset = 0;
  // Sequence number of the record concerned when it is known (0 when not).
  std::uint64_t sequence = 0;
  // Sequence of the last record that fully verified before the problem (0: none did).
  std::uint64_t last_good_sequence = 0;
  // errno for kIo, 0 otherwise.
  int sys_errno = 0;
  // True when no verifiable record follows the damage, so truncating at `offset` loses
  // nothing that was ever complete and durable. Only such damage is repairable.
  bool tail_damage = false;
  std::string message;
};
// "TORN_TAIL at offset 123 (sequence 7, last good 6): <message>"
[[nodiscard]] std::string to_string(const JournalError& error);

// When a commit becomes durable (survives power loss), given fdatasync is honest.
struct FsyncPolicy {
  enum class Kind : std::uint8_t {
    kAlways,  // fdatasync on every commit: a commit returns only once its records are durable
    kBatch,   // fdatasync on every Nth commit and on close: up to N-1 commits may be lost
    kNever,   // leave it to the OS: survives a process crash, not a machine crash
  };
  Kind kind = Kind::kAlways;
  std::uint32_t every_n_commits = 1;  // meaningful for kBatch only; must be >= 1

  [[nodiscard]] static constexpr FsyncPolicy always() noexcept { return {Kind::kAlways, 1}; }
  [[nodiscard]] static constexpr FsyncPolicy batch(std::uint32_t every_n) noexcept {
    return {Kind::kBatch, every_n};
  }
  [[nodiscard]] static constexpr FsyncPolicy never() noexcept { return {Kind::kNever, 1}; }
  friend constexpr bool operator==(const FsyncPolicy&, const FsyncPolicy&) = default;
};
// "always", "batch:N", "never"; parse_fsync_policy(to_string(p)) == p for every valid p.
[[nodiscard]] std::string to_string(const FsyncPolicy& policy);
// kInvalidArgument naming the allowed values for anything else (case-sensitive, no spaces).
[[nodiscard]] std::expected<FsyncPolicy, JournalError> parse_fsync_policy(std::string_view text);

enum class TailRepair : std::uint8_t {
  kRefuse,            // any damage is an error; the file is left untouched
  kTruncateTornTail,  // cut tail damage (JournalError::tail_damage) off; never anything else
};

struct JournalHeader {
  std::uint16_t format_version = kFormatVersion;
  std::uint16_t flags = 0;
  std::uint32_t header_length = 0;  // bytes before the first record
  std::string metadata;             // UTF-8, opaque to this module
};

struct Record {
  RecordType type = RecordType::kInput;
  std::uint64_t sequence = 0;
  std::uint64_t offset = 0;  // file offset of the record's first byte
  std::string payload;
  friend bool operator==(const Record&, const Record&) = default;
};

class JournalWriter;

// Reads and verifies a journal front to back. Reads with pread at its own offset, so it
// may read a file another process is appending to; a kTornTail at the end of a live file
// can then mean "not written yet" rather than "interrupted".
class JournalReader {
 public:
  // Verifies the header; records are verified one at a time by next().
  [[nodiscard]] static std::expected<JournalReader, JournalError> open(
      const std::filesystem::path& path);

  JournalReader(JournalReader&& other) noexcept;
  JournalReader& operator=(JournalReader&& other) noexcept;
  JournalReader(const JournalReader&) = delete;
  JournalReader& operator=(const JournalReader&) = delete;
  ~JournalReader();

  // The next verified record, std::nullopt at a clean end of file (the file ends exactly
  // after a record or the header). After an error every later call returns that error.
  [[nodiscard]] std::expected<std::optional<Record>, JournalError> next();

  [[nodiscard]] const JournalHeader& header() const noexcept { return header_; }
  // Offset of the next record to read: after the last verified record.
  [[nodiscard]] std::uint64_t offset() const noexcept { return offset_; }
  [[nodiscard]] std::uint64_t last_sequence() const noexcept { return last_sequence_; }

 private:
  friend class JournalWriter;
  JournalReader(int fd, std::string path, JournalHeader header) noexcept;
  [[nodiscard]] static std::expected<JournalReader, JournalError> adopt(int fd, std::string path);

  [[nodiscard]] std::expected<std::size_t, JournalError> fill(std::size_t needed);
  [[nodiscard]] std::expected<std::optional<Record>, JournalError> read_record();
  [[nodiscard]] JournalError classify_bad_header(std::uint32_t stored, std::uint32_t computed);
  [[nodiscard]] std::expected<std::optional<std::pair<std::uint64_t, std::uint64_t>>, JournalError>
  find_valid_record_from(std::uint64_t start) const;
  [[nodiscard]] std::expected<bool, JournalError> rest_is_zero(std::uint64_t start) const;
  [[nodiscard]] JournalError make_error(JournalErrorKind kind, std::uint64_t offset,
                                        std::uint64_t sequence, bool tail_damage,
                                        std::string message) const;

  int fd_ = -1;
  std::string path_;
  JournalHeader header_;
  std::uint64_t offset_ = 0;
  std::uint64_t last_sequence_ = 0;
  std::string buffer_;  // file bytes [buffer_offset_, buffer_offset_ + buffer_.size())
  std::uint64_t buffer_offset_ = 0;
  std::optional<JournalError> failure_;
};

// Appends records to one journal. Holds an exclusive flock on the file for its lifetime,
// so two writers can never interleave records. append() only buffers; commit() writes
// everything appended since the previous commit with one write (group commit) and then
// applies the FsyncPolicy.
//
// After any I/O error the writer refuses further work (the file may hold a partial write
// and, after a failed fdatasync, the page cache can no longer be trusted); reopen with
// open_for_append(..., TailRepair::kTruncateTornTail) to continue.
class JournalWriter {
 public:
  // Creates `path` exclusively with mode 0600 and writes the header. With a policy other
  // than kNever the header and the directory entry are made durable before returning.
  [[nodiscard]] static std::expected<JournalWriter, JournalError> create(
      const std::filesystem::path& path, FsyncPolicy policy, std::string_view metadata);
  // Verifies the whole existing file and continues its sequence. Header damage and damage
  // followed by verifiable records are never repaired.
  [[nodiscard]] static std::expected<JournalWriter, JournalError> open_for_append(
      const std::filesystem::path& path, FsyncPolicy policy, TailRepair repair);

  JournalWriter(JournalWriter&& other) noexcept;
  JournalWriter& operator=(JournalWriter&& other) noexcept;
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;
  // Best effort close(); call close() yourself to see its errors.
  ~JournalWriter();

  // Buffers one record and returns the sequence number it was given. A rejected record
  // does not consume a sequence number.
  [[nodiscard]] std::expected<std::uint64_t, JournalError> append(RecordType type,
                                                                  std::string_view payload);
  // Writes the buffered records and applies the fsync policy. A commit with nothing
  // buffered writes nothing and does not count towards a batch.
  [[nodiscard]] std::expected<void, JournalError> commit();
  // fdatasync now, whatever the policy.
  [[nodiscard]] std::expected<void, JournalError> sync();
  // Commits, syncs unless the policy is kNever, releases the lock and closes the file.
  // Idempotent; later calls of anything else return kClosed.
  [[nodiscard]] std::expected<void, JournalError> close();

  // Last sequence handed out by append().
  [[nodiscard]] std::uint64_t last_sequence() const noexcept { return next_sequence_ - 1; }
  // Last sequence written to the file (visible to readers, survives a process crash).
  [[nodiscard]] std::uint64_t committed_sequence() const noexcept { return committed_sequence_; }
  // Last sequence this writer has fdatasync'ed (survives a machine crash).
  [[nodiscard]] std::uint64_t durable_sequence() const noexcept { return durable_sequence_; }
  [[nodiscard]] std::size_t pending_bytes() const noexcept { return pending_.size(); }
  // Bytes open_for_append cut off with kTruncateTornTail (0 if the file was clean).
  [[nodiscard]] std::uint64_t dropped_tail_bytes() const noexcept { return dropped_tail_bytes_; }
  [[nodiscard]] const JournalHeader& header() const noexcept { return header_; }
  [[nodiscard]] FsyncPolicy policy() const noexcept { return policy_; }
  [[nodiscard]] bool is_open() const noexcept { return fd_ >= 0; }

 private:
  JournalWriter(int fd, std::string path, FsyncPolicy policy, JournalHeader header,
                std::uint64_t end_offset, std::uint64_t last_sequence) noexcept;
  [[nodiscard]] std::expected<void, JournalError> usable() const;
  [[nodiscard]] std::expected<void, JournalError> fail(JournalError error);
  void release() noexcept;

  int fd_ = -1;
  std::string path_;
  FsyncPolicy policy_;
  JournalHeader header_;
  std::uint64_t end_offset_ = 0;  // file size after the last successful commit
  std::uint64_t next_sequence_ = 1;
  std::uint64_t committed_sequence_ = 0;
  std::uint64_t durable_sequence_ = 0;
  std::uint32_t commits_since_sync_ = 0;
  std::uint64_t dropped_tail_bytes_ = 0;
  std::string pending_;
  std::optional<JournalError> failure_;
};

}  // namespace dita::journal
