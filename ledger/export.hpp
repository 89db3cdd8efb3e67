#pragma once
// Sealed exports (docs/formats.md §8, "vellum-export/1"): writes the NDJSON
// bundle that `vellum-verify bundle` checks with nothing but the log's
// verifier key. Served by GET /v1/export and fetched by `vellum export`.
//
// Memory is constant in the size of the export: events are read in pages in
// seq order and written out as they come; each run of unexported leaves is
// covered by the fewest aligned complete subtrees, read from the ledger's
// stored nodes (at most 2·64 per run).

#include "base/sink.hpp"
#include "ledger/ledger.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace vellum::ledger {

// What to export: exactly one of
//   stream                      every event of one stream;
//   prefix                      every event of every stream whose name starts with it;
//   from_seq + to_seq           the events with from_seq <= seq < to_seq (clamped
//                               to the anchored tree size);
//   from_time_us + to_time_us   the events with from <= recorded_at < to (µs since
//                               the epoch), with a fence leaf on each side.
struct export_selection {
  std::optional<std::string> stream{};
  std::optional<std::string> prefix{};
  std::optional<std::uint64_t> from_seq{};
  std::optional<std::uint64_t> to_seq{};
  std::optional<std::uint64_t> from_time_us{};
  std::optional<std::uint64_t> to_time_us{};
};

struct export_progress {
  std::uint64_t leaves_done = 0;  // tree lines written cover leaves [0, leaves_done)
  std::uint64_t tree_size = 0;    // of the anchoring checkpoint
  std::uint64_t events = 0;       // event lines written so far
  std::uint64_t bytes = 0;        // bytes handed to the sink so far
};

struct export_request {
  export_selection selection;
  // Size of a checkpoint the recipient already trusts (--since): the bundle
  // then carries the consistency proof from it. Must not exceed the
  // anchored tree size.
  std::optional<std::uint64_t> since_size;
  // The public key of a submitter key id, as SPKI PEM or JWK JSON text (e.g.
  // from the server's configuration); nullopt if unknown. Called once for
  // each kid that signed an exported (not erased) event. Keys are written
  // in canonical PEM.
  std::function<std::optional<std::string>(std::string_view kid)> key_pem;
  // Called every 64 events and at the end, on the calling thread.
  std::function<void(const export_progress&)> progress;
};

// Receives the bundle in chunks of up to ~64 KiB, in order. Returning false
// (the client went away) stops the export.
using export_sink = byte_sink;

struct export_summary {
  std::uint64_t tree_size = 0;  // N of the anchoring checkpoint
  std::uint64_t events = 0;     // event lines, erased included
  std::uint64_t erased = 0;
  std::uint64_t fences = 0;
  std::uint64_t nodes = 0;
  std::uint64_t bytes = 0;
};

// Checks a request before anything is written, so an HTTP handler can answer
// 400: exactly one kind of selection, a non-empty stream/prefix, from <= to
// for ranges. Errors: invalid_argument, with the reason.
[[nodiscard]] result<void> validate_export(const export_request& req);

// Writes the bundle of `req` to `sink`, anchored to l.latest_checkpoint() as
// read at the start (a snapshot: events appended meanwhile are not included).
// Reads the selected events twice (once for the kids whose keys the bundle
// lists, once to write them). A stream that does not exist gives a valid,
// empty bundle. Safe to run on any thread while the ledger takes appends.
//
// Errors: invalid_argument (validate_export; since_size beyond the tree
// size; a kid key_pem does not know or whose key does not parse, named in
// the reason), boost::system::errc::operation_canceled (the sink returned false),
// and the ledger's read errors (io_error, corrupt). invalid_argument always
// comes before the first call of the sink, so an HTTP handler that sends
// its status line with the first chunk can still answer 400. After a later
// error the sink may have received part of the bundle; a partial bundle
// never verifies (it lacks its end line).
//
// HTTP mapping used by `vellum export` (GET /v1/export, application/x-ndjson):
// stream, prefix, from_seq, to_seq, from_time and to_time (RFC 3339, see
// crypto::parse_rfc3339_us), since_size.
[[nodiscard]] result<export_summary> write_export(const ledger& l, const export_request& req,
                                                  const export_sink& sink);

}  // namespace vellum::ledger
