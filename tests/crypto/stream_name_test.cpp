// Stream names and which streams a prefix selects (crypto/stream_name.hpp).

#include "crypto/stream_name.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

using vellum::crypto::is_valid_stream;
using vellum::crypto::stream_in_prefix;

BOOST_AUTO_TEST_SUITE(stream_name)

BOOST_AUTO_TEST_CASE(names_are_1_to_256_characters_starting_alphanumeric) {
  BOOST_TEST(is_valid_stream("a"));
  BOOST_TEST(is_valid_stream("therapy-4711"));
  BOOST_TEST(is_valid_stream("Ward_7.bed:3@icu"));
  BOOST_TEST(is_valid_stream(std::string(256, 'x')));
  BOOST_TEST(!is_valid_stream(std::string(257, 'x')));
  BOOST_TEST(!is_valid_stream(""));
  BOOST_TEST(!is_valid_stream("-a"));
  BOOST_TEST(!is_valid_stream("a/b"));
  BOOST_TEST(!is_valid_stream("a b"));
  BOOST_TEST(!is_valid_stream("\xc3\xa4"));
}

BOOST_AUTO_TEST_CASE(a_prefix_selects_a_stream_where_a_part_of_its_name_ends) {
  BOOST_TEST(stream_in_prefix("anything", ""));
  BOOST_TEST(stream_in_prefix("patient-1", "patient-1"));
  for (const char* s : {"patient-1-a", "patient-1_a", "patient-1.a", "patient-1:a", "patient-1@a"})
    BOOST_TEST(stream_in_prefix(s, "patient-1"), s);
  BOOST_TEST(!stream_in_prefix("patient-10", "patient-1"));
  BOOST_TEST(!stream_in_prefix("patient-1a", "patient-1"));
  BOOST_TEST(!stream_in_prefix("patient", "patient-1"));
  // A prefix ending in a separator selects everything after it.
  BOOST_TEST(stream_in_prefix("patient-10", "patient-"));
  BOOST_TEST(stream_in_prefix("patient-", "patient-"));
  BOOST_TEST(!stream_in_prefix("patients-1", "patient-"));
  BOOST_TEST(stream_in_prefix("patient-10", "patient"));
  BOOST_TEST(!stream_in_prefix("patients", "patient"));
}

BOOST_AUTO_TEST_SUITE_END()
