// Fixed-point numbers: exact parsing, half-even rounding, formatting and the arithmetic the
// kernel's accounting relies on.
#include "dita/core/fixed_point.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace dita::core {
namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();

std::int64_t parsed(std::string_view text) {
  const auto result = parse_decimal(text);
  EXPECT_TRUE(result.has_value()) << text << " -> " << to_string(result.error());
  return result.value_or(-999);
}

DecimalError parse_error(std::string_view text) {
  const auto result = parse_decimal(text);
  EXPECT_FALSE(result.has_value()) << text << " parsed as " << result.value_or(0);
  return result.has_value() ? DecimalError::kEmpty : result.error();
}

TEST(ParseDecimal, ReadsOneTenthExactly) {
  EXPECT_EQ(parsed("0.1"), 10'000'000);
}

TEST(ParseDecimal, ReadsScientificNotationExactly) {
  EXPECT_EQ(parsed("1e-3"), 100'000);
  EXPECT_EQ(parsed("2.5E2"), 25'000'000'000);
  EXPECT_EQ(parsed("1e+2"), 10'000'000'000);
  EXPECT_EQ(parsed("1e-8"), 1);
}

TEST(ParseDecimal, ReadsNegativeAndSignedValues) {
  EXPECT_EQ(parsed("-2.5"), -250'000'000);
  EXPECT_EQ(parsed("+3"), 300'000'000);
  EXPECT_EQ(parsed("-0"), 0);
}

TEST(ParseDecimal, AcceptsLeadingAndTrailingPointForms) {
  EXPECT_EQ(parsed(".5"), 50'000'000);
  EXPECT_EQ(parsed("5."), 500'000'000);
  EXPECT_EQ(parsed("000100.00000000"), 10'000'000'000);
}

TEST(ParseDecimal, RoundsTheNinthDecimalHalfToEvenDown) {
  EXPECT_EQ(parsed("0.000000005"), 0);  // 0.5 unit -> 0 (even)
  EXPECT_EQ(parsed("0.000000025"), 2);  // 2.5 units -> 2 (even)
  EXPECT_EQ(parsed("1.000000004"), 100'000'000);
  EXPECT_EQ(parsed("-0.000000025"), -2);  // symmetric for negatives
}

TEST(ParseDecimal, RoundsTheNinthDecimalHalfToEvenUp) {
  EXPECT_EQ(parsed("0.000000015"), 2);  // 1.5 units -> 2 (even)
  EXPECT_EQ(parsed("0.000000035"), 4);
  EXPECT_EQ(parsed("0.0000000251"), 3);  // above half rounds up
  EXPECT_EQ(parsed("1.000000006"), 100'000'001);
  EXPECT_EQ(parsed("-0.000000015"), -2);
}

TEST(ParseDecimal, RoundsUpATieBrokenByADigitFarBeyondTheThirtiethSignificantOne) {
  // 0.5000...0001 units: the deciding digit sits past the digits the parser keeps.
  const std::string text = "0.000000005" + std::string(40, '0') + "1";
  EXPECT_EQ(parsed(text), 1);
  EXPECT_EQ(parsed("-" + text), -1);
}

TEST(ParseDecimal, RoundsVanishinglySmallValuesToZero) {
  EXPECT_EQ(parsed("1e-47"), 0);
  EXPECT_EQ(parsed("1e-39"), 0);
  EXPECT_EQ(parsed("0." + std::string(60, '0') + "9"), 0);
  EXPECT_EQ(parsed("9e-9"), 1);
}

TEST(ParseDecimal, ReadsTheExtremesOfTheRange) {
  EXPECT_EQ(parsed("92233720368.54775807"), kMax);
  EXPECT_EQ(parsed("-92233720368.54775807"), -kMax);
  EXPECT_EQ(parsed("-92233720368.54775808"), kMin);
}

TEST(ParseDecimal, RejectsValuesBeyondInt64AtTheFixedScaleAsOutOfRange) {
  EXPECT_EQ(parse_error("92233720368.54775808"), DecimalError::kOutOfRange);
  EXPECT_EQ(parse_error("-92233720368.54775809"), DecimalError::kOutOfRange);
  EXPECT_EQ(parse_error("1e20"), DecimalError::kOutOfRange);
  EXPECT_EQ(parse_error("1e99999"), DecimalError::kOutOfRange);
  EXPECT_EQ(parse_error(std::string(40, '9')), DecimalError::kOutOfRange);
}

TEST(ParseDecimal, RejectsEmptyText) {
  EXPECT_EQ(parse_error(""), DecimalError::kEmpty);
}

TEST(ParseDecimal, RejectsNonNumbersAsMalformed) {
  for (const std::string_view text : {"nan", "NaN", "inf", "-inf", "1.2.3", "-", "+", ".", "e5",
                                      "1e", "1e+", "1x", " 1", "1 ", "0x10", "1,5", "--1"}) {
    EXPECT_EQ(parse_error(text), DecimalError::kMalformed) << text;
  }
}

TEST(ParseDecimal, NamesItsErrorsWithStableStrings) {
  EXPECT_EQ(to_string(DecimalError::kEmpty), "EMPTY");
  EXPECT_EQ(to_string(DecimalError::kMalformed), "MALFORMED");
  EXPECT_EQ(to_string(DecimalError::kOutOfRange), "OUT_OF_RANGE");
}

TEST(FormatDecimal, WritesTheShortestExactText) {
  EXPECT_EQ(format_decimal(150'000'000), "1.5");
  EXPECT_EQ(format_decimal(1), "0.00000001");
  EXPECT_EQ(format_decimal(-300'000'000), "-3");
  EXPECT_EQ(format_decimal(0), "0");
  EXPECT_EQ(format_decimal(-1), "-0.00000001");
  EXPECT_EQ(format_decimal(kMin), "-92233720368.54775808");
  EXPECT_EQ(format_decimal(kMax), "92233720368.54775807");
}

TEST(FormatDecimal, RoundTripsThroughParseForEdgeAndSpreadValues) {
  std::vector<std::int64_t> values = {0,           1,    -1,   10,       99'999'999, 100'000'000,
                                      123'456'789, kMax, kMin, kMax - 1, kMin + 1};
  std::uint64_t x = 0x9E3779B97F4A7C15ULL;
  for (int i = 0; i < 2000; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    values.push_back(static_cast<std::int64_t>(x >> (i % 60)) * ((i % 2) != 0 ? -1 : 1));
  }
  for (const std::int64_t value : values) {
    const std::string text = format_decimal(value);
    const auto back = parse_decimal(text);
    ASSERT_TRUE(back.has_value()) << text;
    EXPECT_EQ(*back, value) << text;
  }
}

TEST(FixedArithmetic, NotionalIsExactThenRoundedHalfEven) {
  EXPECT_EQ(notional(Quantity::from_units(150'000'000), Price::from_integer(2)).units(),
            300'000'000);
  // 1e-8 coin at 0.5 = 0.5e-8 -> 0 (even); 3e-8 coin at 0.5 = 1.5e-8 -> 2e-8
  EXPECT_EQ(notional(Quantity::from_units(1), Price::from_units(50'000'000)).units(), 0);
  EXPECT_EQ(notional(Quantity::from_units(3), Price::from_units(50'000'000)).units(), 2);
  EXPECT_EQ(notional(Quantity::from_units(-3), Price::from_units(50'000'000)).units(), -2);
  // A large position at a large price does not overflow: 1000 coin x 100000 USDT.
  EXPECT_EQ(notional(Quantity::from_integer(1000), Price::from_integer(100'000)),
            Money::from_integer(100'000'000));
}

TEST(FixedArithmetic, MulDivRoundsHalfEvenInBothDirections) {
  const auto one = Quantity::from_units(1);
  const auto four = Quantity::from_units(4);
  EXPECT_EQ(mul_div(Money::from_units(10), one, four).units(), 2);  // 2.5 -> 2
  EXPECT_EQ(mul_div(Money::from_units(30), one, four).units(), 8);  // 7.5 -> 8
  EXPECT_EQ(mul_div(Money::from_units(-10), one, four).units(), -2);
  EXPECT_EQ(mul_div(Money::from_units(-30), one, four).units(), -8);
  EXPECT_EQ(mul_div(Money::from_units(11), one, four).units(), 3);  // 2.75 -> 3
  EXPECT_EQ(
      mul_div(Money::from_integer(7), Quantity::from_integer(1), Quantity::from_integer(3)).units(),
      233'333'333);
}

TEST(FixedArithmetic, AveragePriceRoundsHalfEven) {
  EXPECT_EQ(average_price(Money::from_integer(10), Quantity::from_integer(3)).units(), 333'333'333);
  EXPECT_EQ(average_price(Money::from_integer(20), Quantity::from_integer(3)).units(), 666'666'667);
  // 1e-8 USDT over 2e-8 coin... = 0.5 USDT/coin exactly.
  EXPECT_EQ(average_price(Money::from_units(1), Quantity::from_units(2)).units(), 50'000'000);
  // 5e-8 USDT over 4 coin = 1.25e-8 -> 1e-8; 6e-8 over 4 = 1.5e-8 -> 2e-8
  EXPECT_EQ(average_price(Money::from_units(5), Quantity::from_integer(4)).units(), 1);
  EXPECT_EQ(average_price(Money::from_units(6), Quantity::from_integer(4)).units(), 2);
}

TEST(FixedArithmetic, SnapToStepTruncatesTowardZero) {
  const auto step = Quantity::from_units(100'000);  // 0.001
  EXPECT_EQ(snap_to_step(Quantity::from_units(12'345'000), step).units(), 12'300'000);
  EXPECT_EQ(snap_to_step(Quantity::from_units(12'399'999), step).units(), 12'300'000);
  EXPECT_EQ(snap_to_step(Quantity::from_units(-12'345'000), step).units(), -12'300'000);
  EXPECT_EQ(snap_to_step(Quantity::from_units(99'999), step).units(), 0);
  EXPECT_EQ(snap_to_step(Quantity::from_units(300'000), step).units(), 300'000);
}

TEST(FixedArithmetic, AMillionEqualPartialFillsSumExactly) {
  const Quantity leg = Quantity::from_units(*parse_decimal("0.00012345"));
  const Price price = Price::from_units(*parse_decimal("101.23456789"));
  Quantity total;
  Money value;
  for (int i = 0; i < 1'000'000; ++i) {
    total += leg;
    value += notional(leg, price);
  }
  EXPECT_EQ(total.units(), leg.units() * 1'000'000);
  EXPECT_EQ(format_decimal(total.units()), "123.45");
  // Each leg's notional is rounded once; the sum is exactly a million of them.
  EXPECT_EQ(value.units(), notional(leg, price).units() * 1'000'000);
}

TEST(FixedArithmetic, ProportionalSharesWithExactRemainderSumToTheWhole) {
  // How exit legs take cost basis: each a rounded share, the last the exact remainder.
  Money cost = Money::from_units(1'000'000'007);
  Quantity size = Quantity::from_integer(7);
  const Money whole = cost;
  Money taken;
  for (int i = 0; i < 6; ++i) {
    const Quantity leg = Quantity::from_integer(1);
    const Money share = mul_div(cost, leg, size);
    taken += share;
    cost -= share;
    size -= leg;
  }
  taken += cost;  // last leg
  EXPECT_EQ(taken, whole);
}

TEST(FixedArithmetic, TypedValuesCompareAndNegate) {
  EXPECT_LT(Quantity::from_units(1), Quantity::from_units(2));
  EXPECT_EQ(-Money::from_units(5), Money::from_units(-5));
  EXPECT_EQ(min(Price::from_units(3), Price::from_units(2)), Price::from_units(2));
  EXPECT_EQ(to_string(Money::from_units(-150'000'000)), "-1.5");
}

}  // namespace
}  // namespace dita::core
