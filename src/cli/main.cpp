// The `dita` command: run a scripted session, print a snapshot, replay a journal, print the
// FSM table. Exit codes (also in README and docs/cli.md):
//   0 success; 1 runtime failure (I/O, journal write); 2 usage or configuration error;
//   3 a script expectation failed, or replay diverged; 4 the journal is damaged.
#include <CLI/CLI.hpp>

#include <unistd.h>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>

#include "command_registry.hpp"
#include "dita/codec/json_codec.hpp"
#include "dita/core/fsm.hpp"
#include "dita/core/kernel.hpp"
#include "dita/runtime/script.hpp"
#include "dita/runtime/session.hpp"
#include "dita/runtime/settings.hpp"
#include "dita/venue/mock_venue.hpp"
#include "printer.hpp"

namespace {

using namespace dita;

using cli::kExitFailure;
using cli::kExitJournalDamaged;
using cli::kExitMismatch;
using cli::kExitOk;
using cli::kExitUsage;
constexpr std::int64_t kScriptEpochNs = 1'767'225'600'000'000'000;  // 2026-01-01T00:00:00Z

// Settings flags shared by every command; empty values are "not given".
struct SettingFlags {
  std::string config;
  std::string mode;
  std::string verbosity;
  std::string venue;
  std::string slot_count;
  std::string active_slot_limit;
  std::string journal_fsync;
  std::string seed;
  std::string instance;

  void attach(CLI::App& app) {
    app.add_option("--config", config, "TOML settings file (also $DITA_V2_CONFIG)");
    app.add_option("--mode", mode, "NORMAL or DEBUG ($DITA_V2_MODE)");
    app.add_option("--verbosity", verbosity, "QUIET, VERBOSE or TRACE ($DITA_V2_VERBOSITY)");
    app.add_option("--venue", venue, "mock or bingx ($DITA_V2_VENUE)");
    app.add_option("--slot-count", slot_count, "number of slots, 1-256 ($DITA_V2_SLOT_COUNT)");
    app.add_option("--active-slot-limit", active_slot_limit,
                   "slots that may trade at once ($DITA_V2_ACTIVE_SLOT_LIMIT)");
    app.add_option("--journal-fsync", journal_fsync,
                   "always, never or batch:N ($DITA_V2_JOURNAL_FSYNC)");
    app.add_option("--seed", seed, "mock venue seed ($DITA_V2_SEED)");
    app.add_option("--instance", instance, "instance name ($DITA_V2_INSTANCE)");
  }

  std::expected<runtime::Settings, runtime::SettingError> load() const {
    std::vector<std::pair<std::string, std::string>> flags;
    const auto add = [&](const char* name, const std::string& value) {
      if (!value.empty()) flags.emplace_back(name, value);
    };
    add("mode", mode);
    add("verbosity", verbosity);
    add("venue", venue);
    add("slot_count", slot_count);
    add("active_slot_limit", active_slot_limit);
    add("journal_fsync", journal_fsync);
    add("seed", seed);
    add("instance", instance);
    std::optional<std::filesystem::path> file;
    if (!config.empty()) file = config;
    return runtime::load_settings(file, runtime::process_env(), flags);
  }
};

std::string default_journal_path(const std::filesystem::path& script) {
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &utc);
  return "var/journals/" + script.stem().string() + "-" + stamp + "-" + std::to_string(getpid()) +
         ".journal";
}

std::optional<std::string> check_expectation(const runtime::Expectation& expect,
                                             const core::Kernel& kernel) {
  std::string problems;
  const auto add = [&](const std::string& what) {
    if (!problems.empty()) problems += "; ";
    problems += what;
  };
  if (expect.slot) {
    if (*expect.slot >= kernel.slot_count())
      return "slot " + std::to_string(*expect.slot) + " does not exist";
    const auto& slot = kernel.slot(*expect.slot);
    if (expect.stage && slot.stage != *expect.stage) {
      add("stage is " + std::string(core::to_string(slot.stage)) + ", expected " +
          std::string(core::to_string(*expect.stage)));
    }
    if (expect.size && slot.size != *expect.size) {
      add("size is " + core::to_string(slot.size) + ", expected " + core::to_string(*expect.size));
    }
    if (expect.realized_pnl && slot.realized_pnl != *expect.realized_pnl) {
      add("realized_pnl is " + core::to_string(slot.realized_pnl) + ", expected " +
          core::to_string(*expect.realized_pnl));
    }
  }
  const auto& account = kernel.account();
  if (expect.capital && account.capital != *expect.capital) {
    add("capital is " + core::to_string(account.capital) + ", expected " +
        core::to_string(*expect.capital));
  }
  if (expect.trade_seq && account.trade_seq != *expect.trade_seq) {
    add("trade_seq is " + std::to_string(account.trade_seq) + ", expected " +
        std::to_string(*expect.trade_seq));
  }
  if (problems.empty()) return std::nullopt;
  return problems;
}

int run_command(const runtime::Settings& settings, const std::string& script_path,
                std::string journal_path) {
  if (settings.venue != core::BackendMode::kMock) {
    std::cerr
        << "dita run: venue " << core::to_string(settings.venue)
        << " cannot run a scripted session; scripts drive the mock venue (use --venue mock)\n";
    return kExitUsage;
  }
  std::ifstream script_file(script_path);
  if (!script_file) {
    std::cerr << "dita run: cannot read script " << script_path << '\n';
    return kExitUsage;
  }
  auto steps = runtime::parse_script(script_file);
  if (!steps) {
    std::cerr << "dita run: " << script_path << ": " << steps.error().describe() << '\n';
    return kExitUsage;
  }
  auto fsync = journal::parse_fsync_policy(settings.journal_fsync);
  if (!fsync) {
    std::cerr << "dita run: " << journal::to_string(fsync.error()) << '\n';
    return kExitUsage;
  }
  const core::KernelConfig config = runtime::kernel_config(settings);
  auto kernel = core::Kernel::create(config);
  if (!kernel) {
    std::cerr << "dita run: invalid setting '" << kernel.error().setting
              << "': " << kernel.error().message << '\n';
    return kExitUsage;
  }
  if (journal_path.empty()) journal_path = default_journal_path(script_path);
  const std::filesystem::path journal_file(journal_path);
  if (journal_file.has_parent_path()) {
    std::error_code ignored;
    std::filesystem::create_directories(journal_file.parent_path(), ignored);
  }
  auto writer = journal::JournalWriter::create(journal_file, *fsync,
                                               runtime::journal_metadata(config, "dita run"));
  if (!writer) {
    std::cerr << "dita run: cannot create journal " << journal_path << ": "
              << journal::to_string(writer.error()) << '\n';
    return kExitFailure;
  }
  auto mock = std::make_unique<venue::MockVenue>(
      venue::MockVenueConfig{settings.seed, 5, config.instruments});
  venue::MockVenue* mock_venue = mock.get();
  const codec::CodecContext context{settings.order_id_prefix};
  const cli::OutcomePrinter printer(std::cout, settings.verbosity, settings.mode, context);
  const core::Kernel* kernel_view = nullptr;
  runtime::Session session(std::move(*kernel), std::move(mock), std::move(*writer),
                           [&](const core::KernelInput& input, const core::KernelOutcome& outcome) {
                             printer.print(input, outcome, *kernel_view);
                           });
  kernel_view = &session.kernel();

  std::int64_t now = kScriptEpochNs;
  int failures = 0;
  for (const runtime::ScriptStep& step : *steps) {
    const auto fed = runtime::feed_script_step(session, *mock_venue, step, now);
    if (const auto* expect = std::get_if<runtime::Expectation>(&step.action)) {
      if (const auto problem = check_expectation(*expect, session.kernel())) {
        std::cout << "EXPECTATION FAILED (script line " << step.line << "): " << *problem << '\n';
        ++failures;
      } else if (settings.verbosity != core::KernelVerbosity::kQuiet) {
        std::cout << "expectation met (script line " << step.line << ")\n";
      }
    }
    if (!fed) {
      std::cerr << "dita run: " << fed.error().message << '\n';
      return kExitFailure;
    }
  }
  if (auto closed = session.close(); !closed) {
    std::cerr << "dita run: " << closed.error().message << '\n';
    return kExitFailure;
  }
  printer.summary(session.kernel());
  std::cout << "journal: " << journal_path << '\n';
  if (failures > 0) {
    std::cout << failures << " expectation(s) failed\n";
    return kExitMismatch;
  }
  return kExitOk;
}

nlohmann::json snapshot_json(const core::Kernel& kernel, const runtime::Settings& settings) {
  nlohmann::json out;
  nlohmann::json control;
  for (const auto& [name, value] : runtime::describe(settings)) control[name] = value;
  control["active_slot_limit"] = std::to_string(kernel.active_slot_limit());
  out["control"] = control;
  nlohmann::json slots = nlohmann::json::array();
  const codec::CodecContext context{kernel.config().order_id_prefix};
  for (const auto& slot : kernel.slots()) slots.push_back(codec::to_json(slot, context));
  out["slots"] = slots;
  out["account"] = codec::to_json(kernel.account());
  out["inputs_processed"] = kernel.inputs_processed();
  return out;
}

int once_command(const runtime::Settings& settings, bool as_json, const std::string& journal_path) {
  std::optional<nlohmann::json> snapshot;
  if (!journal_path.empty()) {
    auto report = runtime::replay_journal(journal_path, [&](const core::Kernel& kernel) {
      snapshot = snapshot_json(kernel, settings);
    });
    if (!report) {
      std::cerr << "dita once: " << report.error().message << '\n';
      return kExitFailure;
    }
    if (!report->identical()) {
      std::cerr << "dita once: journal " << journal_path
                << " does not replay cleanly; run `dita replay` for details\n";
      return report->journal_error ? kExitJournalDamaged : kExitMismatch;
    }
  } else {
    auto kernel = core::Kernel::create(runtime::kernel_config(settings));
    if (!kernel) {
      std::cerr << "dita once: invalid setting '" << kernel.error().setting
                << "': " << kernel.error().message << '\n';
      return kExitUsage;
    }
    snapshot = snapshot_json(*kernel, settings);
  }
  if (as_json) {
    std::cout << snapshot->dump() << '\n';
    return kExitOk;
  }
  std::cout << "control:\n";
  for (const auto& [name, value] : snapshot->at("control").items()) {
    std::cout << "  " << name << " = " << value.get<std::string>() << '\n';
  }
  std::cout << "slots:\n";
  for (const auto& slot : snapshot->at("slots")) {
    std::cout << "  [" << slot["slot"].get<std::uint32_t>() << "] "
              << slot["stage"].get<std::string>();
    if (slot["trade_id"].get<std::uint32_t>() != 0) {
      std::cout << "  trade " << slot["trade_id"] << ' ' << slot["asset"].get<std::string>() << ' '
                << slot["side"].get<std::string>() << "  size " << slot["size"].get<std::string>()
                << "  entry " << slot["entry_price"].get<std::string>() << "  realized "
                << slot["realized_pnl"].get<std::string>() << "  unrealized "
                << slot["unrealized_pnl"].get<std::string>();
    }
    std::cout << '\n';
  }
  std::cout << "account:\n";
  for (const auto& [name, value] : snapshot->at("account").items()) {
    std::cout << "  " << name << " = "
              << (value.is_string() ? value.get<std::string>() : value.dump()) << '\n';
  }
  return kExitOk;
}

int replay_command(const std::string& path) {
  auto report = runtime::replay_journal(path);
  if (!report) {
    std::cerr << "dita replay: " << report.error().message << '\n';
    return kExitFailure;
  }
  std::cout << "replayed " << report->inputs << " inputs, compared " << report->outputs_compared
            << " outputs\n";
  if (report->divergence) {
    const auto& d = *report->divergence;
    std::cout << "DIVERGED at output record " << d.record_sequence << " (kernel input "
              << d.input_seq << ")\n  journal: " << d.expected << "\n  replay:  " << d.actual
              << '\n';
    return kExitMismatch;
  }
  if (report->journal_error) {
    std::cout << "JOURNAL DAMAGED: " << journal::to_string(*report->journal_error) << '\n';
    return kExitJournalDamaged;
  }
  if (!report->problem.empty()) {
    std::cout << "JOURNAL INCOMPLETE: " << report->problem << '\n';
    return kExitJournalDamaged;
  }
  std::cout << "identical: every output is byte-identical\n";
  return kExitOk;
}

int fsm_command(bool markdown) {
  const auto& table = core::fsm_table();
  if (markdown) {
    std::cout << "| stage | input | action | outcome |\n|---|---|---|---|\n";
  }
  for (std::size_t s = 0; s < table.size(); ++s) {
    for (std::size_t i = 0; i < table[s].size(); ++i) {
      const auto& cell = table[s][i];
      const auto stage = core::to_string(static_cast<core::TradeStage>(s));
      const auto input = core::to_string(static_cast<core::FsmInput>(i));
      std::string action(core::to_string(cell.action));
      if (cell.action == core::FsmAction::kDiagnose)
        action += " " + std::string(core::to_string(cell.code));
      if (markdown) {
        std::cout << "| " << stage << " | " << input << " | " << action << " | " << cell.outcome
                  << " |\n";
      } else {
        std::cout << stage << '\t' << input << '\t' << action << '\t' << cell.outcome << '\n';
      }
    }
  }
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"dita: deterministic execution kernel for perpetual swaps"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "dita 0.1.0");

  SettingFlags run_flags;
  std::string script;
  std::string journal_path;
  auto* run =
      app.add_subcommand("run", "Feed a scripted session through the kernel and the mock venue");
  run_flags.attach(*run);
  run->add_option("--script", script, "JSONL session script (see examples/)")->required();
  run->add_option("--journal", journal_path,
                  "journal file to create (default var/journals/<script>-<time>.journal)");

  SettingFlags once_flags;
  bool once_json = false;
  std::string once_journal;
  auto* once =
      app.add_subcommand("once", "Print a snapshot of slots, account and control settings");
  once_flags.attach(*once);
  once->add_flag("--json", once_json, "one JSON object with control, slots and account");
  once->add_option("--journal", once_journal, "replay this journal first and show its final state");

  std::string replay_path;
  auto* replay = app.add_subcommand(
      "replay", "Re-run a journal's inputs and compare every output byte for byte");
  replay->add_option("FILE", replay_path, "journal file")->required();

  bool markdown = false;
  auto* fsm = app.add_subcommand("fsm", "Print the slot state machine table");
  fsm->add_flag("--markdown", markdown, "as a Markdown table (docs/fsm.md)");

  // Commands defined in their own files (serve, intent, status, control, smoke, ...).
  std::vector<cli::RegisteredCommand> registered;
  for (const cli::CommandFactory factory : cli::command_registry())
    registered.push_back(factory(app));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int code = app.exit(error);
    return code == 0 ? kExitOk : kExitUsage;
  }

  const auto settings_or_exit =
      [](const SettingFlags& flags) -> std::expected<runtime::Settings, int> {
    auto settings = flags.load();
    if (!settings) {
      std::cerr << "dita: " << settings.error().describe() << '\n';
      return std::unexpected(kExitUsage);
    }
    return *settings;
  };
  if (run->parsed()) {
    auto settings = settings_or_exit(run_flags);
    if (!settings) return settings.error();
    return run_command(*settings, script, journal_path);
  }
  if (once->parsed()) {
    auto settings = settings_or_exit(once_flags);
    if (!settings) return settings.error();
    return once_command(*settings, once_json, once_journal);
  }
  if (replay->parsed()) return replay_command(replay_path);
  if (fsm->parsed()) return fsm_command(markdown);
  for (const auto& command : registered) {
    if (command.subcommand->parsed()) return command.run();
  }
  return kExitUsage;
}
