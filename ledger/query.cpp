// Queries over the indexes (ledger::query, ledger.hpp) and the terms the
// indexes key an event by.
//
// A plan is a set of candidate sources, each an ascending run of seqs that
// can seek to the first seq >= x in O(log n): the type and author terms
// (by_type, by_author: term || seq), one stream (its revisions in
// stream_index and the recent index, in seq order too), the streams of a
// prefix (merged), the events of an occurred_at range (by_occurred, sorted
// once), or, without any of these, every seq. The seqs of a recorded_at
// range are a window [lo, hi) found in by_recorded, since recorded_at never
// decreases with seq. Sources are intersected by leapfrogging: each seeks
// to the largest seq the others reached until all agree. Every candidate's
// own event is then read and checked against every filter, so a term
// collision or a filter no source covered never lets a wrong event through.

#include "crypto/encoding.hpp"
#include "crypto/jws.hpp"
#include "crypto/leaf_entry.hpp"
#include "crypto/stream_name.hpp"
#include "ledger/ledger_impl.hpp"

#include <algorithm>
#include <queue>
#include <set>

namespace vellum::ledger {

using schema::db;

query_terms query_terms_of(const boost::json::object& payload) {
  query_terms t;
  if (const auto* v = payload.if_contains("type"); v && v->is_string()) t.type = v->get_string();
  if (const auto* a = payload.if_contains("author")) {
    if (a->is_string()) {
      t.author_id = a->get_string();
    } else if (a->is_object()) {
      if (const auto* id = a->get_object().if_contains("id"); id && id->is_string()) t.author_id = id->get_string();
    }
  }
  if (const auto* o = payload.if_contains("occurred_at"); o && o->is_string()) {
    if (auto us = crypto::parse_rfc3339_us(o->get_string())) t.occurred_at_us = *us;
  }
  return t;
}

result<void> validate_filter(const event_filter& f) {
  if (f.stream && f.prefix) return status(errc::invalid_argument, "give stream or prefix, not both");
  if (f.prefix && f.prefix->empty()) return status(errc::invalid_argument, "prefix: must not be empty");
  if (f.from_us && f.to_us && *f.from_us >= *f.to_us)
    return status(errc::invalid_argument, "from_time must be before to_time");
  return {};
}

namespace {

constexpr std::size_t max_prefix_streams = 4096;
constexpr std::size_t max_occurred_candidates = 1'000'000;

using found = result<std::optional<std::uint64_t>>;

// An ascending run of candidate seqs.
class source {
 public:
  virtual ~source() = default;
  // The first candidate >= at_least (nullopt: none).
  virtual found seek(std::uint64_t at_least) = 0;
};

// by_type or by_author: the keys term || seq.
class term_source final : public source {
 public:
  term_source(lmdb::cursor c, const schema::term& t) : c_(std::move(c)), term_(t) {}
  found seek(std::uint64_t at_least) override {
    auto e = c_.get(MDB_SET_RANGE, schema::term_key(term_, at_least));
    if (!e) return lmdb::to_ledger_error(e.error());
    if (!*e) return std::optional<std::uint64_t>{};
    const byte_view k = (*e)->first;
    if (k.size() != std::tuple_size_v<schema::term_key_bytes>) return errc::corrupt;
    if (!std::equal(term_.begin(), term_.end(), k.begin())) return std::optional<std::uint64_t>{};
    auto seq = schema::decode_key_seq(k, k.size());
    if (!seq) return seq.error();
    return std::optional<std::uint64_t>{*seq};
  }

 private:
  lmdb::cursor c_;
  schema::term term_;
};

// One stream: the seq of each revision, which grows with the revision, so
// a seek is a binary search over the revisions not yet passed.
class stream_source final : public source {
 public:
  stream_source(const ledger::impl& l, const index_read& r, std::string stream, std::uint64_t head)
      : l_(l), r_(r), stream_(std::move(stream)), head_(head) {}
  found seek(std::uint64_t at_least) override {
    if (next_rev_ > head_) return std::optional<std::uint64_t>{};
    auto first = seq_at(next_rev_);
    if (!first) return first.error();
    if (*first >= at_least) return std::optional<std::uint64_t>{*first};
    // seq_at(lo) < at_least: gallop to a revision past it (a next event
    // is usually close), then bisect to the first with seq >= at_least.
    std::uint64_t lo = next_rev_, hi = head_ + 1;
    for (std::uint64_t step = 1; lo + step <= head_; step *= 2) {
      auto s = seq_at(lo + step);
      if (!s) return s.error();
      if (*s >= at_least) {
        hi = lo + step;
        break;
      }
      lo += step;
    }
    while (hi - lo > 1) {
      const std::uint64_t mid = lo + (hi - lo) / 2;
      auto s = seq_at(mid);
      if (!s) return s.error();
      if (*s >= at_least) hi = mid;
      else lo = mid;
    }
    next_rev_ = hi;
    if (hi > head_) return std::optional<std::uint64_t>{};
    auto s = seq_at(hi);
    if (!s) return s.error();
    return std::optional<std::uint64_t>{*s};
  }

 private:
  result<std::uint64_t> seq_at(std::uint64_t revision) const {
    if (auto recent = l_.recent.seq_of(stream_, revision, r_.snap)) return *recent;
    const auto key = schema::stream_index_key(stream_, revision);
    auto stored = store::get_u64(r_.txn(), l_.dbs[db::stream_index], schema::view(key));
    if (!stored) return lmdb::to_ledger_error(stored.error());
    if (!*stored) return errc::corrupt;  // revisions 0..head all exist
    return **stored;
  }

  const ledger::impl& l_;
  const index_read& r_;
  std::string stream_;
  std::uint64_t head_;
  std::uint64_t next_rev_ = 0;  // revisions below it are before every later seek
};

// Several sources as one: the smallest candidate of any.
class union_source final : public source {
 public:
  explicit union_source(std::vector<std::unique_ptr<source>> parts) : parts_(std::move(parts)) {}
  found seek(std::uint64_t at_least) override {
    if (!started_) {
      started_ = true;
      for (std::size_t i = 0; i < parts_.size(); ++i)
        if (auto r = advance(i, at_least); !r) return r.error();
    }
    while (!heap_.empty() && heap_.top().first < at_least) {
      const std::size_t i = heap_.top().second;
      heap_.pop();
      if (auto r = advance(i, at_least); !r) return r.error();
    }
    if (heap_.empty()) return std::optional<std::uint64_t>{};
    return std::optional<std::uint64_t>{heap_.top().first};
  }

 private:
  result<void> advance(std::size_t i, std::uint64_t at_least) {
    auto s = parts_[i]->seek(at_least);
    if (!s) return s.error();
    if (*s) heap_.emplace(**s, i);
    return {};
  }
  std::vector<std::unique_ptr<source>> parts_;
  using item = std::pair<std::uint64_t, std::size_t>;
  std::priority_queue<item, std::vector<item>, std::greater<>> heap_;
  bool started_ = false;
};

// A sorted list of seqs (an occurred_at range, gathered once).
class list_source final : public source {
 public:
  explicit list_source(std::vector<std::uint64_t> seqs) : seqs_(std::move(seqs)) {}
  found seek(std::uint64_t at_least) override {
    auto it = std::lower_bound(seqs_.begin(), seqs_.end(), at_least);
    if (it == seqs_.end()) return std::optional<std::uint64_t>{};
    return std::optional<std::uint64_t>{*it};
  }

 private:
  std::vector<std::uint64_t> seqs_;
};

// The first seq whose key time in a by_* time index is >= `us` (`none` if
// there is none).
result<std::uint64_t> first_seq_at(const lmdb::txn& t, MDB_dbi db_handle, std::uint64_t us,
                                   std::uint64_t none) {
  auto c = lmdb::cursor::open(t, db_handle);
  if (!c) return lmdb::to_ledger_error(c.error());
  auto e = c->get(MDB_SET_RANGE, schema::time_key(us, 0));
  if (!e) return lmdb::to_ledger_error(e.error());
  if (!*e) return none;
  return schema::decode_key_seq((*e)->first, std::tuple_size_v<schema::time_key_bytes>);
}

// Does event `e` pass every filter? Reads its payload only when a filter
// needs it.
bool matches(const stored_event& e, const event_filter& f) {
  if (f.stream && e.stream != *f.stream) return false;
  if (f.prefix && !crypto::stream_in_prefix(e.stream, *f.prefix)) return false;
  if (!f.by_occurred_at && ((f.from_us && e.recorded_at_us < *f.from_us) ||
                            (f.to_us && e.recorded_at_us >= *f.to_us)))
    return false;
  const bool needs_payload = f.type || f.author || (f.by_occurred_at && (f.from_us || f.to_us));
  if (!needs_payload) return true;
  if (e.erased) return false;
  auto payload = crypto::jws_payload_object(e.jws);
  if (!payload) return false;
  const query_terms t = query_terms_of(*payload);
  if (f.type && t.type != *f.type) return false;
  if (f.author && t.author_id != *f.author) return false;
  if (f.by_occurred_at && ((f.from_us && t.occurred_at_us < *f.from_us) ||
                           (f.to_us && t.occurred_at_us >= *f.to_us)))
    return false;
  return true;
}

// The newest revision of `stream` in the snapshot, if it has events.
result<std::optional<std::uint64_t>> head_of(const ledger::impl& l, const index_read& r,
                                             std::string_view stream) {
  if (auto recent = l.recent.head(stream, r.snap)) return {*recent};
  auto stored = store::get_u64(r.txn(), l.dbs[db::streams], schema::view(stream));
  if (!stored) return lmdb::to_ledger_error(stored.error());
  return *stored;
}

}  // namespace

result<query_outcome> ledger::query(const event_filter& f, std::uint64_t from_seq,
                                    std::uint64_t max_examined,
                                    const std::function<bool(const stored_event&)>& each,
                                    bool allow_scan) const {
  if (auto v = validate_filter(f); !v) return v.error();
  const impl& l = *impl_;
  auto read = l.begin_index_read();
  if (!read) return read.error();
  const index_read& r = *read;
  const lmdb::txn& txn = r.txn();
  query_outcome out;
  out.tree_size = r.snap.size;

  // The window of seqs: the cursor, the snapshot and a recorded_at range.
  std::uint64_t lo = from_seq, hi = r.snap.size;
  if (!f.by_occurred_at && f.from_us) {
    auto s = first_seq_at(txn, l.dbs[db::by_recorded], *f.from_us, hi);
    if (!s) return s.error();
    lo = std::max(lo, *s);
  }
  if (!f.by_occurred_at && f.to_us) {
    auto s = first_seq_at(txn, l.dbs[db::by_recorded], *f.to_us, hi);
    if (!s) return s.error();
    hi = std::min(hi, *s);
  }

  std::vector<std::unique_ptr<source>> sources;
  for (auto [value, which] : {std::pair{&f.type, db::by_type}, std::pair{&f.author, db::by_author}}) {
    if (!*value) continue;
    auto c = lmdb::cursor::open(txn, l.dbs[which]);
    if (!c) return lmdb::to_ledger_error(c.error());
    sources.push_back(std::make_unique<term_source>(std::move(*c), schema::term_of(**value)));
  }
  if (f.stream) {
    auto head = head_of(l, r, *f.stream);
    if (!head) return head.error();
    if (!*head) return out;  // no such stream: nothing matches
    sources.push_back(std::make_unique<stream_source>(l, r, *f.stream, **head));
  }
  bool scan = false;
  if (f.prefix && sources.empty()) {
    // The streams of the prefix: merged ones in key order, then newer ones.
    std::set<std::string> names;
    auto c = lmdb::cursor::open(txn, l.dbs[db::streams]);
    if (!c) return lmdb::to_ledger_error(c.error());
    for (auto e = c->get(MDB_SET_RANGE, schema::view(*f.prefix)); names.size() <= max_prefix_streams;
         e = c->get(MDB_NEXT)) {
      if (!e) return lmdb::to_ledger_error(e.error());
      if (!*e || !schema::chars((*e)->first).starts_with(*f.prefix)) break;
      // The names beginning with the prefix's characters, of which those
      // where a part of the name ends are the prefix's (stream_name.hpp).
      if (crypto::stream_in_prefix(schema::chars((*e)->first), *f.prefix)) names.emplace(schema::chars((*e)->first));
    }
    for (auto& n : l.recent.streams_with_prefix(*f.prefix, r.snap)) names.insert(std::move(n));
    if (names.size() > max_prefix_streams) {
      if (!allow_scan)
        return status(errc::invalid_argument, "prefix: names more than " + std::to_string(max_prefix_streams) +
                                                  " streams; narrow it, or add type or author");
      scan = true;
    } else {
      std::vector<std::unique_ptr<source>> parts;
      for (const auto& name : names) {
        auto head = head_of(l, r, name);
        if (!head) return head.error();
        if (*head) parts.push_back(std::make_unique<stream_source>(l, r, name, **head));
      }
      sources.push_back(std::make_unique<union_source>(std::move(parts)));
    }
  }
  if (f.by_occurred_at && (f.from_us || f.to_us) && sources.empty() && !scan) {
    auto c = lmdb::cursor::open(txn, l.dbs[db::by_occurred]);
    if (!c) return lmdb::to_ledger_error(c.error());
    std::vector<std::uint64_t> seqs;
    for (auto e = c->get(MDB_SET_RANGE, schema::time_key(f.from_us.value_or(0), 0));; e = c->get(MDB_NEXT)) {
      if (!e) return lmdb::to_ledger_error(e.error());
      if (!*e) break;
      auto at = schema::decode_key_time((*e)->first);
      auto seq = schema::decode_key_seq((*e)->first, std::tuple_size_v<schema::time_key_bytes>);
      if (!at || !seq) return errc::corrupt;
      if (f.to_us && *at >= *f.to_us) break;
      if (*seq < lo || *seq >= hi) continue;
      if (seqs.size() == max_occurred_candidates) {
        if (!allow_scan)
          return status(errc::invalid_argument,
                        "the occurred_at range holds more than " + std::to_string(max_occurred_candidates) +
                            " events; narrow it, or add type, author, stream or prefix");
        scan = true;
        break;
      }
      seqs.push_back(*seq);
    }
    if (!scan) {
      std::sort(seqs.begin(), seqs.end());
      sources.push_back(std::make_unique<list_source>(std::move(seqs)));
    }
  }

  // Leapfrog over the sources; no source: every seq of the window.
  std::uint64_t x = lo;
  auto next_candidate = [&]() -> found {
    if (sources.empty()) return x < hi ? std::optional<std::uint64_t>{x} : std::nullopt;
    for (;;) {
      bool agreed = true;
      for (auto& s : sources) {
        auto y = s->seek(x);
        if (!y) return y.error();
        if (!*y || **y >= hi) return std::optional<std::uint64_t>{};
        if (**y != x) {
          agreed = false;
          x = **y;
        }
      }
      if (agreed) return std::optional<std::uint64_t>{x};
    }
  };
  for (;;) {
    auto candidate = next_candidate();
    if (!candidate) return candidate.error();
    if (!*candidate) return out;
    if (max_examined != 0 && out.examined == max_examined) {
      out.resume = **candidate;
      return out;
    }
    ++out.examined;
    auto e = store::load_event(txn, l.dbs, **candidate);
    if (!e) return e.error();
    x = **candidate + 1;
    if (!matches(*e, f)) continue;
    if (!each(*e)) {
      out.resume = x < hi ? std::optional<std::uint64_t>{x} : std::nullopt;
      return out;
    }
  }
}

}  // namespace vellum::ledger
