#pragma once
// Public and private keys for Ed25519 (RFC 8032) and ECDSA P-256 (FIPS 186-4),
// wrapping OpenSSL EVP_PKEY. Objects are immutable after construction and
// safe to share between threads for verify/sign.

#include "crypto/error.hpp"

#include <boost/json/object.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace vellum::crypto {

enum class key_type { ed25519, p256 };

// "Ed25519" / "P-256".
std::string_view to_string(key_type t);

class public_key {
 public:
  // SubjectPublicKeyInfo PEM ("-----BEGIN PUBLIC KEY-----").
  [[nodiscard]] static result<public_key> from_pem(std::string_view pem);
  // RFC 7517 JWK: {"kty":"OKP","crv":"Ed25519","x":...} (RFC 8037) or
  // {"kty":"EC","crv":"P-256","x":...,"y":...}. A private member "d" is
  // refused (errc::malformed_key) so private keys never end up in configs.
  [[nodiscard]] static result<public_key> from_jwk(const boost::json::object& jwk);
  [[nodiscard]] static result<public_key> from_jwk_text(std::string_view json);
  // 32 raw Ed25519 public key bytes.
  [[nodiscard]] static result<public_key> from_ed25519_raw(byte_view raw);

  key_type type() const { return type_; }
  std::string to_pem() const;
  boost::json::object to_jwk() const;
  // Ed25519: the 32-byte key. P-256: the 65-byte uncompressed point.
  bytes raw() const;

  // Ed25519: sig is the 64-byte signature. P-256: sig is raw r||s, 64 bytes
  // (as JWS ES256), and msg is hashed with SHA-256.
  // Errors: bad_signature.
  [[nodiscard]] result<void> verify(byte_view msg, byte_view sig) const;

  struct impl;
  const impl& get() const { return *impl_; }

 private:
  public_key(std::shared_ptr<const impl> i, key_type t) : impl_(std::move(i)), type_(t) {}
  std::shared_ptr<const impl> impl_;
  key_type type_;
  friend class private_key;
};

class private_key {
 public:
  [[nodiscard]] static result<private_key> generate(key_type t);
  // PKCS#8 PEM (the "BEGIN PRIVATE KEY" label; not the legacy EC/RSA labels).
  [[nodiscard]] static result<private_key> from_pem(std::string_view pem);
  [[nodiscard]] static result<private_key> from_ed25519_seed(byte_view seed32);
  // RFC 7517 JWK with "d" (used by tests with the published vectors).
  [[nodiscard]] static result<private_key> from_jwk(const boost::json::object& jwk);

  key_type type() const { return type_; }
  std::string to_pem() const;
  const crypto::public_key& public_key() const { return public_; }

  // Ed25519: deterministic 64-byte signature. P-256: ECDSA over SHA-256(msg),
  // returned as raw r||s (64 bytes).
  [[nodiscard]] result<bytes> sign(byte_view msg) const;

  struct impl;

 private:
  private_key(std::shared_ptr<const impl> i, key_type t, crypto::public_key pub)
      : impl_(std::move(i)), type_(t), public_(std::move(pub)) {}
  std::shared_ptr<const impl> impl_;
  key_type type_;
  crypto::public_key public_;
};


// Constant-time comparison of two equally long secrets.
bool equal_constant_time(byte_view a, byte_view b);

// Cryptographically secure random bytes (RAND_bytes).
bytes random_bytes(std::size_t n);

}  // namespace vellum::crypto
