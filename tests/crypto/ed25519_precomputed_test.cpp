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
#include <openssl/err.h>
#include <openssl/evp.h>

#include <memory>
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

}  // namespace

namespace vellum::crypto {
std::ostream& operator<<(std::ostream& os, ed25519_key_problem p) {
  return os << (p == ed25519_key_problem::none ? std::string_view("none") : to_string(p));
}
}  // namespace vellum::crypto

namespace {

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

// A reference for crafting keys and signatures the honest signer never
// makes: affine Edwards arithmetic on OpenSSL BIGNUMs (slow and simple, and
// independent of the code under test).
class reference_curve {
 public:
  using bn = std::unique_ptr<BIGNUM, decltype(&BN_free)>;
  struct point {
    bn x{BN_new(), &BN_free};
    bn y{BN_new(), &BN_free};
  };

  reference_curve() {
    BIGNUM* p = p_.get();
    BN_hex2bn(&p, "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffed");
    const bytes order = hex(order_hex);
    BN_lebin2bn(order.data(), 32, l_.get());
    // d = -121665 / 121666
    bn num = word(121665), den = word(121666);
    BN_mod_inverse(den.get(), den.get(), p_.get(), ctx_.get());
    BN_mod_mul(d_.get(), num.get(), den.get(), p_.get(), ctx_.get());
    BN_mod_sub(d_.get(), p_.get(), d_.get(), p_.get(), ctx_.get());
  }

  const BIGNUM* order() const { return l_.get(); }
  point neutral() const { return make(0, 1); }

  point add(const point& a, const point& b) const {
    bn x1y2 = mulm(a.x.get(), b.y.get()), y1x2 = mulm(a.y.get(), b.x.get());
    bn y1y2 = mulm(a.y.get(), b.y.get()), x1x2 = mulm(a.x.get(), b.x.get());
    bn t = mulm(d_.get(), mulm(x1x2.get(), y1y2.get()).get());
    bn one = word(1);
    bn den_x = fresh(), den_y = fresh(), num_x = fresh(), num_y = fresh();
    BN_mod_add(den_x.get(), one.get(), t.get(), p_.get(), ctx_.get());
    BN_mod_sub(den_y.get(), one.get(), t.get(), p_.get(), ctx_.get());
    BN_mod_add(num_x.get(), x1y2.get(), y1x2.get(), p_.get(), ctx_.get());
    BN_mod_add(num_y.get(), y1y2.get(), x1x2.get(), p_.get(), ctx_.get());  // a = -1
    BN_mod_inverse(den_x.get(), den_x.get(), p_.get(), ctx_.get());
    BN_mod_inverse(den_y.get(), den_y.get(), p_.get(), ctx_.get());
    point r;
    BN_mod_mul(r.x.get(), num_x.get(), den_x.get(), p_.get(), ctx_.get());
    BN_mod_mul(r.y.get(), num_y.get(), den_y.get(), p_.get(), ctx_.get());
    return r;
  }

  point times(const BIGNUM* k, const point& a) const {
    point acc = neutral();
    for (int i = BN_num_bits(k) - 1; i >= 0; --i) {
      acc = add(acc, acc);
      if (BN_is_bit_set(k, i)) acc = add(acc, a);
    }
    return acc;
  }

  bool equal(const point& a, const point& b) const {
    return BN_cmp(a.x.get(), b.x.get()) == 0 && BN_cmp(a.y.get(), b.y.get()) == 0;
  }

  // RFC 8032 §5.1.3; nullopt when no point has this y.
  std::optional<point> decode(const bytes& s) const {
    bytes low = s;
    low[31] &= 0x7f;
    point r;
    BN_lebin2bn(low.data(), 32, r.y.get());
    bn yy = mulm(r.y.get(), r.y.get());
    bn one = word(1), u = fresh(), v = fresh();
    BN_mod_sub(u.get(), yy.get(), one.get(), p_.get(), ctx_.get());
    BN_mod_mul(v.get(), d_.get(), yy.get(), p_.get(), ctx_.get());
    BN_mod_add(v.get(), v.get(), one.get(), p_.get(), ctx_.get());
    BN_mod_inverse(v.get(), v.get(), p_.get(), ctx_.get());
    bn xx = mulm(u.get(), v.get());
    ERR_set_mark();
    const bool root = BN_mod_sqrt(r.x.get(), xx.get(), p_.get(), ctx_.get()) != nullptr;
    ERR_pop_to_mark();
    if (!root) return std::nullopt;
    if ((BN_is_odd(r.x.get()) ? 1 : 0) != (s[31] >> 7)) BN_sub(r.x.get(), p_.get(), r.x.get());
    return r;
  }

  bytes encode(const point& a) const {
    bytes out(32);
    BN_bn2lebinpad(a.y.get(), out.data(), 32);
    if (BN_is_odd(a.x.get())) out[31] |= 0x80;
    return out;
  }

  // A point of order 8: [L]P for a P with a torsion component of order 8.
  point order_eight() const {
    for (unsigned y = 2;; ++y) {
      bytes enc(32, 0);
      enc[0] = static_cast<std::uint8_t>(y);
      auto p = decode(enc);
      if (!p) continue;
      point t = times(l_.get(), *p);
      const point t4 = add(add(t, t), add(t, t));
      if (!equal(t4, neutral())) return t;
    }
  }

 private:
  static bn fresh() { return bn(BN_new(), &BN_free); }
  static bn word(unsigned long w) {
    bn b = fresh();
    BN_set_word(b.get(), w);
    return b;
  }
  point make(unsigned long x, unsigned long y) const {
    point r;
    BN_set_word(r.x.get(), x);
    BN_set_word(r.y.get(), y);
    return r;
  }
  bn mulm(const BIGNUM* a, const BIGNUM* b) const {
    bn r = fresh();
    BN_mod_mul(r.get(), a, b, p_.get(), ctx_.get());
    return r;
  }

  std::unique_ptr<BN_CTX, decltype(&BN_CTX_free)> ctx_{BN_CTX_new(), &BN_CTX_free};
  bn p_ = fresh(), d_ = fresh(), l_ = fresh();
};

// SHA-512(R || A || M) mod L.
reference_curve::bn challenge_of(const reference_curve& c, const bytes& r, const bytes& a,
                                 const bytes& msg) {
  bytes in = r;
  in.insert(in.end(), a.begin(), a.end());
  in.insert(in.end(), msg.begin(), msg.end());
  unsigned char digest[64];
  unsigned int len = 0;
  BOOST_REQUIRE(EVP_Digest(in.data(), in.size(), digest, &len, EVP_sha512(), nullptr) == 1);
  reference_curve::bn k(BN_lebin2bn(digest, 64, nullptr), &BN_free);
  std::unique_ptr<BN_CTX, decltype(&BN_CTX_free)> ctx(BN_CTX_new(), &BN_CTX_free);
  BN_nnmod(k.get(), k.get(), c.order(), ctx.get());
  return k;
}

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

// Keys A + T with a torsion component T of every order, and signatures whose
// R carries a torsion component too: the cofactorless check accepts exactly
// those where the components cancel ([S]B = R + [k](A + T) needs
// T_R + [k]T = 0), and both implementations must say so for each.
BOOST_AUTO_TEST_CASE(agrees_with_openssl_on_mixed_order_keys_and_r) {
  const reference_curve c;
  auto b = c.decode(hex(base_point_hex));
  BOOST_REQUIRE(b.has_value());
  const auto t8 = c.order_eight();
  std::vector<reference_curve::point> torsion;
  torsion.push_back(c.neutral());
  for (int i = 1; i < 8; ++i) torsion.push_back(c.add(torsion.back(), t8));
  BOOST_TEST(c.equal(c.add(torsion.back(), t8), c.neutral()));

  std::unique_ptr<BN_CTX, decltype(&BN_CTX_free)> ctx(BN_CTX_new(), &BN_CTX_free);
  reference_curve::bn a(BN_new(), &BN_free);
  BN_set_word(a.get(), 0x5eed);
  BN_mul_word(a.get(), 0x1234567u);
  const auto a_b = c.times(a.get(), *b);
  std::vector<std::pair<reference_curve::bn, reference_curve::point>> nonces;
  for (unsigned long r = 3; r < 6; ++r) {
    reference_curve::bn k(BN_new(), &BN_free);
    BN_set_word(k.get(), r * 0x9e3779b9ul);
    auto p = c.times(k.get(), *b);
    nonces.emplace_back(std::move(k), std::move(p));
  }

  int accepted = 0, refused = 0;
  for (std::size_t ta = 0; ta < torsion.size(); ++ta) {
    const bytes key = c.encode(c.add(a_b, torsion[ta]));
    const auto fast = make_for(key);
    for (const auto& [r, r_b] : nonces) {
      for (std::size_t tr = 0; tr < torsion.size(); ++tr) {
        const bytes rb = c.encode(c.add(r_b, torsion[tr]));
        const bytes msg = as_bytes_of("mixed " + std::to_string(ta) + "/" + std::to_string(tr));
        auto k = challenge_of(c, rb, key, msg);
        reference_curve::bn s(BN_new(), &BN_free);
        BN_mod_mul(s.get(), k.get(), a.get(), c.order(), ctx.get());
        BN_mod_add(s.get(), s.get(), r.get(), c.order(), ctx.get());
        bytes sig = rb;
        sig.resize(64);
        BN_bn2lebinpad(s.get(), sig.data() + 32, 32);
        BOOST_TEST_CONTEXT("key torsion " << ta << ", R torsion " << tr) {
          (same_verdict(fast, msg, sig) ? accepted : refused) += 1;
        }
      }
    }
  }
  BOOST_TEST_MESSAGE("mixed-order signatures: " << accepted << " accepted, " << refused << " refused");
  // Every torsion-free R under the torsion-free key, and some others.
  BOOST_TEST(accepted > 3);
  BOOST_TEST(refused > 0);
}

// The largest valid S: under the neutral key, (R = -B, S = L - 1) satisfies
// [S]B = R; S = L does not pass the range check.
BOOST_AUTO_TEST_CASE(accepts_the_largest_scalar_below_the_group_order) {
  const auto neutral = make_for(hex(neutral_hex));
  bytes sig = hex(base_point_hex);
  sig[31] |= 0x80;  // -B: B's x is even, so -B's is odd
  bytes s = hex(order_hex);
  s[0] -= 1;  // L - 1 (L ends in 0xed)
  sig.insert(sig.end(), s.begin(), s.end());
  BOOST_TEST(same_verdict(neutral, as_bytes_of("any message"), sig));
  sig[32] += 1;  // L
  BOOST_TEST(!same_verdict(neutral, as_bytes_of("any message"), sig));
}

BOOST_AUTO_TEST_CASE(a_moved_from_verifier_refuses_everything) {
  auto key = private_key::generate(key_type::ed25519);
  BOOST_REQUIRE(key.has_value());
  auto fast = make_for(key->public_key().raw());
  const bytes msg = as_bytes_of("m");
  const bytes sig = *key->sign(msg);
  BOOST_TEST(fast.verify(msg, sig));
  const ed25519_precomputed moved = std::move(fast);
  BOOST_TEST(moved.verify(msg, sig));
  BOOST_TEST(!fast.verify(msg, sig));  // NOLINT(bugprone-use-after-move): on purpose
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

// Keys no honest signer has (crypto::ed25519_check_public_key), which vellumd
// refuses at configuration load. The expected classes come from outside the
// code under test: the eight canonical small-order encodings (libsodium's
// blocklist), speccheck's description of its keys, and keys OpenSSL makes.
BOOST_AUTO_TEST_SUITE(ed25519_key_checks)

BOOST_AUTO_TEST_CASE(the_eight_small_order_points_are_refused) {
  for (const char* h : {"0100000000000000000000000000000000000000000000000000000000000000",
                        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
                        "0000000000000000000000000000000000000000000000000000000000000000",
                        "0000000000000000000000000000000000000000000000000000000000000080",
                        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
                        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
                        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
                        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85"}) {
    BOOST_TEST_CONTEXT(h) { BOOST_TEST(ed25519_check_public_key(hex(h)) == ed25519_key_problem::small_order); }
  }
}

BOOST_AUTO_TEST_CASE(non_canonical_encodings_and_non_points_are_refused) {
  // y = p, y = p + 1, y = 2^255 - 1 (all >= p), with and without the sign
  // bit; the neutral element and (0, -1) written with x negative.
  for (const char* h : {"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
                        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
                        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
                        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
                        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
                        "0100000000000000000000000000000000000000000000000000000000000080",
                        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"}) {
    BOOST_TEST_CONTEXT(h) { BOOST_TEST(ed25519_check_public_key(hex(h)) == ed25519_key_problem::not_canonical); }
  }
  // No x satisfies the curve equation for y = 2 or y = 7.
  for (const char* h : {"0200000000000000000000000000000000000000000000000000000000000000",
                        "0700000000000000000000000000000000000000000000000000000000000000"}) {
    BOOST_TEST_CONTEXT(h) { BOOST_TEST(ed25519_check_public_key(hex(h)) == ed25519_key_problem::not_on_curve); }
  }
  BOOST_TEST(ed25519_check_public_key(bytes(31, 1)) == ed25519_key_problem::not_canonical);
}

BOOST_AUTO_TEST_CASE(speccheck_keys_are_classified_as_its_cases_describe) {
  // Cases 2, 8, 9 ("mixed A") and 3-5 (cofactored and cofactorless verdicts
  // differ, which needs a torsion component): mixed order. Cases 6, 7
  // (S above L) use an ordinary key.
  BOOST_TEST(ed25519_check_public_key(hex("f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43")) ==
             ed25519_key_problem::mixed_order);
  BOOST_TEST(ed25519_check_public_key(hex("cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d")) ==
             ed25519_key_problem::mixed_order);
  BOOST_TEST(ed25519_check_public_key(hex("442aad9f089ad9e14647b1ef9099a1ff4798d78589e66f28eca69c11f582a623")) ==
             ed25519_key_problem::none);
}

BOOST_AUTO_TEST_CASE(keys_openssl_generates_and_the_rfc_keys_pass) {
  for (int i = 0; i < 64; ++i) {
    auto k = private_key::generate(key_type::ed25519);
    BOOST_REQUIRE(k.has_value());
    BOOST_TEST(ed25519_check_public_key(k->public_key().raw()) == ed25519_key_problem::none);
  }
  BOOST_TEST(ed25519_check_public_key(hex(base_point_hex)) == ed25519_key_problem::none);
  const auto rfc = b64url(vectors().at("rfc8037_a4").at("jwk").at("x").as_string());
  BOOST_TEST(ed25519_check_public_key(rfc) == ed25519_key_problem::none);
  BOOST_TEST(to_string(ed25519_key_problem::small_order) == "a point of small order");
  BOOST_TEST(to_string(ed25519_key_problem::none).empty());
}

// speccheck's twelve cases: both verifiers give OpenSSL 3's published verdict
// (its results.md), the fast one wherever it takes the key at all.
BOOST_AUTO_TEST_CASE(speccheck_vectors_get_openssl_3s_published_verdicts) {
  const json::value doc = vellum::test::load_json("ed25519-speccheck.json");
  const auto& cases = doc.at("cases").as_array();
  BOOST_TEST(cases.size() == 12u);
  int fast_checked = 0;
  for (const auto& c : cases) {
    const auto key = hex(c.at("pub_key").as_string());
    const auto msg = hex(c.at("msg").as_string());
    const auto sig = hex(c.at("signature").as_string());
    const bool expected = c.at("openssl_3").as_string() == "valid";
    BOOST_TEST_CONTEXT("speccheck case " << c.at("case").as_int64()) {
      BOOST_TEST(openssl_verifies(key, msg, sig) == expected);
      if (auto fast = ed25519_precomputed::make(key)) {
        BOOST_TEST(fast->verify(msg, sig) == expected);
        ++fast_checked;
      }
      // None of these keys could be registered.
      const bool ordinary_key = c.at("case").as_int64() == 6 || c.at("case").as_int64() == 7;
      BOOST_TEST((ed25519_check_public_key(key) == ed25519_key_problem::none) == ordinary_key);
    }
  }
  BOOST_TEST(fast_checked == 10);  // cases 10 and 11: a non-canonical key
}

// Wycheproof's EdDSA verification vectors: OpenSSL and the fast path give
// the expected result on every one.
BOOST_AUTO_TEST_CASE(wycheproof_vectors) {
  const json::value doc = vellum::test::load_json("wycheproof-ed25519.json");
  const auto& tests = doc.at("tests").as_array();
  BOOST_TEST(tests.size() == 151u);
  int valid = 0;
  for (const auto& t : tests) {
    const auto key = hex(t.at("pk").as_string());
    const auto msg = hex(t.at("msg").as_string());
    const auto sig = hex(t.at("sig").as_string());
    const bool expected = t.at("result").as_string() == "valid";
    valid += expected ? 1 : 0;
    BOOST_TEST_CONTEXT("wycheproof tcId " << t.at("tcId").as_int64()) {
      BOOST_TEST(openssl_verifies(key, msg, sig) == expected);
      BOOST_TEST(make_for(key).verify(msg, sig) == expected);
      BOOST_TEST(ed25519_check_public_key(key) == ed25519_key_problem::none);
    }
  }
  BOOST_TEST(valid > 0);
}

BOOST_AUTO_TEST_SUITE_END()
