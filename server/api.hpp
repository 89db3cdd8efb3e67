#pragma once
// The request handler of vellumd: a plain function from an HTTP request to an
// HTTP response, independent of the transport (server/http.cpp owns Beast).
// Endpoints, content types and errors: docs/api.md, docs/openapi.yaml.

#include "base/sink.hpp"
#include "base/status.hpp"
#include "ledger/export.hpp"
#include "ledger/ledger.hpp"
#include "server/config.hpp"
#include "server/per_client.hpp"
#include "server/errors.hpp"
#include "server/metrics.hpp"
#include "server/routes.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace vellum::server {

// Content types of POST /v1/events.
inline constexpr std::string_view content_type_jws = "application/jose";      // one compact JWS
inline constexpr std::string_view content_type_batch = "application/x-ndjson";  // one JWS per line

struct request {
  std::string method;          // "GET", "POST", ...
  std::string target;          // path and query, as received
  std::string content_type;    // Content-Type header ("" if absent)
  std::string authorization;   // Authorization header
  std::string last_event_id;   // Last-Event-ID header (SSE)
  std::string host;            // Host header
  std::string body;
  bool client_cert_verified = false;  // TLS client certificate verified against client_ca_file
  std::string client_subject;         // that certificate's subject (one line), if verified
  std::string client_address;         // the peer's IP address ("" if unknown): per-client limits
  std::chrono::steady_clock::time_point received = std::chrono::steady_clock::now();
  // Optional: runs a function on the transport's I/O executor. When set,
  // append completions build their response (receipt JSON) there instead
  // of on the sequencer's committing thread.
  std::function<void(std::function<void()>)> run_on_io;
};

// A body made while it is sent (a sealed export): the transport runs it on a
// worker thread and it writes the body through `out`, in order; `out` blocks
// while the client is slow (bounded memory) and returns false once the
// client went away, and the producer then stops. It returns success or why it
// failed: before its first chunk the transport answers error_response(that
// status) instead; after it the body is cut short and the failure logged.
// Producers hold no HTTP types, the transport holds no ledger types.
using body_producer = std::function<vellum::status(const byte_sink& out)>;

struct response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  std::string route;  // route template for metrics and logs, e.g. "GET /v1/events/{seq}"
  // Who asked, for the access log: "token:<name>", "cert:<subject>",
  // "kid:<kid>" (appends: the signing keys), "open" (demo mode, public
  // endpoints) or "-" (no credentials given).
  std::string identity;
  // Set: the body is `stream`'s output (`body` is unused), sent after the
  // status, content type and headers above, delimited by closing the connection.
  body_producer stream;
  // The role the answer needed (unset: a public route). A streamed body and
  // a subscription keep it, so that a reload that takes the role away ends
  // them (api::still_allowed).
  std::optional<role> requires_role;
};

// A GET /v1/subscribe request (Server-Sent Events) and how far it got.
struct subscription {
  std::uint64_t from = 0;  // first seq to send
  std::string stream;      // exact stream filter ("" = any)
  std::string prefix;      // stream prefix filter
  std::string type;        // event type filter
  // Progress, kept by api::sse_next.
  std::uint64_t cursor = 0;  // next seq to look at (starts at from)
  bool caught_up = false;    // reached the tree size once: lagging too far is now an overflow
  bool matches(const ledger::stored_event& e) const;
};

// What a subscription sends next (api::sse_next).
struct sse_step {
  std::string text;   // SSE messages to send now ("" = nothing yet)
  bool last = false;  // after `text` the stream ends (overflow, read error)
  bool more = false;  // `text` is empty but more may be ready: ask again soon
};

class api {
 public:
  using clock_fn = std::function<std::uint64_t()>;  // µs since epoch, for key validity

  // All references must outlive the api. Thread-safe: handle() may run on
  // many threads at once.
  api(ledger::ledger& led, ledger::sequencer& seq, credentials_store& creds, metrics& m,
      limits lim, clock_fn clock = ledger::system_clock_us);

  // Handles one request by the route table (routes()): 400 for a malformed
  // query, 404 for a path no route claims, 405 with Allow for a known path and
  // another method, 401/403 for missing or weak credentials, else the route's
  // answer. `done` is called exactly once: synchronously for
  // reads and refusals, later for appends: through req.run_on_io if set,
  // else on the sequencer's committing thread (the caller moves the response back to its
  // own executor). Counts the request in the metrics under its route's label
  // ("other" for unknown paths). GET /v1/export answers with a
  // response::stream. GET /v1/subscribe is served by the transport (see
  // open_subscription).
  void handle(request req, std::function<void(response)> done);

  // The route table: one row per (method, pattern), in table order, with the
  // access it needs and its metrics label. Valid for the process's lifetime;
  // the same for every api. Matching rules: routes.hpp.
  static std::span<const route_info> routes();
  // The query parameters a route takes, space-separated (any other is a 400).
  static std::string_view query_parameters(std::string_view method, std::string_view pattern);

  // True if the request is GET /v1/subscribe (served as SSE by the transport).
  static bool is_subscribe(const request& req);
  // Checks authorisation and parses from/stream/prefix/type (+ Last-Event-ID,
  // which wins over from: the stream resumes after that id). Returns the
  // subscription, or the error response to send instead.
  std::variant<subscription, response> open_subscription(const request& req) const;
  // The head of a subscription's answer: 200 text/event-stream, not cached
  // nor buffered by proxies; its body is the opening comment.
  static response sse_head(const subscription& s);
  // What `s` sends next: the events it has not seen yet, one ledger page at a
  // time and at most limits.max_page_bytes of messages (one event at least),
  // while it catches up; then nothing until a commit (the transport asks
  // again when woken). A subscriber that was caught up and falls more than
  // limits.sse_max_buffered_events behind gets a last `overflow` event; a read
  // error gives a last `error` event. Both carry resume_from. Advances s.cursor.
  sse_step sse_next(subscription& s) const;
  // Whether `req`'s credentials still grant `needed` under the current
  // credentials (after a reload): what an open subscription or export asks
  // when the configuration changes.
  bool still_allowed(const request& req, role needed) const;
  // How the access log names who sent `req` (see response::identity).
  std::string identity_of(const request& req) const;
  // One SSE message for an event ("id: <seq>\nevent: event\ndata: <json>\n\n").
  static std::string sse_event(const ledger::stored_event& e);
  // The SSE comment that keeps proxies from timing an idle stream out.
  static constexpr std::string_view sse_heartbeat = ": keep-alive\n\n";

  // While draining, /readyz answers 503 and appends are refused (503).
  void set_draining() { draining_.store(true); }

  const limits& lims() const { return limits_; }
  metrics& stats() { return metrics_; }

 private:
  struct call;       // what a handler gets (api.cpp)
  struct route_row;  // one row of the table (api.cpp)
  using handler = response (api::*)(const call&);
  static std::span<const route_row> table();

  response dispatch(const request& req, std::string_view path, std::string_view query,
                    std::function<void(response)>& done, bool& async);
  std::optional<response> authorize(const request& req, role needed) const;
  // In demo mode (reads open) only a loopback Host is answered: a web page
  // that rebinds its own name to 127.0.0.1 must not read or write the log.
  std::optional<response> refuse_foreign_host(const request& req) const;
  // GET /v1/export's query as a validated export request (or the 400).
  std::variant<ledger::export_request, response> export_request_of(const call& c) const;

  // Route handlers (one per table row; method and access already checked).
  response post_events(const call& c);
  response append_batch(const call& c);
  response get_event(const call& c);
  response get_event_by_id(const call& c);
  response get_stream(const call& c);
  response get_stream_state(const call& c);
  response get_stream_history(const call& c);
  response get_query(const call& c);
  response get_log_events(const call& c);
  response get_inclusion_proof(const call& c);
  response get_consistency_proof(const call& c);
  response get_submitters(const call& c);
  response get_export(const call& c);
  response get_analytics(const call& c);
  response served_by_transport(const call& c);
  response get_log(const call& c);
  response get_checkpoint_json(const call& c);
  response get_checkpoint_note(const call& c);
  response get_tile(const call& c);
  response get_healthz(const call& c);
  response get_readyz(const call& c);
  response get_metrics(const call& c);

  ledger::ledger& ledger_;
  ledger::sequencer& sequencer_;
  credentials_store& creds_;
  metrics& metrics_;
  limits limits_;
  per_client_limit expensive_;  // exports and analytics exports per client address
  clock_fn clock_;
  std::atomic<bool> draining_{false};
};

// JSON of a stored event as readers get it (payload decoded for convenience).
boost::json::object event_json(const ledger::stored_event& e);

// An error response with the JSON error body (status from classify()).
response error_response(const api_error& e);
inline response error_response(status code, std::string message = {}) {
  return error_response(api_error{code, std::move(message), {}});
}

}  // namespace vellum::server
