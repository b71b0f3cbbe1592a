// Fixed-point decimal for the simulator; see include/dita/sim/decimal.hpp.
#include "dita/sim/decimal.hpp"

#include <limits>
#include <stdexcept>

namespace dita::sim {

namespace {

__extension__ using Int128 = __int128;

constexpr std::int64_t pow10(int n) {
  std::int64_t v = 1;
  for (int i = 0; i < n; ++i) v *= 10;
  return v;
}

}  // namespace

std::optional<Decimal> Decimal::parse(std::string_view text) {
  if (text.empty() || text.size() > 40) return std::nullopt;
  bool negative = false;
  std::size_t i = 0;
  if (text[0] == '-' || text[0] == '+') {
    negative = text[0] == '-';
    i = 1;
  }
  Int128 int_part = 0;
  Int128 frac_part = 0;
  int frac_digits = 0;
  bool seen_digit = false;
  bool seen_dot = false;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '.') {
      if (seen_dot) return std::nullopt;
      seen_dot = true;
      continue;
    }
    if (c < '0' || c > '9') return std::nullopt;
    seen_digit = true;
    const int digit = c - '0';
    if (!seen_dot) {
      int_part = int_part * 10 + digit;
      if (int_part > std::numeric_limits<std::int64_t>::max() / kScale) return std::nullopt;
    } else if (frac_digits < kScaleDigits) {
      frac_part = frac_part * 10 + digit;
      ++frac_digits;
    }
  }
  if (!seen_digit) return std::nullopt;
  const Int128 raw = int_part * kScale + frac_part * pow10(kScaleDigits - frac_digits);
  if (raw > std::numeric_limits<std::int64_t>::max()) return std::nullopt;
  const auto value = static_cast<std::int64_t>(raw);
  return from_raw(negative ? -value : value);
}

std::string Decimal::to_string(int places) const {
  if (places < 0) places = 0;
  if (places > kScaleDigits) places = kScaleDigits;
  const std::int64_t magnitude = raw_ < 0 ? -raw_ : raw_;
  const std::int64_t whole = magnitude / kScale;
  const std::int64_t frac = (magnitude % kScale) / pow10(kScaleDigits - places);
  std::string out;
  if (raw_ < 0 && (whole != 0 || frac != 0)) out.push_back('-');
  out += std::to_string(whole);
  if (places > 0) {
    std::string digits = std::to_string(frac);
    out.push_back('.');
    out.append(static_cast<std::size_t>(places) - digits.size(), '0');
    out += digits;
  }
  return out;
}

std::string Decimal::to_plain() const {
  std::string s = to_string(kScaleDigits);
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

double Decimal::to_double() const {
  // Parse the plain text so that e.g. 0.001 becomes the double nearest to 0.001.
  return std::stod(to_plain());
}

Decimal Decimal::truncated(int places) const {
  if (places >= kScaleDigits) return *this;
  if (places < 0) places = 0;
  const std::int64_t unit = pow10(kScaleDigits - places);
  return from_raw((raw_ / unit) * unit);
}

Decimal Decimal::mul(Decimal a, Decimal b) {
  const Int128 product = static_cast<Int128>(a.raw_) * b.raw_ / kScale;
  if (product > std::numeric_limits<std::int64_t>::max() ||
      product < std::numeric_limits<std::int64_t>::min()) {
    throw std::overflow_error("decimal multiplication overflow");
  }
  return from_raw(static_cast<std::int64_t>(product));
}

Decimal Decimal::div(Decimal a, Decimal b) {
  if (b.raw_ == 0) throw std::domain_error("decimal division by zero");
  const Int128 quotient = static_cast<Int128>(a.raw_) * kScale / b.raw_;
  if (quotient > std::numeric_limits<std::int64_t>::max() ||
      quotient < std::numeric_limits<std::int64_t>::min()) {
    throw std::overflow_error("decimal division overflow");
  }
  return from_raw(static_cast<std::int64_t>(quotient));
}

}  // namespace dita::sim
