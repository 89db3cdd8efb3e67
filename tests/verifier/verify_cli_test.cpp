// End-to-end tests of the vellum-verify executable: exit codes and reports.

#include "test_util.hpp"

#include <boost/test/unit_test.hpp>

using namespace vellum;

namespace {

std::string vec(const char* key) {
  static const boost::json::value v = test::load_json("signed-notes.json");
  return std::string(v.at(key).get_string());
}

std::string verify_cmd(const std::string& args) {
  return test::binary("vellum-verify") + " " + args + " 2>/dev/null";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(vellum_verify_executable)

BOOST_AUTO_TEST_CASE(checkpoint_command_verifies_go_checkpoint_and_prints_it) {
  test::temp_dir dir;
  test::write_text(dir.path() / "cp", vec("note_two_signers"));
  auto r = test::run_command(verify_cmd("checkpoint " + (dir.path() / "cp").string() + " --key " +
                                        vec("log_vkey") + " --key " + vec("witness_vkey")));
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(r.out.find("example.org/therapy-log") != std::string::npos);
  BOOST_TEST(r.out.find("size:      8") != std::string::npos);
  BOOST_TEST(r.out.find("witness.example.net") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(checkpoint_command_exits_1_on_a_tampered_root) {
  test::temp_dir dir;
  std::string note = vec("note_one_signer");
  note[note.find("Xcna")] = 'Y';
  test::write_text(dir.path() / "cp", note);
  auto r = test::run_command(verify_cmd("checkpoint " + (dir.path() / "cp").string() + " --json --key " +
                                        vec("log_vkey")));
  BOOST_TEST(r.exit_code == 1);
  auto report = boost::json::parse(r.out);
  BOOST_TEST(report.at("verified").as_bool() == false);
}

BOOST_AUTO_TEST_CASE(exits_3_for_a_missing_file_and_2_for_a_malformed_key) {
  BOOST_TEST(test::run_command(verify_cmd("checkpoint /nonexistent/cp --key " + vec("log_vkey"))).exit_code == 3);
  test::temp_dir dir;
  test::write_text(dir.path() / "cp", vec("note_one_signer"));
  BOOST_TEST(test::run_command(verify_cmd("checkpoint " + (dir.path() / "cp").string() + " --key nonsense"))
                 .exit_code == 2);
  BOOST_TEST(test::run_command(verify_cmd("frobnicate")).exit_code == 2);
}

BOOST_AUTO_TEST_CASE(inclusion_and_consistency_commands_accept_the_go_vectors) {
  const auto merkle = test::load_json("merkle.json");
  test::temp_dir dir;
  int checked = 0;
  for (const auto& v : merkle.at("inclusion").as_array()) {
    test::write_text(dir.path() / "p.json", boost::json::serialize(v));
    auto r = test::run_command(verify_cmd("inclusion --json-file " + (dir.path() / "p.json").string()));
    BOOST_TEST(r.exit_code == 0, boost::json::serialize(v));
    if (++checked == 10) break;  // the library tests sweep all; here the CLI plumbing
  }
  for (const auto& v : merkle.at("consistency").as_array()) {
    test::write_text(dir.path() / "c.json", boost::json::serialize(v));
    auto r = test::run_command(verify_cmd("consistency --json-file " + (dir.path() / "c.json").string()));
    BOOST_TEST(r.exit_code == 0, boost::json::serialize(v));
  }
  // A wrong size must fail with exit code 1.
  auto v = merkle.at("consistency").as_array().back().as_object();
  v["size1"] = v["size1"].to_number<std::uint64_t>() + 1;
  test::write_text(dir.path() / "c.json", boost::json::serialize(v));
  BOOST_TEST(test::run_command(verify_cmd("consistency --json-file " + (dir.path() / "c.json").string())).exit_code == 1);
}

BOOST_AUTO_TEST_CASE(every_command_answers_help) {
  for (const char* c : {"--help", "checkpoint --help", "receipt --help", "inclusion --help", "consistency --help"})
    BOOST_TEST(test::run_command(verify_cmd(c)).exit_code == 0, c);
  BOOST_TEST(test::run_command(verify_cmd("--version")).out.find("vellum-verify") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
