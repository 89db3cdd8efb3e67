// The secondary indexes: event id → seq (event_ids), stream → newest
// revision (streams) and (stream, revision) → seq (stream_index). A batch's
// entries go to the in-memory recent_index at commit and are merged into
// LMDB in bulk (recent_index.hpp says why); at open the unmerged part is
// rebuilt from the records.
//
// The query indexes (by type, author, recorded_at, occurred_at) are written
// with each batch instead (store::put_query_keys from commit.cpp): their
// keys cluster at the end of a few ranges, so a batch touches few pages.
// They are read in query.cpp; build_query_indexes below writes them for a
// store from before them. Durable consumer state is not an index: it gets
// its own database and file (docs/architecture.md).

#include "crypto/jws.hpp"
#include "crypto/leaf_entry.hpp"
#include "ledger/ledger_impl.hpp"

#include <algorithm>

namespace vellum::ledger {

using schema::db;

status ledger::impl::write_index_merge(const lmdb::txn& t, std::uint64_t from,
                                       std::uint64_t to) {
  for (const auto& [id, seq] : recent.id_runs(from, to)) {
    auto p = t.put(dbs[db::event_ids], id, schema::encode_u64(seq), MDB_NOOVERWRITE);
    if (!p) return p.error();
  }
  for (const auto& run : recent.stream_runs(from, to)) {
    for (std::size_t i = 0; i < run.seqs.size(); ++i) {
      const auto key = schema::stream_index_key(run.stream, run.first_revision + i);
      auto p = t.put(dbs[db::stream_index], schema::view(key), schema::encode_u64(run.seqs[i]),
                     MDB_NOOVERWRITE);
      if (!p) return p.error();
    }
    const auto newest = schema::encode_u64(run.first_revision + run.seqs.size() - 1);
    if (auto p = t.put(dbs[db::streams], schema::view(run.stream), newest); !p) return p.error();
  }
  auto p = t.put(dbs[db::meta], schema::view(schema::meta_key::indexed), schema::encode_u64(to));
  if (!p) return p.error();
  return {};
}

status ledger::impl::load_recent(const lmdb::txn& t, std::uint64_t from, std::uint64_t to) {
  recent.clear(from);
  if (from == to) return {};
  auto c = lmdb::cursor::open(t, dbs[db::records]);
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
    if (!recent.add(entries)) return errc::corrupt;
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

status ledger::impl::build_query_indexes(const lmdb::txn& t, std::uint64_t events) {
  auto c = lmdb::cursor::open(t, dbs[db::records]);
  if (!c) return c.error();
  std::uint64_t seq = 0;
  for (auto e = c->get(MDB_FIRST); seq < events; e = c->get(MDB_NEXT), ++seq) {
    if (!e) return e.error();
    if (!*e) return errc::corrupt;
    auto key = schema::decode_u64((*e)->first);
    auto value = schema::decode_record_value((*e)->second);
    if (!key || *key != seq || !value) return errc::corrupt;
    auto rec = crypto::decode_event_record(value->record);
    if (!rec) return errc::corrupt;
    // Every stored statement was verified, so its payload reads; if one
    // does not (damage fsck will name), it is indexed with empty terms
    // rather than keeping the whole log from opening.
    auto payload = crypto::jws_payload_object(rec->jws);
    const query_terms terms = payload ? query_terms_of(*payload) : query_terms{};
    auto p = store::put_query_keys(t, dbs, seq, schema::term_of(terms.type), schema::term_of(terms.author_id),
                                   rec->recorded_at_us, terms.occurred_at_us);
    if (!p) return p.error();
  }
  return {};
}

std::uint64_t ledger::unmerged_events() const {
  const std::uint64_t size = impl_->size.load(std::memory_order_acquire);
  const std::uint64_t indexed = impl_->indexed.load(std::memory_order_acquire);
  return size > indexed ? size - indexed : 0;
}

result<std::uint64_t> ledger::merge_index(std::uint64_t at_least) {
  if (unmerged_events() < std::max<std::uint64_t>(at_least, 1)) return std::uint64_t{0};
  impl& l = *impl_;
  // Under write_mu no batch is being written: the store holds exactly the
  // committed batches, and a later batch reads "indexed" afresh.
  std::lock_guard lock(l.write_mu);
  std::uint64_t merged = 0, from = 0;
  auto ec = l.with_map_growth([&]() -> status {
    merged = 0;
    auto t = lmdb::txn::begin(l.env.get(), 0);
    if (!t) return t.error();
    auto size = store::meta_u64(*t, l.dbs, schema::meta_key::tree_size);
    if (!size) return size.error();
    auto indexed = store::meta_u64(*t, l.dbs, schema::meta_key::indexed);
    if (!indexed) return indexed.error();
    if (*size - *indexed < std::max<std::uint64_t>(at_least, 1)) return {};
    if (auto m = l.write_index_merge(*t, *indexed, *size); m) return m;
    if (auto c = t->commit(); !c) return c.error();
    from = *indexed;
    merged = *size - *indexed;
    return {};
  });
  if (ec) return l.write_failure(ec);
  if (merged != 0) {
    l.recent.forget_before(from);
    l.indexed.store(from + merged, std::memory_order_release);
  }
  return merged;
}

}  // namespace vellum::ledger
