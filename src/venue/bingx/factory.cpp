// BingX venue factory; see include/dita/venue/bingx/factory.hpp.
#include "dita/venue/bingx/factory.hpp"

#include <string>
#include <utility>

namespace dita::venue::bingx {

std::expected<std::unique_ptr<BingxVenue>, Error> make_bingx_venue(BingxConfig config) {
  if (auto valid = validate(config); !valid) return std::unexpected(valid.error());
  auto venue = std::make_unique<BingxVenue>(std::move(config));
  if (auto started = venue->start(); !started) return std::unexpected(started.error());
  return venue;
}

std::expected<std::unique_ptr<BingxVenue>, Error> make_bingx_venue_from_env(
    std::string_view order_id_prefix, const EnvLookup& env, LogSink log) {
  auto config = load_bingx_config(env);
  if (!config) return std::unexpected(config.error());
  config->order_id_prefix = std::string(order_id_prefix);
  config->log = std::move(log);
  return make_bingx_venue(std::move(*config));
}

}  // namespace dita::venue::bingx
