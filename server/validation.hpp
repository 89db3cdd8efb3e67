#pragma once
// Turns one compact JWS into a ledger::statement, or says precisely why not
// (docs/api.md "Statements").
// Pure function of its inputs: safe on any thread, runs on the I/O threads.

#include "crypto/stream_name.hpp"
#include "ledger/ledger.hpp"
#include "server/config.hpp"
#include "server/errors.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace vellum::server {

// The statement, or the failure: its code (server::errc or crypto::errc,
// mapped to HTTP by server/errors.hpp) and a reason naming the member or key.
using validation_result = result<ledger::statement>;

// Checks, in order, and stops at the first failure:
//  1. JWS syntax and protected header (crypto::jws_parse): 400 malformed_jws / malformed_json;
//     a missing kid is malformed_jws.
//  2. kid names a submitter in `creds`: else 401 unknown_key.
//  3. signature and alg against that key: 401 bad_signature / algorithm_mismatch.
//  4. key status at `now_us` (µs since epoch): 403 key_revoked / key_not_yet_valid / key_expired.
//  5. payload is an I-JSON object following the statement rules: 400 malformed_json / invalid_payload
//     (the message names the member).
//  6. the key's stream prefixes allow the stream: 403 stream_not_allowed.
// A payload is never repaired: non-canonical values (e.g. an upper-case UUID) are refused.
// `origin` is this log's (checkpoint origin): a payload member "log" must
// name it, and must be there when creds.require_log_binding.
validation_result validate_statement(std::string_view compact, const credentials& creds,
                                     std::uint64_t now_us, std::string_view origin);

// The payload rules alone (step 5), for a payload already taken out of a
// verified JWS. On success fills event_id, stream, type, amends, expected.
// `origin` and `require_log` as for validate_statement.
validation_result validate_payload(std::string_view payload, std::string_view origin, bool require_log = false);

// Canonical UUID: 8-4-4-4-12 lower-case hex digits.
bool is_canonical_uuid(std::string_view s);
// Stream name: crypto::is_valid_stream (crypto/stream_name.hpp).
using crypto::is_valid_stream;

}  // namespace vellum::server
