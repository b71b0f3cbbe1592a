// dita/runtime/inspect.hpp
//
// Owns the read-only view of a server's regions that the operator tools print: the state
// image, writer liveness and heartbeat, the applied control snapshot and the intent queue's
// counters. Reading never claims, locks or waits on a region, so it neither disturbs a running
// server nor needs one (a dead server's last complete state is still readable).
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "dita/runtime/state_image.hpp"
#include "dita/zinc/error.hpp"
#include "dita/zinc/region.hpp"

namespace dita::runtime {

// --instance if given, else $DITA_V2_INSTANCE, else "default".
std::string resolve_instance(const std::string& flag);

struct StateView {
  std::uint64_t generation = 0;  // 0: the server never published
  StateImage image{};
  zinc::WriterLiveness liveness = zinc::WriterLiveness::Dead;
  std::int32_t writer_pid = 0;
  std::uint64_t heartbeat_age_ms = 0;
  std::uint64_t writer_epoch = 0;
};

// Reads the state region; NOT_FOUND when the instance has never been served.
std::expected<StateView, zinc::ZincError> read_state(const std::string& instance);

// One object: instance, writer {pid, liveness, heartbeat_age_ms, epoch}, kernel (image
// header), slots (each with its stage), account, control (null without a control region) and
// queue (null without an intent region).
std::expected<nlohmann::json, zinc::ZincError> instance_status(const std::string& instance);

}  // namespace dita::runtime
