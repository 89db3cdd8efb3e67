#pragma once
// Ed25519 verification (RFC 8032 §5.1.7) for a public key known in advance,
// several times faster than OpenSSL's general verify.
//
// vellumd checks every submitted statement against one of a few registered
// submitter keys, so the per-key work OpenSSL repeats on every call (decoding
// the key and, above all, about 250 point doublings to multiply it by the
// hash) can be done once: at construction the key's multiples
// (j * 256^i * A for j = 1..8, i = 0..31, about 30 KiB) are tabulated, as
// OpenSSL already does for the base point B. A verification then adds at most
// 128 table entries and needs no doubling beyond four.
//
// It accepts exactly the signatures OpenSSL 3 accepts: S must be below the
// group order L, k = SHA-512(R || A || M) mod L, and the canonical encoding
// of [S]B - [k]A must equal R byte for byte (the "cofactorless" check; no
// batch and no cofactor shortcuts). The tests compare both implementations on
// valid, tampered and specially crafted signatures. Variable time, which is
// fine: everything it handles is public.

#include "crypto/error.hpp"

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

namespace vellum::crypto {

// What is wrong with a 32-byte Ed25519 public key that no honest signer
// has: not the canonical encoding of a point (y >= p, or x = 0 written as
// negative), no point at all (no x for that y), a point of small order
// (8A = 0: every signature under it is forgeable for some messages), or a
// point with a torsion component (LA != 0: cofactored and cofactorless
// verifiers disagree on its signatures). RFC 8032 verifiers differ exactly
// on such keys (speccheck), so vellumd refuses them when loading its
// configuration (docs/threat-model.md).
enum class ed25519_key_problem { none, not_canonical, not_on_curve, small_order, mixed_order };

// "not the canonical encoding of a point", ... (empty for none).
std::string_view to_string(ed25519_key_problem p);

// The problem of `public_key` (not 32 bytes: not_canonical). Variable time:
// keys are public. About 260 point doublings.
ed25519_key_problem ed25519_check_public_key(byte_view public_key);

class ed25519_precomputed {
 public:
  // The tables for a 32-byte public key. nullopt when the bytes are not the
  // canonical encoding of a curve point (y >= p, no x, or "negative zero");
  // callers then keep OpenSSL's verify, which decides such keys its own way.
  [[nodiscard]] static std::optional<ed25519_precomputed> make(byte_view public_key);

  // True when sig (64 bytes) is a valid signature of msg under the key.
  bool verify(byte_view msg, byte_view sig) const;

  const std::array<std::uint8_t, 32>& public_key() const { return key_; }

  struct table;  // opaque: the multiples of the key

 private:
  ed25519_precomputed(const std::array<std::uint8_t, 32>& key, std::shared_ptr<const table> t)
      : key_(key), table_(std::move(t)) {}
  std::array<std::uint8_t, 32> key_;
  std::shared_ptr<const table> table_;
};

}  // namespace vellum::crypto
