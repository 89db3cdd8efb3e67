// GET /v1/analytics through a running server: exactly the contract's CSV
// header, rows a standard RFC 4180 reader parses back to the events (quotes,
// commas, line breaks in the documentation), NDJSON with the same members,
// the filters, and auditor-only access.

#include "ledger/analytics.hpp"
#include "server/fixture.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

using namespace vellum;
using namespace vellum::test;
namespace json = boost::json;

namespace {

// A strict RFC 4180 reader: CRLF records, quoted fields with doubled quotes.
std::vector<std::vector<std::string>> read_csv(std::string_view text) {
  std::vector<std::vector<std::string>> rows(1);
  std::string field;
  bool quoted = false, in_quotes = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_quotes) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        in_quotes = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      BOOST_REQUIRE_MESSAGE(field.empty(), "a quote inside an unquoted field");
      in_quotes = quoted = true;
    } else if (c == ',') {
      rows.back().push_back(std::move(field));
      field.clear();
      quoted = false;
    } else if (c == '\r') {
      BOOST_REQUIRE_MESSAGE(i + 1 < text.size() && text[i + 1] == '\n', "a bare CR ends no record");
      rows.back().push_back(std::move(field));
      field.clear();
      quoted = false;
      rows.emplace_back();
      ++i;
    } else {
      BOOST_REQUIRE_MESSAGE(c != '\n', "a bare LF outside quotes");
      field += c;
    }
  }
  BOOST_REQUIRE_MESSAGE(!in_quotes, "an unterminated quoted field");
  BOOST_REQUIRE(rows.back().empty() && field.empty() && !quoted);  // the last record ends with CRLF
  rows.pop_back();
  return rows;
}

void append(const running_server& srv, const identities& ids, const json::object& p) {
  auto r = http_request(srv.port(), "POST", "/v1/events", sign(p, ids.writer, "writer"), "application/jose");
  BOOST_REQUIRE_MESSAGE(r.status == 201u, r.body);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(analytics_export)

BOOST_AUTO_TEST_CASE(csv_parses_back_to_the_events_with_exactly_the_contracts_header) {
  identities ids;
  running_server srv(ids);
  auto a = payload("patient-a", "no_stream");
  a["data"] = {{"note", "said \"no\", then: yes\r\nnext line"}, {"dose", 20}};
  a["author"] = {{"id", "dr-1"}, {"name", "Mueller, Anna"}, {"role", "psychiatrist"}};
  a["meaning"] = "authored";
  append(srv, ids, a);
  auto b = payload("patient-b", "no_stream");
  b["type"] = "therapy.plan";
  b["author"] = "nurse-7";
  b["occurred_at"] = "2025-12-31T23:00:00Z";
  append(srv, ids, b);
  auto c = payload("patient-a", std::uint64_t{0});
  c["amends"] = a["event_id"];
  c["reason"] = "typo, fixed";
  c["data"] = {{"dose", 25}};
  append(srv, ids, c);

  auto r = http_request(srv.port(), "GET", "/v1/analytics?format=csv", {}, {}, bearer(ids.auditor_token));
  BOOST_REQUIRE_EQUAL(r.status, 200u);
  BOOST_TEST(r.header("content-type").starts_with("text/csv"));
  const auto rows = read_csv(r.body);
  BOOST_REQUIRE_EQUAL(rows.size(), 4u);
  std::string header;
  for (const auto& f : rows[0]) header += (header.empty() ? "" : ",") + f;
  BOOST_TEST(header == "seq,stream,revision,event_id,type,occurred_at,recorded_at,author_id,author_name,author_role,"
                       "meaning,kid,amends,voids,reason,data");
  BOOST_TEST(header == std::string(ledger::analytics_columns));
  for (const auto& row : rows) BOOST_TEST(row.size() == 16u);
  BOOST_TEST(rows[1][0] == "0");
  BOOST_TEST(rows[1][1] == "patient-a");
  BOOST_TEST(rows[1][3] == std::string(a["event_id"].as_string()));
  BOOST_TEST(rows[1][7] == "dr-1");
  BOOST_TEST(rows[1][8] == "Mueller, Anna");
  BOOST_TEST(rows[1][9] == "psychiatrist");
  BOOST_TEST(rows[1][10] == "authored");
  BOOST_TEST(rows[1][11] == "writer");
  BOOST_TEST(json::parse(rows[1][15]) == a["data"]);  // the documentation, quotes and line breaks intact
  BOOST_TEST(rows[2][7] == "nurse-7");
  BOOST_TEST(rows[2][4] == "therapy.plan");
  BOOST_TEST(rows[3][12] == std::string(a["event_id"].as_string()));
  BOOST_TEST(rows[3][14] == "typo, fixed");

  // NDJSON: the same members, data as an object.
  auto nd = http_request(srv.port(), "GET", "/v1/analytics?format=ndjson&stream=patient-a", {}, {},
                         bearer(ids.auditor_token));
  BOOST_REQUIRE_EQUAL(nd.status, 200u);
  std::vector<json::object> lines;
  for (std::size_t start = 0, nl; (nl = nd.body.find('\n', start)) != std::string::npos; start = nl + 1)
    lines.push_back(json::parse(nd.body.substr(start, nl - start)).as_object());
  BOOST_REQUIRE_EQUAL(lines.size(), 2u);
  BOOST_TEST(lines[0].at("data") == a["data"]);
  BOOST_TEST(lines[0].size() == 16u);

  // Filters: type, author, prefix, time on either axis.
  auto count = [&](const std::string& query) {
    auto x = http_request(srv.port(), "GET", "/v1/analytics?format=csv&" + query, {}, {}, bearer(ids.auditor_token));
    BOOST_REQUIRE_MESSAGE(x.status == 200u, query << ": " << x.body);
    return read_csv(x.body).size() - 1;
  };
  BOOST_TEST(count("type=therapy.plan") == 1u);

  BOOST_TEST(count("prefix=patient-") == 3u);
  BOOST_TEST(count("time=occurred_at&to_time=2026-01-01T00:00:00Z") == 1u);
  BOOST_TEST(count("from_time=2099-01-01T00:00:00Z") == 0u);
}

BOOST_AUTO_TEST_CASE(is_for_auditors_and_refuses_bad_queries_before_any_row) {
  identities ids;
  running_server srv(ids);
  append(srv, ids, payload("patient-x", "no_stream"));
  BOOST_TEST(http_request(srv.port(), "GET", "/v1/analytics", {}, {}, bearer(ids.reader_token)).status == 403u);
  BOOST_TEST(http_request(srv.port(), "GET", "/v1/analytics").status == 401u);
  for (const char* q : {"format=xlsx", "stream=a&prefix=b", "time=now", "from_time=tomorrow", "limit=3"}) {
    auto r = http_request(srv.port(), "GET", std::string("/v1/analytics?") + q, {}, {}, bearer(ids.auditor_token));
    BOOST_TEST(r.status == 400u, q << ": " << r.body);
    BOOST_TEST(r.header("content-type") == "application/json", q);
  }
  BOOST_TEST(ledger::csv_field("a\"b") == "\"a\"\"b\"");
  BOOST_TEST(ledger::csv_field("plain") == "plain");
}

BOOST_AUTO_TEST_SUITE_END()
