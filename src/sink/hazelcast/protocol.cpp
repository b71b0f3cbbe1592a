// Wire format of the Hazelcast Open Binary Client Protocol 2.x: frames, messages, codecs,
// Data serialization and murmur3 partitioning. Frame-level integers are little-endian; Data
// integers are big-endian (Java's default byte order). Every read is bounds-checked.
#include "dita/sink/hazelcast/protocol.hpp"

#include <algorithm>
#include <cstdlib>
#include <limits>

namespace dita::sink::hazelcast::protocol {
namespace {

void put_le(Bytes& out, std::uint64_t value, std::size_t width) {
  for (std::size_t i = 0; i < width; ++i) {
    out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
  }
}

void put_be32(Bytes& out, std::uint32_t value) {
  for (std::size_t i = 0; i < 4; ++i) {
    out.push_back(static_cast<std::uint8_t>(value >> (8 * (3 - i))));
  }
}

std::uint64_t get_le(ByteView bytes, std::size_t offset, std::size_t width) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < width; ++i) {
    value |= std::uint64_t{bytes[offset + i]} << (8 * i);
  }
  return value;
}

std::uint32_t get_be32(ByteView bytes, std::size_t offset) {
  std::uint32_t value = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    value = (value << 8) | std::uint32_t{bytes[offset + i]};
  }
  return value;
}

std::int32_t get_le_i32(ByteView bytes, std::size_t offset) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(get_le(bytes, offset, 4)));
}

std::int64_t get_le_i64(ByteView bytes, std::size_t offset) {
  return static_cast<std::int64_t>(get_le(bytes, offset, 8));
}

std::unexpected<HazelcastError> malformed(std::string message) {
  return make_error(ErrorCode::kMalformedMessage, std::move(message));
}

std::string to_text(const Bytes& bytes) {
  return std::string(bytes.begin(), bytes.end());
}

// Walks the var-size frames after the initial frame; every step checks that a frame exists.
class FrameCursor {
 public:
  explicit FrameCursor(const Message& message) : message_(message) {}

  [[nodiscard]] const Frame* peek() const {
    return index_ < message_.frames.size() ? &message_.frames[index_] : nullptr;
  }

  Result<const Frame*> next(std::string_view what) {
    if (index_ >= message_.frames.size()) {
      return malformed("message ended before " + std::string(what));
    }
    return &message_.frames[index_++];
  }

  // Skips a custom type / list that starts at the current frame (a BEGIN frame), up to and
  // including its matching END frame.
  Result<void> skip_structure(std::string_view what) {
    int depth = 0;
    do {
      auto frame = next(what);
      if (!frame) return std::unexpected(frame.error());
      if ((*frame)->has(kBeginDataStructureFlag)) ++depth;
      if ((*frame)->has(kEndDataStructureFlag)) --depth;
    } while (depth > 0);
    return {};
  }

 private:
  const Message& message_;
  std::size_t index_ = 1;
};

bool is_marker(const Frame& frame) {
  return frame.has(kBeginDataStructureFlag) || frame.has(kEndDataStructureFlag) ||
         frame.has(kIsNullFlag);
}

Result<void> check_response(const Message& message, std::int32_t request_type) {
  const std::int32_t type = message.message_type();
  if (type == kErrorMessageType) return std::unexpected(decode_error_response(message));
  if (type != response_type_of(request_type)) {
    return make_error(ErrorCode::kUnexpectedMessage,
                      "expected response type " + std::to_string(response_type_of(request_type)) +
                          ", got " + std::to_string(type));
  }
  if (message.frames.front().content.size() < kResponseHeaderSize) {
    return malformed("response initial frame has " +
                     std::to_string(message.frames.front().content.size()) + " bytes, needs " +
                     std::to_string(kResponseHeaderSize));
  }
  return {};
}

Result<Bytes> data_frame(FrameCursor& cursor, std::string_view what) {
  auto frame = cursor.next(what);
  if (!frame) return std::unexpected(frame.error());
  if (is_marker(**frame)) return malformed(std::string(what) + " is not a data frame");
  return (*frame)->content;
}

Result<Message> validate_initial(std::vector<Frame> frames) {
  if (frames.empty()) return malformed("message has no frames");
  if (frames.front().content.size() < kPartitionIdOffset) {
    return malformed("initial frame has " + std::to_string(frames.front().content.size()) +
                     " bytes, needs at least " + std::to_string(kPartitionIdOffset));
  }
  return Message{std::move(frames)};
}

}  // namespace

// --- Message / FrameDecoder --------------------------------------------------------------------

std::int32_t Message::message_type() const {
  return get_le_i32(frames.front().content, kMessageTypeOffset);
}

std::int64_t Message::correlation_id() const {
  return get_le_i64(frames.front().content, kCorrelationIdOffset);
}

void FrameDecoder::feed(ByteView bytes) {
  if (read_pos_ > 0 && read_pos_ == buffer_.size()) {
    buffer_.clear();
    read_pos_ = 0;
  }
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
}

Result<std::optional<Message>> FrameDecoder::next() {
  if (failed_) return std::unexpected(*failed_);
  auto fail = [this](HazelcastError error) -> Result<std::optional<Message>> {
    failed_ = error;
    return std::unexpected(std::move(error));
  };
  for (;;) {
    const ByteView pending = ByteView(buffer_).subspan(read_pos_);
    if (pending.size() < kFrameHeaderSize) break;
    const std::int32_t length = get_le_i32(pending, 0);
    if (length < static_cast<std::int32_t>(kFrameHeaderSize) ||
        static_cast<std::size_t>(length) > kMaxFrameBytes) {
      return fail({ErrorCode::kMalformedMessage,
                   "frame length " + std::to_string(length) + " out of range [6, " +
                       std::to_string(kMaxFrameBytes) + "]",
                   0,
                   {}});
    }
    const auto frame_size = static_cast<std::size_t>(length);
    if (pending.size() < frame_size) break;
    partial_bytes_ += frame_size;
    if (partial_bytes_ > kMaxMessageBytes) {
      return fail({ErrorCode::kMalformedMessage,
                   "message exceeds " + std::to_string(kMaxMessageBytes) + " bytes",
                   0,
                   {}});
    }
    Frame frame;
    frame.flags = static_cast<std::uint16_t>(get_le(pending, 4, 2));
    frame.content.assign(pending.begin() + kFrameHeaderSize,
                         pending.begin() + static_cast<std::ptrdiff_t>(frame_size));
    read_pos_ += frame_size;
    const bool is_final = frame.has(kIsFinalFlag);
    partial_.push_back(std::move(frame));
    if (!is_final) continue;
    std::vector<Frame> frames = std::move(partial_);
    partial_.clear();
    partial_bytes_ = 0;
    auto message = on_complete(std::move(frames));
    if (!message) return fail(message.error());
    if (*message) return message;
  }
  // Compact so a long-lived connection does not grow its buffer without bound.
  if (read_pos_ > 0) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(read_pos_));
    read_pos_ = 0;
  }
  return std::optional<Message>{};
}

Result<std::optional<Message>> FrameDecoder::on_complete(std::vector<Frame> frames) {
  const Frame& first = frames.front();
  if (first.has(kUnfragmentedFlags)) {
    auto message = validate_initial(std::move(frames));
    if (!message) return std::unexpected(message.error());
    return std::optional<Message>(std::move(*message));
  }
  // A fragment: its first frame carries the fragmentation id; the pieces are joined in order.
  if (first.content.size() < 8) {
    return malformed("fragment frame has " + std::to_string(first.content.size()) +
                     " bytes, needs 8");
  }
  const std::int64_t id = get_le_i64(first.content, 0);
  const bool begin = first.has(kBeginFragmentFlag);
  const bool end = first.has(kEndFragmentFlag);
  frames.erase(frames.begin());
  if (begin) {
    if (fragments_.size() >= kMaxPendingFragments) {
      return malformed("more than " + std::to_string(kMaxPendingFragments) +
                       " fragmented messages in flight");
    }
    if (frames.empty()) return malformed("first fragment carries no frames");
    fragments_[id] = std::move(frames);
    return std::optional<Message>{};
  }
  auto it = fragments_.find(id);
  if (it == fragments_.end()) {
    return malformed("fragment " + std::to_string(id) + " arrived without its first part");
  }
  std::size_t total = 0;
  for (const Frame& f : it->second) total += f.content.size() + kFrameHeaderSize;
  for (const Frame& f : frames) total += f.content.size() + kFrameHeaderSize;
  if (total > kMaxMessageBytes) {
    fragments_.erase(it);
    return malformed("fragmented message exceeds " + std::to_string(kMaxMessageBytes) + " bytes");
  }
  std::move(frames.begin(), frames.end(), std::back_inserter(it->second));
  if (!end) return std::optional<Message>{};
  std::vector<Frame> joined = std::move(it->second);
  fragments_.erase(it);
  auto message = validate_initial(std::move(joined));
  if (!message) return std::unexpected(message.error());
  return std::optional<Message>(std::move(*message));
}

Result<Message> decode_message(ByteView bytes) {
  FrameDecoder decoder;
  decoder.feed(bytes);
  auto message = decoder.next();
  if (!message) return std::unexpected(message.error());
  if (!*message) {
    return malformed("truncated message: " + std::to_string(bytes.size()) +
                     " bytes do not complete a message");
  }
  if (decoder.buffered_bytes() != 0) {
    return malformed(std::to_string(decoder.buffered_bytes()) + " trailing bytes after message");
  }
  return std::move(**message);
}

// --- RequestBuilder ----------------------------------------------------------------------------

RequestBuilder::RequestBuilder(std::int32_t message_type, std::int32_t partition_id)
    : message_type_(message_type), partition_id_(partition_id) {}

RequestBuilder& RequestBuilder::fixed_bool(bool value) {
  return fixed_u8(static_cast<std::uint8_t>(value ? 1 : 0));
}

RequestBuilder& RequestBuilder::fixed_u8(std::uint8_t value) {
  fixed_.push_back(value);
  return *this;
}

RequestBuilder& RequestBuilder::fixed_i32(std::int32_t value) {
  put_le(fixed_, static_cast<std::uint32_t>(value), 4);
  return *this;
}

RequestBuilder& RequestBuilder::fixed_i64(std::int64_t value) {
  put_le(fixed_, static_cast<std::uint64_t>(value), 8);
  return *this;
}

RequestBuilder& RequestBuilder::fixed_uuid(
    std::optional<std::pair<std::int64_t, std::int64_t>> msb_lsb) {
  fixed_bool(!msb_lsb.has_value());
  fixed_i64(msb_lsb ? msb_lsb->first : 0);
  fixed_i64(msb_lsb ? msb_lsb->second : 0);
  return *this;
}

RequestBuilder& RequestBuilder::string(std::string_view value) {
  frames_.push_back(Frame{0, Bytes(value.begin(), value.end())});
  return *this;
}

RequestBuilder& RequestBuilder::bytes(ByteView value) {
  frames_.push_back(Frame{0, Bytes(value.begin(), value.end())});
  return *this;
}

RequestBuilder& RequestBuilder::null_frame() {
  frames_.push_back(Frame{kIsNullFlag, {}});
  return *this;
}

RequestBuilder& RequestBuilder::begin_frame() {
  frames_.push_back(Frame{kBeginDataStructureFlag, {}});
  return *this;
}

RequestBuilder& RequestBuilder::end_frame() {
  frames_.push_back(Frame{kEndDataStructureFlag, {}});
  return *this;
}

Bytes RequestBuilder::encode(std::int64_t correlation_id) const {
  std::size_t total = kFrameHeaderSize + kRequestHeaderSize + fixed_.size();
  for (const Frame& frame : frames_) total += kFrameHeaderSize + frame.content.size();
  Bytes out;
  out.reserve(total);
  const bool initial_is_last = frames_.empty();
  const std::size_t initial_size = kFrameHeaderSize + kRequestHeaderSize + fixed_.size();
  put_le(out, initial_size, 4);
  put_le(out, static_cast<std::uint16_t>(kUnfragmentedFlags | (initial_is_last ? kIsFinalFlag : 0)),
         2);
  put_le(out, static_cast<std::uint32_t>(message_type_), 4);
  put_le(out, static_cast<std::uint64_t>(correlation_id), 8);
  put_le(out, static_cast<std::uint32_t>(partition_id_), 4);
  out.insert(out.end(), fixed_.begin(), fixed_.end());
  for (std::size_t i = 0; i < frames_.size(); ++i) {
    const Frame& frame = frames_[i];
    const bool last = i + 1 == frames_.size();
    put_le(out, kFrameHeaderSize + frame.content.size(), 4);
    put_le(out, static_cast<std::uint16_t>(frame.flags | (last ? kIsFinalFlag : 0)), 2);
    out.insert(out.end(), frame.content.begin(), frame.content.end());
  }
  return out;
}

// --- Data --------------------------------------------------------------------------------------
namespace {

Bytes text_data(std::int32_t type_id, std::string_view text) {
  Bytes out;
  out.reserve(kDataHeaderSize + 4 + text.size());
  put_be32(out, 0);  // no partitioning strategy: the member hashes the payload
  put_be32(out, static_cast<std::uint32_t>(type_id));
  put_be32(out, static_cast<std::uint32_t>(text.size()));
  out.insert(out.end(), text.begin(), text.end());
  return out;
}

}  // namespace

Bytes string_data(std::string_view text) {
  return text_data(kStringTypeId, text);
}
Bytes json_data(std::string_view json) {
  return text_data(kJsonTypeId, json);
}

Result<std::int32_t> data_type_id(ByteView data) {
  if (data.size() < kDataHeaderSize) {
    return malformed("Data of " + std::to_string(data.size()) + " bytes is shorter than its " +
                     std::to_string(kDataHeaderSize) + "-byte header");
  }
  return static_cast<std::int32_t>(get_be32(data, 4));
}

Result<std::string> decode_text_data(ByteView data, std::int32_t expected_type_id) {
  auto type_id = data_type_id(data);
  if (!type_id) return std::unexpected(type_id.error());
  if (*type_id != expected_type_id) {
    return make_error(ErrorCode::kUnexpectedValueType,
                      "Data has serializer type id " + std::to_string(*type_id) + ", expected " +
                          std::to_string(expected_type_id));
  }
  if (data.size() < kDataHeaderSize + 4) return malformed("text Data has no length field");
  const auto length = static_cast<std::int32_t>(get_be32(data, kDataHeaderSize));
  const std::size_t available = data.size() - kDataHeaderSize - 4;
  if (length < 0 || static_cast<std::size_t>(length) != available) {
    return malformed("text Data declares " + std::to_string(length) + " bytes but carries " +
                     std::to_string(available));
  }
  const auto* begin = data.data() + kDataHeaderSize + 4;
  return std::string(begin, begin + available);
}

bool is_valid_utf8(std::string_view text) noexcept {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t extra = 0;
    std::uint32_t code = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1;
      code = c & 0x1Fu;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      code = c & 0x0Fu;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      code = c & 0x07u;
    } else {
      return false;
    }
    if (i + extra >= text.size()) return false;  // sequence cut off by the end
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      code = (code << 6) | (cc & 0x3Fu);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not valid UTF-8.
    static constexpr std::uint32_t kMinForLength[] = {0, 0x80, 0x800, 0x10000};
    if (code < kMinForLength[extra] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

// --- partitioning ------------------------------------------------------------------------------
namespace {

constexpr std::uint32_t rotl32(std::uint32_t x, int r) {
  return (x << r) | (x >> (32 - r));
}

}  // namespace

std::int32_t murmur3_x86_32(ByteView bytes, std::uint32_t seed) noexcept {
  constexpr std::uint32_t kC1 = 0xcc9e2d51;
  constexpr std::uint32_t kC2 = 0x1b873593;
  const std::size_t length = bytes.size();
  const std::size_t blocks = length / 4;
  std::uint32_t h1 = seed;
  for (std::size_t b = 0; b < blocks; ++b) {
    auto k1 = static_cast<std::uint32_t>(get_le(bytes, b * 4, 4));
    k1 *= kC1;
    k1 = rotl32(k1, 15);
    k1 *= kC2;
    h1 ^= k1;
    h1 = rotl32(h1, 13);
    h1 = h1 * 5 + 0xe6546b64;
  }
  const std::size_t tail = blocks * 4;
  std::uint32_t k1 = 0;
  switch (length & 3) {
    case 3:
      k1 ^= std::uint32_t{bytes[tail + 2]} << 16;
      [[fallthrough]];
    case 2:
      k1 ^= std::uint32_t{bytes[tail + 1]} << 8;
      [[fallthrough]];
    case 1:
      k1 ^= std::uint32_t{bytes[tail]};
      k1 *= kC1;
      k1 = rotl32(k1, 15);
      k1 *= kC2;
      h1 ^= k1;
      break;
    default:
      break;
  }
  h1 ^= static_cast<std::uint32_t>(length);
  h1 ^= h1 >> 16;
  h1 *= 0x85ebca6b;
  h1 ^= h1 >> 13;
  h1 *= 0xc2b2ae35;
  h1 ^= h1 >> 16;
  return static_cast<std::int32_t>(h1);
}

std::int32_t data_partition_hash(ByteView data) noexcept {
  if (data.size() < kDataHeaderSize) return murmur3_x86_32({});
  const auto header_hash = static_cast<std::int32_t>(get_be32(data, 0));
  if (header_hash != 0) return header_hash;
  return murmur3_x86_32(data.subspan(kDataHeaderSize));
}

std::int32_t partition_for_hash(std::int32_t hash, std::int32_t partition_count) noexcept {
  if (partition_count <= 0) return kNoPartition;
  // Same as the member's HashUtil.hashToIndex: |INT32_MIN| does not fit, so it maps to 0.
  if (hash == std::numeric_limits<std::int32_t>::min()) return 0;
  return std::abs(hash) % partition_count;
}

std::int32_t partition_id(ByteView data, std::int32_t partition_count) noexcept {
  return partition_for_hash(data_partition_hash(data), partition_count);
}

std::string_view topic_partition_key(std::string_view topic_name) noexcept {
  const auto at = topic_name.find('@');
  return at == std::string_view::npos ? topic_name : topic_name.substr(at + 1);
}

// --- requests ----------------------------------------------------------------------------------

Bytes encode_authentication(const AuthenticationRequest& request, std::int64_t correlation_id) {
  // Protocol 2.0 layout (uuid, serialization version): the official Python client still sends
  // it, and members read the 2.8 routing fields only when the initial frame is long enough.
  return RequestBuilder(kClientAuthentication, kNoPartition)
      .fixed_uuid(request.client_uuid)
      .fixed_u8(1)
      .string(request.cluster_name)
      .null_frame()  // username: the member runs without security
      .null_frame()  // password
      .string(request.client_type)
      .string(request.client_version)
      .string(request.client_name)
      .begin_frame()  // labels: empty list
      .end_frame()
      .encode(correlation_id);
}

Bytes encode_ping(std::int64_t correlation_id) {
  return RequestBuilder(kClientPing, kNoPartition).encode(correlation_id);
}

Bytes encode_create_proxy(std::string_view name, std::string_view service_name,
                          std::int64_t correlation_id) {
  return RequestBuilder(kClientCreateProxy, kNoPartition)
      .string(name)
      .string(service_name)
      .encode(correlation_id);
}

namespace {

Bytes encode_key_value(std::int32_t type, std::string_view map, ByteView key, ByteView value,
                       std::int64_t thread_id, std::int64_t ttl_ms, std::int32_t partition,
                       std::int64_t correlation_id) {
  return RequestBuilder(type, partition)
      .fixed_i64(thread_id)
      .fixed_i64(ttl_ms)
      .string(map)
      .bytes(key)
      .bytes(value)
      .encode(correlation_id);
}

Bytes encode_key_only(std::int32_t type, std::string_view map, ByteView key, std::int64_t thread_id,
                      std::int32_t partition, std::int64_t correlation_id) {
  return RequestBuilder(type, partition)
      .fixed_i64(thread_id)
      .string(map)
      .bytes(key)
      .encode(correlation_id);
}

}  // namespace

Bytes encode_map_put(std::string_view map, ByteView key, ByteView value, std::int64_t thread_id,
                     std::int64_t ttl_ms, std::int32_t partition, std::int64_t correlation_id) {
  return encode_key_value(kMapPut, map, key, value, thread_id, ttl_ms, partition, correlation_id);
}

Bytes encode_map_set(std::string_view map, ByteView key, ByteView value, std::int64_t thread_id,
                     std::int64_t ttl_ms, std::int32_t partition, std::int64_t correlation_id) {
  return encode_key_value(kMapSet, map, key, value, thread_id, ttl_ms, partition, correlation_id);
}

Bytes encode_map_get(std::string_view map, ByteView key, std::int64_t thread_id,
                     std::int32_t partition, std::int64_t correlation_id) {
  return encode_key_only(kMapGet, map, key, thread_id, partition, correlation_id);
}

Bytes encode_map_remove(std::string_view map, ByteView key, std::int64_t thread_id,
                        std::int32_t partition, std::int64_t correlation_id) {
  return encode_key_only(kMapRemove, map, key, thread_id, partition, correlation_id);
}

Bytes encode_map_delete(std::string_view map, ByteView key, std::int64_t thread_id,
                        std::int32_t partition, std::int64_t correlation_id) {
  return encode_key_only(kMapDelete, map, key, thread_id, partition, correlation_id);
}

Bytes encode_map_put_all(std::string_view map, std::span<const DataEntry> entries,
                         bool trigger_map_loader, std::int32_t partition,
                         std::int64_t correlation_id) {
  RequestBuilder builder(kMapPutAll, partition);
  builder.fixed_bool(trigger_map_loader).string(map).begin_frame();
  for (const auto& [key, value] : entries) builder.bytes(key).bytes(value);
  builder.end_frame();
  return builder.encode(correlation_id);
}

Bytes encode_map_entry_set(std::string_view map, std::int64_t correlation_id) {
  return RequestBuilder(kMapEntrySet, kNoPartition).string(map).encode(correlation_id);
}

Bytes encode_map_size(std::string_view map, std::int64_t correlation_id) {
  return RequestBuilder(kMapSize, kNoPartition).string(map).encode(correlation_id);
}

Bytes encode_topic_publish(std::string_view topic, ByteView message, std::int32_t partition,
                           std::int64_t correlation_id) {
  return RequestBuilder(kTopicPublish, partition)
      .string(topic)
      .bytes(message)
      .encode(correlation_id);
}

// --- responses ---------------------------------------------------------------------------------

HazelcastError decode_error_response(const Message& message) {
  auto fail = [](std::string text) {
    return HazelcastError{
        ErrorCode::kMalformedMessage, "error response: " + std::move(text), 0, {}};
  };
  FrameCursor cursor(message);
  // List<ErrorHolder>: BEGIN, then per holder BEGIN, fixed frame (error code), class name,
  // nullable message, stack trace list, [newer fields], END; then END.
  auto list_begin = cursor.next("error holder list");
  if (!list_begin || !(*list_begin)->has(kBeginDataStructureFlag)) {
    return fail("missing error holder list");
  }
  const Frame* holder_begin = cursor.peek();
  if (holder_begin == nullptr || !holder_begin->has(kBeginDataStructureFlag)) {
    return fail("empty error holder list");
  }
  (void)cursor.next("error holder");
  auto fixed = cursor.next("error code");
  if (!fixed || (*fixed)->content.size() < 4) return fail("missing error code");
  const std::int32_t code = get_le_i32((*fixed)->content, 0);
  auto class_name = cursor.next("error class name");
  if (!class_name || is_marker(**class_name)) return fail("missing error class name");
  auto text = cursor.next("error message");
  if (!text) return fail("missing error message");
  std::string detail = (*text)->has(kIsNullFlag) ? std::string() : to_text((*text)->content);
  if (is_marker(**text) && !(*text)->has(kIsNullFlag)) return fail("bad error message frame");
  return HazelcastError{ErrorCode::kServerError, std::move(detail), code,
                        to_text((*class_name)->content)};
}

Result<AuthenticationResponse> decode_authentication_response(const Message& message) {
  if (auto ok = check_response(message, kClientAuthentication); !ok) {
    return std::unexpected(ok.error());
  }
  const Bytes& initial = message.frames.front().content;
  constexpr std::size_t kStatusOffset = kResponseHeaderSize;
  constexpr std::size_t kSerializationVersionOffset = kStatusOffset + 1 + kUuidSize;
  constexpr std::size_t kPartitionCountOffset = kSerializationVersionOffset + 1;
  if (initial.size() < kStatusOffset + 1) return malformed("authentication response has no status");
  AuthenticationResponse response;
  response.status = initial[kStatusOffset];
  if (response.status != kAuthenticated) return response;  // the rest may be absent
  if (initial.size() < kPartitionCountOffset + 4) {
    return malformed("authentication response initial frame has " + std::to_string(initial.size()) +
                     " bytes, needs " + std::to_string(kPartitionCountOffset + 4));
  }
  response.serialization_version = initial[kSerializationVersionOffset];
  response.partition_count = get_le_i32(initial, kPartitionCountOffset);
  // Var frames: nullable Address, then the server version. They are informational, so a
  // layout we do not understand leaves server_version empty rather than failing the login.
  FrameCursor cursor(message);
  const Frame* address = cursor.peek();
  if (address != nullptr) {
    bool skipped = true;
    if (address->has(kBeginDataStructureFlag)) {
      skipped = cursor.skip_structure("member address").has_value();
    } else {
      (void)cursor.next("member address");
    }
    const Frame* version = cursor.peek();
    if (skipped && version != nullptr && !is_marker(*version)) {
      response.server_version = to_text(version->content);
    }
  }
  return response;
}

Result<void> decode_empty_response(const Message& message, std::int32_t request_type) {
  return check_response(message, request_type);
}

Result<std::optional<Bytes>> decode_nullable_data_response(const Message& message,
                                                           std::int32_t request_type) {
  if (auto ok = check_response(message, request_type); !ok) return std::unexpected(ok.error());
  FrameCursor cursor(message);
  auto frame = cursor.next("response value");
  if (!frame) return std::unexpected(frame.error());
  if ((*frame)->has(kIsNullFlag)) return std::optional<Bytes>{};
  if (is_marker(**frame)) return malformed("response value is not a data frame");
  return std::optional<Bytes>((*frame)->content);
}

Result<std::int32_t> decode_int_response(const Message& message, std::int32_t request_type) {
  if (auto ok = check_response(message, request_type); !ok) return std::unexpected(ok.error());
  const Bytes& initial = message.frames.front().content;
  if (initial.size() < kResponseHeaderSize + 4) return malformed("int response has no value");
  return get_le_i32(initial, kResponseHeaderSize);
}

Result<std::vector<DataEntry>> decode_entry_list_response(const Message& message,
                                                          std::int32_t request_type) {
  if (auto ok = check_response(message, request_type); !ok) return std::unexpected(ok.error());
  FrameCursor cursor(message);
  auto begin = cursor.next("entry list");
  if (!begin) return std::unexpected(begin.error());
  if (!(*begin)->has(kBeginDataStructureFlag)) return malformed("entry list has no begin frame");
  std::vector<DataEntry> entries;
  for (;;) {
    const Frame* peeked = cursor.peek();
    if (peeked == nullptr) return malformed("entry list has no end frame");
    if (peeked->has(kEndDataStructureFlag)) break;
    auto key = data_frame(cursor, "entry key");
    if (!key) return std::unexpected(key.error());
    auto value = data_frame(cursor, "entry value");
    if (!value) return std::unexpected(value.error());
    entries.emplace_back(std::move(*key), std::move(*value));
  }
  return entries;
}

}  // namespace dita::sink::hazelcast::protocol
