#pragma once
// Helpers for the ledger suites: signed statements, an injectable clock,
// receipt verification with the crypto library alone, and a ledger in a
// fresh temporary directory.

#include "ledger/ledger.hpp"

#include "crypto/checkpoint.hpp"
#include "crypto/encoding.hpp"
#include "crypto/jws.hpp"
#include "crypto/keys.hpp"
#include "crypto/leaf_entry.hpp"
#include "crypto/merkle.hpp"
#include "crypto/note.hpp"

#include "test_keys.hpp"
#include "test_util.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <lmdb.h>

#include <atomic>
#include <functional>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>

namespace vellum::ledger::test {

// Opens a closed ledger's environment behind its back and runs `fn` with
// one transaction on database `db_name` (committed when `write`): how tests
// tamper with, or look at, what is stored.
inline void raw_txn(const std::string& data_dir, const char* db_name, bool write,
                    const std::function<void(MDB_txn*, MDB_dbi)>& fn) {
  MDB_env* env = nullptr;
  BOOST_REQUIRE_EQUAL(mdb_env_create(&env), 0);
  BOOST_REQUIRE_EQUAL(mdb_env_set_maxdbs(env, 16), 0);
  BOOST_REQUIRE_EQUAL(mdb_env_open(env, data_dir.c_str(), write ? 0 : MDB_RDONLY, 0600), 0);
  MDB_txn* txn = nullptr;
  BOOST_REQUIRE_EQUAL(mdb_txn_begin(env, nullptr, write ? 0 : MDB_RDONLY, &txn), 0);
  MDB_dbi dbi = 0;
  BOOST_REQUIRE_EQUAL(mdb_dbi_open(txn, db_name, 0, &dbi), 0);
  fn(txn, dbi);
  if (write) {
    BOOST_REQUIRE_EQUAL(mdb_txn_commit(txn), 0);
  } else {
    mdb_txn_abort(txn);
  }
  mdb_env_close(env);
}

// Removes the by_* query index databases of a closed ledger, as a store of
// schema version 1 or 2 had none, and sets its schema version to `version`.
inline void drop_query_indexes(const std::string& data_dir, std::uint32_t version) {
  for (const char* name : {"by_type", "by_author", "by_recorded", "by_occurred"}) {
    raw_txn(data_dir, name, true, [](MDB_txn* txn, MDB_dbi dbi) { BOOST_REQUIRE_EQUAL(mdb_drop(txn, dbi, 1), 0); });
  }
  raw_txn(data_dir, "meta", true, [&](MDB_txn* txn, MDB_dbi meta) {
    const std::array<std::uint8_t, 4> v{static_cast<std::uint8_t>(version >> 24), static_cast<std::uint8_t>(version >> 16),
                                        static_cast<std::uint8_t>(version >> 8), static_cast<std::uint8_t>(version)};
    const std::string_view key = "schema_version";
    MDB_val k{key.size(), const_cast<char*>(key.data())};
    MDB_val val{v.size(), const_cast<std::uint8_t*>(v.data())};
    BOOST_REQUIRE_EQUAL(mdb_put(txn, meta, &k, &val, 0), 0);
  });
}

// A clock tests move by hand. Starts at 2026-03-09T10:00:00Z.
struct manual_clock {
  std::shared_ptr<std::atomic<std::uint64_t>> now =
      std::make_shared<std::atomic<std::uint64_t>>(1773050400000000ull);
  clock_fn fn() const {
    auto p = now;
    return [p] { return p->load(); };
  }
  void set(std::uint64_t us) { now->store(us); }
  void advance(std::uint64_t us) { now->fetch_add(us); }
};

// A random version-4 UUID in canonical lower-case form (seeded generator).
inline std::string make_uuid(std::mt19937_64& rng) {
  std::array<std::uint8_t, 16> b{};
  for (auto& x : b) x = static_cast<std::uint8_t>(rng());
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);
  const std::string hex = crypto::hex_encode(b);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

// Makes signed statements the way a hospital system would (EdDSA JWS).
class statement_factory {
 public:
  explicit statement_factory(std::uint64_t seed = 42)
      : key_(vellum::test::seeded_key(7)),
        rng_(seed) {}

  statement make(const std::string& stream, expected_revision expected = expected_revision::any(),
                 const std::string& amends = {}, std::size_t data_bytes = 16) {
    return make_with_id(make_uuid(rng_), stream, expected, amends, data_bytes);
  }

  statement make_with_id(const std::string& event_id, const std::string& stream,
                         expected_revision expected = expected_revision::any(),
                         const std::string& amends = {}, std::size_t data_bytes = 16,
                         const std::string& text = "note") {
    boost::json::object payload;
    payload["event_id"] = event_id;
    payload["stream"] = stream;
    payload["type"] = type;
    switch (expected.k) {
      case expected_revision::kind::any: payload["expected_revision"] = "any"; break;
      case expected_revision::kind::no_stream: payload["expected_revision"] = "no_stream"; break;
      case expected_revision::kind::exact: payload["expected_revision"] = expected.value; break;
    }
    payload["occurred_at"] = occurred_at;
    payload["author"] = author;
    boost::json::object data;
    data["text"] = text + std::string(data_bytes, 'x');
    payload["data"] = std::move(data);
    if (!amends.empty()) {
      payload["amends"] = amends;
      payload["reason"] = "correction";
    }
    if (!voids.empty()) {
      payload["voids"] = voids;
      payload["reason"] = "entered in error";
    }
    boost::json::object header;
    header["kid"] = kid;
    const std::string body = boost::json::serialize(payload);
    auto jws = crypto::jws_sign(crypto::as_bytes(body), key_, header);
    // Not BOOST_REQUIRE: tests call this from worker threads too, where
    // Boost.Test's log is not safe (ThreadSanitizer reports it).
    if (!jws) throw std::runtime_error("jws_sign failed: " + jws.error().message());
    statement s;
    s.jws = *jws;
    s.kid = kid;
    s.event_id = event_id;
    s.stream = stream;
    const query_terms terms = query_terms_of(payload);
    s.type = terms.type;
    s.author_id = terms.author_id;
    s.occurred_at_us = terms.occurred_at_us;
    s.amends = amends;
    s.voids = voids;
    s.expected = expected;
    return s;
  }

  std::mt19937_64& rng() { return rng_; }
  std::string kid = "emr-1";
  // What the next statements say (the query indexes key them by these).
  std::string type = "therapy.note";
  boost::json::value author = "dr.example";  // a string or {id, name, role}
  std::string occurred_at = "2026-03-09T09:59:00Z";
  std::string voids;  // the event the next statements withdraw (empty: none)

 private:
  crypto::private_key key_;
  std::mt19937_64 rng_;
};

// Checks a receipt with nothing but the crypto library and the log's
// verifier key, and that it describes `expected_seq`.
inline void verify_receipt(const receipt& r, const std::string& vkey) {
  auto verifier = crypto::note_verifier::from_vkey(vkey);
  BOOST_REQUIRE(verifier);
  auto opened = crypto::open_note(r.checkpoint, std::span<const crypto::note_verifier>(&*verifier, 1));
  BOOST_REQUIRE_MESSAGE(opened, "checkpoint note does not verify");
  auto cp = crypto::parse_checkpoint(opened->text);
  BOOST_REQUIRE(cp);
  BOOST_TEST(cp->size == r.tree_size);
  auto entry = crypto::decode_leaf_entry(r.leaf_entry);
  BOOST_REQUIRE(entry);
  BOOST_TEST(entry->seq == r.seq);
  BOOST_TEST(entry->recorded_at_us == r.recorded_at_us);
  BOOST_TEST(entry->kid == r.kid);
  auto rec = crypto::check_record(*entry, r.salt, r.record);
  BOOST_REQUIRE_MESSAGE(rec, "record does not match the leaf entry");
  BOOST_TEST(rec->stream == r.stream);
  BOOST_TEST(rec->revision == r.revision);
  BOOST_TEST(rec->event_id == r.event_id);
  auto ok = crypto::verify_inclusion(r.seq, r.tree_size, crypto::leaf_hash(r.leaf_entry),
                                     r.inclusion_proof, cp->root);
  BOOST_TEST(ok.has_value(), "inclusion proof of seq " << r.seq << " in " << r.tree_size);
}

inline options test_options(const vellum::test::temp_dir& dir, const manual_clock& clock) {
  options o;
  o.data_dir = dir.str() + "/data";
  o.sync = false;
  o.clock = clock.fn();
  o.initial_map_size = std::size_t{64} << 20;
  // Small, so most tests read across merged and not yet merged stream-index
  // entries (tests that need another split set their own).
  o.index_merge_events = 64;
  return o;
}

inline std::unique_ptr<ledger> open_or_fail(const options& o) {
  auto l = ledger::open(o);
  BOOST_REQUIRE_MESSAGE(l, "open failed: " << (l ? std::string() : l.error().message()));
  return std::move(*l);
}

// Appends one statement and requires success.
inline receipt append_one(ledger& l, const statement& s) {
  auto out = l.append(std::span<const statement>(&s, 1));
  BOOST_REQUIRE_EQUAL(out.size(), 1u);
  BOOST_REQUIRE_MESSAGE(!out[0].error, "append failed: " << out[0].error.message());
  return out[0].rcpt;
}

}  // namespace vellum::ledger::test
