// The route matcher (rules at the top of routes.hpp).

#include "server/routes.hpp"

#include <algorithm>
#include <limits>

namespace vellum::server {
namespace {

// The text before the first {param}: the whole pattern if it has none.
std::string_view literal_prefix(std::string_view pattern) { return pattern.substr(0, pattern.find('{')); }

// The '/'-separated segments of `s`.
std::vector<std::string_view> segments(std::string_view s) {
  std::vector<std::string_view> out;
  for (std::size_t start = 0;;) {
    const auto slash = s.find('/', start);
    out.push_back(s.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    if (slash == std::string_view::npos) return out;
    start = slash + 1;
  }
}

// True if a literal segment follows a {param} ("/v1/streams/{stream}/state";
// not "/tile/{L}/{N}", whose segments after the first param are all params).
bool has_literal_suffix(std::string_view pattern) {
  bool after_param = false;
  for (auto segment : segments(pattern)) {
    if (segment.starts_with('{')) after_param = true;
    else if (after_param) return true;
  }
  return false;
}

// A pattern with a literal suffix claims exactly the paths with as many
// segments, equal literal ones and non-empty params; it ranks by all its
// literal text, so "/v1/streams/{stream}/state" beats "/v1/streams/{stream}".
std::optional<std::size_t> claim_segments(std::string_view pattern, std::string_view path) {
  const auto ps = segments(pattern), xs = segments(path);
  if (ps.size() != xs.size()) return std::nullopt;
  std::size_t literal = 0;
  for (std::size_t i = 0; i < ps.size(); ++i) {
    if (ps[i].starts_with('{')) {
      if (xs[i].empty()) return std::nullopt;
    } else if (ps[i] != xs[i]) {
      return std::nullopt;
    } else {
      literal += ps[i].size() + 1;
    }
  }
  return literal;
}

// How strongly `pattern` claims `path`, or nullopt if it does not: an exact
// literal claim ranks above every prefix claim, a longer prefix above a shorter.
std::optional<std::size_t> claim(std::string_view pattern, std::string_view path) {
  const auto prefix = literal_prefix(pattern);
  if (prefix.size() == pattern.size())
    return path == pattern ? std::optional(std::numeric_limits<std::size_t>::max()) : std::nullopt;
  if (has_literal_suffix(pattern)) return claim_segments(pattern, path);
  if (!path.starts_with(prefix)) return std::nullopt;
  return prefix.size();
}

// Cuts the params of `pattern` from `rest` (the path after the literal
// prefix): one segment each, the last takes the remainder; missing ones are
// "" (empty views at the end of the path, so that every param points into it).
std::vector<std::string_view> cut_params(std::string_view pattern, std::string_view rest) {
  if (has_literal_suffix(pattern)) {  // one segment each, by position (claim_segments matched them)
    std::vector<std::string_view> out;
    const auto ps = segments(pattern.substr(literal_prefix(pattern).size())), xs = segments(rest);
    for (std::size_t i = 0; i < ps.size() && i < xs.size(); ++i)
      if (ps[i].starts_with('{')) out.push_back(xs[i]);
    return out;
  }
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
    rest = slash == std::string_view::npos ? rest.substr(rest.size()) : rest.substr(slash + 1);
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
