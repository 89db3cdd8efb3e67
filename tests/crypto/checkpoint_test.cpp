// C2SP tlog-checkpoint bodies: format/parse round trip and strict syntax.

#include "crypto/checkpoint.hpp"

#include "crypto/encoding.hpp"
#include "test_util.hpp"

#include <boost/test/unit_test.hpp>

using namespace vellum::crypto;

namespace {

std::string vector_text() {
  static const auto v = vellum::test::load_json("signed-notes.json");
  return std::string(v.at("checkpoint_text").as_string());
}

bool refused(std::string_view body) {
  auto r = parse_checkpoint(body);
  return !r && r.error() == make_error_code(errc::malformed_checkpoint);
}

const std::string root64 = "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=";

}  // namespace

BOOST_AUTO_TEST_SUITE(checkpoint_suite)

BOOST_AUTO_TEST_CASE(parses_the_published_checkpoint_and_formats_it_back) {
  auto cp = parse_checkpoint(vector_text());
  BOOST_TEST_REQUIRE(cp.has_value());
  BOOST_TEST(cp->origin == "example.org/therapy-log");
  BOOST_TEST(cp->size == 8u);
  BOOST_TEST(base64_encode(cp->root) == root64);
  BOOST_TEST(cp->extensions.empty());
  BOOST_TEST(cp->format() == vector_text());
}

BOOST_AUTO_TEST_CASE(round_trips_extension_lines_and_extreme_sizes) {
  checkpoint cp;
  cp.origin = "log.example/a";
  cp.size = 18446744073709551615ull;
  cp.root.fill(0xab);
  cp.extensions = {"— ext one", "timestamp 1700000000"};
  auto parsed = parse_checkpoint(cp.format());
  BOOST_TEST_REQUIRE(parsed.has_value());
  BOOST_TEST((*parsed == cp));
  cp.size = 0;
  cp.extensions.clear();
  parsed = parse_checkpoint(cp.format());
  BOOST_TEST_REQUIRE(parsed.has_value());
  BOOST_TEST((*parsed == cp));
}

BOOST_AUTO_TEST_CASE(rejects_noncanonical_sizes) {
  for (const char* size : {"08", "00", "+8", "-8", " 8", "8 ", "", "0x8", "18446744073709551616",
                           "99999999999999999999999"}) {
    BOOST_TEST_CONTEXT(size) {
      BOOST_TEST(refused("o\n" + std::string(size) + "\n" + root64 + "\n"));
    }
  }
}

BOOST_AUTO_TEST_CASE(rejects_roots_that_are_not_32_bytes_of_canonical_base64) {
  BOOST_TEST(refused("o\n1\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg\n"));    // unpadded
  BOOST_TEST(refused("o\n1\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyh=\n"));   // bits
  BOOST_TEST(refused("o\n1\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz-Nw7_RgQyg=\n"));   // url
  BOOST_TEST(refused("o\n1\nAAAA\n"));                                          // 3 bytes
  BOOST_TEST(refused("o\n1\n" + root64 + "AAAA\n"));                            // 35 bytes
  BOOST_TEST(refused("o\n1\n\n"));
}

BOOST_AUTO_TEST_CASE(rejects_missing_lines_empty_origin_and_blank_extensions) {
  BOOST_TEST(refused(""));
  BOOST_TEST(refused("\n1\n" + root64 + "\n"));
  BOOST_TEST(refused("o\n1\n" + root64));              // no final newline
  BOOST_TEST(refused("o\n1\n"));
  BOOST_TEST(refused("o\n1\n" + root64 + "\n\n"));      // empty extension line
  BOOST_TEST(refused("o\n1\n" + root64 + "\next\n\n"));
  BOOST_TEST(refused("o\n1\n" + root64 + "\n\next\n"));
}

BOOST_AUTO_TEST_SUITE_END()
