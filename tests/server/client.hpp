#pragma once
// A small synchronous HTTP/1.1 client for the server tests (plain or TLS),
// every operation bounded in time. Beast stays inside client.cpp.

#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vellum::test {

struct client_response {
  unsigned status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  boost::json::value json() const;             // parses body (throws if not JSON)
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string{} : it->second;
  }
};

struct tls_client_options {
  std::string ca_file;    // trust anchor for the server certificate
  std::string cert_file;  // client certificate (optional)
  std::string key_file;
  // Protocol versions the client offers (TLS1_VERSION … TLS1_3_VERSION; 0:
  // the library's default). Offering TLS 1.0/1.1 also lowers the client's
  // security level so that it really sends them.
  int min_version = 0;
  int max_version = 0;
  std::string ciphers;  // TLS 1.2 cipher list to offer ("": the library's default)
};

using header_list = std::vector<std::pair<std::string, std::string>>;

// One keep-alive connection to 127.0.0.1:port. Throws std::runtime_error on
// connection or protocol failure or after `timeout`.
class http_client {
 public:
  explicit http_client(std::uint16_t port, std::optional<tls_client_options> tls = std::nullopt,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~http_client();
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  client_response request(const std::string& method, const std::string& target,
                          const std::string& body = {}, const std::string& content_type = {},
                          const header_list& headers = {});
  client_response get(const std::string& target, const header_list& headers = {}) {
    return request("GET", target, {}, {}, headers);
  }
  // Sends raw bytes and reads one response (for malformed requests).
  client_response raw(const std::string& bytes);

  // Sends a GET and then reads the raw response stream (SSE) until `needle`
  // has appeared `count` times or the deadline passes; returns everything read.
  std::string stream_until(const std::string& target, const header_list& headers,
                           const std::string& needle, std::size_t count,
                           std::chrono::milliseconds deadline);
  // Continues reading an open stream (after stream_until).
  std::string continue_until(const std::string& needle, std::size_t count,
                             std::chrono::milliseconds deadline);

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

// A one-shot helper: new connection, one request.
client_response http_request(std::uint16_t port, const std::string& method, const std::string& target,
                             const std::string& body = {}, const std::string& content_type = {},
                             const header_list& headers = {});

}  // namespace vellum::test
