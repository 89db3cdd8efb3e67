// vellum project against a running vellumd: one command keeps a SQLite view
// current (the therapy example spec and builtin:events), status shows the
// lag, a follower picks up new events, kill -9 at any moment loses and
// repeats nothing (a strict spec would fail on a repeat), and digests of
// views built differently are equal.

#include "pg_cluster.hpp"
#include "server/client.hpp"
#include "vellumd_process.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "sqlite_query.hpp"

#include <sqlite3.h>

#include <signal.h>

#include <chrono>
#include <thread>

using namespace vellum;

namespace {

std::int64_t scalar(const std::string& path, const std::string& sql) { return test::sqlite_scalar(path, sql); }

void exec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  BOOST_REQUIRE_EQUAL(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  BOOST_REQUIRE_MESSAGE(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK, sqlite3_errmsg(db));
  sqlite3_close(db);
}

std::string text(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  BOOST_REQUIRE_EQUAL(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  BOOST_REQUIRE_MESSAGE(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK, sqlite3_errmsg(db));
  BOOST_REQUIRE_EQUAL(sqlite3_step(st), SQLITE_ROW);
  const auto* t = sqlite3_column_text(st, 0);
  std::string v = t ? reinterpret_cast<const char*>(t) : "NULL";
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

// `n` prescriptions and stops over four patients, submitted in batches.
void submit_therapy(const test::vellumd_process& srv, int first, int n) {
  std::string lines;
  for (int i = first; i < first + n; ++i) {
    const bool stop = i % 5 == 4;
    lines += std::string(R"({"stream":"patient-)") + std::to_string(i % 4) + R"(","type":")" +
             (stop ? "MedicationStopped" : "MedicationPrescribed") + R"(","data":{"drug":"d)" + std::to_string(i % 3) +
             R"(","dose_mg":)" + std::to_string(5 * (1 + i % 4)) + (stop ? R"(,"why":"side effects")" : "") + "}}\n";
  }
  test::write_text(srv.dir.path() / "events.ndjson", lines);
  auto r = srv.vellum("submit --key ward.pem --kid ward --batch events.ndjson --batch-size 200");
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.out);
}

const std::string spec = std::string(VELLUM_SOURCE_DIR) + "/config/projections/medication-plan.json";

}  // namespace

BOOST_AUTO_TEST_SUITE(project_command)

BOOST_AUTO_TEST_CASE(one_command_keeps_a_sqlite_view_current) {
  test::vellumd_process srv;
  submit_therapy(srv, 0, 50);
  const std::string db = (srv.dir.path() / "views.db").string();
  auto run = srv.vellum("project run --once --spec " + spec + " --db sqlite:" + db + " --log-key '" + srv.vkey + "'",
                        test::reader_token);
  BOOST_REQUIRE_MESSAGE(run.exit_code == 0, run.out);
  BOOST_TEST(run.out.find("medication_plan: caught up at 50 events") != std::string::npos, run.out);
  BOOST_TEST(scalar(db, "SELECT count(*) FROM medication_changes") == 50);
  BOOST_TEST(scalar(db, "SELECT count(*) FROM medication_changes WHERE change = 'stopped' AND reason = 'side effects'") == 10);

  auto status = srv.vellum("project status --spec " + spec + " --db sqlite:" + db, test::reader_token);
  BOOST_REQUIRE_MESSAGE(status.exit_code == 0, status.out);
  auto st = boost::json::parse(status.out).as_object();
  BOOST_TEST(st.at("position").to_number<std::uint64_t>() == 50u);
  BOOST_TEST(st.at("tree_size").to_number<std::uint64_t>() == 50u);
  BOOST_TEST(st.at("lag").to_number<std::uint64_t>() == 0u);
  BOOST_TEST(st.at("root_hash").as_string().size() == 64u);

  // The log state the view records checks out against the log's signed checkpoints.
  const std::string verify = "project verify --spec " + spec + " --db sqlite:" + db + " --log-key '" + srv.vkey + "'";
  auto ok = srv.vellum(verify, test::reader_token);
  BOOST_TEST(ok.exit_code == 0, ok.out);
  BOOST_TEST(ok.out.find("medication_plan: OK: the view (position 50) reflects the log at tree size 50") != std::string::npos,
             ok.out);
  BOOST_TEST(srv.vellum("project verify --spec " + spec + " --db sqlite:" + db, test::reader_token).exit_code == 2);

  submit_therapy(srv, 50, 10);
  ok = srv.vellum(verify, test::reader_token);  // still consistent with the grown log
  BOOST_TEST(ok.exit_code == 0, ok.out);
  BOOST_TEST(ok.out.find("consistent with its checkpoint of size 60") != std::string::npos, ok.out);
  const std::string recorded = text(db, "SELECT root_hash FROM vellum_projection");
  exec(db, "UPDATE vellum_projection SET root_hash = '" + std::string(64, '0') + "'");
  auto forged = srv.vellum(verify, test::reader_token);
  BOOST_TEST(forged.exit_code == 1, forged.out);
  BOOST_TEST(forged.out.find("FAILED: the signed checkpoint of size 50 has root " + recorded) != std::string::npos,
             forged.out);
  exec(db, "UPDATE vellum_projection SET root_hash = '" + recorded + "'");
  status = srv.vellum("project status --spec " + spec + " --db sqlite:" + db, test::reader_token);
  BOOST_TEST(boost::json::parse(status.out).at("lag").to_number<std::uint64_t>() == 10u, status.out);

  // A follower picks the new events up, and stops on SIGTERM.
  auto follower = test::run_command("cd " + srv.dir.str() + " && (VELLUM_SERVER=" + srv.url + " VELLUM_TOKEN=" +
                                    test::reader_token + " " + test::binary("vellum") + " project run --spec " + spec +
                                    " --db sqlite:" + db + " --poll-ms 100 > follow.txt 2>&1 & echo $!)");
  const int pid = std::stoi(follower.out);
  for (int i = 0; i < 100 && scalar(db, "SELECT position FROM vellum_projection") < 60; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  submit_therapy(srv, 60, 5);
  for (int i = 0; i < 100 && scalar(db, "SELECT position FROM vellum_projection") < 65; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  BOOST_TEST(scalar(db, "SELECT position FROM vellum_projection") == 65);
  ::kill(pid, SIGTERM);
  test::run_command("for i in $(seq 100); do kill -0 " + std::to_string(pid) + " 2>/dev/null || break; sleep 0.05; done");
  BOOST_TEST(scalar(db, "SELECT count(*) FROM medication_changes") == 65);

  // builtin:events: the analytics columns, one row per event.
  const std::string events_db = (srv.dir.path() / "events.db").string();
  auto ev = srv.vellum("project run --once --spec builtin:events --db sqlite:" + events_db, test::reader_token);
  BOOST_REQUIRE_MESSAGE(ev.exit_code == 0, ev.out);
  BOOST_TEST(scalar(events_db, "SELECT count(*) FROM events") == 65);
  BOOST_TEST(scalar(events_db, "SELECT count(*) FROM events WHERE type = 'MedicationStopped' AND kid = 'ward'") == 13);

  // Bad input: a clear message and a non-zero exit, nothing written.
  auto no_spec = srv.vellum("project run --db sqlite:" + db, test::reader_token);
  BOOST_TEST(no_spec.exit_code == 2, no_spec.out);
  BOOST_TEST(no_spec.out.find("--spec is required") != std::string::npos, no_spec.out);
  auto unknown_db = srv.vellum("project run --spec builtin:events --db mysql://localhost/x", test::reader_token);
  BOOST_TEST(unknown_db.exit_code == 2, unknown_db.out);
  BOOST_TEST(unknown_db.out.find("neither sqlite:PATH nor postgresql://") != std::string::npos, unknown_db.out);
  auto wrong_key = srv.vellum("project run --once --spec builtin:events --db sqlite:" + events_db +
                                  " --log-key 'other+00000000+AQ=='",
                              test::reader_token);
  BOOST_TEST(wrong_key.exit_code != 0, wrong_key.out);
  auto help = srv.vellum("project run --help");
  BOOST_TEST(help.exit_code == 0);
  BOOST_TEST(help.out.find("--skip-on-error") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(builtin_state_folds_each_stream_as_the_server_does) {
  test::vellumd_process srv;
  const std::string submit = "submit --key ward.pem --kid ward --type T --author dr-1 ";
  BOOST_REQUIRE(srv.vellum(submit + "--stream plan-1 --data-json '{\"plan\":\"CBT\",\"dose\":{\"mg\":20}}' --save first.json")
                    .exit_code == 0);
  BOOST_REQUIRE(srv.vellum(submit + "--stream plan-2 --data-json '{\"plan\":\"DBT\"}' --save second.json").exit_code == 0);
  BOOST_REQUIRE(srv.vellum(submit + "--stream plan-1 --data-json '{\"dose\":{\"mg\":40.5},\"note\":\"\\u20ac 1e21\"}'")
                    .exit_code == 0);
  const std::string id_of = "\"$(sed -n 's/.*\"event_id\":\"\\([^\"]*\\)\".*/\\1/p' ";
  BOOST_REQUIRE(srv.vellum(submit + "--stream plan-1 --amends " + id_of + "first.json)\" --reason 'plan revised' "
                                    "--data-json '{\"plan\":\"CBT, 16 sessions\"}'")
                    .exit_code == 0);
  auto voided = srv.vellum(submit + "--stream plan-2 --voids " + id_of + "second.json)\" --reason 'wrong patient' --data-json '{}'");
  BOOST_REQUIRE_MESSAGE(voided.exit_code == 0, voided.out);

  const std::string db = (srv.dir.path() / "state.db").string();
  auto run = srv.vellum("project run --once --spec builtin:state --db sqlite:" + db, test::reader_token);
  BOOST_REQUIRE_MESSAGE(run.exit_code == 0, run.out);
  const auto port = static_cast<std::uint16_t>(std::stoi(srv.url.substr(srv.url.rfind(':') + 1)));
  for (const std::string stream : {"plan-1", "plan-2"}) {
    auto r = test::http_request(port, "GET", "/v1/streams/" + stream + "/state", {}, {},
                                {{"Authorization", std::string("Bearer ") + test::reader_token}});
    BOOST_REQUIRE_MESSAGE(r.status == 200u, r.body);
    const auto server = r.json().as_object();
    BOOST_TEST(text(db, "SELECT state_sha256 FROM stream_state WHERE stream = '" + stream + "'") ==
                   std::string(server.at("state_sha256").as_string()),
               stream);
    BOOST_TEST(boost::json::parse(text(db, "SELECT state FROM stream_state WHERE stream = '" + stream + "'")) ==
                   server.at("state"),
               stream);
    BOOST_TEST(text(db, "SELECT revision FROM stream_state WHERE stream = '" + stream + "'") ==
                   (server.at("revision").is_null() ? std::string("NULL") : boost::json::serialize(server.at("revision"))),
               stream);
  }
  BOOST_TEST(text(db, "SELECT state FROM stream_state WHERE stream = 'plan-2'") == "{}");  // the only event was voided
  // The fold's own table is bookkeeping, not part of the digest; the digest is stable.
  auto d1 = srv.vellum("project digest --db sqlite:" + db);
  const std::string again = (srv.dir.path() / "again.db").string();
  BOOST_REQUIRE(srv.vellum("project run --once --page 1 --spec builtin:state --db sqlite:" + again, test::reader_token)
                    .exit_code == 0);
  BOOST_TEST(d1.out == srv.vellum("project digest --db sqlite:" + again).out);
}

BOOST_AUTO_TEST_CASE(the_same_specs_on_postgresql_give_the_same_views) {
  test::pg_cluster pg;
  test::vellumd_process srv;
  submit_therapy(srv, 0, 120);
  for (const std::string& s : {spec, std::string("builtin:state"), std::string("builtin:events")}) {
    const std::string name = s == spec ? "plan" : s.substr(8);
    const std::string lite = "sqlite:" + (srv.dir.path() / (name + ".db")).string();
    const std::string pq = pg.create_database(name);
    for (const auto& db : {lite, pq}) {
      auto r = srv.vellum("project run --once --page 50 --spec " + s + " --db " + db, test::reader_token);
      BOOST_REQUIRE_MESSAGE(r.exit_code == 0, db << ": " << r.out);
    }
    auto a = srv.vellum("project digest --db " + lite);
    auto b = srv.vellum("project digest --db " + pq);
    BOOST_TEST(a.exit_code == 0, a.out);
    BOOST_TEST(b.exit_code == 0, b.out);
    BOOST_TEST(a.out == b.out, s);
    auto st = srv.vellum("project status --spec " + s + " --db " + pq, test::reader_token);
    BOOST_REQUIRE_MESSAGE(st.exit_code == 0, st.out);
    BOOST_TEST(boost::json::parse(st.out).at("position").to_number<std::uint64_t>() == 120u);
    auto v = srv.vellum("project verify --spec " + s + " --db " + pq + " --log-key '" + srv.vkey + "'", test::reader_token);
    BOOST_TEST(v.exit_code == 0, v.out);
  }
  auto refused = srv.vellum("project run --once --spec builtin:events --db postgresql://postgres@127.0.0.1:1/none",
                            test::reader_token);
  BOOST_TEST(refused.exit_code == 2, refused.out);
  BOOST_TEST(refused.out.find("connect to postgresql://postgres@127.0.0.1:1/none") != std::string::npos, refused.out);
}

BOOST_AUTO_TEST_CASE(rebuild_builds_a_new_version_beside_the_live_one_and_swaps_it_in) {
  test::vellumd_process srv;
  submit_therapy(srv, 0, 80);
  const std::string db = (srv.dir.path() / "views.db").string();
  BOOST_REQUIRE(srv.vellum("project run --once --spec " + spec + " --db sqlite:" + db, test::reader_token).exit_code == 0);
  const std::string v1_digest = srv.vellum("project digest --db sqlite:" + db).out;
  // Version 2 adds a column to medication_changes.
  std::string v2 = test::read_text(spec);
  v2.replace(v2.find("\"version\": 1"), 12, "\"version\": 2");
  v2.replace(v2.find("CREATE TABLE medication_changes ("), 33, "CREATE TABLE medication_changes (v2 INTEGER DEFAULT 2, ");
  test::write_text(srv.dir.path() / "v2.json", v2);
  // The running version refuses the new spec…
  auto refused = srv.vellum("project run --once --spec v2.json --db sqlite:" + db, test::reader_token);
  BOOST_TEST(refused.exit_code == 1, refused.out);
  BOOST_TEST(refused.out.find("is version 1, the spec is version 2") != std::string::npos, refused.out);
  // …a rebuild builds it beside, catches up (with events that arrive meanwhile) and swaps.
  submit_therapy(srv, 80, 20);
  auto rebuilt = srv.vellum("project rebuild --spec v2.json --db sqlite:" + db, test::reader_token);
  BOOST_REQUIRE_MESSAGE(rebuilt.exit_code == 0, rebuilt.out);
  BOOST_TEST(rebuilt.out.find("version 2 swapped into") != std::string::npos, rebuilt.out);
  BOOST_TEST(scalar(db, "SELECT version FROM vellum_projection") == 2);
  BOOST_TEST(scalar(db, "SELECT position FROM vellum_projection") == 100);
  BOOST_TEST(scalar(db, "SELECT count(*) FROM medication_changes WHERE v2 = 2") == 100);
  BOOST_TEST(scalar(db + ".previous-v1", "SELECT version FROM vellum_projection") == 1);
  BOOST_TEST(srv.vellum("project digest --db sqlite:" + db + ".previous-v1").out == v1_digest);
  BOOST_TEST(!std::filesystem::exists(db + ".rebuild-v2"));
  // The swapped view goes on as any other; the same version again is refused.
  submit_therapy(srv, 100, 5);
  auto run = srv.vellum("project run --once --spec v2.json --db sqlite:" + db, test::reader_token);
  BOOST_TEST(run.exit_code == 0, run.out);
  BOOST_TEST(scalar(db, "SELECT count(*) FROM medication_changes") == 105);
  auto same = srv.vellum("project rebuild --spec v2.json --db sqlite:" + db, test::reader_token);
  BOOST_TEST(same.exit_code == 1, same.out);
  BOOST_TEST(same.out.find("already version 2") != std::string::npos, same.out);

  // While the live view is open elsewhere (a follower), the swap waits for it: refused, nothing lost.
  std::string v3 = v2;
  v3.replace(v3.find("\"version\": 2"), 12, "\"version\": 3");
  test::write_text(srv.dir.path() / "v3.json", v3);
  sqlite3* holder = nullptr;
  BOOST_REQUIRE_EQUAL(sqlite3_open(db.c_str(), &holder), SQLITE_OK);
  BOOST_REQUIRE_EQUAL(sqlite3_exec(holder, "BEGIN; SELECT count(*) FROM vellum_projection;", nullptr, nullptr, nullptr), SQLITE_OK);
  auto busy = srv.vellum("project rebuild --spec v3.json --db sqlite:" + db, test::reader_token);
  sqlite3_exec(holder, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(holder);
  BOOST_TEST(busy.exit_code == 1, busy.out);
  BOOST_TEST(busy.out.find("is in use") != std::string::npos, busy.out);
  BOOST_TEST(scalar(db, "SELECT version FROM vellum_projection") == 2);
  auto retry = srv.vellum("project rebuild --spec v3.json --db sqlite:" + db, test::reader_token);
  BOOST_TEST(retry.exit_code == 0, retry.out);
  BOOST_TEST(retry.out.find("going on with the rebuild") != std::string::npos, retry.out);
  BOOST_TEST(scalar(db, "SELECT version FROM vellum_projection") == 3);
}

BOOST_AUTO_TEST_CASE(rebuild_on_postgresql_swaps_the_views_schema_in_one_transaction) {
  test::pg_cluster pg;
  test::vellumd_process srv;
  submit_therapy(srv, 0, 60);
  const std::string in_public = pg.create_database("clinic");
  pg.sql("clinic", "CREATE SCHEMA views");
  const std::string in_views = in_public + "?options=-csearch_path%3Dviews";
  BOOST_REQUIRE(srv.vellum("project run --once --spec " + spec + " --db '" + in_views + "'", test::reader_token).exit_code == 0);
  BOOST_TEST(pg.sql("clinic", "SELECT count(*) FROM views.medication_changes") == "60\n");
  std::string v2 = test::read_text(spec);
  v2.replace(v2.find("\"version\": 1"), 12, "\"version\": 2");
  v2.replace(v2.find("CREATE TABLE medication_changes ("), 33, "CREATE TABLE medication_changes (v2 INTEGER DEFAULT 2, ");
  test::write_text(srv.dir.path() / "v2.json", v2);
  submit_therapy(srv, 60, 10);
  auto rebuilt = srv.vellum("project rebuild --spec v2.json --db '" + in_views + "'", test::reader_token);
  BOOST_REQUIRE_MESSAGE(rebuilt.exit_code == 0, rebuilt.out);
  BOOST_TEST(rebuilt.out.find("version 2 swapped into schema views (version 1 kept as schema views_previous_v1)") !=
                 std::string::npos,
             rebuilt.out);
  BOOST_TEST(pg.sql("clinic", "SELECT version, position FROM views.vellum_projection") == "2|70\n");
  BOOST_TEST(pg.sql("clinic", "SELECT count(*) FROM views.medication_changes WHERE v2 = 2") == "70\n");
  BOOST_TEST(pg.sql("clinic", "SELECT version, position FROM views_previous_v1.vellum_projection") == "1|60\n");
  // A runner of the old version is refused by the swapped view.
  auto stale = srv.vellum("project run --once --spec " + spec + " --db '" + in_views + "'", test::reader_token);
  BOOST_TEST(stale.exit_code == 1, stale.out);
  BOOST_TEST(stale.out.find("is version 2, the spec is version 1") != std::string::npos, stale.out);
  // In the public schema, a rebuild is refused with what to do.
  BOOST_REQUIRE(srv.vellum("project run --once --spec builtin:events --db " + in_public, test::reader_token).exit_code == 0);
  auto events_v2 = std::string(R"j({"name":"events","version":2,"schema":["CREATE TABLE events (seq BIGINT PRIMARY KEY)"],
      "handlers":[{"on":"*","sql":"INSERT INTO events (seq) VALUES (:seq)"}]})j");
  test::write_text(srv.dir.path() / "events2.json", events_v2);
  auto in_pub = srv.vellum("project rebuild --spec events2.json --db " + in_public, test::reader_token);
  BOOST_TEST(in_pub.exit_code == 2, in_pub.out);
  BOOST_TEST(in_pub.out.find("needs a schema of its own, not public") != std::string::npos, in_pub.out);
  auto no_schema = srv.vellum("project run --once --spec builtin:events --db '" + in_public +
                                  "?options=-csearch_path%3Dnowhere'",
                              test::reader_token);
  BOOST_TEST(no_schema.exit_code == 2, no_schema.out);
  BOOST_TEST(no_schema.out.find("names no existing schema") != std::string::npos, no_schema.out);
}

BOOST_AUTO_TEST_CASE(kill_9_at_any_moment_loses_and_repeats_nothing) {
  test::vellumd_process srv;
  submit_therapy(srv, 0, 1500);
  // Strict: a repeated event breaks the primary key and stops the run.
  test::write_text(srv.dir.path() / "strict.json", R"j({"name":"strict","schema":[
      "CREATE TABLE applied (seq BIGINT PRIMARY KEY, stream TEXT NOT NULL, drug TEXT)"],
      "handlers":[{"on":"*","sql":"INSERT INTO applied (seq, stream, drug) VALUES (:seq, :stream, :data.drug)"}]})j");
  const std::string db = (srv.dir.path() / "killed.db").string();
  const std::string cmd = "cd " + srv.dir.str() + " && (VELLUM_SERVER=" + srv.url + " VELLUM_TOKEN=" +
                          test::reader_token + " " + test::binary("vellum") +
                          " project run --spec strict.json --page 20 --db sqlite:" + db + " > kill.txt 2>&1 & echo $!)";
  std::int64_t last = 0;
  int kills = 0, midway = 0;  // kills that caught the run between its first and last page
  for (int round = 0; round < 12; ++round) {
    const int pid = std::stoi(test::run_command(cmd).out);
    std::this_thread::sleep_for(std::chrono::milliseconds(40 + 37 * round));
    ::kill(pid, SIGKILL);
    test::run_command("for i in $(seq 100); do kill -0 " + std::to_string(pid) + " 2>/dev/null || break; sleep 0.02; done");
    ++kills;
    const auto pos = scalar(db, "SELECT coalesce((SELECT position FROM vellum_projection), 0)");
    BOOST_TEST(pos >= last);
    BOOST_TEST(scalar(db, "SELECT count(*) FROM applied") == pos);  // the view and its position agree
    last = pos;
    if (pos > 0 && pos < 1500) ++midway;
    if (pos == 1500) break;
  }
  auto finish = srv.vellum("project run --once --spec strict.json --db sqlite:" + db, test::reader_token);
  BOOST_REQUIRE_MESSAGE(finish.exit_code == 0, finish.out << test::read_text((srv.dir.path() / "kill.txt").string()));
  BOOST_TEST(scalar(db, "SELECT count(*) FROM applied") == 1500);
  BOOST_TEST(scalar(db, "SELECT count(DISTINCT seq) FROM applied") == 1500);
  BOOST_TEST(scalar(db, "SELECT max(seq) FROM applied") == 1499);
  BOOST_TEST(kills >= 1);
  BOOST_TEST(midway >= 1, "no kill landed in the middle of the catch-up");

  // The same view built in one go has the same digest.
  const std::string clean = (srv.dir.path() / "clean.db").string();
  auto once = srv.vellum("project run --once --page 1000 --spec strict.json --db sqlite:" + clean, test::reader_token);
  BOOST_REQUIRE_MESSAGE(once.exit_code == 0, once.out);
  auto a = srv.vellum("project digest --db sqlite:" + db);
  auto b = srv.vellum("project digest --db sqlite:" + clean);
  BOOST_TEST(a.exit_code == 0);
  BOOST_TEST(a.out.size() == 65u, a.out);
  BOOST_TEST(a.out == b.out);

  // On PostgreSQL too: the page and the position commit together.
  test::pg_cluster pg;
  const std::string pq = pg.create_database("killed");
  const std::string pg_cmd = "cd " + srv.dir.str() + " && (VELLUM_SERVER=" + srv.url + " VELLUM_TOKEN=" +
                             test::reader_token + " " + test::binary("vellum") +
                             " project run --spec strict.json --page 20 --db " + pq + " > kill-pg.txt 2>&1 & echo $!)";
  last = 0;
  midway = 0;
  for (int round = 0; round < 12; ++round) {
    const int pid = std::stoi(test::run_command(pg_cmd).out);
    std::this_thread::sleep_for(std::chrono::milliseconds(60 + 80 * round));
    ::kill(pid, SIGKILL);
    test::run_command("for i in $(seq 100); do kill -0 " + std::to_string(pid) + " 2>/dev/null || break; sleep 0.02; done");
    const std::string tables = pg.sql("killed", "SELECT count(*) FROM pg_tables WHERE tablename = $$vellum_projection$$");
    if (tables != "1\n") continue;  // killed before the view was created
    const auto pos = std::stoll(pg.sql("killed", "SELECT coalesce((SELECT position FROM vellum_projection), 0)"));
    const auto rows = std::stoll(pg.sql("killed", "SELECT count(*) FROM applied"));
    BOOST_TEST(pos >= last);
    BOOST_TEST(rows == pos);
    last = pos;
    if (pos > 0 && pos < 1500) ++midway;
    if (pos == 1500) break;
  }
  auto pg_finish = srv.vellum("project run --once --spec strict.json --db " + pq, test::reader_token);
  BOOST_REQUIRE_MESSAGE(pg_finish.exit_code == 0, pg_finish.out << test::read_text((srv.dir.path() / "kill-pg.txt").string()));
  BOOST_TEST(pg.sql("killed", "SELECT count(*), count(DISTINCT seq), max(seq) FROM applied") == "1500|1500|1499\n");
  BOOST_TEST(midway >= 1, "no kill landed in the middle of the PostgreSQL catch-up");
  BOOST_TEST(srv.vellum("project digest --db " + pq).out == a.out);
}

BOOST_AUTO_TEST_SUITE_END()
