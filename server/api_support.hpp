#pragma once
// Internal to the request handler (server/api*.cpp): what every part of the
// api uses to read a request and shape an answer. Not for the transport.

#include "server/api.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vellum::server {

namespace json = boost::json;

namespace api_support {

inline constexpr std::size_t default_page = 100;
inline constexpr std::size_t max_page = 1000;
// Index candidates one GET /v1/query page reads at most.
inline constexpr std::uint64_t max_query_candidates = 10000;

// An answer with a JSON body.
response json_response(unsigned status, const json::value& v);
std::string b64(byte_view b);
json::array hashes_json(const std::vector<crypto::hash>& hs);

// A canonical unsigned decimal (no sign, no leading zero), or nullopt.
std::optional<std::uint64_t> parse_u64(std::string_view s);
// Percent-decoding; '+' stays '+' (paths and our query values never use form encoding).
std::optional<std::string> percent_decode(std::string_view s);

// Query parameters, decoded; a repeated or undecodable one, or more than
// max_query_parameters of them, makes ok false (and `problem` says which).
inline constexpr std::size_t max_query_parameters = 32;
struct query_params {
  std::vector<std::pair<std::string, std::string>> items;
  bool ok = true;
  std::string problem;
  const std::string* get(std::string_view name) const {
    for (const auto& kv : items)
      if (kv.first == name) return &kv.second;
    return nullptr;
  }
};
query_params parse_query(std::string_view q);
// Reads an optional unsigned query parameter; returns false (and sets err) if malformed.
bool u64_param(const query_params& q, std::string_view name, std::optional<std::uint64_t>& out,
               std::optional<response>& err);

// A page of events bounded by bytes as well as by count: add() takes an
// event while the page's JSON stays within `max_bytes` (the first event is
// always taken, so a page never stalls on one large event).
class event_page {
 public:
  explicit event_page(std::size_t max_bytes) : max_bytes_(max_bytes) {}
  // False (and nothing added) once the event would overflow the page.
  bool add(const ledger::stored_event& e);
  json::array take() { return std::move(events_); }
  std::size_t size() const { return events_.size(); }

 private:
  std::size_t max_bytes_;
  std::size_t bytes_ = 0;
  json::array events_;
};

// The event filter of /v1/query and /v1/analytics (type author stream
// prefix from_time to_time time); false (and err, a 400) if malformed.
bool filter_params(const query_params& q, ledger::event_filter& f, std::optional<response>& err);

// The first parameter of `q` not named in `allowed` (space-separated names).
std::optional<std::string> unknown_parameter(const query_params& q, std::string_view allowed);

std::string lower(std::string_view s);
// The media type without parameters, lower-case, trimmed.
std::string media_type(std::string_view ct);

response not_found(std::string message = "no such resource");
// 429: the client has `max` expensive requests running (limits.max_expensive_per_ip).
response too_many(std::size_t max);
response method_not_allowed(std::string_view allow);
response ledger_error(const status& ec, std::string message = {});

}  // namespace api_support

// What a route's handler gets.
struct api::call {
  const request& req;
  std::string_view path;                         // the target without its query
  const std::vector<std::string_view>& params;   // the pattern's {params}, in order (routes.hpp)
  const api_support::query_params& query;
  std::string_view label;                        // the route's metrics label
  std::function<void(response)>& done;           // a handler that answers later calls this...
  bool& async;                                   // ...and sets this
};

}  // namespace vellum::server
