#pragma once
// Storage functions shared by the ledger and fsck. Each takes the
// transaction first, so the caller decides what is atomic. Errors are in the
// ledger category (LMDB failures mapped through lmdb::to_ledger_error).

#include "ledger/ledger.hpp"
#include "ledger/lmdb.hpp"
#include "ledger/schema.hpp"

#include <array>
#include <optional>
#include <shared_mutex>
#include <vector>
#include <string_view>
#include <unordered_map>

namespace vellum::ledger::store {

// The database handles of one environment, indexed by schema::db.
struct dbs {
  std::array<MDB_dbi, schema::db_count> h{};
  MDB_dbi operator[](schema::db d) const { return h[static_cast<unsigned>(d)]; }
};

// Opens every database of the schema (flags: MDB_CREATE, or 0 read-only).
[[nodiscard]] result<dbs> open_dbs(const lmdb::txn& t, unsigned flags);

// A u64 value (nullopt if the key is absent; corrupt if not 8 bytes).
[[nodiscard]] result<std::optional<std::uint64_t>> get_u64(const lmdb::txn& t, MDB_dbi db,
                                                           byte_view key);
// A u64 meta record that must exist (corrupt otherwise).
[[nodiscard]] result<std::uint64_t> meta_u64(const lmdb::txn& t, const dbs& d,
                                             std::string_view key);

// The committed nodes of levels >= min_level (the hashes of the level >= 1
// tiles and the top two levels of the level-0 tiles), in memory: about n/32
// hashes (n bytes: 10 MB for ten million events) for n leaves, and they
// never change once complete. Proofs read their upper levels from here
// instead of LMDB. Thread-safe: readers share, the writer appends after
// each commit.
class upper_node_cache {
 public:
  static constexpr unsigned min_level = 6;

  // Sets out[i] and hit[i] = 1 for every cached ids[i] (one lock).
  void lookup(std::span<const crypto::node_id> ids, std::span<crypto::hash> out,
              std::span<unsigned char> hit) const;
  // Appends committed nodes; a node that does not extend its level by
  // exactly one is ignored (it is then read from LMDB).
  void add(std::span<const std::pair<crypto::node_id, crypto::hash>> nodes);
  // Loads every stored node of level >= min_level (at open).
  [[nodiscard]] result<void> load(const lmdb::txn& t, MDB_dbi nodes);

 private:
  mutable std::shared_mutex mu_;
  std::array<std::vector<crypto::hash>, 64> levels_;
};

// Reads stored subtree hashes through one transaction (a write transaction
// sees the nodes it has added), consulting `cache` first if given. Missing
// node: not_found.
class node_source final : public crypto::hash_source {
 public:
  node_source(const lmdb::txn& t, MDB_dbi nodes, const upper_node_cache* cache = nullptr)
      : txn_(t), nodes_(nodes), cache_(cache) {}
  [[nodiscard]] result<void> read(std::span<const crypto::node_id> ids,
                                  std::span<crypto::hash> out) const override;

 private:
  const lmdb::txn& txn_;
  MDB_dbi nodes_;
  const upper_node_cache* cache_;
};

// A node as a hash-map key: (level, index).
using node_map_key = std::pair<std::uint8_t, std::uint64_t>;
struct node_map_hash {
  std::size_t operator()(node_map_key k) const noexcept {
    return std::hash<std::uint64_t>{}(k.second * 0x9E3779B97F4A7C15ull ^ k.first);
  }
};
inline node_map_key map_key(const crypto::node_id& id) { return {id.level, id.index}; }

// Remembers every node read through `base` (receipts of one batch share
// most of their upper nodes). Not thread-safe.
class caching_source final : public crypto::hash_source {
 public:
  explicit caching_source(const crypto::hash_source& base) : base_(base) {}
  [[nodiscard]] result<void> read(std::span<const crypto::node_id> ids,
                                  std::span<crypto::hash> out) const override;

 private:
  const crypto::hash_source& base_;
  mutable std::unordered_map<node_map_key, crypto::hash, node_map_hash> cache_;
};

// The signed text of a note: everything up to and including the '\n' before
// the blank line (empty if there is none).
std::string_view note_body(std::string_view note);

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
