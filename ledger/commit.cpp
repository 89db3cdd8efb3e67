// Appending: prepare() sequences a batch and builds every byte of it;
// commit() writes it in one transaction, strictly in prepare order.
//
// prepare() runs under prep_mu and sees three layers: what this batch has
// built so far (a batch_builder's locals), what earlier batches prepared and
// not yet committed (pending), and the store (a read transaction). commit()
// runs under write_mu and only writes bytes that prepare() built; it
// resolves idempotent repeats through the write transaction, which by then
// sees every batch before it.

#include "crypto/encoding.hpp"
#include "crypto/jws.hpp"
#include "crypto/leaf_entry.hpp"
#include "ledger/ledger_impl.hpp"

#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

namespace vellum::ledger {
namespace {

using schema::db;

bool valid_stream_name(std::string_view s) {
  return !s.empty() && s.find('\0') == std::string_view::npos;
}

bool valid_kid(std::string_view kid) {
  if (kid.empty() || kid.size() > 255) return false;
  return std::all_of(kid.begin(), kid.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

// Builds one batch in prepare(): decides each statement against the three
// layers, then assigns and builds the fresh events.
class batch_builder {
 public:
  batch_builder(ledger::impl& l, batch_state& b, const index_read& r)
      : l_(l),
        b_(b),
        txn_(r.txn()),
        snap_(r.snap),
        stored_nodes_(txn_, l.dbs[db::nodes], &l.upper),
        nodes_(local_nodes_, l.pending.nodes, stored_nodes_),
        size_(l.pending.size),
        last_recorded_(l.pending.last_recorded) {}

  // Decides statement i and, if it is fresh, builds its event.
  status add(std::size_t i, std::span<const statement> batch);
  // The checkpoint of the batch and every receipt's proof to it; then
  // later batches build on this one.
  status seal();

 private:
  // 1. Idempotency, before concurrency: a repeat gets the first receipt.
  // `settled` if the statement was decided here (a repeat or a conflict).
  enum class idempotency { fresh, settled };
  result<idempotency> settle_repeat(std::size_t i, const schema::uuid& id,
                             std::span<const statement> batch);
  // 2. The stream's current revision across the three layers.
  result<std::optional<std::uint64_t>> current_revision(const std::string& stream) const;
  // The stream of the event `id` across the layers (this batch, batches
  // prepared before it, the store); nullopt if no event has that id.
  result<std::optional<std::string>> stream_of(const schema::uuid& id) const;
  // 3. Assigns seq, revision, recorded_at; builds record, salt, leaf, nodes.
  status build(std::size_t i, const statement& s, const schema::uuid& id,
               std::optional<schema::uuid> amended, std::optional<std::uint64_t> current,
               std::size_t remaining);
  void remember();

  ledger::impl& l_;
  batch_state& b_;
  const lmdb::txn& txn_;
  store::recent_index::snapshot snap_;
  store::node_source stored_nodes_;
  store::overlay_source::map local_nodes_;
  store::overlay_source nodes_;
  std::unordered_map<schema::uuid, std::size_t, store::uuid_hash> local_ids_;  // → index in fresh
  std::unordered_map<std::string_view, std::uint64_t> local_streams_;         // → revision
  bytes salts_;  // from the CSPRNG for the rest of the batch: one call, not one per event
  std::uint64_t size_;
  std::uint64_t last_recorded_;
};

status batch_builder::add(std::size_t i, std::span<const statement> batch) {
  const statement& s = batch[i];
  append_outcome& o = b_.out[i];
  auto id = schema::parse_uuid(s.event_id);
  std::optional<schema::uuid> amended, voided;
  for (auto [text, slot] : {std::pair{&s.amends, &amended}, std::pair{&s.voids, &voided}}) {
    if (text->empty()) continue;
    auto a = schema::parse_uuid(*text);
    if (!a) {
      o.error = errc::invalid_argument;
      return {};
    }
    *slot = *a;
  }
  if (!id || !valid_kid(s.kid) || !valid_stream_name(s.stream) || s.jws.empty()) {
    o.error = errc::invalid_argument;
    return {};
  }
  auto settled = settle_repeat(i, *id, batch);
  if (!settled) return settled.error();
  if (*settled == idempotency::settled) return {};

  // A correction names an event of its own stream (an amendment or a void
  // elsewhere would change a record nobody reading this one would see).
  for (auto [target, member] : {std::pair{&amended, "amends"}, std::pair{&voided, "voids"}}) {
    if (!*target) continue;
    auto stream = stream_of(**target);
    if (!stream) return stream.error();
    if (!*stream || **stream != s.stream) {
      o.error = status(errc::reference_not_found,
                       std::string(member) + ": no event " + (member == std::string_view("amends") ? s.amends : s.voids) +
                           " in stream \"" + s.stream + "\"" + (*stream ? " (it is in another stream)" : ""));
      return {};
    }
  }

  auto current = current_revision(s.stream);
  if (!current) return current.error();
  bool conflict = false;
  switch (s.expected.k) {
    case expected_revision::kind::any: break;
    case expected_revision::kind::no_stream: conflict = current->has_value(); break;
    case expected_revision::kind::exact:
      conflict = !*current || **current != s.expected.value;
      break;
  }
  if (conflict) {
    o.error = errc::revision_conflict;
    o.current_revision = *current;
    return {};
  }
  // One index of corrections: what amends or voids names (never both).
  return build(i, s, *id, amended ? amended : voided, *current, batch.size() - i);
}

result<batch_builder::idempotency> batch_builder::settle_repeat(std::size_t i, const schema::uuid& id,
                                          std::span<const statement> batch) {
  const statement& s = batch[i];
  if (auto it = local_ids_.find(id); it != local_ids_.end()) {
    const fresh_event& earlier = b_.fresh[it->second];
    // The same statement is the same signing input: a second signature over
    // it (an ECDSA (r, n - s) twin) must not take the event id from it.
    if (crypto::jws_signing_input(batch[earlier.index].jws) == crypto::jws_signing_input(s.jws)) {
      b_.out[i].duplicate = true;
      b_.repeats.push_back({i, earlier.rcpt.seq, true, {}});
    } else {
      b_.out[i].error = errc::event_id_conflict;
    }
    return idempotency::settled;
  }
  if (auto it = l_.pending.ids.find(id); it != l_.pending.ids.end()) {
    b_.repeats.push_back({i, it->second.seq, false, s.jws});
    return idempotency::settled;
  }
  if (auto recent = l_.recent.seq_of_id(id, snap_)) {
    b_.repeats.push_back({i, *recent, false, s.jws});
    return idempotency::settled;
  }
  auto known = store::get_u64(txn_, l_.dbs[db::event_ids], id);
  if (!known) return known.error();
  if (*known) {
    b_.repeats.push_back({i, **known, false, s.jws});
    return idempotency::settled;
  }
  return idempotency::fresh;
}

result<std::optional<std::uint64_t>> batch_builder::current_revision(
    const std::string& stream) const {
  if (auto it = local_streams_.find(stream); it != local_streams_.end()) return {it->second};
  if (auto p = l_.pending.streams.find(stream); p != l_.pending.streams.end()) {
    return {p->second.first};
  }
  if (auto recent = l_.recent.head(stream, snap_)) return {*recent};
  auto stored = store::get_u64(txn_, l_.dbs[db::streams], schema::view(stream));
  if (!stored) return stored.error();
  return *stored;
}

result<std::optional<std::string>> batch_builder::stream_of(const schema::uuid& id) const {
  if (auto it = local_ids_.find(id); it != local_ids_.end()) return {b_.fresh[it->second].rcpt.stream};
  if (auto it = l_.pending.ids.find(id); it != l_.pending.ids.end()) return {it->second.stream};
  std::optional<std::uint64_t> seq = l_.recent.seq_of_id(id, snap_);
  if (!seq) {
    auto known = store::get_u64(txn_, l_.dbs[db::event_ids], id);
    if (!known) return known.error();
    seq = *known;
  }
  if (!seq) return {std::nullopt};
  auto e = store::load_event(txn_, l_.dbs, *seq);  // committed: its record is stored
  if (!e) return e.error();
  return {std::move(e->stream)};
}

status batch_builder::build(std::size_t i, const statement& s, const schema::uuid& id,
                            std::optional<schema::uuid> amended,
                            std::optional<std::uint64_t> current, std::size_t remaining) {
  const std::uint64_t seq = size_;
  const std::uint64_t revision = current ? *current + 1 : 0;
  const std::uint64_t recorded = std::max(l_.clock(), last_recorded_);
  fresh_event ev;
  ev.index = i;
  ev.id = id;
  ev.amended = amended;
  ev.type = schema::term_of(s.type);
  ev.author = schema::term_of(s.author_id);
  ev.occurred_at_us = s.occurred_at_us;
  receipt& rc = ev.rcpt;
  rc.seq = seq;
  rc.stream = s.stream;
  rc.revision = revision;
  rc.recorded_at_us = recorded;
  rc.event_id = s.event_id;
  rc.kid = s.kid;
  rc.record =
      crypto::event_record{seq, s.stream, revision, recorded, s.kid, s.event_id, s.jws}.encode();
  if (salts_.empty()) salts_ = crypto::random_bytes(crypto::salt_size * remaining);
  rc.salt.assign(salts_.end() - static_cast<std::ptrdiff_t>(crypto::salt_size), salts_.end());
  salts_.resize(salts_.size() - crypto::salt_size);
  rc.leaf_entry = crypto::leaf_entry{seq, recorded, s.kid,
                                     crypto::record_commitment(rc.salt, schema::view(rc.record))}
                      .encode();
  auto completed =
      crypto::hashes_completed_by_append(seq, crypto::leaf_hash(rc.leaf_entry), nodes_);
  if (!completed) return completed.error();
  for (const auto& [node, h] : *completed) {
    local_nodes_.emplace(store::map_key(node), h);
    b_.nodes.emplace_back(node, h);
  }
  local_ids_.emplace(id, b_.fresh.size());
  local_streams_[s.stream] = revision;
  size_ = seq + 1;
  last_recorded_ = recorded;
  b_.fresh.push_back(std::move(ev));
  return {};
}

status batch_builder::seal() {
  b_.end = size_;
  b_.last_recorded = last_recorded_;
  if (b_.fresh.empty()) return {};
  auto root = crypto::tree_root(size_, nodes_);
  if (!root) return root.error();
  auto note = l_.sign_checkpoint(size_, *root);
  if (!note) return note.error();
  b_.note = std::move(*note);
  const store::caching_source cached(nodes_);
  for (fresh_event& ev : b_.fresh) {
    auto proof = crypto::inclusion_proof(ev.rcpt.seq, size_, cached);
    if (!proof) return proof.error();
    ev.rcpt.checkpoint = b_.note;
    ev.rcpt.tree_size = size_;
    ev.rcpt.inclusion_proof = std::move(*proof);
  }
  remember();
  return {};
}

void batch_builder::remember() {
  store::pending_state& p = l_.pending;
  store::pending_state::batch_keys keys;
  keys.number = b_.number;
  keys.end = size_;
  keys.ids.reserve(b_.fresh.size());
  for (const fresh_event& ev : b_.fresh) {
    p.ids.emplace(ev.id, store::pending_state::claimed_event{ev.rcpt.seq, ev.rcpt.stream});
    keys.ids.push_back(ev.id);
  }
  for (const auto& [stream, revision] : local_streams_) {
    std::string name(stream);
    p.streams[name] = {revision, b_.number};
    keys.streams.push_back(std::move(name));
  }
  keys.nodes.reserve(local_nodes_.size());
  for (auto& [k, h] : local_nodes_) {
    p.nodes.emplace(k, h);
    keys.nodes.push_back(k);
  }
  p.batches.push_back(std::move(keys));
  p.size = size_;
  p.last_recorded = last_recorded_;
}

// Writes the fresh events of `b`: records, leaves, amendments, nodes, the
// checkpoint and the meta records.
status store_events(const ledger::impl& l, const lmdb::txn& txn, const batch_state& b) {
  for (const fresh_event& ev : b.fresh) {
    const receipt& rc = ev.rcpt;
    const auto seq_key = schema::encode_u64(rc.seq);
    auto slot = txn.reserve(l.dbs[db::records], seq_key, rc.salt.size() + rc.record.size(),
                            MDB_APPEND);
    if (!slot) return slot.error();
    std::memcpy(slot->data(), rc.salt.data(), rc.salt.size());
    std::memcpy(slot->data() + rc.salt.size(), rc.record.data(), rc.record.size());
    if (auto p = txn.put(l.dbs[db::leaves], seq_key, rc.leaf_entry, MDB_APPEND); !p) {
      return p.error();
    }
    if (ev.amended) {
      auto p = txn.put(l.dbs[db::amends], schema::amends_key(*ev.amended, rc.seq), byte_view{},
                       MDB_NOOVERWRITE);
      if (!p) return p.error();
    }
    if (auto p = store::put_query_keys(txn, l.dbs, rc.seq, ev.type, ev.author, rc.recorded_at_us,
                                       ev.occurred_at_us);
        !p) {
      return p.error();
    }
  }
  for (const auto& [node, h] : b.nodes) {
    if (auto p = txn.put(l.dbs[db::nodes], schema::node_key(node), h); !p) return p.error();
  }
  if (b.fresh.empty()) return {};
  const auto size_key = schema::encode_u64(b.end);
  const auto last_bytes = schema::encode_u64(b.last_recorded);
  for (auto p : {txn.put(l.dbs[db::checkpoints], size_key, schema::view(b.note), MDB_APPEND),
                 txn.put(l.dbs[db::meta], schema::view(schema::meta_key::tree_size), size_key),
                 txn.put(l.dbs[db::meta], schema::view(schema::meta_key::recorded_at),
                         last_bytes)}) {
    if (!p) return p.error();
  }
  return {};
}

// Repeats: the earlier event is readable now (stored, or in this batch).
status resolve_repeats(const ledger::impl& l, const lmdb::txn& txn, batch_state& b) {
  const store::node_source txn_nodes(txn, l.dbs[db::nodes], &l.upper);
  const store::caching_source cached(txn_nodes);
  for (const repeat& rp : b.repeats) {
    append_outcome& o = b.out[rp.index];
    if (rp.in_batch) {
      o.rcpt = b.fresh[rp.seq - b.first].rcpt;
      continue;
    }
    auto rv = txn.get(l.dbs[db::records], schema::encode_u64(rp.seq));
    if (!rv) return rv.error();
    if (!*rv) return errc::corrupt;
    auto value = schema::decode_record_value(**rv);
    if (!value) return value.error();
    auto rec = crypto::decode_event_record(value->record);
    if (!rec) return errc::corrupt;
    if (crypto::jws_signing_input(rec->jws) != crypto::jws_signing_input(rp.jws)) {
      o = append_outcome{errc::event_id_conflict, false, std::nullopt, {}};
      continue;
    }
    auto rc = store::load_receipt(txn, l.dbs, rp.seq, cached);
    if (!rc) return rc.error();
    o.duplicate = true;
    o.rcpt = std::move(*rc);
  }
  return {};
}

}  // namespace

// ---------------------------------------------------------------------------
// prepared_batch

prepared_batch::prepared_batch(std::unique_ptr<state> s) : state_(std::move(s)) {}
prepared_batch::~prepared_batch() = default;
std::size_t prepared_batch::statements() const { return state_->out.size(); }

prepared_batch::state::~state() {
  if (!committed) owner->abandon(number, generation);
}

// ---------------------------------------------------------------------------
// Preparing

std::unique_ptr<prepared_batch> ledger::prepare(std::span<const statement> batch) {
  impl& l = *impl_;
  auto b = std::make_unique<batch_state>(l);
  std::lock_guard lock(l.prep_mu);
  b->number = l.next_number++;
  if (l.pending_reset.exchange(false)) {
    l.pending.clear();
    ++l.pending.generation;
  }
  b->generation = l.pending.generation;
  if (auto ec = l.prepare_into(*b, batch); ec) {
    b->error = lmdb::to_ledger_error(ec);
    b->fresh.clear();
    b->repeats.clear();
    b->out.assign(batch.size(), append_outcome{});
  }
  return std::make_unique<prepared_batch>(std::move(b));
}

status ledger::impl::prepare_into(batch_state& b, std::span<const statement> batch) {
  b.out.assign(batch.size(), append_outcome{});
  // The committed size first, then the snapshot: it sees at least that much.
  const std::uint64_t committed = size.load(std::memory_order_acquire);
  auto r = begin_index_read();
  if (!r) return r.error();
  pending.forget_committed(committed);
  if (pending.batches.empty()) {
    auto size_r = store::meta_u64(r->txn(), dbs, schema::meta_key::tree_size);
    if (!size_r) return size_r.error();
    auto last_r = store::meta_u64(r->txn(), dbs, schema::meta_key::recorded_at);
    if (!last_r) return last_r.error();
    pending.size = *size_r;
    pending.last_recorded = *last_r;
  }
  b.first = pending.size;
  batch_builder builder(*this, b, *r);
  b.fresh.reserve(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (auto ec = builder.add(i, batch); ec) return ec;
  }
  return builder.seal();
}

result<std::string> ledger::impl::sign_checkpoint(std::uint64_t tree_size,
                                                  const hash& root) const {
  const crypto::checkpoint body{origin, tree_size, root, {}};
  auto note = crypto::sign_note(body.format(), std::span<const crypto::note_signer>(&*signer, 1));
  if (!note) return errc::key_error;
  return std::move(*note);
}

// ---------------------------------------------------------------------------
// Committing

std::vector<append_outcome> ledger::commit(std::unique_ptr<prepared_batch> pb) {
  if (!pb || !pb->state_) return {};
  impl& l = *impl_;
  batch_state& b = *pb->state_;
  std::unique_lock lock(l.write_mu);
  l.turn.wait(lock, [&] { return l.next_commit == b.number; });
  b.committed = true;
  status ec = b.error;
  if (!ec && l.poisoned_generation && *l.poisoned_generation == b.generation) ec = l.poison;
  if (!ec) {
    ec = l.with_map_growth([&] { return l.write_batch(b); });
    if (ec) {
      // Later batches of this generation were sequenced on top of this one.
      ec = l.write_failure(ec);
      l.poisoned_generation = b.generation;
      l.poison = ec;
      l.pending_reset.store(true);
    }
  }
  l.advance_turn();
  lock.unlock();
  l.turn.notify_all();
  {
    std::lock_guard health(l.health_mu);
    l.last_commit_error = ec;
  }
  if (ec) {
    for (auto& o : b.out) o = append_outcome{ec, false, std::nullopt, {}};
  } else {
    for (fresh_event& ev : b.fresh) b.out[ev.index].rcpt = std::move(ev.rcpt);
  }
  return std::move(b.out);
}

result<void> ledger::ready_to_write(std::uint64_t min_free_bytes) const {
  {
    std::lock_guard health(impl_->health_mu);
    if (impl_->last_commit_error) return impl_->last_commit_error.with_reason("the latest commit failed");
  }
  struct statvfs fs {};
  if (::statvfs(impl_->data_dir.c_str(), &fs) != 0)
    return status(boost::system::error_code(errno, boost::system::generic_category()),
                  "cannot inspect " + impl_->data_dir + "'s file system");
  const std::uint64_t free_bytes = std::uint64_t{fs.f_bavail} * fs.f_frsize;
  if (free_bytes < min_free_bytes)
    return status(errc::storage_full, "only " + std::to_string(free_bytes >> 10) + " KiB free on " +
                                          impl_->data_dir + "'s file system (at least " +
                                          std::to_string(min_free_bytes >> 20) + " MiB wanted)");
  if ((fs.f_flag & ST_RDONLY) != 0) return status(errc::storage_full, impl_->data_dir + " is on a read-only file system");
  return {};
}

std::vector<append_outcome> ledger::append(std::span<const statement> batch) {
  if (batch.empty()) return {};
  return commit(prepare(batch));
}

void ledger::impl::advance_turn() {
  ++next_commit;
  while (abandoned.erase(next_commit) != 0) ++next_commit;
}

void ledger::impl::abandon(std::uint64_t number, std::uint64_t generation) noexcept {
  std::lock_guard lock(write_mu);
  poisoned_generation = generation;
  poison = errc::shutting_down;
  pending_reset.store(true);
  if (next_commit == number) {
    advance_turn();
  } else {
    abandoned.insert(number);
  }
  turn.notify_all();
}

status ledger::impl::write_batch(batch_state& b) {
  auto t = lmdb::txn::begin(env.get(), 0);
  if (!t) return t.error();
  const lmdb::txn& txn = *t;
  // Batches commit in prepare order, so the store ends where this one starts.
  auto stored_size = store::meta_u64(txn, dbs, schema::meta_key::tree_size);
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
  } undo{recent, b.first};
  recent.drop_from(b.first);  // a try that met a full map added them already
  {
    std::vector<store::recent_index::entry> entries;
    entries.reserve(b.fresh.size());
    for (const fresh_event& ev : b.fresh) {
      entries.push_back({ev.rcpt.seq, ev.id, ev.rcpt.stream, ev.rcpt.revision});
    }
    // Preparing checked the ids against everything stored: a clash is a bug.
    if (!recent.add(entries)) return errc::corrupt;
  }
  std::optional<std::uint64_t> merged_from;
  if (!b.fresh.empty()) {
    auto stored_indexed = store::meta_u64(txn, dbs, schema::meta_key::indexed);
    if (!stored_indexed) return stored_indexed.error();
    if (b.end - *stored_indexed >= merge_every) {
      if (auto m = write_index_merge(txn, *stored_indexed, b.end); m) return m;
      merged_from = *stored_indexed;
    }
  }
  if (auto s = store_events(*this, txn, b); s) return s;
  if (auto r = resolve_repeats(*this, txn, b); r) return r;

  if (b.fresh.empty()) return {};  // nothing new: the transaction aborts
  if (auto c = t->commit(); !c) return c.error();
  std::vector<std::pair<crypto::node_id, hash>> upper_nodes;
  for (const auto& n : b.nodes) {
    if (n.first.level >= store::upper_node_cache::min_level) upper_nodes.push_back(n);
  }
  upper.add(upper_nodes);
  undo.armed = false;
  // Readers whose transaction predates this merge still need what it merged.
  if (merged_from) {
    recent.forget_before(*merged_from);
    indexed.store(b.end, std::memory_order_release);
  }
  size.store(b.end, std::memory_order_release);
  return {};
}

status ledger::impl::grow_map() {
  std::unique_lock lock(map_mu);  // waits for every reader to finish
  pool.clear();
  const std::size_t current = env.map_size();
  if (current == 0 || current > std::numeric_limits<std::size_t>::max() / 2) {
    return lmdb::make_error(MDB_MAP_FULL);
  }
  if (auto r = env.set_map_size(current * 2); !r) return r.error();
  return {};
}

status ledger::impl::write_failure(const status& ec) const {
  auto mapped = lmdb::to_ledger_error(ec);
  if (mapped != errc::io_error) return mapped;
  // LMDB reports a short write as EIO, and a filling disk often ends in one:
  // when the file system is (nearly) full, say so; the commit was aborted
  // and nothing was stored either way.
  const char* path = nullptr;
  struct statvfs fs {};
  if (mdb_env_get_path(env.get(), &path) == 0 && path && ::statvfs(path, &fs) == 0 &&
      static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize < (std::uint64_t{4} << 20))
    return errc::storage_full;
  return mapped;
}

}  // namespace vellum::ledger
