#include "dita/runtime/serve.hpp"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <utility>

#include "dita/codec/json_codec.hpp"
#include "dita/journal/journal.hpp"
#include "dita/runtime/recovery.hpp"
#include "dita/runtime/session.hpp"
#include "dita/runtime/sink_settings.hpp"
#include "dita/sink/pipeline.hpp"
#include "dita/venue/bingx/factory.hpp"
#include "dita/venue/mock_venue.hpp"
#include "dita/zinc/intent_queue.hpp"
#include "dita/zinc/snapshot.hpp"

namespace dita::runtime {
namespace {

using Clock = std::chrono::steady_clock;

// The control region's enum codes are the core enums' indices; both are layout.
static_assert(static_cast<int>(core::KernelMode::kDebug) == DITA_ZINC_MODE_DEBUG);
static_assert(static_cast<int>(core::KernelVerbosity::kTrace) == DITA_ZINC_VERBOSITY_TRACE);
static_assert(static_cast<int>(core::BackendMode::kBingx) == DITA_ZINC_BACKEND_BINGX);

static_assert(static_cast<int>(sink::SinkState::kDisabled) == DITA_SINK_STATE_DISABLED);
static_assert(static_cast<int>(sink::SinkState::kUp) == DITA_SINK_STATE_UP);
static_assert(static_cast<int>(sink::SinkState::kDegraded) == DITA_SINK_STATE_DEGRADED);
static_assert(static_cast<int>(sink::SinkState::kDown) == DITA_SINK_STATE_DOWN);

// How long one wait for an intent may sleep: bounds how late a control request, a stop
// signal or a heartbeat is noticed.
constexpr std::chrono::milliseconds kMaxWait{10};
// With an asynchronous venue (BingX), how late one of its events may be noticed: the intent
// queue's futex cannot also wait on the venue's eventfd, so the wait is cut short.
constexpr std::chrono::milliseconds kMaxVenueWait{2};
// Clean shutdown waits this long for the sinks to take what is spooled; the rest stays in the
// spool for the next start.
constexpr std::chrono::milliseconds kSinkFlushTimeout{3000};

std::atomic<bool> g_stop_requested{false};

extern "C" void on_stop_signal(int /*signal*/) {
  g_stop_requested.store(true, std::memory_order_relaxed);
}

std::int64_t wall_clock_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

ServeError error(ServeErrorKind kind, std::string message) {
  return ServeError{kind, std::move(message)};
}

ServeError region_error(std::string_view what, const zinc::ZincError& failure) {
  const auto kind = failure.kind == zinc::ZincErrorKind::WriterAlive ? ServeErrorKind::kInstanceBusy
                    : failure.kind == zinc::ZincErrorKind::InvalidInstanceName
                        ? ServeErrorKind::kUsage
                        : ServeErrorKind::kFailure;
  std::string message = std::string(what) + ": " + failure.describe();
  if (failure.kind == zinc::ZincErrorKind::WriterAlive) {
    message += " (another `dita serve` runs this instance; stop it or choose another --instance)";
  } else if (failure.kind == zinc::ZincErrorKind::SizeMismatch) {
    message +=
        " (the existing region was made with other sizes, or by a DITA build with another "
        "layout version; once no server runs, remove it from /dev/shm or use the same "
        "--slot-count/--intent-capacity/--max-producers)";
  }
  return error(kind, std::move(message));
}

// Applies a Settings-validated value to the control settings (names shared with Settings).
void copy_control_field(std::string_view key, const Settings& from, zinc::ControlSettings& to) {
  if (key == "mode") to.mode = static_cast<zinc::KernelMode>(from.mode);
  if (key == "verbosity") to.verbosity = static_cast<zinc::KernelVerbosity>(from.verbosity);
  if (key == "backend") to.backend = static_cast<zinc::BackendMode>(from.venue);
  if (key == "debug_clickhouse_enabled")
    to.debug_clickhouse_enabled = from.debug_clickhouse_enabled;
  if (key == "trace_transitions") to.trace_transitions = from.trace_transitions;
  if (key == "mirror_to_hazelcast") to.mirror_to_hazelcast = from.mirror_to_hazelcast;
  if (key == "active_slot_limit") to.active_slot_limit = from.active_slot_limit;
  if (key == "reconcile_on_restart") to.reconcile_on_restart = from.reconcile_on_restart;
}

nlohmann::json control_changes(const zinc::ControlSettings& before,
                               const zinc::ControlSettings& after) {
  const nlohmann::json a = control_to_json(before);
  const nlohmann::json b = control_to_json(after);
  nlohmann::json changed = nlohmann::json::object();
  for (const auto& [key, value] : b.items()) {
    if (a.at(key) != value) changed[key] = {{"from", a.at(key)}, {"to", value}};
  }
  return changed;
}

// A client-order-id prefix of its own for a new journal on BingX, which keeps client ids unique
// per account forever: "d" + the start time in seconds, base 36, 7 digits (lower-case alnum).
std::string mint_order_id_prefix() {
  auto seconds = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                                std::chrono::system_clock::now().time_since_epoch())
                                                .count());
  constexpr std::string_view kDigits = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string out(8, '0');
  out[0] = 'd';
  for (std::size_t i = 7; i >= 1; --i) {
    out[i] = kDigits[seconds % 36];
    seconds /= 36;
  }
  return out;
}

// The order id prefix a journal was written with (its header's kernel configuration), or
// nothing when the header cannot be read (recovery then reports what is wrong).
std::optional<std::string> journal_order_id_prefix(const std::filesystem::path& path) {
  auto reader = journal::JournalReader::open(path);
  if (!reader) return std::nullopt;
  const auto meta = nlohmann::json::parse(reader->header().metadata, nullptr, false);
  if (meta.is_discarded() || !meta.is_object() || !meta.contains("kernel_config")) {
    return std::nullopt;
  }
  const auto& config = meta.at("kernel_config");
  if (!config.is_object() || !config.contains("order_id_prefix") ||
      !config.at("order_id_prefix").is_string()) {
    return std::nullopt;
  }
  return config.at("order_id_prefix").get<std::string>();
}

std::expected<std::unique_ptr<venue::bingx::BingxVenue>, ServeError> make_bingx_venue(
    std::string_view order_id_prefix) {
  auto venue = venue::bingx::make_bingx_venue_from_env(order_id_prefix);
  if (!venue) {
    return std::unexpected(error(ServeErrorKind::kUsage, "venue BINGX: " + venue.error().message));
  }
  return std::move(*venue);
}

void copy_text(std::string_view text, char* out, std::size_t size) {
  const std::size_t n = std::min(text.size(), size - 1);
  std::memcpy(out, text.data(), n);
  std::memset(out + n, 0, size - n);
}

bool has_working_order(const core::Kernel& kernel) {
  return std::any_of(kernel.slots().begin(), kernel.slots().end(), [](const core::TradeSlot& s) {
    return s.working_order >= 0 || s.stage == core::TradeStage::kEntryWorking ||
           s.stage == core::TradeStage::kExitWorking;
  });
}

// One server run: the regions, the session around the kernel, and the mirror.
class Server {
 public:
  explicit Server(const ServeOptions& options) : options_(options) {}

  std::expected<ServeReport, ServeError> run();

 private:
  std::expected<void, ServeError> choose_venue();
  std::expected<void, ServeError> take_regions();
  std::expected<void, ServeError> open_kernel();
  std::expected<void, ServeError> open_sinks();
  std::expected<void, ServeError> republish_journal(sink::SinkPipeline& pipeline,
                                                    core::Kernel& replayed, std::uint64_t inputs);
  void record_control(const nlohmann::json& changed, const std::string& actor);
  bool refresh_sink_health();
  void stop_sinks(bool flush);
  std::expected<void, ServeError> publish_startup_control();
  std::expected<void, ServeError> loop();
  std::expected<void, ServeError> handle_intent(const zinc::Intent<IntentRecord>& entry);
  std::expected<void, ServeError> apply_control();
  std::expected<void, ServeError> reject_control_request(const zinc::ControlRequest& request,
                                                         std::string reason);
  std::expected<void, ServeError> feed(const core::KernelInput& input);
  std::expected<void, ServeError> note(const nlohmann::json& meta);
  void mirror(const core::KernelOutcome* outcome);
  void publish_state(std::uint32_t status);
  void log_outcome(const core::KernelInput& input, const core::KernelOutcome& outcome);
  void heartbeat();
  void say(const std::string& line) {
    if (options_.log != nullptr) *options_.log << "dita serve: " << line << std::endl;
  }

  const ServeOptions& options_;
  Settings settings_;  // owns the order id prefix the kernel config points into
  core::KernelConfig config_;
  std::filesystem::path journal_path_;
  std::optional<zinc::SnapshotWriter<StateImage>> state_;
  std::optional<zinc::ControlKernel> control_;
  std::optional<zinc::ControlOperator> control_self_;  // for the kernel's own corrections
  std::optional<zinc::IntentConsumer<IntentRecord>> intents_;
  std::optional<Session> session_;
  std::unique_ptr<StateImage> image_ = std::make_unique<StateImage>();
  std::unique_ptr<venue::Venue> started_venue_;  // BingX, started before the kernel opens
  venue::bingx::BingxVenue* bingx_ = nullptr;    // owned by started_venue_, then session_
  SinkSettings sink_settings_;
  std::unique_ptr<sink::SinkPipeline> pipeline_;  // null when no sink is configured
  bool fresh_journal_ = false;
  zinc::ControlSettings effective_;  // the control settings in force
  std::uint64_t journal_sequence_ = 0;
  std::uint64_t restart_index_ = 0;
  ServeReport report_;
};

std::expected<void, ServeError> Server::take_regions() {
  // State first: if a live server owns the instance, this is where we are refused, before
  // any other region or the journal is touched.
  auto state = zinc::SnapshotWriter<StateImage>::create(settings_.instance);
  if (!state) return std::unexpected(region_error("state region", state.error()));
  state_.emplace(std::move(*state));
  publish_state(DITA_STATE_STATUS_STARTING);
  auto control = zinc::ControlKernel::create(
      settings_.instance, control_settings(settings_, settings_.active_slot_limit));
  if (!control) return std::unexpected(region_error("control region", control.error()));
  control_.emplace(std::move(*control));
  auto self = zinc::ControlOperator::attach(control_->region());
  if (!self) return std::unexpected(region_error("control region", self.error()));
  control_self_.emplace(std::move(*self));
  auto intents = zinc::IntentConsumer<IntentRecord>::create(
      settings_.instance, options_.intent_capacity, options_.max_producers);
  if (!intents) return std::unexpected(region_error("intent region", intents.error()));
  intents_.emplace(std::move(*intents));
  return {};
}

std::expected<void, ServeError> Server::open_kernel() {
  auto fsync = journal::parse_fsync_policy(settings_.journal_fsync);
  if (!fsync)
    return std::unexpected(error(ServeErrorKind::kUsage, journal::to_string(fsync.error())));
  std::optional<core::Kernel> kernel;
  std::optional<journal::JournalWriter> writer;
  std::error_code exists_error;
  if (std::filesystem::exists(journal_path_, exists_error)) {
    auto recovered = recover_kernel(journal_path_, config_);
    if (!recovered) {
      const auto kind =
          recovered.error().kind == RecoveryErrorKind::kConfigMismatch ? ServeErrorKind::kUsage
          : recovered.error().kind == RecoveryErrorKind::kIo           ? ServeErrorKind::kFailure
                                                             : ServeErrorKind::kJournalDamaged;
      return std::unexpected(error(kind, recovered.error().message));
    }
    auto appender = journal::JournalWriter::open_for_append(journal_path_, *fsync,
                                                            journal::TailRepair::kTruncateTornTail);
    if (!appender) {
      const auto kind = appender.error().kind == journal::JournalErrorKind::kLocked
                            ? ServeErrorKind::kInstanceBusy
                            : ServeErrorKind::kJournalDamaged;
      return std::unexpected(error(kind, "cannot append to journal " + journal_path_.string() +
                                             ": " + journal::to_string(appender.error())));
    }
    report_.recovered_inputs = recovered->inputs;
    report_.dropped_tail_bytes = recovered->cut_bytes + appender->dropped_tail_bytes();
    restart_index_ = recovered->serve_starts;
    for (const auto& [producer, seq] : recovered->applied_seqs) {
      if (producer >= intents_->queue().max_producers()) {
        say("warning: journal names producer " + std::to_string(producer) +
            " beyond this queue's max producers; its sequence is not restored");
        continue;
      }
      if (auto restored = intents_->queue().restore_applied(producer, seq); !restored) {
        return std::unexpected(region_error("intent region", restored.error()));
      }
    }
    say("recovered " + std::to_string(recovered->inputs) + " inputs from " +
        journal_path_.string() + ", dropped " + std::to_string(report_.dropped_tail_bytes) +
        " torn tail bytes, restored " + std::to_string(recovered->applied_seqs.size()) +
        " producer sequence(s)");
    if (recovered->kernel.active_slot_limit() != settings_.active_slot_limit) {
      say("active_slot_limit " + std::to_string(recovered->kernel.active_slot_limit()) +
          " comes from the journal (settings say " + std::to_string(settings_.active_slot_limit) +
          "); change it with `dita control set active_slot_limit N`");
    }
    journal_sequence_ = appender->last_sequence();
    kernel.emplace(std::move(recovered->kernel));
    writer.emplace(std::move(*appender));
  } else {
    if (journal_path_.has_parent_path()) {
      std::error_code ignored;
      std::filesystem::create_directories(journal_path_.parent_path(), ignored);
    }
    auto created = journal::JournalWriter::create(journal_path_, *fsync,
                                                  journal_metadata(config_, "dita serve"));
    if (!created) {
      return std::unexpected(
          error(ServeErrorKind::kFailure, "cannot create journal " + journal_path_.string() + ": " +
                                              journal::to_string(created.error())));
    }
    auto fresh = core::Kernel::create(config_);
    if (!fresh) {
      return std::unexpected(
          error(ServeErrorKind::kUsage,
                "invalid setting '" + fresh.error().setting + "': " + fresh.error().message));
    }
    kernel.emplace(std::move(*fresh));
    writer.emplace(std::move(*created));
    fresh_journal_ = true;
    say("created journal " + journal_path_.string() + " (order id prefix " +
        settings_.order_id_prefix + ")");
  }
  std::unique_ptr<venue::Venue> venue = std::move(started_venue_);
  if (!venue) {
    auto made = make_venue(settings_, config_, restart_index_);
    if (!made) return std::unexpected(made.error());
    venue = std::move(*made);
  }
  session_.emplace(std::move(*kernel), std::move(venue), std::move(*writer),
                   [this](const core::KernelInput& input, const core::KernelOutcome& outcome) {
                     // Session calls this once the input and its output are committed.
                     journal_sequence_ += 2;
                     ++report_.inputs;
                     log_outcome(input, outcome);
                     mirror(&outcome);
                     // Never blocks on a sink: the record goes to the pipeline's ring.
                     if (pipeline_) pipeline_->publish(input, outcome);
                   });
  for (std::size_t i = 0; i < DITA_STATE_MAX_SLOTS; ++i) image_->slots[i] = SlotImage{};
  const auto& k = session_->kernel();
  for (const core::TradeSlot& slot : k.slots()) {
    write_slot_image(slot, config_.order_id_prefix, image_->slots[slot.slot_id]);
  }
  write_account_image(k.account(), image_->account);
  return {};
}

std::expected<void, ServeError> Server::publish_startup_control() {
  // The kernel's journal is the authority for the slot limit; the other fields come from this
  // run's settings. A taken-over region still shows the previous run's snapshot: correct it
  // through a request of our own, so the change is sequenced like any other.
  const zinc::ControlSettings wanted =
      control_settings(settings_, session_->kernel().active_slot_limit());
  const zinc::ControlSettings previous = control_->applied().settings;
  if (previous != wanted) {
    auto seq = control_self_->request(wanted);
    if (!seq) return std::unexpected(region_error("control region", seq.error()));
    (void)control_->apply_pending();
  }
  effective_ = control_->applied().settings;
  const nlohmann::json changed = control_changes(previous, effective_);
  auto noted = note({{"type", "control"},
                     {"source", "startup"},
                     {"change_seq", control_->applied().change_seq},
                     {"settings", control_to_json(effective_)},
                     {"changed", changed}});
  if (!noted) return noted;
  record_control(changed, "startup");
  return {};
}

std::expected<void, ServeError> Server::feed(const core::KernelInput& input) {
  if (auto fed = session_->feed(input); !fed) {
    return std::unexpected(error(ServeErrorKind::kFailure, fed.error().message));
  }
  return {};
}

std::expected<void, ServeError> Server::note(const nlohmann::json& meta) {
  if (auto noted = session_->note(codec::canonical(meta)); !noted) {
    return std::unexpected(error(ServeErrorKind::kFailure, noted.error().message));
  }
  ++journal_sequence_;
  return {};
}

void Server::mirror(const core::KernelOutcome* outcome) {
  const core::Kernel& kernel = session_->kernel();
  if (outcome != nullptr) {
    for (const std::uint32_t id : outcome->changed_slots) {
      if (id < kernel.slot_count()) {
        write_slot_image(kernel.slot(id), config_.order_id_prefix, image_->slots[id]);
      }
    }
    if (outcome->account_changed) write_account_image(kernel.account(), image_->account);
  }
  publish_state(DITA_STATE_STATUS_RUNNING);
}

void Server::publish_state(std::uint32_t status) {
  dita_state_header& header = image_->header;
  if (session_) write_kernel_header(session_->kernel(), header);
  header.layout_version = DITA_STATE_LAYOUT_VERSION;
  header.journal_sequence = journal_sequence_;
  header.updated_real_ns = wall_clock_ns();
  header.kernel_pid = static_cast<std::int32_t>(::getpid());
  header.intents_handled = report_.intents_handled;
  header.control_change_seq = control_ ? control_->applied().change_seq : 0;
  header.status = status;
  state_->publish(*image_);  // write-through, then readers are woken
}

void Server::log_outcome(const core::KernelInput& input, const core::KernelOutcome& outcome) {
  if (options_.log == nullptr) return;
  const bool trace = effective_.verbosity == zinc::KernelVerbosity::Trace ||
                     effective_.mode == zinc::KernelMode::Debug;
  const codec::CodecContext context{config_.order_id_prefix};
  if (trace) {
    *options_.log << "input " << codec::encode_input(input, context) << '\n'
                  << "outcome " << codec::encode_outcome(outcome, context) << std::endl;
    return;
  }
  const bool verbose = effective_.verbosity == zinc::KernelVerbosity::Verbose;
  if (verbose || effective_.trace_transitions) {
    for (const auto& t : outcome.transitions) {
      *options_.log << "slot " << t.slot << " trade " << t.trade_id << ": "
                    << core::to_string(t.from) << " -> " << core::to_string(t.to) << " on "
                    << core::to_string(t.trigger) << '\n';
    }
  }
  if (verbose) {
    for (const auto& d : outcome.diagnostics) {
      *options_.log << core::to_string(d.severity) << ' ' << core::to_string(d.code);
      if (d.slot != core::kNoSlot) *options_.log << " slot " << d.slot;
      *options_.log << ": " << d.message << '\n';
    }
  }
  options_.log->flush();
}

void Server::heartbeat() {
  state_->region().heartbeat();
  control_->region().heartbeat();
  intents_->queue().region().heartbeat();
  if (refresh_sink_health() && session_) publish_state(DITA_STATE_STATUS_RUNNING);
}

std::expected<void, ServeError> Server::republish_journal(sink::SinkPipeline& pipeline,
                                                          core::Kernel& replayed,
                                                          std::uint64_t inputs) {
  auto reader = journal::JournalReader::open(journal_path_);
  if (!reader) {
    return std::unexpected(error(ServeErrorKind::kFailure, "sinks: cannot re-read the journal: " +
                                                               journal::to_string(reader.error())));
  }
  const codec::CodecContext context{config_.order_id_prefix};
  core::KernelOutcome outcome;
  outcome.reserve(replayed.slot_count());
  while (replayed.inputs_processed() < inputs) {
    auto record = reader->next();
    if (!record || !*record) {
      return std::unexpected(
          error(ServeErrorKind::kFailure, "sinks: the journal ended before input " +
                                              std::to_string(inputs) + " while re-publishing"));
    }
    if ((*record)->type != journal::RecordType::kInput) continue;
    auto input = codec::decode_input((*record)->payload, context);
    if (!input) {
      return std::unexpected(error(ServeErrorKind::kFailure,
                                   "sinks: journal input " + std::to_string((*record)->sequence) +
                                       " does not decode: " + input.error().message));
    }
    replayed.process(*input, outcome);
    pipeline.publish(*input, outcome);
  }
  return {};
}

std::expected<void, ServeError> Server::open_sinks() {
  if (!sink_settings_.any()) return {};
  const sink::PipelineConfig config =
      pipeline_config(sink_settings_, control_settings(settings_, settings_.active_slot_limit),
                      config_.order_id_prefix);
  std::error_code ignored;
  std::filesystem::create_directories(config.spool_dir, ignored);
  const core::Kernel& kernel = session_->kernel();
  // A recovered journal is re-published from its first input through a fresh kernel: inputs
  // the spool already holds only rebuild the projection's images, and inputs a crash kept
  // from the spool are spooled now, so the sinks miss nothing.
  std::optional<core::Kernel> replayed;
  if (!fresh_journal_ && kernel.inputs_processed() > 0) {
    auto empty = core::Kernel::create(config_);
    if (!empty) {
      return std::unexpected(error(ServeErrorKind::kFailure, "sinks: " + empty.error().message));
    }
    replayed.emplace(std::move(*empty));
  }
  auto pipeline =
      sink::SinkPipeline::create(config, replayed ? *replayed : kernel, wall_clock_ns());
  if (!pipeline) {
    return std::unexpected(error(
        ServeErrorKind::kFailure,
        "sinks: cannot start (spool " + config.spool_dir.string() + "): " + pipeline.error()));
  }
  const std::uint64_t spooled = (*pipeline)->last_spooled_input_seq();
  if (spooled > kernel.inputs_processed()) {
    // Its records would hide this journal's rows (same row ids) and be skipped on publish.
    (*pipeline)->stop();
    return std::unexpected(error(
        ServeErrorKind::kUsage,
        "sinks: spool " + config.spool_dir.string() + " holds records up to kernel input " +
            std::to_string(spooled) + " but journal " + journal_path_.string() + " has " +
            std::to_string(kernel.inputs_processed()) + (fresh_journal_ ? " (a new journal)" : "") +
            "; it belongs to another journal: use another DITA_V2_SPOOL_DIR and DITA_V2_STRATEGY"));
  }
  if (replayed) {
    if (auto republished = republish_journal(**pipeline, *replayed, kernel.inputs_processed());
        !republished) {
      (*pipeline)->stop();
      return std::unexpected(republished.error());
    }
    if (spooled < kernel.inputs_processed()) {
      say("sinks: " + std::to_string(kernel.inputs_processed() - spooled) +
          " journaled input(s) had not reached the spool (the last run did not stop cleanly); "
          "spooled them from the journal");
    }
  }
  say("sinks: strategy " + sink_settings_.strategy + ", spool " + config.spool_dir.string() +
      ", mode " + std::string(core::to_string(config.projection.mode)) + ", clickhouse " +
      (config.clickhouse.enabled
           ? sink_settings_.clickhouse_host + ":" + std::to_string(sink_settings_.clickhouse_port)
           : std::string("off")) +
      ", hazelcast " +
      (config.hazelcast.enabled
           ? sink_settings_.hazelcast_host + ":" + std::to_string(sink_settings_.hazelcast_port)
       : sink_settings_.hazelcast ? std::string("off (mirror_to_hazelcast is false)")
                                  : std::string("off")));
  pipeline_ = std::move(*pipeline);
  (void)refresh_sink_health();
  return {};
}

void Server::record_control(const nlohmann::json& changed, const std::string& actor) {
  if (!pipeline_) return;
  for (const auto& [key, change] : changed.items()) {
    // A limit change arrives as a kernel input, which the projection records itself.
    if (key == "active_slot_limit") continue;
    sink::ControlChange row;
    row.seq = journal_sequence_;  // the META record of the change: unique per journal
    row.origin = "journal/" + key;
    row.ts_ns = wall_clock_ns();
    row.control = key;
    const auto text = [](const nlohmann::json& value) {
      return value.is_string() ? value.get<std::string>() : value.dump();
    };
    row.old_value = text(change.at("from"));
    row.new_value = text(change.at("to"));
    row.actor = actor;
    pipeline_->record_control_change(std::move(row));
  }
}

bool Server::refresh_sink_health() {
  if (!pipeline_) return false;
  const sink::PipelineHealth health = pipeline_->health();
  bool changed = false;
  for (const sink::SinkHealth& from : health.sinks) {
    const std::size_t index = from.name == "clickhouse"  ? DITA_STATE_SINK_CLICKHOUSE
                              : from.name == "hazelcast" ? DITA_STATE_SINK_HAZELCAST
                                                         : DITA_STATE_SINK_COUNT;
    if (index >= DITA_STATE_SINK_COUNT) continue;
    SinkImage next{};
    next.state = static_cast<std::uint32_t>(from.state);
    next.spool_depth = from.spool_depth;
    next.delivered_records = from.delivered_records;
    next.failures = from.failures;
    next.consecutive_failures = from.consecutive_failures;
    copy_text(from.last_error, next.last_error, sizeof(next.last_error));
    if (std::memcmp(&next, &image_->sinks[index], sizeof(next)) != 0) {
      image_->sinks[index] = next;
      changed = true;
    }
  }
  return changed;
}

void Server::stop_sinks(bool flush) {
  if (!pipeline_) return;
  if (flush && !pipeline_->flush(kSinkFlushTimeout)) {
    say("sinks: not everything was delivered within " + std::to_string(kSinkFlushTimeout.count()) +
        " ms; the rest stays in the spool");
  }
  pipeline_->stop();
  (void)refresh_sink_health();
}

std::expected<void, ServeError> Server::handle_intent(const zinc::Intent<IntentRecord>& entry) {
  const auto& meta = entry.meta;
  ++report_.intents_handled;
  auto intent = intent_from_record(entry.payload, meta.producer_id, meta.producer_seq);
  if (!intent) {
    // Undecodable bytes never reach the kernel; the refusal is journaled (recovery counts
    // the sequence as applied) and the entry is consumed.
    say("intent from producer " + std::to_string(meta.producer_id) + " seq " +
        std::to_string(meta.producer_seq) + " rejected: " + intent.error().describe());
    auto noted = note({{"type", "intent_rejected"},
                       {"producer_id", meta.producer_id},
                       {"producer_seq", meta.producer_seq},
                       {"field", intent.error().field},
                       {"message", intent.error().message},
                       {"record", to_json(entry.payload)}});
    if (!noted) return noted;
    publish_state(DITA_STATE_STATUS_RUNNING);
  } else if (auto fed = feed({wall_clock_ns(), *intent}); !fed) {
    return fed;
  }
  // Only now, with the journal holding the intent, may the queue forget it.
  if (auto committed = intents_->commit(entry); !committed) {
    return std::unexpected(region_error("intent region", committed.error()));
  }
  return {};
}

std::expected<void, ServeError> Server::reject_control_request(const zinc::ControlRequest& request,
                                                               std::string reason) {
  // ControlKernel can only refuse undecodable fields, so the kernel's own refusals (values the
  // region can hold but this kernel cannot apply) are answered with a request of ours carrying
  // an out-of-range mode: the region then answers REJECTED with the settings unchanged, and
  // the operator waiting for request_seq sees it answered.
  say("control request " + std::to_string(request.request_seq) + " from pid " +
      std::to_string(request.requester_pid) + " rejected: " + reason);
  dita_zinc_control_settings poison = zinc::encode(effective_);
  poison.mode = 0xFF;
  auto seq = control_self_->request_raw(poison);
  if (!seq) return std::unexpected(region_error("control region", seq.error()));
  (void)control_->apply_pending();
  return note({{"type", "control"},
               {"source", "operator"},
               {"status", "REJECTED"},
               {"request_seq", request.request_seq},
               {"requester_pid", request.requester_pid},
               {"reason", std::move(reason)}});
}

std::expected<void, ServeError> Server::apply_control() {
  const auto request = control_->pending_request();
  if (!request) return {};
  auto decoded = zinc::decode(request->settings);
  if (decoded) {
    if (decoded->backend != effective_.backend) {
      return reject_control_request(
          *request, "backend: the venue cannot change while serving (restart with --venue)");
    }
    if (decoded->active_slot_limit > session_->kernel().slot_count()) {
      return reject_control_request(
          *request, "active_slot_limit: " + std::to_string(decoded->active_slot_limit) +
                        " exceeds slot_count " + std::to_string(session_->kernel().slot_count()));
    }
  }
  const zinc::ControlSettings before = effective_;
  const auto applied = control_->apply_pending();
  if (!applied) return {};
  nlohmann::json meta = {{"type", "control"},
                         {"source", "operator"},
                         {"status", std::string(zinc::to_string(applied->status))},
                         {"request_seq", applied->request_seq},
                         {"requester_pid", request->requester_pid},
                         {"change_seq", applied->change_seq}};
  if (applied->status == zinc::ControlStatus::Rejected) {
    const std::string reason = decoded ? std::string() : decoded.error().describe();
    meta["reason"] = reason;
    say("control request " + std::to_string(applied->request_seq) + " rejected: " + reason);
    return note(meta);
  }
  effective_ = applied->settings;
  ++report_.control_changes;
  meta["settings"] = control_to_json(effective_);
  meta["changed"] = control_changes(before, effective_);
  say("control change " + std::to_string(applied->change_seq) + ": " + meta["changed"].dump());
  if (auto noted = note(meta); !noted) return noted;
  record_control(meta["changed"], "operator pid " + std::to_string(request->requester_pid));
  if (pipeline_ &&
      (meta["changed"].contains("mode") || meta["changed"].contains("debug_clickhouse_enabled") ||
       meta["changed"].contains("mirror_to_hazelcast"))) {
    say("note: the sinks keep the mode and Hazelcast mirroring they started with; the change "
        "applies to them on the next start");
  }
  if (effective_.active_slot_limit != session_->kernel().active_slot_limit()) {
    // The limit is kernel state: it changes through a journaled kernel input.
    if (auto fed = feed({wall_clock_ns(), core::SetActiveSlotLimit{effective_.active_slot_limit}});
        !fed) {
      return fed;
    }
  } else {
    publish_state(DITA_STATE_STATUS_RUNNING);
  }
  return {};
}

std::expected<void, ServeError> Server::loop() {
  auto next_tick = Clock::now() + options_.tick_interval;
  auto next_heartbeat = Clock::now();
  std::vector<core::VenueEvent> events;
  while (options_.stop == nullptr || !options_.stop->load(std::memory_order_relaxed)) {
    const auto now = Clock::now();
    if (now >= next_heartbeat) {
      heartbeat();
      next_heartbeat = now + options_.heartbeat_interval;
    }
    // Control changes apply between inputs, never inside one.
    if (auto applied = apply_control(); !applied) return applied;
    // Events an asynchronous venue produced on its own (the mock answers inside feed()).
    events.clear();
    session_->venue().drain(events);
    for (const core::VenueEvent& event : events) {
      if (auto fed = feed({wall_clock_ns(), event}); !fed) return fed;
    }
    auto entry = intents_->peek();
    if (!entry) return std::unexpected(region_error("intent region", entry.error()));
    if (*entry) {
      if (auto handled = handle_intent(**entry); !handled) return handled;
      continue;
    }
    if (now >= next_tick) {
      // Ticks matter only while an order can hang; skipping them otherwise keeps an idle
      // server's journal from growing.
      if (has_working_order(session_->kernel())) {
        if (auto fed = feed({wall_clock_ns(), core::Tick{}}); !fed) return fed;
      }
      next_tick = now + options_.tick_interval;
    }
    const auto until_tick = std::chrono::duration_cast<std::chrono::nanoseconds>(next_tick - now);
    auto wait =
        std::clamp(until_tick, std::chrono::nanoseconds(0), std::chrono::nanoseconds(kMaxWait));
    if (bingx_ != nullptr) {
      // Events queued while this iteration ran: take them now rather than sleep.
      pollfd ready{bingx_->event_fd(), POLLIN, 0};
      if (::poll(&ready, 1, 0) > 0) continue;
      wait = std::min(wait, std::chrono::nanoseconds(kMaxVenueWait));
    }
    (void)intents_->wait_for_entry(wait);  // Timeout is the ordinary idle case
  }
  return {};
}

std::expected<void, ServeError> Server::choose_venue() {
  // The order id prefix: a recovered journal keeps its own (unless the operator set one other
  // than the default, which recovery then checks); a new journal on BingX gets one of its own.
  const bool explicit_prefix = settings_.order_id_prefix != Settings{}.order_id_prefix;
  std::error_code exists_error;
  const bool journal_exists = std::filesystem::exists(journal_path_, exists_error);
  if (journal_exists && !explicit_prefix) {
    if (auto prefix = journal_order_id_prefix(journal_path_)) settings_.order_id_prefix = *prefix;
  } else if (!journal_exists && !explicit_prefix && settings_.venue == core::BackendMode::kBingx) {
    settings_.order_id_prefix = mint_order_id_prefix();
  }
  config_ = kernel_config(settings_);
  if (settings_.venue == core::BackendMode::kBingx) {
    // Started once, before the kernel: its contracts are the kernel's instruments, which the
    // journal's configuration records (recovery compares them).
    auto venue = make_bingx_venue(settings_.order_id_prefix);
    if (!venue) return std::unexpected(venue.error());
    bingx_ = venue->get();
    config_.instruments = bingx_->instruments();
    started_venue_ = std::move(*venue);
  }
  if (auto checked = core::Kernel::create(config_); !checked) {
    return std::unexpected(
        error(ServeErrorKind::kUsage,
              "invalid setting '" + checked.error().setting + "': " + checked.error().message));
  }
  if (!started_venue_) {
    // The venue is checked before the journal is touched, so a bad venue fails cleanly.
    if (auto probe = make_venue(settings_, config_, 0); !probe) {
      return std::unexpected(probe.error());
    }
  }
  return {};
}

std::expected<ServeReport, ServeError> Server::run() {
  settings_ = options_.settings;
  journal_path_ = options_.journal_path.empty() ? default_journal_path(settings_.instance)
                                                : options_.journal_path;
  auto sinks = load_sink_settings(process_env(), settings_.instance);
  if (!sinks) return std::unexpected(error(ServeErrorKind::kUsage, sinks.error().describe()));
  sink_settings_ = std::move(*sinks);
  // Regions first: a live server of this instance refuses us before the venue is contacted.
  if (auto taken = take_regions(); !taken) return std::unexpected(taken.error());
  if (auto chosen = choose_venue(); !chosen) {
    publish_state(DITA_STATE_STATUS_STOPPED);
    return std::unexpected(chosen.error());
  }
  if (auto opened = open_kernel(); !opened) {
    publish_state(DITA_STATE_STATUS_STOPPED);
    return std::unexpected(opened.error());
  }
  if (auto sinks_opened = open_sinks(); !sinks_opened) {
    (void)session_->close();
    publish_state(DITA_STATE_STATUS_STOPPED);
    return std::unexpected(sinks_opened.error());
  }
  const auto started = note({{"type", "serve_start"},
                             {"instance", settings_.instance},
                             {"pid", ::getpid()},
                             {"restart_index", restart_index_},
                             {"venue", std::string(core::to_string(settings_.venue))},
                             {"order_id_prefix", settings_.order_id_prefix},
                             {"recovered_inputs", report_.recovered_inputs},
                             {"dropped_tail_bytes", report_.dropped_tail_bytes},
                             {"mock_seed", settings_.seed + restart_index_},
                             {"intent_capacity", intents_->queue().capacity()},
                             {"max_producers", intents_->queue().max_producers()}});
  std::expected<void, ServeError> outcome = started;
  if (outcome) outcome = publish_startup_control();
  if (outcome && !session_->kernel().account().seeded &&
      session_->kernel().account().trade_seq == 0) {
    core::Money capital = core::Money::from_units(options_.capital_units);
    if (bingx_ != nullptr) {
      // On BingX the account's balance is the capital (--capital is the mock's stand-in).
      auto balance = bingx_->fetch_balance();
      if (balance) {
        capital = *balance;
        say("capital seeded from the BingX balance: " + core::to_string(capital));
      } else {
        outcome = std::unexpected(error(
            ServeErrorKind::kFailure,
            "venue BINGX: cannot fetch the balance to seed capital: " + balance.error().message));
      }
    }
    if (outcome) outcome = feed({wall_clock_ns(), core::SeedCapital{capital}});
  }
  // The mock venue has no market data: --mark gives it (and the kernel, journaled as
  // MARK_PRICE) the reference price market orders fill at.
  for (const auto& [symbol, price] : options_.marks) {
    if (!outcome) break;
    session_->venue().set_mark(symbol, price);
    core::VenueEvent mark;
    mark.kind = core::KernelEventKind::kMarkPrice;
    mark.symbol = symbol;
    mark.mark_price = price;
    outcome = feed({wall_clock_ns(), mark});
  }
  if (outcome) {
    publish_state(DITA_STATE_STATUS_RUNNING);
    heartbeat();
    say("instance " + settings_.instance + " ready (pid " + std::to_string(::getpid()) +
        ", journal " + journal_path_.string() + ", venue " +
        std::string(core::to_string(settings_.venue)) + ")");
    outcome = loop();
  }
  if (!outcome) {
    say("stopping after a failure: " + outcome.error().message);
    (void)session_->close();
    stop_sinks(false);
    publish_state(DITA_STATE_STATUS_STOPPED);
    return std::unexpected(outcome.error());
  }
  // Clean shutdown: the current input is finished; make the journal final, give the sinks a
  // bounded time to deliver (the rest stays spooled), then tell readers.
  auto stopped = note({{"type", "serve_stop"}, {"pid", ::getpid()}, {"inputs", report_.inputs}});
  auto closed = session_->close();
  stop_sinks(true);
  publish_state(DITA_STATE_STATUS_STOPPED);
  (void)state_->region().close_cleanly();
  (void)control_->region().close_cleanly();
  (void)intents_->queue().region().close_cleanly();
  if (!stopped) return std::unexpected(stopped.error());
  if (!closed) return std::unexpected(error(ServeErrorKind::kFailure, closed.error().message));
  say("stopped cleanly after " + std::to_string(report_.inputs) + " inputs");
  return report_;
}

}  // namespace

std::filesystem::path default_journal_path(std::string_view instance) {
  return std::filesystem::path("var/journals") / (std::string(instance) + ".journal");
}

std::expected<std::unique_ptr<venue::Venue>, ServeError> make_venue(
    const Settings& settings, const core::KernelConfig& config, std::uint64_t restart_index) {
  switch (settings.venue) {
    case core::BackendMode::kMock:
      return std::make_unique<venue::MockVenue>(
          venue::MockVenueConfig{settings.seed + restart_index, 5, config.instruments});
    case core::BackendMode::kBingx: {
      // Configured from DITA_V2_BINGX_* and started (clock, position mode, contracts, threads).
      auto venue = make_bingx_venue(config.order_id_prefix);
      if (!venue) return std::unexpected(venue.error());
      return std::unique_ptr<venue::Venue>(std::move(*venue));
    }
  }
  return std::unexpected(error(ServeErrorKind::kUsage, "unknown venue"));
}

std::expected<ServeReport, ServeError> serve(const ServeOptions& options) {
  Server server(options);
  return server.run();
}

const std::atomic<bool>& install_stop_signal_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: a sleeping futex wait returns at once
  ::sigaction(SIGTERM, &action, nullptr);
  ::sigaction(SIGINT, &action, nullptr);
  return g_stop_requested;
}

const std::vector<std::string_view>& control_keys() {
  static const std::vector<std::string_view> keys = {"mode",
                                                     "verbosity",
                                                     "backend",
                                                     "debug_clickhouse_enabled",
                                                     "trace_transitions",
                                                     "mirror_to_hazelcast",
                                                     "active_slot_limit",
                                                     "reconcile_on_restart"};
  return keys;
}

std::expected<void, SettingError> apply_control_setting(zinc::ControlSettings& control,
                                                        std::string_view key,
                                                        std::string_view value) {
  const std::string_view name = key == "venue" ? std::string_view("backend") : key;
  const auto& keys = control_keys();
  if (std::find(keys.begin(), keys.end(), name) == keys.end()) {
    std::string known;
    for (const auto k : keys) {
      if (!known.empty()) known += ", ";
      known += k;
    }
    return std::unexpected(SettingError{std::string(key), "argument KEY",
                                        "not a control setting; control settings: " + known});
  }
  Settings scratch;
  const std::string_view settings_name = name == "backend" ? std::string_view("venue") : name;
  if (auto applied = apply_setting(scratch, settings_name, value, "argument VALUE"); !applied) {
    SettingError failure = applied.error();
    failure.setting = std::string(name);
    return std::unexpected(failure);
  }
  copy_control_field(name, scratch, control);
  return {};
}

zinc::ControlSettings control_settings(const Settings& settings, std::uint32_t active_slot_limit) {
  zinc::ControlSettings out;
  out.mode = static_cast<zinc::KernelMode>(settings.mode);
  out.verbosity = static_cast<zinc::KernelVerbosity>(settings.verbosity);
  out.backend = static_cast<zinc::BackendMode>(settings.venue);
  out.debug_clickhouse_enabled = settings.debug_clickhouse_enabled;
  out.trace_transitions = settings.trace_transitions;
  out.mirror_to_hazelcast = settings.mirror_to_hazelcast;
  out.active_slot_limit = active_slot_limit;
  out.reconcile_on_restart = settings.reconcile_on_restart;
  return out;
}

nlohmann::json control_to_json(const zinc::ControlSettings& control) {
  nlohmann::json out;
  out["mode"] = std::string(zinc::to_string(control.mode));
  out["verbosity"] = std::string(zinc::to_string(control.verbosity));
  out["backend"] = std::string(zinc::to_string(control.backend));
  out["debug_clickhouse_enabled"] = control.debug_clickhouse_enabled;
  out["trace_transitions"] = control.trace_transitions;
  out["mirror_to_hazelcast"] = control.mirror_to_hazelcast;
  out["active_slot_limit"] = control.active_slot_limit;
  out["reconcile_on_restart"] = control.reconcile_on_restart;
  return out;
}

std::uint32_t default_producer_id(std::string_view instance, std::string_view user,
                                  std::uint32_t max_producers) {
  if (max_producers <= 1) return 0;
  std::uint32_t hash = 2166136261U;
  const auto mix = [&](std::string_view text) {
    for (const char c : text) {
      hash ^= static_cast<std::uint8_t>(c);
      hash *= 16777619U;
    }
  };
  mix(instance);
  mix("/");
  mix(user);
  return 1 + hash % (max_producers - 1);
}

}  // namespace dita::runtime
