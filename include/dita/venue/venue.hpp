// dita/venue/venue.hpp
//
// Owns the seam between the shell and an exchange. A venue takes the kernel's commands
// and hands back normalized VenueEvents; it translates, it never decides. Reconcile asks
// it for the venue's truth about one slot.
#pragma once

#include <cstdint>
#include <vector>

#include "dita/core/contracts.hpp"

namespace dita::venue {

class Venue {
 public:
  virtual ~Venue() = default;
  // Sends one command. Outcomes arrive later through `drain`.
  virtual void submit(const core::VenueCommand& command, std::int64_t now_ns) = 0;
  // Appends every event ready for delivery, in delivery order.
  virtual void drain(std::vector<core::VenueEvent>& out) = 0;
  // What the venue holds for this slot: position and whether its working order is open.
  virtual core::ReconcileComplete truth(const core::TradeSlot& slot) const = 0;
  // A new reference price for `symbol` (market orders fill against it).
  virtual void set_mark(const core::Symbol& symbol, core::Price price) = 0;
};

}  // namespace dita::venue
