// Helpers for the journal tests: a private temp directory and whole-file byte access.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "dita/journal/journal.hpp"

namespace dita::journal::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern = "/tmp/dita-journal-test-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  [[nodiscard]] std::filesystem::path file(const std::string& name) const { return path_ / name; }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::string read_bytes(const std::filesystem::path& path) {
  std::string bytes(static_cast<std::size_t>(std::filesystem::file_size(path)), '\0');
  std::ifstream in(path, std::ios::binary);
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return bytes;
}

inline void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

struct ReadOutcome {
  std::vector<Record> records;
  std::optional<JournalError> error;  // nullopt: clean end
};

// Reads every record until a clean end or the first error.
inline ReadOutcome read_all(const std::filesystem::path& path) {
  ReadOutcome outcome;
  auto reader = JournalReader::open(path);
  if (!reader) {
    outcome.error = reader.error();
    return outcome;
  }
  for (;;) {
    auto next = reader->next();
    if (!next) {
      outcome.error = next.error();
      return outcome;
    }
    if (!next->has_value()) return outcome;
    outcome.records.push_back(std::move(**next));
  }
}

// "prefix" + number without operator+(const char*, std::string&&), which trips a GCC 12
// -Wrestrict false positive at -O2 and above.
template <class Integer>
std::string numbered(std::string_view prefix, Integer number) {
  std::string text(prefix);
  text += std::to_string(number);
  return text;
}

// Deterministic payload of a given size whose bytes depend on a seed.
inline std::string make_payload(std::size_t size, std::uint32_t seed) {
  std::string payload(size, '\0');
  std::uint32_t state = seed * 2654435761U + 1U;
  for (char& c : payload) {
    state = state * 1664525U + 1013904223U;
    c = static_cast<char>(state >> 24);
  }
  return payload;
}

}  // namespace dita::journal::testing
