// The projection runner on SQLite: handlers applied once each, pages that
// overlap or leave a gap, a tampered record refused, a failing handler that
// stops at its event (or is parked with --skip-on-error), the position and
// checkpoint recorded with each page, digests equal however the pages fell,
// and a spec of another version refused.

#include "projection/runner.hpp"

#include "crypto/encoding.hpp"
#include "crypto/keys.hpp"
#include "crypto/leaf_entry.hpp"

#include "pg_cluster.hpp"
#include "test_util.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "sqlite_query.hpp"

#include <sqlite3.h>

#include <map>
#include <set>

using namespace vellum;
using namespace vellum::projection;
namespace json = boost::json;

namespace {

// An event as GET /v1/log/events gives it: a record committed to by its
// leaf entry, a JWS whose payload is `payload` (the signature is not the
// runner's to check: vellumd did, and the leaf entry binds the JWS).
json::object make_event(std::uint64_t seq, const std::string& stream, std::uint64_t revision, json::object payload) {
  const std::uint64_t recorded = 1773050400000000ull + seq * 1000000ull;
  const std::string event_id = "00000000-0000-4000-8000-" + std::string(12 - std::to_string(seq).size(), '0') + std::to_string(seq);
  payload["event_id"] = event_id;
  payload["stream"] = stream;
  const std::string body = json::serialize(payload);
  const std::string jws = "eyJhbGciOiJFZERTQSIsImtpZCI6ImJlbmNoLWVociJ9." + crypto::base64url_encode(crypto::as_bytes(body)) +
                          "." + std::string(86, 'A');
  const std::string record = crypto::event_record{seq, stream, revision, recorded, "k1", event_id, jws}.encode();
  const bytes salt = crypto::random_bytes(crypto::salt_size);
  const bytes leaf = crypto::leaf_entry{seq, recorded, "k1", crypto::record_commitment(salt, crypto::as_bytes(record))}.encode();
  return {{"seq", seq},
          {"stream", stream},
          {"revision", revision},
          {"recorded_at", crypto::format_time_us(recorded)},
          {"event_id", event_id},
          {"kid", "k1"},
          {"leaf_entry", crypto::base64_encode(leaf)},
          {"jws", jws},
          {"payload", payload},
          {"record", record},
          {"salt", crypto::base64_encode(salt)}};
}

// prescriptions of drug "d<i % 3>" to patients "p-<i % 4>", a stop every 5th.
std::vector<json::object> therapy_log(std::uint64_t n) {
  std::vector<json::object> out;
  std::map<std::string, std::uint64_t> revisions;
  for (std::uint64_t i = 0; i < n; ++i) {
    const std::string patient = "p-" + std::to_string(i % 4);
    json::object p{{"type", i % 5 == 4 ? "MedicationStopped" : "MedicationPrescribed"},
                   {"occurred_at", "2026-03-0" + std::to_string(1 + i % 9) + "T10:00:00Z"},
                   {"author", {{"id", "dr-" + std::to_string(i % 2)}, {"name", "Dr"}}},
                   {"data", {{"drug", "d" + std::to_string(i % 3)}, {"dose_mg", 2.5 * static_cast<double>(1 + i % 4)}}}};
    out.push_back(make_event(i, patient, revisions[patient]++, std::move(p)));
  }
  return out;
}

spec medication_spec() {
  auto s = parse_spec(test::read_text(std::string(VELLUM_SOURCE_DIR) + "/config/projections/medication-plan.json"));
  BOOST_REQUIRE(s.has_value());
  return *s;
}

std::int64_t scalar(const std::string& path, const std::string& sql) { return test::sqlite_scalar(path, sql); }

std::unique_ptr<view_db> open_or_fail(const std::string& path) {
  auto db = view_db::open("sqlite:" + path);
  BOOST_REQUIRE_MESSAGE(db.has_value(), (db ? "" : db.error().message()));
  return std::move(*db);
}

const std::string root(64, 'a');

}  // namespace

BOOST_AUTO_TEST_SUITE(projection_runner)

BOOST_AUTO_TEST_CASE(pages_apply_once_and_digests_do_not_depend_on_how_pages_fell) {
  test::temp_dir dir;
  const auto events = therapy_log(40);
  std::string digests[2];
  for (int variant = 0; variant < 2; ++variant) {
    const std::string path = (dir.path() / ("v" + std::to_string(variant) + ".db")).string();
    auto db = open_or_fail(path);
    runner r(*db, medication_spec(), {});
    auto row = r.open();
    BOOST_REQUIRE(row.has_value());
    BOOST_TEST(row->position == 0u);
    // Variant 0: one page. Variant 1: pages of 7 that overlap by 2.
    if (variant == 0) {
      auto o = r.apply(events, 40, root);
      BOOST_REQUIRE_MESSAGE(o.has_value(), (o ? "" : o.error().message()));
      BOOST_TEST(o->applied == 40u);
    } else {
      for (std::size_t from = 0; from < events.size(); from += 5) {
        const std::size_t to = std::min(events.size(), from + 7);
        auto o = r.apply(std::span(events).subspan(from, to - from), 40, root);
        BOOST_REQUIRE_MESSAGE(o.has_value(), (o ? "" : o.error().message()));
        BOOST_TEST(o->position == to);
      }
    }
    // Applying again changes nothing.
    auto again = r.apply(events, 40, root);
    BOOST_REQUIRE(again.has_value());
    BOOST_TEST(again->applied == 0u);
    auto d = db->digest();
    BOOST_REQUIRE(d.has_value());
    digests[variant] = *d;
    db.reset();
    BOOST_TEST(scalar(path, "SELECT count(*) FROM medication_changes") == 40);
    BOOST_TEST(scalar(path, "SELECT position FROM vellum_projection WHERE name = 'medication_plan'") == 40);
    BOOST_TEST(scalar(path, "SELECT tree_size FROM vellum_projection WHERE name = 'medication_plan'") == 40);
    // The current plan, from a model of the same log.
    std::set<std::pair<std::string, std::string>> plan;
    for (std::uint64_t i = 0; i < 40; ++i) {
      const std::string patient = "p-" + std::to_string(i % 4), drug = "d" + std::to_string(i % 3);
      if (i % 5 == 4) plan.erase({patient, drug});
      else plan.insert({patient, drug});
    }
    BOOST_TEST(scalar(path, "SELECT count(*) FROM medication_plan") == static_cast<std::int64_t>(plan.size()));
    BOOST_TEST(scalar(path, "SELECT count(*) FROM medication_changes WHERE change = 'stopped' AND author_id = 'dr-0'") == 4);
  }
  BOOST_TEST(digests[0] == digests[1]);
  BOOST_TEST(digests[0].size() == 64u);

  // One more event: another digest.
  auto db = open_or_fail((dir.path() / "v0.db").string());
  runner r(*db, medication_spec(), {});
  BOOST_REQUIRE(r.open().has_value());
  auto more = therapy_log(41);
  BOOST_REQUIRE(r.apply(std::span(more).subspan(40), 41, root).has_value());
  BOOST_TEST(*db->digest() != digests[0]);
}

BOOST_AUTO_TEST_CASE(a_gap_or_a_tampered_record_applies_nothing_of_it) {
  test::temp_dir dir;
  const std::string path = (dir.path() / "v.db").string();
  auto db = open_or_fail(path);
  runner r(*db, medication_spec(), {});
  BOOST_REQUIRE(r.open().has_value());
  auto events = therapy_log(10);
  auto gap = r.apply(std::span(events).subspan(2), 10, root);
  BOOST_TEST(!gap.has_value());
  BOOST_TEST(gap.error().message().find("events 0 to 1 are missing") != std::string::npos, gap.error().message());
  BOOST_TEST(r.position() == 0u);

  auto tampered = events;
  std::string record(tampered[3].at("record").as_string());
  record[record.find("\"p-3\"") + 3] = '4';  // the stream, inside the committed record
  tampered[3]["record"] = record;
  auto bad = r.apply(tampered, 10, root);
  BOOST_TEST(!bad.has_value());
  BOOST_TEST(bad.error().message().find("event 3: its record does not match") != std::string::npos, bad.error().message());
  BOOST_TEST(r.position() == 3u);  // events 0..2 were fine and are committed
  auto rest = r.apply(events, 10, root);
  BOOST_REQUIRE(rest.has_value());
  BOOST_TEST(rest->applied == 7u);
  db.reset();
  BOOST_TEST(scalar(path, "SELECT count(*) FROM medication_changes") == 10);
}

BOOST_AUTO_TEST_CASE(a_failing_handler_stops_at_its_event_or_is_parked) {
  auto strict = parse_spec(R"j({"name":"strict","schema":["CREATE TABLE once (drug TEXT PRIMARY KEY, seq BIGINT)"],
      "handlers":[{"on":"MedicationPrescribed","sql":"INSERT INTO once (drug, seq) VALUES (:data.drug, :seq)"}]})j");
  BOOST_REQUIRE(strict.has_value());
  const auto events = therapy_log(8);  // d0 again at seq 3: a primary key violation
  for (bool skip : {false, true}) {
    test::temp_dir dir;
    const std::string path = (dir.path() / "v.db").string();
    auto db = open_or_fail(path);
    runner r(*db, *strict, {skip});
    BOOST_REQUIRE(r.open().has_value());
    auto o = r.apply(events, 8, root);
    if (!skip) {
      BOOST_REQUIRE(!o.has_value());
      const std::string why = o.error().message();
      BOOST_TEST(why.find("event 3 (00000000-0000-4000-8000-000000000003, type MedicationPrescribed)") != std::string::npos, why);
      BOOST_TEST(why.find("UNIQUE constraint failed") != std::string::npos, why);
      BOOST_TEST(r.position() == 3u);
      db.reset();
      BOOST_TEST(scalar(path, "SELECT position FROM vellum_projection") == 3);
      BOOST_TEST(scalar(path, "SELECT count(*) FROM once") == 3);
    } else {
      BOOST_REQUIRE_MESSAGE(o.has_value(), (o ? "" : o.error().message()));
      BOOST_TEST(o->position == 8u);
      BOOST_TEST(o->parked == 4u);  // seqs 3, 5, 6, 7 (4 is a stop: no handler)
      BOOST_TEST(*db->error_count("strict") == 4u);
      db.reset();
      BOOST_TEST(scalar(path, "SELECT count(*) FROM vellum_projection_errors WHERE seq = 3") == 1);
      BOOST_TEST(scalar(path, "SELECT count(*) FROM once") == 3);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_spec_of_another_version_is_refused_and_bad_schema_leaves_no_view) {
  test::temp_dir dir;
  const std::string path = (dir.path() / "v.db").string();
  {
    auto db = open_or_fail(path);
    runner r(*db, medication_spec(), {});
    BOOST_REQUIRE(r.open().has_value());
  }
  auto v2 = medication_spec();
  v2.version = 2;
  auto db = open_or_fail(path);
  runner r(*db, v2, {});
  auto refused = r.open();
  BOOST_TEST(!refused.has_value());
  BOOST_TEST(refused.error().message().find("is version 1, the spec is version 2") != std::string::npos);

  auto broken = parse_spec(R"j({"name":"broken","schema":["CREATE TABLE ok (a INT)","CREATE TABLE"],
      "handlers":[{"on":"*","sql":"INSERT INTO ok VALUES (:seq)"}]})j");
  BOOST_REQUIRE(broken.has_value());
  runner b(*db, *broken, {});
  auto failed = b.open();
  BOOST_TEST(!failed.has_value());
  BOOST_TEST(failed.error().message().starts_with("spec.schema[1]"), failed.error().message());
  BOOST_TEST(!db->position("broken")->has_value());
  db.reset();
  BOOST_TEST(scalar(path, "SELECT count(*) FROM sqlite_master WHERE name = 'ok'") == 0);  // rolled back
  BOOST_TEST(!view_db::open("sqlite:").has_value());
}

BOOST_AUTO_TEST_CASE(a_runner_whose_view_was_swapped_under_it_writes_nothing) {
  test::temp_dir dir;
  const std::string path = (dir.path() / "v.db").string();
  auto db = open_or_fail(path);
  runner r(*db, medication_spec(), {});
  BOOST_REQUIRE(r.open().has_value());
  const auto events = therapy_log(10);
  BOOST_REQUIRE(r.apply(std::span(events).subspan(0, 5), 10, root).has_value());
  // What a rebuild's swap leaves under a runner that is still going: the row of another version.
  BOOST_REQUIRE(db->exec("UPDATE vellum_projection SET version = 2").has_value());
  auto refused = r.apply(std::span(events).subspan(5), 10, root);
  BOOST_REQUIRE(!refused.has_value());
  BOOST_TEST(refused.error().message().find("is no longer version 1") != std::string::npos, refused.error().message());
  db.reset();
  BOOST_TEST(scalar(path, "SELECT count(*) FROM medication_changes") == 5);
  BOOST_TEST(scalar(path, "SELECT position FROM vellum_projection") == 5);
}

BOOST_AUTO_TEST_CASE(the_same_spec_on_postgresql_gives_the_same_digest_as_on_sqlite) {
  test::pg_cluster pg;
  test::temp_dir dir;
  const auto events = therapy_log(60);
  auto lite = open_or_fail((dir.path() / "v.db").string());
  auto pq = view_db::open(pg.create_database("views"));
  BOOST_REQUIRE_MESSAGE(pq.has_value(), (pq ? "" : pq.error().message()));
  std::string digests[2];
  int i = 0;
  for (view_db* db : {lite.get(), pq->get()}) {
    runner r(*db, medication_spec(), {});
    BOOST_REQUIRE_MESSAGE(r.open().has_value(), "open");
    for (std::size_t from = 0; from < events.size(); from += 25) {
      auto o = r.apply(std::span(events).subspan(from, std::min<std::size_t>(25, events.size() - from)), 60, root);
      BOOST_REQUIRE_MESSAGE(o.has_value(), (o ? "" : o.error().message()));
    }
    BOOST_TEST(db->position("medication_plan")->value().position == 60u);
    auto d = db->digest();
    BOOST_REQUIRE_MESSAGE(d.has_value(), (d ? "" : d.error().message()));
    digests[i++] = *d;
  }
  BOOST_TEST(digests[0] == digests[1]);

  // A failing handler stops at its event on PostgreSQL too (where it aborts
  // the transaction: the page is applied again up to it), and
  // --skip-on-error parks it.
  auto strict = parse_spec(R"j({"name":"strict","schema":["CREATE TABLE once (drug TEXT PRIMARY KEY, seq BIGINT)"],
      "handlers":[{"on":"MedicationPrescribed","sql":"INSERT INTO once (drug, seq) VALUES (:data.drug, :seq)"}]})j");
  BOOST_REQUIRE(strict.has_value());
  for (bool skip : {false, true}) {
    auto db = view_db::open(pg.create_database(skip ? "parked" : "stopped"));
    BOOST_REQUIRE(db.has_value());
    runner r(**db, *strict, {skip});
    BOOST_REQUIRE(r.open().has_value());
    auto o = r.apply(std::span(events).subspan(0, 8), 8, root);
    if (!skip) {
      BOOST_REQUIRE(!o.has_value());
      BOOST_TEST(o.error().message().find("event 3 (") != std::string::npos, o.error().message());
      BOOST_TEST(o.error().message().find("duplicate key") != std::string::npos, o.error().message());
      BOOST_TEST(r.position() == 3u);
      BOOST_TEST((*db)->position("strict")->value().position == 3u);
    } else {
      BOOST_REQUIRE_MESSAGE(o.has_value(), (o ? "" : o.error().message()));
      BOOST_TEST(o->parked == 4u);
      BOOST_TEST(*(*db)->error_count("strict") == 4u);
    }
  }
  BOOST_TEST(!view_db::open("postgresql://postgres@127.0.0.1:1/none").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
