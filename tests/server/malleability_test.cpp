// An ECDSA signature (r, s) has a twin (r, n - s) that verifies as well. A
// party that sees a statement on its way could send the twin first; the
// event id must still belong to the statement, not to whichever signature
// bytes arrived first: idempotency compares the JWS signing input (issue 18,
// item 8). Before, the genuine statement got 409 event_id_conflict.

#include "crypto/encoding.hpp"
#include "server/fixture.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <openssl/bn.h>
#include <openssl/obj_mac.h>

using namespace vellum;
using namespace vellum::test;

namespace {

// The same JWS with s replaced by n - s (P-256 group order n).
std::string ecdsa_twin(const std::string& jws) {
  const auto dot = jws.rfind('.');
  auto sig = crypto::base64url_decode(jws.substr(dot + 1));
  BOOST_REQUIRE(sig && sig->size() == 64);
  BIGNUM* n = nullptr;
  BOOST_REQUIRE(BN_hex2bn(&n, "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551") > 0);
  BIGNUM* s = BN_bin2bn(sig->data() + 32, 32, nullptr);
  BIGNUM* twin = BN_new();
  BOOST_REQUIRE(BN_sub(twin, n, s) == 1);
  bytes out(sig->begin(), sig->begin() + 32);
  out.resize(64);
  BOOST_REQUIRE(BN_bn2binpad(twin, out.data() + 32, 32) == 32);
  BN_free(n);
  BN_free(s);
  BN_free(twin);
  return jws.substr(0, dot + 1) + crypto::base64url_encode(out);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(statement_malleability)

BOOST_AUTO_TEST_CASE(an_ecdsa_twin_sent_first_does_not_take_the_event_id) {
  identities ids;
  running_server srv(ids);
  const std::string genuine = sign(payload("ward-1", "any"), ids.es, "es");
  const std::string twin = ecdsa_twin(genuine);
  BOOST_REQUIRE(twin != genuine);
  auto first = http_request(srv.port(), "POST", "/v1/events", twin, "application/jose");
  BOOST_REQUIRE_MESSAGE(first.status == 201u, "the twin verifies: " << first.body);
  auto second = http_request(srv.port(), "POST", "/v1/events", genuine, "application/jose");
  BOOST_TEST(second.status == 200u, second.body);  // an idempotent repeat, not 409
  BOOST_TEST(second.json().at("seq") == first.json().at("seq"));
  BOOST_TEST(second.json().at("event_id") == first.json().at("event_id"));

  // Both in one batch: one event, the second a repeat.
  const std::string other = sign(payload("ward-2", "any"), ids.es, "es");
  auto batch = http_request(srv.port(), "POST", "/v1/events", other + "\n" + ecdsa_twin(other) + "\n",
                            "application/x-ndjson");
  BOOST_REQUIRE_MESSAGE(batch.status == 200u || batch.status == 207u || batch.status == 201u, batch.body);
  auto log = http_request(srv.port(), "GET", "/v1/log/events", {}, {}, bearer(ids.reader_token));
  BOOST_TEST(log.json().at("events").as_array().size() == 2u, log.body);

  // Different content under the same event id is still a conflict.
  auto p = payload("ward-1", "any");
  p["event_id"] = first.json().at("event_id");
  p["data"] = {{"note", "different"}};
  auto conflict = http_request(srv.port(), "POST", "/v1/events", sign(p, ids.es, "es"), "application/jose");
  BOOST_TEST(conflict.status == 409u, conflict.body);
  BOOST_TEST(error_code_of(conflict) == "event_id_conflict");
}

BOOST_AUTO_TEST_SUITE_END()
