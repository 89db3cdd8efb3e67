// GET /v1/query through a running server: each filter, pages joined by the
// `next` cursor, readers allowed and anonymous callers not, and a 400 for
// every malformed or unknown parameter.

#include "server/fixture.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

using namespace vellum;
using namespace vellum::test;
namespace json = boost::json;

namespace {

void append(const running_server& srv, const identities& ids, const json::object& p) {
  auto r = http_request(srv.port(), "POST", "/v1/events", sign(p, ids.writer, "writer"), "application/jose");
  BOOST_REQUIRE_MESSAGE(r.status == 201u, r.body);
}

json::object get(const running_server& srv, const identities& ids, const std::string& query) {
  auto r = http_request(srv.port(), "GET", "/v1/query?" + query, {}, {}, bearer(ids.reader_token));
  BOOST_REQUIRE_MESSAGE(r.status == 200u, query << ": " << r.body);
  return json::parse(r.body).as_object();
}

// The seqs of every page of `query`, following `next`.
std::vector<std::uint64_t> all_pages(const running_server& srv, const identities& ids, const std::string& query) {
  std::vector<std::uint64_t> seqs;
  std::string cursor;
  for (int pages = 0; pages < 50; ++pages) {
    auto o = get(srv, ids, query + cursor);
    for (const auto& e : o.at("events").as_array()) seqs.push_back(e.at("seq").to_number<std::uint64_t>());
    if (o.at("next").is_null()) return seqs;
    cursor = "&cursor=" + std::string(o.at("next").as_string());
  }
  BOOST_FAIL("more than 50 pages");
  return seqs;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(query_endpoint)

BOOST_AUTO_TEST_CASE(filters_select_events_in_seq_order_across_pages) {
  identities ids;
  running_server srv(ids);
  // seq: 0 a/plan dr-1, 1 b/note nurse-7, 2 a/note dr-1, 3 patient-c/plan dr-1, 4 b/plan nurse-7 (occurred 2025)
  const struct {
    const char* stream;
    const char* type;
    const char* author;
    const char* occurred;
  } events[] = {{"patient-a", "therapy.plan", "dr-1", "2026-03-01T10:00:00Z"},
                {"patient-b", "therapy.note", "nurse-7", "2026-03-02T10:00:00Z"},
                {"patient-a", "therapy.note", "dr-1", "2026-03-03T10:00:00Z"},
                {"patient-c", "therapy.plan", "dr-1", "2026-03-04T10:00:00Z"},
                {"patient-b", "therapy.plan", "nurse-7", "2025-12-31T10:00:00Z"}};
  for (const auto& e : events) {
    auto p = payload(e.stream, "any");
    p["type"] = e.type;
    if (std::string_view(e.author) == "dr-1")
      p["author"] = {{"id", "dr-1"}, {"name", "Dr. One"}, {"role", "psychiatrist"}};
    else
      p["author"] = e.author;
    p["occurred_at"] = e.occurred;
    append(srv, ids, p);
  }
  using seqs = std::vector<std::uint64_t>;
  BOOST_TEST(all_pages(srv, ids, "") == (seqs{0, 1, 2, 3, 4}));
  BOOST_TEST(all_pages(srv, ids, "type=therapy.plan") == (seqs{0, 3, 4}));
  BOOST_TEST(all_pages(srv, ids, "author=dr-1") == (seqs{0, 2, 3}));
  BOOST_TEST(all_pages(srv, ids, "author=nurse-7&type=therapy.plan") == (seqs{4}));
  BOOST_TEST(all_pages(srv, ids, "stream=patient-b") == (seqs{1, 4}));
  BOOST_TEST(all_pages(srv, ids, "prefix=patient-") == (seqs{0, 1, 2, 3, 4}));
  BOOST_TEST(all_pages(srv, ids, "prefix=patient-a") == (seqs{0, 2}));
  BOOST_TEST(all_pages(srv, ids, "prefix=patient-&type=therapy.note") == (seqs{1, 2}));
  BOOST_TEST(all_pages(srv, ids, "time=occurred_at&from_time=2026-03-02T00:00:00Z&to_time=2026-03-04T00:00:00Z") ==
             (seqs{1, 2}));
  BOOST_TEST(all_pages(srv, ids, "time=occurred_at&to_time=2026-01-01T00:00:00%2B01:00") == (seqs{4}));
  BOOST_TEST(all_pages(srv, ids, "from_time=2099-01-01T00:00:00Z").empty());
  BOOST_TEST(all_pages(srv, ids, "type=no.such").empty());
  // Pages of one, joined by cursors, give the same answer.
  BOOST_TEST(all_pages(srv, ids, "type=therapy.plan&limit=1") == (seqs{0, 3, 4}));
  auto first = get(srv, ids, "author=dr-1&limit=2");
  BOOST_TEST(first.at("events").as_array().size() == 2u);
  BOOST_TEST(first.at("next").as_string() == "3");
  BOOST_TEST(first.at("tree_size").to_number<std::uint64_t>() == 5u);
  // Events as reads show them.
  const auto& e = first.at("events").as_array()[0].as_object();
  BOOST_TEST(e.at("stream").as_string() == "patient-a");
  BOOST_TEST(e.contains("jws"));
  auto last = get(srv, ids, "author=dr-1&limit=3");
  BOOST_TEST(last.at("next").is_null());
}

BOOST_AUTO_TEST_CASE(is_for_readers_and_refuses_malformed_parameters) {
  identities ids;
  running_server srv(ids);
  append(srv, ids, payload("patient-x", "no_stream"));
  BOOST_TEST(http_request(srv.port(), "GET", "/v1/query").status == 401u);
  BOOST_TEST(http_request(srv.port(), "GET", "/v1/query", {}, {}, bearer(ids.auditor_token)).status == 200u);
  for (const char* q : {"stream=a&prefix=b", "prefix=", "time=now", "from_time=tomorrow", "limit=0", "limit=x",
                        "cursor=abc", "cursor=-1", "as_of=2026-01-01T00:00:00Z", "format=csv", "type=a&type=b",
                        "from_time=2026-01-02T00:00:00Z&to_time=2026-01-01T00:00:00Z"}) {
    auto r = http_request(srv.port(), "GET", std::string("/v1/query?") + q, {}, {}, bearer(ids.reader_token));
    BOOST_TEST(r.status == 400u, q << ": " << r.body);
    BOOST_TEST(error_code_of(r) == "bad_request", q << ": " << r.body);
  }
}

// Query parsing stays linear: a query of thousands of parameters is refused
// at the bound, and a repeat names the parameter.
BOOST_AUTO_TEST_CASE(a_query_of_many_parameters_is_refused_at_a_bound) {
  identities ids;
  running_server srv(ids);
  std::string many = "/v1/log/events?";
  for (int i = 0; i < 1500; ++i) many += "p" + std::to_string(i) + "=1&";
  auto r = http_request(srv.port(), "GET", many, {}, {}, bearer(ids.reader_token));
  BOOST_TEST(r.status == 400u, r.body);
  BOOST_TEST(r.body.find("more than 32 query parameters") != std::string::npos, r.body);
  auto twice = http_request(srv.port(), "GET", "/v1/log/events?limit=1&limit=2", {}, {}, bearer(ids.reader_token));
  BOOST_TEST(twice.status == 400u);
  BOOST_TEST(twice.body.find("limit\\\" given twice") != std::string::npos, twice.body);
  auto bad = http_request(srv.port(), "GET", "/v1/log/events?limit=%zz", {}, {}, bearer(ids.reader_token));
  BOOST_TEST(bad.status == 400u);
  BOOST_TEST(bad.body.find("bad percent-encoding") != std::string::npos, bad.body);
}

BOOST_AUTO_TEST_SUITE_END()
