// The api's read handlers: events, stream and log pages, proofs, submitters,
// the public transparency-log endpoints and operations (see docs/api.md).

#include "server/api_support.hpp"

#include "crypto/encoding.hpp"
#include "crypto/leaf_entry.hpp"
#include "crypto/tile.hpp"
#include "server/validation.hpp"

#include <algorithm>

namespace vellum::server {

using namespace api_support;

// --- handlers, in table order (each may assume method and access checked) ---

// One event, with the seqs of the events that amend or void it.
static response event_with_corrections(const ledger::ledger& led, const ledger::stored_event& e) {
  auto o = event_json(e);
  auto corrections = led.corrections_of(e.event_id);
  if (!corrections) return ledger_error(corrections.error());
  json::array seqs;
  for (auto s : *corrections) seqs.push_back(s);
  o["corrections"] = std::move(seqs);
  return json_response(200, o);
}

response api::get_event(const call& c) {
  auto seq = parse_u64(c.params[0]);
  if (!seq) return not_found("not an event seq");
  auto e = ledger_.event_by_seq(*seq);
  if (!e) return ledger_error(e.error(), "no event with this seq");
  return event_with_corrections(ledger_, *e);
}

response api::get_event_by_id(const call& c) {
  auto id = c.params[0];
  if (!is_canonical_uuid(id)) return not_found("not a canonical UUID");
  auto e = ledger_.event_by_id(id);
  if (!e) return ledger_error(e.error(), "no event with this event_id");
  return event_with_corrections(ledger_, *e);
}

response api::get_stream(const call& c) {
  const auto& q = c.query;
  auto stream = percent_decode(c.params[0]);
  if (!stream || !is_valid_stream(*stream)) return not_found("not a valid stream name");
  std::optional<std::uint64_t> from, limit;
  std::optional<response> err;
  if (!u64_param(q, "from", from, err) || !u64_param(q, "limit", limit, err)) return std::move(*err);
  auto dir = ledger::direction::forward;
  if (const auto* d = q.get("direction")) {
    if (*d == "backward")
      dir = ledger::direction::backward;
    else if (*d != "forward")
      return error_response(errc::bad_request, "direction: must be forward or backward");
  }
  std::size_t n = limit ? static_cast<std::size_t>(std::min<std::uint64_t>(*limit, max_page)) : default_page;
  if (n == 0) return error_response(errc::bad_request, "limit: must be at least 1");
  auto current = ledger_.stream_revision(*stream);
  if (!current && current.error() != ledger::errc::not_found) return ledger_error(current.error());
  json::object o;
  o["stream"] = *stream;
  o["current_revision"] = current ? json::value(*current) : json::value(nullptr);
  json::array events;
  json::value next = nullptr;
  if (current) {
    std::uint64_t start = from ? *from : (dir == ledger::direction::forward ? 0 : *current);
    if (dir == ledger::direction::backward && start > *current) start = *current;
    auto evs = ledger_.read_stream(*stream, start, dir, n);
    if (!evs) return ledger_error(evs.error());
    event_page page(limits_.max_page_bytes);
    for (const auto& e : *evs) {
      if (!page.add(e)) {
        next = e.revision;  // the page is full before `limit`
        break;
      }
    }
    events = page.take();
    if (next.is_null() && !evs->empty() && evs->size() == n) {
      auto last = evs->back().revision;
      if (dir == ledger::direction::forward && last < *current) next = last + 1;
      if (dir == ledger::direction::backward && last > 0) next = last - 1;
    }
  }
  o["direction"] = dir == ledger::direction::forward ? "forward" : "backward";
  o["events"] = std::move(events);
  o["next"] = next;
  return json_response(200, o);
}

response api::get_log_events(const call& c) {
  std::optional<std::uint64_t> from, limit;
  std::optional<response> err;
  if (!u64_param(c.query, "from", from, err) || !u64_param(c.query, "limit", limit, err)) return std::move(*err);
  std::size_t n = limit ? static_cast<std::size_t>(std::min<std::uint64_t>(*limit, max_page)) : default_page;
  if (n == 0) return error_response(errc::bad_request, "limit: must be at least 1");
  std::uint64_t start = from.value_or(0);
  auto evs = ledger_.read_all(start, n);
  if (!evs) return ledger_error(evs.error());
  event_page page(limits_.max_page_bytes);
  std::optional<std::uint64_t> next;
  for (const auto& e : *evs) {
    if (!page.add(e)) {
      next = e.seq;  // the page is full before `limit`
      break;
    }
  }
  json::object o;
  o["events"] = page.take();
  auto size = ledger_.tree_size();
  o["tree_size"] = size;
  if (!next && !evs->empty() && evs->back().seq + 1 < size) next = evs->back().seq + 1;
  o["next"] = next ? json::value(*next) : json::value(nullptr);
  return json_response(200, o);
}

response api::served_by_transport(const call& c) {
  return error_response(errc::bad_request, std::string(c.label) + " is served by the transport");
}

response api::get_inclusion_proof(const call& c) {
  std::optional<std::uint64_t> seq, size;
  std::optional<response> err;
  if (!u64_param(c.query, "seq", seq, err) || !u64_param(c.query, "tree_size", size, err)) return std::move(*err);
  if (!seq) return error_response(errc::bad_request, "seq: required");
  std::uint64_t ts = size ? *size : ledger_.tree_size();
  if (*seq >= ts) return error_response(errc::bad_request, "seq must be below tree_size (and the tree must contain it)");
  auto proof = ledger_.inclusion_proof(*seq, ts);
  if (!proof) return ledger_error(proof.error(), "tree_size is beyond the current tree");
  auto entry = ledger_.leaf_entry(*seq);
  json::object o;
  o["seq"] = *seq;
  o["tree_size"] = ts;
  if (entry) {
    o["leaf_entry"] = b64(*entry);
    o["leaf_hash"] = b64(crypto::leaf_hash(*entry));
  }
  o["proof"] = hashes_json(*proof);
  if (auto cp = ledger_.checkpoint_at(ts)) o["checkpoint"] = cp->note;
  return json_response(200, o);
}

response api::get_consistency_proof(const call& c) {
  std::optional<std::uint64_t> from, to;
  std::optional<response> err;
  if (!u64_param(c.query, "from", from, err) || !u64_param(c.query, "to", to, err)) return std::move(*err);
  if (!from || !to) return error_response(errc::bad_request, "from and to: required");
  if (*from == 0 || *from > *to) return error_response(errc::bad_request, "need 0 < from <= to");
  auto proof = ledger_.consistency_proof(*from, *to);
  if (!proof) return ledger_error(proof.error(), "to is beyond the current tree");
  json::object o;
  o["from"] = *from;
  o["to"] = *to;
  o["proof"] = hashes_json(*proof);
  if (auto cp = ledger_.checkpoint_at(*from)) o["from_checkpoint"] = cp->note;
  if (auto cp = ledger_.checkpoint_at(*to)) o["to_checkpoint"] = cp->note;
  return json_response(200, o);
}

response api::get_submitters(const call&) {
  auto c = creds_.get();
  json::array subs;
  for (const auto& s : c->submitters) {
    json::object o;
    o["kid"] = s.kid;
    o["key_type"] = crypto::to_string(s.key.type());
    o["alg"] = crypto::jws_alg_for(s.key.type());
    o["public_key"] = s.key.to_pem();
    o["jwk"] = s.key.to_jwk();
    json::array streams;
    for (const auto& p : s.streams) streams.emplace_back(p);
    o["streams"] = std::move(streams);
    if (s.not_before_us) o["not_before"] = crypto::format_time_us(*s.not_before_us);
    if (s.not_after_us) o["not_after"] = crypto::format_time_us(*s.not_after_us);
    o["revoked"] = s.revoked;
    subs.push_back(std::move(o));
  }
  return json_response(200, json::object{{"submitters", std::move(subs)}});
}

response api::get_log(const call&) {
  json::object o;
  o["origin"] = ledger_.origin();
  o["verifier_key"] = ledger_.verifier_key();
  o["tree_size"] = ledger_.tree_size();
  return json_response(200, o);
}

response api::get_checkpoint_json(const call&) {
  auto cp = ledger_.latest_checkpoint();
  if (!cp) return ledger_error(cp.error(), "no checkpoint yet");
  json::object o;
  o["origin"] = cp->body.origin;
  o["tree_size"] = cp->body.size;
  o["root_hash"] = b64(cp->body.root);
  o["note"] = cp->note;
  auto r = json_response(200, o);
  r.headers.emplace_back("Cache-Control", "no-cache");
  return r;
}

response api::get_checkpoint_note(const call&) {
  auto cp = ledger_.latest_checkpoint();
  if (!cp) return ledger_error(cp.error(), "no checkpoint yet");
  response r;
  r.content_type = "text/plain; charset=utf-8";
  r.body = cp->note;
  r.headers.emplace_back("Cache-Control", "no-cache");
  return r;
}

// Both tile routes: the C2SP parser reads the whole path ("tile/0/x001/234.p/5").
response api::get_tile(const call& c) {
  auto t = crypto::parse_tile_path(c.path.substr(1));
  if (!t) return not_found("not a canonical C2SP tile path");
  auto data = ledger_.read_tile(*t);
  if (!data) return ledger_error(data.error(), "tile not available at the current tree size");
  response r;
  r.content_type = "application/octet-stream";
  r.body.assign(reinterpret_cast<const char*>(data->data()), data->size());
  r.headers.emplace_back("Cache-Control", t->width == crypto::tile_width ? "public, max-age=31536000, immutable"
                                                                         : "public, max-age=5");
  return r;
}

response api::get_healthz(const call&) { return json_response(200, json::object{{"status", "ok"}}); }

// Ready: not draining, and the ledger can store an append now (the latest
// commit did not fail, the disk has room). A load balancer then sends the
// writes elsewhere instead of into 503s.
response api::get_readyz(const call&) {
  if (draining_.load()) return error_response(errc::unavailable, "draining");
  if (auto can = ledger_.ready_to_write(); !can)
    return error_response(errc::unavailable, "the ledger cannot write: " + can.error().message());
  return json_response(200, json::object{{"status", "ready"}});
}

response api::get_metrics(const call&) {
  metrics_.set_tree_size(ledger_.tree_size());
  metrics_.set_unmerged(ledger_.unmerged_events());
  response r;
  r.content_type = "text/plain; version=0.0.4";
  r.body = metrics_.render(sequencer_.queue_depth());
  return r;
}

// POST /v1/events: one JWS (application/jose) or a batch (application/x-ndjson).

}  // namespace vellum::server
