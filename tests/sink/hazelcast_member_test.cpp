// Integration tests of DITA's Hazelcast client against a real member (the Maven Central jar,
// started by scripts/start-hazelcast on loopback in a temp dir), with read-back through the
// official hazelcast-python-client to prove serializer ids and partition placement.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "dita/sink/hazelcast/client.hpp"
#include "dita/sink/hazelcast/protocol.hpp"
#include "sink/server_harness.hpp"

namespace dita::sink::hazelcast {
namespace {

using testing::run_command;
using testing::shell_quote;
using testing::source_dir;

constexpr std::string_view kCluster = "dita-test";

class HazelcastMemberTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<testing::TempDir>("dita-hz-test");
    member_ = std::make_unique<testing::ScriptedServer>(
        "hazelcast", dir_->path() + "/member", "DITA_HAZELCAST_CLUSTER=" + std::string(kCluster));
    started_ = member_->start().has_value();
    if (!started_) start_output_ = member_->last_output();
  }

  static void TearDownTestSuite() {
    member_.reset();  // stops the member
    dir_.reset();
  }

  void SetUp() override {
    ASSERT_TRUE(started_) << "scripts/start-hazelcast failed (run scripts/setup-servers.sh):\n"
                          << start_output_;
  }

  static ClientConfig config() {
    ClientConfig config;
    config.host = member_->host();
    config.port = member_->port();
    config.cluster_name = std::string(kCluster);
    config.call_timeout = std::chrono::milliseconds(10'000);
    return config;
  }

  // Runs tests/sink/hazelcast_readback.py against the member; returns its stdout lines.
  static std::vector<std::string> python(const std::string& args, int* exit_code = nullptr) {
    const auto result = run_command(
        "python3 " + shell_quote(source_dir() + "/tests/sink/hazelcast_readback.py") + " " + args);
    if (exit_code != nullptr) *exit_code = result.exit_code;
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start < result.output.size()) {
      const auto end = result.output.find('\n', start);
      lines.push_back(result.output.substr(start, end - start));
      if (end == std::string::npos) break;
      start = end + 1;
    }
    return lines;
  }

  static std::string member_args() {
    return shell_quote(member_->address()) + " " + shell_quote(std::string(kCluster));
  }

  static inline std::unique_ptr<testing::TempDir> dir_;
  static inline std::unique_ptr<testing::ScriptedServer> member_;
  static inline bool started_ = false;
  static inline std::string start_output_;
};

TEST_F(HazelcastMemberTest, ConnectsAuthenticatesAndPings) {
  Client client(config());
  auto connected = client.connect();
  ASSERT_TRUE(connected.has_value()) << connected.error().describe();
  EXPECT_EQ(client.partition_count(), 271);
  EXPECT_EQ(client.connection_count(), 1u);
  EXPECT_EQ(client.server_version().rfind("5.", 0), 0u) << client.server_version();
  auto pinged = client.ping();
  EXPECT_TRUE(pinged.has_value()) << pinged.error().describe();
}

TEST_F(HazelcastMemberTest, WrongClusterNameIsAnAuthenticationError) {
  ClientConfig wrong = config();
  wrong.cluster_name = "not-" + wrong.cluster_name;
  Client client(wrong);
  auto connected = client.connect();
  ASSERT_FALSE(connected.has_value());
  EXPECT_EQ(connected.error().code, ErrorCode::kAuthenticationFailed)
      << connected.error().describe();
  EXPECT_FALSE(client.is_connected());
}

TEST_F(HazelcastMemberTest, UnreachablePortIsAConnectError) {
  testing::TempDir scratch("dita-hz-closed");
  ClientConfig closed = config();
  // A port that was free a moment ago and that nobody listens on.
  const auto port = run_command(
      "python3 -c 'import socket; s=socket.socket(); "
      "s.bind((\"127.0.0.1\",0)); print(s.getsockname()[1])'");
  closed.port = static_cast<std::uint16_t>(std::stoi(port.output));
  Client client(closed);
  auto connected = client.connect();
  ASSERT_FALSE(connected.has_value());
  EXPECT_EQ(connected.error().code, ErrorCode::kConnectFailed) << connected.error().describe();
}

TEST_F(HazelcastMemberTest, SetGetRemoveRoundTrip) {
  Client client(config());
  const std::string map = "DITA_STATE_roundtrip";
  ASSERT_TRUE(client.map_set(map, "slot:1", JsonValue{R"({"stage":"OPEN","qty":1.5})"}));
  auto got = client.map_get(map, "slot:1");
  ASSERT_TRUE(got.has_value()) << got.error().describe();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->text, R"({"stage":"OPEN","qty":1.5})");

  ASSERT_TRUE(client.map_set(map, "slot:1", JsonValue{R"({"stage":"CLOSED"})"}));
  EXPECT_EQ(client.map_get(map, "slot:1").value()->text, R"({"stage":"CLOSED"})");

  auto removed = client.map_remove(map, "slot:1");
  ASSERT_TRUE(removed.has_value()) << removed.error().describe();
  ASSERT_TRUE(removed->has_value());
  EXPECT_EQ((*removed)->text, R"({"stage":"CLOSED"})");
  EXPECT_FALSE(client.map_get(map, "slot:1").value().has_value());
  EXPECT_FALSE(client.map_remove(map, "slot:1").value().has_value());
  EXPECT_FALSE(client.map_get(map, "never-set").value().has_value());
}

TEST_F(HazelcastMemberTest, PutAllThenEntrySetAndGetSeeEveryEntry) {
  Client client(config());
  const std::string map = "DITA_PNL_putall";
  std::vector<MapEntry> entries;
  for (int i = 0; i < 60; ++i) {
    entries.push_back(MapEntry{"trade:" + std::to_string(i),
                               JsonValue{R"({"trade":)" + std::to_string(i) + "}"}});
  }
  auto put = client.map_put_all(map, entries);
  ASSERT_TRUE(put.has_value()) << put.error().describe();
  auto size = client.map_size(map);
  ASSERT_TRUE(size.has_value()) << size.error().describe();
  EXPECT_EQ(*size, 60);
  auto all = client.map_entry_set(map);
  ASSERT_TRUE(all.has_value()) << all.error().describe();
  auto by_key = [](const MapEntry& a, const MapEntry& b) { return a.key < b.key; };
  std::sort(all->begin(), all->end(), by_key);
  std::sort(entries.begin(), entries.end(), by_key);
  EXPECT_EQ(*all, entries);
  // A keyed get only finds an entry that putAll placed in the key's own partition.
  for (const MapEntry& entry : entries) {
    auto got = client.map_get(map, entry.key);
    ASSERT_TRUE(got.has_value() && got->has_value()) << entry.key;
    EXPECT_EQ(**got, entry.value);
  }
  EXPECT_TRUE(client.map_put_all(map, {}).has_value());
}

TEST_F(HazelcastMemberTest, InvalidArgumentsAreRejectedBeforeAnythingIsSent) {
  Client client(config());
  EXPECT_EQ(client.map_set("", "k", JsonValue{"{}"}).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(client.map_set("m", "k", JsonValue{""}).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(client.map_set("m", "\xff", JsonValue{"{}"}).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(client.connection_count(), 0u);
}

TEST_F(HazelcastMemberTest, MapValuesReadByTheOfficialClientAsHazelcastJsonValue) {
  Client client(config());
  const std::string map = "DITA_ACTIVE_SLOTS_interop";
  ASSERT_TRUE(client.map_set(map, "proj:order:42", JsonValue{R"({"x":1})"}));
  ASSERT_TRUE(client.map_set(map, "Pijamalı", JsonValue{R"({"name":"Pijamalı"})"}));
  const std::vector<MapEntry> batch = {{"a", JsonValue{"[1,2]"}}, {"b", JsonValue{"\"s\""}}};
  ASSERT_TRUE(client.map_put_all(map, batch));

  int exit_code = -1;
  const auto lines = python("dump " + member_args() + " " + shell_quote(map), &exit_code);
  ASSERT_EQ(exit_code, 0);
  ASSERT_EQ(lines.size(), 4u);
  std::map<std::string, nlohmann::json> rows;
  for (const auto& line : lines) {
    auto row = nlohmann::json::parse(line);
    rows[row["key"].get<std::string>()] = row;
  }
  const std::map<std::string, std::string> expected = {{"proj:order:42", R"({"x":1})"},
                                                       {"Pijamalı", R"({"name":"Pijamalı"})"},
                                                       {"a", "[1,2]"},
                                                       {"b", "\"s\""}};
  for (const auto& [key, value] : expected) {
    ASSERT_TRUE(rows.contains(key)) << key;
    const auto& row = rows[key];
    EXPECT_EQ(row["key_type"], "str") << key;
    EXPECT_EQ(row["value_type"], "HazelcastJsonValue") << key;
    EXPECT_EQ(row["value"], value) << key;
    // The official client's own partition routing finds the entry: placement agrees.
    EXPECT_EQ(row["get_value"], value) << key;
  }
}

TEST_F(HazelcastMemberTest, ValuesWrittenByTheOfficialClientAreReadBack) {
  const std::string map = "DITA_CONTROL_interop";
  int exit_code = -1;
  python("put " + member_args() + " " + shell_quote(map) + " kill-switch " +
             shell_quote(R"({"halt":true})"),
         &exit_code);
  ASSERT_EQ(exit_code, 0);
  Client client(config());
  auto got = client.map_get(map, "kill-switch");
  ASSERT_TRUE(got.has_value()) << got.error().describe();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->text, R"({"halt":true})");
  auto entries = client.map_entry_set(map);
  ASSERT_TRUE(entries.has_value()) << entries.error().describe();
  ASSERT_EQ(entries->size(), 1u);
}

TEST_F(HazelcastMemberTest, TopicMessagesReachAnOfficialClientListener) {
  const std::string topic = "DITA_TRADE_EVENTS_interop";
  const std::string command = "python3 " +
                              shell_quote(source_dir() + "/tests/sink/hazelcast_readback.py") +
                              " listen " + member_args() + " " + shell_quote(topic) + " 2 20";
  FILE* listener = ::popen(command.c_str(), "r");
  ASSERT_NE(listener, nullptr);
  char line[4096];
  std::string ready;
  if (std::fgets(line, sizeof(line), listener) != nullptr) ready = line;
  if (ready != "ready\n") {
    ::pclose(listener);
    FAIL() << "listener did not subscribe: " << ready;
  }
  Client client(config());
  auto first = client.topic_publish(topic, JsonValue{R"({"event":"ENTRY","trade":1})"});
  auto second = client.topic_publish(topic, JsonValue{R"({"event":"EXIT","trade":1})"});
  std::vector<nlohmann::json> received;
  while (std::fgets(line, sizeof(line), listener) != nullptr) {
    received.push_back(nlohmann::json::parse(line));
  }
  ::pclose(listener);
  ASSERT_TRUE(first.has_value()) << first.error().describe();
  ASSERT_TRUE(second.has_value()) << second.error().describe();
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received[0]["type"], "HazelcastJsonValue");
  EXPECT_EQ(received[0]["value"], R"({"event":"ENTRY","trade":1})");
  EXPECT_EQ(received[1]["value"], R"({"event":"EXIT","trade":1})");
}

// A raw request with partition id -1 on a keyed operation: the member answers with an error
// message, which must decode into a typed server error (class name + message).
TEST_F(HazelcastMemberTest, MemberErrorResponsesDecodeIntoTypedErrors) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(member_->port());
  ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  protocol::FrameDecoder decoder;
  // Reads until the response to `correlation_id` arrives (bounded by reads and poll timeouts).
  auto await_response = [&](std::int64_t correlation_id) -> std::optional<protocol::Message> {
    for (int reads = 0; reads < 50; ++reads) {
      for (;;) {
        auto next = decoder.next();
        if (!next || !*next) break;
        if ((*next)->correlation_id() == correlation_id) return std::move(**next);
      }
      pollfd pfd{fd, POLLIN, 0};
      if (::poll(&pfd, 1, 5000) <= 0) return std::nullopt;
      std::uint8_t buffer[8192];
      const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
      if (n <= 0) return std::nullopt;
      decoder.feed(protocol::ByteView(buffer, static_cast<std::size_t>(n)));
    }
    return std::nullopt;
  };
  auto send_all = [&](const protocol::Bytes& bytes) {
    return ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  };
  protocol::AuthenticationRequest auth;
  auth.cluster_name = std::string(kCluster);
  protocol::Bytes hello{'C', 'P', '2'};
  const auto auth_bytes = protocol::encode_authentication(auth, 1);
  hello.insert(hello.end(), auth_bytes.begin(), auth_bytes.end());
  ASSERT_TRUE(send_all(hello));
  // The member authenticates asynchronously: a request pipelined behind the authentication
  // can be refused ("must authenticate before any operation"), so wait for the answer first.
  const auto authenticated = await_response(1);
  ASSERT_TRUE(authenticated.has_value());
  ASSERT_EQ(protocol::decode_authentication_response(*authenticated)->status,
            protocol::kAuthenticated);
  ASSERT_TRUE(send_all(
      protocol::encode_map_get("m", protocol::string_data("k"), 1, protocol::kNoPartition, 2)));
  const auto response = await_response(2);
  ::close(fd);
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->message_type(), protocol::kErrorMessageType);
  auto result = protocol::decode_nullable_data_response(*response, protocol::kMapGet);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::kServerError);
  EXPECT_FALSE(result.error().class_name.empty());
  EXPECT_NE(result.error().describe().find("artition"), std::string::npos)
      << result.error().describe();
}

// Runs last in this suite: restarts the shared member.
TEST_F(HazelcastMemberTest, ReconnectsAndReauthenticatesAfterTheMemberRestarts) {
  Client client(config());
  ASSERT_TRUE(client.map_set("DITA_STATE_restart", "k", JsonValue{R"({"v":1})"}));
  EXPECT_EQ(client.connection_count(), 1u);
  const std::uint16_t port = member_->port();
  ASSERT_TRUE(member_->stop());

  // Member down: the call fails with a transport error instead of hanging or crashing.
  auto while_down = client.map_set("DITA_STATE_restart", "k", JsonValue{R"({"v":2})"});
  ASSERT_FALSE(while_down.has_value());
  EXPECT_TRUE(while_down.error().code == ErrorCode::kConnectionLost ||
              while_down.error().code == ErrorCode::kConnectFailed)
      << while_down.error().describe();
  EXPECT_FALSE(client.is_connected());

  ASSERT_TRUE(member_->start(port).has_value()) << member_->last_output();
  auto after = client.map_set("DITA_STATE_restart", "k", JsonValue{R"({"v":3})"});
  ASSERT_TRUE(after.has_value()) << after.error().describe();
  EXPECT_EQ(client.connection_count(), 2u);
  EXPECT_EQ(client.map_get("DITA_STATE_restart", "k").value()->text, R"({"v":3})");
}

}  // namespace
}  // namespace dita::sink::hazelcast
