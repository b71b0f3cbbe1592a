#include "dita/runtime/inspect.hpp"

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "dita/runtime/serve.hpp"
#include "dita/zinc/atomics.hpp"
#include "dita/zinc/control.hpp"
#include "dita/zinc/intent_queue.hpp"
#include "dita/zinc/snapshot.hpp"

namespace dita::runtime {

std::string resolve_instance(const std::string& flag) {
  if (!flag.empty()) return flag;
  // NOLINTNEXTLINE(concurrency-mt-unsafe): read once at start-up
  if (const char* env = std::getenv("DITA_V2_INSTANCE"); env != nullptr && *env != '\0') {
    return env;
  }
  return "default";
}

std::expected<StateView, zinc::ZincError> read_state(const std::string& instance) {
  auto reader = zinc::SnapshotReader<StateImage>::open(instance);
  if (!reader) return std::unexpected(reader.error());
  StateView view;
  // Snapshot<StateImage> is 64 KiB: read it into the caller's view, not onto the stack twice.
  const auto snapshot = std::make_unique<zinc::Snapshot<StateImage>>(reader->read());
  view.generation = snapshot->generation;
  view.image = snapshot->value;
  view.liveness = reader->writer_liveness();
  view.writer_pid = reader->region().writer_pid();
  const auto* header = reader->region().header();
  const std::uint64_t beat =
      zinc::atomic_load(header->heartbeat_mono_ns, std::memory_order_acquire);
  const std::uint64_t now = zinc::monotonic_ns();
  view.heartbeat_age_ms = beat != 0 && now > beat ? (now - beat) / 1'000'000 : 0;
  view.writer_epoch = zinc::atomic_load(header->writer_epoch, std::memory_order_acquire);
  return view;
}

std::expected<nlohmann::json, zinc::ZincError> instance_status(const std::string& instance) {
  auto state = read_state(instance);
  if (!state) return std::unexpected(state.error());
  nlohmann::json out;
  out["instance"] = instance;
  out["writer"] = {{"pid", state->writer_pid},
                   {"liveness", std::string(zinc::to_string(state->liveness))},
                   {"heartbeat_age_ms", state->heartbeat_age_ms},
                   {"epoch", state->writer_epoch}};
  out["state_generation"] = state->generation;
  const StateImage& image = state->image;
  out["kernel"] = header_to_json(image.header);
  nlohmann::json slots = nlohmann::json::array();
  const std::uint32_t count =
      std::min<std::uint32_t>(image.header.slot_count, DITA_STATE_MAX_SLOTS);
  for (std::uint32_t i = 0; i < count; ++i) slots.push_back(to_json(image.slots[i]));
  out["slots"] = std::move(slots);
  out["account"] = to_json(image.account);
  out["sinks"] = sinks_to_json(image);

  out["control"] = nullptr;
  if (auto control = zinc::ControlOperator::open(instance)) {
    if (auto applied = control->applied()) {
      nlohmann::json c = control_to_json(applied->settings);
      c["change_seq"] = applied->change_seq;
      c["request_seq"] = applied->request_seq;
      c["status"] = std::string(zinc::to_string(applied->status));
      out["control"] = std::move(c);
    }
  }
  out["queue"] = nullptr;
  if (auto name = zinc::region_name(instance, zinc::RegionKind::Intent)) {
    const zinc::RegionGeometry want{zinc::RegionKind::Intent, sizeof(IntentRecord), 0, 0};
    if (auto region = zinc::Region::open(*name, want)) {
      if (auto queue = zinc::IntentQueue::attach(std::move(*region))) {
        const auto stats = queue->stats();
        out["queue"] = {{"capacity", queue->capacity()},
                        {"max_producers", queue->max_producers()},
                        {"depth", stats.enqueue_pos - stats.dequeue_pos},
                        {"enqueued", stats.enqueue_pos},
                        {"committed", stats.committed},
                        {"duplicates_skipped", stats.duplicates_skipped},
                        {"abandoned", stats.abandoned}};
      }
    }
  }
  return out;
}

}  // namespace dita::runtime
