// Retrospective reads through a running server: a stream folded as of a
// moment on both time axes (recorded_at, occurred_at), its field history
// with who and why, a checkpoint that proves the answer, and 400 for every
// query parameter an endpoint does not take.

#include "crypto/checkpoint.hpp"
#include "crypto/encoding.hpp"
#include "crypto/jcs.hpp"
#include "crypto/leaf_entry.hpp"
#include "ledger/ledger.hpp"
#include "crypto/merkle.hpp"
#include "crypto/note.hpp"
#include "crypto/sha256.hpp"
#include "server/fixture.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <thread>

using namespace vellum;
using namespace vellum::test;
namespace json = boost::json;

namespace {

// Appends `p` (signed by the writer) and returns its receipt.
json::object append(const running_server& srv, const identities& ids, const json::object& p) {
  auto r = http_request(srv.port(), "POST", "/v1/events", sign(p, ids.writer, "writer"), "application/jose");
  BOOST_REQUIRE_MESSAGE(r.status == 201u, r.body);
  return r.json().as_object();
}

json::object get(const running_server& srv, const identities& ids, const std::string& target, unsigned want = 200) {
  auto r = http_request(srv.port(), "GET", target, {}, {}, bearer(ids.reader_token));
  BOOST_REQUIRE_MESSAGE(r.status == want, target << ": " << r.status << " " << r.body);
  return r.json().as_object();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(retrospective_reads)

BOOST_AUTO_TEST_CASE(folds_a_stream_as_of_any_moment_and_names_who_changed_each_field) {
  identities ids;
  running_server srv(ids);
  const std::string s = "patient-0815";
  auto p0 = payload(s, "no_stream");
  p0["occurred_at"] = "2026-03-01T10:00:00Z";
  p0["data"] = {{"plan", "CBT, 12 sessions"}, {"dose", {{"mg", 20}}}};
  const auto r0 = append(srv, ids, p0);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const auto between = crypto::format_time_us(ledger::system_clock_us());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto p1 = payload(s, std::uint64_t{0});
  p1["occurred_at"] = "2026-03-05T10:00:00Z";
  p1["author"] = {{"id", "dr-2"}, {"name", "Dr. Two"}};
  p1["meaning"] = "approved";
  p1["amends"] = p0["event_id"];
  p1["reason"] = "dose titrated after review";
  p1["data"] = {{"dose", {{"mg", 40}}}, {"plan", nullptr}};
  const auto r1 = append(srv, ids, p1);

  // Now: both events folded.
  auto now = get(srv, ids, "/v1/streams/" + s + "/state");
  BOOST_TEST(now.at("state") == json::parse(R"({"dose":{"mg":40}})"));
  BOOST_TEST(now.at("revision") == 1);
  BOOST_TEST(now.at("events").as_array().size() == 2u);
  BOOST_TEST(std::string(now.at("state_sha256").as_string()) ==
             crypto::hex_encode(crypto::sha256(*crypto::jcs_serialize(now.at("state")))));

  // As of between the two appends: what the ledger knew then.
  auto then = get(srv, ids, "/v1/streams/" + s + "/state?as_of=" + between);
  BOOST_TEST(then.at("state") == json::parse(R"({"plan":"CBT, 12 sessions","dose":{"mg":20}})"));
  BOOST_TEST(then.at("as_of").as_string() == between);
  auto by_seq = get(srv, ids, "/v1/streams/" + s + "/state?as_of=seq:" + std::to_string(r1.at("seq").as_int64()));
  BOOST_TEST(by_seq.at("state") == then.at("state"));
  // Valid at 3 March: the correction recorded later happened on the 5th.
  auto valid = get(srv, ids, "/v1/streams/" + s + "/state?valid_at=2026-03-03T00:00:00Z");
  BOOST_TEST(valid.at("state") == then.at("state"));
  // Before anything: the empty document, nothing to prove.
  auto before = get(srv, ids, "/v1/streams/" + s + "/state?as_of=seq:0");
  BOOST_TEST(before.at("state") == json::object{});
  BOOST_TEST(before.at("revision").is_null());
  BOOST_TEST(before.at("checkpoint").is_null());

  // The answer's checkpoint is signed by the log and contains the last folded event.
  const std::string note(then.at("checkpoint").as_string());
  auto vkey = crypto::note_verifier::from_vkey(srv.server().verifier_key());
  BOOST_REQUIRE(vkey);
  const auto parts = crypto::split_note(note);
  BOOST_REQUIRE(parts);
  auto cp = crypto::parse_checkpoint(parts->text);
  BOOST_REQUIRE(cp);
  BOOST_TEST(cp->size > static_cast<std::uint64_t>(r0.at("seq").as_int64()));
  BOOST_TEST(then.at("checkpoint_size") == cp->size);

  // History: who changed the dose, when and why.
  auto h = get(srv, ids, "/v1/streams/" + s + "/history?path=/dose");
  const auto& changes = h.at("changes").as_array();
  BOOST_REQUIRE_EQUAL(changes.size(), 2u);
  const auto& c = changes[1].as_object();
  BOOST_TEST(c.at("path") == "/dose/mg");
  BOOST_TEST(c.at("old") == 20);
  BOOST_TEST(c.at("new") == 40);
  BOOST_TEST(c.at("author").at("id") == "dr-2");
  BOOST_TEST(c.at("meaning") == "approved");
  BOOST_TEST(c.at("reason") == "dose titrated after review");
  BOOST_TEST(c.at("amends") == p0["event_id"]);
  BOOST_TEST(c.at("occurred_at") == "2026-03-05T10:00:00Z");
  BOOST_TEST(c.at("kid") == "writer");
  auto plan = get(srv, ids, "/v1/streams/" + s + "/history?path=/plan");
  BOOST_REQUIRE_EQUAL(plan.at("changes").as_array().size(), 2u);
  BOOST_TEST(plan.at("changes").as_array()[1].at("new").is_null());  // removed by the correction
  auto as_of = get(srv, ids, "/v1/streams/" + s + "/history?as_of=" + between);
  BOOST_TEST(as_of.at("changes").as_array().size() == 2u);  // /dose/mg and /plan set by the first event
}

BOOST_AUTO_TEST_CASE(corrections_name_an_event_of_their_stream_and_a_void_withdraws_one) {
  identities ids;
  running_server srv(ids);
  auto p0 = payload("patient-2", "no_stream");
  p0["data"] = {{"dose", 20}};
  const auto r0 = append(srv, ids, p0);
  auto typo = payload("patient-2", std::uint64_t{0});
  typo["data"] = {{"dose", 400}};
  append(srv, ids, typo);
  append(srv, ids, payload("patient-3", "no_stream"));

  // An amendment from another stream, or of an event that does not exist: 409, nothing stored.
  const auto size_before = get(srv, ids, "/v1/log").at("tree_size");
  auto elsewhere = payload("patient-3", "any");
  elsewhere["amends"] = p0["event_id"];
  elsewhere["reason"] = "wrong chart";
  auto r = http_request(srv.port(), "POST", "/v1/events", sign(elsewhere, ids.writer, "writer"), "application/jose");
  BOOST_TEST(r.status == 409u, r.body);
  BOOST_TEST(error_code_of(r) == "reference_not_found");
  auto ghost = payload("patient-2", "any");
  ghost["voids"] = new_uuid();
  ghost["reason"] = "never was";
  r = http_request(srv.port(), "POST", "/v1/events", sign(ghost, ids.writer, "writer"), "application/jose");
  BOOST_TEST(r.status == 409u, r.body);
  auto both = payload("patient-2", "any");
  both["voids"] = typo["event_id"];
  both["amends"] = p0["event_id"];
  both["reason"] = "both";
  r = http_request(srv.port(), "POST", "/v1/events", sign(both, ids.writer, "writer"), "application/jose");
  BOOST_TEST(r.status == 400u, r.body);
  BOOST_TEST(get(srv, ids, "/v1/log").at("tree_size") == size_before);

  // Voiding the typo: the fold skips it, the history says who withdrew it, the event lists it.
  auto v = payload("patient-2", "any");
  v["voids"] = typo["event_id"];
  v["reason"] = "dose entered wrongly";
  v["data"] = json::object{};
  const auto rv = append(srv, ids, v);
  auto state = get(srv, ids, "/v1/streams/patient-2/state");
  BOOST_TEST(state.at("state") == json::parse(R"({"dose":20})"));
  BOOST_TEST(state.at("voided").as_array().size() == 1u);
  auto h = get(srv, ids, "/v1/streams/patient-2/history?path=/dose");
  const auto& changes = h.at("changes").as_array();
  BOOST_REQUIRE_EQUAL(changes.size(), 2u);
  BOOST_TEST(changes[1].at("new") == 400);
  BOOST_TEST(changes[1].at("voided_by") == v["event_id"]);
  auto withdrawn = get(srv, ids, "/v1/events/by-id/" + std::string(typo["event_id"].as_string()));
  BOOST_REQUIRE_EQUAL(withdrawn.at("corrections").as_array().size(), 1u);
  BOOST_TEST(withdrawn.at("corrections").as_array()[0] == rv.at("seq"));
  BOOST_TEST(get(srv, ids, "/v1/events/0").at("corrections").as_array().empty());
  BOOST_TEST(r0.at("seq") == 0);
}

BOOST_AUTO_TEST_CASE(refuses_what_it_cannot_answer_and_every_unknown_parameter) {
  identities ids;
  running_server srv(ids);
  append(srv, ids, payload("patient-1", "no_stream"));
  const std::pair<const char*, unsigned> cases[] = {
      {"/v1/streams/patient-1/state?as_of=yesterday", 400},
      {"/v1/streams/patient-1/state?as_of=seq:x", 400},
      {"/v1/streams/patient-1/state?valid_at=3.3.2026", 400},
      {"/v1/streams/patient-1/state?asof=2026-03-03T00:00:00Z", 400},
      {"/v1/streams/patient-1/history?path=dose", 400},
      {"/v1/streams/patient-1?as_of=2026-03-03T00:00:00Z", 400},  // not silently ignored
      {"/v1/log/events?form=0", 400},
      {"/v1/events/0?x=1", 400},
      {"/v1/subscribe?fromm=0", 400},
      {"/v1/streams/nobody-here/state", 404},
      {"/v1/streams/nobody-here/history", 404},
  };
  for (const auto& [target, want] : cases) {
    auto r = http_request(srv.port(), "GET", target, {}, {}, bearer(ids.reader_token));
    BOOST_TEST(r.status == want, target << ": " << r.body);
  }
  auto unknown = http_request(srv.port(), "GET", "/v1/log/events?form=0", {}, {}, bearer(ids.reader_token));
  BOOST_TEST(unknown.body.find("unknown query parameter \\\"form\\\"") != std::string::npos, unknown.body);
  // The state of one stream is not confused with another's path.
  BOOST_TEST(http_request(srv.port(), "GET", "/v1/streams/patient-1/state/x", {}, {}, bearer(ids.reader_token)).status ==
             404u);
  BOOST_TEST(http_request(srv.port(), "GET", "/v1/streams/patient-1/state").status == 401u);
}

BOOST_AUTO_TEST_SUITE_END()
