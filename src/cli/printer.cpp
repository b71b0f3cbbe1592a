#include "printer.hpp"

namespace dita::cli {

using core::to_string;

void OutcomePrinter::print(const core::KernelInput& input, const core::KernelOutcome& outcome,
                           const core::Kernel& kernel) const {
  const bool verbose = verbosity_ != core::KernelVerbosity::kQuiet;
  const bool trace = verbosity_ == core::KernelVerbosity::kTrace;
  const std::string seq = "seq " + std::to_string(outcome.input_seq);
  if (trace) {
    out_ << seq << "  input   " << codec::canonical(codec::to_json(input, context_)) << '\n';
  }
  if (verbose) {
    for (const auto& t : outcome.transitions) {
      out_ << seq << "  slot " << t.slot << "  " << to_string(t.from) << " -> " << to_string(t.to)
           << "  (" << to_string(t.trigger) << ")  trade " << t.trade_id << "  size "
           << core::to_string(t.size_after) << "  realized "
           << core::to_string(t.realized_pnl_after) << '\n';
    }
    for (const auto& c : outcome.commands) {
      const auto json = codec::to_json(c, context_);
      out_ << seq << "  -> " << to_string(c.type) << ' '
           << json["client_order_id"].get<std::string>() << ' ' << to_string(c.side) << ' '
           << to_string(c.order_type) << ' ' << core::to_string(c.quantity) << ' '
           << c.symbol.view();
      if (c.price.is_positive()) out_ << " @ " << core::to_string(c.price);
      if (c.reduce_only) out_ << " reduce-only";
      out_ << '\n';
    }
  }
  for (const auto& d : outcome.diagnostics) {
    if (!verbose && d.severity < core::KernelSeverity::kWarning) continue;
    out_ << seq << "  " << to_string(d.severity) << ' ' << to_string(d.code);
    if (d.slot != core::kNoSlot) out_ << " slot " << d.slot;
    out_ << ": " << d.message;
    const auto details = codec::to_json(d)["details"];
    if (!details.empty()) out_ << "  " << details.dump();
    out_ << '\n';
  }
  if (verbose && outcome.account_changed && trace) {
    out_ << seq << "  account " << codec::canonical(codec::to_json(outcome.account)) << '\n';
  }
  if (trace) {
    out_ << seq << "  outcome " << codec::encode_outcome(outcome, context_) << '\n';
  }
  if (verbose && mode_ == core::KernelMode::kDebug) {
    for (const std::uint32_t id : outcome.changed_slots) {
      out_ << seq << "  slot-image " << codec::canonical(codec::to_json(kernel.slot(id), context_))
           << '\n';
    }
  }
}

void OutcomePrinter::summary(const core::Kernel& kernel) const {
  out_ << "slots:";
  for (const auto& slot : kernel.slots()) {
    out_ << "  [" << slot.slot_id << "] " << to_string(slot.stage);
    if (slot.trade_id != 0) {
      out_ << " trade " << slot.trade_id << ' ' << slot.asset.view() << ' ' << to_string(slot.side)
           << " size " << core::to_string(slot.size) << " realized "
           << core::to_string(slot.realized_pnl);
    }
  }
  const auto& account = kernel.account();
  out_ << "\naccount: capital " << core::to_string(account.capital) << "  peak "
       << core::to_string(account.peak_capital) << "  drawdown "
       << core::to_string(account.drawdown) << "  realized "
       << core::to_string(account.realized_total) << "  unrealized "
       << core::to_string(account.unrealized_total) << "  trades " << account.trade_seq << '\n';
}

}  // namespace dita::cli
