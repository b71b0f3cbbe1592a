// Measures (1) the cost of building and signing a place-order request, (2) the place-order
// round trip to dita-bingx-sim on 127.0.0.1 over one reused connection (raw RestClient),
// and (3) the same through BingxVenue: submit() on the caller's thread to the ACK event
// drained back (worker queue + REST + normalization + event queue). Last line: JSON.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "dita/venue/bingx/bingx_venue.hpp"
#include "dita/venue/bingx/rest_client.hpp"

namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kKey = "sim-key";
constexpr const char* kSecret = "sim-secret-0123456789abcdef";

struct Summary {
  double p50 = 0;
  double p99 = 0;
  double p999 = 0;
};

Summary summarize(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  const auto at = [&](double q) {
    return samples[std::min(samples.size() - 1,
                            static_cast<std::size_t>(q * static_cast<double>(samples.size())))];
  };
  return {at(0.50), at(0.99), at(0.999)};
}

double since_us(Clock::time_point start) {
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

struct Sim {
  pid_t pid = -1;
  int port = 0;
  std::string config_path;
  Sim() {
    char path[] = "/tmp/dita-bench-sim-XXXXXX";
    const int fd = ::mkstemp(path);
    ::close(fd);
    config_path = path;
    std::ofstream(config_path) << R"({"rateLimits":{"enabled":false},
      "accounts":[{"apiKey":"sim-key","secret":"sim-secret-0123456789abcdef",
      "balances":{"USDT":"100000000"},"dualSidePosition":false,"defaultLeverage":10}]})";
    int out[2];
    if (::pipe(out) != 0) std::abort();
    pid = ::fork();
    if (pid == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      ::close(out[0]);
      ::execl(DITA_BINGX_SIM_PATH, DITA_BINGX_SIM_PATH, "--port", "0", "--config",
              config_path.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(out[1]);
    std::string line;
    char c = 0;
    while (::read(out[0], &c, 1) == 1 && c != '\n') line.push_back(c);
    ::close(out[0]);
    port = std::atoi(line.substr(line.rfind(':') + 1).c_str());
  }
  ~Sim() {
    ::kill(pid, SIGTERM);
    ::waitpid(pid, nullptr, 0);
    std::remove(config_path.c_str());
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }
};

dita::venue::bingx::QueryParams order_params(int i) {
  return {{"symbol", "BTC-USDT"},   {"side", i % 2 == 0 ? "BUY" : "SELL"},
          {"type", "MARKET"},       {"quantity", "0.0001"},
          {"positionSide", "BOTH"}, {"clientOrderId", "bench" + std::to_string(i)}};
}

}  // namespace

int main() {
  using namespace dita::venue::bingx;
  constexpr int kSignIterations = 50'000;
  constexpr int kWarmup = 200;
  constexpr int kRoundTrips = 2000;

  // (1) build + sign
  RestClient offline({"http://127.0.0.1:9", kKey, kSecret, 5000, 1000, 1000});
  std::vector<double> sign_ns;
  sign_ns.reserve(kSignIterations);
  std::size_t sink = 0;
  for (int i = 0; i < kSignIterations; ++i) {
    const auto start = Clock::now();
    const std::string url = offline.build_url("/openApi/swap/v2/trade/order", order_params(i),
                                              Auth::kSigned, 1'700'000'000'000 + i);
    sign_ns.push_back(std::chrono::duration<double, std::nano>(Clock::now() - start).count());
    sink += url.size();
  }
  const Summary sign = summarize(sign_ns);

  Sim sim;
  // (2) raw REST round trip, one reused connection
  RestClient rest({sim.url(), kKey, kSecret, 5000, 5000, 2000});
  std::vector<double> rest_us;
  int id = 0;
  for (int i = 0; i < kWarmup + kRoundTrips; ++i) {
    const auto start = Clock::now();
    const RestResponse response =
        rest.call("POST", "/openApi/swap/v2/trade/order", order_params(id++), Auth::kSigned, false);
    const double us = since_us(start);
    if (response.http_status != 200 || response.body.find("\"code\":0") == std::string::npos) {
      std::fprintf(stderr, "place failed: %s\n", response.body.c_str());
      return 1;
    }
    if (i >= kWarmup) rest_us.push_back(us);
  }
  const Summary raw = summarize(rest_us);

  // The simulator's book grows with every order and slows it down; each phase starts empty.
  const auto reset = [&] {
    RestClient admin({sim.url(), "", "", 5000, 5000, 2000});
    return admin.call("POST", "/admin/reset", {}, Auth::kNone).http_status == 200;
  };
  if (!reset()) return 1;
  // (3) through the adapter: submit -> worker -> REST -> ACK event -> drain
  BingxConfig config;
  config.base_url = sim.url();
  config.api_key = kKey;
  config.api_secret = kSecret;
  config.order_id_prefix = "bench";
  config.start_stream = false;  // fills would arrive on the stream; we time the ACK
  config.log = [](LogLevel, std::string_view) {};
  BingxVenue venue(config);
  if (auto started = venue.start(); !started) {
    std::fprintf(stderr, "start failed: %s\n", started.error().message.c_str());
    return 1;
  }
  std::vector<double> venue_us;
  std::vector<dita::core::VenueEvent> events;
  for (int i = 0; i < kWarmup + kRoundTrips; ++i) {
    dita::core::VenueCommand command;
    command.type = dita::core::KernelCommandType::kPlaceOrder;
    command.order = {0, static_cast<std::uint32_t>(i + 1), 0, 0};
    command.symbol = *dita::core::Symbol::parse("BTC-USDT");
    command.side = i % 2 == 0 ? dita::core::OrderSide::kBuy : dita::core::OrderSide::kSell;
    command.quantity = dita::core::Quantity::from_units(10'000);
    const auto start = Clock::now();
    venue.submit(command, 0);
    events.clear();
    while (events.empty()) {
      venue.wait_for_events(1000);
      venue.drain(events);
    }
    const double us = since_us(start);
    if (events.front().kind != dita::core::KernelEventKind::kAck) {
      std::fprintf(stderr, "expected ACK, got %d\n", static_cast<int>(events.front().kind));
      return 1;
    }
    if (i >= kWarmup) venue_us.push_back(us);
  }
  const Summary adapter = summarize(venue_us);
  venue.stop();

  // (2) again after (3), on an empty book again: the run-to-run spread of the raw path.
  if (!reset()) return 1;
  rest_us.clear();
  for (int i = 0; i < kRoundTrips; ++i) {
    const auto start = Clock::now();
    const RestResponse response =
        rest.call("POST", "/openApi/swap/v2/trade/order", order_params(id++), Auth::kSigned, false);
    rest_us.push_back(since_us(start));
    if (response.http_status != 200) return 1;
  }
  const Summary raw_after = summarize(rest_us);

  std::printf("request build + sign      p50 %8.0f ns  p99 %8.0f ns  p99.9 %8.0f ns  (n=%d)\n",
              sign.p50, sign.p99, sign.p999, kSignIterations);
  std::printf("place round trip, REST    p50 %8.1f us  p99 %8.1f us  p99.9 %8.1f us  (n=%d)\n",
              raw.p50, raw.p99, raw.p999, kRoundTrips);
  std::printf("place round trip, venue   p50 %8.1f us  p99 %8.1f us  p99.9 %8.1f us  (n=%d)\n",
              adapter.p50, adapter.p99, adapter.p999, kRoundTrips);
  std::printf("place round trip, REST 2  p50 %8.1f us  p99 %8.1f us  p99.9 %8.1f us  (n=%d)\n",
              raw_after.p50, raw_after.p99, raw_after.p999, kRoundTrips);
  std::printf(
      "{\"rest_after_us\":{\"p50\":%.1f,\"p99\":%.1f},\"sign_ns\":{\"p50\":%.0f,\"p99\":%.0f,"
      "\"p999\":%.0f},\"rest_us\":{\"p50\":%.1f,\"p99\":%.1f,"
      "\"p999\":%.1f},\"venue_us\":{\"p50\":%.1f,\"p99\":%.1f,\"p999\":%.1f},\"budget_p50_us\":200,"
      "\"checksum\":%zu}\n",
      raw_after.p50, raw_after.p99, sign.p50, sign.p99, sign.p999, raw.p50, raw.p99, raw.p999,
      adapter.p50, adapter.p99, adapter.p999, sink % 10);
  return 0;
}
