// `dita intent`: writes one intent into a server's intent queue from the shell.
//   dita intent --instance NAME enter --slot N --asset SYMBOL --side LONG|SHORT --size Q
//                                     [--price P] [--leverage L]
//   dita intent --instance NAME exit --slot N [--size Q] [--price P]
//   dita intent --instance NAME cancel --slot N
// Exit codes: 0 enqueued (or already applied); 1 queue full, no such instance, region error,
// or --wait timed out; 2 invalid arguments (nothing is enqueued).
#include <pwd.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "command_registry.hpp"
#include "dita/runtime/inspect.hpp"
#include "dita/runtime/serve.hpp"
#include "dita/runtime/state_image.hpp"
#include "dita/zinc/atomics.hpp"
#include "dita/zinc/intent_queue.hpp"

namespace {

using namespace dita;

struct IntentFlags {
  std::string instance;
  std::optional<std::uint32_t> producer_id;
  std::optional<std::uint64_t> seq;
  bool json = false;
  bool wait = false;
  std::uint32_t wait_ms = 5000;
  // Per kind; all text so that every bad value gets a message naming its field.
  std::string slot;
  std::string asset;
  std::string side;
  std::optional<std::string> size;
  std::optional<std::string> price;
  std::optional<std::string> leverage;
};

std::string current_user() {
  std::string buffer(4096, '\0');
  passwd entry{};
  passwd* found = nullptr;
  if (::getpwuid_r(::geteuid(), &entry, buffer.data(), buffer.size(), &found) == 0 &&
      found != nullptr && found->pw_name != nullptr) {
    return found->pw_name;
  }
  return "uid" + std::to_string(::geteuid());
}

template <class T>
std::optional<T> parse_int(const std::string& text) {
  T value{};
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (result.ec != std::errc{} || result.ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

int usage_error(const std::string& field, const std::string& message) {
  std::cerr << "dita intent: invalid argument '" << field << "': " << message
            << " (nothing enqueued)\n";
  return cli::kExitUsage;
}

int run_intent(const IntentFlags& flags, core::KernelIntentKind kind) {
  const std::string instance = runtime::resolve_instance(flags.instance);
  if (auto valid = zinc::validate_instance_name(instance); !valid) {
    return usage_error("instance", valid.error().message);
  }
  runtime::IntentArgs args;
  args.kind = kind;
  const auto slot = parse_int<std::int64_t>(flags.slot);
  if (!slot) return usage_error("slot", "'" + flags.slot + "' is not an integer");
  args.slot = *slot;
  args.asset = flags.asset;
  args.side = flags.side;
  for (char& c : args.side) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  args.size = flags.size;
  args.price = flags.price;
  if (flags.leverage) {
    const auto leverage = parse_int<std::int64_t>(*flags.leverage);
    if (!leverage) return usage_error("leverage", "'" + *flags.leverage + "' is not an integer");
    args.leverage = *leverage;
  }

  // Every field is checked before any region is touched; then the running kernel's slot
  // count (from its state region, which also proves the instance exists) bounds --slot.
  auto record = runtime::make_intent_record(args, DITA_STATE_MAX_SLOTS);
  if (!record) return usage_error(record.error().field, record.error().message);
  auto state = runtime::read_state(instance);
  if (!state) {
    std::cerr << "dita intent: instance '" << instance << "' has no readable state region ("
              << state.error().describe() << "); start `dita serve --instance " << instance
              << "` first\n";
    return cli::kExitFailure;
  }
  if (state->generation != 0) {
    if (auto bounded = runtime::make_intent_record(args, state->image.header.slot_count);
        !bounded) {
      return usage_error(bounded.error().field, bounded.error().message);
    }
  }

  auto name = zinc::region_name(instance, zinc::RegionKind::Intent);
  if (!name) return usage_error("instance", name.error().message);
  const zinc::RegionGeometry want{zinc::RegionKind::Intent, sizeof(runtime::IntentRecord), 0, 0};
  auto region = zinc::Region::open(*name, want);
  if (!region) {
    std::cerr << "dita intent: cannot open the intent region of '" << instance
              << "': " << region.error().describe() << '\n';
    return cli::kExitFailure;
  }
  const std::uint32_t max_producers = region->geometry().aux_count;
  const std::uint32_t producer_id = flags.producer_id.value_or(
      runtime::default_producer_id(instance, current_user(), max_producers));
  auto producer =
      zinc::IntentProducer<runtime::IntentRecord>::attach(std::move(*region), producer_id);
  if (!producer) {
    std::cerr << "dita intent: " << producer.error().describe() << '\n';
    return producer.error().kind == zinc::ZincErrorKind::InvalidArgument ? cli::kExitUsage
                                                                         : cli::kExitFailure;
  }
  // Next sequence: past both what the kernel applied and what this producer id already
  // queued (a stopped kernel has not applied those yet; reusing one would be a duplicate).
  const auto* producer_record = reinterpret_cast<const dita_zinc_producer_record*>(
      producer->queue().region().base() + DITA_ZINC_QUEUE_PRODUCERS_OFFSET +
      64U * std::size_t{producer_id});
  const std::uint64_t last_enqueued =
      zinc::atomic_load(producer_record->last_enqueued_seq, std::memory_order_acquire);
  const std::uint64_t seq =
      flags.seq.value_or(std::max(producer->applied_seq(), last_enqueued) + 1);
  if (seq == 0 || seq > runtime::kMaxIntentSeq) {
    return usage_error("seq", std::to_string(seq) + " is not between 1 and 2^40-1");
  }
  record->producer_id = producer_id;
  record->producer_seq = seq;

  auto sent = producer->send(seq, *record);
  if (!sent) {
    if (sent.error().kind == zinc::ZincErrorKind::QueueFull) {
      const auto stats = producer->queue().stats();
      std::cerr << "dita intent: QUEUE_FULL: the intent queue of '" << instance << "' is full ("
                << producer->queue().capacity() << " entries, "
                << (stats.enqueue_pos - stats.dequeue_pos)
                << " waiting); the kernel is behind or stopped. Nothing was enqueued; retry "
                   "later with the same --seq "
                << seq << '\n';
    } else {
      std::cerr << "dita intent: " << sent.error().describe() << '\n';
    }
    return cli::kExitFailure;
  }
  const auto liveness = state->liveness;
  nlohmann::json out = {{"outcome", std::string(zinc::to_string(*sent))},
                        {"instance", instance},
                        {"producer_id", producer_id},
                        {"seq", seq},
                        {"intent", runtime::to_json(*record)},
                        {"kernel", std::string(zinc::to_string(liveness))}};
  bool applied = *sent == zinc::SendOutcome::AlreadyApplied;
  if (flags.wait && !applied) {
    // Bounded poll of the applied sequence the kernel commits after journaling.
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(flags.wait_ms);
    while (!(applied = producer->applied_seq() >= seq) &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    out["applied"] = applied;
  }
  if (flags.json) {
    std::cout << out.dump() << '\n';
  } else {
    std::cout << out["outcome"].get<std::string>() << " producer " << producer_id << " seq " << seq
              << ": " << out["intent"].dump() << '\n';
    if (liveness != zinc::WriterLiveness::Alive) {
      std::cout << "note: the kernel of '" << instance << "' is " << zinc::to_string(liveness)
                << "; the intent waits in the queue until `dita serve` runs again\n";
    }
  }
  if (flags.wait && !applied) {
    std::cerr << "dita intent: seq " << seq << " was not applied within " << flags.wait_ms
              << " ms (it stays queued)\n";
    return cli::kExitFailure;
  }
  return cli::kExitOk;
}

cli::RegisteredCommand make_intent_command(CLI::App& app) {
  auto flags = std::make_shared<IntentFlags>();
  auto kind = std::make_shared<core::KernelIntentKind>(core::KernelIntentKind::kEnter);
  auto* intent = app.add_subcommand("intent",
                                    "Write an intent (enter, exit, cancel) into a "
                                    "running server's intent queue");
  intent->require_subcommand(1);
  intent->add_option("--instance", flags->instance, "instance name ($DITA_V2_INSTANCE)");
  intent->add_option("--producer-id", flags->producer_id,
                     "producer id (default: derived from instance and user, see docs/operator.md)");
  intent->add_option("--seq", flags->seq,
                     "producer sequence (default: next after applied and queued); re-sending a "
                     "sequence is applied at most once");
  intent->add_flag("--json", flags->json, "print the result as one JSON object");
  intent->add_flag("--wait", flags->wait, "wait until the kernel has applied the intent");
  intent->add_option("--wait-ms", flags->wait_ms, "how long --wait waits (default 5000)");

  auto* enter = intent->add_subcommand("enter", "Open a position in a slot");
  enter->add_option("--slot", flags->slot, "slot number")->required();
  enter->add_option("--asset", flags->asset, "symbol, e.g. BTC-USDT")->required();
  enter->add_option("--side", flags->side, "LONG or SHORT")->required();
  enter->add_option("--size", flags->size, "quantity in coins")->required();
  enter->add_option("--price", flags->price, "limit price (default: market)");
  enter->add_option("--leverage", flags->leverage, "1-125 (default 1)");
  auto* exit = intent->add_subcommand("exit", "Close (part of) a slot's position");
  exit->add_option("--slot", flags->slot, "slot number")->required();
  exit->add_option("--size", flags->size, "quantity (default: everything left)");
  exit->add_option("--price", flags->price, "limit price (default: market)");
  auto* cancel = intent->add_subcommand("cancel", "Cancel a slot's working order");
  cancel->add_option("--slot", flags->slot, "slot number")->required();
  for (CLI::App* sub : {enter, exit, cancel}) sub->fallthrough();
  enter->callback([kind] { *kind = core::KernelIntentKind::kEnter; });
  exit->callback([kind] { *kind = core::KernelIntentKind::kExit; });
  cancel->callback([kind] { *kind = core::KernelIntentKind::kCancel; });
  return {intent, [flags, kind] { return run_intent(*flags, *kind); }};
}

}  // namespace

DITA_REGISTER_COMMAND(make_intent_command)
