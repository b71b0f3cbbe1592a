// Names and descriptions for dita::sink::hazelcast errors.
#include "dita/sink/hazelcast/error.hpp"

namespace dita::sink::hazelcast {

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
    case ErrorCode::kAuthenticationFailed:
      return "AUTHENTICATION_FAILED";
    case ErrorCode::kMalformedMessage:
      return "MALFORMED_MESSAGE";
    case ErrorCode::kUnexpectedMessage:
      return "UNEXPECTED_MESSAGE";
    case ErrorCode::kUnexpectedValueType:
      return "UNEXPECTED_VALUE_TYPE";
    case ErrorCode::kServerError:
      return "SERVER_ERROR";
  }
  return "UNKNOWN";
}

std::string HazelcastError::describe() const {
  std::string text(to_string(code));
  text += ": ";
  text += message;
  if (!class_name.empty()) {
    text += " [";
    text += class_name;
    text += " code ";
    text += std::to_string(server_error_code);
    text += "]";
  }
  return text;
}

}  // namespace dita::sink::hazelcast
