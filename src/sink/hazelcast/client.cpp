// Synchronous unisocket Hazelcast client over POSIX sockets. All socket I/O is non-blocking
// with poll() against a per-call deadline, so no call can hang past its timeout.
#include "dita/sink/hazelcast/client.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <random>

namespace dita::sink::hazelcast {
namespace {

namespace proto = protocol;

constexpr std::string_view kPreamble = "CP2";
// The member caps messages at 4096 bytes until the client is authenticated.
constexpr std::size_t kMaxUnauthenticatedMessage = 4096;
// Leaves room for the name and headers next to the largest Data we agree to send.
constexpr std::size_t kMaxTextBytes = proto::kMaxFrameBytes - 1024;

std::string errno_text(int error) {
  return std::string(std::strerror(error));
}

int remaining_ms(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return static_cast<int>(std::clamp<std::int64_t>(left.count(), 0, 60'000));
}

bool is_transport_error(ErrorCode code) {
  return code == ErrorCode::kConnectionLost || code == ErrorCode::kTimeout ||
         code == ErrorCode::kMalformedMessage || code == ErrorCode::kUnexpectedMessage ||
         code == ErrorCode::kConnectFailed || code == ErrorCode::kAuthenticationFailed;
}

Result<void> validate_name(std::string_view what, std::string_view name) {
  if (name.empty()) return make_error(ErrorCode::kInvalidArgument, std::string(what) + " is empty");
  if (name.size() > 1024) {
    return make_error(ErrorCode::kInvalidArgument, std::string(what) + " exceeds 1024 bytes");
  }
  if (!proto::is_valid_utf8(name)) {
    return make_error(ErrorCode::kInvalidArgument, std::string(what) + " is not valid UTF-8");
  }
  return {};
}

Result<void> validate_text(std::string_view what, std::string_view text, bool allow_empty) {
  if (!allow_empty && text.empty()) {
    return make_error(ErrorCode::kInvalidArgument, std::string(what) + " is empty");
  }
  if (text.size() > kMaxTextBytes) {
    return make_error(ErrorCode::kInvalidArgument,
                      std::string(what) + " exceeds " + std::to_string(kMaxTextBytes) + " bytes");
  }
  if (!proto::is_valid_utf8(text)) {
    return make_error(ErrorCode::kInvalidArgument, std::string(what) + " is not valid UTF-8");
  }
  return {};
}

Result<std::optional<JsonValue>> to_json_value(std::optional<proto::Bytes> data) {
  if (!data) return std::optional<JsonValue>{};
  auto text = proto::decode_text_data(*data, proto::kJsonTypeId);
  if (!text) return std::unexpected(text.error());
  return std::optional<JsonValue>(JsonValue{std::move(*text)});
}

}  // namespace

Client::Client(ClientConfig config) : config_(std::move(config)) {
  // The member identifies clients by UUID; a fresh one per client object is what the official
  // clients do too. It never reaches journals, so determinism does not depend on it.
  std::random_device device;
  std::mt19937_64 generator((std::uint64_t{device()} << 32) | device());
  client_uuid_ = {static_cast<std::int64_t>(generator()), static_cast<std::int64_t>(generator())};
}

Client::~Client() {
  drop_connection();
}

Result<void> Client::connect() {
  std::lock_guard lock(mutex_);
  return ensure_connected();
}

void Client::disconnect() {
  std::lock_guard lock(mutex_);
  drop_connection();
}

bool Client::is_connected() const {
  std::lock_guard lock(mutex_);
  return fd_ >= 0;
}

std::int32_t Client::partition_count() const {
  std::lock_guard lock(mutex_);
  return partition_count_;
}

std::uint64_t Client::connection_count() const {
  std::lock_guard lock(mutex_);
  return connection_count_;
}

std::string Client::server_version() const {
  std::lock_guard lock(mutex_);
  return server_version_;
}

void Client::drop_connection() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  decoder_ = proto::FrameDecoder{};
  proxies_.clear();
}

std::unexpected<HazelcastError> Client::fail(HazelcastError error) {
  if (is_transport_error(error.code)) drop_connection();
  return std::unexpected(std::move(error));
}

bool Client::connection_looks_closed() {
  // An idle connection the member closed (restart, idle timeout) reads as EOF or an error.
  // Anything readable that is data (an unsolicited event) is kept for the decoder.
  pollfd pfd{fd_, POLLIN, 0};
  if (::poll(&pfd, 1, 0) <= 0) return false;
  if ((pfd.revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) return true;
  std::array<std::uint8_t, 4096> buffer{};
  const ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), 0);
  if (n == 0) return true;
  if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
  decoder_.feed(proto::ByteView(buffer.data(), static_cast<std::size_t>(n)));
  return false;
}

Result<void> Client::ensure_connected() {
  if (fd_ >= 0 && !connection_looks_closed()) return {};
  drop_connection();
  if (auto opened = open_socket(); !opened) return fail(opened.error());
  if (auto logged_in = login(); !logged_in) return fail(logged_in.error());
  ++connection_count_;
  return {};
}

Result<void> Client::open_socket() {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(config_.port);
  if (const int rc = ::getaddrinfo(config_.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return make_error(ErrorCode::kConnectFailed,
                      "cannot resolve " + config_.host + ": " + ::gai_strerror(rc));
  }
  std::string last_error = "no address";
  const auto deadline = Clock::now() + config_.connect_timeout;
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    const int fd =
        ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last_error = errno_text(errno);
      continue;
    }
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd pfd{fd, POLLOUT, 0};
      rc = ::poll(&pfd, 1, remaining_ms(deadline));
      if (rc == 0) {
        last_error = "timed out after " + std::to_string(config_.connect_timeout.count()) + " ms";
        ::close(fd);
        continue;
      }
      int so_error = 0;
      socklen_t len = sizeof(so_error);
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
      rc = so_error == 0 ? 0 : -1;
      errno = so_error;
    }
    if (rc != 0) {
      last_error = errno_text(errno);
      ::close(fd);
      continue;
    }
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fd_ = fd;
    break;
  }
  ::freeaddrinfo(found);
  if (fd_ < 0) {
    return make_error(ErrorCode::kConnectFailed,
                      "cannot connect to " + config_.host + ":" + port + ": " + last_error);
  }
  return {};
}

Result<void> Client::login() {
  proto::AuthenticationRequest request;
  request.cluster_name = config_.cluster_name;
  request.client_uuid = client_uuid_;
  request.client_name = config_.client_name;
  const std::int64_t id = next_correlation_id();
  proto::Bytes bytes(kPreamble.begin(), kPreamble.end());
  const proto::Bytes auth = proto::encode_authentication(request, id);
  if (auth.size() > kMaxUnauthenticatedMessage) {
    return make_error(ErrorCode::kInvalidArgument,
                      "authentication request exceeds the member's 4096-byte pre-login limit");
  }
  bytes.insert(bytes.end(), auth.begin(), auth.end());
  const auto deadline = Clock::now() + config_.call_timeout;
  if (auto written = write_all(bytes, deadline); !written) return std::unexpected(written.error());
  for (;;) {
    auto message = decoder_.next();
    if (!message) return std::unexpected(message.error());
    if (!*message) {
      if (auto read = read_some(deadline); !read) return std::unexpected(read.error());
      continue;
    }
    if ((*message)->correlation_id() != id || (*message)->is_event()) continue;
    auto response = proto::decode_authentication_response(**message);
    if (!response) {
      if (response.error().code == ErrorCode::kServerError) {
        HazelcastError error = response.error();
        error.code = ErrorCode::kAuthenticationFailed;
        return std::unexpected(std::move(error));
      }
      return std::unexpected(response.error());
    }
    if (response->status != proto::kAuthenticated) {
      static constexpr std::array<std::string_view, 4> kStatus = {
          "AUTHENTICATED", "CREDENTIALS_FAILED (is the cluster name right?)",
          "SERIALIZATION_VERSION_MISMATCH", "NOT_ALLOWED_IN_CLUSTER"};
      const std::string status = response->status < kStatus.size()
                                     ? std::string(kStatus[response->status])
                                     : "status " + std::to_string(response->status);
      return make_error(ErrorCode::kAuthenticationFailed,
                        "member refused cluster '" + config_.cluster_name + "': " + status);
    }
    if (response->partition_count <= 0) {
      return make_error(
          ErrorCode::kMalformedMessage,
          "member reported partition count " + std::to_string(response->partition_count));
    }
    partition_count_ = response->partition_count;
    server_version_ = std::move(response->server_version);
    return {};
  }
}

Result<void> Client::write_all(proto::ByteView bytes, Clock::time_point deadline) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd pfd{fd_, POLLOUT, 0};
      const int rc = ::poll(&pfd, 1, remaining_ms(deadline));
      if (rc == 0) return make_error(ErrorCode::kTimeout, "timed out writing a request");
      continue;
    }
    return make_error(ErrorCode::kConnectionLost, "write failed: " + errno_text(errno));
  }
  last_send_ = Clock::now();
  return {};
}

Result<void> Client::read_some(Clock::time_point deadline) {
  std::array<std::uint8_t, 64 * 1024> buffer{};
  for (;;) {
    pollfd pfd{fd_, POLLIN, 0};
    const int timeout = remaining_ms(deadline);
    const int rc = ::poll(&pfd, 1, timeout);
    if (rc < 0 && errno == EINTR) continue;
    if (rc == 0) {
      return make_error(
          ErrorCode::kTimeout,
          "no response within " + std::to_string(config_.call_timeout.count()) + " ms");
    }
    const ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), 0);
    if (n > 0) {
      decoder_.feed(proto::ByteView(buffer.data(), static_cast<std::size_t>(n)));
      return {};
    }
    if (n == 0) return make_error(ErrorCode::kConnectionLost, "member closed the connection");
    if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
    return make_error(ErrorCode::kConnectionLost, "read failed: " + errno_text(errno));
  }
}

Result<std::vector<proto::Message>> Client::invoke(std::vector<proto::Bytes> requests,
                                                   std::vector<std::int64_t> correlation_ids) {
  const auto deadline = Clock::now() + config_.call_timeout;
  proto::Bytes batch;
  for (const auto& request : requests) batch.insert(batch.end(), request.begin(), request.end());
  if (auto written = write_all(batch, deadline); !written) return fail(written.error());
  std::map<std::int64_t, std::size_t> waiting;
  for (std::size_t i = 0; i < correlation_ids.size(); ++i) waiting[correlation_ids[i]] = i;
  std::vector<proto::Message> responses(correlation_ids.size());
  while (!waiting.empty()) {
    auto message = decoder_.next();
    if (!message) return fail(message.error());
    if (!*message) {
      if (auto read = read_some(deadline); !read) return fail(read.error());
      continue;
    }
    // Events and late answers to calls that already failed are not ours: skip them.
    if ((*message)->is_event()) continue;
    auto it = waiting.find((*message)->correlation_id());
    if (it == waiting.end()) continue;
    responses[it->second] = std::move(**message);
    waiting.erase(it);
  }
  return responses;
}

Result<proto::Message> Client::invoke_one(proto::Bytes request, std::int64_t correlation_id) {
  std::vector<proto::Bytes> requests;
  requests.push_back(std::move(request));
  auto responses = invoke(std::move(requests), {correlation_id});
  if (!responses) return std::unexpected(responses.error());
  return std::move(responses->front());
}

Result<void> Client::ensure_proxy(std::string_view name, std::string_view service) {
  // Official clients create the distributed object before first use; doing the same keeps the
  // member's view (management, listeners, other clients' getDistributedObjects) identical.
  auto key = std::make_pair(std::string(service), std::string(name));
  if (proxies_.contains(key)) return {};
  const std::int64_t id = next_correlation_id();
  auto response = invoke_one(proto::encode_create_proxy(name, service, id), id);
  if (!response) return std::unexpected(response.error());
  if (auto ok = proto::decode_empty_response(*response, proto::kClientCreateProxy); !ok) {
    return fail(ok.error());
  }
  proxies_.insert(std::move(key));
  return {};
}

Result<void> Client::ping() {
  std::lock_guard lock(mutex_);
  if (auto connected = ensure_connected(); !connected) return connected;
  const std::int64_t id = next_correlation_id();
  auto response = invoke_one(proto::encode_ping(id), id);
  if (!response) return std::unexpected(response.error());
  if (auto ok = proto::decode_empty_response(*response, proto::kClientPing); !ok) {
    return fail(ok.error());
  }
  return {};
}

Result<void> Client::ping_if_idle() {
  {
    std::lock_guard lock(mutex_);
    if (fd_ < 0 || Clock::now() - last_send_ < config_.heartbeat_interval) return {};
  }
  return ping();
}

Result<void> Client::map_set(std::string_view map, std::string_view key, const JsonValue& value) {
  if (auto ok = validate_name("map name", map); !ok) return ok;
  if (auto ok = validate_text("key", key, true); !ok) return ok;
  if (auto ok = validate_text("value", value.text, false); !ok) return ok;
  std::lock_guard lock(mutex_);
  if (auto ok = ensure_connected(); !ok) return ok;
  if (auto ok = ensure_proxy(map, proto::kMapServiceName); !ok) return ok;
  const proto::Bytes key_data = proto::string_data(key);
  const std::int64_t id = next_correlation_id();
  auto response = invoke_one(
      proto::encode_map_set(map, key_data, proto::json_data(value.text), config_.thread_id, -1,
                            proto::partition_id(key_data, partition_count_), id),
      id);
  if (!response) return std::unexpected(response.error());
  if (auto ok = proto::decode_empty_response(*response, proto::kMapSet); !ok) {
    return fail(ok.error());
  }
  return {};
}

Result<std::optional<JsonValue>> Client::map_get(std::string_view map, std::string_view key) {
  return keyed_value_call(map, key, &proto::encode_map_get, proto::kMapGet);
}

Result<std::optional<JsonValue>> Client::map_remove(std::string_view map, std::string_view key) {
  return keyed_value_call(map, key, &proto::encode_map_remove, proto::kMapRemove);
}

// Map.Get and Map.Remove share their request shape (map, key, thread, partition) and answer
// with the nullable previous value.
Result<std::optional<JsonValue>> Client::keyed_value_call(std::string_view map,
                                                          std::string_view key, KeyedEncoder encode,
                                                          std::int32_t message_type) {
  if (auto ok = validate_name("map name", map); !ok) return std::unexpected(ok.error());
  if (auto ok = validate_text("key", key, true); !ok) return std::unexpected(ok.error());
  std::lock_guard lock(mutex_);
  if (auto ok = ensure_connected(); !ok) return std::unexpected(ok.error());
  if (auto ok = ensure_proxy(map, proto::kMapServiceName); !ok) return std::unexpected(ok.error());
  const proto::Bytes key_data = proto::string_data(key);
  const std::int64_t id = next_correlation_id();
  auto response = invoke_one(
      encode(map, key_data, config_.thread_id, proto::partition_id(key_data, partition_count_), id),
      id);
  if (!response) return std::unexpected(response.error());
  auto data = proto::decode_nullable_data_response(*response, message_type);
  if (!data) return fail(data.error());
  return to_json_value(std::move(*data));
}

Result<void> Client::map_put_all(std::string_view map, std::span<const MapEntry> entries) {
  if (auto ok = validate_name("map name", map); !ok) return ok;
  for (const MapEntry& entry : entries) {
    if (auto ok = validate_text("key", entry.key, true); !ok) return ok;
    if (auto ok = validate_text("value", entry.value.text, false); !ok) return ok;
  }
  if (entries.empty()) return {};
  std::lock_guard lock(mutex_);
  if (auto ok = ensure_connected(); !ok) return ok;
  if (auto ok = ensure_proxy(map, proto::kMapServiceName); !ok) return ok;
  // The member applies a putAll message to the one partition in its header, so entries are
  // grouped by partition (as the official clients do) and the groups are pipelined.
  std::map<std::int32_t, std::vector<proto::DataEntry>> by_partition;
  std::size_t group_bytes = 0;
  for (const MapEntry& entry : entries) {
    proto::Bytes key_data = proto::string_data(entry.key);
    const std::int32_t partition = proto::partition_id(key_data, partition_count_);
    group_bytes += key_data.size() + entry.value.text.size();
    by_partition[partition].emplace_back(std::move(key_data), proto::json_data(entry.value.text));
  }
  if (group_bytes > proto::kMaxMessageBytes / 2) {
    return make_error(ErrorCode::kInvalidArgument, "putAll batch too large; split it");
  }
  std::vector<proto::Bytes> requests;
  std::vector<std::int64_t> ids;
  for (const auto& [partition, group] : by_partition) {
    const std::int64_t id = next_correlation_id();
    requests.push_back(proto::encode_map_put_all(map, group, true, partition, id));
    ids.push_back(id);
  }
  auto responses = invoke(std::move(requests), std::move(ids));
  if (!responses) return std::unexpected(responses.error());
  for (const proto::Message& response : *responses) {
    if (auto ok = proto::decode_empty_response(response, proto::kMapPutAll); !ok) {
      return fail(ok.error());
    }
  }
  return {};
}

Result<std::vector<MapEntry>> Client::map_entry_set(std::string_view map) {
  if (auto ok = validate_name("map name", map); !ok) return std::unexpected(ok.error());
  std::lock_guard lock(mutex_);
  if (auto ok = ensure_connected(); !ok) return std::unexpected(ok.error());
  if (auto ok = ensure_proxy(map, proto::kMapServiceName); !ok) return std::unexpected(ok.error());
  const std::int64_t id = next_correlation_id();
  auto response = invoke_one(proto::encode_map_entry_set(map, id), id);
  if (!response) return std::unexpected(response.error());
  auto entries = proto::decode_entry_list_response(*response, proto::kMapEntrySet);
  if (!entries) return fail(entries.error());
  std::vector<MapEntry> result;
  result.reserve(entries->size());
  for (const auto& [key_data, value_data] : *entries) {
    auto key = proto::decode_text_data(key_data, proto::kStringTypeId);
    if (!key) return std::unexpected(key.error());
    auto value = proto::decode_text_data(value_data, proto::kJsonTypeId);
    if (!value) return std::unexpected(value.error());
    result.push_back(MapEntry{std::move(*key), JsonValue{std::move(*value)}});
  }
  return result;
}

Result<std::int32_t> Client::map_size(std::string_view map) {
  if (auto ok = validate_name("map name", map); !ok) return std::unexpected(ok.error());
  std::lock_guard lock(mutex_);
  if (auto ok = ensure_connected(); !ok) return std::unexpected(ok.error());
  if (auto ok = ensure_proxy(map, proto::kMapServiceName); !ok) return std::unexpected(ok.error());
  const std::int64_t id = next_correlation_id();
  auto response = invoke_one(proto::encode_map_size(map, id), id);
  if (!response) return std::unexpected(response.error());
  auto size = proto::decode_int_response(*response, proto::kMapSize);
  if (!size) return fail(size.error());
  return *size;
}

Result<void> Client::topic_publish(std::string_view topic, const JsonValue& message) {
  if (auto ok = validate_name("topic name", topic); !ok) return ok;
  if (auto ok = validate_text("message", message.text, false); !ok) return ok;
  std::lock_guard lock(mutex_);
  if (auto ok = ensure_connected(); !ok) return ok;
  if (auto ok = ensure_proxy(topic, proto::kTopicServiceName); !ok) return ok;
  const std::int32_t partition =
      proto::partition_id(proto::string_data(proto::topic_partition_key(topic)), partition_count_);
  const std::int64_t id = next_correlation_id();
  auto response = invoke_one(
      proto::encode_topic_publish(topic, proto::json_data(message.text), partition, id), id);
  if (!response) return std::unexpected(response.error());
  if (auto ok = proto::decode_empty_response(*response, proto::kTopicPublish); !ok) {
    return fail(ok.error());
  }
  return {};
}

}  // namespace dita::sink::hazelcast
