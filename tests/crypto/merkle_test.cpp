// RFC 9162 Merkle trees: known-answer vectors from Go's sumdb/tlog
// (tests/data/merkle.json, see its "about" member for provenance), a naive
// reference written straight from the RFC's recursive definitions compared
// over every size, and tampering of every proof field.

#include "crypto/encoding.hpp"
#include "crypto/merkle.hpp"
#include "crypto/sha256.hpp"

#include "test_util.hpp"

#include <boost/test/unit_test.hpp>

#include <bit>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace vellum::crypto {
namespace {

namespace json = boost::json;

hash hash_from_hex(json::string_view hex) {
  auto b = hex_decode(std::string_view(hex.data(), hex.size()));
  BOOST_REQUIRE(b.has_value());
  BOOST_REQUIRE_EQUAL(b->size(), 32u);
  hash h;
  std::memcpy(h.data(), b->data(), 32);
  return h;
}

std::vector<hash> hashes_from_json(const json::value& v) {
  std::vector<hash> out;
  for (const auto& h : v.as_array()) out.push_back(hash_from_hex(h.as_string()));
  return out;
}

std::string hex(const hash& h) { return hex_encode(h); }

hash flip(hash h, std::size_t byte = 0) {
  h[byte] ^= 0x01;
  return h;
}

hash make_leaf(std::uint64_t i) { return leaf_hash(as_bytes("leaf-" + std::to_string(i))); }

std::vector<hash> make_leaves(std::uint64_t n) {
  std::vector<hash> out;
  for (std::uint64_t i = 0; i < n; ++i) out.push_back(make_leaf(i));
  return out;
}

// ---------------------------------------------------------------------------
// Naive reference, straight from RFC 9162 §2.1.1, §2.1.3.1 and §2.1.4.1,
// hashing with SHA-256 directly (not node_hash), memoised per range. Ranges
// of a prefix tree are ranges of the full leaf list, so one memo serves all
// tree sizes.
class reference {
 public:
  explicit reference(std::vector<hash> leaves) : leaves_(std::move(leaves)) {}

  static std::uint64_t k_of(std::uint64_t n) {  // largest power of two < n
    std::uint64_t k = 1;
    while (k * 2 < n) k *= 2;
    return k;
  }

  hash mth(std::uint64_t lo, std::uint64_t hi) {
    if (hi == lo) return sha256(std::string_view{});
    if (hi - lo == 1) return leaves_[lo];
    auto it = memo_.find({lo, hi});
    if (it != memo_.end()) return it->second;
    const std::uint64_t k = k_of(hi - lo);
    bytes buf{0x01};
    const hash l = mth(lo, lo + k), r = mth(lo + k, hi);
    buf.insert(buf.end(), l.begin(), l.end());
    buf.insert(buf.end(), r.begin(), r.end());
    const hash h = sha256(byte_view(buf));
    memo_.emplace(std::pair{lo, hi}, h);
    return h;
  }

  // PATH(m, D[lo:hi]) with m an absolute leaf index.
  std::vector<hash> path(std::uint64_t m, std::uint64_t lo, std::uint64_t hi) {
    if (hi - lo == 1) return {};
    const std::uint64_t k = k_of(hi - lo);
    std::vector<hash> p;
    if (m < lo + k) {
      p = path(m, lo, lo + k);
      p.push_back(mth(lo + k, hi));
    } else {
      p = path(m, lo + k, hi);
      p.push_back(mth(lo, lo + k));
    }
    return p;
  }

  // SUBPROOF(m, D[lo:hi], b) with m an absolute leaf count.
  std::vector<hash> subproof(std::uint64_t m, std::uint64_t lo, std::uint64_t hi, bool b) {
    if (m == hi) {
      if (b) return {};
      return {mth(lo, hi)};
    }
    const std::uint64_t k = k_of(hi - lo);
    std::vector<hash> p;
    if (m <= lo + k) {
      p = subproof(m, lo, lo + k, b);
      p.push_back(mth(lo + k, hi));
    } else {
      p = subproof(m, lo + k, hi, false);
      p.push_back(mth(lo, lo + k));
    }
    return p;
  }

  std::vector<hash> proof(std::uint64_t m, std::uint64_t n) { return subproof(m, 0, n, true); }

  std::uint64_t size() const { return leaves_.size(); }

 private:
  std::vector<hash> leaves_;
  std::map<std::pair<std::uint64_t, std::uint64_t>, hash> memo_;
};

// A fast source: every complete node of the full leaf list precomputed per
// level. `size` limits what may be asked for (the tree being proved), so the
// test also checks that proofs only read complete subtrees inside their tree.
class table_source final : public hash_source {
 public:
  explicit table_source(const std::vector<hash>& leaves) {
    levels_.push_back(leaves);
    while (levels_.back().size() > 1) {
      const auto& below = levels_.back();
      std::vector<hash> above;
      for (std::size_t i = 0; i + 1 < below.size(); i += 2) {
        above.push_back(node_hash(below[i], below[i + 1]));
      }
      levels_.push_back(std::move(above));
    }
    size = leaves.size();
  }

  result<void> read(std::span<const node_id> ids, std::span<hash> out) const override {
    ++reads;
    BOOST_REQUIRE_EQUAL(ids.size(), out.size());
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const node_id id = ids[i];
      if (id.level >= 64 || id.index >= (size >> id.level)) {
        BOOST_ERROR("read of node (" << int(id.level) << ", " << id.index
                                     << ") outside tree of size " << size);
        return errc::internal;
      }
      out[i] = levels_[id.level][id.index];
    }
    return {};
  }

  std::uint64_t size = 0;
  mutable int reads = 0;

 private:
  std::vector<std::vector<hash>> levels_;
};

// A source that fails every read (checks error propagation).
class failing_source final : public hash_source {
 public:
  result<void> read(std::span<const node_id>, std::span<hash>) const override {
    return errc::io_error;
  }
};

// A source for huge trees: arbitrary hashes derived from the node id. Not a
// consistent tree, but enough to check the index arithmetic near 2^64.
class synthetic_source final : public hash_source {
 public:
  explicit synthetic_source(std::uint64_t tree_size) : size_(tree_size) {}
  result<void> read(std::span<const node_id> ids, std::span<hash> out) const override {
    for (std::size_t i = 0; i < ids.size(); ++i) {
      BOOST_REQUIRE_LT(ids[i].level, 64);
      BOOST_REQUIRE_LT(ids[i].index, size_ >> ids[i].level);
      out[i] = sha256(std::to_string(ids[i].level) + "/" + std::to_string(ids[i].index));
    }
    return {};
  }

 private:
  std::uint64_t size_;
};

boost::system::error_code code(errc e) { return make_error_code(e); }

template <class T>
boost::system::error_code error_of(const result<T>& r) {
  return r.has_value() ? boost::system::error_code{} : r.error().code();
}

// The error a wrong-but-well-formed inclusion claim must produce: the
// verifier checks the proof length implied by (index, size) first.
errc inclusion_error(std::uint64_t index, std::uint64_t size, std::size_t proof_len,
                     reference& ref) {
  if (index >= size) return errc::malformed_proof;
  return ref.path(index, 0, size).size() == proof_len ? errc::proof_mismatch
                                                      : errc::malformed_proof;
}

errc consistency_error(std::uint64_t m, std::uint64_t n, std::size_t proof_len,
                       reference& ref) {
  if (m > n) return errc::malformed_proof;
  if (m == 0 || m == n) return proof_len == 0 ? errc::inconsistent_trees : errc::malformed_proof;
  return ref.proof(m, n).size() == proof_len ? errc::inconsistent_trees : errc::malformed_proof;
}

// Every way of tampering with an inclusion proof must fail, with the right error.
void check_inclusion_tampering(std::uint64_t index, std::uint64_t size, const hash& leaf,
                               const std::vector<hash>& proof, const hash& root,
                               reference& ref) {
  for (std::size_t i = 0; i < proof.size(); ++i) {
    auto p = proof;
    p[i] = flip(p[i], i % 32);
    BOOST_TEST(error_of(verify_inclusion(index, size, leaf, p, root)) ==
               code(errc::proof_mismatch));
  }
  BOOST_TEST(error_of(verify_inclusion(index, size, flip(leaf), proof, root)) ==
             code(errc::proof_mismatch));
  BOOST_TEST(error_of(verify_inclusion(index, size, leaf, proof, flip(root, 31))) ==
             code(errc::proof_mismatch));
  // An extra node at either end, a node removed from either end.
  {
    auto p = proof;
    p.push_back(leaf);
    BOOST_TEST(error_of(verify_inclusion(index, size, leaf, p, root)) ==
               code(errc::malformed_proof));
    p = proof;
    p.insert(p.begin(), leaf);
    BOOST_TEST(error_of(verify_inclusion(index, size, leaf, p, root)) ==
               code(errc::malformed_proof));
  }
  if (!proof.empty()) {
    auto p = proof;
    p.pop_back();
    BOOST_TEST(error_of(verify_inclusion(index, size, leaf, p, root)) ==
               code(errc::malformed_proof));
    p = proof;
    p.erase(p.begin());
    BOOST_TEST(error_of(verify_inclusion(index, size, leaf, p, root)) ==
               code(errc::malformed_proof));
  }
  // A wrong index in the same tree (a leaf's position is all a path encodes,
  // so any other index fails, even with a path of the same length).
  for (std::uint64_t wrong : {index + 1, index - 1, index ^ 1, size}) {
    if (wrong == index || wrong > size) continue;  // index - 1 wraps for 0
    BOOST_TEST(error_of(verify_inclusion(wrong, size, leaf, proof, root)) ==
               code(inclusion_error(wrong, size, proof.size(), ref)));
  }
  // A wrong size, with the real root of that size. (With the old root a
  // wrong size can verify when the path has the same shape: the root, not
  // the proof, binds the size — which is why checkpoints sign both.)
  for (std::uint64_t wrong : {size + 1, size - 1, 2 * size}) {
    if (wrong == size || wrong <= index || wrong > ref.size()) continue;
    BOOST_TEST(error_of(verify_inclusion(index, wrong, leaf, proof, ref.mth(0, wrong))) ==
               code(inclusion_error(index, wrong, proof.size(), ref)));
  }
}

void check_consistency_tampering(std::uint64_t m, std::uint64_t n, const hash& root_m,
                                 const hash& root_n, const std::vector<hash>& proof,
                                 reference& ref) {
  for (std::size_t i = 0; i < proof.size(); ++i) {
    auto p = proof;
    p[i] = flip(p[i], i % 32);
    BOOST_TEST(error_of(verify_consistency(m, n, root_m, root_n, p)) ==
               code(errc::inconsistent_trees));
  }
  BOOST_TEST(error_of(verify_consistency(m, n, flip(root_m), root_n, proof)) ==
             code(errc::inconsistent_trees));
  BOOST_TEST(error_of(verify_consistency(m, n, root_m, flip(root_n, 31), proof)) ==
             code(errc::inconsistent_trees));
  {
    auto p = proof;
    p.push_back(root_m);
    BOOST_TEST(error_of(verify_consistency(m, n, root_m, root_n, p)) ==
               code(errc::malformed_proof));
    p = proof;
    p.insert(p.begin(), root_m);
    BOOST_TEST(error_of(verify_consistency(m, n, root_m, root_n, p)) ==
               code(errc::malformed_proof));
  }
  if (!proof.empty()) {
    auto p = proof;
    p.pop_back();
    BOOST_TEST(error_of(verify_consistency(m, n, root_m, root_n, p)) ==
               code(errc::malformed_proof));
    p = proof;
    p.erase(p.begin());
    BOOST_TEST(error_of(verify_consistency(m, n, root_m, root_n, p)) ==
               code(errc::malformed_proof));
  }
  // Wrong sizes, each with the real root of the claimed size.
  for (std::uint64_t wrong : {m + 1, m - 1, 2 * m}) {
    if (wrong == m || wrong == 0 || wrong > n) continue;
    BOOST_TEST(error_of(verify_consistency(wrong, n, ref.mth(0, wrong), root_n, proof)) ==
               code(consistency_error(wrong, n, proof.size(), ref)));
  }
  for (std::uint64_t wrong : {n + 1, n - 1, 2 * n}) {
    if (wrong == n || wrong < m || wrong > ref.size()) continue;
    BOOST_TEST(error_of(verify_consistency(m, wrong, root_m, ref.mth(0, wrong), proof)) ==
               code(consistency_error(m, wrong, proof.size(), ref)));
  }
}

struct vectors {
  json::object data = test::load_json("merkle.json").as_object();
  std::vector<hash> leaf_hashes = hashes_from_json(data.at("leaf_hashes"));
  reference ref{leaf_hashes};
  table_source src{leaf_hashes};
};

}  // namespace

BOOST_AUTO_TEST_SUITE(merkle)

// ---------------------------------------------------------------------------
// Known answers (Go sumdb/tlog).

BOOST_FIXTURE_TEST_CASE(leaf_hashes_match_vectors, vectors) {
  const auto& leaves = data.at("leaves_hex").as_array();
  BOOST_REQUIRE_EQUAL(leaves.size(), leaf_hashes.size());
  for (std::size_t i = 0; i < leaves.size(); ++i) {
    const auto& h = leaves[i].as_string();
    auto entry = hex_decode(std::string_view(h.data(), h.size()));
    BOOST_REQUIRE(entry.has_value());
    BOOST_TEST(hex(leaf_hash(*entry)) == hex(leaf_hashes[i]), "leaf " << i);
  }
}

BOOST_FIXTURE_TEST_CASE(empty_tree_root_is_sha256_of_nothing, vectors) {
  BOOST_TEST(hex(empty_root()) == hex(hash_from_hex(data.at("empty_tree_root").as_string())));
  BOOST_TEST(hex(root_from_leaf_hashes({})) == hex(empty_root()));
  auto r = tree_root(0, src);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(hex(*r) == hex(empty_root()));
  BOOST_TEST(src.reads == 0);
}

BOOST_FIXTURE_TEST_CASE(roots_match_vectors_for_every_size, vectors) {
  const auto& roots = data.at("roots_by_size").as_object();
  BOOST_REQUIRE_EQUAL(roots.size(), leaf_hashes.size());
  for (std::uint64_t n = 1; n <= leaf_hashes.size(); ++n) {
    const hash want = hash_from_hex(roots.at(std::to_string(n)).as_string());
    src.size = n;
    auto r = tree_root(n, src);
    BOOST_REQUIRE(r.has_value());
    BOOST_TEST(hex(*r) == hex(want), "size " << n);
    BOOST_TEST(hex(root_from_leaf_hashes(std::span(leaf_hashes).first(n))) == hex(want));
    memory_hash_source mem(std::vector<hash>(leaf_hashes.begin(), leaf_hashes.begin() + n));
    auto r2 = tree_root(n, mem);
    BOOST_REQUIRE(r2.has_value());
    BOOST_TEST(hex(*r2) == hex(want));
  }
}

BOOST_FIXTURE_TEST_CASE(inclusion_vectors_are_generated_and_verify, vectors) {
  const auto& cases = data.at("inclusion").as_array();
  BOOST_REQUIRE(!cases.empty());
  for (const auto& cv : cases) {
    const auto& c = cv.as_object();
    const auto index = c.at("leaf_index").to_number<std::uint64_t>();
    const auto size = c.at("tree_size").to_number<std::uint64_t>();
    const hash leaf = hash_from_hex(c.at("leaf_hash").as_string());
    const hash root = hash_from_hex(c.at("root").as_string());
    const auto path = hashes_from_json(c.at("path"));
    BOOST_TEST_CONTEXT("index " << index << " size " << size) {
      src.size = size;
      src.reads = 0;
      auto p = inclusion_proof(index, size, src);
      BOOST_REQUIRE(p.has_value());
      BOOST_TEST(src.reads <= 1);
      BOOST_REQUIRE_EQUAL(p->size(), path.size());
      for (std::size_t i = 0; i < path.size(); ++i) BOOST_TEST(hex((*p)[i]) == hex(path[i]));
      BOOST_TEST(verify_inclusion(index, size, leaf, path, root).has_value());
      src.size = leaf_hashes.size();
      check_inclusion_tampering(index, size, leaf, path, root, ref);
    }
  }
}

BOOST_FIXTURE_TEST_CASE(consistency_vectors_are_generated_and_verify, vectors) {
  const auto& cases = data.at("consistency").as_array();
  BOOST_REQUIRE(!cases.empty());
  for (const auto& cv : cases) {
    const auto& c = cv.as_object();
    const auto m = c.at("size1").to_number<std::uint64_t>();
    const auto n = c.at("size2").to_number<std::uint64_t>();
    const hash root_m = hash_from_hex(c.at("root1").as_string());
    const hash root_n = hash_from_hex(c.at("root2").as_string());
    const auto proof = hashes_from_json(c.at("proof"));
    BOOST_TEST_CONTEXT("m " << m << " n " << n) {
      src.size = n;
      src.reads = 0;
      auto p = consistency_proof(m, n, src);
      BOOST_REQUIRE(p.has_value());
      BOOST_TEST(src.reads <= 1);
      BOOST_REQUIRE_EQUAL(p->size(), proof.size());
      for (std::size_t i = 0; i < proof.size(); ++i) BOOST_TEST(hex((*p)[i]) == hex(proof[i]));
      BOOST_TEST(verify_consistency(m, n, root_m, root_n, proof).has_value());
      check_consistency_tampering(m, n, root_m, root_n, proof, ref);
    }
  }
}

// ---------------------------------------------------------------------------
// Properties against the naive reference.

BOOST_AUTO_TEST_CASE(tree_root_equals_reference_for_sizes_1_to_300) {
  const auto leaves = make_leaves(300);
  reference ref(leaves);
  table_source src(leaves);
  for (std::uint64_t n = 1; n <= 300; ++n) {
    src.size = n;
    src.reads = 0;
    auto r = tree_root(n, src);
    BOOST_REQUIRE(r.has_value());
    BOOST_TEST(hex(*r) == hex(ref.mth(0, n)), "size " << n);
    BOOST_TEST(src.reads == 1);
    BOOST_TEST(hex(root_from_leaf_hashes(std::span(leaves).first(n))) == hex(ref.mth(0, n)));
  }
}

BOOST_AUTO_TEST_CASE(inclusion_proofs_match_reference_and_verify_for_sizes_1_to_300) {
  const auto leaves = make_leaves(301);
  reference ref(leaves);
  table_source src(leaves);
  for (std::uint64_t n = 1; n <= 300; ++n) {
    const hash root = ref.mth(0, n);
    for (std::uint64_t i = 0; i < n; ++i) {
      src.size = n;
      src.reads = 0;
      auto p = inclusion_proof(i, n, src);
      BOOST_REQUIRE(p.has_value());
      BOOST_REQUIRE(src.reads == (n > 1 ? 1 : 0));
      const auto want = ref.path(i, 0, n);
      BOOST_REQUIRE_EQUAL(p->size(), want.size());
      for (std::size_t j = 0; j < want.size(); ++j) BOOST_REQUIRE((*p)[j] == want[j]);
      BOOST_REQUIRE(verify_inclusion(i, n, leaves[i], *p, root).has_value());
      // Wrong index and wrong size (with that size's real root) fail.
      if (n > 1) {
        const std::uint64_t other = (i + 1) % n;
        BOOST_REQUIRE(error_of(verify_inclusion(other, n, leaves[i], *p, root)) ==
                      code(inclusion_error(other, n, p->size(), ref)));
      }
      BOOST_REQUIRE(error_of(verify_inclusion(i, n + 1, leaves[i], *p, ref.mth(0, n + 1))) ==
                    code(inclusion_error(i, n + 1, p->size(), ref)));
      if (n - 1 > i) {
        BOOST_REQUIRE(error_of(verify_inclusion(i, n - 1, leaves[i], *p, ref.mth(0, n - 1))) ==
                      code(inclusion_error(i, n - 1, p->size(), ref)));
      }
      BOOST_REQUIRE(error_of(verify_inclusion(n, n, leaves[i], *p, root)) ==
                    code(errc::malformed_proof));
    }
  }
}

BOOST_AUTO_TEST_CASE(inclusion_tampering_fails_for_every_field_in_small_trees) {
  const auto leaves = make_leaves(40);
  reference ref(leaves);
  table_source src(leaves);
  for (std::uint64_t n = 1; n <= 33; ++n) {
    src.size = n;
    for (std::uint64_t i = 0; i < n; ++i) {
      auto p = inclusion_proof(i, n, src);
      BOOST_REQUIRE(p.has_value());
      check_inclusion_tampering(i, n, leaves[i], *p, ref.mth(0, n), ref);
    }
  }
}

BOOST_AUTO_TEST_CASE(consistency_proofs_match_reference_and_verify_for_sizes_up_to_150) {
  const auto leaves = make_leaves(151);
  reference ref(leaves);
  table_source src(leaves);
  for (std::uint64_t n = 1; n <= 150; ++n) {
    const hash root_n = ref.mth(0, n);
    for (std::uint64_t m = 1; m <= n; ++m) {
      const hash root_m = ref.mth(0, m);
      src.size = n;
      src.reads = 0;
      auto p = consistency_proof(m, n, src);
      BOOST_REQUIRE(p.has_value());
      BOOST_REQUIRE(src.reads == (m < n ? 1 : 0));
      const auto want = ref.proof(m, n);
      BOOST_REQUIRE_EQUAL(p->size(), want.size());
      for (std::size_t j = 0; j < want.size(); ++j) BOOST_REQUIRE((*p)[j] == want[j]);
      BOOST_REQUIRE(verify_consistency(m, n, root_m, root_n, *p).has_value());
      // Wrong m, wrong n (each with its real root), a changed node.
      if (m > 1) {
        BOOST_REQUIRE(error_of(verify_consistency(m - 1, n, ref.mth(0, m - 1), root_n, *p)) ==
                      code(consistency_error(m - 1, n, p->size(), ref)));
      }
      if (m < n) {
        BOOST_REQUIRE(error_of(verify_consistency(m + 1, n, ref.mth(0, m + 1), root_n, *p)) ==
                      code(consistency_error(m + 1, n, p->size(), ref)));
      }
      BOOST_REQUIRE(error_of(verify_consistency(m, n + 1, root_m, ref.mth(0, n + 1), *p)) ==
                    code(consistency_error(m, n + 1, p->size(), ref)));
      if (n - 1 >= m) {
        BOOST_REQUIRE(error_of(verify_consistency(m, n - 1, root_m, ref.mth(0, n - 1), *p)) ==
                      code(consistency_error(m, n - 1, p->size(), ref)));
      }
      for (std::size_t j = 0; j < p->size(); ++j) {
        auto t = *p;
        t[j] = flip(t[j], 7);
        BOOST_REQUIRE(error_of(verify_consistency(m, n, root_m, root_n, t)) ==
                      code(errc::inconsistent_trees));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(consistency_tampering_fails_for_every_field_in_small_trees) {
  const auto leaves = make_leaves(70);
  reference ref(leaves);
  table_source src(leaves);
  for (std::uint64_t n = 1; n <= 33; ++n) {
    src.size = n;
    for (std::uint64_t m = 1; m <= n; ++m) {
      auto p = consistency_proof(m, n, src);
      BOOST_REQUIRE(p.has_value());
      check_consistency_tampering(m, n, ref.mth(0, m), ref.mth(0, n), *p, ref);
    }
  }
}

BOOST_AUTO_TEST_CASE(memory_hash_source_proofs_match_reference) {
  const auto leaves = make_leaves(70);
  reference ref(leaves);
  for (std::uint64_t n = 1; n <= 70; ++n) {
    memory_hash_source mem(std::vector<hash>(leaves.begin(), leaves.begin() + n));
    BOOST_TEST(mem.size() == n);
    auto r = tree_root(n, mem);
    BOOST_REQUIRE(r.has_value());
    BOOST_TEST(*r == ref.mth(0, n));
    for (std::uint64_t i = 0; i < n; ++i) {
      auto p = inclusion_proof(i, n, mem);
      BOOST_REQUIRE(p.has_value());
      BOOST_TEST((*p == ref.path(i, 0, n)));
    }
    for (std::uint64_t m = 1; m <= n; ++m) {
      auto p = consistency_proof(m, n, mem);
      BOOST_REQUIRE(p.has_value());
      BOOST_TEST((*p == ref.proof(m, n)));
    }
  }
}

// ---------------------------------------------------------------------------
// Edge cases and errors.

BOOST_AUTO_TEST_CASE(proof_generation_rejects_bad_indexes) {
  memory_hash_source mem(make_leaves(5));
  BOOST_TEST(error_of(inclusion_proof(5, 5, mem)) == code(errc::malformed_proof));
  BOOST_TEST(error_of(inclusion_proof(0, 0, mem)) == code(errc::malformed_proof));
  BOOST_TEST(error_of(consistency_proof(0, 5, mem)) == code(errc::malformed_proof));
  BOOST_TEST(error_of(consistency_proof(6, 5, mem)) == code(errc::malformed_proof));
  auto same = consistency_proof(5, 5, mem);
  BOOST_REQUIRE(same.has_value());
  BOOST_TEST(same->empty());
}

BOOST_AUTO_TEST_CASE(memory_hash_source_refuses_incomplete_or_outside_nodes) {
  memory_hash_source mem(make_leaves(5));
  const std::array<node_id, 4> bad = {node_id{0, 5}, node_id{1, 2}, node_id{3, 0},
                                      node_id{64, 0}};
  for (const node_id& id : bad) {
    hash out;
    BOOST_TEST(error_of(mem.read(std::span(&id, 1), std::span(&out, 1))) ==
               code(errc::malformed_proof));
  }
  // Asking for a tree larger than the source has leaves fails cleanly.
  BOOST_TEST(error_of(tree_root(6, mem)) == code(errc::malformed_proof));
  BOOST_TEST(error_of(inclusion_proof(0, 8, mem)) == code(errc::malformed_proof));
}

BOOST_AUTO_TEST_CASE(source_errors_are_passed_on) {
  failing_source bad;
  BOOST_TEST(error_of(tree_root(3, bad)) == code(errc::io_error));
  BOOST_TEST(error_of(inclusion_proof(1, 3, bad)) == code(errc::io_error));
  BOOST_TEST(error_of(consistency_proof(1, 3, bad)) == code(errc::io_error));
  BOOST_TEST(error_of(hashes_completed_by_append(3, make_leaf(3), bad)) == code(errc::io_error));
  // Nothing to read: no error.
  BOOST_TEST(tree_root(0, bad).has_value());
  BOOST_TEST(inclusion_proof(0, 1, bad).has_value());
  BOOST_TEST(consistency_proof(4, 4, bad).has_value());
  BOOST_TEST(hashes_completed_by_append(4, make_leaf(4), bad).has_value());
}

BOOST_AUTO_TEST_CASE(verify_consistency_edge_cases) {
  const auto leaves = make_leaves(4);
  const hash r4 = root_from_leaf_hashes(leaves);
  const hash r3 = root_from_leaf_hashes(std::span(leaves).first(3));
  // m == 0: only the empty tree's root with an empty proof.
  BOOST_TEST(verify_consistency(0, 4, empty_root(), r4, {}).has_value());
  BOOST_TEST(verify_consistency(0, 0, empty_root(), empty_root(), {}).has_value());
  BOOST_TEST(error_of(verify_consistency(0, 4, empty_root(), r4, std::vector<hash>{r4})) ==
             code(errc::malformed_proof));
  BOOST_TEST(error_of(verify_consistency(0, 4, r3, r4, {})) == code(errc::inconsistent_trees));
  // m == n: empty proof, equal roots.
  BOOST_TEST(verify_consistency(4, 4, r4, r4, {}).has_value());
  BOOST_TEST(error_of(verify_consistency(4, 4, r4, r3, {})) == code(errc::inconsistent_trees));
  BOOST_TEST(error_of(verify_consistency(4, 4, r4, r4, std::vector<hash>{r4})) ==
             code(errc::malformed_proof));
  // m > n, and m < n with an empty proof.
  BOOST_TEST(error_of(verify_consistency(4, 3, r4, r3, {})) == code(errc::malformed_proof));
  BOOST_TEST(error_of(verify_consistency(3, 4, r3, r4, {})) == code(errc::malformed_proof));
}

BOOST_AUTO_TEST_CASE(verify_inclusion_edge_cases) {
  const hash leaf = make_leaf(0);
  BOOST_TEST(verify_inclusion(0, 1, leaf, {}, leaf).has_value());
  BOOST_TEST(error_of(verify_inclusion(0, 0, leaf, {}, leaf)) == code(errc::malformed_proof));
  BOOST_TEST(error_of(verify_inclusion(1, 1, leaf, {}, leaf)) == code(errc::malformed_proof));
  BOOST_TEST(error_of(verify_inclusion(0, 1, leaf, {}, flip(leaf))) ==
             code(errc::proof_mismatch));
  BOOST_TEST(error_of(verify_inclusion(0, 2, leaf, {}, leaf)) == code(errc::malformed_proof));
}

// Near 2^64 leaves the index arithmetic must neither overflow nor read
// outside the tree, and generator and verifier must agree on proof lengths.
BOOST_AUTO_TEST_CASE(huge_trees_plan_proofs_of_the_right_length) {
  const std::uint64_t sizes[] = {(std::uint64_t{1} << 63) + 12345, ~std::uint64_t{0},
                                 std::uint64_t{1} << 40, 1'000'000};
  for (const std::uint64_t n : sizes) {
    synthetic_source src(n);
    BOOST_TEST_CONTEXT("size " << n) {
      BOOST_REQUIRE(tree_root(n, src).has_value());
      for (const std::uint64_t i : {std::uint64_t{0}, n / 3, n - 2, n - 1}) {
        auto p = inclusion_proof(i, n, src);
        BOOST_REQUIRE(p.has_value());
        BOOST_TEST(p->size() <= 64u);
        // Right length: the verifier gets as far as comparing roots.
        BOOST_TEST(error_of(verify_inclusion(i, n, make_leaf(i), *p, hash{})) ==
                   code(errc::proof_mismatch));
      }
      for (const std::uint64_t m : {std::uint64_t{1}, n / 2 + 1, n - 1, n}) {
        auto p = consistency_proof(m, n, src);
        BOOST_REQUIRE(p.has_value());
        BOOST_TEST(p->size() <= 65u);
        if (m < n) {
          BOOST_TEST(error_of(verify_consistency(m, n, hash{}, hash{}, *p)) ==
                     code(errc::inconsistent_trees));
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Incremental storage.

BOOST_AUTO_TEST_CASE(hashes_completed_by_append_builds_the_same_nodes_as_memory_source) {
  constexpr std::uint64_t total = 1000;
  const auto leaves = make_leaves(total);
  reference ref(leaves);

  // The store a log would keep: complete nodes by level, appended in order.
  struct store_source final : hash_source {
    std::vector<std::vector<hash>> levels;
    result<void> read(std::span<const node_id> ids, std::span<hash> out) const override {
      for (std::size_t i = 0; i < ids.size(); ++i) {
        if (ids[i].level >= levels.size() || ids[i].index >= levels[ids[i].level].size()) {
          BOOST_ERROR("read of a node not stored yet");
          return errc::internal;
        }
        out[i] = levels[ids[i].level][ids[i].index];
      }
      return {};
    }
  } store;

  for (std::uint64_t i = 0; i < total; ++i) {
    auto added = hashes_completed_by_append(i, leaves[i], store);
    BOOST_REQUIRE(added.has_value());
    BOOST_REQUIRE_EQUAL(added->size(), 1u + static_cast<std::size_t>(std::countr_one(i)));
    for (std::size_t l = 0; l < added->size(); ++l) {
      const auto& [id, h] = (*added)[l];
      // Bottom-up, each node the next one appended at its level.
      BOOST_REQUIRE_EQUAL(id.level, l);
      BOOST_REQUIRE_EQUAL(id.index, i >> l);
      if (store.levels.size() <= l) store.levels.emplace_back();
      BOOST_REQUIRE_EQUAL(store.levels[l].size(), id.index);
      store.levels[l].push_back(h);
    }
    // The store now serves the tree of i+1 leaves.
    auto root = tree_root(i + 1, store);
    BOOST_REQUIRE(root.has_value());
    BOOST_REQUIRE(*root == ref.mth(0, i + 1));
  }

  memory_hash_source mem(leaves);
  for (std::size_t l = 0; l < store.levels.size(); ++l) {
    BOOST_TEST(store.levels[l].size() == (total >> l));
    for (std::uint64_t k = 0; k < store.levels[l].size(); ++k) {
      const node_id id{static_cast<std::uint8_t>(l), k};
      hash want;
      BOOST_REQUIRE(mem.read(std::span(&id, 1), std::span(&want, 1)).has_value());
      BOOST_REQUIRE(store.levels[l][k] == want);
    }
  }
}

// Reference for minimal_cover: the cover by leaves, merged greedily.
BOOST_AUTO_TEST_CASE(minimal_cover_is_the_fewest_aligned_subtrees_for_every_range) {
  for (std::uint64_t begin = 0; begin <= 70; ++begin) {
    for (std::uint64_t end = begin; end <= 70; ++end) {
      const auto ids = minimal_cover(begin, end);
      std::uint64_t at = begin;
      for (std::size_t k = 0; k < ids.size(); ++k) {
        const std::uint64_t width = std::uint64_t{1} << ids[k].level;
        BOOST_REQUIRE_EQUAL(ids[k].index * width, at);  // contiguous and aligned
        // Maximal: the next larger subtree at `at` is misaligned or overshoots.
        BOOST_REQUIRE(at % (2 * width) != 0 || at + 2 * width > end);
        at += width;
      }
      BOOST_REQUIRE_EQUAL(at, end);
    }
  }
  BOOST_TEST(minimal_cover(5, 5).empty());
  BOOST_TEST(minimal_cover(9, 3).empty());
  const auto whole = minimal_cover(0, std::uint64_t{1} << 40);
  BOOST_TEST_REQUIRE(whole.size() == 1u);
  BOOST_TEST(whole[0].level == 40);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace vellum::crypto
