#pragma once
// The server's log on stderr, one JSON object per line: the access log (one
// line per answered request, batched by request_log) and one-off lines
// (start-up, shutdown, streams opened, failures) written at once.

#include <boost/json/object.hpp>

#include <chrono>
#include <mutex>
#include <string>
#include <string_view>

namespace vellum::server {

// Writes one JSON line on stderr at once, with a single fwrite so lines never
// interleave. Thread-safe.
void log_line(const boost::json::object& o);

// log_line of {"time", "level", "msg"} with the current time.
void log_message(std::string_view level, std::string_view msg);
// The same with more members after "msg" (say "remote", "reason").
void log_message(std::string_view level, std::string_view msg, const boost::json::object& detail);

// What the access log records of one answered request.
struct access_entry {
  std::string_view remote;  // "address:port" of the client ("?" if unknown)
  std::string_view method;  // as received ("?" if the request did not parse)
  std::string_view path;    // the target without its query (the query may hold names)
  std::string_view route;   // route template, e.g. "GET /v1/events/{seq}"
  std::string_view identity;  // who asked (response::identity; "-" if unknown)
  unsigned status = 0;
  std::chrono::microseconds duration{0};  // from the request's header to its answer
  std::size_t bytes = 0;                  // body bytes sent
};

// Logs at once that a long answer began (SSE, streamed body): its head was
// queued; duration and bytes are not known yet and not logged.
void log_stream_opened(const access_entry& e);

// The access log line of `e` (newline included): valid JSON whatever bytes
// the client sent, as every string is escaped to printable ASCII.
std::string access_line(const access_entry& e);

// The per-request log: lines are collected and written with one write(2)
// when 32 KiB have gathered and at least every 200 ms (flush timer in
// http_server::run), instead of one write per request. Thread-safe.
class request_log {
 public:
  void add(std::string_view line);
  void flush();

 private:
  void flush_locked();
  std::mutex mutex_;
  std::string buf_;
};

}  // namespace vellum::server
