// BingX REST transport; see include/dita/venue/bingx/rest_client.hpp.
#include "dita/venue/bingx/rest_client.hpp"

#include <curl/curl.h>

#include <chrono>
#include <mutex>

namespace dita::venue::bingx {
namespace {

struct Transfer {
  std::string* body = nullptr;
  int sends = 0;
  bool idempotent = true;
  bool blocked = false;
};

std::size_t collect(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  // Bound the body: BingX answers are small; a runaway stream is not an answer.
  constexpr std::size_t kMaxBody = 16U << 20U;
  if (transfer->body->size() + size * count > kMaxBody) return 0;
  transfer->body->append(data, size * count);
  return size * count;
}

// Called by libcurl right before each send of the request, including its own retry on a
// dead reused connection. A second send of a non-idempotent request is refused.
int before_send(void* user, char* /*conn_primary_ip*/, char* /*conn_local_ip*/,
                int /*conn_primary_port*/, int /*conn_local_port*/) {
  auto* transfer = static_cast<Transfer*>(user);
  ++transfer->sends;
  if (transfer->sends > 1 && !transfer->idempotent) {
    transfer->blocked = true;
    return CURL_PREREQFUNC_ABORT;
  }
  return CURL_PREREQFUNC_OK;
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

RestClient::RestClient(RestClientOptions options) : options_(std::move(options)) {
  global_init();
  while (!options_.base_url.empty() && options_.base_url.back() == '/')
    options_.base_url.pop_back();
  CURL* curl = curl_easy_init();
  curl_ = curl;
  const std::string key_header = "X-BX-APIKEY: " + options_.api_key;
  curl_slist* with_key = curl_slist_append(nullptr, key_header.c_str());
  with_key = curl_slist_append(with_key, "Expect:");
  headers_ = with_key;
  public_headers_ = curl_slist_append(nullptr, "Expect:");
  if (curl == nullptr) return;
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout_ms));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout_ms));
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");  // BingX answers gzip through Cloudflare
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_PREREQFUNCTION, before_send);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
}

RestClient::~RestClient() {
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
  curl_slist_free_all(static_cast<curl_slist*>(headers_));
  curl_slist_free_all(static_cast<curl_slist*>(public_headers_));
}

std::int64_t RestClient::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
             .count() +
         clock_offset_ms_;
}

std::string RestClient::build_url(std::string_view path, QueryParams params, Auth auth,
                                  std::int64_t timestamp_ms) const {
  std::string url = options_.base_url;
  url += path;
  std::string query;
  if (auth == Auth::kSigned) {
    query =
        sign_request(std::move(params), options_.api_secret, timestamp_ms, options_.recv_window_ms)
            .query;
  } else {
    query = encoded_query(sorted_by_key(std::move(params)));
  }
  if (!query.empty()) {
    url.push_back('?');
    url += query;
  }
  return url;
}

RestResponse RestClient::call(std::string_view method, std::string_view path, QueryParams params,
                              Auth auth, bool idempotent) {
  RestResponse response;
  auto* curl = static_cast<CURL*>(curl_);
  if (curl == nullptr) {
    response.curl_code = static_cast<int>(CURLE_FAILED_INIT);
    response.curl_error = "curl_easy_init failed";
    return response;
  }
  const auto started = std::chrono::steady_clock::now();
  const std::string url = build_url(path, std::move(params), auth, now_ms());
  Transfer transfer{&response.body, 0, idempotent, false};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, auth == Auth::kNone ? public_headers_ : headers_);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_PREREQDATA, &transfer);
  const std::string verb(method);
  if (method == "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, nullptr);
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else {
    // An empty body with an explicit length: parameters travel in the query string.
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, 0L);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method == "POST" ? nullptr : verb.c_str());
  }
  response.curl_code = static_cast<int>(curl_easy_perform(curl));
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, nullptr);
  if (response.curl_code != 0) {
    response.curl_error = curl_easy_strerror(static_cast<CURLcode>(response.curl_code));
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.http_status);
  if (response.curl_code != 0) response.http_status = 0;  // a partial answer is no answer
  response.resend_blocked = transfer.blocked;
  response.elapsed_us = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::steady_clock::now() - started)
                            .count();
  return response;
}

}  // namespace dita::venue::bingx
