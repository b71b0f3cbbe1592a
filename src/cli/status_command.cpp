// `dita status`: what a server's regions say, read without disturbing it (no claim, no lock,
// no wait), also after the server died. Exit codes: 0 printed (whatever the writer's
// liveness, which is part of the output); 1 the instance has no readable state region;
// 2 usage error.
#include <iostream>
#include <memory>
#include <string>

#include "command_registry.hpp"
#include "dita/runtime/inspect.hpp"
#include "dita/zinc/region.hpp"

namespace {

using namespace dita;

struct StatusFlags {
  std::string instance;
  bool json = false;
};

std::string text(const nlohmann::json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

int run_status(const StatusFlags& flags) {
  const std::string instance = runtime::resolve_instance(flags.instance);
  if (auto valid = zinc::validate_instance_name(instance); !valid) {
    std::cerr << "dita status: " << valid.error().describe() << '\n';
    return cli::kExitUsage;
  }
  auto status = runtime::instance_status(instance);
  if (!status) {
    std::cerr << "dita status: instance '" << instance << "': " << status.error().describe()
              << (status.error().kind == zinc::ZincErrorKind::NotFound
                      ? " (never served on this machine, or its regions were removed)"
                      : "")
              << '\n';
    return cli::kExitFailure;
  }
  const nlohmann::json& s = *status;
  if (flags.json) {
    std::cout << s.dump() << '\n';
    return cli::kExitOk;
  }
  const auto& writer = s["writer"];
  const auto& kernel = s["kernel"];
  // Liveness first: a dead writer's last published status still says RUNNING.
  std::cout << "instance " << instance << ": writer pid " << writer["pid"] << ' '
            << text(writer["liveness"]) << " (heartbeat " << writer["heartbeat_age_ms"]
            << " ms ago), last published kernel status " << text(kernel["status"]) << '\n';
  std::cout << "  inputs " << kernel["inputs_processed"] << ", journal record "
            << kernel["journal_sequence"] << ", intents handled " << kernel["intents_handled"]
            << ", active slot limit " << kernel["active_slot_limit"] << '\n';
  std::cout << "slots:\n";
  for (const auto& slot : s["slots"]) {
    std::cout << "  [" << slot["slot"] << "] " << text(slot["stage"]);
    if (slot["trade_id"].get<std::uint32_t>() != 0) {
      std::cout << "  trade " << slot["trade_id"] << ' ' << text(slot["asset"]) << ' '
                << text(slot["side"]) << " x" << slot["leverage"] << "  size " << text(slot["size"])
                << "  entry " << text(slot["entry_price"]) << "  realized "
                << text(slot["realized_pnl"]) << "  unrealized " << text(slot["unrealized_pnl"]);
    }
    if (!slot["working_order"].is_null()) {
      const auto& order = slot["working_order"];
      std::cout << "  working " << text(order["role"]) << ' ' << text(order["client_order_id"])
                << ' ' << text(order["status"]) << ' ' << text(order["filled"]) << '/'
                << text(order["quantity"]);
    }
    std::cout << '\n';
  }
  std::cout << "account:\n";
  for (const auto& [name, value] : s["account"].items()) {
    std::cout << "  " << name << " = " << text(value) << '\n';
  }
  std::cout << "sinks:\n";
  for (const auto& [name, sink] : s["sinks"].items()) {
    std::cout << "  " << name << ' ' << text(sink["state"]);
    if (text(sink["state"]) != "DISABLED") {
      std::cout << "  spool depth " << sink["spool_depth"] << ", delivered "
                << sink["delivered_records"] << ", failures " << sink["failures"];
      if (!sink["last_error"].get<std::string>().empty()) {
        std::cout << ", last error: " << text(sink["last_error"]);
      }
    }
    std::cout << '\n';
  }
  std::cout << "control:";
  if (s["control"].is_null()) {
    std::cout << " (no control region)\n";
  } else {
    std::cout << '\n';
    for (const auto& [name, value] : s["control"].items()) {
      std::cout << "  " << name << " = " << text(value) << '\n';
    }
  }
  if (!s["queue"].is_null()) {
    const auto& q = s["queue"];
    std::cout << "intent queue: " << q["depth"] << " waiting of " << q["capacity"] << ", "
              << q["committed"] << " committed, " << q["duplicates_skipped"]
              << " duplicates skipped, " << q["abandoned"] << " abandoned\n";
  }
  return cli::kExitOk;
}

cli::RegisteredCommand make_status_command(CLI::App& app) {
  auto flags = std::make_shared<StatusFlags>();
  auto* status = app.add_subcommand(
      "status", "Show a server's slots, account, control and writer liveness (read-only)");
  status->add_option("--instance", flags->instance, "instance name ($DITA_V2_INSTANCE)");
  status->add_flag(
      "--json", flags->json,
      "one JSON object: instance, writer, kernel, slots, account, sinks, control, queue");
  return {status, [flags] { return run_status(*flags); }};
}

}  // namespace

DITA_REGISTER_COMMAND(make_status_command)
