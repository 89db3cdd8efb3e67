#pragma once
// RFC 9162 §2.1 Merkle tree hashing, proofs and their verification.
//
// Leaf indexes are 0-based. A "node" (level L, index K) is the hash of the
// complete subtree over leaves [K·2^L, (K+1)·2^L); level 0 nodes are leaf
// hashes. Only complete subtrees are ever stored; the hash of an incomplete
// right edge is computed from complete ones on demand (as Go's sumdb/tlog).
// The empty tree's root is SHA-256("").

#include "crypto/error.hpp"
#include "crypto/sha256.hpp"

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace vellum::crypto {

hash leaf_hash(byte_view entry);                      // H(0x00 || entry)
hash node_hash(const hash& left, const hash& right);  // H(0x01 || left || right)
hash empty_root();                                    // H("")

// Root of the tree whose leaf hashes are given (naive, O(n); reference and tests).
hash root_from_leaf_hashes(std::span<const hash> leaf_hashes);

struct node_id {
  std::uint8_t level = 0;
  std::uint64_t index = 0;
  bool operator==(const node_id&) const = default;
};

// Source of stored complete-subtree hashes. read() fills out[i] with the hash
// of ids[i]; the caller only asks for nodes of complete subtrees inside the
// tree it is proving. Implementations: in-memory (tests, verifier), the
// ledger's tile store.
class hash_source {
 public:
  virtual ~hash_source() = default;
  [[nodiscard]] virtual result<void> read(std::span<const node_id> ids,
                                          std::span<hash> out) const = 0;
};

// Root of the first `size` leaves. Errors: those of the source.
// The fewest aligned complete subtrees that cover the leaves [begin, end),
// left to right: each is the largest subtree that starts at the next leaf to
// cover and ends at or before `end`. Empty when begin >= end. Sealed exports
// cover every run of unexported leaves this way, and the verifier demands
// exactly this cover (docs/formats.md §8).
std::vector<node_id> minimal_cover(std::uint64_t begin, std::uint64_t end);

[[nodiscard]] result<hash> tree_root(std::uint64_t size, const hash_source& src);

// RFC 9162 §2.1.3.1 PATH(index, D[size]). Errors: malformed_proof when
// index >= size; errors of the source.
[[nodiscard]] result<std::vector<hash>> inclusion_proof(std::uint64_t index, std::uint64_t size,
                                                        const hash_source& src);

// RFC 9162 §2.1.4.1 PROOF(m, D[n]), 0 < m <= n (m == n gives an empty proof).
// Errors: malformed_proof when m == 0 or m > n; errors of the source.
[[nodiscard]] result<std::vector<hash>> consistency_proof(std::uint64_t m, std::uint64_t n,
                                                          const hash_source& src);

// RFC 9162 §2.1.3.2. Errors: malformed_proof (index >= size, wrong proof
// length), proof_mismatch (does not reach root).
[[nodiscard]] result<void> verify_inclusion(std::uint64_t index, std::uint64_t size,
                                            const hash& leaf, std::span<const hash> proof,
                                            const hash& root);

// RFC 9162 §2.1.4.2. m == n requires an empty proof and equal roots; m == 0
// is accepted only with an empty proof (the empty tree is a prefix of every
// tree) and root_m == empty_root(). Errors: malformed_proof (m > n, wrong
// proof length), inconsistent_trees (the proof does not bind the two roots).
[[nodiscard]] result<void> verify_consistency(std::uint64_t m, std::uint64_t n,
                                              const hash& root_m, const hash& root_n,
                                              std::span<const hash> proof);

// The complete-subtree hashes that appending leaf number `index` (0-based,
// so the tree grows from index to index+1 leaves) creates: the leaf itself at
// level 0, then every parent it completes, bottom-up. `src` must be able to
// return the left siblings (nodes already stored for the first `index` leaves).
[[nodiscard]] result<std::vector<std::pair<node_id, hash>>> hashes_completed_by_append(
    std::uint64_t index, const hash& leaf, const hash_source& src);

// An in-memory hash_source over a full list of leaf hashes (computes nodes
// on demand, caches nothing). For tests and small trees.
class memory_hash_source final : public hash_source {
 public:
  explicit memory_hash_source(std::vector<hash> leaves) : leaves_(std::move(leaves)) {}
  result<void> read(std::span<const node_id> ids, std::span<hash> out) const override;
  std::uint64_t size() const { return leaves_.size(); }

 private:
  std::vector<hash> leaves_;
};

}  // namespace vellum::crypto
