#pragma once
// The vocabulary of vellumd's route table and the matcher that dispatches on
// it. The table itself is api's (server/api.cpp, api::routes()); this file
// knows nothing of handlers, so the matching rules can be read and tested alone.
//
// A pattern is literal segments, then {param} segments: "/healthz",
// "/v1/events/{seq}", "/tile/{L}/{N}". Claiming a path:
//   * a pattern without params claims exactly its own text;
//   * a pattern with params claims every path that starts with its literal
//     prefix (the text before the first '{', which ends in '/'). The params are
//     then cut from the rest of the path, one segment each; the last one takes
//     whatever remains, slashes included ("x001/234.p/5" for a tile index), and
//     params the path runs out for are empty. Handlers check their params and
//     answer 404 with a reason ("not an event seq") for a bad one.
//   * a pattern with literal segments after a param ("/v1/streams/{stream}/state")
//     claims only paths of as many segments whose literal segments are equal
//     (params: one non-empty segment each); it ranks by all its literal text;
//   * an exact literal claim beats every prefix claim; among prefix claims the
//     longest prefix wins ("/v1/events/by-id/{event_id}" over "/v1/events/{seq}").
// A path claimed by no pattern is unknown (404, metrics label "other").

#include "server/config.hpp"

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vellum::server {

// Who may call a route (the "Auth" column of docs/api.md).
enum class access {
  open,       // public, no credentials
  statement,  // the signed statement in the body is its own authorisation (POST /v1/events)
  reader,     // a bearer token of at least this role (readers: or a verified TLS client certificate)
  auditor,
  admin,
};
std::string_view to_string(access a);
// The token role an access level needs; nullopt for open and statement.
std::optional<role> required_role(access a);

// One row of the route table as tests and tools see it (no handler).
struct route_info {
  std::string_view method;   // "GET" or "POST"
  std::string_view pattern;  // "/v1/events/{seq}"
  access needs = access::open;
  // A GET row answers HEAD too (headers of the GET, no body), unless it is
  // served by the transport or streams its body (GET /v1/export). Allow
  // headers list GET only, as they always have.
  bool answers_head = true;
  // Served by the transport (GET /v1/subscribe, through api::open_subscription,
  // which checks access itself); api::handle only refuses other methods with
  // 405 and a GET that reaches it anyway with 400.
  bool by_transport = false;
  std::string label;  // metrics label and response::route: "GET /v1/events/{seq}"
};

// The label of every request that no route claims (or whose query is
// malformed): one value, so the metrics' cardinality stays bounded.
inline constexpr std::string_view unknown_route_label = "other";

// What a request dispatches to.
struct route_match {
  enum class outcome { found, wrong_method, unknown };
  outcome result = outcome::unknown;
  // found: the row serving the request; wrong_method: the first row of the
  // claiming pattern (its label counts the 405).
  std::size_t row = 0;
  // wrong_method: the pattern's methods in table order, ", "-separated.
  std::string allow;
  // found: the path's params in pattern order (views into the path).
  std::vector<std::string_view> params;
};

// Matches (method, path) against `routes` by the rules above. `path` is the
// target without its query, not decoded. Pure; the views in the result point
// into `path`.
[[nodiscard]] route_match match_route(std::span<const route_info> routes, std::string_view method,
                                      std::string_view path);

}  // namespace vellum::server
