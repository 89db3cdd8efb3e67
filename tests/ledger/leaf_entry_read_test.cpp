// ledger::leaf_entry(seq): the public leaf bytes alone, equal to what the
// receipt and the full event read carry.

#include "ledger_test_util.hpp"

#include <boost/test/unit_test.hpp>

using namespace vellum::ledger;

BOOST_AUTO_TEST_SUITE(leaf_entry_read)

BOOST_AUTO_TEST_CASE(returns_the_stored_leaf_entry_and_not_found_past_the_tree) {
  vellum::test::temp_dir dir;
  test::manual_clock clock;
  auto l = test::open_or_fail(test::test_options(dir, clock));
  test::statement_factory f;
  std::vector<receipt> receipts;
  for (int i = 0; i < 20; ++i) receipts.push_back(test::append_one(*l, f.make("s-" + std::to_string(i % 3))));
  for (const auto& r : receipts) {
    auto entry = l->leaf_entry(r.seq);
    BOOST_TEST_REQUIRE(entry.has_value());
    BOOST_TEST(*entry == r.leaf_entry);
    BOOST_TEST(*entry == l->event_by_seq(r.seq)->leaf_entry);
  }
  auto past = l->leaf_entry(20);
  BOOST_TEST_REQUIRE(!past.has_value());
  BOOST_TEST(past.error() == errc::not_found);
}

BOOST_AUTO_TEST_SUITE_END()
