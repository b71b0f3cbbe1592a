#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "dita/core/fsm.hpp"

namespace {

namespace fs = std::filesystem;

struct Result {
  int exit_code = -1;
  std::string output;
};

// Runs `dita ARGS` with a clean DITA_V2_* environment; stdout and stderr together.
Result dita(const std::string& args, const std::string& env = "") {
  const std::string command =
      "env -u DITA_V2_CONFIG -u DITA_V2_VERBOSITY -u DITA_V2_MODE -u DITA_V2_VENUE " + env + " " +
      DITA_EXE + " " + args + " 2>&1";
  Result result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "dita-cli-XXXXXX").string();
    dir_ = ::mkdtemp(pattern.data());
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(dir_ / name) << text;
    return path(name);
  }
  fs::path dir_;
};

std::vector<fs::path> examples() {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(fs::path(DITA_SOURCE) / "examples")) {
    if (entry.path().extension() == ".jsonl") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST_F(CliTest, EveryShippedExampleRunsMeetsItsExpectationsAndReplaysIdentically) {
  const auto files = examples();
  ASSERT_GE(files.size(), 7U);
  for (const auto& example : files) {
    const std::string journal = path(example.stem().string() + ".journal");
    const Result run = dita("run --script " + example.string() + " --journal " + journal);
    EXPECT_EQ(run.exit_code, 0) << example << "\n" << run.output;
    EXPECT_EQ(run.output.find("EXPECTATION FAILED"), std::string::npos) << run.output;
    const Result replay = dita("replay " + journal);
    EXPECT_EQ(replay.exit_code, 0) << example << "\n" << replay.output;
    EXPECT_NE(replay.output.find("identical"), std::string::npos);
  }
}

TEST_F(CliTest, TheSameScriptAndSeedWriteTheSameKernelRecords) {
  const std::string script =
      (fs::path(DITA_SOURCE) / "examples" / "duplicated_events.jsonl").string();
  ASSERT_EQ(dita("run --verbosity TRACE --script " + script + " --journal " + path("a.journal"))
                .exit_code,
            0);
  const Result first =
      dita("run --verbosity TRACE --script " + script + " --journal " + path("b.journal"));
  const Result second =
      dita("run --verbosity TRACE --script " + script + " --journal " + path("c.journal"));
  const auto strip = [](std::string text) { return text.substr(0, text.find("journal: ")); };
  EXPECT_EQ(strip(first.output), strip(second.output));
}

TEST_F(CliTest, VerbosityQuietShowsOnlyWarningsAndWorse) {
  const std::string script = (fs::path(DITA_SOURCE) / "examples" / "rate_limited.jsonl").string();
  const Result quiet =
      dita("run --script " + script + " --journal " + path("q.journal"), "DITA_V2_VERBOSITY=QUIET");
  ASSERT_EQ(quiet.exit_code, 0) << quiet.output;
  EXPECT_EQ(quiet.output.find("IDLE -> ENTRY_WORKING"), std::string::npos);
  EXPECT_NE(quiet.output.find("WARNING RATE_LIMITED"), std::string::npos);
  const Result trace =
      dita("run --verbosity TRACE --script " + script + " --journal " + path("t.journal"));
  EXPECT_NE(trace.output.find("input   {"), std::string::npos);
  EXPECT_NE(trace.output.find("IDLE -> ENTRY_WORKING"), std::string::npos);
}

TEST_F(CliTest, AFailedExpectationExitsThreeAndNamesTheLine) {
  const std::string script = write(
      "s.jsonl",
      "{\"type\":\"mark\",\"symbol\":\"BTC-USDT\",\"price\":\"100\"}\n"
      "{\"type\":\"enter\",\"slot\":0,\"asset\":\"BTC-USDT\",\"side\":\"LONG\",\"size\":\"1\"}\n"
      "{\"type\":\"expect\",\"slot\":0,\"stage\":\"CLOSED\"}\n");
  const Result run = dita("run --script " + script + " --journal " + path("s.journal"));
  EXPECT_EQ(run.exit_code, 3);
  EXPECT_NE(run.output.find(
                "EXPECTATION FAILED (script line 3): stage is POSITION_OPEN, expected CLOSED"),
            std::string::npos)
      << run.output;
}

TEST_F(CliTest, ABadScriptOrSettingIsAUsageErrorNamingTheProblem) {
  const std::string script = write(
      "bad.jsonl",
      "{\"type\":\"enter\",\"slot\":0,\"asset\":\"BTC-USDT\",\"side\":\"UP\",\"size\":\"1\"}\n");
  Result run = dita("run --script " + script + " --journal " + path("b.journal"));
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("script line 1, field 'side'"), std::string::npos) << run.output;
  EXPECT_FALSE(fs::exists(path("b.journal"))) << "nothing is written for a refused script";

  const std::string good = (fs::path(DITA_SOURCE) / "examples" / "full_cycle.jsonl").string();
  run = dita("run --script " + good + " --journal " + path("c.journal"), "DITA_V2_MODE=FAST");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(
      run.output.find(
          "invalid setting 'mode' (from env DITA_V2_MODE): 'FAST' is not one of: NORMAL, DEBUG"),
      std::string::npos)
      << run.output;

  run = dita("run --venue bingx --script " + good + " --journal " + path("d.journal"));
  EXPECT_EQ(run.exit_code, 2);
  run = dita("run --script " + path("missing.jsonl"));
  EXPECT_EQ(run.exit_code, 2);
  run = dita("frobnicate");
  EXPECT_EQ(run.exit_code, 2);
}

TEST_F(CliTest, AnExistingJournalIsNeverOverwritten) {
  const std::string good = (fs::path(DITA_SOURCE) / "examples" / "full_cycle.jsonl").string();
  ASSERT_EQ(dita("run --script " + good + " --journal " + path("j.journal")).exit_code, 0);
  const auto size = fs::file_size(path("j.journal"));
  const Result again = dita("run --script " + good + " --journal " + path("j.journal"));
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.output.find("ALREADY_EXISTS"), std::string::npos) << again.output;
  EXPECT_EQ(fs::file_size(path("j.journal")), size);
}

TEST_F(CliTest, ReplayOfADamagedJournalExitsFourAndSaysWhere) {
  const std::string good = (fs::path(DITA_SOURCE) / "examples" / "two_leg_exit.jsonl").string();
  ASSERT_EQ(dita("run --script " + good + " --journal " + path("j.journal")).exit_code, 0);
  fs::resize_file(path("j.journal"), fs::file_size(path("j.journal")) - 3);
  const Result replay = dita("replay " + path("j.journal"));
  EXPECT_EQ(replay.exit_code, 4);
  EXPECT_NE(replay.output.find("JOURNAL DAMAGED: TORN_TAIL at offset"), std::string::npos)
      << replay.output;

  // One flipped byte inside the journal.
  ASSERT_EQ(dita("run --script " + good + " --journal " + path("k.journal")).exit_code, 0);
  {
    std::fstream file(path("k.journal"), std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(fs::file_size(path("k.journal")) / 2));
    file.put('#');
  }
  const Result flipped = dita("replay " + path("k.journal"));
  EXPECT_EQ(flipped.exit_code, 4) << flipped.output;
}

TEST_F(CliTest, OnceJsonPrintsControlSlotsAndAccount) {
  const Result once = dita("once --json --slot-count 3");
  ASSERT_EQ(once.exit_code, 0) << once.output;
  const auto snapshot = nlohmann::json::parse(once.output);
  ASSERT_EQ(snapshot["slots"].size(), 3U);
  EXPECT_EQ(snapshot["slots"][0]["stage"], "IDLE");
  EXPECT_EQ(snapshot["control"]["venue"], "MOCK");
  EXPECT_EQ(snapshot["account"]["capital"], "0");
}

TEST_F(CliTest, OnceWithAJournalShowsTheReplayedFinalState) {
  const std::string good = (fs::path(DITA_SOURCE) / "examples" / "full_cycle.jsonl").string();
  ASSERT_EQ(dita("run --script " + good + " --journal " + path("j.journal")).exit_code, 0);
  const Result once = dita("once --json --journal " + path("j.journal"));
  ASSERT_EQ(once.exit_code, 0) << once.output;
  const auto snapshot = nlohmann::json::parse(once.output);
  EXPECT_EQ(snapshot["slots"][0]["stage"], "CLOSED");
  EXPECT_EQ(snapshot["account"]["capital"], "10009.395");
  EXPECT_EQ(snapshot["account"]["trade_seq"], 1);
}

TEST_F(CliTest, TheFsmTableInDocsIsTheOneTheKernelRuns) {
  const Result table = dita("fsm --markdown");
  ASSERT_EQ(table.exit_code, 0);
  std::ifstream doc(fs::path(DITA_SOURCE) / "docs" / "fsm.md");
  std::stringstream text;
  text << doc.rdbuf();
  EXPECT_NE(text.str().find(table.output), std::string::npos)
      << "docs/fsm.md is stale: regenerate the table with `dita fsm --markdown`";
  // Every cell (stages x inputs), plus the two header lines.
  EXPECT_EQ(std::count(table.output.begin(), table.output.end(), '\n'),
            static_cast<std::ptrdiff_t>(dita::core::kStageCount * dita::core::kFsmInputCount + 2));
}

TEST_F(CliTest, EveryCommandHasHelp) {
  for (const char* command :
       {"--help", "run --help", "once --help", "replay --help", "fsm --help"}) {
    const Result help = dita(command);
    EXPECT_EQ(help.exit_code, 0) << command;
    EXPECT_NE(help.output.find("Usage"), std::string::npos) << command;
  }
}

}  // namespace

#include "dita/core/enums.hpp"

namespace {

TEST(Docs, EveryDiagnosticCodeIsDocumentedWithItsSeverity) {
  std::ifstream doc(std::filesystem::path(DITA_SOURCE) / "docs" / "contracts.md");
  std::stringstream text;
  text << doc.rdbuf();
  for (std::size_t i = 0; i < dita::core::enum_count<dita::core::KernelDiagnosticCode>(); ++i) {
    const auto code = static_cast<dita::core::KernelDiagnosticCode>(i);
    const std::string row = "| " + std::string(dita::core::to_string(code)) + " | " +
                            std::string(dita::core::to_string(dita::core::default_severity(code))) +
                            " |";
    EXPECT_NE(text.str().find(row), std::string::npos) << "docs/contracts.md lacks: " << row;
  }
}

}  // namespace
