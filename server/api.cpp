// The request handler's core (see api.hpp and docs/api.md): the route table,
// dispatch, authorisation and the shape of errors. The handlers live by job
// in api_reads.cpp, api_appends.cpp and api_streams.cpp.

#include "server/api_support.hpp"

#include "crypto/encoding.hpp"
#include "crypto/ijson.hpp"
#include "crypto/jws.hpp"
#include "crypto/leaf_entry.hpp"

namespace vellum::server {

using namespace api_support;

json::object event_json(const ledger::stored_event& e) {
  json::object o;
  o["seq"] = e.seq;
  o["stream"] = e.stream;
  o["revision"] = e.revision;
  o["recorded_at"] = crypto::format_time_us(e.recorded_at_us);
  o["event_id"] = e.event_id;
  o["kid"] = e.kid;
  o["leaf_entry"] = b64(e.leaf_entry);
  if (e.erased) {
    o["erased"] = true;
    return o;
  }
  o["jws"] = e.jws;
  if (auto t = crypto::jws_parse(e.jws)) {
    if (auto p = crypto::parse_ijson(crypto::as_chars(t->payload))) o["payload"] = std::move(*p);
  }
  o["record"] = e.record;
  o["salt"] = b64(e.salt);
  return o;
}

response error_response(const api_error& e) {
  auto kind = classify(e.code);
  response r;
  r.status = kind.status;
  r.body = error_body(e);
  if (kind.retry_after) r.headers.emplace_back("Retry-After", "1");
  return r;
}

api::api(ledger::ledger& led, ledger::sequencer& seq, credentials_store& creds, metrics& m,
         limits lim, clock_fn clock)
    : ledger_(led), sequencer_(seq), creds_(creds), metrics_(m), limits_(lim),
      expensive_(lim.max_expensive_per_ip), clock_(std::move(clock)) {}

std::optional<response> api::refuse_foreign_host(const request& req) const {
  if (!creds_.get()->open_reads) return std::nullopt;
  std::string_view host = req.host;
  // Drop the port: "localhost:8080", "[::1]:8080".
  if (const auto colon = host.rfind(':'); colon != std::string_view::npos && host.find(']', colon) == std::string_view::npos)
    host = host.substr(0, colon);
  const std::string name = lower(host);
  if (name == "localhost" || name == "127.0.0.1" || name == "[::1]") return std::nullopt;
  return error_response(errc::forbidden, "demo mode answers only Host localhost, 127.0.0.1 or [::1] (DNS rebinding); "
                                         "configure vellumd (--config) to serve other names");
}

std::string api::identity_of(const request& req) const {
  auto c = creds_.get();
  std::string_view auth = req.authorization;
  if (auth.size() > 7 && lower(auth.substr(0, 7)) == "bearer ") {
    if (const auto* t = c->token_of(auth.substr(7))) return c->identity_of(*t);
    return "token:invalid";
  }
  if (req.client_cert_verified) return "cert:" + (req.client_subject.empty() ? std::string("?") : req.client_subject);
  return c->open_reads ? "open" : "-";
}

bool api::still_allowed(const request& req, role needed) const {
  return !refuse_foreign_host(req) && !authorize(req, needed);
}

std::optional<response> api::authorize(const request& req, role needed) const {
  auto c = creds_.get();
  if (c->open_reads) return std::nullopt;
  if (req.client_cert_verified && needed == role::reader) return std::nullopt;
  std::string_view auth = req.authorization;
  if (auth.size() > 7 && lower(auth.substr(0, 7)) == "bearer ") {
    auto granted = c->role_of_token(auth.substr(7));
    if (!granted) {
      auto r = error_response(errc::unauthorized, "the bearer token is not valid");
      r.headers.emplace_back("WWW-Authenticate", "Bearer error=\"invalid_token\"");
      return r;
    }
    if (*granted < needed)
      return error_response(errc::forbidden, "role \"" + std::string(to_string(*granted)) +
                                                 "\" may not do this; \"" + std::string(to_string(needed)) +
                                                 "\" needed");
    return std::nullopt;
  }
  auto r = error_response(errc::unauthorized);
  r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

// One row of the route table.
struct api::route_row {
  std::string_view method;
  std::string_view pattern;
  access needs;
  handler serve;
  // The query parameters it takes, space-separated; any other is a 400
  // (never silently ignored: "as_of" on a plain stream read must not look
  // like an answer as of that time).
  std::string_view query = {};
  bool by_transport = false;  // route_info::by_transport
  bool answers_head = true;   // route_info::answers_head (never when by_transport)
};

// THE route table: every endpoint of docs/api.md and docs/openapi.yaml, once
// (tests/server/routes_test.cpp holds the three to each other). Dispatch,
// Allow headers and metrics labels all come from here; patterns match by the
// rules in routes.hpp, so row order matters only within a pattern (Allow order).
std::span<const api::route_row> api::table() {
  static constexpr route_row rows[] = {
      // Writes: the JWS signature is the authorisation.
      {"POST", "/v1/events", access::statement, &api::post_events},
      // Reads.
      {"GET", "/v1/events/{seq}", access::reader, &api::get_event},
      {"GET", "/v1/events/by-id/{event_id}", access::reader, &api::get_event_by_id},
      {"GET", "/v1/streams/{stream}", access::reader, &api::get_stream, "from direction limit"},
      {"GET", "/v1/streams/{stream}/state", access::reader, &api::get_stream_state, "as_of valid_at"},
      {"GET", "/v1/streams/{stream}/history", access::reader, &api::get_stream_history, "path as_of"},
      {"GET", "/v1/query", access::reader, &api::get_query,
       "type author stream prefix from_time to_time time limit cursor"},
      {"GET", "/v1/log/events", access::reader, &api::get_log_events, "from limit"},
      {"GET", "/v1/subscribe", access::reader, &api::served_by_transport, "from stream prefix type",
       true},  // SSE: open_subscription
      {"GET", "/v1/proofs/inclusion", access::reader, &api::get_inclusion_proof, "seq tree_size"},
      {"GET", "/v1/proofs/consistency", access::reader, &api::get_consistency_proof, "from to"},
      {"GET", "/v1/submitters", access::reader, &api::get_submitters},
      {"GET", "/v1/export", access::auditor, &api::get_export,
       "stream prefix from_seq to_seq from_time to_time since_size", false, false},  // a response::stream
      {"GET", "/v1/analytics", access::auditor, &api::get_analytics,
       "format type author stream prefix from_time to_time time", false, false},  // a response::stream
      // Public transparency-log endpoints. The two checkpoints are separate
      // routes: a C2SP signed note at the C2SP path, JSON under /v1.
      {"GET", "/v1/log", access::open, &api::get_log},
      {"GET", "/v1/checkpoint", access::open, &api::get_checkpoint_json},
      {"GET", "/checkpoint", access::open, &api::get_checkpoint_note},
      {"GET", "/tile/{L}/{N}", access::open, &api::get_tile},  // N: "x001/234[.p/5]", the rest of the path
      {"GET", "/tile/entries/{N}", access::open, &api::get_tile},
      // Operations.
      {"GET", "/healthz", access::open, &api::get_healthz},
      {"GET", "/readyz", access::open, &api::get_readyz},
      {"GET", "/metrics", access::admin, &api::get_metrics},
  };
  return rows;
}

std::string_view api::query_parameters(std::string_view method, std::string_view pattern) {
  for (const auto& r : table())
    if (r.method == method && r.pattern == pattern) return r.query;
  return {};
}

std::span<const route_info> api::routes() {
  static const std::vector<route_info> infos = [] {
    std::vector<route_info> out;
    for (const auto& r : table())
      out.push_back({r.method, r.pattern, r.needs, r.answers_head && !r.by_transport, r.by_transport,
                     std::string(r.method) + " " + std::string(r.pattern)});
    return out;
  }();
  return infos;
}

void api::handle(request req, std::function<void(response)> done) {
  std::string_view target = req.target;
  auto qpos = target.find('?');
  std::string_view path = target.substr(0, qpos);
  std::string_view query = qpos == std::string_view::npos ? std::string_view{} : target.substr(qpos + 1);
  bool async = false;
  // Wraps `done` so every answer is counted exactly once.
  std::function<void(response)> counted = [this, d = std::move(done), who = identity_of(req)](response r) {
    metrics_.count_request(r.route, r.status);
    if (r.identity.empty()) r.identity = who;
    d(std::move(r));
  };
  auto r = dispatch(req, path, query, counted, async);
  if (!async) counted(std::move(r));
}

// Order of refusals: malformed query (400), unknown path (404), wrong method
// (405), missing or weak credentials (401/403); then the handler.
response api::dispatch(const request& req, std::string_view path, std::string_view query,
                       std::function<void(response)>& done, bool& async) {
  auto labelled = [](response r, std::string_view label) {
    r.route = std::string(label);
    return r;
  };
  auto q = parse_query(query);
  if (!q.ok)
    return labelled(error_response(errc::bad_request, q.problem), unknown_route_label);
  if (auto refused = refuse_foreign_host(req)) return labelled(std::move(*refused), unknown_route_label);
  const auto infos = routes();
  auto m = match_route(infos, req.method, path);
  if (m.result == route_match::outcome::unknown) return labelled(not_found(), unknown_route_label);
  const auto& info = infos[m.row];
  if (m.result == route_match::outcome::wrong_method) return labelled(method_not_allowed(m.allow), info.label);
  const auto needed = required_role(info.needs);
  if (needed && !info.by_transport)
    if (auto denied = authorize(req, *needed)) return labelled(std::move(*denied), info.label);
  if (auto unknown = unknown_parameter(q, table()[m.row].query))
    return labelled(error_response(errc::bad_request, "unknown query parameter \"" + *unknown + "\""), info.label);
  const call c{req, path, m.params, q, info.label, done, async};
  auto r = labelled((this->*table()[m.row].serve)(c), info.label);
  r.requires_role = needed;
  return r;
}

}  // namespace vellum::server
