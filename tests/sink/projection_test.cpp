// Projection of kernel outcomes to ClickHouse rows and Hazelcast writes (no server).
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "dita/codec/json_codec.hpp"
#include "dita/sink/projection.hpp"
#include "sink/sink_session.hpp"

namespace dita::sink {
namespace {

using testing::decimal_field;
using testing::raw_field;

ProjectionConfig config_for(core::KernelMode mode) {
  ProjectionConfig config;
  config.strategy = "alpha";
  config.mode = mode;
  config.names = HazelcastNames::for_strategy("alpha");
  return config;
}

Projection run(core::KernelMode mode, std::uint32_t trades, core::Kernel* kernel_out = nullptr) {
  core::Kernel kernel = testing::session_kernel();
  Projector projector(config_for(mode), kernel);
  Projection all = testing::project_all(kernel, projector, testing::session_inputs(trades));
  if (kernel_out != nullptr) *kernel_out = std::move(kernel);
  return all;
}

std::vector<const Row*> rows_of(const Projection& projection, Table table) {
  std::vector<const Row*> rows;
  for (const auto& row : projection.rows) {
    if (row.table == table) rows.push_back(&row);
  }
  return rows;
}

TEST(Projection, RowIdsAreDeterministicUniqueAndNameStrategyTableSeqAndItem) {
  const Projection first = run(core::KernelMode::kDebug, 6);
  const Projection second = run(core::KernelMode::kDebug, 6);
  ASSERT_EQ(first.rows, second.rows);
  ASSERT_EQ(first.hazelcast, second.hazelcast);
  EXPECT_EQ(testing::row_ids(first.rows).size(), first.rows.size());
  EXPECT_EQ(make_row_id("alpha", Table::kTradeExitLegs, 42, 1), "alpha:trade_exit_legs:42:1");
  for (const auto& row : first.rows) {
    EXPECT_EQ(raw_field(row.json, "row_id"), row.row_id);
    EXPECT_TRUE(row.row_id.starts_with("alpha:" + std::string(table_name(row.table)) + ":"))
        << row.row_id;
  }
}

TEST(Projection, EveryRowCarriesExactlyTheColumnsOfItsTable) {
  const Projection all = run(core::KernelMode::kDebug, 4);
  for (const auto& row : all.rows) {
    const auto json = nlohmann::json::parse(row.json);
    std::set<std::string> keys;
    for (const auto& [key, value] : json.items()) keys.insert(key);
    std::set<std::string> expected;
    for (const auto column : table_columns(row.table)) expected.insert(std::string(column));
    EXPECT_EQ(keys, expected) << row.json;
  }
}

TEST(Projection, TwoLegExitLegDeltasSumToTheTradesRealizedPnl) {
  core::Kernel kernel = testing::session_kernel();
  const Projection all = run(core::KernelMode::kNormal, 1, &kernel);
  const auto legs = rows_of(all, Table::kTradeExitLegs);
  const auto exits = rows_of(all, Table::kTradeExits);
  const auto entries = rows_of(all, Table::kTradeEntries);
  ASSERT_EQ(legs.size(), 3U);  // leg 1 in one fill, leg 2 in two partial fills
  ASSERT_EQ(exits.size(), 1U);
  ASSERT_EQ(entries.size(), 2U);
  std::int64_t realized = 0, qty = 0, cost = 0, entry_fee_share = 0, proceeds = 0, fees = 0;
  for (const Row* leg : legs) {
    realized += decimal_field(leg->json, "leg_realized_pnl");
    qty += decimal_field(leg->json, "leg_qty");
    cost += decimal_field(leg->json, "leg_cost_share");
    entry_fee_share += decimal_field(leg->json, "leg_entry_fee_share");
    proceeds += decimal_field(leg->json, "leg_proceeds");
    fees += decimal_field(leg->json, "leg_fee");
  }
  std::int64_t entry_notional = 0, entry_fees = 0;
  for (const Row* entry : entries) {
    entry_notional += decimal_field(entry->json, "notional");
    entry_fees += decimal_field(entry->json, "fee");
  }
  const core::TradeSlot& slot = kernel.slot(0);
  EXPECT_EQ(slot.stage, core::TradeStage::kClosed);
  EXPECT_EQ(realized, decimal_field(exits[0]->json, "realized_pnl"));
  EXPECT_EQ(realized, slot.realized_pnl.units());
  EXPECT_EQ(qty, slot.entry_filled.units());
  EXPECT_EQ(cost, entry_notional);
  EXPECT_EQ(entry_fee_share, entry_fees);
  EXPECT_EQ(fees + entry_fees, slot.fees_paid.units());
  // Long: realized = proceeds - cost - all fees.
  EXPECT_EQ(realized, proceeds - cost - fees - entry_fees);
  // Each leg is isolated: leg 1 alone.
  EXPECT_EQ(raw_field(legs[0]->json, "leg_index"), "1");
  EXPECT_EQ(decimal_field(legs[0]->json, "leg_qty"), 600'000);
  EXPECT_EQ(decimal_field(legs[0]->json, "remaining_qty"), 400'000);
  EXPECT_EQ(decimal_field(legs[2]->json, "remaining_qty"), 0);
  EXPECT_EQ(raw_field(exits[0]->json, "leg_count"), "2");
  EXPECT_EQ(decimal_field(exits[0]->json, "qty_closed"), 1'000'000);
}

TEST(Projection, ShortTradesLegDeltasAlsoSumToRealizedPnl) {
  core::Kernel kernel = testing::session_kernel();
  const Projection all = run(core::KernelMode::kNormal, 2, &kernel);  // trade 2 is SHORT, slot 1
  std::int64_t realized = 0;
  for (const Row* leg : rows_of(all, Table::kTradeExitLegs)) {
    if (raw_field(leg->json, "slot_id") == "1")
      realized += decimal_field(leg->json, "leg_realized_pnl");
  }
  EXPECT_EQ(kernel.slot(1).side, core::Side::kShort);
  EXPECT_EQ(realized, kernel.slot(1).realized_pnl.units());
}

TEST(Projection, DebugAddsTransitionsAndInputsWhileNormalKeepsOnlyTradeLevelRows) {
  const Projection debug = run(core::KernelMode::kDebug, 3);
  const Projection normal = run(core::KernelMode::kNormal, 3);
  const auto inputs = testing::session_inputs(3);
  EXPECT_EQ(rows_of(debug, Table::kKernelInputs).size(), inputs.size());
  EXPECT_FALSE(rows_of(debug, Table::kTransitions).empty());
  EXPECT_TRUE(rows_of(normal, Table::kTransitions).empty());
  EXPECT_TRUE(rows_of(normal, Table::kKernelInputs).empty());
  // NORMAL is a subset of DEBUG, row for row.
  std::map<std::string, std::string> debug_rows;
  for (const auto& row : debug.rows) debug_rows[row.row_id] = row.json;
  for (const auto& row : normal.rows) {
    ASSERT_TRUE(debug_rows.contains(row.row_id)) << row.row_id;
    EXPECT_EQ(debug_rows[row.row_id], row.json);
    if (row.table == Table::kDiagnostics) {
      EXPECT_NE(raw_field(row.json, "severity"), "INFO");
    }
  }
  for (const Table table : {Table::kTradeEntries, Table::kTradeExits, Table::kTradeExitLegs,
                            Table::kAccountSnapshots}) {
    EXPECT_EQ(rows_of(debug, table).size(), rows_of(normal, table).size()) << table_name(table);
    EXPECT_FALSE(rows_of(normal, table).empty()) << table_name(table);
  }
  // The transition rows rebuild every stage change in order.
  std::vector<std::string> slot0;
  for (const Row* row : rows_of(debug, Table::kTransitions)) {
    if (raw_field(row->json, "slot_id") == "0" && raw_field(row->json, "trade_id") == "1") {
      slot0.push_back(raw_field(row->json, "from_stage") + ">" + raw_field(row->json, "to_stage"));
    }
  }
  EXPECT_EQ(slot0,
            (std::vector<std::string>{"IDLE>ENTRY_WORKING", "ENTRY_WORKING>POSITION_OPEN",
                                      "POSITION_OPEN>EXIT_WORKING", "EXIT_WORKING>POSITION_OPEN",
                                      "POSITION_OPEN>EXIT_WORKING", "EXIT_WORKING>CLOSED"}));
}

TEST(Projection, KernelInputRowsReplayToTheSameFinalState) {
  core::Kernel kernel = testing::session_kernel();
  const Projection debug = run(core::KernelMode::kDebug, 5, &kernel);
  core::Kernel replayed = testing::session_kernel();
  core::KernelOutcome outcome;
  const codec::CodecContext context{"dita"};
  for (const Row* row : rows_of(debug, Table::kKernelInputs)) {
    const auto json = nlohmann::json::parse(row->json);
    auto input = codec::decode_input(json["input_json"].get<std::string>(), context);
    ASSERT_TRUE(input.has_value()) << input.error().message;
    replayed.process(*input, outcome);
    EXPECT_EQ(codec::encode_outcome(outcome, context), json["outcome_json"].get<std::string>());
  }
  for (std::uint32_t i = 0; i < kernel.slot_count(); ++i) {
    EXPECT_EQ(codec::canonical(codec::to_json(replayed.slot(i), context)),
              codec::canonical(codec::to_json(kernel.slot(i), context)));
  }
}

TEST(Projection, HazelcastWritesMirrorSlotsAccountRegistryAndTradeEvents) {
  core::Kernel kernel = testing::session_kernel();
  const Projection all = run(core::KernelMode::kNormal, 2, &kernel);
  const HazelcastNames names = HazelcastNames::for_strategy("alpha");
  EXPECT_EQ(names.state, "DITA_STATE_alpha");
  EXPECT_EQ(names.trade_events, "DITA_TRADE_EVENTS_alpha");
  using Key = std::pair<std::string, std::string>;
  std::map<Key, std::optional<std::string>> final_maps;
  std::map<std::string, int> events;
  for (const auto& op : all.hazelcast) {
    if (op.kind == HazelcastOpKind::kTopicPublish) {
      EXPECT_EQ(op.name, names.trade_events);
      events[raw_field(op.value, "event")] += 1;
    } else {
      final_maps[{op.name, op.key}] =
          op.kind == HazelcastOpKind::kMapSet ? std::optional(op.value) : std::nullopt;
    }
  }
  const codec::CodecContext context{"dita"};
  for (std::uint32_t id : {0U, 1U}) {
    const Key state{names.state, std::to_string(id)};
    const Key active{names.active_slots, std::to_string(id)};
    EXPECT_EQ(final_maps[state], codec::canonical(codec::to_json(kernel.slot(id), context)));
    // Closed: registered while active, removed at close.
    EXPECT_TRUE(final_maps.contains(active));
    EXPECT_EQ(final_maps[active], std::nullopt);
  }
  const Key account{names.pnl, "account"};
  ASSERT_TRUE(final_maps[account].has_value());
  EXPECT_EQ(raw_field(*final_maps[account], "trade_seq"), "2");
  EXPECT_EQ(events["ENTER"], 2);
  EXPECT_EQ(events["ENTRY_FILL"], 4);
  EXPECT_EQ(events["EXIT_FILL"], 6);
  EXPECT_EQ(events["CLOSE"], 2);
}

TEST(Projection, ControlChangesAndVenueMessagesFollowTheModeRule) {
  core::Kernel kernel = testing::session_kernel();
  Projector normal(config_for(core::KernelMode::kNormal), kernel);
  Projector debug(config_for(core::KernelMode::kDebug), kernel);
  ControlChange change;
  change.seq = 7;
  change.ts_ns = 1'700'000'000'000'000'000LL;
  change.control = "halt";
  change.old_value = "false";
  change.new_value = "true";
  change.actor = "ops";
  change.reason = "maintenance";
  Projection out;
  normal.project_control_change(change, out);
  ASSERT_EQ(out.rows.size(), 1U);
  EXPECT_EQ(out.rows[0].row_id, "alpha:control_changes:7:0@control");
  ASSERT_EQ(out.hazelcast.size(), 1U);
  EXPECT_EQ(out.hazelcast[0].name, "DITA_CONTROL_alpha");
  EXPECT_EQ(out.hazelcast[0].key, "halt");
  VenueMessage message;
  message.seq = 3;
  message.venue = "MOCK";
  message.direction = "REQUEST";
  message.payload = "{\"a\":\"tab\there\"}";
  Projection none;
  normal.project_venue_message(message, none);
  EXPECT_TRUE(none.rows.empty());
  Projection some;
  debug.project_venue_message(message, some);
  ASSERT_EQ(some.rows.size(), 1U);
  EXPECT_EQ(nlohmann::json::parse(some.rows[0].json)["payload"], message.payload);
  EXPECT_EQ(some.rows[0].json.find('\t'), std::string::npos);
}

TEST(Projection, ActiveSlotLimitInputIsRecordedAsAControlChange) {
  core::Kernel kernel = testing::session_kernel();
  Projector projector(config_for(core::KernelMode::kNormal), kernel);
  core::KernelOutcome outcome;
  const core::KernelInput input{5, core::SetActiveSlotLimit{2}};
  kernel.process(input, outcome);
  Projection out;
  projector.project(input, outcome, kernel, out);
  ASSERT_EQ(out.rows.size(), 1U);
  EXPECT_EQ(out.rows[0].table, Table::kControlChanges);
  EXPECT_EQ(raw_field(out.rows[0].json, "old_value"), "4");
  EXPECT_EQ(raw_field(out.rows[0].json, "new_value"), "2");
}

TEST(Projection, SnapshotCoversEverySlotAndTheAccount) {
  core::Kernel kernel = testing::session_kernel();
  Projector projector(config_for(core::KernelMode::kNormal), kernel);
  Projection out;
  projector.snapshot(kernel.account(), 0, out);
  int states = 0, removes = 0, pnl = 0;
  for (const auto& op : out.hazelcast) {
    states += op.name == "DITA_STATE_alpha";
    removes += op.kind == HazelcastOpKind::kMapRemove;
    pnl += op.name == "DITA_PNL_alpha";
  }
  EXPECT_EQ(states, 4);
  EXPECT_EQ(removes, 4);
  EXPECT_EQ(pnl, 1);
}

TEST(Projection, JsonStringsEscapeControlCharactersAndDatesAreUtc) {
  std::string out;
  append_json_string(out, "a\"b\\c\n\x01");
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\u0001\"");
  EXPECT_EQ(format_datetime(1'700'000'000'000'000'000LL), "2023-11-14 22:13:20");
}

}  // namespace
}  // namespace dita::sink
