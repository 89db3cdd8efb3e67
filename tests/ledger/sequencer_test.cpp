// The group-commit sequencer: many submitters, bounded queue, orderly stop.

#include "ledger_test_util.hpp"

#include <condition_variable>
#include <future>
#include <mutex>
#include <set>
#include <thread>

namespace vellum::ledger {
namespace {

using test::manual_clock;
using test::open_or_fail;
using test::statement_factory;
using test::test_options;

BOOST_AUTO_TEST_SUITE(ledger_sequencer)

BOOST_AUTO_TEST_CASE(many_threads_submitting_concurrently_all_complete_in_batches) {
  vellum::test::temp_dir dir;
  manual_clock clock;
  auto l = open_or_fail(test_options(dir, clock));
  constexpr int threads = 8;
  constexpr int per_thread = 150;
  // Sign up front: the threads then only race on submit.
  std::vector<std::vector<statement>> work(threads);
  for (int t = 0; t < threads; ++t) {
    statement_factory f(1000 + t);
    for (int i = 0; i < per_thread; ++i) work[t].push_back(f.make("s" + std::to_string(i % 7)));
  }
  std::mutex mu;
  std::vector<receipt> receipts;
  std::vector<std::uint64_t> commits;
  std::atomic<int> completed{0};
  std::atomic<int> failures{0};
  {
    sequencer seq(*l, 4096, 64);
    seq.on_commit([&](std::uint64_t size) {
      std::lock_guard lock(mu);
      commits.push_back(size);
    });
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        for (auto& s : work[t]) {
          // Boost.Test assertions are not thread-safe: count failures.
          auto r = seq.submit(s, [&](append_outcome o) {
            if (o.error) ++failures;
            std::lock_guard lock(mu);
            receipts.push_back(std::move(o.rcpt));
            ++completed;
          });
          if (!r) ++failures;
        }
      });
    }
    for (auto& th : pool) th.join();
    seq.stop();  // drains what is queued
    BOOST_TEST(seq.queue_depth() == 0u);
  }
  BOOST_TEST(failures.load() == 0);
  BOOST_TEST(completed.load() == threads * per_thread);
  BOOST_TEST(l->tree_size() == std::uint64_t{threads * per_thread});
  std::set<std::uint64_t> seqs;
  for (const auto& r : receipts) seqs.insert(r.seq);
  BOOST_TEST(seqs.size() == receipts.size());
  BOOST_REQUIRE(!commits.empty());
  BOOST_TEST(commits.back() == std::uint64_t{threads * per_thread});
  BOOST_TEST(std::is_sorted(commits.begin(), commits.end()));
  BOOST_TEST_MESSAGE("batches committed: " << commits.size());
  for (std::size_t i = 0; i < receipts.size(); i += 53) {
    test::verify_receipt(receipts[i], l->verifier_key());
  }
}

BOOST_AUTO_TEST_CASE(full_queue_says_overloaded_and_stop_says_shutting_down) {
  vellum::test::temp_dir dir;
  manual_clock clock;
  auto l = open_or_fail(test_options(dir, clock));
  statement_factory f;
  sequencer seq(*l, 2, 1);
  // Hold the sequencer thread inside the first completion.
  std::promise<void> entered, release;
  auto released = release.get_future().share();
  // Completions run on a sequencer thread, where Boost.Test assertions are
  // not safe: they count.
  std::atomic<int> done{0};
  std::atomic<int> failed{0};
  BOOST_REQUIRE(seq.submit(f.make("a"), [&](append_outcome o) {
    if (o.error) ++failed;
    entered.set_value();
    released.wait();
    ++done;
  }));
  entered.get_future().wait();
  auto count = [&](append_outcome o) {
    if (o.error) ++failed;
    ++done;
  };
  BOOST_REQUIRE(seq.submit(f.make("a"), count));
  BOOST_REQUIRE(seq.submit(f.make("a"), count));
  BOOST_TEST(seq.queue_depth() == 2u);
  auto refused = seq.submit(f.make("a"), count);
  BOOST_REQUIRE(!refused);
  BOOST_TEST(refused.error() == make_error_code(errc::overloaded));
  release.set_value();
  seq.stop();
  BOOST_TEST(done.load() == 3);
  BOOST_TEST(failed.load() == 0);
  auto late = seq.submit(f.make("a"), count);
  BOOST_REQUIRE(!late);
  BOOST_TEST(late.error() == make_error_code(errc::shutting_down));
  BOOST_TEST(l->tree_size() == 3u);
}

BOOST_AUTO_TEST_CASE(conflicts_and_duplicates_complete_through_the_sequencer) {
  vellum::test::temp_dir dir;
  manual_clock clock;
  auto l = open_or_fail(test_options(dir, clock));
  statement_factory f;
  const statement first = f.make("x", expected_revision::no_stream());
  std::vector<append_outcome> outcomes(3);
  {
    sequencer seq(*l);
    BOOST_REQUIRE(seq.submit(first, [&](append_outcome o) { outcomes[0] = std::move(o); }));
    BOOST_REQUIRE(seq.submit(f.make("x", expected_revision::no_stream()),
                             [&](append_outcome o) { outcomes[1] = std::move(o); }));
    BOOST_REQUIRE(seq.submit(first, [&](append_outcome o) { outcomes[2] = std::move(o); }));
  }  // the destructor stops and drains
  BOOST_TEST(!outcomes[0].error);
  BOOST_TEST(outcomes[1].error == make_error_code(errc::revision_conflict));
  BOOST_TEST(outcomes[2].duplicate);
  BOOST_TEST(outcomes[2].rcpt.seq == outcomes[0].rcpt.seq);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace vellum::ledger
