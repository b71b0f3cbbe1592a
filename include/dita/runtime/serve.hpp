// dita/runtime/serve.hpp
//
// Owns `dita serve`, the long-running kernel process: it takes the instance's Zinc regions
// (state, control, intent), rebuilds the kernel from its journal, and then one thread owns the
// kernel and serializes every input: intents from the queue, venue events, periodic ticks and
// control changes. Each input is journaled before its commands leave (runtime::Session), the
// state image is republished write-through after every outcome, and an intent is committed in
// the queue only once the journal holds it, so it is applied exactly once across restarts.
// Each outcome then goes to the sink pipeline (ClickHouse rows, Hazelcast maps; configured by
// runtime::load_sink_settings), whose health the state image carries.
// Also owns the control-plane helpers the operator tools share (setting names and values).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <expected>
#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "dita/core/contracts.hpp"
#include "dita/core/kernel.hpp"
#include "dita/runtime/settings.hpp"
#include "dita/runtime/state_image.hpp"
#include "dita/venue/venue.hpp"
#include "dita/zinc/control.hpp"

namespace dita::runtime {

struct ServeOptions {
  Settings settings;                     // from load_settings: flags > env > TOML > defaults
  std::filesystem::path journal_path;    // empty: default_journal_path(instance)
  std::uint32_t intent_capacity = 1024;  // queue entries (power of two, 2..2^24)
  std::uint32_t max_producers = 64;      // producer ids 0..max_producers-1
  std::chrono::milliseconds tick_interval{100};  // TICK cadence while an order is working
  std::chrono::milliseconds heartbeat_interval{100};
  std::int64_t capital_units = 10'000 * core::kFixedScale;  // seeded once, on a fresh journal
                                                            // (BINGX: the venue balance instead)
  // Mock venue only: reference prices set at start (market orders fill at the mark).
  std::vector<std::pair<core::Symbol, core::Price>> marks;
  std::ostream* log = nullptr;              // progress and (by verbosity) outcome lines
  const std::atomic<bool>* stop = nullptr;  // set (e.g. by a signal) to finish and shut down
};

enum class ServeErrorKind : std::uint8_t {
  kUsage,           // bad option or configuration (exit 2)
  kInstanceBusy,    // a live server owns the instance or the journal (exit 2)
  kJournalDamaged,  // the journal cannot be recovered (exit 4)
  kFailure,         // I/O or region failure while running (exit 1)
};

struct ServeError {
  ServeErrorKind kind = ServeErrorKind::kFailure;
  std::string message;
};

struct ServeReport {
  std::uint64_t recovered_inputs = 0;
  std::uint64_t dropped_tail_bytes = 0;
  std::uint64_t inputs = 0;           // inputs folded by this run (intents, events, ticks, ...)
  std::uint64_t intents_handled = 0;  // queue entries committed by this run
  std::uint64_t control_changes = 0;
};

// "var/journals/<instance>.journal" (relative to the working directory).
std::filesystem::path default_journal_path(std::string_view instance);

// The one place a venue adapter is chosen. `restart_index` (earlier runs on this journal)
// moves the mock venue's id ranges, so ids it mints after a restart never repeat old ones.
// BINGX is configured from DITA_V2_BINGX_* and started (clock sync, position mode, contracts,
// worker and stream threads); `serve` itself starts it once, before the kernel, because its
// contracts are the kernel's instruments and its balance seeds a new journal's capital.
std::expected<std::unique_ptr<venue::Venue>, ServeError> make_venue(
    const Settings& settings, const core::KernelConfig& config, std::uint64_t restart_index);

// Runs until *options.stop becomes true (then shuts down cleanly) or a fatal error.
std::expected<ServeReport, ServeError> serve(const ServeOptions& options);

// SIGTERM and SIGINT set the returned flag (handlers installed without SA_RESTART, so a
// sleeping wait returns early; the loop never waits longer than a few milliseconds anyway).
const std::atomic<bool>& install_stop_signal_handlers();

// ---------------------------------------------------------------------------------------
// Control-plane helpers shared by `dita serve`, `dita control` and `dita status`.

// The control region's keys: mode, verbosity, backend, debug_clickhouse_enabled,
// trace_transitions, mirror_to_hazelcast, active_slot_limit, reconcile_on_restart.
const std::vector<std::string_view>& control_keys();
// Sets one key from text with the same names and values as runtime::Settings ("venue" is
// accepted for "backend"); errors name the allowed values.
std::expected<void, SettingError> apply_control_setting(zinc::ControlSettings& control,
                                                        std::string_view key,
                                                        std::string_view value);
zinc::ControlSettings control_settings(const Settings& settings, std::uint32_t active_slot_limit);
nlohmann::json control_to_json(const zinc::ControlSettings& control);

// Default producer id of `dita intent`: 1 + FNV-1a-32("<instance>/<user>") % (max_producers-1)
// (0 when the queue has a single producer id), stable for an instance and a user.
std::uint32_t default_producer_id(std::string_view instance, std::string_view user,
                                  std::uint32_t max_producers);

}  // namespace dita::runtime
