// dita-bingx-sim: a BingX-shaped USDT-M perpetual exchange on loopback for tests and demos.
// Usage: dita-bingx-sim --port N [--host 127.0.0.1] [--config FILE] [--seed S]
// Prints `listening HOST:PORT` on stdout once the socket accepts connections.
#include <arpa/inet.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>

#include "dita/sim/config.hpp"
#include "http_server.hpp"
#include "service.hpp"

namespace {

constexpr const char* kUsage =
    "usage: dita-bingx-sim --port N [--host 127.0.0.1] [--config FILE] [--seed S]\n"
    "  --port N      TCP port on loopback; 0 picks a free port\n"
    "  --host H      loopback IPv4 address (127.0.0.0/8); anything else is refused\n"
    "  --config F    JSON config file (see docs/simulator.md)\n"
    "  --seed S      RNG seed (overrides the config file)\n";

bool is_loopback_v4(const std::string& host) {
  in_addr addr{};
  if (::inet_pton(AF_INET, host.c_str(), &addr) != 1) return false;
  return (ntohl(addr.s_addr) >> 24U) == 127U;
}

bool parse_uint(const std::string& text, std::uint64_t max, std::uint64_t& out) {
  if (text.empty() || text.size() > 20 ||
      text.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  try {
    out = std::stoull(text);
  } catch (const std::exception&) {
    return false;
  }
  return out <= max;
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  std::optional<std::uint64_t> port;
  std::optional<std::uint64_t> seed;
  std::string config_path;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= argc) return std::nullopt;
      return std::string(argv[++i]);
    };
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    }
    const auto v = value();
    if (!v) {
      std::cerr << "dita-bingx-sim: " << arg << " needs a value\n" << kUsage;
      return 2;
    }
    std::uint64_t n = 0;
    if (arg == "--port") {
      if (!parse_uint(*v, 65535, n)) {
        std::cerr << "dita-bingx-sim: --port: expected 0..65535, got '" << *v << "'\n";
        return 2;
      }
      port = n;
    } else if (arg == "--host") {
      host = *v == "localhost" ? "127.0.0.1" : *v;
    } else if (arg == "--config") {
      config_path = *v;
    } else if (arg == "--seed") {
      if (!parse_uint(*v, static_cast<std::uint64_t>(INT64_MAX), n)) {
        std::cerr << "dita-bingx-sim: --seed: expected a non-negative integer\n";
        return 2;
      }
      seed = n;
    } else {
      std::cerr << "dita-bingx-sim: unknown argument '" << arg << "'\n" << kUsage;
      return 2;
    }
  }
  if (!port) {
    std::cerr << "dita-bingx-sim: --port is required\n" << kUsage;
    return 2;
  }
  if (!is_loopback_v4(host)) {
    // The admin API has no authentication, so the simulator must never face a network.
    std::cerr << "dita-bingx-sim: refusing non-loopback host '" << host << "'\n";
    return 2;
  }

  dita::sim::SimConfig config = dita::sim::default_config();
  if (!config_path.empty()) {
    std::ifstream in(config_path);
    if (!in) {
      std::cerr << "dita-bingx-sim: cannot read config file " << config_path << "\n";
      return 2;
    }
    std::stringstream text;
    text << in.rdbuf();
    const auto json = nlohmann::json::parse(text.str(), nullptr, false);
    if (json.is_discarded()) {
      std::cerr << "dita-bingx-sim: " << config_path << ": not valid JSON\n";
      return 2;
    }
    if (auto error = dita::sim::apply_config_json(config, json)) {
      std::cerr << "dita-bingx-sim: " << config_path << ": " << *error << "\n";
      return 2;
    }
  }
  if (seed) config.seed = *seed;

  // Block termination signals in every thread; one thread waits for them and stops.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  dita::sim::SimService service(config);
  dita::sim::HttpServer server(
      [&](const dita::sim::HttpRequest& req) { return service.handle(req); },
      [&](const dita::sim::HttpRequest& req, int fd) { service.websocket(req, fd); });
  service.attach(&server);
  std::uint16_t bound = 0;
  std::string error;
  if (!server.bind(host, static_cast<std::uint16_t>(*port), bound, error)) {
    std::cerr << "dita-bingx-sim: " << error << "\n";
    return 1;
  }
  service.start_background();
  std::thread signal_thread([&] {
    int received = 0;
    sigwait(&signals, &received);
    server.stop();
  });
  std::cout << "listening " << host << ":" << bound << std::endl;
  server.run();
  service.stop_background();
  // Wake the signal thread if run() ended for another reason.
  pthread_kill(signal_thread.native_handle(), SIGTERM);
  signal_thread.join();
  return 0;
}
