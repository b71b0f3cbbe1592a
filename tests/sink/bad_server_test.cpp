// The ClickHouse writer and the pipeline against a fake HTTP server on loopback that
// misbehaves on purpose: 5xx, garbage, connections cut mid-request and mid-response, silence.
// Every failure must surface as a typed error, and the pipeline must still deliver every row.
// Also the pipeline's own guarantees that need no real server: its kernel replica spools
// exactly what a direct projection of the kernel gives (through the ring's overflow path
// too), an unpublished input is reported as a divergence, and flush() does not linger.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "dita/sink/clickhouse_writer.hpp"
#include "dita/sink/pipeline.hpp"
#include "dita/sink/spool.hpp"
#include "sink/server_harness.hpp"
#include "sink/sink_session.hpp"

namespace dita::sink {
namespace {

enum class Behaviour {
  kOk,
  kStatus500,
  kStatus400,
  kGarbage,
  kCloseMidRequest,
  kCloseMidResponse,
  kSilence
};

class FakeHttpServer {
 public:
  FakeHttpServer() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    ::listen(listen_fd_, 16);
    socklen_t length = sizeof(address);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeHttpServer() {
    stop_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    ::close(listen_fd_);
    thread_.join();
  }
  void script(std::initializer_list<Behaviour> behaviours) {
    std::lock_guard lock(mutex_);
    script_.insert(script_.end(), behaviours);
  }
  std::uint16_t port() const { return port_; }
  std::vector<std::string> accepted_bodies() {
    std::lock_guard lock(mutex_);
    return bodies_;
  }
  int requests() const { return requests_.load(); }

 private:
  Behaviour next() {
    std::lock_guard lock(mutex_);
    if (script_.empty()) return Behaviour::kOk;
    const Behaviour behaviour = script_.front();
    script_.pop_front();
    return behaviour;
  }
  static bool send_text(int fd, std::string_view text) {
    return ::send(fd, text.data(), text.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(text.size());
  }
  void serve() {
    while (!stop_) {
      pollfd pfd{listen_fd_, POLLIN, 0};
      if (::poll(&pfd, 1, 100) <= 0) continue;
      const int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      handle(fd);
      ::close(fd);
    }
  }
  // Serves requests on one connection until it closes or a behaviour cuts it.
  void handle(int fd) {
    std::string buffer;
    char chunk[65536];
    while (!stop_) {
      std::size_t header_end;
      while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos) {
        pollfd pfd{fd, POLLIN, 0};
        if (::poll(&pfd, 1, 100) <= 0) {
          if (stop_) return;
          continue;
        }
        const ssize_t got = ::recv(fd, chunk, sizeof(chunk), 0);
        if (got <= 0) return;
        buffer.append(chunk, static_cast<std::size_t>(got));
      }
      std::size_t content_length = 0;
      const auto at = buffer.find("Content-Length: ");
      if (at != std::string::npos && at < header_end) {
        content_length = std::stoul(buffer.substr(at + 16, 20));
      }
      ++requests_;
      const Behaviour behaviour = next();
      const std::size_t wanted =
          behaviour == Behaviour::kCloseMidRequest ? content_length / 2 : content_length;
      while (buffer.size() < header_end + 4 + wanted) {
        const ssize_t got = ::recv(fd, chunk, sizeof(chunk), 0);
        if (got <= 0) return;
        buffer.append(chunk, static_cast<std::size_t>(got));
      }
      const std::string body = buffer.substr(header_end + 4, content_length);
      buffer.erase(0, std::min(buffer.size(), header_end + 4 + content_length));
      switch (behaviour) {
        case Behaviour::kOk: {
          {
            std::lock_guard lock(mutex_);
            bodies_.push_back(body);
          }
          if (!send_text(fd, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")) return;
          continue;
        }
        case Behaviour::kStatus500: {
          const std::string text = "Code: 999, e.displayText() = DB::Exception: fake failure";
          send_text(fd, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: " +
                            std::to_string(text.size()) + "\r\n\r\n" + text);
          continue;
        }
        case Behaviour::kStatus400: {
          const std::string text = "Code: 62, e.displayText() = DB::Exception: Syntax error";
          send_text(fd, "HTTP/1.1 400 Bad Request\r\nContent-Length: " +
                            std::to_string(text.size()) + "\r\n\r\n" + text);
          continue;
        }
        case Behaviour::kGarbage:
          send_text(fd, "\x01\x02garbage that is not HTTP\r\n\r\n");
          return;
        case Behaviour::kCloseMidRequest:
          return;
        case Behaviour::kCloseMidResponse:
          send_text(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial");
          return;
        case Behaviour::kSilence:
          std::this_thread::sleep_for(std::chrono::milliseconds(700));
          return;
      }
    }
  }

  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::mutex mutex_;
  std::deque<Behaviour> script_;
  std::vector<std::string> bodies_;
  std::thread thread_;
};

// A pipeline for strategy `name` spooling under `spool` (its Hazelcast names follow the name).
PipelineConfig pipeline_config(const std::string& name, const std::string& spool) {
  PipelineConfig config;
  config.projection.strategy = name;
  config.projection.names = HazelcastNames::for_strategy(name);
  config.spool_dir = spool;
  return config;
}

clickhouse::WriterConfig writer_config(std::uint16_t port) {
  clickhouse::WriterConfig config;
  config.port = port;
  config.connect_timeout = std::chrono::milliseconds(500);
  config.request_timeout = std::chrono::milliseconds(400);
  return config;
}

constexpr std::array<std::string_view, 1> kColumns = {"row_id"};
constexpr std::string_view kBody = "{\"row_id\":\"x\"}\n";

TEST(ClickHouseWriterBadServer, EachMisbehaviourBecomesItsTypedError) {
  FakeHttpServer server;
  clickhouse::Writer writer(writer_config(server.port()));
  server.script({Behaviour::kStatus500, Behaviour::kStatus400, Behaviour::kGarbage,
                 Behaviour::kCloseMidRequest, Behaviour::kCloseMidResponse, Behaviour::kSilence});
  auto status500 = writer.insert_json_each_row("t", kColumns, kBody);
  ASSERT_FALSE(status500);
  EXPECT_EQ(status500.error().code, clickhouse::ErrorCode::kHttpStatus);
  EXPECT_EQ(status500.error().http_status, 500);
  EXPECT_EQ(status500.error().server_code, 999);
  EXPECT_NE(status500.error().message.find("fake failure"), std::string::npos);
  EXPECT_FALSE(status500.error().is_permanent());

  auto status400 = writer.insert_json_each_row("t", kColumns, kBody);
  ASSERT_FALSE(status400);
  EXPECT_EQ(status400.error().server_code, 62);
  EXPECT_TRUE(status400.error().is_permanent());

  auto garbage = writer.insert_json_each_row("t", kColumns, kBody);
  ASSERT_FALSE(garbage);
  EXPECT_EQ(garbage.error().code, clickhouse::ErrorCode::kProtocol) << garbage.error().describe();

  auto cut_request = writer.insert_json_each_row("t", kColumns, std::string(200'000, ' ') + "\n");
  ASSERT_FALSE(cut_request);
  EXPECT_EQ(cut_request.error().code, clickhouse::ErrorCode::kConnectionLost)
      << cut_request.error().describe();

  auto cut_response = writer.insert_json_each_row("t", kColumns, kBody);
  ASSERT_FALSE(cut_response);
  EXPECT_EQ(cut_response.error().code, clickhouse::ErrorCode::kConnectionLost)
      << cut_response.error().describe();

  auto silence = writer.insert_json_each_row("t", kColumns, kBody);
  ASSERT_FALSE(silence);
  EXPECT_EQ(silence.error().code, clickhouse::ErrorCode::kTimeout) << silence.error().describe();

  // The same writer recovers on a fresh connection.
  EXPECT_TRUE(writer.insert_json_each_row("t", kColumns, kBody));
  ASSERT_EQ(server.accepted_bodies().size(), 1U);
  EXPECT_EQ(server.accepted_bodies()[0], kBody);
}

TEST(ClickHouseWriterBadServer, RefusedConnectionAndBadArgumentsAreTyped) {
  std::uint16_t closed_port = 0;
  {
    FakeHttpServer server;
    closed_port = server.port();
  }
  clickhouse::Writer writer(writer_config(closed_port));
  auto refused = writer.insert_json_each_row("t", kColumns, kBody);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, clickhouse::ErrorCode::kConnectFailed);
  auto no_newline = writer.insert_json_each_row("t", kColumns, "{}");
  ASSERT_FALSE(no_newline);
  EXPECT_EQ(no_newline.error().code, clickhouse::ErrorCode::kInvalidArgument);
}

TEST(PipelineBadServer, EveryRowArrivesDespiteFailuresAndPartialWrites) {
  FakeHttpServer server;
  server.script({Behaviour::kStatus500, Behaviour::kGarbage, Behaviour::kCloseMidRequest,
                 Behaviour::kCloseMidResponse, Behaviour::kStatus500, Behaviour::kStatus500});
  testing::TempDir spool("dita-pipe-bad");
  core::Kernel kernel = testing::session_kernel();
  PipelineConfig config = pipeline_config("bad", spool.path());
  config.projection.mode = core::KernelMode::kDebug;
  config.clickhouse.enabled = true;
  config.clickhouse.writer = writer_config(server.port());
  config.clickhouse.max_batch_rows = 50;
  config.retry_initial = std::chrono::milliseconds(5);
  config.retry_max = std::chrono::milliseconds(20);
  auto pipeline = SinkPipeline::create(config, kernel, 0);
  ASSERT_TRUE(pipeline.has_value()) << pipeline.error();

  // The rows an independent projection expects.
  core::Kernel twin = testing::session_kernel();
  Projector projector(config.projection, twin);
  const auto inputs = testing::session_inputs(6);
  const Projection expected = testing::project_all(twin, projector, inputs);

  core::KernelOutcome outcome;
  bool saw_failure = false;
  for (const auto& input : inputs) {
    kernel.process(input, outcome);
    (*pipeline)->publish(input, outcome);
    saw_failure = saw_failure || (*pipeline)->health().sinks[0].failures > 0;
  }
  ASSERT_TRUE((*pipeline)->flush(std::chrono::seconds(30)));
  const PipelineHealth health = (*pipeline)->health();
  EXPECT_EQ(health.sinks[0].failures, 6U);
  EXPECT_EQ(health.sinks[0].state, SinkState::kUp);
  EXPECT_EQ(health.sinks[0].spool_depth, 0U);
  (*pipeline)->stop();

  std::multiset<std::string> received;
  for (const auto& body : server.accepted_bodies()) {
    testing::for_each_row_id(body, [&](std::string id) { received.insert(std::move(id)); });
  }
  const std::set<std::string> unique(received.begin(), received.end());
  EXPECT_EQ(unique, testing::row_ids(expected.rows));
  // Only the failed-but-maybe-applied batches may repeat; the tables dedup them by row_id.
  EXPECT_GE(received.size(), expected.rows.size());
}

TEST(PipelineBadServer, HealthGoesDownWhileTheServerFailsAndRecordsKeepSpooling) {
  std::uint16_t closed_port = 0;
  {
    FakeHttpServer server;
    closed_port = server.port();
  }
  testing::TempDir spool("dita-pipe-down");
  core::Kernel kernel = testing::session_kernel();
  PipelineConfig config = pipeline_config("down", spool.path());
  config.clickhouse.enabled = true;
  config.clickhouse.writer = writer_config(closed_port);
  config.retry_initial = std::chrono::milliseconds(2);
  config.retry_max = std::chrono::milliseconds(5);
  auto pipeline = SinkPipeline::create(config, kernel, 0);
  ASSERT_TRUE(pipeline.has_value());
  core::KernelOutcome outcome;
  for (const auto& input : testing::session_inputs(4)) {
    kernel.process(input, outcome);
    (*pipeline)->publish(input, outcome);
  }
  EXPECT_FALSE((*pipeline)->flush(std::chrono::milliseconds(300)));
  const PipelineHealth health = (*pipeline)->health();
  EXPECT_EQ(health.sinks[0].state, SinkState::kDown);
  EXPECT_NE(health.sinks[0].last_error.find("CONNECT_FAILED"), std::string::npos);
  EXPECT_GT(health.sinks[0].spool_depth, 0U);
  EXPECT_EQ(health.sinks[1].state, SinkState::kDisabled);
  EXPECT_EQ(health.queued, 0U);
}

std::uint16_t closed_port() {
  FakeHttpServer server;
  return server.port();
}

// The spool payload lines the pipeline writes for one projection (see SinkPipeline).
std::string clickhouse_lines(const Projection& projection) {
  std::string out;
  for (const Row& row : projection.rows) {
    out += static_cast<char>('A' + static_cast<int>(row.table));
    out += row.json + '\n';
  }
  return out;
}
std::string hazelcast_lines(const Projection& projection) {
  std::string out;
  for (const HazelcastOp& op : projection.hazelcast) {
    out += static_cast<char>('0' + static_cast<int>(op.kind));
    out += '\t' + op.name + '\t' + op.key + '\t' + op.value + '\n';
  }
  return out;
}

// Kernel input seq -> payload of every record in the spool at `dir` with a non-zero tag.
std::map<std::uint64_t, std::string> spooled_by_input(const std::filesystem::path& dir) {
  auto spool = spool::Spool::open({dir, 64ULL * 1024 * 1024});
  EXPECT_TRUE(spool.has_value());
  std::map<std::uint64_t, std::string> out;
  if (!spool) return out;
  std::vector<spool::SpoolRecord> records;
  while (true) {
    auto got = (*spool)->read(256, 16U * 1024U * 1024U, records);
    if (!got || *got == 0) break;
  }
  std::uint64_t previous = 0;
  for (const auto& record : records) {
    if (record.tag == 0) continue;  // start snapshot, control changes
    EXPECT_GT(record.tag, previous) << "records out of input order";
    previous = record.tag;
    out[record.tag] = record.payload;
  }
  return out;
}

TEST(PipelineReplica, SpoolsExactlyWhatADirectProjectionOfTheKernelGivesEvenThroughOverflow) {
  testing::TempDir spool("dita-pipe-replica");
  core::Kernel kernel = testing::session_kernel();
  PipelineConfig config = pipeline_config("replica", spool.path());
  config.projection.mode = core::KernelMode::kDebug;
  config.queue_capacity = 2;  // the kernel thread takes the overflow path most of the time
  const std::uint16_t nobody = closed_port();
  config.clickhouse.enabled = true;
  config.clickhouse.writer = writer_config(nobody);
  config.hazelcast.enabled = true;
  config.hazelcast.client.port = nobody;
  config.hazelcast.client.connect_timeout = std::chrono::milliseconds(200);
  config.retry_initial = std::chrono::milliseconds(50);
  config.retry_max = std::chrono::milliseconds(50);
  auto pipeline = SinkPipeline::create(config, kernel, 0);
  ASSERT_TRUE(pipeline.has_value()) << pipeline.error();

  // Expected: the projection of the kernel's own outcomes and slot images, input by input.
  core::Kernel twin = testing::session_kernel();
  Projector projector(config.projection, twin);
  std::map<std::uint64_t, std::string> want_clickhouse;
  std::map<std::uint64_t, std::string> want_hazelcast;
  core::KernelOutcome outcome;
  core::KernelOutcome twin_outcome;
  for (const auto& input : testing::session_inputs(12)) {
    kernel.process(input, outcome);
    (*pipeline)->publish(input, outcome);
    twin.process(input, twin_outcome);
    Projection one;
    projector.project(input, twin_outcome, twin, one);
    if (!one.rows.empty()) want_clickhouse[twin_outcome.input_seq] = clickhouse_lines(one);
    if (!one.hazelcast.empty()) want_hazelcast[twin_outcome.input_seq] = hazelcast_lines(one);
  }
  (*pipeline)->stop();
  const PipelineHealth health = (*pipeline)->health();
  EXPECT_EQ(health.projection_error, "");
  EXPECT_EQ(health.queued, 0U);
  EXPECT_EQ(health.published, kernel.inputs_processed());
  pipeline->reset();  // releases the spools' locks

  ASSERT_FALSE(want_clickhouse.empty());
  EXPECT_EQ(spooled_by_input(std::filesystem::path(spool.path()) / "clickhouse"), want_clickhouse);
  EXPECT_EQ(spooled_by_input(std::filesystem::path(spool.path()) / "hazelcast"), want_hazelcast);
}

TEST(PipelineReplica, AnInputProcessedButNotPublishedIsReportedAsADivergence) {
  FakeHttpServer server;
  testing::TempDir spool("dita-pipe-diverge");
  core::Kernel kernel = testing::session_kernel();
  PipelineConfig config = pipeline_config("diverge", spool.path());
  config.clickhouse.enabled = true;
  config.clickhouse.writer = writer_config(server.port());
  auto pipeline = SinkPipeline::create(config, kernel, 0);
  ASSERT_TRUE(pipeline.has_value()) << pipeline.error();
  const auto inputs = testing::session_inputs(1);
  ASSERT_GE(inputs.size(), 3U);
  core::KernelOutcome outcome;
  kernel.process(inputs[0], outcome);
  (*pipeline)->publish(inputs[0], outcome);
  ASSERT_TRUE((*pipeline)->flush(std::chrono::seconds(20)));
  EXPECT_EQ((*pipeline)->health().projection_error, "");

  kernel.process(inputs[1], outcome);  // the runtime "forgets" to publish this one
  kernel.process(inputs[2], outcome);
  (*pipeline)->publish(inputs[2], outcome);
  ASSERT_TRUE((*pipeline)->flush(std::chrono::seconds(20)));
  const PipelineHealth health = (*pipeline)->health();
  EXPECT_NE(health.projection_error.find("diverged from the kernel at input 3"), std::string::npos)
      << health.projection_error;
  // Status shows it on the sink, which is no longer reported UP.
  EXPECT_EQ(health.sinks[0].last_error, health.projection_error);
  EXPECT_EQ(health.sinks[0].state, SinkState::kDegraded);
}

TEST(PipelineLinger, FlushDeliversAtOnceInsteadOfWaitingForAFullerBatch) {
  FakeHttpServer server;
  testing::TempDir spool("dita-pipe-linger");
  core::Kernel kernel = testing::session_kernel();
  PipelineConfig config = pipeline_config("linger", spool.path());
  config.clickhouse.enabled = true;
  config.clickhouse.writer = writer_config(server.port());
  config.clickhouse.linger = std::chrono::minutes(10);
  auto pipeline = SinkPipeline::create(config, kernel, 0);
  ASSERT_TRUE(pipeline.has_value()) << pipeline.error();
  core::Kernel twin = testing::session_kernel();
  Projector projector(config.projection, twin);
  const auto inputs = testing::session_inputs(2);
  const Projection expected = testing::project_all(twin, projector, inputs);
  core::KernelOutcome outcome;
  for (const auto& input : inputs) {
    kernel.process(input, outcome);
    (*pipeline)->publish(input, outcome);
  }
  // Far less than the linger: only returns true if flush() cut the wait short.
  ASSERT_TRUE((*pipeline)->flush(std::chrono::seconds(30)));
  // A true flush() means delivered *and counted*: health has every row already.
  EXPECT_EQ((*pipeline)->health().sinks[0].delivered_items, expected.rows.size());
  EXPECT_FALSE(server.accepted_bodies().empty());
}

// name -> Cpus_allowed_list of this process's threads.
std::map<std::string, std::string> thread_cpus_by_name() {
  std::map<std::string, std::string> out;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    std::getline(comm, name);
    std::ifstream status(task.path() / "status");
    for (std::string line; std::getline(status, line);) {
      if (line.starts_with("Cpus_allowed_list:")) {
        out[name] = line.substr(line.find_first_not_of(" \t", 18));
      }
    }
  }
  return out;
}

TEST(PipelineThreads, AreNamedAndPinnedToTheConfiguredCpus) {
  testing::TempDir spool("dita-pipe-pin");
  core::Kernel kernel = testing::session_kernel();
  PipelineConfig config = pipeline_config("pin", spool.path());
  config.clickhouse.enabled = true;
  config.clickhouse.writer = writer_config(closed_port());
  config.thread_cpus = {0};
  auto pipeline = SinkPipeline::create(config, kernel, 0);
  ASSERT_TRUE(pipeline.has_value()) << pipeline.error();
  // The threads name and pin themselves as they start: wait for both to show.
  std::map<std::string, std::string> threads;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    threads = thread_cpus_by_name();
    if (threads["dita-spool"] == "0" && threads["dita-clickhouse"] == "0") break;
    std::this_thread::yield();
  }
  EXPECT_EQ(threads["dita-spool"], "0");
  EXPECT_EQ(threads["dita-clickhouse"], "0");
  EXPECT_EQ(threads.count("dita-hazelcast"), 0U);  // not enabled, not started
}

TEST(PipelineThreads, ACpuTheProcessCannotUseRefusesTheStart) {
  testing::TempDir spool("dita-pipe-badcpu");
  core::Kernel kernel = testing::session_kernel();
  PipelineConfig config = pipeline_config("badcpu", spool.path());
  config.thread_cpus = {0, 1023};  // no test machine has 1024 CPUs
  auto unavailable = SinkPipeline::create(config, kernel, 0);
  ASSERT_FALSE(unavailable.has_value());
  EXPECT_NE(unavailable.error().find("CPU 1023 is not available"), std::string::npos)
      << unavailable.error();
  config.thread_cpus = {100000};
  auto out_of_range = SinkPipeline::create(config, kernel, 0);
  ASSERT_FALSE(out_of_range.has_value());
  EXPECT_NE(out_of_range.error().find("out of range"), std::string::npos) << out_of_range.error();
}

}  // namespace
}  // namespace dita::sink
