// The JSON form of a receipt (docs/formats.md, "receipt"):
//
//   {"seq":N, "stream":"…", "revision":R,
//    "recorded_at":"2026-03-09T10:00:00.000000Z", "recorded_at_us":N,
//    "event_id":"…", "kid":"…",
//    "leaf_entry":"<base64>", "record":"<the record JSON text>",
//    "salt":"<base64 of 32 bytes>", "checkpoint":"<signed note text>",
//    "tree_size":N, "inclusion_proof":["<base64 of 32 bytes>", …]}
//
// Bytes are standard base64 with padding (RFC 4648 §4). The parser is strict:
// every member present with its type, no unknown members, recorded_at equal
// to the formatting of recorded_at_us.

#include "ledger/ledger.hpp"

#include "crypto/encoding.hpp"
#include "crypto/leaf_entry.hpp"

#include <boost/json.hpp>

namespace vellum::ledger {
namespace {

namespace json = boost::json;

result<std::uint64_t> get_uint(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr) return errc::invalid_argument;
  if (v->is_uint64()) return v->get_uint64();
  if (v->is_int64() && v->get_int64() >= 0) return static_cast<std::uint64_t>(v->get_int64());
  return errc::invalid_argument;
}

result<std::string> get_string(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr || !v->is_string()) return errc::invalid_argument;
  return std::string(v->get_string());
}

result<bytes> get_base64(const json::object& o, std::string_view name) {
  auto s = get_string(o, name);
  if (!s) return s.error();
  auto b = crypto::base64_decode(*s);
  if (!b) return errc::invalid_argument;
  return std::move(*b);
}

}  // namespace

json::object receipt::to_json() const {
  json::array proof;
  proof.reserve(inclusion_proof.size());
  for (const hash& h : inclusion_proof) proof.emplace_back(crypto::base64_encode(h));
  json::object o;
  o["seq"] = seq;
  o["stream"] = stream;
  o["revision"] = revision;
  o["recorded_at"] = crypto::format_time_us(recorded_at_us);
  o["recorded_at_us"] = recorded_at_us;
  o["event_id"] = event_id;
  o["kid"] = kid;
  o["leaf_entry"] = crypto::base64_encode(leaf_entry);
  o["record"] = record;
  o["salt"] = crypto::base64_encode(salt);
  o["checkpoint"] = checkpoint;
  o["tree_size"] = tree_size;
  o["inclusion_proof"] = std::move(proof);
  return o;
}

result<receipt> receipt_from_json(const json::object& o) {
  static constexpr std::string_view members[] = {
      "seq",  "stream",     "revision",   "recorded_at", "recorded_at_us", "event_id", "kid",
      "leaf_entry", "record", "salt", "checkpoint", "tree_size", "inclusion_proof"};
  if (o.size() != std::size(members)) return errc::invalid_argument;
  receipt r;
  auto seq = get_uint(o, "seq");
  auto stream = get_string(o, "stream");
  auto revision = get_uint(o, "revision");
  auto recorded_at = get_string(o, "recorded_at");
  auto recorded_at_us = get_uint(o, "recorded_at_us");
  auto event_id = get_string(o, "event_id");
  auto kid = get_string(o, "kid");
  auto leaf = get_base64(o, "leaf_entry");
  auto record = get_string(o, "record");
  auto salt = get_base64(o, "salt");
  auto checkpoint = get_string(o, "checkpoint");
  auto tree_size = get_uint(o, "tree_size");
  if (!seq || !stream || !revision || !recorded_at || !recorded_at_us || !event_id || !kid ||
      !leaf || !record || !salt || !checkpoint || !tree_size) {
    return errc::invalid_argument;
  }
  if (*recorded_at != crypto::format_time_us(*recorded_at_us)) return errc::invalid_argument;
  if (salt->size() != crypto::salt_size || *seq >= *tree_size) return errc::invalid_argument;
  const json::value* proof = o.if_contains("inclusion_proof");
  if (proof == nullptr || !proof->is_array()) return errc::invalid_argument;
  for (const json::value& v : proof->get_array()) {
    if (!v.is_string()) return errc::invalid_argument;
    auto h = crypto::base64_decode(v.get_string());
    if (!h || h->size() != std::tuple_size_v<hash>) return errc::invalid_argument;
    hash out;
    std::copy(h->begin(), h->end(), out.begin());
    r.inclusion_proof.push_back(out);
  }
  r.seq = *seq;
  r.stream = std::move(*stream);
  r.revision = *revision;
  r.recorded_at_us = *recorded_at_us;
  r.event_id = std::move(*event_id);
  r.kid = std::move(*kid);
  r.leaf_entry = std::move(*leaf);
  r.record = std::move(*record);
  r.salt = std::move(*salt);
  r.checkpoint = std::move(*checkpoint);
  r.tree_size = *tree_size;
  return r;
}

}  // namespace vellum::ledger
