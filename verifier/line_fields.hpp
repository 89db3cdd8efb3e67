#pragma once
// Typed reads of the members of a bundle line (docs/formats.md §8) whose
// canonical form the checker has already established. Each returns nullopt
// (or an empty view) for a value of the wrong type; the caller says which
// member was wrong. Pure and thread-safe.

#include "crypto/sha256.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string_view>

namespace vellum::verifier {

// True when `o` has exactly these member names, in this order.
[[nodiscard]] bool has_members(const boost::json::object& o, std::initializer_list<std::string_view> names);

// A non-negative integer (stored as int64 or uint64).
[[nodiscard]] std::optional<std::uint64_t> as_u64(const boost::json::value& v);

// A SHA-256 hash in canonical base64.
[[nodiscard]] std::optional<crypto::hash> as_hash(const boost::json::value& v);

// The string, or an empty view when `v` is not a string. The view lives as long as `v`.
[[nodiscard]] std::string_view str(const boost::json::value& v);

}  // namespace vellum::verifier
