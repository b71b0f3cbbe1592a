// Sink benchmarks (Release build; bench/sink/run-sink-bench starts the servers):
//   sink_bench clickhouse HOST:PORT            rows/s through clickhouse::Writer (batched)
//   sink_bench pipeline-clickhouse HOST:PORT   rows/s end to end: publish -> spool -> ClickHouse
//   sink_bench hazelcast HOST:PORT CLUSTER     map entries/s via putAll batches and single sets
//   sink_bench latency CH_HOST:PORT HZ_HOST:PORT CLUSTER [KERNEL_CPU SINK_CPU]
//        kernel-thread time per input (process + publish, and the serve loop's process +
//        journal + publish) with sinks off / on / slow (hanging) / down, and a DITA-free
//        control (ctrl); SINK_BENCH_SCENARIO=TEXT runs only the scenarios whose title has TEXT
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "dita/codec/json_codec.hpp"
#include "dita/journal/journal.hpp"
#include "dita/sink/pipeline.hpp"
#include "sink/sink_session.hpp"

namespace {

using namespace dita;
using Clock = std::chrono::steady_clock;

std::pair<std::string, std::uint16_t> split_address(const std::string& address) {
  const auto colon = address.rfind(':');
  return {address.substr(0, colon),
          static_cast<std::uint16_t>(std::stoi(address.substr(colon + 1)))};
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// DEBUG-mode rows of a long session, re-keyed per copy so every row id is distinct.
std::map<sink::Table, std::vector<std::string>> bench_rows(std::size_t wanted) {
  core::Kernel kernel = sink::testing::session_kernel();
  sink::ProjectionConfig config;
  config.strategy = "bench";
  config.mode = core::KernelMode::kDebug;
  sink::Projector projector(config, kernel);
  const sink::Projection all =
      sink::testing::project_all(kernel, projector, sink::testing::session_inputs(200));
  std::map<sink::Table, std::vector<std::string>> rows;
  std::size_t count = 0;
  for (int copy = 0; count < wanted; ++copy) {
    const std::string tag = "bench" + std::to_string(copy) + ":";
    for (const auto& row : all.rows) {
      std::string json = row.json;
      json.replace(json.find("\"bench:"), 7, "\"" + tag);
      rows[row.table].push_back(std::move(json));
      if (++count == wanted) break;
    }
  }
  return rows;
}

int bench_clickhouse(const std::string& address) {
  const auto [host, port] = split_address(address);
  sink::clickhouse::WriterConfig config;
  config.host = host;
  config.port = port;
  config.request_timeout = std::chrono::seconds(120);
  sink::clickhouse::Writer writer(config);
  constexpr std::size_t kRows = 1'000'000;
  const auto rows = bench_rows(kRows);
  for (const std::size_t batch : {1'000UL, 10'000UL, 50'000UL}) {
    std::vector<std::pair<sink::Table, std::string>> bodies;
    std::size_t body_bytes = 0;
    for (const auto& [table, lines] : rows) {
      for (std::size_t i = 0; i < lines.size(); i += batch) {
        std::string body;
        for (std::size_t j = i; j < std::min(lines.size(), i + batch); ++j) {
          body += lines[j];
          body += '\n';
        }
        body_bytes += body.size();
        bodies.emplace_back(table, std::move(body));
      }
    }
    (void)writer.query("TRUNCATE TABLE IF EXISTS dita.kernel_inputs");
    const auto start = Clock::now();
    for (const auto& [table, body] : bodies) {
      auto inserted =
          writer.insert_json_each_row(sink::table_name(table), sink::table_columns(table), body);
      if (!inserted) {
        std::fprintf(stderr, "insert failed: %s\n", inserted.error().describe().c_str());
        return 1;
      }
    }
    const double elapsed = seconds_since(start);
    std::printf(
        "clickhouse writer: batch %6zu rows: %zu rows (%.0f MB) in %.2f s = %.0f rows/s "
        "(%zu requests)\n",
        batch, kRows, static_cast<double>(body_bytes) / 1e6, elapsed,
        static_cast<double>(kRows) / elapsed, bodies.size());
  }
  return 0;
}

int bench_pipeline_clickhouse(const std::string& address) {
  const auto [host, port] = split_address(address);
  char spool_template[] = "/tmp/dita-sink-bench-XXXXXX";
  const std::string spool = ::mkdtemp(spool_template);
  sink::PipelineConfig config;
  config.projection.strategy = "pipebench";
  config.projection.mode = core::KernelMode::kDebug;
  config.spool_dir = spool;
  config.clickhouse.enabled = true;
  config.clickhouse.writer.host = host;
  config.clickhouse.writer.port = port;
  config.clickhouse.max_batch_rows = 50'000;
  core::Kernel kernel = sink::testing::session_kernel();
  auto pipeline = sink::SinkPipeline::create(config, kernel, 0);
  if (!pipeline) return std::fprintf(stderr, "%s\n", pipeline.error().c_str()), 1;
  const auto inputs = sink::testing::session_inputs(8'000);
  core::KernelOutcome outcome;
  const auto start = Clock::now();
  for (const auto& input : inputs) {
    kernel.process(input, outcome);
    (*pipeline)->publish(input, outcome);
  }
  const double publish_s = seconds_since(start);
  const bool flushed = (*pipeline)->flush(std::chrono::seconds(300));
  const double elapsed = seconds_since(start);
  const auto health = (*pipeline)->health();
  const auto rows = health.sinks[0].delivered_items;
  std::printf(
      "pipeline -> clickhouse (DEBUG rows): %zu inputs, %llu rows delivered in %.2f s = "
      "%.0f rows/s end to end (publish loop %.2f s, flushed=%d, overflows=%llu)\n",
      inputs.size(), static_cast<unsigned long long>(rows), elapsed,
      static_cast<double>(rows) / elapsed, publish_s, flushed ? 1 : 0,
      static_cast<unsigned long long>(health.overflow_publishes));
  (*pipeline)->stop();
  (void)std::system(("rm -rf " + spool).c_str());
  return flushed ? 0 : 1;
}

int bench_hazelcast(const std::string& address, const std::string& cluster) {
  const auto [host, port] = split_address(address);
  sink::hazelcast::ClientConfig config;
  config.host = host;
  config.port = port;
  config.cluster_name = cluster;
  config.call_timeout = std::chrono::seconds(30);
  sink::hazelcast::Client client(config);
  if (auto connected = client.connect(); !connected) {
    std::fprintf(stderr, "connect: %s\n", connected.error().describe().c_str());
    return 1;
  }
  core::Kernel kernel = sink::testing::session_kernel();
  core::KernelOutcome outcome;
  for (const auto& input : sink::testing::session_inputs(3)) kernel.process(input, outcome);
  const std::string value = codec::canonical(codec::to_json(kernel.slot(0), {"dita"}));
  for (const std::size_t batch : {100UL, 1'000UL, 5'000UL}) {
    constexpr std::size_t kEntries = 200'000;
    std::vector<sink::hazelcast::MapEntry> entries;
    const auto start = Clock::now();
    for (std::size_t i = 0; i < kEntries; ++i) {
      entries.push_back({std::to_string(i % 20'000), {value}});
      if (entries.size() == batch) {
        if (auto put = client.map_put_all("DITA_BENCH", entries); !put) {
          std::fprintf(stderr, "putAll: %s\n", put.error().describe().c_str());
          return 1;
        }
        entries.clear();
      }
    }
    const double elapsed = seconds_since(start);
    std::printf(
        "hazelcast putAll: batch %5zu: %zu entries (%zu-byte JSON) in %.2f s = %.0f "
        "sets/s\n",
        batch, kEntries, value.size(), elapsed, static_cast<double>(kEntries) / elapsed);
  }
  constexpr std::size_t kSingles = 20'000;
  const auto start = Clock::now();
  for (std::size_t i = 0; i < kSingles; ++i) {
    if (auto set = client.map_set("DITA_BENCH", std::to_string(i), {value}); !set) return 1;
  }
  const double elapsed = seconds_since(start);
  std::printf("hazelcast map_set (one round trip each): %zu in %.2f s = %.0f sets/s\n", kSingles,
              elapsed, static_cast<double>(kSingles) / elapsed);
  return 0;
}

struct Percentiles {
  double p50, p99, p999, mean;
};

Percentiles percentiles(std::vector<std::int64_t> samples) {
  std::sort(samples.begin(), samples.end());
  double sum = 0;
  for (auto s : samples) sum += static_cast<double>(s);
  const auto at = [&](double q) {
    return static_cast<double>(
        samples[static_cast<std::size_t>(q * static_cast<double>(samples.size() - 1))]);
  };
  return {at(0.5), at(0.99), at(0.999), sum / static_cast<double>(samples.size())};
}

// Kernel-thread nanoseconds per input, whole and by part (each part is timed by its own
// steady_clock reads, ~17 ns each, so the parts add up to a little more than the whole).
struct LoopSamples {
  std::vector<std::int64_t> total;
  std::vector<std::int64_t> process;        // Kernel::process
  std::vector<std::int64_t> encode;         // encoding the input and outcome for the journal
  std::vector<std::int64_t> journal_write;  // JournalWriter append x2 + commit (pwrite)
  std::vector<std::int64_t> publish;        // SinkPipeline::publish
};

// Interrupts CPU `cpu` has taken so far, by /proc/interrupts row: TLB shootdowns, function
// call and rescheduling IPIs, local timer. Tells whether other threads of this process reach
// the kernel thread's CPU through interrupts. Empty when `cpu` < 0 (unpinned).
std::map<std::string, std::uint64_t> cpu_interrupts(int cpu) {
  std::map<std::string, std::uint64_t> counts;
  if (cpu < 0) return counts;
  std::FILE* file = std::fopen("/proc/interrupts", "r");
  if (file == nullptr) return counts;
  char line[4096];
  while (std::fgets(line, sizeof(line), file) != nullptr) {
    const std::string_view text(line);
    const auto colon = text.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name(text.substr(0, colon));
    name.erase(0, name.find_first_not_of(' '));
    if (name != "TLB" && name != "CAL" && name != "RES" && name != "LOC") continue;
    const char* cursor = line + colon + 1;
    for (int column = 0; column <= cpu; ++column) {
      char* end = nullptr;
      const unsigned long long value = std::strtoull(cursor, &end, 10);
      if (end == cursor) break;
      if (column == cpu) counts[name] = value;
      cursor = end;
    }
  }
  std::fclose(file);
  return counts;
}

std::int64_t nanos_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(to - from).count();
}

// Kernel-thread time per input: process() alone (off) or process() + publish().
// `rate` > 0 paces the inputs (inputs per second, spinning between them) like a live feed;
// 0 runs them back to back.
// With `journal`, each input is also encoded and committed to the journal as `dita serve`
// does before anything else sees it (runtime::Session), so the figure is the serve loop's
// kernel-thread cost per input rather than the bare kernel's.
void run_latency(const std::vector<core::KernelInput>& inputs, sink::SinkPipeline* pipeline,
                 double rate, journal::JournalWriter* journal, LoopSamples& out) {
  const codec::CodecContext context{};
  core::Kernel kernel = sink::testing::session_kernel();
  core::KernelOutcome outcome;
  outcome.reserve(kernel.slot_count());
  for (auto* samples : {&out.total, &out.process, &out.encode, &out.journal_write, &out.publish}) {
    samples->reserve(samples->size() + inputs.size());
  }
  const auto begin = Clock::now();
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const auto& input = inputs[i];
    if (rate > 0) {
      const auto due = begin + std::chrono::nanoseconds(
                                   static_cast<std::int64_t>(static_cast<double>(i) * 1e9 / rate));
      while (Clock::now() < due) {
      }
    }
    const auto start = Clock::now();
    kernel.process(input, outcome);
    const auto processed = Clock::now();
    if (journal != nullptr) {
      const std::string input_bytes = codec::encode_input(input, context);
      const std::string outcome_bytes = codec::encode_outcome(outcome, context);
      const auto encoded = Clock::now();
      (void)journal->append(journal::RecordType::kInput, input_bytes);
      (void)journal->append(journal::RecordType::kOutput, outcome_bytes);
      (void)journal->commit();
      out.encode.push_back(nanos_between(processed, encoded));
      out.journal_write.push_back(nanos_between(encoded, Clock::now()));
    }
    const auto before_publish = Clock::now();
    if (pipeline != nullptr) pipeline->publish(input, outcome);
    const auto end = Clock::now();
    out.total.push_back(nanos_between(start, end));
    out.process.push_back(nanos_between(start, processed));
    out.publish.push_back(nanos_between(before_publish, end));
  }
}

// The DITA-free control: a thread on the sinks' CPU that, like the spool thread, wakes up
// now and then and does a kernel's worth of work (its own kernel, its own inputs), with no
// pipeline at all. Whatever it costs the kernel thread is this machine's price for bursty
// work on the other CPU, not something the pipeline hands to the kernel thread.
class BurstyNeighbour {
 public:
  BurstyNeighbour(const std::vector<core::KernelInput>& inputs, int cpu)
      : thread_([this, &inputs, cpu] {
          if (cpu >= 0) {
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(static_cast<std::size_t>(cpu), &set);
            (void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
          }
          core::Kernel kernel = sink::testing::session_kernel();
          core::KernelOutcome outcome;
          for (std::size_t i = 0; !stop_.load(); ++i) {
            kernel.process(inputs[i % inputs.size()], outcome);
            std::this_thread::sleep_for(std::chrono::microseconds(500));
          }
        }) {}
  ~BurstyNeighbour() {
    stop_ = true;
    thread_.join();
  }
  BurstyNeighbour(const BurstyNeighbour&) = delete;
  BurstyNeighbour& operator=(const BurstyNeighbour&) = delete;

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// A loopback listener that never accepts: connections complete into its backlog and every
// request waits for an answer that never comes. A sink that is up but hangs.
class BlackHole {
 public:
  BlackHole() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    (void)::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    (void)::listen(fd_, 128);
    socklen_t length = sizeof(address);
    (void)::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }
  ~BlackHole() { ::close(fd_); }
  BlackHole(const BlackHole&) = delete;
  BlackHole& operator=(const BlackHole&) = delete;
  [[nodiscard]] std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

// kControl: sinks off, plus a BurstyNeighbour on the sinks' CPU.
enum class SinkMode { kOff, kOn, kSlow, kDown, kControl };
constexpr std::array kModes = {SinkMode::kOff, SinkMode::kOn, SinkMode::kSlow, SinkMode::kDown,
                               SinkMode::kControl};
const char* mode_name(SinkMode mode) {
  switch (mode) {
    case SinkMode::kControl:
      return "ctrl";
    case SinkMode::kOff:
      return "off";
    case SinkMode::kOn:
      return "on";
    case SinkMode::kSlow:
      return "slow";
    case SinkMode::kDown:
      return "down";
  }
  return "?";
}

// `kernel_cpu` / `sink_cpu` >= 0 pin the measuring (kernel) thread and the pipeline's threads.
int bench_latency(const std::string& ch, const std::string& hz, const std::string& cluster,
                  int kernel_cpu, int sink_cpu) {
  if (kernel_cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(static_cast<std::size_t>(kernel_cpu), &set);
    if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0) {
      return std::fprintf(stderr, "cannot pin the kernel thread to CPU %d\n", kernel_cpu), 1;
    }
  }
  std::printf("kernel thread on CPU %s, sink threads on CPU %s\n",
              kernel_cpu >= 0 ? std::to_string(kernel_cpu).c_str() : "any",
              sink_cpu >= 0 ? std::to_string(sink_cpu).c_str() : "any");
  const auto flat_out = sink::testing::session_inputs(20'000);  // 260k inputs
  const auto paced = sink::testing::session_inputs(4'000);      // 52k inputs at 20k/s
  const auto slow = sink::testing::session_inputs(800);         // 10k inputs at 2k/s
  BlackHole black_hole;
  const auto make = [&](SinkMode mode, const std::string& spool) {
    sink::PipelineConfig config;
    config.projection.strategy = "latency";
    config.projection.mode = core::KernelMode::kDebug;
    config.spool_dir = spool;
    config.clickhouse.enabled = true;
    config.hazelcast.enabled = true;
    const auto [ch_host, ch_port] = split_address(ch);
    const auto [hz_host, hz_port] = split_address(hz);
    // on: the real servers; slow: both hang (black hole); down: refused (port 1).
    const std::uint16_t dead = mode == SinkMode::kSlow ? black_hole.port() : 1;
    config.clickhouse.writer.host = ch_host;
    config.clickhouse.writer.port = mode == SinkMode::kOn ? ch_port : dead;
    config.clickhouse.writer.request_timeout = std::chrono::seconds(2);
    config.hazelcast.client.host = hz_host;
    config.hazelcast.client.port = mode == SinkMode::kOn ? hz_port : dead;
    config.hazelcast.client.cluster_name = cluster;
    config.hazelcast.client.call_timeout = std::chrono::seconds(2);
    if (sink_cpu >= 0) config.thread_cpus = {static_cast<unsigned>(sink_cpu)};
    core::Kernel kernel = sink::testing::session_kernel();
    return sink::SinkPipeline::create(config, kernel, 0);
  };
  struct Scenario {
    std::string title;
    const std::vector<core::KernelInput>* inputs;
    double rate;
    const char* fsync;  // nullptr: no journal
    int repeats;
  };
  const std::vector<Scenario> scenarios = {
      {"process + publish, back to back", &flat_out, 0.0, nullptr, 1},
      {"process + publish, paced at 20000 inputs/s", &paced, 20'000.0, nullptr, 3},
      {"process + publish, paced at 2000 inputs/s", &slow, 2'000.0, nullptr, 3},
      {"serve loop (process + journal + publish), 2000 inputs/s, journal fsync never", &slow,
       2'000.0, "never", 3},
      {"serve loop (process + journal + publish), 2000 inputs/s, journal fsync always", &slow,
       2'000.0, "always", 3},
  };
  // SINK_BENCH_SCENARIO=TEXT runs only the scenarios whose title contains TEXT.
  const char* only = std::getenv("SINK_BENCH_SCENARIO");
  for (const Scenario& scenario : scenarios) {
    if (only != nullptr && scenario.title.find(only) == std::string::npos) continue;
    std::printf(
        "kernel-thread time per input: %s; %zu inputs x %d runs per mode, modes "
        "interleaved; DEBUG rows\n",
        scenario.title.c_str(), scenario.inputs->size(), scenario.repeats);
    std::map<SinkMode, LoopSamples> samples;
    std::map<SinkMode, std::string> notes;
    std::map<SinkMode, std::map<std::string, std::uint64_t>> interrupts;
    for (int repeat = 0; repeat < scenario.repeats; ++repeat) {
      for (const SinkMode mode : kModes) {
        char spool_template[] = "/tmp/dita-sink-latency-XXXXXX";
        const std::string spool = ::mkdtemp(spool_template);
        std::optional<journal::JournalWriter> writer;
        if (scenario.fsync != nullptr) {
          auto created = journal::JournalWriter::create(
              spool + "/kernel.journal", *journal::parse_fsync_policy(scenario.fsync), "{}");
          if (!created) {
            return std::fprintf(stderr, "journal: %s\n",
                                journal::to_string(created.error()).c_str()),
                   1;
          }
          writer.emplace(std::move(*created));
        }
        std::unique_ptr<sink::SinkPipeline> pipeline;
        if (mode != SinkMode::kOff && mode != SinkMode::kControl) {
          auto created = make(mode, spool + "/spool");
          if (!created) return std::fprintf(stderr, "%s\n", created.error().c_str()), 1;
          pipeline = std::move(*created);
        }
        std::optional<BurstyNeighbour> neighbour;
        if (mode == SinkMode::kControl) neighbour.emplace(*scenario.inputs, sink_cpu);
        const auto interrupts_before = cpu_interrupts(kernel_cpu);
        run_latency(*scenario.inputs, pipeline.get(), scenario.rate, writer ? &*writer : nullptr,
                    samples[mode]);
        for (const auto& [name, count] : cpu_interrupts(kernel_cpu)) {
          interrupts[mode][name] += count - interrupts_before.at(name);
        }
        neighbour.reset();
        if (pipeline) {
          const bool flushed =
              pipeline->flush(std::chrono::seconds(mode == SinkMode::kOn ? 300 : 0));
          const auto health = pipeline->health();
          notes[mode] = " overflows=" + std::to_string(health.overflow_publishes) +
                        " ch=" + std::string(sink::to_string(health.sinks[0].state)) +
                        " hz=" + std::string(sink::to_string(health.sinks[1].state)) +
                        " ch_spool_depth=" + std::to_string(health.sinks[0].spool_depth) +
                        (flushed ? " flushed" : "");
          pipeline->stop();
        }
        (void)std::system(("rm -rf " + spool).c_str());
      }
    }
    const double off_median = percentiles(samples[SinkMode::kOff].total).p50;
    const auto median = [](const std::vector<std::int64_t>& part) {
      return part.empty() ? 0.0 : percentiles(part).p50;
    };
    for (const SinkMode mode : kModes) {
      const LoopSamples& loop = samples[mode];
      const Percentiles p = percentiles(loop.total);
      const Percentiles publish = percentiles(loop.publish);
      std::printf(
          "  sinks %-4s: median %8.0f ns (%+5.1f %%)  p99 %9.0f ns  p99.9 %9.0f ns  "
          "mean %8.0f ns | publish() alone: median %4.0f ns p99 %5.0f ns%s\n",
          mode_name(mode), p.p50, 100.0 * (p.p50 - off_median) / off_median, p.p99, p.p999, p.mean,
          publish.p50, publish.p99, notes[mode].c_str());
      std::printf("              parts, median ns: process %.0f", median(loop.process));
      if (scenario.fsync != nullptr) {
        std::printf(" encode %.0f journal-write %.0f", median(loop.encode),
                    median(loop.journal_write));
      }
      std::printf(" publish %.0f", publish.p50);
      if (!interrupts[mode].empty()) {
        std::printf(" | interrupts on CPU %d per 1000 inputs:", kernel_cpu);
        const double inputs = static_cast<double>(loop.total.size());
        for (const auto& [name, count] : interrupts[mode]) {
          std::printf(" %s %.1f", name.c_str(), 1000.0 * static_cast<double>(count) / inputs);
        }
      }
      std::printf("\n");
    }
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 2 && args[0] == "clickhouse") return bench_clickhouse(args[1]);
  if (args.size() == 2 && args[0] == "pipeline-clickhouse")
    return bench_pipeline_clickhouse(args[1]);
  if (args.size() == 3 && args[0] == "hazelcast") return bench_hazelcast(args[1], args[2]);
  if (args.size() == 4 && args[0] == "latency") {
    return bench_latency(args[1], args[2], args[3], -1, -1);
  }
  if (args.size() == 6 && args[0] == "latency") {
    return bench_latency(args[1], args[2], args[3], std::stoi(args[4]), std::stoi(args[5]));
  }
  std::fprintf(stderr,
               "usage: sink_bench clickhouse HOST:PORT | pipeline-clickhouse HOST:PORT |\n"
               "       hazelcast HOST:PORT CLUSTER |\n"
               "       latency CH_HOST:PORT HZ_HOST:PORT CLUSTER [KERNEL_CPU SINK_CPU]\n");
  return 2;
}
