// Key import/export and raw signatures for Ed25519 and P-256, against the
// RFC 8037 / RFC 7515 keys and the P-256 test key in tests/data/jws.json.

#include "crypto/keys.hpp"

#include "crypto/encoding.hpp"
#include "crypto/sha256.hpp"
#include "test_util.hpp"

#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

using namespace vellum::crypto;
namespace json = boost::json;

namespace {

const json::object& vectors() {
  static const json::value v = vellum::test::load_json("jws.json");
  return v.as_object();
}

const json::object& key_entry(std::string_view kid) {
  return vectors().at("keys").as_object().at(kid).as_object();
}

const json::object& private_jwk(std::string_view kid) {
  return vectors().at("test_private_jwks").as_object().at(kid).as_object();
}

std::string text_of(const json::value& v) { return std::string(v.as_string()); }

template <class T>
void expect_error(const vellum::result<T>& r, errc e) {
  BOOST_TEST(!r.has_value());
  if (!r) BOOST_TEST(r.error().message() == make_error_code(e).message());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(keys)

BOOST_AUTO_TEST_CASE(pem_and_jwk_import_yield_the_same_raw_key) {
  for (const char* kid : {"ward-7-ehr", "infusion-pump-gw"}) {
    BOOST_TEST_CONTEXT(kid) {
      auto from_pem = public_key::from_pem(text_of(key_entry(kid).at("public_pem")));
      auto from_jwk = public_key::from_jwk(key_entry(kid).at("public_jwk").as_object());
      BOOST_TEST_REQUIRE(from_pem.has_value());
      BOOST_TEST_REQUIRE(from_jwk.has_value());
      BOOST_TEST((from_pem->type() == from_jwk->type()));
      BOOST_TEST((from_pem->raw() == from_jwk->raw()));
      BOOST_TEST((from_pem->to_jwk() == key_entry(kid).at("public_jwk").as_object()));
    }
  }
}

BOOST_AUTO_TEST_CASE(reports_key_types_and_raw_sizes) {
  auto ed = public_key::from_jwk(key_entry("ward-7-ehr").at("public_jwk").as_object());
  auto ec = public_key::from_jwk(key_entry("infusion-pump-gw").at("public_jwk").as_object());
  BOOST_TEST_REQUIRE(ed.has_value());
  BOOST_TEST_REQUIRE(ec.has_value());
  BOOST_TEST((ed->type() == key_type::ed25519));
  BOOST_TEST((ec->type() == key_type::p256));
  BOOST_TEST(ed->raw().size() == 32u);
  BOOST_TEST(ec->raw().size() == 65u);
  BOOST_TEST(ec->raw()[0] == 0x04);
  BOOST_TEST(to_string(key_type::ed25519) == "Ed25519");
  BOOST_TEST(to_string(key_type::p256) == "P-256");
}

BOOST_AUTO_TEST_CASE(public_pem_round_trips) {
  for (const char* kid : {"ward-7-ehr", "infusion-pump-gw"}) {
    const std::string pem = text_of(key_entry(kid).at("public_pem"));
    auto key = public_key::from_pem(pem);
    BOOST_TEST_REQUIRE(key.has_value());
    BOOST_TEST(key->to_pem() == pem + "\n");
    auto again = public_key::from_pem(key->to_pem());
    BOOST_TEST_REQUIRE(again.has_value());
    BOOST_TEST((again->raw() == key->raw()));
  }
}

BOOST_AUTO_TEST_CASE(private_pem_round_trips_for_both_key_types) {
  for (auto type : {key_type::ed25519, key_type::p256}) {
    auto key = private_key::generate(type);
    BOOST_TEST_REQUIRE(key.has_value());
    const std::string pem = key->to_pem();
    // PKCS#8 label (built from parts so no file here looks like a committed key).
    BOOST_TEST(pem.starts_with(std::string("-----BEGIN ") + "PRIVATE KEY-----\n"));
    auto again = private_key::from_pem(pem);
    BOOST_TEST_REQUIRE(again.has_value());
    BOOST_TEST((again->type() == type));
    BOOST_TEST(again->to_pem() == pem);
    BOOST_TEST((again->public_key().raw() == key->public_key().raw()));
    // The public half never carries the private key.
    BOOST_TEST(key->public_key().to_pem().starts_with("-----BEGIN PUBLIC KEY-----\n"));
  }
}

BOOST_AUTO_TEST_CASE(signs_and_verifies_round_trip_for_both_key_types) {
  const std::string msg = "therapy session documented";
  for (auto type : {key_type::ed25519, key_type::p256}) {
    auto key = private_key::generate(type);
    BOOST_TEST_REQUIRE(key.has_value());
    auto sig = key->sign(as_bytes(msg));
    BOOST_TEST_REQUIRE(sig.has_value());
    BOOST_TEST(sig->size() == 64u);
    BOOST_TEST(key->public_key().verify(as_bytes(msg), *sig).has_value());
    BOOST_TEST(key->public_key().verify({}, *sig).has_value() == false);
    auto empty_sig = key->sign({});
    BOOST_TEST_REQUIRE(empty_sig.has_value());
    BOOST_TEST(key->public_key().verify({}, *empty_sig).has_value());
  }
}

BOOST_AUTO_TEST_CASE(rejects_tampered_message_and_signature) {
  const std::string msg = "dose 50 mg";
  for (auto type : {key_type::ed25519, key_type::p256}) {
    auto key = private_key::generate(type);
    BOOST_TEST_REQUIRE(key.has_value());
    auto sig = key->sign(as_bytes(msg));
    BOOST_TEST_REQUIRE(sig.has_value());
    const auto& pub = key->public_key();
    expect_error(pub.verify(as_bytes("dose 60 mg"), *sig), errc::bad_signature);
    for (std::size_t i = 0; i < sig->size(); ++i) {
      auto bad = *sig;
      bad[i] ^= 0x01;
      expect_error(pub.verify(as_bytes(msg), bad), errc::bad_signature);
    }
    auto shorter = *sig;
    shorter.pop_back();
    expect_error(pub.verify(as_bytes(msg), shorter), errc::bad_signature);
    auto longer = *sig;
    longer.push_back(0);
    expect_error(pub.verify(as_bytes(msg), longer), errc::bad_signature);
    expect_error(pub.verify(as_bytes(msg), vellum::bytes(64, 0)), errc::bad_signature);
  }
}

BOOST_AUTO_TEST_CASE(rejects_signature_from_another_key) {
  auto a = private_key::generate(key_type::ed25519);
  auto b = private_key::generate(key_type::ed25519);
  BOOST_TEST_REQUIRE((a.has_value() && b.has_value()));
  auto sig = a->sign(as_bytes("x"));
  BOOST_TEST_REQUIRE(sig.has_value());
  expect_error(b->public_key().verify(as_bytes("x"), *sig), errc::bad_signature);
}

// RFC 8032 §7.1 TEST 1: the seed below gives this public key.
BOOST_AUTO_TEST_CASE(derives_rfc8032_public_key_from_seed) {
  auto seed = hex_decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  BOOST_TEST_REQUIRE(seed.has_value());
  auto key = private_key::from_ed25519_seed(*seed);
  BOOST_TEST_REQUIRE(key.has_value());
  BOOST_TEST(hex_encode(key->public_key().raw()) ==
             "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  auto sig = key->sign({});
  BOOST_TEST_REQUIRE(sig.has_value());
  BOOST_TEST(hex_encode(*sig) ==
             "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
             "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
}

BOOST_AUTO_TEST_CASE(private_jwk_import_matches_published_public_keys) {
  for (const char* kid : {"ward-7-ehr", "infusion-pump-gw"}) {
    auto key = private_key::from_jwk(private_jwk(kid));
    BOOST_TEST_REQUIRE(key.has_value());
    BOOST_TEST((key->public_key().to_jwk() == key_entry(kid).at("public_jwk").as_object()));
  }
}

BOOST_AUTO_TEST_CASE(rejects_private_jwk_whose_public_part_does_not_match) {
  for (const char* kid : {"ward-7-ehr", "infusion-pump-gw"}) {
    json::object jwk = private_jwk(kid);
    auto x = base64url_decode(jwk.at("x").as_string());
    BOOST_TEST_REQUIRE(x.has_value());
    (*x)[5] ^= 1;
    jwk["x"] = base64url_encode(*x);
    BOOST_TEST(!private_key::from_jwk(jwk).has_value());
  }
}

BOOST_AUTO_TEST_CASE(public_jwk_with_private_member_is_refused) {
  for (const char* kid : {"ward-7-ehr", "infusion-pump-gw"}) {
    expect_error(public_key::from_jwk(private_jwk(kid)), errc::malformed_key);
  }
}

BOOST_AUTO_TEST_CASE(rejects_malformed_jwks) {
  const json::object ed = key_entry("ward-7-ehr").at("public_jwk").as_object();
  const json::object ec = key_entry("infusion-pump-gw").at("public_jwk").as_object();
  auto with = [](json::object jwk, std::string_view name, json::value v) {
    jwk[name] = std::move(v);
    return jwk;
  };
  auto without = [](json::object jwk, std::string_view name) {
    jwk.erase(name);
    return jwk;
  };
  expect_error(public_key::from_jwk(without(ed, "x")), errc::malformed_key);
  expect_error(public_key::from_jwk(without(ed, "kty")), errc::malformed_key);
  expect_error(public_key::from_jwk(without(ed, "crv")), errc::malformed_key);
  expect_error(public_key::from_jwk(without(ec, "y")), errc::malformed_key);
  expect_error(public_key::from_jwk(with(ed, "x", 5)), errc::malformed_key);
  expect_error(public_key::from_jwk(with(ed, "x", "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHUR")),
               errc::malformed_key);  // 31 bytes
  expect_error(public_key::from_jwk(with(ed, "x", "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo=")),
               errc::malformed_key);  // padded
  expect_error(public_key::from_jwk(with(ed, "x", "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo")),
               errc::malformed_key);  // std alphabet
  expect_error(public_key::from_jwk(with(ed, "crv", "X25519")), errc::unsupported_key);
  expect_error(public_key::from_jwk(with(ec, "crv", "P-384")), errc::unsupported_key);
  expect_error(public_key::from_jwk(with(ec, "kty", "RSA")), errc::unsupported_key);
  expect_error(public_key::from_jwk(with(ec, "kty", "OKP")), errc::unsupported_key);
}

BOOST_AUTO_TEST_CASE(rejects_p256_point_not_on_the_curve) {
  json::object ec = key_entry("infusion-pump-gw").at("public_jwk").as_object();
  auto y = base64url_decode(ec.at("y").as_string());
  BOOST_TEST_REQUIRE(y.has_value());
  (*y)[31] ^= 1;
  ec["y"] = base64url_encode(*y);
  expect_error(public_key::from_jwk(ec), errc::malformed_key);
  // The identity cannot be written as x, y; all-zero coordinates are off the curve.
  ec["x"] = base64url_encode(vellum::bytes(32, 0));
  ec["y"] = base64url_encode(vellum::bytes(32, 0));
  expect_error(public_key::from_jwk(ec), errc::malformed_key);
}

BOOST_AUTO_TEST_CASE(parses_jwk_text_as_ijson) {
  const std::string text = json::serialize(key_entry("ward-7-ehr").at("public_jwk"));
  BOOST_TEST(public_key::from_jwk_text(text).has_value());
  expect_error(public_key::from_jwk_text(
                   R"({"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","x":"AA"})"),
               errc::malformed_key);
  expect_error(public_key::from_jwk_text("[]"), errc::malformed_key);
  expect_error(public_key::from_jwk_text("{"), errc::malformed_key);
}

BOOST_AUTO_TEST_CASE(rejects_malformed_pem) {
  const std::string pem = text_of(key_entry("infusion-pump-gw").at("public_pem"));
  expect_error(public_key::from_pem(""), errc::malformed_key);
  expect_error(public_key::from_pem("not a key"), errc::malformed_key);
  std::string corrupted = pem;
  corrupted[40] = corrupted[40] == 'A' ? 'B' : 'A';
  BOOST_TEST(!public_key::from_pem(corrupted).has_value());
  expect_error(public_key::from_pem(pem.substr(0, pem.size() - 10)), errc::malformed_key);
  expect_error(public_key::from_pem(pem + "\n" + pem), errc::malformed_key);
  std::string relabelled = pem;
  relabelled.replace(relabelled.find("PUBLIC KEY"), 10, "PRIVATE KEY");
  expect_error(public_key::from_pem(relabelled), errc::malformed_key);
  expect_error(private_key::from_pem(pem), errc::malformed_key);
  auto key = private_key::generate(key_type::ed25519);
  BOOST_TEST_REQUIRE(key.has_value());
  expect_error(public_key::from_pem(key->to_pem()), errc::malformed_key);
}

BOOST_AUTO_TEST_CASE(rejects_unsupported_key_types_in_pem) {
  // An X25519 SubjectPublicKeyInfo: a valid key, but not a signature key.
  const std::string x25519 =
      "-----BEGIN PUBLIC KEY-----\n"
      "MCowBQYDK2VuAyEA3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08=\n"
      "-----END PUBLIC KEY-----\n";
  expect_error(public_key::from_pem(x25519), errc::unsupported_key);
}

BOOST_AUTO_TEST_CASE(rejects_raw_ed25519_key_of_wrong_size) {
  expect_error(public_key::from_ed25519_raw(vellum::bytes(31, 1)), errc::malformed_key);
  expect_error(private_key::from_ed25519_seed(vellum::bytes(33, 1)), errc::malformed_key);
}

BOOST_AUTO_TEST_CASE(compares_in_constant_time_with_correct_results) {
  const vellum::bytes a{1, 2, 3}, b{1, 2, 3}, c{1, 2, 4}, d{1, 2};
  BOOST_TEST(equal_constant_time(a, b));
  BOOST_TEST(!equal_constant_time(a, c));
  BOOST_TEST(!equal_constant_time(a, d));
  BOOST_TEST(equal_constant_time({}, {}));
}

BOOST_AUTO_TEST_CASE(random_bytes_have_requested_size_and_differ) {
  BOOST_TEST(random_bytes(0).empty());
  const auto a = random_bytes(32), b = random_bytes(32);
  BOOST_TEST(a.size() == 32u);
  BOOST_TEST((a != b));
}

// FIPS 180-4 examples (NIST CSRC "SHA256.pdf").
BOOST_AUTO_TEST_CASE(sha256_matches_fips_180_examples_one_shot_and_incremental) {
  BOOST_TEST(hex_encode(sha256(std::string_view(""))) ==
             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  BOOST_TEST(hex_encode(sha256(std::string_view("abc"))) ==
             "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  sha256_hasher h;
  h.update(std::string_view("abcdbcdecdefdefgefghfghighij"));
  h.update(as_bytes("hijkijkljklmklmnlmnomnopnopq"));
  BOOST_TEST(hex_encode(h.finish()) ==
             "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // finish() resets.
  h.update(std::string_view("abc"));
  BOOST_TEST(hex_encode(h.finish()) ==
             "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

BOOST_AUTO_TEST_SUITE_END()
