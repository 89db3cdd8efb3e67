// Sealed export writer (docs/formats.md §8). The reader's side is
// verifier/bundle.cpp; both follow the same rules, stated once in the doc.

#include "ledger/export.hpp"

#include "crypto/encoding.hpp"
#include "crypto/keys.hpp"
#include "crypto/leaf_entry.hpp"
#include "crypto/merkle.hpp"
#include "crypto/stream_name.hpp"

#include <boost/json.hpp>

#include <map>
#include <set>

namespace vellum::ledger {

namespace {

constexpr std::size_t page_size = 256;               // events read per ledger call
constexpr std::size_t flush_bytes = std::size_t{64} << 10;  // sink chunk size

result<void> invalid(std::string text) {
  return status(errc::invalid_argument, std::move(text));
}

// The selection resolved against the anchored tree of size n: which leaves
// are events, and (for time ranges) where the fences are.
struct plan {
  enum class kind { stream, prefix, range } k = kind::range;
  std::string name;  // stream or prefix
  std::uint64_t begin = 0, end = 0;  // kind::range: events are seqs [begin, end)
  std::optional<std::uint64_t> lower_fence, upper_fence;
  std::uint64_t n = 0;
};

// First seq in [0, n) whose recorded_at is >= t (n if none): recorded_at
// never decreases along seq, so a binary search over the leaves finds it.
result<std::uint64_t> first_recorded_at_or_after(const ledger& l, std::uint64_t n, std::uint64_t t) {
  std::uint64_t lo = 0, hi = n;
  while (lo < hi) {
    const std::uint64_t mid = lo + (hi - lo) / 2;
    auto e = l.event_by_seq(mid);
    if (!e) return e.error();
    if (e->recorded_at_us < t)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

result<plan> make_plan(const ledger& l, const export_selection& sel, std::uint64_t n) {
  plan p;
  p.n = n;
  if (sel.stream) {
    p.k = plan::kind::stream;
    p.name = *sel.stream;
  } else if (sel.prefix) {
    p.k = plan::kind::prefix;
    p.name = *sel.prefix;
  } else if (sel.from_seq) {
    p.begin = std::min(*sel.from_seq, n);
    p.end = std::min(*sel.to_seq, n);
  } else {
    auto first = first_recorded_at_or_after(l, n, *sel.from_time_us);
    if (!first) return first.error();
    auto end = first_recorded_at_or_after(l, n, *sel.to_time_us);
    if (!end) return end.error();
    p.begin = *first;
    p.end = std::max(*first, *end);
    if (p.begin > 0) p.lower_fence = p.begin - 1;
    if (p.end < n) p.upper_fence = p.end;
  }
  return p;
}

// Calls f(event) for every selected event, in seq order, below the plan's
// tree size. f returns result<void>; its error stops the walk.
template <class F>
result<void> for_each_event(const ledger& l, const plan& p, F&& f) {
  if (p.k == plan::kind::stream) {
    for (std::uint64_t rev = 0;;) {
      auto page = l.read_stream(p.name, rev, direction::forward, page_size);
      if (!page) {
        if (page.error() == errc::not_found) return {};  // no such stream: nothing to export
        return page.error();
      }
      for (auto& e : *page) {
        if (e.seq >= p.n) return {};  // appended after the anchoring checkpoint
        if (auto r = f(e); !r) return r;
      }
      if (page->size() < page_size) return {};
      rev += page->size();
    }
  }
  const std::uint64_t begin = p.k == plan::kind::prefix ? 0 : p.begin;
  const std::uint64_t end = p.k == plan::kind::prefix ? p.n : p.end;
  for (std::uint64_t seq = begin; seq < end;) {
    auto page = l.read_all(seq, static_cast<std::size_t>(std::min<std::uint64_t>(page_size, end - seq)));
    if (!page) return page.error();
    if (page->empty()) return make_error_code(errc::corrupt);  // the tree has these leaves
    for (auto& e : *page) {
      if (p.k == plan::kind::prefix && !crypto::stream_in_prefix(e.stream, p.name)) continue;
      if (auto r = f(e); !r) return r;
    }
    seq += page->size();
  }
  return {};
}

// Buffers lines and hands them to the sink in chunks.
class line_writer {
 public:
  line_writer(const export_sink& sink, export_summary& summary) : sink_(sink), summary_(summary) {}

  result<void> line(const boost::json::object& o) {
    buf_ += boost::json::serialize(o);
    buf_ += '\n';
    if (buf_.size() >= flush_bytes) return flush();
    return {};
  }
  result<void> flush() {
    if (buf_.empty()) return {};
    if (!sink_(buf_)) return make_error_code(boost::system::errc::operation_canceled);
    summary_.bytes += buf_.size();
    buf_.clear();
    return {};
  }

 private:
  const export_sink& sink_;
  export_summary& summary_;
  std::string buf_;
};

std::string b64(byte_view b) { return crypto::base64_encode(b); }

}  // namespace

result<void> validate_export(const export_request& req) {
  const auto& s = req.selection;
  const int kinds = (s.stream ? 1 : 0) + (s.prefix ? 1 : 0) + (s.from_seq || s.to_seq ? 1 : 0) +
                    (s.from_time_us || s.to_time_us ? 1 : 0);
  if (kinds != 1)
    return invalid("give exactly one of: stream; prefix; from_seq and to_seq; from_time and to_time");
  if ((s.stream && s.stream->empty()) || (s.prefix && s.prefix->empty()))
    return invalid("stream and prefix must not be empty");
  if (s.from_seq.has_value() != s.to_seq.has_value()) return invalid("give both from_seq and to_seq");
  if (s.from_time_us.has_value() != s.to_time_us.has_value()) return invalid("give both from_time and to_time");
  if (s.from_seq && *s.from_seq > *s.to_seq) return invalid("from_seq is after to_seq");
  if (s.from_time_us && *s.from_time_us > *s.to_time_us) return invalid("from_time is after to_time");
  // The bundle writes times in RFC 3339 with six digits, up to year 9999.
  constexpr std::uint64_t max_time_us = 253402300799999999;
  if (s.to_time_us && *s.to_time_us > max_time_us) return invalid("to_time is beyond the year 9999");
  return {};
}

result<export_summary> write_export(const ledger& l, const export_request& req,
                                    const export_sink& sink) {
  if (auto v = validate_export(req); !v) return v.error();
  auto cp = l.latest_checkpoint();
  if (!cp) return cp.error();
  const std::uint64_t n = cp->body.size;
  if (req.since_size && *req.since_size > n)
    return invalid("since_size " + std::to_string(*req.since_size) + " is beyond the tree size " +
                            std::to_string(n)).error();
  auto p = make_plan(l, req.selection, n);
  if (!p) return p.error();

  // Pass 1: the kids that signed exported events; their keys, canonical PEM.
  std::set<std::string> kids;
  if (auto r = for_each_event(l, *p, [&](const stored_event& e) -> result<void> {
        if (!e.erased) kids.insert(e.kid);
        return {};
      });
      !r)
    return r.error();
  std::map<std::string, std::string> keys;
  for (const auto& kid : kids) {
    auto text = req.key_pem ? req.key_pem(kid) : std::nullopt;
    if (!text) return invalid("no public key for the submitter key id \"" + kid + "\"").error();
    auto key = !text->empty() && text->front() == '{' ? crypto::public_key::from_jwk_text(*text)
                                                      : crypto::public_key::from_pem(*text);
    if (!key) return invalid("the public key of \"" + kid + "\" does not parse").error();
    keys.emplace(kid, key->to_pem());
  }

  export_summary summary;
  summary.tree_size = n;
  line_writer out(sink, summary);
  auto report = [&](std::uint64_t done) {
    if (req.progress) req.progress({done, n, summary.events, summary.bytes});
  };

  // 1. Header: what the export claims.
  const auto& s = req.selection;
  boost::json::object sel;
  if (s.stream) sel["stream"] = *s.stream;
  if (s.prefix) sel["prefix"] = *s.prefix;
  if (s.from_seq) {
    sel["from_seq"] = p->begin;  // clamped to the tree size: what the bundle proves
    sel["to_seq"] = p->end;
  }
  if (s.from_time_us) {
    sel["from_time"] = crypto::format_time_us(*s.from_time_us);
    sel["to_time"] = crypto::format_time_us(*s.to_time_us);
  }
  if (auto r = out.line({{"type", "header"},
                         {"format", "vellum-export/1"},
                         {"origin", l.origin()},
                         {"log_key", l.verifier_key()},
                         {"selection", std::move(sel)},
                         {"complete_streams", s.stream.has_value() || s.prefix.has_value()}});
      !r)
    return r.error();

  // 2. The anchoring checkpoint; 3. the consistency proof from since_size.
  if (auto r = out.line({{"type", "checkpoint"}, {"note", cp->note}}); !r) return r.error();
  if (req.since_size) {
    auto root = crypto::tree_root(*req.since_size, l.hashes());
    if (!root) return root.error();
    auto proof = l.consistency_proof(*req.since_size, n);
    if (!proof) return proof.error();
    boost::json::array nodes;
    for (const auto& h : *proof) nodes.emplace_back(b64(h));
    if (auto r = out.line({{"type", "consistency"},
                           {"from_size", *req.since_size},
                           {"from_root", b64(*root)},
                           {"proof", std::move(nodes)}});
        !r)
      return r.error();
  }

  // 4. Keys, sorted by kid.
  for (const auto& [kid, pem] : keys)
    if (auto r = out.line({{"type", "key"}, {"kid", kid}, {"public_key", pem}}); !r) return r.error();

  // 5. Tree lines, leaves 0 … n-1 left to right. pos: the next leaf to cover.
  std::uint64_t pos = 0;
  // Covers [pos, end) with the fewest aligned complete subtrees.
  auto cover_to = [&](std::uint64_t end) -> result<void> {
    const std::vector<crypto::node_id> ids = crypto::minimal_cover(pos, end);
    if (ids.empty()) return {};
    std::vector<crypto::hash> hashes(ids.size());
    if (auto r = l.hashes().read(ids, hashes); !r) return r.error();
    for (std::size_t i = 0; i < ids.size(); ++i)
      if (auto r = out.line({{"type", "node"}, {"level", ids[i].level}, {"hash", b64(hashes[i])}}); !r)
        return r.error();
    summary.nodes += ids.size();
    pos = end;
    return {};
  };
  auto fence = [&](std::uint64_t seq) -> result<void> {
    auto e = l.event_by_seq(seq);
    if (!e) return e.error();
    if (auto r = cover_to(seq); !r) return r;
    if (auto r = out.line({{"type", "fence"}, {"seq", seq}, {"leaf_entry", b64(e->leaf_entry)}}); !r) return r;
    ++summary.fences;
    pos = seq + 1;
    return {};
  };

  if (p->lower_fence)
    if (auto r = fence(*p->lower_fence); !r) return r.error();
  if (auto r = for_each_event(l, *p, [&](const stored_event& e) -> result<void> {
        if (auto c = cover_to(e.seq); !c) return c;
        boost::json::object line{{"type", "event"}, {"seq", e.seq}, {"leaf_entry", b64(e.leaf_entry)}};
        if (e.erased) {
          line["erased"] = true;
          ++summary.erased;
        } else {
          line["record"] = e.record;
          line["salt"] = b64(e.salt);
        }
        if (auto w = out.line(line); !w) return w;
        pos = e.seq + 1;
        if (++summary.events % 64 == 0) report(pos);
        return {};
      });
      !r)
    return r.error();
  if (p->upper_fence)
    if (auto r = fence(*p->upper_fence); !r) return r.error();
  if (auto r = cover_to(n); !r) return r.error();

  // 6. The end line, so truncation is always detected.
  if (auto r = out.line({{"type", "end"}, {"events", summary.events}, {"nodes", summary.nodes}}); !r)
    return r.error();
  if (auto r = out.flush(); !r) return r.error();
  report(n);
  return summary;
}

}  // namespace vellum::ledger
