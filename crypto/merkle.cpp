// RFC 9162 §2.1 Merkle tree hashing, proofs and their verification.
//
// Storage model (as golang.org/x/mod/sumdb/tlog). Only hashes of *complete*
// subtrees are ever stored or read: node (L, K) covers the 2^L leaves
// [K·2^L, (K+1)·2^L). A tree of n leaves has exactly floor(n / 2^L) complete
// nodes at level L; everything else is computed on demand.
//
// Ranges. Every hash that RFC 9162 puts into a root or a proof is MTH(D[a:b])
// for a range [a, b) that the RFC's recursion produces by splitting at
// k = the largest power of two smaller than the range size. Such a range is
// always "aligned": a is a multiple of a power of two that is >= b - a (the
// root starts at 0; the left part of a split [a, a+k) starts at a; the right
// part [a+k, b) has b - (a+k) <= k and starts at a multiple of k). An aligned
// range therefore decomposes, left to right, into complete subtrees of
// strictly decreasing size — one per set bit of b - a, largest first — and
// MTH(D[a:b]) is their hashes combined from the right:
//   MTH = H(s_0, H(s_1, … H(s_{j-1}, s_j)))
// which is exactly the RFC's k split applied repeatedly to the right part.
//
// Proof generation therefore plans all ranges first (pure index arithmetic,
// on the stack), asks the hash_source for all their complete subtrees in ONE
// read() call, and then folds the multi-node ranges in place. At most one
// range of a proof lies on the right edge of the tree and needs more than one
// node; all others are single complete subtrees.

#include "crypto/merkle.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <cstring>

namespace vellum::crypto {

namespace {

// A tree of size < 2^64 has depth <= 64, so a proof has at most 64 (inclusion)
// or 65 (consistency: the recursion's steps plus the final subtree) ranges,
// and a range decomposes into at most 64 complete subtrees. Only one range per
// proof decomposes into more than one node, so 64 + 65 ids always suffice.
constexpr std::size_t max_ranges = 66;
constexpr std::size_t max_nodes = max_ranges + 64;

struct range {
  std::uint64_t lo = 0;
  std::uint64_t hi = 0;  // exclusive, lo < hi
};

// Largest power of two strictly smaller than n (n >= 2): the RFC's k.
std::uint64_t split_point(std::uint64_t n) {
  assert(n >= 2);
  return std::uint64_t{1} << (std::bit_width(n - 1) - 1);
}

// Bounded list on the stack: proof planning never allocates.
template <class T, std::size_t N>
struct fixed_list {
  std::array<T, N> items{};
  std::size_t size = 0;

  void push(const T& v) {
    assert(size < N);
    items[size++] = v;
  }
  std::span<const T> view() const { return {items.data(), size}; }
};

using id_list = fixed_list<node_id, max_nodes>;
using range_list = fixed_list<range, max_ranges>;

// Appends the complete subtrees of the aligned range [lo, hi), left to right,
// and returns how many were appended. At each step the next subtree is the
// largest power of two 2^L that fits into hi - lo; alignment guarantees that
// lo is a multiple of 2^L, so it is node (L, lo >> L).
std::size_t decompose(range r, id_list& ids) {
  std::size_t count = 0;
  while (r.lo < r.hi) {
    const auto level = static_cast<std::uint8_t>(std::bit_width(r.hi - r.lo) - 1);
    const std::uint64_t width = std::uint64_t{1} << level;
    assert(r.lo % width == 0);  // aligned range, see the file comment
    ids.push({level, r.lo >> level});
    r.lo += width;
    ++count;
  }
  return count;
}

// Reads the nodes of the given ranges (in the given order) with one read()
// call into `out`, then folds every range into its MTH so that out[i] is
// MTH(D[ranges[i]]). `out` is resized to the number of ranges.
result<void> read_ranges(std::span<const range> ranges, const hash_source& src,
                         std::vector<hash>& out) {
  id_list ids;
  std::array<std::uint8_t, max_ranges> counts{};
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    counts[i] = static_cast<std::uint8_t>(decompose(ranges[i], ids));
  }
  out.resize(ids.size);
  if (ids.size > 0) {
    auto r = src.read(ids.view(), std::span<hash>(out.data(), out.size()));
    if (!r) return r.error();
  }
  // Fold in place: range i's nodes start at `in` >= i, so writing out[i]
  // never overwrites a node that is still to be read.
  std::size_t in = 0;
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    const std::size_t n = counts[i];
    hash h = out[in + n - 1];
    for (std::size_t j = n - 1; j-- > 0;) h = node_hash(out[in + j], h);  // right to left
    out[i] = h;
    in += n;
  }
  out.resize(ranges.size());
  return {};
}

// Computes the hash of complete node `id` from leaf hashes (O(2^level)).
hash subtree_hash(std::span<const hash> leaves, std::uint8_t level, std::uint64_t index) {
  if (level == 0) return leaves[index];
  return node_hash(subtree_hash(leaves, level - 1, 2 * index),
                   subtree_hash(leaves, level - 1, 2 * index + 1));
}

}  // namespace

hash leaf_hash(byte_view entry) {
  bytes buf;
  buf.reserve(entry.size() + 1);
  buf.push_back(0x00);
  buf.insert(buf.end(), entry.begin(), entry.end());
  return sha256(byte_view(buf));
}

hash node_hash(const hash& left, const hash& right) {
  std::array<std::uint8_t, 1 + 2 * sizeof(hash)> buf;
  buf[0] = 0x01;
  std::memcpy(buf.data() + 1, left.data(), left.size());
  std::memcpy(buf.data() + 1 + left.size(), right.data(), right.size());
  return sha256(byte_view(buf));
}

hash empty_root() { return sha256(byte_view{}); }

// Straight RFC 9162 §2.1.1 recursion: MTH(D[n]) = H(0x01 || MTH(D[0:k]) || MTH(D[k:n])).
hash root_from_leaf_hashes(std::span<const hash> leaf_hashes) {
  const std::size_t n = leaf_hashes.size();
  if (n == 0) return empty_root();
  if (n == 1) return leaf_hashes[0];
  const auto k = static_cast<std::size_t>(split_point(n));
  return node_hash(root_from_leaf_hashes(leaf_hashes.first(k)),
                   root_from_leaf_hashes(leaf_hashes.subspan(k)));
}

std::vector<node_id> minimal_cover(std::uint64_t begin, std::uint64_t end) {
  std::vector<node_id> ids;
  while (begin < end) {
    std::uint8_t level = 0;
    // Grow while the doubled subtree is still aligned at `begin` and fits.
    while (level < 63 && begin % (std::uint64_t{2} << level) == 0 &&
           end - begin >= (std::uint64_t{2} << level))
      ++level;
    ids.push_back({level, begin >> level});
    begin += std::uint64_t{1} << level;
  }
  return ids;
}

result<hash> tree_root(std::uint64_t size, const hash_source& src) {
  if (size == 0) return empty_root();
  // [0, size) is aligned; its complete subtrees are given by the set bits of size.
  const range all{0, size};
  std::vector<hash> out;
  out.reserve(static_cast<std::size_t>(std::popcount(size)));
  if (auto r = read_ranges(std::span<const range>(&all, 1), src, out); !r) return r.error();
  return out[0];
}

// RFC 9162 §2.1.3.1, unrolled. Walking down from [0, n): with k the split
// point, if the leaf is in the left part the proof gets MTH of the right part
// and we continue left, otherwise it gets MTH of the left part and we continue
// right. The RFC appends the sibling *after* the sub-path, so the proof lists
// the siblings bottom-up: the reverse of the order we find them in.
result<std::vector<hash>> inclusion_proof(std::uint64_t index, std::uint64_t size,
                                          const hash_source& src) {
  if (index >= size) return errc::malformed_proof;
  range_list siblings;
  std::uint64_t lo = 0, hi = size;
  while (hi - lo > 1) {
    const std::uint64_t k = split_point(hi - lo);
    if (index < lo + k) {
      siblings.push({lo + k, hi});
      hi = lo + k;
    } else {
      siblings.push({lo, lo + k});
      lo += k;
    }
  }
  std::reverse(siblings.items.begin(), siblings.items.begin() + siblings.size);
  std::vector<hash> proof;
  // Room for the right-edge range's extra nodes, so folding never reallocates.
  proof.reserve(siblings.size + 64);
  if (auto r = read_ranges(siblings.view(), src, proof); !r) return r.error();
  return proof;
}

// RFC 9162 §2.1.4.1, unrolled. SUBPROOF(m, D[lo:hi], b) with k the split point:
//   m <= k (m counted from lo): SUBPROOF(m, D[lo:lo+k], b) : MTH(D[lo+k:hi])
//   otherwise:                  SUBPROOF(m-k, D[lo+k:hi], false) : MTH(D[lo:lo+k])
// until the range is exactly the old tree's part (hi == m, in absolute leaf
// numbers), which contributes MTH(D[lo:hi]) only when b is false (when b is
// still true, [0, m) is the old tree itself and the verifier knows its root).
// Elements are found top-down and listed bottom-up, as for inclusion.
result<std::vector<hash>> consistency_proof(std::uint64_t m, std::uint64_t n,
                                            const hash_source& src) {
  if (m == 0 || m > n) return errc::malformed_proof;
  range_list parts;
  std::uint64_t lo = 0, hi = n;
  bool whole_old_tree = true;  // the RFC's b
  while (hi != m) {
    const std::uint64_t k = split_point(hi - lo);
    if (m <= lo + k) {
      parts.push({lo + k, hi});
      hi = lo + k;
    } else {
      parts.push({lo, lo + k});
      lo += k;
      whole_old_tree = false;
    }
  }
  if (!whole_old_tree) parts.push({lo, hi});
  std::reverse(parts.items.begin(), parts.items.begin() + parts.size);
  std::vector<hash> proof;
  proof.reserve(parts.size + 64);
  if (auto r = read_ranges(parts.view(), src, proof); !r) return r.error();
  return proof;
}

result<void> verify_inclusion(std::uint64_t index, std::uint64_t size, const hash& leaf,
                              std::span<const hash> proof, const hash& root) {
  // 1. Compare leaf_index against tree_size. If leaf_index is greater than
  //    or equal to tree_size, then fail the proof verification.
  if (index >= size) return errc::malformed_proof;
  // 2. Set fn to leaf_index and sn to tree_size - 1.
  std::uint64_t fn = index;
  std::uint64_t sn = size - 1;
  // 3. Set r to hash.
  hash r = leaf;
  // 4. For each value p in the inclusion_path array:
  for (const hash& p : proof) {
    // a. If sn is 0, then stop the iteration and fail the proof verification.
    //    (The path is longer than the tree is deep.)
    if (sn == 0) return errc::malformed_proof;
    // b. If LSB(fn) is set, or if fn is equal to sn, then:
    if ((fn & 1) == 1 || fn == sn) {
      //   i. Set r to HASH(0x01 || p || r).
      r = node_hash(p, r);
      //  ii. If LSB(fn) is not set, then right-shift both fn and sn equally
      //      until either LSB(fn) is set or fn is 0.
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      // Otherwise:
      //   i. Set r to HASH(0x01 || r || p).
      r = node_hash(r, p);
    }
    // c. Finally, right-shift both fn and sn one time.
    fn >>= 1;
    sn >>= 1;
  }
  // 5. Compare sn to 0. Compare r against the root_hash. If sn is equal to 0
  //    and r and the root_hash are equal, then the log has proven the
  //    inclusion of hash. Otherwise, fail the proof verification.
  if (sn != 0) return errc::malformed_proof;  // the path is too short
  if (r != root) return errc::proof_mismatch;
  return {};
}

result<void> verify_consistency(std::uint64_t m, std::uint64_t n, const hash& root_m,
                                const hash& root_n, std::span<const hash> proof) {
  if (m > n) return errc::malformed_proof;
  if (m == 0) {
    // The empty tree is a prefix of every tree; there is nothing to prove,
    // but the claimed old root must be the empty tree's root.
    if (!proof.empty()) return errc::malformed_proof;
    if (root_m != empty_root()) return errc::inconsistent_trees;
    return {};
  }
  if (m == n) {
    // RFC 9162 §2.1.4.1: PROOF(m, D[m]) is empty; the roots must be equal.
    if (!proof.empty()) return errc::malformed_proof;
    if (root_m != root_n) return errc::inconsistent_trees;
    return {};
  }
  // 1. If consistency_path is an empty array, stop and fail the proof
  //    verification.
  if (proof.empty()) return errc::malformed_proof;
  // 2. If first is an exact power of 2, then prepend first_hash to the
  //    consistency_path array. (Done without copying: `path(i)` reads the
  //    virtual array.)
  const bool prepend = std::has_single_bit(m);
  const std::size_t path_size = proof.size() + (prepend ? 1 : 0);
  auto path = [&](std::size_t i) -> const hash& {
    if (prepend) return i == 0 ? root_m : proof[i - 1];
    return proof[i];
  };
  // 3. Set fn to first - 1 and sn to second - 1.
  std::uint64_t fn = m - 1;
  std::uint64_t sn = n - 1;
  // 4. If LSB(fn) is set, then right-shift both fn and sn equally until
  //    LSB(fn) is not set.
  while ((fn & 1) == 1) {
    fn >>= 1;
    sn >>= 1;
  }
  // 5. Set both fr and sr to the first value in the consistency_path array.
  hash fr = path(0);
  hash sr = path(0);
  // 6. For each subsequent value c in the consistency_path array:
  for (std::size_t i = 1; i < path_size; ++i) {
    const hash& c = path(i);
    // a. If sn is 0, then stop the iteration and fail the proof verification.
    if (sn == 0) return errc::malformed_proof;
    // b. If LSB(fn) is set, or if fn is equal to sn, then:
    if ((fn & 1) == 1 || fn == sn) {
      //   i. Set fr to HASH(0x01 || c || fr).
      fr = node_hash(c, fr);
      //  ii. Set sr to HASH(0x01 || c || sr).
      sr = node_hash(c, sr);
      // iii. If LSB(fn) is not set, then right-shift both fn and sn equally
      //      until either LSB(fn) is set or fn is 0.
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      // Otherwise:
      //   i. Set sr to HASH(0x01 || sr || c).
      sr = node_hash(sr, c);
    }
    // c. Finally, right-shift both fn and sn one time.
    fn >>= 1;
    sn >>= 1;
  }
  // 7. After completing iterating through the consistency_path array as
  //    described above, verify that the fr calculated is equal to the
  //    first_hash supplied, that the sr calculated is equal to the
  //    second_hash supplied, and that sn is 0.
  if (sn != 0) return errc::malformed_proof;  // the path is too short
  if (fr != root_m || sr != root_n) return errc::inconsistent_trees;
  return {};
}

// Appending leaf `index` creates node (0, index). A node (L, K) with K odd is
// a right child: it completes its parent (L+1, K >> 1), whose left child is
// (L, K - 1), already stored. So the new nodes are the leaf and one parent per
// trailing 1 bit of `index` — as tlog.StoredHashes.
result<std::vector<std::pair<node_id, hash>>> hashes_completed_by_append(
    std::uint64_t index, const hash& leaf, const hash_source& src) {
  const int parents = std::countr_one(index);
  std::array<node_id, 64> left_ids;
  std::array<hash, 64> left;
  for (int l = 0; l < parents; ++l) {
    left_ids[static_cast<std::size_t>(l)] = {static_cast<std::uint8_t>(l), (index >> l) - 1};
  }
  const auto count = static_cast<std::size_t>(parents);
  if (count > 0) {
    auto r = src.read(std::span<const node_id>(left_ids.data(), count),
                      std::span<hash>(left.data(), count));
    if (!r) return r.error();
  }
  std::vector<std::pair<node_id, hash>> out;
  out.reserve(count + 1);
  out.push_back({node_id{0, index}, leaf});
  hash h = leaf;
  for (std::size_t l = 0; l < count; ++l) {
    h = node_hash(left[l], h);
    out.push_back({node_id{static_cast<std::uint8_t>(l + 1), index >> (l + 1)}, h});
  }
  return out;
}

result<void> memory_hash_source::read(std::span<const node_id> ids, std::span<hash> out) const {
  if (out.size() != ids.size()) return errc::internal;
  const std::uint64_t size = leaves_.size();
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const node_id id = ids[i];
    // Complete means (index + 1) · 2^level <= size, i.e. index < size >> level.
    if (id.level >= 64 || id.index >= (size >> id.level)) return errc::malformed_proof;
    out[i] = subtree_hash(leaves_, id.level, id.index);
  }
  return {};
}

}  // namespace vellum::crypto
