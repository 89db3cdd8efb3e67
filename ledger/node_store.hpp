#pragma once
// Where proofs and tiles read tree nodes from: the upper levels in memory,
// the rest through an LMDB transaction, and a per-batch memo. Internal to
// ledger/ (docs/architecture.md, "ledger/").

#include "crypto/merkle.hpp"
#include "ledger/ledger.hpp"
#include "ledger/lmdb.hpp"

#include <array>
#include <cstdint>
#include <functional>
#include <shared_mutex>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

namespace vellum::ledger::store {

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

}  // namespace vellum::ledger::store
