// dita/core/fixed_point.hpp
//
// Owns DITA's numbers: quantities, prices and money as int64 fixed-point values with
// eight decimal places. Doubles never enter the core; the edges (JSON, Python, CLI)
// convert through `parse_decimal`, whose rounding rule is written down here once.
//
// Rounding rules:
//   * parsing text with more than 8 decimals rounds half-to-even (banker's rounding);
//   * notional = quantity x price is computed exactly in 128 bits and rounded
//     half-to-even to 8 decimals;
//   * a proportional share (`mul_div`) rounds half-to-even; callers that must sum
//     exactly (cost basis of exit legs) give the last share the exact remainder;
//   * snapping a quantity to an instrument's step truncates toward zero, as BingX does.
#pragma once

#include <compare>
#include <cstdint>
#include <expected>
#include <limits>
#include <string>
#include <string_view>

namespace dita::core {

// 128-bit intermediates keep quantity x price exact; __extension__ silences -Wpedantic.
__extension__ using Int128 = __int128;
__extension__ using UInt128 = unsigned __int128;

inline constexpr int kDecimalPlaces = 8;
inline constexpr std::int64_t kFixedScale = 100'000'000;  // 10^kDecimalPlaces

// A distinct type per meaning, so a price can never be added to a quantity.
template <class Tag>
class Fixed {
 public:
  constexpr Fixed() = default;
  static constexpr Fixed from_units(std::int64_t units) { return Fixed(units); }
  static constexpr Fixed from_integer(std::int64_t whole) { return Fixed(whole * kFixedScale); }
  static constexpr Fixed zero() { return Fixed(0); }

  constexpr std::int64_t units() const { return units_; }
  constexpr bool is_zero() const { return units_ == 0; }
  constexpr bool is_positive() const { return units_ > 0; }
  constexpr bool is_negative() const { return units_ < 0; }

  constexpr Fixed operator+(Fixed other) const { return Fixed(units_ + other.units_); }
  constexpr Fixed operator-(Fixed other) const { return Fixed(units_ - other.units_); }
  constexpr Fixed operator-() const { return Fixed(-units_); }
  constexpr Fixed& operator+=(Fixed other) {
    units_ += other.units_;
    return *this;
  }
  constexpr Fixed& operator-=(Fixed other) {
    units_ -= other.units_;
    return *this;
  }
  constexpr auto operator<=>(const Fixed&) const = default;

 private:
  constexpr explicit Fixed(std::int64_t units) : units_(units) {}
  std::int64_t units_ = 0;
};

struct QuantityTag {};
struct PriceTag {};
struct MoneyTag {};
using Quantity = Fixed<QuantityTag>;  // base-asset coins
using Price = Fixed<PriceTag>;        // quote per coin
using Money = Fixed<MoneyTag>;        // quote currency (USDT)

template <class Tag>
constexpr Fixed<Tag> min(Fixed<Tag> a, Fixed<Tag> b) {
  return a < b ? a : b;
}

// Divides a 128-bit value by a positive divisor, rounding half to even.
constexpr std::int64_t divide_round_half_even(Int128 numerator, Int128 divisor) {
  Int128 quotient = numerator / divisor;
  Int128 remainder = numerator % divisor;
  if (remainder != 0) {
    const Int128 twice = (remainder < 0 ? -remainder : remainder) * 2;
    const bool negative = (numerator < 0) != (divisor < 0);
    if (twice > divisor || (twice == divisor && (quotient % 2 != 0))) {
      quotient += negative ? -1 : 1;
    }
  }
  return static_cast<std::int64_t>(quotient);
}

// quantity x price, exact then rounded half-even to 8 decimals.
constexpr Money notional(Quantity quantity, Price price) {
  const Int128 product = static_cast<Int128>(quantity.units()) * price.units();
  return Money::from_units(divide_round_half_even(product, kFixedScale));
}

// value x numerator / denominator (denominator > 0), rounded half-even.
constexpr Money mul_div(Money value, Quantity numerator, Quantity denominator) {
  const Int128 product = static_cast<Int128>(value.units()) * numerator.units();
  return Money::from_units(divide_round_half_even(product, denominator.units()));
}

// Average price of `value` spread over `quantity` (quantity > 0), rounded half-even.
constexpr Price average_price(Money value, Quantity quantity) {
  const Int128 scaled = static_cast<Int128>(value.units()) * kFixedScale;
  return Price::from_units(divide_round_half_even(scaled, quantity.units()));
}

// Truncates toward zero to a multiple of `step` (step > 0).
constexpr Quantity snap_to_step(Quantity quantity, Quantity step) {
  return Quantity::from_units(quantity.units() - quantity.units() % step.units());
}

enum class DecimalError { kEmpty, kMalformed, kOutOfRange };
std::string_view to_string(DecimalError error);

// Parses "-12.345", "0.1", "1e-3" style decimal text exactly into 10^-8 units, rounding
// half-to-even past the 8th decimal. No locale, no doubles.
std::expected<std::int64_t, DecimalError> parse_decimal(std::string_view text);

// Shortest exact decimal text for `units` ("1.5", "0.00000001", "-3").
std::string format_decimal(std::int64_t units);

template <class Tag>
std::string to_string(Fixed<Tag> value) {
  return format_decimal(value.units());
}

}  // namespace dita::core
