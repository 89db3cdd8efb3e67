// The one error channel (base/status.hpp): codes compare, reasons travel.

#include "base/status.hpp"

#include "crypto/error.hpp"

#include <boost/system/system_error.hpp>
#include <boost/test/unit_test.hpp>

#include <sstream>

using vellum::result;
using vellum::status;
namespace crypto = vellum::crypto;

namespace {

result<int> parse_digit(char c) {
  if (c < '0' || c > '9') return status(crypto::errc::malformed_json, std::string("not a digit: ") + c);
  return c - '0';
}

result<int> sum_of(std::string_view digits) {
  int sum = 0;
  for (char c : digits) {
    auto d = parse_digit(c);
    if (!d) return d.error().with_reason("in \"" + std::string(digits) + "\"");
    sum += *d;
  }
  return sum;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(status_type)

BOOST_AUTO_TEST_CASE(a_default_status_is_success) {
  status s;
  BOOST_TEST(!s.failed());
  BOOST_TEST(s.reason().empty());
}

BOOST_AUTO_TEST_CASE(carries_code_and_reason_to_the_caller) {
  auto r = sum_of("12x4");
  BOOST_TEST_REQUIRE(r.has_error());
  BOOST_TEST(r.error() == crypto::errc::malformed_json);
  BOOST_TEST(r.error().message() == "in \"12x4\": not a digit: x");
  BOOST_TEST(*sum_of("1234") == 10);
}

BOOST_AUTO_TEST_CASE(compares_codes_and_ignores_reasons) {
  const status a(crypto::errc::bad_signature, "one reason");
  const status b(crypto::errc::bad_signature, "another");
  BOOST_TEST((a == b));
  BOOST_TEST((a == crypto::errc::bad_signature));
  BOOST_TEST(!(a == crypto::errc::unknown_key));
  BOOST_TEST((a == crypto::make_error_code(crypto::errc::bad_signature)));
}

BOOST_AUTO_TEST_CASE(falls_back_on_the_code_description_without_a_reason) {
  const status s = crypto::errc::bad_signature;
  BOOST_TEST(s.message() == crypto::make_error_code(crypto::errc::bad_signature).message());
  BOOST_TEST(s.with_reason("kid demo").message() == "kid demo");
}

BOOST_AUTO_TEST_CASE(prints_category_code_and_reason) {
  std::ostringstream os;
  os << status(crypto::errc::bad_signature, "kid demo");
  BOOST_TEST(os.str().find("vellum.crypto") != std::string::npos);
  BOOST_TEST(os.str().find("kid demo") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(value_of_an_error_throws_with_code_and_reason) {
  auto r = sum_of("z");
  try {
    (void)r.value();
    BOOST_FAIL("value() of an error must throw");
  } catch (const boost::system::system_error& e) {
    BOOST_TEST((e.code() == crypto::errc::malformed_json));
    BOOST_TEST(std::string(e.what()).find("not a digit") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(result_of_bool_and_void_take_errors) {
  result<bool> b = crypto::errc::internal;
  BOOST_TEST(b.has_error());
  result<bool> t = true;
  BOOST_TEST(*t);
  result<void> v = status(crypto::errc::io_error, "disk");
  BOOST_TEST(v.error().message() == "disk");
}

BOOST_AUTO_TEST_SUITE_END()
