// Export → verify round trips: a real ledger (LMDB in a temporary directory,
// sync off, injected clock) filled with thousands of statements signed here
// by three submitter keys, exported with ledger::write_export and checked
// with verifier::verify_bundle and the log's verifier key alone.

#include "ledger/export.hpp"
#include "ledger/ledger_test_util.hpp"
#include "test_keys.hpp"
#include "verifier/bundle.hpp"

#include <boost/test/unit_test.hpp>

#include <map>
#include <sstream>

using namespace vellum;
using ledger::test::manual_clock;

namespace {

struct submitter {
  std::string kid;
  crypto::private_key key;
};

// A ledger with `n` events over 13 streams, signed by three keys (one
// P-256). Every 7th event shares its predecessor's recorded_at.
class filled_ledger {
 public:
  explicit filled_ledger(std::uint64_t n) : rng_(4711) {
    submitters_.push_back({"ward-7-ehr", test::seeded_key(11)});
    submitters_.push_back({"lab-sys", test::seeded_key(12)});
    submitters_.push_back({"pharmacy", *crypto::private_key::generate(crypto::key_type::p256)});
    l_ = ledger::test::open_or_fail(ledger::test::test_options(dir_, clock_));
    append(n);
  }

  void append(std::uint64_t n) {
    std::vector<ledger::statement> batch;
    for (std::uint64_t i = 0; i < n; ++i) {
      const std::uint64_t k = appended_++;
      const std::string stream = k % 4 == 3 ? "lab-" + std::to_string(k % 3) : "therapy-" + std::to_string(k % 10);
      const auto& who = submitters_[(k / 3) % submitters_.size()];
      const std::string id = ledger::test::make_uuid(rng_);
      boost::json::object payload{{"event_id", id},
                                  {"stream", stream},
                                  {"type", "SessionDocumented"},
                                  {"expected_revision", "any"},
                                  {"occurred_at", "2026-03-09T09:00:00Z"},
                                  {"author", {{"id", "u7"}, {"name", "Dr. Schmidt"}, {"role", "psychologist"}}},
                                  {"meaning", "authored"},
                                  {"data", {{"session", k}}}};
      auto jws = crypto::jws_sign(crypto::as_bytes(boost::json::serialize(payload)), who.key, {{"kid", who.kid}});
      BOOST_REQUIRE(jws);
      ledger::statement s;
      s.jws = *jws;
      s.kid = who.kid;
      s.event_id = id;
      s.stream = stream;
      s.type = "SessionDocumented";
      batch.push_back(std::move(s));
      if (batch.size() == 100 || i + 1 == n) {
        // One batch per clock tick sequence: recorded_at never decreases.
        for (const auto& o : l_->append(batch)) BOOST_REQUIRE_MESSAGE(!o.error, o.error.message());
        batch.clear();
      }
      if (k % 7 != 6) clock_.advance(1000);
    }
  }

  ledger::ledger& get() { return *l_; }
  std::uint64_t start_us() const { return 1773050400000000ull; }

  ledger::export_request request(ledger::export_selection sel) const {
    ledger::export_request r;
    r.selection = std::move(sel);
    r.key_pem = [this](std::string_view kid) -> std::optional<std::string> {
      for (const auto& s : submitters_)
        if (s.kid == kid) return s.key.public_key().to_pem();
      return std::nullopt;
    };
    return r;
  }

  std::string export_bundle(const ledger::export_request& req, ledger::export_summary* summary = nullptr) {
    std::string out;
    auto r = ledger::write_export(*l_, req, [&](std::string_view chunk) {
      out.append(chunk);
      return true;
    });
    BOOST_REQUIRE_MESSAGE(r, "export failed: " << (r ? std::string() : r.error().message()));
    if (summary) *summary = *r;
    return out;
  }

  verifier::bundle_report verify(const std::string& bundle, std::optional<std::string> since = {}) const {
    auto key = crypto::note_verifier::from_vkey(l_->verifier_key());
    BOOST_REQUIRE(key);
    verifier::bundle_options o;
    o.since_checkpoint = std::move(since);
    o.threads = 2;
    std::istringstream in(bundle);
    return verifier::verify_bundle(in, *key, o);
  }

 private:
  vellum::test::temp_dir dir_;
  manual_clock clock_;
  std::unique_ptr<ledger::ledger> l_;
  std::vector<submitter> submitters_;
  std::mt19937_64 rng_;
  std::uint64_t appended_ = 0;
};

std::string failures_of(const verifier::bundle_report& r) {
  std::string s;
  for (const auto& f : r.failures) s += f.describe() + "\n";
  return s;
}

filled_ledger& shared_ledger() {
  static filled_ledger l(3000);
  return l;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(export_roundtrip)

BOOST_AUTO_TEST_CASE(stream_export_verifies_with_every_revision_of_the_stream) {
  auto& fl = shared_ledger();
  ledger::export_summary summary;
  const auto r = fl.verify(fl.export_bundle(fl.request({.stream = "therapy-3"}), &summary));
  BOOST_TEST_REQUIRE(r.verified(), failures_of(r));
  auto rev = fl.get().stream_revision("therapy-3");
  BOOST_REQUIRE(rev);
  BOOST_TEST(r.events == *rev + 1);
  BOOST_TEST(summary.events == r.events);
  BOOST_REQUIRE(r.streams.size() == 1u);
  BOOST_TEST(r.streams[0].last_revision == *rev);
  BOOST_TEST(r.tree_size == fl.get().tree_size());
  BOOST_TEST(r.keys.size() == 3u);
}

BOOST_AUTO_TEST_CASE(prefix_export_verifies_every_matching_stream) {
  auto& fl = shared_ledger();
  const auto r = fl.verify(fl.export_bundle(fl.request({.prefix = "lab-"})));
  BOOST_TEST_REQUIRE(r.verified(), failures_of(r));
  BOOST_TEST(r.streams.size() == 3u);
  BOOST_TEST(r.events == 750u);
}

BOOST_AUTO_TEST_CASE(seq_range_exports_verify_and_clamp_to_the_tree) {
  auto& fl = shared_ledger();
  for (auto [a, b] : {std::pair<std::uint64_t, std::uint64_t>{0, 1}, {1000, 1517}, {2999, 3000}, {512, 1024},
                      {77, 77}, {2000, 999999}}) {
    const auto r = fl.verify(fl.export_bundle(fl.request({.from_seq = a, .to_seq = b})));
    BOOST_TEST(r.verified(), a << ".." << b << ": " << failures_of(r));
    BOOST_TEST(r.events == std::min<std::uint64_t>(b, 3000) - a);
  }
}

BOOST_AUTO_TEST_CASE(time_range_exports_verify_with_fences) {
  auto& fl = shared_ledger();
  const auto t = fl.start_us();
  for (auto [a, b] : {std::pair<std::uint64_t, std::uint64_t>{t, t + 1000}, {t + 100'000, t + 900'000},
                      {t + 500'500, t + 500'600}, {t - 5, t}, {t + 10'000'000'000, t + 20'000'000'000},
                      {0, t + 99'000'000'000}}) {
    ledger::export_summary summary;
    const auto r = fl.verify(fl.export_bundle(fl.request({.from_time_us = a, .to_time_us = b}), &summary));
    BOOST_TEST(r.verified(), a - t << ": " << failures_of(r));
    BOOST_TEST(r.fences == summary.fences);
    if (r.first_recorded_at_us) {
      BOOST_TEST(*r.first_recorded_at_us >= a);
      BOOST_TEST(*r.last_recorded_at_us < b);
    }
  }
}

BOOST_AUTO_TEST_CASE(since_export_proves_it_extends_an_earlier_checkpoint) {
  auto& fl = shared_ledger();
  for (std::uint64_t m : {100u, 1200u, 2000u, 3000u}) {
    auto cp = fl.get().checkpoint_at(m);
    BOOST_REQUIRE(cp);
    auto req = fl.request({.stream = "therapy-1"});
    req.since_size = m;
    const auto r = fl.verify(fl.export_bundle(req), cp->note);
    BOOST_TEST_REQUIRE(r.verified(), m << ": " << failures_of(r));
    BOOST_TEST(r.consistency->trusted);
  }
  auto req = fl.request({.stream = "therapy-1"});
  req.since_size = 3001;
  auto r = ledger::write_export(fl.get(), req, [](std::string_view) { return true; });
  BOOST_TEST(r.error() == ledger::errc::invalid_argument);
}

BOOST_AUTO_TEST_CASE(export_is_a_snapshot_of_the_checkpoint_at_its_start) {
  filled_ledger fl(600);
  std::string out;
  bool appended = false;
  auto r = ledger::write_export(fl.get(), fl.request({.prefix = "therapy-"}), [&](std::string_view chunk) {
    out.append(chunk);
    if (!appended) {
      appended = true;
      fl.append(300);  // events arriving while the export streams
    }
    return true;
  });
  BOOST_REQUIRE(r);
  BOOST_TEST(appended);
  const auto v = fl.verify(out);
  BOOST_TEST_REQUIRE(v.verified(), failures_of(v));
  BOOST_TEST(v.tree_size == 600u);
  BOOST_TEST(fl.get().tree_size() == 900u);
}

BOOST_AUTO_TEST_CASE(export_stops_when_the_sink_refuses_and_reports_progress) {
  auto& fl = shared_ledger();
  auto req = fl.request({.prefix = "therapy-"});
  std::uint64_t calls = 0, last_done = 0;
  req.progress = [&](const ledger::export_progress& p) {
    ++calls;
    BOOST_TEST(p.leaves_done >= last_done);
    last_done = p.leaves_done;
  };
  int chunks = 0;
  auto r = ledger::write_export(fl.get(), req, [&](std::string_view) { return ++chunks < 3; });
  BOOST_TEST(!r);
  BOOST_TEST(r.error() == boost::system::errc::operation_canceled);
  BOOST_TEST(chunks == 3);
  BOOST_TEST(calls > 0u);
}

BOOST_AUTO_TEST_CASE(export_refuses_bad_selections_and_unknown_keys) {
  auto& fl = shared_ledger();
  auto sink = [](std::string_view) { return true; };
  for (const auto& sel : {ledger::export_selection{}, ledger::export_selection{.stream = "a", .prefix = "b"},
                          ledger::export_selection{.from_seq = 5}, ledger::export_selection{.from_seq = 5, .to_seq = 4},
                          ledger::export_selection{.from_time_us = 9, .to_time_us = 8},
                          ledger::export_selection{.stream = ""}}) {
    auto r = ledger::write_export(fl.get(), fl.request(sel), sink);
    BOOST_TEST(r.error() == ledger::errc::invalid_argument);
  }
  auto req = fl.request({.stream = "therapy-2"});
  req.key_pem = [](std::string_view) { return std::nullopt; };
  auto r = ledger::write_export(fl.get(), req, sink);
  BOOST_TEST(r.error() == ledger::errc::invalid_argument);
  BOOST_TEST(r.error().message().find("no public key") != std::string::npos);
  // A stream that does not exist: an empty bundle that verifies.
  const auto v = fl.verify(fl.export_bundle(fl.request({.stream = "nobody"})));
  BOOST_TEST(v.verified(), failures_of(v));
  BOOST_TEST(v.events == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
