// A request as it arrives on a connection: Beast's parser with vellumd's
// default limits, then Vellum's own head rules (server/request_head.hpp) and
// the query string of the target. Promises: the parser never reads past the
// limits it was given, and the head rules decide every head it completes.

#include "fuzz/fuzz_target.hpp"
#include "server/api_support.hpp"
#include "server/config.hpp"
#include "server/request_head.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

VELLUM_FUZZ_TARGET(http_head) {
  namespace http = boost::beast::http;
  using namespace vellum;
  const server::limits lim;
  http::request_parser<http::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(lim.max_header_bytes));
  parser.body_limit(lim.max_body_bytes);
  parser.eager(true);

  boost::asio::const_buffer rest(data, size);
  boost::beast::error_code ec;
  while (rest.size() > 0 && !parser.is_done()) {
    const std::size_t used = parser.put(rest, ec);
    if (ec == http::error::need_more) {
      ec = {};
      if (used == 0) break;
    }
    if (ec) break;
    rest += used;
  }
  if (!ec && !parser.is_done()) parser.put_eof(ec);

  if (parser.is_header_done()) {
    const auto& req = parser.get();
    VELLUM_FUZZ_CHECK(req.body().size() <= lim.max_body_bytes);
    const std::string why = server::refused_head(req.base());
    if (why.empty() && req.version() >= 11) VELLUM_FUZZ_CHECK(req.find(http::field::host) != req.end());
    const std::string_view target = req.target();
    if (const auto q = target.find('?'); q != std::string_view::npos) {
      const auto params = server::api_support::parse_query(target.substr(q + 1));
      if (!params.ok) VELLUM_FUZZ_CHECK(!params.problem.empty());
    }
  }
  return 0;
}
