// Integration tests: an in-process vellumd on 127.0.0.1 port 0 with a fresh
// data directory, spoken to over HTTP/1.1 (docs/api.md).

#include "crypto/checkpoint.hpp"
#include "crypto/leaf_entry.hpp"
#include "crypto/merkle.hpp"
#include "crypto/note.hpp"
#include "ledger/ledger.hpp"
#include "server/api.hpp"
#include "server/errors.hpp"
#include "server/fixture.hpp"

#include <boost/test/unit_test.hpp>

#include <atomic>

using namespace vellum;
using namespace vellum::test;
namespace json = boost::json;

namespace {

constexpr const char* jose = "application/jose";
constexpr const char* ndjson = "application/x-ndjson";

crypto::hash hash_from_b64(json::string_view s) {
  auto raw = crypto::base64_decode(s);
  BOOST_REQUIRE(raw);
  BOOST_REQUIRE(raw->size() == 32u);
  crypto::hash h{};
  std::copy(raw->begin(), raw->end(), h.begin());
  return h;
}

std::vector<crypto::hash> proof_from(const json::value& arr) {
  std::vector<crypto::hash> out;
  for (const auto& v : arr.as_array()) out.push_back(hash_from_b64(v.as_string()));
  return out;
}

// Opens a checkpoint note with the log's verifier key; returns the checkpoint.
crypto::checkpoint open_checkpoint(const std::string& note, const std::string& vkey) {
  auto verifier = crypto::note_verifier::from_vkey(vkey);
  BOOST_REQUIRE(verifier);
  std::vector<crypto::note_verifier> known{*verifier};
  auto opened = crypto::open_note(note, known);
  BOOST_REQUIRE(opened);
  auto cp = crypto::parse_checkpoint(opened->text);
  BOOST_REQUIRE(cp);
  return *cp;
}

// Checks a receipt offline: checkpoint signed by the log, leaf included in it.
void verify_receipt(const json::object& r, const std::string& vkey) {
  auto cp = open_checkpoint(std::string(r.at("checkpoint").as_string()), vkey);
  BOOST_TEST(cp.size == r.at("tree_size").to_number<std::uint64_t>());
  auto entry = crypto::base64_decode(r.at("leaf_entry").as_string());
  BOOST_REQUIRE(entry);
  auto ok = crypto::verify_inclusion(r.at("seq").to_number<std::uint64_t>(), cp.size, crypto::leaf_hash(*entry),
                                     proof_from(r.at("inclusion_proof")), cp.root);
  BOOST_TEST(!ok.has_error());
}

struct server_fixture {
  identities ids;
  running_server srv{ids, [](server::config& c) {
                       c.lim.max_body_bytes = 256 * 1024;
                       c.lim.max_header_bytes = 4096;
                     }};
  std::string vkey;

  server_fixture() {
    auto log = http_request(srv.port(), "GET", "/v1/log");
    BOOST_REQUIRE_EQUAL(log.status, 200u);
    vkey = std::string(log.json().at("verifier_key").as_string());
  }

  client_response post(const std::string& jws) { return http_request(srv.port(), "POST", "/v1/events", jws, jose); }
  client_response read(const std::string& target, const std::string& token) {
    return http_request(srv.port(), "GET", target, {}, {}, bearer(token));
  }
  std::string writer_jws(const json::object& p) { return sign(p, ids.writer, "writer"); }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(http_api, server_fixture)

BOOST_AUTO_TEST_CASE(appends_an_event_and_answers_with_a_receipt_that_verifies_offline) {
  auto p = payload("patient-1", "no_stream");
  auto r = post(writer_jws(p));
  BOOST_REQUIRE_EQUAL(r.status, 201u);
  auto rc = r.json().as_object();
  BOOST_TEST(rc.at("seq").to_number<int>() == 0);
  BOOST_TEST(rc.at("revision").to_number<int>() == 0);
  BOOST_TEST(rc.at("stream").as_string() == "patient-1");
  BOOST_TEST(rc.at("event_id").as_string() == p["event_id"].as_string());
  BOOST_TEST(r.header("location") == "/v1/events/0");
  verify_receipt(rc, vkey);

  // The record in the receipt matches the leaf's salted commitment.
  auto entry = crypto::decode_leaf_entry(*crypto::base64_decode(rc.at("leaf_entry").as_string()));
  BOOST_REQUIRE(entry);
  auto salt = crypto::base64_decode(rc.at("salt").as_string());
  BOOST_TEST(!crypto::check_record(*entry, *salt, rc.at("record").as_string()).has_error());
}

BOOST_AUTO_TEST_CASE(serves_events_streams_proofs_and_checkpoints_to_readers) {
  std::vector<json::object> receipts;
  for (int i = 0; i < 5; ++i) {
    auto r = post(writer_jws(payload(i % 2 ? "patient-odd" : "patient-even", "any")));
    BOOST_REQUIRE_EQUAL(r.status, 201u);
    receipts.push_back(r.json().as_object());
  }
  auto& tok = ids.reader_token;
  auto ev = read("/v1/events/3", tok);
  BOOST_REQUIRE_EQUAL(ev.status, 200u);
  BOOST_TEST(ev.json().at("stream").as_string() == "patient-odd");
  BOOST_TEST(ev.json().at("payload").at("type").as_string() == "therapy.session.documented");
  auto by_id = read("/v1/events/by-id/" + std::string(receipts[2].at("event_id").as_string()), tok);
  BOOST_REQUIRE_EQUAL(by_id.status, 200u);
  BOOST_TEST(by_id.json().at("seq").to_number<int>() == 2);
  BOOST_TEST(read("/v1/events/99", tok).status == 404u);
  BOOST_TEST(read("/v1/events/by-id/" + new_uuid(), tok).status == 404u);

  // Stream pages with a cursor, both directions.
  auto page = read("/v1/streams/patient-even?limit=2", tok).json().as_object();
  BOOST_TEST(page.at("events").as_array().size() == 2u);
  BOOST_TEST(page.at("next").to_number<int>() == 2);
  BOOST_TEST(page.at("current_revision").to_number<int>() == 2);
  auto page2 = read("/v1/streams/patient-even?limit=2&from=2", tok).json().as_object();
  BOOST_TEST(page2.at("events").as_array().size() == 1u);
  BOOST_TEST(page2.at("next").is_null());
  auto back = read("/v1/streams/patient-even?direction=backward&limit=2", tok).json().as_object();
  BOOST_TEST(back.at("events").as_array()[0].at("revision").to_number<int>() == 2);
  BOOST_TEST(back.at("next").to_number<int>() == 0);
  auto none = read("/v1/streams/patient-none", tok).json().as_object();
  BOOST_TEST(none.at("events").as_array().empty());
  BOOST_TEST(read("/v1/streams/patient-even?direction=up", tok).status == 400u);

  auto all = read("/v1/log/events?from=1&limit=3", tok).json().as_object();
  BOOST_TEST(all.at("events").as_array().size() == 3u);
  BOOST_TEST(all.at("next").to_number<int>() == 4);

  // Inclusion of the first event in the current tree, against the public checkpoint.
  auto cp_text = http_request(srv.port(), "GET", "/checkpoint");
  BOOST_REQUIRE_EQUAL(cp_text.status, 200u);
  auto cp = open_checkpoint(cp_text.body, vkey);
  BOOST_TEST(cp.size == 5u);
  auto inc = read("/v1/proofs/inclusion?seq=0&tree_size=5", tok).json().as_object();
  auto leaf = crypto::leaf_hash(*crypto::base64_decode(receipts[0].at("leaf_entry").as_string()));
  BOOST_TEST(!crypto::verify_inclusion(0, 5, leaf, proof_from(inc.at("proof")), cp.root).has_error());
  BOOST_TEST(read("/v1/proofs/inclusion?seq=5&tree_size=5", tok).status == 400u);
  BOOST_TEST(read("/v1/proofs/inclusion?seq=0&tree_size=9", tok).status == 400u);
  BOOST_TEST(read("/v1/proofs/inclusion?seq=x", tok).status == 400u);

  // Consistency from the first receipt's checkpoint to the latest.
  auto old_cp = open_checkpoint(std::string(receipts[0].at("checkpoint").as_string()), vkey);
  auto cons = read("/v1/proofs/consistency?from=" + std::to_string(old_cp.size) + "&to=5", tok).json().as_object();
  BOOST_TEST(!crypto::verify_consistency(old_cp.size, 5, old_cp.root, cp.root, proof_from(cons.at("proof"))).has_error());
  BOOST_TEST(read("/v1/proofs/consistency?from=0&to=5", tok).status == 400u);

  auto cpj = http_request(srv.port(), "GET", "/v1/checkpoint").json().as_object();
  BOOST_TEST(cpj.at("tree_size").to_number<int>() == 5);
  BOOST_TEST(cpj.at("note").as_string() == cp_text.body);

  auto subs = read("/v1/submitters", tok).json().at("submitters").as_array();
  BOOST_TEST(subs.size() == 5u);
  BOOST_TEST(subs[0].at("kid").as_string() == "writer");
}

BOOST_AUTO_TEST_CASE(serves_c2sp_tiles_with_immutable_caching_only_for_full_tiles) {
  std::string batch;
  for (int i = 0; i < 257; ++i) batch += writer_jws(payload("patient-tiles")) + "\n";
  http_client c(srv.port());
  auto r = c.request("POST", "/v1/events", batch, ndjson);
  BOOST_REQUIRE_EQUAL(r.status, 200u);
  auto full = c.get("/tile/0/000");
  BOOST_REQUIRE_EQUAL(full.status, 200u);
  BOOST_TEST(full.body.size() == 256u * 32u);
  BOOST_TEST(full.header("cache-control") == "public, max-age=31536000, immutable");
  auto partial = c.get("/tile/0/001.p/1");
  BOOST_REQUIRE_EQUAL(partial.status, 200u);
  BOOST_TEST(partial.body.size() == 32u);
  BOOST_TEST(partial.header("cache-control").find("immutable") == std::string::npos);
  auto first = c.get("/v1/events/0", bearer(ids.reader_token)).json();
  auto entry = *crypto::base64_decode(first.at("leaf_entry").as_string());
  auto leaf = crypto::leaf_hash(entry);
  BOOST_TEST(std::equal(leaf.begin(), leaf.end(), reinterpret_cast<const std::uint8_t*>(full.body.data())));
  auto bundle = c.get("/tile/entries/000");
  BOOST_REQUIRE_EQUAL(bundle.status, 200u);
  BOOST_TEST(static_cast<std::size_t>((static_cast<unsigned char>(bundle.body[0]) << 8) |
                                      static_cast<unsigned char>(bundle.body[1])) == entry.size());
  BOOST_TEST(c.get("/tile/0/002").status == 404u);
  BOOST_TEST(c.get("/tile/0/1").status == 404u);
}

BOOST_AUTO_TEST_CASE(answers_a_repeated_event_with_200_and_the_first_receipt) {
  auto jws = writer_jws(payload("patient-2", "no_stream"));
  auto first = post(jws);
  BOOST_REQUIRE_EQUAL(first.status, 201u);
  BOOST_REQUIRE_EQUAL(post(writer_jws(payload("patient-2", "any"))).status, 201u);
  // Stale expected revision by now: idempotency is checked before concurrency.
  auto again = post(jws);
  BOOST_REQUIRE_EQUAL(again.status, 200u);
  auto a = first.json().as_object(), b = again.json().as_object();
  BOOST_TEST(a.at("seq") == b.at("seq"));
  BOOST_TEST(a.at("leaf_entry") == b.at("leaf_entry"));
  BOOST_TEST(a.at("record") == b.at("record"));
  verify_receipt(b, vkey);
  BOOST_TEST(http_request(srv.port(), "GET", "/v1/log").json().at("tree_size").to_number<int>() == 2);
}

BOOST_AUTO_TEST_CASE(refuses_a_stale_expected_revision_with_409_and_the_current_revision) {
  BOOST_REQUIRE_EQUAL(post(writer_jws(payload("patient-3", "no_stream"))).status, 201u);
  auto conflict = post(writer_jws(payload("patient-3", "no_stream")));
  BOOST_REQUIRE_EQUAL(conflict.status, 409u);
  BOOST_TEST(error_code_of(conflict) == "revision_conflict");
  BOOST_TEST(conflict.json().at("error").at("current_revision").to_number<int>() == 0);
  BOOST_REQUIRE_EQUAL(post(writer_jws(payload("patient-3", 0))).status, 201u);
  auto stale = post(writer_jws(payload("patient-3", 0)));
  BOOST_REQUIRE_EQUAL(stale.status, 409u);
  BOOST_TEST(stale.json().at("error").at("current_revision").to_number<int>() == 1);
  auto missing = post(writer_jws(payload("patient-new", 4)));
  BOOST_REQUIRE_EQUAL(missing.status, 409u);
  BOOST_TEST(missing.json().at("error").at("current_revision").is_null());
}

BOOST_AUTO_TEST_CASE(refuses_an_event_id_reused_with_different_content_with_409) {
  auto id = new_uuid();
  BOOST_REQUIRE_EQUAL(post(writer_jws(payload("patient-4", "any", id))).status, 201u);
  auto p = payload("patient-4", "any", id);
  p["data"] = json::object{{"note", "different"}};
  auto r = post(writer_jws(p));
  BOOST_REQUIRE_EQUAL(r.status, 409u);
  BOOST_TEST(error_code_of(r) == "event_id_conflict");
}

BOOST_AUTO_TEST_CASE(answers_every_bad_statement_with_its_status_and_stable_code) {
  struct expectation {
    std::string jws;
    unsigned status;
    std::string code;
  };
  auto bad_uuid = payload("patient-5");
  bad_uuid["event_id"] = "NOT-A-UUID";
  std::vector<expectation> cases{
      {"garbage", 400, "malformed_jws"},
      {sign_text("{\"a\":1,\"a\":1}", ids.writer, "writer"), 400, "malformed_json"},
      {writer_jws(bad_uuid), 400, "invalid_payload"},
      {sign(payload("patient-5"), ids.writer, "nobody"), 401, "unknown_key"},
      {sign(payload("patient-5"), ids.revoked, "writer"), 401, "bad_signature"},
      {sign(payload("patient-5"), ids.writer, "es"), 401, "algorithm_mismatch"},
      {sign(payload("patient-5"), ids.revoked, "revoked"), 403, "key_revoked"},
      {sign(payload("patient-5"), ids.future, "future"), 403, "key_not_yet_valid"},
      {sign(payload("patient-5"), ids.expired, "expired"), 403, "key_expired"},
      {writer_jws(payload("other-5")), 403, "stream_not_allowed"},
  };
  for (const auto& c : cases) {
    auto r = post(c.jws);
    BOOST_TEST_CONTEXT(c.code) {
      BOOST_TEST(r.status == c.status);
      BOOST_TEST(error_code_of(r) == c.code);
      BOOST_TEST(!r.json().at("error").at("message").as_string().empty());
      BOOST_TEST(r.header("content-type") == "application/json");
    }
  }
  // Nothing of it was stored.
  BOOST_TEST(http_request(srv.port(), "GET", "/v1/log").json().at("tree_size").to_number<int>() == 0);
}

BOOST_AUTO_TEST_CASE(refuses_other_content_types_with_415_so_form_posts_cannot_append) {
  auto jws = writer_jws(payload("patient-6"));
  for (std::string ct : {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "", "application/json"}) {
    auto r = http_request(srv.port(), "POST", "/v1/events", jws, ct);
    BOOST_TEST_CONTEXT(ct) {
      BOOST_TEST(r.status == 415u);
      BOOST_TEST(error_code_of(r) == "unsupported_media_type");
    }
  }
  BOOST_TEST(http_request(srv.port(), "POST", "/v1/events", jws, "Application/JOSE; charset=us-ascii").status == 201u);
}

BOOST_AUTO_TEST_CASE(refuses_oversized_bodies_with_413_and_oversized_headers_with_431) {
  auto p = payload("patient-7");
  p["data"] = json::object{{"blob", std::string(300 * 1024, 'x')}};
  auto r = post(writer_jws(p));
  BOOST_TEST(r.status == 413u);
  BOOST_TEST(error_code_of(r) == "payload_too_large");
  auto h = http_request(srv.port(), "GET", "/healthz", {}, {}, {{"X-Big", std::string(5000, 'a')}});
  BOOST_TEST(h.status == 431u);
  BOOST_TEST(error_code_of(h) == "headers_too_large");
}

BOOST_AUTO_TEST_CASE(answers_unknown_routes_404_and_wrong_methods_405) {
  auto nf = http_request(srv.port(), "GET", "/v2/nothing");
  BOOST_TEST(nf.status == 404u);
  BOOST_TEST(error_code_of(nf) == "not_found");
  auto m = http_request(srv.port(), "GET", "/v1/events");
  BOOST_TEST(m.status == 405u);
  BOOST_TEST(m.header("allow") == "POST");
  BOOST_TEST(http_request(srv.port(), "DELETE", "/v1/events/0", {}, {}, bearer(ids.reader_token)).status == 405u);
  BOOST_TEST(http_request(srv.port(), "POST", "/v1/subscribe", "x", "text/plain").status == 405u);
}

BOOST_AUTO_TEST_CASE(answers_a_batch_per_line_with_bad_events_in_the_middle) {
  auto a = payload("patient-8", "no_stream");
  auto b = payload("patient-8", 0);
  std::string body = writer_jws(a) + "\n" + sign(payload("patient-8"), ids.revoked, "writer") + "\r\n" +
                     "not a jws\n" + writer_jws(payload("forbidden-8")) + "\n" + writer_jws(b) + "\n" +
                     writer_jws(a) + "\n";
  auto r = http_request(srv.port(), "POST", "/v1/events", body, ndjson);
  BOOST_REQUIRE_EQUAL(r.status, 200u);
  auto results = r.json().at("results").as_array();
  BOOST_REQUIRE_EQUAL(results.size(), 6u);
  std::vector<int> statuses;
  for (const auto& x : results) statuses.push_back(x.at("status").to_number<int>());
  BOOST_TEST(statuses == (std::vector<int>{201, 401, 400, 403, 201, 200}), boost::test_tools::per_element());
  BOOST_TEST(results[1].at("error").at("code").as_string() == "bad_signature");
  BOOST_TEST(results[4].at("receipt").at("revision").to_number<int>() == 1);
  verify_receipt(results[4].at("receipt").as_object(), vkey);
}

BOOST_AUTO_TEST_CASE(refuses_batches_longer_than_the_limit_and_empty_batches) {
  std::string body;
  for (int i = 0; i < 1001; ++i) body += "x\n";
  auto big = http_request(srv.port(), "POST", "/v1/events", body, ndjson);
  BOOST_TEST(big.status == 413u);
  BOOST_TEST(error_code_of(big) == "batch_too_large");
  BOOST_TEST(http_request(srv.port(), "POST", "/v1/events", "\n\n", ndjson).status == 400u);
}

BOOST_AUTO_TEST_CASE(requires_a_token_for_reads_and_the_admin_role_for_metrics) {
  BOOST_REQUIRE_EQUAL(post(writer_jws(payload("patient-9"))).status, 201u);
  auto anon = http_request(srv.port(), "GET", "/v1/events/0");
  BOOST_TEST(anon.status == 401u);
  BOOST_TEST(error_code_of(anon) == "unauthorized");
  BOOST_TEST(!anon.header("www-authenticate").empty());
  BOOST_TEST(read("/v1/events/0", "wrong-token-0123456789-0123456789").status == 401u);
  BOOST_TEST(read("/v1/events/0", ids.reader_token).status == 200u);
  BOOST_TEST(read("/v1/events/0", ids.auditor_token).status == 200u);
  BOOST_TEST(read("/v1/events/0", ids.admin_token).status == 200u);
  auto forbidden = read("/metrics", ids.reader_token);
  BOOST_TEST(forbidden.status == 403u);
  BOOST_TEST(error_code_of(forbidden) == "forbidden");
  auto m = read("/metrics", ids.admin_token);
  BOOST_REQUIRE_EQUAL(m.status, 200u);
  BOOST_TEST(m.body.find("vellum_http_requests_total{route=\"POST /v1/events\",status=\"201\"} 1") != std::string::npos);
  BOOST_TEST(m.body.find("vellum_append_latency_seconds_count 1") != std::string::npos);
  BOOST_TEST(m.body.find("vellum_tree_size 1") != std::string::npos);
  BOOST_TEST(m.body.find("vellum_index_unmerged_events 1") != std::string::npos);  // < 4096
  BOOST_TEST(m.body.find("vellum_sequencer_queue_depth") != std::string::npos);
  BOOST_TEST(m.body.find("vellum_commit_batch_events_count") != std::string::npos);
  // Public without a token: leaves carry nothing personal.
  for (std::string t : {"/healthz", "/readyz", "/checkpoint", "/v1/checkpoint", "/v1/log", "/tile/0/000.p/1"})
    BOOST_TEST_CONTEXT(t) { BOOST_TEST(http_request(srv.port(), "GET", t).status == 200u); }
}

BOOST_AUTO_TEST_CASE(reloads_submitters_and_tokens_from_the_configuration_file) {
  auto fresh = new_key();
  BOOST_TEST(post(sign(payload("x-1"), fresh, "fresh")).status == 401u);
  BOOST_TEST(read("/v1/submitters", "fresh-token-0123456789-0123456789").status == 401u);
  boost::json::object sub{{"kid", "fresh"}, {"public_key", fresh.public_key().to_pem()}, {"streams", {"x-"}}};
  auto text = ids.config_json();
  auto o = json::parse(text).as_object();
  o["submitters"].as_array().push_back(sub);
  o["tokens"].as_array().push_back({{"token", "fresh-token-0123456789-0123456789"}, {"role", "reader"}});
  std::ofstream(srv.config_path()) << json::serialize(o);
  BOOST_TEST(srv.server().reload_credentials() == "");
  BOOST_TEST(post(sign(payload("x-1"), fresh, "fresh")).status == 201u);
  BOOST_TEST(read("/v1/submitters", "fresh-token-0123456789-0123456789").status == 200u);
  // A broken file keeps the old credentials and says why.
  std::ofstream(srv.config_path()) << R"({"tokens":[{"role":"reader"}]})";
  BOOST_TEST(srv.server().reload_credentials().find("tokens[0]") != std::string::npos);
  BOOST_TEST(read("/v1/submitters", "fresh-token-0123456789-0123456789").status == 200u);
}

BOOST_AUTO_TEST_CASE(streams_events_as_sse_catch_up_then_live_with_filters) {
  BOOST_REQUIRE_EQUAL(post(writer_jws(payload("patient-a"))).status, 201u);
  BOOST_REQUIRE_EQUAL(post(writer_jws(payload("patient-b"))).status, 201u);
  BOOST_REQUIRE_EQUAL(post(writer_jws(payload("patient-a"))).status, 201u);

  http_client all(srv.port());
  auto seen = all.stream_until("/v1/subscribe?from=0", bearer(ids.reader_token), "event: event", 3,
                               std::chrono::seconds(5));
  BOOST_TEST(seen.find("HTTP/1.1 200") == 0u);
  BOOST_TEST(seen.find("text/event-stream") != std::string::npos);
  BOOST_TEST(seen.find("id: 2\n") != std::string::npos);

  http_client only_a(srv.port());
  auto a = only_a.stream_until("/v1/subscribe?stream=patient-a&from=1", bearer(ids.reader_token), "event: event", 1,
                               std::chrono::seconds(5));
  BOOST_TEST(a.find("id: 2\n") != std::string::npos);
  BOOST_TEST(a.find("id: 1\n") == std::string::npos);

  // Live: a new event reaches both (and the filtered one only if it matches).
  BOOST_REQUIRE_EQUAL(post(writer_jws(payload("patient-a"))).status, 201u);
  auto live = all.continue_until("id: 3\n", 1, std::chrono::seconds(5));
  BOOST_TEST(live.find("id: 3\n") != std::string::npos);
  auto live_a = only_a.continue_until("id: 3\n", 1, std::chrono::seconds(5));
  BOOST_TEST(live_a.find("id: 3\n") != std::string::npos);

  // Resume with Last-Event-ID.
  http_client resume(srv.port());
  auto r = resume.stream_until("/v1/subscribe", {{"Authorization", "Bearer " + ids.reader_token}, {"Last-Event-ID", "2"}},
                               "event: event", 1, std::chrono::seconds(5));
  BOOST_TEST(r.find("id: 3\n") != std::string::npos);
  BOOST_TEST(r.find("id: 2\n") == std::string::npos);

  // Subscriptions need a token too.
  BOOST_TEST(http_request(srv.port(), "GET", "/v1/subscribe").status == 401u);
}

BOOST_AUTO_TEST_CASE(keeps_a_connection_alive_across_requests) {
  http_client c(srv.port());
  for (int i = 0; i < 5; ++i) BOOST_TEST(c.get("/healthz").status == 200u);
  auto r = c.request("POST", "/v1/events", writer_jws(payload("patient-ka")), jose);
  BOOST_TEST(r.status == 201u);
  BOOST_TEST(c.get("/v1/log").status == 200u);
}

BOOST_AUTO_TEST_CASE(answers_malformed_http_with_400) {
  http_client c(srv.port());
  auto r = c.raw("GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n");
  BOOST_TEST(r.status == 400u);
}

// Heads two parsers could read two ways (request smuggling) are refused, and
// the connection closed.
BOOST_AUTO_TEST_CASE(refuses_ambiguous_request_heads) {
  const std::pair<const char*, const char*> cases[] = {
      {"GET /healthz HTTP/1.1\r\n\r\n", "Host"},
      {"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "Host header may appear only once"},
      {"GET /healthz HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer x\r\nAuthorization: Bearer y\r\n\r\n",
       "Authorization header may appear only once"},
      {"POST /v1/events HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab", ""},
      {"POST /v1/events HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", "Transfer-Encoding"},
      {"POST /v1/events HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       "Transfer-Encoding"},
      {"POST /v1/events HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n Content-Length: 5\r\n\r\n0\r\n\r\n",
       "Transfer-Encoding"},  // an obsolete line folding
  };
  for (const auto& [head, named] : cases) {
    http_client c(srv.port());
    auto r = c.raw(head);
    BOOST_TEST(r.status == 400u, head);
    BOOST_TEST(r.body.find(named) != std::string::npos, head << ": " << r.body);
  }
  // HTTP/1.0 may omit Host.
  http_client old(srv.port());
  BOOST_TEST(old.raw("GET /healthz HTTP/1.0\r\n\r\n").status == 200u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(http_errors)

BOOST_AUTO_TEST_CASE(maps_overload_and_storage_full_to_503_with_retry_after) {
  for (auto e : {ledger::errc::overloaded, ledger::errc::storage_full, ledger::errc::shutting_down}) {
    auto r = server::error_response(e);
    BOOST_TEST(r.status == 503u);
    BOOST_TEST((std::find_if(r.headers.begin(), r.headers.end(),
                             [](const auto& h) { return h.first == "Retry-After"; }) != r.headers.end()));
  }
  BOOST_TEST(server::classify(ledger::errc::storage_full).code == "storage_full");
  BOOST_TEST(server::classify(ledger::errc::overloaded).code == "overloaded");
  BOOST_TEST(server::classify(ledger::errc::revision_conflict).status == 409u);
  BOOST_TEST(server::classify(crypto::errc::bad_signature).status == 401u);
  BOOST_TEST(server::classify(boost::system::error_code(5, boost::system::generic_category())).status == 500u);
}

BOOST_AUTO_TEST_SUITE_END()
