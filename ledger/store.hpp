#pragma once
// Records on disk: the database handles and the decoders of stored events,
// checkpoints and receipts, shared by the ledger and fsck. Each takes the
// transaction first, so the caller decides what is atomic. Errors are in the
// ledger category (LMDB failures mapped through lmdb::to_ledger_error).

#include "ledger/ledger.hpp"
#include "ledger/lmdb.hpp"
#include "ledger/schema.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace vellum::ledger::store {

// The database handles of one environment, indexed by schema::db.
struct dbs {
  std::array<MDB_dbi, schema::db_count> h{};
  // False when a read-only open found a version 1 or 2 store without the
  // by_* databases (their handles are then unusable).
  bool query_indexes = true;
  MDB_dbi operator[](schema::db d) const { return h[static_cast<unsigned>(d)]; }
};

// Opens every database of the schema (flags: MDB_CREATE, or 0 read-only;
// read-only, missing query indexes clear dbs::query_indexes).
[[nodiscard]] result<dbs> open_dbs(const lmdb::txn& t, unsigned flags);

// A u64 value (nullopt if the key is absent; corrupt if not 8 bytes).
[[nodiscard]] result<std::optional<std::uint64_t>> get_u64(const lmdb::txn& t, MDB_dbi db,
                                                           byte_view key);
// A u64 meta record that must exist (corrupt otherwise).
[[nodiscard]] result<std::uint64_t> meta_u64(const lmdb::txn& t, const dbs& d,
                                             std::string_view key);

// The four query index entries of event `seq` (by_recorded appended: seqs
// and recorded_at only grow). Errors: LMDB's, e.g. MDB_KEYEXIST for an entry
// already there.
[[nodiscard]] result<void> put_query_keys(const lmdb::txn& t, const dbs& d, std::uint64_t seq,
                                          const schema::term& type, const schema::term& author,
                                          std::uint64_t recorded_at_us, std::uint64_t occurred_at_us);

// A checkpoints entry → signed_checkpoint (corrupt if the body does not
// parse or its size differs from the key).
[[nodiscard]] result<signed_checkpoint> decode_checkpoint(byte_view key, byte_view value);

// The stored event `seq` (not_found past the end).
[[nodiscard]] result<stored_event> load_event(const lmdb::txn& t, const dbs& d,
                                              std::uint64_t seq);

// The receipt of `seq`: its checkpoint is the smallest stored one whose size
// exceeds seq (the batch that stored it); the proof reads `nodes`.
[[nodiscard]] result<receipt> load_receipt(const lmdb::txn& t, const dbs& d, std::uint64_t seq,
                                           const crypto::hash_source& nodes);

}  // namespace vellum::ledger::store
