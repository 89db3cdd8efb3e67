// The vellum CLI end to end against a real vellumd: every command a hospital
// system or operator uses, with the files it writes and its exit statuses.

#include "test_util.hpp"
#include "vellumd_process.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include <chrono>

using namespace vellum;

namespace {

std::size_t count_lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

}  // namespace

BOOST_AUTO_TEST_SUITE(cli_commands)

BOOST_AUTO_TEST_CASE(every_command_answers_help_and_version) {
  for (const char* c : {"keygen", "submit", "read", "tail", "log", "checkpoint", "proof", "analytics", "export", "fsck", "backup"}) {
    auto r = test::run_command(test::binary("vellum") + " " + c + " --help");
    BOOST_TEST(r.exit_code == 0, c);
    BOOST_TEST(r.out.find("usage: vellum") != std::string::npos, c);
  }
  BOOST_TEST(test::run_command(test::binary("vellum") + " --version").out.find("vellum ") == 0u);
  BOOST_TEST(test::run_command(test::binary("vellum") + " frobnicate 2>/dev/null").exit_code == 2);
}

BOOST_AUTO_TEST_CASE(refuses_a_malformed_server_url_saying_what_is_wrong) {
  const std::pair<const char*, const char*> cases[] = {
      {"ftp://127.0.0.1:8080", "must start with http:// or https://"},
      {"'http://[::1'", "unterminated IPv6 address"},
      {"'http://[::1]x'", "bad port"},
      {"http://127.0.0.1:80a", "needs a host and a numeric port"},
      {"http://:8080", "needs a host and a numeric port"},
  };
  for (const auto& [url, reason] : cases) {
    auto r = test::run_command(test::binary("vellum") + " checkpoint --server " + url + " 2>&1");
    BOOST_TEST(r.exit_code != 0, url);
    BOOST_TEST(r.out.find(reason) != std::string::npos, url << ": " << r.out);
  }
}

BOOST_AUTO_TEST_CASE(keygen_writes_a_private_key_only_its_owner_can_read_and_never_overwrites) {
  test::temp_dir dir;
  const std::string cmd = test::binary("vellum") + " keygen ward-9 --out " + dir.str() + " --streams therapy- 2>&1";
  auto r = test::run_command(cmd);
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.out);
  BOOST_TEST(r.out.find("\"kid\":\"ward-9\"") != std::string::npos, r.out);
  BOOST_TEST(r.out.find("\"streams\":[\"therapy-\"]") != std::string::npos, r.out);
  struct stat st {};
  BOOST_TEST_REQUIRE(::stat((dir.path() / "ward-9.key.pem").c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777) == 0600u);
  BOOST_TEST(std::filesystem::exists(dir.path() / "ward-9.pub.pem"));
  auto jwk = boost::json::parse(test::read_text((dir.path() / "ward-9.jwk.json").string()));
  BOOST_TEST(jwk.at("crv").as_string() == "Ed25519");
  const std::string before = test::read_text((dir.path() / "ward-9.key.pem").string());
  auto again = test::run_command(cmd);
  BOOST_TEST(again.exit_code == 2);
  BOOST_TEST(again.out.find("not overwriting") != std::string::npos, again.out);
  BOOST_TEST(test::read_text((dir.path() / "ward-9.key.pem").string()) == before);
  auto p256 = test::run_command(test::binary("vellum") + " keygen pump-1 --p256 --out " + dir.str() + " 2>&1");
  BOOST_TEST(p256.exit_code == 0, p256.out);
  BOOST_TEST(p256.out.find("ES256") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(submit_returns_a_verifiable_receipt_and_repeats_are_idempotent) {
  test::vellumd_process srv;
  const std::string id = "0b6c2a1e-3f4d-4c5b-8a79-112233445566";
  const std::string args = "submit --key ward.pem --kid ward --stream therapy-7 --type SessionDocumented "
                           "--expected-revision no_stream --event-id " + id + " --occurred-at 2026-03-09T10:00:00Z "
                           "--data-json '{\"session\":1}' --save receipt.json";
  auto first = srv.vellum(args);
  BOOST_TEST_REQUIRE(first.exit_code == 0, first.out);
  BOOST_TEST(first.out.find("appended: seq 0") != std::string::npos, first.out);
  auto v = srv.verify("receipt receipt.json --log-key '" + srv.vkey + "'");
  BOOST_TEST(v.exit_code == 0, v.out);
  // The same event again (same id, same content): stored once, first receipt,
  // even though its expected revision (no_stream) is stale by now.
  const std::string saved = test::read_text((srv.dir.path() / "receipt.json").string());
  auto again = srv.vellum(args);
  BOOST_TEST(again.exit_code == 0, again.out);
  BOOST_TEST(again.out.find("already recorded") != std::string::npos, again.out);
  BOOST_TEST(test::read_text((srv.dir.path() / "receipt.json").string()) == saved);
  // A conflicting revision names the current one; exit 1.
  auto conflict = srv.vellum("submit --key ward.pem --kid ward --stream therapy-7 --type X --expected-revision 5 "
                             "--data-json '{}'");
  BOOST_TEST(conflict.exit_code == 1);
  BOOST_TEST(conflict.out.find("revision_conflict") != std::string::npos, conflict.out);
  BOOST_TEST(conflict.out.find("current_revision: 0") != std::string::npos, conflict.out);
  // A key the server does not know: 401, exit 1.
  BOOST_REQUIRE(test::run_command(test::binary("vellum") + " keygen stranger --out " + srv.dir.str() + " >/dev/null").exit_code == 0);
  auto stranger = srv.vellum("submit --key stranger.key.pem --kid stranger --stream s --type X --data-json '{}'");
  BOOST_TEST(stranger.exit_code == 1);
  BOOST_TEST(stranger.out.find("401") != std::string::npos, stranger.out);
}

BOOST_AUTO_TEST_CASE(submit_gives_new_events_time_ordered_version_7_ids) {
  test::vellumd_process srv;
  auto now_ms = [] {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
  };
  const std::uint64_t before = now_ms();
  std::vector<std::string> ids;
  for (int i = 0; i < 2; ++i) {
    auto r = srv.vellum("submit --key ward.pem --kid ward --stream v7-" + std::to_string(i) +
                        " --type T --data-json '{}' --save r" + std::to_string(i) + ".json");
    BOOST_TEST_REQUIRE(r.exit_code == 0, r.out);
    auto receipt = boost::json::parse(test::read_text((srv.dir.path() / ("r" + std::to_string(i) + ".json")).string()));
    ids.emplace_back(receipt.at("event_id").as_string());
  }
  const std::uint64_t after = now_ms();
  std::uint64_t last = 0;
  for (const auto& id : ids) {
    BOOST_TEST_REQUIRE(id.size() == 36u, id);
    BOOST_TEST(id[14] == '7', id);                                     // version 7
    BOOST_TEST(std::string("89ab").find(id[19]) != std::string::npos, id);  // RFC 9562 variant
    const std::uint64_t ms = std::stoull(id.substr(0, 8) + id.substr(9, 4), nullptr, 16);
    BOOST_TEST(ms >= before, id);
    BOOST_TEST(ms <= after, id);
    BOOST_TEST(ms >= last, id);  // later events, later (or equal) ids
    last = ms;
  }
  BOOST_TEST(ids[0] != ids[1]);
}

BOOST_AUTO_TEST_CASE(batch_submit_reports_accepted_conflicting_and_rejected_events) {
  test::vellumd_process srv;
  std::string lines;
  for (int i = 0; i < 250; ++i)
    lines += R"({"stream":"ward-)" + std::to_string(i % 5) + R"(","type":"Vitals","data":{"i":)" + std::to_string(i) + "}}\n";
  lines += R"({"stream":"ward-0","type":"Vitals","expected_revision":999,"data":{}})" "\n";  // conflict
  lines += R"({"stream":"bad stream!","type":"Vitals","data":{}})" "\n";                   // rejected
  test::write_text(srv.dir.path() / "events.ndjson", lines);
  auto r = srv.vellum("submit --key ward.pem --kid ward --batch events.ndjson --batch-size 64 --save receipts.ndjson");
  BOOST_TEST(r.exit_code == 1, r.out);  // not everything was accepted
  BOOST_TEST(r.out.find("accepted 250, already recorded 0, conflicting 1, rejected 1 (of 252)") != std::string::npos, r.out);
  BOOST_TEST(count_lines(test::read_text((srv.dir.path() / "receipts.ndjson").string())) == 250u);

  auto all = srv.vellum("read --all --limit 1000", test::reader_token);
  BOOST_TEST(all.exit_code == 0);
  BOOST_TEST(count_lines(all.out) == 250u);
  auto stream = srv.vellum("read ward-3 --limit 1000", test::reader_token);
  BOOST_TEST(count_lines(stream.out) == 50u);
  auto back = srv.vellum("read ward-3 --backward --limit 2", test::reader_token);
  BOOST_TEST_REQUIRE(count_lines(back.out) == 2u);
  BOOST_TEST(back.out.find("\"revision\":49") < back.out.find("\"revision\":48"));
  BOOST_TEST(srv.vellum("read ward-3").exit_code != 0);  // reads need a token
}

BOOST_AUTO_TEST_CASE(checkpoint_and_proofs_verify_offline) {
  test::vellumd_process srv;
  for (int i = 0; i < 9; ++i)
    BOOST_REQUIRE(srv.vellum("submit --key ward.pem --kid ward --stream s-" + std::to_string(i) +
                             " --type T --data-json '{}'").exit_code == 0);
  BOOST_TEST_REQUIRE(srv.vellum("checkpoint --save cp.txt").exit_code == 0);
  BOOST_TEST(srv.verify("checkpoint cp.txt --key '" + srv.vkey + "'").exit_code == 0);
  auto inc = srv.vellum("proof inclusion 3 --tree-size 9 > inc.json", test::reader_token);
  BOOST_TEST_REQUIRE(inc.exit_code == 0, inc.out);
  auto vi = srv.verify("inclusion --json-file inc.json");
  BOOST_TEST(vi.exit_code == 0, vi.out);
  auto con = srv.vellum("proof consistency 4 9 > con.json", test::reader_token);
  BOOST_TEST_REQUIRE(con.exit_code == 0, con.out);
  BOOST_TEST(srv.verify("consistency --json-file con.json").exit_code == 0);
  auto log = srv.vellum("log --verifier-key");
  BOOST_TEST(log.out == srv.vkey + "\n");
}

BOOST_AUTO_TEST_CASE(tail_prints_caught_up_events_then_live_ones) {
  test::vellumd_process srv;
  for (int i = 0; i < 3; ++i)
    BOOST_REQUIRE(srv.vellum("submit --key ward.pem --kid ward --stream t-1 --type T --data-json '{}'").exit_code == 0);
  // Follow in the background for a bounded time; append one more meanwhile.
  test::run_command("cd " + srv.dir.str() + " && (VELLUM_SERVER=" + srv.url + " VELLUM_TOKEN=" + test::reader_token +
                    " timeout 4 " + test::binary("vellum") + " tail --from 0 --stream t-1 > tail.out 2>&1 &)");
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  BOOST_REQUIRE(srv.vellum("submit --key ward.pem --kid ward --stream t-1 --type Live --data-json '{}'").exit_code == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(3800));
  const std::string out = test::read_text((srv.dir.path() / "tail.out").string());
  BOOST_TEST(count_lines(out) == 4u, out);
  BOOST_TEST(out.find("\"type\":\"Live\"") != std::string::npos, out);
}

BOOST_AUTO_TEST_CASE(fsck_and_backup_of_a_live_data_directory) {
  test::vellumd_process srv;
  for (int i = 0; i < 20; ++i)
    BOOST_REQUIRE(srv.vellum("submit --key ward.pem --kid ward --stream b-" + std::to_string(i % 3) +
                             " --type T --data-json '{}'").exit_code == 0);
  auto fsck = srv.vellum("fsck data");
  BOOST_TEST(fsck.exit_code == 0, fsck.out);
  BOOST_TEST(fsck.out.find("clean") != std::string::npos, fsck.out);
  auto backup = srv.vellum("backup data copy");
  BOOST_TEST_REQUIRE(backup.exit_code == 0, backup.out);
  BOOST_TEST(backup.out.find("tree size 20") != std::string::npos, backup.out);
  struct stat st {};
  BOOST_TEST_REQUIRE(::stat((srv.dir.path() / "copy" / "log-key.pem").c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777) == 0600u);
  BOOST_TEST_REQUIRE(::stat((srv.dir.path() / "copy" / "data.mdb").c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777) == 0600u);  // medical records: owner only
  BOOST_TEST(srv.vellum("fsck copy").exit_code == 0);
  // On a terminal (script(1) provides one) the copy and the check show progress.
  auto shown = test::run_command("cd " + srv.dir.str() + " && script -qec '" + test::binary("vellum") +
                                 " backup data copy-on-tty' /dev/null");
  BOOST_TEST(shown.exit_code == 0, shown.out);
  BOOST_TEST(shown.out.find("copied ") != std::string::npos, shown.out);
  BOOST_TEST(shown.out.find("checked the copy: 20/20") != std::string::npos, shown.out);
  // Refuses to overwrite a non-empty destination, and a directory that is no data directory.
  BOOST_TEST(srv.vellum("backup data copy").exit_code == 2);
  BOOST_TEST(srv.vellum("fsck .").exit_code == 2);
  // The copy serves the same log (same key), restored as an operator does:
  // the same configuration, pointed at the copy.
  srv.stop();
  auto restored = test::run_command("cd " + srv.dir.str() + " && sed 's#/data\"#/copy\"#' vellum.json > copy.json && timeout 3 " +
                                    test::binary("vellumd") + " --config copy.json --listen 127.0.0.1:0 2>/dev/null | head -n 1");
  BOOST_TEST(restored.out == "verifier key: " + srv.vkey + "\n", restored.out);
}

BOOST_AUTO_TEST_CASE(submit_log_binds_a_statement_to_this_log_only) {
  test::vellumd_process srv;
  const std::string base = "submit --key ward.pem --kid ward --stream ward-1 --type T --data-json '{}' ";
  auto here = srv.vellum(base + "--log vellum.localhost/log");
  BOOST_TEST(here.exit_code == 0, here.out);
  auto elsewhere = srv.vellum(base + "--log other.example/log");
  BOOST_TEST(elsewhere.exit_code == 1, elsewhere.out);
  BOOST_TEST(elsewhere.out.find("wrong_log") != std::string::npos, elsewhere.out);
  BOOST_TEST(elsewhere.out.find("this log is \"vellum.localhost/log\"") != std::string::npos, elsewhere.out);
}

BOOST_AUTO_TEST_SUITE_END()
