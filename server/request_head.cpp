// Strict request heads (server/request_head.hpp).

#include "server/request_head.hpp"

#include <boost/beast/core/string.hpp>

namespace vellum::server {

namespace http = boost::beast::http;

std::string refused_head(const http::request_header<>& h) {
  if (h.version() >= 11 && h.find(http::field::host) == h.end()) return "HTTP/1.1 requires a Host header";
  if (const auto te = h.find(http::field::transfer_encoding); te != h.end()) {
    if (h.count(http::field::transfer_encoding) > 1 || !boost::beast::iequals(te->value(), "chunked"))
      return "only Transfer-Encoding: chunked is accepted";
    if (h.find(http::field::content_length) != h.end())
      return "Transfer-Encoding and Content-Length together are ambiguous";
  }
  for (auto f : {http::field::host, http::field::authorization, http::field::content_length}) {
    if (h.count(f) > 1) return "the " + std::string(http::to_string(f)) + " header may appear only once";
  }
  return {};
}

}  // namespace vellum::server
