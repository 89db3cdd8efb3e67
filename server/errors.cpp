// Error codes to HTTP statuses: the one mapping (see errors.hpp).

#include "server/errors.hpp"

#include "ledger/ledger.hpp"

#include <boost/json/serialize.hpp>

namespace vellum::server {
namespace {

// boost::system::error_category has a protected non-virtual destructor by
// design (Boost silences the same warning itself).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "vellum.server"; }
  std::string message(int ev) const override { return describe(ev); }
  char const* message(int ev, char*, std::size_t) const noexcept override { return describe(ev); }

 private:
  static const char* describe(int ev) noexcept {
    switch (static_cast<errc>(ev)) {
      case errc::ok: return "success";
      case errc::bad_request: return "the request is malformed";
      case errc::invalid_payload: return "the signed payload is not a valid Vellum statement";
      case errc::wrong_log: return "the statement is meant for another log";
      case errc::unknown_key: return "the kid names no registered submitter key";
      case errc::key_revoked: return "the submitter key is revoked";
      case errc::key_not_yet_valid: return "the submitter key is not valid yet";
      case errc::key_expired: return "the submitter key has expired";
      case errc::stream_not_allowed: return "the submitter key may not append to this stream";
      case errc::unauthorized: return "a bearer token or client certificate is required";
      case errc::forbidden: return "the credentials do not grant this";
      case errc::not_found: return "not found";
      case errc::method_not_allowed: return "method not allowed";
      case errc::payload_too_large: return "the request body is too large";
      case errc::headers_too_large: return "the request headers are too large";
      case errc::unsupported_media_type: return "unsupported Content-Type for this endpoint";
      case errc::batch_too_large: return "too many events in one batch";
      case errc::too_many_requests: return "too many expensive requests from this client at once";
      case errc::unavailable: return "the server is not accepting this now";
      case errc::internal: return "internal error";
    }
    return "unknown server error";
  }
};
#pragma GCC diagnostic pop

http_error_kind classify_server(errc e) noexcept {
  switch (e) {
    case errc::ok: return {200, "ok"};
    case errc::bad_request: return {400, "bad_request"};
    case errc::invalid_payload: return {400, "invalid_payload"};
    case errc::wrong_log: return {400, "wrong_log"};
    case errc::unknown_key: return {401, "unknown_key"};
    case errc::key_revoked: return {403, "key_revoked"};
    case errc::key_not_yet_valid: return {403, "key_not_yet_valid"};
    case errc::key_expired: return {403, "key_expired"};
    case errc::stream_not_allowed: return {403, "stream_not_allowed"};
    case errc::unauthorized: return {401, "unauthorized"};
    case errc::forbidden: return {403, "forbidden"};
    case errc::not_found: return {404, "not_found"};
    case errc::method_not_allowed: return {405, "method_not_allowed"};
    case errc::payload_too_large: return {413, "payload_too_large"};
    case errc::headers_too_large: return {431, "headers_too_large"};
    case errc::unsupported_media_type: return {415, "unsupported_media_type"};
    case errc::batch_too_large: return {413, "batch_too_large"};
    case errc::too_many_requests: return {429, "too_many_requests", true};
    case errc::unavailable: return {503, "unavailable", true};
    case errc::internal: return {500, "internal"};
  }
  return {500, "internal"};
}

http_error_kind classify_crypto(crypto::errc e) noexcept {
  using c = crypto::errc;
  switch (e) {
    case c::bad_encoding:
    case c::malformed_jws: return {400, "malformed_jws"};
    case c::malformed_json: return {400, "malformed_json"};
    case c::algorithm_mismatch: return {401, "algorithm_mismatch"};
    case c::bad_signature: return {401, "bad_signature"};
    case c::unknown_key: return {401, "unknown_key"};
    case c::malformed_proof: return {400, "bad_request"};
    case c::malformed_tile_path: return {404, "not_found"};
    default: return {500, "internal"};
  }
}

http_error_kind classify_ledger(ledger::errc e) noexcept {
  using l = ledger::errc;
  switch (e) {
    case l::not_found: return {404, "not_found"};
    case l::revision_conflict: return {409, "revision_conflict"};
    case l::event_id_conflict: return {409, "event_id_conflict"};
    case l::storage_full: return {503, "storage_full", true};
    case l::overloaded: return {503, "overloaded", true};
    case l::shutting_down: return {503, "shutting_down", true};
    case l::invalid_argument: return {400, "bad_request"};
    case l::reference_not_found: return {409, "reference_not_found"};
    default: return {500, "internal"};
  }
}

}  // namespace

const boost::system::error_category& server_category() noexcept {
  static const category instance;
  return instance;
}

http_error_kind classify(const status& s) noexcept {
  const auto& ec = s.code();
  if (ec.category() == server_category()) return classify_server(static_cast<errc>(ec.value()));
  if (ec.category() == crypto::crypto_category())
    return classify_crypto(static_cast<crypto::errc>(ec.value()));
  if (ec.category() == ledger::ledger_category())
    return classify_ledger(static_cast<ledger::errc>(ec.value()));
  return {500, "internal"};
}

boost::json::object error_object(const api_error& e) {
  boost::json::object o;
  o["code"] = classify(e.code).code;
  o["message"] = e.message.empty() ? e.code.message() : e.message;
  for (const auto& kv : e.extra) o[kv.key()] = kv.value();
  return o;
}

std::string error_body(const api_error& e) {
  boost::json::object o;
  o["error"] = error_object(e);
  return boost::json::serialize(o);
}

}  // namespace vellum::server
