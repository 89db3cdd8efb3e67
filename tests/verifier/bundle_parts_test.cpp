// Tests of the parts the bundle verifier is built from, each on its own: the
// NDJSON line reader (bounded memory, line numbers) and the signature pool
// (per-event checks on worker threads, verdicts back in order).

#include "crypto/encoding.hpp"
#include "crypto/jws.hpp"
#include "crypto/keys.hpp"
#include "crypto/leaf_entry.hpp"
#include "test_keys.hpp"
#include "verifier/line_reader.hpp"
#include "verifier/signature_pool.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <functional>
#include <sstream>
#include <string>
#include <vector>

using namespace vellum;
using crypto::errc;
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

// ---------------------------------------------------------------------------
// The signature pool.

namespace {

constexpr std::uint64_t t0 = test::t0_us;
using test::seeded_key;

// Replaces the JWS signature by tamper(raw signature bytes).
std::string with_signature(const std::string& compact, const std::function<void(bytes&)>& tamper) {
  const auto dot = compact.rfind('.');
  auto sig = crypto::base64url_decode(std::string_view(compact).substr(dot + 1));
  BOOST_REQUIRE(sig);
  tamper(*sig);
  return compact.substr(0, dot + 1) + crypto::base64url_encode(*sig);
}

// A well-formed event at `seq` whose JWS `signer` signed under `kid`, with
// the leaf entry committing to exactly its record and salt. `tamper_jws`
// changes the JWS before it is committed to (so only the signature can fail).
verifier::pending_event make_event(std::uint64_t seq, const std::string& kid, const crypto::private_key& signer,
                                   const std::function<std::string(const std::string&)>& tamper_jws = {}) {
  const std::string stream = "therapy-" + std::to_string(seq % 3);
  const std::string event_id = "evt-" + std::to_string(seq);
  const boost::json::object payload{{"event_id", event_id}, {"stream", stream}, {"type", "TherapyPlanned"}};
  auto jws = crypto::jws_sign(crypto::as_bytes(boost::json::serialize(payload)), signer, {{"kid", kid}});
  BOOST_REQUIRE(jws);
  const std::string token = tamper_jws ? tamper_jws(*jws) : *jws;
  verifier::pending_event p;
  p.line = seq + 4;  // header, checkpoint, one key line come first
  p.seq = seq;
  p.record = crypto::event_record{seq, stream, seq / 3, t0 + seq, kid, event_id, token}.encode();
  p.salt.assign(32, static_cast<std::uint8_t>(seq));
  p.entry = crypto::leaf_entry{seq, t0 + seq, kid, crypto::record_commitment(p.salt, crypto::as_bytes(p.record))};
  return p;
}

struct verdict {
  std::uint64_t seq;
  std::vector<status> problems;
};

// Runs `events` through a pool and returns the verdicts in the order handed back.
std::vector<verdict> run_pool(unsigned threads, std::size_t chunk, const verifier::key_map& keys,
                              std::vector<verifier::pending_event> events) {
  std::vector<verdict> got;
  verifier::signature_pool pool(threads, chunk, keys, [&](const verifier::pending_event& p, verifier::checked_event& c) {
    got.push_back({p.seq, std::move(c.problems)});
  });
  for (auto& e : events) pool.add(std::move(e));
  pool.finish();
  return got;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(signature_pool_parts)

BOOST_AUTO_TEST_CASE(accepts_a_well_signed_event) {
  const auto key = seeded_key(2);
  const verifier::key_map keys{{"ward-7-ehr", key.public_key()}};
  const auto c = verifier::check_event(make_event(0, "ward-7-ehr", key), keys);
  BOOST_TEST(c.problems.empty());
  BOOST_TEST_REQUIRE(c.record.has_value());
  BOOST_TEST(c.record->event_id == "evt-0");
  BOOST_TEST(c.type == "TherapyPlanned");
}

BOOST_AUTO_TEST_CASE(a_pool_with_one_bad_signature_reports_exactly_that_one) {
  const auto key = seeded_key(2);
  const auto impostor = seeded_key(9);  // signs under the same kid
  const verifier::key_map keys{{"ward-7-ehr", key.public_key()}};
  constexpr std::uint64_t n = 40, bad = 17;
  for (unsigned threads : {1u, 2u, 4u}) {
    for (std::size_t chunk : {std::size_t{1}, std::size_t{3}, std::size_t{512}}) {
      std::vector<verifier::pending_event> events;
      for (std::uint64_t i = 0; i < n; ++i) events.push_back(make_event(i, "ward-7-ehr", i == bad ? impostor : key));
      const auto got = run_pool(threads, chunk, keys, std::move(events));
      BOOST_TEST_CONTEXT("threads " << threads << ", chunk " << chunk) {
        BOOST_TEST_REQUIRE(got.size() == n);
        for (std::uint64_t i = 0; i < n; ++i) {
          BOOST_TEST(got[i].seq == i);  // handed back in add order
          if (i == bad) {
            BOOST_TEST_REQUIRE(got[i].problems.size() == 1u);
            BOOST_TEST(got[i].problems[0] == errc::bad_signature);
            BOOST_TEST(got[i].problems[0].reason().find("ward-7-ehr") != std::string::npos);
          } else {
            BOOST_TEST(got[i].problems.empty(), "seq " << i << ": " << got[i].problems.size() << " problems");
          }
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(flipping_any_byte_of_the_signature_fails_it) {
  const auto key = seeded_key(2);
  const verifier::key_map keys{{"ward-7-ehr", key.public_key()}};
  for (std::size_t i = 0; i < 64; ++i) {  // an Ed25519 signature
    auto flip = [i](const std::string& jws) { return with_signature(jws, [i](bytes& sig) { sig.at(i) ^= 0x01; }); };
    const auto c = verifier::check_event(make_event(5, "ward-7-ehr", key, flip), keys);
    BOOST_TEST_REQUIRE(c.problems.size() == 1u, "byte " << i);
    BOOST_TEST(c.problems[0] == errc::bad_signature, "byte " << i);
  }
}

BOOST_AUTO_TEST_CASE(flipping_any_byte_of_the_record_breaks_its_commitment) {
  const auto key = seeded_key(2);
  const verifier::key_map keys{{"ward-7-ehr", key.public_key()}};
  const auto good = make_event(3, "ward-7-ehr", key);
  for (std::size_t i = 0; i < good.record.size(); ++i) {
    auto bad = good;
    bad.record[i] = static_cast<char>(bad.record[i] ^ 0x01);
    const auto c = verifier::check_event(bad, keys);
    BOOST_TEST_REQUIRE(c.problems.size() == 1u, "byte " << i);
    BOOST_TEST((c.problems[0] == errc::commitment_mismatch || c.problems[0] == errc::malformed_entry), "byte " << i);
    BOOST_TEST(!c.record.has_value());
  }
}

BOOST_AUTO_TEST_CASE(names_a_kid_without_a_key_line) {
  const auto key = seeded_key(2);
  const verifier::key_map keys{{"lab-sys", seeded_key(3).public_key()}};
  const auto c = verifier::check_event(make_event(0, "ward-7-ehr", key), keys);
  BOOST_TEST_REQUIRE(c.problems.size() == 1u);
  BOOST_TEST(c.problems[0] == errc::unknown_key);
  BOOST_TEST(c.problems[0].reason() == "no key line for kid \"ward-7-ehr\"");
}

BOOST_AUTO_TEST_CASE(leaves_erased_events_and_undecodable_entries_to_the_caller) {
  const verifier::key_map keys;
  verifier::pending_event erased;
  erased.erased = true;
  erased.entry = crypto::leaf_entry{0, t0, "ward-7-ehr", {}};
  BOOST_TEST(verifier::check_event(erased, keys).problems.empty());
  verifier::pending_event undecodable;  // entry == nullopt
  BOOST_TEST(verifier::check_event(undecodable, keys).problems.empty());
}

BOOST_AUTO_TEST_CASE(hands_back_early_verdicts_to_keep_memory_bounded) {
  const auto key = seeded_key(2);
  const verifier::key_map keys{{"ward-7-ehr", key.public_key()}};
  std::size_t handed_back = 0;
  verifier::signature_pool pool(2, 1, keys,
                                [&](const verifier::pending_event&, verifier::checked_event&) { ++handed_back; });
  constexpr std::size_t n = 20;
  for (std::uint64_t i = 0; i < n; ++i) pool.add(make_event(i, "ward-7-ehr", key));
  // Two threads, chunks of one: at most four chunks may still be out.
  BOOST_TEST(handed_back >= n - 4);
  pool.finish();
  BOOST_TEST(handed_back == n);
}

BOOST_AUTO_TEST_SUITE_END()
