#pragma once
// A small synchronous HTTP/1.1 client for the vellum CLI (Boost.Beast), with
// TLS and client certificates. One connection, reused across requests
// (keep-alive), reconnected when the server closed it. Not thread-safe.

#include "base/status.hpp"
#include "crypto/error.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>



namespace vellum::cli {

struct server_url {
  bool tls = false;
  std::string host;
  std::string port;
  std::string base_path;  // without trailing '/'
};

// "http://127.0.0.1:8080", "https://log.example:8443/prefix". An error is
// errc::invalid_argument with what is wrong with the text.
[[nodiscard]] result<server_url> parse_server_url(std::string_view text);
// The URL again, as a user reads it in messages: "http://127.0.0.1:8080".
std::string to_string(const server_url& u);

struct tls_options {
  std::string ca_file;    // trust these CAs (default: the system's)
  std::string cert_file;  // client certificate for mutual TLS
  std::string key_file;
  bool insecure = false;  // skip verification (tests only; prints a warning)
};

struct http_response {
  int status = 0;
  std::string body;
  std::string content_type;
  std::optional<int> retry_after_s;
};

class http_client {
 public:
  http_client(server_url url, tls_options tls, std::string token,
              std::chrono::milliseconds timeout = std::chrono::seconds(30));
  ~http_client();
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  // Sends one request; `target` is appended to the base path. Errors are
  // transport errors (connection refused, TLS failure, timeout); any HTTP
  // status is a successful response. Retries once on a stale keep-alive
  // connection; a refused or timed-out connect is retried twice, visibly
  // (stderr), each connect bounded to 3 s.
  [[nodiscard]] result<http_response> request(std::string_view method, std::string_view target,
                                              std::string_view body = {},
                                              std::string_view content_type = {});

  // GET with a streamed body (Server-Sent Events): `on_chunk` receives body
  // bytes as they arrive; returns when the server closes the stream or
  // on_chunk returns false.
  [[nodiscard]] result<int> stream(std::string_view target, std::string_view accept,
                                   const std::function<bool(std::string_view)>& on_chunk,
                                   std::string_view last_event_id = {});

  // GET whose (possibly very large) body is handed to `on_chunk` as it
  // arrives, with the response status, without buffering it (vellum export).
  // Every read must make progress within the client's timeout. Returns the
  // status once the whole body arrived; transport errors (including a body
  // cut short) as errors; stops early, returning the status, when on_chunk
  // returns false.
  [[nodiscard]] result<int> download(std::string_view target, std::string_view accept,
                                     const std::function<bool(int status, std::string_view chunk)>& on_chunk);

  const server_url& url() const { return url_; }

 private:
  result<int> get_streamed(std::string_view target, std::string_view accept, std::string_view last_event_id,
                           bool may_idle, const std::function<bool(int, std::string_view)>& on_chunk);

  struct impl;
  std::unique_ptr<impl> impl_;
  server_url url_;
};

}  // namespace vellum::cli
