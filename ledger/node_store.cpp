// Tree node sources (node_store.hpp).

#include "ledger/node_store.hpp"

#include "ledger/schema.hpp"

namespace vellum::ledger::store {

void upper_node_cache::lookup(std::span<const crypto::node_id> ids, std::span<crypto::hash> out,
                              std::span<unsigned char> hit) const {
  std::shared_lock lock(mu_);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const crypto::node_id& id = ids[i];
    if (id.level < min_level || id.level >= levels_.size()) continue;
    const auto& level = levels_[id.level];
    if (id.index >= level.size()) continue;
    out[i] = level[id.index];
    hit[i] = 1;
  }
}

void upper_node_cache::add(std::span<const std::pair<crypto::node_id, crypto::hash>> nodes) {
  std::unique_lock lock(mu_);
  for (const auto& [id, h] : nodes) {
    if (id.level < min_level || id.level >= levels_.size()) continue;
    auto& level = levels_[id.level];
    if (id.index == level.size()) level.push_back(h);
  }
}

result<void> upper_node_cache::load(const lmdb::txn& t, MDB_dbi nodes) {
  auto c = lmdb::cursor::open(t, nodes);
  if (!c) return lmdb::to_ledger_error(c.error());
  const crypto::node_id first{static_cast<std::uint8_t>(min_level), 0};
  std::vector<std::pair<crypto::node_id, crypto::hash>> batch;
  for (auto e = c->get(MDB_SET_RANGE, schema::node_key(first));; e = c->get(MDB_NEXT)) {
    if (!e) return lmdb::to_ledger_error(e.error());
    if (!*e) break;
    auto id = schema::decode_node_key((*e)->first);
    auto h = schema::decode_hash((*e)->second);
    if (!id || !h) return errc::corrupt;
    batch.emplace_back(*id, *h);
  }
  add(batch);
  return {};
}

result<void> node_source::read(std::span<const crypto::node_id> ids,
                               std::span<crypto::hash> out) const {
  if (ids.size() != out.size()) return errc::invalid_argument;
  std::vector<unsigned char> hit(ids.size(), 0);
  if (cache_ != nullptr) cache_->lookup(ids, out, hit);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (hit[i]) continue;
    const auto key = schema::node_key(ids[i]);
    auto v = txn_.get(nodes_, key);
    if (!v) return lmdb::to_ledger_error(v.error());
    if (!*v) return errc::not_found;
    auto h = schema::decode_hash(**v);
    if (!h) return h.error();
    out[i] = *h;
  }
  return {};
}

result<void> caching_source::read(std::span<const crypto::node_id> ids,
                                  std::span<crypto::hash> out) const {
  if (ids.size() != out.size()) return errc::invalid_argument;
  std::vector<crypto::node_id> miss_ids;
  std::vector<std::size_t> miss_pos;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    auto it = cache_.find(map_key(ids[i]));
    if (it != cache_.end()) {
      out[i] = it->second;
    } else {
      miss_ids.push_back(ids[i]);
      miss_pos.push_back(i);
    }
  }
  if (miss_ids.empty()) return {};
  std::vector<crypto::hash> got(miss_ids.size());
  if (auto r = base_.read(miss_ids, got); !r) return r;
  for (std::size_t j = 0; j < miss_ids.size(); ++j) {
    out[miss_pos[j]] = got[j];
    cache_.emplace(map_key(miss_ids[j]), got[j]);
  }
  return {};
}

}  // namespace vellum::ledger::store
