#pragma once
// I-JSON (RFC 7493) parsing: the only JSON parser Vellum uses for untrusted
// input. Accepts exactly one JSON value that is valid UTF-8 (no lone
// surrogates in escapes either), has no duplicate member names in any object,
// and whose numbers fit an IEEE double (no overflow to infinity). Anything else
// is errc::malformed_json with a message naming the problem.

#include "crypto/error.hpp"

#include <boost/json/value.hpp>

#include <string>
#include <string_view>

namespace vellum::crypto {

// Parses text. On failure returns malformed_json with the reason, e.g.
// "duplicate member name \"kid\"".
[[nodiscard]] result<boost::json::value> parse_ijson(std::string_view text);

}  // namespace vellum::crypto
