#pragma once
// vellumd as a whole: opens the ledger, starts the sequencer, binds the
// listen address and serves HTTP/1.1 (optionally TLS 1.2/1.3 with mutual
// TLS) on an Asio thread pool. Boost.Beast/Asio code stays in the .cpp
// files (http.cpp, listener.cpp, http_session.cpp, tls_context.cpp); this
// header stays free of it so callers compile fast.

#include "server/config.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace vellum::server {

class http_server {
 public:
  // Opens the data directory (ledger::ledger::open), creates the sequencer
  // and binds cfg.listen_host:listen_port (port 0 picks a free port), loads
  // the TLS files. Start-up only: throws config_error / std::runtime_error
  // with a message naming the problem. Accepts nothing until run().
  static std::unique_ptr<http_server> create(config cfg, bool handle_signals = false);
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  std::uint16_t port() const;           // the bound port
  std::string verifier_key() const;     // C2SP vkey of the log key
  const std::string& origin() const;    // the log's origin (as stored)
  bool tls() const;

  // With handle_signals, SIGTERM/SIGINT stop gracefully and SIGHUP reloads
  // submitters and tokens (signals are caught from create() on).
  //
  // Serves on cfg.threads threads until stop() or a signal. Blocks; returns
  // after every in-flight append was answered (or a 10 s deadline) and the
  // sequencer stopped.
  void run();

  // Graceful stop, callable from any thread (also before run() returns):
  // stop accepting, refuse new appends (503), finish queued ones, answer
  // them, then stop the I/O threads.
  void stop();

  // Re-reads submitters and tokens from the configuration file. Returns an
  // empty string on success, else the problem (old credentials stay).
  std::string reload_credentials();

  struct impl;

 private:
  explicit http_server(std::unique_ptr<impl> i);
  std::unique_ptr<impl> impl_;
};

}  // namespace vellum::server
