// ledger::query against a brute-force model of the log: every filter and
// combination, cursors and candidate budgets, with index entries both merged
// and in memory; that candidates come from the indexes (examined counts);
// the upgrade of a store from before the query indexes; fsck of the indexes.

#include "ledger_test_util.hpp"

#include "ledger/schema.hpp"

#include <map>

namespace vellum::ledger {
namespace {

using test::manual_clock;
using test::open_or_fail;
using test::statement_factory;
using test::test_options;

struct truth {
  std::uint64_t seq;
  std::string stream, type, author;
  std::uint64_t recorded_us, occurred_us;
};

// What the model says `f` matches, from seq `from`.
std::vector<std::uint64_t> expected(const std::vector<truth>& all, const event_filter& f, std::uint64_t from = 0) {
  std::vector<std::uint64_t> out;
  for (const auto& t : all) {
    if (t.seq < from) continue;
    if (f.type && t.type != *f.type) continue;
    if (f.author && t.author != *f.author) continue;
    if (f.stream && t.stream != *f.stream) continue;
    if (f.prefix && !t.stream.starts_with(*f.prefix)) continue;
    const std::uint64_t at = f.by_occurred_at ? t.occurred_us : t.recorded_us;
    if ((f.from_us && at < *f.from_us) || (f.to_us && at >= *f.to_us)) continue;
    out.push_back(t.seq);
  }
  return out;
}

// Every match through pages of `page` events and budgets of `budget`
// candidates, following the cursors as a client would.
std::vector<std::uint64_t> paged(const ledger& l, const event_filter& f, std::size_t page, std::uint64_t budget,
                                 std::uint64_t* examined = nullptr) {
  std::vector<std::uint64_t> out;
  std::optional<std::uint64_t> from = 0;
  for (int guard = 0; from && guard < 100000; ++guard) {
    std::size_t got = 0;
    std::optional<std::uint64_t> next;
    auto q = l.query(f, *from, budget, [&](const stored_event& e) {
      if (got == page) {
        next = e.seq;
        return false;
      }
      ++got;
      out.push_back(e.seq);
      return true;
    });
    BOOST_TEST_REQUIRE(q.has_value(), q.error().message());
    if (examined) *examined += q->examined;
    from = next ? next : q->resume;
  }
  return out;
}

struct built_log {
  vellum::test::temp_dir dir;
  manual_clock clock;
  options o;
  std::vector<truth> all;
  std::unique_ptr<ledger> l;
};

// 640 events over 13 streams, 3 types, 3 authors (string and object
// forms), occurred_at out of order, recorded_at one second per batch of 16;
// merges every 100 events, so some stream entries are in memory.
void build(built_log& b) {
  b.o = test_options(b.dir, b.clock);
  b.o.index_merge_events = 100;
  b.l = open_or_fail(b.o);
  statement_factory f;
  std::mt19937_64 rng(9);
  const char* types[] = {"plan.set", "note.added", "dose.changed"};
  for (int batch = 0; batch < 40; ++batch) {
    std::vector<statement> sts;
    std::vector<truth> pending;
    for (int i = 0; i < 16; ++i) {
      const auto k = rng();
      const std::string stream = (k % 5 == 0) ? "other-" + std::to_string(k % 3) : "pat-" + std::to_string(k % 10);
      f.type = types[(k >> 8) % 8 == 0 ? 2 : (k >> 11) % 2];  // dose.changed is rare
      const auto a = (k >> 20) % 3;
      if (a == 0) f.author = "u1";
      else if (a == 1) f.author = boost::json::object{{"id", "u2"}, {"name", "Dr. Two"}, {"role", "psychologist"}};
      else f.author = "u3";
      const std::uint64_t occurred = 1773000000000000ull + ((k >> 24) % 100000) * 1000000ull;
      f.occurred_at = crypto::format_time_us(occurred);
      sts.push_back(f.make(stream));
      pending.push_back({0, stream, f.type, a == 0 ? "u1" : a == 1 ? "u2" : "u3", 0, occurred});
    }
    auto outs = b.l->append(sts);
    for (std::size_t i = 0; i < outs.size(); ++i) {
      BOOST_TEST_REQUIRE(!outs[i].error);
      pending[i].seq = outs[i].rcpt.seq;
      pending[i].recorded_us = outs[i].rcpt.recorded_at_us;
      b.all.push_back(pending[i]);
    }
    b.clock.advance(1000000);
  }
}

std::vector<event_filter> filters(const std::vector<truth>& all) {
  const std::uint64_t r0 = all[100].recorded_us, r1 = all[400].recorded_us;
  const std::uint64_t o0 = 1773000000000000ull + 20000 * 1000000ull, o1 = o0 + 30000 * 1000000ull;
  std::vector<event_filter> out;
  out.push_back({});
  out.push_back({.type = "dose.changed"});
  out.push_back({.author = "u2"});
  out.push_back({.stream = "pat-3"});
  out.push_back({.prefix = "other-"});
  out.push_back({.prefix = "pat-"});
  out.push_back({.from_us = r0, .to_us = r1});
  out.push_back({.from_us = o0, .to_us = o1, .by_occurred_at = true});
  out.push_back({.type = "plan.set", .author = "u3"});
  out.push_back({.type = "note.added", .stream = "pat-7"});
  out.push_back({.author = "u1", .prefix = "other-"});
  out.push_back({.type = "plan.set", .author = "u1", .stream = "pat-1", .from_us = r0});
  out.push_back({.prefix = "pat-", .from_us = o0, .to_us = o1, .by_occurred_at = true});
  out.push_back({.type = "dose.changed", .to_us = r1});
  out.push_back({.type = "no.such.type"});
  out.push_back({.stream = "no-such-stream"});
  out.push_back({.prefix = "zzz"});
  return out;
}

BOOST_AUTO_TEST_SUITE(query)

BOOST_AUTO_TEST_CASE(every_filter_matches_the_model_through_pages_cursors_and_budgets) {
  built_log b;
  build(b);
  BOOST_TEST_REQUIRE(b.l->unmerged_events() > 0u);  // some entries in memory only
  for (const auto& f : filters(b.all)) {
    const auto want = expected(b.all, f);
    BOOST_TEST(paged(*b.l, f, 1000, 0) == want);
    BOOST_TEST(paged(*b.l, f, 7, 0) == want);
    BOOST_TEST(paged(*b.l, f, 5, 3) == want);  // candidate budgets smaller than a page
  }
  // From a cursor in the middle.
  const event_filter by_type{.type = "note.added"};
  BOOST_TEST(paged(*b.l, by_type, 1000, 0).size() == expected(b.all, by_type).size());
  std::vector<std::uint64_t> from_300;
  auto q = b.l->query(by_type, 300, 0, [&](const stored_event& e) {
    from_300.push_back(e.seq);
    return true;
  });
  BOOST_TEST_REQUIRE(q.has_value());
  BOOST_TEST(from_300 == expected(b.all, by_type, 300));
  BOOST_TEST(!q->resume.has_value());
  BOOST_TEST(q->tree_size == b.all.size());
  // After a merge of everything, and after reopening: the same answers.
  BOOST_TEST_REQUIRE(b.l->merge_index(1).has_value());
  for (const auto& f : filters(b.all)) BOOST_TEST(paged(*b.l, f, 1000, 0) == expected(b.all, f));
  b.l.reset();
  b.l = open_or_fail(b.o);
  for (const auto& f : filters(b.all)) BOOST_TEST(paged(*b.l, f, 50, 0) == expected(b.all, f));
}

BOOST_AUTO_TEST_CASE(candidates_come_from_the_indexes_not_from_a_walk_of_the_log) {
  built_log b;
  build(b);
  // Exact-value filters and their intersections read only their matches.
  for (const event_filter& f : {event_filter{.type = "dose.changed"}, event_filter{.author = "u2"},
                                event_filter{.stream = "pat-3"}, event_filter{.prefix = "other-"},
                                event_filter{.type = "plan.set", .author = "u3"},
                                event_filter{.type = "plan.set", .author = "u1", .stream = "pat-1"},
                                event_filter{.type = "no.such.type"}}) {
    std::uint64_t examined = 0;
    const auto got = paged(*b.l, f, 1000, 0, &examined);
    BOOST_TEST(got == expected(b.all, f));
    BOOST_TEST(examined == got.size());
  }
  // A recorded_at range reads only its own seqs.
  const event_filter window{.from_us = b.all[100].recorded_us, .to_us = b.all[200].recorded_us};
  std::uint64_t examined = 0;
  BOOST_TEST(paged(*b.l, window, 1000, 0, &examined).size() == examined);
  BOOST_TEST(examined == 96u);  // batches of 16 share a recorded_at: seqs 96..191
}

BOOST_AUTO_TEST_CASE(a_broad_prefix_is_refused_unless_a_scan_is_allowed) {
  vellum::test::temp_dir dir;
  manual_clock clock;
  auto l = open_or_fail(test_options(dir, clock));
  statement_factory f;
  std::vector<statement> sts;
  for (int i = 0; i < 4097; ++i) sts.push_back(f.make("p-" + std::to_string(i)));
  for (const auto& out : l->append(sts)) BOOST_TEST_REQUIRE(!out.error);
  std::uint64_t n = 0;
  auto count = [&](const stored_event&) {
    ++n;
    return true;
  };
  auto refused = l->query({.prefix = "p-"}, 0, 0, count);
  BOOST_TEST_REQUIRE(!refused.has_value());
  BOOST_TEST(refused.error() == errc::invalid_argument);
  BOOST_TEST(refused.error().message().find("4096 streams") != std::string::npos, refused.error().message());
  BOOST_TEST(l->query({.prefix = "p-"}, 0, 0, count, true).has_value());
  BOOST_TEST(n == 4097u);
  // Narrowed by type, the same prefix is fine.
  n = 0;
  BOOST_TEST(l->query({.type = "therapy.note", .prefix = "p-"}, 0, 0, count).has_value());
  BOOST_TEST(n == 4097u);
  // A prefix ends where a part of the name does: "p-1" is p-1 alone, not
  // p-10..p-19, p-100..p-199, p-1000..p-1999 (crypto/stream_name.hpp).
  n = 0;
  BOOST_TEST(l->query({.prefix = "p-1"}, 0, 0, count).has_value());
  BOOST_TEST(n == 1u);
  n = 0;
  BOOST_TEST(l->query({.prefix = "p"}, 0, 0, count, true).has_value());
  BOOST_TEST(n == 4097u);
  auto invalid = l->query({.stream = "a", .prefix = "a"}, 0, 0, count);
  BOOST_TEST(!invalid.has_value());
  auto backwards = l->query({.from_us = 5, .to_us = 5}, 0, 0, count);
  BOOST_TEST(!backwards.has_value());
}

BOOST_AUTO_TEST_CASE(a_store_from_before_the_query_indexes_gets_them_when_opened) {
  built_log b;
  build(b);
  b.l.reset();
  test::drop_query_indexes(b.o.data_dir, 2);
  auto before = fsck(b.o.data_dir);  // version 2 has no query indexes to check
  BOOST_TEST_REQUIRE(before.has_value());
  BOOST_TEST(before->ok(), (before->problems.empty() ? "" : before->problems.front().detail));
  b.l = open_or_fail(b.o);
  for (const auto& f : filters(b.all)) BOOST_TEST(paged(*b.l, f, 100, 0) == expected(b.all, f));
  b.l.reset();
  auto after = fsck(b.o.data_dir);
  BOOST_TEST_REQUIRE(after.has_value());
  BOOST_TEST(after->ok(), (after->problems.empty() ? "" : after->problems.front().detail));
}

BOOST_AUTO_TEST_CASE(fsck_names_a_missing_or_stray_query_index_entry) {
  built_log b;
  build(b);
  b.l.reset();
  auto clean = fsck(b.o.data_dir);
  BOOST_TEST_REQUIRE(clean.has_value());
  BOOST_TEST(clean->ok(), (clean->problems.empty() ? "" : clean->problems.front().detail));

  const truth& t = b.all[77];
  auto key = schema::term_key(schema::term_of(t.type), t.seq);
  test::raw_txn(b.o.data_dir, "by_type", true, [&](MDB_txn* txn, MDB_dbi dbi) {
    MDB_val k{key.size(), key.data()};
    BOOST_REQUIRE_EQUAL(mdb_del(txn, dbi, &k, nullptr), 0);
  });
  auto missing = fsck(b.o.data_dir);
  BOOST_TEST_REQUIRE(missing.has_value());
  BOOST_TEST_REQUIRE(!missing->ok());
  BOOST_TEST(missing->problems.front().seq == 77u);
  BOOST_TEST(missing->problems.front().what == "index type");

  // Put it back and add one that points nowhere.
  auto stray = schema::term_key(schema::term_of("u1"), 100000);
  test::raw_txn(b.o.data_dir, "by_type", true, [&](MDB_txn* txn, MDB_dbi dbi) {
    MDB_val k{key.size(), key.data()}, v{0, nullptr};
    BOOST_REQUIRE_EQUAL(mdb_put(txn, dbi, &k, &v, 0), 0);
  });
  test::raw_txn(b.o.data_dir, "by_author", true, [&](MDB_txn* txn, MDB_dbi dbi) {
    MDB_val k{stray.size(), stray.data()}, v{0, nullptr};
    BOOST_REQUIRE_EQUAL(mdb_put(txn, dbi, &k, &v, 0), 0);
  });
  auto extra = fsck(b.o.data_dir);
  BOOST_TEST_REQUIRE(extra.has_value());
  BOOST_TEST_REQUIRE(extra->problems.size() == 1u);
  BOOST_TEST(extra->problems.front().what == "index author");
}

BOOST_AUTO_TEST_CASE(fsck_of_a_log_with_voids_and_amendments_is_clean) {
  vellum::test::temp_dir dir;
  manual_clock clock;
  const options o = test_options(dir, clock);
  {
    auto l = open_or_fail(o);
    statement_factory f;
    auto first = test::append_one(*l, f.make("pat-1"));
    test::append_one(*l, f.make("pat-1", expected_revision::any(), first.event_id));
    f.voids = first.event_id;
    test::append_one(*l, f.make("pat-1"));
    auto c = l->corrections_of(first.event_id);
    BOOST_TEST_REQUIRE(c.has_value());
    BOOST_TEST(c->size() == 2u);
  }
  auto report = fsck(o.data_dir);
  BOOST_TEST_REQUIRE(report.has_value());
  BOOST_TEST(report->ok(), (report->problems.empty() ? "" : report->problems.front().detail));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace vellum::ledger
