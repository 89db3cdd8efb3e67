#pragma once
// C2SP tlog-tiles (https://c2sp.org/tlog-tiles) coordinates with height 8.
//
// A hash tile at level L, index N holds the level-(8·L) node hashes
// N·256 … N·256+W-1 (W = width, 1..256; full when 256). Level-0 node hashes
// are leaf hashes. An entry bundle N holds entries N·256 … N·256+W-1, each
// prefixed by its length as a big-endian uint16.
// Paths: "tile/<L>/<N>[.p/<W>]" and "tile/entries/<N>[.p/<W>]", where <N>
// is written in groups of three decimal digits, all but the last prefixed
// with 'x': 1234067 → "x001/x234/067".

#include "crypto/error.hpp"
#include "crypto/merkle.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace vellum::crypto {

inline constexpr unsigned tile_height = 8;
inline constexpr unsigned tile_width = 1u << tile_height;  // 256

struct tile {
  bool entries = false;      // true: entry bundle; level is then unused
  std::uint8_t level = 0;    // tile level (node level = 8·level)
  std::uint64_t index = 0;
  std::uint32_t width = tile_width;  // 1..256; < 256 is a partial tile
  bool operator==(const tile&) const = default;
};

// "x001/x234/067" for 1234067, "000" for 0.
std::string tile_index_path(std::uint64_t index);

// "tile/0/x001/x234/067", "tile/1/000.p/5", "tile/entries/012".
std::string tile_path(const tile& t);

// Inverse of tile_path (the leading "tile/" must be present). Rejects
// non-canonical forms: missing 'x' prefixes, wrong digit counts, a level
// above 63, ".p/256", ".p/0", leading zeros in W. Errors: malformed_tile_path.
[[nodiscard]] result<tile> parse_tile_path(std::string_view path);

// The tile of the given level that holds node `id` in a tree of `tree_size`
// leaves, with the width it has at that tree size (partial at the right
// edge). Requires id.level % 8 == 0 and the node to be complete.
tile tile_for_node(node_id id, std::uint64_t tree_size);

// Number of complete nodes at `level` in a tree of `tree_size` leaves.
inline std::uint64_t nodes_at_level(std::uint64_t tree_size, unsigned level) {
  return level >= 64 ? 0 : tree_size >> level;
}

}  // namespace vellum::crypto
