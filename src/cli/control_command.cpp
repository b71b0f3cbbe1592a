// `dita control`: reads or changes a running server's control region.
//   dita control --instance NAME set KEY VALUE   request a change, wait for the kernel's answer
//   dita control --instance NAME show            print the applied snapshot
// KEY/VALUE use runtime::Settings' names and values. Exit codes: 0 applied (or shown);
// 1 the kernel is not running, did not answer in time, or rejected the change; 2 invalid
// KEY/VALUE (nothing is requested).
#include <chrono>
#include <iostream>
#include <memory>
#include <string>

#include "command_registry.hpp"
#include "dita/runtime/inspect.hpp"
#include "dita/runtime/serve.hpp"
#include "dita/zinc/control.hpp"

namespace {

using namespace dita;

struct ControlFlags {
  std::string instance;
  std::string key;
  std::string value;
  bool json = false;
  std::uint32_t timeout_ms = 5000;
};

void print_applied(const zinc::AppliedControl& applied, bool json) {
  nlohmann::json out = runtime::control_to_json(applied.settings);
  out["change_seq"] = applied.change_seq;
  out["request_seq"] = applied.request_seq;
  out["status"] = std::string(zinc::to_string(applied.status));
  if (json) {
    std::cout << out.dump() << '\n';
    return;
  }
  for (const auto& [name, value] : out.items()) {
    std::cout << name << " = " << (value.is_string() ? value.get<std::string>() : value.dump())
              << '\n';
  }
}

std::expected<zinc::ControlOperator, int> open_control(const std::string& instance) {
  auto control = zinc::ControlOperator::open(instance);
  if (!control) {
    std::cerr << "dita control: instance '" << instance
              << "' has no control region: " << control.error().describe() << '\n';
    return std::unexpected(cli::kExitFailure);
  }
  return std::move(*control);
}

int run_show(const ControlFlags& flags) {
  const std::string instance = runtime::resolve_instance(flags.instance);
  auto control = open_control(instance);
  if (!control) return control.error();
  auto applied = control->applied();
  if (!applied) {
    std::cerr << "dita control: " << applied.error().describe() << '\n';
    return cli::kExitFailure;
  }
  print_applied(*applied, flags.json);
  return cli::kExitOk;
}

int run_set(const ControlFlags& flags) {
  const std::string instance = runtime::resolve_instance(flags.instance);
  if (auto valid = zinc::validate_instance_name(instance); !valid) {
    std::cerr << "dita control: " << valid.error().describe() << '\n';
    return cli::kExitUsage;
  }
  zinc::ControlSettings probe;
  if (auto checked = runtime::apply_control_setting(probe, flags.key, flags.value); !checked) {
    std::cerr << "dita control: " << checked.error().describe() << " (nothing requested)\n";
    return cli::kExitUsage;
  }
  auto control = open_control(instance);
  if (!control) return control.error();
  const auto liveness = control->region().writer_liveness();
  if (liveness != zinc::WriterLiveness::Alive) {
    std::cerr << "dita control: the kernel of '" << instance << "' is not running (writer "
              << zinc::to_string(liveness) << "); nothing requested\n";
    return cli::kExitFailure;
  }
  auto current = control->applied();
  if (!current) {
    std::cerr << "dita control: " << current.error().describe() << '\n';
    return cli::kExitFailure;
  }
  zinc::ControlSettings wanted = current->settings;
  (void)runtime::apply_control_setting(wanted, flags.key, flags.value);
  if (wanted.backend != current->settings.backend) {
    std::cerr << "dita control: invalid setting 'backend': the venue cannot change while the "
                 "kernel runs; restart `dita serve` with --venue (nothing requested)\n";
    return cli::kExitUsage;
  }
  if (auto state = runtime::read_state(instance);
      state && state->generation != 0 &&
      wanted.active_slot_limit > state->image.header.slot_count) {
    std::cerr << "dita control: invalid setting 'active_slot_limit': " << wanted.active_slot_limit
              << " exceeds the kernel's slot_count " << state->image.header.slot_count
              << " (nothing requested)\n";
    return cli::kExitUsage;
  }
  auto seq = control->request(wanted);
  if (!seq) {
    std::cerr << "dita control: " << seq.error().describe() << '\n';
    return cli::kExitFailure;
  }
  auto applied = control->wait_for_applied(*seq, std::chrono::milliseconds(flags.timeout_ms));
  if (!applied) {
    std::cerr << "dita control: request " << *seq << " was not answered within " << flags.timeout_ms
              << " ms (is the kernel stopped?): " << applied.error().describe() << '\n';
    return cli::kExitFailure;
  }
  print_applied(*applied, flags.json);
  if (applied->status == zinc::ControlStatus::Rejected || applied->settings != wanted) {
    std::cerr << "dita control: the kernel did not apply " << flags.key << " = " << flags.value
              << " (status " << zinc::to_string(applied->status)
              << "; see the server log and journal)\n";
    return cli::kExitFailure;
  }
  return cli::kExitOk;
}

cli::RegisteredCommand make_control_command(CLI::App& app) {
  auto flags = std::make_shared<ControlFlags>();
  auto* control = app.add_subcommand("control", "Read or change a running server's control region");
  control->require_subcommand(1);
  control->add_option("--instance", flags->instance, "instance name ($DITA_V2_INSTANCE)");
  control->add_flag("--json", flags->json, "print the applied snapshot as one JSON object");
  control->add_option("--timeout-ms", flags->timeout_ms,
                      "how long `set` waits for the kernel (default 5000)");
  std::string keys;
  for (const auto key : runtime::control_keys()) {
    if (!keys.empty()) keys += ", ";
    keys += key;
  }
  auto* set =
      control->add_subcommand("set", "Request a change and wait until the kernel applies it");
  set->add_option("KEY", flags->key, "one of: " + keys)->required();
  set->add_option("VALUE", flags->value, "same values as the setting of that name")->required();
  auto* show = control->add_subcommand("show", "Print the applied control snapshot");
  set->fallthrough();
  show->fallthrough();
  return {control, [flags, set] { return set->parsed() ? run_set(*flags) : run_show(*flags); }};
}

}  // namespace

DITA_REGISTER_COMMAND(make_control_command)
