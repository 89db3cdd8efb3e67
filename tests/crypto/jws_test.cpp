// JWS compact serialization: RFC 8037 A.4 and RFC 7515 A.3 vectors, events
// signed by the 'jose' npm library (tests/data/jws.json), algorithm
// confusion, tampering and strict header rules.

#include "crypto/jws.hpp"

#include "crypto/encoding.hpp"
#include "test_util.hpp"

#include <boost/test/unit_test.hpp>

using namespace vellum::crypto;
namespace json = boost::json;

namespace {

const json::object& vectors() {
  static const json::value v = vellum::test::load_json("jws.json");
  return v.as_object();
}

const json::object& obj(const json::object& o, std::string_view k) { return o.at(k).as_object(); }
std::string str(const json::object& o, std::string_view k) { return std::string(o.at(k).as_string()); }

public_key public_from_jwk(const json::object& jwk) {
  auto k = public_key::from_jwk(jwk);
  BOOST_TEST_REQUIRE(k.has_value());
  return *k;
}

public_key event_key(std::string_view kid, bool pem) {
  const auto& entry = obj(obj(vectors(), "keys"), kid);
  if (!pem) return public_from_jwk(obj(entry, "public_jwk"));
  auto k = public_key::from_pem(str(entry, "public_pem"));
  BOOST_TEST_REQUIRE(k.has_value());
  return *k;
}

private_key test_private(std::string_view kid) {
  auto k = private_key::from_jwk(obj(obj(vectors(), "test_private_jwks"), kid));
  BOOST_TEST_REQUIRE(k.has_value());
  return *k;
}

bool same(const vellum::status& ec, errc e) { return ec == e; }

// Builds a compact JWS from a header JSON text, payload and signature bytes.
std::string compact(std::string_view header, std::string_view payload, const vellum::bytes& sig) {
  return base64url_encode(as_bytes(header)) + "." + base64url_encode(as_bytes(payload)) + "." +
         base64url_encode(sig);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(jws_suite)

BOOST_AUTO_TEST_CASE(verifies_rfc8037_a4_example) {
  const auto& v = obj(vectors(), "rfc8037_a4");
  auto pub_jwk = obj(v, "jwk");
  pub_jwk.erase("d");
  auto token = jws_parse(str(v, "jws"));
  BOOST_TEST_REQUIRE(token.has_value());
  BOOST_TEST(token->alg == "EdDSA");
  BOOST_TEST(token->kid.empty());
  BOOST_TEST(as_chars(token->payload) == str(v, "payload_text"));
  BOOST_TEST(jws_verify(*token, public_from_jwk(pub_jwk)).has_value());
}

BOOST_AUTO_TEST_CASE(signing_rfc8037_a4_payload_reproduces_the_example_exactly) {
  const auto& v = obj(vectors(), "rfc8037_a4");
  auto key = private_key::from_jwk(obj(v, "jwk"));
  BOOST_TEST_REQUIRE(key.has_value());
  auto signed_jws = jws_sign(as_bytes(str(v, "payload_text")), *key);
  BOOST_TEST_REQUIRE(signed_jws.has_value());
  BOOST_TEST(*signed_jws == str(v, "jws"));
}

BOOST_AUTO_TEST_CASE(verifies_rfc7515_a3_es256_example) {
  const auto& v = obj(vectors(), "rfc7515_a3");
  auto token = jws_parse(str(v, "jws"));
  BOOST_TEST_REQUIRE(token.has_value());
  BOOST_TEST(token->alg == "ES256");
  BOOST_TEST(token->signature.size() == 64u);
  BOOST_TEST(jws_verify(*token, public_from_jwk(obj(v, "public_jwk"))).has_value());
}

BOOST_AUTO_TEST_CASE(verifies_jose_library_events_with_pem_and_jwk_keys) {
  for (const auto& e : vectors().at("events").as_array()) {
    const auto& event = e.as_object();
    const std::string kid = str(event, "kid");
    BOOST_TEST_CONTEXT("event signed by " << kid) {
      auto token = jws_parse(str(event, "jws"));
      BOOST_TEST_REQUIRE(token.has_value());
      BOOST_TEST(token->kid == kid);
      BOOST_TEST(str(token->header, "typ") == "vellum-event+jws");
      BOOST_TEST((json::parse(as_chars(token->payload)) == event.at("payload")));
      BOOST_TEST(jws_verify(*token, event_key(kid, true)).has_value());
      BOOST_TEST(jws_verify(*token, event_key(kid, false)).has_value());
    }
  }
}

BOOST_AUTO_TEST_CASE(refuses_algorithm_confusion_between_key_types) {
  const auto& events = vectors().at("events").as_array();
  auto eddsa = jws_parse(str(events.at(0).as_object(), "jws"));
  auto es256 = jws_parse(str(events.at(2).as_object(), "jws"));
  BOOST_TEST_REQUIRE((eddsa.has_value() && es256.has_value()));
  auto r1 = jws_verify(*eddsa, event_key("infusion-pump-gw", false));
  auto r2 = jws_verify(*es256, event_key("ward-7-ehr", false));
  BOOST_TEST_REQUIRE((!r1 && !r2));
  BOOST_TEST(same(r1.error(), errc::algorithm_mismatch));
  BOOST_TEST(same(r2.error(), errc::algorithm_mismatch));
}

BOOST_AUTO_TEST_CASE(refuses_none_hs256_and_unknown_algorithms) {
  auto key = test_private("ward-7-ehr");
  for (const char* alg : {"none", "HS256", "EdDSA2", "eddsa", "ES384", "RS256", "Ed25519"}) {
    BOOST_TEST_CONTEXT(alg) {
      const std::string header = std::string(R"({"alg":")") + alg + R"("})";
      const std::string input = base64url_encode(as_bytes(header)) + ".e30";
      auto sig = key.sign(as_bytes(input));
      BOOST_TEST_REQUIRE(sig.has_value());
      auto token = jws_parse(input + "." + base64url_encode(*sig));
      BOOST_TEST_REQUIRE(token.has_value());
      auto r = jws_verify(*token, key.public_key());
      BOOST_TEST_REQUIRE(!r);
      BOOST_TEST(same(r.error(), errc::algorithm_mismatch));
    }
  }
  // "alg":"none" with an empty signature part is not even well-formed.
  auto unsigned_token = jws_parse("eyJhbGciOiJub25lIn0.e30.");
  BOOST_TEST_REQUIRE(!unsigned_token);
  BOOST_TEST(same(unsigned_token.error(), errc::malformed_jws));
}

BOOST_AUTO_TEST_CASE(flipping_a_byte_in_any_part_fails_with_a_specific_error) {
  const auto& event = vectors().at("events").as_array().at(2).as_object();
  const std::string original = str(event, "jws");
  const auto key = event_key("infusion-pump-gw", false);
  const auto dot1 = original.find('.');
  const auto dot2 = original.find('.', dot1 + 1);

  // Header: still base64url, but the JSON text changes.
  {
    // Re-encode a header whose "kid" differs: the signature no longer covers it.
    auto token = jws_parse(original);
    BOOST_TEST_REQUIRE(token.has_value());
    std::string header_json(as_chars(*base64url_decode(original.substr(0, dot1))));
    header_json[header_json.find("pump")] = 'P';
    auto tampered = jws_parse(base64url_encode(as_bytes(header_json)) + original.substr(dot1));
    BOOST_TEST_REQUIRE(tampered.has_value());
    auto r = jws_verify(*tampered, key);
    BOOST_TEST_REQUIRE(!r);
    BOOST_TEST(same(r.error(), errc::bad_signature));
    // A flipped base64url character that breaks the JSON is malformed_json.
    std::string broken = original;
    broken[0] = 'f';
    auto parsed = jws_parse(broken);
    BOOST_TEST_REQUIRE(!parsed);
    BOOST_TEST(same(parsed.error(), errc::malformed_json));
  }
  // Payload: every byte flip is either not base64url or a bad signature.
  for (std::size_t i = dot1 + 1; i < dot2; ++i) {
    std::string t = original;
    t[i] = t[i] == 'A' ? 'B' : 'A';
    auto parsed = jws_parse(t);
    if (!parsed) {
      BOOST_TEST(same(parsed.error(), errc::bad_encoding));
      continue;
    }
    auto r = jws_verify(*parsed, key);
    BOOST_TEST_REQUIRE(!r);
    BOOST_TEST(same(r.error(), errc::bad_signature));
  }
  // Signature: every byte flip fails.
  for (std::size_t i = dot2 + 1; i < original.size(); ++i) {
    std::string t = original;
    t[i] = t[i] == 'A' ? 'B' : 'A';
    auto parsed = jws_parse(t);
    if (!parsed) {
      BOOST_TEST(same(parsed.error(), errc::bad_encoding));
      continue;
    }
    auto r = jws_verify(*parsed, key);
    BOOST_TEST_REQUIRE(!r);
    BOOST_TEST(same(r.error(), errc::bad_signature));
  }
}

BOOST_AUTO_TEST_CASE(round_trips_sign_and_verify_for_both_key_types) {
  for (auto type : {key_type::ed25519, key_type::p256}) {
    auto key = private_key::generate(type);
    BOOST_TEST_REQUIRE(key.has_value());
    const std::string payload = R"({"event_id":"x","data":{}})";
    json::object extra{{"kid", "ward-7-ehr"}, {"typ", "vellum-event+jws"}, {"alg", "none"}};
    auto compact_jws = jws_sign(as_bytes(payload), *key, extra);
    BOOST_TEST_REQUIRE(compact_jws.has_value());
    auto token = jws_parse(*compact_jws);
    BOOST_TEST_REQUIRE(token.has_value());
    BOOST_TEST(token->alg == jws_alg_for(type));
    BOOST_TEST(token->kid == "ward-7-ehr");
    BOOST_TEST(as_chars(token->payload) == payload);
    BOOST_TEST(jws_verify(*token, key->public_key()).has_value());
    // alg first, then the extra members in order, compact JSON.
    const std::string header(as_chars(*base64url_decode(
        std::string_view(*compact_jws).substr(0, compact_jws->find('.')))));
    BOOST_TEST(header == std::string(R"({"alg":")") + std::string(jws_alg_for(type)) +
                             R"(","kid":"ward-7-ehr","typ":"vellum-event+jws"})");
  }
}

BOOST_AUTO_TEST_CASE(copies_and_moves_keep_signing_input_valid) {
  auto key = test_private("ward-7-ehr");
  auto compact_jws = jws_sign(as_bytes("payload"), key);
  BOOST_TEST_REQUIRE(compact_jws.has_value());
  auto parsed = jws_parse(*compact_jws);
  BOOST_TEST_REQUIRE(parsed.has_value());
  jws copy = *parsed;
  jws moved = std::move(*parsed);
  jws assigned;
  assigned = copy;
  for (const jws* t : {&copy, &moved, &assigned}) {
    BOOST_TEST(t->signing_input.data() == t->compact.data());
    BOOST_TEST(jws_verify(*t, key.public_key()).has_value());
  }
}

BOOST_AUTO_TEST_CASE(rejects_malformed_compact_structure) {
  const auto malformed = {"", ".", "..", "a.b", "a.b.c.d", ".e30.AA", "eyJhbGciOiJFZERTQSJ9.e30."};
  for (const char* t : malformed) {
    BOOST_TEST_CONTEXT(t) {
      auto r = jws_parse(t);
      BOOST_TEST_REQUIRE(!r);
      BOOST_TEST(same(r.error(), errc::malformed_jws));
    }
  }
  auto padded = jws_parse("eyJhbGciOiJFZERTQSJ9.e30=.AAAA");
  BOOST_TEST_REQUIRE(!padded);
  BOOST_TEST(same(padded.error(), errc::bad_encoding));
  auto spaced = jws_parse("eyJhbGciOiJFZERTQSJ9 .e30.AAAA");
  BOOST_TEST_REQUIRE(!spaced);
  BOOST_TEST(same(spaced.error(), errc::bad_encoding));
}

BOOST_AUTO_TEST_CASE(rejects_headers_that_are_not_strict_ijson_objects) {
  const vellum::bytes sig(64, 1);
  auto expect = [&](std::string_view header, errc e) {
    BOOST_TEST_CONTEXT(header) {
      auto r = jws_parse(compact(header, "{}", sig));
      BOOST_TEST_REQUIRE(!r);
      BOOST_TEST(same(r.error(), e));
      BOOST_TEST(!r.error().reason().empty());
    }
  };
  expect(R"({"alg":"EdDSA","alg":"none"})", errc::malformed_json);
  expect(R"({"alg":"EdDSA","x":1e400})", errc::malformed_json);
  expect(R"({"alg":"EdDSA")", errc::malformed_json);
  expect(R"(["alg","EdDSA"])", errc::malformed_jws);
  expect(R"("EdDSA")", errc::malformed_jws);
  expect(R"({})", errc::malformed_jws);
  expect(R"({"alg":null})", errc::malformed_jws);
  expect(R"({"alg":["EdDSA"]})", errc::malformed_jws);
  expect(R"({"alg":"EdDSA","kid":7})", errc::malformed_jws);
  expect(R"({"alg":"EdDSA","crit":["exp"],"exp":1})", errc::malformed_jws);
  expect(R"({"alg":"EdDSA","crit":[]})", errc::malformed_jws);
  expect(R"({"alg":"EdDSA","b64":false})", errc::malformed_jws);
  expect("{\"alg\":\"EdDSA\",\"kid\":\"\xff\"}", errc::malformed_json);
}

BOOST_AUTO_TEST_CASE(accepts_empty_payload_bytes) {
  auto key = test_private("infusion-pump-gw");
  auto compact_jws = jws_sign({}, key);
  BOOST_TEST_REQUIRE(compact_jws.has_value());
  auto token = jws_parse(*compact_jws);
  BOOST_TEST_REQUIRE(token.has_value());
  BOOST_TEST(token->payload.empty());
  BOOST_TEST(jws_verify(*token, key.public_key()).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
