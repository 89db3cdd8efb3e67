#pragma once
// The rules a request's head must follow beyond what Beast's parser checks
// (docs/api.md "Strict HTTP"). Apart from the session so that tests and the
// fuzz target (tests/fuzz/fuzz_http_head.cpp) reach it without a socket.

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>

#include <string>

namespace vellum::server {

// What a request's head must not be (RFC 9112): HTTP/1.1 without Host (§3.2),
// Host, Authorization or Content-Length twice (two proxies could each take a
// different one), a Transfer-Encoding other than exactly "chunked" (stacked
// or unknown codings, or a value an obsolete line folding ran into), or one
// next to a Content-Length. Beast already refuses malformed lengths. Empty:
// acceptable; else the sentence the 400 carries.
std::string refused_head(const boost::beast::http::request_header<>& h);

}  // namespace vellum::server
