// The event store's contract: appends, reads, idempotency, concurrency,
// reopening, the clock, the log key and map growth.

#include "base/file.hpp"
#include "ledger_test_util.hpp"

#include <filesystem>
#include <map>
#include <thread>

namespace vellum::ledger {
namespace {

using test::append_one;
using test::manual_clock;
using test::open_or_fail;
using test::statement_factory;
using test::test_options;
using test::verify_receipt;

BOOST_AUTO_TEST_SUITE(ledger_store)

BOOST_AUTO_TEST_CASE(new_log_has_empty_signed_checkpoint_and_key_file_0600) {
  vellum::test::temp_dir dir;
  manual_clock clock;
  auto l = open_or_fail(test_options(dir, clock));
  BOOST_TEST(l->tree_size() == 0u);
  BOOST_TEST(l->origin() == "vellum.localhost/log");
  auto cp = l->latest_checkpoint();
  BOOST_REQUIRE(cp);
  BOOST_TEST(cp->body.size == 0u);
  BOOST_TEST((cp->body.root == crypto::empty_root()));
  auto v = crypto::note_verifier::from_vkey(l->verifier_key());
  BOOST_REQUIRE(v);
  BOOST_TEST(crypto::open_note(cp->note, std::span<const crypto::note_verifier>(&*v, 1)).has_value());
  const auto key_path = dir.path() / "data" / "log-key.pem";
  BOOST_REQUIRE(std::filesystem::exists(key_path));
  const auto perms = std::filesystem::status(key_path).permissions();
  BOOST_TEST(((perms & std::filesystem::perms::all) ==
              (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write)));
}

BOOST_AUTO_TEST_CASE(thousands_of_events_across_streams_verify_and_read_back_in_order) {
  vellum::test::temp_dir dir;
  manual_clock clock;
  auto l = open_or_fail(test_options(dir, clock));
  statement_factory f;
  constexpr int streams = 37;
  constexpr int total = 3000;
  std::vector<statement> all;
  std::vector<receipt> receipts;
  std::map<std::string, std::vector<std::size_t>> by_stream;
  for (int i = 0; i < total;) {
    const int n = 1 + (i * 7) % 113;  // batches of varying size
    std::vector<statement> batch;
    for (int k = 0; k < n && i < total; ++k, ++i) {
      batch.push_back(f.make("patient-" + std::to_string(i % streams)));
    }
    clock.advance(1000);
    auto out = l->append(batch);
    BOOST_REQUIRE_EQUAL(out.size(), batch.size());
    for (std::size_t k = 0; k < batch.size(); ++k) {
      BOOST_REQUIRE(!out[k].error);
      BOOST_TEST(!out[k].duplicate);
      by_stream[batch[k].stream].push_back(all.size());
      all.push_back(batch[k]);
      receipts.push_back(out[k].rcpt);
    }
  }
  BOOST_TEST(l->tree_size() == std::uint64_t{total});
  const std::string vkey = l->verifier_key();
  for (std::size_t i = 0; i < receipts.size(); ++i) {
    BOOST_TEST_CONTEXT("seq " << i) {
      BOOST_TEST(receipts[i].seq == i);
      verify_receipt(receipts[i], vkey);
    }
  }
  // Global order.
  std::uint64_t seq = 0;
  while (seq < total) {
    auto page = l->read_all(seq, 500);
    BOOST_REQUIRE(page);
    BOOST_REQUIRE(!page->empty());
    for (const stored_event& e : *page) {
      BOOST_TEST(e.seq == seq);
      BOOST_TEST(e.jws == all[seq].jws);
      BOOST_TEST(e.event_id == all[seq].event_id);
      BOOST_TEST(e.record == receipts[seq].record);
      BOOST_TEST((e.salt == receipts[seq].salt));
      BOOST_TEST((e.leaf_entry == receipts[seq].leaf_entry));
      ++seq;
    }
  }
  BOOST_TEST(l->read_all(total, 10)->empty());
  // Per stream, forwards and backwards.
  for (const auto& [stream, idx] : by_stream) {
    auto fwd = l->read_stream(stream, 0, direction::forward, 10000);
    BOOST_REQUIRE(fwd);
    BOOST_REQUIRE_EQUAL(fwd->size(), idx.size());
    for (std::size_t r = 0; r < idx.size(); ++r) {
      BOOST_TEST((*fwd)[r].revision == r);
      BOOST_TEST((*fwd)[r].seq == idx[r]);
      BOOST_TEST((*fwd)[r].stream == stream);
    }
    auto back = l->read_stream(stream, idx.size() + 5, direction::backward, 3);
    BOOST_REQUIRE(back);
    BOOST_REQUIRE_EQUAL(back->size(), 3u);
    BOOST_TEST((*back)[0].revision == idx.size() - 1);
    BOOST_TEST((*back)[2].revision == idx.size() - 3);
    auto rev = l->stream_revision(stream);
    BOOST_REQUIRE(rev);
    BOOST_TEST(*rev == idx.size() - 1);
    auto middle = l->read_stream(stream, 5, direction::forward, 4);
    BOOST_REQUIRE(middle);
    BOOST_REQUIRE_EQUAL(middle->size(), 4u);
    BOOST_TEST(middle->front().revision == 5u);
  }
  // By id, and receipts on demand equal the ones append returned.
  for (std::size_t i = 0; i < total; i += 97) {
    auto e = l->event_by_id(all[i].event_id);
    BOOST_REQUIRE(e);
    BOOST_TEST(e->seq == i);
    auto r = l->receipt_for(i);
    BOOST_REQUIRE(r);
    BOOST_TEST(r->checkpoint == receipts[i].checkpoint);
    BOOST_TEST((r->inclusion_proof == receipts[i].inclusion_proof));
  }
}

BOOST_AUTO_TEST_CASE(reads_of_unknown_things_say_not_found_or_invalid) {
  vellum::test::temp_dir dir;
  manual_clock clock;
  auto l = open_or_fail(test_options(dir, clock));
  statement_factory f;
  append_one(*l, f.make("s"));
  BOOST_TEST(l->event_by_seq(1).error() == make_error_code(errc::not_found));
  BOOST_TEST(l->event_by_id("00000000-0000-4000-8000-000000000000").error() ==
             make_error_code(errc::not_found));
  BOOST_TEST(l->stream_revision("nope").error() == make_error_code(errc::not_found));
  BOOST_TEST(l->read_stream("nope", 0, direction::forward, 5).error() ==
             make_error_code(errc::not_found));
  BOOST_TEST(l->read_stream("s", 0, direction::forward, 0).error() ==
             make_error_code(errc::invalid_argument));
  BOOST_TEST(l->read_stream("s", 1, direction::forward, 5)->empty());
  BOOST_TEST(l->inclusion_proof(0, 2).error() == make_error_code(errc::invalid_argument));
  BOOST_TEST(l->inclusion_proof(1, 1).error() == make_error_code(errc::invalid_argument));
  BOOST_TEST(l->consistency_proof(1, 2).error() == make_error_code(errc::invalid_argument));
  BOOST_TEST(l->checkpoint_at(5).error() == make_error_code(errc::not_found));
  BOOST_TEST(l->receipt_for(1).error() == make_error_code(errc::not_found));
}

BOOST_AUTO_TEST_CASE(duplicate_returns_first_receipt_even_when_its_revision_is_stale) {
  vellum::test::temp_dir dir;
  manual_clock clock;
  auto l = open_or_fail(test_options(dir, clock));
  statement_factory f;
  const statement first = f.make("course-1", expected_revision::no_stream());
  const receipt original = append_one(*l, first);
  for (int i = 0; i < 5; ++i) append_one(*l, f.make("course-1"));
  clock.advance(5'000'000);
  // Resent: its no_stream expectation is stale now, but idempotency wins.
  auto out = l->append(std::span<const statement>(&first, 1));
  BOOST_REQUIRE(!out[0].error);
  BOOST_TEST(out[0].duplicate);
  BOOST_TEST(out[0].rcpt.seq == original.seq);
  BOOST_TEST(out[0].rcpt.checkpoint == original.checkpoint);
  BOOST_TEST(out[0].rcpt.tree_size == original.tree_size);
  BOOST_TEST((out[0].rcpt.inclusion_proof == original.inclusion_proof));
  BOOST_TEST(out[0].rcpt.record == original.record);
  BOOST_TEST((out[0].rcpt.salt == original.salt));
  BOOST_TEST(l->tree_size() == 6u);
  auto cp = l->latest_checkpoint();
  BOOST_TEST(cp->body.size == 6u);  // no checkpoint signed for a duplicate-only batch
}

BOOST_AUTO_TEST_CASE(same_event_id_with_other_content_is_a_conflict) {
  vellum::test::temp_dir dir;
  manual_clock clock;
  auto l = open_or_fail(test_options(dir, clock));
  statement_factory f;
  const statement a = f.make("s");
  append_one(*l, a);
  const statement b = f.make_with_id(a.event_id, "s", expected_revision::any(), {}, 16, "other");
  auto out = l->append(std::span<const statement>(&b, 1));
  BOOST_TEST(out[0].error == make_error_code(errc::event_id_conflict));
  BOOST_TEST(l->tree_size() == 1u);
}

BOOST_AUTO_TEST_CASE(mixed_batch_with_conflicts_in_the_middle_stores_the_rest) {
  vellum::test::temp_dir dir;
  manual_clock clock;
  auto l = open_or_fail(test_options(dir, clock));
  statement_factory f;
  const statement seed = f.make("a", expected_revision::no_stream());
  append_one(*l, seed);  // a@0
  const statement dup_of_new = f.make("c");
  std::vector<statement> batch = {
      f.make("a", expected_revision::exact(0)),                    // ok → a@1
      f.make("a", expected_revision::exact(0)),                    // conflict, current 1
      f.make("b", expected_revision::exact(3)),                    // conflict, no stream
      f.make_with_id(seed.event_id, "a", expected_revision::any(), {}, 16, "changed"),  // id conflict
      seed,                                                        // duplicate of seq 0
      f.make("b", expected_revision::no_stream()),                 // ok → b@0
      dup_of_new,                                                  // ok → c@0
      dup_of_new,                                                  // duplicate within the batch
      f.make("a", expected_revision::exact(1)),                    // ok → a@2
      f.make("a", expected_revision::no_stream()),                 // conflict, current 2
  };
  batch[1].expected = expected_revision::exact(0);
  auto out = l->append(batch);
  BOOST_REQUIRE_EQUAL(out.size(), batch.size());
  BOOST_TEST(!out[0].error);
  BOOST_TEST(out[0].rcpt.revision == 1u);
  BOOST_TEST(out[1].error == make_error_code(errc::revision_conflict));
  BOOST_TEST((out[1].current_revision == std::optional<std::uint64_t>(1)));
  BOOST_TEST(out[2].error == make_error_code(errc::revision_conflict));
  BOOST_TEST(!out[2].current_revision.has_value());
  BOOST_TEST(out[3].error == make_error_code(errc::event_id_conflict));
  BOOST_TEST(!out[4].error);
  BOOST_TEST(out[4].duplicate);
  BOOST_TEST(out[4].rcpt.seq == 0u);
  BOOST_TEST(!out[5].error);
  BOOST_TEST(out[5].rcpt.stream == "b");
  BOOST_TEST(out[5].rcpt.revision == 0u);
  BOOST_TEST(!out[6].error);
  BOOST_TEST(!out[7].error);
  BOOST_TEST(out[7].duplicate);
  BOOST_TEST(out[7].rcpt.seq == out[6].rcpt.seq);
  BOOST_TEST(out[7].rcpt.checkpoint == out[6].rcpt.checkpoint);
  BOOST_TEST(!out[8].error);
  BOOST_TEST(out[8].rcpt.revision == 2u);
  BOOST_TEST(out[9].error == make_error_code(errc::revision_conflict));
  BOOST_TEST((out[9].current_revision == std::optional<std::uint64_t>(2)));
  BOOST_TEST(l->tree_size() == 5u);
  const std::string vkey = l->verifier_key();
  for (std::size_t i : {0, 4, 5, 6, 7, 8}) verify_receipt(out[i].rcpt, vkey);
  // Seqs are dense and in batch order.
  BOOST_TEST(out[0].rcpt.seq == 1u);
  BOOST_TEST(out[5].rcpt.seq == 2u);
  BOOST_TEST(out[6].rcpt.seq == 3u);
  BOOST_TEST(out[8].rcpt.seq == 4u);
}

BOOST_AUTO_TEST_CASE(all_rejected_batch_commits_and_signs_nothing) {
  vellum::test::temp_dir dir;
  manual_clock clock;
  auto l = open_or_fail(test_options(dir, clock));
  statement_factory f;
  append_one(*l, f.make("a"));
  const auto before = l->latest_checkpoint();
  std::vector<statement> batch = {f.make("a", expected_revision::no_stream()),
                                  f.make("b", expected_revision::exact(0))};
  auto out = l->append(batch);
  BOOST_TEST(out[0].error == make_error_code(errc::revision_conflict));
  BOOST_TEST(out[1].error == make_error_code(errc::revision_conflict));
  BOOST_TEST(l->latest_checkpoint()->note == before->note);
  BOOST_TEST(l->append({}).empty());
}

BOOST_AUTO_TEST_CASE(malformed_statement_is_refused_without_disturbing_others) {
  vellum::test::temp_dir dir;
  manual_clock clock;
  auto l = open_or_fail(test_options(dir, clock));
  statement_factory f;
  std::vector<statement> batch = {f.make("a"), f.make("b"), f.make("c")};
  batch[1].event_id = "NOT-A-UUID";
  auto out = l->append(batch);
  BOOST_TEST(!out[0].error);
  BOOST_TEST(out[1].error == make_error_code(errc::invalid_argument));
  BOOST_TEST(!out[2].error);
  BOOST_TEST(out[2].rcpt.seq == 1u);
}

BOOST_AUTO_TEST_CASE(amendments_are_indexed_by_the_event_they_correct) {
  vellum::test::temp_dir dir;
  manual_clock clock;
  auto l = open_or_fail(test_options(dir, clock));
  statement_factory f;
  const statement original = f.make("course");
  append_one(*l, original);
  append_one(*l, f.make("course"));
  const receipt a1 = append_one(*l, f.make("course", expected_revision::any(), original.event_id));
  const receipt a2 = append_one(*l, f.make("course", expected_revision::any(), original.event_id));
  auto seqs = l->corrections_of(original.event_id);
  BOOST_REQUIRE(seqs);
  BOOST_TEST((*seqs == (std::vector<std::uint64_t>{a1.seq, a2.seq})));
  BOOST_TEST(l->corrections_of(a1.event_id)->empty());
  BOOST_TEST(l->event_by_seq(0)->jws == original.jws);  // the original stays readable
}

BOOST_AUTO_TEST_CASE(a_correction_must_name_an_event_of_its_own_stream_and_nothing_else_is_stored) {
  vellum::test::temp_dir dir;
  manual_clock clock;
  auto l = open_or_fail(test_options(dir, clock));
  statement_factory f;
  const statement original = f.make("course");
  append_one(*l, original);
  append_one(*l, f.make("other"));
  // Committed (in the store), then in the same batch, then nowhere at all.
  statement elsewhere = f.make("other", expected_revision::any(), original.event_id);
  const statement fresh = f.make("course");
  statement same_batch = f.make("course", expected_revision::any(), fresh.event_id);
  statement nowhere = f.make("course", expected_revision::any(), "00000000-0000-4000-8000-000000000000");
  auto out = l->append(std::vector<statement>{elsewhere, fresh, same_batch, nowhere});
  BOOST_REQUIRE_EQUAL(out.size(), 4u);
  BOOST_TEST(out[0].error == make_error_code(errc::reference_not_found));
  BOOST_TEST(out[0].error.message().find("in another stream") != std::string::npos, out[0].error.message());
  BOOST_TEST(!out[1].error);
  BOOST_TEST(!out[2].error);
  BOOST_TEST(out[3].error == make_error_code(errc::reference_not_found));
  BOOST_TEST(l->tree_size() == 4u);  // the two refused left nothing behind
  // A void is a correction like an amendment: indexed by the event it withdraws.
  statement v = f.make("course");
  v.voids = fresh.event_id;
  const receipt voided = append_one(*l, v);
  auto corrections = l->corrections_of(fresh.event_id);
  BOOST_REQUIRE(corrections);
  BOOST_TEST((*corrections == std::vector<std::uint64_t>{out[2].rcpt.seq, voided.seq}));
}

BOOST_AUTO_TEST_CASE(recorded_at_never_decreases_when_the_clock_goes_back) {
  vellum::test::temp_dir dir;
  manual_clock clock;
  auto l = open_or_fail(test_options(dir, clock));
  statement_factory f;
  const receipt r1 = append_one(*l, f.make("s"));
  clock.set(clock.now->load() - 3'600'000'000ull);  // an hour back
  const receipt r2 = append_one(*l, f.make("s"));
  BOOST_TEST(r2.recorded_at_us == r1.recorded_at_us);
  clock.advance(3'600'000'000ull + 10);
  const receipt r3 = append_one(*l, f.make("s"));
  BOOST_TEST(r3.recorded_at_us > r2.recorded_at_us);
  // ... and across a reopen.
  const std::uint64_t high = r3.recorded_at_us;
  l.reset();
  clock.set(1000);
  auto o = test_options(dir, clock);
  l = open_or_fail(o);
  const receipt r4 = append_one(*l, f.make("s"));
  BOOST_TEST(r4.recorded_at_us == high);
}

BOOST_AUTO_TEST_CASE(reopen_returns_identical_checkpoint_origin_and_key) {
  vellum::test::temp_dir dir;
  manual_clock clock;
  auto o = test_options(dir, clock);
  o.origin = "hospital.example/ledger";
  std::string note, vkey;
  statement_factory f;
  {
    auto l = open_or_fail(o);
    for (int i = 0; i < 10; ++i) append_one(*l, f.make("s" + std::to_string(i % 3)));
    note = l->latest_checkpoint()->note;
    vkey = l->verifier_key();
  }
  options again = o;
  again.origin = options{}.origin;  // the default means "the stored one"
  auto l = open_or_fail(again);
  BOOST_TEST(l->origin() == "hospital.example/ledger");
  BOOST_TEST(l->verifier_key() == vkey);
  BOOST_TEST(l->latest_checkpoint()->note == note);
  BOOST_TEST(l->tree_size() == 10u);
  BOOST_TEST(*l->stream_revision("s0") == 3u);
  const receipt r = append_one(*l, f.make("s0", expected_revision::exact(3)));
  BOOST_TEST(r.seq == 10u);
  verify_receipt(r, vkey);
}

BOOST_AUTO_TEST_CASE(reopen_with_a_different_origin_is_refused_with_a_reason) {
  vellum::test::temp_dir dir;
  manual_clock clock;
  auto o = test_options(dir, clock);
  o.origin = "a.example/log";
  { open_or_fail(o); }
  o.origin = "b.example/log";
  auto l = ledger::open(o);
  BOOST_REQUIRE(!l);
  BOOST_TEST(l.error() == make_error_code(errc::invalid_argument));
  // The reason names both origins: the stored one and the one given.
  BOOST_TEST(l.error().message().find("a.example/log") != std::string::npos, l.error().message());
  BOOST_TEST(l.error().message().find("b.example/log") != std::string::npos, l.error().message());
}

BOOST_AUTO_TEST_CASE(missing_log_key_of_an_existing_log_is_not_regenerated) {
  vellum::test::temp_dir dir;
  manual_clock clock;
  auto o = test_options(dir, clock);
  { open_or_fail(o); }
  std::filesystem::remove(o.data_dir + "/log-key.pem");
  auto l = ledger::open(o);
  BOOST_REQUIRE(!l);
  BOOST_TEST(l.error() == make_error_code(errc::key_error));
}

BOOST_AUTO_TEST_CASE(configured_key_file_is_used_and_a_foreign_key_is_refused) {
  vellum::test::temp_dir dir;
  manual_clock clock;
  auto key = crypto::private_key::generate(crypto::key_type::ed25519);
  BOOST_REQUIRE(key);
  const std::string key_path = dir.str() + "/my-key.pem";
  BOOST_REQUIRE(vellum::write_file_atomic(key_path, key->to_pem(), 0600));
  auto o = test_options(dir, clock);
  o.key_file = key_path;
  std::string vkey;
  {
    auto l = open_or_fail(o);
    vkey = l->verifier_key();
    BOOST_TEST(vkey == crypto::note_verifier::from_key(l->origin(), key->public_key()).vkey());
  }
  auto other = crypto::private_key::generate(crypto::key_type::ed25519);
  BOOST_REQUIRE(vellum::write_file_atomic(key_path, other->to_pem(), 0600));
  auto l = ledger::open(o);
  BOOST_REQUIRE(!l);
  BOOST_TEST(l.error() == make_error_code(errc::key_error));
  o.key_file = dir.str() + "/absent.pem";
  BOOST_TEST(ledger::open(o).error() == make_error_code(errc::key_error));
}

BOOST_AUTO_TEST_CASE(map_grows_from_64_kib_through_thousands_of_events) {
  vellum::test::temp_dir dir;
  manual_clock clock;
  auto o = test_options(dir, clock);
  o.initial_map_size = 64 * 1024;
  auto l = open_or_fail(o);
  statement_factory f;
  std::vector<receipt> receipts;
  for (int b = 0; b < 40; ++b) {
    std::vector<statement> batch;
    for (int k = 0; k < 100; ++k) batch.push_back(f.make("s" + std::to_string(k % 5), {}, {}, 300));
    // Readers run while the writer grows the map.
    std::atomic<bool> done{false};
    std::atomic<int> read_failures{0};
    std::thread reader([&] {
      while (!done) {
        if (!l->latest_checkpoint()) ++read_failures;
        const std::uint64_t size = l->tree_size();
        if (size > 0 && !l->inclusion_proof(size - 1, size)) ++read_failures;
      }
    });
    auto out = l->append(batch);
    done = true;
    reader.join();
    BOOST_TEST(read_failures.load() == 0);
    for (auto& o2 : out) {
      BOOST_REQUIRE_MESSAGE(!o2.error, o2.error.message());
      receipts.push_back(o2.rcpt);
    }
  }
  BOOST_TEST(l->tree_size() == 4000u);
  for (std::size_t i = 0; i < receipts.size(); i += 37) verify_receipt(receipts[i], l->verifier_key());
  auto report = fsck(o.data_dir);
  BOOST_REQUIRE(report);
  BOOST_TEST(report->ok());
}

BOOST_AUTO_TEST_CASE(concurrent_appenders_and_readers_see_consistent_state) {
  vellum::test::temp_dir dir;
  manual_clock clock;
  auto l = open_or_fail(test_options(dir, clock));
  constexpr int threads = 4;
  constexpr int per_thread = 200;
  std::vector<std::thread> pool;
  std::atomic<int> conflicts{0};
  std::atomic<int> failures{0};  // Boost.Test assertions are not thread-safe
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      statement_factory f(100 + t);
      for (int i = 0; i < per_thread; ++i) {
        // Everyone races on one shared stream with exact revisions.
        auto rev = l->stream_revision("shared");
        const expected_revision exp =
            rev ? expected_revision::exact(*rev) : expected_revision::no_stream();
        std::vector<statement> batch = {f.make("shared", exp), f.make("own-" + std::to_string(t))};
        auto out = l->append(batch);
        if (out[1].error) ++failures;
        if (out[0].error) {
          if (out[0].error != make_error_code(errc::revision_conflict)) ++failures;
          ++conflicts;
        }
        if (!l->inclusion_proof(out[1].rcpt.seq, l->tree_size())) ++failures;
      }
    });
  }
  for (auto& th : pool) th.join();
  BOOST_TEST(failures.load() == 0);
  const auto shared_count = *l->stream_revision("shared") + 1;
  BOOST_TEST(shared_count + conflicts.load() == std::uint64_t{threads * per_thread});
  BOOST_TEST(l->tree_size() == shared_count + threads * per_thread);
  auto report = fsck(dir.str() + "/data");
  BOOST_REQUIRE(report);
  BOOST_TEST(report->ok());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace vellum::ledger
