// Strict RFC 4648 codecs: RFC 4648 §10 vectors, round trips and refusals.

#include "crypto/encoding.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

using namespace vellum::crypto;

namespace {

vellum::bytes to_bytes(std::string_view s) { return {s.begin(), s.end()}; }

template <class F>
void expect_refused(F decode, std::string_view text) {
  auto r = decode(text);
  BOOST_TEST_CONTEXT("input: \"" << text << "\"") {
    BOOST_TEST(!r.has_value());
    if (!r) BOOST_TEST((r.error() == errc::bad_encoding));
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(encoding)

// RFC 4648 §10 test vectors.
BOOST_AUTO_TEST_CASE(encodes_rfc4648_base64_vectors) {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    BOOST_TEST(base64_encode(as_bytes(plain)) == encoded);
    auto decoded = base64_decode(encoded);
    BOOST_TEST_REQUIRE(decoded.has_value());
    BOOST_TEST((*decoded == to_bytes(plain)));
  }
}

BOOST_AUTO_TEST_CASE(round_trips_every_length_and_byte_value) {
  vellum::bytes data;
  for (int n = 0; n < 300; ++n) {
    auto b64 = base64_decode(base64_encode(data));
    auto b64url = base64url_decode(base64url_encode(data));
    auto hex = hex_decode(hex_encode(data));
    BOOST_TEST_REQUIRE(b64.has_value());
    BOOST_TEST_REQUIRE(b64url.has_value());
    BOOST_TEST_REQUIRE(hex.has_value());
    BOOST_TEST((*b64 == data));
    BOOST_TEST((*b64url == data));
    BOOST_TEST((*hex == data));
    data.push_back(static_cast<std::uint8_t>(n * 167 + 13));
  }
}

BOOST_AUTO_TEST_CASE(base64url_uses_url_alphabet_without_padding) {
  const vellum::bytes data{0xfb, 0xff, 0xbf};
  BOOST_TEST(base64_encode(data) == "+/+/");
  BOOST_TEST(base64url_encode(data) == "-_-_");
  BOOST_TEST(base64url_encode(as_bytes("f")) == "Zg");
  BOOST_TEST(base64url_encode(as_bytes("fo")) == "Zm8");
}

BOOST_AUTO_TEST_CASE(rejects_base64_with_bad_padding) {
  expect_refused(base64_decode, "Zg");      // padding missing
  expect_refused(base64_decode, "Zg=");     // padding short
  expect_refused(base64_decode, "Zg===");   // padding long
  expect_refused(base64_decode, "Zm8");
  expect_refused(base64_decode, "Z===");
  expect_refused(base64_decode, "====");
  expect_refused(base64_decode, "Zg==Zg==");  // padding in the middle
  expect_refused(base64_decode, "Z=g=");
}

BOOST_AUTO_TEST_CASE(rejects_base64_with_nonzero_trailing_bits) {
  expect_refused(base64_decode, "Zh==");  // 'f' is Zg==; Zh sets an unused bit
  expect_refused(base64_decode, "Zm9=");  // "fo" is Zm8=
}

BOOST_AUTO_TEST_CASE(rejects_base64_with_whitespace_or_foreign_characters) {
  expect_refused(base64_decode, "Zm9v\n");
  expect_refused(base64_decode, " Zm9v");
  expect_refused(base64_decode, "Zm 9v");
  expect_refused(base64_decode, "Zm9-");  // url alphabet
  expect_refused(base64_decode, "Zm9_");
  expect_refused(base64_decode, std::string_view("Zm9\0", 4));
}

BOOST_AUTO_TEST_CASE(rejects_base64url_with_padding_or_std_alphabet) {
  expect_refused(base64url_decode, "Zg==");
  expect_refused(base64url_decode, "Zg=");
  expect_refused(base64url_decode, "Zm9v+");
  expect_refused(base64url_decode, "-_-/");
  expect_refused(base64url_decode, "Zm9v ");
}

BOOST_AUTO_TEST_CASE(rejects_base64url_with_noncanonical_trailing_bits_or_length) {
  expect_refused(base64url_decode, "Zh");
  expect_refused(base64url_decode, "Zm9");
  expect_refused(base64url_decode, "Z");      // one digit cannot carry a byte
  expect_refused(base64url_decode, "Zm9vY");
}

BOOST_AUTO_TEST_CASE(hex_encodes_lower_case_and_decodes_both_cases) {
  const vellum::bytes data{0x00, 0xab, 0xCD, 0xff};
  BOOST_TEST(hex_encode(data) == "00abcdff");
  auto upper = hex_decode("00ABCDFF");
  BOOST_TEST_REQUIRE(upper.has_value());
  BOOST_TEST((*upper == data));
}

BOOST_AUTO_TEST_CASE(rejects_hex_with_odd_length_or_non_digits) {
  expect_refused(hex_decode, "abc");
  expect_refused(hex_decode, "0g");
  expect_refused(hex_decode, "0x00");
  expect_refused(hex_decode, "00 ");
  expect_refused(hex_decode, " 00");
}

BOOST_AUTO_TEST_SUITE_END()
