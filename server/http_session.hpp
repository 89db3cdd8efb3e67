#pragma once
// Internal to the transport: one HTTP/1.1 connection, plain or TLS, on its own
// strand. The class template is declared here; its members are defined in
// three parts, each about one job:
//
//   http_session.cpp    the request/response loop (read, dispatch to the api,
//                       write, keep-alive, close), and the one explicit
//                       instantiation per stream type;
//   sse_session.hpp     GET /v1/subscribe as Server-Sent Events;
//   stream_session.hpp  GET /v1/export, a body streamed from a worker thread.
//
// The last two are included only by http_session.cpp, so Beast's HTTP code is
// compiled in one translation unit (compile time).
//
// Before every read the stream gets a deadline (idle timeout while waiting
// for a request on a kept-alive connection, read timeout for the first
// request, the rest of a request and the TLS handshake); every parser has a
// header and a body limit.

#include "ledger/export.hpp"
#include "server/api.hpp"
#include "server/http_server_impl.hpp"

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

  // Registers the session and begins (TLS handshake, then the first read).
  void start();

  void wake() override;
  void stop_now() override;

 private:
  auto& lowest() { return beast::get_lowest_layer(stream_); }
  const limits& lim() const { return srv_.cfg.lim; }

  // --- The request/response loop (http_session.cpp) ---
  void begin();
  void after_handshake();
  void read_header();
  void on_header(beast::error_code ec);
  void read_body();
  void on_read_error(beast::error_code ec);
  void dispatch_request();
  void write(response r);
  void close();
  void closed_for_client();
  void drain();

  // --- Server-Sent Events (sse_session.hpp) ---
  void start_sse(subscription sub);
  void arm_heartbeat();
  void sse_send(std::string text);
  void sse_pump();

  // --- Sealed exports (stream_session.hpp) ---
  struct export_pipe;
  void start_export(ledger::export_request req);
  void export_pump();

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

}  // namespace vellum::server
