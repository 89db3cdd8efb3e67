// A newcomer's path through the CLI, as a user runs it: commands do what
// their --help says, and every error names what went wrong and how to fix
// it, with the exit status of the one table (base/exit_codes.hpp).

#include "base/exit_codes.hpp"
#include "crypto/note.hpp"
#include "test_util.hpp"
#include "vellumd_process.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <fstream>
#include <thread>

using namespace vellum;

namespace {

std::size_t count_lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

// A loopback port nothing listens on (bound once, then released).
std::uint16_t closed_port() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor a(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

// `n` payload lines for stream `stream`, with an author.
void write_batch(const std::filesystem::path& file, const std::string& stream, int n) {
  std::ofstream out(file);
  for (int i = 0; i < n; ++i)
    out << R"({"stream":")" << stream << R"(","type":"therapy.note","author":"dr-1","data":{"i":)" << i << "}}\n";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(newcomer)

BOOST_AUTO_TEST_CASE(read_follows_the_pages_to_the_end_and_names_a_missing_stream) {
  test::vellumd_process srv;
  write_batch(srv.dir.path() / "events.ndjson", "patient-7", 250);
  auto sub = srv.vellum("submit --key ward.pem --kid ward --batch events.ndjson");
  BOOST_TEST_REQUIRE(sub.exit_code == 0, sub.out);

  auto all = srv.vellum("read patient-7", test::reader_token);
  BOOST_TEST(all.exit_code == 0, all.out);
  BOOST_TEST(count_lines(all.out) == 250u);  // not 100: every page is followed
  auto log = srv.vellum("read --all", test::reader_token);
  BOOST_TEST(count_lines(log.out) == 250u);
  auto some = srv.vellum("read --limit 7 patient-7", test::reader_token);
  BOOST_TEST(count_lines(some.out) == 7u);
  auto back = srv.vellum("read --backward --limit 3 patient-7", test::reader_token);
  BOOST_TEST(count_lines(back.out) == 3u);
  BOOST_TEST(back.out.find("\"revision\":249") != std::string::npos, back.out);

  auto missing = srv.vellum("read patient-404", test::reader_token);
  BOOST_TEST(missing.exit_code == exit_code::not_found);
  BOOST_TEST(missing.out.find("\"patient-404\" does not exist") != std::string::npos, missing.out);
}

BOOST_AUTO_TEST_CASE(tail_shows_new_events_of_the_whole_log_unless_asked_to_replay) {
  test::vellumd_process srv;
  for (int i = 0; i < 3; ++i)
    BOOST_REQUIRE(srv.vellum("submit --key ward.pem --kid ward --author dr-1 --stream old-" + std::to_string(i) +
                             " --type Old --data-json '{}'")
                      .exit_code == 0);
  auto follow = [&](const std::string& args, const std::string& file) {
    test::run_command("cd " + srv.dir.str() + " && (VELLUM_SERVER=" + srv.url + " VELLUM_TOKEN=" +
                      test::reader_token + " timeout 4 " + test::binary("vellum") + " tail " + args + " > " + file +
                      " 2>&1 &)");
  };
  follow("", "new.out");             // the whole log, from now on
  follow("--from 0", "replay.out");  // catch-up first
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  for (const char* stream : {"a-1", "b-2"})
    BOOST_REQUIRE(srv.vellum(std::string("submit --key ward.pem --kid ward --author dr-1 --stream ") + stream +
                             " --type Live --data-json '{}'")
                      .exit_code == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(3600));
  const auto fresh = test::read_text((srv.dir.path() / "new.out").string());
  BOOST_TEST(count_lines(fresh) == 2u, fresh);
  BOOST_TEST(fresh.find("\"type\":\"Old\"") == std::string::npos, fresh);
  BOOST_TEST(fresh.find("\"stream\":\"a-1\"") != std::string::npos, fresh);
  BOOST_TEST(fresh.find("\"stream\":\"b-2\"") != std::string::npos, fresh);
  const auto replay = test::read_text((srv.dir.path() / "replay.out").string());
  BOOST_TEST(count_lines(replay) == 5u, replay);
}

BOOST_AUTO_TEST_CASE(options_come_before_operands_as_every_synopsis_shows) {
  test::temp_dir dir;
  auto r = test::run_command(test::binary("vellum") + " keygen --out " + dir.str() +
                             " --streams therapy- --streams lab- ward-9 2>&1");
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.out);
  BOOST_TEST(r.out.find("\"streams\":[\"therapy-\",\"lab-\"]") != std::string::npos, r.out);
  // The first synopsis line of each command ends with its operands.
  const std::pair<std::string, std::string> synopses[] = {
      {"vellum keygen", " KID"},          {"vellum read", " STREAM"},
      {"vellum proof", " inclusion SEQ"}, {"vellum fsck", " DATA_DIR"},
      {"vellum backup", " DATA_DIR DEST"}, {"vellum-verify checkpoint", "] FILE"},
      {"vellum-verify receipt", "VKEY FILE"}, {"vellum-verify bundle", "] FILE"},
  };
  for (const auto& [cmd, ending] : synopses) {
    auto help = test::run_command(test::binary(cmd.substr(0, cmd.find(' '))) + cmd.substr(cmd.find(' ')) + " --help");
    const auto line = help.out.substr(0, help.out.find('\n'));
    BOOST_TEST(line.ends_with(ending), line);
  }
}

BOOST_AUTO_TEST_CASE(vellumd_refuses_demo_mode_on_a_data_directory_it_did_not_create) {
  test::vellumd_process srv;  // a configured ("production") server made data/
  BOOST_REQUIRE(srv.vellum("submit --key ward.pem --kid ward --author dr-1 --stream p-1 --type T --data-json '{}'")
                    .exit_code == 0);
  srv.stop();
  auto r = test::run_command("cd " + srv.dir.str() + " && timeout 10 " + test::binary("vellumd") +
                             " --data data --listen 127.0.0.1:0 2>&1");
  BOOST_TEST(r.exit_code == exit_code::usage, r.out);
  BOOST_TEST(r.out.find("demo mode did not create") != std::string::npos, r.out);
  BOOST_TEST(r.out.find("--config") != std::string::npos, r.out);
  BOOST_TEST(!std::filesystem::exists(srv.dir.path() / "data" / "demo-submitter.pem"));
}

BOOST_AUTO_TEST_CASE(an_unreachable_server_is_named_and_fails_within_seconds) {
  const auto url = "http://127.0.0.1:" + std::to_string(closed_port());
  const auto started = std::chrono::steady_clock::now();
  auto r = test::run_command("VELLUM_SERVER=" + url + " " + test::binary("vellum") + " checkpoint 2>&1");
  const auto took = std::chrono::steady_clock::now() - started;
  BOOST_TEST(r.exit_code == exit_code::unavailable, r.out);
  BOOST_TEST(r.out.find("cannot reach the server at " + url) != std::string::npos, r.out);
  BOOST_TEST(r.out.find("retrying (1 of 2)") != std::string::npos, r.out);  // visible retries
  BOOST_TEST(took < std::chrono::seconds(10));
}

BOOST_AUTO_TEST_CASE(missing_credentials_and_files_say_what_to_do) {
  test::vellumd_process srv;
  auto no_token = srv.vellum("read --all");
  BOOST_TEST(no_token.exit_code == exit_code::unavailable, no_token.out);
  BOOST_TEST(no_token.out.find("--token") != std::string::npos, no_token.out);
  auto weak = srv.vellum("export --prefix p- --out x.ndjson", test::reader_token);
  BOOST_TEST(weak.exit_code == exit_code::unavailable, weak.out);
  BOOST_TEST(weak.out.find("auditor") != std::string::npos, weak.out);

  auto no_key = srv.vellum("submit --key nope.pem --kid ward --stream s --type T");
  BOOST_TEST(no_key.exit_code == exit_code::not_found, no_key.out);
  BOOST_TEST(no_key.out.find("nope.pem: not found") != std::string::npos, no_key.out);
  auto no_file = srv.verify("checkpoint --log-key '" + srv.vkey + "' nope.txt");
  BOOST_TEST(no_file.exit_code == exit_code::not_found, no_file.out);
  BOOST_TEST(no_file.out.find("nope.txt: not found") != std::string::npos, no_file.out);
  auto no_bundle = srv.verify("bundle nope.ndjson --log-key '" + srv.vkey + "'");
  BOOST_TEST(no_bundle.exit_code == exit_code::not_found, no_bundle.out);
}

BOOST_AUTO_TEST_CASE(submit_says_when_it_records_the_key_id_as_author) {
  test::vellumd_process srv;
  auto quiet = srv.vellum("submit --key ward.pem --kid ward --author dr-1 --stream s-1 --type T --data-json '{}'");
  BOOST_TEST(quiet.exit_code == 0, quiet.out);
  BOOST_TEST(quiet.out.find("no author") == std::string::npos, quiet.out);
  auto defaulted = srv.vellum("submit --key ward.pem --kid ward --stream s-1 --type T --data-json '{}'");
  BOOST_TEST(defaulted.exit_code == 0, defaulted.out);
  BOOST_TEST(defaulted.out.find("no author; recording the key id \"ward\" as author") != std::string::npos,
             defaulted.out);
}

BOOST_AUTO_TEST_CASE(verify_json_names_each_failure_by_its_code) {
  test::vellumd_process srv;
  for (int i = 0; i < 5; ++i)
    BOOST_REQUIRE(srv.vellum("submit --key ward.pem --kid ward --author dr-1 --stream v-1 --type T --data-json '{}'")
                      .exit_code == 0);
  BOOST_REQUIRE(srv.vellum("checkpoint --save cp.txt").exit_code == 0);
  auto code_of = [&](const std::string& args) {
    auto r = srv.verify(args + " --json");
    BOOST_TEST(r.exit_code == exit_code::failed, r.out);
    return std::string(boost::json::parse(r.out).at("error").at("code").as_string());
  };
  // Another log's key: nobody we trust signed it.
  auto other = crypto::private_key::generate(crypto::key_type::ed25519);
  BOOST_REQUIRE(other);
  const auto other_vkey = crypto::note_verifier::from_key("other.example/log", other->public_key()).vkey();
  BOOST_TEST(code_of("checkpoint --log-key '" + other_vkey + "' cp.txt") == "unknown_key");
  // The right key, a changed tree size: the signature no longer verifies.
  auto note = test::read_text((srv.dir.path() / "cp.txt").string());
  const auto nl = note.find('\n');
  test::write_text(srv.dir.path() / "bad.txt", note.substr(0, nl + 1) + "6" + note.substr(note.find('\n', nl + 1)));
  BOOST_TEST(code_of("checkpoint --log-key '" + srv.vkey + "' bad.txt") == "bad_signature");
  // A proof, checked against the signed root, with one hash of its path changed.
  BOOST_REQUIRE(srv.vellum("proof inclusion 2 --tree-size 5 > inc.json", test::reader_token).exit_code == 0);
  auto inc = boost::json::parse(test::read_text((srv.dir.path() / "inc.json").string())).as_object();
  inc["path"].as_array()[0] = std::string(43, 'A') + "=";  // 32 zero bytes
  test::write_text(srv.dir.path() / "bad-path.json", boost::json::serialize(inc));
  BOOST_TEST(code_of("inclusion --json-file bad-path.json --log-key '" + srv.vkey + "'") == "proof_mismatch");
}

BOOST_AUTO_TEST_CASE(the_html_report_says_what_was_checked_when_by_what_and_of_which_bytes) {
  test::vellumd_process srv;
  for (int i = 0; i < 4; ++i)
    BOOST_REQUIRE(srv.vellum("submit --key ward.pem --kid ward --author dr-1 --stream h-1 --type T --data-json '{}'")
                      .exit_code == 0);
  BOOST_REQUIRE(srv.vellum("export --stream h-1 --out h-1.vellum", test::auditor_token).exit_code == 0);
  auto r = srv.verify("bundle --log-key '" + srv.vkey + "' --html report.html h-1.vellum");
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.out);
  const auto html = test::read_text((srv.dir.path() / "report.html").string());
  const auto sha = test::run_command("cd " + srv.dir.str() + " && sha256sum h-1.vellum | cut -c1-64").out;
  BOOST_TEST(html.find(sha.substr(0, 64)) != std::string::npos, sha);
  BOOST_TEST(html.find("vellum-verify " + test::run_command(test::binary("vellum-verify") + " --version").out.substr(14, 3)) !=
             std::string::npos);
  BOOST_TEST(html.find("Checked at") != std::string::npos);
  BOOST_TEST(html.find("<h2>Checks run</h2>") != std::string::npos);
  BOOST_TEST(html.find("Erased events (0)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(proofs_are_checked_against_a_signed_root_or_say_loudly_that_they_are_not) {
  test::vellumd_process srv;
  for (int i = 0; i < 6; ++i)
    BOOST_REQUIRE(srv.vellum("submit --key ward.pem --kid ward --author dr-1 --stream r-1 --type T --data-json '{}'")
                      .exit_code == 0);
  BOOST_REQUIRE(srv.vellum("proof inclusion 3 --tree-size 6 > inc.json", test::reader_token).exit_code == 0);
  BOOST_REQUIRE(srv.vellum("proof consistency 2 6 > con.json", test::reader_token).exit_code == 0);
  const std::string key = " --log-key '" + srv.vkey + "'";

  auto inc = srv.verify("inclusion --json-file inc.json" + key);
  BOOST_TEST(inc.exit_code == 0, inc.out);
  BOOST_TEST(inc.out.find("signed by the log") != std::string::npos, inc.out);
  BOOST_TEST(inc.out.find("WARNING") == std::string::npos, inc.out);
  auto con = srv.verify("consistency --json-file con.json" + key);
  BOOST_TEST(con.exit_code == 0, con.out);

  // Without the key the proof may still hold, but the user is told it proves nothing about the log.
  auto bare = srv.verify("inclusion --json-file inc.json");
  BOOST_TEST(bare.exit_code == 0, bare.out);
  BOOST_TEST(bare.out.find("WARNING: the root was given, not taken from a checkpoint signed by the log") !=
                 std::string::npos,
             bare.out);

  // A root swapped in the file is caught against the signature.
  auto o = boost::json::parse(test::read_text((srv.dir.path() / "inc.json").string())).as_object();
  o["root"] = std::string(43, 'A') + "=";
  test::write_text(srv.dir.path() / "swapped.json", boost::json::serialize(o));
  auto swapped = srv.verify("inclusion --json-file swapped.json" + key);
  BOOST_TEST(swapped.exit_code == exit_code::failed, swapped.out);
  // A checkpoint of another size does not vouch for this proof.
  BOOST_REQUIRE(srv.vellum("checkpoint --save cp6.txt").exit_code == 0);
  auto other_size = srv.verify("consistency --json-file con.json --checkpoint1 cp6.txt" + key);
  BOOST_TEST(other_size.exit_code == exit_code::failed, other_size.out);
  BOOST_TEST(other_size.out.find("is for tree size 6, the proof for 2") != std::string::npos, other_size.out);
  // The old spelling of the checkpoint command's key flag still works.
  BOOST_TEST(srv.verify("checkpoint cp6.txt --key '" + srv.vkey + "'").exit_code == 0);
}

BOOST_AUTO_TEST_SUITE_END()
