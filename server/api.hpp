#pragma once
// The request handler of vellumd: a plain function from an HTTP request to an
// HTTP response, independent of the transport (server/http.cpp owns Beast).
// Endpoints, content types and errors: docs/api.md, docs/openapi.yaml.

#include "ledger/export.hpp"
#include "ledger/ledger.hpp"
#include "server/config.hpp"
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
  std::string body;
  bool client_cert_verified = false;  // TLS client certificate verified against client_ca_file
  std::chrono::steady_clock::time_point received = std::chrono::steady_clock::now();
  // Optional: runs a function on the transport's I/O executor. When set,
  // append completions build their response (receipt JSON) there instead
  // of on the sequencer's committing thread.
  std::function<void(std::function<void()>)> run_on_io;
};

struct response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  std::string route;  // route template for metrics and logs, e.g. "GET /v1/events/{seq}"
};

// A parsed GET /v1/subscribe request (Server-Sent Events).
struct subscription {
  std::uint64_t from = 0;  // first seq to send
  std::string stream;      // exact stream filter ("" = any)
  std::string prefix;      // stream prefix filter
  std::string type;        // event type filter
  bool matches(const ledger::stored_event& e) const;
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
  // ("other" for unknown paths). GET /v1/subscribe and GET /v1/export are
  // served by the transport (see open_subscription, open_export).
  void handle(request req, std::function<void(response)> done);

  // The route table: one row per (method, pattern), in table order, with the
  // access it needs and its metrics label. Valid for the process's lifetime;
  // the same for every api. Matching rules: routes.hpp.
  static std::span<const route_info> routes();

  // True if the request is GET /v1/subscribe (served as SSE by the transport).
  static bool is_subscribe(const request& req);
  // Checks authorisation and parses from/stream/prefix/type (+ Last-Event-ID,
  // which wins over from: the stream resumes after that id). Returns the
  // subscription, or the error response to send instead.
  std::variant<subscription, response> open_subscription(const request& req) const;
  // True if the request is GET /v1/export (a sealed export, streamed by the
  // transport from ledger::write_export on a worker thread).
  static bool is_export(const request& req);
  // Checks authorisation (auditor or admin: exports hold medical records)
  // and turns the query (stream | prefix | from_seq+to_seq | from_time+to_time,
  // optional since_size; docs/api.md) into a validated export request whose
  // key_pem looks kids up in the current submitter registry. Returns the
  // request, or the error response to send instead.
  std::variant<ledger::export_request, response> open_export(const request& req) const;
  // One SSE message for an event ("id: <seq>\nevent: event\ndata: <json>\n\n").
  static std::string sse_event(const ledger::stored_event& e);

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

  // Route handlers (one per table row; method and access already checked).
  response post_events(const call& c);
  response append_batch(const call& c);
  response get_event(const call& c);
  response get_event_by_id(const call& c);
  response get_stream(const call& c);
  response get_log_events(const call& c);
  response get_inclusion_proof(const call& c);
  response get_consistency_proof(const call& c);
  response get_submitters(const call& c);
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
