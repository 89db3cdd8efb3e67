// The accept loop (see listener.hpp).

#include "server/listener.hpp"

#include "server/access_log.hpp"
#include "server/config.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>

#include <chrono>

namespace vellum::server {

namespace net = boost::asio;

listener::listener(net::io_context& ioc, std::size_t max_connections, std::atomic<std::size_t>& connections,
                   accept_fn on_accept)
    : ioc_(ioc), max_connections_(max_connections), connections_(connections), on_accept_(std::move(on_accept)),
      strand_(net::make_strand(ioc)), acceptor_(strand_), retry_(strand_) {}

void listener::listen(const std::string& host, std::uint16_t port) {
  boost::system::error_code ec;
  auto addr = net::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec) throw config_error("listen: \"" + host + "\" is not an IP address");
  tcp::endpoint ep(addr, port);
  auto where = host + ":" + std::to_string(port);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) throw config_error("listen: cannot listen on " + where + ": " + ec.message());
}

void listener::start() {
  net::post(strand_, [this] { accept(); });
}

void listener::close() {
  net::post(strand_, [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    retry_.cancel();
  });
}

std::uint16_t listener::port() const { return acceptor_.local_endpoint().port(); }

void listener::accept() {
  acceptor_.async_accept(net::make_strand(ioc_), [this](boost::system::error_code ec, tcp::socket sock) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      // Transient (e.g. too many open files): log, back off briefly, keep accepting.
      log_message("warn", "accept failed: " + ec.message());
      retry_.expires_after(std::chrono::milliseconds(100));
      retry_.async_wait([this](boost::system::error_code wec) {
        if (!wec) accept();
      });
      return;
    }
    if (connections_.fetch_add(1) >= max_connections_) {
      connections_.fetch_sub(1);
      boost::system::error_code ignored;
      sock.close(ignored);  // over the connection limit: refuse at once
      return accept();
    }
    boost::system::error_code rec;
    // Answers and SSE messages are complete when written: send them at once.
    sock.set_option(tcp::no_delay(true), rec);
    auto ep = sock.remote_endpoint(rec);
    std::string remote = rec ? "?" : ep.address().to_string() + ":" + std::to_string(ep.port());
    on_accept_(std::move(sock), std::move(remote));
    accept();
  });
}

}  // namespace vellum::server
