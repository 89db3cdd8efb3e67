// Projection specs: parsing with errors that name the member, the built-in
// spec, parameter translation for both dialects, and field values.

#include "projection/runner.hpp"
#include "projection/spec.hpp"

#include "test_util.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

using namespace vellum;
using namespace vellum::projection;
namespace json = boost::json;

namespace {

std::string problem_of(std::string_view text) {
  auto s = parse_spec(text);
  BOOST_REQUIRE_MESSAGE(!s, "accepted: " << text);
  return s.error().message();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(projection_spec)

BOOST_AUTO_TEST_CASE(a_spec_parses_and_a_bad_one_names_what_is_wrong) {
  auto s = parse_spec(R"j({"name":"plan","version":2,"schema":["CREATE TABLE t (a INT)"],
                         "handlers":[{"on":"*","sql":"INSERT INTO t VALUES (:seq)"}]})j");
  BOOST_REQUIRE(s.has_value());
  BOOST_TEST(s->name == "plan");
  BOOST_TEST(s->version == 2u);
  BOOST_TEST(s->handlers.size() == 1u);
  auto file = parse_spec(test::read_text(std::string(VELLUM_SOURCE_DIR) + "/config/projections/medication-plan.json"));
  BOOST_TEST(file.has_value(), (file ? "" : file.error().message()));

  BOOST_TEST(problem_of("[]") == "spec: must be a JSON object");
  BOOST_TEST(problem_of("{").starts_with("spec: not JSON"));
  BOOST_TEST(problem_of(R"j({"name":"Plan!"})j").starts_with("spec.name:"));
  BOOST_TEST(problem_of(R"j({"name":"p","schema":[]})j").starts_with("spec.schema:"));
  BOOST_TEST(problem_of(R"j({"name":"p","schema":["x"],"handlers":[]})j").starts_with("spec.handlers:"));
  BOOST_TEST(problem_of(R"j({"name":"p","schema":["x"],"handlers":[{"on":"*"}]})j") ==
             R"j(spec.handlers[0].sql: required, one SQL statement)j");
  BOOST_TEST(problem_of(R"j({"name":"p","schema":["x"],"handlers":[{"on":"*","sql":"SELECT :dose"}]})j")
                 .starts_with("spec.handlers[0].sql: :dose: not an event field"));
  BOOST_TEST(problem_of(R"j({"name":"p","schema":["x"],"handlers":[{"on":"*","sql":"x"}],"extra":1})j") ==
             "spec.extra: unknown member (name, version, schema, handlers)");
  BOOST_TEST(problem_of(R"j({"name":"p","version":0,"schema":["x"],"handlers":[{"on":"*","sql":"x"}]})j")
                 .starts_with("spec.version:"));
  BOOST_TEST(builtin_spec("builtin:events").has_value());
  BOOST_TEST(!builtin_spec("builtin:nothing").has_value());
}

BOOST_AUTO_TEST_CASE(parameters_become_positional_outside_literals_comments_and_casts) {
  const std::string sql =
      "INSERT INTO t VALUES (:seq, ':seq', \"col:stream\", :data.dose.mg, :seq, :stream::text) -- :type\n"
      "ON CONFLICT DO NOTHING";
  auto lite = translate(sql, dialect::sqlite);
  BOOST_REQUIRE(lite.has_value());
  BOOST_TEST(lite->sql ==
             "INSERT INTO t VALUES (?1, ':seq', \"col:stream\", ?2, ?1, ?3::text) -- :type\nON CONFLICT DO NOTHING");
  BOOST_TEST((lite->params == std::vector<std::string>{"seq", "data.dose.mg", "stream"}));
  auto pg = translate(sql, dialect::postgresql);
  BOOST_REQUIRE(pg.has_value());
  BOOST_TEST(pg->sql.starts_with("INSERT INTO t VALUES ($1, ':seq', \"col:stream\", $2, $1, $3::text)"));
  BOOST_TEST(translate("SELECT 'it''s :seq'", dialect::sqlite)->sql == "SELECT 'it''s :seq'");
  BOOST_TEST(!translate("SELECT 'open", dialect::sqlite).has_value());
  BOOST_TEST(!translate("SELECT :nope", dialect::sqlite).has_value());
  BOOST_TEST(translate("SELECT :data", dialect::sqlite)->params == std::vector<std::string>{"data"});
}

BOOST_AUTO_TEST_CASE(field_values_come_from_the_event_and_its_payload) {
  const json::object event{{"seq", 7}, {"stream", "p-1"}, {"revision", 2}, {"recorded_at", "2026-03-09T10:00:00.000000Z"}};
  const json::object payload = json::parse(R"j({"type":"Dose","author":{"id":"dr-1","name":"A"},
      "data":{"dose":{"mg":2.5,"n":3},"ok":true,"list":[1,2],"none":null}})j")
                                   .as_object();
  BOOST_TEST(std::get<std::int64_t>(field_value(event, payload, "seq")) == 7);
  BOOST_TEST(std::get<std::string>(field_value(event, payload, "stream")) == "p-1");
  BOOST_TEST(std::get<std::string>(field_value(event, payload, "type")) == "Dose");
  BOOST_TEST(std::get<std::string>(field_value(event, payload, "author_id")) == "dr-1");
  BOOST_TEST(std::get<double>(field_value(event, payload, "data.dose.mg")) == 2.5);
  BOOST_TEST(std::get<std::int64_t>(field_value(event, payload, "data.dose.n")) == 3);
  BOOST_TEST(std::get<std::int64_t>(field_value(event, payload, "data.ok")) == 1);
  BOOST_TEST(std::get<std::string>(field_value(event, payload, "data.list")) == "[1,2]");
  BOOST_TEST(std::holds_alternative<std::monostate>(field_value(event, payload, "data.none")));
  BOOST_TEST(std::holds_alternative<std::monostate>(field_value(event, payload, "data.missing.deeper")));
  BOOST_TEST(std::holds_alternative<std::monostate>(field_value(event, payload, "amends")));
  BOOST_TEST(std::get<std::string>(field_value(event, payload, "data")) ==
             R"j({"dose":{"mg":2.5,"n":3},"list":[1,2],"none":null,"ok":true})j");  // RFC 8785
  const json::object string_author = json::parse(R"j({"author":"nurse-7"})j").as_object();
  BOOST_TEST(std::get<std::string>(field_value(event, string_author, "author_id")) == "nurse-7");
}

BOOST_AUTO_TEST_SUITE_END()
