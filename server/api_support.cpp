// What every part of the request handler uses (see api_support.hpp).

#include "server/api_support.hpp"

#include "crypto/encoding.hpp"
#include "crypto/leaf_entry.hpp"

#include <charconv>

namespace vellum::server::api_support {

response json_response(unsigned status, const json::value& v) {
  response r;
  r.status = status;
  r.body = json::serialize(v);
  return r;
}

std::string b64(byte_view b) { return crypto::base64_encode(b); }

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  if (s.empty() || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

query_params parse_query(std::string_view q) {
  query_params out;
  while (!q.empty()) {
    auto amp = q.find('&');
    auto part = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
    if (part.empty()) continue;
    auto eq = part.find('=');
    auto k = percent_decode(part.substr(0, eq));
    auto v = percent_decode(eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1));
    // No route takes many parameters: past the bound the query is refused,
    // so the repeat check (linear per parameter) stays linear in the query.
    if (out.items.size() == max_query_parameters) {
      out.ok = false;
      out.problem = "more than " + std::to_string(max_query_parameters) + " query parameters";
      return out;
    }
    if (!k || !v || out.get(*k)) {
      out.ok = false;
      out.problem = !k || !v ? "malformed query parameter (bad percent-encoding)"
                             : "query parameter \"" + *k + "\" given twice";
      return out;
    }
    out.items.emplace_back(std::move(*k), std::move(*v));
  }
  return out;
}

bool u64_param(const query_params& q, std::string_view name, std::optional<std::uint64_t>& out,
               std::optional<response>& err) {
  const auto* v = q.get(name);
  if (!v) return true;
  out = parse_u64(*v);
  if (!out) {
    err = error_response(errc::bad_request, std::string(name) + ": must be a non-negative decimal integer");
    return false;
  }
  return true;
}

response too_many(std::size_t max) {
  return error_response(errc::too_many_requests,
                        "this client already has " + std::to_string(max) +
                            " exports or analytics exports running (limits.max_expensive_per_ip); "
                            "retry when one has finished");
}

bool event_page::add(const ledger::stored_event& e) {
  json::value v = event_json(e);
  const std::size_t bytes = json::serialize(v).size() + 1;  // and a comma
  if (!events_.empty() && bytes_ + bytes > max_bytes_) return false;
  bytes_ += bytes;
  events_.push_back(std::move(v));
  return true;
}

bool filter_params(const query_params& q, ledger::event_filter& f, std::optional<response>& err) {
  for (auto [name, slot] : {std::pair{"type", &f.type}, std::pair{"author", &f.author},
                            std::pair{"stream", &f.stream}, std::pair{"prefix", &f.prefix}})
    if (const auto* v = q.get(name)) *slot = *v;
  for (auto [name, slot] : {std::pair{"from_time", &f.from_us}, std::pair{"to_time", &f.to_us}}) {
    if (const auto* v = q.get(name)) {
      *slot = crypto::parse_rfc3339_us(*v);
      if (!*slot) {
        err = error_response(errc::bad_request, std::string(name) + ": not an RFC 3339 date-time");
        return false;
      }
    }
  }
  if (const auto* t = q.get("time")) {
    if (*t == "occurred_at") {
      f.by_occurred_at = true;
    } else if (*t != "recorded_at") {
      err = error_response(errc::bad_request, "time: recorded_at or occurred_at");
      return false;
    }
  }
  if (auto v = ledger::validate_filter(f); !v) {
    err = error_response(errc::bad_request, v.error().message());
    return false;
  }
  return true;
}

std::optional<std::string> unknown_parameter(const query_params& q, std::string_view allowed) {
  for (const auto& kv : q.items) {
    bool known = false;
    for (std::size_t start = 0; start < allowed.size() && !known;) {
      auto end = allowed.find(' ', start);
      if (end == std::string_view::npos) end = allowed.size();
      known = allowed.substr(start, end - start) == kv.first;
      start = end + 1;
    }
    if (!known) return kv.first;
  }
  return std::nullopt;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string media_type(std::string_view ct) {
  auto semi = ct.find(';');
  auto t = ct.substr(0, semi);
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  return lower(t);
}

json::array hashes_json(const std::vector<crypto::hash>& hs) {
  json::array a;
  for (const auto& h : hs) a.emplace_back(b64(h));
  return a;
}

response not_found(std::string message) {
  return error_response(errc::not_found, std::move(message));
}

response method_not_allowed(std::string_view allow) {
  auto r = error_response(errc::method_not_allowed);
  r.headers.emplace_back("Allow", std::string(allow));
  return r;
}

response ledger_error(const status& ec, std::string message) {
  return error_response(ec, std::move(message));
}

}  // namespace vellum::server::api_support
