// Owns DITA's synchronous Hazelcast client: one TCP connection to one member ("unisocket"),
// the CP2 preamble and authentication, request/response matching by correlation id, and the
// map/topic operations the sinks need (String keys, HazelcastJsonValue values).
//
// Failure model: every call returns Result<T>; nothing throws. Losing the connection, a call
// timeout or a malformed byte stream closes the socket and fails the call in flight; the next
// call reconnects and re-authenticates. A connection that the member already closed while we
// were idle is noticed before a request is written and replaced without failing the call (the
// request had not been sent, so nothing can apply twice). Server-side errors (e.g. a bad
// argument) keep the connection.
//
// Threading: calls are serialised by an internal mutex; the client is meant to be owned by one
// sink thread. Members drop clients they have not heard from for a while, so an idle owner
// calls ping_if_idle() from its loop.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dita/sink/hazelcast/error.hpp"
#include "dita/sink/hazelcast/protocol.hpp"

namespace dita::sink::hazelcast {

struct ClientConfig {
  std::string host = "127.0.0.1";
  std::uint16_t port = 5701;
  std::string cluster_name = "dita";
  std::string client_name = "dita";
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds call_timeout{5000};
  std::chrono::milliseconds heartbeat_interval{5000};
  // Only map locks look at the thread id; this client never locks, so any constant works.
  std::int64_t thread_id = 1;
};

// A JSON document stored as a HazelcastJsonValue (serializer type -130), which every official
// client, SQL and predicates read natively. Like the official clients, the text is not parsed.
struct JsonValue {
  std::string text;
  friend bool operator==(const JsonValue&, const JsonValue&) = default;
};

struct MapEntry {
  std::string key;
  JsonValue value;
  friend bool operator==(const MapEntry&, const MapEntry&) = default;
};

class Client {
 public:
  explicit Client(ClientConfig config);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  Client(Client&&) = delete;
  Client& operator=(Client&&) = delete;

  // Connects and authenticates now; every operation also does this on demand.
  Result<void> connect();
  void disconnect();

  [[nodiscard]] bool is_connected() const;
  // Partition count reported at the last login; 0 before the first one.
  [[nodiscard]] std::int32_t partition_count() const;
  // Successful logins so far (1 after the first connect; grows with every reconnect).
  [[nodiscard]] std::uint64_t connection_count() const;
  [[nodiscard]] std::string server_version() const;

  Result<void> ping();
  // Pings when connected and nothing was sent for heartbeat_interval; otherwise does nothing.
  Result<void> ping_if_idle();

  // Map.set: stores without returning the old value (cheaper than put).
  Result<void> map_set(std::string_view map, std::string_view key, const JsonValue& value);
  Result<std::optional<JsonValue>> map_get(std::string_view map, std::string_view key);
  // Map.remove: returns the removed value, if any.
  Result<std::optional<JsonValue>> map_remove(std::string_view map, std::string_view key);
  // Map.putAll, one message per partition, pipelined. Not atomic across partitions: on error
  // some partitions may have been written; re-sending the same entries is harmless.
  Result<void> map_put_all(std::string_view map, std::span<const MapEntry> entries);
  Result<std::vector<MapEntry>> map_entry_set(std::string_view map);
  Result<std::int32_t> map_size(std::string_view map);
  Result<void> topic_publish(std::string_view topic, const JsonValue& message);

 private:
  using Clock = std::chrono::steady_clock;
  using KeyedEncoder = protocol::Bytes (*)(std::string_view, protocol::ByteView, std::int64_t,
                                           std::int32_t, std::int64_t);

  Result<std::optional<JsonValue>> keyed_value_call(std::string_view map, std::string_view key,
                                                    KeyedEncoder encode, std::int32_t message_type);

  Result<void> ensure_connected();
  Result<void> open_socket();
  Result<void> login();
  void drop_connection();
  bool connection_looks_closed();
  Result<void> ensure_proxy(std::string_view name, std::string_view service);
  std::int64_t next_correlation_id() { return next_correlation_id_++; }
  // Sends every request, then waits for a response to each correlation id (in any order).
  Result<std::vector<protocol::Message>> invoke(std::vector<protocol::Bytes> requests,
                                                std::vector<std::int64_t> correlation_ids);
  Result<protocol::Message> invoke_one(protocol::Bytes request, std::int64_t correlation_id);
  Result<void> write_all(protocol::ByteView bytes, Clock::time_point deadline);
  Result<void> read_some(Clock::time_point deadline);
  // Fails a call with `error`; transport-level errors also drop the connection.
  std::unexpected<HazelcastError> fail(HazelcastError error);

  mutable std::mutex mutex_;
  ClientConfig config_;
  int fd_ = -1;
  protocol::FrameDecoder decoder_;
  std::int64_t next_correlation_id_ = 1;
  std::int32_t partition_count_ = 0;
  std::uint64_t connection_count_ = 0;
  std::string server_version_;
  std::pair<std::int64_t, std::int64_t> client_uuid_;
  std::set<std::pair<std::string, std::string>> proxies_;  // (service, name) on this connection
  Clock::time_point last_send_{};
};

}  // namespace dita::sink::hazelcast
