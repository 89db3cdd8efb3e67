// Statement validation: every rule of docs/api.md "Statements",
// each failure with its stable code.

#include "server/fixture.hpp"
#include "server/validation.hpp"

#include <boost/test/unit_test.hpp>

using namespace vellum;
using namespace vellum::test;
using server::validate_statement;

namespace {

const std::string test_origin = "vellum.test/log";

struct keys_fixture {
  crypto::private_key ed = new_key();
  crypto::private_key p256 = new_key(crypto::key_type::p256);
  crypto::private_key other = new_key();
  server::credentials creds;
  std::uint64_t now = 1'800'000'000'000'000;  // 2027-01-15

  keys_fixture() {
    add("ed", ed, {"patient-"});
    add("p256", p256, {""});
    add("ward", ed, {"ward-7"});
    add("revoked", other, {""}).revoked = true;
    auto& window = add("window", other, {""});
    window.not_before_us = now - 10;
    window.not_after_us = now + 10;
  }

  server::submitter& add(const std::string& kid, const crypto::private_key& key,
                         std::vector<std::string> streams) {
    return creds.submitters.emplace_back(kid, key.public_key(), std::move(streams));
  }

  std::string code_of(const std::string& jws, std::uint64_t at) const {
    auto r = validate_statement(jws, creds, at, test_origin);
    BOOST_REQUIRE(!r);
    return std::string(server::classify(r.error()).code);
  }
  std::string code_of(const std::string& jws) const { return code_of(jws, now); }

  // Signs a payload after `edit` changed it and returns the failure code ("" if accepted).
  std::string with(const std::function<void(boost::json::object&)>& edit) const {
    auto p = payload("patient-1");
    edit(p);
    auto r = validate_statement(sign(p, ed, "ed"), creds, now, test_origin);
    return r ? std::string{} : std::string(server::classify(r.error()).code);
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(validation, keys_fixture)

BOOST_AUTO_TEST_CASE(accepts_a_valid_ed25519_statement_and_fills_the_statement) {
  auto p = payload("patient-1", 3);
  auto jws = sign(p, ed, "ed");
  auto r = validate_statement(jws, creds, now, test_origin);
  BOOST_REQUIRE(r);
  BOOST_TEST(r->jws == jws);
  BOOST_TEST(r->kid == "ed");
  BOOST_TEST(r->event_id == std::string(p["event_id"].as_string()));
  BOOST_TEST(r->stream == "patient-1");
  BOOST_TEST(r->type == "therapy.session.documented");
  BOOST_TEST((r->expected.k == ledger::expected_revision::kind::exact));
  BOOST_TEST(r->expected.value == 3u);
}

BOOST_AUTO_TEST_CASE(accepts_es256_statements_from_a_p256_key) {
  BOOST_TEST(bool(validate_statement(sign(payload("anything"), p256, "p256"), creds, now, test_origin)));
}

BOOST_AUTO_TEST_CASE(refuses_malformed_compact_serialization) {
  BOOST_TEST(code_of("not-a-jws") == "malformed_jws");
  BOOST_TEST(code_of("a.b") == "malformed_jws");
  BOOST_TEST(code_of("") == "malformed_jws");
}

BOOST_AUTO_TEST_CASE(refuses_a_jws_without_kid) {
  auto jws = crypto::jws_sign(crypto::as_bytes(boost::json::serialize(payload("patient-1"))), ed, {});
  BOOST_REQUIRE(jws);
  BOOST_TEST(code_of(*jws) == "malformed_jws");
}

BOOST_AUTO_TEST_CASE(refuses_an_unknown_kid_with_401_unknown_key) {
  auto r = validate_statement(sign(payload("patient-1"), ed, "nobody"), creds, now, test_origin);
  BOOST_REQUIRE(!r);
  BOOST_TEST(server::classify(r.error()).status == 401u);
  BOOST_TEST(server::classify(r.error()).code == "unknown_key");
}

BOOST_AUTO_TEST_CASE(refuses_a_signature_by_another_key_with_bad_signature) {
  BOOST_TEST(code_of(sign(payload("patient-1"), other, "ed")) == "bad_signature");
}

BOOST_AUTO_TEST_CASE(refuses_a_tampered_payload_with_bad_signature) {
  auto jws = sign(payload("patient-1"), ed, "ed");
  auto dot1 = jws.find('.');
  auto dot2 = jws.find('.', dot1 + 1);
  auto other_payload = crypto::base64url_encode(crypto::as_bytes(boost::json::serialize(payload("patient-2"))));
  auto tampered = jws.substr(0, dot1 + 1) + other_payload + jws.substr(dot2);
  BOOST_TEST(code_of(tampered) == "bad_signature");
}

// Ed25519 submitters verify through precomputed tables; without them
// (OpenSSL's verify) every verdict is the same.
BOOST_AUTO_TEST_CASE(ed25519_keys_verify_through_tables_with_openssl_verdicts) {
  BOOST_TEST(creds.submitters[0].ed25519 != nullptr);
  BOOST_TEST(creds.submitters[1].ed25519 == nullptr);  // P-256
  const auto good = sign(payload("patient-1"), ed, "ed");
  const auto foreign = sign(payload("patient-1"), other, "ed");
  std::string tampered = good;
  tampered[tampered.size() - 5] = tampered[tampered.size() - 5] == 'A' ? 'B' : 'A';
  const auto verdicts = [&] {
    std::vector<std::string> v;
    for (const std::string& jws : {good, foreign, tampered}) {
      auto r = validate_statement(jws, creds, now, test_origin);
      v.push_back(r ? "ok" : std::string(server::classify(r.error()).code));
    }
    return v;
  };
  const auto with_tables = verdicts();
  BOOST_TEST(with_tables == (std::vector<std::string>{"ok", "bad_signature", "bad_signature"}),
             boost::test_tools::per_element());
  creds.submitters[0].ed25519.reset();
  BOOST_TEST(verdicts() == with_tables, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(refuses_an_alg_that_does_not_fit_the_key) {
  // Signed with Ed25519 but registered kid is the P-256 key.
  BOOST_TEST(code_of(sign(payload("patient-1"), ed, "p256")) == "algorithm_mismatch");
}

BOOST_AUTO_TEST_CASE(refuses_revoked_keys_and_keys_outside_their_validity_window_with_403) {
  BOOST_TEST(code_of(sign(payload("x"), other, "revoked")) == "key_revoked");
  auto jws = sign(payload("x"), other, "window");
  BOOST_TEST(code_of(jws, now - 11) == "key_not_yet_valid");
  BOOST_TEST(code_of(jws, now + 11) == "key_expired");
  BOOST_TEST(bool(validate_statement(jws, creds, now, test_origin)));
  auto r = validate_statement(sign(payload("x"), other, "revoked"), creds, now, test_origin);
  BOOST_TEST(server::classify(r.error()).status == 403u);
}

BOOST_AUTO_TEST_CASE(refuses_streams_outside_the_key_prefixes_with_403) {
  auto r = validate_statement(sign(payload("other-1"), ed, "ed"), creds, now, test_origin);
  BOOST_REQUIRE(!r);
  BOOST_TEST(server::classify(r.error()).code == "stream_not_allowed");
  BOOST_TEST(server::classify(r.error()).status == 403u);
}

BOOST_AUTO_TEST_CASE(a_key_granted_a_prefix_writes_only_where_a_part_of_the_name_ends) {
  // "ward-7" grants ward-7 and ward-7.*, ward-7-*, ..., never ward-70.
  for (const char* s : {"ward-7", "ward-7.notes", "ward-7-bed-3", "ward-7:icu"})
    BOOST_TEST(bool(validate_statement(sign(payload(s), ed, "ward"), creds, now, test_origin)), s);
  for (const char* s : {"ward-70", "ward-7x", "ward-", "ward"}) {
    auto r = validate_statement(sign(payload(s), ed, "ward"), creds, now, test_origin);
    BOOST_TEST_REQUIRE(!r, s);
    BOOST_TEST(server::classify(r.error()).code == "stream_not_allowed", s);
  }
}

BOOST_AUTO_TEST_CASE(refuses_payloads_that_are_not_i_json) {
  BOOST_TEST(code_of(sign_text("{\"a\":1,\"a\":2}", ed, "ed")) == "malformed_json");
  BOOST_TEST(code_of(sign_text("not json", ed, "ed")) == "malformed_json");
  BOOST_TEST(code_of(sign_text("[1,2]", ed, "ed")) == "invalid_payload");
}

BOOST_AUTO_TEST_CASE(refuses_non_canonical_event_ids_instead_of_repairing_them) {
  BOOST_TEST(with([](auto& p) { p["event_id"] = "6F9619FF-8B86-D011-B42D-00C04FC964FF"; }) == "invalid_payload");
  BOOST_TEST(with([](auto& p) { p["event_id"] = "6f9619ff8b86d011b42d00c04fc964ff"; }) == "invalid_payload");
  BOOST_TEST(with([](auto& p) { p["event_id"] = "{6f9619ff-8b86-d011-b42d-00c04fc964ff}"; }) == "invalid_payload");
  BOOST_TEST(with([](auto& p) { p["event_id"] = 5; }) == "invalid_payload");
  BOOST_TEST(with([](auto& p) { p.erase("event_id"); }) == "invalid_payload");
  BOOST_TEST(with([](auto& p) { p["event_id"] = "6f9619ff-8b86-d011-b42d-00c04fc964ff"; }) == "");
}

BOOST_AUTO_TEST_CASE(enforces_stream_name_rules) {
  BOOST_TEST(with([](auto& p) { p["stream"] = "patient-a.b:c@d_e"; }) == "");
  BOOST_TEST(with([](auto& p) { p["stream"] = "patient-" + std::string(248, 'x'); }) == "");
  BOOST_TEST(with([](auto& p) { p["stream"] = "patient-" + std::string(249, 'x'); }) == "invalid_payload");
  BOOST_TEST(with([](auto& p) { p["stream"] = "patient-a/b"; }) == "invalid_payload");
  BOOST_TEST(with([](auto& p) { p["stream"] = "patient- b"; }) == "invalid_payload");
  BOOST_TEST(with([](auto& p) { p["stream"] = ""; }) == "invalid_payload");
  BOOST_TEST(server::is_valid_stream("a"));
  BOOST_TEST(!server::is_valid_stream("-a"));
  BOOST_TEST(!server::is_valid_stream(".a"));
  BOOST_TEST(!server::is_valid_stream("\xc3\xa4"));
}

BOOST_AUTO_TEST_CASE(requires_a_non_empty_type) {
  BOOST_TEST(with([](auto& p) { p["type"] = ""; }) == "invalid_payload");
  BOOST_TEST(with([](auto& p) { p.erase("type"); }) == "invalid_payload");
  BOOST_TEST(with([](auto& p) { p["type"] = 1; }) == "invalid_payload");
}

BOOST_AUTO_TEST_CASE(accepts_only_the_three_forms_of_expected_revision) {
  BOOST_TEST(with([](auto& p) { p["expected_revision"] = 0; }) == "");
  BOOST_TEST(with([](auto& p) { p["expected_revision"] = "any"; }) == "");
  BOOST_TEST(with([](auto& p) { p["expected_revision"] = "no_stream"; }) == "");
  BOOST_TEST(with([](auto& p) { p["expected_revision"] = -1; }) == "invalid_payload");
  BOOST_TEST(with([](auto& p) { p["expected_revision"] = 1.5; }) == "invalid_payload");
  BOOST_TEST(with([](auto& p) { p["expected_revision"] = "3"; }) == "invalid_payload");
  BOOST_TEST(with([](auto& p) { p.erase("expected_revision"); }) == "invalid_payload");
}

BOOST_AUTO_TEST_CASE(requires_an_rfc3339_occurred_at) {
  BOOST_TEST(with([](auto& p) { p["occurred_at"] = "2026-03-09T10:00:00.123+02:00"; }) == "");
  BOOST_TEST(with([](auto& p) { p["occurred_at"] = "2026-02-30T10:00:00Z"; }) == "invalid_payload");
  BOOST_TEST(with([](auto& p) { p["occurred_at"] = "yesterday"; }) == "invalid_payload");
  BOOST_TEST(with([](auto& p) { p.erase("occurred_at"); }) == "invalid_payload");
}

BOOST_AUTO_TEST_CASE(accepts_author_as_string_or_id_name_role_object) {
  BOOST_TEST(with([](auto& p) { p["author"] = "system:ehr"; }) == "");
  BOOST_TEST(with([](auto& p) { p["author"] = boost::json::object{{"id", "x"}}; }) == "");
  BOOST_TEST(with([](auto& p) { p["author"] = ""; }) == "invalid_payload");
  BOOST_TEST(with([](auto& p) { p["author"] = boost::json::object{{"name", "x"}}; }) == "invalid_payload");
  BOOST_TEST(with([](auto& p) { p["author"] = boost::json::object{{"id", "x"}, {"age", "3"}}; }) == "invalid_payload");
  BOOST_TEST(with([](auto& p) { p["author"] = 7; }) == "invalid_payload");
  BOOST_TEST(with([](auto& p) { p.erase("author"); }) == "invalid_payload");
}

BOOST_AUTO_TEST_CASE(requires_data_and_metadata_to_be_objects) {
  BOOST_TEST(with([](auto& p) { p["data"] = "text"; }) == "invalid_payload");
  BOOST_TEST(with([](auto& p) { p.erase("data"); }) == "invalid_payload");
  BOOST_TEST(with([](auto& p) { p["metadata"] = boost::json::object{{"source", "ehr"}}; }) == "");
  BOOST_TEST(with([](auto& p) { p["metadata"] = boost::json::array{}; }) == "invalid_payload");
}

BOOST_AUTO_TEST_CASE(requires_a_reason_with_amends_and_refuses_it_without) {
  auto target = new_uuid();
  BOOST_TEST(with([&](auto& p) {
               p["amends"] = target;
               p["reason"] = "typo in dose";
             }) == "");
  BOOST_TEST(with([&](auto& p) { p["amends"] = target; }) == "invalid_payload");
  BOOST_TEST(with([&](auto& p) { p["reason"] = "why"; }) == "invalid_payload");
  BOOST_TEST(with([&](auto& p) {
               p["amends"] = "not-a-uuid";
               p["reason"] = "x";
             }) == "invalid_payload");
  BOOST_TEST(with([&](auto& p) {
               p["amends"] = p["event_id"];
               p["reason"] = "x";
             }) == "invalid_payload");
  auto p = payload("patient-1");
  p["amends"] = target;
  p["reason"] = "x";
  auto r = validate_statement(sign(p, ed, "ed"), creds, now, test_origin);
  BOOST_REQUIRE(r);
  BOOST_TEST(r->amends == target);
}

BOOST_AUTO_TEST_CASE(accepts_meaning_and_refuses_unknown_members) {
  BOOST_TEST(with([](auto& p) { p["meaning"] = "approved"; }) == "");
  BOOST_TEST(with([](auto& p) { p["meaning"] = ""; }) == "invalid_payload");
  BOOST_TEST(with([](auto& p) { p["patient_name"] = "x"; }) == "invalid_payload");
}

BOOST_AUTO_TEST_CASE(a_statement_bound_to_one_log_is_refused_by_every_other) {
  BOOST_TEST(with([](auto& p) { p["log"] = test_origin; }) == "");
  BOOST_TEST(with([](auto& p) { p["log"] = "other.example/log"; }) == "wrong_log");
  BOOST_TEST(with([](auto& p) { p["log"] = ""; }) == "invalid_payload");
  BOOST_TEST(with([](auto& p) { p["log"] = 7; }) == "invalid_payload");
  auto elsewhere = payload("patient-1");
  elsewhere["log"] = "other.example/log";
  auto r = validate_statement(sign(elsewhere, ed, "ed"), creds, now, test_origin);
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().message() ==
             "log: this statement is for the log \"other.example/log\", this log is \"vellum.test/log\"");
  // Required by configuration: a statement without it is refused, naming the value.
  creds.require_log_binding = true;
  BOOST_TEST(with([](auto&) {}) == "invalid_payload");
  auto unbound = validate_statement(sign(payload("patient-1"), ed, "ed"), creds, now, test_origin);
  BOOST_REQUIRE(!unbound);
  BOOST_TEST(unbound.error().message().find("\"log\": \"vellum.test/log\"") != std::string::npos);
  BOOST_TEST(with([](auto& p) { p["log"] = test_origin; }) == "");
  creds.require_log_binding = false;
}

BOOST_AUTO_TEST_CASE(names_the_offending_member_in_the_message) {
  auto p = payload("patient-1");
  p["occurred_at"] = "nope";
  auto r = validate_statement(sign(p, ed, "ed"), creds, now, test_origin);
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().message().find("occurred_at") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
