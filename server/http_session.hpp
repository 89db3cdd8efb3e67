#pragma once
// Internal to the transport: one HTTP/1.1 connection, plain or TLS, on its own
// strand. The class template is declared here; its members are defined in
// three parts, each about one job:
//
//   http_session.cpp    the request/response loop (read, dispatch to the api,
//                       write, keep-alive, close), and the one explicit
//                       instantiation per stream type;
//   sse_session.hpp     GET /v1/subscribe as Server-Sent Events;
//   stream_session.hpp  answers whose body is made while it is sent
//                       (response::stream: GET /v1/export), on a worker thread.
//
// The last two are included only by http_session.cpp, so Beast's HTTP code is
// compiled in one translation unit (compile time).
//
// Before every read the stream gets a deadline (idle timeout while waiting
// for a request on a kept-alive connection, read timeout for the first
// request, the rest of a request and the TLS handshake); every parser has a
// header and a body limit.

#include "server/api.hpp"
#include "server/http_server_impl.hpp"
#include "server/tls_context.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <array>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>

namespace vellum::server {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

using plain_stream = beast::tcp_stream;
using tls_stream = beast::ssl_stream<beast::tcp_stream>;

// The session: Stream is plain_stream or tls_stream.
template <class Stream>
class http_session final : public session_handle, public std::enable_shared_from_this<http_session<Stream>> {
  static constexpr bool is_tls = std::is_same_v<Stream, tls_stream>;

 public:
  http_session(Stream stream, http_server::impl& srv, std::string remote);
  ~http_session() override;
  // The connection's place among the open ones, given back when the session ends.
  void keep(connection_counts::slot slot) { slot_ = std::move(slot); }

  // Registers the session and begins (TLS handshake, then the first read).
  void start();

  void wake() override;
  void stop_now() override;
  void credentials_changed() override;

 private:
  connection_counts::slot slot_;
  auto& lowest() { return beast::get_lowest_layer(stream_); }
  const limits& lim() const { return srv_.cfg.lim; }

  // --- The request/response loop (http_session.cpp) ---
  void begin();
  void after_handshake();
  void log_failed_handshake(beast::error_code ec);
  void read_header();
  void on_header(beast::error_code ec);
  void read_body();
  void on_read_error(beast::error_code ec);
  void dispatch_request();
  void write(response r);
  // The head of an answer whose body follows without a length, delimited by
  // closing the connection (SSE, streamed bodies); serialized by Beast.
  std::string open_ended_head(const response& r) const;
  void close();
  void closed_for_client();
  void drain();

  // --- Server-Sent Events (sse_session.hpp) ---
  void start_sse(subscription sub, std::string identity);
  void arm_heartbeat();
  void sse_send(std::string text, bool last);
  void sse_pump();

  // --- Streamed bodies (stream_session.hpp) ---
  struct stream_pipe;
  void start_stream(response r);
  void stream_pump();

  // Where the connection is (strand only). One phase at a time:
  //
  //   starting           accepted; the TLS handshake and the first request's
  //                      header are awaited under the read timeout
  //   reading            waiting for a request on a kept-alive connection
  //                      (idle timeout) or reading the rest of one
  //   dispatched         the api has the request; its answer is to come
  //                      (appends: after their commit)
  //   writing            an answer (or an error for a bad request) is written
  //   sse_idle           a subscription waits for a commit or its heartbeat
  //   sse_writing        SSE messages are being written
  //   sse_finishing      the last SSE message (overflow, error, or the
  //                      server stopping) is being written: then close
  //   stream_waiting     a streamed body waits for its producer's next chunk
  //   stream_writing     a chunk of it is being written
  //   closed             close() began: nothing more is written
  //
  //   starting -> reading -> dispatched -> writing -> reading (keep-alive)
  //                  |           |            `--> closed (no keep-alive, stopping, error)
  //                  |           |--> sse_idle <-> sse_writing -> sse_finishing -> closed
  //                  |           `--> (writing a response::stream)
  //                  |                  stream_waiting <-> stream_writing -> closed
  //                  |                        `-> writing (the producer failed before its first chunk)
  //                  `--> writing (malformed or too large request: an error, then closed)
  //
  // stop_now(): starting/reading cancel the read (then closed); sse_idle
  // closes; sse_writing becomes sse_finishing and cancels the write;
  // dispatched and writing answer first (write() sees `stopping` and
  // closes); the stream phases end when the producer sees `stopping`.
  enum class phase {
    starting,
    reading,
    dispatched,
    writing,
    sse_idle,
    sse_writing,
    sse_finishing,
    stream_waiting,
    stream_writing,
    closed,
  };

  Stream stream_;
  http_server::impl& srv_;
  std::string remote_;
  phase phase_ = phase::starting;
  // Facts of the connection and of the request being answered, not phases.
  bool cert_verified_ = false;     // TLS client certificate verified against client_ca_file
  handshake_note tls_note_;        // what the TLS handshake saw of the client's certificate
  std::string cert_subject_;       // its subject, for the access log
  bool keep_alive_ = true;         // the answer keeps the connection open
  bool head_ = false;              // HEAD: the answer has headers only
  unsigned version_ = 11;          // HTTP version of the request
  bool counted_unclosed_ = true;   // in srv_.unclosed until closed_for_client()
  beast::flat_buffer buffer_;
  std::array<char, 4096> discard_{};
  std::optional<http::request_parser<http::string_body>> parser_;
  std::chrono::steady_clock::time_point received_;
  std::string method_;
  std::string target_;
  net::steady_timer sse_timer_;  // heartbeat
  subscription sub_;             // sse_* phases
  std::shared_ptr<stream_pipe> pipe_;  // stream_* phases
  // The request's credentials (authorization, client certificate, host), kept
  // for credentials_changed(); the role its subscription or stream needs.
  request credentials_;
  std::optional<role> open_role_;
  std::string open_identity_;
  void end_revoked();
};

}  // namespace vellum::server
