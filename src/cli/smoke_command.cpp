// `dita smoke --symbol SYMBOL [--dry-run] [--size Q]`: the repeatable live smoke of
// reference §2/§15. One entry→exit cycle through a real kernel and the BingX adapter,
// reporting what the venue confirmed. Gated like the reference's smoke wrapper: orders
// are sent only with BINGX_SMOKE_LIVE=1 and credentials present; `--dry-run` prints the
// plan and the environment it would use (secrets redacted) and touches no network.
// Exit codes: 0 cycle confirmed (or dry run), 1 the venue did not confirm, 2 usage/gate.
#include <chrono>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "command_registry.hpp"
#include "dita/core/kernel.hpp"
#include "dita/runtime/session.hpp"
#include "dita/venue/bingx/factory.hpp"

namespace {

using namespace dita;

struct SmokeOptions {
  std::string symbol;
  bool dry_run = false;
  std::string size;
  int timeout_s = 30;
};

std::optional<std::string> env(const char* name) {
  auto value = venue::bingx::process_env_lookup()(name);
  if (value && value->empty()) return std::nullopt;
  return value;
}

// Client ids must be unique per account forever, so each run gets its own prefix.
std::string run_prefix() {
  auto seconds = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                                std::chrono::system_clock::now().time_since_epoch())
                                                .count());
  std::string digits;
  constexpr std::string_view kAlphabet = "0123456789abcdefghijklmnopqrstuvwxyz";
  while (seconds > 0 && digits.size() < 7) {
    digits.insert(digits.begin(), kAlphabet[seconds % 36]);
    seconds /= 36;
  }
  return "s" + digits;
}

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void print_env(std::ostream& out) {
  const auto show = [&](const char* name, bool secret, const std::string& fallback) {
    const auto value = env(name);
    out << "  " << name << "=";
    if (!value) {
      out << fallback << '\n';
    } else if (secret) {
      out << "<redacted> (set)\n";
    } else {
      out << *value << '\n';
    }
  };
  show("BINGX_SMOKE_LIVE", false, "<unset>  (must be 1 to send orders)");
  show("DITA_V2_BINGX_BASE_URL", false,
       "<unset>  (default " + std::string(venue::bingx::kVstBaseUrl) + ", VST)");
  show("DITA_V2_BINGX_WS_URL", false, "<unset>  (derived from the base URL)");
  show("DITA_V2_BINGX_API_KEY", true, "<unset>");
  show("DITA_V2_BINGX_API_SECRET", true, "<unset>");
  show("DITA_V2_BINGX_KEY_FILE", false, "<unset>");
  show("DITA_V2_BINGX_ALLOW_LIVE", false, "<unset>  (live host refused)");
}

std::string describe_order(const core::VenueOrder& order) {
  return "venue order " + std::to_string(order.venue_order_id) + " " +
         std::string(core::to_string(order.side)) + " " + core::to_string(order.filled) + " @ " +
         (order.filled.is_positive()
              ? core::to_string(core::average_price(order.filled_notional, order.filled))
              : std::string("-")) +
         " fee " + core::to_string(order.fee) + " status " +
         std::string(core::to_string(order.status));
}

int run_smoke(const SmokeOptions& options) {
  const auto symbol = core::Symbol::parse(options.symbol);
  if (!symbol) {
    std::cerr << "dita smoke: --symbol '" << options.symbol
              << "' is not a symbol (e.g. TRXUSDT or TRX-USDT)\n";
    return cli::kExitUsage;
  }
  std::optional<core::Quantity> size;
  if (!options.size.empty()) {
    const auto units = core::parse_decimal(options.size);
    if (!units || *units <= 0) {
      std::cerr << "dita smoke: --size '" << options.size << "' is not a positive decimal\n";
      return cli::kExitUsage;
    }
    size = core::Quantity::from_units(*units);
  }
  const std::string prefix = run_prefix();
  const std::string base_url =
      env("DITA_V2_BINGX_BASE_URL").value_or(std::string(venue::bingx::kVstBaseUrl));
  const std::string size_text = size ? core::to_string(*size) : "the contract's minimum quantity";

  if (options.dry_run) {
    std::cout << "dita smoke --dry-run: nothing will be sent\n"
              << "environment:\n";
    print_env(std::cout);
    std::cout << "plan:\n"
              << "  1. GET  " << base_url << "/openApi/swap/v2/server/time (clock offset)\n"
              << "  2. GET  /openApi/swap/v1/positionSide/dual (one-way or hedge)\n"
              << "  3. GET  /openApi/swap/v2/quote/contracts (step, tick, minimum of "
              << symbol->view() << ")\n"
              << "  4. POST /openApi/user/auth/userDataStream, connect "
              << venue::bingx::stream_url_for(base_url) << "?listenKey=…\n"
              << "  5. GET  /openApi/swap/v3/user/balance (seed capital)\n"
              << "  6. ENTER slot 0 LONG " << size_text << " " << symbol->view()
              << " at market: POST /openApi/swap/v2/trade/order side=BUY type=MARKET "
                 "positionSide=BOTH|LONG clientOrderId="
              << prefix << "s0t1l0a0\n"
              << "  7. wait for the venue's fill (stream, or a targeted query)\n"
              << "  8. EXIT  slot 0 everything at market: side=SELL type=MARKET reduceOnly=true "
                 "(one-way) clientOrderId="
              << prefix << "s0t1l1a0\n"
              << "  9. wait until the slot is CLOSED; print what the venue confirmed\n"
              << "timeout per step: " << options.timeout_s << " s\n";
    return cli::kExitOk;
  }

  std::string missing;
  const auto need = [&](bool ok, const std::string& what) {
    if (ok) return;
    if (!missing.empty()) missing += ", ";
    missing += what;
  };
  const bool key_file = env("DITA_V2_BINGX_KEY_FILE").has_value();
  need(env("BINGX_SMOKE_LIVE").value_or("") == "1", "BINGX_SMOKE_LIVE=1");
  need(key_file || env("DITA_V2_BINGX_API_KEY").has_value(),
       "DITA_V2_BINGX_API_KEY (or DITA_V2_BINGX_KEY_FILE)");
  need(key_file || env("DITA_V2_BINGX_API_SECRET").has_value(),
       "DITA_V2_BINGX_API_SECRET (or DITA_V2_BINGX_KEY_FILE)");
  if (!missing.empty()) {
    std::cerr << "dita smoke: refusing to send orders; missing: " << missing
              << "\n(use --dry-run to see the plan without sending)\n";
    return cli::kExitUsage;
  }

  auto config = venue::bingx::load_bingx_config(venue::bingx::process_env_lookup());
  if (!config) {
    std::cerr << "dita smoke: " << config.error().message << '\n';
    return cli::kExitUsage;
  }
  config->order_id_prefix = prefix;
  config->log = [](venue::bingx::LogLevel level, std::string_view line) {
    if (level >= venue::bingx::LogLevel::kWarning) std::cerr << "bingx: " << line << '\n';
  };
  std::cout << "dita smoke: " << symbol->view() << " against " << config->base_url << '\n';
  auto made = venue::bingx::make_bingx_venue(std::move(*config));
  if (!made) {
    std::cerr << "dita smoke: " << made.error().message << '\n';
    return cli::kExitFailure;
  }
  venue::bingx::BingxVenue* bingx = made->get();
  std::cout << "position mode: " << (bingx->hedge_mode() ? "hedge" : "one-way") << '\n';

  core::KernelConfig kernel_config;
  kernel_config.slot_count = 1;
  kernel_config.active_slot_limit = 1;
  kernel_config.order_id_prefix = prefix;  // `prefix` outlives the kernel
  kernel_config.ack_timeout_ns = 5'000'000'000;
  kernel_config.query_interval_ns = 2'000'000'000;
  kernel_config.instruments = bingx->instruments();
  const core::Instrument* instrument = nullptr;
  for (const auto& item : kernel_config.instruments) {
    if (item.symbol == *symbol) instrument = &item;
  }
  if (instrument == nullptr) {
    std::cerr << "dita smoke: the venue lists no contract " << symbol->view() << '\n';
    return cli::kExitUsage;
  }
  const core::Quantity quantity = size.value_or(instrument->min_quantity);
  std::cout << "contract: step " << core::to_string(instrument->quantity_step) << " tick "
            << core::to_string(instrument->price_tick) << " minimum "
            << core::to_string(instrument->min_quantity) << "; size " << core::to_string(quantity)
            << '\n';
  auto kernel = core::Kernel::create(kernel_config);
  if (!kernel) {
    std::cerr << "dita smoke: " << kernel.error().setting << ": " << kernel.error().message << '\n';
    return cli::kExitUsage;
  }
  runtime::Session session(
      std::move(*kernel), std::move(*made), std::nullopt,
      [](const core::KernelInput&, const core::KernelOutcome& outcome) {
        for (const auto& t : outcome.transitions) {
          std::cout << "  transition slot " << t.slot << ": " << core::to_string(t.from) << " -> "
                    << core::to_string(t.to) << " (" << core::to_string(t.trigger) << ")\n";
        }
        for (const auto& d : outcome.diagnostics) {
          std::cout << "  diagnostic " << core::to_string(d.code) << " "
                    << core::to_string(d.severity) << ": " << d.message << '\n';
        }
      });
  if (auto balance = bingx->fetch_balance()) {
    std::cout << "balance: " << core::to_string(*balance) << " USDT\n";
    (void)session.feed({steady_ns(), core::SeedCapital{*balance}});
  }

  const auto pump = [&](const std::function<bool()>& done) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(options.timeout_s);
    auto next_tick = std::chrono::steady_clock::now();
    std::vector<core::VenueEvent> events;
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      bingx->wait_for_events(100);
      events.clear();
      session.venue().drain(events);
      for (const auto& event : events) {
        if (auto fed = session.feed({steady_ns(), event}); !fed) return false;
      }
      if (std::chrono::steady_clock::now() >= next_tick) {
        (void)session.feed({steady_ns(), core::Tick{}});
        next_tick += std::chrono::milliseconds(500);
      }
    }
    return done();
  };
  const auto& slot = [&]() -> const core::TradeSlot& { return session.kernel().slot(0); };

  core::KernelIntent enter;
  enter.kind = core::KernelIntentKind::kEnter;
  enter.id = *core::ClientIntentId::parse("smoke-enter");
  enter.slot = 0;
  enter.asset = *symbol;
  enter.side = core::Side::kLong;
  enter.size = quantity;
  (void)session.feed({steady_ns(), enter});
  const bool entered = pump(
      [&] { return slot().stage != core::TradeStage::kEntryWorking || slot().working_order < 0; });
  if (!entered || slot().stage != core::TradeStage::kPositionOpen) {
    std::cout << "entry NOT confirmed: slot stage " << core::to_string(slot().stage) << '\n';
    if (slot().order_count > 0) std::cout << "  " << describe_order(slot().orders[0]) << '\n';
    return cli::kExitFailure;
  }
  std::cout << "entry confirmed: " << describe_order(slot().orders[0]) << '\n';

  core::KernelIntent exit;
  exit.kind = core::KernelIntentKind::kExit;
  exit.id = *core::ClientIntentId::parse("smoke-exit");
  exit.slot = 0;
  (void)session.feed({steady_ns(), exit});
  const bool closed = pump([&] { return slot().stage == core::TradeStage::kClosed; });
  const core::VenueOrder* exit_order =
      slot().order_count > 1 ? &slot().orders[slot().order_count - 1] : nullptr;
  if (!closed) {
    std::cout << "exit NOT confirmed: slot stage " << core::to_string(slot().stage) << " size "
              << core::to_string(slot().size) << '\n';
    if (exit_order != nullptr) std::cout << "  " << describe_order(*exit_order) << '\n';
    return cli::kExitFailure;
  }
  std::cout << "exit confirmed: " << describe_order(*exit_order) << '\n'
            << "slot 0 " << core::to_string(slot().stage) << ": realized_pnl "
            << core::to_string(slot().realized_pnl) << " fees " << core::to_string(slot().fees_paid)
            << "; capital " << core::to_string(session.kernel().account().capital) << " trade_seq "
            << session.kernel().account().trade_seq << '\n';
  return cli::kExitOk;
}

cli::RegisteredCommand smoke_factory(CLI::App& app) {
  auto options = std::make_shared<SmokeOptions>();
  auto* sub = app.add_subcommand(
      "smoke", "Live BingX smoke: one entry->exit cycle (needs BINGX_SMOKE_LIVE=1; --dry-run)");
  sub->add_option("--symbol", options->symbol, "contract, e.g. TRXUSDT or TRX-USDT")->required();
  sub->add_flag("--dry-run", options->dry_run, "print the plan and env; send nothing");
  sub->add_option("--size", options->size, "entry size in coins (default: the contract minimum)");
  sub->add_option("--timeout", options->timeout_s, "seconds to wait per step (default 30)");
  return {sub, [options] { return run_smoke(*options); }};
}

}  // namespace

DITA_REGISTER_COMMAND(smoke_factory)
