// Owns the error vocabulary of DITA's Hazelcast client: every fallible call in
// dita::sink::hazelcast returns Result<T> = std::expected<T, HazelcastError>; nothing throws
// across this API.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

namespace dita::sink::hazelcast {

enum class ErrorCode : std::uint8_t {
  kInvalidArgument,       // caller passed something the protocol cannot carry
  kConnectFailed,         // TCP connect (or name resolution) failed or timed out
  kTimeout,               // no complete response before the call deadline
  kConnectionLost,        // the member closed the socket or a read/write failed
  kAuthenticationFailed,  // the member refused our credentials or cluster name
  kMalformedMessage,      // bytes that are not a valid protocol message (truncated, garbage)
  kUnexpectedMessage,     // a well-formed message that is not the answer we asked for
  kUnexpectedValueType,   // a stored value is not a HazelcastJsonValue (or key not a String)
  kServerError,           // the member answered with an error response (see class_name)
};

std::string_view to_string(ErrorCode code) noexcept;

struct HazelcastError {
  ErrorCode code = ErrorCode::kUnexpectedMessage;
  std::string message;
  // Filled for kServerError from the member's first ErrorHolder; zero/empty otherwise.
  std::int32_t server_error_code = 0;
  std::string class_name;

  // "code: message" (plus the Java class for server errors), for logs and test output.
  [[nodiscard]] std::string describe() const;
};

template <class T>
using Result = std::expected<T, HazelcastError>;

inline std::unexpected<HazelcastError> make_error(ErrorCode code, std::string message) {
  return std::unexpected(HazelcastError{code, std::move(message), 0, {}});
}

}  // namespace dita::sink::hazelcast
