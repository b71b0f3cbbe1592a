// dita/venue/bingx/factory.hpp
//
// Owns the one-line construction of a started BingX venue for the shell (`dita serve
// --venue bingx`, `dita smoke`): configuration from DITA_V2_BINGX_* (see config.hpp),
// start-up (clock sync, position mode, contracts, worker and stream threads) and a
// redacted error when any of it fails.
//
//   auto venue = dita::venue::bingx::make_bingx_venue_from_env(settings.order_id_prefix);
//   if (!venue) { std::cerr << venue.error().message << '\n'; return 2; }
//   kernel_config.instruments = (*venue)->instruments();   // contract metadata
//   // wait for events: poll (*venue)->event_fd(), or (*venue)->set_wakeup(...)
//   std::unique_ptr<dita::venue::Venue> seam = std::move(*venue);
#pragma once

#include <expected>
#include <memory>
#include <string_view>

#include "dita/venue/bingx/bingx_venue.hpp"
#include "dita/venue/bingx/config.hpp"

namespace dita::venue::bingx {

// Validates `config`, constructs and starts the adapter.
std::expected<std::unique_ptr<BingxVenue>, Error> make_bingx_venue(BingxConfig config);

// Reads the configuration from the environment (`env` defaults to the process's), sets the
// kernel's client-order-id prefix and an optional log sink, then make_bingx_venue.
std::expected<std::unique_ptr<BingxVenue>, Error> make_bingx_venue_from_env(
    std::string_view order_id_prefix, const EnvLookup& env = process_env_lookup(),
    LogSink log = {});

}  // namespace dita::venue::bingx
