// dita/venue/venue.hpp
//
// Owns the seam between the shell and an exchange. A venue takes the kernel's commands
// and hands back normalized VenueEvents; it translates, it never decides. A reconcile asks
// it for the venue's facts (fetch_truth): targeted status queries by client order id, the
// positions, venue-made fills, funding and the balance.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <vector>

#include "dita/core/contracts.hpp"

namespace dita::venue {

// One order a reconcile asks about, by its client order id (the identity that survives a
// lost place answer).
struct OrderQuery {
  core::ClientOrderId id;
  core::Symbol symbol;
  std::int64_t venue_order_id = 0;  // 0 when the kernel never learned it
};

struct TruthRequest {
  std::vector<OrderQuery> orders;
  std::int64_t since_ns = 0;  // venue-made fills and funding after this time
};

// What a reconcile learned, ready to become journaled kernel inputs (the reconciler stamps
// the run id on the positions).
struct VenueTruth {
  bool netting = true;                             // one-way account (hedge: false)
  std::vector<core::VenueEvent> orders;            // one ORDER_STATUS per query, NOT_FOUND too
  std::vector<core::ReconcilePosition> positions;  // every non-flat position
  std::vector<core::ExternalFill> external_fills;  // venue-made fills since `since_ns`
  std::vector<core::FundingPayment> funding;       // funding payments since `since_ns`
  std::optional<core::Money> balance;              // wallet balance, when the venue has one
};

struct TruthError {
  std::string message;
};

class Venue {
 public:
  virtual ~Venue() = default;
  // Sends one command. Outcomes arrive later through `drain`.
  virtual void submit(const core::VenueCommand& command, std::int64_t now_ns) = 0;
  // Appends every event ready for delivery, in delivery order.
  virtual void drain(std::vector<core::VenueEvent>& out) = 0;
  // The venue's facts for a reconcile. Synchronous; call it off the kernel thread when the
  // venue is remote. An error means nothing was learned (the run is retried, never guessed).
  virtual std::expected<VenueTruth, TruthError> fetch_truth(const TruthRequest& request) = 0;
  // A new reference price for `symbol` (market orders fill against it).
  virtual void set_mark(const core::Symbol& symbol, core::Price price) = 0;
};

}  // namespace dita::venue
