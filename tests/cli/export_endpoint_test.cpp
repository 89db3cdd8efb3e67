// GET /v1/export against a real vellumd: who may export, refused selections,
// and a streamed export that vellum-verify accepts. Spawns the built vellumd
// on 127.0.0.1 with an ephemeral port and a temporary data directory.

#include "server/client.hpp"
#include "test_util.hpp"
#include "vellumd_process.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <thread>

using namespace vellum;

namespace {

struct server_fixture : test::vellumd_process {};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(export_endpoint, server_fixture)

BOOST_AUTO_TEST_CASE(auditor_exports_a_stream_that_verifies_offline_and_readers_may_not) {
  for (int i = 0; i < 40; ++i) {
    auto r = vellum("submit --key ward.pem --kid ward --stream " + std::string(i % 2 ? "therapy-1" : "therapy-2") +
                    " --type Note --data-json '{\"i\":" + std::to_string(i) + "}'");
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.out);
  }
  auto ok = vellum("export --stream therapy-1 --out t1.vellum", test::auditor_token);
  BOOST_TEST_REQUIRE(ok.exit_code == 0, ok.out);
  auto verified = test::run_command(test::binary("vellum-verify") + " bundle " + (dir.path() / "t1.vellum").string() +
                                    " --log-key '" + vkey + "' --json");
  BOOST_TEST(verified.exit_code == 0, verified.out);
  BOOST_TEST(verified.out.find("\"verified\":true") != std::string::npos, verified.out);

  auto reader = vellum("export --stream therapy-1 --out r.vellum", test::reader_token);
  BOOST_TEST(reader.exit_code != 0);
  BOOST_TEST(reader.out.find("403") != std::string::npos, reader.out);
  BOOST_TEST(!std::filesystem::exists(dir.path() / "r.vellum"));

  auto anonymous = vellum("export --stream therapy-1 --out a.vellum");
  BOOST_TEST(anonymous.exit_code != 0);
  BOOST_TEST(anonymous.out.find("401") != std::string::npos, anonymous.out);
}

BOOST_AUTO_TEST_CASE(refuses_bad_selections_before_streaming) {
  const auto port = static_cast<std::uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
  const test::header_list auth{{"Authorization", std::string("Bearer ") + test::auditor_token}};
  auto expect_bad_request = [&](const std::string& query) {
    BOOST_TEST_CONTEXT(query) {
      auto r = test::http_request(port, "GET", "/v1/export?" + query, {}, {}, auth);
      BOOST_TEST(r.status == 400u);
      BOOST_TEST(r.header("content-type").find("application/json") != std::string::npos);
      const auto body = r.json();
      BOOST_TEST(body.at("error").at("code").as_string() == "bad_request");
      BOOST_TEST(!body.at("error").at("message").as_string().empty());
    }
  };
  expect_bad_request("from_seq=0&to_seq=5&since_size=999");  // since_size beyond the tree
  expect_bad_request("from_time=yesterday&to_time=today");  // not RFC 3339
  expect_bad_request("stream=a&prefix=b");                   // two kinds of selection
  expect_bad_request("stream=a&colour=blue");                // unknown parameter
  expect_bad_request("from_seq=9&to_seq=3");                 // range ends before it begins
}

BOOST_AUTO_TEST_SUITE_END()
