// dita/runtime/recovery.hpp
//
// Owns kernel recovery from a journal for `dita serve`: rebuild the kernel by re-running the
// journal's inputs (checking every recorded output byte for byte, as replay does), and recover
// what the intent queue needs to stay exactly-once: the highest applied sequence of every
// producer, read from the intent ids of INPUT records and from `intent_rejected` META records.
// An input whose output record never made it to disk (a torn final write) was never acted on;
// it is cut off so the queue hands the intent over again.
#pragma once

#include <cstdint>
#include <expected>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "dita/core/kernel.hpp"
#include "dita/journal/journal.hpp"

namespace dita::runtime {

struct RecoveredKernel {
  core::Kernel kernel;
  std::map<std::uint32_t, std::uint64_t> applied_seqs;  // producer id -> highest applied seq
  std::uint64_t inputs = 0;                             // inputs re-run
  std::uint64_t last_sequence = 0;                      // last complete journal record
  std::uint64_t serve_starts = 0;                       // earlier `dita serve` runs on this journal
  std::uint64_t cut_bytes = 0;  // bytes of an input without output cut off the end
  std::optional<journal::JournalError> tail_damage;  // torn tail left for open_for_append
};

enum class RecoveryErrorKind : std::uint8_t {
  kConfigMismatch,  // the journal was written by a kernel with another configuration
  kJournalDamaged,  // damage that is not a torn tail, or a structural problem
  kDiverged,        // re-running an input gave another output than the journal holds
  kIo,              // the journal could not be read or cut
};

struct RecoveryError {
  RecoveryErrorKind kind = RecoveryErrorKind::kIo;
  std::string message;
};

// `config` must equal the configuration in the journal header (its order_id_prefix must
// outlive the returned kernel). Leaves tail damage in place (open_for_append repairs it) but
// cuts a final input that lacks its output.
std::expected<RecoveredKernel, RecoveryError> recover_kernel(const std::filesystem::path& path,
                                                             const core::KernelConfig& config);

}  // namespace dita::runtime
