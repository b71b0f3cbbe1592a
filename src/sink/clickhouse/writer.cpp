#include <curl/curl.h>

#include <cstdlib>
#include <mutex>

#include "dita/sink/clickhouse_writer.hpp"

namespace dita::sink::clickhouse {
namespace {

std::once_flag g_curl_init;

std::size_t append_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* out = static_cast<std::string*>(user);
  // Bounded: a server error page is small; anything huge is cut, never buffered unboundedly.
  constexpr std::size_t kMaxResponse = 16U * 1024U * 1024U;
  const std::size_t bytes = size * count;
  if (out->size() < kMaxResponse) out->append(data, std::min(bytes, kMaxResponse - out->size()));
  return bytes;
}

// "Code: 60, e.displayText() = DB::Exception: Table dita.x doesn't exist..." -> 60.
int server_code_of(std::string_view body) {
  const auto at = body.find("Code: ");
  if (at == std::string_view::npos) return 0;
  return std::atoi(std::string(body.substr(at + 6, 8)).c_str());
}

std::string trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
  return text;
}

}  // namespace

std::string_view to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return "INVALID_ARGUMENT";
    case ErrorCode::kConnectFailed:
      return "CONNECT_FAILED";
    case ErrorCode::kTimeout:
      return "TIMEOUT";
    case ErrorCode::kConnectionLost:
      return "CONNECTION_LOST";
    case ErrorCode::kProtocol:
      return "PROTOCOL";
    case ErrorCode::kHttpStatus:
      return "HTTP_STATUS";
    case ErrorCode::kTransport:
      return "TRANSPORT";
  }
  return "UNKNOWN";
}

std::string WriterError::describe() const {
  std::string text(to_string(code));
  if (http_status != 0) text += " " + std::to_string(http_status);
  if (server_code != 0) text += " (ClickHouse code " + std::to_string(server_code) + ")";
  return text + ": " + message;
}

std::string url_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') ||
        (byte >= '0' && byte <= '9') || byte == '-' || byte == '_' || byte == '.' || byte == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0xF];
    }
  }
  return out;
}

Writer::Writer(WriterConfig config) : config_(std::move(config)) {
  std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  curl_ = curl_easy_init();
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, ("X-ClickHouse-User: " + config_.user).c_str());
  if (!config_.password.empty()) {
    headers = curl_slist_append(headers, ("X-ClickHouse-Key: " + config_.password).c_str());
  }
  // No "Expect: 100-continue" round trip on large bodies.
  headers = curl_slist_append(headers, "Expect:");
  headers = curl_slist_append(headers, "Content-Type: text/plain; charset=utf-8");
  headers_ = headers;
}

Writer::~Writer() {
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
  if (headers_ != nullptr) curl_slist_free_all(static_cast<curl_slist*>(headers_));
}

Result<std::string> Writer::post(const std::string& url_query, std::string_view body) {
  if (curl_ == nullptr) {
    return std::unexpected(WriterError{ErrorCode::kTransport, 0, 0, "curl_easy_init failed"});
  }
  CURL* curl = static_cast<CURL*>(curl_);
  const std::string url =
      "http://" + config_.host + ":" + std::to_string(config_.port) + "/?" + url_query;
  std::string response;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, static_cast<curl_slist*>(headers_));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &append_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(config_.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(config_.request_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(curl, CURLOPT_PROXY, "");
  ++requests_;
  const CURLcode code = curl_easy_perform(curl);
  if (code != CURLE_OK) {
    ErrorCode kind = ErrorCode::kTransport;
    switch (code) {
      case CURLE_COULDNT_CONNECT:
      case CURLE_COULDNT_RESOLVE_HOST:
        kind = ErrorCode::kConnectFailed;
        break;
      case CURLE_OPERATION_TIMEDOUT:
        kind = ErrorCode::kTimeout;
        break;
      case CURLE_SEND_ERROR:
      case CURLE_RECV_ERROR:
      case CURLE_GOT_NOTHING:
      case CURLE_PARTIAL_FILE:
        kind = ErrorCode::kConnectionLost;
        break;
      case CURLE_WEIRD_SERVER_REPLY:
      case CURLE_UNSUPPORTED_PROTOCOL:
        kind = ErrorCode::kProtocol;
        break;
      default:
        break;
    }
    return std::unexpected(WriterError{kind, 0, 0, curl_easy_strerror(code)});
  }
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status >= 300) {
    return std::unexpected(WriterError{ErrorCode::kHttpStatus, static_cast<int>(status),
                                       server_code_of(response), trim(std::move(response))});
  }
  return response;
}

Result<void> Writer::insert_json_each_row(std::string_view table,
                                          std::span<const std::string_view> columns,
                                          std::string_view body) {
  if (table.empty() || columns.empty()) {
    return std::unexpected(
        WriterError{ErrorCode::kInvalidArgument, 0, 0, "table and columns are required"});
  }
  if (body.empty()) return {};
  if (body.back() != '\n') {
    return std::unexpected(
        WriterError{ErrorCode::kInvalidArgument, 0, 0, "body must end with a newline"});
  }
  std::string sql = "INSERT INTO " + config_.database + "." + std::string(table) + " (";
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (i > 0) sql += ',';
    sql += columns[i];
  }
  sql += ") FORMAT JSONEachRow";
  // A key that names no column fails the insert on every server version; current ClickHouse
  // would otherwise drop it silently (its default is 1, 18.16's is 0).
  auto result = post("query=" + url_encode(sql) + "&input_format_skip_unknown_fields=0", body);
  if (!result) return std::unexpected(std::move(result.error()));
  return {};
}

Result<std::string> Writer::query(std::string_view sql) {
  if (sql.empty()) {
    return std::unexpected(WriterError{ErrorCode::kInvalidArgument, 0, 0, "empty statement"});
  }
  return post("", sql);
}

Result<void> Writer::ping() {
  auto result = query("SELECT 1");
  if (!result) return std::unexpected(std::move(result.error()));
  return {};
}

}  // namespace dita::sink::clickhouse
