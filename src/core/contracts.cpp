#include "dita/core/contracts.hpp"

#include <charconv>
#include <cstddef>

namespace dita::core {

std::optional<Symbol> Symbol::parse(std::string_view text) {
  if (text.empty() || text.size() > kMaxLength) return std::nullopt;
  Symbol symbol;
  std::size_t out = 0;
  for (const char c : text) {
    const bool upper = c >= 'A' && c <= 'Z';
    const bool digit = c >= '0' && c <= '9';
    if (!upper && !digit && c != '-') return std::nullopt;
    symbol.chars_[out++] = c;
  }
  symbol.length_ = static_cast<std::uint8_t>(out);
  if (text.front() == '-' || text.back() == '-') return std::nullopt;
  // Operators write "TRXUSDT"; BingX wants "TRX-USDT".
  constexpr std::string_view kQuotes[] = {"USDT", "USDC"};
  if (text.find('-') == std::string_view::npos) {
    for (const std::string_view quote : kQuotes) {
      if (text.size() > quote.size() && text.ends_with(quote) && text.size() + 1 <= kMaxLength) {
        const std::size_t base = text.size() - quote.size();
        Symbol normalised;
        std::size_t i = 0;
        for (; i < base; ++i) normalised.chars_[i] = text[i];
        normalised.chars_[i++] = '-';
        for (const char c : quote) normalised.chars_[i++] = c;
        normalised.length_ = static_cast<std::uint8_t>(i);
        return normalised;
      }
    }
  }
  return symbol;
}

namespace {

char* write_number(char* cursor, char* end, std::uint64_t value) {
  const auto result = std::to_chars(cursor, end, value);
  return result.ec == std::errc{} ? result.ptr : end;
}

bool read_number(std::string_view& text, char tag, std::uint64_t max, std::uint64_t& value) {
  if (text.empty() || text.front() != tag) return false;
  text.remove_prefix(1);
  const auto* begin = text.data();
  const auto result = std::from_chars(begin, begin + text.size(), value);
  if (result.ec != std::errc{} || result.ptr == begin || value > max) return false;
  // Canonical form only: no leading zeros, so one order has exactly one id.
  const auto digits = static_cast<std::size_t>(result.ptr - begin);
  if (digits > 1 && *begin == '0') return false;
  text.remove_prefix(digits);
  return true;
}

}  // namespace

std::size_t format_client_order_id(std::string_view prefix, const ClientOrderId& id,
                                   ClientOrderIdText& out) {
  char* cursor = out.data();
  char* const end = out.data() + kClientOrderIdMaxLength;
  for (const char c : prefix) {
    if (cursor == end) break;
    *cursor++ = c;
  }
  const auto put = [&](char tag, std::uint64_t value) {
    if (cursor == end) return;
    *cursor++ = tag;
    cursor = write_number(cursor, end, value);
  };
  put('s', id.slot);
  put('t', id.trade);
  put('l', id.leg);
  put('a', id.attempt);
  *cursor = '\0';
  return static_cast<std::size_t>(cursor - out.data());
}

std::optional<ClientOrderId> parse_client_order_id(std::string_view prefix, std::string_view text) {
  if (!text.starts_with(prefix)) return std::nullopt;
  text.remove_prefix(prefix.size());
  std::uint64_t slot = 0;
  std::uint64_t trade = 0;
  std::uint64_t leg = 0;
  std::uint64_t attempt = 0;
  if (!read_number(text, 's', 0xFFFFFFFFU, slot) || !read_number(text, 't', 0xFFFFFFFFU, trade) ||
      !read_number(text, 'l', 0xFFFFU, leg) || !read_number(text, 'a', 0xFFFFU, attempt) ||
      !text.empty()) {
    return std::nullopt;
  }
  return ClientOrderId{static_cast<std::uint32_t>(slot), static_cast<std::uint32_t>(trade),
                       static_cast<std::uint16_t>(leg), static_cast<std::uint16_t>(attempt)};
}

KernelDiagnostic& KernelDiagnostic::with_int(std::string_view key, std::int64_t value) {
  if (detail_count < kMaxDetails) {
    details[detail_count++] = {key, DiagnosticDetail::Type::kInt, value, {}};
  }
  return *this;
}

KernelDiagnostic& KernelDiagnostic::with_decimal(std::string_view key, std::int64_t units) {
  if (detail_count < kMaxDetails) {
    details[detail_count++] = {key, DiagnosticDetail::Type::kDecimal, units, {}};
  }
  return *this;
}

KernelDiagnostic& KernelDiagnostic::with_bool(std::string_view key, bool value) {
  if (detail_count < kMaxDetails) {
    details[detail_count++] = {key, DiagnosticDetail::Type::kBool, value ? 1 : 0, {}};
  }
  return *this;
}

KernelDiagnostic& KernelDiagnostic::with_text(std::string_view key, std::string_view text) {
  if (detail_count < kMaxDetails) {
    details[detail_count++] = {key, DiagnosticDetail::Type::kText, 0, text};
  }
  return *this;
}

void KernelOutcome::reserve(std::size_t slot_count) {
  // Worst cases: a TICK may query every slot; a MARK_PRICE, a funding payment or a
  // RECONCILE_COMPLETE over every slot may touch (and move) every slot.
  transitions.reserve(2 * slot_count + 4);
  diagnostics.reserve(3 * slot_count + 8);
  commands.reserve(slot_count + 4);
  fills.reserve(slot_count + 4);
  settlements.reserve(2 * slot_count + 4);
  changed_slots.reserve(slot_count + 4);
}

void KernelOutcome::clear() {
  input_seq = 0;
  transitions.clear();
  diagnostics.clear();
  commands.clear();
  fills.clear();
  settlements.clear();
  changed_slots.clear();
  account_changed = false;
}

std::vector<Instrument> default_instruments() {
  const auto make = [](std::string_view symbol, std::int64_t step, std::int64_t tick,
                       std::int64_t minimum) {
    return Instrument{*Symbol::parse(symbol), Quantity::from_units(step), Price::from_units(tick),
                      Quantity::from_units(minimum)};
  };
  // quantityPrecision / pricePrecision as BingX publishes them for these swaps.
  return {
      make("BTC-USDT", 10'000, 10'000'000, 10'000),       // 0.0001 coin, 0.1 USDT
      make("ETH-USDT", 1'000'000, 1'000'000, 1'000'000),  // 0.01 coin, 0.01 USDT
      make("SOL-USDT", 1'000'000, 100'000, 1'000'000),    // 0.01 coin, 0.001 USDT
      make("TRX-USDT", 100'000'000, 1'000, 100'000'000),  // 1 coin, 0.00001 USDT
  };
}

}  // namespace dita::core
