#pragma once
// The unmerged part of the event-id and stream indexes, in memory. Internal
// to ledger/ (docs/architecture.md, "ledger/").

#include "ledger/schema.hpp"

#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace vellum::ledger::store {

// A UUID as a hash-map key (all 16 bytes: version 7 ids share their first
// ones within a millisecond).
struct uuid_hash {
  std::size_t operator()(const schema::uuid& u) const noexcept {
    std::uint64_t hi = 0, lo = 0;
    std::memcpy(&hi, u.data(), sizeof hi);
    std::memcpy(&lo, u.data() + 8, sizeof lo);
    return static_cast<std::size_t>((hi ^ (lo << 32 | lo >> 32)) * 0x9E3779B97F4A7C15ull);
  }
};

// The index entries of events not yet merged into the stream_index, streams
// and event_ids databases (seq >= meta "indexed"), in memory. The committing
// thread adds a batch's entries before its transaction commits and merges
// them into LMDB in bulk every options::index_merge_events events. Per
// batch, random event ids and many busy streams would put each event on an
// index page of its own; a merge of thousands of events puts a stream's new
// revisions side by side and shares event-id pages between many events.
// A reader counts an entry only if indexed <= seq < tree_size in its own
// transaction, so entries of a batch still being committed, and entries
// already merged, are never seen early or twice. A reader holds a pin on its
// snapshot: merged entries it may still need are forgotten only once no pin
// needs them (at a later merge), so readers never wait and never miss one.
// Thread-safe: readers share a lock, the committing thread takes it briefly.
class recent_index {
 public:
  // What one read transaction sees: meta indexed and tree_size.
  struct snapshot {
    std::uint64_t indexed = 0;
    std::uint64_t size = 0;
  };
  // A stream's entries between two seqs, for a merge.
  struct stream_run {
    std::string stream;
    std::uint64_t first_revision = 0;
    std::vector<std::uint64_t> seqs;  // seqs[i] holds revision first_revision + i
  };
  // Keeps every entry a snapshot counts until released.
  class pin {
   public:
    pin() = default;
    pin(pin&& o) noexcept
        : owner_(std::exchange(o.owner_, nullptr)), indexed_(o.indexed_) {}
    pin& operator=(pin&&) = delete;
    pin(const pin&) = delete;
    ~pin();

   private:
    friend class recent_index;
    pin(recent_index* owner, std::uint64_t indexed) : owner_(owner), indexed_(indexed) {}
    recent_index* owner_ = nullptr;
    std::uint64_t indexed_ = 0;
  };

  // A pin on `s`, or nullopt if entries it counts are already forgotten
  // (read again through a newer transaction).
  std::optional<pin> hold(snapshot s);
  // The newest revision of `stream` here that `s` counts (nullopt: read the
  // streams database).
  std::optional<std::uint64_t> head(std::string_view stream, snapshot s) const;
  // The seq of `stream` at `revision` if here and counted by `s`.
  std::optional<std::uint64_t> seq_of(std::string_view stream, std::uint64_t revision,
                                      snapshot s) const;
  // The streams starting with `prefix` that have an entry here counted by
  // `s` (unordered; the caller merges them with the streams database).
  std::vector<std::string> streams_with_prefix(std::string_view prefix, snapshot s) const;
  // The seq of event `id` if here and counted by `s`.
  std::optional<std::uint64_t> seq_of_id(const schema::uuid& id, snapshot s) const;

  // One event's entries.
  struct entry {
    std::uint64_t seq = 0;
    schema::uuid id{};
    std::string_view stream;
    std::uint64_t revision = 0;
  };
  // Committing thread, one lock per batch: every seq in order, from the
  // `next` given to clear(), each stream's revisions without gaps. False
  // (and nothing added) if one does not fit, e.g. an id that is here
  // already: the caller's view of the log is wrong.
  [[nodiscard]] bool add(std::span<const entry> batch);
  void drop_from(std::uint64_t seq);  // a commit failed: forget seq and later
  // Forgets entries below `seq` that no pinned snapshot counts.
  void forget_before(std::uint64_t seq);
  std::vector<stream_run> stream_runs(std::uint64_t from, std::uint64_t to) const;  // key order
  std::vector<std::pair<schema::uuid, std::uint64_t>> id_runs(std::uint64_t from,
                                                              std::uint64_t to) const;  // key order
  void clear(std::uint64_t next);  // empty; the next seq added is `next`

 private:
  struct entries {
    std::uint64_t first_revision = 0;
    std::deque<std::uint64_t> seqs;
  };
  mutable std::shared_mutex mu_;
  struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  std::unordered_map<std::string, entries, string_hash, std::equal_to<>> streams_;
  std::unordered_map<schema::uuid, std::uint64_t, uuid_hash> ids_;  // → seq
  std::deque<schema::uuid> ids_by_seq_;                             // seq kept_from_ first
  std::map<std::uint64_t, std::size_t> pins_;  // snapshot indexed → holders
  std::uint64_t kept_from_ = 0;
};

}  // namespace vellum::ledger::store
