// End-to-end tests through the `dita` executable: a server process, shell producers and
// readers, SIGKILL/SIGTERM/SIGSTOP. Waiting is always a bounded poll of `dita status` or of
// the child's exit; nothing asserts on timing.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "dita/journal/journal.hpp"
#include "dita/runtime/state_image.hpp"
#include "dita/zinc/control.hpp"
#include "dita/zinc/snapshot.hpp"
#include "serve/serve_process.hpp"

extern char** environ;
extern "C" std::size_t dita_state_c_image_size(void);
extern "C" std::size_t dita_state_c_intent_size(void);
extern "C" std::size_t dita_state_c_slots_offset(void);

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr auto kReadyTimeout = std::chrono::seconds(20);

// The shared helpers run `dita` to completion (bounded) and capture its output.
using dita::serve_testing::Result;
using dita::serve_testing::run_dita;

std::string describe(const Result& r) {
  return r.describe();
}

class ServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int counter = 0;
    instance_ = "st" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
    char pattern[] = "/tmp/dita-serve-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    journal_ = dir_ / "kernel.journal";
  }

  void TearDown() override {
    if (server_ > 0) {
      ::kill(server_, SIGCONT);
      ::kill(server_, SIGKILL);
      ::waitpid(server_, nullptr, 0);
      server_ = -1;
    }
    for (const char* kind : {"state", "control", "intent"}) {
      ::shm_unlink(("/dita." + instance_ + "." + kind).c_str());
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // Starts `dita serve` for this test's instance; output goes to a log file in the temp dir.
  pid_t spawn_server(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> storage{DITA_EXECUTABLE, "serve",     "--instance",
                                     instance_,       "--journal", journal_.string()};
    storage.insert(storage.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : storage) argv.push_back(a.data());
    argv.push_back(nullptr);
    const std::string log = (dir_ / ("serve-" + std::to_string(++starts_) + ".log")).string();
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    pid_t pid = -1;
    if (::posix_spawn(&pid, DITA_EXECUTABLE, &actions, nullptr, argv.data(), environ) != 0)
      pid = -1;
    posix_spawn_file_actions_destroy(&actions);
    return pid;
  }

  // Starts the server and waits (bounded) until its status says it runs.
  void start_server(const std::vector<std::string>& extra = {}) {
    server_ = spawn_server(extra);
    ASSERT_GT(server_, 0);
    const auto deadline = Clock::now() + kReadyTimeout;
    while (Clock::now() < deadline) {
      const auto s = status_or_null();
      if (s && (*s)["writer"]["pid"] == server_ && (*s)["writer"]["liveness"] == "ALIVE" &&
          (*s)["kernel"]["status"] == "RUNNING") {
        return;
      }
      int wstatus = 0;
      if (::waitpid(server_, &wstatus, WNOHANG) == server_) {
        server_ = -1;
        FAIL() << "dita serve exited before it was ready:\n" << server_log();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL() << "dita serve was not ready in time:\n" << server_log();
  }

  // Signals the server and waits (bounded) for it to exit; returns its exit code.
  int stop_server(int signal) {
    return dita::serve_testing::signal_and_wait(server_, signal, kReadyTimeout);
  }

  std::string server_log() const {
    std::string all;
    for (int i = 1; i <= starts_; ++i) {
      std::ifstream in(dir_ / ("serve-" + std::to_string(i) + ".log"));
      all += std::string(std::istreambuf_iterator<char>(in), {});
    }
    return all;
  }

  std::optional<json> status_or_null() {
    const Result r = run_dita({"status", "--instance", instance_, "--json"});
    if (r.code != 0) return std::nullopt;
    auto parsed = json::parse(r.out, nullptr, false);
    if (parsed.is_discarded()) return std::nullopt;
    return parsed;
  }

  // Polls status (bounded) until `done` holds; returns the last status read.
  template <class Done>
  json wait_for_status(Done done) {
    json s = status();
    const auto deadline = Clock::now() + kReadyTimeout;
    while (!done(s) && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      s = status();
    }
    return s;
  }

  json status() {
    const Result r = run_dita({"status", "--instance", instance_, "--json"});
    EXPECT_EQ(r.code, 0) << describe(r);
    auto parsed = json::parse(r.out, nullptr, false);
    EXPECT_FALSE(parsed.is_discarded()) << r.out;
    return parsed.is_discarded() ? json::object() : parsed;
  }

  Result intent(std::vector<std::string> args) {
    std::vector<std::string> full{"intent", "--instance", instance_, "--json"};
    full.insert(full.end(), args.begin(), args.end());
    return run_dita(full);
  }

  Result enter(int slot, const std::string& extra_seq = "", const std::string& producer = "7") {
    std::vector<std::string> args{"--producer-id", producer, "--wait"};
    if (!extra_seq.empty()) {
      args.push_back("--seq");
      args.push_back(extra_seq);
    }
    for (const char* a : {"enter", "--asset", "BTC-USDT", "--side", "LONG", "--size", "0.01",
                          "--price", "60000", "--leverage", "5"}) {
      args.emplace_back(a);
    }
    args.push_back("--slot");
    args.push_back(std::to_string(slot));
    return intent(args);
  }

  // Every journal record, read after the server stopped.
  std::vector<dita::journal::Record> journal_records() {
    std::vector<dita::journal::Record> out;
    auto reader = dita::journal::JournalReader::open(journal_);
    EXPECT_TRUE(reader.has_value());
    if (!reader) return out;
    while (true) {
      auto next = reader->next();
      EXPECT_TRUE(next.has_value());
      if (!next || !*next) break;
      out.push_back(**next);
    }
    return out;
  }

  std::string instance_;
  std::filesystem::path dir_;
  std::filesystem::path journal_;
  pid_t server_ = -1;
  int starts_ = 0;
};

TEST_F(ServeTest, AnEntryAndExitCycleIsVisibleInStatus) {
  start_server();
  const Result entered = enter(0);
  ASSERT_EQ(entered.code, 0) << describe(entered);
  EXPECT_EQ(json::parse(entered.out)["applied"], true);
  json s = status();
  ASSERT_EQ(s["slots"].size(), 4U);
  EXPECT_EQ(s["slots"][0]["stage"], "POSITION_OPEN");
  EXPECT_EQ(s["slots"][0]["size"], "0.01");
  EXPECT_EQ(s["slots"][0]["entry_price"], "60000");
  EXPECT_EQ(s["slots"][0]["leverage"], 5);
  EXPECT_EQ(s["slots"][1]["stage"], "IDLE");

  const Result exited =
      intent({"--producer-id", "7", "--wait", "exit", "--slot", "0", "--price", "61000"});
  ASSERT_EQ(exited.code, 0) << describe(exited);
  s = status();
  EXPECT_EQ(s["slots"][0]["stage"], "CLOSED");
  EXPECT_EQ(s["slots"][0]["size"], "0");
  EXPECT_EQ(s["account"]["trade_seq"], 1);
  EXPECT_EQ(s["kernel"]["intents_handled"], 2);
  EXPECT_EQ(s["queue"]["committed"], 2);
  EXPECT_EQ(stop_server(SIGTERM), 0) << server_log();
}

TEST_F(ServeTest, AResentIntentIsAppliedExactlyOnce) {
  start_server();
  ASSERT_EQ(enter(0, "1").code, 0);
  const auto inputs_before = status()["kernel"]["inputs_processed"];

  // Re-sent after it was applied: the producer learns so and nothing is enqueued.
  const Result again = enter(0, "1");
  ASSERT_EQ(again.code, 0) << describe(again);
  EXPECT_EQ(json::parse(again.out)["outcome"], "ALREADY_APPLIED");

  // Re-sent while the first copy is still queued (kernel stopped): both copies are enqueued,
  // the kernel applies one and skips the other.
  ASSERT_EQ(::kill(server_, SIGSTOP), 0);
  for (int copy = 0; copy < 2; ++copy) {
    const Result queued =
        intent({"--producer-id", "7", "--seq", "2", "exit", "--slot", "0", "--price", "61000"});
    ASSERT_EQ(queued.code, 0) << describe(queued);
    EXPECT_EQ(json::parse(queued.out)["outcome"], "ENQUEUED");
  }
  ASSERT_EQ(::kill(server_, SIGCONT), 0);
  const json s = wait_for_status([](const json& j) { return j["queue"]["depth"] == 0; });
  EXPECT_EQ(s["queue"]["depth"], 0);
  EXPECT_EQ(s["queue"]["duplicates_skipped"], 1);
  EXPECT_EQ(s["slots"][0]["stage"], "CLOSED");
  EXPECT_EQ(s["slots"][0]["trade_id"], 1);
  EXPECT_EQ(s["account"]["trade_seq"], 1);
  EXPECT_GT(s["kernel"]["inputs_processed"].get<int>(), inputs_before.get<int>());
  ASSERT_EQ(stop_server(SIGTERM), 0);

  int enters = 0;
  int exits = 0;
  for (const auto& record : journal_records()) {
    if (record.type != dita::journal::RecordType::kInput) continue;
    if (record.payload.find("\"type\":\"ENTER\"") != std::string::npos) ++enters;
    if (record.payload.find("\"type\":\"EXIT\"") != std::string::npos) ++exits;
  }
  EXPECT_EQ(enters, 1);
  EXPECT_EQ(exits, 1);
}

TEST_F(ServeTest, AKernelKilledWithSigkillRecoversFromItsJournalAndAppliesNothingTwice) {
  start_server();
  ASSERT_EQ(enter(1, "1").code, 0);
  const json before = status();
  ASSERT_EQ(before["slots"][1]["stage"], "POSITION_OPEN");

  ASSERT_EQ(stop_server(SIGKILL), 128 + SIGKILL);
  // A dead writer: readers keep its last complete state and see it is dead.
  json dead = status();
  EXPECT_EQ(dead["writer"]["liveness"], "DEAD");
  EXPECT_EQ(dead["slots"], before["slots"]);

  // An intent written while no kernel runs waits in the queue.
  const Result queued = intent({"--producer-id", "7", "--seq", "2", "exit", "--slot", "1", "--size",
                                "0.004", "--price", "61000"});
  ASSERT_EQ(queued.code, 0) << describe(queued);
  EXPECT_EQ(json::parse(queued.out)["kernel"], "DEAD");

  start_server();
  // The queued exit is applied once, after the rebuilt state.
  const json after = wait_for_status([](const json& j) { return j["queue"]["depth"] == 0; });
  EXPECT_EQ(after["queue"]["duplicates_skipped"], 0);
  EXPECT_EQ(after["slots"][1]["stage"], "POSITION_OPEN");
  EXPECT_EQ(after["slots"][1]["size"], "0.006");
  EXPECT_EQ(after["slots"][1]["trade_id"], 1);
  EXPECT_EQ(after["slots"][1]["entry_price"], before["slots"][1]["entry_price"]);
  EXPECT_EQ(after["account"]["capital"], before["account"]["capital"]);
  // Re-sending the first intent after the restart: already applied.
  const Result resent = enter(1, "1");
  ASSERT_EQ(resent.code, 0) << describe(resent);
  EXPECT_EQ(json::parse(resent.out)["outcome"], "ALREADY_APPLIED");

  // Trading continues after the restart (the mock venue's ids do not collide with old ones).
  const Result closed =
      intent({"--producer-id", "7", "--wait", "exit", "--slot", "1", "--price", "62000"});
  ASSERT_EQ(closed.code, 0) << describe(closed);
  EXPECT_EQ(status()["slots"][1]["stage"], "CLOSED");
  ASSERT_EQ(stop_server(SIGTERM), 0);
  const Result replay = run_dita({"replay", journal_.string()});
  EXPECT_EQ(replay.code, 0) << describe(replay);
}

TEST_F(ServeTest, TheJournalRestoresAppliedSequencesWhenTheIntentRegionIsLost) {
  start_server();
  ASSERT_EQ(enter(0, "5").code, 0);
  ASSERT_EQ(stop_server(SIGKILL), 128 + SIGKILL);
  // Losing the intent region loses the queue's applied sequences; the journal still has them.
  ASSERT_EQ(::shm_unlink(("/dita." + instance_ + ".intent").c_str()), 0);
  start_server();
  const Result resent = enter(0, "5");
  ASSERT_EQ(resent.code, 0) << describe(resent);
  EXPECT_EQ(json::parse(resent.out)["outcome"], "ALREADY_APPLIED");
  EXPECT_EQ(status()["slots"][0]["trade_id"], 1);
  EXPECT_EQ(stop_server(SIGTERM), 0);
}

TEST_F(ServeTest, AControlChangeIsAppliedJournaledAndSeenByStatus) {
  start_server();
  const Result set =
      run_dita({"control", "--instance", instance_, "--json", "set", "active_slot_limit", "2"});
  ASSERT_EQ(set.code, 0) << describe(set);
  const json applied = json::parse(set.out);
  EXPECT_EQ(applied["active_slot_limit"], 2);
  EXPECT_EQ(applied["status"], "APPLIED");
  const Result verbosity =
      run_dita({"control", "--instance", instance_, "set", "verbosity", "trace"});
  ASSERT_EQ(verbosity.code, 0) << describe(verbosity);

  json s = status();
  EXPECT_EQ(s["control"]["active_slot_limit"], 2);
  EXPECT_EQ(s["control"]["verbosity"], "TRACE");
  EXPECT_EQ(s["kernel"]["active_slot_limit"], 2);
  // The kernel applies it: two slots may now trade at once.
  ASSERT_EQ(enter(0).code, 0);
  ASSERT_EQ(enter(1).code, 0);
  s = status();
  EXPECT_EQ(s["slots"][0]["stage"], "POSITION_OPEN");
  EXPECT_EQ(s["slots"][1]["stage"], "POSITION_OPEN");

  // Invalid keys and values are refused before anything is requested.
  const Result bad_value =
      run_dita({"control", "--instance", instance_, "set", "verbosity", "LOUD"});
  EXPECT_EQ(bad_value.code, 2);
  EXPECT_NE(bad_value.err.find("QUIET, VERBOSE, TRACE"), std::string::npos) << bad_value.err;
  const Result bad_key = run_dita({"control", "--instance", instance_, "set", "colour", "red"});
  EXPECT_EQ(bad_key.code, 2);
  EXPECT_NE(bad_key.err.find("active_slot_limit"), std::string::npos) << bad_key.err;
  const Result too_many =
      run_dita({"control", "--instance", instance_, "set", "active_slot_limit", "9"});
  EXPECT_EQ(too_many.code, 2) << describe(too_many);
  EXPECT_EQ(status()["control"]["change_seq"], 2);

  ASSERT_EQ(stop_server(SIGTERM), 0);
  bool journaled_change = false;
  bool journaled_input = false;
  for (const auto& record : journal_records()) {
    if (record.type == dita::journal::RecordType::kMeta &&
        record.payload.find("\"source\":\"operator\"") != std::string::npos &&
        record.payload.find("\"active_slot_limit\":{\"from\":1,\"to\":2}") != std::string::npos) {
      journaled_change = true;
    }
    if (record.type == dita::journal::RecordType::kInput &&
        record.payload.find("SET_ACTIVE_SLOT_LIMIT") != std::string::npos) {
      journaled_input = true;
    }
  }
  EXPECT_TRUE(journaled_change);
  EXPECT_TRUE(journaled_input);
}

TEST_F(ServeTest, TheKernelRejectsARawControlRequestItCannotApply) {
  start_server();
  auto control = dita::zinc::ControlOperator::open(instance_);
  ASSERT_TRUE(control.has_value());
  const auto before = control->applied();
  ASSERT_TRUE(before.has_value());
  // A strategy writing the region directly can ask for what `dita control` refuses.
  dita::zinc::ControlSettings wanted = before->settings;
  wanted.backend = dita::zinc::BackendMode::Bingx;
  wanted.mode = dita::zinc::KernelMode::Debug;
  const auto seq = control->request(wanted);
  ASSERT_TRUE(seq.has_value());
  const auto answer = control->wait_for_applied(*seq, std::chrono::seconds(10));
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status, dita::zinc::ControlStatus::Rejected);
  EXPECT_EQ(answer->settings, before->settings);
  EXPECT_EQ(answer->change_seq, before->change_seq);
  ASSERT_EQ(stop_server(SIGTERM), 0);
  bool journaled = false;
  for (const auto& record : journal_records()) {
    journaled |= record.type == dita::journal::RecordType::kMeta &&
                 record.payload.find("\"status\":\"REJECTED\"") != std::string::npos &&
                 record.payload.find("backend") != std::string::npos;
  }
  EXPECT_TRUE(journaled);
}

TEST_F(ServeTest, SigtermShutsDownCleanlyAndStatusReportsTheWriterClosed) {
  start_server();
  ASSERT_EQ(enter(2).code, 0);
  EXPECT_EQ(stop_server(SIGTERM), 0) << server_log();
  const json s = status();
  EXPECT_EQ(s["writer"]["liveness"], "CLOSED_CLEANLY");
  EXPECT_EQ(s["kernel"]["status"], "STOPPED");
  EXPECT_EQ(s["slots"][2]["stage"], "POSITION_OPEN");
  const Result control = run_dita({"control", "--instance", instance_, "set", "mode", "DEBUG"});
  EXPECT_EQ(control.code, 1);
  EXPECT_NE(control.err.find("not running"), std::string::npos) << control.err;
  // The journal ends cleanly with the stop record and replays identically.
  const auto records = journal_records();
  ASSERT_FALSE(records.empty());
  EXPECT_NE(records.back().payload.find("serve_stop"), std::string::npos);
  EXPECT_EQ(run_dita({"replay", journal_.string()}).code, 0);

  // SIGINT is a clean stop too, and a cleanly closed instance is taken over on restart.
  start_server();
  EXPECT_EQ(status()["slots"][2]["stage"], "POSITION_OPEN");
  EXPECT_EQ(stop_server(SIGINT), 0);
}

TEST_F(ServeTest, ASecondServerOnALiveInstanceIsRefused) {
  start_server();
  const Result second =
      run_dita({"serve", "--instance", instance_, "--journal", (dir_ / "other.journal").string()});
  EXPECT_EQ(second.code, 2) << describe(second);
  EXPECT_NE(second.err.find("WRITER_ALIVE"), std::string::npos) << second.err;
  const json s = status();
  EXPECT_EQ(s["writer"]["pid"], server_);
  EXPECT_EQ(s["writer"]["liveness"], "ALIVE");
  EXPECT_EQ(stop_server(SIGTERM), 0);
}

TEST_F(ServeTest, AFullQueueGivesTheProducerABackPressureError) {
  start_server({"--intent-capacity", "2"});
  ASSERT_EQ(::kill(server_, SIGSTOP), 0);
  for (int i = 0; i < 2; ++i) {
    const Result ok = intent({"--producer-id", "3", "cancel", "--slot", "0"});
    ASSERT_EQ(ok.code, 0) << describe(ok);
  }
  const Result full = intent({"--producer-id", "3", "cancel", "--slot", "0"});
  EXPECT_EQ(full.code, 1) << describe(full);
  EXPECT_NE(full.err.find("QUEUE_FULL"), std::string::npos) << full.err;
  // Status reads a stopped server without waiting on it.
  EXPECT_EQ(status()["queue"]["depth"], 2);
  ASSERT_EQ(::kill(server_, SIGCONT), 0);
  const Result retried =
      intent({"--producer-id", "3", "--seq", "3", "--wait", "cancel", "--slot", "0"});
  EXPECT_EQ(retried.code, 0) << describe(retried);
  const json s = status();
  EXPECT_EQ(s["queue"]["committed"], 3);
  EXPECT_EQ(s["kernel"]["intents_handled"], 3);
  EXPECT_EQ(stop_server(SIGTERM), 0);
}

TEST_F(ServeTest, InvalidIntentArgumentsAreRejectedByNameAndNothingIsEnqueued) {
  start_server();
  struct Case {
    std::vector<std::string> args;
    std::string field;
  };
  const std::vector<Case> cases = {
      {{"enter", "--slot", "0", "--asset", "BTC-USDT", "--side", "UP", "--size", "1"}, "'side'"},
      {{"enter", "--slot", "0", "--asset", "BTC-USDT", "--side", "LONG", "--size", "-1"}, "'size'"},
      {{"enter", "--slot", "0", "--asset", "BTC-USDT", "--side", "LONG", "--size", "nan"},
       "'size'"},
      {{"enter", "--slot", "4", "--asset", "BTC-USDT", "--side", "LONG", "--size", "1"}, "'slot'"},
      {{"enter", "--slot", "0", "--asset", "btc usdt", "--side", "LONG", "--size", "1"}, "'asset'"},
      {{"enter", "--slot", "0", "--asset", "BTC-USDT", "--side", "LONG", "--size", "1",
        "--leverage", "500"},
       "'leverage'"},
      {{"exit", "--slot", "-1"}, "'slot'"},
      {{"exit", "--slot", "0", "--price", "-5"}, "'price'"},
  };
  for (const Case& c : cases) {
    const Result r = intent(c.args);
    EXPECT_EQ(r.code, 2) << describe(r);
    EXPECT_NE(r.err.find(c.field), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("nothing enqueued"), std::string::npos) << r.err;
  }
  const json s = status();
  EXPECT_EQ(s["queue"]["enqueued"], 0);
  EXPECT_EQ(s["kernel"]["intents_handled"], 0);
  EXPECT_EQ(stop_server(SIGTERM), 0);
}

TEST_F(ServeTest, TheBingxVenueWithoutCredentialsIsRefusedWithAClearMessage) {
  // Nothing is contacted: the credentials are checked first. (A full BingX cycle against the
  // simulator is bingx_serve_test.)
  ::unsetenv("DITA_V2_BINGX_API_KEY");
  ::unsetenv("DITA_V2_BINGX_API_SECRET");
  ::unsetenv("DITA_V2_BINGX_KEY_FILE");
  const Result r = run_dita(
      {"serve", "--instance", instance_, "--journal", journal_.string(), "--venue", "bingx"});
  EXPECT_EQ(r.code, 2) << describe(r);
  EXPECT_NE(r.err.find("DITA_V2_BINGX_API_KEY"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(journal_));
}

TEST_F(ServeTest, MarketOrdersFillAtTheMockMarkGivenAtStart) {
  start_server({"--mark", "BTC-USDT=60000"});
  const Result entered = intent({"--wait", "enter", "--slot", "0", "--asset", "BTC-USDT", "--side",
                                 "SHORT", "--size", "0.01"});
  ASSERT_EQ(entered.code, 0) << describe(entered);
  json s = status();
  EXPECT_EQ(s["slots"][0]["stage"], "POSITION_OPEN") << s.dump(1) << server_log();
  EXPECT_EQ(s["slots"][0]["entry_price"], "60000");
  EXPECT_EQ(s["slots"][0]["mark_price"], "60000");
  EXPECT_EQ(stop_server(SIGTERM), 0) << server_log();
}

TEST_F(ServeTest, ABadMarkIsRefusedByName) {
  for (const char* bad : {"BTC-USDT", "BTC-USDT=0", "btc=1", "BTC-USDT=abc"}) {
    const Result r =
        run_dita({"serve", "--instance", instance_, "--journal", journal_.string(), "--mark", bad});
    EXPECT_EQ(r.code, 2) << bad << ": " << describe(r);
    EXPECT_NE(r.err.find("--mark"), std::string::npos) << r.err;
  }
  EXPECT_FALSE(std::filesystem::exists(journal_));
}

TEST(StateLayout, CAndCppSeeTheSamePayloadLayout) {
  EXPECT_EQ(dita_state_c_image_size(), sizeof(dita::runtime::StateImage));
  EXPECT_EQ(dita_state_c_intent_size(), sizeof(dita::runtime::IntentRecord));
  EXPECT_EQ(dita_state_c_slots_offset(), offsetof(dita::runtime::StateImage, slots));
  const auto queued = dita::runtime::parse_queue_intent_id(dita::runtime::make_intent_id(17, 42));
  ASSERT_TRUE(queued.has_value());
  EXPECT_EQ(queued->producer_id, 17U);
  EXPECT_EQ(queued->seq, 42U);
}

TEST_F(ServeTest, AStateRegionOfAnotherLayoutVersionIsRefusedByName) {
  // What a build with state layout version 2 (a 65,920-byte image) leaves in /dev/shm.
  struct LayoutVersion2Image {
    unsigned char bytes[65920];
  };
  static_assert(sizeof(LayoutVersion2Image) != sizeof(dita::runtime::StateImage));
  {
    auto old = dita::zinc::SnapshotWriter<LayoutVersion2Image>::create(instance_);
    ASSERT_TRUE(old.has_value()) << old.error().describe();
  }  // closed: a new server may take the region over, if only it had the same sizes
  const Result r = run_dita({"serve", "--instance", instance_, "--journal", journal_.string()});
  EXPECT_EQ(r.code, 1) << describe(r);
  EXPECT_NE(r.err.find("SIZE_MISMATCH"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("another layout version"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("remove it from /dev/shm"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(journal_)) << "refused before the journal is touched";
}

TEST_F(ServeTest, StatusOfAnInstanceThatWasNeverServedFails) {
  const Result r = run_dita({"status", "--instance", instance_});
  EXPECT_EQ(r.code, 1) << describe(r);
  EXPECT_NE(r.err.find("NOT_FOUND"), std::string::npos) << r.err;
}

}  // namespace
