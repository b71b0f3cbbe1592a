// BingX adapter configuration; see include/dita/venue/bingx/config.hpp.
#include "dita/venue/bingx/config.hpp"

#include <sys/stat.h>

#include <array>
#include <charconv>
#include <cstdlib>
#include <fstream>

namespace dita::venue::bingx {
namespace {

constexpr std::array<std::string_view, 3> kLiveHosts = {"open-api.bingx.com", "open-api.bingx.io",
                                                        "open-api.bingx.pro"};

// "https://host:port/path" -> "host".
std::string_view host_of(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme != std::string_view::npos) url.remove_prefix(scheme + 3);
  const auto end = url.find_first_of(":/?");
  return end == std::string_view::npos ? url : url.substr(0, end);
}

std::string trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' ||
                           text.back() == '\n')) {
    text.remove_suffix(1);
  }
  return std::string(text);
}

std::expected<std::int64_t, Error> positive_int(const std::string& name, const std::string& text) {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value <= 0) {
    return std::unexpected(Error{name + ": expected a positive integer, got '" + text + "'"});
  }
  return value;
}

}  // namespace

std::string_view to_string(LogLevel level) {
  constexpr std::array<std::string_view, 4> kNames = {"DEBUG", "INFO", "WARNING", "ERROR"};
  return kNames[static_cast<std::size_t>(level)];
}

void Redactor::add(std::string_view secret) {
  // Very short strings would redact ordinary text; real keys and secrets are long.
  if (secret.size() >= 6) secrets_.emplace_back(secret);
}

std::string Redactor::apply(std::string_view text) const {
  std::string out(text);
  for (const auto& secret : secrets_) {
    std::size_t at = 0;
    while ((at = out.find(secret, at)) != std::string::npos) {
      out.replace(at, secret.size(), "<redacted>");
      at += 10;
    }
  }
  return out;
}

std::string stream_url_for(std::string_view base_url) {
  const std::string_view host = host_of(base_url);
  if (host == host_of(kVstBaseUrl) || host == "open-api-vst.bingx.pro") {
    return std::string(kVstStreamUrl);
  }
  if (is_live_host(base_url)) return std::string(kLiveStreamUrl);
  std::string url(base_url);
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (url.starts_with("https://")) return "wss://" + url.substr(8) + "/swap-market";
  if (url.starts_with("http://")) return "ws://" + url.substr(7) + "/swap-market";
  return url + "/swap-market";
}

bool is_live_host(std::string_view base_url) {
  const std::string_view host = host_of(base_url);
  for (const auto live : kLiveHosts) {
    if (host == live) return true;
  }
  return false;
}

std::expected<void, Error> validate(const BingxConfig& config) {
  if (!config.base_url.starts_with("http://") && !config.base_url.starts_with("https://")) {
    return std::unexpected(
        Error{"DITA_V2_BINGX_BASE_URL: must start with http:// or https://, got '" +
              config.base_url + "'"});
  }
  if (is_live_host(config.base_url) && !config.allow_live) {
    return std::unexpected(Error{"DITA_V2_BINGX_BASE_URL: " + config.base_url +
                                 " is the LIVE exchange; set DITA_V2_BINGX_ALLOW_LIVE=1 to "
                                 "trade real money (the default is the VST host " +
                                 std::string(kVstBaseUrl) + ")"});
  }
  if (config.api_key.empty()) {
    return std::unexpected(
        Error{"DITA_V2_BINGX_API_KEY is not set (nor api_key in DITA_V2_BINGX_KEY_FILE)"});
  }
  if (config.api_secret.empty()) {
    return std::unexpected(
        Error{"DITA_V2_BINGX_API_SECRET is not set (nor api_secret in DITA_V2_BINGX_KEY_FILE)"});
  }
  if (config.order_id_prefix.empty() || config.order_id_prefix.size() > 8) {
    return std::unexpected(Error{"order_id_prefix: must be 1-8 characters"});
  }
  return {};
}

EnvLookup process_env_lookup() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

std::expected<std::pair<std::string, std::string>, Error> read_key_file(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    return std::unexpected(Error{"DITA_V2_BINGX_KEY_FILE: cannot read " + path});
  }
  if ((info.st_mode & 077) != 0) {
    return std::unexpected(
        Error{"DITA_V2_BINGX_KEY_FILE: " + path + " is readable by group or others; chmod 600 it"});
  }
  std::ifstream in(path);
  if (!in) return std::unexpected(Error{"DITA_V2_BINGX_KEY_FILE: cannot open " + path});
  std::pair<std::string, std::string> out;
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    const std::string text = trim(line);
    if (text.empty() || text.front() == '#') continue;
    const auto eq = text.find('=');
    if (eq == std::string::npos) {
      // The value is never echoed: the line may be a bare secret.
      return std::unexpected(
          Error{"DITA_V2_BINGX_KEY_FILE: line " + std::to_string(number) + " is not name=value"});
    }
    const std::string name = trim(std::string_view(text).substr(0, eq));
    const std::string value = trim(std::string_view(text).substr(eq + 1));
    if (name == "api_key" || name == "DITA_V2_BINGX_API_KEY") {
      out.first = value;
    } else if (name == "api_secret" || name == "DITA_V2_BINGX_API_SECRET") {
      out.second = value;
    } else {
      return std::unexpected(Error{"DITA_V2_BINGX_KEY_FILE: line " + std::to_string(number) +
                                   ": unknown name '" + name + "'"});
    }
  }
  return out;
}

std::expected<BingxConfig, Error> load_bingx_config(const EnvLookup& env) {
  BingxConfig config;
  if (auto url = env("DITA_V2_BINGX_BASE_URL"); url && !url->empty()) config.base_url = *url;
  if (auto url = env("DITA_V2_BINGX_WS_URL"); url && !url->empty()) config.stream_url = *url;
  if (auto live = env("DITA_V2_BINGX_ALLOW_LIVE"); live) {
    if (*live == "1" || *live == "true" || *live == "yes") {
      config.allow_live = true;
    } else if (!live->empty() && *live != "0" && *live != "false" && *live != "no") {
      return std::unexpected(
          Error{"DITA_V2_BINGX_ALLOW_LIVE: expected 1 or 0, got '" + *live + "'"});
    }
  }
  if (auto file = env("DITA_V2_BINGX_KEY_FILE"); file && !file->empty()) {
    auto keys = read_key_file(*file);
    if (!keys) return std::unexpected(keys.error());
    config.api_key = keys->first;
    config.api_secret = keys->second;
  }
  // Explicit variables win over the file.
  if (auto key = env("DITA_V2_BINGX_API_KEY"); key && !key->empty()) config.api_key = *key;
  if (auto secret = env("DITA_V2_BINGX_API_SECRET"); secret && !secret->empty()) {
    config.api_secret = *secret;
  }
  if (auto window = env("DITA_V2_BINGX_RECV_WINDOW_MS"); window && !window->empty()) {
    auto value = positive_int("DITA_V2_BINGX_RECV_WINDOW_MS", *window);
    if (!value) return std::unexpected(value.error());
    config.recv_window_ms = *value;
  }
  if (auto timeout = env("DITA_V2_BINGX_TIMEOUT_MS"); timeout && !timeout->empty()) {
    auto value = positive_int("DITA_V2_BINGX_TIMEOUT_MS", *timeout);
    if (!value) return std::unexpected(value.error());
    config.request_timeout_ms = *value;
  }
  if (auto valid = validate(config); !valid) return std::unexpected(valid.error());
  return config;
}

std::string key_fingerprint(std::string_view key) {
  if (key.empty()) return "<unset>";
  if (key.size() < 12) return "<set, " + std::to_string(key.size()) + " chars>";
  return std::string(key.substr(0, 4)) + "… (" + std::to_string(key.size()) + " chars)";
}

}  // namespace dita::venue::bingx
