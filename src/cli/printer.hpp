// src/cli/printer.hpp
//
// Owns how the `dita` command shows kernel activity to an operator: one line per
// transition, command and diagnostic, filtered by verbosity (QUIET: warnings and worse;
// VERBOSE: transitions, commands, diagnostics; TRACE: also every input and outcome as
// JSON). In DEBUG mode the image of every changed slot follows its outcome.
#pragma once

#include <ostream>

#include "dita/codec/json_codec.hpp"
#include "dita/core/kernel.hpp"

namespace dita::cli {

class OutcomePrinter {
 public:
  OutcomePrinter(std::ostream& out, core::KernelVerbosity verbosity, core::KernelMode mode,
                 codec::CodecContext context)
      : out_(out), verbosity_(verbosity), mode_(mode), context_(context) {}

  void print(const core::KernelInput& input, const core::KernelOutcome& outcome,
             const core::Kernel& kernel) const;
  void summary(const core::Kernel& kernel) const;

 private:
  std::ostream& out_;
  core::KernelVerbosity verbosity_;
  core::KernelMode mode_;
  codec::CodecContext context_;
};

}  // namespace dita::cli
