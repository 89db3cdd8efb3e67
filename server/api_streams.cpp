// The api's long answers: GET /v1/subscribe (what a subscription sends next;
// the transport moves it, server/sse_session.hpp) and GET /v1/export (a
// response::stream the ledger writes while the transport sends it).

#include "server/api_support.hpp"

#include "crypto/encoding.hpp"
#include "crypto/ijson.hpp"
#include "crypto/stream_name.hpp"
#include "ledger/analytics.hpp"
#include "crypto/jws.hpp"
#include "crypto/leaf_entry.hpp"

#include <algorithm>

namespace vellum::server {

using namespace api_support;

bool subscription::matches(const ledger::stored_event& e) const {
  if (!stream.empty() && e.stream != stream) return false;
  if (!prefix.empty() && !crypto::stream_in_prefix(e.stream, prefix)) return false;
  if (!type.empty()) {
    if (e.erased) return false;
    auto t = crypto::jws_parse(e.jws);
    if (!t) return false;
    auto p = crypto::parse_ijson(crypto::as_chars(t->payload));
    if (!p || !p->is_object()) return false;
    const auto* ty = p->get_object().if_contains("type");
    if (!ty || !ty->is_string() || ty->get_string() != type) return false;
  }
  return true;
}

bool api::is_subscribe(const request& req) {
  std::string_view t = req.target;
  return req.method == "GET" && t.substr(0, t.find('?')) == "/v1/subscribe";
}

std::variant<subscription, response> api::open_subscription(const request& req) const {
  auto fail = [](response r) {
    r.route = "GET /v1/subscribe";
    return r;
  };
  if (auto refused = refuse_foreign_host(req)) return fail(std::move(*refused));
  if (auto denied = authorize(req, role::reader)) return fail(std::move(*denied));
  std::string_view t = req.target;
  auto qpos = t.find('?');
  auto q = parse_query(qpos == std::string_view::npos ? std::string_view{} : t.substr(qpos + 1));
  if (!q.ok) return fail(error_response(errc::bad_request, q.problem));
  if (auto unknown = unknown_parameter(q, query_parameters("GET", "/v1/subscribe")))
    return fail(error_response(errc::bad_request, "unknown query parameter \"" + *unknown + "\""));
  subscription s;
  std::optional<std::uint64_t> from;
  std::optional<response> err;
  if (!u64_param(q, "from", from, err)) return fail(std::move(*err));
  if (from) s.from = *from;
  if (!req.last_event_id.empty()) {
    auto last = parse_u64(req.last_event_id);
    if (!last) return fail(error_response(errc::bad_request, "Last-Event-ID: must be an event seq"));
    s.from = *last + 1;
  }
  if (const auto* v = q.get("stream")) s.stream = *v;
  if (const auto* v = q.get("prefix")) s.prefix = *v;
  if (const auto* v = q.get("type")) s.type = *v;
  s.cursor = s.from;
  return s;
}

response api::sse_head(const subscription& s) {
  response r;
  r.content_type = "text/event-stream";
  r.headers = {{"Cache-Control", "no-store"}, {"X-Accel-Buffering", "no"}};
  r.body = ": vellum subscription from seq " + std::to_string(s.from) + "\n\n";
  r.route = "GET /v1/subscribe";
  return r;
}

sse_step api::sse_next(subscription& s) const {
  auto last_event = [&s](std::string_view event, std::string reason) {
    json::object o{{"reason", std::move(reason)}, {"resume_from", s.cursor}};
    return sse_step{.text = "event: " + std::string(event) + "\ndata: " + json::serialize(o) + "\n\n",
                    .last = true};
  };
  const std::uint64_t size = ledger_.tree_size();
  if (s.cursor >= size) {
    s.caught_up = true;
    return {};
  }
  if (s.caught_up && size - s.cursor > limits_.sse_max_buffered_events) return last_event("overflow", "consumer too slow");
  auto page = ledger_.read_all(s.cursor, 256);
  if (!page) return last_event("error", page.error().message());
  if (page->empty()) {
    s.caught_up = true;
    return {};
  }
  // A step holds at most limits.max_page_bytes of messages (at least one
  // event, so that a large one never stalls the stream): a subscriber
  // catching up on large events costs bounded memory, not 256 events' worth.
  sse_step step;
  for (const auto& e : *page) {
    if (s.matches(e)) {
      std::string message = sse_event(e);
      if (!step.text.empty() && step.text.size() + message.size() > limits_.max_page_bytes) break;
      step.text += message;
    }
    s.cursor = e.seq + 1;
  }
  step.more = step.text.empty();  // nothing matched on this page: the next one may
  return step;
}

std::string api::sse_event(const ledger::stored_event& e) {
  return "id: " + std::to_string(e.seq) + "\nevent: event\ndata: " + json::serialize(event_json(e)) + "\n\n";
}

std::variant<ledger::export_request, response> api::export_request_of(const call& c) const {
  const auto& q = c.query;  // the route table refused unknown parameters
  ledger::export_request out;
  auto& sel = out.selection;
  std::optional<response> err;
  if (const auto* v = q.get("stream")) sel.stream = *v;
  if (const auto* v = q.get("prefix")) sel.prefix = *v;
  if (!u64_param(q, "from_seq", sel.from_seq, err) || !u64_param(q, "to_seq", sel.to_seq, err) ||
      !u64_param(q, "since_size", out.since_size, err))
    return std::move(*err);
  for (auto [name, slot] : {std::pair{"from_time", &sel.from_time_us}, std::pair{"to_time", &sel.to_time_us}}) {
    if (const auto* v = q.get(name)) {
      *slot = crypto::parse_rfc3339_us(*v);
      if (!*slot) return error_response(errc::bad_request, std::string(name) + ": not an RFC 3339 date-time");
    }
  }
  if (out.since_size && *out.since_size > ledger_.tree_size())
    return error_response(errc::bad_request, "since_size is beyond the current tree size");
  // Keys of every registered submitter, revoked or expired ones included:
  // old events stay verifiable after a key is retired.
  out.key_pem = [c = creds_.get()](std::string_view kid) -> std::optional<std::string> {
    if (const auto* s = c->find_submitter(kid)) return s->key.to_pem();
    return std::nullopt;
  };
  if (auto v = ledger::validate_export(out); !v) return error_response(errc::bad_request, v.error().message());
  return out;
}

// Auditors or admins only (exports hold medical records): the table checks.
response api::get_export(const call& c) {
  auto parsed = export_request_of(c);
  if (auto* refused = std::get_if<response>(&parsed)) return std::move(*refused);
  auto ticket = expensive_.enter(c.req.client_address);
  if (!ticket) return too_many(expensive_.max());
  response r;
  r.content_type = "application/x-ndjson";
  r.headers = {{"Cache-Control", "no-store"},
               {"Content-Disposition", "attachment; filename=\"vellum-export.ndjson\""}};
  r.stream = [&led = ledger_, req = std::get<ledger::export_request>(std::move(parsed)), ticket](
                 const byte_sink& out) -> vellum::status {
    auto written = ledger::write_export(led, req, out);
    if (written) return {};
    // A selection the ledger refuses is the client's error; anything else is ours.
    if (written.error() == ledger::errc::invalid_argument) return {errc::bad_request, written.error().message()};
    return vellum::status(written.error().code(), "export failed: " + written.error().message());
  };
  return r;
}

// Auditors or admins only (the rows hold the documentation itself).
response api::get_analytics(const call& c) {
  const auto& q = c.query;
  ledger::analytics_request req;
  if (const auto* f = q.get("format")) {
    if (*f == "ndjson") req.fmt = ledger::analytics_request::format::ndjson;
    else if (*f != "csv") return error_response(errc::bad_request, "format: csv or ndjson");
  }
  std::optional<response> err;
  if (!filter_params(q, req.filter, err)) return std::move(*err);
  const bool csv = req.fmt == ledger::analytics_request::format::csv;
  auto ticket = expensive_.enter(c.req.client_address);
  if (!ticket) return too_many(expensive_.max());
  response r;
  r.content_type = csv ? "text/csv; charset=utf-8; header=present" : "application/x-ndjson";
  r.headers = {{"Cache-Control", "no-store"},
               {"Content-Disposition", std::string("attachment; filename=\"vellum-analytics.") +
                                           (csv ? "csv" : "ndjson") + "\""}};
  r.stream = [&led = ledger_, req, ticket](const byte_sink& out) -> vellum::status {
    auto written = ledger::write_analytics(led, req, out);
    if (written) return {};
    if (written.error() == ledger::errc::invalid_argument) return {errc::bad_request, written.error().message()};
    return vellum::status(written.error().code(), "analytics failed: " + written.error().message());
  };
  return r;
}

}  // namespace vellum::server
