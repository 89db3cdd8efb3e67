// Tests of the parts the bundle verifier is built from, each on its own: the
// NDJSON line reader (bounded memory, line numbers) and the signature pool
// (per-event checks on worker threads, verdicts back in order).

#include "verifier/line_reader.hpp"

#include <boost/test/unit_test.hpp>

#include <sstream>
#include <string>
#include <vector>

using namespace vellum;
using verifier::line_reader;
using read_status = line_reader::read_status;

namespace {

// A stream whose reads fail after `good` bytes (badbit, as a disk error would).
class failing_buf : public std::streambuf {
 public:
  failing_buf(std::string data, std::size_t good) : data_(std::move(data)), good_(good) {}

 protected:
  int_type underflow() override {
    if (served_ >= good_) throw std::ios_base::failure("disk on fire");
    const std::size_t n = std::min(good_ - served_, data_.size() - served_);
    if (n == 0) return traits_type::eof();
    setg(data_.data() + served_, data_.data() + served_, data_.data() + served_ + n);
    served_ += n;
    return traits_type::to_int_type(*gptr());
  }

 private:
  std::string data_;
  std::size_t good_;
  std::size_t served_ = 0;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(line_reader_parts)

BOOST_AUTO_TEST_CASE(returns_each_line_without_its_newline_numbered_from_one) {
  std::istringstream in("{\"a\":1}\n\n{\"b\":2}\n");
  line_reader r(in);
  BOOST_TEST(r.line_number() == 0u);
  BOOST_TEST((r.next() == read_status::line));
  BOOST_TEST(r.text() == "{\"a\":1}");
  BOOST_TEST(r.line_number() == 1u);
  BOOST_TEST((r.next() == read_status::line));
  BOOST_TEST(r.text().empty());
  BOOST_TEST((r.next() == read_status::line));
  BOOST_TEST(r.text() == "{\"b\":2}");
  BOOST_TEST(r.line_number() == 3u);
  BOOST_TEST((r.next() == read_status::end));
  BOOST_TEST(r.line_number() == 3u);
  BOOST_TEST(r.bytes() == 17u);
}

BOOST_AUTO_TEST_CASE(an_empty_input_ends_at_once) {
  std::istringstream in("");
  line_reader r(in);
  BOOST_TEST((r.next() == read_status::end));
  BOOST_TEST(r.line_number() == 0u);
  BOOST_TEST(r.bytes() == 0u);
}

BOOST_AUTO_TEST_CASE(joins_lines_that_cross_buffer_refills) {
  // A 3-byte buffer: every line spans several refills.
  std::istringstream in("abcdefgh\nij\nklmnopqrstu\n");
  line_reader r(in, 100, 3);
  std::vector<std::string> got;
  while (r.next() == read_status::line) got.push_back(r.text());
  BOOST_TEST(got == (std::vector<std::string>{"abcdefgh", "ij", "klmnopqrstu"}), boost::test_tools::per_element());
  BOOST_TEST(r.bytes() == 24u);
}

BOOST_AUTO_TEST_CASE(refuses_a_line_over_the_limit_and_names_its_line_number) {
  const std::string ok(10, 'x');
  const std::string long_line(11, 'y');
  std::istringstream in(ok + "\n" + ok + "\n" + long_line + "\n" + ok + "\n");
  line_reader r(in, 10, 4);
  BOOST_TEST((r.next() == read_status::line));
  BOOST_TEST((r.next() == read_status::line));  // exactly the limit is allowed
  BOOST_TEST(r.text() == ok);
  BOOST_TEST((r.next() == read_status::too_long));
  BOOST_TEST(r.line_number() == 3u);
  // Refused while reading it: no more than the limit plus one buffer was kept.
  BOOST_TEST(r.text().size() <= 10u + 4u);
  BOOST_TEST(r.bytes() == 22u);  // the two good lines only
}

BOOST_AUTO_TEST_CASE(refuses_a_long_line_without_a_newline_before_reading_all_of_it) {
  // 1 MiB without a '\n' against a 1 KiB limit: stops after about the limit.
  std::istringstream in(std::string(std::size_t{1} << 20, 'z'));
  line_reader r(in, 1024, 256);
  BOOST_TEST((r.next() == read_status::too_long));
  BOOST_TEST(r.line_number() == 1u);
  BOOST_TEST(static_cast<std::size_t>(in.tellg()) <= 1024u + 256u);
}

BOOST_AUTO_TEST_CASE(reports_a_last_line_without_newline_as_unterminated) {
  std::istringstream in("one\ntwo");
  line_reader r(in);
  BOOST_TEST((r.next() == read_status::line));
  BOOST_TEST((r.next() == read_status::unterminated));
  BOOST_TEST(r.text() == "two");
  BOOST_TEST(r.line_number() == 2u);
  BOOST_TEST(r.bytes() == 7u);
}

BOOST_AUTO_TEST_CASE(reports_a_read_error_of_the_stream) {
  failing_buf buf("first\nsecond\n", 8);
  std::istream in(&buf);
  line_reader r(in, 100, 4);
  BOOST_TEST((r.next() == read_status::line));
  BOOST_TEST(r.text() == "first");
  BOOST_TEST((r.next() == read_status::io_error));
  BOOST_TEST(r.line_number() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
