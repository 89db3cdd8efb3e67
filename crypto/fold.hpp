#pragma once
// The generic fold of a stream, its document view: start from {} and apply
// each event's `data` as an RFC 7386 JSON merge patch in revision order; an
// event voided by a later one is skipped as if never applied, a voiding event
// applies nothing. Its state is hashed as hex SHA-256 of the RFC 8785 (JCS)
// text (`state_sha256`). The server (GET /v1/streams/{s}/state, /history) and
// the offline verifier compute it with this one code, so they agree byte for
// byte. Pure functions: which events are given (as of a time, valid at a
// time) is the caller's choice.

#include "crypto/error.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vellum::crypto {

// RFC 7386 MergePatch(target, patch), in place.
void merge_patch(boost::json::value& target, const boost::json::value& patch);

// One event as the fold reads it: where it stands, and its signed payload.
struct fold_event {
  std::uint64_t seq = 0;
  std::uint64_t revision = 0;
  std::uint64_t recorded_at_us = 0;
  std::string event_id;
  std::string kid;
  boost::json::object payload;  // the JWS payload (data, occurred_at, author, ...)
  bool erased = false;          // record and payload gone: nothing to apply
};

// The event as the fold reads it, its payload taken from its JWS; nullopt if
// the JWS or its payload cannot be read (never for a verified, stored event).
// An erased event (no JWS) is marked erased.
std::optional<fold_event> fold_event_of(std::uint64_t seq, std::uint64_t revision, std::uint64_t recorded_at_us,
                                        std::string event_id, std::string kid, std::string_view jws, bool erased);

struct folded_state {
  boost::json::value state = boost::json::object{};
  std::string state_sha256;            // hex SHA-256 of jcs_serialize(state)
  std::vector<std::uint64_t> events;   // seqs that took part (applied or voiding), in order
  std::vector<std::uint64_t> voided;   // seqs skipped because a later event voided them
  std::vector<std::uint64_t> erased;   // seqs skipped because their content was erased
  std::optional<std::uint64_t> revision;  // of the last event that took part
  std::optional<std::uint64_t> last_seq;
};

// Folds `events`, one stream's in revision order. Errors: malformed_json if
// the state cannot be canonicalized (a number that is not finite).
[[nodiscard]] result<folded_state> fold(std::span<const fold_event> events);

// One entry per changed leaf value: `path` (a JSON pointer into the state),
// `old` and `new` (null where the member is absent), and of the event that
// made the change: seq, revision, event_id, recorded_at, occurred_at, author,
// meaning, kid, amends, voids, reason (null where the payload has none), and
// `voided_by` (the event_id that withdrew it, else null). A voided event's
// entries show what it claimed against the state before it; the state goes on
// without them. Leaves are scalars, arrays and empty objects; objects are
// walked. Only paths equal to or under `pointer` ("" = all) are listed.
std::vector<boost::json::object> field_history(std::span<const fold_event> events, std::string_view pointer = {});

// A JSON pointer (RFC 6901) token: "~" as "~0", "/" as "~1".
std::string pointer_token(std::string_view name);

}  // namespace vellum::crypto
