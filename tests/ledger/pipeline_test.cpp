// prepare() / commit(): a batch is sequenced on top of batches prepared but
// not yet committed, commits happen in prepare order whatever the calling
// threads do, and a batch dropped or failed takes the batches built on it
// down with it while the store stays exactly as it was.

#include "ledger_test_util.hpp"

#include <future>
#include <thread>

namespace vellum::ledger {
namespace {

using test::manual_clock;
using test::open_or_fail;
using test::statement_factory;
using test::test_options;

std::unique_ptr<prepared_batch> prepare_all(ledger& l, const std::vector<statement>& b) {
  return l.prepare(std::span<const statement>(b));
}

BOOST_AUTO_TEST_SUITE(ledger_pipeline)

BOOST_AUTO_TEST_CASE(a_batch_prepared_on_an_uncommitted_one_sees_its_streams_ids_and_nodes) {
  vellum::test::temp_dir dir;
  manual_clock clock;
  const options o = test_options(dir, clock);
  auto l = open_or_fail(o);
  statement_factory f;
  const std::vector<statement> first = {f.make("p", expected_revision::no_stream()),
                                        f.make("p", expected_revision::exact(0)),
                                        f.make("q")};
  // Every kind of dependency on the first, still uncommitted, batch.
  const std::vector<statement> second = {
      f.make("p", expected_revision::exact(1)),        // its revision
      f.make("q", expected_revision::no_stream()),     // conflict: q exists there
      first[2],                                        // idempotent repeat
      f.make_with_id(first[0].event_id, "p"),          // same id, other content
      f.make("p", expected_revision::any(), first[1].event_id),   // amends one of its events
      f.make("r", expected_revision::any(), first[1].event_id)};  // ... but from another stream
  auto a = prepare_all(*l, first);
  auto b = prepare_all(*l, second);
  BOOST_TEST(l->tree_size() == 0u);  // nothing visible before its commit
  auto out_a = l->commit(std::move(a));
  BOOST_TEST(l->tree_size() == 3u);
  auto out_b = l->commit(std::move(b));
  BOOST_REQUIRE_EQUAL(out_a.size(), 3u);
  BOOST_REQUIRE_EQUAL(out_b.size(), 6u);
  for (const auto& x : out_a) BOOST_TEST(!x.error);
  BOOST_TEST(!out_b[0].error);
  BOOST_TEST(out_b[0].rcpt.seq == 3u);
  BOOST_TEST(out_b[0].rcpt.revision == 2u);
  BOOST_TEST(out_b[1].error == make_error_code(errc::revision_conflict));
  BOOST_TEST((out_b[1].current_revision == std::optional<std::uint64_t>(0)));
  BOOST_TEST(out_b[2].duplicate);
  BOOST_TEST(out_b[2].rcpt.seq == out_a[2].rcpt.seq);
  BOOST_TEST(out_b[2].rcpt.checkpoint == out_a[2].rcpt.checkpoint);
  BOOST_TEST(out_b[3].error == make_error_code(errc::event_id_conflict));
  BOOST_TEST(!out_b[4].error);
  BOOST_TEST(out_b[4].rcpt.seq == 4u);
  BOOST_TEST(out_b[5].error == make_error_code(errc::reference_not_found));
  BOOST_TEST(l->tree_size() == 5u);

  const std::string vkey = l->verifier_key();
  for (const auto& x : out_a) test::verify_receipt(x.rcpt, vkey);
  test::verify_receipt(out_b[0].rcpt, vkey);
  test::verify_receipt(out_b[2].rcpt, vkey);
  test::verify_receipt(out_b[4].rcpt, vkey);
  auto amendments = l->corrections_of(first[1].event_id);
  BOOST_REQUIRE(amendments);
  BOOST_TEST(*amendments == std::vector<std::uint64_t>{4});
  // The same bytes as appending one batch after the other.
  auto latest = l->latest_checkpoint();
  BOOST_REQUIRE(latest);
  BOOST_TEST(latest->body.size == 5u);
  l.reset();
  auto report = fsck(o.data_dir);
  BOOST_REQUIRE(report);
  BOOST_TEST(report->ok());
  BOOST_TEST(report->tree_size == 5u);
}

BOOST_AUTO_TEST_CASE(commits_wait_for_the_batches_prepared_before_them) {
  vellum::test::temp_dir dir;
  manual_clock clock;
  auto l = open_or_fail(test_options(dir, clock));
  statement_factory f;
  const std::vector<statement> first = {f.make("a"), f.make("a")};
  const std::vector<statement> second = {f.make("a", expected_revision::exact(1))};
  auto a = prepare_all(*l, first);
  auto b = prepare_all(*l, second);
  // The second commit starts first, on another thread: it must wait.
  auto later = std::async(std::launch::async, [&] { return l->commit(std::move(b)); });
  BOOST_TEST((later.wait_for(std::chrono::milliseconds(100)) == std::future_status::timeout));
  BOOST_TEST(l->tree_size() == 0u);
  auto out_a = l->commit(std::move(a));
  auto out_b = later.get();
  BOOST_REQUIRE_EQUAL(out_b.size(), 1u);
  BOOST_TEST(!out_a[0].error);
  BOOST_TEST(!out_b[0].error);
  BOOST_TEST(out_b[0].rcpt.seq == 2u);
  BOOST_TEST(out_b[0].rcpt.revision == 2u);
  test::verify_receipt(out_b[0].rcpt, l->verifier_key());
}

BOOST_AUTO_TEST_CASE(a_dropped_batch_fails_the_batches_built_on_it_and_preparing_starts_again) {
  vellum::test::temp_dir dir;
  manual_clock clock;
  const options o = test_options(dir, clock);
  auto l = open_or_fail(o);
  statement_factory f;
  const auto kept = test::append_one(*l, f.make("s"));
  const std::vector<statement> first = {f.make("s", expected_revision::exact(0))};
  const std::vector<statement> second = {f.make("s", expected_revision::exact(1))};
  auto a = prepare_all(*l, first);
  auto b = prepare_all(*l, second);
  a.reset();  // dropped: never committed
  auto out_b = l->commit(std::move(b));
  BOOST_REQUIRE_EQUAL(out_b.size(), 1u);
  BOOST_TEST(out_b[0].error == make_error_code(errc::shutting_down));
  BOOST_TEST(l->tree_size() == 1u);
  // Prepared again from the store: seq 1, and revision 0 is still current.
  const std::vector<statement> again = {f.make("s", expected_revision::exact(1)),
                                        f.make("s", expected_revision::exact(0))};
  auto out = l->commit(prepare_all(*l, again));
  BOOST_TEST(out[0].error == make_error_code(errc::revision_conflict));
  BOOST_TEST(!out[1].error);
  BOOST_TEST(out[1].rcpt.seq == 1u);
  BOOST_TEST(out[1].rcpt.revision == 1u);
  test::verify_receipt(kept, l->verifier_key());
  test::verify_receipt(out[1].rcpt, l->verifier_key());
  l.reset();
  auto report = fsck(o.data_dir);
  BOOST_REQUIRE(report);
  BOOST_TEST(report->ok());
}

BOOST_AUTO_TEST_CASE(appends_from_many_threads_interleave_prepare_and_commit_safely) {
  vellum::test::temp_dir dir;
  manual_clock clock;
  const options o = test_options(dir, clock);
  auto l = open_or_fail(o);
  constexpr int threads = 4;
  constexpr int batches = 25;
  std::vector<std::vector<std::vector<statement>>> work(threads);
  for (int t = 0; t < threads; ++t) {
    statement_factory f(500 + t);
    for (int k = 0; k < batches; ++k) {
      std::vector<statement> b;
      for (int i = 0; i < 8; ++i) b.push_back(f.make("shared-" + std::to_string(i % 3)));
      work[t].push_back(std::move(b));
    }
  }
  std::atomic<int> failures{0};
  std::vector<std::thread> pool;
  std::mutex mu;
  std::vector<receipt> receipts;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (const auto& b : work[t]) {
        for (auto& x : l->append(b)) {
          if (x.error) ++failures;
          std::lock_guard lock(mu);
          receipts.push_back(std::move(x.rcpt));
        }
      }
    });
  }
  for (auto& th : pool) th.join();
  BOOST_TEST(failures.load() == 0);
  BOOST_TEST(l->tree_size() == std::uint64_t{threads * batches * 8});
  for (std::size_t i = 0; i < receipts.size(); i += 37) test::verify_receipt(receipts[i], l->verifier_key());
  for (const char* s : {"shared-0", "shared-1", "shared-2"}) {
    auto events = l->read_stream(s, 0, direction::forward, 1000);
    BOOST_REQUIRE(events);
    for (std::size_t r = 0; r < events->size(); ++r) BOOST_TEST((*events)[r].revision == r);
  }
  l.reset();
  auto report = fsck(o.data_dir);
  BOOST_REQUIRE(report);
  BOOST_TEST(report->ok());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace vellum::ledger
