// dita/runtime/session.hpp
//
// Owns the shell loop around one kernel: an input goes through the kernel, its input and
// outcome records are made durable in the journal, the outcome is reported, and only then
// do its venue commands leave; events the venue returns are fed back in the same way
// until the venue is quiet. Also owns journal replay, which re-runs a journal's inputs
// through a fresh kernel and compares every outcome byte for byte.
#pragma once

#include <cstdint>
#include <expected>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dita/codec/json_codec.hpp"
#include "dita/core/kernel.hpp"
#include "dita/journal/journal.hpp"
#include "dita/venue/venue.hpp"

namespace dita::runtime {

// Receives every processed input with its outcome (printing, mirroring).
using OutcomeObserver = std::function<void(const core::KernelInput&, const core::KernelOutcome&)>;

struct SessionError {
  std::string message;
};

// Journal header metadata: what replay needs to rebuild the same kernel.
std::string journal_metadata(const core::KernelConfig& config, std::string_view created_by);

class Session {
 public:
  Session(core::Kernel kernel, std::unique_ptr<venue::Venue> venue,
          std::optional<journal::JournalWriter> journal, OutcomeObserver observer);

  // Processes one input and everything the venue answers to it.
  std::expected<void, SessionError> feed(const core::KernelInput& input);
  // A META record (script directives, reconcile markers): explains, never replayed.
  std::expected<void, SessionError> note(std::string_view meta_json);
  std::expected<void, SessionError> close();

  const core::Kernel& kernel() const { return kernel_; }
  venue::Venue& venue() { return *venue_; }
  std::uint64_t commands_sent() const { return commands_sent_; }

 private:
  std::expected<void, SessionError> process_one(const core::KernelInput& input);

  core::Kernel kernel_;
  std::unique_ptr<venue::Venue> venue_;
  std::optional<journal::JournalWriter> journal_;
  OutcomeObserver observer_;
  codec::CodecContext context_;
  core::KernelOutcome outcome_;
  std::vector<core::VenueEvent> events_;
  std::uint64_t commands_sent_ = 0;
};

struct ReplayDivergence {
  std::uint64_t record_sequence = 0;  // journal sequence of the OUTPUT record that differs
  std::uint64_t input_seq = 0;        // kernel input number
  std::string expected;
  std::string actual;
};

struct ReplayReport {
  std::uint64_t inputs = 0;
  std::uint64_t outputs_compared = 0;
  std::optional<ReplayDivergence> divergence;
  std::optional<journal::JournalError> journal_error;  // torn tail, checksum, ...
  std::string problem;  // a structural problem (missing output, undecodable input)
  bool identical() const { return !divergence && !journal_error && problem.empty(); }
};

// Observer sees the replayed state after each input (for `dita once --journal`).
std::expected<ReplayReport, SessionError> replay_journal(
    const std::filesystem::path& path, const std::function<void(const core::Kernel&)>& at_end = {});

}  // namespace dita::runtime
