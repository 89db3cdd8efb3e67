#pragma once
// The state behind class ledger (ledger.hpp), shared by the files that
// implement it, one job each (docs/architecture.md, "ledger/"):
//   open.cpp     opening: environment, schema version, origin, log key
//   commit.cpp   prepare/commit: sequencing, building and writing batches
//   indexes.cpp  the event-id and stream indexes: recent part, bulk merge
//   reads.cpp    events, streams, checkpoints, proofs, tiles, receipts
// with the helpers read_pool.hpp, recent_index.hpp, node_store.hpp,
// pending.hpp and store.hpp. Internal to ledger/.
//
// Concurrency: prepare() holds prep_mu (one sequencer: the pending state of
// batches prepared and not yet committed); commit() holds write_mu (one
// writer) and waits for its turn in prepare order; readers take a shared
// lock on map_mu for the life of their read transaction, and growing the
// map takes it exclusively, because mdb_env_set_mapsize requires that no
// transaction of the process is active. Read transactions are pooled
// (mdb_txn_reset / mdb_txn_renew) so proofs stay cheap.

#include "crypto/keys.hpp"
#include "crypto/note.hpp"
#include "ledger/ledger.hpp"
#include "ledger/lmdb.hpp"
#include "ledger/node_store.hpp"
#include "ledger/pending.hpp"
#include "ledger/read_pool.hpp"
#include "ledger/recent_index.hpp"
#include "ledger/schema.hpp"
#include "ledger/store.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

namespace vellum::ledger {

// A read transaction with its view of the event-id and stream indexes.
struct index_read {
  store::reader r;
  store::recent_index::snapshot snap;
  store::recent_index::pin pin;
  const lmdb::txn& txn() const { return r.txn(); }
};

// hashes(): one pooled read transaction per read() call.
class ledger_hash_source final : public crypto::hash_source {
 public:
  explicit ledger_hash_source(const ledger::impl& l) : ledger_(l) {}
  [[nodiscard]] result<void> read(std::span<const crypto::node_id> ids,
                                  std::span<crypto::hash> out) const override;

 private:
  const ledger::impl& ledger_;
};

// An event of a prepared batch that will be stored.
struct fresh_event {
  std::size_t index = 0;  // position in the batch
  schema::uuid id{};
  std::optional<schema::uuid> amended;
  schema::term type{};    // query index terms (schema.hpp)
  schema::term author{};
  std::uint64_t occurred_at_us = 0;
  receipt rcpt;
};

// A statement whose event_id is already taken: decided at commit, when the
// earlier event is readable through the write transaction.
struct repeat {
  std::size_t index = 0;
  std::uint64_t seq = 0;
  bool in_batch = false;  // the earlier event is in this batch (already compared)
  std::string jws;        // to compare with the stored one (!in_batch)
};

// Everything prepare() built for one batch; commit() only writes it.
struct prepared_batch::state {
  explicit state(ledger::impl& o) : owner(&o) {}
  ~state();  // not committed: abandons the batch (commit.cpp)
  state(const state&) = delete;
  state& operator=(const state&) = delete;

  ledger::impl* owner;
  std::uint64_t number = 0;
  std::uint64_t generation = 0;
  status error;                     // preparing failed: every outcome gets it
  std::uint64_t first = 0;          // seq of the first fresh event
  std::uint64_t end = 0;            // tree size once committed
  std::uint64_t last_recorded = 0;
  std::vector<append_outcome> out;  // rejections filled by prepare
  std::vector<fresh_event> fresh;
  std::vector<repeat> repeats;
  std::vector<std::pair<crypto::node_id, hash>> nodes;  // new complete subtrees
  std::string note;                                     // checkpoint of `end`
  bool committed = false;
};
using batch_state = prepared_batch::state;

struct ledger::impl {
  impl(lmdb::env e, const options& opts)
      : env(std::move(e)),
        pool(env.get()),
        clock(opts.clock ? opts.clock : system_clock_us),
        merge_every(opts.index_merge_events),
        data_dir(opts.data_dir) {}
  ~impl() { pool.clear(); }
  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;

  // --- open.cpp
  // Opens the databases, checks or creates meta, the log key and the first
  // checkpoint; a failure's reason names what is wrong.
  [[nodiscard]] status init(const options& opts);

  // --- reads.cpp
  [[nodiscard]] result<store::reader> begin_read() const;
  // A read transaction and what it sees of the event-id and stream indexes:
  // the merged part in LMDB, the newer part in `recent` (pinned while it lives).
  [[nodiscard]] result<index_read> begin_index_read() const;
  // Committed nodes, read through `t` and the upper-level cache.
  store::node_source nodes(const lmdb::txn& t) const {
    return store::node_source(t, dbs[schema::db::nodes], &upper);
  }

  // --- commit.cpp
  [[nodiscard]] status prepare_into(batch_state& b, std::span<const statement> batch);
  [[nodiscard]] status write_batch(batch_state& b);
  // Runs `attempt` (which begins and commits its own write transaction)
  // until it does not fail with MDB_MAP_FULL, doubling the map each time.
  template <class F>
  [[nodiscard]] status with_map_growth(F&& attempt) {
    for (int tries = 0;; ++tries) {
      status ec = attempt();
      if (!lmdb::is_map_full(ec) || tries >= 40) return ec;
      if (auto g = grow_map(); g) return g;
    }
  }
  [[nodiscard]] status grow_map();
  // The ledger error for a failed write transaction (storage_full when the
  // file system is out of space, whatever code LMDB chose).
  [[nodiscard]] status write_failure(const status& ec) const;
  [[nodiscard]] result<std::string> sign_checkpoint(std::uint64_t size, const hash& root) const;
  void advance_turn();  // under write_mu
  // A prepared batch dropped without commit: it and everything prepared on
  // top of it fail.
  void abandon(std::uint64_t number, std::uint64_t generation) noexcept;

  // --- indexes.cpp
  // Puts recent's entries of seqs [from, to) into event_ids, stream_index
  // and streams.
  [[nodiscard]] status write_index_merge(const lmdb::txn& t, std::uint64_t from,
                                         std::uint64_t to);
  // Fills recent from the records of seqs [from, to) (at open).
  [[nodiscard]] status load_recent(const lmdb::txn& t, std::uint64_t from, std::uint64_t to);
  // Writes the by_* query indexes of events [0, size) from their records (the
  // upgrade of a version 1 or 2 store), in `t`.
  [[nodiscard]] status build_query_indexes(const lmdb::txn& t, std::uint64_t events);

  lmdb::env env;
  mutable store::read_pool pool;
  clock_fn clock;
  std::uint64_t merge_every;
  std::string data_dir;
  // The failure of the latest commit, success once a commit succeeds again
  // (ledger::ready_to_write).
  mutable std::mutex health_mu;
  status last_commit_error;  // guarded by health_mu
  store::dbs dbs;
  std::string origin;
  std::optional<crypto::note_signer> signer;
  std::string vkey;
  mutable std::shared_mutex map_mu;
  // Preparing (prepare order, pending state).
  std::mutex prep_mu;
  store::pending_state pending;            // guarded by prep_mu
  std::uint64_t next_number = 0;           // guarded by prep_mu
  std::atomic<bool> pending_reset{false};  // set by a failed commit
  // Committing, in prepare order.
  std::mutex write_mu;
  std::condition_variable turn;
  std::uint64_t next_commit = 0;                     // guarded by write_mu
  std::set<std::uint64_t> abandoned;                 // guarded by write_mu
  std::optional<std::uint64_t> poisoned_generation;  // guarded by write_mu
  status poison;                                     // guarded by write_mu
  std::atomic<std::uint64_t> size{0};
  std::atomic<std::uint64_t> indexed{0};  // meta "indexed" as last committed
  store::upper_node_cache upper;
  mutable store::recent_index recent;  // readers pin snapshots
  ledger_hash_source hashes{*this};
};

}  // namespace vellum::ledger
