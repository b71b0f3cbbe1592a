// dita/sink/spool.hpp
//
// Owns the durable on-disk queue of one sink: append-only segment files of checksummed
// records plus a persisted delivery cursor, so records that a sink has not accepted yet
// survive a sink outage and a DITA restart, and are delivered in order exactly from where
// delivery stopped.
//
// Layout of DIR: `lock` (flock, one owner at a time), `cursor` (u64 delivered seq, u64 max
// tag, u32 CRC32C; replaced atomically by rename), `seg-<first seq, 20 digits>.spool`
// segments of records: u32 payload length, u32 CRC32C of (seq, tag, payload), u64 seq,
// u64 tag, payload. Sequence numbers are the spool's own, dense, starting at 1. A torn tail
// (a crash mid-write) is cut off at open; damage before the tail is an error.
//
// Delivery: read() hands out records after the last one read; acknowledge(seq) persists the
// cursor and deletes segments wholly delivered. A crash between a sink accepting a batch and
// acknowledge() re-delivers that batch after restart (at least once); the sinks make that
// harmless (deterministic row ids, idempotent map sets). Threading: one writer thread
// (append/commit/sync) and one reader thread (read/acknowledge) may work concurrently.
#pragma once

#include <cstdint>
#include <expected>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace dita::sink::spool {

enum class ErrorCode : std::uint8_t { kIo, kCorrupt, kLocked, kInvalidArgument };
std::string_view to_string(ErrorCode code) noexcept;

struct SpoolError {
  ErrorCode code = ErrorCode::kIo;
  std::string message;
};

template <class T>
using Result = std::expected<T, SpoolError>;

struct SpoolConfig {
  std::filesystem::path dir;
  std::uint64_t segment_bytes = 64ULL * 1024 * 1024;  // roll to a new segment past this size
};

struct SpoolRecord {
  std::uint64_t seq = 0;
  std::uint64_t tag = 0;  // caller's number (the pipeline stores the kernel input seq)
  std::string payload;
};

class Spool {
 public:
  static Result<std::unique_ptr<Spool>> open(SpoolConfig config);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // Writer side. append() buffers and returns the record's seq; commit() writes the buffer
  // (one write; survives a process crash) and makes the records readable; sync() fdatasyncs
  // what was committed and, unlike the others, may run concurrently with append/commit.
  std::uint64_t append(std::uint64_t tag, std::string_view payload);
  Result<void> commit();
  Result<void> sync();

  // Reader side. Appends up to `max_records` committed records (stopping early past
  // `max_bytes` of payload) after the last record read; returns how many.
  Result<std::size_t> read(std::size_t max_records, std::size_t max_bytes,
                           std::vector<SpoolRecord>& out);
  // Everything up to `seq` was delivered: persist the cursor, drop delivered segments.
  Result<void> acknowledge(std::uint64_t seq);

  [[nodiscard]] std::uint64_t committed_seq() const;
  [[nodiscard]] std::uint64_t delivered_seq() const;
  // Committed but not yet acknowledged records.
  [[nodiscard]] std::uint64_t depth() const;
  // Largest tag ever appended (survives restarts through the cursor file).
  [[nodiscard]] std::uint64_t max_tag() const;
  [[nodiscard]] std::size_t segment_count() const;
  // Bytes cut off a torn tail at open (0 if the spool was clean).
  [[nodiscard]] std::uint64_t repaired_bytes() const { return repaired_bytes_; }

 private:
  struct Segment {
    std::uint64_t first_seq = 0;
    std::filesystem::path path;
    std::uint64_t committed_bytes = 0;
  };
  explicit Spool(SpoolConfig config);
  Result<void> load();
  Result<void> open_segment_for_append(std::uint64_t first_seq);
  Result<void> write_cursor(std::uint64_t delivered, std::uint64_t max_tag);

  SpoolConfig config_;
  int lock_fd_ = -1;

  mutable std::mutex mutex_;  // segments_, committed_seq_, delivered_seq_, max_tag_
  std::vector<Segment> segments_;
  std::uint64_t committed_seq_ = 0;
  std::uint64_t delivered_seq_ = 0;
  std::uint64_t max_tag_ = 0;

  // Writer state.
  int write_fd_ = -1;
  std::uint64_t write_bytes_ = 0;  // size of the current segment including pending bytes
  std::uint64_t next_seq_ = 1;
  std::uint64_t pending_last_seq_ = 0;
  std::uint64_t pending_max_tag_ = 0;
  std::string pending_;

  // Reader state.
  int read_fd_ = -1;
  std::uint64_t read_segment_first_ = 0;
  std::uint64_t read_offset_ = 0;
  std::uint64_t read_seq_ = 0;  // last seq handed out
  std::string read_buffer_;

  std::uint64_t repaired_bytes_ = 0;
};

}  // namespace dita::sink::spool
