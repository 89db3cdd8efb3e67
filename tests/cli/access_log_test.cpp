// vellumd's access log names who made every request — the token's name or
// role, the certificate subject, or the key that signed an append — and logs
// paths without their query strings (which may hold names).

#include "server/client.hpp"
#include "test_util.hpp"
#include "vellumd_process.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <sstream>
#include <thread>

using namespace vellum;

namespace {

std::uint16_t port_of(const std::string& url) { return static_cast<std::uint16_t>(std::stoi(url.substr(url.rfind(':') + 1))); }

// The access-log lines of vellumd's standard error, parsed.
std::vector<boost::json::object> access_lines(const test::vellumd_process& srv) {
  std::this_thread::sleep_for(std::chrono::milliseconds(600));  // the log is flushed every 200 ms
  std::istringstream in(test::read_text((srv.dir.path() / "err.txt").string()));
  std::vector<boost::json::object> out;
  for (std::string line; std::getline(in, line);) {
    boost::system::error_code ec;
    auto v = boost::json::parse(line, ec);
    if (!ec && v.is_object() && v.as_object().contains("route")) out.push_back(v.as_object());
  }
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(access_log)

BOOST_AUTO_TEST_CASE(names_the_identity_of_every_request_and_drops_query_strings) {
  test::vellumd_process srv;
  const auto port = port_of(srv.url);
  BOOST_REQUIRE(srv.vellum("submit --key ward.pem --kid ward --author dr-1 --stream p-1 --type T --data-json '{}'")
                    .exit_code == 0);
  auto bearer = [](const char* t) { return test::header_list{{"Authorization", std::string("Bearer ") + t}}; };
  BOOST_REQUIRE(test::http_request(port, "GET", "/v1/log/events?from=0&limit=5", {}, {}, bearer(test::reader_token)).status ==
                200u);
  BOOST_REQUIRE(test::http_request(port, "GET", "/v1/streams/p-1?limit=2").status == 401u);
  BOOST_REQUIRE(test::http_request(port, "GET", "/v1/events/0", {}, {}, bearer("not-a-token-0123456789abcdef0123")).status ==
                401u);
  BOOST_REQUIRE(test::http_request(port, "GET", "/v1/export?stream=p-1", {}, {}, bearer(test::auditor_token)).status ==
                200u);

  const auto lines = access_lines(srv);
  auto find = [&](std::string_view route, std::string_view path) -> const boost::json::object* {
    for (const auto& l : lines)
      if (l.at("route").as_string() == route && l.at("path").as_string() == path) return &l;
    return nullptr;
  };
  const auto* append = find("POST /v1/events", "/v1/events");
  BOOST_REQUIRE(append);
  BOOST_TEST(append->at("identity") == "kid:ward");
  const auto* read = find("GET /v1/log/events", "/v1/log/events");  // no "?from=0&limit=5"
  BOOST_REQUIRE(read);
  BOOST_TEST(read->at("identity") == "token:reader#1");
  const auto* anonymous = find("GET /v1/streams/{stream}", "/v1/streams/p-1");
  BOOST_REQUIRE(anonymous);
  BOOST_TEST(anonymous->at("identity") == "-");
  const auto* forged = find("GET /v1/events/{seq}", "/v1/events/0");
  BOOST_REQUIRE(forged);
  BOOST_TEST(forged->at("identity") == "token:invalid");
  const auto* exported = find("GET /v1/export", "/v1/export");
  BOOST_REQUIRE(exported);
  BOOST_TEST(exported->at("identity") == "token:auditor#2");
  for (const auto& l : lines) BOOST_TEST(l.at("path").as_string().find('?') == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
