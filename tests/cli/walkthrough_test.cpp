// Runs the README's walkthrough exactly as written, so every command a
// newcomer copies from README.md is known to work: the shell blocks between
// <!-- walkthrough:begin --> and <!-- walkthrough:end --> are executed in a
// fresh temporary directory with build/ pointing at this build and the port
// replaced by a free ephemeral one (127.0.0.1 only).

#include "test_util.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/test/unit_test.hpp>

#include <regex>

using namespace vellum;

namespace {

// The ```sh blocks between the markers <!-- NAME:begin --> and
// <!-- NAME:end -->, concatenated.
std::string readme_script(const std::string& readme, const std::string& name) {
  const auto begin = readme.find("<!-- " + name + ":begin -->");
  const auto end = readme.find("<!-- " + name + ":end -->");
  BOOST_REQUIRE(begin != std::string::npos && end != std::string::npos && begin < end);
  const std::string section = readme.substr(begin, end - begin);
  std::string script;
  std::size_t pos = 0;
  while ((pos = section.find("```sh\n", pos)) != std::string::npos) {
    pos += 6;
    const auto close = section.find("```", pos);
    BOOST_REQUIRE(close != std::string::npos);
    script += section.substr(pos, close - pos);
    pos = close + 3;
  }
  return script;
}

std::string readme_text() { return test::read_text(std::string(VELLUM_SOURCE_DIR) + "/README.md"); }

// Points build/ at this build's binaries and the given port at `port`.
std::string localise(std::string script, const std::string& from_port, const std::string& port) {
  script = std::regex_replace(script, std::regex("127\\.0\\.0\\.1:" + from_port), "127.0.0.1:" + port);
  return std::regex_replace(script, std::regex("(^|[\\s\"(])build/"), "$1" + std::string(VELLUM_BINARY_DIR) + "/");
}

// Runs a script under bash in `dir` (bounded in time); background jobs are
// killed when it ends.
test::command_result run_script(const test::temp_dir& dir, const std::string& script) {
  const std::string prologue =
      "set -euo pipefail\n"
      "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n";
  test::write_text(dir.path() / "script.sh", prologue + script);
  BOOST_TEST_MESSAGE("script:\n" << script);
  auto r = test::run_command("cd " + dir.str() + " && timeout 120 bash script.sh 2>&1");
  BOOST_TEST_MESSAGE("output:\n" << r.out);
  return r;
}

unsigned short free_port() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor a(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(readme_commands)

BOOST_AUTO_TEST_CASE(first_event_section_runs_as_written_against_a_demo_server) {
  const std::string port = std::to_string(free_port());
  // What scripts/run does: vellumd with embedded defaults (demo mode), here on
  // a free port; then the README's commands, which use the default server.
  const std::string start =
      "build/vellumd --listen 127.0.0.1:8080 > vellumd.out 2> vellumd.err &\n"
      "for i in $(seq 100); do grep -q '^listening on' vellumd.out 2>/dev/null && break; sleep 0.1; done\n"
      "export VELLUM_SERVER=http://127.0.0.1:8080\n";
  test::temp_dir dir;
  auto r = run_script(dir, localise(start + readme_script(readme_text(), "first-event"), "8080", port));
  BOOST_TEST(r.exit_code == 0, "README first-event section failed (exit " << r.exit_code << "):\n" << r.out);
  BOOST_TEST(r.out.find("receipt verified") != std::string::npos, r.out);
  BOOST_TEST(r.out.find("checkpoint verified") != std::string::npos, r.out);
  BOOST_TEST(r.out.find("inclusion verified") != std::string::npos, r.out);
}

BOOST_AUTO_TEST_CASE(walkthrough_runs_as_written) {
  const std::string port = std::to_string(free_port());
  std::string script = localise(readme_script(readme_text(), "walkthrough"), "8081", port);
  BOOST_TEST_REQUIRE(!script.empty());
  test::temp_dir dir;
  auto r = run_script(dir, script);
  BOOST_TEST(r.exit_code == 0, "walkthrough failed (exit " << r.exit_code << "):\n" << r.out);
  BOOST_TEST(r.out.find("bundle verified") != std::string::npos, r.out);
  BOOST_TEST(r.out.find("receipt verified") != std::string::npos, r.out);
  BOOST_TEST(std::filesystem::exists(dir.path() / "report.html"));
  BOOST_TEST(r.out.find("state: caught up at 3 events") != std::string::npos, r.out);
  BOOST_TEST(r.out.find("state: OK: the view (position 3) reflects the log at tree size 3") != std::string::npos, r.out);
}

BOOST_AUTO_TEST_SUITE_END()
