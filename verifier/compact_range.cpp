#include "verifier/compact_range.hpp"

#include "crypto/merkle.hpp"

namespace vellum::verifier {

void compact_range::push(unsigned level, crypto::hash h) {
  while (!stack_.empty() && stack_.back().level == level) {
    h = crypto::node_hash(stack_.back().h, h);
    stack_.pop_back();
    ++level;
  }
  stack_.push_back({level, h});
}

crypto::hash compact_range::root() const {
  if (stack_.empty()) return crypto::empty_root();
  crypto::hash h = stack_.back().h;
  for (auto it = stack_.rbegin() + 1; it != stack_.rend(); ++it) h = crypto::node_hash(it->h, h);
  return h;
}

std::vector<unsigned> minimal_cover_levels(std::uint64_t begin, std::uint64_t end) {
  std::vector<unsigned> levels;
  for (const auto& id : crypto::minimal_cover(begin, end)) levels.push_back(id.level);
  return levels;
}

}  // namespace vellum::verifier
