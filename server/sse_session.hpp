#pragma once
// Part of the session (http_session.hpp): GET /v1/subscribe served as
// Server-Sent Events. Included only by http_session.cpp, which instantiates
// the session once per stream type.
//
// After the 200 head the session sends what the subscriber has not seen yet,
// one page of the ledger at a time (catch-up), then each commit as it comes
// (live, woken through srv.subscribers). A live subscriber that falls more
// than limits.sse_max_buffered_events behind gets an `overflow` event and is
// closed; a read error ends the stream with an `error` event. A comment line
// every 15 s keeps proxies from timing the stream out. The response is
// delimited by closing the connection.

#include "crypto/leaf_entry.hpp"
#include "server/http_session.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/serialize.hpp>

namespace vellum::server {

template <class Stream>
void http_session<Stream>::start_sse(subscription sub) {
  sub_ = std::move(sub);
  cursor_ = sub_.from;
  sse_ = true;
  std::string head =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
      "X-Accel-Buffering: no\r\nConnection: close\r\n\r\n: vellum subscription from seq " +
      std::to_string(cursor_) + "\n\n";
  log_line({{"time", crypto::format_time_us(ledger::system_clock_us())}, {"remote", remote_},
            {"method", method_}, {"path", target_}, {"route", "GET /v1/subscribe"}, {"status", 200}});
  srv_.subscribers.add(std::static_pointer_cast<session_handle>(this->shared_from_this()));
  sse_send(std::move(head));
  arm_heartbeat();
}

template <class Stream>
void http_session<Stream>::arm_heartbeat() {
  sse_timer_.expires_after(std::chrono::seconds(15));
  sse_timer_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
    if (ec || self->closed_) return;
    if (!self->writing_) self->sse_send(": keep-alive\n\n");
    self->arm_heartbeat();
  });
}

template <class Stream>
void http_session<Stream>::sse_send(std::string text) {
  writing_ = true;
  auto buf = std::make_shared<std::string>(std::move(text));
  lowest().expires_after(std::chrono::milliseconds(lim().read_timeout_ms));
  net::async_write(stream_, net::buffer(*buf), [self = this->shared_from_this(), buf](beast::error_code ec, std::size_t) {
    self->writing_ = false;
    self->lowest().expires_never();
    if (ec || self->finishing_) {
      self->closed_ = true;
      return self->close();
    }
    self->sse_pump();
  });
}

// Sends what the subscriber has not seen yet, one page at a time; runs on the strand.
template <class Stream>
void http_session<Stream>::sse_pump() {
  if (!sse_ || writing_ || closed_) return;
  const std::uint64_t size = srv_.led->tree_size();
  if (cursor_ >= size) {
    live_ = true;  // caught up: from now on, lagging too far is an overflow
    return;
  }
  if (live_ && size - cursor_ > lim().sse_max_buffered_events) {
    finishing_ = true;
    boost::json::object o{{"reason", "consumer too slow"}, {"resume_from", cursor_}};
    return sse_send("event: overflow\ndata: " + boost::json::serialize(o) + "\n\n");
  }
  auto page = srv_.led->read_all(cursor_, 256);
  if (!page) {
    finishing_ = true;
    boost::json::object o{{"reason", page.error().message()}, {"resume_from", cursor_}};
    return sse_send("event: error\ndata: " + boost::json::serialize(o) + "\n\n");
  }
  if (page->empty()) {
    live_ = true;
    return;
  }
  std::string text;
  for (const auto& e : *page) {
    if (sub_.matches(e)) text += api::sse_event(e);
    cursor_ = e.seq + 1;
  }
  if (text.empty()) {
    // Nothing matched on this page: continue later without starving the strand.
    net::post(stream_.get_executor(), [self = this->shared_from_this()] { self->sse_pump(); });
    return;
  }
  sse_send(std::move(text));
}

}  // namespace vellum::server
