// The request handler (see api.hpp and docs/api.md).

#include "server/api.hpp"

#include "crypto/encoding.hpp"
#include "crypto/ijson.hpp"
#include "crypto/jws.hpp"
#include "crypto/leaf_entry.hpp"
#include "crypto/tile.hpp"
#include "server/validation.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <mutex>

namespace vellum::server {
namespace {

namespace json = boost::json;

constexpr std::size_t default_page = 100;
constexpr std::size_t max_page = 1000;

response json_response(unsigned status, const json::value& v) {
  response r;
  r.status = status;
  r.body = json::serialize(v);
  return r;
}

std::string b64(byte_view b) { return crypto::base64_encode(b); }

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  if (s.empty() || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding; '+' stays '+' (paths and our query values never use form encoding).
std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

// Query parameters; later duplicates are refused by the callers through `dup`.
struct query_params {
  std::vector<std::pair<std::string, std::string>> items;
  bool ok = true;
  const std::string* get(std::string_view name) const {
    for (const auto& kv : items)
      if (kv.first == name) return &kv.second;
    return nullptr;
  }
};

query_params parse_query(std::string_view q) {
  query_params out;
  while (!q.empty()) {
    auto amp = q.find('&');
    auto part = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
    if (part.empty()) continue;
    auto eq = part.find('=');
    auto k = percent_decode(part.substr(0, eq));
    auto v = percent_decode(eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1));
    if (!k || !v || out.get(*k)) {
      out.ok = false;
      return out;
    }
    out.items.emplace_back(std::move(*k), std::move(*v));
  }
  return out;
}

// Reads an optional unsigned query parameter; returns false (and sets err) if malformed.
bool u64_param(const query_params& q, std::string_view name, std::optional<std::uint64_t>& out,
               std::optional<response>& err) {
  const auto* v = q.get(name);
  if (!v) return true;
  out = parse_u64(*v);
  if (!out) {
    err = error_response(errc::bad_request, std::string(name) + ": must be a non-negative decimal integer");
    return false;
  }
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// The media type without parameters, lower-case, trimmed.
std::string media_type(std::string_view ct) {
  auto semi = ct.find(';');
  auto t = ct.substr(0, semi);
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  return lower(t);
}

json::array hashes_json(const std::vector<crypto::hash>& hs) {
  json::array a;
  for (const auto& h : hs) a.emplace_back(b64(h));
  return a;
}

json::object append_error_json(const ledger::append_outcome& o) {
  api_error e{o.error, {}, {}};
  if (o.error == ledger::errc::revision_conflict) {
    e.message = "expected_revision does not match the stream";
    if (o.current_revision)
      e.extra["current_revision"] = *o.current_revision;
    else
      e.extra["current_revision"] = nullptr;
  } else if (o.error == ledger::errc::event_id_conflict) {
    e.message = "event_id was already used by a different statement";
  }
  return error_object(e);
}

response outcome_response(const ledger::append_outcome& o) {
  if (o.error) {
    auto kind = classify(o.error);
    response r;
    r.status = kind.status;
    json::object body;
    body["error"] = append_error_json(o);
    r.body = json::serialize(body);
    if (kind.retry_after) r.headers.emplace_back("Retry-After", "1");
    return r;
  }
  auto r = json_response(o.duplicate ? 200 : 201, o.rcpt.to_json());
  r.headers.emplace_back("Location", "/v1/events/" + std::to_string(o.rcpt.seq));
  return r;
}

response not_found(std::string message = "no such resource") {
  return error_response(errc::not_found, std::move(message));
}

response method_not_allowed(std::string_view allow) {
  auto r = error_response(errc::method_not_allowed);
  r.headers.emplace_back("Allow", std::string(allow));
  return r;
}

response ledger_error(const status& ec, std::string message = {}) {
  return error_response(ec, std::move(message));
}

}  // namespace

bool subscription::matches(const ledger::stored_event& e) const {
  if (!stream.empty() && e.stream != stream) return false;
  if (!prefix.empty() && !e.stream.starts_with(prefix)) return false;
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
    : ledger_(led), sequencer_(seq), creds_(creds), metrics_(m), limits_(lim), clock_(std::move(clock)) {}

bool api::is_subscribe(const request& req) {
  std::string_view t = req.target;
  return req.method == "GET" && t.substr(0, t.find('?')) == "/v1/subscribe";
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

std::variant<subscription, response> api::open_subscription(const request& req) const {
  auto fail = [](response r) {
    r.route = "GET /v1/subscribe";
    return r;
  };
  if (auto denied = authorize(req, role::reader)) return fail(std::move(*denied));
  std::string_view t = req.target;
  auto qpos = t.find('?');
  auto q = parse_query(qpos == std::string_view::npos ? std::string_view{} : t.substr(qpos + 1));
  if (!q.ok) return fail(error_response(errc::bad_request, "malformed or repeated query parameter"));
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
  sse_step step;
  for (const auto& e : *page) {
    if (s.matches(e)) step.text += sse_event(e);
    s.cursor = e.seq + 1;
  }
  step.more = step.text.empty();  // nothing matched on this page: the next one may
  return step;
}

std::string api::sse_event(const ledger::stored_event& e) {
  return "id: " + std::to_string(e.seq) + "\nevent: event\ndata: " + json::serialize(event_json(e)) + "\n\n";
}

// What a route's handler gets.
struct api::call {
  const request& req;
  std::string_view path;                         // the target without its query
  const std::vector<std::string_view>& params;   // the pattern's {params}, in order (routes.hpp)
  const query_params& query;
  std::string_view label;                        // the route's metrics label
  std::function<void(response)>& done;           // a handler that answers later calls this...
  bool& async;                                   // ...and sets this
};

// One row of the route table.
struct api::route_row {
  std::string_view method;
  std::string_view pattern;
  access needs;
  handler serve;
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
      {"GET", "/v1/streams/{stream}", access::reader, &api::get_stream},
      {"GET", "/v1/log/events", access::reader, &api::get_log_events},
      {"GET", "/v1/subscribe", access::reader, &api::served_by_transport, true},  // SSE: open_subscription
      {"GET", "/v1/proofs/inclusion", access::reader, &api::get_inclusion_proof},
      {"GET", "/v1/proofs/consistency", access::reader, &api::get_consistency_proof},
      {"GET", "/v1/submitters", access::reader, &api::get_submitters},
      {"GET", "/v1/export", access::auditor, &api::get_export, false, false},  // a response::stream
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
  std::function<void(response)> counted = [this, d = std::move(done)](response r) {
    metrics_.count_request(r.route, r.status);
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
    return labelled(error_response(errc::bad_request, "malformed or repeated query parameter"), unknown_route_label);
  const auto infos = routes();
  auto m = match_route(infos, req.method, path);
  if (m.result == route_match::outcome::unknown) return labelled(not_found(), unknown_route_label);
  const auto& info = infos[m.row];
  if (m.result == route_match::outcome::wrong_method) return labelled(method_not_allowed(m.allow), info.label);
  if (auto needed = required_role(info.needs); needed && !info.by_transport)
    if (auto denied = authorize(req, *needed)) return labelled(std::move(*denied), info.label);
  const call c{req, path, m.params, q, info.label, done, async};
  return labelled((this->*table()[m.row].serve)(c), info.label);
}

// --- handlers, in table order (each may assume method and access checked) ---

response api::get_event(const call& c) {
  auto seq = parse_u64(c.params[0]);
  if (!seq) return not_found("not an event seq");
  auto e = ledger_.event_by_seq(*seq);
  if (!e) return ledger_error(e.error(), "no event with this seq");
  return json_response(200, event_json(*e));
}

response api::get_event_by_id(const call& c) {
  auto id = c.params[0];
  if (!is_canonical_uuid(id)) return not_found("not a canonical UUID");
  auto e = ledger_.event_by_id(id);
  if (!e) return ledger_error(e.error(), "no event with this event_id");
  return json_response(200, event_json(*e));
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
    for (const auto& e : *evs) events.push_back(event_json(e));
    if (!evs->empty() && evs->size() == n) {
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
  json::array events;
  for (const auto& e : *evs) events.push_back(event_json(e));
  json::object o;
  o["events"] = std::move(events);
  auto size = ledger_.tree_size();
  o["tree_size"] = size;
  o["next"] = (!evs->empty() && evs->back().seq + 1 < size) ? json::value(evs->back().seq + 1) : json::value(nullptr);
  return json_response(200, o);
}

std::variant<ledger::export_request, response> api::export_request_of(const call& c) const {
  const auto& q = c.query;
  for (const auto& kv : q.items) {
    static constexpr std::string_view known[] = {"stream",  "prefix",    "from_seq",  "to_seq",
                                                 "from_time", "to_time", "since_size"};
    if (std::find(std::begin(known), std::end(known), kv.first) == std::end(known))
      return error_response(errc::bad_request, "unknown query parameter \"" + kv.first + "\"");
  }
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
  response r;
  r.content_type = "application/x-ndjson";
  r.headers = {{"Cache-Control", "no-store"},
               {"Content-Disposition", "attachment; filename=\"vellum-export.ndjson\""}};
  r.stream = [&led = ledger_, req = std::get<ledger::export_request>(std::move(parsed))](
                 const byte_sink& out) -> vellum::status {
    auto written = ledger::write_export(led, req, out);
    if (written) return {};
    // A selection the ledger refuses is the client's error; anything else is ours.
    if (written.error() == ledger::errc::invalid_argument) return {errc::bad_request, written.error().message()};
    return vellum::status(written.error().code(), "export failed: " + written.error().message());
  };
  return r;
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

response api::get_readyz(const call&) {
  if (draining_.load()) return error_response(errc::unavailable, "draining");
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
response api::post_events(const call& c) {
  const auto& req = c.req;
  auto mt = media_type(req.content_type);
  if (mt == content_type_batch) return append_batch(c);
  if (mt != content_type_jws)
    return error_response(errc::unsupported_media_type,
                          "POST /v1/events takes Content-Type application/jose (one JWS) or "
                          "application/x-ndjson (one JWS per line)");
  if (draining_.load()) return error_response(ledger::errc::shutting_down, "the server is shutting down");
  std::string_view body = req.body;
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.remove_suffix(1);
  auto creds = creds_.get();
  auto v = validate_statement(body, *creds, clock_());
  if (!v) return error_response(v.error);
  auto received = req.received;
  auto finish = [this, done = c.done, received, label = std::string(c.label)](const ledger::append_outcome& o) {
    auto r = outcome_response(o);
    r.route = label;
    metrics_.observe_append_latency(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - received).count());
    done(std::move(r));
  };
  auto sub = sequencer_.submit(std::move(*v.stmt), [finish, hop = req.run_on_io](ledger::append_outcome o) {
    // Keep the committing thread free of per-event JSON work.
    if (hop)
      hop([finish, o = std::move(o)] { finish(o); });
    else
      finish(o);
  });
  if (!sub) return error_response(sub.error(), sub.error() == ledger::errc::overloaded
                                                   ? "the sequencer queue is full; retry later"
                                                   : "the server is shutting down");
  c.async = true;
  return {};
}

namespace {

// One batch line's result from its append outcome.
template <class Complete>
void complete_batch_entry(const Complete& complete_one, std::size_t i, const ledger::append_outcome& o) {
  json::object entry;
  entry["index"] = i;
  if (o.error) {
    entry["status"] = classify(o.error).status;
    entry["error"] = append_error_json(o);
  } else {
    entry["status"] = o.duplicate ? 200 : 201;
    entry["receipt"] = o.rcpt.to_json();
  }
  complete_one(i, std::move(entry));
}

}  // namespace

response api::append_batch(const call& c) {
  const auto& req = c.req;
  if (draining_.load()) return error_response(ledger::errc::shutting_down, "the server is shutting down");
  std::vector<std::string_view> lines;
  std::string_view body = req.body;
  while (!body.empty()) {
    auto nl = body.find('\n');
    auto line = body.substr(0, nl);
    body = nl == std::string_view::npos ? std::string_view{} : body.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    lines.push_back(line);
  }
  if (lines.empty()) return error_response(errc::bad_request, "the batch holds no JWS lines");
  if (lines.size() > limits_.max_batch_events)
    return error_response(errc::batch_too_large,
                          "at most " + std::to_string(limits_.max_batch_events) + " events per batch");

  struct batch_state {
    std::mutex mutex;
    json::array results;
    std::size_t remaining = 0;
    std::function<void(response)> done;
  };
  auto state = std::make_shared<batch_state>();
  state->done = c.done;
  state->remaining = lines.size();
  for (std::size_t i = 0; i < lines.size(); ++i) state->results.emplace_back(nullptr);
  auto received = req.received;
  auto complete_one = [this, state, received, label = std::string(c.label)](std::size_t i, json::object entry) {
    std::unique_lock lock(state->mutex);
    state->results[i] = std::move(entry);
    if (--state->remaining != 0) return;
    json::object out;
    out["results"] = std::move(state->results);
    lock.unlock();
    auto r = json_response(200, out);
    r.route = label;
    metrics_.observe_append_latency(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - received).count());
    state->done(std::move(r));
  };
  auto error_entry = [](std::size_t i, const api_error& e) {
    json::object o;
    o["index"] = i;
    o["status"] = classify(e.code).status;
    o["error"] = error_object(e);
    return o;
  };

  auto creds = creds_.get();
  auto now = clock_();
  // Validate everything first (on this I/O thread) so the sequencer sees the
  // batch's statements back to back, in line order.
  std::vector<validation_result> checked;
  checked.reserve(lines.size());
  for (auto line : lines) checked.push_back(validate_statement(line, *creds, now));
  c.async = true;
  for (std::size_t i = 0; i < checked.size(); ++i) {
    if (!checked[i]) {
      complete_one(i, error_entry(i, checked[i].error));
      continue;
    }
    auto sub = sequencer_.submit(std::move(*checked[i].stmt), [complete_one, i, hop = req.run_on_io](
                                                                   ledger::append_outcome o) {
      if (hop)
        hop([complete_one, i, o = std::move(o)] { complete_batch_entry(complete_one, i, o); });
      else
        complete_batch_entry(complete_one, i, o);
    });
    if (!sub) complete_one(i, error_entry(i, api_error{sub.error(), {}, {}}));
  }
  return {};
}

}  // namespace vellum::server
