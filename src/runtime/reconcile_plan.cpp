#include "dita/runtime/reconcile_plan.hpp"

namespace dita::runtime {

venue::TruthRequest truth_request(const core::Kernel& kernel, std::uint32_t slot,
                                  std::int64_t since_ns) {
  venue::TruthRequest request;
  request.since_ns = since_ns;
  for (const core::TradeSlot& each : kernel.slots()) {
    if (slot != core::kAllSlots && each.slot_id != slot) continue;
    for (std::size_t i = 0; i < each.order_count; ++i) {
      const core::VenueOrder& order = each.orders[i];
      if (order.is_terminal() || order.external) continue;
      request.orders.push_back(venue::OrderQuery{order.id, each.asset, order.venue_order_id});
    }
  }
  return request;
}

std::vector<core::KernelInputPayload> reconcile_inputs(std::uint64_t run_id, std::uint32_t slot,
                                                       core::ReconcileReason reason,
                                                       const venue::VenueTruth& truth) {
  std::vector<core::KernelInputPayload> inputs;
  inputs.reserve(3 + truth.orders.size() + truth.positions.size() + truth.external_fills.size() +
                 truth.funding.size());
  inputs.emplace_back(core::ReconcileBegin{run_id, slot, reason, truth.netting});
  for (const core::VenueEvent& order : truth.orders) inputs.emplace_back(order);
  for (core::ReconcilePosition position : truth.positions) {
    position.run_id = run_id;
    inputs.emplace_back(position);
  }
  for (const core::ExternalFill& fill : truth.external_fills) inputs.emplace_back(fill);
  core::ReconcileComplete complete;
  complete.run_id = run_id;
  complete.has_balance = truth.balance.has_value();
  if (truth.balance) complete.balance = *truth.balance;
  inputs.emplace_back(complete);
  for (const core::FundingPayment& payment : truth.funding) inputs.emplace_back(payment);
  return inputs;
}

}  // namespace dita::runtime
