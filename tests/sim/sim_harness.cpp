// Harness implementation; see sim_harness.hpp.
#include "sim_harness.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include "sim/websocket.hpp"

namespace dita::sim::testing {

namespace {

std::size_t collect(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
  ~CurlGlobal() { curl_global_cleanup(); }
};

}  // namespace

SimProcess::SimProcess(const std::string& config_json, std::vector<std::string> extra) {
  std::vector<std::string> args{DITA_BINGX_SIM_PATH, "--port", "0"};
  if (!config_json.empty()) {
    char path[] = "/tmp/dita-sim-config-XXXXXX";
    const int fd = ::mkstemp(path);
    if (fd < 0) throw std::runtime_error("mkstemp failed");
    ::close(fd);
    config_path_ = path;
    std::ofstream(config_path_) << config_json;
    args.push_back("--config");
    args.push_back(config_path_);
  }
  for (auto& e : extra) args.push_back(std::move(e));
  int out[2];
  if (::pipe(out) != 0) throw std::runtime_error("pipe failed");
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    ::close(out[0]);
    ::close(out[1]);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  // Read until the "listening HOST:PORT" line (the child flushes it once bound).
  std::string line;
  char c = 0;
  while (::read(out[0], &c, 1) == 1 && c != '\n') line.push_back(c);
  ::close(out[0]);
  const auto colon = line.rfind(':');
  if (!line.starts_with("listening ") || colon == std::string::npos) {
    stop();
    throw std::runtime_error("simulator did not report its address: '" + line + "'");
  }
  port_ = static_cast<std::uint16_t>(std::stoi(line.substr(colon + 1)));
}

SimProcess::~SimProcess() {
  // A non-zero exit means the simulator crashed or a sanitizer fired in the child.
  if (pid_ > 0) {
    const int status = stop();
    if (status != 0) ADD_FAILURE() << "dita-bingx-sim exited with status " << status;
  }
  if (!config_path_.empty()) std::remove(config_path_.c_str());
}

std::string SimProcess::base_url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

int SimProcess::stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

HttpResult http(const std::string& method, const std::string& url,
                const std::vector<std::string>& headers, const std::string& body, long timeout_ms) {
  static CurlGlobal global;
  HttpResult result;
  CURL* curl = curl_easy_init();
  curl_slist* list = nullptr;
  for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &result.body);
  if (!body.empty() || method == "POST" || method == "PUT") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  result.curl_code = static_cast<int>(curl_easy_perform(curl));
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &result.status);
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return result;
}

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

HttpResult signed_call(const SimProcess& sim, const std::string& method, const std::string& path,
                       venue::bingx::QueryParams params, std::optional<std::int64_t> timestamp,
                       const std::string& api_key, const std::string& secret, long timeout_ms) {
  const auto signed_request = venue::bingx::sign_request(
      std::move(params), secret, timestamp.value_or(wall_ms()), std::nullopt);
  return http(method, sim.base_url() + path + "?" + signed_request.query,
              {"X-BX-APIKEY: " + api_key}, "", timeout_ms);
}

HttpResult admin(const SimProcess& sim, const std::string& method, const std::string& path,
                 const std::string& body) {
  return http(method, sim.base_url() + path, {"Content-Type: application/json"}, body);
}

WsClient::WsClient(std::uint16_t port, const std::string& target) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return;
  const std::string request =
      "GET " + target +
      " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Sec-WebSocket-Version: 13\r\n\r\n";
  if (::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) < 0) return;
  while (buffer_.find("\r\n\r\n") == std::string::npos) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 10000) <= 0) return;
    char chunk[4096];
    const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) break;
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
  const auto end = buffer_.find("\r\n\r\n");
  handshake_ = buffer_.substr(0, end);
  if (end != std::string::npos) buffer_.erase(0, end + 4);
  connected_ = handshake_.starts_with("HTTP/1.1 101");
}

WsClient::~WsClient() {
  if (fd_ >= 0) ::close(fd_);
}

std::optional<std::string> WsClient::next_message(int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    ws::Frame frame;
    const auto status = ws::decode_frame(buffer_, frame);
    if (status == ws::DecodeStatus::kError) return std::nullopt;
    if (status == ws::DecodeStatus::kFrame) {
      if (frame.opcode == ws::kOpClose) return std::nullopt;
      if (frame.opcode == ws::kOpBinary) {
        auto text = ws::gzip_decompress(frame.payload);
        if (!text) return std::string("<not gzip>");
        return text;
      }
      if (frame.opcode == ws::kOpText) return "<uncompressed text>" + frame.payload;
      continue;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) return std::nullopt;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) return std::nullopt;
    char chunk[8192];
    const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) return std::nullopt;
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
}

std::optional<nlohmann::json> WsClient::next_event(const std::string& event_type, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    auto message = next_message(static_cast<int>(std::max<std::int64_t>(left, 1)));
    if (!message) return std::nullopt;
    if (*message == "Ping") {
      send_text("Pong");
      continue;
    }
    auto j = nlohmann::json::parse(*message, nullptr, false);
    if (!j.is_discarded() && j.value("e", "") == event_type) return j;
  }
  return std::nullopt;
}

bool WsClient::send_text(const std::string& text) {
  const std::string frame = ws::encode_masked_frame(ws::kOpText, text, 0x12345678U);
  return ::send(fd_, frame.data(), frame.size(), MSG_NOSIGNAL) ==
         static_cast<ssize_t>(frame.size());
}

}  // namespace dita::sim::testing
