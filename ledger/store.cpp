// The event store: class ledger on one LMDB environment (schema.hpp).
//
// Concurrency: prepare() holds prep_mu_ (one sequencer: the pending state
// of batches prepared and not yet committed); commit() holds write_mu_ (one
// writer) and waits for its turn in prepare order; readers take a shared
// lock on map_mu_ for the life of their read transaction, and growing the
// map takes it exclusively, because mdb_env_set_mapsize requires that no
// transaction of the process is active. Read transactions are pooled
// (mdb_txn_reset / mdb_txn_renew) so proofs stay cheap.

#include "base/file.hpp"
#include "ledger/ledger.hpp"
#include "ledger/lmdb.hpp"
#include "ledger/schema.hpp"
#include "ledger/store.hpp"

#include "crypto/encoding.hpp"
#include "crypto/keys.hpp"
#include "crypto/leaf_entry.hpp"
#include "crypto/note.hpp"

#include <sys/statvfs.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <limits>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <unordered_map>

namespace vellum::ledger {

// ---------------------------------------------------------------------------
// Shared storage helpers (store.hpp), also used by fsck.

namespace store {

result<dbs> open_dbs(const lmdb::txn& t, unsigned flags) {
  dbs out;
  for (std::size_t i = 0; i < schema::db_count; ++i) {
    auto h = t.open_db(schema::db_names[i], flags);
    if (!h) return h.error();
    out.h[i] = *h;
  }
  return out;
}

result<std::optional<std::uint64_t>> get_u64(const lmdb::txn& t, MDB_dbi db, byte_view key) {
  auto v = t.get(db, key);
  if (!v) return v.error();
  if (!*v) return std::optional<std::uint64_t>{};
  auto n = schema::decode_u64(**v);
  if (!n) return n.error();
  return std::optional<std::uint64_t>{*n};
}

result<std::uint64_t> meta_u64(const lmdb::txn& t, const dbs& d, std::string_view key) {
  auto v = get_u64(t, d[schema::db::meta], schema::view(key));
  if (!v) return v.error();
  if (!*v) return errc::corrupt;
  return **v;
}

void upper_node_cache::lookup(std::span<const crypto::node_id> ids, std::span<crypto::hash> out,
                              std::span<unsigned char> hit) const {
  std::shared_lock lock(mu_);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const crypto::node_id& id = ids[i];
    if (id.level < min_level || id.level >= levels_.size()) continue;
    const auto& level = levels_[id.level];
    if (id.index >= level.size()) continue;
    out[i] = level[id.index];
    hit[i] = 1;
  }
}

void upper_node_cache::add(std::span<const std::pair<crypto::node_id, crypto::hash>> nodes) {
  std::unique_lock lock(mu_);
  for (const auto& [id, h] : nodes) {
    if (id.level < min_level || id.level >= levels_.size()) continue;
    auto& level = levels_[id.level];
    if (id.index == level.size()) level.push_back(h);
  }
}

result<void> upper_node_cache::load(const lmdb::txn& t, MDB_dbi nodes) {
  auto c = lmdb::cursor::open(t, nodes);
  if (!c) return lmdb::to_ledger_error(c.error());
  const crypto::node_id first{static_cast<std::uint8_t>(min_level), 0};
  std::vector<std::pair<crypto::node_id, crypto::hash>> batch;
  for (auto e = c->get(MDB_SET_RANGE, schema::node_key(first));; e = c->get(MDB_NEXT)) {
    if (!e) return lmdb::to_ledger_error(e.error());
    if (!*e) break;
    auto id = schema::decode_node_key((*e)->first);
    auto h = schema::decode_hash((*e)->second);
    if (!id || !h) return errc::corrupt;
    batch.emplace_back(*id, *h);
  }
  add(batch);
  return {};
}

result<void> node_source::read(std::span<const crypto::node_id> ids,
                               std::span<crypto::hash> out) const {
  if (ids.size() != out.size()) return errc::invalid_argument;
  std::vector<unsigned char> hit(ids.size(), 0);
  if (cache_ != nullptr) cache_->lookup(ids, out, hit);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (hit[i]) continue;
    const auto key = schema::node_key(ids[i]);
    auto v = txn_.get(nodes_, key);
    if (!v) return lmdb::to_ledger_error(v.error());
    if (!*v) return errc::not_found;
    auto h = schema::decode_hash(**v);
    if (!h) return h.error();
    out[i] = *h;
  }
  return {};
}

result<void> caching_source::read(std::span<const crypto::node_id> ids,
                                  std::span<crypto::hash> out) const {
  if (ids.size() != out.size()) return errc::invalid_argument;
  std::vector<crypto::node_id> miss_ids;
  std::vector<std::size_t> miss_pos;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    auto it = cache_.find(map_key(ids[i]));
    if (it != cache_.end()) {
      out[i] = it->second;
    } else {
      miss_ids.push_back(ids[i]);
      miss_pos.push_back(i);
    }
  }
  if (miss_ids.empty()) return {};
  std::vector<crypto::hash> got(miss_ids.size());
  if (auto r = base_.read(miss_ids, got); !r) return r;
  for (std::size_t j = 0; j < miss_ids.size(); ++j) {
    out[miss_pos[j]] = got[j];
    cache_.emplace(map_key(miss_ids[j]), got[j]);
  }
  return {};
}

std::optional<recent_index::pin> recent_index::hold(snapshot s) {
  std::unique_lock lock(mu_);
  if (kept_from_ > s.indexed) return std::nullopt;
  ++pins_[s.indexed];
  return pin(this, s.indexed);
}

recent_index::pin::~pin() {
  if (owner_ == nullptr) return;
  std::unique_lock lock(owner_->mu_);
  auto it = owner_->pins_.find(indexed_);
  if (it != owner_->pins_.end() && --it->second == 0) owner_->pins_.erase(it);
}

std::optional<std::uint64_t> recent_index::head(std::string_view stream, snapshot s) const {
  std::shared_lock lock(mu_);
  auto it = streams_.find(stream);
  if (it == streams_.end()) return std::nullopt;
  const auto& seqs = it->second.seqs;
  // The newest entry before the snapshot's end...
  auto past = std::lower_bound(seqs.begin(), seqs.end(), s.size);
  if (past == seqs.begin()) return std::nullopt;
  // ...counts unless it is merged already (then so is every older one).
  if (*(past - 1) < s.indexed) return std::nullopt;
  return it->second.first_revision + static_cast<std::uint64_t>(past - seqs.begin()) - 1;
}

std::optional<std::uint64_t> recent_index::seq_of(std::string_view stream,
                                                  std::uint64_t revision, snapshot s) const {
  std::shared_lock lock(mu_);
  auto it = streams_.find(stream);
  if (it == streams_.end() || revision < it->second.first_revision) return std::nullopt;
  const std::uint64_t i = revision - it->second.first_revision;
  if (i >= it->second.seqs.size()) return std::nullopt;
  const std::uint64_t seq = it->second.seqs[i];
  if (seq < s.indexed || seq >= s.size) return std::nullopt;
  return seq;
}

std::optional<std::uint64_t> recent_index::seq_of_id(const schema::uuid& id, snapshot s) const {
  std::shared_lock lock(mu_);
  auto it = ids_.find(id);
  if (it == ids_.end() || it->second < s.indexed || it->second >= s.size) return std::nullopt;
  return it->second;
}

bool recent_index::add(std::span<const entry> batch) {
  std::unique_lock lock(mu_);
  const std::uint64_t first = kept_from_ + ids_by_seq_.size();
  bool ok = true;
  for (const entry& e : batch) {
    if (e.seq != kept_from_ + ids_by_seq_.size() || !ids_.emplace(e.id, e.seq).second) {
      ok = false;
      break;
    }
    ids_by_seq_.push_back(e.id);
    auto it = streams_.find(e.stream);
    if (it == streams_.end()) {
      it = streams_.emplace(std::string(e.stream), entries{e.revision, {}}).first;
    } else if (it->second.first_revision + it->second.seqs.size() != e.revision) {
      ok = false;
      break;
    }
    it->second.seqs.push_back(e.seq);
  }
  if (ok) return true;
  lock.unlock();
  drop_from(first);
  return false;
}

void recent_index::drop_from(std::uint64_t seq) {
  std::unique_lock lock(mu_);
  if (kept_from_ + ids_by_seq_.size() <= seq) return;
  while (kept_from_ + ids_by_seq_.size() > std::max(seq, kept_from_)) {
    ids_.erase(ids_by_seq_.back());
    ids_by_seq_.pop_back();
  }
  for (auto it = streams_.begin(); it != streams_.end();) {
    auto& seqs = it->second.seqs;
    while (!seqs.empty() && seqs.back() >= seq) seqs.pop_back();
    it = seqs.empty() ? streams_.erase(it) : std::next(it);
  }
}

void recent_index::forget_before(std::uint64_t seq) {
  std::unique_lock lock(mu_);
  if (!pins_.empty()) seq = std::min(seq, pins_.begin()->first);
  seq = std::min(seq, kept_from_ + ids_by_seq_.size());
  if (seq <= kept_from_) return;
  for (; kept_from_ < seq; ++kept_from_) {
    ids_.erase(ids_by_seq_.front());
    ids_by_seq_.pop_front();
  }
  for (auto it = streams_.begin(); it != streams_.end();) {
    auto& e = it->second;
    while (!e.seqs.empty() && e.seqs.front() < seq) {
      e.seqs.pop_front();
      ++e.first_revision;
    }
    it = e.seqs.empty() ? streams_.erase(it) : std::next(it);
  }
}

std::vector<recent_index::stream_run> recent_index::stream_runs(std::uint64_t from,
                                                                std::uint64_t to) const {
  std::shared_lock lock(mu_);
  std::vector<stream_run> out;
  for (const auto& [stream, e] : streams_) {
    auto first = std::lower_bound(e.seqs.begin(), e.seqs.end(), from);
    auto last = std::lower_bound(first, e.seqs.end(), to);
    if (first == last) continue;
    out.push_back({stream, e.first_revision + static_cast<std::uint64_t>(first - e.seqs.begin()),
                   std::vector<std::uint64_t>(first, last)});
  }
  // stream_index order (std::string compares bytes as unsigned, as LMDB does).
  std::sort(out.begin(), out.end(),
            [](const stream_run& a, const stream_run& b) { return a.stream < b.stream; });
  return out;
}

std::vector<std::pair<schema::uuid, std::uint64_t>> recent_index::id_runs(
    std::uint64_t from, std::uint64_t to) const {
  std::shared_lock lock(mu_);
  std::vector<std::pair<schema::uuid, std::uint64_t>> out;
  const std::uint64_t end = kept_from_ + ids_by_seq_.size();
  for (std::uint64_t seq = std::max(from, kept_from_); seq < std::min(to, end); ++seq) {
    out.emplace_back(ids_by_seq_[seq - kept_from_], seq);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void recent_index::clear(std::uint64_t next) {
  std::unique_lock lock(mu_);
  streams_.clear();
  ids_.clear();
  ids_by_seq_.clear();
  kept_from_ = next;
}

}  // namespace store

namespace {

using schema::db;

// A pool of reset read transactions, renewed on demand. Reset transactions
// hold no snapshot and no reader slot, so they never pin old pages.
class read_pool {
 public:
  explicit read_pool(MDB_env* e) : env_(e) {}
  ~read_pool() { clear(); }
  read_pool(const read_pool&) = delete;
  read_pool& operator=(const read_pool&) = delete;

  result<MDB_txn*> acquire() {
    MDB_txn* t = nullptr;
    {
      std::lock_guard lock(mu_);
      if (!free_.empty()) {
        t = free_.back();
        free_.pop_back();
      }
    }
    if (t != nullptr) {
      if (::mdb_txn_renew(t) == 0) return t;
      ::mdb_txn_abort(t);
    }
    if (int rc = ::mdb_txn_begin(env_, nullptr, MDB_RDONLY, &t); rc != 0) {
      return lmdb::make_error(rc);
    }
    return t;
  }

  void release(MDB_txn* t) noexcept {
    if (t == nullptr) return;
    ::mdb_txn_reset(t);
    std::lock_guard lock(mu_);
    if (free_.size() < max_free) {
      free_.push_back(t);
      return;
    }
    ::mdb_txn_abort(t);
  }

  // Frees every pooled transaction (before the map is resized or closed).
  void clear() noexcept {
    std::lock_guard lock(mu_);
    for (MDB_txn* t : free_) ::mdb_txn_abort(t);
    free_.clear();
  }

 private:
  static constexpr std::size_t max_free = 64;
  MDB_env* env_;
  std::mutex mu_;
  std::vector<MDB_txn*> free_;
};

// A read transaction that holds the map lock shared while it lives.
class reader {
 public:
  reader(std::shared_lock<std::shared_mutex> lock, read_pool& pool, MDB_txn* t)
      : lock_(std::move(lock)), pool_(&pool), txn_(t) {}
  reader(reader&&) noexcept = default;
  reader& operator=(reader&&) = delete;
  reader(const reader&) = delete;
  ~reader() {
    if (txn_) pool_->release(txn_.release());
  }
  const lmdb::txn& txn() const { return txn_; }

 private:
  std::shared_lock<std::shared_mutex> lock_;
  read_pool* pool_;
  lmdb::txn txn_;
};

bool valid_stream_name(std::string_view s) {
  return !s.empty() && s.find('\0') == std::string_view::npos;
}

bool valid_kid(std::string_view kid) {
  if (kid.empty() || kid.size() > 255) return false;
  return std::all_of(kid.begin(), kid.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

using store::uuid_hash;
using store::map_key;
using store::node_map_hash;
using store::node_map_key;

// Hashes of complete subtrees that are not yet stored: this batch's, then
// earlier prepared batches', then the store.
class overlay_source final : public crypto::hash_source {
 public:
  using map = std::unordered_map<node_map_key, hash, node_map_hash>;
  overlay_source(const map& local, const map& pending, const crypto::hash_source& stored)
      : local_(local), pending_(pending), stored_(stored) {}
  result<void> read(std::span<const crypto::node_id> ids,
                    std::span<crypto::hash> out) const override {
    if (ids.size() != out.size()) return errc::invalid_argument;
    std::vector<crypto::node_id> miss;
    std::vector<std::size_t> where;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const auto k = map_key(ids[i]);
      if (auto it = local_.find(k); it != local_.end()) {
        out[i] = it->second;
      } else if (auto p = pending_.find(k); p != pending_.end()) {
        out[i] = p->second;
      } else {
        miss.push_back(ids[i]);
        where.push_back(i);
      }
    }
    if (miss.empty()) return {};
    std::vector<crypto::hash> got(miss.size());
    if (auto r = stored_.read(miss, got); !r) return r;
    for (std::size_t j = 0; j < miss.size(); ++j) out[where[j]] = got[j];
    return {};
  }

 private:
  const map& local_;
  const map& pending_;
  const crypto::hash_source& stored_;
};

// What batches prepared and not yet committed have claimed. Entries are
// forgotten once a read transaction opened after their commit sees them.
struct pending_state {
  bool poisoned = false;      // a commit failed: start again from the store
  std::uint64_t generation = 0;
  std::uint64_t size = 0;     // tree size after every prepared batch
  std::uint64_t last_recorded = 0;
  std::unordered_map<schema::uuid, std::uint64_t, uuid_hash> ids;  // → seq
  // stream → (revision, number of the batch that set it)
  std::unordered_map<std::string, std::pair<std::uint64_t, std::uint64_t>> streams;
  overlay_source::map nodes;
  struct batch_keys {
    std::uint64_t number = 0;
    std::uint64_t end = 0;  // tree size once committed
    std::vector<schema::uuid> ids;
    std::vector<std::string> streams;
    std::vector<node_map_key> nodes;
  };
  std::deque<batch_keys> batches;

  void forget_committed(std::uint64_t committed) {
    while (!batches.empty() && batches.front().end <= committed) {
      const batch_keys& b = batches.front();
      for (const auto& id : b.ids) ids.erase(id);
      for (const auto& k : b.nodes) nodes.erase(k);
      for (const auto& s : b.streams) {
        auto it = streams.find(s);
        if (it != streams.end() && it->second.second == b.number) streams.erase(it);
      }
      batches.pop_front();
    }
  }
  void clear() {
    ids.clear();
    streams.clear();
    nodes.clear();
    batches.clear();
  }
};

// A read transaction with its view of the event-id and stream indexes.
struct index_read {
  reader r;
  store::recent_index::snapshot snap;
  store::recent_index::pin pin;
  const lmdb::txn& txn() const { return r.txn(); }
};

class ledger_impl;
class batch_impl;

// hashes(): one pooled read transaction per read() call.
class ledger_hash_source final : public crypto::hash_source {
 public:
  explicit ledger_hash_source(const ledger_impl& l) : ledger_(l) {}
  result<void> read(std::span<const crypto::node_id> ids,
                    std::span<crypto::hash> out) const override;

 private:
  const ledger_impl& ledger_;
};

class ledger_impl final : public ledger {
 public:
  ledger_impl(lmdb::env e, const options& opts)
      : env_(std::move(e)),
        pool_(env_.get()),
        clock_(opts.clock ? opts.clock : system_clock_us),
        merge_every_(opts.index_merge_events) {}
  ~ledger_impl() override { pool_.clear(); }

  // Opens the databases, checks or creates meta, the log key and the first
  // checkpoint. `why` receives the reason for a failure.
  status init(const options& opts, std::string& why);

  const std::string& origin() const override { return origin_; }
  std::string verifier_key() const override { return vkey_; }
  std::vector<append_outcome> append(std::span<const statement> batch) override;
  std::unique_ptr<prepared_batch> prepare(std::span<const statement> batch) override;
  std::vector<append_outcome> commit(std::unique_ptr<prepared_batch> batch) override;
  result<std::uint64_t> merge_index(std::uint64_t at_least) override;
  std::uint64_t unmerged_events() const override {
    const std::uint64_t size = size_.load(std::memory_order_acquire);
    const std::uint64_t indexed = indexed_.load(std::memory_order_acquire);
    return size > indexed ? size - indexed : 0;
  }
  // A prepared batch dropped without commit: it and everything prepared on
  // top of it fail.
  void abandon(std::uint64_t number, std::uint64_t generation) noexcept;
  std::uint64_t tree_size() const override { return size_.load(std::memory_order_acquire); }
  result<signed_checkpoint> latest_checkpoint() const override;
  result<signed_checkpoint> checkpoint_at(std::uint64_t size) const override;
  result<stored_event> event_by_seq(std::uint64_t seq) const override;
  result<stored_event> event_by_id(std::string_view event_id) const override;
  result<std::vector<std::uint64_t>> amendments_of(std::string_view event_id) const override;
  result<std::uint64_t> stream_revision(std::string_view stream) const override;
  result<std::vector<stored_event>> read_stream(std::string_view stream,
                                                std::uint64_t from_revision, direction dir,
                                                std::size_t limit) const override;
  result<std::vector<stored_event>> read_all(std::uint64_t from_seq,
                                             std::size_t limit) const override;
  result<std::vector<hash>> inclusion_proof(std::uint64_t seq,
                                            std::uint64_t tree_size) const override;
  result<std::vector<hash>> consistency_proof(std::uint64_t from,
                                              std::uint64_t to) const override;
  result<bytes> read_tile(const crypto::tile& t) const override;
  const crypto::hash_source& hashes() const override { return hashes_; }
  result<receipt> receipt_for(std::uint64_t seq) const override;
  result<bytes> leaf_entry(std::uint64_t seq) const override;

  result<reader> begin_read() const;
  // A read transaction and what it sees of the event-id and stream indexes:
  // the merged part in LMDB, the newer part in recent_ (pinned while it lives).
  result<index_read> begin_index_read() const;
  // Committed nodes, read through `t` and the upper-level cache.
  store::node_source nodes(const lmdb::txn& t) const {
    return store::node_source(t, dbs_[db::nodes], &upper_);
  }

 private:
  // Runs `attempt` (which begins and commits its own write transaction)
  // until it does not fail with MDB_MAP_FULL, doubling the map each time.
  template <class F>
  status with_map_growth(F&& attempt);
  status grow_map();
  // The ledger error for a failed write transaction (storage_full when the
  // file system is out of space, whatever code LMDB chose).
  status write_failure(const status& ec) const;
  status init_txn(const options& opts, std::string& why);
  status prepare_into(batch_impl& b, std::span<const statement> batch);
  status write_batch(batch_impl& b);
  // Puts recent_'s entries of seqs [from, to) into event_ids, stream_index
  // and streams.
  status write_index_merge(const lmdb::txn& t, std::uint64_t from,
                                              std::uint64_t to);
  // Fills recent_ from the records of seqs [from, to) (at open).
  status load_recent(const lmdb::txn& t, std::uint64_t from, std::uint64_t to);
  void advance_turn();  // under write_mu_
  result<std::string> sign_checkpoint(std::uint64_t size, const hash& root) const;

  lmdb::env env_;
  mutable read_pool pool_;
  clock_fn clock_;
  std::uint64_t merge_every_;
  store::dbs dbs_;
  std::string origin_;
  std::optional<crypto::note_signer> signer_;
  std::string vkey_;
  mutable std::shared_mutex map_mu_;
  // Preparing (prepare order, pending state).
  std::mutex prep_mu_;
  pending_state pending_;          // guarded by prep_mu_
  std::uint64_t next_number_ = 0;  // guarded by prep_mu_
  std::atomic<bool> pending_reset_{false};  // set by a failed commit
  // Committing, in prepare order.
  std::mutex write_mu_;
  std::condition_variable turn_;
  std::uint64_t next_commit_ = 0;                       // guarded by write_mu_
  std::set<std::uint64_t> abandoned_;                   // guarded by write_mu_
  std::optional<std::uint64_t> poisoned_generation_;    // guarded by write_mu_
  status poison_;                    // guarded by write_mu_
  std::atomic<std::uint64_t> size_{0};
  std::atomic<std::uint64_t> indexed_{0};  // meta "indexed" as last committed
  store::upper_node_cache upper_;
  mutable store::recent_index recent_;  // readers pin snapshots
  ledger_hash_source hashes_{*this};
};

result<void> ledger_hash_source::read(std::span<const crypto::node_id> ids,
                                      std::span<crypto::hash> out) const {
  auto r = ledger_.begin_read();
  if (!r) return r.error();
  return ledger_.nodes(r->txn()).read(ids, out);
}

result<reader> ledger_impl::begin_read() const {
  std::shared_lock lock(map_mu_);
  auto t = pool_.acquire();
  if (!t) return lmdb::to_ledger_error(t.error());
  return reader(std::move(lock), pool_, *t);
}

result<index_read> ledger_impl::begin_index_read() const {
  // Fails only if merges forget entries between opening a transaction and
  // pinning its snapshot; a fresh transaction is as good an answer.
  for (int tries = 0; tries < 64; ++tries) {
    auto r = begin_read();
    if (!r) return r.error();
    auto size = store::meta_u64(r->txn(), dbs_, schema::meta_key::tree_size);
    if (!size) return size.error();
    auto indexed = store::meta_u64(r->txn(), dbs_, schema::meta_key::indexed);
    if (!indexed) return indexed.error();
    const store::recent_index::snapshot snap{*indexed, *size};
    if (auto p = recent_.hold(snap)) return index_read{std::move(*r), snap, std::move(*p)};
  }
  return errc::io_error;
}

template <class F>
status ledger_impl::with_map_growth(F&& attempt) {
  for (int tries = 0;; ++tries) {
    status ec = attempt();
    if (!lmdb::is_map_full(ec) || tries >= 40) return ec;
    if (auto g = grow_map(); g) return g;
  }
}

status ledger_impl::grow_map() {
  std::unique_lock lock(map_mu_);  // waits for every reader to finish
  pool_.clear();
  const std::size_t current = env_.map_size();
  if (current == 0 || current > std::numeric_limits<std::size_t>::max() / 2) {
    return lmdb::make_error(MDB_MAP_FULL);
  }
  if (auto r = env_.set_map_size(current * 2); !r) return r.error();
  return {};
}

result<std::string> ledger_impl::sign_checkpoint(std::uint64_t size, const hash& root) const {
  const crypto::checkpoint body{origin_, size, root, {}};
  auto note = crypto::sign_note(body.format(), std::span<const crypto::note_signer>(&*signer_, 1));
  if (!note) return errc::key_error;
  return std::move(*note);
}

// ---------------------------------------------------------------------------
// Opening

status ledger_impl::init(const options& opts, std::string& why) {
  return with_map_growth([&] { return init_txn(opts, why); });
}

status ledger_impl::init_txn(const options& opts, std::string& why) {
  auto t = lmdb::txn::begin(env_.get(), 0);
  if (!t) return t.error();
  const lmdb::txn& txn = *t;
  auto d = store::open_dbs(txn, MDB_CREATE);
  if (!d) return d.error();
  dbs_ = *d;
  const MDB_dbi meta = dbs_[db::meta];

  auto version = txn.get(meta, schema::view(schema::meta_key::schema_version));
  if (!version) return version.error();
  const bool created = !*version;
  std::uint32_t stored_version = schema::version;
  if (!created) {
    auto v = schema::decode_u32(**version);
    if (!v || *v < schema::oldest_readable_version || *v > schema::version) {
      why = "data directory has schema version " + (v ? std::to_string(*v) : "?") +
            ", this build reads versions " + std::to_string(schema::oldest_readable_version) +
            " to " + std::to_string(schema::version);
      return errc::corrupt;
    }
    stored_version = *v;
  }

  // Origin: fixed at creation; the default origin means "whatever is stored".
  origin_ = opts.origin;
  if (!created) {
    auto stored = txn.get(meta, schema::view(schema::meta_key::origin));
    if (!stored) return stored.error();
    if (!*stored || (*stored)->empty()) {
      why = "meta record \"origin\" is missing";
      return errc::corrupt;
    }
    const std::string stored_origin(schema::chars(**stored));
    if (opts.origin != options{}.origin && opts.origin != stored_origin) {
      why = "data directory was created with origin \"" + stored_origin +
            "\"; it cannot be opened as \"" + opts.origin + "\"";
      return errc::invalid_argument;
    }
    origin_ = stored_origin;
  }
  if (!crypto::valid_note_key_name(origin_)) {
    why = "origin \"" + origin_ + "\" is not a valid key name (empty, whitespace or '+')";
    return errc::invalid_argument;
  }

  // Log key: load it, or generate it for a new log in the default place.
  const std::string key_path =
      opts.key_file.empty() ? opts.data_dir + "/log-key.pem" : opts.key_file;
  std::error_code fs_ec;
  std::optional<crypto::private_key> key;
  if (std::filesystem::exists(key_path, fs_ec)) {
    auto pem = vellum::read_file(key_path);
    if (!pem) {
      why = "cannot read log key " + key_path;
      return errc::key_error;
    }
    auto k = crypto::private_key::from_pem(*pem);
    if (!k || k->type() != crypto::key_type::ed25519) {
      why = "log key " + key_path + " is not an Ed25519 PKCS#8 PEM private key";
      return errc::key_error;
    }
    key = std::move(*k);
  } else if (!opts.key_file.empty()) {
    why = "log key file " + key_path + " does not exist";
    return errc::key_error;
  } else if (!created) {
    why = "log key " + key_path + " is missing; this log cannot be signed with a new key";
    return errc::key_error;
  } else {
    auto k = crypto::private_key::generate(crypto::key_type::ed25519);
    if (!k) {
      why = "cannot generate the log key";
      return errc::key_error;
    }
    if (auto w = vellum::write_file_atomic(key_path, k->to_pem(), 0600); !w) {
      why = "cannot write log key " + key_path;
      return errc::io_error;
    }
    key = std::move(*k);
  }
  auto signer = crypto::note_signer::create(origin_, std::move(*key));
  if (!signer) {
    why = "cannot use the log key to sign notes named \"" + origin_ + "\"";
    return errc::key_error;
  }
  signer_ = std::move(*signer);
  vkey_ = signer_->verifier().vkey();

  if (!created) {
    auto stored = txn.get(meta, schema::view(schema::meta_key::verifier_key));
    if (!stored) return stored.error();
    if (!*stored || schema::chars(**stored) != vkey_) {
      why = "log key " + key_path + " is not the key this log was created with (" +
            (*stored ? std::string(schema::chars(**stored)) : std::string("?")) + ")";
      return errc::key_error;
    }
    auto size = store::meta_u64(txn, dbs_, schema::meta_key::tree_size);
    if (!size) {
      why = "meta record \"tree_size\" is missing or malformed";
      return size.error();
    }
    if (auto c = upper_.load(txn, dbs_[db::nodes]); !c) {
      why = "stored nodes do not decode";
      return c.error();
    }
    // Version 1 indexed every event at once: all of it is merged.
    if (stored_version == 1) {
      const auto upgraded = schema::encode_u32(schema::version);
      for (auto r : {txn.put(meta, schema::view(schema::meta_key::indexed),
                             schema::encode_u64(*size)),
                     txn.put(meta, schema::view(schema::meta_key::schema_version), upgraded)}) {
        if (!r) return r.error();
      }
    }
    auto indexed = store::meta_u64(txn, dbs_, schema::meta_key::indexed);
    if (!indexed || *indexed > *size) {
      why = "meta record \"indexed\" is missing, malformed or past the tree size";
      return indexed ? make_error_code(errc::corrupt) : indexed.error();
    }
    if (auto l = load_recent(txn, *indexed, *size); l) {
      why = "the records after the merged indexes do not decode";
      return l;
    }
    indexed_.store(*indexed, std::memory_order_release);
    size_.store(*size, std::memory_order_release);
  } else {
    const auto version_bytes = schema::encode_u32(schema::version);
    const auto zero = schema::encode_u64(0);
    for (auto r : {txn.put(meta, schema::view(schema::meta_key::schema_version), version_bytes),
                   txn.put(meta, schema::view(schema::meta_key::origin), schema::view(origin_)),
                   txn.put(meta, schema::view(schema::meta_key::verifier_key), schema::view(vkey_)),
                   txn.put(meta, schema::view(schema::meta_key::tree_size), zero),
                   txn.put(meta, schema::view(schema::meta_key::recorded_at), zero),
                   txn.put(meta, schema::view(schema::meta_key::indexed), zero)}) {
      if (!r) return r.error();
    }
    recent_.clear(0);
    auto note = sign_checkpoint(0, crypto::empty_root());
    if (!note) {
      why = "cannot sign the first checkpoint";
      return note.error();
    }
    if (auto r = txn.put(dbs_[db::checkpoints], zero, schema::view(*note), MDB_APPEND); !r) {
      return r.error();
    }
    size_.store(0, std::memory_order_release);
  }
  if (auto c = t->commit(); !c) return c.error();
  return {};
}

status ledger_impl::load_recent(const lmdb::txn& t, std::uint64_t from,
                                                   std::uint64_t to) {
  recent_.clear(from);
  if (from == to) return {};
  auto c = lmdb::cursor::open(t, dbs_[db::records]);
  if (!c) return c.error();
  std::uint64_t seq = from;
  std::vector<crypto::event_record> records;  // in chunks: add() takes one lock each
  auto add = [&]() -> status {
    std::vector<store::recent_index::entry> entries;
    entries.reserve(records.size());
    for (std::size_t i = 0; i < records.size(); ++i) {
      auto id = schema::parse_uuid(records[i].event_id);
      if (!id) return errc::corrupt;
      entries.push_back({seq - records.size() + i, *id, records[i].stream, records[i].revision});
    }
    if (!recent_.add(entries)) return errc::corrupt;
    records.clear();
    return {};
  };
  for (auto e = c->get(MDB_SET_RANGE, schema::encode_u64(from)); seq < to; e = c->get(MDB_NEXT)) {
    if (!e) return e.error();
    if (!*e) return errc::corrupt;  // a record below tree_size is missing
    auto key = schema::decode_u64((*e)->first);
    auto value = schema::decode_record_value((*e)->second);
    if (!key || *key != seq || !value) return errc::corrupt;
    auto rec = crypto::decode_event_record(value->record);
    if (!rec) return errc::corrupt;
    records.push_back(std::move(*rec));
    ++seq;
    if (records.size() == 4096) {
      if (auto a = add(); a) return a;
    }
  }
  return add();
}

}  // namespace

result<std::unique_ptr<ledger>> ledger::open(const options& opts) {
  std::string reason;
  auto fail = [&](const status& ec) -> result<std::unique_ptr<ledger>> {
    return reason.empty() ? ec : status(ec.code(), reason);
  };
  if (opts.data_dir.empty()) {
    reason = "no data directory given";
    return fail(errc::invalid_argument);
  }
  std::error_code fs_ec;
  std::filesystem::create_directories(opts.data_dir, fs_ec);
  if (fs_ec) {
    reason = "cannot create data directory " + opts.data_dir + ": " + fs_ec.message();
    return fail(errc::io_error);
  }
  const unsigned flags = MDB_NOTLS | (opts.sync ? 0u : MDB_NOSYNC);
  const std::size_t map_size = std::max<std::size_t>(opts.initial_map_size, 64 * 1024);
  auto e = lmdb::env::open(opts.data_dir, flags, map_size, schema::db_count + 2);
  if (!e) {
    reason = "cannot open LMDB environment in " + opts.data_dir + ": " + e.error().message();
    return fail(lmdb::to_ledger_error(e.error()));
  }
  auto impl = std::make_unique<ledger_impl>(std::move(*e), opts);
  if (auto ec = impl->init(opts, reason); ec) {
    if (reason.empty()) reason = "cannot initialise " + opts.data_dir + ": " + ec.message();
    return fail(lmdb::to_ledger_error(ec));
  }
  return std::unique_ptr<ledger>(std::move(impl));
}

result<receipt> ledger::receipt_for(std::uint64_t) const { return errc::not_found; }
result<std::uint64_t> ledger::merge_index(std::uint64_t) { return std::uint64_t{0}; }
std::uint64_t ledger::unmerged_events() const { return 0; }

result<bytes> ledger::leaf_entry(std::uint64_t seq) const {
  auto e = event_by_seq(seq);
  if (!e) return e.error();
  return std::move(e->leaf_entry);
}

namespace {

// ---------------------------------------------------------------------------
// Appending
//
// prepare() runs under prep_mu_ and sees three layers: what this batch has
// built so far (locals), what earlier batches prepared and not yet
// committed (pending_), and the store (a read transaction). commit() runs
// under write_mu_, strictly in prepare order, and only writes bytes that
// prepare() built; it resolves idempotent repeats through the write
// transaction, which by then sees every batch before it.

// An event of the batch that will be stored.
struct fresh_event {
  std::size_t index = 0;  // position in the batch
  schema::uuid id{};
  std::optional<schema::uuid> amended;
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

void abandon(ledger_impl& l, batch_impl& b) noexcept;

class batch_impl final : public prepared_batch {
 public:
  explicit batch_impl(ledger_impl& owner) : owner_(&owner) {}
  ~batch_impl() override {
    if (!committed) abandon(*owner_, *this);
  }
  std::size_t statements() const override { return out.size(); }

  std::uint64_t number = 0;
  std::uint64_t generation = 0;
  status error;  // preparing failed: every outcome gets it
  std::uint64_t first = 0;          // seq of the first fresh event
  std::uint64_t end = 0;            // tree size once committed
  std::uint64_t last_recorded = 0;
  std::vector<append_outcome> out;  // rejections filled by prepare
  std::vector<fresh_event> fresh;
  std::vector<repeat> repeats;
  std::vector<std::pair<crypto::node_id, hash>> nodes;  // new complete subtrees
  std::string note;                                     // checkpoint of `end`
  bool committed = false;

 private:
  ledger_impl* owner_;
};

std::unique_ptr<prepared_batch> ledger_impl::prepare(std::span<const statement> batch) {
  auto b = std::make_unique<batch_impl>(*this);
  std::lock_guard lock(prep_mu_);
  b->number = next_number_++;
  if (pending_reset_.exchange(false)) {
    pending_.clear();
    ++pending_.generation;
  }
  b->generation = pending_.generation;
  if (auto ec = prepare_into(*b, batch); ec) {
    b->error = lmdb::to_ledger_error(ec);
    b->fresh.clear();
    b->repeats.clear();
    b->out.assign(batch.size(), append_outcome{});
  }
  return b;
}

status ledger_impl::prepare_into(batch_impl& b,
                                                    std::span<const statement> batch) {
  b.out.assign(batch.size(), append_outcome{});
  // The committed size first, then the snapshot: it sees at least that much.
  const std::uint64_t committed = size_.load(std::memory_order_acquire);
  auto r = begin_index_read();
  if (!r) return r.error();
  const lmdb::txn& txn = r->txn();
  const store::recent_index::snapshot snap = r->snap;
  pending_.forget_committed(committed);
  if (pending_.batches.empty()) {
    auto size_r = store::meta_u64(txn, dbs_, schema::meta_key::tree_size);
    if (!size_r) return size_r.error();
    auto last_r = store::meta_u64(txn, dbs_, schema::meta_key::recorded_at);
    if (!last_r) return last_r.error();
    pending_.size = *size_r;
    pending_.last_recorded = *last_r;
  }
  b.first = pending_.size;
  std::uint64_t size = pending_.size;
  std::uint64_t last_recorded = pending_.last_recorded;

  const store::node_source stored_nodes(txn, dbs_[db::nodes], &upper_);
  overlay_source::map local_nodes;
  const overlay_source nodes(local_nodes, pending_.nodes, stored_nodes);
  std::unordered_map<schema::uuid, std::size_t, uuid_hash> local_ids;  // → position in fresh
  std::unordered_map<std::string_view, std::uint64_t> local_streams;   // → revision
  b.fresh.reserve(batch.size());
  bytes salts;  // fresh from the CSPRNG for the rest of the batch: one call, not one per event

  for (std::size_t i = 0; i < batch.size(); ++i) {
    const statement& s = batch[i];
    append_outcome& o = b.out[i];
    auto id = schema::parse_uuid(s.event_id);
    std::optional<schema::uuid> amended;
    if (!s.amends.empty()) {
      auto a = schema::parse_uuid(s.amends);
      if (!a) {
        o.error = errc::invalid_argument;
        continue;
      }
      amended = *a;
    }
    if (!id || !valid_kid(s.kid) || !valid_stream_name(s.stream) || s.jws.empty()) {
      o.error = errc::invalid_argument;
      continue;
    }

    // 1. Idempotency, before concurrency: a repeat gets the first receipt.
    if (auto it = local_ids.find(*id); it != local_ids.end()) {
      const fresh_event& earlier = b.fresh[it->second];
      if (batch[earlier.index].jws == s.jws) {
        o.duplicate = true;
        b.repeats.push_back({i, earlier.rcpt.seq, true, {}});
      } else {
        o.error = errc::event_id_conflict;
      }
      continue;
    }
    if (auto it = pending_.ids.find(*id); it != pending_.ids.end()) {
      b.repeats.push_back({i, it->second, false, s.jws});
      continue;
    }
    if (auto recent = recent_.seq_of_id(*id, snap)) {
      b.repeats.push_back({i, *recent, false, s.jws});
      continue;
    }
    auto known = store::get_u64(txn, dbs_[db::event_ids], *id);
    if (!known) return known.error();
    if (*known) {
      b.repeats.push_back({i, **known, false, s.jws});
      continue;
    }

    // 2. Optimistic concurrency.
    std::optional<std::uint64_t> current;
    if (auto it = local_streams.find(s.stream); it != local_streams.end()) {
      current = it->second;
    } else if (auto p = pending_.streams.find(s.stream); p != pending_.streams.end()) {
      current = p->second.first;
    } else if (auto recent = recent_.head(s.stream, snap)) {
      current = *recent;
    } else {
      auto stored = store::get_u64(txn, dbs_[db::streams], schema::view(s.stream));
      if (!stored) return stored.error();
      current = *stored;
    }
    bool conflict = false;
    switch (s.expected.k) {
      case expected_revision::kind::any: break;
      case expected_revision::kind::no_stream: conflict = current.has_value(); break;
      case expected_revision::kind::exact:
        conflict = !current || *current != s.expected.value;
        break;
    }
    if (conflict) {
      o.error = errc::revision_conflict;
      o.current_revision = current;
      continue;
    }

    // 3. Assign seq, revision, recorded_at; build record, salt, leaf, nodes.
    const std::uint64_t seq = size;
    const std::uint64_t revision = current ? *current + 1 : 0;
    const std::uint64_t recorded = std::max(clock_(), last_recorded);
    fresh_event ev;
    ev.index = i;
    ev.id = *id;
    ev.amended = amended;
    receipt& rc = ev.rcpt;
    rc.seq = seq;
    rc.stream = s.stream;
    rc.revision = revision;
    rc.recorded_at_us = recorded;
    rc.event_id = s.event_id;
    rc.kid = s.kid;
    rc.record = crypto::event_record{seq, s.stream, revision, recorded, s.kid, s.event_id, s.jws}
                    .encode();
    if (salts.empty()) salts = crypto::random_bytes(crypto::salt_size * (batch.size() - i));
    rc.salt.assign(salts.end() - static_cast<std::ptrdiff_t>(crypto::salt_size), salts.end());
    salts.resize(salts.size() - crypto::salt_size);
    rc.leaf_entry =
        crypto::leaf_entry{seq, recorded, s.kid,
                           crypto::record_commitment(rc.salt, schema::view(rc.record))}
            .encode();
    auto completed = crypto::hashes_completed_by_append(seq, crypto::leaf_hash(rc.leaf_entry), nodes);
    if (!completed) return completed.error();
    for (const auto& [node, h] : *completed) {
      local_nodes.emplace(map_key(node), h);
      b.nodes.emplace_back(node, h);
    }
    local_ids.emplace(*id, b.fresh.size());
    local_streams[s.stream] = revision;
    size = seq + 1;
    last_recorded = recorded;
    b.fresh.push_back(std::move(ev));
  }
  b.end = size;
  b.last_recorded = last_recorded;
  if (b.fresh.empty()) return {};

  // One checkpoint for the whole batch, and every receipt's proof to it.
  auto root = crypto::tree_root(size, nodes);
  if (!root) return root.error();
  auto note = sign_checkpoint(size, *root);
  if (!note) return note.error();
  b.note = std::move(*note);
  const store::caching_source cached(nodes);
  for (fresh_event& ev : b.fresh) {
    auto proof = crypto::inclusion_proof(ev.rcpt.seq, size, cached);
    if (!proof) return proof.error();
    ev.rcpt.checkpoint = b.note;
    ev.rcpt.tree_size = size;
    ev.rcpt.inclusion_proof = std::move(*proof);
  }

  // Later batches build on this one.
  pending_state::batch_keys keys;
  keys.number = b.number;
  keys.end = size;
  keys.ids.reserve(b.fresh.size());
  for (const fresh_event& ev : b.fresh) {
    pending_.ids.emplace(ev.id, ev.rcpt.seq);
    keys.ids.push_back(ev.id);
  }
  for (const auto& [stream, revision] : local_streams) {
    std::string name(stream);
    pending_.streams[name] = {revision, b.number};
    keys.streams.push_back(std::move(name));
  }
  keys.nodes.reserve(local_nodes.size());
  for (auto& [k, h] : local_nodes) {
    pending_.nodes.emplace(k, h);
    keys.nodes.push_back(k);
  }
  pending_.batches.push_back(std::move(keys));
  pending_.size = size;
  pending_.last_recorded = last_recorded;
  return {};
}

std::vector<append_outcome> ledger_impl::commit(std::unique_ptr<prepared_batch> pb) {
  auto* b = dynamic_cast<batch_impl*>(pb.get());
  if (b == nullptr) return {};  // not ours: nothing to do
  std::unique_lock lock(write_mu_);
  turn_.wait(lock, [&] { return next_commit_ == b->number; });
  b->committed = true;
  status ec = b->error;
  if (!ec && poisoned_generation_ && *poisoned_generation_ == b->generation) ec = poison_;
  if (!ec) {
    ec = with_map_growth([&] { return write_batch(*b); });
    if (ec) {
      // Later batches of this generation were sequenced on top of this one.
      ec = write_failure(ec);
      poisoned_generation_ = b->generation;
      poison_ = ec;
      pending_reset_.store(true);
    }
  }
  advance_turn();
  lock.unlock();
  turn_.notify_all();
  if (ec) {
    for (auto& o : b->out) o = append_outcome{ec, false, std::nullopt, {}};
  } else {
    for (fresh_event& ev : b->fresh) b->out[ev.index].rcpt = std::move(ev.rcpt);
  }
  return std::move(b->out);
}

void ledger_impl::advance_turn() {
  ++next_commit_;
  while (abandoned_.erase(next_commit_) != 0) ++next_commit_;
}

void ledger_impl::abandon(std::uint64_t number, std::uint64_t generation) noexcept {
  std::lock_guard lock(write_mu_);
  poisoned_generation_ = generation;
  poison_ = errc::shutting_down;
  pending_reset_.store(true);
  if (next_commit_ == number) {
    advance_turn();
  } else {
    abandoned_.insert(number);
  }
  turn_.notify_all();
}

void abandon(ledger_impl& l, batch_impl& b) noexcept { l.abandon(b.number, b.generation); }

status ledger_impl::write_batch(batch_impl& b) {
  auto t = lmdb::txn::begin(env_.get(), 0);
  if (!t) return t.error();
  const lmdb::txn& txn = *t;
  // Batches commit in prepare order, so the store ends where this one starts.
  auto stored_size = store::meta_u64(txn, dbs_, schema::meta_key::tree_size);
  if (!stored_size) return stored_size.error();
  if (!b.fresh.empty() && *stored_size != b.first) return errc::corrupt;

  // The index entries of this batch go to memory first; readers count them
  // once their transaction sees tree_size pass them. Undone if this fails.
  struct undo_recent {
    store::recent_index& r;
    std::uint64_t from;
    bool armed = true;
    ~undo_recent() {
      if (armed) r.drop_from(from);
    }
  } undo{recent_, b.first};
  recent_.drop_from(b.first);  // a try that met a full map added them already
  {
    std::vector<store::recent_index::entry> entries;
    entries.reserve(b.fresh.size());
    for (const fresh_event& ev : b.fresh) {
      entries.push_back({ev.rcpt.seq, ev.id, ev.rcpt.stream, ev.rcpt.revision});
    }
    // Preparing checked the ids against everything stored: a clash is a bug.
    if (!recent_.add(entries)) return errc::corrupt;
  }
  std::optional<std::uint64_t> merged_from;
  if (!b.fresh.empty()) {
    auto indexed = store::meta_u64(txn, dbs_, schema::meta_key::indexed);
    if (!indexed) return indexed.error();
    if (b.end - *indexed >= merge_every_) {
      if (auto m = write_index_merge(txn, *indexed, b.end); m) return m;
      merged_from = *indexed;
    }
  }

  for (const fresh_event& ev : b.fresh) {
    const receipt& rc = ev.rcpt;
    const auto seq_key = schema::encode_u64(rc.seq);
    auto slot = txn.reserve(dbs_[db::records], seq_key, rc.salt.size() + rc.record.size(),
                            MDB_APPEND);
    if (!slot) return slot.error();
    std::memcpy(slot->data(), rc.salt.data(), rc.salt.size());
    std::memcpy(slot->data() + rc.salt.size(), rc.record.data(), rc.record.size());
    if (auto p = txn.put(dbs_[db::leaves], seq_key, rc.leaf_entry, MDB_APPEND); !p) {
      return p.error();
    }
    if (ev.amended) {
      auto p = txn.put(dbs_[db::amends], schema::amends_key(*ev.amended, rc.seq), byte_view{},
                       MDB_NOOVERWRITE);
      if (!p) return p.error();
    }
  }
  for (const auto& [node, h] : b.nodes) {
    if (auto p = txn.put(dbs_[db::nodes], schema::node_key(node), h); !p) return p.error();
  }
  if (!b.fresh.empty()) {
    const auto size_key = schema::encode_u64(b.end);
    const auto last_bytes = schema::encode_u64(b.last_recorded);
    for (auto p : {txn.put(dbs_[db::checkpoints], size_key, schema::view(b.note), MDB_APPEND),
                   txn.put(dbs_[db::meta], schema::view(schema::meta_key::tree_size), size_key),
                   txn.put(dbs_[db::meta], schema::view(schema::meta_key::recorded_at),
                           last_bytes)}) {
      if (!p) return p.error();
    }
  }

  // Repeats: the earlier event is readable now (stored, or in this batch).
  const store::node_source txn_nodes(txn, dbs_[db::nodes], &upper_);
  const store::caching_source cached(txn_nodes);
  for (const repeat& rp : b.repeats) {
    append_outcome& o = b.out[rp.index];
    if (rp.in_batch) {
      o.rcpt = b.fresh[rp.seq - b.first].rcpt;
      continue;
    }
    auto rv = txn.get(dbs_[db::records], schema::encode_u64(rp.seq));
    if (!rv) return rv.error();
    if (!*rv) return errc::corrupt;
    auto value = schema::decode_record_value(**rv);
    if (!value) return value.error();
    auto rec = crypto::decode_event_record(value->record);
    if (!rec) return errc::corrupt;
    if (rec->jws != rp.jws) {
      o = append_outcome{errc::event_id_conflict, false, std::nullopt, {}};
      continue;
    }
    auto rc = store::load_receipt(txn, dbs_, rp.seq, cached);
    if (!rc) return rc.error();
    o.duplicate = true;
    o.rcpt = std::move(*rc);
  }

  if (b.fresh.empty()) return {};  // nothing new: the transaction aborts
  if (auto c = t->commit(); !c) return c.error();
  std::vector<std::pair<crypto::node_id, hash>> upper;
  for (const auto& n : b.nodes) {
    if (n.first.level >= store::upper_node_cache::min_level) upper.push_back(n);
  }
  upper_.add(upper);
  undo.armed = false;
  // Readers whose transaction predates this merge still need what it merged.
  if (merged_from) {
    recent_.forget_before(*merged_from);
    indexed_.store(b.end, std::memory_order_release);
  }
  size_.store(b.end, std::memory_order_release);
  return {};
}

status ledger_impl::write_index_merge(const lmdb::txn& t,
                                                         std::uint64_t from, std::uint64_t to) {
  for (const auto& [id, seq] : recent_.id_runs(from, to)) {
    auto p = t.put(dbs_[db::event_ids], id, schema::encode_u64(seq), MDB_NOOVERWRITE);
    if (!p) return p.error();
  }
  for (const auto& run : recent_.stream_runs(from, to)) {
    for (std::size_t i = 0; i < run.seqs.size(); ++i) {
      const auto key = schema::stream_index_key(run.stream, run.first_revision + i);
      auto p = t.put(dbs_[db::stream_index], schema::view(key), schema::encode_u64(run.seqs[i]),
                     MDB_NOOVERWRITE);
      if (!p) return p.error();
    }
    const auto newest = schema::encode_u64(run.first_revision + run.seqs.size() - 1);
    if (auto p = t.put(dbs_[db::streams], schema::view(run.stream), newest); !p) return p.error();
  }
  auto p = t.put(dbs_[db::meta], schema::view(schema::meta_key::indexed),
                 schema::encode_u64(to));
  if (!p) return p.error();
  return {};
}

result<std::uint64_t> ledger_impl::merge_index(std::uint64_t at_least) {
  if (unmerged_events() < std::max<std::uint64_t>(at_least, 1)) return std::uint64_t{0};
  // Under write_mu_ no batch is being written: the store holds exactly the
  // committed batches, and a later batch reads "indexed" afresh.
  std::lock_guard lock(write_mu_);
  std::uint64_t merged = 0, from = 0;
  auto ec = with_map_growth([&]() -> status {
    merged = 0;
    auto t = lmdb::txn::begin(env_.get(), 0);
    if (!t) return t.error();
    auto size = store::meta_u64(*t, dbs_, schema::meta_key::tree_size);
    if (!size) return size.error();
    auto indexed = store::meta_u64(*t, dbs_, schema::meta_key::indexed);
    if (!indexed) return indexed.error();
    if (*size - *indexed < std::max<std::uint64_t>(at_least, 1)) return {};
    if (auto m = write_index_merge(*t, *indexed, *size); m) return m;
    if (auto c = t->commit(); !c) return c.error();
    from = *indexed;
    merged = *size - *indexed;
    return {};
  });
  if (ec) return write_failure(ec);
  if (merged != 0) {
    recent_.forget_before(from);
    indexed_.store(from + merged, std::memory_order_release);
  }
  return merged;
}

std::vector<append_outcome> ledger_impl::append(std::span<const statement> batch) {
  if (batch.empty()) return {};
  return commit(prepare(batch));
}

status ledger_impl::write_failure(const status& ec) const {
  auto mapped = lmdb::to_ledger_error(ec);
  if (mapped != errc::io_error) return mapped;
  // LMDB reports a short write as EIO, and a filling disk often ends in one:
  // when the file system is (nearly) full, say so; the commit was aborted
  // and nothing was stored either way.
  const char* path = nullptr;
  struct statvfs fs {};
  if (mdb_env_get_path(env_.get(), &path) == 0 && path && ::statvfs(path, &fs) == 0 &&
      static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize < (std::uint64_t{4} << 20))
    return errc::storage_full;
  return mapped;
}

// ---------------------------------------------------------------------------
// Reads

result<signed_checkpoint> ledger_impl::latest_checkpoint() const {
  auto r = begin_read();
  if (!r) return r.error();
  auto c = lmdb::cursor::open(r->txn(), dbs_[db::checkpoints]);
  if (!c) return lmdb::to_ledger_error(c.error());
  auto e = c->get(MDB_LAST);
  if (!e) return lmdb::to_ledger_error(e.error());
  if (!*e) return errc::corrupt;  // the log is created with checkpoint 0
  return store::decode_checkpoint((*e)->first, (*e)->second);
}

result<signed_checkpoint> ledger_impl::checkpoint_at(std::uint64_t size) const {
  auto r = begin_read();
  if (!r) return r.error();
  const auto key = schema::encode_u64(size);
  auto v = r->txn().get(dbs_[db::checkpoints], key);
  if (!v) return lmdb::to_ledger_error(v.error());
  if (!*v) return errc::not_found;
  return store::decode_checkpoint(key, **v);
}

result<stored_event> ledger_impl::event_by_seq(std::uint64_t seq) const {
  auto r = begin_read();
  if (!r) return r.error();
  return store::load_event(r->txn(), dbs_, seq);
}

result<stored_event> ledger_impl::event_by_id(std::string_view event_id) const {
  auto id = schema::parse_uuid(event_id);
  if (!id) return errc::not_found;  // no stored event has a non-canonical id
  auto r = begin_index_read();
  if (!r) return r.error();
  if (auto recent = recent_.seq_of_id(*id, r->snap)) return store::load_event(r->txn(), dbs_, *recent);
  auto seq = store::get_u64(r->txn(), dbs_[db::event_ids], *id);
  if (!seq) return lmdb::to_ledger_error(seq.error());
  if (!*seq) return errc::not_found;
  return store::load_event(r->txn(), dbs_, **seq);
}

result<std::vector<std::uint64_t>> ledger_impl::amendments_of(std::string_view event_id) const {
  auto id = schema::parse_uuid(event_id);
  if (!id) return errc::invalid_argument;
  auto r = begin_read();
  if (!r) return r.error();
  auto c = lmdb::cursor::open(r->txn(), dbs_[db::amends]);
  if (!c) return lmdb::to_ledger_error(c.error());
  std::vector<std::uint64_t> out;
  const auto start = schema::amends_key(*id, 0);
  for (auto e = c->get(MDB_SET_RANGE, start);; e = c->get(MDB_NEXT)) {
    if (!e) return lmdb::to_ledger_error(e.error());
    if (!*e) break;
    auto entry = schema::decode_amends_key((*e)->first);
    if (!entry) return entry.error();
    if (entry->amended != *id) break;
    out.push_back(entry->seq);
  }
  return out;
}

result<std::uint64_t> ledger_impl::stream_revision(std::string_view stream) const {
  auto r = begin_index_read();
  if (!r) return r.error();
  if (auto recent = recent_.head(stream, r->snap)) return *recent;
  auto rev = store::get_u64(r->txn(), dbs_[db::streams], schema::view(stream));
  if (!rev) return lmdb::to_ledger_error(rev.error());
  if (!*rev) return errc::not_found;
  return **rev;
}

result<std::vector<stored_event>> ledger_impl::read_stream(std::string_view stream,
                                                           std::uint64_t from_revision,
                                                           direction dir,
                                                           std::size_t limit) const {
  if (limit == 0) return errc::invalid_argument;
  auto r = begin_index_read();
  if (!r) return r.error();
  const lmdb::txn& txn = r->txn();
  const store::recent_index::snapshot snap = r->snap;
  std::optional<std::uint64_t> current = recent_.head(stream, snap);
  if (!current) {
    auto stored = store::get_u64(txn, dbs_[db::streams], schema::view(stream));
    if (!stored) return lmdb::to_ledger_error(stored.error());
    if (!*stored) return errc::not_found;
    current = **stored;
  }
  std::vector<stored_event> out;
  auto load = [&](std::uint64_t revision) -> result<void> {
    std::optional<std::uint64_t> seq = recent_.seq_of(stream, revision, snap);
    if (!seq) {
      const auto key = schema::stream_index_key(stream, revision);
      auto stored = store::get_u64(txn, dbs_[db::stream_index], schema::view(key));
      if (!stored) return lmdb::to_ledger_error(stored.error());
      if (!*stored) return errc::corrupt;  // revisions 0..current all exist
      seq = **stored;
    }
    auto e = store::load_event(txn, dbs_, *seq);
    if (!e) return e.error();
    out.push_back(std::move(*e));
    return {};
  };
  if (dir == direction::forward) {
    for (std::uint64_t rev = from_revision; rev <= *current && out.size() < limit; ++rev) {
      if (auto l = load(rev); !l) return l.error();
    }
  } else {
    for (std::uint64_t rev = std::min(from_revision, *current); out.size() < limit; --rev) {
      if (auto l = load(rev); !l) return l.error();
      if (rev == 0) break;
    }
  }
  return out;
}

result<std::vector<stored_event>> ledger_impl::read_all(std::uint64_t from_seq,
                                                        std::size_t limit) const {
  if (limit == 0) return errc::invalid_argument;
  auto r = begin_read();
  if (!r) return r.error();
  auto size = store::meta_u64(r->txn(), dbs_, schema::meta_key::tree_size);
  if (!size) return lmdb::to_ledger_error(size.error());
  std::vector<stored_event> out;
  for (std::uint64_t seq = from_seq; seq < *size && out.size() < limit; ++seq) {
    auto e = store::load_event(r->txn(), dbs_, seq);
    if (!e) return e.error();
    out.push_back(std::move(*e));
  }
  return out;
}

result<std::vector<hash>> ledger_impl::inclusion_proof(std::uint64_t seq,
                                                       std::uint64_t size) const {
  if (size > tree_size() || seq >= size) return errc::invalid_argument;
  auto r = begin_read();
  if (!r) return r.error();
  return crypto::inclusion_proof(seq, size, nodes(r->txn()));
}

result<std::vector<hash>> ledger_impl::consistency_proof(std::uint64_t from,
                                                         std::uint64_t to) const {
  if (to > tree_size() || from > to) return errc::invalid_argument;
  if (from == 0) return std::vector<hash>{};  // the empty tree is a prefix of every tree
  auto r = begin_read();
  if (!r) return r.error();
  return crypto::consistency_proof(from, to, nodes(r->txn()));
}

result<bytes> ledger_impl::read_tile(const crypto::tile& t) const {
  if (t.width == 0 || t.width > crypto::tile_width) return errc::invalid_argument;
  if (!t.entries && t.level > 7) return errc::not_found;  // level 8·L ≥ 64 never exists
  if (t.index > std::numeric_limits<std::uint64_t>::max() / crypto::tile_width) {
    return errc::not_found;
  }
  auto r = begin_read();
  if (!r) return r.error();
  const lmdb::txn& txn = r->txn();
  auto size = store::meta_u64(txn, dbs_, schema::meta_key::tree_size);
  if (!size) return lmdb::to_ledger_error(size.error());

  // C2SP tlog-tiles: a tile of width W exists once the level holds the
  // nodes N·256 … N·256+W-1 (full tiles need all 256; the partial tiles of
  // every checkpointed size stay available).
  const unsigned level = t.entries ? 0u : 8u * t.level;
  const std::uint64_t first = t.index * crypto::tile_width;
  const std::uint64_t available = crypto::nodes_at_level(*size, level);
  if (first >= available || available - first < t.width) return errc::not_found;

  bytes out;
  if (t.entries) {
    auto c = lmdb::cursor::open(txn, dbs_[db::leaves]);
    if (!c) return lmdb::to_ledger_error(c.error());
    auto e = c->get(MDB_SET_RANGE, schema::encode_u64(first));
    for (std::uint32_t i = 0; i < t.width; ++i, e = c->get(MDB_NEXT)) {
      if (!e) return lmdb::to_ledger_error(e.error());
      if (!*e) return errc::corrupt;
      auto seq = schema::decode_u64((*e)->first);
      const byte_view entry = (*e)->second;
      if (!seq || *seq != first + i || entry.empty() || entry.size() > 0xffff) {
        return errc::corrupt;
      }
      out.push_back(static_cast<std::uint8_t>(entry.size() >> 8));
      out.push_back(static_cast<std::uint8_t>(entry.size()));
      out.insert(out.end(), entry.begin(), entry.end());
    }
    return out;
  }
  out.reserve(std::size_t{t.width} * schema::hash_size);
  auto c = lmdb::cursor::open(txn, dbs_[db::nodes]);
  if (!c) return lmdb::to_ledger_error(c.error());
  const crypto::node_id start{static_cast<std::uint8_t>(level), first};
  auto e = c->get(MDB_SET_RANGE, schema::node_key(start));
  for (std::uint32_t i = 0; i < t.width; ++i, e = c->get(MDB_NEXT)) {
    if (!e) return lmdb::to_ledger_error(e.error());
    if (!*e) return errc::corrupt;
    auto id = schema::decode_node_key((*e)->first);
    if (!id || id->level != level || id->index != first + i) return errc::corrupt;
    auto h = schema::decode_hash((*e)->second);
    if (!h) return h.error();
    out.insert(out.end(), h->begin(), h->end());
  }
  return out;
}

result<bytes> ledger_impl::leaf_entry(std::uint64_t seq) const {
  auto r = begin_read();
  if (!r) return r.error();
  auto v = r->txn().get(dbs_[db::leaves], schema::encode_u64(seq));
  if (!v) return lmdb::to_ledger_error(v.error());
  if (!*v) return errc::not_found;
  return bytes((*v)->begin(), (*v)->end());
}

result<receipt> ledger_impl::receipt_for(std::uint64_t seq) const {
  auto r = begin_read();
  if (!r) return r.error();
  return store::load_receipt(r->txn(), dbs_, seq, nodes(r->txn()));
}

}  // namespace

// ---------------------------------------------------------------------------
// Record and receipt loading (store.hpp)

namespace store {

result<signed_checkpoint> decode_checkpoint(byte_view key, byte_view value) {
  auto size = schema::decode_u64(key);
  if (!size) return size.error();
  const std::string_view note = schema::chars(value);
  const auto parts = crypto::split_note(note);
  auto body = crypto::parse_checkpoint(parts ? parts->text : std::string_view{});
  if (!body || body->size != *size) return errc::corrupt;
  return signed_checkpoint{std::move(*body), std::string(note)};
}

result<stored_event> load_event(const lmdb::txn& t, const dbs& d, std::uint64_t seq) {
  const auto key = schema::encode_u64(seq);
  auto rv = t.get(d[schema::db::records], key);
  if (!rv) return lmdb::to_ledger_error(rv.error());
  if (!*rv) return errc::not_found;
  auto value = schema::decode_record_value(**rv);
  if (!value) return value.error();
  auto lv = t.get(d[schema::db::leaves], key);
  if (!lv) return lmdb::to_ledger_error(lv.error());
  if (!*lv) return errc::corrupt;
  auto rec = crypto::decode_event_record(value->record);
  if (!rec || rec->seq != seq) return errc::corrupt;
  stored_event e;
  e.seq = seq;
  e.stream = std::move(rec->stream);
  e.revision = rec->revision;
  e.recorded_at_us = rec->recorded_at_us;
  e.event_id = std::move(rec->event_id);
  e.kid = std::move(rec->kid);
  e.jws = std::move(rec->jws);
  e.record = std::string(value->record);
  e.salt.assign(value->salt.begin(), value->salt.end());
  e.leaf_entry.assign((*lv)->begin(), (*lv)->end());
  return e;
}

result<receipt> load_receipt(const lmdb::txn& t, const dbs& d, std::uint64_t seq,
                             const crypto::hash_source& nodes) {
  auto e = load_event(t, d, seq);
  if (!e) return e.error();
  // The checkpoint of the batch that stored seq: the smallest size > seq.
  auto c = lmdb::cursor::open(t, d[schema::db::checkpoints]);
  if (!c) return lmdb::to_ledger_error(c.error());
  auto cp = c->get(MDB_SET_RANGE, schema::encode_u64(seq + 1));
  if (!cp) return lmdb::to_ledger_error(cp.error());
  if (!*cp) return errc::corrupt;
  auto size = schema::decode_u64((*cp)->first);
  if (!size) return size.error();
  receipt r;
  r.seq = seq;
  r.stream = std::move(e->stream);
  r.revision = e->revision;
  r.recorded_at_us = e->recorded_at_us;
  r.event_id = std::move(e->event_id);
  r.kid = std::move(e->kid);
  r.leaf_entry = std::move(e->leaf_entry);
  r.record = std::move(e->record);
  r.salt = std::move(e->salt);
  r.checkpoint = std::string(schema::chars((*cp)->second));
  r.tree_size = *size;
  auto proof = crypto::inclusion_proof(seq, *size, nodes);
  if (!proof) return proof.error();
  r.inclusion_proof = std::move(*proof);
  return r;
}

}  // namespace store
}  // namespace vellum::ledger
