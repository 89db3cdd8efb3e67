#pragma once
// The accept loop of vellumd: one listening socket, a limit on open
// connections, and transient accept errors (too many open files) that never
// stop it. What runs on an accepted connection is the caller's business.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>
#include <string>

namespace vellum::server {

// Open connections, in total and per client address: what the listener
// refuses past limits.max_connections and limits.max_connections_per_ip.
// Thread-safe; a slot gives its place back when destroyed.
class connection_counts {
 public:
  connection_counts(std::size_t max_total, std::size_t max_per_address)
      : max_total_(max_total), max_per_address_(max_per_address) {}

  class slot {
   public:
    slot() = default;
    slot(slot&& o) noexcept : owner_(std::exchange(o.owner_, nullptr)), address_(std::move(o.address_)) {}
    slot& operator=(slot&& o) noexcept {
      if (this != &o) {
        release();
        owner_ = std::exchange(o.owner_, nullptr);
        address_ = std::move(o.address_);
      }
      return *this;
    }
    slot(const slot&) = delete;
    slot& operator=(const slot&) = delete;
    ~slot() { release(); }

   private:
    friend class connection_counts;
    slot(connection_counts* owner, std::string address) : owner_(owner), address_(std::move(address)) {}
    void release();
    connection_counts* owner_ = nullptr;
    std::string address_;
  };

  // A place for a connection from `address`, or nullopt with `why` set
  // ("total" or "address") when that limit is reached.
  std::optional<slot> take(const std::string& address, const char** why);
  std::size_t open() const;

 private:
  mutable std::mutex mu_;
  std::size_t max_total_, max_per_address_;
  std::size_t total_ = 0;
  std::unordered_map<std::string, std::size_t> per_address_;
};

class listener {
 public:
  using tcp = boost::asio::ip::tcp;
  // Takes an accepted connection (its socket has its own strand as executor),
  // the peer as "address:port" ("?" if unknown) and the connection's slot,
  // to keep as long as the connection lives. Runs on the listener's strand:
  // it must only start the session, not wait for it.
  using accept_fn = std::function<void(tcp::socket socket, std::string remote, connection_counts::slot slot)>;

  // A connection over a limit of `counts` is closed at once (refusals are
  // logged at most once a minute). References must outlive the
  // listener.
  listener(boost::asio::io_context& ioc, connection_counts& counts, accept_fn on_accept);

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
  connection_counts& counts_;
  accept_fn on_accept_;
  std::chrono::steady_clock::time_point last_refusal_log_{};
  // The acceptor and its retry timer live on one strand: their handlers and
  // the close at shutdown never run at the same time (ThreadSanitizer found
  // close() racing with a pending accept's completion).
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_;
};

}  // namespace vellum::server
