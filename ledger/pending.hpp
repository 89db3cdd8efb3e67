#pragma once
// What prepare() sees of batches prepared and not yet committed: the ids,
// stream heads and tree nodes they claim. Internal to ledger/; guarded by
// the ledger's prepare lock (docs/architecture.md, "ledger/").

#include "crypto/merkle.hpp"
#include "ledger/node_store.hpp"
#include "ledger/recent_index.hpp"
#include "ledger/schema.hpp"

#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace vellum::ledger::store {

// Hashes of complete subtrees that are not yet stored: this batch's, then
// earlier prepared batches', then the store.
class overlay_source final : public crypto::hash_source {
 public:
  using map = std::unordered_map<node_map_key, crypto::hash, node_map_hash>;
  overlay_source(const map& local, const map& pending, const crypto::hash_source& stored)
      : local_(local), pending_(pending), stored_(stored) {}
  [[nodiscard]] result<void> read(std::span<const crypto::node_id> ids,
                                  std::span<crypto::hash> out) const override;

 private:
  const map& local_;
  const map& pending_;
  const crypto::hash_source& stored_;
};

// What batches prepared and not yet committed have claimed. Entries are
// forgotten once a read transaction opened after their commit sees them.
struct pending_state {
  std::uint64_t generation = 0;
  std::uint64_t size = 0;     // tree size after every prepared batch
  std::uint64_t last_recorded = 0;
  struct claimed_event {
    std::uint64_t seq = 0;
    std::string stream;  // so that a correction prepared on top can check it names its own stream
  };
  std::unordered_map<schema::uuid, claimed_event, uuid_hash> ids;
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

  // Forgets the batches whose commit a transaction opened now sees.
  void forget_committed(std::uint64_t committed);
  void clear();
};

}  // namespace vellum::ledger::store
