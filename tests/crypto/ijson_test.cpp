// I-JSON (RFC 7493) acceptance and refusal cases for parse_ijson.

#include "crypto/ijson.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <bit>
#include <cstdint>
#include <string>

using vellum::crypto::errc;
using vellum::crypto::parse_ijson;

namespace {

// Asserts that text is refused with malformed_json and returns the reason.
std::string refused(std::string_view text) {
  auto r = parse_ijson(text);
  std::string why;
  BOOST_TEST_CONTEXT("input: " << text) {
    BOOST_TEST(!r.has_value());
    if (!r) {
      BOOST_TEST((r.error() == errc::malformed_json));
      why = r.error().reason();
    }
    BOOST_TEST(!why.empty());
  }
  return why;
}

std::string nested(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ijson)

BOOST_AUTO_TEST_CASE(parses_nested_document_into_the_same_value_as_boost_json) {
  const std::string text =
      R"({"a":[1,-2,3.5,true,false,null,"x\u00e9\ud83d\ude00"],"b":{"c":{"d":18446744073709551615}},"e":""})";
  auto r = parse_ijson(text);
  BOOST_TEST_REQUIRE(r.has_value());
  BOOST_TEST((*r == boost::json::parse(text)));
}

BOOST_AUTO_TEST_CASE(accepts_scalars_at_top_level) {
  for (const char* text : {"0", "\"s\"", "null", "-0.5e-3", "1e308"}) {
    BOOST_TEST_CONTEXT(text) { BOOST_TEST(parse_ijson(text).has_value()); }
  }
}

BOOST_AUTO_TEST_CASE(accepts_same_member_name_in_sibling_and_nested_objects) {
  BOOST_TEST(parse_ijson(R"([{"a":1},{"a":2}])").has_value());
  BOOST_TEST(parse_ijson(R"({"a":{"a":{"a":1}},"b":{"a":2}})").has_value());
}

BOOST_AUTO_TEST_CASE(rejects_duplicate_member_names_at_top_level) {
  const auto why = refused(R"({"kid":"a","alg":"EdDSA","kid":"b"})");
  BOOST_TEST(why.find("duplicate member name \"kid\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(rejects_duplicate_member_names_when_nested) {
  refused(R"({"a":{"b":[{"c":1,"c":1}]}})");
  refused(R"([[[{"x":{},"x":{}}]]])");
  refused(R"({"a":{"x":1},"a":{"y":2}})");
}

BOOST_AUTO_TEST_CASE(rejects_duplicates_written_with_different_escapes) {
  refused(R"({"a":1,"\u0061":2})");
}

BOOST_AUTO_TEST_CASE(rejects_lone_surrogate_escapes) {
  refused(R"(["\ud800"])");
  refused(R"(["\udc00"])");
  refused(R"(["\ud800\u0041"])");
  refused(R"({"\ud83d":1})");
}

BOOST_AUTO_TEST_CASE(rejects_numbers_that_overflow_a_double) {
  const auto why = refused("[1e400]");
  BOOST_TEST(why.find("double") != std::string::npos);
  refused("-1e400");
  refused(std::string(400, '9'));
}

BOOST_AUTO_TEST_CASE(accepts_integers_beyond_uint64_that_fit_a_double) {
  auto r = parse_ijson("123456789012345678901234567890");
  BOOST_TEST_REQUIRE(r.has_value());
  BOOST_TEST(r->is_double());
}

BOOST_AUTO_TEST_CASE(rejects_invalid_utf8_bytes) {
  refused("[\"\xff\"]");
  refused("[\"\xc3\"]");              // truncated sequence
  refused("[\"\xc0\xaf\"]");          // overlong encoding of '/'
  refused("[\"\xed\xa0\x80\"]");      // UTF-8 encoded surrogate
  refused("{\"\xfe\":1}");
}

BOOST_AUTO_TEST_CASE(rejects_nesting_deeper_than_64) {
  BOOST_TEST(parse_ijson(nested(64)).has_value());
  refused(nested(65));
  refused(nested(100000));
}

BOOST_AUTO_TEST_CASE(rejects_non_json_and_trailing_data) {
  refused("");
  refused("{");
  refused("{} {}");
  refused("[1,]");
  refused("[1] // comment");
  refused("{'a':1}");
  refused("[NaN]");
  refused("[01]");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(ijson_numbers)

// Every I-JSON and JCS implementation reads a number as the nearest double;
// Boost 1.81's fast path is one unit off for this one (RFC 8785 §3.2.2's example).
BOOST_AUTO_TEST_CASE(reads_each_number_as_the_nearest_double) {
  auto v = parse_ijson("[333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001, 9007199254740993.0]");
  BOOST_REQUIRE(v.has_value());
  const auto& a = v->as_array();
  BOOST_TEST(std::bit_cast<std::uint64_t>(a[0].as_double()) == 0x41b3de4355555555ull);
  BOOST_TEST(a[1].as_double() == 1e30);
  BOOST_TEST(a[2].as_double() == 4.5);
  BOOST_TEST(a[3].as_double() == 2e-3);
  BOOST_TEST(a[4].as_double() == 1e-27);
  BOOST_TEST(a[5].as_double() == 9007199254740992.0);  // ties to even
}

BOOST_AUTO_TEST_SUITE_END()
