#pragma once
// Part of the session (http_session.hpp): GET /v1/subscribe served as
// Server-Sent Events. Included only by http_session.cpp, which instantiates
// the session once per stream type.
//
// The api decides what to send (api::sse_head, api::sse_next: catch-up one
// ledger page at a time, then each commit as it comes, an `overflow` or
// `error` event to end); this file only moves it to the socket: it writes
// the head, asks for the next step whenever it is idle and woken (through
// srv.subscribers on each commit), and sends a comment every 15 s so proxies
// do not time the stream out. The response is delimited by closing the
// connection.

#include "server/http_session.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

namespace vellum::server {

template <class Stream>
void http_session<Stream>::start_sse(subscription sub, std::string identity) {
  sub_ = std::move(sub);
  open_identity_ = identity;
  const auto head = api::sse_head(sub_);
  log_stream_opened({.remote = remote_,
                     .method = method_,
                     .path = target_,
                     .route = head.route,
                     .identity = identity,
                     .status = head.status});
  srv_.subscribers.add(std::static_pointer_cast<session_handle>(this->shared_from_this()));
  sse_send(open_ended_head(head) + head.body, false);
  arm_heartbeat();
}

template <class Stream>
void http_session<Stream>::arm_heartbeat() {
  sse_timer_.expires_after(std::chrono::seconds(15));
  sse_timer_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
    if (ec || self->phase_ == phase::closed) return;
    if (self->phase_ == phase::sse_idle) self->sse_send(std::string(api::sse_heartbeat), false);
    self->arm_heartbeat();
  });
}

// Writes `text`; then closes if it was the last, else asks for more. Strand only.
template <class Stream>
void http_session<Stream>::sse_send(std::string text, bool last) {
  phase_ = last ? phase::sse_finishing : phase::sse_writing;
  auto buf = std::make_shared<std::string>(std::move(text));
  lowest().expires_after(std::chrono::milliseconds(lim().read_timeout_ms));
  net::async_write(stream_, net::buffer(*buf), [self = this->shared_from_this(), buf](beast::error_code ec, std::size_t) {
    self->lowest().expires_never();
    if (ec || self->phase_ == phase::sse_finishing) return self->close();
    self->phase_ = phase::sse_idle;
    self->sse_pump();
  });
}

// Sends the subscription's next step if the session is idle. Strand only.
template <class Stream>
void http_session<Stream>::sse_pump() {
  if (phase_ != phase::sse_idle) return;
  auto step = srv_.handler->sse_next(sub_);
  if (!step.text.empty()) return sse_send(std::move(step.text), step.last);
  // Nothing matched on this page: continue later without starving the strand.
  if (step.more) net::post(stream_.get_executor(), [self = this->shared_from_this()] { self->sse_pump(); });
}

}  // namespace vellum::server
