// The CLI's HTTP client: the only Boost.Beast translation unit of `vellum`.
#include "cli/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <iostream>
#include <thread>
#include <vector>

namespace vellum::cli {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {
vellum::status bad_url(std::string reason) {
  return {boost::system::errc::make_error_code(boost::system::errc::invalid_argument), std::move(reason)};
}
}  // namespace

std::string to_string(const server_url& u) {
  const bool v6 = u.host.find(':') != std::string::npos;
  return (u.tls ? "https://" : "http://") + (v6 ? "[" + u.host + "]" : u.host) + ":" + u.port + u.base_path;
}

result<server_url> parse_server_url(std::string_view text) {
  server_url u;
  std::string_view rest;
  if (text.starts_with("http://")) {
    rest = text.substr(7);
  } else if (text.starts_with("https://")) {
    u.tls = true;
    rest = text.substr(8);
  } else {
    return bad_url("server URL must start with http:// or https://");
  }
  const auto slash = rest.find('/');
  std::string_view hostport = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    u.base_path = std::string(rest.substr(slash));
    while (!u.base_path.empty() && u.base_path.back() == '/') u.base_path.pop_back();
  }
  std::string_view host = hostport, port = u.tls ? "443" : "80";
  if (!hostport.empty() && hostport.front() == '[') {  // [::1]:8080
    const auto close = hostport.find(']');
    if (close == std::string_view::npos) {
      return bad_url("unterminated IPv6 address in server URL");
    }
    host = hostport.substr(1, close - 1);
    if (close + 1 < hostport.size()) {
      if (hostport[close + 1] != ':') {
        return bad_url("bad port in server URL");
      }
      port = hostport.substr(close + 2);
    }
  } else if (const auto colon = hostport.rfind(':'); colon != std::string_view::npos) {
    host = hostport.substr(0, colon);
    port = hostport.substr(colon + 1);
  }
  if (host.empty() || port.empty() || port.find_first_not_of("0123456789") != std::string_view::npos) {
    return bad_url("server URL needs a host and a numeric port");
  }
  u.host = std::string(host);
  u.port = std::string(port);
  return u;
}

struct http_client::impl {
  server_url url;
  tls_options tls;
  std::string token;
  std::chrono::milliseconds timeout;
  asio::io_context ioc;
  std::optional<ssl::context> ssl_ctx;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;

  beast::tcp_stream& lowest() { return url.tls ? beast::get_lowest_layer(*secure) : *plain; }

  void close() {
    beast::error_code ec;
    if (plain) plain->socket().close(ec);
    if (secure) beast::get_lowest_layer(*secure).socket().close(ec);
    plain.reset();
    secure.reset();
    buffer.clear();
  }

  bool connected() const { return plain.has_value() || secure.has_value(); }

  // Connects, retrying a refused or timed-out connection twice (after 0.5 s
  // and 1 s), each retry announced on stderr: a server that is restarting
  // gets a moment, a wrong URL fails within seconds.
  beast::error_code connect() {
    constexpr int attempts = 3;
    for (int attempt = 1;; ++attempt) {
      auto ec = connect_once();
      const bool transient = ec == asio::error::connection_refused || ec == beast::error::timeout ||
                             ec == asio::error::timed_out || ec == asio::error::host_unreachable ||
                             ec == asio::error::network_unreachable;
      if (!ec || !transient || attempt == attempts) return ec;
      std::cerr << "vellum: " << to_string(url) << ": " << ec.message() << "; retrying (" << attempt << " of "
                << attempts - 1 << ")\n";
      std::this_thread::sleep_for(std::chrono::milliseconds(500 * attempt));
    }
  }

  beast::error_code connect_once() {
    close();
    // Connecting is bounded on its own: a silent address must not hang a
    // command for the whole request timeout.
    const auto connect_timeout = std::min<std::chrono::milliseconds>(timeout, std::chrono::seconds(3));
    beast::error_code ec;
    tcp::resolver resolver(ioc);
    auto endpoints = resolver.resolve(url.host, url.port, ec);
    if (ec) return ec;
    if (!url.tls) {
      plain.emplace(ioc);
      plain->expires_after(connect_timeout);
      plain->connect(endpoints, ec);
      if (ec) close();
      return ec;
    }
    if (!ssl_ctx) {
      ssl_ctx.emplace(ssl::context::tls_client);
      ssl_ctx->set_options(ssl::context::no_sslv2 | ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                           ssl::context::no_tlsv1_1);
      if (tls.insecure) {
        ssl_ctx->set_verify_mode(ssl::verify_none);
      } else {
        ssl_ctx->set_verify_mode(ssl::verify_peer);
        if (!tls.ca_file.empty()) ssl_ctx->load_verify_file(tls.ca_file, ec);
        else ssl_ctx->set_default_verify_paths(ec);
        if (ec) return ec;
      }
      if (!tls.cert_file.empty()) {
        ssl_ctx->use_certificate_chain_file(tls.cert_file, ec);
        if (ec) return ec;
        ssl_ctx->use_private_key_file(tls.key_file.empty() ? tls.cert_file : tls.key_file, ssl::context::pem, ec);
        if (ec) return ec;
      }
    }
    secure.emplace(ioc, *ssl_ctx);
    if (!tls.insecure) {
      secure->set_verify_callback(ssl::host_name_verification(url.host));
      if (!SSL_set_tlsext_host_name(secure->native_handle(), url.host.c_str())) {
        close();
        return beast::error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category());
      }
    }
    beast::get_lowest_layer(*secure).expires_after(connect_timeout);
    beast::get_lowest_layer(*secure).connect(endpoints, ec);
    beast::get_lowest_layer(*secure).expires_after(timeout);
    if (!ec) secure->handshake(ssl::stream_base::client, ec);
    if (ec) close();
    return ec;
  }

  template <class Fn>
  auto with_stream(Fn&& fn) {
    if (url.tls) return fn(*secure);
    return fn(*plain);
  }

  http::request<http::string_body> make_request(std::string_view method, std::string_view target,
                                                std::string_view body, std::string_view content_type) {
    http::request<http::string_body> req;
    req.method(http::string_to_verb(method));
    req.target(url.base_path + std::string(target));
    req.version(11);
    req.set(http::field::host, url.host);
    req.set(http::field::user_agent, "vellum-cli");
    req.keep_alive(true);
    if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    if (!content_type.empty()) req.set(http::field::content_type, content_type);
    if (!body.empty() || method == "POST" || method == "PUT") {
      req.body() = std::string(body);
      req.prepare_payload();
    }
    return req;
  }
};

http_client::http_client(server_url url, tls_options tls, std::string token, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<impl>()), url_(url) {
  impl_->url = std::move(url);
  impl_->tls = std::move(tls);
  impl_->token = std::move(token);
  impl_->timeout = timeout;
  if (impl_->tls.insecure) std::cerr << "vellum: warning: TLS certificate verification is off\n";
}

http_client::~http_client() { impl_->close(); }

result<http_response> http_client::request(std::string_view method, std::string_view target,
                                           std::string_view body, std::string_view content_type) {
  auto req = impl_->make_request(method, target, body, content_type);
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool reused = impl_->connected();
    if (!reused) {
      if (auto ec = impl_->connect()) return ec;
    }
    beast::error_code ec;
    http::response_parser<http::string_body> parser;
    parser.body_limit(std::uint64_t{1} << 32);
    impl_->lowest().expires_after(impl_->timeout);
    impl_->with_stream([&](auto& s) {
      http::write(s, req, ec);
      if (!ec) http::read(s, impl_->buffer, parser, ec);
      return 0;
    });
    if (ec) {
      impl_->close();
      // A kept-alive connection the server closed meanwhile: retry once on a
      // fresh one. Requests are idempotent (appends carry their event_id).
      if (reused && (ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
                     ec == asio::error::broken_pipe || ec == asio::error::eof))
        continue;
      return ec;
    }
    auto res = parser.release();
    http_response out;
    out.status = static_cast<int>(res.result_int());
    out.content_type = std::string(res[http::field::content_type]);
    if (auto ra = res[http::field::retry_after]; !ra.empty()) {
      try {
        out.retry_after_s = std::stoi(std::string(ra));
      } catch (...) {
      }
    }
    out.body = std::move(res.body());
    if (!res.keep_alive()) impl_->close();
    return out;
  }
  return make_error_code(asio::error::connection_reset);
}

result<int> http_client::get_streamed(std::string_view target, std::string_view accept,
                                      std::string_view last_event_id, bool may_idle,
                                      const std::function<bool(int, std::string_view)>& on_chunk) {
  if (auto ec = impl_->connect()) return ec;
  auto req = impl_->make_request("GET", target, {}, {});
  req.set(http::field::accept, accept);
  if (!last_event_id.empty()) req.set("Last-Event-ID", last_event_id);
  beast::error_code ec;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);
  int status = 0;
  impl_->with_stream([&](auto& s) {
    impl_->lowest().expires_after(impl_->timeout);
    http::write(s, req, ec);
    if (ec) return 0;
    http::read_header(s, impl_->buffer, parser, ec);
    if (ec) return 0;
    status = static_cast<int>(parser.get().result_int());
    std::vector<char> buf(std::size_t{1} << 16);
    while (!parser.is_done()) {
      parser.get().body().data = buf.data();
      parser.get().body().size = buf.size();
      // A live stream may be quiet for long (the server sends keep-alive
      // comments); a download fails when stalled, never because it is slow.
      if (may_idle) impl_->lowest().expires_never();
      else impl_->lowest().expires_after(impl_->timeout);
      // read_some: hand over whatever arrived, do not wait for a full buffer.
      http::read_some(s, impl_->buffer, parser, ec);
      if (ec == http::error::need_buffer) ec = {};
      if (ec) break;
      const std::size_t got = buf.size() - parser.get().body().size;
      if (got && !on_chunk(status, std::string_view(buf.data(), got))) break;
    }
    return 0;
  });
  const bool complete = parser.is_done();
  impl_->close();
  if (ec && !complete) return ec;
  return status;
}

result<int> http_client::stream(std::string_view target, std::string_view accept,
                                const std::function<bool(std::string_view)>& on_chunk,
                                std::string_view last_event_id) {
  return get_streamed(target, accept, last_event_id, true,
                      [&](int, std::string_view chunk) { return on_chunk(chunk); });
}

result<int> http_client::download(std::string_view target, std::string_view accept,
                                  const std::function<bool(int, std::string_view)>& on_chunk) {
  return get_streamed(target, accept, {}, false, on_chunk);
}

}  // namespace vellum::cli
