#include "dita/codec/json_codec.hpp"

#include <gtest/gtest.h>

namespace dita::codec {
namespace {

using nlohmann::json;

const CodecContext kContext{};

core::KernelInput enter_input() {
  core::KernelIntent intent;
  intent.kind = core::KernelIntentKind::kEnter;
  intent.id = *core::ClientIntentId::parse("s1-7");
  intent.deadline_ns = 999;
  intent.reason = *core::ReasonTag::parse("breakout");
  intent.slot = 1;
  intent.asset = *core::Symbol::parse("BTC-USDT");
  intent.side = core::Side::kShort;
  intent.size = core::Quantity::from_units(1'000'000);
  intent.price = core::Price::from_units(6'000'000'000'000);
  intent.leverage = 5;
  return {123, intent};
}

TEST(JsonCodec, EncodesAnIntentCanonicallyWithSortedKeysAndDecimalStrings) {
  EXPECT_EQ(
      encode_input(enter_input(), kContext),
      R"({"intent":{"asset":"BTC-USDT","deadline_ns":999,"id":"s1-7","leverage":5,"price":"60000",)"
      R"("reason":"breakout","side":"SHORT","size":"0.01","slot":1,"type":"ENTER"},"kind":"INTENT",)"
      R"("ts_ns":123})");
}

TEST(JsonCodec, EveryInputKindSurvivesARoundTripByteForByte) {
  core::VenueEvent fill;
  fill.kind = core::KernelEventKind::kPartialFill;
  fill.event_id = 99;
  fill.slot = 1;
  fill.order = {1, 3, 2, 1};
  fill.venue_order_id = 1'890'000'000'000'000'123;
  fill.cumulative_filled = core::Quantity::from_units(400'000);
  fill.average_price = core::Price::from_units(6'000'050'000'000);
  fill.cumulative_fee = core::Money::from_units(1'200'000);
  fill.retry_after_ms = 250;
  core::VenueEvent mark;
  mark.kind = core::KernelEventKind::kMarkPrice;
  mark.symbol = *core::Symbol::parse("ETH-USDT");
  mark.mark_price = core::Price::from_units(300'012'000'000);
  const std::vector<core::KernelInput> inputs = {
      enter_input(),
      {1, fill},
      {2, mark},
      {3, core::Tick{}},
      {4, core::SeedCapital{core::Money::from_units(1'000'000'000'000)}},
      {5, core::ReconcileBegin{2, core::kAllSlots, core::ReconcileReason::kStart, true}},
      {5, core::ReconcileBegin{3, 1, core::ReconcileReason::kReconnect, false}},
      {6, core::ReconcilePosition{2, *core::Symbol::parse("ETH-USDT"), core::Side::kShort,
                                  core::Quantity::from_units(5), core::Price::from_units(9)}},
      {6, core::ExternalFill{77, core::ExternalFillKind::kAdl, *core::Symbol::parse("BTC-USDT"),
                             core::Side::kLong, core::Quantity::from_units(5),
                             core::Price::from_units(9), core::Money::from_units(-3), 123}},
      {6, core::ReconcileComplete{2, true, core::Money::from_units(123'456)}},
      {6, core::ReconcileComplete{2, false, {}}},
      {6, core::FundingPayment{8, *core::Symbol::parse("BTC-USDT"), core::Money::from_units(-44)}},
      {6, core::VenueHealth{true, 1'000, 418}},
      {6, core::OperatorCommand{core::OperatorAction::kAdopt, 2, *core::Symbol::parse("BTC-USDT"),
                                core::Side::kShort, core::Quantity::from_units(5),
                                core::Price::from_units(9)}},
      {6,
       core::OperatorCommand{
           core::OperatorAction::kRelease, core::kNoSlot, {}, core::Side::kLong, {}, {}}},
      {7, core::SetActiveSlotLimit{3}},
  };
  for (const auto& input : inputs) {
    const std::string encoded = encode_input(input, kContext);
    const auto decoded = decode_input(encoded, kContext);
    ASSERT_TRUE(decoded.has_value()) << encoded << ": " << decoded.error().message;
    EXPECT_EQ(encode_input(*decoded, kContext), encoded);
  }
}

TEST(JsonCodec, DecodesEverySlotNumberTheKernelCanBeGivenSoARefusedInputStillReplays) {
  // The kernel refuses slot 0xFFFFFFFF with INVALID_SLOT and that refusal is journaled, so
  // the decoder must take back every uint32 the encoder can write.
  core::KernelInput input = enter_input();
  std::get<core::KernelIntent>(input.payload).slot = 0xFFFFFFFFU;
  core::VenueEvent ack;
  ack.kind = core::KernelEventKind::kAck;
  ack.event_id = 5;
  ack.slot = 0xFFFFFFFFU;
  for (const core::KernelInput& each : {input, core::KernelInput{1, ack},
                                        core::KernelInput{2, core::ReconcileBegin{0xFFFFFFFFU}}}) {
    const std::string encoded = encode_input(each, kContext);
    const auto decoded = decode_input(encoded, kContext);
    ASSERT_TRUE(decoded.has_value()) << encoded << ": " << decoded.error().message;
    EXPECT_EQ(encode_input(*decoded, kContext), encoded);
  }
}

TEST(JsonCodec, RejectsNonFiniteAndMalformedDecimalsNamingTheField) {
  for (const char* bad :
       {R"("NaN")", R"("inf")", R"("-inf")", R"("1.2.3")", R"("")", "true", R"("1e400")"}) {
    json input = json::parse(encode_input(enter_input(), kContext));
    input["intent"]["size"] = json::parse(bad);
    const auto decoded = input_from_json(input, kContext);
    ASSERT_FALSE(decoded.has_value()) << bad;
    EXPECT_EQ(decoded.error().field, "intent.size") << bad;
  }
}

TEST(JsonCodec, AcceptsJsonNumbersAtTheEdgeWithExactDecimalConversion) {
  json input = json::parse(encode_input(enter_input(), kContext));
  input["intent"]["size"] = 0.1;
  input["intent"]["price"] = 60000.123456789;  // 9 decimals: rounds half-even to 8
  const auto decoded = input_from_json(input, kContext);
  ASSERT_TRUE(decoded.has_value());
  const auto& intent = std::get<core::KernelIntent>(decoded->payload);
  EXPECT_EQ(intent.size.units(), 10'000'000);
  EXPECT_EQ(intent.price.units(), 6'000'012'345'679);
}

TEST(JsonCodec, RejectsUnknownEnumValuesListingTheAllowedOnes) {
  json input = json::parse(encode_input(enter_input(), kContext));
  input["intent"]["side"] = "SIDEWAYS";
  const auto decoded = input_from_json(input, kContext);
  ASSERT_FALSE(decoded.has_value());
  EXPECT_EQ(decoded.error().field, "intent.side");
  EXPECT_NE(decoded.error().message.find("LONG, SHORT"), std::string::npos);
}

TEST(JsonCodec, RejectsMissingFieldsWrongTypesAndForeignOrderIds) {
  json input = json::parse(encode_input(enter_input(), kContext));
  input["intent"].erase("asset");
  EXPECT_EQ(input_from_json(input, kContext).error().field, "intent.asset");

  input = json::parse(encode_input(enter_input(), kContext));
  input["intent"]["slot"] = -1;
  EXPECT_EQ(input_from_json(input, kContext).error().field, "intent.slot");

  json event = {
      {"ts_ns", 1},
      {"kind", "VENUE_EVENT"},
      {"event", {{"type", "ACK"}, {"event_id", 1}, {"slot", 0}, {"order", "abcs0t1l0a0"}}}};
  EXPECT_EQ(input_from_json(event, kContext).error().field, "event.order");
  event["event"]["order"] = "ditas0t01l0a0";  // leading zero: not canonical
  EXPECT_EQ(input_from_json(event, kContext).error().field, "event.order");
  event["event"]["order"] = "ditas0t1l0a0";
  EXPECT_TRUE(input_from_json(event, kContext).has_value());

  EXPECT_FALSE(decode_input("{not json", kContext).has_value());
  EXPECT_EQ(decode_input(R"({"ts_ns":1,"kind":"TELEPORT"})", kContext).error().field, "kind");
}

TEST(JsonCodec, KernelConfigRoundTripsThroughTheJournalHeaderForm) {
  core::KernelConfig config;
  config.slot_count = 7;
  config.active_slot_limit = 3;
  config.order_id_prefix = "abc1";
  config.instruments = core::default_instruments();
  std::string storage;
  const auto decoded = config_from_json(config_to_json(config), storage);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(canonical(config_to_json(*decoded)), canonical(config_to_json(config)));
  EXPECT_EQ(decoded->order_id_prefix, "abc1");
}

}  // namespace
}  // namespace dita::codec
