// BingX signer: reference test vectors (bingx-api.md §2.3) and encoding rules.
#include <gtest/gtest.h>

#include "dita/venue/bingx/signer.hpp"

namespace bingx = dita::venue::bingx;

namespace {

constexpr const char* kSecret = "sim-secret-0123456789abcdef";

TEST(BingxSigner, MatchesReferenceVectorForSortedAccountQuery) {
  EXPECT_EQ(
      bingx::hmac_sha256_hex(kSecret, "recvWindow=5000&symbol=BTC-USDT&timestamp=1700000000000"),
      "ac96dfc81a6b575d782ba3edd03f4fa3a32f95122a8eaa7ecc743e2e9ae9a7a3");
}

TEST(BingxSigner, MatchesReferenceVectorForMarketOrder) {
  EXPECT_EQ(bingx::hmac_sha256_hex(kSecret,
                                   "positionSide=LONG&quantity=0.001&side=BUY&symbol=BTC-USDT&"
                                   "timestamp=1700000000000&type=MARKET"),
            "2e4eeee7230530cf82290f4abd3cc2367860efd0dbbffbbc1453d93ca69ce880");
}

TEST(BingxSigner, SignsParametersInTransmittedOrder) {
  const bingx::QueryParams unsorted{
      {"symbol", "BTC-USDT"}, {"timestamp", "1700000000000"}, {"recvWindow", "5000"}};
  const auto signed_request = bingx::sign_in_order(unsorted, kSecret);
  EXPECT_EQ(signed_request.payload, "symbol=BTC-USDT&timestamp=1700000000000&recvWindow=5000");
  EXPECT_EQ(signed_request.signature,
            "d651b3ef3f6b3baa39a84317f862742cb8f73facee0e15ec15722fc459e718f7");
}

TEST(BingxSigner, SignRequestAddsTimestampSortsAndAppendsSignatureLast) {
  const auto r = bingx::sign_request({{"type", "MARKET"},
                                      {"symbol", "BTC-USDT"},
                                      {"side", "BUY"},
                                      {"quantity", "0.001"},
                                      {"positionSide", "LONG"}},
                                     kSecret, 1700000000000, std::nullopt);
  EXPECT_EQ(r.payload,
            "positionSide=LONG&quantity=0.001&side=BUY&symbol=BTC-USDT&timestamp=1700000000000&"
            "type=MARKET");
  EXPECT_EQ(r.signature, "2e4eeee7230530cf82290f4abd3cc2367860efd0dbbffbbc1453d93ca69ce880");
  EXPECT_EQ(r.query, r.payload + "&signature=" + r.signature);
}

TEST(BingxSigner, RecvWindowIsSignedWhenGiven) {
  const auto r = bingx::sign_request({{"symbol", "BTC-USDT"}}, kSecret, 1700000000000, 5000);
  EXPECT_EQ(r.signature, "ac96dfc81a6b575d782ba3edd03f4fa3a32f95122a8eaa7ecc743e2e9ae9a7a3");
}

TEST(BingxSigner, SignsRawValuesButTransmitsEncodedValues) {
  const auto r = bingx::sign_in_order(
      {{"stopLoss", R"({"type":"STOP_MARKET","stopPrice":61000})"}, {"symbol", "BTC-USDT"}},
      kSecret);
  EXPECT_EQ(r.payload, R"(stopLoss={"type":"STOP_MARKET","stopPrice":61000}&symbol=BTC-USDT)");
  EXPECT_EQ(
      r.query.substr(0, r.query.find("&signature=")),
      "stopLoss=%7B%22type%22%3A%22STOP_MARKET%22%2C%22stopPrice%22%3A61000%7D&symbol=BTC-USDT");
  EXPECT_EQ(r.signature, bingx::hmac_sha256_hex(kSecret, r.payload));
}

TEST(BingxSigner, UrlEncodingKeepsUnreservedCharactersAndRoundTrips) {
  EXPECT_EQ(bingx::url_encode_value("BTC-USDT"), "BTC-USDT");
  EXPECT_EQ(bingx::url_encode_value("0.001"), "0.001");
  EXPECT_EQ(bingx::url_encode_value("a b[1]"), "a%20b%5B1%5D");
  const std::string weird = "[\"a\",\"b\"] {x} + & = %";
  EXPECT_EQ(bingx::url_decode(bingx::url_encode_value(weird), false), weird);
  EXPECT_EQ(bingx::url_decode("a+b", true), "a b");
  EXPECT_EQ(bingx::url_decode("a+b", false), "a+b");
  EXPECT_EQ(bingx::url_decode("bad%zzescape%4", false), "bad%zzescape%4");
}

TEST(BingxSigner, SortIsStableAndAsciiAscending) {
  const auto sorted = bingx::sorted_by_key({{"b", "1"}, {"B", "2"}, {"a", "3"}, {"b", "4"}});
  const bingx::QueryParams expected{{"B", "2"}, {"a", "3"}, {"b", "1"}, {"b", "4"}};
  EXPECT_EQ(sorted, expected);
}

TEST(BingxSigner, SignatureComparisonIsExact) {
  EXPECT_TRUE(bingx::signatures_equal("abc", "abc"));
  EXPECT_FALSE(bingx::signatures_equal("abc", "abd"));
  EXPECT_FALSE(bingx::signatures_equal("abc", "abcd"));
}

TEST(BingxSigner, SecretWithEmbeddedNulIsUsedWholly) {
  const std::string secret("ab\0cd", 5);
  EXPECT_NE(bingx::hmac_sha256_hex(secret, "x"), bingx::hmac_sha256_hex("ab", "x"));
  EXPECT_EQ(bingx::hmac_sha256_hex(secret, "x").size(), 64U);
}

}  // namespace
