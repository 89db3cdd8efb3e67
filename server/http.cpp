// The transport of vellumd: Boost.Beast HTTP/1.1 sessions (plain or TLS) on
// an Asio thread pool, Server-Sent Events, signals and graceful shutdown.
// The only translation unit that includes Beast (compile time).
//
// One session per connection, on its own strand. Before every read the
// stream gets a deadline (idle timeout while waiting for a request on a
// kept-alive connection, read timeout for the first request, the rest of a
// request and the TLS handshake); every parser has a header and a body limit.

#include "base/file.hpp"
#include "server/http.hpp"

#include "crypto/leaf_entry.hpp"
#include "ledger/ledger.hpp"
#include "server/api.hpp"
#include "server/metrics.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace vellum::server {
namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

// One JSON line on stderr (written with a single fwrite so lines never interleave).
void log_line(const boost::json::object& o) {
  auto line = boost::json::serialize(o);
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

// Appends s as a JSON string literal. Bytes outside printable ASCII are
// written as \u00XX, so the line is valid JSON whatever the client sent.
void append_quoted(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u >= 0x7f) {
      out += "\\u00";
      out += hex[u >> 4];
      out += hex[u & 15];
    } else {
      out += c;
    }
  }
  out += '"';
}

// The per-request log: lines are collected and written with one write(2)
// when 32 KiB have gathered and at least every 200 ms (flush timer in
// http_server::run), instead of one write per request.
class request_log {
 public:
  void add(std::string_view line) {
    std::lock_guard lock(mutex_);
    buf_.append(line);
    if (buf_.size() >= 32 * 1024) flush_locked();
  }
  void flush() {
    std::lock_guard lock(mutex_);
    flush_locked();
  }

 private:
  void flush_locked() {
    if (buf_.empty()) return;
    std::fwrite(buf_.data(), 1, buf_.size(), stderr);
    std::fflush(stderr);
    buf_.clear();
  }
  std::mutex mutex_;
  std::string buf_;
};

void log_message(std::string_view level, std::string_view msg) {
  log_line({{"time", crypto::format_time_us(ledger::system_clock_us())}, {"level", level}, {"msg", msg}});
}

// What the server can ask of a live session from another thread.
class session_handle {
 public:
  virtual ~session_handle() = default;
  virtual void wake() = 0;      // new commits (SSE live mode)
  virtual void stop_now() = 0;  // server stopping: close unless a response is pending
};

// Weak references to sessions: SSE subscribers (woken after each commit) and
// all connections (closed on stop).
class session_registry {
 public:
  void add(std::weak_ptr<session_handle> s) {
    std::lock_guard lock(mutex_);
    std::erase_if(items_, [](const auto& w) { return w.expired(); });
    items_.push_back(std::move(s));
  }
  template <class F>
  void for_each(F f) {
    std::vector<std::shared_ptr<session_handle>> live;
    {
      std::lock_guard lock(mutex_);
      std::erase_if(items_, [](const auto& w) { return w.expired(); });
      for (auto& w : items_)
        if (auto s = w.lock()) live.push_back(std::move(s));
    }
    for (auto& s : live) f(*s);
  }

 private:
  std::mutex mutex_;
  std::vector<std::weak_ptr<session_handle>> items_;
};

}  // namespace

struct http_server::impl {
  // Sessions (owned by handlers inside ioc) use everything declared before
  // ioc, so ioc must be destroyed first: keep it after them.
  config cfg;
  std::unique_ptr<ledger::ledger> led;
  std::unique_ptr<ledger::sequencer> seq;
  credentials_store creds;
  server::metrics stats;
  std::unique_ptr<server::api> handler;
  session_registry subscribers;  // SSE sessions
  session_registry sessions;     // every connection
  request_log requests_log;
  std::optional<ssl::context> tls_ctx;
  std::atomic<std::size_t> connections{0};
  // Sessions that have not yet sent their close (FIN, or TLS close_notify
  // and the socket closed): the I/O threads stop only once this reaches 0
  // (bounded), or an idle client would be left waiting on an open socket.
  std::atomic<std::size_t> unclosed{0};
  std::atomic<std::size_t> in_flight{0};  // requests read but not yet answered
  std::atomic<std::size_t> exports{0};    // export worker threads running (they use led)
  std::atomic<bool> stopping{false};
  std::atomic<std::uint64_t> last_size{0};
  std::mutex stop_mutex;
  net::io_context ioc;
  // The acceptor and its retry timer live on one strand: their handlers and
  // the close at shutdown never run at the same time (ThreadSanitizer found
  // close() racing with a pending accept's completion).
  net::strand<net::io_context::executor_type> accept_strand{net::make_strand(ioc)};
  tcp::acceptor acceptor;
  net::steady_timer accept_retry;
  net::steady_timer log_timer{ioc};
  std::optional<net::signal_set> signals;
  std::function<void()> reload;
  std::thread stopper;

  void wait_signal();
  void flush_log_periodically() {
    log_timer.expires_after(std::chrono::milliseconds(200));
    log_timer.async_wait([this](beast::error_code ec) {
      requests_log.flush();
      if (!ec) flush_log_periodically();
    });
  }

  explicit impl(config c)
      : cfg(std::move(c)), creds(cfg.creds), acceptor(accept_strand), accept_retry(accept_strand) {}

  void accept();
  void begin_stop();
};

namespace {

// The session: Stream is beast::tcp_stream or ssl_stream<tcp_stream>.
template <class Stream>
class session final : public session_handle, public std::enable_shared_from_this<session<Stream>> {
  static constexpr bool is_tls = !std::is_same_v<Stream, beast::tcp_stream>;

 public:
  session(Stream stream, http_server::impl& srv, std::string remote)
      : stream_(std::move(stream)), srv_(srv), remote_(std::move(remote)),
        sse_timer_(stream_.get_executor()) {
    srv_.stats.connection_opened();
    srv_.unclosed.fetch_add(1);
  }
  ~session() override {
    closed_for_client();
    srv_.stats.connection_closed();
    srv_.connections.fetch_sub(1);
  }

  void start() {
    srv_.sessions.add(std::static_pointer_cast<session_handle>(this->shared_from_this()));
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
      if (self->srv_.stopping.load()) return self->close();
      self->begin();
    });
  }

  void wake() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] { self->sse_pump(); });
  }

  void stop_now() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] {
      if (self->closing_) return;
      if (self->sse_) {
        if (self->writing_) {
          self->finishing_ = true;
          self->lowest().cancel();  // the write completes with an error and closes
        } else {
          self->close();
        }
      } else if (!self->busy_) {
        self->lowest().cancel();  // the pending read ends with operation_aborted: close
      }
      // busy_: the response is still to come; write() closes after it (stopping).
    });
  }

 private:
  auto& lowest() { return beast::get_lowest_layer(stream_); }
  const limits& lim() const { return srv_.cfg.lim; }

  void begin() {
    if constexpr (is_tls) {
      lowest().expires_after(std::chrono::milliseconds(lim().read_timeout_ms));
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) return;  // handshake failed or timed out: drop quietly
                                self->after_handshake();
                                self->read_header();
                              });
    } else {
      read_header();
    }
  }

  void after_handshake() {
    if constexpr (is_tls) {
      SSL* s = stream_.native_handle();
      X509* peer = SSL_get0_peer_certificate(s);
      cert_verified_ = peer != nullptr && SSL_get_verify_result(s) == X509_V_OK &&
                       !srv_.cfg.tls.client_ca_file.empty();
    }
  }

  void read_header() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(lim().max_header_bytes));
    parser_->body_limit(lim().max_body_bytes);
    auto timeout = first_ ? lim().read_timeout_ms : lim().idle_timeout_ms;
    lowest().expires_after(std::chrono::milliseconds(timeout));
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                              self->on_header(ec);
                            });
  }

  void on_header(beast::error_code ec) {
    first_ = false;
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

  void read_body() {
    lowest().expires_after(std::chrono::milliseconds(lim().read_timeout_ms));
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec) return self->on_read_error(ec);
                       self->dispatch_request();
                     });
  }

  void on_read_error(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == net::error::operation_aborted || ec == net::error::eof ||
        ec == net::error::connection_reset || ec == ssl::error::stream_truncated)
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
    busy_ = true;
    write(std::move(r));
  }

  void dispatch_request() {
    auto msg = parser_->release();
    parser_.reset();
    keep_alive_ = msg.keep_alive();
    version_ = msg.version();
    head_ = msg.method() == http::verb::head;
    request req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    req.content_type = std::string(msg[http::field::content_type]);
    req.authorization = std::string(msg[http::field::authorization]);
    req.last_event_id = std::string(msg["Last-Event-ID"]);
    req.body = std::move(msg.body());
    req.client_cert_verified = cert_verified_;
    req.received = received_;
    // Append completions continue on this session's strand: one hop from the
    // sequencer's committing thread, and the answer is then written without another.
    req.run_on_io = [ex = stream_.get_executor()](std::function<void()> f) { net::post(ex, std::move(f)); };
    method_ = req.method;
    target_ = req.target.substr(0, req.target.find('?'));
    srv_.in_flight.fetch_add(1);
    busy_ = true;

    if (api::is_subscribe(req)) {
      auto opened = srv_.handler->open_subscription(req);
      if (auto* r = std::get_if<response>(&opened)) {
        srv_.stats.count_request(r->route, r->status);
        return write(std::move(*r));
      }
      srv_.stats.count_request("GET /v1/subscribe", 200);
      srv_.in_flight.fetch_sub(1);  // a subscription is not an in-flight request
      return start_sse(std::get<subscription>(std::move(opened)));
    }
    if (api::is_export(req)) {
      auto opened = srv_.handler->open_export(req);
      if (auto* r = std::get_if<response>(&opened)) {
        srv_.stats.count_request(r->route, r->status);
        return write(std::move(*r));
      }
      srv_.stats.count_request("GET /v1/export", 200);
      return start_export(std::get<ledger::export_request>(std::move(opened)));
    }
    srv_.handler->handle(std::move(req), [self = this->shared_from_this()](response r) {
      // Runs on this session's strand (reads: inline; appends: via run_on_io),
      // or elsewhere if a completion came without it: dispatch writes inline
      // when already on the strand and hops onto it otherwise.
      net::dispatch(self->stream_.get_executor(),
                    [self, r = std::move(r)]() mutable { self->write(std::move(r)); });
    });
  }

  void write(response r) {
    auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(r.status), version_);
    res->set(http::field::content_type, r.content_type);
    for (auto& [k, v] : r.headers) res->set(k, v);
    if (srv_.stopping.load()) keep_alive_ = false;
    res->keep_alive(keep_alive_);
    res->body() = std::move(r.body);
    res->prepare_payload();
    if (head_) res->body().clear();  // HEAD: headers (with the GET length) only
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - received_).count();
    std::string line;
    line.reserve(192 + target_.size());
    line += "{\"time\":\"";
    line += crypto::format_time_us(ledger::system_clock_us());
    line += "\",\"remote\":";
    append_quoted(line, remote_);
    line += ",\"method\":";
    append_quoted(line, method_);
    line += ",\"path\":";
    append_quoted(line, target_);
    line += ",\"route\":";
    append_quoted(line, r.route);
    line += ",\"status\":" + std::to_string(r.status) + ",\"duration_us\":" + std::to_string(us) +
            ",\"bytes\":" + std::to_string(res->body().size()) + "}\n";
    srv_.requests_log.add(line);
    lowest().expires_after(std::chrono::milliseconds(lim().read_timeout_ms));
    http::async_write(stream_, *res, [self = this->shared_from_this(), res](beast::error_code ec, std::size_t) {
      self->srv_.in_flight.fetch_sub(1);
      self->busy_ = false;
      if (ec || !self->keep_alive_ || self->srv_.stopping.load()) return self->close();
      self->read_header();
    });
  }

  // Ends the connection (TLS close_notify or a lingering close). Idempotent.
  void close() {
    if (closing_) return;
    closing_ = true;
    closed_ = true;
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
  void closed_for_client() {
    if (counted_unclosed_) {
      counted_unclosed_ = false;
      srv_.unclosed.fetch_sub(1);
    }
  }

  void drain() {
    lowest().async_read_some(net::buffer(discard_),
                             [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                               if (!ec) return self->drain();
                               beast::error_code ignored;
                               self->lowest().socket().close(ignored);
                             });
  }

  // --- Server-Sent Events ---

  void start_sse(subscription sub) {
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

  void arm_heartbeat() {
    sse_timer_.expires_after(std::chrono::seconds(15));
    sse_timer_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
      if (ec || self->closed_) return;
      if (!self->writing_) self->sse_send(": keep-alive\n\n");
      self->arm_heartbeat();
    });
  }

  void sse_send(std::string text) {
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
  void sse_pump() {
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

  // --- Sealed exports (GET /v1/export) ---
  //
  // ledger::write_export runs on a worker thread and hands its chunks to a
  // bounded pipe (at most export_pipe::max_chunks of ~64 KiB: constant memory
  // whatever the export's size); this session's strand writes them out. The
  // response is delimited by closing the connection. An error before the
  // first chunk becomes an ordinary JSON error response.

  struct export_pipe {
    static constexpr std::size_t max_chunks = 8;
    std::mutex m;
    std::condition_variable cv;
    std::deque<std::string> chunks;
    bool started = false;    // the 200 head was queued
    bool done = false;       // the worker finished (successfully or not)
    bool cancelled = false;  // the client went away: the worker stops
    std::optional<response> error;  // failure before the first chunk
  };

  void start_export(ledger::export_request req) {
    constexpr std::size_t max_exports = 4;
    if (srv_.exports.fetch_add(1) >= max_exports) {
      srv_.exports.fetch_sub(1);
      auto r = error_response(errc::unavailable, "too many exports running; retry shortly");
      r.headers.emplace_back("Retry-After", "5");
      r.route = "GET /v1/export";
      return write(std::move(r));
    }
    srv_.in_flight.fetch_sub(1);  // like a subscription, a stream is not an in-flight request
    busy_ = true;
    keep_alive_ = false;
    export_ = std::make_shared<export_pipe>();
    log_line({{"time", crypto::format_time_us(ledger::system_clock_us())}, {"remote", remote_},
              {"method", method_}, {"path", target_}, {"route", "GET /v1/export"}, {"status", 200}});
    std::thread([self = this->shared_from_this(), pipe = export_, req = std::move(req)]() mutable {
      auto& srv = self->srv_;
      auto wake = [&self] {
        net::post(self->stream_.get_executor(), [s = self] { s->export_pump(); });
      };
      auto sink = [&](std::string_view chunk) -> bool {
        std::unique_lock lock(pipe->m);
        if (!pipe->started) {
          pipe->started = true;
          pipe->chunks.emplace_back(
              "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nCache-Control: no-store\r\n"
              "Content-Disposition: attachment; filename=\"vellum-export.ndjson\"\r\nConnection: close\r\n\r\n");
        }
        while (pipe->chunks.size() >= export_pipe::max_chunks && !pipe->cancelled && !srv.stopping.load())
          pipe->cv.wait_for(lock, std::chrono::milliseconds(100));
        if (pipe->cancelled || srv.stopping.load()) return false;
        pipe->chunks.emplace_back(chunk);
        lock.unlock();
        wake();
        return true;
      };
      auto written = ledger::write_export(*srv.led, req, sink);
      {
        std::lock_guard lock(pipe->m);
        if (!written && !pipe->started) {
          const bool bad_request = written.error() == ledger::errc::invalid_argument;
          auto r = bad_request ? error_response(errc::bad_request, written.error().message())
                               : error_response(written.error(), "export failed: " + written.error().message());
          r.route = "GET /v1/export";
          pipe->error = std::move(r);
        } else if (!written && written.error() != boost::system::errc::operation_canceled) {
          log_message("error", "export failed after it started: " + written.error().message());
        }
        pipe->done = true;
      }
      wake();
      // Drop the session before the count: the server stops only when no
      // worker holds anything of it.
      self.reset();
      srv.exports.fetch_sub(1);
    }).detach();
  }

  // Writes the next queued chunk; closes when the worker is done. Strand only.
  void export_pump() {
    if (!export_ || writing_ || closed_) return;
    std::unique_lock lock(export_->m);
    if (export_->error) {
      auto r = std::move(*export_->error);
      export_->error.reset();
      export_->done = false;  // answered below; nothing more to pump
      lock.unlock();
      export_.reset();
      srv_.in_flight.fetch_add(1);  // write() counts it back down
      return write(std::move(r));
    }
    if (export_->chunks.empty()) {
      if (export_->done) {
        lock.unlock();
        closed_ = true;
        return close();
      }
      return;  // the worker will wake us
    }
    auto buf = std::make_shared<std::string>(std::move(export_->chunks.front()));
    export_->chunks.pop_front();
    lock.unlock();
    export_->cv.notify_all();
    writing_ = true;
    lowest().expires_after(std::chrono::milliseconds(lim().read_timeout_ms));
    net::async_write(stream_, net::buffer(*buf), [self = this->shared_from_this(), buf](beast::error_code ec, std::size_t) {
      self->writing_ = false;
      self->lowest().expires_never();
      if (ec) {
        {
          std::lock_guard guard(self->export_->m);
          self->export_->cancelled = true;
        }
        self->export_->cv.notify_all();
        self->closed_ = true;
        return self->close();
      }
      self->export_pump();
    });
  }

  std::shared_ptr<export_pipe> export_;

  Stream stream_;
  http_server::impl& srv_;
  std::string remote_;
  beast::flat_buffer buffer_;
  std::array<char, 4096> discard_{};
  std::optional<http::request_parser<http::string_body>> parser_;
  std::chrono::steady_clock::time_point received_;
  std::string method_;
  std::string target_;
  bool first_ = true;
  bool keep_alive_ = true;
  bool head_ = false;
  bool cert_verified_ = false;
  bool closing_ = false;
  bool counted_unclosed_ = true;  // in srv_.unclosed until closed_for_client()
  unsigned version_ = 11;  // HTTP version of the request being answered
  bool busy_ = false;  // a request was dispatched and its response not yet written
  // SSE state (strand only).
  net::steady_timer sse_timer_;
  subscription sub_;
  std::uint64_t cursor_ = 0;
  bool sse_ = false;
  bool live_ = false;
  bool writing_ = false;
  bool finishing_ = false;
  bool closed_ = false;
};

ssl::context make_tls_context(const tls_config& t) {
  ssl::context ctx(ssl::context::tls_server);
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                  ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  if (SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION) != 1)
    throw config_error("tls: cannot restrict to TLS 1.2 and 1.3");
  beast::error_code ec;
  ctx.use_certificate_chain_file(t.cert_file, ec);
  if (ec) throw config_error("tls.cert_file: cannot load " + t.cert_file + ": " + ec.message());
  ctx.use_private_key_file(t.key_file, ssl::context::pem, ec);
  if (ec) throw config_error("tls.key_file: cannot load " + t.key_file + ": " + ec.message());
  if (!t.client_ca_file.empty()) {
    ctx.load_verify_file(t.client_ca_file, ec);
    if (ec) throw config_error("tls.client_ca_file: cannot load " + t.client_ca_file + ": " + ec.message());
    auto mode = ssl::verify_peer;
    if (t.require_client_cert) mode |= ssl::verify_fail_if_no_peer_cert;
    ctx.set_verify_mode(mode);
  }
  return ctx;
}

}  // namespace

void http_server::impl::accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket sock) {
    if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
    if (ec) {
      // Transient (e.g. too many open files): log, back off briefly, keep accepting.
      log_message("warn", "accept failed: " + ec.message());
      accept_retry.expires_after(std::chrono::milliseconds(100));
      accept_retry.async_wait([this](beast::error_code wec) {
        if (!wec) accept();
      });
      return;
    }
    if (connections.fetch_add(1) >= cfg.lim.max_connections) {
      connections.fetch_sub(1);
      beast::error_code ignored;
      sock.close(ignored);  // over the connection limit: refuse at once
      return accept();
    }
    beast::error_code rec;
    // Answers and SSE messages are complete when written: send them at once.
    sock.set_option(tcp::no_delay(true), rec);
    auto ep = sock.remote_endpoint(rec);
    std::string remote = rec ? "?" : ep.address().to_string() + ":" + std::to_string(ep.port());
    if (tls_ctx) {
      std::make_shared<session<beast::ssl_stream<beast::tcp_stream>>>(
          beast::ssl_stream<beast::tcp_stream>(beast::tcp_stream(std::move(sock)), *tls_ctx), *this,
          std::move(remote))
          ->start();
    } else {
      std::make_shared<session<beast::tcp_stream>>(beast::tcp_stream(std::move(sock)), *this, std::move(remote))
          ->start();
    }
    accept();
  });
}

void http_server::impl::begin_stop() {
  std::lock_guard lock(stop_mutex);
  if (stopping.exchange(true)) return;
  log_message("info", "stopping: no new connections, draining in-flight appends");
  net::post(accept_strand, [this] {
    beast::error_code ignored;
    acceptor.close(ignored);
    accept_retry.cancel();
  });
  net::post(ioc, [this] {
    // Idle keep-alive connections and subscriptions close now; connections
    // waiting for an append's answer close right after it is written.
    sessions.for_each([](session_handle& h) { h.stop_now(); });
  });
  handler->set_draining();
  stopper = std::thread([this] {
    seq->stop();  // every queued append is committed and its completion has run
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    // Export workers see `stopping` and end within one chunk; they must be
    // gone before the ledger is.
    while (exports.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    // Every connection was told to close (stop_now above, or after its
    // answer); let the I/O threads send those closes before they stop.
    const auto close_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (unclosed.load() > 0 && std::chrono::steady_clock::now() < close_deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    log_message("info", "drained; stopping I/O threads");
    ioc.stop();
  });
}

http_server::http_server(std::unique_ptr<impl> i) : impl_(std::move(i)) {}

http_server::~http_server() {
  if (!impl_) return;
  impl_->begin_stop();
  if (impl_->stopper.joinable()) impl_->stopper.join();
}

std::unique_ptr<http_server> http_server::create(config cfg, bool handle_signals) {
  auto p = std::make_unique<impl>(std::move(cfg));
  auto& c = p->cfg;
  ledger::options opts;
  opts.data_dir = c.data_dir;
  opts.origin = c.origin;
  opts.key_file = c.log_key_file;
  auto led = ledger::ledger::open(opts);
  if (!led) throw config_error("data_dir " + c.data_dir + ": cannot open the ledger: " + led.error().message());
  p->led = std::move(*led);
  p->last_size = p->led->tree_size();
  p->stats.set_tree_size(p->last_size);
  p->seq = std::make_unique<ledger::sequencer>(*p->led, c.lim.max_queue, c.lim.max_batch_events);
  auto* raw = p.get();
  p->seq->on_commit([raw](std::uint64_t size) {
    auto before = raw->last_size.exchange(size);
    if (size > before) raw->stats.observe_batch(size - before);
    raw->stats.set_tree_size(size);
    raw->subscribers.for_each([](session_handle& h) { h.wake(); });
  });
  p->handler = std::make_unique<api>(*p->led, *p->seq, p->creds, p->stats, c.lim);
  if (c.tls.enabled()) p->tls_ctx.emplace(make_tls_context(c.tls));

  beast::error_code ec;
  auto addr = net::ip::make_address(c.listen_host == "localhost" ? "127.0.0.1" : c.listen_host, ec);
  if (ec) throw config_error("listen: \"" + c.listen_host + "\" is not an IP address");
  tcp::endpoint ep(addr, c.listen_port);
  auto where = c.listen_host + ":" + std::to_string(c.listen_port);
  p->acceptor.open(ep.protocol(), ec);
  if (!ec) p->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) p->acceptor.bind(ep, ec);
  if (!ec) p->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) throw config_error("listen: cannot listen on " + where + ": " + ec.message());
  auto* inner = p.get();
  auto srv = std::unique_ptr<http_server>(new http_server(std::move(p)));
  if (handle_signals) {
    // Installed now (not in run()) so a signal that arrives before run() is
    // queued instead of killing the process.
    inner->signals.emplace(inner->ioc, SIGTERM, SIGINT, SIGHUP);
    inner->reload = [s = srv.get()] {
      auto problem = s->reload_credentials();
      log_message(problem.empty() ? "info" : "error",
                  problem.empty() ? "reloaded submitters and tokens" : "reload failed: " + problem);
    };
    inner->wait_signal();
  }
  return srv;
}

std::uint16_t http_server::port() const { return impl_->acceptor.local_endpoint().port(); }
std::string http_server::verifier_key() const { return impl_->led->verifier_key(); }
const std::string& http_server::origin() const { return impl_->led->origin(); }
bool http_server::tls() const { return impl_->tls_ctx.has_value(); }

std::string http_server::reload_credentials() {
  auto& c = impl_->cfg;
  if (c.config_file.empty()) return "no configuration file to reload";
  auto text = vellum::read_file(c.config_file);
  if (!text) return c.config_file + ": cannot be read";
  try {
    auto fresh = credentials_from_json(*text);
    impl_->creds.set(std::move(fresh));
  } catch (const config_error& e) {
    return e.what();
  }
  return {};
}

void http_server::stop() { impl_->begin_stop(); }

void http_server::impl::wait_signal() {
  signals->async_wait([this](beast::error_code ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      reload();
    } else {
      log_message("info", sig == SIGTERM ? "SIGTERM" : "SIGINT");
      begin_stop();
    }
    wait_signal();  // keep listening so a second signal does not kill us while draining
  });
}

void http_server::run() {
  auto& p = *impl_;
  net::post(p.accept_strand, [&p] { p.accept(); });
  p.flush_log_periodically();
  std::vector<std::thread> threads;
  const unsigned n = std::max(1u, p.cfg.threads);
  for (unsigned i = 1; i < n; ++i) threads.emplace_back([&p] { p.ioc.run(); });
  p.ioc.run();
  for (auto& t : threads) t.join();
  {
    std::lock_guard lock(p.stop_mutex);
    if (!p.stopping.load()) p.stopping = true;
  }
  if (p.stopper.joinable()) p.stopper.join();
  p.seq->stop();
  p.requests_log.flush();
}

}  // namespace vellum::server
