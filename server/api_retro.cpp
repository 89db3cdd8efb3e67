// The api's retrospective reads (docs/api.md "Retrospective reads"): a stream
// folded as of a moment on both time axes, the history of its fields, and
// queries of the whole log through its indexes.
// The fold itself is crypto/fold.hpp, the same code the offline verifier runs.

#include "server/api_support.hpp"

#include "crypto/encoding.hpp"
#include "crypto/fold.hpp"
#include "crypto/leaf_entry.hpp"
#include "server/validation.hpp"

namespace vellum::server {

using namespace api_support;

namespace {

// Which events a retrospective read takes: as of a moment of the ledger's
// knowledge (recorded_at <= T, or seq < N with "seq:N"), and of those only
// what had happened by a moment (occurred_at <= T).
struct moment {
  std::optional<std::uint64_t> recorded_until_us;
  std::optional<std::uint64_t> before_seq;
  std::optional<std::uint64_t> occurred_until_us;
  json::object echo;  // the parameters as given, for the answer
};

std::variant<moment, response> moment_of(const query_params& q) {
  moment m;
  if (const auto* v = q.get("as_of")) {
    m.echo["as_of"] = *v;
    if (v->starts_with("seq:")) {
      m.before_seq = parse_u64(std::string_view(*v).substr(4));
      if (!m.before_seq) return error_response(errc::bad_request, "as_of: seq:N needs a non-negative integer N");
    } else {
      m.recorded_until_us = crypto::parse_rfc3339_us(*v);
      if (!m.recorded_until_us)
        return error_response(errc::bad_request, "as_of: an RFC 3339 date-time or seq:N");
    }
  }
  if (const auto* v = q.get("valid_at")) {
    m.echo["valid_at"] = *v;
    m.occurred_until_us = crypto::parse_rfc3339_us(*v);
    if (!m.occurred_until_us) return error_response(errc::bad_request, "valid_at: an RFC 3339 date-time");
  }
  return m;
}

}  // namespace

// The stream's events in revision order, as of `m`; not_found if the stream
// has none at all. Reads the stream in pages; stops at the first event past
// as_of (seq and recorded_at grow with the revision).
static result<std::vector<crypto::fold_event>> events_as_of(const ledger::ledger& led, const std::string& stream,
                                                            const moment& m) {
  auto current = led.stream_revision(stream);
  if (!current) return current.error();
  std::vector<crypto::fold_event> out;
  for (std::uint64_t from = 0; from <= *current;) {
    auto page = led.read_stream(stream, from, ledger::direction::forward, 1000);
    if (!page) return page.error();
    if (page->empty()) break;
    for (const auto& e : *page) {
      if (m.before_seq && e.seq >= *m.before_seq) return out;
      if (m.recorded_until_us && e.recorded_at_us > *m.recorded_until_us) return out;
      auto f = crypto::fold_event_of(e.seq, e.revision, e.recorded_at_us, e.event_id, e.kid, e.jws, e.erased);
      if (!f) return status(ledger::errc::corrupt, "event " + std::to_string(e.seq) + " has an unreadable payload");
      if (m.occurred_until_us && !f->erased) {
        const auto* occurred = f->payload.if_contains("occurred_at");
        const auto at = occurred && occurred->is_string() ? crypto::parse_rfc3339_us(occurred->get_string())
                                                          : std::optional<std::uint64_t>{};
        if (!at || *at > *m.occurred_until_us) continue;
      }
      out.push_back(std::move(*f));
    }
    from = page->back().revision + 1;
  }
  return out;
}

response api::get_stream_state(const call& c) {
  auto stream = percent_decode(c.params[0]);
  if (!stream || !is_valid_stream(*stream)) return not_found("not a valid stream name");
  auto when = moment_of(c.query);
  if (auto* refused = std::get_if<response>(&when)) return std::move(*refused);
  const auto& m = std::get<moment>(when);
  const auto size = ledger_.tree_size();
  auto events = events_as_of(ledger_, *stream, m);
  if (!events) return ledger_error(events.error(), events.error() == ledger::errc::not_found
                                                       ? "no stream \"" + *stream + "\""
                                                       : events.error().message());
  auto folded = crypto::fold(*events);
  if (!folded) return ledger_error(folded.error());
  json::object o = m.echo;
  o["stream"] = *stream;
  o["revision"] = folded->revision ? json::value(*folded->revision) : json::value(nullptr);
  o["state"] = folded->state;
  o["state_sha256"] = folded->state_sha256;
  json::array seqs, voided, erased;
  for (auto s : folded->events) seqs.push_back(s);
  for (auto s : folded->voided) voided.push_back(s);
  for (auto s : folded->erased) erased.push_back(s);
  o["events"] = std::move(seqs);
  o["voided"] = std::move(voided);
  o["erased"] = std::move(erased);
  o["tree_size"] = size;
  // The first signed checkpoint that contains the last folded event: with an
  // inclusion proof of that event to it (GET /v1/proofs/inclusion), the answer
  // can be checked against the log.
  o["checkpoint"] = nullptr;
  if (folded->last_seq) {
    auto r = ledger_.receipt_for(*folded->last_seq);
    if (!r) return ledger_error(r.error());
    o["checkpoint"] = r->checkpoint;
    o["checkpoint_size"] = r->tree_size;
  }
  return json_response(200, o);
}

response api::get_stream_history(const call& c) {
  auto stream = percent_decode(c.params[0]);
  if (!stream || !is_valid_stream(*stream)) return not_found("not a valid stream name");
  std::string pointer;
  if (const auto* p = c.query.get("path")) {
    if (!p->empty() && p->front() != '/')
      return error_response(errc::bad_request, "path: a JSON pointer (RFC 6901), e.g. /medication/dose");
    pointer = *p;
  }
  auto when = moment_of(c.query);
  if (auto* refused = std::get_if<response>(&when)) return std::move(*refused);
  const auto& m = std::get<moment>(when);
  auto events = events_as_of(ledger_, *stream, m);
  if (!events) return ledger_error(events.error(), events.error() == ledger::errc::not_found
                                                       ? "no stream \"" + *stream + "\""
                                                       : events.error().message());
  json::array changes;
  for (auto& entry : crypto::field_history(*events, pointer)) changes.push_back(std::move(entry));
  json::object o = m.echo;
  o["stream"] = *stream;
  if (!pointer.empty()) o["path"] = pointer;
  o["changes"] = std::move(changes);
  o["tree_size"] = ledger_.tree_size();
  return json_response(200, o);
}

// Events matching the filters, in seq order, a page at a time. A page reads
// at most max_query_candidates index candidates, so a filter that matches
// rarely among many candidates answers with fewer events (even none) and a
// `next` cursor rather than a long wait.
response api::get_query(const call& c) {
  const auto& q = c.query;
  ledger::event_filter f;
  std::optional<response> err;
  if (!filter_params(q, f, err)) return std::move(*err);
  std::optional<std::uint64_t> limit, cursor;
  if (!u64_param(q, "limit", limit, err)) return std::move(*err);
  if (const auto* v = q.get("cursor")) {
    cursor = parse_u64(*v);
    if (!cursor) return error_response(errc::bad_request, "cursor: not a cursor of this log (use a \"next\" as given)");
  }
  const std::size_t n = limit ? static_cast<std::size_t>(std::min<std::uint64_t>(*limit, max_page)) : default_page;
  if (n == 0) return error_response(errc::bad_request, "limit: must be at least 1");
  event_page page(limits_.max_page_bytes);
  std::optional<std::uint64_t> next;
  // One event more than the page, to know whether there is a next one.
  auto got = ledger_.query(f, cursor.value_or(0), max_query_candidates, [&](const ledger::stored_event& e) {
    if (page.size() == n || !page.add(e)) {
      next = e.seq;
      return false;
    }
    return true;
  });
  if (!got) {
    if (got.error() == ledger::errc::invalid_argument) return error_response(errc::bad_request, got.error().message());
    return ledger_error(got.error());
  }
  if (!next && got->resume) next = got->resume;  // the candidate budget ran out
  json::object o;
  o["events"] = page.take();
  o["next"] = next ? json::value(std::to_string(*next)) : json::value(nullptr);
  o["tree_size"] = got->tree_size;
  o["examined"] = got->examined;
  return json_response(200, o);
}

}  // namespace vellum::server
