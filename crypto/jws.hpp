#pragma once
// JWS compact serialization (RFC 7515 §7.1) with the algorithms Vellum
// accepts: EdDSA over Ed25519 (RFC 8037 §3.1) and ES256 (RFC 7518 §3.4, the
// signature is raw r||s, 64 bytes). "none" and every other alg are refused.

#include "crypto/error.hpp"
#include "crypto/keys.hpp"

#include <boost/json/object.hpp>

#include <string>
#include <string_view>

namespace vellum::crypto {

// "EdDSA" for Ed25519, "ES256" for P-256.
std::string_view jws_alg_for(key_type t);

struct jws {
  std::string compact;              // the whole input, as received
  std::string_view signing_input;   // view into compact: "<header>.<payload>"
  boost::json::object header;       // parsed protected header (I-JSON)
  std::string alg;                  // header "alg"
  std::string kid;                  // header "kid" (may be empty if absent)
  bytes payload;                    // decoded payload bytes
  bytes signature;                  // decoded signature bytes

  jws() = default;
  jws(const jws&);
  jws& operator=(const jws&);
  jws(jws&&) noexcept;
  jws& operator=(jws&&) noexcept;
};

// Parses compact serialization structurally: three base64url parts (strict),
// the protected header is an I-JSON object with string "alg"; "kid" if present
// is a string; a "crit" header is refused (Vellum implements no extension).
// Does not check the signature. Errors: malformed_jws, malformed_json, bad_encoding.
[[nodiscard]] result<jws> jws_parse(std::string_view compact);

// The payload of a stored (already verified) compact JWS as an I-JSON
// object: what the event says. Does not check the signature. Errors:
// jws_parse's, or malformed_json when the payload is not an object.
[[nodiscard]] result<boost::json::object> jws_payload_object(std::string_view compact);

// The JWS Signing Input of a compact serialization (RFC 7515 §7.1:
// BASE64URL(header) '.' BASE64URL(payload)): everything before the last
// '.'. What a signature covers, so what identifies a statement: two
// signatures over the same input (an ECDSA signature and its (r, n - s)
// twin, or any re-signing) are the same statement.
std::string_view jws_signing_input(std::string_view compact);

// Checks that `alg` fits the key type (EdDSA ↔ Ed25519, ES256 ↔ P-256; else
// algorithm_mismatch), then the signature over signing_input (bad_signature).
[[nodiscard]] result<void> jws_verify(const jws& token, const public_key& key);

// Signs `payload` with `key`. `extra_header` members (e.g. "kid", "typ") are
// copied into the protected header; "alg" is always set from the key type.
[[nodiscard]] result<std::string> jws_sign(byte_view payload, const private_key& key,
                                           const boost::json::object& extra_header = {});

}  // namespace vellum::crypto
