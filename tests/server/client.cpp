// The test HTTP client (see client.hpp). Every operation is asynchronous
// under the hood and run with io_context::run_for, so no test can hang.

#include "server/client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>

#include <stdexcept>
#include <variant>

namespace vellum::test {
namespace {
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using tls_stream = beast::ssl_stream<beast::tcp_stream>;

std::string lower(std::string s) {
  for (auto& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}
}  // namespace

boost::json::value client_response::json() const { return boost::json::parse(body); }

struct http_client::impl {
  net::io_context ioc;
  std::optional<ssl::context> ctx;
  std::optional<beast::tcp_stream> plain;
  std::optional<tls_stream> tls;
  beast::flat_buffer buffer;
  std::chrono::milliseconds timeout;

  // Runs the io_context until `done` or the timeout; throws on timeout.
  void run(const bool& done, std::chrono::milliseconds limit) {
    ioc.restart();
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done && std::chrono::steady_clock::now() < deadline) {
      ioc.run_for(std::chrono::milliseconds(20));
      if (ioc.stopped()) ioc.restart();
    }
    if (!done) throw std::runtime_error("test client: timed out");
  }

  template <class F>
  void with_stream(F&& f) {
    if (tls)
      f(*tls);
    else
      f(*plain);
  }

  client_response exchange(http::request<http::string_body>& req) {
    bool done = false;
    beast::error_code err;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 << 20);
    // A HEAD answer carries the GET's Content-Length but no body.
    if (req.method() == http::verb::head) parser.skip(true);
    with_stream([&](auto& s) {
      http::async_write(s, req, [&](beast::error_code, std::size_t) {
        // Even if the server stopped reading (e.g. a refused body), its answer may be there.
        http::async_read(s, buffer, parser, [&](beast::error_code rec, std::size_t) {
          err = rec;
          done = true;
        });
      });
    });
    run(done, timeout);
    if (err) throw std::runtime_error("test client: " + err.message());
    return convert(parser.release());
  }

  static client_response convert(http::response<http::string_body> res) {
    client_response out;
    out.status = res.result_int();
    out.body = std::move(res.body());
    for (const auto& f : res) out.headers[lower(std::string(f.name_string()))] = std::string(f.value());
    return out;
  }
};

http_client::http_client(std::uint16_t port, std::optional<tls_client_options> tls_opts,
                         std::chrono::milliseconds timeout)
    : impl_(std::make_unique<impl>()) {
  auto& p = *impl_;
  p.timeout = timeout;
  tcp::endpoint ep(net::ip::make_address("127.0.0.1"), port);
  bool done = false;
  beast::error_code err;
  if (tls_opts) {
    p.ctx.emplace(ssl::context::tls_client);
    if (!tls_opts->ca_file.empty()) {
      p.ctx->load_verify_file(tls_opts->ca_file);
      p.ctx->set_verify_mode(ssl::verify_peer);
    }
    if (!tls_opts->cert_file.empty()) {
      p.ctx->use_certificate_chain_file(tls_opts->cert_file);
      p.ctx->use_private_key_file(tls_opts->key_file, ssl::context::pem);
    }
    SSL_CTX* native = p.ctx->native_handle();
    if (tls_opts->min_version != 0) {
      if (tls_opts->min_version < TLS1_2_VERSION) SSL_CTX_set_security_level(native, 0);
      SSL_CTX_set_min_proto_version(native, tls_opts->min_version);
    }
    if (tls_opts->max_version != 0) SSL_CTX_set_max_proto_version(native, tls_opts->max_version);
    if (!tls_opts->ciphers.empty()) SSL_CTX_set_cipher_list(native, tls_opts->ciphers.c_str());
    p.tls.emplace(p.ioc, *p.ctx);
    beast::get_lowest_layer(*p.tls).async_connect(ep, [&](beast::error_code ec) {
      if (ec) {
        err = ec;
        done = true;
        return;
      }
      p.tls->async_handshake(ssl::stream_base::client, [&](beast::error_code hec) {
        err = hec;
        done = true;
      });
    });
  } else {
    p.plain.emplace(p.ioc);
    p.plain->async_connect(ep, [&](beast::error_code ec) {
      err = ec;
      done = true;
    });
  }
  p.run(done, timeout);
  if (err) throw std::runtime_error("test client: connect: " + err.message());
}

http_client::~http_client() = default;

client_response http_client::request(const std::string& method, const std::string& target,
                                     const std::string& body, const std::string& content_type,
                                     const header_list& headers) {
  http::request<http::string_body> req(http::string_to_verb(method), target, 11);
  req.set(http::field::host, "127.0.0.1");
  if (!content_type.empty()) req.set(http::field::content_type, content_type);
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  if (!body.empty() || method == "POST") req.prepare_payload();
  return impl_->exchange(req);
}

client_response http_client::raw(const std::string& bytes) {
  auto& p = *impl_;
  bool done = false;
  beast::error_code err;
  http::response_parser<http::string_body> parser;
  p.with_stream([&](auto& s) {
    net::async_write(s, net::buffer(bytes), [&](beast::error_code ec, std::size_t) {
      if (ec) {
        err = ec;
        done = true;
        return;
      }
      http::async_read(s, p.buffer, parser, [&](beast::error_code rec, std::size_t) {
        err = rec;
        done = true;
      });
    });
  });
  p.run(done, p.timeout);
  if (err) throw std::runtime_error("test client: " + err.message());
  return impl::convert(parser.release());
}

namespace {
std::size_t count_of(const std::string& hay, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = hay.find(needle); pos != std::string::npos; pos = hay.find(needle, pos + needle.size())) ++n;
  return n;
}
}  // namespace

std::string http_client::stream_until(const std::string& target, const header_list& headers,
                                      const std::string& needle, std::size_t count,
                                      std::chrono::milliseconds deadline) {
  std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  req += "\r\n";
  auto& p = *impl_;
  bool done = false;
  beast::error_code err;
  p.with_stream([&](auto& s) {
    net::async_write(s, net::buffer(req), [&](beast::error_code ec, std::size_t) {
      err = ec;
      done = true;
    });
  });
  p.run(done, p.timeout);
  if (err) throw std::runtime_error("test client: " + err.message());
  return continue_until(needle, count, deadline);
}

std::string http_client::continue_until(const std::string& needle, std::size_t count,
                                        std::chrono::milliseconds deadline) {
  auto& p = *impl_;
  auto end = std::chrono::steady_clock::now() + deadline;
  std::string seen = beast::buffers_to_string(p.buffer.data());
  p.buffer.consume(p.buffer.size());
  std::array<char, 8192> chunk{};
  bool closed = false;
  while (count_of(seen, needle) < count && !closed && std::chrono::steady_clock::now() < end) {
    bool done = false;
    p.with_stream([&](auto& s) {
      s.async_read_some(net::buffer(chunk), [&](beast::error_code ec, std::size_t n) {
        seen.append(chunk.data(), n);
        if (ec) closed = true;
        done = true;
      });
    });
    p.ioc.restart();
    while (!done && std::chrono::steady_clock::now() < end) {
      p.ioc.run_for(std::chrono::milliseconds(20));
      if (p.ioc.stopped()) p.ioc.restart();
    }
    if (!done) {
      // Cancel the pending read and let its handler run before returning.
      beast::get_lowest_layer(p.tls ? beast::get_lowest_layer(*p.tls) : *p.plain).cancel();
      p.ioc.restart();
      while (!done) p.ioc.run_for(std::chrono::milliseconds(20));
      break;
    }
  }
  return seen;
}

client_response http_request(std::uint16_t port, const std::string& method, const std::string& target,
                             const std::string& body, const std::string& content_type,
                             const header_list& headers) {
  http_client c(port);
  return c.request(method, target, body, content_type, headers);
}

}  // namespace vellum::test
