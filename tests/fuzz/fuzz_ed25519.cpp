// The fast Ed25519 verifier against OpenSSL (crypto/ed25519_precomputed.hpp),
// differentially: input = 32-byte public key || 64-byte signature || message.
// Promises: wherever the fast verifier takes a key its verdict is OpenSSL's,
// a key the configuration check passes is one it takes, and (in this build,
// VELLUM_CHECK_LIMBS) no field element leaves its limb bounds.

#include "crypto/ed25519_precomputed.hpp"
#include "crypto/keys.hpp"
#include "fuzz/fuzz_target.hpp"

VELLUM_FUZZ_TARGET(ed25519) {
  using namespace vellum;
  if (size < 96) return 0;
  const byte_view key(data, 32), sig(data + 32, 64), msg(data + 96, size - 96);
  const auto problem = crypto::ed25519_check_public_key(key);
  auto fast = crypto::ed25519_precomputed::make(key);
  if (problem == crypto::ed25519_key_problem::none) VELLUM_FUZZ_CHECK(fast.has_value());
  if (!fast) return 0;
  auto slow = crypto::public_key::from_ed25519_raw(key);
  VELLUM_FUZZ_CHECK(slow.has_value());
  VELLUM_FUZZ_CHECK(fast->verify(msg, sig) == slow->verify(msg, sig).has_value());
  return 0;
}
