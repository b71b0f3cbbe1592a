// Minimal HTTP/1.1 server; see http_server.hpp for why it exists.
#include "http_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace dita::sim {

namespace {

constexpr std::size_t kMaxHeaderBytes = 64 * 1024;
constexpr std::size_t kMaxBodyBytes = 1024 * 1024;
constexpr int kPollSliceMs = 50;
constexpr std::int64_t kIdleTimeoutMs = 120'000;

std::string lower(std::string s) {
  for (auto& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return std::string(s);
}

const char* reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 413:
      return "Payload Too Large";
    case 418:
      return "I'm a teapot";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Status";
  }
}

std::string serialize(const HttpResponse& res, bool keep_alive) {
  std::string out =
      "HTTP/1.1 " + std::to_string(res.status) + " " + reason_phrase(res.status) + "\r\n";
  out += "Content-Type: " + res.content_type + "\r\n";
  out += "Content-Length: " + std::to_string(res.body.size()) + "\r\n";
  for (const auto& [k, v] : res.headers) out += k + ": " + v + "\r\n";
  out += keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  out += "\r\n";
  out += res.body;
  return out;
}

enum class ReadResult { kOk, kClosed, kStopping, kTooLarge };

}  // namespace

bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        pollfd p{fd, POLLOUT, 0};
        ::poll(&p, 1, kPollSliceMs);
        continue;
      }
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

HttpServer::HttpServer(Handler handler, UpgradeHandler upgrade)
    : handler_(std::move(handler)), upgrade_(std::move(upgrade)) {}

HttpServer::~HttpServer() {
  stop();
  reap(true);
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

bool HttpServer::bind(const std::string& host, std::uint16_t port, std::uint16_t& bound_port,
                      std::string& error) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    error = "not an IPv4 address: " + host;
    return false;
  }
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) {
    error = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  const int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (::bind(listen_fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    error = std::string("bind: ") + std::strerror(errno);
    return false;
  }
  if (::listen(listen_fd_, 128) != 0) {
    error = std::string("listen: ") + std::strerror(errno);
    return false;
  }
  sockaddr_in actual{};
  socklen_t len = sizeof(actual);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&actual), &len);
  bound_port = ntohs(actual.sin_port);
  return true;
}

void HttpServer::stop() {
  stopping_.store(true);
  std::lock_guard lock(mutex_);
  for (auto& c : connections_) {
    if (!c->done.load()) ::shutdown(c->fd, SHUT_RDWR);
  }
}

bool HttpServer::sleep_for(std::int64_t ms) const {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (!stopping_.load()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return true;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    std::this_thread::sleep_for(std::min(left, std::chrono::milliseconds(kPollSliceMs)));
  }
  return false;
}

void HttpServer::reap(bool all) {
  std::vector<std::unique_ptr<Connection>> finished;
  {
    std::lock_guard lock(mutex_);
    for (auto it = connections_.begin(); it != connections_.end();) {
      if (all || (*it)->done.load()) {
        finished.push_back(std::move(*it));
        it = connections_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& c : finished) {
    if (c->thread.joinable()) c->thread.join();
  }
}

void HttpServer::run() {
  while (!stopping_.load()) {
    pollfd p{listen_fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, kPollSliceMs * 2);
    reap(false);
    if (ready <= 0) continue;
    sockaddr_in peer{};
    socklen_t len = sizeof(peer);
    const int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
    if (fd < 0) continue;
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    char peer_text[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &peer.sin_addr, peer_text, sizeof(peer_text));
    auto conn = std::make_unique<Connection>();
    conn->fd = fd;
    Connection& ref = *conn;
    std::lock_guard lock(mutex_);
    if (stopping_.load()) {
      ::close(fd);
      break;
    }
    connections_.push_back(std::move(conn));
    ref.thread = std::thread(
        [this, &ref, peer_address = std::string(peer_text)] { serve(ref, peer_address); });
  }
  reap(true);
}

void HttpServer::serve(Connection& conn, const std::string& peer) {
  const int fd = conn.fd;
  std::string buffer;
  auto read_more = [&](std::int64_t& idle_ms) -> ReadResult {
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, kPollSliceMs);
    if (stopping_.load()) return ReadResult::kStopping;
    if (ready == 0) {
      idle_ms += kPollSliceMs;
      return idle_ms > kIdleTimeoutMs ? ReadResult::kClosed : ReadResult::kOk;
    }
    if (ready < 0) return errno == EINTR ? ReadResult::kOk : ReadResult::kClosed;
    char chunk[8192];
    const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0) return ReadResult::kClosed;
    idle_ms = 0;
    buffer.append(chunk, static_cast<std::size_t>(n));
    return ReadResult::kOk;
  };

  bool keep_alive = true;
  while (keep_alive && !stopping_.load()) {
    std::int64_t idle_ms = 0;
    std::size_t header_end = std::string::npos;
    bool abort = false;
    while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos) {
      if (buffer.size() > kMaxHeaderBytes) {
        HttpResponse too_big;
        too_big.status = 431;
        too_big.body = R"({"code":100400,"msg":"request header too large","data":{}})";
        send_all(fd, serialize(too_big, false));
        abort = true;
        break;
      }
      if (read_more(idle_ms) != ReadResult::kOk) {
        abort = true;
        break;
      }
    }
    if (abort) break;

    HttpRequest req;
    req.peer_address = peer;
    const std::string head = buffer.substr(0, header_end);
    buffer.erase(0, header_end + 4);
    std::size_t line_end = head.find("\r\n");
    const std::string request_line = head.substr(0, line_end);
    const auto sp1 = request_line.find(' ');
    const auto sp2 = request_line.rfind(' ');
    bool bad = sp1 == std::string::npos || sp2 == sp1;
    std::string version;
    if (!bad) {
      req.method = request_line.substr(0, sp1);
      req.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
      version = request_line.substr(sp2 + 1);
      bad = !version.starts_with("HTTP/1.") || req.target.empty() || req.target[0] != '/';
    }
    while (!bad && line_end != std::string::npos) {
      const std::size_t start = line_end + 2;
      line_end = head.find("\r\n", start);
      const std::string line =
          head.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
      if (line.empty()) continue;
      const auto colon = line.find(':');
      if (colon == std::string::npos) {
        bad = true;
        break;
      }
      req.headers[lower(trim(line.substr(0, colon)))] = trim(line.substr(colon + 1));
    }
    std::size_t content_length = 0;
    if (!bad && req.headers.contains("transfer-encoding")) bad = true;  // not supported
    if (!bad && req.headers.contains("content-length")) {
      const std::string& cl = req.headers["content-length"];
      bad = cl.empty() || cl.size() > 9 || cl.find_first_not_of("0123456789") != std::string::npos;
      if (!bad) content_length = std::stoul(cl);
    }
    if (bad || content_length > kMaxBodyBytes) {
      HttpResponse err;
      err.status = bad ? 400 : 413;
      err.body = R"({"code":100400,"msg":"malformed HTTP request","data":{}})";
      send_all(fd, serialize(err, false));
      break;
    }
    while (buffer.size() < content_length) {
      if (read_more(idle_ms) != ReadResult::kOk) {
        abort = true;
        break;
      }
    }
    if (abort) break;
    req.body = buffer.substr(0, content_length);
    buffer.erase(0, content_length);
    const auto qpos = req.target.find('?');
    req.path = req.target.substr(0, qpos);
    if (qpos != std::string::npos) req.query = req.target.substr(qpos + 1);

    const std::string connection = lower(req.header("connection"));
    keep_alive = version == "HTTP/1.1" ? connection != "close" : connection == "keep-alive";

    if (lower(req.header("upgrade")) == "websocket") {
      upgrade_(req, fd);
      break;
    }

    HttpResponse res = handler_(req);
    if (res.delay_ms > 0 && !sleep_for(res.delay_ms)) break;
    if (res.disposition == HttpResponse::Disposition::kDrop) break;
    if (res.disposition == HttpResponse::Disposition::kHold) {
      // Sit on the request until the hold ends, the client gives up, or we stop.
      const auto deadline =
          std::chrono::steady_clock::now() + std::chrono::milliseconds(res.hold_ms);
      while (!stopping_.load() && std::chrono::steady_clock::now() < deadline) {
        pollfd p{fd, POLLIN | POLLRDHUP, 0};
        if (::poll(&p, 1, kPollSliceMs) > 0) {
          char scratch[512];
          if ((p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0) break;
          if (::recv(fd, scratch, sizeof(scratch), MSG_DONTWAIT) <= 0) break;
        }
      }
      break;
    }
    if (!send_all(fd, serialize(res, keep_alive))) break;
  }
  ::shutdown(fd, SHUT_RDWR);
  // Close under the lock so stop() never shuts down a descriptor number already reused.
  std::lock_guard lock(mutex_);
  ::close(fd);
  conn.done.store(true);
}

}  // namespace dita::sim
