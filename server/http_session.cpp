// The HTTP session's request/response loop (see http_session.hpp), and the
// one translation unit that instantiates the session: its SSE and streaming
// parts are included below.

#include "server/http_session.hpp"

#include "server/request_head.hpp"
#include "server/sse_session.hpp"
#include "server/stream_session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

#include <sstream>

#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace vellum::server {

template <class Stream>
http_session<Stream>::http_session(Stream stream, http_server::impl& srv, std::string remote)
    : stream_(std::move(stream)), srv_(srv), remote_(std::move(remote)), sse_timer_(stream_.get_executor()) {
  srv_.stats.connection_opened();
  srv_.unclosed.fetch_add(1);
}

template <class Stream>
http_session<Stream>::~http_session() {
  closed_for_client();
  srv_.stats.connection_closed();
}

template <class Stream>
void http_session<Stream>::start() {
  srv_.sessions.add(std::static_pointer_cast<session_handle>(this->shared_from_this()));
  net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
    if (self->srv_.stopping.load()) return self->close();
    self->begin();
  });
}

template <class Stream>
void http_session<Stream>::wake() {
  net::post(stream_.get_executor(), [self = this->shared_from_this()] { self->sse_pump(); });
}

// Runs api::still_allowed on the strand for an open subscription or stream;
// ends it if its credentials were taken away. Anything else is left alone: a
// plain request was authorised when it arrived and is answered.
template <class Stream>
void http_session<Stream>::credentials_changed() {
  net::post(stream_.get_executor(), [self = this->shared_from_this()] {
    if (!self->open_role_ || self->phase_ == phase::closed || self->phase_ == phase::sse_finishing) return;
    if (self->srv_.handler->still_allowed(self->credentials_, *self->open_role_)) return;
    self->end_revoked();
  });
}

// Strand only. SSE: a last `error` event when idle, else the pending write is
// cut; a stream: its producer is told to stop and the connection closed (the
// bundle then lacks its end line, which every verifier reports).
template <class Stream>
void http_session<Stream>::end_revoked() {
  log_message("info", open_identity_ + " lost access by a configuration reload: closed " + method_ + " " + target_);
  switch (phase_) {
    case phase::sse_idle:
      return sse_send("event: error\ndata: {\"reason\":\"credentials revoked\",\"resume_from\":" +
                          std::to_string(sub_.cursor) + "}\n\n",
                      true);
    case phase::sse_writing:
      phase_ = phase::sse_finishing;
      lowest().cancel();  // the write completes with an error and closes
      return;
    case phase::stream_waiting:
    case phase::stream_writing:
      if (pipe_) {
        {
          std::lock_guard lock(pipe_->m);
          pipe_->cancelled = true;
        }
        pipe_->cv.notify_all();
      }
      return close();
    default:
      return;
  }
}

template <class Stream>
void http_session<Stream>::stop_now() {
  net::post(stream_.get_executor(), [self = this->shared_from_this()] {
    switch (self->phase_) {
      case phase::starting:
      case phase::reading:
        self->lowest().cancel();  // the pending read ends with operation_aborted: close
        break;
      case phase::sse_idle:
        self->close();
        break;
      case phase::sse_writing:
        self->phase_ = phase::sse_finishing;
        self->lowest().cancel();  // the write completes with an error and closes
        break;
      case phase::dispatched:      // the answer is still to come; write() closes after it
      case phase::writing:         // write() closes after it (stopping)
      case phase::sse_finishing:   // closes when the write ends
      case phase::stream_waiting:  // the producer sees `stopping` and ends
      case phase::stream_writing:
      case phase::closed:
        break;
    }
  });
}

template <class Stream>
void http_session<Stream>::begin() {
  if constexpr (is_tls) {
    lowest().expires_after(std::chrono::milliseconds(lim().read_timeout_ms));
    attach_handshake_note(stream_.native_handle(), &tls_note_);
    stream_.async_handshake(ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
      attach_handshake_note(self->stream_.native_handle(), nullptr);
      if (ec) return self->log_failed_handshake(ec);
      self->after_handshake();
      self->read_header();
    });
  } else {
    read_header();
  }
}

template <class Stream>
void http_session<Stream>::after_handshake() {
  if constexpr (is_tls) {
    SSL* s = stream_.native_handle();
    X509* peer = SSL_get0_peer_certificate(s);
    cert_verified_ =
        peer != nullptr && SSL_get_verify_result(s) == X509_V_OK && !srv_.cfg.tls.client_ca_file.empty();
    if (cert_verified_) cert_subject_ = certificate_subject(peer);
  }
}

// One warning line per refused or broken handshake: who connected, and why
// it failed in words an operator can act on (the certificate's subject and
// what was wrong with it, or the TLS alert), never silence: a misissued
// client certificate, a revoked one or a scanner all show up here.
template <class Stream>
void http_session<Stream>::log_failed_handshake(beast::error_code ec) {
  if constexpr (is_tls) {
    boost::json::object detail{{"remote", remote_}};
    const long verdict = SSL_get_verify_result(stream_.native_handle());
    std::string reason;
    if (!tls_note_.refusal.empty())
      reason = "client certificate refused: " + tls_note_.refusal;
    else if (verdict != X509_V_OK && !tls_note_.subject.empty())
      reason = std::string("client certificate refused: ") + X509_verify_cert_error_string(verdict);
    else
      reason = ec == beast::error::timeout ? "timed out" : ec.message();
    detail["reason"] = reason;
    if (!tls_note_.subject.empty()) detail["certificate"] = tls_note_.subject;
    log_message("warning", "TLS handshake failed", detail);
  }
}

template <class Stream>
void http_session<Stream>::read_header() {
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(lim().max_header_bytes));
  parser_->body_limit(lim().max_body_bytes);
  auto timeout = phase_ == phase::starting ? lim().read_timeout_ms : lim().idle_timeout_ms;
  phase_ = phase::reading;
  lowest().expires_after(std::chrono::milliseconds(timeout));
  http::async_read_header(stream_, buffer_, *parser_,
                          [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                            self->on_header(ec);
                          });
}

template <class Stream>
void http_session<Stream>::on_header(beast::error_code ec) {
  if (ec) return on_read_error(ec);
  received_ = std::chrono::steady_clock::now();
  auto& req = parser_->get();
  if (beast::iequals(req[http::field::expect], "100-continue")) {
    // Tell the client to send the body (curl waits for this on large bodies).
    auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_, req.version());
    lowest().expires_after(std::chrono::milliseconds(lim().read_timeout_ms));
    http::async_write(stream_, *cont, [self = this->shared_from_this(), cont](beast::error_code wec, std::size_t) {
      if (wec) return self->close();
      self->read_body();
    });
    return;
  }
  read_body();
}

template <class Stream>
void http_session<Stream>::read_body() {
  lowest().expires_after(std::chrono::milliseconds(lim().read_timeout_ms));
  http::async_read(stream_, buffer_, *parser_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
    if (ec) return self->on_read_error(ec);
    self->dispatch_request();
  });
}

template <class Stream>
void http_session<Stream>::on_read_error(beast::error_code ec) {
  if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == net::error::operation_aborted ||
      ec == net::error::eof || ec == net::error::connection_reset || ec == ssl::error::stream_truncated)
    return close();
  keep_alive_ = false;
  response r;
  if (ec == http::error::body_limit) {
    r = error_response(errc::payload_too_large,
                       "the body is larger than " + std::to_string(lim().max_body_bytes) + " bytes");
  } else if (ec == http::error::header_limit) {
    r = error_response(errc::headers_too_large,
                       "the headers are larger than " + std::to_string(lim().max_header_bytes) + " bytes");
  } else {
    r = error_response(errc::bad_request, "malformed HTTP request: " + ec.message());
  }
  r.route = "other";
  srv_.stats.count_request(r.route, r.status);
  method_ = "?";
  target_.clear();
  srv_.in_flight.fetch_add(1);
  phase_ = phase::writing;
  write(std::move(r));
}

template <class Stream>
void http_session<Stream>::dispatch_request() {
  auto msg = parser_->release();
  parser_.reset();
  keep_alive_ = msg.keep_alive();
  version_ = msg.version();
  head_ = msg.method() == http::verb::head;
  if (auto why = refused_head(msg.base()); !why.empty()) {
    keep_alive_ = false;  // what else this client sent is not to be trusted either
    method_ = std::string(msg.method_string());
    target_ = std::string(msg.target()).substr(0, msg.target().find('?'));
    auto r = error_response(errc::bad_request, why);
    r.route = std::string(unknown_route_label);
    srv_.stats.count_request(r.route, r.status);
    srv_.in_flight.fetch_add(1);
    return write(std::move(r));
  }
  request req;
  req.method = std::string(msg.method_string());
  req.target = std::string(msg.target());
  req.content_type = std::string(msg[http::field::content_type]);
  req.authorization = std::string(msg[http::field::authorization]);
  req.last_event_id = std::string(msg["Last-Event-ID"]);
  req.host = std::string(msg[http::field::host]);
  req.body = std::move(msg.body());
  req.client_cert_verified = cert_verified_;
  req.client_subject = cert_subject_;
  req.client_address = remote_.substr(0, remote_.rfind(':'));
  req.received = received_;
  // Append completions continue on this session's strand: one hop from the
  // sequencer's committing thread, and the answer is then written without another.
  req.run_on_io = [ex = stream_.get_executor()](std::function<void()> f) { net::post(ex, std::move(f)); };
  method_ = req.method;
  target_ = req.target.substr(0, req.target.find('?'));
  srv_.in_flight.fetch_add(1);
  phase_ = phase::dispatched;
  credentials_.authorization = req.authorization;
  credentials_.host = req.host;
  credentials_.client_cert_verified = req.client_cert_verified;
  credentials_.client_subject = req.client_subject;

  if (api::is_subscribe(req)) {
    auto opened = srv_.handler->open_subscription(req);
    if (auto* r = std::get_if<response>(&opened)) {
      srv_.stats.count_request(r->route, r->status);
      return write(std::move(*r));
    }
    srv_.stats.count_request("GET /v1/subscribe", 200);
    srv_.in_flight.fetch_sub(1);  // a subscription is not an in-flight request
    open_role_ = role::reader;
    return start_sse(std::get<subscription>(std::move(opened)), srv_.handler->identity_of(req));
  }
  srv_.handler->handle(std::move(req), [self = this->shared_from_this()](response r) {
    // Runs on this session's strand (reads: inline; appends: via run_on_io),
    // or elsewhere if a completion came without it: dispatch writes inline
    // when already on the strand and hops onto it otherwise.
    net::dispatch(self->stream_.get_executor(), [self, r = std::move(r)]() mutable { self->write(std::move(r)); });
  });
}

template <class Stream>
void http_session<Stream>::write(response r) {
  if (r.stream) return start_stream(std::move(r));  // a route that never answers HEAD
  phase_ = phase::writing;
  auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(r.status), version_);
  res->set(http::field::content_type, r.content_type);
  for (auto& [k, v] : r.headers) res->set(k, v);
  if (srv_.stopping.load()) keep_alive_ = false;
  res->keep_alive(keep_alive_);
  res->body() = std::move(r.body);
  res->prepare_payload();
  if (head_) res->body().clear();  // HEAD: headers (with the GET length) only
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - received_);
  srv_.requests_log.add(access_line({.remote = remote_,
                                     .method = method_,
                                     .path = target_,
                                     .route = r.route,
                                     .identity = r.identity,
                                     .status = r.status,
                                     .duration = us,
                                     .bytes = res->body().size()}));
  lowest().expires_after(std::chrono::milliseconds(lim().read_timeout_ms));
  http::async_write(stream_, *res, [self = this->shared_from_this(), res](beast::error_code ec, std::size_t) {
    self->srv_.in_flight.fetch_sub(1);
    if (ec || !self->keep_alive_ || self->srv_.stopping.load()) return self->close();
    self->read_header();
  });
}

template <class Stream>
std::string http_session<Stream>::open_ended_head(const response& r) const {
  http::response<http::empty_body> head(static_cast<http::status>(r.status), version_);
  head.set(http::field::content_type, r.content_type);
  for (const auto& [k, v] : r.headers) head.set(k, v);
  head.keep_alive(false);  // the body ends when the connection does
  std::ostringstream out;
  out << head.base();
  return std::move(out).str();
}

// Ends the connection (TLS close_notify or a lingering close). Idempotent.
template <class Stream>
void http_session<Stream>::close() {
  if (phase_ == phase::closed) return;
  phase_ = phase::closed;
  lowest().expires_after(std::chrono::seconds(2));
  if constexpr (is_tls) {
    stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
      beast::error_code ignored;
      self->lowest().socket().close(ignored);
      self->closed_for_client();
    });
  } else {
    // Lingering close: stop sending, then discard what the client still
    // sends (e.g. the rest of a refused body) for a moment, so it can read
    // our answer instead of getting a reset.
    beast::error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    closed_for_client();
    drain();
  }
  sse_timer_.cancel();
}

// The client has been told the connection ends (counted once).
template <class Stream>
void http_session<Stream>::closed_for_client() {
  if (counted_unclosed_) {
    counted_unclosed_ = false;
    srv_.unclosed.fetch_sub(1);
  }
}

template <class Stream>
void http_session<Stream>::drain() {
  lowest().async_read_some(net::buffer(discard_), [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
    if (!ec) return self->drain();
    beast::error_code ignored;
    self->lowest().socket().close(ignored);
  });
}

template class http_session<plain_stream>;
template class http_session<tls_stream>;

void start_session(tcp::socket socket, http_server::impl& srv, std::string remote, connection_counts::slot slot) {
  if (srv.tls_ctx) {
    auto s = std::make_shared<http_session<tls_stream>>(tls_stream(beast::tcp_stream(std::move(socket)), *srv.tls_ctx),
                                                        srv, std::move(remote));
    s->keep(std::move(slot));
    s->start();
  } else {
    auto s = std::make_shared<http_session<plain_stream>>(plain_stream(std::move(socket)), srv, std::move(remote));
    s->keep(std::move(slot));
    s->start();
  }
}

}  // namespace vellum::server
