#pragma once
// Internal to the transport: what an http_server owns and its sessions share
// (the ledger, the api, the registries, the counters that a graceful stop
// waits on). Included by http.cpp, listener users and the session code only;
// callers of the server see http.hpp.

#include "ledger/ledger.hpp"
#include "server/access_log.hpp"
#include "server/api.hpp"
#include "server/http.hpp"
#include "server/listener.hpp"
#include "server/metrics.hpp"
#include "server/session_registry.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace vellum::server {

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
  std::optional<boost::asio::ssl::context> tls_ctx;
  connection_counts connections;  // limits.max_connections, limits.max_connections_per_ip
  // Sessions that have not yet sent their close (FIN, or TLS close_notify
  // and the socket closed): the I/O threads stop only once this reaches 0
  // (bounded), or an idle client would be left waiting on an open socket.
  std::atomic<std::size_t> unclosed{0};
  std::atomic<std::size_t> in_flight{0};  // requests read but not yet answered
  std::atomic<std::size_t> streams{0};    // producers of streamed bodies running (they use led)
  std::atomic<bool> stopping{false};
  std::atomic<std::uint64_t> last_size{0};
  std::mutex stop_mutex;
  boost::asio::io_context ioc;
  listener listen;  // after ioc: its strand and socket belong to it
  boost::asio::steady_timer log_timer{ioc};
  std::optional<boost::asio::signal_set> signals;
  std::function<void()> reload;
  std::thread stopper;

  explicit impl(config c);

  void wait_signal();
  void flush_log_periodically();
  void begin_stop();
};

// Serves one accepted connection (TLS if srv.tls_ctx is set) until it ends;
// returns at once. The session keeps itself alive, and `slot` (its place in
// srv.connections) until it is destroyed. Defined with the session
// (http_session.cpp), so that only that file compiles Beast's HTTP code.
void start_session(boost::asio::ip::tcp::socket socket, http_server::impl& srv, std::string remote,
                   connection_counts::slot slot);

}  // namespace vellum::server
