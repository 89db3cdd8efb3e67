// What a tile or proof request's target goes through before any data is
// read: the route table (server/routes.hpp), the query string, the C2SP tile
// path and the numbers of a proof request. The input is "METHOD TARGET".
// Promises: a parsed tile path formats back to the same path, and a matched
// route's parameters are views into the path.

#include "crypto/tile.hpp"
#include "fuzz/fuzz_target.hpp"
#include "server/api.hpp"
#include "server/api_support.hpp"
#include "server/routes.hpp"

VELLUM_FUZZ_TARGET(tile_request) {
  using namespace vellum;
  const std::string_view text = fuzz::as_text(data, size);
  const auto space = text.find(' ');
  const std::string_view method = space == std::string_view::npos ? "GET" : text.substr(0, space);
  const std::string_view target = space == std::string_view::npos ? text : text.substr(space + 1);
  const auto q = target.find('?');
  const std::string_view path = target.substr(0, q);

  const auto m = server::match_route(server::api::routes(), method, path);
  for (const auto p : m.params)
    VELLUM_FUZZ_CHECK(p.data() >= path.data() && p.data() + p.size() <= path.data() + path.size());

  if (path.starts_with("/tile/")) {
    if (auto t = crypto::parse_tile_path(path.substr(1))) VELLUM_FUZZ_CHECK(crypto::tile_path(*t) == path.substr(1));
  }
  if (auto t = crypto::parse_tile_path(target)) VELLUM_FUZZ_CHECK(crypto::tile_path(*t) == target);

  if (q != std::string_view::npos) {
    const auto params = server::api_support::parse_query(target.substr(q + 1));
    if (params.ok) {
      std::optional<server::response> err;
      std::optional<std::uint64_t> n;
      for (const char* name : {"seq", "tree_size", "first", "second", "from", "limit"}) {
        n.reset();
        err.reset();
        if (server::api_support::u64_param(params, name, n, err)) VELLUM_FUZZ_CHECK(!err.has_value());
        else VELLUM_FUZZ_CHECK(err.has_value());
      }
      ledger::event_filter f;
      err.reset();
      if (!server::api_support::filter_params(params, f, err)) VELLUM_FUZZ_CHECK(err.has_value());
    }
  }
  return 0;
}
