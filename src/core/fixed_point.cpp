#include "dita/core/fixed_point.hpp"

#include <cstddef>

namespace dita::core {

std::string_view to_string(DecimalError error) {
  switch (error) {
    case DecimalError::kEmpty:
      return "EMPTY";
    case DecimalError::kMalformed:
      return "MALFORMED";
    case DecimalError::kOutOfRange:
      return "OUT_OF_RANGE";
  }
  return "UNKNOWN";
}

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Digits beyond this are far outside int64 at 10^-8 scale; reject early to avoid overflow.
constexpr int kMaxSignificantDigits = 30;

}  // namespace

std::expected<std::int64_t, DecimalError> parse_decimal(std::string_view text) {
  if (text.empty()) return std::unexpected(DecimalError::kEmpty);
  std::size_t pos = 0;
  bool negative = false;
  if (text[pos] == '-' || text[pos] == '+') {
    negative = text[pos] == '-';
    ++pos;
  }
  // Collect the mantissa digits and where the decimal point sits.
  Int128 mantissa = 0;
  int digits = 0;
  int fraction_digits = 0;
  bool seen_point = false;
  bool any_digit = false;
  int dropped_scale = 0;         // significant digits we could not hold (only zeros allowed)
  bool dropped_nonzero = false;  // a dropped digit was not zero: it still decides ties
  for (; pos < text.size(); ++pos) {
    const char c = text[pos];
    if (is_digit(c)) {
      any_digit = true;
      if (mantissa == 0 && c == '0') {
        if (seen_point) ++fraction_digits;
        continue;
      }
      if (digits >= kMaxSignificantDigits) {
        if (!seen_point) ++dropped_scale;
        if (c != '0') dropped_nonzero = true;
        continue;
      }
      mantissa = mantissa * 10 + (c - '0');
      ++digits;
      if (seen_point) ++fraction_digits;
    } else if (c == '.' && !seen_point) {
      seen_point = true;
    } else {
      break;
    }
  }
  if (!any_digit) return std::unexpected(DecimalError::kMalformed);
  int exponent = dropped_scale;
  if (pos < text.size()) {
    if (text[pos] != 'e' && text[pos] != 'E') return std::unexpected(DecimalError::kMalformed);
    ++pos;
    bool exp_negative = false;
    if (pos < text.size() && (text[pos] == '-' || text[pos] == '+')) {
      exp_negative = text[pos] == '-';
      ++pos;
    }
    if (pos >= text.size()) return std::unexpected(DecimalError::kMalformed);
    int exp_value = 0;
    for (; pos < text.size(); ++pos) {
      if (!is_digit(text[pos])) return std::unexpected(DecimalError::kMalformed);
      if (exp_value > 1000) return std::unexpected(DecimalError::kOutOfRange);
      exp_value = exp_value * 10 + (text[pos] - '0');
    }
    exponent += exp_negative ? -exp_value : exp_value;
  }
  if (dropped_nonzero) {
    // A sticky digit: keeps "exactly half" from being mistaken for a tie when a dropped
    // digit made the value larger. The value only grows by less than one dropped digit.
    mantissa = mantissa * 10 + 1;
    ++fraction_digits;
  }
  // value = mantissa * 10^(exponent - fraction_digits); we want units = value * 10^8.
  const int shift = exponent - fraction_digits + kDecimalPlaces;
  // A negative value may reach INT64_MIN, whose magnitude is one more than INT64_MAX.
  const Int128 limit =
      static_cast<Int128>(std::numeric_limits<std::int64_t>::max()) + (negative ? 1 : 0);
  Int128 units = mantissa;
  if (mantissa != 0) {
    if (shift >= 0) {
      for (int i = 0; i < shift; ++i) {
        units *= 10;
        if (units > limit) return std::unexpected(DecimalError::kOutOfRange);
      }
    } else if (shift < -38) {
      // Far below 10^-8 (the mantissa has at most 31 digits): rounds to zero. 10^38 is the
      // largest power of ten an Int128 divisor can hold.
      units = 0;
    } else {
      Int128 divisor = 1;
      for (int i = 0; i < -shift; ++i) divisor *= 10;
      units = divide_round_half_even(mantissa, divisor);
    }
  }
  if (units > limit) return std::unexpected(DecimalError::kOutOfRange);
  return static_cast<std::int64_t>(negative ? -units : units);
}

std::string format_decimal(std::int64_t units) {
  const bool negative = units < 0;
  // Work in unsigned 128 bits so INT64_MIN formats correctly.
  UInt128 magnitude =
      negative ? static_cast<UInt128>(-static_cast<Int128>(units)) : static_cast<UInt128>(units);
  const auto scale = static_cast<UInt128>(kFixedScale);
  auto whole = static_cast<std::uint64_t>(magnitude / scale);
  auto fraction = static_cast<std::uint64_t>(magnitude % scale);
  std::string out;
  if (negative) out.push_back('-');
  out += std::to_string(whole);
  if (fraction != 0) {
    char buffer[kDecimalPlaces + 1] = {};
    for (int i = kDecimalPlaces - 1; i >= 0; --i) {
      buffer[i] = static_cast<char>('0' + fraction % 10);
      fraction /= 10;
    }
    int length = kDecimalPlaces;
    while (length > 0 && buffer[length - 1] == '0') --length;
    out.push_back('.');
    out.append(buffer, static_cast<std::size_t>(length));
  }
  return out;
}

}  // namespace dita::core
