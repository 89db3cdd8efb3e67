// The route table (api::routes) against the two documents that describe it,
// the matcher's rules, and what a running server answers from the table:
// 405 with Allow, HEAD, and the metrics label of each answer.

#include "server/api.hpp"
#include "server/routes.hpp"
#include "server/fixture.hpp"

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

using namespace vellum;
using server::route_match;

namespace {

// "GET /tile/{L}/{N}" and "GET /tile/{level}/{index}" name the same route.
std::string normalised(std::string_view method, std::string path) {
  path = std::regex_replace(path, std::regex(R"(\{[^}]*\})"), "{}");
  return std::string(method) + " " + path;
}

std::string read_doc(const std::string& relative) {
  std::ifstream in(std::string(VELLUM_SOURCE_DIR) + "/" + relative);
  BOOST_REQUIRE_MESSAGE(in, "cannot read " << relative);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::set<std::string> table_routes() {
  std::set<std::string> out;
  for (const auto& r : server::api::routes()) out.insert(normalised(r.method, std::string(r.pattern)));
  return out;
}

// The (method, path) pairs under `paths:` of docs/openapi.yaml: a path at two
// spaces of indent, its operations at four.
std::set<std::string> openapi_routes() {
  std::istringstream in(read_doc("docs/openapi.yaml"));
  std::set<std::string> out;
  std::string line, path;
  bool in_paths = false;
  const std::regex path_line(R"(^  (/[^:]*):\s*$)");
  const std::regex op_line(R"(^    (get|post|put|patch|delete|head|options):\s*$)");
  std::smatch m;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] != ' ') in_paths = line.starts_with("paths:");
    if (!in_paths) continue;
    if (std::regex_match(line, m, path_line)) {
      path = m[1];
    } else if (std::regex_match(line, m, op_line) && !path.empty()) {
      auto method = m[1].str();
      for (auto& ch : method) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      out.insert(normalised(method, path));
    }
  }
  return out;
}

// The `METHOD /path` cells of docs/api.md's overview table (optional parts
// in [brackets] dropped).
std::set<std::string> api_md_routes() {
  const auto text = read_doc("docs/api.md");
  const auto start = text.find("## Overview");
  BOOST_REQUIRE(start != std::string::npos);
  const auto overview = text.substr(start, text.find("\n## ", start + 1) - start);
  std::set<std::string> out;
  const std::regex cell(R"(`(GET|POST|PUT|PATCH|DELETE) (/[^`\[ ?]*)[^`]*`)");
  for (std::sregex_iterator it(overview.begin(), overview.end(), cell), end; it != end; ++it)
    out.insert(normalised((*it)[1].str(), (*it)[2].str()));
  return out;
}

std::string joined(const std::set<std::string>& s) {
  std::string out;
  for (const auto& x : s) out += "\n  " + x;
  return out;
}

void require_same(const std::set<std::string>& table, const std::set<std::string>& doc, const char* doc_name) {
  std::set<std::string> missing, extra;
  std::ranges::set_difference(table, doc, std::inserter(missing, missing.end()));
  std::ranges::set_difference(doc, table, std::inserter(extra, extra.end()));
  BOOST_TEST(missing.empty(), "routes not in " << doc_name << ":" << joined(missing));
  BOOST_TEST(extra.empty(), doc_name << " documents routes the server does not have:" << joined(extra));
}

route_match match(std::string_view method, std::string_view path) {
  return server::match_route(server::api::routes(), method, path);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(route_table)

BOOST_AUTO_TEST_CASE(is_what_openapi_yaml_documents) {
  const auto doc = openapi_routes();
  BOOST_REQUIRE_GT(doc.size(), 10u);  // the parser found the paths
  require_same(table_routes(), doc, "docs/openapi.yaml");
}

BOOST_AUTO_TEST_CASE(is_what_the_overview_of_api_md_lists) {
  const auto doc = api_md_routes();
  BOOST_REQUIRE_GT(doc.size(), 10u);
  require_same(table_routes(), doc, "docs/api.md");
}

BOOST_AUTO_TEST_CASE(declares_each_method_and_pattern_once_with_its_own_label) {
  std::set<std::string> seen, labels;
  for (const auto& r : server::api::routes()) {
    BOOST_TEST(seen.insert(std::string(r.method) + " " + std::string(r.pattern)).second, r.label);
    BOOST_TEST(labels.insert(r.label).second, r.label);
    BOOST_TEST(r.label == std::string(r.method) + " " + std::string(r.pattern));
    BOOST_TEST(r.label != server::unknown_route_label);
  }
}

BOOST_AUTO_TEST_CASE(matches_params_and_the_rest_of_a_tile_path) {
  auto ev = match("GET", "/v1/events/42");
  BOOST_REQUIRE(ev.result == route_match::outcome::found);
  BOOST_TEST(server::api::routes()[ev.row].label == "GET /v1/events/{seq}");
  BOOST_REQUIRE_EQUAL(ev.params.size(), 1u);
  BOOST_TEST(ev.params[0] == "42");

  // The literal "by-id" beats the {seq} param.
  auto by_id = match("GET", "/v1/events/by-id/0190b3c4-0000-7000-8000-000000000000");
  BOOST_REQUIRE(by_id.result == route_match::outcome::found);
  BOOST_TEST(server::api::routes()[by_id.row].label == "GET /v1/events/by-id/{event_id}");

  // /tile/entries/... is its own route, not /tile/{L} with L = "entries".
  auto entries = match("GET", "/tile/entries/x001/234.p/5");
  BOOST_REQUIRE(entries.result == route_match::outcome::found);
  BOOST_TEST(server::api::routes()[entries.row].label == "GET /tile/entries/{N}");
  BOOST_TEST(entries.params.back() == "x001/234.p/5");

  auto tile = match("GET", "/tile/0/x001/234");
  BOOST_REQUIRE(tile.result == route_match::outcome::found);
  BOOST_REQUIRE_EQUAL(tile.params.size(), 2u);
  BOOST_TEST(tile.params[0] == "0");
  BOOST_TEST(tile.params[1] == "x001/234");
}

BOOST_AUTO_TEST_CASE(refuses_other_methods_with_the_patterns_methods) {
  auto del = match("DELETE", "/v1/events/7");
  BOOST_REQUIRE(del.result == route_match::outcome::wrong_method);
  BOOST_TEST(del.allow == "GET");
  auto get_events = match("GET", "/v1/events");
  BOOST_REQUIRE(get_events.result == route_match::outcome::wrong_method);
  BOOST_TEST(get_events.allow == "POST");
  BOOST_TEST((match("GET", "/v2/events").result == route_match::outcome::unknown));
  BOOST_TEST((match("GET", "/v1/eventsx").result == route_match::outcome::unknown));
}

BOOST_AUTO_TEST_CASE(answers_head_for_reads_but_not_for_streams) {
  BOOST_TEST((match("HEAD", "/v1/checkpoint").result == route_match::outcome::found));
  BOOST_TEST((match("HEAD", "/v1/events/1").result == route_match::outcome::found));
  // A subscription and an export are made while they are sent: no headers
  // without the body.
  for (const char* path : {"/v1/subscribe", "/v1/export"}) {
    auto m = match("HEAD", path);
    BOOST_TEST((m.result == route_match::outcome::wrong_method), path);
    BOOST_TEST(m.allow == "GET", path);
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(route_table_served)

// What the running server answers from the table, and how it counts it.
BOOST_AUTO_TEST_CASE(answers_405_with_allow_and_counts_under_the_routes_label) {
  test::identities ids;
  test::running_server srv(ids);
  auto del = test::http_request(srv.port(), "DELETE", "/v1/events/1", {}, {}, test::bearer(ids.reader_token));
  BOOST_TEST(del.status == 405u);
  BOOST_TEST(del.header("allow") == "GET");
  BOOST_TEST(test::error_code_of(del) == "method_not_allowed");

  auto put_export = test::http_request(srv.port(), "PUT", "/v1/export", "x", "text/plain",
                                       test::bearer(ids.auditor_token));
  BOOST_TEST(put_export.status == 405u);
  BOOST_TEST(put_export.header("allow") == "GET");

  auto head_export = test::http_request(srv.port(), "HEAD", "/v1/export", {}, {}, test::bearer(ids.auditor_token));
  BOOST_TEST(head_export.status == 405u);

  auto unknown = test::http_request(srv.port(), "GET", "/v1/nothing-here", {}, {}, test::bearer(ids.reader_token));
  BOOST_TEST(unknown.status == 404u);

  auto head = test::http_request(srv.port(), "HEAD", "/v1/log");
  BOOST_TEST(head.status == 200u);
  BOOST_TEST(head.body.empty());
  BOOST_TEST(!head.header("content-length").empty());
  BOOST_TEST(head.header("content-length") != "0");

  auto metrics = test::http_request(srv.port(), "GET", "/metrics", {}, {}, test::bearer(ids.admin_token));
  BOOST_REQUIRE_EQUAL(metrics.status, 200u);
  BOOST_TEST_INFO(metrics.body);
  BOOST_TEST(metrics.body.find(R"(route="GET /v1/events/{seq}",status="405")") != std::string::npos);
  BOOST_TEST(metrics.body.find(R"(route="GET /v1/export",status="405")") != std::string::npos);
  BOOST_TEST(metrics.body.find(R"(route="other",status="404")") != std::string::npos);
}

// An export is a response whose body the ledger writes while the server sends
// it: a refusal before its first chunk is an ordinary JSON error.
BOOST_AUTO_TEST_CASE(streams_an_export_and_refuses_a_bad_selection_as_json) {
  test::identities ids;
  test::running_server srv(ids);
  auto bad = test::http_request(srv.port(), "GET", "/v1/export?stream=a&prefix=b", {}, {},
                                test::bearer(ids.auditor_token));
  BOOST_TEST(bad.status == 400u);
  BOOST_TEST(test::error_code_of(bad) == "bad_request");
  auto reader = test::http_request(srv.port(), "GET", "/v1/export?prefix=patient-", {}, {},
                                   test::bearer(ids.reader_token));
  BOOST_TEST(reader.status == 403u);
  auto ok = test::http_request(srv.port(), "GET", "/v1/export?prefix=patient-", {}, {},
                               test::bearer(ids.auditor_token));
  BOOST_TEST(ok.status == 200u);
  BOOST_TEST(ok.header("content-type") == "application/x-ndjson");
  BOOST_TEST(ok.header("connection") == "close");
  BOOST_TEST(ok.header("content-length").empty());
  BOOST_TEST(ok.body.find("vellum-export/1") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
