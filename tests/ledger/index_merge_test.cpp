// The event-id and stream indexes in two parts: entries merged into LMDB in
// bulk, and the newer ones in memory (store::recent_index). Reads,
// idempotency, concurrency checks and fsck must not see the seam: not across merges, not across a reopen
// (memory rebuilt from the records), not for a version 1 store upgraded in
// place.

#include "ledger_test_util.hpp"

#include "ledger/schema.hpp"
#include "ledger/recent_index.hpp"

#include <lmdb.h>

#include <atomic>
#include <chrono>
#include <map>
#include <thread>

namespace vellum::ledger {
namespace {

using store::recent_index;
using test::manual_clock;
using test::open_or_fail;
using test::statement_factory;
using test::test_options;

BOOST_AUTO_TEST_SUITE(index_merge)

schema::uuid id(std::uint8_t n) {
  schema::uuid u{};
  u[0] = n;
  u[15] = static_cast<std::uint8_t>(n * 7);
  return u;
}

bool add_one(recent_index& r, std::uint64_t seq, const schema::uuid& u, std::string_view stream,
             std::uint64_t revision) {
  const recent_index::entry e{seq, u, stream, revision};
  return r.add(std::span<const recent_index::entry>(&e, 1));
}

BOOST_AUTO_TEST_CASE(recent_entries_count_only_inside_a_readers_snapshot) {
  recent_index r;
  r.clear(10);  // indexed = 10
  BOOST_TEST(add_one(r, 10, id(1), "a", 4));
  BOOST_TEST(add_one(r, 11, id(2), "b", 0));
  BOOST_TEST(add_one(r, 12, id(3), "a", 5));
  BOOST_TEST(add_one(r, 13, id(4), "a", 6));  // a batch being committed: tree_size is still 13
  BOOST_TEST(!add_one(r, 14, id(2), "c", 0));  // an id twice
  BOOST_TEST(!add_one(r, 14, id(9), "a", 9));  // a revision gap
  BOOST_TEST(!add_one(r, 15, id(9), "c", 0));  // a seq gap
  // A batch with a bad entry adds nothing.
  const std::vector<recent_index::entry> bad = {{14, id(7), "d", 0}, {15, id(1), "d", 1}};
  BOOST_TEST(!r.add(bad));
  BOOST_TEST(!r.seq_of_id(id(7), {10, 20}));
  BOOST_TEST(!r.head("d", {10, 20}));

  const recent_index::snapshot before_commit{10, 13};
  auto pinned = r.hold(before_commit);
  BOOST_TEST_REQUIRE(pinned.has_value());
  BOOST_TEST(r.head("a", before_commit).value() == 5u);
  BOOST_TEST(!r.head("c", before_commit));
  BOOST_TEST(r.seq_of("a", 5, before_commit).value() == 12u);
  BOOST_TEST(!r.seq_of("a", 6, before_commit));  // not committed for this reader
  BOOST_TEST(!r.seq_of("a", 3, before_commit));  // merged: read LMDB
  BOOST_TEST(r.seq_of_id(id(3), before_commit).value() == 12u);
  BOOST_TEST(!r.seq_of_id(id(4), before_commit));
  BOOST_TEST(!r.seq_of_id(id(9), before_commit));

  // A merge up to 12 leaves seqs 10 and 11 to LMDB for newer readers...
  const recent_index::snapshot after_merge{12, 14};
  BOOST_TEST(!r.seq_of("a", 4, after_merge));
  BOOST_TEST(!r.head("b", after_merge));
  BOOST_TEST(!r.seq_of_id(id(1), after_merge));
  BOOST_TEST(r.head("a", after_merge).value() == 6u);
  BOOST_TEST(r.seq_of_id(id(4), after_merge).value() == 13u);
  // ...but not to a reader pinned before it: nothing it counts is forgotten.
  r.forget_before(12);
  BOOST_TEST(r.seq_of("a", 4, before_commit).value() == 10u);
  BOOST_TEST(r.head("b", before_commit).value() == 0u);
  BOOST_TEST(r.seq_of_id(id(2), before_commit).value() == 11u);
  pinned.reset();
  r.forget_before(12);
  BOOST_TEST(!r.hold(before_commit).has_value());  // too old now: read again
  BOOST_TEST(r.hold(after_merge).has_value());
  BOOST_TEST(r.seq_of("a", 6, after_merge).value() == 13u);

  // A failed commit takes its entries back; the runs list what a merge writes.
  BOOST_TEST(add_one(r, 14, id(5), "b", 1));
  BOOST_TEST(add_one(r, 15, id(6), "c", 0));
  r.drop_from(14);
  BOOST_TEST(!r.seq_of_id(id(5), {12, 20}));
  BOOST_TEST(add_one(r, 14, id(5), "b", 1));  // the same seq again, as a retry would
  r.drop_from(14);
  const auto runs = r.stream_runs(12, 20);
  BOOST_TEST_REQUIRE(runs.size() == 1u);
  BOOST_TEST(runs[0].stream == "a");
  BOOST_TEST(runs[0].first_revision == 5u);
  BOOST_TEST((runs[0].seqs == std::vector<std::uint64_t>{12, 13}));
  const auto ids = r.id_runs(12, 20);
  BOOST_TEST_REQUIRE(ids.size() == 2u);
  BOOST_TEST((ids[0] == std::pair<schema::uuid, std::uint64_t>{id(3), 12}));
  BOOST_TEST((ids[1] == std::pair<schema::uuid, std::uint64_t>{id(4), 13}));
}

// fsck finds nothing wrong (else the first problem is the message).
void require_clean(const std::string& data_dir) {
  auto report = fsck(data_dir);
  BOOST_TEST_REQUIRE(report.has_value());
  BOOST_TEST(report->ok(), (report->problems.empty() ? "" : report->problems.front().detail));
}

// What a model of the log says each stream holds: seqs by revision.
using model = std::map<std::string, std::vector<std::uint64_t>>;

void check_streams(const ledger& l, const model& m) {
  for (const auto& [stream, seqs] : m) {
    auto rev = l.stream_revision(stream);
    BOOST_TEST_REQUIRE(rev.has_value(), stream);
    BOOST_TEST(*rev + 1 == seqs.size(), stream);
    auto fwd = l.read_stream(stream, 0, direction::forward, seqs.size() + 5);
    BOOST_TEST_REQUIRE(fwd.has_value(), stream);
    BOOST_TEST_REQUIRE(fwd->size() == seqs.size(), stream);
    for (std::size_t i = 0; i < seqs.size(); ++i) BOOST_TEST((*fwd)[i].seq == seqs[i]);
    const std::uint64_t from = seqs.size() / 2;
    auto back = l.read_stream(stream, from, direction::backward, 3);
    BOOST_TEST_REQUIRE(back.has_value(), stream);
    for (std::size_t i = 0; i < back->size(); ++i) BOOST_TEST((*back)[i].seq == seqs[from - i]);
  }
  BOOST_TEST(l.stream_revision("never-written").error() == errc::not_found);
}

BOOST_AUTO_TEST_CASE(reads_revisions_and_repeats_agree_across_merges_and_reopen) {
  vellum::test::temp_dir dir;
  manual_clock clock;
  options o = test_options(dir, clock);
  o.index_merge_events = 50;
  statement_factory f;
  model m;
  std::vector<std::pair<statement, std::uint64_t>> sent;  // stored, with its seq
  auto append_batches = [&](ledger& l, int batches) {
    for (int b = 0; b < batches; ++b) {
      std::vector<statement> batch;
      for (int i = 0; i < 37; ++i) {
        const std::string stream = "patient-" + std::to_string(f.rng()() % 9);
        // Exact revisions: the preparer reads heads from both parts.
        const auto& seqs = m[stream];
        std::uint64_t pending = 0;
        for (const auto& s : batch) pending += s.stream == stream ? 1 : 0;
        const std::uint64_t known = seqs.size() + pending;
        batch.push_back(f.make(stream, known == 0 ? expected_revision::no_stream()
                                                  : expected_revision::exact(known - 1)));
      }
      // A stale revision in the middle is refused and leaves the rest alone;
      // a repeat of an earlier statement (merged or not) gets its receipt,
      // the same id with other content is a conflict.
      batch.insert(batch.begin() + 10, f.make("patient-0", expected_revision::exact(100000)));
      std::size_t repeated = 0;
      const bool with_repeat = !sent.empty();
      if (with_repeat) {
        repeated = f.rng()() % sent.size();
        batch.insert(batch.begin() + 20, sent[repeated].first);
        batch.insert(batch.begin() + 21, f.make_with_id(sent[repeated].first.event_id, "patient-0",
                                                        expected_revision::any(), {}, 16, "other"));
      }
      clock.advance(1000);
      auto out = l.append(batch);
      for (std::size_t i = 0; i < out.size(); ++i) {
        if (i == 10) {
          BOOST_TEST(out[i].error == errc::revision_conflict);
          continue;
        }
        if (with_repeat && i == 20) {
          BOOST_TEST_REQUIRE(!out[i].error, out[i].error.message());
          BOOST_TEST(out[i].duplicate);
          BOOST_TEST(out[i].rcpt.seq == sent[repeated].second);
          continue;
        }
        if (with_repeat && i == 21) {
          BOOST_TEST(out[i].error == errc::event_id_conflict);
          continue;
        }
        BOOST_TEST_REQUIRE(!out[i].error, out[i].error.message());
        sent.emplace_back(batch[i], out[i].rcpt.seq);
        auto& seqs = m[batch[i].stream];
        BOOST_TEST(out[i].rcpt.revision == seqs.size());
        seqs.push_back(out[i].rcpt.seq);
      }
      check_streams(l, m);
      for (int k = 0; k < 5; ++k) {
        const auto& [st, seq] = sent[f.rng()() % sent.size()];
        auto e = l.event_by_id(st.event_id);
        BOOST_TEST_REQUIRE(e.has_value(), st.event_id);
        BOOST_TEST(e->seq == seq);
      }
    }
  };
  {
    auto l = open_or_fail(o);
    append_batches(*l, 7);  // 259 events: merged at 74, 148, 222; 37 in memory
  }
  require_clean(o.data_dir);
  {
    auto l = open_or_fail(o);  // memory rebuilt from the 37 unmerged records
    check_streams(*l, m);
    append_batches(*l, 3);
  }
  require_clean(o.data_dir);
  // Opened with merging after every batch, the backlog is merged at once.
  o.index_merge_events = 0;
  {
    auto l = open_or_fail(o);
    append_batches(*l, 1);
  }
  require_clean(o.data_dir);
}

BOOST_AUTO_TEST_CASE(readers_during_merges_see_every_revision_once) {
  vellum::test::temp_dir dir;
  manual_clock clock;
  options o = test_options(dir, clock);
  o.index_merge_events = 16;
  auto l = open_or_fail(o);
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};  // Boost.Test assertions are not thread-safe
  std::atomic<int> reads{0};
  std::thread reader([&] {
    while (!done.load()) {
      for (const char* stream : {"s-0", "s-1", "s-2"}) {
        auto rev = l->stream_revision(stream);
        if (!rev) {
          if (rev.error() != errc::not_found) ++failures;
          continue;
        }
        auto events = l->read_stream(stream, 0, direction::forward, 100000);
        if (!events || events->size() < *rev + 1) {
          ++failures;
          continue;
        }
        for (std::size_t i = 0; i < events->size(); ++i) {
          if ((*events)[i].revision != i || (*events)[i].stream != stream) ++failures;
        }
        ++reads;
      }
    }
  });
  statement_factory f;
  for (int b = 0; b < 60; ++b) {
    std::vector<statement> batch;
    for (int i = 0; i < 7; ++i) batch.push_back(f.make("s-" + std::to_string(i % 3)));
    for (const auto& out : l->append(batch)) {
      if (out.error) ++failures;
    }
  }
  done = true;
  reader.join();
  BOOST_TEST(failures.load() == 0);
  BOOST_TEST(reads.load() > 0);
  BOOST_TEST(*l->stream_revision("s-0") == 179u);  // 3 of every 7, 60 batches
}

// Makes the store look exactly as version 1 left it: every entry merged, no
// "indexed", no query indexes, schema_version 1.
void downgrade_to_version_1(const std::string& data_dir) {
  test::raw_txn(data_dir, "meta", true, [](MDB_txn* txn, MDB_dbi meta) {
    MDB_val k{schema::meta_key::indexed.size(), const_cast<char*>(schema::meta_key::indexed.data())};
    BOOST_REQUIRE_EQUAL(mdb_del(txn, meta, &k, nullptr), 0);
  });
  test::drop_query_indexes(data_dir, 1);
}

std::uint64_t stored_u64(const std::string& data_dir, std::string_view key, bool u32 = false) {
  std::uint64_t out = 0;
  test::raw_txn(data_dir, "meta", false, [&](MDB_txn* txn, MDB_dbi meta) {
    MDB_val k{key.size(), const_cast<char*>(key.data())};
    MDB_val v{};
    BOOST_REQUIRE_EQUAL(mdb_get(txn, meta, &k, &v), 0);
    const byte_view value(static_cast<const std::uint8_t*>(v.mv_data), v.mv_size);
    out = u32 ? *schema::decode_u32(value) : *schema::decode_u64(value);
  });
  return out;
}

BOOST_AUTO_TEST_CASE(merge_on_demand_merges_only_past_its_threshold) {
  vellum::test::temp_dir dir;
  manual_clock clock;
  options o = test_options(dir, clock);
  o.index_merge_events = 1000;
  statement_factory f;
  std::vector<statement> batch;
  for (int i = 0; i < 100; ++i) batch.push_back(f.make("m-" + std::to_string(i % 3)));
  {
    auto l = open_or_fail(o);
    for (const auto& out : l->append(batch)) BOOST_TEST_REQUIRE(!out.error);
    BOOST_TEST(l->unmerged_events() == 100u);
    BOOST_TEST(l->merge_index(101).value() == 0u);
    BOOST_TEST(l->unmerged_events() == 100u);
    BOOST_TEST(l->merge_index(100).value() == 100u);
    BOOST_TEST(l->unmerged_events() == 0u);
    BOOST_TEST(l->merge_index(0).value() == 0u);  // nothing left
    BOOST_TEST(*l->stream_revision("m-0") == 33u);
    BOOST_TEST(l->event_by_id(batch[57].event_id)->seq == 57u);
    auto repeat = test::append_one(*l, batch[12]);
    BOOST_TEST(repeat.seq == 12u);
  }
  BOOST_TEST(stored_u64(o.data_dir, schema::meta_key::indexed) == 100u);
  require_clean(o.data_dir);
}

BOOST_AUTO_TEST_CASE(sequencer_merges_when_idle_once_past_its_threshold) {
  vellum::test::temp_dir dir;
  manual_clock clock;
  options o = test_options(dir, clock);
  o.index_merge_events = 100000;
  auto l = open_or_fail(o);
  statement_factory f;
  std::atomic<int> done{0};
  {
    sequencer seq(*l, 1000, 16, /*idle_merge=*/50);
    for (int i = 0; i < 40; ++i) {
      BOOST_TEST_REQUIRE(seq.submit(f.make("idle"), [&](append_outcome) { ++done; }).has_value());
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (done.load() < 40 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    BOOST_TEST_REQUIRE(done.load() == 40);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    BOOST_TEST(l->unmerged_events() == 40u);  // idle, but below 50
    for (int i = 0; i < 20; ++i) {
      BOOST_TEST_REQUIRE(seq.submit(f.make("idle"), [&](append_outcome) { ++done; }).has_value());
    }
    while (l->unmerged_events() != 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    BOOST_TEST(l->unmerged_events() == 0u);
  }
  BOOST_TEST(done.load() == 60);
  BOOST_TEST(*l->stream_revision("idle") == 59u);
}

BOOST_AUTO_TEST_CASE(version_1_store_is_upgraded_in_place_and_checks_clean_before_and_after) {
  vellum::test::temp_dir dir;
  manual_clock clock;
  options o = test_options(dir, clock);
  o.index_merge_events = 0;  // as version 1 wrote: indexed with each batch
  statement_factory f;
  std::vector<statement> batch;
  for (int i = 0; i < 30; ++i) batch.push_back(f.make("old-" + std::to_string(i % 4)));
  std::string checkpoint;
  {
    auto l = open_or_fail(o);
    for (const auto& out : l->append(batch)) BOOST_TEST_REQUIRE(!out.error);
    checkpoint = l->latest_checkpoint()->note;
  }
  downgrade_to_version_1(o.data_dir);
  require_clean(o.data_dir);

  o.index_merge_events = 64;
  {
    auto l = open_or_fail(o);
    BOOST_TEST(l->latest_checkpoint()->note == checkpoint);
    BOOST_TEST(*l->stream_revision("old-1") == 7u);  // 8 of the 30
    auto next = test::append_one(*l, f.make("old-1", expected_revision::exact(7)));
    BOOST_TEST(next.revision == 8u);
  }
  BOOST_TEST(stored_u64(o.data_dir, schema::meta_key::schema_version, true) == schema::version);
  BOOST_TEST(stored_u64(o.data_dir, schema::meta_key::indexed) == 30u);
  require_clean(o.data_dir);
}

BOOST_AUTO_TEST_CASE(store_of_a_newer_schema_version_is_refused_with_a_reason) {
  vellum::test::temp_dir dir;
  manual_clock clock;
  const options o = test_options(dir, clock);
  { auto l = open_or_fail(o); }
  test::raw_txn(o.data_dir, "meta", true, [](MDB_txn* txn, MDB_dbi meta) {
    auto future = schema::encode_u32(schema::version + 1);
    MDB_val k{schema::meta_key::schema_version.size(),
              const_cast<char*>(schema::meta_key::schema_version.data())};
    MDB_val v{future.size(), future.data()};
    BOOST_REQUIRE_EQUAL(mdb_put(txn, meta, &k, &v, 0), 0);
  });
  auto l = ledger::open(o);
  BOOST_TEST_REQUIRE(!l);
  const std::string why = l.error().message();
  BOOST_TEST(why.find("schema version " + std::to_string(schema::version + 1)) !=
             std::string::npos, why);
  auto report = fsck(o.data_dir);
  BOOST_TEST_REQUIRE(report.has_value());
  BOOST_TEST(!report->ok());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace vellum::ledger
