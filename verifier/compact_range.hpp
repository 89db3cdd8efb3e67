#pragma once
// The compact range of leaves [0, pos) (RFC 9162 §2.1.1's MTH computed
// incrementally): the hashes of the complete aligned subtrees the leaves so
// far form, with strictly decreasing levels from the left — one per binary
// digit of pos. The bundle checker folds the tree lines (leaves and nodes)
// into one and compares its root with the checkpoint's. At most 64 hashes.

#include "crypto/sha256.hpp"

#include <cstdint>
#include <vector>

namespace vellum::verifier {

class compact_range {
 public:
  // Appends the complete subtree of 2^level leaves starting at the current
  // end; the caller has checked that end % 2^level == 0. Merges equal levels.
  void push(unsigned level, crypto::hash h);
  // RFC 9162 MTH of the leaves so far, folding right to left; the empty
  // tree's root when nothing was pushed.
  [[nodiscard]] crypto::hash root() const;

 private:
  struct entry {
    unsigned level;
    crypto::hash h;
  };
  std::vector<entry> stack_;
};

// The levels of the fewest aligned complete subtrees covering leaves
// [begin, end), left to right: the writer's rule, crypto::minimal_cover.
[[nodiscard]] std::vector<unsigned> minimal_cover_levels(std::uint64_t begin, std::uint64_t end);

}  // namespace vellum::verifier
