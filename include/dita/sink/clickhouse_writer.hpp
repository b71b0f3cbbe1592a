// dita/sink/clickhouse_writer.hpp
//
// Owns DITA's ClickHouse HTTP client: `INSERT INTO <db>.<table> (<columns>) FORMAT
// JSONEachRow` with a body of one JSON object per line, over one reused libcurl connection
// (keep-alive), with connect/request timeouts and X-ClickHouse-User / X-ClickHouse-Key auth.
// Works with Debian's 18.16 server and current ones (docs/sinks.md, reference §E).
//
// Failure model: nothing throws; every call returns Result<T>. Any non-2xx answer is an
// error carrying the HTTP status, the server's "Code: N" and its message text. Whether an
// insert that failed mid-way (connection cut, timeout, 5xx) was applied is unknowable, so
// callers simply re-send it: rows carry deterministic row ids and the tables deduplicate.
// Threading: one writer per thread (a curl easy handle is not shareable).
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <span>
#include <string>
#include <string_view>

namespace dita::sink::clickhouse {

struct WriterConfig {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8123;
  std::string user = "default";
  std::string password;
  std::string database = "dita";
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds request_timeout{15000};
};

enum class ErrorCode : std::uint8_t {
  kInvalidArgument,  // empty table/columns, a body not ending in a newline, ...
  kConnectFailed,    // TCP connect refused or timed out
  kTimeout,          // no complete answer before request_timeout
  kConnectionLost,   // the server closed or reset the connection mid-request/response
  kProtocol,         // bytes that are not an HTTP answer
  kHttpStatus,       // a non-2xx HTTP status (server_code/message from its body)
  kTransport,        // any other libcurl failure
};
std::string_view to_string(ErrorCode code) noexcept;

struct WriterError {
  ErrorCode code = ErrorCode::kTransport;
  int http_status = 0;  // kHttpStatus
  int server_code = 0;  // ClickHouse "Code: N" when the body carries one
  std::string message;  // the server's text, or libcurl's description
  [[nodiscard]] std::string describe() const;
  // 4xx answers (bad SQL, unknown table, bad row) will fail again unchanged; everything
  // else may succeed on a retry.
  [[nodiscard]] bool is_permanent() const {
    return code == ErrorCode::kHttpStatus && http_status < 500;
  }
};

template <class T>
using Result = std::expected<T, WriterError>;

class Writer {
 public:
  explicit Writer(WriterConfig config);
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Inserts newline-separated JSON objects (each line one row, every listed column present).
  Result<void> insert_json_each_row(std::string_view table,
                                    std::span<const std::string_view> columns,
                                    std::string_view body);
  // Runs a statement (POST body) and returns the response body.
  Result<std::string> query(std::string_view sql);
  Result<void> ping();

  [[nodiscard]] const WriterConfig& config() const { return config_; }
  // Requests sent so far (including failed ones), for tests and benchmarks.
  [[nodiscard]] std::uint64_t requests() const { return requests_; }

 private:
  Result<std::string> post(const std::string& url_query, std::string_view body);

  WriterConfig config_;
  void* curl_ = nullptr;     // CURL*, kept for connection reuse
  void* headers_ = nullptr;  // curl_slist*
  std::uint64_t requests_ = 0;
};

// Percent-encodes for a URL query parameter value.
std::string url_encode(std::string_view text);

}  // namespace dita::sink::clickhouse
