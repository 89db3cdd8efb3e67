// The generic fold and field history (see fold.hpp).

#include "crypto/fold.hpp"

#include "crypto/encoding.hpp"
#include "crypto/jcs.hpp"
#include "crypto/jws.hpp"
#include "crypto/leaf_entry.hpp"
#include "crypto/sha256.hpp"

#include <map>
#include <set>
#include <unordered_map>

namespace vellum::crypto {
namespace {

namespace json = boost::json;

// The string member `name` of the payload, or null.
json::value member_or_null(const json::object& o, std::string_view name) {
  if (const auto* v = o.if_contains(name)) return *v;
  return nullptr;
}

std::string string_member(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

// Event ids voided by an event of `events`, mapped to the voiding event's id.
std::unordered_map<std::string, std::string> voided_ids(std::span<const fold_event> events) {
  std::unordered_map<std::string, std::string> out;
  for (const auto& e : events) {
    if (e.erased) continue;
    if (auto target = string_member(e.payload, "voids"); !target.empty()) out.emplace(target, e.event_id);
  }
  return out;
}

// path -> leaf value: scalars, arrays and empty objects are leaves.
void flatten(const json::value& v, const std::string& path, std::map<std::string, json::value>& out) {
  if (v.is_object() && !v.get_object().empty()) {
    for (const auto& kv : v.get_object()) flatten(kv.value(), path + "/" + pointer_token(kv.key()), out);
    return;
  }
  out.emplace(path, v);
}

bool under(std::string_view path, std::string_view pointer) {
  return pointer.empty() || path == pointer ||
         (path.size() > pointer.size() && path.starts_with(pointer) && path[pointer.size()] == '/');
}

json::object change_entry(const fold_event& e, const std::string& path, const json::value* before,
                          const json::value* after, const std::string& voided_by) {
  const auto& p = e.payload;
  json::object o;
  o["path"] = path;
  o["old"] = before ? *before : json::value(nullptr);
  o["new"] = after ? *after : json::value(nullptr);
  o["seq"] = e.seq;
  o["revision"] = e.revision;
  o["event_id"] = e.event_id;
  o["recorded_at"] = format_time_us(e.recorded_at_us);
  o["occurred_at"] = member_or_null(p, "occurred_at");
  o["author"] = member_or_null(p, "author");
  o["meaning"] = member_or_null(p, "meaning");
  o["kid"] = e.kid;
  o["amends"] = member_or_null(p, "amends");
  o["voids"] = member_or_null(p, "voids");
  o["reason"] = member_or_null(p, "reason");
  o["voided_by"] = voided_by.empty() ? json::value(nullptr) : json::value(voided_by);
  return o;
}

}  // namespace

std::string pointer_token(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

std::optional<fold_event> fold_event_of(std::uint64_t seq, std::uint64_t revision, std::uint64_t recorded_at_us,
                                        std::string event_id, std::string kid, std::string_view jws, bool erased) {
  fold_event f{seq, revision, recorded_at_us, std::move(event_id), std::move(kid), {}, erased};
  if (erased) return f;
  auto payload = jws_payload_object(jws);
  if (!payload) return std::nullopt;
  f.payload = std::move(*payload);
  return f;
}

void merge_patch(json::value& target, const json::value& patch) {
  if (!patch.is_object()) {
    target = patch;
    return;
  }
  if (!target.is_object()) target = json::object{};
  auto& t = target.get_object();
  for (const auto& kv : patch.get_object()) {
    if (kv.value().is_null()) {
      t.erase(kv.key());
    } else {
      merge_patch(t[kv.key()], kv.value());
    }
  }
}

result<folded_state> fold(std::span<const fold_event> events) {
  folded_state out;
  const auto voided = voided_ids(events);
  for (const auto& e : events) {
    if (e.erased) {
      out.erased.push_back(e.seq);
      continue;
    }
    if (voided.contains(e.event_id)) {
      out.voided.push_back(e.seq);
      continue;
    }
    if (!e.payload.contains("voids")) {
      if (const auto* data = e.payload.if_contains("data")) merge_patch(out.state, *data);
    }
    out.events.push_back(e.seq);
    out.revision = e.revision;
    out.last_seq = e.seq;
  }
  auto text = jcs_serialize(out.state);
  if (!text) return text.error();
  out.state_sha256 = hex_encode(sha256(*text));
  return out;
}

std::vector<json::object> field_history(std::span<const fold_event> events, std::string_view pointer) {
  std::vector<json::object> out;
  const auto voided = voided_ids(events);
  json::value state = json::object{};
  for (const auto& e : events) {
    if (e.erased || e.payload.contains("voids")) continue;
    const auto* data = e.payload.if_contains("data");
    if (!data) continue;
    json::value next = state;
    merge_patch(next, *data);
    std::map<std::string, json::value> before, after;
    flatten(state, "", before);
    flatten(next, "", after);
    before.erase("");  // the root {} itself is no leaf of interest
    after.erase("");
    std::set<std::string> paths;
    for (const auto& [p, v] : before) paths.insert(p);
    for (const auto& [p, v] : after) paths.insert(p);
    const auto it = voided.find(e.event_id);
    const std::string voided_by = it == voided.end() ? std::string() : it->second;
    for (const auto& p : paths) {
      if (!under(p, pointer)) continue;
      const auto b = before.find(p);
      const auto a = after.find(p);
      const json::value* bv = b == before.end() ? nullptr : &b->second;
      const json::value* av = a == after.end() ? nullptr : &a->second;
      if (bv && av && *bv == *av) continue;
      out.push_back(change_entry(e, p, bv, av, voided_by));
    }
    if (voided_by.empty()) state = std::move(next);  // a voided event never took effect
  }
  return out;
}

}  // namespace vellum::crypto
