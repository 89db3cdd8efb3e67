#pragma once
// Error codes of the crypto module. Every fallible function in crypto/ returns
// a result<T> (base/status.hpp) whose code is one of these (see error.cpp for
// the messages). Callers map them to HTTP statuses in exactly one place
// (server/errors.cpp) and to exit codes in the CLIs.

#include "base/status.hpp"

#include <boost/system/error_code.hpp>

#include <ostream>
#include <string_view>

namespace vellum::crypto {

enum class errc {
  ok = 0,
  bad_encoding = 1,      // base64/base64url/hex not strictly canonical
  malformed_key,         // PEM/JWK/verifier key cannot be parsed
  unsupported_key,       // parsed, but not Ed25519 or P-256
  algorithm_mismatch,    // JWS alg does not fit the key type, or alg unknown/none
  bad_signature,         // signature does not verify
  unknown_key,           // no key with that name/id
  malformed_note,        // signed note syntax is wrong
  malformed_checkpoint,  // checkpoint body syntax is wrong
  malformed_jws,         // compact JWS syntax or protected header is wrong
  malformed_json,        // not I-JSON (invalid UTF-8, duplicate names, bad number)
  malformed_proof,       // proof has the wrong length or bad indexes
  proof_mismatch,        // proof does not lead to the claimed root
  inconsistent_trees,    // consistency proof does not bind the two roots
  malformed_entry,       // leaf entry / record bytes cannot be decoded
  commitment_mismatch,   // record + salt do not hash to the leaf's commitment
  malformed_tile_path,   // C2SP tile path does not parse
  io_error,              // reading or writing a file failed
  internal,              // OpenSSL failed in a way input cannot explain
};

const boost::system::error_category& crypto_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), crypto_category()};
}

// The code's stable machine-readable name: the enumerator's identifier
// ("bad_signature", "proof_mismatch"), what --json reports carry.
std::string_view code_name(errc e) noexcept;

// So that test frameworks and logs can print codes by name.
inline std::ostream& operator<<(std::ostream& os, errc e) { return os << make_error_code(e).message(); }

}  // namespace vellum::crypto

template <>
struct boost::system::is_error_code_enum<vellum::crypto::errc> : std::true_type {};
