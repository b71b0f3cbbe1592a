// An EnvLookup over a fixed map, so settings tests control exactly which DITA_V2_* variables
// exist (shared by the runtime settings tests).
#pragma once

#include <map>
#include <optional>
#include <string>

#include "dita/runtime/settings.hpp"

namespace dita::runtime::testing {

inline EnvLookup env_of(std::map<std::string, std::string> values) {
  return [values = std::move(values)](const std::string& name) -> std::optional<std::string> {
    const auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

}  // namespace dita::runtime::testing
