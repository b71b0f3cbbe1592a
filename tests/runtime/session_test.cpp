#include "dita/runtime/session.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "dita/venue/mock_venue.hpp"

namespace dita::runtime {
namespace {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "dita-session-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::filesystem::path operator/(const char* name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

core::KernelConfig config() {
  core::KernelConfig config;
  config.slot_count = 2;
  config.active_slot_limit = 2;
  config.instruments = core::default_instruments();
  return config;
}

core::KernelIntent enter(std::uint64_t id, std::uint32_t slot) {
  core::KernelIntent intent;
  intent.kind = core::KernelIntentKind::kEnter;
  intent.id = *core::ClientIntentId::parse(std::to_string(id));
  intent.slot = slot;
  intent.asset = *core::Symbol::parse("ETH-USDT");
  intent.size = core::Quantity::from_integer(1);
  return intent;
}

core::KernelIntent exit_all(std::uint64_t id, std::uint32_t slot) {
  core::KernelIntent intent;
  intent.kind = core::KernelIntentKind::kExit;
  intent.id = *core::ClientIntentId::parse(std::to_string(id));
  intent.slot = slot;
  return intent;
}

// Runs a small session: returns the journal path.
void run_session(const std::filesystem::path& journal_path,
                 std::vector<std::string>* commands = nullptr) {
  auto writer = journal::JournalWriter::create(journal_path, journal::FsyncPolicy::never(),
                                               journal_metadata(config(), "test"));
  ASSERT_TRUE(writer.has_value());
  auto venue = std::make_unique<venue::MockVenue>(venue::MockVenueConfig{});
  venue->set_mark(*core::Symbol::parse("ETH-USDT"), core::Price::from_integer(3000));
  auto kernel = core::Kernel::create(config());
  ASSERT_TRUE(kernel.has_value());
  Session session(std::move(*kernel), std::move(venue), std::move(*writer),
                  [&](const core::KernelInput&, const core::KernelOutcome& outcome) {
                    if (commands == nullptr) return;
                    for (const auto& c : outcome.commands)
                      commands->push_back(std::string(core::to_string(c.type)));
                  });
  ASSERT_TRUE(session.feed({1, core::SeedCapital{core::Money::from_integer(1000)}}));
  ASSERT_TRUE(session.feed({2, enter(1, 0)}));
  ASSERT_TRUE(session.feed({3, enter(2, 1)}));
  ASSERT_TRUE(session.feed({4, exit_all(3, 0)}));
  EXPECT_EQ(session.kernel().slot(0).stage, core::TradeStage::kClosed);
  EXPECT_EQ(session.kernel().slot(1).stage, core::TradeStage::kPositionOpen);
  ASSERT_TRUE(session.note(R"({"meta":"note"})"));
  ASSERT_TRUE(session.close());
}

TEST(Session, VenueAnswersAreFedBackUntilTheVenueIsQuiet) {
  TempDir dir;
  std::vector<std::string> commands;
  run_session(dir / "a.journal", &commands);
  EXPECT_EQ(commands, (std::vector<std::string>{"PLACE_ORDER", "PLACE_ORDER", "PLACE_ORDER"}));
}

TEST(Session, EveryInputAndOutputIsJournaledAndReplaysIdentically) {
  TempDir dir;
  run_session(dir / "a.journal");
  std::uint64_t final_trades = 0;
  const auto report = replay_journal(dir / "a.journal", [&](const core::Kernel& kernel) {
    final_trades = kernel.account().trade_seq;
  });
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_TRUE(report->identical()) << report->problem;
  EXPECT_EQ(report->inputs, 10U);  // 4 fed inputs + 6 venue events (ack + fill per order)
  EXPECT_EQ(report->outputs_compared, report->inputs);
  EXPECT_EQ(final_trades, 1U);
}

TEST(Session, ReplayNamesTheFirstOutputThatDiffers) {
  TempDir dir;
  run_session(dir / "a.journal");
  // Copy the journal record by record, changing the third output.
  auto reader = journal::JournalReader::open(dir / "a.journal");
  ASSERT_TRUE(reader.has_value());
  auto writer = journal::JournalWriter::create(dir / "b.journal", journal::FsyncPolicy::never(),
                                               reader->header().metadata);
  ASSERT_TRUE(writer.has_value());
  int outputs = 0;
  std::uint64_t changed_sequence = 0;
  while (auto record = reader->next()) {
    if (!*record) break;
    std::string payload = (*record)->payload;
    if ((*record)->type == journal::RecordType::kOutput && ++outputs == 3) {
      payload.replace(payload.find("\"input_seq\":3"), 13, "\"input_seq\":9");
      changed_sequence = (*record)->sequence;
    }
    ASSERT_TRUE(writer->append((*record)->type, payload));
  }
  ASSERT_TRUE(writer->close());
  const auto report = replay_journal(dir / "b.journal");
  ASSERT_TRUE(report.has_value());
  ASSERT_TRUE(report->divergence.has_value());
  EXPECT_EQ(report->divergence->record_sequence, changed_sequence);
  EXPECT_EQ(report->divergence->input_seq, 3U);
  EXPECT_FALSE(report->identical());
}

TEST(Session, ReplayReportsATornJournalInsteadOfAcceptingIt) {
  TempDir dir;
  run_session(dir / "a.journal");
  const auto size = std::filesystem::file_size(dir / "a.journal");
  std::filesystem::resize_file(dir / "a.journal", size - 5);
  const auto report = replay_journal(dir / "a.journal");
  ASSERT_TRUE(report.has_value());
  ASSERT_TRUE(report->journal_error.has_value());
  EXPECT_EQ(report->journal_error->kind, journal::JournalErrorKind::kTornTail);
  EXPECT_FALSE(report->identical());
}

TEST(Session, ReplayRefusesAFileThatIsNotAKernelJournal) {
  TempDir dir;
  auto writer =
      journal::JournalWriter::create(dir / "x.journal", journal::FsyncPolicy::never(), "{}");
  ASSERT_TRUE(writer.has_value());
  ASSERT_TRUE(writer->close());
  EXPECT_FALSE(replay_journal(dir / "x.journal").has_value());
  std::ofstream(dir / "plain.txt") << "hello";
  EXPECT_FALSE(replay_journal(dir / "plain.txt").has_value());
}

}  // namespace
}  // namespace dita::runtime
