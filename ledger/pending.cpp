// Batches prepared and not yet committed (pending.hpp).

#include "ledger/pending.hpp"

namespace vellum::ledger::store {

result<void> overlay_source::read(std::span<const crypto::node_id> ids,
                                  std::span<crypto::hash> out) const {
  if (ids.size() != out.size()) return errc::invalid_argument;
  std::vector<crypto::node_id> miss;
  std::vector<std::size_t> where;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto k = map_key(ids[i]);
    if (auto it = local_.find(k); it != local_.end()) {
      out[i] = it->second;
    } else if (auto p = pending_.find(k); p != pending_.end()) {
      out[i] = p->second;
    } else {
      miss.push_back(ids[i]);
      where.push_back(i);
    }
  }
  if (miss.empty()) return {};
  std::vector<crypto::hash> got(miss.size());
  if (auto r = stored_.read(miss, got); !r) return r;
  for (std::size_t j = 0; j < miss.size(); ++j) out[where[j]] = got[j];
  return {};
}

void pending_state::forget_committed(std::uint64_t committed) {
  while (!batches.empty() && batches.front().end <= committed) {
    const batch_keys& b = batches.front();
    for (const auto& id : b.ids) ids.erase(id);
    for (const auto& k : b.nodes) nodes.erase(k);
    for (const auto& s : b.streams) {
      auto it = streams.find(s);
      if (it != streams.end() && it->second.second == b.number) streams.erase(it);
    }
    batches.pop_front();
  }
}

void pending_state::clear() {
  ids.clear();
  streams.clear();
  nodes.clear();
  batches.clear();
}

}  // namespace vellum::ledger::store
