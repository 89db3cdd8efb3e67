// JSON Merge Patch (RFC 7386), JCS (RFC 8785) and the generic fold and field
// history built on them, against the RFCs' own examples (tests/data) and the
// rules of docs/formats.md "The generic fold".

#include "crypto/fold.hpp"
#include "crypto/ijson.hpp"
#include "crypto/jcs.hpp"
#include "crypto/encoding.hpp"
#include "crypto/sha256.hpp"
#include "test_util.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <bit>
#include <cstring>

using namespace vellum;
namespace json = boost::json;

namespace {

json::value parse(std::string_view text) {
  auto v = crypto::parse_ijson(text);
  BOOST_REQUIRE_MESSAGE(v.has_value(), text);
  return *v;
}

std::string jcs(const json::value& v) {
  auto s = crypto::jcs_serialize(v);
  BOOST_REQUIRE(s.has_value());
  return *s;
}

crypto::fold_event event(std::uint64_t seq, std::string id, json::object payload) {
  crypto::fold_event e;
  e.seq = seq;
  e.revision = seq;
  e.recorded_at_us = 1'773'050'400'000'000 + seq * 1'000'000;
  e.event_id = std::move(id);
  e.kid = "ward";
  e.payload = std::move(payload);
  return e;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(json_merge_patch)

BOOST_AUTO_TEST_CASE(gives_every_result_of_rfc_7386) {
  const auto cases = test::load_json("rfc7386.json").at("cases").as_array();
  BOOST_REQUIRE_EQUAL(cases.size(), 16u);
  for (const auto& c : cases) {
    json::value target = c.at("target");
    crypto::merge_patch(target, c.at("patch"));
    BOOST_TEST(target == c.at("result"), json::serialize(c));
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(canonical_json)

BOOST_AUTO_TEST_CASE(writes_the_examples_of_rfc_8785_byte_for_byte) {
  const auto v = test::load_json("rfc8785.json");
  for (const auto& e : v.at("examples").as_array()) {
    const std::string input(e.at("input").as_string());
    BOOST_TEST(jcs(parse(input)) == std::string(e.at("output").as_string()), input);
  }
}

BOOST_AUTO_TEST_CASE(writes_every_number_of_appendix_b) {
  const auto v = test::load_json("rfc8785.json");
  const auto& numbers = v.at("numbers").as_array();
  BOOST_REQUIRE_EQUAL(numbers.size(), 24u);
  for (const auto& row : numbers) {
    const std::string hex(row.at(0).as_string());
    const auto bits = std::stoull(hex, nullptr, 16);
    const auto d = std::bit_cast<double>(static_cast<std::uint64_t>(bits));
    BOOST_TEST(crypto::jcs_number(d) == std::string(row.at(1).as_string()), hex);
  }
}

BOOST_AUTO_TEST_CASE(refuses_what_has_no_canonical_form) {
  BOOST_TEST(!crypto::jcs_serialize(json::value(std::numeric_limits<double>::infinity())));
  BOOST_TEST(!crypto::jcs_serialize(json::value(std::string("\xff"))));
  BOOST_TEST(jcs(json::value(std::int64_t{-0})) == "0");
  BOOST_TEST(jcs(json::parse(R"({"b":[1,{"z":2,"a":1}],"a":"\u0007"})")) == R"({"a":"\u0007","b":[1,{"a":1,"z":2}]})");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(generic_fold)

BOOST_AUTO_TEST_CASE(applies_each_data_as_a_merge_patch_in_revision_order) {
  const std::vector<crypto::fold_event> events = {
      event(0, "e0", {{"data", {{"plan", "CBT, 12 sessions"}, {"dose", {{"mg", 20}}}}}}),
      event(1, "e1", {{"data", {{"dose", {{"mg", 40}}}}}}),
      event(2, "e2", {{"data", {{"plan", nullptr}, {"note", "stable"}}}}),
  };
  auto f = crypto::fold(events);
  BOOST_REQUIRE(f.has_value());
  BOOST_TEST(f->state == parse(R"({"dose":{"mg":40},"note":"stable"})"));
  BOOST_TEST(f->events == (std::vector<std::uint64_t>{0, 1, 2}));
  BOOST_TEST(f->revision.value_or(99) == 2u);
  // state_sha256 is the SHA-256 of the JCS text, whatever the members' order.
  const std::string canonical = R"({"dose":{"mg":40},"note":"stable"})";
  BOOST_TEST(f->state_sha256 == crypto::hex_encode(crypto::sha256(canonical)));
  BOOST_TEST(f->state_sha256.size() == 64u);
}

BOOST_AUTO_TEST_CASE(skips_voided_events_and_applies_nothing_for_a_void) {
  const std::vector<crypto::fold_event> events = {
      event(0, "e0", {{"data", {{"dose", 20}}}}),
      event(1, "e1", {{"data", {{"dose", 400}}}}),  // a typo...
      event(2, "e2", {{"voids", "e1"}, {"reason", "dose entered wrongly"}, {"data", {{"dose", 1}}}}),
  };
  auto f = crypto::fold(events);
  BOOST_REQUIRE(f.has_value());
  BOOST_TEST(f->state == parse(R"({"dose":20})"));
  BOOST_TEST(f->voided == (std::vector<std::uint64_t>{1}));
  BOOST_TEST(f->events == (std::vector<std::uint64_t>{0, 2}));
  // Without the voiding event (as of before it), the typo stands.
  auto before = crypto::fold(std::span(events).first(2));
  BOOST_TEST(before->state == parse(R"({"dose":400})"));
}

BOOST_AUTO_TEST_CASE(history_names_each_changed_leaf_with_who_and_why) {
  auto e1 = event(1, "e1", {{"data", {{"dose", {{"mg", 40}}}}},
                            {"author", {{"id", "dr-2"}}},
                            {"amends", "e0"},
                            {"reason", "titrated"},
                            {"occurred_at", "2026-03-03T09:00:00Z"}});
  const std::vector<crypto::fold_event> events = {
      event(0, "e0", {{"data", {{"plan", "CBT"}, {"dose", {{"mg", 20}}}}}, {"author", "dr-1"}}),
      e1,
      event(2, "e2", {{"data", {{"plan", nullptr}}}}),
  };
  const auto all = crypto::field_history(events);
  BOOST_REQUIRE_EQUAL(all.size(), 4u);  // /dose/mg and /plan set, /dose/mg changed, /plan removed
  const auto dose = crypto::field_history(events, "/dose");
  BOOST_REQUIRE_EQUAL(dose.size(), 2u);
  BOOST_TEST(dose[1].at("path") == "/dose/mg");
  BOOST_TEST(dose[1].at("old") == 20);
  BOOST_TEST(dose[1].at("new") == 40);
  BOOST_TEST(dose[1].at("author").at("id") == "dr-2");
  BOOST_TEST(dose[1].at("reason") == "titrated");
  BOOST_TEST(dose[1].at("amends") == "e0");
  BOOST_TEST(dose[1].at("occurred_at") == "2026-03-03T09:00:00Z");
  BOOST_TEST(dose[1].at("voided_by").is_null());
  const auto plan = crypto::field_history(events, "/plan");
  BOOST_REQUIRE_EQUAL(plan.size(), 2u);
  BOOST_TEST(plan[1].at("old") == "CBT");
  BOOST_TEST(plan[1].at("new").is_null());
  BOOST_TEST(crypto::field_history(events, "/pla").empty());  // a pointer names whole tokens
}

BOOST_AUTO_TEST_CASE(history_marks_what_a_later_event_withdrew) {
  const std::vector<crypto::fold_event> events = {
      event(0, "e0", {{"data", {{"dose", 20}}}}),
      event(1, "e1", {{"data", {{"dose", 400}}}}),
      event(2, "e2", {{"voids", "e1"}, {"reason", "typo"}}),
      event(3, "e3", {{"data", {{"dose", 30}}}}),
  };
  const auto h = crypto::field_history(events, "/dose");
  BOOST_REQUIRE_EQUAL(h.size(), 3u);
  BOOST_TEST(h[1].at("new") == 400);
  BOOST_TEST(h[1].at("voided_by") == "e2");
  BOOST_TEST(h[2].at("old") == 20);  // the voided change never took effect
  BOOST_TEST(h[2].at("new") == 30);
  BOOST_TEST(crypto::pointer_token("a/b~c") == "a~1b~0c");
}

BOOST_AUTO_TEST_SUITE_END()
