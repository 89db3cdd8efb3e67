#pragma once
// Part of the session (http_session.hpp): answers whose body is made while it
// is sent (response::stream, e.g. GET /v1/export). Included only by
// http_session.cpp, which instantiates the session once per stream type.
//
// The producer runs on a worker thread and hands its chunks to a bounded
// pipe (at most stream_pipe::max_chunks: constant memory whatever the body's
// size; the producer waits while it is full); this session's strand writes
// them out. The head goes out with the first chunk, so a producer that fails
// before writing anything becomes an ordinary JSON error answer. The body is
// delimited by closing the connection. At most max_streams producers run at
// once: they are the server's most expensive requests.

#include "server/http_session.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace vellum::server {

template <class Stream>
struct http_session<Stream>::stream_pipe {
  static constexpr std::size_t max_chunks = 8;
  std::mutex m;
  std::condition_variable cv;
  std::deque<std::string> chunks;
  bool started = false;           // the head was queued
  bool done = false;              // the producer returned (successfully or not)
  bool cancelled = false;         // the client went away: the producer stops
  std::optional<response> error;  // the answer instead, if the producer failed before its first chunk
};

template <class Stream>
void http_session<Stream>::start_stream(response r) {
  constexpr std::size_t max_streams = 4;
  if (srv_.streams.fetch_add(1) >= max_streams) {
    srv_.streams.fetch_sub(1);
    auto busy = error_response(errc::unavailable, "too many exports and analytics exports running; retry shortly");
    busy.headers.emplace_back("Retry-After", "5");
    busy.route = r.route;
    return write(std::move(busy));
  }
  srv_.in_flight.fetch_sub(1);  // like a subscription, a stream is not an in-flight request
  phase_ = phase::stream_waiting;
  keep_alive_ = false;
  pipe_ = std::make_shared<stream_pipe>();
  open_role_ = r.requires_role;
  open_identity_ = r.identity;
  log_stream_opened(
      {.remote = remote_, .method = method_, .path = target_, .route = r.route, .identity = r.identity, .status = r.status});
  auto produce = std::move(r.stream);
  std::thread([self = this->shared_from_this(), pipe = pipe_, head = open_ended_head(r), route = r.route,
               produce = std::move(produce)]() mutable {
    auto& srv = self->srv_;
    auto wake = [&self] {
      net::post(self->stream_.get_executor(), [s = self] { s->stream_pump(); });
    };
    const byte_sink out = [&](std::string_view chunk) -> bool {
      std::unique_lock lock(pipe->m);
      if (!pipe->started) {
        pipe->started = true;
        pipe->chunks.push_back(std::move(head));
      }
      while (pipe->chunks.size() >= stream_pipe::max_chunks && !pipe->cancelled && !srv.stopping.load())
        pipe->cv.wait_for(lock, std::chrono::milliseconds(100));
      if (pipe->cancelled || srv.stopping.load()) return false;
      pipe->chunks.emplace_back(chunk);
      lock.unlock();
      wake();
      return true;
    };
    const vellum::status produced = produce(out);
    {
      std::lock_guard lock(pipe->m);
      if (!produced.failed() && !pipe->started) {
        pipe->started = true;  // an empty body: the head alone
        pipe->chunks.push_back(std::move(head));
      } else if (produced.failed() && !pipe->started) {
        auto answer = error_response(produced);
        answer.route = route;
        pipe->error = std::move(answer);
      } else if (produced.failed() && produced != boost::system::errc::operation_canceled) {
        log_message("error", route + " failed after its answer began: " + produced.message());
      }
      pipe->done = true;
    }
    wake();
    // Drop the session before the count: the server stops only when no
    // producer holds anything of it.
    self.reset();
    srv.streams.fetch_sub(1);
  }).detach();
}

// Writes the next queued chunk; closes when the producer is done. Strand only.
template <class Stream>
void http_session<Stream>::stream_pump() {
  if (phase_ != phase::stream_waiting) return;
  std::unique_lock lock(pipe_->m);
  if (pipe_->error) {
    auto answer = std::move(*pipe_->error);
    pipe_->error.reset();
    lock.unlock();
    pipe_.reset();
    srv_.in_flight.fetch_add(1);  // write() counts it back down
    return write(std::move(answer));
  }
  if (pipe_->chunks.empty()) {
    if (pipe_->done) {
      lock.unlock();
      return close();
    }
    return;  // the producer will wake us
  }
  auto buf = std::make_shared<std::string>(std::move(pipe_->chunks.front()));
  pipe_->chunks.pop_front();
  lock.unlock();
  pipe_->cv.notify_all();
  phase_ = phase::stream_writing;
  lowest().expires_after(std::chrono::milliseconds(lim().read_timeout_ms));
  net::async_write(stream_, net::buffer(*buf), [self = this->shared_from_this(), buf](beast::error_code ec, std::size_t) {
    self->lowest().expires_never();
    if (ec) {
      {
        std::lock_guard guard(self->pipe_->m);
        self->pipe_->cancelled = true;
      }
      self->pipe_->cv.notify_all();
      return self->close();
    }
    self->phase_ = phase::stream_waiting;
    self->stream_pump();
  });
}

}  // namespace vellum::server
