#include "dita/runtime/script.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace dita::runtime {
namespace {

std::expected<std::vector<ScriptStep>, ScriptError> parse(const std::string& text) {
  std::istringstream in(text);
  return parse_script(in);
}

TEST(Script, ParsesEveryStepKindAndSkipsCommentsAndBlankLines) {
  const auto steps = parse(R"(# comment

{"type":"seed_capital","capital":"100"}
{"type":"mark","symbol":"BTCUSDT","price":60000}
{"type":"venue","scenario":"PARTIAL_FILLS","legs":[{"quantity":"0.1","price":"1"}],"duplicate":true}
{"type":"enter","slot":0,"asset":"BTC-USDT","side":"LONG","size":"0.2"}
{"type":"exit","slot":0}
{"type":"cancel","slot":0}
{"type":"advance","ms":10}
{"type":"reconcile","slot":0}
{"type":"set_active_slot_limit","limit":2}
{"type":"expect","slot":0,"stage":"CLOSED","capital":"100"}
)");
  ASSERT_TRUE(steps.has_value()) << steps.error().describe();
  ASSERT_EQ(steps->size(), 10U);
  EXPECT_EQ((*steps)[0].line, 3U);
  const auto& mark = std::get<MarkStep>((*steps)[1].action);
  EXPECT_EQ(mark.symbol.view(), "BTC-USDT") << "operators' spelling is normalised";
  const auto& scenario = std::get<venue::MockScenario>((*steps)[2].action);
  EXPECT_EQ(scenario.kind, venue::MockScenarioKind::kPartialFills);
  EXPECT_TRUE(scenario.duplicate);
  const auto& enter =
      std::get<core::KernelIntent>(std::get<core::KernelInputPayload>((*steps)[3].action));
  EXPECT_EQ(enter.id.view(), "1");
  const auto& exit =
      std::get<core::KernelIntent>(std::get<core::KernelInputPayload>((*steps)[4].action));
  EXPECT_EQ(exit.kind, core::KernelIntentKind::kExit);
  EXPECT_EQ(exit.id.view(), "2") << "intent ids are assigned in script order";
}

TEST(Script, ABadLineIsRefusedNamingTheLineAndTheField) {
  struct Case {
    std::string text;
    std::size_t line;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"{\"type\":\"enter\",\"slot\":0,\"asset\":\"BTC-USDT\",\"side\":\"LONG\",\"size\":\"NaN\"}",
       1, "size"},
      {"\n{\"type\":\"enter\",\"slot\":0,\"asset\":\"btc\",\"side\":\"LONG\",\"size\":\"1\"}", 2,
       "asset"},
      {"{\"type\":\"exit\",\"slot\":-3}", 1, "slot"},
      {"{\"type\":\"mark\",\"symbol\":\"BTC-USDT\",\"price\":\"0\"}", 1, "price"},
      {"{\"type\":\"venue\",\"scenario\":\"EXPLODE\"}", 1, "scenario"},
      {"{\"type\":\"venue\",\"scenario\":\"PARTIAL_FILLS\"}", 1, "legs"},
      {"{\"type\":\"venue\",\"scenario\":\"HANG\",\"hang\":\"FOREVER\"}", 1, "hang"},
      {"{\"type\":\"advance\",\"ms\":-1}", 1, "ms"},
      {"{\"type\":\"expect\",\"stage\":\"CLOSED\"}", 1, "slot"},
      {"{\"type\":\"dance\"}", 1, "type"},
      {"[1,2]", 1, ""},
      {"{\"type\":\"seed_capital\"}", 1, "capital"},
  };
  for (const auto& c : cases) {
    const auto steps = parse(c.text);
    ASSERT_FALSE(steps.has_value()) << c.text;
    EXPECT_EQ(steps.error().line, c.line) << c.text;
    EXPECT_EQ(steps.error().field, c.field) << c.text << " -> " << steps.error().describe();
  }
}

}  // namespace
}  // namespace dita::runtime
