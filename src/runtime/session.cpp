#include "dita/runtime/session.hpp"

#include <deque>
#include <utility>

namespace dita::runtime {

std::string journal_metadata(const core::KernelConfig& config, std::string_view created_by) {
  nlohmann::json meta;
  meta["format"] = "dita-journal";
  meta["created_by"] = std::string(created_by);
  meta["kernel_config"] = codec::config_to_json(config);
  return codec::canonical(meta);
}

Session::Session(core::Kernel kernel, std::unique_ptr<venue::Venue> venue,
                 std::optional<journal::JournalWriter> journal, OutcomeObserver observer)
    : kernel_(std::move(kernel)),
      venue_(std::move(venue)),
      journal_(std::move(journal)),
      observer_(std::move(observer)) {
  context_.order_id_prefix = kernel_.config().order_id_prefix;
  outcome_.reserve(kernel_.slot_count());
  events_.reserve(64);
}

std::expected<void, SessionError> Session::process_one(const core::KernelInput& input) {
  kernel_.process(input, outcome_);
  if (journal_) {
    // The input and its outcome are durable before any command of it leaves the process.
    const auto in =
        journal_->append(journal::RecordType::kInput, codec::encode_input(input, context_));
    if (!in) return std::unexpected(SessionError{"journal: " + journal::to_string(in.error())});
    const auto out =
        journal_->append(journal::RecordType::kOutput, codec::encode_outcome(outcome_, context_));
    if (!out) return std::unexpected(SessionError{"journal: " + journal::to_string(out.error())});
    if (auto committed = journal_->commit(); !committed) {
      return std::unexpected(SessionError{"journal: " + journal::to_string(committed.error())});
    }
  }
  if (observer_) observer_(input, outcome_);
  for (const core::VenueCommand& command : outcome_.commands) {
    venue_->submit(command, input.ts_ns);
    ++commands_sent_;
  }
  return {};
}

std::expected<void, SessionError> Session::feed(const core::KernelInput& input) {
  std::deque<core::KernelInput> pending{input};
  // Bounded: a venue that keeps answering forever is a bug, not a session.
  constexpr std::size_t kMaxCascade = 100'000;
  std::size_t processed = 0;
  while (!pending.empty()) {
    if (++processed > kMaxCascade) {
      return std::unexpected(SessionError{"venue produced more than 100000 events for one input"});
    }
    const core::KernelInput next = pending.front();
    pending.pop_front();
    if (auto done = process_one(next); !done) return done;
    events_.clear();
    venue_->drain(events_);
    for (const core::VenueEvent& event : events_) {
      pending.push_back(core::KernelInput{next.ts_ns, event});
    }
  }
  return {};
}

std::expected<void, SessionError> Session::note(std::string_view meta_json) {
  if (!journal_) return {};
  const auto appended = journal_->append(journal::RecordType::kMeta, meta_json);
  if (!appended)
    return std::unexpected(SessionError{"journal: " + journal::to_string(appended.error())});
  if (auto committed = journal_->commit(); !committed) {
    return std::unexpected(SessionError{"journal: " + journal::to_string(committed.error())});
  }
  return {};
}

std::expected<void, SessionError> Session::close() {
  if (!journal_) return {};
  if (auto closed = journal_->close(); !closed) {
    return std::unexpected(SessionError{"journal: " + journal::to_string(closed.error())});
  }
  return {};
}

std::expected<ReplayReport, SessionError> replay_journal(
    const std::filesystem::path& path, const std::function<void(const core::Kernel&)>& at_end) {
  auto reader = journal::JournalReader::open(path);
  if (!reader) {
    return std::unexpected(SessionError{"cannot open journal " + path.string() + ": " +
                                        journal::to_string(reader.error())});
  }
  const auto meta = nlohmann::json::parse(reader->header().metadata, nullptr, false);
  if (meta.is_discarded() || !meta.is_object() || meta.value("format", "") != "dita-journal" ||
      !meta.contains("kernel_config")) {
    return std::unexpected(SessionError{"journal header metadata is not a DITA kernel journal"});
  }
  std::string prefix_storage;
  auto config = codec::config_from_json(meta["kernel_config"], prefix_storage);
  if (!config) {
    return std::unexpected(SessionError{"journal kernel_config: " + config.error().field + ": " +
                                        config.error().message});
  }
  auto kernel = core::Kernel::create(std::move(*config));
  if (!kernel) {
    return std::unexpected(SessionError{"journal kernel_config: " + kernel.error().setting + ": " +
                                        kernel.error().message});
  }
  codec::CodecContext context{kernel->config().order_id_prefix};
  core::KernelOutcome outcome;
  outcome.reserve(kernel->slot_count());
  ReplayReport report;
  std::optional<std::string> awaiting;  // the outcome our replay produced, not yet compared
  std::uint64_t awaiting_input_seq = 0;
  while (true) {
    auto record = reader->next();
    if (!record) {
      report.journal_error = record.error();
      break;
    }
    if (!*record) break;
    const journal::Record& item = **record;
    if (item.type == journal::RecordType::kMeta) continue;
    if (item.type == journal::RecordType::kInput) {
      if (awaiting) {
        report.problem = "input record " + std::to_string(item.sequence) +
                         " follows an input whose output record is missing";
        break;
      }
      auto input = codec::decode_input(item.payload, context);
      if (!input) {
        report.problem = "input record " + std::to_string(item.sequence) +
                         " does not decode: " + input.error().field + ": " + input.error().message;
        break;
      }
      kernel->process(*input, outcome);
      ++report.inputs;
      awaiting = codec::encode_outcome(outcome, context);
      awaiting_input_seq = outcome.input_seq;
      continue;
    }
    if (!awaiting) {
      report.problem = "output record " + std::to_string(item.sequence) + " has no input before it";
      break;
    }
    ++report.outputs_compared;
    if (item.payload != *awaiting) {
      report.divergence =
          ReplayDivergence{item.sequence, awaiting_input_seq, item.payload, *awaiting};
      break;
    }
    awaiting.reset();
  }
  if (report.identical() && awaiting) {
    report.problem = "the journal ends after an input without its output record";
  }
  if (at_end) at_end(*kernel);
  return report;
}

}  // namespace dita::runtime
