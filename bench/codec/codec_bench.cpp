// bench_codec: cost of one canonical JSON encoding of a kernel input, outcome and slot image,
// the old way (canonical(to_json(x)): a nlohmann value, then dump) against the streaming
// writer (append_canonical into one reused string), plus encode_input/encode_outcome (what
// the journal calls: a fresh string per call). Each benchmark checks once that both paths
// give the same bytes, and reports heap allocations per encode (operator new is replaced
// below with a counting version).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>

#include "dita/codec/json_codec.hpp"

namespace {

std::uint64_t g_allocations = 0;  // the benchmark is single-threaded

}  // namespace

// None of these is inlined: GCC would otherwise see malloc()/free() at `new`/`delete`
// expressions and warn (-Wmismatched-new-delete), although both sides are replacements.
[[gnu::noinline]] void* operator new(std::size_t size) {
  ++g_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
[[gnu::noinline]] void operator delete(void* p) noexcept {
  std::free(p);
}
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

namespace {

using namespace dita;

const codec::CodecContext kContext{"dita"};

core::Symbol btc() {
  return *core::Symbol::parse("BTC-USDT");
}

// A PARTIAL_FILL of an entry order: the most frequent venue event of a live session.
core::KernelInput fill_input() {
  core::VenueEvent event;
  event.kind = core::KernelEventKind::kPartialFill;
  event.event_id = 1'890'000'000'000'000'123;
  event.slot = 2;
  event.order = {2, 17, 0, 1};
  event.venue_order_id = 1'890'123'456'789'012'345;
  event.cumulative_filled = core::Quantity::from_units(400'000);
  event.average_price = core::Price::from_units(6'000'050'000'000);
  event.cumulative_fee = core::Money::from_units(1'200'012);
  event.status = core::OrderStatus::kPartiallyFilled;
  return {1'767'225'600'123'456'789, event};
}

// What a FULL_FILL of an entry does: one transition, one changed slot, the account, and
// (to exercise nested objects) one diagnostic with three details and one command.
core::KernelOutcome fill_outcome() {
  core::KernelOutcome outcome;
  outcome.input_seq = 123'456;
  outcome.transitions.push_back({2, 17, core::TradeStage::kEntryWorking,
                                 core::TradeStage::kPositionOpen, core::FsmInput::kFullFill,
                                 core::Quantity::from_units(1'000'000),
                                 core::Money::from_units(-3'000'025)});
  core::KernelDiagnostic diagnostic;
  diagnostic.code = core::KernelDiagnosticCode::kExitClamped;
  diagnostic.severity = core::KernelSeverity::kInfo;
  diagnostic.slot = 2;
  diagnostic.message = "exit size clamped to the open position";
  diagnostic.with_decimal("requested", 2'000'000)
      .with_decimal("open", 1'000'000)
      .with_text("stage", "POSITION_OPEN");
  outcome.diagnostics.push_back(diagnostic);
  core::VenueCommand command;
  command.type = core::KernelCommandType::kPlaceOrder;
  command.slot = 2;
  command.order = {2, 17, 1, 0};
  command.symbol = btc();
  command.side = core::OrderSide::kSell;
  command.position_side = core::Side::kLong;
  command.order_type = core::OrderType::kLimit;
  command.quantity = core::Quantity::from_units(1'000'000);
  command.price = core::Price::from_units(6'100'000'000'000);
  command.reduce_only = true;
  command.leverage = 5;
  outcome.commands.push_back(command);
  outcome.changed_slots.push_back(2);
  outcome.account_changed = true;
  outcome.account.capital = core::Money::from_units(1'000'000'000'000);
  outcome.account.peak_capital = core::Money::from_units(1'000'450'000'000);
  outcome.account.drawdown = core::Money::from_units(450'000'000);
  outcome.account.max_drawdown = core::Money::from_units(900'000'000);
  outcome.account.realized_total = core::Money::from_units(-3'000'025);
  outcome.account.unrealized_total = core::Money::from_units(12'345'678);
  outcome.account.trade_seq = 16;
  outcome.account.seeded = true;
  return outcome;
}

// A slot with an open position and a working two-leg exit (3 orders).
core::TradeSlot open_slot() {
  core::TradeSlot slot;
  slot.slot_id = 2;
  slot.stage = core::TradeStage::kExitWorking;
  slot.trade_id = 17;
  slot.asset = btc();
  slot.side = core::Side::kLong;
  slot.leverage = 5;
  slot.size = core::Quantity::from_units(600'000);
  slot.entry_filled = core::Quantity::from_units(1'000'000);
  slot.entry_price = core::Price::from_units(6'000'050'000'000);
  slot.cost_basis = core::Money::from_units(36'000'300'000);
  slot.realized_pnl = core::Money::from_units(398'765'432);
  slot.unrealized_pnl = core::Money::from_units(-12'000'000);
  slot.fees_paid = core::Money::from_units(6'000'050);
  slot.mark_price = core::Price::from_units(5'998'050'000'000);
  slot.exit_legs_filled = 1;
  slot.last_input_seq = 123'456;
  const auto order = [](core::ClientOrderId id, core::OrderRole role, core::OrderStatus status,
                        std::int64_t quantity, std::int64_t filled) {
    core::VenueOrder o;
    o.id = id;
    o.venue_order_id = 1'890'123'456'789'012'345 + id.leg;
    o.role = role;
    o.side = role == core::OrderRole::kEntry ? core::OrderSide::kBuy : core::OrderSide::kSell;
    o.type = core::OrderType::kLimit;
    o.status = status;
    o.quantity = core::Quantity::from_units(quantity);
    o.limit_price = core::Price::from_units(6'000'000'000'000);
    o.filled = core::Quantity::from_units(filled);
    o.fee = core::Money::from_units(filled * 3);
    return o;
  };
  slot.orders[0] = order({2, 17, 0, 0}, core::OrderRole::kEntry, core::OrderStatus::kFilled,
                         1'000'000, 1'000'000);
  slot.orders[1] =
      order({2, 17, 1, 0}, core::OrderRole::kExit, core::OrderStatus::kFilled, 400'000, 400'000);
  slot.orders[2] =
      order({2, 17, 2, 0}, core::OrderRole::kExit, core::OrderStatus::kNew, 600'000, 0);
  slot.order_count = 3;
  slot.working_order = 2;
  return slot;
}

template <class Value>
bool same_bytes(const Value& value) {
  std::string streamed;
  codec::append_canonical(streamed, value, kContext);
  return streamed == codec::canonical(codec::to_json(value, kContext));
}

void report_allocations(benchmark::State& state, std::uint64_t before) {
  state.counters["allocs_per_encode"] = benchmark::Counter(
      static_cast<double>(g_allocations - before) / static_cast<double>(state.iterations()));
}

template <class Value>
void old_path(benchmark::State& state, const Value& value) {
  if (!same_bytes(value)) state.SkipWithError("the two encoders disagree");
  std::size_t bytes = 0;
  const std::uint64_t before = g_allocations;
  for (auto _ : state) {
    std::string text = codec::canonical(codec::to_json(value, kContext));
    bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  report_allocations(state, before);
  state.counters["bytes"] = static_cast<double>(bytes);
}

template <class Value>
void new_path(benchmark::State& state, const Value& value) {
  if (!same_bytes(value)) state.SkipWithError("the two encoders disagree");
  std::string out;
  out.reserve(4096);
  const std::uint64_t before = g_allocations;
  for (auto _ : state) {
    out.clear();
    codec::append_canonical(out, value, kContext);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  report_allocations(state, before);
  state.counters["bytes"] = static_cast<double>(out.size());
}

void BM_InputOld(benchmark::State& state) {
  old_path(state, fill_input());
}
void BM_InputNew(benchmark::State& state) {
  new_path(state, fill_input());
}
void BM_InputEncode(benchmark::State& state) {
  const core::KernelInput input = fill_input();
  const std::uint64_t before = g_allocations;
  for (auto _ : state) {
    std::string text = codec::encode_input(input, kContext);
    benchmark::DoNotOptimize(text.data());
  }
  report_allocations(state, before);
}
void BM_OutcomeOld(benchmark::State& state) {
  old_path(state, fill_outcome());
}
void BM_OutcomeNew(benchmark::State& state) {
  new_path(state, fill_outcome());
}
void BM_OutcomeEncode(benchmark::State& state) {
  const core::KernelOutcome outcome = fill_outcome();
  const std::uint64_t before = g_allocations;
  for (auto _ : state) {
    std::string text = codec::encode_outcome(outcome, kContext);
    benchmark::DoNotOptimize(text.data());
  }
  report_allocations(state, before);
}
void BM_SlotOld(benchmark::State& state) {
  old_path(state, open_slot());
}
void BM_SlotNew(benchmark::State& state) {
  new_path(state, open_slot());
}

BENCHMARK(BM_InputOld);
BENCHMARK(BM_InputNew);
BENCHMARK(BM_InputEncode);
BENCHMARK(BM_OutcomeOld);
BENCHMARK(BM_OutcomeNew);
BENCHMARK(BM_OutcomeEncode);
BENCHMARK(BM_SlotOld);
BENCHMARK(BM_SlotNew);

}  // namespace

BENCHMARK_MAIN();
