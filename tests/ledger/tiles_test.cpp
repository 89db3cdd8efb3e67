// Tiles, entry bundles and proofs, compared with what a client computes
// independently from the leaf hashes (naive reference: RFC 9162 MTH over
// the leaf hashes, C2SP tlog-tiles for the tile layout).

#include "ledger_test_util.hpp"

#include "crypto/tile.hpp"

#include <map>

namespace vellum::ledger {
namespace {

using test::manual_clock;
using test::open_or_fail;
using test::test_options;

// Cheap statements: the ledger stores the JWS as given (callers verify it),
// so tile tests need not sign 70,000 events.
statement cheap_statement(std::mt19937_64& rng, std::uint64_t i) {
  statement s;
  s.event_id = test::make_uuid(rng);
  s.kid = "k" + std::to_string(i % 3);
  s.stream = "s" + std::to_string(i % 11);
  s.type = "t";
  s.jws = "eyJhbGciOiJFZERTQSJ9." + std::to_string(i) + ".sig";
  return s;
}

// The independent view of the log: every leaf entry and leaf hash.
struct reference {
  std::vector<bytes> entries;
  std::vector<crypto::hash> leaves;

  // MTH of the complete subtree at (level, index).
  crypto::hash node(unsigned level, std::uint64_t index) const {
    const std::uint64_t width = std::uint64_t{1} << level;
    return crypto::root_from_leaf_hashes(
        std::span<const crypto::hash>(leaves).subspan(index * width, width));
  }
  crypto::hash root(std::uint64_t size) const {
    return crypto::root_from_leaf_hashes(std::span<const crypto::hash>(leaves).first(size));
  }
  bytes hash_tile(unsigned tile_level, std::uint64_t n, unsigned w) const {
    bytes out;
    for (unsigned i = 0; i < w; ++i) {
      const auto h = node(8 * tile_level, n * 256 + i);
      out.insert(out.end(), h.begin(), h.end());
    }
    return out;
  }
  bytes bundle(std::uint64_t n, unsigned w) const {
    bytes out;
    for (unsigned i = 0; i < w; ++i) {
      const bytes& e = entries[n * 256 + i];
      out.push_back(static_cast<std::uint8_t>(e.size() >> 8));
      out.push_back(static_cast<std::uint8_t>(e.size()));
      out.insert(out.end(), e.begin(), e.end());
    }
    return out;
  }
};

void append_cheap(ledger& l, reference& ref, std::mt19937_64& rng, std::uint64_t count,
                  std::size_t batch_size) {
  std::uint64_t done = 0;
  while (done < count) {
    std::vector<statement> batch;
    for (; batch.size() < batch_size && done < count; ++done) {
      batch.push_back(cheap_statement(rng, ref.entries.size() + batch.size()));
    }
    for (const append_outcome& o : l.append(batch)) {
      BOOST_REQUIRE(!o.error);
      ref.entries.push_back(o.rcpt.leaf_entry);
      ref.leaves.push_back(crypto::leaf_hash(o.rcpt.leaf_entry));
    }
  }
}

bool is_not_found(const result<bytes>& r) {
  return !r && r.error() == make_error_code(errc::not_found);
}

// Every tile the tree of `size` serves, full and partial, and the widths
// that do not exist.
void check_all_tiles(const ledger& l, const reference& ref, std::uint64_t size) {
  BOOST_TEST_CONTEXT("tree size " << size) {
    for (std::uint8_t level = 0; level < 3; ++level) {
      const std::uint64_t count = crypto::nodes_at_level(size, 8u * level);
      const std::uint64_t full = count / 256;
      const unsigned partial = static_cast<unsigned>(count % 256);
      for (std::uint64_t n = 0; n < full; ++n) {
        auto t = l.read_tile({false, level, n, 256});
        BOOST_REQUIRE(t);
        BOOST_TEST((*t == ref.hash_tile(level, n, 256)), "tile " << int(level) << "/" << n);
        if (level == 0) {
          auto b = l.read_tile({true, 0, n, 256});
          BOOST_REQUIRE(b);
          BOOST_TEST((*b == ref.bundle(n, 256)), "bundle " << n);
        }
      }
      if (partial > 0) {
        auto t = l.read_tile({false, level, full, partial});
        BOOST_REQUIRE(t);
        BOOST_TEST((*t == ref.hash_tile(level, full, partial)));
        // Narrower partial tiles of earlier checkpoints stay available.
        auto older = l.read_tile({false, level, full, 1});
        BOOST_REQUIRE(older);
        BOOST_TEST((*older == ref.hash_tile(level, full, 1)));
        if (level == 0) {
          auto b = l.read_tile({true, 0, full, partial});
          BOOST_REQUIRE(b);
          BOOST_TEST((*b == ref.bundle(full, partial)));
        }
      }
      // Nothing wider than what exists, and no full tile before it is full.
      if (partial < 255) {
        BOOST_TEST(is_not_found(
            l.read_tile({false, level, full, static_cast<std::uint32_t>(partial + 1)})));
      }
      BOOST_TEST(is_not_found(l.read_tile({false, level, full, 256})));
      if (level == 0) BOOST_TEST(is_not_found(l.read_tile({true, 0, full, 256})));
    }
    BOOST_TEST(is_not_found(l.read_tile({false, 9, 0, 1})));
  }
}

BOOST_AUTO_TEST_SUITE(ledger_tiles)

BOOST_AUTO_TEST_CASE(every_tile_and_bundle_equals_the_independent_computation) {
  vellum::test::temp_dir dir;
  manual_clock clock;
  auto o = test_options(dir, clock);
  auto l = open_or_fail(o);
  reference ref;
  std::mt19937_64 rng(7);
  BOOST_TEST(is_not_found(l->read_tile({false, 0, 0, 1})));
  BOOST_TEST(is_not_found(l->read_tile({true, 0, 0, 1})));
  std::uint64_t size = 0;
  for (std::uint64_t target : {1, 2, 255, 256, 257, 511, 512, 1000, 65535, 65536, 65537, 66300}) {
    append_cheap(*l, ref, rng, target - size, 997);
    size = target;
    BOOST_REQUIRE_EQUAL(l->tree_size(), size);
    if (size < 65535 || size >= 65537) check_all_tiles(*l, ref, size);
    // The stored root is the reference root.
    auto cp = l->latest_checkpoint();
    BOOST_REQUIRE(cp);
    BOOST_TEST((cp->body.root == ref.root(size)));
    auto root = crypto::tree_root(size, l->hashes());
    BOOST_REQUIRE(root);
    BOOST_TEST((*root == ref.root(size)));
  }
  // After a reopen (upper levels reloaded into memory) proofs still verify.
  l.reset();
  l = open_or_fail(o);
  const crypto::hash root = ref.root(size);
  auto reopened_root = crypto::tree_root(size, l->hashes());
  BOOST_REQUIRE(reopened_root);
  BOOST_TEST((*reopened_root == root));
  for (std::uint64_t seq : {std::uint64_t{0}, std::uint64_t{65535}, std::uint64_t{66299}}) {
    auto proof = l->inclusion_proof(seq, size);
    BOOST_REQUIRE(proof);
    BOOST_TEST(crypto::verify_inclusion(seq, size, ref.leaves[seq], *proof, root).has_value());
  }
  append_cheap(*l, ref, rng, 300, 300);
  check_all_tiles(*l, ref, l->tree_size());
}

BOOST_AUTO_TEST_CASE(inclusion_and_consistency_proofs_verify_between_many_sizes) {
  vellum::test::temp_dir dir;
  manual_clock clock;
  auto l = open_or_fail(test_options(dir, clock));
  reference ref;
  std::mt19937_64 rng(11);
  std::vector<std::uint64_t> sizes = {0};
  for (std::uint64_t batch : {1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610}) {
    append_cheap(*l, ref, rng, batch, batch);
    sizes.push_back(l->tree_size());
  }
  std::map<std::uint64_t, crypto::hash> roots;
  for (std::uint64_t s : sizes) {
    auto cp = l->checkpoint_at(s);
    BOOST_REQUIRE_MESSAGE(cp, "checkpoint at " << s);
    BOOST_TEST((cp->body.root == ref.root(s)));
    roots[s] = cp->body.root;
  }
  for (std::uint64_t m : sizes) {
    for (std::uint64_t n : sizes) {
      if (m > n) continue;
      auto proof = l->consistency_proof(m, n);
      BOOST_REQUIRE(proof);
      BOOST_TEST(crypto::verify_consistency(m, n, roots[m], roots[n], *proof).has_value(),
                 "consistency " << m << " → " << n);
    }
  }
  std::mt19937_64 pick(3);
  for (std::uint64_t n : sizes) {
    if (n == 0) continue;
    for (int k = 0; k < 20; ++k) {
      const std::uint64_t seq = pick() % n;
      auto proof = l->inclusion_proof(seq, n);
      BOOST_REQUIRE(proof);
      BOOST_TEST(crypto::verify_inclusion(seq, n, ref.leaves[seq], *proof, roots[n]).has_value(),
                 "inclusion " << seq << " in " << n);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace vellum::ledger
