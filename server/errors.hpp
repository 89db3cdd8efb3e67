#pragma once
// The server's error codes and the ONE place where every error code of every
// module (crypto::errc, ledger::errc, server::errc) becomes an HTTP status and
// a stable machine-readable code string (docs/api.md "Errors").

#include "crypto/error.hpp"

#include <boost/json/object.hpp>

#include <string>
#include <string_view>

namespace vellum::server {

// Failures the server itself detects (request shape, statement rules, auth).
enum class errc {
  ok = 0,
  bad_request = 1,         // query parameter or path malformed
  invalid_payload,         // the signed payload breaks a statement rule
  wrong_log,               // the payload's "log" names another log's origin
  unknown_key,             // kid names no registered submitter
  key_revoked,             // submitter key revoked
  key_not_yet_valid,       // before not_before
  key_expired,             // after not_after
  stream_not_allowed,      // the key may not append to this stream
  unauthorized,            // reads need a token or client certificate
  forbidden,               // the token's role is not enough
  not_found,               // no such route or object
  method_not_allowed,
  payload_too_large,       // body over limits.max_body_bytes or batch too long
  headers_too_large,
  unsupported_media_type,  // wrong Content-Type for the endpoint
  batch_too_large,         // more events than limits.max_batch_events
  too_many_requests,       // the client has limits.max_expensive_per_ip exports running
  unavailable,             // shutting down / not ready
  internal,
};

const boost::system::error_category& server_category() noexcept;
inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), server_category()};
}

struct http_error_kind {
  unsigned status = 500;
  std::string_view code;      // stable code string, e.g. "revision_conflict"
  bool retry_after = false;   // add "Retry-After" (503s)
};

// Maps any Vellum error code to its HTTP status and stable code string.
// Unknown codes map to 500 "internal".
http_error_kind classify(const status& s) noexcept;

// An error as an API answer: {"error":{"code":..., "message":..., ...extra}}.
struct api_error {
  status code;                 // the code and, if known, the reason
  std::string message;         // human-readable; empty: code.message()
  boost::json::object extra;   // e.g. {"current_revision": 3}
};

// The JSON error object {"code","message",...extra} (without the outer "error").
boost::json::object error_object(const api_error& e);
// The full error body text.
std::string error_body(const api_error& e);

}  // namespace vellum::server

template <>
struct boost::system::is_error_code_enum<vellum::server::errc> : std::true_type {};
