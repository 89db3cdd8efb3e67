// Applying events to a view (runner.hpp).

#include "projection/runner.hpp"

#include "crypto/encoding.hpp"
#include "crypto/fold.hpp"
#include "crypto/jcs.hpp"
#include "crypto/jws.hpp"
#include "crypto/leaf_entry.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <thread>

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
              "tree_size = excluded.tree_size, root_hash = excluded.root_hash "
              // Only over a row of the same version: a runner whose view was
              // rebuilt and swapped under it must not write into the new one.
              "WHERE vellum_projection.version = excluded.version RETURNING position",
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
  // 1. Check the page before touching the database: which events are new,
  //    and where a gap or an event that fails its leaf entry stops it. The
  //    checks (a SHA-256 commitment and two strict JSON parses an event)
  //    are most of the runner's CPU time, so they run on every core.
  struct item {
    checked_event ev;
    json::object fields;  // the verified record's members, as the handlers see them
    std::string type;
  };
  std::optional<status> stop;
  std::vector<const json::object*> fresh;  // the new events, in order (seq = position_ + index)
  std::uint64_t pos = position_;
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
    fresh.push_back(&e);
    ++pos;
  }
  std::vector<std::optional<result<checked_event>>> checked(fresh.size());  // nullopt: erased
  auto check_range = [&](std::size_t from, std::size_t to) {
    for (std::size_t k = from; k < to; ++k) {
      const auto* erased = fresh[k]->if_contains("erased");
      if (erased && erased->is_bool() && erased->get_bool()) continue;
      checked[k] = check(*fresh[k], position_ + k);
    }
  };
  const std::size_t threads =
      std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, std::max<std::size_t>(1, fresh.size() / 64));
  {
    std::vector<std::thread> pool;
    const std::size_t chunk = (fresh.size() + threads - 1) / std::max<std::size_t>(threads, 1);
    for (std::size_t t = 1; t < threads; ++t)
      pool.emplace_back(check_range, std::min(fresh.size(), t * chunk), std::min(fresh.size(), (t + 1) * chunk));
    check_range(0, std::min(fresh.size(), chunk));
    for (auto& th : pool) th.join();
  }
  std::vector<std::uint64_t> seqs;
  std::vector<std::optional<item>> todo;  // nullopt: erased, nothing to apply
  for (std::size_t k = 0; k < fresh.size(); ++k) {
    if (!checked[k]) {
      seqs.push_back(position_ + k);
      todo.emplace_back();
      continue;
    }
    if (!*checked[k]) {
      stop = checked[k]->error();  // the page stops before the first event that fails its check
      break;
    }
    seqs.push_back(position_ + k);
    item it{std::move(**checked[k]), {}, {}};
    it.fields["seq"] = it.ev.rec.seq;
    it.fields["revision"] = it.ev.rec.revision;
    it.fields["stream"] = it.ev.rec.stream;
    it.fields["event_id"] = it.ev.rec.event_id;
    it.fields["kid"] = it.ev.rec.kid;
    it.fields["recorded_at"] = crypto::format_time_us(it.ev.rec.recorded_at_us);
    if (const auto* t = it.ev.payload.if_contains("type"); t && t->is_string()) it.type = t->get_string();
    todo.push_back(std::move(it));
  }

  // 2. Apply them in one transaction, without a savepoint per event (errors
  //    are rare and a savepoint costs a round trip each on PostgreSQL): when
  //    a handler fails, the transaction is rolled back and the page applied
  //    again up to that event, which is then parked (--skip-on-error; the
  //    page goes on after it) or stops the page.
  std::vector<bool> parked(todo.size(), false);
  std::vector<std::string> parked_why(todo.size());
  auto apply_one = [&](const item& it) -> result<void> {
    for (const auto& h : handlers_) {
      if (h.on != "*" && h.on != it.type) continue;
      std::vector<value> values;
      values.reserve(h.sql.params.size());
      for (const auto& p : h.sql.params) values.push_back(field_value(it.fields, it.ev.payload, p));
      if (auto r = db_.run(h.sql, values); !r) return r.error();
    }
    if (spec_.fold) return fold_stream(db_, it.ev.rec);
    return {};
  };
  const char* begin = db_.kind() == dialect::sqlite ? "BEGIN IMMEDIATE" : "BEGIN";
  std::size_t end = todo.size();  // events [0, end) are applied this time
  for (;;) {
    if (auto b = db_.exec(begin); !b) return b.error();
    std::optional<std::pair<std::size_t, status>> failed;
    for (std::size_t k = 0; k < end && !failed; ++k) {
      if (!todo[k] || parked[k]) continue;
      if (auto r = apply_one(*todo[k]); !r) failed.emplace(k, r.error());
    }
    if (!failed) break;
    (void)db_.exec("ROLLBACK");
    const auto& [k, why] = *failed;
    const item& it = *todo[k];
    const std::string message = "event " + std::to_string(it.ev.rec.seq) + " (" + it.ev.rec.event_id + ", type " +
                                it.type + "): " + why.message();
    if (opts_.skip_on_error) {
      parked[k] = true;
      parked_why[k] = why.message();
    } else {
      stop = status(why.code(), message);
      end = k;  // apply the events before it, and stop there
    }
  }
  // 3. The parked events, the position and the checkpoint, in the same transaction.
  outcome out;
  for (std::size_t k = 0; k < end; ++k) {
    if (!todo[k]) continue;
    if (!parked[k]) {
      ++out.applied;
      continue;
    }
    auto r = db_.run(error_insert(db_.kind()), {spec_.name, static_cast<std::int64_t>(todo[k]->ev.rec.seq),
                                                todo[k]->ev.rec.event_id, parked_why[k]});
    if (!r) {
      (void)db_.exec("ROLLBACK");
      return r.error();
    }
    ++out.parked;
  }
  const std::uint64_t new_position = end < seqs.size() ? seqs[end] : position_ + seqs.size();
  auto written = db_.query(position_upsert(db_.kind()), {spec_.name, static_cast<std::int64_t>(spec_.version),
                                                         static_cast<std::int64_t>(new_position),
                                                         static_cast<std::int64_t>(tree_size), root_hex});
  if (!written) {
    (void)db_.exec("ROLLBACK");
    return written.error();
  }
  if (written->empty()) {
    (void)db_.exec("ROLLBACK");
    return invalid("the view \"" + spec_.name + "\" is no longer version " + std::to_string(spec_.version) +
                   " (rebuilt and swapped meanwhile): nothing of this page was written; restart with the new spec");
  }
  if (auto c = db_.exec("COMMIT"); !c) {
    (void)db_.exec("ROLLBACK");
    return c.error();
  }
  position_ = new_position;
  out.position = new_position;
  if (stop) return *stop;
  return out;
}

}  // namespace vellum::projection
