// Unit tests of the BingX adapter's pure parts: signer vectors, every response shape of
// the reference (composed fixtures, both spellings), error classification, the event-id
// rule, configuration and redaction, the WebSocket frame codec and gzip, and a fuzz pass
// that feeds random, truncated and mutated payloads to every parser.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <zlib.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <sstream>

#include "dita/venue/bingx/bingx_venue.hpp"
#include "dita/venue/bingx/config.hpp"
#include "dita/venue/bingx/normalizer.hpp"
#include "dita/venue/bingx/signer.hpp"
#include "dita/venue/bingx/ws_client.hpp"

namespace dita::venue::bingx {
namespace {

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(DITA_BINGX_FIXTURES) + "/" + name);
  EXPECT_TRUE(in.good()) << name;
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

nlohmann::json data_of(const std::string& name) {
  auto envelope = parse_envelope(fixture(name));
  EXPECT_TRUE(envelope.has_value()) << name;
  EXPECT_EQ(envelope->code, 0) << name;
  return envelope->data;
}

core::Quantity qty(std::string_view text) {
  return core::Quantity::from_units(*core::parse_decimal(text));
}
core::Price px(std::string_view text) {
  return core::Price::from_units(*core::parse_decimal(text));
}

// ---------------------------------------------------------------------------------------

TEST(BingxSigner, MatchesTheReferenceVectors) {
  const std::string secret = "sim-secret-0123456789abcdef";
  EXPECT_EQ(hmac_sha256_hex(secret, "recvWindow=5000&symbol=BTC-USDT&timestamp=1700000000000"),
            "ac96dfc81a6b575d782ba3edd03f4fa3a32f95122a8eaa7ecc743e2e9ae9a7a3");
  EXPECT_EQ(hmac_sha256_hex(secret,
                            "positionSide=LONG&quantity=0.001&side=BUY&symbol=BTC-USDT&timestamp="
                            "1700000000000&type=MARKET"),
            "2e4eeee7230530cf82290f4abd3cc2367860efd0dbbffbbc1453d93ca69ce880");
  EXPECT_EQ(hmac_sha256_hex(secret, "symbol=BTC-USDT&timestamp=1700000000000&recvWindow=5000"),
            "d651b3ef3f6b3baa39a84317f862742cb8f73facee0e15ec15722fc459e718f7");
  const auto signed_request =
      sign_request({{"symbol", "BTC-USDT"}}, secret, 1700000000000, std::int64_t{5000});
  EXPECT_EQ(signed_request.signature,
            "ac96dfc81a6b575d782ba3edd03f4fa3a32f95122a8eaa7ecc743e2e9ae9a7a3");
}

TEST(BingxRestClient, BuildsTheSortedSignedQueryCcxtSends) {
  RestClient client({"http://127.0.0.1:9", "k", "sim-secret-0123456789abcdef", 5000, 100, 100});
  const std::string url = client.build_url("/openApi/swap/v2/trade/order",
                                           {{"symbol", "BTC-USDT"},
                                            {"side", "BUY"},
                                            {"type", "MARKET"},
                                            {"quantity", "0.001"},
                                            {"positionSide", "LONG"}},
                                           Auth::kSigned, 1700000000000);
  EXPECT_EQ(url,
            "http://127.0.0.1:9/openApi/swap/v2/trade/order?positionSide=LONG&quantity=0.001&"
            "recvWindow=5000&side=BUY&symbol=BTC-USDT&timestamp=1700000000000&type=MARKET&"
            "signature=" +
                hmac_sha256_hex("sim-secret-0123456789abcdef",
                                "positionSide=LONG&quantity=0.001&recvWindow=5000&side=BUY&symbol="
                                "BTC-USDT&timestamp=1700000000000&type=MARKET"));
}

// ---------------------------------------------------------------------------------------
// Fixtures: every response shape of the reference

TEST(BingxFixtures, PlaceAckEchoShapeWithCapitalIdAndNumericEchoes) {
  auto ack = parse_place_ack(data_of("place_ack_echo.json"));
  ASSERT_TRUE(ack.has_value()) << ack.error().describe();
  EXPECT_EQ(ack->order_id, 1890000000000000123);  // > 2^53, exact
  EXPECT_EQ(ack->client_order_id, "ditas0t1l0a0");
  EXPECT_EQ(ack->symbol, "BTC-USDT");
  EXPECT_FALSE(ack->status.has_value());
}

TEST(BingxFixtures, PlaceAckDocsShapeLowerCasesTheClientId) {
  auto ack = parse_place_ack(data_of("place_ack_docs.json"));
  ASSERT_TRUE(ack.has_value()) << ack.error().describe();
  EXPECT_EQ(ack->order_id, 1890000000000000124);
  EXPECT_EQ(ack->client_order_id, "ditas0t2l0a0");
  EXPECT_EQ(ack->status, VenueStatus::kFilled);
}

TEST(BingxFixtures, PlaceAckAcceptsTheStringTwinOrderId) {
  auto ack = parse_place_ack(data_of("place_ack_string_twin.json"));
  ASSERT_TRUE(ack.has_value()) << ack.error().describe();
  EXPECT_EQ(ack->order_id, 1890000000000000125);
}

TEST(BingxFixtures, QueryObjectWithStringDecimalsAndNegativeCommission) {
  auto order = parse_order_data(data_of("order_query_partial.json"));
  ASSERT_TRUE(order.has_value()) << order.error().describe();
  EXPECT_EQ(order->order_id, 1890000000000000456);
  EXPECT_EQ(order->status, VenueStatus::kPartiallyFilled);
  EXPECT_EQ(order->quantity, qty("0.5"));
  EXPECT_EQ(order->cumulative_filled, qty("0.2"));
  EXPECT_EQ(order->average_price, px("3100"));
  ASSERT_TRUE(order->cumulative_fee.has_value());
  EXPECT_EQ(*order->cumulative_fee, core::Money::from_units(12'400'000));  // cost is positive
  EXPECT_EQ(order->client_order_id, "ditas1t3l0a0");
}

TEST(BingxFixtures, PendingIsOpenAndBlankFieldsAreAbsent) {
  auto order = parse_order_data(data_of("order_query_pending.json"));
  ASSERT_TRUE(order.has_value()) << order.error().describe();
  EXPECT_EQ(order->status, VenueStatus::kNew);
  EXPECT_TRUE(order->cumulative_filled.is_zero());
  EXPECT_FALSE(order->cumulative_fee.has_value());
  EXPECT_EQ(order->client_order_id, "");
}

TEST(BingxFixtures, CancelAnswerWithDoubleLCancelledAndQuotedId) {
  auto order = parse_order_data(data_of("order_cancel_answer.json"));
  ASSERT_TRUE(order.has_value()) << order.error().describe();
  EXPECT_EQ(order->status, VenueStatus::kCanceled);
  EXPECT_EQ(order->order_id, 1890000000000000790);
  EXPECT_EQ(order->cumulative_filled, qty("0.0005"));
}

TEST(BingxFixtures, OpenOrdersListAndNullList) {
  auto orders = parse_order_list(data_of("open_orders.json"));
  ASSERT_TRUE(orders.has_value()) << orders.error().describe();
  ASSERT_EQ(orders->size(), 2U);
  EXPECT_EQ((*orders)[1].status, VenueStatus::kNew);  // WORKING
  auto empty = parse_order_list(data_of("open_orders_empty.json"));
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->empty());
}

TEST(BingxFixtures, ContractsBecomeInstrumentsWithStepTickAndMinimum) {
  auto instruments = parse_contracts(data_of("contracts.json"));
  ASSERT_TRUE(instruments.has_value()) << instruments.error().describe();
  ASSERT_EQ(instruments->size(), 3U);
  const auto& btc = (*instruments)[0];
  EXPECT_EQ(btc.symbol.view(), "BTC-USDT");
  EXPECT_EQ(btc.quantity_step, qty("0.0001"));
  EXPECT_EQ(btc.price_tick, px("0.1"));
  EXPECT_EQ(btc.min_quantity, qty("0.0001"));
  const auto& trx = (*instruments)[1];  // precisions as numbers, minimum as a string
  EXPECT_EQ(trx.quantity_step, qty("1"));
  EXPECT_EQ(trx.price_tick, px("0.00001"));
  EXPECT_EQ(trx.min_quantity, qty("15"));
  const auto& pepe = (*instruments)[2];  // precisions as strings, minimum below the step
  EXPECT_EQ(pepe.price_tick, core::Price::from_units(1));
  EXPECT_EQ(pepe.min_quantity, qty("1"));
}

TEST(BingxFixtures, PositionsOneWaySignedAndHedgeSided) {
  auto oneway = parse_positions(data_of("positions_oneway.json"));
  ASSERT_TRUE(oneway.has_value()) << oneway.error().describe();
  ASSERT_EQ(oneway->size(), 1U);
  EXPECT_EQ((*oneway)[0].amount, -qty("0.003"));
  EXPECT_EQ((*oneway)[0].position_side, "BOTH");
  auto hedge = parse_positions(data_of("positions_hedge.json"));
  ASSERT_TRUE(hedge.has_value()) << hedge.error().describe();
  ASSERT_EQ(hedge->size(), 2U);
  EXPECT_EQ((*hedge)[1].position_side, "SHORT");
  EXPECT_EQ((*hedge)[1].average_price, px("3100"));
}

TEST(BingxFixtures, PositionModeAsStringOrBool) {
  EXPECT_EQ(parse_dual_side_position(data_of("dual_string.json")), true);
  EXPECT_EQ(parse_dual_side_position(data_of("dual_bool.json")), false);
}

TEST(BingxFixtures, ListenKeyServerTimeAndBalance) {
  auto key = parse_listen_key(fixture("listen_key.json"));
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(key->size(), 64U);
  EXPECT_EQ(parse_server_time(data_of("server_time.json")), 1700000000123);
  auto balance = parse_usdt_balance(data_of("balance_v3.json"));
  ASSERT_TRUE(balance.has_value()) << balance.error().describe();
  EXPECT_EQ(*balance, core::Money::from_units(1'000'012'345'678));
}

TEST(BingxFixtures, ErrorBodiesClassify) {
  const std::map<std::string, ResponseClass> expected = {
      {"error_insufficient_margin.json", ResponseClass::kRejected},
      {"error_gateway_ip.json", ResponseClass::kAuth},
      {"error_wrapped_80012.json", ResponseClass::kUnknownOutcome},
      {"error_rate_limit.json", ResponseClass::kRateLimited},
      {"error_cancel_filled.json", ResponseClass::kNotCancellable},
      {"error_not_exist.json", ResponseClass::kNotFound},
  };
  for (const auto& [name, cls] : expected) {
    auto envelope = parse_envelope(fixture(name));
    ASSERT_TRUE(envelope.has_value()) << name;
    EXPECT_EQ(classify(200, envelope->code), cls) << name;
  }
  EXPECT_EQ(classify(429, 0), ResponseClass::kRateLimited);
  EXPECT_EQ(classify(418, 0), ResponseClass::kRateLimited);
  EXPECT_EQ(classify(504, 0), ResponseClass::kUnknownOutcome);
  EXPECT_EQ(classify(0, 0), ResponseClass::kUnknownOutcome);
  EXPECT_EQ(classify(401, 100413), ResponseClass::kAuth);
  EXPECT_EQ(classify(200, 101481), ResponseClass::kDuplicateClientOrderId);
  for (std::int64_t code : {80018, 109422, 109201}) {
    EXPECT_EQ(classify(200, code), ResponseClass::kNotCancellable) << code;
  }
  for (std::int64_t code : {80016, 109414, 109421}) {
    EXPECT_EQ(classify(200, code), ResponseClass::kNotFound) << code;
  }
}

TEST(BingxFixtures, StreamOrderUpdatesInBothIdSpellings) {
  auto partial = parse_stream_message(fixture("ws_order_partial.json"));
  ASSERT_TRUE(partial.has_value()) << partial.error().describe();
  EXPECT_EQ(partial->kind, StreamKind::kOrderUpdate);
  EXPECT_EQ(partial->execution_type, "TRADE");
  EXPECT_EQ(partial->order->status, VenueStatus::kPartiallyFilled);
  EXPECT_EQ(partial->order->cumulative_filled, qty("0.2"));
  EXPECT_EQ(*partial->last_fee, core::Money::from_units(12'400'000));
  auto filled = parse_stream_message(fixture("ws_order_filled_quoted_id.json"));
  ASSERT_TRUE(filled.has_value()) << filled.error().describe();
  EXPECT_EQ(filled->order->order_id, 1890000000000000456);  // quoted `i`
  EXPECT_EQ(filled->order->client_order_id, "");            // blank `c`
  EXPECT_EQ(filled->order->status, VenueStatus::kFilled);
  auto canceled = parse_stream_message(fixture("ws_order_canceled.json"));
  ASSERT_TRUE(canceled.has_value()) << canceled.error().describe();
  EXPECT_EQ(canceled->order->status, VenueStatus::kCanceled);  // one L
}

TEST(BingxFixtures, OtherStreamEventsAreRecognised) {
  EXPECT_EQ(parse_stream_message("Ping")->kind, StreamKind::kPing);
  EXPECT_EQ(parse_stream_message(fixture("ws_account_update.json"))->kind,
            StreamKind::kAccountUpdate);
  EXPECT_EQ(parse_stream_message(fixture("ws_config_update.json"))->kind,
            StreamKind::kConfigUpdate);
  auto expired = parse_stream_message(fixture("ws_listen_key_expired.json"));
  EXPECT_EQ(expired->kind, StreamKind::kListenKeyExpired);
  EXPECT_EQ(expired->listen_key.size(), 64U);
  EXPECT_EQ(parse_stream_message(fixture("ws_snapshot.json"))->kind, StreamKind::kSnapshot);
  EXPECT_EQ(parse_stream_message(fixture("ws_sub_ack.json"))->kind, StreamKind::kOther);
}

TEST(BingxNumbers, OrderIdsNeverGoThroughDouble) {
  auto id = read_int64(nlohmann::json::parse(R"({"i":9007199254740993})"), "i", "o");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(**id, 9007199254740993);  // 2^53 + 1 survives
  auto as_float = read_int64(nlohmann::json::parse(R"({"i":1.8900000000000001e18})"), "i", "o");
  ASSERT_FALSE(as_float.has_value());
  EXPECT_EQ(as_float.error().field, "o.i");
}

TEST(BingxNumbers, DecimalsFromStringsIntegersAndFloats) {
  const auto read = [](std::string_view text) {
    return read_decimal(nlohmann::json::parse(text), "v", "x");
  };
  EXPECT_EQ(**read(R"({"v":"0.001"})"), 100'000);
  EXPECT_EQ(**read(R"({"v":0.001})"), 100'000);
  EXPECT_EQ(**read(R"({"v":60000})"), 6'000'000'000'000);
  EXPECT_EQ(**read(R"({"v":1e-05})"), 1'000);
  EXPECT_FALSE(read(R"({"v":""})")->has_value());
  EXPECT_FALSE(read(R"({"v":null})")->has_value());
  EXPECT_FALSE(read(R"({"v":"abc"})").has_value());
  EXPECT_FALSE(read(R"({"v":true})").has_value());
  EXPECT_FALSE(read(R"({"v":99999999999999999999})").has_value());
}

TEST(BingxEventIds, OneVenueFactOneIdWhateverTheChannel) {
  const auto a = fact_event_id(1890000000000000456, qty("0.2"), VenueStatus::kPartiallyFilled);
  EXPECT_EQ(a, fact_event_id(1890000000000000456, qty("0.2"), VenueStatus::kPartiallyFilled));
  EXPECT_NE(a, fact_event_id(1890000000000000456, qty("0.3"), VenueStatus::kPartiallyFilled));
  EXPECT_NE(a, fact_event_id(1890000000000000456, qty("0.2"), VenueStatus::kFilled));
  EXPECT_NE(a, fact_event_id(1890000000000000457, qty("0.2"), VenueStatus::kPartiallyFilled));
  EXPECT_NE(a, 0U);
}

// ---------------------------------------------------------------------------------------
// Configuration and secrets

BingxConfig load(std::map<std::string, std::string> vars) {
  auto config = load_bingx_config([&](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  });
  EXPECT_TRUE(config.has_value()) << (config ? "" : config.error().message);
  return config.value_or(BingxConfig{});
}

std::expected<BingxConfig, Error> try_load(std::map<std::string, std::string> vars) {
  return load_bingx_config([&](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  });
}

TEST(BingxConfig, DefaultsToTheVstHost) {
  const auto config =
      load({{"DITA_V2_BINGX_API_KEY", "key-abcdef"}, {"DITA_V2_BINGX_API_SECRET", "s3cr3t-xyz"}});
  EXPECT_EQ(config.base_url, kVstBaseUrl);
  EXPECT_EQ(stream_url_for(config.base_url), kVstStreamUrl);
  EXPECT_EQ(stream_url_for("http://127.0.0.1:4100"), "ws://127.0.0.1:4100/swap-market");
}

TEST(BingxConfig, LiveHostNeedsTheExplicitOptIn) {
  auto refused = try_load({{"DITA_V2_BINGX_BASE_URL", "https://open-api.bingx.com"},
                           {"DITA_V2_BINGX_API_KEY", "key-abcdef"},
                           {"DITA_V2_BINGX_API_SECRET", "s3cr3t-xyz"}});
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message.find("DITA_V2_BINGX_ALLOW_LIVE"), std::string::npos);
  const auto allowed = load({{"DITA_V2_BINGX_BASE_URL", "https://open-api.bingx.com"},
                             {"DITA_V2_BINGX_ALLOW_LIVE", "1"},
                             {"DITA_V2_BINGX_API_KEY", "key-abcdef"},
                             {"DITA_V2_BINGX_API_SECRET", "s3cr3t-xyz"}});
  EXPECT_EQ(stream_url_for(allowed.base_url), kLiveStreamUrl);
}

TEST(BingxConfig, MissingCredentialsAreNamed) {
  auto no_key = try_load({{"DITA_V2_BINGX_API_SECRET", "s3cr3t-xyz"}});
  ASSERT_FALSE(no_key.has_value());
  EXPECT_NE(no_key.error().message.find("DITA_V2_BINGX_API_KEY"), std::string::npos);
  auto no_secret = try_load({{"DITA_V2_BINGX_API_KEY", "key-abcdef"}});
  ASSERT_FALSE(no_secret.has_value());
  EXPECT_NE(no_secret.error().message.find("DITA_V2_BINGX_API_SECRET"), std::string::npos);
}

TEST(BingxConfig, KeyFileMustBeOwnerOnlyAndIsNeverEchoed) {
  char path[] = "/tmp/dita-bingx-keys-XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string secret = "file-secret-9f8e7d6c5b4a";
  const std::string body = "# keys\napi_key = file-key-123456\napi_secret=" + secret + "\n";
  ASSERT_EQ(::write(fd, body.data(), body.size()), static_cast<ssize_t>(body.size()));
  ::close(fd);
  ::chmod(path, 0644);
  auto loose = try_load({{"DITA_V2_BINGX_KEY_FILE", path}});
  ASSERT_FALSE(loose.has_value());
  EXPECT_NE(loose.error().message.find("chmod 600"), std::string::npos);
  EXPECT_EQ(loose.error().message.find(secret), std::string::npos);
  ::chmod(path, 0600);
  const auto config = load({{"DITA_V2_BINGX_KEY_FILE", path}});
  EXPECT_EQ(config.api_key, "file-key-123456");
  EXPECT_EQ(config.api_secret, secret);
  // A malformed line (a bare secret) is reported by number, never by content.
  std::ofstream(path) << secret << "\n";
  ::chmod(path, 0600);
  auto bad = try_load({{"DITA_V2_BINGX_KEY_FILE", path}});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message.find(secret), std::string::npos);
  std::remove(path);
}

TEST(BingxRedactor, ReplacesEverySecretOccurrence) {
  Redactor redactor;
  redactor.add("topsecret-value");
  redactor.add("ab");  // too short to be a credential: ignored
  EXPECT_EQ(redactor.apply("x topsecret-value y topsecret-value ab"),
            "x <redacted> y <redacted> ab");
}

// ---------------------------------------------------------------------------------------
// WebSocket codec

std::string server_frame(std::uint8_t first, std::string_view payload) {
  std::string frame;
  frame.push_back(static_cast<char>(first));
  frame.push_back(static_cast<char>(payload.size()));
  frame.append(payload);
  return frame;
}

std::string gzip(std::string_view text) {
  z_stream stream{};
  deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(text.size() + 64, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  stream.avail_in = static_cast<uInt>(text.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

TEST(BingxWebSocket, DecodesServerFramesAndRefusesBadOnes) {
  std::string buffer = server_frame(0x81, "hello") + server_frame(0x89, "p");
  WsFrame frame;
  std::string error;
  ASSERT_EQ(decode_server_frame(buffer, frame, error), WsDecode::kFrame);
  EXPECT_EQ(frame.payload, "hello");
  ASSERT_EQ(decode_server_frame(buffer, frame, error), WsDecode::kFrame);
  EXPECT_EQ(frame.opcode, kWsOpPing);
  EXPECT_EQ(decode_server_frame(buffer, frame, error), WsDecode::kNeedMore);
  std::string masked = "\x81\x85" + std::string("abcd") + "xxxxx";
  EXPECT_EQ(decode_server_frame(masked, frame, error), WsDecode::kError);
  EXPECT_NE(error.find("masked"), std::string::npos);
  std::string reserved = server_frame(0xC1, "x");
  EXPECT_EQ(decode_server_frame(reserved, frame, error), WsDecode::kError);
  std::string huge = "\x82\x7f" + std::string("\x00\x00\x00\x01\x00\x00\x00\x00", 8);
  EXPECT_EQ(decode_server_frame(huge, frame, error), WsDecode::kError);
}

TEST(BingxWebSocket, ClientFramesAreMaskedAndAcceptKeyIsRfcExample) {
  const std::string frame = encode_client_frame(kWsOpText, "Pong", 0x01020304U);
  ASSERT_EQ(frame.size(), 2U + 4U + 4U);
  EXPECT_EQ(static_cast<std::uint8_t>(frame[1]), 0x84U);
  EXPECT_EQ(frame[6], static_cast<char>('P' ^ 0x01));
  EXPECT_EQ(websocket_accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(BingxWebSocket, GzipRoundTripAndRefusals) {
  EXPECT_EQ(inflate_gzip(gzip("Ping")), "Ping");
  const std::string big(100000, 'a');
  EXPECT_FALSE(inflate_gzip(gzip(big), 1000).has_value());  // bomb cap
  const std::string packed = gzip("{\"e\":\"x\"}");
  EXPECT_FALSE(inflate_gzip(packed.substr(0, packed.size() / 2)).has_value());
  EXPECT_FALSE(inflate_gzip("not gzip").has_value());
}

TEST(BingxWebSocket, ParsesStreamUrls) {
  auto plain = parse_ws_url("ws://127.0.0.1:4100/swap-market?listenKey=abc");
  ASSERT_TRUE(plain.has_value());
  EXPECT_FALSE(plain->tls);
  EXPECT_EQ(plain->port, 4100);
  EXPECT_EQ(plain->target, "/swap-market?listenKey=abc");
  auto tls = parse_ws_url(kVstStreamUrl);
  ASSERT_TRUE(tls.has_value());
  EXPECT_TRUE(tls->tls);
  EXPECT_EQ(tls->port, 443);
  EXPECT_FALSE(parse_ws_url("http://x").has_value());
  EXPECT_FALSE(parse_ws_url("ws://host:99999/").has_value());
}

// ---------------------------------------------------------------------------------------
// Fuzz: random, truncated and mutated payloads never crash and give a named error.

using Parser = std::function<std::optional<ParseError>(const std::string&)>;

template <class T>
std::optional<ParseError> error_of(const Parsed<T>& parsed) {
  if (parsed) return std::nullopt;
  return parsed.error();
}

std::optional<ParseError> via_envelope(
    const std::string& body,
    const std::function<std::optional<ParseError>(const nlohmann::json&)>& parse) {
  auto envelope = parse_envelope(body);
  if (!envelope) return envelope.error();
  return parse(envelope->data);
}

TEST(BingxFuzz, EveryParserSurvivesMutatedPayloadsWithNamedErrors) {
  const std::vector<std::pair<std::string, Parser>> parsers = {
      {"place_ack_echo.json",
       [](const std::string& b) {
         return via_envelope(b, [](const auto& d) { return error_of(parse_place_ack(d)); });
       }},
      {"order_query_partial.json",
       [](const std::string& b) {
         return via_envelope(b, [](const auto& d) { return error_of(parse_order_data(d)); });
       }},
      {"open_orders.json",
       [](const std::string& b) {
         return via_envelope(b, [](const auto& d) { return error_of(parse_order_list(d)); });
       }},
      {"contracts.json",
       [](const std::string& b) {
         return via_envelope(b, [](const auto& d) { return error_of(parse_contracts(d)); });
       }},
      {"positions_oneway.json",
       [](const std::string& b) {
         return via_envelope(b, [](const auto& d) { return error_of(parse_positions(d)); });
       }},
      {"dual_string.json",
       [](const std::string& b) {
         return via_envelope(b,
                             [](const auto& d) { return error_of(parse_dual_side_position(d)); });
       }},
      {"balance_v3.json",
       [](const std::string& b) {
         return via_envelope(b, [](const auto& d) { return error_of(parse_usdt_balance(d)); });
       }},
      {"server_time.json",
       [](const std::string& b) {
         return via_envelope(b, [](const auto& d) { return error_of(parse_server_time(d)); });
       }},
      {"listen_key.json", [](const std::string& b) { return error_of(parse_listen_key(b)); }},
      {"ws_order_partial.json",
       [](const std::string& b) { return error_of(parse_stream_message(b)); }},
      {"ws_order_filled_quoted_id.json",
       [](const std::string& b) { return error_of(parse_stream_message(b)); }},
      {"ws_listen_key_expired.json",
       [](const std::string& b) { return error_of(parse_stream_message(b)); }},
  };
  std::mt19937_64 rng(20260101);
  const std::string alphabet = "{}[]\":,0123456789.-eE truefalsnul\\abcXYZ\x01\xff";
  std::size_t errors = 0;
  std::size_t cases = 0;
  for (const auto& [name, parse] : parsers) {
    const std::string original = fixture(name);
    ASSERT_FALSE(parse(original).has_value()) << name << " must parse unmutated";
    for (int i = 0; i < 400; ++i) {
      std::string mutated = original;
      switch (rng() % 5) {
        case 0:  // truncate
          mutated.resize(rng() % mutated.size());
          break;
        case 1:  // flip bytes
          for (int k = 0; k < 3; ++k)
            mutated[rng() % mutated.size()] = alphabet[rng() % alphabet.size()];
          break;
        case 2:  // delete a span
          mutated.erase(rng() % mutated.size(), rng() % 12);
          break;
        case 3:  // insert junk
          mutated.insert(rng() % mutated.size(),
                         std::string(1 + rng() % 6, alphabet[rng() % alphabet.size()]));
          break;
        default: {  // random bytes
          mutated.assign(rng() % 64, '\0');
          for (char& c : mutated) c = static_cast<char>(rng() % 256);
        }
      }
      ++cases;
      const auto error = parse(mutated);
      if (error) {
        ++errors;
        EXPECT_FALSE(error->field.empty()) << name << ": error without a field for " << mutated;
        EXPECT_FALSE(error->message.empty()) << name;
      }
    }
  }
  EXPECT_GT(errors, cases / 4);  // most mutations must be caught, not silently accepted
}

TEST(BingxFuzz, TypeConfusionInEveryOrderFieldIsANamedError) {
  const auto original = nlohmann::json::parse(fixture("order_query_partial.json"));
  for (const auto& [key, value] : original["data"]["order"].items()) {
    for (const nlohmann::json& replacement :
         {nlohmann::json(nullptr), nlohmann::json::array({1}), nlohmann::json::object(),
          nlohmann::json(true), nlohmann::json("x"), nlohmann::json(-1.5)}) {
      auto mutated = original;
      mutated["data"]["order"][key] = replacement;
      auto parsed = parse_order_data(mutated["data"]);
      if (!parsed) {
        EXPECT_NE(parsed.error().field.find("data.order"), std::string::npos) << key;
      }
    }
  }
}

TEST(BingxFuzz, WebSocketDecoderSurvivesRandomBytes) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 3000; ++i) {
    std::string buffer(rng() % 40, '\0');
    for (char& c : buffer) c = static_cast<char>(rng() % 256);
    WsFrame frame;
    std::string error;
    for (int k = 0; k < 8; ++k) {
      const auto status = decode_server_frame(buffer, frame, error, 1024);
      if (status != WsDecode::kFrame) break;
    }
    (void)inflate_gzip(buffer, 4096);
  }
  SUCCEED();
}

}  // namespace
}  // namespace dita::venue::bingx
