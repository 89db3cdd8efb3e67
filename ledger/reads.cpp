// Reads: events, streams, checkpoints, proofs, tiles and receipts. Each
// runs in its own pooled read transaction and never waits for the writer.

#include "ledger/ledger_impl.hpp"

#include <algorithm>
#include <limits>

namespace vellum::ledger {

using schema::db;

result<store::reader> ledger::impl::begin_read() const {
  std::shared_lock lock(map_mu);
  auto t = pool.acquire();
  if (!t) return lmdb::to_ledger_error(t.error());
  return store::reader(std::move(lock), pool, *t);
}

result<index_read> ledger::impl::begin_index_read() const {
  // Fails only if merges forget entries between opening a transaction and
  // pinning its snapshot; a fresh transaction is as good an answer.
  for (int tries = 0; tries < 64; ++tries) {
    auto r = begin_read();
    if (!r) return r.error();
    auto tree_size = store::meta_u64(r->txn(), dbs, schema::meta_key::tree_size);
    if (!tree_size) return tree_size.error();
    auto merged = store::meta_u64(r->txn(), dbs, schema::meta_key::indexed);
    if (!merged) return merged.error();
    const store::recent_index::snapshot snap{*merged, *tree_size};
    if (auto p = recent.hold(snap)) return index_read{std::move(*r), snap, std::move(*p)};
  }
  return errc::io_error;
}

result<void> ledger_hash_source::read(std::span<const crypto::node_id> ids,
                                      std::span<crypto::hash> out) const {
  auto r = ledger_.begin_read();
  if (!r) return r.error();
  return ledger_.nodes(r->txn()).read(ids, out);
}

std::uint64_t ledger::tree_size() const { return impl_->size.load(std::memory_order_acquire); }

result<signed_checkpoint> ledger::latest_checkpoint() const {
  const impl& l = *impl_;
  auto r = l.begin_read();
  if (!r) return r.error();
  auto c = lmdb::cursor::open(r->txn(), l.dbs[db::checkpoints]);
  if (!c) return lmdb::to_ledger_error(c.error());
  auto e = c->get(MDB_LAST);
  if (!e) return lmdb::to_ledger_error(e.error());
  if (!*e) return errc::corrupt;  // the log is created with checkpoint 0
  return store::decode_checkpoint((*e)->first, (*e)->second);
}

result<signed_checkpoint> ledger::checkpoint_at(std::uint64_t size) const {
  const impl& l = *impl_;
  auto r = l.begin_read();
  if (!r) return r.error();
  const auto key = schema::encode_u64(size);
  auto v = r->txn().get(l.dbs[db::checkpoints], key);
  if (!v) return lmdb::to_ledger_error(v.error());
  if (!*v) return errc::not_found;
  return store::decode_checkpoint(key, **v);
}

result<stored_event> ledger::event_by_seq(std::uint64_t seq) const {
  const impl& l = *impl_;
  auto r = l.begin_read();
  if (!r) return r.error();
  return store::load_event(r->txn(), l.dbs, seq);
}

result<stored_event> ledger::event_by_id(std::string_view event_id) const {
  const impl& l = *impl_;
  auto id = schema::parse_uuid(event_id);
  if (!id) return errc::not_found;  // no stored event has a non-canonical id
  auto r = l.begin_index_read();
  if (!r) return r.error();
  if (auto recent = l.recent.seq_of_id(*id, r->snap)) return store::load_event(r->txn(), l.dbs, *recent);
  auto seq = store::get_u64(r->txn(), l.dbs[db::event_ids], *id);
  if (!seq) return lmdb::to_ledger_error(seq.error());
  if (!*seq) return errc::not_found;
  return store::load_event(r->txn(), l.dbs, **seq);
}

result<std::vector<std::uint64_t>> ledger::corrections_of(std::string_view event_id) const {
  const impl& l = *impl_;
  auto id = schema::parse_uuid(event_id);
  if (!id) return errc::invalid_argument;
  auto r = l.begin_read();
  if (!r) return r.error();
  auto c = lmdb::cursor::open(r->txn(), l.dbs[db::amends]);
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

result<std::uint64_t> ledger::stream_revision(std::string_view stream) const {
  const impl& l = *impl_;
  auto r = l.begin_index_read();
  if (!r) return r.error();
  if (auto recent = l.recent.head(stream, r->snap)) return *recent;
  auto rev = store::get_u64(r->txn(), l.dbs[db::streams], schema::view(stream));
  if (!rev) return lmdb::to_ledger_error(rev.error());
  if (!*rev) return errc::not_found;
  return **rev;
}

result<std::vector<stored_event>> ledger::read_stream(std::string_view stream,
                                                           std::uint64_t from_revision,
                                                           direction dir,
                                                           std::size_t limit) const {
  const impl& l = *impl_;
  if (limit == 0) return errc::invalid_argument;
  auto r = l.begin_index_read();
  if (!r) return r.error();
  const lmdb::txn& txn = r->txn();
  const store::recent_index::snapshot snap = r->snap;
  std::optional<std::uint64_t> current = l.recent.head(stream, snap);
  if (!current) {
    auto stored = store::get_u64(txn, l.dbs[db::streams], schema::view(stream));
    if (!stored) return lmdb::to_ledger_error(stored.error());
    if (!*stored) return errc::not_found;
    current = **stored;
  }
  std::vector<stored_event> out;
  auto load = [&](std::uint64_t revision) -> result<void> {
    std::optional<std::uint64_t> seq = l.recent.seq_of(stream, revision, snap);
    if (!seq) {
      const auto key = schema::stream_index_key(stream, revision);
      auto stored = store::get_u64(txn, l.dbs[db::stream_index], schema::view(key));
      if (!stored) return lmdb::to_ledger_error(stored.error());
      if (!*stored) return errc::corrupt;  // revisions 0..current all exist
      seq = **stored;
    }
    auto e = store::load_event(txn, l.dbs, *seq);
    if (!e) return e.error();
    out.push_back(std::move(*e));
    return {};
  };
  if (dir == direction::forward) {
    for (std::uint64_t rev = from_revision; rev <= *current && out.size() < limit; ++rev) {
      if (auto got = load(rev); !got) return got.error();
    }
  } else {
    for (std::uint64_t rev = std::min(from_revision, *current); out.size() < limit; --rev) {
      if (auto got = load(rev); !got) return got.error();
      if (rev == 0) break;
    }
  }
  return out;
}

result<std::vector<stored_event>> ledger::read_all(std::uint64_t from_seq,
                                                        std::size_t limit) const {
  const impl& l = *impl_;
  if (limit == 0) return errc::invalid_argument;
  auto r = l.begin_read();
  if (!r) return r.error();
  auto size = store::meta_u64(r->txn(), l.dbs, schema::meta_key::tree_size);
  if (!size) return lmdb::to_ledger_error(size.error());
  std::vector<stored_event> out;
  for (std::uint64_t seq = from_seq; seq < *size && out.size() < limit; ++seq) {
    auto e = store::load_event(r->txn(), l.dbs, seq);
    if (!e) return e.error();
    out.push_back(std::move(*e));
  }
  return out;
}

result<std::vector<hash>> ledger::inclusion_proof(std::uint64_t seq,
                                                       std::uint64_t size) const {
  const impl& l = *impl_;
  if (size > tree_size() || seq >= size) return errc::invalid_argument;
  auto r = l.begin_read();
  if (!r) return r.error();
  return crypto::inclusion_proof(seq, size, l.nodes(r->txn()));
}

result<std::vector<hash>> ledger::consistency_proof(std::uint64_t from,
                                                         std::uint64_t to) const {
  const impl& l = *impl_;
  if (to > tree_size() || from > to) return errc::invalid_argument;
  if (from == 0) return std::vector<hash>{};  // the empty tree is a prefix of every tree
  auto r = l.begin_read();
  if (!r) return r.error();
  return crypto::consistency_proof(from, to, l.nodes(r->txn()));
}

result<bytes> ledger::read_tile(const crypto::tile& t) const {
  const impl& l = *impl_;
  if (t.width == 0 || t.width > crypto::tile_width) return errc::invalid_argument;
  if (!t.entries && t.level > 7) return errc::not_found;  // level 8·L ≥ 64 never exists
  if (t.index > std::numeric_limits<std::uint64_t>::max() / crypto::tile_width) {
    return errc::not_found;
  }
  auto r = l.begin_read();
  if (!r) return r.error();
  const lmdb::txn& txn = r->txn();
  auto size = store::meta_u64(txn, l.dbs, schema::meta_key::tree_size);
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
    auto c = lmdb::cursor::open(txn, l.dbs[db::leaves]);
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
  auto c = lmdb::cursor::open(txn, l.dbs[db::nodes]);
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

result<bytes> ledger::leaf_entry(std::uint64_t seq) const {
  const impl& l = *impl_;
  auto r = l.begin_read();
  if (!r) return r.error();
  auto v = r->txn().get(l.dbs[db::leaves], schema::encode_u64(seq));
  if (!v) return lmdb::to_ledger_error(v.error());
  if (!*v) return errc::not_found;
  return bytes((*v)->begin(), (*v)->end());
}

result<receipt> ledger::receipt_for(std::uint64_t seq) const {
  const impl& l = *impl_;
  auto r = l.begin_read();
  if (!r) return r.error();
  return store::load_receipt(r->txn(), l.dbs, seq, l.nodes(r->txn()));
}

}  // namespace vellum::ledger
