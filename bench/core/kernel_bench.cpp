// bench_kernel: per-input cost of the kernel's hot path and its heap allocations.
//
// Budget (DESIGN "Performance budgets"): one venue event or intent in <= 100 ns median on one
// core, and no heap allocation in steady state. Every benchmark reuses one KernelOutcome,
// times batches of inputs with steady_clock to report a per-input p50/p99, and counts calls
// to the global operator new (replaced below) inside the timed loop.
#include <benchmark/benchmark.h>
#include <charconv>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <vector>

#include "dita/core/kernel.hpp"

namespace {

// A client intent id from a counter, without touching the heap.
dita::core::ClientIntentId numbered_id(std::uint64_t n) {
  char text[24];
  const auto end = std::to_chars(text, text + sizeof(text), n).ptr;
  return *dita::core::ClientIntentId::parse({text, static_cast<std::size_t>(end - text)});
}

std::uint64_t g_allocations = 0;  // the benchmark is single-threaded

void* counted_alloc(std::size_t size) {
  ++g_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}

void* counted_aligned_alloc(std::size_t size, std::align_val_t align) {
  ++g_allocations;
  const auto alignment = static_cast<std::size_t>(align);
  const std::size_t rounded =
      (std::max<std::size_t>(size, 1) + alignment - 1) / alignment * alignment;
  if (void* p = std::aligned_alloc(alignment, rounded)) return p;
  throw std::bad_alloc();
}

}  // namespace

void* operator new(std::size_t size) {
  return counted_alloc(size);
}
void* operator new[](std::size_t size) {
  return counted_alloc(size);
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return counted_alloc(size);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return counted_alloc(size);
  } catch (...) {
    return nullptr;
  }
}
void* operator new(std::size_t size, std::align_val_t align) {
  return counted_aligned_alloc(size, align);
}
void* operator new[](std::size_t size, std::align_val_t align) {
  return counted_aligned_alloc(size, align);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}

namespace {

using namespace dita::core;
using Clock = std::chrono::steady_clock;

constexpr std::int64_t kBtcStep = 10'000;  // 0.0001 BTC

Kernel make_kernel() {
  KernelConfig config;
  config.slot_count = 4;
  config.active_slot_limit = 4;
  auto kernel = Kernel::create(config);
  if (!kernel) std::abort();
  return std::move(*kernel);
}

KernelInput intent_input(KernelIntentKind kind, std::uint32_t slot, Quantity size) {
  KernelIntent intent;
  intent.kind = kind;
  intent.slot = slot;
  intent.asset = *Symbol::parse("BTC-USDT");
  intent.size = size;
  return KernelInput{0, intent};
}

KernelInput event_input(KernelEventKind kind, std::uint32_t slot) {
  VenueEvent event;
  event.kind = kind;
  event.slot = slot;
  event.order.slot = slot;
  return KernelInput{0, event};
}

// Per-input latency samples: each sample is one timed batch divided by its input count.
class Samples {
 public:
  Samples() { values_.reserve(kCapacity); }
  void add(Clock::duration batch, int inputs) {
    const double ns =
        static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(batch).count()) /
        inputs;
    if (values_.size() < kCapacity) values_.push_back(ns);
  }
  void report(benchmark::State& state, int inputs_per_iteration, std::uint64_t allocations) {
    std::sort(values_.begin(), values_.end());
    const auto at = [&](double q) {
      return values_.empty()
                 ? 0.0
                 : values_[static_cast<std::size_t>(q * static_cast<double>(values_.size() - 1))];
    };
    state.counters["p50_ns"] = at(0.50);
    state.counters["p99_ns"] = at(0.99);
    const double inputs = static_cast<double>(state.iterations()) * inputs_per_iteration;
    state.counters["allocs_per_input"] = static_cast<double>(allocations) / inputs;
    state.SetItemsProcessed(static_cast<std::int64_t>(inputs));
  }

 private:
  static constexpr std::size_t kCapacity = 1 << 22;
  std::vector<double> values_;
};

void check_clean(benchmark::State& state, const KernelOutcome& out, bool expect_diagnostic) {
  if (out.diagnostics.empty() == expect_diagnostic) {
    state.SkipWithError("unexpected kernel outcome: the benchmark is not measuring what it says");
  }
}

// (a) ENTER + ACK + FULL_FILL + EXIT + ACK + FULL_FILL: one whole trade, six inputs.
void BM_TradeCycle(benchmark::State& state) {
  const std::uint64_t setup_before = g_allocations;
  Kernel kernel = make_kernel();
  KernelOutcome out;
  out.reserve(kernel.slot_count());
  kernel.process(KernelInput{0, SeedCapital{Money::from_integer(10'000)}}, out);
  const Quantity size = Quantity::from_units(100 * kBtcStep);
  KernelInput enter = intent_input(KernelIntentKind::kEnter, 0, size);
  KernelInput exit = intent_input(KernelIntentKind::kExit, 0, Quantity::zero());
  KernelInput ack = event_input(KernelEventKind::kAck, 0);
  KernelInput fill = event_input(KernelEventKind::kFullFill, 0);
  auto& enter_intent = std::get<KernelIntent>(enter.payload);
  auto& exit_intent = std::get<KernelIntent>(exit.payload);
  auto& ack_event = std::get<VenueEvent>(ack.payload);
  auto& fill_event = std::get<VenueEvent>(fill.payload);
  fill_event.cumulative_filled = size;
  std::uint64_t ids = 0;
  std::int64_t now = 0;
  Samples samples;
  bool clean = true;

  const auto cycle = [&] {
    enter_intent.id = numbered_id(++ids);
    enter.ts_ns = ++now;
    kernel.process(enter, out);
    clean &= out.diagnostics.empty();
    const std::uint32_t trade = kernel.slot(0).trade_id;
    for (std::uint16_t leg = 0; leg < 2; ++leg) {
      if (leg == 1) {
        exit_intent.id = numbered_id(++ids);
        exit.ts_ns = ++now;
        kernel.process(exit, out);
        clean &= out.diagnostics.empty();
      }
      ack_event.event_id = ++ids;
      ack_event.order.trade = trade;
      ack_event.order.leg = leg;
      ack_event.venue_order_id = static_cast<std::int64_t>(ids);
      ack.ts_ns = ++now;
      kernel.process(ack, out);
      fill_event.event_id = ++ids;
      fill_event.order = ack_event.order;
      fill_event.average_price = Price::from_integer(leg == 0 ? 100 : 101);
      fill.ts_ns = ++now;
      kernel.process(fill, out);
      clean &= out.diagnostics.empty();
    }
  };
  for (int i = 0; i < 64; ++i) cycle();  // warm up: every buffer at its steady capacity
  // Proof that the counting operator new is live: building the kernel does allocate.
  state.counters["setup_allocs"] = static_cast<double>(g_allocations - setup_before);

  const std::uint64_t allocations_before = g_allocations;
  for (auto _ : state) {
    const auto start = Clock::now();
    cycle();
    samples.add(Clock::now() - start, 6);
  }
  const std::uint64_t allocations = g_allocations - allocations_before;
  if (!clean || kernel.slot(0).stage != TradeStage::kClosed) {
    state.SkipWithError("trade cycle did not run cleanly");
  }
  benchmark::DoNotOptimize(kernel.account().capital);
  samples.report(state, 6, allocations);
}
BENCHMARK(BM_TradeCycle);

// Batches of 16 inputs per timed sample for the single-input benchmarks.
constexpr int kBatch = 16;

// (b) MARK_PRICE for a symbol that all four slots hold open positions in.
void BM_MarkPrice(benchmark::State& state) {
  Kernel kernel = make_kernel();
  KernelOutcome out;
  out.reserve(kernel.slot_count());
  std::uint64_t ids = 0;
  for (std::uint32_t slot = 0; slot < 4; ++slot) {
    KernelInput enter =
        intent_input(KernelIntentKind::kEnter, slot, Quantity::from_units(100 * kBtcStep));
    std::get<KernelIntent>(enter.payload).id = numbered_id(++ids);
    kernel.process(enter, out);
    KernelInput fill = event_input(KernelEventKind::kFullFill, slot);
    auto& event = std::get<VenueEvent>(fill.payload);
    event.event_id = ++ids;
    event.order.trade = 1;
    event.cumulative_filled = Quantity::from_units(100 * kBtcStep);
    event.average_price = Price::from_integer(100);
    kernel.process(fill, out);
  }
  KernelInput mark = event_input(KernelEventKind::kMarkPrice, 0);
  auto& mark_event = std::get<VenueEvent>(mark.payload);
  mark_event.symbol = *Symbol::parse("BTC-USDT");
  Samples samples;
  std::int64_t tick = 0;
  const std::uint64_t allocations_before = g_allocations;
  for (auto _ : state) {
    const auto start = Clock::now();
    for (int i = 0; i < kBatch; ++i) {
      mark_event.event_id = ++ids;
      mark_event.mark_price = Price::from_units(10'000'000'000 + (++tick % 64) * 1'000'000);
      kernel.process(mark, out);
    }
    samples.add(Clock::now() - start, kBatch);
  }
  const std::uint64_t allocations = g_allocations - allocations_before;
  check_clean(state, out, false);
  benchmark::DoNotOptimize(kernel.account().unrealized_total);
  samples.report(state, kBatch, allocations);
}
BENCHMARK(BM_MarkPrice);

// (c) A duplicate venue event: the same event id again (DUPLICATE_EVENT, nothing changes).
void BM_DuplicateEvent(benchmark::State& state) {
  Kernel kernel = make_kernel();
  KernelOutcome out;
  out.reserve(kernel.slot_count());
  KernelInput enter =
      intent_input(KernelIntentKind::kEnter, 0, Quantity::from_units(100 * kBtcStep));
  std::get<KernelIntent>(enter.payload).id = numbered_id(1);
  kernel.process(enter, out);
  KernelInput fill = event_input(KernelEventKind::kPartialFill, 0);
  auto& event = std::get<VenueEvent>(fill.payload);
  event.event_id = 2;
  event.order.trade = 1;
  event.cumulative_filled = Quantity::from_units(50 * kBtcStep);
  event.average_price = Price::from_integer(100);
  kernel.process(fill, out);
  Samples samples;
  const std::uint64_t allocations_before = g_allocations;
  for (auto _ : state) {
    const auto start = Clock::now();
    for (int i = 0; i < kBatch; ++i) kernel.process(fill, out);
    samples.add(Clock::now() - start, kBatch);
  }
  const std::uint64_t allocations = g_allocations - allocations_before;
  check_clean(state, out, true);
  if (out.diagnostics.empty() || out.diagnostics[0].code != KernelDiagnosticCode::kDuplicateEvent) {
    state.SkipWithError("expected DUPLICATE_EVENT");
  }
  samples.report(state, kBatch, allocations);
}
BENCHMARK(BM_DuplicateEvent);

// (d) A PARTIAL_FILL on a working entry order: each adds 1e-8 BTC to the cumulative.
void BM_PartialFill(benchmark::State& state) {
  Kernel kernel = make_kernel();
  KernelOutcome out;
  out.reserve(kernel.slot_count());
  std::uint64_t ids = 0;
  // 10,000 BTC in 1e-8 steps: room for 10^12 partial fills before the order completes.
  const Quantity order_size = Quantity::from_integer(10'000);
  KernelInput enter = intent_input(KernelIntentKind::kEnter, 0, order_size);
  KernelInput fill = event_input(KernelEventKind::kPartialFill, 0);
  auto& event = std::get<VenueEvent>(fill.payload);
  event.average_price = Price::from_integer(100);
  const auto start_trade = [&] {
    std::get<KernelIntent>(enter.payload).id = numbered_id(++ids);
    kernel.process(enter, out);
    event.order.trade = kernel.slot(0).trade_id;
    event.cumulative_filled = Quantity::zero();
  };
  start_trade();
  Samples samples;
  const std::uint64_t allocations_before = g_allocations;
  for (auto _ : state) {
    if (event.cumulative_filled.units() + kBatch >= order_size.units()) {
      state.SkipWithError("order exhausted; raise order_size");
      break;
    }
    const auto start = Clock::now();
    for (int i = 0; i < kBatch; ++i) {
      event.event_id = ++ids;
      event.cumulative_filled += Quantity::from_units(1);
      kernel.process(fill, out);
    }
    samples.add(Clock::now() - start, kBatch);
  }
  const std::uint64_t allocations = g_allocations - allocations_before;
  check_clean(state, out, false);
  if (kernel.slot(0).stage != TradeStage::kEntryWorking) state.SkipWithError("order completed");
  samples.report(state, kBatch, allocations);
}
BENCHMARK(BM_PartialFill);

}  // namespace

BENCHMARK_MAIN();
