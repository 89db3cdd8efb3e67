// The unmerged index entries in memory (recent_index.hpp).

#include "ledger/recent_index.hpp"

#include "crypto/stream_name.hpp"

#include <algorithm>
#include <mutex>

namespace vellum::ledger::store {

std::optional<recent_index::pin> recent_index::hold(snapshot s) {
  std::unique_lock lock(mu_);
  if (kept_from_ > s.indexed) return std::nullopt;
  ++pins_[s.indexed];
  return pin(this, s.indexed);
}

recent_index::pin::~pin() {
  if (owner_ == nullptr) return;
  std::unique_lock lock(owner_->mu_);
  auto it = owner_->pins_.find(indexed_);
  if (it != owner_->pins_.end() && --it->second == 0) owner_->pins_.erase(it);
}

std::optional<std::uint64_t> recent_index::head(std::string_view stream, snapshot s) const {
  std::shared_lock lock(mu_);
  auto it = streams_.find(stream);
  if (it == streams_.end()) return std::nullopt;
  const auto& seqs = it->second.seqs;
  // The newest entry before the snapshot's end...
  auto past = std::lower_bound(seqs.begin(), seqs.end(), s.size);
  if (past == seqs.begin()) return std::nullopt;
  // ...counts unless it is merged already (then so is every older one).
  if (*(past - 1) < s.indexed) return std::nullopt;
  return it->second.first_revision + static_cast<std::uint64_t>(past - seqs.begin()) - 1;
}

std::optional<std::uint64_t> recent_index::seq_of(std::string_view stream,
                                                  std::uint64_t revision, snapshot s) const {
  std::shared_lock lock(mu_);
  auto it = streams_.find(stream);
  if (it == streams_.end() || revision < it->second.first_revision) return std::nullopt;
  const std::uint64_t i = revision - it->second.first_revision;
  if (i >= it->second.seqs.size()) return std::nullopt;
  const std::uint64_t seq = it->second.seqs[i];
  if (seq < s.indexed || seq >= s.size) return std::nullopt;
  return seq;
}

std::vector<std::string> recent_index::streams_with_prefix(std::string_view prefix, snapshot s) const {
  std::shared_lock lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, e] : streams_) {
    if (!crypto::stream_in_prefix(name, prefix)) continue;
    // Counted if some entry lies in [indexed, size): the seqs are in order.
    auto it = std::lower_bound(e.seqs.begin(), e.seqs.end(), s.indexed);
    if (it != e.seqs.end() && *it < s.size) out.push_back(name);
  }
  return out;
}

std::optional<std::uint64_t> recent_index::seq_of_id(const schema::uuid& id, snapshot s) const {
  std::shared_lock lock(mu_);
  auto it = ids_.find(id);
  if (it == ids_.end() || it->second < s.indexed || it->second >= s.size) return std::nullopt;
  return it->second;
}

bool recent_index::add(std::span<const entry> batch) {
  std::unique_lock lock(mu_);
  const std::uint64_t first = kept_from_ + ids_by_seq_.size();
  bool ok = true;
  for (const entry& e : batch) {
    if (e.seq != kept_from_ + ids_by_seq_.size() || !ids_.emplace(e.id, e.seq).second) {
      ok = false;
      break;
    }
    ids_by_seq_.push_back(e.id);
    auto it = streams_.find(e.stream);
    if (it == streams_.end()) {
      it = streams_.emplace(std::string(e.stream), entries{e.revision, {}}).first;
    } else if (it->second.first_revision + it->second.seqs.size() != e.revision) {
      ok = false;
      break;
    }
    it->second.seqs.push_back(e.seq);
  }
  if (ok) return true;
  lock.unlock();
  drop_from(first);
  return false;
}

void recent_index::drop_from(std::uint64_t seq) {
  std::unique_lock lock(mu_);
  if (kept_from_ + ids_by_seq_.size() <= seq) return;
  while (kept_from_ + ids_by_seq_.size() > std::max(seq, kept_from_)) {
    ids_.erase(ids_by_seq_.back());
    ids_by_seq_.pop_back();
  }
  for (auto it = streams_.begin(); it != streams_.end();) {
    auto& seqs = it->second.seqs;
    while (!seqs.empty() && seqs.back() >= seq) seqs.pop_back();
    it = seqs.empty() ? streams_.erase(it) : std::next(it);
  }
}

void recent_index::forget_before(std::uint64_t seq) {
  std::unique_lock lock(mu_);
  if (!pins_.empty()) seq = std::min(seq, pins_.begin()->first);
  seq = std::min(seq, kept_from_ + ids_by_seq_.size());
  if (seq <= kept_from_) return;
  for (; kept_from_ < seq; ++kept_from_) {
    ids_.erase(ids_by_seq_.front());
    ids_by_seq_.pop_front();
  }
  for (auto it = streams_.begin(); it != streams_.end();) {
    auto& e = it->second;
    while (!e.seqs.empty() && e.seqs.front() < seq) {
      e.seqs.pop_front();
      ++e.first_revision;
    }
    it = e.seqs.empty() ? streams_.erase(it) : std::next(it);
  }
}

std::vector<recent_index::stream_run> recent_index::stream_runs(std::uint64_t from,
                                                                std::uint64_t to) const {
  std::shared_lock lock(mu_);
  std::vector<stream_run> out;
  for (const auto& [stream, e] : streams_) {
    auto first = std::lower_bound(e.seqs.begin(), e.seqs.end(), from);
    auto last = std::lower_bound(first, e.seqs.end(), to);
    if (first == last) continue;
    out.push_back({stream, e.first_revision + static_cast<std::uint64_t>(first - e.seqs.begin()),
                   std::vector<std::uint64_t>(first, last)});
  }
  // stream_index order (std::string compares bytes as unsigned, as LMDB does).
  std::sort(out.begin(), out.end(),
            [](const stream_run& a, const stream_run& b) { return a.stream < b.stream; });
  return out;
}

std::vector<std::pair<schema::uuid, std::uint64_t>> recent_index::id_runs(
    std::uint64_t from, std::uint64_t to) const {
  std::shared_lock lock(mu_);
  std::vector<std::pair<schema::uuid, std::uint64_t>> out;
  const std::uint64_t end = kept_from_ + ids_by_seq_.size();
  for (std::uint64_t seq = std::max(from, kept_from_); seq < std::min(to, end); ++seq) {
    out.emplace_back(ids_by_seq_[seq - kept_from_], seq);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void recent_index::clear(std::uint64_t next) {
  std::unique_lock lock(mu_);
  streams_.clear();
  ids_.clear();
  ids_by_seq_.clear();
  kept_from_ = next;
}

}  // namespace vellum::ledger::store
