#pragma once
// Streaming verification of sealed exports (docs/formats.md §8,
// "vellum-export/1"): one NDJSON file that a regulator checks with nothing
// but the log's verifier key.
//
// Memory is constant in the size of the bundle: the file is read line by
// line, the tree lines are folded into a compact range (at most 64 subtree
// hashes), and per stream one small record is kept. Signature checks run on a
// small thread pool in chunks of events while the reading thread keeps
// hashing; at most a few chunks are in flight, so memory stays bounded.
//
// Depends on crypto/ only (no LMDB, no Asio, no network).

#include "crypto/error.hpp"
#include "crypto/fold.hpp"
#include "crypto/note.hpp"
#include "crypto/sha256.hpp"
#include "verifier/selection.hpp"

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace vellum::verifier {

inline constexpr std::string_view export_format_v1 = "vellum-export/1";

struct bundle_options {
  // A checkpoint (signed note text) the recipient already trusts; the bundle
  // must then prove that its own checkpoint extends it (--since).
  std::optional<std::string> since_checkpoint;
  // Threads that check JWS signatures: 0 = one per hardware thread; 1 = all
  // work on the calling thread.
  unsigned threads = 0;
  std::size_t chunk_events = 512;   // events handed to a worker at a time
  std::size_t max_failures = 1000;  // failures stored (all are counted)
  bool keep_rows = false;           // keep one event_row per event (for HTML)
  // Collect this stream's events that verified, for the generic fold
  // (vellum-verify bundle --state; crypto/fold.hpp).
  std::optional<std::string> fold_stream;
  // Called on the calling thread now and then with the lines and bytes read.
  std::function<void(std::uint64_t lines, std::uint64_t bytes)> progress;
};

// One thing that did not verify. `line` is the 1-based line of the bundle
// (0: the bundle as a whole, e.g. it ended early); `seq` and `event_id` name
// the event when the failure concerns one.
struct bundle_failure {
  std::uint64_t line = 0;
  std::optional<std::uint64_t> seq;
  std::string event_id;
  boost::system::error_code code;  // crypto::errc
  std::string what;                // a sentence naming what failed

  // "line 12, seq 40, event 5b0c…: what" (or less when not known).
  std::string describe() const;
};

struct stream_summary {
  std::string stream;
  std::uint64_t events = 0;
  std::uint64_t first_revision = 0;
  std::uint64_t last_revision = 0;
  std::uint64_t first_seq = 0;
  std::uint64_t last_seq = 0;
};

struct key_summary {
  std::string kid;
  std::string type;        // "Ed25519" / "P-256"
  std::string thumbprint;  // RFC 7638 JWK SHA-256 thumbprint, base64url
  std::uint64_t events = 0;
};

// One exported event as the HTML report shows it (only with keep_rows).
struct event_row {
  std::uint64_t seq = 0;
  std::uint64_t line = 0;
  std::uint64_t recorded_at_us = 0;
  bool erased = false;
  std::string kid;
  // From the record and the signed payload; empty when they could not be read.
  std::string stream;
  std::optional<std::uint64_t> revision;
  std::string event_id;
  std::string type;
  std::string author;  // a string, or "name (role)" from an author object
  std::string meaning;
  std::string occurred_at;
  std::string amends;
  std::string verdict;  // empty: verified; otherwise what failed
};

struct consistency_summary {
  std::uint64_t from_size = 0;
  crypto::hash from_root{};
  bool trusted = false;  // the --since checkpoint was given and matched
};

struct bundle_report {
  // The header's claims and the checkpoint the bundle is anchored to.
  std::string format;
  std::string origin;
  std::string log_key;
  export_selection selection;
  bool complete_streams = false;
  bool anchored = false;  // the checkpoint line verified with the log key
  std::uint64_t tree_size = 0;
  crypto::hash root{};
  std::string checkpoint_note;
  std::optional<consistency_summary> consistency;

  // Tallies of what was read.
  std::uint64_t lines = 0;
  std::uint64_t bytes = 0;
  std::uint64_t events = 0;  // event lines, erased ones included
  std::uint64_t erased = 0;
  std::uint64_t fences = 0;
  std::uint64_t nodes = 0;
  std::optional<std::uint64_t> first_recorded_at_us;  // of event lines
  std::optional<std::uint64_t> last_recorded_at_us;
  std::vector<stream_summary> streams;  // sorted by name
  std::vector<key_summary> keys;        // in bundle order (sorted by kid)
  std::vector<event_row> rows;          // in seq order, only with keep_rows
  std::vector<crypto::fold_event> fold_events;  // with fold_stream: its verified events, in seq order

  std::vector<bundle_failure> failures;  // the first max_failures
  std::uint64_t failure_count = 0;       // all of them
  bool complete = false;                 // the end line was reached and checked
  std::string read_error;                // non-empty: the input could not be read

  bool verified() const { return read_error.empty() && complete && failure_count == 0; }
};

// Reads a bundle from `in` to its end and checks everything docs/formats.md
// §8 lists. Never throws for bad input: every problem is a failure in the
// report (structural problems stop the reading; per-event problems are
// recorded and the reading goes on). An I/O error of `in` sets read_error.
// Thread-safe in the sense that concurrent calls share nothing.
[[nodiscard]] bundle_report verify_bundle(std::istream& in, const crypto::note_verifier& log_key,
                                          const bundle_options& opts = {});

// RFC 7638 SHA-256 thumbprint (base64url) of a public key, as reports print it.
std::string jwk_thumbprint(const crypto::public_key& key);

}  // namespace vellum::verifier
