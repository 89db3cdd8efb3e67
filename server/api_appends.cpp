// The api's write handlers: POST /v1/events, one statement or an NDJSON batch,
// validated (server/validation.hpp) and handed to the sequencer; the answer
// comes when the batch commits.

#include "server/api_support.hpp"

#include "server/validation.hpp"

#include <algorithm>
#include <mutex>

namespace vellum::server {

using namespace api_support;

namespace {

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

}  // namespace

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
  auto v = validate_statement(body, *creds, clock_(), ledger_.origin());
  if (!v) return error_response(v.error());
  auto received = req.received;
  auto finish = [this, done = c.done, received, label = std::string(c.label),
                 who = "kid:" + v->kid](const ledger::append_outcome& o) {
    auto r = outcome_response(o);
    r.route = label;
    r.identity = who;
    metrics_.observe_append_latency(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - received).count());
    done(std::move(r));
  };
  auto sub = sequencer_.submit(std::move(*v), [finish, hop = req.run_on_io](ledger::append_outcome o) {
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
    std::string identity;  // "kid:a,b": the keys that signed the batch's valid statements
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
    r.identity = state->identity;
    metrics_.observe_append_latency(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - received).count());
    state->done(std::move(r));
  };
  auto error_entry = [](std::size_t i, const status& e) {
    json::object o;
    o["index"] = i;
    o["status"] = classify(e).status;
    o["error"] = error_object(api_error{e, {}, {}});
    return o;
  };

  auto creds = creds_.get();
  auto now = clock_();
  // Validate everything first (on this I/O thread) so the sequencer sees the
  // batch's statements back to back, in line order.
  std::vector<validation_result> checked;
  checked.reserve(lines.size());
  for (auto line : lines) checked.push_back(validate_statement(line, *creds, now, ledger_.origin()));
  std::vector<std::string> kids;
  for (const auto& v : checked)
    if (v && std::find(kids.begin(), kids.end(), v->kid) == kids.end()) kids.push_back(v->kid);
  for (const auto& k : kids) state->identity += (state->identity.empty() ? "kid:" : ",") + k;
  c.async = true;
  for (std::size_t i = 0; i < checked.size(); ++i) {
    if (!checked[i]) {
      complete_one(i, error_entry(i, checked[i].error()));
      continue;
    }
    auto sub = sequencer_.submit(std::move(*checked[i]), [complete_one, i, hop = req.run_on_io](
                                                                   ledger::append_outcome o) {
      if (hop)
        hop([complete_one, i, o = std::move(o)] { complete_batch_entry(complete_one, i, o); });
      else
        complete_batch_entry(complete_one, i, o);
    });
    if (!sub) complete_one(i, error_entry(i, sub.error()));
  }
  return {};
}

}  // namespace vellum::server
