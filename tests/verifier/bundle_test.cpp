// Tests of the streaming sealed-export verifier (docs/formats.md §8). Bundles
// are built here with the crypto primitives alone: submitter keys sign JWS
// statements, records and salts are committed in leaf entries, a log key
// signs checkpoints, and a small writer in this file (independent of the
// ledger's) emits the NDJSON lines. Seeds are fixed.

#include "crypto/checkpoint.hpp"
#include "crypto/encoding.hpp"
#include "crypto/jws.hpp"
#include "crypto/keys.hpp"
#include "crypto/leaf_entry.hpp"
#include "crypto/merkle.hpp"
#include "crypto/note.hpp"
#include "crypto/stream_name.hpp"
#include "test_keys.hpp"
#include "test_util.hpp"
#include "verifier/bundle.hpp"
#include "verifier/bundle_report.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <sstream>

using namespace vellum;
using crypto::errc;

namespace {

constexpr std::uint64_t t0 = test::t0_us;
using test::seeded_key;

struct log_event {
  std::string stream;
  std::uint64_t revision = 0;
  std::uint64_t recorded_at = 0;
  std::string kid;
  std::string event_id;
  std::string record;
  bytes salt;
  bytes entry;
  crypto::hash leaf{};
  bool erased = false;
};

// What one test event looks like; defaults make a well-formed event.
struct event_spec {
  std::string stream{};
  std::string kid = "ward-7-ehr";
  std::optional<std::uint64_t> recorded_at{};     // default: t0 + 1 s · seq
  std::optional<std::uint64_t> revision{};        // default: next in the stream
  const crypto::private_key* signing_key = nullptr;  // default: the kid's key
  std::string payload_stream{};                   // default: stream
  std::string payload_event_id{};                 // default: the record's
  boost::json::value author = "dr.mueller";
  bool erased = false;
};

// A log built with crypto only, and a reference writer of bundles.
class test_log {
 public:
  std::string origin = "example.org/vellum-test";

  explicit test_log(std::uint8_t log_seed = 1)
      : signer_(*crypto::note_signer::create(origin, seeded_key(log_seed))), rng_(20260309) {
    keys_.emplace("ward-7-ehr", seeded_key(2));
    keys_.emplace("lab-sys", seeded_key(3));
    auto p256 = crypto::private_key::generate(crypto::key_type::p256);
    BOOST_REQUIRE(p256);
    keys_.emplace("pharmacy", *p256);
  }

  const crypto::private_key& key(const std::string& kid) const { return keys_.at(kid); }
  crypto::note_verifier log_key() const { return signer_.verifier(); }
  std::string vkey() const { return signer_.verifier().vkey(); }
  std::uint64_t size() const { return events_.size(); }
  const log_event& at(std::uint64_t seq) const { return events_.at(seq); }

  void add(event_spec spec) {
    log_event e;
    const std::uint64_t seq = events_.size();
    e.stream = spec.stream;
    e.kid = spec.kid;
    e.revision = spec.revision ? *spec.revision : next_revision_[spec.stream];
    next_revision_[spec.stream] = e.revision + 1;
    e.recorded_at = spec.recorded_at ? *spec.recorded_at : t0 + 1'000'000 * seq;
    e.event_id = uuid();
    boost::json::object payload{{"event_id", spec.payload_event_id.empty() ? e.event_id : spec.payload_event_id},
                                {"stream", spec.payload_stream.empty() ? e.stream : spec.payload_stream},
                                {"type", seq % 2 ? "TherapyAdministered" : "TherapyPlanned"},
                                {"expected_revision", "any"},
                                {"occurred_at", "2026-03-09T09:15:00Z"},
                                {"author", spec.author},
                                {"meaning", "authored"},
                                {"data", {{"note", "session " + std::to_string(seq)}}}};
    const auto& signing = spec.signing_key ? *spec.signing_key : key(e.kid);
    auto jws = crypto::jws_sign(crypto::as_bytes(boost::json::serialize(payload)), signing,
                                {{"kid", e.kid}, {"typ", "vellum-event+jws"}});
    BOOST_REQUIRE(jws);
    e.record = crypto::event_record{seq, e.stream, e.revision, e.recorded_at, e.kid, e.event_id, *jws}.encode();
    e.salt.resize(32);
    for (auto& b : e.salt) b = static_cast<std::uint8_t>(rng_());
    e.entry = crypto::leaf_entry{seq, e.recorded_at, e.kid, crypto::record_commitment(e.salt, crypto::as_bytes(e.record))}
                  .encode();
    e.leaf = crypto::leaf_hash(e.entry);
    e.erased = spec.erased;
    events_.push_back(std::move(e));
  }

  // The signed checkpoint of the first n leaves.
  std::string checkpoint(std::uint64_t n) const {
    std::vector<crypto::hash> leaves;
    for (std::uint64_t i = 0; i < n; ++i) leaves.push_back(events_[i].leaf);
    const crypto::note_signer signers[] = {signer_};
    auto note = crypto::sign_note(crypto::checkpoint{origin, n, crypto::root_from_leaf_hashes(leaves), {}}.format(),
                                  signers);
    BOOST_REQUIRE(note);
    return *note;
  }

  struct selection {
    std::optional<std::string> stream{}, prefix{};
    std::optional<std::pair<std::uint64_t, std::uint64_t>> seqs{}, times{};
    // A hostile exporter's reading of `prefix`: every stream whose name
    // begins with its characters, part boundary or not.
    bool raw_prefix = false;
  };

  // Writes the bundle of `sel` anchored at the checkpoint of the whole log,
  // exactly as docs/formats.md §8 says.
  std::string bundle(const selection& sel, std::optional<std::uint64_t> since = {}) const {
    const std::uint64_t n = events_.size();
    enum class role { hidden, event, fence };
    std::vector<role> roles(n, role::hidden);
    if (sel.times) {
      std::uint64_t first = 0, end = 0;
      while (first < n && events_[first].recorded_at < sel.times->first) ++first;
      end = first;
      while (end < n && events_[end].recorded_at < sel.times->second) ++end;
      for (auto i = first; i < end; ++i) roles[i] = role::event;
      if (first > 0) roles[first - 1] = role::fence;
      if (end < n) roles[end] = role::fence;
    }
    for (std::uint64_t i = 0; i < n; ++i) {
      const auto& e = events_[i];
      if ((sel.stream && e.stream == *sel.stream) || (sel.prefix && (sel.raw_prefix ? e.stream.starts_with(*sel.prefix)
                                                       : crypto::stream_in_prefix(e.stream, *sel.prefix))) ||
          (sel.seqs && i >= sel.seqs->first && i < sel.seqs->second))
        roles[i] = role::event;
    }

    std::string out;
    auto line = [&](const boost::json::object& o) { out += boost::json::serialize(o) + "\n"; };
    boost::json::object s;
    if (sel.stream) s["stream"] = *sel.stream;
    if (sel.prefix) s["prefix"] = *sel.prefix;
    if (sel.seqs) {
      s["from_seq"] = sel.seqs->first;
      s["to_seq"] = sel.seqs->second;
    }
    if (sel.times) {
      s["from_time"] = crypto::format_time_us(sel.times->first);
      s["to_time"] = crypto::format_time_us(sel.times->second);
    }
    line({{"type", "header"},
          {"format", "vellum-export/1"},
          {"origin", origin},
          {"log_key", vkey()},
          {"selection", s},
          {"complete_streams", sel.stream.has_value() || sel.prefix.has_value()}});
    line({{"type", "checkpoint"}, {"note", checkpoint(n)}});
    std::vector<crypto::hash> leaves;
    for (const auto& e : events_) leaves.push_back(e.leaf);
    crypto::memory_hash_source src(leaves);
    if (since) {
      auto proof = *since ? crypto::consistency_proof(*since, n, src) : result<std::vector<crypto::hash>>(std::vector<crypto::hash>{});
      BOOST_REQUIRE(proof);
      boost::json::array p;
      for (const auto& h : *proof) p.emplace_back(crypto::base64_encode(h));
      std::vector<crypto::hash> prefix(leaves.begin(), leaves.begin() + static_cast<std::ptrdiff_t>(*since));
      line({{"type", "consistency"},
            {"from_size", *since},
            {"from_root", crypto::base64_encode(crypto::root_from_leaf_hashes(prefix))},
            {"proof", p}});
    }
    std::map<std::string, int> kids;
    for (std::uint64_t i = 0; i < n; ++i)
      if (roles[i] == role::event && !events_[i].erased) kids[events_[i].kid] = 1;
    for (const auto& [kid, _] : kids)
      line({{"type", "key"}, {"kid", kid}, {"public_key", key(kid).public_key().to_pem()}});
    std::uint64_t event_lines = 0, node_lines = 0;
    for (std::uint64_t i = 0; i < n;) {
      const auto& e = events_[i];
      if (roles[i] == role::event) {
        if (e.erased)
          line({{"type", "event"}, {"seq", i}, {"leaf_entry", crypto::base64_encode(e.entry)}, {"erased", true}});
        else
          line({{"type", "event"},
                {"seq", i},
                {"leaf_entry", crypto::base64_encode(e.entry)},
                {"record", e.record},
                {"salt", crypto::base64_encode(e.salt)}});
        ++event_lines;
        ++i;
      } else if (roles[i] == role::fence) {
        line({{"type", "fence"}, {"seq", i}, {"leaf_entry", crypto::base64_encode(e.entry)}});
        ++i;
      } else {
        std::uint64_t end = i;
        while (end < n && roles[end] == role::hidden) ++end;
        while (i < end) {  // maximal aligned complete subtrees, left to right
          std::uint8_t level = 0;
          while ((i % (std::uint64_t{2} << level)) == 0 && i + (std::uint64_t{2} << level) <= end) ++level;
          crypto::hash h;
          BOOST_REQUIRE(src.read(std::span<const crypto::node_id>(std::vector<crypto::node_id>{{level, i >> level}}),
                                 std::span<crypto::hash>(&h, 1)));
          line({{"type", "node"}, {"level", level}, {"hash", crypto::base64_encode(h)}});
          ++node_lines;
          i += std::uint64_t{1} << level;
        }
      }
    }
    line({{"type", "end"}, {"events", event_lines}, {"nodes", node_lines}});
    return out;
  }

 private:
  std::string uuid() {
    std::array<std::uint8_t, 16> b{};
    for (auto& x : b) x = static_cast<std::uint8_t>(rng_());
    b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x40);
    b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);
    const std::string h = crypto::hex_encode(b);
    return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
  }

  crypto::note_signer signer_;
  std::map<std::string, crypto::private_key> keys_;
  std::map<std::string, std::uint64_t> next_revision_;
  std::vector<log_event> events_;
  std::mt19937_64 rng_;
};

using selection = test_log::selection;

verifier::bundle_report verify(const test_log& log, const std::string& bundle, verifier::bundle_options opts = {}) {
  std::istringstream in(bundle);
  return verifier::verify_bundle(in, log.log_key(), opts);
}

verifier::bundle_options one_thread() {
  verifier::bundle_options o;
  o.threads = 1;
  return o;
}

std::string failures_of(const verifier::bundle_report& r) {
  std::string s;
  for (const auto& f : r.failures) s += f.describe() + "\n";
  return s;
}

bool mentions(const verifier::bundle_report& r, std::string_view text) {
  for (const auto& f : r.failures)
    if (f.what.find(text) != std::string::npos) return true;
  return false;
}

// A log of `n` events over three streams and three keys (one P-256).
void fill(test_log& log, std::uint64_t n) {
  static const char* streams[] = {"therapy-1", "therapy-2", "lab-7"};
  static const char* kids[] = {"ward-7-ehr", "lab-sys", "pharmacy"};
  for (std::uint64_t i = 0; i < n; ++i) log.add({.stream = streams[i % 3], .kid = kids[(i / 2) % 3]});
}

std::vector<std::string> split_lines(const std::string& bundle) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < bundle.size()) {
    auto nl = bundle.find('\n', start);
    lines.push_back(bundle.substr(start, nl - start + 1));
    start = nl + 1;
  }
  return lines;
}

std::string join(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l;
  return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(bundle_verification)

BOOST_AUTO_TEST_CASE(accepts_a_stream_bundle_and_reports_what_it_verified) {
  test_log log;
  fill(log, 40);
  verifier::bundle_options o;
  std::uint64_t last_lines = 0, last_bytes = 0;
  o.progress = [&](std::uint64_t lines, std::uint64_t bytes) {
    last_lines = lines;
    last_bytes = bytes;
  };
  const std::string bundle = log.bundle({.stream = "therapy-2"});
  const auto r = verify(log, bundle, o);
  BOOST_TEST(last_bytes == bundle.size());
  BOOST_TEST(last_lines == r.lines);
  BOOST_TEST_REQUIRE(r.verified(), failures_of(r));
  BOOST_TEST(r.events == 13u);
  BOOST_TEST(r.tree_size == 40u);
  BOOST_REQUIRE(r.streams.size() == 1u);
  BOOST_TEST(r.streams[0].stream == "therapy-2");
  BOOST_TEST(r.streams[0].first_revision == 0u);
  BOOST_TEST(r.streams[0].last_revision == 12u);
  BOOST_TEST(r.keys.size() == 2u);  // ward-7-ehr and pharmacy sign this stream's events
  BOOST_TEST(r.complete_streams);
  BOOST_TEST(*r.first_recorded_at_us == t0 + 1'000'000);
}

BOOST_AUTO_TEST_CASE(accepts_prefix_seq_range_and_time_range_bundles) {
  test_log log;
  fill(log, 37);
  for (const auto& sel : {selection{.prefix = "therapy-"}, selection{.seqs = {{5, 23}}}, selection{.seqs = {{0, 37}}},
                          selection{.seqs = {{9, 9}}}, selection{.times = {{t0 + 4'000'000, t0 + 20'500'000}}},
                          selection{.times = {{t0, t0 + 3'000'000}}}, selection{.times = {{t0 + 30'000'000, t0 + 99'000'000}}},
                          selection{.times = {{t0 + 10'500'000, t0 + 10'700'000}}}}) {
    for (unsigned threads : {1u, 3u}) {
      verifier::bundle_options o;
      o.threads = threads;
      o.chunk_events = 4;
      const auto r = verify(log, log.bundle(sel), o);
      BOOST_TEST(r.verified(), sel.seqs.value_or(std::pair<std::uint64_t, std::uint64_t>{}).first
                                   << " " << failures_of(r));
    }
  }
  const auto r = verify(log, log.bundle({.times = {{t0 + 4'000'000, t0 + 20'500'000}}}));
  BOOST_TEST(r.events == 17u);
  BOOST_TEST(r.fences == 2u);
  const auto empty = verify(log, log.bundle({.times = {{t0 + 10'500'000, t0 + 10'700'000}}}));
  BOOST_TEST(empty.events == 0u);
  BOOST_TEST(empty.fences == 2u);
}

BOOST_AUTO_TEST_CASE(accepts_bundles_of_an_empty_and_a_one_leaf_log) {
  test_log log;
  BOOST_TEST(verify(log, log.bundle({.seqs = {{0, 0}}})).verified());
  BOOST_TEST(verify(log, log.bundle({.stream = "therapy-1"})).verified());
  log.add({.stream = "therapy-1"});
  BOOST_TEST(verify(log, log.bundle({.stream = "therapy-1"})).verified());
  BOOST_TEST(verify(log, log.bundle({.times = {{t0 + 1, t0 + 2}}})).verified());
}

BOOST_AUTO_TEST_CASE(accepts_erased_events_and_revision_gaps_they_explain) {
  test_log log;
  for (int i = 0; i < 12; ++i) log.add({.stream = i % 2 ? "therapy-1" : "other", .erased = i == 3 || i == 7});
  const auto r = verify(log, log.bundle({.stream = "therapy-1"}));
  BOOST_TEST_REQUIRE(r.verified(), failures_of(r));
  BOOST_TEST(r.erased == 2u);
  BOOST_TEST(r.events == 6u);
  BOOST_TEST(r.streams.at(0).events == 4u);
}

BOOST_AUTO_TEST_CASE(rejects_a_revision_gap_no_erased_event_explains) {
  test_log log;
  log.add({.stream = "therapy-1"});
  log.add({.stream = "therapy-1"});
  log.add({.stream = "therapy-1", .revision = 3});
  const auto r = verify(log, log.bundle({.stream = "therapy-1"}));
  BOOST_TEST(!r.verified());
  BOOST_TEST(mentions(r, "revisions 2 to 2 of stream \"therapy-1\" are missing"), failures_of(r));
  BOOST_TEST(r.failures.at(0).seq.value_or(0) == 2u);
}

BOOST_AUTO_TEST_CASE(rejects_recorded_at_going_backwards) {
  test_log log;
  log.add({.stream = "a", .recorded_at = t0 + 10});
  log.add({.stream = "a", .recorded_at = t0 + 9});
  const auto r = verify(log, log.bundle({.stream = "a"}));
  BOOST_TEST(!r.verified());
  BOOST_TEST(mentions(r, "recorded_at goes backwards"));
}

BOOST_AUTO_TEST_CASE(verifies_the_consistency_proof_from_a_trusted_checkpoint) {
  test_log log;
  fill(log, 29);
  for (std::uint64_t m : {0u, 1u, 8u, 13u, 29u}) {
    verifier::bundle_options o = one_thread();
    o.since_checkpoint = log.checkpoint(m);
    const auto r = verify(log, log.bundle({.prefix = "lab"}, m), o);
    BOOST_TEST_REQUIRE(r.verified(), m << ": " << failures_of(r));
    BOOST_TEST(r.consistency->trusted);
    BOOST_TEST(r.consistency->from_size == m);
  }
  // The trusted checkpoint equals the bundle's: no consistency line needed.
  verifier::bundle_options same = one_thread();
  same.since_checkpoint = log.checkpoint(29);
  BOOST_TEST(verify(log, log.bundle({.prefix = "lab"}), same).verified());
  // Another trusted size than the bundle proves, or none proved at all.
  verifier::bundle_options other = one_thread();
  other.since_checkpoint = log.checkpoint(12);
  BOOST_TEST(!verify(log, log.bundle({.prefix = "lab"}, 13), other).verified());
  BOOST_TEST(!verify(log, log.bundle({.prefix = "lab"}), other).verified());
  // A trusted checkpoint signed by another key.
  test_log stranger(78);
  fill(stranger, 12);
  verifier::bundle_options foreign = one_thread();
  foreign.since_checkpoint = stranger.checkpoint(12);
  BOOST_TEST(!verify(log, log.bundle({.prefix = "lab"}, 12), foreign).verified());
}

BOOST_AUTO_TEST_CASE(a_prefix_selects_streams_where_a_part_of_the_name_ends) {
  test_log log;
  for (const char* s : {"patient-1", "patient-10", "patient-1.notes", "patient-100", "patient-1"}) log.add({.stream = s});
  const auto r = verify(log, log.bundle({.prefix = "patient-1"}), one_thread());
  BOOST_TEST_REQUIRE(r.verified(), failures_of(r));
  BOOST_TEST(r.events == 3u);  // patient-1 twice, patient-1.notes
  // An exporter that reads the prefix as bare characters slips in
  // patient-10 and patient-100: refused, each named.
  const auto hostile = verify(log, log.bundle({.prefix = "patient-1", .raw_prefix = true}), one_thread());
  BOOST_TEST(!hostile.verified());
  BOOST_TEST(hostile.failure_count == 2u);
  BOOST_TEST(mentions(hostile, "an event of stream \"patient-10\", outside the selected prefix"));
}

BOOST_AUTO_TEST_CASE(rejects_a_bundle_checked_with_another_log_key) {
  test_log log, other(77);
  fill(log, 5);
  std::istringstream in(log.bundle({.stream = "therapy-1"}));
  const auto r = verifier::verify_bundle(in, other.log_key());
  BOOST_TEST(!r.verified());
  BOOST_TEST(r.failures.at(0).line == 1u);
}

BOOST_AUTO_TEST_CASE(names_the_event_whose_jws_another_key_signed) {
  test_log log;
  fill(log, 9);
  const auto intruder = seeded_key(99);
  log.add({.stream = "therapy-1", .signing_key = &intruder});
  fill(log, 3);
  const std::string bundle = log.bundle({.stream = "therapy-1"});
  const auto r = verify(log, bundle);
  BOOST_TEST_REQUIRE(r.failure_count == 1u, failures_of(r));
  const auto& f = r.failures[0];
  BOOST_TEST(f.seq.value_or(0) == 9u);
  BOOST_TEST(f.event_id == log.at(9).event_id);
  BOOST_TEST(f.code == make_error_code(errc::bad_signature));
  BOOST_TEST(f.what.find("signature") != std::string::npos);
  const auto at = bundle.find("{\"type\":\"event\",\"seq\":9,");
  BOOST_TEST(f.line == 1 + std::count(bundle.begin(), bundle.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
}

BOOST_AUTO_TEST_CASE(keeps_going_after_a_bad_event_and_reports_each_one) {
  test_log log;
  const auto intruder = seeded_key(98);
  for (int i = 0; i < 50; ++i)
    log.add({.stream = "s", .signing_key = i % 10 == 4 ? &intruder : nullptr,
             .payload_stream = i == 20 ? "t" : "", .payload_event_id = i == 31 ? "00000000-0000-4000-8000-000000000000" : ""});
  for (unsigned threads : {1u, 2u, 4u}) {
    verifier::bundle_options o;
    o.threads = threads;
    o.chunk_events = 3;
    o.keep_rows = true;
    const auto r = verify(log, log.bundle({.stream = "s"}), o);
    BOOST_TEST(r.failure_count == 7u, failures_of(r));
    BOOST_TEST(r.complete);
    BOOST_REQUIRE(r.rows.size() == 50u);
    BOOST_TEST(!r.rows[4].verdict.empty());
    BOOST_TEST(r.rows[5].verdict.empty());
    BOOST_TEST(r.rows[20].verdict.find("stream differs") != std::string::npos);
    BOOST_TEST(r.rows[31].verdict.find("event_id differs") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(caps_the_stored_failures_but_counts_them_all) {
  test_log log;
  const auto intruder = seeded_key(97);
  for (int i = 0; i < 30; ++i) log.add({.stream = "s", .signing_key = &intruder});
  verifier::bundle_options o = one_thread();
  o.max_failures = 10;
  const auto r = verify(log, log.bundle({.stream = "s"}), o);
  BOOST_TEST(r.failure_count == 30u);
  BOOST_TEST(r.failures.size() == 10u);
}

BOOST_AUTO_TEST_CASE(rejects_every_truncation_at_a_line_boundary_and_inside_lines) {
  test_log log;
  fill(log, 12);
  const std::string bundle = log.bundle({.stream = "therapy-1"}, 7);
  for (std::size_t cut = 0; cut + 1 < bundle.size(); ++cut) {
    if (bundle[cut] != '\n' && cut % 7 != 0) continue;
    const auto r = verify(log, bundle.substr(0, cut + (bundle[cut] == '\n' ? 1 : 0)), one_thread());
    BOOST_TEST(!r.verified(), "truncated at " << cut);
  }
}

BOOST_AUTO_TEST_CASE(rejects_swapped_and_dropped_lines) {
  test_log log;
  fill(log, 20);
  verifier::bundle_options o = one_thread();
  o.since_checkpoint = log.checkpoint(6);
  for (const auto& sel : {selection{.stream = "therapy-1"}, selection{.times = {{t0 + 3'000'000, t0 + 9'000'000}}}}) {
    const auto lines = split_lines(log.bundle(sel, 6));
    BOOST_TEST_REQUIRE(verify(log, join(lines), o).verified());
    for (std::size_t i = 0; i < lines.size(); ++i) {
      auto dropped = lines;
      dropped.erase(dropped.begin() + static_cast<std::ptrdiff_t>(i));
      BOOST_TEST(!verify(log, join(dropped), o).verified(), "dropped line " << i + 1);
      for (std::size_t j = i + 1; j < lines.size(); ++j) {
        auto swapped = lines;
        std::swap(swapped[i], swapped[j]);
        BOOST_TEST(!verify(log, join(swapped), o).verified(), "swapped lines " << i + 1 << ", " << j + 1);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(rejects_lines_that_are_not_in_canonical_form) {
  test_log log;
  fill(log, 4);
  const std::string bundle = log.bundle({.stream = "therapy-1"});
  auto spaced = bundle;
  spaced.insert(spaced.find("\"format\"") - 1, " ");
  BOOST_TEST(!verify(log, spaced).verified());
  auto escaped = bundle;
  escaped.replace(escaped.find("vellum-export/1"), 15, "vellum-export\\/1");
  BOOST_TEST(!verify(log, escaped).verified());
  BOOST_TEST(!verify(log, bundle + "\n").verified());
  BOOST_TEST(!verify(log, bundle + bundle.substr(bundle.rfind('{'))).verified());
}

// Every byte of a small bundle matters: each single-byte change (XOR 0x01,
// and another printable character) must fail verification.
BOOST_AUTO_TEST_CASE(rejects_every_single_byte_change_of_a_small_bundle) {
  test_log log;
  for (int i = 0; i < 11; ++i)
    log.add({.stream = i % 3 == 0 ? "therapy-1" : "other", .kid = i % 2 ? "pharmacy" : "lab-sys", .erased = i == 6});
  verifier::bundle_options o = one_thread();
  o.since_checkpoint = log.checkpoint(5);
  const std::string bundle = log.bundle({.stream = "therapy-1"}, 5);
  BOOST_TEST_REQUIRE(verify(log, bundle, o).verified());
  BOOST_TEST_MESSAGE("bundle of " << bundle.size() << " bytes");
  BOOST_TEST(bundle.size() > 3000u);
  BOOST_TEST(bundle.size() < 10000u);
  std::size_t passed = 0;
  const std::string printable = "A0z=+/-_:\"{}[],.\\ ";
  for (std::size_t i = 0; i < bundle.size(); ++i) {
    auto flipped = bundle;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x01);
    if (verify(log, flipped, o).verified()) {
      ++passed;
      BOOST_ERROR("XOR 0x01 at byte " << i << " still verifies");
    }
    auto replaced = bundle;
    char c = printable[i % printable.size()];
    if (c == bundle[i]) c = printable[(i + 1) % printable.size()];
    replaced[i] = c;
    if (verify(log, replaced, o).verified()) {
      ++passed;
      BOOST_ERROR("'" << c << "' at byte " << i << " still verifies");
    }
  }
  BOOST_TEST(passed == 0u);
}

// The same for a time-range bundle with fences, except the bytes of the two
// time bounds: the selection is the exporter's claim, and moving a bound
// within the gap its fence leaves states another true claim the same data
// proves (docs/formats.md §8). Those changes must still verify only when the
// claim stays true.
BOOST_AUTO_TEST_CASE(rejects_every_single_byte_change_of_a_time_range_bundle) {
  test_log log;
  for (int i = 0; i < 9; ++i) log.add({.stream = "s" + std::to_string(i % 2), .kid = "ward-7-ehr"});
  const std::string bundle = log.bundle({.times = {{t0 + 3'000'000, t0 + 6'000'000}}});
  BOOST_TEST_REQUIRE(verify(log, bundle).verified());
  const auto header_end = bundle.find('\n');
  const auto from = bundle.find("\"from_time\":\"");
  const auto to = bundle.find("\"}", from);
  BOOST_TEST_REQUIRE(to < header_end);
  const std::string printable = "A0z=+/-_:\"{}[],.\\ 7";
  for (std::size_t i = 0; i < bundle.size(); ++i) {
    auto flipped = bundle;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x01);
    BOOST_TEST(!verify(log, flipped, one_thread()).verified(), "XOR 0x01 at byte " << i);
    // A digit of a bound replaced by a far-off digit can move the bound to
    // another true claim (an earlier from_time than any leaf): skip those.
    if (i > from + 12 && i < to && bundle[i] >= '0' && bundle[i] <= '9') continue;
    auto replaced = bundle;
    char c = printable[i % printable.size()];
    if (c == bundle[i]) c = printable[(i + 1) % printable.size()];
    replaced[i] = c;
    BOOST_TEST(!verify(log, replaced, one_thread()).verified(), "'" << c << "' at byte " << i);
  }
  // A bound moved past an event or a fence no longer verifies.
  auto moved = bundle;
  moved.replace(moved.find("10:00:03.000000Z"), 16, "10:00:03.000001Z");
  BOOST_TEST(!verify(log, moved).verified());
  moved = bundle;
  moved.replace(moved.find("10:00:06.000000Z"), 16, "10:00:05.000000Z");
  BOOST_TEST(!verify(log, moved).verified());
}

BOOST_AUTO_TEST_CASE(rejects_a_node_hiding_a_selected_event) {
  test_log log;
  fill(log, 16);
  // Build the stream bundle, then drop event seq 4 by folding it into a node:
  // the seq range claim catches it.
  const auto r = verify(log, log.bundle({.seqs = {{4, 6}}}));
  BOOST_TEST(r.verified());
  auto lines = split_lines(log.bundle({.seqs = {{4, 6}}}));
  std::vector<std::string> without;
  for (const auto& l : lines)
    if (l.find("\"seq\":4,") == std::string::npos) without.push_back(l);
  BOOST_TEST(!verify(log, join(without)).verified());
}

BOOST_AUTO_TEST_CASE(html_report_is_self_contained_and_escapes_everything) {
  test_log log;
  log.add({.stream = "therapy-1", .author = boost::json::object{{"id", "u1"}, {"name", "<script>alert(1)</script>"}, {"role", "nurse & co"}}});
  log.add({.stream = "therapy-1"});
  verifier::bundle_options o;
  o.keep_rows = true;
  const auto r = verify(log, log.bundle({.stream = "therapy-1"}), o);
  BOOST_TEST_REQUIRE(r.verified(), failures_of(r));
  const std::string html = verifier::render_html(r);
  BOOST_TEST(html.find("<script") == std::string::npos);
  BOOST_TEST(html.find("&lt;script&gt;alert(1)&lt;/script&gt; (nurse &amp; co)") != std::string::npos);
  BOOST_TEST(html.find("http") == std::string::npos);
  BOOST_TEST(html.find("Stream therapy-1") != std::string::npos);
  BOOST_TEST(html.find("bundle verified") != std::string::npos);
  const std::string text = verifier::render_text(r);
  BOOST_TEST(text.find("tree size 2") != std::string::npos);
  BOOST_TEST(verifier::render_json(r).at("verified").as_bool());
}

BOOST_AUTO_TEST_CASE(html_report_states_its_provenance_and_checks_and_keeps_tampered_apart_from_erased) {
  test_log log;
  const auto intruder = seeded_key(99);
  for (int i = 0; i < 8; ++i)
    log.add({.stream = "therapy-1", .signing_key = i == 5 ? &intruder : nullptr, .erased = i == 2 || i == 6});
  verifier::bundle_options o;
  o.keep_rows = true;
  const auto r = verify(log, log.bundle({.stream = "therapy-1"}), o);
  BOOST_TEST_REQUIRE(r.failure_count == 1u, failures_of(r));
  crypto::hash digest{};
  digest.fill(0xab);
  const verifier::report_provenance p{.made_at_us = t0, .verifier = "vellum-verify 9.9.9",
                                      .bundle_name = "therapy-1.vellum", .bundle_sha256 = digest};
  const std::string html = verifier::render_html(r, p);
  BOOST_TEST(html.find("2026-03-09T10:00:00") != std::string::npos);  // when it was made
  BOOST_TEST(html.find("vellum-verify 9.9.9") != std::string::npos);
  BOOST_TEST(html.find(crypto::hex_encode(digest)) != std::string::npos);
  BOOST_TEST(html.find("therapy-1.vellum") != std::string::npos);
  BOOST_TEST(html.find("<h2>Checks run</h2>") != std::string::npos);
  BOOST_TEST(html.find("Compare each thumbprint with the key registry out of band") != std::string::npos);
  BOOST_TEST(html.find("Events that FAILED verification (1)") != std::string::npos);
  BOOST_TEST(html.find("Erased events (2)") != std::string::npos);

  const auto checks = verifier::checks_run(r);
  BOOST_REQUIRE_EQUAL(checks.size(), 6u);
  BOOST_TEST(checks[0].failures == 0u);  // signed checkpoint
  BOOST_TEST(checks[2].failures == 1u);  // the intruder's JWS
  BOOST_TEST(checks[1].failures + checks[3].failures + checks[4].failures == 0u);
  BOOST_TEST(!checks[5].ran);  // no --since
}

BOOST_AUTO_TEST_CASE(vellum_verify_bundle_exits_0_1_2_and_3) {
  test_log log;
  fill(log, 10);
  test::temp_dir dir;
  const auto good = dir.path() / "good.ndjson";
  const auto bad = dir.path() / "bad.ndjson";
  const auto since = dir.path() / "since.cp";
  std::string bundle = log.bundle({.prefix = "therapy"}, 4);
  test::write_text(good, bundle);
  bundle[bundle.size() / 2] ^= 0x01;
  test::write_text(bad, bundle);
  test::write_text(since, log.checkpoint(4));
  const std::string exe = test::binary("vellum-verify") + " bundle ";
  const std::string key = " --log-key " + log.vkey();
  auto ok = test::run_command(exe + good.string() + key + " --since " + since.string() + " --html " +
                              (dir.path() / "r.html").string() + " 2>/dev/null");
  BOOST_TEST(ok.exit_code == 0);
  BOOST_TEST(ok.out.find("bundle verified") != std::string::npos);
  BOOST_TEST(test::read_text((dir.path() / "r.html").string()).find("Stream therapy-1") != std::string::npos);
  auto json = test::run_command(exe + good.string() + key + " --json --threads 2 2>/dev/null");
  BOOST_TEST(json.exit_code == 0);
  BOOST_TEST(boost::json::parse(json.out).at("events").as_int64() == 7);
  BOOST_TEST(test::run_command(exe + bad.string() + key + " 2>/dev/null").exit_code == 1);
  BOOST_TEST(test::run_command(exe + (dir.path() / "missing").string() + key + " 2>/dev/null").exit_code == 3);
  BOOST_TEST(test::run_command(exe + good.string() + " --log-key nonsense 2>/dev/null").exit_code == 2);
  BOOST_TEST(test::run_command(exe + "- " + key + " < " + good.string() + " 2>/dev/null").exit_code == 0);
  BOOST_TEST(test::run_command(exe + "--help 2>/dev/null").exit_code == 0);
}

BOOST_AUTO_TEST_SUITE_END()
