// C2SP tlog-tiles paths (https://c2sp.org/tlog-tiles), height 8.
//
// Path grammar, as the spec fixes it:
//   tile/<L>/<N>[.p/<W>]        hash tile, L in 0..63
//   tile/entries/<N>[.p/<W>]    entry bundle
// <L> and <W> are decimal without leading zeros (W in 1..255; a full tile
// has no ".p/" suffix). <N> is split into groups of three decimal digits,
// most significant first, each zero-padded to three digits; all groups but
// the last carry an 'x' prefix, and there are no leading all-zero groups
// (0 → "000", 1000 → "x001/000"). parse_tile_path accepts exactly what
// tile_path writes and nothing else, so a path names a tile in one way only.

#include "crypto/tile.hpp"

#include <cassert>

namespace vellum::crypto {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// A decimal number without sign or leading zeros ("0" itself is fine),
// within [min, max].
bool parse_decimal(std::string_view s, std::uint64_t min, std::uint64_t max,
                   std::uint64_t& value) {
  if (s.empty() || s.size() > 19) return false;
  if (s.size() > 1 && s[0] == '0') return false;
  std::uint64_t v = 0;
  for (char c : s) {
    if (!is_digit(c)) return false;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v < min || v > max) return false;
  value = v;
  return true;
}

// Parses "<N>[.p/<W>]" (everything after "tile/<L>/" or "tile/entries/").
bool parse_index_and_width(std::string_view s, std::uint64_t& index, std::uint32_t& width) {
  width = tile_width;
  if (auto p = s.find(".p/"); p != std::string_view::npos) {
    std::uint64_t w = 0;
    if (!parse_decimal(s.substr(p + 3), 1, tile_width - 1, w)) return false;
    width = static_cast<std::uint32_t>(w);
    s = s.substr(0, p);
  }
  // Groups: "xDDD/" … "DDD". Each group adds three decimal digits.
  std::uint64_t n = 0;
  bool first = true;
  for (;;) {
    const bool last = s.size() == 3;
    if (last) {
      if (!is_digit(s[0]) || !is_digit(s[1]) || !is_digit(s[2])) return false;
    } else {
      if (s.size() < 5 + 3 || s[0] != 'x' || s[4] != '/') return false;
      if (!is_digit(s[1]) || !is_digit(s[2]) || !is_digit(s[3])) return false;
      s.remove_prefix(1);
    }
    const std::uint64_t group = static_cast<std::uint64_t>(s[0] - '0') * 100 +
                                static_cast<std::uint64_t>(s[1] - '0') * 10 +
                                static_cast<std::uint64_t>(s[2] - '0');
    // A leading group of zeros is not canonical (except "000" alone for 0).
    if (first && !last && group == 0) return false;
    if (n > (UINT64_MAX - group) / 1000) return false;  // overflow
    n = n * 1000 + group;
    first = false;
    if (last) break;
    s.remove_prefix(4);  // "DDD/"
  }
  index = n;
  return true;
}

}  // namespace

std::string tile_index_path(std::uint64_t index) {
  // Groups from least to most significant, then written most significant first.
  char groups[7][3];
  int count = 0;
  do {
    const auto g = static_cast<unsigned>(index % 1000);
    groups[count][0] = static_cast<char>('0' + g / 100);
    groups[count][1] = static_cast<char>('0' + g / 10 % 10);
    groups[count][2] = static_cast<char>('0' + g % 10);
    ++count;
    index /= 1000;
  } while (index > 0);
  std::string out;
  out.reserve(static_cast<std::size_t>(count) * 5);
  for (int i = count - 1; i >= 0; --i) {
    if (i > 0) out.push_back('x');
    out.append(groups[i], 3);
    if (i > 0) out.push_back('/');
  }
  return out;
}

std::string tile_path(const tile& t) {
  assert(t.width >= 1 && t.width <= tile_width);
  std::string out = "tile/";
  if (t.entries) {
    out += "entries";
  } else {
    out += std::to_string(t.level);
  }
  out += '/';
  out += tile_index_path(t.index);
  if (t.width < tile_width) {
    out += ".p/";
    out += std::to_string(t.width);
  }
  return out;
}

result<tile> parse_tile_path(std::string_view path) {
  constexpr std::string_view prefix = "tile/";
  if (!path.starts_with(prefix)) return errc::malformed_tile_path;
  path.remove_prefix(prefix.size());
  const auto slash = path.find('/');
  if (slash == std::string_view::npos) return errc::malformed_tile_path;
  const std::string_view level = path.substr(0, slash);
  tile t;
  if (level == "entries") {
    t.entries = true;
  } else {
    std::uint64_t l = 0;
    if (!parse_decimal(level, 0, 63, l)) return errc::malformed_tile_path;
    t.level = static_cast<std::uint8_t>(l);
  }
  if (!parse_index_and_width(path.substr(slash + 1), t.index, t.width)) {
    return errc::malformed_tile_path;
  }
  return t;
}

tile tile_for_node(node_id id, std::uint64_t tree_size) {
  assert(id.level % tile_height == 0);
  assert(id.index < nodes_at_level(tree_size, id.level));
  tile t;
  t.level = static_cast<std::uint8_t>(id.level / tile_height);
  t.index = id.index / tile_width;
  // Nodes of this level that exist at tree_size, minus those in earlier tiles.
  const std::uint64_t in_tile = nodes_at_level(tree_size, id.level) - t.index * tile_width;
  t.width = static_cast<std::uint32_t>(in_tile < tile_width ? in_tile : tile_width);
  return t;
}

}  // namespace vellum::crypto
