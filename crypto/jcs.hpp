#pragma once
// JSON Canonicalization Scheme (RFC 8785): the one byte form of a JSON value
// that Vellum hashes (state_sha256 of a folded stream), so that any other JCS
// implementation gets the same bytes and the same hash. Numbers are written as
// ECMAScript's Number.prototype.toString writes the IEEE double (integers
// beyond 2^53 therefore lose what a double cannot hold, as in every JCS
// implementation); strings as JSON.stringify escapes them; object members
// sorted by the UTF-16 code units of their names; no whitespace.

#include "crypto/error.hpp"

#include <boost/json/value.hpp>

#include <string>
#include <string_view>

namespace vellum::crypto {

// The canonical text of `v`. Errors: malformed_json for a number that is not
// finite or a string that is not valid UTF-8.
[[nodiscard]] result<std::string> jcs_serialize(const boost::json::value& v);

// Appends `s` as a JSON string literal the way JSON.stringify and RFC 8785
// §3.2.2.2 write it: '"' and '\\' escaped, control characters as \b \f \n
// \r \t or \u00xx (lower-case hex), every other byte verbatim (UTF-8 passes
// through). The one string escaping of Vellum: JCS and the event record
// (crypto/leaf_entry.hpp) both use it.
void append_json_string(std::string& out, std::string_view s);

// One IEEE double as ECMAScript writes it (RFC 8785 §3.2.2.3): "0" for ±0,
// the shortest digits that round-trip, in fixed notation for exponents from
// -6 to 20 and as d.ddde±n otherwise. `d` must be finite.
std::string jcs_number(double d);

}  // namespace vellum::crypto
