#pragma once
// Offline verification of what Vellum hands out: checkpoints (any C2SP log's),
// raw inclusion and consistency proofs, and receipts. Depends on crypto/ only
// (no LMDB, no Asio, no network). Every function is pure and thread-safe.
//
// A failed verification says why, in the project's one error channel
// (base/status.hpp): the status's code is a crypto::errc and its reason a
// sentence naming the field that failed ("inclusion proof node 3",
// "checkpoint signature", ...). vellum-verify prints the code's description
// as the stable --json "code" and the reason as "detail".

#include "base/status.hpp"
#include "crypto/checkpoint.hpp"
#include "crypto/error.hpp"
#include "crypto/leaf_entry.hpp"
#include "crypto/note.hpp"

#include <boost/json/value.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vellum::verifier {

// The stable machine-readable code of a failure, as --json reports carry it:
// the crypto::errc name ("bad_signature", "proof_mismatch", ...); a code of
// another module as "<category>:<value>".
std::string failure_code(const boost::system::error_code& code);

// Parses a hash given as 64 hex digits or as 44 characters of base64.
[[nodiscard]] result<crypto::hash> parse_hash(std::string_view text);

// ---------------------------------------------------------------------------
// Checkpoints (C2SP tlog-checkpoint in a C2SP signed note).

struct checkpoint_report {
  crypto::checkpoint body;
  std::vector<std::string> signed_by;        // vkey names whose signature verified
  std::vector<std::string> other_signers;    // signature lines by keys not given
};

// Verifies `note` against `keys`. With require_all every given key must have
// signed (the default for auditors: log key + witnesses); otherwise one
// suffices. A signature that carries a given key's name but another key ID is
// reported as "signed by a different key". Fails with malformed_note,
// malformed_checkpoint, bad_signature or unknown_key.
[[nodiscard]] result<checkpoint_report> verify_checkpoint(std::string_view note,
                                                          std::span<const crypto::note_verifier> keys,
                                                          bool require_all = true);

// ---------------------------------------------------------------------------
// Receipts (docs/formats.md "Receipt").

struct receipt_report {
  crypto::checkpoint checkpoint;
  crypto::event_record record;
  crypto::leaf_entry entry;
};

// Checks, in order: the JSON shape; the checkpoint note is signed by the log
// key and its origin is the key's name; tree_size equals the checkpoint's
// size; the leaf entry decodes; record + salt match the commitment and the
// entry's seq, kid and recorded_at; the receipt's own fields (seq, stream,
// revision, event_id, kid, recorded_at_us) equal the record's; the inclusion
// proof leads from the leaf to the checkpoint's root.
[[nodiscard]] result<receipt_report> verify_receipt(const boost::json::value& receipt,
                                                    const crypto::note_verifier& log_key);

}  // namespace vellum::verifier
