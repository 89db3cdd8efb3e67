// Projection specs and parameter translation (spec.hpp).

#include "projection/spec.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <array>

namespace vellum::projection {
namespace {

namespace json = boost::json;

status invalid(std::string message) {
  return status(boost::system::errc::make_error_code(boost::system::errc::invalid_argument), std::move(message));
}

constexpr std::array<std::string_view, 12> fields = {"seq",         "stream",    "revision", "event_id",
                                                     "type",        "occurred_at", "recorded_at", "author_id",
                                                     "kid",         "amends",    "voids",    "reason"};

bool ident_char(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }

bool valid_name(std::string_view n) {
  return !n.empty() && n.size() <= 63 && std::all_of(n.begin(), n.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// The analytics columns as a view (docs/api.md, GET /v1/analytics).
constexpr std::string_view events_spec = R"spec({
  "name": "events",
  "version": 1,
  "schema": [
    "CREATE TABLE events (seq BIGINT PRIMARY KEY, stream TEXT NOT NULL, revision BIGINT NOT NULL, event_id TEXT NOT NULL UNIQUE, type TEXT NOT NULL, occurred_at TEXT, recorded_at TEXT NOT NULL, author_id TEXT, kid TEXT NOT NULL, amends TEXT, voids TEXT, reason TEXT, data TEXT)",
    "CREATE INDEX events_by_stream ON events (stream, revision)"
  ],
  "handlers": [
    {"on": "*", "sql": "INSERT INTO events (seq, stream, revision, event_id, type, occurred_at, recorded_at, author_id, kid, amends, voids, reason, data) VALUES (:seq, :stream, :revision, :event_id, :type, :occurred_at, :recorded_at, :author_id, :kid, :amends, :voids, :reason, :data)"}
  ]
})spec";

}  // namespace

result<spec> builtin_spec(std::string_view name) {
  if (name == "builtin:events") return parse_spec(events_spec);
  if (name == "builtin:state") {
    // The generic fold per stream, as GET /v1/streams/{s}/state answers it;
    // the runner does the folding (it is not SQL).
    spec s;
    s.name = "state";
    s.fold = true;
    s.schema = {
        "CREATE TABLE stream_state (stream TEXT PRIMARY KEY, revision BIGINT, state TEXT NOT NULL, "
        "state_sha256 TEXT NOT NULL)",
        "CREATE TABLE vellum_state_events (stream TEXT NOT NULL, revision BIGINT NOT NULL, seq BIGINT NOT NULL, "
        "recorded_at_us BIGINT NOT NULL, event_id TEXT NOT NULL, kid TEXT NOT NULL, jws TEXT NOT NULL, "
        "PRIMARY KEY (stream, revision))"};
    return s;
  }
  return invalid("no built-in spec \"" + std::string(name) + "\" (there are builtin:events and builtin:state)");
}

result<spec> parse_spec(std::string_view text) {
  if (text.starts_with("builtin:")) return builtin_spec(text);
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return invalid("spec: not JSON (" + ec.message() + ")");
  if (!v.is_object()) return invalid("spec: must be a JSON object");
  const auto& o = v.get_object();
  for (const auto& kv : o)
    if (kv.key() != "name" && kv.key() != "version" && kv.key() != "schema" && kv.key() != "handlers")
      return invalid("spec." + std::string(kv.key()) + ": unknown member (name, version, schema, handlers)");
  spec s;
  const auto* name = o.if_contains("name");
  if (!name || !name->is_string() || !valid_name(name->get_string()))
    return invalid("spec.name: required, 1-63 characters of a-z 0-9 _");
  s.name = name->get_string();
  if (const auto* ver = o.if_contains("version")) {
    if (!ver->is_int64() || ver->get_int64() < 1) return invalid("spec.version: a positive integer");
    s.version = static_cast<std::uint64_t>(ver->get_int64());
  }
  const auto* schema = o.if_contains("schema");
  if (!schema || !schema->is_array() || schema->get_array().empty())
    return invalid("spec.schema: required, an array of SQL statements that create the view's tables");
  for (std::size_t i = 0; i < schema->get_array().size(); ++i) {
    const auto& st = schema->get_array()[i];
    if (!st.is_string() || st.get_string().empty())
      return invalid("spec.schema[" + std::to_string(i) + "]: a non-empty SQL statement");
    s.schema.emplace_back(st.get_string());
  }
  const auto* handlers = o.if_contains("handlers");
  if (!handlers || !handlers->is_array() || handlers->get_array().empty())
    return invalid("spec.handlers: required, an array of {\"on\": TYPE or \"*\", \"sql\": …}");
  for (std::size_t i = 0; i < handlers->get_array().size(); ++i) {
    const std::string at = "spec.handlers[" + std::to_string(i) + "]";
    const auto& h = handlers->get_array()[i];
    if (!h.is_object()) return invalid(at + ": an object {\"on\", \"sql\"}");
    for (const auto& kv : h.get_object())
      if (kv.key() != "on" && kv.key() != "sql") return invalid(at + "." + std::string(kv.key()) + ": unknown member");
    const auto* on = h.get_object().if_contains("on");
    const auto* sql = h.get_object().if_contains("sql");
    if (!on || !on->is_string() || on->get_string().empty()) return invalid(at + ".on: required, an event type or \"*\"");
    if (!sql || !sql->is_string() || sql->get_string().empty()) return invalid(at + ".sql: required, one SQL statement");
    if (auto t = translate(sql->get_string(), dialect::sqlite); !t) return t.error().with_reason(at + ".sql");
    s.handlers.push_back({std::string(on->get_string()), std::string(sql->get_string())});
  }
  return s;
}

result<translated> translate(std::string_view sql, dialect d) {
  translated out;
  out.sql.reserve(sql.size());
  for (std::size_t i = 0; i < sql.size();) {
    const char c = sql[i];
    // String literals, quoted identifiers: copied as they are ('' and "" escapes included).
    if (c == '\'' || c == '"') {
      std::size_t end = 0;
      for (std::size_t j = i + 1; j < sql.size() && end == 0; ++j) {
        if (sql[j] != c) continue;
        if (j + 1 < sql.size() && sql[j + 1] == c) {
          ++j;  // a doubled quote inside
          continue;
        }
        end = j + 1;
      }
      if (end == 0) return invalid("an unterminated quote");
      out.sql.append(sql.substr(i, end - i));
      i = end;
      continue;
    }
    if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {  // a comment to the end of the line
      const auto nl = sql.find('\n', i);
      const std::size_t end = nl == std::string_view::npos ? sql.size() : nl;
      out.sql.append(sql.substr(i, end - i));
      i = end;
      continue;
    }
    if (c == ':' && i + 1 < sql.size() && sql[i + 1] == ':') {  // a PostgreSQL cast
      out.sql.append("::");
      i += 2;
      continue;
    }
    if (c != ':' || i + 1 >= sql.size() || !ident_char(sql[i + 1])) {
      out.sql.push_back(c);
      ++i;
      continue;
    }
    std::size_t j = i + 1;
    while (j < sql.size() && (ident_char(sql[j]) || (sql[j] == '.' && j + 1 < sql.size() && ident_char(sql[j + 1])))) ++j;
    const std::string name(sql.substr(i + 1, j - i - 1));
    const bool data = name == "data" || name.starts_with("data.");
    if (!data && std::find(fields.begin(), fields.end(), name) == fields.end())
      return invalid(":" + name + ": not an event field (seq stream revision event_id type occurred_at recorded_at "
                     "author_id kid amends voids reason, data or data.<path>)");
    // One number per distinct name, so a field used twice binds once.
    auto it = std::find(out.params.begin(), out.params.end(), name);
    std::size_t n = static_cast<std::size_t>(it - out.params.begin()) + 1;
    if (it == out.params.end()) out.params.push_back(name);
    out.sql += (d == dialect::sqlite ? '?' : '$');
    out.sql += std::to_string(n);
    i = j;
  }
  return out;
}

}  // namespace vellum::projection
