#pragma once
// Per-stream bookkeeping of a bundle's events (docs/formats.md §8): how many
// events each stream has, its first and last revision and seq, and — when
// the bundle claims complete_streams — the revision rule: each stream's
// revisions run 0, 1, 2, … and a gap can only be explained by erased events
// (whose stream the bundle does not show) between the two events.

#include "base/status.hpp"
#include "crypto/leaf_entry.hpp"
#include "verifier/bundle.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace vellum::verifier {

class stream_tracker {
 public:
  explicit stream_tracker(bool complete_streams) : complete_streams_(complete_streams) {}

  // Takes the next event in seq order: `rec` is its verified record,
  // erased_before the number of erased event lines before it. With
  // complete_streams, fails (crypto::errc::malformed_entry, naming the stream
  // and revisions) when earlier revisions are missing or the revision does
  // not go up; the event is counted either way.
  [[nodiscard]] status add(std::uint64_t seq, std::uint64_t erased_before, const crypto::event_record& rec);

  // One summary per stream, sorted by name.
  [[nodiscard]] std::vector<stream_summary> summaries() const;

 private:
  struct state {
    std::uint64_t events = 0;
    std::uint64_t first_revision = 0, last_revision = 0;
    std::uint64_t first_seq = 0, last_seq = 0;
    std::uint64_t erased_seen = 0;  // erased events before this stream's last event
  };

  bool complete_streams_;
  std::map<std::string, state, std::less<>> streams_;
};

}  // namespace vellum::verifier
