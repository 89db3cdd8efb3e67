#pragma once
// Part of the session (http_session.hpp): sealed exports (GET /v1/export).
// Included only by http_session.cpp, which instantiates the session once per
// stream type.
//
// ledger::write_export runs on a worker thread and hands its chunks to a
// bounded pipe (at most export_pipe::max_chunks of ~64 KiB: constant memory
// whatever the export's size); this session's strand writes them out. The
// response is delimited by closing the connection. An error before the
// first chunk becomes an ordinary JSON error response.

#include "crypto/leaf_entry.hpp"
#include "ledger/export.hpp"
#include "server/http_session.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace vellum::server {

template <class Stream>
struct http_session<Stream>::export_pipe {
  static constexpr std::size_t max_chunks = 8;
  std::mutex m;
  std::condition_variable cv;
  std::deque<std::string> chunks;
  bool started = false;           // the 200 head was queued
  bool done = false;              // the worker finished (successfully or not)
  bool cancelled = false;         // the client went away: the worker stops
  std::optional<response> error;  // failure before the first chunk
};

template <class Stream>
void http_session<Stream>::start_export(ledger::export_request req) {
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
template <class Stream>
void http_session<Stream>::export_pump() {
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

}  // namespace vellum::server
