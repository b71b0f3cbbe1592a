// `dita serve`: the long-running kernel process of one instance (see dita/runtime/serve.hpp
// and docs/operator.md). Exit codes: 0 clean shutdown (SIGTERM/SIGINT); 1 runtime failure;
// 2 usage/configuration error or the instance is served by a live process; 4 the journal
// cannot be recovered.
#include <charconv>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "command_registry.hpp"
#include "dita/core/fixed_point.hpp"
#include "dita/runtime/serve.hpp"
#include "dita/runtime/settings.hpp"

namespace {

using namespace dita;

struct ServeFlags {
  std::string config;
  std::string mode;
  std::string verbosity;
  std::string venue;
  std::string slot_count;
  std::string active_slot_limit;
  std::string journal_fsync;
  std::string seed;
  std::string instance;
  std::string journal;
  std::uint32_t intent_capacity = 1024;
  std::uint32_t max_producers = 64;
  std::uint32_t tick_ms = 100;
  std::string capital = "10000";
  std::vector<std::string> marks;
};

int run_serve(const ServeFlags& flags) {
  std::vector<std::pair<std::string, std::string>> given;
  const auto add = [&](const char* name, const std::string& value) {
    if (!value.empty()) given.emplace_back(name, value);
  };
  add("mode", flags.mode);
  add("verbosity", flags.verbosity);
  add("venue", flags.venue);
  add("slot_count", flags.slot_count);
  add("active_slot_limit", flags.active_slot_limit);
  add("journal_fsync", flags.journal_fsync);
  add("seed", flags.seed);
  add("instance", flags.instance);
  std::optional<std::filesystem::path> file;
  if (!flags.config.empty()) file = flags.config;
  auto settings = runtime::load_settings(file, runtime::process_env(), given);
  if (!settings) {
    std::cerr << "dita serve: " << settings.error().describe() << '\n';
    return cli::kExitUsage;
  }
  const auto capital = core::parse_decimal(flags.capital);
  if (!capital || *capital <= 0) {
    std::cerr << "dita serve: invalid --capital '" << flags.capital
              << "': must be a positive decimal\n";
    return cli::kExitUsage;
  }
  runtime::ServeOptions options;
  for (const std::string& mark : flags.marks) {
    const auto equals = mark.find('=');
    const auto symbol = core::Symbol::parse(mark.substr(0, equals));
    const auto price = equals == std::string::npos
                           ? std::expected<std::int64_t, core::DecimalError>(
                                 std::unexpected(core::DecimalError::kEmpty))
                           : core::parse_decimal(mark.substr(equals + 1));
    if (!symbol || !price || *price <= 0) {
      std::cerr << "dita serve: invalid --mark '" << mark
                << "': expected SYMBOL=PRICE with a positive price, e.g. BTC-USDT=60000\n";
      return cli::kExitUsage;
    }
    options.marks.emplace_back(*symbol, core::Price::from_units(*price));
  }
  if (!options.marks.empty() && settings->venue != core::BackendMode::kMock) {
    std::cerr << "dita serve: --mark is for the mock venue; BingX prices come from the venue\n";
    return cli::kExitUsage;
  }
  options.settings = *settings;
  options.journal_path = flags.journal;
  options.intent_capacity = flags.intent_capacity;
  options.max_producers = flags.max_producers;
  options.tick_interval = std::chrono::milliseconds(flags.tick_ms);
  options.capital_units = *capital;
  options.log = &std::cout;
  options.stop = &runtime::install_stop_signal_handlers();
  auto report = runtime::serve(options);
  if (!report) {
    std::cerr << "dita serve: " << report.error().message << '\n';
    switch (report.error().kind) {
      case runtime::ServeErrorKind::kUsage:
      case runtime::ServeErrorKind::kInstanceBusy:
        return cli::kExitUsage;
      case runtime::ServeErrorKind::kJournalDamaged:
        return cli::kExitJournalDamaged;
      case runtime::ServeErrorKind::kFailure:
        return cli::kExitFailure;
    }
    return cli::kExitFailure;
  }
  return cli::kExitOk;
}

cli::RegisteredCommand make_serve_command(CLI::App& app) {
  auto flags = std::make_shared<ServeFlags>();
  auto* serve = app.add_subcommand(
      "serve", "Run the kernel for one instance: intents, venue events, control, state mirror");
  serve->add_option("--config", flags->config, "TOML settings file (also $DITA_V2_CONFIG)");
  serve->add_option("--mode", flags->mode, "NORMAL or DEBUG ($DITA_V2_MODE)");
  serve->add_option("--verbosity", flags->verbosity,
                    "QUIET, VERBOSE or TRACE ($DITA_V2_VERBOSITY)");
  serve->add_option("--venue", flags->venue,
                    "mock or bingx (configured by DITA_V2_BINGX_*) ($DITA_V2_VENUE)");
  serve->add_option("--slot-count", flags->slot_count,
                    "number of slots, 1-256 ($DITA_V2_SLOT_COUNT)");
  serve->add_option(
      "--active-slot-limit", flags->active_slot_limit,
      "slots that may trade at once, on a fresh journal ($DITA_V2_ACTIVE_SLOT_LIMIT)");
  serve->add_option("--journal-fsync", flags->journal_fsync,
                    "always, never or batch:N ($DITA_V2_JOURNAL_FSYNC)");
  serve->add_option("--seed", flags->seed, "mock venue seed ($DITA_V2_SEED)");
  serve->add_option("--instance", flags->instance,
                    "instance name; regions are /dev/shm/dita.<instance>.* ($DITA_V2_INSTANCE)");
  serve->add_option(
      "--journal", flags->journal,
      "journal file, recovered if it exists (default var/journals/<instance>.journal)");
  serve
      ->add_option("--intent-capacity", flags->intent_capacity,
                   "intent queue entries, a power of two (default 1024)")
      ->check(CLI::Range(2U, 1U << 24));
  serve
      ->add_option("--max-producers", flags->max_producers,
                   "intent producer ids 0..N-1 (default 64)")
      ->check(CLI::Range(1U, 4096U));
  serve
      ->add_option("--tick-ms", flags->tick_ms,
                   "TICK period while an order is working, ms (default 100)")
      ->check(CLI::Range(1U, 60'000U));
  serve->add_option("--mark", flags->marks,
                    "SYMBOL=PRICE reference price for the mock venue (repeatable), e.g. "
                    "BTC-USDT=60000; market orders fill at it");
  serve->add_option("--capital", flags->capital,
                    "capital seeded on a fresh journal (mock venue balance; default 10000; "
                    "bingx seeds the account balance instead)");
  return {serve, [flags] { return run_serve(*flags); }};
}

}  // namespace

DITA_REGISTER_COMMAND(make_serve_command)
