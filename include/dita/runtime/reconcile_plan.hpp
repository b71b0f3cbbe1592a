// dita/runtime/reconcile_plan.hpp
//
// Owns the shape of one reconcile run, shared by `dita run`'s `reconcile` step, the serve
// reconciler and the tests: which orders to ask the venue about (every order of the slots in
// scope that is not final), and the journaled kernel inputs a fetched VenueTruth becomes —
// RECONCILE_BEGIN, one ORDER_STATUS per order, RECONCILE_POSITION per venue position,
// EXTERNAL_FILL per venue-made fill, RECONCILE_COMPLETE (with the balance), then FUNDING.
// Pure: the same kernel state and truth always give the same inputs.
#pragma once

#include <cstdint>
#include <vector>

#include "dita/core/kernel.hpp"
#include "dita/venue/venue.hpp"

namespace dita::runtime {

// The order queries for a run over `slot` (core::kAllSlots: every slot).
venue::TruthRequest truth_request(const core::Kernel& kernel, std::uint32_t slot,
                                  std::int64_t since_ns);

// The inputs of one run, in feeding order.
std::vector<core::KernelInputPayload> reconcile_inputs(std::uint64_t run_id, std::uint32_t slot,
                                                       core::ReconcileReason reason,
                                                       const venue::VenueTruth& truth);

}  // namespace dita::runtime
