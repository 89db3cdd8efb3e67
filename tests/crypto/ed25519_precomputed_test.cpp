// The precomputed Ed25519 verifier must accept exactly what OpenSSL accepts:
// the published vectors, random keys and messages, every single-bit change of
// a signature, non-canonical scalars and crafted small-order keys, each
// compared with OpenSSL's verdict on the same bytes.

#include "crypto/ed25519_precomputed.hpp"

#include "crypto/encoding.hpp"
#include "crypto/jws.hpp"
#include "crypto/keys.hpp"
#include "test_util.hpp"

#include <boost/test/unit_test.hpp>

#include <openssl/bn.h>

#include <random>

using namespace vellum::crypto;
namespace json = boost::json;
using vellum::bytes;

namespace {

const json::object& vectors() {
  static const json::value v = vellum::test::load_json("jws.json");
  return v.as_object();
}

bytes b64url(std::string_view text) {
  auto b = base64url_decode(text);
  BOOST_REQUIRE(b.has_value());
  return *b;
}

bytes hex(std::string_view text) {
  auto b = hex_decode(text);
  BOOST_REQUIRE(b.has_value());
  return *b;
}

bool openssl_verifies(const bytes& key, const bytes& msg, const bytes& sig) {
  auto pk = public_key::from_ed25519_raw(key);
  BOOST_REQUIRE(pk.has_value());
  return pk->verify(msg, sig).has_value();
}

// Both verdicts, which must agree; returns the verdict.
bool same_verdict(const ed25519_precomputed& fast, const bytes& msg, const bytes& sig) {
  const bytes key(fast.public_key().begin(), fast.public_key().end());
  const bool ours = fast.verify(msg, sig);
  const bool theirs = openssl_verifies(key, msg, sig);
  BOOST_TEST(ours == theirs);
  return ours;
}

ed25519_precomputed make_for(const bytes& key) {
  auto fast = ed25519_precomputed::make(key);
  BOOST_REQUIRE(fast.has_value());
  return *fast;
}

bytes as_bytes_of(std::string_view s) { return bytes(s.begin(), s.end()); }

// p - y, little-endian 32 bytes (the y of the point negated twice over).
bytes field_negate(const bytes& y) {
  BIGNUM* p = nullptr;
  BN_hex2bn(&p, "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffed");
  BIGNUM* v = BN_lebin2bn(y.data(), static_cast<int>(y.size()), nullptr);
  BN_sub(v, p, v);
  bytes out(32);
  BN_bn2lebinpad(v, out.data(), 32);
  BN_free(v);
  BN_free(p);
  return out;
}

// The encodings of RFC 8032's base point B (y = 4/5, x even) and the
// neutral element (y = 1).
const char* const base_point_hex = "5866666666666666666666666666666666666666666666666666666666666666";
const char* const neutral_hex = "0100000000000000000000000000000000000000000000000000000000000000";
const char* const order_hex = "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010";

}  // namespace

BOOST_AUTO_TEST_SUITE(ed25519_precomputed_verify)

// RFC 8037 A.4 (the key of RFC 8032 §7.1 TEST 1) and the statements signed
// by the jose library in tests/data/jws.json.
BOOST_AUTO_TEST_CASE(accepts_published_signatures) {
  const auto& a4 = vectors().at("rfc8037_a4").as_object();
  auto token = jws_parse(a4.at("jws").as_string());
  BOOST_REQUIRE(token.has_value());
  const bytes key = b64url(a4.at("jwk").as_object().at("x").as_string());
  const auto fast = make_for(key);
  const bytes msg = as_bytes_of(token->signing_input);
  BOOST_TEST(same_verdict(fast, msg, token->signature));

  int checked = 0;
  for (const auto& e : vectors().at("events").as_array()) {
    const auto& ev = e.as_object();
    const auto& k = vectors().at("keys").as_object().at(ev.at("kid").as_string()).as_object();
    if (k.at("alg").as_string() != "EdDSA") continue;
    auto t = jws_parse(ev.at("jws").as_string());
    BOOST_REQUIRE(t.has_value());
    const auto f = make_for(b64url(k.at("public_jwk").as_object().at("x").as_string()));
    BOOST_TEST(same_verdict(f, as_bytes_of(t->signing_input), t->signature));
    ++checked;
  }
  BOOST_TEST(checked >= 1);
}

BOOST_AUTO_TEST_CASE(agrees_with_openssl_on_random_keys_and_messages) {
  std::mt19937_64 rng(20261125);
  for (int round = 0; round < 40; ++round) {
    auto key = private_key::generate(key_type::ed25519);
    BOOST_REQUIRE(key.has_value());
    const auto fast = make_for(key->public_key().raw());
    bytes msg(rng() % 2048);
    for (auto& b : msg) b = static_cast<std::uint8_t>(rng());
    auto sig = key->sign(msg);
    BOOST_REQUIRE(sig.has_value());
    BOOST_TEST(same_verdict(fast, msg, *sig));

    // One flipped bit anywhere in the signature, and in the message.
    for (int n = 0; n < 8; ++n) {
      bytes bad = *sig;
      bad[rng() % bad.size()] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
      BOOST_TEST(!same_verdict(fast, msg, bad));
    }
    if (!msg.empty()) {
      bytes bad = msg;
      bad[rng() % bad.size()] ^= 0x01;
      BOOST_TEST(!same_verdict(fast, bad, *sig));
    }
    // Another key's signature.
    auto other = private_key::generate(key_type::ed25519);
    BOOST_REQUIRE(other.has_value());
    BOOST_TEST(!same_verdict(fast, msg, *other->sign(msg)));
  }
}

BOOST_AUTO_TEST_CASE(every_single_bit_of_a_signature_matters) {
  auto key = private_key::generate(key_type::ed25519);
  BOOST_REQUIRE(key.has_value());
  const auto fast = make_for(key->public_key().raw());
  const bytes msg = as_bytes_of("eyJhbGciOiJFZERTQSJ9.eyJldmVudCI6MX0");
  auto sig = key->sign(msg);
  BOOST_REQUIRE(sig.has_value());
  BOOST_TEST(same_verdict(fast, msg, *sig));
  for (std::size_t i = 0; i < sig->size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      bytes bad = *sig;
      bad[i] ^= static_cast<std::uint8_t>(1u << bit);
      BOOST_TEST_CONTEXT("byte " << i << " bit " << bit) { BOOST_TEST(!same_verdict(fast, msg, bad)); }
    }
  }
  BOOST_TEST(!same_verdict(fast, msg, bytes(sig->begin(), sig->begin() + 63)));
  BOOST_TEST(!same_verdict(fast, msg, bytes()));
}

// S and S + L give the same point, but only S < L is a valid signature.
BOOST_AUTO_TEST_CASE(refuses_a_scalar_not_below_the_group_order) {
  auto key = private_key::generate(key_type::ed25519);
  BOOST_REQUIRE(key.has_value());
  const auto fast = make_for(key->public_key().raw());
  const bytes msg = as_bytes_of("malleability");
  const bytes sig = *key->sign(msg);
  BOOST_TEST(same_verdict(fast, msg, sig));

  BIGNUM* s = BN_lebin2bn(sig.data() + 32, 32, nullptr);
  const bytes order = hex(order_hex);
  BIGNUM* l = BN_lebin2bn(order.data(), 32, nullptr);
  BN_add(s, s, l);
  bytes malleated = sig;
  BOOST_REQUIRE(BN_bn2lebinpad(s, malleated.data() + 32, 32) == 32);
  BN_free(s);
  BN_free(l);
  BOOST_TEST(!same_verdict(fast, msg, malleated));

  bytes s_is_l = sig;
  std::copy(order.begin(), order.end(), s_is_l.begin() + 32);
  BOOST_TEST(!same_verdict(fast, msg, s_is_l));
}

// Keys of small order, which no honest signer has, where the cofactorless
// check still decides: with A the neutral element, (R = B, S = 1) satisfies
// [S]B = R + [k]A for every message; with A = (0, -1), of order two, it does
// only when k is even. Whatever OpenSSL decides, the fast path must too.
BOOST_AUTO_TEST_CASE(agrees_with_openssl_on_small_order_keys) {
  const bytes b = hex(base_point_hex);
  bytes sig = b;
  bytes one(32, 0);
  one[0] = 1;
  sig.insert(sig.end(), one.begin(), one.end());

  const auto neutral = make_for(hex(neutral_hex));
  int accepted = 0;
  for (int i = 0; i < 16; ++i) {
    accepted += same_verdict(neutral, as_bytes_of("message " + std::to_string(i)), sig) ? 1 : 0;
  }
  BOOST_TEST(accepted == 16);
  // (R = neutral, S = 0) is the other trivial solution; R = neutral with y
  // written as p + 1 is the same point, not the same bytes.
  bytes zero_sig = hex(neutral_hex);
  zero_sig.resize(64, 0);
  BOOST_TEST(same_verdict(neutral, as_bytes_of("m"), zero_sig));
  bytes non_canonical_r = zero_sig;
  non_canonical_r[0] = 0xee;
  for (int i = 1; i < 31; ++i) non_canonical_r[i] = 0xff;
  non_canonical_r[31] = 0x7f;
  BOOST_TEST(!same_verdict(neutral, as_bytes_of("m"), non_canonical_r));

  // (0, -1): y = p - 1, x = 0.
  const auto order_two = make_for(field_negate(hex(neutral_hex)));
  int yes = 0, no = 0;
  for (int i = 0; i < 32; ++i) {
    (same_verdict(order_two, as_bytes_of("message " + std::to_string(i)), sig) ? yes : no) += 1;
  }
  BOOST_TEST(yes > 0);
  BOOST_TEST(no > 0);
}

BOOST_AUTO_TEST_CASE(declines_keys_that_are_not_canonical_points) {
  BOOST_TEST(!ed25519_precomputed::make(bytes(31, 0)).has_value());
  BOOST_TEST(!ed25519_precomputed::make(bytes(33, 0)).has_value());
  // y = p + 1: the neutral element, written non-canonically.
  bytes y_above_p(32, 0xff);
  y_above_p[0] = 0xee;
  y_above_p[31] = 0x7f;
  BOOST_TEST(!ed25519_precomputed::make(y_above_p).has_value());
  // x = 0 with the sign bit set ("negative zero").
  bytes negative_zero = hex(neutral_hex);
  negative_zero[31] |= 0x80;
  BOOST_TEST(!ed25519_precomputed::make(negative_zero).has_value());
  // y = 2 is on no point of the curve.
  bytes y2(32, 0);
  y2[0] = 2;
  BOOST_TEST(!ed25519_precomputed::make(y2).has_value());
  BOOST_TEST(ed25519_precomputed::make(hex(base_point_hex)).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
