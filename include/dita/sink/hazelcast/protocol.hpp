// Owns the wire format of the Hazelcast Open Binary Client Protocol 2.x as DITA uses it:
// frames and messages (encode + incremental, bounds-checked decode, fragment reassembly),
// the request encoders and response decoders for the few operations DITA needs, the `Data`
// serialization of String and HazelcastJsonValue, and murmur3 partition ids.
// Everything here is a pure function of its inputs (no sockets), so it is unit-tested against
// golden bytes produced by the official Python client's codecs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dita/sink/hazelcast/error.hpp"

namespace dita::sink::hazelcast::protocol {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

// --- frames ------------------------------------------------------------------------------------
inline constexpr std::size_t kFrameHeaderSize = 6;  // int32 LE length (incl. header) + u16 flags
inline constexpr std::uint16_t kBeginFragmentFlag = 0x8000;
inline constexpr std::uint16_t kEndFragmentFlag = 0x4000;
inline constexpr std::uint16_t kUnfragmentedFlags = kBeginFragmentFlag | kEndFragmentFlag;
inline constexpr std::uint16_t kIsFinalFlag = 0x2000;
inline constexpr std::uint16_t kBeginDataStructureFlag = 0x1000;
inline constexpr std::uint16_t kEndDataStructureFlag = 0x0800;
inline constexpr std::uint16_t kIsNullFlag = 0x0400;
inline constexpr std::uint16_t kIsEventFlag = 0x0200;

// Limits that turn garbage lengths into a named error instead of a huge allocation or a wait
// for bytes that never come.
inline constexpr std::size_t kMaxFrameBytes = std::size_t{64} << 20;
inline constexpr std::size_t kMaxMessageBytes = std::size_t{256} << 20;
inline constexpr std::size_t kMaxPendingFragments = 64;

// Offsets inside the initial frame's content (after the 6-byte frame header).
inline constexpr std::size_t kMessageTypeOffset = 0;
inline constexpr std::size_t kCorrelationIdOffset = 4;
inline constexpr std::size_t kPartitionIdOffset = 12;   // requests and events
inline constexpr std::size_t kBackupAcksOffset = 12;    // responses
inline constexpr std::size_t kRequestHeaderSize = 16;   // fixed request params start here
inline constexpr std::size_t kResponseHeaderSize = 13;  // fixed response params start here
inline constexpr std::size_t kUuidSize = 17;            // is-null byte + two int64
inline constexpr std::int32_t kNoPartition = -1;

// --- message types: (service << 16) | (method << 8) | k, k = 0 request, 1 response ---------
inline constexpr std::int32_t kErrorMessageType = 0;
inline constexpr std::int32_t kClientAuthentication = 0x000100;
inline constexpr std::int32_t kClientCreateProxy = 0x000400;
inline constexpr std::int32_t kClientPing = 0x000B00;
inline constexpr std::int32_t kMapPut = 0x010100;
inline constexpr std::int32_t kMapGet = 0x010200;
inline constexpr std::int32_t kMapRemove = 0x010300;
inline constexpr std::int32_t kMapDelete = 0x010900;
inline constexpr std::int32_t kMapSet = 0x010F00;
inline constexpr std::int32_t kMapEntrySet = 0x012500;
inline constexpr std::int32_t kMapSize = 0x012A00;
inline constexpr std::int32_t kMapPutAll = 0x012C00;
inline constexpr std::int32_t kTopicPublish = 0x040100;

constexpr std::int32_t response_type_of(std::int32_t request_type) {
  return request_type + 1;
}

inline constexpr std::string_view kMapServiceName = "hz:impl:mapService";
inline constexpr std::string_view kTopicServiceName = "hz:impl:topicService";

struct Frame {
  std::uint16_t flags = 0;
  Bytes content;

  [[nodiscard]] bool has(std::uint16_t flag) const { return (flags & flag) == flag; }
};

// One complete (reassembled) message. Only FrameDecoder and decode_message create these for
// inbound bytes, and they guarantee frames is non-empty and the initial frame holds at least
// the message type and correlation id, so the accessors below cannot read out of bounds.
struct Message {
  std::vector<Frame> frames;

  [[nodiscard]] std::int32_t message_type() const;
  [[nodiscard]] std::int64_t correlation_id() const;
  [[nodiscard]] bool is_event() const { return frames.front().has(kIsEventFlag); }
};

// Incremental stream decoder: feed socket bytes, pull complete messages. A malformed stream
// yields kMalformedMessage; after that the decoder stays failed (the connection is unusable).
class FrameDecoder {
 public:
  void feed(ByteView bytes);
  // A complete message, std::nullopt when more bytes are needed, or an error.
  Result<std::optional<Message>> next();
  [[nodiscard]] std::size_t buffered_bytes() const { return buffer_.size() - read_pos_; }

 private:
  Result<std::optional<Message>> on_complete(std::vector<Frame> frames);

  Bytes buffer_;
  std::size_t read_pos_ = 0;
  std::vector<Frame> partial_;  // frames of the message being read
  std::size_t partial_bytes_ = 0;
  std::map<std::int64_t, std::vector<Frame>> fragments_;  // by fragmentation id
  std::optional<HazelcastError> failed_;
};

// Decodes exactly one message from `bytes`; truncation or trailing bytes are errors.
Result<Message> decode_message(ByteView bytes);

// Builds a request: the initial frame (type, correlation id, partition id, fixed params in
// declaration order) followed by var-size frames; encode() marks the last frame IS_FINAL.
class RequestBuilder {
 public:
  RequestBuilder(std::int32_t message_type, std::int32_t partition_id);

  RequestBuilder& fixed_bool(bool value);
  RequestBuilder& fixed_u8(std::uint8_t value);
  RequestBuilder& fixed_i32(std::int32_t value);
  RequestBuilder& fixed_i64(std::int64_t value);
  RequestBuilder& fixed_uuid(std::optional<std::pair<std::int64_t, std::int64_t>> msb_lsb);

  RequestBuilder& string(std::string_view value);
  RequestBuilder& bytes(ByteView value);  // a Data frame
  RequestBuilder& null_frame();
  RequestBuilder& begin_frame();
  RequestBuilder& end_frame();

  [[nodiscard]] Bytes encode(std::int64_t correlation_id) const;

 private:
  std::int32_t message_type_;
  std::int32_t partition_id_;
  Bytes fixed_;
  std::vector<Frame> frames_;
};

// --- Data: serialized keys and values ----------------------------------------------------------
// Layout: int32 BE partition hash (0) + int32 BE serializer type id + payload; String and
// HazelcastJsonValue payloads are int32 BE byte length + UTF-8 bytes.
inline constexpr std::int32_t kStringTypeId = -11;
inline constexpr std::int32_t kJsonTypeId = -130;
inline constexpr std::size_t kDataHeaderSize = 8;

Bytes string_data(std::string_view text);
Bytes json_data(std::string_view json);
// Serializer type id of a Data blob, or an error if it is shorter than the Data header.
Result<std::int32_t> data_type_id(ByteView data);
// The text of a String (-11) or HazelcastJsonValue (-130) Data; any other type id is
// kUnexpectedValueType, a bad length is kMalformedMessage.
Result<std::string> decode_text_data(ByteView data, std::int32_t expected_type_id);
bool is_valid_utf8(std::string_view text) noexcept;

// --- partitioning ------------------------------------------------------------------------------
inline constexpr std::uint32_t kMurmurSeed = 0x01000193;

std::int32_t murmur3_x86_32(ByteView bytes, std::uint32_t seed = kMurmurSeed) noexcept;
// The partition hash the member uses for a Data blob: the header's partition hash if non-zero,
// else murmur3 of the bytes after the 8-byte header. Data shorter than the header hashes as
// empty (callers only pass Data they serialized).
std::int32_t data_partition_hash(ByteView data) noexcept;
std::int32_t partition_for_hash(std::int32_t hash, std::int32_t partition_count) noexcept;
std::int32_t partition_id(ByteView data, std::int32_t partition_count) noexcept;
// Topic partition key: the part after '@' if present (Hazelcast's partition-aware naming).
std::string_view topic_partition_key(std::string_view topic_name) noexcept;

// --- requests ----------------------------------------------------------------------------------
struct AuthenticationRequest {
  std::string cluster_name;
  std::pair<std::int64_t, std::int64_t> client_uuid{0, 0};  // most, least significant bits
  std::string client_type = "CPP";
  std::string client_version = "5.5.0";
  std::string client_name = "dita";
};

// A key/value pair of serialized Data, as Map.putAll and Map.entrySet carry them.
using DataEntry = std::pair<Bytes, Bytes>;

Bytes encode_authentication(const AuthenticationRequest& request, std::int64_t correlation_id);
Bytes encode_ping(std::int64_t correlation_id);
Bytes encode_create_proxy(std::string_view name, std::string_view service_name,
                          std::int64_t correlation_id);
Bytes encode_map_put(std::string_view map, ByteView key, ByteView value, std::int64_t thread_id,
                     std::int64_t ttl_ms, std::int32_t partition, std::int64_t correlation_id);
Bytes encode_map_set(std::string_view map, ByteView key, ByteView value, std::int64_t thread_id,
                     std::int64_t ttl_ms, std::int32_t partition, std::int64_t correlation_id);
Bytes encode_map_get(std::string_view map, ByteView key, std::int64_t thread_id,
                     std::int32_t partition, std::int64_t correlation_id);
Bytes encode_map_remove(std::string_view map, ByteView key, std::int64_t thread_id,
                        std::int32_t partition, std::int64_t correlation_id);
Bytes encode_map_delete(std::string_view map, ByteView key, std::int64_t thread_id,
                        std::int32_t partition, std::int64_t correlation_id);
// All keys in `entries` must belong to `partition` (the member does not re-route them).
Bytes encode_map_put_all(std::string_view map, std::span<const DataEntry> entries,
                         bool trigger_map_loader, std::int32_t partition,
                         std::int64_t correlation_id);
Bytes encode_map_entry_set(std::string_view map, std::int64_t correlation_id);
Bytes encode_map_size(std::string_view map, std::int64_t correlation_id);
Bytes encode_topic_publish(std::string_view topic, ByteView message, std::int32_t partition,
                           std::int64_t correlation_id);

// --- responses ---------------------------------------------------------------------------------
inline constexpr std::uint8_t kAuthenticated = 0;
inline constexpr std::uint8_t kCredentialsFailed = 1;
inline constexpr std::uint8_t kSerializationVersionMismatch = 2;
inline constexpr std::uint8_t kNotAllowedInCluster = 3;

struct AuthenticationResponse {
  std::uint8_t status = 0;
  std::uint8_t serialization_version = 0;
  std::int32_t partition_count = 0;
  std::string server_version;  // empty if the member did not send it
};

// Every response decoder first turns an error message (type 0) into kServerError and a
// response of another type than expected into kUnexpectedMessage.
Result<AuthenticationResponse> decode_authentication_response(const Message& message);
Result<void> decode_empty_response(const Message& message, std::int32_t request_type);
Result<std::optional<Bytes>> decode_nullable_data_response(const Message& message,
                                                           std::int32_t request_type);
Result<std::int32_t> decode_int_response(const Message& message, std::int32_t request_type);
Result<std::vector<DataEntry>> decode_entry_list_response(const Message& message,
                                                          std::int32_t request_type);
// The member's error (class name, message, error code) from an error message.
HazelcastError decode_error_response(const Message& message);

}  // namespace dita::sink::hazelcast::protocol
