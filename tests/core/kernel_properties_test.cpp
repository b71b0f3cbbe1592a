// Property-based checks of the kernel: random mixes of intents and venue events (late,
// repeated, out of order, with cumulative fills that may exceed or repeat) over 2-4 slots,
// asserting the kernel's invariants after every input and byte-identical replay.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/kernel_test_support.hpp"
#include "dita/codec/json_codec.hpp"
#include "dita/codec/state_codec.hpp"
#include "dita/core/kernel.hpp"

namespace dita::core {
namespace {

using namespace dita::core::testing;

enum StepKind : int {
  kEnterStep,
  kExitStep,
  kCancelStep,
  kAckStep,
  kPartialStep,
  kFullStep,
  kCancelAckStep,
  kCancelRejectStep,
  kOrderRejectStep,
  kRateLimitedStep,
  kOrderStatusStep,
  kMarkStep,
  kTickStep,
  kReconcileBeginStep,
  kReconcileCompleteStep,
  kReplayStep,
  kSeedStep,
  kRepeatIntentStep,
  kReconcilePositionStep,
  kExternalFillStep,
  kFundingStep,
  kOperatorStep,
  kVenueHealthStep,
  kStepKinds,
};

// One generated step. The interpreter maps its numbers onto the kernel's state at that
// moment (which order, which fraction of it), so every step names something real.
struct Step {
  Step(int k, int s, int x, int y) : kind(k), slot(s), a(x), b(y) {}
  int kind;
  int slot;
  int a;
  int b;
};

[[maybe_unused]] void showValue(const Step& step, std::ostream& os) {
  os << "{kind=" << step.kind << " slot=" << step.slot << " a=" << step.a << " b=" << step.b << "}";
}

rc::Gen<Step> step_gen() {
  // Weighted toward what moves trades along (intents and fills), so runs reach exits,
  // closes and settlements often, while every other input still appears.
  const auto kind = rc::gen::weightedElement<int>({
      {4, kEnterStep},
      {5, kExitStep},
      {1, kCancelStep},
      {3, kAckStep},
      {3, kPartialStep},
      {6, kFullStep},
      {1, kCancelAckStep},
      {1, kCancelRejectStep},
      {1, kOrderRejectStep},
      {1, kRateLimitedStep},
      {2, kOrderStatusStep},
      {2, kMarkStep},
      {1, kTickStep},
      {1, kReconcileBeginStep},
      {2, kReconcileCompleteStep},
      {3, kReplayStep},
      {1, kSeedStep},
      {2, kRepeatIntentStep},
      {2, kReconcilePositionStep},
      {1, kExternalFillStep},
      {1, kFundingStep},
      {1, kOperatorStep},
      {1, kVenueHealthStep},
  });
  return rc::gen::construct<Step>(kind, rc::gen::inRange(0, 4), rc::gen::inRange(0, 16),
                                  rc::gen::inRange(0, 16));
}

rc::Gen<std::vector<Step>> steps_gen() {
  // Sequence length capped so the whole property stays well under ASan's budget.
  return rc::gen::scale(3.0, rc::gen::container<std::vector<Step>>(step_gen()));
}

struct SentOrder {
  ClientOrderId id;
  Quantity quantity;
};

// Turns steps into concrete kernel inputs against a live kernel.
class Interpreter {
 public:
  explicit Interpreter(std::uint32_t slot_count) : slot_count_(slot_count) {}

  KernelInput next(const Step& step, const Kernel& kernel) {
    const std::uint32_t slot_id = static_cast<std::uint32_t>(step.slot) % slot_count_;
    const TradeSlot& slot = kernel.slot(slot_id);
    now_ += kMs;
    KernelInput input{now_, Tick{}};
    const auto intent = [&](KernelIntentKind kind) {
      KernelIntent i;
      i.kind = kind;
      i.id = *ClientIntentId::parse("p" + std::to_string(next_intent_id_++));
      i.slot = slot_id;
      return i;
    };
    switch (step.kind) {
      case kEnterStep: {
        KernelIntent i = intent(KernelIntentKind::kEnter);
        i.asset = sym(step.b % 3 == 0 ? "ETH-USDT" : "BTC-USDT");
        i.side = step.b % 2 == 0 ? Side::kLong : Side::kShort;
        i.size = Quantity::from_units((step.a % 4 + 1) * 1'000'000);  // 0.01 .. 0.04
        i.price = step.a >= 12 ? Price::from_integer(95 + step.a) : Price::zero();
        input.payload = i;
        break;
      }
      case kExitStep: {
        KernelIntent i = intent(KernelIntentKind::kExit);
        i.size = step.a % 3 == 0 ? Quantity::zero() : Quantity::from_units(step.a * 500'000);
        i.price = step.b >= 12 ? Price::from_integer(100 + step.b) : Price::zero();
        input.payload = i;
        break;
      }
      case kCancelStep:
        input.payload = intent(KernelIntentKind::kCancel);
        break;
      case kAckStep:
      case kCancelAckStep:
      case kCancelRejectStep:
      case kOrderRejectStep:
      case kRateLimitedStep: {
        const SentOrder order = pick_order(slot, step.a);
        VenueEvent e = event_for(order.id);
        static constexpr KernelEventKind kKinds[] = {
            KernelEventKind::kAck, KernelEventKind::kCancelAck, KernelEventKind::kCancelReject,
            KernelEventKind::kOrderReject, KernelEventKind::kRateLimited};
        const int index = step.kind == kAckStep            ? 0
                          : step.kind == kCancelAckStep    ? 1
                          : step.kind == kCancelRejectStep ? 2
                          : step.kind == kOrderRejectStep  ? 3
                                                           : 4;
        e.kind = kKinds[index];
        if (e.kind == KernelEventKind::kRateLimited) {
          e.venue_order_id = 0;
          e.command =
              step.b % 2 == 0 ? KernelCommandType::kPlaceOrder : KernelCommandType::kCancelOrder;
          e.retry_after_ms = step.b % 3 == 0 ? -1 : step.b * 100;
        }
        if (e.kind == KernelEventKind::kOrderReject) e.venue_order_id = 0;
        if (e.kind == KernelEventKind::kCancelReject) e.venue_code = 80018;
        input.payload = remember(e);
        break;
      }
      case kPartialStep:
      case kFullStep:
      case kOrderStatusStep: {
        const SentOrder order = pick_order(slot, step.a);
        VenueEvent e = event_for(order.id);
        // Cumulative: a fraction 0..15/10 of the order, so it may repeat, shrink or exceed.
        const int tenths = step.kind == kFullStep && step.b >= 6 ? 10 : step.b;
        e.cumulative_filled =
            snap_to_step(Quantity::from_units(order.quantity.units() * tenths / 10),
                         Quantity::from_units(10'000));
        e.average_price = Price::from_integer(98 + (step.a + step.b) % 5);
        e.cumulative_fee =
            Money::from_units(notional(e.cumulative_filled, e.average_price).units() / 2000);
        if (step.kind == kOrderStatusStep) {
          e.kind = KernelEventKind::kOrderStatus;
          static constexpr OrderStatus kStatuses[] = {
              OrderStatus::kNew,      OrderStatus::kPartiallyFilled, OrderStatus::kFilled,
              OrderStatus::kCanceled, OrderStatus::kRejected,        OrderStatus::kNotFound};
          e.status = kStatuses[step.a % 6];
          if (e.status == OrderStatus::kNotFound) {
            e.cumulative_filled = Quantity::zero();
            e.average_price = Price::zero();
            e.cumulative_fee = Money::zero();
            e.venue_order_id = 0;
          }
          if (e.cumulative_filled.is_zero()) e.average_price = Price::zero();
        } else {
          e.kind =
              step.kind == kFullStep ? KernelEventKind::kFullFill : KernelEventKind::kPartialFill;
        }
        input.payload = remember(e);
        break;
      }
      case kMarkStep: {
        VenueEvent e;
        e.kind = KernelEventKind::kMarkPrice;
        e.event_id = next_event_id_++;
        e.symbol = sym(step.b % 3 == 0 ? "ETH-USDT" : "BTC-USDT");
        e.mark_price = Price::from_integer(90 + step.a);
        input.payload = e;
        break;
      }
      case kTickStep:
        now_ += static_cast<std::int64_t>(step.b) * 1'000 * kMs;
        input.ts_ns = now_;
        break;
      case kReconcileBeginStep:
        run_id_ += 1;
        input.payload = ReconcileBegin{run_id_, step.b % 4 == 0 ? kAllSlots : slot_id,
                                       ReconcileReason::kOperator, true};
        break;
      case kReconcilePositionStep: {
        // The venue's net position for the slot's symbol: the kernel's own, half of it, or
        // none (truth that agrees, and truth that does not).
        std::int64_t net = 0;
        for (const TradeSlot& each : kernel.slots()) {
          if (each.asset == slot.asset) {
            net += each.side == Side::kLong ? each.size.units() : -each.size.units();
          }
        }
        if (step.a % 3 == 1) net /= 2;
        if (step.a % 3 == 2 || net == 0 || slot.asset.empty()) {
          input.payload = ReconcileComplete{run_id_, step.b % 2 == 0, Money::from_integer(10'000)};
          break;
        }
        const Price price =
            slot.entry_price.is_positive() ? slot.entry_price : Price::from_integer(100);
        input.payload = ReconcilePosition{run_id_, slot.asset, net > 0 ? Side::kLong : Side::kShort,
                                          Quantity::from_units(net > 0 ? net : -net), price};
        break;
      }
      case kReconcileCompleteStep:
        input.payload = ReconcileComplete{run_id_, false, {}};
        break;
      case kExternalFillStep: {
        // A liquidation of the slot's holding, or of part of it (ambiguous when shared).
        if (!slot.size.is_positive()) break;
        const Quantity quantity = step.a % 2 == 0
                                      ? slot.size
                                      : snap_to_step(Quantity::from_units(slot.size.units() / 2),
                                                     Quantity::from_units(10'000));
        if (!quantity.is_positive()) break;
        input.payload = ExternalFill{next_fact_id_++,
                                     ExternalFillKind::kLiquidation,
                                     slot.asset,
                                     slot.side,
                                     quantity,
                                     Price::from_integer(80 + step.b),
                                     Money::from_units(step.a * 1000),
                                     1};
        break;
      }
      case kFundingStep:
        input.payload =
            FundingPayment{next_fact_id_++, sym(step.b % 3 == 0 ? "ETH-USDT" : "BTC-USDT"),
                           Money::from_units((step.a - 8) * 100'000)};
        break;
      case kOperatorStep: {
        OperatorCommand command;
        command.action = step.a % 3 == 0   ? OperatorAction::kRelease
                         : step.a % 3 == 1 ? OperatorAction::kAdopt
                                           : OperatorAction::kFlatten;
        command.slot = slot_id;
        command.symbol = sym(step.b % 3 == 0 ? "ETH-USDT" : "BTC-USDT");
        command.side = step.b % 2 == 0 ? Side::kLong : Side::kShort;
        command.quantity = Quantity::from_units((step.b % 4 + 1) * 1'000'000);
        command.price = Price::from_integer(90 + step.b);
        input.payload = command;
        break;
      }
      case kVenueHealthStep:
        input.payload = VenueHealth{step.a % 2 == 0, step.b % 2 == 0 ? 0 : now_ + 5 * kMs, 418};
        break;
      case kRepeatIntentStep:
        if (!sent_intents_.empty()) {
          KernelIntent again =
              sent_intents_[static_cast<std::size_t>(step.a * 16 + step.b) % sent_intents_.size()];
          if (step.b % 4 == 0) again.size = again.size + Quantity::from_units(1'000'000);
          input.payload = again;
        }
        break;
      case kReplayStep:
        if (!fed_events_.empty()) {
          input.payload =
              fed_events_[fed_events_.size() - 1 -
                          static_cast<std::size_t>(step.a * 16 + step.b) % fed_events_.size()];
        }
        break;
      case kSeedStep:
      default:
        input.payload = SeedCapital{Money::from_integer(5'000 + step.a)};
        break;
    }
    return input;
  }

  // Orders the kernel asked the venue to place, learned from its commands.
  void observe(const KernelInput& input, const KernelOutcome& out) {
    if (const auto* intent = std::get_if<KernelIntent>(&input.payload)) {
      sent_intents_.push_back(*intent);
    }
    for (const VenueCommand& command : out.commands) {
      if (command.type != KernelCommandType::kPlaceOrder) continue;
      sent_[command.slot].push_back({command.order, command.quantity});
    }
  }

 private:
  SentOrder pick_order(const TradeSlot& slot, int a) const {
    const auto it = sent_.find(slot.slot_id);
    if (it == sent_.end() || it->second.empty()) {
      return {ClientOrderId{slot.slot_id, 1, 0, 0}, Quantity::from_units(1'000'000)};
    }
    const auto& orders = it->second;
    // Mostly the newest orders, sometimes older ones (earlier legs and trades).
    return orders[orders.size() - 1 - static_cast<std::size_t>(a) % orders.size()];
  }
  VenueEvent event_for(const ClientOrderId& id) {
    VenueEvent e;
    e.event_id = next_event_id_++;
    e.slot = id.slot;
    e.order = id;
    e.venue_order_id = venue_id_of(id);
    return e;
  }
  VenueEvent remember(const VenueEvent& e) {
    fed_events_.push_back(e);
    return e;
  }

  std::uint32_t slot_count_;
  std::int64_t now_ = 1'000 * kMs;
  std::uint64_t next_event_id_ = 1;
  std::uint64_t next_intent_id_ = 1;
  std::uint64_t next_fact_id_ = 1;
  std::uint64_t run_id_ = 0;
  std::map<std::uint32_t, std::vector<SentOrder>> sent_;
  std::vector<VenueEvent> fed_events_;
  std::vector<KernelIntent> sent_intents_;
};

std::string whole_image(const Kernel& kernel) {
  std::string image = account_image(kernel.account());
  for (const TradeSlot& slot : kernel.slots()) image += "\n" + slot_image(slot, true);
  return image;
}

bool event_already_applied(const Kernel& kernel, const KernelInput& input) {
  const auto* event = std::get_if<VenueEvent>(&input.payload);
  if (event == nullptr || event->kind == KernelEventKind::kMarkPrice) return false;
  if (event->slot >= kernel.slot_count() || event->event_id == 0) return false;
  const auto& seen = kernel.slot(event->slot).seen_event_ids;
  return std::find(seen.begin(), seen.end(), event->event_id) != seen.end();
}

bool intent_already_seen(const std::set<std::string>& seen, const KernelInput& input) {
  const auto* intent = std::get_if<KernelIntent>(&input.payload);
  return intent != nullptr && seen.contains(std::string(intent->id.view()));
}

RC_GTEST_PROP(KernelProperties, InvariantsHoldAfterEveryInputAndReplayIsByteIdentical, ()) {
  const auto slot_count = static_cast<std::uint32_t>(*rc::gen::inRange(2, 5));
  const auto steps = *steps_gen();
  const codec::CodecContext context{"dita"};

  Kernel kernel = make_kernel(test_config(slot_count, slot_count));
  KernelOutcome out;
  out.reserve(slot_count);
  Interpreter interpreter(slot_count);
  std::vector<KernelInput> inputs;
  std::vector<std::string> outcomes;

  const Money seed = Money::from_integer(10'000);
  inputs.push_back(KernelInput{1, SeedCapital{seed}});
  kernel.process(inputs.back(), out);
  outcomes.push_back(codec::encode_outcome(out, context));

  std::vector<Money> past_settled(slot_count);  // settled PnL of finished trades, per slot
  std::vector<TradeSlot> previous(kernel.slots().begin(), kernel.slots().end());
  std::set<std::pair<std::uint32_t, std::uint32_t>> settled_trades;
  std::set<std::string> seen_intent_ids;

  for (const Step& step : steps) {
    KernelInput input = interpreter.next(step, kernel);
    const bool duplicate = event_already_applied(kernel, input);
    const bool repeated_intent = intent_already_seen(seen_intent_ids, input);
    const bool tick_predicted =
        std::holds_alternative<Tick>(input.payload) && kernel.tick_due(input.ts_ns);
    // Marks always count (they move the kernel's mark table even when no slot shows it).
    const auto* any_event = std::get_if<VenueEvent>(&input.payload);
    const VenueEvent* venue_event =
        any_event != nullptr && any_event->kind != KernelEventKind::kMarkPrice ? any_event
                                                                               : nullptr;
    const std::string before_probe = whole_image(kernel);
    const bool news_predicted = venue_event != nullptr && kernel.is_news(*venue_event, input.ts_ns);
    RC_ASSERT(whole_image(kernel) == before_probe);  // is_news leaves no trace
    const std::string before = whole_image(kernel);
    kernel.process(input, out);
    interpreter.observe(input, out);
    inputs.push_back(input);
    outcomes.push_back(codec::encode_outcome(out, context));
    if (const auto* intent = std::get_if<KernelIntent>(&input.payload)) {
      seen_intent_ids.insert(std::string(intent->id.view()));
    }

    if (repeated_intent) {
      // A client intent id seen before is answered, never applied again.
      RC_ASSERT(whole_image(kernel) == before);
      RC_ASSERT(out.diagnostics.size() == 1U);
      RC_ASSERT(out.diagnostics[0].code == KernelDiagnosticCode::kAlreadyApplied ||
                out.diagnostics[0].code == KernelDiagnosticCode::kIntentIdReused);
      RC_ASSERT(out.commands.empty());
    }
    if (duplicate) {
      // Re-feeding an applied event id changes nothing at all.
      RC_ASSERT(whole_image(kernel) == before);
      RC_ASSERT(out.diagnostics.size() == 1U);
      RC_ASSERT(out.diagnostics[0].code == KernelDiagnosticCode::kDuplicateEvent);
      RC_ASSERT(out.commands.empty());
    }

    if (venue_event != nullptr) {
      // is_news() predicts exactly whether feeding the event reports more than a duplicate.
      const bool news = !out.transitions.empty() || !out.commands.empty() || !out.fills.empty() ||
                        !out.settlements.empty() || out.account_changed ||
                        !out.changed_slots.empty() ||
                        std::any_of(out.diagnostics.begin(), out.diagnostics.end(),
                                    [](const KernelDiagnostic& d) {
                                      return d.code != KernelDiagnosticCode::kDuplicateEvent;
                                    });
      RC_ASSERT(news == news_predicted);
    }
    if (std::holds_alternative<Tick>(input.payload)) {
      // tick_due() predicts exactly whether a TICK acts, so the shell may skip the others.
      const bool acted =
          !out.commands.empty() || !out.diagnostics.empty() || !out.transitions.empty();
      RC_ASSERT(acted == tick_predicted);
      if (!acted) RC_ASSERT(whole_image(kernel) == before);
    }

    const AccountSnapshot& account = kernel.account();
    Money settled_sum;
    for (const TradeSlot& slot : kernel.slots()) {
      TradeSlot& prior = previous[slot.slot_id];
      if (slot.trade_id != prior.trade_id) {
        // A new trade started: the old one's settlement is final.
        RC_ASSERT(slot.trade_id == prior.trade_id + 1);
        past_settled[slot.slot_id] += prior.settled_pnl;
      }
      // No oversell: the open size never goes below zero, and exits never sell more than
      // the trade bought.
      RC_ASSERT(!slot.size.is_negative());
      Quantity exit_filled;
      for (std::size_t i = 0; i < slot.order_count; ++i) {
        if (slot.orders[i].role == OrderRole::kExit) exit_filled += slot.orders[i].filled;
        RC_ASSERT(!slot.orders[i].filled.is_negative());
        RC_ASSERT(slot.orders[i].filled <= slot.orders[i].quantity);
      }
      RC_ASSERT(exit_filled <= slot.entry_filled);
      RC_ASSERT(slot.size <= slot.entry_filled);
      if (slot.settled) settled_trades.emplace(slot.slot_id, slot.trade_id);
      settled_sum += past_settled[slot.slot_id] + slot.settled_pnl;
      prior = slot;
    }
    // Reduce-only exits are never larger than the open size.
    for (const VenueCommand& command : out.commands) {
      if (command.type == KernelCommandType::kPlaceOrder && command.reduce_only) {
        RC_ASSERT(command.quantity <= kernel.slot(command.slot).size);
        RC_ASSERT(command.quantity.is_positive());
      }
    }
    // Capital moves only by settlement and funding, and each trade settles at most once.
    RC_ASSERT(account.capital - seed == settled_sum + account.funding_total);
    RC_ASSERT(account.realized_total == settled_sum);
    RC_ASSERT(account.trade_seq == settled_trades.size());
    RC_ASSERT(account.peak_capital >= account.capital);
    RC_ASSERT(account.drawdown == account.peak_capital - account.capital);
    RC_ASSERT(account.max_drawdown >= account.drawdown);
    RC_ASSERT(account.seeded);
    Money unrealized;
    for (const TradeSlot& slot : kernel.slots()) unrealized += slot.unrealized_pnl;
    RC_ASSERT(account.unrealized_total == unrealized);
  }

  // What the run exercised (printed by rapidcheck as a distribution).
  RC_TAG(kernel.account().trade_seq == 0  ? "no settlement"
         : kernel.account().trade_seq < 4 ? "1-3 settled trades"
                                          : "4+ settled trades",
         steps.size() >= 100 ? "long" : "short");

  // Replay: the recorded inputs through a fresh kernel give byte-identical outcomes.
  Kernel replayed = make_kernel(test_config(slot_count, slot_count));
  KernelOutcome replay_out;
  replay_out.reserve(slot_count);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    replayed.process(inputs[i], replay_out);
    RC_ASSERT(codec::encode_outcome(replay_out, context) == outcomes[i]);
  }
  RC_ASSERT(whole_image(replayed) == whole_image(kernel));

  for (std::uint32_t s = 0; s < slot_count; ++s) {
    RC_ASSERT(codec::canonical(codec::to_json(replayed.slot(s), context)) ==
              codec::canonical(codec::to_json(kernel.slot(s), context)));
  }

  // Snapshot: the state through its binary form restores a kernel that continues exactly as
  // this one (same outcomes for the same further inputs).
  const std::string bytes = codec::encode_state(kernel.state());
  auto decoded = codec::decode_state(bytes);
  RC_ASSERT(decoded.has_value());
  RC_ASSERT(codec::encode_state(*decoded) == bytes);
  auto restored = Kernel::restore(test_config(slot_count, slot_count), std::move(*decoded));
  RC_ASSERT(restored.has_value());
  KernelOutcome restored_out;
  restored_out.reserve(slot_count);
  Interpreter tail(slot_count);
  for (std::size_t i = 0; i < std::min<std::size_t>(steps.size(), 40); ++i) {
    const KernelInput input = tail.next(steps[i], kernel);
    kernel.process(input, out);
    restored->process(input, restored_out);
    RC_ASSERT(codec::encode_outcome(restored_out, context) == codec::encode_outcome(out, context));
    tail.observe(input, out);
  }
  RC_ASSERT(codec::encode_state(restored->state()) == codec::encode_state(kernel.state()));
}

}  // namespace
}  // namespace dita::core
