// fsck: a clean log is clean; each kind of tampering, made directly in LMDB,
// is named with its seq and field; a writer killed mid-batch leaves a log
// that reopens with every acknowledged event and checks clean.

#include "ledger_test_util.hpp"

#include "ledger/schema.hpp"

#include <lmdb.h>

#include <chrono>
#include <cstring>
#include <csignal>
#include <functional>
#include <sys/wait.h>
#include <unistd.h>

namespace vellum::ledger {
namespace {

using test::manual_clock;
using test::open_or_fail;
using test::statement_factory;
using test::test_options;

// Edits one database of the closed log in one write transaction.
void tamper(const std::string& data_dir, const char* db_name,
            const std::function<void(MDB_txn*, MDB_dbi)>& edit) {
  test::raw_txn(data_dir, db_name, true, edit);
}

// Replaces the value of `key` with edit(value).
void edit_value(const std::string& data_dir, const char* db_name, byte_view key,
                const std::function<void(bytes&)>& edit) {
  tamper(data_dir, db_name, [&](MDB_txn* txn, MDB_dbi dbi) {
    MDB_val k{key.size(), const_cast<std::uint8_t*>(key.data())};
    MDB_val v{};
    BOOST_REQUIRE_EQUAL(mdb_get(txn, dbi, &k, &v), 0);
    bytes value(static_cast<std::uint8_t*>(v.mv_data),
                static_cast<std::uint8_t*>(v.mv_data) + v.mv_size);
    edit(value);
    MDB_val nv{value.size(), value.data()};
    BOOST_REQUIRE_EQUAL(mdb_put(txn, dbi, &k, &nv, 0), 0);
  });
}

// A log of 600 events over 5 streams, some amending others. The event-id
// and stream indexes are merged up to seq 400 (the fourth batch reaches 400 unmerged
// events); 400..599 are in memory only.
struct fixture {
  vellum::test::temp_dir dir;
  manual_clock clock;
  options opts = test_options(dir, clock);
  std::vector<receipt> receipts;
  std::vector<statement> statements;

  fixture() {
    opts.index_merge_events = 400;
    auto l = open_or_fail(opts);
    statement_factory f;
    for (int b = 0; b < 6; ++b) {
      const std::size_t first = statements.size();
      for (int k = 0; k < 100; ++k) {
        const std::size_t i = statements.size();
        const std::string amends = i % 10 == 9 ? statements.at(i - 5).event_id : std::string();  // same stream
        statements.push_back(f.make("stream-" + std::to_string(i % 5), {}, amends));
      }
      clock.advance(1000);
      const std::vector<statement> batch(statements.begin() + static_cast<long>(first),
                                         statements.end());
      for (const auto& o : l->append(batch)) {
        BOOST_REQUIRE(!o.error);
        receipts.push_back(o.rcpt);
      }
    }
  }

  fsck_report check() const {
    auto r = fsck(opts.data_dir);
    BOOST_REQUIRE(r);
    return *r;
  }
};

void require_first_problem(const fsck_report& r, std::uint64_t seq, const std::string& what) {
  BOOST_REQUIRE_MESSAGE(!r.ok(), "fsck found nothing");
  const fsck_problem& p = r.problems.front();
  BOOST_TEST(p.seq == seq, "first problem: " << p.seq << " " << p.what << ": " << p.detail);
  BOOST_TEST(p.what == what, "first problem: " << p.seq << " " << p.what << ": " << p.detail);
}

BOOST_AUTO_TEST_SUITE(ledger_fsck)

BOOST_AUTO_TEST_CASE(clean_log_checks_clean_with_progress) {
  fixture fx;
  std::uint64_t last_done = 0, calls = 0;
  auto r = fsck(fx.opts.data_dir, [&](std::uint64_t done, std::uint64_t total) {
    BOOST_TEST(total == 600u);
    BOOST_TEST(done >= last_done);
    last_done = done;
    ++calls;
  });
  BOOST_REQUIRE(r);
  for (const auto& p : r->problems) BOOST_TEST_MESSAGE(p.seq << " " << p.what << ": " << p.detail);
  BOOST_TEST(r->ok());
  BOOST_TEST(r->tree_size == 600u);
  BOOST_TEST(r->events_checked == 600u);
  BOOST_TEST(last_done == 600u);
  BOOST_TEST(calls >= 2u);
}

BOOST_AUTO_TEST_CASE(empty_log_checks_clean) {
  vellum::test::temp_dir dir;
  manual_clock clock;
  auto o = test_options(dir, clock);
  { open_or_fail(o); }
  auto r = fsck(o.data_dir);
  BOOST_REQUIRE(r);
  BOOST_TEST(r->ok());
}

BOOST_AUTO_TEST_CASE(every_flipped_byte_of_a_record_is_caught) {
  fixture fx;
  const std::uint64_t seq = 123;
  const std::size_t value_size = 32 + fx.receipts[seq].record.size();
  // Salt bytes, then a spread of record bytes, each flipped on its own.
  for (std::size_t pos : {std::size_t{0}, std::size_t{31}, std::size_t{32}, std::size_t{40},
                          value_size / 2, value_size - 2, value_size - 1}) {
    BOOST_TEST_CONTEXT("byte " << pos) {
      const auto key = schema::encode_u64(seq);
      edit_value(fx.opts.data_dir, "records", key, [&](bytes& v) { v.at(pos) ^= 0x01; });
      require_first_problem(fx.check(), seq, "record");
      edit_value(fx.opts.data_dir, "records", key, [&](bytes& v) { v.at(pos) ^= 0x01; });
      BOOST_TEST(fx.check().ok());
    }
  }
}

BOOST_AUTO_TEST_CASE(changed_leaf_entry_is_named_leaf) {
  fixture fx;
  const auto key = schema::encode_u64(77);
  edit_value(fx.opts.data_dir, "leaves", key, [](bytes& v) { v.back() ^= 0x80; });
  require_first_problem(fx.check(), 77, "leaf");
}

BOOST_AUTO_TEST_CASE(changed_stored_hash_names_its_tile_or_node) {
  fixture fx;
  // A leaf hash (level 0, index 300): hash tile 0/001.
  edit_value(fx.opts.data_dir, "nodes", schema::node_key({0, 300}),
             [](bytes& v) { v[5] ^= 0x01; });
  require_first_problem(fx.check(), 300, "tile 0/001");
  edit_value(fx.opts.data_dir, "nodes", schema::node_key({0, 300}),
             [](bytes& v) { v[5] ^= 0x01; });
  // An inner node (level 3, index 2: leaves 16..23).
  edit_value(fx.opts.data_dir, "nodes", schema::node_key({3, 2}),
             [](bytes& v) { v[0] ^= 0x01; });
  require_first_problem(fx.check(), 16, "node 3/2");
}

BOOST_AUTO_TEST_CASE(changed_index_entries_are_named) {
  fixture fx;
  const auto id = schema::parse_uuid(fx.receipts[42].event_id);
  BOOST_REQUIRE(id);
  edit_value(fx.opts.data_dir, "event_ids", *id, [](bytes& v) { v[7] ^= 0x01; });
  require_first_problem(fx.check(), 42, "index event_id");
  edit_value(fx.opts.data_dir, "event_ids", *id, [](bytes& v) { v[7] ^= 0x01; });

  const auto& r = fx.receipts[250];
  const std::string si = schema::stream_index_key(r.stream, r.revision);
  edit_value(fx.opts.data_dir, "stream_index", schema::view(si), [](bytes& v) { v[7] ^= 0x02; });
  require_first_problem(fx.check(), 250, "index stream");
  edit_value(fx.opts.data_dir, "stream_index", schema::view(si), [](bytes& v) { v[7] ^= 0x02; });

  // Entries for an event past "indexed" (only memory may hold them).
  const auto& late = fx.receipts[500];
  const std::string lk = schema::stream_index_key(late.stream, late.revision);
  tamper(fx.opts.data_dir, "stream_index", [&](MDB_txn* txn, MDB_dbi dbi) {
    auto seq = schema::encode_u64(500);
    MDB_val k{lk.size(), const_cast<char*>(lk.data())};
    MDB_val v{seq.size(), seq.data()};
    BOOST_REQUIRE_EQUAL(mdb_put(txn, dbi, &k, &v, MDB_NOOVERWRITE), 0);
  });
  require_first_problem(fx.check(), 500, "index stream");
  tamper(fx.opts.data_dir, "stream_index", [&](MDB_txn* txn, MDB_dbi dbi) {
    MDB_val k{lk.size(), const_cast<char*>(lk.data())};
    BOOST_REQUIRE_EQUAL(mdb_del(txn, dbi, &k, nullptr), 0);
  });
  BOOST_TEST(fx.check().ok());
  const auto late_id = schema::parse_uuid(late.event_id);
  BOOST_REQUIRE(late_id);
  tamper(fx.opts.data_dir, "event_ids", [&](MDB_txn* txn, MDB_dbi dbi) {
    auto seq = schema::encode_u64(500);
    MDB_val k{late_id->size(), const_cast<std::uint8_t*>(late_id->data())};
    MDB_val v{seq.size(), seq.data()};
    BOOST_REQUIRE_EQUAL(mdb_put(txn, dbi, &k, &v, MDB_NOOVERWRITE), 0);
  });
  require_first_problem(fx.check(), 500, "index event_id");
  tamper(fx.opts.data_dir, "event_ids", [&](MDB_txn* txn, MDB_dbi dbi) {
    MDB_val k{late_id->size(), const_cast<std::uint8_t*>(late_id->data())};
    BOOST_REQUIRE_EQUAL(mdb_del(txn, dbi, &k, nullptr), 0);
  });
  BOOST_TEST(fx.check().ok());

  // seq 19 amends seq 14 (the same stream): drop that amends entry.
  const auto amended = schema::parse_uuid(fx.statements[14].event_id);
  BOOST_REQUIRE(amended);
  const auto ak = schema::amends_key(*amended, 19);
  tamper(fx.opts.data_dir, "amends", [&](MDB_txn* txn, MDB_dbi dbi) {
    MDB_val k{ak.size(), const_cast<std::uint8_t*>(ak.data())};
    BOOST_REQUIRE_EQUAL(mdb_del(txn, dbi, &k, nullptr), 0);
  });
  require_first_problem(fx.check(), 19, "index amends");
}

BOOST_AUTO_TEST_CASE(changed_current_revision_of_a_stream_is_named) {
  fixture fx;
  const std::string stream = "stream-3";
  edit_value(fx.opts.data_dir, "streams", schema::view(stream), [](bytes& v) { v[7] ^= 0x04; });
  require_first_problem(fx.check(), 600, "index streams");
}

BOOST_AUTO_TEST_CASE(checkpoint_with_a_bad_signature_is_caught) {
  fixture fx;
  const auto key = schema::encode_u64(300);
  edit_value(fx.opts.data_dir, "checkpoints", key, [](bytes& v) {
    // The last base64 character before the final newline of the signature.
    v[v.size() - 3] = v[v.size() - 3] == 'A' ? 'B' : 'A';
  });
  require_first_problem(fx.check(), 300, "checkpoint");
}

// A child process appends batches and reports each acknowledged event on a
// pipe; the parent kills it with SIGKILL mid-way and checks the data.
BOOST_AUTO_TEST_CASE(writer_killed_mid_batch_loses_no_acknowledged_event) {
  vellum::test::temp_dir dir;
  manual_clock clock;
  options o = test_options(dir, clock);
  o.sync = true;
  { open_or_fail(o); }

  int fds[2];
  BOOST_REQUIRE_EQUAL(::pipe(fds), 0);
  const pid_t child = ::fork();
  BOOST_REQUIRE(child >= 0);
  if (child == 0) {
    ::close(fds[0]);
    auto l = ledger::open(o);
    if (!l) ::_exit(2);
    std::mt19937_64 rng(99);
    for (std::uint64_t i = 0;; ++i) {
      std::vector<statement> batch;
      for (int k = 0; k < 16; ++k) {
        statement s;
        s.event_id = test::make_uuid(rng);
        s.kid = "k";
        s.stream = "s" + std::to_string(k % 4);
        s.jws = "eyJhbGciOiJFZERTQSJ9.e30.c2ln";
        batch.push_back(std::move(s));
      }
      for (const auto& out : (*l)->append(batch)) {
        if (out.error) ::_exit(3);
        char msg[44];
        const auto seq = schema::encode_u64(out.rcpt.seq);
        std::memcpy(msg, seq.data(), 8);
        std::memcpy(msg + 8, out.rcpt.event_id.data(), 36);
        if (::write(fds[1], msg, sizeof msg) != static_cast<ssize_t>(sizeof msg)) ::_exit(4);
      }
    }
  }
  ::close(fds[1]);
  std::vector<std::pair<std::uint64_t, std::string>> acked;
  auto read_ack = [&]() -> bool {
    char msg[44];
    std::size_t got = 0;
    while (got < sizeof msg) {
      const ssize_t n = ::read(fds[0], msg + got, sizeof msg - got);
      if (n <= 0) return false;
      got += static_cast<std::size_t>(n);
    }
    auto seq = schema::decode_u64(byte_view(reinterpret_cast<std::uint8_t*>(msg), 8));
    acked.emplace_back(*seq, std::string(msg + 8, 36));
    return true;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (acked.size() < 400 && std::chrono::steady_clock::now() < deadline) {
    if (!read_ack()) break;
  }
  ::kill(child, SIGKILL);
  while (read_ack()) {
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  BOOST_TEST_MESSAGE("acknowledged before the kill: " << acked.size());
  BOOST_REQUIRE_MESSAGE(WIFSIGNALED(status), "child exited early with " << WEXITSTATUS(status));
  BOOST_REQUIRE(acked.size() >= 16u);

  auto r = fsck(o.data_dir);
  BOOST_REQUIRE(r);
  for (const auto& p : r->problems) BOOST_TEST_MESSAGE(p.seq << " " << p.what << ": " << p.detail);
  BOOST_TEST(r->ok());
  auto l = open_or_fail(o);
  BOOST_TEST(l->tree_size() >= acked.size());
  for (const auto& [seq, id] : acked) {
    auto e = l->event_by_id(id);
    BOOST_REQUIRE_MESSAGE(e, "acknowledged event " << id << " is missing");
    BOOST_TEST(e->seq == seq);
  }
  statement_factory f;
  test::append_one(*l, f.make("after-crash"));
  auto again = fsck(o.data_dir);
  BOOST_REQUIRE(again);
  BOOST_TEST(again->ok());
}

BOOST_AUTO_TEST_CASE(missing_data_directory_is_an_error) {
  vellum::test::temp_dir dir;
  auto r = fsck(dir.str() + "/nothing-here");
  BOOST_TEST(!r);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace vellum::ledger
