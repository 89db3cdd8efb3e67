// The route matcher (rules at the top of routes.hpp).

#include "server/routes.hpp"

#include <algorithm>
#include <limits>

namespace vellum::server {
namespace {

// The text before the first {param}: the whole pattern if it has none.
std::string_view literal_prefix(std::string_view pattern) { return pattern.substr(0, pattern.find('{')); }

// How strongly `pattern` claims `path`, or nullopt if it does not: an exact
// literal claim ranks above every prefix claim, a longer prefix above a shorter.
std::optional<std::size_t> claim(std::string_view pattern, std::string_view path) {
  const auto prefix = literal_prefix(pattern);
  if (prefix.size() == pattern.size())
    return path == pattern ? std::optional(std::numeric_limits<std::size_t>::max()) : std::nullopt;
  if (!path.starts_with(prefix)) return std::nullopt;
  return prefix.size();
}

// Cuts the params of `pattern` from `rest` (the path after the literal
// prefix): one segment each, the last takes the remainder; missing ones are "".
std::vector<std::string_view> cut_params(std::string_view pattern, std::string_view rest) {
  const auto n = static_cast<std::size_t>(std::count(pattern.begin(), pattern.end(), '{'));
  std::vector<std::string_view> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (i + 1 == n) {
      out.push_back(rest);
      break;
    }
    const auto slash = rest.find('/');
    out.push_back(rest.substr(0, slash));
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
  }
  return out;
}

bool serves(const route_info& r, std::string_view method) {
  return r.method == method || (method == "HEAD" && r.method == "GET" && r.answers_head);
}

}  // namespace

std::string_view to_string(access a) {
  switch (a) {
    case access::open: return "public";
    case access::statement: return "signed statement";
    case access::reader: return "reader";
    case access::auditor: return "auditor";
    case access::admin: return "admin";
  }
  return "public";
}

std::optional<role> required_role(access a) {
  switch (a) {
    case access::open:
    case access::statement: return std::nullopt;
    case access::reader: return role::reader;
    case access::auditor: return role::auditor;
    case access::admin: return role::admin;
  }
  return std::nullopt;
}

route_match match_route(std::span<const route_info> routes, std::string_view method, std::string_view path) {
  route_match m;
  std::optional<std::size_t> best;
  std::size_t best_rank = 0;
  for (std::size_t i = 0; i < routes.size(); ++i) {
    auto rank = claim(routes[i].pattern, path);
    if (rank && (!best || *rank > best_rank)) {
      best = i;
      best_rank = *rank;
    }
  }
  if (!best) return m;
  const auto pattern = routes[*best].pattern;
  for (std::size_t i = *best; i < routes.size(); ++i) {
    if (routes[i].pattern != pattern || !serves(routes[i], method)) continue;
    m.result = route_match::outcome::found;
    m.row = i;
    m.params = cut_params(pattern, path.substr(literal_prefix(pattern).size()));
    return m;
  }
  m.result = route_match::outcome::wrong_method;
  m.row = *best;
  std::vector<std::string_view> seen;
  for (std::size_t i = *best; i < routes.size(); ++i) {
    if (routes[i].pattern != pattern) continue;
    if (std::find(seen.begin(), seen.end(), routes[i].method) != seen.end()) continue;
    if (!seen.empty()) m.allow += ", ";
    m.allow += routes[i].method;
    seen.push_back(routes[i].method);
  }
  return m;
}

}  // namespace vellum::server
