#pragma once
// Vellum's leaf entries and event records (normative bytes: docs/formats.md).
//
// A leaf entry is what the Merkle tree hashes and what entry bundles publish.
// It carries nothing personal: only the seq, the server's recorded_at, the
// submitter key id and a salted commitment to the full event record.
//
// leaf entry v1 (all integers big-endian):
//   u8  version = 0x01
//   u64 seq
//   u64 recorded_at (microseconds since 1970-01-01T00:00:00Z)
//   u8  kid length (1..255), then the kid bytes (printable ASCII)
//   32  commitment = SHA-256("vellum.record.v1" || 0x00 || salt[32] || record)
//
// The record is the exact JSON bytes the server wrote once (see
// event_record); the commitment binds those bytes, so no canonicalisation is
// ever needed: verifiers hash what they are given.

#include "crypto/error.hpp"
#include "crypto/sha256.hpp"

#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vellum::crypto {

inline constexpr std::uint8_t leaf_entry_version = 1;
inline constexpr std::size_t salt_size = 32;

struct leaf_entry {
  std::uint64_t seq = 0;
  std::uint64_t recorded_at_us = 0;
  std::string kid;
  hash commitment{};

  bytes encode() const;
  bool operator==(const leaf_entry&) const = default;
};

// Errors: malformed_entry (wrong version, length, kid).
[[nodiscard]] result<leaf_entry> decode_leaf_entry(byte_view entry);

// SHA-256("vellum.record.v1" || 0x00 || salt || record). salt must be 32 bytes.
hash record_commitment(byte_view salt, byte_view record);

// The full event record, as the server stores and exports it: a JSON object
//   {"v":1,"seq":N,"stream":"…","revision":R,"recorded_at":"RFC 3339 UTC with µs",
//    "kid":"…","event_id":"…","jws":"<compact JWS>"}
// written in exactly that member order, with no whitespace.
struct event_record {
  std::uint64_t seq = 0;
  std::string stream;
  std::uint64_t revision = 0;
  std::uint64_t recorded_at_us = 0;
  std::string kid;
  std::string event_id;
  std::string jws;

  std::string encode() const;
  bool operator==(const event_record&) const = default;
};

// Parses record bytes (I-JSON, all members present with the right types,
// v == 1, no others) and accepts only the canonical form: the bytes must
// equal encode() of the decoded record. Errors: malformed_entry.
[[nodiscard]] result<event_record> decode_event_record(std::string_view record);

// Checks that record + salt match the entry: commitment, and seq, kid and
// recorded_at equal in both. Errors: commitment_mismatch (commitment or
// fields differ), malformed_entry (salt not 32 bytes, record undecodable).
[[nodiscard]] result<event_record> check_record(const leaf_entry& entry, byte_view salt,
                                                std::string_view record);

// RFC 3339 UTC with exactly six fractional digits: "2026-03-09T10:00:00.000000Z".
// Valid RFC 3339 up to 9999-12-31T23:59:59.999999Z (253402300799999999 µs).
std::string format_time_us(std::uint64_t us_since_epoch);
// Parses any RFC 3339 date-time (offsets, 0..9 fractional digits, extra
// digits truncated to µs) to µs since the epoch (UTC). A leap second (:60)
// is read as :59 of the same minute, fraction kept. Returns nullopt if
// invalid (including Feb 30, hour 24, etc.) or before 1970.
std::optional<std::uint64_t> parse_rfc3339_us(std::string_view text);

}  // namespace vellum::crypto
