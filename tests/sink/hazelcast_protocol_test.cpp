// Unit tests for the Hazelcast wire format: golden request bytes and murmur/partition vectors
// produced by the official Python client's codecs (reference §A.9), response decoding, and a
// fuzz-style sweep proving the decoders reject truncated or random bytes with a named error.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "dita/sink/hazelcast/protocol.hpp"

namespace dita::sink::hazelcast::protocol {
namespace {

Bytes from_hex(std::string_view hex) {
  Bytes out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(
        static_cast<std::uint8_t>(std::stoul(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

std::string to_hex(ByteView bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (std::uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xF]);
  }
  return out;
}

Bytes raw(std::string_view text) {
  return Bytes(text.begin(), text.end());
}

// Encodes frames for hand-made inbound messages; the last frame gets IS_FINAL.
Bytes encode_frames(const std::vector<Frame>& frames) {
  Bytes out;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const std::size_t length = kFrameHeaderSize + frames[i].content.size();
    const auto flags =
        static_cast<std::uint16_t>(frames[i].flags | (i + 1 == frames.size() ? kIsFinalFlag : 0));
    for (int k = 0; k < 4; ++k) out.push_back(static_cast<std::uint8_t>(length >> (8 * k)));
    out.push_back(static_cast<std::uint8_t>(flags));
    out.push_back(static_cast<std::uint8_t>(flags >> 8));
    out.insert(out.end(), frames[i].content.begin(), frames[i].content.end());
  }
  return out;
}

void put_le(Bytes& out, std::uint64_t value, int width) {
  for (int k = 0; k < width; ++k) out.push_back(static_cast<std::uint8_t>(value >> (8 * k)));
}

// Initial frame of a response: type, correlation id, backup acks, then `extra` fixed bytes.
Frame response_initial(std::int32_t type, std::int64_t correlation_id, const Bytes& extra = {}) {
  Frame frame{kUnfragmentedFlags, {}};
  put_le(frame.content, static_cast<std::uint32_t>(type), 4);
  put_le(frame.content, static_cast<std::uint64_t>(correlation_id), 8);
  frame.content.push_back(0);
  frame.content.insert(frame.content.end(), extra.begin(), extra.end());
  return frame;
}

const Bytes kKey = string_data("abc");
const Bytes kValue = json_data(R"({"x":1})");

TEST(HazelcastData, StringAndJsonSerializeToThePythonClientsBytes) {
  EXPECT_EQ(to_hex(string_data("abc")), "00000000fffffff500000003616263");
  EXPECT_EQ(to_hex(json_data(R"({"x":1})")), "00000000ffffff7e000000077b2278223a317d");
  EXPECT_EQ(to_hex(string_data("Pijamalı")), "00000000fffffff50000000950696a616d616cc4b1");
}

TEST(HazelcastData, TextDataRoundTripsAndRejectsWrongTypeOrLength) {
  EXPECT_EQ(decode_text_data(kValue, kJsonTypeId).value(), R"({"x":1})");
  EXPECT_EQ(decode_text_data(kKey, kStringTypeId).value(), "abc");
  EXPECT_EQ(decode_text_data(kKey, kJsonTypeId).error().code, ErrorCode::kUnexpectedValueType);
  Bytes short_length = kKey;
  short_length.pop_back();
  EXPECT_EQ(decode_text_data(short_length, kStringTypeId).error().code,
            ErrorCode::kMalformedMessage);
  EXPECT_EQ(decode_text_data(Bytes{0, 0, 0}, kStringTypeId).error().code,
            ErrorCode::kMalformedMessage);
  EXPECT_EQ(decode_text_data(from_hex("00000000fffffff5"), kStringTypeId).error().code,
            ErrorCode::kMalformedMessage);
  EXPECT_EQ(decode_text_data(from_hex("00000000fffffff5ffffffff"), kStringTypeId).error().code,
            ErrorCode::kMalformedMessage);
}

TEST(HazelcastPartition, MurmurMatchesThePythonClientVectors) {
  // Python's murmur_hash_test hashes these strings from offset 8 (the Data header is skipped).
  auto hash_after_header = [](std::string_view text) {
    return murmur3_x86_32(ByteView(raw(text)).subspan(8));
  };
  EXPECT_EQ(hash_after_header("00000000key-1"), 1228513025);
  EXPECT_EQ(partition_for_hash(hash_after_header("00000000key-1"), 271), 107);
  EXPECT_EQ(hash_after_header("00000000"), -1585187909);
  EXPECT_EQ(partition_for_hash(hash_after_header("00000000"), 271), 238);
  EXPECT_EQ(hash_after_header("00000000abcd"), -973615161);
  EXPECT_EQ(partition_for_hash(hash_after_header("00000000abcd"), 271), 236);
}

TEST(HazelcastPartition, SerializedKeysLandInTheSamePartitionsAsTheOfficialClient) {
  EXPECT_EQ(data_partition_hash(string_data("abc")), -1708417075);
  EXPECT_EQ(partition_id(string_data("abc"), 271), 13);
  EXPECT_EQ(data_partition_hash(string_data("key-1")), 2132451398);
  EXPECT_EQ(partition_id(string_data("key-1"), 271), 94);
  EXPECT_EQ(data_partition_hash(string_data("proj:order:42")), -724183978);
  EXPECT_EQ(partition_id(string_data("proj:order:42"), 271), 163);
  EXPECT_EQ(data_partition_hash(string_data("Pijamalı")), -1221518325);
  EXPECT_EQ(partition_id(string_data("Pijamalı"), 271), 188);
  EXPECT_EQ(data_partition_hash(json_data(R"({"x":1})")), 848126027);
  EXPECT_EQ(partition_id(json_data(R"({"x":1})"), 271), 91);
  EXPECT_EQ(partition_id(string_data(topic_partition_key("events")), 271), 178);
}

TEST(HazelcastPartition, EdgeCasesFollowTheMembersHashToIndex) {
  EXPECT_EQ(partition_for_hash(INT32_MIN, 271), 0);
  EXPECT_EQ(partition_for_hash(-5, 271), 5);
  EXPECT_EQ(partition_for_hash(7, 0), kNoPartition);
  EXPECT_EQ(topic_partition_key("trades@BTC"), "BTC");
  // A non-zero partition hash in the Data header wins over the payload hash.
  EXPECT_EQ(data_partition_hash(from_hex("0000002afffffff500000003616263")), 42);
}

TEST(HazelcastEncode, MapRequestsMatchGoldenBytes) {
  const Bytes put = encode_map_put("m", kKey, kValue, 1, -1, 13, 1);
  EXPECT_EQ(put.size(), 91u);
  EXPECT_EQ(to_hex(put),
            "2600000000c00001010001000000000000000d0000000100000000000000ffffffffffffffff070000"
            "0000006d15000000000000000000fffffff50000000361626319000000002000000000ffffff7e0000"
            "00077b2278223a317d");
  std::string set = to_hex(put);
  set.replace(12, 8, "000f0100");
  set.replace(20, 16, "0200000000000000");
  EXPECT_EQ(to_hex(encode_map_set("m", kKey, kValue, 1, -1, 13, 2)), set);
  EXPECT_EQ(to_hex(encode_map_get("m", kKey, 1, 13, 3)),
            "1e00000000c00002010003000000000000000d00000001000000000000000700000000006d15000000"
            "002000000000fffffff500000003616263");
  EXPECT_EQ(to_hex(encode_map_delete("m", kKey, 1, 13, 4)),
            "1e00000000c00009010004000000000000000d00000001000000000000000700000000006d15000000"
            "002000000000fffffff500000003616263");
  const std::vector<DataEntry> entries = {{kKey, kValue}};
  EXPECT_EQ(to_hex(encode_map_put_all("m", entries, true, 13, 5)),
            "1700000000c0002c010005000000000000000d000000010700000000006d0600000000101500000000"
            "0000000000fffffff50000000361626319000000000000000000ffffff7e000000077b2278223a317d"
            "060000000028");
  EXPECT_EQ(to_hex(encode_map_size("m", 6)),
            "1600000000c0002a01000600000000000000ffffffff0700000000206d");
}

TEST(HazelcastEncode, TopicPublishAndPingMatchGoldenBytes) {
  EXPECT_EQ(to_hex(encode_topic_publish("events", kValue, 178, 7)),
            "1600000000c0000104000700000000000000b20000000c00000000006576656e747319000000002000"
            "000000ffffff7e000000077b2278223a317d");
  EXPECT_EQ(to_hex(encode_ping(8)), "1600000000e0000b00000800000000000000ffffffff");
}

TEST(HazelcastEncode, AuthenticationUsesThe20LayoutWithNullCredentials) {
  AuthenticationRequest request;
  request.cluster_name = "dita";
  request.client_uuid = {0x0102030405060708, 0x1112131415161718};
  const Bytes bytes = encode_authentication(request, 9);
  auto message = decode_message(bytes);
  ASSERT_TRUE(message.has_value()) << message.error().describe();
  EXPECT_EQ(message->message_type(), kClientAuthentication);
  EXPECT_EQ(message->correlation_id(), 9);
  const Bytes& initial = message->frames[0].content;
  ASSERT_EQ(initial.size(), kRequestHeaderSize + kUuidSize + 1);  // 40-byte frame, as Python
  EXPECT_EQ(initial[kRequestHeaderSize], 0);                      // uuid is not null
  EXPECT_EQ(initial.back(), 1);                                   // serialization version
  ASSERT_EQ(message->frames.size(), 9u);
  EXPECT_EQ(std::string(message->frames[1].content.begin(), message->frames[1].content.end()),
            "dita");
  EXPECT_TRUE(message->frames[2].has(kIsNullFlag));
  EXPECT_TRUE(message->frames[3].has(kIsNullFlag));
  EXPECT_TRUE(message->frames[7].has(kBeginDataStructureFlag));
  EXPECT_TRUE(message->frames[8].has(kEndDataStructureFlag | kIsFinalFlag));
  EXPECT_LE(bytes.size() + 3, 4096u);
}

TEST(HazelcastDecode, AuthenticationResponseYieldsStatusAndPartitionCount) {
  Bytes fixed;
  fixed.push_back(kAuthenticated);
  fixed.insert(fixed.end(), kUuidSize, 0);  // member uuid
  fixed.push_back(1);                       // serialization version
  put_le(fixed, 271, 4);                    // partition count
  fixed.insert(fixed.end(), kUuidSize + 1, 0);
  const Bytes bytes =
      encode_frames({response_initial(0x000101, 1, fixed), Frame{kBeginDataStructureFlag, {}},
                     Frame{0, {0x29, 0x16, 0, 0}}, Frame{0, raw("127.0.0.1")},
                     Frame{kEndDataStructureFlag, {}}, Frame{0, raw("5.5.0")}});
  auto message = decode_message(bytes);
  ASSERT_TRUE(message.has_value());
  auto response = decode_authentication_response(*message);
  ASSERT_TRUE(response.has_value()) << response.error().describe();
  EXPECT_EQ(response->status, kAuthenticated);
  EXPECT_EQ(response->partition_count, 271);
  EXPECT_EQ(response->server_version, "5.5.0");

  Bytes refused{kCredentialsFailed};
  auto refused_message = decode_message(encode_frames({response_initial(0x000101, 1, refused)}));
  ASSERT_TRUE(refused_message.has_value());
  EXPECT_EQ(decode_authentication_response(*refused_message)->status, kCredentialsFailed);

  Bytes cut = fixed;
  cut.resize(10);
  auto cut_message = decode_message(encode_frames({response_initial(0x000101, 1, cut)}));
  ASSERT_TRUE(cut_message.has_value());
  EXPECT_EQ(decode_authentication_response(*cut_message).error().code,
            ErrorCode::kMalformedMessage);
}

TEST(HazelcastDecode, ErrorResponseBecomesTypedServerError) {
  Bytes code;
  put_le(code, 30, 4);
  const Bytes bytes =
      encode_frames({response_initial(kErrorMessageType, 5), Frame{kBeginDataStructureFlag, {}},
                     Frame{kBeginDataStructureFlag, {}}, Frame{0, code},
                     Frame{0, raw("java.lang.IllegalArgumentException")},
                     Frame{0, raw("Partition ID cannot be negative!")},
                     Frame{kBeginDataStructureFlag, {}}, Frame{kEndDataStructureFlag, {}},
                     Frame{kEndDataStructureFlag, {}}, Frame{kEndDataStructureFlag, {}}});
  auto message = decode_message(bytes);
  ASSERT_TRUE(message.has_value());
  auto result = decode_empty_response(*message, kMapSet);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::kServerError);
  EXPECT_EQ(result.error().server_error_code, 30);
  EXPECT_EQ(result.error().class_name, "java.lang.IllegalArgumentException");
  EXPECT_EQ(result.error().message, "Partition ID cannot be negative!");

  // An error message whose holder list is cut short is malformed, not a crash.
  auto cut = decode_message(
      encode_frames({response_initial(kErrorMessageType, 5), Frame{kBeginDataStructureFlag, {}}}));
  ASSERT_TRUE(cut.has_value());
  EXPECT_EQ(decode_error_response(*cut).code, ErrorCode::kMalformedMessage);
}

TEST(HazelcastDecode, NullableDataAndEntryListResponses) {
  auto null_value = decode_message(
      encode_frames({response_initial(response_type_of(kMapGet), 3), Frame{kIsNullFlag, {}}}));
  ASSERT_TRUE(null_value.has_value());
  EXPECT_FALSE(decode_nullable_data_response(*null_value, kMapGet).value().has_value());

  auto value = decode_message(
      encode_frames({response_initial(response_type_of(kMapGet), 3), Frame{0, kValue}}));
  ASSERT_TRUE(value.has_value());
  EXPECT_EQ(decode_nullable_data_response(*value, kMapGet).value(), kValue);
  // Wrong response type for the request.
  EXPECT_EQ(decode_nullable_data_response(*value, kMapRemove).error().code,
            ErrorCode::kUnexpectedMessage);

  auto entries = decode_message(encode_frames(
      {response_initial(response_type_of(kMapEntrySet), 4), Frame{kBeginDataStructureFlag, {}},
       Frame{0, kKey}, Frame{0, kValue}, Frame{kEndDataStructureFlag, {}}}));
  ASSERT_TRUE(entries.has_value());
  auto list = decode_entry_list_response(*entries, kMapEntrySet);
  ASSERT_TRUE(list.has_value()) << list.error().describe();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].first, kKey);
  EXPECT_EQ((*list)[0].second, kValue);

  auto odd = decode_message(encode_frames({response_initial(response_type_of(kMapEntrySet), 4),
                                           Frame{kBeginDataStructureFlag, {}}, Frame{0, kKey},
                                           Frame{kEndDataStructureFlag, {}}}));
  ASSERT_TRUE(odd.has_value());
  EXPECT_EQ(decode_entry_list_response(*odd, kMapEntrySet).error().code,
            ErrorCode::kMalformedMessage);
}

TEST(HazelcastFrameDecoder, ByteByByteFeedingYieldsTheSameMessages) {
  const Bytes one = encode_map_put("m", kKey, kValue, 1, -1, 13, 1);
  const Bytes two = encode_ping(2);
  Bytes stream = one;
  stream.insert(stream.end(), two.begin(), two.end());
  FrameDecoder decoder;
  std::vector<Message> messages;
  for (std::uint8_t byte : stream) {
    decoder.feed(ByteView(&byte, 1));
    auto next = decoder.next();
    ASSERT_TRUE(next.has_value());
    if (*next) messages.push_back(std::move(**next));
  }
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].message_type(), kMapPut);
  EXPECT_EQ(messages[0].frames.size(), 4u);
  EXPECT_EQ(messages[1].message_type(), kClientPing);
  EXPECT_EQ(messages[1].correlation_id(), 2);
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
}

TEST(HazelcastFrameDecoder, FragmentsAreReassembledInOrder) {
  auto fragment_head = [](std::uint16_t flags) {
    Frame frame{flags, {}};
    put_le(frame.content, 77, 8);
    return frame;
  };
  Bytes stream = encode_frames(
      {fragment_head(kBeginFragmentFlag), response_initial(response_type_of(kMapGet), 9)});
  const Bytes tail = encode_frames({fragment_head(kEndFragmentFlag), Frame{0, kValue}});
  stream.insert(stream.end(), tail.begin(), tail.end());
  FrameDecoder decoder;
  decoder.feed(stream);
  auto message = decoder.next();
  ASSERT_TRUE(message.has_value()) << message.error().describe();
  ASSERT_TRUE(message->has_value());
  EXPECT_EQ((*message)->correlation_id(), 9);
  EXPECT_EQ(decode_nullable_data_response(**message, kMapGet).value(), kValue);

  FrameDecoder orphan;
  orphan.feed(tail);
  EXPECT_EQ(orphan.next().error().code, ErrorCode::kMalformedMessage);
}

TEST(HazelcastFrameDecoder, BadFrameLengthsAreNamedErrorsAndTheDecoderStaysFailed) {
  FrameDecoder decoder;
  decoder.feed(from_hex("0300000000e0"));  // length 3 < header
  auto first = decoder.next();
  ASSERT_FALSE(first.has_value());
  EXPECT_EQ(first.error().code, ErrorCode::kMalformedMessage);
  EXPECT_NE(first.error().message.find("frame length"), std::string::npos);
  decoder.feed(encode_ping(1));
  EXPECT_FALSE(decoder.next().has_value());

  FrameDecoder huge;
  huge.feed(from_hex("ffffff7f00e0"));  // 2 GiB frame
  EXPECT_EQ(huge.next().error().code, ErrorCode::kMalformedMessage);

  // An initial frame too short for type + correlation id.
  EXPECT_EQ(decode_message(from_hex("0a00000000e001020304")).error().code,
            ErrorCode::kMalformedMessage);
}

TEST(HazelcastFrameDecoder, EveryTruncationOfAValidMessageIsRejected) {
  const Bytes whole = encode_map_put_all("m", std::vector<DataEntry>{{kKey, kValue}}, true, 13, 5);
  for (std::size_t cut = 0; cut < whole.size(); ++cut) {
    auto result = decode_message(ByteView(whole).first(cut));
    ASSERT_FALSE(result.has_value()) << "prefix of " << cut << " bytes";
    EXPECT_EQ(result.error().code, ErrorCode::kMalformedMessage);
  }
  Bytes trailing = whole;
  trailing.push_back(0);
  EXPECT_EQ(decode_message(trailing).error().code, ErrorCode::kMalformedMessage);
}

// Fuzz-style sweep: random bytes, random mutations of valid messages and truncations must give
// a message or a named error, never a crash (ASan/UBSan watch the reads), and every decoded
// message must survive all response decoders.
TEST(HazelcastFrameDecoder, RandomAndMutatedInputNeverCrashesTheDecoders) {
  std::mt19937 rng(20261124);
  const std::vector<Bytes> seeds = {
      encode_map_put("m", kKey, kValue, 1, -1, 13, 1),
      encode_map_put_all("m", std::vector<DataEntry>{{kKey, kValue}, {kValue, kKey}}, true, 1, 2),
      encode_authentication(AuthenticationRequest{"dita", {1, 2}, "CPP", "5.5.0", "x"}, 3),
      encode_frames({response_initial(kErrorMessageType, 5), Frame{kBeginDataStructureFlag, {}},
                     Frame{kBeginDataStructureFlag, {}}, Frame{0, {1, 0, 0, 0}}, Frame{0, raw("X")},
                     Frame{kIsNullFlag, {}}, Frame{kEndDataStructureFlag, {}},
                     Frame{kEndDataStructureFlag, {}}}),
  };
  auto exercise = [](const Message& message) {
    for (std::int32_t type : {kClientAuthentication, kMapGet, kMapEntrySet, kMapSize, kMapSet}) {
      (void)decode_authentication_response(message);
      (void)decode_nullable_data_response(message, type);
      (void)decode_entry_list_response(message, type);
      (void)decode_int_response(message, type);
      (void)decode_empty_response(message, type);
    }
    (void)decode_error_response(message);
    for (const Frame& frame : message.frames) {
      (void)decode_text_data(frame.content, kJsonTypeId);
      (void)decode_text_data(frame.content, kStringTypeId);
      (void)data_partition_hash(frame.content);
    }
  };
  std::size_t decoded = 0;
  std::size_t rejected = 0;
  for (int round = 0; round < 4000; ++round) {
    Bytes input;
    if (round % 4 == 0) {
      input.resize(rng() % 96);
      for (auto& byte : input) byte = static_cast<std::uint8_t>(rng());
    } else {
      input = seeds[rng() % seeds.size()];
      const int mutations = 1 + static_cast<int>(rng() % 4);
      for (int m = 0; m < mutations; ++m) {
        input[rng() % input.size()] = static_cast<std::uint8_t>(rng());
      }
      if (round % 3 == 0) input.resize(rng() % (input.size() + 1));
    }
    FrameDecoder decoder;
    decoder.feed(input);
    for (int pulls = 0; pulls < 8; ++pulls) {
      auto next = decoder.next();
      if (!next) {
        EXPECT_FALSE(next.error().message.empty());
        ++rejected;
        break;
      }
      if (!*next) break;
      ++decoded;
      exercise(**next);
    }
  }
  EXPECT_GT(rejected, 0u);
  EXPECT_GT(decoded, 0u);
}

TEST(HazelcastUtf8, ValidatesSequences) {
  EXPECT_TRUE(is_valid_utf8("plain"));
  EXPECT_TRUE(is_valid_utf8("Pijamalı €𝄞"));
  EXPECT_FALSE(is_valid_utf8("\xc3"));
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xff"));
}

}  // namespace
}  // namespace dita::sink::hazelcast::protocol
