// JWS compact serialization (RFC 7515 §7.1) for EdDSA (RFC 8037) and ES256
// (RFC 7518 §3.4). Parsing is structural and strict; verification first binds
// the header's alg to the key's type, so a token can never pick its own
// algorithm (RFC 8725 §3.1).

#include "crypto/jws.hpp"

#include "crypto/encoding.hpp"
#include "crypto/ijson.hpp"

#include <boost/json/serialize.hpp>

namespace vellum::crypto {

namespace {

result<jws> fail(errc e, std::string reason) { return status(e, std::move(reason)); }

}  // namespace

std::string_view jws_alg_for(key_type t) {
  switch (t) {
    case key_type::ed25519: return "EdDSA";
    case key_type::p256: return "ES256";
  }
  return "none";
}

// signing_input views into compact, so copies and moves re-point it at their
// own string (a moved short string keeps no heap buffer to share).
jws::jws(const jws& other)
    : compact(other.compact),
      signing_input(std::string_view(compact).substr(0, other.signing_input.size())),
      header(other.header),
      alg(other.alg),
      kid(other.kid),
      payload(other.payload),
      signature(other.signature) {}

jws& jws::operator=(const jws& other) {
  if (this != &other) *this = jws(other);
  return *this;
}

jws::jws(jws&& other) noexcept
    : compact(std::move(other.compact)),
      signing_input(std::string_view(compact).substr(0, other.signing_input.size())),
      header(std::move(other.header)),
      alg(std::move(other.alg)),
      kid(std::move(other.kid)),
      payload(std::move(other.payload)),
      signature(std::move(other.signature)) {
  other.signing_input = {};
}

jws& jws::operator=(jws&& other) noexcept {
  if (this != &other) {
    const std::size_t input_size = other.signing_input.size();
    compact = std::move(other.compact);
    signing_input = std::string_view(compact).substr(0, input_size);
    header = std::move(other.header);
    alg = std::move(other.alg);
    kid = std::move(other.kid);
    payload = std::move(other.payload);
    signature = std::move(other.signature);
    other.signing_input = {};
  }
  return *this;
}

result<jws> jws_parse(std::string_view compact) {
  // RFC 7515 §7.1: BASE64URL(header) '.' BASE64URL(payload) '.' BASE64URL(sig).
  const auto dot1 = compact.find('.');
  const auto dot2 = dot1 == std::string_view::npos ? dot1 : compact.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || compact.find('.', dot2 + 1) != std::string_view::npos) {
    return fail(errc::malformed_jws, "compact JWS must have exactly three parts");
  }
  const auto header_b64 = compact.substr(0, dot1);
  const auto payload_b64 = compact.substr(dot1 + 1, dot2 - dot1 - 1);
  const auto signature_b64 = compact.substr(dot2 + 1);
  if (header_b64.empty() || signature_b64.empty()) {
    return fail(errc::malformed_jws, "empty protected header or signature");
  }

  auto header_bytes = base64url_decode(header_b64);
  if (!header_bytes) return fail(errc::bad_encoding, "protected header is not base64url");
  auto payload = base64url_decode(payload_b64);
  if (!payload) return fail(errc::bad_encoding, "payload is not base64url");
  auto signature = base64url_decode(signature_b64);
  if (!signature) return fail(errc::bad_encoding, "signature is not base64url");

  auto header = parse_ijson(as_chars(*header_bytes));
  if (!header) return header.error().with_reason("protected header");
  if (!header->is_object()) {
    return fail(errc::malformed_jws, "protected header is not a JSON object");
  }
  auto& members = header->get_object();

  const auto* alg = members.if_contains("alg");
  if (!alg || !alg->is_string()) {
    return fail(errc::malformed_jws, "protected header needs a string \"alg\"");
  }
  const auto* kid = members.if_contains("kid");
  if (kid && !kid->is_string()) {
    return fail(errc::malformed_jws, "protected header \"kid\" is not a string");
  }
  // RFC 7515 §4.1.11: a recipient must refuse extensions it does not
  // understand; Vellum implements none. RFC 7797 "b64" changes what is
  // signed, so it is refused even without "crit".
  if (members.contains("crit")) {
    return fail(errc::malformed_jws, "\"crit\" header extensions are not supported");
  }
  if (members.contains("b64")) {
    return fail(errc::malformed_jws, "\"b64\" (RFC 7797) is not supported");
  }

  jws token;
  token.compact = std::string(compact);
  token.signing_input = std::string_view(token.compact).substr(0, dot2);
  token.alg = std::string(alg->get_string());
  if (kid) token.kid = std::string(kid->get_string());
  token.header = std::move(members);
  token.payload = std::move(*payload);
  token.signature = std::move(*signature);
  return token;
}

result<void> jws_verify(const jws& token, const public_key& key) {
  // RFC 7515 §5.2 step 8 with the alg pinned to the key type.
  if (token.alg != jws_alg_for(key.type())) return make_error_code(errc::algorithm_mismatch);
  return key.verify(as_bytes(token.signing_input), token.signature);
}

result<std::string> jws_sign(byte_view payload, const private_key& key,
                             const boost::json::object& extra_header) {
  boost::json::object header;
  header["alg"] = jws_alg_for(key.type());
  for (const auto& member : extra_header) {
    if (member.key() != "alg") header[member.key()] = member.value();
  }
  const std::string header_json = boost::json::serialize(header);
  std::string out = base64url_encode(as_bytes(header_json));
  out += '.';
  out += base64url_encode(payload);
  auto signature = key.sign(as_bytes(out));
  if (!signature) return signature.error();
  out += '.';
  out += base64url_encode(*signature);
  return out;
}

std::string_view jws_signing_input(std::string_view compact) {
  const auto dot = compact.rfind('.');
  return dot == std::string_view::npos ? compact : compact.substr(0, dot);
}

result<boost::json::object> jws_payload_object(std::string_view compact) {
  auto token = jws_parse(compact);
  if (!token) return token.error();
  auto payload = parse_ijson(as_chars(token->payload));
  if (!payload) return payload.error();
  if (!payload->is_object()) return status(errc::malformed_json, "the JWS payload is not a JSON object");
  return std::move(payload->get_object());
}

}  // namespace vellum::crypto
