// Minimal HTTP/1.1 server on plain sockets for the BingX simulator. It exists instead of
// cpp-httplib because fault injection needs what a library hides: closing a connection
// without answering, holding a request open, and handing the raw socket to the WebSocket
// upgrade on the same port. Thread per connection; Content-Length bodies only.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace dita::sim {

struct HttpRequest {
  std::string method;
  std::string target;  // as sent: path?query
  std::string path;
  std::string query;                           // raw, without '?'
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string body;
  std::string peer_address;

  [[nodiscard]] std::string header(const std::string& lower_name) const {
    const auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct HttpResponse {
  enum class Disposition { kRespond, kDrop, kHold };
  int status = 200;
  std::string content_type = "application/json; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  Disposition disposition = Disposition::kRespond;
  std::int64_t delay_ms = 0;  // added latency before answering (or dropping)
  std::int64_t hold_ms = 0;   // kHold: keep the request open this long, then close
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  // Takes over the socket after a WebSocket upgrade request; returns when the session ends.
  using UpgradeHandler = std::function<void(const HttpRequest&, int fd)>;

  HttpServer(Handler handler, UpgradeHandler upgrade);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens; returns the actual port (port 0 picks a free one) or an error text.
  bool bind(const std::string& host, std::uint16_t port, std::uint16_t& bound_port,
            std::string& error);
  void run();   // accept loop; returns after stop()
  void stop();  // thread-safe
  [[nodiscard]] bool stopping() const { return stopping_.load(); }
  // Sleeps up to `ms`, waking early on stop(); false if the server is stopping.
  bool sleep_for(std::int64_t ms) const;

 private:
  struct Connection {
    int fd = -1;
    std::thread thread;
    std::atomic<bool> done{false};
  };

  void serve(Connection& conn, const std::string& peer);
  void reap(bool all);

  Handler handler_;
  UpgradeHandler upgrade_;
  int listen_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::vector<std::unique_ptr<Connection>> connections_;
};

// Writes all bytes (MSG_NOSIGNAL); false on error.
bool send_all(int fd, std::string_view data);

}  // namespace dita::sim
