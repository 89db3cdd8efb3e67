#pragma once
// The accept loop of vellumd: one listening socket, a limit on open
// connections, and transient accept errors (too many open files) that never
// stop it. What runs on an accepted connection is the caller's business.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace vellum::server {

class listener {
 public:
  using tcp = boost::asio::ip::tcp;
  // Takes an accepted connection (its socket has its own strand as executor)
  // and the peer as "address:port" ("?" if unknown). Runs on the listener's
  // strand: it must only start the session, not wait for it.
  using accept_fn = std::function<void(tcp::socket socket, std::string remote)>;

  // `connections` counts open connections: the listener adds one for each
  // connection it accepts and whoever serves the connection subtracts it when
  // it ends. A connection accepted while max_connections are open is closed
  // at once. References must outlive the listener.
  listener(boost::asio::io_context& ioc, std::size_t max_connections, std::atomic<std::size_t>& connections,
           accept_fn on_accept);

  // Binds host:port (an IP address, or "localhost" for 127.0.0.1; port 0
  // picks a free port) and listens. Start-up only: throws config_error
  // naming the address and the problem.
  void listen(const std::string& host, std::uint16_t port);

  // Starts accepting; callable from any thread, returns at once.
  void start();
  // Stops accepting: closes the socket and cancels a pending retry.
  // Callable from any thread; connections already accepted are untouched.
  void close();

  std::uint16_t port() const;  // the bound port (after listen())

 private:
  void accept();

  boost::asio::io_context& ioc_;
  std::size_t max_connections_;
  std::atomic<std::size_t>& connections_;
  accept_fn on_accept_;
  // The acceptor and its retry timer live on one strand: their handlers and
  // the close at shutdown never run at the same time (ThreadSanitizer found
  // close() racing with a pending accept's completion).
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_;
};

}  // namespace vellum::server
