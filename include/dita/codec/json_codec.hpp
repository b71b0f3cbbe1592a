// dita/codec/json_codec.hpp
//
// Owns the canonical JSON form of the kernel's contracts: kernel inputs, outcomes, slot
// images, the account and the kernel configuration. Canonical means sorted keys, no
// whitespace and decimals as exact strings, so equal values always give equal bytes; the
// journal and `dita replay` rely on that. Decoding validates every field and names the
// first bad one; doubles are accepted only here, at the edge, and converted to fixed point
// with the rounding rule of dita/core/fixed_point.hpp.
#pragma once

#include <expected>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "dita/core/contracts.hpp"
#include "dita/core/kernel.hpp"

namespace dita::codec {

struct CodecError {
  std::string field;    // dotted path of the offending field, e.g. "intent.size"
  std::string message;  // what is wrong and what is allowed
};

template <class T>
using Decoded = std::expected<T, CodecError>;

// The client order id prefix travels with every encode/decode because order ids are
// rendered as the venue sees them ("ditas0t1l0a0").
struct CodecContext {
  std::string_view order_id_prefix = "dita";
};

nlohmann::json to_json(const core::KernelInput& input, const CodecContext& context);
nlohmann::json to_json(const core::KernelOutcome& outcome, const CodecContext& context);
nlohmann::json to_json(const core::TradeSlot& slot, const CodecContext& context);
nlohmann::json to_json(const core::AccountSnapshot& account);
nlohmann::json to_json(const core::KernelDiagnostic& diagnostic);
nlohmann::json to_json(const core::KernelTransition& transition);
nlohmann::json to_json(const core::VenueCommand& command, const CodecContext& context);

Decoded<core::KernelInput> input_from_json(const nlohmann::json& json, const CodecContext& context);

// Canonical bytes (what the journal stores).
std::string canonical(const nlohmann::json& json);

// Appends the canonical bytes of x to out (byte-identical to canonical(to_json(x))) without
// building a JSON value; `out` keeps its capacity, so a reused string allocates nothing.
// Text that is not well-formed UTF-8 (only possible in diagnostic texts and the order id
// prefix) throws nlohmann::json::type_error 316 as canonical(to_json(x)) does, and leaves
// `out` as it was.
void append_canonical(std::string& out, const core::KernelInput& input,
                      const CodecContext& context);
void append_canonical(std::string& out, const core::KernelOutcome& outcome,
                      const CodecContext& context);
void append_canonical(std::string& out, const core::TradeSlot& slot, const CodecContext& context);
void append_canonical(std::string& out, const core::AccountSnapshot& account);
void append_canonical(std::string& out, const core::KernelDiagnostic& diagnostic);
void append_canonical(std::string& out, const core::KernelTransition& transition);
void append_canonical(std::string& out, const core::VenueCommand& command,
                      const CodecContext& context);

// Both write through append_canonical: the same bytes as canonical(to_json(x)).
std::string encode_input(const core::KernelInput& input, const CodecContext& context);
std::string encode_outcome(const core::KernelOutcome& outcome, const CodecContext& context);
Decoded<core::KernelInput> decode_input(std::string_view text, const CodecContext& context);

// Kernel configuration, as stored in the journal header so replay rebuilds the same kernel.
// The returned config's order_id_prefix points into `prefix_storage`.
nlohmann::json config_to_json(const core::KernelConfig& config);
Decoded<core::KernelConfig> config_from_json(const nlohmann::json& json,
                                             std::string& prefix_storage);

// Edge conversions. Accepts a JSON string ("0.01") or number (0.01); rejects NaN/inf text,
// negatives where `allow_negative` is false, and values beyond int64 at 10^-8.
Decoded<std::int64_t> decimal_field(const nlohmann::json& object, std::string_view key,
                                    std::string_view path, bool required, bool allow_negative);

}  // namespace dita::codec
