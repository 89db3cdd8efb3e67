#pragma once
// A projection spec (docs/projections.md): how events become rows of a SQL
// view. JSON with `name`, `version`, `schema` (SQL statements that create the
// view's tables) and `handlers` ([{"on": TYPE or "*", "sql": "…"}]), or one
// of the built-in specs by name ("builtin:events").
//
// Handler SQL names event fields as parameters: `:seq :stream :revision
// :event_id :type :occurred_at :recorded_at :author_id :kid :amends :voids
// :reason` and `:data.<path>` (a member of the payload's `data`, dots between
// member names; missing → NULL). translate() rewrites them into the
// positional parameters every database takes.

#include "base/status.hpp"

#include <boost/json/fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vellum::projection {

struct handler {
  std::string on;   // an event type, or "*" for every event
  std::string sql;  // one statement
};

struct spec {
  std::string name;     // [a-z0-9_]+, the vellum_projection row's name
  std::uint64_t version = 1;
  std::vector<std::string> schema;  // run once, when the view is created
  std::vector<handler> handlers;    // in order; every matching one runs
  // builtin:state: the runner also folds each event's stream (crypto/fold.hpp)
  // into stream_state, from the stream's events kept in vellum_state_events.
  bool fold = false;
};

// Parses a spec's JSON text, or a built-in by name ("builtin:events",
// "builtin:state").
// Errors: invalid_argument naming the member ("handlers[2].sql: required").
[[nodiscard]] result<spec> parse_spec(std::string_view text);
[[nodiscard]] result<spec> builtin_spec(std::string_view name);

// What a statement's parameters are, in the order of their placeholders.
struct translated {
  std::string sql;                  // with ?1, ?2… (SQLite) or $1, $2… (PostgreSQL)
  std::vector<std::string> params;  // "seq", "data.dose", … for each number
};
enum class dialect { sqlite, postgresql };
// Rewrites :name parameters outside string literals, quoted identifiers and
// comments (a "::" cast is left alone). Errors: invalid_argument for an
// unknown field name (not in the list above, nor data.<path>).
[[nodiscard]] result<translated> translate(std::string_view sql, dialect d);

}  // namespace vellum::projection
