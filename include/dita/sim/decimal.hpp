// Fixed-point decimal used by the BingX simulator for prices, quantities and money
// (8 decimal places in an int64). Owns parsing from the exchange's plain-notation strings
// and formatting back to them; doubles appear only where BingX itself emits JSON numbers.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dita::sim {

class Decimal {
 public:
  static constexpr int kScaleDigits = 8;
  static constexpr std::int64_t kScale = 100'000'000;

  constexpr Decimal() = default;
  static constexpr Decimal from_raw(std::int64_t raw) {
    Decimal d;
    d.raw_ = raw;
    return d;
  }
  static constexpr Decimal from_int(std::int64_t units) { return from_raw(units * kScale); }

  // Plain notation only ("-12.5", "0.001"); digits past 8 decimals are truncated.
  // Rejects exponents, NaN/inf, empty strings, stray characters and overflow.
  static std::optional<Decimal> parse(std::string_view text);

  [[nodiscard]] constexpr std::int64_t raw() const { return raw_; }
  [[nodiscard]] constexpr bool is_zero() const { return raw_ == 0; }
  [[nodiscard]] constexpr bool is_negative() const { return raw_ < 0; }

  // Fixed number of decimals, truncated toward zero (BingX truncates, never rounds).
  [[nodiscard]] std::string to_string(int places) const;
  // Shortest plain notation (trailing zeros removed, at least one digit).
  [[nodiscard]] std::string to_plain() const;
  [[nodiscard]] double to_double() const;
  [[nodiscard]] Decimal truncated(int places) const;

  [[nodiscard]] Decimal abs() const { return from_raw(raw_ < 0 ? -raw_ : raw_); }

  friend constexpr Decimal operator+(Decimal a, Decimal b) { return from_raw(a.raw_ + b.raw_); }
  friend constexpr Decimal operator-(Decimal a, Decimal b) { return from_raw(a.raw_ - b.raw_); }
  friend constexpr Decimal operator-(Decimal a) { return from_raw(-a.raw_); }
  Decimal& operator+=(Decimal o) {
    raw_ += o.raw_;
    return *this;
  }
  Decimal& operator-=(Decimal o) {
    raw_ -= o.raw_;
    return *this;
  }
  friend constexpr auto operator<=>(Decimal, Decimal) = default;

  // Products and quotients truncated toward zero at 8 decimals (128-bit intermediates).
  static Decimal mul(Decimal a, Decimal b);
  static Decimal div(Decimal a, Decimal b);  // b must not be zero
  static Decimal mul_int(Decimal a, std::int64_t k) { return from_raw(a.raw_ * k); }

 private:
  std::int64_t raw_ = 0;
};

}  // namespace dita::sim
