// Statement validation (see validation.hpp).

#include "server/validation.hpp"

#include "crypto/encoding.hpp"
#include "crypto/ijson.hpp"
#include "crypto/jws.hpp"
#include "crypto/leaf_entry.hpp"

#include <boost/json.hpp>

namespace vellum::server {
namespace {

namespace json = boost::json;

validation_result failure(const status& code, std::string message) {
  return status(code.code(), std::move(message));
}

validation_result invalid(std::string message) {
  return failure(errc::invalid_payload, std::move(message));
}

bool is_hex_lower(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// Non-empty string member check; returns the view or nullopt.
std::optional<std::string_view> string_member(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string_view(v->get_string());
}

}  // namespace

bool is_canonical_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !is_hex_lower(s[i])) return false;
  }
  return true;
}

validation_result validate_payload(std::string_view payload, std::string_view origin, bool require_log) {
  auto parsed = crypto::parse_ijson(payload);
  if (!parsed) return failure(parsed.error(), "payload is not I-JSON: " + parsed.error().message());
  if (!parsed->is_object()) return invalid("payload must be a JSON object");
  const auto& o = parsed->get_object();

  static constexpr std::string_view known[] = {"event_id", "stream", "type", "expected_revision",
                                               "occurred_at", "author", "data", "metadata",
                                               "amends", "voids", "reason", "meaning", "log"};
  for (const auto& kv : o) {
    if (std::find(std::begin(known), std::end(known), kv.key()) == std::end(known))
      return invalid("unknown member \"" + std::string(kv.key()) + "\"");
  }

  // A statement meant for one log is refused by every other: a copy sent to
  // another hospital's log (or a test log) cannot be replayed there.
  if (const auto* lg = o.if_contains("log")) {
    if (!lg->is_string() || lg->get_string().empty()) return invalid("log: must be the origin of the log it is for");
    if (lg->get_string() != origin)
      return failure(errc::wrong_log, "log: this statement is for the log \"" + std::string(lg->get_string()) +
                                          "\", this log is \"" + std::string(origin) + "\"");
  } else if (require_log) {
    return invalid("log: required by this log's configuration (\"log\": \"" + std::string(origin) + "\")");
  }

  ledger::statement st;
  auto event_id = string_member(o, "event_id");
  if (!event_id) return invalid("event_id: required string");
  if (!is_canonical_uuid(*event_id))
    return invalid("event_id: must be a UUID in canonical lower-case 8-4-4-4-12 hex form");
  st.event_id = *event_id;

  auto stream = string_member(o, "stream");
  if (!stream) return invalid("stream: required string");
  if (!is_valid_stream(*stream))
    return invalid("stream: must be 1-256 characters of A-Z a-z 0-9 - _ . : @, starting with a letter or digit");
  st.stream = *stream;

  auto type = string_member(o, "type");
  if (!type || type->empty() || type->size() > 256) return invalid("type: required string of 1-256 characters");
  st.type = *type;

  const auto* er = o.if_contains("expected_revision");
  if (!er) return invalid("expected_revision: required (a non-negative integer, \"any\" or \"no_stream\")");
  if (er->is_uint64()) {
    st.expected = ledger::expected_revision::exact(er->get_uint64());
  } else if (er->is_int64() && er->get_int64() >= 0) {
    st.expected = ledger::expected_revision::exact(static_cast<std::uint64_t>(er->get_int64()));
  } else if (er->is_string() && er->get_string() == "any") {
    st.expected = ledger::expected_revision::any();
  } else if (er->is_string() && er->get_string() == "no_stream") {
    st.expected = ledger::expected_revision::no_stream();
  } else {
    return invalid("expected_revision: must be a non-negative integer, \"any\" or \"no_stream\"");
  }

  auto occurred = string_member(o, "occurred_at");
  if (!occurred || !crypto::parse_rfc3339_us(*occurred))
    return invalid("occurred_at: required RFC 3339 date-time, e.g. 2026-03-09T10:00:00Z");

  const auto* author = o.if_contains("author");
  if (!author) return invalid("author: required (a string or an object {id, name, role})");
  if (author->is_string()) {
    if (author->get_string().empty()) return invalid("author: must not be empty");
  } else if (author->is_object()) {
    const auto& a = author->get_object();
    for (const auto& kv : a) {
      if (kv.key() != "id" && kv.key() != "name" && kv.key() != "role")
        return invalid("author." + std::string(kv.key()) + ": unknown member");
      if (!kv.value().is_string() || kv.value().get_string().empty())
        return invalid("author." + std::string(kv.key()) + ": must be a non-empty string");
    }
    if (!a.contains("id")) return invalid("author.id: required");
  } else {
    return invalid("author: must be a string or an object {id, name, role}");
  }

  const auto* data = o.if_contains("data");
  if (!data || !data->is_object()) return invalid("data: required JSON object");
  if (const auto* m = o.if_contains("metadata"); m && !m->is_object())
    return invalid("metadata: must be a JSON object");

  const auto* amends = o.if_contains("amends");
  const auto* voids = o.if_contains("voids");
  const auto* reason = o.if_contains("reason");
  if (amends && voids) return invalid("voids: not together with amends (an event corrects or withdraws, not both)");
  if (amends) {
    if (!amends->is_string() || !is_canonical_uuid(amends->get_string()))
      return invalid("amends: must be the canonical lower-case UUID of the corrected event");
    if (amends->get_string() == st.event_id) return invalid("amends: an event cannot amend itself");
    if (!reason) return invalid("reason: required when amends is given");
    st.amends = amends->get_string();
  }
  if (voids) {
    if (!voids->is_string() || !is_canonical_uuid(voids->get_string()))
      return invalid("voids: must be the canonical lower-case UUID of the withdrawn event");
    if (voids->get_string() == st.event_id) return invalid("voids: an event cannot void itself");
    if (!reason) return invalid("reason: required when voids is given");
    st.voids = voids->get_string();
  }
  if (reason) {
    if (!amends && !voids) return invalid("reason: only allowed together with amends or voids");
    if (!reason->is_string() || reason->get_string().empty())
      return invalid("reason: must be a non-empty string");
  }
  if (const auto* meaning = o.if_contains("meaning");
      meaning && (!meaning->is_string() || meaning->get_string().empty()))
    return invalid("meaning: must be a non-empty string");

  // What the query indexes key the event by, read as every reader reads it.
  const ledger::query_terms terms = ledger::query_terms_of(o);
  st.author_id = terms.author_id;
  st.occurred_at_us = terms.occurred_at_us;
  return st;
}

validation_result validate_statement(std::string_view compact, const credentials& creds,
                                     std::uint64_t now_us, std::string_view origin) {
  auto token = crypto::jws_parse(compact);
  if (!token) {
    status code = token.error();
    if (code == crypto::errc::bad_encoding) code = status(crypto::errc::malformed_jws, code.reason());
    return failure(code, "JWS: " + code.message());
  }
  if (token->kid.empty()) return failure(crypto::errc::malformed_jws, "JWS: protected header has no \"kid\"");
  const auto* sub = creds.find_submitter(token->kid);
  if (!sub) return failure(errc::unknown_key, "no registered submitter key \"" + token->kid + "\"");
  if (auto v = sub->verify(*token); !v) {
    if (v.error() == crypto::errc::algorithm_mismatch)
      return failure(v.error(), "alg \"" + token->alg + "\" does not fit key \"" + sub->kid + "\" (" +
                                    std::string(crypto::jws_alg_for(sub->key.type())) + " expected)");
    return failure(crypto::errc::bad_signature, "signature does not verify with key \"" + sub->kid + "\"");
  }
  if (sub->revoked) return failure(errc::key_revoked, "key \"" + sub->kid + "\" is revoked");
  if (sub->not_before_us && now_us < *sub->not_before_us)
    return failure(errc::key_not_yet_valid, "key \"" + sub->kid + "\" is valid from " +
                                                crypto::format_time_us(*sub->not_before_us));
  if (sub->not_after_us && now_us > *sub->not_after_us)
    return failure(errc::key_expired, "key \"" + sub->kid + "\" expired at " +
                                          crypto::format_time_us(*sub->not_after_us));
  auto r = validate_payload(crypto::as_chars(token->payload), origin, creds.require_log_binding);
  if (!r) return r;
  if (!sub->allows_stream(r->stream))
    return failure(errc::stream_not_allowed,
                   "key \"" + sub->kid + "\" may not append to stream \"" + r->stream + "\"");
  r->jws = std::string(compact);
  r->kid = token->kid;
  return r;
}

}  // namespace vellum::server
