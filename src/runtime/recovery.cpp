#include "dita/runtime/recovery.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <variant>

#include "dita/codec/json_codec.hpp"
#include "dita/runtime/state_image.hpp"

namespace dita::runtime {
namespace {

RecoveryError fail(RecoveryErrorKind kind, std::string message) {
  return RecoveryError{kind, std::move(message)};
}

// Names the configuration fields that differ, so the operator knows what changed.
std::string config_difference(const nlohmann::json& journal, const nlohmann::json& wanted) {
  std::string fields;
  for (const auto& [key, value] : wanted.items()) {
    if (!journal.contains(key) || journal.at(key) != value) {
      if (!fields.empty()) fields += ", ";
      fields += key;
    }
  }
  for (const auto& [key, value] : journal.items()) {
    if (!wanted.contains(key)) {
      if (!fields.empty()) fields += ", ";
      fields += key;
    }
  }
  return fields;
}

// Cuts the file at `offset` under the journal's own lock, so a live writer is never cut.
std::expected<void, RecoveryError> cut_journal(const std::filesystem::path& path,
                                               std::uint64_t offset) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    return std::unexpected(fail(RecoveryErrorKind::kIo, "cannot open journal " + path.string() +
                                                            ": " + std::strerror(errno)));
  }
  std::string problem;
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    problem = "journal " + path.string() + " is locked by another writer";
  } else if (::ftruncate(fd, static_cast<off_t>(offset)) != 0 || ::fdatasync(fd) != 0) {
    problem = "cannot cut journal " + path.string() + ": " + std::strerror(errno);
  }
  ::close(fd);  // also releases the lock
  if (!problem.empty()) return std::unexpected(fail(RecoveryErrorKind::kIo, problem));
  return {};
}

struct ScanResult {
  std::optional<RecoveredKernel> recovered;
  std::optional<std::uint64_t> dangling_input_offset;  // an input whose output is missing
};

std::expected<ScanResult, RecoveryError> scan(const std::filesystem::path& path,
                                              const core::KernelConfig& config) {
  auto reader = journal::JournalReader::open(path);
  if (!reader) {
    return std::unexpected(
        fail(RecoveryErrorKind::kJournalDamaged,
             "cannot open journal " + path.string() + ": " + journal::to_string(reader.error())));
  }
  const auto meta = nlohmann::json::parse(reader->header().metadata, nullptr, false);
  if (meta.is_discarded() || !meta.is_object() || meta.value("format", "") != "dita-journal" ||
      !meta.contains("kernel_config")) {
    return std::unexpected(fail(RecoveryErrorKind::kJournalDamaged,
                                "journal " + path.string() + " is not a DITA kernel journal"));
  }
  const nlohmann::json wanted = codec::config_to_json(config);
  if (meta.at("kernel_config") != wanted) {
    return std::unexpected(
        fail(RecoveryErrorKind::kConfigMismatch,
             "journal " + path.string() +
                 " was written with another kernel configuration (differs in: " +
                 config_difference(meta.at("kernel_config"), wanted) +
                 "); start with the settings it was written with, or use a new --journal"));
  }
  auto kernel = core::Kernel::create(config);
  if (!kernel) {
    return std::unexpected(fail(RecoveryErrorKind::kConfigMismatch,
                                kernel.error().setting + ": " + kernel.error().message));
  }
  RecoveredKernel out{std::move(*kernel), {}, 0, 0, 0, 0, std::nullopt};
  const codec::CodecContext context{config.order_id_prefix};
  core::KernelOutcome outcome;
  outcome.reserve(out.kernel.slot_count());
  std::optional<std::string> awaiting;  // the output our re-run produced, not yet compared
  std::uint64_t awaiting_offset = 0;
  // The producer and sequence of the awaited input when it is an intent (plain fields: GCC 12
  // at -O3 reports a false maybe-uninitialized through an optional<pair>).
  bool awaiting_is_intent = false;
  std::uint32_t awaiting_producer = 0;
  std::uint64_t awaiting_seq = 0;
  const auto note_applied = [&](std::uint32_t producer, std::uint64_t seq) {
    auto& applied = out.applied_seqs[producer];
    if (seq > applied) applied = seq;
  };
  for (;;) {
    auto record = reader->next();
    if (!record) {
      if (!record.error().tail_damage) {
        return std::unexpected(fail(RecoveryErrorKind::kJournalDamaged,
                                    "journal " + path.string() + " is damaged before its end: " +
                                        journal::to_string(record.error())));
      }
      out.tail_damage = record.error();
      break;
    }
    if (!*record) break;
    const journal::Record& item = **record;
    const auto where = "journal record " + std::to_string(item.sequence);
    if (item.type == journal::RecordType::kMeta) {
      const auto body = nlohmann::json::parse(item.payload, nullptr, false);
      if (body.is_object()) {
        const std::string type = body.value("type", "");
        if (type == "serve_start") ++out.serve_starts;
        if (type == "intent_rejected" && body.contains("producer_id") &&
            body.contains("producer_seq") && body["producer_id"].is_number_unsigned() &&
            body["producer_seq"].is_number_unsigned()) {
          note_applied(body["producer_id"].get<std::uint32_t>(),
                       body["producer_seq"].get<std::uint64_t>());
        }
      }
      out.last_sequence = item.sequence;
      continue;
    }
    if (item.type == journal::RecordType::kInput) {
      if (awaiting) {
        return std::unexpected(fail(RecoveryErrorKind::kJournalDamaged,
                                    where + " follows an input whose output record is missing"));
      }
      auto input = codec::decode_input(item.payload, context);
      if (!input) {
        return std::unexpected(fail(
            RecoveryErrorKind::kJournalDamaged,
            where + " does not decode: " + input.error().field + ": " + input.error().message));
      }
      out.kernel.process(*input, outcome);
      awaiting = codec::encode_outcome(outcome, context);
      awaiting_offset = item.offset;
      awaiting_is_intent = false;
      if (const auto* intent = std::get_if<core::KernelIntent>(&input->payload)) {
        if (const auto queued = parse_queue_intent_id(intent->id)) {
          awaiting_is_intent = true;
          awaiting_producer = queued->producer_id;
          awaiting_seq = queued->seq;
        }
      }
      continue;
    }
    if (!awaiting) {
      return std::unexpected(
          fail(RecoveryErrorKind::kJournalDamaged, where + " is an output without an input"));
    }
    if (item.payload != *awaiting) {
      return std::unexpected(
          fail(RecoveryErrorKind::kDiverged, where +
                                                 ": re-running its input gave another output; run "
                                                 "`dita replay " +
                                                 path.string() + "` for details"));
    }
    awaiting.reset();
    ++out.inputs;
    out.last_sequence = item.sequence;
    if (awaiting_is_intent) note_applied(awaiting_producer, awaiting_seq);
  }
  ScanResult result;
  if (awaiting) result.dangling_input_offset = awaiting_offset;
  result.recovered = std::move(out);
  return result;
}

}  // namespace

std::expected<RecoveredKernel, RecoveryError> recover_kernel(const std::filesystem::path& path,
                                                             const core::KernelConfig& config) {
  auto first = scan(path, config);
  if (!first) return std::unexpected(first.error());
  if (!first->dangling_input_offset) return std::move(*first->recovered);
  // The input's output never reached the disk, so nothing of it left the process: cut it off
  // and rebuild without it (its intent is still uncommitted in the queue and comes again).
  std::error_code size_error;
  const auto size = std::filesystem::file_size(path, size_error);
  if (size_error) {
    return std::unexpected(fail(RecoveryErrorKind::kIo, "cannot stat journal " + path.string() +
                                                            ": " + size_error.message()));
  }
  const std::uint64_t offset = *first->dangling_input_offset;
  if (auto cut = cut_journal(path, offset); !cut) return std::unexpected(cut.error());
  auto second = scan(path, config);
  if (!second) return std::unexpected(second.error());
  if (second->dangling_input_offset) {
    return std::unexpected(
        fail(RecoveryErrorKind::kJournalDamaged, "journal still ends with an incomplete input"));
  }
  second->recovered->cut_bytes = size - offset;
  return std::move(*second->recovered);
}

}  // namespace dita::runtime
