#pragma once
// The ledger's storage schema: the one table of LMDB databases, their key
// and value layouts, and checked codecs for every stored value (also in
// docs/formats.md, "Storage").
//
// All integers are big-endian and fixed-width, so LMDB's default bytewise
// key order is numeric order; no custom comparators.
//
//  db            key                                   value
//  ------------  ------------------------------------  --------------------------------
//  meta          "schema_version"                      u32 (= schema::version)
//                "origin"                              checkpoint origin / log key name
//                "verifier_key"                        C2SP vkey of the log key
//                "tree_size"                           u64 number of leaves
//                "recorded_at"                         u64 last recorded_at (µs)
//                "indexed"                             u64: event_ids, stream_index and
//                                                      streams hold exactly the events
//                                                      of seq below it
//  leaves        seq u64                               leaf entry bytes (crypto::leaf_entry)
//  records       seq u64                               salt[32] || event record JSON bytes
//  nodes         level u8 || index u64                 32-byte hash of a complete subtree
//                                                      (level 0 = leaf hashes); tiles are
//                                                      range reads at level 8·L
//  stream_index  stream || 0x00 || revision u64        seq u64
//  streams       stream                                newest revision u64 below
//                                                      indexed
//  event_ids     event_id (16 UUID bytes)              seq u64
//  amends        amended event_id (16) || seq u64      empty
//  checkpoints   tree_size u64                         signed note text
//  by_type       term(type) || seq u64                 empty
//  by_author     term(author id) || seq u64            empty
//  by_recorded   recorded_at u64 (µs) || seq u64       empty
//  by_occurred   occurred_at u64 (µs) || seq u64       empty
//
// term(x) is the first 16 bytes of SHA-256(x): fixed-size keys whatever the
// type or author id holds (NUL bytes, any length), and no author id in a key
// in clear. A 2^-128 collision could only add a candidate that a query then
// drops, since every query compares the event's own payload.
//
// leaves, records, checkpoints and by_recorded grow at the end and are
// written with MDB_APPEND. Every batch writes one checkpoint; the one of size
// 0 is written when the log is created. amends and the four query indexes
// (by_*) are written with each batch, in its transaction;
// event_ids, stream_index and streams in bulk merges (store::recent_index
// holds the newer entries in memory, rebuilt from the records at open).
//
// Versions: 1 wrote every index with each batch and had no "indexed"; 2
// had no query indexes. Opening a version 1 or 2 store for writing upgrades
// it in place, in the opening transaction (indexed = tree_size; the query
// indexes built from the records), to version 3; fsck reads all three.

#include "crypto/error.hpp"
#include "crypto/merkle.hpp"
#include "crypto/sha256.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace vellum::ledger::schema {

inline constexpr std::uint32_t version = 3;
// The first version with the by_* query indexes.
inline constexpr std::uint32_t query_indexes_version = 3;
inline constexpr std::uint32_t oldest_readable_version = 1;

enum class db : unsigned {
  meta,
  leaves,
  records,
  nodes,
  stream_index,
  streams,
  event_ids,
  amends,
  checkpoints,
  by_type,
  by_author,
  by_recorded,
  by_occurred,
};
inline constexpr std::size_t db_count = 13;
inline constexpr std::array<const char*, db_count> db_names = {
    "meta", "leaves", "records", "nodes", "stream_index",
    "streams", "event_ids", "amends", "checkpoints",
    "by_type", "by_author", "by_recorded", "by_occurred"};
// The databases a version 1 or 2 store lacks (read-only opens tolerate them
// missing).
inline constexpr bool is_query_index(db d) { return d >= db::by_type; }

namespace meta_key {
inline constexpr std::string_view schema_version = "schema_version";
inline constexpr std::string_view origin = "origin";
inline constexpr std::string_view verifier_key = "verifier_key";
inline constexpr std::string_view tree_size = "tree_size";
inline constexpr std::string_view recorded_at = "recorded_at";
inline constexpr std::string_view indexed = "indexed";
}  // namespace meta_key

using u64_bytes = std::array<std::uint8_t, 8>;
using uuid = std::array<std::uint8_t, 16>;
using node_key_bytes = std::array<std::uint8_t, 9>;
using amends_key_bytes = std::array<std::uint8_t, 24>;
using term = std::array<std::uint8_t, 16>;
using term_key_bytes = std::array<std::uint8_t, 24>;
using time_key_bytes = std::array<std::uint8_t, 16>;

inline constexpr std::size_t salt_size = 32;
inline constexpr std::size_t hash_size = 32;

u64_bytes encode_u64(std::uint64_t v);
std::array<std::uint8_t, 4> encode_u32(std::uint32_t v);
node_key_bytes node_key(const crypto::node_id& id);
std::string stream_index_key(std::string_view stream, std::uint64_t revision);
amends_key_bytes amends_key(const uuid& amended, std::uint64_t seq);
term term_of(std::string_view value);  // SHA-256(value)[0..16)
term_key_bytes term_key(const term& t, std::uint64_t seq);
time_key_bytes time_key(std::uint64_t us, std::uint64_t seq);

// Checked decoders: errc::corrupt when the stored bytes have the wrong shape.
[[nodiscard]] result<std::uint64_t> decode_u64(byte_view v);
[[nodiscard]] result<std::uint32_t> decode_u32(byte_view v);
[[nodiscard]] result<crypto::hash> decode_hash(byte_view v);
[[nodiscard]] result<crypto::node_id> decode_node_key(byte_view k);
struct record_value {
  byte_view salt;           // 32 bytes
  std::string_view record;  // event record JSON
};
[[nodiscard]] result<record_value> decode_record_value(byte_view v);
// Splits a stream_index key into its stream and revision.
struct stream_index_entry {
  std::string_view stream;
  std::uint64_t revision = 0;
};
[[nodiscard]] result<stream_index_entry> decode_stream_index_key(byte_view k);
struct amends_entry {
  uuid amended{};
  std::uint64_t seq = 0;
};
[[nodiscard]] result<amends_entry> decode_amends_key(byte_view k);
// The seq at the end of a by_* key (corrupt unless `size` bytes long).
[[nodiscard]] result<std::uint64_t> decode_key_seq(byte_view k, std::size_t size);
// The time at the front of a by_recorded / by_occurred key.
[[nodiscard]] result<std::uint64_t> decode_key_time(byte_view k);

// Canonical lower-case 8-4-4-4-12 UUID text ↔ 16 bytes. parse_uuid accepts
// only the canonical lower-case form (errc::invalid_argument otherwise).
[[nodiscard]] result<uuid> parse_uuid(std::string_view text);
std::string format_uuid(const uuid& id);

inline byte_view view(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
inline std::string_view chars(byte_view b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

}  // namespace vellum::ledger::schema
