// The generic fold offline: vellum-verify bundle --state folds only what it
// verified and prints the same state and state_sha256 as the server's
// GET /v1/streams/{s}/state, as of the same moment.

#include "server/client.hpp"
#include "test_util.hpp"
#include "vellumd_process.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

using namespace vellum;

namespace {

std::uint16_t port_of(const std::string& url) { return static_cast<std::uint16_t>(std::stoi(url.substr(url.rfind(':') + 1))); }

boost::json::object server_state(const test::vellumd_process& srv, const std::string& query) {
  auto r = test::http_request(port_of(srv.url), "GET", "/v1/streams/plan-1/state" + query, {}, {},
                              {{"Authorization", std::string("Bearer ") + test::reader_token}});
  BOOST_REQUIRE_MESSAGE(r.status == 200u, r.body);
  return r.json().as_object();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(fold_offline)

BOOST_AUTO_TEST_CASE(vellum_verify_folds_a_stream_to_the_servers_state_sha256) {
  test::vellumd_process srv;
  const std::string submit = "submit --key ward.pem --kid ward --stream plan-1 --type T --author dr-1 ";
  BOOST_REQUIRE(srv.vellum(submit + "--data-json '{\"plan\":\"CBT\",\"dose\":{\"mg\":20}}' --save first.json").exit_code == 0);
  BOOST_REQUIRE(srv.vellum(submit + "--data-json '{\"dose\":{\"mg\":40.5},\"note\":\"\\u20ac 1e21\"}'").exit_code == 0);
  BOOST_REQUIRE(srv.vellum(submit + "--amends \"$(sed -n 's/.*\"event_id\":\"\\([^\"]*\\)\".*/\\1/p' first.json)\" "
                                    "--reason 'plan revised' --data-json '{\"plan\":\"CBT, 16 sessions\"}'")
                    .exit_code == 0);
  BOOST_REQUIRE(srv.vellum("export --stream plan-1 --out plan-1.vellum", test::auditor_token).exit_code == 0);

  const auto now = server_state(srv, "");
  auto offline = srv.verify("bundle --log-key '" + srv.vkey + "' --json --state plan-1 --history plan-1.vellum");
  BOOST_TEST_REQUIRE(offline.exit_code == 0, offline.out);
  const auto fold = boost::json::parse(offline.out).at("fold").as_object();
  BOOST_TEST(fold.at("state") == now.at("state"));
  BOOST_TEST(fold.at("state_sha256") == now.at("state_sha256"));
  BOOST_TEST(fold.at("history").as_array().size() >= 4u);

  // As of seq 1 (before the second event), offline and online agree too.
  const auto then = server_state(srv, "?as_of=seq:1");
  auto early = srv.verify("bundle --log-key '" + srv.vkey + "' --json --state plan-1 --as-of seq:1 plan-1.vellum");
  BOOST_TEST_REQUIRE(early.exit_code == 0, early.out);
  const auto early_fold = boost::json::parse(early.out).at("fold").as_object();
  BOOST_TEST(early_fold.at("state_sha256") == then.at("state_sha256"));
  BOOST_TEST(early_fold.at("state_sha256") != fold.at("state_sha256"));

  // A tampered bundle folds nothing.
  auto bundle = test::read_text((srv.dir.path() / "plan-1.vellum").string());
  const auto at = bundle.rfind("\"salt\":\"");
  BOOST_REQUIRE(at != std::string::npos);
  const auto pos = at + 10;
  bundle[pos] = bundle[pos] == 'A' ? 'B' : 'A';  // the salt of the last event: its commitment breaks
  test::write_text(srv.dir.path() / "bad.vellum", bundle);
  auto bad = srv.verify("bundle --log-key '" + srv.vkey + "' --state plan-1 bad.vellum");
  BOOST_TEST(bad.exit_code == 1, bad.out);
  BOOST_TEST(bad.out.find("not computed, the bundle does not verify") != std::string::npos, bad.out);
  BOOST_TEST(srv.verify("bundle --log-key '" + srv.vkey + "' --history plan-1.vellum").exit_code == 2);

  // The same events as rows: vellum analytics writes the CSV file whole.
  auto rows = srv.vellum("analytics --stream plan-1 --out plan-1.csv", test::auditor_token);
  BOOST_TEST_REQUIRE(rows.exit_code == 0, rows.out);
  BOOST_TEST(rows.out.find("wrote plan-1.csv: 3 rows") != std::string::npos, rows.out);
  const auto csv = test::read_text((srv.dir.path() / "plan-1.csv").string());
  BOOST_TEST(csv.starts_with("seq,stream,revision,event_id,type,occurred_at,recorded_at,author_id,author_name,"
                             "author_role,meaning,kid,amends,voids,reason,data\r\n"));
  BOOST_TEST(csv.find("plan revised") != std::string::npos);
  auto refused = srv.vellum("analytics --out x.csv", test::reader_token);
  BOOST_TEST(refused.exit_code == 4, refused.out);
  BOOST_TEST(!std::filesystem::exists(srv.dir.path() / "x.csv"));
  BOOST_TEST(!std::filesystem::exists(srv.dir.path() / "x.csv.part"));
}

BOOST_AUTO_TEST_SUITE_END()
