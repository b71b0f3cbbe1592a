// dita/codec/state_codec.hpp
//
// Owns the canonical binary form of core::KernelState, the payload of a kernel snapshot:
// every field the kernel remembers, little-endian, in a fixed order, behind a magic and a
// format version. Equal states give equal bytes. Decoding checks structure (lengths, enum
// ranges, text rules) and names the first bad field; whether a state fits a configuration
// is core::Kernel::restore's check.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "dita/codec/json_codec.hpp"
#include "dita/core/kernel.hpp"

namespace dita::codec {

inline constexpr std::uint32_t kStateFormatVersion = 1;

std::string encode_state(const core::KernelState& state);
Decoded<core::KernelState> decode_state(std::string_view bytes);

}  // namespace dita::codec
