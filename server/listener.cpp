// The accept loop (see listener.hpp).

#include "server/listener.hpp"

#include "server/access_log.hpp"
#include "server/config.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>

#include <chrono>

namespace vellum::server {

namespace net = boost::asio;

void connection_counts::slot::release() {
  if (!owner_) return;
  std::lock_guard lock(owner_->mu_);
  --owner_->total_;
  if (auto it = owner_->per_address_.find(address_); it != owner_->per_address_.end() && --it->second == 0)
    owner_->per_address_.erase(it);
  owner_ = nullptr;
}

std::optional<connection_counts::slot> connection_counts::take(const std::string& address, const char** why) {
  std::lock_guard lock(mu_);
  if (total_ >= max_total_) {
    *why = "total";
    return std::nullopt;
  }
  auto& n = per_address_[address];
  if (n >= max_per_address_) {
    if (n == 0) per_address_.erase(address);
    *why = "address";
    return std::nullopt;
  }
  ++n;
  ++total_;
  return slot(this, address);
}

std::size_t connection_counts::open() const {
  std::lock_guard lock(mu_);
  return total_;
}

listener::listener(net::io_context& ioc, connection_counts& counts, accept_fn on_accept)
    : ioc_(ioc), counts_(counts), on_accept_(std::move(on_accept)), strand_(net::make_strand(ioc)), acceptor_(strand_),
      retry_(strand_) {}

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
    boost::system::error_code rec;
    auto ep = sock.remote_endpoint(rec);
    const std::string address = rec ? std::string("?") : ep.address().to_string();
    const char* why = "";
    auto slot = counts_.take(address, &why);
    if (!slot) {
      // Over a limit: refuse at once (logged at most once a minute).
      const auto now = std::chrono::steady_clock::now();
      if (now - last_refusal_log_ >= std::chrono::minutes(1)) {
        last_refusal_log_ = now;
        log_message("warn", std::string("refused a connection from ") + address +
                                (std::string_view(why) == "total" ? ": limits.max_connections are open"
                                                                  : ": limits.max_connections_per_ip from that address are open"));
      }
      boost::system::error_code ignored;
      sock.close(ignored);
      return accept();
    }
    // Answers and SSE messages are complete when written: send them at once.
    sock.set_option(tcp::no_delay(true), rec);
    std::string remote = address == "?" ? address : address + ":" + std::to_string(ep.port());
    on_accept_(std::move(sock), std::move(remote), std::move(*slot));
    accept();
  });
}

}  // namespace vellum::server
