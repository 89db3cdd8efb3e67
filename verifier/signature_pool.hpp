#pragma once
// The per-event half of bundle verification (docs/formats.md §8): everything
// that concerns one event alone — record + salt against the leaf entry's
// commitment, the JWS syntax, kid agreement, the signature, the payload's
// event_id and stream — checked on a small pool of worker threads in chunks,
// with the verdicts handed back on the calling thread in the order the events
// were added. The order-dependent checks (selection, revision contiguity)
// stay with the caller.
//
// Memory is bounded: at most two chunks per worker are in flight; add()
// waits for the oldest when that many are out.

#include "base/status.hpp"
#include "crypto/keys.hpp"
#include "crypto/leaf_entry.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vellum::verifier {

// The bundle's key lines: kid → submitter public key.
using key_map = std::map<std::string, crypto::public_key, std::less<>>;

// One event line as the reading thread hands it over.
struct pending_event {
  std::uint64_t line = 0;            // 1-based line of the bundle
  std::uint64_t seq = 0;
  std::uint64_t erased_before = 0;   // erased event lines before this one
  bool erased = false;               // no record or salt: nothing to check here
  std::optional<crypto::leaf_entry> entry;  // nullopt: the entry did not decode
  std::string record;
  bytes salt;
};

// What check_event found. problems is empty when the event verified; each
// problem has a crypto::errc code and a reason naming what failed.
struct checked_event {
  std::optional<crypto::event_record> record;  // set when record + salt match the entry
  // From the signed payload, for the report (also when the signature fails).
  std::string type, author, meaning, occurred_at, amends;
  std::vector<status> problems;
};

// Checks one event on its own, in this order: record + salt match the entry
// (commitment_mismatch, malformed_entry); the JWS parses (its parse error);
// the payload is an I-JSON object whose event_id and stream are the record's
// (malformed_json, commitment_mismatch); the JWS kid is the record's and a
// key line has it (unknown_key); the signature verifies (algorithm_mismatch,
// bad_signature). An erased event, or one whose entry did not decode (the
// reading thread reports that), gives an empty verdict. Pure; `keys` is only
// read, so any number of threads may call it at once.
[[nodiscard]] checked_event check_event(const pending_event& p, const key_map& keys);

class signature_pool {
 public:
  // Called on the thread that calls add()/finish(), once per event, in the
  // order of add(). The checked_event may be moved from.
  using sink = std::function<void(const pending_event&, checked_event&)>;

  // threads <= 1: no threads are started and each chunk is checked on the
  // calling thread when it is full. chunk_events: events per chunk (at least
  // 1). `keys` must outlive the pool and must not change while it exists.
  signature_pool(unsigned threads, std::size_t chunk_events, const key_map& keys, sink on_checked);
  // Stops the workers; events not yet finished get no verdict.
  ~signature_pool();
  signature_pool(const signature_pool&) = delete;
  signature_pool& operator=(const signature_pool&) = delete;

  // Queues one event. May call the sink for earlier events (and block until
  // a worker is done) to keep at most two chunks per worker in flight.
  void add(pending_event p);
  // Checks what is queued and calls the sink for every event not yet handed
  // back. The pool can take more events afterwards.
  void finish();

 private:
  class impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace vellum::verifier
