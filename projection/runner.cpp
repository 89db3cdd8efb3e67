// Applying events to a view (runner.hpp).

#include "projection/runner.hpp"

#include "crypto/encoding.hpp"
#include "crypto/fold.hpp"
#include "crypto/jcs.hpp"
#include "crypto/jws.hpp"
#include "crypto/leaf_entry.hpp"

#include <boost/json.hpp>

namespace vellum::projection {
namespace {

namespace json = boost::json;
using boost::system::errc::make_error_code;

status invalid(std::string message) {
  return status(make_error_code(boost::system::errc::invalid_argument), std::move(message));
}

value json_value(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return std::monostate{};
    case json::kind::bool_: return std::int64_t{v.get_bool() ? 1 : 0};
    case json::kind::int64: return v.get_int64();
    case json::kind::uint64:
      if (v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) return static_cast<std::int64_t>(v.get_uint64());
      return static_cast<double>(v.get_uint64());
    case json::kind::double_: return v.get_double();
    case json::kind::string: return std::string(v.get_string());
    default: {  // objects and arrays as canonical JSON (RFC 8785: stable across rebuilds and databases)
      auto text = crypto::jcs_serialize(v);
      return text ? std::move(*text) : json::serialize(v);
    }
  }
}

value string_member(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  if (!v || !v->is_string()) return std::monostate{};
  return std::string(v->get_string());
}

// Placeholder n in the database's dialect.
std::string ph(dialect d, int n) { return (d == dialect::sqlite ? "?" : "$") + std::to_string(n); }

translated position_upsert(dialect d) {
  return {"INSERT INTO vellum_projection (name, version, position, tree_size, root_hash) VALUES (" + ph(d, 1) + ", " +
              ph(d, 2) + ", " + ph(d, 3) + ", " + ph(d, 4) + ", " + ph(d, 5) +
              ") ON CONFLICT (name) DO UPDATE SET version = excluded.version, position = excluded.position, "
              "tree_size = excluded.tree_size, root_hash = excluded.root_hash",
          {}};
}

translated error_insert(dialect d) {
  return {"INSERT INTO vellum_projection_errors (name, seq, event_id, error) VALUES (" + ph(d, 1) + ", " + ph(d, 2) +
              ", " + ph(d, 3) + ", " + ph(d, 4) + ") ON CONFLICT (name, seq) DO UPDATE SET error = excluded.error",
          {}};
}

// The event's record, checked against its leaf entry, and its payload.
struct checked_event {
  crypto::event_record rec;
  json::object payload;
};

result<checked_event> check(const json::object& e, std::uint64_t seq) {
  auto text = [&](std::string_view name) -> std::string_view {
    const auto* v = e.if_contains(name);
    return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
  };
  auto leaf = crypto::base64_decode(text("leaf_entry"));
  auto salt = crypto::base64_decode(text("salt"));
  if (!leaf || !salt) return invalid("event " + std::to_string(seq) + ": leaf_entry or salt is not base64");
  auto entry = crypto::decode_leaf_entry(*leaf);
  if (!entry) return invalid("event " + std::to_string(seq) + ": leaf_entry does not decode");
  auto rec = crypto::check_record(*entry, *salt, text("record"));
  if (!rec || rec->seq != seq)
    return invalid("event " + std::to_string(seq) + ": its record does not match its leaf entry's commitment");
  auto payload = crypto::jws_payload_object(rec->jws);
  if (!payload) return invalid("event " + std::to_string(seq) + ": its JWS payload does not read");
  return checked_event{std::move(*rec), std::move(*payload)};
}

// builtin:state: keeps the event with its stream's others and folds the
// stream again (voids and amendments can change any earlier part of it),
// exactly as GET /v1/streams/{s}/state does (crypto::fold over
// crypto::fold_event_of of each event).
result<void> fold_stream(view_db& db, const crypto::event_record& rec) {
  const dialect d = db.kind();
  const translated keep{"INSERT INTO vellum_state_events (stream, revision, seq, recorded_at_us, event_id, kid, jws) "
                        "VALUES (" + ph(d, 1) + ", " + ph(d, 2) + ", " + ph(d, 3) + ", " + ph(d, 4) + ", " + ph(d, 5) +
                            ", " + ph(d, 6) + ", " + ph(d, 7) + ")",
                        {}};
  if (auto r = db.run(keep, {rec.stream, static_cast<std::int64_t>(rec.revision), static_cast<std::int64_t>(rec.seq),
                             static_cast<std::int64_t>(rec.recorded_at_us), rec.event_id, rec.kid, rec.jws});
      !r)
    return r.error();
  const translated all{"SELECT seq, revision, recorded_at_us, event_id, kid, jws FROM vellum_state_events WHERE stream = " +
                           ph(d, 1) + " ORDER BY revision",
                       {}};
  auto rows = db.query(all, {rec.stream});
  if (!rows) return rows.error();
  std::vector<crypto::fold_event> events;
  events.reserve(rows->size());
  for (const auto& row : *rows) {
    auto num = [&](std::size_t i) { return static_cast<std::uint64_t>(std::get<std::int64_t>(row[i])); };
    auto f = crypto::fold_event_of(num(0), num(1), num(2), std::get<std::string>(row[3]), std::get<std::string>(row[4]),
                                   std::get<std::string>(row[5]), false);
    if (!f) return invalid("event " + std::to_string(num(0)) + ": its payload does not read");
    events.push_back(std::move(*f));
  }
  auto folded = crypto::fold(events);
  if (!folded) return folded.error();
  auto state = crypto::jcs_serialize(folded->state);
  if (!state) return state.error();
  const translated upsert{"INSERT INTO stream_state (stream, revision, state, state_sha256) VALUES (" + ph(d, 1) + ", " +
                              ph(d, 2) + ", " + ph(d, 3) + ", " + ph(d, 4) +
                              ") ON CONFLICT (stream) DO UPDATE SET revision = excluded.revision, state = excluded.state, "
                              "state_sha256 = excluded.state_sha256",
                          {}};
  return db.run(upsert, {rec.stream,
                         folded->revision ? value(static_cast<std::int64_t>(*folded->revision)) : value(std::monostate{}),
                         std::move(*state), folded->state_sha256});
}

}  // namespace

value field_value(const json::object& event, const json::object& payload, std::string_view field) {
  if (field == "seq" || field == "revision") {
    const auto* v = event.if_contains(field);
    return v ? json_value(*v) : value{};
  }
  if (field == "stream" || field == "event_id" || field == "kid" || field == "recorded_at") return string_member(event, field);
  if (field == "author_id") {
    const auto* a = payload.if_contains("author");
    if (a && a->is_string()) return std::string(a->get_string());
    if (a && a->is_object()) return string_member(a->get_object(), "id");
    return std::monostate{};
  }
  if (field == "data" || field.starts_with("data.")) {
    const json::value* v = payload.if_contains("data");
    std::string_view rest = field.substr(4);
    while (v && !rest.empty()) {
      rest.remove_prefix(1);  // the '.'
      const auto dot = rest.find('.');
      const std::string_view member = rest.substr(0, dot);
      v = v->is_object() ? v->get_object().if_contains(member) : nullptr;
      rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot);
    }
    return v ? json_value(*v) : value{};
  }
  return string_member(payload, field);  // type occurred_at amends voids reason
}

runner::runner(view_db& db, spec s, options o) : db_(db), spec_(std::move(s)), opts_(o) {}

result<position_row> runner::open() {
  handlers_.clear();
  for (const auto& h : spec_.handlers) {
    auto t = translate(h.sql, db_.kind());
    if (!t) return t.error();
    handlers_.push_back({h.on, std::move(*t)});
  }
  if (auto r = db_.exec(bookkeeping_schema); !r) return r.error().with_reason("create vellum_projection");
  auto row = db_.position(spec_.name);
  if (!row) return row.error();
  if (*row) {
    if ((*row)->version != spec_.version)
      return invalid("the view \"" + spec_.name + "\" in this database is version " + std::to_string((*row)->version) +
                     ", the spec is version " + std::to_string(spec_.version) +
                     ": build the new version into another database (rebuild in place is not available yet)");
    position_ = (*row)->position;
    return **row;
  }
  // A new view: its tables and its row, together.
  if (auto b = db_.exec(db_.kind() == dialect::sqlite ? "BEGIN IMMEDIATE" : "BEGIN"); !b) return b.error();
  auto create = [&]() -> result<void> {
    for (std::size_t i = 0; i < spec_.schema.size(); ++i)
      if (auto r = db_.exec(spec_.schema[i]); !r)
        return r.error().with_reason("spec.schema[" + std::to_string(i) + "]");
    return db_.run(position_upsert(db_.kind()),
                   {spec_.name, static_cast<std::int64_t>(spec_.version), std::int64_t{0}, std::int64_t{0}, std::string()});
  };
  if (auto r = create(); !r) {
    (void)db_.exec("ROLLBACK");
    return r.error();
  }
  if (auto c = db_.exec("COMMIT"); !c) return c.error();
  position_ = 0;
  return position_row{spec_.name, spec_.version, 0, 0, {}};
}

result<runner::outcome> runner::apply(std::span<const json::object> events, std::uint64_t tree_size,
                                      const std::string& root_hex) {
  outcome out;
  out.position = position_;
  if (auto b = db_.exec(db_.kind() == dialect::sqlite ? "BEGIN IMMEDIATE" : "BEGIN"); !b) return b.error();
  std::uint64_t pos = position_;
  std::optional<status> stop;
  for (const auto& e : events) {
    const auto* s = e.if_contains("seq");
    if (!s || !s->is_number()) {
      stop = invalid("an event without a seq");
      break;
    }
    const auto seq = s->to_number<std::uint64_t>();
    if (seq < pos) continue;  // applied already
    if (seq > pos) {
      stop = invalid("events " + std::to_string(pos) + " to " + std::to_string(seq - 1) + " are missing from the page");
      break;
    }
    if (const auto* erased = e.if_contains("erased"); erased && erased->is_bool() && erased->get_bool()) {
      ++pos;  // no content to apply
      continue;
    }
    auto ev = check(e, seq);
    if (!ev) {
      stop = ev.error();
      break;
    }
    json::object fields;  // the verified record's members, as the handlers see them
    fields["seq"] = ev->rec.seq;
    fields["revision"] = ev->rec.revision;
    fields["stream"] = ev->rec.stream;
    fields["event_id"] = ev->rec.event_id;
    fields["kid"] = ev->rec.kid;
    fields["recorded_at"] = crypto::format_time_us(ev->rec.recorded_at_us);
    const auto* type = ev->payload.if_contains("type");
    const std::string_view type_name = type && type->is_string() ? std::string_view(type->get_string()) : "";
    if (auto sp = db_.exec("SAVEPOINT vellum_event"); !sp) {
      stop = sp.error();
      break;
    }
    std::optional<status> failed;
    for (const auto& h : handlers_) {
      if (h.on != "*" && h.on != type_name) continue;
      std::vector<value> values;
      values.reserve(h.sql.params.size());
      for (const auto& p : h.sql.params) values.push_back(field_value(fields, ev->payload, p));
      if (auto r = h.sql.sql.empty() ? result<void>{} : db_.run(h.sql, values); !r) {
        failed = r.error();
        break;
      }
    }
    if (!failed && spec_.fold) {
      if (auto r = fold_stream(db_, ev->rec); !r) failed = r.error();
    }
    if (failed) {
      if (auto rb = db_.exec("ROLLBACK TO vellum_event"); !rb) {
        stop = rb.error();
        break;
      }
      (void)db_.exec("RELEASE vellum_event");
      const std::string why = "event " + std::to_string(seq) + " (" + ev->rec.event_id + ", type " +
                              std::string(type_name) + "): " + failed->message();
      if (!opts_.skip_on_error) {
        stop = status(failed->code(), why);
        break;
      }
      auto parked = db_.run(error_insert(db_.kind()), {spec_.name, static_cast<std::int64_t>(seq), ev->rec.event_id,
                                                       failed->message()});
      if (!parked) {
        stop = parked.error();
        break;
      }
      ++out.parked;
    } else {
      if (auto rel = db_.exec("RELEASE vellum_event"); !rel) {
        stop = rel.error();
        break;
      }
      ++out.applied;
    }
    ++pos;
  }
  // What was applied, with its position, commits; an error after it is reported.
  auto written = db_.run(position_upsert(db_.kind()), {spec_.name, static_cast<std::int64_t>(spec_.version),
                                                       static_cast<std::int64_t>(pos), static_cast<std::int64_t>(tree_size),
                                                       root_hex});
  if (!written) {
    (void)db_.exec("ROLLBACK");
    return written.error();
  }
  if (auto c = db_.exec("COMMIT"); !c) {
    (void)db_.exec("ROLLBACK");
    return c.error();
  }
  position_ = pos;
  out.position = pos;
  if (stop) return *stop;
  return out;
}

}  // namespace vellum::projection
