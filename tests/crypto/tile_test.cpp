// C2SP tlog-tiles paths (https://c2sp.org/tlog-tiles): examples from the
// spec, round trips, and the non-canonical forms the parser must refuse.

#include "crypto/tile.hpp"

#include <boost/test/unit_test.hpp>

#include <random>
#include <string>

namespace vellum::crypto {
namespace {

tile hash_tile(unsigned level, std::uint64_t index, std::uint32_t width = tile_width) {
  return tile{false, static_cast<std::uint8_t>(level), index, width};
}

tile entry_bundle(std::uint64_t index, std::uint32_t width = tile_width) {
  return tile{true, 0, index, width};
}

boost::system::error_code error_of(const result<tile>& r) {
  return r.has_value() ? boost::system::error_code{} : r.error().code();
}

void check_round_trip(const tile& t) {
  const std::string path = tile_path(t);
  auto parsed = parse_tile_path(path);
  BOOST_REQUIRE_MESSAGE(parsed.has_value(), "does not parse: " << path);
  BOOST_TEST((*parsed == t), path);
  BOOST_TEST(tile_path(*parsed) == path);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tiles)

BOOST_AUTO_TEST_CASE(index_paths_use_x_prefixed_groups_of_three_digits) {
  BOOST_TEST(tile_index_path(0) == "000");
  BOOST_TEST(tile_index_path(7) == "007");
  BOOST_TEST(tile_index_path(999) == "999");
  BOOST_TEST(tile_index_path(1000) == "x001/000");
  BOOST_TEST(tile_index_path(1234) == "x001/234");
  BOOST_TEST(tile_index_path(1234067) == "x001/x234/067");  // the spec's example
  BOOST_TEST(tile_index_path(1000000) == "x001/x000/000");
  BOOST_TEST(tile_index_path(~std::uint64_t{0}) == "x018/x446/x744/x073/x709/x551/615");
}

BOOST_AUTO_TEST_CASE(tile_paths_match_spec_examples) {
  BOOST_TEST(tile_path(hash_tile(0, 1234067)) == "tile/0/x001/x234/067");
  BOOST_TEST(tile_path(hash_tile(0, 0)) == "tile/0/000");
  BOOST_TEST(tile_path(hash_tile(1, 0, 5)) == "tile/1/000.p/5");
  BOOST_TEST(tile_path(hash_tile(2, 1, 255)) == "tile/2/001.p/255");
  BOOST_TEST(tile_path(hash_tile(63, 12)) == "tile/63/012");
  BOOST_TEST(tile_path(entry_bundle(12)) == "tile/entries/012");
  BOOST_TEST(tile_path(entry_bundle(1234067, 1)) == "tile/entries/x001/x234/067.p/1");
}

BOOST_AUTO_TEST_CASE(parse_accepts_canonical_paths) {
  auto t = parse_tile_path("tile/0/x001/x234/067");
  BOOST_REQUIRE(t.has_value());
  BOOST_TEST((*t == hash_tile(0, 1234067)));
  t = parse_tile_path("tile/3/x001/234.p/17");
  BOOST_REQUIRE(t.has_value());
  BOOST_TEST((*t == hash_tile(3, 1234, 17)));
  t = parse_tile_path("tile/entries/000.p/255");
  BOOST_REQUIRE(t.has_value());
  BOOST_TEST((*t == entry_bundle(0, 255)));
  t = parse_tile_path("tile/entries/x018/x446/x744/x073/x709/x551/615");
  BOOST_REQUIRE(t.has_value());
  BOOST_TEST((*t == entry_bundle(~std::uint64_t{0})));
}

BOOST_AUTO_TEST_CASE(parse_inverts_tile_path_for_many_values) {
  std::mt19937_64 rng(20260309);  // fixed seed, so failures reproduce
  BOOST_TEST_MESSAGE("seed 20260309");
  std::vector<std::uint64_t> indexes = {0, 1, 9, 10, 99, 100, 999, 1000, 1001, 999999, 1000000};
  for (std::uint64_t p = 10; p < 10'000'000'000'000'000'000u; p *= 10) {
    indexes.push_back(p - 1);
    indexes.push_back(p);
    indexes.push_back(p + 1);
  }
  for (int i = 0; i < 2000; ++i) indexes.push_back(rng() >> (rng() % 64));
  for (const std::uint64_t index : indexes) {
    for (const std::uint32_t width : {1u, 2u, 100u, 255u, 256u}) {
      check_round_trip(entry_bundle(index, width));
      for (const unsigned level : {0u, 1u, 9u, 10u, 63u}) check_round_trip(hash_tile(level, index, width));
    }
  }
}

BOOST_AUTO_TEST_CASE(parse_rejects_non_canonical_paths) {
  const char* bad[] = {
      "",
      "tile",
      "tile/",
      "tile/0",
      "tile/0/",
      "/tile/0/000",
      "tiles/0/000",
      "tile/0/1234",             // more than three digits in a group
      "tile/0/12",               // fewer than three
      "tile/0/0",
      "tile/0/x001/234/",        // trailing slash
      "tile/0/001/234",          // missing 'x' on a non-final group
      "tile/0/x001/x234",        // 'x' on the final group
      "tile/0/x234",
      "tile/0/x000/234",         // leading zero group
      "tile/0/x000/x001/234",
      "tile/0/x1/234",
      "tile/0/x0001/234",
      "tile/0/X001/234",         // upper-case X
      "tile/0/x001//234",
      "tile/0/+12",
      "tile/0/-12",
      "tile/0/ 12",
      "tile/0/00a",
      "tile/00/000",             // level with a leading zero
      "tile/01/000",
      "tile/64/000",             // level above 63
      "tile/100/000",
      "tile/-1/000",
      "tile/a/000",
      "tile//000",
      "tile/data/000",
      "tile/Entries/000",
      "tile/entries/000/000",
      "tile/0/000.p/256",        // full tiles have no .p
      "tile/0/000.p/0",
      "tile/0/000.p/05",         // leading zero in W
      "tile/0/000.p/",
      "tile/0/000.p",
      "tile/0/000.p/1000",
      "tile/0/000.p/+5",
      "tile/0/000.p/5/",
      "tile/0/000.p/5.p/5",
      "tile/0/000.q/5",
      "tile/0/000p/5",
      "tile/0/000.P/5",
      "tile/entries/000.p/256",
      "tile/0/x018/x446/x744/x073/x709/x551/616",  // 2^64
      "tile/0/x999/x999/x999/x999/x999/x999/999",
      "tile/0/x001/x000/x000/x000/x000/x000/x000/000",
  };
  for (const char* path : bad) {
    BOOST_TEST(error_of(parse_tile_path(path)) == make_error_code(errc::malformed_tile_path),
               "accepted: \"" << path << "\"");
  }
}

BOOST_AUTO_TEST_CASE(tile_for_node_gives_level_index_and_width_at_tree_size) {
  // Leaf 0 in a tree of one leaf: level-0 tile 0, width 1.
  BOOST_TEST((tile_for_node({0, 0}, 1) == hash_tile(0, 0, 1)));
  // Leaf 255 completes the first tile.
  BOOST_TEST((tile_for_node({0, 255}, 256) == hash_tile(0, 0, 256)));
  BOOST_TEST((tile_for_node({0, 255}, 1000) == hash_tile(0, 0, 256)));
  // Leaf 256 starts tile 1; at 1000 leaves it holds 1000 - 256 - 256 - 256 = 232 in tile 3.
  BOOST_TEST((tile_for_node({0, 256}, 257) == hash_tile(0, 1, 1)));
  BOOST_TEST((tile_for_node({0, 999}, 1000) == hash_tile(0, 3, 232)));
  // Level-8 nodes live in level-1 tiles: 70000 leaves have 273 complete level-8 nodes.
  BOOST_TEST((tile_for_node({8, 0}, 70000) == hash_tile(1, 0, 256)));
  BOOST_TEST((tile_for_node({8, 272}, 70000) == hash_tile(1, 1, 17)));
  BOOST_TEST((tile_for_node({16, 0}, std::uint64_t{1} << 16) == hash_tile(2, 0, 1)));
  BOOST_TEST(nodes_at_level(70000, 8) == 273u);
  BOOST_TEST(nodes_at_level(70000, 64) == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace vellum::crypto
