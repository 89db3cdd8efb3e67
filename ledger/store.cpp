// Records on disk (store.hpp): database handles and the decoders of stored
// events, checkpoints and receipts.

#include "ledger/store.hpp"

#include "crypto/leaf_entry.hpp"
#include "crypto/note.hpp"

namespace vellum::ledger::store {

result<dbs> open_dbs(const lmdb::txn& t, unsigned flags) {
  dbs out;
  for (std::size_t i = 0; i < schema::db_count; ++i) {
    auto h = t.open_db(schema::db_names[i], flags);
    if (!h && h.error() == lmdb::make_error(MDB_NOTFOUND) &&
        schema::is_query_index(static_cast<schema::db>(i))) {
      out.query_indexes = false;
      continue;
    }
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

result<void> put_query_keys(const lmdb::txn& t, const dbs& d, std::uint64_t seq,
                            const schema::term& type, const schema::term& author,
                            std::uint64_t recorded_at_us, std::uint64_t occurred_at_us) {
  using schema::db;
  for (auto p : {t.put(d[db::by_type], schema::term_key(type, seq), byte_view{}, MDB_NOOVERWRITE),
                 t.put(d[db::by_author], schema::term_key(author, seq), byte_view{}, MDB_NOOVERWRITE),
                 t.put(d[db::by_recorded], schema::time_key(recorded_at_us, seq), byte_view{}, MDB_APPEND),
                 t.put(d[db::by_occurred], schema::time_key(occurred_at_us, seq), byte_view{},
                       MDB_NOOVERWRITE)}) {
    if (!p) return p.error();
  }
  return {};
}

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

}  // namespace vellum::ledger::store
