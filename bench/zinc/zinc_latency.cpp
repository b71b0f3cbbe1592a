// Cross-process publish->wake latency of the Zinc state region (spin and futex waits) beside a
// Unix-socket ping-pong measured in the same run. The parent publishes a timestamp, a forked
// child wakes, takes the clock and acknowledges; one-way latency = child clock - parent stamp.
// Last line: one JSON object with p50/p99/p99.9 in nanoseconds.
#include <sched.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "dita/zinc/snapshot.hpp"

namespace {

using namespace std::chrono_literals;
using dita::zinc::monotonic_ns;
using dita::zinc::SnapshotReader;
using dita::zinc::SnapshotWriter;
using dita::zinc::WaitPolicy;

struct Stamp {
  std::uint64_t sent_ns;
  std::uint64_t seq;
  std::array<std::uint64_t, 6> pad;
};

struct Percentiles {
  std::uint64_t p50 = 0;
  std::uint64_t p99 = 0;
  std::uint64_t p999 = 0;
  std::uint64_t min = 0;
  std::uint64_t max = 0;
  std::size_t samples = 0;
};

Percentiles percentiles(std::vector<std::uint64_t> v) {
  Percentiles p;
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {
    auto idx = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1));
    return v[idx];
  };
  p.p50 = at(0.5);
  p.p99 = at(0.99);
  p.p999 = at(0.999);
  p.min = v.front();
  p.max = v.back();
  p.samples = v.size();
  return p;
}

std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (std::size_t c = 0; c < CPU_SETSIZE; ++c) {
      if (CPU_ISSET(c, &set)) cpus.push_back(static_cast<int>(c));
    }
  }
  return cpus;
}

bool pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(static_cast<std::size_t>(cpu), &set);
  return sched_setaffinity(0, sizeof set, &set) == 0;
}

// Shared sample buffer the child fills and the parent reads after the child exits.
struct SampleBuffer {
  explicit SampleBuffer(std::size_t n) : count(n) {
    void* p = mmap(nullptr, n * sizeof(std::uint64_t), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    data = p == MAP_FAILED ? nullptr : static_cast<std::uint64_t*>(p);
  }
  ~SampleBuffer() {
    if (data != nullptr) munmap(data, count * sizeof(std::uint64_t));
  }
  SampleBuffer(const SampleBuffer&) = delete;
  SampleBuffer& operator=(const SampleBuffer&) = delete;
  std::vector<std::uint64_t> collect(std::size_t skip) const { return {data + skip, data + count}; }
  std::uint64_t* data;
  std::size_t count;
};

int child_cpu = -1;
int parent_cpu = -1;

Percentiles run_zinc(const std::string& instance, WaitPolicy policy, std::size_t iterations,
                     std::size_t warmup) {
  const std::string ping_instance = instance + "-ping";
  const std::string pong_instance = instance + "-pong";
  const std::size_t total = iterations + warmup;
  SampleBuffer samples(total);
  auto ping = SnapshotWriter<Stamp>::create(ping_instance);
  if (!ping) {
    std::fprintf(stderr, "ping region: %s\n", ping.error().describe().c_str());
    return {};
  }
  int ready[2];
  if (pipe(ready) != 0) return {};
  const pid_t child = fork();
  if (child == 0) {
    if (child_cpu >= 0) pin_to(child_cpu);
    auto pong = SnapshotWriter<Stamp>::create(pong_instance);
    auto reader = SnapshotReader<Stamp>::open(ping_instance);
    if (!pong || !reader) _exit(1);
    char b = 1;
    if (write(ready[1], &b, 1) != 1) _exit(2);
    std::uint64_t last = 0;
    for (std::size_t i = 0; i < total; ++i) {
      auto gen = reader->wait_for_change(last, 30s, policy);
      const std::uint64_t now = monotonic_ns();
      if (!gen) _exit(3);
      last = *gen;
      const auto snap = reader->read();
      samples.data[i] = now - snap.value.sent_ns;
      Stamp ack{};
      ack.seq = snap.value.seq;
      pong->publish(ack);
    }
    _exit(0);
  }
  char b = 0;
  if (read(ready[0], &b, 1) != 1) return {};
  close(ready[0]);
  close(ready[1]);
  auto pong_reader = SnapshotReader<Stamp>::open(pong_instance);
  if (!pong_reader) return {};
  std::uint64_t last = 0;
  for (std::size_t i = 0; i < total; ++i) {
    Stamp s{};
    s.seq = i;
    s.sent_ns = monotonic_ns();
    ping->publish(s);
    auto gen = pong_reader->wait_for_change(last, 30s, policy);
    if (!gen) break;
    last = *gen;
  }
  int status = 0;
  waitpid(child, &status, 0);
  (void)dita::zinc::Region::unlink(
      *dita::zinc::region_name(ping_instance, dita::zinc::RegionKind::State));
  (void)dita::zinc::Region::unlink(
      *dita::zinc::region_name(pong_instance, dita::zinc::RegionKind::State));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "zinc child failed (status %d)\n", status);
    return {};
  }
  return percentiles(samples.collect(warmup));
}

Percentiles run_uds(std::size_t iterations, std::size_t warmup) {
  const std::size_t total = iterations + warmup;
  SampleBuffer samples(total);
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) return {};
  const pid_t child = fork();
  if (child == 0) {
    if (child_cpu >= 0) pin_to(child_cpu);
    close(fds[0]);
    for (std::size_t i = 0; i < total; ++i) {
      std::uint64_t stamp[2];
      std::size_t got = 0;
      while (got < sizeof stamp) {
        const auto n = read(fds[1], reinterpret_cast<char*>(stamp) + got, sizeof stamp - got);
        if (n <= 0) _exit(1);
        got += static_cast<std::size_t>(n);
      }
      samples.data[i] = monotonic_ns() - stamp[0];
      const char ack = 1;
      if (write(fds[1], &ack, 1) != 1) _exit(2);
    }
    _exit(0);
  }
  close(fds[1]);
  for (std::size_t i = 0; i < total; ++i) {
    const std::uint64_t stamp[2] = {monotonic_ns(), i};
    if (write(fds[0], stamp, sizeof stamp) != static_cast<ssize_t>(sizeof stamp)) break;
    char ack = 0;
    if (read(fds[0], &ack, 1) != 1) break;
  }
  close(fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return {};
  return percentiles(samples.collect(warmup));
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      return colon == std::string::npos ? line : line.substr(colon + 2);
    }
  }
  return "unknown";
}

void print(const char* name, const Percentiles& p) {
  std::printf("%-6s samples=%zu min=%llu p50=%llu p99=%llu p99.9=%llu max=%llu (ns, one-way)\n",
              name, p.samples, static_cast<unsigned long long>(p.min),
              static_cast<unsigned long long>(p.p50), static_cast<unsigned long long>(p.p99),
              static_cast<unsigned long long>(p.p999), static_cast<unsigned long long>(p.max));
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t spin_iterations = 200'000;
  std::size_t sleep_iterations = 20'000;
  if (argc > 1) {
    const auto scale = std::stoul(argv[1]);  // optional divisor for quick runs
    spin_iterations /= scale;
    sleep_iterations /= scale;
  }
  const auto cpus = allowed_cpus();
  if (cpus.size() >= 2) {
    parent_cpu = cpus[0];
    child_cpu = cpus[1];
    pin_to(parent_cpu);
  }
  std::printf("zinc_latency: nproc=%u cpu=\"%s\" pinned=%s (parent cpu %d, child cpu %d)\n",
              std::thread::hardware_concurrency(), cpu_model().c_str(),
              cpus.size() >= 2 ? "yes" : "no", parent_cpu, child_cpu);
  const std::string instance = "bench" + std::to_string(getpid());
  const auto spin = run_zinc(instance + "s", WaitPolicy::spin_only(), spin_iterations, 1000);
  print("spin", spin);
  const auto futex = run_zinc(instance + "f", WaitPolicy::sleep_at_once(), sleep_iterations, 500);
  print("futex", futex);
  const auto uds = run_uds(sleep_iterations, 500);
  print("uds", uds);
  std::printf(
      "{\"spin_p50_ns\": %llu, \"spin_p99_ns\": %llu, \"spin_p999_ns\": %llu, "
      "\"futex_p50_ns\": %llu, \"futex_p99_ns\": %llu, \"futex_p999_ns\": %llu, "
      "\"uds_p50_ns\": %llu, \"uds_p99_ns\": %llu, \"uds_p999_ns\": %llu}\n",
      static_cast<unsigned long long>(spin.p50), static_cast<unsigned long long>(spin.p99),
      static_cast<unsigned long long>(spin.p999), static_cast<unsigned long long>(futex.p50),
      static_cast<unsigned long long>(futex.p99), static_cast<unsigned long long>(futex.p999),
      static_cast<unsigned long long>(uds.p50), static_cast<unsigned long long>(uds.p99),
      static_cast<unsigned long long>(uds.p999));
  return spin.samples > 0 && futex.samples > 0 && uds.samples > 0 ? 0 : 1;
}
